//! `orasql`: the SQL*Plus of this project, on top of the `client` library.
//!
//! ```text
//! orasql [-s] [user[/password][@identifier] [AS SYSDBA|SYSOPER]] [-c "SQL; SQL"]
//! ```
//! Interactive on a terminal (line editing and history via rustyline), otherwise reads
//! stdin as `sqlplus -s` does. Missing logon parts are prompted for (the password without
//! echo on a terminal); without an identifier, `TWO_TASK` or `LOCAL` is used as SQL*Plus
//! does. The input rules, SET/SHOW/COLUMN and the layouts are SQL*Plus's (see
//! `client::orasql`). Everything orasql shows goes through `say!`/`sayln!`, which copy it
//! to the SPOOL file; at the terminal the prompt and the line typed go there too, as
//! SQL*Plus's spool file has them.
//!
//! Ctrl-C while a call runs sends a BREAK (an INTERRUPT marker on a second handle of the
//! socket, from a signal thread): the server answers ORA-01013 and the prompt comes back
//! with the session intact. Ctrl-C at the prompt (rustyline reads it in raw mode) drops the
//! line or statement being typed and gives a new prompt; the session stays. Ctrl-D ends
//! orasql (with "Disconnected from ...").
//!
//! An AS SYSDBA/SYSOPER logon the server authenticated but answered with ORA-01034 (the
//! instance is not started) is SQL*Plus's "Connected to an idle instance.": STARTUP runs
//! the local `oradb` and logs in again, at any stage (the instance admits AS SYSDBA /
//! SYSOPER from NOMOUNT on), so V$ queries and `ALTER DATABASE MOUNT | OPEN` run on the
//! session as in SQL*Plus.
//!
//! Exit status: the one `EXIT` or `WHENEVER SQLERROR EXIT` chose (`SQL.SQLCODE`: the ORA
//! number's low byte, as Unix keeps it), else 0 as SQL*Plus; with `-c` (orasql's own
//! option) 1 when a statement failed, so that shell scripts can test it.
#![forbid(unsafe_code)]

use std::borrow::Cow;
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode as ProcessExit;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use anyhow::{Result, bail};
use clap::Parser;
use client::orasql::accept;
use client::orasql::binds::Variables as BindVariables;
use client::orasql::buffer::{Buffer, Command, Input, SqlErrorAction};
use client::orasql::logon::{Logon, parse_logon};
use client::orasql::render::{
    elapsed, feedback, render_describe, render_error, render_parameters, render_table,
};
use client::orasql::spool::Spool;
use client::orasql::substitution::{Abandoned, Variables, substitute, verify_lines};
use client::orasql::{Settings, sp2};
use client::{
    Bind, BreakHandle, ClientError, ConnectOptions, Connection, StatementKind, Value, classify,
};
use rustyline::completion::Completer;
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{DefaultEditor, Editor, Helper};
use tns::ttc::types::Decimal;

/// `print!` that also copies the text to the spool file (SPOOL): everything orasql shows
/// goes through it or [`sayln`].
macro_rules! say {
    ($spool:expr, $($arg:tt)*) => {{
        let text = format!($($arg)*);
        print!("{text}");
        $spool.write(&text);
    }};
}

/// `println!` that also copies the line to the spool file.
macro_rules! sayln {
    ($spool:expr, $($arg:tt)*) => {{
        let text = format!($($arg)*);
        println!("{text}");
        $spool.write(&text);
        $spool.write("\n");
    }};
}

