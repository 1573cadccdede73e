//! The hand-off message the listener sends the spawner together with the client socket:
//! which service and instance (SID) the client asked for, who the client is, and the CONNECT
//! bytes the listener already consumed from the socket (the dedicated server must answer that
//! CONNECT, and the bytes are no longer readable from the socket).
//!
//! Layout of one `SOCK_SEQPACKET` message: `u32be json_len`, the JSON metadata, then the
//! CONNECT bytes verbatim (the CONNECT packet, followed by its overflow DATA packet when the
//! descriptor exceeded 230 bytes). The same message goes to a dispatcher's `handoff_path`
//! (direct hand-off of a shared-server connection); [`receive`] is the receiving side.

use serde::{Deserialize, Serialize};

/// Metadata of one hand-off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoffMeta {
    /// Listener name (`LISTENER`).
    pub listener: String,
    /// The service name (or SID) the client asked for, as written in its descriptor.
    pub service: String,
    /// Instance SID the dedicated server serves (its title becomes `oracle<SID> (LOCAL=NO)`).
    pub sid: String,
    /// `ORACLE_HOME` of the static SID_DESC, or the listener's home.
    pub oracle_home: String,
    /// `GLOBAL_DBNAME` of the static SID_DESC, if any.
    pub global_dbname: Option<String>,
    /// The listener routed the client through a static SID_DESC of `listener.ora` (not a
    /// service the instance registered): only then may one of that SID_DESC's prespawned
    /// servers (PRESPAWN_LIST) take it, as Oracle's prespawned handlers belong to the
    /// SID_DESC that configures them.
    pub static_sid_desc: bool,
    /// Client address, `(ADDRESS=(PROTOCOL=tcp)(HOST=..)(PORT=..))`.
    pub peer: String,
}

/// A decoded hand-off message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoffMessage {
    /// Metadata.
    pub meta: HandoffMeta,
    /// CONNECT bytes read by the listener.
    pub connect_bytes: Vec<u8>,
}

/// Errors decoding a hand-off message.
#[derive(Debug, thiserror::Error)]
pub enum HandoffError {
    /// The message is shorter than its declared metadata.
    #[error("hand-off message truncated: {len} bytes, metadata needs {need}")]
    Truncated {
        /// Bytes received.
        len: usize,
        /// Bytes needed.
        need: usize,
    },
    /// The metadata is not valid JSON of the expected shape.
    #[error("hand-off metadata invalid: {source}")]
    Meta {
        /// serde_json's error.
        source: serde_json::Error,
    },
}

impl HandoffMessage {
    /// Encodes the message.
    pub fn encode(&self) -> Result<Vec<u8>, HandoffError> {
        // The JSON is written in place after room for its length (one buffer, no copy).
        let mut out = Vec::with_capacity(4 + 512 + self.connect_bytes.len());
        out.extend_from_slice(&[0; 4]);
        serde_json::to_writer(&mut out, &self.meta)
            .map_err(|source| HandoffError::Meta { source })?;
        let json_len = (out.len() - 4) as u32;
        out[..4].copy_from_slice(&json_len.to_be_bytes());
        out.extend_from_slice(&self.connect_bytes);
        Ok(out)
    }

    /// Decodes a message produced by [`HandoffMessage::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Self, HandoffError> {
        let Some(head) = bytes.get(..4) else {
            return Err(HandoffError::Truncated {
                len: bytes.len(),
                need: 4,
            });
        };
        let json_len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let need = 4usize.saturating_add(json_len);
        let Some(json) = bytes.get(4..need) else {
            return Err(HandoffError::Truncated {
                len: bytes.len(),
                need,
            });
        };
        let meta = serde_json::from_slice(json).map_err(|source| HandoffError::Meta { source })?;
        Ok(Self {
            meta,
            connect_bytes: bytes[need..].to_vec(),
        })
    }
}

/// Receives one hand-off (message and socket) from a `SOCK_SEQPACKET` socket — what the
/// spawner does, and what a dispatcher taking direct hand-offs does. `Ok(None)` at EOF.
pub fn receive(
    sock: std::os::fd::BorrowedFd<'_>,
) -> Result<Option<(HandoffMessage, Option<std::os::fd::OwnedFd>)>, ReceiveError> {
    let Some((payload, fd)) = crate::fdpass::recv_fd(sock).map_err(|e| ReceiveError::Socket {
        detail: e.to_string(),
    })?
    else {
        return Ok(None);
    };
    let msg =
        HandoffMessage::decode(&payload).map_err(|source| ReceiveError::Message { source })?;
    Ok(Some((msg, fd)))
}

/// Errors of [`receive`].
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    /// `recvmsg` failed.
    #[error("cannot receive a hand-off: {detail}")]
    Socket {
        /// The error.
        detail: String,
    },
    /// The message did not decode.
    #[error("bad hand-off message: {source}")]
    Message {
        /// The error.
        source: HandoffError,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> HandoffMessage {
        HandoffMessage {
            meta: HandoffMeta {
                listener: "LISTENER".into(),
                service: "orcl.example.com".into(),
                sid: "ORCL".into(),
                oracle_home: "/u01/app/oracle".into(),
                global_dbname: Some("orcl.example.com".into()),
                static_sid_desc: true,
                peer: "(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT=40000))".into(),
            },
            connect_bytes: vec![0, 74, 0, 0, 1, 0, 0, 0, 1, 2, 3],
        }
    }

    #[test]
    fn round_trips() {
        let m = sample();
        let bytes = m.encode().expect("encode");
        assert_eq!(HandoffMessage::decode(&bytes).expect("decode"), m);
    }

    #[test]
    fn rejects_truncation_everywhere() {
        let bytes = sample().encode().expect("encode");
        let json_end = 4 + u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
        for cut in 0..json_end {
            assert!(
                HandoffMessage::decode(&bytes[..cut]).is_err(),
                "cut at {cut}"
            );
        }
    }
}
