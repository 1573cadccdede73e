//! Queries beyond one select list on DUAL: `WHERE` conditions (comparisons, `AND`/`OR`/
//! `NOT`, `IS [NOT] NULL`, `[NOT] IN (...)`, `[NOT] BETWEEN`, `[NOT] LIKE`) with binds
//! anywhere, `ROWNUM`, a subquery in `FROM` (its columns referenced by name), the
//! dictionary views drivers read at start-up (`NLS_SESSION_PARAMETERS`,
//! `NLS_DATABASE_PARAMETERS`, `NLS_INSTANCE_PARAMETERS`), `UNION [ALL]` / `MINUS` /
//! `INTERSECT` and `ORDER BY`. Such a query is materialized when it runs, at most
//! [`MAX_ROWS`] rows (beyond that Oracle's temp-space error): the plain
//! `SELECT ... FROM DUAL CONNECT BY LEVEL <= n` stays lazy in [`super::eval`].

use std::cmp::Ordering;

use tns::ttc::message::ColumnMetadata;
use tns::ttc::types::ora_type;

use super::eval::{EvalContext, QueryPlan, Value, describe_expr, eval_expr};
use super::{Expr, OraError, SelectItem};

/// Rows a materialized query may hold.
pub const MAX_ROWS: u64 = 1_000_000;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `<>`, `!=`, `^=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A condition (`WHERE`, `CASE WHEN`).
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    /// `a op b`.
    Cmp(Expr, CmpOp, Expr),
    /// `e IS [NOT] NULL` (true: NOT).
    IsNull(Expr, bool),
    /// `e [NOT] IN (list)`.
    In(Expr, Vec<Expr>, bool),
    /// `e [NOT] BETWEEN a AND b`.
    Between(Expr, Expr, Expr, bool),
    /// `e [NOT] LIKE pattern`.
    Like(Expr, Expr, bool),
    /// `a AND b`.
    And(Box<Cond>, Box<Cond>),
    /// `a OR b`.
    Or(Box<Cond>, Box<Cond>),
    /// `NOT a`.
    Not(Box<Cond>),
    /// PL/SQL's `TRUE` / `FALSE` as a condition (`WHILE TRUE LOOP`).
    Const(bool),
}

/// What a query block reads.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// DUAL (one row, or `CONNECT BY LEVEL` rows).
    Dual,
    /// A subquery in FROM.
    Sub(Box<Query>),
    /// A dictionary view of fixed rows.
    Table(Dictionary),
}

/// The dictionary views answered from fixed rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dictionary {
    /// NLS_SESSION_PARAMETERS.
    NlsSession,
    /// NLS_DATABASE_PARAMETERS.
    NlsDatabase,
    /// NLS_INSTANCE_PARAMETERS.
    NlsInstance,
}

impl Dictionary {
    /// The view a name (upper case, maybe `SYS.`-qualified) denotes.
    pub fn from_name(name: &str) -> Option<Dictionary> {
        let n = name.strip_prefix("SYS.").unwrap_or(name);
        Some(match n {
            "NLS_SESSION_PARAMETERS" => Dictionary::NlsSession,
            "NLS_DATABASE_PARAMETERS" => Dictionary::NlsDatabase,
            "NLS_INSTANCE_PARAMETERS" => Dictionary::NlsInstance,
            _ => return None,
        })
    }

    fn columns(self) -> Vec<ColumnMetadata> {
        let width = if self == Dictionary::NlsSession {
            30
        } else {
            128
        };
        let mut cols = vec![
            ColumnMetadata::string("PARAMETER", ora_type::VARCHAR, width),
            ColumnMetadata::string("VALUE", ora_type::VARCHAR, 64),
        ];
        if self == Dictionary::NlsSession {
            cols.push(ColumnMetadata::number("CON_ID"));
        }
        cols
    }

    /// The rows; NLS_SESSION_PARAMETERS shows the session's own settings (`nls`).
    fn rows(self, nls: &super::format::Nls) -> Vec<Vec<Value>> {
        const SESSION: [(&str, &str); 17] = [
            ("NLS_LANGUAGE", "AMERICAN"),
            ("NLS_TERRITORY", "AMERICA"),
            ("NLS_CURRENCY", "$"),
            ("NLS_ISO_CURRENCY", "AMERICA"),
            ("NLS_NUMERIC_CHARACTERS", ".,"),
            ("NLS_CALENDAR", "GREGORIAN"),
            ("NLS_DATE_FORMAT", "DD-MON-RR"),
            ("NLS_DATE_LANGUAGE", "AMERICAN"),
            ("NLS_SORT", "BINARY"),
            ("NLS_TIME_FORMAT", "HH.MI.SSXFF AM"),
            ("NLS_TIMESTAMP_FORMAT", "DD-MON-RR HH.MI.SSXFF AM"),
            ("NLS_TIME_TZ_FORMAT", "HH.MI.SSXFF AM TZR"),
            ("NLS_TIMESTAMP_TZ_FORMAT", "DD-MON-RR HH.MI.SSXFF AM TZR"),
            ("NLS_DUAL_CURRENCY", "$"),
            ("NLS_COMP", "BINARY"),
            ("NLS_LENGTH_SEMANTICS", "BYTE"),
            ("NLS_NCHAR_CONV_EXCP", "FALSE"),
        ];
        const DATABASE: [(&str, &str); 3] = [
            ("NLS_CHARACTERSET", "AL32UTF8"),
            ("NLS_NCHAR_CHARACTERSET", "AL16UTF16"),
            ("NLS_RDBMS_VERSION", "19.0.0.0.0"),
        ];
        let text = |s: &str| Value::Str(s.to_owned());
        match self {
            Dictionary::NlsSession => SESSION
                .iter()
                .map(|(p, v)| {
                    let numeric = format!("{}{}", nls.decimal, nls.group);
                    let v = match *p {
                        "NLS_DATE_FORMAT" => nls.date_format.as_str(),
                        "NLS_TIMESTAMP_FORMAT" => nls.timestamp_format.as_str(),
                        "NLS_TIMESTAMP_TZ_FORMAT" => nls.timestamp_tz_format.as_str(),
                        "NLS_NUMERIC_CHARACTERS" => numeric.as_str(),
                        "NLS_CURRENCY" => nls.currency.as_str(),
                        _ => v,
                    };
                    vec![
                        text(p),
                        text(v),
                        Value::Number(tns::ttc::types::Decimal::zero()),
                    ]
                })
                .collect(),
            Dictionary::NlsDatabase => SESSION
                .iter()
                .chain(DATABASE.iter())
                .map(|(p, v)| vec![text(p), text(v)])
                .collect(),
            Dictionary::NlsInstance => SESSION
                .iter()
                .map(|(p, _)| vec![text(p), Value::Null])
                .collect(),
        }
    }
}

/// One query block: `SELECT items FROM source [WHERE cond] [CONNECT BY LEVEL <= n]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// Select list.
    pub items: Vec<SelectItem>,
    /// FROM.
    pub source: Source,
    /// WHERE.
    pub filter: Option<Cond>,
    /// `CONNECT BY LEVEL <= n` bound on DUAL (inclusive unless `strict`).
    pub connect_by: Option<Expr>,
    /// `<` instead of `<=`.
    pub strict: bool,
}

