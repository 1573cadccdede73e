//! End-to-end tests of `tnslsnr` + `lsnrctl` on 127.0.0.1: refusals as python-oracledb
//! 26.1.0 reports them, the SCM_RIGHTS hand-off to a titled dedicated server, reaping, the
//! lsnrctl reports, reload and stop.

use std::io::{Read, Write};
use std::net::TcpStream;

use tests::procs::{
    ListenerProc, TestHome, WAIT, children_of, fds_of, listener_ora, stat_of, title_of, wait_until,
};
use tns::packet::{self, LengthMode, Packet};

const SERVICE: &str = "orcl.example.com";

fn start(home: &TestHome, params: &[(&str, &str)]) -> ListenerProc {
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    ListenerProc::start(home, "LISTENER", move |port| {
        let p: Vec<(&str, &str)> = params
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        listener_ora("LISTENER", port, &[("ORCL", Some(SERVICE))], &p)
    })
}

fn descriptor(port: u16, connect_data: &str) -> String {
    format!(
        "(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT={port}))(CONNECT_DATA={connect_data}(CID=(PROGRAM=e2e)(HOST=test)(USER=test))))"
    )
}

/// Sends a CONNECT and returns the socket and the first packet of the answer.
fn raw_connect(port: u16, desc: &str) -> (TcpStream, Packet) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(WAIT)).expect("timeout");
    s.set_write_timeout(Some(WAIT)).expect("timeout");
    s.write_all(&packet::Connect::new(desc.as_bytes().to_vec(), 8192).encode())
        .expect("send CONNECT");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        if let Some((p, _)) = packet::decode(&buf, LengthMode::Short).expect("decodable answer") {
            return (s, p);
        }
        let n = s.read(&mut chunk).expect("read answer");
        assert!(n > 0, "listener closed without answering");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Reads one whole packet from `s` in `mode`.
