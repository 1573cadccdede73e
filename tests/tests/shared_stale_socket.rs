//! `kill -9` of `oradb` leaves its dispatchers' hand-off sockets behind (nothing in the
//! process can remove them); the next startup of the same SID removes them and says so in
//! its log.

use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tests::instance::{TestHome, wait_for};

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
            "removed the hand-off socket {} of an earlier incarnation",
            old.display()
        )),
        "{log}"
    );
    // The new instance first: dropping the killed one's guard removes the SID's segment.
    drop(second);
    drop(first);
}
