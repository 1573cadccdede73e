//! The SQL subset the simulated database answers, parsed with nom: `SELECT <exprs> FROM DUAL
//! [CONNECT BY LEVEL <= n]`, `BEGIN DBMS_SESSION.SLEEP(n); END;`, `COMMIT`, `ROLLBACK`.
//!
//! It exists so that real clients can run the statements DBAs and benchmarks actually use
//! against a simulated server and get Oracle's answers: the same column names, types,
//! precision/scale and the same errors (`ORA-00900`, `ORA-00904`, `ORA-00923`, `ORA-00933`,
//! `ORA-00942`, ...) at the same offsets.

pub mod cpool;
pub mod eval;
pub mod format;
pub mod plsql;
pub mod query;

use nom::IResult;
use nom::Parser;
use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case, take_while, take_while1};
use nom::character::complete::{char, digit0, digit1, multispace0, one_of};
use nom::combinator::{not, opt, recognize};
use tns::ttc::types::Decimal;

use crate::error::pls_line;
use crate::rows::InstanceState;

pub use crate::error::OraError;

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `||`
    Concat,
}

/// An expression of the select list.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Numeric literal.
    Number(Decimal),
    /// String literal.
    Str(String),
    /// `NULL`.
    Null,
    /// `*` (DUAL's only column, `DUMMY`).
    Star,
    /// `SYSDATE`.
    Sysdate,
    /// `SYSTIMESTAMP`.
    Systimestamp,
    /// `CURRENT_DATE` (session time zone).
    CurrentDate,
    /// `CURRENT_TIMESTAMP` (session time zone, with the zone).
    CurrentTimestamp,
    /// `LOCALTIMESTAMP` (session time zone, without the zone).
    LocalTimestamp,
    /// `USER`.
    User,
    /// `DBTIMEZONE`: the database time zone, `+hh:mm`.
    DbTimeZone,
    /// `SESSIONTIMEZONE`: the session time zone, `+hh:mm`.
    SessionTimeZone,
    /// `LEVEL` (hierarchical pseudo-column).
    Level,
    /// `COUNT(*)`.
    CountStar,
    /// `SYS_CONTEXT(namespace, parameter)`.
    SysContext(Box<Expr>, Box<Expr>),
    /// Unary minus.
    Neg(Box<Expr>),
    /// Binary operation.
    Bin(BinOp, Box<Expr>, Box<Expr>),
    /// An identifier we do not know (ORA-00904 when evaluated), with its offset.
    Ident(String, usize),
    /// A bind placeholder `:name` / `:1` (upper-cased name) with its offset.
    Bind(String, usize),
    /// A built-in function (`TO_CHAR`, `NVL`, `UPPER`, ...) and its arguments.
    Func(Func, Vec<Expr>),
    /// `ROWNUM`.
    Rownum,
    /// `CASE WHEN cond THEN e ... [ELSE e] END` (a simple `CASE x WHEN v` becomes `x = v`).
    Case(Vec<(query::Cond, Expr)>, Option<Box<Expr>>),
    /// `CAST(e AS type)`.
    Cast(Box<Expr>, CastTo),
}

/// The target type of a CAST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CastTo {
    /// VARCHAR2(n) / VARCHAR(n) / NVARCHAR2(n).
    Varchar2(u32),
    /// CHAR(n) (blank-padded).
    Char(u32),
    /// NUMBER / INTEGER / FLOAT.
    Number,
    /// DATE.
    Date,
}

/// The built-in SQL functions of the subset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    /// `TO_CHAR(x [, fmt [, nlsparam]])`.
    ToChar,
    /// `NVL(a, b)`.
    Nvl,
    /// `UPPER(s)`.
    Upper,
    /// `LOWER(s)`.
    Lower,
    /// `LENGTH(s)`.
    Length,
    /// `ROUND(n [, d])`.
    Round,
    /// `TRUNC(n [, d])`.
    Trunc,
    /// `ABS(n)`.
    Abs,
    /// `MOD(m, n)`.
    Mod,
    /// `DECODE(x, s1, r1, ..., [default])`.
    Decode,
    /// `TO_NUMBER(s [, fmt [, nlsparam]])`.
    ToNumber,
    /// `TO_DATE(s [, fmt [, nlsparam]])`.
    ToDate,
    /// `TO_TIMESTAMP(s [, fmt [, nlsparam]])`.
    ToTimestamp,
    /// `TO_TIMESTAMP_TZ(s [, fmt [, nlsparam]])`.
    ToTimestampTz,
    /// `TO_CLOB(s)`: a CLOB of the text (a temporary LOB when it reaches the client).
    ToClob,
    /// `NVL2(x, a, b)`.
    Nvl2,
    /// `COALESCE(a, b, ...)`.
    Coalesce,
    /// `SUBSTR(s, start [, length])`.
    Substr,
}

impl Func {
    fn from_name(n: &str) -> Option<(Func, usize, usize)> {
        Some(match n {
            "TO_CHAR" => (Func::ToChar, 1, 3),
            "NVL" => (Func::Nvl, 2, 2),
            "UPPER" => (Func::Upper, 1, 1),
            "LOWER" => (Func::Lower, 1, 1),
            "LENGTH" => (Func::Length, 1, 1),
            "ROUND" => (Func::Round, 1, 2),
            "TRUNC" => (Func::Trunc, 1, 2),
            "ABS" => (Func::Abs, 1, 1),
            "MOD" => (Func::Mod, 2, 2),
            "DECODE" => (Func::Decode, 3, 255),
            "TO_NUMBER" => (Func::ToNumber, 1, 3),
            "TO_DATE" => (Func::ToDate, 1, 3),
            "TO_TIMESTAMP" => (Func::ToTimestamp, 1, 3),
            "TO_TIMESTAMP_TZ" => (Func::ToTimestampTz, 1, 3),
            "TO_CLOB" => (Func::ToClob, 1, 1),
            "NVL2" => (Func::Nvl2, 3, 3),
            "COALESCE" => (Func::Coalesce, 1, 255),
            "SUBSTR" => (Func::Substr, 2, 3),
            _ => return None,
        })
    }
}

/// One select-list item.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectItem {
    /// The expression.
    pub expr: Expr,
    /// Column name as Oracle reports it (alias or normalised expression text).
    pub name: String,
}

/// A parsed statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// A query on DUAL.
    Select {
        /// Select list.
        items: Vec<SelectItem>,
        /// `CONNECT BY LEVEL <= n` bound (already inclusive).
        connect_by: Option<Expr>,
        /// True for `<` instead of `<=`.
        connect_by_strict: bool,
    },
    /// A query on `V$VERSION` (the banner rows every tool asks for).
    Version(Vec<SelectItem>),
    /// Any other query: WHERE, ROWNUM, subqueries in FROM, set operators, ORDER BY,
    /// dictionary views (see [`query`]).
    Query(Box<query::Query>),
    /// An anonymous PL/SQL block (see [`plsql`]).
    Plsql(plsql::Block),
    /// `COMMIT [WORK]`.
    Commit,
    /// `ROLLBACK [WORK]`.
    Rollback,
    /// `ALTER SESSION SET ...` (accepted; `CURRENT_SCHEMA` is applied).
    AlterSession {
        /// New current schema, when set.
        current_schema: Option<String>,
        /// New session time zone offset in minutes (`TIME_ZONE = '+hh:mm'`), when set.
        time_zone: Option<i16>,
        /// `NLS_... = 'value'` settings, parameter upper case, in the order written.
        nls: Vec<(String, String)>,
    },
    /// A query on V$ views, evaluated over a snapshot the instance gives at each execution
    /// (see [`crate::views`]).
    InstanceQuery(crate::views::ViewQuery),
    /// `ALTER SYSTEM KILL SESSION | DISCONNECT SESSION | REGISTER`, carried out by the
    /// instance for a user with the ALTER SYSTEM privilege.
    AlterSystem(crate::views::AlterSystem),
    /// `BEGIN DBMS_CONNECTION_POOL.<procedure>(...); END;`, carried out by the instance.
    ConnectionPool(cpool::PoolCall),
    /// `ALTER DATABASE MOUNT | OPEN`, carried out by the instance for an AS SYSDBA /
    /// SYSOPER session.
    AlterDatabase(crate::port::DatabaseStage),
}

