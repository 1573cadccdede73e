//! The result of a run: one serialisable [`Report`] (what `--json` prints) and its human
//! rendering as aligned tables. Every number carries what was measured and on what machine.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::machine::Machine;
use crate::peers::PeersInfo;
use crate::procmem::{MemorySummary, Rollup};
use crate::stats::LatencySummary;

/// Everything one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `tnsbench`.
    pub tool: &'static str,
    /// Crate version.
    pub version: &'static str,
    /// The orasim server mode measured (`dedicated`).
    pub mode: &'static str,
    /// The machine.
    pub machine: Machine,
    /// The knobs of the run.
    pub parameters: Parameters,
    /// The orasim stack that was measured.
    pub orasim: OrasimInfo,
    /// Whether PostgreSQL/PgBouncer took part.
    pub peers: PeersStatus,
    /// Connect + login + logoff cycles, sequential.
    pub connect: Vec<Measured>,
    /// Network round trips of one connect cycle (connect, login, logoff), counted by a
    /// relay on the wire (`null` when the counting cycle failed).
    pub connect_round_trips: BTreeMap<String, Option<u32>>,
    /// Each round trip of a connect cycle, timed on the wire.
    pub connect_anatomy: Vec<Anatomy>,
    /// Round trips on one open connection.
    pub round_trip: Vec<Measured>,
    /// Network round trips per call, counted by the orasim client.
    pub round_trips_per_call: BTreeMap<String, f64>,
    /// Memory per idle session.
    pub memory: Vec<MemoryEntry>,
    /// Long-lived processes for context (listener, spawner, instance, postmaster, pgbouncer).
    pub daemons: Vec<Daemon>,
    /// Concurrent connect storms.
    pub storm: Vec<Storm>,
}

/// The knobs of the run.
#[derive(Debug, Clone, Serialize)]
pub struct Parameters {
    /// Sequential connect cycles per target.
    pub connects: u32,
    /// Round trips per target.
    pub round_trips: u32,
    /// Concurrent idle sessions for the memory phase.
    pub sessions: u32,
    /// Concurrent clients of the storm.
    pub storm_clients: u32,
    /// PROCESSES of the orasim instance.
    pub processes: u32,
    /// Time limit of each phase loop, seconds.
    pub phase_limit_secs: u64,
}

/// The orasim side.
#[derive(Debug, Clone, Serialize, Default)]
pub struct OrasimInfo {
    /// Instance SID.
    pub sid: String,
    /// `AUTH_VERSION_NO` as the server reported it.
    pub server_version: String,
    /// What a connect cycle is.
    pub connect_cycle: &'static str,
}

/// Peers status.
#[derive(Debug, Clone, Serialize, Default)]
pub struct PeersStatus {
    /// `--peers` was given.
    pub requested: bool,
    /// Why they did not take part, if they did not.
    pub error: Option<String>,
    /// Versions and settings, when they ran.
    pub info: Option<PeersInfo>,
}

/// One target's latencies.
#[derive(Debug, Clone, Serialize)]
pub struct Measured {
    /// Short name (`raw-tcp`, `orasim-dedicated`, `postgresql`, `pgbouncer`).
    pub target: String,
    /// What one operation is.
    pub operation: String,
    /// The latencies.
    pub latency: LatencySummary,
}

/// The steps of one target's connect cycle.
#[derive(Debug, Clone, Serialize)]
pub struct Anatomy {
    /// Short name.
    pub target: String,
    /// Cycles whose steps were recorded.
    pub cycles_measured: u32,
    /// Cycles that failed.
    pub cycles_failed: u32,
    /// Cycles with a different number of round trips than the first (not recorded).
    pub cycles_with_other_round_trips: u32,
    /// The round trips, in order.
    pub steps: Vec<AnatomyStep>,
}

/// One round trip of a connect cycle (medians, microseconds).
#[derive(Debug, Clone, Serialize)]
pub struct AnatomyStep {
    /// What the round trip is.
    pub label: String,
    /// Client time before the request: from the previous answer's first byte (or the cycle's
    /// first byte) to this request's first byte.
    pub client_p50_us: Option<u64>,
    /// Server time: from the request's first byte to the answer's first byte.
    pub server_p50_us: Option<u64>,
}

