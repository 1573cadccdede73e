//! The operating-system side of the SGA: the POSIX shared-memory object (`shm_open` +
//! `ftruncate` + `mmap(MAP_SHARED)`), process-shared futexes on words of the segment (so a
//! kill or a shutdown request wakes its target at once instead of at its next poll), and
//! `/proc`-based liveness checks that pmon needs to tell a dead server from a live one.

use std::num::NonZeroUsize;
use std::os::fd::OwnedFd;
use std::ptr::NonNull;
use std::sync::atomic::AtomicU32;
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::mman::{MapFlags, ProtFlags, mmap, munmap, shm_open, shm_unlink};
use nix::sys::stat::{Mode, fstat};
use nix::unistd::{Pid, ftruncate};

/// A shared, read-write mapping of a whole shared-memory object; unmapped on drop.
#[derive(Debug)]
pub(crate) struct Mapping {
    base: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain shared memory; everything in it is accessed through atomics
// (see `layout`), so references to it may move to and be shared between threads.
unsafe impl Send for Mapping {}
// SAFETY: as above — all access goes through atomic types.
unsafe impl Sync for Mapping {}

impl Mapping {
    pub(crate) fn base(&self) -> NonNull<u8> {
        self.base
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `base`/`len` came from a successful mmap of exactly this length, and no
        // reference into the mapping outlives the `Sga` that owns this `Mapping`.
        let _ = unsafe { munmap(self.base.cast(), self.len) };
    }
}

/// What went wrong at the OS level, with the failing step.
#[derive(Debug, thiserror::Error)]
#[error("{op}: {errno}")]
pub struct OsError {
    /// The system call or step that failed.
    pub op: &'static str,
    /// The errno it returned.
    pub errno: Errno,
}

fn os(op: &'static str) -> impl FnOnce(Errno) -> OsError {
    move |errno| OsError { op, errno }
}

/// Creates the object exclusively (fails with `EEXIST` if it exists), sizes and maps it.
pub(crate) fn create(name: &str, len: usize) -> Result<Mapping, OsError> {
    let fd = shm_open(
        name,
        OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_RDWR | OFlag::O_CLOEXEC,
        Mode::S_IRUSR | Mode::S_IWUSR,
    )
    .map_err(os("shm_open"))?;
    let size = i64::try_from(len).map_err(|_| OsError {
        op: "ftruncate",
        errno: Errno::EFBIG,
    })?;
    if let Err(e) = ftruncate(&fd, size) {
        let _ = shm_unlink(name);
        return Err(OsError {
            op: "ftruncate",
            errno: e,
        });
    }
    map(fd, len).inspect_err(|_| {
        let _ = shm_unlink(name);
    })
}

/// Opens and maps an existing object at its current size.
pub(crate) fn open(name: &str) -> Result<Mapping, OsError> {
    let fd =
        shm_open(name, OFlag::O_RDWR | OFlag::O_CLOEXEC, Mode::empty()).map_err(os("shm_open"))?;
    let st = fstat(&fd).map_err(os("fstat"))?;
    let len = usize::try_from(st.st_size).map_err(|_| OsError {
        op: "fstat",
        errno: Errno::EINVAL,
    })?;
    map(fd, len)
}

fn map(fd: OwnedFd, len: usize) -> Result<Mapping, OsError> {
    let nz = NonZeroUsize::new(len).ok_or(OsError {
        op: "mmap",
        errno: Errno::EINVAL,
    })?;
    // SAFETY: we map a fresh region chosen by the kernel (addr = None), so no existing Rust
    // object is aliased; the fd is a valid shm object of at least `len` bytes.
    let p = unsafe {
        mmap(
            None,
            nz,
            ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
            MapFlags::MAP_SHARED,
            &fd,
            0,
        )
    }
    .map_err(os("mmap"))?;
    // The fd may be closed now: the mapping keeps the object alive.
    drop(fd);
    Ok(Mapping {
        base: p.cast(),
        len,
    })
}

/// Removes the name (existing mappings stay valid until unmapped).
pub(crate) fn unlink(name: &str) -> Result<(), OsError> {
    shm_unlink(name).map_err(os("shm_unlink"))
}

/// Sleeps while `word == expected`, at most `timeout`. Returns early when woken, when the
/// value differs, or on a signal. Works across processes (the futex is not PRIVATE).
pub(crate) fn futex_wait(word: &AtomicU32, expected: u32, timeout: Duration) {
    let ts = libc::timespec {
        tv_sec: libc::time_t::try_from(timeout.as_secs()).unwrap_or(libc::time_t::MAX),
        tv_nsec: libc::c_long::from(timeout.subsec_nanos()),
    };
    // SAFETY: `word` is a valid, aligned 32-bit atomic that lives for the whole call; the
    // timespec is a valid local; FUTEX_WAIT only reads them. Errors (EAGAIN when the value
    // already changed, ETIMEDOUT, EINTR) all mean "return to the caller, who re-checks".
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            &ts as *const libc::timespec,
            std::ptr::null::<u32>(),
            0u32,
        );
    }
}

