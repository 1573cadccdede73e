//! Oracle's format models: `TO_CHAR(datetime, fmt)`, `TO_DATE`/`TO_TIMESTAMP(text, fmt)`,
//! `TO_CHAR(number, fmt)` and `TO_NUMBER(text, fmt)`, and the session's NLS settings that
//! stand in for a format when none is given (also for implicit conversions).
//!
//! Why a module of its own: a format model is a small language with its own grammar (the
//! elements, their case, the FM/FX modifiers, the TH/SP suffixes), rules that differ between
//! rendering and reading (what a string may omit, which elements may not appear in input,
//! which may appear only once) and a family of errors (ORA-01810..ORA-01862, ORA-01481,
//! ORA-01722) that clients and tests compare against Oracle's. Keeping it apart from the
//! expression evaluator lets both directions share one tokenizer and be unit-tested from
//! the examples of the SQL Language Reference ("Format Models") without a session.
//!
//! Only the AMERICAN date language and NLS_CALENDAR GREGORIAN exist here, as in the
//! simulated database's NLS settings. That calendar is Oracle's: Julian before 1582-10-15
//! (the day after 1582-10-04), BC years negative (SYYYY, `BC`) down to -4712, no year 0 in
//! input — [`DateTime::to_unix`] and [`DateTime::from_unix`] carry the switch, so weekdays,
//! `J`, `DDD` and date arithmetic follow it. YEAR/SYEAR spell the year for output only.

use tns::ttc::types::{DateTime, Decimal};

use crate::error::OraError;

/// The session's NLS settings that format models read (`ALTER SESSION SET NLS_...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nls {
    /// NLS_DATE_FORMAT: DATE ↔ text without a format.
    pub date_format: String,
    /// NLS_TIMESTAMP_FORMAT: TIMESTAMP ↔ text without a format.
    pub timestamp_format: String,
    /// NLS_TIMESTAMP_TZ_FORMAT: TIMESTAMP WITH TIME ZONE → text without a format.
    pub timestamp_tz_format: String,
    /// NLS_NUMERIC_CHARACTERS: the decimal character (`D`) ...
    pub decimal: char,
    /// ... and the group separator (`G`).
    pub group: char,
    /// NLS_CURRENCY (`L`).
    pub currency: String,
    /// NLS_ISO_CURRENCY's code (`C`).
    pub iso_currency: String,
}

impl Default for Nls {
    /// The settings of an AMERICAN_AMERICA session.
    fn default() -> Self {
        Nls {
            date_format: "DD-MON-RR".to_owned(),
            timestamp_format: "DD-MON-RR HH.MI.SSXFF AM".to_owned(),
            timestamp_tz_format: "DD-MON-RR HH.MI.SSXFF AM TZR".to_owned(),
            decimal: '.',
            group: ',',
            currency: "$".to_owned(),
            iso_currency: "USD".to_owned(),
        }
    }
}

impl Nls {
    /// Applies `ALTER SESSION SET <parameter> = <value>` for the NLS parameters format
    /// models read; `Ok(false)` for a parameter this struct does not hold. A datetime
    /// format that does not parse is ORA-01821; numeric characters other than two distinct
    /// characters that are no digit, sign or bracket are ORA-12705.
    pub fn set(&mut self, parameter: &str, value: &str) -> Result<bool, OraError> {
        match parameter {
            "NLS_DATE_FORMAT" | "NLS_TIMESTAMP_FORMAT" | "NLS_TIMESTAMP_TZ_FORMAT" => {
                let kind = match parameter {
                    "NLS_DATE_FORMAT" => Kind::Date,
                    "NLS_TIMESTAMP_FORMAT" => Kind::Timestamp,
                    _ => Kind::TimestampTz,
                };
                tokenize_datetime(value, kind)?;
                let slot = match kind {
                    Kind::Date => &mut self.date_format,
                    Kind::Timestamp => &mut self.timestamp_format,
                    Kind::TimestampTz => &mut self.timestamp_tz_format,
                };
                *slot = value.to_owned();
            }
            "NLS_NUMERIC_CHARACTERS" => {
                let mut c = value.chars();
                match (c.next(), c.next(), c.next()) {
                    (Some(d), Some(g), None)
                        if d != g
                            && ![d, g].iter().any(|x| {
                                x.is_ascii_digit() || matches!(x, '+' | '-' | '<' | '>')
                            }) =>
                    {
                        self.decimal = d;
                        self.group = g;
                    }
                    _ => return Err(OraError::new(12705, 0)),
                }
            }
            "NLS_CURRENCY" => self.currency = value.to_owned(),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The format of a datetime kind when none is given.
    pub fn default_format(&self, kind: Kind) -> &str {
        match kind {
            Kind::Date => &self.date_format,
            Kind::Timestamp => &self.timestamp_format,
            Kind::TimestampTz => &self.timestamp_tz_format,
        }
    }

    /// The settings with a function's `nlsparam` argument applied
    /// (`'NLS_NUMERIC_CHARACTERS = '',.'' NLS_CURRENCY = ''EUR'''`).
    pub fn with_param(&self, nlsparam: &str) -> Result<Nls, OraError> {
        let mut out = self.clone();
        let mut rest = nlsparam.trim();
        while !rest.is_empty() {
            let Some(eq) = rest.find('=') else {
                return Err(OraError::new(12702, 0));
            };
            let name = rest[..eq].trim().to_ascii_uppercase();
            let after = rest[eq + 1..].trim_start();
            let Some(body) = after.strip_prefix('\'') else {
                return Err(OraError::new(12702, 0));
            };
            let Some(end) = body.find('\'') else {
                return Err(OraError::new(12702, 0));
            };
            let value = &body[..end];
            match name.as_str() {
                "NLS_DATE_LANGUAGE" => {
                    if !matches!(value.to_ascii_uppercase().as_str(), "AMERICAN" | "ENGLISH") {
                        return Err(OraError::new(12702, 0));
                    }
                }
                "NLS_ISO_CURRENCY" => {}
                _ => {
                    if !out.set(&name, value)? {
                        return Err(OraError::new(12702, 0));
                    }
                }
            }
            rest = body[end + 1..].trim_start();
        }
        Ok(out)
    }
}

/// Which datetime type a format renders or reads: a DATE has no fractional seconds and no
/// zone, a TIMESTAMP no zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// DATE.
    Date,
    /// TIMESTAMP.
    Timestamp,
    /// TIMESTAMP WITH TIME ZONE.
    TimestampTz,
}

// ---------------------------------------------------------------------------------------
// Datetime format models.

/// A datetime format element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dt {
    /// YEAR: the year spelled out (rendering only).
    YearWords,
    /// SYEAR: YEAR with `-` before a BC year.
    SignedYearWords,
    SignedYear,
    YearComma,
    Year4,
    Year3,
    Year2,
    Year1,
    RoundYear4,
    RoundYear2,
    IsoYear4,
    IsoYear3,
    IsoYear2,
    IsoYear1,
    Month2,
    MonthName,
    MonthAbbrev,
    RomanMonth,
    DayOfYear,
    DayOfMonth,
    DayOfWeek,
    DayName,
    DayAbbrev,
    Hour24,
    Hour12,
    Minute,
    SecondsOfDay,
    Second,
    /// FF (0: the type's precision) or FF1..FF9.
    Fraction(u8),
    Meridian,
    MeridianDots,
    Era,
    EraDots,
    Julian,
    Quarter,
    WeekOfYear,
    WeekOfMonth,
    IsoWeek,
    Century,
    SignedCentury,
    TzHour,
    TzMinute,
    TzRegion,
    Radix,
}

/// How a word element is written, which is how its value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    Upper,
    Capital,
    Lower,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Lit(String),
    /// FM: toggles fill mode.
    Fm,
    /// FX: exact matching from here on.
    Fx,
    El {
        el: Dt,
        case: Case,
        /// TH suffix (its case).
        th: Option<Case>,
        /// SP suffix.
        sp: bool,
    },
}

