//! The dedicated server loop: one socket, one session, blocking I/O.
//!
//! The listener (or its spawner, in the forked child) hands over the client socket together
//! with the CONNECT bytes it already read. Everything Oracle Net is the engine's
//! [`ServerConn`]: this module only sets the socket up, builds the session's instance and
//! credentials, and runs a thin read/write/wait loop around the connection until LOGOFF,
//! EOF or a reset.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use thiserror::Error;

pub use engine::SessionEnd;
use engine::{
    Credentials, InstanceHooks, LocalInstance, ServerConn, Session, SessionConfig, SessionRunner,
};
use tns::packet;

use crate::driver;
use crate::pwfile::PasswordFileCredentials;

/// What the dedicated server needs to know about where it runs.
#[derive(Clone)]
#[non_exhaustive]
pub struct DedicatedContext {
    /// The instance SID (`ORACLE_SID`).
    pub sid: String,
    /// The service the client asked for (from the CONNECT descriptor or the SID_DESC).
    pub service_name: String,
    /// `$ORACLE_HOME` (the password file lives in `$ORACLE_HOME/dbs/orapw<SID>`).
    pub oracle_home: PathBuf,
    /// `GLOBAL_DBNAME` of the static SID_DESC, if any.
    pub global_dbname: Option<String>,
    /// Largest SDU this server agrees to.
    pub max_sdu: u32,
    /// Host name reported by `SYS_CONTEXT('USERENV','SERVER_HOST')`.
    pub server_host: String,
    /// How long a read may block before the session is considered dead (None: forever).
    pub idle_timeout: Option<Duration>,
    /// SQLNET.INBOUND_CONNECT_TIMEOUT: the client must complete its login within it, counted
    /// from the hand-off (None: no limit).
    pub inbound_connect_timeout: Option<Duration>,
    /// Dead connection detection (`SQLNET.EXPIRE_TIME`): TCP keepalive probes after this
    /// much idle time, so a vanished client does not leave its server process behind.
    pub expire_time: Option<Duration>,
    /// SQLNET.RECV_TIMEOUT: the longest wait for the client's next data (None: no limit).
    pub recv_timeout: Option<Duration>,
    /// SQLNET.SEND_TIMEOUT: the longest a send to the client may block (None: no limit).
    pub send_timeout: Option<Duration>,
    /// The instance (SGA) side; `None` = an in-process [`LocalInstance`] named after the SID.
    pub instance: Option<Arc<dyn InstanceHooks>>,
    /// Where verifiers come from; `None` = the password file of the SID.
    pub credentials: Option<Arc<dyn Credentials>>,
}

impl std::fmt::Debug for DedicatedContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DedicatedContext")
            .field("sid", &self.sid)
            .field("service_name", &self.service_name)
            .field("oracle_home", &self.oracle_home)
            .field("global_dbname", &self.global_dbname)
            .field("max_sdu", &self.max_sdu)
            .field("server_host", &self.server_host)
            .field("idle_timeout", &self.idle_timeout)
            .field("inbound_connect_timeout", &self.inbound_connect_timeout)
            .field("expire_time", &self.expire_time)
            .field("recv_timeout", &self.recv_timeout)
            .field("send_timeout", &self.send_timeout)
            .field("instance", &self.instance.is_some())
            .field("credentials", &self.credentials.is_some())
            .finish()
    }
}

impl DedicatedContext {
    /// A context with defaults for everything but the names.
    pub fn new(
        sid: impl Into<String>,
        service_name: impl Into<String>,
        oracle_home: impl Into<PathBuf>,
    ) -> Self {
        DedicatedContext {
            sid: sid.into(),
            service_name: service_name.into(),
            oracle_home: oracle_home.into(),
            global_dbname: None,
            max_sdu: 65535,
            server_host: crate::instance::host_name(),
            idle_timeout: None,
            inbound_connect_timeout: None,
            expire_time: None,
            recv_timeout: None,
            send_timeout: None,
            instance: None,
            credentials: None,
        }
    }
}

