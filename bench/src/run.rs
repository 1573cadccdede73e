//! The phases of a run, in order: raw-TCP baseline, orasim, and (with `--peers`)
//! PostgreSQL and PgBouncer measured by the same loops, so that the numbers of one report
//! were taken minutes apart on the same machine under the same load.
//!
//! Every loop is bounded twice: by its count and by the phase time limit. A loop that hits
//! the time limit says so in the report instead of silently measuring fewer samples.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::echo::{self, EchoServer};
use crate::machine::Machine;
use crate::peers::Peers;
use crate::pg::{PgConn, PgTarget};
use crate::procmem::{MemorySummary, Rollup};
use crate::report::{
    Anatomy, AnatomyStep, Daemon, Measured, MemoryEntry, OrasimInfo, Parameters, PeersStatus,
    Report, Storm,
};
use crate::stack::{OrasimStack, StackOptions};
use crate::stats::{Recorder, oracle_code};
use crate::turns::{count_round_trips, relay_cycle, steps};

/// How the orasim listener serves a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A dedicated server forked by the spawner zygote per connection (what orasim has).
    Dedicated,
    /// An idle pre-forked dedicated server takes the connection (not in orasim yet).
    Prespawned,
    /// A dispatcher and shared servers (not in orasim yet).
    Shared,
}

impl Mode {
    /// The name on the command line and in the report.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Dedicated => "dedicated",
            Mode::Prespawned => "prespawned",
            Mode::Shared => "shared",
        }
    }

    /// Whether orasim implements it.
    pub fn implemented(self) -> bool {
        matches!(self, Mode::Dedicated)
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Server mode.
    pub mode: Mode,
    /// Sequential connect cycles per target.
    pub connects: u32,
    /// Round trips per target.
    pub round_trips: u32,
    /// Concurrent idle sessions for the memory phase.
    pub sessions: u32,
    /// Concurrent clients of the storm (0: no storm).
    pub storm: u32,
    /// PROCESSES of the instance.
    pub processes: u32,
    /// Time limit of each loop.
    pub phase_limit: Duration,
    /// Where `tnslsnr`, `lsnrctl` and `oradb` are.
    pub bin_dir: PathBuf,
    /// `scripts/peers.sh` when PostgreSQL/PgBouncer are wanted.
    pub peers_script: Option<PathBuf>,
    /// Progress lines on stderr.
    pub verbose: bool,
}

/// Most clients a storm starts (threads of this process).
pub const MAX_STORM: u32 = 1000;
/// Most sessions the memory phase opens.
pub const MAX_SESSIONS: u32 = 1000;
/// Socket and call timeout of every client.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long to wait for the servers of a finished phase to exit before the next one.
const DRAIN_WAIT: Duration = Duration::from_secs(15);

