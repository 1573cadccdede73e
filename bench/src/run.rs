//! One run: start the orasim stack (every orasim mode on one instance), the floor process
//! and (when asked) PostgreSQL + PgBouncer, then run each phase over every target, phase by
//! phase, so that one report's numbers were taken minutes apart on the same machine.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::floor::{FloorScript, FloorServer};
use crate::machine::Machine;
use crate::peers::Peers;
use crate::phases;
use crate::proctree;
use crate::report::{OrasimInfo, Parameters, PeersStatus, PythonRow, Report, SteadyResult};
use crate::stack::{self, OrasimStack, StackOptions};
use crate::target::{CLIENT_TIMEOUT, FloorTarget, OrasimTarget, PgBenchTarget, Target};
use crate::turns::{count_round_trips, relay_cycle, steps};

/// A row of the report besides the floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mode {
    /// A dedicated server forked by the spawner per connection.
    Dedicated,
    /// A dedicated server the spawner forks and execs (`SPAWN_METHOD=EXEC`).
    DedicatedExec,
    /// Idle prespawned dedicated servers take connections.
    Prespawned,
    /// Dispatchers and shared servers.
    Shared,
    /// DRCP: a connection broker and pooled servers.
    Pooled,
    /// PostgreSQL, trust authentication.
    Postgresql,
    /// PostgreSQL, SCRAM-SHA-256.
    PostgresqlScram,
    /// PgBouncer, session pooling.
    PgbouncerSession,
    /// PgBouncer, transaction pooling.
    PgbouncerTransaction,
}

impl Mode {
    /// Every mode, in report order.
    pub const ALL: [Mode; 9] = [
        Mode::Dedicated,
        Mode::DedicatedExec,
        Mode::Prespawned,
        Mode::Shared,
        Mode::Pooled,
        Mode::Postgresql,
        Mode::PostgresqlScram,
        Mode::PgbouncerSession,
        Mode::PgbouncerTransaction,
    ];

    /// The name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Dedicated => "dedicated",
            Mode::DedicatedExec => "dedicated-exec",
            Mode::Prespawned => "prespawned",
            Mode::Shared => "shared",
            Mode::Pooled => "pooled",
            Mode::Postgresql => "postgresql",
            Mode::PostgresqlScram => "postgresql-scram",
            Mode::PgbouncerSession => "pgbouncer-session",
            Mode::PgbouncerTransaction => "pgbouncer-transaction",
        }
    }

    /// The row name in the report.
    pub fn row(self) -> String {
        if self.is_peer() {
            self.as_str().to_string()
        } else {
            format!("orasim-{}", self.as_str())
        }
    }

    /// Parses a command-line name.
    pub fn parse(s: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// PostgreSQL or PgBouncer.
    pub fn is_peer(self) -> bool {
        self >= Mode::Postgresql
    }

    /// The EZConnect service of an orasim row on the bench stack. Without `:dedicated` a
    /// client gets a dispatcher when there is one, as in Oracle.
    fn orasim_service(self) -> String {
        match self {
            Mode::DedicatedExec => stack::EXEC_SERVICE.to_string(),
            Mode::Prespawned => stack::PRESPAWN_SERVICE.to_string(),
            Mode::Shared => format!("{}:shared", stack::SERVICE),
            Mode::Pooled => format!("{}:pooled", stack::SERVICE),
            _ => format!("{}:dedicated", stack::SERVICE),
        }
    }

    /// Many idle sessions per server process: measured up to the largest idle level. (A
    /// pooled client releases its session after each call, so an idle one holds no pooled
    /// server, only its connection to the broker.)
    fn multiplexed(self) -> bool {
        matches!(
            self,
            Mode::Shared | Mode::Pooled | Mode::PgbouncerTransaction
        )
    }
}

/// The orasim row of `mode` on `stack` (for [`Mode::Pooled`], once
/// [`OrasimStack::start_pool`] has started the pool).
pub fn orasim_target(stack: &OrasimStack, mode: Mode) -> OrasimTarget {
    OrasimTarget {
        name: mode.row(),
        port: if mode == Mode::DedicatedExec {
            stack.exec_port
        } else {
            stack.port
        },
        service: mode.orasim_service(),
        credentials: (stack::USER.to_string(), stack::PASSWORD.to_string()),
        roots: stack.roots(),
        options: stack.connect_options(),
        release_between_calls: mode == Mode::Pooled,
    }
}

/// A phase of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Connect cycles, sequential and concurrent, with CPU per connect.
    Connect,
    /// The python-oracledb cross-check of the connect cycle.
    Python,
    /// Steady calls from N sessions.
    Steady,
    /// Idle sessions' memory.
    Idle,
    /// The connect storm.
    Storm,
}