impl Statement {
    /// The distinct bind names in order of first appearance (how clients bind by position).
    pub fn bind_names(&self) -> Vec<String> {
        fn walk(e: &Expr, out: &mut Vec<(usize, String)>) {
            walk_binds(e, &mut |n, at| out.push((at, n.to_owned())));
        }
        let mut all = Vec::new();
        match self {
            Statement::InstanceQuery(q) => return q.bind_names().to_vec(),
            Statement::AlterSystem(_)
            | Statement::ConnectionPool(_)
            | Statement::AlterDatabase(_) => return Vec::new(),
            Statement::Select {
                items, connect_by, ..
            } => {
                for i in items {
                    walk(&i.expr, &mut all);
                }
                if let Some(c) = connect_by {
                    walk(c, &mut all);
                }
            }
            Statement::Plsql(block) => {
                block.note_binds(&mut |n, at, _, _| all.push((at, n.to_owned())));
            }
            Statement::Version(items) => {
                for i in items {
                    walk(&i.expr, &mut all);
                }
            }
            Statement::Query(q) => q.exprs(&mut |e| walk(e, &mut all)),
            Statement::Commit | Statement::Rollback | Statement::AlterSession { .. } => {}
        }
        all.sort_by_key(|x| x.0);
        let mut names: Vec<String> = Vec::new();
        for (_, n) in all {
            if !names.contains(&n) {
                names.push(n);
            }
        }
        names
    }

    /// True when running the statement may read a `SYS_CONTEXT('USERENV', ..)` value: a
    /// `SYS_CONTEXT` anywhere in it (its namespace may be a bind), a V$ query (its
    /// conditions may name one), a PL/SQL block. The session builds the USERENV values,
    /// some forty strings, only for those, not for every `select 1 from dual`.
    pub fn reads_userenv(&self) -> bool {
        let mut found = false;
        let mut look = |e: &Expr| found |= has_sys_context(e);
        match self {
            Statement::InstanceQuery(_) | Statement::Plsql(_) => return true,
            Statement::AlterSystem(_)
            | Statement::ConnectionPool(_)
            | Statement::AlterDatabase(_)
            | Statement::Commit
            | Statement::Rollback
            | Statement::AlterSession { .. } => {}
            Statement::Select {
                items, connect_by, ..
            } => {
                items.iter().for_each(|i| look(&i.expr));
                connect_by.iter().for_each(look);
            }
            Statement::Version(items) => items.iter().for_each(|i| look(&i.expr)),
            Statement::Query(q) => q.exprs(&mut look),
        }
        found
    }

    /// Every bind placeholder in text order, repeated names included (the bind positions of
    /// a SQL statement; a PL/SQL block has one position per distinct name).
    pub fn bind_occurrences(&self) -> Vec<String> {
        if !self.is_query() || matches!(self, Statement::InstanceQuery(_)) {
            return self.bind_names();
        }
        let mut all = Vec::new();
        self.query_binds(&mut |n, at| all.push((at, n.to_owned())));
        all.sort_by_key(|x| x.0);
        all.into_iter().map(|(_, n)| n).collect()
    }

    /// Each bind placeholder of a query and its offset (a V$ query's binds at offset 0):
    /// the binds of a query inside a PL/SQL block.
    pub(crate) fn query_binds(&self, f: &mut dyn FnMut(&str, usize)) {
        let mut walk = |e: &Expr| walk_binds(e, f);
        match self {
            Statement::Select {
                items, connect_by, ..
            } => {
                items.iter().for_each(|i| walk(&i.expr));
                if let Some(c) = connect_by {
                    walk(c);
                }
            }
            Statement::Version(items) => items.iter().for_each(|i| walk(&i.expr)),
            Statement::Query(q) => q.exprs(&mut walk),
            Statement::InstanceQuery(q) => q.bind_names().iter().for_each(|n| f(n, 0)),
            _ => {}
        }
    }

    /// True for queries.
    pub fn is_query(&self) -> bool {
        matches!(
            self,
            Statement::Select { .. }
                | Statement::InstanceQuery(_)
                | Statement::Version(_)
                | Statement::Query(_)
        )
    }
}

type Res<'a, T> = IResult<&'a str, T>;

/// How deep a statement's expression and condition tree may be: each parenthesis,
/// function call, CASE, CAST, unary minus, NOT, subquery, and each operator of a chain
/// (`1 + 1 + 1` nests to the left) is a level. Beyond it the parser answers ORA-03095
/// instead of going on: the evaluator, the clone and the drop of a tree recurse once per
/// level, and all of them must stay within [`crate::SESSION_STACK`] — also in a debug
/// build, whose frames are several times larger — with room left for the session around
/// them. A chain costs the parser no recursion and the evaluator little per term, so the
/// bound is generous for chains (generated SQL concatenates hundreds of terms) and
/// [`MAX_NESTING_DEPTH`] bounds what the parser recurses on.
///
/// ORA-03095 ("expression level is too deep, maximum %s") is the error Oracle's error
/// reference (docs.oracle.com/en/error-help/db/ora-03095) documents for an expression too
/// complicated to parse. That reference did not say which releases print it, and no 19c
/// list we could search showed it; it is still the error whose meaning is exactly this
/// one, so orasim answers it (with its own maximum) rather than letting the thread run out
/// of stack, which would end the whole instance (the client sees ORA-03113).
pub const MAX_EXPR_DEPTH: usize = 1000;

/// How many levels of an expression or condition the parser may recurse into
/// (parentheses, function calls, CASE, CAST, unary minus, NOT; not the terms of a chain,
/// and subqueries have a bound of their own): ORA-03095 beyond, for the same reason as
/// [`MAX_EXPR_DEPTH`] — a level of nesting costs the parser and the evaluator several
/// times what a term of a chain costs the evaluator.
pub const MAX_NESTING_DEPTH: usize = 255;

/// How many subqueries may enclose one another: Oracle's documented 255 levels (its
/// logical database limits), ORA-01778 beyond.
pub const MAX_SUBQUERY_NESTING: usize = 255;

struct P<'a> {
    full: &'a str,
    /// How deep the expression or condition being parsed sits in the statement's tree
    /// (each parenthesis, function call, CASE, unary minus, NOT, subquery and each term of
    /// a chain such as `1 + 1 + 1` is one level): bounded by [`MAX_EXPR_DEPTH`].
    depth: std::cell::Cell<usize>,
    /// How many subqueries enclose the point being parsed (bounded by
    /// [`MAX_SUBQUERY_NESTING`]).
    subqueries: std::cell::Cell<usize>,
    /// The deepest level reached (see [`P::operand`]).
    peak: std::cell::Cell<usize>,
    /// How many nested parts (not terms of a chain) enclose the point being parsed:
    /// bounded by [`MAX_NESTING_DEPTH`].
    nested: std::cell::Cell<usize>,
    /// PL/SQL: the indexes of the FOR loops around the point being parsed (read-only
    /// there), innermost last; and how many loops of any kind enclose it.
    loops: std::cell::RefCell<Vec<Option<String>>>,
    /// PL/SQL: how many statements enclose the point being parsed.
    nesting: std::cell::Cell<usize>,
    /// PL/SQL: the names declared around the point being parsed (BOOLEAN variables,
    /// cursors, records) and the labels.
    pl: std::cell::RefCell<plsql::Names>,
    /// The database is not open: only DUAL and the fixed (V$) views may be named; any
    /// other table or view is ORA-01219 at its name, since the dictionary that would
    /// resolve it is not there.
    fixed_only: bool,
}

impl<'a> P<'a> {
    fn new(full: &'a str, fixed_only: bool) -> Self {
        P {
            full,
            depth: std::cell::Cell::new(0),
            subqueries: std::cell::Cell::new(0),
            peak: std::cell::Cell::new(0),
            nested: std::cell::Cell::new(0),
            loops: std::cell::RefCell::new(Vec::new()),
            nesting: std::cell::Cell::new(0),
            pl: std::cell::RefCell::new(plsql::Names::default()),
            fixed_only,
        }
    }

    /// The error of naming the table or view at `at` that is not DUAL or a fixed view:
    /// ORA-00942 (it does not exist), or ORA-01219 while the database is not open.
    fn no_such_table(&self, at: &str) -> OraError {
        self.err_at(if self.fixed_only { 1219 } else { 942 }, at)
    }

    fn off(&self, rest: &str) -> usize {
        self.full.len() - rest.len()
    }
}

fn ws(i: &str) -> &str {
    // Whitespace and comments (`-- ...` and `/* ... */`).
    let mut i = i;
    loop {
        let (r, _) = multispace0::<&str, nom::error::Error<&str>>(i).unwrap_or((i, ""));
        i = r;
        if let Some(r) = i.strip_prefix("--") {
            i = r.find('\n').map_or("", |n| &r[n..]);
        } else if let Some(r) = i.strip_prefix("/*") {
            i = r.find("*/").map_or("", |n| &r[n + 2..]);
        } else {
            return i;
        }
    }
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '$' || c == '#'
}

