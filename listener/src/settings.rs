//! The listener's effective configuration: what `tnslsnr NAME` takes from `listener.ora`
//! (endpoints with QUEUESIZE, the static `SID_LIST_<NAME>`, and the `PARAM_<NAME>` controls),
//! with Oracle's defaults filled in. With no `listener.ora` the listener is `LISTENER` on
//! TCP `127.0.0.1:1521` with no services, like Oracle's default listener (but on loopback).

use std::path::PathBuf;
use std::time::Duration;

use crate::home::OracleHome;
use tns::error_text::tns_line_with;

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
    /// `RATE_LIMIT`: `Some(None)` = counts against `CONNECTION_RATE_<l>` (`yes`),
    /// `Some(Some(n))` = at most n new connections per second on this endpoint.
    pub rate_limit: Option<Option<u32>>,
}

impl Endpoint {
    /// `(ADDRESS=(PROTOCOL=tcp)(HOST=h)(PORT=p))`.
    pub fn address(&self) -> String {
        format!(
            "(ADDRESS=(PROTOCOL=tcp)(HOST={})(PORT={}))",
            self.host, self.port
        )
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
    /// Idle prespawned dedicated servers to keep (`PRESPAWN_LIST` pool sizes, capped by
    /// `PRESPAWN_MAX`).
    pub prespawn: usize,
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
    /// `CONNECTION_RATE_<l>`: new connections per second over all `RATE_LIMIT=yes` endpoints.
    pub connection_rate: Option<u32>,
    /// `INBOUND_CONNECT_TIMEOUT_<l>`; zero disables it.
    pub inbound_connect_timeout: Duration,
    /// `DEFAULT_SERVICE_<l>`.
    pub default_service: Option<String>,
    /// `USE_SID_AS_SERVICE_<l>`.
    pub use_sid_as_service: bool,
    /// `ADMIN_RESTRICTIONS_<l>`: refuse runtime `SET`.
    pub admin_restrictions: bool,
    /// `DYNAMIC_REGISTRATION_<l>`: accept instance registrations.
    pub dynamic_registration: bool,
    /// `DIRECT_HANDOFF_TTC_<l>`: hand sockets to dispatchers directly (else redirect).
    pub direct_handoff: bool,
    /// `SPAWN_METHOD_<l>` (orasim): fork the zygote (default) or fork + exec the server.
    pub spawn_method: config::listener::SpawnMethod,
    /// `SAVE_CONFIG_ON_STOP_<l>`: `save_config` implicitly at `stop`.
    pub save_config_on_stop: bool,
    /// STARTUP_WAITTIME (`lsnrctl set startup_waittime`): seconds the listener sleeps before
    /// it answers a `status` after a start. Kept and shown; this listener is ready as soon as
    /// its admin socket answers, so it does not wait.
    pub startup_waittime: u32,
    /// Where `lsnrctl start` sends the listener's trace (`$ORACLE_HOME/network/trace`).
    pub trace_directory: PathBuf,
    /// The trace file's name (`listener.trc`).
    pub trace_file: String,
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
    /// `sqlnet.ora` valid node checking, when `TCP.VALIDNODE_CHECKING=YES`.
    pub valid_nodes: Option<crate::validnode::ValidNodes>,
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
                rate_limit: None,
            }],
            sids: Vec::new(),
            inbound_connect_timeout: DEFAULT_INBOUND_CONNECT_TIMEOUT,
            connection_rate: None,
            default_service: None,
            use_sid_as_service: false,
            admin_restrictions: false,
            dynamic_registration: true,
            direct_handoff: true,
            spawn_method: config::listener::SpawnMethod::Fork,
            save_config_on_stop: false,
            startup_waittime: 0,
            trace_directory: home.home.join("network").join("trace"),
            trace_file: format!("{}.trc", name.to_ascii_lowercase()),
            logging: true,
            log_directory: home.default_log_dir(),
            // Oracle names the non-ADR log after the listener: listener.log, lsnr2.log, ...
            log_file: format!("{}.log", name.to_ascii_lowercase()),
            trace_level: "off".to_string(),
            parameter_file: None,
            valid_nodes: None,
        }
    }

    /// Full path of `listener.log`.
    pub fn log_path(&self) -> PathBuf {
        self.log_directory.join(&self.log_file)
    }
}