/// The element names, longest first where one is a prefix of another.
const DT_NAMES: &[(&str, Dt)] = &[
    ("SYEAR", Dt::SignedYearWords),
    ("SYYYY", Dt::SignedYear),
    ("YEAR", Dt::YearWords),
    ("Y,YYY", Dt::YearComma),
    ("YYYY", Dt::Year4),
    ("YYY", Dt::Year3),
    ("YY", Dt::Year2),
    ("Y", Dt::Year1),
    ("RRRR", Dt::RoundYear4),
    ("RR", Dt::RoundYear2),
    ("RM", Dt::RomanMonth),
    ("IYYY", Dt::IsoYear4),
    ("IYY", Dt::IsoYear3),
    ("IY", Dt::IsoYear2),
    ("IW", Dt::IsoWeek),
    ("I", Dt::IsoYear1),
    ("MONTH", Dt::MonthName),
    ("MON", Dt::MonthAbbrev),
    ("MM", Dt::Month2),
    ("MI", Dt::Minute),
    ("DDD", Dt::DayOfYear),
    ("DD", Dt::DayOfMonth),
    ("DAY", Dt::DayName),
    ("DY", Dt::DayAbbrev),
    ("D", Dt::DayOfWeek),
    ("HH24", Dt::Hour24),
    ("HH12", Dt::Hour12),
    ("HH", Dt::Hour12),
    ("SSSSS", Dt::SecondsOfDay),
    ("SS", Dt::Second),
    ("SCC", Dt::SignedCentury),
    ("CC", Dt::Century),
    ("FF1", Dt::Fraction(1)),
    ("FF2", Dt::Fraction(2)),
    ("FF3", Dt::Fraction(3)),
    ("FF4", Dt::Fraction(4)),
    ("FF5", Dt::Fraction(5)),
    ("FF6", Dt::Fraction(6)),
    ("FF7", Dt::Fraction(7)),
    ("FF8", Dt::Fraction(8)),
    ("FF9", Dt::Fraction(9)),
    ("FF", Dt::Fraction(0)),
    ("AM", Dt::Meridian),
    ("PM", Dt::Meridian),
    ("A.M.", Dt::MeridianDots),
    ("P.M.", Dt::MeridianDots),
    ("AD", Dt::Era),
    ("BC", Dt::Era),
    ("A.D.", Dt::EraDots),
    ("B.C.", Dt::EraDots),
    ("J", Dt::Julian),
    ("Q", Dt::Quarter),
    ("WW", Dt::WeekOfYear),
    ("W", Dt::WeekOfMonth),
    ("TZH", Dt::TzHour),
    ("TZM", Dt::TzMinute),
    ("TZR", Dt::TzRegion),
    ("X", Dt::Radix),
];

/// Punctuation a datetime format may carry as it is.
fn is_dt_punctuation(c: char) -> bool {
    matches!(c, '-' | '/' | ',' | '.' | ';' | ':' | ' ' | '\t' | '\n')
}

fn case_of(written: &str) -> Case {
    let mut c = written.chars().filter(|c| c.is_ascii_alphabetic());
    match (c.next(), c.next()) {
        (Some(a), _) if a.is_ascii_lowercase() => Case::Lower,
        (Some(_), Some(b)) if b.is_ascii_lowercase() && written.len() > 1 => Case::Capital,
        _ => Case::Upper,
    }
}

fn apply_case(case: Case, word: &str) -> String {
    match case {
        Case::Upper => word.to_uppercase(),
        Case::Lower => word.to_lowercase(),
        Case::Capital => {
            // Each word capitalized ("Twenty-Six").
            let mut out = String::new();
            let mut start = true;
            for ch in word.chars() {
                if start {
                    out.extend(ch.to_uppercase());
                } else {
                    out.extend(ch.to_lowercase());
                }
                start = !ch.is_alphabetic();
            }
            out
        }
    }
}

/// Splits a datetime format into tokens (ORA-01821 for anything that is no element,
/// punctuation or quoted text; FF and TZ elements only where the kind has them).
/// The first characters of `s`, upper case: enough to compare with any element name.
fn upper_head(s: &str) -> String {
    s.chars().take(16).collect::<String>().to_ascii_uppercase()
}

fn tokenize_datetime(fmt: &str, kind: Kind) -> Result<Vec<Tok>, OraError> {
    let unknown = || OraError::new(1821, 0);
    let mut out = Vec::new();
    let mut rest = fmt;
    while let Some(c) = rest.chars().next() {
        if c == '"' {
            let body = &rest[1..];
            let end = body.find('"').unwrap_or(body.len());
            out.push(Tok::Lit(body[..end].to_owned()));
            rest = body.get(end + 1..).unwrap_or("");
            continue;
        }
        // The longest element name is a few characters: upper-casing only the head keeps a
        // long format model (a bind of any length) linear.
        let up = upper_head(rest);
        // Abbreviated formats expand to their AMERICA definitions.
        let expansions: [(&str, &str); 3] = [
            ("DL", "fmDay, Month dd, yyyyfm"),
            ("DS", "MM/DD/YYYY"),
            ("TS", "HH:MI:SS AM"),
        ];
        if let Some((name, exp)) = expansions.iter().find(|(n, _)| up.starts_with(n)) {
            out.extend(tokenize_datetime(exp, kind)?);
            rest = &rest[name.len()..];
            continue;
        }
        if up.starts_with("FM") || up.starts_with("FX") {
            out.push(if up.starts_with("FM") {
                Tok::Fm
            } else {
                Tok::Fx
            });
            rest = &rest[2..];
            continue;
        }
        if let Some((name, el)) = DT_NAMES.iter().find(|(n, _)| up.starts_with(n)) {
            let written = &rest[..name.len()];
            let fraction_or_zone = matches!(
                el,
                Dt::Fraction(_) | Dt::TzHour | Dt::TzMinute | Dt::TzRegion
            );
            if fraction_or_zone
                && (kind == Kind::Date
                    || (kind == Kind::Timestamp && !matches!(el, Dt::Fraction(_))))
            {
                return Err(unknown());
            }
            rest = &rest[name.len()..];
            let mut th = None;
            let mut sp = false;
            loop {
                let up = upper_head(rest);
                if th.is_none() && up.starts_with("TH") {
                    th = Some(case_of(&rest[..2]));
                    rest = &rest[2..];
                } else if !sp && up.starts_with("SP") {
                    sp = true;
                    rest = &rest[2..];
                } else {
                    break;
                }
            }
            out.push(Tok::El {
                el: *el,
                case: case_of(written),
                th,
                sp,
            });
            continue;
        }
        if c.is_alphanumeric() {
            return Err(unknown());
        }
        let lit: String = rest
            .chars()
            .take_while(|c| !c.is_alphanumeric() && *c != '"')
            .collect();
        rest = &rest[lit.len()..];
        out.push(Tok::Lit(lit));
    }
    Ok(out)
}

const MONTHS: [&str; 12] = [
    "JANUARY",
    "FEBRUARY",
    "MARCH",
    "APRIL",
    "MAY",
    "JUNE",
    "JULY",
    "AUGUST",
    "SEPTEMBER",
    "OCTOBER",
    "NOVEMBER",
    "DECEMBER",
];
const DAYS: [&str; 7] = [
    "SUNDAY",
    "MONDAY",
    "TUESDAY",
    "WEDNESDAY",
    "THURSDAY",
    "FRIDAY",
    "SATURDAY",
];
const ROMAN_MONTHS: [&str; 12] = [
    "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII",
];

/// Julian day number of 1970-01-01 (Oracle's `J` counts from January 1, 4712 BC).
const JULIAN_UNIX_EPOCH: i64 = 2_440_588;

fn days_since_epoch(year: i32, month: u8, day: u8) -> i64 {
    let d = DateTime {
        year,
        month,
        day,
        hour: 0,
        minute: 0,
        second: 0,
        nanos: 0,
        offset_minutes: 0,
    };
    d.to_unix().0.div_euclid(86_400)
}

/// Leap years of Oracle's calendar: Julian (every fourth) before 1582, Gregorian after.
fn is_leap(year: i32) -> bool {
    if year < 1582 {
        return year % 4 == 0;
    }
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// 0 = Sunday.
fn weekday(year: i32, month: u8, day: u8) -> usize {
    usize::try_from((days_since_epoch(year, month, day) + 4).rem_euclid(7)).unwrap_or(0)
}

fn day_of_year(d: &DateTime) -> i64 {
    days_since_epoch(d.year, d.month, d.day) - days_since_epoch(d.year, 1, 1) + 1
}

/// ISO 8601 (year, week): weeks start on Monday, week 1 holds the year's first Thursday.
fn iso_week(d: &DateTime) -> (i32, i64) {
    let days = days_since_epoch(d.year, d.month, d.day);
    // Monday = 0.
    let wd = (days + 3).rem_euclid(7);
    let thursday = days - wd + 3;
    let t = DateTime::from_unix(thursday * 86_400, 0);
    let week = (thursday - days_since_epoch(t.year, 1, 1)) / 7 + 1;
    (t.year, week)
}

fn ordinal_suffix(n: i64) -> &'static str {
    match (n % 100, n % 10) {
        (11..=13, _) => "TH",
        (_, 1) => "ST",
        (_, 2) => "ND",
        (_, 3) => "RD",
        _ => "TH",
    }
}

