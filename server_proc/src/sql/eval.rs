//! Evaluation of the SQL subset: column metadata exactly as Oracle describes it, and rows
//! produced lazily (a `CONNECT BY LEVEL <= 1000000` query is never materialised; the cursor
//! asks for row *n* when the client fetches it).

use tns::ttc::message::ColumnMetadata;
use tns::ttc::types::{DateTime, Decimal, ora_type};

use super::{BinOp, Expr, OraError, Statement};

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
}

impl EvalContext {
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
        }
    }

    fn as_text(&self) -> String {
        match self {
            Value::Number(d) => d.to_string(),
            Value::Str(s) => s.clone(),
            Value::Null => String::new(),
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
                .ok_or_else(|| OraError::new(1002, "fetch out of sequence", 0));
        }
        if let Some(agg) = &self.aggregate {
            return Ok(agg.clone());
        }
        self.exprs.iter().map(|e| eval(e, index + 1, ctx)).collect()
    }
}

fn contains(e: &Expr, pred: &dyn Fn(&Expr) -> bool) -> bool {
    if pred(e) {
        return true;
    }
    match e {
        Expr::Neg(a) => contains(a, pred),
        Expr::Bin(_, a, b) | Expr::SysContext(a, b) => contains(a, pred) || contains(b, pred),
        _ => false,
    }
}

fn first_ident(e: &Expr) -> Option<(String, usize)> {
    match e {
        Expr::Ident(n, off) => Some((n.clone(), *off)),
        Expr::Neg(a) => first_ident(a),
        Expr::Bin(_, a, b) | Expr::SysContext(a, b) => {
            let x = first_ident(a);
            let y = first_ident(b);
            match (x, y) {
                (Some(x), Some(y)) => Some(if x.1 <= y.1 { x } else { y }),
                (x, y) => x.or(y),
            }
        }
        _ => None,
    }
}

/// Column metadata of an expression.
fn describe(e: &Expr, name: &str, ctx: &EvalContext) -> ColumnMetadata {
    match e {
        Expr::Bind(n, _) => match ctx.binds.iter().find(|(k, _)| k == n).map(|(_, v)| v) {
            Some(Value::Str(_)) => ColumnMetadata::string(name, ora_type::VARCHAR, 4000),
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
        Expr::Sysdate => ColumnMetadata::date(name),
        Expr::Systimestamp => ColumnMetadata::timestamp_tz(name),
        _ => ColumnMetadata::number(name),
    }
}

fn is_numeric(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Number(_) | Expr::Level | Expr::CountStar | Expr::Neg(_)
    ) || matches!(e, Expr::Bin(op, ..) if *op != BinOp::Concat)
}

/// Plans a query: validates identifiers and computes the columns and the row count.
pub fn plan_query(stmt: &Statement, ctx: &EvalContext) -> Result<QueryPlan, OraError> {
    let Statement::Select {
        items,
        connect_by,
        connect_by_strict,
    } = stmt
    else {
        return Err(OraError::invalid_sql());
    };
    let mut idents: Vec<(String, usize)> =
        items.iter().filter_map(|i| first_ident(&i.expr)).collect();
    if let Some(c) = connect_by
        && let Some(x) = first_ident(c)
    {
        idents.push(x);
    }
    if let Some((name, off)) = idents.into_iter().min_by_key(|x| x.1) {
        return Err(OraError::new(
            904,
            format!("\"{name}\": invalid identifier"),
            off,
        ));
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
                return Err(OraError::new(
                    1788,
                    "CONNECT BY clause required in this query block",
                    0,
                ));
            }
            1
        }
    };
    if let Some(missing) = stmt
        .bind_names()
        .into_iter()
        .find(|n| !ctx.binds.iter().any(|(k, _)| k == n))
    {
        let _ = missing;
        return Err(OraError::new(1008, "not all variables bound", 0));
    }
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
            return Err(OraError::new(937, "not a single-group group function", 7));
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
        Value::Str(s) => {
            Decimal::parse(s).ok_or_else(|| OraError::new(1722, "invalid number", offset))
        }
        Value::Date(_) | Value::TimestampTz(_) | Value::Timestamp(_) => Err(OraError::new(
            932,
            "inconsistent datatypes: expected NUMBER got DATE",
            offset,
        )),
        Value::Null => Ok(Decimal::zero()),
    }
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
        Expr::Sysdate => Value::Date(ctx.now),
        Expr::Systimestamp => Value::TimestampTz(ctx.now),
        Expr::User => Value::Str(ctx.user.clone()),
        Expr::Level => Value::Number(Decimal::from_i128(i128::from(level))),
        Expr::CountStar => Value::Number(count.clone()),
        Expr::Ident(name, off) => {
            return Err(OraError::new(
                904,
                format!("\"{name}\": invalid identifier"),
                *off,
            ));
        }
        Expr::Bind(name, off) => match ctx.binds.iter().find(|(k, _)| k == name) {
            Some((_, v)) => v.clone(),
            None => return Err(OraError::new(1008, "not all variables bound", *off)),
        },
        Expr::SysContext(ns, param) => {
            let ns = ev(ns)?.as_text().to_ascii_uppercase();
            let param = ev(param)?.as_text().to_ascii_uppercase();
            if ns != "USERENV" {
                return Ok(Value::Null);
            }
            match ctx.userenv(&param) {
                Some(v) => Value::Str(v.to_owned()),
                None => return Err(OraError::new(2003, "invalid USERENV parameter", 0)),
            }
        }
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
            let s = format!("{}{}", ev(a)?.as_text(), ev(b)?.as_text());
            if s.is_empty() {
                Value::Null
            } else {
                Value::Str(s)
            }
        }
        Expr::Bin(op, a, b) => {
            let (x, y) = (ev(a)?, ev(b)?);
            if x == Value::Null || y == Value::Null {
                return Ok(Value::Null);
            }
            let r = arith(*op, &to_number(&x, 0)?, &to_number(&y, 0)?)?;
            if !r.is_zero() && r.point > 126 {
                return Err(OraError::new(1426, "numeric overflow", 0));
            }
            Value::Number(if r.point < -129 { Decimal::zero() } else { r })
        }
    })
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
            return Err(OraError::new(1476, "divisor is equal to zero", 0));
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
        if last >= 5 {
            let mut i = digits.len();
            loop {
                if i == 0 {
                    digits.insert(0, 1);
                    return build(negative, &digits, point + 1, sb - sa);
                }
                i -= 1;
                if digits[i] == 9 {
                    digits[i] = 0;
                } else {
                    digits[i] += 1;
                    break;
                }
            }
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
