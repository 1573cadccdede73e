//! The rows the instance shows through its V$ views (V$SESSION, V$PROCESS, V$INSTANCE) and
//! the enumerations in their columns. They live in the engine because the engine evaluates
//! V$ queries over snapshots of these rows; the SGA (in `server_proc`) produces them from
//! shared memory and stores the enumerations as their `u32` codes.

/// V$INSTANCE.STATUS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceState {
    /// No instance (segment being created or torn down).
    Shutdown = 0,
    /// `STARTUP NOMOUNT`.
    Started = 1,
    /// `STARTUP MOUNT`.
    Mounted = 2,
    /// Open: logins allowed.
    Open = 3,
}

impl InstanceState {
    pub fn from_u32(v: u32) -> InstanceState {
        match v {
            1 => InstanceState::Started,
            2 => InstanceState::Mounted,
            3 => InstanceState::Open,
            _ => InstanceState::Shutdown,
        }
    }

    /// The text V$INSTANCE.STATUS shows.
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceState::Shutdown => "SHUTDOWN",
            InstanceState::Started => "STARTED",
            InstanceState::Mounted => "MOUNTED",
            InstanceState::Open => "OPEN",
        }
    }
}

/// What kind of process holds a process slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessKind {
    /// A dedicated server (`oracle<SID> (LOCAL=NO)`).
    Dedicated = 1,
    /// A background process of the instance (PMON, LREG, ...).
    Background = 2,
    /// A dispatcher (D000...).
    Dispatcher = 3,
    /// A shared server (S000...).
    SharedServer = 4,
}

impl ProcessKind {
    pub fn from_u32(v: u32) -> ProcessKind {
        match v {
            2 => ProcessKind::Background,
            3 => ProcessKind::Dispatcher,
            4 => ProcessKind::SharedServer,
            _ => ProcessKind::Dedicated,
        }
    }
}

/// V$SESSION.STATUS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    /// Idle, waiting for the client.
    Inactive = 0,
    /// Executing a call.
    Active = 1,
    /// Marked to be killed.
    Killed = 2,
}

impl SessionStatus {
    /// The text V$SESSION.STATUS shows.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Inactive => "INACTIVE",
            SessionStatus::Active => "ACTIVE",
            SessionStatus::Killed => "KILLED",
        }
    }
}

/// V$SESSION.SERVER.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    /// A dedicated server process.
    Dedicated = 0,
    /// On a shared server right now.
    Shared = 1,
    /// A shared-server session between calls.
    None = 2,
    /// A DRCP pooled server.
    Pooled = 3,
}

impl ServerKind {
    pub fn from_u32(v: u32) -> ServerKind {
        match v {
            1 => ServerKind::Shared,
            2 => ServerKind::None,
            3 => ServerKind::Pooled,
            _ => ServerKind::Dedicated,
        }
    }

    /// The text V$SESSION.SERVER shows.
    pub fn as_str(self) -> &'static str {
        match self {
            ServerKind::Dedicated => "DEDICATED",
            ServerKind::Shared => "SHARED",
            ServerKind::None => "NONE",
            ServerKind::Pooled => "POOLED",
        }
    }
}

/// V$SESSION.TYPE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionType {
    /// A user session.
    User = 0,
    /// A background process's session.
    Background = 1,
}

impl SessionType {
    /// The text V$SESSION.TYPE shows.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionType::User => "USER",
            SessionType::Background => "BACKGROUND",
        }
    }
}

/// One row of V$SESSION.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// SADDR.
    pub saddr: String,
    /// SID.
    pub sid: u32,
    /// SERIAL#.
    pub serial: u32,
    /// AUDSID.
    pub audsid: u64,
    /// PADDR (joins V$PROCESS.ADDR).
    pub paddr: String,
    /// USER#.
    pub user_id: u32,
    /// USERNAME (`None` = NULL).
    pub username: Option<String>,
    /// STATUS.
    pub status: SessionStatus,
    /// SERVER.
    pub server: ServerKind,
    /// OSUSER.
    pub osuser: String,
    /// PROCESS (client pid).
    pub process: String,
    /// MACHINE.
    pub machine: String,
    /// PORT.
    pub port: u32,
    /// TERMINAL.
    pub terminal: String,
    /// PROGRAM.
    pub program: String,
    /// TYPE.
    pub session_type: SessionType,
    /// MODULE.
    pub module: String,
    /// LOGON_TIME as Unix seconds.
    pub logon_time: u64,
    /// LAST_CALL_ET in seconds.
    pub last_call_et: u64,
    /// SERVICE_NAME.
    pub service_name: String,
    /// OS pid of the owning process (not a V$SESSION column; for admin tools).
    pub owner_spid: i32,
}