/// A number in English words, as the SP suffix spells it (`FOUR THOUSAND TWENTY-SIX`).
fn spell(n: i64) -> String {
    const ONES: [&str; 20] = [
        "ZERO",
        "ONE",
        "TWO",
        "THREE",
        "FOUR",
        "FIVE",
        "SIX",
        "SEVEN",
        "EIGHT",
        "NINE",
        "TEN",
        "ELEVEN",
        "TWELVE",
        "THIRTEEN",
        "FOURTEEN",
        "FIFTEEN",
        "SIXTEEN",
        "SEVENTEEN",
        "EIGHTEEN",
        "NINETEEN",
    ];
    const TENS: [&str; 10] = [
        "", "", "TWENTY", "THIRTY", "FORTY", "FIFTY", "SIXTY", "SEVENTY", "EIGHTY", "NINETY",
    ];
    fn below_thousand(n: usize, out: &mut Vec<String>) {
        if n >= 100 {
            out.push(format!("{} HUNDRED", ONES[n / 100]));
        }
        let r = n % 100;
        if r == 0 {
        } else if r < 20 {
            out.push(ONES[r].to_owned());
        } else if r.is_multiple_of(10) {
            out.push(TENS[r / 10].to_owned());
        } else {
            out.push(format!("{}-{}", TENS[r / 10], ONES[r % 10]));
        }
    }
    let mut n = usize::try_from(n.unsigned_abs()).unwrap_or(0);
    if n == 0 {
        return ONES[0].to_owned();
    }
    let mut parts = Vec::new();
    for (scale, name) in [(1_000_000, "MILLION"), (1_000, "THOUSAND")] {
        if n >= scale {
            below_thousand(n / scale, &mut parts);
            parts.push(name.to_owned());
            n %= scale;
        }
    }
    below_thousand(n, &mut parts);
    parts.join(" ")
}

/// A year as YEAR spells it: read in pairs of digits as English speaks years
/// (`TWENTY TWENTY-FOUR`, `NINETEEN NINETY-NINE`, `NINETEEN HUNDRED`), except that a year
/// whose hundreds are a whole thousand and whose last two digits are below ten is read as a
/// number (`TWO THOUSAND`, `TWO THOUSAND FIVE`), and years below 100 are their number. The
/// sign is the caller's (SYEAR).
fn spell_year(year: i64) -> String {
    let y = year.abs();
    let (hi, lo) = (y / 100, y % 100);
    if hi == 0 || (hi % 10 == 0 && lo < 10) {
        spell(y)
    } else if lo == 0 {
        format!("{} HUNDRED", spell(hi))
    } else {
        format!("{} {}", spell(hi), spell(lo))
    }
}

/// The ordinal of a spelled number (`TWENTY-ONE` → `TWENTY-FIRST`).
fn spell_ordinal(words: &str) -> String {
    let cut = words.rfind([' ', '-']).map_or(0, |i| i + 1);
    let (head, last) = words.split_at(cut);
    let last = match last {
        "ONE" => "FIRST".to_owned(),
        "TWO" => "SECOND".to_owned(),
        "THREE" => "THIRD".to_owned(),
        "FIVE" => "FIFTH".to_owned(),
        "EIGHT" => "EIGHTH".to_owned(),
        "NINE" => "NINTH".to_owned(),
        "TWELVE" => "TWELFTH".to_owned(),
        w if w.ends_with('Y') => format!("{}IETH", &w[..w.len() - 1]),
        w => format!("{w}TH"),
    };
    format!("{head}{last}")
}

/// `TO_CHAR(datetime, fmt)`.
pub fn format_datetime(d: &DateTime, kind: Kind, fmt: &str) -> Result<String, OraError> {
    let toks = tokenize_datetime(fmt, kind)?;
    let mut out = String::new();
    let mut fill = true;
    for t in &toks {
        let (el, case, th, sp) = match t {
            Tok::Lit(s) => {
                out.push_str(s);
                continue;
            }
            Tok::Fm => {
                fill = !fill;
                continue;
            }
            Tok::Fx => continue,
            Tok::El { el, case, th, sp } => (*el, *case, *th, *sp),
        };
        let hour12 = match d.hour % 12 {
            0 => 12,
            h => i64::from(h),
        };
        // (value, width) of a numeric element, or the text of a word element.
        let number = |v: i64, width: usize| -> Result<(i64, usize), String> { Ok((v, width)) };
        let word = |w: String| -> Result<(i64, usize), String> { Err(w) };
        let padded = |w: &str, width: usize| {
            if fill {
                format!("{w:<width$}")
            } else {
                w.to_owned()
            }
        };
        let year = i64::from(d.year);
        let (iso_year, iso_wk) = iso_week(d);
        let rendered = match el {
            Dt::YearWords | Dt::SignedYearWords => {
                let sign = if el == Dt::SignedYearWords && year < 0 {
                    "-"
                } else {
                    ""
                };
                word(format!("{sign}{}", apply_case(case, &spell_year(year))))
            }
            Dt::SignedYear => {
                let sign = if year < 0 { "-" } else { " " };
                let digits = if fill {
                    format!("{:04}", year.abs())
                } else {
                    year.abs().to_string()
                };
                word(format!("{}{digits}", if fill { sign } else { sign.trim() }))
            }
            Dt::YearComma => {
                let y = year.abs();
                word(format!("{},{:03}", y / 1000, y % 1000))
            }
            Dt::Year4 | Dt::RoundYear4 => number(year, 4),
            Dt::Year3 => number(year.rem_euclid(1000), 3),
            Dt::Year2 | Dt::RoundYear2 => number(year.rem_euclid(100), 2),
            Dt::Year1 => number(year.rem_euclid(10), 1),
            Dt::IsoYear4 => number(i64::from(iso_year), 4),
            Dt::IsoYear3 => number(i64::from(iso_year).rem_euclid(1000), 3),
            Dt::IsoYear2 => number(i64::from(iso_year).rem_euclid(100), 2),
            Dt::IsoYear1 => number(i64::from(iso_year).rem_euclid(10), 1),
            Dt::IsoWeek => number(iso_wk, 2),
            Dt::Month2 => number(i64::from(d.month), 2),
            Dt::MonthName => word(padded(
                &apply_case(case, MONTHS[usize::from(d.month.clamp(1, 12) - 1)]),
                9,
            )),
            Dt::MonthAbbrev => word(apply_case(
                case,
                &MONTHS[usize::from(d.month.clamp(1, 12) - 1)][..3],
            )),
            Dt::RomanMonth => word(padded(
                &apply_case(case, ROMAN_MONTHS[usize::from(d.month.clamp(1, 12) - 1)]),
                4,
            )),
            Dt::DayOfYear => number(day_of_year(d), 3),
            Dt::DayOfMonth => number(i64::from(d.day), 2),
            Dt::DayOfWeek => number(weekday(d.year, d.month, d.day) as i64 + 1, 1),
            Dt::DayName => word(padded(
                &apply_case(case, DAYS[weekday(d.year, d.month, d.day)]),
                9,
            )),
            Dt::DayAbbrev => word(apply_case(
                case,
                &DAYS[weekday(d.year, d.month, d.day)][..3],
            )),
            Dt::Hour24 => number(i64::from(d.hour), 2),
            Dt::Hour12 => number(hour12, 2),
            Dt::Minute => number(i64::from(d.minute), 2),
            Dt::Second => number(i64::from(d.second), 2),
            Dt::SecondsOfDay => number(
                i64::from(d.hour) * 3600 + i64::from(d.minute) * 60 + i64::from(d.second),
                5,
            ),
            Dt::Fraction(n) => {
                let n = if n == 0 { 6 } else { usize::from(n) };
                let all = format!("{:09}", d.nanos);
                word(all[..n].to_owned())
            }
            Dt::Meridian => word(apply_case(case, if d.hour < 12 { "AM" } else { "PM" })),
            Dt::MeridianDots => word(apply_case(case, if d.hour < 12 { "A.M." } else { "P.M." })),
            // Year 0, which only arithmetic reaches (see `assemble`), is AD as in Oracle.
            Dt::Era => word(apply_case(case, if d.year < 0 { "BC" } else { "AD" })),
            Dt::EraDots => word(apply_case(case, if d.year < 0 { "B.C." } else { "A.D." })),
            Dt::Julian => number(
                days_since_epoch(d.year, d.month, d.day) + JULIAN_UNIX_EPOCH,
                7,
            ),
            Dt::Quarter => number(i64::from(d.month.div_ceil(3)), 1),
            Dt::WeekOfYear => number((day_of_year(d) - 1) / 7 + 1, 2),
            Dt::WeekOfMonth => number((i64::from(d.day) - 1) / 7 + 1, 1),
            Dt::Century => number((year.abs() + 99) / 100, 2),
            Dt::SignedCentury => {
                let c = (year.abs() + 99) / 100;
                let sign = if year < 0 {
                    "-"
                } else if fill {
                    " "
                } else {
                    ""
                };
                word(if fill {
                    format!("{sign}{c:02}")
                } else {
                    format!("{sign}{c}")
                })
            }
            Dt::TzHour => {
                let h = d.offset_minutes / 60;
                let sign = if d.offset_minutes < 0 { '-' } else { '+' };
                word(format!("{sign}{:02}", h.abs()))
            }
            Dt::TzMinute => word(format!("{:02}", (d.offset_minutes % 60).abs())),
            Dt::TzRegion => word(super::eval::format_tz_offset(d.offset_minutes)),
            Dt::Radix => word(".".to_owned()),
        };
        match rendered {
            Err(text) => out.push_str(&text),
            Ok((v, width)) => {
                if sp {
                    let words = spell(v);
                    let words = if th.is_some() {
                        spell_ordinal(&words)
                    } else {
                        words
                    };
                    out.push_str(&apply_case(case, &words));
                    continue;
                }
                if fill {
                    out.push_str(&format!("{:0width$}", v.abs()));
                } else {
                    out.push_str(&v.abs().to_string());
                }
                if let Some(c) = th {
                    out.push_str(&apply_case(c, ordinal_suffix(v)));
                }
            }
        }
    }
    Ok(out)
}

