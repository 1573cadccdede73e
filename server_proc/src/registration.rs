//! The service-registration protocol between an instance's lreg and a local listener:
//! message types, their encoding (one JSON object per line), and where the listener's
//! registration endpoint lives.
//!
//! Oracle's LREG speaks a private protocol over TCP to the listener; ours is a local Unix
//! stream socket, which gives us for free what Oracle gets from valid-node checking for
//! registration: only processes on the listener's host can reach it, and the listener checks
//! the peer's uid with `SO_PEERCRED`. The connection stays open while the instance lives:
//! every message is a full `service_update` (idempotent, so a listener that restarted learns
//! everything from the next one), and the listener drops the instance when the connection
//! closes without a deregistration (the instance died) or when updates stop coming.
//!
//! Both sides use this module: `server_proc::lreg` writes [`ClientMessage`]s and reads
//! [`ServerMessage`]s; `listener::registration` does the opposite.

use std::io::{Read, Write};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use tns::error_text::tns_line;

/// Bumped when the messages change incompatibly; the listener refuses other versions.
pub const PROTOCOL_VERSION: u32 = 1;

/// Longest line either side accepts (a registration with many services stays far below).
pub const MAX_LINE: usize = 64 * 1024;

/// Errors of the registration codec and endpoint naming.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// The peer closed the connection.
    #[error("{} (registration peer closed the connection)", tns_line(12537))]
    Closed,
    /// A line that is not a valid message.
    #[error("{} (bad registration message: {reason})", tns_line(12560))]
    BadMessage {
        /// What was wrong.
        reason: String,
    },
    /// A line longer than [`MAX_LINE`].
    #[error("{} (registration message longer than {max} bytes)", tns_line(12560))]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// Reading or writing the socket failed.
    #[error("{} ({op}: {source})", tns_line(12560))]
    Io {
        /// What was being done.
        op: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// The instance's state as the listener shows it (`status READY` / `status BLOCKED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstanceStatus {
    /// Open: connections are handed to its handlers.
    Ready,
    /// Started/mounted or shutting down: the listener refuses with ORA-12528.
    Blocked,
    /// Open in restricted mode: ORA-12526 for ordinary clients.
    Restricted,
}

impl InstanceStatus {
    /// As `lsnrctl` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceStatus::Ready => "READY",
            InstanceStatus::Blocked => "BLOCKED",
            InstanceStatus::Restricted => "RESTRICTED",
        }
    }
}

/// A handler's state (`state:ready` / `state:blocked` in `lsnrctl services`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandlerState {
    /// Accepts connections.
    Ready,
    /// At its limit (PROCESSES for dedicated, CONNECTIONS for a dispatcher): the listener
    /// refuses with ORA-12516/12519 instead of handing off.
    Blocked,
}

impl HandlerState {
    /// As `lsnrctl` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            HandlerState::Ready => "ready",
            HandlerState::Blocked => "blocked",
        }
    }
}

/// What kind of handler, and how the listener reaches it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HandlerKind {
    /// `LOCAL SERVER`: the listener's spawner starts a dedicated server process with
    /// `ORACLE_HOME`/`ORACLE_SID` of the registration.
    Dedicated,
    /// `DISPATCHER <machine: host, pid: n>`: hand the socket to `handoff_path` (a local
    /// SOCK_SEQPACKET socket), or redirect the client to `address`.
    Dispatcher {
        /// The dispatcher's network address, e.g. `(ADDRESS=(PROTOCOL=tcp)(HOST=h)(PORT=p))`.
        address: String,
        /// Unix socket path for direct hand-off, if the dispatcher accepts one.
        handoff_path: Option<String>,
        /// Pid of the process the dispatcher lives in.
        pid: i32,
    },
    /// `CMON <machine: host, pid: n>`: the DRCP connection broker; `(SERVER=POOLED)`
    /// connections are handed to `handoff_path` (a local SOCK_SEQPACKET socket).
    Pooled {
        /// The broker's hand-off socket.
        handoff_path: String,
        /// Pid of the process the broker lives in.
        pid: i32,
    },
}

