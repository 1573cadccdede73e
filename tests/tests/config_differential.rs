//! Differential test against python-oracledb 26.1.0 (Oracle's own thin driver): for every
//! alias of every tnsnames file of the corpus, and for a table of Easy Connect strings,
//! `orasim resolve --json` and `oracledb.ConnectParams(config_dir=...).parse_connect_string`
//! must agree on each description's addresses (protocol, host, port, in order),
//! service_name, sid, instance_name and server — and also on RETRY_COUNT, RETRY_DELAY,
//! TRANSPORT_CONNECT_TIMEOUT, EXPIRE_TIME, SDU, FAILOVER, LOAD_BALANCE and SOURCE_ROUTE
//! (unset values compare as the client defaults). Every deliberate difference is listed in
//! [`KNOWN_DIFFERENCES`] with what each side must answer and why, and each listed
//! difference must still occur. When both sides fail, the failures must be of the same
//! kind ([`Failure`]: no such alias, or a malformed entry/string); the few double failures
//! whose kinds cannot be compared are listed per alias in [`BOTH_FAIL_DIFFERENTLY`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use tests::corpus::{self, Kind};

/// The python side: reads `[[config_dir, identifier], ...]` from a file, prints one JSON
/// object per line with the normalised resolution or the error text.
const PY: &str = r#"
import json, sys, oracledb
jobs = json.load(open(sys.argv[1]))
names = {}
for d in sorted({d for d, _ in jobs if d}):
    try:
        names[d] = sorted(oracledb.ConnectParams(config_dir=d).get_network_service_names())
    except Exception as e:
        names[d] = []
print(json.dumps({"names": names}))
for d, ident in jobs:
    try:
        p = oracledb.ConnectParams(config_dir=d)
        p.parse_connect_string(ident)
        out = []
        for desc in p._impl.description_list.children:
            addrs = [{"protocol": (a.protocol or "").lower(), "host": a.host, "port": a.port}
                     for lst in desc.children for a in lst.children]
            out.append({"addresses": addrs, "service_name": desc.service_name, "sid": desc.sid,
                        "instance_name": desc.instance_name,
                        "server": desc.server_type.lower() if desc.server_type else None,
                        "retry_count": desc.retry_count, "retry_delay": desc.retry_delay,
                        "transport_connect_timeout_ms": round(desc.tcp_connect_timeout * 1000),
                        "expire_time": desc.expire_time, "sdu": desc.sdu,
                        "failover": bool(desc.failover), "load_balance": bool(desc.load_balance),
                        "source_route": bool(desc.source_route)})
        print(json.dumps({"ok": out}))
    except Exception as e:
        print(json.dumps({"err": str(e).split("\n")[0]}))
"#;

/// Easy Connect strings resolved by both sides with an empty configuration directory.
const EZCONNECT: &[&str] = &[
    "dbhost/orclpdb",
    "dbhost:1522/orclpdb",
    "//dbhost/orclpdb",
    "tcp://dbhost:1521/orclpdb",
    "tcps://dbhost:2484/orclpdb",
    "db.example.com:1521/sales.us.example.com",
    "h-1_a.b:1/svc_1.x",
    "127.0.0.1:15901/FREEPDB1",
    "[::1]:1521/orcl",
    "[fe80::1]/orcl",
    "h1,h2:1522/svc",
    "h1:1,h2:2/svc",
    "h1,h2:1522;h3/svc",
    "h1:1;h2:2;h3:3/svc",
    "dbhost/svc:dedicated",
    "dbhost/svc:SHARED",
    "dbhost/svc:pooled",
    "dbhost/svc/inst1",
    "dbhost/svc:dedicated/inst1",
    "dbhost:1521/svc?connect_timeout=5&retry_count=3&retry_delay=2",
    "dbhost/svc:pooled?pool_connection_class=MYAPP&pool_purity=self",
    "dbhost/svc?transport_connect_timeout=10&expire_time=2",
    "dbhost/svc?ssl_server_dn_match=on",
    "tcps://adb.eu-frankfurt-1.oraclecloud.com:1522/abc_high.adb.oraclecloud.com?wallet_location=/w",
    "dbhost:1521",
    "dbhost",
    "dbhost/svc extra",
    "(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=h)(PORT=1))(CONNECT_DATA=(SERVICE_NAME=s)(SERVER=dedicated)))",
    "(DESCRIPTION_LIST=(LOAD_BALANCE=off)(DESCRIPTION=(ADDRESS_LIST=(ADDRESS=(HOST=a)(PORT=1))(ADDRESS=(HOST=b)(PORT=2)))(CONNECT_DATA=(SID=x)))(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=c))(CONNECT_DATA=(SERVICE_NAME=y)(INSTANCE_NAME=i))))",
];