/// Memory per session of one target.
#[derive(Debug, Clone, Serialize)]
pub struct MemoryEntry {
    /// Short name.
    pub target: String,
    /// What was measured.
    pub what: String,
    /// Sessions opened.
    pub sessions_open: u32,
    /// Per-process summary (for a delta entry: one "process" whose values are per session).
    pub per_session: MemorySummary,
    /// Errors while opening sessions, by code.
    pub errors: BTreeMap<String, u64>,
}

/// A long-lived process.
#[derive(Debug, Clone, Serialize)]
pub struct Daemon {
    /// Role.
    pub name: String,
    /// Pid.
    pub pid: u32,
    /// Its memory when measured (with the memory phase's sessions open).
    pub memory: Option<Rollup>,
}

/// One storm.
#[derive(Debug, Clone, Serialize)]
pub struct Storm {
    /// Short name.
    pub target: String,
    /// Clients started at once.
    pub clients: u32,
    /// Clients that connected and logged in.
    pub connected: u32,
    /// Errors by code.
    pub errors: BTreeMap<String, u64>,
    /// From the first client's start to the last successful login, ms.
    pub all_connected_ms: Option<f64>,
    /// Per-client connect latency.
    pub latency: LatencySummary,
}

fn ms(us: Option<u64>) -> String {
    us.map_or_else(|| "-".to_string(), |v| format!("{:.3}", v as f64 / 1000.0))
}