fn read_packet(s: &mut TcpStream, mode: LengthMode) -> Packet {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some((p, _)) = packet::decode(&buf, mode).expect("decodable packet") {
            return p;
        }
        let n = s.read(&mut chunk).expect("read packet");
        assert!(n > 0, "peer closed before a whole packet arrived");
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn refuse_code(p: &Packet) -> u32 {
    match p {
        Packet::Refuse(r) => r.error_code().expect("ERR in refuse text"),
        other => panic!("expected REFUSE, got {other:?}"),
    }
}

fn spawner_of(l: &ListenerProc) -> u32 {
    let mut found = 0;
    assert!(wait_until(WAIT, || {
        found = children_of(l.pid())
            .into_iter()
            .find(|p| title_of(*p).contains("spawner"))
            .unwrap_or(0);
        found != 0
    }));
    found
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// What a python-oracledb snippet printed (it reports errors on stdout itself).
fn python_stdout(script: &str, args: &[&str]) -> String {
    tests::py::run_python(script, args, WAIT).stdout
}

const PY_CONNECT: &str = r#"
import sys, oracledb
try:
    oracledb.connect(user="scott", password="tiger", dsn=sys.argv[1])
    print("CONNECTED")
except Exception as e:
    print(type(e).__name__)
    print(e)
"#;

#[test]
fn python_sees_ora_12514_for_unknown_service_and_ora_12505_for_unknown_sid() {
    let home = TestHome::new();
    let l = start(&home, &[]);
    let text = python_stdout(
        PY_CONNECT,
        &[&format!("127.0.0.1:{}/nosuch.example.com", l.port)],
    );
    assert!(text.contains("OperationalError"), "{text}");
    assert!(
        text.contains("DPY-6005: cannot connect to database"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "DPY-6001: Service \"nosuch.example.com\" is not registered with the listener at host \"127.0.0.1\" port {}. (Similar to ORA-12514)",
            l.port
        )),
        "{text}"
    );
    let dsn = format!(
        "(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT={}))(CONNECT_DATA=(SID=NOSID)))",
        l.port
    );
    let text = python_stdout(PY_CONNECT, &[&dsn]);
    assert!(
        text.contains(&format!(
            "DPY-6003: SID \"NOSID\" is not registered with the listener at host \"127.0.0.1\" port {}. (Similar to ORA-12505)",
            l.port
        )),
        "{text}"
    );
    // A descriptor over 230 bytes travels in an overflow DATA packet after the CONNECT.
    let long = format!("svc{}", "x".repeat(300));
    let text = python_stdout(PY_CONNECT, &[&format!("127.0.0.1:{}/{long}", l.port)]);
    assert!(
        text.contains(&format!("DPY-6001: Service \"{long}\" is not registered")),
        "{text}"
    );
    let log = home.listener_log();
    assert!(
        log.contains(&format!("* establish * {long} * 12514")),
        "{log}"
    );
    assert!(log.contains("(SERVICE_NAME=nosuch.example.com)"), "{log}");
    assert!(log.contains("* establish * nosuch.example.com * 12514\nTNS-12514: TNS:listener does not currently know of service requested in connect descriptor\n"), "{log}");
    assert!(log.contains("* establish * NOSID * 12505\nTNS-12505: TNS:listener does not currently know of SID given in connect descriptor\n"), "{log}");
}

#[test]
fn refusal_codes_on_the_wire() {
    let home = TestHome::new();
    let l = start(&home, &[]);
    for (cd, code) in [
        ("(SERVICE_NAME=nope)", 12514),
        ("(SID=NOPE)", 12505),
        ("(SERVER=dedicated)", 12504),
        (
            &format!("(SERVICE_NAME={SERVICE})(INSTANCE_NAME=other)") as &str,
            12521,
        ),
        (
            &format!("(SERVICE_NAME={SERVICE})(SERVER=shared)") as &str,
            12520,
        ),
    ] {
        let (_s, p) = raw_connect(l.port, &descriptor(l.port, cd));
        assert_eq!(refuse_code(&p), code, "{cd}");
        if let Packet::Refuse(r) = &p {
            assert_eq!(
                r.text,
                format!(
                    "(DESCRIPTION=(TMP=)(VSNNUM=318767104)(ERR={code})(ERROR_STACK=(ERROR=(CODE={code})(EMFI=4))))"
                )
            );
        }
    }
    let log = home.listener_log();
    for code in [12514, 12505, 12504, 12521, 12520] {
        assert!(
            log.contains(&format!(" * {code}\nTNS-{code}: ")),
            "missing {code} in {log}"
        );
    }
}

#[test]
fn handoff_reaches_a_titled_dedicated_server_that_python_accepts_and_that_is_reaped() {
    let home = TestHome::new();
    let l = start(&home, &[]);
    let spawner = spawner_of(&l);
    assert_eq!(title_of(l.pid()), "tnslsnr LISTENER");
    assert_eq!(title_of(spawner), "tnslsnr LISTENER spawner");
    // Every descriptor the listener and the spawner opened is close-on-exec.
    for pid in [l.pid(), spawner] {
        for (fd, target) in fds_of(pid).into_iter().filter(|(fd, _)| *fd > 2) {
            assert_eq!(
                tests::procs::cloexec(pid, fd),
                Some(true),
                "pid {pid} fd {fd} -> {target}"
            );
        }
    }

    // A client that stops after the ACCEPT keeps its dedicated server waiting for TTC.
    let (session, p) = raw_connect(
        l.port,
        &descriptor(l.port, &format!("(SERVICE_NAME={SERVICE})")),
    );
    assert!(matches!(p, Packet::Accept(_)), "{p:?}");
    let kids = children_of(spawner);
    assert_eq!(kids.len(), 1, "{kids:?}");
    let server = kids[0];
    assert_eq!(title_of(server), "oracleORCL (LOCAL=NO)");
    // Its own session, stdio on /dev/null, and exactly one socket: the client's.
    let fds = fds_of(server);
    assert_eq!(fds.len(), 4, "{fds:?}");
    assert!(
        fds.iter()
            .filter(|(fd, _)| *fd <= 2)
            .all(|(_, t)| t == "/dev/null"),
        "{fds:?}"
    );
    assert_eq!(
        fds.iter().filter(|(_, t)| t.starts_with("socket:")).count(),
        1,
        "{fds:?}"
    );
    // Neither the listener nor the spawner keeps the passed socket (the same
    // `socket:[inode]` the server holds; each closes its copy right after the hand-off,
    // which may be a moment after the child already answered): the client's FIN must
    // reach the server alone. (Counting the listener's descriptors instead was flaky: it
    // may open listener.log or another socket of its own in between.)
    let client_socket = fds
        .iter()
        .find(|(_, t)| t.starts_with("socket:"))
        .map(|(_, t)| t.clone())
        .unwrap_or_default();
    // The server answers on the socket with TCP_NODELAY set (small TTC replies must not wait
    // for Nagle); read from a duplicate of the server's own descriptor.
    let socket_fd = fds
        .iter()
        .find(|(_, t)| t.starts_with("socket:"))
        .map_or(0, |(fd, _)| *fd);
    assert_eq!(nodelay_of(server, socket_fd), Some(true));
    for (who, pid) in [("listener", l.pid()), ("spawner", spawner)] {
        assert!(
            wait_until(WAIT, || !fds_of(pid)
                .iter()
                .any(|(_, t)| *t == client_socket)),
            "{who} still holds {client_socket}: {:?}",
            fds_of(pid)
        );
    }
    // The client goes: the server exits and is reaped by the spawner (no zombie).
    drop(session);
    assert!(
        wait_until(WAIT, || stat_of(server).is_none()),
        "dedicated server {server} left: {:?}",
        stat_of(server)
    );
    assert!(children_of(spawner).is_empty());

    // python-oracledb accepts the forked server's ACCEPT and goes on to TTC (no user exists
    // in this home, so the login itself fails afterwards).
    let trace = home.path().join("py.trace");
    let out = tests::procs::run_with_timeout(
        std::process::Command::new(tests::pyenv::python())
            .arg("-c")
            .arg(PY_CONNECT)
            .arg(format!("127.0.0.1:{}/{SERVICE}", l.port))
            .env("PYO_DEBUG_PACKETS", "1"),
        WAIT,
    );
    std::fs::write(&trace, &out.stdout).expect("save trace");
    let text = stdout(&out);
    let accept = text
        .find("Receiving packet")
        .expect("python received the ACCEPT");
    assert!(text[..accept].contains("Sending request connect"), "{text}");
    assert!(
        text[accept..].contains("Sending request protocol"),
        "{text}"
    );
    assert!(
        !text.contains("DPY-6000") && !text.contains("DPY-6001"),
        "{text}"
    );
    assert!(
        wait_until(WAIT, || children_of(spawner).is_empty()),
        "a dedicated server stayed"
    );
    let log = home.listener_log();
    assert_eq!(
        log.matches(&format!("* establish * {SERVICE} * 0")).count(),
        2,
        "{log}"
    );
}

#[test]
fn one_dedicated_server_per_connection_each_reaped() {
    let home = TestHome::new();
    let l = start(&home, &[]);
    let spawner = spawner_of(&l);
    let mut socks = Vec::new();
    for _ in 0..3 {
        let (s, p) = raw_connect(
            l.port,
            &descriptor(l.port, &format!("(SERVICE_NAME={SERVICE})")),
        );
        assert!(matches!(p, Packet::Accept(_)), "{p:?}");
        socks.push(s);
    }
    let mut kids = Vec::new();
    assert!(wait_until(WAIT, || {
        kids = children_of(spawner);
        kids.len() == 3
    }));
    for k in &kids {
        assert_eq!(title_of(*k), "oracleORCL (LOCAL=NO)");
    }
    drop(socks);
    assert!(
        wait_until(WAIT, || kids.iter().all(|k| stat_of(*k).is_none())),
        "{:?}",
        kids.iter().map(|k| stat_of(*k)).collect::<Vec<_>>()
    );
    let services = stdout(&home.lsnrctl(&["services"]));
    assert!(
        services.contains("\"DEDICATED\" established:3 refused:0"),
        "{services}"
    );
}

#[test]
fn lsnrctl_status_and_services_show_endpoint_service_and_counts() {
    let home = TestHome::new();
    let l = start(&home, &[]);
    let (s, p) = raw_connect(
        l.port,
        &descriptor(l.port, &format!("(SERVICE_NAME={SERVICE})")),
    );
    assert!(matches!(p, Packet::Accept(_)));
    drop(s);
    let (_s, p) = raw_connect(
        l.port,
        &descriptor(l.port, &format!("(SERVICE_NAME={SERVICE})(SERVER=shared)")),
    );
    assert_eq!(refuse_code(&p), 12520);

    let out = home.lsnrctl(&["status"]);
    assert!(out.status.success());
    let status = stdout(&out);
    assert!(
        status.contains("LSNRCTL for Linux: Version 19.0.0.0.0 - Production on "),
        "{status}"
    );
    assert!(
        status.contains(&format!(
            "Connecting to (DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT={})))",
            l.port
        )),
        "{status}"
    );
    assert!(
        status.contains(
            "STATUS of the LISTENER\n------------------------\nAlias                     LISTENER\n"
        ),
        "{status}"
    );
    assert!(
        status.contains("Security                  ON: Local OS Authentication\n"),
        "{status}"
    );
    assert!(status.contains(&format!("Listening Endpoints Summary...\n  (DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT={})))\n", l.port)), "{status}");
    assert!(status.contains(&format!("Service \"{SERVICE}\" has 1 instance(s).\n  Instance \"ORCL\", status UNKNOWN, has 1 handler(s) for this service...\n")), "{status}");
    assert!(
        status.ends_with("The command completed successfully\n"),
        "{status}"
    );

    // listener.log starts with Oracle's banner and records each admin command.
    let log = home.listener_log();
    assert!(
        log.starts_with("\n\nTNSLSNR for Linux: Version 19.0.0.0.0 - Production on "),
        "{log}"
    );
    assert!(
        log.contains(&format!("Started with pid={}\n", l.pid())),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "Listening on: (DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT={})))\n\nTIMESTAMP * CONNECT DATA [* PROTOCOL INFO] * EVENT [* SID] * RETURN CODE\n",
            l.port
        )),
        "{log}"
    );
    assert!(
        log.contains(
            "(COMMAND=status)(ARGUMENTS=64)(SERVICE=LISTENER)(VERSION=318767104)) * status * 0\n"
        ),
        "{log}"
    );

    let services = stdout(&home.lsnrctl(&["services"]));
    assert!(
        services.contains(&format!(
            "Services Summary...\nService \"{SERVICE}\" has 1 instance(s).\n  Instance \"ORCL\", status UNKNOWN, has 1 handler(s) for this service...\n    Handler(s):\n      \"DEDICATED\" established:1 refused:1\n         LOCAL SERVER\n"
        )),
        "{services}"
    );
}

#[test]
fn lsnrctl_set_show_version_and_reload_picks_up_a_new_service() {
    let home = TestHome::new();
    let l = start(&home, &[]);
    let (_s, p) = raw_connect(
        l.port,
        &descriptor(l.port, "(SERVICE_NAME=sales.example.com)"),
    );
    assert_eq!(refuse_code(&p), 12514);

    let set = stdout(&home.lsnrctl(&["set", "inbound_connect_timeout", "7"]));
    assert!(set.contains("LISTENER parameter \"inbound_connect_timeout\" set to 7\nThe command completed successfully"), "{set}");
    let show = stdout(&home.lsnrctl(&["show", "inbound_connect_timeout"]));
    assert!(
        show.contains("LISTENER parameter \"inbound_connect_timeout\" set to 7"),
        "{show}"
    );
    let set = stdout(&home.lsnrctl(&["set", "trc_level", "admin"]));
    assert!(
        set.contains("LISTENER parameter \"trc_level\" set to admin"),
        "{set}"
    );
    assert!(stdout(&home.lsnrctl(&["status"])).contains("Trace Level               admin\n"));
    let set = stdout(&home.lsnrctl(&["set", "log_level", "debug"]));
    assert!(
        set.contains("LISTENER parameter \"log_level\" set to debug"),
        "{set}"
    );
    let bad = home.lsnrctl(&["set", "trc_level", "loud"]);
    assert!(!bad.status.success());
    assert!(
        stdout(&bad).contains("TNS-01153: Failed to process string"),
        "{}",
        stdout(&bad)
    );
    let version = stdout(&home.lsnrctl(&["version"]));
    assert!(
        version.contains("TNSLSNR for Linux: Version 19.0.0.0.0 - Production\n"),
        "{version}"
    );

    home.write_admin(
        "listener.ora",
        &listener_ora(
            "LISTENER",
            l.port,
            &[
                ("ORCL", Some(SERVICE)),
                ("SALES", Some("sales.example.com")),
            ],
            &[],
        ),
    );
    let reload = home.lsnrctl(&["reload"]);
    assert!(reload.status.success(), "{}", stdout(&reload));
    let services = stdout(&home.lsnrctl(&["services"]));
    assert!(
        services.contains(
            "Service \"sales.example.com\" has 1 instance(s).\n  Instance \"SALES\", status UNKNOWN"
        ),
        "{services}"
    );
    let (_s, p) = raw_connect(
        l.port,
        &descriptor(l.port, "(SERVICE_NAME=sales.example.com)"),
    );
    assert!(matches!(p, Packet::Accept(_)), "{p:?}");
    // reload reverts runtime SETs to the file's values (60 s default)
    let show = stdout(&home.lsnrctl(&["show", "inbound_connect_timeout"]));
    assert!(show.contains("set to 60"), "{show}");
}

