//! The client's half of TTC that `tns` does not carry: the exact negotiation bytes a
//! python-oracledb 26.1.0 thin client sends (compile/runtime capabilities and the
//! 322-entry data-types table, taken from its traffic on the wire) and the conversion of
//! column bytes to [`Value`]s. Responses are decoded by `tns::ttc::response`, the decoder
//! the engine's tests use too. No I/O here: the session module feeds it bytes.

use std::fmt;

use tns::ttc::buf::TtcError;
use tns::ttc::message::ColumnMetadata;
use tns::ttc::types::{DateTime, Decimal, ora_type};

/// Compile-time capabilities python-oracledb 26.1.0 sends, before the field version (index
/// 7) is lowered to what the server offers. Captured from its DATA_TYPES message.
pub(crate) const CLIENT_COMPILE_CAPS: [u8; 55] = [
    0x06, 0x00, 0x00, 0x00, 0xea, 0x18, 0x00, 0x18, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x29,
    0x90, 0x03, 0x07, 0x03, 0x00, 0x01, 0x00, 0xcf, 0x00, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00, 0x10,
    0x00, 0x00, 0x0c, 0x20, 0x00, 0xb8, 0x00, 0x08, 0x44, 0x00, 0x05, 0x00, 0x3e, 0x23, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x04,
];
/// Index of the field version in the compile-time capabilities.
pub(crate) const CCAP_FIELD_VERSION: usize = 7;
/// The highest field version this client speaks (23.4, like python-oracledb).
pub(crate) const CLIENT_MAX_FIELD_VERSION: u8 = 24;
/// Runtime capabilities python-oracledb 26.1.0 sends (13 bytes).
pub(crate) const CLIENT_RUNTIME_CAPS: [u8; 13] = [
    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
];
/// DATA_TYPES flags byte (multi-byte | conversion length).
pub(crate) const DATA_TYPES_FLAGS: u8 = 0x03;

/// The data-types table (data type, conversion type, representation), in the order
/// python-oracledb 26.1.0 sends it.
pub(crate) const DATA_TYPES: &[(u16, u16, u16)] = &include!("data_types_table.in");

/// One decoded value of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL (Oracle has no empty string: `''` is NULL too).
    Null,
    /// NUMBER.
    Number(Decimal),
    /// VARCHAR2, CHAR, NVARCHAR2, LONG, ROWID text.
    Text(String),
    /// DATE.
    Date(DateTime),
    /// TIMESTAMP.
    Timestamp(DateTime),
    /// TIMESTAMP WITH (LOCAL) TIME ZONE.
    TimestampTz(DateTime),
    /// BINARY_FLOAT / BINARY_DOUBLE.
    Float(f64),
    /// BOOLEAN.
    Boolean(bool),
    /// RAW and anything this client does not interpret.
    Raw(Vec<u8>),
}

impl Value {
    /// True for NUMBER and floating-point values (right-aligned by table renderers).
    pub fn is_numeric(&self) -> bool {
        matches!(self, Value::Number(_) | Value::Float(_))
    }

    /// The value as an integer, when it is an integral NUMBER.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(d) => d.to_i128().and_then(|v| i64::try_from(v).ok()),
            _ => None,
        }
    }

    /// The value as text, when it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];

fn fmt_date(f: &mut fmt::Formatter<'_>, d: &DateTime) -> fmt::Result {
    let mon = MONTHS
        .get(usize::from(d.month.saturating_sub(1)))
        .copied()
        .unwrap_or("???");
    write!(f, "{:02}-{}-{:02}", d.day, mon, d.year.rem_euclid(100))
}

fn fmt_time(f: &mut fmt::Formatter<'_>, d: &DateTime) -> fmt::Result {
    let (h12, ampm) = match d.hour {
        0 => (12, "AM"),
        1..=11 => (d.hour, "AM"),
        12 => (12, "PM"),
        h => (h - 12, "PM"),
    };
    write!(
        f,
        " {:02}.{:02}.{:02}.{:06} {}",
        h12,
        d.minute,
        d.second,
        d.nanos / 1000,
        ampm
    )
}

