//! The phases, each a function of a [`Target`]: connect cycles (sequential, with HDR
//! percentiles of each cycle's wall time and of its wait, the part the client thread did
//! not spend on its own CPU, and concurrent, in cycles per second) with the server's CPU per connect,
//! steady calls from N concurrent sessions, idle sessions' memory, and the connect storm.
//!
//! Every loop is bounded by a count or a time window, and every session a phase opens is
//! closed before it returns.

use std::collections::BTreeMap;
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::interrupt::requested;
use crate::proctree::{
    TreeMemory, own_cpu, tcp_socket_memory_kib, thread_cpu, tree_cpu, tree_memory,
};
use crate::stats::{LatencySummary, Recorder};
use crate::target::{Session, Target};

/// Sequential connect cycles and the concurrency sweep of one target, with CPU.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectResult {
    /// Row name.
    pub target: String,
    /// Sequential cycles: connect + login + `select 1` + logoff. In a full run these are
    /// the cycles of [`interleaved_cycles`], every row's in turns; [`connect`] alone (the
    /// short comparison of `--quick`) times its own.
    pub sequential: LatencySummary,
    /// The same successful cycles' wait: wall time minus the CPU time the client thread
    /// spent in the cycle (its key derivation, encoding, system calls), i.e. the time it
    /// waited for the server and the network (and, on a busy machine, for a CPU). Apart
    /// because the clients' work differs: O5LOGON's PBKDF2 is over SHA-512, SCRAM's over
    /// SHA-256. Its errors are `sequential`'s.
    pub sequential_wait: LatencySummary,
    /// Cycles per second for 1, 2, 4, ... clients.
    pub concurrent: Vec<ConcurrencyPoint>,
    /// CPU over this row's own cycles: `n` sequential ones, then the sweep (in a full run
    /// not the interleaved cycles, whose server processes the orasim rows share).
    pub cpu: ConnectCpu,
}

/// One point of the concurrency sweep.
#[derive(Debug, Clone, Serialize)]
pub struct ConcurrencyPoint {
    /// Clients cycling at once.
    pub clients: u32,
    /// Completed cycles.
    pub cycles: u64,
    /// Failed cycles by code.
    pub errors: BTreeMap<String, u64>,
    /// Length of the window, s.
    pub seconds: f64,
    /// Completed cycles per second.
    pub cycles_per_second: f64,
}

/// CPU per connect cycle.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ConnectCpu {
    /// Cycles completed while measuring.
    pub cycles: u64,
    /// Server-side processes (user + system, including reaped children), ms.
    pub server_ms: f64,
    /// tnsbench itself (the clients: for O5LOGON and SCRAM, the key derivation), ms.
    pub client_ms: f64,
    /// `server_ms / cycles`, µs.
    pub server_us_per_cycle: Option<f64>,
    /// `client_ms / cycles`, µs.
    pub client_us_per_cycle: Option<f64>,
}

/// Steady calls from N sessions.
#[derive(Debug, Clone, Serialize)]
pub struct SteadyPoint {
    /// Concurrent sessions calling.
    pub clients: u32,
    /// Sessions that could not be opened, by code.
    pub open_errors: BTreeMap<String, u64>,
    /// Latency of each call (errors by code inside).
    pub latency: LatencySummary,
    /// Window, s.
    pub seconds: f64,
    /// Completed calls per second over all sessions.
    pub calls_per_second: f64,
}

/// Memory with N idle sessions open.
#[derive(Debug, Clone, Serialize)]
pub struct IdlePoint {
    /// Sessions asked for.
    pub sessions: u32,
    /// Sessions open when measured.
    pub open: u32,
    /// Failed opens by code.
    pub errors: BTreeMap<String, u64>,
    /// Seconds it took to open this level's new sessions.
    pub open_seconds: f64,
    /// The server's processes and their summed PSS/RSS.
    pub server: TreeMemory,
    /// `(server PSS − baseline PSS) / open`, KiB.
    pub pss_kib_per_session: Option<f64>,
    /// Growth of the kernel's TCP socket memory since the baseline (both ends: loopback), KiB.
    pub tcp_kib_growth: Option<i64>,
}

