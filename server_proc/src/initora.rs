//! The instance's parameter file, `$ORACLE_HOME/dbs/init<SID>.ora` (a pfile), read with the
//! one `.ora` parser of the `config` crate and turned into the typed [`InitParams`] the
//! instance runs with.
//!
//! Oracle's rules kept here: a parameter may be scoped `*.name` (every instance) or
//! `SID.name` (one instance; wins over `*.`), the last setting wins; SESSIONS defaults to
//! 1.5 × PROCESSES + 22 and a smaller value is silently raised to it; SERVICE_NAMES defaults
//! to DB_UNIQUE_NAME(.DB_DOMAIN); LOCAL_LISTENER defaults to the local listener on TCP port
//! 1521 and may be an address, a descriptor or a tnsnames alias. An unknown parameter is
//! reported as `LRM-00101: unknown parameter name` but — unlike Oracle, which refuses to
//! start — only warned about. The shared-server parameters are read and kept for the
//! dispatchers.

use std::path::{Path, PathBuf};
use std::time::Duration;

use config::descriptor::{Address, ConnectDescriptor};
use config::{Diagnostic, Param, ParamFile, TnsNames, Value};

use crate::registration;
use tns::error_text::{lrm_line_with, ora_line, ora_line_with};

/// Errors that stop a startup, with Oracle's texts.
#[derive(Debug, thiserror::Error)]
pub enum InitOraError {
    /// The pfile cannot be read.
    #[error(
        "{}\n{}",
        ora_line(1078),
        lrm_line_with(109, &[&.path.display().to_string()])
    )]
    NotFound {
        /// The path tried.
        path: PathBuf,
    },
    /// A value of the wrong type or range.
    #[error("{}\n{}", ora_line(1078), lrm_line_with(121, &[.value, .name]))]
    BadValue {
        /// Parameter name (lower case).
        name: String,
        /// The value as written.
        value: String,
    },
    /// DB_NAME missing.
    #[error("{}", ora_line(1506))]
    MissingDbName,
    /// LOCAL_LISTENER names an alias that does not resolve or an unusable address.
    #[error(
        "{}\n{}",
        ora_line_with(119, &["LOCAL_LISTENER"]),
        ora_line_with(132, &[.value])
    )]
    BadLocalListener {
        /// The value as written.
        value: String,
    },
}

/// Where lreg finds the listener named by LOCAL_LISTENER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenerTarget {
    /// A TCP endpoint on this host.
    Tcp {
        /// HOST as written.
        host: String,
        /// PORT.
        port: u16,
    },
    /// An IPC endpoint (`(PROTOCOL=IPC)(KEY=...)`).
    Ipc {
        /// KEY.
        key: String,
    },
}

impl ListenerTarget {
    /// The listener's local registration socket.
    pub fn registration_socket(&self) -> PathBuf {
        match self {
            ListenerTarget::Tcp { port, .. } => registration::socket_path_for_port(*port),
            ListenerTarget::Ipc { key } => registration::socket_path_for_ipc_key(key),
        }
    }
}

/// The parameters the instance runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitParams {
    /// ORACLE_SID the file was read for.
    pub sid: String,
    /// The pfile read.
    pub path: PathBuf,
    /// DB_NAME.
    pub db_name: String,
    /// DB_UNIQUE_NAME (defaults to DB_NAME).
    pub db_unique_name: String,
    /// DB_DOMAIN (empty if unset).
    pub db_domain: String,
    /// INSTANCE_NAME (defaults to the SID).
    pub instance_name: String,
    /// SERVICE_NAMES (defaults to DB_UNIQUE_NAME[.DB_DOMAIN]).
    pub service_names: Vec<String>,
    /// PROCESSES.
    pub processes: u32,
    /// SESSIONS (never below 1.5 × PROCESSES + 22).
    pub sessions: u32,
    /// LOCAL_LISTENER as written (`None` = default).
    pub local_listener: Option<String>,
    /// The listener lreg registers with.
    pub listener: ListenerTarget,
    /// Seconds between lreg's periodic registrations (hidden `_registration_interval`,
    /// default 60).
    pub registration_interval: Duration,
    /// SHARED_SERVERS (None = unset).
    pub shared_servers: Option<u32>,
    /// MAX_SHARED_SERVERS.
    pub max_shared_servers: Option<u32>,
    /// DISPATCHERS, each as written.
    pub dispatchers: Vec<String>,
    /// MAX_DISPATCHERS.
    pub max_dispatchers: Option<u32>,
    /// CIRCUITS.
    pub circuits: Option<u32>,
    /// SHARED_SERVER_SESSIONS.
    pub shared_server_sessions: Option<u32>,
}

