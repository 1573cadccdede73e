//! Oracle's error message texts: the one table of the codes that orasim raises or reports,
//! worded exactly as Oracle Database 19c prints them (its message files, which the Database
//! Error Messages reference reproduces), so the listener, `lsnrctl`, the client and the
//! engine all print the same line for a code and nobody adds a suffix to Oracle's text. The
//! facilities ([`Facility`]): `ORA-` ([`ora`]), `TNS-` ([`tns`]), `LRM-` ([`lrm`]), `SP2-`
//! ([`sp2`], four digits), `PLS-` ([`pls`]: the PL/SQL compiler's lines under ORA-06550) and
//! `ORU-` ([`oru`]: DBMS_OUTPUT's, under ORA-20000). What a tool knows beyond it (host,
//! port, the OS error) goes to its log or its own line where Oracle's tool prints one, never
//! onto the line.
//!
//! It lives in `tns`, the lowest crate the listener, the client and the engine share.
//!
//! Oracle keeps one text per network error and shows it under either facility: TNS-12514
//! and ORA-12514 read the same. So the Oracle Net numbers (the TNS facility, whose codes
//! 12150–12699 also appear as ORA-) are one list, [`tns`], and [`ora`] looks codes in that
//! range up there. Texts with a variable part keep Oracle's `%s` marker;
//! [`Facility::line_with`] (and [`ora_line_with`], [`tns_line_with`], [`lrm_line_with`])
//! fills it in.
//!
//! A code missing from the table still gets a line, the bare `ORA-nnnnn`: the number is the
//! one thing known about it, and no text is invented.

/// The ORA- numbers that are Oracle Net errors (the same messages as TNS-12150..TNS-12699).
const NET_RANGE: std::ops::RangeInclusive<u32> = 12150..=12699;

/// A message family: the prefix Oracle prints before the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Facility {
    /// `ORA-`: the database and (12150–12699) Oracle Net as seen by a client.
    Ora,
    /// `TNS-`: Oracle Net as the listener and `lsnrctl` print it.
    Tns,
    /// `LRM-`: the parameter manager, under ORA-01078 when `init<SID>.ora` cannot be used.
    Lrm,
    /// `SP2-`: SQL*Plus's own messages (`orasql`), numbered with four digits.
    Sp2,
    /// `PLS-`: the PL/SQL compiler, under ORA-06550 with the line and column it points at.
    Pls,
    /// `ORU-`: the PL/SQL packages' utilities (DBMS_OUTPUT), under ORA-20000.
    Oru,
}

impl Facility {
    /// `ORA`, `TNS`, `LRM`, `SP2`, `PLS` or `ORU`.
    pub fn prefix(self) -> &'static str {
        match self {
            Facility::Ora => "ORA",
            Facility::Tns => "TNS",
            Facility::Lrm => "LRM",
            Facility::Sp2 => "SP2",
            Facility::Pls => "PLS",
            Facility::Oru => "ORU",
        }
    }

    /// The message text of `code` in this facility (with `%s` where Oracle has a variable).
    pub fn text(self, code: u32) -> Option<&'static str> {
        match self {
            Facility::Ora => ora(code),
            Facility::Tns => tns(code),
            Facility::Lrm => lrm(code),
            Facility::Sp2 => sp2(code),
            Facility::Pls => pls(code),
            Facility::Oru => oru(code),
        }
    }

    /// `PREFIX-nnnnn: text` with each `%s` replaced by the next of `args` (an `%s` without
    /// an argument is left out); `PREFIX-nnnnn` alone for a code not in the table.
    pub fn line_with(self, code: u32, args: &[&str]) -> String {
        let head = match self {
            Facility::Sp2 => format!("{}-{code:04}", self.prefix()),
            _ => format!("{}-{code:05}", self.prefix()),
        };
        match self.text(code) {
            Some(text) => format!("{head}: {}", fill(text, args)),
            None => head,
        }
    }
}

/// Replaces each `%s` of `template` by the next argument.
fn fill(template: &str, args: &[&str]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut args = args.iter();
    let mut parts = template.split("%s");
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    for part in parts {
        if let Some(a) = args.next() {
            out.push_str(a);
        }
        out.push_str(part);
    }
    out
}

