//! Session-level PL/SQL: the anonymous blocks drivers, pools, test suites and DBA scripts
//! send, parsed into a small tree and run by an interpreter with no I/O and no clock.
//!
//! A block is `[DECLARE declarations] BEGIN statements [EXCEPTION handlers] END;` with
//! variables (`n NUMBER := 1;`), BOOLEAN variables (`b BOOLEAN := n > 3;`, assigned
//! conditions, TRUE, FALSE or NULL, used as conditions with NOT/AND/OR, `IS [NOT] NULL`, `=`
//! and `<>`; PLS-00382 where a value of another type is expected or given, PLS-00306 as a
//! procedure's argument — a BOOLEAN is never bound or seen by SQL: it is kept under a name
//! ([`boolean_var`]) no expression can spell), user exceptions (`e EXCEPTION;`), declared
//! cursors (`CURSOR c [(p NUMBER [:= d], ...)] IS query;`, `OPEN c [(args)]`, `FETCH c INTO
//! v, ... | r` with `r c%ROWTYPE`, `CLOSE c`, `FOR r IN c [(args)] LOOP`, `c%FOUND`,
//! `%NOTFOUND`, `%ROWCOUNT`, `%ISOPEN`; ORA-06511 CURSOR_ALREADY_OPEN, ORA-01001
//! INVALID_CURSOR, PLS-00394, a block's cursors closed when it ends, at most 50 open:
//! ORA-01000), assignments to variables and binds (`:v := :a + 1;`), `IF / ELSIF / ELSE`,
//! CASE statements (simple and searched; CASE_NOT_FOUND without a matching branch or ELSE),
//! `LOOP`, `WHILE`, `FOR i IN [REVERSE] a..b` (the index read-only), cursor FOR loops `FOR r
//! IN (query)` (`r.column`), labels (`<<outer>>` before a loop or block, `END LOOP outer;`)
//! and `EXIT` / `CONTINUE [label] [WHEN]` (PLS-00374 / PLS-00441 for a label of no loop
//! around), `SELECT ... INTO` (NO_DATA_FOUND, TOO_MANY_ROWS, `SQL%ROWCOUNT`, `SQL%FOUND`,
//! `SQL%NOTFOUND`, `SQL%ISOPEN`), `OPEN :c FOR <query>;` (a REF CURSOR the client fetches),
//! `RAISE [name];`, nested blocks, `NULL;` — at most [`MAX_NESTING`] statements deep, then
//! PLS-00102 — and calls of the built-in procedures of [`PROCEDURES`]
//! (`RAISE_APPLICATION_ERROR`, `DBMS_OUTPUT`, `DBMS_SESSION`, `DBMS_APPLICATION_INFO`,
//! `DBMS_LOCK.SLEEP`).
//! Expressions and conditions are the SQL subset's, evaluated by its evaluator, which reads
//! the variables in scope as names ([`EvalContext::variables`]); the queries inside a block
//! are parsed with the block, so their errors are its compile errors (`ORA-06550`).
//! Handlers catch the predefined exceptions by name (`NO_DATA_FOUND`, `ZERO_DIVIDE`, ...),
//! user exceptions and `OTHERS`, with `SQLCODE` and `SQLERRM` inside them; an exception no
//! handler catches reaches the client with Oracle's `ORA-06512: at line n`.
//!
//! The tree is compiled and run by a [`Machine`] that stops after a number of steps and goes
//! on later, so the session can run a long loop in slices and see a BREAK or a kill between
//! them. The procedures' effects and the queries belong to the session: the interpreter
//! calls them through [`Host`], so a new package (a procedure in [`PROCEDURES`] plus an arm
//! in the session's `Host::call`) plugs in without touching the interpreter. Which binds a
//! block reads and writes is known from its text ([`Block::bind_modes`]), as Oracle's I/O
//! vector reports it.

use nom::Parser;
use nom::branch::alt;
use nom::character::complete::digit1;
use tns::ttc::types::Decimal;

use crate::error::pls_line;

use super::eval::{EvalContext, QueryPlan, Value};
use super::query::{CmpOp, Cond};
use super::{
    Expr, OraError, P, Statement, identifier, is_ident_char, keyword, line_col, quoted_identifier,
    ws,
};

/// How a procedure uses an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Read.
    In,
    /// Written.
    Out,
    /// Read and written.
    InOut,
}

/// A built-in procedure: its name and its parameters (the first `required` must be given).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Procedure {
    /// Qualified name, upper case.
    pub name: &'static str,
    /// Parameter modes in order.
    pub params: &'static [Mode],
    /// How many parameters have no default.
    pub required: usize,
}

const fn procedure(name: &'static str, params: &'static [Mode], required: usize) -> Procedure {
    Procedure {
        name,
        params,
        required,
    }
}

use Mode::{In, InOut, Out};

/// The procedures a block may call (the session carries them out, see [`Host`]).
pub const PROCEDURES: &[Procedure] = &[
    procedure("RAISE_APPLICATION_ERROR", &[In, In, In], 2),
    procedure("DBMS_OUTPUT.ENABLE", &[In], 0),
    procedure("DBMS_OUTPUT.DISABLE", &[], 0),
    procedure("DBMS_OUTPUT.PUT_LINE", &[In], 1),
    procedure("DBMS_OUTPUT.PUT", &[In], 1),
    procedure("DBMS_OUTPUT.NEW_LINE", &[], 0),
    procedure("DBMS_OUTPUT.GET_LINE", &[Out, Out], 2),
    procedure("DBMS_OUTPUT.GET_LINES", &[Out, InOut], 2),
    procedure("DBMS_SESSION.SET_IDENTIFIER", &[In], 1),
    procedure("DBMS_SESSION.CLEAR_IDENTIFIER", &[], 0),
    procedure("DBMS_SESSION.SET_CONTEXT", &[In, In, In, In, In], 3),
    procedure("DBMS_SESSION.CLEAR_CONTEXT", &[In, In, In], 1),
    procedure("DBMS_SESSION.CLEAR_ALL_CONTEXT", &[In], 1),
    procedure("DBMS_SESSION.SLEEP", &[In], 1),
    procedure("DBMS_LOCK.SLEEP", &[In], 1),
    procedure("DBMS_APPLICATION_INFO.SET_MODULE", &[In, In], 2),
    procedure("DBMS_APPLICATION_INFO.SET_ACTION", &[In], 1),
    procedure("DBMS_APPLICATION_INFO.SET_CLIENT_INFO", &[In], 1),
    procedure("DBMS_APPLICATION_INFO.READ_MODULE", &[Out, Out], 2),
    procedure("DBMS_APPLICATION_INFO.READ_CLIENT_INFO", &[Out], 1),
];

fn find_procedure(name: &str) -> Option<&'static Procedure> {
    let name = name.strip_prefix("SYS.").unwrap_or(name);
    PROCEDURES.iter().find(|p| p.name == name)
}

