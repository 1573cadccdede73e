//! Runs node-oracledb's own mocha test files that set up no schema of their own against the
//! real listener and a shared-server instance (dedicated connections), and prints mocha's
//! summary and its failures. A report, not a test: the counts measure how much of a real
//! driver's own suite orasim passes, and it needs a checkout of node-oracledb's `test/`
//! directory, which CI does not have (the node tests CI runs are `tests/tests/session_node.rs`):
//!
//! ```sh
//! cargo run -p tests --example node_suite -- <node-oracledb>/test
//! ```

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

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: cargo run -p tests --example node_suite -- <node-oracledb test dir>");
        std::process::exit(2);
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
    // The listener and the instance stop here: `process::exit` below would skip the drop.
    drop(stack);
    // Mocha exits non-zero when any test fails: that is the report. No summary means it did not run.
    if !out
        .stdout
        .lines()
        .any(|l| l.trim().ends_with(')') && l.contains(" passing ("))
    {
        eprintln!("mocha printed no summary");
        std::process::exit(1);
    }
}
