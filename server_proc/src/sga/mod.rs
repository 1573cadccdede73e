//! The SGA: one named shared-memory segment per SID holding the instance state, the process
//! table (V$PROCESS) and the session table (V$SESSION), so that the instance (`oradb`) and
//! every dedicated server process see one truth without talking to each other.
//!
//! The segment is made of fixed-size slots of atomics (see `layout`); a slot is claimed with
//! one compare-and-swap that also bumps its SERIAL#, and freed with one compare-and-swap that
//! only succeeds for the incarnation the caller means. That makes pmon's cleanup of a dead
//! process and the owner's own logoff safe to race.
//!
//! A kill reaches its victim promptly in two ways: the victim's session slot has a `kill`
//! word that is also a process-shared futex, which the victim polls at each call and sleeps
//! on during long calls ([`SessionHandle::sleep`]); and for `IMMEDIATE` kills and
//! `DISCONNECT SESSION` of a dedicated session the victim process receives `SIGTERM`, which
//! (left at its default disposition) closes the connection at once. pmon then frees its slots.

pub mod cpool;
pub mod hooks;
mod layout;
mod os;
mod server;
pub mod shared;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering, fence};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tns::error_text::{ora_line, ora_line_with};

pub use engine::rows::{
    InstanceRow, InstanceState, ProcessKind, ProcessRow, ServerKind, SessionRow, SessionStatus,
    SessionType,
};
pub use engine::views;
use layout::{
    Header, LAYOUT_VERSION, MAGIC, Offsets, ProcessSlot, SLOT_FREE, SLOT_USED, SessionSlot, tag,
    tag_serial, tag_state, try_claim,
};
pub use os::OsError;
pub use server::ServerAttachment;

/// How long KILL ... IMMEDIATE / DISCONNECT waits for the victim process to end after SIGTERM
/// before it sends SIGKILL.
const KILL_ESCALATION: Duration = Duration::from_millis(500);

/// Base of the fictitious addresses shown as V$PROCESS.ADDR / V$SESSION.SADDR / PADDR.
const ADDR_BASE: u64 = 0x0000_0000_8A40_0000;

/// Errors of the SGA. Those a client can see carry their Oracle code and text.
#[derive(Debug, thiserror::Error)]
pub enum SgaError {
    /// No instance is running for this SID (no segment, or a stale one).
    #[error(
        "{}\n{}\nLinux-x86_64 Error: 2: No such file or directory",
        ora_line(1034),
        ora_line(27101)
    )]
    NotAvailable {
        /// The ORACLE_SID looked for.
        sid: String,
    },
    /// The instance exists but is not open (started or mounted only).
    #[error("{}", ora_line(1033))]
    NotOpen,
    /// A shutdown is in progress: no new connections.
    #[error("{}", ora_line(1090))]
    ShutdownInProgress,
    /// An immediate shutdown is in progress: no more calls.
    #[error("{}", ora_line(1089))]
    ImmediateShutdown,
    /// All PROCESSES slots are taken.
    #[error("{}", ora_line_with(20, &[&.max.to_string()]))]
    ProcessesExceeded {
        /// The PROCESSES parameter.
        max: u32,
    },
    /// All SESSIONS slots are taken.
    #[error("{}", ora_line(18))]
    SessionsExceeded {
        /// The SESSIONS parameter.
        max: u32,
    },
    /// The caller's session was killed.
    #[error("{}", ora_line(28))]
    SessionKilled,
    /// The instance died under the session (`kill -9` of `oradb`, a crash).
    #[error("{}", ora_line(1092))]
    InstanceTerminated,
    /// The caller's session is gone (after ORA-00028, or after logoff).
    #[error("{}", ora_line(1012))]
    NotLoggedOn,
    /// A `'sid,serial#'` string that is not two numbers.
    #[error("{}", ora_line(26))]
    InvalidSessionId {
        /// What was given.
        given: String,
    },
    /// KILL/DISCONNECT SESSION of a sid/serial# that does not exist (any more).
    #[error("{}", ora_line(30))]
    NoSuchSession {
        /// The SID given.
        sid: u32,
        /// The SERIAL# given.
        serial: u32,
    },
    /// KILL/DISCONNECT SESSION of the caller's own session.
    #[error("{}", ora_line(27))]
    CannotKillSelf,
    /// KILL SESSION of a background process's session.
    #[error("{}", ora_line(29))]
    NotUserSession {
        /// The SID given.
        sid: u32,
    },
    /// `startup` while an instance with this SID is alive.
    #[error("{}", ora_line(1081))]
    AlreadyRunning {
        /// The ORACLE_SID.
        sid: String,
        /// The running instance's pid.
        pid: i32,
    },
    /// The segment belongs to another OS user (only the instance owner may attach).
    #[error("{}", ora_line(1031))]
    InsufficientPrivileges {
        /// The ORACLE_SID.
        sid: String,
    },
    /// The segment exists but is not a layout this build understands.
    #[error("{}", ora_line_with(600, &["sga", .what]))]
    Corrupt {
        /// What did not match.
        what: String,
    },
    /// `ALTER SYSTEM SET` refused (or a bad DISPATCHERS value): the code and Oracle's
    /// lines.
    #[error("{text}")]
    Parameter {
        /// The first ORA number.
        code: u32,
        /// The whole error stack as Oracle prints it.
        text: String,
    },
    /// An OS call failed.
    #[error(
        "{}\n{}",
        ora_line_with(27300, &[.0.op, &(.0.errno as i32).to_string()]),
        ora_line_with(27301, &[.0.errno.desc()])
    )]
    Os(#[from] OsError),
}

impl SgaError {
    /// The Oracle error number a client sees first (e.g. 1034 for [`SgaError::NotAvailable`]).
    pub fn ora_code(&self) -> u32 {
        match self {
            SgaError::NotAvailable { .. } => 1034,
            SgaError::NotOpen => 1033,
            SgaError::ShutdownInProgress => 1090,
            SgaError::ImmediateShutdown => 1089,
            SgaError::ProcessesExceeded { .. } => 20,
            SgaError::SessionsExceeded { .. } => 18,
            SgaError::SessionKilled => 28,
            SgaError::InstanceTerminated => 1092,
            SgaError::NotLoggedOn => 1012,
            SgaError::InvalidSessionId { .. } => 26,
            SgaError::NoSuchSession { .. } => 30,
            SgaError::CannotKillSelf => 27,
            SgaError::NotUserSession { .. } => 29,
            SgaError::AlreadyRunning { .. } => 1081,
            SgaError::InsufficientPrivileges { .. } => 1031,
            SgaError::Corrupt { .. } => 600,
            SgaError::Parameter { code, .. } => *code,
            SgaError::Os(_) => 27300,
        }
    }
}

/// `SHUTDOWN [NORMAL | TRANSACTIONAL | IMMEDIATE | ABORT]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ShutdownMode {
    /// Wait for every user session to log off; no new connections.
    Normal = 1,
    /// Wait for transactions to end, then disconnect (no transactions here: like IMMEDIATE
    /// for idle sessions, but sessions inside a call finish it).
    Transactional = 2,
    /// Disconnect every session now (their next call gets ORA-01089), then close.
    Immediate = 3,
    /// Kill every server process and vanish; no cleanup.
    Abort = 4,
}

