//! `tnsbench --quick N`: the short comparison `orasim demo` ends with. One throw-away stack,
//! and for each of dedicated, shared and pooled: N sequential connect cycles (p50, and the
//! server's CPU per connect, from the same [`phases::connect`] as the full run), then N idle
//! sessions held open (the server's PSS per idle session, from [`phases::hold_idle`]). The
//! shared sessions stay open for the last act, `oradb kill-session` on one of them, after
//! which every held session is called once: the victim gets ORA-00028, the others answer.
//!
//! It is a smaller run of the same measurements, not other ones, so its figures agree with
//! the full report's within the noise of a few hundred samples; it measures the build it is
//! part of (a debug build's figures are several times a release build's).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::machine::Machine;
use crate::phases::{self, close_all, ping_all};
use crate::proctree;
use crate::report::{Style, table};
use crate::run::{Mode, OPENERS, orasim_target, wait_drained};
use crate::stack::{OrasimStack, StackOptions};
use crate::target::{CLIENT_TIMEOUT, Session, Target};

/// The rows of the quick comparison, in measuring order: shared last, because its sessions
/// stay open for the kill.
const MODES: [Mode; 3] = [Mode::Dedicated, Mode::Pooled, Mode::Shared];
/// MAXSIZE of the pool: sequential connects need few pooled servers.
const POOL_MAXSIZE: u32 = 10;
/// Time limit of each mode's connect loop.
const CONNECT_LIMIT: Duration = Duration::from_secs(30);

/// What to run.
#[derive(Debug, Clone)]
pub struct QuickOptions {
    /// Sessions per mode (connect cycles, then idle sessions held at once).
    pub sessions: u32,
    /// Where `tnslsnr`, `lsnrctl` and `oradb` are.
    pub bin_dir: PathBuf,
}

/// One mode's row.
#[derive(Debug, Clone, Serialize)]
pub struct QuickRow {
    /// `dedicated`, `shared` or `pooled`.
    pub mode: &'static str,
    /// Connect cycles that completed.
    pub cycles: u64,
    /// Median connect cycle (connect + login + `select 1` + logoff), ms.
    pub connect_p50_ms: Option<f64>,
    /// Server CPU (every process of the stack) per connect cycle, ms.
    pub server_cpu_ms_per_connect: Option<f64>,
    /// Idle sessions open when the memory was read.
    pub idle_open: u32,
    /// The stack's PSS growth over its baseline, per idle session, KiB.
    pub pss_kib_per_idle_session: Option<f64>,
    /// Processes the stack gained for the idle sessions (a dedicated server each; shared
    /// and pooled sessions none).
    pub processes_added: i64,
    /// Failed cycles and opens, by code.
    pub errors: BTreeMap<String, u64>,
}

/// The kill of one held shared session.
#[derive(Debug, Clone, Serialize)]
pub struct KillResult {
    /// The command as typed (`oradb kill-session SID,SERIAL# --sid SID`).
    pub command: String,
    /// What it printed.
    pub output: String,
    /// The victim's SID and SERIAL#.
    pub victim: (u32, u32),
    /// The victim's next call: `None` if it answered, else the error code.
    pub victim_call: Option<String>,
    /// The other held sessions that answered their next call.
    pub others_answered: u64,
    /// ... and those that did not, by code.
    pub others_failed: BTreeMap<String, u64>,
}

/// The whole comparison.
#[derive(Debug, Clone, Serialize)]
pub struct QuickReport {
    /// Sessions per mode.
    pub sessions: u32,
    /// The machine and its load.
    pub machine: Machine,
    /// Dedicated, shared, pooled.
    pub rows: Vec<QuickRow>,
    /// The kill-session act.
    pub kill: KillResult,
    /// Seconds from start to end (stack start and stop included).
    pub seconds: f64,
}