/// SQL*Plus's default rendering: NLS_DATE_FORMAT `DD-MON-RR`, NLS_TIMESTAMP_FORMAT
/// `DD-MON-RR HH.MI.SSXFF AM`, TZ adds `TZH:TZM`; NULL prints as nothing.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::Number(d) => write!(f, "{d}"),
            Value::Text(s) => f.write_str(s),
            Value::Date(d) => fmt_date(f, d),
            Value::Timestamp(d) => {
                fmt_date(f, d)?;
                fmt_time(f, d)
            }
            Value::TimestampTz(d) => {
                fmt_date(f, d)?;
                fmt_time(f, d)?;
                let off = i32::from(d.offset_minutes);
                let sign = if off < 0 { '-' } else { '+' };
                write!(f, " {sign}{:02}:{:02}", off.abs() / 60, off.abs() % 60)
            }
            Value::Float(x) => write!(f, "{x}"),
            Value::Boolean(b) => f.write_str(if *b { "TRUE" } else { "FALSE" }),
            Value::Raw(b) => {
                for x in b {
                    write!(f, "{x:02X}")?;
                }
                Ok(())
            }
        }
    }
}

/// Converts one column's bytes to a [`Value`].
pub(crate) fn decode_value(col: &ColumnMetadata, raw: Option<&[u8]>) -> Result<Value, TtcError> {
    let Some(b) = raw.filter(|b| !b.is_empty()) else {
        return Ok(Value::Null);
    };
    Ok(match col.ora_type {
        ora_type::NUMBER => Value::Number(Decimal::from_oracle_number(b)?),
        ora_type::VARCHAR | ora_type::CHAR | ora_type::LONG | ora_type::ROWID => {
            if col.charset_form == 2 {
                let units: Vec<u16> = b
                    .chunks(2)
                    .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                    .collect();
                Value::Text(String::from_utf16_lossy(&units))
            } else {
                Value::Text(String::from_utf8_lossy(b).into_owned())
            }
        }
        ora_type::DATE => Value::Date(DateTime::from_oracle(b)?),
        ora_type::TIMESTAMP => Value::Timestamp(DateTime::from_oracle(b)?),
        ora_type::TIMESTAMP_TZ | ora_type::TIMESTAMP_LTZ => {
            Value::TimestampTz(DateTime::from_oracle(b)?)
        }
        ora_type::BINARY_DOUBLE | ora_type::BINARY_FLOAT => Value::Float(decode_binary_float(b)?),
        ora_type::BOOLEAN => Value::Boolean(b.last().is_some_and(|&x| x != 0)),
        _ => Value::Raw(b.to_vec()),
    })
}

/// BINARY_FLOAT / BINARY_DOUBLE through [`tns::ttc::types::decode_binary_float`], with the
/// client's error for a length that is neither.
fn decode_binary_float(b: &[u8]) -> Result<f64, TtcError> {
    tns::ttc::types::decode_binary_float(b)
        .ok_or_else(|| TtcError::invalid("BINARY_FLOAT/DOUBLE value", format!("{} bytes", b.len())))
}

/// How a statement is sent, decided from its first keyword (comments skipped), as
/// python-oracledb classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementKind {
    /// SELECT / WITH.
    Query,
    /// INSERT / UPDATE / DELETE / MERGE.
    Dml,
    /// CREATE / ALTER / DROP / GRANT / REVOKE / ANALYZE / AUDIT / COMMENT / TRUNCATE.
    Ddl,
    /// DECLARE / BEGIN / CALL.
    PlSql,
    /// Anything else (COMMIT, SET ROLE, ...).
    Other,
}

/// Classifies a statement by its first keyword.
pub fn classify(sql: &str) -> StatementKind {
    let word = first_keyword(sql).to_ascii_uppercase();
    match word.as_str() {
        "SELECT" | "WITH" => StatementKind::Query,
        "INSERT" | "UPDATE" | "DELETE" | "MERGE" => StatementKind::Dml,
        "CREATE" | "ALTER" | "DROP" | "GRANT" | "REVOKE" | "ANALYZE" | "AUDIT" | "COMMENT"
        | "TRUNCATE" => StatementKind::Ddl,
        "DECLARE" | "BEGIN" | "CALL" => StatementKind::PlSql,
        _ => StatementKind::Other,
    }
}

