//! DRCP end to end (real listener, real `oradb`, python-oracledb 26.1.0): the pool started
//! with `DBMS_CONNECTION_POOL.START_POOL`, the connection broker N000 registered as the
//! service's pooled handler, pooled servers (real processes forked by the listener's
//! spawner) serving `:pooled` connections and keeping their sessions between clients.

use std::collections::HashSet;

use std::time::Duration;

use serde_json::json;
use tests::instance::wait_for;
use tests::instance_py::PyDriver;
use tests::shared_stack::{PASSWORD, SharedStack, USER, own_sid};

fn start_pool(py: &mut PyDriver) {
    let r = py.exec("dba", "begin dbms_connection_pool.start_pool(); end;");
    assert!(r.ok(), "start_pool: {}", r.json);
}

/// The stack for test `n`: SID `DR<n>P<pid>`, so that concurrent runs of this file (other
/// worktrees on the same machine) never share an SGA segment.
fn stack(n: u32) -> (SharedStack, PyDriver) {
    stack_as(&format!("DR{n}"))
}

/// The stack with SID `<tag>P<pid>`.
fn stack_as(tag: &str) -> (SharedStack, PyDriver) {
    let sid = own_sid(tag);
    let stack = SharedStack::start(&sid, "", 0);
    let mut py = PyDriver::start();
    py.connect("dba", &stack.dsn("dedicated"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("dba connect: {}\n{}", r.json, stack.home.alert_log()));
    (stack, py)
}

#[test]
fn pooled_connections_before_and_after_start_pool() {
    let (stack, mut py) = stack(1);
    // The pool is created INACTIVE: no pooled handler, Oracle's ORA-12520.
    let r = py.connect("early", &stack.dsn("pooled"), USER, PASSWORD);
    let e = r.expect_err("pooled connect before START_POOL");
    assert!(e.error().contains("ORA-12520"), "{}", e.json);
    let info = py.exec("dba", "select status, minsize, maxsize, incrsize, inactivity_timeout, max_think_time, max_use_session, max_lifetime_session, num_cbrok, maxconn_cbrok from dba_cpool_info");
    assert_eq!(
        info.result(),
        &json!([["INACTIVE", 4, 40, 2, 300, 120, 500000, 86400, 1, 40000]]),
        "{}",
        info.json
    );
    start_pool(&mut py);
    // lsnrctl shows the broker as the service's pooled handler (the listener takes in
    // registrations at least once a second).
    let shown = wait_for(Duration::from_secs(5), || {
        let services = stack.services();
        (services.contains("\"N000\" established:0 refused:0 current:0 max:40000 state:ready")
            && services.contains("CMON <machine: "))
        .then_some(())
    });
    assert!(shown.is_some(), "{}", stack.services());
    // The broker and the connection monitor are in V$PROCESS.
    let r = py.exec(
        "dba",
        "select pname from v$process where pname = 'N000' or pname = 'CMON' order by pname",
    );
    assert_eq!(r.result(), &json!([["CMON"], ["N000"]]), "{}", r.json);
    // 200 sequential connect / select 1 / close cycles, all of one connection class with
    // purity SELF (a standalone connection's default purity is NEW: never a hit).
    let mut pids = HashSet::new();
    for i in 0..200 {
        let name = format!("c{i}");
        let r = py.call(
            json!({"op": "connect", "name": name, "dsn": stack.dsn("pooled"),
            "user": USER, "password": PASSWORD, "cclass": "HPLOOP", "purity": "SELF"}),
        );
        assert!(r.ok(), "pooled connect {i}: {}", r.json);
        let spid = r.result()["spid"].as_u64().unwrap();
        let r = py.exec(&name, "select 1 from dual");
        assert_eq!(r.result(), &json!([[1]]), "{}", r.json);
        let r = py.call(json!({"op": "close", "name": name}));
        assert!(r.ok(), "{}", r.json);
        pids.insert(spid);
    }
    assert!(
        !pids.is_empty() && pids.len() <= 40,
        "pooled server processes used: {pids:?}"
    );
    let stats = py.exec(
        "dba",
        "select num_requests, num_hits, num_misses, historic_max from v$cpool_stats",
    );
    let row = &stats.result()[0];
    let (requests, hits, misses) = (
        row[0].as_u64().unwrap(),
        row[1].as_u64().unwrap(),
        row[2].as_u64().unwrap(),
    );
    assert!(
        requests >= 200 && hits + misses == requests,
        "{}",
        stats.json
    );
    assert!(hits > 0, "{}", stats.json);
    // The pooled servers' sessions stay between clients, as SERVER = POOLED.
    let servers = py.exec(
        "dba",
        "select count(*) from v$session where server = 'POOLED' and username = 'SCOTT'",
    );
    let held = servers.result()[0][0].as_u64().unwrap();
    assert!(held >= 1 && held <= pids.len() as u64, "{}", servers.json);
}

fn ident(py: &mut PyDriver, name: &str) -> serde_json::Value {
    let r = py.exec(
        name,
        "select sys_context('USERENV','CLIENT_IDENTIFIER') from dual",
    );
    assert!(r.ok(), "{}", r.json);
    r.result()[0][0].clone()
}

fn connect_with(py: &mut PyDriver, stack: &SharedStack, name: &str, cclass: &str, purity: &str) {
    let r = py.call(
        json!({"op": "connect", "name": name, "dsn": stack.dsn("pooled"),
        "user": USER, "password": PASSWORD, "cclass": cclass, "purity": purity}),
    );
    assert!(r.ok(), "{}", r.json);
}

#[test]
fn purity_self_reuses_the_session_of_its_class_only() {
    let (stack, mut py) = stack(2);
    start_pool(&mut py);
    let sql = "select sys_context('USERENV','CLIENT_IDENTIFIER') from dual";
    let r = py.call(
        json!({"op": "pool", "name": "app1", "dsn": stack.dsn("pooled"),
        "user": USER, "password": PASSWORD, "min": 1, "max": 1,
        "cclass": "HPAPP1", "purity": "SELF"}),
    );
    assert!(r.ok(), "{}", r.json);
    // Acquisition 1 sets the session's identifier.
    let r = py.call(json!({"op": "pool_exec", "name": "app1", "sql": sql,
        "client_identifier": "hp-state-1"}));
    assert_eq!(r.result(), &json!([["hp-state-1"]]), "{}", r.json);
    // Another class never sees it.
    connect_with(&mut py, &stack, "other", "HPAPP2", "SELF");
    assert_eq!(ident(&mut py, "other"), json!(null));
    assert!(py.call(json!({"op": "close", "name": "other"})).ok());
    // A later acquisition of the same class gets the same session back.
    for _ in 0..3 {
        let r = py.call(json!({"op": "pool_exec", "name": "app1", "sql": sql}));
        assert_eq!(r.result(), &json!([["hp-state-1"]]), "{}", r.json);
    }
    // The pool's connection is held by the broker between acquisitions (V$CPOOL_CONN_INFO).
    let held = wait_for(Duration::from_secs(3), || {
        let r = py.exec(
            "dba",
            "select username, cclass_name, purity, connection_status from v$cpool_conn_info",
        );
        (r.result() == &json!([["SCOTT", "SCOTT.HPAPP1", "SELF", "IDLE"]])).then_some(())
    });
    assert!(
        held.is_some(),
        "{}",
        py.exec("dba", "select * from v$cpool_conn_info").json
    );
    // Never an acquisition or a connection with purity NEW. (python-oracledb's thin pool
    // sends the purity of the pool's parameters at login: `acquire(purity=NEW)` on a SELF
    // pool only opens another connection, whose login says SELF. A pool made with purity
    // NEW says NEW at login and at every session get.)
    let r = py.call(
        json!({"op": "pool", "name": "fresh", "dsn": stack.dsn("pooled"),
        "user": USER, "password": PASSWORD, "min": 1, "max": 1,
        "cclass": "HPAPP1", "purity": "NEW"}),
    );
    assert!(r.ok(), "{}", r.json);
    for _ in 0..2 {
        let r = py.call(json!({"op": "pool_exec", "name": "fresh", "sql": sql}));
        assert_eq!(r.result(), &json!([[null]]), "{}", r.json);
    }
    connect_with(&mut py, &stack, "new", "HPAPP1", "NEW");
    assert_eq!(ident(&mut py, "new"), json!(null));
    assert!(py.call(json!({"op": "close", "name": "new"})).ok());
    let cc = py.exec(
        "dba",
        "select cclass_name, num_requests, num_hits, num_misses from v$cpool_cc_stats order by cclass_name",
    );
    assert!(cc.ok(), "{}", cc.json);
    let rows = cc.result().as_array().unwrap().clone();
    let app1 = rows
        .iter()
        .find(|r| r[0] == json!("SCOTT.HPAPP1"))
        .unwrap_or_else(|| panic!("{}", cc.json));
    // The three later acquisitions were hits (the first one may come before the pool's
    // creating connection was released); the login, the NEW pool's login and acquisitions
    // and the NEW connection were misses.
    let n = |i: usize| app1[i].as_u64().unwrap();
    assert!(n(2) >= 3 && n(3) >= 4 && n(1) == n(2) + n(3), "{}", cc.json);
    assert!(
        rows.iter().any(|r| r[0] == json!("SCOTT.HPAPP2")),
        "{}",
        cc.json
    );
}

fn alter_param(py: &mut PyDriver, name: &str, value: &str) {
    let r = py.exec(
        "dba",
        &format!("begin dbms_connection_pool.alter_param('', '{name}', '{value}'); end;"),
    );
    assert!(r.ok(), "alter_param {name}: {}", r.json);
}

fn pooled_server_pids(py: &mut PyDriver) -> HashSet<u64> {
    let r = py.exec("dba", "select spid, pname from v$process");
    assert!(r.ok(), "{}", r.json);
    r.result()
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| {
            // L000, L001, ... (not LREG).
            row[1].as_str().is_some_and(|p| {
                p.len() == 4 && p.starts_with('L') && p[1..].bytes().all(|b| b.is_ascii_digit())
            })
        })
        .map(|row| row[0].as_str().unwrap().parse().unwrap())
        .collect()
}