/// One row of V$PROCESS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessRow {
    /// ADDR.
    pub addr: String,
    /// PID (Oracle process number).
    pub pid: u32,
    /// SERIAL#.
    pub serial: u32,
    /// SPID (OS pid).
    pub spid: i32,
    /// PNAME (`None` = NULL, for foregrounds).
    pub pname: Option<String>,
    /// USERNAME (OS user).
    pub username: String,
    /// TERMINAL.
    pub terminal: String,
    /// PROGRAM.
    pub program: String,
    /// BACKGROUND: true for background processes (shown as `1`, else NULL).
    pub background: bool,
    /// Kind of process (not a column; for the listener load and admin tools).
    pub kind: ProcessKind,
}

/// The one row of V$INSTANCE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceRow {
    /// INSTANCE_NUMBER.
    pub instance_number: u32,
    /// INSTANCE_NAME.
    pub instance_name: String,
    /// HOST_NAME.
    pub host_name: String,
    /// VERSION.
    pub version: String,
    /// STARTUP_TIME as Unix seconds.
    pub startup_time: u64,
    /// STATUS.
    pub status: InstanceState,
    /// SHUTDOWN_PENDING.
    pub shutdown_pending: bool,
    /// LOGINS: ALLOWED or RESTRICTED.
    pub logins_restricted: bool,
    /// DATABASE_STATUS (ACTIVE).
    pub database_status: &'static str,
    /// INSTANCE_ROLE.
    pub instance_role: &'static str,
    /// DB_NAME (not a V$INSTANCE column, V$DATABASE.NAME).
    pub db_name: String,
    /// ORACLE_SID (not a column).
    pub sid: String,
    /// Pid of `oradb` (not a column).
    pub instance_pid: i32,
}

/// One row of V$DISPATCHER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatcherRow {
    /// NAME (`D000`).
    pub name: String,
    /// NETWORK: the dispatcher's listening address.
    pub network: String,
    /// PADDR (joins V$PROCESS.ADDR).
    pub paddr: String,
    /// STATUS: WAIT, SEND, RECEIVE, CONNECT, DISCONNECT, BREAK, TERMINATE, ACCEPT, REFUSE.
    pub status: &'static str,
    /// ACCEPT: taking new connections.
    pub accept: bool,
    /// MESSAGES processed.
    pub messages: u64,
    /// BYTES of those messages.
    pub bytes: u64,
    /// BREAKS.
    pub breaks: u64,
    /// OWNED: circuits now.
    pub owned: u32,
    /// CREATED: circuits ever.
    pub created: u64,
    /// IDLE (centiseconds).
    pub idle: u64,
    /// BUSY (centiseconds).
    pub busy: u64,
    /// LISTENER: the last Oracle error from the listener (0 = none).
    pub listener: u32,
    /// CONF_INDX: which DISPATCHERS entry started it.
    pub conf_indx: u32,
    /// Its CONNECTIONS limit (not a column; for the listener registration).
    pub connections: u32,
}

/// One row of V$SHARED_SERVER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedServerRow {
    /// NAME (`S000`).
    pub name: String,
    /// PADDR.
    pub paddr: String,
    /// STATUS: EXEC, WAIT(COMMON), QUIT, ...
    pub status: &'static str,
    /// MESSAGES processed.
    pub messages: u64,
    /// BYTES of those messages.
    pub bytes: u64,
    /// BREAKS.
    pub breaks: u64,
    /// CIRCUIT being served (`None` = NULL, `00`).
    pub circuit: Option<String>,
    /// IDLE (centiseconds).
    pub idle: u64,
    /// BUSY (centiseconds).
    pub busy: u64,
    /// REQUESTS taken from the common queue.
    pub requests: u64,
}

/// One row of V$CIRCUIT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CircuitRow {
    /// CIRCUIT: the circuit's address.
    pub circuit: String,
    /// DISPATCHER: PADDR of its dispatcher.
    pub dispatcher: String,
    /// SERVER: PADDR of the shared server serving it now (`00` when none).
    pub server: String,
    /// SADDR: its session (`00` before login).
    pub saddr: String,
    /// STATUS: NORMAL, BREAK, EOF, OUTBOUND.
    pub status: &'static str,
    /// QUEUE: COMMON, DISPATCHER, SERVER, NONE.
    pub queue: &'static str,
    /// MESSAGES.
    pub messages: u64,
    /// BYTES.
    pub bytes: u64,
    /// BREAKS.
    pub breaks: u64,
}

