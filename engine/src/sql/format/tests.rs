//! Examples from Oracle Database SQL Language Reference 19c, "Format Models" (Number
//! Format Models, Datetime Format Models, Format Model Modifiers, String-to-Date Conversion
//! Rules, the RR element, "Format Model Examples") and the TO_CHAR / TO_DATE / TO_NUMBER
//! function pages. Where a test is not from the book it says so.

use super::*;

fn n(s: &str) -> Decimal {
    Decimal::parse(s).unwrap()
}

fn num(v: &str, fmt: &str) -> String {
    format_number(&n(v), fmt, &Nls::default()).unwrap()
}

fn date(y: i32, mo: u8, d: u8, h: u8, mi: u8, s: u8) -> DateTime {
    DateTime {
        year: y,
        month: mo,
        day: d,
        hour: h,
        minute: mi,
        second: s,
        nanos: 0,
        offset_minutes: 0,
    }
}

fn dt(d: &DateTime, fmt: &str) -> String {
    format_datetime(d, Kind::Date, fmt).unwrap()
}

/// 2026-12-06, the "now" that gives missing years and months.
fn now() -> DateTime {
    date(2026, 12, 6, 1, 2, 3)
}

fn to_date(s: &str, fmt: &str) -> Result<DateTime, u32> {
    parse_datetime(s, fmt, Kind::Date, &now()).map_err(|e| e.code)
}

fn ymd(y: i32, mo: u8, d: u8) -> DateTime {
    date(y, mo, d, 0, 0, 0)
}

/// SQL Language Reference, "Format Model Examples", table "Results of Number Conversions".
#[test]
fn results_of_number_conversions() {
    let table = [
        ("-1234567890", "9999999999S", "1234567890-"),
        ("0", "99.99", "   .00"),
        ("0.1", "99.99", "   .10"),
        ("-0.2", "99.99", "  -.20"),
        ("0", "90.99", "  0.00"),
        ("0.1", "90.99", "  0.10"),
        ("-0.2", "90.99", " -0.20"),
        ("0", "9999", "    0"),
        ("1", "9999", "    1"),
        ("0", "B9999", "     "),
        ("1", "B9999", "    1"),
        ("0", "B90.99", "      "),
        ("123.456", "999.999", " 123.456"),
        ("-123.456", "999.999", "-123.456"),
        ("123.456", "FM999.009", "123.456"),
        ("123.456", "9.9EEEE", "  1.2E+02"),
        ("123.456", "FM9.9EEEE", "1.2E+02"),
        ("123.45", "FM999.009", "123.45"),
        ("123.0", "FM999.009", "123.00"),
        ("123.45", "FML999.99", "$123.45"),
        ("1234567890", "9999999999S", "1234567890+"),
    ];
    for (v, fmt, want) in table {
        assert_eq!(num(v, fmt), want, "TO_CHAR({v}, '{fmt}')");
    }
}

/// "Number Format Elements": each element's own example.
#[test]
fn number_format_elements() {
    // , and G: "9,999"; . and D: "99.99"; $: "$9999"; 0: "0999" and "9990".
    assert_eq!(num("1234", "9,999"), " 1,234");
    assert_eq!(num("1234", "9G999"), " 1,234");
    assert_eq!(num("12.34", "99.99"), " 12.34");
    assert_eq!(num("12.34", "99D99"), " 12.34");
    assert_eq!(num("123", "$9999"), "  $123");
    assert_eq!(num("123", "0999"), " 0123");
    assert_eq!(num("0", "9990"), "    0");
    // MI, PR, S.
    assert_eq!(num("-123", "999MI"), "123-");
    assert_eq!(num("123", "999MI"), "123 ");
    assert_eq!(num("-123", "999PR"), "<123>");
    assert_eq!(num("123", "999PR"), " 123 ");
    assert_eq!(num("-123", "S999"), "-123");
    assert_eq!(num("123", "S999"), "+123");
    // V: "999V99" multiplies by 10^2.
    assert_eq!(num("12.3", "99V99"), " 1230");
    // X: hexadecimal, FM drops the leading blank.
    assert_eq!(num("255", "XX"), " FF");
    assert_eq!(num("255", "xx"), " ff");
    assert_eq!(num("255", "FMXXXX"), "FF");
    assert_eq!(num("10", "0XXX"), " 000A");
    assert_eq!(num("256", "XX"), "###");
    // RN: Roman numerals, right-aligned in 15.
    assert_eq!(num("1987", "RN"), "     MCMLXXXVII");
    assert_eq!(num("4", "FMrn"), "iv");
    // FM: no blanks; "1." is what Oracle shows for FM999.99 of 1.
    assert_eq!(num("1", "FM999.99"), "1.");
    assert_eq!(num("1.5", "FM999.99"), "1.5");
    assert_eq!(num("-1.5", "FM999.99"), "-1.5");
    // TM: text minimum.
    assert_eq!(num("0.5", "TM"), ".5");
    assert_eq!(num("123", "TM9"), "123");
    assert_eq!(num("123", "TME"), "1.23E+02");
    // Rounding to the model's fraction.
    assert_eq!(num("1.005", "9.99"), " 1.01");
    assert_eq!(num("9.996", "9.99"), "#####");
}

