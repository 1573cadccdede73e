//! `oradb`: start, stop and inspect an instance.
//!
//! ```text
//! oradb startup [--sid SID] [--foreground]      start (in the background, as `oradb SID`)
//! oradb shutdown [normal|transactional|immediate|abort] [--sid SID]
//! oradb status [--sid SID]
//! oradb sessions [--sid SID]                    V$SESSION
//! oradb kill-session SID,SERIAL# [--immediate | --disconnect] [--sid SID]
//! oradb SID                                     the instance itself (what startup runs)
//! ```
//! ORACLE_HOME and ORACLE_SID come from the environment, as for Oracle's tools.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use server_proc::instance::{self, Instance, InstanceError, StartupStage, format_date};
use server_proc::sga::{KillRequest, SessionType, Sga, ShutdownMode, parse_session_id};

#[derive(Parser, Debug)]
#[command(
    name = "oradb",
    version,
    about = "The orasim instance: SGA, pmon, lreg"
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    /// Run the instance of this SID in the foreground (what `oradb startup` starts).
    sid: Option<String>,
    /// How far that instance goes (what `oradb startup nomount|mount` asked for).
    #[arg(long, value_enum, default_value = "open", hide = true)]
    stage: Stage,
    /// Logins restricted to RESTRICTED SESSION (what `oradb startup restrict` asked for).
    #[arg(long, hide = true)]
    restrict: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start the instance (reads $ORACLE_HOME/dbs/init<SID>.ora).
    Startup {
        /// NOMOUNT, MOUNT or OPEN (the default) as SQL*Plus's STARTUP; FORCE aborts a
        /// running instance first, then starts it; RESTRICT lets only users with
        /// RESTRICTED SESSION (and SYSDBA/SYSOPER) log in. FORCE and RESTRICT combine with
        /// a stage: `oradb startup mount restrict`.
        #[arg(value_enum)]
        words: Vec<StartupArg>,
        /// ORACLE_SID (default: $ORACLE_SID).
        #[arg(long)]
        sid: Option<String>,
        /// Stay in the foreground (logs to stderr) instead of starting `oradb SID`.
        #[arg(long)]
        foreground: bool,
    },
    /// `ALTER DATABASE MOUNT | OPEN` on an instance started NOMOUNT or MOUNT.
    AlterDatabase {
        /// MOUNT or OPEN.
        #[arg(value_enum)]
        to: AlterTo,
        /// ORACLE_SID (default: $ORACLE_SID).
        #[arg(long)]
        sid: Option<String>,
    },
    /// Shut the instance down.
    Shutdown {
        /// NORMAL waits for users to log off; IMMEDIATE disconnects them; ABORT kills.
        #[arg(value_enum, default_value = "normal")]
        mode: Mode,
        /// ORACLE_SID (default: $ORACLE_SID).
        #[arg(long)]
        sid: Option<String>,
        /// Give up waiting after this many seconds (default: wait as long as it takes).
        #[arg(long)]
        timeout: Option<u64>,
    },
    /// Show the instance's state, limits and registration.
    Status {
        /// ORACLE_SID (default: $ORACLE_SID).
        #[arg(long)]
        sid: Option<String>,
    },
    /// List V$SESSION.
    Sessions {
        /// ORACLE_SID (default: $ORACLE_SID).
        #[arg(long)]
        sid: Option<String>,
        /// Include background sessions.
        #[arg(long)]
        all: bool,
    },
    /// ALTER SYSTEM KILL SESSION 'sid,serial#' [IMMEDIATE] (or DISCONNECT SESSION ... IMMEDIATE).
    KillSession {
        /// 'SID,SERIAL#'.
        target: String,
        /// Close the victim's connection at once.
        #[arg(long, conflicts_with = "disconnect")]
        immediate: bool,
        /// DISCONNECT SESSION ... IMMEDIATE: end the victim's server process.
        #[arg(long)]
        disconnect: bool,
        /// ORACLE_SID (default: $ORACLE_SID).
        #[arg(long)]
        sid: Option<String>,
    },
    /// Manage users in the password file ($ORACLE_HOME/dbs/orapw<SID>).
    User {
        /// What to do.
        #[command(subcommand)]
        action: UserAction,
    },
}

