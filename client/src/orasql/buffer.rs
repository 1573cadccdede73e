//! SQL*Plus's input rules. A line either belongs to the SQL statement or PL/SQL block being
//! entered, or is a SQL*Plus command, or starts a new statement, or is unknown (SP2-0042 /
//! SP2-0734, and the line is dropped: it does not swallow the lines after it).
//!
//! The SQL buffer holds the last statement entered. While a SQL statement is entered, a line
//! ending in `;` runs it, `/` runs it, a blank line or `.` ends it without running it (it
//! stays in the buffer for `/`, `RUN`, `LIST`, ...). A PL/SQL block (BEGIN, DECLARE, CREATE
//! PROCEDURE, ...) ends only at `/` (run) or `.` (keep). At the prompt, `LIST`, `RUN`,
//! `/`, `APPEND`, `CHANGE`, `DEL` and `INPUT` work on the buffer.

use super::logon::{Logon, parse_logon};
use super::sp2;
use crate::wire::{StatementKind, classify};

/// One thing for the session to do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Run this SQL statement or PL/SQL block (terminator removed; PL/SQL keeps `END;`).
    Run(String),
    /// Print this text (LIST output, SP2 messages), lines ending in `\n`.
    Print(String),
    /// A SQL*Plus command for the session.
    Command(Command),
    /// `EXIT` / `QUIT`.
    Exit {
        /// The exit status asked for.
        code: ExitCode,
        /// COMMIT (the default) or ROLLBACK before leaving.
        commit: bool,
    },
}

/// The exit status of `EXIT` and `WHENEVER SQLERROR EXIT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// `SUCCESS` (0, the default).
    Success,
    /// `FAILURE` (1).
    Failure,
    /// `WARNING` (2).
    Warning,
    /// `n`.
    Code(i64),
    /// `SQL.SQLCODE`: the ORA number of the last error (0 when there was none).
    SqlCode,
}

impl ExitCode {
    /// The process exit status: Unix keeps the low byte of what SQL*Plus passes to
    /// `exit()`, so ORA-00942 exits with 942 & 255 = 174.
    pub fn status(self, last_sqlcode: u32) -> u8 {
        let n: i64 = match self {
            ExitCode::Success => 0,
            ExitCode::Failure => 1,
            ExitCode::Warning => 2,
            ExitCode::Code(n) => n,
            ExitCode::SqlCode => i64::from(last_sqlcode),
        };
        (n & 0xFF) as u8
    }

    fn parse(word: Option<&str>) -> Option<ExitCode> {
        let Some(w) = word else {
            return Some(ExitCode::Success);
        };
        Some(match w.to_ascii_uppercase().as_str() {
            "SUCCESS" => ExitCode::Success,
            "FAILURE" => ExitCode::Failure,
            "WARNING" => ExitCode::Warning,
            "SQL.SQLCODE" => ExitCode::SqlCode,
            n => ExitCode::Code(n.parse().ok()?),
        })
    }
}

/// `WHENEVER SQLERROR ...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlErrorAction {
    /// `CONTINUE` (the default).
    Continue,
    /// `EXIT [code] [COMMIT|ROLLBACK]`.
    Exit {
        /// The exit status.
        code: ExitCode,
        /// COMMIT (the default) or ROLLBACK first.
        commit: bool,
    },
}