/// "If a positive NUMBER value is too large for the model, Oracle returns a string of
/// pound signs (#)": one more than the model's width (the sign position).
#[test]
fn overflow_is_pound_signs() {
    assert_eq!(num("12345", "999"), "####");
    assert_eq!(num("12345", "9,999"), "######");
    assert_eq!(num("-12345", "S999"), "####");
    assert_eq!(num("1000", "$999"), "#####");
}

/// ORA-01481 for what is no number format model.
#[test]
fn invalid_number_models() {
    for fmt in [
        "9.9.9", "99S9", "MI999", "9PR9", "A99", "$$99", ",999", "99EEEE9",
    ] {
        let e = format_number(&n("1"), fmt, &Nls::default()).unwrap_err();
        assert_eq!(e.code, 1481, "'{fmt}'");
    }
    let e = parse_number("1", "9.9.9", &Nls::default()).unwrap_err();
    assert_eq!(e.code, 1481);
}

/// TO_NUMBER's examples and its ORA-01722.
#[test]
fn to_number_with_models() {
    let nls = Nls::default();
    // TO_NUMBER page: '-AusDollars100' with 'L9G999D99' and the NLS parameters.
    let aus = nls
        .with_param(" NLS_NUMERIC_CHARACTERS = ',.' NLS_CURRENCY = 'AusDollars' ")
        .unwrap();
    assert_eq!(
        parse_number("-AusDollars100", "L9G999D99", &aus).unwrap(),
        n("-100")
    );
    // TO_CHAR page: the same parameters render 10000 as AusDollars10.000,00-.
    assert_eq!(
        format_number(&n("-10000"), "L99G999D99MI", &aus)
            .unwrap()
            .trim_start(),
        "AusDollars10.000,00-"
    );
    assert_eq!(
        parse_number("$1,234.50", "$9,999.99", &nls).unwrap(),
        n("1234.5")
    );
    assert_eq!(parse_number("  123", "9999", &nls).unwrap(), n("123"));
    assert_eq!(parse_number("123-", "999MI", &nls).unwrap(), n("-123"));
    assert_eq!(parse_number("<123>", "999PR", &nls).unwrap(), n("-123"));
    assert_eq!(parse_number("+12", "S99", &nls).unwrap(), n("12"));
    assert_eq!(parse_number("FF", "XX", &nls).unwrap(), n("255"));
    assert_eq!(parse_number("1.2E+02", "9.9EEEE", &nls).unwrap(), n("120"));
    assert_eq!(parse_number("1230", "99V99", &nls).unwrap(), n("12.3"));
    for (text, fmt) in [
        ("12345", "999"),
        ("12a", "999"),
        ("1.234", "9.99"),
        ("$12", "99"),
    ] {
        let e = parse_number(text, fmt, &nls).unwrap_err();
        assert_eq!(e.code, 1722, "TO_NUMBER('{text}', '{fmt}')");
    }
    assert_eq!(parse_number_plain("x", &nls).unwrap_err().code, 1722);
    // NLS_NUMERIC_CHARACTERS = ',.': the decimal character of TO_NUMBER without a model.
    let mut comma = Nls::default();
    comma.set("NLS_NUMERIC_CHARACTERS", ",.").unwrap();
    assert_eq!(parse_number_plain("1,5", &comma).unwrap(), n("1.5"));
    assert_eq!(parse_number_plain("1.5", &comma).unwrap_err().code, 1722);
    assert_eq!(number_text(&n("1.5"), &comma), "1,5");
    assert_eq!(
        format_number(&n("1234.5"), "9G999D9", &comma).unwrap(),
        " 1.234,5"
    );
}

