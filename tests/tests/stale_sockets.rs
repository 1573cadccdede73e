//! `kill -9` of `oradb` leaves its local sockets behind (nothing in the process can remove
//! them): its dispatchers' hand-off sockets, and with a started DRCP pool its brokers'
//! hand-off sockets and the socket its pooled servers connect to. The next startup of the
//! same SID removes them and says so in its log.

use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::json;
use tests::instance::{TestHome, wait_for};
use tests::instance_py::PyDriver;
use tests::shared_stack::{PASSWORD, SharedStack, USER, own_sid};

#[test]
fn the_next_startup_removes_the_hand_off_socket_a_killed_instance_left() {
    let sid = tests::shared_stack::own_sid("HS6A");
    let home = TestHome::new_with_sid(&sid, "shared_servers=1\ndispatchers='(PROTOCOL=TCP)'\n");
    let socket_of = |pid: u32| {
        home.run_dir()
            .join(format!("{}_d000_{pid}.disp", sid.to_ascii_lowercase()))
    };
    let mut first = home.start_foreground();
    let old = socket_of(first.pid());
    wait_for(Duration::from_secs(10), || old.exists().then_some(()))
        .unwrap_or_else(|| panic!("{} exists while D000 runs", old.display()));
    kill(Pid::from_raw(first.pid() as i32), Signal::SIGKILL).expect("kill -9 oradb");
    assert!(first.wait_exit(Duration::from_secs(10)), "oradb died");
    assert!(old.exists(), "kill -9 leaves the socket file");
    let second = home.start_foreground();
    let new = socket_of(second.pid());
    wait_for(Duration::from_secs(10), || new.exists().then_some(()))
        .unwrap_or_else(|| panic!("{} exists for the new D000", new.display()));
    assert!(!old.exists(), "the stale socket file was removed");
    let log = home.alert_log();
    assert!(
        log.contains(&format!(
            "removed the socket {} of an earlier incarnation",
            old.display()
        )),
        "{log}"
    );
    // The new instance first: dropping the killed one's guard removes the SID's segment.
    drop(second);
    drop(first);
}

/// The files of `sid` in `dir` (local sockets are named `<sid>_...`), sorted.
fn files_of(dir: &Path, sid: &str) -> Vec<PathBuf> {
    let prefix = format!("{}_", sid.to_ascii_lowercase());
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn the_next_startup_removes_the_drcp_sockets_a_killed_instance_left_and_the_pool_works() {
    let sid = own_sid("HD1S");
    let mut stack = SharedStack::start(&sid, "", 0);
    let mut py = PyDriver::start();
    py.connect("dba", &stack.dsn("dedicated"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("dba connect: {}\n{}", r.json, stack.home.alert_log()));
    let r = py.exec("dba", "begin dbms_connection_pool.start_pool(); end;");
    assert!(r.ok(), "start_pool: {}", r.json);
    let lower = sid.to_ascii_lowercase();
    // The stack's instance runs without ORASIM_RUN_DIR (the listener must find its sockets),
    // so in the user's default run directory: the one this process gets without it.
    assert!(std::env::var_os("ORASIM_RUN_DIR").is_none());
    let run = server_proc::registration::run_dir();
    let sockets_of = |pid: u32| {
        [
            run.join(format!("{lower}_n000_{pid}.cbrok")),
            run.join(format!("{lower}_cmon_{pid}.pool")),
        ]
    };
    let old = sockets_of(stack.instance.pid());
    wait_for(Duration::from_secs(10), || {
        old.iter().all(|p| p.exists()).then_some(())
    })
    .unwrap_or_else(|| {
        panic!(
            "{old:?} exist while the pool runs: {:?}",
            files_of(&run, &sid)
        )
    });
    drop(py);

    kill(Pid::from_raw(stack.instance.pid() as i32), Signal::SIGKILL).expect("kill -9 oradb");
    assert!(
        stack.instance.wait_exit(Duration::from_secs(10)),
        "oradb died"
    );
    for p in &old {
        assert!(p.exists(), "kill -9 leaves {}", p.display());
    }

    // The pool was started, so it starts again with the instance.
    let second = stack.home.start_foreground();
    let new = sockets_of(second.pid());
    wait_for(Duration::from_secs(15), || {
        new.iter().all(|p| p.exists()).then_some(())
    })
    .unwrap_or_else(|| panic!("{new:?} exist for the new pool: {:?}", files_of(&run, &sid)));
    let mut py = PyDriver::start();
    let pooled = wait_for(Duration::from_secs(15), || {
        py.connect("p", &stack.dsn("pooled"), USER, PASSWORD).ok()
    });
    assert!(pooled.is_some(), "a pooled login after the restart");
    let r = py.exec("p", "select 1 from dual");
    assert_eq!(r.result(), &json!([[1]]), "{}", r.json);
    assert!(py.call(json!({"op": "close", "name": "p"})).ok());
    // Only the new incarnation's sockets are left.
    let mut expected = new.to_vec();
    expected.sort();
    assert_eq!(
        files_of(&run, &sid),
        expected,
        "no stale socket file is left"
    );
    let log = stack.home.alert_log();
    for p in &old {
        assert!(
            log.contains(&format!(
                "removed the socket {} of an earlier incarnation",
                p.display()
            )),
            "{log}"
        );
    }
    drop(py);
    // The new instance first: dropping the killed one's guard removes the SID's segment.
    drop(second);
    drop(stack);
}
