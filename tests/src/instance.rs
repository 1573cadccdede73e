//! Helpers for the instance tests (`tests/tests/instance_*.rs`): a temporary ORACLE_HOME
//! with an `init<SID>.ora`, a running `oradb` killed by a guard, `sga_probe` children that
//! stand in for dedicated servers, and the `oradb` CLI.
//!
//! Every test gets its own SID (so its own SGA segment) and its own `ORASIM_RUN_DIR` (so its
//! own listener registration socket), so tests run in parallel without seeing each other.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// The "port" of the listener the test instances register with. Nothing binds it: it only
/// names the registration socket inside the test's private run directory.
pub const REG_PORT: u16 = 41521;

/// How long a helper waits for an answer before failing the test.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(20);

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Path of a workspace binary of another package, built once per test process (cargo only
/// builds the tests package's own binaries for its integration tests).
pub fn workspace_bin(package: &str, name: &str) -> PathBuf {
    static BUILT: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|p| p.into_inner());
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from);
    let path = target_dir.join("debug").join(name);
    if !built.iter().any(|b| b == name) {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", package, "--bin", name])
            .current_dir(workspace_root())
            .status()
            .expect("running cargo build");
        assert!(status.success(), "cargo build of {name} failed");
        built.push(name.to_string());
    }
    path
}

/// The `oradb` binary.
pub fn oradb_bin() -> PathBuf {
    workspace_bin("server_proc", "oradb")
}

/// The `sga_probe` binary (this package's own).
pub fn probe_bin() -> PathBuf {
    // Set at run time for integration tests by recent cargo; otherwise build it.
    std::env::var_os("CARGO_BIN_EXE_sga_probe")
        .map_or_else(|| workspace_bin("tests", "sga_probe"), PathBuf::from)
}

/// A SID no other test (or test run) uses.
pub fn unique_sid() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "T{}X{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A temporary ORACLE_HOME with `dbs/init<SID>.ora` and a private run directory.
#[derive(Debug)]
pub struct TestHome {
    dir: tempfile::TempDir,
    /// The instance's SID.
    pub sid: String,
    /// Whether `oradb` gets the private `ORASIM_RUN_DIR` (false when it must find a real
    /// `tnslsnr`, which uses the default run directory).
    private_run_dir: bool,
}

impl TestHome {
    /// A home whose pfile is `db_name=ORCL`, the registration target [`REG_PORT`] and a 60 s
    /// registration interval, followed by `extra` lines.
    pub fn new(extra: &str) -> TestHome {
        TestHome::with_port(REG_PORT, true, extra)
    }

    /// [`TestHome::new`] with a chosen SID (its own run directory, no listener).
    pub fn new_with_sid(sid: &str, extra: &str) -> TestHome {
        TestHome::with_sid(REG_PORT, true, sid.to_string(), extra)
    }

    /// A home whose LOCAL_LISTENER is a real `tnslsnr` on 127.0.0.1:`port` (registration
    /// through the default run directory, as `tnslsnr` uses it).
    pub fn for_listener(port: u16, extra: &str) -> TestHome {
        TestHome::with_port(port, false, extra)
    }

    /// [`TestHome::for_listener`] with a chosen SID (short enough for Oracle's thread names,
    /// `ora_d000_<SID>`, to fit Linux's 15 bytes).
    pub fn for_listener_with_sid(port: u16, sid: &str, extra: &str) -> TestHome {
        TestHome::with_sid(port, false, sid.to_string(), extra)
    }

    fn with_port(port: u16, private_run_dir: bool, extra: &str) -> TestHome {
        TestHome::with_sid(port, private_run_dir, unique_sid(), extra)
    }

