//! Connect descriptors: the `(DESCRIPTION=...)` text that names where and what to connect
//! to. Clients build it from tnsnames/EZConnect; the listener receives it in every CONNECT
//! packet and routes on its CONNECT_DATA. One typed model serves both sides.
//!
//! Parsing is lenient on meaning (unknown keywords are kept verbatim and re-emitted, odd
//! values produce warnings) and strict on syntax (unbalanced parentheses are an error).
//! Rendering is canonical: upper-case keywords, fixed parameter order, no whitespace
//! ([`ConnectDescriptor::render`]) or Oracle's indented tnsnames layout
//! ([`ConnectDescriptor::render_pretty`]); parsing a rendering gives the same model.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::diag::{Diagnostic, Pos};
use crate::paramfile::{self, Node, Value};

/// A parsing failure of [`parse_descriptor`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DescriptorError {
    /// The text is not well-formed `(KEY=value)` syntax.
    #[error(
        "ORA-12154: TNS:could not resolve the connect identifier specified (descriptor syntax error at {line}:{col}: {expected})"
    )]
    Syntax {
        /// 1-based line in the descriptor text.
        line: u32,
        /// 1-based column.
        col: u32,
        /// What was expected there.
        expected: String,
    },
    /// Well-formed, but not a descriptor (e.g. `(FOO=1)`).
    #[error(
        "ORA-12154: TNS:could not resolve the connect identifier specified (not a connect descriptor: top-level keyword {keyword})"
    )]
    NotADescriptor {
        /// The unexpected top-level keyword.
        keyword: String,
    },
}

/// Parses one descriptor string, as found in a CONNECT packet or after `alias =` in
/// tnsnames. Accepts `(DESCRIPTION_LIST=...)`, `(DESCRIPTION=...)`, and the bare
/// `(ADDRESS=...)`/`(ADDRESS_LIST=...)`/`(CONNECT_DATA=...)` forms. Warnings are dropped;
/// use [`ConnectDescriptor::from_value`] to get them.
pub fn parse_descriptor(text: &str) -> Result<ConnectDescriptor, DescriptorError> {
    let value = paramfile::parse_value(text).map_err(|e| DescriptorError::Syntax {
        line: e.pos.line,
        col: e.pos.col,
        expected: e.message,
    })?;
    let mut diags = Vec::new();
    ConnectDescriptor::from_value(&value, &paramfile::descriptor_file(), &mut diags).ok_or_else(
        || DescriptorError::NotADescriptor {
            keyword: value
                .nodes()
                .first()
                .map_or_else(|| "(list)".to_string(), |n| n.key.to_ascii_uppercase()),
        },
    )
}

/// A position-free value kept verbatim (unknown or unmodelled parameters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawValue {
    /// A scalar.
    Text(String),
    /// `(a, b)`.
    List(Vec<String>),
    /// `(K=v)(K=v)`.
    Nodes(Vec<RawParam>),
}

/// `KEY = value` kept verbatim; the key is upper-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawParam {
    /// Upper-cased keyword.
    pub key: String,
    /// The value.
    pub value: RawValue,
}

impl RawValue {
    /// Converts a parsed value (drops positions and quoting).
    pub fn from_value(v: &Value) -> RawValue {
        match v {
            Value::Atom(a) => RawValue::Text(a.text.clone()),
            Value::List(items) => RawValue::List(items.iter().map(|a| a.text.clone()).collect()),
            Value::Nodes(nodes) => RawValue::Nodes(nodes.iter().map(RawParam::from_node).collect()),
        }
    }
}

impl RawParam {
    /// Converts a parsed `(KEY=value)` group.
    pub fn from_node(n: &Node) -> RawParam {
        RawParam {
            key: n.key.to_ascii_uppercase(),
            value: RawValue::from_value(&n.value),
        }
    }

    fn text(key: &str, value: impl Into<String>) -> RawParam {
        RawParam {
            key: key.to_string(),
            value: RawValue::Text(value.into()),
        }
    }

    fn nodes(key: &str, value: Vec<RawParam>) -> RawParam {
        RawParam {
            key: key.to_string(),
            value: RawValue::Nodes(value),
        }
    }
}

/// A timeout as written in a descriptor (`10`, `500 ms`, `1min`; plain numbers are seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeout(pub Duration);

impl Timeout {
    /// Parses `N`, `N.M`, `N ms`, `N sec`, `N min` (units case-insensitive).
    pub fn parse(text: &str) -> Option<Timeout> {
        let t = text.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let num: f64 = num.parse().ok()?;
        if !num.is_finite() || num < 0.0 {
            return None;
        }
        let secs = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "s" | "sec" | "secs" | "second" | "seconds" => num,
            "ms" | "msec" | "millisecond" | "milliseconds" => num / 1000.0,
            "min" | "mins" | "minute" | "minutes" => num * 60.0,
            _ => return None,
        };
        // Oracle's finest unit is the millisecond; quantising here keeps parse(render(t)) == t.
        if !(0.0..=1e9).contains(&secs) {
            return None;
        }
        let ms = (secs * 1000.0).round();
        Some(Timeout(Duration::from_millis(ms as u64)))
    }

    /// Whole seconds bare, otherwise milliseconds (`1500ms`); [`Timeout::parse`] reads both.
    pub fn render(&self) -> String {
        if self.0.subsec_nanos() == 0 {
            self.0.as_secs().to_string()
        } else {
            format!("{}ms", self.0.as_millis())
        }
    }
}

/// What CONNECT_DATA's SERVER asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerType {
    /// `SERVER=DEDICATED`.
    Dedicated,
    /// `SERVER=SHARED` (a dispatcher).
    Shared,
    /// `SERVER=POOLED` (DRCP).
    Pooled,
}

