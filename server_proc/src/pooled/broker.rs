//! The connection brokers (N000.., NUM_CBROK of them): event loops in the instance that
//! hold the pool's client connections while they have no pooled server, and give each to a
//! free pooled server when it needs one.
//!
//! Each broker is a thread with its own hand-off socket and its own `Poll`, in which the
//! client sockets it took are registered; lreg registers each as a pooled handler and the
//! listener hands `(SERVER=POOLED)` connections with their CONNECT to the least loaded one
//! (`SOCK_SEQPACKET` + `SCM_RIGHTS`, as for dispatchers). MAXCONN_CBROK counts per broker.
//! The brokers share one pool: its servers, wait queue and clients are one [`Broker`]
//! behind a mutex that a broker's thread takes for each turn of its loop (the pooled
//! servers' channels are registered in N000's `Poll`), so MINSIZE/MAXSIZE bound the pool,
//! not each broker, and any free server takes a client of any broker. A new client needs a server
//! at once (the server answers the CONNECT and does the login); a held client needs one when
//! it sends its next call. Pooled servers connect to the broker's server socket; it asks
//! the listener's spawner for more (INCRSIZE at a time, up to MAXSIZE) when a request finds
//! none free, keeps MINSIZE, and lets idle ones above MINSIZE go after INACTIVITY_TIMEOUT.
//! A request that finds all MAXSIZE servers busy waits here, in order (not refused). A
//! held client goes to a server whose session has its user and class. A new client's class
//! and user are known only from its login (python-oracledb sends them in AUTH phase two,
//! not in the CONNECT): the login's server, if its own session cannot serve it, claims a
//! free server holding one that can; the broker keeps that server for the client, which
//! moves there once its login is answered (as Oracle's broker gives a login the pooled
//! server of its class).
//!
//! After STOP_POOL the broker takes no new clients (the listener no longer offers it: new
//! pooled connections get ORA-12520), closes the idle ones, lets busy servers finish their
//! clients' calls, and leaves when no server is busy.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{ErrorKind, Read};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};

use super::params::PoolParams;
use super::wire::{self, ClientState, HeldSession, ToBroker, ToServer};
use crate::fdpass::FdPassError;
use crate::handoff::HandoffMeta;
use crate::sga::Sga;
use crate::sga::cpool::{ConnInfo, ConnStatus, CpoolEvent};

const HANDOFF: Token = Token(0);
const SERVERS: Token = Token(1);
const WAKE: Token = Token(2);
const FIRST_DYNAMIC: usize = 16;

/// How often the broker looks at its timers.
const TICK: Duration = Duration::from_millis(100);
/// A spawn request that brought no server within this time is forgotten (and may be made
/// again).
const SPAWN_PATIENCE: Duration = Duration::from_secs(5);
/// Most bytes a held client may send before a server takes them.
const MAX_PENDING: usize = 1 << 20;

/// Errors starting the broker.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// A socket, poll or thread could not be set up.
    #[error("{} ({what}: {source})", tns::error_text::ora_line(56501))]
    Setup {
        /// What failed.
        what: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

fn setup(what: &'static str) -> impl FnOnce(std::io::Error) -> BrokerError {
    move |source| BrokerError::Setup { what, source }
}

/// Asks for `n` more pooled servers (the listener's spawner forks them; they connect to
/// the broker's server socket).
pub type SpawnRequest = Box<dyn Fn(u32) + Send>;

/// What the broker needs to start.
pub struct BrokerConfig {
    /// ORACLE_SID.
    pub sid: String,
    /// One hand-off socket (from the listener) per broker: NUM_CBROK of them.
    pub handoff_paths: Vec<PathBuf>,
    /// Socket the pooled servers connect to.
    pub servers_path: PathBuf,
    /// The parameters (CMON changes them while the pool runs).
    pub params: Arc<Mutex<PoolParams>>,
    /// How to get more pooled servers.
    pub spawn: SpawnRequest,
    /// SQLNET.EXPIRE_TIME: dead connection detection on the client sockets it holds.
    pub expire_time: Option<Duration>,
    /// SQLNET.RECV_TIMEOUT: a client it holds between sessions that sends nothing for this
    /// long is disconnected, as a dedicated server or a dispatcher disconnects a silent
    /// client.
    pub recv_timeout: Option<Duration>,
}

/// The running brokers.
pub struct BrokerHandle {
    stop: Arc<AtomicBool>,
    wakers: Vec<Waker>,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for BrokerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerHandle").finish_non_exhaustive()
    }
}