/// Why a dedicated session ended abnormally.
#[derive(Debug, Error)]
pub enum DedicatedError {
    /// The CONNECT bytes handed over could not be decoded.
    #[error("{} (bad CONNECT: {source})", tns::error_text::tns_line(12560))]
    BadConnect {
        /// The decode error.
        #[from]
        source: packet::DecodeError,
    },
    /// The CONNECT bytes handed over were incomplete.
    #[error(
        "{} (incomplete CONNECT, {len} bytes)",
        tns::error_text::tns_line(12560)
    )]
    IncompleteConnect {
        /// Bytes received.
        len: usize,
    },
    /// A send to the client did not complete within SQLNET.SEND_TIMEOUT (Oracle logs
    /// TNS-12535 with the secondary error 12608).
    #[error(
        "{} ({})",
        tns::error_text::tns_line(12535),
        tns::error_text::tns_line(12608)
    )]
    SendTimeout,
    /// A socket operation failed.
    #[error("{} ({context}: {source})", tns::error_text::tns_line(12537))]
    Io {
        /// What was being done.
        context: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
}

impl DedicatedError {
    /// True when the client sent nothing for the idle timeout the loop was given.
    pub fn is_timeout(&self) -> bool {
        matches!(self, DedicatedError::Io { source, .. }
            if matches!(source.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut))
    }
}

/// What a zygote (the listener's spawner, which forks every dedicated and prespawned server)
/// does once, so that no forked server does it on its client's critical path: the OS user
/// name for V$PROCESS is looked up (NSS reads nsswitch.conf and /etc/passwd), and the crypto
/// crates of O5LOGON and the thread RNG run once, which makes them detect the CPU's
/// instructions (CPUID, a trap to the hypervisor in a virtual machine) and keep the answer in
/// statics the children inherit. Nothing secret is shared: every child reseeds its RNG.
pub fn prepare_zygote() {
    use tns::o5logon;
    let _ = crate::sga::os_user();
    let v12 = o5logon::Verifier::new_12c(b"", &[0; 16], 1);
    let sealed = o5logon::encrypt(&v12.key, &[0; 16]);
    let _ = o5logon::decrypt_raw(&v12.key, &sealed);
    let _ = o5logon::Verifier::new_11g(b"", &[0; 10]);
    let mut seed = [0u8; 16];
    rand::fill(&mut seed);
}

/// Runs one dedicated session on `stream`. `connect_bytes` is the CONNECT packet (plus its
/// overflow DATA packet) the listener already consumed. Returns when the session is over.
pub fn run_dedicated(
    stream: TcpStream,
    connect_bytes: Vec<u8>,
    ctx: DedicatedContext,
) -> Result<SessionEnd, DedicatedError> {
    if packet::decode_connect(&connect_bytes)?.is_none() {
        return Err(DedicatedError::IncompleteConnect {
            len: connect_bytes.len(),
        });
    }
    // A forked child shares its parent's RNG state until reseeded.
    let _ = rand::rng().reseed();
    let _ = stream.set_nodelay(true);
    if let Some(t) = ctx.expire_time
        && let Err(e) = driver::enable_dead_connection_detection(&stream, t)
    {
        tracing::warn!("SQLNET.EXPIRE_TIME: cannot turn on keepalive: {e}");
    }
    run_session(stream, &connect_bytes, ctx)
}

/// Runs one session on `stream` from its first bytes (`connect_bytes`, possibly none: the
/// CONNECT then comes from the stream) until it is over.
pub(crate) fn run_session<S: ServerStream>(
    mut stream: S,
    connect_bytes: &[u8],
    ctx: DedicatedContext,
) -> Result<SessionEnd, DedicatedError> {
    // The session runs on this process's main thread (a dedicated or bequeathed server).
    driver::ensure_session_stack();
    // A SID with a parameter file is a database: attach its SGA (process slot now; at login
    // ORA-01034 if it is down, ORA-00020 if PROCESSES was full). A bare static SID_DESC keeps
    // the self-contained in-process instance.
    let instance: Arc<dyn InstanceHooks> = match ctx.instance.clone() {
        Some(i) => i,
        None => match crate::sga::hooks::SgaInstance::for_dedicated(&ctx.oracle_home, &ctx.sid) {
            Some(sga) => sga,
            None => Arc::new(LocalInstance::new(
                ctx.sid.clone(),
                std::process::id() % 10_000 + 1,
            )),
        },
    };
    let creds = ctx
        .credentials
        .clone()
        .unwrap_or_else(|| Arc::new(PasswordFileCredentials::new(&ctx.oracle_home, &ctx.sid)));
    let cfg = SessionConfig {
        service_name: ctx
            .global_dbname
            .clone()
            .unwrap_or_else(|| ctx.service_name.clone()),
        db_domain: String::new(),
        server_host: ctx.server_host.clone(),
        max_open_cursors: 300,
    };
    let session = Session::new(cfg, creds, instance, driver::os_random());
    let runner = SessionRunner::new(session, driver::wall_clock());
    let mut conn = ServerConn::new(runner, ctx.max_sdu);
    let start = Instant::now();
    if let Some(t) = ctx.inbound_connect_timeout {
        conn.set_login_deadline(start + t);
    }
    let timeouts = ClientTimeouts {
        recv: ctx.recv_timeout,
        send: ctx.send_timeout,
    };
    timeouts.apply(&stream, &mut conn)?;
    if !connect_bytes.is_empty() {
        conn.handle_bytes(start, connect_bytes);
    }
    let served = serve(&mut stream, &mut conn, ctx.idle_timeout);
    log_client_timeout(&ctx.oracle_home, &ctx.sid, &served, &conn);
    match served? {
        Served::Ended(end) => Ok(end),
        // Only a pooled server's session releases; a dedicated session that is not one
        // treats SESSION_RELEASE as a no-op and never gets here.
        Served::Released => Ok(SessionEnd::Eof),
    }
}

