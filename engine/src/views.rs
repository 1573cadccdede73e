//! The SQL a DBA types against the instance itself: queries on `V$SESSION`, `V$PROCESS`,
//! `V$INSTANCE`, the shared-server views (`V$DISPATCHER`, `V$DISPATCHER_CONFIG`,
//! `V$SHARED_SERVER`, `V$CIRCUIT`, `V$QUEUE`, `V$SHARED_SERVER_MONITOR`), `V$PARAMETER` and
//! the session statistics `V$STATNAME` / `V$MYSTAT` / `V$SESSTAT` / `V$SYSSTAT` (counted by
//! the session engine itself, which hands them to the instance after every call, so every
//! transport's sessions are seen alike)
//! (column lists or `*`, table aliases, a two-view join such as
//! `V$SESSION s, V$PROCESS p WHERE s.paddr = p.addr` or `... JOIN ... ON ...`, `WHERE` with `=`, `<>`/`!=`, `<`, `<=`,
//! `>`, `>=`, `IN (...)`, `AND`, `OR`, parentheses, `SYS_CONTEXT('USERENV', ...)` and bind
//! variables, `COUNT(*)`, `ORDER BY` by name or position with `ASC`/`DESC`), and
//! `ALTER SYSTEM KILL SESSION | DISCONNECT SESSION | REGISTER | SET name = value [SCOPE = ..]`. `V$DATABASE` answers the
//! usual first question (`SELECT name, open_mode FROM v$database`).
//!
//! It is evaluated over snapshots of the SGA ([`super::Sga::snapshot_sessions`] ...), with no
//! I/O and no clock of its own: the caller passes the rows and "now". The session engine asks
//! [`parse`] first and falls back to its own SQL subset when the statement is not one of
//! these. Values come out as [`Cell`]s the engine maps to its wire types.

use std::cmp::Ordering;

use crate::rows::{
    CircuitRow, ConnectInfoRow, CpoolClassRow, CpoolConnRow, CpoolInfoRow, CpoolStatsRow,
    DispatcherConfigRow, DispatcherRow, InstanceRow, InstanceState, NETWORK_SERVICE_BANNERS,
    ParameterRow, ProcessRow, QueueRow, STATISTICS, SessionRow, SharedServerMonitorRow,
    SharedServerRow,
};

use crate::error::OraError;

fn err(code: u32, offset: usize) -> OraError {
    OraError::new(code, offset)
}

/// ORA-03095 at `offset`: a condition deeper than `maximum` (the SQL subset's bounds).
fn too_deep(offset: usize, maximum: usize) -> OraError {
    err_with(3095, &[&maximum.to_string()], offset)
}

fn err_with(code: u32, args: &[&str], offset: usize) -> OraError {
    OraError::with_args(code, args, offset)
}

/// A column's SQL type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// NUMBER.
    Number,
    /// VARCHAR2(n).
    Varchar2(u32),
    /// DATE.
    Date,
    /// RAW(n) (addresses: SADDR, PADDR, ADDR).
    Raw(u32),
}

/// A result column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Name as Oracle reports it (upper case).
    pub name: String,
    /// Type.
    pub ty: ColumnType,
}

/// A value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Cell {
    /// NULL.
    Null,
    /// A NUMBER that is an integer.
    Int(i64),
    /// VARCHAR2 text.
    Text(String),
    /// A DATE as Unix seconds (UTC).
    Date(u64),
    /// A RAW value, as upper-case hex (what SQL*Plus prints).
    Raw(String),
}

impl Cell {
    fn as_number(&self) -> Option<f64> {
        match self {
            Cell::Int(i) => Some(*i as f64),
            Cell::Text(t) => t.trim().parse().ok(),
            Cell::Date(d) => Some(*d as f64),
            Cell::Null | Cell::Raw(_) => None,
        }
    }

    /// Oracle comparison: NULL compares unknown (`None`); a number against text converts
    /// the text; RAW against text compares hex case-insensitively.
    fn compare(&self, other: &Cell) -> Option<Ordering> {
        match (self, other) {
            (Cell::Null, _) | (_, Cell::Null) => None,
            (Cell::Int(_) | Cell::Date(_), _) | (_, Cell::Int(_) | Cell::Date(_)) => {
                self.as_number()?.partial_cmp(&other.as_number()?)
            }
            (Cell::Raw(a) | Cell::Text(a), Cell::Raw(b)) | (Cell::Raw(a), Cell::Text(b)) => {
                Some(a.to_ascii_uppercase().cmp(&b.to_ascii_uppercase()))
            }
            (Cell::Text(a), Cell::Text(b)) => Some(a.cmp(b)),
        }
    }
}

/// Which view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// V$SESSION.
    Session,
    /// V$PROCESS.
    Process,
    /// V$INSTANCE.
    Instance,
    /// V$DATABASE.
    Database,
    /// V$DISPATCHER.
    Dispatcher,
    /// V$DISPATCHER_CONFIG.
    DispatcherConfig,
    /// V$SHARED_SERVER.
    SharedServer,
    /// V$CIRCUIT.
    Circuit,
    /// V$QUEUE.
    Queue,
    /// V$SHARED_SERVER_MONITOR.
    SharedServerMonitor,
    /// V$PARAMETER.
    Parameter,
    /// V$STATNAME: the statistics the engine counts.
    StatName,
    /// V$MYSTAT: the calling session's statistics.
    MyStat,
    /// V$SESSTAT: every session's statistics.
    SesStat,
    /// V$SYSSTAT: the instance's statistics (ended sessions' counts plus the live ones').
    SysStat,
    /// V$SESSION_CONNECT_INFO: the calling session's client and network services.
    SessionConnectInfo,
    /// V$CPOOL_STATS.
    CpoolStats,
    /// V$CPOOL_CC_STATS.
    CpoolCcStats,
    /// DBA_CPOOL_INFO.
    CpoolInfo,
    /// V$CPOOL_CONN_INFO.
    CpoolConnInfo,
}

/// Every view, for name lookups.
const ALL_VIEWS: [View; 20] = [
    View::Session,
    View::Process,
    View::Instance,
    View::Database,
    View::Dispatcher,
    View::DispatcherConfig,
    View::SharedServer,
    View::Circuit,
    View::Queue,
    View::SharedServerMonitor,
    View::Parameter,
    View::StatName,
    View::MyStat,
    View::SesStat,
    View::SysStat,
    View::SessionConnectInfo,
    View::CpoolStats,
    View::CpoolCcStats,
    View::CpoolInfo,
    View::CpoolConnInfo,
];

impl View {
    fn from_name(name: &str) -> Option<View> {
        let n = name.to_ascii_uppercase();
        let n = n
            .strip_prefix("SYS.")
            .or_else(|| n.strip_prefix("PUBLIC."))
            .unwrap_or(&n)
            .to_string();
        if let Some(v) = ALL_VIEWS.into_iter().find(|v| view_name(*v) == n) {
            return Some(v);
        }
        let base = n
            .strip_prefix("GV$")
            .or_else(|| n.strip_prefix("V_$"))
            .or_else(|| n.strip_prefix("V$"))?;
        ALL_VIEWS
            .into_iter()
            .find(|v| view_name(*v).strip_prefix("V$") == Some(base))
    }