/// One service handler of an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handler {
    /// `DEDICATED`, `D000`, ...
    pub name: String,
    /// Kind and reachability.
    #[serde(flatten)]
    pub kind: HandlerKind,
    /// Ready or blocked.
    pub state: HandlerState,
    /// Current connections (dispatchers) or dedicated processes.
    pub current: u32,
    /// Maximum (CONNECTIONS of a dispatcher, PROCESSES for dedicated).
    pub max: u32,
}

/// The instance's load, as of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LoadReport {
    /// Process slots in use.
    pub processes_used: u32,
    /// PROCESSES.
    pub processes_max: u32,
    /// Session slots in use.
    pub sessions_used: u32,
    /// SESSIONS.
    pub sessions_max: u32,
}

/// A full registration: everything the listener knows about one instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceRegistration {
    /// INSTANCE_NAME (what `lsnrctl` prints as `Instance "..."`).
    pub instance_name: String,
    /// ORACLE_SID the dedicated servers must attach.
    pub sid: String,
    /// DB_NAME.
    pub db_name: String,
    /// ORACLE_HOME of the instance (dedicated servers run from there).
    pub oracle_home: String,
    /// Host name the instance runs on.
    pub host: String,
    /// Pid of `oradb`.
    pub pid: i32,
    /// READY / BLOCKED / RESTRICTED.
    pub status: InstanceStatus,
    /// SERVICE_NAMES (the first is the default service), as registered.
    pub services: Vec<String>,
    /// DEDICATED and any dispatchers.
    pub handlers: Vec<Handler>,
    /// Current load.
    pub load: LoadReport,
    /// Seconds until the next periodic update; the listener forgets the instance if nothing
    /// arrives for a few of these.
    pub refresh_secs: u64,
}

/// Instance → listener.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Register or refresh (Oracle's `service_update`).
    ServiceUpdate {
        /// [`PROTOCOL_VERSION`] of the sender.
        version: u32,
        /// The registration.
        registration: InstanceRegistration,
    },
    /// The DRCP broker needs `count` more pooled servers: the listener's spawner forks
    /// them, and each connects to `servers_path`.
    SpawnPooled {
        /// [`PROTOCOL_VERSION`] of the sender.
        version: u32,
        /// ORACLE_SID.
        sid: String,
        /// ORACLE_HOME.
        oracle_home: String,
        /// The broker's socket for pooled servers.
        servers_path: String,
        /// How many.
        count: u32,
    },
    /// The instance is shutting down: forget it now.
    Deregister {
        /// [`PROTOCOL_VERSION`] of the sender.
        version: u32,
        /// INSTANCE_NAME.
        instance_name: String,
    },
}

/// Listener → instance, one per [`ClientMessage`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// Accepted.
    Ack {
        /// The listener's alias (`LISTENER`).
        listener: String,
    },
    /// Refused, with the reason.
    Refused {
        /// Oracle error number, e.g. 12546 (peer not allowed) or 12560 (bad message).
        code: u32,
        /// Text for the instance's log.
        message: String,
    },
}

/// Serialises one message as a JSON line.
pub fn encode<T: Serialize>(msg: &T) -> Vec<u8> {
    // Serialising these plain structs cannot fail (no maps with non-string keys, no custom
    // serialisers); fall back to an empty object rather than panic if it ever did.
    let mut line = serde_json::to_vec(msg).unwrap_or_else(|_| b"{}".to_vec());
    line.push(b'\n');
    line
}

/// Parses one line (with or without its `\n`).
pub fn decode<T: for<'de> Deserialize<'de>>(line: &[u8]) -> Result<T, RegistrationError> {
    if line.len() > MAX_LINE {
        return Err(RegistrationError::TooLong { max: MAX_LINE });
    }
    let trimmed = line.strip_suffix(b"\n").unwrap_or(line);
    serde_json::from_slice(trimmed).map_err(|e| RegistrationError::BadMessage {
        reason: e.to_string(),
    })
}

