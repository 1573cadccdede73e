//! The listener's table of dynamic registrations (what LREG told it), and the local endpoint
//! instances register through.
//!
//! Oracle's listener starts with "The listener supports no services" and learns instances,
//! their services, handlers and load from each instance's LREG. This module is that half:
//! [`Table`] accepts, refreshes and forgets registrations (on deregistration at shutdown,
//! when the instance's registration connection closes — it died — or when updates stop for
//! several refresh intervals), and answers service lookups the listener's router merges with
//! its static `SID_LIST_<listener>` entries. [`RegistrationServer`] runs the Unix-socket
//! endpoint (path from [`server_proc::registration::socket_path_for_port`]) on its own
//! threads and accepts only peers with the listener's own uid (or root), which with a Unix
//! socket also means "from its own host".
//!
//! How the router uses it:
//! ```text
//! let reg = RegistrationServer::start(&socket_path_for_port(port), "LISTENER")?;
//! ...
//! let dynamic = reg.registry().lookup_service(&service);   // Vec<DynamicInstance>
//! //   empty (and no static entry)            -> ORA-12514
//! //   every instance Blocked                 -> ORA-12528 (Restricted -> 12526)
//! //   no Ready handler of the wanted kind    -> ORA-12516 / 12519 / 12520
//! //   else hand off to a Ready handler, then reg.registry().record_handoff(inst, "D000")
//! ```
//! The `established:`/`refused:` counters `lsnrctl services` prints are kept by the service
//! directory (`services.rs`), not here: this table only adds the hand-offs made since an
//! instance's last load report to that report.

use std::collections::{BTreeMap, HashMap};
use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
use server_proc::registration::{
    ClientMessage, Handler, HandlerKind, HandlerState, InstanceRegistration, InstanceStatus,
    LineReader, LoadReport, PROTOCOL_VERSION, RegistrationError, ServerMessage, write_message,
};
use tns::error_text::tns_line;

/// Errors of the registration endpoint.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationServerError {
    /// Another live listener already owns the registration socket.
    #[error("{} ({path})", tns_line(12542))]
    AddressInUse {
        /// The socket path.
        path: PathBuf,
    },
    /// Creating, binding or configuring the socket failed.
    #[error("{} ({op} {path}: {source})", tns_line(12560))]
    Io {
        /// The step that failed.
        op: &'static str,
        /// The socket path.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

/// Identifies one registration connection.
pub type ConnId = u64;

/// A handler as the router sees it, with the hand-offs the listener made since its report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamicHandler {
    /// What the instance registered.
    pub handler: Handler,
    /// Connections handed to it since the instance last reported its load: the listener
    /// adds them to the reported load, as Oracle's listener does between updates.
    pub since_report: u32,
}

/// One registered instance of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamicInstance {
    /// INSTANCE_NAME.
    pub instance_name: String,
    /// ORACLE_SID for dedicated servers.
    pub sid: String,
    /// ORACLE_HOME for dedicated servers.
    pub oracle_home: String,
    /// DB_NAME.
    pub db_name: String,
    /// Host of the instance.
    pub host: String,
    /// Pid of `oradb`.
    pub pid: i32,
    /// READY / BLOCKED / RESTRICTED.
    pub status: InstanceStatus,
    /// Its handlers.
    pub handlers: Vec<DynamicHandler>,
    /// Its load as last reported.
    pub load: LoadReport,
    /// Its services.
    pub services: Vec<String>,
}

impl DynamicInstance {
    /// The dedicated handler, if registered.
    pub fn dedicated(&self) -> Option<&DynamicHandler> {
        self.handlers
            .iter()
            .find(|h| h.handler.kind == HandlerKind::Dedicated)
    }

    /// Ready dispatchers, least loaded first (the order the listener should try them in).
    pub fn ready_dispatchers(&self) -> Vec<&DynamicHandler> {
        let mut d: Vec<&DynamicHandler> = self
            .handlers
            .iter()
            .filter(|h| {
                matches!(h.handler.kind, HandlerKind::Dispatcher { .. })
                    && h.handler.state == HandlerState::Ready
            })
            .collect();
        d.sort_by_key(|h| h.handler.current);
        d
    }
}

/// What happened to a registration, for `listener.log` (Oracle logs `service_register`,
/// `service_update` and `service_died` lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationEvent {
    /// When.
    pub at: SystemTime,
    /// What.
    pub kind: RegistrationEventKind,
    /// INSTANCE_NAME (empty if unknown, e.g. a refused peer).
    pub instance: String,
}

