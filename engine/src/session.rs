//! The sans-I/O session engine: TTC requests in, TTC responses out, no sockets and no clock.
//!
//! The dedicated loop feeds it the payload of each DATA packet and performs the [`Action`]s
//! it returns (send, break-then-send, wait, close); a shared server will do the same from a
//! request queue. State: the negotiation phase, the logged-in user and session slot, the
//! cursors (ids, cached statements, fetch positions) and the transaction flag.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tns::o5logon::{self, ServerChallenge, Verifier};
use tns::ttc::buf::{KeyValue, TtcError, Writer};
use tns::ttc::message::ColumnMetadata;
use tns::ttc::message::{
    ErrorInfo, KEYWORD_CURRENT_SCHEMA, ProtocolReply, SERVER_FIELD_VERSION, call_status,
    encode_data_types_reply, encode_describe_info, encode_parameter_pairs, encode_parameters,
    encode_return_parameters, encode_row_header, encode_status, encode_time_zone_offset,
    exec_option,
};
use tns::ttc::request::{
    Auth, BindMetadata, BindValue, Call, DecodeContext, Execute, Piggyback, Request, RequestDecoder,
};
use tns::ttc::types::{DateTime, Decimal, ora_type};

use crate::error::pls_line;
use crate::views::{self, Cell, ColumnType, QueryContext};

pub use crate::port::{
    Credentials, GRANT_ALTER_SYSTEM, GRANT_CONNECT_THROUGH, GRANT_RESTRICTED_SESSION,
    InstanceHooks, LocalInstance, SessionInfo, SessionSlot,
};

use crate::sql::eval::{EvalContext, QueryPlan, Value, plan_query};
use crate::sql::{self, OraError, Statement};

pub mod drcp;
mod lob;
mod plsql;
pub mod shared_sql;

/// Administrative connection modes (AUTH mode bits) and the grant each needs.
const ADMIN_MODES: [(u32, &str); 7] = [
    (0x20, "SYSDBA"),
    (0x40, "SYSOPER"),
    (0x40_0000, "SYSASM"),
    (0x100_0000, "SYSBACKUP"),
    (0x200_0000, "SYSDG"),
    (0x400_0000, "SYSKM"),
    (0x800_0000, "SYSRAC"),
];

/// Fixed facts about the server the engine reports.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Service the client connected to (`AUTH_SC_SERVICE_NAME`, `SERVICE_NAME`).
    pub service_name: String,
    /// DB domain.
    pub db_domain: String,
    /// `SERVER_HOST`.
    pub server_host: String,
    /// `AUTH_MAX_OPEN_CURSORS`.
    pub max_open_cursors: u32,
}

/// A user name as Oracle stores it: upper case unless quoted (`"scott"` stays `scott`).
pub fn normalize_user(name: &str) -> String {
    match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
        Some(q) => q.to_owned(),
        None => name.to_uppercase(),
    }
}

/// Oracle version reported to clients: 19.3.0.0.0.
pub const VERSION: (u32, u32, u32, u32, u32) = (19, 3, 0, 0, 0);

fn packed_version(fv: u8) -> u32 {
    let (ma, mi, up, re, po) = VERSION;
    if fv >= 11 {
        (ma << 24) | (mi << 16) | (up << 12) | (re << 4) | po
    } else {
        (ma << 24) | (mi << 20) | (up << 12) | (re << 8) | po
    }
}

/// A source of random bytes (session keys, salts).
pub type RandomSource = Box<dyn FnMut(&mut [u8]) + Send>;

/// What the transport must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send these TTC bytes as DATA packets.
    Send(Vec<u8>),
    /// Send MARKER BREAK, MARKER RESET, then these TTC bytes (error after a break).
    BreakAndSend(Vec<u8>),
    /// Wait this long (watching for a client break), then call [`Session::on_timer`].
    Sleep(Duration),
    /// Close the connection (after the sends before it).
    Close,
    /// The call is computing (a query burning CPU): look for a client break without
    /// blocking, then call [`Session::on_work`] for the next slice.
    Busy,
    /// A pooled server's client released the session (DRCP's one-way SESSION_RELEASE, no
    /// answer): the connection goes back to the broker, the session stays with the server.
    /// `deauthenticate`: the client also logged out (a standalone connection's close).
    Release {
        /// Release mode bit `0x2`.
        deauthenticate: bool,
    },
}

/// Execute flag (al8i4\[9\]) of a scrollable cursor.
const EXEC_FLAG_SCROLLABLE: u32 = 0x02;
/// Fetch orientation FIRST (al8i4\[10\]).
const FETCH_FIRST: u32 = 0x04;
/// Fetch orientation LAST.
const FETCH_LAST: u32 = 0x08;

/// Rows of an aggregate walked per [`Session::on_work`] slice.
const WORK_SLICE: u64 = 1 << 20;

#[derive(Debug)]
enum Phase {
    Protocol,
    DataTypes,
    AuthOne,
    AuthTwo(Box<PendingLogin>),
    LoggedOn,
    LoggedOff,
}

#[derive(Debug)]
struct PendingLogin {
    user: String,
    known: bool,
    challenge: ServerChallenge,
    info: SessionInfo,
}

#[derive(Debug)]
struct Cursor {
    binds: Vec<BindMetadata>,
    /// The client's defines (the types it wants the columns in: a CLOB as LONG when
    /// python-oracledb's `fetch_lobs` is off); empty until it sends them.
    defines: Vec<BindMetadata>,
    stmt: Arc<Prepared>,
    plan: Option<QueryPlan>,
    position: u64,
    ctx: Option<EvalContext>,
}

/// A parsed statement as a cursor keeps it: shared, so that executing the cursor again
/// copies no tree, and with what every execution asks of it worked out once, at parse.
#[derive(Debug)]
struct Prepared {
    stmt: Statement,
    /// [`Statement::reads_userenv`].
    reads_userenv: bool,
}

impl Prepared {
    fn new(stmt: Statement) -> Arc<Prepared> {
        let reads_userenv = stmt.reads_userenv();
        Arc::new(Prepared {
            stmt,
            reads_userenv,
        })
    }
}

/// One session.
pub struct Session {
    cfg: SessionConfig,
    creds: Arc<dyn Credentials>,
    inst: Arc<dyn InstanceHooks>,
    decoder: RequestDecoder,
    dctx: DecodeContext,
    phase: Phase,
    user: String,
    /// The proxy that logged in for `user` (`proxy[user]`): `SYS_CONTEXT('USERENV',
    /// 'PROXY_USER')`.
    proxy_user: Option<String>,
    current_schema: String,
    /// Session time zone (from `AUTH_ALTER_SESSION` / `ALTER SESSION SET TIME_ZONE`).
    tz_offset_minutes: i16,
    /// NLS settings of format models (`ALTER SESSION SET NLS_DATE_FORMAT`, ...), shared
    /// with the evaluation contexts of the calls (replaced, never changed in place).
    nls: Arc<sql::format::Nls>,
    /// Application contexts set by the client (AUTH_APPCTX_* at login, piggyback 154):
    /// (namespace, attribute, value), names upper case. Shared with the evaluation
    /// contexts of the calls: changed through `Arc::make_mut`, which copies them first
    /// while a context (a cursor's, a running block's) still holds them.
    contexts: Arc<Vec<(String, String, String)>>,
    slot: Option<SessionSlot>,
    info: SessionInfo,
    cursors: HashMap<u32, Cursor>,
    next_cursor: u32,
    txn: bool,
    pending: Option<Vec<u8>>,
    /// The request being received could not be decoded: its remaining packets are dropped
    /// (see [`Session::on_request_packet`]).
    discarding: bool,
    work: u64,
    /// The O5LOGON combined key of the login (passwords of a later change are under it).
    combo_key: Option<Vec<u8>>,
    random: RandomSource,
    /// Wall-clock time of the call being handled (SYSDATE), given by the driver.
    now: SystemTime,
    /// Set on a DRCP pooled server's session (see [`drcp`]).
    pooled: Option<drcp::Pooled>,
    /// The session's statistics (V$MYSTAT), by STATISTIC# of [`crate::rows::STATISTICS`].
    stats: [u64; crate::rows::STATISTICS.len()],
    /// The client's driver name and version from the login (V$SESSION_CONNECT_INFO).
    client_driver: (String, String),
    /// DBMS_OUTPUT's buffer, while enabled.
    output: Option<plsql::DbmsOutput>,
    /// Seconds the PL/SQL block being run asked to sleep (DBMS_SESSION.SLEEP).
    plsql_sleep: f64,
    /// The PL/SQL block whose call is running in slices ([`Action::Busy`]).
    plsql_call: Option<Box<plsql::RunningBlock>>,
    /// The session's temporary LOBs.
    lobs: lob::TempLobs,
}

