//! The server side of a target as the kernel sees it: the process trees under a few roots
//! (the listener and the instance for orasim, the postmaster for PostgreSQL, PgBouncer and
//! its postmaster, the floor process), their CPU time and their memory, and the kernel's
//! TCP socket memory.
//!
//! CPU: `/proc/<pid>/stat` gives each process its own user+system time and the time of the
//! children it has reaped (`cutime`, `cstime`). Summed over every live process of a tree,
//! that is everything the tree ever ran, including dedicated servers that already exited
//! (their spawner reaped them), so the difference of two readings is the tree's CPU in
//! between, whatever processes came and went. A live process's own time is read to the
//! nanosecond from its threads' `schedstat` (see [`cpu_of`]).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use crate::procmem::Rollup;

/// `pid → ppid` of every process, from one scan of `/proc`.
pub fn process_table() -> HashMap<u32, u32> {
    let mut out = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if let Some(ppid) = stat_fields(pid).and_then(|f| f.get(1).and_then(|v| v.parse().ok())) {
            out.insert(pid, ppid);
        }
    }
    out
}

/// The roots and all their live descendants (each pid once).
pub fn tree(roots: &[u32]) -> Vec<u32> {
    let table = process_table();
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for (&pid, &ppid) in &table {
        children.entry(ppid).or_default().push(pid);
    }
    let mut seen = HashSet::new();
    let mut stack: Vec<u32> = roots
        .iter()
        .copied()
        .filter(|p| table.contains_key(p))
        .collect();
    while let Some(p) = stack.pop() {
        if seen.insert(p)
            && let Some(kids) = children.get(&p)
        {
            stack.extend(kids.iter().copied());
        }
    }
    let mut v: Vec<u32> = seen.into_iter().collect();
    v.sort_unstable();
    v
}

/// The fields of `/proc/<pid>/stat` after the command (`state` is index 0).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = s.get(s.rfind(')')? + 1..)?;
    Some(after.split_whitespace().map(str::to_string).collect())
}

/// Clock ticks per second of `/proc/<pid>/stat` times.
fn ticks_per_second() -> u64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .and_then(|v| u64::try_from(v).ok())
        .filter(|&v| v > 0)
        .unwrap_or(100)
}

/// One process's CPU: its own (all its threads) and that of the children it has reaped.
///
/// `/proc/<pid>/stat` has both in clock ticks (10 ms), each truncated: with a few live
/// processes and a few hundred connects that truncation alone is ±0.1 ms per connect. The
/// live threads' `schedstat` gives their run time in nanoseconds; it misses threads that
/// already exited, so the larger of the two readings is the process's own time.
fn cpu_of(pid: u32) -> Duration {
    // After the command: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
    let Some(f) = stat_fields(pid) else {
        return Duration::ZERO;
    };
    let ticks = |range: std::ops::RangeInclusive<usize>| -> Duration {
        let t: u64 = range
            .filter_map(|i| f.get(i).and_then(|v| v.parse::<u64>().ok()))
            .sum();
        Duration::from_micros(t * 1_000_000 / ticks_per_second())
    };
    ticks(11..=12).max(live_threads_runtime(pid)) + ticks(13..=14)
}

/// Sum of the first field of `/proc/<pid>/task/*/schedstat` (time on a CPU, ns).
fn live_threads_runtime(pid: u32) -> Duration {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Duration::ZERO;
    };
    let ns: u64 = tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(ns)
}

/// CPU time of the trees under `roots`: every live process's own time plus what it reaped.
pub fn tree_cpu(roots: &[u32]) -> Duration {
    tree(roots).into_iter().map(cpu_of).sum()
}

/// CPU time (user + system) of the calling thread alone, in nanoseconds of the kernel's
/// accounting (`CLOCK_THREAD_CPUTIME_ID`): what one client thread spent of a cycle it ran,
/// whatever the other threads of tnsbench did meanwhile.
pub fn thread_cpu() -> Duration {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID)
        .map(Duration::from)
        .unwrap_or_default()
}

/// CPU time (user + system) of this process, all threads.
pub fn own_cpu() -> Duration {
    nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF)
        .map(|u| {
            let t = |tv: nix::sys::time::TimeVal| {
                Duration::from_secs(u64::try_from(tv.tv_sec()).unwrap_or(0))
                    + Duration::from_micros(u64::try_from(tv.tv_usec()).unwrap_or(0))
            };
            t(u.user_time()) + t(u.system_time())
        })
        .unwrap_or_default()
}

/// Memory of the trees under `roots`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TreeMemory {
    /// Processes measured.
    pub processes: usize,
    /// Sum of their PSS, KiB (shared pages counted once over all sharers).
    pub pss_kib: u64,
    /// Sum of their RSS, KiB (shared pages counted in every process).
    pub rss_kib: u64,
}

/// Sums `smaps_rollup` over the trees under `roots`.
pub fn tree_memory(roots: &[u32]) -> TreeMemory {
    let mut m = TreeMemory::default();
    for pid in tree(roots) {
        if let Some(r) = Rollup::of(pid) {
            m.processes += 1;
            m.pss_kib += r.pss_kib;
            m.rss_kib += r.rss_kib;
        }
    }
    m
}

/// The kernel's TCP socket buffer memory (`/proc/net/sockstat`, `TCP: ... mem N` pages), KiB.
/// Machine-wide: on loopback it holds both ends of every connection.
pub fn tcp_socket_memory_kib() -> Option<u64> {
    parse_sockstat_mem(
        &std::fs::read_to_string("/proc/net/sockstat").ok()?,
        page_kib(),
    )
}

fn page_kib() -> u64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .and_then(|v| u64::try_from(v).ok())
        .map_or(4, |b| b / 1024)
}

fn parse_sockstat_mem(text: &str, page_kib: u64) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("TCP:"))?;
    let mut words = line.split_whitespace();
    while let Some(w) = words.next() {
        if w == "mem" {
            return words.next()?.parse::<u64>().ok().map(|p| p * page_kib);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockstat_mem_in_kib() {
        let t =
            "sockets: used 300\nTCP: inuse 12 orphan 0 tw 3 alloc 20 mem 7\nUDP: inuse 1 mem 2\n";
        assert_eq!(parse_sockstat_mem(t, 4), Some(28));
        assert_eq!(parse_sockstat_mem("TCP: inuse 1\n", 4), None);
    }

    #[test]
    fn own_tree_has_this_process_and_a_child() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .expect("sleep");
        let me = std::process::id();
        let t = tree(&[me]);
        assert!(t.contains(&me) && t.contains(&child.id()), "{t:?}");
        let m = tree_memory(&[me]);
        assert!(
            m.processes >= 2 && m.pss_kib > 0 && m.pss_kib <= m.rss_kib,
            "{m:?}"
        );
        let _ = child.kill();
        let _ = child.wait();
        // A reaped child's time moves into our cutime: the tree's CPU never goes down.
        let before = tree_cpu(&[me]);
        let mut x = 0u64;
        for i in 0..3_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(tree_cpu(&[me]) >= before);
        assert!(own_cpu() > Duration::ZERO);
    }
}