/// Starts a stack sized for `sessions` per mode, measures the three modes and kills one
/// shared session; everything started is stopped again, also on failure.
pub fn run(opts: &QuickOptions) -> Result<QuickReport> {
    let started = Instant::now();
    let mut machine = Machine::at_start();
    let n = opts.sessions.max(1);
    let stack = OrasimStack::start(StackOptions {
        bin_dir: opts.bin_dir.clone(),
        // One process per dedicated session, the background ones and the pooled servers.
        processes: n + POOL_MAXSIZE + 50,
        sessions: 2 * n + POOL_MAXSIZE + 100,
        // The listener counts its hand-offs to a dispatcher until lreg's next report: the
        // connect cycles and then the idle sessions, all within one report interval.
        dispatchers: (1, 2 * n + 100),
        shared_servers: 2,
        prespawn: 0,
        call_timeout: CLIENT_TIMEOUT,
    })?;
    let roots = stack.roots();
    let baseline_procs = proctree::tree(&roots).len();
    let mut rows = Vec::new();
    let mut held = Vec::new();
    for mode in MODES {
        crate::interrupt::check()?;
        if mode == Mode::Pooled {
            stack
                .start_pool(POOL_MAXSIZE)
                .map_err(|why| anyhow::anyhow!("starting the DRCP pool: {why}"))?;
        }
        let target = orasim_target(&stack, mode);
        // Only dedicated servers exit when their sessions end (pooled servers stay in the
        // pool): wait for them, so that the memory baseline holds none of the cycles'
        // servers and their CPU is not counted in the next mode's connects.
        let drained = || {
            if mode == Mode::Dedicated {
                wait_drained(&roots, baseline_procs);
            }
        };
        let (row, sessions) = measure(&target, mode, n, drained);
        rows.push(row);
        if mode == Mode::Shared {
            held = sessions;
        } else {
            close_all(sessions);
            drained();
        }
    }
    if let Err(e) = crate::interrupt::check() {
        close_all(held);
        return Err(e.into());
    }
    let kill = kill_one(&stack, &mut held);
    close_all(held);
    let kill = kill?;
    let shown = [Mode::Dedicated, Mode::Shared, Mode::Pooled].map(Mode::as_str);
    rows.sort_by_key(|r| shown.iter().position(|m| *m == r.mode));
    drop(stack);
    machine.finish();
    Ok(QuickReport {
        sessions: n,
        machine,
        rows,
        kill,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// `n` connect cycles, then (once `drained` says the cycles' servers are gone, so that the
/// memory baseline holds none of them) `n` idle sessions held open; returns the row and the
/// sessions.
fn measure(
    t: &dyn Target,
    mode: Mode,
    n: u32,
    drained: impl Fn(),
) -> (QuickRow, Vec<Box<dyn Session>>) {
    let c = phases::connect(t, n, &[], Duration::ZERO, CONNECT_LIMIT);
    drained();
    let (idle, sessions) = phases::hold_idle(t, &[n], OPENERS);
    let point = idle.points.first();
    let mut errors = c.sequential.errors.clone();
    for (k, v) in point.iter().flat_map(|p| &p.errors) {
        *errors.entry(k.clone()).or_insert(0) += v;
    }
    let row = QuickRow {
        mode: mode.as_str(),
        cycles: c.sequential.samples,
        connect_p50_ms: c.sequential.p50_us.map(|us| us as f64 / 1000.0),
        server_cpu_ms_per_connect: c.cpu.server_us_per_cycle.map(|us| us / 1000.0),
        idle_open: point.map_or(0, |p| p.open),
        pss_kib_per_idle_session: point.and_then(|p| p.pss_kib_per_session),
        processes_added: point.map_or(0, |p| {
            p.server.processes as i64 - idle.baseline.processes as i64
        }),
        errors,
    };
    (row, sessions)
}

/// `oradb kill-session` on the first held session, then one call on every held session.
fn kill_one(stack: &OrasimStack, held: &mut [Box<dyn Session>]) -> Result<KillResult> {
    let Some((victim, others)) = held.split_first_mut() else {
        bail!("no shared session is open to kill");
    };
    let (sid, serial) = victim
        .oracle_session()
        .context("the shared session does not know its SID")?;
    let target = format!("{sid},{serial}");
    let out = stack.oradb(&["kill-session", &target])?;
    let output =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        bail!("oradb kill-session {target} failed: {}", output.trim());
    }
    let victim_call = victim.call().err();
    let (others_answered, others_failed) = ping_all(others);
    Ok(KillResult {
        command: format!("oradb kill-session {target} --sid {}", stack.sid),
        output,
        victim: (sid, serial),
        victim_call,
        others_answered,
        others_failed,
    })
}

impl QuickReport {
    /// The small table and the kill, as `orasim demo` shows them.
    pub fn to_table(&self) -> String {
        use std::fmt::Write;
        let m = &self.machine;
        let load = m
            .load_average_start
            .map_or_else(|| "?".into(), |l| format!("{:.2}", l[0]));
        let f2 = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.2}"));
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                vec![
                    r.mode.to_string(),
                    f2(r.connect_p50_ms),
                    f2(r.server_cpu_ms_per_connect),
                    r.idle_open.to_string(),
                    r.pss_kib_per_idle_session
                        .map_or("-".into(), |v| format!("{v:.1}")),
                    r.processes_added.to_string(),
                    crate::report::errors_cell(&r.errors),
                ]
            })
            .collect();
        let mut s = String::new();
        table(
            &mut s,
            Style::Text,
            &format!(
                "dedicated vs shared vs pooled, {} sessions each ({} build, {} cores, load average {load})",
                self.sessions, m.build_profile, m.cores
            ),
            &[
                "mode",
                "connect p50 ms",
                "server CPU ms/connect",
                "idle sessions",
                "PSS KiB/idle session",
                "processes added",
                "errors",
            ],
            &rows,
        );
        let k = &self.kill;
        let _ = writeln!(
            s,
            "\nOne of the {} idle shared sessions, killed as a DBA would:\n$ {}\n{}",
            self.sessions,
            k.command,
            k.output.trim_end()
        );
        let _ = writeln!(
            s,
            "session {},{} next call: {}",
            k.victim.0,
            k.victim.1,
            k.victim_call
                .as_deref()
                .map_or_else(|| "answered (not killed)".to_string(), error_line)
        );
        let _ = writeln!(
            s,
            "the other {} sessions: {} answered{}",
            k.others_answered + k.others_failed.values().sum::<u64>(),
            k.others_answered,
            if k.others_failed.is_empty() {
                String::new()
            } else {
                format!(", failed: {}", crate::report::errors_cell(&k.others_failed))
            }
        );
        let _ = writeln!(s, "({:.1} s in all)", self.seconds);
        s
    }
}

/// `ORA-00028` → Oracle's line for it; other codes as they are.
fn error_line(code: &str) -> String {
    code.strip_prefix("ORA-")
        .and_then(|n| n.parse().ok())
        .map_or_else(|| code.to_string(), tns::error_text::ora_line)
}
