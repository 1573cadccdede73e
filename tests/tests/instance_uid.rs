//! Only the instance owner may drive the instance: a process of another OS user can neither
//! register with the listener nor attach to the SGA (`oradb kill-session`, a server process).
//!
//! The tests run as root; the foreign user is a child that drops to `nobody` before exec.
//! Root itself is no proof here (the code lets uid 0 through, and root ignores file modes).

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use listener::registration::{RegistrationEventKind, RegistrationServer};
use server_proc::sga::{SessionStatus, Sga};
use tests::instance::{TestHome, probe_bin, wait_output};

const NOBODY: u32 = 65534;
const LIMIT: Duration = Duration::from_secs(10);

/// Makes `cmd` run as uid/gid `nobody` with no supplementary groups.
fn as_nobody(cmd: &mut Command) -> &mut Command {
    // SAFETY: runs in the forked child before exec, where only this thread exists;
    // setgroups/setgid/setuid are plain system calls that touch no memory shared with
    // the parent.
    unsafe {
        cmd.pre_exec(|| {
            if nix::libc::setgroups(0, std::ptr::null()) != 0
                || nix::libc::setgid(NOBODY) != 0
                || nix::libc::setuid(NOBODY) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

fn run_as_nobody(cmd: &mut Command) -> Output {
    let child = as_nobody(cmd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn as nobody");
    wait_output(child, LIMIT)
}

/// These tests need root to become another user; they say so instead of passing quietly.
fn require_root() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "these tests switch to uid {NOBODY} and must run as root"
    );
}

/// Connects to a Unix socket as `nobody` and prints the first line the server sends, or
/// the errno of a failed connect.
const UNIX_CLIENT: &str = r#"
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print("CONNECT-ERRNO", e.errno)
    sys.exit(0)
print("REPLY", s.makefile().readline().strip())
print("EOF" if s.recv(1) == b"" else "MORE")
"#;

fn nobody_connects(sock: &Path) -> String {
    let out = run_as_nobody(Command::new("/usr/bin/python3").args([
        "-c",
        UNIX_CLIENT,
        &sock.display().to_string(),
    ]));
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn registration_from_another_os_user_is_refused() {
    require_root();
    let home = TestHome::new("");
    let sock = home.registration_socket();
    let server = RegistrationServer::start(&sock, "LISTENER").unwrap();
    let reg = server.registry();

    // As created (directory 0700, socket 0600), the socket is out of reach of other users.
    assert_eq!(
        std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        nobody_connects(&sock),
        format!("CONNECT-ERRNO {}\n", nix::libc::EACCES)
    );

    // Even where the modes let it through (a careless chmod, a shared directory), the
    // listener checks the peer's uid and refuses with TNS-12546, then hangs up.
    let mut dir = sock.parent();
    while let Some(d) = dir {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
        if d == home.path() {
            break;
        }
        dir = d.parent();
    }
    std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o666)).unwrap();
    let seen = nobody_connects(&sock);
    let mut lines = seen.lines();
    let reply = lines.next().unwrap_or_default();
    assert!(reply.starts_with("REPLY "), "{seen}");
    assert!(reply.contains("12546"), "{seen}");
    assert!(
        reply.contains(&format!(
            "TNS-12546: TNS:permission denied (registration from uid {NOBODY} refused; \
             listener runs as uid 0)"
        )),
        "{seen}"
    );
    assert_eq!(lines.next(), Some("EOF"), "the listener hung up: {seen}");
    let kinds: Vec<_> = reg.take_events().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, vec![RegistrationEventKind::Refused]);
    assert!(reg.lock().instances().is_empty());
}

#[test]
fn another_os_user_cannot_attach_to_the_sga_or_kill_a_session() {
    require_root();
    let home = TestHome::new("");
    let _inst = home.start_foreground();
    let mut victim = home.probe(1);
    let (sid, serial) = victim.sessions[0];

    // The segment is the owner's alone: mode 0600, and another user cannot open it.
    let seg = Path::new("/dev/shm")
        .join(server_proc::sga::segment_name(&home.sid).trim_start_matches('/'));
    assert_eq!(
        std::fs::metadata(&seg).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let out = run_as_nobody(Command::new("/usr/bin/python3").args([
        "-c",
        "import sys\ntry:\n open(sys.argv[1], 'r+b')\nexcept OSError as e:\n print(e.errno)",
        &seg.display().to_string(),
    ]));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{}\n", nix::libc::EACCES),
        "{out:?}"
    );

    // `oradb kill-session` by another OS user: the segment name carries the owner's uid, so
    // the foreign user does not even find the instance — what Oracle says when
    // ORACLE_SID names no instance of yours. The victim is untouched.
    let out = run_as_nobody(
        home.oradb()
            .args(["kill-session", &format!("{sid},{serial}")]),
    );
    assert!(!out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "ORA-01034: ORACLE not available\nORA-27101: shared memory realm does not exist\n\
         Linux-x86_64 Error: 2: No such file or directory\n"
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    let sga = Sga::attach(&home.sid).unwrap();
    let row = sga
        .snapshot_sessions()
        .into_iter()
        .find(|s| s.sid == sid)
        .expect("victim still in V$SESSION");
    assert_ne!(row.status, SessionStatus::Killed);
    assert_eq!(victim.ask("call").as_deref(), Some("OK"));

    // A server process of another OS user cannot attach either: no session for it.
    let sessions_before = sga.snapshot_sessions().len();
    let out =
        run_as_nobody(Command::new(probe_bin()).args(["--sid", &home.sid, "--sessions", "1"]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("ERROR ORA-01034: ORACLE not available")),
        "{out:?}"
    );
    assert!(!stdout.contains("SESSION "), "{out:?}");
    assert_eq!(sga.snapshot_sessions().len(), sessions_before);
}
