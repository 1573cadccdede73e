//! node-oracledb's own mocha test files that set up no schema of their own, run against the
//! real listener and a shared-server instance (dedicated connections). Ignored in CI
//! (a minute, and it needs a checkout of node-oracledb's `test/` directory):
//! `ORASIM_NODE_SUITE=<node-oracledb>/test cargo test -p tests --test node_suite --
//! --ignored --nocapture` prints mocha's summary and its failures. The counts are reported,
//! not asserted: the suite measures how much of a real driver's own tests orasim passes.

use std::time::Duration;

use tests::node::run_node_suite;
use tests::shared_stack::{PASSWORD, SharedStack, USER, own_sid};

/// Files of node-oracledb's test directory that create no table, package or user of their
/// own (resultSetClose.js and one part of properties.js do, through helpers, and fail).
const FILES: &[&str] = &[
    "accessPropertiesOnClosedObjects.js",
    "asyncStack.js",
    "callTimeout.js",
    "connClose.js",
    "connHealthy.js",
    "constants.js",
    "currentSchema.js",
    "driverName.js",
    "end2endTracing.js",
    "errorUrl.js",
    "fetchArraySize1.js",
    "instanceof1.js",
    "methodName.js",
    "poolClose.js",
    "poolDrain.js",
    "poolPing.js",
    "poolTimeout.js",
    "properties.js",
    "resultSetClose.js",
];

#[test]
#[ignore = "needs a node-oracledb test checkout; run by hand"]
fn node_oracledb_suite_files_without_tables() {
    let Ok(dir) = std::env::var("ORASIM_NODE_SUITE") else {
        panic!("set ORASIM_NODE_SUITE to node-oracledb's test directory");
    };
    let stack = SharedStack::start(
        &own_sid("NDSU"),
        "shared_servers=2\ndispatchers='(PROTOCOL=TCP)'",
        1,
    );
    let out = run_node_suite(
        &dir,
        USER,
        PASSWORD,
        &stack.dsn("dedicated"),
        FILES,
        Duration::from_secs(600),
    );
    println!("{}", out.stdout);
    eprintln!("{}", out.stderr);
    // Mocha ran the files (it exits non-zero when any test fails: that is the report).
    assert!(
        out.stdout
            .lines()
            .any(|l| l.trim().ends_with(')') && l.contains(" passing (")),
        "mocha printed no summary"
    );
}