/// Runs every phase and returns the report.
pub fn run(opts: &RunOptions) -> Result<Report> {
    if !opts.mode.implemented() {
        bail!(
            "mode {}: not implemented yet in orasim (the listener only forks a dedicated server per connection); use --mode dedicated",
            opts.mode.as_str()
        );
    }
    if opts.storm > MAX_STORM || opts.sessions > MAX_SESSIONS {
        bail!("--storm and --sessions are capped at {MAX_STORM} and {MAX_SESSIONS}");
    }
    let progress = |what: &str| {
        if opts.verbose {
            eprintln!("tnsbench: {what}");
        }
    };
    let mut machine = Machine::at_start();
    let echo = EchoServer::start().context("starting the raw-TCP echo server")?;
    progress("starting tnslsnr + oradb");
    let stack = OrasimStack::start(StackOptions {
        bin_dir: opts.bin_dir.clone(),
        processes: opts.processes,
        call_timeout: CLIENT_TIMEOUT,
    })?;
    let server_version = {
        let c = stack
            .connect()
            .map_err(|e| anyhow::anyhow!("first login failed: {e}"))?;
        let v = c.session_info().server_version.clone();
        let _ = c.close();
        v
    };
    let sid = stack.sid.clone();
    let mut peers_status = PeersStatus {
        requested: opts.peers_script.is_some(),
        ..PeersStatus::default()
    };
    let peers = match &opts.peers_script {
        None => None,
        Some(script) => {
            progress("starting PostgreSQL + PgBouncer (scripts/peers.sh)");
            match Peers::start(script, Duration::from_secs(600)) {
                Ok(p) => {
                    peers_status.info = Some(p.info.clone());
                    Some(p)
                }
                Err(e) => {
                    peers_status.error = Some(e.to_string());
                    None
                }
            }
        }
    };
    let pg = peers.as_ref().map(|p| p.postgres(CLIENT_TIMEOUT));
    let pgb = peers.as_ref().map(|p| p.pgbouncer(CLIENT_TIMEOUT));
    let pg_scram = peers
        .as_ref()
        .and_then(|p| p.postgres_scram(CLIENT_TIMEOUT));
    let limit = opts.phase_limit;

    // Connect cost.
    progress("connect cycles");
    let mut connect = vec![Measured {
        target: "raw-tcp".into(),
        operation: "TCP connect + 1-byte echo + close".into(),
        latency: timed_loop(opts.connects, limit, || {
            echo::connect_cycle(&echo).map_err(|_| "io".to_string())
        }),
    }];
    connect.push(Measured {
        target: "orasim-dedicated".into(),
        operation: "connect + O5LOGON + logoff (fork per connect)".into(),
        latency: timed_loop(opts.connects, limit, || {
            let c = stack.connect().map_err(|e| oracle_code(&e))?;
            c.close().map_err(|e| oracle_code(&e))
        }),
    });
    wait_drained(&stack);
    for (name, what, target) in [
        (
            "postgresql",
            "startup + trust auth + terminate (fork per connect)",
            &pg,
        ),
        (
            "postgresql-scram",
            "startup + SCRAM-SHA-256 + terminate (fork per connect)",
            &pg_scram,
        ),
        (
            "pgbouncer",
            "startup + trust auth + terminate (pooled server)",
            &pgb,
        ),
    ] {
        if let Some(t) = target {
            connect.push(Measured {
                target: name.into(),
                operation: what.into(),
                latency: timed_loop(opts.connects, limit, || {
                    PgConn::connect(t)
                        .and_then(PgConn::close)
                        .map_err(|e| e.code())
                }),
            });
        }
    }

    // Round trips of one connect cycle, counted on the wire.
    let mut connect_round_trips = BTreeMap::new();
    connect_round_trips.insert(
        "raw-tcp".to_string(),
        count_round_trips(echo.port(), |port| {
            let mut s =
                std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
            s.set_read_timeout(Some(CLIENT_TIMEOUT))
                .map_err(|e| e.to_string())?;
            echo::round_trip(&mut s).map_err(|e| e.to_string())
        }),
    );
    connect_round_trips.insert(
        "orasim-dedicated".to_string(),
        count_round_trips(stack.port, |port| {
            let c = stack.connect_via(port).map_err(|e| e.to_string())?;
            c.close().map_err(|e| e.to_string())
        }),
    );
    for (name, target) in [
        ("postgresql", &pg),
        ("postgresql-scram", &pg_scram),
        ("pgbouncer", &pgb),
    ] {
        let Some(t) = target else { continue };
        connect_round_trips.insert(
            name.to_string(),
            count_round_trips(t.port, |port| {
                let via = PgTarget { port, ..t.clone() };
                PgConn::connect(&via)
                    .and_then(PgConn::close)
                    .map_err(|e| e.to_string())
            }),
        );
    }
    wait_drained(&stack);

    // Where the time of a connect goes, step by step, on the wire.
    progress("connect anatomy");
    let anatomy_cycles = opts.connects.clamp(1, ANATOMY_CYCLES);
    let mut anatomy = vec![anatomize(
        "orasim-dedicated",
        anatomy_cycles,
        limit,
        stack.port,
        |port| {
            let c = stack.connect_via(port).map_err(|e| e.to_string())?;
            c.close().map_err(|e| e.to_string())
        },
        ORASIM_STEPS,
    )];
    wait_drained(&stack);
    for (name, target, labels) in [
        ("postgresql", &pg, PG_STEPS),
        ("postgresql-scram", &pg_scram, PG_SCRAM_STEPS),
        ("pgbouncer", &pgb, PG_STEPS),
    ] {
        let Some(t) = target else { continue };
        anatomy.push(anatomize(
            name,
            anatomy_cycles,
            limit,
            t.port,
            |port| {
                let via = PgTarget { port, ..t.clone() };
                PgConn::connect(&via)
                    .and_then(PgConn::close)
                    .map_err(|e| e.to_string())
            },
            labels,
        ));
    }

    // Round trips.
    progress("round trips");
    let mut round_trip = Vec::new();
    let mut per_call = BTreeMap::new();
    {
        let mut s = echo.connect().context("connecting to the echo server")?;
        round_trip.push(Measured {
            target: "raw-tcp".into(),
            operation: "1-byte echo".into(),
            latency: timed_loop(opts.round_trips, limit, || {
                echo::round_trip(&mut s).map_err(|_| "io".to_string())
            }),
        });
    }
    {
        let mut c = stack
            .connect()
            .map_err(|e| anyhow::anyhow!("login for the round-trip phase: {e}"))?;
        // First execution parses and opens the cursor; the loop measures re-executions.
        let _ = c.query("select 1 from dual");
        let calls: [(&str, &str, OrasimCall); 2] = [
            (
                "select 1 from dual",
                "select 1 from dual (re-execute + fetch)",
                |c| {
                    let r = c.query("select 1 from dual").map_err(|e| oracle_code(&e))?;
                    if r.rows.len() == 1 {
                        Ok(())
                    } else {
                        Err("wrong-row-count".into())
                    }
                },
            ),
            ("ping", "ping (OCIPing)", |c| {
                c.ping().map_err(|e| oracle_code(&e))
            }),
        ];
        for (call, operation, op) in calls {
            let before = c.stats();
            let latency = timed_loop(opts.round_trips, limit, || op(&mut c));
            let after = c.stats();
            if latency.samples > 0 {
                per_call.insert(
                    call.to_string(),
                    (after.round_trips - before.round_trips) as f64 / latency.samples as f64,
                );
            }
            round_trip.push(Measured {
                target: "orasim-dedicated".into(),
                operation: operation.into(),
                latency,
            });
        }
        let _ = c.close();
    }
    for (name, target) in [("postgresql", &pg), ("pgbouncer", &pgb)] {
        let Some(t) = target else { continue };
        let latency = match PgConn::connect(t) {
            Ok(mut c) => {
                let l = timed_loop(opts.round_trips, limit, || {
                    match c.simple_query("select 1") {
                        Ok(1) => Ok(()),
                        Ok(_) => Err("wrong-row-count".into()),
                        Err(e) => Err(e.code()),
                    }
                });
                let _ = c.close();
                l
            }
            Err(e) => {
                let mut r = Recorder::new();
                r.error(e.code());
                r.summary()
            }
        };
        round_trip.push(Measured {
            target: name.into(),
            operation: "select 1 (simple query)".into(),
            latency,
        });
    }
    wait_drained(&stack);

    // Memory per session.
    progress("memory per session");
    let mut memory = Vec::new();
    let mut daemons = Vec::new();
    {
        let mut errors = BTreeMap::new();
        let mut conns = Vec::new();
        for _ in 0..opts.sessions {
            match stack.connect() {
                Ok(mut c) => {
                    if let Err(e) = c.query("select 1 from dual") {
                        *errors.entry(oracle_code(&e)).or_insert(0) += 1;
                    }
                    conns.push(c);
                }
                Err(e) => *errors.entry(oracle_code(&e)).or_insert(0) += 1,
            }
        }
        settle(|| stack.dedicated_servers().len() >= conns.len());
        let rollups: Vec<Rollup> = stack
            .dedicated_servers()
            .into_iter()
            .filter_map(Rollup::of)
            .collect();
        memory.push(MemoryEntry {
            target: "orasim-dedicated".into(),
            what: "oracle<SID> (LOCAL=NO) dedicated server".into(),
            sessions_open: conns.len() as u32,
            per_session: MemorySummary::of(&rollups),
            errors,
        });
        for (name, pid) in [
            ("tnslsnr", stack.listener_pid()),
            ("tnslsnr spawner (zygote)", stack.spawner_pid()),
            ("oradb instance", stack.instance_pid()),
        ] {
            if let Some(pid) = pid {
                daemons.push(Daemon {
                    name: name.into(),
                    pid,
                    memory: Rollup::of(pid),
                });
            }
        }
        for c in conns {
            let _ = c.close();
        }
    }
    wait_drained(&stack);
    if let (Some(p), Some(t)) = (&peers, &pg) {
        let mut errors = BTreeMap::new();
        let mut conns = Vec::new();
        for _ in 0..opts.sessions {
            match PgConn::connect(t).and_then(|mut c| c.simple_query("select 1").map(|_| c)) {
                Ok(c) => conns.push(c),
                Err(e) => *errors.entry(e.code()).or_insert(0) += 1,
            }
        }
        let rollups: Vec<Rollup> = conns
            .iter()
            .filter_map(|c| c.backend_pid)
            .filter_map(|pid| u32::try_from(pid).ok())
            .filter_map(Rollup::of)
            .collect();
        memory.push(MemoryEntry {
            target: "postgresql".into(),
            what: "backend process".into(),
            sessions_open: conns.len() as u32,
            per_session: MemorySummary::of(&rollups),
            errors,
        });
        daemons.push(Daemon {
            name: "postgres postmaster".into(),
            pid: p.postmaster_pid,
            memory: Rollup::of(p.postmaster_pid),
        });
        for c in conns {
            let _ = c.close();
        }
    }
    if let (Some(p), Some(t)) = (&peers, &pgb) {
        let before = Rollup::of(p.pgbouncer_pid);
        let mut errors = BTreeMap::new();
        let mut conns = Vec::new();
        for _ in 0..opts.sessions {
            match PgConn::connect(t).and_then(|mut c| c.simple_query("select 1").map(|_| c)) {
                Ok(c) => conns.push(c),
                Err(e) => *errors.entry(e.code()).or_insert(0) += 1,
            }
        }
        let after = Rollup::of(p.pgbouncer_pid);
        let n = conns.len().max(1) as f64;
        let per_session = match (before, after) {
            (Some(b), Some(a)) => MemorySummary {
                processes: 1,
                mean: crate::procmem::MeanRollup {
                    rss_kib: a.rss_kib.saturating_sub(b.rss_kib) as f64 / n,
                    pss_kib: a.pss_kib.saturating_sub(b.pss_kib) as f64 / n,
                    pss_anon_kib: a.pss_anon_kib.saturating_sub(b.pss_anon_kib) as f64 / n,
                    private_kib: a.private_kib.saturating_sub(b.private_kib) as f64 / n,
                },
                min_pss_kib: 0,
                max_pss_kib: 0,
            },
            _ => MemorySummary::default(),
        };
        memory.push(MemoryEntry {
            target: "pgbouncer".into(),
            what: "pgbouncer growth per client (+1 backend each)".into(),
            sessions_open: conns.len() as u32,
            per_session,
            errors,
        });
        daemons.push(Daemon {
            name: "pgbouncer".into(),
            pid: p.pgbouncer_pid,
            memory: after,
        });
        for c in conns {
            let _ = c.close();
        }
    }

    // Connect storm.
    let mut storm = Vec::new();
    if opts.storm > 0 {
        progress("connect storm");
        storm.push(run_storm("orasim-dedicated", opts.storm, || {
            stack
                .connect()
                .map(|c| {
                    Box::new(move || {
                        let _ = c.close();
                    }) as Closer
                })
                .map_err(|e| oracle_code(&e))
        }));
        wait_drained(&stack);
        for (name, target) in [("postgresql", &pg), ("pgbouncer", &pgb)] {
            let Some(t) = target else { continue };
            storm.push(run_storm(name, opts.storm, || {
                PgConn::connect(t)
                    .map(|c| {
                        Box::new(move || {
                            let _ = c.close();
                        }) as Closer
                    })
                    .map_err(|e| e.code())
            }));
        }
    }

    drop(peers);
    drop(stack);
    machine.finish();
    Ok(Report {
        tool: "tnsbench",
        version: env!("CARGO_PKG_VERSION"),
        mode: opts.mode.as_str(),
        machine,
        parameters: Parameters {
            connects: opts.connects,
            round_trips: opts.round_trips,
            sessions: opts.sessions,
            storm_clients: opts.storm,
            processes: opts.processes,
            phase_limit_secs: opts.phase_limit.as_secs(),
        },
        orasim: OrasimInfo {
            sid,
            server_version,
            connect_cycle: "client::Connection::connect_with + close (LOGOFF), EZConnect",
        },
        peers: peers_status,
        connect,
        round_trip,
        round_trips_per_call: per_call,
        connect_round_trips,
        connect_anatomy: anatomy,
        memory,
        daemons,
        storm,
    })
}