/// "Datetime Format Elements" and "Format Model Modifiers": the `Ides` example
/// (`fmDDTH`, `fmMonth`), case of MON/Mon/mon, padding of MONTH and DAY.
#[test]
fn datetime_elements() {
    let d = date(2008, 4, 3, 14, 5, 9);
    assert_eq!(
        format!(
            "{} of {}, {}",
            dt(&d, "fmDDTH"),
            dt(&d, "fmMonth"),
            dt(&d, "YYYY")
        ),
        "3RD of April, 2008"
    );
    assert_eq!(dt(&d, "DDth"), "03rd");
    assert_eq!(dt(&d, "Month"), "April    ");
    assert_eq!(dt(&d, "MONTH"), "APRIL    ");
    assert_eq!(dt(&d, "MON Mon mon"), "APR Apr apr");
    assert_eq!(dt(&d, "DAY|Dy|dy"), "THURSDAY |Thu|thu");
    assert_eq!(dt(&d, "fmDay\"'s Special\""), "Thursday's Special");
    assert_eq!(
        dt(&d, "YYYY YYY YY Y RRRR RR Y,YYY"),
        "2008 008 08 8 2008 08 2,008"
    );
    assert_eq!(dt(&d, "MM DD DDD D"), "04 03 094 5");
    assert_eq!(dt(&d, "HH HH12 HH24 MI SS SSSSS"), "02 02 14 05 09 50709");
    assert_eq!(dt(&d, "AM PM a.m. P.M."), "PM PM p.m. P.M.");
    assert_eq!(dt(&d, "Q WW W IW IYYY CC"), "2 14 1 14 2008 21");
    assert_eq!(dt(&d, "J"), "2454560");
    assert_eq!(dt(&d, "DS"), "04/03/2008");
    assert_eq!(dt(&d, "DL"), "Thursday, April 3, 2008");
    assert_eq!(dt(&d, "TS"), "02:05:09 PM");
    assert_eq!(dt(&d, "RM"), "IV  ");
    assert_eq!(dt(&d, "DdSp DDSPTH"), "Three THIRD");
    assert_eq!(dt(&d, "AD B.C."), "AD A.D.");
    // Punctuation and quoted text pass through.
    assert_eq!(dt(&d, "YYYY-MM-DD\"T\"HH24:MI:SS"), "2008-04-03T14:05:09");
    // CC of a century's last year; ISO week of a year's first days.
    assert_eq!(dt(&ymd(2000, 6, 1), "CC SCC"), "20  20");
    assert_eq!(dt(&ymd(2021, 1, 1), "IW IYYY WW"), "53 2020 01");
    // Midnight and noon on a 12-hour clock.
    assert_eq!(dt(&ymd(2021, 1, 1), "HH12 AM"), "12 AM");
    assert_eq!(dt(&date(2021, 1, 1, 12, 0, 0), "HH AM"), "12 PM");
    // fm drops leading zeros of numbers and the blanks of names; a second fm restores them.
    assert_eq!(dt(&ymd(2021, 3, 5), "fmDD-MM-YYYY fmDD"), "5-3-2021 05");
}

