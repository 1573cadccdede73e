//! Shared server: dispatchers (D000, ...) and shared servers (S000, ...) as threads of
//! `oradb`, so many client connections are served by a few servers instead of one process
//! each.
//!
//! A dispatcher owns the client sockets of its virtual circuits in one `mio` event loop. It
//! takes connections from the listener by direct hand-off (its Unix `SOCK_SEQPACKET` socket,
//! [`crate::handoff`]) or on its own TCP address (the listener's REDIRECT), answers the
//! CONNECT with ACCEPT as a dedicated server does, and reads TNS packets. Each DATA payload
//! goes, together with the circuit's session state (the sans-I/O [`Session`], Oracle's UGA),
//! on the one common request queue; any idle shared server takes it, runs the engine, and
//! puts the encoded answer and the session back on the dispatcher's own response queue, then
//! wakes the dispatcher, which writes the answer to the client. A circuit has at most one
//! request out at a time, so its requests run in order.
//!
//! A client BREAK during a call is passed to the shared server running it through a flag it
//! polls (as the dedicated server polls its socket). Not done here: a sleep inside a call
//! occupies its shared server (it does see breaks, kills and shutdowns), and the server
//! count is fixed at SHARED_SERVERS (no growth up to MAX_SHARED_SERVERS).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use mio::net::{TcpListener, TcpStream};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};

use engine::{Input, ServerConn, Session, SessionConfig, SessionRunner};

use crate::driver;
use crate::pwfile::PasswordFileCredentials;
use crate::sga::hooks::SgaInstance;

const WAKE: Token = Token(0);
const HANDOFF: Token = Token(1);
const TCP: Token = Token(2);
const FIRST_CIRCUIT: usize = 3;
/// CONNECTIONS of a dispatcher, as `lsnrctl services` shows it (`max:1022`).
pub const MAX_CONNECTIONS: u32 = 1022;
/// Largest SDU a dispatcher agrees to.
const MAX_SDU: u32 = 65535;