/// What one side must answer for a listed difference to excuse a mismatch.
#[derive(Debug, Clone, Copy)]
enum Answer {
    /// An error whose text contains this (never empty) needle.
    Err(&'static str),
    /// A resolution, whatever it is.
    Resolves,
    /// A resolution with at least one `ipc` address.
    ResolvesWithIpc,
}

impl Answer {
    fn matches(self, v: &Value) -> bool {
        match self {
            Answer::Err(needle) => v
                .get("err")
                .and_then(Value::as_str)
                .is_some_and(|t| t.contains(needle)),
            Answer::Resolves => v.get("ok").is_some(),
            Answer::ResolvesWithIpc => v["ok"].as_array().is_some_and(|ds| {
                ds.iter().any(|d| {
                    d["addresses"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|a| a["protocol"].as_str() == Some("ipc")))
                })
            }),
        }
    }
}

/// Deliberate differences: corpus file (or `ezconnect`, or `*`), identifier (or `*`), what
/// orasim answers, what python-oracledb answers, and why. A mismatch is excused only when
/// both answers are the ones listed; each listed difference must still occur.
struct Known {
    file: &'static str,
    ident: &'static str,
    ours: Answer,
    theirs: Answer,
    why: &'static str,
}

const KNOWN_DIFFERENCES: &[Known] = &[
    Known {
        file: "ezconnect",
        ident: "dbhost:1521",
        ours: Answer::Resolves,
        theirs: Answer::Err("DPY-4026"),
        why: "Oracle's Easy Connect makes the service name optional (`host:port` reaches the \
              listener's default service); python-oracledb treats a string without '/' as an alias",
    },
    Known {
        file: "*",
        ident: "*",
        ours: Answer::ResolvesWithIpc,
        theirs: Answer::Err("DPY-4021: invalid protocol \"ipc\""),
        why: "python-oracledb's thin mode cannot use IPC addresses; an Oracle client resolves \
              them (the listener serves IPC endpoints), so orasim resolves them too",
    },
    Known {
        file: "tnsnames/001_oraconf.ora",
        ident: "*",
        ours: Answer::Resolves,
        theirs: Answer::Err("DPY-4028"),
        why: "SERVER=DEDICATED_1: python-oracledb refuses every alias of the file once it meets \
              the bad server type; orasim keeps the entry with a warning and reports the value \
              as written",
    },
    Known {
        file: "tnsnames/012_Oracle.ora",
        ident: "*",
        ours: Answer::Resolves,
        theirs: Answer::Err("DPY-4026"),
        why: "the file ends with an IFILE to an absolute path that does not exist here: \
              python-oracledb fails the whole file, orasim warns and keeps the file's own entries",
    },
    Known {
        file: "tnsnames/024_wrapper.ora",
        ident: "DEMO",
        ours: Answer::Err("ORA-12154"),
        theirs: Answer::Resolves,
        why: "` DEMO =` is indented, so by Oracle's column-1 rule it continues the previous \
              parameter: orasim reports an error and skips it; python-oracledb ignores indentation",
    },
    Known {
        file: "tnsnames/013_Oracle.ora",
        ident: "*",
        ours: Answer::Resolves,
        theirs: Answer::Err("DPY-4000"),
        why: "HEDWQA3 misses its last ')': python-oracledb balances parentheses across entries \
              and swallows every following alias into HEDWQA3; Oracle's column-1 rule (which \
              orasim follows) ends the broken entry at the next alias, so those aliases still \
              resolve",
    },
    Known {
        file: "tnsnames/023_OracleLambda.ora",
        ident: "MYSERVICE",
        ours: Answer::Err("ORA-12154"),
        theirs: Answer::Resolves,
        why: "the entry's parentheses never balance (ADDRESS is not closed before CONNECT_DATA): \
              orasim rejects it with an error; python-oracledb reads what it can and ignores \
              the nesting error",
    },
    Known {
        file: "tnsnames/028_grammars-v4.ora",
        ident: "*",
        ours: Answer::Resolves,
        theirs: Answer::Err("DPY-4017"),
        why: "the DESCRIPTION_LIST has a BEQ address with ARGS='(DESCRIPTION=(LOCAL=YES)...)' \
              (single-quoted value with parentheses) and SPX/NMP addresses: python-oracledb's \
              descriptor parser rejects single-quoted values, Oracle's accepts them",
    },
    Known {
        file: "tnsnames/033_Oracle-Note.ora",
        ident: "INST1_HTTP",
        ours: Answer::Resolves,
        theirs: Answer::Err("DPY-4018: cannot parse connect string \"(DESCRIPTION ="),
        why: "`)219.238.187.67` after the closing parenthesis: orasim reports the stray text and \
              keeps the complete descriptor before it; python-oracledb fails on the whole value",
    },
    Known {
        file: "tnsnames/034_directory.ora",
        ident: "*",
        ours: Answer::Resolves,
        theirs: Answer::Err("DPY-4018"),
        why: "python-oracledb decodes tnsnames.ora as strict UTF-8 and cannot read this file (a \
              Latin-1 0xA0 byte in a comment); orasim, like Oracle's client, does not care what \
              bytes a comment holds",
    },
    Known {
        file: "tnsnames/037_colin-scraper.ora",
        ident: "CPRD.WORLD",
        ours: Answer::Resolves,
        theirs: Answer::Err("DPY-4018"),
        why: "template placeholders (PORT = <your_port>): python-oracledb cannot use the entry; \
              orasim resolves it with a warning and reports the port as null",
    },
];