    fn with_sid(port: u16, private_run_dir: bool, sid: String, extra: &str) -> TestHome {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("dbs")).expect("mkdir dbs");
        std::fs::create_dir_all(dir.path().join("run")).expect("mkdir run");
        let pfile = format!(
            "# test instance\n*.db_name='ORCL'\n*.local_listener='(ADDRESS=(PROTOCOL=TCP)(HOST=127.0.0.1)(PORT={port}))'\n{extra}\n"
        );
        std::fs::write(dir.path().join("dbs").join(format!("init{sid}.ora")), pfile)
            .expect("write pfile");
        TestHome {
            dir,
            sid,
            private_run_dir,
        }
    }

    /// `oradb user add NAME --password-stdin [--grant alter-system]`.
    pub fn add_user(&self, name: &str, password: &str, alter_system: bool) {
        let grants: &[&str] = if alter_system { &["alter-system"] } else { &[] };
        self.add_user_with(name, password, grants);
    }

    /// `oradb user add NAME --password-stdin --grant G ...` (`sysdba`, `alter-system`, ...).
    pub fn add_user_with(&self, name: &str, password: &str, grants: &[&str]) {
        let mut args = vec!["user", "add", name, "--password-stdin"];
        for g in grants {
            args.extend(["--grant", g]);
        }
        let mut child = self
            .oradb()
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn oradb user add");
        if let Some(mut i) = child.stdin.take() {
            let _ = writeln!(i, "{password}");
        }
        let out = wait_output(child, ANSWER_TIMEOUT);
        assert!(out.status.success(), "oradb user add: {out:?}");
    }

    /// ORACLE_HOME.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The private `ORASIM_RUN_DIR`.
    pub fn run_dir(&self) -> PathBuf {
        self.dir.path().join("run")
    }

    /// Where a listener of [`REG_PORT`] takes registrations in this home's run directory.
    pub fn registration_socket(&self) -> PathBuf {
        server_proc::registration::socket_path_for_port_in(&self.run_dir(), REG_PORT)
    }

    /// `oradb` with ORACLE_HOME, ORACLE_SID and ORASIM_RUN_DIR set.
    pub fn oradb(&self) -> Command {
        let mut c = Command::new(oradb_bin());
        c.env("ORACLE_HOME", self.path())
            .env("ORACLE_SID", &self.sid)
            .env_remove("TNS_ADMIN")
            .stdin(Stdio::null());
        if self.private_run_dir {
            c.env("ORASIM_RUN_DIR", self.run_dir());
        } else {
            c.env_remove("ORASIM_RUN_DIR");
        }
        c
    }

    /// Runs `oradb <args>` to completion (with a timeout guard).
    pub fn run_oradb(&self, args: &[&str]) -> Output {
        let child = self
            .oradb()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn oradb");
        wait_output(child, ANSWER_TIMEOUT)
    }

    /// Starts `oradb <args>` in the background (e.g. a `shutdown normal` that waits for
    /// users), stdout and stderr piped; killed and reaped on drop unless collected with
    /// [`OradbChild::output`].
    pub fn spawn_oradb(&self, args: &[&str]) -> OradbChild {
        let child = self
            .oradb()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn oradb");
        OradbChild(Some(child))
    }

    /// Starts `oradb startup --foreground` and waits for "Database opened.". Its log (what
    /// a background instance writes to its alert log) goes to the alert log's place too,
    /// for [`TestHome::alert_log`].
    pub fn start_foreground(&self) -> InstanceGuard {
        self.start_foreground_with_nofile(None)
    }

    /// [`TestHome::start_foreground`] with RLIMIT_NOFILE (soft and hard) set to `nofile`.
    pub fn start_foreground_with_nofile(&self, nofile: Option<u64>) -> InstanceGuard {
        let log_path = server_proc::instance::alert_log_path(self.path(), &self.sid);
        if let Some(dir) = log_path.parent() {
            std::fs::create_dir_all(dir).expect("mkdir rdbms/log");
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_or_else(|_| Stdio::null(), Stdio::from);
        let mut cmd = self.oradb();
        cmd.args(["startup", "--foreground"])
            .stdout(Stdio::piped())
            .stderr(log);
        if let Some(n) = nofile {
            // SAFETY: runs in the forked child before exec; setrlimit is async-signal-safe
            // and touches no memory shared with the parent.
            unsafe {
                std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
                    nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE, n, n)
                        .map_err(std::io::Error::from)
                });
            }
        }
        let mut child = cmd.spawn().expect("spawn oradb");
        let lines = line_channel(child.stdout.take().expect("stdout"));
        let guard = InstanceGuard {
            child,
            sid: self.sid.clone(),
        };
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        loop {
            match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(l) if l == "Database opened." => return guard,
                Ok(_) => continue,
                Err(e) => panic!("oradb did not open: {e}\nits log:\n{}", self.alert_log()),
            }
        }
    }

    /// The instance's alert log (its log lines), empty if none yet.
    pub fn alert_log(&self) -> String {
        std::fs::read_to_string(server_proc::instance::alert_log_path(
            self.path(),
            &self.sid,
        ))
        .unwrap_or_default()
    }

    /// Starts a probe (a stand-in dedicated server) with `sessions` sessions.
    pub fn probe(&self, sessions: u32) -> Probe {
        Probe::start(&self.sid, sessions)
    }
}

/// Waits for a child with a deadline (its piped output drained meanwhile), failing the test
/// with what it printed if it overstays.
pub fn wait_output(child: Child, limit: Duration) -> Output {
    let done = crate::procs::capture(child, limit);
    assert!(!done.timed_out, "process overran {limit:?}: {done:?}");
    done.into()
}

fn line_channel<R: std::io::Read + Send + 'static>(r: R) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// A background `oradb` command from [`TestHome::spawn_oradb`]; killed and reaped on drop
/// (also when the test fails before collecting it).
#[derive(Debug)]
pub struct OradbChild(Option<Child>);