/// A set operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOp {
    /// UNION ALL.
    UnionAll,
    /// UNION.
    Union,
    /// MINUS.
    Minus,
    /// INTERSECT.
    Intersect,
}

/// An ORDER BY key.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderKey {
    /// A select-list position (1-based) and its offset.
    Position(usize, usize),
    /// An expression (a column name, an alias, ...).
    Expr(Expr),
}

/// A query: blocks joined by set operators, then ORDER BY.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The first block.
    pub first: Block,
    /// The blocks after set operators.
    pub rest: Vec<(SetOp, Block)>,
    /// ORDER BY keys, descending when true.
    pub order: Vec<(OrderKey, bool)>,
}

impl Query {
    /// Every expression of the query, in text order of the blocks (for bind names).
    pub fn exprs(&self, f: &mut dyn FnMut(&Expr)) {
        for b in std::iter::once(&self.first).chain(self.rest.iter().map(|(_, b)| b)) {
            for i in &b.items {
                f(&i.expr);
            }
            if let Source::Sub(q) = &b.source {
                q.exprs(f);
            }
            if let Some(c) = &b.filter {
                c.exprs(f);
            }
            if let Some(e) = &b.connect_by {
                f(e);
            }
        }
        for (k, _) in &self.order {
            if let OrderKey::Expr(e) = k {
                f(e);
            }
        }
    }
}

impl Cond {
    /// Calls `f` with each expression of the condition.
    pub fn exprs(&self, f: &mut dyn FnMut(&Expr)) {
        match self {
            Cond::Cmp(a, _, b) | Cond::Like(a, b, _) => {
                f(a);
                f(b);
            }
            Cond::IsNull(a, _) => f(a),
            Cond::In(a, list, _) => {
                f(a);
                list.iter().for_each(&mut *f);
            }
            Cond::Between(a, b, c, _) => {
                f(a);
                f(b);
                f(c);
            }
            Cond::And(a, b) | Cond::Or(a, b) => {
                a.exprs(f);
                b.exprs(f);
            }
            Cond::Not(a) => a.exprs(f),
            Cond::Const(_) => {}
        }
    }
}

