//! One byte stream framed into TNS packets: the blocking half of the client that the
//! sans-I/O `tns` codec leaves to its users. It owns the [`Link`] (a TCP socket, or an
//! in-memory peer such as a server state machine in a test), the receive buffer, the
//! length mode (2-byte before ACCEPT, 4-byte after) and the SDU, and knows nothing about
//! TTC beyond splitting a payload into SDU-sized DATA packets.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use tns::packet::{self, LengthMode, Marker, MarkerKind, Packet};

use crate::error::ClientError;

/// Read/write timeout of a socket during the connect phase when no CONNECT_TIMEOUT is set.
pub(crate) const DEFAULT_CONNECT_PHASE_TIMEOUT: Duration = Duration::from_secs(60);
/// TCP handshake timeout when neither TRANSPORT_CONNECT_TIMEOUT nor TCP.CONNECT_TIMEOUT is
/// set (python-oracledb uses 20 s).
pub(crate) const DEFAULT_TRANSPORT_CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// Why reading a packet stopped.
#[derive(Debug)]
pub(crate) enum RecvError {
    /// The read timed out (`WouldBlock`/`TimedOut`).
    Timeout,
    /// The peer closed the connection.
    Eof,
    /// Any other socket error.
    Io(io::Error),
    /// Bytes that are not a TNS packet.
    Decode(packet::DecodeError),
}

/// The byte stream under a TNS connection. A TCP socket is one; a test can supply another
/// (an in-memory peer that runs a server state machine on a virtual clock), which is why
/// the client is generic over it.
pub trait Link: std::fmt::Debug + Send {
    /// Reads what is available, waiting at most the read timeout (then `WouldBlock` or
    /// `TimedOut`); `Ok(0)` at end of stream.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    /// Writes all of `bytes`.
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// How long one [`Link::read`] may wait.
    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()>;
    /// Closes both directions; errors are irrelevant at that point.
    fn shutdown(&mut self);
    /// A second handle on the same byte stream, for sending a BREAK from another thread
    /// while a call waits for its answer (none for links that cannot be shared).
    fn try_clone_link(&self) -> Option<Box<dyn Link>> {
        None
    }
}

impl Link for TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Read::read(self, buf)
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        Write::write_all(self, bytes)
    }

    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        TcpStream::set_read_timeout(self, Some(timeout))
    }

    fn shutdown(&mut self) {
        let _ = TcpStream::shutdown(self, Shutdown::Both);
    }

    fn try_clone_link(&self) -> Option<Box<dyn Link>> {
        TcpStream::try_clone(self)
            .ok()
            .map(|s| Box::new(s) as Box<dyn Link>)
    }
}

/// The bequeath link: the client's end of the socket pair whose other end is the server
/// process the client started (`orasql / as sysdba`).
impl Link for std::os::unix::net::UnixStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Read::read(self, buf)
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        Write::write_all(self, bytes)
    }

    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        std::os::unix::net::UnixStream::set_read_timeout(self, Some(timeout))
    }

    fn shutdown(&mut self) {
        let _ = std::os::unix::net::UnixStream::shutdown(self, Shutdown::Both);
    }

    fn try_clone_link(&self) -> Option<Box<dyn Link>> {
        std::os::unix::net::UnixStream::try_clone(self)
            .ok()
            .map(|s| Box::new(s) as Box<dyn Link>)
    }
}

/// The most one read of a [`Transport`] takes from its link.
const READ_CHUNK: usize = 16 * 1024;

/// A TNS connection over a [`Link`].
#[derive(Debug)]
pub(crate) struct Transport {
    link: Box<dyn Link>,
    buf: Vec<u8>,
    /// What one read takes from the link, allocated (and zeroed) once per connection
    /// rather than zero-filled on the stack for every read.
    chunk: Box<[u8]>,
    mode: LengthMode,
    sdu: u32,
}

