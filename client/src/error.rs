//! The one error type of the client library. Every variant that reaches a user carries the
//! Oracle code and Oracle's text (`ORA-12514: TNS:listener does not currently know of
//! service requested in connect descriptor`), so `orasql` and other tools print exactly what
//! a DBA expects to see, and callers can branch on [`ClientError::code`]. The texts come
//! from the one table in [`tns::error_text`] and are printed as Oracle prints them, with
//! nothing added; what this client knows beyond them (host, port, timeout, the OS error)
//! stays in the variant's fields and in [`ClientError::detail`], for logs and tests.

use std::io;

use thiserror::Error;
use tns::error_text::ora_line;

/// Everything that can go wrong between `connect` and `close`.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The identifier did not resolve (ORA-12154 and friends), straight from `config`.
    #[error(transparent)]
    Resolve(#[from] config::naming::ResolveError),

    /// The descriptor names no address this client can dial (e.g. only IPC or TCPS).
    #[error("{}", ora_line(12560))]
    NoUsableAddress {
        /// What was found instead.
        detail: String,
    },

    /// TCP connection refused: nothing listens at the address.
    #[error("{}", ora_line(12541))]
    NoListener {
        /// Host as written in the descriptor.
        host: String,
        /// Port.
        port: u16,
    },

    /// The host name does not resolve.
    #[error("{}", ora_line(12545))]
    UnknownHost {
        /// Host as written.
        host: String,
    },

    /// TRANSPORT_CONNECT_TIMEOUT or CONNECT_TIMEOUT expired.
    #[error("{}", ora_line(12170))]
    ConnectTimeout {
        /// Which timeout (`TCP connect timeout`, `Outbound connect timeout`).
        what: &'static str,
        /// Its value.
        secs: f64,
        /// Host as written.
        host: String,
        /// Port.
        port: u16,
    },

    /// The listener refused the connection with `(ERR=code)`.
    #[error("{}", ora_line(*code))]
    Refused {
        /// The Oracle code from the refusal (12514, 12505, ...).
        code: u32,
        /// The raw refusal text, for diagnostics.
        refuse_data: String,
    },

    /// More REDIRECTs than a client follows (a routing loop).
    #[error("{}", ora_line(12564))]
    TooManyRedirects {
        /// The last redirect address.
        address: String,
    },

    /// The peer closed the connection during connect (before ACCEPT or during login).
    #[error("{}", ora_line(12537))]
    ConnectionClosed,

    /// The peer closed the connection during a call.
    #[error("{}", ora_line(3113))]
    EndOfFile,

    /// A socket error after the connect phase.
    #[error("{}", ora_line(12547))]
    Io {
        /// What the client was doing.
        context: &'static str,
        /// The OS error.
        #[source]
        source: io::Error,
    },

    /// The server answered something this client cannot parse.
    #[error("{}", ora_line(3106))]
    Protocol {
        /// What was wrong.
        detail: String,
    },

    /// The server's TNS version is too old for this client (needs large-SDU, 315+).
    #[error("{}", ora_line(3106))]
    ServerVersion {
        /// Version from ACCEPT.
        version: u16,
    },

    /// The server requires Native Network Encryption, which this client does not speak.
    #[error("{}", ora_line(12660))]
    NetworkEncryptionRequired,

    /// O5LOGON could not complete: unsupported verifier, bad challenge or a server that
    /// could not prove it knows the password verifier.
    #[error("{}", ora_line(28041))]
    Auth {
        /// The O5LOGON failure.
        detail: String,
    },

    /// An error the database returned (`ORA-00942: table or view does not exist`).
    #[error("{message}")]
    Database {
        /// The ORA code.
        code: u32,
        /// The full text as the server sent it, starting with `ORA-nnnnn:`.
        message: String,
        /// Error position in the SQL text, if the server gave one.
        offset: Option<u32>,
    },

    /// A call timed out and the server did not answer the INTERRUPT either.
    #[error("{}", ora_line(3156))]
    CallTimeout {
        /// The call timeout.
        millis: u128,
    },

    /// The connection was closed (by `close`, or after a fatal error).
    #[error("{}", ora_line(3114))]
    NotConnected,
}

impl ClientError {
    /// The Oracle error number, where there is one.
    pub fn code(&self) -> Option<u32> {
        Some(match self {
            ClientError::Resolve(_) => 12154,
            ClientError::NoUsableAddress { .. } => 12560,
            ClientError::NoListener { .. } => 12541,
            ClientError::UnknownHost { .. } => 12545,
            ClientError::ConnectTimeout { .. } => 12170,
            ClientError::Refused { code, .. } => *code,
            ClientError::TooManyRedirects { .. } => 12564,
            ClientError::ConnectionClosed => 12537,
            ClientError::EndOfFile => 3113,
            ClientError::Io { .. } => 12547,
            ClientError::Protocol { .. } | ClientError::ServerVersion { .. } => 3106,
            ClientError::Auth { .. } => 28041,
            ClientError::NetworkEncryptionRequired => 12660,
            ClientError::Database { code, .. } => *code,
            ClientError::CallTimeout { .. } => 3156,
            ClientError::NotConnected => 3114,
        })
    }