#[test]
fn lsnrctl_stop_stops_the_listener_but_not_its_sessions() {
    let home = TestHome::new();
    let mut l = start(&home, &[]);
    let spawner = spawner_of(&l);
    let (mut session, p) = raw_connect(
        l.port,
        &descriptor(l.port, &format!("(SERVICE_NAME={SERVICE})")),
    );
    assert!(matches!(p, Packet::Accept(_)));
    let mut server = 0;
    assert!(wait_until(WAIT, || {
        server = children_of(spawner).into_iter().next().unwrap_or(0);
        server != 0
    }));

    let out = home.lsnrctl(&["stop"]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).contains("The command completed successfully"));
    assert!(l.wait_exit(WAIT), "tnslsnr did not exit");
    assert!(
        TcpStream::connect(("127.0.0.1", l.port)).is_err(),
        "port still accepting"
    );
    let status = home.lsnrctl(&["status"]);
    assert!(!status.status.success());
    assert!(
        stdout(&status).contains("TNS-12541: TNS:no listener\n TNS-12560: TNS:protocol adapter error\n  TNS-00511: No listener\n   Linux Error: 111: Connection refused\n"),
        "{}",
        stdout(&status)
    );
    // The dedicated server still serves its client.
    assert!(matches!(stat_of(server), Some((_, s)) if s != 'Z'));
    assert_eq!(title_of(server), "oracleORCL (LOCAL=NO)");
    // A real round trip with the dedicated server after the listener is gone: the TTC
    // protocol negotiation python sends first (reference §4.3) must get its reply.
    let mut proto = vec![0x01, 0x06, 0x00];
    proto.extend_from_slice(b"python-oracledb\0");
    let request = packet::Data {
        flags: 0,
        payload: proto,
    };
    session
        .write_all(&request.encode(LengthMode::Large))
        .expect("session still writable");
    let reply = read_packet(&mut session, LengthMode::Large);
    let Packet::Data(reply) = reply else {
        panic!("expected the protocol reply in a DATA packet, got {reply:?}")
    };
    assert_eq!(
        reply.payload.first(),
        Some(&0x01),
        "not a protocol reply: {:02x?}",
        reply.payload
    );
    let eof = [0x00, 0x00, 0x00, 0x0A, 0x06, 0x00, 0x00, 0x00, 0x00, 0x40];
    session.write_all(&eof).expect("session still writable");
    drop(session);
    assert!(
        wait_until(WAIT, || stat_of(server).is_none()),
        "server left behind: {:?}",
        stat_of(server)
    );
    assert!(
        wait_until(
            WAIT,
            || !matches!(stat_of(spawner), Some((_, s)) if s != 'Z')
        ),
        "spawner still running"
    );
}

#[test]
fn lsnrctl_start_runs_tnslsnr_in_the_background() {
    let home = TestHome::new();
    let port = tests::procs::free_port();
    home.write_admin(
        "listener.ora",
        &listener_ora("LSNR2", port, &[("ORCL", Some(SERVICE))], &[]),
    );
    let out = home.lsnrctl(&["start", "LSNR2"]);
    let text = stdout(&out);
    // Whatever happens next, stop what we started.
    struct Stop<'a>(&'a TestHome);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            let _ = self.0.lsnrctl(&["stop", "LSNR2"]);
        }
    }
    let _stop = Stop(&home);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("Starting "), "{text}");
    assert!(
        text.contains(&format!(
            "Listening on: (DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT={port})))"
        )),
        "{text}"
    );
    assert!(text.contains("STATUS of the LSNR2"), "{text}");
    // Oracle names a listener's log after it.
    assert!(
        text.contains(&format!(
            "Listener Log File         {}",
            home.path().join("network/log/lsnr2.log").display()
        )),
        "{text}"
    );
    let again = home.lsnrctl(&["start", "LSNR2"]);
    assert!(!again.status.success());
    assert!(
        stdout(&again)
            .contains("TNS-01106: Listener using listener name LSNR2 has already been started")
    );
    let (_s, p) = raw_connect(port, &descriptor(port, "(SERVICE_NAME=nope)"));
    assert_eq!(refuse_code(&p), 12514);
    // A second listener on the same port fails the way Oracle's does.
    let mut ora = listener_ora("LSNR2", port, &[("ORCL", Some(SERVICE))], &[]);
    ora.push_str(&listener_ora("LSNR3", port, &[], &[]));
    home.write_admin("listener.ora", &ora);
    let clash = home.lsnrctl(&["start", "LSNR3"]);
    assert!(!clash.status.success());
    assert!(
        stdout(&clash).contains(&format!(
            "Error listening on: (DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT={port})))\nTNS-12542: TNS:address already in use\n TNS-12560: TNS:protocol adapter error\n  TNS-00512: Address already in use\n   Linux Error: 98: Address already in use\n"
        )),
        "{}",
        stdout(&clash)
    );
    assert!(stdout(&clash).contains("Listener failed to start."));
    let pid: u32 = std::fs::read_to_string(home.path().join("network/run/lsnr2.pid"))
        .expect("pid file")
        .trim()
        .parse()
        .expect("pid");
    assert_eq!(title_of(pid), "tnslsnr LSNR2");
    let stop = home.lsnrctl(&["stop", "LSNR2"]);
    assert!(stop.status.success(), "{}", stdout(&stop));
    // lsnrctl stop returns once the listener process is gone.
    assert!(
        !matches!(stat_of(pid), Some((_, s)) if s != 'Z'),
        "{:?}",
        stat_of(pid)
    );
    assert!(!home.lsnrctl(&["status", "LSNR2"]).status.success());
    let unknown = home.lsnrctl(&["status", "NOSUCH"]);
    assert!(!unknown.status.success());
    assert!(
        stdout(&unknown).contains("TNS-01101: Could not find listener name or service name NOSUCH"),
        "{}",
        stdout(&unknown)
    );
}

/// Layout source: Oracle Database Net Services Reference, "Listener Control Utility",
/// "SET and SHOW Commands of the Listener Control utility" and the SHOW command (bare SHOW
/// lists "The following operations are available after show"; `@file` batch mode).
#[test]
fn lsnrctl_batch_file_and_bare_show() {
    let home = TestHome::new();
    let l = start(&home, &[]);
    let batch = home.path().join("cmds.lsnr");
    std::fs::write(
        &batch,
        "REM Oracle's batch mode: comments, then commands\n# another comment\n\n\
         set save_config_on_stop on\nshow save_config_on_stop\nshow trc_directory\n\
         set displaymode verbose\nshow rawmode\nshow\n",
    )
    .expect("batch file");
    let out = home.lsnrctl(&[&format!("@{}", batch.display())]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("LISTENER parameter \"save_config_on_stop\" set to ON\nThe command completed successfully"),
        "{text}"
    );
    assert_eq!(
        text.matches("save_config_on_stop\" set to ON").count(),
        2,
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "LISTENER parameter \"trc_directory\" set to {}",
            home.path().join("network/trace").display()
        )),
        "{text}"
    );
    assert!(text.contains("Service display mode is VERBOSE\n"), "{text}");
    assert!(text.contains("Raw mode is OFF\n"), "{text}");
    assert!(
        text.contains("The following operations are available after show\n"),
        "{text}"
    );
    assert!(!text.contains("TNS-01153"), "{text}");
    drop(l);
}

