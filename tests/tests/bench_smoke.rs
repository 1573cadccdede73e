//! `tnsbench` against the real `tnslsnr` + `oradb`, with tiny counts: the tool runs every
//! phase, its JSON report has every field the README quotes, the counts add up, a storm
//! beyond PROCESSES is reported with Oracle codes, and nothing is left running afterwards.
//! Behaviour only: no assertion here looks at how fast anything was. PostgreSQL/PgBouncer
//! (`--peers`) are not needed and not started.

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

fn json_run(args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = tnsbench(&all);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "tnsbench failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("bad JSON ({e}):\n{stdout}"))
}

fn by_target<'a>(list: &'a Value, target: &str) -> Vec<&'a Value> {
    list.as_array()
        .map(|a| a.iter().filter(|v| v["target"] == target).collect())
        .unwrap_or_default()
}

/// No dedicated server of `sid`, no daemon the report names and no SGA segment is left.
fn assert_nothing_left(r: &Value) {
    let sid = r["orasim"]["sid"].as_str().expect("sid");
    let mut leftovers = Vec::new();
    let title = format!("oracle{sid}");
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            if let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok())
                && title_of(pid).contains(&title)
            {
                leftovers.push((pid, title_of(pid)));
            }
        }
    }
    for d in r["daemons"].as_array().expect("daemons") {
        let pid = d["pid"].as_u64().expect("pid") as u32;
        let t = title_of(pid);
        // A recycled pid would carry another title.
        if t.contains("tnslsnr") || t.contains("oradb") {
            leftovers.push((pid, t));
        }
    }
    assert!(leftovers.is_empty(), "left running: {leftovers:?}");
    let uid = nix::unistd::getuid().as_raw();
    assert!(
        !std::path::Path::new(&format!("/dev/shm/orasim_{uid}_{sid}")).exists(),
        "SGA segment of {sid} left behind"
    );
}