    /// The view's columns, in `SELECT *` order.
    pub fn columns(self) -> Vec<Column> {
        use ColumnType::*;
        let c = |name: &str, ty| Column {
            name: name.to_string(),
            ty,
        };
        match self {
            View::Session => vec![
                c("SADDR", Raw(8)),
                c("SID", Number),
                c("SERIAL#", Number),
                c("AUDSID", Number),
                c("PADDR", Raw(8)),
                c("USER#", Number),
                c("USERNAME", Varchar2(128)),
                c("COMMAND", Number),
                c("STATUS", Varchar2(8)),
                c("SERVER", Varchar2(9)),
                c("SCHEMANAME", Varchar2(128)),
                c("OSUSER", Varchar2(128)),
                c("PROCESS", Varchar2(24)),
                c("MACHINE", Varchar2(64)),
                c("PORT", Number),
                c("TERMINAL", Varchar2(30)),
                c("PROGRAM", Varchar2(84)),
                c("TYPE", Varchar2(10)),
                c("MODULE", Varchar2(64)),
                c("ACTION", Varchar2(64)),
                c("CLIENT_INFO", Varchar2(64)),
                c("LOGON_TIME", Date),
                c("LAST_CALL_ET", Number),
                c("SERVICE_NAME", Varchar2(64)),
                c("INST_ID", Number),
                c("CON_ID", Number),
            ],
            View::Process => vec![
                c("ADDR", Raw(8)),
                c("PID", Number),
                c("SOSID", Varchar2(24)),
                c("SPID", Varchar2(24)),
                c("STID", Varchar2(24)),
                c("PNAME", Varchar2(5)),
                c("SERIAL#", Number),
                c("USERNAME", Varchar2(15)),
                c("TERMINAL", Varchar2(30)),
                c("PROGRAM", Varchar2(48)),
                c("BACKGROUND", Varchar2(1)),
                c("INST_ID", Number),
                c("CON_ID", Number),
            ],
            View::Instance => vec![
                c("INSTANCE_NUMBER", Number),
                c("INSTANCE_NAME", Varchar2(16)),
                c("HOST_NAME", Varchar2(64)),
                c("VERSION", Varchar2(17)),
                c("VERSION_FULL", Varchar2(17)),
                c("STARTUP_TIME", Date),
                c("STATUS", Varchar2(12)),
                c("PARALLEL", Varchar2(3)),
                c("THREAD#", Number),
                c("ARCHIVER", Varchar2(7)),
                c("LOGINS", Varchar2(10)),
                c("SHUTDOWN_PENDING", Varchar2(3)),
                c("DATABASE_STATUS", Varchar2(17)),
                c("INSTANCE_ROLE", Varchar2(18)),
                c("ACTIVE_STATE", Varchar2(9)),
                c("BLOCKED", Varchar2(3)),
                c("CON_ID", Number),
                c("INSTANCE_MODE", Varchar2(11)),
                c("EDITION", Varchar2(7)),
                c("DATABASE_TYPE", Varchar2(15)),
            ],
            View::Database => vec![
                c("DBID", Number),
                c("NAME", Varchar2(9)),
                c("CREATED", Date),
                c("LOG_MODE", Varchar2(12)),
                c("OPEN_MODE", Varchar2(20)),
                c("DATABASE_ROLE", Varchar2(16)),
                c("DB_UNIQUE_NAME", Varchar2(30)),
                c("PLATFORM_NAME", Varchar2(101)),
                c("CDB", Varchar2(3)),
                c("CON_ID", Number),
            ],
            View::Dispatcher => vec![
                c("NAME", Varchar2(4)),
                c("NETWORK", Varchar2(1024)),
                c("PADDR", Raw(8)),
                c("STATUS", Varchar2(16)),
                c("ACCEPT", Varchar2(3)),
                c("MESSAGES", Number),
                c("BYTES", Number),
                c("BREAKS", Number),
                c("OWNED", Number),
                c("CREATED", Number),
                c("IDLE", Number),
                c("BUSY", Number),
                c("CPU", Number),
                c("LISTENER", Number),
                c("CONF_INDX", Number),
                c("CON_ID", Number),
            ],
            View::DispatcherConfig => vec![
                c("CONF_INDX", Number),
                c("NETWORK", Varchar2(1024)),
                c("DISPATCHERS", Number),
                c("CONNECTIONS", Number),
                c("SESSIONS", Number),
                c("MULTIPLEX", Varchar2(4)),
                c("LISTENER", Varchar2(1200)),
                c("SERVICE", Varchar2(512)),
                c("CON_ID", Number),
            ],
            View::SharedServer => vec![
                c("NAME", Varchar2(4)),
                c("PADDR", Raw(8)),
                c("STATUS", Varchar2(16)),
                c("MESSAGES", Number),
                c("BYTES", Number),
                c("BREAKS", Number),
                c("CIRCUIT", Raw(8)),
                c("IDLE", Number),
                c("BUSY", Number),
                c("IN_NET", Number),
                c("OUT_NET", Number),
                c("REQUESTS", Number),
                c("CON_ID", Number),
            ],
            View::Circuit => vec![
                c("CIRCUIT", Raw(8)),
                c("DISPATCHER", Raw(8)),
                c("SERVER", Raw(8)),
                c("WAITER", Raw(8)),
                c("SADDR", Raw(8)),
                c("STATUS", Varchar2(16)),
                c("QUEUE", Varchar2(16)),
                c("MESSAGE0", Number),
                c("MESSAGE1", Number),
                c("MESSAGE2", Number),
                c("MESSAGE3", Number),
                c("MESSAGES", Number),
                c("BYTES", Number),
                c("BREAKS", Number),
                c("PRESENTATION", Varchar2(257)),
                c("PCIRCUIT", Raw(8)),
                c("CON_ID", Number),
            ],
            View::Queue => vec![
                c("PADDR", Raw(8)),
                c("TYPE", Varchar2(10)),
                c("QUEUED", Number),
                c("WAIT", Number),
                c("TOTALQ", Number),
                c("CON_ID", Number),
            ],
            View::SharedServerMonitor => vec![
                c("MAXIMUM_CONNECTIONS", Number),
                c("MAXIMUM_SESSIONS", Number),
                c("SERVERS_STARTED", Number),
                c("SERVERS_TERMINATED", Number),
                c("SERVERS_HIGHWATER", Number),
                c("DISPATCHERS_CPU", Number),
                c("CON_ID", Number),
            ],
            View::CpoolStats => vec![
                c("POOL_NAME", Varchar2(128)),
                c("NUM_OPEN_SERVERS", Number),
                c("NUM_BUSY_SERVERS", Number),
                c("NUM_AUTH_SERVERS", Number),
                c("NUM_REQUESTS", Number),
                c("NUM_HITS", Number),
                c("NUM_MISSES", Number),
                c("NUM_WAITS", Number),
                c("WAIT_TIME", Number),
                c("CLIENT_REQ_TIMEOUTS", Number),
                c("NUM_AUTHENTICATIONS", Number),
                c("NUM_PURGED", Number),
                c("HISTORIC_MAX", Number),
                c("CON_ID", Number),
            ],
            View::CpoolCcStats => vec![
                c("CCLASS_NAME", Varchar2(128)),
                c("NUM_REQUESTS", Number),
                c("NUM_HITS", Number),
                c("NUM_MISSES", Number),
                c("NUM_WAITS", Number),
                c("WAIT_TIME", Number),
                c("CLIENT_REQ_TIMEOUTS", Number),
                c("NUM_AUTHENTICATIONS", Number),
                c("CON_ID", Number),
            ],
            View::CpoolConnInfo => vec![
                c("CMON_ADDR", Raw(8)),
                c("SESSION_ADDR", Raw(8)),
                c("CONNECTION_ADDR", Raw(8)),
                c("USERNAME", Varchar2(1024)),
                c("PROXY_USER", Varchar2(1024)),
                c("CCLASS_NAME", Varchar2(1024)),
                c("PURITY", Varchar2(1024)),
                c("TAG", Varchar2(1024)),
                c("SERVICE", Varchar2(64)),
                c("PROCESS_ID", Varchar2(24)),
                c("PROGRAM", Varchar2(84)),
                c("MACHINE", Varchar2(64)),
                c("TERMINAL", Varchar2(30)),
                c("CONNECTION_MODE", Varchar2(1024)),
                c("CONNECTION_STATUS", Varchar2(10)),
                c("CLIENT_REGID", Number),
                c("CURSTATUS_TIME", Number),
                c("CON_ID", Number),
            ],
            View::CpoolInfo => vec![
                c("CONNECTION_POOL", Varchar2(128)),
                c("STATUS", Varchar2(16)),
                c("MINSIZE", Number),
                c("MAXSIZE", Number),
                c("INCRSIZE", Number),
                c("SESSION_CACHED_CURSORS", Number),
                c("INACTIVITY_TIMEOUT", Number),
                c("MAX_THINK_TIME", Number),
                c("MAX_USE_SESSION", Number),
                c("MAX_LIFETIME_SESSION", Number),
                c("NUM_CBROK", Number),
                c("MAXCONN_CBROK", Number),
            ],
            View::Parameter => vec![
                c("NUM", Number),
                c("NAME", Varchar2(80)),
                c("TYPE", Number),
                c("VALUE", Varchar2(4000)),
                c("DISPLAY_VALUE", Varchar2(4000)),
                c("DEFAULT_VALUE", Varchar2(255)),
                c("ISDEFAULT", Varchar2(9)),
                c("ISSES_MODIFIABLE", Varchar2(5)),
                c("ISSYS_MODIFIABLE", Varchar2(9)),
                c("ISPDB_MODIFIABLE", Varchar2(5)),
                c("ISINSTANCE_MODIFIABLE", Varchar2(5)),
                c("ISMODIFIED", Varchar2(10)),
                c("ISADJUSTED", Varchar2(5)),
                c("ISDEPRECATED", Varchar2(5)),
                c("ISBASIC", Varchar2(5)),
                c("DESCRIPTION", Varchar2(255)),
                c("UPDATE_COMMENT", Varchar2(255)),
                c("HASH", Number),
                c("CON_ID", Number),
            ],
            View::StatName => vec![
                c("STATISTIC#", Number),
                c("NAME", Varchar2(64)),
                c("CLASS", Number),
                c("STAT_ID", Number),
                c("DISPLAY_NAME", Varchar2(64)),
                c("CON_ID", Number),
            ],
            View::SessionConnectInfo => vec![
                c("SID", Number),
                c("SERIAL#", Number),
                c("AUTHENTICATION_TYPE", Varchar2(26)),
                c("OSUSER", Varchar2(128)),
                c("NETWORK_SERVICE_BANNER", Varchar2(4000)),
                c("CLIENT_CHARSET", Varchar2(40)),
                c("CLIENT_CONNECTION", Varchar2(14)),
                c("CLIENT_OCI_LIBRARY", Varchar2(28)),
                c("CLIENT_VERSION", Varchar2(40)),
                c("CLIENT_DRIVER", Varchar2(9)),
                c("CLIENT_LOBATTR", Varchar2(40)),
                c("CLIENT_REGID", Number),
                c("CON_ID", Number),
            ],
            View::MyStat | View::SesStat => vec![
                c("SID", Number),
                c("STATISTIC#", Number),
                c("VALUE", Number),
                c("CON_ID", Number),
            ],
            View::SysStat => vec![
                c("STATISTIC#", Number),
                c("NAME", Varchar2(64)),
                c("CLASS", Number),
                c("VALUE", Number),
                c("STAT_ID", Number),
                c("CON_ID", Number),
            ],
        }
    }
}

