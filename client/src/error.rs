//! The one error type of the client library. Every variant that reaches a user carries the
//! Oracle code and Oracle's text (`ORA-12514: TNS:listener does not currently know of
//! service requested in connect descriptor`), so `orasql` and other tools print exactly what
//! a DBA expects to see, and callers can branch on [`ClientError::code`].

use std::io;

use thiserror::Error;

/// Oracle's message text for the Net/TNS and session errors this client raises itself.
/// Server errors arrive with their own text and are not looked up here.
pub fn oracle_text(code: u32) -> &'static str {
    match code {
        1013 => "user requested cancel of current operation",
        1017 => "invalid credential or not authorized; logon denied",
        3106 => "fatal two-task communication protocol error",
        3113 => "end-of-file on communication channel",
        3114 => "not connected to ORACLE",
        12154 => "TNS:could not resolve the connect identifier specified",
        12170 => "TNS:Connect timeout occurred",
        12500 => "TNS:listener failed to start a dedicated server process",
        12502 => "TNS:listener received no CONNECT_DATA from client",
        12504 => "TNS:listener was not given the SERVICE_NAME in CONNECT_DATA",
        12505 => "TNS:listener does not currently know of SID given in connect descriptor",
        12514 => "TNS:listener does not currently know of service requested in connect descriptor",
        12516 => "TNS:listener could not find available handler with matching protocol stack",
        12518 => "TNS:listener could not hand off client connection",
        12519 => "TNS:no appropriate service handler found",
        12520 => "TNS:listener could not find available handler for requested type of server",
        12521 => "TNS:listener does not currently know of instance requested in connect descriptor",
        12525 => "TNS:listener has not received client's request in time allowed",
        12526 => "TNS:listener: all appropriate instances are in restricted mode",
        12527 => {
            "TNS:listener: all appropriate instances are in restricted mode or blocking new connections"
        }
        12528 => "TNS:listener: all appropriate instances are blocking new connections",
        12537 => "TNS:connection closed",
        12541 => "TNS:no listener",
        12545 => "Connect failed because target host or object does not exist",
        12547 => "TNS:lost contact",
        12560 => "TNS:protocol adapter error",
        12564 => "TNS:connection refused",
        _ => "TNS:connection refused",
    }
}

/// Everything that can go wrong between `connect` and `close`.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The identifier did not resolve (ORA-12154 and friends), straight from `config`.
    #[error(transparent)]
    Resolve(#[from] config::naming::ResolveError),

    /// The descriptor names no address this client can dial (e.g. only IPC or TCPS).
    #[error("ORA-12560: TNS:protocol adapter error (no usable TCP address: {detail})")]
    NoUsableAddress {
        /// What was found instead.
        detail: String,
    },

    /// TCP connection refused: nothing listens at the address.
    #[error("ORA-12541: TNS:no listener (host {host} port {port})")]
    NoListener {
        /// Host as written in the descriptor.
        host: String,
        /// Port.
        port: u16,
    },

    /// The host name does not resolve.
    #[error("ORA-12545: Connect failed because target host or object does not exist (host {host})")]
    UnknownHost {
        /// Host as written.
        host: String,
    },

    /// TRANSPORT_CONNECT_TIMEOUT or CONNECT_TIMEOUT expired.
    #[error(
        "ORA-12170: TNS:Connect timeout occurred ({what} of {secs:.1}s for host {host} port {port})"
    )]
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
    #[error("ORA-{code:05}: {text}")]
    Refused {
        /// The Oracle code from the refusal (12514, 12505, ...).
        code: u32,
        /// Oracle's text for it.
        text: &'static str,
        /// The raw refusal text, for diagnostics.
        refuse_data: String,
    },

    /// More REDIRECTs than a client follows (a routing loop).
    #[error("ORA-12564: TNS:connection refused (too many redirects, last to {address})")]
    TooManyRedirects {
        /// The last redirect address.
        address: String,
    },

    /// The peer closed the connection during connect (before ACCEPT or during login).
    #[error("ORA-12537: TNS:connection closed")]
    ConnectionClosed,

    /// The peer closed the connection during a call.
    #[error("ORA-03113: end-of-file on communication channel")]
    EndOfFile,

    /// A socket error after the connect phase.
    #[error("ORA-12547: TNS:lost contact ({context}: {source})")]
    Io {
        /// What the client was doing.
        context: &'static str,
        /// The OS error.
        #[source]
        source: io::Error,
    },

    /// The server answered something this client cannot parse.
    #[error("ORA-03106: fatal two-task communication protocol error ({detail})")]
    Protocol {
        /// What was wrong.
        detail: String,
    },

    /// The server's TNS version is too old for this client (needs large-SDU, 315+).
    #[error(
        "ORA-03106: fatal two-task communication protocol error (server TNS version {version} < 315)"
    )]
    ServerVersion {
        /// Version from ACCEPT.
        version: u16,
    },

    /// The server requires Native Network Encryption, which this client does not speak.
    #[error(
        "ORA-12660: Encryption or crypto-checksumming parameters incompatible (the server requires Native Network Encryption)"
    )]
    NetworkEncryptionRequired,

    /// O5LOGON could not complete: unsupported verifier, bad challenge or a server that
    /// could not prove it knows the password verifier.
    #[error("ORA-28041: Authentication protocol internal error ({detail})")]
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
    #[error("ORA-03156: OCI call timed out (call timeout of {millis} ms exceeded)")]
    CallTimeout {
        /// The call timeout.
        millis: u128,
    },

    /// The connection was closed (by `close`, or after a fatal error).
    #[error("ORA-03114: not connected to ORACLE")]
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
        ClientError::Refused {
            code,
            text: oracle_text(code),
            refuse_data,
        }
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
