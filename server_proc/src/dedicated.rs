//! The dedicated server loop: one socket, one session, blocking I/O.
//!
//! The listener (or its spawner, in the forked child) hands over the client socket together
//! with the CONNECT bytes it already read. This module answers the ACCEPT, switches to 4-byte
//! packet lengths and then shuttles bytes between the socket and the sans-I/O session
//! engine until LOGOFF, EOF or a reset. It exists so that the blocking transport is the only
//! thing that differs between dedicated and shared servers.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::pwfile::PasswordFileCredentials;
use tns::packet::{self, Accept, LengthMode, Marker, MarkerKind, Packet};

use engine::{Action, Credentials, InstanceHooks, LocalInstance, Session, SessionConfig};

/// How often a dedicated server inside a long call (a sleep) looks for a kill.
const KILL_POLL: Duration = Duration::from_millis(100);

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
    /// Dead connection detection (`SQLNET.EXPIRE_TIME`): TCP keepalive probes after this
    /// much idle time, so a vanished client does not leave its server process behind.
    pub expire_time: Option<Duration>,
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
            .field("expire_time", &self.expire_time)
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
            server_host: local_host_name(),
            idle_timeout: None,
            expire_time: None,
            instance: None,
            credentials: None,
        }
    }
}

fn local_host_name() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// Why a dedicated session ended abnormally.
#[derive(Debug, Error)]
pub enum DedicatedError {
    /// The CONNECT bytes handed over could not be decoded.
    #[error("TNS-12560: TNS:protocol adapter error (bad CONNECT: {source})")]
    BadConnect {
        /// The decode error.
        #[from]
        source: packet::DecodeError,
    },
    /// The CONNECT bytes handed over were incomplete.
    #[error("TNS-12560: TNS:protocol adapter error (incomplete CONNECT, {len} bytes)")]
    IncompleteConnect {
        /// Bytes received.
        len: usize,
    },
    /// A socket operation failed.
    #[error("TNS-12537: TNS:connection closed ({context}: {source})")]
    Io {
        /// What was being done.
        context: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
}

/// How the session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// The client logged off (LOGOFF then EOF).
    Logoff,
    /// The client closed the socket or sent a DATA EOF without logging off.
    Eof,
    /// The server closed the session (killed, fatal protocol error).
    Closed,
}

/// Runs one dedicated session on `stream`. `connect_bytes` is the CONNECT packet (plus its
/// overflow DATA packet) the listener already consumed. Returns when the session is over.
pub fn run_dedicated(
    stream: TcpStream,
    connect_bytes: Vec<u8>,
    ctx: DedicatedContext,
) -> Result<SessionEnd, DedicatedError> {
    let (connect, _) =
        packet::decode_connect(&connect_bytes)?.ok_or(DedicatedError::IncompleteConnect {
            len: connect_bytes.len(),
        })?;
    // A forked child shares its parent's RNG state until reseeded.
    let _ = rand::rng().reseed();
    let _ = stream.set_nodelay(true);
    if let Some(t) = ctx.expire_time {
        let _ = apply_expire_time(&stream, t);
    }
    let accept = Accept::for_connect(&connect, ctx.max_sdu);
    let mut conn = PacketStream::new(stream, LengthMode::Short, accept.sdu, ctx.idle_timeout);
    conn.write(&accept.encode(), "sending ACCEPT")?;
    conn.mode = LengthMode::for_version(accept.version);

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
    let mut session = Session::new(cfg, creds, instance, os_random());
    let end = serve(&mut conn, &mut session);
    session.on_disconnect();
    end
}

fn serve(conn: &mut PacketStream, session: &mut Session) -> Result<SessionEnd, DedicatedError> {
    let eof = |s: &Session| {
        if s.logged_off() {
            SessionEnd::Logoff
        } else {
            SessionEnd::Eof
        }
    };
    loop {
        let Some(p) = conn.next_packet(None)? else {
            return Ok(eof(session));
        };
        let actions = match p {
            Packet::Data(d) if d.flags & packet::data_flags::EOF != 0 => return Ok(eof(session)),
            Packet::Data(d) => session.on_data(&d.payload),
            Packet::Marker(Marker {
                kind: MarkerKind::Break | MarkerKind::Interrupt,
            }) => session.on_break(),
            // The client's RESET after our BREAK/RESET, CONTROL, anything else: ignore.
            _ => Vec::new(),
        };
        if let Some(end) = perform(conn, session, actions)? {
            return Ok(end);
        }
    }
}