/// The predefined exceptions and their ORA- codes.
const PREDEFINED: &[(&str, u32)] = &[
    ("ACCESS_INTO_NULL", 6530),
    ("CASE_NOT_FOUND", 6592),
    ("COLLECTION_IS_NULL", 6531),
    ("CURSOR_ALREADY_OPEN", 6511),
    ("DUP_VAL_ON_INDEX", 1),
    ("INVALID_CURSOR", 1001),
    ("INVALID_NUMBER", 1722),
    ("LOGIN_DENIED", 1017),
    ("NO_DATA_FOUND", 1403),
    ("NOT_LOGGED_ON", 1012),
    ("PROGRAM_ERROR", 6501),
    ("ROWTYPE_MISMATCH", 6504),
    ("STORAGE_ERROR", 6500),
    ("SUBSCRIPT_BEYOND_COUNT", 6533),
    ("SUBSCRIPT_OUTSIDE_LIMIT", 6532),
    ("SYS_INVALID_ROWID", 1410),
    ("TIMEOUT_ON_RESOURCE", 51),
    ("TOO_MANY_ROWS", 1422),
    ("VALUE_ERROR", 6502),
    ("ZERO_DIVIDE", 1476),
];

/// How deeply statements may nest (blocks, IF, CASE, loops) before PLS-00102: a bound on
/// the parser's recursion, well within the stack of a shared server's thread.
const MAX_NESTING: usize = 32;

/// ORA- code of user-defined exceptions nobody handled.
const USER_EXCEPTION: u32 = 6510;

mod machine;
#[cfg(test)]
mod tests;

pub use machine::{Machine, Progress};

/// An anonymous block.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// Declarations.
    pub decls: Vec<Decl>,
    /// Statements.
    pub body: Vec<Stmt>,
    /// Exception handlers.
    pub handlers: Vec<Handler>,
}

/// A declaration.
#[derive(Debug, Clone, PartialEq)]
pub enum Decl {
    /// A variable (its type is not checked) and its initial value. A BOOLEAN variable is
    /// kept under [`boolean_var`]'s name as 1, 0 or NULL.
    Var(String, Option<Expr>),
    /// A user exception.
    Exception(String),
    /// `CURSOR c [(params)] IS query;`
    Cursor(CursorDecl),
    /// `r c%ROWTYPE;`: a record of cursor `.1`'s columns (fields `R.COLUMN`).
    Record(String, usize),
}

/// A declared (explicit) cursor.
#[derive(Debug, Clone, PartialEq)]
pub struct CursorDecl {
    /// Its number in the block's text (cursors are numbered as they are declared).
    pub id: usize,
    /// Its name (upper case).
    pub name: String,
    /// Parameters and their defaults.
    pub params: Vec<(String, Option<Expr>)>,
    /// The query.
    pub query: Embedded,
}

/// The variable a BOOLEAN variable is kept in: a name no expression can spell, so a
/// BOOLEAN never reaches SQL or a procedure as a number.
pub fn boolean_var(name: &str) -> String {
    format!("{name}%BOOLEAN")
}

/// The variable that holds attribute `attr` (FOUND, NOTFOUND, ISOPEN, ROWCOUNT) of the
/// cursor numbered `id` while it is open.
pub fn cursor_var(id: usize, attr: &str) -> String {
    format!("%{id}%{attr}")
}

/// What a name declared in a block is, for the parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    Boolean,
    Cursor {
        id: usize,
        params: usize,
        required: usize,
        /// How many columns its query has, when its select list says.
        columns: Option<usize>,
    },
    Record,
}

/// The parser's view of the names and labels around the point being parsed.
#[derive(Debug, Default)]
pub(super) struct Names {
    /// A block is being parsed (TRUE, FALSE and BOOLEAN names are conditions).
    pub(super) inside: bool,
    /// Names in scope, innermost last.
    scope: Vec<(String, Kind)>,
    /// The labels of the loops around, innermost last (parallel to `P::loops`).
    loop_labels: Vec<Option<String>>,
    /// Every label seen so far.
    labels: Vec<String>,
    /// A label just read, for the loop it labels.
    pending: Option<String>,
    /// Cursors declared so far.
    cursors: usize,
}

/// `WHEN a OR b THEN ...` (`names` empty: `WHEN OTHERS`).
#[derive(Debug, Clone, PartialEq)]
pub struct Handler {
    /// Exception names (upper case).
    pub names: Vec<String>,
    /// Statements.
    pub body: Vec<Stmt>,
}

/// Where an assignment goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// A bind (upper-case name) and its offset in the text.
    Bind(String, usize),
    /// A variable (upper-case name).
    Var(String),
}

/// A statement and the line it starts on (for `ORA-06512: at line n`).
#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    /// Line (1-based) in the block text.
    pub line: usize,
    /// What it does.
    pub kind: StmtKind,
}

/// A SQL query inside a block, parsed with the block, and where it starts in the block's
/// text (its binds' offsets are relative to that).
#[derive(Debug, Clone, PartialEq)]
pub struct Embedded {
    /// The query.
    pub stmt: Box<Statement>,
    /// Offset of its text in the block's.
    pub at: usize,
}

/// What follows EXIT or CONTINUE: the rest, the label and the condition.
type LoopJump<'a> = (&'a str, Option<String>, Option<Cond>);

/// Branches of an IF or CASE statement: the first whose condition is TRUE runs.
pub type Branches = Vec<(Cond, Vec<Stmt>)>;