/// The idle-sessions phase of one target.
#[derive(Debug, Clone, Serialize)]
pub struct IdleResult {
    /// Row name.
    pub target: String,
    /// Server memory with no session of ours open.
    pub baseline: TreeMemory,
    /// One point per level.
    pub points: Vec<IdlePoint>,
    /// At the end every open session makes one call: how many answered.
    pub final_pings_ok: u64,
    /// ... and how many did not, by code.
    pub final_ping_errors: BTreeMap<String, u64>,
}

/// One storm.
#[derive(Debug, Clone, Serialize)]
pub struct StormResult {
    /// Row name.
    pub target: String,
    /// Clients started at once.
    pub clients: u32,
    /// Clients that connected and logged in.
    pub connected: u32,
    /// Errors by code.
    pub errors: BTreeMap<String, u64>,
    /// From the first client's start to the last successful login, ms (all connected).
    pub all_connected_ms: Option<f64>,
    /// Per-client connect latency.
    pub latency: LatencySummary,
}

/// Times one call of `op` on this thread into `wall` and `wait`: its wall time, and its
/// wait (wall time minus this thread's CPU time during the call); a failure is counted by
/// code in `wall` and timed in neither.
fn timed_call((wall, wait): &mut (Recorder, Recorder), op: impl FnOnce() -> Result<(), String>) {
    let (t, cpu) = (Instant::now(), thread_cpu());
    match op() {
        Ok(()) => {
            let (elapsed, spent) = (t.elapsed(), thread_cpu().saturating_sub(cpu));
            wall.record(elapsed);
            wait.record(elapsed.saturating_sub(spent));
        }
        Err(code) => wall.error(code),
    }
}

/// Runs `op` on this thread up to `n` times or until `limit`, timing each call: its wall
/// time, and its wait (wall time minus this thread's CPU time during the call).
pub fn timed_loop(
    n: u32,
    limit: Duration,
    mut op: impl FnMut() -> Result<(), String>,
) -> (LatencySummary, LatencySummary) {
    let mut rec = (Recorder::new(), Recorder::new());
    let deadline = Instant::now() + limit;
    for _ in 0..n {
        if requested() {
            break;
        }
        if Instant::now() >= deadline {
            rec.0.stopped_by_time();
            rec.1.stopped_by_time();
            break;
        }
        timed_call(&mut rec, &mut op);
    }
    (rec.0.summary(), rec.1.summary())
}

/// Timed cycles of one row in a turn of [`interleaved_cycles`].
pub const TURN_CYCLES: u32 = 10;

/// The pause before a turn of [`interleaved_cycles`], for the server process or backend the
/// last cycle of the row before ended to be gone.
const TURN_PAUSE: Duration = Duration::from_millis(10);

/// The sequential connect cycles of several targets taken in turns: in each round every
/// target takes a turn, in an order shuffled anew each round, until each has had `n` timed
/// cycles or `limit` for the whole pass ends. A turn is a pause of [`TURN_PAUSE`], one
/// untimed cycle, then up to [`TURN_CYCLES`] timed ones: so a timed cycle follows a cycle
/// of its own row, as in a loop of that row alone (whose server process or backend is
/// still going away while the next cycle runs), and not the exit of another row's heavier
/// server; while a change in the machine's state during the phase (another tenant of the
/// host, a background task of one of the servers) weighs on every row alike, so the ratios
/// between rows compare the servers rather than the minutes they were measured in. Wall
/// time and wait per target, as [`timed_loop`].
pub fn interleaved_cycles(
    targets: &[&dyn Target],
    n: u32,
    limit: Duration,
) -> Vec<(LatencySummary, LatencySummary)> {
    let mut rec: Vec<(Recorder, Recorder)> = targets
        .iter()
        .map(|_| (Recorder::new(), Recorder::new()))
        .collect();
    let mut order: Vec<usize> = (0..targets.len()).collect();
    let mut shuffle = Shuffle(0x9E37_79B9_7F4A_7C15);
    let deadline = Instant::now() + limit;
    let mut done = 0;
    'rounds: while done < n {
        let turn = TURN_CYCLES.min(n - done);
        shuffle.apply(&mut order);
        for &i in &order {
            std::thread::sleep(TURN_PAUSE);
            // The turn's first cycle is not timed: it follows another row's.
            let _ = targets[i].cycle();
            for _ in 0..turn {
                if requested() {
                    break 'rounds;
                }
                if Instant::now() >= deadline {
                    for (wall, wait) in &mut rec {
                        wall.stopped_by_time();
                        wait.stopped_by_time();
                    }
                    break 'rounds;
                }
                timed_call(&mut rec[i], || targets[i].cycle());
            }
        }
        done += turn;
    }
    rec.into_iter()
        .map(|(wall, wait)| (wall.summary(), wait.summary()))
        .collect()
}

