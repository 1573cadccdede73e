//! `orasql`: a small SQL*Plus-like client on top of the `client` library.
//!
//! ```text
//! orasql [user[/password][@identifier]] [-c "SQL; SQL"]
//! ```
//! Interactive on a terminal (line editing and history via rustyline, `exit`/`quit`),
//! otherwise reads statements from stdin; statements end with `;` or with `/` on a line of
//! its own. Missing logon parts are prompted for (the password without echo on a
//! terminal); without an identifier, `TWO_TASK` or `LOCAL` is used as SQL*Plus does.
//!
//! SQL*Plus commands understood: `CONNECT`, `DISCONNECT`, `SHOW USER`, `SET FEEDBACK`,
//! `SET HEADING`, `SET PAGESIZE` (others such as LINESIZE are accepted and ignored),
//! `WHENEVER SQLERROR EXIT n|CONTINUE`, `PROMPT`, `EXIT [n]`. Exit status: the one `EXIT n`
//! or `WHENEVER SQLERROR EXIT n` chose; otherwise 1 when any statement failed (unlike
//! SQL*Plus, so that scripts and `-c` can test it), else 0.
#![forbid(unsafe_code)]

use std::borrow::Cow;
use std::io::{self, BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Parser;
use client::orasql::{
    Command, Display, Input, Logon, SetOption, Splitter, feedback, parse_logon, render_error,
    render_table_with,
};
use client::{ClientError, Connection};
use rustyline::completion::Completer;
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{DefaultEditor, Editor, Helper};

#[derive(Parser, Debug)]
#[command(
    name = "orasql",
    version,
    about = "SQL client for Oracle Net servers (orasim or Oracle)"
)]
struct Args {
    /// user[/password][@connect_identifier]
    logon: Option<String>,
    /// Run these statements (separated by `;`) and exit; non-zero exit status on error.
    #[arg(short = 'c', long = "command", value_name = "SQL")]
    command: Option<String>,
    /// Silent: no banner, no prompts (implied when stdin is not a terminal).
    #[arg(short = 's', long)]
    silent: bool,
}

/// Hides what is typed (password prompt on a terminal): nothing is echoed.
struct Mask;

impl Completer for Mask {
    type Candidate = String;
}
impl Hinter for Mask {
    type Hint = String;
}
impl Validator for Mask {}
impl Highlighter for Mask {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        let _ = line;
        Cow::Owned(String::new())
    }
    fn highlight_char(&self, _line: &str, _pos: usize, _kind: CmdKind) -> bool {
        true
    }
}
impl Helper for Mask {}

fn prompt_line(prompt: &str, hidden: bool) -> Result<String> {
    if io::stdin().is_terminal() {
        if hidden {
            let mut ed: Editor<Mask, rustyline::history::DefaultHistory> = Editor::new()?;
            ed.set_helper(Some(Mask));
            return Ok(ed.readline(prompt)?);
        }
        let mut ed = DefaultEditor::new()?;
        return Ok(ed.readline(prompt)?);
    }
    let mut line = String::new();
    io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("{e:#}");
            ExitCode::from(1)
        }
    }
}

/// The logon parts, completed by prompts and `TWO_TASK`/`LOCAL`.
fn complete_logon(mut logon: Logon) -> Result<(String, String, String)> {
    if logon.user.is_none() {
        // SQL*Plus accepts the whole `user/password@identifier` at this prompt.
        let typed = parse_logon(&prompt_line("Enter user-name: ", false)?);
        logon.user = typed.user;
        logon.password = logon.password.or(typed.password);
        logon.identifier = logon.identifier.or(typed.identifier);
    }
    if logon.password.is_none() {
        logon.password = Some(prompt_line("Enter password: ", true)?);
    }
    let identifier = match logon.identifier {
        Some(id) => id,
        None => match std::env::var("TWO_TASK").or_else(|_| std::env::var("LOCAL")) {
            Ok(id) if !id.trim().is_empty() => id,
            _ => bail!("{}", tns::error_text::ora_line(12162)),
        },
    };
    Ok((
        logon.user.unwrap_or_default(),
        logon.password.unwrap_or_default(),
        identifier,
    ))
}

