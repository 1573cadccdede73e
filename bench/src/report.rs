//! The result of a run: one serialisable [`Report`] (what `--json` prints), its human
//! rendering as aligned tables, and the Markdown report `--report DIR` writes beside its
//! plots. Every number carries what was measured and on what machine; every ratio is
//! computed here from the measured rows ([`Report::ratios`]), never typed in.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::floor::FloorScript;
use crate::machine::Machine;
use crate::peers::PeersInfo;
use crate::phases::{ConnectResult, IdleResult, SteadyPoint, StormResult};
use crate::run::InstanceKnobs;
use crate::stats::LatencySummary;

/// Everything one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `tnsbench`.
    pub tool: &'static str,
    /// Crate version.
    pub version: &'static str,
    /// The command line that produced it.
    pub command: String,
    /// The machine.
    pub machine: Machine,
    /// The knobs of the run.
    pub parameters: Parameters,
    /// The orasim stack that was measured.
    pub orasim: OrasimInfo,
    /// Whether PostgreSQL/PgBouncer took part.
    pub peers: PeersStatus,
    /// What the floor replays (captured from an orasim dedicated cycle).
    pub floor_script: Option<FloorScript>,
    /// The rows measured, in order.
    pub targets: Vec<String>,
    /// Pids of the long-lived processes of the run (floor, listeners, instance), for anyone
    /// checking that they are gone afterwards.
    pub processes: BTreeMap<String, u32>,
    /// Modes asked for that this build or machine could not run, with the reason.
    pub skipped: BTreeMap<String, String>,
    /// Network round trips of one connect cycle per target, counted on the wire.
    pub round_trips: BTreeMap<String, Option<u32>>,
    /// Connect cycles: sequential, concurrent, CPU.
    pub connect: Vec<ConnectResult>,
    /// The same cycle through python-oracledb (cross-check with a real driver).
    pub python: Vec<PythonRow>,
    /// Steady calls.
    pub steady: Vec<SteadyResult>,
    /// Idle sessions and memory.
    pub idle: Vec<IdleResult>,
    /// Connect storms.
    pub storm: Vec<StormResult>,
    /// Ratios computed from the rows above.
    pub ratios: Vec<Ratios>,
}

/// The knobs of the run.
#[derive(Debug, Clone, Serialize)]
pub struct Parameters {
    /// Sequential connect cycles per target.
    pub connects: u32,
    /// Client counts of the concurrent connect sweep.
    pub connect_clients: Vec<u32>,
    /// Window of each concurrent and steady point, s.
    pub window_secs: f64,
    /// Client counts of the steady phase.
    pub steady_clients: Vec<u32>,
    /// Idle-session levels of shared (and PgBouncer transaction pooling).
    pub idle_levels_multiplexed: Vec<u32>,
    /// Idle-session levels of process-per-session targets.
    pub idle_levels_dedicated: Vec<u32>,
    /// Clients of the storm.
    pub storm_clients: u32,
    /// The orasim instance's knobs (flattened: the JSON keeps its field names).
    #[serde(flatten)]
    pub instance: InstanceKnobs,
}

/// The orasim side.
#[derive(Debug, Clone, Serialize, Default)]
pub struct OrasimInfo {
    /// Instance SID.
    pub sid: String,
    /// `AUTH_VERSION_NO` as the server reported it.
    pub server_version: String,
}

/// Peers status.
#[derive(Debug, Clone, Serialize, Default)]
pub struct PeersStatus {
    /// Peers were asked for.
    pub requested: bool,
    /// Why they did not take part, if they did not.
    pub error: Option<String>,
    /// Versions and settings, when they ran.
    pub info: Option<PeersInfo>,
}

/// python-oracledb connect cycles.
#[derive(Debug, Clone, Serialize)]
pub struct PythonRow {
    /// The orasim row it cross-checks.
    pub target: String,
    /// python-oracledb version.
    pub driver: String,
    /// connect + `select 1 from dual` + close, timed in Python.
    pub latency: LatencySummary,
}

/// Steady calls of one target.
#[derive(Debug, Clone, Serialize)]
pub struct SteadyResult {
    /// Row name.
    pub target: String,
    /// One point per client count.
    pub points: Vec<SteadyPoint>,
}

