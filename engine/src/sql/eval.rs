//! Evaluation of the SQL subset: column metadata exactly as Oracle describes it, and rows
//! produced lazily (a `CONNECT BY LEVEL <= 1000000` query is never materialised; the cursor
//! asks for row *n* when the client fetches it).

use std::borrow::Cow;
use std::sync::Arc;

use tns::ttc::message::ColumnMetadata;
use tns::ttc::types::{DateTime, Decimal, ora_type};

use super::format::{self, Kind, Nls};
use super::{BinOp, CastTo, Expr, Func, OraError, Statement};

/// DBTIMEZONE of every simulated database, minutes east of UTC: `+00:00`, what DBCA sets
/// when no time zone is given. Sent in the DATA_TYPES reply to clients that ask (`TZ_EX`).
pub const DB_TIME_ZONE_MINUTES: i16 = 0;

/// A time-zone offset as DBTIMEZONE / SESSIONTIMEZONE show it: `+05:30`, `-08:00`.
pub fn format_tz_offset(minutes: i16) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let m = minutes.unsigned_abs();
    format!("{sign}{:02}:{:02}", m / 60, m % 60)
}

/// The parameters of the USERENV namespace Oracle 19c knows (any other is ORA-02003); a
/// known one the session has no value for is NULL (`CLOUD_SERVICE` on premises, ...).
pub const USERENV_PARAMETERS: &[&str] = &[
    "ACTION",
    "AUDITED_CURSORID",
    "AUTHENTICATED_IDENTITY",
    "AUTHENTICATION_DATA",
    "AUTHENTICATION_METHOD",
    "BG_JOB_ID",
    "CDB_DOMAIN",
    "CDB_NAME",
    "CLIENT_IDENTIFIER",
    "CLIENT_INFO",
    "CLIENT_PROGRAM_NAME",
    "CLOUD_SERVICE",
    "CON_ID",
    "CON_NAME",
    "CURRENT_BIND",
    "CURRENT_EDITION_ID",
    "CURRENT_EDITION_NAME",
    "CURRENT_SCHEMA",
    "CURRENT_SCHEMAID",
    "CURRENT_SQL",
    "CURRENT_SQL_LENGTH",
    "CURRENT_USER",
    "CURRENT_USERID",
    "DATABASE_ROLE",
    "DB_DOMAIN",
    "DB_NAME",
    "DB_SUPPLEMENTAL_LOG_LEVEL",
    "DB_UNIQUE_NAME",
    "DBLINK_INFO",
    "DRAIN_STATUS",
    "ENTERPRISE_IDENTITY",
    "ENTRYID",
    "FG_JOB_ID",
    "GLOBAL_CONTEXT_MEMORY",
    "GLOBAL_UID",
    "HOST",
    "IDENTIFICATION_TYPE",
    "INSTANCE",
    "INSTANCE_NAME",
    "IP_ADDRESS",
    "IS_APPLY_SERVER",
    "IS_DG_ROLLING_UPGRADE",
    "ISDBA",
    "LANG",
    "LANGUAGE",
    "LDAP_SERVER_TYPE",
    "MODULE",
    "NETWORK_PROTOCOL",
    "NLS_CALENDAR",
    "NLS_CURRENCY",
    "NLS_DATE_FORMAT",
    "NLS_DATE_LANGUAGE",
    "NLS_SORT",
    "NLS_TERRITORY",
    "ORACLE_HOME",
    "OS_USER",
    "PLATFORM_SLASH",
    "POLICY_INVOKER",
    "PROXY_ENTERPRISE_IDENTITY",
    "PROXY_USER",
    "PROXY_USERID",
    "SCHEDULER_JOB",
    "SERVER_HOST",
    "SERVICE_NAME",
    "SESSION_DEFAULT_COLLATION",
    "SESSION_EDITION_ID",
    "SESSION_EDITION_NAME",
    "SESSION_USER",
    "SESSION_USERID",
    "SESSIONID",
    "SID",
    "STATEMENTID",
    "TERMINAL",
    "UNIFIED_AUDIT_SESSIONID",
];

/// What a statement may look at: the session and the clock, handed in by the engine.
#[derive(Debug, Clone)]
pub struct EvalContext {
    /// Session user (upper case).
    pub user: String,
    /// `SYS_CONTEXT('USERENV', ...)` values, parameter upper case.
    pub userenv: Vec<(String, String)>,
    /// Now, UTC.
    pub now: DateTime,
    /// Bind values by name (as [`super::Statement::bind_names`] orders them).
    pub binds: Vec<(String, Value)>,
    /// Session time zone, minutes east of UTC (`ALTER SESSION SET TIME_ZONE`).
    pub tz_offset_minutes: i16,
    /// Application contexts other than USERENV: (namespace, attribute, value), namespace
    /// and attribute upper case (`CLIENTCONTEXT` from the client, ...). Shared with the
    /// session, which copies them only when it changes them while a context holds them.
    pub contexts: Arc<Vec<(String, String, String)>>,
    /// The columns of the current row of a query's source (by name), when there is one.
    pub columns: Vec<(String, Value)>,
    /// LEVEL of the current row (0: not in a row, read as 1).
    pub level: u64,
    /// ROWNUM of the current row (0: not in a query).
    pub rownum: u64,
    /// The session's NLS settings (formats when none is given, numeric characters),
    /// shared with the session like [`EvalContext::contexts`].
    pub nls: Arc<Nls>,
    /// The PL/SQL variables in scope, innermost last (a name a row's columns do not have
    /// is looked up here, as PL/SQL resolves names in its SQL statements).
    pub variables: Vec<(String, Value)>,
}

impl EvalContext {
    /// Now in the session time zone (wall clock of the zone, offset recorded).
    fn session_now(&self) -> DateTime {
        let (secs, nanos) = self.now.to_unix();
        let mut d = DateTime::from_unix(secs + i64::from(self.tz_offset_minutes) * 60, nanos);
        d.offset_minutes = self.tz_offset_minutes;
        d
    }
}

