//! `tnsbench` against the real `tnslsnr` + `oradb`, a floor process, PostgreSQL and
//! PgBouncer (started by `scripts/peers.sh`) and python-oracledb, with tiny counts: every
//! mode produces a row in every phase, the report directory has its Markdown, JSON and every
//! plot (SVG and PNG), the ratios are the quotients of the measured rows, a storm beyond
//! PROCESSES is reported with Oracle codes, and nothing is left running afterwards.
//! Behaviour only: no assertion here looks at how fast anything was.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use tests::instance::{wait_output, workspace_bin};
use tests::procs::title_of;

fn tnsbench(args: &[&str]) -> Output {
    for (package, bin) in [
        ("listener", "tnslsnr"),
        ("listener", "lsnrctl"),
        ("server_proc", "oradb"),
    ] {
        workspace_bin(package, bin);
    }
    let exe = workspace_bin("bench", "tnsbench");
    let child = Command::new(exe)
        .args(args)
        .env_remove("TNS_ADMIN")
        .env_remove("ORASIM_RUN_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tnsbench");
    wait_output(child, Duration::from_secs(300))
}

/// Tiny counts for every phase.
const TINY: &[&str] = &[
    "--connects",
    "3",
    "--connect-clients",
    "1,2",
    "--steady-clients",
    "1,3",
    "--window",
    "0.1",
    "--idle-multiplexed",
    "4,12",
    "--idle-dedicated",
    "3",
    "--storm",
    "4",
    "--processes",
    "60",
    "--sessions",
    "200",
    "--connections",
    "100",
    "--prespawn",
    "2",
    "--pool-maxsize",
    "6",
    "-q",
];

/// TINY, less the options `extra` sets itself, then `extra`.
fn json_run(extra: &[&str]) -> Value {
    let mut all = vec!["--json"];
    let mut i = 0;
    while i < TINY.len() {
        let takes_value = TINY.get(i + 1).is_some_and(|v| !v.starts_with('-'));
        if !extra.contains(&TINY[i]) {
            all.push(TINY[i]);
            if takes_value {
                all.push(TINY[i + 1]);
            }
        }
        i += if takes_value { 2 } else { 1 };
    }
    all.extend_from_slice(extra);
    let out = tnsbench(&all);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "tnsbench failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("bad JSON ({e}):\n{stdout}"))
}

fn row<'a>(list: &'a Value, target: &str) -> &'a Value {
    list.as_array()
        .and_then(|a| a.iter().find(|v| v["target"] == target))
        .unwrap_or_else(|| panic!("no row {target} in {list}"))
}