/// Where a parsed element puts its value, for the "only once" rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Year,
    Month,
    Day,
    DayOfYear,
    Weekday,
    Hour,
    Minute,
    Second,
    SecondsOfDay,
    Fraction,
    Meridian,
    Era,
    Julian,
    TzHour,
    TzMinute,
    TzRegion,
    Radix,
}

fn group_of(el: Dt) -> Result<Group, OraError> {
    Ok(match el {
        Dt::SignedYear
        | Dt::YearComma
        | Dt::Year4
        | Dt::Year3
        | Dt::Year2
        | Dt::Year1
        | Dt::RoundYear4
        | Dt::RoundYear2 => Group::Year,
        Dt::Month2 | Dt::MonthName | Dt::MonthAbbrev | Dt::RomanMonth => Group::Month,
        Dt::DayOfMonth => Group::Day,
        Dt::DayOfYear => Group::DayOfYear,
        Dt::DayOfWeek | Dt::DayName | Dt::DayAbbrev => Group::Weekday,
        Dt::Hour24 | Dt::Hour12 => Group::Hour,
        Dt::Minute => Group::Minute,
        Dt::Second => Group::Second,
        Dt::SecondsOfDay => Group::SecondsOfDay,
        Dt::Fraction(_) => Group::Fraction,
        Dt::Meridian | Dt::MeridianDots => Group::Meridian,
        Dt::Era | Dt::EraDots => Group::Era,
        Dt::Julian => Group::Julian,
        Dt::TzHour => Group::TzHour,
        Dt::TzMinute => Group::TzMinute,
        Dt::TzRegion => Group::TzRegion,
        Dt::Radix => Group::Radix,
        // ORA-01820: format code cannot appear in date input format (the elements the SQL
        // Language Reference marks "No" under "Specify in TO_* datetime functions?").
        Dt::YearWords
        | Dt::SignedYearWords
        | Dt::IsoYear4
        | Dt::IsoYear3
        | Dt::IsoYear2
        | Dt::IsoYear1
        | Dt::IsoWeek
        | Dt::Quarter
        | Dt::WeekOfYear
        | Dt::WeekOfMonth
        | Dt::Century
        | Dt::SignedCentury => return Err(OraError::new(1820, 0)),
    })
}

/// Checks the "only once" rules of an input format: ORA-01812 (year), 01816 (month), 01813
/// (hour), 01817 (day of week), 01814 (AM/PM with A.M./P.M.), 01818 (HH24 with a
/// meridian), 01810 for any other element twice.
fn check_input_format(toks: &[Tok]) -> Result<(), OraError> {
    let mut seen: Vec<(Group, Dt)> = Vec::new();
    for t in toks {
        let Tok::El { el, .. } = t else { continue };
        let g = group_of(*el)?;
        if let Some((_, first)) = seen.iter().find(|(sg, _)| *sg == g) {
            let code = match g {
                Group::Year => 1812,
                Group::Month => 1816,
                Group::Hour => 1813,
                Group::Weekday => 1817,
                Group::Meridian if first != el => 1814,
                _ => 1810,
            };
            return Err(OraError::new(code, 0));
        }
        seen.push((g, *el));
    }
    let has = |e: Dt| seen.iter().any(|(_, x)| *x == e);
    if has(Dt::Hour24) && (has(Dt::Meridian) || has(Dt::MeridianDots)) {
        return Err(OraError::new(1818, 0));
    }
    Ok(())
}

/// The fields a string gave.
#[derive(Debug, Default)]
struct Parsed {
    year: Option<i64>,
    month: Option<i64>,
    day: Option<i64>,
    day_of_year: Option<i64>,
    hour: Option<i64>,
    hour12: bool,
    pm: Option<bool>,
    minute: Option<i64>,
    second: Option<i64>,
    seconds_of_day: Option<i64>,
    nanos: Option<u32>,
    julian: Option<i64>,
    bc: bool,
    tz: Option<i64>,
    /// TZH was written with `-` (`-00` too).
    tz_negative: bool,
    tz_minutes: Option<i64>,
    /// TZR: the region's offset in minutes.
    tz_region: Option<i64>,
}

/// The cursor over the input of TO_DATE.
struct Input<'a> {
    s: &'a str,
}

impl Input<'_> {
    fn skip_spaces(&mut self) {
        self.s = self.s.trim_start();
    }

    /// Up to `max` digits (at least one: ORA-01858 otherwise); with `exact`, exactly `max`
    /// (ORA-01862).
    fn digits(&mut self, max: usize, exact: bool) -> Result<(i64, usize), OraError> {
        let n = self
            .s
            .bytes()
            .take(max)
            .take_while(u8::is_ascii_digit)
            .count();
        if n == 0 {
            return Err(OraError::new(1858, 0));
        }
        if exact && n != max {
            return Err(OraError::new(1862, 0));
        }
        let v = self.s[..n].parse::<i64>().unwrap_or(0);
        self.s = &self.s[n..];
        Ok((v, n))
    }

    /// A numeric field of up to `max` digits (exactly `max` with `exact`, see
    /// [`Input::digits`]) whose value must lie in `range`, else ORA-`code` (the field's own
    /// range error: ORA-01843 for a month, ORA-01850 for an hour, ...).
    fn field(
        &mut self,
        max: usize,
        exact: bool,
        range: std::ops::RangeInclusive<i64>,
        code: u32,
    ) -> Result<i64, OraError> {
        let (v, _) = self.digits(max, exact)?;
        if range.contains(&v) {
            Ok(v)
        } else {
            Err(OraError::new(code, 0))
        }
    }

    /// One of `words` (case-insensitive, longest first); its index.
    fn word(&mut self, words: &[&str]) -> Option<usize> {
        let up = upper_head(self.s);
        debug_assert!(words.iter().all(|w| w.len() <= 16));
        let mut best: Option<(usize, usize)> = None;
        for (i, w) in words.iter().enumerate() {
            if up.starts_with(w) && best.is_none_or(|(_, l)| w.len() > l) {
                best = Some((i, w.len()));
            }
        }
        let (i, len) = best?;
        self.s = &self.s[len..];
        Some(i)
    }
}

fn month_names(full: bool, abbrev: bool) -> Vec<(usize, String)> {
    let mut v = Vec::new();
    for (i, m) in MONTHS.iter().enumerate() {
        if full {
            v.push((i, (*m).to_owned()));
        }
        if abbrev {
            v.push((i, m[..3].to_owned()));
        }
    }
    v
}

fn parse_month_name(inp: &mut Input<'_>, full: bool, abbrev: bool) -> Result<i64, OraError> {
    let names = month_names(full, abbrev);
    let words: Vec<&str> = names.iter().map(|(_, w)| w.as_str()).collect();
    match inp.word(&words) {
        Some(i) => Ok(names[i].0 as i64 + 1),
        None => Err(OraError::new(1843, 0)),
    }
}

/// `TO_DATE(text, fmt)` / `TO_TIMESTAMP(text, fmt)`: `now` gives the year and month a
/// string without them takes (and the century of `YY`/`RR`).
pub fn parse_datetime(
    text: &str,
    fmt: &str,
    kind: Kind,
    now: &DateTime,
) -> Result<DateTime, OraError> {
    parse_datetime_zone(text, fmt, kind, now).map(|(d, _)| d)
}

