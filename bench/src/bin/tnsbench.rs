//! `tnsbench`: connect cost, server CPU per connect, steady calls, idle-session memory and
//! connect storms of every orasim mode, against a floor process and (in the same run)
//! PostgreSQL and PgBouncer.
//!
//! ```text
//! cargo build --release && target/release/tnsbench --report bench/report
//! target/release/tnsbench --mode dedicated,shared --json-out out.json
//! target/release/tnsbench --quick 200       # what `orasim demo` ends with
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use bench::run::{InstanceKnobs, Mode, Phase, RunOptions, run};
use clap::Parser;

/// Measure what a connection costs with each orasim mode, side by side with a floor process,
/// PostgreSQL and PgBouncer.
#[derive(Debug, Parser)]
#[command(name = "tnsbench", version)]
struct Args {
    /// Rows to measure, comma separated: dedicated, dedicated-exec, prespawned, shared,
    /// pooled, postgresql, postgresql-scram, pgbouncer-session, pgbouncer-transaction
    /// (default: all; the floor is always measured).
    #[arg(long, value_delimiter = ',')]
    mode: Vec<String>,
    /// Phases to run, comma separated: connect, python, steady, idle, storm (default: all).
    #[arg(long, value_delimiter = ',')]
    phase: Vec<String>,
    /// Sequential connect cycles per target.
    #[arg(long, default_value_t = 200)]
    connects: u32,
    /// Client counts of the concurrent connect sweep.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4,8,16,32,64")]
    connect_clients: Vec<u32>,
    /// Client counts of the steady-calls phase.
    #[arg(long, value_delimiter = ',', default_value = "1,4,16,64,256")]
    steady_clients: Vec<u32>,
    /// Seconds of each concurrent-connect and steady-calls point.
    #[arg(long, default_value_t = 0.5)]
    window: f64,
    /// Idle-session levels of shared, pooled and PgBouncer transaction pooling.
    #[arg(long, value_delimiter = ',', default_value = "100,1000,5000,10000")]
    idle_multiplexed: Vec<u32>,
    /// Idle-session levels of process-per-session rows (orasim's capped below PROCESSES).
    #[arg(long, value_delimiter = ',', default_value = "100,1000")]
    idle_dedicated: Vec<u32>,
    /// Clients connecting at once in the storm (0: no storm).
    #[arg(long, default_value_t = 200)]
    storm: u32,
    /// PROCESSES of the orasim instance.
    #[arg(long, default_value_t = 1600)]
    processes: u32,
    /// SESSIONS of the orasim instance.
    #[arg(long, default_value_t = 11000)]
    sessions: u32,
    /// Dispatchers of the instance.
    #[arg(long, default_value_t = 2)]
    dispatchers: u32,
    /// CONNECTIONS of each dispatcher.
    #[arg(long, default_value_t = 5300)]
    connections: u32,
    /// SHARED_SERVERS of the instance.
    #[arg(long, default_value_t = 2)]
    shared_servers: u32,
    /// Idle prespawned servers of the prespawned row.
    #[arg(long, default_value_t = 8)]
    prespawn: u32,
    /// MAXSIZE of the DRCP pool (pooled row: at most this many pooled servers, however many
    /// clients).
    #[arg(long, default_value_t = 300)]
    pool_maxsize: u32,
    /// Time limit of the sequential connect loop, seconds.
    #[arg(long, default_value_t = 60)]
    phase_limit: u64,
    /// Directory of tnslsnr, lsnrctl and oradb (default: next to tnsbench).
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// The peers script (default: scripts/peers.sh of the source tree).
    #[arg(long)]
    peers_script: Option<PathBuf>,
    /// Python with python-oracledb for the cross-check row (default: the venv of
    /// scripts/pyenv.sh when it exists; "none" for no row).
    #[arg(long)]
    python: Option<PathBuf>,
    /// Print the report as JSON instead of tables.
    #[arg(long)]
    json: bool,
    /// Also write the JSON report to this file.
    #[arg(long)]
    json_out: Option<PathBuf>,
    /// Write report.md, report.json and the plots (SVG and PNG) into this directory.
    #[arg(long)]
    report: Option<PathBuf>,
    /// No progress bar on stderr.
    #[arg(long, short)]
    quiet: bool,
    /// Only the short comparison `orasim demo` ends with: N sessions each of dedicated,
    /// shared and pooled (connect p50, server CPU per connect, PSS per idle session), then
    /// `oradb kill-session` on one shared session. Ignores the other measuring options.
    #[arg(long, value_name = "N")]
    quick: Option<u32>,
    /// Internal: run as the floor process with this script.
    #[arg(long, hide = true)]
    floor_server: Option<String>,
}

