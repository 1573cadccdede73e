//! A dispatcher, D000...: one `mio` event loop (a thread of `oradb` named `ora_d000_<SID>`)
//! owning the client sockets of its virtual circuits. It takes connections from the listener
//! by direct hand-off (its Unix `SOCK_SEQPACKET` socket, [`crate::handoff`]; the listener keeps
//! its connection open as a channel for the next hand-offs, so each is one message, not a
//! connection of its own) or on its own TCP
//! address (after the listener's REDIRECT, where it screens the CONNECT itself: an unknown
//! service gets ORA-12514, an unknown SID ORA-12505), answers the CONNECT with ACCEPT, and
//! reads TNS packets into each circuit's [`ServerConn`], which lends its session to a shared
//! server for every request (the common queue) and takes it back with the answer (this
//! dispatcher's response queue).
//!
//! Bounds: a circuit whose unsent answers exceed [`OUT_BOUND`] (a client that sends and
//! never reads) or whose unread requests exceed [`IN_BOUND`] is not read until they drain,
//! so it fills only its own buffer and the kernel's; a request that finds the common queue
//! full waits in this dispatcher's backlog (at most one per circuit) and the circuit is not
//! read meanwhile. Timers: each circuit's [`ServerConn::poll_timeout`] (the login deadline of
//! SQLNET.INBOUND_CONNECT_TIMEOUT, SQLNET.RECV_TIMEOUT) and its send deadline are kept in a
//! deadline set. SQLNET.SEND_TIMEOUT: a circuit whose unsent answer has not moved for that
//! long (its client stopped reading) is closed alone, with TNS-12535/TNS-12608 in the log,
//! as a dedicated server's blocked send gives up; the other circuits are never waited on. Kills: when a KILL/DISCONNECT
//! SESSION happened anywhere, the loop looks at its circuits' sessions; IMMEDIATE and
//! DISCONNECT close the circuit at once (its session is freed when a call in progress ends).

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::hash::BuildHasherDefault;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;

use super::common_queue::{Sender, TrySendError};
use mio::net::{TcpListener, TcpStream};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};

use engine::{Input, ServerConn, Session, SessionConfig, SessionRunner};

use crate::driver;
use crate::pwfile::PasswordFileCredentials;
use crate::sga::hooks::SgaInstance;
use crate::sga::shared::{CircuitHandle, circuit_status, queue, status};
use crate::sga::{KillRequest, ProcessHandle, Sga};

use super::config::SharedConfig;
use super::pool::{Done, Reply, Ticket, Work};
use super::{SharedError, handoff_path, setup};

const WAKE: Token = Token(0);
const HANDOFF: Token = Token(1);
const TCP: Token = Token(2);
const FIRST_CIRCUIT: usize = 3;
/// Largest SDU a dispatcher agrees to.
const MAX_SDU: u32 = 65535;
/// Unsent answers a circuit may have before the dispatcher stops reading it.
pub const OUT_BOUND: usize = 256 * 1024;
/// Unread requests a circuit may have before the dispatcher stops reading it.
pub const IN_BOUND: usize = 2 * MAX_SDU as usize;
/// Bytes of one read of a circuit's socket.
const READ_CHUNK: usize = 16 * 1024;

/// The loop's tables by poll token, looked up several times per event.
type TokenMap<V> = HashMap<Token, V, BuildHasherDefault<TokenHasher>>;

/// Hashes a token, a number this dispatcher handed out, by one multiplication (Fibonacci
/// hashing, which spreads it to the high bits the table probes with): the default SipHash,
/// made to resist keys chosen by an attacker, was an eighth of the loop's instructions.
#[derive(Default)]
struct TokenHasher(u64);

impl std::hash::Hasher for TokenHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// What the manager keeps of a running dispatcher.
#[derive(Debug)]
pub struct DispatcherHandle {
    /// `D000`.
    pub name: String,
    /// Its number (000).
    pub number: u32,
    /// The DISPATCHERS entry that started it.
    pub conf_indx: u32,
    /// CONNECTIONS (changed by ALTER SYSTEM SET DISPATCHERS).
    pub connections: Arc<AtomicU32>,
    /// Set to make it stop accepting and leave once its circuits are gone.
    pub retire: Arc<AtomicBool>,
    /// Wakes its loop.
    pub waker: Arc<Waker>,
    /// Its hand-off socket.
    pub handoff_path: PathBuf,
    /// The thread.
    pub thread: std::thread::JoinHandle<()>,
}

/// One client connection of a dispatcher: the socket and its [`ServerConn`], which lends
/// its session to a shared server for each request.
struct Circuit {
    stream: TcpStream,
    conn: ServerConn,
    outbuf: VecDeque<u8>,
    /// A client BREAK the shared server running this circuit's call has not seen yet.
    brk: Arc<AtomicBool>,
    /// The socket failed or the session was killed: close as soon as the session is home.
    broken: bool,
    interest: Option<Interest>,
    /// Its V$CIRCUIT slot.
    slot: Option<CircuitHandle>,
    /// The logged-in session, once known.
    session: Option<(u32, u32)>,
    /// The session is lent to a shared server.
    out: bool,
    /// The lent request's hold on the session while it may still wait on the common queue,
    /// and when it was queued.
    ticket: Option<(Arc<Ticket>, Instant)>,
    /// A request waiting for room on the common queue.
    parked: bool,
    /// Its current deadline in the dispatcher's timer set.
    deadline: Option<Instant>,
    /// SQLNET.SEND_TIMEOUT: when unsent output that has not moved since gives up.
    send_deadline: Option<Instant>,
    /// Came in on the dispatcher's own TCP port: the CONNECT is screened here.
    screened: bool,
}

