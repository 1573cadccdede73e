//! Starts the real orasim stack the way a DBA would and `orasim demo` does: a throw-away
//! `ORACLE_HOME` (listener.ora, sqlnet.ora, init<SID>.ora), `oradb user add`, two listeners
//! and `oradb startup`, and a wait until the instance has registered its services. One
//! instance serves every orasim mode:
//!
//! - `LISTENER`: service `BENCH` registered by the instance (dedicated servers forked by the
//!   spawner, dispatchers for `:shared`, the broker for `:pooled`), and the static service
//!   `BENCH_PRE` whose SID_DESC keeps prespawned servers;
//! - `LEXEC` (`SPAWN_METHOD_LEXEC = EXEC`): the static service `BENCH_EXEC`, whose dedicated
//!   servers the spawner forks and execs, as Oracle does.
//!
//! `tnslsnr` and `oradb` run as children of tnsbench (foreground) so that their pids are
//! known: the servers are found in their process trees.
//!
//! Everything is stopped when the [`OrasimStack`] is dropped, even after a failed phase.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use client::{ConnectOptions, Connection};
use config::naming::Resolver;

use crate::procmem::{children_of, title_of};

/// The benchmark account.
pub const USER: &str = "BENCH";
/// Its password.
pub const PASSWORD: &str = "bench";
/// The service the instance registers (db_name).
pub const SERVICE: &str = "BENCH";
/// The static service with prespawned dedicated servers (on `LISTENER`).
pub const PRESPAWN_SERVICE: &str = "BENCH_PRE";
/// The static service whose dedicated servers are exec'd (on `LEXEC`).
pub const EXEC_SERVICE: &str = "BENCH_EXEC";
/// Upper bound for every start-up wait.
const START_WAIT: Duration = Duration::from_secs(30);

/// How to start the stack.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// Directory holding `tnslsnr`, `lsnrctl` and `oradb`.
    pub bin_dir: PathBuf,
    /// The PROCESSES parameter of the instance.
    pub processes: u32,
    /// The SESSIONS parameter (shared-server sessions take no process).
    pub sessions: u32,
    /// Dispatchers, and CONNECTIONS of each.
    pub dispatchers: (u32, u32),
    /// SHARED_SERVERS.
    pub shared_servers: u32,
    /// Idle prespawned servers of `BENCH_PRE`.
    pub prespawn: u32,
    /// Call timeout of every client connection.
    pub call_timeout: Duration,
}

/// A running listener + instance in a temporary ORACLE_HOME.
#[derive(Debug)]
pub struct OrasimStack {
    opts: StackOptions,
    home: tempfile::TempDir,
    listener: Option<Child>,
    exec_listener: Option<Child>,
    instance: Option<Child>,
    /// The instance SID.
    pub sid: String,
    /// The listener's port on 127.0.0.1.
    pub port: u16,
    /// `LEXEC`'s port.
    pub exec_port: u16,
    connect_opts: ConnectOptions,
}

impl OrasimStack {
    /// Builds the home and starts everything; fails if the service is not reachable within
    /// 30 s.
    pub fn start(opts: StackOptions) -> Result<OrasimStack> {
        for tool in ["tnslsnr", "lsnrctl", "oradb"] {
            if !opts.bin_dir.join(tool).is_file() {
                bail!(
                    "{tool} not found in {}: build the workspace first (cargo build --release) or pass --bin-dir",
                    opts.bin_dir.display()
                );
            }
        }
        let home = tempfile::Builder::new()
            .prefix("tnsbench")
            .tempdir()
            .context("creating a temporary ORACLE_HOME")?;
        for d in ["network/admin", "network/log", "dbs", "run"] {
            std::fs::create_dir_all(home.path().join(d))
                .with_context(|| format!("creating {d}"))?;
        }
        let sid = format!("TB{}", std::process::id() % 1_000_000);
        let resolver = Resolver::with_config_dir(&home.path().join("network/admin"));
        let mut stack = OrasimStack {
            connect_opts: ConnectOptions {
                resolver,
                call_timeout: Some(opts.call_timeout),
                ..ConnectOptions::default()
            },
            opts,
            home,
            listener: None,
            exec_listener: None,
            instance: None,
            sid,
            port: 0,
            exec_port: 0,
        };
        stack.add_user()?;
        stack.start_listener()?;
        stack.start_instance()?;
        stack.wait_for_service()?;
        Ok(stack)
    }

