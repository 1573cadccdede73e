//! Memory of server processes from `/proc/<pid>/smaps_rollup`, and the process tree walks
//! that find them (the dedicated servers are the spawner's children; PostgreSQL backends are
//! the postmaster's).
//!
//! PSS (proportional set size) is the honest per-process cost: pages shared by N processes
//! count 1/N each, so the binary's text and the SGA are not counted once per session as RSS
//! counts them. `Pss_Anon` and the private pages are what a new session really adds.

use std::path::Path;

use serde::Serialize;

/// The totals of `/proc/<pid>/smaps_rollup`, in KiB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Rollup {
    /// Resident set size.
    pub rss_kib: u64,
    /// Proportional set size.
    pub pss_kib: u64,
    /// Anonymous part of the PSS (heap, stacks, copy-on-write pages touched after fork).
    pub pss_anon_kib: u64,
    /// Private_Clean + Private_Dirty: pages no other process maps.
    pub private_kib: u64,
}

impl Rollup {
    /// Parses the text of a `smaps_rollup` file (fields it lacks stay 0; needs `Rss` and `Pss`).
    pub fn parse(text: &str) -> Option<Rollup> {
        let mut r = Rollup::default();
        let (mut saw_rss, mut saw_pss) = (false, false);
        for line in text.lines() {
            let Some((key, rest)) = line.split_once(':') else {
                continue;
            };
            let Some(kib) = rest
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
            else {
                continue;
            };
            match key.trim() {
                "Rss" => {
                    r.rss_kib = kib;
                    saw_rss = true;
                }
                "Pss" => {
                    r.pss_kib = kib;
                    saw_pss = true;
                }
                "Pss_Anon" => r.pss_anon_kib = kib,
                "Private_Clean" | "Private_Dirty" => r.private_kib += kib,
                _ => {}
            }
        }
        (saw_rss && saw_pss).then_some(r)
    }

    /// Reads the rollup of a live process (`None` if it is gone or unreadable).
    pub fn of(pid: u32) -> Option<Rollup> {
        Rollup::parse(&std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?)
    }
}

/// Mean, min and max of the rollups of a set of processes.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MemorySummary {
    /// Processes measured.
    pub processes: usize,
    /// Mean per process.
    pub mean: MeanRollup,
    /// Smallest PSS seen (KiB).
    pub min_pss_kib: u64,
    /// Largest PSS seen (KiB).
    pub max_pss_kib: u64,
}

/// Per-process means in KiB.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MeanRollup {
    /// Mean RSS.
    pub rss_kib: f64,
    /// Mean PSS.
    pub pss_kib: f64,
    /// Mean anonymous PSS.
    pub pss_anon_kib: f64,
    /// Mean private pages.
    pub private_kib: f64,
}

impl MemorySummary {
    /// Summarises rollups (an empty slice gives zeros).
    pub fn of(rollups: &[Rollup]) -> MemorySummary {
        if rollups.is_empty() {
            return MemorySummary::default();
        }
        let n = rollups.len() as f64;
        let mean = |f: fn(&Rollup) -> u64| rollups.iter().map(f).sum::<u64>() as f64 / n;
        MemorySummary {
            processes: rollups.len(),
            mean: MeanRollup {
                rss_kib: mean(|r| r.rss_kib),
                pss_kib: mean(|r| r.pss_kib),
                pss_anon_kib: mean(|r| r.pss_anon_kib),
                private_kib: mean(|r| r.private_kib),
            },
            min_pss_kib: rollups.iter().map(|r| r.pss_kib).min().unwrap_or(0),
            max_pss_kib: rollups.iter().map(|r| r.pss_kib).max().unwrap_or(0),
        }
    }
}

/// Child pids of `pid` (scanning `/proc/*/stat`).
pub fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if parent_of(p) == Some(pid) {
            out.push(p);
        }
    }
    out.sort_unstable();
    out
}

/// Parent pid of `pid` from `/proc/<pid>/stat` (the command may contain spaces and parens).
pub fn parent_of(pid: u32) -> Option<u32> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = s.get(s.rfind(')')? + 1..)?;
    after.split_whitespace().nth(1)?.parse().ok()
}

/// The title `ps` shows: `/proc/<pid>/cmdline` with NULs as spaces, trimmed.
pub fn title_of(pid: u32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let text: String = raw
        .iter()
        .map(|&b| if b == 0 { ' ' } else { b as char })
        .collect();
    text.trim_end().to_string()
}

/// Whether `/proc/self/smaps_rollup` exists (kernel 4.14+); without it there is no memory
/// phase.
pub fn available() -> bool {
    Path::new("/proc/self/smaps_rollup").exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "55d0c0a00000-7ffd5a1f2000 ---p 00000000 00:00 0                          [rollup]\n\
Rss:                3072 kB\n\
Pss:                1100 kB\n\
Pss_Dirty:           900 kB\n\
Pss_Anon:            850 kB\n\
Pss_File:            250 kB\n\
Pss_Shmem:             0 kB\n\
Shared_Clean:       1900 kB\n\
Shared_Dirty:        100 kB\n\
Private_Clean:        72 kB\n\
Private_Dirty:       900 kB\n\
Referenced:         3072 kB\n";

    #[test]
    fn parses_smaps_rollup() {
        let r = Rollup::parse(SAMPLE).expect("parses");
        assert_eq!(
            r,
            Rollup {
                rss_kib: 3072,
                pss_kib: 1100,
                pss_anon_kib: 850,
                private_kib: 972
            }
        );
        assert_eq!(Rollup::parse("Rss: 1 kB\n"), None);
    }

    #[test]
    fn reads_own_process() {
        assert!(available(), "smaps_rollup needs Linux 4.14+");
        let me = std::process::id();
        let r = Rollup::of(me).expect("own smaps_rollup");
        assert!(r.rss_kib > 0 && r.pss_kib > 0 && r.pss_kib <= r.rss_kib);
        assert_eq!(parent_of(me), Some(std::os::unix::process::parent_id()));
    }

    #[test]
    fn summary_means() {
        let a = Rollup {
            rss_kib: 100,
            pss_kib: 10,
            pss_anon_kib: 5,
            private_kib: 8,
        };
        let b = Rollup {
            rss_kib: 300,
            pss_kib: 30,
            pss_anon_kib: 15,
            private_kib: 12,
        };
        let s = MemorySummary::of(&[a, b]);
        assert_eq!(s.processes, 2);
        assert_eq!(s.mean.pss_kib, 20.0);
        assert_eq!(s.mean.private_kib, 10.0);
        assert_eq!((s.min_pss_kib, s.max_pss_kib), (10, 30));
        assert_eq!(MemorySummary::of(&[]).processes, 0);
    }
}
