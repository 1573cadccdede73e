//! Oracle data type encodings as they travel in rows and binds: NUMBER (base-100,
//! sign-magnitude), DATE and TIMESTAMP [WITH TIME ZONE], and the type numbers the describe
//! message carries. Both directions, so the server can encode and the client can decode.

use super::buf::TtcError;

/// Oracle type numbers as they appear in DESCRIBE_INFO.
pub mod ora_type {
    /// VARCHAR2 / NVARCHAR2.
    pub const VARCHAR: u8 = 1;
    /// NUMBER / FLOAT / INTEGER.
    pub const NUMBER: u8 = 2;
    /// LONG.
    pub const LONG: u8 = 8;
    /// ROWID.
    pub const ROWID: u8 = 11;
    /// DATE.
    pub const DATE: u8 = 12;
    /// RAW.
    pub const RAW: u8 = 23;
    /// LONG RAW (how a driver defines a BLOB column it wants as bytes).
    pub const LONG_RAW: u8 = 24;
    /// CHAR / NCHAR.
    pub const CHAR: u8 = 96;
    /// BINARY_FLOAT.
    pub const BINARY_FLOAT: u8 = 100;
    /// BINARY_DOUBLE.
    pub const BINARY_DOUBLE: u8 = 101;
    /// CLOB.
    pub const CLOB: u8 = 112;
    /// BLOB.
    pub const BLOB: u8 = 113;
    /// TIMESTAMP.
    pub const TIMESTAMP: u8 = 180;
    /// TIMESTAMP WITH TIME ZONE.
    pub const TIMESTAMP_TZ: u8 = 181;
    /// INTERVAL DAY TO SECOND.
    pub const INTERVAL_DS: u8 = 183;
    /// TIMESTAMP WITH LOCAL TIME ZONE.
    pub const TIMESTAMP_LTZ: u8 = 231;
    /// BOOLEAN (fv ≥ 17).
    pub const BOOLEAN: u8 = 252;
}

/// An exact decimal number: `negative`, the significant decimal `digits` (no leading or
/// trailing zeros; empty = zero) and `point`, the position of the decimal point relative to
/// the first digit (value = 0.d1d2… × 10^point).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decimal {
    /// Sign.
    pub negative: bool,
    /// Significant decimal digits, each 0..=9.
    pub digits: Vec<u8>,
    /// Decimal exponent: value = 0.digits × 10^point.
    pub point: i32,
}

impl Decimal {
    /// Zero.
    pub fn zero() -> Self {
        Decimal {
            negative: false,
            digits: Vec::new(),
            point: 0,
        }
    }

    /// Exact conversion from an integer.
    pub fn from_i128(v: i128) -> Self {
        let s = v.unsigned_abs().to_string();
        Self::from_parts(v < 0, s.as_bytes(), i32::try_from(s.len()).unwrap_or(0))
    }

    /// Conversion from a float through its shortest round-trip decimal form (what Oracle
    /// shows for BINARY_DOUBLE → NUMBER conversions of "nice" values).
    pub fn from_f64(v: f64) -> Option<Self> {
        if !v.is_finite() {
            return None;
        }
        Self::parse(&format!("{v:e}"))
    }

    fn from_parts(negative: bool, ascii_digits: &[u8], point: i32) -> Self {
        let mut digits: Vec<u8> = ascii_digits.iter().map(|c| c - b'0').collect();
        let mut point = point;
        while digits.first() == Some(&0) {
            digits.remove(0);
            point -= 1;
        }
        while digits.last() == Some(&0) {
            digits.pop();
        }
        if digits.is_empty() {
            return Decimal::zero();
        }
        Decimal {
            negative,
            digits,
            point,
        }
    }