impl BrokerHandle {
    /// STOP_POOL: no new clients; the threads leave once no server is busy.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        for w in &self.wakers {
            let _ = w.wake();
        }
    }

    /// True once every broker's thread has left.
    pub fn finished(&self) -> bool {
        self.threads.iter().all(JoinHandle::is_finished)
    }

    /// Waits for the threads (after [`Self::stop`]).
    pub fn join(mut self) {
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for BrokerHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Binds a listening `SOCK_SEQPACKET` socket at `path` (non-blocking).
fn seqpacket_listener(path: &std::path::Path) -> std::io::Result<OwnedFd> {
    use nix::sys::socket::{
        AddressFamily, Backlog, SockFlag, SockType, UnixAddr, bind, listen, socket,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let _ = std::fs::remove_file(path);
    let sock = socket(
        AddressFamily::Unix,
        SockType::SeqPacket,
        SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
        None,
    )?;
    let addr = UnixAddr::new(path)?;
    bind(sock.as_raw_fd(), &addr)?;
    listen(&sock, Backlog::new(128).unwrap_or(Backlog::MAXCONN))?;
    Ok(sock)
}

fn accept(listener: &OwnedFd) -> Option<OwnedFd> {
    loop {
        match nix::sys::socket::accept4(
            listener.as_raw_fd(),
            nix::sys::socket::SockFlag::SOCK_CLOEXEC,
        ) {
            // SAFETY: accept4 just returned this new descriptor; nothing else owns it.
            Ok(fd) => return Some(unsafe { OwnedFd::from_raw_fd(fd) }),
            Err(nix::Error::EINTR) => continue,
            Err(_) => return None,
        }
    }
}

/// Starts the broker threads (`ora_n000_<SID>`, `ora_n001_<SID>`, ...), one per hand-off
/// socket in `cfg`.
pub fn start(cfg: BrokerConfig, sga: Arc<Sga>) -> Result<BrokerHandle, BrokerError> {
    let servers = seqpacket_listener(&cfg.servers_path).map_err(setup("bind server socket"))?;
    let mut polls = Vec::new();
    let mut wakers = Vec::new();
    let mut registries = Vec::new();
    let mut handoffs = Vec::new();
    for path in &cfg.handoff_paths {
        let poll = Poll::new().map_err(setup("create poll"))?;
        let handoff = seqpacket_listener(path).map_err(setup("bind hand-off socket"))?;
        poll.registry()
            .register(
                &mut SourceFd(&handoff.as_raw_fd()),
                HANDOFF,
                Interest::READABLE,
            )
            .map_err(setup("register hand-off socket"))?;
        wakers.push(Waker::new(poll.registry(), WAKE).map_err(setup("create waker"))?);
        registries.push(
            poll.registry()
                .try_clone()
                .map_err(setup("clone registry"))?,
        );
        handoffs.push(Some(handoff));
        polls.push(poll);
    }
    let Some(first) = polls.first() else {
        return Err(BrokerError::Setup {
            what: "start the brokers",
            source: std::io::Error::new(ErrorKind::InvalidInput, "NUM_CBROK is 0"),
        });
    };
    first
        .registry()
        .register(
            &mut SourceFd(&servers.as_raw_fd()),
            SERVERS,
            Interest::READABLE,
        )
        .map_err(setup("register server socket"))?;
    let stop = Arc::new(AtomicBool::new(false));
    let n = handoffs.len();
    let broker = Arc::new(Mutex::new(Broker {
        cfg,
        sga,
        registries,
        handoffs,
        stopping: false,
        servers_listener: servers,
        clients: BTreeMap::new(),
        servers: HashMap::new(),
        queue: VecDeque::new(),
        next_token: FIRST_DYNAMIC,
        spawning: 0,
        spawn_asked: None,
        stop: Arc::clone(&stop),
        refusals: (0..n).map(|_| Default::default()).collect(),
        running: n,
    }));
    let mut threads = Vec::new();
    for (index, poll) in polls.into_iter().enumerate() {
        let broker = Arc::clone(&broker);
        let sid = lock(&broker).cfg.sid.clone();
        let spawned = std::thread::Builder::new()
            .name(format!(
                "ora_{}_{sid}",
                super::broker_name(index).to_ascii_lowercase()
            ))
            .spawn(move || run(&broker, poll, index));
        match spawned {
            Ok(t) => threads.push(t),
            Err(e) => {
                let handle = BrokerHandle {
                    stop,
                    wakers,
                    threads,
                };
                handle.stop();
                handle.join();
                return Err(setup("start a broker thread")(e));
            }
        }
    }
    Ok(BrokerHandle {
        stop,
        wakers,
        threads,
    })
}

fn lock(broker: &Mutex<Broker>) -> std::sync::MutexGuard<'_, Broker> {
    broker
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Broker `index`'s loop: it waits on its own `Poll` (its hand-off socket and the client
/// sockets it holds; N000's also the pooled servers' channels) and handles what came with
/// the pool locked.
fn run(broker: &Mutex<Broker>, mut poll: Poll, index: usize) {
    let name = super::broker_name(index);
    // N00n in V$PROCESS (SPID: this thread), for as long as the broker runs.
    let process = {
        let b = lock(broker);
        let process = register_background(&b.sga, &name);
        if let Some(p) = &process {
            b.sga.set_cpool_broker_addr(index, &p.addr());
        }
        if index == 0 {
            let brokers = u32::try_from(b.handoffs.len()).unwrap_or(u32::MAX);
            b.sga
                .set_cpool_broker(i32::try_from(std::process::id()).unwrap_or(0), brokers);
            // The client sockets it holds are counted against what the instance has open now.
            crate::fdlimit::measure_baseline();
        }
        process
    };
    let mut events = Events::with_capacity(256);
    loop {
        {
            let mut b = lock(broker);
            if b.stop.load(Ordering::Acquire) && !b.stopping {
                b.begin_stop();
            }
            if b.stopping && !b.servers.values().any(|s| s.client.is_some()) {
                break;
            }
        }
        if let Err(e) = poll.poll(&mut events, Some(TICK)) {
            if e.kind() == ErrorKind::Interrupted {
                continue;
            }
            tracing::error!("{name}: poll failed: {e}");
            break;
        }
        let mut b = lock(broker);
        for ev in events.iter() {
            match ev.token() {
                HANDOFF => b.accept_clients(index),
                SERVERS => b.accept_servers(),
                WAKE => {}
                t if b.servers.contains_key(&t) => b.server_readable(t),
                t => b.client_readable(t),
            }
        }
        b.maintain();
        b.dispatch();
        b.publish();
    }
    let mut b = lock(broker);
    b.running -= 1;
    if b.running == 0 {
        b.finish();
    }
    drop(process);
}

/// A client socket while the broker holds it: counted in the instance's descriptor budget
/// ([`crate::fdlimit`], as a dispatcher's circuit is) from when the broker takes it until it
/// closes it or has passed it to a pooled server.
struct HeldSocket(TcpStream);

impl HeldSocket {
    fn new(stream: TcpStream) -> HeldSocket {
        crate::fdlimit::circuit_opened();
        HeldSocket(stream)
    }
}

impl Drop for HeldSocket {
    fn drop(&mut self) {
        crate::fdlimit::circuit_closed();
    }
}

impl std::ops::Deref for HeldSocket {
    type Target = TcpStream;
    fn deref(&self) -> &TcpStream {
        &self.0
    }
}

impl std::ops::DerefMut for HeldSocket {
    fn deref_mut(&mut self) -> &mut TcpStream {
        &mut self.0
    }
}

/// Why the broker cannot take a client now (it gets ORA-12519, as from a full dispatcher).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// MAXCONN_CBROK connections held.
    MaxConn,
    /// The instance's descriptor budget is spent (only the reserve is left).
    Descriptors,
}

/// Where a client stands.
enum Phase {
    /// Handed over by the listener: its CONNECT waits for a server.
    Connecting,
    /// Authenticated, between sessions.
    Held(Box<ClientState>),
    /// Released with DEAUTHENTICATE: only its close is left.
    LoggedOut,
    /// With a pooled server.
    Away,
}

struct Client {
    /// The broker holding it (its socket is registered in that broker's `Poll`).
    broker: usize,
    stream: Option<HeldSocket>,
    meta: HandoffMeta,
    phase: Phase,
    /// Bytes the server has to read first (the CONNECT, or the client's next call).
    pending: Vec<u8>,
    /// When it joined the queue.
    queued: Option<Instant>,
    /// Who it is, once it has logged in.
    known: Option<Box<ClientState>>,
    /// Its status as last published, and since when (Unix ms).
    shown: Option<(ConnStatus, u64)>,
    /// When its socket last came (back) to the broker: the start of its silence, if it
    /// says nothing more.
    arrived: Instant,
}

impl Client {
    fn status(&self) -> ConnStatus {
        match (&self.phase, self.queued.is_some()) {
            (Phase::Connecting, _) => ConnStatus::Connecting,
            (Phase::LoggedOut, _) => ConnStatus::Closing,
            (Phase::Held(_), true) => ConnStatus::Waiting,
            (Phase::Held(_), false) => ConnStatus::Idle,
            (Phase::Away, _) if self.known.is_none() => ConnStatus::Connecting,
            (Phase::Away, _) => ConnStatus::Active,
        }
    }
}

struct Server {
    chan: OwnedFd,
    name: Option<String>,
    client: Option<Token>,
    held: Option<HeldSession>,
    free_since: Instant,
    /// Kept for this client, whose login on another server claimed its session.
    reserved_for: Option<Token>,
}

/// The pool the brokers share.
struct Broker {
    cfg: BrokerConfig,
    sga: Arc<Sga>,
    /// Each broker's `Poll` registry (N000's also holds the pooled servers' channels).
    registries: Vec<mio::Registry>,
    /// Each broker's hand-off socket, `None` once stopping.
    handoffs: Vec<Option<OwnedFd>>,
    /// STOP_POOL (or shutdown) has begun.
    stopping: bool,
    servers_listener: OwnedFd,
    /// By token, oldest first (V$CPOOL_CONN_INFO shows the first ones).
    clients: BTreeMap<Token, Client>,
    servers: HashMap<Token, Server>,
    queue: VecDeque<Token>,
    next_token: usize,
    /// Servers asked for and not arrived yet.
    spawning: u32,
    spawn_asked: Option<Instant>,
    stop: Arc<AtomicBool>,
    /// Each broker's spells of refusing new clients, for the alert log.
    refusals: Vec<crate::fdlimit::RefusalSpell>,
    /// Broker threads still running (the last one out cleans up).
    running: usize,
}

impl Broker {
    fn params(&self) -> PoolParams {
        *self
            .cfg
            .params
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn token(&mut self) -> Token {
        let t = Token(self.next_token);
        self.next_token += 1;
        t
    }

    /// The last broker has left: whatever is left goes (idle servers see their channel
    /// close and exit).
    fn finish(&mut self) {
        self.servers.clear();
        self.clients.clear();
        self.sga.publish_cpool_conns(&[]);
        self.sga.set_cpool_broker(0, 0);
        self.sga.set_cpool_load(0, 0);
        for (index, path) in self.cfg.handoff_paths.iter().enumerate() {
            self.sga.set_cpool_broker_held(index, 0);
            let _ = std::fs::remove_file(path);
        }
        let _ = std::fs::remove_file(&self.cfg.servers_path);
        tracing::info!("N000: pool stopped");
    }

    /// The registry of the `Poll` that waits on client `token` (its broker's).
    fn client_registry(&self, broker: usize) -> &mio::Registry {
        &self.registries[broker.min(self.registries.len() - 1)]
    }

    /// The registry the pooled servers' channels are in (N000's).
    fn server_registry(&self) -> &mio::Registry {
        &self.registries[0]
    }

    fn begin_stop(&mut self) {
        // lreg stops offering the brokers to the listener now.
        self.sga.set_cpool_broker(0, 0);
        self.stopping = true;
        for index in 0..self.handoffs.len() {
            if let Some(h) = self.handoffs[index].take() {
                let _ = self.registries[index].deregister(&mut SourceFd(&h.as_raw_fd()));
            }
            if let Some(path) = self.cfg.handoff_paths.get(index) {
                let _ = std::fs::remove_file(path);
            }
        }
        // Clients that are not with a server now have no session to finish.
        let idle: Vec<Token> = self
            .clients
            .iter()
            .filter(|(_, c)| !matches!(c.phase, Phase::Away))
            .map(|(t, _)| *t)
            .collect();
        for t in idle {
            self.drop_client(t);
        }
        self.queue.clear();
        let free: Vec<Token> = self
            .servers
            .iter()
            .filter(|(_, s)| s.client.is_none())
            .map(|(t, _)| *t)
            .collect();
        for t in free {
            self.servers.remove(&t);
        }
    }

    fn publish(&mut self) {
        let now = crate::sga::cpool::unix_ms();
        let mut rows = Vec::new();
        for (token, c) in self.clients.iter_mut().take(crate::sga::cpool::CONN_ROWS) {
            let status = c.status();
            let since = match c.shown {
                Some((shown, since)) if shown == status => since,
                _ => now,
            };
            c.shown = Some((status, since));
            let id = c.known.as_deref();
            rows.push(ConnInfo {
                id: token.0 as u64,
                broker: u32::try_from(c.broker).unwrap_or(0),
                status,
                since_ms: since,
                user: id.map(|k| k.user.clone()),
                cclass: id.map(|k| k.cclass.clone()).unwrap_or_default(),
                purity: id.map_or(0, |k| k.purity),
                service: c.meta.service.clone(),
                process: id.map(|k| k.process.clone()).unwrap_or_default(),
                program: id.map(|k| k.program.clone()).unwrap_or_default(),
                machine: id.map(|k| k.machine.clone()).unwrap_or_default(),
                terminal: id.map(|k| k.terminal.clone()).unwrap_or_default(),
            });
        }
        self.sga.publish_cpool_conns(&rows);
        for index in 0..self.handoffs.len() {
            self.sga
                .set_cpool_broker_held(index, u32::try_from(self.held_by(index)).unwrap_or(0));
        }
        let open = self.servers.values().filter(|s| s.name.is_some()).count();
        let busy = self.servers.values().filter(|s| s.client.is_some()).count();
        self.sga.set_cpool_load(
            u32::try_from(open).unwrap_or(u32::MAX),
            u32::try_from(busy).unwrap_or(u32::MAX),
        );
    }

    /// Client connections broker `index` holds (MAXCONN_CBROK counts them).
    fn held_by(&self, index: usize) -> usize {
        self.clients.values().filter(|c| c.broker == index).count()
    }

    /// Takes what the listener handed broker `index`.
    fn accept_clients(&mut self, index: usize) {
        let name = super::broker_name(index);
        let Some(listener) = self.handoffs.get(index).and_then(Option::as_ref) else {
            return;
        };
        let mut arrived = Vec::new();
        while let Some(conn) = accept(listener) {
            let _ = nix::sys::socket::setsockopt(
                &conn,
                nix::sys::socket::sockopt::ReceiveTimeout,
                &nix::sys::time::TimeVal::new(2, 0),
            );
            match crate::handoff::receive(conn.as_fd()) {
                Ok(Some((msg, Some(fd)))) => arrived.push((msg, fd)),
                Ok(_) => {}
                Err(e) => tracing::warn!("{name}: {e}"),
            }
        }
        let max = self.params().maxconn_cbrok as usize;
        for (msg, fd) in arrived {
            let refusal = if self.held_by(index) >= max {
                Some(Refusal::MaxConn)
            } else if !crate::fdlimit::room_for_circuit() {
                Some(Refusal::Descriptors)
            } else {
                None
            };
            self.note_refusal(index, refusal, max);
            if refusal.is_some() {
                crate::fdlimit::refuse_full(fd);
                continue;
            }
            let std_stream = std::net::TcpStream::from(fd);
            if std_stream.set_nonblocking(true).is_err() {
                continue;
            }
            if let Some(idle) = self.cfg.expire_time
                && let Err(e) = crate::driver::enable_dead_connection_detection(&std_stream, idle)
            {
                tracing::warn!("{name}: SQLNET.EXPIRE_TIME: cannot turn on keepalive: {e}");
            }
            let stream = TcpStream::from_std(std_stream);
            let token = self.token();
            self.clients.insert(
                token,
                Client {
                    broker: index,
                    stream: Some(HeldSocket::new(stream)),
                    meta: msg.meta,
                    phase: Phase::Connecting,
                    pending: msg.connect_bytes,
                    queued: None,
                    known: None,
                    shown: None,
                    arrived: Instant::now(),
                },
            );
            self.enqueue(token);
        }
    }

    /// Records in the alert log when the broker starts and stops refusing clients.
    fn note_refusal(&mut self, index: usize, refusal: Option<Refusal>, max: usize) {
        let Some(spell) = self.refusals.get_mut(index) else {
            return;
        };
        spell.note(
            &super::broker_name(index),
            refusal.map(|r| {
                move || match r {
                    Refusal::MaxConn => format!("MAXCONN_CBROK ({max}) reached"),
                    Refusal::Descriptors => format!(
                        "RLIMIT_NOFILE reached: {} descriptors kept in reserve",
                        crate::fdlimit::RESERVE
                    ),
                }
            }),
        );
    }

    fn accept_servers(&mut self) {
        while let Some(chan) = accept(&self.servers_listener) {
            let flags = nix::fcntl::fcntl(&chan, nix::fcntl::FcntlArg::F_GETFL)
                .map(nix::fcntl::OFlag::from_bits_truncate)
                .unwrap_or(nix::fcntl::OFlag::empty());
            let _ = nix::fcntl::fcntl(
                &chan,
                nix::fcntl::FcntlArg::F_SETFL(flags | nix::fcntl::OFlag::O_NONBLOCK),
            );
            let token = self.token();
            if self
                .server_registry()
                .register(&mut SourceFd(&chan.as_raw_fd()), token, Interest::READABLE)
                .is_err()
            {
                continue;
            }
            self.servers.insert(
                token,
                Server {
                    chan,
                    name: None,
                    client: None,
                    held: None,
                    free_since: Instant::now(),
                    reserved_for: None,
                },
            );
        }
    }

    fn next_server_name(&self) -> String {
        let used: Vec<&str> = self
            .servers
            .values()
            .filter_map(|s| s.name.as_deref())
            .collect();
        (0..)
            .map(|n| format!("L{n:03}"))
            .find(|n| !used.contains(&n.as_str()))
            .unwrap_or_default()
    }

    fn server_readable(&mut self, token: Token) {
        loop {
            let Some(server) = self.servers.get(&token) else {
                return;
            };
            match wire::recv::<ToBroker>(server.chan.as_fd()) {
                Ok(Some((msg, bytes, fd))) => self.on_server_message(token, msg, bytes, fd),
                Err(wire::WireError::Channel(FdPassError::Receive {
                    source: nix::Error::EAGAIN,
                })) => return,
                Ok(None) | Err(_) => {
                    self.server_gone(token);
                    return;
                }
            }
        }
    }

    fn server_gone(&mut self, token: Token) {
        let Some(s) = self.servers.remove(&token) else {
            return;
        };
        let _ = self
            .server_registry()
            .deregister(&mut SourceFd(&s.chan.as_raw_fd()));
        if let Some(c) = s.client {
            // The client's socket was with the server; it is gone with it.
            self.forget_client(c);
        }
        // A server leaves on its own only when its session was ended from outside (killed,
        // parked or with a client) or it died: the session it held or served is purged.
        if s.held.is_some() || s.client.is_some() {
            self.sga.cpool_count(None, CpoolEvent::Purged);
        }
        tracing::info!("N000: pooled server {} left", s.name.unwrap_or_default());
    }

    fn on_server_message(
        &mut self,
        token: Token,
        msg: ToBroker,
        bytes: Vec<u8>,
        fd: Option<OwnedFd>,
    ) {
        match msg {
            ToBroker::Hello { .. } => {
                self.spawning = self.spawning.saturating_sub(1);
                let name = self.next_server_name();
                let Some(s) = self.servers.get_mut(&token) else {
                    return;
                };
                let welcome = ToServer::Welcome { name: name.clone() };
                if wire::send(s.chan.as_fd(), &welcome, &[], None).is_err() {
                    self.server_gone(token);
                    return;
                }
                s.name = Some(name);
                s.free_since = Instant::now();
            }
            ToBroker::Released { client, held } => {
                let Some(s) = self.servers.get_mut(&token) else {
                    return;
                };
                let ctoken = s.client.take();
                s.held = held;
                s.free_since = Instant::now();
                let (Some(ctoken), Some(fd)) = (ctoken, fd) else {
                    return;
                };
                self.client_back(ctoken, fd, client, bytes);
            }
            ToBroker::Claim { user, cclass } => self.claim(token, &user, &cclass),
            ToBroker::Ended { held } => {
                let Some(s) = self.servers.get_mut(&token) else {
                    return;
                };
                let ctoken = s.client.take();
                s.held = held;
                s.free_since = Instant::now();
                if let Some(c) = ctoken {
                    self.forget_client(c);
                }
            }
        }
        if self.stopping {
            // Stopping: a server that finished its client leaves.
            if self.servers.get(&token).is_some_and(|s| s.client.is_none()) {
                self.servers.remove(&token);
            }
        }
    }

    fn client_back(
        &mut self,
        token: Token,
        fd: OwnedFd,
        state: Option<Box<ClientState>>,
        leftover: Vec<u8>,
    ) {
        let stopping = self.stopping;
        let std_stream = std::net::TcpStream::from(fd);
        if stopping || std_stream.set_nonblocking(true).is_err() {
            self.forget_client(token);
            return;
        }
        let mut stream = TcpStream::from_std(std_stream);
        // Back to the broker that held it: its socket waits in that broker's `Poll`.
        let Some(broker) = self.clients.get(&token).map(|c| c.broker) else {
            return;
        };
        if self
            .client_registry(broker)
            .register(&mut stream, token, Interest::READABLE)
            .is_err()
        {
            self.forget_client(token);
            return;
        }
        let Some(c) = self.clients.get_mut(&token) else {
            return;
        };
        c.stream = Some(HeldSocket::new(stream));
        c.arrived = Instant::now();
        c.pending = leftover;
        if let Some(s) = &state {
            c.known = Some(s.clone());
        }
        c.phase = match state {
            Some(s) => Phase::Held(s),
            None => Phase::LoggedOut,
        };
        let claimed = self.servers.values().any(|s| s.reserved_for == Some(token));
        if matches!(c.phase, Phase::Held(_)) && (claimed || !c.pending.is_empty()) {
            // Its next call, or the server its login claimed, waits for it.
            self.enqueue(token);
        } else if matches!(c.phase, Phase::LoggedOut) && !c.pending.is_empty() {
            // Its final close came with the release.
            self.drop_client(token);
        } else {
            // Bytes may have come between the server's last read and the registration.
            self.client_readable(token);
        }
    }

    fn client_readable(&mut self, token: Token) {
        let Some(c) = self.clients.get_mut(&token) else {
            return;
        };
        let Some(stream) = c.stream.as_mut() else {
            return;
        };
        let mut buf = [0u8; 16 * 1024];
        let mut closed = false;
        loop {
            match stream.read(&mut buf) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(n) => {
                    c.pending.extend_from_slice(&buf[..n]);
                    if c.pending.len() > MAX_PENDING {
                        closed = true;
                        break;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    closed = true;
                    break;
                }
            }
        }
        let logged_out = matches!(c.phase, Phase::LoggedOut);
        if closed || (logged_out && !c.pending.is_empty()) {
            self.drop_client(token);
            return;
        }
        if matches!(c.phase, Phase::Held(_)) && !c.pending.is_empty() && c.queued.is_none() {
            self.enqueue(token);
        }
    }

    fn drop_client(&mut self, token: Token) {
        if let Some(mut c) = self.forget_client(token)
            && let Some(s) = c.stream.as_mut()
        {
            let _ = self.client_registry(c.broker).deregister(&mut **s);
        }
        self.queue.retain(|t| *t != token);
    }

    /// The client is gone: a server kept for it is free again.
    fn forget_client(&mut self, token: Token) -> Option<Client> {
        for s in self.servers.values_mut() {
            if s.reserved_for == Some(token) {
                s.reserved_for = None;
            }
        }
        self.clients.remove(&token)
    }

    /// A login asks for a free server holding a session of `user` and `cclass`: the one
    /// used least recently is kept for the client of the asking server (`from`), which
    /// moves there once its login is answered.
    fn claim(&mut self, from: Token, user: &str, cclass: &str) {
        let ctoken = self.servers.get(&from).and_then(|s| s.client);
        let found = ctoken.and_then(|c| {
            self.servers
                .iter()
                .filter(|(t, s)| {
                    **t != from
                        && s.name.is_some()
                        && s.client.is_none()
                        && s.reserved_for.is_none()
                        && s.held
                            .as_ref()
                            .is_some_and(|h| h.user == user && h.cclass == cclass)
                })
                .min_by_key(|(_, s)| s.free_since)
                .map(|(t, s)| (*t, s.held.clone(), c))
        });
        let session = match found {
            Some((t, Some(held), c)) => {
                if let Some(s) = self.servers.get_mut(&t) {
                    s.reserved_for = Some(c);
                }
                // The login was made here; the request is counted where it is served.
                self.sga.cpool_count(
                    Some(&format!("{user}.{cclass}")),
                    CpoolEvent::Authentication,
                );
                Some((held.sid, held.serial))
            }
            _ => None,
        };
        let Some(s) = self.servers.get(&from) else {
            return;
        };
        if wire::send(s.chan.as_fd(), &ToServer::Claimed { session }, &[], None).is_err() {
            self.server_gone(from);
        }
    }

    fn enqueue(&mut self, token: Token) {
        if let Some(c) = self.clients.get_mut(&token) {
            c.queued = Some(Instant::now());
            self.queue.push_back(token);
        }
    }

    /// The free server for a client: the one its login claimed, else one holding a session
    /// of its user and class, else one holding none, else the one whose session was used
    /// least recently (that session is given up). A held client is known by user and class;
    /// a new one only by the descriptor's POOL_CONNECTION_CLASS, which thin clients do not
    /// send (python-oracledb sends its class in the login): its login goes to an empty
    /// server, or the least recently used one, and once verified claims a server of its
    /// user and class if this one holds another ([`ToBroker::Claim`]).
    fn choose(&self, ctoken: Token, client: &Client) -> Option<Token> {
        if let Some((t, _)) = self
            .servers
            .iter()
            .find(|(_, s)| s.reserved_for == Some(ctoken) && s.client.is_none())
        {
            return Some(*t);
        }
        let wanted: Option<(&str, &str)> = match &client.phase {
            Phase::Held(s) => Some((s.user.as_str(), s.cclass.as_str())),
            _ => None,
        };
        let class = match &client.phase {
            Phase::Connecting => descriptor_value(&client.pending, "POOL_CONNECTION_CLASS"),
            _ => None,
        };
        let free = || {
            self.servers
                .iter()
                .filter(|(_, s)| s.name.is_some() && s.client.is_none() && s.reserved_for.is_none())
        };
        let matching = free().find(|(_, s)| {
            s.held.as_ref().is_some_and(|h| match wanted {
                Some((u, c)) => h.user == u && h.cclass == c,
                None => class.as_deref().is_some_and(|c| h.cclass == c),
            })
        });
        matching
            .or_else(|| free().find(|(_, s)| s.held.is_none()))
            .or_else(|| free().min_by_key(|(_, s)| s.free_since))
            .map(|(t, _)| *t)
    }

    fn dispatch(&mut self) {
        // Clients whose login claimed a server go there first (it is kept for them).
        let claimed: Vec<(Token, Token)> = self
            .queue
            .iter()
            .filter_map(|c| {
                self.servers
                    .iter()
                    .find(|(_, s)| s.reserved_for == Some(*c) && s.client.is_none())
                    .map(|(t, _)| (*c, *t))
            })
            .collect();
        for (ctoken, stoken) in claimed {
            self.queue.retain(|t| *t != ctoken);
            self.assign(ctoken, stoken);
        }
        while let Some(&ctoken) = self.queue.front() {
            let Some(client) = self.clients.get(&ctoken) else {
                self.queue.pop_front();
                continue;
            };
            let Some(stoken) = self.choose(ctoken, client) else {
                self.grow();
                return;
            };
            self.queue.pop_front();
            self.assign(ctoken, stoken);
        }
    }

    fn assign(&mut self, ctoken: Token, stoken: Token) {
        let p = self.params();
        let limits = wire::Limits {
            max_think_time: p.max_think_time,
            max_use_session: p.max_use_session,
            max_lifetime_session: p.max_lifetime_session,
        };
        let Some(c) = self.clients.get_mut(&ctoken) else {
            return;
        };
        let Some(mut stream) = c.stream.take() else {
            return;
        };
        let _ = self.registries[c.broker.min(self.registries.len() - 1)].deregister(&mut *stream);
        if let Some(at) = c.queued.take() {
            let waited = at.elapsed();
            if waited >= TICK {
                self.sga.cpool_count(None, CpoolEvent::Wait(waited));
            }
        }
        let msg = match &c.phase {
            Phase::Held(state) => ToServer::Resume {
                meta: Box::new(c.meta.clone()),
                client: state.clone(),
                limits,
            },
            _ => ToServer::Connect {
                meta: Box::new(c.meta.clone()),
                client: ctoken.0 as u64,
                limits,
            },
        };
        let pending = std::mem::take(&mut c.pending);
        c.phase = Phase::Away;
        let Some(s) = self.servers.get_mut(&stoken) else {
            return;
        };
        // The broker's copy of the socket closes (and leaves the budget) once it is sent.
        match wire::send(s.chan.as_fd(), &msg, &pending, Some(stream.as_fd())) {
            Ok(()) => {
                s.client = Some(ctoken);
                s.reserved_for = None;
            }
            Err(e) => {
                tracing::warn!("N000: hand-off to a pooled server failed: {e}");
                self.forget_client(ctoken);
                self.server_gone(stoken);
            }
        }
    }

    fn live(&self) -> u32 {
        u32::try_from(self.servers.len())
            .unwrap_or(u32::MAX)
            .saturating_add(self.spawning)
    }

    fn ask(&mut self, n: u32) {
        if n == 0 {
            return;
        }
        self.spawning += n;
        self.spawn_asked = Some(Instant::now());
        (self.cfg.spawn)(n);
    }

    /// All servers are busy: ask for INCRSIZE more, up to MAXSIZE.
    fn grow(&mut self) {
        let p = self.params();
        if self.spawning > 0 {
            return;
        }
        let room = p.maxsize.saturating_sub(self.live());
        self.ask(p.incrsize.min(room));
    }

    /// MINSIZE, INACTIVITY_TIMEOUT and spawn requests that brought nothing.
    /// SQLNET.RECV_TIMEOUT: disconnects the clients held between sessions that have sent
    /// nothing since they came back for longer (their next call would have queued them).
    fn close_silent_clients(&mut self) {
        let Some(limit) = self.cfg.recv_timeout else {
            return;
        };
        let silent: Vec<(Token, usize)> = self
            .clients
            .iter()
            .filter(|(_, c)| {
                matches!(c.phase, Phase::Held(_))
                    && c.queued.is_none()
                    && c.pending.is_empty()
                    && c.arrived.elapsed() >= limit
            })
            .map(|(t, c)| (*t, c.broker))
            .collect();
        for (token, broker) in silent {
            tracing::info!(
                "{}: closing a client connection: {}",
                super::broker_name(broker),
                engine::conn::ConnError::RecvTimeout
            );
            self.drop_client(token);
        }
    }

    fn maintain(&mut self) {
        if self.stopping {
            return;
        }
        if self
            .spawn_asked
            .is_some_and(|at| at.elapsed() >= SPAWN_PATIENCE)
        {
            self.spawning = 0;
            self.spawn_asked = None;
        }
        let p = self.params();
        if self.spawning == 0 && self.live() < p.minsize {
            let n = p.minsize - self.live();
            self.ask(n);
        }
        self.close_silent_clients();
        let idle_limit = Duration::from_secs(u64::from(p.inactivity_timeout));
        let mut count = self.servers.len();
        let retire: Vec<Token> = self
            .servers
            .iter()
            .filter(|(_, s)| {
                s.name.is_some()
                    && s.client.is_none()
                    && s.reserved_for.is_none()
                    && s.free_since.elapsed() >= idle_limit
            })
            .map(|(t, _)| *t)
            .collect();
        for t in retire {
            if count <= p.minsize as usize {
                break;
            }
            if let Some(s) = self.servers.remove(&t) {
                let _ = self
                    .server_registry()
                    .deregister(&mut SourceFd(&s.chan.as_raw_fd()));
                tracing::info!(
                    "N000: pooled server {} idle for INACTIVITY_TIMEOUT, retired",
                    s.name.unwrap_or_default()
                );
                count -= 1;
            }
        }
    }
}

/// A process slot for the calling thread as background process `name` (N000, CMON); `None`
/// when the instance has no slot left (the thread runs anyway).
pub(super) fn register_background(sga: &Arc<Sga>, name: &str) -> Option<crate::sga::ProcessHandle> {
    let host = crate::instance::host_name();
    sga.register_process(&crate::sga::ProcessSpec {
        kind: crate::sga::ProcessKind::Background,
        pname: name.to_string(),
        spid: Some(nix::unistd::gettid().as_raw()),
        ..crate::sga::ProcessSpec::dedicated(format!("oracle@{host} ({name})"))
    })
    .map_err(|e| tracing::warn!("{name}: no process slot: {e}"))
    .ok()
}

/// The value of `(NAME=value)` in the descriptor of a CONNECT (e.g. POOL_CONNECTION_CLASS).
fn descriptor_value(connect_bytes: &[u8], name: &str) -> Option<String> {
    let (connect, _) = tns::packet::decode_connect(connect_bytes).ok()??;
    let text = String::from_utf8_lossy(&connect.descriptor).to_string();
    let upper = text.to_ascii_uppercase();
    let key = format!("({name}=");
    let at = upper.find(&key)? + key.len();
    let end = text[at..].find(')')? + at;
    Some(text[at..end].trim().to_string()).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_value_finds_the_connection_class() {
        let c = tns::packet::Connect::new(
            "(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=h)(PORT=1))(CONNECT_DATA=(SERVICE_NAME=s)(SERVER=POOLED)(pool_connection_class=APP1)(POOL_PURITY=SELF)))".to_string(),
            8192,
        );
        let bytes = c.encode();
        assert_eq!(
            descriptor_value(&bytes, "POOL_CONNECTION_CLASS").as_deref(),
            Some("APP1")
        );
        assert_eq!(descriptor_value(&bytes, "POOL_NAME"), None);
    }
}