pub(super) struct Dispatcher {
    name: String,
    number: u32,
    conf_indx: u32,
    connections: Arc<AtomicU32>,
    retire: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    poll: Poll,
    handoff: OwnedFd,
    handoff_path: PathBuf,
    tcp: TcpListener,
    network: String,
    reply: Arc<Reply>,
    reply_rx: Receiver<Done>,
    work_tx: Sender<Work>,
    circuits: TokenMap<Circuit>,
    /// Connections accepted on the hand-off socket, kept open for the hand-offs that follow
    /// (the listener keeps its end as a channel to this dispatcher).
    channels: TokenMap<OwnedFd>,
    /// Requests that found the common queue full (at most one per circuit).
    backlog: VecDeque<Work>,
    timers: BTreeSet<(Instant, Token)>,
    next: usize,
    cfg: Arc<SharedConfig>,
    sga: Arc<Sga>,
    /// Shared-server sessions of the whole instance (V$SHARED_SERVER_MONITOR).
    shared_sessions: Arc<AtomicU32>,
    kill_seen: u32,
    /// Its spells of refusing new connections, for the alert log.
    refusals: crate::fdlimit::RefusalSpell,
    /// Descriptors held in reserve for the moment the process runs out (EMFILE/ENFILE):
    /// closing them lets the dispatcher take the pending connection off its queue and
    /// refuse it instead of leaving it there.
    spare: Vec<std::fs::File>,
    /// What one read of a circuit's socket lands in, allocated once: a fresh zeroed 16 KiB
    /// per read was a third of the dispatcher's instructions per connect.
    chunk: Box<[u8]>,
}

/// Why a dispatcher refuses a new connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// It owns CONNECTIONS circuits.
    Connections,
    /// The instance has CIRCUITS circuits.
    Circuits,
    /// The instance's descriptors (RLIMIT_NOFILE less the reserve) are taken.
    Descriptors,
}

impl Refusal {
    fn reason(self, owned: usize, connections: u32, circuits: u32) -> String {
        match self {
            Refusal::Connections => format!("{owned} circuits, CONNECTIONS={connections}"),
            Refusal::Circuits => format!("the instance has CIRCUITS={circuits} circuits"),
            Refusal::Descriptors => format!(
                "RLIMIT_NOFILE reached: {} circuits fit with {} descriptors kept in reserve",
                crate::fdlimit::circuit_capacity(),
                crate::fdlimit::RESERVE
            ),
        }
    }
}

/// The Oracle error a CONNECT with `descriptor` on a dispatcher's own port is refused
/// with, if any.
fn screen_descriptor(cfg: &SharedConfig, descriptor: &str) -> Option<u32> {
    let Ok(d) = config::parse_descriptor(descriptor) else {
        return Some(12502);
    };
    if d.connect_data().is_none() {
        return Some(12502);
    }
    let known = |s: &str| {
        cfg.services.iter().any(|x| x.eq_ignore_ascii_case(s))
            || cfg.instance_name.eq_ignore_ascii_case(s)
    };
    match (d.service_name(), d.sid()) {
        (Some(s), _) if known(s) => None,
        (Some(_), _) => Some(12514),
        (None, Some(s)) if known(s) || cfg.sid.eq_ignore_ascii_case(s) => None,
        (None, Some(_)) => Some(12505),
        (None, None) => Some(12504),
    }
}

/// Opens the spare descriptors a dispatcher keeps.
fn spare_fds() -> Vec<std::fs::File> {
    (0..2)
        .filter_map(|_| std::fs::File::open("/dev/null").ok())
        .collect()
}

fn out_of_fds(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(code) if code == nix::errno::Errno::EMFILE as i32 || code == nix::errno::Errno::ENFILE as i32
    )
}