impl ServerType {
    /// Case-insensitive parse of `dedicated|shared|pooled`.
    pub fn parse(s: &str) -> Option<ServerType> {
        [
            ServerType::Dedicated,
            ServerType::Shared,
            ServerType::Pooled,
        ]
        .into_iter()
        .find(|t| s.eq_ignore_ascii_case(t.as_str()))
    }

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ServerType::Dedicated => "dedicated",
            ServerType::Shared => "shared",
            ServerType::Pooled => "pooled",
        }
    }
}

/// A whole connect descriptor: one or more DESCRIPTIONs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectDescriptor {
    /// `Some` when written as `(DESCRIPTION_LIST=...)`.
    pub list: Option<ListOptions>,
    /// The descriptions, in the order written.
    pub descriptions: Vec<Description>,
}

/// Parameters of a DESCRIPTION_LIST.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListOptions {
    /// FAILOVER (default on).
    pub failover: Option<bool>,
    /// LOAD_BALANCE (default on for a DESCRIPTION_LIST).
    pub load_balance: Option<bool>,
    /// SOURCE_ROUTE.
    pub source_route: Option<bool>,
    /// Everything else, verbatim.
    pub extra: Vec<RawParam>,
}

/// One DESCRIPTION.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Description {
    /// FAILOVER (default on).
    pub failover: Option<bool>,
    /// LOAD_BALANCE (default off).
    pub load_balance: Option<bool>,
    /// SOURCE_ROUTE (default off).
    pub source_route: Option<bool>,
    /// ENABLE (e.g. `broken`).
    pub enable: Option<String>,
    /// SDU in bytes.
    pub sdu: Option<u32>,
    /// EXPIRE_TIME in minutes.
    pub expire_time: Option<u32>,
    /// CONNECT_TIMEOUT (whole Net connect, per address).
    pub connect_timeout: Option<Timeout>,
    /// TRANSPORT_CONNECT_TIMEOUT (TCP handshake, per address).
    pub transport_connect_timeout: Option<Timeout>,
    /// RETRY_COUNT: extra passes over the address list.
    pub retry_count: Option<u32>,
    /// RETRY_DELAY in seconds between passes.
    pub retry_delay: Option<u32>,
    /// RECV_BUF_SIZE.
    pub recv_buf_size: Option<u32>,
    /// SEND_BUF_SIZE.
    pub send_buf_size: Option<u32>,
    /// ADDRESS and ADDRESS_LIST entries, in the order written.
    pub addresses: Vec<AddressEntry>,
    /// CONNECT_DATA.
    pub connect_data: Option<ConnectData>,
    /// SECURITY.
    pub security: Option<Security>,
    /// Everything else, verbatim.
    pub extra: Vec<RawParam>,
}

/// An ADDRESS or a nested ADDRESS_LIST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressEntry {
    /// `(ADDRESS=...)`.
    Address(Address),
    /// `(ADDRESS_LIST=...)`.
    List(AddressList),
}

/// One ADDRESS_LIST.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AddressList {
    /// FAILOVER (default on).
    pub failover: Option<bool>,
    /// LOAD_BALANCE (default off).
    pub load_balance: Option<bool>,
    /// SOURCE_ROUTE.
    pub source_route: Option<bool>,
    /// Its entries, in order.
    pub entries: Vec<AddressEntry>,
    /// Everything else, verbatim.
    pub extra: Vec<RawParam>,
}

/// One protocol address.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Address {
    /// PROTOCOL as written (`tcp`, `TCPS`, `ipc`, ...); compare case-insensitively.
    pub protocol: Option<String>,
    /// HOST.
    pub host: Option<String>,
    /// PORT.
    pub port: Option<u16>,
    /// KEY (IPC).
    pub key: Option<String>,
    /// QUEUESIZE (listen backlog, listener side).
    pub queuesize: Option<u32>,
    /// RATE_LIMIT as written (`yes` or a number; listener side).
    pub rate_limit: Option<String>,
    /// SEND_BUF_SIZE.
    pub send_buf_size: Option<u32>,
    /// RECV_BUF_SIZE.
    pub recv_buf_size: Option<u32>,
    /// HTTPS_PROXY.
    pub https_proxy: Option<String>,
    /// HTTPS_PROXY_PORT.
    pub https_proxy_port: Option<u16>,
    /// Everything else (COMMUNITY, PIPE, ...), verbatim.
    pub extra: Vec<RawParam>,
}

impl Address {
    /// Lower-cased protocol, `tcp` when unset (Oracle's default).
    pub fn protocol_lower(&self) -> String {
        self.protocol
            .as_deref()
            .map_or_else(|| "tcp".to_string(), str::to_ascii_lowercase)
    }

    /// The port a client uses: PORT, or 1521 for TCP/TCPS when unset (`None` when PORT is
    /// written but is not a number).
    pub fn effective_port(&self) -> Option<u16> {
        // A PORT that is not a number (kept in `extra`) is not "unset".
        let bad_port = self.extra.iter().any(|p| p.key == "PORT");
        match (self.port, self.protocol_lower().as_str()) {
            (Some(p), _) => Some(p),
            (None, _) if bad_port => None,
            (None, "tcp" | "tcps") => Some(1521),
            _ => None,
        }
    }

    /// `(ADDRESS=(PROTOCOL=tcp)(HOST=h)(PORT=1521))`.
    pub fn render(&self) -> String {
        let mut s = String::new();
        render_param(&mut s, &self.to_raw(), None);
        s
    }
}

