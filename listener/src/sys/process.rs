//! Process-level primitives: a `fork` that refuses to run in a multi-threaded process,
//! closing every inherited fd but the ones a dedicated server keeps, pointing stdio at
//! `/dev/null`, and restoring default signal dispositions in a fresh child.

use std::fs;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal, pthread_sigmask, signal};
use nix::unistd::{ForkResult, dup2_stderr, dup2_stdin, dup2_stdout};

/// Errors of the process primitives.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// `fork` was requested while other threads exist; forking then is unsound.
    #[error(
        "refusing to fork: process has {threads} threads (the spawner must stay single-threaded)"
    )]
    MultiThreaded {
        /// Number of threads found in `/proc/self/task`.
        threads: usize,
    },
    /// The `fork` system call failed.
    #[error("fork failed: {source}")]
    Fork {
        /// errno from the kernel.
        source: nix::Error,
    },
    /// Reading `/proc/self/fd` failed.
    #[error("cannot list open file descriptors: {source}")]
    ListFds {
        /// The I/O error.
        source: std::io::Error,
    },
    /// Opening or duplicating `/dev/null` onto stdio failed.
    #[error("cannot redirect stdio to /dev/null: {detail}")]
    DevNull {
        /// What went wrong.
        detail: String,
    },
}

/// Number of threads of the calling process, from `/proc/self/task`.
pub fn thread_count() -> usize {
    fs::read_dir("/proc/self/task")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// `fork()`, but only when the calling process has exactly one thread.
pub(crate) fn fork_single_threaded() -> Result<ForkResult, ProcessError> {
    let threads = thread_count();
    if threads != 1 {
        return Err(ProcessError::MultiThreaded { threads });
    }
    // SAFETY: the process has exactly one thread (checked just above, and nothing between
    // the check and the call can start one), so the child inherits no lock held by another
    // thread and may run arbitrary code, including allocation.
    unsafe { nix::unistd::fork() }.map_err(|source| ProcessError::Fork { source })
}

/// Closes every file descriptor above stderr except those in `keep`.
pub(crate) fn close_fds_except(keep: &[RawFd]) -> Result<(), ProcessError> {
    let mut fds = Vec::new();
    let dir = fs::read_dir("/proc/self/fd").map_err(|source| ProcessError::ListFds { source })?;
    for entry in dir {
        let entry = entry.map_err(|source| ProcessError::ListFds { source })?;
        if let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<RawFd>().ok())
        {
            fds.push(fd);
        }
    }
    // The directory handle used for the listing is closed by now; closing it again below
    // only yields EBADF, which is ignored.
    for fd in fds {
        if fd > 2 && !keep.contains(&fd) {
            // SAFETY: we are in a freshly forked child; the inherited descriptors listed
            // here belong to the parent's objects, and no Rust owner in this process will
            // use them again (the child only keeps `keep`). EBADF for the already-closed
            // read_dir handle is harmless.
            let _ = unsafe { libc::close(fd) };
        }
    }
    Ok(())
}

/// Points stdin, stdout and stderr at `/dev/null`, so a dedicated server never holds a pipe
/// that its grandparent's starter waits on.
pub(crate) fn stdio_to_devnull() -> Result<(), ProcessError> {
    let null: OwnedFd = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(|e| ProcessError::DevNull {
            detail: e.to_string(),
        })?
        .into();
    let map = |e: nix::Error| ProcessError::DevNull {
        detail: e.to_string(),
    };
    dup2_stdin(&null).map_err(map)?;
    dup2_stdout(&null).map_err(map)?;
    dup2_stderr(&null).map_err(map)?;
    debug_assert!(null.as_raw_fd() > 2 || null.as_raw_fd() >= 0);
    Ok(())
}

/// Restores default dispositions for the signals the listener family touches and unblocks
/// every signal (masks and `SIG_IGN` survive `fork`).
pub(crate) fn reset_signals() {
    for sig in [
        Signal::SIGCHLD,
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGQUIT,
        Signal::SIGUSR1,
    ] {
        // SAFETY: installing SIG_DFL runs no handler code, so no async-signal-safety rule
        // can be broken; failure (EINVAL) is impossible for these signal numbers.
        let _ = unsafe { signal(sig, SigHandler::SigDfl) };
    }
    let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
}

/// Ignores a signal (used by the spawner for SIGINT/SIGHUP, so Ctrl-C on a foreground
/// `tnslsnr` does not orphan live dedicated servers' reaper).
pub(crate) fn ignore_signal(sig: Signal) {
    // SAFETY: SIG_IGN installs no handler code.
    let _ = unsafe { signal(sig, SigHandler::SigIgn) };
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit (a listener under a logon storm holds
/// one descriptor per pending client). Returns the new soft limit.
pub fn raise_nofile_limit() -> Option<u64> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).ok()?;
    if soft < hard {
        setrlimit(Resource::RLIMIT_NOFILE, hard, hard).ok()?;
    }
    Some(hard.max(soft))
}

/// The descriptor on which a program started by [`spawn_with_channel`] finds its channel
/// (the spawner, and a dedicated server started with `SPAWN_METHOD=EXEC`).
pub(crate) const CHANNEL_FD: RawFd = 3;

/// Starts `cmd` with `channel` as its descriptor [`CHANNEL_FD`] (every other descriptor of
/// ours is CLOEXEC and vanishes at exec). `Command` forks and execs at once, which is sound
/// in a multi-threaded process as long as the code between the two is async-signal-safe:
/// the only thing added here is a `dup2`/`fcntl`.
pub(crate) fn spawn_with_channel(
    cmd: &mut std::process::Command,
    channel: std::os::fd::BorrowedFd<'_>,
) -> std::io::Result<std::process::Child> {
    use std::os::unix::process::CommandExt;
    let fd = channel.as_raw_fd();
    let hook = move || -> std::io::Result<()> {
        // SAFETY: runs in the child between fork and exec; dup2 and fcntl are
        // async-signal-safe, nothing is allocated and no lock is taken. `fd` is open in
        // the child (inherited from the parent, which keeps it open across spawn).
        let rc = unsafe {
            if fd == CHANNEL_FD {
                let flags = libc::fcntl(fd, libc::F_GETFD);
                if flags < 0 {
                    flags
                } else {
                    libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC)
                }
            } else {
                libc::dup2(fd, CHANNEL_FD)
            }
        };
        if rc < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(())
        }
    };
    // SAFETY: the hook above is async-signal-safe (see inside).
    unsafe { cmd.pre_exec(hook) };
    cmd.spawn()
}

/// The channel a program started by [`spawn_with_channel`] inherited on [`CHANNEL_FD`]:
/// `None` unless that descriptor is open and is a socket (someone ran the binary by hand).
pub(crate) fn inherited_channel() -> Option<OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: fstat only reads the descriptor's metadata into a zeroed local buffer.
    let is_socket = unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        libc::fstat(CHANNEL_FD, &mut st) == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFSOCK
    };
    if !is_socket {
        return None;
    }
    // SAFETY: descriptor 3 is open (fstat succeeded) and was put there for this process by
    // its spawner; nothing else in this freshly exec'd program owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(CHANNEL_FD) };
    // Not inherited any further (a dedicated server starts nothing, but be tidy).
    let _ = nix::fcntl::fcntl(
        &fd,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    );
    Some(fd)
}