/// V$MYSTAT / V$SESSTAT rows: one per session and STATISTIC#.
fn stat_cells<'a>(sessions: impl Iterator<Item = &'a (u32, Vec<u64>)>) -> Vec<Vec<Cell>> {
    sessions
        .flat_map(|(sid, values)| {
            values.iter().enumerate().map(move |(i, v)| {
                vec![
                    int(*sid),
                    int(i64::try_from(i).unwrap_or(0)),
                    big(*v),
                    int(0),
                ]
            })
        })
        .collect()
}

fn text(s: &str) -> Cell {
    if s.is_empty() {
        Cell::Null
    } else {
        Cell::Text(s.to_string())
    }
}

fn int(v: impl Into<i64>) -> Cell {
    Cell::Int(v.into())
}

/// The cells of one V$SESSION row, in [`View::columns`] order.
pub fn session_cells(r: &SessionRow) -> Vec<Cell> {
    vec![
        Cell::Raw(r.saddr.clone()),
        int(r.sid),
        int(r.serial),
        Cell::Int(i64::try_from(r.audsid).unwrap_or(i64::MAX)),
        Cell::Raw(r.paddr.clone()),
        int(r.user_id),
        r.username.as_deref().map_or(Cell::Null, text),
        int(0),
        text(r.status.as_str()),
        text(r.server.as_str()),
        text(r.username.as_deref().unwrap_or("SYS")),
        text(&r.osuser),
        text(&r.process),
        text(&r.machine),
        int(r.port),
        text(&r.terminal),
        text(&r.program),
        text(r.session_type.as_str()),
        text(&r.module),
        Cell::Null,
        Cell::Null,
        Cell::Date(r.logon_time),
        Cell::Int(i64::try_from(r.last_call_et).unwrap_or(i64::MAX)),
        text(&r.service_name),
        int(1),
        int(0),
    ]
}

/// The cells of one V$PROCESS row, in [`View::columns`] order.
pub fn process_cells(r: &ProcessRow) -> Vec<Cell> {
    let spid = r.spid.to_string();
    vec![
        Cell::Raw(r.addr.clone()),
        int(r.pid),
        text(&spid),
        text(&spid),
        text(&spid),
        r.pname.as_deref().map_or(Cell::Null, text),
        int(r.serial),
        text(&r.username),
        text(&r.terminal),
        text(&r.program),
        if r.background { text("1") } else { Cell::Null },
        int(1),
        int(0),
    ]
}

/// The cells of the V$INSTANCE row, in [`View::columns`] order.
pub fn instance_cells(r: &InstanceRow) -> Vec<Cell> {
    vec![
        int(r.instance_number),
        text(&r.instance_name),
        text(&r.host_name),
        text(&r.version),
        text(&r.version),
        Cell::Date(r.startup_time),
        text(r.status.as_str()),
        text("NO"),
        int(1),
        text("STOPPED"),
        text(if r.logins_restricted {
            "RESTRICTED"
        } else {
            "ALLOWED"
        }),
        text(if r.shutdown_pending { "YES" } else { "NO" }),
        text(r.database_status),
        text(r.instance_role),
        text("NORMAL"),
        text("NO"),
        int(0),
        text("REGULAR"),
        text("EE"),
        text("SINGLE"),
    ]
}

/// A stable DBID for a database name (Oracle derives it at CREATE DATABASE; here it is an
/// FNV-1a hash of the name, so it is the same at every startup).
pub fn dbid(db_name: &str) -> i64 {
    let mut h: u32 = 0x811c_9dc5;
    for b in db_name.to_ascii_uppercase().bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    i64::from(h)
}

/// The cells of the V$DATABASE row (from the instance row), in [`View::columns`] order.
pub fn database_cells(r: &InstanceRow) -> Vec<Cell> {
    use crate::rows::InstanceState;
    vec![
        Cell::Int(dbid(&r.db_name)),
        text(&r.db_name),
        // The simulated database is created when its instance starts.
        Cell::Date(r.startup_time),
        text("NOARCHIVELOG"),
        text(match r.status {
            InstanceState::Open => "READ WRITE",
            InstanceState::Mounted => "MOUNTED",
            InstanceState::Started | InstanceState::Shutdown => "",
        }),
        text("PRIMARY"),
        text(&r.db_name),
        text("Linux x86 64-bit"),
        text("NO"),
        int(0),
    ]
}

fn big(v: u64) -> Cell {
    Cell::Int(i64::try_from(v).unwrap_or(i64::MAX))
}

fn yes_no(b: bool) -> Cell {
    text(if b { "YES" } else { "NO" })
}

fn true_false(b: bool) -> Cell {
    text(if b { "TRUE" } else { "FALSE" })
}

/// The cells of one V$DISPATCHER row, in [`View::columns`] order.
pub fn dispatcher_cells(r: &DispatcherRow) -> Vec<Cell> {
    vec![
        text(&r.name),
        text(&r.network),
        Cell::Raw(r.paddr.clone()),
        text(r.status),
        yes_no(r.accept),
        big(r.messages),
        big(r.bytes),
        big(r.breaks),
        int(r.owned),
        big(r.created),
        big(r.idle),
        big(r.busy),
        int(0),
        int(r.listener),
        int(r.conf_indx),
        int(0),
    ]
}

/// The cells of one V$DISPATCHER_CONFIG row, in [`View::columns`] order.
pub fn dispatcher_config_cells(r: &DispatcherConfigRow) -> Vec<Cell> {
    vec![
        int(r.conf_indx),
        text(&r.network),
        int(r.dispatchers),
        int(r.connections),
        int(r.sessions),
        text("OFF"),
        text(&r.listener),
        text(&r.service),
        int(0),
    ]
}

/// The cells of one V$SHARED_SERVER row, in [`View::columns`] order.
pub fn shared_server_cells(r: &SharedServerRow) -> Vec<Cell> {
    vec![
        text(&r.name),
        Cell::Raw(r.paddr.clone()),
        text(r.status),
        big(r.messages),
        big(r.bytes),
        big(r.breaks),
        Cell::Raw(r.circuit.clone().unwrap_or_else(|| "00".to_string())),
        big(r.idle),
        big(r.busy),
        int(0),
        int(0),
        big(r.requests),
        int(0),
    ]
}

/// The cells of one V$CIRCUIT row, in [`View::columns`] order.
pub fn circuit_cells(r: &CircuitRow) -> Vec<Cell> {
    vec![
        Cell::Raw(r.circuit.clone()),
        Cell::Raw(r.dispatcher.clone()),
        Cell::Raw(r.server.clone()),
        Cell::Raw("00".to_string()),
        Cell::Raw(r.saddr.clone()),
        text(r.status),
        text(r.queue),
        int(0),
        int(0),
        int(0),
        int(0),
        big(r.messages),
        big(r.bytes),
        big(r.breaks),
        Cell::Null,
        Cell::Raw("00".to_string()),
        int(0),
    ]
}

/// The cells of one V$QUEUE row, in [`View::columns`] order.
pub fn queue_cells(r: &QueueRow) -> Vec<Cell> {
    vec![
        Cell::Raw(r.paddr.clone()),
        text(r.kind),
        int(r.queued),
        big(r.wait),
        big(r.totalq),
        int(0),
    ]
}

/// The cells of the V$SHARED_SERVER_MONITOR row, in [`View::columns`] order.
pub fn shared_server_monitor_cells(r: &SharedServerMonitorRow) -> Vec<Cell> {
    vec![
        int(r.maximum_connections),
        int(r.maximum_sessions),
        big(r.servers_started),
        big(r.servers_terminated),
        int(r.servers_highwater),
        int(0),
        int(0),
    ]
}

