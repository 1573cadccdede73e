//! `sqlnet.ora`: profile parameters that change how clients resolve names and how both
//! sides time out, probe and filter connections. Only the parameters this simulator acts
//! on are typed; everything else is kept verbatim, and names Oracle does not know are
//! reported as warnings (typos like `NAME.DEFAULT_ZONE` are common in the wild).

use std::path::Path;
use std::time::Duration;

use crate::descriptor::{RawParam, RawValue, Timeout, parse_bool, render_item, render_text};
use crate::diag::{Diagnostic, Parsed, Pos};
use crate::listener::top_level;
use crate::paramfile::{Param, ParamFile, Value};

/// A naming method of `NAMES.DIRECTORY_PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamingMethod {
    /// Local naming (`tnsnames.ora`).
    Tnsnames,
    /// Easy Connect.
    Ezconnect,
    /// Directory naming (not implemented by orasim: skipped when resolving).
    Ldap,
    /// Host naming (not implemented by orasim: skipped when resolving).
    Hostname,
    /// Anything else, upper-cased (skipped when resolving).
    Other(String),
}

impl NamingMethod {
    /// Case-insensitive parse (`EZCONNECT` and the older `EZCONNECT`/`HOSTNAME` spellings).
    pub fn parse(s: &str) -> NamingMethod {
        match s.trim().to_ascii_uppercase().as_str() {
            "TNSNAMES" => NamingMethod::Tnsnames,
            "EZCONNECT" | "EZCONNECT_PLUS" => NamingMethod::Ezconnect,
            "LDAP" => NamingMethod::Ldap,
            "HOSTNAME" => NamingMethod::Hostname,
            other => NamingMethod::Other(other.to_string()),
        }
    }

    /// The keyword as written in NAMES.DIRECTORY_PATH.
    pub fn as_str(&self) -> &str {
        match self {
            NamingMethod::Tnsnames => "TNSNAMES",
            NamingMethod::Ezconnect => "EZCONNECT",
            NamingMethod::Ldap => "LDAP",
            NamingMethod::Hostname => "HOSTNAME",
            NamingMethod::Other(s) => s,
        }
    }
}

/// The typed part of sqlnet.ora, with Oracle's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlNet {
    /// NAMES.DIRECTORY_PATH (default `(TNSNAMES, LDAP, EZCONNECT)`).
    pub names_directory_path: Vec<NamingMethod>,
    /// NAMES.DEFAULT_DOMAIN: appended to unqualified aliases.
    pub names_default_domain: Option<String>,
    /// SQLNET.EXPIRE_TIME in minutes (0 = off).
    pub expire_time: u32,
    /// SQLNET.INBOUND_CONNECT_TIMEOUT (server side; `None` = unset, Oracle uses 60 s).
    pub inbound_connect_timeout: Option<Duration>,
    /// SQLNET.OUTBOUND_CONNECT_TIMEOUT (client side, per address).
    pub outbound_connect_timeout: Option<Duration>,
    /// SQLNET.RECV_TIMEOUT.
    pub recv_timeout: Option<Duration>,
    /// SQLNET.SEND_TIMEOUT.
    pub send_timeout: Option<Duration>,
    /// TCP.VALIDNODE_CHECKING (default NO).
    pub tcp_validnode_checking: bool,
    /// TCP.INVITED_NODES.
    pub tcp_invited_nodes: Vec<String>,
    /// TCP.EXCLUDED_NODES.
    pub tcp_excluded_nodes: Vec<String>,
    /// TCP.NODELAY (default YES).
    pub tcp_nodelay: bool,
    /// TCP.CONNECT_TIMEOUT (client TCP handshake limit).
    pub tcp_connect_timeout: Option<Duration>,
    /// DEFAULT_SDU_SIZE (default 8192).
    pub default_sdu_size: u32,
    /// Everything else, verbatim (upper-cased keys; the last duplicate wins).
    pub other: Vec<RawParam>,
}

impl Default for SqlNet {
    fn default() -> Self {
        SqlNet {
            names_directory_path: vec![
                NamingMethod::Tnsnames,
                NamingMethod::Ldap,
                NamingMethod::Ezconnect,
            ],
            names_default_domain: None,
            expire_time: 0,
            inbound_connect_timeout: None,
            outbound_connect_timeout: None,
            recv_timeout: None,
            send_timeout: None,
            tcp_validnode_checking: false,
            tcp_invited_nodes: Vec::new(),
            tcp_excluded_nodes: Vec::new(),
            tcp_nodelay: true,
            tcp_connect_timeout: None,
            default_sdu_size: 8192,
            other: Vec::new(),
        }
    }
}

