//! The deepest statement the engine accepts, on a dedicated server whose listener was
//! started under `ulimit -s 1024` (real listener, real `oradb`, python-oracledb 26.1.0): a
//! dedicated server runs its session on its main thread, whose stack may grow only to the
//! soft RLIMIT_STACK it inherited; it raises that limit to `engine::SESSION_STACK` first,
//! so the statement is answered instead of killing the server.

use nix::sys::resource::{Resource, getrlimit, setrlimit};
use serde_json::json;
use tests::instance_py::PyDriver;
use tests::shared_stack::{PASSWORD, SharedStack, USER, own_sid};

#[test]
fn a_dedicated_server_under_a_small_stack_limit_answers_the_deepest_statement() {
    // The listener, its spawner and the dedicated servers inherit the limit of this
    // process when they start; it is put back once they run.
    let (soft, hard) = getrlimit(Resource::RLIMIT_STACK).expect("getrlimit");
    setrlimit(Resource::RLIMIT_STACK, (1 << 20).min(hard), hard).expect("setrlimit");
    let started = std::panic::catch_unwind(|| {
        SharedStack::start(
            &own_sid("DPDED"),
            "shared_servers=1\ndispatchers='(PROTOCOL=TCP)'",
            1,
        )
    });
    setrlimit(Resource::RLIMIT_STACK, soft, hard).expect("setrlimit back");
    let stack = started.unwrap_or_else(|e| std::panic::resume_unwind(e));

    let mut py = PyDriver::start();
    py.connect("ded", &stack.dsn("dedicated"), USER, PASSWORD)
        .unwrap_or_else(|r| panic!("connect: {}", r.json));
    let max = engine::sql::MAX_NESTING_DEPTH - 4;
    let deepest = format!(
        "select {}2{} from dual",
        "case when 1 = 1 then ".repeat(max),
        " end".repeat(max)
    );
    let r = py.exec("ded", &deepest);
    assert_eq!(r.result(), &json!([[2]]), "{}", r.json);
    let r = py.exec("ded", "select 42 from dual");
    assert_eq!(r.result(), &json!([[42]]), "{}", r.json);
}
