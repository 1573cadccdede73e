//! The instance: what `oradb <SID>` runs. It reads `init<SID>.ora`, creates the SGA, starts
//! its background threads (pmon, lreg), opens, and waits for a shutdown request — from
//! `oradb shutdown` through the SGA, or SIGTERM/SIGINT — which it carries out with Oracle's
//! meanings:
//!
//! - NORMAL: no new connections (ORA-01090; the listener is told BLOCKED), wait until every
//!   user session has logged off.
//! - TRANSACTIONAL: no new connections, wait until no session is inside a call, then as
//!   IMMEDIATE.
//! - IMMEDIATE: every session's current or next call gets ORA-01089; server processes that
//!   do not leave by themselves within a grace period are terminated (SIGTERM, then SIGKILL).
//! - ABORT: server processes are killed at once, nothing is deregistered (the listener sees
//!   the registration connection die and forgets the instance).
//!
//! Then the instance deregisters from the listener, marks the SGA shut down (new attaches get
//! ORA-01034) and removes it. This module also has the client half used by `oradb startup`
//! (start the daemon in the background and wait until it is open) and `oradb shutdown`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::signal::{SigSet, Signal, kill};
use nix::unistd::Pid;
use tns::error_text::{ora_line, ora_line_with};

use crate::initora::{self, InitOraError, InitParams};
use crate::lreg::{Lreg, LregConfig};
use crate::pmon::{self, Pmon};
use crate::sga::{
    InstanceState, ProcessHandle, ProcessKind, ProcessSpec, SessionHandle, SessionSpec,
    SessionStatus, SessionType, Sga, SgaConfig, SgaError, ShutdownMode,
};
use crate::shared::{SharedConfig, SharedError, SharedServers};

/// The version string V$INSTANCE.VERSION shows.
pub const VERSION: &str = "19.0.0.0.0";

/// How long IMMEDIATE waits for sessions to leave by themselves before terminating their
/// processes.
const IMMEDIATE_GRACE: Duration = Duration::from_secs(2);
/// How long idle server processes get to finish what they were writing before SIGTERM.
const IDLE_GRACE: Duration = Duration::from_millis(200);
/// How long after SIGTERM before SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(3);