/// [`parse_datetime`] that also tells whether the string gave a time zone (TZH/TZM/TZR)
/// and which (minutes east of UTC), for `TO_TIMESTAMP_TZ`, whose string without one is in
/// the session's zone. The date and time are the zone's wall clock. A region is kept as
/// its offset: UTC and GMT, or a fixed offset `[+|-]HH:MI`; any other name is ORA-01882
/// (Oracle's time-zone file is not simulated).
pub fn parse_datetime_zone(
    text: &str,
    fmt: &str,
    kind: Kind,
    now: &DateTime,
) -> Result<(DateTime, Option<i16>), OraError> {
    let toks = tokenize_datetime(fmt, kind)?;
    check_input_format(&toks)?;
    let mut p = Parsed::default();
    let mut inp = Input { s: text };
    inp.skip_spaces();
    let mut exact = false;
    let mut fill = false;
    for (i, t) in toks.iter().enumerate() {
        if inp.s.is_empty() {
            // What is left of the format may only be time of day (and punctuation).
            let rest_is_time = toks[i..].iter().all(|t| match t {
                Tok::El { el, .. } => matches!(
                    el,
                    Dt::Hour24
                        | Dt::Hour12
                        | Dt::Minute
                        | Dt::Second
                        | Dt::SecondsOfDay
                        | Dt::Fraction(_)
                        | Dt::Meridian
                        | Dt::MeridianDots
                        | Dt::Radix
                        | Dt::TzHour
                        | Dt::TzMinute
                        | Dt::TzRegion
                ),
                _ => true,
            });
            if rest_is_time {
                break;
            }
            return Err(OraError::new(1840, 0));
        }
        let (el, _case) = match t {
            Tok::Fm => {
                fill = !fill;
                continue;
            }
            Tok::Fx => {
                exact = !exact;
                continue;
            }
            Tok::Lit(l) => {
                let signed_next = matches!(
                    toks.get(i + 1),
                    Some(Tok::El {
                        el: Dt::SignedYear | Dt::TzHour | Dt::TzRegion,
                        ..
                    })
                );
                parse_literal(&mut inp, l, exact, signed_next)?;
                continue;
            }
            Tok::El { el, case, .. } => (*el, *case),
        };
        let fx = exact && !fill;
        if !exact {
            inp.skip_spaces();
        }
        match el {
            Dt::SignedYear | Dt::Year4 | Dt::RoundYear4 => {
                let neg = el == Dt::SignedYear && inp.s.starts_with('-');
                if el == Dt::SignedYear && (inp.s.starts_with('-') || inp.s.starts_with('+')) {
                    inp.s = &inp.s[1..];
                }
                let (v, n) = inp.digits(4, fx)?;
                let v = if el == Dt::RoundYear4 && n <= 2 {
                    round_year(v, now.year)
                } else {
                    v
                };
                p.year = Some(if neg { -v } else { v });
            }
            Dt::YearComma => {
                let (hi, _) = inp.digits(1, fx)?;
                if !inp.s.starts_with(',') {
                    return Err(OraError::new(1861, 0));
                }
                inp.s = &inp.s[1..];
                let (lo, _) = inp.digits(3, true)?;
                p.year = Some(hi * 1000 + lo);
            }
            Dt::Year3 | Dt::Year2 | Dt::Year1 | Dt::RoundYear2 => {
                let width = match el {
                    Dt::Year3 => 3,
                    Dt::Year1 => 1,
                    _ => 2,
                };
                // YY and RR read a four-digit year too (Oracle's alternative elements).
                let max = if width == 2 && !fx { 4 } else { width };
                let (v, n) = inp.digits(max, fx)?;
                let cur = i64::from(now.year);
                p.year = Some(if n > width {
                    v
                } else if el == Dt::RoundYear2 {
                    round_year(v, now.year)
                } else {
                    let m = 10i64.pow(u32::try_from(width).unwrap_or(0));
                    cur - cur.rem_euclid(m) + v
                });
            }
            Dt::Month2 => {
                if inp.s.starts_with(|c: char| c.is_ascii_alphabetic()) && !fx {
                    p.month = Some(parse_month_name(&mut inp, true, true)?);
                } else {
                    let v = inp.field(2, fx, 1..=12, 1843)?;
                    p.month = Some(v);
                }
            }
            Dt::MonthName | Dt::MonthAbbrev => {
                let full = el == Dt::MonthName || !fx;
                let abbrev = el == Dt::MonthAbbrev || !fx;
                p.month = Some(parse_month_name(&mut inp, full, abbrev)?);
            }
            Dt::RomanMonth => {
                let romans: Vec<&str> = ROMAN_MONTHS.to_vec();
                match inp.word(&romans) {
                    Some(i) => p.month = Some(i as i64 + 1),
                    None => return Err(OraError::new(1843, 0)),
                }
            }
            Dt::DayOfMonth => {
                let v = inp.field(2, fx, 1..=31, 1847)?;
                p.day = Some(v);
            }
            Dt::DayOfYear => {
                let (v, _) = inp.digits(3, fx)?;
                p.day_of_year = Some(v);
            }
            Dt::DayOfWeek => {
                inp.field(1, fx, 1..=7, 1846)?;
            }
            Dt::DayName | Dt::DayAbbrev => {
                let mut names: Vec<String> = DAYS.iter().map(|d| (*d).to_owned()).collect();
                names.extend(DAYS.iter().map(|d| d[..3].to_owned()));
                let words: Vec<&str> = names.iter().map(String::as_str).collect();
                if inp.word(&words).is_none() {
                    return Err(OraError::new(1846, 0));
                }
            }
            Dt::Hour24 => {
                let v = inp.field(2, fx, 0..=23, 1850)?;
                p.hour = Some(v);
            }
            Dt::Hour12 => {
                let v = inp.field(2, fx, 1..=12, 1849)?;
                p.hour = Some(v);
                p.hour12 = true;
            }
            Dt::Minute => {
                let v = inp.field(2, fx, 0..=59, 1851)?;
                p.minute = Some(v);
            }
            Dt::Second => {
                let v = inp.field(2, fx, 0..=59, 1852)?;
                p.second = Some(v);
            }
            Dt::SecondsOfDay => {
                let v = inp.field(5, fx, 0..=86_399, 1853)?;
                p.seconds_of_day = Some(v);
            }
            Dt::Fraction(n) => {
                let max = if n == 0 { 9 } else { usize::from(n) };
                let (v, len) = inp.digits(max, false)?;
                let scale = 10u32.pow(u32::try_from(9 - len).unwrap_or(0));
                p.nanos = Some(u32::try_from(v).unwrap_or(0) * scale);
            }
            Dt::Meridian | Dt::MeridianDots => match inp.word(&["A.M.", "P.M.", "AM", "PM"]) {
                Some(i) => p.pm = Some(i % 2 == 1),
                None => return Err(OraError::new(1855, 0)),
            },
            Dt::Era | Dt::EraDots => match inp.word(&["A.D.", "B.C.", "AD", "BC"]) {
                Some(i) => p.bc = i % 2 == 1,
                None => return Err(OraError::new(1856, 0)),
            },
            Dt::Julian => {
                let v = inp.field(7, fx, 1..=5_373_484, 1854)?;
                p.julian = Some(v);
            }
            Dt::TzHour => {
                let neg = inp.s.starts_with('-');
                if inp.s.starts_with(['-', '+']) {
                    inp.s = &inp.s[1..];
                }
                let (v, _) = inp.digits(2, fx)?;
                p.tz = Some(v);
                p.tz_negative = neg;
            }
            Dt::TzRegion => p.tz_region = Some(parse_region(&mut inp)?),
            Dt::TzMinute => {
                let (v, _) = inp.digits(2, fx)?;
                p.tz_minutes = Some(v);
            }
            Dt::Radix => {
                if !inp.s.starts_with('.') {
                    return Err(OraError::new(1861, 0));
                }
                inp.s = &inp.s[1..];
            }
            _ => return Err(OraError::new(1820, 0)),
        }
    }
    if !inp.s.trim().is_empty() {
        return Err(OraError::new(1830, 0));
    }
    assemble(&p, now)
}

/// A TZR value: `UTC`, `GMT` or `[+|-]HH:MI`, as minutes east of UTC (ORA-01882 else).
fn parse_region(inp: &mut Input<'_>) -> Result<i64, OraError> {
    let not_found = || OraError::new(1882, 0);
    if let Some(sign) = inp.s.chars().next().filter(|c| matches!(c, '+' | '-')) {
        inp.s = &inp.s[1..];
        let (h, _) = inp.digits(2, false).map_err(|_| not_found())?;
        inp.s = inp.s.strip_prefix(':').ok_or_else(not_found)?;
        let (m, _) = inp.digits(2, true).map_err(|_| not_found())?;
        if m > 59 {
            return Err(not_found());
        }
        let minutes = h * 60 + m;
        return Ok(if sign == '-' { -minutes } else { minutes });
    }
    let len = inp
        .s
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '/')))
        .unwrap_or(inp.s.len());
    match inp.s[..len].to_ascii_uppercase().as_str() {
        "UTC" | "GMT" => {
            inp.s = &inp.s[len..];
            Ok(0)
        }
        _ => Err(not_found()),
    }
}