/// SQLNET.RECV_TIMEOUT and SQLNET.SEND_TIMEOUT of a server process that talks to its client
/// directly (a dedicated or a pooled server).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ClientTimeouts {
    /// The longest wait for the client's next data.
    pub(crate) recv: Option<Duration>,
    /// The longest a send to the client may block.
    pub(crate) send: Option<Duration>,
}

impl ClientTimeouts {
    /// The server's sqlnet.ora values.
    pub(crate) fn of_home(oracle_home: &std::path::Path) -> ClientTimeouts {
        ClientTimeouts {
            recv: driver::recv_timeout(oracle_home),
            send: driver::send_timeout(oracle_home),
        }
    }

    /// Applies them to one client connection: the receive timeout is the connection's idle
    /// timer, the send timeout the socket's (a blocked write then fails, see [`serve`]).
    pub(crate) fn apply<S: ServerStream>(
        &self,
        stream: &S,
        conn: &mut ServerConn,
    ) -> Result<(), DedicatedError> {
        if let Some(t) = self.recv {
            conn.set_recv_timeout(t);
        }
        stream
            .write_timeout(self.send)
            .map_err(|source| DedicatedError::Io {
                context: "setting the send timeout",
                source,
            })
    }
}

/// Oracle's dedicated server (and a pooled server, which is one while it serves a client)
/// writes its own alert log entry when a send or a receive timed out (SQLNET.SEND_TIMEOUT,
/// SQLNET.RECV_TIMEOUT): this writes it when `served` or `conn` says so.
pub(crate) fn log_client_timeout(
    oracle_home: &std::path::Path,
    sid: &str,
    served: &Result<Served, DedicatedError>,
    conn: &ServerConn,
) {
    let timed_out = match served {
        Err(e @ DedicatedError::SendTimeout) => Some(e.to_string()),
        _ => conn
            .error()
            .filter(|e| matches!(e, engine::conn::ConnError::RecvTimeout))
            .map(ToString::to_string),
    };
    if let Some(e) = timed_out {
        crate::alert::append(oracle_home, sid, &format!("closing the connection: {e}"));
    }
}

/// A connected byte stream a server loop serves: the TCP socket the listener handed over,
/// or the Unix socket of a bequeath connection.
pub(crate) trait ServerStream: Read + Write {
    /// `set_nonblocking` of the socket.
    fn nonblocking(&self, on: bool) -> std::io::Result<()>;
    /// `set_read_timeout` of the socket.
    fn read_timeout(&self, t: Option<Duration>) -> std::io::Result<()>;
    /// `set_write_timeout` of the socket.
    fn write_timeout(&self, t: Option<Duration>) -> std::io::Result<()>;
}

impl ServerStream for TcpStream {
    fn nonblocking(&self, on: bool) -> std::io::Result<()> {
        self.set_nonblocking(on)
    }
    fn read_timeout(&self, t: Option<Duration>) -> std::io::Result<()> {
        self.set_read_timeout(t)
    }
    fn write_timeout(&self, t: Option<Duration>) -> std::io::Result<()> {
        self.set_write_timeout(t)
    }
}

impl ServerStream for std::os::unix::net::UnixStream {
    fn nonblocking(&self, on: bool) -> std::io::Result<()> {
        self.set_nonblocking(on)
    }
    fn read_timeout(&self, t: Option<Duration>) -> std::io::Result<()> {
        self.set_read_timeout(t)
    }
    fn write_timeout(&self, t: Option<Duration>) -> std::io::Result<()> {
        self.set_write_timeout(t)
    }
}

/// How [`serve`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Served {
    /// The session ended.
    Ended(SessionEnd),
    /// A pooled server's client released its session: the connection goes back to the
    /// broker.
    Released,
}