/// Kinds of [`RegistrationEvent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationEventKind {
    /// First registration of an instance (`service_register`).
    Register,
    /// A refresh (`service_update`).
    Update,
    /// The instance deregistered (shutdown).
    Deregister,
    /// Its registration connection closed without deregistration (`service_died`).
    Died,
    /// No update for too long.
    Expired,
    /// A peer was refused (wrong uid, bad message, wrong version).
    Refused,
}

impl RegistrationEventKind {
    /// The word `listener.log` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            RegistrationEventKind::Register => "service_register",
            RegistrationEventKind::Update => "service_update",
            RegistrationEventKind::Deregister => "service_deregister",
            RegistrationEventKind::Died => "service_died",
            RegistrationEventKind::Expired => "service_expired",
            RegistrationEventKind::Refused => "service_register_refused",
        }
    }
}

#[derive(Debug)]
struct Entry {
    reg: InstanceRegistration,
    conn: ConnId,
    updated: Instant,
    /// Hand-offs per handler not yet seen in a load report, and when the last one was made.
    since_report: HashMap<String, (u32, Instant)>,
}

/// A hand-off older than this at the time of a load report is surely in it (or failed): a
/// count the reports never absorbed cannot inflate a dispatcher's load for long.
const HANDOFF_SETTLE: Duration = Duration::from_secs(2);

/// Registrations an instance is forgotten after this many silent refresh intervals.
pub const EXPIRY_INTERVALS: u32 = 3;

/// The table of dynamic registrations. Sans-I/O: the caller passes messages and the time.
pub struct Table {
    listener_name: String,
    instances: BTreeMap<String, Entry>,
    events: Vec<RegistrationEvent>,
    spawns: Vec<PooledSpawn>,
    /// Tells the listener's loop that spawn requests wait.
    on_spawn: Option<Box<dyn Fn() + Send>>,
    /// Bumped by every change of what [`Table::services`] shows (and with every event and
    /// spawn request), so the listener rebuilds its directory only when this moved.
    changes: u64,
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("listener_name", &self.listener_name)
            .field("instances", &self.instances.len())
            .field("spawns", &self.spawns)
            .finish_non_exhaustive()
    }
}

/// A registered instance's DRCP broker asks for pooled servers (the spawner forks them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PooledSpawn {
    /// ORACLE_SID.
    pub sid: String,
    /// ORACLE_HOME.
    pub oracle_home: String,
    /// The broker's socket for pooled servers.
    pub servers_path: String,
    /// How many.
    pub count: u32,
}

/// Most pooled servers one request may ask for, and most requests kept until the
/// listener's loop takes them.
const MAX_SPAWN: u32 = 256;
const MAX_SPAWN_REQUESTS: usize = 64;

impl Table {
    /// An empty table for the listener `listener_name` (its alias, e.g. `LISTENER`).
    pub fn new(listener_name: &str) -> Table {
        Table {
            listener_name: listener_name.to_string(),
            instances: BTreeMap::new(),
            events: Vec::new(),
            spawns: Vec::new(),
            on_spawn: None,
            changes: 0,
        }
    }

    fn event(&mut self, kind: RegistrationEventKind, instance: &str) {
        self.changes += 1;
        tracing::info!(target: "listener::registration", event = kind.as_str(), instance);
        // Bounded: a listener whose log writer never drains must not grow without end.
        if self.events.len() >= 1024 {
            self.events.remove(0);
        }
        self.events.push(RegistrationEvent {
            at: SystemTime::now(),
            kind,
            instance: instance.to_string(),
        });
    }