#[derive(Parser, Debug)]
#[command(
    name = "orasql",
    version,
    about = "SQL*Plus-style client for Oracle Net servers (orasim or Oracle)"
)]
struct Args {
    /// user[/password][@connect_identifier] [AS SYSDBA|SYSOPER] (quote it: one argument)
    #[arg(num_args = 1.., value_name = "LOGON")]
    logon: Vec<String>,
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

fn main() -> ProcessExit {
    let args = Args::parse();
    match run(&args) {
        Ok(code) => ProcessExit::from(code),
        Err(e) => {
            eprintln!("{e:#}");
            ProcessExit::from(1)
        }
    }
}

/// The logon parts, completed by prompts and `TWO_TASK`/`LOCAL`. A logon that names no
/// connect identifier, with neither `TWO_TASK` nor `LOCAL` set, goes over bequeath to the
/// local instance `ORACLE_SID` (the identifier stays `None`), as SQL*Plus's does; `/` asks
/// for no password (operating-system authentication).
fn complete_logon(mut logon: Logon) -> Result<Logon> {
    if logon.user.is_none() && !logon.os_auth {
        // SQL*Plus accepts the whole `user/password@identifier` at this prompt.
        let typed = parse_logon(&prompt_line("Enter user-name: ", false)?)
            .map_err(|_| anyhow::anyhow!("{}", sp2(306, &[])))?;
        logon.user = typed.user;
        logon.password = logon.password.or(typed.password);
        logon.identifier = logon.identifier.or(typed.identifier);
        logon.privilege = logon.privilege.or(typed.privilege);
    }
    if logon.os_auth {
        logon.user = Some(String::new());
        logon.password = Some(String::new());
    }
    if logon.password.is_none() {
        logon.password = Some(prompt_line("Enter password: ", true)?);
    }
    if logon.identifier.is_none() {
        match std::env::var("TWO_TASK").or_else(|_| std::env::var("LOCAL")) {
            Ok(id) if !id.trim().is_empty() => logon.identifier = Some(id),
            _ if oracle_sid().is_some() => {}
            _ => bail!("{}", tns::error_text::ora_line(12162)),
        }
    }
    Ok(logon)
}

/// `ORACLE_SID`, when set.
fn oracle_sid() -> Option<String> {
    std::env::var("ORACLE_SID").ok().filter(|s| !s.is_empty())
}

/// The `oradb` beside this executable, else the one on PATH.
fn oradb_exe() -> std::path::PathBuf {
    std::env::current_exe()
        .map(|p| p.with_file_name("oradb"))
        .ok()
        .filter(|p| p.is_file())
        .unwrap_or_else(|| "oradb".into())
}

/// Connects and logs in with a completed logon: through the network with its identifier,
/// else over bequeath: the server process for `ORACLE_SID` is started here (`oradb` as
/// `oracle<SID>`, as Oracle's client execs `$ORACLE_HOME/bin/oracle`) with one end of a
/// socket pair as its stdin; it checks the OS user for `/ AS SYSDBA` itself.
fn open_connection(logon: &Logon) -> Result<Connection> {
    let opts = ConnectOptions {
        privilege: logon.privilege,
        ..ConnectOptions::default()
    };
    let user = logon.user.as_deref().unwrap_or_default();
    let password = logon.password.as_deref().unwrap_or_default();
    if let Some(id) = &logon.identifier {
        return Ok(Connection::connect_with(id, user, password, &opts)?);
    }
    let sid =
        oracle_sid().ok_or_else(|| anyhow::anyhow!("{}", tns::error_text::ora_line(12162)))?;
    let lost = |e: std::io::Error| {
        anyhow::anyhow!(
            "{}\nLinux-x86_64 Error: {e}",
            tns::error_text::ora_line(12547)
        )
    };
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().map_err(lost)?;
    use std::os::unix::process::CommandExt;
    let mut child = std::process::Command::new(oradb_exe())
        .arg0(format!("oracle{sid}"))
        .arg(BEQ_SERVER_ARGS)
        .env("ORACLE_SID", &sid)
        .stdin(std::process::Stdio::from(std::os::fd::OwnedFd::from(
            theirs,
        )))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(lost)?;
    // The server process ends with the session; reap it then.
    std::thread::spawn(move || child.wait());
    let descriptor = format!("(DESCRIPTION=(ADDRESS=(PROTOCOL=beq))(CONNECT_DATA=(SID={sid})))");
    Ok(Connection::connect_over(
        Box::new(ours),
        &descriptor,
        user,
        password,
        &opts,
    )?)
}

/// The descriptor `identifier` resolves to, with `(UR=A)` in every CONNECT_DATA: the
/// connect reaches an instance the listener has as BLOCKED (started, not open).
fn unblocked_identifier(identifier: &str) -> Option<String> {
    use config::descriptor::{RawParam, RawValue};
    let mut descriptor = ConnectOptions::default()
        .resolver
        .resolve(identifier)
        .ok()?
        .descriptor;
    for d in &mut descriptor.descriptions {
        let cd = d.connect_data.get_or_insert_with(Default::default);
        cd.extra.retain(|p| !p.key.eq_ignore_ascii_case("UR"));
        cd.extra.push(RawParam {
            key: "UR".to_string(),
            value: RawValue::Text("A".to_string()),
        });
    }
    Some(descriptor.render())
}

/// argv[1] of a bequeathed server process, as Oracle's process title has it (the server
/// side, `server_proc::bequeath::BEQ_ARGS`, recognises itself by it).
const BEQ_SERVER_ARGS: &str = "(DESCRIPTION=(LOCAL=YES)(ADDRESS=(PROTOCOL=beq)))";

/// What the Ctrl-C thread reaches: the call to break, and a flag for the row loop.
#[derive(Clone, Default)]
struct Interrupt {
    call: Arc<Mutex<Option<BreakHandle>>>,
    pressed: Arc<AtomicBool>,
}

impl Interrupt {
    /// Starts the thread that turns SIGINT into a BREAK of the call under way.
    fn install(&self) -> Result<()> {
        let mut signals = signal_hook::iterator::Signals::new([signal_hook::consts::SIGINT])?;
        let me = self.clone();
        std::thread::Builder::new()
            .name("ctrl-c".into())
            .spawn(move || {
                for _ in signals.forever() {
                    me.pressed.store(true, Ordering::SeqCst);
                    let call = me.call.lock().unwrap_or_else(PoisonError::into_inner);
                    if let Some(h) = call.as_ref() {
                        h.send_break();
                    }
                }
            })?;
        Ok(())
    }

    fn arm(&self, h: Option<BreakHandle>) {
        self.pressed.store(false, Ordering::SeqCst);
        *self.call.lock().unwrap_or_else(PoisonError::into_inner) = h;
    }

    fn disarm(&self) {
        *self.call.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    fn pressed(&self) -> bool {
        self.pressed.load(Ordering::SeqCst)
    }
}

/// What one `orasql` run holds.
struct Session {
    conn: Option<Connection>,
    /// The connection died under us (killed, ORA-03113): calls say ORA-03114, not SP2-0640.
    lost: bool,
    user: String,
    /// `BANNER_FULL` of V$VERSION, for "Connected to:" and "Disconnected from".
    banner: Option<String>,
    /// The server process id (V$PROCESS.SPID), for the lines under ORA-03113/ORA-00028.
    server_pid: Option<String>,
    session_id: u32,
    serial_num: u32,
    /// `AS SYSDBA` / `AS SYSOPER` of the session (STARTUP and SHUTDOWN need one).
    privilege: Option<client::Privilege>,
    /// The completed logon of the session, to log in again after STARTUP.
    last_logon: Option<Logon>,
    /// The instance's name (AUTH_INSTANCENAME), the SID STARTUP and SHUTDOWN act on when
    /// ORACLE_SID is not set.
    instance_name: Option<String>,
    /// After SHUTDOWN: "connected to an idle instance" (only STARTUP works).
    idle: bool,
    interactive: bool,
    settings: Settings,
    buffer: Buffer,
    on_error: SqlErrorAction,
    last_sqlcode: u32,
    any_failed: bool,
    interrupt: Interrupt,
    /// DEFINE's variables, the predefined `_DATE`, `_USER`, ... among them.
    vars: Variables,
    /// VARIABLE's bind variables.
    binds: BindVariables,
    /// Where lines come from: commands, and the answers to "Enter value for".
    source: LineSource,
    /// SPOOL's file: what is shown is copied there.
    spool: Spool,
}

/// One line read, or why there is none.
enum Read {
    Line(String),
    Interrupted,
    Eof,
}

/// Where orasql reads its lines: the terminal (rustyline) or stdin / `-c`'s lines. The
/// answers to "Enter value for name: " come from the same place, as SQL*Plus reads them
/// from its standard input (also while a script runs).
enum LineSource {
    Editor(Box<DefaultEditor>),
    Lines(Box<dyn Iterator<Item = io::Result<String>>>),
}

impl LineSource {
    /// The next line; `prompt` is shown on a terminal, and printed before reading from
    /// stdin only when `always_prompt` (substitution prompts, which SQL*Plus prints even
    /// with `-s`).
    fn read(&mut self, prompt: &str, always_prompt: bool) -> Result<Read> {
        match self {
            LineSource::Editor(ed) => match ed.readline(prompt) {
                Ok(l) => Ok(Read::Line(l)),
                Err(rustyline::error::ReadlineError::Interrupted) => Ok(Read::Interrupted),
                Err(rustyline::error::ReadlineError::Eof) => Ok(Read::Eof),
                Err(e) => Err(e.into()),
            },
            LineSource::Lines(lines) => {
                if always_prompt {
                    print!("{prompt}");
                    let _ = io::stdout().flush();
                }
                match lines.next() {
                    Some(l) => Ok(Read::Line(l?)),
                    None => Ok(Read::Eof),
                }
            }
        }
    }