impl InitParams {
    /// The database's default service, DB_UNIQUE_NAME[.DB_DOMAIN], which Oracle always
    /// registers whatever SERVICE_NAMES says.
    pub fn default_service(&self) -> String {
        if self.db_domain.is_empty() {
            self.db_unique_name.clone()
        } else {
            format!("{}.{}", self.db_unique_name, self.db_domain)
        }
    }

    /// The services lreg registers: the default service first, then SERVICE_NAMES (each
    /// once, compared case-insensitively as the listener does).
    pub fn registered_services(&self) -> Vec<String> {
        let mut out = vec![self.default_service()];
        for s in &self.service_names {
            if !out.iter().any(|o| o.eq_ignore_ascii_case(s)) {
                out.push(s.clone());
            }
        }
        out
    }
}

/// PROCESSES when the file does not say (11.2's documented default; 12c+ derives it from
/// the CPU count by an unpublished formula).
pub const DEFAULT_PROCESSES: u32 = 100;

/// Oracle's SESSIONS default (11.2+): 1.5 × PROCESSES + 22.
pub fn default_sessions(processes: u32) -> u32 {
    processes.saturating_mul(3) / 2 + 22
}

/// `$ORACLE_HOME/dbs/init<SID>.ora`.
pub fn pfile_path(oracle_home: &Path, sid: &str) -> PathBuf {
    oracle_home.join("dbs").join(format!("init{sid}.ora"))
}

/// Parameters this simulator uses.
const USED: &[&str] = &[
    "db_name",
    "db_unique_name",
    "db_domain",
    "instance_name",
    "service_names",
    "processes",
    "sessions",
    "local_listener",
    "shared_servers",
    "max_shared_servers",
    "dispatchers",
    "max_dispatchers",
    "circuits",
    "shared_server_sessions",
    "_registration_interval",
];

/// Real Oracle parameters that are accepted and ignored (they mean nothing here).
const KNOWN_IGNORED: &[&str] = &[
    "audit_file_dest",
    "audit_sys_operations",
    "audit_trail",
    "background_dump_dest",
    "cluster_database",
    "compatible",
    "control_files",
    "control_file_record_keep_time",
    "core_dump_dest",
    "cpu_count",
    "db_block_size",
    "db_cache_size",
    "db_create_file_dest",
    "db_file_multiblock_read_count",
    "db_files",
    "db_recovery_file_dest",
    "db_recovery_file_dest_size",
    "diagnostic_dest",
    "dispatchers_xdb",
    "enable_pluggable_database",
    "event",
    "fast_start_mttr_target",
    "global_names",
    "instance_number",
    "java_pool_size",
    "job_queue_processes",
    "large_pool_size",
    "log_archive_dest_1",
    "log_archive_format",
    "log_buffer",
    "memory_max_target",
    "memory_target",
    "nls_date_format",
    "nls_language",
    "nls_territory",
    "open_cursors",
    "optimizer_mode",
    "pga_aggregate_limit",
    "pga_aggregate_target",
    "remote_listener",
    "remote_login_passwordfile",
    "remote_os_authent",
    "resource_limit",
    "sec_case_sensitive_logon",
    "sga_max_size",
    "sga_target",
    "shared_pool_size",
    "sqlnet_expire_time",
    "streams_pool_size",
    "thread",
    "transactions",
    "undo_management",
    "undo_retention",
    "undo_tablespace",
    "use_dedicated_broker",
    "user_dump_dest",
];

