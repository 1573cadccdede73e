//! The file descriptors a process may open, and the instance's budget of them.
//!
//! A dispatcher holds one descriptor per virtual circuit, so the number of shared sessions
//! an instance can hold is bounded by RLIMIT_NOFILE. `oradb` raises its soft limit to the
//! hard limit at startup ([`raise_nofile_limit`], logged in the alert log), and its
//! dispatchers take a new circuit only while [`room_for_circuit`] says so: the descriptors
//! the instance had open when its dispatchers started ([`measure_baseline`]), plus one per
//! circuit, plus a [`RESERVE`] kept free. The reserve is what lets existing sessions, pmon's
//! `/proc` reads, lreg's reconnects, the alert log and a refusal for the next client keep
//! working when clients ask for more than the limit: a dispatcher past its budget refuses
//! with Oracle's ORA-12519 (and lreg registers it as blocked, so the listener refuses first)
//! instead of running into EMFILE.
//!
//! The budget is one per process (an instance is a process), hence the statics.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Descriptors kept free for everything that is not a circuit.
pub const RESERVE: u32 = 32;

static LIMIT: AtomicU64 = AtomicU64::new(u64::MAX);
static BASELINE: AtomicU32 = AtomicU32::new(0);
static CIRCUITS: AtomicU32 = AtomicU32::new(0);

/// Raises the soft RLIMIT_NOFILE to the hard limit; returns `(soft before, soft now)`, and
/// remembers the limit for [`room_for_circuit`]. `None` when the limit cannot be read.
pub fn raise_nofile_limit() -> Option<(u64, u64)> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).ok()?;
    let now = if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
        hard
    } else {
        soft
    };
    LIMIT.store(now, Ordering::Relaxed);
    Some((soft, now))
}

/// The soft RLIMIT_NOFILE now.
pub fn nofile_limit() -> Option<u64> {
    nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .ok()
        .map(|(soft, _)| soft)
}

/// Descriptors this process has open now (`/proc/self/fd`), `None` without `/proc`.
pub fn open_fds() -> Option<u32> {
    let n = std::fs::read_dir("/proc/self/fd").ok()?.count();
    // The directory handle read_dir itself holds is one of the entries.
    Some(u32::try_from(n.saturating_sub(1)).unwrap_or(u32::MAX))
}

/// Takes the descriptors open now, less the circuits', as what the instance needs besides
/// its circuits (called when the set of dispatchers changes).
pub fn measure_baseline() {
    if let Some(n) = open_fds() {
        BASELINE.store(
            n.saturating_sub(CIRCUITS.load(Ordering::Relaxed)),
            Ordering::Relaxed,
        );
    }
    if LIMIT.load(Ordering::Relaxed) == u64::MAX
        && let Some(l) = nofile_limit()
    {
        LIMIT.store(l, Ordering::Relaxed);
    }
}

/// A circuit's socket was opened.
pub fn circuit_opened() {
    CIRCUITS.fetch_add(1, Ordering::Relaxed);
}

/// A circuit's socket was closed.
pub fn circuit_closed() {
    let _ = CIRCUITS.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
        Some(v.saturating_sub(1))
    });
}

/// Whether one more circuit fits the budget.
pub fn room_for_circuit() -> bool {
    fits(
        LIMIT.load(Ordering::Relaxed),
        BASELINE.load(Ordering::Relaxed),
        CIRCUITS.load(Ordering::Relaxed),
    )
}

/// The budget rule: baseline + circuits + the new one + the reserve within the limit.
fn fits(limit: u64, baseline: u32, circuits: u32) -> bool {
    u64::from(baseline) + u64::from(circuits) + 1 + u64::from(RESERVE) <= limit
}

/// Circuits the budget allows in all (for the alert log).
pub fn circuit_capacity() -> u64 {
    LIMIT
        .load(Ordering::Relaxed)
        .saturating_sub(u64::from(BASELINE.load(Ordering::Relaxed)) + u64::from(RESERVE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reserve_stays_free() {
        assert!(fits(100, 40, 27));
        assert!(!fits(100, 40, 28), "40 + 28 + 1 + 32 > 100");
        assert!(
            !fits(10, 0, 0),
            "a limit below the reserve takes no circuit"
        );
        assert!(fits(u64::MAX, 0, u32::MAX));
    }
}

/// The alert-log record of a handler's refusals of new connections: one line when it starts
/// refusing (with why), one when it takes connections again (with how many it refused
/// meanwhile), nothing per connection, so a flood cannot fill the log. Dispatchers and the
/// connection broker each keep one.
#[derive(Debug, Default)]
pub struct RefusalSpell {
    /// Connections refused since the spell began; `None` while connections are taken.
    refused: Option<u64>,
}

impl RefusalSpell {
    /// Notes the outcome for one new connection of `handler`: refused (`why` is called for
    /// the reason, only when a spell begins) or taken (`why` is `None`).
    pub fn note(&mut self, handler: &str, why: Option<impl FnOnce() -> String>) {
        match (self.refused, why) {
            (None, Some(why)) => {
                tracing::warn!(
                    "{handler}: cannot take more connections ({}); refusing with {}",
                    why(),
                    tns::error_text::ora_line(NO_HANDLER)
                );
                self.refused = Some(1);
            }
            (Some(n), Some(_)) => self.refused = Some(n + 1),
            (Some(n), None) => {
                tracing::info!("{handler}: taking connections again ({n} refused)");
                self.refused = None;
            }
            (None, None) => {}
        }
    }
}

/// Oracle's refusal for a handler with no room: ORA-12519, TNS:no appropriate service
/// handler found.
pub const NO_HANDLER: u32 = 12519;

/// Sends ORA-12519 as a REFUSE on a client socket a full handler cannot take (a write that
/// waits at most 200 ms, so a client that does not read cannot stall the handler); the
/// socket closes when it is dropped.
pub fn refuse_full(fd: std::os::fd::OwnedFd) {
    use std::io::Write;
    let mut stream = std::net::TcpStream::from(fd);
    let _ = stream.set_write_timeout(Some(std::time::Duration::from_millis(200)));
    let _ = stream
        .write_all(&tns::packet::Refuse::for_error(NO_HANDLER, tns::packet::VSNNUM_19C).encode());
}