fn errors(e: &BTreeMap<String, u64>) -> String {
    if e.is_empty() {
        return "0".to_string();
    }
    e.iter()
        .map(|(k, v)| format!("{k} x{v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Report {
    /// The human rendering.
    pub fn to_table(&self) -> String {
        let mut s = String::new();
        let m = &self.machine;
        let load = |l: Option<[f64; 3]>| {
            l.map_or_else(
                || "?".to_string(),
                |l| format!("{:.2} {:.2} {:.2}", l[0], l[1], l[2]),
            )
        };
        let _ = writeln!(
            s,
            "tnsbench {} -- mode {}, {} build, {} cores ({}), Linux {}, THP {}",
            self.version,
            self.mode,
            m.build_profile,
            m.cores,
            m.cpu_model.as_deref().unwrap_or("?"),
            m.kernel.as_deref().unwrap_or("?"),
            m.transparent_hugepages.as_deref().unwrap_or("?"),
        );
        let _ = writeln!(
            s,
            "load average at start {} / at end {}{}",
            load(m.load_average_start),
            load(m.load_average_end),
            if m.busy_at_start == Some(true) {
                "  -- BUSY: other work shared the CPUs, latencies are inflated"
            } else {
                ""
            }
        );
        let _ = writeln!(
            s,
            "orasim {} (SID {}); peers: {}",
            self.orasim.server_version,
            self.orasim.sid,
            match (&self.peers.info, &self.peers.error) {
                (Some(i), _) => format!(
                    "{}, {} ({} pooling), auth {}",
                    i.postgresql_version, i.pgbouncer_version, i.pool_mode, i.auth
                ),
                (None, Some(e)) => format!("not started: {e}"),
                (None, None) => "not requested (--peers)".to_string(),
            }
        );
        let latency_table = |s: &mut String, title: &str, rows: &[Measured]| {
            let _ = writeln!(s, "\n{title}");
            let _ = writeln!(
                s,
                "  {:<18} {:<54} {:>7} {:>9} {:>9} {:>9} {:>9}  errors",
                "target", "operation", "n", "p50 ms", "p90 ms", "p99 ms", "max ms"
            );
            for r in rows {
                let l = &r.latency;
                let _ = writeln!(
                    s,
                    "  {:<18} {:<54} {:>7} {:>9} {:>9} {:>9} {:>9}  {}{}",
                    r.target,
                    r.operation,
                    l.samples,
                    ms(l.p50_us),
                    ms(l.p90_us),
                    ms(l.p99_us),
                    ms(l.max_us),
                    errors(&l.errors),
                    if l.stopped_by_time_limit {
                        " (stopped at time limit)"
                    } else {
                        ""
                    }
                );
            }
        };
        latency_table(
            &mut s,
            &format!(
                "connect cost: {} sequential cycles per target",
                self.parameters.connects
            ),
            &self.connect,
        );
        if !self.connect_round_trips.is_empty() {
            let _ = writeln!(
                s,
                "  network round trips per connect cycle (counted on the wire): {}",
                self.connect_round_trips
                    .iter()
                    .map(|(k, v)| format!(
                        "{k} = {}",
                        v.map_or_else(|| "?".to_string(), |n| n.to_string())
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        if !self.connect_anatomy.is_empty() {
            let _ = writeln!(
                s,
                "\nconnect anatomy: median per round trip over relayed cycles (the relay adds two loopback hops per step)"
            );
            for a in &self.connect_anatomy {
                let _ = writeln!(
                    s,
                    "  {} ({} cycles{})",
                    a.target,
                    a.cycles_measured,
                    if a.cycles_failed + a.cycles_with_other_round_trips > 0 {
                        format!(
                            ", {} failed, {} with other round trips",
                            a.cycles_failed, a.cycles_with_other_round_trips
                        )
                    } else {
                        String::new()
                    }
                );
                for (i, st) in a.steps.iter().enumerate() {
                    let _ = writeln!(
                        s,
                        "    {}. {:<50} client {:>8} ms   server {:>8} ms",
                        i + 1,
                        st.label,
                        ms(st.client_p50_us),
                        ms(st.server_p50_us)
                    );
                }
            }
        }
        latency_table(
            &mut s,
            &format!(
                "round trips on one connection: {} per target",
                self.parameters.round_trips
            ),
            &self.round_trip,
        );
        if !self.round_trips_per_call.is_empty() {
            let _ = writeln!(
                s,
                "  network round trips per call (orasim client count): {}",
                self.round_trips_per_call
                    .iter()
                    .map(|(k, v)| format!("{k} = {v:.2}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let _ = writeln!(
            s,
            "\nmemory per idle session: {} sessions open (smaps_rollup, KiB)",
            self.parameters.sessions
        );
        let _ = writeln!(
            s,
            "  {:<18} {:<54} {:>6} {:>9} {:>9} {:>9} {:>9}  errors",
            "target", "what", "procs", "PSS", "Pss_Anon", "private", "RSS"
        );
        for e in &self.memory {
            let p = &e.per_session;
            let _ = writeln!(
                s,
                "  {:<18} {:<54} {:>6} {:>9.0} {:>9.0} {:>9.0} {:>9.0}  {}",
                e.target,
                e.what,
                p.processes,
                p.mean.pss_kib,
                p.mean.pss_anon_kib,
                p.mean.private_kib,
                p.mean.rss_kib,
                errors(&e.errors)
            );
        }
        if !self.daemons.is_empty() {
            let _ = writeln!(s, "  daemons (with the sessions open):");
            for d in &self.daemons {
                if let Some(r) = d.memory {
                    let _ = writeln!(
                        s,
                        "    {:<28} pid {:<8} PSS {:>7} KiB  RSS {:>7} KiB",
                        d.name, d.pid, r.pss_kib, r.rss_kib
                    );
                }
            }
        }
        let _ = writeln!(
            s,
            "\nconnect storm: {} clients at once (orasim PROCESSES = {})",
            self.parameters.storm_clients, self.parameters.processes
        );
        for st in &self.storm {
            let _ = writeln!(
                s,
                "  {:<18} connected {:>4}/{:<4} all connected in {:>9} ms  p50 {} ms  p99 {} ms  errors: {}",
                st.target,
                st.connected,
                st.clients,
                st.all_connected_ms
                    .map_or_else(|| "-".to_string(), |v| format!("{v:.1}")),
                ms(st.latency.p50_us),
                ms(st.latency.p99_us),
                errors(&st.errors)
            );
        }
        s
    }
}
