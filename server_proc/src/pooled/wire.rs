//! What the connection broker and its pooled servers say to each other over their
//! `SOCK_SEQPACKET` channel: one message per packet, `u32be json_len`, the JSON of a
//! [`ToServer`] or [`ToBroker`], then raw bytes (a CONNECT, or what the client sent that
//! the receiver has to read first), with the client's socket as `SCM_RIGHTS` when it
//! changes hands.

use std::os::fd::{BorrowedFd, OwnedFd};

use engine::session::drcp::{ClientIdentity, Purity, Wanted};
use engine::{Framing, SessionInfo, SessionSlot};
use serde::{Deserialize, Serialize};
use tns::packet::LengthMode;

use crate::fdpass::{self, FdPassError};
use crate::handoff::HandoffMeta;

/// Errors of the broker ↔ pooled server channel.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// Sending or receiving failed.
    #[error("pool channel: {0}")]
    Channel(#[from] FdPassError),
    /// A message that does not decode.
    #[error("pool channel: bad message: {0}")]
    Message(String),
}

/// Broker → pooled server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToServer {
    /// Your name (`L000`): sent once, after the server's [`ToBroker::Hello`].
    Welcome {
        /// The pooled server's name.
        name: String,
    },
    /// A new client (its socket comes along): the bytes are its CONNECT.
    Connect {
        /// What the listener knew of it.
        meta: Box<HandoffMeta>,
        /// The broker's number for the connection.
        client: u64,
        /// The pool's limits now.
        limits: Limits,
    },
    /// An authenticated client's next call (its socket comes along): the bytes are what
    /// it sent so far.
    Resume {
        /// What the listener knew of it.
        meta: Box<HandoffMeta>,
        /// Who it is and how it talks.
        client: Box<ClientState>,
        /// The pool's limits now.
        limits: Limits,
    },
    /// The answer to [`ToBroker::Claim`]: the session (SID, SERIAL#) kept for the client,
    /// or none.
    Claimed {
        /// The session of the server kept for the client.
        session: Option<(u32, u32)>,
    },
}

/// The pool's parameters a pooled server applies to the client it is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// MAX_THINK_TIME (s; 0 = none): the client may hold the server this long without a
    /// call.
    pub max_think_time: u32,
    /// MAX_USE_SESSION: a session serves at most this many requests.
    pub max_use_session: u32,
    /// MAX_LIFETIME_SESSION (s): a session older than this is not given out again.
    pub max_lifetime_session: u32,
}

/// Pooled server → broker.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToBroker {
    /// A new pooled server is up.
    Hello {
        /// Its pid.
        pid: i32,
    },
    /// The client released its session; its socket comes along, the bytes are what it
    /// sent after the release.
    Released {
        /// Who it is and how it talks (`None` after a deauthenticating release).
        client: Option<Box<ClientState>>,
        /// What the server holds now.
        held: Option<HeldSession>,
    },
    /// The client's login (verified) asks for a free server holding a session of this user
    /// and class; the broker keeps one for the client and answers [`ToServer::Claimed`].
    /// The client comes back with [`ToBroker::Released`] and goes to that server.
    Claim {
        /// The user who logged in.
        user: String,
        /// The login's connection class.
        cclass: String,
    },
    /// The client's connection ended on the server (EOF, logoff, an error).
    Ended {
        /// What the server holds now.
        held: Option<HeldSession>,
    },
}

/// The session a pooled server holds between clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldSession {
    /// Its user.
    pub user: String,
    /// Its connection class.
    pub cclass: String,
    /// SID.
    pub sid: u32,
    /// SERIAL#.
    pub serial: u32,
}

/// An authenticated client as the broker keeps it between its sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientState {
    /// User.
    pub user: String,
    /// Connection class.
    pub cclass: String,
    /// Purity code (0 default, 1 NEW, 2 SELF).
    pub purity: u32,
    /// TTC field version.
    pub field_version: u8,
    /// Session time zone offset, minutes.
    pub tz_offset_minutes: i16,
    /// Client program, machine, OS user, terminal, process, service.
    pub program: String,
    /// See `program`.
    pub machine: String,
    /// See `program`.
    pub osuser: String,
    /// See `program`.
    pub terminal: String,
    /// See `program`.
    pub process: String,
    /// See `program`.
    pub service_name: String,
    /// The session it had last (SID, SERIAL#).
    pub session: Option<(u32, u32)>,
    /// 4-byte packet lengths.
    pub large: bool,
    /// SDU.
    pub sdu: u32,
    /// The broker's number for the connection.
    pub client: u64,
    /// Its login, made on another server, was answered with `session`.
    #[serde(default)]
    pub moved: bool,
}