/// Writes one message and flushes.
pub fn write_message<W: Write, T: Serialize>(w: &mut W, msg: &T) -> Result<(), RegistrationError> {
    w.write_all(&encode(msg))
        .and_then(|()| w.flush())
        .map_err(|source| RegistrationError::Io {
            op: "write",
            source,
        })
}

/// Reads messages line by line from a socket, keeping a partial line across read timeouts
/// (so a reader that wakes up every tick to check a stop flag loses nothing). Lines longer
/// than [`MAX_LINE`] are refused without buffering them whole.
#[derive(Debug)]
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
}

impl<R: Read> LineReader<R> {
    /// Wraps a reader.
    pub fn new(inner: R) -> LineReader<R> {
        LineReader {
            inner,
            buf: Vec::new(),
        }
    }

    /// The wrapped reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// Reads the next message. [`RegistrationError::Closed`] at EOF; an
    /// [`RegistrationError::Io`] of kind `WouldBlock`/`TimedOut` when the read timed out
    /// (call again; nothing is lost).
    pub fn read_message<T: for<'de> Deserialize<'de>>(&mut self) -> Result<T, RegistrationError> {
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=i).collect();
                return decode(&line);
            }
            if self.buf.len() > MAX_LINE {
                return Err(RegistrationError::TooLong { max: MAX_LINE });
            }
            let mut chunk = [0u8; 4096];
            match self.inner.read(&mut chunk) {
                Ok(0) => return Err(RegistrationError::Closed),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(RegistrationError::Io { op: "read", source });
                }
            }
        }
    }
}

impl RegistrationError {
    /// True for a read that only timed out (the connection is still fine).
    pub fn is_timeout(&self) -> bool {
        matches!(self, RegistrationError::Io { source, .. }
            if matches!(source.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut))
    }
}

/// Directory of the local sockets of listeners and instances: `$ORASIM_RUN_DIR`, else
/// `/tmp/.orasim-<uid>` (Oracle keeps its IPC sockets in `/var/tmp/.oracle`).
pub fn run_dir() -> PathBuf {
    match std::env::var_os("ORASIM_RUN_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from(format!("/tmp/.orasim-{}", nix::unistd::getuid().as_raw())),
    }
}

/// Where a listener that listens on TCP `port` accepts registrations. The listener binds it
/// (after binding its TCP endpoints, so with port 0 it uses the port it got); lreg connects
/// to the one named by LOCAL_LISTENER.
pub fn socket_path_for_port(port: u16) -> PathBuf {
    socket_path_for_port_in(&run_dir(), port)
}

/// [`socket_path_for_port`] under an explicit run directory (for tools and tests that must
/// not depend on the environment).
pub fn socket_path_for_port_in(dir: &std::path::Path, port: u16) -> PathBuf {
    dir.join(format!("lsnr_{port}.reg"))
}