/// YEAR / SYEAR spell the year, in the element's case (the Reference's "Year, spelled
/// out"; `TWENTY TWENTY-FOUR` as the brief gives it; the other readings are this module's
/// rule, see `spell_year`). SYEAR puts `-` before a BC year; TO_DATE does not take them.
#[test]
fn year_spelled_out() {
    let d = ymd(2024, 1, 1);
    assert_eq!(dt(&d, "YEAR"), "TWENTY TWENTY-FOUR");
    assert_eq!(dt(&d, "Year"), "Twenty Twenty-Four");
    assert_eq!(dt(&d, "year"), "twenty twenty-four");
    assert_eq!(dt(&d, "SYEAR"), "TWENTY TWENTY-FOUR");
    assert_eq!(dt(&ymd(1999, 1, 1), "YEAR"), "NINETEEN NINETY-NINE");
    assert_eq!(dt(&ymd(1900, 1, 1), "YEAR"), "NINETEEN HUNDRED");
    assert_eq!(dt(&ymd(2000, 1, 1), "YEAR"), "TWO THOUSAND");
    assert_eq!(dt(&ymd(2005, 1, 1), "YEAR"), "TWO THOUSAND FIVE");
    assert_eq!(dt(&ymd(44, 1, 1), "YEAR"), "FORTY-FOUR");
    let bc = ymd(-44, 3, 15);
    assert_eq!(dt(&bc, "SYEAR"), "-FORTY-FOUR");
    assert_eq!(dt(&bc, "Year BC"), "Forty-Four BC");
    assert_eq!(dt(&ymd(-1234, 1, 1), "syear"), "-twelve thirty-four");
    // Quoted YEAR is text; YYYY after YEAR is still YYYY.
    assert_eq!(dt(&d, "\"year\" YYYY"), "year 2024");
    assert_eq!(to_date("TWENTY TWENTY-FOUR", "YEAR"), Err(1820));
    assert_eq!(to_date("-FORTY-FOUR", "SYEAR"), Err(1820));
}

/// BC dates: the BC/AD elements and SYYYY's sign both ways, the range -4712..9999 without
/// year 0 (ORA-01841), ORA-01856 where an era indicator is missing. Not from the book.
#[test]
fn bc_dates() {
    let ides = ymd(-44, 3, 15);
    assert_eq!(dt(&ides, "DD-MON-YYYY BC"), "15-MAR-0044 BC");
    assert_eq!(dt(&ides, "DD-MON-YYYY AD b.c."), "15-MAR-0044 BC b.c.");
    assert_eq!(dt(&ides, "SYYYY-MM-DD"), "-0044-03-15");
    assert_eq!(dt(&ides, "fmSYYYY"), "-44");
    assert_eq!(dt(&ides, "YYYY Y,YYY SCC CC"), "0044 0,044 -01 01");
    assert_eq!(dt(&ymd(2024, 1, 1), "SYYYY A.D."), " 2024 A.D.");
    // Year 0 exists only for arithmetic (1 BC + 1 year), and counts as AD.
    assert_eq!(dt(&ymd(0, 1, 1), "YYYY BC"), "0000 AD");
    assert_eq!(to_date("15-03-0044 BC", "DD-MM-YYYY BC"), Ok(ides));
    assert_eq!(to_date("15-03-0044 b.c.", "DD-MM-YYYY AD"), Ok(ides));
    assert_eq!(
        to_date("15-03-0044 AD", "DD-MM-YYYY BC"),
        Ok(ymd(44, 3, 15))
    );
    assert_eq!(to_date("-0044-03-15", "SYYYY-MM-DD"), Ok(ides));
    assert_eq!(to_date("+0044-03-15", "SYYYY-MM-DD"), Ok(ymd(44, 3, 15)));
    assert_eq!(to_date("-4712-01-01", "SYYYY-MM-DD"), Ok(ymd(-4712, 1, 1)));
    assert_eq!(
        to_date("4712-01-01 BC", "YYYY-MM-DD BC"),
        Ok(ymd(-4712, 1, 1))
    );
    assert_eq!(to_date("9999-12-31", "SYYYY-MM-DD"), Ok(ymd(9999, 12, 31)));
    for (s, fmt) in [
        ("-4713-12-31", "SYYYY-MM-DD"),
        ("4713-12-31 BC", "YYYY-MM-DD BC"),
        ("0000-01-01 BC", "YYYY-MM-DD BC"),
        ("-0000-01-01", "SYYYY-MM-DD"),
    ] {
        assert_eq!(to_date(s, fmt), Err(1841), "TO_DATE('{s}', '{fmt}')");
    }
    assert_eq!(to_date("0044 XY", "YYYY BC"), Err(1856));
    assert_eq!(to_date("0044 12", "YYYY AD"), Err(1856));
}