/// The blocking loop: write what the connection has to say, wait for the client until the
/// connection's next deadline, feed it what came or that the time passed.
pub(crate) fn serve<S: ServerStream>(
    stream: &mut S,
    conn: &mut ServerConn,
    idle: Option<Duration>,
) -> Result<Served, DedicatedError> {
    let mut chunk = vec![0u8; 16 * 1024];
    // What the socket is set to: a call between two reads costs no system call for it when
    // nothing changed (the idle wait of a session between calls is the same every time).
    let mut set_mode: Option<ReadMode> = None;
    loop {
        while let Some(bytes) = conn.poll_transmit() {
            match stream.write_all(&bytes) {
                Ok(()) => {}
                // SQLNET.SEND_TIMEOUT: the client did not take the bytes in time.
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    let e = DedicatedError::SendTimeout;
                    tracing::warn!("closing the connection: {e}");
                    return Err(e);
                }
                Err(source) => {
                    return Err(DedicatedError::Io {
                        context: "writing to client",
                        source,
                    });
                }
            }
        }
        if let Some(end) = conn.end() {
            if let Some(e) = conn.error() {
                tracing::warn!("closing the connection: {e}");
            }
            return Ok(Served::Ended(end));
        }
        if conn.released().is_some() {
            return Ok(Served::Released);
        }
        let deadline = conn.poll_timeout();
        let until_deadline = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        // The idle limit ends the wait only when it comes before the connection's deadline
        // (a pooled server's MAX_THINK_TIME before a longer SQLNET.RECV_TIMEOUT).
        let idle_first = idle.is_some_and(|i| until_deadline.is_none_or(|d| i < d));
        let wait = if idle_first { idle } else { until_deadline };
        // A call computing in slices: only look at the socket, do not wait.
        let polling = wait.is_some_and(|w| w.is_zero());
        let mode = if polling {
            ReadMode::Polling
        } else {
            ReadMode::Waiting(wait)
        };
        if set_mode != Some(mode) {
            let set = match mode {
                ReadMode::Polling => stream.nonblocking(true),
                ReadMode::Waiting(wait) => stream
                    .nonblocking(false)
                    .and_then(|()| stream.read_timeout(wait)),
            };
            set.map_err(|source| DedicatedError::Io {
                context: "setting the socket timeout",
                source,
            })?;
            set_mode = Some(mode);
        }
        match stream.read(&mut chunk) {
            Ok(0) => conn.handle_eof(),
            Ok(n) => conn.handle_bytes(Instant::now(), &chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e)
                if !idle_first
                    && deadline.is_some()
                    && matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
            {
                conn.handle_timeout(Instant::now());
            }
            Err(e) if is_reset(&e) => conn.handle_eof(),
            Err(source) => {
                return Err(DedicatedError::Io {
                    context: "reading from client",
                    source,
                });
            }
        }
    }
}

/// How the next read of [`serve`] waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReadMode {
    /// Non-blocking: only look at the socket.
    Polling,
    /// Blocking, at most this long (None: until data comes).
    Waiting(Option<Duration>),
}

fn is_reset(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::BrokenPipe
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use tns::packet::{LengthMode, Packet};

    #[test]
    fn accepts_then_ends_on_client_eof() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let descriptor = format!(
            "(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT={}))(CONNECT_DATA=(SERVICE_NAME=ORCL)(CID=(PROGRAM={})(HOST=h)(USER=u))))",
            addr.port(),
            "x".repeat(200)
        );
        let connect = tns::packet::Connect::new(descriptor, 8192);
        let client = std::thread::spawn(move || {
            let mut s = TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut hdr = [0u8; 45];
            s.read_exact(&mut hdr).unwrap();
            s.write_all(&tns::packet::Data::eof().encode(LengthMode::Large))
                .unwrap();
            hdr
        });
        let (server, _) = l.accept().unwrap();
        let mut ctx = DedicatedContext::new("ORCL", "ORCL", "/nonexistent");
        ctx.idle_timeout = Some(Duration::from_secs(10));
        let end = run_dedicated(server, connect.encode(), ctx).unwrap();
        assert_eq!(end, SessionEnd::Eof);
        let accept = client.join().unwrap();
        let (p, _) = packet::decode(&accept, LengthMode::Short).unwrap().unwrap();
        let Packet::Accept(a) = p else {
            panic!("expected ACCEPT, got {p:?}")
        };
        assert_eq!(a.version, 318);
        assert_eq!(a.sdu, 8192);
    }
}
