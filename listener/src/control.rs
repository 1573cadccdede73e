//! The `lsnrctl` verbs (status, services, version, stop, reload, save_config, set, show) as
//! functions of the listener's state. A verb answers with an [`Outcome`]: the
//! [`AdminResponse`] for `lsnrctl` plus the [`Effect`]s the event loop must carry out
//! afterwards (stop, close or bind endpoints, change a rate limit, re-apply the prespawn
//! pools). Nothing here owns a socket, so every verb is unit-tested on a state built in
//! memory, while `server` stays the event loop that owns the sockets and performs the
//! effects. The admin wire format is `admin`; Oracle's text layouts are `report`.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tns::packet::VSNNUM_19C;

use crate::admin::{AdminRequest, AdminResponse, StatusReport};
use crate::home::OracleHome;
use crate::listener_log::ListenerLog;
use crate::net_trace::NetTrace;
use crate::report;
use crate::services::ServiceDirectory;
use crate::settings::{Endpoint, ListenerSettings};
use crate::tnserr::TnsCode;

/// Loads the listener's settings (re-run on reload).
pub type SettingsLoader = Box<dyn Fn() -> Result<ListenerSettings, String>>;
/// Applies a tracing filter directive (`info`, `debug`, ...).
pub type TraceControl = Box<dyn Fn(&str) -> Result<(), String>>;

/// What the verbs read and change: the listener without its sockets.
pub struct ListenerState {
    /// The Oracle home.
    pub home: OracleHome,
    /// Current settings (runtime `set`s included).
    pub settings: ListenerSettings,
    /// Re-reads settings for `reload`.
    pub loader: SettingsLoader,
    /// Changes the tracing level.
    pub trace: TraceControl,
    /// Oracle trace level word (`off`, `user`, `admin`, `support`).
    pub trace_level: String,
    /// The tracing directive in force (`show log_level`).
    pub log_level: String,
    /// `listener.log`.
    pub log: ListenerLog,
    /// The trace file in Oracle Net's layout (TRACE_LEVEL/TRACE_DIRECTORY/TRACE_FILE).
    pub net_trace: NetTrace,
    /// Static and dynamic services.
    pub directory: ServiceDirectory,
    /// Start time (wall clock), for `Start Date`.
    pub started: SystemTime,
    /// Start time (monotonic), for `Uptime`.
    pub started_at: Instant,
}

/// What the event loop must do after a verb answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Leave the event loop (after the answer is written).
    Stop,
    /// Close the bound endpoint with this host and (bound) port.
    Close {
        /// Host as configured.
        host: String,
        /// The port it is bound to.
        port: u16,
    },
    /// Bind a new endpoint; a failure is added to the answer's lines.
    Bind(Endpoint),
    /// Give the bound endpoint (host, port) this `RATE_LIMIT`.
    RateLimit {
        /// Host as configured.
        host: String,
        /// The port it is bound to.
        port: u16,
        /// The new rate limit (see [`Endpoint::rate_limit`]).
        rate_limit: Option<Option<u32>>,
    },
    /// Tell the spawner how to start servers and how many idle dedicated servers to keep
    /// per SID.
    ConfigureSpawner {
        /// `SPAWN_METHOD_<l>`.
        method: config::listener::SpawnMethod,
        /// `(SID, n)` pool sizes.
        pools: Vec<(String, usize)>,
    },
}

/// A verb's answer and what must follow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The answer for `lsnrctl`.
    pub response: AdminResponse,
    /// What the event loop does next, in order.
    pub effects: Vec<Effect>,
}

impl Outcome {
    fn answer(response: AdminResponse) -> Self {
        Self {
            response,
            effects: Vec::new(),
        }
    }

    fn error(code: TnsCode, lines: Vec<String>) -> Self {
        Self::answer(AdminResponse::Error {
            code: code.0,
            lines,
        })
    }

    /// TNS-01153 naming what could not be processed, with the parameter hint if asked.
    fn bad_command(what: &str, hint: bool) -> Self {
        let mut lines = vec![TnsCode::BAD_COMMAND.tns_line_with(&[what])];
        if hint {
            lines.push(PARAM_HINT.to_string());
        }
        Self::error(TnsCode::BAD_COMMAND, lines)
    }
}

/// Tracing filter for an Oracle trace level word.
pub fn trace_directive(level: &str) -> Option<&'static str> {
    match level.trim().to_ascii_lowercase().as_str() {
        "off" | "0" => Some("warn"),
        "user" | "4" => Some("info"),
        "admin" | "10" => Some("debug"),
        "support" | "16" => Some("trace"),
        _ => None,
    }
}

/// Oracle's numeric trace level (off 0, user 4, admin 10, support 16).
pub fn trace_number(level: &str) -> u32 {
    match level.trim().to_ascii_lowercase().as_str() {
        "user" | "4" => 4,
        "admin" | "10" => 10,
        "support" | "16" => 16,
        _ => 0,
    }
}

/// The idle dedicated servers to keep per SID (PRESPAWN_LIST, summed per SID), as the
/// spawner wants them: upper-case SID, count above zero.
pub fn prespawn_pools(settings: &ListenerSettings) -> Vec<(String, usize)> {
    let mut pools: Vec<(String, usize)> = Vec::new();
    for s in &settings.sids {
        let sid = s.sid_name.to_ascii_uppercase();
        match pools.iter_mut().find(|(p, _)| *p == sid) {
            Some((_, n)) => *n += s.prespawn,
            None => pools.push((sid, s.prespawn)),
        }
    }
    pools.retain(|(_, n)| *n > 0);
    pools
}