impl EvalContext {
    /// The value a name stands for: a column of the current row (by its name or its last
    /// part), else a PL/SQL variable (a record's field is named `R.COL`).
    pub fn lookup(&self, name: &str) -> Option<&Value> {
        let short = name.rsplit('.').next().unwrap_or(name);
        self.columns
            .iter()
            .find(|(k, _)| k == name || k == short)
            .or_else(|| self.variables.iter().rev().find(|(k, _)| k == name))
            .map(|(_, v)| v)
    }

    fn userenv(&self, param: &str) -> Option<&str> {
        self.userenv
            .iter()
            .find(|(k, _)| k == param)
            .map(|(_, v)| v.as_str())
    }
}

/// A value in a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// NUMBER.
    Number(Decimal),
    /// VARCHAR2 / CHAR.
    Str(String),
    /// NULL.
    Null,
    /// DATE.
    Date(DateTime),
    /// TIMESTAMP WITH TIME ZONE.
    TimestampTz(DateTime),
    /// TIMESTAMP.
    Timestamp(DateTime),
    /// The elements of a PL/SQL array (an OUT array bind such as DBMS_OUTPUT.GET_LINES's).
    List(Vec<Value>),
    /// The contents of a CLOB (`TO_CLOB`, a bound or fetched temporary LOB): the session
    /// turns it into a temporary LOB when it leaves as a LOB.
    Clob(String),
    /// The contents of a BLOB.
    Blob(Vec<u8>),
}

impl Value {
    /// The value in its wire encoding (`None` = NULL).
    pub fn encode(&self) -> Option<Vec<u8>> {
        match self {
            Value::Number(d) => Some(d.to_oracle_number()),
            Value::Str(s) if s.is_empty() => None,
            Value::Str(s) => Some(s.as_bytes().to_vec()),
            Value::Null => None,
            Value::Date(d) => Some(d.to_oracle_date()),
            Value::TimestampTz(d) => Some(d.to_oracle_timestamp_tz()),
            Value::Timestamp(d) => Some(d.to_oracle_timestamp()),
            // A collection is no single value on the wire.
            Value::List(_) => None,
            Value::Clob(s) if s.is_empty() => None,
            Value::Clob(s) => Some(s.as_bytes().to_vec()),
            Value::Blob(b) if b.is_empty() => None,
            Value::Blob(b) => Some(b.clone()),
        }
    }

    /// The value as text (TO_CHAR without a format).
    pub fn as_text(&self) -> String {
        match self {
            Value::Number(d) => d.to_string(),
            Value::Str(s) | Value::Clob(s) => s.clone(),
            Value::Null | Value::List(_) => String::new(),
            // RAW to text is its hex digits.
            Value::Blob(b) => b.iter().map(|x| format!("{x:02X}")).collect(),
            Value::Date(d) | Value::TimestampTz(d) | Value::Timestamp(d) => format!(
                "{:02}-{}-{:02}",
                d.day,
                [
                    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV",
                    "DEC"
                ][usize::from(d.month.clamp(1, 12) - 1)],
                d.year.rem_euclid(100)
            ),
        }
    }
}

/// A planned query: its columns and how to produce row *n*.
#[derive(Debug, Clone)]
pub struct QueryPlan {
    /// Column metadata for DESCRIBE_INFO.
    pub columns: Vec<ColumnMetadata>,
    exprs: Vec<Expr>,
    total: u64,
    aggregate: Option<Vec<Value>>,
    /// Rows computed up front (V$ views answered by the instance).
    fixed: Option<Vec<Vec<Value>>>,
    /// Rows an aggregate walks before it can answer (`COUNT(*) ... CONNECT BY LEVEL <= n`):
    /// the engine burns them in slices (see [`burn`]) so a cancel or a kill is seen.
    pub work: u64,
}

/// Walks `rows` rows of a hierarchical query the way an aggregate does: the CPU the
/// benchmarks ask for. Returns how many were walked.
pub fn burn(rows: u64) -> u64 {
    let mut count: u64 = 0;
    for level in 1..=rows {
        count = std::hint::black_box(count + std::hint::black_box(level).min(1));
    }
    count
}

impl QueryPlan {
    /// Number of rows the query returns.
    pub fn total_rows(&self) -> u64 {
        self.total
    }

    /// A plan over rows computed up front (queries on V$ views).
    pub fn from_rows(columns: Vec<ColumnMetadata>, rows: Vec<Vec<Value>>) -> QueryPlan {
        QueryPlan {
            columns,
            exprs: Vec::new(),
            total: rows.len() as u64,
            aggregate: None,
            fixed: Some(rows),
            work: 0,
        }
    }

    /// Row `index` (0-based).
    pub fn row(&self, index: u64, ctx: &EvalContext) -> Result<Vec<Value>, OraError> {
        if let Some(rows) = &self.fixed {
            return usize::try_from(index)
                .ok()
                .and_then(|i| rows.get(i))
                .cloned()
                .ok_or_else(|| OraError::new(1002, 0));
        }
        if let Some(agg) = &self.aggregate {
            return Ok(agg.clone());
        }
        self.exprs.iter().map(|e| eval(e, index + 1, ctx)).collect()
    }
}

/// True when `e` or a part of it satisfies `pred`.
pub(crate) fn contains(e: &Expr, pred: &dyn Fn(&Expr) -> bool) -> bool {
    if pred(e) {
        return true;
    }
    match e {
        Expr::Neg(a) | Expr::Cast(a, _) => contains(a, pred),
        Expr::Case(arms, otherwise) => {
            arms.iter().any(|(_, x)| contains(x, pred))
                || otherwise.as_deref().is_some_and(|x| contains(x, pred))
        }
        Expr::Bin(_, a, b) | Expr::SysContext(a, b) => contains(a, pred) || contains(b, pred),
        Expr::Func(_, args) => args.iter().any(|a| contains(a, pred)),
        _ => false,
    }
}

