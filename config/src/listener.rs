//! `listener.ora` as a typed model: which listeners exist, where they listen, which
//! services they know statically (SID_LIST), and the `PARAM_<listener>` controls with
//! Oracle's defaults. The listener crate reads only this model, whether it came from
//! `listener.ora` or from `listener.toml` ([`crate::listener_toml`]).
//!
//! Unknown parameters are kept (in [`ListenerConfig::other`] / [`ListenerParams::other`])
//! and reported as warnings, never fatal.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::descriptor::{
    Address, ConnectDescriptor, RawParam, RawValue, parse_bool, render_item, render_param,
    render_text,
};
use crate::diag::{Diagnostic, Parsed, Pos};
use crate::paramfile::{Node, Param, ParamFile, Value};

/// Failure to read a listener configuration file at all (syntax problems are diagnostics).
#[derive(Debug, thiserror::Error)]
pub enum ListenerConfigError {
    /// The file could not be read.
    #[error("cannot read listener configuration {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListenerConfig {
    /// Listeners in file order (a name defined twice keeps the last definition).
    pub listeners: Vec<Listener>,
    /// File-wide parameters that belong to no listener (WALLET_LOCATION, SSL_*...), verbatim.
    pub other: Vec<RawParam>,
}

/// One listener (`LISTENER = (DESCRIPTION_LIST=...)` and everything suffixed `_LISTENER`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    /// The name as written; compare case-insensitively.
    pub name: String,
    /// Listening endpoints. Empty means Oracle's default: TCP on the local host, port 1521.
    pub endpoints: Vec<Endpoint>,
    /// Static registrations from `SID_LIST_<name>`.
    pub sid_list: Vec<SidDesc>,
    /// `PARAM_<name>` controls.
    pub params: ListenerParams,
}

impl Listener {
    /// A listener with no endpoints and default parameters.
    pub fn new(name: &str) -> Listener {
        Listener {
            name: name.to_string(),
            endpoints: Vec::new(),
            sid_list: Vec::new(),
            params: ListenerParams::default(),
        }
    }
}

/// Transport of an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protocol {
    /// TCP/IP.
    Tcp,
    /// TCP/IP with TLS.
    Tcps,
    /// Local IPC (a Unix-domain socket named by KEY).
    Ipc,
    /// Anything else (NMP, SDP, ...), lower-cased.
    Other(String),
}

impl Protocol {
    /// Case-insensitive parse.
    pub fn parse(s: &str) -> Protocol {
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Protocol::Tcp,
            "tcps" => Protocol::Tcps,
            "ipc" => Protocol::Ipc,
            other => Protocol::Other(other.to_string()),
        }
    }

    /// Lower-case name, as the listener prints it.
    pub fn as_str(&self) -> &str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Tcps => "tcps",
            Protocol::Ipc => "ipc",
            Protocol::Other(s) => s,
        }
    }
}

/// How an endpoint takes part in connection-rate limiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimit {
    /// `RATE_LIMIT=yes`: counts against `CONNECTION_RATE_<listener>`.
    Shared,
    /// `RATE_LIMIT=n` (n ≥ 1): this endpoint alone accepts at most n new connections per
    /// second.
    PerSecond(u32),
}

/// One listening endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Transport.
    pub protocol: Protocol,
    /// HOST (TCP/TCPS).
    pub host: Option<String>,
    /// PORT (TCP/TCPS; 1521 when unset).
    pub port: Option<u16>,
    /// KEY (IPC).
    pub key: Option<String>,
    /// QUEUESIZE: listen backlog.
    pub queuesize: Option<u32>,
    /// RATE_LIMIT.
    pub rate_limit: Option<RateLimit>,
    /// The address as written, for `Listening on:` lines and status output.
    pub address: Address,
}

impl Endpoint {
    /// `(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=h)(PORT=1521)))`, as lsnrctl prints it.
    pub fn render(&self) -> String {
        format!("(DESCRIPTION={})", self.address.render())
    }

    /// Builds an endpoint from an address; `None` with a reason when unusable.
    pub fn from_address(a: &Address) -> Result<Endpoint, String> {
        let protocol = Protocol::parse(a.protocol.as_deref().unwrap_or("tcp"));
        let rate_limit = match a.rate_limit.as_deref() {
            None => None,
            // A number is a per-endpoint limit (0 = none); yes/no join or leave the
            // listener-wide CONNECTION_RATE.
            Some(r) => match (r.trim().parse::<u32>(), parse_bool(r)) {
                (Ok(0), _) => None,
                (Ok(n), _) => Some(RateLimit::PerSecond(n)),
                (Err(_), Some(true)) => Some(RateLimit::Shared),
                (Err(_), Some(false)) => None,
                (Err(_), None) => {
                    return Err(format!("RATE_LIMIT '{r}' is neither yes/no nor a number"));
                }
            },
        };
        match protocol {
            Protocol::Ipc if a.key.is_none() => return Err("IPC address without KEY".into()),
            Protocol::Tcp | Protocol::Tcps
                if a.port.is_none() && a.extra.iter().any(|p| p.key == "PORT") =>
            {
                return Err("PORT is not a number".into());
            }
            _ => {}
        }
        Ok(Endpoint {
            protocol,
            host: a.host.clone(),
            port: a.port,
            key: a.key.clone(),
            queuesize: a.queuesize,
            rate_limit,
            address: a.clone(),
        })
    }
}