/// Whether `name` is a parameter this simulator knows (used or accepted and ignored).
pub fn is_known_parameter(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    USED.contains(&n.as_str()) || KNOWN_IGNORED.contains(&n.as_str())
}

/// A parameter after scope resolution.
#[derive(Debug, Clone)]
struct Setting<'a> {
    value: &'a Value,
    param: &'a Param,
}

/// Splits `*.name` / `SID.name` / `name` into (scope, lower-case name).
fn split_scope(name: &str) -> (Option<&str>, String) {
    match name.split_once('.') {
        Some((scope, rest)) if !scope.is_empty() && !rest.is_empty() => {
            (Some(scope), rest.to_ascii_lowercase())
        }
        _ => (None, name.to_ascii_lowercase()),
    }
}

/// Reads `init<SID>.ora` under `oracle_home`. Returns the parameters and every diagnostic
/// (parse errors of skipped lines, unknown parameters) for the alert log.
pub fn load(oracle_home: &Path, sid: &str) -> Result<(InitParams, Vec<Diagnostic>), InitOraError> {
    let path = pfile_path(oracle_home, sid);
    let parsed =
        ParamFile::load(&path).map_err(|_| InitOraError::NotFound { path: path.clone() })?;
    let mut diags = parsed.diagnostics;
    let params = from_param_file(&parsed.value, sid, &path, oracle_home, &mut diags)?;
    Ok((params, diags))
}