/// The first identifier of `e` that names nothing `ctx` knows (no column, no PL/SQL
/// variable).
fn first_ident(e: &Expr, ctx: &EvalContext) -> Option<(String, usize)> {
    match e {
        Expr::Ident(n, _) if ctx.lookup(n).is_some() => None,
        Expr::Ident(n, off) => Some((n.clone(), *off)),
        Expr::Neg(a) => first_ident(a, ctx),
        Expr::Bin(_, a, b) | Expr::SysContext(a, b) => {
            let x = first_ident(a, ctx);
            let y = first_ident(b, ctx);
            match (x, y) {
                (Some(x), Some(y)) => Some(if x.1 <= y.1 { x } else { y }),
                (x, y) => x.or(y),
            }
        }
        Expr::Func(_, args) => args
            .iter()
            .filter_map(|a| first_ident(a, ctx))
            .min_by_key(|x| x.1),
        _ => None,
    }
}

/// True when the expression yields a DATE/TIMESTAMP.
fn is_date(e: &Expr, ctx: &EvalContext) -> bool {
    match e {
        Expr::Sysdate
        | Expr::Systimestamp
        | Expr::CurrentDate
        | Expr::CurrentTimestamp
        | Expr::LocalTimestamp
        | Expr::Func(Func::ToDate | Func::ToTimestamp | Func::ToTimestampTz, _) => true,
        Expr::Bind(n, _) => ctx.binds.iter().any(|(k, v)| {
            k == n
                && matches!(
                    v,
                    Value::Date(_) | Value::Timestamp(_) | Value::TimestampTz(_)
                )
        }),
        Expr::Bin(BinOp::Add | BinOp::Sub, a, b) => is_date(a, ctx) != is_date(b, ctx),
        Expr::Func(Func::Nvl, args) => args.first().is_some_and(|a| is_date(a, ctx)),
        _ => false,
    }
}

/// Column metadata of an expression.
fn describe(e: &Expr, name: &str, ctx: &EvalContext) -> ColumnMetadata {
    match e {
        Expr::Bind(n, _) => match ctx.binds.iter().find(|(k, _)| k == n).map(|(_, v)| v) {
            Some(Value::Str(_)) => ColumnMetadata::string(name, ora_type::VARCHAR, 4000),
            Some(Value::Clob(_)) => ColumnMetadata::clob(name),
            Some(Value::Blob(_)) => ColumnMetadata::blob(name),
            Some(Value::Date(_)) => ColumnMetadata::date(name),
            Some(Value::TimestampTz(_)) => ColumnMetadata::timestamp_tz(name),
            Some(Value::Timestamp(_)) => ColumnMetadata {
                ora_type: ora_type::TIMESTAMP,
                buffer_size: 11,
                ..ColumnMetadata::timestamp_tz(name)
            },
            Some(Value::Null) => ColumnMetadata::string(name, ora_type::VARCHAR, 4000),
            _ => ColumnMetadata::number(name),
        },
        Expr::Str(s) => {
            let n = u32::try_from(s.len()).unwrap_or(4000);
            ColumnMetadata::string(name, ora_type::CHAR, n)
        }
        Expr::Star => ColumnMetadata::string("DUMMY", ora_type::VARCHAR, 1),
        Expr::Null => ColumnMetadata::string(name, ora_type::VARCHAR, 0),
        Expr::User => ColumnMetadata::string(name, ora_type::VARCHAR, 128),
        Expr::Cast(_, CastTo::Varchar2(n)) => ColumnMetadata::string(name, ora_type::VARCHAR, *n),
        Expr::Cast(_, CastTo::Char(n)) => ColumnMetadata::string(name, ora_type::CHAR, *n),
        Expr::Cast(_, CastTo::Date) => ColumnMetadata::date(name),
        Expr::Case(arms, otherwise) => {
            let mut parts = arms.iter().map(|(_, e)| e).chain(otherwise.as_deref());
            let first = parts.next().map(|e| describe(e, name, ctx));
            match first {
                Some(m) if m.ora_type == ora_type::CHAR || m.ora_type == ora_type::VARCHAR => {
                    let n = arms
                        .iter()
                        .map(|(_, e)| e)
                        .chain(otherwise.as_deref())
                        .map(|e| describe(e, name, ctx).max_size)
                        .max()
                        .unwrap_or(0);
                    ColumnMetadata::string(name, ora_type::VARCHAR, n)
                }
                Some(m) => m,
                None => ColumnMetadata::number(name),
            }
        }
        Expr::Func(Func::ToClob, _) => ColumnMetadata::clob(name),
        Expr::Func(Func::ToDate, _) => ColumnMetadata::date(name),
        Expr::Func(Func::ToTimestampTz, _) => ColumnMetadata::timestamp_tz(name),
        Expr::Func(Func::ToTimestamp, _) => ColumnMetadata {
            ora_type: ora_type::TIMESTAMP,
            buffer_size: 11,
            ..ColumnMetadata::timestamp_tz(name)
        },
        Expr::Func(Func::Substr, args) => {
            let n = args.first().map_or(0, |a| describe(a, name, ctx).max_size);
            ColumnMetadata::string(name, ora_type::VARCHAR, n.max(1))
        }
        Expr::Func(Func::Decode, args) => match args.get(2) {
            Some(a) => {
                let m = describe(a, name, ctx);
                if m.ora_type == ora_type::CHAR {
                    ColumnMetadata::string(name, ora_type::VARCHAR, m.max_size)
                } else {
                    m
                }
            }
            None => ColumnMetadata::number(name),
        },
        Expr::Func(Func::Nvl2, args) => args
            .get(1)
            .map_or_else(|| ColumnMetadata::number(name), |a| describe(a, name, ctx)),
        Expr::Func(Func::Coalesce, args) => args
            .iter()
            .find(|a| !matches!(a, Expr::Null))
            .map_or_else(|| ColumnMetadata::number(name), |a| describe(a, name, ctx)),
        Expr::Ident(n, _) => match ctx.lookup(n) {
            Some(Value::Str(_) | Value::Null) => {
                ColumnMetadata::string(name, ora_type::VARCHAR, 4000)
            }
            Some(Value::Date(_)) => ColumnMetadata::date(name),
            _ => ColumnMetadata::number(name),
        },
        Expr::DbTimeZone | Expr::SessionTimeZone => {
            ColumnMetadata::string(name, ora_type::VARCHAR, 6)
        }
        Expr::SysContext(..) => ColumnMetadata::string(name, ora_type::VARCHAR, 256),
        Expr::Bin(BinOp::Concat, a, b) => {
            let la = describe(a, name, ctx)
                .max_size
                .max(if is_numeric(a) { 40 } else { 0 });
            let lb = describe(b, name, ctx)
                .max_size
                .max(if is_numeric(b) { 40 } else { 0 });
            ColumnMetadata::string(name, ora_type::VARCHAR, (la + lb).min(4000))
        }
        Expr::Sysdate | Expr::CurrentDate => ColumnMetadata::date(name),
        Expr::Systimestamp | Expr::CurrentTimestamp => ColumnMetadata::timestamp_tz(name),
        Expr::LocalTimestamp => ColumnMetadata {
            ora_type: ora_type::TIMESTAMP,
            buffer_size: 11,
            ..ColumnMetadata::timestamp_tz(name)
        },
        Expr::Bin(BinOp::Add | BinOp::Sub, ..) if is_date(e, ctx) => ColumnMetadata::date(name),
        Expr::Func(Func::ToChar, args) => {
            let n = match args.first() {
                Some(a) if is_date(a, ctx) => 75,
                Some(a) if is_numeric(a) => 40,
                Some(a) => describe(a, name, ctx).max_size,
                None => 0,
            };
            ColumnMetadata::string(name, ora_type::VARCHAR, n)
        }
        Expr::Func(Func::Upper | Func::Lower, args) => {
            let n = args.first().map_or(0, |a| describe(a, name, ctx).max_size);
            ColumnMetadata::string(name, ora_type::VARCHAR, n)
        }
        Expr::Func(Func::Nvl, args) => match args.first() {
            Some(a) if matches!(a, Expr::Null) => args
                .get(1)
                .map_or_else(|| describe(a, name, ctx), |b| describe(b, name, ctx)),
            Some(a) => describe(a, name, ctx),
            None => ColumnMetadata::number(name),
        },
        _ => ColumnMetadata::number(name),
    }
}