#[test]
fn at_maxsize_clients_wait_in_the_broker_and_all_finish() {
    let (stack, mut py) = stack(3);
    alter_param(&mut py, "MINSIZE", "1");
    alter_param(&mut py, "MAXSIZE", "2");
    start_pool(&mut py);
    // Five clients, each holding its pooled server for a one-second call.
    for i in 0..5 {
        let r = py.call(json!({"op": "connect_job", "name": format!("j{i}"),
            "dsn": stack.dsn("pooled"), "user": USER, "password": PASSWORD,
            "sql": "begin dbms_session.sleep(1); end;"}));
        assert!(r.ok(), "{}", r.json);
    }
    let mut spids = HashSet::new();
    let mut elapsed = Vec::new();
    for i in 0..5 {
        let r = py.call(json!({"op": "wait", "name": format!("j{i}"), "timeout": 30}));
        let job = r.result();
        assert_eq!(
            job["ok"],
            json!(true),
            "client {i} refused or failed: {job}\n{}",
            stack.home.alert_log()
        );
        spids.insert(job["result"][0]["spid"].as_u64().unwrap());
        elapsed.push(job["elapsed"].as_f64().unwrap());
    }
    assert!(
        spids.len() <= 2,
        "at most MAXSIZE pooled servers: {spids:?}"
    );
    elapsed.sort_by(f64::total_cmp);
    assert!(
        elapsed[4] >= 2.5,
        "the last client waited for two rounds of calls: {elapsed:?}"
    );
    let stats = py.exec("dba", "select num_waits, historic_max from v$cpool_stats");
    let row = &stats.result()[0];
    assert!(row[0].as_u64().unwrap() >= 3, "{}", stats.json);
    assert!(row[1].as_u64().unwrap() <= 2, "{}", stats.json);
}

