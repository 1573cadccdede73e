//! Facts about the machine a run happened on, recorded with every report: numbers from a
//! busy 2-core VM and an idle workstation must never be compared without saying so.

use serde::Serialize;

/// What the report says about the machine.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// Logical CPUs available to this process.
    pub cores: usize,
    /// CPU model (`/proc/cpuinfo`), if known.
    pub cpu_model: Option<String>,
    /// Kernel release (`/proc/sys/kernel/osrelease`).
    pub kernel: Option<String>,
    /// `MemTotal` in KiB.
    pub mem_total_kib: Option<u64>,
    /// Transparent huge pages mode (the bracketed word of `enabled`).
    pub transparent_hugepages: Option<String>,
    /// `release` or `debug`: how tnsbench itself was built (the servers it drives are the
    /// sibling binaries of the same build).
    pub build_profile: &'static str,
    /// 1, 5 and 15 minute load averages when the run started.
    pub load_average_start: Option<[f64; 3]>,
    /// The same when it ended.
    pub load_average_end: Option<[f64; 3]>,
    /// True when the 1-minute load at start was at least half the core count: other work
    /// competed for the CPUs and latencies are inflated.
    pub busy_at_start: Option<bool>,
    /// Seconds since the Unix epoch when the run started.
    pub started_unix: u64,
}

impl Machine {
    /// Reads the facts at the start of a run.
    pub fn at_start() -> Machine {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let load = load_average();
        Machine {
            cores,
            cpu_model: read("/proc/cpuinfo").and_then(|t| {
                t.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
            }),
            kernel: read("/proc/sys/kernel/osrelease").map(|s| s.trim().to_string()),
            mem_total_kib: read("/proc/meminfo").and_then(|t| meminfo_kib(&t, "MemTotal")),
            transparent_hugepages: read("/sys/kernel/mm/transparent_hugepage/enabled")
                .and_then(|t| bracketed(&t)),
            build_profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
            load_average_start: load,
            load_average_end: None,
            busy_at_start: load.map(|l| l[0] >= cores as f64 / 2.0),
            started_unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        }
    }

    /// Records the load average at the end of the run.
    pub fn finish(&mut self) {
        self.load_average_end = load_average();
    }
}

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// The three load averages of `/proc/loadavg`.
pub fn load_average() -> Option<[f64; 3]> {
    parse_loadavg(&read("/proc/loadavg")?)
}

fn parse_loadavg(text: &str) -> Option<[f64; 3]> {
    let mut it = text.split_whitespace().map(|w| w.parse::<f64>().ok());
    Some([it.next()??, it.next()??, it.next()??])
}

fn meminfo_kib(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

fn bracketed(text: &str) -> Option<String> {
    let start = text.find('[')? + 1;
    let end = start + text[start..].find(']')?;
    Some(text[start..end].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_formats() {
        assert_eq!(
            parse_loadavg("1.50 0.75 0.10 2/345 6789\n"),
            Some([1.5, 0.75, 0.1])
        );
        assert_eq!(parse_loadavg("garbage"), None);
        assert_eq!(
            meminfo_kib("MemTotal:        8136720 kB\nMemFree: 1 kB\n", "MemTotal"),
            Some(8_136_720)
        );
        assert_eq!(
            bracketed("always [madvise] never\n").as_deref(),
            Some("madvise")
        );
    }

    #[test]
    fn machine_facts_are_read_on_linux() {
        let m = Machine::at_start();
        assert!(m.cores >= 1);
        assert!(m.kernel.is_some());
        assert!(m.load_average_start.is_some());
        assert_eq!(m.build_profile == "debug", cfg!(debug_assertions));
    }
}