/// The statements.
#[derive(Debug, Clone, PartialEq)]
pub enum StmtKind {
    /// `NULL;`
    Null,
    /// `target := expr;`
    Assign(Target, Expr),
    /// A built-in procedure call.
    Call(&'static Procedure, Vec<Expr>),
    /// `OPEN :c FOR query;` (the bind name, its offset and the query).
    OpenFor(String, usize, Embedded),
    /// `RAISE [name];`
    Raise(Option<String>),
    /// A nested block.
    Block(Block),
    /// `IF c THEN ... ELSIF c THEN ... ELSE ... END IF;`
    If(Branches, Option<Vec<Stmt>>),
    /// A CASE statement (a simple CASE's `WHEN v` is `selector = v`); without ELSE, no
    /// matching branch raises CASE_NOT_FOUND.
    Case(Branches, Option<Vec<Stmt>>),
    /// `LOOP ... END LOOP;`
    Loop(Vec<Stmt>),
    /// `WHILE c LOOP ... END LOOP;`
    While(Cond, Vec<Stmt>),
    /// `FOR i IN [REVERSE] low..high LOOP ... END LOOP;`
    ForRange {
        /// The loop index (read-only in the body).
        index: String,
        /// Lower bound.
        low: Expr,
        /// Upper bound.
        high: Expr,
        /// From `high` down to `low`.
        reverse: bool,
        /// The body.
        body: Vec<Stmt>,
    },
    /// `FOR r IN (query) LOOP ... r.column ... END LOOP;`
    ForQuery {
        /// The record (its fields are the query's columns).
        record: String,
        /// The query.
        query: Embedded,
        /// The body.
        body: Vec<Stmt>,
    },
    /// `EXIT [label] [WHEN c];`
    Exit(Option<String>, Option<Cond>),
    /// `CONTINUE [label] [WHEN c];`
    Continue(Option<String>, Option<Cond>),
    /// `<<label>> statement`
    Labeled(String, Box<Stmt>),
    /// `OPEN c [(args)];` of a declared cursor (its number).
    OpenCursor(usize, Vec<Expr>),
    /// `FETCH c INTO targets;`
    Fetch(usize, Vec<Target>),
    /// `FETCH c INTO record;` of a `c%ROWTYPE` record.
    FetchRecord(usize, String),
    /// `CLOSE c;`
    Close(usize),
    /// `FOR r IN c [(args)] LOOP ... END LOOP;` over a declared cursor.
    ForCursor {
        /// The record.
        record: String,
        /// The cursor's number.
        cursor: usize,
        /// Its arguments.
        args: Vec<Expr>,
        /// The body.
        body: Vec<Stmt>,
    },
    /// `SELECT ... INTO targets FROM ...;` (the query without its INTO clause).
    SelectInto(Embedded, Vec<Target>),
}

fn pls(p: &P<'_>, at: &str, detail: &str) -> OraError {
    p.pls_error(at, detail)
}

fn unexpected(p: &P<'_>, at: &str) -> OraError {
    let sym: String = at
        .chars()
        .take_while(|c| !c.is_whitespace())
        .take(30)
        .collect();
    let sym = if sym.is_empty() {
        "end-of-file".to_owned()
    } else {
        sym
    };
    pls(p, at, &pls_line(103, &[&sym]))
}

/// A name: `a`, `a.b`, `"Q"`, upper-cased unless quoted.
fn name(i: &str) -> Option<(&str, String)> {
    let one = |i| -> Option<(&str, String)> {
        if let Ok((r, q)) = quoted_identifier(i) {
            return Some((r, q.to_owned()));
        }
        identifier(i).ok().map(|(r, n)| (r, n.to_ascii_uppercase()))
    };
    let (mut r, mut n) = one(i)?;
    while let Some(r2) = r.strip_prefix('.') {
        let (r3, m) = one(r2)?;
        n.push('.');
        n.push_str(&m);
        r = r3;
    }
    Some((r, n))
}

/// A bind placeholder `:name`, `:1` or `:"Quoted"`.
fn bind(i: &str) -> Option<(&str, String)> {
    let r = i.strip_prefix(':')?;
    if let Ok((r2, q)) = quoted_identifier(r) {
        return Some((r2, q.to_owned()));
    }
    alt((identifier, digit1))
        .parse(r)
        .ok()
        .map(|(r2, n)| (r2, n.to_ascii_uppercase()))
}

impl<'a> P<'a> {
    /// A block after its `DECLARE` (`declare` true) or `BEGIN`, up to and with `END;`.
    pub(super) fn block(&self, i: &'a str, declare: bool) -> Result<(&'a str, Block), OraError> {
        let mut decls = Vec::new();
        let i = ws(i);
        let mark = {
            let mut pl = self.pl.borrow_mut();
            pl.inside = true;
            pl.scope.len()
        };
        let result = self.block_at(&mut decls, i, declare);
        self.pl.borrow_mut().scope.truncate(mark);
        let (r, body, handlers) = result?;
        Ok((
            r,
            Block {
                decls,
                body,
                handlers,
            },
        ))
    }

    /// A block's declarations (pushed to `decls`), statements and handlers.
    fn block_at(
        &self,
        decls: &mut Vec<Decl>,
        i: &'a str,
        declare: bool,
    ) -> Result<(&'a str, Vec<Stmt>, Vec<Handler>), OraError> {
        let mut i = i;
        if declare {
            loop {
                if let Ok((r, _)) = keyword("BEGIN")(i) {
                    i = ws(r);
                    break;
                }
                if let Ok((r, _)) = keyword("CURSOR")(i) {
                    let (r, d) = self.cursor_decl(r)?;
                    decls.push(Decl::Cursor(d));
                    i = r;
                    continue;
                }
                let (r, n) = name(i).ok_or_else(|| unexpected(self, i))?;
                let r = ws(r);
                if let Ok((r2, _)) = keyword("EXCEPTION")(r) {
                    decls.push(Decl::Exception(n));
                    i = self.semicolon(r2)?;
                    continue;
                }
                let typed = keyword("CONSTANT")(r).map_or(r, |(x, _)| ws(x));
                if let Ok((r2, _)) = keyword("BOOLEAN")(typed) {
                    let mut r2 = ws(r2);
                    if let Ok((x, _)) = keyword("NOT")(r2)
                        && let Ok((x, _)) = keyword("NULL")(ws(x))
                    {
                        r2 = ws(x);
                    }
                    let assign = r2
                        .strip_prefix(":=")
                        .or_else(|| keyword("DEFAULT")(r2).ok().map(|(x, _)| x));
                    let mut init = None;
                    if let Some(x) = assign {
                        let (x, e) = self.boolean_value(x)?;
                        init = Some(e);
                        r2 = x;
                    }
                    self.declare(&n, Kind::Boolean);
                    decls.push(Decl::Var(boolean_var(&n), init));
                    i = self.semicolon(r2)?;
                    continue;
                }
                if let Some((r2, c)) = name(r)
                    && let Some(x) = r2.strip_prefix('%')
                    && let Ok((x, _)) = keyword("ROWTYPE")(x)
                    && let Some(Kind::Cursor { id, .. }) = self.kind_of(&c)
                {
                    self.declare(&n, Kind::Record);
                    decls.push(Decl::Record(n, id));
                    i = self.semicolon(x)?;
                    continue;
                }
                // The type and its modifiers, up to `:=`, DEFAULT or `;`.
                let mut r = r;
                let mut init = None;
                loop {
                    let r2 = ws(r);
                    if r2.starts_with(';') {
                        break;
                    }
                    let assign = r2
                        .strip_prefix(":=")
                        .or_else(|| keyword("DEFAULT")(r2).ok().map(|(x, _)| x));
                    if let Some(x) = assign {
                        let (x, e) = self.value(x)?;
                        init = Some(e);
                        r = x;
                        break;
                    }
                    let Some(c) = r2.chars().next() else {
                        return Err(unexpected(self, r2));
                    };
                    r = &r2[c.len_utf8()..];
                }
                self.declare(&n, Kind::Plain);
                decls.push(Decl::Var(n, init));
                i = self.semicolon(r)?;
            }
        }
        let (r, body) = self.statements(i)?;
        let mut handlers = Vec::new();
        i = r;
        if let Ok((r, _)) = keyword("EXCEPTION")(i) {
            i = ws(r);
            while let Ok((r, _)) = keyword("WHEN")(i) {
                let mut r = ws(r);
                let mut names = Vec::new();
                loop {
                    let (x, n) = name(r).ok_or_else(|| unexpected(self, r))?;
                    if n != "OTHERS" {
                        names.push(n);
                    }
                    r = ws(x);
                    match keyword("OR")(r) {
                        Ok((x, _)) => r = ws(x),
                        Err(_) => break,
                    }
                }
                let Ok((r, _)) = keyword("THEN")(r) else {
                    return Err(unexpected(self, r));
                };
                let (r, body) = self.statements(r)?;
                handlers.push(Handler { names, body });
                i = r;
            }
        }
        let Ok((r, _)) = keyword("END")(i) else {
            return Err(unexpected(self, i));
        };
        let r = ws(r);
        let r = identifier(r).map_or(r, |(x, _)| ws(x));
        let r = r.strip_prefix(';').map_or(r, ws);
        Ok((r, body, handlers))
    }

    /// Declares `name` in the innermost scope.
    fn declare(&self, name: &str, kind: Kind) {
        self.pl.borrow_mut().scope.push((name.to_owned(), kind));
    }