/// One row's figures against the floor and against PostgreSQL with SCRAM.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Ratios {
    /// Row name.
    pub target: String,
    /// Sequential connect cycle p50 / the floor's.
    pub connect_p50_vs_floor: Option<f64>,
    /// Server CPU per connect / the floor's.
    pub server_cpu_vs_floor: Option<f64>,
    /// Steady-call p50 with one client / the floor's.
    pub call_p50_vs_floor: Option<f64>,
    /// Steady calls per second / the floor's, per client count.
    pub throughput_vs_floor: BTreeMap<u32, f64>,
    /// Sequential connect cycle p50 / PostgreSQL SCRAM's.
    pub connect_p50_vs_pg_scram: Option<f64>,
    /// Sequential connect cycle wait p50 / PostgreSQL SCRAM's: the cycles without the
    /// clients' own CPU (O5LOGON's PBKDF2 over SHA-512 costs more than SCRAM's over SHA-256).
    pub wait_p50_vs_pg_scram: Option<f64>,
    /// Server CPU per connect / PostgreSQL SCRAM's.
    pub server_cpu_vs_pg_scram: Option<f64>,
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

impl Report {
    fn connect_of(&self, target: &str) -> Option<&ConnectResult> {
        self.connect.iter().find(|c| c.target == target)
    }

    fn steady_of(&self, target: &str) -> Option<&SteadyResult> {
        self.steady.iter().find(|c| c.target == target)
    }