/// The SQL*Plus commands that need the session (the buffer commands are done here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `CONN[ECT] [logon]`.
    Connect(Logon),
    /// `DISC[ONNECT]`.
    Disconnect,
    /// `SET ...` (the rest of the line).
    Set(String),
    /// `SHO[W] ...`.
    Show(String),
    /// `COL[UMN] ...`.
    Column(String),
    /// `CL[EAR] COL[UMNS]`.
    ClearColumns,
    /// `DESC[RIBE] object`.
    Describe(String),
    /// `WHENEVER SQLERROR ...`.
    WheneverSqlError(SqlErrorAction),
    /// `PRO[MPT] text`.
    Prompt(String),
    /// `@file`, `@@file`, `STA[RT] file`.
    Script(String),
    /// `STARTUP [NOMOUNT|MOUNT|OPEN|FORCE]`.
    Startup(String),
    /// `SHUTDOWN [NORMAL|TRANSACTIONAL|IMMEDIATE|ABORT]`.
    Shutdown(String),
    /// `DEF[INE] [name [= text]]` (the rest of the line).
    Define(String),
    /// `UNDEF[INE] name [name ...]`.
    Undefine(String),
    /// `SPO[OL] [file [CRE[ATE]|REP[LACE]|APP[END]] | OFF]` (the rest of the line).
    Spool(String),
    /// `VAR[IABLE] [name [type]]` (the rest of the line).
    Variable(String),
    /// `PRI[NT] [name ...]`.
    Print(String),
    /// `ACC[EPT] variable ...` (the rest of the line).
    Accept(String),
    /// `BRE[AK] [ON ...]` (the rest of the line).
    Break(String),
    /// `COMP[UTE] [...]` (the rest of the line).
    Compute(String),
    /// `TTI[TLE] ...` (the rest of the line).
    Ttitle(String),
    /// `BTI[TLE] ...` (the rest of the line).
    Btitle(String),
    /// `CL[EAR] BRE[AKS]`.
    ClearBreaks,
    /// `CL[EAR] COMP[UTES]`.
    ClearComputes,
}

/// What is being entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Sql,
    Plsql,
}

/// The SQL buffer and the state of the line being entered.
#[derive(Debug, Default)]
pub struct Buffer {
    lines: Vec<String>,
    /// Index of the current line (LIST marks it with `*`; APPEND/CHANGE/DEL act on it).
    current: usize,
    /// Some while a statement is being entered.
    entering: Option<Mode>,
}

/// `word` is `full` or an abbreviation of it at least `min` characters long.
fn abbrev(word: &str, full: &str, min: usize) -> bool {
    word.len() >= min && full.starts_with(word)
}

/// First words that start a SQL statement.
const SQL_STARTS: &[&str] = &[
    "SELECT",
    "WITH",
    "INSERT",
    "UPDATE",
    "DELETE",
    "MERGE",
    "CREATE",
    "ALTER",
    "DROP",
    "TRUNCATE",
    "GRANT",
    "REVOKE",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT",
    "LOCK",
    "COMMENT",
    "RENAME",
    "AUDIT",
    "NOAUDIT",
    "ANALYZE",
    "EXPLAIN",
    "CALL",
    "FLASHBACK",
    "PURGE",
    "ADMINISTER",
    "ASSOCIATE",
    "DISASSOCIATE",
    "VALUES",
];

/// Second words that make `SET` the SQL statement rather than SQL*Plus's command.
const SET_SQL: &[&str] = &["ROLE", "TRANSACTION", "CONSTRAINT", "CONSTRAINTS"];

impl Buffer {
    /// An empty buffer.
    pub fn new() -> Self {
        Buffer::default()
    }

    /// True while a statement is being entered (the prompt is a line number).
    pub fn entering(&self) -> bool {
        self.entering.is_some()
    }

    /// The prompt for the next line: `SQL> `, or the next line number while entering.
    pub fn prompt(&self) -> String {
        if self.entering() {
            format!("{:>3}  ", self.lines.len() + 1)
        } else {
            "SQL> ".to_string()
        }
    }