/// Parameters `set` and `show` know, in the order of the hint line.
const PARAM_HINT: &str = "Parameters: inbound_connect_timeout, trc_level, trc_directory, trc_file, log_level, log_status, log_directory, log_file, save_config_on_stop, startup_waittime, dynamic_registration";

/// The parameters the listener answers `set` and `show` for (lsnrctl keeps `current_listener`,
/// `displaymode` and `rawmode` itself): name, and whether `set` may change it. `trc_level`,
/// `trc_directory` and `trc_file` move the trace file ([`NetTrace`]) at once. `log_level` is
/// orasim's own (the tracing filter of the listener's standard error).
pub const LISTENER_PARAMETERS: &[(&str, bool)] = &[
    ("trc_file", true),
    ("trc_directory", true),
    ("trc_level", true),
    ("log_file", true),
    ("log_directory", true),
    ("log_status", true),
    ("inbound_connect_timeout", true),
    ("startup_waittime", true),
    ("save_config_on_stop", true),
    ("dynamic_registration", true),
    ("log_level", true),
];

fn on_off_value(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "on" => Some(true),
        "off" => Some(false),
        _ => None,
    }
}

/// One admin request line from a client: refused unless `allowed` (the listener's own uid
/// or root), a parse failure answered with TNS-01153, otherwise [`execute`]d.
pub fn answer_line(
    state: &mut ListenerState,
    bound: &[Endpoint],
    allowed: bool,
    line: &str,
) -> Outcome {
    if !allowed {
        tracing::warn!("admin command from a foreign uid refused");
        state
            .log
            .event("(CONNECT_DATA=(COMMAND=admin)) * TNS-01189 refused foreign uid * 1189");
        return Outcome::error(
            TnsCode::NOT_AUTHENTICATED,
            vec![TnsCode::NOT_AUTHENTICATED.tns_line()],
        );
    }
    match serde_json::from_str::<AdminRequest>(line) {
        Ok(req) => execute(state, bound, req),
        Err(e) => Outcome::bad_command(&e.to_string(), false),
    }
}

fn verb_name(req: &AdminRequest) -> &'static str {
    match req {
        AdminRequest::Status => "status",
        AdminRequest::Services => "services",
        AdminRequest::Stop => "stop",
        AdminRequest::Reload => "reload",
        AdminRequest::Version => "version",
        AdminRequest::SaveConfig => "save_config",
        AdminRequest::Set { .. } => "set",
        AdminRequest::Show { .. } => "show",
    }
}

/// Runs one verb; `bound` are the endpoints the listener listens on (with their real ports).
pub fn execute(state: &mut ListenerState, bound: &[Endpoint], req: AdminRequest) -> Outcome {
    tracing::debug!(?req, "admin command");
    let verb = verb_name(&req);
    state.log.event(&format!(
        "(CONNECT_DATA=(CID=(PROGRAM=)(HOST={})(USER={}))(COMMAND={verb})(ARGUMENTS=64)(SERVICE={})(VERSION={VSNNUM_19C})) * {verb} * 0",
        server_proc::instance::host_name(),
        whoami(),
        state.settings.name
    ));
    match req {
        AdminRequest::Status => {
            Outcome::answer(AdminResponse::Status(Box::new(status(state, bound))))
        }
        AdminRequest::Services => Outcome::answer(AdminResponse::Services {
            services: state.directory.views(),
        }),
        AdminRequest::Version => Outcome::answer(AdminResponse::Ok {
            lines: version_lines(),
        }),
        AdminRequest::Stop => {
            let lines = if state.settings.save_config_on_stop {
                save_config(state).unwrap_or_else(|e| vec![e])
            } else {
                vec![]
            };
            Outcome {
                response: AdminResponse::Ok { lines },
                effects: vec![Effect::Stop],
            }
        }
        AdminRequest::SaveConfig => match save_config(state) {
            Ok(lines) => Outcome::answer(AdminResponse::Ok { lines }),
            Err(e) => Outcome::bad_command(&e, false),
        },
        AdminRequest::Reload => reload(state, bound),
        AdminRequest::Set { param, value } => set(state, &param, &value),
        AdminRequest::Show { param } => show(state, &param),
    }
}

/// `lsnrctl version`: the listener's banner and its adapters.
fn version_lines() -> Vec<String> {
    vec![
        report::tnslsnr_version(),
        format!("\tTNS for Linux: Version {} - Production", report::VERSION),
        format!(
            "\tUnix Domain Socket IPC NT Protocol Adaptor for Linux: Version {} - Production",
            report::VERSION
        ),
        format!(
            "\tTCP/IP NT Protocol Adapter for Linux: Version {} - Production",
            report::VERSION
        ),
    ]
}

/// `(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=h)(PORT=p)))`, as `status` and the log banner
/// list an endpoint.
pub fn endpoint_description(e: &Endpoint) -> String {
    format!(
        "(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST={})(PORT={})))",
        e.host, e.port
    )
}