/// Oracle's calendar is Julian before 1582-10-15: 1582-10-04 (a Thursday) is followed by
/// 1582-10-15 (a Friday), the days between read as the 15th (Oracle 12.2 and later), 1500
/// is a leap year, and J is the Julian day number (1582-10-01 is 2299157, as Oracle shows).
/// Not from the book.
#[test]
fn julian_calendar_before_1582() {
    assert_eq!(dt(&ymd(1582, 10, 4), "Dy J"), "Thu 2299160");
    assert_eq!(dt(&ymd(1582, 10, 15), "Dy J"), "Fri 2299161");
    assert_eq!(dt(&ymd(1582, 10, 1), "J"), "2299157");
    assert_eq!(to_date("1582-10-10", "YYYY-MM-DD"), Ok(ymd(1582, 10, 15)));
    assert_eq!(to_date("1500-02-29", "YYYY-MM-DD"), Ok(ymd(1500, 2, 29)));
    assert_eq!(to_date("1700-02-29", "YYYY-MM-DD"), Err(1839));
    assert_eq!(to_date("2299157", "J"), Ok(ymd(1582, 10, 1)));
    assert_eq!(dt(&ymd(1500, 12, 31), "DDD"), "366");
}

/// TO_TIMESTAMP_TZ's zone: TZH/TZM (a `-` on TZH covers TZM), TZR as UTC/GMT or a fixed
/// offset (other names ORA-01882), none at all (the caller's session zone); TO_CHAR gives
/// them back. Not from the book.
#[test]
fn timestamp_with_time_zone() {
    let tz = |s: &str, fmt: &str| {
        parse_datetime_zone(s, fmt, Kind::TimestampTz, &now()).map_err(|e| e.code)
    };
    let at = |offset_minutes: i16| DateTime {
        offset_minutes,
        nanos: 500_000_000,
        ..date(2024, 1, 1, 12, 30, 0)
    };
    let f = "YYYY-MM-DD HH24:MI:SS.FF TZH:TZM";
    assert_eq!(
        tz("2024-01-01 12:30:00.5 +05:30", f),
        Ok((at(330), Some(330)))
    );
    assert_eq!(
        tz("2024-01-01 12:30:00.5 -03:30", f),
        Ok((at(-210), Some(-210)))
    );
    assert_eq!(
        tz("2024-01-01 12:30:00.5 -00:30", f),
        Ok((at(-30), Some(-30)))
    );
    let f = "YYYY-MM-DD HH24:MI:SS.FF TZR";
    assert_eq!(tz("2024-01-01 12:30:00.5 UTC", f), Ok((at(0), Some(0))));
    assert_eq!(tz("2024-01-01 12:30:00.5 gmt", f), Ok((at(0), Some(0))));
    assert_eq!(
        tz("2024-01-01 12:30:00.5 +05:45", f),
        Ok((at(345), Some(345)))
    );
    assert_eq!(
        tz("2024-01-01 12:30:00.5 -08:00", f),
        Ok((at(-480), Some(-480)))
    );
    assert_eq!(tz("2024-01-01 12:30:00.5", f), Ok((at(0), None)));
    assert_eq!(tz("2024-01-01 12:30:00.5 Mars/Olympus", f), Err(1882));
    assert_eq!(tz("2024-01-01 12:30:00.5 +05", f), Err(1882));
    // TO_DATE and TO_TIMESTAMP do not know the zone elements.
    assert_eq!(to_date("+05:30", "TZR"), Err(1821));
    let d = at(330);
    let ts = |fmt: &str| format_datetime(&d, Kind::TimestampTz, fmt).unwrap();
    assert_eq!(
        ts("YYYY-MM-DD HH24:MI:SS.FF3 TZH:TZM TZR"),
        "2024-01-01 12:30:00.500 +05:30 +05:30"
    );
    assert_eq!(
        format_datetime(&at(-210), Kind::TimestampTz, "TZH TZM TZR").unwrap(),
        "-03 30 -03:30"
    );
    assert_eq!(
        ts(Nls::default().default_format(Kind::TimestampTz)),
        "01-JAN-24 12.30.00.500000 PM +05:30"
    );
}