/// RR: a two-digit year in the century that puts it nearest to now.
fn round_year(yy: i64, now_year: i32) -> i64 {
    let now = i64::from(now_year);
    let century = now - now.rem_euclid(100);
    match (yy < 50, now.rem_euclid(100) < 50) {
        (true, true) | (false, false) => century + yy,
        (false, true) => century - 100 + yy,
        (true, false) => century + 100 + yy,
    }
}

/// A literal of the format against the input: punctuation matches any run of
/// non-alphanumeric characters (or none, when digits follow); quoted text matches itself,
/// case-insensitively. FX asks for the literal exactly. Before an element that takes a sign
/// (`signed_next`: SYYYY, TZH, TZR) the run leaves a last `+`/`-` to that element.
fn parse_literal(
    inp: &mut Input<'_>,
    lit: &str,
    exact: bool,
    signed_next: bool,
) -> Result<(), OraError> {
    if exact {
        return match inp.s.strip_prefix(lit) {
            Some(r) => {
                inp.s = r;
                Ok(())
            }
            None => Err(OraError::new(1861, 0)),
        };
    }
    if lit.chars().all(is_dt_punctuation) {
        let mut n = inp
            .s
            .find(|c: char| c.is_alphanumeric())
            .unwrap_or(inp.s.len());
        if signed_next && inp.s[..n].ends_with(['+', '-']) {
            n -= 1;
        }
        if n == 0 && !lit.trim().is_empty() && inp.s.starts_with(|c: char| c.is_alphabetic()) {
            return Err(OraError::new(1861, 0));
        }
        inp.s = &inp.s[n..];
        return Ok(());
    }
    inp.skip_spaces();
    let want = lit.trim_start();
    let got = inp.s.get(..want.len()).unwrap_or("");
    if got.eq_ignore_ascii_case(want) {
        inp.s = &inp.s[want.len()..];
        Ok(())
    } else {
        Err(OraError::new(1861, 0))
    }
}

fn assemble(p: &Parsed, now: &DateTime) -> Result<(DateTime, Option<i16>), OraError> {
    let mut year = p.year.unwrap_or(i64::from(now.year));
    if p.bc {
        year = -year;
    }
    // January 1, 4712 BC is the first day a DATE holds (ORA-01841's text says -4713, but
    // Oracle refuses that year too).
    if year == 0 || !(-4712..=9999).contains(&year) {
        return Err(OraError::new(1841, 0));
    }
    let year = i32::try_from(year).unwrap_or(1);
    let (mut month, mut day) = (
        u8::try_from(p.month.unwrap_or(i64::from(now.month))).unwrap_or(1),
        u8::try_from(p.day.unwrap_or(1)).unwrap_or(1),
    );
    let mut year_out = year;
    if let Some(doy) = p.day_of_year {
        let len = if is_leap(year) { 366 } else { 365 };
        if !(1..=len).contains(&doy) {
            return Err(OraError::new(1848, 0));
        }
        let d = DateTime::from_unix((days_since_epoch(year, 1, 1) + doy - 1) * 86_400, 0);
        month = d.month;
        day = d.day;
    }
    if let Some(j) = p.julian {
        let d = DateTime::from_unix((j - JULIAN_UNIX_EPOCH) * 86_400, 0);
        year_out = d.year;
        month = d.month;
        day = d.day;
    }
    if day > days_in_month(year_out, month) {
        return Err(OraError::new(1839, 0));
    }
    // 1582-10-05..14 do not exist (the Julian calendar ends on the 4th, the Gregorian
    // begins on the 15th): Oracle (12.2 and later) reads them as the 15th.
    if (year_out, month) == (1582, 10) && (5..15).contains(&day) {
        day = 15;
    }
    let mut hour = p.hour.unwrap_or(0);
    if p.hour12 {
        hour %= 12;
        if p.pm == Some(true) {
            hour += 12;
        }
    }
    let (mut minute, mut second) = (p.minute.unwrap_or(0), p.second.unwrap_or(0));
    if let Some(s) = p.seconds_of_day {
        hour = s / 3600;
        minute = s % 3600 / 60;
        second = s % 60;
    }
    let zone = match (p.tz_region, p.tz, p.tz_minutes) {
        (Some(region), _, _) => Some(region),
        (None, None, None) => None,
        (None, h, m) => {
            let minutes = h.unwrap_or(0) * 60 + m.unwrap_or(0);
            Some(if p.tz_negative { -minutes } else { minutes })
        }
    };
    let zone = zone.map(|z| i16::try_from(z).unwrap_or(0));
    let offset = zone.unwrap_or(0);
    Ok((
        DateTime {
            year: year_out,
            month,
            day,
            hour: u8::try_from(hour).unwrap_or(0),
            minute: u8::try_from(minute).unwrap_or(0),
            second: u8::try_from(second).unwrap_or(0),
            nanos: p.nanos.unwrap_or(0),
            offset_minutes: offset,
        },
        zone,
    ))
}

// ---------------------------------------------------------------------------------------
// Number format models.

/// A parsed number format model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct NumFmt {
    fill_mode: bool,
    blank_zero: bool,
    /// `$` (or `L`/`C`/`U`: the currency text), printed before the digits ...
    currency: Option<String>,
    /// ... or after them (trailing L/C/U).
    currency_trailing: bool,
    leading_sign: bool,
    trailing_sign: bool,
    minus: bool,
    brackets: bool,
    /// Integer positions, from the left: `Some(true)` for `0`, `Some(false)` for `9`,
    /// `None` for a group separator (the char to print).
    int: Vec<IntPos>,
    /// The position of the leftmost `0` among the integer digits (leading zeros from there).
    first_zero: Option<usize>,
    /// Decimal character when the model has one (`.` or D's character).
    point: Option<char>,
    /// Fractional digit positions: true for `0`.
    frac: Vec<bool>,
    /// `EEEE`.
    sci: bool,
    /// Digits after `V` (multiply by 10^n).
    shift: usize,
    /// `X` positions (hex), with upper or lower case digits.
    hex: Option<(usize, bool)>,
    /// `RN`/`rn`.
    roman: Option<bool>,
    /// `TM`, `TM9`, `TME`.
    text_min: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IntPos {
    Digit,
    Group(char),
}

fn bad_model() -> OraError {
    OraError::new(1481, 0)
}