/// Performs actions; `Some(end)` when the session is over.
fn perform(
    conn: &mut PacketStream,
    session: &mut Session,
    actions: Vec<Action>,
) -> Result<Option<SessionEnd>, DedicatedError> {
    let mut queue: std::collections::VecDeque<Action> = actions.into();
    while let Some(a) = queue.pop_front() {
        match a {
            Action::Send(bytes) => conn.send_data(&bytes)?,
            Action::BreakAndSend(bytes) => {
                conn.send_marker(MarkerKind::Break)?;
                conn.send_marker(MarkerKind::Reset)?;
                conn.send_data(&bytes)?;
            }
            Action::Close => return Ok(Some(SessionEnd::Closed)),
            Action::Busy => match conn.poll_packet()? {
                Polled::Eof => return Ok(Some(SessionEnd::Eof)),
                Polled::Packet(Packet::Marker(Marker {
                    kind: MarkerKind::Break | MarkerKind::Interrupt,
                })) => queue.extend(session.on_break()),
                Polled::Packet(Packet::Data(d)) if d.flags & packet::data_flags::EOF != 0 => {
                    return Ok(Some(SessionEnd::Eof));
                }
                Polled::Packet(Packet::Data(d)) => {
                    // Buffered by the engine until the current call completes.
                    queue.extend(session.on_data(&d.payload));
                    queue.push_back(Action::Busy);
                }
                Polled::Packet(_) | Polled::Nothing => {
                    let killed = session.on_kill_check();
                    if killed.is_empty() {
                        queue.extend(session.on_work());
                    } else {
                        queue.extend(killed);
                    }
                }
            },
            Action::Sleep(d) => {
                let deadline = Instant::now() + d;
                loop {
                    // Wake up regularly to see a KILL SESSION / SHUTDOWN IMMEDIATE at once.
                    let slice = deadline.min(Instant::now() + KILL_POLL);
                    match conn.next_packet(Some(slice))? {
                        Some(Packet::Marker(Marker {
                            kind: MarkerKind::Break | MarkerKind::Interrupt,
                        })) => {
                            queue.extend(session.on_break());
                            break;
                        }
                        Some(Packet::Data(d)) if d.flags & packet::data_flags::EOF != 0 => {
                            return Ok(Some(SessionEnd::Eof));
                        }
                        Some(Packet::Data(d)) => {
                            // Buffered by the engine until the current call completes.
                            queue.extend(session.on_data(&d.payload));
                        }
                        Some(_) => {}
                        None if Instant::now() >= deadline => {
                            queue.extend(session.on_timer());
                            break;
                        }
                        None if Instant::now() >= slice => {
                            let killed = session.on_kill_check();
                            if !killed.is_empty() {
                                queue.extend(killed);
                                break;
                            }
                        }
                        None => return Ok(Some(SessionEnd::Eof)),
                    }
                }
            }
        }
    }
    Ok(None)
}

/// The engine's random source in a server: the thread-local OS-seeded generator (reseeded
/// after fork by [`run_dedicated`]).
pub fn os_random() -> engine::RandomSource {
    Box::new(|b: &mut [u8]| rand::fill(b))
}

/// Turns on TCP keepalive with the first probe after `idle` (Oracle's dead connection
/// detection), then probes every 10 seconds, 3 times.
pub fn apply_expire_time(stream: &TcpStream, idle: Duration) -> nix::Result<()> {
    use nix::sys::socket::{setsockopt, sockopt};
    let secs = u32::try_from(idle.as_secs().max(1)).unwrap_or(u32::MAX);
    setsockopt(stream, sockopt::KeepAlive, &true)?;
    setsockopt(stream, sockopt::TcpKeepIdle, &secs)?;
    setsockopt(stream, sockopt::TcpKeepInterval, &10)?;
    setsockopt(stream, sockopt::TcpKeepCount, &3)
}