/// One `(SID_DESC=...)` static registration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SidDesc {
    /// GLOBAL_DBNAME: the service name this entry answers for.
    pub global_dbname: Option<String>,
    /// SID_NAME: the instance.
    pub sid_name: Option<String>,
    /// ORACLE_HOME.
    pub oracle_home: Option<String>,
    /// PROGRAM (the server executable, e.g. `extproc`).
    pub program: Option<String>,
    /// ENVS (`"VAR=value,VAR2=value"`).
    pub envs: Option<String>,
    /// PRESPAWN_MAX.
    pub prespawn_max: Option<u32>,
    /// PRESPAWN_LIST entries.
    pub prespawn: Vec<PrespawnDesc>,
    /// Everything else (SERVICE_NAME, SDU...), verbatim.
    pub extra: Vec<RawParam>,
}

impl SidDesc {
    /// `ENVS` split into `(name, value)` pairs.
    pub fn env_pairs(&self) -> Vec<(String, String)> {
        self.envs
            .as_deref()
            .map(|e| {
                e.split(',')
                    .filter_map(|kv| {
                        kv.split_once('=')
                            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// `(PRESPAWN_DESC=(PROTOCOL=tcp)(POOL_SIZE=n)(TIMEOUT=m))`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PrespawnDesc {
    /// PROTOCOL.
    pub protocol: Option<String>,
    /// POOL_SIZE: idle prespawned servers to keep.
    pub pool_size: Option<u32>,
    /// TIMEOUT in minutes an idle returned server may live (0 = forever).
    pub timeout: Option<u32>,
}

/// Whether (and from where) instances may register with the listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValidNodeChecking {
    /// OFF / 0: anyone.
    Off,
    /// ON / 1 / LOCAL: only local addresses (12c+ default).
    Local,
    /// SUBNET / 2: hosts in local subnets.
    Subnet,
}

/// How the spawner starts a dedicated server (`SPAWN_METHOD_<listener>`, an orasim parameter:
/// Oracle always execs `$ORACLE_HOME/bin/oracle`, orasim forks its zygote by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpawnMethod {
    /// FORK (default): the spawner zygote forks; the child runs the session at once.
    #[default]
    Fork,
    /// EXEC: the spawner forks and execs the server binary (`oracle<SID> (LOCAL=NO)`), as
    /// Oracle does; the new program receives the client socket on its channel.
    Exec,
}

impl SpawnMethod {
    /// The value as written in listener.ora.
    pub fn as_str(self) -> &'static str {
        match self {
            SpawnMethod::Fork => "FORK",
            SpawnMethod::Exec => "EXEC",
        }
    }

    /// Parses `FORK` / `EXEC` (any case).
    pub fn parse(text: &str) -> Option<SpawnMethod> {
        match text.trim().to_ascii_uppercase().as_str() {
            "FORK" => Some(SpawnMethod::Fork),
            "EXEC" => Some(SpawnMethod::Exec),
            _ => None,
        }
    }
}

/// The `PARAM_<listener>` controls, defaulted as Oracle does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerParams {
    /// INBOUND_CONNECT_TIMEOUT (default 60 s; 0 = none).
    pub inbound_connect_timeout: Duration,
    /// CONNECTION_RATE: new connections per second over `RATE_LIMIT=yes` endpoints.
    pub connection_rate: Option<u32>,
    /// SERVICE_RATE: per-service new connections per second.
    pub service_rate: Option<u32>,
    /// DEFAULT_SERVICE: used when CONNECT_DATA has neither SERVICE_NAME nor SID.
    pub default_service: Option<String>,
    /// ADMIN_RESTRICTIONS (default OFF): refuse runtime SET.
    pub admin_restrictions: bool,
    /// LOGGING (default ON).
    pub logging: bool,
    /// LOG_DIRECTORY.
    pub log_directory: Option<PathBuf>,
    /// LOG_FILE.
    pub log_file: Option<String>,
    /// TRACE_LEVEL (default off).
    pub trace_level: Option<String>,
    /// TRACE_DIRECTORY.
    pub trace_directory: Option<PathBuf>,
    /// TRACE_FILE.
    pub trace_file: Option<String>,
    /// DIAG_ADR_ENABLED (default ON).
    pub diag_adr_enabled: bool,
    /// ADR_BASE.
    pub adr_base: Option<PathBuf>,
    /// VALID_NODE_CHECKING_REGISTRATION (default LOCAL).
    pub valid_node_checking_registration: ValidNodeChecking,
    /// REGISTRATION_INVITED_NODES.
    pub registration_invited_nodes: Vec<String>,
    /// REGISTRATION_EXCLUDED_NODES.
    pub registration_excluded_nodes: Vec<String>,
    /// DYNAMIC_REGISTRATION (default ON).
    pub dynamic_registration: bool,
    /// SAVE_CONFIG_ON_STOP (default OFF).
    pub save_config_on_stop: bool,
    /// USE_SID_AS_SERVICE (default OFF).
    pub use_sid_as_service: bool,
    /// ENABLE_GLOBAL_DYNAMIC_ENDPOINT (default OFF).
    pub enable_global_dynamic_endpoint: bool,
    /// SUBSCRIBE_FOR_NODE_DOWN_EVENT (default ON).
    pub subscribe_for_node_down_event: bool,
    /// DIRECT_HANDOFF_TTC (default ON): hand sockets to dispatchers instead of redirecting.
    pub direct_handoff_ttc: bool,
    /// DEDICATED_THROUGH_BROKER (default OFF).
    pub dedicated_through_broker: bool,
    /// SPAWN_METHOD (orasim; default FORK): how dedicated servers are started.
    pub spawn_method: SpawnMethod,
    /// SECURE_REGISTER: transports allowed to register.
    pub secure_register: Vec<String>,
    /// SECURE_CONTROL: transports allowed to run admin commands.
    pub secure_control: Vec<String>,
    /// Other suffixed parameters (kept; unknown ones were warned about).
    pub other: Vec<RawParam>,
}

impl Default for ListenerParams {
    fn default() -> Self {
        ListenerParams {
            inbound_connect_timeout: Duration::from_secs(60),
            connection_rate: None,
            service_rate: None,
            default_service: None,
            admin_restrictions: false,
            logging: true,
            log_directory: None,
            log_file: None,
            trace_level: None,
            trace_directory: None,
            trace_file: None,
            diag_adr_enabled: true,
            adr_base: None,
            valid_node_checking_registration: ValidNodeChecking::Local,
            registration_invited_nodes: Vec::new(),
            registration_excluded_nodes: Vec::new(),
            dynamic_registration: true,
            save_config_on_stop: false,
            use_sid_as_service: false,
            enable_global_dynamic_endpoint: false,
            subscribe_for_node_down_event: true,
            direct_handoff_ttc: true,
            dedicated_through_broker: false,
            spawn_method: SpawnMethod::Fork,
            secure_register: Vec::new(),
            secure_control: Vec::new(),
            other: Vec::new(),
        }
    }
}

/// Suffixed parameters we model (the part before `_<listener>`).
const MODELLED: &[&str] = &[
    "INBOUND_CONNECT_TIMEOUT",
    "CONNECTION_RATE",
    "SERVICE_RATE",
    "DEFAULT_SERVICE",
    "ADMIN_RESTRICTIONS",
    "LOGGING",
    "LOG_DIRECTORY",
    "LOG_FILE",
    "TRACE_LEVEL",
    "TRACE_DIRECTORY",
    "TRACE_FILE",
    "DIAG_ADR_ENABLED",
    "ADR_BASE",
    "VALID_NODE_CHECKING_REGISTRATION",
    "REGISTRATION_INVITED_NODES",
    "REGISTRATION_EXCLUDED_NODES",
    "DYNAMIC_REGISTRATION",
    "SAVE_CONFIG_ON_STOP",
    "USE_SID_AS_SERVICE",
    "ENABLE_GLOBAL_DYNAMIC_ENDPOINT",
    "SUBSCRIBE_FOR_NODE_DOWN_EVENT",
    "DIRECT_HANDOFF_TTC",
    "DEDICATED_THROUGH_BROKER",
    "SPAWN_METHOD",
    "SECURE_REGISTER",
    "SECURE_CONTROL",
];

/// Suffixed parameters Oracle knows that we keep without interpreting.
const KNOWN_UNMODELLED: &[&str] = &[
    "SECURE_PROTOCOL",
    "CRS_NOTIFICATION",
    "ALLOW_MULTIPLE_REDIRECTS",
    "MAX_ALL_CONNECTIONS",
    "MAX_REG_CONNECTIONS",
    "LOCAL_REGISTRATION_ADDRESS",
    "REMOTE_REGISTRATION_ADDRESS",
    "LOG_FILE_NUM",
    "LOG_FILE_SIZE",
    "TRACE_FILEAGE",
    "TRACE_FILELEN",
    "TRACE_FILENO",
    "TRACE_TIMESTAMP",
    "SSL_CLIENT_AUTHENTICATION",
    "WALLET_LOCATION",
    "USE_PLUG_AND_PLAY",
    "REGISTRATION_RESTRICTED_NODES",
    "VALID_NODE_CHECKING_REGISTRATION_SERVICE",
    "FIREWALL",
];

/// Obsolete suffixed parameters: accepted, warned about, ignored.
const OBSOLETE: &[&str] = &[
    "STARTUP_WAIT_TIME",
    "CONNECT_TIMEOUT",
    "PASSWORDS",
    "SAVE_CONFIG",
];

/// File-wide (unsuffixed) parameters Oracle accepts in listener.ora.
const GLOBAL_KNOWN: &[&str] = &[
    "WALLET_LOCATION",
    "SSL_CLIENT_AUTHENTICATION",
    "SSL_VERSION",
    "SSL_CIPHER_SUITES",
    "IFILE",
    "SQLNET.WALLET_OVERRIDE",
];

impl ListenerConfig {
    /// Reads `listener.ora` (following IFILE), or `listener.toml` when the name ends in
    /// `.toml`. Fails only if the file cannot be read.
    pub fn load(path: &Path) -> Result<Parsed<ListenerConfig>, ListenerConfigError> {
        let err = |source| ListenerConfigError::Read {
            path: path.to_path_buf(),
            source,
        };
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
        {
            let bytes = std::fs::read(path).map_err(err)?;
            let text = String::from_utf8_lossy(&bytes);
            return Ok(Self::parse_toml(&text, &path.display().to_string()));
        }
        Ok(Self::from_params(ParamFile::load(path).map_err(err)?))
    }