/// The cells of the V$CPOOL_STATS row, in [`View::columns`] order.
pub fn cpool_stats_cells(r: &CpoolStatsRow) -> Vec<Cell> {
    vec![
        text(&r.pool_name),
        int(r.num_open_servers),
        int(r.num_busy_servers),
        int(r.num_auth_servers),
        big(r.num_requests),
        big(r.num_hits),
        big(r.num_misses),
        big(r.num_waits),
        big(r.wait_time),
        big(r.client_req_timeouts),
        big(r.num_authentications),
        big(r.num_purged),
        int(r.historic_max),
        int(0),
    ]
}

/// The cells of one V$CPOOL_CC_STATS row, in [`View::columns`] order.
pub fn cpool_class_cells(r: &CpoolClassRow) -> Vec<Cell> {
    vec![
        text(&r.cclass_name),
        big(r.num_requests),
        big(r.num_hits),
        big(r.num_misses),
        big(r.num_waits),
        big(r.wait_time),
        big(r.client_req_timeouts),
        big(r.num_authentications),
        int(0),
    ]
}

/// The cells of one V$CPOOL_CONN_INFO row, in [`View::columns`] order.
pub fn cpool_conn_cells(r: &CpoolConnRow) -> Vec<Cell> {
    let opt = |v: &Option<String>| v.as_deref().map_or(Cell::Null, text);
    vec![
        Cell::Raw(r.cmon_addr.clone()),
        Cell::Null,
        Cell::Raw(r.connection_addr.clone()),
        opt(&r.username),
        Cell::Null,
        opt(&r.cclass_name),
        opt(&r.purity),
        Cell::Null,
        text(&r.service),
        opt(&r.process_id),
        opt(&r.program),
        opt(&r.machine),
        opt(&r.terminal),
        Cell::Null,
        text(&r.connection_status),
        Cell::Null,
        big(r.curstatus_time),
        int(0),
    ]
}

/// The cells of the DBA_CPOOL_INFO row, in [`View::columns`] order.
pub fn cpool_info_cells(r: &CpoolInfoRow) -> Vec<Cell> {
    vec![
        text(&r.connection_pool),
        text(&r.status),
        int(r.minsize),
        int(r.maxsize),
        int(r.incrsize),
        int(r.session_cached_cursors),
        int(r.inactivity_timeout),
        int(r.max_think_time),
        int(r.max_use_session),
        int(r.max_lifetime_session),
        int(r.num_cbrok),
        int(r.maxconn_cbrok),
    ]
}

/// A stable hash of a parameter name (V$PARAMETER.HASH).
fn name_hash(name: &str) -> i64 {
    dbid(name)
}

/// The cells of one V$PARAMETER row, in [`View::columns`] order.
pub fn parameter_cells(r: &ParameterRow) -> Vec<Cell> {
    let value = r.value.as_deref().map_or(Cell::Null, text);
    vec![
        int(r.num),
        text(&r.name),
        int(r.kind),
        value.clone(),
        value,
        r.default_value.as_deref().map_or(Cell::Null, text),
        true_false(r.isdefault),
        true_false(false),
        text(r.issys_modifiable),
        true_false(false),
        true_false(r.issys_modifiable != "FALSE"),
        text(if r.ismodified { "SYSTEM_MOD" } else { "FALSE" }),
        true_false(false),
        true_false(false),
        true_false(false),
        text(r.description),
        Cell::Null,
        Cell::Int(name_hash(&r.name)),
        int(0),
    ]
}

// ---------------------------------------------------------------------------------------
// Lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Quoted(String),
    Str(String),
    Num(String),
    Bind(String),
    Sym(&'static str),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    at: usize,
}

fn lex(sql: &str) -> Result<Vec<Token>, OraError> {
    let b = sql.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        let at = i;
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'-' && b.get(i + 1) == Some(&b'-') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i = (i + 2).min(b.len());
        } else if c.is_ascii_alphabetic() {
            while i < b.len()
                && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'_' | b'$' | b'#'))
            {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Ident(sql[at..i].to_ascii_uppercase()),
                at,
            });
        } else if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Num(sql[at..i].to_string()),
                at,
            });
        } else if c == b'\'' || c == b'"' {
            let quote = c;
            i += 1;
            let mut s = String::new();
            loop {
                let Some(&ch) = b.get(i) else {
                    return Err(err(1756, at));
                };
                if ch == quote {
                    if quote == b'\'' && b.get(i + 1) == Some(&b'\'') {
                        s.push('\'');
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                // Push the whole UTF-8 character.
                let len = sql[i..].chars().next().map_or(1, char::len_utf8);
                s.push_str(&sql[i..i + len]);
                i += len;
            }
            out.push(Token {
                tok: if quote == b'\'' {
                    Tok::Str(s)
                } else {
                    Tok::Quoted(s)
                },
                at,
            });
        } else if c == b':' {
            i += 1;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Bind(sql[at + 1..i].to_ascii_uppercase()),
                at,
            });
        } else {
            let two = sql.get(i..i + 2).unwrap_or("");
            let (sym, len): (&'static str, usize) = match two {
                "<>" | "!=" | "^=" => ("<>", 2),
                "<=" => ("<=", 2),
                ">=" => (">=", 2),
                _ => (
                    match c {
                        b'=' => "=",
                        b'<' => "<",
                        b'>' => ">",
                        b'(' => "(",
                        b')' => ")",
                        b',' => ",",
                        b'.' => ".",
                        b'*' => "*",
                        b';' => ";",
                        _ => return Err(err(911, at)),
                    },
                    1,
                ),
            };
            i += len;
            out.push(Token {
                tok: Tok::Sym(sym),
                at,
            });
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Statements

/// A column reference `[alias.]NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ColRef {
    qualifier: Option<String>,
    name: String,
    at: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Col(ColRef),
    Lit(Cell),
    Bind(String, usize),
    /// `SYS_CONTEXT('USERENV', 'parameter')`, parameter upper case.
    UserEnv(String),
    /// `ROWNUM`: the number the row gets if it passes the WHERE clause (1 + the rows
    /// passed so far, before ORDER BY, as Oracle numbers them).
    Rownum,
}

#[derive(Debug, Clone, PartialEq)]
enum Cond {
    Cmp(Operand, &'static str, Operand),
    In(Operand, Vec<Operand>, bool),
    IsNull(Operand, bool),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
}

#[derive(Debug, Clone, PartialEq)]
enum Item {
    Star,
    QualifiedStar(String, usize),
    Col(ColRef, Option<String>),
    CountStar(Option<String>),
}

#[derive(Debug, Clone, PartialEq)]
enum OrderKey {
    Col(ColRef),
    Position(usize, usize),
}

/// A parsed query on the V$ views.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewQuery {
    /// Bind names in order of first appearance.
    binds: Vec<String>,
    /// `SELECT DISTINCT`: repeated result rows are dropped (the first of each stays).
    distinct: bool,
    items: Vec<Item>,
    from: Vec<(View, Option<String>)>,
    filter: Option<Cond>,
    order: Vec<(OrderKey, bool)>,
}

impl ViewQuery {
    /// The views the query reads (to know which snapshots to take).
    pub fn views(&self) -> Vec<View> {
        self.from.iter().map(|(v, _)| *v).collect()
    }

    /// The bind variable names (upper case, without the colon), each once, in order of
    /// first appearance — the order in which clients send bind values.
    pub fn bind_names(&self) -> &[String] {
        &self.binds
    }
}

/// An `ALTER SYSTEM` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlterSystem {
    /// `KILL SESSION 'sid,serial#' [IMMEDIATE]`.
    KillSession {
        /// The `'sid,serial#'` text.
        target: String,
        /// IMMEDIATE given.
        immediate: bool,
    },
    /// `DISCONNECT SESSION 'sid,serial#' IMMEDIATE | POST_TRANSACTION`.
    DisconnectSession {
        /// The `'sid,serial#'` text.
        target: String,
    },
    /// `REGISTER`.
    Register,
    /// `ENABLE | DISABLE RESTRICTED SESSION`: only users with RESTRICTED SESSION (and
    /// SYSDBA/SYSOPER) may log in while enabled (V$INSTANCE.LOGINS = RESTRICTED).
    RestrictedSession {
        /// ENABLE (true) or DISABLE.
        enable: bool,
    },
    /// `SET name = value [SCOPE = MEMORY | SPFILE | BOTH]`.
    Set {
        /// The parameter (lower case).
        name: String,
        /// The value as written (quotes removed; several values joined with `, `).
        value: String,
        /// SCOPE; `None` when not given (BOTH with an SPFILE, MEMORY with a pfile).
        scope: Option<Scope>,
    },
}

/// SCOPE of `ALTER SYSTEM SET`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The running instance only.
    Memory,
    /// The server parameter file only.
    Spfile,
    /// Both.
    Both,
}