    /// What the innermost declaration of `name` is.
    fn kind_of(&self, name: &str) -> Option<Kind> {
        self.pl
            .borrow()
            .scope
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, k)| *k)
    }

    /// `CURSOR c [(p [IN] type [:= e], ...)] IS query;` after `CURSOR`.
    fn cursor_decl(&self, r: &'a str) -> Result<(&'a str, CursorDecl), OraError> {
        let r = ws(r);
        let (r, n) = name(r).ok_or_else(|| unexpected(self, r))?;
        let mut r = ws(r);
        let mut params = Vec::new();
        let mut required = 0;
        if let Some(x) = r.strip_prefix('(') {
            let mut x = ws(x);
            loop {
                let (y, p) = name(x).ok_or_else(|| unexpected(self, x))?;
                let mut y = ws(y);
                y = keyword("IN")(y).map_or(y, |(z, _)| ws(z));
                // The type, up to `:=`, DEFAULT, `,` or `)` outside parentheses.
                let mut depth = 0usize;
                let mut default = None;
                loop {
                    y = ws(y);
                    if depth == 0 && (y.starts_with(',') || y.starts_with(')')) {
                        break;
                    }
                    let assign = y
                        .strip_prefix(":=")
                        .or_else(|| keyword("DEFAULT")(y).ok().map(|(z, _)| z));
                    if depth == 0
                        && let Some(z) = assign
                    {
                        let (z, e) = self.expr(z)?;
                        default = Some(e);
                        y = z;
                        continue;
                    }
                    let Some(c) = y.chars().next() else {
                        return Err(unexpected(self, y));
                    };
                    match c {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        ';' => return Err(unexpected(self, y)),
                        _ => {}
                    }
                    y = &y[c.len_utf8()..];
                }
                if default.is_none() {
                    required = params.len() + 1;
                }
                params.push((p, default));
                if let Some(z) = y.strip_prefix(',') {
                    x = ws(z);
                    continue;
                }
                r = ws(&y[1..]);
                break;
            }
        }
        let r = ws(self.expect_keyword(r, "IS")?);
        let end = statement_end(r);
        let query = self.embedded(r[..end].trim_end(), self.off(r))?;
        let id = {
            let mut pl = self.pl.borrow_mut();
            pl.cursors += 1;
            pl.cursors - 1
        };
        self.declare(
            &n,
            Kind::Cursor {
                id,
                params: params.len(),
                required,
                columns: select_list(&query.stmt).map(|c| c.len()),
            },
        );
        Ok((
            self.semicolon(&r[end..])?,
            CursorDecl {
                id,
                name: n,
                params,
                query,
            },
        ))
    }

    /// The variable of attribute `attr` of cursor `cursor` (SQL: the implicit cursor).
    pub(super) fn attribute_var(&self, cursor: &str, attr: &str) -> Option<String> {
        if cursor == "SQL" {
            return Some(format!("SQL%{attr}"));
        }
        match self.kind_of(cursor)? {
            Kind::Cursor { id, .. } => Some(cursor_var(id, attr)),
            _ => None,
        }
    }

    /// A BOOLEAN operand at `i`: TRUE, FALSE, a BOOLEAN variable or a cursor's %FOUND,
    /// %NOTFOUND or %ISOPEN, as the number (1, 0 or NULL) the machine keeps for it.
    fn boolean_operand(&self, i: &'a str) -> Option<(&'a str, Expr)> {
        let i = ws(i);
        for (kw, v) in [("TRUE", 1), ("FALSE", 0)] {
            if let Ok((r, _)) = keyword(kw)(i) {
                return Some((r, Expr::Number(Decimal::from_i128(v))));
            }
        }
        let (r, n) = name(i)?;
        if let Some(x) = r.strip_prefix('%') {
            let (x, attr) = identifier(x).ok()?;
            let attr = attr.to_ascii_uppercase();
            if !matches!(attr.as_str(), "FOUND" | "NOTFOUND" | "ISOPEN") {
                return None;
            }
            let var = self.attribute_var(&n, &attr)?;
            return Some((x, Expr::Ident(var, self.off(i))));
        }
        (self.kind_of(&n) == Some(Kind::Boolean))
            .then(|| (r, Expr::Ident(boolean_var(&n), self.off(i))))
    }

    /// A condition made of a BOOLEAN operand (`b`, `b IS NULL`, `b = c`), or `None`
    /// when `i` does not start with one.
    pub(super) fn boolean_cond(&self, i: &'a str) -> Result<Option<(&'a str, Cond)>, OraError> {
        let Some((r, a)) = self.boolean_operand(i) else {
            return Ok(None);
        };
        let r1 = ws(r);
        if let Some(tail) = self.is_null_tail(r1) {
            let (x, not) = tail?;
            return Ok(Some((x, Cond::IsNull(a, not))));
        }
        for (t, op) in [
            ("<>", CmpOp::Ne),
            ("!=", CmpOp::Ne),
            ("^=", CmpOp::Ne),
            ("=", CmpOp::Eq),
        ] {
            if let Some(x) = r1.strip_prefix(t) {
                let x = ws(x);
                let (x, b) = match self.boolean_operand(x) {
                    Some(v) => v,
                    None => match keyword("NULL")(x) {
                        Ok((y, _)) => (y, Expr::Null),
                        Err(_) => return Ok(None),
                    },
                };
                return Ok(Some((x, Cond::Cmp(a, op, b))));
            }
        }
        if r1.starts_with(['<', '>', '!', '^', '+', '-', '*', '/', '|', '(', '.', '%']) {
            return Ok(None);
        }
        let one = Expr::Number(Decimal::from_i128(1));
        let cond = match (
            &a,
            keyword("TRUE")(ws(i)).is_ok(),
            keyword("FALSE")(ws(i)).is_ok(),
        ) {
            (_, true, _) => Cond::Const(true),
            (_, _, true) => Cond::Const(false),
            _ => Cond::Cmp(a, CmpOp::Eq, one),
        };
        Ok(Some((r, cond)))
    }

    /// The value of a BOOLEAN assignment: a condition, or NULL; PLS-00382 for any
    /// other expression.
    fn boolean_value(&self, i: &'a str) -> Result<(&'a str, Expr), OraError> {
        let at = ws(i);
        if let Ok((r, c)) = self.cond(at)
            && ws(r).starts_with(';')
        {
            return Ok((r, truth(c)));
        }
        let (r, e) = self.expr(at)?;
        if e == Expr::Null {
            return Ok((r, e));
        }
        Err(pls(self, at, &pls_line(382, &[])))
    }

    /// The value of an assignment to a variable or bind that is not BOOLEAN: an
    /// expression (PLS-00382 for a BOOLEAN one).
    fn value(&self, i: &'a str) -> Result<(&'a str, Expr), OraError> {
        let at = ws(i);
        let parsed = self.expr(at);
        if let Ok((r, e)) = &parsed
            && !self.is_boolean(e)
            && ws(r).starts_with(';')
        {
            return parsed;
        }
        let boolean = match self.boolean_operand(at) {
            Some((r, _)) if ws(r).starts_with(';') => true,
            _ => matches!(self.cond(at), Ok((r, _)) if ws(r).starts_with(';')),
        };
        if boolean {
            return Err(pls(self, at, &pls_line(382, &[])));
        }
        parsed
    }

    /// `e` names a BOOLEAN variable.
    fn is_boolean(&self, e: &Expr) -> bool {
        matches!(e, Expr::Ident(n, _) if self.kind_of(n) == Some(Kind::Boolean))
    }

    /// Statements up to `EXCEPTION`, `WHEN`, `ELSIF`, `ELSE` or `END` (at least one, as
    /// PL/SQL requires).
    fn statements(&self, i: &'a str) -> Result<(&'a str, Vec<Stmt>), OraError> {
        let mut out = Vec::new();
        let mut i = ws(i);
        loop {
            let ends = ["END", "EXCEPTION", "WHEN", "ELSIF", "ELSE"]
                .iter()
                .any(|k| keyword(k)(i).is_ok());
            if ends || i.is_empty() {
                if out.is_empty() {
                    return Err(unexpected(self, i));
                }
                return Ok((i, out));
            }
            let (r, s) = self.statement(i)?;
            out.push(s);
            i = ws(r);
        }
    }

    /// `kw` (after optional whitespace), or PLS-00103 at what is there instead.
    fn expect_keyword(&self, i: &'a str, kw: &'static str) -> Result<&'a str, OraError> {
        let i = ws(i);
        keyword(kw)(i)
            .map(|(r, _)| r)
            .map_err(|_| unexpected(self, i))
    }

    /// `END <kw> ;`
    fn end_of(&self, i: &'a str, kw: &'static str) -> Result<&'a str, OraError> {
        let r = self.expect_keyword(i, "END")?;
        let r = self.expect_keyword(r, kw)?;
        self.semicolon(r)
    }

    /// `cond THEN statements` of an IF or searched CASE branch.
    fn branch(&self, i: &'a str) -> Result<(&'a str, (Cond, Vec<Stmt>)), OraError> {
        let (r, c) = self.cond(i)?;
        let r = self.expect_keyword(r, "THEN")?;
        let (r, body) = self.statements(r)?;
        Ok((r, (c, body)))
    }

    /// `statements END LOOP;` of a loop whose index (if any) is `index`.
    /// `label` is the loop's label, if it has one; `END LOOP` may repeat it.
    fn loop_body(
        &self,
        i: &'a str,
        index: Option<String>,
        label: Option<String>,
    ) -> Result<(&'a str, Vec<Stmt>), OraError> {
        let mark = {
            let mut pl = self.pl.borrow_mut();
            pl.loop_labels.push(label);
            if let Some(n) = &index {
                pl.scope.push((n.clone(), Kind::Plain));
            }
            pl.scope.len()
        };
        self.loops.borrow_mut().push(index.clone());
        let body = self.statements(i);
        self.loops.borrow_mut().pop();
        {
            let mut pl = self.pl.borrow_mut();
            pl.loop_labels.pop();
            pl.scope.truncate(mark - usize::from(index.is_some()));
        }
        let (r, body) = body?;
        let r = self.expect_keyword(r, "END")?;
        let r = ws(self.expect_keyword(r, "LOOP")?);
        let r = identifier(r).map_or(r, |(x, _)| x);
        Ok((self.semicolon(r)?, body))
    }

    /// PLS-00363 when `name` is the index of an enclosing FOR loop.
    fn assignable(&self, at: &str, name: &str) -> Result<(), OraError> {
        if self.loops.borrow().iter().flatten().any(|n| n == name) {
            return Err(pls(self, at, &pls_line(363, &[name])));
        }
        Ok(())
    }

    /// A query inside a block: `text` (which starts at offset `at` of the block) is parsed
    /// as a statement of its own; its errors are the block's compile errors.
    fn embedded(&self, text: &str, at: usize) -> Result<Embedded, OraError> {
        let stmt = super::parse(text).map_err(|e| {
            let off = usize::try_from(e.offset).unwrap_or(0);
            pls(
                self,
                &self.full[(at + off).min(self.full.len())..],
                &format!("PL/SQL: {}", e.text()),
            )
        })?;
        if !stmt.is_query() {
            return Err(unexpected(self, &self.full[at..]));
        }
        Ok(Embedded {
            stmt: Box::new(stmt),
            at,
        })
    }

    /// `[label] [WHEN cond] ;` of EXIT and CONTINUE (PLS-00376 outside a loop; PLS-00374
    /// for a label of no loop around it, PLS-00441 for a name that labels nothing).
    fn loop_jump(&self, at: &'a str, r: &'a str) -> Result<LoopJump<'a>, OraError> {
        if self.loops.borrow().is_empty() {
            return Err(pls(self, at, &pls_line(376, &[])));
        }
        let mut r = ws(r);
        let mut label = None;
        if keyword("WHEN")(r).is_err()
            && let Some((x, n)) = name(r)
        {
            let pl = self.pl.borrow();
            if !pl
                .loop_labels
                .iter()
                .any(|l| l.as_deref() == Some(n.as_str()))
            {
                let detail = if pl.labels.contains(&n) {
                    pls_line(374, &[&n])
                } else {
                    pls_line(441, &[&n])
                };
                return Err(pls(self, r, &detail));
            }
            label = Some(n);
            r = ws(x);
        }
        if let Ok((x, _)) = keyword("WHEN")(r) {
            let (x, c) = self.cond(x)?;
            return Ok((self.semicolon(x)?, label, Some(c)));
        }
        Ok((self.semicolon(r)?, label, None))
    }

    /// An assignment target: a bind or a variable that is not a FOR loop's index.
    fn target(&self, i: &'a str) -> Result<(&'a str, Target), OraError> {
        let i = ws(i);
        if let Some((r, b)) = bind(i) {
            return Ok((r, Target::Bind(b, self.off(i))));
        }
        let (r, n) = name(i).ok_or_else(|| unexpected(self, i))?;
        self.assignable(i, &n)?;
        Ok((r, Target::Var(n)))
    }

    /// `SELECT ... INTO targets FROM ...;` from its `SELECT`.
    fn select_into(&self, i: &'a str) -> Result<(&'a str, StmtKind), OraError> {
        let end = statement_end(i);
        let text = &i[..end];
        let Some(into) = top_level_keyword(text, "INTO") else {
            return Err(pls(self, i, &pls_line(428, &[])));
        };
        // Offsets come from slices that run to the end of the text: `i`'s, not `text`'s.
        let mut r = &i[into + 4..];
        let mut targets = Vec::new();
        loop {
            let (x, t) = self.target(r)?;
            targets.push(t);
            let x = ws(x);
            match x.strip_prefix(',') {
                Some(y) => r = y,
                None => {
                    r = x;
                    break;
                }
            }
        }
        if keyword("FROM")(r).is_err() {
            return Err(unexpected(self, r));
        }
        // The query is the text with its INTO clause blanked, so offsets stay the block's.
        let from = i.len() - r.len();
        let query = format!(
            "{}{}{}",
            &text[..into],
            " ".repeat(from - into),
            &text[from..]
        );
        let embedded = self.embedded(&query, self.off(i))?;
        Ok((
            self.semicolon(&i[end..])?,
            StmtKind::SelectInto(embedded, targets),
        ))
    }

    /// `FOR ...` after its keyword.
    fn for_loop(&self, i: &'a str, label: Option<String>) -> Result<(&'a str, StmtKind), OraError> {
        let i = ws(i);
        let (r, index) = name(i).ok_or_else(|| unexpected(self, i))?;
        let r = ws(self.expect_keyword(r, "IN")?);
        if let Some((x, c)) = name(r)
            && let Some(Kind::Cursor { id, .. }) = self.kind_of(&c)
        {
            let (x, args) = self.cursor_args(r, &c, x)?;
            let x = self.expect_keyword(x, "LOOP")?;
            let (x, body) = self.loop_body(x, Some(index.clone()), label)?;
            return Ok((
                x,
                StmtKind::ForCursor {
                    record: index,
                    cursor: id,
                    args,
                    body,
                },
            ));
        }
        if let Some(q) = r.strip_prefix('(') {
            let close = closing_paren(q).ok_or_else(|| unexpected(self, r))?;
            let query = self.embedded(ws(&q[..close]), self.off(ws(q)))?;
            let r = self.expect_keyword(&q[close + 1..], "LOOP")?;
            let (r, body) = self.loop_body(r, Some(index.clone()), label)?;
            return Ok((
                r,
                StmtKind::ForQuery {
                    record: index,
                    query,
                    body,
                },
            ));
        }
        let (r, reverse) = match keyword("REVERSE")(r) {
            Ok((x, _)) => (x, true),
            Err(_) => (r, false),
        };
        let (r, low) = self.expr(r)?;
        let r = ws(r);
        let r = r.strip_prefix("..").ok_or_else(|| unexpected(self, r))?;
        let (r, high) = self.expr(r)?;
        let r = self.expect_keyword(r, "LOOP")?;
        let (r, body) = self.loop_body(r, Some(index.clone()), label)?;
        Ok((
            r,
            StmtKind::ForRange {
                index,
                low,
                high,
                reverse,
                body,
            },
        ))
    }

    /// `[(args)]` after cursor `name` (which starts at `at`): PLS-00306 for a number of
    /// arguments its parameters do not take.
    fn cursor_args(
        &self,
        at: &'a str,
        name: &str,
        r: &'a str,
    ) -> Result<(&'a str, Vec<Expr>), OraError> {
        let Some(Kind::Cursor {
            params, required, ..
        }) = self.kind_of(name)
        else {
            return Err(unexpected(self, at));
        };
        let mut args = Vec::new();
        let mut r = r;
        if let Some(x) = ws(r).strip_prefix('(') {
            let (x, list) = self.expr_list(x)?;
            args = list;
            r = x;
        }
        if args.len() < required || args.len() > params {
            return Err(pls(self, at, &pls_line(306, &[name])));
        }
        Ok((r, args))
    }

    /// The number of the declared cursor named at `i` (PLS-00201 for a name that is not
    /// declared, PLS-00103 for one that is not a cursor).
    fn cursor_name(&self, i: &'a str) -> Result<(&'a str, String, usize), OraError> {
        let (r, n, id, _) = self.cursor_columns(i)?;
        Ok((r, n, id))
    }

    /// [`P::cursor_name`] and how many columns the cursor's query has, if known.
    fn cursor_columns(
        &self,
        i: &'a str,
    ) -> Result<(&'a str, String, usize, Option<usize>), OraError> {
        let i = ws(i);
        let (r, n) = name(i).ok_or_else(|| unexpected(self, i))?;
        match self.kind_of(&n) {
            Some(Kind::Cursor { id, columns, .. }) => Ok((r, n, id, columns)),
            None => Err(pls(self, i, &pls_line(201, &[&n]))),
            Some(_) => Err(unexpected(self, i)),
        }
    }

    /// `CASE ... END CASE;` after its keyword.
    fn case_statement(&self, i: &'a str) -> Result<(&'a str, StmtKind), OraError> {
        let i = ws(i);
        let selector = if keyword("WHEN")(i).is_ok() {
            None
        } else {
            Some(self.expr(i)?)
        };
        let mut r = selector.as_ref().map_or(i, |(r, _)| ws(r));
        let mut branches = Vec::new();
        while let Ok((x, _)) = keyword("WHEN")(r) {
            let (x, branch) = match &selector {
                Some((_, subject)) => {
                    let (x, v) = self.expr(x)?;
                    let x = self.expect_keyword(x, "THEN")?;
                    let (x, body) = self.statements(x)?;
                    (x, (Cond::Cmp(subject.clone(), CmpOp::Eq, v), body))
                }
                None => self.branch(x)?,
            };
            branches.push(branch);
            r = ws(x);
        }
        if branches.is_empty() {
            return Err(unexpected(self, r));
        }
        let mut otherwise = None;
        if let Ok((x, _)) = keyword("ELSE")(r) {
            let (x, body) = self.statements(x)?;
            otherwise = Some(body);
            r = x;
        }
        Ok((self.end_of(r, "CASE")?, StmtKind::Case(branches, otherwise)))
    }

    fn statement(&self, i: &'a str) -> Result<(&'a str, Stmt), OraError> {
        if self.nesting.get() >= MAX_NESTING {
            return Err(pls(self, i, &pls_line(102, &[])));
        }
        self.nesting.set(self.nesting.get() + 1);
        let result = self.statement_at(i);
        self.nesting.set(self.nesting.get() - 1);
        result
    }

    fn statement_at(&self, i: &'a str) -> Result<(&'a str, Stmt), OraError> {
        let line = line_col(self.full, self.off(i)).0;
        let stmt = |kind| Stmt { line, kind };
        if let Some(r) = i.strip_prefix("<<") {
            let r = ws(r);
            let (r, n) = name(r).ok_or_else(|| unexpected(self, r))?;
            let r = ws(r);
            let r = r.strip_prefix(">>").ok_or_else(|| unexpected(self, r))?;
            {
                let mut pl = self.pl.borrow_mut();
                pl.labels.push(n.clone());
                pl.pending = Some(n.clone());
            }
            let (r, s) = self.statement_at(ws(r))?;
            return Ok((r, stmt(StmtKind::Labeled(n, Box::new(s)))));
        }
        let label = self.pl.borrow_mut().pending.take();
        if let Ok((r, _)) = keyword("NULL")(i) {
            return Ok((self.semicolon(r)?, stmt(StmtKind::Null)));
        }
        if let Ok((r, _)) = keyword("BEGIN")(i) {
            let (r, b) = self.block(r, false)?;
            return Ok((r, stmt(StmtKind::Block(b))));
        }
        if let Ok((r, _)) = keyword("DECLARE")(i) {
            let (r, b) = self.block(r, true)?;
            return Ok((r, stmt(StmtKind::Block(b))));
        }
        if let Ok((r, _)) = keyword("IF")(i) {
            let (mut r, first) = self.branch(r)?;
            let mut branches = vec![first];
            let mut otherwise = None;
            loop {
                if let Ok((x, _)) = keyword("ELSIF")(r) {
                    let (x, b) = self.branch(x)?;
                    branches.push(b);
                    r = x;
                } else if let Ok((x, _)) = keyword("ELSE")(r) {
                    let (x, body) = self.statements(x)?;
                    otherwise = Some(body);
                    r = x;
                    break;
                } else {
                    break;
                }
            }
            let r = self.end_of(r, "IF")?;
            return Ok((r, stmt(StmtKind::If(branches, otherwise))));
        }
        if let Ok((r, _)) = keyword("CASE")(i) {
            let (r, kind) = self.case_statement(r)?;
            return Ok((r, stmt(kind)));
        }
        if let Ok((r, _)) = keyword("LOOP")(i) {
            let (r, body) = self.loop_body(r, None, label)?;
            return Ok((r, stmt(StmtKind::Loop(body))));
        }
        if let Ok((r, _)) = keyword("WHILE")(i) {
            let (r, c) = self.cond(r)?;
            let r = self.expect_keyword(r, "LOOP")?;
            let (r, body) = self.loop_body(r, None, label)?;
            return Ok((r, stmt(StmtKind::While(c, body))));
        }
        if let Ok((r, _)) = keyword("FOR")(i) {
            let (r, kind) = self.for_loop(r, label)?;
            return Ok((r, stmt(kind)));
        }
        if let Ok((r, _)) = keyword("EXIT")(i) {
            let (r, l, c) = self.loop_jump(i, r)?;
            return Ok((r, stmt(StmtKind::Exit(l, c))));
        }
        if let Ok((r, _)) = keyword("CONTINUE")(i) {
            let (r, l, c) = self.loop_jump(i, r)?;
            return Ok((r, stmt(StmtKind::Continue(l, c))));
        }
        if let Ok((r, _)) = keyword("FETCH")(i) {
            let (r, _, id, columns) = self.cursor_columns(r)?;
            let r = self.expect_keyword(r, "INTO")?;
            let at = ws(r);
            if let Some((x, n)) = name(at)
                && self.kind_of(&n) == Some(Kind::Record)
                && ws(x).starts_with(';')
            {
                return Ok((self.semicolon(x)?, stmt(StmtKind::FetchRecord(id, n))));
            }
            let mut r = r;
            let mut targets = Vec::new();
            loop {
                let (x, t) = self.target(r)?;
                targets.push(t);
                match ws(x).strip_prefix(',') {
                    Some(y) => r = y,
                    None => {
                        r = x;
                        break;
                    }
                }
            }
            if columns.is_some_and(|c| c != targets.len()) {
                return Err(pls(self, i, &pls_line(394, &[])));
            }
            return Ok((self.semicolon(r)?, stmt(StmtKind::Fetch(id, targets))));
        }
        if let Ok((r, _)) = keyword("CLOSE")(i) {
            let (r, _, id) = self.cursor_name(r)?;
            return Ok((self.semicolon(r)?, stmt(StmtKind::Close(id))));
        }
        if keyword("SELECT")(i).is_ok() {
            let (r, kind) = self.select_into(i)?;
            return Ok((r, stmt(kind)));
        }
        if let Ok((r, _)) = keyword("RAISE")(i) {
            let r = ws(r);
            let (r, n) = match name(r) {
                Some((x, n)) => (x, Some(n)),
                None => (r, None),
            };
            return Ok((self.semicolon(r)?, stmt(StmtKind::Raise(n))));
        }
        if let Ok((r, _)) = keyword("OPEN")(i)
            && !ws(r).starts_with(':')
        {
            let at = ws(r);
            let (r, n, id) = self.cursor_name(at)?;
            let (r, args) = self.cursor_args(at, &n, r)?;
            return Ok((self.semicolon(r)?, stmt(StmtKind::OpenCursor(id, args))));
        }
        if let Ok((r, _)) = keyword("OPEN")(i) {
            let r = ws(r);
            let at = self.off(r);
            let (r, c) = bind(r).ok_or_else(|| unexpected(self, r))?;
            let r = self.expect_keyword(r, "FOR")?;
            let query = ws(r);
            let end = statement_end(query);
            let q = self.embedded(query[..end].trim_end(), self.off(query))?;
            return Ok((
                self.semicolon(&query[end..])?,
                stmt(StmtKind::OpenFor(c, at, q)),
            ));
        }
        if let Some((r, b)) = bind(i) {
            let at = self.off(i);
            let r = ws(r);
            let r = r.strip_prefix(":=").ok_or_else(|| unexpected(self, r))?;
            let (r, e) = self.value(r)?;
            return Ok((
                self.semicolon(r)?,
                stmt(StmtKind::Assign(Target::Bind(b, at), e)),
            ));
        }
        let (r, n) = name(i).ok_or_else(|| unexpected(self, i))?;
        let r2 = ws(r);
        if let Some(x) = r2.strip_prefix(":=") {
            self.assignable(i, &n)?;
            if self.kind_of(&n) == Some(Kind::Boolean) {
                let (x, e) = self.boolean_value(x)?;
                return Ok((
                    self.semicolon(x)?,
                    stmt(StmtKind::Assign(Target::Var(boolean_var(&n)), e)),
                ));
            }
            let (x, e) = self.value(x)?;
            return Ok((
                self.semicolon(x)?,
                stmt(StmtKind::Assign(Target::Var(n), e)),
            ));
        }
        let Some(p) = find_procedure(&n) else {
            return Err(pls(self, i, &pls_line(201, &[&n])));
        };
        let mut args = Vec::new();
        // Where each argument starts and its text (PLS-00363 names an OUT argument that
        // cannot take a value, at the argument).
        let mut arg_texts: Vec<(&str, &str)> = Vec::new();
        let mut r = r2;
        if let Some(x) = r2.strip_prefix('(') {
            let mut x = x;
            if let Some(y) = ws(x).strip_prefix(')') {
                r = y;
            } else {
                loop {
                    let at = ws(x);
                    let boolean = self
                        .boolean_operand(at)
                        .is_some_and(|(y, _)| ws(y).starts_with([',', ')']));
                    if boolean {
                        let short = n.rsplit('.').next().unwrap_or(&n);
                        return Err(pls(self, i, &pls_line(306, &[short])));
                    }
                    let (y, e) = self.expr(at)?;
                    args.push(e);
                    arg_texts.push((at, at[..at.len() - y.len()].trim_end()));
                    let y = ws(y);
                    if let Some(z) = y.strip_prefix(',') {
                        x = z;
                        continue;
                    }
                    r = self.expect_char(y, ')')?;
                    break;
                }
            }
        }
        if args.len() < p.required || args.len() > p.params.len() {
            let short = n.rsplit('.').next().unwrap_or(&n);
            return Err(pls(self, i, &pls_line(306, &[short])));
        }
        for ((e, mode), (at, text)) in args.iter().zip(p.params).zip(arg_texts) {
            match (mode, e) {
                (In, _) | (_, Expr::Bind(..)) => {}
                (_, Expr::Ident(n, _)) => self.assignable(at, n)?,
                _ => {
                    let shown = super::column_name_from_text(text);
                    return Err(pls(self, at, &pls_line(363, &[&shown])));
                }
            }
        }
        Ok((self.semicolon(r)?, stmt(StmtKind::Call(p, args))))
    }
}