/// `lsnrctl set trc_level support` then `lsnrctl show trc_level`, byte for byte the layout of
/// `listener/testdata/lsnrctl_show_param.txt` (source named in its README) after the banner;
/// only the host and port of the `Connecting to` line, which a test cannot choose, are
/// normalised to the documented ones.
#[test]
fn lsnrctl_show_param_is_the_documented_layout() {
    let home = TestHome::new();
    let l = start(&home, &[]);
    let body = |out: &std::process::Output| {
        let text = stdout(out);
        let from = text
            .find("Connecting to ")
            .unwrap_or_else(|| panic!("no Connecting line: {text}"));
        text[from..]
            .replace("(HOST=127.0.0.1)", "(HOST=sales-server)")
            .replace(&format!("(PORT={})", l.port), "(PORT=1521)")
    };
    let out = home.lsnrctl(&["set", "trc_level", "support"]);
    assert!(out.status.success(), "{}", stdout(&out));
    let out = home.lsnrctl(&["show", "trc_level"]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert_eq!(
        body(&out),
        include_str!("../../listener/testdata/lsnrctl_show_param.txt")
    );
    drop(l);
}

/// Layout source: Oracle Database Net Services Administrator's Guide, "Using the TNSPING
/// Utility to Test Connectivity from the Client", Example "Checking a Listener with TNSPING"
/// (banner, "Used parameter files:", "Used TNSNAMES adapter to resolve the alias",
/// "Attempting to contact <descriptor as written>", "OK (n msec)" per attempt).
#[test]
fn tnsping_prints_ok_through_tnsnames_and_ezconnect_and_fails_without_listener() {
    let home = TestHome::new();
    let mut l = start(&home, &[]);
    home.write_admin(
        "tnsnames.ora",
        &format!("ORCL =\n  (DESCRIPTION =\n    (ADDRESS = (PROTOCOL = TCP)(HOST = 127.0.0.1)(PORT = {}))\n    (CONNECT_DATA = (SERVICE_NAME = {SERVICE})))\n", l.port),
    );
    let tnsping = |args: &[&str]| {
        tests::procs::run_with_timeout(
            std::process::Command::new(tests::procs::bin("tnsping"))
                .args(args)
                .env("ORACLE_HOME", home.path())
                .env_remove("TNS_ADMIN"),
            WAIT,
        )
    };
    let out = tnsping(&["orcl", "3"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("TNS Ping Utility for Linux: Version 19.0.0.0.0 - Production on "),
        "{text}"
    );
    assert!(
        text.contains("Used TNSNAMES adapter to resolve the alias\n"),
        "{text}"
    );
    assert!(
        // As written in tnsnames.ora (Oracle's tnsping joins the entry's lines).
        text.contains(&format!(
            "Attempting to contact (DESCRIPTION = (ADDRESS = (PROTOCOL = TCP)(HOST = 127.0.0.1)(PORT = {})) (CONNECT_DATA = (SERVICE_NAME = {SERVICE})))\n",
            l.port
        )),
        "{text}"
    );
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("OK (") && l.ends_with(" msec)"))
            .count(),
        3,
        "{text}"
    );

    let ez = format!("127.0.0.1:{}/whatever", l.port);
    let out = tnsping(&[&ez]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("Used EZCONNECT adapter to resolve the alias\n"));
    assert!(home.listener_log().contains(" * ping * 0\n"));

    let out = tnsping(&["--help"]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("Usage: tnsping <address> [<count>]"));
    assert!(!stdout(&out).contains("TNS-03505"));

    let out = tnsping(&["nosuchalias"]);
    assert!(!out.status.success());
    assert!(stdout(&out).contains("TNS-03505: Failed to resolve name"));

    assert!(home.lsnrctl(&["stop"]).status.success());
    assert!(l.wait_exit(WAIT));
    let out = tnsping(&["orcl"]);
    assert!(!out.status.success());
    assert!(
        stdout(&out)
            .trim_end()
            .ends_with("TNS-12541: TNS:no listener"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn log_directory_parameter_moves_listener_log() {
    let home = TestHome::new();
    let dir = home.path().join("custom_log");
    let d = dir.display().to_string();
    let l = start(&home, &[("LOG_DIRECTORY", &d), ("LOG_FILE", "lsnr_test")]);
    let (_s, p) = raw_connect(l.port, &descriptor(l.port, "(SERVICE_NAME=nope)"));
    assert_eq!(refuse_code(&p), 12514);
    let path = dir.join("lsnr_test.log");
    let status = stdout(&home.lsnrctl(&["status"]));
    assert!(
        status.contains(&format!("Listener Log File         {}\n", path.display())),
        "{status}"
    );
    let log = std::fs::read_to_string(&path).expect("listener log in LOG_DIRECTORY");
    assert!(log.contains("* establish * nope * 12514"), "{log}");
    assert!(home.listener_log().is_empty());
}

#[test]
fn admin_socket_serves_only_the_listener_owner() {
    let home = TestHome::new();
    let l = start(&home, &[]);
    // The owner is served.
    assert!(home.lsnrctl(&["status"]).status.success());
    // Another user who can reach the socket is refused with TNS-01189 (SO_PEERCRED). Only
    // root can act as another user; this suite runs as root on CI and here.
    assert!(
        nix::unistd::getuid().is_root(),
        "this test needs root to impersonate another uid"
    );
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let sock = listener::home::OracleHome::with_admin(home.path().to_path_buf(), None)
        .admin_socket(&l.name);
    for p in [
        home.path().to_path_buf(),
        sock.parent().expect("run dir").to_path_buf(),
    ] {
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod dir");
    }
    std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o777)).expect("chmod socket");
    let out = tests::procs::run_with_timeout(
        std::process::Command::new(tests::procs::bin("lsnrctl"))
            .arg("status")
            .env("ORACLE_HOME", home.path())
            .uid(65534)
            .gid(65534),
        WAIT,
    );
    assert!(!out.status.success());
    assert!(
        stdout(&out).contains("TNS-01189: The listener could not authenticate the user"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn python_logs_in_through_the_listener_and_its_dedicated_server() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let home = TestHome::new();
    // A password-file user for SID ORCL in this ORACLE_HOME (dbs/orapwORCL).
    tests::procs::add_user(home.path(), "ORCL", "scott", "tiger");
    let l = start(&home, &[]);
    let spawner = spawner_of(&l);
    let script = r#"
import json, sys, oracledb
c = oracledb.connect(user="scott", password="tiger", dsn=sys.argv[1])
cur = c.cursor()
cur.execute("select user, 1 + 1 from dual")
print(json.dumps(cur.fetchone()), flush=True)
sys.stdin.readline()
c.close()
print("closed", flush=True)
"#;
    let mut py = Command::new(tests::pyenv::python())
        .arg("-c")
        .arg(script)
        .arg(format!("127.0.0.1:{}/{SERVICE}", l.port))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python");
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut stdin = py.stdin.take().expect("stdin");
    let stdout_pipe = py.stdout.take().expect("stdout");
    let mut guard = Kill(py);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout_pipe).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let first = rx.recv_timeout(WAIT).unwrap_or_else(|_| {
        let _ = guard.0.kill();
        let mut err = String::new();
        if let Some(mut e) = guard.0.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        panic!("python produced no result: {err}")
    });
    assert_eq!(first, "[\"SCOTT\", 2]");
    // The session runs in a forked dedicated server titled after the SID.
    let kids = children_of(spawner);
    assert_eq!(kids.len(), 1, "{kids:?}");
    assert_eq!(title_of(kids[0]), "oracleORCL (LOCAL=NO)");
    stdin.write_all(b"\n").expect("tell python to close");
    assert_eq!(rx.recv_timeout(WAIT).expect("closed line"), "closed");
    assert!(
        wait_until(WAIT, || stat_of(kids[0]).is_none()),
        "dedicated server left behind"
    );
    let services = stdout(&home.lsnrctl(&["services"]));
    assert!(
        services.contains("\"DEDICATED\" established:1 refused:0"),
        "{services}"
    );
}

#[test]
fn lsnrctl_reads_commands_at_its_prompt() {
    use std::process::{Command, Stdio};
    let home = TestHome::new();
    let l = start(&home, &[]);
    let mut child = Command::new(tests::procs::bin("lsnrctl"))
        .env("ORACLE_HOME", home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("lsnrctl");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"services\nshow inbound_connect_timeout\nexit\n")
        .expect("commands");
    // Killed (and the test failed) if it does not leave its prompt in time.
    let output = tests::instance::wait_output(child, WAIT);
    let out = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{out}");
    assert!(out.contains("LSNRCTL> "), "{out}");
    assert!(
        out.contains(&format!("Service \"{SERVICE}\" has 1 instance(s).")),
        "{out}"
    );
    assert!(
        out.contains("LISTENER parameter \"inbound_connect_timeout\" set to 60"),
        "{out}"
    );
    drop(l);
}

#[test]
fn a_killed_spawner_is_replaced_and_the_old_one_reaped() {
    let home = TestHome::new();
    // Dynamic registration runs threads in the listener: the new spawner is exec'd.
    let l = start(&home, &[]);
    let old = spawner_of(&l);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(old as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill spawner");
    assert!(wait_until(WAIT, || matches!(
        stat_of(old),
        None | Some((_, 'Z'))
    )));
    let (_s, p) = raw_connect(
        l.port,
        &descriptor(l.port, &format!("(SERVICE_NAME={SERVICE})")),
    );
    assert!(matches!(p, Packet::Accept(_)), "{p:?}");
    let new = spawner_of(&l);
    assert_ne!(new, old);
    assert_eq!(title_of(new), "tnslsnr LISTENER spawner");
    // The old one was reaped by the listener, not left as a zombie.
    assert!(stat_of(old).is_none(), "{:?}", stat_of(old));
    assert_eq!(children_of(new).len(), 1);
}

#[test]
fn titles_fit_even_when_started_with_a_short_command_line() {
    let home = TestHome::new();
    let l = ListenerProc::start_short(&home, "LISTENER", |port| {
        listener_ora("LISTENER", port, &[("ORCLLONGSID", None)], &[])
    });
    assert_eq!(title_of(l.pid()), "tnslsnr LISTENER");
    let spawner = spawner_of(&l);
    assert_eq!(title_of(spawner), "tnslsnr LISTENER spawner");
    let (_s, p) = raw_connect(l.port, &descriptor(l.port, "(SID=ORCLLONGSID)"));
    assert!(matches!(p, Packet::Accept(_)), "{p:?}");
    let kids = children_of(spawner);
    assert_eq!(kids.len(), 1);
    assert_eq!(title_of(kids[0]), "oracleORCLLONGSID (LOCAL=NO)");
}

#[test]
fn a_connection_storm_gets_one_server_each_and_all_are_reaped() {
    let home = TestHome::new();
    let l = start(&home, &[]);
    let spawner = spawner_of(&l);
    let port = l.port;
    let handles: Vec<_> = (0..40)
        .map(|_| {
            std::thread::spawn(move || {
                let (s, p) = raw_connect(
                    port,
                    &descriptor(port, &format!("(SERVICE_NAME={SERVICE})")),
                );
                assert!(matches!(p, Packet::Accept(_)), "{p:?}");
                s
            })
        })
        .collect();
    let socks: Vec<TcpStream> = handles
        .into_iter()
        .map(|h| h.join().expect("client thread"))
        .collect();
    let kids = children_of(spawner);
    assert_eq!(kids.len(), 40);
    drop(socks);
    // SIGCHLD deliveries merge; the spawner still reaps every one of them.
    assert!(
        wait_until(WAIT, || kids.iter().all(|k| stat_of(*k).is_none())),
        "left: {:?}",
        kids.iter().filter_map(|k| stat_of(*k)).collect::<Vec<_>>()
    );
    let services = stdout(&home.lsnrctl(&["services"]));
    assert!(
        services.contains("\"DEDICATED\" established:40 refused:0"),
        "{services}"
    );
}

#[test]
fn valid_node_checking_rejects_excluded_clients_until_reload_invites_them() {
    let home = TestHome::new();
    home.write_admin(
        "sqlnet.ora",
        "TCP.VALIDNODE_CHECKING = YES\nTCP.EXCLUDED_NODES = (127.0.0.1)\n",
    );
    let l = start(&home, &[]);
    let mut s = TcpStream::connect(("127.0.0.1", l.port)).expect("connect");
    s.set_read_timeout(Some(WAIT)).expect("timeout");
    let local = s.local_addr().expect("local").port();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).expect("closed by the listener");
    assert!(buf.is_empty());
    let text = python_stdout(PY_CONNECT, &[&format!("127.0.0.1:{}/{SERVICE}", l.port)]);
    assert!(text.contains("DPY-6005"), "{text}");
    assert!(!text.contains("DPY-6001"), "{text}");
    let log = home.listener_log();
    assert!(
        log.contains(&format!(
            " * 12546\nTNS-12546: TNS:permission denied\n TNS-12560: TNS:protocol adapter error\n  TNS-00516: Permission denied\n Client address: (ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT={local}))\n"
        )),
        "{log}"
    );

    home.write_admin("sqlnet.ora", "TCP.VALIDNODE_CHECKING = YES\nTCP.INVITED_NODES = (10.0.0.1, 127.0.0.0/8)\nTCP.EXCLUDED_NODES = (127.0.0.1)\n");
    assert!(home.lsnrctl(&["reload"]).status.success());
    let (_s, p) = raw_connect(l.port, &descriptor(l.port, "(SERVICE_NAME=nope)"));
    assert_eq!(refuse_code(&p), 12514);
}

#[test]
fn rate_limit_queues_connections_instead_of_refusing_them() {
    let home = TestHome::new();
    let l = ListenerProc::start(&home, "LISTENER", |port| {
        listener_ora("LISTENER", port, &[("ORCL", Some(SERVICE))], &[]).replace(
            &format!("(PORT = {port}))"),
            &format!("(PORT = {port})(RATE_LIMIT = 2))"),
        )
    });
    assert!(home.admin_dir().join("listener.ora").exists());
    let port = l.port;
    let handles: Vec<_> = (0..7)
        .map(|_| {
            std::thread::spawn(move || {
                let (_s, p) = raw_connect(port, &descriptor(port, "(SERVICE_NAME=nope)"));
                refuse_code(&p)
            })
        })
        .collect();
    // Every client is served (none refused for the rate), just not all in the same second.
    for h in handles {
        assert_eq!(h.join().expect("client"), 12514);
    }
    // The listener's debug trace names the rate window (wall-clock second) of every accept.
    let trace = std::fs::read_to_string(home.path().join("tnslsnr.err")).expect("trace");
    let mut per_window: std::collections::BTreeMap<String, usize> =
        std::collections::BTreeMap::new();
    for line in trace.lines().filter(|l| l.contains("accepted")) {
        let w = line
            .split("rate_window=")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .expect("window");
        *per_window.entry(w.to_string()).or_default() += 1;
    }
    assert_eq!(per_window.values().sum::<usize>(), 7, "{trace}");
    assert!(
        per_window.values().all(|n| *n <= 2),
        "more than RATE_LIMIT=2 per second: {per_window:?}"
    );
    assert!(per_window.len() >= 4, "{per_window:?}");
    let log = home.listener_log();
    assert!(
        log.contains("TNS-01158: Internal connection limit reached"),
        "{log}"
    );
}

#[test]
fn save_config_persists_runtime_settings_like_oracle() {
    let home = TestHome::new();
    let l = start(&home, &[]);
    assert!(
        home.lsnrctl(&["set", "inbound_connect_timeout", "9"])
            .status
            .success()
    );
    let trace = stdout(&home.lsnrctl(&["trace", "support"]));
    assert!(
        trace.contains("LISTENER parameter \"trc_level\" set to support"),
        "{trace}"
    );
    let out = home.lsnrctl(&["save_config"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    let ora = home.admin_dir().join("listener.ora");
    let bak = home.admin_dir().join("listener.bak");
    assert!(
        text.contains(&format!(
            "Saved LISTENER configuration parameters.\nListener Parameter File   {}\nOld Parameter File   {}\nThe command completed successfully\n",
            ora.display(),
            bak.display()
        )),
        "{text}"
    );
    let saved = std::fs::read_to_string(&ora).expect("listener.ora");
    assert!(saved.contains("#----ADDED BY TNSLSNR "), "{saved}");
    assert!(saved.contains("INBOUND_CONNECT_TIMEOUT_LISTENER = 9\nTRACE_LEVEL_LISTENER = SUPPORT\nLOGGING_LISTENER = ON\n"), "{saved}");
    assert_eq!(
        std::fs::read_to_string(&bak).expect("bak"),
        listener_ora("LISTENER", l.port, &[("ORCL", Some(SERVICE))], &[])
    );
    // The saved values survive a reload (which re-reads the file).
    assert!(home.lsnrctl(&["reload"]).status.success());
    assert!(stdout(&home.lsnrctl(&["show", "inbound_connect_timeout"])).contains("set to 9"));
    assert!(stdout(&home.lsnrctl(&["status"])).contains("Trace Level               support\n"));
}

#[test]
fn sighup_reloads_like_lsnrctl_reload() {
    let home = TestHome::new();
    let l = start(&home, &[]);
    home.write_admin(
        "listener.ora",
        &listener_ora(
            "LISTENER",
            l.port,
            &[("ORCL", Some(SERVICE)), ("HUP", Some("hup.example.com"))],
            &[],
        ),
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(l.pid() as i32),
        nix::sys::signal::Signal::SIGHUP,
    )
    .expect("SIGHUP");
    assert!(
        wait_until(WAIT, || stdout(&home.lsnrctl(&["services"]))
            .contains("Service \"hup.example.com\"")),
        "{}",
        stdout(&home.lsnrctl(&["services"]))
    );
    // Still the same process, still serving.
    let (_s, p) = raw_connect(
        l.port,
        &descriptor(l.port, "(SERVICE_NAME=hup.example.com)"),
    );
    assert!(matches!(p, Packet::Accept(_)), "{p:?}");
    assert!(stat_of(l.pid()).is_some());
}

#[test]
fn default_service_takes_connects_that_name_none() {
    let home = TestHome::new();
    let l = start(&home, &[("DEFAULT_SERVICE", SERVICE)]);
    let (_s, p) = raw_connect(l.port, &descriptor(l.port, "(SERVER=dedicated)"));
    assert!(matches!(p, Packet::Accept(_)), "{p:?}");
    let status = stdout(&home.lsnrctl(&["status"]));
    assert!(
        status.contains(&format!("Default Service           {SERVICE}\n")),
        "{status}"
    );
    assert!(stdout(&home.lsnrctl(&["services"])).contains("\"DEDICATED\" established:1 refused:0"));
    assert!(
        home.listener_log()
            .contains(&format!("* establish * {SERVICE} * 0\n"))
    );
}

/// Pid (among `candidates`) whose descriptors include the server side of `client`.
fn server_of(client: &TcpStream, listener_port: u16, candidates: &[u32]) -> Option<u32> {
    let port = client.local_addr().ok()?.port();
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let inode = table.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        let lp = u16::from_str_radix(f.get(1)?.rsplit(':').next()?, 16).ok()?;
        let rp = u16::from_str_radix(f.get(2)?.rsplit(':').next()?, 16).ok()?;
        (lp == listener_port && rp == port).then(|| f.get(9).map(|s| s.to_string()))?
    })?;
    let needle = format!("socket:[{inode}]");
    candidates
        .iter()
        .copied()
        .find(|p| fds_of(*p).iter().any(|(_, t)| *t == needle))
}

#[test]
fn prespawned_servers_wait_idle_and_take_connections() {
    let home = TestHome::new();
    let l = ListenerProc::start(&home, "LISTENER", |port| {
        format!(
            "LISTENER = (DESCRIPTION_LIST = (DESCRIPTION = (ADDRESS = (PROTOCOL = TCP)(HOST = 127.0.0.1)(PORT = {port}))))\n\n\
             SID_LIST_LISTENER =\n  (SID_LIST =\n    (SID_DESC =\n      (GLOBAL_DBNAME = {SERVICE})\n      (SID_NAME = ORCL)\n      (PRESPAWN_MAX = 4)\n      (PRESPAWN_LIST =\n        (PRESPAWN_DESC = (PROTOCOL = TCP)(POOL_SIZE = 2)(TIMEOUT = 1)))))\n"
        )
    });
    let spawner = spawner_of(&l);
    let mut idle = Vec::new();
    assert!(
        wait_until(WAIT, || {
            idle = children_of(spawner);
            idle.len() == 2 && idle.iter().all(|p| title_of(*p) == "oracleORCL (LOCAL=NO)")
        }),
        "{idle:?}"
    );
    // The connection goes to one of the servers that were already waiting.
    let (session, p) = raw_connect(
        l.port,
        &descriptor(l.port, &format!("(SERVICE_NAME={SERVICE})")),
    );
    assert!(matches!(p, Packet::Accept(_)), "{p:?}");
    let served = server_of(&session, l.port, &idle).expect("a prespawned server holds the client");
    // ...and the pool is refilled.
    assert!(
        wait_until(WAIT, || children_of(spawner).len() == 3),
        "{:?}",
        children_of(spawner)
    );
    drop(session);
    assert!(
        wait_until(WAIT, || stat_of(served).is_none()),
        "{:?}",
        stat_of(served)
    );
    assert_eq!(children_of(spawner).len(), 2);
    // Stopping the listener releases the idle servers; the spawner then exits too.
    let mut l = l;
    assert!(home.lsnrctl(&["stop"]).status.success());
    assert!(l.wait_exit(WAIT));
    assert!(wait_until(WAIT, || idle
        .iter()
        .chain([&spawner])
        .all(|p| !matches!(stat_of(*p), Some((_, s)) if s != 'Z'))));
}

/// A PRESPAWN pool belongs to the static SID_DESC that configures it: a client of a service
/// the running instance registered (same SID) gets a server forked for it, not one of the
/// idle ones, while a client of the SID_DESC's GLOBAL_DBNAME gets an idle one.
#[test]
fn prespawned_servers_take_only_clients_of_their_own_sid_desc() {
    let sid = tests::shared_stack::own_sid("PSSD");
    let home = TestHome::new();
    let pre = format!("pre_{}", sid.to_ascii_lowercase());
    let l = ListenerProc::start(&home, "LISTENER", |port| {
        format!(
            "LISTENER = (DESCRIPTION_LIST = (DESCRIPTION = (ADDRESS = (PROTOCOL = TCP)(HOST = 127.0.0.1)(PORT = {port}))))\n\n\
             SID_LIST_LISTENER = (SID_LIST = (SID_DESC = (GLOBAL_DBNAME = {pre})(SID_NAME = {sid})\
             (PRESPAWN_MAX = 4)(PRESPAWN_LIST = (PRESPAWN_DESC = (PROTOCOL = TCP)(POOL_SIZE = 2)))))\n"
        )
    });
    let dynamic = format!("dyn_{}", sid.to_ascii_lowercase());
    let inst = tests::instance::TestHome::for_listener_with_sid(
        l.port,
        &sid,
        &format!("service_names='{dynamic}'\n"),
    );
    let _instance = inst.start_foreground();
    assert!(
        wait_until(WAIT, || stdout(&home.lsnrctl(&["services"])).contains(
            &format!(
                "Service \"{dynamic}\" has 1 instance(s).\n  Instance \"{sid}\", status READY"
            )
        )),
        "{}",
        stdout(&home.lsnrctl(&["services"]))
    );
    let spawner = spawner_of(&l);
    let mut idle = Vec::new();
    assert!(
        wait_until(WAIT, || {
            idle = children_of(spawner);
            idle.len() == 2
                && idle
                    .iter()
                    .all(|p| title_of(*p) == format!("oracle{sid} (LOCAL=NO)"))
        }),
        "{idle:?}"
    );
    // The registered service: a server of its own, the idle ones stay idle.
    let (registered, p) = raw_connect(
        l.port,
        &descriptor(
            l.port,
            &format!("(SERVICE_NAME={dynamic})(SERVER=DEDICATED)"),
        ),
    );
    assert!(matches!(p, Packet::Accept(_)), "{p:?}");
    assert_eq!(server_of(&registered, l.port, &idle), None);
    let forked = server_of(&registered, l.port, &children_of(spawner))
        .expect("a server forked for the client holds it");
    assert!(!idle.contains(&forked));
    // The SID_DESC's own service: one of the idle servers.
    let (configured, p) = raw_connect(
        l.port,
        &descriptor(l.port, &format!("(SERVICE_NAME={pre})(SERVER=DEDICATED)")),
    );
    assert!(matches!(p, Packet::Accept(_)), "{p:?}");
    assert!(
        server_of(&configured, l.port, &idle).is_some(),
        "a prespawned server holds the client of its SID_DESC"
    );
}

#[test]
fn tnsping_fails_over_to_the_next_address() {
    let home = TestHome::new();
    let l = start(&home, &[]);
    let dead = tests::procs::free_port();
    home.write_admin(
        "tnsnames.ora",
        &format!(
            "TWO =\n  (DESCRIPTION =\n    (ADDRESS_LIST =\n      (ADDRESS = (PROTOCOL = TCP)(HOST = 127.0.0.1)(PORT = {dead}))\n      (ADDRESS = (PROTOCOL = TCP)(HOST = 127.0.0.1)(PORT = {})))\n    (CONNECT_DATA = (SERVICE_NAME = {SERVICE})))\n",
            l.port
        ),
    );
    let out = tests::procs::run_with_timeout(
        std::process::Command::new(tests::procs::bin("tnsping"))
            .arg("two")
            .env("ORACLE_HOME", home.path())
            .env_remove("TNS_ADMIN"),
        WAIT,
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.lines().any(|l| l.starts_with("OK (")), "{text}");
}

/// A one-connection TCP relay on 127.0.0.1:0 to `target`, recording what the server side
/// sends back to the client.
fn recording_relay(target: u16) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<u8>>>) {
    use std::net::{Shutdown, TcpListener};
    use std::sync::{Arc, Mutex};
    let l = TcpListener::bind("127.0.0.1:0").expect("bind relay");
    let port = l.local_addr().expect("relay addr").port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    std::thread::spawn(move || {
        let Ok((client, _)) = l.accept() else { return };
        let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
            return;
        };
        for s in [&client, &server] {
            let _ = s.set_read_timeout(Some(WAIT));
            let _ = s.set_write_timeout(Some(WAIT));
        }
        let (Ok(mut c_in), Ok(mut s_out)) = (client.try_clone(), server.try_clone()) else {
            return;
        };
        let up = std::thread::spawn(move || {
            let _ = std::io::copy(&mut c_in, &mut s_out);
            let _ = s_out.shutdown(Shutdown::Write);
        });
        let (mut s_in, mut c_out) = (server, client);
        let mut buf = [0u8; 8192];
        while let Ok(n) = s_in.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen2
                .lock()
                .map(|mut v| v.extend_from_slice(&buf[..n]))
                .ok();
            if c_out.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = c_out.shutdown(Shutdown::Write);
        let _ = up.join();
    });
    (port, seen)
}

