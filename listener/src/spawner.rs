//! The spawner: a single-threaded program that starts dedicated servers. The listener
//! starts it by fork + exec of its own binary (`tnslsnr NAME --spawner`, the channel on
//! descriptor 3), at startup and again whenever it dies: a multi-threaded listener never
//! forks, so a killed spawner is replaced without restarting the listener. The listener
//! sends it each accepted client socket with the CONNECT bytes and hand-off metadata
//! (`SOCK_SEQPACKET` + `SCM_RIGHTS`); the spawner starts one dedicated server per connection
//! and reaps every child (SIGCHLD merges, so it loops `waitpid(WNOHANG)` until nothing is
//! left to reap).
//!
//! How a server is started is `SPAWN_METHOD_<listener>`: `FORK` (default) — the spawner is
//! a zygote and its forked child runs the session at once; `EXEC` — the child execs the
//! listener's binary as `oracle<SID> (LOCAL=NO)`, the way Oracle's listener execs
//! `$ORACLE_HOME/bin/oracle`, and the new program takes the client from its channel.
//!
//! The child: `setsid()` (a listener stop or a Ctrl-C never reaches live sessions), default
//! signal dispositions, every fd closed but its client socket (CLOEXEC does nothing without
//! exec), stdio on `/dev/null`, a reseeded RNG, the title `oracle<SID> (LOCAL=NO)`, then the
//! session. When the listener goes away the spawner keeps reaping until its last dedicated
//! server has exited, then exits itself.

use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use config::listener::SpawnMethod;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, setsid};

use crate::handoff::{HandoffError, HandoffMessage};
use crate::sys::fdpass::{self, FdPassError};
use crate::sys::process::{self, ProcessError};
use crate::sys::title::ArgvArea;
use tns::error_text::tns_line;

/// Errors of the spawner channel.
#[derive(Debug, thiserror::Error)]
pub enum SpawnerError {
    /// Creating the channel failed.
    #[error("cannot create spawner channel: {source}")]
    Channel {
        /// Cause.
        source: FdPassError,
    },
    /// Forking a process failed.
    #[error("cannot fork: {source}")]
    Fork {
        /// Cause.
        source: ProcessError,
    },
    /// Starting a program (the spawner, or an exec'd dedicated server) failed.
    #[error("cannot execute {}: {source}", .exe.display())]
    Exec {
        /// The binary.
        exe: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// Sending the client socket to the spawner failed (TNS-12518).
    #[error("{} ({source})", tns_line(12518))]
    Handoff {
        /// Cause.
        source: FdPassError,
    },
    /// Encoding the metadata failed.
    #[error("cannot encode hand-off metadata: {source}")]
    Encode {
        /// Cause.
        source: HandoffError,
    },
}

/// The listener's end of the spawner.
#[derive(Debug)]
pub struct Spawner {
    sock: OwnedFd,
    pid: Pid,
}

/// The argument that makes `tnslsnr` run as the spawner (its channel on descriptor 3).
pub const SPAWNER_ARG: &str = "--spawner";
/// `argv[1]` of an exec'd dedicated server, as Oracle's `oracle<SID> (LOCAL=NO)`.
pub const LOCAL_NO_ARG: &str = "(LOCAL=NO)";
/// Blank room in the spawner's argv for the titles of forked servers
/// (`oracle<SID> (LOCAL=NO)` with a 30-byte SID).
const TITLE_ROOM: usize = 64;

impl Spawner {
    /// Starts the spawner: fork + exec of `exe` (the listener's own binary) in spawner mode.
    /// Sound from a multi-threaded listener (nothing but `dup2` runs between fork and exec).
    pub fn start(listener: &str, exe: &Path) -> Result<Self, SpawnerError> {
        let (ours, theirs) =
            fdpass::seqpacket_pair().map_err(|source| SpawnerError::Channel { source })?;
        let mut cmd = Command::new(exe);
        cmd.arg0("tnslsnr")
            .arg(listener)
            .arg(SPAWNER_ARG)
            .arg(format!("--title-room={}", "_".repeat(TITLE_ROOM)))
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        let child = process::spawn_with_channel(&mut cmd, theirs.as_fd()).map_err(|source| {
            SpawnerError::Exec {
                exe: exe.to_path_buf(),
                source,
            }
        })?;
        drop(theirs);
        // A stuck spawner must not stall the listener's event loop for ever: a hand-off
        // that cannot be queued within 5 s fails (TNS-12518).
        let limit = nix::sys::time::TimeVal::new(5, 0);
        let _ = nix::sys::socket::setsockopt(&ours, nix::sys::socket::sockopt::SendTimeout, &limit);
        let pid = i32::try_from(child.id())
            .map(Pid::from_raw)
            .map_err(|_| SpawnerError::Exec {
                exe: exe.to_path_buf(),
                source: std::io::Error::other("pid out of range"),
            })?;
        // `child` is dropped without waiting: the listener reaps the spawner by pid.
        Ok(Self { sock: ours, pid })
    }