/// The order of a round of [`interleaved_cycles`]: Fisher-Yates driven by xorshift64, fixed
/// seed, so that a run's order can be repeated and no dependency is needed for it.
struct Shuffle(u64);

impl Shuffle {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn apply(&mut self, order: &mut [usize]) {
        for i in (1..order.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
    }
}

/// `clients` threads each run `op` until `window` ends: completed count and errors.
fn for_window(
    clients: u32,
    window: Duration,
    op: impl Fn() -> Result<(), String> + Sync,
) -> (u64, BTreeMap<String, u64>, f64) {
    let done = Mutex::new((0u64, BTreeMap::new()));
    let start_line = Barrier::new(clients as usize);
    let started = Mutex::new(None::<Instant>);
    std::thread::scope(|s| {
        for _ in 0..clients {
            s.spawn(|| {
                start_line.wait();
                let t0 = Instant::now();
                if let Ok(mut st) = started.lock() {
                    st.get_or_insert(t0);
                }
                let end = t0 + window;
                let (mut ok, mut errs) = (0u64, BTreeMap::new());
                while Instant::now() < end && !requested() {
                    match op() {
                        Ok(()) => ok += 1,
                        Err(c) => *errs.entry(c).or_insert(0u64) += 1,
                    }
                }
                if let Ok(mut d) = done.lock() {
                    d.0 += ok;
                    for (k, v) in errs {
                        *d.1.entry(k).or_insert(0) += v;
                    }
                }
            });
        }
    });
    let elapsed = started
        .into_inner()
        .ok()
        .flatten()
        .map_or(window, |t| t.elapsed());
    let (n, errors) = done.into_inner().unwrap_or_default();
    (n, errors, elapsed.as_secs_f64())
}

/// Sequential cycles, then the concurrency sweep, with server and client CPU over both.
pub fn connect(
    t: &dyn Target,
    sequential: u32,
    sweep: &[u32],
    window: Duration,
    limit: Duration,
) -> ConnectResult {
    let roots = t.server_roots();
    let (server0, client0) = (tree_cpu(&roots), own_cpu());
    // A cycle runs entirely on this thread (the clients start no thread of their own), so
    // this thread's CPU time during a cycle is the client's CPU of that cycle.
    let (seq, seq_wait) = timed_loop(sequential, limit, || t.cycle());
    let mut cycles = seq.samples;
    let mut concurrent = Vec::new();
    for &clients in sweep {
        let (n, errors, seconds) = for_window(clients, window, || t.cycle());
        cycles += n;
        concurrent.push(ConcurrencyPoint {
            clients,
            cycles: n,
            errors,
            seconds,
            cycles_per_second: n as f64 / seconds.max(1e-9),
        });
    }
    let server_ms = tree_cpu(&roots).saturating_sub(server0).as_secs_f64() * 1000.0;
    let client_ms = own_cpu().saturating_sub(client0).as_secs_f64() * 1000.0;
    let per = |ms: f64| (cycles > 0).then(|| ms * 1000.0 / cycles as f64);
    ConnectResult {
        target: t.name().to_string(),
        sequential: seq,
        sequential_wait: seq_wait,
        concurrent,
        cpu: ConnectCpu {
            cycles,
            server_ms,
            client_ms,
            server_us_per_cycle: per(server_ms),
            client_us_per_cycle: per(client_ms),
        },
    }
}

/// Opens `n` sessions with `openers` threads; failures counted by code.
fn open_many(
    t: &dyn Target,
    n: u32,
    openers: u32,
) -> (Vec<Box<dyn Session>>, BTreeMap<String, u64>) {
    let left = std::sync::atomic::AtomicU32::new(n);
    let out = Mutex::new((Vec::new(), BTreeMap::new()));
    std::thread::scope(|s| {
        for _ in 0..openers.clamp(1, n.max(1)) {
            s.spawn(|| {
                while !requested()
                    && left
                        .fetch_update(
                            std::sync::atomic::Ordering::SeqCst,
                            std::sync::atomic::Ordering::SeqCst,
                            |v| v.checked_sub(1),
                        )
                        .is_ok()
                {
                    let r = t.open();
                    if let Ok(mut o) = out.lock() {
                        match r {
                            Ok(sess) => o.0.push(sess),
                            Err(c) => *o.1.entry(c).or_insert(0) += 1,
                        }
                    }
                }
            });
        }
    });
    out.into_inner().unwrap_or_default()
}

/// Closes sessions with a few threads.
pub fn close_all(sessions: Vec<Box<dyn Session>>) {
    let queue = Mutex::new(sessions);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                loop {
                    let next = queue.lock().ok().and_then(|mut q| q.pop());
                    let Some(sess) = next else { break };
                    let _ = sess.close();
                }
            });
        }
    });
}

