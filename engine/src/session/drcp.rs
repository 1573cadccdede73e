//! DRCP (Database Resident Connection Pooling) inside the session: a pooled server keeps
//! one session between its clients, as Oracle's pooled server + session pair does.
//!
//! A client's login on a pooled server gives its connection class
//! (`AUTH_KPPL_CONN_CLASS`) and purity (`AUTH_KPPL_PURITY`): with purity SELF a session
//! of the same user and class the server already holds is taken as it is (its state, e.g.
//! CLIENT_IDENTIFIER, is seen again: a hit); otherwise the old session ends and a new one
//! begins (a miss). The client's one-way SESSION_RELEASE ([`super::Action::Release`])
//! ends the client's use of the session but not the session; the broker then holds the
//! connection and the client's identity ([`ClientIdentity`]), and gives the connection to a
//! pooled server again at its next call ([`Session::resume_client`], no new login). When
//! the session the client gets is not the one it had, the first reply carries the
//! SESS_RET piggyback with SESSION_CHANGED, so the client forgets its cursor ids.

use std::time::{Duration, SystemTime};

use tns::ttc::buf::{KeyValue, Writer};
use tns::ttc::message::msg_type::SERVER_SIDE_PIGGYBACK;
use tns::ttc::message::server_piggyback::{SESS_RET, SESSGET_SESSION_CHANGED};
use tns::ttc::request::{DecodeContext, RequestDecoder};

use super::{Action, Phase, Session};
use crate::port::{SessionInfo, SessionSlot};
use crate::sql::OraError;

/// SESSION_RELEASE mode bit: the client also logs out (a standalone connection's close).
pub const RELEASE_DEAUTHENTICATE: u32 = 0x2;

/// The class of sessions made without a connection class.
pub const DEFAULT_CLASS: &str = "SHARED";

/// `POOL_PURITY` / `AUTH_KPPL_PURITY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purity {
    /// Not given (thin clients send SELF for pooled and NEW for standalone connections).
    Default,
    /// A fresh session.
    New,
    /// A session of the same user and class may be reused as it is.
    Reuse,
}

impl Purity {
    /// From the number a client sends (1 NEW, 2 SELF).
    pub fn from_code(code: u32) -> Purity {
        match code {
            1 => Purity::New,
            2 => Purity::Reuse,
            _ => Purity::Default,
        }
    }

    /// The number a client sends.
    pub fn code(self) -> u32 {
        match self {
            Purity::Default => 0,
            Purity::New => 1,
            Purity::Reuse => 2,
        }
    }
}

/// What a login asks of the pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// Connection class as the client named it ([`DEFAULT_CLASS`] when none).
    pub cclass: String,
    /// Purity.
    pub purity: Purity,
}

impl Wanted {
    /// From the AUTH phase-two key/value pairs.
    pub fn from_auth(pairs: &[KeyValue]) -> Wanted {
        let get = |k: &str| {
            tns::ttc::buf::find_key(pairs, k)
                .map(|kv| kv.value_str().trim_end_matches('\0').to_owned())
        };
        Wanted {
            cclass: get("AUTH_KPPL_CONN_CLASS")
                .filter(|c| !c.is_empty())
                .unwrap_or_else(|| DEFAULT_CLASS.to_owned()),
            purity: Purity::from_code(
                get("AUTH_KPPL_PURITY")
                    .and_then(|p| p.trim().parse().ok())
                    .unwrap_or(0),
            ),
        }
    }
}

/// What the broker keeps of an authenticated client between its sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIdentity {
    /// The user the client logged in as.
    pub user: String,
    /// Class and purity of its login.
    pub wanted: Wanted,
    /// The TTC field version the client negotiated.
    pub field_version: u8,
    /// The client's session time zone.
    pub tz_offset_minutes: i16,
    /// Who the client is (program, machine, ...), for a session made for it.
    pub info: SessionInfo,
    /// The session it had last.
    pub session: Option<SessionSlot>,
    /// The broker's number for the client connection (sessions remember whose cursors
    /// they hold).
    pub client: u64,
    /// Its login, made on another pooled server, was answered with `session`
    /// ([`Session::move_login`]): it knows the session and holds no cursors, so finding
    /// that session needs no SESS_RET.
    pub moved: bool,
}

/// A pooled server's side of the session.
#[derive(Debug, Clone, Default)]
pub(super) struct Pooled {
    /// The class of the session the server holds.
    cclass: String,
    /// How the client's last login or resume found the session.
    last: Option<Reuse>,
    /// Set when the next reply must tell the client its session changed.
    announce: bool,
    /// Who the attached client is (after its login or resume).
    client: Option<ClientIdentity>,
    /// The client connection whose cursors the session holds.
    owner: u64,
    /// The client connection now attached (from its CONNECT or resume).
    attaching: u64,
    /// The session in another pooled server that the attached client's login was given
    /// ([`Session::move_login`]): the client goes there once the login is answered.
    moved: Option<SessionSlot>,
    /// Requests the session has served, and when it began (MAX_USE_SESSION,
    /// MAX_LIFETIME_SESSION).
    uses: u32,
    born: Option<SystemTime>,
    /// Those limits (0 / zero: none).
    max_uses: u32,
    max_lifetime: Duration,
}