/// Errors loading the listener's settings.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// `listener.ora` exists but could not be read.
    #[error("{0}")]
    Read(String),
    /// The file has no definition for a non-default listener name.
    #[error("{}", tns_line_with(1151, &[name]))]
    MissingListener {
        /// The name asked for.
        name: String,
    },
}

/// Settings plus the parser's diagnostics (rendered `file:line:col: message`).
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The settings.
    pub settings: ListenerSettings,
    /// Diagnostics and notes about ignored entries.
    pub notes: Vec<String>,
}

/// Reads `listener.ora` from the home's admin directory and extracts listener `name`.
pub fn load(home: &OracleHome, name: &str) -> Result<Loaded, SettingsError> {
    let name = name.to_ascii_uppercase();
    let mut settings = ListenerSettings::defaults(&name, home);
    let mut early_notes = Vec::new();
    let sqlnet = home.admin_dir.join("sqlnet.ora");
    if sqlnet.is_file() {
        match config::sqlnet::SqlNet::load(&sqlnet) {
            Ok(p) => {
                early_notes.extend(p.diagnostics.iter().map(|d| d.to_string()));
                if p.value.tcp_validnode_checking {
                    settings.valid_nodes = Some(crate::validnode::ValidNodes::new(
                        &p.value.tcp_invited_nodes,
                        &p.value.tcp_excluded_nodes,
                    ));
                }
            }
            Err(e) => early_notes.push(format!("{}: {e}", sqlnet.display())),
        }
    }
    let path = home.listener_ora();
    if !path.exists() {
        return Ok(Loaded {
            settings,
            notes: early_notes,
        });
    }
    load_file(settings, early_notes, &path, &name)
}

/// The settings of listener `name` from the parameter file at `path` (any file name), on
/// top of `settings` (defaults plus sqlnet.ora).
pub fn load_file(
    mut settings: ListenerSettings,
    early_notes: Vec<String>,
    path: &std::path::Path,
    name: &str,
) -> Result<Loaded, SettingsError> {
    let name = name.to_ascii_uppercase();
    let path = path.to_path_buf();
    let parsed = config::listener::ListenerConfig::load(&path)
        .map_err(|e| SettingsError::Read(e.to_string()))?;
    let mut notes: Vec<String> = early_notes;
    notes.extend(parsed.diagnostics.iter().map(|d| d.to_string()));
    settings.parameter_file = Some(path);
    let Some(l) = parsed.value.listener(&name) else {
        if name == "LISTENER" {
            return Ok(Loaded { settings, notes });
        }
        return Err(SettingsError::MissingListener { name });
    };
    let mut endpoints = Vec::new();
    for e in &l.endpoints {
        if e.protocol != config::listener::Protocol::Tcp {
            notes.push(format!(
                "endpoint {} ignored: only TCP is supported",
                e.render()
            ));
            continue;
        }
        endpoints.push(Endpoint {
            host: e
                .host
                .clone()
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "127.0.0.1".to_string()),
            port: e.port.unwrap_or(1521),
            queuesize: e.queuesize.unwrap_or(DEFAULT_QUEUESIZE),
            rate_limit: e.rate_limit.map(|r| match r {
                config::listener::RateLimit::Shared => None,
                config::listener::RateLimit::PerSecond(n) => Some(n),
            }),
        });
    }
    if !endpoints.is_empty() || !l.endpoints.is_empty() {
        settings.endpoints = endpoints;
    }
    settings.sids = l
        .sid_list
        .iter()
        .filter_map(|s| {
            let Some(sid) = s.sid_name.clone().filter(|v| !v.is_empty()) else {
                notes.push("SID_DESC without SID_NAME ignored".to_string());
                return None;
            };
            let pools: usize = s
                .prespawn
                .iter()
                .filter_map(|p| p.pool_size)
                .map(|n| n as usize)
                .sum();
            let prespawn = s.prespawn_max.map_or(pools, |m| pools.min(m as usize));
            Some(StaticSid {
                global_dbname: s.global_dbname.clone(),
                sid_name: sid,
                oracle_home: s.oracle_home.clone(),
                prespawn,
            })
        })
        .collect();
    let p = &l.params;
    settings.inbound_connect_timeout = p.inbound_connect_timeout;
    settings.default_service = p.default_service.clone();
    settings.connection_rate = p.connection_rate;
    settings.use_sid_as_service = p.use_sid_as_service;
    settings.admin_restrictions = p.admin_restrictions;
    settings.dynamic_registration = p.dynamic_registration;
    settings.direct_handoff = p.direct_handoff_ttc;
    settings.spawn_method = p.spawn_method;
    settings.save_config_on_stop = p.save_config_on_stop;
    settings.logging = p.logging;
    if let Some(d) = &p.log_directory {
        settings.log_directory = d.clone();
    }
    if let Some(f) = &p.log_file {
        settings.log_file = if f.ends_with(".log") {
            f.clone()
        } else {
            format!("{f}.log")
        };
    }
    if let Some(t) = &p.trace_level {
        settings.trace_level = t.to_ascii_lowercase();
    }
    Ok(Loaded { settings, notes })
}

