//! Facts about the machine a run happened on, recorded with every report: numbers from a
//! busy 2-core VM and an idle workstation must never be compared without saying so. The
//! facts include what the clients' key derivations cost here ([`ClientKdf`]), since O5LOGON's
//! (SHA-512) and SCRAM's (SHA-256) differ by as much as the CPU's SHA instructions make them.

use std::time::Duration;

use serde::Serialize;
use sha2::{Sha256, Sha512};

use crate::proctree::thread_cpu;

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
    /// The clients' key derivations, timed in this process at the start.
    pub client_kdf: ClientKdf,
}

/// One PBKDF2 of each client's login, with the crates and the parameters the clients use:
/// the median CPU time of the calling thread over [`KDF_ROUNDS`] derivations, ms.
#[derive(Debug, Clone, Serialize)]
pub struct ClientKdf {
    /// Iterations of each (4096: O5LOGON's usual `AUTH_PBKDF2_VGEN_COUNT`, SCRAM's default).
    pub iterations: u32,
    /// PBKDF2-HMAC-SHA512, 64 bytes: O5LOGON's speedy key.
    pub pbkdf2_sha512_ms: f64,
    /// PBKDF2-HMAC-SHA256, 32 bytes: SCRAM-SHA-256's salted password.
    pub pbkdf2_sha256_ms: f64,
}

/// Derivations timed per hash.
pub const KDF_ROUNDS: usize = 15;

impl ClientKdf {
    /// Times both derivations on this thread.
    pub fn measure() -> ClientKdf {
        const ITERATIONS: u32 = 4096;
        ClientKdf {
            iterations: ITERATIONS,
            pbkdf2_sha512_ms: median_ms(|| {
                pbkdf2::pbkdf2_hmac_array::<Sha512, 64>(PASSWORD, SALT, ITERATIONS)
            }),
            pbkdf2_sha256_ms: median_ms(|| {
                pbkdf2::pbkdf2_hmac_array::<Sha256, 32>(PASSWORD, SALT, ITERATIONS)
            }),
        }
    }
}

const PASSWORD: &[u8] = b"tnsbench password";
const SALT: &[u8] = b"sixteen byte salt";

fn median_ms<T>(mut f: impl FnMut() -> T) -> f64 {
    let mut times: Vec<Duration> = (0..KDF_ROUNDS)
        .map(|_| {
            let t = thread_cpu();
            std::hint::black_box(f());
            thread_cpu().saturating_sub(t)
        })
        .collect();
    times.sort();
    times[KDF_ROUNDS / 2].as_secs_f64() * 1000.0
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
            client_kdf: ClientKdf::measure(),
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
        let k = &m.client_kdf;
        assert_eq!(k.iterations, 4096);
        assert!(
            k.pbkdf2_sha512_ms > 0.0 && k.pbkdf2_sha256_ms > 0.0,
            "{k:?}"
        );
    }
}