/// Text of `TNS-code`: the Oracle Net messages (listener, lsnrctl, protocol adapters).
pub fn tns(code: u32) -> Option<&'static str> {
    Some(match code {
        511 => "No listener",
        512 => "Address already in use",
        516 => "Permission denied",
        1101 => "Could not find listener name or service name %s",
        1106 => "Listener using listener name %s has already been started",
        1151 => "Missing listener name, %s, in LISTENER.ORA",
        1153 => "Failed to process string: %s",
        1158 => "Internal connection limit reached, preventing dispatcher from connecting",
        1189 => "The listener could not authenticate the user",
        3505 => "Failed to resolve name",
        12154 => "TNS:could not resolve the connect identifier specified",
        12162 => "TNS:net service name is incorrectly specified",
        12170 => "TNS:Connect timeout occurred",
        12500 => "TNS:listener failed to start a dedicated server process",
        12502 => "TNS:listener received no CONNECT_DATA from client",
        12504 => "TNS:listener was not given the SERVICE_NAME in CONNECT_DATA",
        12505 => "TNS:listener does not currently know of SID given in connect descriptor",
        12508 => "TNS:listener could not resolve the COMMAND given",
        12514 => "TNS:listener does not currently know of service requested in connect descriptor",
        12516 => "TNS:listener could not find available handler with matching protocol stack",
        12518 => "TNS:listener could not hand off client connection",
        12519 => "TNS:no appropriate service handler found",
        12520 => "TNS:listener could not find available handler for requested type of server",
        12521 => "TNS:listener does not currently know of instance requested in connect descriptor",
        12525 => "TNS:listener has not received client's request in time allowed",
        12526 => "TNS:listener: all appropriate instances are in restricted mode",
        12527 => {
            "TNS:listener: all appropriate instances are in restricted mode or blocking new connections"
        }
        12528 => "TNS:listener: all appropriate instances are blocking new connections",
        12535 => "TNS:operation timed out",
        12537 => "TNS:connection closed",
        12541 => "TNS:no listener",
        12542 => "TNS:address already in use",
        12545 => "Connect failed because target host or object does not exist",
        12546 => "TNS:permission denied",
        12547 => "TNS:lost contact",
        12560 => "TNS:protocol adapter error",
        12564 => "TNS:connection refused",
        12592 => "TNS:bad packet",
        12608 => "TNS: Send timeout occurred",
        12609 => "TNS: Receive timeout occurred",
        12637 => "Packet receive failed",
        12660 => "Encryption or crypto-checksumming parameters incompatible",
        _ => return None,
    })
}