    /// Parses `-12.5`, `3`, `1e-3`, `.5`, `1.5E+10`.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let (negative, s) = match s.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let (mant, exp) = match s.find(['e', 'E']) {
            Some(i) => (&s[..i], s[i + 1..].parse::<i32>().ok()?),
            None => (s, 0),
        };
        let (int, frac) = match mant.find('.') {
            Some(i) => (&mant[..i], &mant[i + 1..]),
            None => (mant, ""),
        };
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if !int.bytes().chain(frac.bytes()).all(|c| c.is_ascii_digit()) {
            return None;
        }
        let mut all = int.as_bytes().to_vec();
        all.extend_from_slice(frac.as_bytes());
        let point = i32::try_from(int.len()).ok()?.checked_add(exp)?;
        Some(Self::from_parts(negative, &all, point))
    }

    /// True for zero.
    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// True when the value has no fractional part.
    pub fn is_integral(&self) -> bool {
        i32::try_from(self.digits.len()).is_ok_and(|n| n <= self.point)
    }

    /// The value as an i128 when integral and in range.
    pub fn to_i128(&self) -> Option<i128> {
        if !self.is_integral() {
            return None;
        }
        let mut v: i128 = 0;
        for i in 0..self.point {
            let d = self
                .digits
                .get(usize::try_from(i).ok()?)
                .copied()
                .unwrap_or(0);
            v = v.checked_mul(10)?.checked_add(i128::from(d))?;
        }
        Some(if self.negative { -v } else { v })
    }

    /// The value as f64 (through its decimal text).
    pub fn to_f64(&self) -> f64 {
        self.to_string().parse().unwrap_or(f64::NAN)
    }

    /// Encodes as an Oracle NUMBER (without the length byte). Values with more than 40
    /// significant digits are truncated to 40, as Oracle's precision limit.
    pub fn to_oracle_number(&self) -> Vec<u8> {
        if self.is_zero() {
            return vec![0x80];
        }
        // Align to base 100: the number of digits before the point must be even.
        let mut digits = self.digits.clone();
        let mut point = self.point;
        if point.rem_euclid(2) != 0 {
            digits.insert(0, 0);
            point += 1;
        }
        if !digits.len().is_multiple_of(2) {
            digits.push(0);
        }
        let mut pairs: Vec<u8> = digits.chunks(2).map(|c| c[0] * 10 + c[1]).collect();
        let mut exp = point / 2 - 1;
        while pairs.first() == Some(&0) {
            pairs.remove(0);
            exp -= 1;
        }
        while pairs.last() == Some(&0) {
            pairs.pop();
        }
        pairs.truncate(20);
        let exp = exp.clamp(-65, 62);
        let mut out = Vec::with_capacity(pairs.len() + 2);
        if self.negative {
            out.push((62 - exp) as u8);
            out.extend(pairs.iter().map(|d| 101 - d));
            if out.len() < 21 {
                out.push(102);
            }
        } else {
            out.push((193 + exp) as u8);
            out.extend(pairs.iter().map(|d| d + 1));
        }
        out
    }

    /// Decodes an Oracle NUMBER (without the length byte).
    pub fn from_oracle_number(b: &[u8]) -> Result<Self, TtcError> {
        const R: &str = "NUMBER value";
        let Some(&first) = b.first() else {
            return Err(TtcError::invalid(R, "empty"));
        };
        if first == 0x80 {
            return Ok(Decimal::zero());
        }
        let positive = first & 0x80 != 0;
        let (exp, pairs): (i32, Vec<u8>) = if positive {
            let exp = i32::from(first) - 193;
            let p = b[1..]
                .iter()
                .map(|&d| d.checked_sub(1).filter(|v| *v < 100))
                .collect::<Option<Vec<u8>>>()
                .ok_or_else(|| TtcError::invalid(R, "bad positive digit"))?;
            (exp, p)
        } else {
            let exp = 62 - i32::from(first);
            let body = match b[1..].last() {
                Some(102) => &b[1..b.len() - 1],
                _ => &b[1..],
            };
            let p = body
                .iter()
                .map(|&d| 101u8.checked_sub(d).filter(|v| *v < 100))
                .collect::<Option<Vec<u8>>>()
                .ok_or_else(|| TtcError::invalid(R, "bad negative digit"))?;
            (exp, p)
        };
        let mut ascii = Vec::with_capacity(pairs.len() * 2);
        for p in pairs {
            ascii.push(b'0' + p / 10);
            ascii.push(b'0' + p % 10);
        }
        Ok(Self::from_parts(!positive, &ascii, (exp + 1) * 2))
    }
}

impl std::fmt::Display for Decimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        if self.negative {
            f.write_str("-")?;
        }
        let digits: String = self.digits.iter().map(|d| char::from(b'0' + d)).collect();
        let n = i32::try_from(self.digits.len()).unwrap_or(i32::MAX);
        if self.point <= 0 {
            write!(
                f,
                ".{}{}",
                "0".repeat(self.point.unsigned_abs() as usize),
                digits
            )
        } else if self.point >= n {
            write!(f, "{}{}", digits, "0".repeat((self.point - n) as usize))
        } else {
            let (a, b) = digits.split_at(self.point as usize);
            write!(f, "{a}.{b}")
        }
    }
}