/// Whether a login or a resume found the pooled server's session reusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reuse {
    /// The session of the same user and class, taken as it was.
    Hit,
    /// A new session.
    Miss,
}

impl Session {
    /// Makes this the session of a DRCP pooled server: it outlives its clients.
    pub fn set_pooled(&mut self) {
        self.pooled = Some(Pooled::default());
    }

    /// The pool's MAX_USE_SESSION and MAX_LIFETIME_SESSION: a session that has served
    /// `max_uses` requests, or is older than `max_lifetime`, is replaced at the next one.
    pub fn set_pool_limits(&mut self, max_uses: u32, max_lifetime: Duration) {
        if let Some(p) = self.pooled.as_mut() {
            p.max_uses = max_uses;
            p.max_lifetime = max_lifetime;
        }
    }

    /// The session a pooled server holds: `(user, class, slot)`, once there is one.
    pub fn pooled_session(&self) -> Option<(String, String, SessionSlot)> {
        let p = self.pooled.as_ref()?;
        Some((self.user.clone(), p.cclass.clone(), self.slot?))
    }

    /// How the last login or resume found the session (V$CPOOL_STATS hits and misses).
    pub fn last_reuse(&self) -> Option<Reuse> {
        self.pooled.as_ref().and_then(|p| p.last)
    }

    /// The attached client, as the broker must keep it after a release.
    pub fn client_identity(&self) -> Option<ClientIdentity> {
        let p = self.pooled.as_ref()?;
        let mut id = p.client.clone()?;
        id.session = p.moved.or(self.slot);
        id.field_version = self.dctx.field_version;
        id.tz_offset_minutes = self.tz_offset_minutes;
        Some(id)
    }

    /// A new client connection (its CONNECT) on a pooled server: negotiation and login
    /// start again; the session stays until the login decides about it.
    pub fn begin_connection(&mut self, client: u64) {
        self.reset_connection(DecodeContext::default());
        self.phase = Phase::Protocol;
        if let Some(p) = self.pooled.as_mut() {
            p.client = None;
            p.last = None;
            p.moved = None;
            // A new connection learns its session at login, not from a SESS_RET meant for
            // the client before (one that released before any reply).
            p.announce = false;
            p.attaching = client;
        }
    }

    /// The client released its session: a client that logged out leaves no cursors to come
    /// back to.
    pub(super) fn on_release(&mut self, deauthenticate: bool) {
        if deauthenticate {
            self.close_all_cursors();
        }
    }

    fn close_all_cursors(&mut self) {
        self.cursors.clear();
        self.dctx.cursor_binds.clear();
    }

    /// An authenticated client back from the broker with its next call: no login; the
    /// session is reused (same user and class, purity not NEW, not killed) or replaced.
    pub fn resume_client(&mut self, id: &ClientIdentity) -> Result<Reuse, OraError> {
        self.reset_connection(DecodeContext {
            field_version: id.field_version,
            logged_on: true,
            ..DecodeContext::default()
        });
        self.tz_offset_minutes = id.tz_offset_minutes;
        if let Some(p) = self.pooled.as_mut() {
            p.attaching = id.client;
            p.moved = None;
        }
        let mut info = id.info.clone();
        info.user = id.user.clone();
        let prev_owner = self.pooled.as_ref().map(|p| p.owner);
        self.adopt(&id.user, &id.wanted, info)?;
        self.phase = Phase::LoggedOn;
        let slot = self.slot;
        if let Some(p) = self.pooled.as_mut() {
            p.client = Some(ClientIdentity {
                session: slot,
                moved: false,
                ..id.clone()
            });
            // Its cursor ids are good only in the session it had, if nobody else had it
            // meanwhile (then `adopt` kept the cursors); otherwise it must forget them. A
            // client whose login moved here has none, and was told this session.
            p.announce = id.session != slot
                || p.last == Some(Reuse::Miss)
                || (!id.moved && prev_owner != Some(id.client));
        }
        Ok(self.last_reuse().unwrap_or(Reuse::Miss))
    }

    fn reset_connection(&mut self, dctx: DecodeContext) {
        let cursor_binds = std::mem::take(&mut self.dctx.cursor_binds);
        self.decoder = RequestDecoder::new();
        self.dctx = DecodeContext {
            cursor_binds,
            ..dctx
        };
        self.pending = None;
        self.plsql_call = None;
        self.work = 0;
        self.combo_key = None;
        self.txn = false;
    }