    /// Pid of the spawner process.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// Sends the client socket and its hand-off message. The caller closes its copy of the
    /// socket afterwards (dropping it).
    pub fn hand_off(&self, client: impl AsFd, msg: &HandoffMessage) -> Result<(), SpawnerError> {
        let payload = msg
            .encode()
            .map_err(|source| SpawnerError::Encode { source })?;
        fdpass::send_fd(self.sock.as_fd(), client.as_fd(), &payload)
            .map_err(|source| SpawnerError::Handoff { source })
    }

    /// Closes the channel. The spawner then exits as soon as its last dedicated server has
    /// gone; if that happens within `grace` it is reaped here, otherwise it lives on (with
    /// its sessions) and is re-parented when the listener exits.
    pub fn shutdown(self, grace: std::time::Duration) {
        let Self { sock, pid } = self;
        drop(sock);
        let deadline = std::time::Instant::now() + grace;
        while std::time::Instant::now() < deadline {
            match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(nix::Error::EINTR) => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                _ => return,
            }
        }
    }

    /// Sets how servers are started and the prespawned pool sizes (`(SID, n)`; SIDs not
    /// named get no idle servers).
    pub fn configure(
        &self,
        method: SpawnMethod,
        pools: &[(String, usize)],
    ) -> Result<(), SpawnerError> {
        let mut text = format!("CONFIGURE METHOD={}", method.as_str());
        for (sid, n) in pools {
            text.push_str(&format!(" {sid}={n}"));
        }
        fdpass::send_plain(self.sock.as_fd(), text.as_bytes())
            .map_err(|source| SpawnerError::Handoff { source })
    }

    /// Forks DRCP pooled servers for a broker (`POOLED {json}`: paths may hold spaces).
    pub fn pooled(&self, req: &crate::registration::PooledSpawn) -> Result<(), SpawnerError> {
        let text = serde_json::json!({
            "sid": req.sid,
            "oracle_home": req.oracle_home,
            "servers_path": req.servers_path,
            "count": req.count,
        });
        fdpass::send_plain(self.sock.as_fd(), format!("POOLED {text}").as_bytes())
            .map_err(|source| SpawnerError::Handoff { source })
    }

    /// True when the spawner process has exited (it is reaped here).
    pub fn has_exited(&self) -> bool {
        !matches!(
            waitpid(self.pid, Some(WaitPidFlag::WNOHANG)),
            Ok(WaitStatus::StillAlive)
        )
    }
}

fn spawner_log(msg: &str) {
    use std::io::Write;
    // stderr may be a closed pipe; the spawner must not die of a log line.
    let _ = writeln!(
        std::io::stderr(),
        "tnslsnr spawner[{}]: {msg}",
        std::process::id()
    );
}

/// The zygote's state: its channel to the listener, the number of live children, how
/// servers are started, and the pools of prespawned (idle) dedicated servers per SID with
/// their target sizes.
struct Zygote {
    ctl: Option<OwnedFd>,
    live: usize,
    method: SpawnMethod,
    /// The server binary for `EXEC` (this program).
    exe: Option<PathBuf>,
    idle: HashMap<String, Vec<(Pid, OwnedFd)>>,
    targets: HashMap<String, usize>,
    argv: Option<ArgvArea>,
}

/// `tnslsnr NAME --spawner`: the spawner program, started by the listener with its channel
/// on descriptor 3. Never returns.
pub fn run_exec_spawner(listener: &str) -> ! {
    let Some(ctl) = process::inherited_channel() else {
        spawner_log("no channel on descriptor 3: the spawner is started by tnslsnr itself");
        std::process::exit(2);
    };
    run_spawner(ctl, listener, ArgvArea::locate().ok())
}

