//! The cross-check with a real driver: python-oracledb (thin) runs the same connect cycle
//! (connect, `select 1 from dual`, close) against an orasim service, timing each cycle in
//! Python; tnsbench puts the times in the same kind of HDR histogram as its own.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::stats::{LatencySummary, Recorder};

const SCRIPT: &str = r#"
import json, sys, time
import oracledb
dsn, user, password, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
us, errors = [], {}
for _ in range(n):
    t = time.perf_counter_ns()
    try:
        c = oracledb.connect(user=user, password=password, dsn=dsn)
        cur = c.cursor()
        cur.execute("select 1 from dual")
        cur.fetchall()
        c.close()
        us.append((time.perf_counter_ns() - t) // 1000)
    except oracledb.Error as e:
        err = e.args[0] if e.args else None
        code = getattr(err, "full_code", None) or "other"
        errors[code] = errors.get(code, 0) + 1
print(json.dumps({"version": oracledb.__version__, "us": us, "errors": errors}))
"#;

/// Runs `n` cycles against `dsn` with `python`; `(driver version, latencies)`.
pub fn connect_cycles(
    python: &Path,
    dsn: &str,
    user: &str,
    password: &str,
    n: u32,
) -> Result<(String, LatencySummary), String> {
    let child = Command::new(python)
        .args(["-c", SCRIPT, dsn, user, password, &n.to_string()])
        .env_remove("TNS_ADMIN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", python.display()))?;
    let out = crate::peers::wait_with_limit(child, Duration::from_secs(300))
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    #[derive(serde::Deserialize)]
    struct Out {
        version: String,
        us: Vec<u64>,
        errors: BTreeMap<String, u64>,
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let o: Out = serde_json::from_str(text.lines().last().unwrap_or_default())
        .map_err(|e| format!("{e}: {text}"))?;
    let mut r = Recorder::new();
    for us in o.us {
        r.record(Duration::from_micros(us));
    }
    for (k, v) in o.errors {
        for _ in 0..v {
            r.error(k.clone());
        }
    }
    Ok((o.version, r.summary()))
}
