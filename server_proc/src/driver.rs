//! What every transport hands the sans-I/O engine from the operating system: the clock
//! reading a session starts from, the random source for its keys, and the login deadline
//! from the server's sqlnet.ora. The engine itself reads no clock, no file and draws no
//! randomness.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use engine::{RandomSource, WallClock};

/// The wall clock and the monotonic clock read now, together.
pub fn wall_clock() -> WallClock {
    WallClock {
        instant: Instant::now(),
        wall: SystemTime::now(),
    }
}

/// The thread-local OS-seeded generator (a forked dedicated server reseeds it first).
pub fn os_random() -> RandomSource {
    Box::new(|b: &mut [u8]| rand::fill(b))
}

/// SQLNET.INBOUND_CONNECT_TIMEOUT when sqlnet.ora does not set it.
pub const DEFAULT_INBOUND_CONNECT_TIMEOUT: Duration = Duration::from_secs(60);

/// SQLNET.INBOUND_CONNECT_TIMEOUT from the server's sqlnet.ora (`$TNS_ADMIN`, else
/// `$ORACLE_HOME/network/admin`); 60 s when unset, none when 0.
pub fn inbound_connect_timeout(oracle_home: &Path) -> Option<Duration> {
    let dir = std::env::var_os("TNS_ADMIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| oracle_home.join("network").join("admin"));
    let configured = config::SqlNet::load(&dir.join("sqlnet.ora"))
        .ok()
        .and_then(|p| p.value.inbound_connect_timeout);
    match configured {
        Some(d) if d.is_zero() => None,
        Some(d) => Some(d),
        None => Some(DEFAULT_INBOUND_CONNECT_TIMEOUT),
    }
}