/// `clients` sessions each call in a loop for `window`.
pub fn steady(t: &dyn Target, clients: u32, window: Duration) -> SteadyPoint {
    let (sessions, open_errors) = open_many(t, clients, 4);
    let n = sessions.len();
    let merged = Mutex::new(Recorder::new());
    let total = std::sync::atomic::AtomicU64::new(0);
    let start_line = Barrier::new(n.max(1));
    let t0 = Mutex::new(None::<Instant>);
    let mut returned = Vec::new();
    std::thread::scope(|s| {
        let handles: Vec<_> = sessions
            .into_iter()
            .map(|mut sess| {
                let (merged, total, start_line, t0) = (&merged, &total, &start_line, &t0);
                s.spawn(move || {
                    let mut r = Recorder::new();
                    start_line.wait();
                    let start = Instant::now();
                    if let Ok(mut g) = t0.lock() {
                        g.get_or_insert(start);
                    }
                    let end = start + window;
                    let mut ok = 0u64;
                    while Instant::now() < end && !requested() {
                        let c = Instant::now();
                        match sess.call() {
                            Ok(()) => {
                                r.record(c.elapsed());
                                ok += 1;
                            }
                            Err(code) => {
                                r.error(code);
                                break;
                            }
                        }
                    }
                    total.fetch_add(ok, std::sync::atomic::Ordering::SeqCst);
                    if let Ok(mut m) = merged.lock() {
                        m.merge(&r);
                    }
                    sess
                })
            })
            .collect();
        for h in handles {
            if let Ok(sess) = h.join() {
                returned.push(sess);
            }
        }
    });
    let seconds = t0
        .into_inner()
        .ok()
        .flatten()
        .map_or(window, |t| t.elapsed())
        .as_secs_f64();
    close_all(returned);
    let calls = total.into_inner();
    SteadyPoint {
        clients,
        open_errors,
        latency: merged.into_inner().unwrap_or_default().summary(),
        seconds,
        calls_per_second: if n == 0 {
            0.0
        } else {
            calls as f64 / seconds.max(1e-9)
        },
    }
}

/// Opens sessions up to each level (ascending), measuring the server's memory at each;
/// at the end every session makes one call, then all are closed.
pub fn idle(t: &dyn Target, levels: &[u32], openers: u32) -> IdleResult {
    let (mut result, mut open) = hold_idle(t, levels, openers);
    (result.final_pings_ok, result.final_ping_errors) = ping_all(&mut open);
    close_all(open);
    result
}

