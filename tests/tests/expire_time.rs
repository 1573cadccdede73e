//! SQLNET.EXPIRE_TIME end to end: with `SQLNET.EXPIRE_TIME = 1` in the server's sqlnet.ora,
//! a shared session (its dispatcher's socket) and a dedicated session (its server process's
//! socket) whose client vanishes without a FIN — the client's socket is closed in TCP repair
//! mode, so nothing is sent — are gone from V$SESSION once the keepalive probe after one idle
//! minute finds no peer (bounded wait: EXPIRE_TIME + Oracle's 10 probes 6 s apart).
//!
//! TCP_REPAIR needs CAP_NET_ADMIN; the test fails with that reason where it is missing.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use client::{ConnectOptions, Connection, Link};
use server_proc::sga::{SessionType, Sga};
use tests::instance::wait_for;
use tests::shared_stack::{PASSWORD, SharedStack, USER};

/// A client socket that can vanish: after [`Vanish::now`] nothing reaches the wire any more
/// (not even the LOGOFF or FIN a dropped connection would send).
#[derive(Debug)]
struct VanishingLink {
    stream: Arc<TcpStream>,
    gone: Arc<AtomicBool>,
}

struct Vanish {
    stream: Arc<TcpStream>,
    gone: Arc<AtomicBool>,
}

impl Vanish {
    /// Puts the socket in repair mode: closing it then sends neither FIN nor RST.
    fn now(&self) {
        // TCP_REPAIR (linux/tcp.h); nix has no wrapper for it.
        const TCP_REPAIR: nix::libc::c_int = 19;
        let on: nix::libc::c_int = 1;
        // SAFETY: setsockopt on a socket this test owns, with a pointer to a live c_int and
        // its size.
        let rc = unsafe {
            nix::libc::setsockopt(
                std::os::fd::AsRawFd::as_raw_fd(&*self.stream),
                nix::libc::IPPROTO_TCP,
                TCP_REPAIR,
                (&raw const on).cast(),
                std::mem::size_of::<nix::libc::c_int>() as nix::libc::socklen_t,
            )
        };
        assert_eq!(
            rc,
            0,
            "TCP_REPAIR (needs CAP_NET_ADMIN) failed: {}",
            io::Error::last_os_error()
        );
        self.gone.store(true, Ordering::Release);
    }
}

impl Link for VanishingLink {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.gone.load(Ordering::Acquire) {
            return Err(io::ErrorKind::ConnectionAborted.into());
        }
        (&*self.stream).read(buf)
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.gone.load(Ordering::Acquire) {
            return Err(io::ErrorKind::ConnectionAborted.into());
        }
        (&*self.stream).write_all(bytes)
    }

    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        self.stream.set_read_timeout(Some(timeout))
    }

    fn shutdown(&mut self) {
        if !self.gone.load(Ordering::Acquire) {
            let _ = self.stream.shutdown(std::net::Shutdown::Both);
        }
    }
}

fn vanishing_session(stack: &SharedStack, server: &str) -> (Connection, Vanish) {
    let stream = Arc::new(TcpStream::connect(("127.0.0.1", stack.port)).expect("connect"));
    stream
        .set_write_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let gone = Arc::new(AtomicBool::new(false));
    let link = VanishingLink {
        stream: Arc::clone(&stream),
        gone: Arc::clone(&gone),
    };
    let descriptor = format!(
        "(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT={}))(CONNECT_DATA=(SERVICE_NAME={})(SERVER={server})))",
        stack.port, stack.service
    );
    let opts = ConnectOptions {
        call_timeout: Some(Duration::from_secs(20)),
        ..ConnectOptions::default()
    };
    let mut conn = Connection::connect_over(Box::new(link), &descriptor, USER, PASSWORD, &opts)
        .unwrap_or_else(|e| panic!("{server} login: {e}"));
    let r = conn.query("select 1 from dual").expect("select 1");
    assert_eq!(r.rows.len(), 1);
    (conn, Vanish { stream, gone })
}

fn user_sessions(sga: &Sga) -> usize {
    sga.snapshot_sessions()
        .iter()
        .filter(|s| s.session_type == SessionType::User)
        .count()
}

#[test]
fn sessions_of_clients_that_vanish_without_fin_are_cleaned_up_after_expire_time() {
    let stack = SharedStack::start_configured(
        &tests::shared_stack::own_sid("HS5A"),
        "shared_servers=1\ndispatchers='(PROTOCOL=TCP)'",
        1,
        None,
        Some("SQLNET.EXPIRE_TIME = 1\n"),
    );
    let sga = Sga::attach(&stack.home.sid).expect("instance up");
    let (shared, shared_gone) = vanishing_session(&stack, "SHARED");
    let (dedicated, dedicated_gone) = vanishing_session(&stack, "DEDICATED");
    assert_eq!(user_sessions(&sga), 2);
    // Let the clients' delayed ACKs of the last answers go out: an answer left unacknowledged
    // would be retransmitted, and the vanished client's kernel would answer with a reset.
    std::thread::sleep(Duration::from_secs(1));
    shared_gone.now();
    dedicated_gone.now();
    drop((shared, dedicated));
    drop((shared_gone, dedicated_gone));
    let vanished = Instant::now();
    // Nothing told the servers: the sessions stay while the connections look idle.
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(user_sessions(&sga), 2, "no FIN or RST reached the servers");
    // The probe after one idle minute finds no peer; bounded by EXPIRE_TIME + 10 × 6 s.
    let cleaned = wait_for(Duration::from_secs(60 + 60 + 15), || {
        (user_sessions(&sga) == 0).then_some(())
    });
    assert!(
        cleaned.is_some(),
        "sessions left after {:?}: {:?}",
        vanished.elapsed(),
        sga.snapshot_sessions()
    );
}