fn identifier(i: &str) -> Res<'_, &str> {
    recognize((
        take_while1(|c: char| c.is_ascii_alphabetic()),
        take_while(is_ident_char),
    ))
    .parse(i)
}

fn quoted_identifier(i: &str) -> Res<'_, &str> {
    let (i, _) = char('"').parse(i)?;
    let (i, s) = take_while1(|c| c != '"').parse(i)?;
    let (i, _) = char('"').parse(i)?;
    Ok((i, s))
}

/// A keyword: case-insensitive and not followed by an identifier character.
fn keyword<'a>(kw: &'static str) -> impl Fn(&'a str) -> Res<'a, &'a str> {
    move |i: &'a str| {
        let (rest, m) = tag_no_case(kw).parse(i)?;
        if rest.chars().next().is_some_and(is_ident_char) {
            return Err(nom::Err::Error(nom::error::Error::new(
                i,
                nom::error::ErrorKind::Tag,
            )));
        }
        Ok((rest, m))
    }
}

fn number_literal(i: &str) -> Res<'_, &str> {
    recognize((
        alt((
            // `1..10` is a PL/SQL range: the number stops before `..`.
            recognize((digit1, opt((char('.'), not(char('.')), digit0)))),
            recognize((char('.'), digit1)),
        )),
        opt((one_of("eE"), opt(one_of("+-")), digit1)),
    ))
    .parse(i)
}

fn string_literal(i: &str) -> Res<'_, String> {
    let (mut i, _) = char('\'').parse(i)?;
    let mut out = String::new();
    loop {
        let (r, chunk) = take_while(|c| c != '\'').parse(i)?;
        out.push_str(chunk);
        let (r, _) = char('\'').parse(r)?;
        if let Ok((r2, _)) = char::<&str, nom::error::Error<&str>>('\'').parse(r) {
            out.push('\'');
            i = r2;
        } else {
            return Ok((r, out));
        }
    }
}

/// Oracle's column name for an expression: the text upper-cased (literals included, as
/// SQL*Plus headings show: `select 'hello' from dual` → `'HELLO'`), with the whitespace
/// outside quotes removed.
pub fn column_name_from_text(text: &str) -> String {
    let mut out = String::new();
    let mut in_quote = false;
    for c in text.chars() {
        if c == '\'' {
            in_quote = !in_quote;
            out.push(c);
        } else if in_quote || !c.is_whitespace() {
            out.extend(c.to_uppercase());
        }
    }
    out.chars().take(128).collect()
}

impl<'a> P<'a> {
    fn err_at(&self, code: u32, rest: &str) -> OraError {
        OraError::new(code, self.off(rest))
    }

    /// `IS [NOT] NULL` after an operand: what follows it and whether NOT was there; `None`
    /// when `r` does not start with IS; ORA-00908 (missing NULL keyword) for IS without NULL.
    fn is_null_tail(&self, r: &'a str) -> Option<Result<(&'a str, bool), OraError>> {
        let (x, _) = keyword("IS")(r).ok()?;
        let x = ws(x);
        let (x, not) = match keyword("NOT")(x) {
            Ok((y, _)) => (ws(y), true),
            Err(_) => (x, false),
        };
        Some(match keyword("NULL")(x) {
            Ok((x, _)) => Ok((x, not)),
            Err(_) => Err(self.err_at(908, x)),
        })
    }

    fn missing_expression(&self, rest: &str) -> OraError {
        self.err_at(936, rest)
    }

    /// ORA-03095 at `at`: the tree is as deep as `maximum` allows.
    fn too_deep(&self, at: &str, maximum: usize) -> OraError {
        OraError::with_args(3095, &[&maximum.to_string()], self.off(at))
    }

    /// Runs `f` one level deeper in the statement's tree and in the parser's recursion
    /// (ORA-03095 past [`MAX_EXPR_DEPTH`] or [`MAX_NESTING_DEPTH`]); both are restored
    /// whatever `f` returns, so a caller that tries another reading after an error starts
    /// from where it was.
    fn deeper<T>(&self, at: &str, f: impl FnOnce() -> Result<T, OraError>) -> Result<T, OraError> {
        let (depth, nested) = (self.depth.get(), self.nested.get());
        if nested >= MAX_NESTING_DEPTH {
            return Err(self.too_deep(at, MAX_NESTING_DEPTH));
        }
        if depth >= MAX_EXPR_DEPTH {
            return Err(self.too_deep(at, MAX_EXPR_DEPTH));
        }
        self.depth.set(depth + 1);
        self.nested.set(nested + 1);
        self.peak.set(self.peak.get().max(depth + 1));
        let result = f();
        self.depth.set(depth);
        self.nested.set(nested);
        result
    }

    /// Parses an operand of a chain (`f`) with the depth set to `level`: the operand and
    /// how many levels deep its own tree is.
    fn operand<T>(
        &self,
        level: usize,
        f: impl FnOnce() -> Result<T, OraError>,
    ) -> Result<(T, usize), OraError> {
        let (depth, peak) = (self.depth.get(), self.peak.get());
        self.depth.set(level);
        self.peak.set(level);
        let result = f();
        let reached = self.peak.get() - level;
        self.depth.set(depth);
        self.peak.set(peak.max(self.peak.get()));
        result.map(|t| (t, reached))
    }

    /// A chain (`a + b + c`, `x AND y AND z`) nests to the left: after `ops` operators
    /// over operands at most `deepest` levels deep, started at depth `base`, its tree is
    /// `base + ops + deepest` deep. ORA-03095 at `at` when that is too deep.
    fn chain_fits(
        &self,
        at: &str,
        base: usize,
        ops: usize,
        deepest: usize,
    ) -> Result<(), OraError> {
        let depth = base + ops + deepest;
        if depth > MAX_EXPR_DEPTH {
            return Err(self.too_deep(at, MAX_EXPR_DEPTH));
        }
        self.peak.set(self.peak.get().max(depth));
        Ok(())
    }

    /// `first (op next)*`, left-deep: `op` finds an operator (and the text after it) at
    /// the text it is given, `next` parses an operand.
    fn chain_of<T, J>(
        &self,
        i: &'a str,
        op: impl Fn(&'a str) -> Option<(&'a str, J)>,
        next: impl Fn(&'a str) -> Result<(&'a str, T), OraError>,
        join: impl Fn(J, T, T) -> T,
    ) -> Result<(&'a str, T), OraError> {
        let base = self.depth.get();
        let ((mut i, mut lhs), mut deepest) = self.operand(base, || next(i))?;
        let mut ops = 0;
        loop {
            let r = ws(i);
            let Some((r2, op_found)) = op(r) else {
                return Ok((i, lhs));
            };
            ops += 1;
            self.chain_fits(r, base, ops, deepest)?;
            let ((r3, rhs), d) = self.operand(base + ops, || next(r2))?;
            deepest = deepest.max(d);
            self.chain_fits(r, base, ops, deepest)?;
            lhs = join(op_found, lhs, rhs);
            i = r3;
        }
    }

    fn expr(&self, i: &'a str) -> Result<(&'a str, Expr), OraError> {
        self.deeper(i, || self.sum(i))
    }

    /// Terms joined by `||`, `+`, `-`.
    fn sum(&self, i: &'a str) -> Result<(&'a str, Expr), OraError> {
        const OPS: &[(&str, BinOp)] =
            &[("||", BinOp::Concat), ("+", BinOp::Add), ("-", BinOp::Sub)];
        self.chain_of(i, binary_op(OPS), |x| self.term(x), bin)
    }

    /// Factors joined by `*`, `/`.
    fn term(&self, i: &'a str) -> Result<(&'a str, Expr), OraError> {
        const OPS: &[(&str, BinOp)] = &[("*", BinOp::Mul), ("/", BinOp::Div)];
        self.chain_of(i, binary_op(OPS), |x| self.factor(x), bin)
    }

    fn factor(&self, i: &'a str) -> Result<(&'a str, Expr), OraError> {
        let mut i = ws(i);
        // A unary plus changes nothing: skipped without a level.
        while let Some(r) = i.strip_prefix('+') {
            i = ws(r);
        }
        if let Some(r) = i.strip_prefix('-') {
            let (r, e) = self.deeper(i, || self.factor(r))?;
            return Ok((r, Expr::Neg(Box::new(e))));
        }
        self.primary(i)
    }

    /// `expr [, expr]... )`: a call's arguments or an IN list, after its opening parenthesis.
    fn expr_list(&self, i: &'a str) -> Result<(&'a str, Vec<Expr>), OraError> {
        let mut list = Vec::new();
        let mut rest = i;
        loop {
            let (x, e) = self.expr(rest)?;
            list.push(e);
            let x = ws(x);
            match x.strip_prefix(',') {
                Some(next) => rest = next,
                None => return Ok((self.expect_char(x, ')')?, list)),
            }
        }
    }