/// Builds [`InitParams`] from a parsed pfile for instance `sid`; unknown parameters become
/// warnings in `diags`.
pub fn from_param_file(
    pf: &ParamFile,
    sid: &str,
    path: &Path,
    oracle_home: &Path,
    diags: &mut Vec<Diagnostic>,
) -> Result<InitParams, InitOraError> {
    // name -> (priority, setting); SID-scoped (2) beats `*.`/unscoped (1); later wins.
    let mut settings: std::collections::HashMap<String, (u8, Setting<'_>)> =
        std::collections::HashMap::new();
    for p in &pf.params {
        for raw in &p.names {
            let (scope, name) = split_scope(raw);
            let prio = match scope {
                None | Some("*") => 1,
                Some(s) if s == sid || s.eq_ignore_ascii_case(sid) => 2,
                Some(_) => continue, // another instance's setting
            };
            if !USED.contains(&name.as_str()) && !KNOWN_IGNORED.contains(&name.as_str()) {
                diags.push(Diagnostic::warning(
                    &p.file,
                    p.pos,
                    format!("{} (ignored)", lrm_line_with(101, &[&name])),
                ));
                continue;
            }
            let keep = settings.get(&name).is_none_or(|(old, _)| prio >= *old);
            if keep {
                settings.insert(
                    name,
                    (
                        prio,
                        Setting {
                            value: &p.value,
                            param: p,
                        },
                    ),
                );
            }
        }
    }
    let text = |name: &str| -> Option<String> {
        settings.get(name).map(|(_, s)| match s.value {
            Value::Atom(a) => a.text.clone(),
            other => other.items().join(","),
        })
    };
    let number = |name: &str| -> Result<Option<u32>, InitOraError> {
        match text(name) {
            None => Ok(None),
            Some(t) => t
                .trim()
                .parse::<u32>()
                .map(Some)
                .map_err(|_| InitOraError::BadValue {
                    name: name.to_string(),
                    value: t,
                }),
        }
    };
    let list = |name: &str| -> Vec<String> {
        settings.get(name).map_or_else(Vec::new, |(_, s)| {
            s.value
                .items()
                .into_iter()
                .flat_map(|i| {
                    i.split(',')
                        .map(|x| x.trim().to_string())
                        .collect::<Vec<_>>()
                })
                .filter(|x| !x.is_empty())
                .collect()
        })
    };

    let db_name = text("db_name")
        .map(|s| s.trim().to_string())
        .filter(|s| {
            !s.is_empty()
                && s.len() <= 8
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$' || c == '#')
        })
        .ok_or(InitOraError::MissingDbName)?;
    let db_unique_name = text("db_unique_name").unwrap_or_else(|| db_name.clone());
    let db_domain = text("db_domain").unwrap_or_default();
    let instance_name = text("instance_name").unwrap_or_else(|| sid.to_string());
    let mut service_names = list("service_names");
    if service_names.is_empty() {
        service_names.push(if db_domain.is_empty() {
            db_unique_name.clone()
        } else {
            format!("{db_unique_name}.{db_domain}")
        });
    }
    let processes = number("processes")?.unwrap_or(DEFAULT_PROCESSES);
    if processes < 6 {
        return Err(InitOraError::BadValue {
            name: "processes".into(),
            value: processes.to_string(),
        });
    }
    let sessions = number("sessions")?
        .unwrap_or(0)
        .max(default_sessions(processes));
    let local_listener = settings.get("local_listener").map(|(_, s)| s);
    let (local_listener_text, listener) = match local_listener {
        None => (
            None,
            ListenerTarget::Tcp {
                host: "localhost".into(),
                port: 1521,
            },
        ),
        Some(s) => {
            let (written, target) = resolve_local_listener(s.value, oracle_home)?;
            if let ListenerTarget::Tcp { host, .. } = &target
                && !is_local_host(host)
            {
                diags.push(Diagnostic::warning(
                    &s.param.file,
                    s.param.pos,
                    format!(
                        "LOCAL_LISTENER host '{host}' is not this host; registration goes to the local listener on that port"
                    ),
                ));
            }
            (Some(written), target)
        }
    };
    let interval = number("_registration_interval")?.unwrap_or(60).max(1);
    Ok(InitParams {
        sid: sid.to_string(),
        path: path.to_path_buf(),
        db_name,
        db_unique_name,
        db_domain,
        instance_name,
        service_names,
        processes,
        sessions,
        local_listener: local_listener_text,
        listener,
        registration_interval: Duration::from_secs(u64::from(interval)),
        shared_servers: number("shared_servers")?,
        max_shared_servers: number("max_shared_servers")?,
        dispatchers: settings
            .get("dispatchers")
            .map_or_else(Vec::new, |(_, s)| s.value.items()),
        max_dispatchers: number("max_dispatchers")?,
        circuits: number("circuits")?,
        shared_server_sessions: number("shared_server_sessions")?,
    })
}

fn is_local_host(host: &str) -> bool {
    let h = host.to_ascii_lowercase();
    if h == "localhost" || h.starts_with("127.") || h == "::1" || h == "0.0.0.0" {
        return true;
    }
    let n = crate::instance::host_name();
    n.eq_ignore_ascii_case(host) || n.split('.').next() == host.split('.').next()
}

/// Resolves LOCAL_LISTENER: an address/descriptor (quoted or not) or a tnsnames alias.
fn resolve_local_listener(
    value: &Value,
    oracle_home: &Path,
) -> Result<(String, ListenerTarget), InitOraError> {
    let written = match value {
        Value::Atom(a) => a.text.clone(),
        other => other.items().join(","),
    };
    let bad = || InitOraError::BadLocalListener {
        value: written.clone(),
    };
    let descriptor: ConnectDescriptor = match value {
        Value::Nodes(_) => {
            let file: std::sync::Arc<str> = std::sync::Arc::from("<local_listener>");
            let mut d = Vec::new();
            ConnectDescriptor::from_value(value, &file, &mut d).ok_or_else(bad)?
        }
        _ if written.trim_start().starts_with('(') => {
            config::parse_descriptor(&written).map_err(|_| bad())?
        }
        _ => {
            let alias = written.trim();
            let tns_admin = std::env::var_os("TNS_ADMIN")
                .filter(|v| !v.is_empty())
                .map_or_else(|| oracle_home.join("network").join("admin"), PathBuf::from);
            let names = TnsNames::load(&tns_admin.join("tnsnames.ora")).map_err(|_| bad())?;
            names
                .value
                .lookup(alias)
                .map(|e| e.descriptor.clone())
                .ok_or_else(bad)?
        }
    };
    let addr: &Address = descriptor.addresses().into_iter().next().ok_or_else(bad)?;
    let target = match addr.protocol_lower().as_str() {
        "tcp" | "tcps" => ListenerTarget::Tcp {
            host: addr.host.clone().unwrap_or_else(|| "localhost".into()),
            port: addr.effective_port().ok_or_else(bad)?,
        },
        "ipc" => ListenerTarget::Ipc {
            key: addr.key.clone().ok_or_else(bad)?,
        },
        _ => return Err(bad()),
    };
    Ok((written, target))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, sid: &str) -> (Result<InitParams, InitOraError>, Vec<Diagnostic>) {
        parse_in(text, sid, Path::new("/nonexistent-oracle-home"))
    }

    fn parse_in(
        text: &str,
        sid: &str,
        home: &Path,
    ) -> (Result<InitParams, InitOraError>, Vec<Diagnostic>) {
        let parsed = ParamFile::parse_str(text, "initTEST.ora");
        let mut diags = parsed.diagnostics;
        let r = from_param_file(
            &parsed.value,
            sid,
            Path::new("initTEST.ora"),
            home,
            &mut diags,
        );
        (r, diags)
    }

    #[test]
    fn defaults_follow_oracle() {
        let (p, diags) = parse("db_name=ORCL\n", "ORCL");
        let p = p.unwrap();
        assert!(diags.is_empty());
        assert_eq!(p.instance_name, "ORCL");
        assert_eq!(p.service_names, vec!["ORCL"]);
        assert_eq!(p.registered_services(), vec!["ORCL"]);
        assert_eq!(p.processes, 100);
        assert_eq!(p.sessions, 172);
        assert_eq!(
            p.listener,
            ListenerTarget::Tcp {
                host: "localhost".into(),
                port: 1521
            }
        );
        assert_eq!(p.registration_interval, Duration::from_secs(60));
        assert_eq!(p.shared_servers, None);
    }

    #[test]
    fn sessions_default_and_silent_raise() {
        assert_eq!(default_sessions(150), 247);
        let (p, _) = parse("db_name=ORCL\nprocesses=150\nsessions=10\n", "ORCL");
        assert_eq!(p.unwrap().sessions, 247, "below the default: raised");
        let (p, _) = parse("db_name=ORCL\nprocesses=150\nsessions=500\n", "ORCL");
        assert_eq!(p.unwrap().sessions, 500);
    }

    #[test]
    fn spfile_style_scopes_and_lists() {
        let text = "\
*.db_name='ORCL'
*.processes=300
orcl.processes=150
other.processes=999
*.db_domain='example.com'
*.service_names='sales','hr'
*.local_listener='(ADDRESS=(PROTOCOL=TCP)(HOST=127.0.0.1)(PORT=41521))'
*.dispatchers='(PROTOCOL=TCP)(DISPATCHERS=2)'
*.shared_servers=3
*.max_shared_servers=10
*.control_files='/u01/oradata/ORCL/control01.ctl','/u01/oradata/ORCL/control02.ctl'
*._registration_interval=2
";
        let (p, diags) = parse(text, "orcl");
        let p = p.unwrap();
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(p.processes, 150, "SID-scoped wins over *.");
        assert_eq!(p.service_names, vec!["sales", "hr"]);
        assert_eq!(
            p.registered_services(),
            vec!["ORCL.example.com", "sales", "hr"]
        );
        assert_eq!(
            p.listener,
            ListenerTarget::Tcp {
                host: "127.0.0.1".into(),
                port: 41521
            }
        );
        assert!(p.listener.registration_socket().ends_with("lsnr_41521.reg"));
        assert_eq!(p.dispatchers, vec!["(PROTOCOL=TCP)(DISPATCHERS=2)"]);
        assert_eq!(p.shared_servers, Some(3));
        assert_eq!(p.max_shared_servers, Some(10));
        assert_eq!(p.registration_interval, Duration::from_secs(2));
    }

    #[test]
    fn default_service_uses_db_domain() {
        let (p, _) = parse("db_name=ORCL\ndb_domain=example.com\n", "ORCL");
        assert_eq!(p.unwrap().service_names, vec!["ORCL.example.com"]);
    }

    #[test]
    fn unknown_parameters_are_warned_not_fatal() {
        let (p, diags) = parse("db_name=ORCL\nprocesess=50\n", "ORCL");
        assert!(p.is_ok());
        assert_eq!(diags.len(), 1);
        assert!(!diags[0].is_error());
        assert_eq!(
            diags[0].message,
            "LRM-00101: unknown parameter name 'procesess' (ignored)"
        );
        assert_eq!(diags[0].pos.line, 2);
    }

    #[test]
    fn errors_carry_oracle_texts() {
        let (p, _) = parse("processes=50\n", "ORCL");
        assert_eq!(
            p.unwrap_err().to_string(),
            "ORA-01506: missing or illegal database name"
        );
        let (p, _) = parse("db_name=ORCL\nprocesses=lots\n", "ORCL");
        assert_eq!(
            p.unwrap_err().to_string(),
            "ORA-01078: failure in processing system parameters\nLRM-00121: 'lots' is not an allowable value for 'processes'"
        );
        let (p, _) = parse("db_name=ORCL\nlocal_listener=NO_SUCH_ALIAS\n", "ORCL");
        assert_eq!(
            p.unwrap_err().to_string(),
            "ORA-00119: invalid specification for system parameter LOCAL_LISTENER\nORA-00132: syntax error or unresolved network name 'NO_SUCH_ALIAS'"
        );
        let err = load(Path::new("/nonexistent-oracle-home"), "XYZ").unwrap_err();
        assert_eq!(
            err.to_string(),
            "ORA-01078: failure in processing system parameters\nLRM-00109: could not open parameter file '/nonexistent-oracle-home/dbs/initXYZ.ora'"
        );
    }

    #[test]
    fn local_listener_alias_resolves_through_tnsnames_and_ipc_works() {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join("network/admin")).unwrap();
        std::fs::write(
            home.path().join("network/admin/tnsnames.ora"),
            "LISTENER_ORCL =\n  (ADDRESS = (PROTOCOL = TCP)(HOST = localhost)(PORT = 41999))\n",
        )
        .unwrap();
        // TNS_ADMIN would take precedence; these tests do not set it.
        if std::env::var_os("TNS_ADMIN").is_none() {
            let (p, _) = parse_in(
                "db_name=ORCL\nlocal_listener=LISTENER_ORCL\n",
                "ORCL",
                home.path(),
            );
            assert_eq!(
                p.unwrap().listener,
                ListenerTarget::Tcp {
                    host: "localhost".into(),
                    port: 41999
                }
            );
        }
        let (p, _) = parse(
            "db_name=ORCL\nlocal_listener=(ADDRESS=(PROTOCOL=IPC)(KEY=LISTENER))\n",
            "ORCL",
        );
        assert_eq!(
            p.unwrap().listener,
            ListenerTarget::Ipc {
                key: "LISTENER".into()
            }
        );
    }

    #[test]
    fn load_reads_the_pfile_under_dbs() {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join("dbs")).unwrap();
        std::fs::write(
            pfile_path(home.path(), "FREE"),
            "db_name=FREE\nprocesses=20\nbogus=1\n",
        )
        .unwrap();
        let (p, diags) = load(home.path(), "FREE").unwrap();
        assert_eq!(p.processes, 20);
        assert_eq!(p.sessions, 52);
        assert_eq!(diags.len(), 1);
        assert!(
            diags[0]
                .to_string()
                .contains("initFREE.ora:3:1: warning: LRM-00101: unknown parameter name 'bogus'"),
            "{}",
            diags[0]
        );
    }
}