fn is_numeric(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Number(_) | Expr::Level | Expr::CountStar | Expr::Neg(_)
    ) || matches!(e, Expr::Bin(op, ..) if *op != BinOp::Concat)
}

/// The one row of `V$VERSION` (19c layout: BANNER, BANNER_FULL, BANNER_LEGACY, CON_ID).
fn version_row() -> Vec<(ColumnMetadata, Value)> {
    let banner = "Oracle Database 19c Enterprise Edition Release 19.0.0.0.0 - Production";
    vec![
        (
            ColumnMetadata::string("BANNER", ora_type::VARCHAR, 80),
            Value::Str(banner.to_owned()),
        ),
        (
            ColumnMetadata::string("BANNER_FULL", ora_type::VARCHAR, 160),
            Value::Str(format!("{banner}\nVersion 19.3.0.0.0")),
        ),
        (
            ColumnMetadata::string("BANNER_LEGACY", ora_type::VARCHAR, 80),
            Value::Str(banner.to_owned()),
        ),
        (
            ColumnMetadata::number("CON_ID"),
            Value::Number(Decimal::zero()),
        ),
    ]
}

fn plan_version(items: &[super::SelectItem], ctx: &EvalContext) -> Result<QueryPlan, OraError> {
    let table = version_row();
    let mut columns = Vec::new();
    let mut row = Vec::new();
    for item in items {
        match &item.expr {
            Expr::Star => {
                for (c, v) in &table {
                    columns.push(c.clone());
                    row.push(v.clone());
                }
            }
            Expr::Ident(name, off) => {
                let Some((c, v)) = table.iter().find(|(c, _)| c.name == *name) else {
                    return Err(OraError::with_args(904, &[&format!("\"{name}\"")], *off));
                };
                columns.push(ColumnMetadata {
                    name: item.name.clone(),
                    ..c.clone()
                });
                row.push(v.clone());
            }
            other => {
                if let Some((name, off)) = first_ident(other, ctx) {
                    return Err(OraError::with_args(904, &[&format!("\"{name}\"")], off));
                }
                columns.push(describe(other, &item.name, ctx));
                row.push(eval(other, 1, ctx)?);
            }
        }
    }
    Ok(QueryPlan::from_rows(columns, vec![row]))
}

/// ORA-01008 when the statement names a bind the call brought no value for.
fn every_bind_bound(stmt: &Statement, ctx: &EvalContext) -> Result<(), OraError> {
    let bound = |n: &String| ctx.binds.iter().any(|(k, _)| k == n);
    if stmt.bind_names().iter().all(bound) {
        Ok(())
    } else {
        Err(OraError::new(1008, 0))
    }
}