/// `lsnrctl save_config`: writes `params` (`(PARAM, value)`, saved as `PARAM_<NAME>`) into
/// the parameter file the way Oracle's listener does: the old file is kept as `listener.bak`
/// beside it, earlier definitions of those parameters are removed, and the new values are
/// appended between `#----ADDED BY TNSLSNR <date>---` and a closing comment line. Returns the
/// backup's path.
pub fn save_params(
    path: &std::path::Path,
    name: &str,
    params: &[(&str, String)],
    stamp: &str,
) -> std::io::Result<PathBuf> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let backup = path.with_file_name("listener.bak");
    std::fs::write(&backup, &text)?;
    let keys: Vec<String> = params
        .iter()
        .map(|(p, _)| format!("{}_{}", p, name).to_ascii_uppercase())
        .collect();
    let mut out = String::new();
    let mut skipping = false;
    for line in text.lines() {
        let starts_param = line
            .chars()
            .next()
            .is_some_and(|c| !c.is_whitespace() && c != '#');
        if starts_param {
            let key = line
                .split('=')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_uppercase();
            skipping = keys.contains(&key);
        } else if !line.starts_with(char::is_whitespace) {
            skipping = false; // comments and blank lines end a skipped parameter
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    if !out.is_empty() && !out.ends_with("\n\n") {
        out.push('\n');
    }
    out.push_str(&format!("#----ADDED BY TNSLSNR {stamp}---\n"));
    for ((p, v), _) in params.iter().zip(&keys) {
        out.push_str(&format!(
            "{}_{} = {v}\n",
            p.to_ascii_uppercase(),
            name.to_ascii_uppercase()
        ));
    }
    out.push_str("#--------------------------------------------\n");
    std::fs::write(path, out)?;
    Ok(backup)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_params_replaces_old_definitions_and_keeps_a_backup() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("listener.ora");
        let original = "LISTENER =\n  (ADDRESS = (PROTOCOL = TCP)(HOST = 127.0.0.1)(PORT = 1))\n\nINBOUND_CONNECT_TIMEOUT_LISTENER =\n  5\nTRACE_LEVEL_OTHER = admin\n";
        std::fs::write(&path, original).expect("write");
        let bak = save_params(
            &path,
            "LISTENER",
            &[
                ("INBOUND_CONNECT_TIMEOUT", "7".into()),
                ("TRACE_LEVEL", "admin".into()),
            ],
            "22-NOV-2026 14:00:00",
        )
        .expect("save");
        assert_eq!(std::fs::read_to_string(bak).expect("bak"), original);
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(
            text,
            "LISTENER =\n  (ADDRESS = (PROTOCOL = TCP)(HOST = 127.0.0.1)(PORT = 1))\n\nTRACE_LEVEL_OTHER = admin\n\n#----ADDED BY TNSLSNR 22-NOV-2026 14:00:00---\nINBOUND_CONNECT_TIMEOUT_LISTENER = 7\nTRACE_LEVEL_LISTENER = admin\n#--------------------------------------------\n"
        );
        let parsed = config::listener::ListenerConfig::parse_str(&text, "listener.ora");
        let l = parsed.value.listener("LISTENER").expect("listener");
        assert_eq!(l.params.inbound_connect_timeout, Duration::from_secs(7));
    }
}