/// Oracle's comparison of two values: NULL is unknown (`None`); numbers numerically, dates
/// by time, text by bytes; text against a number converts the text (ORA-01722).
pub fn compare(a: &Value, b: &Value) -> Result<Option<Ordering>, OraError> {
    use Value::{Date, List, Null, Number, Str, Timestamp, TimestampTz};
    Ok(match (a, b) {
        (Null, _) | (_, Null) | (List(_), _) | (_, List(_)) => None,
        (Number(x), Number(y)) => x.to_f64().partial_cmp(&y.to_f64()),
        (Number(x), Str(s)) | (Str(s), Number(x)) => {
            let y = s
                .trim()
                .parse::<f64>()
                .map_err(|_| OraError::new(1722, 0))?;
            let o = x.to_f64().partial_cmp(&y);
            if matches!(a, Str(_)) {
                o.map(Ordering::reverse)
            } else {
                o
            }
        }
        (Str(x), Str(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (Date(x) | Timestamp(x) | TimestampTz(x), Date(y) | Timestamp(y) | TimestampTz(y)) => {
            Some(x.to_unix().cmp(&y.to_unix()))
        }
        _ => return Err(OraError::with_args(932, &["NUMBER", "DATE"], 0)),
    })
}

/// `LIKE` with `%` and `_`, without recursion (a pattern is client text of any length):
/// on a mismatch after a `%`, that `%` takes one character more and matching goes on
/// from there, so each (pattern, text) position pair is visited at most once per `%`.
fn like(text: &str, pattern: &str) -> bool {
    let t: Vec<char> = text.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    let (mut ti, mut pi) = (0, 0);
    // The pattern position after the last `%` seen and the text position it matched up to.
    let mut last_percent: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('%') => {
                pi += 1;
                last_percent = Some((pi, ti));
            }
            Some(c) if *c == '_' || *c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match last_percent {
                Some((after, upto)) => {
                    pi = after;
                    ti = upto + 1;
                    last_percent = Some((after, upto + 1));
                }
                None => return false,
            },
        }
    }
    p[pi.min(p.len())..].iter().all(|c| *c == '%')
}