    /// ORACLE_HOME.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// The EZConnect string of the service.
    pub fn identifier(&self) -> String {
        format!("127.0.0.1:{}/{SERVICE}", self.port)
    }

    /// Connects and logs in as the bench user.
    pub fn connect(&self) -> Result<Connection, client::ClientError> {
        Connection::connect_with(&self.identifier(), USER, PASSWORD, &self.connect_opts)
    }

    /// Pid of `tnslsnr`.
    pub fn listener_pid(&self) -> Option<u32> {
        self.listener.as_ref().map(Child::id)
    }

    /// Every orasim process tree root: both listeners (their spawners and dedicated servers
    /// below them) and the instance (dispatchers, shared servers, broker: its threads).
    pub fn roots(&self) -> Vec<u32> {
        [&self.listener, &self.exec_listener, &self.instance]
            .into_iter()
            .filter_map(|c| c.as_ref().map(Child::id))
            .collect()
    }

    /// Sizes and starts the DRCP pool (`DBMS_CONNECTION_POOL.ALTER_PARAM` MAXSIZE and
    /// INCRSIZE, then `START_POOL`) and waits until the listener hands `:pooled` connects to the broker.
    /// Returns the EZConnect service, or why this build cannot measure pooled servers.
    pub fn start_pool(&self, maxsize: u32) -> Result<String, String> {
        let dedicated = format!("127.0.0.1:{}/{SERVICE}:dedicated", self.port);
        let mut c = Connection::connect_with(&dedicated, USER, PASSWORD, &self.connect_opts)
            .map_err(|e| format!("login to start the pool: {e}"))?;
        for sql in [
            format!("begin dbms_connection_pool.alter_param('', 'MAXSIZE', '{maxsize}'); end;"),
            // Grow by 20 servers at a time (Oracle's default is 2) so that the steady and
            // idle phases do not wait for the pool two servers at a time.
            format!(
                "begin dbms_connection_pool.alter_param('', 'INCRSIZE', '{}'); end;",
                20.min(maxsize.saturating_sub(1)).max(1)
            ),
            "begin dbms_connection_pool.start_pool(); end;".to_string(),
        ] {
            c.execute(&sql)
                .map(|_| ())
                .map_err(|e| format!("{sql}: {e}"))?;
        }
        let _ = c.close();
        let pooled = format!("{SERVICE}:pooled");
        let deadline = Instant::now() + START_WAIT;
        loop {
            match Connection::connect_with(
                &format!("127.0.0.1:{}/{pooled}", self.port),
                USER,
                PASSWORD,
                &self.connect_opts,
            ) {
                Ok(c) => {
                    let _ = c.close();
                    return Ok(pooled);
                }
                // ORA-12520 until the broker's registration reaches the listener.
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => return Err(format!("no pooled connection after START_POOL: {e}")),
            }
        }
    }

    /// Client options (naming in the bench home, call timeout).
    pub fn connect_options(&self) -> ConnectOptions {
        self.connect_opts.clone()
    }

    /// Pid of the `oradb` instance.
    pub fn instance_pid(&self) -> Option<u32> {
        self.instance.as_ref().map(Child::id)
    }

    /// The spawner zygote: the listener's child titled `... spawner`.
    pub fn spawner_pid(&self) -> Option<u32> {
        children_of(self.listener_pid()?)
            .into_iter()
            .find(|&p| title_of(p).contains("spawner"))
    }

    /// Runs `oradb ARGS --sid SID` against this stack's instance (as a DBA would type it,
    /// e.g. `kill-session`) and returns its output; fails if it does not end within 30 s.
    pub fn oradb(&self, args: &[&str]) -> Result<std::process::Output> {
        let child = self
            .command("oradb")
            .args(args)
            .args(["--sid", &self.sid])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("starting oradb")?;
        crate::peers::wait_with_limit(child, START_WAIT).context("oradb")
    }

    fn command(&self, tool: &str) -> Command {
        let mut c = Command::new(self.opts.bin_dir.join(tool));
        c.env("ORACLE_HOME", self.home.path())
            .env("ORACLE_SID", &self.sid)
            .env("ORASIM_RUN_DIR", self.home.path().join("run"))
            .env_remove("TNS_ADMIN");
        c
    }

