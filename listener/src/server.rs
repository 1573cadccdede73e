//! The listener's event loop (mio, single-threaded): accepts on every endpoint, reads each
//! client's CONNECT (and its overflow DATA packet) within INBOUND_CONNECT_TIMEOUT, routes it
//! with the [`ServiceDirectory`], answers pings and refusals itself, and hands everything
//! else to the spawner. Misbehaving clients (garbage, truncated or absurd packets, silence)
//! are dropped with a `listener.log` entry naming their address; nobody else notices.
//! `lsnrctl` commands arrive on the admin Unix socket and are answered by the verbs of
//! [`crate::control`]; this loop only reads the request line, carries out the verb's effects
//! (stop, bind or close endpoints, prespawn) and writes the answer. SIGTERM/SIGINT stop the
//! listener and SIGHUP reloads it (the `reload` verb).

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mio::net::{TcpListener, TcpStream, UnixListener};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
use tns::error_text::{tns_line, tns_line_with};
use tns::packet::{self, Redirect, Refuse, VSNNUM_19C};

use crate::admin::AdminResponse;
use crate::control::{self, Effect, ListenerState, SettingsLoader, TraceControl};
use crate::descriptor::{self, DescriptorError};
use crate::handoff::{HandoffMessage, HandoffMeta};
use crate::home::OracleHome;
use crate::listener_log::ListenerLog;
use crate::net_trace::{self, NetTrace};
use crate::registration::{RegistrationEventKind, RegistrationServer};
use crate::report;
use crate::services::{
    HandlerKey, HandlerKind, Route, ServiceDirectory, Target, entries_from_registrations,
};
use crate::settings::{Endpoint, ListenerSettings};
use crate::spawner::Spawner;
use crate::tnserr::TnsCode;

/// Largest CONNECT packet accepted (python-oracledb's is at most 74 + 230 bytes; anything
/// near 64 KiB is an attack or garbage).
pub const MAX_CONNECT_PACKET: usize = 4096;
/// Smallest CONNECT that can hold its fixed fields (through the NSI flags at offset 33).
pub const MIN_CONNECT_PACKET: usize = 34;
/// Largest CONNECT + overflow DATA the listener buffers.
pub const MAX_CONNECT_BYTES: usize = 64 * 1024;
/// Most bytes one read of a client's socket takes.
const READ_CHUNK: usize = 4096;

const ADMIN: Token = Token(0);
const SIGNALS: Token = Token(1);
/// Woken by the registration threads when a broker asks for pooled servers.
const REGISTRATION_WAKE: Token = Token(2);
const FIRST_DYNAMIC: usize = 16;
/// How long after a failed spawner start the next one is tried.
const SPAWNER_RETRY: Duration = Duration::from_secs(1);

/// Errors that stop the listener from starting.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// An endpoint could not be bound.
    #[error(
        "Error listening on: (DESCRIPTION={address})\n{}\n {}\n  {}\n   Linux Error: {errno}: {}",
        TnsCode::ADDRESS_IN_USE,
        TnsCode::PROTOCOL_ADAPTER,
        TnsCode::ADDRESS_IN_USE_00512,
        nix::errno::Errno::from_raw(*errno).desc()
    )]
    Bind {
        /// Endpoint.
        address: String,
        /// errno number.
        errno: i32,
    },
    /// The endpoint host did not resolve.
    #[error("{} ({host})", tns_line(12545))]
    Resolve {
        /// Host.
        host: String,
    },
    /// Another listener of this name and home is running.
    #[error("{}", tns_line_with(1106, &[name]))]
    AlreadyRunning {
        /// Listener name.
        name: String,
    },
    /// Any other system error at startup.
    #[error("{context}: {source}")]
    Io {
        /// What failed.
        context: String,
        /// Cause.
        source: std::io::Error,
    },
}

fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ServerError {
    let context = context.into();
    move |source| ServerError::Io { context, source }
}

/// Everything the loop needs at start.
pub struct ServerParts {
    /// The Oracle home.
    pub home: OracleHome,
    /// Initial settings.
    pub settings: ListenerSettings,
    /// Re-reads settings for `reload`.
    pub loader: SettingsLoader,
    /// Changes the tracing level.
    pub trace: TraceControl,
    /// The spawner started at startup.
    pub spawner: Spawner,
    /// The listener's own binary, which a new spawner runs.
    pub exe: PathBuf,
}

struct Bound {
    endpoint: Endpoint,
    local: SocketAddr,
    listener: TcpListener,
    /// Connections accepted in the current rate window.
    accepted: u32,
    /// Left in the backlog because its rate limit was reached this second.
    throttled: bool,
}

/// An `lsnrctl` connection whose request line is still arriving.
struct AdminConn {
    stream: mio::net::UnixStream,
    allowed: bool,
    buf: Vec<u8>,
    deadline: Instant,
}

/// Most hand-off channels kept open to dispatchers (an instance has a few; retired ones are
/// dropped with the rest when this is reached).
const MAX_DISPATCHER_CHANNELS: usize = 64;

/// How long an admin client has to send its request line.
const ADMIN_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest admin request line accepted.
const MAX_ADMIN_REQUEST: usize = 64 * 1024;

struct Conn {
    stream: TcpStream,
    peer: String,
    buf: Vec<u8>,
    deadline: Option<Instant>,
}

fn peer_address(addr: &SocketAddr) -> String {
    format!(
        "(ADDRESS=(PROTOCOL=tcp)(HOST={})(PORT={}))",
        addr.ip(),
        addr.port()
    )
}