/// The data behind `lsnrctl status`; endpoints sorted by host, then port.
pub fn status(state: &ListenerState, bound: &[Endpoint]) -> StatusReport {
    let mut endpoints: Vec<&Endpoint> = bound.iter().collect();
    endpoints.sort_by(|a, b| (&a.host, a.port).cmp(&(&b.host, b.port)));
    StatusReport {
        alias: state.settings.name.clone(),
        version: report::tnslsnr_version(),
        start_unix: state
            .started
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        uptime_secs: state.started_at.elapsed().as_secs(),
        trace_level: state.trace_level.clone(),
        security: "ON: Local OS Authentication".to_string(),
        default_service: state.settings.default_service.clone(),
        parameter_file: state
            .settings
            .parameter_file
            .as_ref()
            .map(|p| p.display().to_string()),
        log_file: state
            .log
            .enabled()
            .then(|| state.log.path().display().to_string()),
        trace_file: (state.trace_level != "off" && state.trace_level != "0").then(|| {
            let s = &state.settings;
            s.trace_directory.join(&s.trace_file).display().to_string()
        }),
        endpoints: endpoints.into_iter().map(endpoint_description).collect(),
        services: state.directory.views(),
        pid: std::process::id(),
    }
}

/// Persists the runtime-settable parameters into the parameter file (Oracle's layout).
fn save_config(state: &mut ListenerState) -> Result<Vec<String>, String> {
    let path = state
        .settings
        .parameter_file
        .clone()
        .unwrap_or_else(|| state.home.listener_ora());
    let mut params = vec![(
        "INBOUND_CONNECT_TIMEOUT",
        state.settings.inbound_connect_timeout.as_secs().to_string(),
    )];
    if trace_directive(&state.trace_level).is_some() {
        params.push(("TRACE_LEVEL", state.trace_level.to_ascii_uppercase()));
    }
    params.push(("LOGGING", on_off(state.log.enabled()).to_string()));
    let stamp = crate::oratime::format_timestamp(SystemTime::now());
    let backup = crate::settings::save_params(&path, &state.settings.name, &params, &stamp)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    state.settings.parameter_file = Some(path.clone());
    Ok(vec![
        format!("Saved {} configuration parameters.", state.settings.name),
        format!("Listener Parameter File   {}", path.display()),
        format!("Old Parameter File   {}", backup.display()),
    ])
}

fn on_off(on: bool) -> &'static str {
    if on { "ON" } else { "OFF" }
}

/// `LISTENER parameter "x" set to v`: the answer of both `set` and `show`.
fn param_line(state: &ListenerState, param: &str, value: &str) -> String {
    format!(
        "{} parameter \"{param}\" set to {value}",
        state.settings.name
    )
}

fn set(state: &mut ListenerState, param: &str, value: &str) -> Outcome {
    if state.settings.admin_restrictions {
        let code = TnsCode::COMMAND_RESTRICTED;
        return Outcome::error(code, vec![code.tns_line()]);
    }
    let param = param.to_ascii_lowercase();
    let bad = || Outcome::bad_command(&format!("{param} {value}"), true);
    match param.as_str() {
        "inbound_connect_timeout" => {
            let Ok(secs) = value.trim().parse::<u64>() else {
                return bad();
            };
            state.settings.inbound_connect_timeout = Duration::from_secs(secs);
        }
        "trc_level" => {
            let Some(dir) = trace_directive(value) else {
                return bad();
            };
            if let Err(e) = (state.trace)(dir) {
                return Outcome::bad_command(&e, false);
            }
            let level = value.trim().to_ascii_lowercase();
            let s = &state.settings;
            match NetTrace::open(&s.trace_directory, &s.trace_file, trace_number(&level)) {
                Ok(t) => state.net_trace = t,
                Err(e) => return Outcome::bad_command(&e.to_string(), false),
            }
            state.trace_level = level;
            state.log_level = dir.to_string();
        }
        "trc_directory" | "trc_file" => {
            let value = value.trim();
            if value.is_empty() {
                return bad();
            }
            let mut next = state.settings.clone();
            if param == "trc_directory" {
                next.trace_directory = std::path::PathBuf::from(value);
            } else {
                next.trace_file = if value.ends_with(".trc") {
                    value.to_string()
                } else {
                    format!("{value}.trc")
                };
            }
            let level = trace_number(&state.trace_level);
            match NetTrace::open(&next.trace_directory, &next.trace_file, level) {
                Ok(t) => {
                    state.net_trace = t;
                    state.settings = next;
                }
                Err(e) => return Outcome::bad_command(&e.to_string(), false),
            }
        }
        "log_level" => {
            if let Err(e) = (state.trace)(value.trim()) {
                return Outcome::bad_command(&e, false);
            }
            state.log_level = value.trim().to_string();
        }
        "log_status" => {
            let Some(on) = on_off_value(value) else {
                return bad();
            };
            match ListenerLog::open(&state.settings.log_path(), on) {
                Ok(l) => {
                    state.settings.logging = on;
                    state.log = l;
                }
                Err(e) => return Outcome::error(TnsCode::BAD_COMMAND, vec![e.to_string()]),
            }
        }
        "log_directory" | "log_file" => {
            let value = value.trim();
            if value.is_empty() {
                return bad();
            }
            let mut next = state.settings.clone();
            if param == "log_directory" {
                next.log_directory = std::path::PathBuf::from(value);
            } else {
                next.log_file = value.to_string();
            }
            match ListenerLog::open(&next.log_path(), state.settings.logging) {
                Ok(l) => {
                    state.settings = next;
                    state.log = l;
                }
                Err(e) => return Outcome::bad_command(&e.to_string(), false),
            }
        }
        "save_config_on_stop" => {
            let Some(on) = on_off_value(value) else {
                return bad();
            };
            state.settings.save_config_on_stop = on;
        }
        "dynamic_registration" => {
            let Some(on) = on_off_value(value) else {
                return bad();
            };
            state.settings.dynamic_registration = on;
        }
        "startup_waittime" => {
            let Ok(secs) = value.trim().parse::<u32>() else {
                return bad();
            };
            state.settings.startup_waittime = secs;
        }
        _ => return bad(),
    }
    let shown = show_value(state, &param).unwrap_or_default();
    Outcome::answer(AdminResponse::Ok {
        lines: vec![param_line(state, &param, &shown)],
    })
}