impl Phase {
    /// Every phase, in run order.
    pub const ALL: [Phase; 5] = [
        Phase::Connect,
        Phase::Python,
        Phase::Steady,
        Phase::Idle,
        Phase::Storm,
    ];

    /// The name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Connect => "connect",
            Phase::Python => "python",
            Phase::Steady => "steady",
            Phase::Idle => "idle",
            Phase::Storm => "storm",
        }
    }

    /// Parses a command-line name.
    pub fn parse(s: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The rows besides the floor.
    pub modes: Vec<Mode>,
    /// The phases to run (the others' tables stay empty).
    pub phases: Vec<Phase>,
    /// Sequential connect cycles per target.
    pub connects: u32,
    /// Client counts of the concurrent connect sweep.
    pub connect_clients: Vec<u32>,
    /// Window of each concurrent and steady point.
    pub window: Duration,
    /// Client counts of the steady phase.
    pub steady_clients: Vec<u32>,
    /// Idle levels of multiplexed modes.
    pub idle_multiplexed: Vec<u32>,
    /// Idle levels of process-per-session modes (orasim's capped below PROCESSES).
    pub idle_dedicated: Vec<u32>,
    /// Clients of the storm (0: none).
    pub storm: u32,
    /// The orasim instance.
    pub stack: InstanceKnobs,
    /// Time limit of the sequential loop.
    pub phase_limit: Duration,
    /// Where `tnslsnr`, `lsnrctl` and `oradb` are.
    pub bin_dir: PathBuf,
    /// `scripts/peers.sh`.
    pub peers_script: PathBuf,
    /// The python with python-oracledb, for the cross-check row (`None`: no row).
    pub python: Option<PathBuf>,
    /// Progress bar on stderr.
    pub progress: bool,
    /// The command line, for the report.
    pub command: String,
}

/// The instance's knobs.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct InstanceKnobs {
    /// PROCESSES.
    pub processes: u32,
    /// SESSIONS.
    pub sessions: u32,
    /// Dispatchers and CONNECTIONS each.
    pub dispatchers: (u32, u32),
    /// SHARED_SERVERS.
    pub shared_servers: u32,
    /// Idle prespawned servers.
    pub prespawn: u32,
    /// MAXSIZE of the DRCP pool.
    pub pool_maxsize: u32,
}

/// Threads that open idle sessions at once.
pub(crate) const OPENERS: u32 = 4;
/// How long to wait for a finished phase's server processes to go.
const DRAIN_WAIT: Duration = Duration::from_secs(20);
/// ... or for their number to stop falling for this long.
const SETTLED: Duration = Duration::from_secs(1);

