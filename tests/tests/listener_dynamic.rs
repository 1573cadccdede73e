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