/// Why an identifier did not resolve, on either side, where the two drivers' errors can be
/// compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// No such alias (or no tnsnames.ora at all): orasim's ORA-12154 for a name no entry
    /// defines; python-oracledb's DPY-4000 (not in tnsnames.ora) or DPY-4026 (no file).
    NotFound,
    /// The alias exists but its entry, or the Easy Connect string, is malformed: orasim's
    /// ORA-12154 for an alias whose entry was skipped with an error, or an Easy Connect syntax
    /// error; python-oracledb's DPY-4017 (invalid descriptor) or DPY-4018 (cannot parse).
    Malformed,
    /// Anything else (for python-oracledb, e.g. DPY-4021 for a protocol thin mode lacks).
    Other,
}

/// Classifies orasim's error for `ident` resolved against the tnsnames.ora in `dir`.
fn our_failure(err: &str, dir: &Path, ident: &str) -> Failure {
    if !err.contains("ORA-12154: TNS:could not resolve the connect identifier specified") {
        return Failure::Other;
    }
    let broken = config::TnsNames::load(&dir.join("tnsnames.ora"))
        .is_ok_and(|t| t.value.broken(ident).is_some());
    if broken || err.contains("Easy Connect syntax error") {
        Failure::Malformed
    } else {
        Failure::NotFound
    }
}

fn their_failure(err: &str) -> Failure {
    if err.starts_with("DPY-4000:") || err.starts_with("DPY-4026:") {
        Failure::NotFound
    } else if err.starts_with("DPY-4017:") || err.starts_with("DPY-4018:") {
        Failure::Malformed
    } else {
        Failure::Other
    }
}

/// Identifiers both sides fail for reasons that cannot be compared: (files, identifiers,
/// orasim's error contains, python-oracledb's error contains, why). Every listed
/// (file, identifier) pair must still fail this way.
type BothFail = (
    &'static [&'static str],
    &'static [&'static str],
    &'static str,
    &'static str,
    &'static str,
);

const BOTH_FAIL_DIFFERENTLY: &[BothFail] = &[
    (
        &["tnsnames/030_templates.ora"],
        &["SAMPLEFULLOPTIONS"],
        "expected ')' to close '(DESCRIPTION_LIST'",
        "DPY-4021: invalid protocol \"ipc\"",
        "the DESCRIPTION_LIST is never closed: orasim skips the entry with an error; \
         python-oracledb stops earlier, at the IPC address thin mode cannot use",
    ),
    (
        &["tnsnames/020_Master_oracle.ora", "tnsnames/041_Oracle.ora"],
        &["CONTOH", "FAILOVER", "FAILOVER & LOAD BALANCE"],
        "ORA-12154: TNS:could not resolve the connect identifier specified",
        "DPY-4018: cannot parse connect string \"===",
        "underlined headings (`CONTOH` over a line of '='): by the column-1 rule the heading \
         has no '=' and the '=' line has no name, so orasim defines no such alias (and \
         `FAILOVER & LOAD BALANCE` is not a name at all); python-oracledb joins the lines into \
         an alias whose value is the '=' run and fails to parse it",
    ),
];

