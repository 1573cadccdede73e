//! The parts of `orasql` (the sample SQL client) that need no server: parsing the
//! `user/password@identifier` logon argument, splitting input into statements the way
//! SQL*Plus does (`;` ends SQL, `/` on its own line ends PL/SQL or re-runs the buffer),
//! and rendering results as SQL*Plus-like text (heading, dashes, numbers right-aligned,
//! `n rows selected.`, `ERROR at line n:` with a `*` under the error position).

use std::fmt::Write as _;

use crate::connection::Column;
use crate::wire::{StatementKind, Value, classify};

/// The logon argument, split. Missing parts are prompted for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Logon {
    /// User name.
    pub user: Option<String>,
    /// Password.
    pub password: Option<String>,
    /// Connect identifier (alias, EZConnect string or descriptor).
    pub identifier: Option<String>,
}

/// Parses `user[/password][@identifier]`. The password may be double-quoted to hold `@`
/// or `/` (`scott/"p@ss"@orcl`); the identifier is everything after the `@` that ends
/// the credentials, so EZConnect strings with `/` and `:` pass through whole.
pub fn parse_logon(arg: &str) -> Logon {
    let arg = arg.trim();
    let mut out = Logon::default();
    let (creds, ident) = split_credentials(arg);
    if let Some(id) = ident.filter(|s| !s.is_empty()) {
        out.identifier = Some(id.to_string());
    }
    match creds.split_once('/') {
        Some((u, p)) => {
            let p = p
                .strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .unwrap_or(p);
            if !u.is_empty() {
                out.user = Some(u.to_string());
            }
            if !p.is_empty() {
                out.password = Some(p.to_string());
            }
        }
        None if !creds.is_empty() => out.user = Some(creds.to_string()),
        None => {}
    }
    out
}

fn split_credentials(arg: &str) -> (&str, Option<&str>) {
    // A quoted password may contain '@': skip over it.
    if let Some(slash) = arg.find('/') {
        let after = &arg[slash + 1..];
        if let Some(quoted) = after.strip_prefix('"')
            && let Some(close) = quoted.find('"')
        {
            let end = slash + 1 + 1 + close + 1;
            let rest = &arg[end..];
            return match rest.strip_prefix('@') {
                Some(id) => (&arg[..end], Some(id)),
                None => (&arg[..end], None),
            };
        }
    }
    match arg.find('@') {
        Some(i) => (&arg[..i], Some(&arg[i + 1..])),
        None => (arg, None),
    }
}

/// One unit of input, as SQL*Plus would act on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A statement to send (terminator removed; PL/SQL keeps its `END;`).
    Statement(String),
    /// `/` with an empty buffer: run the previous statement again.
    Rerun,
    /// `exit [n|SUCCESS|FAILURE|WARNING]` or `quit`: the exit status when given.
    Exit(Option<i32>),
    /// A SQL*Plus command handled by the client itself (one line, no terminator needed).
    Command(Command),
}

/// The SQL*Plus commands `orasql` understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `CONNECT [logon]` / `CONN [logon]`.
    Connect(Logon),
    /// `DISCONNECT` / `DISC`.
    Disconnect,
    /// `SHOW USER`.
    ShowUser,
    /// `SET option value` (FEEDBACK, HEADING, PAGESIZE, ...).
    Set(SetOption),
    /// `WHENEVER SQLERROR EXIT [SUCCESS|FAILURE|n]` (`Some(code)`) or `... CONTINUE` (`None`).
    WheneverSqlError(Option<i32>),
    /// `PROMPT text`.
    Prompt(String),
}

/// A `SET` option as SQL*Plus spells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetOption {
    /// `SET FEEDBACK ON|OFF`.
    Feedback(bool),
    /// `SET HEADING ON|OFF`.
    Heading(bool),
    /// `SET PAGESIZE n` (0 suppresses headings, as in SQL*Plus).
    Pagesize(u32),
    /// Options accepted without effect on this client's output (LINESIZE, ECHO, TIMING,
    /// SERVEROUTPUT, TRIMSPOOL, VERIFY, TAB, TERMOUT, ...).
    Ignored(String),
    /// Anything else: `SP2-0158: unknown SET option "x"`.
    Unknown(String),
}

fn on_off(v: &str) -> Option<bool> {
    match v.to_ascii_uppercase().as_str() {
        "ON" => Some(true),
        "OFF" => Some(false),
        _ => None,
    }
}