/// What one `orasql` run holds: the connection (if any), the last statement (for `/`)
/// and the SQL*Plus settings.
struct Session {
    conn: Option<Connection>,
    user: String,
    last: Option<String>,
    interactive: bool,
    display: Display,
    /// `WHENEVER SQLERROR EXIT n`.
    exit_on_error: Option<i32>,
}

/// What the input loop does next.
enum Flow {
    /// Go on; whether the input succeeded.
    Continue(bool),
    /// Stop with this exit status (`None`: the loop's own verdict).
    Exit(Option<i32>),
}

impl Session {
    /// Logs on; prints SQL*Plus's error block and returns false when that fails. `first`:
    /// the logon of the command line (no "Connected." in script mode, as `sqlplus -s`).
    fn connect(&mut self, logon: Logon, first: bool) -> bool {
        self.disconnect();
        let (user, password, identifier) = match complete_logon(logon) {
            Ok(t) => t,
            Err(e) => {
                println!("ERROR:\n{e:#}\n");
                return false;
            }
        };
        match Connection::connect(&identifier, &user, &password) {
            Ok(c) => {
                if self.interactive {
                    let info = c.session_info();
                    println!(
                        "\nConnected to orasim, server version {} (SID {}, serial# {}).\n",
                        info.server_version, info.session_id, info.serial_num
                    );
                } else if !first {
                    println!("Connected.");
                }
                self.user = user.to_ascii_uppercase();
                self.conn = Some(c);
                true
            }
            Err(e) => {
                println!("ERROR:\n{e}\n");
                false
            }
        }
    }

    /// Ends the session; like SQL*Plus (EXITCOMMIT ON) an open transaction is committed.
    fn disconnect(&mut self) {
        if let Some(mut c) = self.conn.take() {
            if c.transaction_in_progress()
                && let Err(e) = c.commit()
            {
                eprintln!("{e}");
            }
            if let Err(e) = c.close() {
                eprintln!("{e}");
            }
        }
    }

    /// Acts on one input.
    fn handle(&mut self, input: Input) -> Flow {
        let ok = match input {
            Input::Exit(code) => return Flow::Exit(code),
            Input::Statement(s) => {
                let ok = self.run_statement(&s);
                self.last = Some(s);
                ok
            }
            Input::Rerun => match self.last.clone() {
                Some(s) => self.run_statement(&s),
                None => true,
            },
            Input::Command(c) => self.command(c),
        };
        match (ok, self.exit_on_error) {
            (false, Some(code)) => Flow::Exit(Some(code)),
            _ => Flow::Continue(ok),
        }
    }

    fn command(&mut self, c: Command) -> bool {
        match c {
            Command::Connect(l) => self.connect(l, false),
            Command::Disconnect => {
                let was = self.conn.is_some();
                self.disconnect();
                if was {
                    println!("Disconnected.");
                }
                true
            }
            Command::ShowUser => {
                match &self.conn {
                    Some(_) => println!("USER is \"{}\"", self.user),
                    None => println!("USER is \"\""),
                }
                true
            }
            Command::Set(SetOption::Feedback(on)) => {
                self.display.feedback = on;
                true
            }
            Command::Set(SetOption::Heading(on)) => {
                self.display.heading = on;
                true
            }
            Command::Set(SetOption::Pagesize(n)) => {
                self.display.heading = n != 0;
                true
            }
            Command::Set(SetOption::Ignored(_)) => true,
            Command::Set(SetOption::Unknown(name)) => {
                println!("SP2-0158: unknown SET option \"{name}\"");
                true
            }
            Command::WheneverSqlError(code) => {
                self.exit_on_error = code;
                true
            }
            Command::Prompt(text) => {
                println!("{text}");
                true
            }
        }
    }