/// FF only where there are fractional seconds, TZ elements only with a zone:
/// ORA-01821 otherwise, as for anything that is no element.
#[test]
fn datetime_format_errors() {
    let d = date(2008, 4, 3, 14, 5, 9);
    for fmt in ["FF", "TZH", "YYYY-MM-DD HELLO", "QQQ9"] {
        let e = format_datetime(&d, Kind::Date, fmt).unwrap_err();
        assert_eq!(e.code, 1821, "'{fmt}'");
    }
    let ts = DateTime {
        nanos: 123_456_789,
        offset_minutes: -330,
        ..d
    };
    assert_eq!(
        format_datetime(&ts, Kind::Timestamp, "HH24:MI:SS.FF FF3 FF9").unwrap(),
        "14:05:09.123456 123 123456789"
    );
    assert_eq!(
        format_datetime(&ts, Kind::Timestamp, "TZH")
            .unwrap_err()
            .code,
        1821
    );
    assert_eq!(
        format_datetime(&ts, Kind::TimestampTz, "TZH:TZM TZR").unwrap(),
        "-05:30 -05:30"
    );
    // NLS_TIMESTAMP_FORMAT's default.
    assert_eq!(
        format_datetime(&ts, Kind::Timestamp, &Nls::default().timestamp_format).unwrap(),
        "03-APR-08 02.05.09.123456 PM"
    );
}

/// "String-to-Date Conversion Rules" and the FX table ("Matching Character Data and
/// Format Models with the FX Format Model Modifier").
#[test]
fn string_to_date_rules() {
    let jan15 = ymd(1998, 1, 15);
    assert_eq!(to_date("15/ JAN /1998", "DD-MON-YYYY"), Ok(jan15));
    assert_eq!(to_date(" 15! JAN % /1998", "DD-MON-YYYY"), Ok(jan15));
    assert_eq!(to_date("15/JAN/1998", "FXDD-MON-YYYY"), Err(1861));
    assert_eq!(to_date("15-JAN-1998", "FXDD-MON-YYYY"), Ok(jan15));
    assert_eq!(to_date("1-JAN-1998", "FXDD-MON-YYYY"), Err(1862));
    assert_eq!(to_date("01-JAN-1998", "FXDD-MON-YYYY"), Ok(ymd(1998, 1, 1)));
    assert_eq!(
        to_date("1-JAN-1998", "FXFMDD-MON-YYYY"),
        Ok(ymd(1998, 1, 1))
    );
    // Punctuation may be left out when the digits are all there.
    assert_eq!(to_date("19980115", "YYYY-MM-DD"), Ok(jan15));
    // Time fields at the end may be left out.
    assert_eq!(to_date("1998-01-15", "YYYY-MM-DD HH24:MI:SS"), Ok(jan15));
    // Alternative elements: MM reads a month name, MON a full name, YY and RR four digits.
    assert_eq!(to_date("15-January-1998", "DD-MM-YYYY"), Ok(jan15));
    assert_eq!(to_date("15-JANUARY-1998", "DD-MON-YYYY"), Ok(jan15));
    assert_eq!(to_date("15-jan-1998", "DD-MON-YY"), Ok(jan15));
    // The TO_DATE page's example (NLS_DATE_LANGUAGE = American).
    assert_eq!(
        to_date("January 15, 1989, 11:00 A.M.", "Month dd, YYYY, HH:MI A.M."),
        Ok(date(1989, 1, 15, 11, 0, 0))
    );
    assert_eq!(
        to_date("11:00 PM", "HH:MI AM"),
        Ok(date(2026, 12, 1, 23, 0, 0))
    );
    assert_eq!(
        to_date("12:30 AM", "HH12:MI AM"),
        Ok(date(2026, 12, 1, 0, 30, 0))
    );
    // A missing year and month are the current ones, a missing day the first.
    assert_eq!(to_date("17", "DD"), Ok(ymd(2026, 12, 17)));
    assert_eq!(to_date("2001", "YYYY"), Ok(ymd(2001, 12, 1)));
    // J, DDD, SSSSS.
    assert_eq!(to_date("2454560", "J"), Ok(ymd(2008, 4, 3)));
    assert_eq!(to_date("2008-094", "YYYY-DDD"), Ok(ymd(2008, 4, 3)));
    assert_eq!(
        to_date("2008-04-03 50709", "YYYY-MM-DD SSSSS"),
        Ok(date(2008, 4, 3, 14, 5, 9))
    );
    // Names read case-insensitively; DY is read and checked, not used.
    assert_eq!(
        to_date("thu 03-apr-2008", "DY DD-MON-YYYY"),
        Ok(ymd(2008, 4, 3))
    );
    assert_eq!(to_date("IV-2008", "RM-YYYY"), Ok(ymd(2008, 4, 1)));
    // Fractional seconds for TO_TIMESTAMP.
    let ts = parse_datetime(
        "2008-04-03 14:05:09.5",
        "YYYY-MM-DD HH24:MI:SS.FF",
        Kind::Timestamp,
        &now(),
    )
    .unwrap();
    assert_eq!(ts.nanos, 500_000_000);
}