fn parse_set(rest: &str) -> SetOption {
    let mut it = rest.split_whitespace();
    let name = it.next().unwrap_or("").to_ascii_uppercase();
    let value = it.next().unwrap_or("");
    let known = |full: &str, min: usize| name.len() >= min && full.starts_with(name.as_str());
    if known("FEEDBACK", 4) {
        // SET FEEDBACK n behaves as ON for our purpose; OFF (or 0) silences it.
        return SetOption::Feedback(on_off(value).unwrap_or(value != "0"));
    }
    if known("HEADING", 3) {
        return SetOption::Heading(on_off(value).unwrap_or(true));
    }
    if known("PAGESIZE", 5) {
        return SetOption::Pagesize(value.parse().unwrap_or(14));
    }
    const IGNORED: [(&str, usize); 12] = [
        ("LINESIZE", 3),
        ("ECHO", 4),
        ("TIMING", 4),
        ("SERVEROUTPUT", 9),
        ("TRIMSPOOL", 5),
        ("TRIMOUT", 5),
        ("VERIFY", 3),
        ("TAB", 3),
        ("TERMOUT", 4),
        ("NUMWIDTH", 4),
        ("LONG", 4),
        ("DEFINE", 3),
    ];
    if IGNORED.iter().any(|(full, min)| known(full, *min)) {
        return SetOption::Ignored(name);
    }
    SetOption::Unknown(rest.split_whitespace().next().unwrap_or("").to_string())
}

fn parse_whenever(rest: &str) -> Option<Command> {
    let words: Vec<String> = rest
        .split_whitespace()
        .map(str::to_ascii_uppercase)
        .collect();
    if words.first().map(String::as_str) != Some("SQLERROR") {
        return None;
    }
    match words.get(1).map(String::as_str) {
        Some("CONTINUE") => Some(Command::WheneverSqlError(None)),
        Some("EXIT") => {
            let code = match words.get(2).map(String::as_str) {
                None | Some("FAILURE") | Some("SQL.SQLCODE") => 1,
                Some("SUCCESS") => 0,
                Some("WARNING") => 2,
                Some(n) => n.parse().unwrap_or(1),
            };
            Some(Command::WheneverSqlError(Some(code)))
        }
        _ => None,
    }
}

/// Recognises a SQL*Plus command line (`conn scott/tiger@orcl`, `show user`, `disc`).
pub fn parse_command(line: &str) -> Option<Command> {
    let line = line.trim().trim_end_matches(';').trim();
    let mut it = line.splitn(2, char::is_whitespace);
    let first = it.next()?.to_ascii_uppercase();
    let rest = it.next().unwrap_or("").trim();
    match first.as_str() {
        "CONN" | "CONNECT" => Some(Command::Connect(parse_logon(rest))),
        "DISC" | "DISCONNECT" if rest.is_empty() => Some(Command::Disconnect),
        "SHO" | "SHOW" if rest.eq_ignore_ascii_case("user") => Some(Command::ShowUser),
        "SET" if !rest.is_empty() && !rest.to_ascii_uppercase().starts_with("ROLE") => {
            // `SET ROLE` and `SET TRANSACTION` are SQL; the rest are SQL*Plus settings.
            if rest.to_ascii_uppercase().starts_with("TRANSACTION") {
                None
            } else {
                Some(Command::Set(parse_set(rest)))
            }
        }
        "WHENEVER" => parse_whenever(rest),
        "PRO" | "PROMPT" => Some(Command::Prompt(rest.to_string())),
        _ => None,
    }
}

/// Accumulates input lines into statements.
#[derive(Debug, Default)]
pub struct Splitter {
    buf: String,
}

impl Splitter {
    /// An empty splitter.
    pub fn new() -> Self {
        Splitter::default()
    }

    /// True when a statement is partially entered (for the `  2` continuation prompt).
    pub fn in_statement(&self) -> bool {
        !self.buf.trim().is_empty()
    }

    /// Lines in the buffer so far.
    pub fn lines(&self) -> usize {
        self.buf.lines().count()
    }