/// Text of `ORA-code`; 12150–12699 are the Oracle Net texts of [`tns`].
pub fn ora(code: u32) -> Option<&'static str> {
    if NET_RANGE.contains(&code) {
        return tns(code);
    }
    Some(match code {
        // SQLERRM with no error raised (which prints it as `ORA-0000`, four digits).
        0 => "normal, successful completion",
        // Sessions and processes (the SGA, ALTER SYSTEM KILL SESSION).
        18 => "maximum number of sessions exceeded",
        20 => "maximum number of processes (%s) exceeded",
        26 => "missing or invalid session ID",
        27 => "cannot kill current session",
        28 => "your session has been killed",
        29 => "session is not a user session",
        30 => "User session ID does not exist.",
        31 => "session marked for kill",
        // Internal errors: Oracle prints all twelve brackets, the unused ones empty.
        600 => {
            "internal error code, arguments: [%s], [%s], [%s], [%s], [%s], [%s], [%s], [%s], [%s], [%s], [%s], [%s]"
        }
        // Parameters and instance state (init<SID>.ora, startup, shutdown).
        68 => "invalid value %s for parameter %s, must be between %s and %s",
        96 => "invalid value %s for parameter %s, must be from among %s",
        101 => "invalid specification for system parameter DISPATCHERS",
        119 => "invalid specification for system parameter %s",
        132 => "syntax error or unresolved network name '%s'",
        1033 => "ORACLE initialization or shutdown in progress",
        1034 => "ORACLE not available",
        1078 => "failure in processing system parameters",
        1081 => "cannot start already-running ORACLE - shut it down first",
        1100 => "database already mounted",
        1109 => "database not open",
        1219 => {
            "database or pluggable database not open: queries allowed on fixed tables or views only"
        }
        1507 => "database not mounted",
        1531 => "a database already open by the instance",
        1089 => "immediate shutdown or close in progress - no operations are permitted",
        1090 => "shutdown in progress - connection is not permitted",
        1092 => "ORACLE instance terminated. Disconnection forced",
        1506 => "missing or illegal database name",
        27101 => "shared memory realm does not exist",
        27300 => "OS system dependent operation:%s failed with status: %s",
        27301 => "OS failure message: %s",
        // SQL and calls.
        900 => "invalid SQL statement",
        902 => "invalid datatype",
        903 => "invalid table name",
        904 => "%s: invalid identifier",
        905 => "missing keyword",
        906 => "missing left parenthesis",
        907 => "missing right parenthesis",
        908 => "missing NULL keyword",
        909 => "invalid number of arguments",
        910 => "specified length too long for its datatype",
        911 => "invalid character",
        917 => "missing comma",
        918 => "column ambiguously defined",
        920 => "invalid relational operator",
        922 => "missing or invalid option",
        923 => "FROM keyword not found where expected",
        924 => "missing BY keyword",
        932 => "inconsistent datatypes: expected %s got %s",
        933 => "SQL command not properly ended",
        936 => "missing expression",
        937 => "not a single-group group function",
        942 => "table or view does not exist",
        4043 => "object %s does not exist",
        928 => "missing SELECT keyword",
        1000 => "maximum open cursors exceeded",
        1001 => "invalid cursor",
        1002 => "fetch out of sequence",
        1008 => "not all variables bound",
        1013 => "user requested cancel of current operation",
        1403 => "no data found",
        1426 => "numeric overflow",
        1476 => "divisor is equal to zero",
        1722 => "invalid number",
        1756 => "quoted string not properly terminated",
        1652 => "unable to extend temp segment by %s in tablespace %s",
        1745 => "invalid host/bind variable name",
        1789 => "query block has incorrect number of result columns",
        1790 => "expression must have same datatype as corresponding expression",
        1785 => "ORDER BY item must be the number of a SELECT-list expression",
        1788 => "CONNECT BY clause required in this query block",
        1778 => "maximum subquery nesting level exceeded",
        // docs.oracle.com/en/error-help/db/ora-03095: the one error Oracle documents for
        // an expression nested too deep (see engine::sql::MAX_EXPR_DEPTH).
        3095 => "expression level is too deep, maximum %s",
        1481 => "invalid number format model",
        1810 => "format code appears twice",
        1812 => "year may only be specified once",
        1813 => "hour may only be specified once",
        1814 => "AM/PM conflicts with use of A.M./P.M.",
        1816 => "month may only be specified once",
        1817 => "day of week may only be specified once",
        1818 => "'HH24' precludes use of meridian indicator",
        1820 => "format code cannot appear in date input format",
        1821 => "date format not recognized",
        1830 => "date format picture ends before converting entire input string",
        1839 => "date not valid for month specified",
        1840 => "input value not long enough for date format",
        1841 => "(full) year must be between -4713 and +9999, and not be 0",
        1843 => "not a valid month",
        1846 => "not a valid day of the week",
        1847 => "day of month must be between 1 and last day of month",
        1848 => "day of year must be between 1 and 365 (366 for leap year)",
        1849 => "hour must be between 1 and 12",
        1850 => "hour must be between 0 and 23",
        1851 => "minutes must be between 0 and 59",
        1852 => "seconds must be between 0 and 59",
        1853 => "seconds in day must be between 0 and 86399",
        1854 => "julian date must be between 1 and 5373484",
        1855 => "AM/A.M. or PM/P.M. required",
        1856 => "BC/B.C. or AD/A.D. required",
        1858 => "a non-numeric character was found where a numeric was expected",
        1861 => "literal does not match format string",
        1862 => "the numeric value does not match the length of the format item",
        12702 => "invalid NLS parameter string used in SQL function",
        12705 => "Cannot access NLS data files or invalid environment specified",
        1882 => "timezone region not found",
        2000 => "missing %s keyword",
        2003 => "invalid USERENV parameter",
        2065 => "illegal option for ALTER SYSTEM",
        // PL/SQL compilation: the PLS- line (and its own position) fills the last marker.
        6550 => "line %s, column %s:\n%s",
        // PL/SQL run time and the predefined exceptions.
        1 => "unique constraint (%s.%s) violated",
        51 => "timeout occurred while waiting for a resource",
        1410 => "invalid ROWID",
        1422 => "exact fetch returns more than requested number of rows",
        6500 => "PL/SQL: storage error",
        6501 => "PL/SQL: program error",
        6502 => "PL/SQL: numeric or value error%s",
        6504 => "PL/SQL: Return types of Result Set variables or query do not match",
        6510 => "PL/SQL: unhandled user-defined exception",
        6511 => "PL/SQL: cursor already open",
        6512 => "at %s",
        6530 => "Reference to uninitialized composite",
        6531 => "Reference to uninitialized collection",
        6532 => "Subscript outside of limit",
        6533 => "Subscript beyond count",
        6592 => "CASE not found while executing CASE statement",
        25137 => "Data value out of range",
        21000 => "error number argument to raise_application_error of %s%s is out of range",
        // ALTER SYSTEM SET.
        2017 => "integer value required",
        2095 => "specified initialization parameter cannot be modified",
        2097 => "parameter cannot be modified because specified value is invalid",
        32001 => "write to SPFILE requested but no SPFILE is in use",
        // Logon, users and the password file.
        988 => "missing or invalid password(s)",
        1012 => "not logged on",
        1017 => "invalid username/password; logon denied",
        1031 => "insufficient privileges",
        1035 => "ORACLE only available to users with RESTRICTED SESSION privilege",
        1918 => "user '%s' does not exist",
        1920 => "user name '%s' conflicts with another user or role name",
        1990 => "error opening password file '%s'",
        1991 => "invalid password file '%s'",
        28008 => "invalid old password",
        28150 => "proxy not authorized to connect as client",
        28041 => "Authentication protocol internal error",
        // The two-task (TTC) connection.
        3106 => "fatal two-task communication protocol error",
        3113 => "end-of-file on communication channel",
        3114 => "not connected to ORACLE",
        3115 => "unsupported network datatype or representation",
        22275 => "invalid LOB locator specified",
        22289 => "cannot perform %s operation on an unopened file or LOB",
        22293 => "LOB already opened in the same transaction",
        // LOB operations on temporary LOBs.
        22922 => "nonexistent LOB value",
        22925 => "operation would exceed maximum size allowed for a LOB value",
        22926 => "specified trim length is greater than current LOB value's length",
        3135 => "connection lost contact",
        3136 => "inbound connection timed out",
        3137 => {
            "malformed TTC packet from client rejected: [%s] [%s] [%s] [%s] [%s] [%s] [%s] [%s]"
        }
        3156 => "OCI call timed out",
        // DRCP administration (DBMS_CONNECTION_POOL). 56501 and 56506 as 19c prints them
        // (`ORA-56501: DRCP: Pool startup failed` in a real error stack); the PL/SQL
        // Packages reference lists 56500/56504/56505/56507 only by description
        // ("Connection pool not found", ...), as it does 56501 ("Connection pool startup
        // failed"): their texts follow the same "DRCP: Pool ..." form.
        56500 => "DRCP: Pool not found",
        56501 => "DRCP: Pool startup failed",
        56504 => "DRCP: Invalid pool configuration parameter name",
        56505 => "DRCP: Invalid pool configuration parameter value",
        56506 => "DRCP: Pool shutdown failed",
        56507 => "DRCP: Pool alter configuration failed",
        _ => return None,
    })
}