impl Dispatcher {
    /// Binds the dispatcher's sockets; [`Dispatcher::spawn`] then runs it in its thread.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        cfg: Arc<SharedConfig>,
        sga: Arc<Sga>,
        number: u32,
        conf_indx: u32,
        connections: u32,
        listen_host: &str,
        work_tx: Sender<Work>,
        stop: Arc<AtomicBool>,
        shared_sessions: Arc<AtomicU32>,
    ) -> Result<Dispatcher, SharedError> {
        use nix::sys::socket::{
            AddressFamily, Backlog, SockFlag, SockType, UnixAddr, bind, listen, socket,
        };
        let name = format!("D{number:03}");
        let poll = Poll::new().map_err(setup("create poll"))?;
        let waker =
            Arc::new(Waker::new(poll.registry(), WAKE).map_err(setup("create dispatcher waker"))?);
        let path = handoff_path(&cfg.sid, &name, std::process::id());
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
        let bind_to = std::net::ToSocketAddrs::to_socket_addrs(&(listen_host, 0))
            .map_err(setup("resolve the dispatcher's HOST"))?
            .next()
            .ok_or_else(|| {
                setup("resolve the dispatcher's HOST")(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("no address for {listen_host}"),
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
        Ok(Dispatcher {
            name,
            number,
            conf_indx,
            connections: Arc::new(AtomicU32::new(connections)),
            retire: Arc::new(AtomicBool::new(false)),
            stop,
            poll,
            handoff: sock,
            handoff_path: path,
            tcp,
            network: format!("(ADDRESS=(PROTOCOL=tcp)(HOST={listen_host})(PORT={port}))"),
            reply: Arc::new(Reply {
                tx: reply_tx,
                waker,
                polling: AtomicBool::new(false),
                process: Mutex::new(None),
            }),
            reply_rx,
            work_tx,
            circuits: TokenMap::default(),
            channels: TokenMap::default(),
            backlog: VecDeque::new(),
            timers: BTreeSet::new(),
            next: FIRST_CIRCUIT,
            kill_seen: sga.kill_seq(),
            refusals: Default::default(),
            spare: spare_fds(),
            chunk: vec![0u8; READ_CHUNK].into_boxed_slice(),
            cfg,
            sga,
            shared_sessions,
        })
    }

    /// Starts the dispatcher's thread.
    pub(super) fn spawn(self) -> Result<DispatcherHandle, SharedError> {
        let name = self.name.clone();
        let number = self.number;
        let conf_indx = self.conf_indx;
        let connections = Arc::clone(&self.connections);
        let retire = Arc::clone(&self.retire);
        let waker = Arc::clone(&self.reply.waker);
        let handoff_path = self.handoff_path.clone();
        let thread_name = format!("ora_{}_{}", name.to_ascii_lowercase(), self.cfg.sid);
        // The circuits' sessions end here (their statements are dropped on this thread).
        let thread = std::thread::Builder::new()
            .name(thread_name)
            .stack_size(engine::SESSION_STACK)
            .spawn(move || self.run())
            .map_err(setup("start dispatcher"))?;
        Ok(DispatcherHandle {
            name,
            number,
            conf_indx,
            connections,
            retire,
            waker,
            handoff_path,
            thread,
        })
    }

    fn run(mut self) {
        let tid = nix::unistd::gettid().as_raw();
        // The dispatcher's process slot (V$PROCESS, V$DISPATCHER) owns its circuits'
        // sessions; its SPID is this thread's id.
        let instance = Arc::new(SgaInstance::attach_dispatcher(
            &self.cfg.oracle_home,
            &self.cfg.sid,
            &self.name,
            Some(tid),
        ));
        let owner = Arc::clone(&instance);
        let process: Option<&ProcessHandle> = owner.attachment().process();
        if let Some(p) = process {
            p.init_dispatcher(
                &self.network,
                self.conf_indx,
                self.connections.load(Ordering::Relaxed),
            );
        }
        *self.reply.process.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::clone(&instance));
        let creds = Arc::new(PasswordFileCredentials::new(
            &self.cfg.oracle_home,
            &self.cfg.sid,
        ));
        tracing::info!("{} started (spid {tid}) at {}", self.name, self.network);
        let mut events = Events::with_capacity(256);
        let mut retiring = false;
        loop {
            if self.stop.load(Ordering::Acquire) {
                break;
            }
            if self.retire.load(Ordering::Acquire) && !retiring {
                retiring = true;
                if let Some(p) = process {
                    p.set_accepting(false);
                    p.set_shared_status(status::TERMINATE);
                }
                let _ = self.poll.registry().deregister(&mut self.tcp);
                let _ = self
                    .poll
                    .registry()
                    .deregister(&mut SourceFd(&self.handoff.as_raw_fd()));
                let _ = std::fs::remove_file(&self.handoff_path);
                self.close_channels(&instance, &creds, process);
                tracing::info!("{}: draining {} circuit(s)", self.name, self.circuits.len());
            }
            if retiring && self.circuits.is_empty() {
                break;
            }
            let now = Instant::now();
            let mut timeout = Duration::from_secs(1);
            if let Some((at, _)) = self.timers.first() {
                timeout = timeout.min(at.saturating_duration_since(now));
            }
            if !self.backlog.is_empty() {
                timeout = timeout.min(Duration::from_millis(5));
            }
            // From here until the poll returns, a shared server that queues an answer
            // wakes this loop; one queued before is seen now.
            self.reply.polling.store(true, Ordering::SeqCst);
            std::sync::atomic::fence(Ordering::SeqCst);
            if !self.reply_rx.is_empty() {
                timeout = Duration::ZERO;
            }
            if let Some(p) = process {
                p.set_busy(false);
            }
            let polled = self.poll.poll(&mut events, Some(timeout));
            self.reply.polling.store(false, Ordering::SeqCst);
            if let Err(e) = polled {
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                tracing::error!("{}: poll failed: {e}", self.name);
                break;
            }
            if let Some(p) = process {
                p.set_busy(true);
            }
            for ev in &events {
                match ev.token() {
                    WAKE => {}
                    HANDOFF if !retiring => self.accept_handoffs(&instance, &creds, process),
                    TCP if !retiring => self.accept_tcp(&instance, &creds, process),
                    HANDOFF | TCP => {}
                    t if self.channels.contains_key(&t) => {
                        self.read_channel(t, &instance, &creds, process)
                    }
                    t => {
                        if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                            let to_the_end = ev.is_read_closed() || ev.is_error();
                            self.read(t, to_the_end, process);
                        }
                        self.pump(t, process);
                    }
                }
            }
            // Only the replies that are here now: a circuit whose requests the shared servers
            // answer as fast as they come (a client pipelining and never reading) would
            // otherwise keep this loop from ever polling the other circuits again.
            for _ in 0..self.reply_rx.len() {
                let Ok(done) = self.reply_rx.try_recv() else {
                    break;
                };
                if let Some(p) = process {
                    p.response_dequeued(done.sent_at.elapsed());
                }
                let t = done.circuit;
                // A circuit killed IMMEDIATE/DISCONNECT while its call was out is closed, not
                // answered: its client sees what a dedicated server's client sees when the
                // process ends.
                self.look_at_kills(process);
                // A circuit that went away meanwhile: dropping the session frees its slot.
                if let Some(c) = self.circuits.get_mut(&t) {
                    if done.close && !c.broken {
                        let _ = c.stream.shutdown(std::net::Shutdown::Both);
                        c.broken = true;
                    }
                    c.out = false;
                    c.ticket = None;
                    // A BREAK the call did not see (it came as the call ended) is
                    // answered now, after the call's answer.
                    let unanswered = c.brk.swap(false, Ordering::AcqRel);
                    c.conn
                        .finish_request(Instant::now(), done.runner, unanswered);
                    if let Some(s) = &c.slot {
                        s.set_queue(queue::NONE, None);
                    }
                    self.pump(t, process);
                }
            }
            self.retry_backlog(process);
            self.fire_timers(process);
            self.look_at_kills(process);
        }
        self.shared_sessions_gone();
        for _ in self.circuits.drain() {
            crate::fdlimit::circuit_closed();
        }
        self.backlog.clear();
        let _ = std::fs::remove_file(&self.handoff_path);
        tracing::info!("{} stopped", self.name);
    }

    fn shared_sessions_gone(&self) {
        let with_session = self
            .circuits
            .values()
            .filter(|c| c.session.is_some())
            .count() as u32;
        let _ = self
            .shared_sessions
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| {
                Some(v.saturating_sub(with_session))
            });
    }

    /// Why a new connection cannot have a circuit now (the client gets ORA-12519), if so.
    fn no_room(&self) -> Option<Refusal> {
        if self.circuits.len() as u32 >= self.connections.load(Ordering::Relaxed) {
            Some(Refusal::Connections)
        } else if !crate::fdlimit::room_for_circuit() {
            Some(Refusal::Descriptors)
        } else {
            None
        }
    }

    /// Records in the alert log when this dispatcher starts and stops refusing connections.
    fn note_refusal(&mut self, refusal: Option<Refusal>) {
        // The reason is worked out only when a spell of refusing begins, not per connection.
        let (circuits, connections, sga) = (&self.circuits, &self.connections, &self.sga);
        self.refusals.note(
            &self.name,
            refusal.map(|r| {
                move || {
                    r.reason(
                        circuits.len(),
                        connections.load(Ordering::Relaxed),
                        sga.circuit_limit(),
                    )
                }
            }),
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn new_circuit(
        &mut self,
        mut stream: TcpStream,
        connect_bytes: &[u8],
        service: String,
        screened: bool,
        instance: &Arc<SgaInstance>,
        creds: &Arc<PasswordFileCredentials>,
        process: Option<&ProcessHandle>,
    ) {
        let token = Token(self.next);
        self.next += 1;
        let (slot, refusal) = match (process, self.no_room()) {
            (Some(p), None) => match self.sga.claim_circuit(p) {
                Some(slot) => (Some(slot), None),
                None => (None, Some(Refusal::Circuits)),
            },
            (_, Some(r)) => (None, Some(r)),
            (None, None) => (None, Some(Refusal::Circuits)),
        };
        self.note_refusal(refusal);
        let cfg = SessionConfig {
            service_name: service,
            db_domain: String::new(),
            server_host: self.cfg.host.clone(),
            max_open_cursors: 300,
        };
        let session = Session::new(cfg, creds.clone(), instance.clone(), driver::os_random());
        let runner = SessionRunner::new(session, driver::wall_clock());
        let mut conn = ServerConn::new_lending(runner, MAX_SDU).screening_connects();
        let now = Instant::now();
        if let Some(t) = self.cfg.inbound_connect_timeout {
            conn.set_login_deadline(now + t);
        }
        if let Some(t) = self.cfg.recv_timeout {
            conn.set_recv_timeout(t);
        }
        if let Err(e) = self
            .poll
            .registry()
            .register(&mut stream, token, Interest::READABLE)
        {
            tracing::warn!("{}: cannot register a circuit: {e}", self.name);
            return;
        }
        let _ = stream.set_nodelay(true);
        if let Some(idle) = self.cfg.expire_time
            && let Err(e) = driver::enable_dead_connection_detection(&stream, idle)
        {
            tracing::warn!(
                "{}: SQLNET.EXPIRE_TIME: cannot turn on keepalive: {e}",
                self.name
            );
        }
        let c = Circuit {
            stream,
            conn,
            outbuf: VecDeque::new(),
            brk: Arc::new(AtomicBool::new(false)),
            broken: false,
            interest: Some(Interest::READABLE),
            slot,
            session: None,
            out: false,
            ticket: None,
            parked: false,
            deadline: None,
            send_deadline: None,
            screened,
        };
        self.circuits.insert(token, c);
        crate::fdlimit::circuit_opened();
        if let Some(p) = process {
            p.set_owned(self.circuits.len() as u32, true);
        }
        if let Some(c) = self.circuits.get_mut(&token) {
            c.conn.handle_bytes(now, connect_bytes);
        }
        self.pump(token, process);
    }

    /// Accepts the listener's connections to the hand-off socket and takes the hand-offs
    /// waiting on them; each connection stays open (registered with the poll) for the
    /// hand-offs that follow.
    fn accept_handoffs(
        &mut self,
        instance: &Arc<SgaInstance>,
        creds: &Arc<PasswordFileCredentials>,
        process: Option<&ProcessHandle>,
    ) {
        loop {
            let raw = match nix::sys::socket::accept4(
                self.handoff.as_raw_fd(),
                nix::sys::socket::SockFlag::SOCK_CLOEXEC
                    | nix::sys::socket::SockFlag::SOCK_NONBLOCK,
            ) {
                Ok(fd) => fd,
                Err(nix::Error::EINTR) => continue,
                Err(nix::Error::EAGAIN) => return,
                Err(e) => {
                    let e = std::io::Error::from(e);
                    if out_of_fds(&e) && self.use_spare_fds(&e) {
                        continue;
                    }
                    tracing::warn!("{}: hand-off accept failed: {e}", self.name);
                    return;
                }
            };
            // SAFETY: accept4 just returned this new descriptor; nothing else owns it.
            let channel = unsafe { OwnedFd::from_raw_fd(raw) };
            let token = Token(self.next);
            self.next += 1;
            if let Err(e) = self.poll.registry().register(
                &mut SourceFd(&channel.as_raw_fd()),
                token,
                Interest::READABLE,
            ) {
                tracing::warn!("{}: cannot watch a hand-off connection: {e}", self.name);
            }
            self.channels.insert(token, channel);
            self.read_channel(token, instance, creds, process);
        }
    }

    /// Takes every hand-off waiting on a channel; a channel at EOF or in error is closed.
    fn read_channel(
        &mut self,
        t: Token,
        instance: &Arc<SgaInstance>,
        creds: &Arc<PasswordFileCredentials>,
        process: Option<&ProcessHandle>,
    ) {
        loop {
            let Some(channel) = self.channels.get(&t) else {
                return;
            };
            let received = match crate::fdpass::recv_fd(channel.as_fd()) {
                Err(crate::fdpass::FdPassError::Receive {
                    source: nix::Error::EAGAIN,
                }) => return,
                Ok(Some((payload, fd))) => {
                    crate::handoff::HandoffMessage::decode(&payload).map(|msg| (msg, fd))
                }
                Ok(None) => {
                    self.close_channel(t);
                    return;
                }
                Err(e) => {
                    tracing::warn!("{}: hand-off connection: {e}", self.name);
                    self.close_channel(t);
                    return;
                }
            };
            // Out of descriptors with the spares in use: the client's socket cannot be
            // taken; refuse it with what is at hand.
            if self.spare.is_empty() {
                if let Ok((_, Some(fd))) = received {
                    crate::fdlimit::refuse_full(fd);
                }
                self.spare = spare_fds();
                continue;
            }
            match received {
                Ok((msg, Some(fd))) => self.take_handoff(msg, fd, instance, creds, process),
                Ok((_, None)) => {}
                Err(e) => tracing::warn!("{}: bad hand-off message: {e}", self.name),
            }
        }
    }

    fn close_channel(&mut self, t: Token) {
        if let Some(channel) = self.channels.remove(&t) {
            let _ = self
                .poll
                .registry()
                .deregister(&mut SourceFd(&channel.as_raw_fd()));
        }
    }

    /// A retiring dispatcher takes no more hand-offs: it shuts its channels for reading (the
    /// listener's next send on one fails, and it connects anew to the hand-off socket, which
    /// is gone, so it redirects or refuses the client), takes the hand-offs already sent, and
    /// closes them.
    fn close_channels(
        &mut self,
        instance: &Arc<SgaInstance>,
        creds: &Arc<PasswordFileCredentials>,
        process: Option<&ProcessHandle>,
    ) {
        let tokens: Vec<Token> = self.channels.keys().copied().collect();
        for t in tokens {
            if let Some(channel) = self.channels.get(&t) {
                let _ = nix::sys::socket::shutdown(
                    channel.as_raw_fd(),
                    nix::sys::socket::Shutdown::Read,
                );
            }
            self.read_channel(t, instance, creds, process);
            self.close_channel(t);
        }
    }

    /// Makes a circuit of a handed-off client socket.
    fn take_handoff(
        &mut self,
        msg: crate::handoff::HandoffMessage,
        fd: OwnedFd,
        instance: &Arc<SgaInstance>,
        creds: &Arc<PasswordFileCredentials>,
        process: Option<&ProcessHandle>,
    ) {
        let std_stream = std::net::TcpStream::from(fd);
        if std_stream.set_nonblocking(true).is_err() {
            return;
        }
        let service = msg
            .meta
            .global_dbname
            .clone()
            .unwrap_or_else(|| msg.meta.service.clone());
        tracing::debug!("{}: circuit for {}", self.name, msg.meta.peer);
        self.new_circuit(
            TcpStream::from_std(std_stream),
            &msg.connect_bytes,
            service,
            false,
            instance,
            creds,
            process,
        );
    }

    fn accept_tcp(
        &mut self,
        instance: &Arc<SgaInstance>,
        creds: &Arc<PasswordFileCredentials>,
        process: Option<&ProcessHandle>,
    ) {
        loop {
            match self.tcp.accept() {
                Ok((stream, _)) => {
                    if self.spare.is_empty() {
                        // Taken with the spares' room: close it and get them back.
                        drop(stream);
                        self.spare = spare_fds();
                        continue;
                    }
                    let service = self.cfg.services.first().cloned().unwrap_or_default();
                    self.new_circuit(stream, &[], service, true, instance, creds, process);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    if out_of_fds(&e) && self.use_spare_fds(&e) {
                        continue;
                    }
                    tracing::warn!("{}: accept failed: {e}", self.name);
                    return;
                }
            }
        }
    }

    /// The process ran out of descriptors (EMFILE/ENFILE) with a connection waiting: gives
    /// the spares up so that it can be taken off the queue and refused (a pending
    /// connection left there would never be seen again by the edge-triggered poll).
    /// Returns false when there are no spares to give.
    fn use_spare_fds(&mut self, e: &std::io::Error) -> bool {
        if self.spare.is_empty() {
            return false;
        }
        tracing::warn!(
            "{}: out of file descriptors ({e}); refusing the waiting connection",
            self.name
        );
        self.spare.clear();
        true
    }

    /// Reads what the client sent into the circuit's connection; a BREAK for the call a
    /// shared server runs right now goes to the flag that server polls.
    /// Reads what the client sent. A read that fills less than the buffer emptied the
    /// socket's queue, and the edge-triggered poll reports the next bytes that arrive, so the
    /// loop stops there instead of paying a read that only says "would block" (one per
    /// request) — unless the peer has closed (`to_the_end`): its end of file comes with no
    /// further event, so it is read now.
    fn read(&mut self, t: Token, to_the_end: bool, process: Option<&ProcessHandle>) {
        let Some(c) = self.circuits.get_mut(&t) else {
            return;
        };
        if c.interest.is_none_or(|i| !i.is_readable()) {
            return;
        }
        let chunk = &mut self.chunk;
        let now = Instant::now();
        loop {
            match c.stream.read(chunk) {
                Ok(0) => {
                    c.conn.handle_eof();
                    break;
                }
                Ok(n) => {
                    c.conn.handle_bytes(now, &chunk[..n]);
                    if let Some(p) = process {
                        p.count_message(n);
                    }
                    if let Some(s) = &c.slot {
                        s.count_message(n);
                    }
                    if n < chunk.len() && !to_the_end {
                        break;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => {
                    c.conn.handle_eof();
                    break;
                }
            }
            if c.conn.is_closed() || c.conn.pending_input() > IN_BOUND {
                break;
            }
        }
        if c.conn.take_interrupt() {
            if let Some(s) = &c.slot {
                s.count_break();
                s.set_status(circuit_status::BREAK);
            }
            if let Some(p) = process {
                p.count_break();
            }
            // Still waiting on the common queue: withdrawn and answered here, at once, with
            // Oracle's BREAK/RESET and ORA-01013 (and never run). Already on a shared server:
            // the call sees the BREAK at its next check.
            if !self.withdraw(t, true)
                && let Some(c) = self.circuits.get(&t)
            {
                c.brk.store(true, Ordering::Release);
            }
        }
    }

    /// Takes a lent request back from the common queue (or this dispatcher's backlog)
    /// before a shared server has it: with `answer_break`, the session answers the client's
    /// BREAK now. False when a shared server already runs it (or nothing is lent).
    fn withdraw(&mut self, t: Token, answer_break: bool) -> bool {
        let Some(c) = self.circuits.get_mut(&t) else {
            return false;
        };
        let Some((ticket, queued_at)) = c.ticket.take() else {
            return false;
        };
        let Some(mut runner) = ticket.take() else {
            return false;
        };
        self.sga.common_dequeued(queued_at.elapsed());
        if answer_break {
            runner.handle_input(Instant::now(), Input::Break);
        }
        c.brk.store(false, Ordering::Release);
        c.out = false;
        if std::mem::take(&mut c.parked) {
            self.backlog.retain(|w| w.circuit != t);
        }
        c.conn.finish_request(Instant::now(), runner, false);
        if let Some(s) = &c.slot {
            s.set_queue(queue::NONE, None);
            s.set_status(circuit_status::NORMAL);
        }
        true
    }

    /// Screens a CONNECT that came to the dispatcher's own port as the listener screens
    /// one: a descriptor that does not parse or has no CONNECT_DATA gets ORA-12502, one that
    /// names neither SERVICE_NAME nor SID ORA-12504, an unknown service ORA-12514 and an
    /// unknown SID ORA-12505; a full dispatcher refuses with ORA-12519.
    fn screen(cfg: &SharedConfig, c: &mut Circuit) {
        let Some(descriptor) = c.conn.poll_connect() else {
            return;
        };
        let text = String::from_utf8_lossy(descriptor).into_owned();
        if c.slot.is_none() {
            c.conn.refuse_connect(crate::fdlimit::NO_HANDLER);
            return;
        }
        if !c.screened {
            c.conn.accept_connect(Instant::now());
            return;
        }
        match screen_descriptor(cfg, &text) {
            Some(code) => {
                tracing::info!(
                    "dispatcher refused a connection: {}",
                    tns::error_text::tns_line(code)
                );
                c.conn.refuse_connect(code);
            }
            None => c.conn.accept_connect(Instant::now()),
        }
    }

    /// Lends the session to the shared servers when a request waits, writes pending
    /// output, closes a finished circuit, and sets what to wait for on its socket.
    fn pump(&mut self, t: Token, process: Option<&ProcessHandle>) {
        // The client went away (or its socket broke, or the session was killed IMMEDIATE)
        // while its request was lent: a request still waiting is dropped; a call running
        // on a shared server ends at its next kill/break check instead of holding the
        // server to its end.
        let gone_while_out = self
            .circuits
            .get(&t)
            .is_some_and(|c| c.out && (c.conn.is_closed() || c.broken));
        if gone_while_out
            && !self.withdraw(t, false)
            && let Some(c) = self.circuits.get(&t)
        {
            c.brk.store(true, Ordering::Release);
        }
        let Some(c) = self.circuits.get_mut(&t) else {
            return;
        };
        Self::screen(&self.cfg, c);
        if !c.out
            && !c.parked
            && !c.broken
            && c.outbuf.len() <= OUT_BOUND
            && let Some((runner, input)) = c.conn.poll_request()
        {
            {
                let bytes = match &input {
                    Input::Data(d) => d.len(),
                    Input::Break => 0,
                };
                if c.session.is_none()
                    && let Some(s) = runner.session().slot()
                {
                    c.session = Some((s.sid, s.serial));
                    if let Some(h) = &c.slot {
                        h.set_session(Some(s.sid));
                    }
                    let n = self.shared_sessions.fetch_add(1, Ordering::AcqRel) + 1;
                    self.sga.note_shared_sessions(n);
                }
                if let Some(h) = &c.slot {
                    h.set_status(circuit_status::NORMAL);
                    h.set_queue(queue::COMMON, None);
                }
                // A BREAK left over from an earlier call is no concern of this one.
                c.brk.store(false, Ordering::Release);
                let queued_at = Instant::now();
                let ticket = Ticket::new(runner);
                c.ticket = Some((Arc::clone(&ticket), queued_at));
                let work = Work {
                    circuit: t,
                    circuit_ref: c.slot.as_ref().map(CircuitHandle::id),
                    ticket,
                    input,
                    bytes,
                    brk: Arc::clone(&c.brk),
                    queued_at,
                    reply: Arc::clone(&self.reply),
                };
                c.out = true;
                self.sga.common_enqueued();
                match self.work_tx.try_send(work) {
                    Ok(()) => {}
                    Err(TrySendError::Full(w)) => {
                        c.parked = true;
                        self.backlog.push_back(w);
                    }
                    Err(TrySendError::Disconnected(w)) => {
                        self.sga.common_dequeued(Duration::ZERO);
                        c.out = false;
                        c.ticket = None;
                        if let Some(runner) = w.ticket.take() {
                            c.conn.finish_request(Instant::now(), runner, false);
                        }
                        c.broken = true;
                    }
                }
            }
        }
        if c.session.is_none()
            && !c.out
            && let Some(s) = c.conn.session().and_then(Session::slot)
        {
            c.session = Some((s.sid, s.serial));
            if let Some(h) = &c.slot {
                h.set_session(Some(s.sid));
            }
            let n = self.shared_sessions.fetch_add(1, Ordering::AcqRel) + 1;
            self.sga.note_shared_sessions(n);
        }
        if let Some(bytes) = c.conn.poll_transmit() {
            c.outbuf.extend(bytes);
        }
        let mut moved = false;
        while !c.outbuf.is_empty() && !c.broken {
            let (front, _) = c.outbuf.as_slices();
            match c.stream.write(front) {
                Ok(0) => c.broken = true,
                Ok(n) => {
                    c.outbuf.drain(..n);
                    moved = true;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => c.broken = true,
            }
        }
        if c.broken {
            c.outbuf.clear();
        }
        // The send timer runs while output waits and restarts whenever the client takes some.
        c.send_deadline = match self.cfg.send_timeout {
            Some(limit) if !c.outbuf.is_empty() => match c.send_deadline {
                Some(d) if !moved => Some(d),
                _ => Some(Instant::now() + limit),
            },
            _ => None,
        };
        // Done once the connection is over (or the socket broke) and its last bytes are
        // written; a session still out on a shared server is freed when it comes back.
        if (c.conn.is_closed() || c.broken) && c.outbuf.is_empty() {
            if !c.out {
                self.remove(t, process);
                return;
            }
            if let Some(h) = &c.slot {
                h.set_status(circuit_status::EOF);
            }
        }
        let readable = !c.parked
            && !c.conn.is_closed()
            && !c.broken
            && c.outbuf.len() <= OUT_BOUND
            && c.conn.pending_input() <= IN_BOUND;
        let writable = !c.outbuf.is_empty();
        let want = match (readable, writable) {
            (true, true) => Some(Interest::READABLE | Interest::WRITABLE),
            (true, false) => Some(Interest::READABLE),
            (false, true) => Some(Interest::WRITABLE),
            (false, false) => None,
        };
        if want != c.interest {
            let r = match want {
                Some(i) if c.interest.is_some() => {
                    self.poll.registry().reregister(&mut c.stream, t, i)
                }
                Some(i) => self.poll.registry().register(&mut c.stream, t, i),
                None => self.poll.registry().deregister(&mut c.stream),
            };
            if r.is_ok() {
                c.interest = want;
            }
        }
        let deadline = match (c.conn.poll_timeout(), c.send_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if deadline != c.deadline {
            if let Some(old) = c.deadline {
                self.timers.remove(&(old, t));
            }
            if let Some(new) = deadline {
                self.timers.insert((new, t));
            }
            c.deadline = deadline;
        }
    }

    fn remove(&mut self, t: Token, process: Option<&ProcessHandle>) {
        let Some(mut c) = self.circuits.remove(&t) else {
            return;
        };
        crate::fdlimit::circuit_closed();
        if let Some(e) = c.conn.error() {
            tracing::info!("{}: closing a circuit: {e}", self.name);
        }
        if let Some(d) = c.deadline {
            self.timers.remove(&(d, t));
        }
        if c.interest.is_some() {
            let _ = self.poll.registry().deregister(&mut c.stream);
        }
        if c.session.is_some() {
            let _ = self
                .shared_sessions
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| {
                    Some(v.saturating_sub(1))
                });
        }
        if let Some(p) = process {
            p.set_owned(self.circuits.len() as u32, false);
        }
    }

    fn retry_backlog(&mut self, process: Option<&ProcessHandle>) {
        while let Some(w) = self.backlog.pop_front() {
            let t = w.circuit;
            match self.work_tx.try_send(w) {
                Ok(()) => {
                    if let Some(c) = self.circuits.get_mut(&t) {
                        c.parked = false;
                    }
                    self.pump(t, process);
                }
                Err(TrySendError::Full(w)) => {
                    self.backlog.push_front(w);
                    break;
                }
                Err(TrySendError::Disconnected(_)) => {
                    self.backlog.clear();
                    break;
                }
            }
        }
    }

    fn fire_timers(&mut self, process: Option<&ProcessHandle>) {
        let now = Instant::now();
        while let Some(&(at, t)) = self.timers.first() {
            if at > now {
                break;
            }
            self.timers.remove(&(at, t));
            if let Some(c) = self.circuits.get_mut(&t) {
                c.deadline = None;
                if c.send_deadline.is_some_and(|d| d <= now) {
                    c.send_deadline = None;
                    tracing::warn!(
                        "{}: closing a circuit: {} ({})",
                        self.name,
                        tns::error_text::tns_line(12535),
                        tns::error_text::tns_line(12608)
                    );
                    let _ = c.stream.shutdown(std::net::Shutdown::Both);
                    c.broken = true;
                }
                if c.conn.poll_timeout().is_some_and(|d| d <= now) {
                    c.conn.handle_timeout(now);
                }
            }
            self.pump(t, process);
        }
    }

    /// After a KILL/DISCONNECT SESSION somewhere: IMMEDIATE and DISCONNECT of one of this
    /// dispatcher's sessions close its circuit now; a plain KILL is seen by the session's
    /// next call.
    fn look_at_kills(&mut self, process: Option<&ProcessHandle>) {
        let seq = self.sga.kill_seq();
        if seq == self.kill_seen {
            return;
        }
        self.kill_seen = seq;
        let mut doomed = Vec::new();
        for (t, c) in &self.circuits {
            let Some((sid, serial)) = c.session else {
                continue;
            };
            let pending = self
                .sga
                .kill_pending_of(sid, serial)
                .is_some_and(KillRequest::closes_connection);
            if pending {
                doomed.push(*t);
            }
        }
        for t in doomed {
            if let Some(c) = self.circuits.get_mut(&t) {
                tracing::info!("{}: closing the circuit of a killed session", self.name);
                let _ = c.stream.shutdown(std::net::Shutdown::Both);
                c.broken = true;
            }
            self.pump(t, process);
        }
    }
}
