//! Process plumbing for end-to-end tests: locating (and if needed building) the workspace
//! binaries, temporary `ORACLE_HOME` layouts with a test `listener.ora`, free loopback
//! ports, a guard that stops a started `tnslsnr` even when the test fails, the one
//! deadline-bound runner ([`capture`]) for processes run to their end, and `/proc` helpers
//! (children, states, titles, fds).
//!
//! Port choice: a test binds `127.0.0.1:0`, reads the port, closes the socket and writes
//! the port into `listener.ora` (as an Oracle DBA would write a fixed port). If another
//! process grabs it in between, `tnslsnr` fails with TNS-12542 and [`ListenerProc::start`]
//! retries with a new port.

use std::fs;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// Upper bound for any wait in these helpers.
pub const WAIT: Duration = Duration::from_secs(30);

/// Path of a workspace binary (`tnslsnr`, `lsnrctl`, `tnsping`, `orasql`, `oradb`, ...),
/// brought up to date by one `cargo build` per test process (`cargo test -p tests` alone
/// would otherwise run whatever stale binary an earlier build left behind).
pub fn bin(name: &str) -> PathBuf {
    let package = match name {
        "tnslsnr" | "lsnrctl" => "listener",
        "oradb" => "server_proc",
        _ => "client",
    };
    crate::instance::workspace_bin(package, name)
}

/// Creates a password-file user (`dbs/orapw<SID>` of `home`, verifiers only) the way
/// `oradb user add NAME --password-stdin` does.
pub fn add_user(home: &Path, sid: &str, name: &str, password: &str) {
    let add = server_proc::pwfile::UserCommand::Add {
        name: name.into(),
        password_stdin: true,
        grants: vec![],
    };
    let line = format!("{password}\n");
    server_proc::pwfile::run_user_command(
        &add,
        home,
        sid,
        &mut line.as_bytes(),
        &mut std::io::sink(),
    )
    .unwrap_or_else(|e| panic!("creating user {name}: {e}"));
}

/// A home with user SCOTT/tiger for SID ORCL and a running `LISTENER` whose static
/// SID_DESC serves SID ORCL as `service`.
pub fn static_orcl_listener(service: &str) -> (TestHome, ListenerProc) {
    let home = TestHome::new();
    add_user(home.path(), "ORCL", "scott", "tiger");
    let l = ListenerProc::start(&home, "LISTENER", |port| {
        listener_ora("LISTENER", port, &[("ORCL", Some(service))], &[])
    });
    (home, l)
}

/// A free loopback port (bound then released).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// A temporary `ORACLE_HOME` with `network/admin/`.
pub struct TestHome {
    dir: tempfile::TempDir,
}

impl TestHome {
    /// Creates the layout.
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("orah")
            .tempdir()
            .expect("tempdir");
        fs::create_dir_all(dir.path().join("network").join("admin")).expect("mkdir admin");
        Self { dir }
    }

    /// `ORACLE_HOME`.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `network/admin`.
    pub fn admin_dir(&self) -> PathBuf {
        self.path().join("network").join("admin")
    }

    /// Writes `network/admin/<file>`.
    pub fn write_admin(&self, file: &str, text: &str) {
        fs::write(self.admin_dir().join(file), text).expect("write admin file");
    }

    /// Contents of `network/log/listener.log` (empty if absent).
    pub fn listener_log(&self) -> String {
        fs::read_to_string(self.path().join("network").join("log").join("listener.log"))
            .unwrap_or_default()
    }

    /// Runs `lsnrctl args...` with this home and returns its output.
    pub fn lsnrctl(&self, args: &[&str]) -> Output {
        run_with_timeout(
            Command::new(bin("lsnrctl"))
                .args(args)
                .env("ORACLE_HOME", self.path())
                .env_remove("TNS_ADMIN"),
            WAIT,
        )
    }
}

impl Default for TestHome {
    fn default() -> Self {
        Self::new()
    }
}

/// A `listener.ora` with one TCP endpoint, static SID_DESCs `(SID_NAME, GLOBAL_DBNAME)` and
/// extra `PARAM_<name>=value` lines.
pub fn listener_ora(
    name: &str,
    port: u16,
    sids: &[(&str, Option<&str>)],
    params: &[(&str, &str)],
) -> String {
    let mut s = format!(
        "{name} =\n  (DESCRIPTION_LIST =\n    (DESCRIPTION =\n      (ADDRESS = (PROTOCOL = TCP)(HOST = 127.0.0.1)(PORT = {port}))))\n\n"
    );
    if !sids.is_empty() {
        s.push_str(&format!("SID_LIST_{name} =\n  (SID_LIST =\n"));
        for (sid, gdb) in sids {
            s.push_str("    (SID_DESC =\n");
            if let Some(g) = gdb {
                s.push_str(&format!("      (GLOBAL_DBNAME = {g})\n"));
            }
            s.push_str(&format!("      (SID_NAME = {sid}))\n"));
        }
        s.push_str("  )\n\n");
    }
    for (k, v) in params {
        s.push_str(&format!("{k}_{name} = {v}\n"));
    }
    s
}