/// What [`parse`] recognised.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// A query on V$ views.
    Query(ViewQuery),
    /// An ALTER SYSTEM command (needs the ALTER SYSTEM privilege).
    AlterSystem(AlterSystem),
}

/// The bind variable names among `toks`, each once, in order of first appearance.
fn bind_names(toks: &[Token]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for t in toks {
        if let Tok::Bind(n) = &t.tok
            && !names.contains(n)
        {
            names.push(n.clone());
        }
    }
    names
}

/// Parses `sql` if it is one of the statements of this module: `Ok(None)` when it is not
/// (a query on DUAL, PL/SQL, ...), so the engine's own SQL subset handles it.
pub fn parse(sql: &str) -> Result<Option<Statement>, OraError> {
    parse_in(sql, InstanceState::Open)
}

/// [`parse`] for an instance in `state`, with Oracle's errors for a view the state does
/// not allow: before OPEN a view of the data dictionary (DBA_CPOOL_INFO) is ORA-01219,
/// before MOUNT V$DATABASE is ORA-01507, each at the view's name.
pub fn parse_in(sql: &str, state: InstanceState) -> Result<Option<Statement>, OraError> {
    let Ok(toks) = lex(sql) else {
        return Ok(None);
    };
    let first = |n: usize| match toks.get(n).map(|t| &t.tok) {
        Some(Tok::Ident(s)) => s.as_str(),
        _ => "",
    };
    if first(0) == "ALTER" && first(1) == "SYSTEM" {
        return parse_alter_system(sql, &toks).map(|a| Some(Statement::AlterSystem(a)));
    }
    if first(0) != "SELECT" {
        return Ok(None);
    }
    // Only queries whose FROM names a V$ view are ours.
    let mut depth = 0i32;
    let mut from_at = None;
    for (i, t) in toks.iter().enumerate() {
        match &t.tok {
            Tok::Sym("(") => depth += 1,
            Tok::Sym(")") => depth -= 1,
            Tok::Ident(s) if s == "FROM" && depth == 0 => {
                from_at = Some(i);
                break;
            }
            _ => {}
        }
    }
    let Some(f) = from_at else { return Ok(None) };
    let names_view = match toks.get(f + 1).map(|t| &t.tok) {
        Some(Tok::Ident(n)) => {
            // SYS.V$SESSION arrives as SYS . V$SESSION
            let full = if toks.get(f + 2).map(|t| &t.tok) == Some(&Tok::Sym(".")) {
                match toks.get(f + 3).map(|t| &t.tok) {
                    Some(Tok::Ident(m)) => format!("{n}.{m}"),
                    _ => n.clone(),
                }
            } else {
                n.clone()
            };
            View::from_name(&full).is_some()
                || full.starts_with("V$")
                || full.starts_with("GV$")
                || full.starts_with("SYS.V$")
        }
        Some(Tok::Quoted(n)) => n.starts_with("V$"),
        _ => false,
    };
    if !names_view {
        return Ok(None);
    }
    let mut p = Parser {
        toks: &toks,
        pos: 0,
        end: sql.len(),
        state,
    };
    let q = p.query()?;
    Ok(Some(Statement::Query(q)))
}

fn parse_alter_system(sql: &str, toks: &[Token]) -> Result<AlterSystem, OraError> {
    let mut p = Parser {
        toks,
        pos: 2,
        end: sql.len(),
        state: InstanceState::Open,
    };
    let at = p.here();
    let word = p.ident().unwrap_or_default();
    let r = match word.as_str() {
        "REGISTER" => AlterSystem::Register,
        "SET" => parse_set(&mut p)?,
        "ENABLE" | "DISABLE" => {
            if p.ident().as_deref() != Some("RESTRICTED") {
                return Err(err(2065, p.prev_at()));
            }
            if p.ident().as_deref() != Some("SESSION") {
                return Err(err_with(2000, &["SESSION"], p.here()));
            }
            AlterSystem::RestrictedSession {
                enable: word == "ENABLE",
            }
        }
        "KILL" | "DISCONNECT" => {
            if p.ident().as_deref() != Some("SESSION") {
                return Err(err_with(2000, &["SESSION"], p.here()));
            }
            let Some(Tok::Str(target)) = p.next() else {
                return Err(err(26, p.here()));
            };
            let mut immediate = false;
            let mut post_transaction = false;
            while let Some(w) = p.ident() {
                match w.as_str() {
                    "IMMEDIATE" => immediate = true,
                    "POST_TRANSACTION" if word == "DISCONNECT" => post_transaction = true,
                    "NOREPLAY" | "FORCE" if word == "KILL" => {}
                    _ => return Err(err(933, p.prev_at())),
                }
            }
            if word == "KILL" {
                AlterSystem::KillSession { target, immediate }
            } else if immediate || post_transaction {
                // No transactions here: POST_TRANSACTION disconnects at once as well.
                AlterSystem::DisconnectSession { target }
            } else {
                return Err(err_with(2000, &["POST_TRANSACTION or IMMEDIATE"], p.here()));
            }
        }
        _ => return Err(err(2065, at)),
    };
    p.skip_semicolon();
    if p.pos < toks.len() {
        return Err(err(933, p.here()));
    }
    Ok(r)
}

/// `SET name = value[, value...] [COMMENT = '...'] [SCOPE = ...] [SID = '...']` after
/// `ALTER SYSTEM`.
fn parse_set(p: &mut Parser<'_>) -> Result<AlterSystem, OraError> {
    let at = p.here();
    let Some(name) = p.ident() else {
        return Err(err(2065, at));
    };
    if !p.eat_sym("=") {
        return Err(err(2065, p.here()));
    }
    let mut values = Vec::new();
    loop {
        let at = p.here();
        match p.next() {
            Some(Tok::Str(v) | Tok::Quoted(v) | Tok::Num(v) | Tok::Ident(v)) => values.push(v),
            _ => return Err(err(2017, at)),
        }
        if !p.eat_sym(",") {
            break;
        }
    }
    let mut scope = None;
    while let Some(word) = p.ident() {
        if !p.eat_sym("=") {
            return Err(err(922, p.prev_at()));
        }
        let at = p.here();
        match (word.as_str(), p.next()) {
            ("SCOPE", Some(Tok::Ident(s))) => {
                scope = Some(match s.as_str() {
                    "MEMORY" => Scope::Memory,
                    "SPFILE" => Scope::Spfile,
                    "BOTH" => Scope::Both,
                    _ => return Err(err(922, at)),
                });
            }
            ("COMMENT", Some(Tok::Str(_))) => {}
            // This instance, or every instance: one and the same here.
            ("SID", Some(Tok::Str(_))) => {}
            _ => return Err(err(922, at)),
        }
    }
    Ok(AlterSystem::Set {
        name: name.to_ascii_lowercase(),
        value: values.join(", "),
        scope,
    })
}

/// A condition and how many levels its tree has.
type Subtree = (Cond, usize);

struct Parser<'a> {
    toks: &'a [Token],
    pos: usize,
    end: usize,
    /// The instance's state: which views a query may name.
    state: InstanceState,
}