    /// Runs one statement and prints what SQL*Plus would. Returns false on error.
    fn run_statement(&mut self, sql: &str) -> bool {
        let Some(conn) = self.conn.as_mut() else {
            println!("SP2-0640: Not connected");
            return false;
        };
        let result = conn.query(sql);
        let alive = conn.is_open();
        let out = io::stdout();
        let mut out = out.lock();
        let ok = match result {
            Ok(r) if !r.columns.is_empty() => {
                let _ = write!(
                    out,
                    "{}",
                    render_table_with(&r.columns, &r.rows, &self.display)
                );
                if self.display.feedback {
                    let _ = writeln!(out);
                }
                true
            }
            Ok(r) => {
                if self.display.feedback {
                    let _ = writeln!(out, "\n{}\n", feedback(sql, r.row_count));
                }
                true
            }
            Err(ClientError::Database {
                message, offset, ..
            }) => {
                let _ = writeln!(out, "{}", render_error(sql, offset, &message));
                false
            }
            Err(e) => {
                let _ = writeln!(out, "ERROR:\n{e}\n");
                false
            }
        };
        if !alive {
            // The session is gone (ORA-03113, killed, ...): later statements say so.
            self.conn = None;
        }
        ok
    }
}

/// Returns the exit status.
fn run(args: &Args) -> Result<u8> {
    let interactive = args.command.is_none() && io::stdin().is_terminal() && !args.silent;
    let logon = args.logon.as_deref().map(parse_logon).unwrap_or_default();
    let mut session = Session {
        conn: None,
        user: String::new(),
        last: None,
        interactive,
        display: Display::default(),
        exit_on_error: None,
    };
    if !session.connect(logon, true) {
        return Ok(1);
    }
    let flow = if let Some(sql) = &args.command {
        run_lines(&mut session, sql.lines().map(|l| Ok(l.to_string())))?
    } else if interactive {
        run_interactive(&mut session)?
    } else {
        let stdin = io::stdin();
        let lines = stdin.lock().lines().map(|l| l.context("reading stdin"));
        run_lines(&mut session, lines)?
    };
    session.disconnect();
    Ok(flow)
}

/// Feeds lines to the session; the exit status is the one `EXIT n`/`WHENEVER` chose, else
/// 1 when any statement failed.
fn run_lines(session: &mut Session, lines: impl Iterator<Item = Result<String>>) -> Result<u8> {
    let mut splitter = Splitter::new();
    let mut ok = true;
    let status = |code: Option<i32>, ok: bool| match code {
        Some(c) => u8::try_from(c.clamp(0, 255)).unwrap_or(1),
        None => u8::from(!ok),
    };
    for line in lines {
        let line = line?;
        for input in splitter.push_line(&line) {
            match session.handle(input) {
                Flow::Exit(code) => return Ok(status(code, ok)),
                Flow::Continue(r) => ok &= r,
            }
        }
    }
    if let Some(input) = splitter.finish() {
        match session.handle(input) {
            Flow::Exit(code) => return Ok(status(code, ok)),
            Flow::Continue(r) => ok &= r,
        }
    }
    Ok(status(None, ok))
}

fn history_path() -> Option<std::path::PathBuf> {
    std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".orasql_history"))
}

fn run_interactive(session: &mut Session) -> Result<u8> {
    let mut ed = DefaultEditor::new()?;
    let hist = history_path();
    if let Some(h) = &hist {
        let _ = ed.load_history(h);
    }
    let mut splitter = Splitter::new();
    let mut status = 0;
    'outer: loop {
        let prompt = if splitter.in_statement() {
            format!("{:>3}  ", splitter.lines() + 1)
        } else {
            "SQL> ".to_string()
        };
        let line = match ed.readline(&prompt) {
            Ok(l) => l,
            Err(rustyline::error::ReadlineError::Interrupted) => {
                splitter = Splitter::new();
                continue;
            }
            Err(rustyline::error::ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        };
        if !line.trim().is_empty() {
            let _ = ed.add_history_entry(line.as_str());
        }
        for input in splitter.push_line(&line) {
            if let Flow::Exit(code) = session.handle(input) {
                status = code.map_or(0, |c| u8::try_from(c.clamp(0, 255)).unwrap_or(1));
                break 'outer;
            }
        }
    }
    if let Some(h) = &hist {
        let _ = ed.save_history(h);
    }
    Ok(status)
}