/// CONNECT_DATA.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectData {
    /// SERVICE_NAME.
    pub service_name: Option<String>,
    /// SID.
    pub sid: Option<String>,
    /// INSTANCE_NAME.
    pub instance_name: Option<String>,
    /// SERVER as written (see [`ConnectData::server_type`]).
    pub server: Option<String>,
    /// COMMAND (listener control requests: `status`, `stop`, ...).
    pub command: Option<String>,
    /// CID (client identification: program, host, user).
    pub cid: Option<Cid>,
    /// Everything else (FAILOVER_MODE, UR, POOL_*, CONNECTION_ID, ...), verbatim.
    pub extra: Vec<RawParam>,
}

impl ConnectData {
    /// SERVER as a known type (`None` when unset or not dedicated/shared/pooled).
    pub fn server_type(&self) -> Option<ServerType> {
        self.server.as_deref().and_then(ServerType::parse)
    }

    /// An extra parameter's scalar text (e.g. `UR`, `CONNECTION_ID`).
    pub fn extra_text(&self, key: &str) -> Option<&str> {
        self.extra
            .iter()
            .find(|p| p.key.eq_ignore_ascii_case(key))
            .and_then(|p| match &p.value {
                RawValue::Text(t) => Some(t.as_str()),
                _ => None,
            })
    }
}

/// CONNECT_DATA's CID.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cid {
    /// PROGRAM.
    pub program: Option<String>,
    /// HOST (the client machine).
    pub host: Option<String>,
    /// USER (the client OS user).
    pub user: Option<String>,
    /// Everything else, verbatim.
    pub extra: Vec<RawParam>,
}

/// SECURITY.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Security {
    /// SSL_SERVER_DN_MATCH.
    pub ssl_server_dn_match: Option<bool>,
    /// SSL_SERVER_CERT_DN.
    pub ssl_server_cert_dn: Option<String>,
    /// Everything else (MY_WALLET_DIRECTORY, ...), verbatim.
    pub extra: Vec<RawParam>,
}

// ---------------------------------------------------------------------------------------
// From the generic tree
// ---------------------------------------------------------------------------------------

/// Collects warnings with a file name.
struct Sink<'a> {
    file: &'a Arc<str>,
    diags: &'a mut Vec<Diagnostic>,
}

impl Sink<'_> {
    fn warn(&mut self, pos: Pos, msg: String) {
        self.diags.push(Diagnostic::warning(self.file, pos, msg));
    }

    fn text<'n>(&mut self, n: &'n Node) -> Option<&'n str> {
        match &n.value {
            Value::Atom(a) => Some(&a.text),
            _ => {
                self.warn(
                    n.pos,
                    format!("{} expects a single value", n.key.to_ascii_uppercase()),
                );
                None
            }
        }
    }

    /// Parses a typed field; on failure warns and keeps the parameter verbatim in `extra`.
    fn field<T>(
        &mut self,
        n: &Node,
        slot: &mut Option<T>,
        extra: &mut Vec<RawParam>,
        what: &str,
        f: impl Fn(&str) -> Option<T>,
    ) {
        match self.text(n).and_then(&f) {
            Some(v) => *slot = Some(v),
            None => {
                if let Some(t) = n.value.as_text() {
                    self.warn(
                        n.pos,
                        format!("{}: '{t}' is not {what}", n.key.to_ascii_uppercase()),
                    );
                }
                extra.push(RawParam::from_node(n));
            }
        }
    }

    fn string(&mut self, n: &Node, slot: &mut Option<String>, extra: &mut Vec<RawParam>) {
        self.field(n, slot, extra, "a value", |t| Some(t.to_string()));
    }
}

/// A keyword upper-cased for matching, borrowed when it is written so (as clients write
/// every keyword of the descriptor in each CONNECT).
fn upper(key: &str) -> Cow<'_, str> {
    if key.bytes().any(|b| b.is_ascii_lowercase()) {
        Cow::Owned(key.to_ascii_uppercase())
    } else {
        Cow::Borrowed(key)
    }
}

/// Oracle's boolean spellings.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "on" | "yes" | "true" | "1" => Some(true),
        "off" | "no" | "false" | "0" => Some(false),
        _ => None,
    }
}

fn parse_u32(s: &str) -> Option<u32> {
    s.trim().parse().ok()
}

fn parse_u16(s: &str) -> Option<u16> {
    s.trim().parse().ok()
}

const DESC_KNOWN_EXTRA: &[&str] = &[
    "HS",
    "TYPE_OF_SERVICE",
    "USE_SNI",
    "SSL_SERVER_DN_MATCH",
    "POOL_CONNECTION_CLASS",
    "POOL_PURITY",
    "TOKEN_AUTH",
    "TOKEN_LOCATION",
    "WALLET_LOCATION",
    "SDU_SIZE",
    "COMPRESSION",
    "COMPRESSION_LEVELS",
    "CONNECTION_ID_PREFIX",
    "BACKUP",
    "TUNNEL_SERVICE_NAME",
    "USE_TCP_FAST_OPEN",
];
const CD_KNOWN_EXTRA: &[&str] = &[
    "FAILOVER_MODE",
    "GLOBAL_NAME",
    "UR",
    "HS",
    "POOL_CONNECTION_CLASS",
    "POOL_PURITY",
    "POOL_NAME",
    "POOL_BOUNDARY",
    "CONNECTION_ID",
    "CONNECTION_ID_PREFIX",
    "COLOCATION_TAG",
    "INSTANCE_ROLE",
    "RDB_DATABASE",
    "SERVER_NAME",
    "PRESENTATION",
    "SERVICE",
    "TYPE_OF_SERVICE",
    "ARGUMENTS",
    "VERSION",
    "USE_TCP_FAST_OPEN",
    "SHARDING_KEY",
    "SUPER_SHARDING_KEY",
    "TUNNEL_SERVICE_NAME",
    "ARGS",
];
/// DESCRIPTION (or ADDRESS_LIST) parameters that real files misplace into CONNECT_DATA.
const DESCRIPTION_LEVEL: &[&str] = &[
    "FAILOVER",
    "LOAD_BALANCE",
    "SOURCE_ROUTE",
    "SECURITY",
    "RETRY_COUNT",
    "RETRY_DELAY",
    "CONNECT_TIMEOUT",
    "TRANSPORT_CONNECT_TIMEOUT",
    "SDU",
    "ENABLE",
    "EXPIRE_TIME",
];
const ADDR_KNOWN_EXTRA: &[&str] = &[
    "COMMUNITY",
    "PIPE",
    "SERVER",
    "PROGRAM",
    "ARGV0",
    "ARGS",
    "SERVICE",
    "NODE",
    "OBJECT",
    "IP",
    "ENVS",
    "HTTPS_PROXY_SNI",
    "FIREWALL",
];