impl OradbChild {
    /// Waits for it to end within `limit` (killing it and failing otherwise); its output.
    pub fn output(mut self, limit: Duration) -> Output {
        let child = self.0.take().expect("not yet collected");
        wait_output(child, limit)
    }
}

impl Drop for OradbChild {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A running foreground `oradb`; killed (SIGKILL) and reaped on drop if still running.
#[derive(Debug)]
pub struct InstanceGuard {
    child: Child,
    /// Its SID.
    pub sid: String,
}

impl InstanceGuard {
    /// The instance's OS pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until the instance process exits (after a shutdown); returns whether it did.
    pub fn wait_exit(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for InstanceGuard {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        // A killed instance leaves its segment; remove it so /dev/shm stays clean.
        let _ = nix::sys::mman::shm_unlink(server_proc::sga::segment_name(&self.sid).as_str());
    }
}

/// A running `sga_probe`; killed and reaped on drop.
#[derive(Debug)]
pub struct Probe {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    /// V$PROCESS.PID, if it got a process slot.
    pub oracle_pid: Option<u32>,
    /// Its sessions as (SID, SERIAL#).
    pub sessions: Vec<(u32, u32)>,
    /// The error it got at start (a refused process or session slot).
    pub error: Option<String>,
}

impl Probe {
    /// Starts a probe attached to `sid` with `sessions` sessions and reads its start report.
    pub fn start(sid: &str, sessions: u32) -> Probe {
        Probe::start_with(sid, sessions, &[])
    }

    /// [`Probe::start`] with extra arguments (e.g. `--ignore-sigterm`).
    pub fn start_with(sid: &str, sessions: u32, extra: &[&str]) -> Probe {
        let mut child = Command::new(probe_bin())
            .args(["--sid", sid, "--sessions", &sessions.to_string()])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn sga_probe");
        let stdin = child.stdin.take();
        let lines = line_channel(child.stdout.take().expect("stdout"));
        let mut p = Probe {
            child,
            stdin,
            lines,
            oracle_pid: None,
            sessions: Vec::new(),
            error: None,
        };
        // Ends early when the probe exits (e.g. after ORA-00020).
        while let Some(line) = p.next_line(ANSWER_TIMEOUT) {
            if let Some(rest) = line.strip_prefix("PROCESS ") {
                p.oracle_pid = rest.split(' ').next().and_then(|n| n.parse().ok());
            } else if let Some(rest) = line.strip_prefix("SESSION ") {
                let mut it = rest.split(',').filter_map(|n| n.parse().ok());
                if let (Some(s), Some(e)) = (it.next(), it.next()) {
                    p.sessions.push((s, e));
                }
            } else if let Some(rest) = line.strip_prefix("ERROR ") {
                p.error = Some(rest.to_string());
            } else if line == "READY" {
                break;
            }
        }
        p
    }

    fn next_line(&self, limit: Duration) -> Option<String> {
        match self.lines.recv_timeout(limit) {
            Ok(l) => Some(l),
            Err(RecvTimeoutError::Disconnected) => None,
            Err(RecvTimeoutError::Timeout) => panic!("probe said nothing for {limit:?}"),
        }
    }

    /// OS pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a command line without waiting for the answer.
    pub fn send(&mut self, cmd: &str) {
        if let Some(stdin) = self.stdin.as_mut() {
            let _ = writeln!(stdin, "{cmd}");
            let _ = stdin.flush();
        }
    }

    /// Waits for the next answer line (`None` if the probe exited).
    pub fn answer(&self, limit: Duration) -> Option<String> {
        self.next_line(limit)
    }

    /// Sends a command and waits for its answer.
    pub fn ask(&mut self, cmd: &str) -> Option<String> {
        self.send(cmd);
        self.answer(ANSWER_TIMEOUT)
    }

    /// Kills the probe with SIGKILL (like `kill -9` of a dedicated server) and reaps it.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for the probe to exit; returns its status.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `f` every 20 ms until it returns `Some` or `limit` passes.
pub fn wait_for<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The state of `/proc/<pid>/stat` (`None` if gone): to check for zombies.
pub fn proc_state(pid: u32) -> Option<char> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    text.rsplit_once(')')?.1.trim_start().chars().next()
}

/// True for an alert log timestamp line as Oracle 12.2 and later write it,
/// `2019-05-15T20:22:00.123456+00:00`: 32 characters, microseconds and a `+hh:mm` offset.
pub fn is_alert_timestamp(l: &str) -> bool {
    let b = l.as_bytes();
    l.len() == 32
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[10] == b'T'
        && b[19] == b'.'
        && b[20..26].iter().all(u8::is_ascii_digit)
        && (b[26] == b'+' || b[26] == b'-')
        && b[29] == b':'
}