impl Parser<'_> {
    fn here(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |t| t.at)
    }

    fn prev_at(&self) -> usize {
        self.toks
            .get(self.pos.saturating_sub(1))
            .map_or(self.end, |t| t.at)
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.tok)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).map(|t| t.tok.clone());
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    fn ident(&mut self) -> Option<String> {
        match self.peek() {
            Some(Tok::Ident(s)) => {
                let s = s.clone();
                self.pos += 1;
                Some(s)
            }
            _ => None,
        }
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(s)) if s == kw)
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_sym(&mut self, sym: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Sym(s)) if *s == sym) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn skip_semicolon(&mut self) {
        self.eat_sym(";");
    }

    fn name_token(&mut self) -> Option<String> {
        match self.peek() {
            Some(Tok::Ident(s)) => {
                let s = s.clone();
                self.pos += 1;
                Some(s)
            }
            Some(Tok::Quoted(s)) => {
                let s = s.clone();
                self.pos += 1;
                Some(s)
            }
            _ => None,
        }
    }

    fn query(&mut self) -> Result<ViewQuery, OraError> {
        self.eat_kw("SELECT");
        let distinct = self.eat_kw("DISTINCT") || self.eat_kw("UNIQUE");
        let mut items = Vec::new();
        loop {
            items.push(self.item()?);
            if !self.eat_sym(",") {
                break;
            }
        }
        if !self.eat_kw("FROM") {
            return Err(err(923, self.here()));
        }
        let mut from = Vec::new();
        let mut join_next = false;
        let mut join_on: Option<Cond> = None;
        loop {
            let at = self.here();
            let mut name = self.name_token().ok_or_else(|| err(903, at))?;
            if self.eat_sym(".") {
                let rest = self.name_token().ok_or_else(|| err(903, self.here()))?;
                name = format!("{name}.{rest}");
            }
            let view = View::from_name(&name).ok_or_else(|| err(942, at))?;
            match (view, self.state) {
                (View::CpoolInfo, InstanceState::Started | InstanceState::Mounted) => {
                    return Err(err(1219, at));
                }
                (View::Database, InstanceState::Started) => return Err(err(1507, at)),
                _ => {}
            }
            let alias = match self.peek() {
                Some(Tok::Ident(s))
                    if !matches!(
                        s.as_str(),
                        "WHERE" | "ORDER" | "GROUP" | "CONNECT" | "JOIN" | "INNER" | "ON"
                    ) =>
                {
                    self.name_token()
                }
                Some(Tok::Quoted(_)) => self.name_token(),
                _ => None,
            };
            if join_next {
                if !self.eat_kw("ON") {
                    return Err(err(905, self.here()));
                }
                let (on, _) = self.or_cond(0)?;
                join_on = Some(match join_on.take() {
                    Some(prev) => Cond::And(Box::new(prev), Box::new(on)),
                    None => on,
                });
                join_next = false;
            }
            from.push((view, alias));
            if self.eat_sym(",") {
                continue;
            }
            // `[INNER] JOIN view [alias] ON cond`: the condition joins the WHERE clause.
            let inner = self.eat_kw("INNER");
            if self.eat_kw("JOIN") {
                join_next = true;
                continue;
            }
            if inner {
                return Err(err(905, self.here()));
            }
            break;
        }
        if from.len() > 2 {
            return Err(err(942, self.here()));
        }
        let where_cond = if self.eat_kw("WHERE") {
            Some(self.or_cond(0)?.0)
        } else {
            None
        };
        let filter = match (join_on, where_cond) {
            (Some(j), Some(w)) => Some(Cond::And(Box::new(j), Box::new(w))),
            (j, w) => j.or(w),
        };
        let mut order = Vec::new();
        if self.eat_kw("ORDER") {
            if !self.eat_kw("BY") {
                return Err(err(924, self.here()));
            }
            loop {
                let at = self.here();
                let key = match self.peek() {
                    Some(Tok::Num(n)) => {
                        let n = n.parse::<usize>().map_err(|_| err(1785, at))?;
                        self.pos += 1;
                        OrderKey::Position(n, at)
                    }
                    _ => OrderKey::Col(self.colref()?),
                };
                let desc = if self.eat_kw("DESC") {
                    true
                } else {
                    self.eat_kw("ASC");
                    false
                };
                order.push((key, desc));
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        self.skip_semicolon();
        if self.pos < self.toks.len() {
            return Err(err(933, self.here()));
        }
        Ok(ViewQuery {
            binds: bind_names(self.toks),
            distinct,
            items,
            from,
            filter,
            order,
        })
    }

    fn alias(&mut self) -> Option<String> {
        if self.eat_kw("AS") {
            return self.name_token();
        }
        match self.peek() {
            Some(Tok::Ident(s)) if s != "FROM" => self.name_token(),
            Some(Tok::Quoted(_)) => self.name_token(),
            _ => None,
        }
    }

    fn item(&mut self) -> Result<Item, OraError> {
        let at = self.here();
        if self.eat_sym("*") {
            return Ok(Item::Star);
        }
        if self.is_kw("COUNT")
            && matches!(
                self.toks.get(self.pos + 1).map(|t| &t.tok),
                Some(Tok::Sym("("))
            )
        {
            self.pos += 2;
            if !self.eat_sym("*") {
                return Err(err_with(904, &["\"COUNT\""], at));
            }
            if !self.eat_sym(")") {
                return Err(err(907, self.here()));
            }
            return Ok(Item::CountStar(self.alias()));
        }
        // alias.*
        if let (Some(Tok::Ident(q)), Some(Tok::Sym(".")), Some(Tok::Sym("*"))) = (
            self.toks.get(self.pos).map(|t| &t.tok),
            self.toks.get(self.pos + 1).map(|t| &t.tok),
            self.toks.get(self.pos + 2).map(|t| &t.tok),
        ) {
            let q = q.clone();
            self.pos += 3;
            return Ok(Item::QualifiedStar(q, at));
        }
        match self.peek() {
            Some(Tok::Ident(s)) if s == "FROM" => Err(err(936, at)),
            Some(Tok::Ident(_) | Tok::Quoted(_)) => {
                let c = self.colref()?;
                Ok(Item::Col(c, self.alias()))
            }
            _ => Err(err(936, at)),
        }
    }

    fn colref(&mut self) -> Result<ColRef, OraError> {
        let at = self.here();
        let first = self.name_token().ok_or_else(|| err(936, at))?;
        if self.eat_sym(".") {
            let name = self
                .name_token()
                .ok_or_else(|| err_with(904, &[&format!("\"{first}\".")], self.here()))?;
            Ok(ColRef {
                qualifier: Some(first),
                name,
                at,
            })
        } else {
            Ok(ColRef {
                qualifier: None,
                name: first,
                at,
            })
        }
    }

    /// Conditions joined by OR, `level` levels deep in the statement's tree: the
    /// condition and how many levels its own tree has. ORA-03095 when the whole is deeper
    /// than [`crate::sql::MAX_EXPR_DEPTH`], or parentheses nest deeper than
    /// [`crate::sql::MAX_NESTING_DEPTH`] (the SQL subset's bounds, for the same stack).
    fn or_cond(&mut self, level: usize) -> Result<Subtree, OraError> {
        self.chain(level, "OR", Self::and_cond, Cond::Or)
    }

    fn and_cond(&mut self, level: usize) -> Result<Subtree, OraError> {
        self.chain(level, "AND", Self::simple_cond, Cond::And)
    }

    /// `next (kw next)*`, nested to the left as `join` builds it.
    fn chain(
        &mut self,
        level: usize,
        kw: &str,
        next: fn(&mut Self, usize) -> Result<Subtree, OraError>,
        join: fn(Box<Cond>, Box<Cond>) -> Cond,
    ) -> Result<Subtree, OraError> {
        let (mut c, mut height) = next(self, level)?;
        while self.eat_kw(kw) {
            let at = self.prev_at();
            let (r, h) = next(self, level)?;
            c = join(Box::new(c), Box::new(r));
            height = height.max(h) + 1;
            if level + height > crate::sql::MAX_EXPR_DEPTH {
                return Err(too_deep(at, crate::sql::MAX_EXPR_DEPTH));
            }
        }
        Ok((c, height))
    }

    fn simple_cond(&mut self, level: usize) -> Result<Subtree, OraError> {
        // A parenthesised condition (not an IN list: those follow an operand).
        if matches!(self.peek(), Some(Tok::Sym("("))) {
            if level >= crate::sql::MAX_NESTING_DEPTH {
                return Err(too_deep(self.here(), crate::sql::MAX_NESTING_DEPTH));
            }
            self.pos += 1;
            let (c, height) = self.or_cond(level + 1)?;
            if !self.eat_sym(")") {
                return Err(err(907, self.here()));
            }
            return Ok((c, height + 1));
        }
        let left = self.operand()?;
        if self.eat_kw("IS") {
            let not = self.eat_kw("NOT");
            if !self.eat_kw("NULL") {
                return Err(err(908, self.here()));
            }
            return Ok((Cond::IsNull(left, not), 1));
        }
        let not = self.eat_kw("NOT");
        if self.eat_kw("IN") {
            if !self.eat_sym("(") {
                return Err(err(906, self.here()));
            }
            let mut list = Vec::new();
            loop {
                list.push(self.operand()?);
                if !self.eat_sym(",") {
                    break;
                }
            }
            if !self.eat_sym(")") {
                return Err(err(907, self.here()));
            }
            return Ok((Cond::In(left, list, not), 1));
        }
        if not {
            return Err(err(920, self.here()));
        }
        let at = self.here();
        let op = match self.next() {
            Some(Tok::Sym(s)) if matches!(s, "=" | "<>" | "<" | "<=" | ">" | ">=") => s,
            _ => return Err(err(920, at)),
        };
        let right = self.operand()?;
        Ok((Cond::Cmp(left, op, right), 1))
    }

    fn operand(&mut self) -> Result<Operand, OraError> {
        let at = self.here();
        match self.peek().cloned() {
            Some(Tok::Str(s)) => {
                self.pos += 1;
                Ok(Operand::Lit(if s.is_empty() {
                    Cell::Null
                } else {
                    Cell::Text(s)
                }))
            }
            Some(Tok::Num(n)) => {
                self.pos += 1;
                Ok(Operand::Lit(Cell::Text(n)))
            }
            Some(Tok::Bind(b)) => {
                self.pos += 1;
                Ok(Operand::Bind(b, at))
            }
            Some(Tok::Ident(s)) if s == "NULL" => {
                self.pos += 1;
                Ok(Operand::Lit(Cell::Null))
            }
            Some(Tok::Ident(s)) if s == "ROWNUM" => {
                self.pos += 1;
                Ok(Operand::Rownum)
            }
            Some(Tok::Ident(s)) if s == "SYS_CONTEXT" || s == "USERENV" => {
                self.pos += 1;
                if !self.eat_sym("(") {
                    return Err(err(906, self.here()));
                }
                let mut args = Vec::new();
                loop {
                    match self.next() {
                        Some(Tok::Str(a)) => args.push(a.to_ascii_uppercase()),
                        _ => return Err(err(2003, at)),
                    }
                    if !self.eat_sym(",") {
                        break;
                    }
                }
                if !self.eat_sym(")") {
                    return Err(err(907, self.here()));
                }
                let param = if s == "USERENV" {
                    args.first().cloned()
                } else if args.first().map(String::as_str) == Some("USERENV") {
                    args.get(1).cloned()
                } else {
                    None
                };
                param.map(Operand::UserEnv).ok_or_else(|| err(2003, at))
            }
            // The USER pseudo-column (`WHERE username = USER`).
            Some(Tok::Ident(s))
                if s == "USER"
                    && !matches!(
                        self.toks.get(self.pos + 1).map(|t| &t.tok),
                        Some(Tok::Sym("."))
                    ) =>
            {
                self.pos += 1;
                Ok(Operand::UserEnv("SESSION_USER".to_string()))
            }
            Some(Tok::Ident(_) | Tok::Quoted(_)) => Ok(Operand::Col(self.colref()?)),
            _ => Err(err(936, at)),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Evaluation

/// What the evaluation needs from the caller.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// V$SESSION rows.
    pub sessions: Vec<SessionRow>,
    /// V$PROCESS rows.
    pub processes: Vec<ProcessRow>,
    /// V$INSTANCE row.
    pub instance: Option<InstanceRow>,
    /// V$DISPATCHER rows.
    pub dispatchers: Vec<DispatcherRow>,
    /// V$DISPATCHER_CONFIG rows.
    pub dispatcher_config: Vec<DispatcherConfigRow>,
    /// V$SHARED_SERVER rows.
    pub shared_servers: Vec<SharedServerRow>,
    /// V$CIRCUIT rows.
    pub circuits: Vec<CircuitRow>,
    /// V$QUEUE rows.
    pub queues: Vec<QueueRow>,
    /// The V$SHARED_SERVER_MONITOR row.
    pub shared_server_monitor: Option<SharedServerMonitorRow>,
    /// V$PARAMETER rows.
    pub parameters: Vec<ParameterRow>,
    /// The calling session's SID and its statistics, by STATISTIC# (V$MYSTAT; filled by
    /// the session engine, not the instance).
    pub my_stats: Option<(u32, Vec<u64>)>,
    /// Every session's SID and statistics, by STATISTIC# (V$SESSTAT).
    pub session_stats: Vec<(u32, Vec<u64>)>,
    /// The instance's statistics, by STATISTIC# (V$SYSSTAT; empty without an instance).
    pub system_stats: Vec<u64>,
    /// The calling session's connect information (V$SESSION_CONNECT_INFO; filled by the
    /// session engine).
    pub connect_info: Option<ConnectInfoRow>,
    /// The V$CPOOL_STATS row.
    pub cpool_stats: Vec<CpoolStatsRow>,
    /// V$CPOOL_CC_STATS rows.
    pub cpool_classes: Vec<CpoolClassRow>,
    /// The DBA_CPOOL_INFO row.
    pub cpool_info: Vec<CpoolInfoRow>,
    /// V$CPOOL_CONN_INFO rows.
    pub cpool_conns: Vec<CpoolConnRow>,
}

/// Context of the calling session: `SYS_CONTEXT('USERENV', ...)` values and bind values.
#[derive(Debug, Clone, Default)]
pub struct QueryContext {
    /// `USERENV` parameters (upper-case names) and their values, e.g. `SID` → `"23"`.
    pub userenv: Vec<(String, String)>,
    /// Bind values by upper-case name (without the colon) or 1-based position as text.
    pub binds: Vec<(String, Cell)>,
}

/// A query result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultSet {
    /// Columns.
    pub columns: Vec<Column>,
    /// Rows.
    pub rows: Vec<Vec<Cell>>,
}

struct Source {
    alias: Option<String>,
    view: View,
    columns: Vec<Column>,
    offset: usize,
}

fn view_name(v: View) -> &'static str {
    match v {
        View::Session => "V$SESSION",
        View::Process => "V$PROCESS",
        View::Instance => "V$INSTANCE",
        View::Database => "V$DATABASE",
        View::Dispatcher => "V$DISPATCHER",
        View::DispatcherConfig => "V$DISPATCHER_CONFIG",
        View::SharedServer => "V$SHARED_SERVER",
        View::Circuit => "V$CIRCUIT",
        View::Queue => "V$QUEUE",
        View::SharedServerMonitor => "V$SHARED_SERVER_MONITOR",
        View::Parameter => "V$PARAMETER",
        View::StatName => "V$STATNAME",
        View::MyStat => "V$MYSTAT",
        View::SesStat => "V$SESSTAT",
        View::SysStat => "V$SYSSTAT",
        View::SessionConnectInfo => "V$SESSION_CONNECT_INFO",
        View::CpoolStats => "V$CPOOL_STATS",
        View::CpoolCcStats => "V$CPOOL_CC_STATS",
        View::CpoolInfo => "DBA_CPOOL_INFO",
        View::CpoolConnInfo => "V$CPOOL_CONN_INFO",
    }
}

impl ViewQuery {
    fn sources(&self) -> Vec<Source> {
        let mut offset = 0;
        self.from
            .iter()
            .map(|(view, alias)| {
                let columns = view.columns();
                let s = Source {
                    alias: alias.clone(),
                    view: *view,
                    offset,
                    columns,
                };
                offset += s.columns.len();
                s
            })
            .collect()
    }

    fn resolve(&self, sources: &[Source], c: &ColRef) -> Result<usize, OraError> {
        let invalid = || {
            let shown = match &c.qualifier {
                Some(q) => format!("\"{q}\".\"{}\"", c.name),
                None => format!("\"{}\"", c.name),
            };
            err_with(904, &[&shown], c.at)
        };
        let mut found = None;
        for s in sources {
            if let Some(q) = &c.qualifier {
                let matches = s.alias.as_deref() == Some(q.as_str())
                    || (s.alias.is_none() && view_name(s.view) == q);
                if !matches {
                    continue;
                }
            }
            if let Some(i) = s.columns.iter().position(|col| col.name == c.name) {
                if found.is_some() {
                    return Err(err(918, c.at));
                }
                found = Some(s.offset + i);
            }
        }
        found.ok_or_else(invalid)
    }

    /// Runs the query over `snap`.
    pub fn execute(&self, snap: &Snapshot, ctx: &QueryContext) -> Result<ResultSet, OraError> {
        let sources = self.sources();
        let all_columns: Vec<Column> = sources.iter().flat_map(|s| s.columns.clone()).collect();
        // Output columns: (index into the combined row, reported column) or COUNT(*).
        let mut out: Vec<(Option<usize>, Column)> = Vec::new();
        for item in &self.items {
            match item {
                Item::Star => {
                    for (i, c) in all_columns.iter().enumerate() {
                        out.push((Some(i), c.clone()));
                    }
                }
                Item::QualifiedStar(q, at) => {
                    let s = sources
                        .iter()
                        .find(|s| {
                            s.alias.as_deref() == Some(q.as_str())
                                || (s.alias.is_none() && view_name(s.view) == q)
                        })
                        .ok_or_else(|| err_with(904, &[&format!("\"{q}\"")], *at))?;
                    for (i, c) in s.columns.iter().enumerate() {
                        out.push((Some(s.offset + i), c.clone()));
                    }
                }
                Item::Col(c, alias) => {
                    let i = self.resolve(&sources, c)?;
                    let mut col = all_columns[i].clone();
                    if let Some(a) = alias {
                        col.name = a.clone();
                    }
                    out.push((Some(i), col));
                }
                Item::CountStar(alias) => out.push((
                    None,
                    Column {
                        name: alias.clone().unwrap_or_else(|| "COUNT(*)".to_string()),
                        ty: ColumnType::Number,
                    },
                )),
            }
        }
        let has_count = out.iter().any(|(i, _)| i.is_none());
        if has_count && out.iter().any(|(i, _)| i.is_some()) {
            return Err(err(937, 0));
        }
        // Resolve the filter's column references up front (errors even on empty views).
        if let Some(f) = &self.filter {
            self.check_cond(&sources, f)?;
        }
        let tables: Vec<Vec<Vec<Cell>>> = sources
            .iter()
            .map(|s| match s.view {
                View::Session => snap.sessions.iter().map(session_cells).collect(),
                View::Process => snap.processes.iter().map(process_cells).collect(),
                View::Instance => snap.instance.iter().map(instance_cells).collect(),
                View::Database => snap.instance.iter().map(database_cells).collect(),
                View::Dispatcher => snap.dispatchers.iter().map(dispatcher_cells).collect(),
                View::DispatcherConfig => snap
                    .dispatcher_config
                    .iter()
                    .map(dispatcher_config_cells)
                    .collect(),
                View::SharedServer => snap
                    .shared_servers
                    .iter()
                    .map(shared_server_cells)
                    .collect(),
                View::Circuit => snap.circuits.iter().map(circuit_cells).collect(),
                View::Queue => snap.queues.iter().map(queue_cells).collect(),
                View::SharedServerMonitor => snap
                    .shared_server_monitor
                    .iter()
                    .map(shared_server_monitor_cells)
                    .collect(),
                View::Parameter => snap.parameters.iter().map(parameter_cells).collect(),
                View::StatName => STATISTICS
                    .iter()
                    .enumerate()
                    .map(|(i, (name, class))| {
                        vec![
                            int(i64::try_from(i).unwrap_or(0)),
                            text(name),
                            int(*class),
                            int(name_hash(name)),
                            text(name),
                            int(0),
                        ]
                    })
                    .collect(),
                View::SessionConnectInfo => snap
                    .connect_info
                    .iter()
                    .flat_map(|r| {
                        NETWORK_SERVICE_BANNERS.iter().map(move |banner| {
                            vec![
                                int(r.sid),
                                int(r.serial),
                                text("DATABASE"),
                                text(&r.osuser),
                                text(banner),
                                text("AL32UTF8"),
                                text("Heterogeneous"),
                                text("Unknown"),
                                text(&r.client_version),
                                text(&r.client_driver),
                                text("Client Temp Lob Rfc On"),
                                int(0),
                                int(0),
                            ]
                        })
                    })
                    .collect(),
                View::MyStat => stat_cells(snap.my_stats.iter()),
                View::SesStat => stat_cells(snap.session_stats.iter()),
                View::SysStat => snap
                    .system_stats
                    .iter()
                    .zip(STATISTICS.iter())
                    .enumerate()
                    .map(|(i, (v, (name, class)))| {
                        vec![
                            int(i64::try_from(i).unwrap_or(0)),
                            text(name),
                            int(*class),
                            big(*v),
                            int(name_hash(name)),
                            int(0),
                        ]
                    })
                    .collect(),
                View::CpoolStats => snap.cpool_stats.iter().map(cpool_stats_cells).collect(),
                View::CpoolCcStats => snap.cpool_classes.iter().map(cpool_class_cells).collect(),
                View::CpoolInfo => snap.cpool_info.iter().map(cpool_info_cells).collect(),
                View::CpoolConnInfo => snap.cpool_conns.iter().map(cpool_conn_cells).collect(),
            })
            .collect();
        let mut combined: Vec<Vec<Cell>> = vec![Vec::new()];
        for t in &tables {
            let mut next = Vec::new();
            for base in &combined {
                for row in t {
                    let mut r = base.clone();
                    r.extend(row.iter().cloned());
                    next.push(r);
                }
            }
            combined = next;
        }
        let mut rows = Vec::new();
        for mut r in combined {
            r.push(Cell::Int(i64::try_from(rows.len() + 1).unwrap_or(i64::MAX)));
            let keep = match &self.filter {
                Some(f) => self.eval(&sources, f, &r, ctx)? == Some(true),
                None => true,
            };
            if keep {
                rows.push(r);
            }
        }
        if has_count {
            let n = i64::try_from(rows.len()).unwrap_or(i64::MAX);
            return Ok(ResultSet {
                columns: out.into_iter().map(|(_, c)| c).collect(),
                rows: vec![vec![Cell::Int(n); self.items.len()]],
            });
        }
        if !self.order.is_empty() {
            let mut keys = Vec::new();
            for (k, desc) in &self.order {
                let idx = match k {
                    OrderKey::Col(c) => {
                        // A select-list alias first, then a view column.
                        match out
                            .iter()
                            .position(|(_, col)| c.qualifier.is_none() && col.name == c.name)
                        {
                            Some(p) => out[p].0.unwrap_or(0),
                            None => self.resolve(&sources, c)?,
                        }
                    }
                    OrderKey::Position(n, at) => {
                        if *n == 0 || *n > out.len() {
                            return Err(err(1785, *at));
                        }
                        out[*n - 1].0.unwrap_or(0)
                    }
                };
                keys.push((idx, *desc));
            }
            rows.sort_by(|a, b| {
                for (idx, desc) in &keys {
                    let (x, y) = (&a[*idx], &b[*idx]);
                    // NULLs sort last ascending, first descending (Oracle's default).
                    let o = match (x, y) {
                        (Cell::Null, Cell::Null) => Ordering::Equal,
                        (Cell::Null, _) => Ordering::Greater,
                        (_, Cell::Null) => Ordering::Less,
                        _ => x.compare(y).unwrap_or(Ordering::Equal),
                    };
                    let o = if *desc { o.reverse() } else { o };
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                Ordering::Equal
            });
        }
        let mut rows: Vec<Vec<Cell>> = rows
            .into_iter()
            .map(|r| {
                out.iter()
                    .map(|(i, _)| i.map_or(Cell::Null, |i| r[i].clone()))
                    .collect()
            })
            .collect();
        if self.distinct {
            let mut seen = std::collections::HashSet::new();
            rows.retain(|r| seen.insert(r.clone()));
        }
        Ok(ResultSet {
            rows,
            columns: out.into_iter().map(|(_, c)| c).collect(),
        })
    }

    fn check_cond(&self, sources: &[Source], c: &Cond) -> Result<(), OraError> {
        let op = |o: &Operand| match o {
            Operand::Col(c) => self.resolve(sources, c).map(|_| ()),
            _ => Ok(()),
        };
        match c {
            Cond::Cmp(a, _, b) => op(a).and_then(|()| op(b)),
            Cond::In(a, list, _) => {
                op(a)?;
                list.iter().try_for_each(op)
            }
            Cond::IsNull(a, _) => op(a),
            Cond::And(a, b) | Cond::Or(a, b) => {
                self.check_cond(sources, a)?;
                self.check_cond(sources, b)
            }
        }
    }

    fn value(
        &self,
        sources: &[Source],
        o: &Operand,
        row: &[Cell],
        ctx: &QueryContext,
    ) -> Result<Cell, OraError> {
        Ok(match o {
            Operand::Col(c) => row[self.resolve(sources, c)?].clone(),
            Operand::Lit(v) => v.clone(),
            Operand::Bind(name, at) => ctx
                .binds
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .ok_or_else(|| err(1008, *at))?,
            // The candidate row number rides as the row's last cell (see `execute`).
            Operand::Rownum => row.last().cloned().unwrap_or(Cell::Null),
            Operand::UserEnv(p) => ctx
                .userenv
                .iter()
                .find(|(n, _)| n == p)
                .map_or(Cell::Null, |(_, v)| text(v)),
        })
    }

    fn eval(
        &self,
        sources: &[Source],
        c: &Cond,
        row: &[Cell],
        ctx: &QueryContext,
    ) -> Result<Option<bool>, OraError> {
        Ok(match c {
            Cond::Cmp(a, op, b) => {
                let (x, y) = (
                    self.value(sources, a, row, ctx)?,
                    self.value(sources, b, row, ctx)?,
                );
                x.compare(&y).map(|o| match *op {
                    "=" => o == Ordering::Equal,
                    "<>" => o != Ordering::Equal,
                    "<" => o == Ordering::Less,
                    "<=" => o != Ordering::Greater,
                    ">" => o == Ordering::Greater,
                    _ => o != Ordering::Less,
                })
            }
            Cond::In(a, list, not) => {
                let x = self.value(sources, a, row, ctx)?;
                let mut any_unknown = false;
                let mut found = false;
                for o in list {
                    match x.compare(&self.value(sources, o, row, ctx)?) {
                        Some(Ordering::Equal) => found = true,
                        None => any_unknown = true,
                        _ => {}
                    }
                }
                match (found, any_unknown, not) {
                    (true, _, false) => Some(true),
                    (true, _, true) => Some(false),
                    (false, true, _) => None,
                    (false, false, n) => Some(*n),
                }
            }
            Cond::IsNull(a, not) => {
                let is_null = self.value(sources, a, row, ctx)? == Cell::Null;
                Some(is_null != *not)
            }
            Cond::And(a, b) => match (
                self.eval(sources, a, row, ctx)?,
                self.eval(sources, b, row, ctx)?,
            ) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            },
            Cond::Or(a, b) => match (
                self.eval(sources, a, row, ctx)?,
                self.eval(sources, b, row, ctx)?,
            ) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
        })
    }
}