/// Plans a query: validates identifiers and computes the columns and the row count.
pub fn plan_query(stmt: &Statement, ctx: &EvalContext) -> Result<QueryPlan, OraError> {
    if let Statement::Version(items) = stmt {
        return plan_version(items, ctx);
    }
    if let Statement::Query(q) = stmt {
        every_bind_bound(stmt, ctx)?;
        return super::query::plan(q, ctx);
    }
    let Statement::Select {
        items,
        connect_by,
        connect_by_strict,
    } = stmt
    else {
        return Err(OraError::invalid_sql());
    };
    let mut idents: Vec<(String, usize)> = items
        .iter()
        .filter_map(|i| first_ident(&i.expr, ctx))
        .collect();
    if let Some(c) = connect_by
        && let Some(x) = first_ident(c, ctx)
    {
        idents.push(x);
    }
    if let Some((name, off)) = idents.into_iter().min_by_key(|x| x.1) {
        return Err(OraError::with_args(904, &[&format!("\"{name}\"")], off));
    }
    let has_level = items
        .iter()
        .any(|i| contains(&i.expr, &|e| *e == Expr::Level));
    let has_count = items
        .iter()
        .any(|i| contains(&i.expr, &|e| *e == Expr::CountStar));
    let total = match connect_by {
        Some(bound) => {
            let v = eval(bound, 1, ctx)?;
            let n = to_number(&v, 0)?.to_f64().floor();
            let n = if *connect_by_strict { n - 1.0 } else { n };
            if n.is_finite() && n > 1.0 {
                n.min(u64::MAX as f64) as u64
            } else {
                1
            }
        }
        None => {
            if has_level {
                return Err(OraError::new(1788, 0));
            }
            1
        }
    };
    every_bind_bound(stmt, ctx)?;
    let columns = items
        .iter()
        .map(|i| describe(&i.expr, &i.name, ctx))
        .collect();
    let exprs: Vec<Expr> = items.iter().map(|i| i.expr.clone()).collect();
    let aggregate = if has_count {
        if has_level
            && items
                .iter()
                .any(|i| !contains(&i.expr, &|e| *e == Expr::CountStar))
        {
            return Err(OraError::new(937, 7));
        }
        // The rows are walked by the engine before it answers (QueryPlan::work).
        let count_ctx = Decimal::from_i128(i128::from(total));
        Some(
            exprs
                .iter()
                .map(|e| eval_with_count(e, 1, ctx, &count_ctx))
                .collect::<Result<Vec<_>, _>>()?,
        )
    } else {
        None
    };
    let work = if aggregate.is_some() { total } else { 0 };
    Ok(QueryPlan {
        columns,
        exprs,
        total: if aggregate.is_some() { 1 } else { total },
        aggregate,
        fixed: None,
        work,
    })
}

fn to_number(v: &Value, offset: usize) -> Result<Decimal, OraError> {
    match v {
        Value::Number(d) => Ok(d.clone()),
        Value::Str(s) | Value::Clob(s) => {
            Decimal::parse(s).ok_or_else(|| OraError::new(1722, offset))
        }
        Value::Blob(_) => Err(OraError::with_args(932, &["NUMBER", "BLOB"], offset)),
        Value::Date(_) | Value::TimestampTz(_) | Value::Timestamp(_) => {
            Err(OraError::with_args(932, &["NUMBER", "DATE"], offset))
        }
        Value::Null => Ok(Decimal::zero()),
        Value::List(_) => Err(OraError::with_args(932, &["NUMBER", "COLLECTION"], offset)),
    }
}

/// Evaluates one expression with the row of `ctx` (PL/SQL and materialized queries).
pub fn eval_expr(e: &Expr, ctx: &EvalContext) -> Result<Value, OraError> {
    eval(e, ctx.level.max(1), ctx)
}

/// Column metadata of an expression (materialized queries).
pub fn describe_expr(e: &Expr, name: &str, ctx: &EvalContext) -> ColumnMetadata {
    describe(e, name, ctx)
}

/// A value as a NUMBER (ORA-01722 for text that is not one).
pub fn to_number_value(v: &Value) -> Result<Decimal, OraError> {
    to_number(v, 0)
}

fn eval(e: &Expr, level: u64, ctx: &EvalContext) -> Result<Value, OraError> {
    eval_with_count(e, level, ctx, &Decimal::zero())
}

fn eval_with_count(
    e: &Expr,
    level: u64,
    ctx: &EvalContext,
    count: &Decimal,
) -> Result<Value, OraError> {
    let ev = |x: &Expr| eval_with_count(x, level, ctx, count);
    Ok(match e {
        Expr::Number(d) => Value::Number(d.clone()),
        Expr::Str(s) => Value::Str(s.clone()),
        Expr::Star => Value::Str("X".to_owned()),
        Expr::Null => Value::Null,
        Expr::Bind(name, off) => match ctx.binds.iter().find(|(k, _)| k == name) {
            Some((_, v)) => v.clone(),
            None => return Err(OraError::new(1008, *off)),
        },
        Expr::Level => Value::Number(Decimal::from_i128(i128::from(level))),
        Expr::CountStar => Value::Number(count.clone()),
        Expr::Neg(a) => {
            let v = ev(a)?;
            if v == Value::Null {
                return Ok(Value::Null);
            }
            let mut d = to_number(&v, 0)?;
            if !d.is_zero() {
                d.negative = !d.negative;
            }
            Value::Number(d)
        }
        Expr::Bin(BinOp::Concat, a, b) => {
            let s = format!("{}{}", text_of(&ev(a)?, ctx)?, text_of(&ev(b)?, ctx)?);
            if s.is_empty() {
                Value::Null
            } else {
                Value::Str(s)
            }
        }
        Expr::Func(f, args) => {
            let vals = args.iter().map(ev).collect::<Result<Vec<_>, _>>()?;
            return call(*f, &vals, ctx);
        }
        Expr::Bin(op, a, b) => {
            let (x, y) = (ev(a)?, ev(b)?);
            if x == Value::Null || y == Value::Null {
                return Ok(Value::Null);
            }
            if let Some(v) = date_arith(*op, &x, &y)? {
                return Ok(v);
            }
            let r = arith(*op, &to_number(&x, 0)?, &to_number(&y, 0)?)?;
            if !r.is_zero() && r.point > 126 {
                return Err(OraError::new(1426, 0));
            }
            Value::Number(if r.point < -129 { Decimal::zero() } else { r })
        }
        other => return eval_other(other, level, ctx, count),
    })
}

