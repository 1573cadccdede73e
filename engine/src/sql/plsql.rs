//! Session-level PL/SQL: the anonymous blocks drivers, pools and test suites send, parsed
//! into a small tree and run by an interpreter with no I/O and no clock.
//!
//! A block is `[DECLARE declarations] BEGIN statements [EXCEPTION handlers] END;` with
//! variables (`n NUMBER := 1;`), user exceptions (`e EXCEPTION;`), assignments to variables
//! and binds (`:v := :a + 1;`), `OPEN :c FOR <query>;` (a REF CURSOR the client fetches),
//! `RAISE [name];`, nested blocks, `NULL;`, and calls of the built-in procedures of
//! [`PROCEDURES`] (`RAISE_APPLICATION_ERROR`, `DBMS_OUTPUT`, `DBMS_SESSION`,
//! `DBMS_APPLICATION_INFO`, `DBMS_LOCK.SLEEP`). Expressions are the SQL subset's.
//! Handlers catch the predefined exceptions by name (`NO_DATA_FOUND`, `ZERO_DIVIDE`, ...),
//! user exceptions and `OTHERS`, with `SQLCODE` and `SQLERRM` inside them; an exception no
//! handler catches reaches the client with Oracle's `ORA-06512: at line n`.
//!
//! The procedures' effects belong to the session: the interpreter calls them through
//! [`Host`], so a new package (a procedure in [`PROCEDURES`] plus an arm in the session's
//! `Host::call`) plugs in without touching the interpreter. Which binds a block reads and
//! writes is known from its text ([`Block::bind_modes`]), as Oracle's I/O vector reports it.

use nom::Parser;
use nom::branch::alt;
use nom::character::complete::digit1;

use super::eval::{EvalContext, Value, eval_expr};
use super::{Expr, OraError, P, identifier, keyword, line_col, quoted_identifier, ws};

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

/// ORA- code of user-defined exceptions nobody handled.
const USER_EXCEPTION: u32 = 6510;

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