    /// Applies one message that arrived on connection `conn` at `now`; returns the reply.
    pub fn handle(&mut self, conn: ConnId, msg: ClientMessage, now: Instant) -> ServerMessage {
        self.changes += 1;
        match msg {
            ClientMessage::ServiceUpdate {
                version,
                registration,
            } => {
                if version != PROTOCOL_VERSION {
                    self.event(RegistrationEventKind::Refused, &registration.instance_name);
                    return ServerMessage::Refused {
                        code: 12560,
                        message: format!(
                            "registration protocol version {version} not supported (listener speaks {PROTOCOL_VERSION})"
                        ),
                    };
                }
                if registration.instance_name.is_empty() {
                    self.event(RegistrationEventKind::Refused, "");
                    return ServerMessage::Refused {
                        code: 12560,
                        message: "registration without an instance name".to_string(),
                    };
                }
                let key = registration.instance_name.to_ascii_lowercase();
                let name = registration.instance_name.clone();
                let kind = match self.instances.get_mut(&key) {
                    Some(e) => {
                        // A report may have been built before the dispatcher counted the last
                        // hand-offs: only the growth it shows absorbs them (clearing them all
                        // sent every quick connect to the same dispatcher).
                        if e.reg.pid != registration.pid {
                            e.since_report.clear();
                        }
                        for h in &registration.handlers {
                            let before = e
                                .reg
                                .handlers
                                .iter()
                                .find(|o| o.name == h.name)
                                .map_or(0, |o| o.current);
                            if let Some((pending, last)) = e.since_report.get_mut(&h.name) {
                                *pending = pending.saturating_sub(h.current.saturating_sub(before));
                                if now.saturating_duration_since(*last) >= HANDOFF_SETTLE {
                                    *pending = 0;
                                }
                            }
                        }
                        e.since_report.retain(|name, (pending, _)| {
                            *pending > 0 && registration.handlers.iter().any(|h| &h.name == name)
                        });
                        e.reg = registration;
                        e.conn = conn;
                        e.updated = now;
                        RegistrationEventKind::Update
                    }
                    None => {
                        self.instances.insert(
                            key,
                            Entry {
                                reg: registration,
                                conn,
                                updated: now,
                                since_report: HashMap::new(),
                            },
                        );
                        RegistrationEventKind::Register
                    }
                };
                self.event(kind, &name);
                self.ack()
            }
            ClientMessage::SpawnPooled {
                version,
                sid,
                oracle_home,
                servers_path,
                count,
            } => {
                // Only an instance registered here may have servers forked for it.
                let known = self.instances.values().any(|e| {
                    e.reg.sid.eq_ignore_ascii_case(&sid) && e.reg.oracle_home == oracle_home
                });
                if version != PROTOCOL_VERSION || !known || self.spawns.len() >= MAX_SPAWN_REQUESTS
                {
                    return ServerMessage::Refused {
                        code: 12560,
                        message: format!("pooled servers for {sid} refused"),
                    };
                }
                self.spawns.push(PooledSpawn {
                    sid,
                    oracle_home,
                    servers_path,
                    count: count.min(MAX_SPAWN),
                });
                if let Some(wake) = &self.on_spawn {
                    wake();
                }
                self.ack()
            }
            ClientMessage::Deregister { instance_name, .. } => {
                let key = instance_name.to_ascii_lowercase();
                if self.instances.remove(&key).is_some() {
                    self.event(RegistrationEventKind::Deregister, &instance_name);
                }
                self.ack()
            }
        }
    }

    fn ack(&self) -> ServerMessage {
        ServerMessage::Ack {
            listener: self.listener_name.clone(),
        }
    }

    /// The registration connection `conn` closed: forget every instance that last
    /// registered through it (it died without deregistering). Returns their names.
    pub fn connection_closed(&mut self, conn: ConnId) -> Vec<String> {
        let dead: Vec<String> = self
            .instances
            .iter()
            .filter(|(_, e)| e.conn == conn)
            .map(|(k, _)| k.clone())
            .collect();
        let mut names = Vec::new();
        for k in dead {
            if let Some(e) = self.instances.remove(&k) {
                self.event(RegistrationEventKind::Died, &e.reg.instance_name);
                names.push(e.reg.instance_name);
            }
        }
        names
    }

    /// Forgets instances silent for more than [`EXPIRY_INTERVALS`] refresh intervals, and
    /// hand-offs older than [`HANDOFF_SETTLE`] that no report has absorbed yet.
    pub fn expire(&mut self, now: Instant) -> Vec<String> {
        for e in self.instances.values_mut() {
            let before = e.since_report.len();
            e.since_report
                .retain(|_, (_, last)| now.saturating_duration_since(*last) < HANDOFF_SETTLE);
            if e.since_report.len() != before {
                self.changes += 1;
            }
        }
        let stale: Vec<String> = self
            .instances
            .iter()
            .filter(|(_, e)| {
                let refresh = Duration::from_secs(e.reg.refresh_secs.max(1));
                now.saturating_duration_since(e.updated) > refresh * EXPIRY_INTERVALS
            })
            .map(|(k, _)| k.clone())
            .collect();
        let mut names = Vec::new();
        for k in stale {
            if let Some(e) = self.instances.remove(&k) {
                self.event(RegistrationEventKind::Expired, &e.reg.instance_name);
                names.push(e.reg.instance_name);
            }
        }
        names
    }