    /// The ratios of every row but the floor, from the measured rows.
    pub fn compute_ratios(&self) -> Vec<Ratios> {
        let p50 = |t: &str| {
            self.connect_of(t)
                .and_then(|c| c.sequential.p50_us)
                .map(|v| v as f64)
        };
        let wait_p50 = |t: &str| {
            self.connect_of(t)
                .and_then(|c| c.sequential_wait.p50_us)
                .map(|v| v as f64)
        };
        let cpu = |t: &str| self.connect_of(t).and_then(|c| c.cpu.server_us_per_cycle);
        let call_p50 = |t: &str| {
            self.steady_of(t)
                .and_then(|s| s.points.iter().find(|p| p.clients == 1))
                .and_then(|p| p.latency.p50_us)
                .map(|v| v as f64)
        };
        let floor_tput: BTreeMap<u32, f64> = self
            .steady_of("floor")
            .map(|s| {
                s.points
                    .iter()
                    .map(|p| (p.clients, p.calls_per_second))
                    .collect()
            })
            .unwrap_or_default();
        self.targets
            .iter()
            .filter(|t| *t != "floor")
            .map(|t| Ratios {
                target: t.clone(),
                connect_p50_vs_floor: ratio(p50(t), p50("floor")),
                server_cpu_vs_floor: ratio(cpu(t), cpu("floor")),
                call_p50_vs_floor: ratio(call_p50(t), call_p50("floor")),
                throughput_vs_floor: self
                    .steady_of(t)
                    .map(|s| {
                        s.points
                            .iter()
                            .filter_map(|p| {
                                let f = floor_tput.get(&p.clients)?;
                                ratio(Some(p.calls_per_second), Some(*f)).map(|r| (p.clients, r))
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                connect_p50_vs_pg_scram: ratio(p50(t), p50("postgresql-scram")),
                wait_p50_vs_pg_scram: ratio(wait_p50(t), wait_p50("postgresql-scram")),
                server_cpu_vs_pg_scram: ratio(cpu(t), cpu("postgresql-scram")),
            })
            .collect()
    }

    /// The machine line every rendering starts with.
    pub fn machine_line(&self) -> String {
        let m = &self.machine;
        let load = |l: Option<[f64; 3]>| {
            l.map_or_else(
                || "?".to_string(),
                |l| format!("{:.2} {:.2} {:.2}", l[0], l[1], l[2]),
            )
        };
        format!(
            "{} cores ({}), {} GiB, Linux {}, THP {}, {} build; load average {} at start, {} at end{}; client PBKDF2 x{} (median thread CPU here): HMAC-SHA512 (O5LOGON) {:.2} ms, HMAC-SHA256 (SCRAM) {:.2} ms",
            m.cores,
            m.cpu_model.as_deref().unwrap_or("?"),
            m.mem_total_kib.map_or(0, |k| k / 1024 / 1024),
            m.kernel.as_deref().unwrap_or("?"),
            m.transparent_hugepages.as_deref().unwrap_or("?"),
            m.build_profile,
            load(m.load_average_start),
            load(m.load_average_end),
            if m.busy_at_start == Some(true) {
                " (BUSY at start: other work shared the CPUs)"
            } else {
                ""
            },
            m.client_kdf.iterations,
            m.client_kdf.pbkdf2_sha512_ms,
            m.client_kdf.pbkdf2_sha256_ms,
        )
    }

    /// The human rendering (stdout).
    pub fn to_table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "tnsbench {} -- {}", self.version, self.machine_line());
        let _ = writeln!(
            s,
            "orasim {} (SID {}); peers: {}",
            self.orasim.server_version,
            self.orasim.sid,
            self.peers_line()
        );
        for (m, why) in &self.skipped {
            let _ = writeln!(s, "not measured: {m}: {why}");
        }
        s.push_str(&self.sections(Style::Text));
        s
    }

    fn peers_line(&self) -> String {
        match (&self.peers.info, &self.peers.error) {
            (Some(i), _) => format!(
                "{}, {} (session and transaction pooling), auth {}",
                i.postgresql_version, i.pgbouncer_version, i.auth
            ),
            (None, Some(e)) => format!("not started: {e}"),
            (None, None) => "not requested".to_string(),
        }
    }

    /// The Markdown report (`report.md`), with its plots beside it.
    pub fn to_markdown(&self, plots: &[(&str, &str)]) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# tnsbench report\n");
        let _ = writeln!(s, "- command: `{}`", self.command);
        let _ = writeln!(s, "- machine: {}", self.machine_line());
        let _ = writeln!(
            s,
            "- orasim {} (SID {}); peers: {}",
            self.orasim.server_version,
            self.orasim.sid,
            self.peers_line()
        );
        for (m, why) in &self.skipped {
            let _ = writeln!(s, "- not measured: {m}: {why}");
        }
        if let Some(f) = &self.floor_script {
            let _ = writeln!(
                s,
                "- floor: a separate process replaying {} login round trips, the call and the logoff with the byte counts of an orasim cycle (`{}`)",
                f.login.len(),
                f.encode()
            );
        }
        if !self.connect.is_empty() {
            let k = &self.machine.client_kdf;
            let _ = writeln!(
                s,
                "- wait: each sequential cycle's wall time less the CPU time tnsbench's client thread spent in it (`CLOCK_THREAD_CPUTIME_ID`), i.e. the time the client waited for the server and the network (and for a CPU when the machine is busy). It is shown because the clients do unequal work: O5LOGON's PBKDF2-HMAC-SHA512 x{} takes {:.2} ms here and SCRAM's PBKDF2-HMAC-SHA256 x{} {:.2} ms, so `connect p50 / PG SCRAM` partly compares client crypto and `wait p50 / PG SCRAM` compares the servers with that difference taken out.",
                k.iterations, k.pbkdf2_sha512_ms, k.iterations, k.pbkdf2_sha256_ms
            );
        }
        s.push('\n');
        for (file, title) in plots {
            let _ = writeln!(s, "![{title}]({file})\n");
        }
        s.push_str(&self.sections(Style::Markdown));
        s
    }

    fn sections(&self, st: Style) -> String {
        let mut s = String::new();
        let ms = |us: Option<u64>| us.map_or("-".into(), |v| format!("{:.3}", v as f64 / 1000.0));
        let f1 = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.1}"));
        let f2 = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.2}"));
        let errs = errors_cell;
        // Connect cycles.
        let mut rows = Vec::new();
        for c in &self.connect {
            let l = &c.sequential;
            let w = &c.sequential_wait;
            rows.push(vec![
                c.target.clone(),
                self.round_trips
                    .get(&c.target)
                    .copied()
                    .flatten()
                    .map_or("-".into(), |n| n.to_string()),
                l.samples.to_string(),
                ms(l.p50_us),
                ms(l.p90_us),
                ms(l.p99_us),
                ms(w.p50_us),
                ms(w.p99_us),
                f1(c.cpu.server_us_per_cycle),
                f1(c.cpu.client_us_per_cycle),
                errs(&l.errors),
            ]);
        }
        for p in &self.python {
            let l = &p.latency;
            rows.push(vec![
                format!("python-oracledb {} -> {}", p.driver, p.target),
                "-".into(),
                l.samples.to_string(),
                ms(l.p50_us),
                ms(l.p90_us),
                ms(l.p99_us),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                errs(&l.errors),
            ]);
        }
        table(
            &mut s,
            st,
            &format!(
                "connect cycles: connect + login + select 1 + logoff, {} sequential per target, the targets taking turns of {} (shuffled each round)",
                self.parameters.connects,
                crate::phases::TURN_CYCLES
            ),
            &[
                "target",
                "round trips",
                "n",
                "p50 ms",
                "p90 ms",
                "p99 ms",
                "wait p50 ms",
                "wait p99 ms",
                "server CPU µs/connect",
                "client CPU µs/connect",
                "errors",
            ],
            &rows,
        );
        // Concurrency sweep.
        let clients = &self.parameters.connect_clients;
        let mut head = vec!["target".to_string()];
        head.extend(clients.iter().map(|c| format!("{c} clients")));
        head.push("errors".into());
        let rows: Vec<Vec<String>> = self
            .connect
            .iter()
            .map(|c| {
                let mut r = vec![c.target.clone()];
                let mut all = BTreeMap::new();
                for n in clients {
                    let p = c.concurrent.iter().find(|p| p.clients == *n);
                    r.push(p.map_or("-".into(), |p| format!("{:.0}", p.cycles_per_second)));
                    for (k, v) in p.map(|p| p.errors.clone()).unwrap_or_default() {
                        *all.entry(k).or_insert(0) += v;
                    }
                }
                r.push(errs(&all));
                r
            })
            .collect();
        let head_refs: Vec<&str> = head.iter().map(String::as_str).collect();
        table(
            &mut s,
            st,
            &format!(
                "concurrent connect cycles per second ({:.1} s per point)",
                self.parameters.window_secs
            ),
            &head_refs,
            &rows,
        );
        // Steady calls.
        let clients = &self.parameters.steady_clients;
        let mut head = vec!["target".to_string()];
        for c in clients {
            head.push(format!("{c}: calls/s"));
            head.push(format!("{c}: p99 ms"));
        }
        head.push("errors".into());
        let rows: Vec<Vec<String>> = self
            .steady
            .iter()
            .map(|t| {
                let mut r = vec![t.target.clone()];
                let mut all = BTreeMap::new();
                for n in clients {
                    let p = t.points.iter().find(|p| p.clients == *n);
                    r.push(p.map_or("-".into(), |p| format!("{:.0}", p.calls_per_second)));
                    r.push(p.map_or("-".into(), |p| ms(p.latency.p99_us)));
                    if let Some(p) = p {
                        for (k, v) in p.latency.errors.iter().chain(&p.open_errors) {
                            *all.entry(k.clone()).or_insert(0) += v;
                        }
                    }
                }
                r.push(errs(&all));
                r
            })
            .collect();
        let head_refs: Vec<&str> = head.iter().map(String::as_str).collect();
        table(
            &mut s,
            st,
            &format!(
                "steady calls: N sessions each calling select 1 for {:.1} s",
                self.parameters.window_secs
            ),
            &head_refs,
            &rows,
        );
        // Idle sessions.
        let mut rows = Vec::new();
        for t in &self.idle {
            for p in &t.points {
                rows.push(vec![
                    t.target.clone(),
                    p.sessions.to_string(),
                    p.open.to_string(),
                    p.server.processes.to_string(),
                    format!("{:.1}", p.server.pss_kib as f64 / 1024.0),
                    f1(p.pss_kib_per_session),
                    p.tcp_kib_growth
                        .map_or("-".into(), |k| format!("{:.1}", k as f64 / 1024.0)),
                    format!("{:.1}", p.open_seconds),
                    errs(&p.errors),
                ]);
            }
            rows.push(vec![
                t.target.clone(),
                "final ping".into(),
                format!("{} answered", t.final_pings_ok),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                errs(&t.final_ping_errors),
            ]);
        }
        table(
            &mut s,
            st,
            "idle sessions: whole-server memory (sum of PSS of every server process) and kernel TCP memory",
            &[
                "target",
                "sessions",
                "open",
                "server procs",
                "server PSS MiB",
                "PSS KiB/session",
                "kernel TCP MiB (both ends)",
                "open s",
                "errors",
            ],
            &rows,
        );
        // Storm.
        let rows: Vec<Vec<String>> = self
            .storm
            .iter()
            .map(|t| {
                vec![
                    t.target.clone(),
                    format!("{}/{}", t.connected, t.clients),
                    f1(t.all_connected_ms),
                    ms(t.latency.p50_us),
                    ms(t.latency.p99_us),
                    errs(&t.errors),
                ]
            })
            .collect();
        table(
            &mut s,
            st,
            &format!(
                "connect storm: {} clients at once",
                self.parameters.storm_clients
            ),
            &[
                "target",
                "connected",
                "all connected ms",
                "p50 ms",
                "p99 ms",
                "errors",
            ],
            &rows,
        );
        // Ratios.
        let rows: Vec<Vec<String>> = self
            .ratios
            .iter()
            .map(|r| {
                vec![
                    r.target.clone(),
                    f2(r.connect_p50_vs_floor),
                    f2(r.server_cpu_vs_floor),
                    f2(r.call_p50_vs_floor),
                    r.throughput_vs_floor
                        .iter()
                        .map(|(c, v)| format!("{c}:{v:.2}"))
                        .collect::<Vec<_>>()
                        .join(" "),
                    f2(r.connect_p50_vs_pg_scram),
                    f2(r.wait_p50_vs_pg_scram),
                    f2(r.server_cpu_vs_pg_scram),
                ]
            })
            .collect();
        table(
            &mut s,
            st,
            "ratios (computed from the rows above)",
            &[
                "target",
                "connect p50 / floor",
                "server CPU / floor",
                "call p50 / floor",
                "calls/s / floor (by clients)",
                "connect p50 / PG SCRAM",
                "wait p50 / PG SCRAM",
                "server CPU / PG SCRAM",
            ],
            &rows,
        );
        s
    }
}