/// `oracle<SID> (LOCAL=NO)`: a dedicated server exec'd by the spawner (`SPAWN_METHOD=EXEC`),
/// its channel on descriptor 3. Never returns.
pub fn run_exec_dedicated() -> ! {
    process::reset_signals();
    let _ = setsid();
    let Some(chan) = process::inherited_channel() else {
        std::process::exit(2);
    };
    if process::close_fds_except(&[chan.as_raw_fd()]).is_err() {
        std::process::exit(1);
    }
    // argv already reads `oracle<SID> (LOCAL=NO)`; `comm` still says the binary's name.
    if let Some(name) = std::env::args()
        .next()
        .and_then(|a| std::ffi::CString::new(a).ok())
    {
        let _ = nix::sys::prctl::set_name(&name);
    }
    serve_from_channel(chan)
}

/// The spawner's loop. Never returns.
fn run_spawner(ctl: OwnedFd, listener: &str, argv: Option<ArgvArea>) -> ! {
    if let Some(a) = argv {
        a.set(&format!("tnslsnr {listener} spawner"), "tnslsnr_spawner");
    }
    // Signal dispositions a parent ignored survive exec; descriptors are closed defensively
    // (everything of the listener's is CLOEXEC).
    process::reset_signals();
    if let Err(e) = process::close_fds_except(&[ctl.as_raw_fd()]) {
        spawner_log(&format!("cannot close inherited descriptors: {e}"));
        std::process::exit(1);
    }
    process::ignore_signal(Signal::SIGINT);
    process::ignore_signal(Signal::SIGHUP);
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGCHLD);
    if let Err(e) = mask.thread_block() {
        spawner_log(&format!("cannot block SIGCHLD: {e}"));
        std::process::exit(1);
    }
    let sfd = match SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK) {
        Ok(s) => s,
        Err(e) => {
            spawner_log(&format!("cannot create signalfd: {e}"));
            std::process::exit(1);
        }
    };
    server_proc::dedicated::prepare_zygote();
    let mut z = Zygote {
        ctl: Some(ctl),
        live: 0,
        method: SpawnMethod::Fork,
        exe: std::env::current_exe().ok(),
        idle: HashMap::new(),
        targets: HashMap::new(),
        argv,
    };
    loop {
        if z.ctl.is_none() {
            // Listener gone: idle servers are released; keep reaping until the last exits.
            z.targets.clear();
            z.idle.clear();
            if z.live == 0 {
                std::process::exit(0);
            }
        }
        let (ctl_ready, sig_ready) = {
            let mut fds = vec![PollFd::new(sfd.as_fd(), PollFlags::POLLIN)];
            if let Some(c) = &z.ctl {
                fds.push(PollFd::new(c.as_fd(), PollFlags::POLLIN));
            }
            match poll(&mut fds, PollTimeout::NONE) {
                Err(nix::Error::EINTR) => continue,
                Err(e) => {
                    spawner_log(&format!("poll failed: {e}"));
                    std::process::exit(1);
                }
                Ok(_) => {}
            }
            let sig = fds[0].any().unwrap_or(false);
            let c = fds.get(1).and_then(|f| f.any()).unwrap_or(false);
            (c, sig)
        };
        if sig_ready {
            while let Ok(Some(_)) = sfd.read_signal() {}
            reap(&mut z.live);
        }
        if ctl_ready {
            let Some(sock) = z.ctl.as_ref() else { continue };
            match fdpass::recv_fd(sock.as_fd()) {
                Ok(None) => z.ctl = None,
                Err(e) => {
                    spawner_log(&format!("receive failed: {e}"));
                    z.ctl = None;
                }
                Ok(Some((payload, None))) => z.control(&payload),
                Ok(Some((payload, Some(client)))) => z.hand_off(client, &payload),
            }
            z.top_up();
            reap(&mut z.live);
        }
    }
}

impl Zygote {
    /// `CONFIGURE METHOD=FORK|EXEC SID=n SID2=m`: the start method and the complete set of
    /// pool sizes (SIDs not named get none).
    fn control(&mut self, payload: &[u8]) {
        let text = String::from_utf8_lossy(payload);
        if let Some(json) = text.strip_prefix("POOLED ") {
            self.pooled(json);
            return;
        }
        let mut words = text.split_whitespace();
        if words.next() != Some("CONFIGURE") {
            spawner_log(&format!("unknown control message {text:?} ignored"));
            return;
        }
        let mut method = self.method;
        self.targets.clear();
        for (key, value) in words.filter_map(|w| w.split_once('=')) {
            if key == "METHOD" {
                method = SpawnMethod::parse(value).unwrap_or(method);
            } else if let Ok(n) = value.parse() {
                self.targets.insert(key.to_ascii_uppercase(), n);
            }
        }
        if method != self.method {
            // Idle servers of the old kind are released and refilled with the new one.
            self.method = method;
            self.idle.clear();
        }
        // Shrink: a released idle server sees EOF on its channel and exits.
        for (sid, pool) in &mut self.idle {
            let keep = self.targets.get(sid).copied().unwrap_or(0);
            pool.truncate(keep);
        }
    }