fn show_value(state: &ListenerState, param: &str) -> Option<String> {
    let s = &state.settings;
    Some(match param {
        "inbound_connect_timeout" => s.inbound_connect_timeout.as_secs().to_string(),
        "trc_level" => state.trace_level.clone(),
        "log_level" => state.log_level.clone(),
        "log_status" => on_off(state.log.enabled()).to_string(),
        "log_directory" => s.log_directory.display().to_string(),
        "log_file" => s.log_path().display().to_string(),
        "trc_directory" => s.trace_directory.display().to_string(),
        "trc_file" => s.trace_directory.join(&s.trace_file).display().to_string(),
        "save_config_on_stop" => on_off(s.save_config_on_stop).to_string(),
        "dynamic_registration" => on_off(s.dynamic_registration).to_string(),
        "startup_waittime" => s.startup_waittime.to_string(),
        "current_listener" => s.name.clone(),
        _ => return None,
    })
}

fn show(state: &ListenerState, param: &str) -> Outcome {
    let param = param.to_ascii_lowercase();
    match show_value(state, &param) {
        Some(v) => Outcome::answer(AdminResponse::Ok {
            lines: vec![param_line(state, &param, &v)],
        }),
        None => Outcome::bad_command(&param, true),
    }
}

/// Whether a configured endpoint (`PORT=0` = any port) is the bound one.
fn same_endpoint(wanted: &Endpoint, bound: &Endpoint) -> bool {
    wanted.host.eq_ignore_ascii_case(&bound.host) && (wanted.port == bound.port || wanted.port == 0)
}

/// Re-reads the configuration: endpoints no longer configured are closed, new ones bound,
/// the rate limits of the others follow the file (QUEUESIZE needs a restart, as in Oracle);
/// static services are replaced (counters of surviving handlers kept), the log and trace
/// level follow the file; live sessions are untouched. Also what SIGHUP does.
pub fn reload(state: &mut ListenerState, bound: &[Endpoint]) -> Outcome {
    let new = match (state.loader)() {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "reload failed");
            return Outcome::answer(AdminResponse::Ok { lines: vec![e] });
        }
    };
    let mut effects = Vec::new();
    let mut notes = Vec::new();
    for b in bound {
        if !new.endpoints.iter().any(|w| same_endpoint(w, b)) {
            effects.push(Effect::Close {
                host: b.host.clone(),
                port: b.port,
            });
        }
    }
    for w in &new.endpoints {
        let kept: Vec<&Endpoint> = bound.iter().filter(|b| same_endpoint(w, b)).collect();
        if kept.is_empty() {
            effects.push(Effect::Bind(w.clone()));
        }
        for b in kept {
            effects.push(Effect::RateLimit {
                host: b.host.clone(),
                port: b.port,
                rate_limit: w.rate_limit,
            });
        }
    }
    state.directory.set_static(&new.sids);
    let log_changed =
        new.log_path() != state.settings.log_path() || new.logging != state.settings.logging;
    if log_changed {
        match ListenerLog::open(&new.log_path(), new.logging) {
            Ok(l) => state.log = l,
            Err(e) => notes.push(e.to_string()),
        }
    }
    if new.trace_level != state.settings.trace_level
        && let Some(dir) = trace_directive(&new.trace_level)
        && (state.trace)(dir).is_ok()
    {
        state.trace_level = new.trace_level.clone();
        state.log_level = dir.to_string();
    }
    let trace_moved = new.trace_directory != state.settings.trace_directory
        || new.trace_file != state.settings.trace_file
        || trace_number(&new.trace_level) != state.net_trace.level();
    if trace_moved {
        let level = trace_number(&state.trace_level);
        match NetTrace::open(&new.trace_directory, &new.trace_file, level) {
            Ok(t) => state.net_trace = t,
            Err(e) => notes.push(e.to_string()),
        }
    }
    effects.push(Effect::ConfigureSpawner {
        method: new.spawn_method,
        pools: prespawn_pools(&new),
    });
    state.settings = new;
    Outcome {
        response: AdminResponse::Ok { lines: notes },
        effects,
    }
}