/// The first half of [`idle`]: opens sessions up to each level and measures the server's
/// memory at each, and returns the sessions still open (no final ping yet: the caller makes
/// it, with [`ping_all`], and closes them, with [`close_all`]).
pub fn hold_idle(
    t: &dyn Target,
    levels: &[u32],
    openers: u32,
) -> (IdleResult, Vec<Box<dyn Session>>) {
    let roots = t.server_roots();
    let baseline = tree_memory(&roots);
    let tcp0 = tcp_socket_memory_kib();
    let mut open: Vec<Box<dyn Session>> = Vec::new();
    let mut points = Vec::new();
    for &level in levels {
        if requested() {
            break;
        }
        let want = level.saturating_sub(open.len() as u32);
        let t0 = Instant::now();
        let (more, errors) = open_many(t, want, openers);
        let open_seconds = t0.elapsed().as_secs_f64();
        open.extend(more);
        // Let exiting helpers and lazily started threads settle.
        std::thread::sleep(Duration::from_millis(300));
        let server = tree_memory(&roots);
        let n = open.len() as u32;
        points.push(IdlePoint {
            sessions: level,
            open: n,
            errors,
            open_seconds,
            server,
            pss_kib_per_session: (n > 0)
                .then(|| (server.pss_kib as f64 - baseline.pss_kib as f64) / f64::from(n)),
            tcp_kib_growth: tcp_socket_memory_kib()
                .zip(tcp0)
                .map(|(a, b)| a as i64 - b as i64),
        });
        if n < level {
            // The server refuses more: higher levels would only repeat the refusals.
            break;
        }
    }
    let result = IdleResult {
        target: t.name().to_string(),
        baseline,
        points,
        final_pings_ok: 0,
        final_ping_errors: BTreeMap::new(),
    };
    (result, open)
}

/// One call on every session: how many answered, and the failures by code.
pub fn ping_all(sessions: &mut [Box<dyn Session>]) -> (u64, BTreeMap<String, u64>) {
    let (mut ok, mut errors) = (0u64, BTreeMap::new());
    for s in sessions.iter_mut().take_while(|_| !requested()) {
        match s.call() {
            Ok(()) => ok += 1,
            Err(c) => *errors.entry(c).or_insert(0) += 1,
        }
    }
    (ok, errors)
}

