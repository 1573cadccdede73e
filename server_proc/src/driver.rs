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

/// The server's sqlnet.ora (`$TNS_ADMIN`, else `$ORACLE_HOME/network/admin`), if readable.
fn server_sqlnet(oracle_home: &Path) -> Option<config::SqlNet> {
    let dir = std::env::var_os("TNS_ADMIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| oracle_home.join("network").join("admin"));
    config::SqlNet::load(&dir.join("sqlnet.ora"))
        .ok()
        .map(|p| p.value)
}

/// The sqlnet.ora parameters a server process applies to its client connection, read from
/// the server's sqlnet.ora (`$TNS_ADMIN`, else `$ORACLE_HOME/network/admin`) in one pass: a
/// dedicated server reads them once at hand-off rather than parsing the file per parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerNet {
    /// SQLNET.INBOUND_CONNECT_TIMEOUT: 60 s when unset, none when 0.
    pub inbound_connect_timeout: Option<Duration>,
    /// SQLNET.EXPIRE_TIME (minutes): the idle time after which dead connection detection
    /// probes a client; `None` when unset or 0 (off).
    pub expire_time: Option<Duration>,
    /// SQLNET.RECV_TIMEOUT (seconds, or `ms`/`sec`/`min` as Oracle 19c takes them): how
    /// long a server waits for its client's next data; `None` when unset or 0.
    pub recv_timeout: Option<Duration>,
    /// SQLNET.SEND_TIMEOUT: how long a server's send to its client may take; `None` when
    /// unset or 0.
    pub send_timeout: Option<Duration>,
}

impl ServerNet {
    /// The values of the server's sqlnet.ora under `oracle_home` (defaults when it is
    /// missing or unreadable).
    pub fn of_home(oracle_home: &Path) -> ServerNet {
        ServerNet::from_sqlnet(server_sqlnet(oracle_home).as_ref())
    }

    fn from_sqlnet(sqlnet: Option<&config::SqlNet>) -> ServerNet {
        let inbound_connect_timeout = match sqlnet.and_then(|s| s.inbound_connect_timeout) {
            Some(d) if d.is_zero() => None,
            Some(d) => Some(d),
            None => Some(DEFAULT_INBOUND_CONNECT_TIMEOUT),
        };
        ServerNet {
            inbound_connect_timeout,
            expire_time: sqlnet
                .map(|s| s.expire_time)
                .filter(|&m| m > 0)
                .map(|m| Duration::from_secs(u64::from(m) * 60)),
            recv_timeout: sqlnet.and_then(|s| s.recv_timeout).filter(|d| !d.is_zero()),
            send_timeout: sqlnet.and_then(|s| s.send_timeout).filter(|d| !d.is_zero()),
        }
    }
}

/// SQLNET.INBOUND_CONNECT_TIMEOUT from the server's sqlnet.ora (see [`ServerNet`]).
pub fn inbound_connect_timeout(oracle_home: &Path) -> Option<Duration> {
    ServerNet::of_home(oracle_home).inbound_connect_timeout
}

/// SQLNET.RECV_TIMEOUT from the server's sqlnet.ora (see [`ServerNet`]).
pub fn recv_timeout(oracle_home: &Path) -> Option<Duration> {
    ServerNet::of_home(oracle_home).recv_timeout
}

/// SQLNET.SEND_TIMEOUT from the server's sqlnet.ora (see [`ServerNet`]).
pub fn send_timeout(oracle_home: &Path) -> Option<Duration> {
    ServerNet::of_home(oracle_home).send_timeout
}

/// SQLNET.EXPIRE_TIME from the server's sqlnet.ora (see [`ServerNet`]).
pub fn expire_time(oracle_home: &Path) -> Option<Duration> {
    ServerNet::of_home(oracle_home).expire_time
}

/// Interval between keepalive probes once a connection has been idle for EXPIRE_TIME
/// (Oracle 12c and later set TCP_KEEPINTVL to 6 s).
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(6);

/// Unanswered probes after which the peer is dead (Oracle sets TCP_KEEPCNT to 10).
pub const KEEPALIVE_PROBES: u32 = 10;

/// Oracle's dead connection detection on a server socket (12c and later do it with TCP
/// keepalive): the first probe after `idle` (SQLNET.EXPIRE_TIME) without traffic, then one
/// every [`KEEPALIVE_INTERVAL`]; after [`KEEPALIVE_PROBES`] unanswered ones (or a reset) the
/// socket fails, and whoever reads it cleans the session up.
pub fn enable_dead_connection_detection(
    socket: &impl std::os::fd::AsFd,
    idle: Duration,
) -> std::io::Result<()> {
    let keepalive = socket2::TcpKeepalive::new()
        .with_time(idle)
        .with_interval(KEEPALIVE_INTERVAL)
        .with_retries(KEEPALIVE_PROBES);
    socket2::SockRef::from(socket).set_tcp_keepalive(&keepalive)
}