/// Where a listener with an IPC endpoint `(PROTOCOL=IPC)(KEY=key)` accepts registrations.
pub fn socket_path_for_ipc_key(key: &str) -> PathBuf {
    let safe: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    run_dir().join(format!("lsnr_ipc_{safe}.reg"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> InstanceRegistration {
        InstanceRegistration {
            instance_name: "orcl".into(),
            sid: "ORCL".into(),
            db_name: "ORCL".into(),
            oracle_home: "/u01/app/oracle".into(),
            host: "dbhost".into(),
            pid: 4242,
            status: InstanceStatus::Ready,
            services: vec!["orcl".into(), "orcl_ro".into()],
            handlers: vec![
                Handler {
                    name: "DEDICATED".into(),
                    kind: HandlerKind::Dedicated,
                    state: HandlerState::Ready,
                    current: 3,
                    max: 150,
                },
                Handler {
                    name: "D000".into(),
                    kind: HandlerKind::Dispatcher {
                        address: "(ADDRESS=(PROTOCOL=tcp)(HOST=dbhost)(PORT=50731))".into(),
                        handoff_path: Some("/tmp/d000".into()),
                        pid: 4242,
                    },
                    state: HandlerState::Blocked,
                    current: 0,
                    max: 1022,
                },
            ],
            load: LoadReport {
                processes_used: 5,
                processes_max: 150,
                sessions_used: 4,
                sessions_max: 247,
            },
            refresh_secs: 60,
        }
    }

    #[test]
    fn messages_round_trip_as_single_lines() {
        let msgs = vec![
            ClientMessage::ServiceUpdate {
                version: PROTOCOL_VERSION,
                registration: sample(),
            },
            ClientMessage::Deregister {
                version: PROTOCOL_VERSION,
                instance_name: "orcl".into(),
            },
        ];
        let mut wire = Vec::new();
        for m in &msgs {
            write_message(&mut wire, m).unwrap();
        }
        assert_eq!(wire.iter().filter(|&&b| b == b'\n').count(), 2);
        let mut r = LineReader::new(&wire[..]);
        for m in &msgs {
            let got: ClientMessage = r.read_message().unwrap();
            assert_eq!(&got, m);
        }
        assert!(matches!(
            r.read_message::<ClientMessage>(),
            Err(RegistrationError::Closed)
        ));
    }

    #[test]
    fn wire_format_is_tagged_json() {
        let line = encode(&ServerMessage::Ack {
            listener: "LISTENER".into(),
        });
        assert_eq!(line, b"{\"type\":\"ack\",\"listener\":\"LISTENER\"}\n");
        let text = String::from_utf8(encode(&sample().handlers[1])).unwrap();
        assert!(text.contains("\"kind\":\"dispatcher\""), "{text}");
        assert!(text.contains("\"state\":\"blocked\""), "{text}");
    }

    #[test]
    fn bad_and_oversized_lines_are_refused() {
        assert!(matches!(
            decode::<ClientMessage>(b"{\"type\":\"nonsense\"}"),
            Err(RegistrationError::BadMessage { .. })
        ));
        assert!(matches!(
            decode::<ClientMessage>(b"not json"),
            Err(RegistrationError::BadMessage { .. })
        ));
        let mut long = vec![b'x'; MAX_LINE + 10];
        long.push(b'\n');
        let mut r = LineReader::new(&long[..]);
        assert!(matches!(
            r.read_message::<ClientMessage>(),
            Err(RegistrationError::TooLong { .. })
        ));
    }

    /// A reader that delivers its bytes in small pieces with a timeout between them.
    struct Trickle {
        pieces: Vec<Vec<u8>>,
        timeout_next: bool,
    }

    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let timeout = self.timeout_next;
            self.timeout_next = !timeout;
            if timeout {
                return Err(std::io::ErrorKind::WouldBlock.into());
            }
            if self.pieces.is_empty() {
                return Ok(0);
            }
            let p = self.pieces.remove(0);
            out[..p.len()].copy_from_slice(&p);
            Ok(p.len())
        }
    }

    #[test]
    fn partial_lines_survive_read_timeouts() {
        let line = encode(&ServerMessage::Ack {
            listener: "LISTENER".into(),
        });
        let (a, b) = line.split_at(10);
        let mut r = LineReader::new(Trickle {
            pieces: vec![a.to_vec(), b.to_vec()],
            timeout_next: false,
        });
        let mut timeouts = 0;
        let msg: ServerMessage = loop {
            match r.read_message() {
                Ok(m) => break m,
                Err(e) if e.is_timeout() => timeouts += 1,
                Err(e) => panic!("{e}"),
            }
        };
        assert!(timeouts >= 1);
        assert_eq!(
            msg,
            ServerMessage::Ack {
                listener: "LISTENER".into()
            }
        );
    }

    #[test]
    fn socket_paths_are_per_port_and_sanitised() {
        let a = socket_path_for_port(1521);
        let b = socket_path_for_port(1522);
        assert_ne!(a, b);
        assert!(a.ends_with("lsnr_1521.reg"));
        let ipc = socket_path_for_ipc_key("EXT/PROC 1");
        assert!(ipc.ends_with("lsnr_ipc_EXT_PROC_1.reg"));
    }
}