    /// Feeds one line; returns what became complete.
    pub fn push_line(&mut self, line: &str) -> Vec<Input> {
        let trimmed = line.trim();
        if !self.in_statement() {
            let word = trimmed.trim_end_matches(';').trim();
            let first = word.split_whitespace().next().unwrap_or("");
            if first.eq_ignore_ascii_case("exit") || first.eq_ignore_ascii_case("quit") {
                let code =
                    word.split_whitespace()
                        .nth(1)
                        .map(|c| match c.to_ascii_uppercase().as_str() {
                            "SUCCESS" => 0,
                            "FAILURE" => 1,
                            "WARNING" => 2,
                            n => n.parse().unwrap_or(0),
                        });
                return vec![Input::Exit(code)];
            }
            if let Some(c) = parse_command(trimmed) {
                return vec![Input::Command(c)];
            }
            if trimmed.is_empty()
                || trimmed.starts_with("--")
                || first.eq_ignore_ascii_case("rem")
                || first.eq_ignore_ascii_case("remark")
            {
                return Vec::new();
            }
        }
        if trimmed == "/" {
            let stmt = std::mem::take(&mut self.buf);
            let stmt = finish(&stmt);
            return if stmt.is_empty() {
                vec![Input::Rerun]
            } else {
                vec![Input::Statement(stmt)]
            };
        }
        self.buf.push_str(line);
        self.buf.push('\n');
        if is_plsql_block(&self.buf) {
            return Vec::new();
        }
        let (done, rest) = split_sql(&self.buf);
        self.buf = rest;
        done.into_iter().map(Input::Statement).collect()
    }

    /// End of input: an unterminated statement still runs (friendlier than SQL*Plus for
    /// `-c "select 1 from dual"`).
    pub fn finish(&mut self) -> Option<Input> {
        let stmt = finish(&std::mem::take(&mut self.buf));
        (!stmt.is_empty()).then_some(Input::Statement(stmt))
    }
}

fn finish(stmt: &str) -> String {
    let s = stmt.trim();
    if is_plsql_block(s) {
        s.to_string()
    } else {
        s.trim_end_matches(';').trim_end().to_string()
    }
}

/// PL/SQL blocks and stored-code DDL end only at `/`; their `;` belong to the code.
fn is_plsql_block(text: &str) -> bool {
    if classify(text) == StatementKind::PlSql {
        let first = text.split_whitespace().next().unwrap_or("");
        return !first.eq_ignore_ascii_case("call");
    }
    let words: Vec<String> = text
        .split_whitespace()
        .take(6)
        .map(str::to_ascii_uppercase)
        .collect();
    if words.first().map(String::as_str) != Some("CREATE") {
        return false;
    }
    words.iter().skip(1).any(|w| {
        matches!(
            w.as_str(),
            "PROCEDURE" | "FUNCTION" | "PACKAGE" | "TRIGGER" | "TYPE" | "LIBRARY"
        )
    })
}

/// Splits at `;` outside quotes and comments. Returns the complete statements and the
/// unterminated rest.
fn split_sql(text: &str) -> (Vec<String>, String) {
    #[derive(PartialEq)]
    enum S {
        Code,
        Single,
        Double,
        Line,
        Block,
    }
    let mut state = S::Code;
    let mut out = Vec::new();
    let mut start = 0;
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        match state {
            S::Code => match c {
                b'\'' => state = S::Single,
                b'"' => state = S::Double,
                b'-' if next == Some(b'-') => state = S::Line,
                b'/' if next == Some(b'*') => {
                    state = S::Block;
                    i += 1;
                }
                b';' => {
                    let stmt = text[start..i].trim();
                    if !stmt.is_empty() {
                        out.push(stmt.to_string());
                    }
                    start = i + 1;
                    // A PL/SQL block after this statement keeps its own `;` until `/`.
                    if is_plsql_block(&text[start..]) {
                        break;
                    }
                }
                _ => {}
            },
            S::Single if c == b'\'' => state = S::Code,
            S::Double if c == b'"' => state = S::Code,
            S::Line if c == b'\n' => state = S::Code,
            S::Block if c == b'*' && next == Some(b'/') => {
                state = S::Code;
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    let rest = &text[start..];
    let rest = if rest.trim().is_empty() {
        String::new()
    } else {
        rest.trim_start_matches('\n').to_string()
    };
    (out, rest)
}

/// Renders rows as SQL*Plus does with default settings: NUMBER columns right-aligned in at
/// least NUMWIDTH (10) characters, text left-aligned, one space between columns, a line of
/// dashes under the heading, then the feedback line.
pub fn render_table(columns: &[Column], rows: &[Vec<Value>]) -> String {
    render_table_with(columns, rows, &Display::default())
}

/// What `SET FEEDBACK/HEADING/PAGESIZE` changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Display {
    /// Print `n rows selected.` / `no rows selected`.
    pub feedback: bool,
    /// Print the column headings and dashes.
    pub heading: bool,
}

impl Default for Display {
    fn default() -> Self {
        Display {
            feedback: true,
            heading: true,
        }
    }
}

/// [`render_table`] with explicit display settings.
pub fn render_table_with(columns: &[Column], rows: &[Vec<Value>], d: &Display) -> String {
    let mut out = String::new();
    if rows.is_empty() {
        if d.feedback {
            out.push_str("no rows selected\n");
        }
        return out;
    }
    let numeric: Vec<bool> = columns
        .iter()
        .map(|c| c.type_name == "NUMBER" || c.type_name.starts_with("BINARY_"))
        .collect();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(ToString::to_string).collect())
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let data = cells
                .iter()
                .filter_map(|r| r.get(i))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0);
            let base = if numeric[i] { 10 } else { 0 };
            base.max(c.name.chars().count()).max(data)
        })
        .collect();
    if d.heading {
        out.push('\n');
    }
    let line = |out: &mut String, vals: &mut dyn Iterator<Item = (usize, String)>| {
        let mut parts = Vec::new();
        for (i, v) in vals {
            let w = widths[i];
            parts.push(if numeric[i] {
                format!("{v:>w$}")
            } else {
                format!("{v:<w$}")
            });
        }
        out.push_str(parts.join(" ").trim_end());
        out.push('\n');
    };
    if d.heading {
        line(
            &mut out,
            &mut columns.iter().enumerate().map(|(i, c)| (i, c.name.clone())),
        );
        let dashes: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        out.push_str(&dashes.join(" "));
        out.push('\n');
    }
    for r in &cells {
        line(&mut out, &mut r.iter().cloned().enumerate());
    }
    if !d.feedback {
        return out;
    }
    out.push('\n');
    let n = rows.len();
    let _ = writeln!(out, "{n} {} selected.", if n == 1 { "row" } else { "rows" });
    out
}