/// Names Oracle documents for sqlnet.ora that orasim keeps without interpreting.
const KNOWN: &[&str] = &[
    "SQLNET.AUTHENTICATION_SERVICES",
    "WALLET_LOCATION",
    "TRACE_LEVEL_CLIENT",
    "TRACE_LEVEL_SERVER",
    "TRACE_DIRECTORY_CLIENT",
    "TRACE_DIRECTORY_SERVER",
    "TRACE_FILE_CLIENT",
    "TRACE_FILE_SERVER",
    "TRACE_UNIQUE_CLIENT",
    "TRACE_TIMESTAMP_CLIENT",
    "TRACE_TIMESTAMP_SERVER",
    "TRACE_FILENO_CLIENT",
    "TRACE_FILELEN_CLIENT",
    "TRACE_FILENO_SERVER",
    "TRACE_FILELEN_SERVER",
    "LOG_DIRECTORY_CLIENT",
    "LOG_DIRECTORY_SERVER",
    "LOG_FILE_CLIENT",
    "LOG_FILE_SERVER",
    "LOG_LEVEL_CLIENT",
    "LOG_LEVEL_SERVER",
    "DIAG_ADR_ENABLED",
    "ADR_BASE",
    "DISABLE_OOB",
    "AUTOMATIC_IPC",
    "SQLNET.ALLOWED_LOGON_VERSION",
    "SQLNET.ALLOWED_LOGON_VERSION_SERVER",
    "SQLNET.ALLOWED_LOGON_VERSION_CLIENT",
    "SSL_SERVER_DN_MATCH",
    "SSL_CLIENT_AUTHENTICATION",
    "SSL_CIPHER_SUITES",
    "SSL_VERSION",
    "SQLNET.WALLET_OVERRIDE",
    "SQLNET.ENCRYPTION_SERVER",
    "SQLNET.ENCRYPTION_CLIENT",
    "SQLNET.ENCRYPTION_TYPES_SERVER",
    "SQLNET.ENCRYPTION_TYPES_CLIENT",
    "SQLNET.CRYPTO_CHECKSUM_SERVER",
    "SQLNET.CRYPTO_CHECKSUM_CLIENT",
    "SQLNET.CRYPTO_CHECKSUM_TYPES_SERVER",
    "SQLNET.CRYPTO_CHECKSUM_TYPES_CLIENT",
    "SQLNET.KERBEROS5_KEYTAB",
    "SQLNET.KERBEROS5_CONF",
    "SQLNET.KERBEROS5_CONF_MIT",
    "SQLNET.AUTHENTICATION_KERBEROS5_SERVICE",
    "SQLNET.FALLBACK_AUTHENTICATION",
    "SQLNET.IGNORE_ANO_ENCRYPTION_FOR_TCPS",
    "SQLNET.ALLOW_WEAK_CRYPTO",
    "SQLNET.ALLOW_WEAK_CRYPTO_CLIENTS",
    "SQLNET.SESSION_TIMEOUT",
    "TCP.CONNECTION_RETRY_COUNT",
    "NAMES.DEFAULT_ZONE",
    "NAMES.REQUEST_RETRIES",
    "NAMES.PREFERRED_SERVERS",
    "NAMES.LDAP_CONN_TIMEOUT",
    "RECV_BUF_SIZE",
    "SEND_BUF_SIZE",
    "USE_DEDICATED_SERVER",
    "USE_NS_PROBES_FOR_DCD",
    "SQLNET.USE_HTTPS_PROXY",
    "SQLNET.URI",
    "SQLNET.CLIENT_REGISTRATION",
    "BEQUEATH_DETACH",
    "IFILE",
];

impl SqlNet {
    /// Reads `sqlnet.ora` (following IFILE). Fails only if the file cannot be read.
    pub fn load(path: &Path) -> Result<Parsed<SqlNet>, std::io::Error> {
        Ok(Self::from_params(ParamFile::load(path)?))
    }