fn whoami() -> String {
    let uid = nix::unistd::getuid();
    nix::unistd::User::from_uid(uid)
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| uid.to_string())
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::*;
    use crate::settings::StaticSid;

    /// A listener state in a temporary home; `trace_calls` records the directives applied,
    /// `reload_to` is what the next `reload` reads (an error when `None`).
    struct Fixture {
        dir: tempfile::TempDir,
        state: ListenerState,
        trace_calls: Rc<RefCell<Vec<String>>>,
        reload_to: Rc<RefCell<Option<ListenerSettings>>>,
    }

    fn endpoint(host: &str, port: u16) -> Endpoint {
        Endpoint {
            host: host.to_string(),
            port,
            queuesize: 16,
            rate_limit: None,
        }
    }

    fn sid(name: &str, prespawn: usize) -> StaticSid {
        StaticSid {
            global_dbname: Some(format!("{}.example.com", name.to_ascii_lowercase())),
            sid_name: name.to_string(),
            oracle_home: None,
            prespawn,
        }
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = OracleHome::with_admin(dir.path().to_path_buf(), None);
        let mut settings = ListenerSettings::defaults("LISTENER", &home);
        settings.sids = vec![sid("ORCL", 0)];
        let trace_calls = Rc::new(RefCell::new(Vec::new()));
        let calls = Rc::clone(&trace_calls);
        let reload_to: Rc<RefCell<Option<ListenerSettings>>> = Rc::new(RefCell::new(None));
        let next = Rc::clone(&reload_to);
        let log = ListenerLog::open(&settings.log_path(), true).expect("log");
        let directory = ServiceDirectory::new(&settings.sids);
        let state = ListenerState {
            home,
            settings,
            loader: Box::new(move || {
                next.borrow().clone().ok_or_else(|| {
                    "TNS-01151: Missing listener name, LISTENER, in LISTENER.ORA".to_string()
                })
            }),
            trace: Box::new(move |d: &str| {
                if d == "bogus" {
                    return Err(format!("invalid filter directive {d}"));
                }
                calls.borrow_mut().push(d.to_string());
                Ok(())
            }),
            trace_level: "off".to_string(),
            log_level: "warn".to_string(),
            log,
            net_trace: NetTrace::off(),
            directory,
            started: UNIX_EPOCH + Duration::from_secs(1_273_923_744),
            started_at: Instant::now(),
        };
        Fixture {
            dir,
            state,
            trace_calls,
            reload_to,
        }
    }

    fn ok_lines(o: &Outcome) -> &[String] {
        match &o.response {
            AdminResponse::Ok { lines } => lines,
            other => panic!("not ok: {other:?}"),
        }
    }

    fn error(o: &Outcome) -> (u32, &[String]) {
        match &o.response {
            AdminResponse::Error { code, lines } => (*code, lines),
            other => panic!("not an error: {other:?}"),
        }
    }

    fn set(f: &mut Fixture, param: &str, value: &str) -> Outcome {
        let req = AdminRequest::Set {
            param: param.to_string(),
            value: value.to_string(),
        };
        execute(&mut f.state, &[], req)
    }

    fn show(f: &mut Fixture, param: &str) -> Outcome {
        let req = AdminRequest::Show {
            param: param.to_string(),
        };
        execute(&mut f.state, &[], req)
    }

    #[test]
    fn status_reports_the_state_with_endpoints_sorted() {
        let mut f = fixture();
        f.state.settings.default_service = Some("orcl.example.com".into());
        let bound = [
            endpoint("127.0.0.2", 1600),
            endpoint("127.0.0.1", 1700),
            endpoint("127.0.0.1", 1500),
        ];
        let o = execute(&mut f.state, &bound, AdminRequest::Status);
        assert!(o.effects.is_empty());
        let AdminResponse::Status(r) = o.response else {
            panic!("not a status: {:?}", o.response)
        };
        assert_eq!(r.alias, "LISTENER");
        assert_eq!(
            r.version,
            "TNSLSNR for Linux: Version 19.0.0.0.0 - Production"
        );
        assert_eq!(r.start_unix, 1_273_923_744);
        assert_eq!(r.trace_level, "off");
        assert_eq!(r.default_service.as_deref(), Some("orcl.example.com"));
        assert_eq!(r.parameter_file, None);
        assert_eq!(
            r.log_file,
            Some(f.state.settings.log_path().display().to_string())
        );
        assert_eq!(
            r.endpoints,
            [
                "(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT=1500)))",
                "(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT=1700)))",
                "(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.2)(PORT=1600)))",
            ]
        );
        let names: Vec<&str> = r.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["orcl.example.com"]);
        assert_eq!(r.pid, std::process::id());

        // With logging off, status names no log file.
        assert_eq!(ok_lines(&set(&mut f, "log_status", "off")).len(), 1);
        let AdminResponse::Status(r) = execute(&mut f.state, &[], AdminRequest::Status).response
        else {
            panic!("not a status")
        };
        assert_eq!(r.log_file, None);
        assert!(r.endpoints.is_empty());
    }

    #[test]
    fn every_verb_writes_its_admin_line_to_listener_log() {
        let mut f = fixture();
        execute(&mut f.state, &[], AdminRequest::Services);
        execute(&mut f.state, &[], AdminRequest::Version);
        let text = std::fs::read_to_string(f.state.settings.log_path()).expect("log");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].contains("(COMMAND=services)(ARGUMENTS=64)(SERVICE=LISTENER)(VERSION=318767104)) * services * 0"), "{}", lines[0]);
        assert!(lines[1].ends_with(" * version * 0"), "{}", lines[1]);
    }

    #[test]
    fn version_and_services_answer_without_effects() {
        let mut f = fixture();
        let o = execute(&mut f.state, &[], AdminRequest::Version);
        assert!(o.effects.is_empty());
        assert_eq!(
            ok_lines(&o),
            [
                "TNSLSNR for Linux: Version 19.0.0.0.0 - Production",
                "\tTNS for Linux: Version 19.0.0.0.0 - Production",
                "\tUnix Domain Socket IPC NT Protocol Adaptor for Linux: Version 19.0.0.0.0 - Production",
                "\tTCP/IP NT Protocol Adapter for Linux: Version 19.0.0.0.0 - Production",
            ]
        );
        let o = execute(&mut f.state, &[], AdminRequest::Services);
        assert_eq!(
            o.response,
            AdminResponse::Services {
                services: f.state.directory.views()
            }
        );
        assert!(o.effects.is_empty());
    }

    /// Layout source: Oracle Database Net Services Reference, "Listener Control Utility
    /// Commands", SET/SHOW parameter examples (`LISTENER parameter "trc_level" set to
    /// admin`).
    #[test]
    fn set_and_show_change_and_report_parameters_like_oracle() {
        let mut f = fixture();
        let o = set(&mut f, "INBOUND_CONNECT_TIMEOUT", "7");
        assert_eq!(
            ok_lines(&o),
            ["LISTENER parameter \"inbound_connect_timeout\" set to 7"]
        );
        assert!(o.effects.is_empty());
        assert_eq!(
            f.state.settings.inbound_connect_timeout,
            Duration::from_secs(7)
        );
        assert_eq!(
            ok_lines(&show(&mut f, "inbound_connect_timeout")),
            ["LISTENER parameter \"inbound_connect_timeout\" set to 7"]
        );

        assert_eq!(
            ok_lines(&set(&mut f, "trc_level", "ADMIN")),
            ["LISTENER parameter \"trc_level\" set to admin"]
        );
        assert_eq!(*f.trace_calls.borrow(), ["debug"]);
        assert_eq!(
            ok_lines(&show(&mut f, "log_level")),
            ["LISTENER parameter \"log_level\" set to debug"]
        );
        assert_eq!(
            ok_lines(&set(&mut f, "log_level", "info")),
            ["LISTENER parameter \"log_level\" set to info"]
        );
        assert_eq!(*f.trace_calls.borrow(), ["debug", "info"]);
        assert_eq!(
            ok_lines(&show(&mut f, "current_listener")),
            ["LISTENER parameter \"current_listener\" set to LISTENER"]
        );
        // Every parameter of the table answers `show` in Oracle's line.
        for (p, _) in LISTENER_PARAMETERS {
            let o = show(&mut f, p);
            let lines = ok_lines(&o);
            assert!(
                lines[0].starts_with(&format!("LISTENER parameter \"{p}\" set to ")),
                "{lines:?}"
            );
        }
        assert_eq!(
            ok_lines(&set(&mut f, "save_config_on_stop", "on")),
            ["LISTENER parameter \"save_config_on_stop\" set to ON"]
        );
        assert!(f.state.settings.save_config_on_stop);
        assert_eq!(
            ok_lines(&set(&mut f, "startup_waittime", "3")),
            ["LISTENER parameter \"startup_waittime\" set to 3"]
        );
        assert_eq!(
            ok_lines(&set(&mut f, "dynamic_registration", "off")),
            ["LISTENER parameter \"dynamic_registration\" set to OFF"]
        );
        assert!(!f.state.settings.dynamic_registration);
        let trc = f.state.home.home.join("network/trace/listener.trc");
        assert_eq!(
            ok_lines(&show(&mut f, "trc_file")),
            [format!(
                "LISTENER parameter \"trc_file\" set to {}",
                trc.display()
            )]
        );
        // log_file / log_directory move the log: the next line goes to the new file.
        let new_dir = f.state.home.home.join("newlog");
        std::fs::create_dir_all(&new_dir).expect("mkdir");
        let o = set(&mut f, "log_directory", &new_dir.display().to_string());
        assert_eq!(
            ok_lines(&o),
            [format!(
                "LISTENER parameter \"log_directory\" set to {}",
                new_dir.display()
            )]
        );
        let o = set(&mut f, "log_file", "other.log");
        assert_eq!(
            ok_lines(&o),
            [format!(
                "LISTENER parameter \"log_file\" set to {}",
                new_dir.join("other.log").display()
            )]
        );
        assert_eq!(f.state.settings.log_path(), new_dir.join("other.log"));
        let log_file = f.state.settings.log_path().display().to_string();
        assert_eq!(
            ok_lines(&show(&mut f, "log_file")),
            [format!("LISTENER parameter \"log_file\" set to {log_file}")]
        );
    }

    #[test]
    fn bad_set_and_show_answer_tns_01153_and_change_nothing() {
        let mut f = fixture();
        let hint = PARAM_HINT;
        let o = set(&mut f, "inbound_connect_timeout", "soon");
        assert_eq!(
            error(&o),
            (
                1153,
                &[
                    "TNS-01153: Failed to process string: inbound_connect_timeout soon".to_string(),
                    hint.to_string()
                ][..]
            )
        );
        assert_eq!(
            f.state.settings.inbound_connect_timeout,
            ListenerSettings::defaults("LISTENER", &f.state.home).inbound_connect_timeout
        );
        let o = set(&mut f, "trc_level", "loud");
        assert_eq!(error(&o).0, 1153);
        assert_eq!(f.state.trace_level, "off");
        assert!(f.trace_calls.borrow().is_empty());
        // The tracing layer refuses a directive: the level stays.
        let o = set(&mut f, "log_level", "bogus");
        assert_eq!(error(&o).0, 1153);
        assert_eq!(f.state.log_level, "warn");
        let o = set(&mut f, "log_status", "maybe");
        assert_eq!(error(&o).0, 1153);
        assert!(f.state.log.enabled());
        let o = show(&mut f, "nonsense");
        assert_eq!(
            error(&o),
            (
                1153,
                &[
                    "TNS-01153: Failed to process string: nonsense".to_string(),
                    hint.to_string()
                ][..]
            )
        );
        assert_eq!(error(&set(&mut f, "save_config_on_stop", "maybe")).0, 1153);
        assert_eq!(error(&set(&mut f, "startup_waittime", "-1")).0, 1153);
    }

    #[test]
    fn admin_restrictions_refuse_every_set() {
        let mut f = fixture();
        f.state.settings.admin_restrictions = true;
        let o = set(&mut f, "inbound_connect_timeout", "7");
        assert_eq!(
            error(&o),
            (
                12508,
                &["TNS-12508: TNS:listener could not resolve the COMMAND given".to_string()][..]
            )
        );
        assert_ne!(
            f.state.settings.inbound_connect_timeout,
            Duration::from_secs(7)
        );
        // Showing stays allowed.
        assert_eq!(ok_lines(&show(&mut f, "trc_level")).len(), 1);
    }

    #[test]
    fn log_status_off_and_on_closes_and_reopens_the_log() {
        let mut f = fixture();
        assert_eq!(
            ok_lines(&set(&mut f, "log_status", "off")),
            ["LISTENER parameter \"log_status\" set to OFF"]
        );
        assert!(!f.state.settings.logging && !f.state.log.enabled());
        let before = std::fs::read_to_string(f.state.settings.log_path()).expect("log");
        execute(&mut f.state, &[], AdminRequest::Version);
        let after = std::fs::read_to_string(f.state.settings.log_path()).expect("log");
        assert_eq!(before, after, "a verb was logged with logging off");
        assert_eq!(
            ok_lines(&set(&mut f, "log_status", "on")),
            ["LISTENER parameter \"log_status\" set to ON"]
        );
        assert!(f.state.settings.logging && f.state.log.enabled());
    }

    #[test]
    fn stop_asks_the_loop_to_stop_and_saves_only_when_configured() {
        let mut f = fixture();
        let o = execute(&mut f.state, &[], AdminRequest::Stop);
        assert_eq!(o.effects, [Effect::Stop]);
        assert!(ok_lines(&o).is_empty());
        assert!(!f.state.home.listener_ora().exists());

        f.state.settings.save_config_on_stop = true;
        // A save that fails does not prevent the stop; its error is the answer's line.
        let o = execute(&mut f.state, &[], AdminRequest::Stop);
        assert_eq!(o.effects, [Effect::Stop]);
        let ora = f.state.home.listener_ora();
        assert!(
            ok_lines(&o)[0].starts_with(&format!("{}: ", ora.display())),
            "{:?}",
            o.response
        );
        std::fs::create_dir_all(ora.parent().expect("dir")).expect("mkdir");
        let o = execute(&mut f.state, &[], AdminRequest::Stop);
        assert_eq!(o.effects, [Effect::Stop]);
        assert_eq!(ok_lines(&o)[0], "Saved LISTENER configuration parameters.");
        assert!(f.state.home.listener_ora().exists());
    }

    #[test]
    fn save_config_writes_the_runtime_parameters_in_oracles_layout() {
        let mut f = fixture();
        let ora = f.state.home.listener_ora();
        std::fs::create_dir_all(ora.parent().expect("dir")).expect("mkdir");
        std::fs::write(&ora, "INBOUND_CONNECT_TIMEOUT_LISTENER = 3\n").expect("write");
        set(&mut f, "inbound_connect_timeout", "9");
        set(&mut f, "trc_level", "support");
        let o = execute(&mut f.state, &[], AdminRequest::SaveConfig);
        assert!(o.effects.is_empty());
        let bak = ora.with_file_name("listener.bak");
        assert_eq!(
            ok_lines(&o),
            [
                "Saved LISTENER configuration parameters.".to_string(),
                format!("Listener Parameter File   {}", ora.display()),
                format!("Old Parameter File   {}", bak.display()),
            ]
        );
        assert_eq!(
            std::fs::read_to_string(&bak).expect("bak"),
            "INBOUND_CONNECT_TIMEOUT_LISTENER = 3\n"
        );
        let text = std::fs::read_to_string(&ora).expect("ora");
        let body: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            body,
            [
                "INBOUND_CONNECT_TIMEOUT_LISTENER = 9",
                "TRACE_LEVEL_LISTENER = SUPPORT",
                "LOGGING_LISTENER = ON"
            ]
        );
        assert_eq!(f.state.settings.parameter_file.as_ref(), Some(&ora));
    }

    #[test]
    fn save_config_failure_is_tns_01153() {
        let mut f = fixture();
        // The parameter file's directory is a file: nothing can be written there.
        let blocker = f.dir.path().join("blocker");
        std::fs::write(&blocker, "").expect("write");
        f.state.settings.parameter_file = Some(blocker.join("listener.ora"));
        let o = execute(&mut f.state, &[], AdminRequest::SaveConfig);
        let (code, lines) = error(&o);
        assert_eq!(code, 1153);
        assert!(
            lines[0].starts_with(&format!(
                "TNS-01153: Failed to process string: {}",
                blocker.display()
            )),
            "{lines:?}"
        );
    }

    #[test]
    fn reload_diffs_endpoints_into_effects_and_replaces_services() {
        let mut f = fixture();
        let bound = [
            endpoint("127.0.0.1", 1500),
            endpoint("127.0.0.2", 1600),
            endpoint("127.0.0.4", 1800),
        ];
        let mut new = f.state.settings.clone();
        new.endpoints = vec![
            Endpoint {
                rate_limit: Some(Some(5)),
                ..endpoint("127.0.0.1", 1500)
            },
            endpoint("127.0.0.3", 1700),
            // PORT=0 keeps whatever port the host is bound to.
            endpoint("LOCALHOST", 0),
            endpoint("127.0.0.4", 0),
        ];
        new.sids = vec![sid("SALES", 2), sid("sales", 1), sid("HR", 0)];
        new.trace_level = "user".to_string();
        *f.reload_to.borrow_mut() = Some(new.clone());
        let o = execute(&mut f.state, &bound, AdminRequest::Reload);
        assert!(ok_lines(&o).is_empty());
        assert_eq!(
            o.effects,
            [
                Effect::Close {
                    host: "127.0.0.2".into(),
                    port: 1600
                },
                Effect::RateLimit {
                    host: "127.0.0.1".into(),
                    port: 1500,
                    rate_limit: Some(Some(5))
                },
                Effect::Bind(endpoint("127.0.0.3", 1700)),
                Effect::Bind(endpoint("LOCALHOST", 0)),
                Effect::RateLimit {
                    host: "127.0.0.4".into(),
                    port: 1800,
                    rate_limit: None
                },
                Effect::ConfigureSpawner {
                    method: config::listener::SpawnMethod::Fork,
                    pools: vec![("SALES".into(), 3)]
                },
            ]
        );
        assert_eq!(f.state.settings, new);
        assert_eq!(
            (f.state.trace_level.as_str(), f.state.log_level.as_str()),
            ("user", "info")
        );
        let names: Vec<String> = f
            .state
            .directory
            .views()
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert!(
            names.contains(&"sales.example.com".to_string()),
            "{names:?}"
        );
        assert!(
            !names.contains(&"orcl.example.com".to_string()),
            "{names:?}"
        );
    }

    #[test]
    fn reload_that_cannot_read_the_file_keeps_everything() {
        let mut f = fixture();
        let before = f.state.settings.clone();
        let o = reload(&mut f.state, &[endpoint("127.0.0.1", 1500)]);
        assert_eq!(
            ok_lines(&o),
            ["TNS-01151: Missing listener name, LISTENER, in LISTENER.ORA"]
        );
        assert!(o.effects.is_empty());
        assert_eq!(f.state.settings, before);
    }

    #[test]
    fn request_lines_from_foreign_uids_or_garbage_are_refused() {
        let mut f = fixture();
        let status = serde_json::to_string(&AdminRequest::Status).expect("json");
        let o = answer_line(&mut f.state, &[], false, &status);
        assert_eq!(
            error(&o),
            (
                1189,
                &["TNS-01189: The listener could not authenticate the user".to_string()][..]
            )
        );
        let log = std::fs::read_to_string(f.state.settings.log_path()).expect("log");
        assert!(
            log.contains("* TNS-01189 refused foreign uid * 1189"),
            "{log}"
        );

        let o = answer_line(&mut f.state, &[], true, "{\"cmd\":\"explode\"}");
        let (code, lines) = error(&o);
        assert_eq!(code, 1153);
        assert!(
            lines[0].starts_with("TNS-01153: Failed to process string: unknown variant `explode`")
        );

        let o = answer_line(&mut f.state, &[], true, &status);
        assert!(matches!(o.response, AdminResponse::Status(_)));
    }

    #[test]
    fn prespawn_pools_sum_per_sid_and_drop_empty_ones() {
        let mut s = fixture().state.settings;
        s.sids = vec![sid("orcl", 1), sid("HR", 0), sid("ORCL", 2), sid("dw", 4)];
        assert_eq!(
            prespawn_pools(&s),
            [("ORCL".to_string(), 3), ("DW".to_string(), 4)]
        );
    }

    #[test]
    fn trace_levels_map_words_and_numbers() {
        for (word, number, directive) in [
            ("off", 0, "warn"),
            ("user", 4, "info"),
            ("admin", 10, "debug"),
            ("support", 16, "trace"),
        ] {
            assert_eq!(trace_directive(word), Some(directive));
            assert_eq!(trace_directive(&number.to_string()), Some(directive));
            assert_eq!(trace_number(&word.to_ascii_uppercase()), number);
        }
        assert_eq!(trace_directive("loud"), None);
        assert_eq!(trace_number("loud"), 0);
    }
}