/// Most relayed cycles the anatomy phase runs per target.
const ANATOMY_CYCLES: u32 = 30;

/// The round trips of an orasim connect cycle, in order (labels used when there are six).
const ORASIM_STEPS: &[&str] = &[
    "TNS CONNECT -> ACCEPT (listener, hand-off, fork)",
    "protocol negotiation",
    "data types negotiation",
    "O5LOGON phase 1 (AUTH_SESSKEY)",
    "O5LOGON phase 2 (AUTH_PASSWORD)",
    "LOGOFF",
];

/// The round trip of a PostgreSQL trust connect.
const PG_STEPS: &[&str] = &["startup -> AuthenticationOk .. ReadyForQuery"];

/// The round trips of a PostgreSQL SCRAM-SHA-256 connect.
const PG_SCRAM_STEPS: &[&str] = &[
    "startup -> AuthenticationSASL",
    "SASLInitialResponse -> SASLContinue (salt, i)",
    "SASLResponse (proof) -> SASLFinal .. ReadyForQuery",
];

/// Relays up to `cycles` connect cycles and reports the median time of each step.
fn anatomize(
    target: &str,
    cycles: u32,
    limit: Duration,
    upstream: u16,
    cycle: impl Fn(u16) -> Result<(), String>,
    labels: &[&str],
) -> Anatomy {
    let mut per_step: Vec<(Recorder, Recorder)> = Vec::new();
    let (mut measured, mut failed, mut other_shape) = (0, 0, 0);
    let deadline = Instant::now() + limit;
    for _ in 0..cycles {
        if Instant::now() >= deadline {
            break;
        }
        let Some(bursts) = relay_cycle(upstream, &cycle) else {
            failed += 1;
            continue;
        };
        let st = steps(&bursts);
        if per_step.is_empty() {
            per_step = st
                .iter()
                .map(|_| (Recorder::new(), Recorder::new()))
                .collect();
        }
        if st.len() != per_step.len() {
            other_shape += 1;
            continue;
        }
        for (rec, step) in per_step.iter_mut().zip(&st) {
            rec.0.record(step.client);
            rec.1.record(step.server);
        }
        measured += 1;
    }
    let named = labels.len() == per_step.len();
    Anatomy {
        target: target.into(),
        cycles_measured: measured,
        cycles_failed: failed,
        cycles_with_other_round_trips: other_shape,
        steps: per_step
            .iter()
            .enumerate()
            .map(|(i, (c, sv))| AnatomyStep {
                label: if named {
                    labels[i].to_string()
                } else {
                    format!("round trip {}", i + 1)
                },
                client_p50_us: c.summary().p50_us,
                server_p50_us: sv.summary().p50_us,
            })
            .collect(),
    }
}

