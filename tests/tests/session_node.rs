//! node-oracledb (thin) against the real listener and instance, dedicated and shared:
//! node-oracledb 26 connects without querying DBTIMEZONE (the server sends the database time
//! zone in the DATA_TYPES negotiation, as Oracle 19c+ does), and 26 and 6.10 run the same
//! scenarios: `select 1`, 300 rows, binds, ping, a call timeout, a PL/SQL OUT bind,
//! ORA-00942, ORA-01017, an unknown service,
//! a pool of 20 acquisitions and a killed session (ORA-00028). The scenarios live in
//! `tests/node/scenarios.js`; node-oracledb is installed by `scripts/nodeenv.sh`.

use std::time::Duration;

use serde_json::{Value, json};
use tests::corpus::repo_root;
use tests::node::{VERSIONS, run_node};
use tests::shared_stack::{PASSWORD, SharedStack, USER, own_sid};

fn scenarios(version: &str, stack: &SharedStack, server: &str) -> Value {
    let script = std::fs::read_to_string(repo_root().join("tests/node/scenarios.js"))
        .expect("tests/node/scenarios.js");
    let args = [
        format!("127.0.0.1:{}", stack.port),
        stack.service.clone(),
        USER.to_owned(),
        PASSWORD.to_owned(),
        server.to_owned(),
    ];
    run_node(version, &script, &args, Duration::from_secs(60))
        .last_json(&format!("node-oracledb {version} {server}"))
}

#[test]
fn node_oracledb_26_and_6_dedicated_and_shared() {
    let stack = SharedStack::start(
        &own_sid("NDNO"),
        "shared_servers=1\ndispatchers='(PROTOCOL=TCP)'",
        1,
    );
    for version in VERSIONS {
        for server in ["dedicated", "shared"] {
            let out = scenarios(version, &stack, server);
            let what = format!("node-oracledb {version} {server}: {out}");
            assert_eq!(out["thin"], json!(true), "{what}");
            assert_eq!(out["version"], json!(version), "{what}");
            assert_eq!(out["select1"], json!([[1]]), "{what}");
            assert_eq!(out["rows300"], json!([300, 1, 300]), "{what}");
            assert_eq!(out["binds"], json!([[42, "yx"]]), "{what}");
            assert_eq!(out["dbtz"], json!([["+00:00"]]), "{what}");
            assert_eq!(out["ping"], json!(true), "{what}");
            assert_eq!(out["callTimeout"], json!("NJS-123"), "{what}");
            assert_eq!(out["afterTimeout"], json!([[2]]), "{what}");
            assert_eq!(out["plsqlOut"], json!(42), "{what}");
            assert_eq!(
                out["clientDriver"],
                json!([format!("node-oracledb : {version} thn")]),
                "{what}"
            );
            assert_eq!(out["missingTable"], json!(942), "{what}");
            assert_eq!(out["wrongPassword"], json!(1017), "{what}");
            // node-oracledb thin reports the listener's ORA-12514 as its own NJS-518.
            assert_eq!(out["unknownService"], json!("NJS-518"), "{what}");
            let tz = if version == "26.0.0" {
                json!([1, 0])
            } else {
                json!([0, "n/a"])
            };
            assert_eq!(out["tzExchange"], tz, "{what}");
            assert_eq!(out["poolAcquisitions"], json!(20), "{what}");
            assert_eq!(out["killed"], json!(28), "{what}");
        }
    }
}