    /// Writes the model as `sqlnet.ora` text in canonical form: every typed parameter
    /// that has a value (NAMES.DIRECTORY_PATH always; timeouts and node lists only when
    /// set), then the kept parameters verbatim. Parsing the text gives the same model.
    pub fn to_ora(&self) -> String {
        let mut out = String::new();
        let methods: Vec<String> = self
            .names_directory_path
            .iter()
            .map(NamingMethod::as_str)
            .map(str::to_string)
            .collect();
        out.push_str(&format!(
            "NAMES.DIRECTORY_PATH = ({})\n",
            methods.join(", ")
        ));
        if let Some(d) = &self.names_default_domain {
            out.push_str(&format!(
                "NAMES.DEFAULT_DOMAIN = {}\n",
                render_text(d, true)
            ));
        }
        out.push_str(&format!("SQLNET.EXPIRE_TIME = {}\n", self.expire_time));
        for (k, v) in [
            (
                "SQLNET.INBOUND_CONNECT_TIMEOUT",
                self.inbound_connect_timeout,
            ),
            (
                "SQLNET.OUTBOUND_CONNECT_TIMEOUT",
                self.outbound_connect_timeout,
            ),
            ("SQLNET.RECV_TIMEOUT", self.recv_timeout),
            ("SQLNET.SEND_TIMEOUT", self.send_timeout),
            ("TCP.CONNECT_TIMEOUT", self.tcp_connect_timeout),
        ] {
            if let Some(t) = v {
                out.push_str(&format!("{k} = {}\n", Timeout(t).render()));
            }
        }
        let yes_no = |b: bool| if b { "YES" } else { "NO" };
        out.push_str(&format!(
            "TCP.VALIDNODE_CHECKING = {}\n",
            yes_no(self.tcp_validnode_checking)
        ));
        for (k, v) in [
            ("TCP.INVITED_NODES", &self.tcp_invited_nodes),
            ("TCP.EXCLUDED_NODES", &self.tcp_excluded_nodes),
        ] {
            if !v.is_empty() {
                let items: Vec<String> = v.iter().map(|i| render_item(i)).collect();
                out.push_str(&format!("{k} = ({})\n", items.join(", ")));
            }
        }
        out.push_str(&format!("TCP.NODELAY = {}\n", yes_no(self.tcp_nodelay)));
        out.push_str(&format!("DEFAULT_SDU_SIZE = {}\n", self.default_sdu_size));
        for p in &self.other {
            out.push_str(&top_level(p));
        }
        out
    }

    /// Parses text; `file` names diagnostics.
    pub fn parse_str(text: &str, file: &str) -> Parsed<SqlNet> {
        Self::from_params(ParamFile::parse_str(text, file))
    }

    /// Builds the model from a parsed file (keeps its diagnostics). Later duplicates win.
    pub fn from_params(parsed: Parsed<ParamFile>) -> Parsed<SqlNet> {
        let Parsed {
            value: pf,
            mut diagnostics,
        } = parsed;
        let mut s = SqlNet::default();
        for p in &pf.params {
            apply(&mut s, p, &mut diagnostics);
        }
        Parsed {
            value: s,
            diagnostics,
        }
    }
}