/// `oradb user ...`: the password file `$ORACLE_HOME/dbs/orapw<SID>` (verifiers only).
#[derive(Subcommand, Debug)]
enum UserAction {
    /// Create a user (password from a prompt, or one line of stdin with --password-stdin).
    Add {
        /// User name (upper-cased unless double-quoted).
        name: String,
        /// ORACLE_SID (default: $ORACLE_SID).
        #[arg(long)]
        sid: Option<String>,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Grant a system privilege.
        #[arg(long = "grant", value_parser = ["alter-system", "restricted-session", "sysdba", "sysoper"])]
        grant: Vec<String>,
        /// Let this user log in as the new one (`PROXY[NAME]`), as `ALTER USER name GRANT
        /// CONNECT THROUGH proxy` does.
        #[arg(long = "connect-through", value_name = "PROXY")]
        connect_through: Vec<String>,
    },
    /// Drop a user.
    Drop {
        /// User name.
        name: String,
        /// ORACLE_SID (default: $ORACLE_SID).
        #[arg(long)]
        sid: Option<String>,
    },
    /// List the users of the password file.
    List {
        /// ORACLE_SID (default: $ORACLE_SID).
        #[arg(long)]
        sid: Option<String>,
    },
}

fn run_user(action: UserAction) -> anyhow::Result<()> {
    use server_proc::pwfile::{UserCommand, run_user_command};
    let (command, sid) = match action {
        UserAction::Add {
            name,
            sid,
            password_stdin,
            grant,
            connect_through,
        } => (
            UserCommand::Add {
                name,
                password_stdin,
                grants: grant
                    .into_iter()
                    .chain(connect_through.iter().map(|p| {
                        format!(
                            "{}{}",
                            engine::GRANT_CONNECT_THROUGH,
                            engine::normalize_user(p)
                        )
                    }))
                    .collect(),
            },
            sid,
        ),
        UserAction::Drop { name, sid } => (UserCommand::Drop { name }, sid),
        UserAction::List { sid } => (UserCommand::List, sid),
    };
    let sid = sid_of(sid)?;
    let home = oracle_home()?;
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut out = std::io::stdout();
    run_user_command(&command, &home, &sid, &mut input, &mut out)?;
    Ok(())
}

/// `oradb startup` modes.
#[derive(Copy, Clone, Debug, ValueEnum)]
enum StartupArg {
    Nomount,
    Mount,
    Open,
    Force,
    Restrict,
}

/// How far an instance process goes at start.
#[derive(Copy, Clone, Debug, ValueEnum)]
enum Stage {
    Nomount,
    Mount,
    Open,
}

impl From<Stage> for StartupStage {
    fn from(s: Stage) -> StartupStage {
        match s {
            Stage::Nomount => StartupStage::Nomount,
            Stage::Mount => StartupStage::Mount,
            Stage::Open => StartupStage::Open,
        }
    }
}

/// `oradb alter-database` targets.
#[derive(Copy, Clone, Debug, ValueEnum)]
enum AlterTo {
    Mount,
    Open,
}

#[derive(Copy, Clone, Debug, ValueEnum)]
enum Mode {
    Normal,
    Transactional,
    Immediate,
    Abort,
}

impl From<Mode> for ShutdownMode {
    fn from(m: Mode) -> ShutdownMode {
        match m {
            Mode::Normal => ShutdownMode::Normal,
            Mode::Transactional => ShutdownMode::Transactional,
            Mode::Immediate => ShutdownMode::Immediate,
            Mode::Abort => ShutdownMode::Abort,
        }
    }
}

fn sid_of(arg: Option<String>) -> Result<String, InstanceError> {
    arg.or_else(|| std::env::var("ORACLE_SID").ok())
        .filter(|s| !s.is_empty())
        .ok_or(InstanceError::NoSid)
}

