//! `listener.toml`: the same [`ListenerConfig`] as `listener.ora`, for people who would
//! rather write TOML. The file-format structs here are private; the rest of the code only
//! sees the model. The mapping is documented in `config/README.md`:
//!
//! ```toml
//! [listener.LISTENER]                 # LISTENER = (DESCRIPTION_LIST=...)
//! inbound_connect_timeout = 5         # INBOUND_CONNECT_TIMEOUT_LISTENER (seconds)
//! connection_rate = 10                # CONNECTION_RATE_LISTENER
//! default_service = "orcl"            # DEFAULT_SERVICE_LISTENER
//!
//! [[listener.LISTENER.endpoint]]      # (ADDRESS=(PROTOCOL=tcp)(HOST=..)(PORT=..)...)
//! protocol = "tcp"
//! host = "127.0.0.1"
//! port = 1521
//! queuesize = 50
//! rate_limit = "yes"                  # or a number
//!
//! [[listener.LISTENER.sid_desc]]      # SID_LIST_LISTENER = (SID_LIST=(SID_DESC=...))
//! global_dbname = "orcl"
//! sid_name = "ORCL"
//! ```
//!
//! Unknown keys are kept as warnings (with their line), never fatal.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::descriptor::{Address, RawParam, RawValue};
use crate::diag::{Diagnostic, LineIndex, Parsed, Pos};
use crate::listener::{
    Endpoint, Listener, ListenerConfig, PrespawnDesc, SidDesc, SpawnMethod, ValidNodeChecking,
};

#[derive(Deserialize, Default)]
struct FileToml {
    #[serde(default)]
    listener: BTreeMap<String, ListenerToml>,
    #[serde(flatten)]
    unknown: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize, Default)]
