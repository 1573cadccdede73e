//! The listener's effective configuration: what `tnslsnr NAME` takes from `listener.ora`
//! (endpoints with QUEUESIZE, the static `SID_LIST_<NAME>`, and the `PARAM_<NAME>` controls),
//! with Oracle's defaults filled in. With no `listener.ora` the listener is `LISTENER` on
//! TCP `127.0.0.1:1521` with no services, like Oracle's default listener (but on loopback).

use std::path::PathBuf;
use std::time::Duration;

use crate::home::OracleHome;

/// Oracle's default `INBOUND_CONNECT_TIMEOUT_<l>`.
pub const DEFAULT_INBOUND_CONNECT_TIMEOUT: Duration = Duration::from_secs(60);
/// Linux default accept backlog (QUEUESIZE) per Oracle's docs.
pub const DEFAULT_QUEUESIZE: u32 = 128;

/// One TCP listening endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `HOST` (name or address).
    pub host: String,
    /// `PORT`.
    pub port: u16,
    /// `QUEUESIZE` (accept backlog).
    pub queuesize: u32,
}

impl Endpoint {
    /// `(ADDRESS=(PROTOCOL=tcp)(HOST=h)(PORT=p))`.
    pub fn address(&self) -> String {
        format!("(ADDRESS=(PROTOCOL=tcp)(HOST={})(PORT={}))", self.host, self.port)
    }
}

/// One static `SID_DESC`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticSid {
    /// `GLOBAL_DBNAME`: the service name clients may request (if any).
    pub global_dbname: Option<String>,
    /// `SID_NAME`: the instance.
    pub sid_name: String,
    /// `ORACLE_HOME` of the SID_DESC.
    pub oracle_home: Option<String>,
}

/// Everything the running listener needs from its configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerSettings {
    /// Listener name (upper case).
    pub name: String,
    /// TCP endpoints.
    pub endpoints: Vec<Endpoint>,
    /// Static services.
    pub sids: Vec<StaticSid>,
    /// `INBOUND_CONNECT_TIMEOUT_<l>`; zero disables it.
    pub inbound_connect_timeout: Duration,
    /// `DEFAULT_SERVICE_<l>`.
    pub default_service: Option<String>,
    /// `USE_SID_AS_SERVICE_<l>`.
    pub use_sid_as_service: bool,
    /// `ADMIN_RESTRICTIONS_<l>`: refuse runtime `SET`.
    pub admin_restrictions: bool,
    /// `LOGGING_<l>`.
    pub logging: bool,
    /// `LOG_DIRECTORY_<l>`.
    pub log_directory: PathBuf,
    /// `LOG_FILE_<l>` (file name).
    pub log_file: String,
    /// `TRACE_LEVEL_<l>` (off, user, admin, support).
    pub trace_level: String,
    /// The parameter file read, if one existed.
    pub parameter_file: Option<PathBuf>,
}

impl ListenerSettings {
    /// The settings of a listener with no `listener.ora` entry.
    pub fn defaults(name: &str, home: &OracleHome) -> Self {
        Self {
            name: name.to_ascii_uppercase(),
            endpoints: vec![Endpoint {
                host: "127.0.0.1".to_string(),
                port: 1521,
                queuesize: DEFAULT_QUEUESIZE,
            }],
            sids: Vec::new(),
            inbound_connect_timeout: DEFAULT_INBOUND_CONNECT_TIMEOUT,
            default_service: None,
            use_sid_as_service: false,
            admin_restrictions: false,
            logging: true,
            log_directory: home.default_log_dir(),
            log_file: "listener.log".to_string(),
            trace_level: "off".to_string(),
            parameter_file: None,
        }
    }

    /// Full path of `listener.log`.
    pub fn log_path(&self) -> PathBuf {
        self.log_directory.join(&self.log_file)
    }
}