#[test]
fn every_phase_reports_complete_results_and_cleans_up() {
    let r = json_run(&[
        "--connects",
        "4",
        "--round-trips",
        "10",
        "--sessions",
        "3",
        "--storm",
        "4",
        "--processes",
        "40",
    ]);
    assert_eq!(r["tool"], "tnsbench");
    assert_eq!(r["mode"], "dedicated");
    let m = &r["machine"];
    assert!(m["cores"].as_u64().is_some_and(|c| c >= 1), "{m}");
    assert!(m["kernel"].is_string(), "{m}");
    assert!(
        m["build_profile"] == "debug" || m["build_profile"] == "release",
        "{m}"
    );
    assert_eq!(m["load_average_start"].as_array().map(Vec::len), Some(3));
    assert_eq!(m["load_average_end"].as_array().map(Vec::len), Some(3));
    assert!(m["busy_at_start"].is_boolean(), "{m}");
    assert_eq!(r["parameters"]["connects"], 4);
    assert_eq!(r["orasim"]["server_version"], "19.3.0.0.0");
    assert_eq!(r["peers"]["requested"], false);
    assert!(r["peers"]["info"].is_null());

    // Connect cycles: every attempt succeeded, percentiles are ordered.
    let targets: Vec<&str> = r["connect"]
        .as_array()
        .expect("connect list")
        .iter()
        .filter_map(|v| v["target"].as_str())
        .collect();
    assert_eq!(targets, ["raw-tcp", "orasim-dedicated"]);
    for c in r["connect"].as_array().expect("connect") {
        let l = &c["latency"];
        assert_eq!(l["samples"], 4, "{c}");
        assert_eq!(l["errors"], serde_json::json!({}), "{c}");
        assert_eq!(l["stopped_by_time_limit"], false, "{c}");
        let q = |k: &str| l[k].as_u64().unwrap_or_else(|| panic!("{k} missing: {c}"));
        assert!(
            q("min_us") <= q("p50_us") && q("p50_us") <= q("p90_us"),
            "{c}"
        );
        assert!(
            q("p90_us") <= q("p99_us") && q("p99_us") <= q("max_us"),
            "{c}"
        );
    }

    // Round trips of a connect cycle, counted on the wire by tnsbench's relay: the echo is
    // one; orasim is CONNECT/ACCEPT, protocol, data types, O5LOGON phases 1 and 2, LOGOFF.
    assert_eq!(
        r["connect_round_trips"]["raw-tcp"], 1,
        "{}",
        r["connect_round_trips"]
    );
    assert_eq!(
        r["connect_round_trips"]["orasim-dedicated"], 6,
        "{}",
        r["connect_round_trips"]
    );

    // The same six round trips, timed step by step over every relayed cycle.
    let anatomy = by_target(&r["connect_anatomy"], "orasim-dedicated");
    assert_eq!(anatomy.len(), 1);
    let a = anatomy[0];
    assert_eq!(a["cycles_measured"], 4, "{a}");
    assert_eq!(a["cycles_failed"], 0, "{a}");
    let labels: Vec<&str> = a["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["label"].as_str())
        .collect();
    assert_eq!(labels.len(), 6, "{a}");
    assert!(labels[0].starts_with("TNS CONNECT -> ACCEPT"), "{a}");
    assert_eq!(labels[5], "LOGOFF");
    for st in a["steps"].as_array().expect("steps") {
        assert!(st["server_p50_us"].is_u64(), "{st}");
    }

    // Round trips: raw echo, select and ping, each one network round trip per call.
    let rt = &r["round_trip"];
    assert_eq!(by_target(rt, "raw-tcp").len(), 1);
    let ora = by_target(rt, "orasim-dedicated");
    assert_eq!(ora.len(), 2, "{rt}");
    for m in ora {
        assert_eq!(m["latency"]["samples"], 10, "{m}");
    }
    assert_eq!(r["round_trips_per_call"]["select 1 from dual"], 1.0);
    assert_eq!(r["round_trips_per_call"]["ping"], 1.0);

    // Memory: one dedicated server per open session, found and measured.
    let mem = by_target(&r["memory"], "orasim-dedicated");
    assert_eq!(mem.len(), 1);
    let mem = mem[0];
    assert_eq!(mem["sessions_open"], 3, "{mem}");
    let per = &mem["per_session"];
    assert_eq!(per["processes"], 3, "{mem}");
    let pss = per["mean"]["pss_kib"].as_f64().expect("pss");
    let rss = per["mean"]["rss_kib"].as_f64().expect("rss");
    assert!(pss > 0.0 && pss <= rss, "{mem}");
    let daemons: Vec<&str> = r["daemons"]
        .as_array()
        .expect("daemons")
        .iter()
        .filter_map(|d| d["name"].as_str())
        .collect();
    assert_eq!(
        daemons,
        ["tnslsnr", "tnslsnr spawner (zygote)", "oradb instance"]
    );

    // Storm within PROCESSES: everyone got in.
    let st = by_target(&r["storm"], "orasim-dedicated");
    assert_eq!(st.len(), 1);
    assert_eq!(st[0]["clients"], 4);
    assert_eq!(st[0]["connected"], 4, "{}", st[0]);
    assert_eq!(st[0]["errors"], serde_json::json!({}));
    assert!(st[0]["all_connected_ms"].is_number(), "{}", st[0]);

    assert_nothing_left(&r);
}

#[test]
fn storm_beyond_processes_is_reported_with_oracle_codes() {
    let r = json_run(&[
        "--connects",
        "1",
        "--round-trips",
        "1",
        "--sessions",
        "1",
        "--storm",
        "12",
        "--processes",
        "6",
    ]);
    let st = by_target(&r["storm"], "orasim-dedicated");
    assert_eq!(st.len(), 1);
    let st = st[0];
    let connected = st["connected"].as_u64().expect("connected");
    let errors = st["errors"].as_object().expect("errors");
    let failed: u64 = errors.values().filter_map(Value::as_u64).sum();
    assert!((1..12).contains(&connected), "{st}");
    assert_eq!(connected + failed, 12, "{st}");
    for code in errors.keys() {
        assert!(
            ["ORA-00020", "ORA-12516", "ORA-12519", "ORA-12520"].contains(&code.as_str()),
            "unexpected error {code}: {st}"
        );
    }
    assert!(st["all_connected_ms"].is_null(), "{st}");
    assert_nothing_left(&r);
}

#[test]
fn table_output_and_unimplemented_modes() {
    let out = tnsbench(&[
        "--connects",
        "2",
        "--round-trips",
        "2",
        "--sessions",
        "1",
        "--storm",
        "0",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    for heading in [
        "mode dedicated",
        "load average at start",
        "connect cost: 2 sequential cycles per target",
        "round trips on one connection: 2 per target",
        "network round trips per connect cycle (counted on the wire)",
        "connect anatomy: median per round trip",
        "memory per idle session: 1 sessions open",
        "connect storm: 0 clients at once",
        "orasim-dedicated",
        "raw-tcp",
        "peers: not requested",
    ] {
        assert!(text.contains(heading), "table lacks {heading:?}:\n{text}");
    }
    for mode in ["prespawned", "shared"] {
        let out = tnsbench(&["--mode", mode]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "--mode {mode} should fail");
        assert!(
            err.contains(&format!("mode {mode}: not implemented yet")),
            "{err}"
        );
    }
    let out = tnsbench(&["--mode", "threaded"]);
    assert!(!out.status.success());
}