fn parse_num_fmt(fmt: &str, nls: &Nls) -> Result<NumFmt, OraError> {
    let mut f = NumFmt::default();
    let up = fmt.to_ascii_uppercase();
    let mut rest: &str = &up;
    let original = fmt;
    let mut seen_digit = false;
    let mut after_v = false;
    let mut done_digits = false;
    let at_start = |rest: &str| rest.len() == up.len();
    while !rest.is_empty() {
        let pos = up.len() - rest.len();
        if rest.starts_with("FM") {
            if f.fill_mode {
                return Err(bad_model());
            }
            f.fill_mode = true;
            rest = &rest[2..];
            continue;
        }
        if let Some(tail) = rest.strip_prefix("TM") {
            if !(at_start(rest) || f.fill_mode && pos == 2) {
                return Err(bad_model());
            }
            f.text_min = Some(match tail {
                "" | "9" => false,
                "E" => true,
                _ => return Err(bad_model()),
            });
            return Ok(f);
        }
        if rest.starts_with("RN") {
            let lower = original[pos..].starts_with('r');
            f.roman = Some(lower);
            rest = &rest[2..];
            if !rest.is_empty() || seen_digit {
                return Err(bad_model());
            }
            return Ok(f);
        }
        if rest.starts_with("EEEE") {
            if !seen_digit || f.sci {
                return Err(bad_model());
            }
            f.sci = true;
            done_digits = true;
            rest = &rest[4..];
            continue;
        }
        if rest.starts_with("MI") {
            rest = &rest[2..];
            if !rest.is_empty() || f.leading_sign || f.trailing_sign || f.brackets || f.minus {
                return Err(bad_model());
            }
            f.minus = true;
            continue;
        }
        if rest.starts_with("PR") {
            rest = &rest[2..];
            if !rest.is_empty() || f.leading_sign || f.trailing_sign || f.minus {
                return Err(bad_model());
            }
            f.brackets = true;
            continue;
        }
        let c = rest.chars().next().unwrap_or(' ');
        rest = &rest[c.len_utf8()..];
        match c {
            '9' | '0' => {
                if done_digits || f.hex.is_some() {
                    return Err(bad_model());
                }
                seen_digit = true;
                if after_v {
                    // Digits after V are integer positions of the shifted value.
                    f.shift += 1;
                    f.int.push(IntPos::Digit);
                } else if f.point.is_some() {
                    f.frac.push(c == '0');
                } else {
                    if c == '0' && f.first_zero.is_none() {
                        f.first_zero = Some(f.int.iter().filter(|p| **p == IntPos::Digit).count());
                    }
                    f.int.push(IntPos::Digit);
                }
            }
            'X' => {
                let lower = original[pos..].starts_with('x');
                match &mut f.hex {
                    Some((n, _)) => *n += 1,
                    None => {
                        // Leading zeros (`0XX`) are allowed before X.
                        if f.point.is_some() || f.int.iter().any(|p| *p != IntPos::Digit) {
                            return Err(bad_model());
                        }
                        f.hex = Some((1, lower));
                    }
                }
            }
            ',' | 'G' => {
                let ch = if c == 'G' { nls.group } else { ',' };
                if f.point.is_some() || !seen_digit || done_digits || after_v {
                    return Err(bad_model());
                }
                f.int.push(IntPos::Group(ch));
            }
            '.' | 'D' => {
                if f.point.is_some() || done_digits || after_v {
                    return Err(bad_model());
                }
                f.point = Some(if c == 'D' { nls.decimal } else { '.' });
            }
            'V' => {
                if after_v || f.point.is_some() {
                    return Err(bad_model());
                }
                after_v = true;
            }
            '$' | 'L' | 'C' | 'U' => {
                if f.currency.is_some() {
                    return Err(bad_model());
                }
                let text = match c {
                    '$' => "$".to_owned(),
                    'C' => nls.iso_currency.clone(),
                    _ => nls.currency.clone(),
                };
                f.currency = Some(text);
                if c != '$' && seen_digit {
                    if !rest.is_empty()
                        && !rest.starts_with("MI")
                        && !rest.starts_with("PR")
                        && !rest.starts_with('S')
                    {
                        return Err(bad_model());
                    }
                    f.currency_trailing = true;
                }
            }
            'B' => f.blank_zero = true,
            'S' => {
                if f.leading_sign || f.trailing_sign || f.minus || f.brackets {
                    return Err(bad_model());
                }
                if !seen_digit && f.hex.is_none() && f.currency.is_none() {
                    f.leading_sign = true;
                } else if rest.is_empty() {
                    f.trailing_sign = true;
                } else if !seen_digit {
                    f.leading_sign = true;
                } else {
                    return Err(bad_model());
                }
            }
            _ => return Err(bad_model()),
        }
    }
    if f.hex.is_some() && (f.point.is_some() || f.sci || f.currency.is_some()) {
        return Err(bad_model());
    }
    if f.sci && f.int.iter().any(|p| *p != IntPos::Digit) {
        return Err(bad_model());
    }
    Ok(f)
}

/// Decimal digits of `d` rounded (half away from zero) to `frac` places: (integer digits
/// without leading zeros, fractional digits of exactly `frac`).
fn round_digits(d: &Decimal, frac: usize) -> (Vec<u8>, Vec<u8>) {
    let point = d.point;
    // All digits from the units position: integer part.
    let mut int: Vec<u8> = Vec::new();
    let mut fr: Vec<u8> = Vec::new();
    let digit_at = |i: i32| -> u8 {
        // i: 0-based index in d.digits.
        usize::try_from(i)
            .ok()
            .and_then(|i| d.digits.get(i).copied())
            .unwrap_or(0)
    };
    for i in 0..point.max(0) {
        int.push(digit_at(i));
    }
    let frac_i = i32::try_from(frac).unwrap_or(0);
    for k in 0..frac_i {
        fr.push(digit_at(point + k));
    }
    let next = digit_at(point + frac_i);
    if next >= 5 {
        // Carry up through the fraction and the integer.
        let mut carry = true;
        for x in fr.iter_mut().rev() {
            if *x == 9 {
                *x = 0;
            } else {
                *x += 1;
                carry = false;
                break;
            }
        }
        if carry {
            for x in int.iter_mut().rev() {
                if *x == 9 {
                    *x = 0;
                } else {
                    *x += 1;
                    carry = false;
                    break;
                }
            }
            if carry {
                int.insert(0, 1);
            }
        }
    }
    while int.first() == Some(&0) {
        int.remove(0);
    }
    (int, fr)
}

fn shift_decimal(d: &Decimal, places: usize) -> Decimal {
    if d.is_zero() {
        return d.clone();
    }
    Decimal {
        point: d.point + i32::try_from(places).unwrap_or(0),
        ..d.clone()
    }
}

/// The text Oracle shows for a number without a format (`TO_CHAR(n)`, the TM model): up to
/// 40 significant digits, `.5` without a leading zero, scientific beyond 40 characters.
pub fn number_text(d: &Decimal, nls: &Nls) -> String {
    let s = d.to_string();
    let s = if s.len() > 40 { scientific_min(d) } else { s };
    if nls.decimal == '.' {
        s
    } else {
        s.replace('.', &nls.decimal.to_string())
    }
}

fn scientific_min(d: &Decimal) -> String {
    let digits: String = d.digits.iter().map(|x| char::from(b'0' + x)).collect();
    let (first, rest) = digits.split_at(1.min(digits.len()));
    let exp = d.point - 1;
    let sign = if d.negative { "-" } else { "" };
    let mant = if rest.is_empty() {
        first.to_owned()
    } else {
        format!("{first}.{rest}")
    };
    format!(
        "{sign}{mant}E{}{:02}",
        if exp < 0 { '-' } else { '+' },
        exp.abs()
    )
}