fn orasim() -> PathBuf {
    tests::instance::workspace_bin("client", "orasim")
}

/// Our side, through the real binary: normalised like the python side.
fn ours(bin: &Path, dir: &Path, ident: &str) -> Value {
    let out = Command::new(bin)
        .args(["resolve", "--json", "--config-dir"])
        .arg(dir)
        .arg(ident)
        .env_remove("TNS_ADMIN")
        .output()
        .expect("run orasim");
    if !out.status.success() {
        return json!({"err": String::from_utf8_lossy(&out.stderr).trim().to_string()});
    }
    let v: Value = serde_json::from_slice(&out.stdout).expect("orasim JSON");
    let descs: Vec<Value> = v["descriptions"]
        .as_array()
        .expect("descriptions")
        .iter()
        .map(|d| {
            let addrs: Vec<Value> = d["addresses"]
                .as_array()
                .expect("addresses")
                .iter()
                .map(|a| json!({"protocol": a["protocol"], "host": a["host"], "port": a["port"]}))
                .collect();
            // Unset parameters compare as python-oracledb's defaults (which are Oracle's).
            let or = |k: &str, default: Value| {
                if d[k].is_null() {
                    default
                } else {
                    d[k].clone()
                }
            };
            json!({
                "addresses": addrs,
                "service_name": empty_is_null(&d["service_name"]),
                "sid": empty_is_null(&d["sid"]),
                "instance_name": empty_is_null(&d["instance_name"]),
                "server": d["server"],
                "retry_count": or("retry_count", json!(0)),
                "retry_delay": or("retry_delay", json!(1)),
                "transport_connect_timeout_ms": or("transport_connect_timeout_ms", json!(20_000)),
                "expire_time": or("expire_time", json!(0)),
                "sdu": or("sdu", json!(8192)),
                "failover": or("failover", json!(true)),
                "load_balance": or("load_balance", json!(false)),
                "source_route": or("source_route", json!(false)),
            })
        })
        .collect();
    json!({ "ok": descs })
}

/// `(SERVICE_NAME=)` is "unset" to python-oracledb and "empty" to us; both mean the
/// listener's default service, so they compare equal.
fn empty_is_null(v: &Value) -> Value {
    match v.as_str() {
        Some("") => Value::Null,
        _ => v.clone(),
    }
}

/// The index of the listed difference that explains this mismatch, if any.
fn known(file: &str, ident: &str, mine: &Value, theirs: &Value) -> Option<usize> {
    KNOWN_DIFFERENCES.iter().position(|k| {
        (k.file == "*" || k.file == file)
            && (k.ident == "*" || k.ident.eq_ignore_ascii_case(ident))
            && k.ours.matches(mine)
            && k.theirs.matches(theirs)
    })
}