/// Waits for the server processes a phase started to go: back to `baseline` processes under
/// `roots`, or no fewer for [`SETTLED`] (idle pooled servers stay until the pool's
/// inactivity timeout), at most [`DRAIN_WAIT`].
pub(crate) fn wait_drained(roots: &[u32], baseline: usize) {
    let deadline = Instant::now() + DRAIN_WAIT;
    let (mut fewest, mut since) = (usize::MAX, Instant::now());
    loop {
        let n = proctree::tree(roots).len();
        if n < fewest {
            (fewest, since) = (n, Instant::now());
        }
        if n <= baseline || since.elapsed() >= SETTLED || Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs every phase and returns the report.
pub fn run(opts: &RunOptions) -> Result<Report> {
    let mut machine = Machine::at_start();
    let so = opts.stack;
    let stack = OrasimStack::start(StackOptions {
        bin_dir: opts.bin_dir.clone(),
        processes: so.processes,
        sessions: so.sessions,
        dispatchers: so.dispatchers,
        shared_servers: so.shared_servers,
        prespawn: so.prespawn,
        call_timeout: CLIENT_TIMEOUT,
    })?;
    let roots = stack.roots();
    let dedicated = orasim_target(&stack, Mode::Dedicated);
    let server_version = {
        let c = stack
            .connect()
            .map_err(|e| anyhow::anyhow!("first login failed: {e}"))?;
        let v = c.session_info().server_version.clone();
        let _ = c.close();
        v
    };

    // The floor replays one relayed orasim dedicated cycle, byte for byte.
    crate::interrupt::check()?;
    let bursts = relay_cycle(dedicated.port, |p| dedicated.cycle_at(p)).map_err(|e| {
        anyhow::anyhow!("relaying an orasim cycle to capture the floor's script: {e}")
    })?;
    let script = FloorScript::from_steps(&steps(&bursts))?;
    let exe = std::env::current_exe().context("locating tnsbench")?;
    let floor_server = FloorServer::start(&exe, script.clone())?;
    let floor = FloorTarget {
        port: floor_server.port,
        script: script.clone(),
        pid: floor_server.pid(),
    };

    let mut skipped = BTreeMap::new();
    let mut targets: Vec<(Option<Mode>, Box<dyn Target>)> = vec![(None, Box::new(floor))];
    let wants_peers = opts.modes.iter().any(|m| m.is_peer());
    let mut peers_status = PeersStatus {
        requested: wants_peers,
        ..PeersStatus::default()
    };
    let peers = if wants_peers {
        match Peers::start(&opts.peers_script, Duration::from_secs(600)) {
            Ok(p) => {
                peers_status.info = Some(p.info.clone());
                Some(p)
            }
            Err(e) => {
                peers_status.error = Some(e.to_string());
                None
            }
        }
    } else {
        None
    };
    for &m in &opts.modes {
        crate::interrupt::check()?;
        let t: Box<dyn Target> = match m {
            Mode::Dedicated | Mode::DedicatedExec | Mode::Prespawned | Mode::Shared => {
                Box::new(orasim_target(&stack, m))
            }
            Mode::Pooled => match stack.start_pool(so.pool_maxsize) {
                Ok(_) => Box::new(orasim_target(&stack, m)),
                Err(why) => {
                    skipped.insert(m.row(), why);
                    continue;
                }
            },
            peer => {
                let Some(p) = &peers else {
                    skipped.insert(
                        m.row(),
                        peers_status
                            .error
                            .clone()
                            .unwrap_or_else(|| "peers not started".into()),
                    );
                    continue;
                };
                let (target, roots) = match peer {
                    Mode::Postgresql => (Some(p.postgres(CLIENT_TIMEOUT)), vec![p.postmaster_pid]),
                    Mode::PostgresqlScram => {
                        (p.postgres_scram(CLIENT_TIMEOUT), vec![p.postmaster_pid])
                    }
                    Mode::PgbouncerSession => (
                        Some(p.pgbouncer(CLIENT_TIMEOUT)),
                        vec![p.pgbouncer_pid, p.postmaster_pid],
                    ),
                    _ => (
                        p.pgbouncer_transaction(CLIENT_TIMEOUT),
                        vec![p.pgbouncer_pid, p.postmaster_pid],
                    ),
                };
                let Some(target) = target else {
                    skipped.insert(m.row(), "scripts/peers.sh did not set it up".into());
                    continue;
                };
                Box::new(PgBenchTarget {
                    name: m.row(),
                    target,
                    roots,
                })
            }
        };
        targets.push((Some(m), t));
    }

    let runs = |p: Phase| opts.phases.contains(&p);
    let phases_n = [Phase::Connect, Phase::Steady, Phase::Idle]
        .into_iter()
        .filter(|&p| runs(p))
        .count() as u64
        + u64::from(runs(Phase::Storm) && opts.storm > 0);
    let bar = if opts.progress {
        let b = ProgressBar::with_draw_target(
            Some(targets.len() as u64 * phases_n),
            ProgressDrawTarget::stderr(),
        );
        if let Ok(st) =
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
        {
            b.set_style(st.progress_chars("=> "));
        }
        b
    } else {
        ProgressBar::hidden()
    };
    let baseline_procs = proctree::tree(&roots).len();
    let drain = |m: Option<Mode>| {
        if m.is_some_and(|m| !m.is_peer()) {
            wait_drained(&roots, baseline_procs);
        }
    };
    let step = |t: &dyn Target, what: &str| {
        bar.set_message(format!("{}: {what}", t.name()));
    };

    let mut round_trips = BTreeMap::new();
    let mut connect = Vec::new();
    if runs(Phase::Connect) {
        for (_, t) in &targets {
            crate::interrupt::check()?;
            round_trips.insert(
                t.name().to_string(),
                count_round_trips(t.port(), |p| t.cycle_at(p)),
            );
        }
        // The latencies: every row's sequential cycles in turns, so that the rows' p50s
        // and their ratios come from the same minutes of the machine.
        bar.set_message("connect cycles: every row in turns");
        let rows: Vec<&dyn Target> = targets.iter().map(|(_, t)| t.as_ref()).collect();
        let in_turns = phases::interleaved_cycles(
            &rows,
            opts.connects,
            opts.phase_limit.saturating_mul(rows.len().max(1) as u32),
        );
        wait_drained(&roots, baseline_procs);
        // The CPU: each row on its own (the orasim rows share their processes), its own
        // sequential cycles and then the concurrency sweep.
        for ((m, t), (wall, wait)) in targets.iter().zip(in_turns) {
            crate::interrupt::check()?;
            step(t.as_ref(), "connect cycles");
            let mut c = phases::connect(
                t.as_ref(),
                opts.connects,
                &opts.connect_clients,
                opts.window,
                opts.phase_limit,
            );
            c.sequential = wall;
            c.sequential_wait = wait;
            connect.push(c);
            drain(*m);
            bar.inc(1);
        }
    }

    let mut python = Vec::new();
    if let Some(py) = opts.python.as_ref().filter(|_| runs(Phase::Python)) {
        for (m, t) in &targets {
            crate::interrupt::check()?;
            if !matches!(m, Some(Mode::Dedicated | Mode::Shared)) {
                continue;
            }
            let Some(mode) = m else { continue };
            let dsn = format!("127.0.0.1:{}/{}", stack.port, mode.orasim_service());
            match crate::python::connect_cycles(
                py,
                &dsn,
                stack::USER,
                stack::PASSWORD,
                opts.connects.min(200),
            ) {
                Ok((driver, latency)) => python.push(PythonRow {
                    target: t.name().to_string(),
                    driver,
                    latency,
                }),
                Err(e) => {
                    skipped.insert(format!("python-oracledb -> {}", t.name()), e);
                }
            }
            drain(*m);
        }
    }

    let mut steady = Vec::new();
    for (m, t) in targets.iter().filter(|_| runs(Phase::Steady)) {
        crate::interrupt::check()?;
        step(t.as_ref(), "steady calls");
        let mut points = Vec::new();
        for &n in &opts.steady_clients {
            points.push(phases::steady(t.as_ref(), n, opts.window));
            drain(*m);
        }
        steady.push(SteadyResult {
            target: t.name().to_string(),
            points,
        });
        bar.inc(1);
    }

    let mut idle = Vec::new();
    for (m, t) in targets.iter().filter(|_| runs(Phase::Idle)) {
        crate::interrupt::check()?;
        bar.inc(1);
        let Some(mode) = m else { continue };
        step(t.as_ref(), "idle sessions");
        let levels: Vec<u32> = if mode.multiplexed() {
            opts.idle_multiplexed.clone()
        } else if mode.is_peer() {
            opts.idle_dedicated.clone()
        } else {
            // Keep room below PROCESSES for the background processes, the prespawned
            // servers and the pooled servers the earlier phases started.
            let cap = so
                .processes
                .saturating_sub(so.prespawn + so.pool_maxsize + 40);
            let mut v: Vec<u32> = opts.idle_dedicated.iter().map(|&l| l.min(cap)).collect();
            v.dedup();
            v
        };
        idle.push(phases::idle(t.as_ref(), &levels, OPENERS));
        drain(*m);
    }

    let mut storm = Vec::new();
    if runs(Phase::Storm) && opts.storm > 0 {
        for (m, t) in &targets {
            crate::interrupt::check()?;
            bar.inc(1);
            if m.is_none() {
                continue;
            }
            step(t.as_ref(), "storm");
            storm.push(phases::storm(t.as_ref(), opts.storm));
            drain(*m);
        }
    }
    bar.inc(1);
    bar.finish_and_clear();
    crate::interrupt::check()?;

    let names = targets.iter().map(|(_, t)| t.name().to_string()).collect();
    let mut processes = BTreeMap::new();
    processes.insert("floor".to_string(), floor_server.pid());
    for (name, pid) in ["tnslsnr LISTENER", "tnslsnr LEXEC", "oradb"]
        .into_iter()
        .zip(stack.roots())
    {
        processes.insert(name.to_string(), pid);
    }
    drop(targets);
    drop(floor_server);
    drop(peers);
    let sid = stack.sid.clone();
    drop(stack);
    machine.finish();
    let mut report = Report {
        tool: "tnsbench",
        version: env!("CARGO_PKG_VERSION"),
        command: opts.command.clone(),
        machine,
        parameters: Parameters {
            connects: opts.connects,
            connect_clients: opts.connect_clients.clone(),
            window_secs: opts.window.as_secs_f64(),
            steady_clients: opts.steady_clients.clone(),
            idle_levels_multiplexed: opts.idle_multiplexed.clone(),
            idle_levels_dedicated: opts.idle_dedicated.clone(),
            storm_clients: opts.storm,
            instance: so,
        },
        orasim: OrasimInfo {
            sid,
            server_version,
        },
        peers: peers_status,
        floor_script: Some(script),
        targets: names,
        processes,
        skipped,
        round_trips,
        connect,
        python,
        steady,
        idle,
        storm,
        ratios: Vec::new(),
    };
    report.ratios = report.compute_ratios();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_and_name_their_rows() {
        for m in Mode::ALL {
            assert_eq!(Mode::parse(m.as_str()), Some(m));
        }
        assert_eq!(Mode::Shared.row(), "orasim-shared");
        assert_eq!(Mode::PostgresqlScram.row(), "postgresql-scram");
        assert!(Mode::PgbouncerTransaction.is_peer() && !Mode::Pooled.is_peer());
        assert_eq!(Mode::parse("threaded"), None);
    }
}