    /// Parses listener.ora text; `file` names diagnostics.
    pub fn parse_str(text: &str, file: &str) -> Parsed<ListenerConfig> {
        Self::from_params(ParamFile::parse_str(text, file))
    }

    /// Builds the model from an already parsed file (keeps its diagnostics).
    pub fn from_params(parsed: Parsed<ParamFile>) -> Parsed<ListenerConfig> {
        let Parsed {
            value: pf,
            mut diagnostics,
        } = parsed;
        let mut cfg = ListenerConfig::default();
        let mut rest: Vec<&Param> = Vec::new();
        // Pass 1: listener definitions.
        for p in &pf.params {
            if is_listener_definition(p) {
                let listener = build_listener(p, &mut diagnostics);
                if let Some(i) = cfg
                    .listeners
                    .iter()
                    .position(|l| l.name.eq_ignore_ascii_case(&listener.name))
                {
                    diagnostics.push(Diagnostic::warning(
                        &p.file,
                        p.pos,
                        format!(
                            "listener {} defined again; this definition replaces the earlier one",
                            listener.name
                        ),
                    ));
                    cfg.listeners[i] = listener;
                } else {
                    cfg.listeners.push(listener);
                }
            } else {
                rest.push(p);
            }
        }
        // Pass 2: SID lists and suffixed parameters.
        for p in rest {
            let name = p.name().to_ascii_uppercase();
            if let Some(lname) = name.strip_prefix("SID_LIST_").filter(|s| !s.is_empty()) {
                let sids = build_sid_list(p, &mut diagnostics);
                let l = listener_for(&mut cfg, lname, p, &mut diagnostics);
                l.sid_list = sids;
                continue;
            }
            if let Some((param, lname)) = split_suffixed(&name) {
                let l = listener_for(&mut cfg, lname, p, &mut diagnostics);
                apply_param(&mut l.params, param, p, &mut diagnostics);
                continue;
            }
            if !GLOBAL_KNOWN.contains(&name.as_str()) {
                diagnostics.push(Diagnostic::warning(
                    &p.file,
                    p.pos,
                    format!("unknown listener.ora parameter {} kept", p.name()),
                ));
            }
            cfg.other.push(RawParam {
                key: name,
                value: RawValue::from_value(&p.value),
            });
        }
        Parsed {
            value: cfg,
            diagnostics,
        }
    }