/// `TO_CHAR(number, fmt)`: ORA-01481 for a model that is not one; a value that does not
/// fit is a string of `#` one longer than the model's digits.
pub fn format_number(d: &Decimal, fmt: &str, nls: &Nls) -> Result<String, OraError> {
    let f = parse_num_fmt(fmt, nls)?;
    if let Some(sci) = f.text_min {
        return Ok(if sci {
            scientific_min(d)
        } else {
            number_text(d, nls)
        });
    }
    if let Some(lower) = f.roman {
        return Ok(roman(d, lower, f.fill_mode));
    }
    if let Some((n, lower)) = f.hex {
        return Ok(hex(d, n + f.int.len(), f.int.len(), lower, f.fill_mode));
    }
    let d = shift_decimal(d, f.shift);
    let negative = d.negative && !d.is_zero();
    let digit_slots = f.int.iter().filter(|p| **p == IntPos::Digit).count();
    // The body: digits with group separators and the decimal point.
    let mut exponent = String::new();
    let (int_digits, frac_digits) = if f.sci {
        // One digit before the point, the model's fraction after it.
        if d.is_zero() {
            exponent = "E+00".to_owned();
            (vec![0], vec![0; f.frac.len()])
        } else {
            let mut e = d.point - 1;
            let norm = Decimal {
                point: 1,
                negative: false,
                ..d.clone()
            };
            let (mut i, fr) = round_digits(&norm, f.frac.len());
            if i.len() > 1 {
                // 9.99 rounded up to 10.0: renormalize.
                i.truncate(1);
                e += 1;
            }
            exponent = format!("E{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
            (i, fr)
        }
    } else {
        round_digits(&d, f.frac.len())
    };
    let width_digits = if f.sci { 1 } else { digit_slots };
    let overflow = int_digits.len() > width_digits;
    let mut body = String::new();
    let is_zero = int_digits.is_empty() && frac_digits.iter().all(|x| *x == 0);
    if f.sci {
        body.push_str(
            &int_digits
                .iter()
                .map(|x| char::from(b'0' + x))
                .collect::<String>(),
        );
    } else {
        // Right-align the integer digits in the slots.
        let pad = digit_slots.saturating_sub(int_digits.len());
        let mut k = 0usize; // digit slot index
        let mut started = false;
        for p in &f.int {
            match p {
                IntPos::Digit => {
                    let zero_from_here = f.first_zero.is_some_and(|z| k >= z);
                    if k >= pad {
                        body.push(char::from(b'0' + int_digits[k - pad]));
                        started = true;
                    } else if zero_from_here {
                        body.push('0');
                        started = true;
                    } else {
                        body.push(' ');
                    }
                    k += 1;
                }
                IntPos::Group(ch) => body.push(if started { *ch } else { ' ' }),
            }
        }
        // A zero integer part still shows one 0 when there is no fraction to show.
        if int_digits.is_empty() && !body.contains(|c: char| c.is_ascii_digit()) {
            let no_fraction = f.point.is_none() || f.frac.is_empty();
            if no_fraction && body.ends_with(' ') {
                body.pop();
                body.push('0');
            }
        }
    }
    if let Some(pc) = f.point {
        body.push(pc);
        let mut frac: String = frac_digits.iter().map(|x| char::from(b'0' + x)).collect();
        if f.fill_mode {
            // FM drops the trailing zeros a 9 stands for (not those of a 0).
            let keep = f.frac.iter().rposition(|z| *z).map_or(0, |i| i + 1);
            while frac.len() > keep && frac.ends_with('0') {
                frac.pop();
            }
        }
        body.push_str(&frac);
    }
    if f.sci && exponent.len() == 4 && !f.fill_mode {
        // The exponent field is five wide (E+123): a two-digit exponent leaves a blank.
        body.insert(0, ' ');
    }
    body.push_str(&exponent);
    let body_width = body.chars().count();
    if overflow {
        let sign_width = usize::from(!f.leading_sign && !f.trailing_sign && !f.brackets);
        let extra = f.currency.as_ref().map_or(0, |c| c.chars().count())
            + usize::from(f.leading_sign || f.trailing_sign || f.minus)
            + 2 * usize::from(f.brackets);
        return Ok("#".repeat(body_width + sign_width + extra));
    }
    if f.blank_zero && is_zero {
        return Ok(if f.fill_mode {
            String::new()
        } else {
            " ".repeat(body_width + 1)
        });
    }
    // Move the leading blanks out, so that the sign and currency sit next to the digits.
    let trimmed = body.trim_start();
    let blanks = body.len() - trimmed.len();
    let mut out = String::new();
    if !f.fill_mode {
        out.push_str(&" ".repeat(blanks));
    }
    let cur = f.currency.clone().unwrap_or_default();
    if f.leading_sign {
        out.push(if negative { '-' } else { '+' });
    } else if f.brackets {
        out.push(if negative {
            '<'
        } else if f.fill_mode {
            '\0'
        } else {
            ' '
        });
    } else if !f.trailing_sign && !f.minus {
        if negative {
            out.push('-');
        } else if !f.fill_mode {
            out.push(' ');
        }
    }
    if !f.currency_trailing {
        out.push_str(&cur);
    }
    out.push_str(trimmed);
    if f.currency_trailing {
        out.push_str(&cur);
    }
    if f.trailing_sign {
        out.push(if negative { '-' } else { '+' });
    } else if f.minus {
        if negative {
            out.push('-');
        } else if !f.fill_mode {
            out.push(' ');
        }
    } else if f.brackets {
        if negative {
            out.push('>');
        } else if !f.fill_mode {
            out.push(' ');
        }
    }
    Ok(out.replace('\0', ""))
}

fn roman(d: &Decimal, lower: bool, fill_mode: bool) -> String {
    let (int, _) = round_digits(d, 0);
    let n = int.iter().fold(0i64, |a, x| {
        a.saturating_mul(10).saturating_add(i64::from(*x))
    });
    if d.negative || !(1..=3999).contains(&n) {
        return "#".repeat(15);
    }
    let table = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut n = n;
    let mut s = String::new();
    for (v, r) in table {
        while n >= v {
            s.push_str(r);
            n -= v;
        }
    }
    if lower {
        s = s.to_lowercase();
    }
    if fill_mode { s } else { format!("{s:>15}") }
}

fn hex(d: &Decimal, width: usize, zeros: usize, lower: bool, fill_mode: bool) -> String {
    let (int, _) = round_digits(d, 0);
    let n = int
        .iter()
        .try_fold(0u128, |a, x| a.checked_mul(10)?.checked_add(u128::from(*x)));
    let text = n.map(|n| {
        if lower {
            format!("{n:x}")
        } else {
            format!("{n:X}")
        }
    });
    match text {
        Some(t) if !d.negative && t.len() <= width => {
            let t = if zeros > 0 {
                format!("{t:0>width$}")
            } else {
                t
            };
            if fill_mode {
                t
            } else {
                format!("{t:>w$}", w = width + 1)
            }
        }
        _ => "#".repeat(width + 1),
    }
}

/// `TO_NUMBER(text)` without a model: the session's decimal character.
pub fn parse_number_plain(text: &str, nls: &Nls) -> Result<Decimal, OraError> {
    let t = text.trim();
    let t = if nls.decimal == '.' {
        t.to_owned()
    } else if t.contains('.') {
        return Err(OraError::new(1722, 0));
    } else {
        t.replace(nls.decimal, ".")
    };
    Decimal::parse(&t).ok_or_else(|| OraError::new(1722, 0))
}

/// `TO_NUMBER(text, fmt)`: the text read with the model (ORA-01722 where it does not
/// match, ORA-01481 for a model that is not one).
pub fn parse_number(text: &str, fmt: &str, nls: &Nls) -> Result<Decimal, OraError> {
    let f = parse_num_fmt(fmt, nls)?;
    let invalid = || OraError::new(1722, 0);
    if f.text_min.is_some() {
        return parse_number_plain(text, nls);
    }
    if f.roman.is_some() {
        return Err(bad_model());
    }
    let mut s = text.trim();
    if let Some((n, _)) = f.hex {
        if s.len() > n + f.int.len() || s.is_empty() {
            return Err(invalid());
        }
        let v = u128::from_str_radix(s, 16).map_err(|_| invalid())?;
        return Ok(Decimal::from_i128(
            i128::try_from(v).map_err(|_| invalid())?,
        ));
    }
    let mut negative = false;
    let take = |s: &mut &str, p: &str| -> bool {
        match s.strip_prefix(p) {
            Some(r) => {
                *s = r;
                true
            }
            None => false,
        }
    };
    if f.brackets && s.starts_with('<') {
        if !s.ends_with('>') {
            return Err(invalid());
        }
        s = &s[1..s.len() - 1];
        negative = true;
    }
    if f.leading_sign {
        if take(&mut s, "-") {
            negative = true;
        } else if !take(&mut s, "+") {
            return Err(invalid());
        }
    } else if !f.trailing_sign && !f.minus && !f.brackets && take(&mut s, "-") {
        negative = true;
    }
    if f.trailing_sign {
        if let Some(r) = s.strip_suffix('-') {
            s = r;
            negative = true;
        } else if let Some(r) = s.strip_suffix('+') {
            s = r;
        } else {
            return Err(invalid());
        }
    } else if f.minus
        && let Some(r) = s.strip_suffix('-')
    {
        s = r;
        negative = true;
    }
    if let Some(cur) = &f.currency {
        let ok = if f.currency_trailing {
            s.strip_suffix(cur.as_str()).map(|r| s = r).is_some()
        } else {
            take(&mut s, cur)
        };
        if !ok {
            return Err(invalid());
        }
    }
    if !f.leading_sign && !f.brackets && !negative && take(&mut s, "-") {
        negative = true;
    }
    s = s.trim_start();
    // Digits and separators by the model's positions, right-aligned on the integer part.
    let (int_text, rest) = match f.point {
        Some(pc) => match s.find(pc) {
            Some(i) => (&s[..i], &s[i + pc.len_utf8()..]),
            None => (s, ""),
        },
        None => (s, ""),
    };
    let (frac_text, exp_text) = if f.sci {
        match rest.find(['E', 'e']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None if f.point.is_none() => match int_text.find(['E', 'e']) {
                Some(_) => ("", ""),
                None => return Err(invalid()),
            },
            None => return Err(invalid()),
        }
    } else {
        (rest, "")
    };
    // Integer part: walk the model's positions from the right.
    let int_chars: Vec<char> = int_text.chars().collect();
    let mut digits = String::new();
    let mut ci = int_chars.len();
    for p in f.int.iter().rev() {
        if ci == 0 {
            break;
        }
        let c = int_chars[ci - 1];
        match p {
            IntPos::Digit => {
                if !c.is_ascii_digit() {
                    return Err(invalid());
                }
                digits.insert(0, c);
                ci -= 1;
            }
            IntPos::Group(g) => {
                if c == *g {
                    ci -= 1;
                } else if !c.is_ascii_digit() {
                    return Err(invalid());
                }
            }
        }
    }
    if ci != 0 {
        return Err(invalid());
    }
    if frac_text.chars().count() > f.frac.len() || !frac_text.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid());
    }
    let mut number = format!(
        "{}{}.{frac_text}",
        if negative { "-" } else { "" },
        if digits.is_empty() { "0" } else { &digits }
    );
    if f.sci {
        number.push_str(exp_text);
    }
    let v = Decimal::parse(&number).ok_or_else(invalid)?;
    Ok(if f.shift > 0 && !v.is_zero() {
        Decimal {
            point: v.point - i32::try_from(f.shift).unwrap_or(0),
            ..v
        }
    } else {
        v
    })
}

#[cfg(test)]
mod tests;