/// Offset of the `;` that ends a SQL statement inside a block (outside quotes and
/// parentheses), or the end of the text.
fn statement_end(s: &str) -> usize {
    let mut depth = 0i32;
    let mut quote = None;
    for (k, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, ';') if depth <= 0 => return k,
            _ => {}
        }
    }
    s.len()
}

/// Offset of the `)` that closes a parenthesis opened just before `s` (outside quotes).
fn closing_paren(s: &str) -> Option<usize> {
    let mut depth = 1i32;
    let mut quote = None;
    for (k, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    return Some(k);
                }
            }
            _ => {}
        }
    }
    None
}

/// Offset of keyword `kw` in `s` outside quotes and parentheses, as a word of its own.
fn top_level_keyword(s: &str, kw: &'static str) -> Option<usize> {
    let mut depth = 0i32;
    let mut quote = None;
    let mut prev = ' ';
    for (k, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, _) if depth == 0 && !is_ident_char(prev) && keyword(kw)(&s[k..]).is_ok() => {
                return Some(k);
            }
            _ => {}
        }
        prev = c;
    }
    None
}

impl Block {
    /// Each bind the block uses, in order of first appearance, and whether the block reads
    /// it, writes it or both (what the I/O vector of the reply tells the client).
    pub fn bind_modes(&self) -> Vec<(String, Mode)> {
        let mut out: Vec<(String, bool, bool, usize)> = Vec::new();
        self.note_binds(
            &mut |n, at, read, write| match out.iter_mut().find(|(m, ..)| m == n) {
                Some(e) => {
                    e.1 |= read;
                    e.2 |= write;
                    e.3 = e.3.min(at);
                }
                None => out.push((n.to_owned(), read, write, at)),
            },
        );
        out.sort_by_key(|e| e.3);
        out.into_iter()
            .map(|(n, r, w, _)| {
                let mode = match (r, w) {
                    (true, true) => InOut,
                    (false, true) => Out,
                    _ => In,
                };
                (n, mode)
            })
            .collect()
    }