#[test]
fn orasim_resolve_agrees_with_python_oracledb() {
    let bin = orasim();
    let python = tests::pyenv::python();
    let work = tempfile::tempdir().expect("tempdir");

    // One config dir per corpus tnsnames file: a symlink named tnsnames.ora (read in place).
    let mut jobs: Vec<(String, String, PathBuf, String)> = Vec::new(); // (file, ident, dir, label)
    let mut dirs: BTreeMap<String, PathBuf> = BTreeMap::new();
    for (i, f) in corpus::files()
        .iter()
        .filter(|f| f.kind == Kind::Tnsnames)
        .enumerate()
    {
        let dir = work.path().join(format!("t{i}"));
        std::fs::create_dir(&dir).expect("mkdir");
        std::os::unix::fs::symlink(&f.path, dir.join("tnsnames.ora")).expect("symlink");
        dirs.insert(f.rel.clone(), dir);
    }
    let empty = work.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");

    // Python's alias lists first, to take the union with ours.
    let mut py_jobs: Vec<(String, String)> = dirs
        .values()
        .map(|d| (d.display().to_string(), "__no_such_alias__".to_string()))
        .collect();
    let names = run_python(&python, work.path(), &py_jobs).0;
    py_jobs.clear();
    for (rel, dir) in &dirs {
        let ours_names = config::TnsNames::load(&dir.join("tnsnames.ora"))
            .expect("load")
            .value
            .aliases();
        let theirs: Vec<String> = names[&dir.display().to_string()]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_ascii_uppercase))
                    .collect()
            })
            .unwrap_or_default();
        let all: BTreeSet<String> = ours_names.into_iter().chain(theirs).collect();
        for a in all {
            jobs.push((rel.clone(), a.clone(), dir.clone(), a));
        }
    }
    for ez in EZCONNECT {
        jobs.push((
            "ezconnect".to_string(),
            ez.to_string(),
            empty.clone(),
            ez.to_string(),
        ));
    }
    let py_input: Vec<(String, String)> = jobs
        .iter()
        .map(|(_, id, d, _)| (d.display().to_string(), id.clone()))
        .collect();
    let (_, results) = run_python(&python, work.path(), &py_input);
    assert_eq!(results.len(), jobs.len());

    let mut compared = 0;
    let mut agreed = 0;
    let mut unexpected = Vec::new();
    let mut seen_known = BTreeSet::new();
    let mut seen_both = BTreeSet::new();
    let mut both_failed_alike = 0;
    for ((file, ident, dir, _), theirs) in jobs.iter().zip(&results) {
        let mine = ours(&bin, dir, ident);
        let errs = (
            mine.get("err").and_then(Value::as_str),
            theirs.get("err").and_then(Value::as_str),
        );
        if let (Some(o), Some(p)) = errs {
            // Both fail: the failures must be of the same kind, or be listed.
            compared += 1;
            let (ko, kp) = (our_failure(o, dir, ident), their_failure(p));
            let listed = BOTH_FAIL_DIFFERENTLY.iter().any(|(fs, is, on, pn, _)| {
                fs.contains(&file.as_str())
                    && is.iter().any(|i| i.eq_ignore_ascii_case(ident))
                    && o.contains(on)
                    && p.contains(pn)
            });
            if listed {
                seen_both.insert((file.to_string(), ident.to_ascii_uppercase()));
            } else if ko == Failure::Other || ko != kp {
                unexpected.push(format!(
                    "{file} {ident}: both fail, differently ({ko:?} vs {kp:?}):\n  orasim: {o}\n  python: {p}"
                ));
            } else {
                both_failed_alike += 1;
            }
            continue;
        }
        let same = mine == *theirs;
        compared += 1;
        if mine == *theirs && mine.get("ok").is_some() {
            agreed += 1;
        }
        if !same {
            match known(file, ident, &mine, theirs) {
                Some(k) => {
                    seen_known.insert(k);
                }
                None => unexpected.push(format!(
                    "{file} {ident}:\n  orasim: {mine}\n  python: {theirs}"
                )),
            }
        }
    }
    eprintln!(
        "{compared} identifiers compared, {agreed} resolved identically by both, \
         {both_failed_alike} failed alike"
    );
    assert!(
        agreed > 500,
        "only {agreed} of {compared} identifiers resolved identically"
    );
    assert!(
        unexpected.is_empty(),
        "{} differences with python-oracledb:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
    for (k, d) in KNOWN_DIFFERENCES.iter().enumerate() {
        assert!(
            seen_known.contains(&k),
            "listed difference no longer occurs: {} {} ({})",
            d.file,
            d.ident,
            d.why
        );
    }
    for (fs, is, _, _, why) in BOTH_FAIL_DIFFERENTLY {
        for f in *fs {
            for i in *is {
                assert!(
                    seen_both.contains(&(f.to_string(), i.to_ascii_uppercase())),
                    "listed double failure no longer occurs: {f} {i} ({why})"
                );
            }
        }
    }
    // The corpus has malformed entries both drivers reject: the comparison of failure
    // kinds must have had something to compare.
    assert!(
        both_failed_alike >= 5,
        "only {both_failed_alike} identifiers failed alike on both sides"
    );
}

/// Runs the python side; returns the names object and one result per job.
fn run_python(python: &Path, work: &Path, jobs: &[(String, String)]) -> (Value, Vec<Value>) {
    let input = work.join("jobs.json");
    let script = work.join("resolve.py");
    std::fs::write(&input, serde_json::to_vec(jobs).expect("json")).expect("write jobs");
    std::fs::write(&script, PY).expect("write script");
    let out = Command::new(python)
        .arg(&script)
        .arg(&input)
        .env_remove("TNS_ADMIN")
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let names: Value = serde_json::from_str(lines.next().expect("names line")).expect("names json");
    let results = lines
        .map(|l| serde_json::from_str(l).expect("result json"))
        .collect();
    (names["names"].clone(), results)
}