    /// The terminal's line editor (for its history).
    fn editor(&mut self) -> Option<&mut DefaultEditor> {
        match self {
            LineSource::Editor(ed) => Some(ed),
            LineSource::Lines(_) => None,
        }
    }
}

/// The SQL*Plus release orasql stands for in `_SQLPLUS_RELEASE`, from its own version in
/// Oracle's ten-digit form (19.3.0.0.0 is 1903000000).
fn release_number(version: &str) -> String {
    let mut parts: Vec<u32> = version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.parse().ok())
        .collect();
    parts.resize(5, 0);
    parts.iter().map(|p| format!("{:02}", p % 100)).collect()
}

impl Session {
    /// Logs on; prints SQL*Plus's error block and returns false when that fails.
    fn connect(&mut self, logon: Logon, first: bool) -> bool {
        self.drop_connection();
        let privilege = logon.privilege;
        let logon = match complete_logon(logon) {
            Ok(l) => l,
            Err(e) => {
                sayln!(self.spool, "ERROR:\n{e:#}\n\n");
                return false;
            }
        };
        let user = logon.user.clone().unwrap_or_default();
        match open_connection(&logon) {
            Ok(mut c) => {
                let info = c.session_info().clone();
                self.session_id = info.session_id;
                self.serial_num = info.serial_num;
                self.privilege = privilege;
                self.instance_name = info
                    .pairs
                    .iter()
                    .find(|(k, _)| k == "AUTH_INSTANCENAME")
                    .map(|(_, v)| v.clone());
                self.last_logon = Some(logon.clone());
                self.idle = false;
                self.server_pid = first_value(
                    &mut c,
                    "select p.spid from v$session s, v$process p \
                     where s.paddr = p.addr and s.sid = sys_context('USERENV', 'SID')",
                );
                self.banner = first_value(&mut c, "select banner_full from v$version")
                    .or_else(|| Some(format!("Oracle Database {}", info.server_version)));
                if self.interactive && first {
                    sayln!(
                        self.spool,
                        "\nConnected to:\n{}\n",
                        self.banner.as_deref().unwrap_or_default()
                    );
                } else if !first {
                    sayln!(self.spool, "Connected.");
                }
                self.user = match privilege {
                    Some(client::Privilege::Sysdba) => "SYS".to_string(),
                    Some(client::Privilege::Sysoper) => "PUBLIC".to_string(),
                    None => user.to_ascii_uppercase(),
                };
                self.conn = Some(c);
                self.lost = false;
                self.define_connection_variables(&logon, &info.server_version);
                self.enable_server_output();
                true
            }
            // An administrative login the server authenticated (ORA-01031 would have come
            // first) to an instance that is not started: SQL*Plus's "connected to an idle
            // instance", where STARTUP works.
            Err(e)
                if privilege.is_some()
                    && matches!(
                        e.downcast_ref::<ClientError>(),
                        Some(ClientError::Database { code: 1034, .. })
                    ) =>
            {
                self.privilege = privilege;
                self.instance_name = oracle_sid();
                self.last_logon = Some(logon);
                self.user = match privilege {
                    Some(client::Privilege::Sysoper) => "PUBLIC".to_string(),
                    _ => "SYS".to_string(),
                };
                self.idle = true;
                self.lost = false;
                if self.interactive || !first {
                    sayln!(self.spool, "Connected to an idle instance.");
                }
                true
            }
            Err(e) => {
                sayln!(self.spool, "ERROR:\n{e}\n\n");
                false
            }
        }
    }

    /// The predefined variables of a session: `_CONNECT_IDENTIFIER`, `_USER`, `_PRIVILEGE`,
    /// `_O_VERSION`, `_O_RELEASE`.
    fn define_connection_variables(&mut self, logon: &Logon, server_version: &str) {
        let identifier = logon
            .identifier
            .clone()
            .or_else(oracle_sid)
            .unwrap_or_default();
        let privilege = match logon.privilege {
            Some(client::Privilege::Sysdba) => "AS SYSDBA",
            Some(client::Privilege::Sysoper) => "AS SYSOPER",
            None => "",
        };
        self.vars.define("_CONNECT_IDENTIFIER", &identifier);
        self.vars.define("_USER", &self.user.clone());
        self.vars.define("_PRIVILEGE", privilege);
        let banner = self.banner.clone().unwrap_or_default();
        self.vars.define("_O_VERSION", &banner);
        self.vars
            .define("_O_RELEASE", &release_number(server_version));
    }