    fn expect_char(&self, i: &'a str, c: char) -> Result<&'a str, OraError> {
        let i = ws(i);
        i.strip_prefix(c)
            .ok_or_else(|| self.missing_right_paren_or(c, i))
    }

    fn missing_right_paren_or(&self, c: char, i: &str) -> OraError {
        match c {
            ')' => self.err_at(907, i),
            '(' => self.err_at(906, i),
            _ => self.err_at(917, i),
        }
    }

    /// A primary expression. Its nested parts (a parenthesis, a function's arguments,
    /// CASE, CAST, SYS_CONTEXT) are parsed from this small frame once [`P::leaf`] has
    /// recognised them and returned: an unoptimized build gives a function a stack slot
    /// for every local of every branch, and each level of nesting stacks the frames on
    /// the recursion's path.
    fn primary(&self, i: &'a str) -> Result<(&'a str, Expr), OraError> {
        match self.leaf(i)? {
            Primary::Done(r, e) => Ok((r, e)),
            Primary::Parenthesized(r) => {
                let (r, e) = self.expr(r)?;
                let r = self.expect_char(r, ')')?;
                Ok((r, e))
            }
            Primary::Case(r) => self.case(r),
            Primary::Cast(r) => self.cast(r),
            Primary::SysContext(r) => {
                let (r, a) = self.expr(r)?;
                let r = self.expect_char(r, ',')?;
                let (r, b) = self.expr(r)?;
                let r = self.expect_char(r, ')')?;
                Ok((r, Expr::SysContext(Box::new(a), Box::new(b))))
            }
            Primary::Call(f, min, max, rest) => {
                let (rest, args) = self.expr_list(rest)?;
                if args.len() < min || args.len() > max {
                    return Err(self.err_at(909, i));
                }
                Ok((rest, Expr::Func(f, args)))
            }
        }
    }

    /// A primary expression without nested parts, or what kind of nested one starts here.
    #[inline(never)]
    fn leaf(&self, i: &'a str) -> Result<Primary<'a>, OraError> {
        if let Some(r) = i.strip_prefix(':') {
            // `:"name"` keeps its case, as the drivers send it.
            if let Ok((r2, q)) = quoted_identifier(r) {
                return Ok(Primary::Done(r2, Expr::Bind(q.to_owned(), self.off(i))));
            }
            let name = alt((identifier, digit1)).parse(r);
            return match name {
                Ok((_, n)) if RESERVED_BIND_NAMES.contains(&n.to_ascii_uppercase().as_str()) => {
                    Err(self.err_at(1745, i))
                }
                Ok((r2, n)) => Ok(Primary::Done(
                    r2,
                    Expr::Bind(n.to_ascii_uppercase(), self.off(i)),
                )),
                Err(_) => Err(self.err_at(911, i)),
            };
        }
        if let Ok((r, _)) = keyword("CASE")(i) {
            return Ok(Primary::Case(r));
        }
        if let Ok((r, _)) = (keyword("CAST"), multispace0).parse(i)
            && r.starts_with('(')
        {
            return Ok(Primary::Cast(r));
        }
        if let Ok((r, n)) = number_literal(i) {
            let d = Decimal::parse(n).ok_or_else(|| self.err_at(1722, i))?;
            // NUMBER holds magnitudes up to 1E126; smaller than 1E-130 is zero.
            if !d.is_zero() && d.point > 126 {
                return Err(self.err_at(1426, i));
            }
            let d = if d.point < -129 { Decimal::zero() } else { d };
            return Ok(Primary::Done(r, Expr::Number(d)));
        }
        if i.starts_with('\'') {
            return match string_literal(i) {
                Ok((r, s)) => Ok(Primary::Done(r, Expr::Str(s))),
                Err(_) => Err(self.err_at(1756, i)),
            };
        }
        if let Some(r) = i.strip_prefix('(') {
            return Ok(Primary::Parenthesized(r));
        }
        if let Ok((r, _)) = (
            keyword("COUNT"),
            multispace0,
            char('('),
            multispace0,
            char('*'),
        )
            .parse(i)
        {
            let r = self.expect_char(r, ')')?;
            return Ok(Primary::Done(r, Expr::CountStar));
        }
        if let Ok((r, _)) = (keyword("SYS_CONTEXT"), multispace0, char('(')).parse(i) {
            return Ok(Primary::SysContext(r));
        }
        if let Ok((r, q)) = quoted_identifier(i) {
            return Ok(Primary::Done(r, Expr::Ident(q.to_owned(), self.off(i))));
        }
        let Ok((r, id)) = identifier(i) else {
            return Err(self.missing_expression(i));
        };
        let up = id.to_ascii_uppercase();
        let e = match up.as_str() {
            "NULL" => Expr::Null,
            "SYSDATE" => Expr::Sysdate,
            "SYSTIMESTAMP" => Expr::Systimestamp,
            "CURRENT_DATE" => Expr::CurrentDate,
            "CURRENT_TIMESTAMP" => Expr::CurrentTimestamp,
            "LOCALTIMESTAMP" => Expr::LocalTimestamp,
            // The ANSI date literal `DATE 'YYYY-MM-DD'`, a BC year with its sign
            // (`DATE '-0044-03-15'`): TO_DATE with that fixed format, which no NLS setting
            // changes.
            "DATE" if ws(r).starts_with('\'') => {
                let Ok((r, text)) = string_literal(ws(r)) else {
                    return Err(self.err_at(1756, ws(r)));
                };
                let format = Expr::Str("SYYYY-MM-DD".to_owned());
                return Ok(Primary::Done(
                    r,
                    Expr::Func(Func::ToDate, vec![Expr::Str(text), format]),
                ));
            }
            "USER" => Expr::User,
            "DBTIMEZONE" => Expr::DbTimeZone,
            "SESSIONTIMEZONE" => Expr::SessionTimeZone,
            "LEVEL" => Expr::Level,
            "ROWNUM" => Expr::Rownum,
            "FROM" | "WHERE" | "CONNECT" | "SELECT" => return Err(self.missing_expression(i)),
            name if Func::from_name(name).is_some() && ws(r).starts_with('(') => {
                let Some((f, min, max)) = Func::from_name(name) else {
                    return Err(self.missing_expression(i));
                };
                return Ok(Primary::Call(f, min, max, &ws(r)[1..]));
            }
            _ => {
                // A qualified name or a function call we do not know: still an identifier.
                let mut r = r;
                let mut name = up.clone();
                // PL/SQL's implicit cursor attribute: a name the block's machine sets.
                if name == "SQL"
                    && let Some(x) = r.strip_prefix('%')
                    && let Ok((x, attr)) = keyword("ROWCOUNT")(x)
                {
                    name.push('%');
                    name.push_str(&attr.to_ascii_uppercase());
                    r = x;
                } else if let Some(x) = r.strip_prefix('%')
                    && let Ok((x, _)) = keyword("ROWCOUNT")(x)
                    && let Some(var) = self.attribute_var(&name, "ROWCOUNT")
                {
                    // A declared cursor's row count.
                    name = var;
                    r = x;
                }
                while let Some(r2) = r.strip_prefix('.') {
                    match identifier(r2) {
                        Ok((r3, part)) => {
                            name.push('.');
                            name.push_str(&part.to_ascii_uppercase());
                            r = r3;
                        }
                        Err(_) => break,
                    }
                }
                if ws(r).starts_with('(') {
                    // Skip a balanced argument list so the error is about the name.
                    let mut depth = 0usize;
                    let mut end = 0;
                    for (k, c) in ws(r).char_indices() {
                        match c {
                            '(' => depth += 1,
                            ')' => {
                                depth -= 1;
                                if depth == 0 {
                                    end = k + 1;
                                    break;
                                }
                            }
                            _ => {}
                        }
                    }
                    r = &ws(r)[end..];
                }
                return Ok(Primary::Done(r, Expr::Ident(name, self.off(i))));
            }
        };
        Ok(Primary::Done(r, e))
    }

    /// After SELECT: the statement (a plain select on DUAL stays lazy, V$VERSION is static,
    /// anything else is a materialized [`query::Query`]).
    fn select(&self, i: &'a str) -> Result<Statement, OraError> {
        let (r, q, version) = self.query(i)?;
        let r = ws(r);
        let r = r.strip_prefix(';').map_or(r, ws);
        if !r.is_empty() {
            return Err(self.err_at(933, r));
        }
        let simple = q.rest.is_empty() && q.order.is_empty() && q.first.filter.is_none();
        if version && simple {
            return Ok(Statement::Version(q.first.items));
        }
        let rownum = q
            .first
            .items
            .iter()
            .any(|i| eval::contains(&i.expr, &|e| matches!(e, Expr::Rownum)));
        if simple && q.first.source == query::Source::Dual && !rownum {
            let b = q.first;
            return Ok(Statement::Select {
                items: b.items,
                connect_by: b.connect_by,
                connect_by_strict: b.strict,
            });
        }
        Ok(Statement::Query(Box::new(q)))
    }

    /// A query after its first SELECT: blocks joined by set operators, then ORDER BY; and
    /// whether the first block reads V$VERSION.
    fn query(&self, i: &'a str) -> Result<(&'a str, query::Query, bool), OraError> {
        use query::SetOp;
        let (mut r, first, version) = self.query_block(i)?;
        let mut rest = Vec::new();
        loop {
            let x = ws(r);
            let op = if let Ok((y, _)) = (keyword("UNION"), multispace0, keyword("ALL")).parse(x) {
                Some((y, SetOp::UnionAll))
            } else if let Ok((y, _)) = keyword("UNION")(x) {
                Some((y, SetOp::Union))
            } else if let Ok((y, _)) = keyword("MINUS")(x) {
                Some((y, SetOp::Minus))
            } else if let Ok((y, _)) = keyword("INTERSECT")(x) {
                Some((y, SetOp::Intersect))
            } else {
                None
            };
            let Some((y, op)) = op else { break };
            let y = ws(y);
            let Ok((y, _)) = keyword("SELECT")(y) else {
                return Err(self.err_at(928, y));
            };
            let (y, b, _) = self.query_block(y)?;
            rest.push((op, b));
            r = y;
        }
        let (r, order) = self.order_by(r)?;
        Ok((r, query::Query { first, rest, order }, version))
    }

    /// A subquery after its `SELECT`: one level deeper in the tree, and ORA-01778 inside
    /// more than [`MAX_SUBQUERY_NESTING`] others.
    fn subquery(&self, i: &'a str) -> Result<(&'a str, query::Query), OraError> {
        let nesting = self.subqueries.get();
        if nesting >= MAX_SUBQUERY_NESTING {
            return Err(self.err_at(1778, i));
        }
        // A level of the tree (what the evaluator recurses on), but not of
        // MAX_NESTING_DEPTH: the subqueries have their own bound, and the expressions of
        // the innermost one may still nest.
        let depth = self.depth.get();
        if depth >= MAX_EXPR_DEPTH {
            return Err(self.too_deep(i, MAX_EXPR_DEPTH));
        }
        self.subqueries.set(nesting + 1);
        self.depth.set(depth + 1);
        self.peak.set(self.peak.get().max(depth + 1));
        let result = self.query(i);
        self.subqueries.set(nesting);
        self.depth.set(depth);
        result.map(|(r, q, _)| (r, q))
    }

    /// `ORDER BY` keys, if any (a function of its own: see [`P::query_block`]).
    #[inline(never)]
    fn order_by(&self, r: &'a str) -> Result<OrderBy<'a>, OraError> {
        let mut r = r;
        let mut order = Vec::new();
        let x = ws(r);
        if let Ok((y, _)) = (keyword("ORDER"), multispace0, keyword("BY")).parse(x) {
            let mut y = y;
            loop {
                let at = ws(y);
                let (z, key) = match digit1::<&str, nom::error::Error<&str>>(at) {
                    Ok((z, n)) if !ws(z).starts_with(['+', '-', '*', '/', '|']) => (
                        z,
                        query::OrderKey::Position(n.parse().unwrap_or(0), self.off(at)),
                    ),
                    _ => {
                        let (z, e) = self.expr(at)?;
                        (z, query::OrderKey::Expr(e))
                    }
                };
                let z = ws(z);
                let (z, desc) = if let Ok((w, _)) = keyword("DESC")(z) {
                    (ws(w), true)
                } else if let Ok((w, _)) = keyword("ASC")(z) {
                    (ws(w), false)
                } else {
                    (z, false)
                };
                order.push((key, desc));
                match z.strip_prefix(',') {
                    Some(w) => y = w,
                    None => {
                        r = z;
                        break;
                    }
                }
            }
        }
        Ok((r, order))
    }

    /// One `SELECT` block after its keyword: items, FROM, WHERE, CONNECT BY; and whether
    /// it reads V$VERSION.
    fn query_block(&self, i: &'a str) -> Result<(&'a str, query::Block, bool), OraError> {
        // Only small frames stay on the stack while a subquery in FROM is parsed: the
        // select list and the clauses after FROM are parsed by functions of their own.
        let (i, items) = self.select_list(i)?;
        let Ok((r, _)) = keyword("FROM")(i) else {
            return Err(self.err_at(923, i));
        };
        let r = ws(r);
        let (r, source, version) = match r.strip_prefix('(') {
            Some(x) => {
                let x = ws(x);
                let Ok((x, _)) = keyword("SELECT")(x) else {
                    return Err(self.err_at(928, x));
                };
                let (x, q) = self.subquery(x)?;
                let x = self.expect_char(x, ')')?;
                (x, query::Source::Sub(Box::new(q)), false)
            }
            None => self.named_source(r)?,
        };
        self.block_rest(r, items, source, version)
    }

    /// The select list of a block, up to what follows it.
    #[inline(never)]
    fn select_list(&self, i: &'a str) -> Result<(&'a str, Vec<SelectItem>), OraError> {
        let mut items = Vec::new();
        let mut i = i;
        loop {
            let start = ws(i);
            let (r, expr) = match start.strip_prefix('*') {
                Some(r) if items.is_empty() => (r, Expr::Star),
                _ => self.expr(start)?,
            };
            let text = &start[..start.len() - r.len()];
            let mut name = if expr == Expr::Star {
                "DUMMY".to_owned()
            } else {
                column_name_from_text(text)
            };
            let mut r2 = ws(r);
            // Optional alias: [AS] ident | "quoted"
            let (after_as, had_as) = match keyword("AS")(r2) {
                Ok((x, _)) => (ws(x), true),
                Err(_) => (r2, false),
            };
            if let Ok((x, q)) = quoted_identifier(after_as) {
                name = q.to_owned();
                r2 = x;
            } else if let Ok((x, id)) = identifier(after_as) {
                let up = id.to_ascii_uppercase();
                if had_as || !CLAUSE_WORDS.contains(&up.as_str()) {
                    name = up;
                    r2 = x;
                }
            } else if had_as {
                return Err(self.missing_expression(after_as));
            }
            items.push(SelectItem { expr, name });
            let r3 = ws(r2);
            if let Some(r4) = r3.strip_prefix(',') {
                i = r4;
                continue;
            }
            i = r3;
            break;
        }
        Ok((i, items))
    }

    /// A table or view named after FROM: the text after the name, the source, and whether
    /// it is V$VERSION.
    #[inline(never)]
    fn named_source(&self, r: &'a str) -> Result<(&'a str, query::Source, bool), OraError> {
        let table_at = r;
        let (r, table) = match quoted_identifier(r) {
            Ok((x, q)) => (x, q.to_owned()),
            Err(_) => match recognize((identifier, opt((char('.'), identifier)))).parse(r) {
                Ok((x, t)) => (x, t.to_ascii_uppercase()),
                Err(_) => return Err(self.err_at(903, r)),
            },
        };
        // Tables are resolved before the rest of the statement is looked at: a query on
        // a table that does not exist is ORA-00942 whatever its WHERE clause says.
        let version = matches!(
            table.as_str(),
            "V$VERSION" | "SYS.V$VERSION" | "V_$VERSION" | "SYS.V_$VERSION"
        );
        let source = if table == "DUAL" || table == "SYS.DUAL" || version {
            query::Source::Dual
        } else if let Some(d) = query::Dictionary::from_name(&table)
            && !self.fixed_only
        {
            query::Source::Table(d)
        } else {
            return Err(self.no_such_table(table_at));
        };
        Ok((r, source, version))
    }

    /// What follows a block's source: its alias, WHERE, CONNECT BY.
    #[inline(never)]
    fn block_rest(
        &self,
        r: &'a str,
        items: Vec<SelectItem>,
        source: query::Source,
        version: bool,
    ) -> Result<(&'a str, query::Block, bool), OraError> {
        let mut r = ws(r);
        // Optional table alias.
        if let Ok((x, id)) = identifier(r)
            && !CLAUSE_WORDS.contains(&id.to_ascii_uppercase().as_str())
        {
            r = ws(x);
        }
        let mut filter = None;
        if let Ok((x, _)) = keyword("WHERE")(r) {
            let (x, c) = self.cond(x)?;
            filter = Some(c);
            r = ws(x);
        }
        let mut connect_by = None;
        let mut strict = false;
        if let Ok((x, _)) = (keyword("CONNECT"), multispace0, keyword("BY")).parse(r) {
            let x = ws(x);
            let Ok((x, _)) = keyword("LEVEL")(x) else {
                return Err(self.err_at(900, x));
            };
            let x = ws(x);
            let (x, op) = alt((tag("<="), tag("<")))
                .parse(x)
                .map_err(|_: nom::Err<nom::error::Error<&str>>| self.err_at(920, x))?;
            strict = op == "<";
            let (x, e) = self.expr(x)?;
            connect_by = Some(e);
            r = ws(x);
        }
        Ok((
            r,
            query::Block {
                items,
                source,
                filter,
                connect_by,
                strict,
            },
            version,
        ))
    }

    /// A condition: OR of ANDs of (NOT) predicates.
    fn cond(&self, i: &'a str) -> Result<(&'a str, query::Cond), OraError> {
        let or = |r: &'a str| keyword("OR")(r).ok().map(|(x, _)| (x, ()));
        self.chain_of(
            i,
            or,
            |x| self.and_cond(x),
            |(), a, b| query::Cond::Or(Box::new(a), Box::new(b)),
        )
    }

    fn and_cond(&self, i: &'a str) -> Result<(&'a str, query::Cond), OraError> {
        let and = |r: &'a str| keyword("AND")(r).ok().map(|(x, _)| (x, ()));
        self.chain_of(
            i,
            and,
            |x| self.not_cond(x),
            |(), a, b| query::Cond::And(Box::new(a), Box::new(b)),
        )
    }

    fn not_cond(&self, i: &'a str) -> Result<(&'a str, query::Cond), OraError> {
        let i = ws(i);
        if let Ok((x, _)) = keyword("NOT")(i) {
            let (x, c) = self.deeper(i, || self.not_cond(x))?;
            return Ok((x, query::Cond::Not(Box::new(c))));
        }
        // Inside a block, TRUE, FALSE, BOOLEAN variables and the cursor attributes
        // %FOUND / %NOTFOUND / %ISOPEN are conditions of their own.
        if self.pl.borrow().inside
            && let Some(c) = self.boolean_cond(i)?
        {
            return Ok(c);
        }
        match self.predicate(i) {
            Ok(ok) => Ok(ok),
            Err(e) => {
                // `( cond )`: a parenthesized condition, when it is not an expression.
                let Some(x) = i.strip_prefix('(') else {
                    return Err(e);
                };
                let Ok((x, c)) = self.deeper(i, || self.cond(x)) else {
                    return Err(e);
                };
                let x = self.expect_char(x, ')')?;
                Ok((x, c))
            }
        }
    }

    fn predicate(&self, i: &'a str) -> Result<(&'a str, query::Cond), OraError> {
        use query::{CmpOp, Cond};
        let (r, a) = self.expr(i)?;
        let r = ws(r);
        for (t, op) in [
            ("<=", CmpOp::Le),
            (">=", CmpOp::Ge),
            ("<>", CmpOp::Ne),
            ("!=", CmpOp::Ne),
            ("^=", CmpOp::Ne),
            ("=", CmpOp::Eq),
            ("<", CmpOp::Lt),
            (">", CmpOp::Gt),
        ] {
            if let Some(x) = r.strip_prefix(t) {
                let (x, b) = self.expr(x)?;
                return Ok((x, Cond::Cmp(a, op, b)));
            }
        }
        if let Some(tail) = self.is_null_tail(r) {
            let (x, not) = tail?;
            return Ok((x, Cond::IsNull(a, not)));
        }
        let (r, not) = match keyword("NOT")(r) {
            Ok((y, _)) => (ws(y), true),
            Err(_) => (r, false),
        };
        if let Ok((x, _)) = keyword("IN")(r) {
            let x = self.expect_char(x, '(')?;
            let (y, list) = self.expr_list(x)?;
            return Ok((y, Cond::In(a, list, not)));
        }
        if let Ok((x, _)) = keyword("BETWEEN")(r) {
            let (x, lo) = self.expr(x)?;
            let Ok((x, _)) = keyword("AND")(ws(x)) else {
                return Err(self.err_at(905, x));
            };
            let (x, hi) = self.expr(x)?;
            return Ok((x, Cond::Between(a, lo, hi, not)));
        }
        if let Ok((x, _)) = keyword("LIKE")(r) {
            let (x, p) = self.expr(x)?;
            return Ok((x, Cond::Like(a, p, not)));
        }
        Err(self.err_at(920, r))
    }

    /// `CASE ... END` after its keyword.
    fn case(&self, i: &'a str) -> Result<(&'a str, Expr), OraError> {
        let i = ws(i);
        let simple = if keyword("WHEN")(i).is_ok() {
            None
        } else {
            let (r, e) = self.expr(i)?;
            Some((r, e))
        };
        let mut r = simple.as_ref().map_or(i, |(r, _)| ws(r));
        let mut arms = Vec::new();
        while let Ok((x, _)) = keyword("WHEN")(r) {
            let (x, c) = match &simple {
                Some((_, subject)) => {
                    let (x, v) = self.expr(x)?;
                    (x, query::Cond::Cmp(subject.clone(), query::CmpOp::Eq, v))
                }
                None => self.cond(x)?,
            };
            let Ok((x, _)) = keyword("THEN")(ws(x)) else {
                return Err(self.err_at(905, x));
            };
            let (x, e) = self.expr(x)?;
            arms.push((c, e));
            r = ws(x);
        }
        if arms.is_empty() {
            return Err(self.err_at(905, r));
        }
        let mut otherwise = None;
        if let Ok((x, _)) = keyword("ELSE")(r) {
            let (x, e) = self.expr(x)?;
            otherwise = Some(Box::new(e));
            r = ws(x);
        }
        let Ok((r, _)) = keyword("END")(r) else {
            return Err(self.err_at(905, r));
        };
        Ok((r, Expr::Case(arms, otherwise)))
    }

    /// `CAST(e AS type)` after `CAST`.
    fn cast(&self, i: &'a str) -> Result<(&'a str, Expr), OraError> {
        let r = self.expect_char(i, '(')?;
        let (r, e) = self.expr(r)?;
        let Ok((r, _)) = keyword("AS")(ws(r)) else {
            return Err(self.err_at(905, r));
        };
        let r = ws(r);
        let Ok((r, ty)) = identifier(r) else {
            return Err(self.err_at(902, r));
        };
        let ty = ty.to_ascii_uppercase();
        let mut r = ws(r);
        let mut size = None;
        if let Some(x) = r.strip_prefix('(') {
            let x = ws(x);
            let Ok((x, n)) = digit1::<&str, nom::error::Error<&str>>(x) else {
                return Err(self.err_at(910, x));
            };
            size = n.parse::<u32>().ok();
            let mut x = ws(x);
            if let Some(y) = x.strip_prefix(',') {
                x = ws(y);
                x = digit1::<&str, nom::error::Error<&str>>(x).map_or(x, |(z, _)| z);
            }
            let x = ws(x);
            let x = keyword("BYTE")(x)
                .or_else(|_| keyword("CHAR")(x))
                .map_or(x, |(z, _)| z);
            r = self.expect_char(x, ')')?;
        }
        let to = match (ty.as_str(), size) {
            ("VARCHAR2" | "VARCHAR" | "NVARCHAR2", Some(n)) if (1..=32767).contains(&n) => {
                CastTo::Varchar2(n)
            }
            ("VARCHAR2" | "VARCHAR" | "NVARCHAR2", _) => return Err(self.err_at(906, r)),
            ("CHAR" | "NCHAR", n) => CastTo::Char(n.unwrap_or(1).clamp(1, 2000)),
            ("NUMBER" | "INTEGER" | "INT" | "FLOAT" | "DECIMAL", _) => CastTo::Number,
            ("DATE", _) => CastTo::Date,
            _ => return Err(self.err_at(902, r)),
        };
        let r = self.expect_char(r, ')')?;
        Ok((r, Expr::Cast(Box::new(e), to)))
    }

    /// A whole anonymous block (after `BEGIN`, or after `DECLARE` when `declare`); only a
    /// `/` line may follow it.
    fn plsql(&self, i: &'a str, declare: bool) -> Result<Statement, OraError> {
        if !declare && let Some(call) = self.pool_block(i) {
            return call;
        }
        let (r, block) = self.block(i, declare)?;
        let r = ws(r);
        let r = r.strip_prefix('/').map_or(r, ws);
        if !r.is_empty() {
            return Err(self.encountered(r));
        }
        Ok(Statement::Plsql(block))
    }

    /// A block that is one DBMS_CONNECTION_POOL call among NULL statements: the pool
    /// administration the instance carries out ([`Statement::ConnectionPool`]). `None`
    /// when the block is anything else.
    fn pool_block(&self, i: &'a str) -> Option<Result<Statement, OraError>> {
        let skip_nulls = |mut i: &'a str| {
            while let Ok((r, _)) = keyword("NULL")(ws(i)) {
                match ws(r).strip_prefix(';') {
                    Some(x) => i = x,
                    None => break,
                }
            }
            ws(i)
        };
        let i = skip_nulls(i);
        let (r, name) = recognize((identifier, opt((char('.'), identifier))))
            .parse(i)
            .ok()?;
        let procedure = name
            .to_ascii_uppercase()
            .strip_prefix("DBMS_CONNECTION_POOL.")?
            .to_owned();
        Some((|| {
            let (r, args) = self.pool_args(r, &procedure)?;
            let call =
                cpool::call(&procedure, &args).map_err(|detail| self.pls_error(i, &detail))?;
            let r = skip_nulls(self.semicolon(r)?);
            let Ok((r, _)) = keyword("END")(r) else {
                return Err(self.encountered(r));
            };
            let r = ws(r);
            let r = r.strip_prefix(';').map(ws).unwrap_or(r);
            let r = r.strip_prefix('/').map(ws).unwrap_or(r);
            if !r.is_empty() {
                return Err(self.pls_error(r, &pls_line(103, &["END"])));
            }
            Ok(Statement::ConnectionPool(call))
        })())
    }

    /// `[( [name =>] literal, ... )]` of a DBMS_CONNECTION_POOL call of `procedure`.
    fn pool_args(
        &self,
        r: &'a str,
        procedure: &str,
    ) -> Result<(&'a str, Vec<cpool::Arg>), OraError> {
        let mut r = ws(r);
        let mut args = Vec::new();
        let Some(rest) = r.strip_prefix('(') else {
            return Ok((r, args));
        };
        r = ws(rest);
        if let Some(rest) = r.strip_prefix(')') {
            return Ok((rest, args));
        }
        loop {
            let mut name = None;
            if let Ok((x, n)) = identifier(r) {
                let x = ws(x);
                if let Some(x) = x.strip_prefix("=>") {
                    name = Some(n.to_ascii_uppercase());
                    r = ws(x);
                }
            }
            let (x, e) = self.expr(r)?;
            let value = cpool::literal(&e)
                .ok_or_else(|| self.pls_error(r, &pls_line(306, &[procedure])))?;
            args.push((name, value));
            r = ws(x);
            if let Some(x) = r.strip_prefix(',') {
                r = ws(x);
                continue;
            }
            let r = self.expect_char(r, ')')?;
            return Ok((r, args));
        }
    }

    fn semicolon(&self, r: &'a str) -> Result<&'a str, OraError> {
        let r = ws(r);
        r.strip_prefix(';')
            .map(ws)
            .ok_or_else(|| self.encountered(r))
    }

    /// PLS-00103 at `r`, naming the symbol found there.
    fn encountered(&self, r: &str) -> OraError {
        let symbol = r.split_whitespace().next().unwrap_or("end-of-file");
        self.pls_error(r, &pls_line(103, &[symbol]))
    }

    fn pls_error(&self, at: &str, detail: &str) -> OraError {
        let off = self.off(at);
        let (line, col) = line_col(self.full, off);
        OraError::with_args(6550, &[&line.to_string(), &col.to_string(), detail], off)
    }
}

/// The text after an ORDER BY clause and its keys (descending when true).
type OrderBy<'a> = (&'a str, Vec<(query::OrderKey, bool)>);

/// The words that end a select-list item or a table where an alias could be.
const CLAUSE_WORDS: [&str; 8] = [
    "FROM",
    "CONNECT",
    "WHERE",
    "UNION",
    "MINUS",
    "INTERSECT",
    "ORDER",
    "GROUP",
];

/// What [`P::leaf`] found: a whole expression, or where a nested one's parts start.
enum Primary<'a> {
    /// A literal, a name, a bind...: the text after it and the expression.
    Done(&'a str, Expr),
    /// After `(`.
    Parenthesized(&'a str),
    /// After `CASE`.
    Case(&'a str),
    /// After `CAST`.
    Cast(&'a str),
    /// After `SYS_CONTEXT(`.
    SysContext(&'a str),
    /// A built-in function, its minimum and maximum argument counts, the text after `(`.
    Call(Func, usize, usize, &'a str),
}

/// Finds one of `ops` at the start of a text: the operator and the text after it.
fn binary_op(ops: &'static [(&'static str, BinOp)]) -> impl Fn(&str) -> Option<(&str, BinOp)> {
    move |r: &str| {
        ops.iter()
            .find_map(|(t, op)| r.strip_prefix(t).map(|after| (after, *op)))
    }
}

fn bin(op: BinOp, a: Expr, b: Expr) -> Expr {
    Expr::Bin(op, Box::new(a), Box::new(b))
}

fn line_col(text: &str, off: usize) -> (usize, usize) {
    let before = &text[..off.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.len(), |n| before.len() - n - 1)
        + 1;
    (line, col)
}

/// Parses a time zone offset `+hh:mm` / `-hh:mm` (also `UTC`/`GMT`) into minutes.
pub fn parse_tz_offset(v: &str) -> Option<i16> {
    let v = v.trim().trim_end_matches('\0');
    if v.eq_ignore_ascii_case("UTC") || v.eq_ignore_ascii_case("GMT") || v == "Z" {
        return Some(0);
    }
    let (sign, rest) = match v.as_bytes().first()? {
        b'+' => (1i16, &v[1..]),
        b'-' => (-1i16, &v[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    let (h, m): (i16, i16) = (h.parse().ok()?, m.parse().ok()?);
    if !(0..=14).contains(&h) || !(0..60).contains(&m) {
        return None;
    }
    Some(sign * (h * 60 + m))
}

/// Reserved words a bind may not be named (ORA-01745).
const RESERVED_BIND_NAMES: [&str; 16] = [
    "ROWID", "ROWNUM", "LEVEL", "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "NULL", "TABLE",
    "UNION", "ORDER", "GROUP", "UID", "SYSDATE",
];

/// True when `e` or a part of it (CASE conditions included) is a `SYS_CONTEXT`.
fn has_sys_context(e: &Expr) -> bool {
    match e {
        Expr::SysContext(..) => true,
        Expr::Neg(a) | Expr::Cast(a, _) => has_sys_context(a),
        Expr::Case(arms, otherwise) => {
            arms.iter().any(|(c, x)| {
                let mut in_condition = false;
                c.exprs(&mut |y| in_condition |= has_sys_context(y));
                in_condition || has_sys_context(x)
            }) || otherwise.as_deref().is_some_and(has_sys_context)
        }
        Expr::Bin(_, a, b) => has_sys_context(a) || has_sys_context(b),
        Expr::Func(_, args) => args.iter().any(has_sys_context),
        _ => false,
    }
}

/// Calls `f` with each bind placeholder of `e` and its offset.
fn walk_binds(e: &Expr, f: &mut dyn FnMut(&str, usize)) {
    match e {
        Expr::Bind(n, off) => f(n, *off),
        Expr::Neg(a) | Expr::Cast(a, _) => walk_binds(a, f),
        Expr::Case(arms, otherwise) => {
            for (c, x) in arms {
                c.exprs(&mut |y| walk_binds(y, f));
                walk_binds(x, f);
            }
            if let Some(x) = otherwise {
                walk_binds(x, f);
            }
        }
        Expr::Bin(_, a, b) | Expr::SysContext(a, b) => {
            walk_binds(a, f);
            walk_binds(b, f);
        }
        Expr::Func(_, args) => {
            for a in args {
                walk_binds(a, f);
            }
        }
        _ => {}
    }
}

/// How many bind placeholders follow the `INTO` of a `RETURNING`/`RETURN ... INTO` clause
/// of a DML statement (INSERT, UPDATE, DELETE, MERGE): the request decoder's [`tns::ttc::request::DecodeContext`] hook, since
/// clients send metadata but no value for those binds. Strings, quoted names and comments
/// are skipped; a statement that is not valid UTF-8 has none.
pub fn returning_bind_count(sql: &[u8]) -> usize {
    let Ok(text) = std::str::from_utf8(sql) else {
        return 0;
    };
    let mut tokens: Vec<Token<'_>> = Vec::new();
    let mut i = ws(text);
    while let Some(c) = i.chars().next() {
        if c == '\'' {
            i = string_literal(i).map_or("", |(r, _)| r);
        } else if c == '"' {
            i = quoted_identifier(i).map_or(&i[1..], |(r, _)| r);
        } else if c == ':' {
            let r = &i[1..];
            i = alt((quoted_identifier, identifier, digit1))
                .parse(r)
                .map_or(r, |(r2, _)| r2);
            tokens.push(Token::Bind);
        } else if let Ok((r, w)) = identifier(i) {
            tokens.push(Token::Word(w));
            i = r;
        } else {
            i = &i[c.len_utf8()..];
        }
        i = ws(i);
    }
    // Only DML has a RETURNING clause the client binds this way (not PL/SQL blocks).
    let dml = matches!(tokens.first(), Some(Token::Word(w))
        if ["INSERT", "UPDATE", "DELETE", "MERGE"].iter().any(|k| w.eq_ignore_ascii_case(k)));
    if !dml {
        return 0;
    }
    let returning = tokens.iter().rposition(|t| {
        matches!(t, Token::Word(w) if w.eq_ignore_ascii_case("RETURNING") || w.eq_ignore_ascii_case("RETURN"))
    });
    let Some(at) = returning else {
        return 0;
    };
    let into = tokens[at..]
        .iter()
        .position(|t| matches!(t, Token::Word(w) if w.eq_ignore_ascii_case("INTO")));
    into.map_or(0, |k| {
        tokens[at + k..]
            .iter()
            .filter(|t| matches!(t, Token::Bind))
            .count()
    })
}

/// A word or a bind placeholder of a statement (see [`returning_bind_count`]).
enum Token<'a> {
    Word(&'a str),
    Bind,
}

/// Parses one statement.
pub fn parse(sql: &str) -> Result<Statement, OraError> {
    parse_in(sql, InstanceState::Open)
}

/// [`parse`] for an instance in `state`: while the database is not open (STARTED or
/// MOUNTED) a statement may name only DUAL and the fixed views, as in Oracle; any other
/// table or view is ORA-01219 at its name.
pub fn parse_in(sql: &str, state: InstanceState) -> Result<Statement, OraError> {
    let fixed_only = state != InstanceState::Open;
    // V$VERSION is static: answered here even without an instance.
    {
        let p = P::new(sql, fixed_only);
        if let Ok((r, _)) = keyword("SELECT")(ws(sql))
            && let Ok(st @ Statement::Version(_)) = p.select(r)
        {
            return Ok(st);
        }
    }
    // Statements on the instance itself (V$ views, ALTER SYSTEM) first.
    match crate::views::parse_in(sql, state)? {
        Some(crate::views::Statement::Query(q)) => return Ok(Statement::InstanceQuery(q)),
        Some(crate::views::Statement::AlterSystem(a)) => return Ok(Statement::AlterSystem(a)),
        None => {}
    }
    let p = P::new(sql, fixed_only);
    let i = ws(sql);
    if let Ok((r, _)) = keyword("SELECT")(i) {
        return p.select(r);
    }
    if let Ok((r, _)) = keyword("BEGIN")(i) {
        return p.plsql(r, false);
    }
    if let Ok((r, _)) = keyword("DECLARE")(i) {
        return p.plsql(r, true);
    }
    for (kw, st) in [
        ("COMMIT", Statement::Commit),
        ("ROLLBACK", Statement::Rollback),
    ] {
        if let Ok((r, _)) = keyword(kw)(i) {
            let r = ws(r);
            let r = keyword("WORK")(r).map_or(r, |(x, _)| ws(x));
            let r = r.strip_prefix(';').map_or(r, ws);
            if !r.is_empty() {
                return Err(p.err_at(933, r));
            }
            return Ok(st);
        }
    }
    if let Ok((r, _)) = (keyword("ALTER"), multispace0, keyword("SESSION")).parse(i) {
        let r = ws(r);
        let Ok((r, _)) = keyword("SET")(r) else {
            return Err(p.err_at(922, r));
        };
        let r = ws(r);
        let current_schema = (
            keyword("CURRENT_SCHEMA"),
            multispace0,
            char('='),
            multispace0,
            alt((quoted_identifier, identifier)),
        )
            .parse(r)
            .ok()
            .map(|(_, (_, _, _, _, s))| s.to_ascii_uppercase());
        let time_zone = match (keyword("TIME_ZONE"), multispace0, char('='), multispace0).parse(r) {
            Ok((x, _)) => match string_literal(x)
                .ok()
                .and_then(|(_, v)| parse_tz_offset(&v))
            {
                Some(m) => Some(m),
                None => return Err(p.err_at(1882, x)),
            },
            Err(_) => None,
        };
        let mut nls = Vec::new();
        let mut rest = r;
        while let Ok((x, (name, _, _, _))) =
            (identifier, multispace0, char('='), multispace0).parse(rest)
        {
            let value = alt((string_literal, identifier.map(str::to_owned))).parse(x);
            let Ok((x, value)) = value else { break };
            let name = name.to_ascii_uppercase();
            if name.starts_with("NLS_") {
                nls.push((name, value));
            }
            rest = ws(x);
        }
        return Ok(Statement::AlterSession {
            current_schema,
            time_zone,
            nls,
        });
    }
    // DML on a table: the table does not exist (this database has only DUAL).
    for (kw, next) in [
        ("INSERT", Some("INTO")),
        ("UPDATE", None),
        ("DELETE", Some("FROM")),
        ("MERGE", Some("INTO")),
    ] {
        if let Ok((r, _)) = keyword(kw)(i) {
            let mut r = ws(r);
            if let Some(n) = next {
                r = keyword(n)(r).map_or(r, |(x, _)| ws(x));
            }
            let at = r;
            let Ok((_, t)) = recognize((identifier, opt((char('.'), identifier)))).parse(r) else {
                return Err(p.err_at(903, r));
            };
            let t = t.to_ascii_uppercase();
            if t == "DUAL" || t == "SYS.DUAL" {
                return Err(OraError::new(1031, 0));
            }
            return Err(p.no_such_table(at));
        }
    }
    // TRUNCATE TABLE / DROP TABLE name a table: the table does not exist (only DUAL does).
    for (kw, next) in [("TRUNCATE", "TABLE"), ("DROP", "TABLE")] {
        if let Ok((r, _)) = (keyword(kw), multispace0, keyword(next)).parse(i) {
            let at = ws(r);
            let Ok((_, t)) = recognize((identifier, opt((char('.'), identifier)))).parse(at) else {
                return Err(p.err_at(903, at));
            };
            let t = t.to_ascii_uppercase();
            if t == "DUAL" || t == "SYS.DUAL" {
                return Err(OraError::new(1031, 0));
            }
            return Err(p.no_such_table(at));
        }
    }
    if let Ok((r, _)) = (keyword("ALTER"), multispace0, keyword("DATABASE")).parse(i) {
        return alter_database(&p, ws(r));
    }
    // DDL and privileges: a user of the password file holds CREATE SESSION only.
    for kw in [
        "CREATE",
        "DROP",
        "ALTER",
        "GRANT",
        "REVOKE",
        "TRUNCATE",
        "ANALYZE",
        "AUDIT",
        "COMMENT",
        "RENAME",
        "LOCK",
        "FLASHBACK",
        "PURGE",
    ] {
        if keyword(kw)(i).is_ok() {
            return Err(OraError::new(1031, 0));
        }
    }
    Err(OraError::invalid_sql())
}

/// `ALTER DATABASE [name] MOUNT | OPEN` (after `ALTER DATABASE`). Any other form of ALTER
/// DATABASE needs a privilege no user here holds: ORA-01031, as for the rest of DDL.
fn alter_database(p: &P<'_>, r: &str) -> Result<Statement, OraError> {
    fn stage(r: &str) -> Option<(&str, crate::port::DatabaseStage)> {
        for (word, to) in [
            ("MOUNT", crate::port::DatabaseStage::Mount),
            ("OPEN", crate::port::DatabaseStage::Open),
        ] {
            if let Ok((x, _)) = keyword(word)(r) {
                return Some((ws(x), to));
            }
        }
        None
    }
    let found = stage(r).or_else(|| {
        let (x, _) = identifier(r).ok()?;
        stage(ws(x))
    });
    match found {
        Some((rest, to)) => {
            let rest = rest.strip_prefix(';').map_or(rest, ws);
            if rest.is_empty() {
                Ok(Statement::AlterDatabase(to))
            } else {
                Err(p.err_at(933, rest))
            }
        }
        None => Err(OraError::new(1031, 0)),
    }
}

#[cfg(test)]
mod tests;