/// One row of V$QUEUE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRow {
    /// PADDR of the dispatcher owning a DISPATCHER queue; `00` for the COMMON queue.
    pub paddr: String,
    /// TYPE: COMMON or DISPATCHER.
    pub kind: &'static str,
    /// QUEUED: items now.
    pub queued: u32,
    /// WAIT: total wait of all items ever queued (centiseconds).
    pub wait: u64,
    /// TOTALQ: items ever queued.
    pub totalq: u64,
}

/// The one row of V$SHARED_SERVER_MONITOR.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SharedServerMonitorRow {
    /// MAXIMUM_CONNECTIONS: most circuits at once.
    pub maximum_connections: u32,
    /// MAXIMUM_SESSIONS: most shared-server sessions at once.
    pub maximum_sessions: u32,
    /// SERVERS_STARTED: shared servers started after startup.
    pub servers_started: u64,
    /// SERVERS_TERMINATED: shared servers stopped.
    pub servers_terminated: u64,
    /// SERVERS_HIGHWATER: most shared servers at once.
    pub servers_highwater: u32,
}

/// One row of V$DISPATCHER_CONFIG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatcherConfigRow {
    /// CONF_INDX.
    pub conf_indx: u32,
    /// NETWORK: the protocol or address the dispatchers listen on.
    pub network: String,
    /// DISPATCHERS.
    pub dispatchers: u32,
    /// CONNECTIONS per dispatcher.
    pub connections: u32,
    /// SESSIONS per dispatcher.
    pub sessions: u32,
    /// LISTENER (empty = NULL).
    pub listener: String,
    /// SERVICE (empty = NULL).
    pub service: String,
}

/// One row of V$PARAMETER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterRow {
    /// NUM.
    pub num: u32,
    /// NAME (lower case).
    pub name: String,
    /// TYPE: 1 boolean, 2 string, 3 integer, 6 big integer.
    pub kind: u32,
    /// VALUE (`None` = NULL).
    pub value: Option<String>,
    /// DEFAULT_VALUE.
    pub default_value: Option<String>,
    /// ISDEFAULT.
    pub isdefault: bool,
    /// ISSYS_MODIFIABLE: IMMEDIATE, DEFERRED or FALSE.
    pub issys_modifiable: &'static str,
    /// ISMODIFIED: SYSTEM_MOD after ALTER SYSTEM, else FALSE.
    pub ismodified: bool,
    /// DESCRIPTION.
    pub description: &'static str,
}

/// The session statistics the engine counts, in V$STATNAME order (STATISTIC# is the index):
/// name and CLASS (1 = user, 8 = cache, 64 = SQL). Every transport drives the same engine,
/// so dedicated and shared sessions count alike.
pub const STATISTICS: [(&str, u32); 10] = [
    ("logons cumulative", 1),
    ("logons current", 1),
    ("opened cursors cumulative", 1),
    ("opened cursors current", 1),
    ("user calls", 1),
    ("execute count", 64),
    ("parse count (total)", 64),
    ("bytes sent via SQL*Net to client", 1),
    ("bytes received via SQL*Net from client", 1),
    ("SQL*Net roundtrips to/from client", 1),
];

/// STATISTIC# of a statistic of [`STATISTICS`].
pub fn statistic_number(name: &str) -> Option<usize> {
    STATISTICS.iter().position(|(n, _)| *n == name)
}

/// Whether statistic `number` is a level (`logons current`, `opened cursors current`) rather
/// than a count: an ended session's counts stay in V$SYSSTAT, its levels leave with it.
pub fn statistic_is_level(number: usize) -> bool {
    STATISTICS
        .get(number)
        .is_some_and(|(name, _)| name.ends_with(" current"))
}