    /// What this client knows beyond Oracle's line (host and port, the OS error, the
    /// protocol detail), for a log or a `-v` output; Oracle's own tools do not print it.
    pub fn detail(&self) -> Option<String> {
        match self {
            ClientError::Resolve(e) => Some(format!("{e:?}")),
            ClientError::NoUsableAddress { detail }
            | ClientError::Protocol { detail }
            | ClientError::Auth { detail } => Some(detail.clone()),
            ClientError::NoListener { host, port } => Some(format!("host {host} port {port}")),
            ClientError::UnknownHost { host } => Some(format!("host {host}")),
            ClientError::ConnectTimeout {
                what,
                secs,
                host,
                port,
            } => Some(format!("{what} of {secs:.1}s for host {host} port {port}")),
            ClientError::TooManyRedirects { address } => Some(format!("last to {address}")),
            ClientError::Io { context, source } => Some(format!("{context}: {source}")),
            ClientError::ServerVersion { version } => {
                Some(format!("server TNS version {version} < 315"))
            }
            ClientError::Refused { refuse_data, .. } => Some(refuse_data.clone()),
            ClientError::CallTimeout { millis } => Some(format!("call timeout of {millis} ms")),
            ClientError::NetworkEncryptionRequired
            | ClientError::ConnectionClosed
            | ClientError::EndOfFile
            | ClientError::Database { .. }
            | ClientError::NotConnected => None,
        }
    }

    /// True when the session cannot be used any more after this error.
    pub fn is_fatal(&self) -> bool {
        match self {
            ClientError::Database { code, .. } => SESSION_DEAD_CODES.contains(code),
            _ => true,
        }
    }

    pub(crate) fn protocol(detail: impl Into<String>) -> Self {
        ClientError::Protocol {
            detail: detail.into(),
        }
    }

    pub(crate) fn refused(code: u32, refuse_data: String) -> Self {
        ClientError::Refused { code, refuse_data }
    }
}

impl From<tns::ttc::buf::TtcError> for ClientError {
    fn from(e: tns::ttc::buf::TtcError) -> Self {
        ClientError::protocol(e.to_string())
    }
}

impl From<tns::packet::DecodeError> for ClientError {
    fn from(e: tns::packet::DecodeError) -> Self {
        ClientError::protocol(e.to_string())
    }
}

/// Server error codes after which the session is gone (the client drops the socket).
pub const SESSION_DEAD_CODES: &[u32] = &[
    22, 28, 31, 45, 378, 600, 602, 603, 609, 1012, 1041, 1043, 1089, 1092, 2396, 3113, 3114, 3122,
    3135, 12153, 12537, 12547, 12570, 12583, 27146, 28511, 56600,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_text_is_oracles() {
        let e = ClientError::refused(12514, String::new());
        assert_eq!(
            e.to_string(),
            "ORA-12514: TNS:listener does not currently know of service requested in connect descriptor"
        );
        assert_eq!(e.code(), Some(12514));
        let e = ClientError::refused(12505, String::new());
        assert_eq!(
            e.to_string(),
            "ORA-12505: TNS:listener does not currently know of SID given in connect descriptor"
        );
        let e = ClientError::refused(12527, String::new());
        assert_eq!(
            e.to_string(),
            "ORA-12527: TNS:listener: all appropriate instances are in restricted mode or blocking new connections"
        );
        // A code the table does not know keeps its number and gets no invented text.
        let e = ClientError::refused(12699, "(ERR=12699)".into());
        assert_eq!(
            (e.to_string(), e.code()),
            ("ORA-12699".to_string(), Some(12699))
        );
    }

    #[test]
    fn own_errors_print_oracles_text_only() {
        let e = ClientError::NoListener {
            host: "db1".into(),
            port: 1522,
        };
        assert_eq!(e.to_string(), "ORA-12541: TNS:no listener");
        assert_eq!(e.detail().as_deref(), Some("host db1 port 1522"));
        assert_eq!(
            ClientError::EndOfFile.to_string(),
            "ORA-03113: end-of-file on communication channel"
        );
        assert_eq!(
            ClientError::NotConnected.to_string(),
            "ORA-03114: not connected to ORACLE"
        );
    }

    #[test]
    fn fatal_classification() {
        let e = ClientError::Database {
            code: 942,
            message: "ORA-00942: table or view does not exist".into(),
            offset: Some(14),
        };
        assert!(!e.is_fatal());
        assert_eq!(e.to_string(), "ORA-00942: table or view does not exist");
        let e = ClientError::Database {
            code: 28,
            message: "ORA-00028: your session has been killed".into(),
            offset: None,
        };
        assert!(e.is_fatal());
        assert!(ClientError::EndOfFile.is_fatal());
    }
}