    /// The buffer's statement text.
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }

    /// Drops a statement being entered (Ctrl-C at the prompt); the buffer keeps its lines.
    pub fn abandon(&mut self) {
        self.entering = None;
    }

    /// Whether `line`, fed next, is a SQL*Plus command line (its substitution variables are
    /// replaced as it is read) rather than a line for the SQL buffer (replaced when the
    /// statement runs, so that the buffer keeps the `&name` for `/` and `LIST`).
    pub fn is_command_line(&self, line: &str) -> bool {
        if self.entering.is_some() {
            return false;
        }
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed == "/" || trimmed == "." {
            return false;
        }
        let first = trimmed.split_whitespace().next().unwrap_or("");
        let word = first.trim_end_matches(';').to_ascii_uppercase();
        let sql_word = word.split('(').next().unwrap_or(&word);
        if sql_word == "BEGIN" || sql_word == "DECLARE" || trimmed.starts_with('(') {
            return false;
        }
        if word == "SET" {
            let second = trimmed
                .split_whitespace()
                .nth(1)
                .unwrap_or("")
                .to_ascii_uppercase();
            return !SET_SQL.contains(&second.as_str());
        }
        !SQL_STARTS.contains(&sql_word)
    }

    /// Feeds one line; returns what became complete.
    pub fn push_line(&mut self, line: &str) -> Vec<Input> {
        match self.entering {
            Some(mode) => self.continue_statement(mode, line),
            None => self.at_prompt(line),
        }
    }

    /// End of input. A statement still being entered is not run, as in SQL*Plus, unless
    /// `run_unterminated` (orasql's `-c "select 1 from dual"`).
    pub fn finish(&mut self, run_unterminated: bool) -> Vec<Input> {
        if self.entering.take().is_some() && run_unterminated {
            let text = finish_text(&self.text());
            if !text.is_empty() {
                return vec![Input::Run(text)];
            }
        }
        Vec::new()
    }

    fn continue_statement(&mut self, mode: Mode, line: &str) -> Vec<Input> {
        let trimmed = line.trim();
        if trimmed == "." {
            self.entering = None;
            return Vec::new();
        }
        if trimmed == "/" {
            self.entering = None;
            return vec![Input::Run(finish_text(&self.text()))];
        }
        if mode == Mode::Sql && trimmed.is_empty() {
            // SQLBLANKLINES OFF: a blank line ends the statement; it stays in the buffer.
            self.entering = None;
            return Vec::new();
        }
        self.lines.push(line.to_string());
        self.current = self.lines.len() - 1;
        self.after_line(mode)
    }

    /// After a line was added: a SQL statement ending in `;` is complete.
    fn after_line(&mut self, mode: Mode) -> Vec<Input> {
        if mode == Mode::Plsql {
            return Vec::new();
        }
        let text = self.text();
        if is_plsql_block(&text) {
            self.entering = Some(Mode::Plsql);
            return Vec::new();
        }
        let (done, rest) = split_sql(&text);
        if done.is_empty() {
            return Vec::new();
        }
        let mut out: Vec<Input> = Vec::new();
        let last = done.last().cloned().unwrap_or_default();
        out.extend(done.into_iter().map(Input::Run));
        if rest.trim().is_empty() {
            self.entering = None;
            self.set_lines(&last);
        } else {
            // A PL/SQL block after the last `;` keeps being entered.
            self.set_lines(rest.trim_end());
            self.entering = Some(if is_plsql_block(&rest) {
                Mode::Plsql
            } else {
                Mode::Sql
            });
        }
        out
    }

    fn set_lines(&mut self, text: &str) {
        self.lines = text.lines().map(str::to_string).collect();
        self.current = self.lines.len().saturating_sub(1);
    }

    fn start_statement(&mut self, line: &str, mode: Mode) -> Vec<Input> {
        self.lines = vec![line.to_string()];
        self.current = 0;
        self.entering = Some(mode);
        self.after_line(mode)
    }

    fn at_prompt(&mut self, line: &str) -> Vec<Input> {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed == "." || trimmed.starts_with("--") {
            return Vec::new();
        }
        if trimmed == "/" {
            return if self.lines.is_empty() {
                vec![Input::Print(format!("{}\n", sp2(103, &[])))]
            } else {
                vec![Input::Run(finish_text(&self.text()))]
            };
        }
        if let Some(path) = trimmed
            .strip_prefix("@@")
            .or_else(|| trimmed.strip_prefix('@'))
        {
            return vec![Input::Command(Command::Script(path.trim().to_string()))];
        }
        // `c/old/new`: CHANGE with its separator right after the command word.
        if let Some(arg) = change_argument(trimmed) {
            return vec![Input::Print(self.change(arg))];
        }
        let (first, rest) = match trimmed.split_once(char::is_whitespace) {
            Some((f, r)) => (f, r.trim()),
            None => (trimmed, ""),
        };
        let word = first.trim_end_matches(';').to_ascii_uppercase();
        let word = word.as_str();
        let rest_no_semi = rest.trim_end_matches(';').trim();
        if abbrev(word, "REMARK", 3) {
            return Vec::new();
        }
        if word == "EXIT" || word == "QUIT" {
            return vec![parse_exit(rest_no_semi)];
        }
        // SQL and PL/SQL first.
        let sql_word = word.split('(').next().unwrap_or(word);
        if sql_word == "BEGIN" || sql_word == "DECLARE" {
            return self.start_statement(line, Mode::Plsql);
        }
        if word == "SET" {
            let second = rest.split_whitespace().next().unwrap_or("");
            let second = second.to_ascii_uppercase();
            if SET_SQL.contains(&second.as_str()) {
                return self.start_statement(line, Mode::Sql);
            }
            return vec![Input::Command(Command::Set(rest_no_semi.to_string()))];
        }
        if SQL_STARTS.contains(&sql_word) || trimmed.starts_with('(') {
            let mode = if is_plsql_block(line) {
                Mode::Plsql
            } else {
                Mode::Sql
            };
            return self.start_statement(line, mode);
        }
        self.sqlplus_command(word, rest, rest_no_semi, trimmed)
    }

    fn sqlplus_command(
        &mut self,
        word: &str,
        rest: &str,
        rest_no_semi: &str,
        trimmed: &str,
    ) -> Vec<Input> {
        let cmd = |c: Command| vec![Input::Command(c)];
        let print = |s: String| vec![Input::Print(s)];
        if abbrev(word, "LIST", 1) {
            return print(self.list(rest_no_semi));
        }
        if abbrev(word, "RUN", 1) {
            if self.lines.is_empty() {
                return print(format!("{}\n", sp2(103, &[])));
            }
            self.current = self.lines.len() - 1;
            return vec![
                Input::Print(self.list("")),
                Input::Run(finish_text(&self.text())),
            ];
        }
        if abbrev(word, "APPEND", 1) {
            // One blank separates the command from the text; a second one is text.
            let after = &trimmed[word.len().min(trimmed.len())..];
            let text = after.strip_prefix([' ', '\t']).unwrap_or(after);
            return print(self.append(text));
        }
        if abbrev(word, "CHANGE", 1) {
            // The separator follows the command directly: `c/old/new`.
            let after = trimmed[word.len().min(trimmed.len())..].trim_start();
            let arg = if rest.is_empty() { after } else { rest };
            return print(self.change(arg));
        }
        if word == "DEL" {
            if self.lines.is_empty() {
                return print(format!("{}\n", sp2(223, &[])));
            }
            self.lines.remove(self.current);
            self.current = self.current.min(self.lines.len().saturating_sub(1));
            return Vec::new();
        }
        if abbrev(word, "INPUT", 1) {
            if !rest.is_empty() {
                let at = if self.lines.is_empty() {
                    0
                } else {
                    self.current + 1
                };
                self.lines.insert(at, rest.to_string());
                self.current = at;
            }
            return Vec::new();
        }
        if abbrev(word, "CONNECT", 4) {
            return match parse_logon(rest) {
                Ok(l) => cmd(Command::Connect(l)),
                Err(_) => print(format!(
                    "{}\nUsage: CONN[ECT] [{{logon|/|proxy}} [AS {{SYSDBA|SYSOPER|SYSASM|SYSBACKUP|SYSDG|SYSKM|SYSRAC}}] [edition=value]]\nwhere <logon> ::= <username>[/<password>][@<connect_identifier>]\n      <proxy> ::= <proxyuser>[<username>][/<password>][@<connect_identifier>]\n",
                    sp2(306, &[])
                )),
            };
        }
        if abbrev(word, "DISCONNECT", 4) {
            return cmd(Command::Disconnect);
        }
        if abbrev(word, "SHOW", 3) {
            return cmd(Command::Show(rest_no_semi.to_string()));
        }
        if abbrev(word, "COLUMN", 3) {
            return cmd(Command::Column(rest_no_semi.to_string()));
        }
        if abbrev(word, "CLEAR", 2) {
            let what = rest_no_semi.to_ascii_uppercase();
            if abbrev(&what, "COLUMNS", 3) {
                return cmd(Command::ClearColumns);
            }
            if abbrev(&what, "BREAKS", 3) {
                return cmd(Command::ClearBreaks);
            }
            if abbrev(&what, "COMPUTES", 4) {
                return cmd(Command::ClearComputes);
            }
            if abbrev(&what, "BUFFER", 3) || abbrev(&what, "SQL", 3) {
                self.lines.clear();
                self.current = 0;
                return print(format!(
                    "{} cleared\n",
                    if what.starts_with('B') {
                        "buffer"
                    } else {
                        "sql"
                    }
                ));
            }
            if abbrev(&what, "SCREEN", 3) {
                return Vec::new();
            }
            return print(format!("{}\n", sp2(158, &["CLEAR", rest_no_semi])));
        }
        if abbrev(word, "DESCRIBE", 4) {
            if rest_no_semi.is_empty() {
                return print("Usage: DESCRIBE [schema.]object[@db_link]\n".to_string());
            }
            return cmd(Command::Describe(rest_no_semi.to_string()));
        }
        if word == "WHENEVER" {
            return match parse_whenever(rest_no_semi) {
                Some(a) => cmd(Command::WheneverSqlError(a)),
                None => print(format!("{}\n", sp2(734, &[&first_chars(trimmed, 10)]))),
            };
        }
        if abbrev(word, "PROMPT", 3) {
            return cmd(Command::Prompt(rest.to_string()));
        }
        if abbrev(word, "EXECUTE", 4) {
            return vec![Input::Run(format!("BEGIN {rest_no_semi}; END;"))];
        }
        if word == "STARTUP" {
            return cmd(Command::Startup(rest_no_semi.to_string()));
        }
        if abbrev(word, "DEFINE", 3) {
            return cmd(Command::Define(rest.to_string()));
        }
        if abbrev(word, "UNDEFINE", 5) {
            return cmd(Command::Undefine(rest_no_semi.to_string()));
        }
        if abbrev(word, "VARIABLE", 3) {
            return cmd(Command::Variable(rest_no_semi.to_string()));
        }
        if abbrev(word, "TTITLE", 3) {
            return cmd(Command::Ttitle(rest_no_semi.to_string()));
        }
        if abbrev(word, "BTITLE", 3) {
            return cmd(Command::Btitle(rest_no_semi.to_string()));
        }
        if abbrev(word, "BREAK", 3) {
            return cmd(Command::Break(rest_no_semi.to_string()));
        }
        if abbrev(word, "COMPUTE", 4) {
            return cmd(Command::Compute(rest_no_semi.to_string()));
        }
        if abbrev(word, "ACCEPT", 3) {
            return cmd(Command::Accept(rest_no_semi.to_string()));
        }
        if abbrev(word, "PRINT", 3) {
            return cmd(Command::Print(rest_no_semi.to_string()));
        }
        if abbrev(word, "SPOOL", 3) {
            return cmd(Command::Spool(rest_no_semi.to_string()));
        }
        if word == "SHUTDOWN" {
            return cmd(Command::Shutdown(rest_no_semi.to_string()));
        }
        if abbrev(word, "START", 3) {
            return cmd(Command::Script(rest_no_semi.to_string()));
        }
        if trimmed.split_whitespace().count() == 1 {
            print(format!("{}\n", sp2(42, &[trimmed])))
        } else {
            print(format!("{}\n", sp2(734, &[&first_chars(trimmed, 10)])))
        }
    }

    /// `LIST [n | n m | * | LAST]`: the lines with their numbers, `*` at the current one.
    fn list(&mut self, arg: &str) -> String {
        if self.lines.is_empty() {
            return format!("{}\n", sp2(223, &[]));
        }
        let n = self.lines.len();
        let pos = |w: &str, cur: usize| -> Option<usize> {
            match w.to_ascii_uppercase().as_str() {
                "*" => Some(cur),
                "LAST" | "L" => Some(n - 1),
                x => x
                    .parse::<usize>()
                    .ok()
                    .filter(|&i| i >= 1 && i <= n)
                    .map(|i| i - 1),
            }
        };
        let words: Vec<&str> = arg.split_whitespace().collect();
        let (from, to) = match words.as_slice() {
            [] => (0, n - 1),
            [a] => match pos(a, self.current) {
                Some(i) => (i, i),
                None => return format!("{}\n", sp2(226, &[])),
            },
            [a, b, ..] => match (pos(a, self.current), pos(b, self.current)) {
                (Some(i), Some(j)) if i <= j => (i, j),
                _ => return format!("{}\n", sp2(226, &[])),
            },
        };
        self.current = to;
        let mut out = String::new();
        for i in from..=to {
            out.push_str(&self.line_listing(i));
        }
        out
    }

    fn line_listing(&self, i: usize) -> String {
        let mark = if i == self.current { '*' } else { ' ' };
        format!("{:>3}{mark} {}\n", i + 1, self.lines[i])
    }

    fn append(&mut self, text: &str) -> String {
        if self.lines.is_empty() {
            return format!("{}\n", sp2(223, &[]));
        }
        if text.is_empty() {
            return format!("{}\n", sp2(4, &[]));
        }
        self.lines[self.current].push_str(text);
        self.line_listing(self.current)
    }

    /// `CHANGE /old/new/` (any non-alphanumeric separator): the first occurrence on the
    /// current line.
    fn change(&mut self, arg: &str) -> String {
        if self.lines.is_empty() {
            return format!("{}\n", sp2(223, &[]));
        }
        let mut chars = arg.chars();
        let Some(sep) = chars.next().filter(|c| !c.is_alphanumeric()) else {
            return format!("{}\n", sp2(24, &[]));
        };
        let body = chars.as_str();
        let mut parts = body.splitn(3, sep);
        let old = parts.next().unwrap_or("");
        let new = parts.next().unwrap_or("");
        let line = &mut self.lines[self.current];
        if old.is_empty() {
            line.insert_str(0, new);
        } else if let Some(i) = line.find(old) {
            line.replace_range(i..i + old.len(), new);
        } else {
            return format!("{}\n", sp2(23, &[]));
        }
        self.line_listing(self.current)
    }
}

