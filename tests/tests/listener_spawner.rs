//! The spawner through the real `tnslsnr` (ephemeral port, static SID_DESC, the Rust
//! client): a spawner killed with SIGKILL is replaced by the running listener, so dedicated
//! logins work again within 2 s; while no spawner can be started (its binary is gone) a
//! dedicated connect is refused with TNS-12500 and `lsnrctl services` shows the handler
//! blocked, until the binary is back; `SPAWN_METHOD_<l> = EXEC` starts each dedicated server
//! (and each prespawned one) by exec, as `oracle<SID> (LOCAL=NO)`.

use std::path::Path;
use std::time::{Duration, Instant};

use client::{ConnectOptions, Connection};
use tests::procs::{
    self, ListenerProc, TestHome, WAIT, children_of, listener_ora, stat_of, title_of, wait_until,
};

fn no_naming() -> ConnectOptions {
    ConnectOptions {
        resolver: config::naming::Resolver::default(),
        call_timeout: Some(Duration::from_secs(20)),
        ..ConnectOptions::default()
    }
}

/// A home with user scott/tiger for `sid` served as `svc_<sid>` by a static SID_DESC,
/// `params` added to listener.ora, the listener run from `exe` (default: the built one).
fn start(sid: &str, params: &[(&str, &str)], exe: Option<&Path>) -> (TestHome, ListenerProc) {
    let home = TestHome::new();
    procs::add_user(home.path(), sid, "scott", "tiger");
    let service = format!("svc_{}", sid.to_ascii_lowercase());
    let ora = |port| listener_ora("LISTENER", port, &[(sid, Some(service.as_str()))], params);
    let l = match exe {
        Some(e) => ListenerProc::start_binary(e, &home, "LISTENER", ora),
        None => ListenerProc::start(&home, "LISTENER", ora),
    };
    (home, l)
}

fn dsn(l: &ListenerProc, sid: &str) -> String {
    format!("127.0.0.1:{}/svc_{}", l.port, sid.to_ascii_lowercase())
}

fn spawner_of(l: &ListenerProc) -> u32 {
    let mut found = 0;
    assert!(
        wait_until(WAIT, || {
            found = children_of(l.pid())
                .into_iter()
                .find(|p| title_of(*p).contains("spawner"))
                .unwrap_or(0);
            found != 0
        }),
        "no spawner under the listener"
    );
    found
}

fn login_and_select(dsn: &str) -> Result<(), client::ClientError> {
    let mut c = Connection::connect_with(dsn, "scott", "tiger", &no_naming())?;
    let r = c.query("select 1 from dual")?;
    assert_eq!(r.rows[0][0].as_i64(), Some(1));
    c.close()
}

fn kill9(pid: u32) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill -9");
}

#[test]
fn killed_spawner_is_replaced_and_logins_work_within_two_seconds() {
    let (home, l) = start("HBSPK", &[], None);
    let dsn = dsn(&l, "HBSPK");
    login_and_select(&dsn).expect("first login");
    // A live session survives the spawner's death (its server is in its own session).
    let mut live = Connection::connect_with(&dsn, "scott", "tiger", &no_naming()).expect("live");
    let old = spawner_of(&l);
    kill9(old);
    let killed = Instant::now();
    let mut last = None;
    let ok = wait_until(Duration::from_secs(2), || match login_and_select(&dsn) {
        Ok(()) => true,
        Err(e) => {
            last = Some(e.to_string());
            false
        }
    });
    assert!(
        ok,
        "no dedicated login within 2 s of kill -9 of the spawner (last error: {last:?})\n{}",
        home.listener_log()
    );
    eprintln!("login again {:?} after kill -9", killed.elapsed());
    let new = spawner_of(&l);
    assert_ne!(new, old, "the spawner was not replaced");
    assert_eq!(title_of(new), "tnslsnr LISTENER spawner");
    assert_eq!(
        stat_of(l.pid()).map(|s| s.1),
        Some('S'),
        "listener not running"
    );
    let r = live
        .query("select 2 from dual")
        .expect("old session still answers");
    assert_eq!(r.rows[0][0].as_i64(), Some(2));
    live.close().expect("close");
    let log = home.listener_log();
    assert!(
        log.contains("(SPAWNER) * LISTENER * exited * 12500"),
        "{log}"
    );
    assert!(log.contains("(SPAWNER) * LISTENER * started * 0"), "{log}");
    let services = String::from_utf8_lossy(&home.lsnrctl(&["services"]).stdout).to_string();
    assert!(!services.contains("state:blocked"), "{services}");
}