/// Closes one storm connection.
type Closer = Box<dyn FnOnce() + Send>;

/// One storm client: when it started, when its connect returned, and how.
type Attempt = (Instant, Instant, Result<(), String>);

/// One orasim call measured on an open connection in the round-trip phase.
type OrasimCall = fn(&mut client::Connection) -> Result<(), String>;

/// Runs `op` up to `n` times or until `limit`, timing each call.
pub fn timed_loop(
    n: u32,
    limit: Duration,
    mut op: impl FnMut() -> Result<(), String>,
) -> crate::stats::LatencySummary {
    let mut r = Recorder::new();
    let deadline = Instant::now() + limit;
    for _ in 0..n {
        if Instant::now() >= deadline {
            r.stopped_by_time();
            break;
        }
        let t = Instant::now();
        match op() {
            Ok(()) => r.record(t.elapsed()),
            Err(code) => r.error(code),
        }
    }
    r.summary()
}

/// `clients` threads connect at once (released by a barrier), hold their session until all
/// have tried, then close.
fn run_storm(
    target: &str,
    clients: u32,
    connect: impl Fn() -> Result<Closer, String> + Sync,
) -> Storm {
    let start_line = Barrier::new(clients as usize);
    let finish_line = Barrier::new(clients as usize);
    let results: Mutex<Vec<Attempt>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..clients {
            s.spawn(|| {
                start_line.wait();
                let t0 = Instant::now();
                let r = connect();
                let t1 = Instant::now();
                let (closer, outcome) = match r {
                    Ok(c) => (Some(c), Ok(())),
                    Err(e) => (None, Err(e)),
                };
                if let Ok(mut v) = results.lock() {
                    v.push((t0, t1, outcome));
                }
                finish_line.wait();
                if let Some(c) = closer {
                    c();
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_default();
    let mut rec = Recorder::new();
    let first_start = results.iter().map(|r| r.0).min();
    let mut last_ok: Option<Instant> = None;
    let mut connected = 0;
    for (t0, t1, outcome) in &results {
        match outcome {
            Ok(()) => {
                connected += 1;
                rec.record(t1.duration_since(*t0));
                last_ok = Some(last_ok.map_or(*t1, |l| l.max(*t1)));
            }
            Err(code) => rec.error(code.clone()),
        }
    }
    let latency = rec.summary();
    Storm {
        target: target.into(),
        clients,
        connected,
        errors: latency.errors.clone(),
        all_connected_ms: match (first_start, last_ok) {
            (Some(a), Some(b)) if connected == clients => {
                Some(b.duration_since(a).as_secs_f64() * 1000.0)
            }
            _ => None,
        },
        latency,
    }
}

/// Polls `cond` every 20 ms for at most 5 s.
fn settle(mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !cond() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits (bounded) until no dedicated server of the stack is left, so that one phase's
/// exiting processes do not count against the next phase's PROCESSES.
fn wait_drained(stack: &OrasimStack) {
    let deadline = Instant::now() + DRAIN_WAIT;
    while !stack.dedicated_servers().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loops_stop_at_count_and_time() {
        let mut calls = 0;
        let s = timed_loop(5, Duration::from_secs(60), || {
            calls += 1;
            if calls == 3 {
                Err("ORA-00020".into())
            } else {
                Ok(())
            }
        });
        assert_eq!(calls, 5);
        assert_eq!(s.samples, 4);
        assert_eq!(s.errors.get("ORA-00020"), Some(&1));
        assert!(!s.stopped_by_time_limit);
        let s = timed_loop(1_000_000, Duration::from_millis(50), || {
            std::thread::sleep(Duration::from_millis(5));
            Ok(())
        });
        assert!(s.stopped_by_time_limit);
        assert!(s.samples < 1_000_000);
    }

    #[test]
    fn storm_counts_successes_and_errors() {
        let n = std::sync::atomic::AtomicU32::new(0);
        let st = run_storm("fake", 6, || {
            if n.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                .is_multiple_of(2)
            {
                Ok(Box::new(|| {}) as Closer)
            } else {
                Err("ORA-12516".into())
            }
        });
        assert_eq!(st.clients, 6);
        assert_eq!(st.connected, 3);
        assert_eq!(st.errors.get("ORA-12516"), Some(&3));
        // Not everyone got in, so there is no "all connected" time.
        assert_eq!(st.all_connected_ms, None);
    }

    #[test]
    fn unimplemented_modes_are_refused_before_starting_anything() {
        for mode in [Mode::Prespawned, Mode::Shared] {
            let opts = RunOptions {
                mode,
                connects: 1,
                round_trips: 1,
                sessions: 1,
                storm: 0,
                processes: 40,
                phase_limit: Duration::from_secs(1),
                bin_dir: PathBuf::from("/nonexistent"),
                peers_script: None,
                verbose: false,
            };
            let e = run(&opts).expect_err("not implemented");
            assert!(e.to_string().contains("not implemented yet"), "{e}");
        }
    }
}