/// The one row of V$CPOOL_STATS (the default pool).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CpoolStatsRow {
    /// POOL_NAME.
    pub pool_name: String,
    /// NUM_OPEN_SERVERS: pooled servers now.
    pub num_open_servers: u32,
    /// NUM_BUSY_SERVERS: pooled servers serving a client now.
    pub num_busy_servers: u32,
    /// NUM_AUTH_SERVERS.
    pub num_auth_servers: u32,
    /// NUM_REQUESTS: requests for a pooled server.
    pub num_requests: u64,
    /// NUM_HITS: requests that got a session of their user and class as it was.
    pub num_hits: u64,
    /// NUM_MISSES: requests that needed a new session.
    pub num_misses: u64,
    /// NUM_WAITS: requests that waited for a free server.
    pub num_waits: u64,
    /// WAIT_TIME: time waited, in milliseconds (Oracle reports hundredths; see the view's doc).
    pub wait_time: u64,
    /// CLIENT_REQ_TIMEOUTS: clients that lost their server after MAX_THINK_TIME.
    pub client_req_timeouts: u64,
    /// NUM_AUTHENTICATIONS: logins through the pool.
    pub num_authentications: u64,
    /// NUM_PURGED: sessions purged (killed, replaced).
    pub num_purged: u64,
    /// HISTORIC_MAX: most pooled servers at once.
    pub historic_max: u32,
}

/// One row of V$CPOOL_CC_STATS (per connection class, `USER.CLASS`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CpoolClassRow {
    /// CCLASS_NAME.
    pub cclass_name: String,
    /// NUM_REQUESTS.
    pub num_requests: u64,
    /// NUM_HITS.
    pub num_hits: u64,
    /// NUM_MISSES.
    pub num_misses: u64,
    /// NUM_WAITS.
    pub num_waits: u64,
    /// WAIT_TIME.
    pub wait_time: u64,
    /// CLIENT_REQ_TIMEOUTS.
    pub client_req_timeouts: u64,
    /// NUM_AUTHENTICATIONS.
    pub num_authentications: u64,
}

/// The one row of DBA_CPOOL_INFO.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CpoolInfoRow {
    /// CONNECTION_POOL.
    pub connection_pool: String,
    /// STATUS: ACTIVE or INACTIVE.
    pub status: String,
    /// MINSIZE.
    pub minsize: u32,
    /// MAXSIZE.
    pub maxsize: u32,
    /// INCRSIZE.
    pub incrsize: u32,
    /// SESSION_CACHED_CURSORS.
    pub session_cached_cursors: u32,
    /// INACTIVITY_TIMEOUT.
    pub inactivity_timeout: u32,
    /// MAX_THINK_TIME.
    pub max_think_time: u32,
    /// MAX_USE_SESSION.
    pub max_use_session: u32,
    /// MAX_LIFETIME_SESSION.
    pub max_lifetime_session: u32,
    /// NUM_CBROK.
    pub num_cbrok: u32,
    /// MAXCONN_CBROK.
    pub maxconn_cbrok: u32,
}

/// One row of V$CPOOL_CONN_INFO (a client connection of the connection broker).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CpoolConnRow {
    /// CMON_ADDR: the broker's process address.
    pub cmon_addr: String,
    /// CONNECTION_ADDR.
    pub connection_addr: String,
    /// USERNAME (NULL before the login).
    pub username: Option<String>,
    /// CCLASS_NAME (`USER.CLASS`).
    pub cclass_name: Option<String>,
    /// PURITY: SELF or NEW.
    pub purity: Option<String>,
    /// SERVICE.
    pub service: String,
    /// PROCESS_ID (client side).
    pub process_id: Option<String>,
    /// PROGRAM.
    pub program: Option<String>,
    /// MACHINE.
    pub machine: Option<String>,
    /// TERMINAL.
    pub terminal: Option<String>,
    /// CONNECTION_STATUS: CONNECTING, ACTIVE, WAITING, IDLE or CLOSING.
    pub connection_status: String,
    /// CURSTATUS_TIME: milliseconds in the current status.
    pub curstatus_time: u64,
}

/// The calling session's V$SESSION_CONNECT_INFO facts (the engine knows them from the
/// login; one row per network service banner).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectInfoRow {
    /// SID.
    pub sid: u32,
    /// SERIAL#.
    pub serial: u32,
    /// OSUSER.
    pub osuser: String,
    /// CLIENT_DRIVER (`SESSION_CLIENT_DRIVER_NAME`).
    pub client_driver: String,
    /// CLIENT_VERSION (`SESSION_CLIENT_VERSION`, as dotted text).
    pub client_version: String,
}

/// NETWORK_SERVICE_BANNER rows of V$SESSION_CONNECT_INFO (19c on Linux).
pub const NETWORK_SERVICE_BANNERS: [&str; 3] = [
    "TCP/IP NT Protocol Adapter for Linux: Version 19.0.0.0.0 - Production",
    "Encryption service for Linux: Version 19.0.0.0.0 - Production",
    "Crypto-checksumming service for Linux: Version 19.0.0.0.0 - Production",
];