/// No server process of the run's SID, no daemon and no SGA segment is left.
fn assert_nothing_left(r: &Value) {
    let sid = r["orasim"]["sid"].as_str().expect("sid");
    let mut leftovers = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            if let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) {
                let t = title_of(pid);
                if t.contains(&format!("oracle{sid}")) {
                    leftovers.push((pid, t));
                }
            }
        }
    }
    let procs = r["processes"].as_object().expect("processes");
    assert_eq!(procs.len(), 4, "{procs:?}");
    for (name, pid) in procs {
        let t = title_of(pid.as_u64().expect("pid") as u32);
        // A recycled pid would carry another title.
        if t.contains("tnsbench") || t.contains("tnslsnr") || t.contains("oradb") {
            leftovers.push((pid.as_u64().unwrap_or(0) as u32, format!("{name}: {t}")));
        }
    }
    assert!(leftovers.is_empty(), "left running: {leftovers:?}");
    let uid = nix::unistd::getuid().as_raw();
    assert!(
        !std::path::Path::new(&format!("/dev/shm/orasim_{uid}_{sid}")).exists(),
        "SGA segment of {sid} left behind"
    );
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn every_mode_every_phase_report_and_plots() {
    let dir = tempfile::tempdir().expect("report dir");
    let report_dir = dir.path().join("out");
    let py = tests::pyenv::python();
    let r = json_run(&[
        "--report",
        report_dir.to_str().expect("utf-8 path"),
        "--python",
        py.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(r["tool"], "tnsbench");
    assert!(
        r["command"]
            .as_str()
            .is_some_and(|c| c.contains("--report"))
    );
    let m = &r["machine"];
    assert!(m["cores"].as_u64().is_some_and(|c| c >= 1), "{m}");
    assert_eq!(m["load_average_start"].as_array().map(Vec::len), Some(3));
    assert_eq!(m["load_average_end"].as_array().map(Vec::len), Some(3));
    // The clients' key derivations, timed in the run itself.
    let kdf = &m["client_kdf"];
    assert_eq!(kdf["iterations"], 4096, "{m}");
    for k in ["pbkdf2_sha512_ms", "pbkdf2_sha256_ms"] {
        assert!(kdf[k].as_f64().is_some_and(|v| v > 0.0), "{k}: {m}");
    }
    assert_eq!(r["orasim"]["server_version"], "19.3.0.0.0");

    // Every mode this build has is a row; one it lacks is named with the reason.
    let targets: Vec<&str> = r["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let skipped = r["skipped"].as_object().expect("skipped");
    assert_eq!(targets[0], "floor");
    for m in [
        "orasim-dedicated",
        "orasim-dedicated-exec",
        "orasim-prespawned",
        "orasim-shared",
        "orasim-pooled",
        "postgresql",
        "postgresql-scram",
        "pgbouncer-session",
        "pgbouncer-transaction",
    ] {
        assert!(
            targets.contains(&m) != skipped.contains_key(m),
            "{m} must be measured or skipped with a reason: {targets:?} {skipped:?}"
        );
    }
    for m in [
        "orasim-dedicated",
        "orasim-dedicated-exec",
        "orasim-prespawned",
        "orasim-shared",
    ] {
        assert!(targets.contains(&m), "{m} not measured: {skipped:?}");
    }
    assert!(
        targets.contains(&"postgresql-scram") && targets.contains(&"pgbouncer-transaction"),
        "peers did not run: {}",
        r["peers"]
    );

    // The floor replays the orasim cycle: the same round trips on the wire.
    let script = &r["floor_script"];
    let login = script["login"].as_array().expect("login steps").len() as u64;
    assert_eq!(
        r["round_trips"]["floor"].as_u64(),
        Some(login + 2),
        "{}",
        r["round_trips"]
    );
    assert_eq!(
        r["round_trips"]["orasim-dedicated"],
        r["round_trips"]["floor"]
    );

    for t in &targets {
        // Connect cycles: all succeeded, percentiles ordered, the sweep has every point.
        let c = row(&r["connect"], t);
        let l = &c["sequential"];
        assert_eq!(l["samples"], 3, "{c}");
        assert_eq!(l["errors"], serde_json::json!({}), "{c}");
        let q = |k: &str| l[k].as_u64().unwrap_or_else(|| panic!("{k} missing: {c}"));
        assert!(
            q("min_us") <= q("p50_us") && q("p50_us") <= q("p99_us"),
            "{c}"
        );
        // Each cycle's wait is its wall time less the client thread's CPU in it: one per
        // cycle, never more than the cycle.
        let w = &c["sequential_wait"];
        assert_eq!(w["samples"], 3, "{c}");
        let wq = |k: &str| {
            w[k].as_u64()
                .unwrap_or_else(|| panic!("wait {k} missing: {c}"))
        };
        assert!(
            wq("p50_us") <= wq("p99_us") && wq("p50_us") <= q("p50_us"),
            "{c}"
        );
        assert!(wq("max_us") <= q("max_us"), "{c}");
        let sweep: Vec<u64> = c["concurrent"]
            .as_array()
            .expect("sweep")
            .iter()
            .map(|p| p["clients"].as_u64().expect("clients"))
            .collect();
        assert_eq!(sweep, [1, 2], "{c}");
        for p in c["concurrent"].as_array().expect("sweep") {
            assert!(p["cycles"].as_u64().is_some_and(|n| n > 0), "{c}");
        }
        let cpu = &c["cpu"];
        let cycles = cpu["cycles"].as_u64().expect("cycles");
        let total: u64 = 3 + c["concurrent"]
            .as_array()
            .expect("sweep")
            .iter()
            .map(|p| p["cycles"].as_u64().expect("n"))
            .sum::<u64>();
        assert_eq!(cycles, total, "{c}");
        let per = cpu["server_us_per_cycle"]
            .as_f64()
            .expect("server CPU per cycle");
        let ms = cpu["server_ms"].as_f64().expect("server ms");
        assert!(close(per, ms * 1000.0 / cycles as f64), "{cpu}");

        // Steady calls: both client counts, calls answered.
        let s = row(&r["steady"], t);
        let pts = s["points"].as_array().expect("points");
        assert_eq!(pts.len(), 2, "{s}");
        for p in pts {
            assert!(
                p["latency"]["samples"].as_u64().is_some_and(|n| n > 0),
                "{s}"
            );
            assert!(
                p["calls_per_second"].as_f64().is_some_and(|v| v > 0.0),
                "{s}"
            );
            assert_eq!(p["open_errors"], serde_json::json!({}), "{s}");
        }
        if *t == "floor" {
            continue;
        }
        // Idle sessions: every level open, memory measured, every session answered.
        let i = row(&r["idle"], t);
        let levels: Vec<u64> = i["points"]
            .as_array()
            .expect("points")
            .iter()
            .map(|p| p["open"].as_u64().expect("open"))
            .collect();
        let multiplexed = ["orasim-shared", "orasim-pooled", "pgbouncer-transaction"].contains(t);
        assert_eq!(
            levels,
            if multiplexed { vec![4, 12] } else { vec![3] },
            "{i}"
        );
        for p in i["points"].as_array().expect("points") {
            assert!(
                p["server"]["pss_kib"].as_u64().is_some_and(|k| k > 0),
                "{i}"
            );
            assert!(p["pss_kib_per_session"].is_number(), "{i}");
        }
        assert_eq!(i["final_pings_ok"].as_u64(), levels.last().copied(), "{i}");
        // Storm within PROCESSES: everyone got in.
        let st = row(&r["storm"], t);
        assert_eq!(st["connected"], 4, "{st}");
        assert!(st["all_connected_ms"].is_number(), "{st}");
    }
    // A dedicated server per idle dedicated session: the server's process count grows.
    let i = row(&r["idle"], "orasim-dedicated");
    let before = i["baseline"]["processes"].as_u64().expect("baseline");
    assert_eq!(
        i["points"][0]["server"]["processes"].as_u64(),
        Some(before + 3),
        "{i}"
    );
    // ... and none per shared session.
    let i = row(&r["idle"], "orasim-shared");
    let before = i["baseline"]["processes"].as_u64().expect("baseline");
    assert_eq!(
        i["points"][1]["server"]["processes"].as_u64(),
        Some(before),
        "{i}"
    );

    // 12 idle pooled clients with MAXSIZE 6 all open and answer: each released its pooled
    // server after its login (one held per client would leave 6 waiting in the broker),
    // and the pool never grew past MAXSIZE.
    let i = row(&r["idle"], "orasim-pooled");
    let before = i["baseline"]["processes"].as_u64().expect("baseline");
    let at_12 = i["points"][1]["server"]["processes"]
        .as_u64()
        .expect("processes");
    assert!(at_12 <= before + 6, "{i}");
    assert_eq!(i["final_pings_ok"], 12, "{i}");

    // The python-oracledb cross-check rows.
    let py_rows = r["python"].as_array().expect("python rows");
    assert_eq!(py_rows.len(), 2, "{py_rows:?}");
    for p in py_rows {
        assert_eq!(p["latency"]["samples"], 3, "{p}");
    }

    // Ratios are the quotients of the measured rows.
    let p50 = |t: &str| {
        row(&r["connect"], t)["sequential"]["p50_us"]
            .as_f64()
            .expect("p50")
    };
    let wait_p50 = |t: &str| {
        row(&r["connect"], t)["sequential_wait"]["p50_us"]
            .as_f64()
            .expect("wait p50")
    };
    let cpu = |t: &str| {
        row(&r["connect"], t)["cpu"]["server_us_per_cycle"]
            .as_f64()
            .expect("cpu")
    };
    for t in &targets[1..] {
        let ra = row(&r["ratios"], t);
        let got = ra["connect_p50_vs_floor"].as_f64().expect("ratio");
        assert!(close(got, p50(t) / p50("floor")), "{ra}");
        if cpu("floor") > 0.0 {
            let got = ra["server_cpu_vs_floor"].as_f64().expect("cpu ratio");
            assert!(close(got, cpu(t) / cpu("floor")), "{ra}");
        }
        let got = ra["connect_p50_vs_pg_scram"].as_f64().expect("vs scram");
        assert!(close(got, p50(t) / p50("postgresql-scram")), "{ra}");
        let got = ra["wait_p50_vs_pg_scram"].as_f64().expect("wait vs scram");
        assert!(
            close(got, wait_p50(t) / wait_p50("postgresql-scram")),
            "{ra}"
        );
        assert_eq!(
            ra["throughput_vs_floor"].as_object().map(|o| o.len()),
            Some(2),
            "{ra}"
        );
    }

    // The report directory: Markdown naming every plot, JSON, and every plot as SVG + PNG.
    let md = std::fs::read_to_string(report_dir.join("report.md")).expect("report.md");
    assert!(
        md.contains("- machine: ") && md.contains("load average"),
        "{md}"
    );
    // The wait columns, the sentence saying what they are, and the evidence for why.
    for needle in [
        "wait p50 ms",
        "wait p99 ms",
        "wait p50 / PG SCRAM",
        "- wait: ",
        "HMAC-SHA512 (O5LOGON)",
        "HMAC-SHA256 (SCRAM)",
    ] {
        assert!(md.contains(needle), "{needle} not in report.md:\n{md}");
    }
    for plot in ["connect", "concurrency", "throughput", "memory"] {
        assert!(
            md.contains(&format!("({plot}.svg)")),
            "{plot} not in report.md"
        );
        let svg = std::fs::read_to_string(report_dir.join(format!("{plot}.svg")))
            .unwrap_or_else(|e| panic!("{plot}.svg: {e}"));
        assert!(
            svg.starts_with("<svg") && svg.contains("orasim-shared"),
            "{plot}.svg"
        );
        let png = std::fs::read(report_dir.join(format!("{plot}.png")))
            .unwrap_or_else(|e| panic!("{plot}.png: {e}"));
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 10_000,
            "{plot}.png"
        );
    }
    for t in &targets {
        assert!(md.contains(t), "{t} not in report.md");
    }
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(report_dir.join("report.json")).expect("report.json"),
    )
    .expect("report.json parses");
    assert_eq!(json["targets"], r["targets"]);
    assert_nothing_left(&r);
}

#[test]
fn storm_beyond_processes_is_reported_with_oracle_codes_and_unknown_modes_refused() {
    let r = json_run(&[
        "--mode",
        "dedicated",
        "--phase",
        "storm",
        "--storm",
        "40",
        "--processes",
        "25",
        "--python",
        "none",
    ]);
    let st = row(&r["storm"], "orasim-dedicated");
    let connected = st["connected"].as_u64().expect("connected");
    let errors = st["errors"].as_object().expect("errors");
    let failed: u64 = errors.values().filter_map(Value::as_u64).sum();
    assert!((1..40).contains(&connected), "{st}");
    assert_eq!(connected + failed, 40, "{st}");
    for code in errors.keys() {
        assert!(
            ["ORA-00020", "ORA-12516", "ORA-12519", "ORA-12520"].contains(&code.as_str()),
            "unexpected error {code}: {st}"
        );
    }
    assert!(st["all_connected_ms"].is_null(), "{st}");
    // Only the phase asked for ran.
    for phase in ["connect", "python", "steady", "idle"] {
        assert_eq!(r[phase], serde_json::json!([]), "{phase}");
    }
    assert_eq!(
        r["targets"],
        serde_json::json!(["floor", "orasim-dedicated"])
    );
    assert_nothing_left(&r);
    let out = tnsbench(&["--mode", "threaded"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown mode \"threaded\""));
}