impl ClientState {
    /// From the engine's view after a release.
    pub fn new(id: &ClientIdentity, framing: Framing) -> ClientState {
        ClientState {
            user: id.user.clone(),
            cclass: id.wanted.cclass.clone(),
            purity: id.wanted.purity.code(),
            field_version: id.field_version,
            tz_offset_minutes: id.tz_offset_minutes,
            program: id.info.program.clone(),
            machine: id.info.machine.clone(),
            osuser: id.info.osuser.clone(),
            terminal: id.info.terminal.clone(),
            process: id.info.process.clone(),
            service_name: id.info.service_name.clone(),
            session: id.session.map(|s| (s.sid, s.serial)),
            large: framing.mode == LengthMode::Large,
            sdu: framing.sdu,
            client: id.client,
            moved: id.moved,
        }
    }

    /// Back to the engine's view.
    pub fn identity(&self) -> ClientIdentity {
        ClientIdentity {
            user: self.user.clone(),
            wanted: Wanted {
                cclass: self.cclass.clone(),
                purity: Purity::from_code(self.purity),
            },
            field_version: self.field_version,
            tz_offset_minutes: self.tz_offset_minutes,
            info: SessionInfo {
                user: self.user.clone(),
                program: self.program.clone(),
                machine: self.machine.clone(),
                osuser: self.osuser.clone(),
                terminal: self.terminal.clone(),
                process: self.process.clone(),
                service_name: self.service_name.clone(),
                module: self.program.clone(),
                ..SessionInfo::default()
            },
            session: self
                .session
                .map(|(sid, serial)| SessionSlot { sid, serial }),
            client: self.client,
            moved: self.moved,
        }
    }

    /// The framing the client negotiated.
    pub fn framing(&self) -> Framing {
        Framing {
            mode: if self.large {
                LengthMode::Large
            } else {
                LengthMode::Short
            },
            sdu: self.sdu,
        }
    }
}

fn encode<T: Serialize>(msg: &T, bytes: &[u8]) -> Result<Vec<u8>, WireError> {
    let json = serde_json::to_vec(msg).map_err(|e| WireError::Message(e.to_string()))?;
    let len = u32::try_from(json.len()).map_err(|e| WireError::Message(e.to_string()))?;
    let mut out = Vec::with_capacity(4 + json.len() + bytes.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&json);
    out.extend_from_slice(bytes);
    Ok(out)
}

/// Decodes a message made by [`send`].
pub fn decode<T: for<'de> Deserialize<'de>>(payload: &[u8]) -> Result<(T, Vec<u8>), WireError> {
    let head: [u8; 4] = payload
        .get(..4)
        .and_then(|h| h.try_into().ok())
        .ok_or_else(|| WireError::Message("truncated".into()))?;
    let end = 4usize.saturating_add(u32::from_be_bytes(head) as usize);
    let json = payload
        .get(4..end)
        .ok_or_else(|| WireError::Message("truncated".into()))?;
    let msg = serde_json::from_slice(json).map_err(|e| WireError::Message(e.to_string()))?;
    Ok((msg, payload[end..].to_vec()))
}

/// Sends `msg` with `bytes`, and the client's socket when there is one.
pub fn send<T: Serialize>(
    chan: BorrowedFd<'_>,
    msg: &T,
    bytes: &[u8],
    client: Option<BorrowedFd<'_>>,
) -> Result<(), WireError> {
    let payload = encode(msg, bytes)?;
    match client {
        Some(fd) => fdpass::send_fd(chan, fd, &payload)?,
        None => fdpass::send_plain(chan, &payload)?,
    }
    Ok(())
}

/// Receives one message: `Ok(None)` when the peer closed the channel.
#[allow(clippy::type_complexity)]
pub fn recv<T: for<'de> Deserialize<'de>>(
    chan: BorrowedFd<'_>,
) -> Result<Option<(T, Vec<u8>, Option<OwnedFd>)>, WireError> {
    let Some((payload, fd)) = fdpass::recv_fd(chan)? else {
        return Ok(None);
    };
    let (msg, bytes) = decode(&payload)?;
    Ok(Some((msg, bytes, fd)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_state_round_trips_through_the_engine_view() {
        let c = ClientState {
            user: "SCOTT".into(),
            cclass: "APP1".into(),
            purity: 2,
            field_version: 24,
            tz_offset_minutes: -300,
            program: "python".into(),
            machine: "m".into(),
            osuser: "u".into(),
            terminal: "t".into(),
            process: "42".into(),
            service_name: "orcl".into(),
            session: Some((7, 3)),
            large: true,
            sdu: 8192,
            client: 9,
            moved: true,
        };
        let id = c.identity();
        assert_eq!(ClientState::new(&id, c.framing()), c);
        let bytes = encode(&ToBroker::Hello { pid: 5 }, b"xyz").unwrap();
        let (m, rest): (ToBroker, _) = decode(&bytes).unwrap();
        assert!(matches!(m, ToBroker::Hello { pid: 5 }));
        assert_eq!(rest, b"xyz");
        assert!(decode::<ToBroker>(&bytes[..3]).is_err());
    }
}