    /// Gives the client to an idle prespawned server of its SID when the listener routed it
    /// through the static SID_DESC that keeps those servers, else starts one for it (a
    /// client of a service the instance registered gets a server of its own, as in Oracle).
    fn hand_off(&mut self, client: OwnedFd, payload: &[u8]) {
        let msg = match HandoffMessage::decode(payload) {
            Ok(m) => m,
            Err(e) => {
                spawner_log(&format!("bad hand-off message: {e}"));
                return; // dropping `client` closes it
            }
        };
        let sid = msg.meta.sid.to_ascii_uppercase();
        while let Some((_, chan)) = self
            .idle
            .get_mut(&sid)
            .filter(|_| msg.meta.static_sid_desc)
            .and_then(Vec::pop)
        {
            if fdpass::send_fd(chan.as_fd(), client.as_fd(), payload).is_ok() {
                return; // the idle server owns it now; our copies close here
            }
        }
        match self.method {
            SpawnMethod::Fork => match process::fork_single_threaded() {
                Ok(ForkResult::Child) => dedicated_child(client, msg, self.argv),
                Ok(ForkResult::Parent { .. }) => {
                    self.live += 1;
                    drop(client); // CLOEXEC does not help without exec: close our copy now
                }
                Err(e) => spawner_log(&format!("{} (fork: {e})", tns_line(12500))),
            },
            SpawnMethod::Exec => match self.start_idle(&msg.meta.sid) {
                Ok((_, chan)) => {
                    self.live += 1;
                    if let Err(e) = fdpass::send_fd(chan.as_fd(), client.as_fd(), payload) {
                        spawner_log(&format!(
                            "{} (hand-off to exec'd server: {e})",
                            tns_line(12518)
                        ));
                    }
                }
                Err(e) => spawner_log(&format!("{} ({e})", tns_line(12500))),
            },
        }
    }

    /// Starts one idle dedicated server for `sid` that waits on its own channel for a
    /// client: forked (`FORK`) or exec'd (`EXEC`).
    fn start_idle(&self, sid: &str) -> Result<(Pid, OwnedFd), SpawnerError> {
        let (ours, theirs) =
            fdpass::seqpacket_pair().map_err(|source| SpawnerError::Channel { source })?;
        let pid = match self.method {
            SpawnMethod::Fork => {
                match process::fork_single_threaded()
                    .map_err(|source| SpawnerError::Fork { source })?
                {
                    ForkResult::Child => {
                        drop(ours);
                        prespawned_child(theirs, sid, self.argv)
                    }
                    ForkResult::Parent { child } => child,
                }
            }
            SpawnMethod::Exec => {
                let exe = self
                    .exe
                    .clone()
                    .unwrap_or_else(|| PathBuf::from("/proc/self/exe"));
                let mut cmd = Command::new(&exe);
                cmd.arg0(format!("oracle{sid}"))
                    .arg(LOCAL_NO_ARG)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null());
                let child = process::spawn_with_channel(&mut cmd, theirs.as_fd())
                    .map_err(|source| SpawnerError::Exec { exe, source })?;
                Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX))
            }
        };
        drop(theirs);
        Ok((pid, ours))
    }

    /// Forks DRCP pooled servers: each connects to its broker's socket and serves there.
    fn pooled(&mut self, json: &str) {
        #[derive(serde::Deserialize)]
        struct Request {
            sid: String,
            oracle_home: String,
            servers_path: String,
            count: u32,
        }
        let req: Request = match serde_json::from_str(json) {
            Ok(r) => r,
            Err(e) => {
                spawner_log(&format!("bad POOLED request: {e}"));
                return;
            }
        };
        for _ in 0..req.count {
            match process::fork_single_threaded() {
                Ok(ForkResult::Child) => {
                    pooled_child(&req.sid, &req.oracle_home, &req.servers_path, self.argv)
                }
                Ok(ForkResult::Parent { .. }) => self.live += 1,
                Err(e) => {
                    spawner_log(&format!("{} (fork: {e})", tns_line(12500)));
                    return;
                }
            }
        }
    }

    /// Starts idle servers until every pool has its target size.
    fn top_up(&mut self) {
        let wanted: Vec<(String, usize)> =
            self.targets.iter().map(|(s, n)| (s.clone(), *n)).collect();
        for (sid, n) in wanted {
            while self.idle.get(&sid).map_or(0, Vec::len) < n {
                match self.start_idle(&sid) {
                    Ok(entry) => {
                        self.live += 1;
                        self.idle.entry(sid.clone()).or_default().push(entry);
                    }
                    Err(e) => {
                        spawner_log(&format!("{} (prespawn: {e})", tns_line(12500)));
                        return;
                    }
                }
            }
        }
    }
}

