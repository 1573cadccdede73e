//! `tnslsnr [NAME]`: the listener daemon. It starts the spawner (this binary again, run with
//! `--spawner`); then it sets its title (`tnslsnr NAME`), starts tracing, reads
//! `listener.ora`, binds, and runs the event loop until `lsnrctl stop` or SIGTERM.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use listener::control::trace_directive;
use listener::home::OracleHome;
use listener::server::{Server, ServerParts};
use listener::settings;
use listener::spawner::{self, Spawner};
use listener::sys::title::ArgvArea;
use tracing_subscriber::{EnvFilter, prelude::*, reload};

/// Oracle-style TNS listener.
#[derive(Debug, Parser)]
#[command(name = "tnslsnr", version)]
struct Args {
    /// Listener name (from listener.ora); LISTENER by default.
    name: Option<String>,
    /// ORACLE_HOME (default: the ORACLE_HOME environment variable).
    #[arg(long)]
    home: Option<PathBuf>,
    /// Diagnostic level: off|user|admin|support or a tracing directive (overrides
    /// TRACE_LEVEL_<NAME>; TNSLSNR_LOG also works).
    #[arg(long)]
    trace_level: Option<String>,
    /// Accepted for compatibility with Oracle's `tnslsnr LISTENER -inherit`.
    #[arg(long = "inherit", hide = true)]
    inherit: bool,
    /// Blank room in argv for the process titles (added by tnslsnr itself, see `main`).
    #[arg(long = "title-room", hide = true)]
    title_room: Option<String>,
}

/// Room the argv area needs for the longest title (`oracle<SID> (LOCAL=NO)` with a 30-byte
/// SID, `tnslsnr <NAME> spawner`).
const MIN_TITLE_ROOM: usize = 64;

fn main() -> std::process::ExitCode {
    // The spawner starts dedicated servers by exec (`SPAWN_METHOD=EXEC`) as
    // `oracle<SID> (LOCAL=NO)`, and is itself this binary run with `--spawner`: both take
    // their channel on descriptor 3, so they branch off before anything closes it.
    let raw: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if raw.get(1).is_some_and(|a| a == spawner::LOCAL_NO_ARG) {
        spawner::run_exec_dedicated();
    }
    if raw.iter().skip(2).any(|a| a == spawner::SPAWNER_ARG) {
        let name = raw
            .get(1)
            .map(|n| n.to_string_lossy().to_ascii_uppercase())
            .unwrap_or_else(|| "LISTENER".to_string());
        spawner::run_exec_spawner(&name);
    }
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // Oracle-style: the error stack, one cause per line, no Rust backtrace.
            for (i, cause) in e.chain().enumerate() {
                let _ = writeln!(std::io::stderr(), "{}{cause}", " ".repeat(i));
            }
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    // Nothing of ours is open yet: drop whatever the starter leaked to us.
    listener::sys::close_inherited_fds();
    // Capture argv before anything overwrites it (titles), then parse.
    let raw: Vec<String> = std::env::args()
        .map(|a| {
            if a == "-inherit" {
                "--inherit".to_string()
            } else {
                a
            }
        })
        .collect();
    let argv = ArgvArea::locate().ok();
    // Titles are written over the argv area, which cannot grow. Started with a short command
    // line (`tnslsnr`), re-execute once with blank room so `oracle<SID> (LOCAL=NO)` fits.
    if let Some(a) = argv
        && a.capacity() < MIN_TITLE_ROOM
        && !raw.iter().any(|r| r.starts_with("--title-room"))
        && let Ok(exe) = std::env::current_exe()
    {
        use std::os::unix::process::CommandExt;
        let mut cmd = std::process::Command::new(exe);
        cmd.args(&raw[1..])
            .arg(format!("--title-room={}", "_".repeat(MIN_TITLE_ROOM)));
        if let Some(arg0) = raw.first() {
            cmd.arg0(arg0);
        }
        // exec only returns on failure; then carry on with truncated titles.
        let _ = cmd.exec();
    }
    let args = Args::parse_from(raw);
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| "LISTENER".to_string())
        .to_ascii_uppercase();
    let home = OracleHome::resolve(args.home.as_deref()).context("cannot determine ORACLE_HOME")?;

    // The spawner is this binary again, in spawner mode (fork + exec); the same start
    // replaces it later if it dies.
    let exe = std::env::current_exe().context("locating the tnslsnr binary")?;
    let spawner = Spawner::start(&name, &exe).context("starting the spawner")?;
    if let Some(a) = argv {
        a.set(&format!("tnslsnr {name}"), "tnslsnr");
    }

    let nofile = listener::sys::raise_nofile_limit();
    let loaded = settings::load(&home, &name)?;
    let initial = args
        .trace_level
        .as_deref()
        .map(|l| {
            trace_directive(l)
                .map(str::to_string)
                .unwrap_or_else(|| l.to_string())
        })
        .or_else(|| std::env::var("TNSLSNR_LOG").ok())
        .unwrap_or_else(|| {
            trace_directive(&loaded.settings.trace_level)
                .unwrap_or("warn")
                .to_string()
        });
    let filter = EnvFilter::try_new(&initial).unwrap_or_else(|_| EnvFilter::new("warn"));
    let (filter, handle) = reload::Layer::new(filter);
    tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(false),
        )
        .init();
    tracing::debug!(?nofile, "RLIMIT_NOFILE");
    for n in &loaded.notes {
        tracing::warn!("{n}");
    }
    let mut settings = loaded.settings;
    if let Some(l) = &args.trace_level {
        settings.trace_level = l.to_ascii_lowercase();
    }

    let loader_home = home.clone();
    let loader_name = name.clone();
    let server = Server::bind(ServerParts {
        home,
        settings,
        loader: Box::new(move || {
            settings::load(&loader_home, &loader_name)
                .map(|l| {
                    for n in &l.notes {
                        tracing::warn!("{n}");
                    }
                    l.settings
                })
                .map_err(|e| e.to_string())
        }),
        trace: Box::new(move |directive: &str| {
            let f = EnvFilter::try_new(directive).map_err(|e| e.to_string())?;
            handle.reload(f).map_err(|e| e.to_string())
        }),
        spawner,
        exe,
    })?;
    server.run()?;
    Ok(())
}