/// SQL*Plus's feedback for a statement that returns no rows.
pub fn feedback(sql: &str, row_count: u64) -> String {
    let words: Vec<String> = sql
        .split_whitespace()
        .take(4)
        .map(str::to_ascii_uppercase)
        .collect();
    let w = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    let rows = |verb: &str| {
        format!(
            "{row_count} {} {verb}.",
            if row_count == 1 { "row" } else { "rows" }
        )
    };
    match w(0) {
        "INSERT" => rows("created"),
        "UPDATE" => rows("updated"),
        "DELETE" => rows("deleted"),
        "MERGE" => rows("merged"),
        "COMMIT" => "Commit complete.".to_string(),
        "ROLLBACK" => "Rollback complete.".to_string(),
        "BEGIN" | "DECLARE" | "CALL" => "PL/SQL procedure successfully completed.".to_string(),
        "CREATE" | "DROP" | "ALTER" | "TRUNCATE" => {
            let verb = match w(0) {
                "CREATE" => "created",
                "DROP" => "dropped",
                "ALTER" => "altered",
                _ => "truncated",
            };
            let mut obj = if w(1) == "OR" { w(3) } else { w(1) }.to_string();
            if obj == "GLOBAL" || obj == "UNIQUE" || obj == "PUBLIC" {
                obj = w(2).to_string();
            }
            if w(0) == "ALTER" && obj == "SESSION" {
                return "Session altered.".to_string();
            }
            if w(0) == "ALTER" && obj == "SYSTEM" {
                return "System altered.".to_string();
            }
            let mut name = obj.to_ascii_lowercase();
            if let Some(f) = name.get_mut(0..1) {
                f.make_ascii_uppercase();
            }
            format!("{name} {verb}.")
        }
        "GRANT" => "Grant succeeded.".to_string(),
        "REVOKE" => "Revoke succeeded.".to_string(),
        _ => "Statement processed.".to_string(),
    }
}