fn first_keyword(sql: &str) -> &str {
    let mut s = sql;
    loop {
        s = s.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
        if let Some(rest) = s.strip_prefix("--") {
            s = rest.find('\n').map_or("", |i| &rest[i + 1..]);
        } else if let Some(rest) = s.strip_prefix("/*") {
            s = rest.find("*/").map_or("", |i| &rest[i + 2..]);
        } else {
            break;
        }
    }
    let end = s
        .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .unwrap_or(s.len());
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_skips_comments() {
        assert_eq!(classify("select 1 from dual"), StatementKind::Query);
        assert_eq!(
            classify("  -- hi\n/* x */ WITH a AS (select 1 from dual) select * from a"),
            StatementKind::Query
        );
        assert_eq!(classify("(select 1 from dual)"), StatementKind::Query);
        assert_eq!(classify("insert into t values (1)"), StatementKind::Dml);
        assert_eq!(classify("create table t (x number)"), StatementKind::Ddl);
        assert_eq!(
            classify("BEGIN DBMS_SESSION.SLEEP(1); END;"),
            StatementKind::PlSql
        );
        assert_eq!(classify("commit"), StatementKind::Other);
    }

    #[test]
    fn data_types_table_is_pythons() {
        assert_eq!(DATA_TYPES.len(), 322);
        assert_eq!(DATA_TYPES[0], (1, 1, 1));
        assert_eq!(DATA_TYPES[1], (2, 2, 10));
    }

    #[test]
    fn values_render_like_sqlplus() {
        let d = DateTime {
            year: 2026,
            month: 11,
            day: 22,
            hour: 13,
            minute: 5,
            second: 9,
            nanos: 123_456_000,
            offset_minutes: -330,
        };
        assert_eq!(Value::Date(d).to_string(), "22-NOV-26");
        assert_eq!(
            Value::Timestamp(d).to_string(),
            "22-NOV-26 01.05.09.123456 PM"
        );
        assert_eq!(
            Value::TimestampTz(d).to_string(),
            "22-NOV-26 01.05.09.123456 PM -05:30"
        );
        assert_eq!(Value::Null.to_string(), "");
        let n = Value::Number(Decimal::from_oracle_number(&[0xC1, 0x04, 0x0F]).unwrap());
        assert_eq!(n.to_string(), "3.14");
    }

    #[test]
    fn binary_double_is_order_preserving() {
        let enc = |x: f64| {
            let mut b = x.to_be_bytes();
            if x >= 0.0 {
                b[0] |= 0x80;
            } else {
                for v in &mut b {
                    *v = !*v;
                }
            }
            b
        };
        assert_eq!(decode_binary_float(&enc(1.5)).unwrap(), 1.5);
        assert_eq!(decode_binary_float(&enc(-2.25)).unwrap(), -2.25);
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;
        use tns::ttc::message::ColumnMetadata;

        fn columns() -> Vec<ColumnMetadata> {
            vec![
                ColumnMetadata::number("N"),
                ColumnMetadata::string("S", ora_type::VARCHAR, 40),
                ColumnMetadata::date("D"),
                ColumnMetadata::timestamp_tz("T"),
            ]
        }

        proptest! {
            /// Column values of any length and content decode or fail cleanly.
            #[test]
            fn value_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
                for c in columns() {
                    if let Ok(v) = decode_value(&c, Some(&bytes)) {
                        let _ = v.to_string();
                    }
                }
                let mut nchar = ColumnMetadata::string("NC", ora_type::VARCHAR, 40);
                nchar.charset_form = 2;
                let _ = decode_value(&nchar, Some(&bytes));
                for t in [ora_type::BINARY_DOUBLE, ora_type::BINARY_FLOAT, ora_type::BOOLEAN, ora_type::RAW] {
                    let mut c = ColumnMetadata::number("X");
                    c.ora_type = t;
                    if let Ok(v) = decode_value(&c, Some(&bytes)) {
                        let _ = v.to_string();
                    }
                }
            }
        }
    }
}