    /// SERVEROUTPUT ON: DBMS_OUTPUT.ENABLE with the SIZE (NULL for UNLIMITED), as SQL*Plus
    /// calls it when the setting is made and on each new connection; OFF: DISABLE.
    fn enable_server_output(&mut self) {
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        let sql = match (self.settings.serveroutput, self.settings.serveroutput_size) {
            (false, _) => "BEGIN DBMS_OUTPUT.DISABLE; END;".to_string(),
            (true, None) => "BEGIN DBMS_OUTPUT.ENABLE(NULL); END;".to_string(),
            (true, Some(n)) => format!("BEGIN DBMS_OUTPUT.ENABLE({n}); END;"),
        };
        if let Err(e) = conn.execute(&sql) {
            self.print_error("", &e);
        }
    }

    /// SERVEROUTPUT ON: what DBMS_OUTPUT holds, fetched with DBMS_OUTPUT.GET_LINES as
    /// SQL*Plus does after each call, laid out at LINESIZE in the SERVEROUTPUT FORMAT.
    fn print_server_output(&mut self) {
        const BATCH: i64 = 100;
        if !self.settings.serveroutput {
            return;
        }
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        let linesize = self.settings.linesize as usize;
        let format = self.settings.serveroutput_format;
        loop {
            let binds = [
                Bind::TextArray {
                    size: 32767,
                    max: BATCH as u32,
                },
                Bind::Number(Some(Decimal::from_i128(i128::from(BATCH)))),
            ];
            let Ok(out) = conn.call_plsql(
                "BEGIN DBMS_OUTPUT.GET_LINES(:LINES, :NUMLINES); END;",
                &binds,
            ) else {
                return;
            };
            let lines = out.first().cloned().unwrap_or_default();
            let count = match out.get(1).and_then(|v| v.first()) {
                Some(Value::Number(n)) => n.to_i128().unwrap_or(0),
                _ => 0,
            };
            for line in lines.iter().take(usize::try_from(count).unwrap_or(0)) {
                let text = match line {
                    Value::Null => String::new(),
                    v => v.to_string(),
                };
                for piece in format.lay_out(&text, linesize) {
                    sayln!(self.spool, "{piece}");
                }
            }
            if count < BATCH as i128 {
                return;
            }
        }
    }

    /// Ends the session; like SQL*Plus (EXITCOMMIT ON) an open transaction is committed
    /// unless `commit` is false. Returns whether there was one.
    fn disconnect(&mut self, commit: bool) -> bool {
        let Some(mut c) = self.conn.take() else {
            return false;
        };
        if c.transaction_in_progress() {
            let r = if commit { c.commit() } else { c.rollback() };
            if let Err(e) = r {
                sayln!(self.spool, "{e}");
            }
        }
        if let Err(e) = c.close() {
            sayln!(self.spool, "{e}");
        }
        true
    }

    fn drop_connection(&mut self) {
        self.disconnect(true);
        self.lost = false;
    }

    fn disconnected_banner(&self) -> String {
        format!(
            "Disconnected from {}",
            self.banner.as_deref().unwrap_or("Oracle")
        )
    }

    /// Acts on one input; `Some(status)` ends orasql.
    fn handle(&mut self, input: Input) -> Option<u8> {
        match input {
            Input::Run(sql) => self.run_statement(&sql),
            Input::Print(text) => {
                say!(self.spool, "{text}");
                None
            }
            Input::Exit { code, commit } => {
                let was = self.disconnect(commit);
                if was && self.interactive {
                    sayln!(self.spool, "{}", self.disconnected_banner());
                }
                Some(code.status(self.last_sqlcode))
            }
            Input::Command(c) => self.command(c),
        }
    }

    fn command(&mut self, c: Command) -> Option<u8> {
        match c {
            Command::Connect(l) => {
                self.connect(l, false);
            }
            Command::Disconnect => {
                if self.disconnect(true) {
                    sayln!(self.spool, "{}", self.disconnected_banner());
                }
                self.lost = false;
            }
            Command::Set(args) => {
                let before = (self.settings.serveroutput, self.settings.serveroutput_size);
                for e in self.settings.set(&args) {
                    sayln!(self.spool, "{e}");
                }
                let after = (self.settings.serveroutput, self.settings.serveroutput_size);
                if before != after {
                    self.enable_server_output();
                }
            }
            Command::Define(args) => say!(self.spool, "{}", self.vars.define_command(&args)),
            Command::Undefine(args) => self.vars.undefine_command(&args),
            Command::Show(what) => self.show(&what),
            Command::Column(args) => say!(self.spool, "{}", self.settings.column(&args)),
            Command::ClearColumns => {
                self.settings.columns.clear();
                sayln!(self.spool, "columns cleared");
            }
            Command::Describe(name) => return self.describe(&name),
            Command::WheneverSqlError(a) => self.on_error = a,
            Command::Prompt(text) => sayln!(self.spool, "{text}"),
            Command::Script(path) => return self.script(&path),
            Command::Startup(args) => self.startup(&args),
            Command::Shutdown(args) => self.shutdown(&args),
            Command::Variable(args) => match self.binds.variable_command(&args) {
                Ok(text) => say!(self.spool, "{text}"),
                Err(e) => sayln!(self.spool, "{e}"),
            },
            Command::Print(names) => self.print_binds(&names),
            Command::Break(args) => match self.settings.report.break_command(&args) {
                Ok(text) => say!(self.spool, "{text}"),
                Err(e) => sayln!(self.spool, "{e}"),
            },
            Command::Compute(args) => match self.settings.report.compute_command(&args) {
                Ok(text) => say!(self.spool, "{text}"),
                Err(e) => sayln!(self.spool, "{e}"),
            },
            Command::Ttitle(args) => {
                let text = self.settings.titles.top.command("ttitle", &args);
                say!(self.spool, "{text}");
            }
            Command::Btitle(args) => {
                let text = self.settings.titles.bottom.command("btitle", &args);
                say!(self.spool, "{text}");
            }
            Command::ClearBreaks => {
                self.settings.report.clear_breaks();
                sayln!(self.spool, "breaks cleared");
            }
            Command::ClearComputes => {
                self.settings.report.clear_computes();
                sayln!(self.spool, "computes cleared");
            }
            Command::Accept(args) => match accept::parse(&args) {
                Ok(a) => self.accept(&a),
                Err(e) => sayln!(self.spool, "{e}"),
            },
            Command::Spool(args) => {
                if let Some(line) = self.spool.command(&args) {
                    sayln!(self.spool, "{line}");
                }
            }
        }
        None
    }

