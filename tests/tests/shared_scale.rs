//! 300 concurrent python-oracledb sessions over 2 dispatchers and 2 shared servers
//! (MAX_SHARED_SERVERS=2, so the pool cannot grow), 10 calls each: every answer is right,
//! and no dedicated server process is forked for any of them.

use std::time::Duration;

use server_proc::sga::{ProcessKind, Sga};
use tests::shared_stack::{PASSWORD, SharedStack, USER};

const SCRIPT: &str = r#"
import sys, threading, oracledb
dsn, user, password, n, calls = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
barrier = threading.Barrier(n, timeout=120)
errors, done = [], []
lock = threading.Lock()
def worker(i):
    try:
        c = oracledb.connect(user=user, password=password, dsn=dsn, tcp_connect_timeout=60)
        barrier.wait()   # all n sessions are connected at once
        cur = c.cursor()
        for j in range(calls):
            cur.execute(f"select {i} * 1000 + {j} from dual")
            (v,) = cur.fetchone()
            if v != i * 1000 + j:
                raise Exception(f"session {i} call {j}: got {v}")
        cur.execute("select server from v$session where sid = sys_context('USERENV','SID')")
        (server,) = cur.fetchone()
        if server != "SHARED":
            raise Exception(f"session {i}: server {server}")
        barrier.wait()   # still all connected at the end
        c.close()
        with lock:
            done.append(i)
    except Exception as e:
        with lock:
            errors.append(f"{i}: {e}")
        barrier.abort()
ts = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
for t in ts: t.start()
for t in ts: t.join(300)
print(f"done {len(done)} errors {len(errors)}")
for e in errors[:10]: print(e)
sys.exit(0 if len(done) == n else 1)
"#;

#[test]
fn three_hundred_sessions_on_two_dispatchers_and_two_shared_servers() {
    let stack = SharedStack::start(
        &tests::shared_stack::own_sid("SS9E"),
        "processes=300\nshared_servers=2\nmax_shared_servers=2\ndispatchers='(PROTOCOL=TCP)(DISPATCHERS=2)'",
        2,
    );
    let out = tests::py::run_python(
        SCRIPT,
        &[&stack.dsn("shared"), USER, PASSWORD, "300", "10"],
        Duration::from_secs(400),
    );
    assert!(out.ok, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("done 300 errors 0"), "{}", out.stdout);
    let sga = Sga::attach(&stack.home.sid).expect("instance up");
    let monitor = sga.shared_server_monitor();
    assert!(
        monitor.maximum_connections >= 300,
        "all 300 at once: {monitor:?}"
    );
    assert_eq!(monitor.servers_highwater, 2, "{monitor:?}");
    let dispatchers = sga.snapshot_dispatchers();
    assert_eq!(dispatchers.len(), 2);
    for d in &dispatchers {
        assert!(
            d.created >= 100,
            "both dispatchers took their share: {dispatchers:?}"
        );
    }
    let processes = sga.snapshot_processes();
    assert!(
        processes.iter().all(|p| p.kind != ProcessKind::Dedicated),
        "no dedicated server was forked: {processes:?}"
    );
    let svc = stack.services();
    assert!(svc.contains("\"DEDICATED\" established:0"), "{svc}");
    drop(stack);
}