/// Text of `LRM-code`: the parameter manager's messages about a parameter file.
pub fn lrm(code: u32) -> Option<&'static str> {
    Some(match code {
        101 => "unknown parameter name '%s'",
        109 => "could not open parameter file '%s'",
        121 => "'%s' is not an allowable value for '%s'",
        _ => return None,
    })
}

/// Text of `SP2-code`: SQL*Plus's messages, as the SQL*Plus User's Guide and Reference
/// ("SQL*Plus Error Messages") lists them.
pub fn sp2(code: u32) -> Option<&'static str> {
    Some(match code {
        2 => "ACCEPT statement must specify a variable name",
        3 => "Ill-formed ACCEPT command starting as %s",
        4 => "Nothing to append.",
        15 => "no break(s) defined",
        16 => "break specification must start with ON/BY or ACROSS keyword",
        17 => "missing column name after '%s' keyword",
        19 => "invalid numeric argument to %s option",
        23 => "String not found.",
        24 => "Nothing to change.",
        42 => "unknown command \"%s\" - rest of line ignored.",
        46 => "COLUMN '%s' not defined",
        103 => "Nothing in SQL buffer to run.",
        135 => "symbol %s is UNDEFINED",
        158 => "unknown %s option \"%s\"",
        223 => "No lines in SQL buffer.",
        226 => "Invalid line number",
        246 => "Illegal FORMAT string \"%s\"",
        265 => "%s must be set ON or OFF",
        267 => "%s option %s out of range (%s through %s)",
        268 => "%s option not a valid number",
        306 => "Invalid option.",
        310 => "unable to open file \"%s\"",
        332 => "Cannot create spool file.",
        425 => "\"%s\" is not a valid %s",
        546 => "User requested Interrupt or EOF detected.",
        547 => "%s option %s out of range (%s through %s)",
        552 => "Bind variable \"%s\" not declared.",
        553 => "Illegal variable name \"%s\".",
        640 => "Not connected",
        734 => "unknown command beginning \"%s...\" - rest of line ignored.",
        768 => "Illegal SPOOL command",
        771 => "File \"%s\" already exists.\nUse another name or \"SPOOL filename[.ext] REPLACE\"",
        _ => return None,
    })
}

