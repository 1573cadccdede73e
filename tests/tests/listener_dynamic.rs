//! A real `oradb` registers with a real `tnslsnr` (LOCAL_LISTENER names its port): the
//! listener serves the registered service beside its static one, `lsnrctl` shows the
//! instance READY with a `state:ready` handler, a connection to the registered service is
//! handed to a forked `oracle<SID> (LOCAL=NO)`, and after `shutdown immediate` the service is
//! gone again (ORA-12514).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use tests::procs::{ListenerProc, TestHome, WAIT, children_of, listener_ora, title_of, wait_until};
use tns::packet::{self, LengthMode, Packet};

struct Instance {
    child: Child,
    sid: String,
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        let _ = nix::sys::mman::shm_unlink(server_proc::sga::segment_name(&self.sid).as_str());
    }
}

fn oradb(home: &TestHome, sid: &str) -> Command {
    let mut c = Command::new(tests::instance::oradb_bin());
    c.env("ORACLE_HOME", home.path())
        .env("ORACLE_SID", sid)
        .env_remove("ORASIM_RUN_DIR")
        .env_remove("TNS_ADMIN")
        .stdin(Stdio::null());
    c
}

fn answer(port: u16, connect_data: &str) -> (TcpStream, Packet) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(WAIT)).expect("timeout");
    let d = format!(
        "(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT={port}))(CONNECT_DATA={connect_data}))"
    );
    s.write_all(&packet::Connect::new(d.into_bytes(), 8192).encode())
        .expect("send");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        if let Some((p, _)) = packet::decode(&buf, LengthMode::Short).expect("decodable") {
            return (s, p);
        }
        let n = s.read(&mut chunk).expect("read");
        assert!(n > 0, "closed without an answer");
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn services(home: &TestHome) -> String {
    String::from_utf8_lossy(&home.lsnrctl(&["services"]).stdout).into_owned()
}

/// Sends a CONNECT for `shared.example.com` (no SERVER=) to the listener on `port` and
/// returns everything the connection then carries until it closes.
fn connect_to_shared(port: u16) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(WAIT)).expect("timeout");
    s.set_write_timeout(Some(WAIT)).expect("timeout");
    let d = format!(
        "(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT={port}))(CONNECT_DATA=(SERVICE_NAME=shared.example.com)))"
    );
    s.write_all(&packet::Connect::new(d.into_bytes(), 8192).encode())
        .expect("send");
    let mut got = Vec::new();
    s.read_to_end(&mut got).expect("read");
    got
}