/// The hex value of the server's `AUTH_SESSKEY` in the bytes it sent (the first run of 32+
/// hex digits after the key name).
fn server_sesskey(bytes: &[u8]) -> Option<String> {
    let key = b"AUTH_SESSKEY";
    let at = bytes.windows(key.len()).position(|w| w == key)? + key.len();
    let tail = &bytes[at..bytes.len().min(at + 200)];
    tail.split(|b| !b.is_ascii_hexdigit())
        .find(|run| run.len() >= 32)
        .map(|run| String::from_utf8_lossy(run).into_owned())
}

fn rust_login(port: u16) -> client::Connection {
    let opts = client::ConnectOptions {
        resolver: config::naming::Resolver::default(),
        ..client::ConnectOptions::default()
    };
    client::Connection::connect_with(
        &format!("127.0.0.1:{port}/{SERVICE}"),
        "scott",
        "tiger",
        &opts,
    )
    .unwrap_or_else(|e| panic!("login through port {port}: {e}"))
}

fn select_n(c: &mut client::Connection, n: i64) -> String {
    let r = c
        .query(&format!("select {n} from dual"))
        .unwrap_or_else(|e| panic!("select {n}: {e}"));
    r.rows[0][0].to_string()
}

#[test]
fn forked_servers_give_out_different_o5logon_session_keys() {
    // Each dedicated server is a fork of the same spawner: without a reseed after the fork
    // two of them would draw the same "random" server session key for the same user.
    let home = TestHome::new();
    tests::procs::add_user(home.path(), "ORCL", "scott", "tiger");
    let l = start(&home, &[]);
    let mut keys = Vec::new();
    for _ in 0..3 {
        let (relay, seen) = recording_relay(l.port);
        let mut c = rust_login(relay);
        assert_eq!(select_n(&mut c, 1), "1");
        c.close().expect("close");
        let bytes = seen.lock().map(|v| v.clone()).unwrap_or_default();
        let key = server_sesskey(&bytes).expect("AUTH_SESSKEY in the server's challenge");
        assert!(key.len() >= 64, "{key}");
        keys.push(key);
    }
    for i in 0..keys.len() {
        for j in i + 1..keys.len() {
            assert_ne!(
                keys[i], keys[j],
                "servers {i} and {j} drew the same session key"
            );
        }
    }
}