    fn view(e: &Entry) -> DynamicInstance {
        DynamicInstance {
            instance_name: e.reg.instance_name.clone(),
            sid: e.reg.sid.clone(),
            oracle_home: e.reg.oracle_home.clone(),
            db_name: e.reg.db_name.clone(),
            host: e.reg.host.clone(),
            pid: e.reg.pid,
            status: e.reg.status,
            handlers: e
                .reg
                .handlers
                .iter()
                .map(|h| DynamicHandler {
                    handler: h.clone(),
                    since_report: e.since_report.get(&h.name).map_or(0, |(n, _)| *n),
                })
                .collect(),
            load: e.reg.load,
            services: e.reg.services.clone(),
        }
    }

    /// Instances offering `service` (case-insensitive), in instance-name order.
    pub fn lookup_service(&self, service: &str) -> Vec<DynamicInstance> {
        self.instances
            .values()
            .filter(|e| {
                e.reg
                    .services
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(service))
            })
            .map(Table::view)
            .collect()
    }

    /// The instance named `name` (for `SID=` or `INSTANCE_NAME=` in CONNECT_DATA).
    pub fn lookup_instance(&self, name: &str) -> Option<DynamicInstance> {
        self.instances
            .get(&name.to_ascii_lowercase())
            .map(Table::view)
    }

    /// Every service with its instances, by service name (for `lsnrctl status/services`).
    pub fn services(&self) -> BTreeMap<String, Vec<DynamicInstance>> {
        let mut out: BTreeMap<String, Vec<DynamicInstance>> = BTreeMap::new();
        for e in self.instances.values() {
            for s in &e.reg.services {
                out.entry(s.clone()).or_default().push(Table::view(e));
            }
        }
        out
    }

    /// Every registered instance.
    pub fn instances(&self) -> Vec<DynamicInstance> {
        self.instances.values().map(Table::view).collect()
    }

    /// Counts a hand-off to `handler` of `instance` until a load report shows it. True when
    /// it was counted (the instance registered that handler): the table changed once.
    pub fn record_handoff(&mut self, instance: &str, handler: &str, now: Instant) -> bool {
        let Some(e) = self.instances.get_mut(&instance.to_ascii_lowercase()) else {
            return false;
        };
        // Only handlers the instance registered are counted (the map stays bounded).
        let Some(name) = e
            .reg
            .handlers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(handler))
            .map(|h| h.name.clone())
        else {
            return false;
        };
        let pending = e.since_report.entry(name).or_insert((0, now));
        pending.0 += 1;
        pending.1 = now;
        self.changes += 1;
        true
    }

    /// Takes the events recorded since the last call (for `listener.log`).
    pub fn take_events(&mut self) -> Vec<RegistrationEvent> {
        std::mem::take(&mut self.events)
    }

    /// Takes the pooled-server requests made since the last call (for the spawner).
    pub fn take_spawns(&mut self) -> Vec<PooledSpawn> {
        std::mem::take(&mut self.spawns)
    }
}

/// A shared handle on a [`Table`], for the router and the endpoint threads.
#[derive(Debug, Clone)]
pub struct Registry {
    table: Arc<Mutex<Table>>,
}

impl Registry {
    /// A registry with an empty table.
    pub fn new(listener_name: &str) -> Registry {
        Registry {
            table: Arc::new(Mutex::new(Table::new(listener_name))),
        }
    }