/// Wakes every waiter on `word`, in any process.
pub(crate) fn futex_wake_all(word: &AtomicU32) {
    // SAFETY: `word` is a valid, aligned 32-bit atomic; FUTEX_WAKE does not dereference
    // anything else.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE,
            i32::MAX,
            std::ptr::null::<libc::timespec>(),
            std::ptr::null::<u32>(),
            0u32,
        );
    }
}

/// What `/proc/<pid>/stat` says about a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProcStat {
    /// The one-letter state (`R`, `S`, `Z`, ...).
    pub(crate) state: u8,
    /// Field 22, `starttime`, in clock ticks since boot.
    pub(crate) start_ticks: u64,
}

/// Reads `/proc/<pid>/stat`; `None` if the process does not exist (or cannot be read).
pub(crate) fn proc_stat(pid: i32) -> Option<ProcStat> {
    read_proc_stat(pid).ok()
}

/// Reads `/proc/<pid>/stat`, saying why when it cannot. The line (52 numbers and a command
/// name of at most 15 bytes: never near 4 KiB) comes whole from one read; the kernel reports
/// no size for the file, so `fs::read_to_string` took a statx and six reads of 32 to 256
/// bytes, twice at every dedicated server's start.
fn read_proc_stat(pid: i32) -> std::io::Result<ProcStat> {
    use std::io::Read;
    let mut buf = [0u8; 4096];
    let n = std::fs::File::open(format!("/proc/{pid}/stat"))?.read(&mut buf)?;
    std::str::from_utf8(&buf[..n])
        .ok()
        .and_then(parse_proc_stat)
        .ok_or_else(|| std::io::Error::other("unreadable /proc stat line"))
}

/// Parses a `/proc/<pid>/stat` line. The command name (field 2) may contain spaces and
/// parentheses, so fields are counted after its last `)`.
pub(crate) fn parse_proc_stat(text: &str) -> Option<ProcStat> {
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_ascii_whitespace();
    let state = fields.next()?.bytes().next()?;
    // After the state (field 3), starttime is field 22: 18 more fields on.
    let start_ticks = fields.nth(18)?.parse().ok()?;
    Some(ProcStat { state, start_ticks })
}

/// Whether the process `pid` is alive and is the same incarnation that had `start_ticks`
/// (0 = unknown, accept any). A zombie counts as dead: it runs no code any more.
///
/// Death is decided from facts only: `/proc/<pid>/stat` read and showing a zombie or
/// another start time (a reused pid), or the kernel saying there is no such process
/// (`kill(pid, 0)` → ESRCH). Failing to read `/proc` (EMFILE/ENFILE when the instance is out
/// of descriptors, no `/proc` mounted) is no such fact: then `kill(pid, 0)` decides, and a
/// process that exists is taken as alive (pmon looks again at its next pass).
pub(crate) fn process_alive(pid: i32, start_ticks: u64) -> bool {
    if pid <= 0 {
        return false;
    }
    alive_given(pid, start_ticks, read_proc_stat(pid))
}

fn alive_given(pid: i32, start_ticks: u64, stat: std::io::Result<ProcStat>) -> bool {
    match stat {
        Ok(st) => st.state != b'Z' && (start_ticks == 0 || st.start_ticks == start_ticks),
        Err(_) => matches!(
            nix::sys::signal::kill(Pid::from_raw(pid), None),
            Ok(()) | Err(Errno::EPERM)
        ),
    }
}

/// `starttime` of the calling process.
pub(crate) fn own_start_ticks() -> u64 {
    proc_stat(std::process::id() as i32).map_or(0, |s| s.start_ticks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_awkward_command_names() {
        let line = "1234 (oracle ORCL (LOCAL=NO)) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000000 200 18446744073709551615";
        let st = parse_proc_stat(line).unwrap();
        assert_eq!(st.state, b'S');
        assert_eq!(st.start_ticks, 987654);
        assert_eq!(parse_proc_stat("garbage"), None);
        assert_eq!(parse_proc_stat("1 (x) S 1 2"), None);
    }

    #[test]
    fn own_process_is_alive_and_pid_reuse_is_detected() {
        let me = std::process::id() as i32;
        let ticks = own_start_ticks();
        assert!(ticks > 0);
        assert!(process_alive(me, ticks));
        assert!(process_alive(me, 0));
        assert!(!process_alive(me, ticks + 1));
        assert!(!process_alive(0, 0));
    }

    #[test]
    fn a_failed_read_of_proc_is_no_evidence_of_death() {
        let me = std::process::id() as i32;
        let emfile = || Err(std::io::Error::from_raw_os_error(Errno::EMFILE as i32));
        assert!(alive_given(me, own_start_ticks(), emfile()));
        // A process that is really gone: reaped, so the kernel says ESRCH.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let gone = child.id() as i32;
        child.wait().unwrap();
        assert!(!alive_given(gone, 0, emfile()));
        assert!(!process_alive(gone, 0));
    }
}