impl ConnectDescriptor {
    /// Builds a descriptor from a parsed value (the right side of `alias =`). Returns
    /// `None` if the value is not descriptor-shaped. Odd values produce warnings in `diags`.
    pub fn from_value(
        value: &Value,
        file: &Arc<str>,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<ConnectDescriptor> {
        let mut sink = Sink { file, diags };
        let nodes = value.nodes();
        let first = nodes.first()?;
        if first.is("DESCRIPTION_LIST") {
            if nodes.len() > 1 {
                sink.warn(nodes[1].pos, "text after DESCRIPTION_LIST ignored".into());
            }
            let mut list = ListOptions::default();
            let mut descriptions = Vec::new();
            for n in first.value.nodes() {
                match upper(&n.key).as_ref() {
                    "DESCRIPTION" => descriptions.push(description(&mut sink, n.value.nodes())),
                    "FAILOVER" => sink.field(
                        n,
                        &mut list.failover,
                        &mut list.extra,
                        "a boolean",
                        parse_bool,
                    ),
                    "LOAD_BALANCE" => sink.field(
                        n,
                        &mut list.load_balance,
                        &mut list.extra,
                        "a boolean",
                        parse_bool,
                    ),
                    "SOURCE_ROUTE" => sink.field(
                        n,
                        &mut list.source_route,
                        &mut list.extra,
                        "a boolean",
                        parse_bool,
                    ),
                    k => {
                        sink.warn(
                            n.pos,
                            format!("unknown DESCRIPTION_LIST parameter {k} kept"),
                        );
                        list.extra.push(RawParam::from_node(n));
                    }
                }
            }
            return Some(ConnectDescriptor {
                list: Some(list),
                descriptions,
            });
        }
        if nodes.iter().all(|n| n.is("DESCRIPTION")) {
            let descriptions: Vec<Description> = nodes
                .iter()
                .map(|n| description(&mut sink, n.value.nodes()))
                .collect();
            // Several DESCRIPTIONs side by side mean a DESCRIPTION_LIST with its defaults.
            let list = (descriptions.len() > 1).then(ListOptions::default);
            return Some(ConnectDescriptor { list, descriptions });
        }
        if nodes
            .iter()
            .any(|n| n.is("ADDRESS") || n.is("ADDRESS_LIST") || n.is("CONNECT_DATA"))
        {
            return Some(ConnectDescriptor {
                list: None,
                descriptions: vec![description(&mut sink, nodes)],
            });
        }
        None
    }

    /// The first description's CONNECT_DATA (what a listener routes on).
    pub fn connect_data(&self) -> Option<&ConnectData> {
        self.descriptions
            .iter()
            .find_map(|d| d.connect_data.as_ref())
    }

    /// CONNECT_DATA SERVICE_NAME.
    pub fn service_name(&self) -> Option<&str> {
        self.connect_data()?.service_name.as_deref()
    }

    /// CONNECT_DATA SID.
    pub fn sid(&self) -> Option<&str> {
        self.connect_data()?.sid.as_deref()
    }

    /// CONNECT_DATA INSTANCE_NAME.
    pub fn instance_name(&self) -> Option<&str> {
        self.connect_data()?.instance_name.as_deref()
    }

    /// CONNECT_DATA SERVER as a known type.
    pub fn server(&self) -> Option<ServerType> {
        self.connect_data()?.server_type()
    }

    /// CONNECT_DATA COMMAND (lsnrctl requests).
    pub fn command(&self) -> Option<&str> {
        self.connect_data()?.command.as_deref()
    }

    /// CONNECT_DATA CID.
    pub fn cid(&self) -> Option<&Cid> {
        self.connect_data()?.cid.as_ref()
    }

    /// Every address of every description, in the order written.
    pub fn addresses(&self) -> Vec<&Address> {
        self.descriptions
            .iter()
            .flat_map(Description::addresses)
            .collect()
    }

    /// Compact canonical text: `(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=h)(PORT=1521))...)`.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for p in self.to_raw() {
            render_param(&mut s, &p, None);
        }
        s
    }

    /// Oracle's indented layout, as netca writes tnsnames.ora entries.
    pub fn render_pretty(&self) -> String {
        let mut s = String::new();
        for p in self.to_raw() {
            render_param(&mut s, &p, Some(0));
        }
        s
    }

    /// The descriptor as a generic tree, in canonical order.
    pub fn to_raw(&self) -> Vec<RawParam> {
        let as_list = self.list.is_some() || self.descriptions.len() != 1;
        let descs: Vec<RawParam> = self
            .descriptions
            .iter()
            .map(|d| RawParam::nodes("DESCRIPTION", d.to_raw()))
            .collect();
        if !as_list {
            return descs;
        }
        let mut body = Vec::new();
        if let Some(l) = &self.list {
            push_bool(&mut body, "FAILOVER", l.failover);
            push_bool(&mut body, "LOAD_BALANCE", l.load_balance);
            push_bool(&mut body, "SOURCE_ROUTE", l.source_route);
            body.extend(l.extra.iter().cloned());
        }
        body.extend(descs);
        vec![RawParam::nodes("DESCRIPTION_LIST", body)]
    }
}

