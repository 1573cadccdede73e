//! The local administration channel between `lsnrctl` and `tnslsnr`: a Unix stream socket
//! per listener (path from [`crate::home::OracleHome::admin_socket`]), one JSON request line
//! and one JSON response line per connection. Only the listener's own uid or root may use
//! it (checked with `SO_PEERCRED`), as Oracle's "Local OS Authentication".
//!
//! The wire format is private to this crate and `lsnrctl`; no lower crate knows it.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tns::error_text::tns_line;

use crate::services::ServiceView;

/// A command from `lsnrctl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum AdminRequest {
    /// `lsnrctl status`.
    Status,
    /// `lsnrctl services`.
    Services,
    /// `lsnrctl stop`.
    Stop,
    /// `lsnrctl reload`.
    Reload,
    /// `lsnrctl version`.
    Version,
    /// `lsnrctl save_config`.
    SaveConfig,
    /// `lsnrctl set <param> <value>`.
    Set {
        /// Parameter name (lower case).
        param: String,
        /// New value.
        value: String,
    },
    /// `lsnrctl show <param>`.
    Show {
        /// Parameter name (lower case).
        param: String,
    },
}

/// The data behind `lsnrctl status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    /// Listener name.
    pub alias: String,
    /// `TNSLSNR for Linux: Version ...`.
    pub version: String,
    /// Start time, seconds since the epoch.
    pub start_unix: u64,
    /// Uptime in seconds.
    pub uptime_secs: u64,
    /// Trace level word.
    pub trace_level: String,
    /// `ON: Local OS Authentication`.
    pub security: String,
    /// `DEFAULT_SERVICE_<l>`.
    pub default_service: Option<String>,
    /// `listener.ora` path, if one was read.
    pub parameter_file: Option<String>,
    /// `listener.log` path, if logging is on.
    pub log_file: Option<String>,
    /// The trace file, while tracing is on (`Listener Trace File`).
    #[serde(default)]
    pub trace_file: Option<String>,
    /// `(DESCRIPTION=(ADDRESS=...))` per endpoint.
    pub endpoints: Vec<String>,
    /// Services.
    pub services: Vec<ServiceView>,
    /// Listener process id.
    pub pid: u32,
}

/// The listener's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AdminResponse {
    /// Status report.
    Status(Box<StatusReport>),
    /// Services report.
    Services {
        /// Services.
        services: Vec<ServiceView>,
    },
    /// Success, optionally with a message line (e.g. `LISTENER parameter "x" set to 2`).
    Ok {
        /// Message lines.
        lines: Vec<String>,
    },
    /// Failure with an Oracle code.
    Error {
        /// TNS code.
        code: u32,
        /// Message lines (already `TNS-nnnnn: ...`).
        lines: Vec<String>,
    },
}

/// Errors talking to a listener.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Nothing listens on the admin socket (TNS-12541).
    #[error("{} ({path}: {source})", tns_line(12541))]
    NoListener {
        /// Socket path.
        path: PathBuf,
        /// Cause (ENOENT or ECONNREFUSED).
        source: std::io::Error,
    },
    /// The exchange failed midway.
    #[error("{} ({detail})", tns_line(12560))]
    Protocol {
        /// What failed.
        detail: String,
    },
}

/// How long `lsnrctl` waits for an answer.
pub const ADMIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Sends one request and reads the response.
pub fn call(path: &Path, req: &AdminRequest) -> Result<AdminResponse, AdminError> {
    let stream = UnixStream::connect(path).map_err(|source| AdminError::NoListener {
        path: path.to_path_buf(),
        source,
    })?;
    let proto = |e: std::io::Error| AdminError::Protocol {
        detail: e.to_string(),
    };
    stream
        .set_read_timeout(Some(ADMIN_TIMEOUT))
        .map_err(proto)?;
    stream
        .set_write_timeout(Some(ADMIN_TIMEOUT))
        .map_err(proto)?;
    let mut line = serde_json::to_string(req).map_err(|e| AdminError::Protocol {
        detail: e.to_string(),
    })?;
    line.push('\n');
    (&stream).write_all(line.as_bytes()).map_err(proto)?;
    let mut reader = BufReader::new(&stream);
    let mut answer = String::new();
    reader.read_line(&mut answer).map_err(proto)?;
    if answer.is_empty() {
        return Err(AdminError::Protocol {
            detail: "listener closed the admin connection".to_string(),
        });
    }
    serde_json::from_str(&answer).map_err(|e| AdminError::Protocol {
        detail: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_as_json_lines() {
        for r in [
            AdminRequest::Status,
            AdminRequest::Set {
                param: "inbound_connect_timeout".into(),
                value: "5".into(),
            },
            AdminRequest::Show {
                param: "trc_level".into(),
            },
        ] {
            let s = serde_json::to_string(&r).expect("json");
            assert!(!s.contains('\n'));
            assert_eq!(serde_json::from_str::<AdminRequest>(&s).expect("parse"), r);
        }
    }

    #[test]
    fn missing_socket_is_no_listener() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err =
            call(&dir.path().join("none.ctl"), &AdminRequest::Status).expect_err("no listener");
        assert!(matches!(err, AdminError::NoListener { .. }));
    }
}