    /// Every use of a bind: (name, offset, read, written).
    pub fn note_binds(&self, note: &mut dyn FnMut(&str, usize, bool, bool)) {
        self.walk(note);
    }

    fn walk(&self, note: &mut dyn FnMut(&str, usize, bool, bool)) {
        for d in &self.decls {
            match d {
                Decl::Var(_, Some(e)) => reads(e, note),
                Decl::Cursor(c) => {
                    for (_, e) in &c.params {
                        if let Some(e) = e {
                            reads(e, note);
                        }
                    }
                    reads_query(&c.query, note);
                }
                _ => {}
            }
        }
        walk_statements(&self.body, note);
        for h in &self.handlers {
            walk_statements(&h.body, note);
        }
    }
}

fn reads(e: &Expr, note: &mut dyn FnMut(&str, usize, bool, bool)) {
    super::walk_binds(e, &mut |n, at| note(n, at, true, false));
}

fn reads_cond(c: &Cond, note: &mut dyn FnMut(&str, usize, bool, bool)) {
    c.exprs(&mut |e| reads(e, note));
}

fn reads_query(q: &Embedded, note: &mut dyn FnMut(&str, usize, bool, bool)) {
    q.stmt
        .query_binds(&mut |n, at| note(n, q.at + at, true, false));
}

