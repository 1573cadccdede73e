//! Session-level PL/SQL: the anonymous blocks drivers, pools, test suites and DBA scripts
//! send, parsed into a small tree and run by an interpreter with no I/O and no clock.
//!
//! A block is `[DECLARE declarations] BEGIN statements [EXCEPTION handlers] END;` with
//! variables (`n NUMBER := 1;`), user exceptions (`e EXCEPTION;`), assignments to variables
//! and binds (`:v := :a + 1;`), `IF / ELSIF / ELSE`, CASE statements (simple and searched;
//! CASE_NOT_FOUND without a matching branch or ELSE), `LOOP`, `WHILE`, `FOR i IN [REVERSE]
//! a..b` (the index read-only), cursor FOR loops `FOR r IN (query)` (`r.column`), `EXIT` /
//! `CONTINUE [WHEN]`, `TRUE` / `FALSE` as conditions, `SELECT ... INTO` (NO_DATA_FOUND,
//! TOO_MANY_ROWS, `SQL%ROWCOUNT`), `OPEN :c FOR <query>;` (a REF CURSOR the client
//! fetches), `RAISE [name];`, nested blocks, `NULL;` — at most [`MAX_NESTING`] statements
//! deep, then PLS-00102 — and calls of the built-in procedures of [`PROCEDURES`]
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
    /// A variable (its type is not checked) and its initial value.
    Var(String, Option<Expr>),
    /// A user exception.
    Exception(String),
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
    /// `EXIT [WHEN c];`
    Exit(Option<Cond>),
    /// `CONTINUE [WHEN c];`
    Continue(Option<Cond>),
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
    pls(
        p,
        at,
        &format!("PLS-00103: Encountered the symbol \"{sym}\""),
    )
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
        let mut i = ws(i);
        if declare {
            loop {
                if let Ok((r, _)) = keyword("BEGIN")(i) {
                    i = ws(r);
                    break;
                }
                let (r, n) = name(i).ok_or_else(|| unexpected(self, i))?;
                let r = ws(r);
                if let Ok((r2, _)) = keyword("EXCEPTION")(r) {
                    decls.push(Decl::Exception(n));
                    i = self.semicolon(r2)?;
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
                        let (x, e) = self.expr(x)?;
                        init = Some(e);
                        r = x;
                        break;
                    }
                    let Some(c) = r2.chars().next() else {
                        return Err(unexpected(self, r2));
                    };
                    r = &r2[c.len_utf8()..];
                }
                decls.push(Decl::Var(n, init));
                i = self.semicolon(r)?;
            }
        }
        let (r, body) = self.statements(i)?;
        let mut handlers = Vec::new();
        let mut i = r;
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
        Ok((
            r,
            Block {
                decls,
                body,
                handlers,
            },
        ))
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
    fn loop_body(
        &self,
        i: &'a str,
        index: Option<String>,
    ) -> Result<(&'a str, Vec<Stmt>), OraError> {
        self.loops.borrow_mut().push(index);
        let body = self.statements(i);
        self.loops.borrow_mut().pop();
        let (r, body) = body?;
        Ok((self.end_of(r, "LOOP")?, body))
    }

    /// PLS-00363 when `name` is the index of an enclosing FOR loop.
    fn assignable(&self, at: &str, name: &str) -> Result<(), OraError> {
        if self.loops.borrow().iter().flatten().any(|n| n == name) {
            return Err(pls(
                self,
                at,
                &format!("PLS-00363: expression '{name}' cannot be used as an assignment target"),
            ));
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

    /// `[WHEN cond] ;` of EXIT and CONTINUE (PLS-00376 outside a loop).
    fn loop_jump(&self, at: &'a str, r: &'a str) -> Result<(&'a str, Option<Cond>), OraError> {
        if self.loops.borrow().is_empty() {
            return Err(pls(
                self,
                at,
                "PLS-00376: illegal EXIT/CONTINUE statement; it must appear inside a loop",
            ));
        }
        let r = ws(r);
        if let Ok((x, _)) = keyword("WHEN")(r) {
            let (x, c) = self.cond(x)?;
            return Ok((self.semicolon(x)?, Some(c)));
        }
        Ok((self.semicolon(r)?, None))
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
            return Err(pls(
                self,
                i,
                "PLS-00428: an INTO clause is expected in this SELECT statement",
            ));
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
    fn for_loop(&self, i: &'a str) -> Result<(&'a str, StmtKind), OraError> {
        let i = ws(i);
        let (r, index) = name(i).ok_or_else(|| unexpected(self, i))?;
        let r = ws(self.expect_keyword(r, "IN")?);
        if let Some(q) = r.strip_prefix('(') {
            let close = closing_paren(q).ok_or_else(|| unexpected(self, r))?;
            let query = self.embedded(ws(&q[..close]), self.off(ws(q)))?;
            let r = self.expect_keyword(&q[close + 1..], "LOOP")?;
            let (r, body) = self.loop_body(r, Some(index.clone()))?;
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
        let (r, body) = self.loop_body(r, Some(index.clone()))?;
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
            return Err(pls(
                self,
                i,
                "PLS-00102: parser stack overflow because nesting is too deep",
            ));
        }
        self.nesting.set(self.nesting.get() + 1);
        let result = self.statement_at(i);
        self.nesting.set(self.nesting.get() - 1);
        result
    }

    fn statement_at(&self, i: &'a str) -> Result<(&'a str, Stmt), OraError> {
        let line = line_col(self.full, self.off(i)).0;
        let stmt = |kind| Stmt { line, kind };
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
            let (r, body) = self.loop_body(r, None)?;
            return Ok((r, stmt(StmtKind::Loop(body))));
        }
        if let Ok((r, _)) = keyword("WHILE")(i) {
            let (r, c) = self.cond(r)?;
            let r = self.expect_keyword(r, "LOOP")?;
            let (r, body) = self.loop_body(r, None)?;
            return Ok((r, stmt(StmtKind::While(c, body))));
        }
        if let Ok((r, _)) = keyword("FOR")(i) {
            let (r, kind) = self.for_loop(r)?;
            return Ok((r, stmt(kind)));
        }
        if let Ok((r, _)) = keyword("EXIT")(i) {
            let (r, c) = self.loop_jump(i, r)?;
            return Ok((r, stmt(StmtKind::Exit(c))));
        }
        if let Ok((r, _)) = keyword("CONTINUE")(i) {
            let (r, c) = self.loop_jump(i, r)?;
            return Ok((r, stmt(StmtKind::Continue(c))));
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
            let (r, e) = self.expr(r)?;
            return Ok((
                self.semicolon(r)?,
                stmt(StmtKind::Assign(Target::Bind(b, at), e)),
            ));
        }
        let (r, n) = name(i).ok_or_else(|| unexpected(self, i))?;
        let r2 = ws(r);
        if let Some(x) = r2.strip_prefix(":=") {
            self.assignable(i, &n)?;
            let (x, e) = self.expr(x)?;
            return Ok((
                self.semicolon(x)?,
                stmt(StmtKind::Assign(Target::Var(n), e)),
            ));
        }
        let Some(p) = find_procedure(&n) else {
            return Err(pls(
                self,
                i,
                &format!("PLS-00201: identifier '{n}' must be declared"),
            ));
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
            return Err(pls(
                self,
                i,
                &format!("PLS-00306: wrong number or types of arguments in call to '{short}'"),
            ));
        }
        for ((e, mode), (at, text)) in args.iter().zip(p.params).zip(arg_texts) {
            match (mode, e) {
                (In, _) | (_, Expr::Bind(..)) => {}
                (_, Expr::Ident(n, _)) => self.assignable(at, n)?,
                _ => {
                    let shown = super::column_name_from_text(text);
                    return Err(pls(
                        self,
                        at,
                        &format!(
                            "PLS-00363: expression '{shown}' cannot be used as an assignment target"
                        ),
                    ));
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
            if let Decl::Var(_, Some(e)) = d {
                reads(e, note);
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
            StmtKind::Exit(c) | StmtKind::Continue(c) => {
                if let Some(c) = c {
                    reads_cond(c, note);
                }
            }
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