/// The running listener.
pub struct Server {
    /// What the `lsnrctl` verbs see and change.
    state: ListenerState,
    /// `None` while the spawner is down (it died and could not be restarted yet).
    spawner: Option<Spawner>,
    exe: PathBuf,
    /// When to try again to start a spawner that could not be started.
    spawner_retry_at: Option<Instant>,
    poll: Poll,
    endpoints: HashMap<Token, Bound>,
    conns: HashMap<Token, Conn>,
    admin_conns: HashMap<Token, AdminConn>,
    admin: UnixListener,
    admin_path: PathBuf,
    pid_path: PathBuf,
    signals: SignalFd,
    /// Wall-clock second of the current rate window and the shared count in it.
    rate_second: u64,
    shared_accepted: u32,
    registration: Option<RegistrationServer>,
    next_token: usize,
    /// Hand-off channels kept open to dispatchers, by hand-off path: a direct hand-off is one
    /// `sendmsg` on the channel instead of a new Unix connection each time (socket, connect,
    /// send, close here; accept and close in the dispatcher). A channel that fails (the
    /// dispatcher retired or died) is dropped and the hand-off connects anew.
    dispatcher_channels: HashMap<String, OwnedFd>,
    /// [`crate::registration::Registry::changes`] as the directory's dynamic entries show
    /// the registry: rebuilt from it, or kept in step by [`Server::record_handoff`].
    synced_registry: Option<u64>,
    /// What a client's bytes are read into (allocated and zeroed once, not per read).
    read_buf: Box<[u8; READ_CHUNK]>,
    stop: bool,
}