    /// Locks the table (a panic in another holder does not make it unusable).
    pub fn lock(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// See [`Table::lookup_service`]; expires stale entries first.
    pub fn lookup_service(&self, service: &str) -> Vec<DynamicInstance> {
        let mut t = self.lock();
        t.expire(Instant::now());
        t.lookup_service(service)
    }

    /// See [`Table::lookup_instance`]; expires stale entries first.
    pub fn lookup_instance(&self, name: &str) -> Option<DynamicInstance> {
        let mut t = self.lock();
        t.expire(Instant::now());
        t.lookup_instance(name)
    }

    /// See [`Table::services`]; expires stale entries first.
    pub fn services(&self) -> BTreeMap<String, Vec<DynamicInstance>> {
        let mut t = self.lock();
        t.expire(Instant::now());
        t.services()
    }

    /// Expires stale entries, then tells how many times the table has changed: the same
    /// number as at the last call means [`Registry::services`] shows the same, and no events
    /// or spawn requests wait.
    pub fn changes(&self) -> u64 {
        let mut t = self.lock();
        t.expire(Instant::now());
        t.changes
    }

    /// See [`Table::record_handoff`]. When the hand-off was counted, returns the change
    /// count after it, one more than before: a listener whose directory showed the table at
    /// the count before applies the hand-off to its directory
    /// ([`crate::services::ServiceDirectory::record_handoff`]) instead of rebuilding it.
    pub fn record_handoff(&self, instance: &str, handler: &str) -> Option<u64> {
        let mut t = self.lock();
        t.record_handoff(instance, handler, Instant::now())
            .then_some(t.changes)
    }

    /// See [`Table::take_events`].
    pub fn take_events(&self) -> Vec<RegistrationEvent> {
        self.lock().take_events()
    }

    /// See [`Table::take_spawns`].
    pub fn take_spawns(&self) -> Vec<PooledSpawn> {
        self.lock().take_spawns()
    }

    /// `wake` is called whenever a pooled-server request arrives.
    pub fn on_spawn_request(&self, wake: Box<dyn Fn() + Send>) {
        self.lock().on_spawn = Some(wake);
    }
}

/// How often the endpoint threads look at the stop flag and expire entries.
const TICK: Duration = Duration::from_millis(100);

/// The registration endpoint: a Unix socket served by its own threads. Stopped (threads
/// joined, socket file removed) by [`RegistrationServer::stop`] or on drop.
#[derive(Debug)]
pub struct RegistrationServer {
    registry: Registry,
    path: PathBuf,
    stop: Arc<AtomicBool>,
    accept_thread: Option<JoinHandle<()>>,
}

impl RegistrationServer {
    /// Binds `path` (creating its directory with mode 0700; replacing a stale socket file
    /// nobody listens on) and starts accepting registrations for `listener_name`.
    pub fn start(
        path: &Path,
        listener_name: &str,
    ) -> Result<RegistrationServer, RegistrationServerError> {
        let io = |op: &'static str| {
            let path = path.to_path_buf();
            move |source| RegistrationServerError::Io { op, path, source }
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io("create directory for"))?;
            // Only the owner may reach the sockets in it (best effort on a shared /tmp).
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        }
        if path.exists() {
            if UnixStream::connect(path).is_ok() {
                return Err(RegistrationServerError::AddressInUse {
                    path: path.to_path_buf(),
                });
            }
            std::fs::remove_file(path).map_err(io("remove stale"))?;
        }
        let listener = UnixListener::bind(path).map_err(io("bind"))?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(io("chmod"))?;
        listener.set_nonblocking(true).map_err(io("configure"))?;
        let registry = Registry::new(listener_name);
        let stop = Arc::new(AtomicBool::new(false));
        let accept_thread = {
            let registry = registry.clone();
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("lsnr-reg".into())
                .spawn(move || accept_loop(listener, registry, stop))
                .map_err(io("start thread for"))?
        };
        Ok(RegistrationServer {
            registry,
            path: path.to_path_buf(),
            stop,
            accept_thread: Some(accept_thread),
        })
    }

    /// The table this endpoint fills.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops accepting, closes every registration connection (instances see EOF and will
    /// re-register with the next listener on this path) and removes the socket file.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.accept_thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Drop for RegistrationServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn accept_loop(listener: UnixListener, registry: Registry, stop: Arc<AtomicBool>) {
    static NEXT_CONN: AtomicU64 = AtomicU64::new(1);
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    let own_uid = nix::unistd::geteuid().as_raw();
    while !stop.load(Ordering::Acquire) {
        match listener.accept() {
            Ok((stream, _)) => {
                let conn = NEXT_CONN.fetch_add(1, Ordering::Relaxed);
                let registry = registry.clone();
                let stop = Arc::clone(&stop);
                let spawned = std::thread::Builder::new()
                    .name("lsnr-reg-conn".into())
                    .spawn(move || serve_connection(stream, conn, own_uid, registry, stop));
                match spawned {
                    Ok(h) => workers.push(h),
                    Err(e) => tracing::warn!("registration: cannot start a thread: {e}"),
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted => {
                std::thread::sleep(TICK);
                registry.lock().expire(Instant::now());
            }
            Err(e) => {
                tracing::warn!("registration: accept failed: {e}");
                std::thread::sleep(TICK);
            }
        }
        workers.retain(|h| !h.is_finished());
    }
    for h in workers {
        let _ = h.join();
    }
}

fn serve_connection(
    stream: UnixStream,
    conn: ConnId,
    own_uid: u32,
    registry: Registry,
    stop: Arc<AtomicBool>,
) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
    // Wake up regularly to notice a stop while the instance is quiet between updates.
    let _ = stream.set_read_timeout(Some(TICK * 2));
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!("registration: {e}");
            return;
        }
    };
    match getsockopt(&stream, PeerCredentials) {
        Ok(cred) if cred.uid() == own_uid || cred.uid() == 0 => {}
        Ok(cred) => {
            registry.lock().event(RegistrationEventKind::Refused, "");
            let _ = write_message(
                &mut writer,
                &ServerMessage::Refused {
                    code: 12546,
                    message: format!(
                        "{} (registration from uid {} refused; listener runs as uid {own_uid})",
                        tns_line(12546),
                        cred.uid()
                    ),
                },
            );
            return;
        }
        Err(e) => {
            tracing::warn!("registration: SO_PEERCRED failed: {e}");
            return;
        }
    }
    let mut reader = LineReader::new(stream);
    loop {
        if stop.load(Ordering::Acquire) {
            break;
        }
        match reader.read_message::<ClientMessage>() {
            Ok(msg) => {
                let reply = registry.lock().handle(conn, msg, Instant::now());
                if write_message(&mut writer, &reply).is_err() {
                    break;
                }
            }
            // A partial line stays buffered in `reader`; just wait for more.
            Err(e) if e.is_timeout() => continue,
            Err(RegistrationError::Closed) => break,
            Err(e) => {
                registry.lock().event(RegistrationEventKind::Refused, "");
                let _ = write_message(
                    &mut writer,
                    &ServerMessage::Refused {
                        code: 12560,
                        message: e.to_string(),
                    },
                );
                break;
            }
        }
    }
    registry.lock().connection_closed(conn);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(name: &str, services: &[&str], refresh: u64) -> InstanceRegistration {
        InstanceRegistration {
            instance_name: name.into(),
            sid: name.to_uppercase(),
            db_name: "ORCL".into(),
            oracle_home: "/u01/oh".into(),
            host: "h".into(),
            pid: 1,
            status: InstanceStatus::Ready,
            services: services.iter().map(|s| s.to_string()).collect(),
            handlers: vec![Handler {
                name: "DEDICATED".into(),
                kind: HandlerKind::Dedicated,
                state: HandlerState::Ready,
                current: 0,
                max: 100,
            }],
            load: LoadReport::default(),
            refresh_secs: refresh,
        }
    }

    fn update(r: InstanceRegistration) -> ClientMessage {
        ClientMessage::ServiceUpdate {
            version: PROTOCOL_VERSION,
            registration: r,
        }
    }

    #[test]
    fn register_lookup_refresh_and_deregister() {
        let mut t = Table::new("LISTENER");
        let now = Instant::now();
        let reply = t.handle(1, update(reg("orcl", &["orcl", "orcl_ro"], 60)), now);
        assert_eq!(
            reply,
            ServerMessage::Ack {
                listener: "LISTENER".into()
            }
        );
        assert_eq!(t.lookup_service("ORCL").len(), 1, "case-insensitive");
        assert_eq!(t.lookup_service("orcl_ro")[0].instance_name, "orcl");
        assert!(t.lookup_service("other").is_empty());
        assert_eq!(t.lookup_instance("ORCL").unwrap().sid, "ORCL");
        // A refresh replaces the content (e.g. load, state).
        let mut r = reg("orcl", &["orcl"], 60);
        r.status = InstanceStatus::Blocked;
        t.handle(1, update(r), now);
        assert!(t.lookup_service("orcl_ro").is_empty());
        assert_eq!(t.lookup_service("orcl")[0].status, InstanceStatus::Blocked);
        t.handle(
            1,
            ClientMessage::Deregister {
                version: PROTOCOL_VERSION,
                instance_name: "ORCL".into(),
            },
            now,
        );
        assert!(t.lookup_service("orcl").is_empty());
        let kinds: Vec<_> = t.take_events().into_iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            vec![
                RegistrationEventKind::Register,
                RegistrationEventKind::Update,
                RegistrationEventKind::Deregister
            ]
        );
    }

    /// The listener skips rebuilding its directory while the count stands still, so every
    /// change of what `services` shows must move it.
    #[test]
    fn the_change_count_moves_with_every_change_of_the_services_view() {
        let mut t = Table::new("LISTENER");
        let now = Instant::now();
        let mut seen = t.changes;
        let mut moved = |t: &Table, what: &str| {
            assert_ne!(t.changes, seen, "{what}");
            seen = t.changes;
        };
        t.handle(1, update(reg("a", &["svc"], 1)), now);
        moved(&t, "registration");
        t.handle(1, update(reg("a", &["svc"], 1)), now);
        moved(&t, "refresh");
        let before = t.changes;
        let _ = (t.services(), t.lookup_service("svc"), t.take_events());
        assert!(t.expire(now).is_empty());
        assert_eq!(t.changes, before, "looking changes nothing");
        t.record_handoff("a", "DEDICATED", now);
        assert_eq!(t.services()["svc"][0].handlers[0].since_report, 1);
        moved(&t, "hand-off");
        let before = t.changes;
        t.record_handoff("a", "D999", now);
        assert_eq!(t.changes, before, "a handler the instance did not register");
        assert!(t.expire(now + HANDOFF_SETTLE).is_empty());
        assert_eq!(t.services()["svc"][0].handlers[0].since_report, 0);
        moved(&t, "a hand-off settled");
        assert_eq!(
            t.expire(now + Duration::from_secs(4)),
            vec!["a".to_string()]
        );
        moved(&t, "expiry");
        t.handle(2, update(reg("b", &["svc"], 60)), now);
        moved(&t, "another instance");
        t.connection_closed(2);
        moved(&t, "its connection closed");
    }

    #[test]
    fn closed_connection_and_silence_forget_the_instance() {
        let mut t = Table::new("LISTENER");
        let now = Instant::now();
        t.handle(1, update(reg("a", &["svc"], 60)), now);
        t.handle(2, update(reg("b", &["svc"], 1)), now);
        assert_eq!(t.lookup_service("svc").len(), 2);
        assert_eq!(t.connection_closed(1), vec!["a".to_string()]);
        assert_eq!(t.lookup_service("svc").len(), 1);
        // b refreshes every second: silent for 2 s it stays, for over 3 s it goes.
        assert!(t.expire(now + Duration::from_secs(2)).is_empty());
        assert_eq!(
            t.expire(now + Duration::from_millis(3100)),
            vec!["b".to_string()]
        );
        assert!(t.services().is_empty());
    }

    #[test]
    fn reregistration_on_a_new_connection_survives_the_old_one_closing() {
        let mut t = Table::new("LISTENER");
        let now = Instant::now();
        t.handle(1, update(reg("a", &["svc"], 60)), now);
        t.handle(2, update(reg("a", &["svc"], 60)), now);
        assert!(t.connection_closed(1).is_empty());
        assert_eq!(t.lookup_service("svc").len(), 1);
    }

    #[test]
    fn wrong_version_is_refused() {
        let mut t = Table::new("LISTENER");
        let reply = t.handle(
            1,
            ClientMessage::ServiceUpdate {
                version: 99,
                registration: reg("a", &["svc"], 60),
            },
            Instant::now(),
        );
        assert!(matches!(reply, ServerMessage::Refused { code: 12560, .. }));
        assert!(t.lookup_service("svc").is_empty());
        t.handle(1, update(reg("a", &["svc"], 60)), Instant::now());
        assert_eq!(t.lookup_service("svc").len(), 1);
    }

    #[test]
    fn a_load_report_absorbs_only_the_hand_offs_its_growth_shows() {
        let dispatcher = |pid: i32, port: u16| Handler {
            name: "D000".into(),
            kind: HandlerKind::Dispatcher {
                address: format!("(ADDRESS=(PROTOCOL=tcp)(HOST=h)(PORT={port}))"),
                handoff_path: None,
                pid,
            },
            state: HandlerState::Ready,
            current: 2,
            max: 10,
        };
        let mut t = Table::new("L");
        let mut r = reg("a", &["svc"], 60);
        r.handlers.push(dispatcher(r.pid, 1000));
        t.handle(1, update(r.clone()), Instant::now());
        for _ in 0..3 {
            t.record_handoff("a", "D000", Instant::now());
        }
        // Handlers the instance did not register are not counted (the map stays bounded).
        t.record_handoff("a", "D999", Instant::now());
        let d = |t: &Table| {
            t.lookup_service("svc")[0]
                .handlers
                .iter()
                .find(|h| h.handler.name == "D000")
                .cloned()
                .unwrap()
        };
        assert_eq!(d(&t).since_report, 3);
        assert!(!t.instances["a"].since_report.contains_key("D999"));
        // A report built before the dispatcher counted them (its load has not grown) keeps
        // them: the next connect must not go to the same dispatcher as if it were idle.
        let t0 = Instant::now();
        t.handle(1, update(r.clone()), t0);
        assert_eq!(d(&t).since_report, 3);
        // A report whose load grew by two absorbs two of them.
        let mut grown = r.clone();
        for h in &mut grown.handlers {
            if h.name == "D000" {
                h.current = 4;
            }
        }
        t.handle(1, update(grown), t0);
        assert_eq!(d(&t).since_report, 1);
        // Once the last hand-off is older than the settle time, what is left is forgotten.
        t.expire(t0 + HANDOFF_SETTLE + Duration::from_secs(1));
        assert_eq!(d(&t).since_report, 0);
        // A restarted instance (new pid) has no hand-offs pending from the old one.
        t.record_handoff("a", "D000", Instant::now());
        let mut r3 = r.clone();
        r3.pid += 1;
        t.handle(1, update(r3), Instant::now());
        assert_eq!(d(&t).since_report, 0);
    }

    #[test]
    fn dispatchers_are_ordered_by_load() {
        let mut r = reg("a", &["svc"], 60);
        for (name, current, state) in [
            ("D000", 5, HandlerState::Ready),
            ("D001", 1, HandlerState::Ready),
            ("D002", 0, HandlerState::Blocked),
        ] {
            r.handlers.push(Handler {
                name: name.into(),
                kind: HandlerKind::Dispatcher {
                    address: String::new(),
                    handoff_path: None,
                    pid: 1,
                },
                state,
                current,
                max: 10,
            });
        }
        let mut t = Table::new("L");
        t.handle(1, update(r), Instant::now());
        let inst = &t.lookup_service("svc")[0];
        let names: Vec<_> = inst
            .ready_dispatchers()
            .iter()
            .map(|h| h.handler.name.clone())
            .collect();
        assert_eq!(names, vec!["D001", "D000"]);
    }

    #[test]
    fn endpoint_round_trip_and_death_detection() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lsnr_test.reg");
        let server = RegistrationServer::start(&path, "LISTENER").unwrap();
        // A second listener on the same path is refused while the first lives.
        assert!(matches!(
            RegistrationServer::start(&path, "LISTENER"),
            Err(RegistrationServerError::AddressInUse { .. })
        ));
        let stream = UnixStream::connect(&path).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream
            .set_write_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut w = stream.try_clone().unwrap();
        let mut r = LineReader::new(stream);
        write_message(&mut w, &update(reg("orcl", &["orcl"], 60))).unwrap();
        let reply: ServerMessage = r.read_message().unwrap();
        assert!(matches!(reply, ServerMessage::Ack { .. }));
        assert_eq!(server.registry().lookup_service("orcl").len(), 1);
        // The instance dies: its connection closes and the listener forgets it.
        drop(w);
        drop(r);
        let deadline = Instant::now() + Duration::from_secs(5);
        while !server.registry().lookup_service("orcl").is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(server.registry().lookup_service("orcl").is_empty());
        let kinds: Vec<_> = server
            .registry()
            .take_events()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(
            kinds,
            vec![RegistrationEventKind::Register, RegistrationEventKind::Died]
        );
        drop(server);
        assert!(!path.exists(), "socket file removed at stop");
    }

    #[test]
    fn garbage_is_refused_with_12560() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lsnr_garbage.reg");
        let _server = RegistrationServer::start(&path, "LISTENER").unwrap();
        let stream = UnixStream::connect(&path).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut w = stream.try_clone().unwrap();
        std::io::Write::write_all(&mut w, b"hello\n").unwrap();
        let reply: ServerMessage = LineReader::new(stream).read_message().unwrap();
        assert!(matches!(reply, ServerMessage::Refused { code: 12560, .. }));
    }
}