fn oracle_home() -> Result<PathBuf, InstanceError> {
    std::env::var_os("ORACLE_HOME")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .ok_or(InstanceError::NoOracleHome)
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ORASIM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .event_format(server_proc::alert::AlertFormat)
        .try_init();
}

/// Runs the instance in this process until it is shut down.
fn run_foreground(
    sid: &str,
    stage: StartupStage,
    restrict: bool,
    banner: bool,
) -> anyhow::Result<()> {
    let home = oracle_home()?;
    init_tracing();
    let signals = instance::block_shutdown_signals()?;
    let inst = Instance::start_to(&home, sid, stage, restrict)?;
    instance::spawn_signal_waiter(signals, inst.sga())?;
    if banner {
        print_started(inst.sga().segment_size() as u64, stage);
    }
    inst.run_until_shutdown();
    Ok(())
}

/// What SQL*Plus prints at STARTUP: the SGA's parts in Oracle's layout. orasim's SGA is its
/// shared-memory segment: a fixed header and the slots sized by PROCESSES and SESSIONS; it
/// holds no buffer cache and no redo buffers, so those lines say 0.
fn print_started(sga_bytes: u64, stage: StartupStage) {
    let fixed = Sga::fixed_size() as u64;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "ORACLE instance started.\n");
    for (label, n) in [
        ("Total System Global Area", sga_bytes),
        ("Fixed Size", fixed),
        ("Variable Size", sga_bytes.saturating_sub(fixed)),
        ("Database Buffers", 0),
        ("Redo Buffers", 0),
    ] {
        let _ = writeln!(out, "{label:<24}{n:>11} bytes");
    }
    if stage >= StartupStage::Mount {
        let _ = writeln!(out, "Database mounted.");
    }
    if stage == StartupStage::Open {
        let _ = writeln!(out, "Database opened.");
    }
    let _ = out.flush();
}