impl Server {
    /// Binds everything. SIGTERM/SIGINT/SIGHUP are blocked and read through a signalfd.
    pub fn bind(parts: ServerParts) -> Result<Self, ServerError> {
        let ServerParts {
            home,
            settings,
            loader,
            trace,
            spawner,
            exe,
        } = parts;
        let poll = Poll::new().map_err(io_err("creating the event loop"))?;
        let admin_path = home.admin_socket(&settings.name);
        let pid_path = home.pid_file(&settings.name);
        if let Some(dir) = admin_path.parent() {
            std::fs::create_dir_all(dir).map_err(io_err(format!("creating {}", dir.display())))?;
        }
        if let Some(dir) = pid_path.parent() {
            std::fs::create_dir_all(dir).map_err(io_err(format!("creating {}", dir.display())))?;
        }
        if std::os::unix::net::UnixStream::connect(&admin_path).is_ok() {
            return Err(ServerError::AlreadyRunning {
                name: settings.name.clone(),
            });
        }
        let _ = std::fs::remove_file(&admin_path);
        let mut admin = UnixListener::bind(&admin_path)
            .map_err(io_err(format!("binding {}", admin_path.display())))?;
        poll.registry()
            .register(&mut admin, ADMIN, Interest::READABLE)
            .map_err(io_err("registering the admin socket"))?;

        let mut mask = SigSet::empty();
        for s in [
            Signal::SIGTERM,
            Signal::SIGINT,
            Signal::SIGHUP,
            Signal::SIGCHLD,
        ] {
            mask.add(s);
        }
        mask.thread_block().map_err(|e| ServerError::Io {
            context: "blocking signals".into(),
            source: e.into(),
        })?;
        let signals = SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
            .map_err(|e| ServerError::Io {
            context: "creating signalfd".into(),
            source: e.into(),
        })?;
        poll.registry()
            .register(
                &mut SourceFd(&signals.as_raw_fd()),
                SIGNALS,
                Interest::READABLE,
            )
            .map_err(io_err("registering signals"))?;

        let log = ListenerLog::open(&settings.log_path(), settings.logging).map_err(|e| {
            ServerError::Io {
                context: e.to_string(),
                source: std::io::Error::other("listener.log"),
            }
        })?;
        let directory = ServiceDirectory::new(&settings.sids);
        let trace_level = settings.trace_level.clone();
        let net_trace = NetTrace::open(
            &settings.trace_directory,
            &settings.trace_file,
            control::trace_number(&trace_level),
        )
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot open the trace file");
            NetTrace::off()
        });
        let log_level = control::trace_directive(&trace_level)
            .unwrap_or("warn")
            .to_string();
        let mut server = Self {
            state: ListenerState {
                home,
                settings,
                loader,
                trace,
                trace_level,
                log_level,
                log,
                net_trace,
                directory,
                started: SystemTime::now(),
                started_at: Instant::now(),
            },
            spawner: Some(spawner),
            exe,
            spawner_retry_at: None,
            poll,
            endpoints: HashMap::new(),
            conns: HashMap::new(),
            admin_conns: HashMap::new(),
            admin,
            admin_path,
            pid_path,
            signals,
            rate_second: 0,
            shared_accepted: 0,
            registration: None,
            next_token: FIRST_DYNAMIC,
            dispatcher_channels: HashMap::new(),
            synced_registry: None,
            read_buf: Box::new([0; READ_CHUNK]),
            stop: false,
        };
        let endpoints = server.state.settings.endpoints.clone();
        let name = server.state.settings.name.clone();
        server
            .state
            .net_trace
            .event(net_trace::USER, "nsglma", "entry");
        server.state.net_trace.event(
            net_trace::USER,
            "nsglma",
            format_args!("listener {name}, pid {}", std::process::id()),
        );
        for e in &endpoints {
            if let Err(err) = server.bind_endpoint(e) {
                server.cleanup_files();
                return Err(err);
            }
        }
        server.start_registration();
        std::fs::write(&server.pid_path, format!("{}\n", std::process::id()))
            .map_err(io_err(format!("writing {}", server.pid_path.display())))?;
        server.log_banner();
        server.configure_spawner();
        Ok(server)
    }

    /// Opens the registration endpoint instances' LREG connects to (keyed by the first TCP
    /// port), unless `DYNAMIC_REGISTRATION_<l>=OFF`.
    fn start_registration(&mut self) {
        if !self.state.settings.dynamic_registration {
            return;
        }
        let Some(port) = self.endpoints.values().map(|b| b.local.port()).min() else {
            return;
        };
        let path = server_proc::registration::socket_path_for_port(port);
        match RegistrationServer::start(&path, &self.state.settings.name) {
            Ok(r) => {
                tracing::info!(path = %path.display(), "accepting service registrations");
                // A broker waiting for pooled servers must not wait for the next tick.
                match mio::Waker::new(self.poll.registry(), REGISTRATION_WAKE) {
                    Ok(w) => r.registry().on_spawn_request(Box::new(move || {
                        let _ = w.wake();
                    })),
                    Err(e) => tracing::warn!(error = %e, "no waker for pooled-server requests"),
                }
                self.registration = Some(r);
            }
            Err(e) => tracing::warn!(error = %e, "service registration disabled"),
        }
    }

    /// Pulls the registration table into the directory and its events into listener.log.
    fn sync_dynamic(&mut self) {
        let Some(r) = &self.registration else { return };
        // The loop calls this after every wake-up and again for every CONNECT: rebuilding
        // the directory each time was a third of the listener's instructions per connect.
        let changes = r.registry().changes();
        if self.synced_registry == Some(changes) {
            return;
        }
        self.synced_registry = Some(changes);
        let services = r.registry().services();
        let events = r.registry().take_events();
        for req in r.registry().take_spawns() {
            match &self.spawner {
                Some(sp) => {
                    if let Err(e) = sp.pooled(&req) {
                        tracing::error!(sid = %req.sid, error = %e, "cannot start pooled servers");
                    }
                }
                None => {
                    tracing::error!(sid = %req.sid, "cannot start pooled servers: the spawner is down")
                }
            }
        }
        let resets = self
            .state
            .directory
            .replace_dynamic(entries_from_registrations(&services));
        for r in resets {
            tracing::info!(
                instance = %r.instance,
                handler = %r.handler,
                "handler counters start again: {}",
                r.reason
            );
        }
        for e in events {
            let rc = if e.kind == RegistrationEventKind::Refused {
                12560
            } else {
                0
            };
            self.state
                .log
                .event(&format!("{} * {} * {rc}", e.kind.as_str(), e.instance));
        }
    }

    /// Counts a hand-off to a registered handler in the registration table until the
    /// instance's next load report. When the directory showed the table as it was just
    /// before, the same hand-off is applied to the directory and it stays in sync, so the next
    /// CONNECT does not rebuild it from the table.
    fn record_handoff(&mut self, key: &HandlerKey) {
        let Some(r) = &self.registration else { return };
        let Some(after) = r.registry().record_handoff(key.instance(), key.handler()) else {
            return;
        };
        if self.synced_registry == after.checked_sub(1) {
            self.state
                .directory
                .record_handoff(key.instance(), key.handler());
            self.synced_registry = Some(after);
        }
    }

    /// Tells the spawner how to start servers (SPAWN_METHOD) and how many idle dedicated
    /// servers to keep per SID (PRESPAWN_LIST).
    fn configure_spawner(&mut self) {
        let pools = control::prespawn_pools(&self.state.settings);
        self.configure_spawner_with(self.state.settings.spawn_method, &pools);
    }

    fn configure_spawner_with(
        &mut self,
        method: config::listener::SpawnMethod,
        pools: &[(String, usize)],
    ) {
        if let Some(sp) = &self.spawner
            && let Err(e) = sp.configure(method, pools)
        {
            tracing::warn!(error = %e, "cannot configure the spawner");
        }
    }

    /// Starts a new spawner (fork + exec: sound in this multi-threaded process). While that
    /// fails the spawner is down: dedicated handlers show `state:blocked`, dedicated
    /// connects are refused with TNS-12500, and another start is tried every second.
    fn restart_spawner(&mut self) {
        match Spawner::start(&self.state.settings.name, &self.exe) {
            Ok(s) => {
                tracing::info!(pid = s.pid().as_raw(), "spawner started");
                self.state.log.event(&format!(
                    "(SPAWNER) * {} * started * 0",
                    self.state.settings.name
                ));
                self.spawner = Some(s);
                self.spawner_retry_at = None;
                self.configure_spawner();
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot start the spawner");
                self.spawner = None;
                self.spawner_retry_at = Some(Instant::now() + SPAWNER_RETRY);
            }
        }
        self.state
            .directory
            .set_dedicated_down(self.spawner.is_none());
    }

    /// Retries a spawner start that is due.
    fn retry_spawner(&mut self) {
        if self.spawner.is_none() && self.spawner_retry_at.is_none_or(|t| Instant::now() >= t) {
            self.restart_spawner();
        }
    }

    /// The block Oracle's listener writes at the top of its log when it starts.
    fn log_banner(&mut self) {
        let mut b = format!(
            "\n\n{} on {}\n\nCopyright (c) 1991, 2026, orasim.  All rights reserved.\n\n",
            report::tnslsnr_version(),
            crate::oratime::format_timestamp(self.state.started)
        );
        if let Some(p) = &self.state.settings.parameter_file {
            b.push_str(&format!("System parameter file is {}\n", p.display()));
        }
        b.push_str(&format!(
            "Log messages written to {}\n",
            self.state.log.path().display()
        ));
        b.push_str(&format!(
            "Trace level is currently {}\n\n",
            control::trace_number(&self.state.trace_level)
        ));
        b.push_str(&format!("Started with pid={}\n", std::process::id()));
        let mut eps = self.bound_endpoints();
        eps.sort_by_key(|e| e.port);
        for e in &eps {
            b.push_str(&format!(
                "Listening on: {}\n",
                control::endpoint_description(e)
            ));
        }
        b.push_str("\nTIMESTAMP * CONNECT DATA [* PROTOCOL INFO] * EVENT [* SID] * RETURN CODE\n");
        self.state.log.raw(&b);
    }

    fn token(&mut self) -> Token {
        let t = Token(self.next_token);
        self.next_token += 1;
        t
    }

    fn bind_endpoint(&mut self, e: &Endpoint) -> Result<(), ServerError> {
        let addr = (e.host.as_str(), e.port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut it| it.next())
            .ok_or_else(|| ServerError::Resolve {
                host: e.host.clone(),
            })?;
        let bind_err = |source: std::io::Error| ServerError::Bind {
            address: e.address(),
            errno: source.raw_os_error().unwrap_or(0),
        };
        let sock = socket2::Socket::new(
            socket2::Domain::for_address(addr),
            socket2::Type::STREAM,
            None,
        )
        .map_err(bind_err)?;
        sock.set_reuse_address(true).map_err(bind_err)?;
        sock.set_nonblocking(true).map_err(bind_err)?;
        sock.bind(&addr.into()).map_err(bind_err)?;
        let backlog = i32::try_from(e.queuesize).unwrap_or(i32::MAX);
        sock.listen(backlog).map_err(bind_err)?;
        let std_listener: std::net::TcpListener = sock.into();
        let local = std_listener.local_addr().map_err(bind_err)?;
        let mut listener = TcpListener::from_std(std_listener);
        let token = self.token();
        self.poll
            .registry()
            .register(&mut listener, token, Interest::READABLE)
            .map_err(io_err("registering an endpoint"))?;
        let mut endpoint = e.clone();
        endpoint.port = local.port();
        tracing::info!(address = %endpoint.address(), backlog, "listening");
        self.state.net_trace.event(
            net_trace::USER,
            "nsglma",
            format_args!(
                "Listening on: (DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST={})(PORT={})))",
                e.host,
                local.port()
            ),
        );
        // stdout may be a closed pipe: never let the message take the listener down.
        let _ = writeln!(
            std::io::stdout(),
            "Listening on: (DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST={})(PORT={})))",
            e.host,
            local.port()
        );
        self.endpoints.insert(
            token,
            Bound {
                endpoint,
                local,
                listener,
                accepted: 0,
                throttled: false,
            },
        );
        Ok(())
    }

    /// Runs until `stop` or SIGTERM/SIGINT.
    pub fn run(mut self) -> Result<(), ServerError> {
        let mut events = Events::with_capacity(256);
        while !self.stop {
            let timeout = self
                .conns
                .values()
                .filter_map(|c| c.deadline)
                .chain(self.admin_conns.values().map(|a| a.deadline))
                .chain(self.spawner_retry_at)
                .min()
                .map(|d| d.saturating_duration_since(Instant::now()) + Duration::from_millis(1));
            // Registrations arrive on other threads; look at them at least once a second.
            let timeout = match (timeout, self.registration.is_some()) {
                (Some(t), true) => Some(t.min(Duration::from_secs(1))),
                (None, true) => Some(Duration::from_secs(1)),
                (t, false) => t,
            };
            // Throttled endpoints are looked at again when the next second starts.
            let timeout = if self.endpoints.values().any(|b| b.throttled) {
                let to_next = until_next_second();
                Some(timeout.map_or(to_next, |t| t.min(to_next)))
            } else {
                timeout
            };
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == ErrorKind::Interrupted {
                    continue;
                }
                return Err(ServerError::Io {
                    context: "polling".into(),
                    source: e,
                });
            }
            for ev in events.iter() {
                match ev.token() {
                    ADMIN => self.accept_admin(),
                    SIGNALS => self.read_signals(),
                    // The spawn requests are taken by `sync_dynamic` below.
                    REGISTRATION_WAKE => {}
                    t if self.endpoints.contains_key(&t) => self.accept_clients(t),
                    t if self.admin_conns.contains_key(&t) => self.read_admin(t),
                    t => self.read_client(t, ev.is_read_closed() || ev.is_error()),
                }
            }
            self.expire();
            self.retry_spawner();
            self.resume_throttled();
            self.sync_dynamic();
        }
        self.shutdown();
        Ok(())
    }

    fn read_signals(&mut self) {
        while let Ok(Some(info)) = self.signals.read_signal() {
            match Signal::try_from(info.ssi_signo as i32) {
                Ok(Signal::SIGCHLD) => self.check_spawner(),
                Ok(Signal::SIGHUP) => {
                    let bound = self.bound_endpoints();
                    let outcome = control::reload(&mut self.state, &bound);
                    let response = self.carry_out(outcome);
                    tracing::info!(?response, "reloaded on SIGHUP");
                }
                Ok(s) => {
                    tracing::info!(signal = %s, "stopping");
                    self.stop = true;
                }
                Err(_) => {}
            }
        }
    }

    /// The spawner is the listener's only child: SIGCHLD means it died. Reap it at once and
    /// start a new one.
    fn check_spawner(&mut self) {
        let Some(sp) = &self.spawner else { return };
        if !sp.has_exited() {
            return;
        }
        tracing::error!(pid = sp.pid().as_raw(), "spawner exited");
        self.state.log.event(&format!(
            "(SPAWNER) * {} * exited * 12500",
            self.state.settings.name
        ));
        self.spawner = None;
        self.restart_spawner();
    }

    /// Starts a new rate window when the wall-clock second changed.
    fn roll_rate_window(&mut self) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        if now != self.rate_second {
            self.rate_second = now;
            self.shared_accepted = 0;
            for b in self.endpoints.values_mut() {
                b.accepted = 0;
            }
        }
    }

    /// Accepts what throttled endpoints left in their backlog, once a new second began.
    fn resume_throttled(&mut self) {
        self.roll_rate_window();
        let ready: Vec<Token> = self
            .endpoints
            .iter()
            .filter(|(_, b)| b.throttled && b.accepted == 0)
            .map(|(t, _)| *t)
            .collect();
        for t in ready {
            if let Some(b) = self.endpoints.get_mut(&t) {
                b.throttled = false;
            }
            self.accept_clients(t);
        }
    }

    /// `RATE_LIMIT` / `CONNECTION_RATE_<l>`: whether endpoint `token` may accept one more
    /// connection this second. Excess connections wait in the backlog (queued, not refused,
    /// as Oracle's rate limiter does).
    fn rate_allows(&mut self, token: Token) -> bool {
        self.roll_rate_window();
        let shared_cap = self.state.settings.connection_rate;
        let shared_used = self.shared_accepted;
        let Some(b) = self.endpoints.get_mut(&token) else {
            return false;
        };
        let allowed = match b.endpoint.rate_limit {
            None => true,
            Some(Some(n)) => b.accepted < n,
            Some(None) => shared_cap.is_none_or(|n| shared_used < n),
        };
        if allowed {
            b.accepted += 1;
            if b.endpoint.rate_limit == Some(None) {
                self.shared_accepted += 1;
            }
        } else if !b.throttled {
            b.throttled = true;
            tracing::info!(address = %b.endpoint.address(), "connection rate limit reached; queueing");
            self.state.log.event(&format!(
                "{} * rate_limit * {} * 1158\n{}",
                b.endpoint.address(),
                self.state.settings.name,
                tns_line(1158)
            ));
        }
        allowed
    }

    fn accept_clients(&mut self, token: Token) {
        loop {
            if !self.rate_allows(token) {
                return;
            }
            let Some(bound) = self.endpoints.get_mut(&token) else {
                return;
            };
            let result = bound.listener.accept();
            if result.is_err() {
                // Nothing was accepted: give the slot back.
                bound.accepted = bound.accepted.saturating_sub(1);
                if bound.endpoint.rate_limit == Some(None) {
                    self.shared_accepted = self.shared_accepted.saturating_sub(1);
                }
            }
            match result {
                Ok((mut stream, addr)) => {
                    if let Some(v) = &self.state.settings.valid_nodes
                        && !v.allows(addr.ip())
                    {
                        // Closed at once: the client sees ORA-12537 (connection closed).
                        let peer = peer_address(&addr);
                        tracing::info!(%peer, "rejected by valid node checking");
                        self.state.log.dropped(
                            TnsCode::PERMISSION_DENIED,
                            &[TnsCode::PROTOCOL_ADAPTER, TnsCode::PERMISSION_DENIED_00516],
                            &peer,
                            &format!(
                                "Incoming connection from {} rejected (TCP.VALIDNODE_CHECKING)",
                                addr.ip()
                            ),
                        );
                        drop(stream);
                        continue;
                    }
                    let _ = stream.set_nodelay(true);
                    let t = self.token();
                    if let Err(e) =
                        self.poll
                            .registry()
                            .register(&mut stream, t, Interest::READABLE)
                    {
                        tracing::warn!(error = %e, "cannot register client");
                        continue;
                    }
                    let timeout = self.state.settings.inbound_connect_timeout;
                    let deadline = (!timeout.is_zero()).then(|| Instant::now() + timeout);
                    tracing::debug!(peer = %addr, rate_window = self.rate_second, "accepted");
                    let peer = peer_address(&addr);
                    self.state.net_trace.event(
                        net_trace::ADMIN,
                        "nsglhc",
                        format_args!("new connection from {peer}"),
                    );
                    self.conns.insert(
                        t,
                        Conn {
                            stream,
                            peer,
                            buf: Vec::new(),
                            deadline,
                        },
                    );
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    // EMFILE and friends: leave the rest in the backlog and try again next
                    // second (edge-triggered readiness would not report them again).
                    tracing::warn!(error = %e, "accept failed; retrying in a second");
                    if let Some(b) = self.endpoints.get_mut(&token) {
                        b.throttled = true;
                    }
                    return;
                }
            }
        }
    }

    /// Reads what the client sent. A read that leaves the buffer part-filled emptied the
    /// socket, so it stops there instead of reading again for EAGAIN (one `recvfrom` less per
    /// CONNECT; more bytes make the socket readable again), unless the event said the client
    /// closed (`to_the_end`): then it reads on to the EOF, as no event will say it again.
    fn read_client(&mut self, token: Token, to_the_end: bool) {
        let Some(conn) = self.conns.get_mut(&token) else {
            return;
        };
        let mut eof = false;
        let chunk = &mut self.read_buf[..];
        loop {
            match conn.stream.read(chunk) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => {
                    conn.buf.extend_from_slice(&chunk[..n]);
                    if conn.buf.len() > MAX_CONNECT_BYTES || (n < chunk.len() && !to_the_end) {
                        break;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => {
                    eof = true;
                    break;
                }
            }
        }
        match classify(&conn.buf) {
            Ok(None) if eof => {
                let reason = format!(
                    "client closed the connection after {} byte(s), before a complete CONNECT",
                    conn.buf.len()
                );
                self.drop_conn(token, TnsCode::CONNECTION_CLOSED, &[], &reason);
            }
            Ok(None) => {}
            Err(reason) => self.drop_conn(token, TnsCode::BAD_PACKET, &[], &reason),
            Ok(Some((connect, used))) => {
                let Some(conn) = self.conns.remove(&token) else {
                    return;
                };
                self.decide(conn, connect, used);
            }
        }
    }

    fn drop_conn(&mut self, token: Token, code: TnsCode, stack: &[TnsCode], reason: &str) {
        if let Some(mut conn) = self.conns.remove(&token) {
            let _ = self.poll.registry().deregister(&mut conn.stream);
            tracing::info!(peer = %conn.peer, code = code.0, reason, "dropping client");
            self.state.net_trace.event(
                net_trace::USER,
                "nsglhc",
                format_args!("dropping {}: TNS-{:05}: {reason}", conn.peer, code.0),
            );
            self.state.log.dropped(code, stack, &conn.peer, reason);
        }
    }

    fn expire(&mut self) {
        let now = Instant::now();
        let stale: Vec<Token> = self
            .admin_conns
            .iter()
            .filter(|(_, a)| a.deadline <= now)
            .map(|(t, _)| *t)
            .collect();
        for t in stale {
            if let Some(mut a) = self.admin_conns.remove(&t) {
                let _ = self.poll.registry().deregister(&mut a.stream);
                tracing::info!("admin client sent no request in time; closed");
            }
        }
        let expired: Vec<Token> = self
            .conns
            .iter()
            .filter(|(_, c)| c.deadline.is_some_and(|d| d <= now))
            .map(|(t, _)| *t)
            .collect();
        let secs = self.state.settings.inbound_connect_timeout.as_secs();
        for t in expired {
            let reason = format!("no complete CONNECT within INBOUND_CONNECT_TIMEOUT ({secs} s)");
            self.drop_conn(t, TnsCode::INBOUND_TIMEOUT, &[TnsCode::TIMED_OUT], &reason);
        }
    }

    fn decide(&mut self, mut conn: Conn, connect: packet::Connect, used: usize) {
        let _ = self.poll.registry().deregister(&mut conn.stream);
        let text = connect.descriptor_str();
        let cd = descriptor::connect_data_excerpt(&text);
        self.state.net_trace.event(
            net_trace::ADMIN,
            "nsprecv",
            format_args!("{used} bytes from transport: CONNECT (type=1)"),
        );
        self.state.net_trace.packet("nsprecv", &conn.buf[..used]);
        self.state.net_trace.event(
            net_trace::ADMIN,
            "nsglhc",
            format_args!("connect data {text}"),
        );
        let req = match descriptor::request_from_descriptor(&text) {
            Ok(r) => r,
            Err(e) => {
                let code = TnsCode::NO_CONNECT_DATA;
                tracing::info!(peer = %conn.peer, error = %e, "bad connect descriptor");
                let detail = match e {
                    DescriptorError::Syntax { .. } => "establish",
                    DescriptorError::NoConnectData => "establish",
                };
                self.state
                    .log
                    .connect(cd, &conn.peer, detail, "", Some(code));
                refuse_text(
                    &mut self.state.net_trace,
                    conn.stream,
                    &Refuse::for_error(code.0, VSNNUM_19C),
                );
                return;
            }
        };
        self.sync_dynamic();
        let route = self.state.directory.route(
            &req,
            self.state.settings.default_service.as_deref(),
            self.state.settings.use_sid_as_service,
        );
        let named = req
            .service_name
            .clone()
            .or_else(|| req.sid.clone())
            .unwrap_or_default();
        match route {
            Route::Ping => {
                let text = format!(
                    "(DESCRIPTION=(TMP=)(VSNNUM={VSNNUM_19C})(ERR=0)(ALIAS={}))",
                    self.state.settings.name
                );
                refuse_text(
                    &mut self.state.net_trace,
                    conn.stream,
                    &Refuse {
                        user_reason: 0x22,
                        system_reason: 0,
                        text,
                    },
                );
                self.state.log.event("ping * 0");
            }
            Route::Refuse { code, handler } => {
                if let Some(k) = &handler {
                    self.state.directory.record_refused(k);
                }
                tracing::info!(peer = %conn.peer, code = code.0, service = %named, "refused");
                self.state.net_trace.event(
                    net_trace::USER,
                    "nsglfc",
                    format_args!("service {named:?}: refused with TNS-{:05}", code.0),
                );
                self.state
                    .log
                    .connect(cd, &conn.peer, "establish", &named, Some(code));
                refuse_text(
                    &mut self.state.net_trace,
                    conn.stream,
                    &Refuse::for_error(code.0, VSNNUM_19C),
                );
            }
            Route::Handoff(target) => {
                let mut bytes = std::mem::take(&mut conn.buf);
                bytes.truncate(used);
                // With DEFAULT_SERVICE the client named none: log the one it got.
                let named = target.service.clone();
                self.hand_off(conn, target, bytes, &text, cd, &named);
            }
        }
    }

    fn hand_off(
        &mut self,
        conn: Conn,
        target: Target,
        bytes: Vec<u8>,
        descriptor: &str,
        cd: &str,
        named: &str,
    ) {
        let msg = HandoffMessage {
            meta: HandoffMeta {
                listener: self.state.settings.name.clone(),
                service: named.to_string(),
                sid: target.instance.clone(),
                oracle_home: target
                    .oracle_home
                    .clone()
                    .unwrap_or_else(|| self.state.home.home.display().to_string()),
                global_dbname: target.global_dbname.clone(),
                static_sid_desc: !target.dynamic,
                peer: conn.peer.clone(),
            },
            connect_bytes: bytes,
        };
        if let HandlerKind::Dispatcher {
            address,
            handoff_path,
            ..
        } = &target.kind
        {
            self.hand_to_dispatcher(
                conn,
                &target,
                &msg,
                address,
                handoff_path.as_deref(),
                descriptor,
                cd,
                named,
            );
            return;
        }
        if let HandlerKind::Pooled { handoff_path, .. } = &target.kind {
            self.hand_to_broker(conn, &target, &msg, handoff_path, cd, named);
            return;
        }
        if self.spawner.as_ref().is_some_and(|sp| sp.has_exited()) {
            // Died and its SIGCHLD is not read yet.
            self.check_spawner();
        }
        self.retry_spawner();
        let result = match &self.spawner {
            Some(sp) => sp.hand_off(&conn.stream, &msg).map_err(|e| {
                tracing::error!(error = %e, "hand-off failed");
                TnsCode::HANDOFF_FAILED
            }),
            None => Err(TnsCode::SPAWN_FAILED),
        };
        if target.dynamic && result.is_ok() {
            self.record_handoff(&target.key);
        }
        match result {
            Ok(()) => {
                self.state.directory.record_established(&target.key);
                tracing::info!(peer = %conn.peer, sid = %target.instance, "handed off");
                self.state.net_trace.event(
                    net_trace::ADMIN,
                    "nsglfc",
                    format_args!(
                        "service {named:?}: handed off to instance {} (dedicated server via the spawner)",
                        target.instance
                    ),
                );
                self.state
                    .log
                    .connect(cd, &conn.peer, "establish", named, None);
                // Dropping `conn` closes the listener's copy; the dedicated server owns it now.
            }
            Err(code) => {
                self.state.directory.record_refused(&target.key);
                tracing::error!(peer = %conn.peer, code = code.0, "no dedicated server");
                self.state
                    .log
                    .connect(cd, &conn.peer, "establish", named, Some(code));
                refuse_text(
                    &mut self.state.net_trace,
                    conn.stream,
                    &Refuse::for_error(code.0, VSNNUM_19C),
                );
            }
        }
    }

    /// DRCP: hand the socket to the instance's connection broker (it holds the client and
    /// gives it to a pooled server). A broker that cannot take it: TNS-12518.
    fn hand_to_broker(
        &mut self,
        conn: Conn,
        target: &Target,
        msg: &HandoffMessage,
        path: &str,
        cd: &str,
        named: &str,
    ) {
        let sent = msg.encode().map_err(|e| e.to_string()).and_then(|payload| {
            crate::sys::fdpass::send_fd_to_path(
                std::path::Path::new(path),
                conn.stream.as_fd(),
                &payload,
            )
            .map_err(|e| e.to_string())
        });
        match sent {
            Ok(()) => {
                self.record_handoff(&target.key);
                self.state.directory.record_established(&target.key);
                tracing::info!(peer = %conn.peer, "handed to the connection broker");
                self.state
                    .log
                    .connect(cd, &conn.peer, "establish", named, None);
            }
            Err(e) => {
                self.state.directory.record_refused(&target.key);
                tracing::error!(peer = %conn.peer, path, error = %e, "hand-off to the connection broker failed");
                let code = TnsCode::HANDOFF_FAILED;
                self.state
                    .log
                    .connect(cd, &conn.peer, "establish", named, Some(code));
                refuse_text(
                    &mut self.state.net_trace,
                    conn.stream,
                    &Refuse::for_error(code.0, VSNNUM_19C),
                );
            }
        }
    }

    /// Shared server: hand the socket straight to the dispatcher when it takes hand-offs (and
    /// `DIRECT_HANDOFF_TTC_<l>` is on), else REDIRECT the client to the dispatcher's address.
    #[allow(clippy::too_many_arguments)]
    fn hand_to_dispatcher(
        &mut self,
        conn: Conn,
        target: &Target,
        msg: &HandoffMessage,
        address: &str,
        handoff_path: Option<&str>,
        descriptor: &str,
        cd: &str,
        named: &str,
    ) {
        if self.state.settings.direct_handoff
            && let Some(path) = handoff_path
        {
            let sent = msg.encode().map_err(|e| e.to_string()).and_then(|payload| {
                self.send_to_dispatcher(path, conn.stream.as_fd(), &payload)
                    .map_err(|e| e.to_string())
            });
            match sent {
                Ok(()) => {
                    self.state.directory.record_established(&target.key);
                    self.record_handoff(&target.key);
                    tracing::info!(peer = %conn.peer, dispatcher = target.key.handler(), "handed to dispatcher");
                    self.state
                        .log
                        .connect(cd, &conn.peer, "establish", named, None);
                    return;
                }
                Err(e) => {
                    tracing::warn!(path, error = %e, "direct hand-off to dispatcher failed; redirecting")
                }
            }
        }
        if address.is_empty() {
            self.state.directory.record_refused(&target.key);
            let code = TnsCode::HANDOFF_FAILED;
            self.state
                .log
                .connect(cd, &conn.peer, "establish", named, Some(code));
            refuse_text(
                &mut self.state.net_trace,
                conn.stream,
                &Refuse::for_error(code.0, VSNNUM_19C),
            );
            return;
        }
        // REDIRECT (header with the length, then a DATA packet: address NUL descriptor).
        let redirect = Redirect::new(address, descriptor);
        if let Some(mut s) = into_blocking(conn.stream) {
            let _ = s.write_all(&redirect.encode());
        }
        self.state.directory.record_established(&target.key);
        self.record_handoff(&target.key);
        self.state
            .log
            .connect(cd, &conn.peer, "establish", named, None);
    }

    /// Sends one hand-off to the dispatcher at `path` on the channel kept open to it; a
    /// channel that fails is dropped and the message goes on a new connection, which is kept
    /// for the next hand-off. A full channel (the dispatcher is behind) is left alone and the
    /// message goes on a connection of its own, as a blocking send could stall the listener.
    fn send_to_dispatcher(
        &mut self,
        path: &str,
        client: std::os::fd::BorrowedFd<'_>,
        payload: &[u8],
    ) -> Result<(), crate::sys::fdpass::FdPassError> {
        use crate::sys::fdpass::{FdPassError, connect_seqpacket, send_fd, send_fd_nowait};
        let mut busy = false;
        if let Some(channel) = self.dispatcher_channels.get(path) {
            match send_fd_nowait(channel.as_fd(), client, payload) {
                Ok(()) => return Ok(()),
                Err(FdPassError::Send {
                    source: nix::Error::EAGAIN,
                }) => busy = true,
                Err(e) => {
                    tracing::debug!(path, error = %e, "hand-off channel to the dispatcher closed");
                    self.dispatcher_channels.remove(path);
                }
            }
        }
        let channel = connect_seqpacket(std::path::Path::new(path))?;
        send_fd(channel.as_fd(), client, payload)?;
        if !busy {
            // Dispatchers that retired leave channels nobody sends on again: bounded.
            if self.dispatcher_channels.len() >= MAX_DISPATCHER_CHANNELS {
                self.dispatcher_channels.clear();
            }
            self.dispatcher_channels.insert(path.to_string(), channel);
        }
        Ok(())
    }

    fn accept_admin(&mut self) {
        loop {
            match self.admin.accept() {
                Ok((stream, _)) => self.serve_admin(stream),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "admin accept failed");
                    return;
                }
            }
        }
    }

    /// Registers an admin connection; its request is read without blocking the loop.
    fn serve_admin(&mut self, mut stream: mio::net::UnixStream) {
        let me = nix::unistd::getuid().as_raw();
        let allowed = match getsockopt(&stream, PeerCredentials) {
            Ok(c) => c.uid() == me || c.uid() == 0,
            Err(_) => false,
        };
        let t = self.token();
        if self
            .poll
            .registry()
            .register(&mut stream, t, Interest::READABLE)
            .is_err()
        {
            return;
        }
        self.admin_conns.insert(
            t,
            AdminConn {
                stream,
                allowed,
                buf: Vec::new(),
                deadline: Instant::now() + ADMIN_REQUEST_TIMEOUT,
            },
        );
        // The request may already be there.
        self.read_admin(t);
    }

    fn read_admin(&mut self, token: Token) {
        let Some(a) = self.admin_conns.get_mut(&token) else {
            return;
        };
        let mut chunk = [0u8; 4096];
        let mut closed = false;
        loop {
            match a.stream.read(&mut chunk) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(n) => a.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => {
                    closed = true;
                    break;
                }
            }
        }
        let complete = a.buf.contains(&b'\n');
        if !complete && !closed && a.buf.len() <= MAX_ADMIN_REQUEST {
            return;
        }
        let Some(mut a) = self.admin_conns.remove(&token) else {
            return;
        };
        let _ = self.poll.registry().deregister(&mut a.stream);
        if !complete {
            return;
        }
        let end = a
            .buf
            .iter()
            .position(|b| *b == b'\n')
            .unwrap_or(a.buf.len());
        let line = String::from_utf8_lossy(&a.buf[..end]).into_owned();
        self.state
            .net_trace
            .event(net_trace::ADMIN, "nsglrespond", "entry");
        self.state.net_trace.event(
            net_trace::ADMIN,
            "nsglrespond",
            format_args!("control request {}", line.trim()),
        );
        let bound = self.bound_endpoints();
        let outcome = control::answer_line(&mut self.state, &bound, a.allowed, &line);
        let response = self.carry_out(outcome);
        // The answer is one short line: write it with a bounded blocking write.
        let stream = std::os::unix::net::UnixStream::from(OwnedFd::from(a.stream));
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
        if let Ok(mut text) = serde_json::to_string(&response) {
            text.push('\n');
            let _ = (&stream).write_all(text.as_bytes());
        }
        self.state
            .net_trace
            .event(net_trace::ADMIN, "nsglrespond", "exit");
    }

    /// The endpoints listened on, with their bound ports, as the verbs see them.
    fn bound_endpoints(&self) -> Vec<Endpoint> {
        self.endpoints
            .values()
            .map(|b| b.endpoint.clone())
            .collect()
    }

    /// Performs a verb's effects and returns its answer (with a line per endpoint that could
    /// not be bound).
    fn carry_out(&mut self, outcome: control::Outcome) -> AdminResponse {
        let control::Outcome {
            mut response,
            effects,
        } = outcome;
        for effect in effects {
            match effect {
                Effect::Stop => self.stop = true,
                Effect::Close { host, port } => {
                    let gone: Vec<Token> = self
                        .endpoints
                        .iter()
                        .filter(|(_, b)| b.endpoint.host == host && b.endpoint.port == port)
                        .map(|(t, _)| *t)
                        .collect();
                    for t in gone {
                        if let Some(mut b) = self.endpoints.remove(&t) {
                            let _ = self.poll.registry().deregister(&mut b.listener);
                            tracing::info!(address = %b.endpoint.address(), "endpoint closed by reload");
                        }
                    }
                }
                Effect::Bind(e) => {
                    if let Err(err) = self.bind_endpoint(&e)
                        && let AdminResponse::Ok { lines } = &mut response
                    {
                        lines.push(err.to_string());
                    }
                }
                Effect::RateLimit {
                    host,
                    port,
                    rate_limit,
                } => {
                    for b in self.endpoints.values_mut() {
                        if b.endpoint.host == host && b.endpoint.port == port {
                            b.endpoint.rate_limit = rate_limit;
                        }
                    }
                }
                Effect::ConfigureSpawner { method, pools } => {
                    self.configure_spawner_with(method, &pools)
                }
            }
        }
        response
    }

    fn cleanup_files(&self) {
        let _ = std::fs::remove_file(&self.admin_path);
        let _ = std::fs::remove_file(&self.pid_path);
    }

    fn shutdown(mut self) {
        for (_, mut b) in self.endpoints.drain() {
            let _ = self.poll.registry().deregister(&mut b.listener);
        }
        self.conns.clear();
        self.cleanup_files();
        // Closing the channel lets the spawner exit once its dedicated servers are gone;
        // sessions are not touched.
        if let Some(sp) = self.spawner.take() {
            sp.shutdown(Duration::from_millis(500));
        }
    }
}