impl ConnectDescriptor {
    /// The JSON shape of `orasim resolve --json`: `{"descriptions":[{"addresses":[...],
    /// "service_name":..,"sid":..,"instance_name":..,"server":.., ...}], ...}` with `null`
    /// where unset. `port` is the port a client dials (1521 for TCP/TCPS when the
    /// descriptor omits it); protocols and SERVER are lower-cased; timeouts are in
    /// milliseconds.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        let ms = |t: Option<Timeout>| t.map(|t| u64::try_from(t.0.as_millis()).unwrap_or(u64::MAX));
        let descriptions: Vec<serde_json::Value> = self
            .descriptions
            .iter()
            .map(|d| {
                let cd = d.connect_data.as_ref();
                let addresses: Vec<serde_json::Value> = d
                    .addresses()
                    .iter()
                    .map(|a| {
                        json!({
                            "protocol": a.protocol_lower(),
                            "host": a.host,
                            "port": a.effective_port(),
                            "key": a.key,
                        })
                    })
                    .collect();
                json!({
                    "addresses": addresses,
                    "service_name": cd.and_then(|c| c.service_name.clone()),
                    "sid": cd.and_then(|c| c.sid.clone()),
                    "instance_name": cd.and_then(|c| c.instance_name.clone()),
                    "server": cd.and_then(|c| c.server.as_deref().map(str::to_ascii_lowercase)),
                    "failover": d.failover,
                    "load_balance": d.load_balance,
                    "source_route": d.source_route,
                    "retry_count": d.retry_count,
                    "retry_delay": d.retry_delay,
                    "connect_timeout_ms": ms(d.connect_timeout),
                    "transport_connect_timeout_ms": ms(d.transport_connect_timeout),
                    "sdu": d.sdu,
                    "expire_time": d.expire_time,
                })
            })
            .collect();
        json!({
            "description_list": self.list.is_some(),
            "failover": self.list.as_ref().and_then(|l| l.failover),
            "load_balance": self.list.as_ref().and_then(|l| l.load_balance),
            "descriptions": descriptions,
        })
    }
}

impl fmt::Display for ConnectDescriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl Description {
    /// Every address, flattening ADDRESS_LISTs, in the order written.
    pub fn addresses(&self) -> Vec<&Address> {
        let mut out = Vec::new();
        flatten(&self.addresses, &mut out);
        out
    }

    fn to_raw(&self) -> Vec<RawParam> {
        let mut b = Vec::new();
        push_bool(&mut b, "FAILOVER", self.failover);
        push_bool(&mut b, "LOAD_BALANCE", self.load_balance);
        push_bool(&mut b, "SOURCE_ROUTE", self.source_route);
        push_str(&mut b, "ENABLE", self.enable.as_deref());
        push_num(&mut b, "RETRY_COUNT", self.retry_count);
        push_num(&mut b, "RETRY_DELAY", self.retry_delay);
        push_num(&mut b, "EXPIRE_TIME", self.expire_time);
        if let Some(t) = self.connect_timeout {
            b.push(RawParam::text("CONNECT_TIMEOUT", t.render()));
        }
        if let Some(t) = self.transport_connect_timeout {
            b.push(RawParam::text("TRANSPORT_CONNECT_TIMEOUT", t.render()));
        }
        push_num(&mut b, "SDU", self.sdu);
        push_num(&mut b, "RECV_BUF_SIZE", self.recv_buf_size);
        push_num(&mut b, "SEND_BUF_SIZE", self.send_buf_size);
        b.extend(self.extra.iter().cloned());
        b.extend(self.addresses.iter().map(AddressEntry::to_raw));
        if let Some(cd) = &self.connect_data {
            b.push(RawParam::nodes("CONNECT_DATA", cd.to_raw()));
        }
        if let Some(sec) = &self.security {
            let mut s = Vec::new();
            push_bool(&mut s, "SSL_SERVER_DN_MATCH", sec.ssl_server_dn_match);
            push_str(
                &mut s,
                "SSL_SERVER_CERT_DN",
                sec.ssl_server_cert_dn.as_deref(),
            );
            s.extend(sec.extra.iter().cloned());
            b.push(RawParam::nodes("SECURITY", s));
        }
        b
    }
}

fn flatten<'a>(entries: &'a [AddressEntry], out: &mut Vec<&'a Address>) {
    for e in entries {
        match e {
            AddressEntry::Address(a) => out.push(a),
            AddressEntry::List(l) => flatten(&l.entries, out),
        }
    }
}

impl AddressEntry {
    fn to_raw(&self) -> RawParam {
        match self {
            AddressEntry::Address(a) => a.to_raw(),
            AddressEntry::List(l) => {
                let mut b = Vec::new();
                push_bool(&mut b, "FAILOVER", l.failover);
                push_bool(&mut b, "LOAD_BALANCE", l.load_balance);
                push_bool(&mut b, "SOURCE_ROUTE", l.source_route);
                b.extend(l.extra.iter().cloned());
                b.extend(l.entries.iter().map(AddressEntry::to_raw));
                RawParam::nodes("ADDRESS_LIST", b)
            }
        }
    }
}