/// The expressions that do not recurse through arithmetic, kept out of
/// [`eval_with_count`] so that its stack frame stays small: an expression of hundreds of
/// terms (`1 + 1 + ... + 1`) recurses once per term.
#[inline(never)]
fn eval_other(e: &Expr, level: u64, ctx: &EvalContext, count: &Decimal) -> Result<Value, OraError> {
    let ev = |x: &Expr| eval_with_count(x, level, ctx, count);
    Ok(match e {
        Expr::Sysdate => Value::Date(ctx.now),
        Expr::Systimestamp => Value::TimestampTz(ctx.now),
        Expr::CurrentDate => Value::Date(ctx.session_now()),
        Expr::CurrentTimestamp => Value::TimestampTz(ctx.session_now()),
        Expr::LocalTimestamp => Value::Timestamp(ctx.session_now()),
        Expr::User => Value::Str(ctx.user.clone()),
        Expr::DbTimeZone => Value::Str(format_tz_offset(DB_TIME_ZONE_MINUTES)),
        Expr::SessionTimeZone => Value::Str(format_tz_offset(ctx.tz_offset_minutes)),
        Expr::Ident(name, off) => match ctx.lookup(name) {
            Some(v) => v.clone(),
            None => {
                return Err(OraError::with_args(904, &[&format!("\"{name}\"")], *off));
            }
        },
        Expr::Rownum => Value::Number(Decimal::from_i128(i128::from(ctx.rownum))),
        Expr::Case(arms, otherwise) => {
            for (c, e) in arms {
                if super::query::test(c, ctx)? == Some(true) {
                    return ev(e);
                }
            }
            match otherwise {
                Some(e) => return ev(e),
                None => Value::Null,
            }
        }
        Expr::Cast(e, to) => cast(ev(e)?, *to, ctx)?,
        Expr::SysContext(ns, param) => {
            let ns = ev(ns)?.as_text().to_ascii_uppercase();
            let param = ev(param)?.as_text().to_ascii_uppercase();
            if ns != "USERENV" {
                let found = ctx
                    .contexts
                    .iter()
                    .find(|(n, a, _)| *n == ns && *a == param);
                return Ok(found.map_or(Value::Null, |(_, _, v)| Value::Str(v.clone())));
            }
            match ctx.userenv(&param) {
                Some("") => Value::Null,
                Some(v) => Value::Str(v.to_owned()),
                // A parameter Oracle knows but this session has no value for is NULL.
                None if USERENV_PARAMETERS.contains(&param.as_str()) => Value::Null,
                None => return Err(OraError::new(2003, 0)),
            }
        }
        _ => unreachable!("handled by eval_with_count"),
    })
}

fn date_of(v: &Value) -> Option<DateTime> {
    match v {
        Value::Date(d) | Value::Timestamp(d) | Value::TimestampTz(d) => Some(*d),
        _ => None,
    }
}

/// DATE ± days → DATE; DATE − DATE → days (NUMBER); anything else with a date → ORA-00932.
fn date_arith(op: BinOp, x: &Value, y: &Value) -> Result<Option<Value>, OraError> {
    let (dx, dy) = (date_of(x), date_of(y));
    let inconsistent = || OraError::with_args(932, &["NUMBER", "DATE"], 0);
    let add_days = |d: DateTime, days: &Decimal| {
        let (secs, nanos) = d.to_unix();
        let delta = (days.to_f64() * 86_400.0).round() as i64;
        // DATE arithmetic yields a DATE: whole seconds.
        let _ = nanos;
        Value::Date(DateTime::from_unix(secs.saturating_add(delta), 0))
    };
    Ok(match (dx, dy, op) {
        (None, None, _) => None,
        (Some(d), None, BinOp::Add) => Some(add_days(d, &to_number(y, 0)?)),
        (None, Some(d), BinOp::Add) => Some(add_days(d, &to_number(x, 0)?)),
        (Some(d), None, BinOp::Sub) => {
            let mut n = to_number(y, 0)?;
            if !n.is_zero() {
                n.negative = !n.negative;
            }
            Some(add_days(d, &n))
        }
        (Some(a), Some(b), BinOp::Sub) => {
            let (sa, _) = a.to_unix();
            let (sb, _) = b.to_unix();
            let secs = Decimal::from_i128(i128::from(sa - sb));
            Some(Value::Number(arith(
                BinOp::Div,
                &secs,
                &Decimal::from_i128(86_400),
            )?))
        }
        _ => return Err(inconsistent()),
    })
}

/// A value as text the way Oracle converts it implicitly: dates and timestamps with the
/// session's NLS formats, numbers with its decimal character.
pub fn text_of(v: &Value, ctx: &EvalContext) -> Result<String, OraError> {
    Ok(match v {
        Value::Date(d) => format::format_datetime(d, Kind::Date, &ctx.nls.date_format)?,
        Value::Timestamp(d) => {
            format::format_datetime(d, Kind::Timestamp, &ctx.nls.timestamp_format)?
        }
        Value::TimestampTz(d) => {
            format::format_datetime(d, Kind::TimestampTz, &ctx.nls.timestamp_tz_format)?
        }
        Value::Number(d) => format::number_text(d, &ctx.nls),
        other => other.as_text(),
    })
}