fn until_next_second() -> Duration {
    let sub = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    Duration::from_nanos(u64::from(1_000_000_000 - sub)) + Duration::from_millis(1)
}

/// Decides whether `buf` holds a complete CONNECT yet. `Err(reason)` for anything that can
/// never become a valid CONNECT.
fn classify(buf: &[u8]) -> Result<Option<(packet::Connect, usize)>, String> {
    if buf.len() >= 2 {
        let len = usize::from(u16::from_be_bytes([buf[0], buf[1]]));
        if !(MIN_CONNECT_PACKET..=MAX_CONNECT_PACKET).contains(&len) {
            return Err(format!(
                "bad packet: declared length {len} is not a plausible CONNECT"
            ));
        }
    }
    if buf.len() >= 5 && buf[4] != packet::packet_type::CONNECT {
        return Err(format!(
            "bad packet: type {} where a CONNECT (1) was expected",
            buf[4]
        ));
    }
    if buf.len() > MAX_CONNECT_BYTES {
        return Err(format!(
            "bad packet: more than {MAX_CONNECT_BYTES} bytes without a complete CONNECT"
        ));
    }
    match packet::decode_connect(buf) {
        Ok(v) => Ok(v),
        Err(e) => Err(format!("bad packet: {e}")),
    }
}