fn cmd(cli: Cli) -> anyhow::Result<()> {
    let Some(command) = cli.command else {
        let sid = sid_of(cli.sid)?;
        return run_foreground(&sid, cli.stage.into(), cli.restrict, false);
    };
    let mut out = std::io::stdout().lock();
    match command {
        Command::User { action } => {
            drop(out);
            return run_user(action);
        }
        Command::Startup {
            words,
            sid,
            foreground,
        } => {
            let sid = sid_of(sid)?;
            let mut stage = None;
            for w in &words {
                let this = match w {
                    StartupArg::Nomount => StartupStage::Nomount,
                    StartupArg::Mount => StartupStage::Mount,
                    StartupArg::Open => StartupStage::Open,
                    StartupArg::Force | StartupArg::Restrict => continue,
                };
                if stage.replace(this).is_some() {
                    anyhow::bail!("only one of NOMOUNT, MOUNT and OPEN may be given");
                }
            }
            let stage = stage.unwrap_or(StartupStage::Open);
            let restrict = words.iter().any(|w| matches!(w, StartupArg::Restrict));
            let force = words.iter().any(|w| matches!(w, StartupArg::Force));
            // FORCE: a running instance is shut down ABORT first, as SQL*Plus's STARTUP FORCE.
            if force && Sga::attach(&sid).is_ok() {
                instance::request_shutdown(
                    &sid,
                    ShutdownMode::Abort,
                    Some(Duration::from_secs(60)),
                )?;
            }
            if foreground {
                drop(out);
                return run_foreground(&sid, stage, restrict, true);
            }
            // Parameter-file warnings are shown here, as SQL*Plus shows them at STARTUP.
            let (_, diags) = server_proc::initora::load(&oracle_home()?, &sid)?;
            for d in &diags {
                eprintln!("{d}");
            }
            let exe = std::env::current_exe().context("locating the oradb executable")?;
            let bytes = instance::start_background(
                &exe,
                &oracle_home()?,
                &sid,
                stage,
                restrict,
                Duration::from_secs(60),
            )?;
            drop(out);
            print_started(bytes, stage);
        }
        Command::AlterDatabase { to, sid } => {
            let sid = sid_of(sid)?;
            let to = match to {
                AlterTo::Mount => StartupStage::Mount,
                AlterTo::Open => StartupStage::Open,
            };
            instance::alter_database(&oracle_home()?, &sid, to)?;
            writeln!(out, "Database altered.")?;
        }
        Command::Shutdown { mode, sid, timeout } => {
            let sid = sid_of(sid)?;
            let mode = ShutdownMode::from(mode);
            let was = instance::request_shutdown(&sid, mode, timeout.map(Duration::from_secs))?;
            write!(out, "{}", instance::shutdown_report(was, mode))?;
        }
        Command::Status { sid } => {
            let sga = Sga::attach(&sid_of(sid)?)?;
            let i = sga.instance_row();
            let load = sga.load();
            let (registered, last_ack, updates) = sga.registration_state();
            writeln!(
                out,
                "INSTANCE_NAME    STATUS       STARTUP_TIME          HOST_NAME"
            )?;
            writeln!(
                out,
                "---------------- ------------ --------------------- ----------------"
            )?;
            writeln!(
                out,
                "{:<16} {:<12} {:<21} {}",
                i.instance_name,
                i.status.as_str(),
                format_date(i.startup_time),
                i.host_name
            )?;
            writeln!(out)?;
            writeln!(out, "SID                       {}", i.sid)?;
            writeln!(out, "Database                  {}", i.db_name)?;
            writeln!(out, "Version                   {}", i.version)?;
            writeln!(out, "Instance pid              {}", i.instance_pid)?;
            writeln!(
                out,
                "Shutdown pending          {}",
                if i.shutdown_pending { "YES" } else { "NO" }
            )?;
            writeln!(
                out,
                "Processes                 {} of {}",
                load.processes_used, load.processes_max
            )?;
            writeln!(
                out,
                "Sessions                  {} of {}",
                load.sessions_used, load.sessions_max
            )?;
            writeln!(out, "PMON cleanups             {}", load.pmon_cleanups)?;
            if registered {
                writeln!(
                    out,
                    "Listener registration     registered ({} updates, last {})",
                    updates,
                    format_date(last_ack)
                )?;
            } else {
                writeln!(out, "Listener registration     not registered")?;
            }
            writeln!(
                out,
                "SGA size                  {} bytes",
                sga.segment_size()
            )?;
        }
        Command::Sessions { sid, all } => {
            let sga = Sga::attach(&sid_of(sid)?)?;
            let procs = sga.snapshot_processes();
            let mut rows = Vec::new();
            for s in sga.snapshot_sessions() {
                if !all && s.session_type == SessionType::Background {
                    continue;
                }
                let spid = procs
                    .iter()
                    .find(|p| p.addr == s.paddr)
                    .map_or_else(String::new, |p| p.spid.to_string());
                rows.push(vec![
                    s.sid.to_string(),
                    s.serial.to_string(),
                    s.username.clone().unwrap_or_default(),
                    s.status.as_str().to_string(),
                    s.server.as_str().to_string(),
                    spid,
                    s.program.clone(),
                    s.machine.clone(),
                    s.service_name.clone(),
                    s.last_call_et.to_string(),
                ]);
            }
            out.write_all(render_sessions(&rows).as_bytes())?;
        }
        Command::KillSession {
            target,
            immediate,
            disconnect,
            sid,
        } => {
            let sid = sid_of(sid)?;
            let sga = Sga::attach(&sid)?;
            let (vsid, serial) = parse_session_id(&target)?;
            let request = if disconnect {
                KillRequest::Disconnect
            } else if immediate {
                KillRequest::KillImmediate
            } else {
                KillRequest::Kill
            };
            // The SGA writes the alert log entry, as for a kill from SQL.
            sga.kill_session(vsid, serial, request, None)?;
            writeln!(out, "System altered.")?;
        }
    }
    Ok(())
}