    /// Whether STARTUP/SHUTDOWN may run: an AS SYSDBA/SYSOPER session, or the idle instance
    /// such a session shut down. Prints ORA-01031 (or SP2-0640) otherwise.
    fn may_administer(&mut self) -> bool {
        if self.idle {
            return true;
        }
        if self.conn.is_none() {
            sayln!(self.spool, "{}", sp2(640, &[]));
            return false;
        }
        if self.privilege.is_none() {
            sayln!(self.spool, "{}", tns::error_text::ora_line(1031));
            return false;
        }
        true
    }

    /// Runs the local `oradb` (beside this executable, else on PATH) on the session's
    /// instance: ORACLE_SID, else the instance's name. The instance must be on this machine,
    /// as for SQL*Plus's STARTUP over a bequeath connection.
    fn oradb(&mut self, args: &[&str]) -> bool {
        let mut cmd = std::process::Command::new(oradb_exe());
        cmd.args(args);
        let sid = oracle_sid().or_else(|| self.instance_name.clone());
        if let Some(sid) = sid {
            cmd.env("ORACLE_SID", sid);
        }
        match cmd.output() {
            Ok(o) => {
                say!(self.spool, "{}", String::from_utf8_lossy(&o.stdout));
                say!(self.spool, "{}", String::from_utf8_lossy(&o.stderr));
                o.status.success()
            }
            Err(e) => {
                sayln!(
                    self.spool,
                    "{}
Linux-x86_64 Error: {e}",
                    tns::error_text::ora_line(1031)
                );
                false
            }
        }
    }

    /// `STARTUP [FORCE] [RESTRICT] [NOMOUNT|MOUNT|OPEN]` (words in any order, as SQL*Plus
    /// takes them), then logs in again, as the session SQL*Plus keeps over bequeath is back:
    /// the instance admits AS SYSDBA / SYSOPER sessions from NOMOUNT on, so `ALTER DATABASE
    /// MOUNT | OPEN` and V$ queries run on that session.
    fn startup(&mut self, args: &str) {
        if !self.may_administer() {
            return;
        }
        let words: Vec<String> = args
            .split_whitespace()
            .map(str::to_ascii_lowercase)
            .collect();
        if let Some(bad) = words
            .iter()
            .find(|w| !["nomount", "mount", "open", "force", "restrict"].contains(&w.as_str()))
        {
            sayln!(self.spool, "{}", sp2(158, &["STARTUP", bad]));
            return;
        }
        let force = words.iter().any(|w| w == "force");
        if !self.idle && !force {
            sayln!(self.spool, "{}", tns::error_text::ora_line(1081));
            return;
        }
        if force {
            self.disconnect(true);
        }
        let mut argv = vec!["startup"];
        argv.extend(words.iter().map(String::as_str));
        if self.oradb(&argv) {
            self.idle = true;
            self.reconnect();
        }
    }

    /// `SHUTDOWN [mode]`: the session logs off first (NORMAL waits for the other users, not
    /// for the one that asked), then the instance goes; "connected to an idle instance".
    fn shutdown(&mut self, args: &str) {
        if !self.may_administer() {
            return;
        }
        if self.idle {
            sayln!(self.spool, "{}", tns::error_text::ora_line(1034));
            return;
        }
        let mode = args
            .split_whitespace()
            .next()
            .unwrap_or("normal")
            .to_ascii_lowercase();
        if !["normal", "transactional", "immediate", "abort"].contains(&mode.as_str()) {
            sayln!(self.spool, "{}", sp2(158, &["SHUTDOWN", &mode]));
            return;
        }
        self.disconnect(true);
        self.oradb(&["shutdown", &mode]);
        self.idle = true;
        self.lost = false;
    }

    /// Logs in again with the last logon once the instance is started, standing in for the
    /// server process an Oracle session keeps through STARTUP. Over a listener (lreg may
    /// take a moment to register the instance) the connect asks for `(UR=A)`: the instance
    /// is BLOCKED until it is open, and the listener lets only such a connect through.
    fn reconnect(&mut self) {
        let Some(mut logon) = self.last_logon.clone() else {
            return;
        };
        if let Some(id) = &logon.identifier
            && let Some(unblocked) = unblocked_identifier(id)
        {
            logon.identifier = Some(unblocked);
        }
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        loop {
            match open_connection(&logon) {
                Ok(c) => {
                    let info = c.session_info();
                    self.session_id = info.session_id;
                    self.serial_num = info.serial_num;
                    self.conn = Some(c);
                    self.idle = false;
                    return;
                }
                Err(e) if Instant::now() >= deadline => {
                    sayln!(self.spool, "ERROR:\n{e}\n");
                    return;
                }
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(200)),
            }
        }
    }

