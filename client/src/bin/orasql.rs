//! `orasql`: a small SQL*Plus-like client on top of the `client` library.
//!
//! ```text
//! orasql [user[/password][@identifier]] [-c "SQL; SQL"]
//! ```
//! Interactive on a terminal (line editing and history via rustyline, `exit`/`quit`),
//! otherwise reads statements from stdin; statements end with `;` or with `/` on a line of
//! its own. Missing logon parts are prompted for (the password without echo on a
//! terminal); without an identifier, `TWO_TASK` or `LOCAL` is used as SQL*Plus does.

use std::borrow::Cow;
use std::io::{self, BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Parser;
use client::orasql::{Input, Splitter, feedback, parse_logon, render_error, render_table};
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
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("{e:#}");
            ExitCode::from(1)
        }
    }
}

/// Returns Ok(false) when a statement failed in non-interactive mode.
fn run(args: &Args) -> Result<bool> {
    let interactive = args.command.is_none() && io::stdin().is_terminal() && !args.silent;
    let mut logon = args.logon.as_deref().map(parse_logon).unwrap_or_default();
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
    let identifier = match logon.identifier.clone() {
        Some(id) => id,
        None => match std::env::var("TWO_TASK").or_else(|_| std::env::var("LOCAL")) {
            Ok(id) if !id.trim().is_empty() => id,
            _ => bail!("ERROR:\nORA-12162: TNS:net service name is incorrectly specified"),
        },
    };
    let user = logon.user.unwrap_or_default();
    let password = logon.password.unwrap_or_default();
    let mut conn = match Connection::connect(&identifier, &user, &password) {
        Ok(c) => c,
        Err(e) => {
            println!("ERROR:\n{e}\n");
            return Ok(false);
        }
    };
    if interactive {
        let info = conn.session_info();
        println!(
            "\nConnected to orasim, server version {} (SID {}, serial# {}).\n",
            info.server_version, info.session_id, info.serial_num
        );
    }
    let ok = if let Some(sql) = &args.command {
        run_lines(&mut conn, sql.lines().map(|l| Ok(l.to_string())))?
    } else if interactive {
        run_interactive(&mut conn)?
    } else {
        let stdin = io::stdin();
        let lines = stdin.lock().lines().map(|l| l.context("reading stdin"));
        run_lines(&mut conn, lines)?
    };
    if let Err(e) = conn.close() {
        eprintln!("{e}");
    }
    Ok(ok)
}

/// Runs one statement and prints what SQL*Plus would. Returns false on error.
fn run_statement(conn: &mut Connection, sql: &str) -> bool {
    let result = conn.query(sql);
    let out = io::stdout();
    let mut out = out.lock();
    match result {
        Ok(r) if !r.columns.is_empty() => {
            let _ = write!(out, "{}", render_table(&r.columns, &r.rows));
            let _ = writeln!(out);
            true
        }
        Ok(r) => {
            let _ = writeln!(out, "\n{}\n", feedback(sql, r.row_count));
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
    }
}

fn run_lines(conn: &mut Connection, lines: impl Iterator<Item = Result<String>>) -> Result<bool> {
    let mut splitter = Splitter::new();
    let mut last: Option<String> = None;
    let mut ok = true;
    let act = |conn: &mut Connection, input: Input, last: &mut Option<String>| -> bool {
        match input {
            Input::Statement(s) => {
                let r = run_statement(conn, &s);
                *last = Some(s);
                r
            }
            Input::Rerun => match last.clone() {
                Some(s) => run_statement(conn, &s),
                None => true,
            },
            Input::Exit => true,
        }
    };
    for line in lines {
        let line = line?;
        for input in splitter.push_line(&line) {
            if input == Input::Exit {
                return Ok(ok);
            }
            ok &= act(conn, input, &mut last);
            if !conn.is_open() {
                return Ok(false);
            }
        }
    }
    if let Some(input) = splitter.finish() {
        ok &= act(conn, input, &mut last);
    }
    Ok(ok)
}

fn history_path() -> Option<std::path::PathBuf> {
    std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".orasql_history"))
}

fn run_interactive(conn: &mut Connection) -> Result<bool> {
    let mut ed = DefaultEditor::new()?;
    let hist = history_path();
    if let Some(h) = &hist {
        let _ = ed.load_history(h);
    }
    let mut splitter = Splitter::new();
    let mut last: Option<String> = None;
    loop {
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
            match input {
                Input::Exit => {
                    if let Some(h) = &hist {
                        let _ = ed.save_history(h);
                    }
                    return Ok(true);
                }
                Input::Statement(s) => {
                    run_statement(conn, &s);
                    last = Some(s);
                }
                Input::Rerun => {
                    if let Some(s) = &last {
                        run_statement(conn, s);
                    }
                }
            }
            if !conn.is_open() {
                println!("ERROR:\nORA-03114: not connected to ORACLE\n");
                return Ok(false);
            }
        }
    }
    if let Some(h) = &hist {
        let _ = ed.save_history(h);
    }
    Ok(true)
}