fn main() -> ExitCode {
    match real_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tnsbench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn real_main() -> Result<()> {
    let command = std::env::args()
        .map(|a| if a.contains(' ') { format!("'{a}'") } else { a })
        .collect::<Vec<_>>()
        .join(" ");
    let args = Args::parse();
    if let Some(script) = &args.floor_server {
        bench::floor::serve(bench::floor::FloorScript::parse(script)?)?;
        return Ok(());
    }
    let modes = if args.mode.is_empty() {
        Mode::ALL.to_vec()
    } else {
        let mut v = Vec::new();
        for m in &args.mode {
            match Mode::parse(m.trim()) {
                Some(m) if !v.contains(&m) => v.push(m),
                Some(_) => {}
                None => bail!("unknown mode {m:?}"),
            }
        }
        v
    };
    let phases = if args.phase.is_empty() {
        Phase::ALL.to_vec()
    } else {
        let mut v = Vec::new();
        for p in &args.phase {
            match Phase::parse(p.trim()) {
                Some(p) => v.push(p),
                None => bail!("unknown phase {p:?}"),
            }
        }
        v
    };
    let bin_dir = match args.bin_dir {
        Some(d) => d,
        None => std::env::current_exe()
            .context("locating tnsbench")?
            .parent()
            .map(PathBuf::from)
            .context("tnsbench has no parent directory")?,
    };
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = match args.python {
        Some(p) if p.as_os_str() == "none" => None,
        Some(p) => Some(p),
        None => Some(source.join("target/pyenv/bin/python")).filter(|p| p.is_file()),
    };
    // 10,000 idle sessions are 10,000 descriptors in this process, beyond the usual 1,024.
    let _ = raise_nofile();
    if let Some(sessions) = args.quick {
        let report = bench::quick::run(&bench::quick::QuickOptions { sessions, bin_dir })?;
        if args.json {
            print!(
                "{}",
                serde_json::to_string_pretty(&report).context("rendering JSON")? + "\n"
            );
        } else {
            print!("{}", report.to_table());
        }
        return Ok(());
    }
    let opts = RunOptions {
        modes,
        phases,
        connects: args.connects,
        connect_clients: args.connect_clients,
        window: Duration::from_secs_f64(args.window.max(0.05)),
        steady_clients: args.steady_clients,
        idle_multiplexed: args.idle_multiplexed,
        idle_dedicated: args.idle_dedicated,
        storm: args.storm,
        stack: InstanceKnobs {
            processes: args.processes,
            sessions: args.sessions,
            dispatchers: (args.dispatchers, args.connections),
            shared_servers: args.shared_servers,
            prespawn: args.prespawn,
            pool_maxsize: args.pool_maxsize,
        },
        phase_limit: Duration::from_secs(args.phase_limit.max(1)),
        bin_dir,
        peers_script: args
            .peers_script
            .unwrap_or_else(|| source.join("scripts/peers.sh")),
        python,
        progress: !args.quiet,
        command,
    };
    let report = run(&opts)?;
    let json = serde_json::to_string_pretty(&report).context("rendering JSON")? + "\n";
    if let Some(path) = &args.json_out {
        std::fs::write(path, &json).with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(dir) = &args.report {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let plots = bench::plot::write_all(&report, dir)?;
        let refs: Vec<(&str, &str)> = plots
            .iter()
            .map(|(f, t)| (f.as_str(), t.as_str()))
            .collect();
        std::fs::write(dir.join("report.md"), report.to_markdown(&refs))
            .context("writing report.md")?;
        std::fs::write(dir.join("report.json"), &json).context("writing report.json")?;
    }
    if args.json {
        print!("{json}");
    } else {
        print!("{}", report.to_table());
    }
    Ok(())
}

/// Raises RLIMIT_NOFILE to 65,536 where allowed (root), else the soft limit to the hard one.
fn raise_nofile() -> nix::Result<()> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    const WANTED: u64 = 65_536;
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    if hard < WANTED && setrlimit(Resource::RLIMIT_NOFILE, WANTED, WANTED).is_ok() {
        return Ok(());
    }
    setrlimit(Resource::RLIMIT_NOFILE, hard, hard)
}