/// A bequeathed server process (`oracle<SID> (DESCRIPTION=(LOCAL=YES)(ADDRESS=(PROTOCOL=beq)))`,
/// started by a local client with the connection on stdin): serves that one session.
fn run_bequeathed() -> anyhow::Result<()> {
    let sid = sid_of(None)?;
    let home = oracle_home()?;
    init_tracing();
    server_proc::bequeath::run_bequeath(&home, &sid)?;
    Ok(())
}

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some(server_proc::bequeath::BEQ_ARGS) {
        return match run_bequeathed() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let cli = Cli::parse();
    match cmd(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A closed stdout (`oradb sessions | head`) is not an error.
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The columns of `oradb sessions`: heading, width, right-aligned.
const SESSION_COLUMNS: [(&str, usize, bool); 10] = [
    ("SID", 5, true),
    ("SERIAL#", 7, true),
    ("USERNAME", 12, false),
    ("STATUS", 8, false),
    ("SERVER", 9, false),
    ("SPID", 7, true),
    ("PROGRAM", 28, false),
    ("MACHINE", 16, false),
    ("SERVICE_NAME", 16, false),
    ("LAST_CALL_ET", 12, true),
];

/// `oradb sessions` as SQL*Plus would lay the query out: fixed columns, a value longer than
/// its column wrapped inside it on the next lines (so a long PROGRAM does not push the
/// columns after it), then the row count (`no rows selected` for none).
fn render_sessions(rows: &[Vec<String>]) -> String {
    let cell = |v: &str, w: usize, right: bool| {
        if right {
            format!("{v:>w$}")
        } else {
            format!("{v:<w$}")
        }
    };
    let line = |parts: Vec<String>| {
        let l = parts.join(" ");
        format!("{}\n", l.trim_end())
    };
    let mut out = line(
        SESSION_COLUMNS
            .iter()
            .map(|(h, w, r)| cell(h, *w, *r))
            .collect(),
    );
    out.push_str(&line(
        SESSION_COLUMNS
            .iter()
            .map(|(_, w, _)| "-".repeat(*w))
            .collect(),
    ));
    for row in rows {
        let pieces: Vec<Vec<String>> = row
            .iter()
            .zip(SESSION_COLUMNS)
            .map(|(v, (_, w, _))| {
                let chars: Vec<char> = v.chars().collect();
                if chars.len() <= w {
                    vec![v.clone()]
                } else {
                    chars.chunks(w).map(|c| c.iter().collect()).collect()
                }
            })
            .collect();
        let height = pieces.iter().map(Vec::len).max().unwrap_or(1);
        for k in 0..height {
            out.push_str(&line(
                pieces
                    .iter()
                    .zip(SESSION_COLUMNS)
                    .map(|(p, (_, w, r))| cell(p.get(k).map_or("", String::as_str), w, r))
                    .collect(),
            ));
        }
    }
    match rows.len() {
        0 => out.push_str("\nno rows selected\n"),
        1 => out.push_str("\n1 row selected.\n"),
        n => out.push_str(&format!("\n{n} rows selected.\n")),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_program_wraps_inside_its_column() {
        let row: Vec<String> = [
            "23",
            "7",
            "SCOTT",
            "INACTIVE",
            "DEDICATED",
            "4242",
            "node-oracledb-thin-driver-6.10.0@somehost.example.com (TNS V1-V3)",
            "host1",
            "orcl",
            "5",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let t = render_sessions(&[row]);
        let lines: Vec<&str> = t.lines().collect();
        // Every column keeps its place: MACHINE starts where its heading does.
        let machine_at = lines[0].find("MACHINE").unwrap();
        assert_eq!(&lines[2][machine_at..machine_at + 5], "host1");
        assert!(
            lines[2].contains(" node-oracledb-thin-driver-6. host1 "),
            "{t}"
        );
        assert_eq!(lines[3].trim(), "10.0@somehost.example.com (T");
        assert_eq!(lines[4].trim(), "NS V1-V3)");
        let program_at = lines[0].find("PROGRAM").unwrap();
        assert_eq!(lines[3].find("10.0@"), Some(program_at));
        assert!(t.ends_with("\n1 row selected.\n"));
        assert!(render_sessions(&[]).ends_with("\nno rows selected\n"));
    }
}