/// A calendar date-time with nanoseconds and an optional UTC offset in minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    /// Year, negative for BC (-4712..=9999; no year 0 outside of Oracle's arithmetic).
    pub year: i32,
    /// Month 1..=12.
    pub month: u8,
    /// Day 1..=31.
    pub day: u8,
    /// Hour 0..=23.
    pub hour: u8,
    /// Minute 0..=59.
    pub minute: u8,
    /// Second 0..=59.
    pub second: u8,
    /// Nanoseconds.
    pub nanos: u32,
    /// Offset from UTC in minutes (TIMESTAMP WITH TIME ZONE).
    pub offset_minutes: i16,
}

/// The Unix day of 1582-10-15, the first day of the Gregorian calendar: Oracle's calendar
/// is Julian before it (the day before is 1582-10-04), so the two conversions below switch
/// there, and weekdays, day counts and arithmetic of older dates come out as Oracle's.
const GREGORIAN_START_DAY: i64 = -141_427;

/// Days since 1970-01-01 of a Julian-calendar date (years counted as the DATE type counts
/// them, with a year 0 between -1 and 1 as its arithmetic has it).
fn julian_days(y: i64, m: i64, d: i64) -> i64 {
    // March-based years in cycles of four, the leap day last.
    let y = y - i64::from(m <= 2);
    let cycle = y.div_euclid(4);
    let yoc = y - cycle * 4;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    cycle * 1461 + yoc * 365 + doy - 719_470
}

/// (year, month, day) of a day number (days since 1970-01-01) in the proleptic Gregorian
/// calendar: Howard Hinnant's `civil_from_days`.
fn gregorian_civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The Julian-calendar (year, month, day) of a day since 1970-01-01.
fn julian_civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_470;
    let cycle = z.div_euclid(1461);
    let doc = z - cycle * 1461;
    let yoc = (doc / 365).min(3);
    let doy = doc - yoc * 365;
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (cycle * 4 + yoc + i64::from(m <= 2), m, d)
}

impl DateTime {
    /// The UTC date-time of a Unix timestamp (Julian calendar before 1582-10-15).
    pub fn from_unix(secs: i64, nanos: u32) -> Self {
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = if days < GREGORIAN_START_DAY {
            julian_civil(days)
        } else {
            gregorian_civil(days)
        };
        DateTime {
            year: i32::try_from(y).unwrap_or(0),
            month: m as u8,
            day: d as u8,
            hour: (sod / 3600) as u8,
            minute: (sod % 3600 / 60) as u8,
            second: (sod % 60) as u8,
            nanos,
            offset_minutes: 0,
        }
    }

    /// Oracle's timestamp layout of listener logs, `lsnrctl` and the tool banners:
    /// `DD-MON-YYYY HH24:MI:SS` (e.g. `15-MAY-2010 11:42:24`).
    pub fn dd_mon_yyyy_hh24_mi_ss(&self) -> String {
        const MONTHS: [&str; 12] = [
            "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
        ];
        let month = MONTHS
            .get(usize::from(self.month.saturating_sub(1)))
            .copied()
            .unwrap_or("???");
        format!(
            "{:02}-{month}-{:04} {:02}:{:02}:{:02}",
            self.day, self.year, self.hour, self.minute, self.second
        )
    }

    /// Seconds since the Unix epoch (UTC, ignoring the offset) and the nanoseconds; a date
    /// before 1582-10-15 is of the Julian calendar (1582-10-05..14, which do not exist, are
    /// read as Julian too: the caller moves them, as TO_DATE does).
    pub fn to_unix(&self) -> (i64, u32) {
        let (m, d) = (i64::from(self.month), i64::from(self.day));
        let time =
            i64::from(self.hour) * 3600 + i64::from(self.minute) * 60 + i64::from(self.second);
        if (self.year, self.month, self.day) < (1582, 10, 15) {
            let days = julian_days(i64::from(self.year), m, d);
            return (days * 86_400 + time, self.nanos);
        }
        // Howard Hinnant's days_from_civil.
        let y = i64::from(self.year) - i64::from(m <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        let secs = days * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second);
        (secs, self.nanos)
    }

