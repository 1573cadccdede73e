//! What the session engine needs from the instance: session slots (SID, SERIAL#), kill
//! checks and the instance's names. The instance (SGA) implements
//! [`InstanceHooks`] for real; [`LocalInstance`] is the in-process default used when a
//! dedicated server runs from a static SID_DESC with no instance, and in tests.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::OraError;
use crate::rows::InstanceState;
use crate::views::{AlterSystem, Snapshot, View};

/// Who is logging in (from the AUTH key/values).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionInfo {
    /// Database user (upper case).
    pub user: String,
    /// Client program (`AUTH_PROGRAM_NM`).
    pub program: String,
    /// Client machine (`AUTH_MACHINE`).
    pub machine: String,
    /// Client OS user (`AUTH_SID`).
    pub osuser: String,
    /// Client terminal (`AUTH_TERMINAL`).
    pub terminal: String,
    /// Client process id (`AUTH_PID`).
    pub process: String,
    /// Service the session connected to.
    pub service_name: String,
    /// MODULE (end-to-end attribute; defaults to the program).
    pub module: String,
    /// ACTION.
    pub action: String,
    /// CLIENT_IDENTIFIER.
    pub client_identifier: String,
    /// CLIENT_INFO.
    pub client_info: String,
    /// An AS SYSDBA / SYSOPER login: the instance admits it while it is started or mounted
    /// and not open, where other logins get ORA-01033.
    pub administrative: bool,
}

/// Where `ALTER DATABASE` takes the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseStage {
    /// `ALTER DATABASE MOUNT` (V$INSTANCE.STATUS STARTED → MOUNTED).
    Mount,
    /// `ALTER DATABASE OPEN` (MOUNTED → OPEN).
    Open,
}

/// A session's identity in the instance: `V$SESSION.SID` and `SERIAL#`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionSlot {
    /// SID.
    pub sid: u32,
    /// SERIAL#.
    pub serial: u32,
}

/// The system privilege that allows `ALTER SYSTEM` (granted in the password file with
/// `oradb user add NAME --grant alter-system`).
pub const GRANT_ALTER_SYSTEM: &str = "ALTER_SYSTEM";
/// The system privilege that lets a user log in while logins are restricted (`STARTUP
/// RESTRICT`, `ALTER SYSTEM ENABLE RESTRICTED SESSION`); `oradb user add NAME --grant
/// restricted-session`. SYSDBA and SYSOPER logins hold it implicitly, as in Oracle.
pub const GRANT_RESTRICTED_SESSION: &str = "RESTRICTED_SESSION";
/// Grant prefix: `CONNECT_THROUGH_<PROXY>` held by a user lets `<PROXY>` log in as them
/// (`ALTER USER client GRANT CONNECT THROUGH proxy`; `oradb user add --connect-through`).
pub const GRANT_CONNECT_THROUGH: &str = "CONNECT_THROUGH_";

/// Where user verifiers come from.
pub trait Credentials: Send + Sync {
    /// The 12c verifier of `user` (already normalised), if the user exists.
    fn verifier(&self, user: &str) -> Option<tns::o5logon::Verifier>;
    /// The administrative privileges of `user` (`SYSDBA`, `SYSOPER`, `ALTER_SYSTEM`, ...).
    fn grants(&self, user: &str) -> Vec<String> {
        let _ = user;
        Vec::new()
    }
    /// Replaces the verifiers of `user` with ones derived from `password`
    /// (`connection.changepassword()`, or a login with a new password).
    fn set_password(&self, user: &str, password: &[u8]) -> Result<(), OraError> {
        let _ = (user, password);
        Err(OraError::new(1031, 0))
    }
}