/// What a non-blocking look at the socket found.
enum Polled {
    /// A complete packet.
    Packet(Packet),
    /// Nothing yet.
    Nothing,
    /// The client closed the connection.
    Eof,
}

/// A blocking packet reader/writer over the client socket.
struct PacketStream {
    stream: TcpStream,
    mode: LengthMode,
    sdu: u32,
    idle: Option<Duration>,
    buf: Vec<u8>,
}

impl PacketStream {
    fn new(stream: TcpStream, mode: LengthMode, sdu: u32, idle: Option<Duration>) -> Self {
        PacketStream {
            stream,
            mode,
            sdu,
            idle,
            buf: Vec::with_capacity(16 * 1024),
        }
    }

    fn write(&mut self, bytes: &[u8], context: &'static str) -> Result<(), DedicatedError> {
        self.stream
            .write_all(bytes)
            .map_err(|source| DedicatedError::Io { context, source })
    }

    fn send_data(&mut self, ttc: &[u8]) -> Result<(), DedicatedError> {
        let bytes = packet::encode_data_packets(ttc, self.sdu, self.mode, 0);
        self.write(&bytes, "sending DATA")
    }

    fn send_marker(&mut self, kind: MarkerKind) -> Result<(), DedicatedError> {
        let bytes = Marker { kind }.encode(self.mode);
        self.write(&bytes, "sending MARKER")
    }

    /// A packet if one is already buffered or readable now, without blocking.
    fn poll_packet(&mut self) -> Result<Polled, DedicatedError> {
        if let Some((p, used)) = packet::decode(&self.buf, self.mode)? {
            self.buf.drain(..used);
            return Ok(Polled::Packet(p));
        }
        if self.stream.set_nonblocking(true).is_err() {
            return Ok(Polled::Nothing);
        }
        let mut chunk = [0u8; 16 * 1024];
        let r = self.stream.read(&mut chunk);
        let _ = self.stream.set_nonblocking(false);
        match r {
            Ok(0) => Ok(Polled::Eof),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                match packet::decode(&self.buf, self.mode)? {
                    Some((p, used)) => {
                        self.buf.drain(..used);
                        Ok(Polled::Packet(p))
                    }
                    None => Ok(Polled::Nothing),
                }
            }
            Err(e) if is_reset(&e) => Ok(Polled::Eof),
            Err(_) => Ok(Polled::Nothing),
        }
    }

    /// The next packet; `None` at EOF, or when `deadline` passed first.
    fn next_packet(&mut self, deadline: Option<Instant>) -> Result<Option<Packet>, DedicatedError> {
        loop {
            if let Some((p, used)) = packet::decode(&self.buf, self.mode)? {
                self.buf.drain(..used);
                return Ok(Some(p));
            }
            let timeout = match deadline {
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return Ok(None);
                    }
                    Some(d - now)
                }
                None => self.idle,
            };
            let _ = self.stream.set_read_timeout(timeout);
            let mut chunk = [0u8; 16 * 1024];
            let n = match self.stream.read(&mut chunk) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e)
                    if deadline.is_some()
                        && matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) =>
                {
                    continue;
                }
                Err(e) if is_reset(&e) => return Ok(None),
                Err(source) => {
                    return Err(DedicatedError::Io {
                        context: "reading from client",
                        source,
                    });
                }
            };
            if n == 0 {
                return Ok(None);
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
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

    #[test]
    fn expire_time_turns_on_keepalive() {
        use nix::sys::socket::{getsockopt, sockopt};
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (s, _) = l.accept().unwrap();
        assert!(!getsockopt(&s, sockopt::KeepAlive).unwrap());
        apply_expire_time(&s, Duration::from_secs(600)).unwrap();
        assert!(getsockopt(&s, sockopt::KeepAlive).unwrap());
        assert_eq!(getsockopt(&s, sockopt::TcpKeepIdle).unwrap(), 600);
        drop(c);
    }

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