struct ListenerToml {
    #[serde(default)]
    endpoint: Vec<EndpointToml>,
    #[serde(default)]
    sid_desc: Vec<SidDescToml>,
    inbound_connect_timeout: Option<u64>,
    connection_rate: Option<u32>,
    service_rate: Option<u32>,
    default_service: Option<String>,
    admin_restrictions: Option<bool>,
    logging: Option<bool>,
    log_directory: Option<PathBuf>,
    log_file: Option<String>,
    trace_level: Option<String>,
    trace_directory: Option<PathBuf>,
    trace_file: Option<String>,
    diag_adr_enabled: Option<bool>,
    adr_base: Option<PathBuf>,
    valid_node_checking_registration: Option<String>,
    #[serde(default)]
    registration_invited_nodes: Vec<String>,
    #[serde(default)]
    registration_excluded_nodes: Vec<String>,
    dynamic_registration: Option<bool>,
    save_config_on_stop: Option<bool>,
    use_sid_as_service: Option<bool>,
    enable_global_dynamic_endpoint: Option<bool>,
    subscribe_for_node_down_event: Option<bool>,
    direct_handoff_ttc: Option<bool>,
    dedicated_through_broker: Option<bool>,
    spawn_method: Option<String>,
    #[serde(default)]
    secure_register: Vec<String>,
    #[serde(default)]
    secure_control: Vec<String>,
    #[serde(flatten)]
    unknown: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
struct EndpointToml {
    #[serde(default = "tcp")]
    protocol: String,
    host: Option<String>,
    port: Option<u16>,
    key: Option<String>,
    queuesize: Option<u32>,
    rate_limit: Option<toml::Value>,
    send_buf_size: Option<u32>,
    recv_buf_size: Option<u32>,
    #[serde(flatten)]
    unknown: BTreeMap<String, toml::Value>,
}

fn tcp() -> String {
    "tcp".to_string()
}

#[derive(Deserialize)]
struct SidDescToml {
    global_dbname: Option<String>,
    sid_name: Option<String>,
    oracle_home: Option<String>,
    program: Option<String>,
    envs: Option<String>,
    prespawn_max: Option<u32>,
    #[serde(default)]
    prespawn: Vec<PrespawnToml>,
    #[serde(flatten)]
    unknown: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
struct PrespawnToml {
    protocol: Option<String>,
    pool_size: Option<u32>,
    timeout: Option<u32>,
}

/// Finds the first line where `key` is assigned or used as a table name (for warnings).
fn key_pos(text: &str, lines: &LineIndex, key: &str) -> Pos {
    let mut off = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        let indent = line.len() - t.len();
        if t.starts_with(key) && t[key.len()..].trim_start().starts_with('=') {
            return lines.pos(text, off + indent);
        }
        off += line.len();
    }
    Pos { line: 1, col: 1 }
}

fn to_raw(key: &str, v: &toml::Value) -> RawParam {
    let value = match v {
        toml::Value::Array(a) => RawValue::List(
            a.iter()
                .map(|x| x.to_string().trim_matches('"').to_string())
                .collect(),
        ),
        toml::Value::String(s) => RawValue::Text(s.clone()),
        other => RawValue::Text(other.to_string()),
    };
    RawParam {
        key: key.to_ascii_uppercase(),
        value,
    }
}

impl ListenerConfig {
    /// Parses `listener.toml` text; `file` names diagnostics. A TOML syntax error gives an
    /// empty model and one error diagnostic at the error's position.
    pub fn parse_toml(text: &str, file: &str) -> Parsed<ListenerConfig> {
        let file: Arc<str> = Arc::from(file);
        let lines = LineIndex::new(text);
        let mut diags = Vec::new();
        let parsed: FileToml = match toml::from_str(text) {
            Ok(p) => p,
            Err(e) => {
                let pos = e
                    .span()
                    .map_or(Pos { line: 1, col: 1 }, |s| lines.pos(text, s.start));
                let msg = e.message().trim().to_string();
                diags.push(Diagnostic::error(
                    &file,
                    pos,
                    format!("{msg}; file skipped"),
                ));
                return Parsed {
                    value: ListenerConfig::default(),
                    diagnostics: diags,
                };
            }
        };
        let mut cfg = ListenerConfig::default();
        for (k, v) in &parsed.unknown {
            diags.push(Diagnostic::warning(
                &file,
                key_pos(text, &lines, k),
                format!("unknown key {k} kept"),
            ));
            cfg.other.push(to_raw(k, v));
        }
        for (name, lt) in parsed.listener {
            let mut l = Listener::new(&name);
            let warn = |diags: &mut Vec<Diagnostic>, key: &str, msg: String| {
                diags.push(Diagnostic::warning(&file, key_pos(text, &lines, key), msg));
            };
            for e in &lt.endpoint {
                for k in e.unknown.keys() {
                    warn(
                        &mut diags,
                        k,
                        format!("listener {name}: unknown endpoint key {k} ignored"),
                    );
                }
                let rate_limit = match &e.rate_limit {
                    None => None,
                    Some(toml::Value::String(s)) => Some(s.clone()),
                    Some(toml::Value::Integer(n)) => Some(n.to_string()),
                    Some(toml::Value::Boolean(b)) => {
                        Some(if *b { "yes" } else { "no" }.to_string())
                    }
                    Some(other) => Some(other.to_string()),
                };
                let a = Address {
                    protocol: Some(e.protocol.to_ascii_lowercase()),
                    host: e.host.clone(),
                    port: e.port,
                    key: e.key.clone(),
                    queuesize: e.queuesize,
                    rate_limit,
                    send_buf_size: e.send_buf_size,
                    recv_buf_size: e.recv_buf_size,
                    ..Address::default()
                };
                match Endpoint::from_address(&a) {
                    Ok(ep) => l.endpoints.push(ep),
                    Err(why) => warn(
                        &mut diags,
                        "protocol",
                        format!("listener {name}: endpoint ignored: {why}"),
                    ),
                }
            }
            for s in lt.sid_desc {
                let mut extra = Vec::new();
                for (k, v) in &s.unknown {
                    warn(
                        &mut diags,
                        k,
                        format!("listener {name}: unknown sid_desc key {k} kept"),
                    );
                    extra.push(to_raw(k, v));
                }
                l.sid_list.push(SidDesc {
                    global_dbname: s.global_dbname,
                    sid_name: s.sid_name,
                    oracle_home: s.oracle_home,
                    program: s.program,
                    envs: s.envs,
                    prespawn_max: s.prespawn_max,
                    prespawn: s
                        .prespawn
                        .into_iter()
                        .map(|p| PrespawnDesc {
                            protocol: p.protocol,
                            pool_size: p.pool_size,
                            timeout: p.timeout,
                        })
                        .collect(),
                    extra,
                });
            }
            let p = &mut l.params;
            if let Some(t) = lt.inbound_connect_timeout {
                p.inbound_connect_timeout = Duration::from_secs(t);
            }
            p.connection_rate = lt.connection_rate;
            p.service_rate = lt.service_rate;
            p.default_service = lt.default_service;
            p.admin_restrictions = lt.admin_restrictions.unwrap_or(p.admin_restrictions);
            p.logging = lt.logging.unwrap_or(p.logging);
            p.log_directory = lt.log_directory;
            p.log_file = lt.log_file;
            p.trace_level = lt.trace_level;
            p.trace_directory = lt.trace_directory;
            p.trace_file = lt.trace_file;
            p.diag_adr_enabled = lt.diag_adr_enabled.unwrap_or(p.diag_adr_enabled);
            p.adr_base = lt.adr_base;
            if let Some(v) = lt.valid_node_checking_registration {
                match v.to_ascii_uppercase().as_str() {
                    "OFF" | "0" => p.valid_node_checking_registration = ValidNodeChecking::Off,
                    "ON" | "1" | "LOCAL" => {
                        p.valid_node_checking_registration = ValidNodeChecking::Local
                    }
                    "SUBNET" | "2" => {
                        p.valid_node_checking_registration = ValidNodeChecking::Subnet
                    }
                    _ => warn(
                        &mut diags,
                        "valid_node_checking_registration",
                        format!(
                            "listener {name}: valid_node_checking_registration '{v}' is not off, local or subnet"
                        ),
                    ),
                }
            }
            p.registration_invited_nodes = lt.registration_invited_nodes;
            p.registration_excluded_nodes = lt.registration_excluded_nodes;
            p.dynamic_registration = lt.dynamic_registration.unwrap_or(p.dynamic_registration);
            p.save_config_on_stop = lt.save_config_on_stop.unwrap_or(p.save_config_on_stop);
            p.use_sid_as_service = lt.use_sid_as_service.unwrap_or(p.use_sid_as_service);
            p.enable_global_dynamic_endpoint = lt
                .enable_global_dynamic_endpoint
                .unwrap_or(p.enable_global_dynamic_endpoint);
            p.subscribe_for_node_down_event = lt
                .subscribe_for_node_down_event
                .unwrap_or(p.subscribe_for_node_down_event);
            p.direct_handoff_ttc = lt.direct_handoff_ttc.unwrap_or(p.direct_handoff_ttc);
            p.dedicated_through_broker = lt
                .dedicated_through_broker
                .unwrap_or(p.dedicated_through_broker);
            if let Some(v) = lt.spawn_method {
                match SpawnMethod::parse(&v) {
                    Some(m) => p.spawn_method = m,
                    None => warn(
                        &mut diags,
                        "spawn_method",
                        format!("listener {name}: spawn_method '{v}' is not fork or exec"),
                    ),
                }
            }
            p.secure_register = lt.secure_register;
            p.secure_control = lt.secure_control;
            for (k, v) in &lt.unknown {
                warn(
                    &mut diags,
                    k,
                    format!("listener {name}: unknown key {k} kept"),
                );
                p.other.push(to_raw(k, v));
            }
            cfg.listeners.push(l);
        }
        Parsed {
            value: cfg,
            diagnostics: diags,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listener::{Protocol, RateLimit};

    #[test]
    fn toml_matches_ora() {
        let toml = r#"
[listener.LISTENER]
inbound_connect_timeout = 5
connection_rate = 10
default_service = "orcl"
valid_node_checking_registration = "subnet"
spawn_method = "exec"
colour = "blue"

[[listener.LISTENER.endpoint]]
protocol = "TCP"
host = "dbhost"
port = 1521
queuesize = 50
rate_limit = "yes"

[[listener.LISTENER.endpoint]]
protocol = "ipc"
key = "EXTPROC1521"

[[listener.LISTENER.sid_desc]]
global_dbname = "orcl"
sid_name = "ORCL"
oracle_home = "/u01/db"
"#;
        let ora = "LISTENER = (DESCRIPTION_LIST = (DESCRIPTION = \
                   (ADDRESS = (PROTOCOL = TCP)(HOST = dbhost)(PORT = 1521)(QUEUESIZE = 50)(RATE_LIMIT = yes))\n  \
                   (ADDRESS = (PROTOCOL = IPC)(KEY = EXTPROC1521))))\n\
                   SID_LIST_LISTENER = (SID_LIST = (SID_DESC = (GLOBAL_DBNAME = orcl)(SID_NAME = ORCL)(ORACLE_HOME = /u01/db)))\n\
                   INBOUND_CONNECT_TIMEOUT_LISTENER = 5\nCONNECTION_RATE_LISTENER = 10\nDEFAULT_SERVICE_LISTENER = orcl\n\
                   VALID_NODE_CHECKING_REGISTRATION_LISTENER = SUBNET\nSPAWN_METHOD_LISTENER = EXEC\n\
                   COLOUR_LISTENER = blue\n";
        let t = ListenerConfig::parse_toml(toml, "listener.toml");
        let o = ListenerConfig::parse_str(ora, "listener.ora");
        assert!(!o.has_errors(), "{:?}", o.diagnostics);
        assert_eq!(t.diagnostics.len(), 1, "{:?}", t.diagnostics);
        assert_eq!(
            t.diagnostics[0].to_string(),
            "listener.toml:8:1: warning: listener LISTENER: unknown key colour kept"
        );
        let (tl, ol) = (&t.value.listeners[0], &o.value.listeners[0]);
        assert_eq!(tl.sid_list, ol.sid_list);
        assert_eq!(tl.endpoints.len(), 2);
        for (a, b) in tl.endpoints.iter().zip(&ol.endpoints) {
            assert_eq!(
                (
                    &a.protocol,
                    &a.host,
                    a.port,
                    &a.key,
                    a.queuesize,
                    a.rate_limit
                ),
                (
                    &b.protocol,
                    &b.host,
                    b.port,
                    &b.key,
                    b.queuesize,
                    b.rate_limit
                )
            );
        }
        assert_eq!(tl.endpoints[0].protocol, Protocol::Tcp);
        assert_eq!(tl.endpoints[0].rate_limit, Some(RateLimit::Shared));
        let (mut tp, mut op) = (tl.params.clone(), ol.params.clone());
        tp.other.clear();
        op.other.clear();
        assert_eq!(tp, op);
        assert_eq!(tp.spawn_method, SpawnMethod::Exec);
    }

    #[test]
    fn spawn_method_defaults_to_fork_and_warns_on_other_values() {
        let o = ListenerConfig::parse_str(
            "L = (ADDRESS = (PROTOCOL = TCP)(PORT = 1))\nSPAWN_METHOD_L = vfork\n",
            "listener.ora",
        );
        assert_eq!(o.value.listeners[0].params.spawn_method, SpawnMethod::Fork);
        assert_eq!(o.diagnostics.len(), 1, "{:?}", o.diagnostics);
        assert_eq!(
            o.diagnostics[0].to_string(),
            "listener.ora:2:18: warning: SPAWN_METHOD_L: expected FORK or EXEC; Oracle's default is kept"
        );
    }

    #[test]
    fn syntax_error_has_position() {
        let t = ListenerConfig::parse_toml("[listener.L]\nport = = 3\n", "l.toml");
        assert_eq!(t.diagnostics.len(), 1);
        assert!(t.diagnostics[0].is_error());
        assert_eq!(t.diagnostics[0].pos.line, 2);
    }
}