#[test]
fn stop_pool_refuses_new_clients_and_lets_calls_finish() {
    let (stack, mut py) = stack(4);
    start_pool(&mut py);
    py.connect("busy", &stack.dsn("pooled"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("{}", r.json));
    let r = py.call(json!({"op": "start", "name": "busy",
        "sql": "begin dbms_session.sleep(2); end;"}));
    assert!(r.ok(), "{}", r.json);
    std::thread::sleep(Duration::from_millis(300));
    let r = py.exec("dba", "begin dbms_connection_pool.stop_pool(); end;");
    assert!(r.ok(), "stop_pool: {}", r.json);
    let e = py
        .connect("late", &stack.dsn("pooled"), USER, PASSWORD)
        .expect_err("a pooled connect after STOP_POOL");
    assert!(e.error().contains("ORA-12520"), "{}", e.json);
    let r = py.call(json!({"op": "wait", "name": "busy", "timeout": 10}));
    assert_eq!(r.result()["ok"], json!(true), "{}", r.json);
    let r = py.exec("dba", "select status from dba_cpool_info");
    assert_eq!(r.result(), &json!([["INACTIVE"]]), "{}", r.json);
    // A second STOP_POOL: the pool is not running.
    let r = py.exec("dba", "begin dbms_connection_pool.stop_pool(); end;");
    assert_eq!(r.code(), Some(56506), "{}", r.json);
}

#[test]
fn a_killed_pooled_session_gets_ora_00028_and_the_pool_replaces_its_server() {
    let (stack, mut py) = stack(5);
    alter_param(&mut py, "MINSIZE", "2");
    start_pool(&mut py);
    let (sid, serial, spid) = py
        .connect("victim", &stack.dsn("pooled"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("{}", r.json));
    assert!(pooled_server_pids(&mut py).contains(&u64::from(spid)));
    let r = py.exec(
        "dba",
        &format!("alter system kill session '{sid},{serial}'"),
    );
    assert!(r.ok(), "{}", r.json);
    let r = py.exec("victim", "select 1 from dual");
    assert_eq!(r.code(), Some(28), "{}", r.json);
    let r = py.exec("victim", "select 1 from dual");
    assert!(
        !r.ok(),
        "the killed session's connection is closed: {}",
        r.json
    );
    // The killed session's server leaves; the pool is back at MINSIZE without it.
    let replaced = wait_for(Duration::from_secs(10), || {
        let pids = pooled_server_pids(&mut py);
        (!pids.contains(&u64::from(spid)) && pids.len() >= 2).then_some(pids)
    });
    assert!(replaced.is_some(), "{:?}", pooled_server_pids(&mut py));
    py.connect("after", &stack.dsn("pooled"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("{}", r.json));
    assert_eq!(
        py.exec("after", "select 1 from dual").result(),
        &json!([[1]])
    );
}

fn num_purged(py: &mut PyDriver) -> u64 {
    let r = py.exec("dba", "select num_purged from v$cpool_stats");
    r.result()[0][0]
        .as_u64()
        .unwrap_or_else(|| panic!("{}", r.json))
}

/// Waits until the pooled server `gone` has left and the pool is back at `minsize` servers
/// with at least one that was not there before (`before`); returns the new pids.
fn replaced(py: &mut PyDriver, gone: u32, before: &HashSet<u64>, minsize: usize) -> HashSet<u64> {
    let now = wait_for(Duration::from_secs(10), || {
        let pids = pooled_server_pids(py);
        (!pids.contains(&u64::from(gone))
            && pids.len() >= minsize
            && pids.iter().any(|p| !before.contains(p)))
        .then_some(pids)
    });
    now.unwrap_or_else(|| {
        panic!(
            "server {gone} replaced: before {before:?}, now {:?}",
            pooled_server_pids(py)
        )
    })
}

#[test]
fn kill_immediate_of_a_pooled_session_closes_its_connection_as_for_a_dedicated_one() {
    let (stack, mut py) = stack(10);
    alter_param(&mut py, "MINSIZE", "2");
    start_pool(&mut py);
    let (sid, serial, spid) = py
        .connect("victim", &stack.dsn("pooled"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("{}", r.json));
    let before = pooled_server_pids(&mut py);
    assert!(before.contains(&u64::from(spid)), "{before:?}");
    let purged = num_purged(&mut py);
    let r = py.exec(
        "dba",
        &format!("alter system kill session '{sid},{serial}' immediate"),
    );
    assert!(r.ok(), "{}", r.json);
    // As for a dedicated session: the server process ends, the client's next call finds
    // the connection closed (python-oracledb's DPY-4011), not ORA-00028.
    let r = py.exec("victim", "select 1 from dual");
    assert!(!r.ok(), "{}", r.json);
    assert!(r.error().contains("DPY-4011"), "{}", r.json);
    // The pool starts another server in its place and counts the session purged.
    replaced(&mut py, spid, &before, 2);
    assert_eq!(num_purged(&mut py), purged + 1);
    let (_, _, after) = py
        .connect("after", &stack.dsn("pooled"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("{}", r.json));
    assert_ne!(after, spid);
    assert_eq!(
        py.exec("after", "select 1 from dual").result(),
        &json!([[1]])
    );
}

#[test]
fn a_session_killed_while_parked_in_its_pooled_server_is_purged_and_replaced() {
    let (stack, mut py) = stack(11);
    alter_param(&mut py, "MINSIZE", "2");
    start_pool(&mut py);
    let r = py.call(
        json!({"op": "pool", "name": "p", "dsn": stack.dsn("pooled"),
        "user": USER, "password": PASSWORD, "min": 1, "max": 1,
        "cclass": "DRPARK", "purity": "SELF"}),
    );
    assert!(r.ok(), "{}", r.json);
    let sql = "select sys_context('USERENV','CLIENT_IDENTIFIER') from dual";
    let r = py.call(json!({"op": "pool_exec", "name": "p", "sql": sql,
        "client_identifier": "dr-parked"}));
    assert_eq!(r.result(), &json!([["dr-parked"]]), "{}", r.json);
    let r = py.call(json!({"op": "pool_session", "name": "p"}));
    let (sid, serial, spid) = (
        r.result()["sid"].as_u64().unwrap(),
        r.result()["serial"].as_u64().unwrap(),
        u32::try_from(r.result()["spid"].as_u64().unwrap()).unwrap(),
    );
    // Released: the client is with the broker, the session parked in server `spid`.
    let parked = wait_for(Duration::from_secs(3), || {
        let r = py.exec("dba", "select connection_status from v$cpool_conn_info");
        (r.result() == &json!([["IDLE"]])).then_some(())
    });
    assert!(
        parked.is_some(),
        "{}",
        py.exec("dba", "select * from v$cpool_conn_info").json
    );
    let before = pooled_server_pids(&mut py);
    let purged = num_purged(&mut py);
    let r = py.exec(
        "dba",
        &format!("alter system kill session '{sid},{serial}'"),
    );
    assert!(r.ok(), "{}", r.json);
    // The session and its server go; the pool starts another server.
    replaced(&mut py, spid, &before, 2);
    assert_eq!(num_purged(&mut py), purged + 1);
    let r = py.exec(
        "dba",
        &format!("select count(*) from v$session where sid = {sid} and serial# = {serial}"),
    );
    assert_eq!(r.result(), &json!([[0]]), "{}", r.json);
    // The client never saw it: its next acquisition works, with a fresh session.
    let r = py.call(json!({"op": "pool_exec", "name": "p", "sql": sql}));
    assert_eq!(r.result(), &json!([[null]]), "{}", r.json);
    let r = py.call(json!({"op": "pool_session", "name": "p"}));
    let again = (r.result()["sid"].as_u64(), r.result()["serial"].as_u64());
    assert_ne!(again, (Some(sid), Some(serial)), "{}", r.json);
}

#[test]
fn a_started_pool_starts_again_with_the_instance_until_stop_pool() {
    let (mut stack, mut py) = stack(6);
    alter_param(&mut py, "MAXSIZE", "7");
    start_pool(&mut py);
    // Each instance guard removes the SGA segment when dropped: the stopped instances' guards
    // are kept until the end of the test, not dropped while their successor runs.
    let mut instances: Vec<tests::instance::InstanceGuard> = Vec::new();
    let mut restart = |stack: &mut SharedStack| {
        let out = stack.home.run_oradb(&["shutdown", "immediate"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let running = instances.last_mut().unwrap_or(&mut stack.instance);
        assert!(running.wait_exit(Duration::from_secs(15)));
        instances.push(stack.home.start_foreground());
    };
    drop(py);
    restart(&mut stack);
    let mut py = PyDriver::start();
    dba_after_restart(&mut py, &stack);
    let r = py.exec("dba", "select status, maxsize from dba_cpool_info");
    assert_eq!(r.result(), &json!([["ACTIVE", 7]]), "{}", r.json);
    let pooled = wait_for(Duration::from_secs(10), || {
        py.connect("p", &stack.dsn("pooled"), USER, PASSWORD).ok()
    });
    assert!(pooled.is_some(), "the pool is back after the restart");
    assert!(py.call(json!({"op": "close", "name": "p"})).ok());
    let r = py.exec("dba", "begin dbms_connection_pool.stop_pool(); end;");
    assert!(r.ok(), "{}", r.json);
    drop(py);
    restart(&mut stack);
    let mut py = PyDriver::start();
    dba_after_restart(&mut py, &stack);
    let r = py.exec("dba", "select status, maxsize from dba_cpool_info");
    assert_eq!(r.result(), &json!([["INACTIVE", 7]]), "{}", r.json);
    let e = py
        .connect("p", &stack.dsn("pooled"), USER, PASSWORD)
        .expect_err("the stopped pool stays stopped");
    assert!(e.error().contains("ORA-12520"), "{}", e.json);
}

fn dba_after_restart(py: &mut PyDriver, stack: &SharedStack) {
    let mut last = String::new();
    let connected = wait_for(Duration::from_secs(10), || {
        match py.connect("dba", &stack.dsn("dedicated"), USER, PASSWORD) {
            Ok(_) => Some(()),
            Err(r) => {
                last = r.json.to_string();
                None
            }
        }
    });
    assert!(connected.is_some(), "{last}\n{}", stack.home.alert_log());
}

#[test]
fn max_think_time_disconnects_an_idle_client_and_frees_its_server() {
    let (stack, mut py) = stack(7);
    alter_param(&mut py, "MINSIZE", "1");
    alter_param(&mut py, "MAXSIZE", "1");
    alter_param(&mut py, "MAX_THINK_TIME", "1");
    start_pool(&mut py);
    py.connect("idle", &stack.dsn("pooled"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("{}", r.json));
    assert_eq!(
        py.exec("idle", "select 1 from dual").result(),
        &json!([[1]])
    );
    std::thread::sleep(Duration::from_millis(2500));
    let r = py.exec("idle", "select 1 from dual");
    assert!(!r.ok(), "the idle client lost its connection: {}", r.json);
    // The only pooled server is free again for another client.
    py.connect("next", &stack.dsn("pooled"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("{}", r.json));
    assert_eq!(
        py.exec("next", "select 1 from dual").result(),
        &json!([[1]])
    );
    let r = py.exec("dba", "select client_req_timeouts from v$cpool_stats");
    assert_eq!(r.result(), &json!([[1]]), "{}", r.json);
}

#[test]
fn inactivity_timeout_retires_idle_servers_down_to_minsize() {
    let (stack, mut py) = stack(8);
    alter_param(&mut py, "MINSIZE", "1");
    alter_param(&mut py, "INACTIVITY_TIMEOUT", "1");
    start_pool(&mut py);
    for i in 0..3 {
        let r = py.call(json!({"op": "connect_job", "name": format!("j{i}"),
            "dsn": stack.dsn("pooled"), "user": USER, "password": PASSWORD,
            "sql": "begin dbms_session.sleep(1); end;"}));
        assert!(r.ok(), "{}", r.json);
    }
    for i in 0..3 {
        let r = py.call(json!({"op": "wait", "name": format!("j{i}"), "timeout": 30}));
        assert_eq!(r.result()["ok"], json!(true), "{}", r.json);
    }
    let r = py.exec("dba", "select historic_max from v$cpool_stats");
    assert!(
        r.result()[0][0].as_u64().unwrap() >= 2,
        "the pool grew: {}",
        r.json
    );
    let shrunk = wait_for(Duration::from_secs(10), || {
        (pooled_server_pids(&mut py).len() == 1).then_some(())
    });
    assert!(shrunk.is_some(), "{:?}", pooled_server_pids(&mut py));
    let r = py.exec("dba", "select num_open_servers from v$cpool_stats");
    assert_eq!(r.result(), &json!([[1]]), "{}", r.json);
}

#[test]
fn max_use_session_and_max_lifetime_session_replace_a_session() {
    let (stack, mut py) = stack(9);
    alter_param(&mut py, "MAX_USE_SESSION", "3");
    start_pool(&mut py);
    let sql = "select sys_context('USERENV','CLIENT_IDENTIFIER') from dual";
    let r = py.call(
        json!({"op": "pool", "name": "p", "dsn": stack.dsn("pooled"),
        "user": USER, "password": PASSWORD, "min": 1, "max": 1,
        "cclass": "HPUSE", "purity": "SELF"}),
    );
    assert!(r.ok(), "{}", r.json);
    let r = py.call(json!({"op": "pool_exec", "name": "p", "sql": sql,
        "client_identifier": "hp-use"}));
    assert_eq!(r.result(), &json!([["hp-use"]]), "{}", r.json);
    let seen: Vec<serde_json::Value> = (0..4)
        .map(|_| {
            let r = py.call(json!({"op": "pool_exec", "name": "p", "sql": sql}));
            assert!(r.ok(), "{}", r.json);
            r.result()[0][0].clone()
        })
        .collect();
    // Reused as it was, then replaced once it had served three requests.
    assert_eq!(seen[0], json!("hp-use"), "{seen:?}");
    let replaced = seen.iter().position(|v| v.is_null());
    assert!(replaced.is_some_and(|i| i <= 2), "{seen:?}");

    alter_param(&mut py, "MAX_USE_SESSION", "500000");
    alter_param(&mut py, "MAX_LIFETIME_SESSION", "1");
    let r = py.call(json!({"op": "pool_exec", "name": "p", "sql": sql,
        "client_identifier": "hp-life"}));
    assert_eq!(r.result(), &json!([["hp-life"]]), "{}", r.json);
    std::thread::sleep(Duration::from_millis(1500));
    let r = py.call(json!({"op": "pool_exec", "name": "p", "sql": sql}));
    assert_eq!(
        r.result(),
        &json!([[null]]),
        "older than MAX_LIFETIME_SESSION: {}",
        r.json
    );
}

#[test]
fn the_broker_keeps_its_descriptor_reserve_and_probes_held_clients() {
    let sid = own_sid("DR13");
    let stack =
        SharedStack::start_configured(&sid, "", 0, Some(64), Some("SQLNET.EXPIRE_TIME = 1\n"));
    let mut py = PyDriver::start();
    py.connect("dba", &stack.dsn("dedicated"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("dba connect: {}\n{}", r.json, stack.home.alert_log()));
    alter_param(&mut py, "MINSIZE", "1");
    alter_param(&mut py, "MAXSIZE", "1");
    start_pool(&mut py);
    // A released pool connection is held by the broker, in `oradb`: SQLNET.EXPIRE_TIME
    // turned on keepalive probes on its socket (`ss -o` shows the keepalive timer).
    let r = py.call(
        json!({"op": "pool", "name": "p", "dsn": stack.dsn("pooled"),
        "user": USER, "password": PASSWORD, "min": 1, "max": 1,
        "cclass": "DRKA", "purity": "SELF"}),
    );
    assert!(r.ok(), "{}", r.json);
    let r = py.call(json!({"op": "pool_exec", "name": "p", "sql": "select 1 from dual"}));
    assert_eq!(r.result(), &json!([[1]]), "{}", r.json);
    let owner = format!("pid={},", stack.instance.pid());
    let held = wait_for(Duration::from_secs(5), || {
        let out = std::process::Command::new("ss")
            .args(["-tnopH", "state", "established"])
            .output()
            .expect("ss");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let mine: Vec<String> = text
            .lines()
            .filter(|l| l.contains(&owner))
            .map(str::to_string)
            .collect();
        (!mine.is_empty()).then_some(mine)
    });
    let held = held.expect("the broker holds the released connection");
    assert!(
        held.iter().all(|l| l.contains("timer:(keepalive")),
        "{held:#?}"
    );
    // The only pooled server busy with one client: the next ones wait in the broker, each
    // holding one of `oradb`'s 64 descriptors, until only the reserve is left; then the
    // broker refuses with ORA-12519, as a full dispatcher does, and says so once.
    py.connect("hold", &stack.dsn("pooled"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("{}", r.json));
    for i in 0..40 {
        let r = py.call(json!({"op": "connect_job", "name": format!("j{i}"),
            "dsn": stack.dsn("pooled"), "user": USER, "password": PASSWORD,
            "sql": "select 1 from dual"}));
        assert!(r.ok(), "{}", r.json);
    }
    let refusing = wait_for(Duration::from_secs(10), || {
        stack
            .home
            .alert_log()
            .contains("N000: cannot take more connections (RLIMIT_NOFILE reached")
            .then_some(())
    });
    assert!(refusing.is_some(), "{}", stack.home.alert_log());
    // The client holding the server still answers; when it leaves, the waiting ones run.
    assert_eq!(
        py.exec("hold", "select 1 from dual").result(),
        &json!([[1]])
    );
    assert!(py.call(json!({"op": "close", "name": "hold"})).ok());
    let (mut served, mut refused) = (0, 0);
    for i in 0..40 {
        let r = py.call(json!({"op": "wait", "name": format!("j{i}"), "timeout": 60}));
        let job = r.result();
        if job["ok"] == json!(true) {
            served += 1;
        } else {
            let e = job["error"].as_str().unwrap_or_default();
            assert!(e.contains("ORA-12519"), "client {i}: {job}");
            refused += 1;
        }
    }
    assert!(
        served >= 1 && refused >= 1,
        "served {served}, refused {refused}"
    );
    // Nothing was freed by mistake, and with the load gone the broker takes clients again.
    assert_eq!(py.exec("dba", "select 1 from dual").result(), &json!([[1]]));
    py.connect("after", &stack.dsn("pooled"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("{}\n{}", r.json, stack.home.alert_log()));
    assert!(
        stack
            .home
            .alert_log()
            .contains("N000: taking connections again")
    );
}

fn pool_session(py: &mut PyDriver, pool: &str) -> (u64, u64, u64) {
    let r = py.call(json!({"op": "pool_session", "name": pool}));
    let v = r.result();
    let n = |k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{k} in {}", r.json));
    (n("sid"), n("serial"), n("spid"))
}

#[test]
fn purity_self_acquisitions_find_the_server_of_their_class_among_several() {
    let (stack, mut py) = stack(12);
    alter_param(&mut py, "MINSIZE", "3");
    start_pool(&mut py);
    let ready = wait_for(Duration::from_secs(10), || {
        (pooled_server_pids(&mut py).len() >= 3).then_some(())
    });
    assert!(ready.is_some(), "{:?}", pooled_server_pids(&mut py));
    let sql = "select sys_context('USERENV','CLIENT_IDENTIFIER') from dual";
    for (pool, class) in [("a", "DRA"), ("b", "DRB")] {
        let r = py.call(
            json!({"op": "pool", "name": pool, "dsn": stack.dsn("pooled"),
            "user": USER, "password": PASSWORD, "min": 1, "max": 1,
            "cclass": class, "purity": "SELF"}),
        );
        assert!(r.ok(), "{}", r.json);
        let r = py.call(json!({"op": "pool_exec", "name": pool, "sql": sql,
            "client_identifier": format!("dr-{pool}")}));
        assert_eq!(r.result(), &json!([[format!("dr-{pool}")]]), "{}", r.json);
    }
    let home_a = pool_session(&mut py, "a");
    let home_b = pool_session(&mut py, "b");
    assert_ne!(
        home_a.2, home_b.2,
        "each class's session lives in its own server"
    );
    for round in 0..3 {
        // A standalone login of a third class in between (its class is known only once
        // it has logged in): it takes an empty server, or gives up the session used least
        // recently — never one of the two classes' sessions, used after it.
        wait_pool_idle(&mut py);
        connect_with(&mut py, &stack, "c", "DRC", "SELF");
        assert_eq!(ident(&mut py, "c"), json!(null));
        assert!(py.call(json!({"op": "close", "name": "c"})).ok());
        // The next logins must find c's server free again, or the class routing has no free
        // server of its class to claim (a just-closed client's server stays busy until its
        // release reaches the broker; Oracle hands out no busy server either).
        wait_pool_idle(&mut py);
        for (pool, home) in [("a", home_a), ("b", home_b)] {
            let r = py.call(json!({"op": "pool_exec", "name": pool, "sql": sql}));
            assert_eq!(
                r.result(),
                &json!([[format!("dr-{pool}")]]),
                "round {round}, pool {pool}: {}",
                r.json
            );
            assert_eq!(
                pool_session(&mut py, pool),
                home,
                "round {round}, pool {pool}"
            );
        }
    }
    // Purity NEW never sees a class's state.
    connect_with(&mut py, &stack, "n", "DRB", "NEW");
    assert_eq!(ident(&mut py, "n"), json!(null));
    assert!(py.call(json!({"op": "close", "name": "n"})).ok());
}

#[test]
fn at_maxconn_cbrok_new_pooled_clients_are_refused_with_ora_12519() {
    let (stack, mut py) = stack(14);
    alter_param(&mut py, "MINSIZE", "1");
    alter_param(&mut py, "MAXSIZE", "1");
    alter_param(&mut py, "MAXCONN_CBROK", "2");
    start_pool(&mut py);
    // Two connections with the broker: one holds the only server, one waits for it.
    py.connect("hold", &stack.dsn("pooled"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("{}", r.json));
    let r = py.call(json!({"op": "connect_job", "name": "waiting",
        "dsn": stack.dsn("pooled"), "user": USER, "password": PASSWORD,
        "sql": "select 1 from dual"}));
    assert!(r.ok(), "{}", r.json);
    let queued = wait_for(Duration::from_secs(5), || {
        let c = py.exec("dba", "select count(*) from v$cpool_conn_info");
        (c.result() == &json!([[2]])).then_some(())
    });
    assert!(
        queued.is_some(),
        "{}",
        py.exec("dba", "select * from v$cpool_conn_info").json
    );
    // The third is refused (by the listener once lreg reports the broker full, else by the
    // broker itself), with the code of a full handler.
    let e = py
        .connect("third", &stack.dsn("pooled"), USER, PASSWORD)
        .expect_err("a third connection at MAXCONN_CBROK = 2");
    assert!(e.error().contains("ORA-12519"), "{}", e.json);
    // The two it holds are served.
    assert_eq!(
        py.exec("hold", "select 1 from dual").result(),
        &json!([[1]])
    );
    assert!(py.call(json!({"op": "close", "name": "hold"})).ok());
    let r = py.call(json!({"op": "wait", "name": "waiting", "timeout": 20}));
    assert_eq!(r.result()["ok"], json!(true), "{}", r.json);
}

/// Connects with class `cclass` and purity SELF; the session (sid, serial, spid).
fn connect_self(
    py: &mut PyDriver,
    stack: &SharedStack,
    name: &str,
    cclass: &str,
) -> (u64, u64, u64) {
    let r = py.call(
        json!({"op": "connect", "name": name, "dsn": stack.dsn("pooled"),
        "user": USER, "password": PASSWORD, "cclass": cclass, "purity": "SELF"}),
    );
    assert!(r.ok(), "{}", r.json);
    let v = r.result();
    let n = |k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{k} in {}", r.json));
    (n("sid"), n("serial"), n("spid"))
}

/// Waits until no pooled server is busy (a closed client's release has reached the broker:
/// its server and session are free again).
fn wait_pool_idle(py: &mut PyDriver) {
    let idle = wait_for(Duration::from_secs(5), || {
        let r = py.exec("dba", "select num_busy_servers from v$cpool_stats");
        (r.result() == &json!([[0]])).then_some(())
    });
    assert!(
        idle.is_some(),
        "{}",
        py.exec("dba", "select * from v$cpool_stats").json
    );
}

#[test]
fn a_purity_self_login_finds_its_class_session_even_when_another_class_server_is_the_lru_one() {
    let (stack, mut py) = stack_as("P4R");
    // Two servers and no more: a new login lands on one of the two classes' servers.
    alter_param(&mut py, "MINSIZE", "2");
    alter_param(&mut py, "MAXSIZE", "2");
    start_pool(&mut py);
    let ready = wait_for(Duration::from_secs(10), || {
        (pooled_server_pids(&mut py).len() == 2).then_some(())
    });
    assert!(ready.is_some(), "{:?}", pooled_server_pids(&mut py));
    // Class P4A's session (it becomes the least recently used), then class P4B's.
    let mut homes = Vec::new();
    for class in ["P4A", "P4B"] {
        let home = connect_self(&mut py, &stack, "c", class);
        let r =
            py.call(json!({"op": "set_identifier", "name": "c", "value": format!("id-{class}")}));
        assert!(r.ok(), "{}", r.json);
        assert_eq!(ident(&mut py, "c"), json!(format!("id-{class}")));
        assert!(py.call(json!({"op": "close", "name": "c"})).ok());
        wait_pool_idle(&mut py);
        homes.push(home);
    }
    let (home_a, home_b) = (homes[0], homes[1]);
    assert_ne!(home_a.2, home_b.2, "each class's session in its own server");
    // A new login goes to an empty server, else the least recently used one, which here
    // holds the other class's session at least every other time: once its class is known
    // (AUTH phase two) the login claims its class's server and moves there, and the other
    // class's session stays as it was.
    for (i, class) in ["P4B", "P4B", "P4A", "P4A", "P4A"].into_iter().enumerate() {
        let got = connect_self(&mut py, &stack, "c", class);
        let home = if class == "P4A" { home_a } else { home_b };
        assert_eq!(got, home, "login {i} ({class})");
        assert_eq!(
            ident(&mut py, "c"),
            json!(format!("id-{class}")),
            "login {i}"
        );
        assert!(py.call(json!({"op": "close", "name": "c"})).ok());
        wait_pool_idle(&mut py);
    }
    // Purity NEW is never moved to a class's session.
    let r = py.call(
        json!({"op": "connect", "name": "n", "dsn": stack.dsn("pooled"),
        "user": USER, "password": PASSWORD, "cclass": "P4B", "purity": "NEW"}),
    );
    assert!(r.ok(), "{}", r.json);
    assert_eq!(ident(&mut py, "n"), json!(null));
    assert!(py.call(json!({"op": "close", "name": "n"})).ok());
    // Each login was one authentication and one request of its class: every later SELF
    // login a hit, moved or not.
    let cc = py.exec(
        "dba",
        "select cclass_name, num_requests, num_hits, num_authentications from v$cpool_cc_stats order by cclass_name",
    );
    let rows: Vec<&serde_json::Value> = cc
        .result()
        .as_array()
        .unwrap_or_else(|| panic!("{}", cc.json))
        .iter()
        .filter(|r| r[0].as_str().is_some_and(|c| c.starts_with("SCOTT.P4")))
        .collect();
    assert_eq!(
        rows,
        [
            &json!(["SCOTT.P4A", 4, 3, 4]),
            &json!(["SCOTT.P4B", 4, 2, 4])
        ],
        "{}",
        cc.json
    );
}

/// The `(name, established)` of the pooled handlers `lsnrctl services` shows for the first
/// service (N000, ...).
fn broker_handlers(services: &str) -> Vec<(String, u64)> {
    services
        .split("Service \"")
        .nth(1)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let name = l.strip_prefix("\"N")?.split('"').next()?;
            let established = l.split("established:").nth(1)?.split(' ').next()?;
            Some((format!("N{name}"), established.parse().ok()?))
        })
        .collect()
}

#[test]
fn num_cbrok_brokers_share_one_pool_and_the_listener_spreads_clients_over_them() {
    let (stack, mut py) = stack_as("P5");
    alter_param(&mut py, "NUM_CBROK", "2");
    alter_param(&mut py, "MINSIZE", "1");
    alter_param(&mut py, "MAXSIZE", "2");
    start_pool(&mut py);
    // Two brokers, each a pooled handler of the service.
    let shown = wait_for(Duration::from_secs(5), || {
        let names: Vec<String> = broker_handlers(&stack.services())
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        (names == ["N000", "N001"]).then_some(())
    });
    assert!(shown.is_some(), "{}", stack.services());
    let r = py.exec(
        "dba",
        "select pname, addr from v$process where pname = 'N000' or pname = 'N001' order by pname",
    );
    let brokers: Vec<(String, String)> = r
        .result()
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row[0].as_str().unwrap().into(),
                row[1].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        brokers.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["N000", "N001"],
        "{}",
        r.json
    );
    // `ps -L` names them: ora_n000_<SID>, ora_n001_<SID> (threads of oradb).
    let mut threads: Vec<String> =
        std::fs::read_dir(format!("/proc/{}/task", stack.instance.pid()))
            .unwrap()
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
            .map(|c| c.trim().to_string())
            .filter(|c| c.starts_with("ora_n0"))
            .collect();
    threads.sort();
    assert_eq!(threads.len(), 2, "{threads:?}");
    assert!(threads[0].starts_with("ora_n000_") && threads[1].starts_with("ora_n001_"));
    // Two clients at once: the listener hands them to the less loaded broker, one each,
    // and V$CPOOL_CONN_INFO.CMON_ADDR names the broker holding each.
    for name in ["a", "b"] {
        py.connect(name, &stack.dsn("pooled"), USER, PASSWORD)
            .unwrap_or_else(|r| panic!("{}\n{}", r.json, stack.home.alert_log()));
        let r = py.exec(name, "select 1 from dual");
        assert_eq!(r.result(), &json!([[1]]), "{}", r.json);
    }
    let r = py.exec("dba", "select cmon_addr from v$cpool_conn_info");
    let mut holders: Vec<String> = r
        .result()
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row[0].as_str().unwrap().to_string())
        .collect();
    holders.sort();
    let mut addrs: Vec<String> = brokers.iter().map(|(_, a)| a.clone()).collect();
    addrs.sort();
    assert_eq!(holders, addrs, "one client on each broker: {}", r.json);
    for name in ["a", "b"] {
        let r = py.call(json!({"op": "close", "name": name}));
        assert!(r.ok(), "{}", r.json);
    }
    // Five clients each holding a call: whichever broker holds them, they share the pool's
    // MAXSIZE = 2 servers, wait for them and all finish.
    for i in 0..5 {
        let r = py.call(json!({"op": "connect_job", "name": format!("j{i}"),
            "dsn": stack.dsn("pooled"), "user": USER, "password": PASSWORD,
            "sql": "begin dbms_session.sleep(0.5); end;"}));
        assert!(r.ok(), "{}", r.json);
    }
    let mut spids = HashSet::new();
    for i in 0..5 {
        let r = py.call(json!({"op": "wait", "name": format!("j{i}"), "timeout": 30}));
        let job = r.result();
        assert_eq!(job["ok"], json!(true), "client {i}: {job}");
        spids.insert(job["result"][0]["spid"].as_u64().unwrap());
    }
    assert!(spids.len() <= 2, "at most MAXSIZE servers: {spids:?}");
    assert!(pooled_server_pids(&mut py).len() <= 2);
    let stats = py.exec("dba", "select historic_max from v$cpool_stats");
    assert!(
        stats.result()[0][0].as_u64().unwrap() <= 2,
        "{}",
        stats.json
    );
    // The listener spread the seven connections over both brokers.
    let handlers = broker_handlers(&stack.services());
    assert!(
        handlers.len() == 2
            && handlers.iter().map(|(_, est)| est).sum::<u64>() == 7
            && handlers.iter().all(|(_, est)| *est >= 2),
        "{handlers:?}\n{}",
        stack.services()
    );
    // NUM_CBROK changes at the next START_POOL: the running pool keeps its two brokers.
    alter_param(&mut py, "NUM_CBROK", "1");
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(broker_handlers(&stack.services()).len(), 2);
    let r = py.exec("dba", "begin dbms_connection_pool.stop_pool(); end;");
    assert!(r.ok(), "stop_pool: {}", r.json);
    start_pool(&mut py);
    let one = wait_for(Duration::from_secs(5), || {
        let names: Vec<String> = broker_handlers(&stack.services())
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        (names == ["N000"]).then_some(())
    });
    assert!(one.is_some(), "{}", stack.services());
    py.connect("c", &stack.dsn("pooled"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("{}", r.json));
    let r = py.exec("c", "select 1 from dual");
    assert_eq!(r.result(), &json!([[1]]), "{}", r.json);
}

#[test]
fn pooled_servers_and_the_broker_do_not_outlive_a_killed_instance() {
    // SID of this helper's own prefix (H4), never shared with a concurrent run.
    let stack = SharedStack::start(&own_sid("H4DK"), "", 0);
    let mut py = PyDriver::start();
    py.connect("dba", &stack.dsn("dedicated"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("dba connect: {}\n{}", r.json, stack.home.alert_log()));
    alter_param(&mut py, "MINSIZE", "2");
    start_pool(&mut py);
    // One server parks a released session; the others are idle.
    py.connect("p", &stack.dsn("pooled"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("{}", r.json));
    assert_eq!(py.exec("p", "select 1 from dual").result(), &json!([[1]]));
    assert!(py.call(json!({"op": "close", "name": "p"})).ok());
    let pids = wait_for(Duration::from_secs(10), || {
        let p = pooled_server_pids(&mut py);
        (p.len() >= 2).then_some(p)
    })
    .unwrap_or_else(|| panic!("pooled servers: {:?}", pooled_server_pids(&mut py)));
    drop(py);
    let services = stack.services();
    assert!(services.contains("\"N000\""), "{services}");

    let alive =
        |pid: u64| tests::instance::proc_state(pid as u32).is_some_and(|s| s != 'Z' && s != 'X');
    assert!(
        pids.iter().all(|&p| alive(p)),
        "{pids:?} run before the kill"
    );
    let instance = nix::unistd::Pid::from_raw(stack.instance.pid() as i32);
    nix::sys::signal::kill(instance, nix::sys::signal::Signal::SIGKILL).expect("kill -9 oradb");
    let killed_at = std::time::Instant::now();
    let gone = wait_for(Duration::from_secs(10), || {
        pids.iter().all(|&p| !alive(p)).then_some(())
    });
    eprintln!(
        "pooled servers {pids:?} gone {:?} after kill -9 of oradb",
        killed_at.elapsed()
    );
    assert!(
        gone.is_some(),
        "pooled servers still running after kill -9 of oradb: {:?}",
        pids.iter().filter(|&&p| alive(p)).collect::<Vec<_>>()
    );
    // The broker was a thread of the instance: the listener no longer offers it.
    let unregistered = wait_for(Duration::from_secs(10), || {
        (!stack.services().contains("\"N000\"")).then_some(())
    });
    assert!(unregistered.is_some(), "{}", stack.services());
}