#[test]
fn while_no_spawner_can_start_connects_get_12500_and_services_say_blocked() {
    // The listener runs from a copy of its binary that the test moves away and back.
    let bin_dir = tempfile::tempdir().expect("bin dir");
    let exe = bin_dir.path().join("tnslsnr");
    std::fs::copy(procs::bin("tnslsnr"), &exe).expect("copy tnslsnr");
    let (home, l) = start("HBSPD", &[], Some(&exe));
    let dsn = dsn(&l, "HBSPD");
    login_and_select(&dsn).expect("first login");
    let away = bin_dir.path().join("tnslsnr.away");
    std::fs::rename(&exe, &away).expect("move the binary away");
    kill9(spawner_of(&l));
    // Every connect while the binary is away: TNS-12500, no hang, the listener stays up.
    let mut codes = Vec::new();
    assert!(wait_until(Duration::from_secs(5), || {
        let e = login_and_select(&dsn).expect_err("no spawner, no dedicated server");
        codes.push(e.code());
        e.code() == Some(12500)
    }));
    assert!(
        codes
            .iter()
            .all(|c| matches!(c, Some(12500) | Some(12518) | Some(12537))),
        "{codes:?}"
    );
    let e = login_and_select(&dsn).expect_err("still no spawner");
    assert_eq!(e.code(), Some(12500), "{e}");
    let services = String::from_utf8_lossy(&home.lsnrctl(&["services"]).stdout).to_string();
    assert!(
        services.contains("\"DEDICATED\" established:") && services.contains("state:blocked"),
        "{services}"
    );
    let status = home.lsnrctl(&["status"]);
    assert!(status.status.success(), "listener must keep answering");
    std::fs::rename(&away, &exe).expect("put the binary back");
    // The listener retries every second: logins work again without a restart.
    assert!(
        wait_until(Duration::from_secs(3), || login_and_select(&dsn).is_ok()),
        "no login after the binary came back\n{}",
        home.listener_log()
    );
    let services = String::from_utf8_lossy(&home.lsnrctl(&["services"]).stdout).to_string();
    assert!(!services.contains("state:blocked"), "{services}");
    let log = home.listener_log();
    assert!(log.contains("* 12500"), "{log}");
}

/// `/proc/<pid>/cmdline` as its NUL-separated arguments.
fn argv_of(pid: u32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .unwrap_or_default()
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

#[test]
fn spawn_method_exec_execs_each_dedicated_server() {
    let (_home, l) = start("HBSPX", &[("SPAWN_METHOD", "EXEC")], None);
    let spawner = spawner_of(&l);
    let dsn = dsn(&l, "HBSPX");
    let mut c = Connection::connect_with(&dsn, "scott", "tiger", &no_naming()).expect("connect");
    let servers = children_of(spawner);
    assert_eq!(servers.len(), 1, "{servers:?}");
    let server = servers[0];
    // An exec'd program has a real two-word argv, as Oracle's `oracleSID (LOCAL=NO)`; a
    // forked child overwrites the spawner's argv area with one NUL-padded title instead.
    assert_eq!(argv_of(server), ["oracleHBSPX", "(LOCAL=NO)"]);
    assert_eq!(title_of(server), "oracleHBSPX (LOCAL=NO)");
    let comm = std::fs::read_to_string(format!("/proc/{server}/comm")).unwrap_or_default();
    assert_eq!(comm.trim(), "oracleHBSPX");
    let r = c.query("select 1 from dual").expect("select");
    assert_eq!(r.rows[0][0].as_i64(), Some(1));
    c.close().expect("close");
    assert!(wait_until(WAIT, || stat_of(server).is_none()), "not reaped");
}

#[test]
fn fork_is_the_default_and_exec_prespawns_too() {
    let (_home, l) = start("HBSPF", &[], None);
    let spawner = spawner_of(&l);
    let c = Connection::connect_with(&dsn(&l, "HBSPF"), "scott", "tiger", &no_naming())
        .expect("connect");
    let servers = children_of(spawner);
    assert_eq!(servers.len(), 1);
    assert_eq!(argv_of(servers[0]), ["oracleHBSPF (LOCAL=NO)"]);
    c.close().expect("close");
    drop(l);

    // PRESPAWN with EXEC: the idle servers are exec'd programs waiting for a client.
    let home = TestHome::new();
    procs::add_user(home.path(), "HBSPP", "scott", "tiger");
    let l = ListenerProc::start(&home, "LISTENER", |port| {
        format!(
            "LISTENER = (ADDRESS = (PROTOCOL = TCP)(HOST = 127.0.0.1)(PORT = {port}))\n\
             SID_LIST_LISTENER = (SID_LIST = (SID_DESC = (GLOBAL_DBNAME = svc_hbspp)\
             (SID_NAME = HBSPP)(PRESPAWN_MAX = 4)\
             (PRESPAWN_LIST = (PRESPAWN_DESC = (PROTOCOL = TCP)(POOL_SIZE = 2)))))\n\
             SPAWN_METHOD_LISTENER = EXEC\n"
        )
    });
    let spawner = spawner_of(&l);
    // A child just forked still shows the spawner's name until its exec is done, so wait for
    // both: two children, each of them the exec'd server program.
    let execd = |p: &u32| argv_of(*p) == ["oracleHBSPP", "(LOCAL=NO)"];
    assert!(
        wait_until(WAIT, || {
            let now = children_of(spawner);
            now.len() == 2 && now.iter().all(execd)
        }),
        "{:?}",
        children_of(spawner)
            .iter()
            .map(|p| argv_of(*p))
            .collect::<Vec<_>>()
    );
    let idle = children_of(spawner);
    login_and_select(&dsn(&l, "HBSPP")).expect("login through a prespawned server");
    // The pool is topped up again with exec'd servers.
    assert!(wait_until(WAIT, || {
        let now = children_of(spawner);
        now.len() == 2 && now.iter().any(|p| !idle.contains(p))
    }));
}