/// How a child started with piped output ended (see [`capture`]).
#[derive(Debug)]
pub struct Captured {
    /// Its exit status (after the kill, when it overran).
    pub status: ExitStatus,
    /// It was still running at the deadline and was killed.
    pub timed_out: bool,
    /// Everything it wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything it wrote to stderr.
    pub stderr: Vec<u8>,
}

impl From<Captured> for Output {
    fn from(c: Captured) -> Output {
        Output {
            status: c.status,
            stdout: c.stdout,
            stderr: c.stderr,
        }
    }
}

/// Kills the child when dropped, so a test that panics while it runs leaves no process.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits up to `limit` for `child`, draining its piped stdout and stderr on threads all the
/// while (a child that writes more than a pipe holds would otherwise block forever), and
/// kills it at the deadline. The one runner every test helper that runs a process to its
/// end is built on.
pub fn capture(child: Child, limit: Duration) -> Captured {
    let mut child = KillOnDrop(child);
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut v);
            }
            v
        })
    };
    let out = drain(child.0.stdout.take().map(|p| Box::new(p) as _));
    let err = drain(child.0.stderr.take().map(|p| Box::new(p) as _));
    let deadline = Instant::now() + limit;
    let (status, timed_out) = loop {
        if let Ok(Some(s)) = child.0.try_wait() {
            break (s, false);
        }
        if Instant::now() > deadline {
            let _ = child.0.kill();
            break (child.0.wait().expect("wait"), true);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(child);
    Captured {
        status,
        timed_out,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

/// Runs a command (stdin from /dev/null) with a deadline; kills it when the deadline passes.
pub fn run_with_timeout(cmd: &mut Command, limit: Duration) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    capture(child, limit).into()
}

/// A running `tnslsnr`, stopped (SIGTERM, then SIGKILL) when dropped.
pub struct ListenerProc {
    child: Option<Child>,
    /// Listener name.
    pub name: String,
    /// Its TCP port.
    pub port: u16,
}

impl ListenerProc {
    /// Writes `listener.ora` from `ora(port)` into `home` and starts `tnslsnr name`, retrying
    /// with another port when the chosen one was taken meanwhile. Waits until it answers
    /// on its admin socket.
    pub fn start(home: &TestHome, name: &str, ora: impl Fn(u16) -> String) -> Self {
        Self::start_as(home, name, ora, false, None, None)
    }

    /// Like [`ListenerProc::start`], running the `tnslsnr` binary at `exe` (a copy a test
    /// may move away and back).
    pub fn start_binary(
        exe: &Path,
        home: &TestHome,
        name: &str,
        ora: impl Fn(u16) -> String,
    ) -> Self {
        Self::start_as(home, name, ora, false, None, Some(exe))
    }

    /// Like [`ListenerProc::start`], with `RLIMIT_NOFILE` (soft and hard) set to `nofile`.
    pub fn start_with_nofile(
        home: &TestHome,
        name: &str,
        ora: impl Fn(u16) -> String,
        nofile: u64,
    ) -> Self {
        Self::start_as(home, name, ora, false, Some(nofile), None)
    }

    /// Like [`ListenerProc::start`], but runs `./tnslsnr NAME` from the binary's directory
    /// with `ORACLE_HOME` in the environment: the shortest command line a DBA would type.
    pub fn start_short(home: &TestHome, name: &str, ora: impl Fn(u16) -> String) -> Self {
        Self::start_as(home, name, ora, true, None, None)
    }

    fn start_as(
        home: &TestHome,
        name: &str,
        ora: impl Fn(u16) -> String,
        short: bool,
        nofile: Option<u64>,
        binary: Option<&Path>,
    ) -> Self {
        for _ in 0..5 {
            let port = free_port();
            home.write_admin("listener.ora", &ora(port));
            let log = |s: &str| {
                fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(home.path().join(format!("tnslsnr.{s}")))
                    .map(Stdio::from)
                    .unwrap_or_else(|_| Stdio::null())
            };
            let exe = binary.map_or_else(|| bin("tnslsnr"), Path::to_path_buf);
            let mut cmd;
            if short {
                cmd = Command::new("./tnslsnr");
                cmd.current_dir(exe.parent().expect("bin dir"))
                    .arg(name)
                    .env("ORACLE_HOME", home.path());
            } else {
                cmd = Command::new(exe);
                cmd.arg(name).arg("--home").arg(home.path());
            }
            cmd.env_remove("TNS_ADMIN")
                .env("TNSLSNR_LOG", "debug")
                .stdin(Stdio::null())
                .stdout(log("out"))
                .stderr(log("err"));
            std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
            if let Some(n) = nofile {
                // SAFETY: runs in the forked child before exec; setrlimit is async-signal-safe
                // and touches no memory shared with the parent.
                unsafe {
                    std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
                        nix::sys::resource::setrlimit(
                            nix::sys::resource::Resource::RLIMIT_NOFILE,
                            n,
                            n,
                        )
                        .map_err(std::io::Error::from)
                    });
                }
            }
            let child = cmd.spawn().expect("spawn tnslsnr");
            let mut me = Self {
                child: Some(child),
                name: name.to_string(),
                port,
            };
            if me.wait_ready(home) {
                return me;
            }
            let err = fs::read_to_string(home.path().join("tnslsnr.err")).unwrap_or_default();
            if !err.contains("12542") {
                let out = fs::read_to_string(home.path().join("tnslsnr.out")).unwrap_or_default();
                let exit = me.child.as_mut().map(|c| c.try_wait());
                panic!(
                    "tnslsnr did not start within {WAIT:?} and not because of a port \
                     collision (exit: {exit:?}, port {port}):\nstderr:\n{err}\nstdout:\n{out}"
                );
            }
            me.kill();
        }
        panic!("could not start tnslsnr after 5 attempts");
    }

    fn wait_ready(&mut self, home: &TestHome) -> bool {
        let sock = listener::home::OracleHome::with_admin(home.path().to_path_buf(), None)
            .admin_socket(&self.name);
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if listener::admin::call(&sock, &listener::admin::AdminRequest::Version).is_ok() {
                return true;
            }
            if let Some(c) = self.child.as_mut()
                && let Ok(Some(_)) = c.try_wait()
            {
                return false;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        false
    }

    /// Pid of the listener process.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// Waits until the process exits by itself (e.g. after `lsnrctl stop`).
    pub fn wait_exit(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            match self.child.as_mut().map(Child::try_wait) {
                Some(Ok(Some(_))) | None => {
                    self.child = None;
                    return true;
                }
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        false
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let pid = nix::unistd::Pid::from_raw(c.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                if Instant::now() > deadline {
                    let _ = c.kill();
                    let _ = c.wait();
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

impl Drop for ListenerProc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Child pids of `pid` (from `/proc/*/stat`).
pub fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(dir) = fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if let Some((ppid, _)) = stat_of(p)
            && ppid == pid
        {
            out.push(p);
        }
    }
    out
}

/// `(ppid, state)` of a process.
pub fn stat_of(pid: u32) -> Option<(u32, char)> {
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &s[s.rfind(')')? + 2..];
    let mut it = after.split_whitespace();
    let state = it.next()?.chars().next()?;
    let ppid = it.next()?.parse().ok()?;
    Some((ppid, state))
}

/// The title `ps` shows (`/proc/<pid>/cmdline`, NULs as spaces, trailing NULs dropped).
pub fn title_of(pid: u32) -> String {
    let raw = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let text: String = raw
        .iter()
        .map(|b| if *b == 0 { ' ' } else { *b as char })
        .collect();
    text.trim_end().to_string()
}

/// Open fds of a process as `(fd, link target)`.
pub fn fds_of(pid: u32) -> Vec<(u32, String)> {
    let mut v = Vec::new();
    let Ok(dir) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return v;
    };
    for e in dir.flatten() {
        let Some(fd) = e.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        let target = fs::read_link(e.path())
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        v.push((fd, target));
    }
    v.sort();
    v
}

/// Whether fd `fd` of process `pid` has close-on-exec set (`flags:` in fdinfo, octal).
pub fn cloexec(pid: u32, fd: u32) -> Option<bool> {
    let info = fs::read_to_string(format!("/proc/{pid}/fdinfo/{fd}")).ok()?;
    let flags = info.lines().find_map(|l| l.strip_prefix("flags:"))?.trim();
    let bits = u32::from_str_radix(flags, 8).ok()?;
    Some(bits & 0o2_000_000 != 0)
}

/// Polls `cond` until true or `limit` passes.
pub fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    cond()
}