#[test]
fn lsnrctl_reload_leaves_established_sessions_working() {
    let home = TestHome::new();
    tests::procs::add_user(home.path(), "ORCL", "scott", "tiger");
    let l = start(&home, &[]);
    let mut c = rust_login(l.port);
    assert_eq!(select_n(&mut c, 1), "1");
    home.write_admin(
        "listener.ora",
        &listener_ora(
            "LISTENER",
            l.port,
            &[
                ("ORCL", Some(SERVICE)),
                ("SALES", Some("sales.example.com")),
            ],
            &[],
        ),
    );
    let reload = home.lsnrctl(&["reload"]);
    assert!(reload.status.success(), "{}", stdout(&reload));
    let services = stdout(&home.lsnrctl(&["services"]));
    assert!(services.contains("sales.example.com"), "{services}");
    // The session opened before the reload still answers, and a new one logs in too.
    assert_eq!(select_n(&mut c, 2), "2");
    c.ping().expect("ping after reload");
    let mut c2 = rust_login(l.port);
    assert_eq!(select_n(&mut c2, 3), "3");
    assert_eq!(select_n(&mut c, 4), "4");
    c2.close().expect("close new session");
    c.close().expect("close old session");
}

/// The accept backlog of the socket listening on `port`, as `ss -ltn` shows it (Send-Q of
/// a listening socket). Needs `ss` (iproute2): without it the test fails rather than skips.
fn ss_backlog(port: u16) -> Option<u32> {
    let out = tests::procs::run_with_timeout(
        std::process::Command::new("ss").args(["-ltnH", &format!("sport = :{port}")]),
        WAIT,
    );
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = text.lines().find(|l| l.starts_with("LISTEN"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

#[test]
fn queuesize_sets_the_listen_backlog() {
    let home = TestHome::new();
    let l = ListenerProc::start(&home, "LISTENER", |port| {
        listener_ora("LISTENER", port, &[("ORCL", Some(SERVICE))], &[]).replace(
            &format!("(PORT = {port}))"),
            &format!("(PORT = {port})(QUEUESIZE = 37))"),
        )
    });
    assert_eq!(ss_backlog(l.port), Some(37));
    drop(l);
    let home = TestHome::new();
    let l = start(&home, &[]);
    assert_eq!(ss_backlog(l.port), Some(128), "default QUEUESIZE");
}

/// Whether descriptor `fd` of process `pid` (a TCP socket) has TCP_NODELAY set, read through
/// a duplicate obtained with `pidfd_getfd(2)` (Linux 5.6+, needs ptrace rights: the tests
/// run as the owner of the process). `None` if it cannot be read.
fn nodelay_of(pid: u32, fd: u32) -> Option<bool> {
    use nix::libc;
    use std::os::fd::{FromRawFd, OwnedFd};
    let pid = libc::pid_t::try_from(pid).ok()?;
    let fd = libc::c_int::try_from(fd).ok()?;
    // SAFETY: pidfd_open(pid, 0) only reads its two integer arguments and returns a new
    // descriptor or -1.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let pidfd = libc::c_int::try_from(pidfd).ok().filter(|f| *f >= 0)?;
    // SAFETY: `pidfd` was just returned by the kernel and is owned by nothing else.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
    // SAFETY: pidfd_getfd(pidfd, fd, 0) only reads integer arguments and returns a new
    // descriptor in this process or -1.
    let dup = unsafe {
        libc::syscall(
            libc::SYS_pidfd_getfd,
            std::os::fd::AsRawFd::as_raw_fd(&pidfd),
            fd,
            0,
        )
    };
    let dup = libc::c_int::try_from(dup).ok().filter(|f| *f >= 0)?;
    // SAFETY: `dup` was just returned by the kernel and is owned by nothing else; closing
    // it leaves the server's own descriptor and the connection untouched.
    let stream = TcpStream::from(unsafe { OwnedFd::from_raw_fd(dup) });
    stream.nodelay().ok()
}

#[test]
fn a_client_that_stalls_after_accept_is_closed_at_the_inbound_connect_timeout() {
    let home = TestHome::new();
    home.write_admin("sqlnet.ora", "SQLNET.INBOUND_CONNECT_TIMEOUT = 2\n");
    let l = start(&home, &[]);
    // 200 clients that stop right after ACCEPT, each holding a dedicated server.
    let opened = std::time::Instant::now();
    let mut crowd: Vec<TcpStream> = (0..200)
        .map(|i| {
            let (s, p) = raw_connect(
                l.port,
                &descriptor(l.port, &format!("(SERVICE_NAME={SERVICE})")),
            );
            assert!(matches!(p, Packet::Accept(_)), "client {i}: {p:?}");
            s
        })
        .collect();
    let opening = opened.elapsed();
    let (mut session, p) = raw_connect(
        l.port,
        &descriptor(l.port, &format!("(SERVICE_NAME={SERVICE})")),
    );
    assert!(matches!(p, Packet::Accept(_)), "{p:?}");
    let started = std::time::Instant::now();
    // The client says nothing more; its dedicated server closes the connection after 2 s
    // (ORA-03136 in its log) instead of waiting for the login forever.
    session
        .set_read_timeout(Some(std::time::Duration::from_secs(15)))
        .expect("timeout");
    let mut buf = [0u8; 64];
    let n = match session.read(&mut buf) {
        Ok(n) => n,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => 0,
        Err(e) => panic!("expected the server to close, got {e}"),
    };
    assert_eq!(n, 0, "the server closes without a word");
    let waited = started.elapsed();
    assert!(
        waited >= std::time::Duration::from_millis(1500)
            && waited < std::time::Duration::from_secs(12),
        "closed after {waited:?}"
    );
    // The 200 were closed too, by the same timeout counted from each one's hand-off.
    for (i, s) in crowd.iter_mut().enumerate() {
        s.set_read_timeout(Some(std::time::Duration::from_secs(15)))
            .expect("timeout");
        let mut buf = [0u8; 64];
        match s.read(&mut buf) {
            Ok(0) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            other => panic!("stalled client {i}: expected the server to close, got {other:?}"),
        }
    }
    let all = opened.elapsed();
    assert!(
        all < opening + std::time::Duration::from_secs(12),
        "the 200 closed {all:?} after the first opened ({opening:?} to open them)"
    );
    eprintln!("200 stalled clients opened in {opening:?}, all closed {all:?} after the first");
}

#[test]
fn control_bytes_in_a_descriptor_make_exactly_one_listener_log_line() {
    let home = TestHome::new();
    let l = start(&home, &[]);
    let before = home.listener_log().lines().count();
    let (_s, p) = raw_connect(
        l.port,
        &descriptor(l.port, "(SERVICE_NAME=no\nsuch\r\0svc)"),
    );
    let code = refuse_code(&p);
    assert!(wait_until(WAIT, || home
        .listener_log()
        .contains(&format!("TNS-{code}: "))));
    let log = home.listener_log();
    let added: Vec<&str> = log.lines().skip(before).collect();
    // The connect line and its TNS- line, nothing forged by the client's newline.
    assert_eq!(added.len(), 2, "{added:#?}");
    assert!(added[0].contains("no\\x0Asuch\\x0D\\x00svc"), "{added:#?}");
    assert!(added[1].starts_with(&format!("TNS-{code}: ")), "{added:#?}");
    assert!(!log.contains('\0'));
}

/// True when `line` is `[DD-MON-YYYY HH24:MI:SS:FFF] procedure: message` (Oracle Net trace
/// layout with TRACE_TIMESTAMP, Net Services Administrator's Guide, "Evaluating Oracle Net
/// Services Trace Files") or a packet-dump line `[..] nsp...:XX XX ...  |text|`.
fn oracle_trace_line(line: &str) -> bool {
    let b = line.as_bytes();
    let stamp_ok = b.len() > 27
        && b[0] == b'['
        && b[1..3].iter().all(u8::is_ascii_digit)
        && b[3] == b'-'
        && b[4..7].iter().all(u8::is_ascii_uppercase)
        && b[7] == b'-'
        && b[8..12].iter().all(u8::is_ascii_digit)
        && &line[12..13] == " "
        && b[15] == b':'
        && b[18] == b':'
        && b[21] == b':'
        && b[22..25].iter().all(u8::is_ascii_digit)
        && &line[25..27] == "] ";
    let rest = &line[27.min(line.len())..];
    let procedure = rest.split(':').next().unwrap_or_default();
    stamp_ok && procedure.starts_with("ns") && procedure.chars().all(|c| c.is_ascii_alphanumeric())
}

#[test]
fn trace_level_writes_an_oracle_layout_trace_that_lsnrctl_set_moves_and_stops() {
    let home = TestHome::new();
    let l = start(&home, &[("TRACE_LEVEL", "ADMIN")]);
    let (_s, p) = raw_connect(l.port, &descriptor(l.port, "(SERVICE_NAME=nope)"));
    assert_eq!(refuse_code(&p), 12514);
    let status = stdout(&home.lsnrctl(&["status"]));
    let trc = home.path().join("network/trace/listener.trc");
    assert!(
        status.contains(&format!("Listener Trace File       {}\n", trc.display())),
        "{status}"
    );
    let text = std::fs::read_to_string(&trc).expect("listener.trc");
    assert!(text.lines().all(oracle_trace_line), "{text}");
    for want in [
        "] nsglma: entry\n",
        &format!(
            "] nsglma: Listening on: (DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT={})))\n",
            l.port
        ),
        "] nsglhc: new connection from ",
        "] nsglfc: service \"nope\": refused with TNS-12514\n",
        "] nspsend: plen=",
        "] nsglrespond: control request ",
    ] {
        assert!(text.contains(want), "{want:?} missing:\n{text}");
    }
    // ADMIN has no packet dumps.
    assert!(!text.contains("packet dump"), "{text}");

    // SUPPORT into another directory and file, at run time: packets are dumped there.
    let moved = tempfile::tempdir().expect("tempdir");
    let dir = moved.path().display().to_string();
    for (p, v) in [
        ("trc_directory", dir.as_str()),
        ("trc_file", "moved"),
        ("trc_level", "support"),
    ] {
        let out = stdout(&home.lsnrctl(&["set", p, v]));
        assert!(out.contains("The command completed successfully"), "{out}");
    }
    let out = stdout(&home.lsnrctl(&["show", "trc_file"]));
    let new_trc = moved.path().join("moved.trc");
    assert!(
        out.contains(&format!("set to {}\n", new_trc.display())),
        "{out}"
    );
    let (_s, p) = raw_connect(l.port, &descriptor(l.port, "(SERVICE_NAME=nope2)"));
    assert_eq!(refuse_code(&p), 12514);
    let text = std::fs::read_to_string(&new_trc).expect("moved.trc");
    assert!(text.lines().all(oracle_trace_line), "{text}");
    assert!(text.contains("] nsprecv:packet dump\n"), "{text}");
    assert!(text.contains("] nspsend:packet dump\n"), "{text}");
    // The CONNECT's first bytes: its length, then type 1.
    assert!(
        text.lines()
            .any(|l| l.contains("] nsprecv:") && l.contains(" 00 00 01 00 00 00  |")),
        "{text}"
    );
    assert!(!std::fs::read_to_string(&trc).unwrap().contains("nope2"));

    // OFF: nothing more is written.
    let out = stdout(&home.lsnrctl(&["set", "trc_level", "off"]));
    assert!(out.contains("The command completed successfully"), "{out}");
    let before = std::fs::read_to_string(&new_trc).unwrap().len();
    let (_s, p) = raw_connect(l.port, &descriptor(l.port, "(SERVICE_NAME=nope3)"));
    assert_eq!(refuse_code(&p), 12514);
    assert_eq!(std::fs::read_to_string(&new_trc).unwrap().len(), before);
}