/// Three-valued evaluation of a condition.
pub fn test(c: &Cond, ctx: &EvalContext) -> Result<Option<bool>, OraError> {
    let ev = |e: &Expr| eval_expr(e, ctx);
    Ok(match c {
        Cond::Cmp(a, op, b) => compare(&ev(a)?, &ev(b)?)?.map(|o| match op {
            CmpOp::Eq => o == Ordering::Equal,
            CmpOp::Ne => o != Ordering::Equal,
            CmpOp::Lt => o == Ordering::Less,
            CmpOp::Le => o != Ordering::Greater,
            CmpOp::Gt => o == Ordering::Greater,
            CmpOp::Ge => o != Ordering::Less,
        }),
        Cond::IsNull(a, not) => {
            let v = ev(a)?;
            let null = v == Value::Null || v == Value::Str(String::new());
            Some(null != *not)
        }
        Cond::In(a, list, not) => {
            let v = ev(a)?;
            let mut unknown = false;
            let mut found = false;
            for e in list {
                match compare(&v, &ev(e)?)? {
                    Some(Ordering::Equal) => found = true,
                    None => unknown = true,
                    _ => {}
                }
            }
            if found {
                Some(!*not)
            } else if unknown {
                None
            } else {
                Some(*not)
            }
        }
        Cond::Between(a, lo, hi, not) => {
            let v = ev(a)?;
            let ge = compare(&v, &ev(lo)?)?.map(|o| o != Ordering::Less);
            let le = compare(&v, &ev(hi)?)?.map(|o| o != Ordering::Greater);
            and(ge, le).map(|b| b != *not)
        }
        Cond::Like(a, p, not) => match (ev(a)?, ev(p)?) {
            (Value::Null, _) | (_, Value::Null) => None,
            (x, y) => Some(like(&x.as_text(), &y.as_text()) != *not),
        },
        Cond::And(a, b) => {
            let x = test(a, ctx)?;
            if x == Some(false) {
                return Ok(Some(false));
            }
            and(x, test(b, ctx)?)
        }
        Cond::Or(a, b) => {
            let x = test(a, ctx)?;
            if x == Some(true) {
                return Ok(Some(true));
            }
            match (x, test(b, ctx)?) {
                (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            }
        }
        Cond::Not(a) => test(a, ctx)?.map(|b| !b),
        Cond::Const(b) => Some(*b),
    })
}

fn and(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

/// Rows of one block's source: (column names and metadata, rows, LEVEL of each row).
type Rows = (Vec<ColumnMetadata>, Vec<Vec<Value>>, Vec<u64>);

fn source_rows(b: &Block, ctx: &EvalContext) -> Result<Rows, OraError> {
    match &b.source {
        Source::Dual => {
            let n = match &b.connect_by {
                Some(e) => {
                    let v = eval_expr(e, ctx)?;
                    let n = match v {
                        Value::Null => 1.0,
                        v => super::eval::to_number_value(&v)?.to_f64().floor(),
                    };
                    let n = if b.strict { n - 1.0 } else { n };
                    if n.is_finite() && n > 1.0 {
                        n.min(u64::MAX as f64) as u64
                    } else {
                        1
                    }
                }
                None => 1,
            };
            if n > MAX_ROWS {
                return Err(temp_space());
            }
            let dummy = ColumnMetadata::string("DUMMY", ora_type::VARCHAR, 1);
            Ok((
                vec![dummy],
                (0..n).map(|_| vec![Value::Str("X".to_owned())]).collect(),
                (1..=n).collect(),
            ))
        }
        Source::Sub(q) => {
            let (cols, rows) = materialize(q, ctx)?;
            let levels = vec![1; rows.len()];
            Ok((cols, rows, levels))
        }
        Source::Table(t) => {
            let rows = t.rows(&ctx.nls);
            let levels = vec![1; rows.len()];
            Ok((t.columns(), rows, levels))
        }
    }
}

fn temp_space() -> OraError {
    OraError::with_args(1652, &["128", "TEMP"], 0)
}

/// Makes `c` the context of one source row: its columns by name, its LEVEL and ROWNUM
/// (one context serves every row of a block; nothing else of it changes between rows).
fn set_row(c: &mut EvalContext, cols: &[ColumnMetadata], row: &[Value], level: u64, rownum: u64) {
    c.columns = cols
        .iter()
        .zip(row)
        .map(|(m, v)| (m.name.clone(), v.clone()))
        .collect();
    c.level = level;
    c.rownum = rownum;
}

fn block_rows(
    b: &Block,
    ctx: &EvalContext,
) -> Result<(Vec<ColumnMetadata>, Vec<Vec<Value>>), OraError> {
    let (src_cols, rows, levels) = source_rows(b, ctx)?;
    let count_only = b.items.iter().all(|i| i.expr == Expr::CountStar);
    let mut out_cols: Option<Vec<ColumnMetadata>> = None;
    let mut out = Vec::new();
    let mut rownum = 0u64;
    let describe_items = |c: &EvalContext| -> Vec<ColumnMetadata> {
        let mut cols = Vec::new();
        for i in &b.items {
            match &i.expr {
                Expr::Star => cols.extend(src_cols.iter().cloned()),
                Expr::Ident(n, _) => {
                    let short = n.rsplit('.').next().unwrap_or(n);
                    match src_cols.iter().find(|m| m.name == *n || m.name == short) {
                        Some(m) => cols.push(ColumnMetadata {
                            name: i.name.clone(),
                            ..m.clone()
                        }),
                        None => cols.push(describe_expr(&i.expr, &i.name, c)),
                    }
                }
                e => cols.push(describe_expr(e, &i.name, c)),
            }
        }
        cols
    };
    let mut c = ctx.clone();
    for (row, level) in rows.iter().zip(&levels) {
        set_row(&mut c, &src_cols, row, *level, rownum + 1);
        if let Some(f) = &b.filter
            && test(f, &c)? != Some(true)
        {
            continue;
        }
        rownum += 1;
        if count_only {
            continue;
        }
        let mut values = Vec::new();
        for i in &b.items {
            match &i.expr {
                Expr::Star => values.extend(row.iter().cloned()),
                e => values.push(eval_expr(e, &c)?),
            }
        }
        if out_cols.is_none() {
            out_cols = Some(describe_items(&c));
        }
        out.push(values);
    }
    if count_only {
        let cols = b
            .items
            .iter()
            .map(|i| ColumnMetadata::number(&i.name))
            .collect();
        let n = Value::Number(tns::ttc::types::Decimal::from_i128(i128::from(rownum)));
        return Ok((cols, vec![vec![n; b.items.len()]]));
    }
    let cols = match out_cols {
        Some(c) => c,
        None => {
            // No row: the columns still resolve (ORA-00904 for a name that is not there).
            let empty: Vec<Value> = src_cols.iter().map(|_| Value::Null).collect();
            set_row(&mut c, &src_cols, &empty, 1, 1);
            for i in &b.items {
                if !matches!(i.expr, Expr::Star) {
                    eval_expr(&i.expr, &c)?;
                }
            }
            describe_items(&c)
        }
    };
    Ok((cols, out))
}

fn same_type(a: &ColumnMetadata, b: &ColumnMetadata) -> bool {
    let class = |t: u8| match t {
        ora_type::NUMBER | ora_type::BINARY_DOUBLE | ora_type::BINARY_FLOAT => 0,
        ora_type::VARCHAR | ora_type::CHAR | ora_type::LONG => 1,
        ora_type::DATE | ora_type::TIMESTAMP | ora_type::TIMESTAMP_TZ | ora_type::TIMESTAMP_LTZ => {
            2
        }
        other => u32::from(other) + 10,
    };
    class(a.ora_type) == class(b.ora_type)
}

fn cmp_rows(a: &[Value], b: &[Value]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = match (x, y) {
            (Value::Null, Value::Null) => Ordering::Equal,
            // NULLs sort last, as Oracle's ascending order does.
            (Value::Null, _) => Ordering::Greater,
            (_, Value::Null) => Ordering::Less,
            _ => compare(x, y).ok().flatten().unwrap_or(Ordering::Equal),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// Runs a query: its columns and all its rows.
pub fn materialize(
    q: &Query,
    ctx: &EvalContext,
) -> Result<(Vec<ColumnMetadata>, Vec<Vec<Value>>), OraError> {
    let (mut cols, mut rows) = block_rows(&q.first, ctx)?;
    for (op, b) in &q.rest {
        let (c2, r2) = block_rows(b, ctx)?;
        if c2.len() != cols.len() {
            return Err(OraError::new(1789, 0));
        }
        if cols.iter().zip(&c2).any(|(a, b)| !same_type(a, b)) {
            return Err(OraError::new(1790, 0));
        }
        for (a, b) in cols.iter_mut().zip(&c2) {
            a.max_size = a.max_size.max(b.max_size);
            a.buffer_size = a.buffer_size.max(b.buffer_size);
        }
        match op {
            SetOp::UnionAll => rows.extend(r2),
            SetOp::Union => {
                rows.extend(r2);
                rows.sort_by(|a, b| cmp_rows(a, b));
                rows.dedup_by(|a, b| cmp_rows(a, b) == Ordering::Equal);
            }
            SetOp::Minus | SetOp::Intersect => {
                let keep_present = *op == SetOp::Intersect;
                rows.retain(|r| {
                    r2.iter().any(|x| cmp_rows(r, x) == Ordering::Equal) == keep_present
                });
                rows.sort_by(|a, b| cmp_rows(a, b));
                rows.dedup_by(|a, b| cmp_rows(a, b) == Ordering::Equal);
            }
        }
        if rows.len() as u64 > MAX_ROWS {
            return Err(temp_space());
        }
    }
    if !q.order.is_empty() {
        let mut keys = Vec::new();
        for (k, desc) in &q.order {
            let ix = match k {
                OrderKey::Position(n, at) => {
                    if *n == 0 || *n > cols.len() {
                        return Err(OraError::new(1785, *at));
                    }
                    n - 1
                }
                OrderKey::Expr(Expr::Ident(name, at)) => {
                    let short = name.rsplit('.').next().unwrap_or(name);
                    cols.iter()
                        .position(|c| c.name == *name || c.name == short)
                        .ok_or_else(|| OraError::with_args(904, &[&format!("\"{name}\"")], *at))?
                }
                OrderKey::Expr(_) => return Err(OraError::new(1785, 0)),
            };
            keys.push((ix, *desc));
        }
        rows.sort_by(|a, b| {
            for (ix, desc) in &keys {
                let o = cmp_rows(&a[*ix..=*ix], &b[*ix..=*ix]);
                let o = if *desc { o.reverse() } else { o };
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        });
    }
    Ok((cols, rows))
}

/// Plans a query by running it (the rows are then fetched from memory).
pub fn plan(q: &Query, ctx: &EvalContext) -> Result<QueryPlan, OraError> {
    let (cols, rows) = materialize(q, ctx)?;
    Ok(QueryPlan::from_rows(cols, rows))
}