/// The RR element: "If the specified two-digit year is 00 to 49, then if the last two
/// digits of the current year are 00 to 49, the returned year has the same first two
/// digits as the current year ..." (current year 2026 here); YY keeps the century.
#[test]
fn rr_and_yy() {
    assert_eq!(to_date("27-OCT-98", "DD-MON-RR"), Ok(ymd(1998, 10, 27)));
    assert_eq!(to_date("27-OCT-17", "DD-MON-RR"), Ok(ymd(2017, 10, 27)));
    assert_eq!(to_date("27-OCT-98", "DD-MON-YY"), Ok(ymd(2098, 10, 27)));
    assert_eq!(to_date("27-OCT-1998", "DD-MON-RR"), Ok(ymd(1998, 10, 27)));
    assert_eq!(round_year(98, 2051), 2098);
    assert_eq!(round_year(3, 2051), 2103);
}

/// The errors of TO_DATE, each with its own code.
#[test]
fn to_date_errors() {
    let cases = [
        ("2026-13-01", "YYYY-MM-DD", 1843),
        ("2026-XYZ-01", "YYYY-MON-DD", 1843),
        ("2026-01-32", "YYYY-MM-DD", 1847),
        ("2026-02-29", "YYYY-MM-DD", 1839),
        ("2026-01-01 24:00", "YYYY-MM-DD HH24:MI", 1850),
        ("2026-01-01 13:00", "YYYY-MM-DD HH:MI", 1849),
        ("2026-01-01 10:60", "YYYY-MM-DD HH24:MI", 1851),
        ("2026-01-01 10:00:60", "YYYY-MM-DD HH24:MI:SS", 1852),
        ("2026-01-01 extra", "YYYY-MM-DD", 1830),
        ("2026", "YYYY-MM-DD", 1840),
        ("2026x01", "YYYY-MM", 1861),
        ("abc", "YYYY", 1858),
        ("0000-01-01", "YYYY-MM-DD", 1841),
        ("10:00 XM", "HH:MI AM", 1855),
        ("xyz 1", "DY DD", 1846),
        ("2026-400", "YYYY-DDD", 1848),
        ("0", "J", 1854),
        ("2026 2026", "YYYY RRRR", 1812),
        ("01 01", "MM MM", 1816),
        ("01 01", "HH HH24", 1813),
        ("01 01", "MI MI", 1810),
        ("13 PM", "HH24 PM", 1818),
        ("1", "Q", 1820),
        ("1", "FF", 1821),
        ("1", "YYYY-MM-DD HELLO", 1821),
    ];
    for (s, fmt, code) in cases {
        assert_eq!(to_date(s, fmt), Err(code), "TO_DATE('{s}', '{fmt}')");
    }
}

/// ALTER SESSION SET NLS_... as the session applies it.
#[test]
fn session_settings() {
    let mut nls = Nls::default();
    assert_eq!(nls.set("NLS_DATE_FORMAT", "YYYY-MM-DD HH24:MI"), Ok(true));
    assert_eq!(nls.date_format, "YYYY-MM-DD HH24:MI");
    assert_eq!(
        nls.set("NLS_DATE_FORMAT", "YYYY-MM-DD BOGUS")
            .unwrap_err()
            .code,
        1821
    );
    assert_eq!(nls.date_format, "YYYY-MM-DD HH24:MI");
    assert_eq!(
        nls.set("NLS_NUMERIC_CHARACTERS", "..").unwrap_err().code,
        12705
    );
    assert_eq!(nls.set("NLS_SORT", "BINARY"), Ok(false));
    assert_eq!(
        Nls::default()
            .with_param("NLS_DATE_LANGUAGE = FRENCH")
            .unwrap_err()
            .code,
        12702
    );
}