/// Errors starting the shared-server processes.
#[derive(Debug, thiserror::Error)]
pub enum SharedError {
    /// A socket, poll or thread could not be set up.
    #[error("ORA-00101: invalid specification for system parameter DISPATCHERS ({what}: {source})")]
    Setup {
        /// What failed.
        what: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

fn setup(what: &'static str) -> impl FnOnce(std::io::Error) -> SharedError {
    move |source| SharedError::Setup { what, source }
}

/// What the shared-server machinery needs from the parameter file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedConfig {
    /// ORACLE_SID.
    pub sid: String,
    /// ORACLE_HOME (password file).
    pub oracle_home: PathBuf,
    /// Number of dispatchers (DISPATCHERS=n of the DISPATCHERS parameter).
    pub dispatchers: u32,
    /// SHARED_SERVERS.
    pub shared_servers: u32,
    /// Host name for addresses and SERVER_HOST.
    pub host: String,
    /// Where the dispatchers' own TCP endpoints listen (the address a REDIRECT sends a
    /// client to): `(HOST=...)` of DISPATCHERS, else the host of LOCAL_LISTENER, so an
    /// instance whose listener is on loopback keeps its dispatchers on loopback too.
    pub listen_host: String,
}

impl SharedConfig {
    /// From the parameters: `None` when shared server is off (SHARED_SERVERS unset or 0 and
    /// no DISPATCHERS). DISPATCHERS alone means SHARED_SERVERS=1; SHARED_SERVERS alone means
    /// one TCP dispatcher.
    pub fn from_params(
        p: &crate::initora::InitParams,
        oracle_home: &Path,
        host: &str,
    ) -> Option<SharedConfig> {
        let dispatchers: u32 = p.dispatchers.iter().map(|d| dispatcher_count(d)).sum();
        let servers = match p.shared_servers {
            Some(0) => return None,
            Some(n) => n,
            None if dispatchers > 0 => 1,
            None => return None,
        };
        let listen_host = p
            .dispatchers
            .iter()
            .find_map(|d| dispatcher_attribute(d, "HOST"))
            .or_else(|| match &p.listener {
                crate::initora::ListenerTarget::Tcp { host, .. } => Some(host.clone()),
                crate::initora::ListenerTarget::Ipc { .. } => None,
            })
            .unwrap_or_else(|| host.to_string());
        Some(SharedConfig {
            sid: p.sid.clone(),
            oracle_home: oracle_home.to_path_buf(),
            dispatchers: dispatchers.max(1),
            shared_servers: servers,
            host: host.to_string(),
            listen_host,
        })
    }
}

/// `(DISPATCHERS=n)` of one DISPATCHERS value (attribute names may be abbreviated to three
/// letters); 1 when absent or unreadable.
pub fn dispatcher_count(value: &str) -> u32 {
    dispatcher_attribute(value, "DISPATCHERS").map_or(1, |v| v.parse().unwrap_or(1))
}

/// The value of attribute `name` (upper case) in one DISPATCHERS value, found at any depth
/// (`(ADDRESS=(PROTOCOL=TCP)(HOST=h))` or `(HOST=h)`); names may be abbreviated to three
/// letters, as Oracle allows.
fn dispatcher_attribute(value: &str, name: &str) -> Option<String> {
    let mut rest = value;
    while let Some(open) = rest.find('(') {
        rest = &rest[open + 1..];
        let end = rest.find(['(', ')']).unwrap_or(rest.len());
        if let Some((k, v)) = rest[..end].split_once('=') {
            let k = k.trim().to_ascii_uppercase();
            let v = v.trim().trim_matches(['"', '\'']);
            if k.len() >= 3 && name.starts_with(&k) && !v.is_empty() {
                return Some(v.to_string());
            }
        }
    }
    None
}

/// The hand-off socket of dispatcher `name` (`D000`) of instance `sid` in process `pid`.
pub fn handoff_path(sid: &str, name: &str, pid: u32) -> PathBuf {
    crate::registration::run_dir().join(format!(
        "{}_{}_{pid}.disp",
        sid.to_ascii_lowercase(),
        name.to_ascii_lowercase()
    ))
}

/// What lreg registers for one dispatcher.
#[derive(Debug, Clone)]
pub struct DispatcherInfo {
    /// `D000`.
    pub name: String,
    /// Its own TCP address, for a listener REDIRECT.
    pub address: String,
    /// Its hand-off socket.
    pub handoff_path: String,
    /// Current circuits.
    pub circuits: Arc<AtomicU32>,
}

impl PartialEq for DispatcherInfo {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.address == other.address
            && self.handoff_path == other.handoff_path
            && Arc::ptr_eq(&self.circuits, &other.circuits)
    }
}

impl Eq for DispatcherInfo {}

/// The running dispatchers and shared servers.
#[derive(Debug)]
pub struct SharedServers {
    dispatchers: Vec<DispatcherInfo>,
    stop: Arc<AtomicBool>,
    wakers: Vec<Arc<Waker>>,
    threads: Vec<JoinHandle<()>>,
}

/// One request on the common queue: a circuit's session (lent by its connection) and what
/// arrived for it.
struct Work {
    dispatcher: usize,
    circuit: Token,
    runner: Box<SessionRunner>,
    input: Input,
    /// Set by the dispatcher when the client sends a BREAK during the call.
    brk: Arc<AtomicBool>,
}

/// A shared server's answer on a dispatcher's response queue: the session, back with the
/// framed reply in it.
struct Done {
    circuit: Token,
    runner: Box<SessionRunner>,
}