impl Address {
    pub(crate) fn to_raw(&self) -> RawParam {
        let mut b = Vec::new();
        push_str(&mut b, "PROTOCOL", self.protocol.as_deref());
        push_str(&mut b, "HOST", self.host.as_deref());
        push_num(&mut b, "PORT", self.port);
        push_str(&mut b, "KEY", self.key.as_deref());
        push_num(&mut b, "QUEUESIZE", self.queuesize);
        push_str(&mut b, "RATE_LIMIT", self.rate_limit.as_deref());
        push_num(&mut b, "SEND_BUF_SIZE", self.send_buf_size);
        push_num(&mut b, "RECV_BUF_SIZE", self.recv_buf_size);
        push_str(&mut b, "HTTPS_PROXY", self.https_proxy.as_deref());
        push_num(&mut b, "HTTPS_PROXY_PORT", self.https_proxy_port);
        b.extend(self.extra.iter().cloned());
        RawParam::nodes("ADDRESS", b)
    }
}

impl ConnectData {
    fn to_raw(&self) -> Vec<RawParam> {
        let mut b = Vec::new();
        push_str(&mut b, "SERVICE_NAME", self.service_name.as_deref());
        push_str(&mut b, "SID", self.sid.as_deref());
        push_str(&mut b, "INSTANCE_NAME", self.instance_name.as_deref());
        push_str(&mut b, "SERVER", self.server.as_deref());
        push_str(&mut b, "COMMAND", self.command.as_deref());
        if let Some(cid) = &self.cid {
            let mut c = Vec::new();
            push_str(&mut c, "PROGRAM", cid.program.as_deref());
            push_str(&mut c, "HOST", cid.host.as_deref());
            push_str(&mut c, "USER", cid.user.as_deref());
            c.extend(cid.extra.iter().cloned());
            b.push(RawParam::nodes("CID", c));
        }
        b.extend(self.extra.iter().cloned());
        b
    }
}

fn push_bool(b: &mut Vec<RawParam>, key: &str, v: Option<bool>) {
    if let Some(v) = v {
        b.push(RawParam::text(key, if v { "on" } else { "off" }));
    }
}

fn push_str(b: &mut Vec<RawParam>, key: &str, v: Option<&str>) {
    if let Some(v) = v {
        b.push(RawParam::text(key, v));
    }
}

fn push_num<T: ToString>(b: &mut Vec<RawParam>, key: &str, v: Option<T>) {
    if let Some(v) = v {
        b.push(RawParam::text(key, v.to_string()));
    }
}

fn description(sink: &mut Sink<'_>, nodes: &[Node]) -> Description {
    let mut d = Description::default();
    for n in nodes {
        match upper(&n.key).as_ref() {
            "ADDRESS" => d.addresses.push(AddressEntry::Address(address(sink, n))),
            "ADDRESS_LIST" => d.addresses.push(AddressEntry::List(address_list(sink, n))),
            "CONNECT_DATA" => {
                if d.connect_data.is_some() {
                    sink.warn(n.pos, "CONNECT_DATA repeated; the last one is used".into());
                }
                d.connect_data = Some(connect_data(sink, n));
            }
            "SECURITY" => d.security = Some(security(sink, n)),
            "FAILOVER" => sink.field(n, &mut d.failover, &mut d.extra, "a boolean", parse_bool),
            "LOAD_BALANCE" => sink.field(
                n,
                &mut d.load_balance,
                &mut d.extra,
                "a boolean",
                parse_bool,
            ),
            "SOURCE_ROUTE" => sink.field(
                n,
                &mut d.source_route,
                &mut d.extra,
                "a boolean",
                parse_bool,
            ),
            "ENABLE" => sink.string(n, &mut d.enable, &mut d.extra),
            "SDU" => sink.field(n, &mut d.sdu, &mut d.extra, "a number", parse_u32),
            "EXPIRE_TIME" => sink.field(
                n,
                &mut d.expire_time,
                &mut d.extra,
                "a number of minutes",
                parse_u32,
            ),
            "CONNECT_TIMEOUT" => sink.field(
                n,
                &mut d.connect_timeout,
                &mut d.extra,
                "a timeout",
                Timeout::parse,
            ),
            "TRANSPORT_CONNECT_TIMEOUT" => {
                sink.field(
                    n,
                    &mut d.transport_connect_timeout,
                    &mut d.extra,
                    "a timeout",
                    Timeout::parse,
                );
            }
            "RETRY_COUNT" => sink.field(n, &mut d.retry_count, &mut d.extra, "a number", parse_u32),
            "RETRY_DELAY" => sink.field(
                n,
                &mut d.retry_delay,
                &mut d.extra,
                "a number of seconds",
                parse_u32,
            ),
            "RECV_BUF_SIZE" => {
                sink.field(n, &mut d.recv_buf_size, &mut d.extra, "a number", parse_u32)
            }
            "SEND_BUF_SIZE" => {
                sink.field(n, &mut d.send_buf_size, &mut d.extra, "a number", parse_u32)
            }
            k => {
                if !DESC_KNOWN_EXTRA.contains(&k) {
                    sink.warn(n.pos, format!("unknown DESCRIPTION parameter {k} kept"));
                }
                d.extra.push(RawParam::from_node(n));
            }
        }
    }
    d
}

fn address_list(sink: &mut Sink<'_>, node: &Node) -> AddressList {
    let mut l = AddressList::default();
    for n in node.value.nodes() {
        match upper(&n.key).as_ref() {
            "ADDRESS" => l.entries.push(AddressEntry::Address(address(sink, n))),
            "ADDRESS_LIST" => l.entries.push(AddressEntry::List(address_list(sink, n))),
            "FAILOVER" => sink.field(n, &mut l.failover, &mut l.extra, "a boolean", parse_bool),
            "LOAD_BALANCE" => sink.field(
                n,
                &mut l.load_balance,
                &mut l.extra,
                "a boolean",
                parse_bool,
            ),
            "SOURCE_ROUTE" => sink.field(
                n,
                &mut l.source_route,
                &mut l.extra,
                "a boolean",
                parse_bool,
            ),
            k => {
                sink.warn(n.pos, format!("unknown ADDRESS_LIST parameter {k} kept"));
                l.extra.push(RawParam::from_node(n));
            }
        }
    }
    l
}