impl Transport {
    /// Opens a TCP connection to `host:port` within `timeout`, trying every address the
    /// name resolves to. Sets TCP_NODELAY and read/write timeouts.
    pub(crate) fn connect(
        host: &str,
        port: u16,
        timeout: Duration,
        io_timeout: Duration,
    ) -> Result<Transport, ClientError> {
        let addrs: Vec<SocketAddr> = match (host, port).to_socket_addrs() {
            Ok(a) => a.collect(),
            Err(_) => {
                return Err(ClientError::UnknownHost {
                    host: host.to_string(),
                });
            }
        };
        if addrs.is_empty() {
            return Err(ClientError::UnknownHost {
                host: host.to_string(),
            });
        }
        let mut last = ClientError::NoListener {
            host: host.to_string(),
            port,
        };
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(stream) => {
                    let t = Transport::from_stream(stream, io_timeout).map_err(|e| {
                        ClientError::Io {
                            context: "configuring the socket",
                            source: e,
                        }
                    })?;
                    return Ok(t);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                    ) =>
                {
                    last = ClientError::ConnectTimeout {
                        what: "TCP connect timeout",
                        secs: timeout.as_secs_f64(),
                        host: host.to_string(),
                        port,
                    };
                }
                Err(_) => {
                    last = ClientError::NoListener {
                        host: host.to_string(),
                        port,
                    };
                }
            }
        }
        Err(last)
    }

    fn from_stream(stream: TcpStream, io_timeout: Duration) -> io::Result<Self> {
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(io_timeout))?;
        stream.set_write_timeout(Some(io_timeout))?;
        Ok(Transport::over(Box::new(stream)))
    }

    /// A transport over an already open link, in the connect phase.
    pub(crate) fn over(link: Box<dyn Link>) -> Self {
        Transport {
            link,
            buf: Vec::with_capacity(8192),
            chunk: vec![0; READ_CHUNK].into_boxed_slice(),
            mode: LengthMode::Short,
            sdu: packet::DEFAULT_SDU,
        }
    }

    /// Switches to the session phase: 4-byte lengths from now on, and the SDU the ACCEPT
    /// gave (adopted verbatim, like python-oracledb).
    pub(crate) fn accepted(&mut self, version: u16, sdu: u32) {
        self.mode = LengthMode::for_version(version);
        self.sdu = sdu.clamp(512, 2 * 1024 * 1024);
    }

    /// Sets the read timeout (a call timeout, or the connect-phase deadline).
    pub(crate) fn set_read_timeout(&mut self, t: Duration) -> io::Result<()> {
        self.link.set_read_timeout(t.max(Duration::from_millis(1)))
    }

    /// A second handle on the link (see [`Link::try_clone_link`]).
    pub(crate) fn try_clone_link(&self) -> Option<Box<dyn Link>> {
        self.link.try_clone_link()
    }

    /// The current length mode.
    pub(crate) fn mode(&self) -> LengthMode {
        self.mode
    }

    /// Writes already-framed bytes.
    pub(crate) fn send_raw(&mut self, bytes: &[u8]) -> Result<(), ClientError> {
        self.link.write_all(bytes).map_err(|e| ClientError::Io {
            context: "sending",
            source: e,
        })
    }

    /// Sends a TTC payload as one or more DATA packets of at most SDU bytes.
    pub(crate) fn send_data(&mut self, payload: &[u8]) -> Result<(), ClientError> {
        let bytes = packet::encode_data_packets(payload, self.sdu, self.mode, 0);
        self.send_raw(&bytes)
    }

    /// Sends a MARKER packet.
    pub(crate) fn send_marker(&mut self, kind: MarkerKind) -> Result<(), ClientError> {
        let bytes = Marker { kind }.encode(self.mode);
        self.send_raw(&bytes)
    }

    /// Reads one packet, waiting at most the socket's read timeout per read.
    pub(crate) fn recv(&mut self) -> Result<Packet, RecvError> {
        loop {
            match packet::decode(&self.buf, self.mode) {
                Ok(Some((p, used))) => {
                    self.buf.drain(..used);
                    return Ok(p);
                }
                Ok(None) => {}
                Err(e) => return Err(RecvError::Decode(e)),
            }
            match self.link.read(&mut self.chunk) {
                Ok(0) => return Err(RecvError::Eof),
                Ok(n) => self.buf.extend_from_slice(&self.chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(RecvError::Timeout);
                }
                Err(e) => return Err(RecvError::Io(e)),
            }
        }
    }

    /// Reads one packet before `deadline` (connect phase).
    pub(crate) fn recv_before(&mut self, deadline: Instant) -> Result<Packet, RecvError> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(RecvError::Timeout);
        }
        self.set_read_timeout(left).map_err(RecvError::Io)?;
        self.recv()
    }

    /// Shuts the socket down (both directions); errors are irrelevant at that point.
    pub(crate) fn shutdown(&mut self) {
        self.link.shutdown();
    }
}
