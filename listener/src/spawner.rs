//! The spawner: a single-threaded zygote forked first thing in `tnslsnr`'s `main()`, before
//! any thread exists. The listener sends it each accepted client socket with the CONNECT
//! bytes and hand-off metadata (`SOCK_SEQPACKET` + `SCM_RIGHTS`); the spawner forks one
//! dedicated server per connection and reaps every child (SIGCHLD merges, so it loops
//! `waitpid(WNOHANG)` until nothing is left to reap).
//!
//! The child: `setsid()` (a listener stop or a Ctrl-C never reaches live sessions), default
//! signal dispositions, every fd closed but its client socket (CLOEXEC does nothing without
//! exec), stdio on `/dev/null`, a reseeded RNG, the title `oracle<SID> (LOCAL=NO)`, then the
//! session. When the listener goes away the spawner keeps reaping until its last dedicated
//! server has exited, then exits itself.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, setsid};

use crate::handoff::{HandoffError, HandoffMessage};
use crate::sys::fdpass::{self, FdPassError};
use crate::sys::process::{self, ProcessError};
use crate::sys::title::ArgvArea;

/// Errors of the spawner channel.
#[derive(Debug, thiserror::Error)]
pub enum SpawnerError {
    /// Creating the channel failed.
    #[error("cannot create spawner channel: {source}")]
    Channel {
        /// Cause.
        source: FdPassError,
    },
    /// Forking the spawner failed.
    #[error("cannot fork spawner: {source}")]
    Fork {
        /// Cause.
        source: ProcessError,
    },
    /// Sending the client socket to the spawner failed (TNS-12518).
    #[error("TNS-12518: TNS:listener could not hand off client connection ({source})")]
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

impl Spawner {
    /// Forks the spawner. Must be called while the process is single-threaded (checked).
    /// `argv` is the argv area the spawner and its children overwrite with their titles.
    pub fn start(listener: &str, argv: Option<ArgvArea>) -> Result<Self, SpawnerError> {
        let (ours, theirs) =
            fdpass::seqpacket_pair().map_err(|source| SpawnerError::Channel { source })?;
        match process::fork_single_threaded().map_err(|source| SpawnerError::Fork { source })? {
            ForkResult::Child => {
                drop(ours);
                run_spawner(theirs, listener, argv)
            }
            ForkResult::Parent { child } => {
                drop(theirs);
                // A stuck spawner must not stall the listener's event loop for ever: a
                // hand-off that cannot be queued within 5 s fails (TNS-12518).
                let limit = nix::sys::time::TimeVal::new(5, 0);
                let _ = nix::sys::socket::setsockopt(
                    &ours,
                    nix::sys::socket::sockopt::SendTimeout,
                    &limit,
                );
                Ok(Self {
                    sock: ours,
                    pid: child,
                })
            }
        }
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

    /// True when the spawner process has exited (it is reaped here).
    pub fn has_exited(&self) -> bool {
        !matches!(
            waitpid(self.pid, Some(WaitPidFlag::WNOHANG)),
            Ok(WaitStatus::StillAlive)
        )
    }
}

fn spawner_log(msg: &str) {
    eprintln!("tnslsnr spawner[{}]: {msg}", std::process::id());
}

/// The zygote's loop. Never returns.
fn run_spawner(ctl: OwnedFd, listener: &str, argv: Option<ArgvArea>) -> ! {
    if let Some(a) = argv {
        a.set(&format!("tnslsnr {listener} spawner"), "tnslsnr_spawner");
    }
    // A spawner restarted by a running listener inherits its blocked-signal mask and its
    // descriptors (listening sockets, admin socket, log): shed them all, or a stopped
    // listener's port would stay bound by its spawner.
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
    let mut ctl = Some(ctl);
    let mut live: usize = 0;
    loop {
        if ctl.is_none() && live == 0 {
            std::process::exit(0);
        }
        let (ctl_ready, sig_ready) = {
            let mut fds = vec![PollFd::new(sfd.as_fd(), PollFlags::POLLIN)];
            if let Some(c) = &ctl {
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
            reap(&mut live);
        }
        if ctl_ready {
            let Some(sock) = ctl.as_ref() else { continue };
            match fdpass::recv_fd(sock.as_fd()) {
                Ok(None) => ctl = None, // listener gone: keep reaping until the last child exits
                Err(e) => {
                    spawner_log(&format!("receive failed: {e}"));
                    ctl = None;
                }
                Ok(Some((payload, fd))) => {
                    let Some(client) = fd else {
                        spawner_log("hand-off message without a socket ignored");
                        continue;
                    };
                    let msg = match HandoffMessage::decode(&payload) {
                        Ok(m) => m,
                        Err(e) => {
                            spawner_log(&format!("bad hand-off message: {e}"));
                            continue; // dropping `client` closes it
                        }
                    };
                    match process::fork_single_threaded() {
                        Ok(ForkResult::Child) => {
                            dedicated_child(client, msg, argv);
                        }
                        Ok(ForkResult::Parent { .. }) => {
                            live += 1;
                            drop(client); // CLOEXEC does not help without exec: close our copy now
                        }
                        Err(e) => {
                            spawner_log(&format!("TNS-12500: cannot start dedicated server: {e}"))
                        }
                    }
                    reap(&mut live);
                }
            }
        }
    }
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
    let title = format!("oracle{} (LOCAL=NO)", msg.meta.sid);
    if let Some(a) = argv {
        a.set(&title, &format!("oracle{}", msg.meta.sid));
    }
    let code = crate::dedicated::run(client, msg);
    std::process::exit(code)
}