impl ShutdownMode {
    fn from_u32(v: u32) -> Option<ShutdownMode> {
        match v {
            1 => Some(ShutdownMode::Normal),
            2 => Some(ShutdownMode::Transactional),
            3 => Some(ShutdownMode::Immediate),
            4 => Some(ShutdownMode::Abort),
            _ => None,
        }
    }

    /// The keyword as Oracle spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ShutdownMode::Normal => "NORMAL",
            ShutdownMode::Transactional => "TRANSACTIONAL",
            ShutdownMode::Immediate => "IMMEDIATE",
            ShutdownMode::Abort => "ABORT",
        }
    }
}

/// A request to end a session, stored in its slot's `kill` word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum KillRequest {
    /// `ALTER SYSTEM KILL SESSION 'sid,serial#'`.
    Kill = 1,
    /// `ALTER SYSTEM KILL SESSION 'sid,serial#' IMMEDIATE`.
    KillImmediate = 2,
    /// `ALTER SYSTEM DISCONNECT SESSION 'sid,serial#' IMMEDIATE`.
    Disconnect = 3,
    /// `SHUTDOWN IMMEDIATE` (or TRANSACTIONAL) of the instance.
    Shutdown = 4,
}

impl KillRequest {
    fn from_u32(v: u32) -> Option<KillRequest> {
        match v {
            1 => Some(KillRequest::Kill),
            2 => Some(KillRequest::KillImmediate),
            3 => Some(KillRequest::Disconnect),
            4 => Some(KillRequest::Shutdown),
            _ => None,
        }
    }

    /// Whether the victim's connection should be closed at once (not just marked).
    pub fn closes_connection(self) -> bool {
        matches!(self, KillRequest::KillImmediate | KillRequest::Disconnect)
    }

    /// The error the victim's current or next call gets.
    pub fn error(self) -> SgaError {
        match self {
            KillRequest::Shutdown => SgaError::ImmediateShutdown,
            _ => SgaError::SessionKilled,
        }
    }
}

/// How `ALTER SYSTEM KILL|DISCONNECT SESSION` ended for the killer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KillOutcome {
    /// The victim was inside a call when the kill arrived.
    pub was_active: bool,
    /// The victim's process was sent SIGTERM (IMMEDIATE / DISCONNECT of a dedicated session).
    pub signalled: bool,
}

/// Parses the `'sid,serial#'` of KILL/DISCONNECT SESSION (spaces allowed, an optional
/// `,@inst_id` accepted for instance 1 only).
pub fn parse_session_id(s: &str) -> Result<(u32, u32), SgaError> {
    let bad = || SgaError::InvalidSessionId {
        given: s.to_string(),
    };
    let mut parts = s.split(',').map(str::trim);
    let sid = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let serial = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    match parts.next() {
        None => {}
        Some(inst) if inst.strip_prefix('@').map(str::trim) == Some("1") => {}
        Some(_) => return Err(bad()),
    }
    if parts.next().is_some() || sid == 0 {
        return Err(bad());
    }
    Ok((sid, serial))
}

/// The parameters an SGA is created with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SgaConfig {
    /// ORACLE_SID (names the segment).
    pub sid: String,
    /// INSTANCE_NAME.
    pub instance_name: String,
    /// DB_NAME.
    pub db_name: String,
    /// HOST_NAME of V$INSTANCE.
    pub host_name: String,
    /// VERSION of V$INSTANCE.
    pub version: String,
    /// PROCESSES.
    pub processes: u32,
    /// SESSIONS.
    pub sessions: u32,
}

/// What describes a process when it takes a slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessSpec {
    /// Kind of process.
    pub kind: ProcessKind,
    /// PNAME (PMON, LREG, D000, ...); empty for foregrounds.
    pub pname: String,
    /// PROGRAM, e.g. `oracle@host (TNS V1-V3)` or `oracle@host (PMON)`.
    pub program: String,
    /// OS user name (V$PROCESS.USERNAME).
    pub username: String,
    /// TERMINAL.
    pub terminal: String,
    /// OS pid (V$PROCESS.SPID); `None` = the calling process.
    pub spid: Option<i32>,
}

impl ProcessSpec {
    /// A dedicated server for `program`, in the calling process.
    pub fn dedicated(program: impl Into<String>) -> ProcessSpec {
        ProcessSpec {
            kind: ProcessKind::Dedicated,
            pname: String::new(),
            program: program.into(),
            username: os_user(),
            terminal: "UNKNOWN".to_string(),
            spid: None,
        }
    }
}

/// What describes a session at login.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionSpec {
    /// USERNAME (empty = NULL, e.g. background).
    pub username: String,
    /// USER#.
    pub user_id: u32,
    /// OSUSER (client side).
    pub osuser: String,
    /// MACHINE (client host).
    pub machine: String,
    /// TERMINAL.
    pub terminal: String,
    /// PROGRAM (client program).
    pub program: String,
    /// PROCESS (client OS pid, as text).
    pub process: String,
    /// PORT (client TCP port).
    pub port: u32,
    /// SERVICE_NAME the client connected to.
    pub service: String,
    /// MODULE.
    pub module: String,
    /// Background or user.
    pub background: bool,
    /// Shared-server session (SERVER starts as NONE) rather than dedicated.
    pub shared: bool,
    /// An AS SYSDBA / SYSOPER login: admitted while the instance is started or mounted.
    pub administrative: bool,
}

/// Current load, as lreg reports it to the listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    /// Process slots in use.
    pub processes_used: u32,
    /// PROCESSES.
    pub processes_max: u32,
    /// Session slots in use.
    pub sessions_used: u32,
    /// SESSIONS.
    pub sessions_max: u32,
    /// Dead processes cleaned by pmon so far.
    pub pmon_cleanups: u64,
}

/// An attached SGA. Share it as `Arc<Sga>`; handles keep it alive.
#[derive(Debug)]
pub struct Sga {
    map: os::Mapping,
    name: String,
    off: Offsets,
    processes: u32,
    sessions: u32,
}

/// The POSIX shared-memory name of a SID's segment, per OS user (so two users' instances
/// with one SID do not collide, just as Oracle keys its segments by ORACLE_HOME and SID).
pub fn segment_name(sid: &str) -> String {
    format!("/orasim_{}_{}", nix::unistd::getuid().as_raw(), sid)
}