/// The protocols an Oracle Net address may name (Net Services Reference, "Protocol
/// Address Configuration").
pub const PROTOCOLS: &[&str] = &[
    "TCP",
    "TCPS",
    "IPC",
    "NMP",
    "SDP",
    "BEQ",
    "EXADIRECT",
    "WS",
    "WSS",
];

fn address(sink: &mut Sink<'_>, node: &Node) -> Address {
    let mut a = Address::default();
    if !matches!(node.value, Value::Nodes(_)) {
        sink.warn(node.pos, "ADDRESS expects (KEYWORD=value) groups".into());
        return a;
    }
    for n in node.value.nodes() {
        match upper(&n.key).as_ref() {
            "PROTOCOL" => {
                sink.string(n, &mut a.protocol, &mut a.extra);
                if let Some(p) = &a.protocol
                    && !PROTOCOLS.contains(&p.to_ascii_uppercase().as_str())
                {
                    sink.warn(
                        n.pos,
                        format!(
                            "PROTOCOL = {p}: unknown protocol; accepted: {}",
                            PROTOCOLS.join(", ")
                        ),
                    );
                }
            }
            "HOST" => sink.string(n, &mut a.host, &mut a.extra),
            "PORT" => sink.field(n, &mut a.port, &mut a.extra, "a port number", parse_u16),
            "KEY" => sink.string(n, &mut a.key, &mut a.extra),
            "QUEUESIZE" => sink.field(n, &mut a.queuesize, &mut a.extra, "a number", parse_u32),
            "RATE_LIMIT" => sink.string(n, &mut a.rate_limit, &mut a.extra),
            "SEND_BUF_SIZE" => {
                sink.field(n, &mut a.send_buf_size, &mut a.extra, "a number", parse_u32)
            }
            "RECV_BUF_SIZE" => {
                sink.field(n, &mut a.recv_buf_size, &mut a.extra, "a number", parse_u32)
            }
            "HTTPS_PROXY" => sink.string(n, &mut a.https_proxy, &mut a.extra),
            "HTTPS_PROXY_PORT" => sink.field(
                n,
                &mut a.https_proxy_port,
                &mut a.extra,
                "a port number",
                parse_u16,
            ),
            k => {
                if !ADDR_KNOWN_EXTRA.contains(&k) {
                    sink.warn(n.pos, format!("unknown ADDRESS parameter {k} kept"));
                }
                a.extra.push(RawParam::from_node(n));
            }
        }
    }
    a
}

fn connect_data(sink: &mut Sink<'_>, node: &Node) -> ConnectData {
    let mut c = ConnectData::default();
    for n in node.value.nodes() {
        match upper(&n.key).as_ref() {
            "SERVICE_NAME" => sink.string(n, &mut c.service_name, &mut c.extra),
            "SID" => sink.string(n, &mut c.sid, &mut c.extra),
            "INSTANCE_NAME" => sink.string(n, &mut c.instance_name, &mut c.extra),
            "SERVER" => {
                sink.string(n, &mut c.server, &mut c.extra);
                if let Some(s) = &c.server
                    && ServerType::parse(s).is_none()
                {
                    sink.warn(
                        n.pos,
                        format!("SERVER: '{s}' is not dedicated, shared or pooled"),
                    );
                }
            }
            "COMMAND" => sink.string(n, &mut c.command, &mut c.extra),
            "CID" => {
                let mut cid = Cid::default();
                for m in n.value.nodes() {
                    match upper(&m.key).as_ref() {
                        "PROGRAM" => sink.string(m, &mut cid.program, &mut cid.extra),
                        "HOST" => sink.string(m, &mut cid.host, &mut cid.extra),
                        "USER" => sink.string(m, &mut cid.user, &mut cid.extra),
                        _ => cid.extra.push(RawParam::from_node(m)),
                    }
                }
                c.cid = Some(cid);
            }
            k => {
                if DESCRIPTION_LEVEL.contains(&k) {
                    sink.warn(
                        n.pos,
                        format!("{k} is a DESCRIPTION parameter, misplaced in CONNECT_DATA; kept"),
                    );
                } else if !CD_KNOWN_EXTRA.contains(&k) {
                    sink.warn(n.pos, format!("unknown CONNECT_DATA parameter {k} kept"));
                }
                c.extra.push(RawParam::from_node(n));
            }
        }
    }
    c
}

fn security(sink: &mut Sink<'_>, node: &Node) -> Security {
    let mut s = Security::default();
    for n in node.value.nodes() {
        match upper(&n.key).as_ref() {
            "SSL_SERVER_DN_MATCH" => sink.field(
                n,
                &mut s.ssl_server_dn_match,
                &mut s.extra,
                "a boolean",
                parse_bool,
            ),
            "SSL_SERVER_CERT_DN" => sink.string(n, &mut s.ssl_server_cert_dn, &mut s.extra),
            _ => s.extra.push(RawParam::from_node(n)),
        }
    }
    s
}

// ---------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------

/// Quotes a scalar when the bare form would not parse back to the same text.
pub(crate) fn render_text(t: &str, pretty: bool) -> String {
    // Compact text goes on the wire and must look like python-oracledb's (which leaves
    // `CONNECTION_ID=...==` bare), so it quotes only what would not parse back. The pretty
    // layout is for people and follows Oracle's syntax rules: values holding `=` or `,`
    // are quoted too. python-oracledb's parser understands only double quotes.
    let needs = t.trim() != t
        || t.contains(['(', ')', '#', '\n', '\r'])
        || t.starts_with(['"', '\''])
        || (t.contains(',') && t.contains(' '))
        || (pretty && t.contains(['=', ',']));
    if !needs {
        return t.to_string();
    }
    quote(t)
}