/// Lets this process's main thread grow its stack to [`engine::SESSION_STACK`]: a
/// dedicated, bequeathed or pooled server runs its session on its main thread, whose stack
/// may grow up to the soft RLIMIT_STACK — 8 MiB by default on Linux, but whatever the shell
/// that started the listener or `oradb` set (`ulimit -s`). A lower soft limit is raised,
/// up to the hard limit, so that the engine's bounds on a statement's depth hold here as on
/// a shared server's thread. Returns the soft limit now (`None`: unlimited or unreadable).
pub fn ensure_session_stack() -> Option<u64> {
    use nix::sys::resource::{RLIM_INFINITY, Resource, getrlimit, setrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_STACK).ok()?;
    let wanted = engine::SESSION_STACK as u64;
    if soft == RLIM_INFINITY {
        return None;
    }
    if soft >= wanted {
        return Some(soft);
    }
    let raised = if hard == RLIM_INFINITY {
        wanted
    } else {
        wanted.min(hard)
    };
    if setrlimit(Resource::RLIMIT_STACK, raised, hard).is_ok() {
        Some(raised)
    } else {
        Some(soft)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stack_limit_below_the_session_stack_is_raised_to_it() {
        use nix::sys::resource::{RLIM_INFINITY, Resource, getrlimit, setrlimit};
        let (soft, hard) = getrlimit(Resource::RLIMIT_STACK).unwrap();
        let wanted = engine::SESSION_STACK as u64;
        let expected = if hard == RLIM_INFINITY {
            wanted
        } else {
            wanted.min(hard)
        };
        // As a shell with `ulimit -s 1024` would leave it (the test's main thread does not
        // run meanwhile; other threads have stacks of their own size).
        setrlimit(Resource::RLIMIT_STACK, (1 << 20).min(hard), hard).unwrap();
        let now = ensure_session_stack();
        let after = getrlimit(Resource::RLIMIT_STACK).unwrap();
        setrlimit(Resource::RLIMIT_STACK, soft, hard).unwrap();
        assert_eq!(now, Some(expected));
        assert_eq!(after, (expected, hard));
        // A limit already above it stays.
        if hard == RLIM_INFINITY || hard > wanted {
            let above = if hard == RLIM_INFINITY {
                2 * wanted
            } else {
                hard
            };
            setrlimit(Resource::RLIMIT_STACK, above, hard).unwrap();
            let now = ensure_session_stack();
            setrlimit(Resource::RLIMIT_STACK, soft, hard).unwrap();
            assert_eq!(now, Some(above));
        }
    }

    #[test]
    fn dead_connection_detection_sets_oracles_keepalive() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (s, _) = l.accept().unwrap();
        let sock = socket2::SockRef::from(&s);
        assert!(!sock.keepalive().unwrap());
        enable_dead_connection_detection(&s, Duration::from_secs(60)).unwrap();
        assert!(sock.keepalive().unwrap());
        assert_eq!(sock.tcp_keepalive_time().unwrap(), Duration::from_secs(60));
        assert_eq!(sock.tcp_keepalive_interval().unwrap(), KEEPALIVE_INTERVAL);
        assert_eq!(sock.tcp_keepalive_retries().unwrap(), KEEPALIVE_PROBES);
        drop(c);
    }

    #[test]
    fn server_net_reads_the_four_parameters_and_defaults_without_a_file() {
        let home = tempfile::tempdir().unwrap();
        let admin = home.path().join("network").join("admin");
        std::fs::create_dir_all(&admin).unwrap();
        let none = ServerNet {
            inbound_connect_timeout: Some(DEFAULT_INBOUND_CONNECT_TIMEOUT),
            expire_time: None,
            recv_timeout: None,
            send_timeout: None,
        };
        assert_eq!(ServerNet::of_home(home.path()), none);
        std::fs::write(
            admin.join("sqlnet.ora"),
            "SQLNET.INBOUND_CONNECT_TIMEOUT = 0\nSQLNET.EXPIRE_TIME = 3\n\
             SQLNET.RECV_TIMEOUT = 20\nSQLNET.SEND_TIMEOUT = 500 ms\n",
        )
        .unwrap();
        assert_eq!(
            ServerNet::of_home(home.path()),
            ServerNet {
                inbound_connect_timeout: None,
                expire_time: Some(Duration::from_secs(180)),
                recv_timeout: Some(Duration::from_secs(20)),
                send_timeout: Some(Duration::from_millis(500)),
            }
        );
    }

    #[test]
    fn expire_time_is_read_in_minutes_and_zero_is_off() {
        let home = tempfile::tempdir().unwrap();
        let admin = home.path().join("network").join("admin");
        std::fs::create_dir_all(&admin).unwrap();
        assert_eq!(expire_time(home.path()), None);
        std::fs::write(admin.join("sqlnet.ora"), "SQLNET.EXPIRE_TIME = 0\n").unwrap();
        assert_eq!(expire_time(home.path()), None);
        std::fs::write(admin.join("sqlnet.ora"), "SQLNET.EXPIRE_TIME = 2\n").unwrap();
        assert_eq!(expire_time(home.path()), Some(Duration::from_secs(120)));
    }
}