/// The statements.
#[derive(Debug, Clone, PartialEq)]
pub enum StmtKind {
    /// `NULL;`
    Null,
    /// `target := expr;`
    Assign(Target, Expr),
    /// A built-in procedure call.
    Call(&'static Procedure, Vec<Expr>),
    /// `OPEN :c FOR query;` (the bind name, its offset and the query text).
    OpenFor(String, usize, String),
    /// `RAISE [name];`
    Raise(Option<String>),
    /// A nested block.
    Block(Block),
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

    /// Statements up to `EXCEPTION`, `WHEN` or `END` (at least one, as PL/SQL requires).
    fn statements(&self, i: &'a str) -> Result<(&'a str, Vec<Stmt>), OraError> {
        let mut out = Vec::new();
        let mut i = ws(i);
        loop {
            let ends = ["END", "EXCEPTION", "WHEN"]
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

    fn statement(&self, i: &'a str) -> Result<(&'a str, Stmt), OraError> {
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
            let r = ws(r);
            let Ok((r, _)) = keyword("FOR")(r) else {
                return Err(unexpected(self, r));
            };
            let query = ws(r);
            let end = statement_end(query);
            let text = query[..end].trim_end().to_owned();
            return Ok((
                self.semicolon(&query[end..])?,
                stmt(StmtKind::OpenFor(c, at, text)),
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
        let mut r = r2;
        if let Some(x) = r2.strip_prefix('(') {
            let mut x = x;
            if let Some(y) = ws(x).strip_prefix(')') {
                r = y;
            } else {
                loop {
                    let (y, e) = self.expr(x)?;
                    args.push(e);
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
        for (e, mode) in args.iter().zip(p.params) {
            if *mode != In && !matches!(e, Expr::Bind(..) | Expr::Ident(..)) {
                return Err(pls(
                    self,
                    i,
                    "PLS-00363: expression cannot be used as an assignment target",
                ));
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
        fn reads(e: &Expr, note: &mut dyn FnMut(&str, usize, bool, bool)) {
            super::walk_binds(e, &mut |n, at| note(n, at, true, false));
        }
        for d in &self.decls {
            if let Decl::Var(_, Some(e)) = d {
                reads(e, note);
            }
        }
        let stmts = self
            .body
            .iter()
            .chain(self.handlers.iter().flat_map(|h| h.body.iter()));
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
                StmtKind::OpenFor(c, at, _) => note(c, *at, false, true),
                StmtKind::Block(b) => b.walk(note),
                StmtKind::Null | StmtKind::Raise(_) => {}
            }
        }
    }
}

/// What the session does for a block: the procedures and REF CURSORs.
pub trait Host {
    /// Runs built-in procedure `p` with its arguments evaluated (`Value::Null` for OUT
    /// ones); the values of OUT and IN OUT arguments are written back into `args`.
    fn call(&mut self, p: &Procedure, args: &mut [Value]) -> Result<(), OraError>;
    /// Opens a cursor on `query` and returns its id.
    fn open_cursor(&mut self, query: &str, ctx: &EvalContext) -> Result<u32, OraError>;
}

/// What a block left behind: the final bind values and the cursors opened for binds.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Bind values by name.
    pub binds: Vec<(String, Value)>,
    /// REF CURSOR binds and the cursor ids opened for them.
    pub cursors: Vec<(String, u32)>,
}

/// An exception in flight.
#[derive(Debug, Clone)]
struct Raised {
    error: OraError,
    /// The user exception's name, for user exceptions.
    user: Option<String>,
    /// Line of the statement that raised it.
    line: usize,
}

struct Run<'h> {
    host: &'h mut dyn Host,
    ctx: EvalContext,
    /// Variables of the enclosing scopes, innermost last.
    vars: Vec<(String, Value)>,
    cursors: Vec<(String, u32)>,
    /// The exception a handler is handling (for `RAISE;`, SQLCODE, SQLERRM).
    handling: Vec<Raised>,
}

/// Prefix of the bind names the interpreter gives variables while evaluating (no real bind
/// can start with it).
const VAR: &str = "$";

/// Runs `block` with the IN values of `ctx.binds`.
pub fn run(block: &Block, ctx: &EvalContext, host: &mut dyn Host) -> Result<Outcome, OraError> {
    let mut r = Run {
        host,
        ctx: ctx.clone(),
        vars: Vec::new(),
        cursors: Vec::new(),
        handling: Vec::new(),
    };
    match r.block(block) {
        Ok(()) => Ok(Outcome {
            binds: r.ctx.binds,
            cursors: r.cursors,
        }),
        Err(e) => {
            let mut stack = e.error.text();
            stack.push_str(&format!("\nORA-06512: at line {}", e.line));
            Err(OraError::from_stack(e.error.code, &stack))
        }
    }
}

impl Run<'_> {
    fn block(&mut self, b: &Block) -> Result<(), Raised> {
        let depth = self.vars.len();
        let result = self.block_inner(b);
        self.vars.truncate(depth);
        result
    }

    fn block_inner(&mut self, b: &Block) -> Result<(), Raised> {
        for d in &b.decls {
            let (n, v) = match d {
                Decl::Var(n, init) => {
                    let v = match init {
                        Some(e) => self.eval(e, 0)?,
                        None => Value::Null,
                    };
                    (n.clone(), v)
                }
                Decl::Exception(n) => (format!("{VAR}EXCEPTION {n}"), Value::Null),
            };
            self.vars.push((n, v));
        }
        let Err(raised) = self.statements(&b.body) else {
            return Ok(());
        };
        let handler = b.handlers.iter().find(|h| {
            h.names.is_empty()
                || h.names.iter().any(|n| match &raised.user {
                    Some(u) => u == n,
                    None => PREDEFINED
                        .iter()
                        .any(|(p, code)| p == n && *code == raised.error.code),
                })
        });
        let Some(h) = handler else {
            return Err(raised);
        };
        self.handling.push(raised);
        let result = self.statements(&h.body);
        self.handling.pop();
        result
    }

    fn statements(&mut self, body: &[Stmt]) -> Result<(), Raised> {
        for s in body {
            self.statement(s)?;
        }
        Ok(())
    }

    fn fail(&self, error: OraError, line: usize) -> Raised {
        Raised {
            error,
            user: None,
            line,
        }
    }

    fn statement(&mut self, s: &Stmt) -> Result<(), Raised> {
        match &s.kind {
            StmtKind::Null => Ok(()),
            StmtKind::Block(b) => self.block(b),
            StmtKind::Assign(t, e) => {
                let v = self.eval(e, s.line)?;
                self.assign(t, v);
                Ok(())
            }
            StmtKind::OpenFor(c, _, query) => {
                let ctx = self.scope_ctx();
                let id = self
                    .host
                    .open_cursor(query, &ctx)
                    .map_err(|e| self.fail(e, s.line))?;
                self.cursors.retain(|(n, _)| n != c);
                self.cursors.push((c.clone(), id));
                Ok(())
            }
            StmtKind::Raise(None) => match self.handling.last() {
                Some(r) => Err(Raised {
                    line: s.line,
                    ..r.clone()
                }),
                None => Err(self.fail(
                    OraError::with_args(
                        6550,
                        &[
                            &s.line.to_string(),
                            "1",
                            "PLS-00367: a RAISE statement with no exception name must be inside an exception handler",
                        ],
                        0,
                    ),
                    s.line,
                )),
            },
            StmtKind::Raise(Some(n)) => {
                if self.var_index(&format!("{VAR}EXCEPTION {n}")).is_some() {
                    return Err(Raised {
                        error: OraError::new(USER_EXCEPTION, 0),
                        user: Some(n.clone()),
                        line: s.line,
                    });
                }
                match PREDEFINED.iter().find(|(p, _)| p == n) {
                    Some((_, code)) => Err(self.fail(OraError::new(*code, 0), s.line)),
                    None => Err(self.fail(
                        OraError::with_args(
                            6550,
                            &[
                                &s.line.to_string(),
                                "1",
                                &format!("PLS-00201: identifier '{n}' must be declared"),
                            ],
                            0,
                        ),
                        s.line,
                    )),
                }
            }
            StmtKind::Call(p, args) => self.call(p, args, s.line),
        }
    }

    fn call(&mut self, p: &Procedure, args: &[Expr], line: usize) -> Result<(), Raised> {
        let mut values = Vec::with_capacity(args.len());
        for (e, mode) in args.iter().zip(p.params) {
            values.push(match mode {
                Out => Value::Null,
                In | InOut => self.eval(e, line)?,
            });
        }
        if p.name == "RAISE_APPLICATION_ERROR" {
            return Err(self.fail(raise_application_error(&values), line));
        }
        self.host
            .call(p, &mut values)
            .map_err(|e| self.fail(e, line))?;
        for ((e, mode), v) in args.iter().zip(p.params).zip(values) {
            if *mode == In {
                continue;
            }
            match e {
                Expr::Bind(n, at) => self.assign(&Target::Bind(n.clone(), *at), v),
                Expr::Ident(n, _) => self.assign(&Target::Var(n.clone()), v),
                _ => {}
            }
        }
        Ok(())
    }

    fn var_index(&self, n: &str) -> Option<usize> {
        self.vars.iter().rposition(|(m, _)| m == n)
    }

    fn assign(&mut self, t: &Target, v: Value) {
        match t {
            Target::Bind(b, _) => {
                self.ctx.binds.retain(|(n, _)| n != b);
                self.ctx.binds.push((b.clone(), v));
            }
            Target::Var(n) => match self.var_index(n) {
                Some(i) => self.vars[i].1 = v,
                // Undeclared targets were turned away when evaluating their uses; an
                // assignment to one is an error Oracle reports at compile time.
                None => self.vars.push((n.clone(), v)),
            },
        }
    }

    /// The evaluation context of this point: binds, then the variables in scope (and SQLCODE
    /// / SQLERRM inside a handler) as binds of names no client can use.
    fn scope_ctx(&self) -> EvalContext {
        let mut ctx = self.ctx.clone();
        for (n, v) in &self.vars {
            ctx.binds.push((format!("{VAR}{n}"), v.clone()));
        }
        let (code, errm) = match self.handling.last() {
            Some(r) if r.user.is_some() => (1, "User-Defined Exception".to_owned()),
            Some(r) => (-i64::from(r.error.code), r.error.text()),
            None => (0, "ORA-0000: normal, successful completion".to_owned()),
        };
        ctx.binds.push((
            format!("{VAR}SQLCODE"),
            Value::Number(tns::ttc::types::Decimal::from_i128(i128::from(code))),
        ));
        ctx.binds.push((format!("{VAR}SQLERRM"), Value::Str(errm)));
        ctx
    }

    fn eval(&mut self, e: &Expr, line: usize) -> Result<Value, Raised> {
        let ctx = self.scope_ctx();
        let e = with_variables(e, &ctx);
        eval_expr(&e, &ctx).map_err(|err| self.fail(err, line))
    }
}

/// The expression with the identifiers that name variables (or SQLCODE/SQLERRM) turned
/// into the binds [`Run::scope_ctx`] gives them.
fn with_variables(e: &Expr, ctx: &EvalContext) -> Expr {
    let map = |x: &Expr| Box::new(with_variables(x, ctx));
    match e {
        Expr::Ident(n, at) => {
            let b = format!("{VAR}{n}");
            if ctx.binds.iter().any(|(k, _)| *k == b) {
                Expr::Bind(b, *at)
            } else {
                e.clone()
            }
        }
        Expr::Neg(a) => Expr::Neg(map(a)),
        Expr::Bin(op, a, b) => Expr::Bin(*op, map(a), map(b)),
        Expr::SysContext(a, b) => Expr::SysContext(map(a), map(b)),
        Expr::Func(f, args) => {
            Expr::Func(*f, args.iter().map(|a| with_variables(a, ctx)).collect())
        }
        other => other.clone(),
    }
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