/// SQL*Plus's error report: the offending line with a `*` under the error position (when
/// the server gave one), `ERROR at line n:`, then the ORA message.
pub fn render_error(sql: &str, offset: Option<u32>, message: &str) -> String {
    let mut out = String::new();
    let pos = offset.map(|o| o as usize).filter(|&o| o <= sql.len());
    match pos {
        Some(o) if sql.is_char_boundary(o) => {
            let before = &sql[..o];
            let line_no = before.matches('\n').count() + 1;
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            let line_end = sql[line_start..]
                .find('\n')
                .map_or(sql.len(), |i| line_start + i);
            let col = sql[line_start..o].chars().count();
            let _ = writeln!(out, "{}", &sql[line_start..line_end]);
            let _ = writeln!(out, "{}*", " ".repeat(col));
            let _ = writeln!(out, "ERROR at line {line_no}:");
        }
        _ => out.push_str("ERROR:\n"),
    }
    let _ = writeln!(out, "{message}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tns::ttc::types::Decimal;

    #[test]
    fn logon_forms() {
        assert_eq!(
            parse_logon("scott/tiger@orcl"),
            Logon {
                user: Some("scott".into()),
                password: Some("tiger".into()),
                identifier: Some("orcl".into()),
            }
        );
        let l = parse_logon("scott/tiger@127.0.0.1:1521/ORCL");
        assert_eq!(l.identifier.as_deref(), Some("127.0.0.1:1521/ORCL"));
        assert_eq!(l.password.as_deref(), Some("tiger"));
        let l = parse_logon("scott@orcl");
        assert_eq!(l.user.as_deref(), Some("scott"));
        assert_eq!(l.password, None);
        assert_eq!(l.identifier.as_deref(), Some("orcl"));
        let l = parse_logon("scott/\"p@ss/w\"@host:1/svc");
        assert_eq!(l.password.as_deref(), Some("p@ss/w"));
        assert_eq!(l.identifier.as_deref(), Some("host:1/svc"));
        assert_eq!(
            parse_logon("scott"),
            Logon {
                user: Some("scott".into()),
                ..Logon::default()
            }
        );
        let l = parse_logon(
            "scott/tiger@(DESCRIPTION=(ADDRESS=(HOST=h)(PORT=1))(CONNECT_DATA=(SERVICE_NAME=s)))",
        );
        assert!(l.identifier.unwrap().starts_with("(DESCRIPTION="));
    }

    fn statements(lines: &[&str]) -> Vec<Input> {
        let mut s = Splitter::new();
        let mut out = Vec::new();
        for l in lines {
            out.extend(s.push_line(l));
        }
        out.extend(s.finish());
        out
    }

    #[test]
    fn splitting_like_sqlplus() {
        assert_eq!(
            statements(&[
                "select 1",
                "from dual;",
                "select 'a;b' from dual; select 2 from dual;"
            ]),
            vec![
                Input::Statement("select 1\nfrom dual".into()),
                Input::Statement("select 'a;b' from dual".into()),
                Input::Statement("select 2 from dual".into()),
            ]
        );
        assert_eq!(
            statements(&["begin", "  dbms_session.sleep(1);", "end;", "/", "/"]),
            vec![
                Input::Statement("begin\n  dbms_session.sleep(1);\nend;".into()),
                Input::Rerun,
            ]
        );
        assert_eq!(
            statements(&["select 1 from dual", "/", "exit"]),
            vec![
                Input::Statement("select 1 from dual".into()),
                Input::Exit(None)
            ]
        );
        assert_eq!(statements(&["exit 3"]), vec![Input::Exit(Some(3))]);
        assert_eq!(statements(&["EXIT FAILURE;"]), vec![Input::Exit(Some(1))]);
        assert_eq!(
            statements(&["-- comment", "", "select 1 -- x;", "from dual;", "QUIT;"]),
            vec![
                Input::Statement("select 1 -- x;\nfrom dual".into()),
                Input::Exit(None)
            ]
        );
        assert_eq!(
            statements(&["select 1 from dual"]),
            vec![Input::Statement("select 1 from dual".into())]
        );
        assert_eq!(
            statements(&["create or replace procedure p as", "begin null; end;", "/"]),
            vec![Input::Statement(
                "create or replace procedure p as\nbegin null; end;".into()
            )]
        );
        assert_eq!(
            statements(&["select 1 from dual; begin dbms_session.sleep(1); end;"]),
            vec![
                Input::Statement("select 1 from dual".into()),
                Input::Statement("begin dbms_session.sleep(1); end;".into()),
            ]
        );
        assert_eq!(
            statements(&["select /* ; */ 1 from dual;"]),
            vec![Input::Statement("select /* ; */ 1 from dual".into())]
        );
    }

    #[test]
    fn sqlplus_commands() {
        assert_eq!(
            statements(&[
                "conn scott/tiger@orcl",
                "show user",
                "disc",
                "select 1 from dual;"
            ]),
            vec![
                Input::Command(Command::Connect(parse_logon("scott/tiger@orcl"))),
                Input::Command(Command::ShowUser),
                Input::Command(Command::Disconnect),
                Input::Statement("select 1 from dual".into()),
            ]
        );
        assert_eq!(
            parse_command("CONNECT"),
            Some(Command::Connect(Logon::default()))
        );
        assert_eq!(parse_command("show parameter x"), None);
        assert_eq!(
            parse_command("set feedback off"),
            Some(Command::Set(SetOption::Feedback(false)))
        );
        assert_eq!(
            parse_command("SET HEA OFF"),
            Some(Command::Set(SetOption::Heading(false)))
        );
        assert_eq!(
            parse_command("set pages 0"),
            Some(Command::Set(SetOption::Pagesize(0)))
        );
        assert_eq!(
            parse_command("set linesize 200"),
            Some(Command::Set(SetOption::Ignored("LINESIZE".into())))
        );
        assert_eq!(
            parse_command("set bogus on"),
            Some(Command::Set(SetOption::Unknown("bogus".into())))
        );
        assert_eq!(parse_command("set transaction read only"), None);
        assert_eq!(parse_command("set role all"), None);
        assert_eq!(
            parse_command("whenever sqlerror exit 3"),
            Some(Command::WheneverSqlError(Some(3)))
        );
        assert_eq!(
            parse_command("WHENEVER SQLERROR EXIT FAILURE"),
            Some(Command::WheneverSqlError(Some(1)))
        );
        assert_eq!(
            parse_command("whenever sqlerror continue"),
            Some(Command::WheneverSqlError(None))
        );
        assert_eq!(
            parse_command("prompt hello world"),
            Some(Command::Prompt("hello world".into()))
        );
        // Inside a statement, a line starting with "show" is SQL text.
        assert_eq!(
            statements(&["select", "show", "from t;"]),
            vec![Input::Statement("select\nshow\nfrom t".into())]
        );
    }

    fn col(name: &str, ty: &'static str) -> Column {
        Column {
            name: name.into(),
            ora_type: 0,
            type_name: ty,
            precision: 0,
            scale: 0,
            max_size: 0,
            nullable: true,
        }
    }

    #[test]
    fn table_rendering() {
        let num = |s: &str| Value::Number(Decimal::parse(s).unwrap());
        let t = render_table(
            &[
                col("1", "NUMBER"),
                col("NAME", "VARCHAR2"),
                col("N", "VARCHAR2"),
            ],
            &[
                vec![num("1"), Value::Text("abc".into()), Value::Null],
                vec![
                    num("1234.5"),
                    Value::Text("a longer one".into()),
                    Value::Null,
                ],
            ],
        );
        let want = "\n         1 NAME         N\n---------- ------------ -\n         1 abc\n    1234.5 a longer one\n\n2 rows selected.\n";
        assert_eq!(t, want);
        let t = render_table(&[col("X", "NUMBER")], &[vec![num("7")]]);
        assert!(t.ends_with("\n1 row selected.\n"), "{t}");
        assert_eq!(
            render_table(&[col("X", "NUMBER")], &[]),
            "no rows selected\n"
        );
        let quiet = Display {
            feedback: false,
            heading: false,
        };
        assert_eq!(
            render_table_with(&[col("X", "NUMBER")], &[vec![num("7")]], &quiet),
            "         7\n"
        );
        assert_eq!(render_table_with(&[col("X", "NUMBER")], &[], &quiet), "");
    }

    #[test]
    fn feedback_lines() {
        assert_eq!(feedback("insert into t values (1)", 1), "1 row created.");
        assert_eq!(feedback("delete from t", 3), "3 rows deleted.");
        assert_eq!(feedback("create table t (x number)", 0), "Table created.");
        assert_eq!(
            feedback("create or replace view v as select 1 x from dual", 0),
            "View created."
        );
        assert_eq!(feedback("commit", 0), "Commit complete.");
        assert_eq!(
            feedback("BEGIN DBMS_SESSION.SLEEP(1); END;", 0),
            "PL/SQL procedure successfully completed."
        );
    }

    #[test]
    fn error_rendering_points_at_offset() {
        let e = render_error(
            "select * from nosuch",
            Some(14),
            "ORA-00942: table or view does not exist",
        );
        assert_eq!(
            e,
            "select * from nosuch\n              *\nERROR at line 1:\nORA-00942: table or view does not exist\n"
        );
        let e = render_error("select 1\nfrom nosuch", Some(14), "ORA-00942: x");
        assert_eq!(e, "from nosuch\n     *\nERROR at line 2:\nORA-00942: x\n");
        assert_eq!(
            render_error("x", None, "ORA-01017: y"),
            "ERROR:\nORA-01017: y\n"
        );
    }
}