#[derive(Clone, Copy)]
pub(crate) enum Style {
    Text,
    Markdown,
}

/// Appends a titled table; nothing at all for a table without rows (a phase that was not
/// run, or a row kind that was not measured).
pub(crate) fn table(s: &mut String, st: Style, title: &str, head: &[&str], rows: &[Vec<String>]) {
    if rows.is_empty() {
        return;
    }
    match st {
        Style::Markdown => {
            let _ = writeln!(s, "\n## {title}\n");
            let _ = writeln!(s, "| {} |", head.join(" | "));
            let _ = writeln!(
                s,
                "|{}|",
                head.iter().map(|_| "---").collect::<Vec<_>>().join("|")
            );
            for r in rows {
                let _ = writeln!(s, "| {} |", r.join(" | "));
            }
        }
        Style::Text => {
            let _ = writeln!(s, "\n{title}");
            let mut width: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
            for r in rows {
                for (i, c) in r.iter().enumerate() {
                    if let Some(w) = width.get_mut(i) {
                        *w = (*w).max(c.chars().count());
                    }
                }
            }
            let line = |cells: Vec<&str>| {
                cells
                    .iter()
                    .enumerate()
                    .map(|(i, c)| format!("{c:<w$}", w = width.get(i).copied().unwrap_or(0)))
                    .collect::<Vec<_>>()
                    .join("  ")
            };
            let _ = writeln!(s, "  {}", line(head.to_vec()).trim_end());
            for r in rows {
                let _ = writeln!(
                    s,
                    "  {}",
                    line(r.iter().map(String::as_str).collect()).trim_end()
                );
            }
        }
    }
}

/// A table cell for errors by code: `0`, or `ORA-12519 x3, TNS-12537 x1`.
pub(crate) fn errors_cell(e: &BTreeMap<String, u64>) -> String {
    if e.is_empty() {
        "0".into()
    } else {
        e.iter()
            .map(|(k, v)| format!("{k} x{v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_without_rows_prints_nothing_not_even_its_header() {
        for st in [Style::Text, Style::Markdown] {
            let mut s = String::new();
            table(&mut s, st, "steady calls", &["target", "calls/s"], &[]);
            assert_eq!(s, "");
            let row = vec!["floor".to_string(), "19933".to_string()];
            table(&mut s, st, "steady calls", &["target", "calls/s"], &[row]);
            assert!(s.contains("steady calls") && s.contains("19933"), "{s}");
        }
    }
}