/// An idle prespawned server: already in its own session with its title, it waits for the
/// spawner to pass it a client, then serves it exactly like a freshly forked one.
fn prespawned_child(chan: OwnedFd, sid: &str, argv: Option<ArgvArea>) -> ! {
    process::reset_signals();
    let _ = setsid();
    if process::close_fds_except(&[chan.as_raw_fd()]).is_err()
        || process::stdio_to_devnull().is_err()
    {
        std::process::exit(1);
    }
    if let Some(a) = argv {
        a.set(
            &format!("oracle{sid} {LOCAL_NO_ARG}"),
            &format!("oracle{sid}"),
        );
    }
    serve_from_channel(chan)
}

/// Waits for the client on `chan` and serves it; exits when the channel closes first
/// (an idle server released by the spawner).
fn serve_from_channel(chan: OwnedFd) -> ! {
    let received = fdpass::recv_fd(chan.as_fd());
    drop(chan);
    let Ok(Some((payload, Some(client)))) = received else {
        std::process::exit(0); // released by the spawner (EOF) or a broken message
    };
    let Ok(msg) = HandoffMessage::decode(&payload) else {
        std::process::exit(1);
    };
    let _ = rand::rng().reseed();
    let code = crate::dedicated::run(client, msg);
    std::process::exit(code)
}

/// A DRCP pooled server: its own session, no inherited descriptors; it connects to the
/// broker's socket and serves the clients the broker gives it until the broker goes.
fn pooled_child(sid: &str, oracle_home: &str, servers_path: &str, argv: Option<ArgvArea>) -> ! {
    process::reset_signals();
    let _ = setsid();
    if process::close_fds_except(&[]).is_err() || process::stdio_to_devnull().is_err() {
        std::process::exit(1);
    }
    let _ = rand::rng().reseed();
    if let Some(a) = argv {
        a.set(&format!("ora_lnnn_{sid}"), &format!("ora_lnnn_{sid}"));
    }
    let Ok(chan) = connect_seqpacket(std::path::Path::new(servers_path)) else {
        std::process::exit(1)
    };
    let set_title = |title: &str| {
        if let Some(a) = argv {
            a.set(title, title);
        }
    };
    let code =
        server_proc::pooled::server::run(chan, sid, std::path::Path::new(oracle_home), &set_title);
    std::process::exit(code)
}

fn connect_seqpacket(path: &std::path::Path) -> nix::Result<OwnedFd> {
    use nix::sys::socket::{AddressFamily, SockFlag, SockType, UnixAddr, connect, socket};
    let sock = socket(
        AddressFamily::Unix,
        SockType::SeqPacket,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    connect(sock.as_raw_fd(), &UnixAddr::new(path)?)?;
    Ok(sock)
}

/// Reaps every exited child (SIGCHLD deliveries merge).
fn reap(live: &mut usize) {
    loop {
        match waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(nix::Error::ECHILD) => break,
            Err(nix::Error::EINTR) => continue,
            Ok(WaitStatus::Exited(..)) | Ok(WaitStatus::Signaled(..)) => {
                *live = live.saturating_sub(1);
            }
            Ok(_) => {}
            Err(e) => {
                spawner_log(&format!("waitpid failed: {e}"));
                break;
            }
        }
    }
}

/// The forked dedicated server. Never returns into the spawner loop.
fn dedicated_child(client: OwnedFd, msg: HandoffMessage, argv: Option<ArgvArea>) -> ! {
    process::reset_signals();
    let _ = setsid();
    if process::close_fds_except(&[client.as_raw_fd()]).is_err()
        || process::stdio_to_devnull().is_err()
    {
        std::process::exit(1);
    }
    let _ = rand::rng().reseed();
    let title = format!("oracle{} {LOCAL_NO_ARG}", msg.meta.sid);
    if let Some(a) = argv {
        a.set(&title, &format!("oracle{}", msg.meta.sid));
    }
    let code = crate::dedicated::run(client, msg);
    std::process::exit(code)
}