impl SharedServers {
    /// Starts the dispatchers and shared servers of `cfg`.
    pub fn start(cfg: &SharedConfig) -> Result<SharedServers, SharedError> {
        let (work_tx, work_rx) = crossbeam_channel::unbounded::<Work>();
        let stop = Arc::new(AtomicBool::new(false));
        let mut infos = Vec::new();
        let mut wakers = Vec::new();
        let mut replies = Vec::new();
        let mut loops = Vec::new();
        for i in 0..cfg.dispatchers {
            let name = format!("D{i:03}");
            let (d, info) = Dispatcher::new(cfg, i as usize, &name, work_tx.clone())?;
            wakers.push(Arc::clone(&d.waker));
            replies.push((d.reply_tx.clone(), Arc::clone(&d.waker)));
            infos.push(info);
            loops.push(d);
        }
        drop(work_tx);
        let replies = Arc::new(replies);
        let mut threads = Vec::new();
        let sga = crate::sga::Sga::attach(&cfg.sid).ok();
        for i in 0..cfg.shared_servers {
            let rx = work_rx.clone();
            let replies = Arc::clone(&replies);
            let name = format!("S{i:03}");
            // Its V$PROCESS row (`oracle@host (S000)`), held for the thread's life.
            let slot = sga.as_ref().and_then(|sga| {
                sga.register_process(&crate::sga::ProcessSpec {
                    kind: crate::sga::ProcessKind::SharedServer,
                    pname: name.clone(),
                    ..crate::sga::ProcessSpec::dedicated(format!("oracle@{} ({name})", cfg.host))
                })
                .map_err(|e| tracing::warn!("{name}: no process slot: {e}"))
                .ok()
            });
            threads.push(
                std::thread::Builder::new()
                    .name(name)
                    .spawn(move || {
                        shared_server(&rx, &replies);
                        drop(slot);
                    })
                    .map_err(setup("start shared server"))?,
            );
        }
        for d in loops {
            let stop = Arc::clone(&stop);
            let name = d.name.clone();
            threads.push(
                std::thread::Builder::new()
                    .name(name)
                    .spawn(move || d.run(&stop))
                    .map_err(setup("start dispatcher"))?,
            );
        }
        tracing::info!(
            "shared server: {} dispatcher(s), {} shared server(s)",
            cfg.dispatchers,
            cfg.shared_servers
        );
        Ok(SharedServers {
            dispatchers: infos,
            stop,
            wakers,
            threads,
        })
    }

    /// The dispatchers, for registration.
    pub fn dispatchers(&self) -> &[DispatcherInfo] {
        &self.dispatchers
    }

    /// Stops the dispatchers (closing their circuits) and then the shared servers.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Release);
        for w in &self.wakers {
            let _ = w.wake();
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        for d in &self.dispatchers {
            let _ = std::fs::remove_file(&d.handoff_path);
        }
    }
}

/// Body of a shared server: take a request, run the engine until the call is answered
/// (sleeping until its next deadline, passing on a client BREAK), answer the dispatcher.
fn shared_server(rx: &Receiver<Work>, replies: &[(Sender<Done>, Arc<Waker>)]) {
    for w in rx.iter() {
        let Work {
            dispatcher,
            circuit,
            mut runner,
            input,
            brk,
        } = w;
        if input == Input::Break {
            brk.store(false, Ordering::Release);
        }
        runner.handle_input(Instant::now(), input);
        // The runner's deadlines include a kill check every KILL_POLL, so a BREAK is seen
        // within that time too.
        while let Some(at) = runner.poll_timeout() {
            if brk.swap(false, Ordering::AcqRel) {
                runner.handle_input(Instant::now(), Input::Break);
                continue;
            }
            let wait = at.saturating_duration_since(Instant::now());
            if !wait.is_zero() {
                std::thread::sleep(wait);
            }
            runner.handle_timeout(Instant::now());
        }
        if let Some((tx, waker)) = replies.get(dispatcher)
            && tx.send(Done { circuit, runner }).is_ok()
        {
            let _ = waker.wake();
        }
    }
}

/// One client connection of a dispatcher: the socket and its [`ServerConn`], which lends
/// its session to a shared server for each request.
struct Circuit {
    stream: TcpStream,
    conn: ServerConn,
    outbuf: Vec<u8>,
    /// A client BREAK the shared server running this circuit's call has not seen yet.
    brk: Arc<AtomicBool>,
    /// The socket failed: close as soon as the session is home.
    broken: bool,
    writable_registered: bool,
}