/// `clients` threads connect at once (released by a barrier), hold their session until all
/// have tried, then close.
pub fn storm(t: &dyn Target, clients: u32) -> StormResult {
    let start_line = Barrier::new(clients as usize);
    let finish_line = Barrier::new(clients as usize);
    type Attempt = (Instant, Instant, Result<(), String>);
    let results: Mutex<Vec<Attempt>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..clients {
            s.spawn(|| {
                start_line.wait();
                let t0 = Instant::now();
                let r = t.open();
                let t1 = Instant::now();
                let (sess, outcome) = match r {
                    Ok(c) => (Some(c), Ok(())),
                    Err(e) => (None, Err(e)),
                };
                if let Ok(mut v) = results.lock() {
                    v.push((t0, t1, outcome));
                }
                finish_line.wait();
                if let Some(c) = sess {
                    let _ = c.close();
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
    StormResult {
        target: t.name().to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// An in-memory target: every third open fails, calls always work.
    struct Fake {
        opens: AtomicU32,
    }

    struct FakeSession;

    impl Session for FakeSession {
        fn call(&mut self) -> Result<(), String> {
            Ok(())
        }
        fn close(self: Box<Self>) -> Result<(), String> {
            Ok(())
        }
    }

    impl Target for Fake {
        fn name(&self) -> &str {
            "fake"
        }
        fn open_at(&self, _: u16) -> Result<Box<dyn Session>, String> {
            if self.opens.fetch_add(1, Ordering::SeqCst) % 3 == 2 {
                Err("ORA-12520".into())
            } else {
                Ok(Box::new(FakeSession))
            }
        }
        fn port(&self) -> u16 {
            0
        }
        fn server_roots(&self) -> Vec<u32> {
            vec![std::process::id()]
        }
    }

    fn fake() -> Fake {
        Fake {
            opens: AtomicU32::new(0),
        }
    }

    #[test]
    fn loops_stop_at_count_and_time() {
        let mut calls = 0;
        let (s, _) = timed_loop(5, Duration::from_secs(60), || {
            calls += 1;
            if calls == 3 {
                Err("ORA-00020".into())
            } else {
                Ok(())
            }
        });
        assert_eq!((calls, s.samples), (5, 4));
        assert_eq!(s.errors.get("ORA-00020"), Some(&1));
        let (s, _) = timed_loop(1_000_000, Duration::from_millis(50), || {
            std::thread::sleep(Duration::from_millis(5));
            Ok(())
        });
        assert!(s.stopped_by_time_limit && s.samples < 1_000_000);
    }

    #[test]
    fn wait_is_wall_time_less_the_threads_own_cpu() {
        // Sleeping uses (almost) no CPU: the wait is (almost) the whole cycle.
        let (wall, wait) = timed_loop(3, Duration::from_secs(60), || {
            std::thread::sleep(Duration::from_millis(5));
            Ok(())
        });
        assert_eq!((wall.samples, wait.samples), (3, 3));
        assert!(wait.p50_us.is_some_and(|w| w >= 4_000), "{wait:?}");
        // Spinning until this thread has used 5 ms of CPU: the wait is the wall time less
        // at least those 5 ms, however busy the machine is.
        let (wall, wait) = timed_loop(3, Duration::from_secs(60), || {
            let start = thread_cpu();
            while thread_cpu().saturating_sub(start) < Duration::from_millis(5) {
                std::hint::spin_loop();
            }
            Ok(())
        });
        let (Some(wall_max), Some(wait_max)) = (wall.max_us, wait.max_us) else {
            panic!("no samples: {wall:?} {wait:?}");
        };
        assert!(wait_max + 4_900 <= wall_max, "{wall:?} {wait:?}");
        // Failed calls are timed in neither.
        let (wall, wait) = timed_loop(2, Duration::from_secs(60), || Err("ORA-12520".into()));
        assert_eq!((wall.samples, wait.samples), (0, 0));
        assert_eq!(wall.errors.get("ORA-12520"), Some(&2));
    }

    /// A target that notes each cycle's start in a log shared by several of them.
    struct Logged<'a> {
        id: usize,
        log: &'a Mutex<Vec<usize>>,
    }

    impl Target for Logged<'_> {
        fn name(&self) -> &str {
            "logged"
        }
        fn open_at(&self, _: u16) -> Result<Box<dyn Session>, String> {
            let mut log = self.log.lock().map_err(|_| "poisoned".to_string())?;
            log.push(self.id);
            // Target 1 fails every fourth open of its own.
            if self.id == 1 && log.iter().filter(|&&i| i == 1).count() % 4 == 0 {
                return Err("ORA-12519".into());
            }
            Ok(Box::new(FakeSession))
        }
        fn port(&self) -> u16 {
            0
        }
        fn server_roots(&self) -> Vec<u32> {
            vec![std::process::id()]
        }
    }

    #[test]
    fn interleaved_cycles_take_turns_in_changing_orders() {
        let log = Mutex::new(Vec::new());
        let rows: Vec<Logged> = (0..3).map(|id| Logged { id, log: &log }).collect();
        let refs: Vec<&dyn Target> = rows.iter().map(|r| r as &dyn Target).collect();
        let n = 4 * TURN_CYCLES;
        let out = interleaved_cycles(&refs, n, Duration::from_secs(60));
        assert_eq!(out.len(), 3);
        assert_eq!(out[0].0.samples, u64::from(n));
        assert_eq!(out[2].0.samples, u64::from(n));
        // Target 1 fails every fourth of its opens, the untimed first of each turn included:
        // 4 turns of 11 cycles, 11 failures, all but those in an untimed cycle counted.
        let failed_timed = (1..=44u32)
            .filter(|k| k % 4 == 0 && (k - 1) % 11 != 0)
            .count();
        assert_eq!(
            out[1].0.errors.get("ORA-12519").copied(),
            Some(failed_timed as u64)
        );
        assert_eq!(out[1].0.samples + failed_timed as u64, u64::from(n));
        assert_eq!(out[1].1.samples, out[1].0.samples);
        let log = log.lock().map(|l| l.clone()).unwrap_or_default();
        let turn = (TURN_CYCLES + 1) as usize;
        assert_eq!(log.len(), 3 * 4 * turn);
        let turns: Vec<&[usize]> = log.chunks(turn).collect();
        assert!(
            turns.iter().all(|t| t.iter().all(|&i| i == t[0])),
            "{log:?}"
        );
        let rounds: Vec<Vec<usize>> = turns
            .chunks(3)
            .map(|r| r.iter().map(|t| t[0]).collect())
            .collect();
        for r in &rounds {
            let mut sorted = r.clone();
            sorted.sort_unstable();
            assert_eq!(
                sorted,
                [0, 1, 2],
                "each round gives every target a turn: {rounds:?}"
            );
        }
        let orders: std::collections::BTreeSet<&Vec<usize>> = rounds.iter().collect();
        assert!(orders.len() > 1, "{rounds:?}");
        // A last, shorter turn when n is not a multiple of TURN_CYCLES.
        let out = interleaved_cycles(&refs[..1], TURN_CYCLES + 3, Duration::from_secs(60));
        assert_eq!(out[0].0.samples, u64::from(TURN_CYCLES + 3));
        // The time limit stops the whole pass and says so in every row.
        let out = interleaved_cycles(&refs, 20, Duration::ZERO);
        assert!(
            out.iter()
                .all(|(w, _)| w.samples == 0 && w.stopped_by_time_limit)
        );
    }

    #[test]
    fn connect_counts_cycles_errors_and_cpu() {
        let f = fake();
        let r = connect(
            &f,
            6,
            &[1, 2],
            Duration::from_millis(30),
            Duration::from_secs(5),
        );
        assert_eq!(r.sequential.samples, 4);
        assert_eq!(r.sequential.errors.get("ORA-12520"), Some(&2));
        assert_eq!(r.sequential_wait.samples, 4);
        assert_eq!(
            r.concurrent.iter().map(|p| p.clients).collect::<Vec<_>>(),
            [1, 2]
        );
        for p in &r.concurrent {
            assert!(p.cycles > 0 && p.cycles_per_second > 0.0, "{p:?}");
            assert!(p.errors.contains_key("ORA-12520"), "{p:?}");
        }
        let total: u64 = r.sequential.samples + r.concurrent.iter().map(|p| p.cycles).sum::<u64>();
        assert_eq!(r.cpu.cycles, total);
        assert!(r.cpu.server_us_per_cycle.is_some());
    }

    #[test]
    fn idle_levels_pings_and_refusals() {
        let f = fake();
        let r = idle(&f, &[3, 9], 2);
        // Every third open is refused: the first level is short, so the sweep stops there.
        assert_eq!(r.points.len(), 1, "{r:?}");
        assert_eq!(r.points[0].open, 2);
        assert_eq!(r.points[0].errors.get("ORA-12520"), Some(&1));
        assert_eq!(r.final_pings_ok, 2);
        assert!(r.baseline.processes >= 1);
    }

    #[test]
    fn steady_and_storm_count_what_happened() {
        let f = fake();
        let p = steady(&f, 3, Duration::from_millis(30));
        assert_eq!(p.open_errors.get("ORA-12520"), Some(&1));
        assert!(p.latency.samples > 0 && p.calls_per_second > 0.0, "{p:?}");
        let st = storm(&fake(), 6);
        assert_eq!((st.clients, st.connected), (6, 4));
        assert_eq!(st.errors.get("ORA-12520"), Some(&2));
        assert_eq!(st.all_connected_ms, None);
    }
}
