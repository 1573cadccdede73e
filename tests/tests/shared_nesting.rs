//! Statements nested too deep for a recursive parser, end to end on a shared server (real
//! listener, real `oradb` with one shared server thread, python-oracledb 26.1.0): 100,000
//! parentheses, 100,000-term chains of `+`, `||` and `AND`, subqueries inside one another.
//! Each gets Oracle's error (ORA-03095, ORA-01778) instead of overflowing the stack of the
//! thread that runs them, which would abort the whole instance; the deepest statement the
//! engine accepts is answered on that thread; the session that sent them and another one
//! keep working.

use serde_json::json;
use tests::instance_py::PyDriver;
use tests::shared_stack::{PASSWORD, SharedStack, USER, own_sid};

#[test]
fn statements_nested_too_deep_get_an_error_and_the_instance_lives_on() {
    let stack = SharedStack::start(
        &own_sid("DPNEST"),
        "shared_servers=1\ndispatchers='(PROTOCOL=TCP)'",
        1,
    );
    let pid = stack.instance.pid();
    let mut py = PyDriver::start();
    for name in ["deep", "other"] {
        py.connect(name, &stack.dsn("shared"), USER, PASSWORD)
            .unwrap_or_else(|r| panic!("connect {name}: {}", r.json));
    }

    // The deepest accepted: CASE, the construct with the largest frames, on the shared
    // server's own thread.
    let max = engine::sql::MAX_NESTING_DEPTH - 4;
    let deepest = format!(
        "select {}2{} from dual",
        "case when 1 = 1 then ".repeat(max),
        " end".repeat(max)
    );
    let r = py.exec("deep", &deepest);
    assert_eq!(r.result(), &json!([[2]]), "{}", r.json);
    // And the longest chain, inside it.
    let chain = engine::sql::MAX_EXPR_DEPTH - engine::sql::MAX_NESTING_DEPTH - 4;
    let longest = format!(
        "select {}1{}{} from dual",
        "case when 1 = 1 then ".repeat(max),
        " + 1".repeat(chain),
        " end".repeat(max)
    );
    let r = py.exec("deep", &longest);
    assert_eq!(r.result(), &json!([[chain + 1]]), "{}", r.json);

    let n = 100_000;
    let nested = "ORA-03095: expression level is too deep, maximum 255";
    let long = "ORA-03095: expression level is too deep, maximum 1000";
    let too_deep = [
        (
            format!("select {}1{} from dual", "(".repeat(n), ")".repeat(n)),
            nested,
        ),
        (format!("select 1{} from dual", " + 1".repeat(n)), long),
        (format!("select 'a'{} from dual", " || 'a'".repeat(n)), long),
        (
            format!("select 1 from dual where 1 = 1{}", " and 1 = 1".repeat(n)),
            long,
        ),
        (
            format!(
                "begin dbms_output.put_line({}1{}); end;",
                "(".repeat(n),
                ")".repeat(n)
            ),
            nested,
        ),
    ];
    for (sql, error) in &too_deep {
        let r = py.exec("deep", sql);
        assert!(!r.ok(), "{}", r.json);
        assert!(r.error().contains(error), "{}", r.error());
    }
    let subqueries = format!(
        "select 1 from {}dual{}",
        "(select 1 from ".repeat(300),
        ")".repeat(300)
    );
    let r = py.exec("deep", &subqueries);
    assert_eq!(r.code(), Some(1778), "{}", r.json);
    assert!(
        r.error()
            .contains("ORA-01778: maximum subquery nesting level exceeded"),
        "{}",
        r.error()
    );

    // The instance is alive and both sessions are answered.
    assert!(
        std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "oradb {pid} is gone"
    );
    for name in ["deep", "other"] {
        let r = py.exec(name, "select 42 from dual");
        assert_eq!(r.result(), &json!([[42]]), "{name}: {}", r.json);
    }
}