fn into_blocking(stream: TcpStream) -> Option<std::net::TcpStream> {
    let s = std::net::TcpStream::from(OwnedFd::from(stream));
    s.set_nonblocking(false).ok()?;
    s.set_write_timeout(Some(Duration::from_secs(2))).ok()?;
    Some(s)
}

fn refuse_text(trace: &mut NetTrace, stream: TcpStream, refuse: &Refuse) {
    let bytes = refuse.encode();
    trace.event(
        net_trace::ADMIN,
        "nspsend",
        format_args!("plen={}, type=4 (REFUSE): {}", bytes.len(), refuse.text),
    );
    trace.packet("nspsend", &bytes);
    if let Some(mut s) = into_blocking(stream) {
        let _ = s.write_all(&bytes);
        let _ = s.shutdown(std::net::Shutdown::Write);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connect_bytes(desc: &str) -> Vec<u8> {
        packet::Connect::new(desc.as_bytes().to_vec(), 8192).encode()
    }

    #[test]
    fn classify_waits_for_complete_connects_and_rejects_junk() {
        let short = connect_bytes("(CONNECT_DATA=(SERVICE_NAME=x))");
        for cut in 0..short.len() {
            assert!(matches!(classify(&short[..cut]), Ok(None)), "cut {cut}");
        }
        let (c, used) = classify(&short).expect("valid").expect("complete");
        assert_eq!(used, short.len());
        assert_eq!(c.descriptor_str(), "(CONNECT_DATA=(SERVICE_NAME=x))");

        // > 230 bytes: CONNECT + overflow DATA packet; complete only with both.
        let long_desc = format!("(CONNECT_DATA=(SERVICE_NAME={}))", "s".repeat(400));
        let long = connect_bytes(&long_desc);
        let first = usize::from(u16::from_be_bytes([long[0], long[1]]));
        assert!(first < long.len());
        assert!(matches!(classify(&long[..first]), Ok(None)));
        let (c, used) = classify(&long).expect("valid").expect("complete");
        assert_eq!((used, c.descriptor_str()), (long.len(), long_desc));

        for junk in [
            &b"GET / HTTP/1.1\r\n\r\n"[..],
            &[0, 0, 0, 0, 1, 0, 0, 0][..],
            &[0xFF, 0xFF, 0, 0, 1, 0, 0, 0][..],
            &[0, 8][..],
            &[0, 60, 0, 0, 6, 0, 0, 0][..],
        ] {
            assert!(classify(junk).is_err(), "{junk:?} accepted");
        }
    }
}