    fn show(&mut self, what: &str) {
        let mut words = what.split_whitespace();
        let first = words.next().unwrap_or("").to_ascii_uppercase();
        if first == "USER" {
            match &self.conn {
                Some(_) => sayln!(self.spool, "USER is \"{}\"", self.user),
                None => sayln!(self.spool, "USER is \"\""),
            }
        } else if first == "ALL" {
            say!(self.spool, "{}", self.settings.show_all());
            match &self.conn {
                Some(_) => sayln!(self.spool, "USER is \"{}\"", self.user),
                None => sayln!(self.spool, "USER is \"\""),
            }
        } else if first.len() >= 3 && "SPOOL".starts_with(first.as_str()) {
            let line = self.spool.show();
            sayln!(self.spool, "{line}");
        } else if first.len() >= 4 && "PARAMETERS".starts_with(first.as_str()) {
            let filter = words.next().unwrap_or("").to_ascii_lowercase();
            self.show_parameter(&filter);
        } else if let Some(line) = self.settings.show_variable(&first) {
            sayln!(self.spool, "{line}");
        } else {
            sayln!(
                self.spool,
                "{}",
                sp2(158, &["SHOW", what.split_whitespace().next().unwrap_or("")])
            );
        }
    }

    /// `SHOW PARAMETER [name]`: V$PARAMETER rows whose name contains `filter`.
    fn show_parameter(&mut self, filter: &str) {
        let Some(conn) = self.conn.as_mut() else {
            sayln!(self.spool, "{}", sp2(640, &[]));
            return;
        };
        match conn.query("select name, type, value from v$parameter order by name") {
            Ok(r) => {
                let rows: Vec<(String, String, String)> = r
                    .rows
                    .iter()
                    .map(|row| {
                        let cell =
                            |i: usize| row.get(i).map(ToString::to_string).unwrap_or_default();
                        (cell(0), cell(1), cell(2))
                    })
                    .filter(|(n, _, _)| n.to_ascii_lowercase().contains(filter))
                    .collect();
                say!(self.spool, "{}", render_parameters(&rows));
            }
            Err(e) => self.print_error("", &e),
        }
    }

    fn describe(&mut self, name: &str) -> Option<u8> {
        let Some(conn) = self.conn.as_mut() else {
            sayln!(self.spool, "{}", sp2(640, &[]));
            return None;
        };
        let r = conn
            .execute(&format!("select * from {name}"))
            .map(|c| c.columns().to_vec());
        match r {
            Ok(columns) => say!(self.spool, "{}", render_describe(&columns)),
            Err(ClientError::Database {
                code: 942 | 903, ..
            }) => {
                sayln!(
                    self.spool,
                    "ERROR:\n{}\n",
                    tns::error_text::ora_line_with(4043, &[name])
                );
            }
            Err(e) => {
                self.print_error("", &e);
                return self.after_error(&e);
            }
        }
        None
    }

    /// `@file [arg ...]`: runs the file's lines as if typed, the arguments in the variables
    /// `1`, `2`, ...; with ECHO ON each line is shown as it is read (after the prompt
    /// SQL*Plus would show, unless silent).
    fn script(&mut self, command: &str) -> Option<u8> {
        let mut words = command.split_whitespace();
        let path = words.next().unwrap_or("");
        for (n, arg) in words.enumerate() {
            self.vars.define(&(n + 1).to_string(), arg);
        }
        let file = if Path::new(path).extension().is_some() {
            path.to_string()
        } else {
            format!("{path}.sql")
        };
        let Ok(text) = std::fs::read_to_string(&file) else {
            sayln!(self.spool, "{}", sp2(310, &[&file]));
            return None;
        };
        let mut status = None;
        for line in text.lines() {
            if self.settings.echo {
                if self.interactive {
                    say!(self.spool, "{}", self.buffer.prompt());
                }
                sayln!(self.spool, "{line}");
            }
            status = self.feed_line(line);
            if status.is_some() {
                break;
            }
        }
        self.buffer.abandon();
        status
    }

    /// One line as typed: a SQL*Plus command line has its substitution variables replaced
    /// now, a line of SQL when its statement runs.
    fn feed_line(&mut self, line: &str) -> Option<u8> {
        let line = if self.buffer.is_command_line(line) {
            match self.substitute(line) {
                Ok(l) => l,
                Err(Abandoned) => return None,
            }
        } else {
            line.to_string()
        };
        for input in self.buffer.push_line(&line) {
            if let Some(status) = self.handle(input) {
                return Some(status);
            }
        }
        None
    }

    /// `text` with its substitution variables replaced (asking for undefined ones); at EOF
    /// or Ctrl-C at the question, SP2-0546 and nothing runs.
    fn substitute(&mut self, text: &str) -> Result<String, Abandoned> {
        let Some(prefix) = self.settings.define else {
            return Ok(text.to_string());
        };
        let source = &mut self.source;
        let mut ask = |name: &str| match source.read(&format!("Enter value for {name}: "), true) {
            Ok(Read::Line(l)) => Some(l),
            _ => None,
        };
        let r = substitute(text, prefix, &mut self.vars, &mut ask);
        if r.is_err() {
            sayln!(self.spool, "{}", sp2(546, &[]));
        }
        r
    }

