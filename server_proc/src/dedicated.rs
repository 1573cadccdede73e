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
use std::time::Duration;

use thiserror::Error;
use tns::packet::{self, Accept, LengthMode, Packet};

/// What the dedicated server needs to know about where it runs.
#[derive(Debug, Clone)]
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
    /// The session engine rejected the byte stream.
    #[error("ORA-03137: malformed TTC packet from client rejected: {detail}")]
    Protocol {
        /// What was wrong.
        detail: String,
    },
}

/// How the session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// The client logged off (LOGOFF then EOF).
    Logoff,
    /// The client closed the socket or sent a DATA EOF.
    Eof,
}

/// Runs one dedicated session on `stream`. `connect_bytes` is the CONNECT packet (plus its
/// overflow DATA packet) the listener already consumed. Returns when the session is over.
pub fn run_dedicated(
    mut stream: TcpStream,
    connect_bytes: Vec<u8>,
    ctx: DedicatedContext,
) -> Result<SessionEnd, DedicatedError> {
    let (connect, _) =
        packet::decode_connect(&connect_bytes)?.ok_or(DedicatedError::IncompleteConnect {
            len: connect_bytes.len(),
        })?;
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(ctx.idle_timeout);
    let accept = Accept::for_connect(&connect, ctx.max_sdu);
    write_all(&mut stream, &accept.encode(), "sending ACCEPT")?;
    let mode = LengthMode::for_version(accept.version);
    let mut conn = PacketStream::new(stream, mode);
    loop {
        let Some(p) = conn.next_packet()? else {
            return Ok(SessionEnd::Eof);
        };
        if let Packet::Data(d) = &p
            && d.flags & packet::data_flags::EOF != 0
        {
            return Ok(SessionEnd::Eof);
        }
    }
}

fn write_all(
    stream: &mut TcpStream,
    bytes: &[u8],
    context: &'static str,
) -> Result<(), DedicatedError> {
    stream
        .write_all(bytes)
        .map_err(|source| DedicatedError::Io { context, source })
}

/// A blocking packet reader/writer over the client socket.
struct PacketStream {
    stream: TcpStream,
    mode: LengthMode,
    buf: Vec<u8>,
}

impl PacketStream {
    fn new(stream: TcpStream, mode: LengthMode) -> Self {
        PacketStream {
            stream,
            mode,
            buf: Vec::with_capacity(16 * 1024),
        }
    }

    /// The next packet, or `None` at a clean EOF between packets.
    fn next_packet(&mut self) -> Result<Option<Packet>, DedicatedError> {
        loop {
            if let Some((p, used)) = packet::decode(&self.buf, self.mode)? {
                self.buf.drain(..used);
                return Ok(Some(p));
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = match self.stream.read(&mut chunk) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
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
        std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

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