/// The `/old/new/` of `c/old/new/` or `change/old/new/`.
fn change_argument(line: &str) -> Option<&str> {
    let word_end = line
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(line.len());
    let word = line[..word_end].to_ascii_uppercase();
    let rest = &line[word_end..];
    let sep = rest.chars().next()?;
    (abbrev(&word, "CHANGE", 1) && !sep.is_alphanumeric() && !sep.is_whitespace() && sep != ';')
        .then_some(rest)
}

fn first_chars(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn parse_exit(rest: &str) -> Input {
    let words: Vec<&str> = rest.split_whitespace().collect();
    let (code_word, commit_word) = match words.as_slice() {
        [] => (None, None),
        [w] if w.eq_ignore_ascii_case("commit") || w.eq_ignore_ascii_case("rollback") => {
            (None, Some(*w))
        }
        [w] => (Some(*w), None),
        [w, c, ..] => (Some(*w), Some(*c)),
    };
    // A syntax error in EXIT's options is EXIT FAILURE COMMIT (SQL*Plus reference).
    let code = ExitCode::parse(code_word).unwrap_or(ExitCode::Failure);
    let commit = !commit_word.is_some_and(|c| c.eq_ignore_ascii_case("rollback"));
    Input::Exit { code, commit }
}

fn parse_whenever(rest: &str) -> Option<SqlErrorAction> {
    let words: Vec<String> = rest
        .split_whitespace()
        .map(str::to_ascii_uppercase)
        .collect();
    if words.first().map(String::as_str) != Some("SQLERROR") {
        return None;
    }
    match words.get(1).map(String::as_str) {
        Some("CONTINUE") => Some(SqlErrorAction::Continue),
        Some("EXIT") => {
            let (code_word, commit_word) = match words.get(2).map(String::as_str) {
                Some("COMMIT" | "ROLLBACK") => (None, words.get(2)),
                w => (w, words.get(3)),
            };
            Some(SqlErrorAction::Exit {
                code: ExitCode::parse(code_word)?,
                commit: commit_word.map(String::as_str) != Some("ROLLBACK"),
            })
        }
        _ => None,
    }
}

/// The statement text to send: a SQL statement loses its `;`, PL/SQL keeps it.
fn finish_text(stmt: &str) -> String {
    let s = stmt.trim();
    if is_plsql_block(s) {
        s.to_string()
    } else {
        s.trim_end_matches(';').trim_end().to_string()
    }
}

/// PL/SQL blocks and stored-code DDL end only at `/` or `.`; their `;` belong to the code.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(lines: &[&str]) -> Vec<Input> {
        let mut b = Buffer::new();
        let mut out = Vec::new();
        for l in lines {
            out.extend(b.push_line(l));
        }
        out.extend(b.finish(false));
        out
    }

    fn run(s: &str) -> Input {
        Input::Run(s.into())
    }

    #[test]
    fn semicolon_slash_blank_line_and_dot() {
        assert_eq!(
            feed(&[
                "select 1",
                "from dual;",
                "select 'a;b' from dual; select 2 from dual;"
            ]),
            vec![
                run("select 1\nfrom dual"),
                run("select 'a;b' from dual"),
                run("select 2 from dual"),
            ]
        );
        // A blank line ends the statement without running it; `/` runs the buffer.
        assert_eq!(
            feed(&["select 1", "from dual", "", "/", "/"]),
            vec![run("select 1\nfrom dual"), run("select 1\nfrom dual")]
        );
        // `.` ends it too.
        assert_eq!(
            feed(&["select 1 from dual", ".", "/"]),
            vec![run("select 1 from dual")]
        );
        // PL/SQL: blank lines and `;` are part of the block; `/` runs it, `/` again re-runs.
        assert_eq!(
            feed(&["begin", "", "  dbms_session.sleep(1);", "end;", "/", "/"]),
            vec![
                run("begin\n\n  dbms_session.sleep(1);\nend;"),
                run("begin\n\n  dbms_session.sleep(1);\nend;"),
            ]
        );
        assert_eq!(
            feed(&["create or replace procedure p as", "begin null; end;", "/"]),
            vec![run("create or replace procedure p as\nbegin null; end;")]
        );
        assert_eq!(
            feed(&["select /* ; */ 1 from dual;"]),
            vec![run("select /* ; */ 1 from dual")]
        );
        // End of input: an unterminated statement is not run (SQL*Plus); -c runs it.
        assert_eq!(feed(&["select 1 from dual"]), vec![]);
        let mut b = Buffer::new();
        b.push_line("select 1 from dual");
        assert_eq!(b.finish(true), vec![run("select 1 from dual")]);
        // `/` with nothing in the buffer.
        assert_eq!(
            feed(&["/"]),
            vec![Input::Print(
                "SP2-0103: Nothing in SQL buffer to run.\n".into()
            )]
        );
    }

    #[test]
    fn unknown_commands_are_reported_and_do_not_swallow_lines() {
        assert_eq!(
            feed(&["foo", "bogus command here", "select 1 from dual;"]),
            vec![
                Input::Print("SP2-0042: unknown command \"foo\" - rest of line ignored.\n".into()),
                Input::Print(
                    "SP2-0734: unknown command beginning \"bogus comm...\" - rest of line ignored.\n"
                        .into()
                ),
                run("select 1 from dual"),
            ]
        );
    }

    #[test]
    fn list_run_append_change_del_input() {
        let mut b = Buffer::new();
        assert_eq!(
            b.push_line("list"),
            vec![Input::Print("SP2-0223: No lines in SQL buffer.\n".into())]
        );
        b.push_line("select *");
        b.push_line("from dual");
        b.push_line("");
        assert_eq!(
            b.push_line("l"),
            vec![Input::Print("  1  select *\n  2* from dual\n".into())]
        );
        assert_eq!(
            b.push_line("L 1"),
            vec![Input::Print("  1* select *\n".into())]
        );
        assert_eq!(
            b.push_line("c/*/dummy"),
            vec![Input::Print("  1* select dummy\n".into())]
        );
        assert_eq!(
            b.push_line("c/nosuch/x/"),
            vec![Input::Print("SP2-0023: String not found.\n".into())]
        );
        assert_eq!(
            b.push_line("l 2"),
            vec![Input::Print("  2* from dual\n".into())]
        );
        assert_eq!(
            b.push_line("a  d"),
            vec![Input::Print("  2* from dual d\n".into())]
        );
        assert_eq!(
            b.push_line("run"),
            vec![
                Input::Print("  1  select dummy\n  2* from dual d\n".into()),
                run("select dummy\nfrom dual d"),
            ]
        );
        b.push_line("i where 1 = 1");
        assert_eq!(b.text(), "select dummy\nfrom dual d\nwhere 1 = 1");
        b.push_line("del");
        assert_eq!(b.text(), "select dummy\nfrom dual d");
        assert_eq!(b.push_line("/"), vec![run("select dummy\nfrom dual d")]);
    }

    #[test]
    fn variable_print_and_spool_are_commands() {
        assert_eq!(
            feed(&[
                "var n number",
                "VARIABLE s varchar2(10);",
                "variable",
                "pri n s",
                "print",
                "exec :n := 42",
                "spool out.txt append",
                "spo off"
            ]),
            vec![
                Input::Command(Command::Variable("n number".into())),
                Input::Command(Command::Variable("s varchar2(10)".into())),
                Input::Command(Command::Variable(String::new())),
                Input::Command(Command::Print("n s".into())),
                Input::Command(Command::Print(String::new())),
                run("BEGIN :n := 42; END;"),
                Input::Command(Command::Spool("out.txt append".into())),
                Input::Command(Command::Spool("off".into())),
            ]
        );
        // VAR is the shortest form of VARIABLE.
        assert_eq!(
            feed(&["va n number"]),
            vec![Input::Print(
                "SP2-0734: unknown command beginning \"va n numbe...\" - rest of line ignored.\n"
                    .into()
            )]
        );
    }

    #[test]
    fn sqlplus_commands_and_exit() {
        assert_eq!(
            feed(&[
                "conn scott/tiger@orcl as sysdba",
                "desc v$session",
                "show user",
                "disc"
            ]),
            vec![
                Input::Command(Command::Connect(
                    parse_logon("scott/tiger@orcl as sysdba").unwrap()
                )),
                Input::Command(Command::Describe("v$session".into())),
                Input::Command(Command::Show("user".into())),
                Input::Command(Command::Disconnect),
            ]
        );
        assert_eq!(
            feed(&["set transaction read only;", "set linesize 100"]),
            vec![
                run("set transaction read only"),
                Input::Command(Command::Set("linesize 100".into())),
            ]
        );
        assert_eq!(
            feed(&["exec dbms_session.sleep(1)"]),
            vec![run("BEGIN dbms_session.sleep(1); END;")]
        );
        assert_eq!(
            feed(&["whenever sqlerror exit sql.sqlcode rollback"]),
            vec![Input::Command(Command::WheneverSqlError(
                SqlErrorAction::Exit {
                    code: ExitCode::SqlCode,
                    commit: false
                }
            ))]
        );
        assert_eq!(
            feed(&["exit 3"]),
            vec![Input::Exit {
                code: ExitCode::Code(3),
                commit: true
            }]
        );
        assert_eq!(
            feed(&["quit failure;"]),
            vec![Input::Exit {
                code: ExitCode::Failure,
                commit: true
            }]
        );
        assert_eq!(ExitCode::SqlCode.status(942), 174);
        assert_eq!(ExitCode::Code(3).status(0), 3);
        assert_eq!(ExitCode::Success.status(942), 0);
        // Inside a statement a line starting with a command word is SQL text.
        assert_eq!(
            feed(&["select", "show", "from t;"]),
            vec![run("select\nshow\nfrom t")]
        );
    }
}