/// Errors of starting, running or stopping an instance.
#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    /// The parameter file.
    #[error(transparent)]
    InitOra(#[from] InitOraError),
    /// The SGA.
    #[error(transparent)]
    Sga(#[from] SgaError),
    /// Dispatchers or shared servers.
    #[error(transparent)]
    Shared(#[from] SharedError),
    /// ORACLE_HOME not set.
    #[error("{}\nORACLE_HOME is not set", ora_line(1078))]
    NoOracleHome,
    /// ORACLE_SID not set.
    #[error("{}", ora_line(12162))]
    NoSid,
    /// Starting a thread or the background process failed.
    #[error("{}", os_failure(.op, .source))]
    Os {
        /// What failed.
        op: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The background instance exited before it opened.
    #[error("{}\n{log_tail}", ora_line(1092))]
    StartupFailed {
        /// The end of the alert log, which says why.
        log_tail: String,
    },
    /// The instance did not open or go away in time.
    #[error("{}", ora_line(1013))]
    Timeout {
        /// What was awaited.
        what: &'static str,
        /// How long.
        secs: u64,
    },
    /// A state change the instance's state does not allow (`ALTER DATABASE` in the wrong
    /// state): Oracle's line.
    #[error("{line}")]
    Refused {
        /// `ORA-nnnnn: text`.
        line: String,
    },
}

/// The OS's own message of `e` (`No such file or directory`), without Rust's
/// ` (os error n)` suffix.
pub(crate) fn os_message(e: &std::io::Error) -> String {
    let text = e.to_string();
    match e.raw_os_error() {
        Some(n) => text
            .strip_suffix(&format!(" (os error {n})"))
            .map_or(text.clone(), str::to_string),
        None => text,
    }
}

/// ORA-27300 with the errno as its status, and ORA-27301 with the OS's message.
fn os_failure(op: &str, e: &std::io::Error) -> String {
    let message = os_message(e);
    let status = e.raw_os_error().map_or(message.clone(), |n| n.to_string());
    format!(
        "{}\n{}",
        ora_line_with(27300, &[op, &status]),
        ora_line_with(27301, &[&message])
    )
}

fn os(op: &'static str) -> impl FnOnce(std::io::Error) -> InstanceError {
    move |source| InstanceError::Os { op, source }
}

/// `$ORACLE_HOME/rdbms/log/alert_<SID>.log`, where the background instance writes.
pub fn alert_log_path(oracle_home: &Path, sid: &str) -> PathBuf {
    oracle_home
        .join("rdbms")
        .join("log")
        .join(format!("alert_{sid}.log"))
}

/// This machine's host name (`localhost` when it cannot be read): V$INSTANCE.HOST_NAME,
/// registrations, the listener's log lines, the LOCAL_LISTENER check. The one wrapper of
/// `gethostname` in the workspace; use it rather than another.
pub fn host_name() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "localhost".to_string())
}

/// Formats Unix seconds as Oracle's default `DD-MON-YYYY HH24:MI:SS` (UTC).
pub fn format_date(secs: u64) -> String {
    let secs = i64::try_from(secs).unwrap_or(i64::MAX);
    tns::ttc::types::DateTime::from_unix(secs, 0).dd_mon_yyyy_hh24_mi_ss()
}

/// A running instance (the SGA and its background threads).
#[derive(Debug)]
pub struct Instance {
    sga: Arc<Sga>,
    params: InitParams,
    pmon: Pmon,
    lreg: Lreg,
    shared: Option<SharedServers>,
    /// CMON, and through it the DRCP broker while the pool is started.
    pool: Option<crate::pooled::PoolMonitor>,
    // Background processes' own slots, held for the instance's life.
    _background: Vec<(ProcessHandle, SessionHandle)>,
}

impl Instance {
    /// Starts the instance `sid` of `oracle_home`: parameters, SGA, PMON and LREG, then
    /// MOUNT and OPEN. Parameter-file diagnostics go to the log.
    pub fn start(oracle_home: &Path, sid: &str) -> Result<Instance, InstanceError> {
        Instance::start_to(oracle_home, sid, StartupStage::Open, false)
    }

    /// [`Instance::start`] up to `stage`: NOMOUNT leaves the instance STARTED, MOUNT leaves
    /// it MOUNTED (logins get ORA-01033 until `ALTER DATABASE OPEN`, [`alter_database`]).
    /// `restrict` (STARTUP RESTRICT) lets only users with RESTRICTED SESSION log in.
    pub fn start_to(
        oracle_home: &Path,
        sid: &str,
        stage: StartupStage,
        restrict: bool,
    ) -> Result<Instance, InstanceError> {
        let (params, diags) = initora::load(oracle_home, sid)?;
        for d in &diags {
            tracing::warn!("{d}");
        }
        let host = host_name();
        match crate::fdlimit::raise_nofile_limit() {
            Some((before, now)) if before < now => tracing::info!(
                "RLIMIT_NOFILE raised from {before} to {now} (the hard limit) for dispatcher circuits"
            ),
            Some((_, now)) => tracing::info!("RLIMIT_NOFILE is {now} (the hard limit)"),
            None => tracing::warn!("RLIMIT_NOFILE cannot be read"),
        }
        let sga = Sga::create(&SgaConfig {
            sid: sid.to_string(),
            instance_name: params.instance_name.clone(),
            db_name: params.db_name.clone(),
            host_name: host.clone(),
            version: VERSION.to_string(),
            processes: params.processes,
            sessions: params.sessions,
        })?;
        // Where this instance's log goes (a background instance's stderr is this file), so
        // that the kill entries of its server processes and threads land there too.
        sga.publish_alert_log(&alert_log_path(oracle_home, sid));
        let os_id = std::process::id();
        sga.set_logins_restricted(restrict);
        let kind = if restrict { "restrict" } else { "normal" };
        tracing::info!("Starting ORACLE instance ({kind}) (OS id: {os_id})");
        tracing::info!("{}", non_default_parameters(&params.path));
        // The SGA is ours, so no other live process is this SID's instance.
        for path in crate::stale_sockets::remove_stale(sid) {
            tracing::info!(
                "removed the socket {} of an earlier incarnation",
                path.display()
            );
        }
        let mut background = Vec::new();
        for name in ["PMON", "LREG"] {
            let p = sga.register_process(&ProcessSpec {
                kind: ProcessKind::Background,
                pname: name.to_string(),
                program: format!("oracle@{host} ({name})"),
                username: crate::sga::os_user(),
                terminal: "UNKNOWN".to_string(),
                spid: None,
            })?;
            let s = p.create_session(&SessionSpec {
                background: true,
                program: format!("oracle@{host} ({name})"),
                machine: host.clone(),
                osuser: crate::sga::os_user(),
                process: std::process::id().to_string(),
                terminal: "UNKNOWN".to_string(),
                service: "SYS$BACKGROUND".to_string(),
                ..SessionSpec::default()
            })?;
            background.push((p, s));
        }
        let pmon = Pmon::spawn(Arc::clone(&sga), pmon::TICK).map_err(os("start pmon"))?;
        if stage >= StartupStage::Mount {
            tracing::info!("ALTER DATABASE   MOUNT");
            sga.set_instance_state(InstanceState::Mounted);
            tracing::info!("Completed: ALTER DATABASE   MOUNT");
        }
        if stage == StartupStage::Open {
            tracing::info!("ALTER DATABASE OPEN");
            sga.set_instance_state(InstanceState::Open);
        }
        sga.init_shared_params(&crate::shared::config::shared_params(&params));
        let shared = Some(SharedServers::start(
            SharedConfig::new(&params, oracle_home, &host),
            Arc::clone(&sga),
        )?);
        // The pool as DBMS_CONNECTION_POOL left it: a started pool starts with the instance.
        let pool_state = crate::pooled::params::PoolState::load(oracle_home, sid);
        sga.set_cpool_state(&pool_state);
        let pool = crate::pooled::PoolMonitor::start(
            crate::pooled::PoolConfig {
                sid: sid.to_string(),
                oracle_home: oracle_home.to_path_buf(),
                listener_socket: params.listener.registration_socket(),
            },
            Arc::clone(&sga),
        )
        .map_err(os("start cmon"))?;
        let lreg = Lreg::spawn(
            Arc::clone(&sga),
            LregConfig {
                socket_path: params.listener.registration_socket(),
                interval: params.registration_interval,
                instance_name: params.instance_name.clone(),
                sid: sid.to_string(),
                db_name: params.db_name.clone(),
                oracle_home: oracle_home.display().to_string(),
                host,
                services: params.registered_services(),
            },
        )
        .map_err(os("start lreg"))?;
        if stage == StartupStage::Open {
            tracing::info!("Completed: ALTER DATABASE OPEN");
        }
        Ok(Instance {
            sga,
            params,
            pmon,
            lreg,
            shared,
            pool: Some(pool),
            _background: background,
        })
    }

    /// The SGA.
    pub fn sga(&self) -> &Arc<Sga> {
        &self.sga
    }

    /// The parameters it runs with.
    pub fn params(&self) -> &InitParams {
        &self.params
    }

    /// Waits for a shutdown request and carries it out; returns the mode used.
    pub fn run_until_shutdown(self) -> ShutdownMode {
        let mode = loop {
            if let Some(m) = self.sga.wait_shutdown_request(Duration::from_secs(1)) {
                break m;
            }
        };
        self.shutdown(mode)
    }

    /// Carries out a shutdown (a stronger request arriving meanwhile takes over).
    pub fn shutdown(mut self, requested: ShutdownMode) -> ShutdownMode {
        let sga = Arc::clone(&self.sga);
        sga.request_shutdown(requested);
        tracing::info!(
            "Shutting down ORACLE instance ({}) (OS id: {})",
            requested.as_str().to_ascii_lowercase(),
            std::process::id()
        );
        let current = || sga.shutdown_requested().unwrap_or(requested);
        // The pool goes first (its state stays as it is, for the next startup): idle pooled
        // servers leave with their sessions, busy ones after their client's call.
        if let Some(mut p) = self.pool.take() {
            p.stop();
        }
        // NORMAL: wait for users to log off; TRANSACTIONAL: for calls to finish.
        loop {
            let mode = current();
            let sessions = sga.snapshot_sessions();
            let users = sessions
                .iter()
                .filter(|s| s.session_type == SessionType::User);
            let waiting = match mode {
                ShutdownMode::Normal => users.count() > 0,
                ShutdownMode::Transactional => {
                    users.filter(|s| s.status == SessionStatus::Active).count() > 0
                }
                ShutdownMode::Immediate | ShutdownMode::Abort => false,
            };
            if !waiting {
                break;
            }
            sga.wait_shutdown_request(Duration::from_millis(200));
        }
        let mode = current();
        if mode == ShutdownMode::Abort {
            for pid in sga.foreground_spids() {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        } else {
            let n = sga.mark_all_for_shutdown();
            if n > 0 {
                tracing::info!("{n} session(s) told to end (ORA-01089)");
            }
            terminate_foregrounds(&sga);
        }
        sga.set_instance_state(InstanceState::Shutdown);
        self.lreg.stop(mode != ShutdownMode::Abort);
        if let Some(s) = self.shared.take() {
            s.stop();
        }
        self.pmon.stop();
        self._background.clear();
        if let Err(e) = sga.unlink() {
            tracing::warn!("removing the SGA: {e}");
        }
        tracing::info!("Instance shutdown complete (OS id: {})", std::process::id());
        mode
    }
}

/// How far `STARTUP` takes the instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StartupStage {
    /// `STARTUP NOMOUNT`: the SGA and the background processes (V$INSTANCE.STATUS STARTED).
    Nomount,
    /// `STARTUP MOUNT` (MOUNTED).
    Mount,
    /// `STARTUP` (OPEN).
    Open,
}

impl StartupStage {
    /// The instance state this stage ends in.
    pub fn state(self) -> InstanceState {
        match self {
            StartupStage::Nomount => InstanceState::Started,
            StartupStage::Mount => InstanceState::Mounted,
            StartupStage::Open => InstanceState::Open,
        }
    }
}

/// `ALTER DATABASE MOUNT | OPEN` on the running instance `sid` (`oradb alter-database`),
/// with Oracle's refusals ([`change_database`]).
pub fn alter_database(
    oracle_home: &Path,
    sid: &str,
    to: StartupStage,
) -> Result<(), InstanceError> {
    let sga = Sga::attach(sid)?;
    change_database(&sga, oracle_home, to).map_err(|code| InstanceError::Refused {
        line: ora_line(code),
    })
}

/// `ALTER DATABASE MOUNT | OPEN` on the instance of `sga`, from `oradb alter-database` or
/// an AS SYSDBA / SYSOPER session. Refused with Oracle's error number: ORA-01100 mounting
/// a mounted database, ORA-01507 opening an unmounted one, ORA-01531 opening an open one.
/// Writes the statement and its completion to the instance's alert log.
pub fn change_database(sga: &Sga, oracle_home: &Path, to: StartupStage) -> Result<(), u32> {
    let refusal = match (to, sga.instance_state()) {
        (StartupStage::Mount, InstanceState::Started) => None,
        (StartupStage::Mount, _) => Some(1100),
        (StartupStage::Open, InstanceState::Mounted) => None,
        (StartupStage::Open, InstanceState::Started) => Some(1507),
        (StartupStage::Open, _) => Some(1531),
        (StartupStage::Nomount, _) => Some(1100),
    };
    if let Some(code) = refusal {
        return Err(code);
    }
    let statement = match to {
        StartupStage::Mount => "ALTER DATABASE   MOUNT",
        _ => "ALTER DATABASE OPEN",
    };
    let sid = sga.sid();
    let log = |m: &str| crate::alert::append(oracle_home, &sid, m);
    log(statement);
    sga.set_instance_state(to.state());
    log(&format!("Completed: {statement}"));
    Ok(())
}

/// The block Oracle writes at startup: `System parameters with non-default values:` and one
/// `  name = value` line per parameter of the parameter file, strings quoted.
fn non_default_parameters(pfile: &Path) -> String {
    let mut out = String::from("System parameters with non-default values:");
    let Ok(parsed) = config::ParamFile::load(pfile) else {
        return out;
    };
    for p in &parsed.value.params {
        let value = p.value.items().join(", ");
        let value = value.trim_matches(|c| c == '"' || c == '\'').to_string();
        let shown = if value.parse::<f64>().is_ok() {
            value
        } else {
            format!("\"{value}\"")
        };
        // `*.name` and `SID.name` (an spfile-style prefix) name the same parameter.
        let name = p
            .name()
            .rsplit('.')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        out.push_str(&format!("\n  {name:<24} = {shown}"));
    }
    out
}

/// IMMEDIATE/TRANSACTIONAL: give server processes a moment to leave after ORA-01089, then
/// SIGTERM, then SIGKILL; pmon-style cleanup of whatever died.
fn terminate_foregrounds(sga: &Sga) {
    let wait_gone = |limit: Duration| {
        let deadline = Instant::now() + limit;
        loop {
            sga.reap_dead_processes();
            let left = sga.foreground_spids();
            if left.is_empty() || Instant::now() >= deadline {
                return left;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    // Idle sessions sit in a blocking read and will not see their mark: don't wait for
    // ones with no active call.
    let any_active = sga
        .snapshot_sessions()
        .iter()
        .any(|s| s.session_type == SessionType::User && s.status != SessionStatus::Inactive);
    let left = wait_gone(if any_active {
        IMMEDIATE_GRACE
    } else {
        IDLE_GRACE
    });
    for pid in &left {
        let _ = kill(Pid::from_raw(*pid), Signal::SIGTERM);
    }
    let left = wait_gone(TERM_GRACE);
    for pid in &left {
        let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
    }
    if !left.is_empty() {
        wait_gone(Duration::from_secs(1));
    }
}

/// Blocks SIGTERM/SIGINT/SIGHUP in the calling thread. Call it before [`Instance::start`]
/// (before any thread exists), so every thread inherits the mask and the signals reach only
/// the waiter of [`spawn_signal_waiter`].
pub fn block_shutdown_signals() -> Result<SigSet, InstanceError> {
    let mut set = SigSet::empty();
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGINT);
    set.add(Signal::SIGHUP);
    set.thread_block().map_err(|e| InstanceError::Os {
        op: "pthread_sigmask",
        source: e.into(),
    })?;
    Ok(set)
}

/// Starts a thread that turns the blocked signals into a shutdown request: SIGTERM and
/// SIGINT → IMMEDIATE; SIGHUP is ignored, as by a daemon.
pub fn spawn_signal_waiter(set: SigSet, sga: &Arc<Sga>) -> Result<(), InstanceError> {
    let sga = Arc::clone(sga);
    std::thread::Builder::new()
        .name("sigwait".into())
        .spawn(move || {
            loop {
                match set.wait() {
                    Ok(Signal::SIGHUP) => continue,
                    Ok(sig) => {
                        tracing::info!("{sig} received: SHUTDOWN IMMEDIATE");
                        sga.request_shutdown(ShutdownMode::Immediate);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(100)),
                }
            }
        })
        .map_err(os("start signal thread"))?;
    Ok(())
}

/// `oradb startup` without `--foreground`: starts `oradb <SID>` in the background (its own
/// process group, output appended to the alert log) and waits until the instance is open.
/// Returns the SGA size (for "Total System Global Area").
pub fn start_background(
    exe: &Path,
    oracle_home: &Path,
    sid: &str,
    stage: StartupStage,
    restrict: bool,
    timeout: Duration,
) -> Result<u64, InstanceError> {
    use std::os::unix::process::CommandExt;
    // Refuse early, as Oracle does, when an instance is already up.
    if let Ok(sga) = Sga::attach(sid) {
        return Err(SgaError::AlreadyRunning {
            sid: sid.to_string(),
            pid: sga.instance_pid(),
        }
        .into());
    }
    // Parameter errors are reported here, in the foreground, like SQL*Plus does.
    initora::load(oracle_home, sid)?;
    let log_path = alert_log_path(oracle_home, sid);
    if let Some(dir) = log_path.parent() {
        std::fs::create_dir_all(dir).map_err(os("create log directory"))?;
    }
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(os("open alert log"))?;
    let log_start = log.metadata().map(|m| m.len()).unwrap_or(0);
    let err_log = log.try_clone().map_err(os("open alert log"))?;
    let mut command = std::process::Command::new(exe);
    command.arg0("oradb").arg(sid);
    // An instance that opens is `oradb SID`, nothing more (its argv is its title).
    match stage {
        StartupStage::Nomount => command.args(["--stage", "nomount"]),
        StartupStage::Mount => command.args(["--stage", "mount"]),
        StartupStage::Open => &mut command,
    };
    if restrict {
        command.arg("--restrict");
    }
    let mut child = command
        .env("ORACLE_HOME", oracle_home)
        .env("ORACLE_SID", sid)
        .stdin(std::process::Stdio::null())
        .stdout(log)
        .stderr(err_log)
        .process_group(0)
        .spawn()
        .map_err(os("spawn oradb"))?;
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(sga) = Sga::attach(sid)
            && sga.instance_state() == stage.state()
        {
            return Ok(sga.segment_size() as u64);
        }
        if let Ok(Some(_)) = child.try_wait() {
            let text = std::fs::read(&log_path).unwrap_or_default();
            let tail = String::from_utf8_lossy(
                text.get(usize::try_from(log_start).unwrap_or(0)..)
                    .unwrap_or_default(),
            )
            .trim()
            .to_string();
            return Err(InstanceError::StartupFailed { log_tail: tail });
        }
        if Instant::now() >= deadline {
            tracing::warn!(
                "timed out after {} s waiting for the instance to open",
                timeout.as_secs()
            );
            return Err(InstanceError::Timeout {
                what: "the instance to open",
                secs: timeout.as_secs(),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `oradb shutdown`: asks the instance of `sid` to shut down with `mode` and waits until its
/// process is gone. Returns the state it was in (how far SHUTDOWN had to take it down).
pub fn request_shutdown(
    sid: &str,
    mode: ShutdownMode,
    timeout: Option<Duration>,
) -> Result<InstanceState, InstanceError> {
    let sga = Sga::attach(sid)?;
    let was = sga.instance_state();
    sga.request_shutdown(mode);
    let deadline = timeout.map(|t| Instant::now() + t);
    while sga.instance_alive() {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            tracing::warn!(
                "timed out after {} s waiting for the instance to shut down",
                timeout.map_or(0, |t| t.as_secs())
            );
            return Err(InstanceError::Timeout {
                what: "the instance to shut down",
                secs: timeout.map_or(0, |t| t.as_secs()),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(was)
}

/// What SQL*Plus prints for SHUTDOWN (not ABORT) of an instance that was `was`: an open
/// database is closed and dismounted; a mounted one is not open (ORA-01109) and is
/// dismounted; a started one is not mounted (ORA-01507). Then the instance goes.
pub fn shutdown_report(was: InstanceState, mode: ShutdownMode) -> String {
    let steps = match (mode, was) {
        (ShutdownMode::Abort, _) => String::new(),
        (_, InstanceState::Open) => "Database closed.\nDatabase dismounted.\n".to_string(),
        (_, InstanceState::Mounted) => format!("{}\n\n\nDatabase dismounted.\n", ora_line(1109)),
        (_, InstanceState::Started) => format!("{}\n\n\n", ora_line(1507)),
        (_, InstanceState::Shutdown) => String::new(),
    };
    format!("{steps}ORACLE instance shut down.\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_render_like_oracle() {
        assert_eq!(format_date(0), "01-JAN-1970 00:00:00");
        assert_eq!(format_date(951_782_400), "29-FEB-2000 00:00:00");
        assert_eq!(format_date(1_795_350_000), "22-NOV-2026 12:20:00");
    }

    #[test]
    fn startup_of_a_missing_pfile_fails_with_lrm_00109() {
        let home = tempfile::tempdir().unwrap();
        let err = Instance::start(home.path(), "NOPFILE").unwrap_err();
        assert!(err.to_string().contains("LRM-00109"), "{err}");
    }
}