/// Text of `PLS-code`: the PL/SQL compiler's messages, as the engine's parser and machine
/// raise them under ORA-06550.
pub fn pls(code: u32) -> Option<&'static str> {
    Some(match code {
        102 => "parser stack overflow because nesting is too deep",
        103 => "Encountered the symbol \"%s\"",
        201 => "identifier '%s' must be declared",
        302 => "component '%s' must be declared",
        306 => "wrong number or types of arguments in call to '%s'",
        363 => "expression '%s' cannot be used as an assignment target",
        367 => "a RAISE statement with no exception name must be inside an exception handler",
        374 => "illegal EXIT/CONTINUE statement; must appear inside the loop labeled '%s'",
        376 => "illegal EXIT/CONTINUE statement; it must appear inside a loop",
        382 => "expression is of wrong type",
        394 => "wrong number of values in the INTO list of a FETCH statement",
        428 => "an INTO clause is expected in this SELECT statement",
        441 => "EXIT/CONTINUE statement may have a label here; '%s' is not a label",
        _ => return None,
    })
}

/// Text of `ORU-code`: the messages of the PL/SQL packages' utilities (DBMS_OUTPUT), which
/// reach the client as the text of ORA-20000.
pub fn oru(code: u32) -> Option<&'static str> {
    Some(match code {
        10027 => "buffer overflow, limit of %s bytes",
        10028 => "line length overflow, limit of %s bytes per line",
        _ => return None,
    })
}

/// The text of `ORA-code` (what follows `ORA-nnnnn: `) with Oracle's `%s` markers filled
/// from `args`; `None` for a code not in the table.
pub fn ora_text_with(code: u32, args: &[&str]) -> Option<String> {
    ora(code).map(|t| fill(t, args))
}

/// `ORA-nnnnn: text` (`ORA-nnnnn` for a code not in the table).
pub fn ora_line(code: u32) -> String {
    Facility::Ora.line_with(code, &[])
}

/// `ORA-nnnnn: text` with Oracle's `%s` markers filled from `args`.
pub fn ora_line_with(code: u32, args: &[&str]) -> String {
    Facility::Ora.line_with(code, args)
}

/// `TNS-nnnnn: text` (`TNS-nnnnn` for a code not in the table).
pub fn tns_line(code: u32) -> String {
    Facility::Tns.line_with(code, &[])
}

/// `TNS-nnnnn: text` with Oracle's `%s` markers filled from `args`.
pub fn tns_line_with(code: u32, args: &[&str]) -> String {
    Facility::Tns.line_with(code, args)
}

