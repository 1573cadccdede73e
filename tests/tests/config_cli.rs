//! `orasim check` and `orasim resolve` as a DBA uses them: diagnostics as
//! `file:line:col: error: ...`, exit status 1 on errors, Oracle's search order for the
//! configuration directory, ORA-12154 for identifiers nothing resolves.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use tests::corpus::corpus_dir;
use tests::instance::workspace_bin;

fn orasim(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut c = Command::new(workspace_bin("client", "orasim"));
    c.args(args)
        .env_remove("TNS_ADMIN")
        .env_remove("ORACLE_HOME");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run orasim")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

#[test]
fn check_reports_errors_with_position_and_exit_status() {
    let bad = corpus_dir().join("tnsnames/023_OracleLambda.ora");
    let o = orasim(&["check", bad.to_str().expect("utf8")], &[]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    let expected = format!(
        "{}:6:2: error: expected ')' to close '(ADDRESS'",
        bad.display()
    );
    assert!(out.starts_with(&expected), "{out}");

    // Well-formed files of every kind (warnings allowed) exit 0.
    let good: Vec<String> = [
        "tnsnames/021_dbn.ora",
        "listener/002_ADMIN.ora",
        "sqlnet/017_oradba.ora",
    ]
    .iter()
    .map(|f| corpus_dir().join(f).display().to_string())
    .collect();
    let args: Vec<&str> = std::iter::once("check")
        .chain(good.iter().map(String::as_str))
        .collect();
    let o = orasim(&args, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(!stdout(&o).contains(": error:"));

    // A sqlnet.ora typo is a warning, not an error; the kind is taken from the directory.
    let f = corpus_dir().join("sqlnet/020_s_common.ora");
    let out = stdout(&orasim(&["check", f.to_str().expect("utf8")], &[]));
    assert!(
        out.contains(":20:1: error: expected a parameter name, found control character U+001F"),
        "{out}"
    );
    assert!(
        out.contains("warning: unknown sqlnet.ora parameter NAME.DEFAULT_ZONE kept"),
        "{out}"
    );
}

#[test]
fn check_names_unknown_protocols_levels_and_naming_methods_with_the_accepted_values() {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p.display().to_string()
    };
    let listener = write(
        "listener.ora",
        "LISTENER =\n  (DESCRIPTION =\n    (ADDRESS = (PROTOCOL = TPC)(HOST = 127.0.0.1)(PORT = 1521))\n  )\nTRACE_LEVEL_LISTENER = LOUD\n",
    );
    let sqlnet = write(
        "sqlnet.ora",
        "NAMES.DIRECTORY_PATH = (TNSNAMES, EZCONECT)\n",
    );
    let tnsnames = write(
        "tnsnames.ora",
        "ORCL = (DESCRIPTION = (ADDRESS = (PROTOCOL = TCP)(HOST = h)(PORT = 1521)))\n",
    );
    let o = orasim(&["check", &listener, &sqlnet, &tnsnames], &[]);
    let out = stdout(&o);
    assert!(
        out.contains(&format!(
            "{listener}:3:17: warning: PROTOCOL = TPC: unknown protocol; accepted: TCP, TCPS, IPC, NMP, SDP, BEQ, EXADIRECT, WS, WSS"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "{listener}:5:24: warning: TRACE_LEVEL_LISTENER: expected OFF, USER, ADMIN, SUPPORT or a level from 0 to 16"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "{sqlnet}:1:35: warning: NAMES.DIRECTORY_PATH: unknown naming method EZCONECT; accepted: TNSNAMES, EZCONNECT, LDAP, HOSTNAME, NIS, CDS"
        )),
        "{out}"
    );
    // The well-formed tnsnames.ora says nothing.
    assert!(!out.contains(&tnsnames), "{out}");
}

#[test]
fn check_reads_listener_toml_and_unreadable_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let toml = dir.path().join("listener.toml");
    std::fs::write(&toml, "[listener.LISTENER]\ninbound_connect_timeout = 5\nbogus = 1\n[[listener.LISTENER.endpoint]]\nport = 1521\n")
        .expect("write");
    let o = orasim(&["check", toml.to_str().expect("utf8")], &[]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o).trim(),
        format!(
            "{}:3:1: warning: listener LISTENER: unknown key bogus kept",
            toml.display()
        )
    );

    std::fs::write(&toml, "[listener.LISTENER]\nport = = 1\n").expect("write");
    let o = orasim(&["check", toml.to_str().expect("utf8")], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).starts_with(&format!("{}:2:", toml.display())),
        "{}",
        stdout(&o)
    );

    let missing = dir.path().join("nope.ora");
    let o = orasim(&["check", missing.to_str().expect("utf8")], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("error: cannot read file"));

    // init.ora-style files go through the same parser.
    let init = dir.path().join("initORCL.ora");
    std::fs::write(
        &init,
        "*.db_name='ORCL'\ncontrol_files = ('/u01/a.ctl', '/u02/b.ctl')\nprocesses = (300\n",
    )
    .expect("write");
    let o = orasim(&["check", init.to_str().expect("utf8")], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).starts_with(&format!("{}:3:", init.display())),
        "{}",
        stdout(&o)
    );
}