    /// Century and year of century each excess-100, as sign and magnitude: a BC year has
    /// both below 100 (4712 BC is `53, 88`), so [`DateTime::from_oracle`]'s
    /// `(c - 100) * 100 + y - 100` reads it back.
    fn date_bytes(&self) -> [u8; 7] {
        let century = self.year / 100;
        let yy = self.year % 100;
        [
            (century + 100) as u8,
            (yy + 100) as u8,
            self.month,
            self.day,
            self.hour + 1,
            self.minute + 1,
            self.second + 1,
        ]
    }

    /// DATE: 7 bytes.
    pub fn to_oracle_date(&self) -> Vec<u8> {
        self.date_bytes().to_vec()
    }

    /// TIMESTAMP: DATE + `u32be` nanoseconds (11 bytes).
    pub fn to_oracle_timestamp(&self) -> Vec<u8> {
        let mut v = self.date_bytes().to_vec();
        v.extend_from_slice(&self.nanos.to_be_bytes());
        v
    }

    /// TIMESTAMP WITH TIME ZONE: 13 bytes; the date part is in UTC (`self` is the wall
    /// clock of its offset), then the offset's hour+20, minute+60.
    pub fn to_oracle_timestamp_tz(&self) -> Vec<u8> {
        let (secs, nanos) = self.to_unix();
        let utc = DateTime::from_unix(secs - i64::from(self.offset_minutes) * 60, nanos);
        let mut v = utc.to_oracle_timestamp();
        // Hours and minutes both carry the sign (-03:30 is -3 and -30).
        let off = i32::from(self.offset_minutes);
        v.push((off / 60 + 20) as u8);
        v.push((off % 60 + 60) as u8);
        v
    }

    /// Decodes DATE (7), TIMESTAMP (11) or TIMESTAMP TZ (13) bytes; a TIMESTAMP TZ with an
    /// offset becomes that offset's wall clock (a region ID is read as UTC).
    pub fn from_oracle(b: &[u8]) -> Result<Self, TtcError> {
        const R: &str = "DATE/TIMESTAMP value";
        if b.len() < 7 {
            return Err(TtcError::invalid(R, format!("{} bytes", b.len())));
        }
        let year = (i32::from(b[0]) - 100) * 100 + i32::from(b[1]) - 100;
        let nanos = if b.len() >= 11 {
            u32::from_be_bytes([b[7], b[8], b[9], b[10]])
        } else {
            0
        };
        let offset_minutes = if b.len() >= 13 && b[11] & 0x80 == 0 {
            ((i16::from(b[11]) - 20) * 60) + (i16::from(b[12]) - 60)
        } else {
            0
        };
        let utc = DateTime {
            year,
            month: b[2],
            day: b[3],
            hour: b[4].saturating_sub(1),
            minute: b[5].saturating_sub(1),
            second: b[6].saturating_sub(1),
            nanos,
            offset_minutes: 0,
        };
        if offset_minutes == 0 {
            return Ok(utc);
        }
        let (secs, nanos) = utc.to_unix();
        Ok(DateTime {
            offset_minutes,
            ..DateTime::from_unix(secs + i64::from(offset_minutes) * 60, nanos)
        })
    }
}