/// `LRM-nnnnn: text` with Oracle's `%s` markers filled from `args`.
pub fn lrm_line_with(code: u32, args: &[&str]) -> String {
    Facility::Lrm.line_with(code, args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_as_oracle_19c_prints_them() {
        assert_eq!(
            ora_line(1017),
            "ORA-01017: invalid username/password; logon denied"
        );
        assert_eq!(
            tns_line(12514),
            "TNS-12514: TNS:listener does not currently know of service requested in connect descriptor"
        );
        assert_eq!(tns_line(511), "TNS-00511: No listener");
        assert_eq!(
            ora_line(3113),
            "ORA-03113: end-of-file on communication channel"
        );
    }

    #[test]
    fn network_codes_read_the_same_under_both_facilities() {
        for code in NET_RANGE {
            assert_eq!(ora(code), tns(code), "{code}");
        }
        assert_eq!(
            ora_line(12541)["ORA-12541".len()..],
            tns_line(12541)["TNS-12541".len()..]
        );
        // Below the range, the two facilities are different messages.
        assert_eq!(tns(1017), None);
        assert_eq!(ora(511), None);
    }

    #[test]
    fn variables_are_filled_in_order() {
        assert_eq!(
            tns_line_with(1106, &["LISTENER"]),
            "TNS-01106: Listener using listener name LISTENER has already been started"
        );
        assert_eq!(
            tns_line_with(1151, &["LSNR2"]),
            "TNS-01151: Missing listener name, LSNR2, in LISTENER.ORA"
        );
        assert_eq!(
            tns_line_with(1153, &["trc_level loud"]),
            "TNS-01153: Failed to process string: trc_level loud"
        );
        assert_eq!(
            ora_line_with(20, &["150"]),
            "ORA-00020: maximum number of processes (150) exceeded"
        );
        assert_eq!(
            ora_line_with(904, &["\"NOSUCH\""]),
            "ORA-00904: \"NOSUCH\": invalid identifier"
        );
        assert_eq!(
            lrm_line_with(121, &["lots", "processes"]),
            "LRM-00121: 'lots' is not an allowable value for 'processes'"
        );
        assert_eq!(
            ora_line_with(
                6550,
                &["1", "7", "PLS-00201: identifier 'X' must be declared"]
            ),
            "ORA-06550: line 1, column 7:\nPLS-00201: identifier 'X' must be declared"
        );
        // Markers without an argument stay as Oracle prints them: empty brackets.
        assert_eq!(
            ora_line_with(600, &["sga", "layout"]),
            "ORA-00600: internal error code, arguments: [sga], [layout], [], [], [], [], [], [], [], [], [], []"
        );
        assert_eq!(fill("a %s b %s c", &["1"]), "a 1 b  c");
        assert_eq!(fill("no marker", &["x"]), "no marker");
    }

    #[test]
    fn every_pls_and_oru_code_the_engine_raises_has_its_text() {
        // The engine's PL/SQL compiler (parser, machine, DBMS_CONNECTION_POOL calls).
        for code in [
            102, 103, 201, 302, 306, 363, 367, 374, 376, 382, 394, 428, 441,
        ] {
            assert!(Facility::Pls.text(code).is_some(), "PLS-{code:05}");
        }
        // DBMS_OUTPUT's buffer and line limits.
        for code in [10027, 10028] {
            assert!(Facility::Oru.text(code).is_some(), "ORU-{code:05}");
        }
        assert_eq!(
            Facility::Pls.line_with(201, &["FOO.BAR"]),
            "PLS-00201: identifier 'FOO.BAR' must be declared"
        );
        assert_eq!(
            Facility::Pls.line_with(103, &["END"]),
            "PLS-00103: Encountered the symbol \"END\""
        );
        assert_eq!(
            Facility::Pls.line_with(382, &[]),
            "PLS-00382: expression is of wrong type"
        );
        assert_eq!(
            Facility::Oru.line_with(10027, &["20000"]),
            "ORU-10027: buffer overflow, limit of 20000 bytes"
        );
        assert_eq!(
            lrm_line_with(101, &["procesess"]),
            "LRM-00101: unknown parameter name 'procesess'"
        );
        assert_eq!(Facility::Pls.line_with(99_999, &[]), "PLS-99999");
    }

    #[test]
    fn unknown_codes_get_the_number_and_no_invented_text() {
        assert_eq!(ora(99_999), None);
        assert_eq!(ora_line(99_999), "ORA-99999");
        assert_eq!(tns_line(99_999), "TNS-99999");
    }
}