#[test]
fn resolve_follows_tns_admin_then_oracle_home() {
    let home = tempfile::tempdir().expect("tempdir");
    let admin = home.path().join("network/admin");
    std::fs::create_dir_all(&admin).expect("mkdir");
    std::fs::write(
        admin.join("tnsnames.ora"),
        "ORCL, orcl.world =\n  (DESCRIPTION =\n    (ADDRESS = (PROTOCOL = TCP)(HOST = db1)(PORT = 1522))\n    (CONNECT_DATA = (SERVICE_NAME = orclpdb)(SERVER = DEDICATED)))\n",
    )
    .expect("write");
    let tns_admin = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        tns_admin.path().join("tnsnames.ora"),
        "orcl = (DESCRIPTION=(ADDRESS=(HOST=db2)(PORT=1))(CONNECT_DATA=(SID=X)))\n",
    )
    .expect("write");

    // ORACLE_HOME only.
    let o = orasim(
        &["resolve", "--json", "Orcl.World"],
        &[("ORACLE_HOME", home.path())],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    let d = &v["descriptions"][0];
    assert_eq!(d["addresses"][0]["host"], "db1");
    assert_eq!(d["addresses"][0]["port"], 1522);
    assert_eq!(d["addresses"][0]["protocol"], "tcp");
    assert_eq!(d["service_name"], "orclpdb");
    assert_eq!(d["server"], "dedicated");
    assert!(d["sid"].is_null() && d["instance_name"].is_null());
    assert_eq!(v["source"], "tnsnames");

    // TNS_ADMIN wins over ORACLE_HOME.
    let o = orasim(
        &["resolve", "--json", "ORCL"],
        &[
            ("ORACLE_HOME", home.path()),
            ("TNS_ADMIN", tns_admin.path()),
        ],
    );
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["descriptions"][0]["addresses"][0]["host"], "db2");
    assert_eq!(v["descriptions"][0]["sid"], "X");

    // Canonical text form.
    let o = orasim(&["resolve", "orcl"], &[("ORACLE_HOME", home.path())]);
    let text = stdout(&o);
    assert!(
        text.contains("(ADDRESS = (PROTOCOL = TCP)(HOST = db1)(PORT = 1522))"),
        "{text}"
    );
    assert!(text.contains("(SERVICE_NAME = orclpdb)"), "{text}");

    // Unresolvable: ORA-12154 and exit 1.
    let o = orasim(&["resolve", "nosuch"], &[("ORACLE_HOME", home.path())]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr).trim(),
        "ORA-12154: TNS:could not resolve the connect identifier specified"
    );

    // Easy Connect needs no file at all.
    let o = orasim(&["resolve", "--json", "h1,h2:1523/svc:shared/inst1"], &[]);
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    let d = &v["descriptions"][0];
    assert_eq!(d["addresses"].as_array().map(Vec::len), Some(2));
    assert_eq!(d["addresses"][1]["port"], 1523);
    assert_eq!(
        (
            d["service_name"].as_str(),
            d["server"].as_str(),
            d["instance_name"].as_str()
        ),
        (Some("svc"), Some("shared"), Some("inst1"))
    );
}