struct Dispatcher {
    name: String,
    index: usize,
    poll: Poll,
    waker: Arc<Waker>,
    handoff: OwnedFd,
    tcp: TcpListener,
    reply_tx: Sender<Done>,
    reply_rx: Receiver<Done>,
    work_tx: Sender<Work>,
    circuits: HashMap<Token, Circuit>,
    count: Arc<AtomicU32>,
    next: usize,
    instance: Arc<SgaInstance>,
    creds: Arc<PasswordFileCredentials>,
    host: String,
    sid: String,
}

impl Dispatcher {
    fn new(
        cfg: &SharedConfig,
        index: usize,
        name: &str,
        work_tx: Sender<Work>,
    ) -> Result<(Dispatcher, DispatcherInfo), SharedError> {
        use nix::sys::socket::{
            AddressFamily, Backlog, SockFlag, SockType, UnixAddr, bind, listen, socket,
        };
        let poll = Poll::new().map_err(setup("create poll"))?;
        let waker =
            Arc::new(Waker::new(poll.registry(), WAKE).map_err(setup("create dispatcher waker"))?);
        let path = handoff_path(&cfg.sid, name, std::process::id());
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = std::fs::remove_file(&path);
        let sock = socket(
            AddressFamily::Unix,
            SockType::SeqPacket,
            SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
            None,
        )
        .map_err(|e| setup("create hand-off socket")(e.into()))?;
        let addr = UnixAddr::new(&path).map_err(|e| setup("hand-off path")(e.into()))?;
        bind(sock.as_raw_fd(), &addr).map_err(|e| setup("bind hand-off socket")(e.into()))?;
        listen(&sock, Backlog::new(128).unwrap_or(Backlog::MAXCONN))
            .map_err(|e| setup("listen on hand-off socket")(e.into()))?;
        poll.registry()
            .register(
                &mut SourceFd(&sock.as_raw_fd()),
                HANDOFF,
                Interest::READABLE,
            )
            .map_err(setup("register hand-off socket"))?;
        let bind_to = std::net::ToSocketAddrs::to_socket_addrs(&(cfg.listen_host.as_str(), 0))
            .map_err(setup("resolve the dispatcher's HOST"))?
            .next()
            .ok_or_else(|| {
                setup("resolve the dispatcher's HOST")(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("no address for {}", cfg.listen_host),
                ))
            })?;
        let mut tcp = TcpListener::bind(bind_to).map_err(setup("bind dispatcher TCP address"))?;
        let port = tcp
            .local_addr()
            .map_err(setup("dispatcher address"))?
            .port();
        poll.registry()
            .register(&mut tcp, TCP, Interest::READABLE)
            .map_err(setup("register dispatcher TCP address"))?;
        let (reply_tx, reply_rx) = crossbeam_channel::unbounded();
        let count = Arc::new(AtomicU32::new(0));
        let info = DispatcherInfo {
            name: name.to_string(),
            address: format!(
                "(ADDRESS=(PROTOCOL=tcp)(HOST={})(PORT={port}))",
                cfg.listen_host
            ),
            handoff_path: path.display().to_string(),
            circuits: Arc::clone(&count),
        };
        let instance = Arc::new(SgaInstance::attach_dispatcher(
            &cfg.oracle_home,
            &cfg.sid,
            name,
        ));
        let d = Dispatcher {
            name: name.to_string(),
            index,
            poll,
            waker,
            handoff: sock,
            tcp,
            reply_tx,
            reply_rx,
            work_tx,
            circuits: HashMap::new(),
            count,
            next: FIRST_CIRCUIT,
            instance,
            creds: Arc::new(PasswordFileCredentials::new(&cfg.oracle_home, &cfg.sid)),
            host: cfg.host.clone(),
            sid: cfg.sid.clone(),
        };
        Ok((d, info))
    }

    fn run(mut self, stop: &AtomicBool) {
        let mut events = Events::with_capacity(256);
        while !stop.load(Ordering::Acquire) {
            if let Err(e) = self.poll.poll(&mut events, Some(Duration::from_secs(1))) {
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                tracing::error!("{}: poll failed: {e}", self.name);
                break;
            }
            for ev in &events {
                match ev.token() {
                    WAKE => {}
                    HANDOFF => self.accept_handoffs(),
                    TCP => self.accept_tcp(),
                    t => {
                        if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                            self.read(t);
                        }
                        self.pump(t);
                    }
                }
            }
            while let Ok(done) = self.reply_rx.try_recv() {
                let t = done.circuit;
                // A circuit that went away meanwhile: dropping the session frees its slot.
                if let Some(c) = self.circuits.get_mut(&t) {
                    c.conn.finish_request(done.runner);
                    self.pump(t);
                }
            }
        }
        self.circuits.clear();
        self.count.store(0, Ordering::Relaxed);
    }

    fn new_circuit(&mut self, mut stream: TcpStream, connect_bytes: &[u8], service: String) {
        let token = Token(self.next);
        self.next += 1;
        if let Err(e) = self
            .poll
            .registry()
            .register(&mut stream, token, Interest::READABLE)
        {
            tracing::warn!("{}: cannot register a circuit: {e}", self.name);
            return;
        }
        let _ = stream.set_nodelay(true);
        let cfg = SessionConfig {
            service_name: service,
            db_domain: String::new(),
            server_host: self.host.clone(),
            max_open_cursors: 300,
        };
        let session = Session::new(
            cfg,
            self.creds.clone(),
            self.instance.clone(),
            driver::os_random(),
        );
        let runner = SessionRunner::new(session, driver::wall_clock());
        let mut conn = ServerConn::new_lending(runner, MAX_SDU);
        conn.handle_bytes(Instant::now(), connect_bytes);
        let c = Circuit {
            stream,
            conn,
            outbuf: Vec::new(),
            brk: Arc::new(AtomicBool::new(false)),
            broken: false,
            writable_registered: false,
        };
        self.circuits.insert(token, c);
        self.count
            .store(self.circuits.len() as u32, Ordering::Relaxed);
        self.pump(token);
    }

    fn accept_handoffs(&mut self) {
        loop {
            let raw = match nix::sys::socket::accept4(
                self.handoff.as_raw_fd(),
                nix::sys::socket::SockFlag::SOCK_CLOEXEC,
            ) {
                Ok(fd) => fd,
                Err(nix::Error::EINTR) => continue,
                Err(_) => return,
            };
            // SAFETY: accept4 just returned this new descriptor; nothing else owns it.
            let conn = unsafe { OwnedFd::from_raw_fd(raw) };
            let _ = nix::sys::socket::setsockopt(
                &conn,
                nix::sys::socket::sockopt::ReceiveTimeout,
                &nix::sys::time::TimeVal::new(2, 0),
            );
            match crate::handoff::receive(conn.as_fd()) {
                Ok(Some((msg, Some(fd)))) => {
                    let std_stream = std::net::TcpStream::from(fd);
                    if std_stream.set_nonblocking(true).is_err() {
                        continue;
                    }
                    let service = msg
                        .meta
                        .global_dbname
                        .clone()
                        .unwrap_or_else(|| msg.meta.service.clone());
                    tracing::info!("{}: circuit for {}", self.name, msg.meta.peer);
                    self.new_circuit(TcpStream::from_std(std_stream), &msg.connect_bytes, service);
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("{}: {e}", self.name),
            }
        }
    }

    fn accept_tcp(&mut self) {
        while let Ok((stream, _)) = self.tcp.accept() {
            let service = self.sid.clone();
            self.new_circuit(stream, &[], service);
        }
    }

    /// Reads what the client sent into the circuit's connection; a BREAK for the call a
    /// shared server runs right now goes to the flag that server polls.
    fn read(&mut self, t: Token) {
        let Some(c) = self.circuits.get_mut(&t) else {
            return;
        };
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match c.stream.read(&mut chunk) {
                Ok(0) => {
                    c.conn.handle_eof();
                    break;
                }
                Ok(n) => c.conn.handle_bytes(Instant::now(), &chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => {
                    c.conn.handle_eof();
                    break;
                }
            }
            if c.conn.is_closed() {
                break;
            }
        }
        if c.conn.take_interrupt() {
            c.brk.store(true, Ordering::Release);
        }
    }

    /// Lends the session to the shared servers when a request waits, writes pending
    /// output, closes a finished circuit.
    fn pump(&mut self, t: Token) {
        let Some(c) = self.circuits.get_mut(&t) else {
            return;
        };
        if let Some((runner, input)) = c.conn.poll_request() {
            let work = Work {
                dispatcher: self.index,
                circuit: t,
                runner,
                input,
                brk: Arc::clone(&c.brk),
            };
            if let Err(e) = self.work_tx.send(work) {
                c.conn.finish_request(e.into_inner().runner);
                c.broken = true;
            }
        }
        if let Some(bytes) = c.conn.poll_transmit() {
            c.outbuf.extend_from_slice(&bytes);
        }
        while !c.outbuf.is_empty() {
            match c.stream.write(&c.outbuf) {
                Ok(0) => {
                    c.broken = true;
                    break;
                }
                Ok(n) => {
                    c.outbuf.drain(..n);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => {
                    c.broken = true;
                    break;
                }
            }
        }
        if c.broken {
            c.outbuf.clear();
        }
        let want_write = !c.outbuf.is_empty();
        if want_write != c.writable_registered {
            let interest = if want_write {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            let _ = self.poll.registry().reregister(&mut c.stream, t, interest);
            c.writable_registered = want_write;
        }
        // Done once the connection is over (or the socket broke) and its last bytes are
        // written; a session still out on a shared server is freed when it comes back.
        if (c.conn.is_closed() || c.broken)
            && c.outbuf.is_empty()
            && let Some(mut c) = self.circuits.remove(&t)
        {
            if let Some(e) = c.conn.error() {
                tracing::warn!("{}: closing a circuit: {e}", self.name);
            }
            let _ = self.poll.registry().deregister(&mut c.stream);
            self.count
                .store(self.circuits.len() as u32, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispatchers_listen_where_dispatchers_or_local_listener_say() {
        let params = |text: &str| {
            let pf = config::ParamFile::parse_str(text, "initORCL.ora").value;
            let mut diags = Vec::new();
            crate::initora::from_param_file(
                &pf,
                "ORCL",
                Path::new("initORCL.ora"),
                Path::new("/nonexistent"),
                &mut diags,
            )
            .expect("init.ora")
        };
        let on_loopback = params(
            "db_name=ORCL\nshared_servers=2\nlocal_listener='(ADDRESS=(PROTOCOL=TCP)(HOST=127.0.0.1)(PORT=1522))'\n",
        );
        let cfg = SharedConfig::from_params(&on_loopback, Path::new("/h"), "vm").expect("on");
        assert_eq!(cfg.listen_host, "127.0.0.1");
        let explicit = params(
            "db_name=ORCL\ndispatchers='(ADDRESS=(PROTOCOL=TCP)(HOST=127.0.0.2))(DISPATCHERS=2)'\n\
             local_listener='(ADDRESS=(PROTOCOL=TCP)(HOST=127.0.0.1)(PORT=1522))'\n",
        );
        let cfg = SharedConfig::from_params(&explicit, Path::new("/h"), "vm").expect("on");
        assert_eq!(
            (cfg.listen_host.as_str(), cfg.dispatchers),
            ("127.0.0.2", 2)
        );
        assert_eq!(
            dispatcher_attribute("(pro=tcp)(hos=db1)(disp=2)", "HOST").as_deref(),
            Some("db1")
        );
        assert_eq!(dispatcher_attribute("(PROTOCOL=TCP)", "HOST"), None);
    }

    #[test]
    fn dispatcher_count_reads_abbreviated_attributes() {
        assert_eq!(dispatcher_count("(PROTOCOL=TCP)"), 1);
        assert_eq!(dispatcher_count("(PROTOCOL=TCP)(DISPATCHERS=3)"), 3);
        assert_eq!(dispatcher_count("(pro=tcp)(disp=2)"), 2);
        assert_eq!(dispatcher_count("(PROTOCOL=TCP)(DISPATCHERS=x)"), 1);
    }
}