    fn add_user(&self) -> Result<()> {
        let mut child = self
            .command("oradb")
            // ALTER SYSTEM: enough to start and size the DRCP pool.
            .args([
                "user",
                "add",
                USER,
                "--sid",
                &self.sid,
                "--password-stdin",
                "--grant",
                "alter-system",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("starting oradb user add")?;
        if let Some(mut i) = child.stdin.take() {
            writeln!(i, "{PASSWORD}").context("writing the password to oradb")?;
        }
        let out = crate::peers::wait_with_limit(child, START_WAIT).context("oradb user add")?;
        if !out.status.success() {
            bail!(
                "oradb user add failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(())
    }

    fn write_files(&self, port: u16, exec_port: u16) -> Result<()> {
        let admin = self.home.path().join("network/admin");
        let log = self.home.path().join("network/log");
        let o = &self.opts;
        let sid = &self.sid;
        let files = [
            (
                admin.join("listener.ora"),
                format!(
                    "LISTENER =\n  (DESCRIPTION_LIST =\n    (DESCRIPTION =\n      \
                     (ADDRESS = (PROTOCOL = TCP)(HOST = 127.0.0.1)(PORT = {port})(QUEUESIZE = 1024))))\n\n\
                     SID_LIST_LISTENER =\n  (SID_LIST =\n    (SID_DESC =\n      \
                     (GLOBAL_DBNAME = {PRESPAWN_SERVICE})\n      (SID_NAME = {sid})\n      \
                     (PRESPAWN_MAX = {n})\n      \
                     (PRESPAWN_LIST = (PRESPAWN_DESC = (PROTOCOL = TCP)(POOL_SIZE = {n})))))\n\n\
                     LOG_DIRECTORY_LISTENER = {log}\n\n\
                     LEXEC =\n  (DESCRIPTION_LIST =\n    (DESCRIPTION =\n      \
                     (ADDRESS = (PROTOCOL = TCP)(HOST = 127.0.0.1)(PORT = {exec_port})(QUEUESIZE = 1024))))\n\n\
                     SID_LIST_LEXEC =\n  (SID_LIST =\n    (SID_DESC =\n      \
                     (GLOBAL_DBNAME = {EXEC_SERVICE})\n      (SID_NAME = {sid})))\n\n\
                     SPAWN_METHOD_LEXEC = EXEC\nDYNAMIC_REGISTRATION_LEXEC = OFF\n\
                     LOG_DIRECTORY_LEXEC = {log}\n",
                    n = o.prespawn,
                    log = log.display()
                ),
            ),
            (
                admin.join("sqlnet.ora"),
                "NAMES.DIRECTORY_PATH = (EZCONNECT)\n".to_string(),
            ),
            (
                self.home.path().join("dbs").join(format!("init{sid}.ora")),
                format!(
                    "db_name = {SERVICE}\ninstance_name = {sid}\nservice_names = {SERVICE}\n\
                     processes = {processes}\nsessions = {sessions}\n\
                     dispatchers = '(PROTOCOL=TCP)(DISPATCHERS={d})(CONNECTIONS={c})'\n\
                     shared_servers = {ss}\n\
                     local_listener = '(ADDRESS=(PROTOCOL=TCP)(HOST=127.0.0.1)(PORT={port}))'\n",
                    processes = o.processes,
                    sessions = o.sessions,
                    d = o.dispatchers.0,
                    c = o.dispatchers.1,
                    ss = o.shared_servers,
                ),
            ),
        ];
        for (path, text) in files {
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(())
    }

    fn start_listener(&mut self) -> Result<()> {
        let free = || -> Result<u16> {
            Ok(TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .context("finding a free port")?
                .port())
        };
        for _ in 0..5 {
            let (port, exec_port) = (free()?, free()?);
            if port == exec_port {
                continue;
            }
            self.write_files(port, exec_port)?;
            self.port = port;
            self.exec_port = exec_port;
            self.listener = Some(self.spawn_listener("LISTENER")?);
            if !self.wait_listener("LISTENER", true)? {
                continue;
            }
            self.exec_listener = Some(self.spawn_listener("LEXEC")?);
            if self.wait_listener("LEXEC", false)? {
                return Ok(());
            }
            self.stop_listener();
        }
        bail!("tnslsnr could not bind free ports in 5 attempts (TNS-12542)")
    }

    fn spawn_listener(&self, name: &str) -> Result<Child> {
        let err_path = self.home.path().join(format!("tnslsnr-{name}.err"));
        let err = std::fs::File::create(&err_path).context("creating tnslsnr.err")?;
        let mut cmd = self.command("tnslsnr");
        cmd.args([name, "--home"])
            .arg(self.home.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err);
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        cmd.spawn().context("starting tnslsnr")
    }

    fn listener_ready(&self, name: &str) -> bool {
        self.command("lsnrctl")
            .args(["status", name])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Waits until `name` answers `lsnrctl status`; `Ok(false)` when it died of a port
    /// collision (try other ports), an error for any other death.
    fn wait_listener(&mut self, name: &str, first: bool) -> Result<bool> {
        let deadline = Instant::now() + START_WAIT;
        while Instant::now() < deadline {
            let child = if first {
                self.listener.as_mut()
            } else {
                self.exec_listener.as_mut()
            };
            if let Some(Ok(Some(_))) = child.map(Child::try_wait) {
                break;
            }
            if self.listener_ready(name) {
                return Ok(true);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.stop_listener();
        let text = std::fs::read_to_string(self.home.path().join(format!("tnslsnr-{name}.err")))
            .unwrap_or_default();
        if text.contains("12542") {
            return Ok(false);
        }
        bail!("tnslsnr {name} did not start: {}", text.trim())
    }

    fn start_instance(&mut self) -> Result<()> {
        let mut child = self
            .command("oradb")
            .args(["startup", "--foreground", "--sid", &self.sid])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting oradb")?;
        let stdout = child.stdout.take();
        self.instance = Some(child);
        let (tx, rx) = mpsc::channel();
        if let Some(out) = stdout {
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    let opened = line.trim() == "Database opened.";
                    if tx.send(opened).is_err() || opened {
                        break;
                    }
                }
            });
        }
        let deadline = Instant::now() + START_WAIT;
        loop {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(true) => return Ok(()),
                Ok(false) => continue,
                Err(_) => bail!("oradb did not say \"Database opened.\" within 30 s"),
            }
        }
    }

    /// lreg registers a moment after startup, dispatchers a moment later: connect until the
    /// listener hands both dedicated and shared connections on.
    fn wait_for_service(&self) -> Result<()> {
        let deadline = Instant::now() + START_WAIT;
        for service in [SERVICE.to_string(), format!("{SERVICE}:shared")] {
            loop {
                match Connection::connect_with(
                    &format!("127.0.0.1:{}/{service}", self.port),
                    USER,
                    PASSWORD,
                    &self.connect_opts,
                ) {
                    Ok(c) => {
                        let _ = c.close();
                        break;
                    }
                    // ORA-12514 until lreg's first registration arrives.
                    Err(_) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    Err(e) => bail!("the service {service} never became reachable: {e}"),
                }
            }
        }
        Ok(())
    }

    fn stop_listener(&mut self) {
        for c in [self.exec_listener.take(), self.listener.take()]
            .into_iter()
            .flatten()
        {
            terminate(c, Duration::from_secs(5));
        }
    }
}

/// SIGTERM, then SIGKILL after `grace`; always reaps.
fn terminate(mut c: Child, grace: Duration) {
    if let Ok(pid) = i32::try_from(c.id()) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = c.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = c.kill();
    let _ = c.wait();
}

impl Drop for OrasimStack {
    fn drop(&mut self) {
        if self.instance.is_some() {
            let _ = self
                .command("oradb")
                .args(["shutdown", "immediate", "--sid", &self.sid])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map(|c| crate::peers::wait_with_limit(c, Duration::from_secs(20)));
        }
        if let Some(c) = self.instance.take() {
            terminate(c, Duration::from_secs(10));
        }
        self.stop_listener();
        // A killed instance leaves its SGA segment behind; `oradb shutdown` removed it already
        // otherwise.
        let segment = format!(
            "/dev/shm/orasim_{}_{}",
            nix::unistd::getuid().as_raw(),
            self.sid
        );
        let _ = std::fs::remove_file(segment);
    }
}