/// TO_CHAR, TO_NUMBER, TO_DATE, TO_TIMESTAMP and TO_TIMESTAMP_TZ with their optional
/// format and NLS parameters (see [`format`]).
fn convert(f: Func, args: &[Value], ctx: &EvalContext) -> Result<Value, OraError> {
    let value = args.first().cloned().unwrap_or(Value::Null);
    let fmt = args.get(1).map(Value::as_text);
    let nls = match args.get(2) {
        Some(p) => Cow::Owned(ctx.nls.with_param(&p.as_text())?),
        None => Cow::Borrowed(&*ctx.nls),
    };
    let text = |t: String| {
        if t.is_empty() {
            Value::Null
        } else {
            Value::Str(t)
        }
    };
    let kind_of = |v: &Value| match v {
        Value::Date(d) => Some((Kind::Date, *d)),
        Value::Timestamp(d) => Some((Kind::Timestamp, *d)),
        Value::TimestampTz(d) => Some((Kind::TimestampTz, *d)),
        _ => None,
    };
    Ok(match f {
        Func::ToChar => match (&value, kind_of(&value), fmt) {
            (_, Some((kind, d)), fmt) => {
                let fmt = fmt.unwrap_or_else(|| nls.default_format(kind).to_owned());
                text(format::format_datetime(&d, kind, &fmt)?)
            }
            (Value::Number(d), _, Some(fmt)) => text(format::format_number(d, &fmt, &nls)?),
            (Value::Number(d), _, None) => text(format::number_text(d, &nls)),
            (Value::Str(s) | Value::Clob(s), _, Some(fmt)) => {
                let d = format::parse_number_plain(s, &nls)?;
                text(format::format_number(&d, &fmt, &nls)?)
            }
            (v, _, _) => text(v.as_text()),
        },
        Func::ToNumber => match (&value, fmt) {
            (Value::Number(d), _) => Value::Number(d.clone()),
            (Value::Str(s) | Value::Clob(s), Some(fmt)) => {
                Value::Number(format::parse_number(s, &fmt, &nls)?)
            }
            (Value::Str(s) | Value::Clob(s), None) => {
                Value::Number(format::parse_number_plain(s, &nls)?)
            }
            (v, _) => Value::Number(to_number(v, 0)?),
        },
        _ => {
            let kind = match f {
                Func::ToDate => Kind::Date,
                Func::ToTimestamp => Kind::Timestamp,
                _ => Kind::TimestampTz,
            };
            let source = match &value {
                Value::Str(s) | Value::Clob(s) => s.clone(),
                v => text_of(v, ctx)?,
            };
            let fmt = fmt.unwrap_or_else(|| nls.default_format(kind).to_owned());
            let (d, zone) = format::parse_datetime_zone(&source, &fmt, kind, &ctx.now)?;
            match kind {
                Kind::Date => Value::Date(DateTime { nanos: 0, ..d }),
                Kind::Timestamp => Value::Timestamp(d),
                // A string without a zone is in the session's time zone.
                Kind::TimestampTz => Value::TimestampTz(DateTime {
                    offset_minutes: zone.unwrap_or(ctx.tz_offset_minutes),
                    ..d
                }),
            }
        }
    })
}

/// The built-in functions.
fn call(f: Func, args: &[Value], ctx: &EvalContext) -> Result<Value, OraError> {
    let arg = |i: usize| args.get(i).cloned().unwrap_or(Value::Null);
    let null_in = args.contains(&Value::Null);
    let s = |t: String| {
        if t.is_empty() {
            Value::Null
        } else {
            Value::Str(t)
        }
    };
    Ok(match f {
        Func::Nvl => match arg(0) {
            Value::Null => arg(1),
            v => v,
        },
        Func::Nvl2 => match arg(0) {
            Value::Null => arg(2),
            _ => arg(1),
        },
        Func::Coalesce => args
            .iter()
            .find(|v| **v != Value::Null)
            .cloned()
            .unwrap_or(Value::Null),
        Func::Decode => {
            let subject = arg(0);
            let pairs = &args[1..];
            for pair in pairs.chunks(2) {
                if let [search, result] = pair {
                    let equal = match (&subject, search) {
                        // DECODE treats two NULLs as equal.
                        (Value::Null, Value::Null) => true,
                        (a, b) => super::query::compare(a, b)? == Some(std::cmp::Ordering::Equal),
                    };
                    if equal {
                        return Ok(result.clone());
                    }
                }
            }
            if pairs.len() % 2 == 1 {
                pairs.last().cloned().unwrap_or(Value::Null)
            } else {
                Value::Null
            }
        }
        _ if null_in => Value::Null,
        Func::ToChar | Func::ToNumber | Func::ToDate | Func::ToTimestamp | Func::ToTimestampTz => {
            return convert(f, args, ctx);
        }
        Func::ToClob => match arg(0) {
            Value::Null => Value::Null,
            Value::Blob(_) => return Err(OraError::with_args(932, &["CLOB", "BLOB"], 0)),
            v => match v.as_text() {
                t if t.is_empty() => Value::Null,
                t => Value::Clob(t),
            },
        },
        Func::Substr => {
            let text: Vec<char> = arg(0).as_text().chars().collect();
            let len = i64::try_from(text.len()).unwrap_or(i64::MAX);
            let start = to_number(&arg(1), 0)?.to_f64().trunc() as i64;
            // 0 counts as 1; negative counts from the end.
            let from = match start {
                0 => 0,
                n if n > 0 => n - 1,
                n => len + n,
            };
            let count = match args.get(2) {
                Some(v) => to_number(v, 0)?.to_f64().trunc() as i64,
                None => len,
            };
            if from < 0 || from >= len || count < 1 {
                Value::Null
            } else {
                let end = from.saturating_add(count).min(len);
                let a = usize::try_from(from).unwrap_or(0);
                let b = usize::try_from(end).unwrap_or(0);
                s(text[a..b].iter().collect())
            }
        }
        Func::Upper => s(arg(0).as_text().to_uppercase()),
        Func::Lower => s(arg(0).as_text().to_lowercase()),
        Func::Length => Value::Number(Decimal::from_i128(
            i128::try_from(arg(0).as_text().chars().count()).unwrap_or(0),
        )),
        Func::Abs => {
            let mut d = to_number(&arg(0), 0)?;
            d.negative = false;
            Value::Number(d)
        }
        Func::Round | Func::Trunc => {
            let d = to_number(&arg(0), 0)?;
            let places = match args.get(1) {
                Some(p) => to_number(p, 0)?.to_f64().trunc() as i32,
                None => 0,
            };
            Value::Number(round_decimal(&d, places.clamp(-126, 126), f == Func::Round))
        }
        Func::Mod => {
            let (m, n) = (to_number(&arg(0), 0)?, to_number(&arg(1), 0)?);
            if n.is_zero() {
                Value::Number(m)
            } else {
                let q = round_decimal(&arith(BinOp::Div, &m, &n)?, 0, false);
                Value::Number(arith(BinOp::Sub, &m, &arith(BinOp::Mul, &n, &q)?)?)
            }
        }
    })
}