fn apply(s: &mut SqlNet, p: &Param, diags: &mut Vec<Diagnostic>) {
    let name = p.name().to_ascii_uppercase();
    let text = p.value.as_text().map(str::trim);
    let warn = |diags: &mut Vec<Diagnostic>, what: &str| {
        diags.push(Diagnostic::warning(
            &p.file,
            p.value.pos().unwrap_or(p.pos),
            format!("{}: expected {what}; ignored", p.name()),
        ));
    };
    let timeout = |diags: &mut Vec<Diagnostic>| match text.and_then(Timeout::parse) {
        Some(t) => Some(t.0),
        None => {
            warn(diags, "a time in seconds (optionally with ms/sec/min)");
            None
        }
    };
    let flag = |diags: &mut Vec<Diagnostic>, slot: &mut bool| match text.and_then(parse_bool) {
        Some(b) => *slot = b,
        None => warn(diags, "YES or NO"),
    };
    match name.as_str() {
        "NAMES.DIRECTORY_PATH" => {
            let items = p.value.items();
            if items.is_empty() {
                warn(diags, "a list of naming methods");
            } else {
                s.names_directory_path = items.iter().map(|i| NamingMethod::parse(i)).collect();
                let positions: Vec<Pos> = match &p.value {
                    Value::List(atoms) => atoms.iter().map(|a| a.pos).collect(),
                    _ => Vec::new(),
                };
                for (k, m) in s.names_directory_path.iter().enumerate() {
                    if let NamingMethod::Other(name) = m
                        && !["NIS", "CDS"].contains(&name.to_ascii_uppercase().as_str())
                    {
                        let pos = positions.get(k).copied().or(p.value.pos()).unwrap_or(p.pos);
                        diags.push(Diagnostic::warning(
                            &p.file,
                            pos,
                            format!(
                                "NAMES.DIRECTORY_PATH: unknown naming method {name}; accepted: TNSNAMES, EZCONNECT, LDAP, HOSTNAME, NIS, CDS"
                            ),
                        ));
                    }
                }
            }
        }
        "NAMES.DEFAULT_DOMAIN" => s.names_default_domain = text.map(str::to_string),
        "SQLNET.EXPIRE_TIME" => match text.map(str::parse::<u32>) {
            Some(Ok(n)) => s.expire_time = n,
            _ => warn(diags, "a number of minutes"),
        },
        "SQLNET.INBOUND_CONNECT_TIMEOUT" => {
            s.inbound_connect_timeout = timeout(diags).or(s.inbound_connect_timeout)
        }
        "SQLNET.OUTBOUND_CONNECT_TIMEOUT" => {
            s.outbound_connect_timeout = timeout(diags).or(s.outbound_connect_timeout);
        }
        "SQLNET.RECV_TIMEOUT" => s.recv_timeout = timeout(diags).or(s.recv_timeout),
        "SQLNET.SEND_TIMEOUT" => s.send_timeout = timeout(diags).or(s.send_timeout),
        "TCP.CONNECT_TIMEOUT" => s.tcp_connect_timeout = timeout(diags).or(s.tcp_connect_timeout),
        "TCP.VALIDNODE_CHECKING" => flag(diags, &mut s.tcp_validnode_checking),
        "TCP.NODELAY" => flag(diags, &mut s.tcp_nodelay),
        "TCP.INVITED_NODES" => s.tcp_invited_nodes = p.value.items(),
        "TCP.EXCLUDED_NODES" => s.tcp_excluded_nodes = p.value.items(),
        "DEFAULT_SDU_SIZE" => match text.map(str::parse::<u32>) {
            Some(Ok(n)) if (512..=2_097_152).contains(&n) => s.default_sdu_size = n,
            _ => warn(diags, "a number of bytes between 512 and 2097152"),
        },
        _ => {
            if !KNOWN.contains(&name.as_str()) {
                diags.push(Diagnostic::warning(
                    &p.file,
                    p.pos,
                    format!("unknown sqlnet.ora parameter {} kept", p.name()),
                ));
            }
            s.other.retain(|o| o.key != name);
            s.other.push(RawParam {
                key: name,
                value: RawValue::from_value(&p.value),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_and_defaults() {
        let p = SqlNet::parse_str(
            "NAMES.DIRECTORY_PATH = (TNSNAMES, EZCONNECT)\nSQLNET.EXPIRE_TIME = 10\nSQLNET.EXPIRE_TIME=0\n\
             SQLNET.OUTBOUND_CONNECT_TIMEOUT = 2 sec\nTCP.VALIDNODE_CHECKING = yes\n\
             TCP.INVITED_NODES = (127.0.0.1, 10.0.0.0/8)\nDEFAULT_SDU_SIZE = 32767\nNAME.DEFAULT_ZONE = x\n",
            "sqlnet.ora",
        );
        let s = &p.value;
        assert_eq!(
            s.names_directory_path,
            vec![NamingMethod::Tnsnames, NamingMethod::Ezconnect]
        );
        assert_eq!(s.expire_time, 0);
        assert_eq!(s.outbound_connect_timeout, Some(Duration::from_secs(2)));
        assert!(s.tcp_validnode_checking);
        assert_eq!(s.tcp_invited_nodes, vec!["127.0.0.1", "10.0.0.0/8"]);
        assert_eq!(s.default_sdu_size, 32767);
        assert!(s.tcp_nodelay);
        assert_eq!(p.diagnostics.len(), 1);
        assert_eq!(
            p.diagnostics[0].to_string(),
            "sqlnet.ora:8:1: warning: unknown sqlnet.ora parameter NAME.DEFAULT_ZONE kept"
        );
    }
}