    /// True when the session this pooled server holds may serve `user` and `wanted` as it
    /// is: same user and class, purity not NEW, not worn out (MAX_USE_SESSION,
    /// MAX_LIFETIME_SESSION), not ended from outside.
    fn held_serves(&self, user: &str, wanted: &Wanted) -> bool {
        let Some(p) = self.pooled.as_ref() else {
            return false;
        };
        let now = self.now;
        let worn_out = (p.max_uses > 0 && p.uses >= p.max_uses)
            || (!p.max_lifetime.is_zero()
                && p.born
                    .is_some_and(|b| now.duration_since(b).unwrap_or_default() >= p.max_lifetime));
        self.slot.is_some_and(|slot| {
            self.user == user
                && p.cclass == wanted.cclass
                && wanted.purity != Purity::New
                && !worn_out
                && self.inst.call_error(slot).is_none()
        })
    }

    /// A login (verified) that this server's session cannot serve but that may reuse a
    /// session (purity not NEW): the pool is asked for a free pooled server holding a
    /// session of `user` and the login's class ([`crate::InstanceHooks::claim_pooled_session`]).
    /// `Some(slot)`: that session is the client's; the login is answered with it and the
    /// client moves to its server (this server's own session stays as it was). Oracle's
    /// broker, too, gives a login the pooled server of its class and user.
    pub(super) fn move_login(
        &mut self,
        user: &str,
        wanted: &Wanted,
        info: &SessionInfo,
    ) -> Option<SessionSlot> {
        if wanted.purity == Purity::New || self.held_serves(user, wanted) {
            return None;
        }
        let slot = self.inst.claim_pooled_session(user, &wanted.cclass)?;
        let field_version = self.dctx.field_version;
        let tz_offset_minutes = self.tz_offset_minutes;
        let p = self.pooled.as_mut()?;
        p.moved = Some(slot);
        p.client = Some(ClientIdentity {
            user: user.to_owned(),
            wanted: wanted.clone(),
            field_version,
            tz_offset_minutes,
            info: SessionInfo {
                user: user.to_owned(),
                ..info.clone()
            },
            session: Some(slot),
            client: p.attaching,
            moved: true,
        });
        Some(slot)
    }

    /// Takes the held session for `user` if the login may reuse it, else ends it and opens
    /// a new one. Returns the slot now in use.
    pub(super) fn adopt(
        &mut self,
        user: &str,
        wanted: &Wanted,
        info: SessionInfo,
    ) -> Result<SessionSlot, OraError> {
        let now = self.now;
        let reusable = self.held_serves(user, wanted);
        let outcome = if reusable {
            // Another client's cursors are no use to this one (and must not pile up).
            if self.pooled.as_ref().is_some_and(|p| p.owner != p.attaching) {
                self.close_all_cursors();
            }
            Reuse::Hit
        } else {
            self.on_disconnect();
            self.close_all_cursors();
            self.next_cursor = 1;
            let slot = self.inst.open_session(&info)?;
            self.slot = Some(slot);
            self.current_schema = user.to_owned();
            self.user = user.to_owned();
            self.info = info.clone();
            Reuse::Miss
        };
        let slot = self.slot.ok_or_else(|| OraError::new(1012, 0))?;
        let login = !self.dctx.logged_on;
        self.inst.pool_request(
            &format!("{user}.{}", wanted.cclass),
            outcome == Reuse::Hit,
            login,
        );
        if let Some(p) = self.pooled.as_mut() {
            if outcome == Reuse::Miss {
                p.uses = 0;
                p.born = Some(now);
            }
            p.uses = p.uses.saturating_add(1);
            p.cclass = wanted.cclass.clone();
            p.last = Some(outcome);
            p.owner = p.attaching;
            p.client = Some(ClientIdentity {
                user: user.to_owned(),
                wanted: wanted.clone(),
                field_version: self.dctx.field_version,
                tz_offset_minutes: self.tz_offset_minutes,
                info,
                session: Some(slot),
                client: p.attaching,
                moved: false,
            });
        }
        Ok(slot)
    }

    /// Puts the SESS_RET piggyback (SESSION_CHANGED) before the first reply after a resume
    /// that gave the client another session.
    pub(super) fn announce_session(&mut self, out: &mut [Action]) {
        let Some(p) = self.pooled.as_mut() else {
            return;
        };
        if !p.announce {
            return;
        }
        let Some(Action::Send(bytes)) = out.first_mut() else {
            return;
        };
        p.announce = false;
        let slot = self.slot.unwrap_or(SessionSlot { sid: 0, serial: 0 });
        let mut w = Writer::new();
        w.u8(SERVER_SIDE_PIGGYBACK)
            .u8(SESS_RET)
            .ub2(0)
            .u8(0)
            .ub2(0)
            .ub4(SESSGET_SESSION_CHANGED)
            .ub4(slot.sid)
            .ub2(u16::try_from(slot.serial).unwrap_or(u16::MAX));
        let mut framed = w.into_bytes();
        framed.extend_from_slice(bytes);
        *bytes = framed;
    }
}