/// Decodes BINARY_DOUBLE (8 bytes) and BINARY_FLOAT (4 bytes) as they travel: IEEE 754 made
/// order-preserving (sign bit flipped for positives, every bit flipped for negatives).
/// `None` for any other length.
pub fn decode_binary_float(b: &[u8]) -> Option<f64> {
    let flip = |v: &mut [u8]| {
        if v[0] & 0x80 != 0 {
            v[0] &= 0x7F;
        } else {
            for x in v.iter_mut() {
                *x = !*x;
            }
        }
    };
    match b.len() {
        8 => {
            let mut v: [u8; 8] = b.try_into().ok()?;
            flip(&mut v);
            Some(f64::from_be_bytes(v))
        }
        4 => {
            let mut v: [u8; 4] = b.try_into().ok()?;
            flip(&mut v);
            Some(f64::from(f32::from_be_bytes(v)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oracle_timestamp_layout() {
        let show = |secs| DateTime::from_unix(secs, 0).dd_mon_yyyy_hh24_mi_ss();
        assert_eq!(show(0), "01-JAN-1970 00:00:00");
        assert_eq!(show(1_273_923_744), "15-MAY-2010 11:42:24");
        assert_eq!(show(951_782_400), "29-FEB-2000 00:00:00");
    }
    use proptest::prelude::*;

    #[test]
    fn numbers_match_reference_examples() {
        let cases: [(&str, &[u8]); 8] = [
            ("1", &[0xC1, 0x02]),
            ("42", &[0xC1, 0x2B]),
            ("100", &[0xC2, 0x02]),
            ("3.14", &[0xC1, 0x04, 0x0F]),
            ("0.5", &[0xC0, 0x33]),
            ("-1", &[0x3E, 0x64, 0x66]),
            ("-42", &[0x3E, 0x3B, 0x66]),
            ("0", &[0x80]),
        ];
        for (text, bytes) in cases {
            let d = Decimal::parse(text).unwrap();
            assert_eq!(d.to_oracle_number(), bytes, "{text}");
            assert_eq!(Decimal::from_oracle_number(bytes).unwrap(), d, "{text}");
        }
        assert_eq!(Decimal::parse("3.14").unwrap().to_string(), "3.14");
        assert_eq!(Decimal::parse("0.05").unwrap().to_string(), ".05");
        assert_eq!(Decimal::parse("1200").unwrap().to_i128(), Some(1200));
    }

    #[test]
    fn dates_encode_like_oracle() {
        // 2026-11-22 13:45:07 UTC
        let d = DateTime::from_unix(1_795_355_107, 0);
        assert_eq!((d.year, d.month, d.day), (2026, 11, 22));
        assert_eq!((d.hour, d.minute, d.second), (13, 45, 7));
        assert_eq!(d.to_oracle_date(), [120, 126, 11, 22, 14, 46, 8]);
        assert_eq!(
            DateTime::from_oracle(&d.to_oracle_timestamp_tz()).unwrap(),
            d
        );
        // The date part of a TIMESTAMP WITH TIME ZONE is UTC: 12:00 at +05:30 is 06:30 UTC,
        // as python-oracledb reads it back (it adds the offset).
        let noon = DateTime {
            hour: 12,
            minute: 0,
            offset_minutes: 330,
            ..d
        };
        let b = noon.to_oracle_timestamp_tz();
        assert_eq!(b[4..7], [7, 31, 8]);
        assert_eq!(b[11..], [25, 90]);
        assert_eq!(DateTime::from_oracle(&b).unwrap(), noon);
        let west = DateTime {
            offset_minutes: -210,
            ..noon
        };
        let b = west.to_oracle_timestamp_tz();
        assert_eq!(b[11..], [17, 30]);
        assert_eq!(DateTime::from_oracle(&b).unwrap(), west);
        // The calendar switches to Julian before 1582-10-15, the day after 1582-10-04.
        let last_julian = DateTime {
            year: 1582,
            month: 10,
            day: 4,
            ..DateTime::from_unix(0, 0)
        };
        let (secs, _) = last_julian.to_unix();
        assert_eq!(secs, -141_428 * 86_400);
        let next = DateTime::from_unix(secs + 86_400, 0);
        assert_eq!((next.year, next.month, next.day), (1582, 10, 15));
        for days in [-141_428, -800_000, -2_440_588, -3_000_000] {
            let d = DateTime::from_unix(days * 86_400 + 3_723, 0);
            assert_eq!(d.to_unix().0, days * 86_400 + 3_723, "{d:?}");
        }
        // BC years as DUMP shows a DATE of 4712 BC (`Typ=12 Len=7: 53,88,1,1,1,1,1`).
        let bc = DateTime {
            year: -4712,
            month: 1,
            day: 1,
            ..DateTime::from_unix(0, 0)
        };
        assert_eq!(bc.to_oracle_date(), [53, 88, 1, 1, 1, 1, 1]);
        assert_eq!(DateTime::from_oracle(&bc.to_oracle_date()).unwrap(), bc);
        let ides = DateTime { year: -44, ..bc };
        assert_eq!(ides.to_oracle_date()[..2], [100, 56]);
        assert_eq!(DateTime::from_oracle(&ides.to_oracle_date()).unwrap(), ides);
    }

    proptest! {
        #[test]
        fn number_round_trip(v in any::<i64>(), scale in 0u32..10) {
            let d = Decimal::parse(&format!("{}e-{}", v, scale)).unwrap();
            let back = Decimal::from_oracle_number(&d.to_oracle_number()).unwrap();
            prop_assert_eq!(back, d);
        }

        #[test]
        fn number_decoder_never_panics(b in proptest::collection::vec(any::<u8>(), 0..25)) {
            let _ = Decimal::from_oracle_number(&b);
        }
    }
}
