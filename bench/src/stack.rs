//! Starts the real orasim stack the way a DBA would and `orasim demo` does: a throw-away
//! `ORACLE_HOME` (listener.ora, sqlnet.ora, init<SID>.ora), `oradb user add`, `tnslsnr`,
//! `oradb startup`, and a wait until the instance has registered its service with the
//! listener. `tnslsnr` and `oradb` run as children of tnsbench (foreground) so that their
//! pids are known: the dedicated servers are found as the spawner's children.
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
/// Upper bound for every start-up wait.
const START_WAIT: Duration = Duration::from_secs(30);

/// How to start the stack.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// Directory holding `tnslsnr`, `lsnrctl` and `oradb`.
    pub bin_dir: PathBuf,
    /// The PROCESSES parameter of the instance.
    pub processes: u32,
    /// Call timeout of every client connection.
    pub call_timeout: Duration,
}

/// A running listener + instance in a temporary ORACLE_HOME.
#[derive(Debug)]
pub struct OrasimStack {
    opts: StackOptions,
    home: tempfile::TempDir,
    listener: Option<Child>,
    instance: Option<Child>,
    /// The instance SID.
    pub sid: String,
    /// The listener's port on 127.0.0.1.
    pub port: u16,
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
            instance: None,
            sid,
            port: 0,
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

    /// Connects through another port on 127.0.0.1 that relays to the listener (a proxy).
    pub fn connect_via(&self, port: u16) -> Result<Connection, client::ClientError> {
        Connection::connect_with(
            &format!("127.0.0.1:{port}/{SERVICE}"),
            USER,
            PASSWORD,
            &self.connect_opts,
        )
    }

    /// Pid of `tnslsnr`.
    pub fn listener_pid(&self) -> Option<u32> {
        self.listener.as_ref().map(Child::id)
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

    /// Live dedicated servers of this SID: children of the spawner titled
    /// `oracle<SID> (LOCAL=NO)`.
    pub fn dedicated_servers(&self) -> Vec<u32> {
        let Some(spawner) = self.spawner_pid() else {
            return Vec::new();
        };
        let title = format!("oracle{}", self.sid);
        children_of(spawner)
            .into_iter()
            .filter(|&p| title_of(p).contains(&title) && !is_zombie(p))
            .collect()
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
            .args(["user", "add", USER, "--sid", &self.sid, "--password-stdin"])
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

    fn write_files(&self, port: u16) -> Result<()> {
        let admin = self.home.path().join("network/admin");
        let log = self.home.path().join("network/log");
        let files = [
            (
                admin.join("listener.ora"),
                format!(
                    "LISTENER =\n  (DESCRIPTION_LIST =\n    (DESCRIPTION =\n      \
                     (ADDRESS = (PROTOCOL = TCP)(HOST = 127.0.0.1)(PORT = {port}))))\n\n\
                     LOG_DIRECTORY_LISTENER = {}\n",
                    log.display()
                ),
            ),
            (
                admin.join("sqlnet.ora"),
                "NAMES.DIRECTORY_PATH = (EZCONNECT)\n".to_string(),
            ),
            (
                self.home
                    .path()
                    .join("dbs")
                    .join(format!("init{}.ora", self.sid)),
                format!(
                    "db_name = {SERVICE}\ninstance_name = {sid}\nservice_names = {SERVICE}\n\
                     processes = {processes}\n\
                     local_listener = '(ADDRESS=(PROTOCOL=TCP)(HOST=127.0.0.1)(PORT={port}))'\n",
                    sid = self.sid,
                    processes = self.opts.processes
                ),
            ),
        ];
        for (path, text) in files {
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(())
    }

    fn start_listener(&mut self) -> Result<()> {
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .context("finding a free port")?
                .port();
            self.write_files(port)?;
            let err_path = self.home.path().join("tnslsnr.err");
            let err = std::fs::File::create(&err_path).context("creating tnslsnr.err")?;
            let mut cmd = self.command("tnslsnr");
            cmd.args(["LISTENER", "--home"])
                .arg(self.home.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(err);
            std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
            self.listener = Some(cmd.spawn().context("starting tnslsnr")?);
            self.port = port;
            let deadline = Instant::now() + START_WAIT;
            while Instant::now() < deadline {
                if let Some(Ok(Some(_))) = self.listener.as_mut().map(Child::try_wait) {
                    break;
                }
                let status = self
                    .command("lsnrctl")
                    .arg("status")
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
                if matches!(status, Ok(s) if s.success()) {
                    return Ok(());
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            self.stop_listener();
            let text = std::fs::read_to_string(&err_path).unwrap_or_default();
            if !text.contains("12542") {
                bail!("tnslsnr did not start: {}", text.trim());
            }
        }
        bail!("tnslsnr could not bind a free port in 5 attempts (TNS-12542)")
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

    /// lreg registers a moment after startup: connect until the listener knows the service.
    fn wait_for_service(&self) -> Result<()> {
        let deadline = Instant::now() + START_WAIT;
        loop {
            match self.connect() {
                Ok(c) => {
                    let _ = c.close();
                    return Ok(());
                }
                // ORA-12514 until lreg's first registration arrives.
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => bail!("the service {SERVICE} never became reachable: {e}"),
            }
        }
    }

    fn stop_listener(&mut self) {
        if let Some(c) = self.listener.take() {
            terminate(c, Duration::from_secs(5));
        }
    }
}

/// Whether `/proc/<pid>/stat` says zombie (exited, not yet reaped).
fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let after = s.get(s.rfind(')')? + 1..)?.trim_start().chars().next()?;
            Some(after == 'Z')
        })
        .unwrap_or(true)
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