/// The instance side of a session.
pub trait InstanceHooks: Send + Sync {
    /// Allocates a session slot at login (ORA-00018 when full, ORA-01034 when down).
    fn open_session(&self, info: &SessionInfo) -> Result<SessionSlot, OraError>;
    /// True while logins are restricted (V$INSTANCE.LOGINS = RESTRICTED): a login without
    /// RESTRICTED SESSION gets ORA-01035. The default (no SGA) never restricts.
    fn logins_restricted(&self) -> bool {
        false
    }
    /// Frees the slot at logoff or disconnect.
    fn close_session(&self, slot: SessionSlot);
    /// True when `ALTER SYSTEM KILL SESSION` marked the session.
    fn is_killed(&self, slot: SessionSlot) -> bool {
        let _ = slot;
        false
    }
    /// The error the current or next call of `slot` gets because the session was ended
    /// from outside: ORA-00028 after `ALTER SYSTEM KILL SESSION`, ORA-01089 during
    /// `SHUTDOWN IMMEDIATE`. `None` while the session may go on.
    fn call_error(&self, slot: SessionSlot) -> Option<OraError> {
        self.is_killed(slot).then(|| OraError::new(28, 0))
    }
    /// The rows of `views` as they are now, for a V$ query the engine evaluates. The
    /// default (no SGA) has no V$ views: ORA-00942.
    fn snapshot(&self, views: &[View]) -> Result<Snapshot, OraError> {
        let _ = views;
        Err(OraError::new(942, 0))
    }
    /// Carries out `ALTER SYSTEM` for the session `me` (the engine has checked the
    /// privilege): kill or disconnect a session, register with the listener. The default
    /// (no SGA) cannot.
    fn alter_system(&self, me: SessionSlot, command: &AlterSystem) -> Result<(), OraError> {
        let _ = (me, command);
        Err(OraError::new(1031, 0))
    }
    /// Carries out a `DBMS_CONNECTION_POOL` call for the session `me` (the engine has
    /// checked the privilege). The default (no SGA) has no pool: ORA-56500.
    fn connection_pool(
        &self,
        me: SessionSlot,
        call: &crate::sql::cpool::PoolCall,
    ) -> Result<(), OraError> {
        let _ = (me, call);
        Err(OraError::new(56500, 0))
    }
    /// A DRCP pooled server gave a client a session of connection class `class`
    /// (`USER.CLASS`): reused as it was (`hit`) or new; `login` when the client logged in
    /// for it (V$CPOOL_STATS, V$CPOOL_CC_STATS). The default counts nothing.
    fn pool_request(&self, class: &str, hit: bool, login: bool) {
        let _ = (class, hit, login);
    }
    /// DRCP: a login on a pooled server whose own session cannot serve it (another user or
    /// class, or none) asks the pool for a free pooled server holding a session of `user`
    /// and connection class `class`. The pool keeps that server for this client and gives
    /// its session's slot; the client moves there once its login is answered. `None`: no
    /// such server (the login is served where it is). The default has no pool.
    fn claim_pooled_session(&self, user: &str, class: &str) -> Option<SessionSlot> {
        let _ = (user, class);
        None
    }
    /// V$SESSION.AUDSID of `slot` (`USERENV('SESSIONID')`); the default uses the SID.
    fn audsid(&self, slot: SessionSlot) -> Option<u64> {
        let _ = slot;
        None
    }
    /// Marks the session ACTIVE (in a call) or INACTIVE.
    fn set_active(&self, slot: SessionSlot, active: bool) {
        let _ = (slot, active);
    }
    /// The client changed MODULE / ACTION / CLIENT_IDENTIFIER / CLIENT_INFO (V$SESSION).
    fn set_app_info(&self, slot: SessionSlot, info: &SessionInfo) {
        let _ = (slot, info);
    }
    /// The session's statistics (by STATISTIC# of [`crate::rows::STATISTICS`]) after a call,
    /// for other sessions' V$SESSTAT and the instance's V$SYSSTAT. The default (no SGA)
    /// keeps none.
    fn publish_stats(&self, slot: SessionSlot, values: &[u64]) {
        let _ = (slot, values);
    }
    /// The instance's shared SQL area, where sessions find statements another session
    /// parsed. The default (no SGA): none, each session parses for itself.
    fn shared_sql(&self) -> Option<&crate::session::shared_sql::SharedSql> {
        None
    }
    /// V$INSTANCE.STATUS now. While the database is not open a session (an AS SYSDBA or
    /// SYSOPER one: no other is admitted) may query fixed views only (ORA-01219 for
    /// anything else). The default (no SGA) is always open.
    fn instance_state(&self) -> InstanceState {
        InstanceState::Open
    }
    /// Carries out `ALTER DATABASE MOUNT | OPEN` (the engine has checked that the session
    /// is AS SYSDBA / SYSOPER), with Oracle's refusals for the wrong state. The default (no
    /// SGA) is open already: ORA-01100 to mount, ORA-01531 to open.
    fn alter_database(&self, to: DatabaseStage) -> Result<(), OraError> {
        Err(OraError::new(
            match to {
                DatabaseStage::Mount => 1100,
                DatabaseStage::Open => 1531,
            },
            0,
        ))
    }
    /// `INSTANCE_NAME`.
    fn instance_name(&self) -> String;
    /// `DB_NAME`.
    fn db_name(&self) -> String {
        self.instance_name()
    }
}

/// In-process instance: hands out SIDs from a counter and remembers kills.
#[derive(Debug)]
pub struct LocalInstance {
    name: String,
    next_sid: AtomicU32,
    open: Mutex<Vec<SessionSlot>>,
    killed: Mutex<Vec<SessionSlot>>,
}

impl LocalInstance {
    /// An instance called `name` whose first SID is `first_sid`.
    pub fn new(name: impl Into<String>, first_sid: u32) -> Self {
        LocalInstance {
            name: name.into(),
            next_sid: AtomicU32::new(first_sid.max(1)),
            open: Mutex::new(Vec::new()),
            killed: Mutex::new(Vec::new()),
        }
    }

    /// Sessions currently open.
    pub fn open_sessions(&self) -> Vec<SessionSlot> {
        self.open.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Marks a session killed (what `ALTER SYSTEM KILL SESSION 'sid,serial#'` does).
    pub fn kill(&self, slot: SessionSlot) {
        if let Ok(mut k) = self.killed.lock() {
            k.push(slot);
        }
    }
}

impl InstanceHooks for LocalInstance {
    fn open_session(&self, _info: &SessionInfo) -> Result<SessionSlot, OraError> {
        let sid = self.next_sid.fetch_add(1, Ordering::Relaxed);
        let slot = SessionSlot {
            sid,
            serial: sid.wrapping_mul(7919) % 65_000 + 1,
        };
        if let Ok(mut o) = self.open.lock() {
            o.push(slot);
        }
        Ok(slot)
    }

    fn close_session(&self, slot: SessionSlot) {
        if let Ok(mut o) = self.open.lock() {
            o.retain(|s| *s != slot);
        }
    }

    fn is_killed(&self, slot: SessionSlot) -> bool {
        self.killed.lock().is_ok_and(|k| k.contains(&slot))
    }

    fn instance_name(&self) -> String {
        self.name.clone()
    }
}