fn walk_statements(stmts: &[Stmt], note: &mut dyn FnMut(&str, usize, bool, bool)) {
    for s in stmts {
        match &s.kind {
            StmtKind::Assign(t, e) => {
                reads(e, note);
                if let Target::Bind(b, at) = t {
                    note(b, *at, false, true);
                }
            }
            StmtKind::Call(p, args) => {
                for (e, mode) in args.iter().zip(p.params) {
                    match (e, mode) {
                        (Expr::Bind(n, at), Out) => note(n, *at, false, true),
                        (Expr::Bind(n, at), InOut) => note(n, *at, true, true),
                        (e, _) => reads(e, note),
                    }
                }
            }
            StmtKind::OpenFor(c, at, q) => {
                note(c, *at, false, true);
                reads_query(q, note);
            }
            StmtKind::Block(b) => b.walk(note),
            StmtKind::If(branches, otherwise) | StmtKind::Case(branches, otherwise) => {
                for (c, body) in branches {
                    reads_cond(c, note);
                    walk_statements(body, note);
                }
                if let Some(body) = otherwise {
                    walk_statements(body, note);
                }
            }
            StmtKind::Loop(body) => walk_statements(body, note),
            StmtKind::While(c, body) => {
                reads_cond(c, note);
                walk_statements(body, note);
            }
            StmtKind::ForRange {
                low, high, body, ..
            } => {
                reads(low, note);
                reads(high, note);
                walk_statements(body, note);
            }
            StmtKind::ForQuery { query, body, .. } => {
                reads_query(query, note);
                walk_statements(body, note);
            }
            StmtKind::Exit(_, c) | StmtKind::Continue(_, c) => {
                if let Some(c) = c {
                    reads_cond(c, note);
                }
            }
            StmtKind::Labeled(_, s) => walk_statements(std::slice::from_ref(s), note),
            StmtKind::OpenCursor(_, args) => args.iter().for_each(|e| reads(e, note)),
            StmtKind::Fetch(_, targets) => {
                for t in targets {
                    if let Target::Bind(b, at) = t {
                        note(b, *at, false, true);
                    }
                }
            }
            StmtKind::ForCursor { args, body, .. } => {
                args.iter().for_each(|e| reads(e, note));
                walk_statements(body, note);
            }
            StmtKind::FetchRecord(..) | StmtKind::Close(_) => {}
            StmtKind::SelectInto(q, targets) => {
                reads_query(q, note);
                for t in targets {
                    if let Target::Bind(b, at) = t {
                        note(b, *at, false, true);
                    }
                }
            }
            StmtKind::Null | StmtKind::Raise(_) => {}
        }
    }
}