    /// Runs one statement and prints what SQL*Plus would: its substitution variables
    /// replaced first (VERIFY lists the lines that changed), DBMS_OUTPUT's lines after it
    /// under SERVEROUTPUT ON.
    fn run_statement(&mut self, typed: &str) -> Option<u8> {
        let Ok(sql) = self.substitute(typed) else {
            return None;
        };
        if self.settings.verify {
            say!(self.spool, "{}", verify_lines(typed, &sql));
        }
        let sql = sql.as_str();
        // Bind variables are SQL*Plus's own: an undeclared one stops the statement here.
        let binds = match self.binds.for_statement(sql) {
            Ok(b) => b,
            Err(e) => {
                sayln!(self.spool, "{e}");
                return None;
            }
        };
        let plsql = matches!(classify(sql), StatementKind::PlSql);
        let Some(conn) = self.conn.as_mut() else {
            if self.idle {
                // Connected to an idle instance: no SQL runs until STARTUP.
                let e = ClientError::Database {
                    code: 1034,
                    message: tns::error_text::ora_line(1034),
                    offset: None,
                };
                self.print_error(sql, &e);
                return self.after_error(&e);
            }
            if self.lost {
                // SQL*Plus keeps the dead session: its calls fail with ORA-03114.
                let e = ClientError::NotConnected;
                self.print_error("", &e);
                return self.after_error(&e);
            }
            sayln!(self.spool, "{}", sp2(640, &[]));
            return None;
        };
        conn.set_arraysize(self.settings.arraysize);
        self.interrupt.arm(Some(conn.break_handle()));
        let start = Instant::now();
        let result = if plsql && !binds.names.is_empty() {
            // A block's binds are IN OUT: what it leaves in them is kept.
            conn.call_plsql(sql, &binds.binds).map(|values| {
                self.binds.store(&binds.names, &values);
                (Vec::new(), Vec::new(), 0)
            })
        } else {
            run_collect(conn, sql, &binds.binds, &self.interrupt)
        };
        self.interrupt.disarm();
        let took = start.elapsed();
        let alive = conn.is_open();
        let mut status = None;
        match result {
            Ok((columns, rows, _)) if !columns.is_empty() => {
                say!(
                    self.spool,
                    "{}",
                    render_table(&columns, &rows, &self.settings)
                );
                self.print_server_output();
            }
            Ok((_, _, row_count)) => {
                self.print_server_output();
                if self.settings.feedback.is_some() {
                    sayln!(self.spool, "\n{}\n", feedback(sql, row_count));
                }
                if plsql && self.settings.autoprint && !binds.names.is_empty() {
                    // AUTOPRINT: the variables the block used, after its feedback, the
                    // last used first (a SQL*Plus spool of `exec p1(7788, :b_ename,
                    // :b_sal)` shows B_SAL, then B_ENAME).
                    let names: Vec<&str> = binds.names.iter().rev().map(String::as_str).collect();
                    self.print_binds(&names.join(" "));
                }
                let dml = matches!(classify(sql), StatementKind::Dml);
                if let Some(conn) = self.conn.as_mut()
                    && self.settings.autocommit
                    && dml
                    && conn.transaction_in_progress()
                {
                    match conn.commit() {
                        Ok(()) => sayln!(self.spool, "Commit complete.\n"),
                        Err(e) => sayln!(self.spool, "{e}"),
                    }
                }
            }
            Err(e) => {
                self.print_error(sql, &e);
                status = self.after_error(&e);
            }
        }
        if self.settings.timing {
            sayln!(self.spool, "{}", elapsed(took));
        }
        if !alive {
            self.conn = None;
            self.lost = true;
        }
        let _ = io::stdout().flush();
        status
    }

    /// `ACCEPT`: shows its prompt (also with `-s`, as SQL*Plus does) and reads the next
    /// line from where commands come from (the next line of a script on stdin); a reply of
    /// the wrong type gets SP2-0425 and the prompt again. At EOF or Ctrl-C nothing is
    /// defined.
    fn accept(&mut self, a: &accept::Accept) {
        loop {
            let prompt = a.prompt_text().to_string();
            let read = match &mut self.source {
                LineSource::Editor(_) if a.hide => match prompt_line(&prompt, true) {
                    Ok(l) => Read::Line(l),
                    Err(_) => Read::Eof,
                },
                LineSource::Editor(_) => {
                    self.spool.write(&prompt);
                    self.source.read(&prompt, false).unwrap_or(Read::Eof)
                }
                LineSource::Lines(_) => {
                    say!(self.spool, "{prompt}");
                    let _ = io::stdout().flush();
                    self.source.read("", false).unwrap_or(Read::Eof)
                }
            };
            let Read::Line(reply) = read else {
                return;
            };
            match a.value(&reply) {
                Ok(v) if a.kind == accept::Kind::Number => self.vars.define_number(&a.name, &v),
                Ok(v) => self.vars.define(&a.name, &v),
                Err(e) => {
                    sayln!(self.spool, "{e}");
                    continue;
                }
            }
            return;
        }
    }

    /// `PRINT [names]`: each variable as a query of it would show it; SP2-0552 for a name
    /// not declared, and on with the next.
    fn print_binds(&mut self, names: &str) {
        let shown: Vec<Result<(client::Column, Value), String>> = self
            .binds
            .print(names)
            .into_iter()
            .map(|r| {
                r.map(|v| (v.column(), v.value.clone()))
                    .map_err(|e| e.to_string())
            })
            .collect();
        for r in shown {
            match r {
                Ok((column, value)) => say!(
                    self.spool,
                    "{}",
                    render_table(&[column], &[vec![value]], &self.settings)
                ),
                Err(e) => sayln!(self.spool, "{e}"),
            }
        }
    }

    /// Prints an error as SQL*Plus does; a session that died gets the Process ID and
    /// Session ID lines SQL*Plus 12c+ prints under ORA-03113 and ORA-00028.
    fn print_error(&mut self, sql: &str, e: &ClientError) {
        let mut text = match e {
            ClientError::Database {
                message, offset, ..
            } => render_error(sql, *offset, message),
            other => format!("ERROR:\n{other}\n"),
        };
        if matches!(e.code(), Some(28 | 3113)) {
            if let Some(pid) = &self.server_pid {
                text.push_str(&format!("Process ID: {pid}\n"));
            }
            text.push_str(&format!(
                "Session ID: {} Serial number: {}\n",
                self.session_id, self.serial_num
            ));
        }
        sayln!(self.spool, "{text}\n");
    }

    /// WHENEVER SQLERROR after a failed statement.
    fn after_error(&mut self, e: &ClientError) -> Option<u8> {
        self.any_failed = true;
        self.last_sqlcode = e.code().unwrap_or(1);
        match self.on_error {
            SqlErrorAction::Continue => None,
            SqlErrorAction::Exit { code, commit } => {
                let was = self.disconnect(commit);
                if was && self.interactive {
                    sayln!(self.spool, "{}", self.disconnected_banner());
                }
                Some(code.status(self.last_sqlcode))
            }
        }
    }
}

/// The first column of the first row of `sql`, if it runs.
fn first_value(c: &mut Connection, sql: &str) -> Option<String> {
    let r = c.query(sql).ok()?;
    let v = r.rows.first()?.first()?.to_string();
    (!v.is_empty()).then_some(v)
}