/// Wraps `t` in the quote it does not hold. Oracle's syntax has no escapes, so a value
/// holding both `"` and `'` fits in neither: the only text it can have come from is bare
/// (inside a quoted value the other quote ends it), and bare it is written back.
fn quote(t: &str) -> String {
    match (t.contains('"'), t.contains('\'')) {
        (true, true) => t.to_string(),
        (true, false) => format!("'{t}'"),
        (false, _) => format!("\"{t}\""),
    }
}

/// Quotes a list item when the bare form would split, vanish or read as `KEY=value`.
pub(crate) fn render_item(t: &str) -> String {
    if t.is_empty() || t.contains([',', '=']) {
        quote(t)
    } else {
        render_text(t, false)
    }
}

/// Renders one `(KEY=value)`; `indent = None` is compact, `Some(level)` is Oracle's layout.
pub(crate) fn render_param(s: &mut String, p: &RawParam, indent: Option<usize>) {
    match (&p.value, indent) {
        (RawValue::Text(t), None) => {
            s.push('(');
            s.push_str(&p.key);
            s.push('=');
            s.push_str(&render_text(t, false));
            s.push(')');
        }
        (RawValue::Text(t), Some(_)) => {
            s.push('(');
            s.push_str(&p.key);
            s.push_str(" = ");
            s.push_str(&render_text(t, true));
            s.push(')');
        }
        (RawValue::List(items), ind) => {
            s.push('(');
            s.push_str(&p.key);
            s.push_str(if ind.is_some() { " = (" } else { "=(" });
            let items: Vec<String> = items.iter().map(|t| render_item(t)).collect();
            s.push_str(&items.join(if ind.is_some() { ", " } else { "," }));
            s.push_str("))");
        }
        (RawValue::Nodes(children), None) => {
            s.push('(');
            s.push_str(&p.key);
            s.push('=');
            for c in children {
                render_param(s, c, None);
            }
            s.push(')');
        }
        (RawValue::Nodes(children), Some(level)) => {
            // Leaf-only groups (ADDRESS, CID) stay on one line, like netca writes them.
            let leafy = children
                .iter()
                .all(|c| !matches!(c.value, RawValue::Nodes(_)));
            s.push('(');
            s.push_str(&p.key);
            s.push_str(" =");
            if leafy && !matches!(p.key.as_str(), "CONNECT_DATA" | "SECURITY" | "SID_DESC") {
                s.push(' ');
                for c in children {
                    render_param(s, c, Some(level + 1));
                }
                s.push(')');
                return;
            }
            for c in children {
                s.push('\n');
                s.push_str(&"  ".repeat(level + 1));
                render_param(s, c, Some(level + 1));
            }
            s.push('\n');
            s.push_str(&"  ".repeat(level));
            s.push(')');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_accessors() {
        let d = parse_descriptor(
            "(DESCRIPTION=(CONNECT_DATA=(SERVICE_NAME=orcl)(SERVER=dedicated)(CID=(PROGRAM=python)(HOST=vm)(USER=u))(CONNECTION_ID=abc==))(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT=1521)))",
        )
        .unwrap();
        assert_eq!(d.service_name(), Some("orcl"));
        assert_eq!(d.server(), Some(ServerType::Dedicated));
        assert_eq!(d.cid().and_then(|c| c.program.as_deref()), Some("python"));
        assert_eq!(
            d.connect_data().and_then(|c| c.extra_text("connection_id")),
            Some("abc==")
        );
        assert_eq!(d.addresses()[0].port, Some(1521));
        let again = parse_descriptor(&d.render()).unwrap();
        assert_eq!(again, d);
        let pretty = parse_descriptor(&d.render_pretty()).unwrap();
        assert_eq!(pretty, d);
    }

    #[test]
    fn compact_rendering_matches_the_wire_shape() {
        let text = "(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT=1521))(CONNECT_DATA=(SERVICE_NAME=ORCL)(CID=(PROGRAM=/usr/bin/python)(HOST=vm)(USER=root))(CONNECTION_ID=Z3OgQ+b9jMiXtBjiG2ZsJw==)))";
        assert_eq!(parse_descriptor(text).unwrap().render(), text);
        let d = parse_descriptor(
            "(DESCRIPTION=(ADDRESS=(HOST=h))(SECURITY=(SSL_SERVER_CERT_DN=\"CN=a,O=b\")))",
        )
        .unwrap();
        assert!(
            d.render_pretty()
                .contains("(SSL_SERVER_CERT_DN = \"CN=a,O=b\")"),
            "{}",
            d.render_pretty()
        );
    }

    #[test]
    fn command_descriptor() {
        let d = parse_descriptor(
            "(CONNECT_DATA=(COMMAND=status)(ARGUMENTS=64)(SERVICE=LISTENER)(VERSION=1))",
        )
        .unwrap();
        assert_eq!(d.command(), Some("status"));
        assert!(d.addresses().is_empty());
    }

    #[test]
    fn syntax_error_position() {
        let e = parse_descriptor("(DESCRIPTION=\n(ADDRESS=(HOST=x)\n").unwrap_err();
        match e {
            DescriptorError::Syntax { line, .. } => assert_eq!(line, 2),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_descriptor("(FOO=1)"),
            Err(DescriptorError::NotADescriptor { .. })
        ));
    }

    #[test]
    fn timeouts() {
        assert_eq!(Timeout::parse("10"), Some(Timeout(Duration::from_secs(10))));
        assert_eq!(
            Timeout::parse("500 ms"),
            Some(Timeout(Duration::from_millis(500)))
        );
        assert_eq!(
            Timeout::parse("1min"),
            Some(Timeout(Duration::from_secs(60)))
        );
        assert_eq!(Timeout::parse("soon"), None);
    }
}