#[test]
fn a_registered_instance_is_served_beside_the_static_service() {
    let home = TestHome::new();
    let l = ListenerProc::start(&home, "LISTENER", |port| {
        listener_ora(
            "LISTENER",
            port,
            &[("STATIC", Some("static.example.com"))],
            &[],
        )
    });
    let sid = tests::instance::unique_sid();
    std::fs::create_dir_all(home.path().join("dbs")).expect("dbs");
    std::fs::write(
        home.path().join("dbs").join(format!("init{sid}.ora")),
        format!(
            "*.db_name='ORCL'\n*.service_names='sales.example.com'\n*.local_listener='(ADDRESS=(PROTOCOL=TCP)(HOST=127.0.0.1)(PORT={}))'\n",
            l.port
        ),
    )
    .expect("pfile");
    let mut child = oradb(&home, &sid)
        .args(["startup", "--foreground"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("oradb");
    let out = child.stdout.take().expect("stdout");
    let mut inst = Instance {
        child,
        sid: sid.clone(),
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    loop {
        match rx.recv_timeout(WAIT) {
            Ok(l) if l == "Database opened." => break,
            Ok(_) => continue,
            Err(e) => panic!("oradb did not open: {e}"),
        }
    }

    // The registration shows up beside the static entry.
    assert!(
        wait_until(WAIT, || services(&home)
            .contains("Service \"sales.example.com\"")),
        "{}",
        services(&home)
    );
    let text = services(&home);
    assert!(
        text.contains(&format!(
            "Service \"sales.example.com\" has 1 instance(s).\n  Instance \"{sid}\", status READY, has 1 handler(s) for this service...\n    Handler(s):\n      \"DEDICATED\" established:0 refused:0 state:ready\n         LOCAL SERVER\n"
        )),
        "{text}"
    );
    assert!(
        text.contains("Instance \"STATIC\", status UNKNOWN"),
        "{text}"
    );
    assert!(
        home.listener_log()
            .contains(&format!(" * service_register * {sid} * 0\n")),
        "{}",
        home.listener_log()
    );

    // A connection to the registered service is handed to a dedicated server of that SID.
    let spawner = children_of(l.pid())
        .into_iter()
        .find(|p| title_of(*p).contains("spawner"))
        .expect("spawner");
    let (session, p) = answer(l.port, "(SERVICE_NAME=sales.example.com)");
    assert!(matches!(p, Packet::Accept(_)), "{p:?}");
    let kids = children_of(spawner);
    assert_eq!(kids.len(), 1);
    assert_eq!(title_of(kids[0]), format!("oracle{sid} (LOCAL=NO)"));
    drop(session);
    assert!(services(&home).contains("\"DEDICATED\" established:1 refused:0 state:ready"));
    // By SID too.
    let (_s, p) = answer(l.port, &format!("(SID={sid})"));
    assert!(matches!(p, Packet::Accept(_)), "{p:?}");

    // SHUTDOWN IMMEDIATE deregisters: the listener no longer knows the service.
    let out = oradb(&home, &sid)
        .args(["shutdown", "immediate"])
        .output()
        .expect("shutdown");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(wait_until(WAIT, || inst
        .child
        .try_wait()
        .ok()
        .flatten()
        .is_some()));
    assert!(wait_until(WAIT, || !services(&home).contains("sales.example.com")));
    let (_s, p) = answer(l.port, "(SERVICE_NAME=sales.example.com)");
    match p {
        Packet::Refuse(r) => assert_eq!(r.error_code(), Some(12514)),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Registers a fake instance with one dispatcher through the listener's registration socket;
/// the returned stream must stay open (closing it means the instance died).
fn register_dispatcher(port: u16, handoff_path: Option<String>) -> std::os::unix::net::UnixStream {
    use server_proc::registration as reg;
    let path = reg::socket_path_for_port(port);
    let mut s = std::os::unix::net::UnixStream::connect(&path).expect("registration socket");
    s.set_read_timeout(Some(WAIT)).expect("timeout");
    let msg = reg::ClientMessage::ServiceUpdate {
        version: reg::PROTOCOL_VERSION,
        registration: reg::InstanceRegistration {
            instance_name: "SHR1".into(),
            sid: "SHR1".into(),
            db_name: "SHR".into(),
            oracle_home: "/nonexistent".into(),
            host: "dbhost".into(),
            pid: 4242,
            status: reg::InstanceStatus::Ready,
            services: vec!["shared.example.com".into()],
            handlers: vec![reg::Handler {
                name: "D000".into(),
                kind: reg::HandlerKind::Dispatcher {
                    address: "(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT=9))".into(),
                    handoff_path,
                    pid: 4243,
                },
                state: reg::HandlerState::Ready,
                current: 0,
                max: 1022,
            }],
            load: reg::LoadReport::default(),
            refresh_secs: 60,
        },
    };
    reg::write_message(&mut s, &msg).expect("register");
    let mut r = reg::LineReader::new(s.try_clone().expect("clone"));
    let ack: reg::ServerMessage = r.read_message().expect("ack");
    assert!(matches!(ack, reg::ServerMessage::Ack { .. }), "{ack:?}");
    s
}

#[test]
fn shared_server_connections_go_to_the_dispatcher_directly_or_by_redirect() {
    let home = TestHome::new();
    let l = ListenerProc::start(&home, "LISTENER", |port| {
        listener_ora("LISTENER", port, &[], &[])
    });

    // A stand-in dispatcher taking direct hand-offs on a SOCK_SEQPACKET socket.
    let dpath = home.path().join("d000.hand");
    let dsock = nix::sys::socket::socket(
        nix::sys::socket::AddressFamily::Unix,
        nix::sys::socket::SockType::SeqPacket,
        nix::sys::socket::SockFlag::SOCK_CLOEXEC,
        None,
    )
    .expect("socket");
    let addr = nix::sys::socket::UnixAddr::new(&dpath).expect("addr");
    nix::sys::socket::bind(std::os::fd::AsRawFd::as_raw_fd(&dsock), &addr).expect("bind");
    nix::sys::socket::listen(&dsock, nix::sys::socket::Backlog::new(4).expect("backlog"))
        .expect("listen");
    let dispatcher = std::thread::spawn(move || {
        let raw =
            nix::sys::socket::accept(std::os::fd::AsRawFd::as_raw_fd(&dsock)).expect("accept");
        // SAFETY: accept returned a new descriptor that nothing else owns.
        let conn = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(raw) };
        let (msg, fd) = listener::handoff::receive(std::os::fd::AsFd::as_fd(&conn))
            .expect("receive")
            .expect("a message");
        let mut client = TcpStream::from(fd.expect("the client socket"));
        client.set_nonblocking(false).expect("blocking");
        client.write_all(b"D000 has you").expect("write to client");
        msg
    });

    let _reg = register_dispatcher(l.port, Some(dpath.display().to_string()));
    assert!(wait_until(WAIT, || services(&home).contains("\"D000\"")));
    let text = services(&home);
    assert!(
        text.contains(
            "Service \"shared.example.com\" has 1 instance(s).\n  Instance \"SHR1\", status READY, has 1 handler(s) for this service...\n    Handler(s):\n      \"D000\" established:0 refused:0 current:0 max:1022 state:ready\n         DISPATCHER <machine: dbhost, pid: 4243>\n         (ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT=9))\n"
        ),
        "{text}"
    );
    // No SERVER= and a dispatcher available: shared server, handed over directly.
    assert_eq!(connect_to_shared(l.port), b"D000 has you");
    let msg = dispatcher.join().expect("dispatcher");
    assert_eq!(msg.meta.sid, "SHR1");
    assert_eq!(msg.meta.service, "shared.example.com");
    assert!(matches!(
        packet::decode_connect(&msg.connect_bytes),
        Ok(Some(_))
    ));
    assert!(services(&home).contains("\"D000\" established:1 refused:0"));

    // A dispatcher without a hand-off socket: the client is redirected to its address.
    drop(_reg);
    let _reg = register_dispatcher(l.port, None);
    let (_s, p) = answer(l.port, "(SERVICE_NAME=shared.example.com)(SERVER=shared)");
    assert!(matches!(p, Packet::Redirect(_)), "{p:?}");
    // SERVER=dedicated but the instance registered no dedicated handler: 12520.
    let (_s, p) = answer(
        l.port,
        "(SERVICE_NAME=shared.example.com)(SERVER=dedicated)",
    );
    match p {
        Packet::Refuse(r) => assert_eq!(r.error_code(), Some(12520)),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// The listener keeps its connection to a dispatcher's hand-off socket open: the next direct
/// hand-off is one more message on it. When the dispatcher closes it (it retired or died),
/// the next hand-off connects anew and the client is still handed over.
#[test]
fn direct_hand_offs_reuse_one_connection_and_connect_anew_when_it_closes() {
    use nix::sys::socket::{self as sock, sockopt::ReceiveTimeout};
    use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
    let home = TestHome::new();
    let l = ListenerProc::start(&home, "LISTENER", |port| {
        listener_ora("LISTENER", port, &[], &[])
    });
    let dpath = home.path().join("d000.hand");
    let dsock = sock::socket(
        sock::AddressFamily::Unix,
        sock::SockType::SeqPacket,
        sock::SockFlag::SOCK_CLOEXEC,
        None,
    )
    .expect("socket");
    sock::bind(
        dsock.as_raw_fd(),
        &sock::UnixAddr::new(&dpath).expect("addr"),
    )
    .expect("bind");
    sock::listen(&dsock, sock::Backlog::new(4).expect("backlog")).expect("listen");
    let timeout = nix::sys::time::TimeVal::new(WAIT.as_secs() as i64, 0);
    sock::setsockopt(&dsock, ReceiveTimeout, &timeout).expect("accept timeout");
    let (closed_tx, closed_rx) = std::sync::mpsc::channel();
    let dispatcher = std::thread::spawn(move || {
        let accept = || {
            // CLOEXEC: a process the test starts meanwhile (lsnrctl) must not hold the
            // connection open after the stand-in closed it.
            let raw =
                sock::accept4(dsock.as_raw_fd(), sock::SockFlag::SOCK_CLOEXEC).expect("accept");
            // SAFETY: accept4 returned a new descriptor that nothing else owns.
            let conn = unsafe { OwnedFd::from_raw_fd(raw) };
            sock::setsockopt(&conn, ReceiveTimeout, &timeout).expect("receive timeout");
            conn
        };
        let answer = |conn: &OwnedFd, text: &[u8]| {
            let (_, fd) = listener::handoff::receive(conn.as_fd())
                .expect("receive")
                .expect("a hand-off on this connection");
            let mut client = TcpStream::from(fd.expect("the client socket"));
            client.set_nonblocking(false).expect("blocking");
            client.write_all(text).expect("write to client");
        };
        let first = accept();
        answer(&first, b"first");
        answer(&first, b"second, same connection");
        drop(first);
        closed_tx.send(()).expect("signal");
        let again = accept();
        answer(&again, b"third, new connection");
    });
    let _reg = register_dispatcher(l.port, Some(dpath.display().to_string()));
    assert!(wait_until(WAIT, || services(&home).contains("\"D000\"")));
    let client = |expected: &[u8]| {
        let got = connect_to_shared(l.port);
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(expected)
        );
    };
    client(b"first");
    client(b"second, same connection");
    closed_rx
        .recv_timeout(WAIT)
        .expect("the stand-in closed its connection");
    client(b"third, new connection");
    dispatcher.join().expect("dispatcher");
    assert!(services(&home).contains("\"D000\" established:3 refused:0"));
}