type Collected = (Vec<client::Column>, Vec<Vec<client::Value>>, u64);

/// Executes and fetches every row; a Ctrl-C between fetches ends the fetch with ORA-01013.
fn run_collect(
    conn: &mut Connection,
    sql: &str,
    binds: &[Bind],
    interrupt: &Interrupt,
) -> Result<Collected, ClientError> {
    let mut cur = conn.execute_with(sql, binds)?;
    let columns = cur.columns().to_vec();
    let mut rows = Vec::new();
    for row in cur.by_ref() {
        rows.push(row?);
        if interrupt.pressed() {
            // A query with binds is not cached: its server cursor goes with the next call.
            cur.close();
            return Err(ClientError::Database {
                code: 1013,
                message: tns::error_text::ora_line(1013),
                offset: None,
            });
        }
    }
    let n = cur.row_count();
    Ok((columns, rows, n))
}

/// Returns the exit status.
fn run(args: &Args) -> Result<u8> {
    let interactive = args.command.is_none() && io::stdin().is_terminal() && !args.silent;
    let logon_text = args.logon.join(" ");
    let logon = parse_logon(&logon_text).map_err(|_| anyhow::anyhow!("{}", sp2(306, &[])))?;
    let interrupt = Interrupt::default();
    interrupt.install()?;
    let mut session = Session {
        conn: None,
        lost: false,
        user: String::new(),
        banner: None,
        server_pid: None,
        session_id: 0,
        serial_num: 0,
        privilege: None,
        last_logon: None,
        instance_name: None,
        idle: false,
        interactive,
        settings: Settings::default(),
        buffer: Buffer::new(),
        on_error: SqlErrorAction::Continue,
        last_sqlcode: 0,
        any_failed: false,
        interrupt,
        vars: Variables::new(),
        binds: BindVariables::new(),
        spool: Spool::new(),
        source: if let Some(sql) = &args.command {
            let lines: Vec<io::Result<String>> = sql.lines().map(|l| Ok(l.to_string())).collect();
            LineSource::Lines(Box::new(lines.into_iter()))
        } else if interactive {
            LineSource::Editor(Box::new(DefaultEditor::new()?))
        } else {
            // One lock per line (not `Stdin::lines`, which holds it): the password prompt of
            // CONNECT reads stdin too.
            LineSource::Lines(Box::new(std::iter::from_fn(|| {
                let mut line = String::new();
                match io::stdin().read_line(&mut line) {
                    Ok(0) => None,
                    Ok(_) => Some(Ok(line.trim_end_matches(['\r', '\n']).to_string())),
                    Err(e) => Some(Err(e)),
                }
            })))
        },
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    session.settings.titles.date = client::orasql::title::title_date(now);
    let today = client::tnsping::oracle_now();
    // _DATE in SQL*Plus's default NLS_DATE_FORMAT, DD-MON-RR.
    let date = format!("{}{}", &today[..7], &today[9..11]);
    session.vars.define("_DATE", &date);
    for name in ["_CONNECT_IDENTIFIER", "_USER", "_PRIVILEGE"] {
        session.vars.define(name, "");
    }
    session.vars.define(
        "_SQLPLUS_RELEASE",
        &release_number(env!("CARGO_PKG_VERSION")),
    );
    let editor = std::env::var("EDITOR").unwrap_or_else(|_| "ed".to_string());
    session.vars.define("_EDITOR", &editor);
    for name in ["_O_VERSION", "_O_RELEASE"] {
        session.vars.define(name, "");
    }
    if interactive {
        sayln!(
            session.spool,
            "\norasql: Release {} - Production on {}\n",
            env!("CARGO_PKG_VERSION"),
            client::tnsping::oracle_now()
        );
    }
    if !session.connect(logon, true) {
        return Ok(1);
    }
    let status = if args.command.is_some() {
        let status = run_lines(&mut session, true)?;
        status.unwrap_or(u8::from(session.any_failed))
    } else if interactive {
        run_interactive(&mut session)?
    } else {
        run_lines(&mut session, false)?.unwrap_or(0)
    };
    session.disconnect(true);
    Ok(status)
}

/// Feeds the source's lines to the session; `Some(status)` when EXIT or WHENEVER ended it.
fn run_lines(session: &mut Session, run_unterminated: bool) -> Result<Option<u8>> {
    while let Read::Line(line) = session.source.read("", false)? {
        if let Some(status) = session.feed_line(&line) {
            return Ok(Some(status));
        }
    }
    for input in session.buffer.finish(run_unterminated) {
        if let Some(status) = session.handle(input) {
            return Ok(Some(status));
        }
    }
    Ok(None)
}

fn history_path() -> Option<std::path::PathBuf> {
    std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".orasql_history"))
}

fn run_interactive(session: &mut Session) -> Result<u8> {
    let hist = history_path();
    if let (Some(h), Some(ed)) = (&hist, session.source.editor()) {
        let _ = ed.load_history(h);
    }
    let status = loop {
        let prompt = session.buffer.prompt();
        let line = match session.source.read(&prompt, false)? {
            Read::Line(l) => l,
            Read::Interrupted => {
                session.buffer.abandon();
                continue;
            }
            Read::Eof => {
                sayln!(session.spool, "");
                let was = session.disconnect(true);
                if was {
                    sayln!(session.spool, "{}", session.disconnected_banner());
                }
                break 0;
            }
        };
        // The spool file gets the prompt and the line typed, as on the screen.
        session.spool.write(&format!("{prompt}{line}\n"));
        if let (false, Some(ed)) = (line.trim().is_empty(), session.source.editor()) {
            let _ = ed.add_history_entry(line.as_str());
        }
        if let Some(status) = session.feed_line(&line) {
            break status;
        }
    };
    if let (Some(h), Some(ed)) = (&hist, session.source.editor()) {
        let _ = ed.save_history(h);
    }
    Ok(status)
}