/// What the session does for a block: the procedures, the queries and REF CURSORs.
pub trait Host {
    /// Runs built-in procedure `p` with its arguments evaluated (`Value::Null` for OUT
    /// ones); the values of OUT and IN OUT arguments are written back into `args`.
    fn call(&mut self, p: &Procedure, args: &mut [Value]) -> Result<(), OraError>;
    /// Plans a query of the block (SELECT INTO, a cursor FOR loop) in `ctx`.
    fn query(&mut self, query: &Statement, ctx: &EvalContext) -> Result<QueryPlan, OraError>;
    /// Opens a cursor on `query` for the client and returns its id.
    fn open_cursor(&mut self, query: &Statement, ctx: &EvalContext) -> Result<u32, OraError>;
}

/// What a block left behind: the final bind values and the cursors opened for binds.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Bind values by name.
    pub binds: Vec<(String, Value)>,
    /// REF CURSOR binds and the cursor ids opened for them.
    pub cursors: Vec<(String, u32)>,
}

/// `RAISE_APPLICATION_ERROR(code, message [, keep])`: the error to raise (ORA-21000 for a
/// code outside -20000 .. -20999).
fn raise_application_error(args: &[Value]) -> OraError {
    let code = match args.first() {
        Some(Value::Number(d)) => d.to_f64(),
        Some(v) => v.as_text().trim().parse().unwrap_or(0.0),
        None => 0.0,
    };
    if !(-20999.0..=-20000.0).contains(&code) || code.fract() != 0.0 {
        let shown = args.first().map(Value::as_text).unwrap_or_default();
        return OraError::with_args(21000, &[&shown, ""], 0);
    }
    let n = (-code) as u32;
    let msg: String = args
        .get(1)
        .map(Value::as_text)
        .unwrap_or_default()
        .chars()
        .take(2048)
        .collect();
    OraError::from_stack(n, &format!("ORA-{n:05}: {msg}"))
}

/// A condition as the value a BOOLEAN variable keeps: 1 (TRUE), 0 (FALSE) or NULL.
fn truth(c: Cond) -> Expr {
    let number = |n| Expr::Number(Decimal::from_i128(n));
    let not = Cond::Not(Box::new(c.clone()));
    Expr::Case(vec![(c, number(1)), (not, number(0))], None)
}

/// The names of a query's columns as its select list gives them (`None` when it has a `*`
/// or is not a query of the SQL subset's own).
pub(super) fn select_list(stmt: &Statement) -> Option<Vec<String>> {
    let items = match stmt {
        Statement::Select { items, .. } | Statement::Version(items) => items,
        Statement::Query(q) => &q.first.items,
        _ => return None,
    };
    if items.iter().any(|i| matches!(i.expr, Expr::Star)) {
        return None;
    }
    Some(items.iter().map(|i| i.name.clone()).collect())
}