/// STATISTIC# of the statistics the session counts (positions in
/// [`crate::rows::STATISTICS`], checked by a test).
mod stat {
    pub(super) const LOGONS_CUMULATIVE: usize = 0;
    pub(super) const LOGONS_CURRENT: usize = 1;
    pub(super) const OPENED_CURSORS_CUMULATIVE: usize = 2;
    pub(super) const OPENED_CURSORS_CURRENT: usize = 3;
    pub(super) const USER_CALLS: usize = 4;
    pub(super) const EXECUTE_COUNT: usize = 5;
    pub(super) const PARSE_COUNT: usize = 6;
    pub(super) const BYTES_SENT: usize = 7;
    pub(super) const BYTES_RECEIVED: usize = 8;
    pub(super) const ROUNDTRIPS: usize = 9;
}

/// A session that goes away (logoff, lost connection, a circuit dropped while its request
/// was out) frees its slot in the instance.
impl Drop for Session {
    fn drop(&mut self) {
        self.on_disconnect();
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("phase", &self.phase)
            .field("user", &self.user)
            .field("slot", &self.slot)
            .field("cursors", &self.cursors.len())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A session in its initial state (waiting for the PROTOCOL message). `random` fills
    /// session keys and salts: the driver injects the OS's generator, tests a seeded one.
    pub fn new(
        cfg: SessionConfig,
        creds: Arc<dyn Credentials>,
        inst: Arc<dyn InstanceHooks>,
        mut random: RandomSource,
    ) -> Self {
        let mut tag = [0u8; 8];
        random(&mut tag);
        Session {
            cfg,
            creds,
            inst,
            decoder: RequestDecoder::new(),
            dctx: DecodeContext {
                returning_binds: Some(sql::returning_bind_count),
                ..DecodeContext::default()
            },
            phase: Phase::Protocol,
            user: String::new(),
            proxy_user: None,
            current_schema: String::new(),
            tz_offset_minutes: 0,
            nls: Arc::default(),
            contexts: Arc::default(),
            slot: None,
            info: SessionInfo::default(),
            cursors: HashMap::new(),
            next_cursor: 1,
            txn: false,
            pending: None,
            discarding: false,
            work: 0,
            combo_key: None,
            random,
            now: UNIX_EPOCH,
            stats: [0; crate::rows::STATISTICS.len()],
            client_driver: (String::new(), String::new()),
            output: None,
            plsql_sleep: 0.0,
            plsql_call: None,
            pooled: None,
            lobs: lob::TempLobs::new(u64::from_be_bytes(tag)),
        }
    }

    /// Sets the wall-clock time the next calls see as SYSDATE (the engine reads no clock).
    pub fn set_now(&mut self, now: SystemTime) {
        self.now = now;
    }

    /// The session slot once logged in.
    pub fn slot(&self) -> Option<SessionSlot> {
        self.slot
    }

    /// True while a call waits for [`Self::on_timer`].
    pub fn is_waiting(&self) -> bool {
        self.pending.is_some() || self.plsql_call.is_some()
    }

    /// True between a successful login and LOGOFF.
    pub fn logged_on(&self) -> bool {
        matches!(self.phase, Phase::LoggedOn)
    }

    /// True after LOGOFF.
    pub fn logged_off(&self) -> bool {
        matches!(self.phase, Phase::LoggedOff)
    }

    /// The negotiated TTC field version (0 before negotiation).
    pub fn field_version(&self) -> u8 {
        self.dctx.field_version
    }

    /// Feeds the payload of one DATA packet whose place in the request is not known (tests
    /// and tools); returns what to do.
    pub fn on_data(&mut self, payload: &[u8]) -> Vec<Action> {
        self.receive(payload);
        let mut out = self.drain();
        self.announce_session(&mut out);
        out
    }

    fn receive(&mut self, payload: &[u8]) {
        if self.logged_on() {
            self.stats[stat::BYTES_RECEIVED] += payload.len() as u64;
        }
        self.decoder.push(payload);
    }

    /// Feeds the payload of one DATA packet of a connection; `ends_request` is true when the
    /// packet is shorter than the SDU. Clients fill every packet of a request to the SDU but
    /// the last, so a short packet ends the client's request: if the bytes so far are not a
    /// whole request, no more will come, and the request is answered with ORA-03137 instead
    /// of waiting for ever (a bind shape or call this decoder does not know). After a
    /// request that could not be decoded, the rest of it (up to its short packet) is
    /// dropped rather than read as new requests.
    pub fn on_request_packet(&mut self, payload: &[u8], ends_request: bool) -> Vec<Action> {
        if self.discarding {
            self.discarding = !ends_request;
            return Vec::new();
        }
        self.receive(payload);
        let mut out = self.drain();
        self.announce_session(&mut out);
        if ends_request {
            self.discarding = false;
            if self.logged_on() && self.pending.is_none() && self.decoder.pending() > 0 {
                self.decoder.clear();
                out.push(self.error_bytes_action(ttc_error(&TtcError::NeedMore {
                    reading: "a request that ended before it was complete",
                    needed: 1,
                })));
            }
        }
        out
    }

    fn drain(&mut self) -> Vec<Action> {
        let mut out = Vec::new();
        while !self.is_waiting() {
            match self.decoder.next_request(&self.dctx) {
                Ok(Some(req)) => {
                    let counted = self.logged_on() && matches!(req, Request::Call { .. });
                    let one_way = matches!(
                        &req,
                        Request::Call {
                            call: Call::SessionRelease { .. },
                            ..
                        }
                    );
                    let acts = self.handle(req);
                    if counted && !one_way {
                        self.stats[stat::ROUNDTRIPS] += 1;
                        self.stats[stat::USER_CALLS] += 1;
                    }
                    self.count_sent(&acts);
                    let stop = acts
                        .iter()
                        .any(|a| matches!(a, Action::Close | Action::Release { .. }));
                    out.extend(acts);
                    if stop {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    out.push(self.error_bytes_action(ttc_error(&e)));
                    // Before login nothing but the login exchange is accepted: a client that
                    // sends anything else is refused and the connection closed, so an
                    // unauthenticated peer cannot make the server buffer or parse more. A
                    // request over the cap closes in every phase: the rest of it would
                    // otherwise be read as new requests.
                    if !self.logged_on() || matches!(e, TtcError::TooLarge { .. }) {
                        out.push(Action::Close);
                    } else {
                        self.discarding = true;
                    }
                    break;
                }
            }
        }
        self.publish_stats();
        out
    }

    /// The session's statistics as V$MYSTAT shows them.
    fn stat_values(&self) -> Vec<u64> {
        let mut values = self.stats.to_vec();
        values[stat::OPENED_CURSORS_CURRENT] = self.cursors.len() as u64;
        values
    }

    /// Hands the statistics to the instance (V$SESSTAT, V$SYSSTAT), so that every
    /// transport's sessions are seen alike.
    fn publish_stats(&self) {
        if let Some(slot) = self.slot {
            self.inst.publish_stats(slot, &self.stat_values());
        }
    }

    /// Runs the next slice of a computing call ([`Action::Busy`]); when the work is done the
    /// pending reply is sent and buffered requests go on.
    pub fn on_work(&mut self) -> Vec<Action> {
        if let Some(running) = self.plsql_call.take() {
            let mut out = self.step_plsql(running);
            self.count_sent(&out);
            if !self.is_waiting() {
                self.set_active(false);
                out.extend(self.drain());
            }
            return out;
        }
        if self.pending.is_none() {
            self.work = 0;
            return self.drain();
        }
        let slice = self.work.min(WORK_SLICE);
        crate::sql::eval::burn(slice);
        self.work -= slice;
        if self.work > 0 {
            return vec![Action::Busy];
        }
        self.on_timer()
    }

    /// The wait requested by [`Action::Sleep`] is over: send the pending reply and go on.
    pub fn on_timer(&mut self) -> Vec<Action> {
        let mut out = Vec::new();
        if let Some(bytes) = self.pending.take() {
            self.set_active(false);
            self.stats[stat::BYTES_SENT] += bytes.len() as u64;
            out.push(Action::Send(bytes));
        }
        out.extend(self.drain());
        out
    }

    /// Called by the transport while it waits for an [`Action::Sleep`]: if the session was
    /// killed meanwhile (or the instance is shutting down), the waiting call ends at once
    /// with that error (ORA-00028 / ORA-01089) and the connection closes. Empty otherwise.
    pub fn on_kill_check(&mut self) -> Vec<Action> {
        let Some(slot) = self.slot else {
            return Vec::new();
        };
        if !self.is_waiting() {
            return Vec::new();
        }
        let Some(e) = self.inst.call_error(slot) else {
            return Vec::new();
        };
        self.pending = None;
        self.plsql_call = None;
        let a = self.error_bytes_action(e.info());
        self.on_disconnect();
        vec![a, Action::Close]
    }

    /// The client sent a BREAK or INTERRUPT marker: cancel the current call and answer
    /// BREAK, RESET, ORA-01013 (one reply per episode).
    pub fn on_break(&mut self) -> Vec<Action> {
        self.pending = None;
        self.plsql_call = None;
        self.discarding = false;
        self.work = 0;
        self.decoder.clear();
        self.set_active(false);
        let mut w = Writer::new();
        OraError::new(1013, 0).info().encode(&mut w, self.fv());
        vec![Action::BreakAndSend(w.into_bytes())]
    }

    /// The connection is gone: free the session slot.
    pub fn on_disconnect(&mut self) {
        self.lobs.clear();
        if let Some(slot) = self.slot.take() {
            self.inst.close_session(slot);
        }
    }

    fn fv(&self) -> u8 {
        self.dctx.field_version
    }

    /// Counts what the session sends (V$MYSTAT `bytes sent via SQL*Net to client`: the TTC
    /// bytes of its replies).
    fn count_sent(&mut self, acts: &[Action]) {
        if !self.logged_on() {
            return;
        }
        for a in acts {
            if let Action::Send(b) | Action::BreakAndSend(b) = a {
                self.stats[stat::BYTES_SENT] += b.len() as u64;
            }
        }
    }

    fn set_active(&self, active: bool) {
        if let Some(s) = self.slot {
            self.inst.set_active(s, active);
        }
    }

    fn error_bytes_action(&self, info: ErrorInfo) -> Action {
        let mut w = Writer::new();
        info.encode(&mut w, self.fv());
        Action::Send(w.into_bytes())
    }

    /// The answer to a statement that returns no rows: success (with the call status) or the
    /// error it ended with.
    fn outcome_action(&self, done: Result<(), OraError>) -> Action {
        match done {
            Ok(()) => self.error_bytes_action(ErrorInfo {
                call_status: self.call_status(),
                ..ErrorInfo::default()
            }),
            Err(e) => self.error_bytes_action(self.ora(&e)),
        }
    }

    fn ora(&self, e: &OraError) -> ErrorInfo {
        ErrorInfo {
            error_pos: i16::try_from(e.offset).unwrap_or(0),
            call_status: self.call_status(),
            ..e.info()
        }
    }

    /// `user` holds `privilege` in the password file (grants of `oradb user add --grant`).
    fn has_grant(&self, user: &str, privilege: &str) -> bool {
        self.creds.grants(user).iter().any(|g| g == privilege)
    }

    /// This session may run ALTER SYSTEM and DBMS_CONNECTION_POOL: SYS (an AS SYSDBA session)
    /// holds every system privilege, as in Oracle; others need the grant.
    fn may_alter_system(&self) -> bool {
        self.user == "SYS" || self.has_grant(&self.user, GRANT_ALTER_SYSTEM)
    }

    fn call_status(&self) -> u32 {
        if self.txn {
            call_status::TXN_IN_PROGRESS
        } else {
            0
        }
    }

    fn handle(&mut self, req: Request) -> Vec<Action> {
        match (req, &self.phase) {
            (Request::Protocol(_), Phase::Protocol) => {
                let mut w = Writer::new();
                ProtocolReply::server_default().encode(&mut w);
                self.phase = Phase::DataTypes;
                vec![Action::Send(w.into_bytes())]
            }
            (Request::DataTypes(dt), Phase::DataTypes) => {
                let client_fv = dt
                    .compile_caps
                    .get(tns::ttc::message::CCAP_FIELD_VERSION)
                    .copied()
                    .unwrap_or(SERVER_FIELD_VERSION);
                self.dctx.field_version = client_fv.min(SERVER_FIELD_VERSION);
                let db_tz = dt
                    .wants_time_zone()
                    .then(|| encode_time_zone_offset(sql::eval::DB_TIME_ZONE_MINUTES));
                let mut w = Writer::new();
                encode_data_types_reply(&mut w, db_tz.as_ref(), &[]);
                self.phase = Phase::AuthOne;
                vec![Action::Send(w.into_bytes())]
            }
            (
                Request::Call {
                    piggybacks, call, ..
                },
                _,
            ) => {
                for p in piggybacks {
                    self.piggyback(p);
                }
                self.call(call)
            }
            (other, _) => {
                let what = match other {
                    Request::Protocol(_) => "PROTOCOL",
                    Request::DataTypes(_) => "DATA_TYPES",
                    Request::Call { .. } => "call",
                };
                let e = OraError::with_args(3137, &[&format!("{what} out of sequence")], 0);
                vec![self.error_bytes_action(e.info())]
            }
        }
    }

    fn piggyback(&mut self, p: Piggyback) {
        match p {
            Piggyback::CloseCursors(ids) => {
                for id in ids {
                    self.cursors.remove(&id);
                    self.dctx.cursor_binds.remove(&id);
                }
            }
            Piggyback::SetSchema(schema) => {
                self.current_schema = normalize_user(&schema);
            }
            Piggyback::KeyValues(set) => self.set_context(&set),
            // Request boundaries and pipelining change nothing a session of this server
            // keeps.
            Piggyback::SessionState(_) | Piggyback::PipelineBegin(_) => {}
            Piggyback::FreeTemporaryLobs(op) => self.lobs.free_all(&op.locator),
            Piggyback::EndToEnd(e) => {
                let set = |field: &mut String, v: Option<Option<String>>| {
                    if let Some(v) = v {
                        *field = v.unwrap_or_default();
                    }
                };
                set(&mut self.info.module, e.module);
                set(&mut self.info.action, e.action);
                set(&mut self.info.client_identifier, e.client_identifier);
                set(&mut self.info.client_info, e.client_info);
                if let Some(slot) = self.slot {
                    self.inst.set_app_info(slot, &self.info);
                }
            }
        }
    }

    /// Piggyback 154: `SET` replaces a namespace's attributes, `CLEAR` empties it; the
    /// client's own session keys (`ORA$HA`, flag 0x20) are not an application context.
    fn set_context(&mut self, set: &tns::ttc::request::KeyValueSet) {
        const SET: u16 = 0x01;
        const CLEAR: u16 = 0x02;
        const SESSION_KEYS: u16 = 0x20;
        if set.flags & SESSION_KEYS != 0 {
            return;
        }
        let ns = set.namespace.to_uppercase();
        if set.flags & (SET | CLEAR) != 0 {
            Arc::make_mut(&mut self.contexts).retain(|(n, _, _)| *n != ns);
        }
        if set.flags & SET != 0 {
            for (k, v) in &set.entries {
                self.add_context(&ns, k, v);
            }
        }
    }

    /// Sets one attribute of an application context (bounded like Oracle's: an attribute
    /// set again replaces its value).
    fn add_context(&mut self, ns: &str, attr: &str, value: &str) {
        let ns = ns.to_uppercase();
        let attr = attr.to_uppercase();
        let contexts = Arc::make_mut(&mut self.contexts);
        contexts.retain(|(n, a, _)| !(*n == ns && *a == attr));
        contexts.push((ns, attr, value.to_owned()));
    }

    fn call(&mut self, call: Call) -> Vec<Action> {
        match call {
            Call::AuthPhaseOne(auth) => self.auth_one(auth),
            Call::AuthPhaseTwo(auth)
                if matches!(self.phase, Phase::LoggedOn)
                    && tns::ttc::buf::find_key(&auth.pairs, "AUTH_NEWPASSWORD").is_some() =>
            {
                self.change_password(&auth)
            }
            Call::AuthPhaseTwo(auth) => self.auth_two(auth),
            other => {
                if !self.logged_on() {
                    // Only the login exchange may come before login: refuse and close.
                    return vec![
                        self.error_bytes_action(OraError::new(1012, 0).info()),
                        Action::Close,
                    ];
                }
                if let Some(slot) = self.slot
                    && let Some(e) = self.inst.call_error(slot)
                {
                    let a = self.error_bytes_action(e.info());
                    self.on_disconnect();
                    return vec![a, Action::Close];
                }
                // V$SESSION.STATUS is ACTIVE while a call runs (a sleep stays ACTIVE until
                // its timer fires).
                self.set_active(true);
                let out = self.logged_on_call(other);
                if !self.is_waiting() {
                    self.set_active(false);
                }
                out
            }
        }
    }

    fn auth_one(&mut self, auth: Auth) -> Vec<Action> {
        let user = normalize_user(&auth.user);
        let found = self.creds.verifier(&user);
        let known = found.is_some();
        let verifier = found.unwrap_or_else(|| Verifier::decoy(&user));
        let (challenge, pairs) = o5logon::server_challenge(&verifier, &mut *self.random);
        let info = SessionInfo {
            user: user.clone(),
            program: auth.get("AUTH_PROGRAM_NM").unwrap_or_default(),
            machine: auth.get("AUTH_MACHINE").unwrap_or_default(),
            osuser: auth.get("AUTH_SID").unwrap_or_default(),
            terminal: auth.get("AUTH_TERMINAL").unwrap_or_default(),
            process: auth.get("AUTH_PID").unwrap_or_default(),
            service_name: self.cfg.service_name.clone(),
            module: auth.get("AUTH_PROGRAM_NM").unwrap_or_default(),
            ..SessionInfo::default()
        };
        self.phase = Phase::AuthTwo(Box::new(PendingLogin {
            user,
            known,
            challenge,
            info,
        }));
        let mut w = Writer::new();
        encode_parameter_pairs(&mut w, &pairs);
        ErrorInfo::default().encode(&mut w, self.fv());
        vec![Action::Send(w.into_bytes())]
    }

    fn auth_two(&mut self, auth: Auth) -> Vec<Action> {
        let phase = std::mem::replace(&mut self.phase, Phase::AuthOne);
        let Phase::AuthTwo(login) = phase else {
            self.phase = phase;
            return vec![self.error_bytes_action(OraError::new(1017, 0).info())];
        };
        let PendingLogin {
            user,
            known,
            challenge,
            info,
        } = *login;
        let proof = o5logon::server_verify(&challenge, &auth.pairs, &mut *self.random);
        let proof = match proof {
            Ok(p) if known => p,
            _ => return vec![self.error_bytes_action(OraError::new(1017, 0).info())],
        };
        let o5logon::ServerProof {
            response: proof,
            combo_key,
        } = proof;
        // A login that also sets a new password (expired password, `newpassword=`).
        if let Some(new) = tns::ttc::buf::find_key(&auth.pairs, "AUTH_NEWPASSWORD") {
            let result = o5logon::decrypt_password(&combo_key, &new.value_str())
                .map_err(|_| OraError::new(1017, 0))
                .and_then(|pw| self.new_password(&user, &pw));
            if let Err(e) = result {
                return vec![self.error_bytes_action(e.info())];
            }
        }
        self.combo_key = Some(combo_key);
        // The client's time zone travels as `ALTER SESSION SET TIME_ZONE='+hh:mm'`.
        // Every login of a client sends the same text: parsed once, in the shared SQL area.
        if let Some(alter) = tns::ttc::buf::find_key(&auth.pairs, "AUTH_ALTER_SESSION")
            && let Ok(p) = self.parse(alter.value_str().trim_end_matches('\0'))
            && let Statement::AlterSession {
                time_zone: Some(tz),
                ..
            } = p.stmt
        {
            self.tz_offset_minutes = tz;
        }
        self.client_driver = (
            auth.get("SESSION_CLIENT_DRIVER_NAME").unwrap_or_default(),
            auth.get("SESSION_CLIENT_VERSION")
                .and_then(|v| v.trim().parse::<u32>().ok())
                .map(client_version_text)
                .unwrap_or_default(),
        );
        // A proxy login (`proxy[client]`): the proxy authenticated with its own password; the
        // session is the client's, which must have granted CONNECT THROUGH the proxy.
        let mut user = user;
        let mut info = info;
        let mut proxy_user = None;
        if let Some(client) = auth
            .get("PROXY_CLIENT_NAME")
            .map(|n| normalize_user(n.trim_end_matches('\0')))
        {
            let through = format!("{GRANT_CONNECT_THROUGH}{user}");
            let allowed = self.creds.verifier(&client).is_some()
                && self.creds.grants(&client).contains(&through);
            if !allowed {
                return vec![self.error_bytes_action(OraError::new(28150, 0).info())];
            }
            proxy_user = Some(std::mem::replace(&mut user, client));
            info.user = user.clone();
        }
        // AS SYSDBA / SYSOPER / ...: the password file must grant it; the session then runs
        // as SYS (SYSDBA) or PUBLIC (SYSOPER), as in Oracle.
        if let Some((_, privilege)) = ADMIN_MODES.iter().find(|(bit, _)| auth.mode & bit != 0) {
            if !self.has_grant(&user, privilege) {
                return vec![self.error_bytes_action(OraError::new(1031, 0).info())];
            }
            user = match *privilege {
                "SYSDBA" | "SYSASM" => "SYS".to_owned(),
                "SYSOPER" => "PUBLIC".to_owned(),
                other => other.to_owned(),
            };
            info.user = user.clone();
        }
        let administrative = ADMIN_MODES.iter().any(|(bit, _)| auth.mode & bit != 0);
        info.administrative = administrative;
        // `/` (operating-system authentication) has no OPS$ user here: only `/ AS SYSDBA`.
        if user.is_empty() && !administrative {
            return vec![self.error_bytes_action(OraError::new(1017, 0).info())];
        }
        if !administrative
            && self.inst.logins_restricted()
            && !self.has_grant(&user, GRANT_RESTRICTED_SESSION)
        {
            return vec![self.error_bytes_action(OraError::new(1035, 0).info())];
        }
        // Application context given at connect: AUTH_APPCTX_NSPACE/ATTR/VALUE triplets.
        let appctx: Vec<&KeyValue> = auth
            .pairs
            .iter()
            .filter(|kv| kv.key.trim_end_matches('\0').starts_with("AUTH_APPCTX_"))
            .collect();
        let slot = if self.pooled.is_some() {
            // A pooled server: its session may serve this login again (purity SELF), or
            // another pooled server's session of this user and class may (the client
            // moves there). A proxy, administrative or application-context login stays
            // here: what it sets up belongs to the session it logs in to.
            let wanted = drcp::Wanted::from_auth(&auth.pairs);
            if proxy_user.is_none()
                && !administrative
                && appctx.is_empty()
                && let Some(elsewhere) = self.move_login(&user, &wanted, &info)
            {
                return vec![
                    Action::Send(self.login_reply(elsewhere, proof)),
                    Action::Release {
                        deauthenticate: false,
                    },
                ];
            }
            match self.adopt(&user, &wanted, info) {
                Ok(slot) => slot,
                Err(e) => return vec![self.error_bytes_action(e.info())],
            }
        } else {
            let slot = match self.inst.open_session(&info) {
                Ok(s) => s,
                Err(e) => {
                    let ei = e.info();
                    return vec![self.error_bytes_action(ei)];
                }
            };
            self.slot = Some(slot);
            self.current_schema = user.clone();
            self.user = user;
            self.info = info;
            slot
        };
        for triplet in appctx.chunks_exact(3) {
            let text = |kv: &KeyValue| kv.value_str().trim_end_matches('\0').to_owned();
            self.add_context(&text(triplet[0]), &text(triplet[1]), &text(triplet[2]));
        }
        self.proxy_user = proxy_user;
        self.phase = Phase::LoggedOn;
        self.dctx.logged_on = true;
        self.stats[stat::LOGONS_CUMULATIVE] = 1;
        self.stats[stat::LOGONS_CURRENT] = 1;
        vec![Action::Send(self.login_reply(slot, proof))]
    }

    /// The statement `text` parsed: from the instance's shared SQL area when it holds it
    /// (and the database is open), else parsed here and, when open, kept there.
    fn parse(&self, text: &str) -> Result<Arc<Prepared>, OraError> {
        let state = self.inst.instance_state();
        let area = self
            .inst
            .shared_sql()
            .filter(|_| state == crate::rows::InstanceState::Open);
        if let Some(p) = area.and_then(|a| a.get(text)) {
            return Ok(p);
        }
        let prepared = Prepared::new(sql::parse_in(text, state)?);
        if let Some(a) = area {
            a.insert(text, &prepared);
        }
        Ok(prepared)
    }

    /// The answer to a successful AUTH phase two: the session `slot` and the server's proof.
    fn login_reply(&self, slot: SessionSlot, proof: String) -> Vec<u8> {
        use std::borrow::Cow::{self, Borrowed, Owned};
        let inst = self.inst.instance_name();
        let db_name = self.inst.db_name();
        let pairs: [(&str, Cow<'_, str>); 23] = [
            ("AUTH_VERSION_STRING", Borrowed("- Production")),
            ("AUTH_VERSION_SQL", Borrowed("19")),
            ("AUTH_XACTION_TRAITS", Borrowed("3")),
            (
                "AUTH_VERSION_NO",
                Owned(packed_version(self.fv()).to_string()),
            ),
            ("AUTH_VERSION_STATUS", Borrowed("0")),
            ("AUTH_CAPABILITY_TABLE", Borrowed("")),
            ("AUTH_LAST_LOGIN", Borrowed("")),
            ("AUTH_DBNAME", Owned(db_name.to_uppercase())),
            ("AUTH_DB_MOUNT_ID", Borrowed("0")),
            ("AUTH_DB_ID", Borrowed("0")),
            ("AUTH_USER_ID", Borrowed("100")),
            ("AUTH_SESSION_ID", Owned(slot.sid.to_string())),
            ("AUTH_SERIAL_NUM", Owned(slot.serial.to_string())),
            ("AUTH_INSTANCE_NO", Borrowed("1")),
            ("AUTH_INSTANCENAME", Borrowed(&inst)),
            ("AUTH_SC_SERVICE_NAME", Borrowed(&self.cfg.service_name)),
            ("AUTH_SC_INSTANCE_NAME", Borrowed(&inst)),
            ("AUTH_SC_DB_DOMAIN", Borrowed(&self.cfg.db_domain)),
            ("AUTH_SC_DBUNIQUE_NAME", Borrowed(&db_name)),
            ("AUTH_SC_REAL_DBUNIQUE_NAME", Borrowed(&db_name)),
            (
                "AUTH_MAX_OPEN_CURSORS",
                Owned(self.cfg.max_open_cursors.to_string()),
            ),
            ("AUTH_MAX_IDEN_LENGTH", Borrowed("128")),
            ("AUTH_SVR_RESPONSE", Borrowed(&proof)),
        ];
        let mut w = Writer::with_capacity(1024);
        encode_parameters(
            &mut w,
            pairs.iter().map(|(k, v)| (k.as_bytes(), v.as_bytes(), 0)),
        );
        ErrorInfo::default().encode(&mut w, self.fv());
        w.into_bytes()
    }

    fn new_password(&self, user: &str, password: &[u8]) -> Result<(), OraError> {
        /// Longest password Oracle accepts (12.2 and later): 1024 bytes.
        const MAX_PASSWORD: usize = 1024;
        if password.is_empty() || password.len() > MAX_PASSWORD {
            return Err(OraError::new(988, 0));
        }
        self.creds.set_password(user, password)
    }

    /// `connection.changepassword(old, new)`: both passwords arrive under the login's
    /// combined key; the old one must match, the new one replaces the verifiers.
    fn change_password(&mut self, auth: &Auth) -> Vec<Action> {
        let fail = |s: &Self, e: OraError| vec![s.error_bytes_action(e.info())];
        let Some(ck) = self.combo_key.clone() else {
            return fail(self, OraError::new(1031, 0));
        };
        let get = |k: &str| tns::ttc::buf::find_key(&auth.pairs, k).map(|kv| kv.value_str());
        let old = get("AUTH_PASSWORD").and_then(|h| o5logon::decrypt_password(&ck, &h).ok());
        let new = get("AUTH_NEWPASSWORD").and_then(|h| o5logon::decrypt_password(&ck, &h).ok());
        let (Some(old), Some(new)) = (old, new) else {
            return fail(self, OraError::new(1017, 0));
        };
        let user = normalize_user(&auth.user);
        let matches = self.creds.verifier(&user).is_some_and(|v| v.matches(&old));
        if !matches {
            return fail(self, OraError::new(28008, 0));
        }
        match self.new_password(&user, &new) {
            Ok(()) => vec![self.error_bytes_action(ErrorInfo::default())],
            Err(e) => fail(self, e),
        }
    }

    /// What evaluating a statement needs; the USERENV values only when it may read one
    /// ([`Statement::reads_userenv`]).
    fn eval_context(&self, reads_userenv: bool) -> EvalContext {
        let d = self.now.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = i64::try_from(d.as_secs()).unwrap_or(0);
        EvalContext {
            user: self.user.clone(),
            userenv: if reads_userenv {
                self.userenv()
            } else {
                Vec::new()
            },
            now: DateTime::from_unix(secs, d.subsec_micros() * 1000),
            binds: Vec::new(),
            tz_offset_minutes: self.tz_offset_minutes,
            contexts: Arc::clone(&self.contexts),
            columns: Vec::new(),
            level: 0,
            rownum: 0,
            nls: Arc::clone(&self.nls),
            variables: Vec::new(),
        }
    }

    /// `SYS_CONTEXT('USERENV', ..)`'s values for this session.
    fn userenv(&self) -> Vec<(String, String)> {
        let inst = self.inst.instance_name();
        let sid = self.slot.map(|s| s.sid).unwrap_or(0);
        let audsid = self
            .slot
            .and_then(|s| self.inst.audsid(s))
            .unwrap_or(u64::from(sid));
        let userenv = [
            ("SID", sid.to_string()),
            ("SESSIONID", audsid.to_string()),
            ("SESSION_USER", self.user.clone()),
            ("CURRENT_USER", self.user.clone()),
            ("CURRENT_SCHEMA", self.current_schema.clone()),
            ("INSTANCE_NAME", inst),
            ("INSTANCE", "1".to_owned()),
            ("DB_NAME", self.inst.db_name()),
            ("DB_UNIQUE_NAME", self.inst.db_name()),
            ("DB_DOMAIN", self.cfg.db_domain.clone()),
            ("SERVICE_NAME", self.cfg.service_name.clone()),
            ("SERVER_HOST", self.cfg.server_host.clone()),
            ("HOST", self.info.machine.clone()),
            ("OS_USER", self.info.osuser.clone()),
            ("TERMINAL", self.info.terminal.clone()),
            ("MODULE", self.info.module.clone()),
            ("ACTION", self.info.action.clone()),
            ("CLIENT_IDENTIFIER", self.info.client_identifier.clone()),
            ("CLIENT_INFO", self.info.client_info.clone()),
            ("CLIENT_PROGRAM_NAME", self.info.program.clone()),
            ("LANGUAGE", "AMERICAN_AMERICA.AL32UTF8".to_owned()),
            ("AUTHENTICATION_METHOD", "PASSWORD".to_owned()),
            (
                "AUTHENTICATED_IDENTITY",
                self.proxy_user.clone().unwrap_or(self.user.clone()),
            ),
            ("PROXY_USER", self.proxy_user.clone().unwrap_or_default()),
            ("CURRENT_EDITION_NAME", "ORA$BASE".to_owned()),
            ("SESSION_EDITION_NAME", "ORA$BASE".to_owned()),
            ("CON_NAME", self.inst.db_name().to_uppercase()),
            ("CON_ID", "0".to_owned()),
            ("DATABASE_ROLE", "PRIMARY".to_owned()),
            ("IDENTIFICATION_TYPE", "LOCAL".to_owned()),
            (
                "ISDBA",
                if self.user == "SYS" { "TRUE" } else { "FALSE" }.to_owned(),
            ),
            ("LANG", "US".to_owned()),
            ("NETWORK_PROTOCOL", "tcp".to_owned()),
            ("NLS_CALENDAR", "GREGORIAN".to_owned()),
            ("NLS_CURRENCY", self.nls.currency.clone()),
            ("NLS_DATE_FORMAT", self.nls.date_format.clone()),
            ("NLS_DATE_LANGUAGE", "AMERICAN".to_owned()),
            ("NLS_SORT", "BINARY".to_owned()),
            ("NLS_TERRITORY", "AMERICA".to_owned()),
            ("PLATFORM_SLASH", "/".to_owned()),
            ("SESSION_DEFAULT_COLLATION", "USING_NLS_COMP".to_owned()),
            ("DRAIN_STATUS", "NONE".to_owned()),
            ("IS_APPLY_SERVER", "FALSE".to_owned()),
        ];
        userenv
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect()
    }

    fn logged_on_call(&mut self, call: Call) -> Vec<Action> {
        let fv = self.fv();
        match call {
            // One-way: the client does not read a response. The session stays ours (there is
            // no pool of sessions behind a dedicated server); with DEAUTHENTICATE the client
            // closes the connection next.
            Call::SessionRelease { mode } => {
                self.txn = false;
                match self.pooled {
                    Some(_) => {
                        let deauthenticate = mode & drcp::RELEASE_DEAUTHENTICATE != 0;
                        self.on_release(deauthenticate);
                        vec![Action::Release { deauthenticate }]
                    }
                    None => Vec::new(),
                }
            }
            Call::Ping => {
                let mut w = Writer::new();
                encode_status(&mut w, self.call_status());
                vec![Action::Send(w.into_bytes())]
            }
            Call::Commit | Call::Rollback => {
                self.txn = false;
                let mut w = Writer::new();
                encode_status(&mut w, 0);
                vec![Action::Send(w.into_bytes())]
            }
            Call::Logoff => {
                self.cursors.clear();
                self.on_disconnect();
                self.phase = Phase::LoggedOff;
                self.dctx.logged_on = false;
                let mut w = Writer::new();
                encode_status(&mut w, 0);
                vec![Action::Send(w.into_bytes())]
            }
            Call::Execute(ex) => self.execute(ex),
            Call::Reexecute {
                cursor_id,
                rows,
                bind_rows,
                ..
            } => {
                self.stats[stat::EXECUTE_COUNT] += 1;
                let Some(mut ctx) = self
                    .cursors
                    .get(&cursor_id)
                    .map(|cur| self.eval_context(cur.stmt.reads_userenv))
                else {
                    return vec![self.error_bytes_action(OraError::new(1001, 0).info())];
                };
                let Some(cur) = self.cursors.get_mut(&cursor_id) else {
                    return Vec::new();
                };
                cur.position = 0;
                ctx.binds = cur
                    .ctx
                    .as_ref()
                    .map(|c| c.binds.clone())
                    .unwrap_or_default();
                let rebound = bind_rows
                    .first()
                    .map(|row| bind_values(&cur.stmt.stmt, &cur.binds, row, &self.lobs));
                match rebound {
                    Some(Ok(b)) => ctx.binds = b,
                    Some(Err(e)) => return vec![self.error_bytes_action(self.ora(&e))],
                    None => {}
                }
                let Some(cur) = self.cursors.get_mut(&cursor_id) else {
                    return Vec::new();
                };
                let prepared = Arc::clone(&cur.stmt);
                let stmt = &prepared.stmt;
                if cur.plan.is_some() {
                    let planned = self.plan(stmt, &ctx);
                    let Some(cur) = self.cursors.get_mut(&cursor_id) else {
                        return Vec::new();
                    };
                    match planned {
                        Ok(p) => cur.plan = Some(p),
                        Err(e) => return vec![self.error_bytes_action(self.ora(&e))],
                    }
                    cur.ctx = Some(ctx);
                    return self.answer_query(cursor_id, rows, false, true);
                }
                self.run_non_query(stmt)
            }
            Call::Fetch { cursor_id, rows } => {
                if !self.cursors.contains_key(&cursor_id) {
                    let mut w = Writer::new();
                    OraError::new(1001, 0).info().encode(&mut w, fv);
                    return vec![Action::Send(w.into_bytes())];
                }
                vec![self.fetch_rows(cursor_id, rows, false)]
            }
            Call::AuthPhaseOne(_) | Call::AuthPhaseTwo(_) => Vec::new(),
            Call::LobOp(op) => self.lob_call(&op),
        }
    }

    fn execute(&mut self, ex: Execute) -> Vec<Action> {
        if ex.sql.is_some() {
            self.stats[stat::PARSE_COUNT] += 1;
        }
        if ex.options & exec_option::EXECUTE != 0 {
            self.stats[stat::EXECUTE_COUNT] += 1;
        }
        let scroll = ex.options & exec_option::EXECUTE == 0
            && ex.sql.is_none()
            && ex
                .al8i4
                .get(9)
                .is_some_and(|f| f & EXEC_FLAG_SCROLLABLE != 0)
            && self
                .cursors
                .get(&ex.cursor_id)
                .is_some_and(|c| c.plan.is_some());
        if scroll {
            return self.scroll(&ex);
        }
        // FETCH without EXECUTE on a cursor that is already open (a REF CURSOR a block
        // opened): rows from where it stands.
        let fetch_only = ex.sql.is_none()
            && ex.options & exec_option::EXECUTE == 0
            && ex.options & exec_option::FETCH != 0
            && self
                .cursors
                .get(&ex.cursor_id)
                .is_some_and(|c| c.plan.is_some());
        if fetch_only {
            return vec![self.fetch_rows(ex.cursor_id, ex.prefetch_rows, false)];
        }
        // A define alone (python-oracledb sends one after the describe of a query with LOB
        // columns): the types the client wants the columns in; the cursor stays where it is.
        let define_only = ex.options & exec_option::DEFINE != 0
            && ex.options & exec_option::EXECUTE == 0
            && ex.sql.is_none();
        if define_only && let Some(cur) = self.cursors.get_mut(&ex.cursor_id) {
            cur.defines = ex.defines.clone();
            let info = ErrorInfo {
                cursor_id: u16::try_from(ex.cursor_id).unwrap_or(0),
                row_count: cur.position,
                call_status: self.call_status(),
                ..ErrorInfo::default()
            };
            return vec![self.error_bytes_action(info)];
        }
        let sql_text = ex
            .sql
            .as_ref()
            .map(|b| String::from_utf8_lossy(b).into_owned());
        let prepared = match (&sql_text, self.cursors.get(&ex.cursor_id)) {
            (Some(text), _) => match self.parse(text) {
                Ok(p) => p,
                Err(e) => return vec![self.error_bytes_action(self.ora(&e))],
            },
            (None, Some(c)) => Arc::clone(&c.stmt),
            (None, None) => {
                return vec![self.error_bytes_action(OraError::new(1001, 0).info())];
            }
        };
        let bind_meta = if ex.binds.is_empty() {
            self.cursors
                .get(&ex.cursor_id)
                .map(|c| c.binds.clone())
                .unwrap_or_default()
        } else {
            ex.binds.clone()
        };
        let stmt = &prepared.stmt;
        if let Statement::Plsql(block) = stmt {
            let row = ex.bind_rows.first().cloned().unwrap_or_default();
            return self.run_plsql(block, stmt, &bind_meta, &row);
        }
        let mut ctx = self.eval_context(prepared.reads_userenv);
        if let Some(row) = ex.bind_rows.first() {
            match bind_values(stmt, &bind_meta, row, &self.lobs) {
                Ok(b) => ctx.binds = b,
                Err(e) => return vec![self.error_bytes_action(self.ora(&e))],
            }
        }
        if !stmt.is_query() {
            return self.run_non_query(stmt);
        }
        let plan = match self.plan(stmt, &ctx) {
            Ok(p) => p,
            Err(e) => return vec![self.error_bytes_action(self.ora(&e))],
        };
        let id = if ex.cursor_id != 0 && self.cursors.contains_key(&ex.cursor_id) {
            ex.cursor_id
        } else {
            // OPEN_CURSORS, as announced in AUTH_MAX_OPEN_CURSORS.
            if self.cursors.len()
                >= usize::try_from(self.cfg.max_open_cursors).unwrap_or(usize::MAX)
            {
                return vec![self.error_bytes_action(OraError::new(1000, 0).info())];
            }
            self.alloc_cursor()
        };
        self.dctx.cursor_binds.insert(id, (bind_meta.clone(), true));
        // Defines stay with the cursor until the client parses it again.
        let defines = match self.cursors.get(&id) {
            _ if !ex.defines.is_empty() => ex.defines.clone(),
            Some(c) if ex.sql.is_none() => c.defines.clone(),
            _ => Vec::new(),
        };
        // LOB columns the client has not defined yet: it defines them before it fetches
        // (python-oracledb does, and resends the call), so no row goes with this answer.
        let undefined_lobs = defines.is_empty() && plan.columns.iter().any(|c| c.is_lob());
        self.cursors.insert(
            id,
            Cursor {
                binds: bind_meta,
                defines,
                stmt: prepared,
                plan: Some(plan),
                position: 0,
                ctx: Some(ctx),
            },
        );
        let executing = ex.options & exec_option::EXECUTE != 0;
        let rows = if ex.options & exec_option::FETCH != 0 && executing && !undefined_lobs {
            ex.prefetch_rows
        } else {
            0
        };
        self.answer_query(id, rows, true, executing)
    }

    /// A scroll on a scrollable cursor: position at the row the client asks for (python
    /// sends the absolute row number for both ABSOLUTE and RELATIVE), then fetch from there.
    fn scroll(&mut self, ex: &Execute) -> Vec<Action> {
        let orientation = ex.al8i4.get(10).copied().unwrap_or(0);
        let pos = u64::from(ex.al8i4.get(11).copied().unwrap_or(0));
        let id = ex.cursor_id;
        let Some(cur) = self.cursors.get_mut(&id) else {
            return Vec::new();
        };
        let total = cur.plan.as_ref().map_or(0, QueryPlan::total_rows);
        let (start, wanted) = match orientation {
            FETCH_FIRST => (1, ex.prefetch_rows),
            FETCH_LAST => (total, 1),
            _ => (pos, ex.prefetch_rows),
        };
        if start == 0 || start > total {
            cur.position = total;
            return vec![self.fetch_rows(id, 0, false)];
        }
        cur.position = start - 1;
        vec![self.fetch_rows(id, wanted, false)]
    }

    /// Answers a query: at once, or after its work (an aggregate walking its rows) was done
    /// in [`Action::Busy`] slices.
    fn answer_query(&mut self, id: u32, rows: u32, describe: bool, executing: bool) -> Vec<Action> {
        let work = self
            .cursors
            .get(&id)
            .and_then(|c| c.plan.as_ref())
            .map_or(0, |p| p.work);
        let reply = self.fetch_rows(id, rows, describe);
        match reply {
            Action::Send(bytes) if work > 0 && executing => {
                self.pending = Some(bytes);
                self.work = work;
                self.set_active(true);
                vec![Action::Busy]
            }
            other => vec![other],
        }
    }

    fn alloc_cursor(&mut self) -> u32 {
        self.stats[stat::OPENED_CURSORS_CUMULATIVE] += 1;
        loop {
            let id = self.next_cursor;
            self.next_cursor = if self.next_cursor >= 65_000 {
                1
            } else {
                self.next_cursor + 1
            };
            if !self.cursors.contains_key(&id) {
                return id;
            }
        }
    }

    fn fetch_rows(&mut self, id: u32, wanted: u32, describe: bool) -> Action {
        let fv = self.fv();
        let status = self.call_status();
        let mut w = Writer::new();
        let Some(cur) = self.cursors.get_mut(&id) else {
            OraError::new(1001, 0).info().encode(&mut w, fv);
            return Action::Send(w.into_bytes());
        };
        let (Some(plan), Some(ctx)) = (&cur.plan, &cur.ctx) else {
            OraError::new(1002, 0).info().encode(&mut w, fv);
            return Action::Send(w.into_bytes());
        };
        if describe {
            encode_describe_info(&mut w, &plan.columns, fv);
        }
        let total = plan.total_rows();
        let mut sent = 0u32;
        let mut error = None;
        while sent < wanted && cur.position < total {
            match plan.row(cur.position, ctx) {
                Ok(values) => {
                    let row = lob::encode_row(&plan.columns, &cur.defines, &values, &mut self.lobs);
                    match row {
                        Ok(bytes) => {
                            if sent == 0 {
                                encode_row_header(&mut w);
                            }
                            w.raw(&bytes);
                        }
                        Err(e) => {
                            error = Some(e);
                            break;
                        }
                    }
                    sent += 1;
                    cur.position += 1;
                }
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        let cursor_id = u16::try_from(id).unwrap_or(0);
        let info = match error {
            Some(e) => ErrorInfo {
                cursor_id,
                error_pos: i16::try_from(e.offset).unwrap_or(0),
                row_count: cur.position,
                call_status: status,
                ..e.info()
            },
            None if cur.position >= total && wanted > 0 => ErrorInfo {
                cursor_id,
                row_count: cur.position,
                call_status: status,
                ..OraError::new(1403, 0).info()
            },
            None => ErrorInfo {
                cursor_id,
                row_count: cur.position,
                call_status: status,
                ..ErrorInfo::default()
            },
        };
        // The current row number is the count fetched so far, as real servers report it.
        let info = ErrorInfo {
            row_number: u32::try_from(cur.position).unwrap_or(u32::MAX),
            ..info
        };
        info.encode(&mut w, fv);
        Action::Send(w.into_bytes())
    }

    fn run_non_query(&mut self, stmt: &Statement) -> Vec<Action> {
        match stmt {
            Statement::Commit | Statement::Rollback => {
                self.txn = false;
                vec![self.error_bytes_action(ErrorInfo::default())]
            }
            Statement::AlterSession {
                current_schema,
                time_zone,
                nls,
            } => {
                // All or nothing: a bad value leaves the session's settings as they were.
                let mut settings = sql::format::Nls::clone(&self.nls);
                for (name, value) in nls {
                    if let Err(e) = settings.set(name, value) {
                        return vec![self.error_bytes_action(e.info())];
                    }
                }
                self.nls = Arc::new(settings);
                if let Some(tz) = time_zone {
                    self.tz_offset_minutes = *tz;
                }
                let mut w = Writer::new();
                if let Some(s) = current_schema {
                    self.current_schema = s.clone();
                    // The client is told, as Oracle does, so `connection.current_schema`
                    // shows it.
                    encode_return_parameters(&mut w, &[(KEYWORD_CURRENT_SCHEMA, s)]);
                }
                ErrorInfo {
                    call_status: self.call_status(),
                    ..ErrorInfo::default()
                }
                .encode(&mut w, self.fv());
                vec![Action::Send(w.into_bytes())]
            }
            // Blocks are run by `run_plsql` from `execute`; a re-execution has no cursor.
            Statement::Plsql(_) => vec![self.error_bytes_action(OraError::new(1001, 0).info())],
            Statement::AlterSystem(command) => {
                let Some(slot) = self.slot else {
                    return vec![self.error_bytes_action(OraError::new(1012, 0).info())];
                };
                let granted = self.may_alter_system();
                let done = if granted {
                    self.inst.alter_system(slot, command)
                } else {
                    Err(OraError::new(1031, 0))
                };
                vec![self.outcome_action(done)]
            }
            Statement::AlterDatabase(to) => {
                // ALTER DATABASE is a system privilege SYSDBA and SYSOPER hold; while the
                // database is not open they are the only sessions there are.
                let done = if self.info.administrative {
                    self.inst.alter_database(*to)
                } else {
                    Err(OraError::new(1031, 0))
                };
                vec![self.outcome_action(done)]
            }
            Statement::ConnectionPool(call) => {
                let Some(slot) = self.slot else {
                    return vec![self.error_bytes_action(OraError::new(1012, 0).info())];
                };
                // The package is SYS's; without the privilege to run it, it does not exist.
                let granted = self.may_alter_system();
                let done = if granted {
                    self.inst.connection_pool(slot, call)
                } else {
                    Err(OraError::with_args(
                        6550,
                        &["1", "7", &pls_line(201, &["DBMS_CONNECTION_POOL"])],
                        0,
                    ))
                };
                vec![self.outcome_action(done)]
            }
            Statement::Select { .. }
            | Statement::InstanceQuery(_)
            | Statement::Version(_)
            | Statement::Query(_) => {
                vec![self.error_bytes_action(OraError::new(900, 0).info())]
            }
        }
    }
}

impl Session {
    /// Plans a query: V$ views are evaluated over a snapshot the instance gives now, the
    /// rest with the engine's own SQL subset.
    fn plan(&self, stmt: &Statement, ctx: &EvalContext) -> Result<QueryPlan, OraError> {
        let Statement::InstanceQuery(query) = stmt else {
            return plan_query(stmt, ctx);
        };
        if self.slot.is_none() {
            return Err(OraError::new(1012, 0));
        }
        // V$STATNAME and V$MYSTAT are the session's own: no instance needed for them.
        let views = query.views();
        // The instance's statistics include this call so far.
        self.publish_stats();
        let mut snapshot = if views.iter().all(|v| {
            matches!(
                v,
                views::View::StatName | views::View::MyStat | views::View::SessionConnectInfo
            )
        }) {
            views::Snapshot::default()
        } else {
            self.inst.snapshot(&views)?
        };
        if let Some(slot) = self.slot {
            snapshot.my_stats = Some((slot.sid, self.stat_values()));
            snapshot.connect_info = Some(crate::rows::ConnectInfoRow {
                sid: slot.sid,
                serial: slot.serial,
                osuser: self.info.osuser.clone(),
                client_driver: self.client_driver.0.clone(),
                client_version: self.client_driver.1.clone(),
            });
        }
        let qctx = QueryContext {
            userenv: ctx.userenv.clone(),
            binds: ctx
                .binds
                .iter()
                .map(|(name, v)| (name.clone(), value_text(v).map_or(Cell::Null, Cell::Text)))
                .collect(),
        };
        let rs = query.execute(&snapshot, &qctx)?;
        Ok(QueryPlan::from_rows(
            rs.columns.iter().map(column_metadata).collect(),
            rs.rows
                .into_iter()
                .map(|r| r.into_iter().map(cell_value).collect())
                .collect(),
        ))
    }
}

/// How a V$ column travels to the client.
fn column_metadata(c: &views::Column) -> ColumnMetadata {
    match c.ty {
        ColumnType::Number => ColumnMetadata::number(&c.name),
        ColumnType::Varchar2(n) => ColumnMetadata::string(&c.name, ora_type::VARCHAR, n),
        ColumnType::Date => ColumnMetadata::date(&c.name),
        // Addresses travel as their hex text (what SQL*Plus shows for RAW).
        ColumnType::Raw(n) => ColumnMetadata::string(&c.name, ora_type::VARCHAR, n * 2),
    }
}

/// A V$ cell as an engine value.
fn cell_value(c: Cell) -> Value {
    match c {
        Cell::Null => Value::Null,
        Cell::Int(i) => Value::Number(Decimal::from_i128(i128::from(i))),
        Cell::Text(t) | Cell::Raw(t) => Value::Str(t),
        Cell::Date(secs) => Value::Date(DateTime::from_unix(i64::try_from(secs).unwrap_or(0), 0)),
    }
}

/// A bind value as the text the instance's V$ filter compares with.
fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Number(d) => Some(d.to_string()),
        Value::Str(s) => Some(s.clone()),
        other => other
            .encode()
            .map(|b| String::from_utf8_lossy(&b).into_owned()),
    }
}

/// Decodes one row of bind values (wire encoding per the bind metadata) and names them
/// in the statement's positional order.
fn bind_values(
    stmt: &Statement,
    meta: &[BindMetadata],
    row: &[BindValue],
    lobs: &lob::TempLobs,
) -> Result<Vec<(String, Value)>, OraError> {
    use tns::ttc::types::ora_type;
    // In SQL every placeholder is a bind position of its own, a name used twice included
    // (python-oracledb and node-oracledb send a value for each); a client that sends one
    // value per distinct name is read by name.
    let occurrences = stmt.bind_occurrences();
    let names = if row.len() == occurrences.len() {
        occurrences
    } else {
        stmt.bind_names()
    };
    if names.len() > row.len() {
        return Err(OraError::new(1008, 0));
    }
    let mut out: Vec<(String, Value)> = Vec::with_capacity(names.len());
    for (i, name) in names.into_iter().enumerate() {
        if out.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let t = meta.get(i).map_or(ora_type::VARCHAR, |m| m.ora_type);
        let v = match row.get(i) {
            None | Some(BindValue::Null) => Value::Null,
            // A LOB is its contents (a temporary LOB of this session).
            Some(BindValue::Locator(l)) => lobs.value(l)?,
            // REF CURSORs and arrays have no place in the SQL subset.
            Some(BindValue::Cursor(_) | BindValue::Array(_)) => {
                return Err(OraError::new(3115, 0));
            }
            Some(BindValue::Bytes(b)) => decode_scalar(t, b)?,
        };
        out.push((name, v));
    }
    Ok(out)
}

/// A scalar bind value in its wire encoding, by the bind's type.
fn decode_scalar(t: u8, b: &[u8]) -> Result<Value, OraError> {
    Ok(match t {
        ora_type::NUMBER => {
            Value::Number(Decimal::from_oracle_number(b).map_err(|_| OraError::new(1722, 0))?)
        }
        ora_type::BINARY_DOUBLE | ora_type::BINARY_FLOAT => {
            let f =
                tns::ttc::types::decode_binary_float(b).ok_or_else(|| OraError::new(1722, 0))?;
            Value::Number(Decimal::from_f64(f).unwrap_or_else(Decimal::zero))
        }
        ora_type::DATE => {
            Value::Date(DateTime::from_oracle(b).map_err(|_| OraError::new(1858, 0))?)
        }
        ora_type::TIMESTAMP | ora_type::TIMESTAMP_TZ | ora_type::TIMESTAMP_LTZ => {
            let d = DateTime::from_oracle(b).map_err(|_| OraError::new(1858, 0))?;
            if t == ora_type::TIMESTAMP_TZ {
                Value::TimestampTz(d)
            } else {
                Value::Timestamp(d)
            }
        }
        ora_type::VARCHAR | ora_type::CHAR | ora_type::LONG => {
            Value::Str(String::from_utf8_lossy(b).into_owned())
        }
        _ => return Err(OraError::new(3115, 0)),
    })
}

/// A client version as the drivers pack it in SESSION_CLIENT_VERSION (major << 24 |
/// minor << 20 | update << 12 | release << 8 | patch) as dotted text.
fn client_version_text(v: u32) -> String {
    format!(
        "{}.{}.{}.{}.{}",
        v >> 24,
        (v >> 20) & 0xF,
        (v >> 12) & 0xFF,
        (v >> 8) & 0xF,
        v & 0xFF
    )
}

/// A request the decoder refused: a call before login is ORA-01012 (as when it is decoded
/// and refused by [`Session::call`]), anything else ORA-03137 with the decoder's reason.
fn ttc_error(e: &TtcError) -> ErrorInfo {
    match e {
        TtcError::NotLoggedOn { .. } => OraError::new(1012, 0).info(),
        _ => OraError::with_args(3137, &[&e.to_string()], 0).info(),
    }
}

#[cfg(test)]
mod tests;