/// `CAST(v AS type)`: ORA-01722 for text that is no number, ORA-25137 for a value too long
/// for VARCHAR2(n) / CHAR(n).
fn cast(v: Value, to: CastTo, ctx: &EvalContext) -> Result<Value, OraError> {
    if v == Value::Null {
        return Ok(Value::Null);
    }
    Ok(match to {
        CastTo::Number => Value::Number(to_number(&v, 0)?),
        CastTo::Date => match v {
            Value::Date(_) => v,
            Value::Timestamp(d) | Value::TimestampTz(d) => Value::Date(DateTime { nanos: 0, ..d }),
            Value::Str(s) => Value::Date(format::parse_datetime(
                &s,
                &ctx.nls.date_format,
                Kind::Date,
                &ctx.now,
            )?),
            _ => return Err(OraError::with_args(932, &["DATE", "NUMBER"], 0)),
        },
        CastTo::Varchar2(n) | CastTo::Char(n) => {
            let text = text_of(&v, ctx)?;
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            if text.len() > n {
                return Err(OraError::new(25137, 0));
            }
            match to {
                CastTo::Char(_) => Value::Str(format!("{text:<n$}")),
                _ => Value::Str(text),
            }
        }
    })
}

/// Rounds (half away from zero) or truncates to `places` decimal places.
fn round_decimal(d: &Decimal, places: i32, round: bool) -> Decimal {
    if d.is_zero() {
        return d.clone();
    }
    // Digits kept: those before the point plus `places`.
    let keep = d.point + places;
    if keep >= i32::try_from(d.digits.len()).unwrap_or(i32::MAX) {
        return d.clone();
    }
    if keep < 0 {
        return Decimal::zero();
    }
    let keep_us = usize::try_from(keep).unwrap_or(0);
    let mut digits: Vec<u8> = d.digits[..keep_us].to_vec();
    let mut point = d.point;
    if round && d.digits.get(keep_us).is_some_and(|&x| x >= 5) && add_one_ulp(&mut digits) {
        point += 1;
    }
    let text: String = digits.iter().map(|x| char::from(b'0' + x)).collect();
    let sign = if d.negative { "-" } else { "" };
    if text.is_empty() {
        return Decimal::zero();
    }
    Decimal::parse(&format!("{sign}.{text}e{point}")).unwrap_or_else(Decimal::zero)
}

/// (mantissa, scale): value = mantissa × 10^-scale.
fn scaled(d: &Decimal) -> Option<(i128, i32)> {
    let mut m: i128 = 0;
    for &x in &d.digits {
        m = m.checked_mul(10)?.checked_add(i128::from(x))?;
    }
    let scale = i32::try_from(d.digits.len()).ok()? - d.point;
    Some((if d.negative { -m } else { m }, scale))
}

fn from_scaled(m: i128, scale: i32) -> Decimal {
    Decimal::parse(&format!("{m}e{}", -scale)).unwrap_or_else(Decimal::zero)
}

fn pow10(n: i32) -> Option<i128> {
    10i128.checked_pow(u32::try_from(n).ok()?)
}

fn arith(op: BinOp, a: &Decimal, b: &Decimal) -> Result<Decimal, OraError> {
    let float = |x: f64| Decimal::from_f64(x).unwrap_or_else(Decimal::zero);
    if op == BinOp::Div {
        if b.is_zero() {
            return Err(OraError::new(1476, 0));
        }
        return Ok(divide(a, b).unwrap_or_else(|| float(a.to_f64() / b.to_f64())));
    }
    let exact = (|| {
        let (ma, sa) = scaled(a)?;
        let (mb, sb) = scaled(b)?;
        match op {
            BinOp::Mul => Some(from_scaled(ma.checked_mul(mb)?, sa + sb)),
            _ => {
                let s = sa.max(sb);
                let ma = ma.checked_mul(pow10(s - sa)?)?;
                let mb = mb.checked_mul(pow10(s - sb)?)?;
                let m = if op == BinOp::Add {
                    ma.checked_add(mb)?
                } else {
                    ma.checked_sub(mb)?
                };
                Some(from_scaled(m, s))
            }
        }
    })();
    Ok(exact.unwrap_or_else(|| {
        let (x, y) = (a.to_f64(), b.to_f64());
        float(match op {
            BinOp::Add => x + y,
            BinOp::Sub => x - y,
            _ => x * y,
        })
    }))
}

/// Long division to 40 significant digits (rounded), like Oracle's NUMBER division.
fn divide(a: &Decimal, b: &Decimal) -> Option<Decimal> {
    let (ma, sa) = scaled(a)?;
    let (mb, sb) = scaled(b)?;
    let negative = (ma < 0) != (mb < 0);
    let (x, y) = (ma.unsigned_abs(), mb.unsigned_abs());
    let int_part = (x / y).to_string();
    let mut rem = x % y;
    let mut digits: Vec<u8> = int_part.bytes().map(|c| c - b'0').collect();
    let point = i32::try_from(digits.len()).ok()?;
    let significant = |d: &[u8]| d.iter().skip_while(|&&v| v == 0).count();
    while rem != 0 && significant(&digits) < 41 {
        let r10 = rem.checked_mul(10)?;
        digits.push(u8::try_from(r10 / y).ok()?);
        rem = r10 % y;
    }
    if significant(&digits) > 40 {
        let last = digits.pop().unwrap_or(0);
        if last >= 5 && add_one_ulp(&mut digits) {
            return build(negative, &digits, point + 1, sb - sa);
        }
    }
    build(negative, &digits, point, sb - sa)
}

fn build(negative: bool, digits: &[u8], point: i32, exp10: i32) -> Option<Decimal> {
    let text: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
    let p = usize::try_from(point).ok()?.min(text.len());
    let (i, f) = text.split_at(p);
    let sign = if negative { "-" } else { "" };
    Decimal::parse(&format!(
        "{sign}{}.{f}e{exp10}",
        if i.is_empty() { "0" } else { i }
    ))
}

/// Adds one unit in the last place of a decimal digit string (rounding up), carrying left;
/// true when the carry ran out of digits and a leading 1 was added (the point moves right).
fn add_one_ulp(digits: &mut Vec<u8>) -> bool {
    for d in digits.iter_mut().rev() {
        if *d == 9 {
            *d = 0;
        } else {
            *d += 1;
            return false;
        }
    }
    digits.insert(0, 1);
    true
}