    /// The listener named `name` (case-insensitive).
    pub fn listener(&self, name: &str) -> Option<&Listener> {
        self.listeners
            .iter()
            .find(|l| l.name.eq_ignore_ascii_case(name))
    }
}

impl ListenerConfig {
    /// Writes the model as `listener.ora` text, in netca's layout: each listener's
    /// definition, its `SID_LIST_<name>`, then its `PARAM_<name>` lines that differ from
    /// Oracle's defaults, then file-wide parameters. Parsing the text gives the same model
    /// (a listener with no endpoint, no SID_LIST and only defaults is Oracle's default and is
    /// not written).
    pub fn to_ora(&self) -> String {
        let mut out = String::new();
        for l in &self.listeners {
            let name = &l.name;
            if !l.endpoints.is_empty() {
                let addrs: Vec<RawParam> = l.endpoints.iter().map(|e| e.address.to_raw()).collect();
                let desc = RawParam {
                    key: "DESCRIPTION".into(),
                    value: RawValue::Nodes(addrs),
                };
                let list = RawParam {
                    key: "DESCRIPTION_LIST".into(),
                    value: RawValue::Nodes(vec![desc]),
                };
                out.push_str(&format!("{name} =\n  "));
                render_param(&mut out, &list, Some(1));
                out.push_str("\n\n");
            }
            if !l.sid_list.is_empty() {
                let descs: Vec<RawParam> = l.sid_list.iter().map(SidDesc::to_raw).collect();
                let list = RawParam {
                    key: "SID_LIST".into(),
                    value: RawValue::Nodes(descs),
                };
                out.push_str(&format!("SID_LIST_{name} =\n  "));
                render_param(&mut out, &list, Some(1));
                out.push_str("\n\n");
            }
            let params = l.params.non_default();
            for (k, v) in &params {
                out.push_str(&format!("{k}_{name} = {v}\n"));
            }
            for p in &l.params.other {
                out.push_str(&top_level(p));
            }
            if !params.is_empty() || !l.params.other.is_empty() {
                out.push('\n');
            }
        }
        for p in &self.other {
            out.push_str(&top_level(p));
        }
        out
    }
}

/// `KEY = value` at the top level of a file.
pub(crate) fn top_level(p: &RawParam) -> String {
    match &p.value {
        // An empty value must be written `""`: `KEY =` alone is a syntax error.
        RawValue::Text(t) if t.is_empty() => format!("{} = \"\"\n", p.key),
        RawValue::Text(t) => format!("{} = {}\n", p.key, render_text(t, true)),
        RawValue::List(items) => {
            let items: Vec<String> = items.iter().map(|i| render_item(i)).collect();
            format!("{} = ({})\n", p.key, items.join(", "))
        }
        RawValue::Nodes(nodes) => {
            let mut s = format!("{} =\n", p.key);
            for n in nodes {
                s.push_str("  ");
                render_param(&mut s, n, Some(1));
                s.push('\n');
            }
            s
        }
    }
}

impl SidDesc {
    fn to_raw(&self) -> RawParam {
        let text = |k: &str, v: &Option<String>| {
            v.as_ref().map(|v| RawParam {
                key: k.into(),
                value: RawValue::Text(v.clone()),
            })
        };
        let num = |k: &str, v: Option<u32>| {
            v.map(|v| RawParam {
                key: k.into(),
                value: RawValue::Text(v.to_string()),
            })
        };
        let mut b: Vec<RawParam> = [
            text("GLOBAL_DBNAME", &self.global_dbname),
            text("SID_NAME", &self.sid_name),
            text("ORACLE_HOME", &self.oracle_home),
            text("PROGRAM", &self.program),
            text("ENVS", &self.envs),
            num("PRESPAWN_MAX", self.prespawn_max),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !self.prespawn.is_empty() {
            let descs = self
                .prespawn
                .iter()
                .map(|p| {
                    let fields = [
                        text("PROTOCOL", &p.protocol),
                        num("POOL_SIZE", p.pool_size),
                        num("TIMEOUT", p.timeout),
                    ]
                    .into_iter()
                    .flatten()
                    .collect();
                    RawParam {
                        key: "PRESPAWN_DESC".into(),
                        value: RawValue::Nodes(fields),
                    }
                })
                .collect();
            b.push(RawParam {
                key: "PRESPAWN_LIST".into(),
                value: RawValue::Nodes(descs),
            });
        }
        b.extend(self.extra.iter().cloned());
        RawParam {
            key: "SID_DESC".into(),
            value: RawValue::Nodes(b),
        }
    }
}

impl ListenerParams {
    /// `(PARAMETER, value)` for every control that differs from Oracle's default.
    fn non_default(&self) -> Vec<(&'static str, String)> {
        let d = ListenerParams::default();
        let onoff = |b: bool| if b { "ON" } else { "OFF" }.to_string();
        let list = |v: &[String]| {
            format!(
                "({})",
                v.iter()
                    .map(|i| render_item(i))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let text = |t: &str| render_text(t, true);
        let mut out = Vec::new();
        let mut flag = |k: &'static str, v: bool, dv: bool| {
            if v != dv {
                out.push((k, onoff(v)));
            }
        };
        flag(
            "ADMIN_RESTRICTIONS",
            self.admin_restrictions,
            d.admin_restrictions,
        );
        flag("LOGGING", self.logging, d.logging);
        flag(
            "DIAG_ADR_ENABLED",
            self.diag_adr_enabled,
            d.diag_adr_enabled,
        );
        flag(
            "DYNAMIC_REGISTRATION",
            self.dynamic_registration,
            d.dynamic_registration,
        );
        flag(
            "SAVE_CONFIG_ON_STOP",
            self.save_config_on_stop,
            d.save_config_on_stop,
        );
        flag(
            "USE_SID_AS_SERVICE",
            self.use_sid_as_service,
            d.use_sid_as_service,
        );
        flag(
            "ENABLE_GLOBAL_DYNAMIC_ENDPOINT",
            self.enable_global_dynamic_endpoint,
            d.enable_global_dynamic_endpoint,
        );
        flag(
            "SUBSCRIBE_FOR_NODE_DOWN_EVENT",
            self.subscribe_for_node_down_event,
            d.subscribe_for_node_down_event,
        );
        flag(
            "DIRECT_HANDOFF_TTC",
            self.direct_handoff_ttc,
            d.direct_handoff_ttc,
        );
        flag(
            "DEDICATED_THROUGH_BROKER",
            self.dedicated_through_broker,
            d.dedicated_through_broker,
        );
        if self.spawn_method != d.spawn_method {
            out.push(("SPAWN_METHOD", self.spawn_method.as_str().to_string()));
        }
        if self.inbound_connect_timeout != d.inbound_connect_timeout {
            out.push((
                "INBOUND_CONNECT_TIMEOUT",
                self.inbound_connect_timeout.as_secs().to_string(),
            ));
        }
        if let Some(n) = self.connection_rate {
            out.push(("CONNECTION_RATE", n.to_string()));
        }
        if let Some(n) = self.service_rate {
            out.push(("SERVICE_RATE", n.to_string()));
        }
        if let Some(s) = &self.default_service {
            out.push(("DEFAULT_SERVICE", text(s)));
        }
        if let Some(p) = &self.log_directory {
            out.push(("LOG_DIRECTORY", text(&p.display().to_string())));
        }
        if let Some(s) = &self.log_file {
            out.push(("LOG_FILE", text(s)));
        }
        if let Some(s) = &self.trace_level {
            out.push(("TRACE_LEVEL", text(s)));
        }
        if let Some(p) = &self.trace_directory {
            out.push(("TRACE_DIRECTORY", text(&p.display().to_string())));
        }
        if let Some(s) = &self.trace_file {
            out.push(("TRACE_FILE", text(s)));
        }
        if let Some(p) = &self.adr_base {
            out.push(("ADR_BASE", text(&p.display().to_string())));
        }
        if self.valid_node_checking_registration != d.valid_node_checking_registration {
            let v = match self.valid_node_checking_registration {
                ValidNodeChecking::Off => "OFF",
                ValidNodeChecking::Local => "LOCAL",
                ValidNodeChecking::Subnet => "SUBNET",
            };
            out.push(("VALID_NODE_CHECKING_REGISTRATION", v.to_string()));
        }
        for (k, v) in [
            (
                "REGISTRATION_INVITED_NODES",
                &self.registration_invited_nodes,
            ),
            (
                "REGISTRATION_EXCLUDED_NODES",
                &self.registration_excluded_nodes,
            ),
            ("SECURE_REGISTER", &self.secure_register),
            ("SECURE_CONTROL", &self.secure_control),
        ] {
            if !v.is_empty() {
                out.push((k, list(v)));
            }
        }
        out
    }
}

fn is_listener_definition(p: &Param) -> bool {
    let name = p.name().to_ascii_uppercase();
    if name.starts_with("SID_LIST_") || split_suffixed(&name).is_some() {
        return false;
    }
    p.value.nodes().first().is_some_and(|n| {
        n.is("DESCRIPTION_LIST") || n.is("DESCRIPTION") || n.is("ADDRESS_LIST") || n.is("ADDRESS")
    })
}

/// `INBOUND_CONNECT_TIMEOUT_LISTENER_A` → `("INBOUND_CONNECT_TIMEOUT", "LISTENER_A")`.
fn split_suffixed(name: &str) -> Option<(&'static str, &str)> {
    MODELLED
        .iter()
        .chain(KNOWN_UNMODELLED)
        .chain(OBSOLETE)
        .filter_map(|p| {
            let rest = name.strip_prefix(p)?.strip_prefix('_')?;
            (!rest.is_empty()).then_some((*p, rest))
        })
        .max_by_key(|(p, _)| p.len())
}

fn listener_for<'c>(
    cfg: &'c mut ListenerConfig,
    name: &str,
    p: &Param,
    diags: &mut Vec<Diagnostic>,
) -> &'c mut Listener {
    if let Some(i) = cfg
        .listeners
        .iter()
        .position(|l| l.name.eq_ignore_ascii_case(name))
    {
        return &mut cfg.listeners[i];
    }
    if !name.eq_ignore_ascii_case("LISTENER") {
        diags.push(Diagnostic::warning(
            &p.file,
            p.pos,
            format!(
                "{} refers to listener {name}, which this file does not define",
                p.name()
            ),
        ));
    }
    cfg.listeners.push(Listener::new(name));
    let last = cfg.listeners.len() - 1;
    &mut cfg.listeners[last]
}

fn build_listener(p: &Param, diags: &mut Vec<Diagnostic>) -> Listener {
    let mut l = Listener::new(p.name());
    if p.names.len() > 1 {
        diags.push(Diagnostic::warning(
            &p.file,
            p.pos,
            "a listener has one name; the extra names are ignored",
        ));
    }
    let Some(desc) = ConnectDescriptor::from_value(&p.value, &p.file, diags) else {
        return l;
    };
    for d in &desc.descriptions {
        for a in d.addresses() {
            match Endpoint::from_address(a) {
                Ok(e) => l.endpoints.push(e),
                Err(why) => diags.push(Diagnostic::warning(
                    &p.file,
                    address_pos(&p.value, a).unwrap_or(p.pos),
                    format!(
                        "listener {}: endpoint {} ignored: {why}",
                        l.name,
                        a.render()
                    ),
                )),
            }
        }
    }
    l
}

/// Best-effort position of an address in the parsed tree (for warnings).
fn address_pos(v: &Value, a: &Address) -> Option<Pos> {
    fn walk(nodes: &[Node], a: &Address) -> Option<Pos> {
        for n in nodes {
            if n.is("ADDRESS") {
                let port = n
                    .value
                    .get("PORT")
                    .and_then(|p| p.value.as_text())
                    .unwrap_or_default()
                    .to_string();
                let key = n
                    .value
                    .get("KEY")
                    .and_then(|p| p.value.as_text())
                    .map(str::to_string);
                if a.port.map(|p| p.to_string()).unwrap_or_default() == port
                    || (key.is_some() && key == a.key)
                {
                    return Some(n.pos);
                }
            }
            if let Some(p) = walk(n.value.nodes(), a) {
                return Some(p);
            }
        }
        None
    }
    walk(v.nodes(), a)
}

fn build_sid_list(p: &Param, diags: &mut Vec<Diagnostic>) -> Vec<SidDesc> {
    let mut out = Vec::new();
    let mut descs: Vec<&Node> = Vec::new();
    for n in p.value.nodes() {
        if n.is("SID_LIST") {
            descs.extend(n.value.nodes().iter());
        } else {
            descs.push(n);
        }
    }
    if descs.is_empty() {
        diags.push(Diagnostic::warning(
            &p.file,
            p.pos,
            format!("{} has no (SID_LIST=(SID_DESC=...))", p.name()),
        ));
    }
    for n in descs {
        if !n.is("SID_DESC") {
            diags.push(Diagnostic::warning(
                &p.file,
                n.pos,
                format!("{}: expected SID_DESC, found {}; kept out", p.name(), n.key),
            ));
            continue;
        }
        let mut s = SidDesc::default();
        for f in n.value.nodes() {
            let text = f.value.as_text().map(str::to_string);
            match f.key.to_ascii_uppercase().as_str() {
                "GLOBAL_DBNAME" => s.global_dbname = text,
                "SID_NAME" => s.sid_name = text,
                "ORACLE_HOME" => s.oracle_home = text,
                "PROGRAM" => s.program = text,
                "ENVS" => s.envs = text,
                "PRESPAWN_MAX" => s.prespawn_max = number(f, &p.file, diags),
                "PRESPAWN_LIST" => {
                    for pd in f.value.get_all("PRESPAWN_DESC") {
                        s.prespawn.push(PrespawnDesc {
                            protocol: pd
                                .value
                                .get("PROTOCOL")
                                .and_then(|x| x.value.as_text())
                                .map(str::to_string),
                            pool_size: pd
                                .value
                                .get("POOL_SIZE")
                                .and_then(|x| number(x, &p.file, diags)),
                            timeout: pd
                                .value
                                .get("TIMEOUT")
                                .and_then(|x| number(x, &p.file, diags)),
                        });
                    }
                }
                k => {
                    if !matches!(k, "SERVICE_NAME" | "SDU" | "ENVS_FILE" | "GLOBAL_NAME") {
                        diags.push(Diagnostic::warning(
                            &p.file,
                            f.pos,
                            format!("unknown SID_DESC parameter {k} kept"),
                        ));
                    }
                    s.extra.push(RawParam::from_node(f));
                }
            }
        }
        if s.sid_name.is_none() && s.global_dbname.is_none() {
            diags.push(Diagnostic::warning(
                &p.file,
                n.pos,
                "SID_DESC has neither SID_NAME nor GLOBAL_DBNAME",
            ));
        }
        out.push(s);
    }
    out
}

fn number(n: &Node, file: &Arc<str>, diags: &mut Vec<Diagnostic>) -> Option<u32> {
    let t = n.value.as_text()?;
    match t.trim().parse() {
        Ok(v) => Some(v),
        Err(_) => {
            diags.push(Diagnostic::warning(
                file,
                n.pos,
                format!("{}: '{t}' is not a number; ignored", n.key),
            ));
            None
        }
    }
}

fn apply_param(lp: &mut ListenerParams, param: &str, p: &Param, diags: &mut Vec<Diagnostic>) {
    let text = p.value.as_text().map(str::trim);
    let warn = |diags: &mut Vec<Diagnostic>, what: &str| {
        diags.push(Diagnostic::warning(
            &p.file,
            p.value.pos().unwrap_or(p.pos),
            format!("{}: expected {what}; Oracle's default is kept", p.name()),
        ));
    };
    let flag = |diags: &mut Vec<Diagnostic>, slot: &mut bool| match text.and_then(parse_bool) {
        Some(b) => *slot = b,
        None => warn(diags, "ON or OFF"),
    };
    let num = |diags: &mut Vec<Diagnostic>| match text.map(str::parse::<u32>) {
        Some(Ok(n)) => Some(n),
        _ => {
            warn(diags, "a number");
            None
        }
    };
    match param {
        "INBOUND_CONNECT_TIMEOUT" => {
            if let Some(n) = num(diags) {
                lp.inbound_connect_timeout = Duration::from_secs(n.into());
            }
        }
        "CONNECTION_RATE" => lp.connection_rate = num(diags).or(lp.connection_rate),
        "SERVICE_RATE" => lp.service_rate = num(diags).or(lp.service_rate),
        "DEFAULT_SERVICE" => {
            // Seen both as `= XE` and `= (XE)`.
            lp.default_service = p.value.items().into_iter().next().filter(|s| !s.is_empty());
        }
        "ADMIN_RESTRICTIONS" => flag(diags, &mut lp.admin_restrictions),
        "LOGGING" => flag(diags, &mut lp.logging),
        "LOG_DIRECTORY" => lp.log_directory = text.map(PathBuf::from),
        "LOG_FILE" => lp.log_file = text.map(str::to_string),
        "TRACE_LEVEL" => match text.map(str::to_ascii_lowercase) {
            Some(t)
                if ["off", "user", "admin", "support"].contains(&t.as_str())
                    || t.parse::<u8>().is_ok_and(|n| n <= 16) =>
            {
                lp.trace_level = Some(t);
            }
            _ => warn(diags, "OFF, USER, ADMIN, SUPPORT or a level from 0 to 16"),
        },
        "TRACE_DIRECTORY" => lp.trace_directory = text.map(PathBuf::from),
        "TRACE_FILE" => lp.trace_file = text.map(str::to_string),
        "DIAG_ADR_ENABLED" => flag(diags, &mut lp.diag_adr_enabled),
        "ADR_BASE" => lp.adr_base = text.map(PathBuf::from),
        "VALID_NODE_CHECKING_REGISTRATION" => match text.map(str::to_ascii_uppercase).as_deref() {
            Some("OFF" | "0") => lp.valid_node_checking_registration = ValidNodeChecking::Off,
            Some("ON" | "1" | "LOCAL") => {
                lp.valid_node_checking_registration = ValidNodeChecking::Local
            }
            Some("SUBNET" | "2") => lp.valid_node_checking_registration = ValidNodeChecking::Subnet,
            _ => warn(diags, "OFF, ON, LOCAL or SUBNET"),
        },
        "REGISTRATION_INVITED_NODES" => lp.registration_invited_nodes = p.value.items(),
        "REGISTRATION_EXCLUDED_NODES" => lp.registration_excluded_nodes = p.value.items(),
        "DYNAMIC_REGISTRATION" => flag(diags, &mut lp.dynamic_registration),
        "SAVE_CONFIG_ON_STOP" => flag(diags, &mut lp.save_config_on_stop),
        "USE_SID_AS_SERVICE" => flag(diags, &mut lp.use_sid_as_service),
        "ENABLE_GLOBAL_DYNAMIC_ENDPOINT" => flag(diags, &mut lp.enable_global_dynamic_endpoint),
        "SUBSCRIBE_FOR_NODE_DOWN_EVENT" => flag(diags, &mut lp.subscribe_for_node_down_event),
        "DIRECT_HANDOFF_TTC" => flag(diags, &mut lp.direct_handoff_ttc),
        "DEDICATED_THROUGH_BROKER" => flag(diags, &mut lp.dedicated_through_broker),
        "SPAWN_METHOD" => match text.and_then(SpawnMethod::parse) {
            Some(m) => lp.spawn_method = m,
            None => warn(diags, "FORK or EXEC"),
        },
        "SECURE_REGISTER" => lp.secure_register = p.value.items(),
        "SECURE_CONTROL" => lp.secure_control = p.value.items(),
        other => {
            if OBSOLETE.contains(&other) {
                diags.push(Diagnostic::warning(
                    &p.file,
                    p.pos,
                    format!("{} is obsolete and ignored", p.name()),
                ));
            }
            lp.other.push(RawParam {
                key: p.name().to_ascii_uppercase(),
                value: RawValue::from_value(&p.value),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
LISTENER =
  (DESCRIPTION_LIST =
    (DESCRIPTION =
      (ADDRESS = (PROTOCOL = TCP)(HOST = dbhost)(PORT = 1521)(QUEUESIZE = 50)(RATE_LIMIT = yes))
      (ADDRESS = (PROTOCOL = IPC)(KEY = EXTPROC1521))))

SID_LIST_LISTENER =
  (SID_LIST =
    (SID_DESC = (GLOBAL_DBNAME = orcl)(SID_NAME = ORCL)(ORACLE_HOME = /u01/db)
      (PRESPAWN_MAX = 4)(PRESPAWN_LIST = (PRESPAWN_DESC = (PROTOCOL = tcp)(POOL_SIZE = 2)(TIMEOUT = 1))))
    (SID_DESC = (SID_NAME = PLSExtProc)(PROGRAM = extproc)(ENVS = \"EXTPROC_DLLS=ANY,LD_LIBRARY_PATH=/lib\")))

INBOUND_CONNECT_TIMEOUT_LISTENER = 5
CONNECTION_RATE_LISTENER = 10
DEFAULT_SERVICE_LISTENER = (orcl)
VALID_NODE_CHECKING_REGISTRATION_LISTENER = SUBNET
ADMIN_RESTRICTIONS_LISTENER = on
STARTUP_WAIT_TIME_LISTENER = 0
FOO_BAR = 1
";

    #[test]
    fn full_listener() {
        let p = ListenerConfig::parse_str(SAMPLE, "listener.ora");
        assert!(!p.has_errors(), "{:?}", p.diagnostics);
        let l = p.value.listener("listener").unwrap();
        assert_eq!(l.endpoints.len(), 2);
        assert_eq!(l.endpoints[0].protocol, Protocol::Tcp);
        assert_eq!(l.endpoints[0].port, Some(1521));
        assert_eq!(l.endpoints[0].queuesize, Some(50));
        assert_eq!(l.endpoints[0].rate_limit, Some(RateLimit::Shared));
        assert_eq!(l.endpoints[1].key.as_deref(), Some("EXTPROC1521"));
        assert_eq!(l.sid_list.len(), 2);
        assert_eq!(l.sid_list[0].prespawn[0].pool_size, Some(2));
        assert_eq!(
            l.sid_list[1].env_pairs()[1],
            ("LD_LIBRARY_PATH".to_string(), "/lib".to_string())
        );
        assert_eq!(l.params.inbound_connect_timeout, Duration::from_secs(5));
        assert_eq!(l.params.connection_rate, Some(10));
        assert_eq!(l.params.default_service.as_deref(), Some("orcl"));
        assert_eq!(
            l.params.valid_node_checking_registration,
            ValidNodeChecking::Subnet
        );
        assert!(l.params.admin_restrictions);
        assert!(l.params.logging);
        let warnings: Vec<String> = p.diagnostics.iter().map(|d| d.to_string()).collect();
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("STARTUP_WAIT_TIME_LISTENER is obsolete")),
            "{warnings:?}"
        );
        assert!(
            warnings.iter().any(|w| w
                .starts_with("listener.ora:19:1: warning: unknown listener.ora parameter FOO_BAR")),
            "{warnings:?}"
        );
        assert_eq!(p.value.other[0].key, "FOO_BAR");
    }

    #[test]
    fn rate_limit_forms() {
        let p = ListenerConfig::parse_str(
            "L = (ADDRESS_LIST = (ADDRESS=(PORT=1)(RATE_LIMIT=yes))(ADDRESS=(PORT=2)(RATE_LIMIT=1))\n  (ADDRESS=(PORT=3)(RATE_LIMIT=10))(ADDRESS=(PORT=4)(RATE_LIMIT=no))(ADDRESS=(PORT=5)(RATE_LIMIT=0))\n  (ADDRESS=(PORT=6)(RATE_LIMIT=fast)))\n",
            "l.ora",
        );
        let l = p.value.listener("L").unwrap();
        let got: Vec<_> = l.endpoints.iter().map(|e| (e.port, e.rate_limit)).collect();
        assert_eq!(
            got,
            vec![
                (Some(1), Some(RateLimit::Shared)),
                (Some(2), Some(RateLimit::PerSecond(1))),
                (Some(3), Some(RateLimit::PerSecond(10))),
                (Some(4), None),
                (Some(5), None),
            ]
        );
        assert!(
            p.diagnostics
                .iter()
                .any(|d| d.message.contains("RATE_LIMIT 'fast'")),
            "{:?}",
            p.diagnostics
        );
    }

    #[test]
    fn to_ora_round_trips() {
        let p = ListenerConfig::parse_str(SAMPLE, "listener.ora");
        let text = p.value.to_ora();
        let again = ListenerConfig::parse_str(&text, "rendered.ora");
        assert!(!again.has_errors(), "{:?}\n{text}", again.diagnostics);
        assert_eq!(again.value, p.value, "{text}");
        assert!(
            text.contains("INBOUND_CONNECT_TIMEOUT_LISTENER = 5\n"),
            "{text}"
        );
        assert!(text.contains("(ADDRESS = (PROTOCOL = TCP)(HOST = dbhost)(PORT = 1521)(QUEUESIZE = 50)(RATE_LIMIT = yes))"), "{text}");
        assert!(
            text.contains("(ENVS = \"EXTPROC_DLLS=ANY,LD_LIBRARY_PATH=/lib\")"),
            "{text}"
        );
    }

    #[test]
    fn defaults() {
        let p = ListenerConfig::parse_str(
            "L2 = (ADDRESS = (PROTOCOL = tcp)(HOST = 127.0.0.1)(PORT = 0))\n",
            "x",
        );
        let l = p.value.listener("L2").unwrap();
        assert_eq!(l.params.inbound_connect_timeout, Duration::from_secs(60));
        assert_eq!(
            l.params.valid_node_checking_registration,
            ValidNodeChecking::Local
        );
        assert!(l.params.dynamic_registration);
        assert_eq!(
            l.endpoints[0].render(),
            "(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT=0)))"
        );
    }
}