/// The OS user name of the calling process (for V$PROCESS.USERNAME), looked up in the user
/// database (NSS: nsswitch.conf, /etc/passwd) once per process; a server forked by the
/// spawner inherits the spawner's answer (see `dedicated::prepare_zygote`).
pub fn os_user() -> String {
    static USER: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    USER.get_or_init(|| {
        nix::unistd::User::from_uid(nix::unistd::getuid())
            .ok()
            .flatten()
            .map_or_else(|| nix::unistd::getuid().to_string(), |u| u.name)
    })
    .clone()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// First AUDSID handed out (Oracle's come from the SYS.AUDSES$ sequence).
const AUDSID_BASE: u64 = 150_000;

/// How often a session looks whether its instance died under it.
const ALIVE_CHECK_EVERY: Duration = Duration::from_secs(1);

fn own_pid() -> i32 {
    i32::try_from(std::process::id()).unwrap_or(i32::MAX)
}

impl Sga {
    /// Creates the segment of `cfg.sid` for a starting instance (the caller, whose pid is
    /// recorded as the instance's). A leftover segment of a dead instance is replaced; one of
    /// a live instance gives ORA-01081. The instance state starts as `Started`.
    pub fn create(cfg: &SgaConfig) -> Result<Arc<Sga>, SgaError> {
        let name = segment_name(&cfg.sid);
        let off = Offsets::new(cfg.processes, cfg.sessions);
        let map = match os::create(&name, off.total) {
            Ok(m) => m,
            Err(OsError {
                errno: Errno::EEXIST,
                ..
            }) => {
                match Sga::attach_any(&cfg.sid) {
                    Ok(old) => {
                        let pid = old.header().instance_pid.load(Ordering::Acquire);
                        let ticks = old.header().instance_start_ticks.load(Ordering::Acquire);
                        if os::process_alive(pid, ticks) {
                            return Err(SgaError::AlreadyRunning {
                                sid: cfg.sid.clone(),
                                pid,
                            });
                        }
                    }
                    // Half-written or foreign layout: nobody can be using it.
                    Err(SgaError::Corrupt { .. } | SgaError::NotAvailable { .. }) => {}
                    Err(e) => return Err(e),
                }
                let _ = os::unlink(&name);
                os::create(&name, off.total)?
            }
            Err(e) => return Err(e.into()),
        };
        let sga = Sga {
            map,
            name,
            off,
            processes: cfg.processes,
            sessions: cfg.sessions,
        };
        let h = sga.header();
        h.layout_version.store(LAYOUT_VERSION, Ordering::Relaxed);
        h.processes.store(cfg.processes, Ordering::Relaxed);
        h.sessions.store(cfg.sessions, Ordering::Relaxed);
        h.total_size.store(off.total as u64, Ordering::Relaxed);
        h.instance_pid.store(own_pid(), Ordering::Relaxed);
        h.instance_start_ticks
            .store(os::own_start_ticks(), Ordering::Relaxed);
        h.instance_state
            .store(InstanceState::Started as u32, Ordering::Relaxed);
        h.startup_time.store(now(), Ordering::Relaxed);
        h.sid.store(&cfg.sid);
        h.instance_name.store(&cfg.instance_name);
        h.db_name.store(&cfg.db_name);
        h.host_name.store(&cfg.host_name);
        h.version.store(&cfg.version);
        sga.init_shared_params(&shared::SharedParams::default());
        h.magic.store(MAGIC, Ordering::Release);
        Ok(Arc::new(sga))
    }

    /// Attaches the segment of a running instance, as a dedicated server does at spawn.
    /// No segment, or one whose instance died → ORA-01034 + ORA-27101.
    pub fn attach(sid: &str) -> Result<Arc<Sga>, SgaError> {
        let sga = Sga::attach_any(sid)?;
        let h = sga.header();
        let pid = h.instance_pid.load(Ordering::Acquire);
        let ticks = h.instance_start_ticks.load(Ordering::Acquire);
        if !os::process_alive(pid, ticks)
            || h.instance_state.load(Ordering::Acquire) == InstanceState::Shutdown as u32
        {
            return Err(SgaError::NotAvailable {
                sid: sid.to_string(),
            });
        }
        Ok(Arc::new(sga))
    }

    /// Attaches without checking that the instance is alive (for cleanup and diagnosis).
    fn attach_any(sid: &str) -> Result<Sga, SgaError> {
        let name = segment_name(sid);
        let map = match os::open(&name) {
            Ok(m) => m,
            Err(OsError {
                errno: Errno::ENOENT,
                ..
            }) => {
                return Err(SgaError::NotAvailable {
                    sid: sid.to_string(),
                });
            }
            Err(OsError {
                errno: Errno::EACCES | Errno::EPERM,
                ..
            }) => {
                return Err(SgaError::InsufficientPrivileges {
                    sid: sid.to_string(),
                });
            }
            Err(e) => return Err(e.into()),
        };
        if map.len() < std::mem::size_of::<Header>() {
            return Err(SgaError::NotAvailable {
                sid: sid.to_string(),
            });
        }
        // SAFETY: the mapping is at least one header long, page-aligned (so aligned for the
        // header), and a header of atomics is valid for any bit pattern.
        let h = unsafe { map.base().cast::<Header>().as_ref() };
        if h.magic.load(Ordering::Acquire) != MAGIC {
            // Still being created, or not ours.
            return Err(SgaError::NotAvailable {
                sid: sid.to_string(),
            });
        }
        let version = h.layout_version.load(Ordering::Relaxed);
        if version != LAYOUT_VERSION {
            return Err(SgaError::Corrupt {
                what: format!("layout version {version}, expected {LAYOUT_VERSION}"),
            });
        }
        let processes = h.processes.load(Ordering::Relaxed);
        let sessions = h.sessions.load(Ordering::Relaxed);
        let off = Offsets::new(processes, sessions);
        if off.total != map.len() {
            return Err(SgaError::Corrupt {
                what: format!("segment is {} bytes, layout needs {}", map.len(), off.total),
            });
        }
        Ok(Sga {
            map,
            name,
            off,
            processes,
            sessions,
        })
    }

    /// Removes the segment's name (the instance does this at shutdown). Attached processes
    /// keep their mapping; new attaches get ORA-01034.
    pub fn unlink(&self) -> Result<(), SgaError> {
        match os::unlink(&self.name) {
            Ok(()) => Ok(()),
            Err(OsError {
                errno: Errno::ENOENT,
                ..
            }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    fn header(&self) -> &Header {
        // SAFETY: attach/create checked the mapping is large enough; the base is
        // page-aligned; a header of atomics is valid for any bit pattern and only accessed
        // through atomic operations.
        unsafe { self.map.base().cast::<Header>().as_ref() }
    }

    fn process_slot(&self, index: u32) -> &ProcessSlot {
        assert!(index < self.processes, "process slot index out of range");
        let at = self.off.processes + self.off.process_stride * index as usize;
        // SAFETY: `at` is within the mapping (Offsets computed the mapping's exact size from
        // the same limits, and index < processes); it is 64-byte aligned; the slot is made
        // of atomics, valid for any bit pattern.
        unsafe { self.map.base().add(at).cast::<ProcessSlot>().as_ref() }
    }

    fn session_slot(&self, index: u32) -> &SessionSlot {
        assert!(index < self.sessions, "session slot index out of range");
        let at = self.off.sessions + self.off.session_stride * index as usize;
        // SAFETY: as for `process_slot`, with the session region.
        unsafe { self.map.base().add(at).cast::<SessionSlot>().as_ref() }
    }

    fn process_addr(&self, index: u32) -> String {
        let at = self.off.processes + self.off.process_stride * index as usize;
        format!("{:016X}", ADDR_BASE + at as u64)
    }

    fn session_addr(&self, index: u32) -> String {
        let at = self.off.sessions + self.off.session_stride * index as usize;
        format!("{:016X}", ADDR_BASE + at as u64)
    }

    /// Bytes of the fixed part of every segment, the instance-wide header ("Fixed Size");
    /// the process, session and circuit slots are the variable part.
    pub fn fixed_size() -> usize {
        layout::Offsets::new(0, 0).processes
    }

    /// Size of the segment in bytes ("Total System Global Area").
    pub fn segment_size(&self) -> usize {
        self.map.len()
    }

    /// ORACLE_SID of this instance.
    pub fn sid(&self) -> String {
        self.header().sid.load()
    }

    /// PROCESSES.
    pub fn processes_max(&self) -> u32 {
        self.processes
    }

    /// SESSIONS.
    pub fn sessions_max(&self) -> u32 {
        self.sessions
    }

    /// Current V$INSTANCE.STATUS.
    pub fn instance_state(&self) -> InstanceState {
        InstanceState::from_u32(self.header().instance_state.load(Ordering::Acquire))
    }

    /// Moves the instance to `state` (the instance itself: NOMOUNT → MOUNT → OPEN).
    pub fn set_instance_state(&self, state: InstanceState) {
        let h = self.header();
        h.instance_state.store(state as u32, Ordering::Release);
        os::futex_wake_all(&h.instance_state);
    }

    /// Pid of the `oradb` process that owns this SGA.
    pub fn instance_pid(&self) -> i32 {
        self.header().instance_pid.load(Ordering::Acquire)
    }

    /// Publishes the path of the instance's alert log (the instance does, at startup), so
    /// that [`Sga::kill_session`] in any process writes its entry there. A path that is not
    /// UTF-8 or does not fit the header is not published (cut short, it would name another
    /// file); returns whether it was.
    pub fn publish_alert_log(&self, path: &std::path::Path) -> bool {
        let slot = &self.header().alert_log;
        match path.to_str() {
            Some(p) if p.len() <= layout::FixedStr::<512>::CAPACITY => {
                slot.store(p);
                true
            }
            _ => {
                slot.store("");
                false
            }
        }
    }

    /// The instance's alert log, if it published one.
    pub fn alert_log(&self) -> Option<std::path::PathBuf> {
        let p = self.header().alert_log.load();
        (!p.is_empty()).then(|| std::path::PathBuf::from(p))
    }

    /// Whether the instance process is still alive.
    pub fn instance_alive(&self) -> bool {
        let h = self.header();
        os::process_alive(
            h.instance_pid.load(Ordering::Acquire),
            h.instance_start_ticks.load(Ordering::Acquire),
        )
    }

    /// Asks the instance to shut down (`oradb shutdown`). A stronger mode overrides a weaker
    /// one already pending (NORMAL then IMMEDIATE works, as in Oracle from another session).
    pub fn request_shutdown(&self, mode: ShutdownMode) {
        let h = self.header();
        h.shutdown_request.fetch_max(mode as u32, Ordering::AcqRel);
        os::futex_wake_all(&h.shutdown_request);
    }

    /// The pending shutdown, if any.
    pub fn shutdown_requested(&self) -> Option<ShutdownMode> {
        ShutdownMode::from_u32(self.header().shutdown_request.load(Ordering::Acquire))
    }

    /// Sleeps until a shutdown is requested or `timeout` passes; returns the request.
    pub fn wait_shutdown_request(&self, timeout: Duration) -> Option<ShutdownMode> {
        let h = self.header();
        let v = h.shutdown_request.load(Ordering::Acquire);
        if v == 0 {
            os::futex_wait(&h.shutdown_request, 0, timeout);
        }
        self.shutdown_requested()
    }

    /// `ALTER SYSTEM REGISTER`: asks lreg to register with the listener now.
    pub fn request_registration(&self) {
        let h = self.header();
        h.register_request.fetch_add(1, Ordering::AcqRel);
        os::futex_wake_all(&h.register_request);
    }

    /// Restricts logins to users with RESTRICTED SESSION (`STARTUP RESTRICT`, `ALTER SYSTEM
    /// ENABLE RESTRICTED SESSION`) or lifts the restriction; lreg registers the new status
    /// (RESTRICTED / READY) with the listener at once.
    pub fn set_logins_restricted(&self, restricted: bool) {
        self.header()
            .restricted
            .store(u32::from(restricted), Ordering::Release);
        self.request_registration();
    }

    /// True while logins are restricted.
    pub fn logins_restricted(&self) -> bool {
        self.header().restricted.load(Ordering::Acquire) != 0
    }

    /// The registration-request counter (lreg remembers the last value it served).
    pub fn registration_requests(&self) -> u32 {
        self.header().register_request.load(Ordering::Acquire)
    }

    /// Sleeps while the registration-request counter is `seen`, at most `timeout`.
    pub fn wait_registration_request(&self, seen: u32, timeout: Duration) -> u32 {
        let h = self.header();
        if h.register_request.load(Ordering::Acquire) == seen {
            os::futex_wait(&h.register_request, seen, timeout);
        }
        h.register_request.load(Ordering::Acquire)
    }

    /// Records lreg's registration state (shown by `oradb status`).
    pub fn set_registration_state(&self, registered: bool, acked: bool) {
        let h = self.header();
        h.lreg_registered
            .store(u32::from(registered), Ordering::Release);
        if acked {
            h.lreg_last_ack.store(now(), Ordering::Relaxed);
            h.lreg_updates.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// lreg's registration state: (registered now, Unix time of last ack, updates sent).
    pub fn registration_state(&self) -> (bool, u64, u64) {
        let h = self.header();
        (
            h.lreg_registered.load(Ordering::Acquire) != 0,
            h.lreg_last_ack.load(Ordering::Relaxed),
            h.lreg_updates.load(Ordering::Relaxed),
        )
    }

    /// Takes a process slot (a dedicated server at spawn, or a background process).
    /// None free → ORA-00020. A foreground is refused while the instance is down or shutting
    /// down; while it is only started or mounted the process is admitted, because its login
    /// may be AS SYSDBA / SYSOPER: the login decides ([`ProcessHandle::create_session`]).
    pub fn register_process(
        self: &Arc<Self>,
        spec: &ProcessSpec,
    ) -> Result<ProcessHandle, SgaError> {
        let h = self.header();
        if spec.kind != ProcessKind::Background {
            self.check_admission(true)?;
        }
        let spid = spec.spid.unwrap_or_else(own_pid);
        let start_ticks = os::proc_stat(spid).map_or(0, |s| s.start_ticks);
        for index in 0..self.processes {
            let slot = self.process_slot(index);
            let Some(serial) = try_claim(&slot.tag) else {
                continue;
            };
            fence(Ordering::Release);
            slot.spid.store(spid, Ordering::Relaxed);
            slot.kind.store(spec.kind as u32, Ordering::Relaxed);
            slot.start_ticks.store(start_ticks, Ordering::Relaxed);
            slot.created.store(now(), Ordering::Relaxed);
            slot.sessions_owned.store(tag(serial, 0), Ordering::Relaxed);
            slot.pname.store(&spec.pname);
            slot.program.store(&spec.program);
            slot.username.store(&spec.username);
            slot.terminal.store(&spec.terminal);
            slot.ss.reset();
            slot.tag.store(tag(serial, SLOT_USED), Ordering::Release);
            return Ok(ProcessHandle {
                sga: Arc::clone(self),
                index,
                serial,
                released: AtomicBool::new(false),
            });
        }
        h.processes_refused.fetch_add(1, Ordering::Relaxed);
        Err(SgaError::ProcessesExceeded {
            max: self.processes,
        })
    }

    /// Errors a new foreground process or login gets from the instance state. As in Oracle,
    /// an instance that is started (NOMOUNT) or mounted but not open admits only
    /// `administrative` (AS SYSDBA / SYSOPER) logins; others get ORA-01033.
    fn check_admission(&self, administrative: bool) -> Result<(), SgaError> {
        if let Some(mode) = self.shutdown_requested() {
            return Err(if mode >= ShutdownMode::Immediate {
                SgaError::ImmediateShutdown
            } else {
                SgaError::ShutdownInProgress
            });
        }
        match self.instance_state() {
            InstanceState::Open => Ok(()),
            InstanceState::Shutdown => Err(SgaError::NotAvailable { sid: self.sid() }),
            InstanceState::Started | InstanceState::Mounted if administrative => Ok(()),
            InstanceState::Started | InstanceState::Mounted => Err(SgaError::NotOpen),
        }
    }

    fn count_used_processes(&self) -> u32 {
        (0..self.processes)
            .filter(|&i| tag_state(self.process_slot(i).tag.load(Ordering::Relaxed)) != SLOT_FREE)
            .count() as u32
    }

    /// User sessions of shared servers (V$SESSION.SERVER SHARED or NONE).
    fn count_shared_sessions(&self) -> u32 {
        (0..self.sessions)
            .filter(|&i| {
                let slot = self.session_slot(i);
                tag_state(slot.tag.load(Ordering::Acquire)) == SLOT_USED
                    && slot.session_type.load(Ordering::Relaxed) == SessionType::User as u32
                    && slot.server.load(Ordering::Relaxed) != ServerKind::Dedicated as u32
            })
            .count() as u32
    }

    fn count_used_sessions(&self) -> u32 {
        (0..self.sessions)
            .filter(|&i| tag_state(self.session_slot(i).tag.load(Ordering::Relaxed)) != SLOT_FREE)
            .count() as u32
    }

    /// Frees process slot `index` if it still holds incarnation `serial`, together with every
    /// session it owns. Returns whether this call freed it.
    fn free_process(&self, index: u32, serial: u32) -> bool {
        let pslot = self.process_slot(index);
        if pslot.tag.load(Ordering::Acquire) != tag(serial, SLOT_USED) {
            return false;
        }
        // A process that owns no session (a dedicated server after its logoff) is freed
        // without a pass over the whole session table.
        let owned = pslot.sessions_owned.load(Ordering::Acquire);
        let sessions = if owned == tag(serial, 0) {
            0
        } else {
            self.sessions
        };
        for s in 0..sessions {
            let slot = self.session_slot(s);
            let t = slot.tag.load(Ordering::Acquire);
            if tag_state(t) == SLOT_USED
                && slot.paddr.load(Ordering::Relaxed) == index + 1
                && slot.pserial.load(Ordering::Relaxed) == serial
            {
                self.free_session(s, tag_serial(t));
            }
        }
        self.process_slot(index)
            .tag
            .compare_exchange(
                tag(serial, SLOT_USED),
                tag(serial, SLOT_FREE),
                Ordering::AcqRel,
                Ordering::Relaxed,
            )
            .is_ok()
    }

    /// Counts a session of incarnation `serial` of process slot `index` in (`up`) or out
    /// of the slot's `sessions_owned`; nothing when the slot has moved on to another
    /// incarnation (whose count starts again at 0).
    fn count_owned_session(&self, index: u32, serial: u32, up: bool) {
        let owned = &self.process_slot(index).sessions_owned;
        let _ = owned.fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| {
            if tag_serial(v) != serial {
                return None;
            }
            let n = v as u32;
            let n = if up {
                n.checked_add(1)?
            } else {
                n.checked_sub(1)?
            };
            Some(tag(serial, n))
        });
    }

    /// Frees session slot `index` if it still holds incarnation `serial`.
    fn free_session(&self, index: u32, serial: u32) -> bool {
        let slot = self.session_slot(index);
        // Read before the slot is freed (its owner, the one freeing it or dead, publishes
        // no more; the next claimer zeroes them), folded into the instance's totals only
        // by the one free that wins.
        let ended: Vec<u64> = slot
            .stats
            .iter()
            .map(|v| v.load(Ordering::Relaxed))
            .collect();
        // The owner, read while the slot is still this incarnation's.
        let paddr = slot.paddr.load(Ordering::Relaxed);
        let pserial = slot.pserial.load(Ordering::Relaxed);
        let freed = slot
            .tag
            .compare_exchange(
                tag(serial, SLOT_USED),
                tag(serial, SLOT_FREE),
                Ordering::AcqRel,
                Ordering::Relaxed,
            )
            .is_ok();
        if freed {
            if let Some(owner) = paddr.checked_sub(1).filter(|&p| p < self.processes) {
                self.count_owned_session(owner, pserial, false);
            }
            let h = self.header();
            for (i, v) in ended.into_iter().enumerate() {
                if !engine::rows::statistic_is_level(i) {
                    h.ended_stats[i].fetch_add(v, Ordering::Relaxed);
                }
            }
            // Anyone sleeping on the kill word (a long call) must re-check.
            os::futex_wake_all(&slot.kill);
        }
        freed
    }

    fn claim_session(
        self: &Arc<Self>,
        process: &ProcessHandle,
        spec: &SessionSpec,
    ) -> Result<SessionHandle, SgaError> {
        let h = self.header();
        if !spec.background {
            self.check_admission(spec.administrative)?;
        }
        let pslot = self.process_slot(process.index);
        let owner_pid = pslot.spid.load(Ordering::Relaxed);
        for index in 0..self.sessions {
            let slot = self.session_slot(index);
            let Some(serial) = try_claim(&slot.tag) else {
                continue;
            };
            fence(Ordering::Release);
            let t_now = now();
            // AUDSID comes from a sequence in Oracle (large numbers, never the SID); background
            // sessions have 0.
            let logon = h.logons_cumulative.fetch_add(1, Ordering::Relaxed) + 1;
            let audsid = if spec.background {
                0
            } else {
                AUDSID_BASE + logon
            };
            slot.kill.store(0, Ordering::Relaxed);
            slot.call_paddr.store(0, Ordering::Relaxed);
            for v in &slot.stats {
                v.store(0, Ordering::Relaxed);
            }
            slot.paddr.store(process.index + 1, Ordering::Relaxed);
            slot.pserial.store(process.serial, Ordering::Relaxed);
            self.count_owned_session(process.index, process.serial, true);
            slot.status
                .store(SessionStatus::Inactive as u32, Ordering::Relaxed);
            slot.owner_pid.store(owner_pid, Ordering::Relaxed);
            slot.session_type.store(
                if spec.background {
                    SessionType::Background as u32
                } else {
                    SessionType::User as u32
                },
                Ordering::Relaxed,
            );
            slot.server.store(
                if spec.shared {
                    ServerKind::None as u32
                } else {
                    ServerKind::Dedicated as u32
                },
                Ordering::Relaxed,
            );
            slot.port.store(spec.port, Ordering::Relaxed);
            slot.user_id.store(spec.user_id, Ordering::Relaxed);
            slot.audsid.store(audsid, Ordering::Relaxed);
            slot.logon_time.store(t_now, Ordering::Relaxed);
            slot.last_call.store(t_now, Ordering::Relaxed);
            slot.username.store(&spec.username);
            slot.osuser.store(&spec.osuser);
            slot.machine.store(&spec.machine);
            slot.terminal.store(&spec.terminal);
            slot.program.store(&spec.program);
            slot.process.store(&spec.process);
            slot.service.store(&spec.service);
            slot.module.store(&spec.module);
            slot.tag.store(tag(serial, SLOT_USED), Ordering::Release);
            // SHARED_SERVER_SESSIONS keeps the rest of SESSIONS for dedicated servers: a
            // shared login past it gets ORA-00018 like one past SESSIONS. Counted after the
            // claim, so two logins racing for the last place cannot both have it.
            if spec.shared
                && !spec.background
                && let Some(limit) = self.shared_server_sessions_limit()
                && self.count_shared_sessions() > limit
            {
                self.free_session(index, serial);
                h.sessions_refused.fetch_add(1, Ordering::Relaxed);
                return Err(SgaError::SessionsExceeded { max: limit });
            }
            return Ok(SessionHandle {
                sga: Arc::clone(self),
                index,
                serial,
                gone: AtomicBool::new(false),
                alive_checked: AtomicU64::new(now_ms()),
            });
        }
        h.sessions_refused.fetch_add(1, Ordering::Relaxed);
        Err(SgaError::SessionsExceeded { max: self.sessions })
    }

    /// `ALTER SYSTEM KILL SESSION` / `DISCONNECT SESSION` (and `oradb kill-session`).
    /// `requester` is the killer's own `(sid, serial#)` when it is a session (ORA-00027 if it
    /// names itself). The victim is marked; a long call it is in returns ORA-00028 at once;
    /// an idle victim shows KILLED and gets ORA-00028 at its next call; IMMEDIATE or
    /// DISCONNECT of a dedicated or pooled session also sends its server process SIGTERM so
    /// its connection closes at once.
    pub fn kill_session(
        &self,
        sid: u32,
        serial: u32,
        request: KillRequest,
        requester: Option<(u32, u32)>,
    ) -> Result<KillOutcome, SgaError> {
        let missing = SgaError::NoSuchSession { sid, serial };
        if sid == 0 || sid > self.sessions {
            return Err(missing);
        }
        let index = sid - 1;
        let slot = self.session_slot(index);
        let t = slot.tag.load(Ordering::Acquire);
        if t != tag(serial, SLOT_USED) {
            return Err(missing);
        }
        if requester == Some((sid, serial)) {
            return Err(SgaError::CannotKillSelf);
        }
        if slot.session_type.load(Ordering::Relaxed) == SessionType::Background as u32 {
            return Err(SgaError::NotUserSession { sid });
        }
        let prev = slot.kill.fetch_max(request as u32, Ordering::AcqRel);
        if slot.tag.load(Ordering::Acquire) != t {
            // The session ended (and maybe the slot was reused) while we marked it: undo our
            // mark unless someone else changed it since, and report it gone.
            let _ = slot.kill.compare_exchange(
                request as u32,
                prev,
                Ordering::AcqRel,
                Ordering::Relaxed,
            );
            return Err(missing);
        }
        // Dispatchers see the kill (and close an IMMEDIATE victim's circuit) before a shared
        // server woken by the futex can hand back the victim's ORA-00028.
        self.bump_kill_seq();
        os::futex_wake_all(&slot.kill);
        let was_active = slot.status.load(Ordering::Acquire) == SessionStatus::Active as u32;
        let owner_orapid = slot.paddr.load(Ordering::Relaxed);
        let owner_ospid = slot.owner_pid.load(Ordering::Relaxed);
        let mut signalled = false;
        // A dedicated or pooled session's process is its server: IMMEDIATE ends it (a pooled
        // server's client sees its connection close; the broker purges the server and starts
        // another).
        let server = slot.server.load(Ordering::Relaxed);
        if request.closes_connection()
            && (server == ServerKind::Dedicated as u32 || server == ServerKind::Pooled as u32)
        {
            let pid = slot.owner_pid.load(Ordering::Relaxed);
            let pindex = slot.paddr.load(Ordering::Relaxed);
            let ticks = if pindex > 0 && pindex <= self.processes {
                self.process_slot(pindex - 1)
                    .start_ticks
                    .load(Ordering::Relaxed)
            } else {
                0
            };
            if pid > 0
                && pid != own_pid()
                && pid != self.instance_pid()
                && os::process_alive(pid, ticks)
            {
                signalled = kill(Pid::from_raw(pid), Signal::SIGTERM).is_ok();
                // A server that blocks or handles SIGTERM still has to go: escalate.
                let deadline = Instant::now() + KILL_ESCALATION;
                while signalled && os::process_alive(pid, ticks) {
                    if Instant::now() >= deadline {
                        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }
        self.log_kill(sid, serial, request, requester, (owner_orapid, owner_ospid));
        Ok(KillOutcome {
            was_active,
            signalled,
        })
    }

    /// The alert log entry of a kill (`KILL SESSION for sid=(S, N):` and its lines), written
    /// by whoever kills — `oradb kill-session` or the server process or thread running the
    /// session's `ALTER SYSTEM` — to the log the instance published. The requester is the
    /// process running the statement (V$PROCESS.PID, SPID): the shared server thread whose
    /// SPID is this thread's id, else the killing session's own process; orapid 0 and this
    /// process's pid for `oradb kill-session`, which holds no slot.
    fn log_kill(
        &self,
        sid: u32,
        serial: u32,
        request: KillRequest,
        requester: Option<(u32, u32)>,
        owner: (u32, i32),
    ) {
        if request == KillRequest::Shutdown {
            return;
        }
        let Some(log) = self.alert_log() else {
            return;
        };
        let tid = nix::unistd::gettid().as_raw();
        let running_thread = || {
            self.snapshot_processes()
                .into_iter()
                .find(|p| p.spid == tid && p.kind == ProcessKind::SharedServer)
                .map(|p| (p.pid, p.spid))
        };
        let requestor = match requester {
            Some((rsid, _)) if rsid >= 1 && rsid <= self.sessions => running_thread()
                .unwrap_or_else(|| {
                    let r = self.session_slot(rsid - 1);
                    (
                        r.paddr.load(Ordering::Relaxed),
                        r.owner_pid.load(Ordering::Relaxed),
                    )
                }),
            _ => (0, own_pid()),
        };
        crate::alert::append_to(
            &log,
            &crate::alert::kill_session_entry(&crate::alert::KillEntry {
                session: (sid, serial),
                immediate: request.closes_connection(),
                disconnect: request == KillRequest::Disconnect,
                requestor,
                owner,
            }),
        );
    }

    /// Marks every user session for an immediate shutdown (their current or next call gets
    /// ORA-01089). Returns how many were marked.
    pub fn mark_all_for_shutdown(&self) -> u32 {
        let mut n = 0;
        for i in 0..self.sessions {
            let slot = self.session_slot(i);
            if tag_state(slot.tag.load(Ordering::Acquire)) == SLOT_USED
                && slot.session_type.load(Ordering::Relaxed) == SessionType::User as u32
            {
                slot.kill
                    .fetch_max(KillRequest::Shutdown as u32, Ordering::AcqRel);
                os::futex_wake_all(&slot.kill);
                n += 1;
            }
        }
        n
    }

    /// One pmon pass: frees the slots of every foreground process that died (killed,
    /// crashed, exited without logging off). Returns the OS pids cleaned up.
    pub fn reap_dead_processes(&self) -> Vec<i32> {
        let mut reaped = Vec::new();
        let me = own_pid();
        for index in 0..self.processes {
            let slot = self.process_slot(index);
            let t = slot.tag.load(Ordering::Acquire);
            if tag_state(t) != SLOT_USED {
                continue;
            }
            let pid = slot.spid.load(Ordering::Relaxed);
            let ticks = slot.start_ticks.load(Ordering::Relaxed);
            if pid == me || os::process_alive(pid, ticks) {
                continue;
            }
            let dispatcher = slot.kind.load(Ordering::Relaxed) == ProcessKind::Dispatcher as u32;
            if self.free_process(index, tag_serial(t)) {
                if dispatcher {
                    self.free_circuits_of(index);
                }
                self.header().pmon_cleanups.fetch_add(1, Ordering::Relaxed);
                reaped.push(pid);
            }
        }
        reaped
    }

    /// Foreground process ids (OS pids) currently in the process table, excluding the
    /// instance's own threads. Shutdown signals these.
    pub fn foreground_spids(&self) -> Vec<i32> {
        self.snapshot_processes()
            .into_iter()
            .filter(|p| p.kind == ProcessKind::Dedicated && p.spid != self.instance_pid())
            .map(|p| p.spid)
            .collect()
    }

    /// The current load (for lreg and `oradb status`).
    pub fn load(&self) -> Load {
        Load {
            processes_used: self.count_used_processes(),
            processes_max: self.processes,
            sessions_used: self.count_used_sessions(),
            sessions_max: self.sessions,
            pmon_cleanups: self.header().pmon_cleanups.load(Ordering::Relaxed),
        }
    }

    /// Number of user sessions now.
    pub fn user_session_count(&self) -> u32 {
        self.snapshot_sessions()
            .iter()
            .filter(|s| s.session_type == SessionType::User)
            .count() as u32
    }

    /// Rows of V$PROCESS, by PID.
    pub fn snapshot_processes(&self) -> Vec<ProcessRow> {
        let mut rows = Vec::new();
        for index in 0..self.processes {
            let slot = self.process_slot(index);
            let t = slot.tag.load(Ordering::Acquire);
            if tag_state(t) != SLOT_USED {
                continue;
            }
            let kind = ProcessKind::from_u32(slot.kind.load(Ordering::Relaxed));
            let pname = slot.pname.load();
            let row = ProcessRow {
                addr: self.process_addr(index),
                pid: index + 1,
                serial: tag_serial(t),
                spid: slot.spid.load(Ordering::Relaxed),
                pname: (!pname.is_empty()).then_some(pname),
                username: slot.username.load(),
                terminal: slot.terminal.load(),
                program: slot.program.load(),
                background: kind == ProcessKind::Background,
                kind,
            };
            fence(Ordering::Acquire);
            if slot.tag.load(Ordering::Relaxed) == t {
                rows.push(row);
            }
        }
        rows
    }

    /// Rows of V$SESSION, by SID.
    pub fn snapshot_sessions(&self) -> Vec<SessionRow> {
        let mut rows = Vec::new();
        let t_now = now();
        for index in 0..self.sessions {
            if let Some(row) = self.session_row(index, t_now) {
                rows.push(row);
            }
        }
        rows
    }

    fn session_row(&self, index: u32, t_now: u64) -> Option<SessionRow> {
        let slot = self.session_slot(index);
        let t = slot.tag.load(Ordering::Acquire);
        if tag_state(t) != SLOT_USED {
            return None;
        }
        // A shared session in a call belongs to the shared server running it.
        let paddr = match slot.call_paddr.load(Ordering::Relaxed) {
            0 => slot.paddr.load(Ordering::Relaxed),
            p => p,
        };
        let status = if slot.kill.load(Ordering::Relaxed) != 0 {
            SessionStatus::Killed
        } else if slot.status.load(Ordering::Relaxed) == SessionStatus::Active as u32 {
            SessionStatus::Active
        } else {
            SessionStatus::Inactive
        };
        let username = slot.username.load();
        let row = SessionRow {
            saddr: self.session_addr(index),
            sid: index + 1,
            serial: tag_serial(t),
            audsid: slot.audsid.load(Ordering::Relaxed),
            paddr: if paddr > 0 && paddr <= self.processes {
                self.process_addr(paddr - 1)
            } else {
                "00".to_string()
            },
            user_id: slot.user_id.load(Ordering::Relaxed),
            username: (!username.is_empty()).then_some(username),
            status,
            server: ServerKind::from_u32(slot.server.load(Ordering::Relaxed)),
            osuser: slot.osuser.load(),
            process: slot.process.load(),
            machine: slot.machine.load(),
            port: slot.port.load(Ordering::Relaxed),
            terminal: slot.terminal.load(),
            program: slot.program.load(),
            session_type: if slot.session_type.load(Ordering::Relaxed)
                == SessionType::Background as u32
            {
                SessionType::Background
            } else {
                SessionType::User
            },
            module: slot.module.load(),
            logon_time: slot.logon_time.load(Ordering::Relaxed),
            last_call_et: t_now.saturating_sub(slot.last_call.load(Ordering::Relaxed)),
            service_name: slot.service.load(),
            owner_spid: slot.owner_pid.load(Ordering::Relaxed),
        };
        fence(Ordering::Acquire);
        (slot.tag.load(Ordering::Relaxed) == t).then_some(row)
    }

    /// V$SESSTAT: every session's statistics as its server last published them, by SID.
    pub fn session_stats(&self) -> Vec<(u32, Vec<u64>)> {
        let mut rows = Vec::new();
        for index in 0..self.sessions {
            let slot = self.session_slot(index);
            let t = slot.tag.load(Ordering::Acquire);
            if tag_state(t) != SLOT_USED {
                continue;
            }
            let values: Vec<u64> = slot
                .stats
                .iter()
                .map(|v| v.load(Ordering::Relaxed))
                .collect();
            fence(Ordering::Acquire);
            if slot.tag.load(Ordering::Relaxed) == t {
                rows.push((index + 1, values));
            }
        }
        rows
    }

    /// V$SYSSTAT, by STATISTIC#: the cumulative statistics of the sessions that ended plus
    /// those of the live sessions; `logons cumulative` is the instance's count of logins
    /// since startup and the current statistics (`logons current`, `opened cursors
    /// current`) are the live sessions' sums.
    pub fn system_stats(&self) -> Vec<u64> {
        let h = self.header();
        let mut sums: Vec<u64> = h
            .ended_stats
            .iter()
            .map(|v| v.load(Ordering::Relaxed))
            .collect();
        for (_, values) in self.session_stats() {
            for (sum, v) in sums.iter_mut().zip(values) {
                *sum += v;
            }
        }
        if let Some(i) = engine::rows::statistic_number("logons cumulative") {
            sums[i] = h.logons_cumulative.load(Ordering::Relaxed);
        }
        sums
    }

    /// The row of V$INSTANCE.
    pub fn instance_row(&self) -> InstanceRow {
        let h = self.header();
        InstanceRow {
            instance_number: 1,
            instance_name: h.instance_name.load(),
            host_name: h.host_name.load(),
            version: h.version.load(),
            startup_time: h.startup_time.load(Ordering::Relaxed),
            status: self.instance_state(),
            shutdown_pending: self.shutdown_requested().is_some(),
            logins_restricted: h.restricted.load(Ordering::Relaxed) != 0,
            database_status: "ACTIVE",
            instance_role: "PRIMARY_INSTANCE",
            db_name: h.db_name.load(),
            sid: h.sid.load(),
            instance_pid: h.instance_pid.load(Ordering::Relaxed),
        }
    }
}

/// A process slot held by the calling process. Released on drop (with its sessions).
#[derive(Debug)]
pub struct ProcessHandle {
    sga: Arc<Sga>,
    index: u32,
    serial: u32,
    released: AtomicBool,
}

impl ProcessHandle {
    /// V$PROCESS.PID.
    pub fn pid(&self) -> u32 {
        self.index + 1
    }

    /// V$PROCESS.SERIAL#.
    pub fn serial(&self) -> u32 {
        self.serial
    }

    /// V$PROCESS.ADDR.
    pub fn addr(&self) -> String {
        self.sga.process_addr(self.index)
    }

    /// The SGA this process is attached to.
    pub fn sga(&self) -> &Arc<Sga> {
        &self.sga
    }

    /// Takes a session slot at login. None free → ORA-00018; instance not open or shutting
    /// down → ORA-01033 / ORA-01090.
    pub fn create_session(&self, spec: &SessionSpec) -> Result<SessionHandle, SgaError> {
        if self.released.load(Ordering::Acquire) || !self.still_mine() {
            return Err(SgaError::NotLoggedOn);
        }
        self.sga.claim_session(self, spec)
    }

    fn still_mine(&self) -> bool {
        self.sga
            .process_slot(self.index)
            .tag
            .load(Ordering::Acquire)
            == tag(self.serial, SLOT_USED)
    }

    /// Frees the slot (and any session still in it). Idempotent.
    pub fn release(&self) {
        if !self.released.swap(true, Ordering::AcqRel) {
            self.sga.free_process(self.index, self.serial);
        }
    }
}

impl Drop for ProcessHandle {
    fn drop(&mut self) {
        self.release();
    }
}

/// A session slot held by the calling process: what the session engine uses at each call.
/// Freed on drop (logoff).
#[derive(Debug)]
pub struct SessionHandle {
    sga: Arc<Sga>,
    index: u32,
    serial: u32,
    gone: AtomicBool,
    /// Unix milliseconds of the last look at whether the instance process still lives.
    alive_checked: AtomicU64,
}

impl SessionHandle {
    /// V$SESSION.SID (also `SYS_CONTEXT('USERENV','SID')`).
    pub fn sid(&self) -> u32 {
        self.index + 1
    }

    /// V$SESSION.SERIAL#.
    pub fn serial(&self) -> u32 {
        self.serial
    }

    /// V$SESSION.AUDSID (`SYS_CONTEXT('USERENV','SESSIONID')`).
    pub fn audsid(&self) -> u64 {
        self.slot().audsid.load(Ordering::Relaxed)
    }

    /// The SGA this session lives in.
    pub fn sga(&self) -> &Arc<Sga> {
        &self.sga
    }

    fn slot(&self) -> &SessionSlot {
        self.sga.session_slot(self.index)
    }

    fn still_mine(&self) -> bool {
        self.slot().tag.load(Ordering::Acquire) == tag(self.serial, SLOT_USED)
    }

    /// The kill request pending on this session, if any.
    pub fn kill_pending(&self) -> Option<KillRequest> {
        KillRequest::from_u32(self.slot().kill.load(Ordering::Acquire))
    }

    /// Checks, without ending the session, whether it may go on: `Err` with ORA-00028 (or
    /// ORA-01089 at an immediate shutdown, ORA-01012 once gone). Poll this in long calls.
    pub fn check(&self) -> Result<(), SgaError> {
        if self.gone.load(Ordering::Acquire) || !self.still_mine() {
            return Err(SgaError::NotLoggedOn);
        }
        match self.kill_pending() {
            Some(k) => Err(k.error()),
            // The instance closed under us (a shutdown that did not reach this session).
            None if self.sga.instance_state() == InstanceState::Shutdown => {
                Err(SgaError::ImmediateShutdown)
            }
            None if !self.instance_alive_cached() => Err(SgaError::InstanceTerminated),
            None => Ok(()),
        }
    }

    /// Whether the instance process lives, looked at in `/proc` at most once per
    /// [`ALIVE_CHECK_EVERY`] so that calls stay cheap.
    fn instance_alive_cached(&self) -> bool {
        let now = now_ms();
        let last = self.alive_checked.load(Ordering::Relaxed);
        if now.saturating_sub(last) < ALIVE_CHECK_EVERY.as_millis() as u64 {
            return true;
        }
        self.alive_checked.store(now, Ordering::Relaxed);
        self.sga.instance_alive()
    }

    /// Starts a call: STATUS becomes ACTIVE. A killed session gets ORA-00028 (ORA-01089 at an
    /// immediate shutdown) and is gone: its slot is freed and later calls get ORA-01012.
    pub fn begin_call(&self) -> Result<(), SgaError> {
        if let Err(e) = self.check() {
            if !matches!(e, SgaError::NotLoggedOn) {
                self.logoff();
            }
            return Err(e);
        }
        let slot = self.slot();
        slot.status
            .store(SessionStatus::Active as u32, Ordering::Release);
        slot.last_call.store(now(), Ordering::Relaxed);
        Ok(())
    }

    /// Ends a call: STATUS becomes INACTIVE. If a kill arrived during the call, returns its
    /// error (and the session is gone), so the call's answer becomes ORA-00028.
    pub fn end_call(&self) -> Result<(), SgaError> {
        let slot = self.slot();
        if self.still_mine() {
            slot.status
                .store(SessionStatus::Inactive as u32, Ordering::Release);
            slot.last_call.store(now(), Ordering::Relaxed);
        }
        if let Err(e) = self.check() {
            if !matches!(e, SgaError::NotLoggedOn) {
                self.logoff();
            }
            return Err(e);
        }
        Ok(())
    }

    /// Marks the session ACTIVE or INACTIVE without looking at kills (the engine checks
    /// those itself before each call, through [`SessionHandle::check`]).
    pub fn mark(&self, active: bool) {
        if self.still_mine() {
            let slot = self.slot();
            let status = if active {
                SessionStatus::Active
            } else {
                SessionStatus::Inactive
            };
            slot.status.store(status as u32, Ordering::Release);
            slot.last_call.store(now(), Ordering::Relaxed);
        }
    }

    /// Sleeps for `duration` (e.g. `DBMS_SESSION.SLEEP`), returning at once with the kill's
    /// error if the session is killed meanwhile.
    pub fn sleep(&self, duration: Duration) -> Result<(), SgaError> {
        let deadline = Instant::now() + duration;
        loop {
            self.check()?;
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            // Wake at least every 250 ms to notice a vanished instance or freed slot.
            os::futex_wait(&self.slot().kill, 0, left.min(Duration::from_millis(250)));
        }
    }

    /// Marks this shared-server session as being served (`SHARED`) or idle (`NONE`).
    pub fn set_server(&self, server: ServerKind) {
        if self.still_mine() {
            self.slot().server.store(server as u32, Ordering::Relaxed);
        }
    }

    /// Publishes the session's statistics (by STATISTIC#) for V$SESSTAT and V$SYSSTAT.
    pub fn publish_stats(&self, values: &[u64]) {
        if self.still_mine() {
            for (cell, v) in self.slot().stats.iter().zip(values) {
                cell.store(*v, Ordering::Relaxed);
            }
        }
    }

    /// Logs off: frees the slot. Idempotent.
    pub fn logoff(&self) {
        if !self.gone.swap(true, Ordering::AcqRel) {
            self.sga.free_session(self.index, self.serial);
        }
    }
}

impl Drop for SessionHandle {
    fn drop(&mut self) {
        self.logoff();
    }
}

#[cfg(test)]
mod tests;
