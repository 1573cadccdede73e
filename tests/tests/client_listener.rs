//! The Rust client and `orasql` through the real `tnslsnr` (ephemeral port, static
//! SID_DESC) and the dedicated server process it forks: refusals as the listener sends
//! them, a session in a process titled `oracleORCL (LOCAL=NO)` that is gone after
//! `close()`, failover from a dead address to the listener, and `orasql` from stdin.

use std::time::Duration;

use client::{ConnectOptions, Connection};
use tests::client_harness::{NamingDir, dead_port, run_orasql};
use tests::procs::{
    ListenerProc, TestHome, WAIT, children_of, stat_of, static_orcl_listener, title_of, wait_until,
};

const SERVICE: &str = "orcl.example.com";

/// A home with user SCOTT/tiger for SID ORCL and a listener with a static SID_DESC.
fn setup() -> (TestHome, ListenerProc) {
    static_orcl_listener(SERVICE)
}

fn no_naming() -> ConnectOptions {
    ConnectOptions {
        resolver: config::naming::Resolver::default(),
        ..ConnectOptions::default()
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

#[test]
fn session_through_tnslsnr_and_no_server_process_after_close() {
    let (_home, l) = setup();
    let spawner = spawner_of(&l);
    let dsn = format!("127.0.0.1:{}/{SERVICE}", l.port);
    let mut c = Connection::connect_with(&dsn, "scott", "tiger", &no_naming()).expect("connect");
    let servers = children_of(spawner);
    assert_eq!(servers.len(), 1, "{servers:?}");
    let server = servers[0];
    assert_eq!(title_of(server), "oracleORCL (LOCAL=NO)");
    let r = c.query("select 1 from dual").expect("select 1");
    assert_eq!(r.rows[0][0].as_i64(), Some(1));
    let r = c.query("select 1 from dual").expect("select 1 again");
    assert_eq!(r.rows[0][0].as_i64(), Some(1));
    assert_eq!(c.stats().reexecutes, 1);
    let n: i64 = c
        .execute("SELECT LEVEL FROM DUAL CONNECT BY LEVEL <= 1000")
        .expect("levels")
        .map(|r| r.expect("row")[0].as_i64().expect("int"))
        .sum();
    assert_eq!(n, 500_500);
    let e = c.query("select * from missing_table").unwrap_err();
    assert_eq!(e.code(), Some(942));
    let r = c
        .query("select sys_context('USERENV','SERVICE_NAME'), sys_context('USERENV','INSTANCE_NAME') from dual")
        .expect("sys_context");
    assert_eq!(r.rows[0][1].as_str(), Some("ORCL"));
    c.ping().expect("ping");
    c.commit().expect("commit");
    c.rollback().expect("rollback");
    c.close().expect("close");
    assert!(
        wait_until(WAIT, || stat_of(server).is_none()),
        "dedicated server {server} still there after close: {:?}",
        stat_of(server)
    );
    assert!(children_of(spawner).is_empty());

    let e = Connection::connect_with(&dsn, "scott", "wrong", &no_naming()).unwrap_err();
    assert_eq!(e.code(), Some(1017), "{e}");
}

#[test]
fn listener_refusals_reach_the_client_as_ora_codes() {
    let (_home, l) = setup();
    let e = Connection::connect_with(
        &format!("127.0.0.1:{}/NOSUCH", l.port),
        "scott",
        "tiger",
        &no_naming(),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "ORA-12514: TNS:listener does not currently know of service requested in connect descriptor"
    );
    let e = Connection::connect_with(
        &format!(
            "(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT={}))(CONNECT_DATA=(SID=NOSID)))",
            l.port
        ),
        "scott",
        "tiger",
        &no_naming(),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "ORA-12505: TNS:listener does not currently know of SID given in connect descriptor"
    );
}

#[test]
fn failover_to_the_listener_and_orasql_from_stdin() {
    let (_home, l) = setup();
    let dead = dead_port();
    let naming = NamingDir::with_tnsnames(&format!(
        "orcl =\n  (DESCRIPTION =\n    (ADDRESS_LIST =\n      (ADDRESS = (PROTOCOL = TCP)(HOST = 127.0.0.1)(PORT = {dead}))\n      (ADDRESS = (PROTOCOL = TCP)(HOST = 127.0.0.1)(PORT = {})))\n    (CONNECT_DATA = (SERVICE_NAME = {SERVICE})))\n",
        l.port
    ));
    let o = ConnectOptions {
        resolver: naming.resolver(),
        ..ConnectOptions::default()
    };
    let mut c = Connection::connect_with("orcl", "scott", "tiger", &o).expect("failover");
    assert_eq!(
        c.query("select 1 from dual").expect("select").rows[0][0].as_i64(),
        Some(1)
    );
    c.close().expect("close");

    let out = run_orasql(
        &["scott/tiger@orcl"],
        "select user from dual;\nselect 1 from dual\n/\nexit\n",
        Some(&naming.path()),
        Duration::from_secs(60),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("USER\n-----"), "{stdout}");
    assert!(stdout.contains("\nSCOTT\n"), "{stdout}");
    assert!(
        stdout.contains("         1\n----------\n         1\n\n"),
        "{stdout}"
    );
}

#[test]
fn fifty_cycles_through_the_listener_leave_no_server_process() {
    let (_home, l) = setup();
    let spawner = spawner_of(&l);
    let dsn = format!("127.0.0.1:{}/{SERVICE}", l.port);
    for i in 0..50 {
        let mut c =
            Connection::connect_with(&dsn, "scott", "tiger", &no_naming()).expect("connect");
        let r = c
            .query("select sys_context('USERENV','SID') from dual")
            .expect("query");
        assert_eq!(
            r.rows[0][0].to_string(),
            c.session_info().session_id.to_string(),
            "cycle {i}"
        );
        c.close().expect("close");
    }
    assert!(
        wait_until(WAIT, || children_of(spawner).is_empty()),
        "dedicated servers left behind: {:?}",
        children_of(spawner)
    );
}
