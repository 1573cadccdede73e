//! `tnsbench`: connect cost, round trips, memory per session and connect storms of orasim,
//! against a raw-TCP baseline and (with `--peers`) PostgreSQL and PgBouncer in the same run.
//!
//! ```text
//! cargo build --release && target/release/tnsbench                # orasim vs raw TCP
//! target/release/tnsbench --peers --json > bench.json             # + PostgreSQL/PgBouncer
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use bench::run::{Mode, RunOptions, run};
use clap::{Parser, ValueEnum};

/// Server modes on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum ModeArg {
    /// A dedicated server forked by the spawner zygote per connection.
    Dedicated,
    /// Pre-forked idle dedicated servers (not implemented yet in orasim).
    Prespawned,
    /// Dispatchers + shared servers (not implemented yet in orasim).
    Shared,
}

/// Measure what an orasim connection costs, side by side with raw TCP and (optionally)
/// PostgreSQL and PgBouncer.
#[derive(Debug, Parser)]
#[command(name = "tnsbench", version)]
struct Args {
    /// Server mode to measure.
    #[arg(long, value_enum, default_value = "dedicated")]
    mode: ModeArg,
    /// Sequential connect+login+logoff cycles per target.
    #[arg(long, default_value_t = 200)]
    connects: u32,
    /// Round trips per target on one connection.
    #[arg(long, default_value_t = 2000)]
    round_trips: u32,
    /// Concurrent idle sessions for the memory phase.
    #[arg(long, default_value_t = 50)]
    sessions: u32,
    /// Clients connecting at once in the storm (0: no storm).
    #[arg(long, default_value_t = 50)]
    storm: u32,
    /// PROCESSES of the orasim instance.
    #[arg(long, default_value_t = 100)]
    processes: u32,
    /// Time limit of each measuring loop, in seconds.
    #[arg(long, default_value_t = 60)]
    phase_limit: u64,
    /// Directory of tnslsnr, lsnrctl and oradb (default: next to tnsbench).
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Also measure PostgreSQL and PgBouncer, started by scripts/peers.sh.
    #[arg(long)]
    peers: bool,
    /// The peers script (default: scripts/peers.sh of the source tree).
    #[arg(long)]
    peers_script: Option<PathBuf>,
    /// Print the report as JSON instead of tables.
    #[arg(long)]
    json: bool,
    /// Also write the JSON report to this file (whatever --json says).
    #[arg(long)]
    json_out: Option<PathBuf>,
    /// Progress on stderr.
    #[arg(long, short)]
    verbose: bool,
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
    let args = Args::parse();
    let bin_dir = match args.bin_dir {
        Some(d) => d,
        None => std::env::current_exe()
            .context("locating tnsbench")?
            .parent()
            .map(PathBuf::from)
            .context("tnsbench has no parent directory")?,
    };
    let peers_script = args.peers.then(|| {
        args.peers_script.unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/peers.sh")
        })
    });
    let opts = RunOptions {
        mode: match args.mode {
            ModeArg::Dedicated => Mode::Dedicated,
            ModeArg::Prespawned => Mode::Prespawned,
            ModeArg::Shared => Mode::Shared,
        },
        connects: args.connects,
        round_trips: args.round_trips,
        sessions: args.sessions,
        storm: args.storm,
        processes: args.processes,
        phase_limit: Duration::from_secs(args.phase_limit.max(1)),
        bin_dir,
        peers_script,
        verbose: args.verbose,
    };
    let report = run(&opts)?;
    if let Some(path) = &args.json_out {
        let text = serde_json::to_string_pretty(&report).context("rendering JSON")?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).context("rendering JSON")?
        );
    } else {
        print!("{}", report.to_table());
    }
    Ok(())
}
