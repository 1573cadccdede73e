//! `orasql` as a child process against the session engine (in process on 127.0.0.1:0):
//! statements from stdin (`;` and `/` terminators, PL/SQL blocks, `exit`), `-c`, the
//! SQL*Plus-like table and error output, exit status, and a tnsnames alias via TNS_ADMIN.

use std::time::Duration;

use tests::client_harness::{NamingDir, run_orasql};
use tests::py::start_server;

const LIMIT: Duration = Duration::from_secs(60);

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn statements_from_stdin_print_sqlplus_tables() {
    let s = start_server();
    let logon = format!("scott/tiger@127.0.0.1:{}/ORCL", s.port);
    let script = "select 1 from dual;\n\
                  select 'hello' as greeting, null as nothing\n  from dual\n/\n\
                  select * from missing_table;\n\
                  SELECT LEVEL FROM DUAL CONNECT BY LEVEL <= 3;\n\
                  begin\n  dbms_session.sleep(0.1);\nend;\n/\n\
                  commit;\n\
                  exit\n\
                  select 'not reached' from dual;\n";
    let out = run_orasql(&[&logon], script, None, LIMIT);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("\n         1\n----------\n         1\n\n1 row selected.\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("GREETING NOTHING\n-------- -------\nhello\n\n1 row selected.\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "select * from missing_table\n              *\nERROR at line 1:\nORA-00942: table or view does not exist\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "     LEVEL\n----------\n         1\n         2\n         3\n\n3 rows selected.\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("PL/SQL procedure successfully completed."),
        "{stdout}"
    );
    assert!(stdout.contains("Commit complete."), "{stdout}");
    assert!(!stdout.contains("not reached"), "{stdout}");
    // A statement failed: script mode reports it in the exit status.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
}

#[test]
fn dash_c_runs_and_sets_the_exit_status() {
    let s = start_server();
    let logon = format!("scott/tiger@127.0.0.1:{}/ORCL", s.port);
    let out = run_orasql(
        &[&logon, "-c", "select user from dual; select 2+3 from dual"],
        "",
        None,
        LIMIT,
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("USER\n-----\nSCOTT\n"), "{stdout}");
    assert!(
        stdout.contains("       2+3\n----------\n         5\n"),
        "{stdout}"
    );

    let out = run_orasql(&[&logon, "-c", "select * from nosuch"], "", None, LIMIT);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("ORA-00942: table or view does not exist"));

    let bad = format!("scott/wrong@127.0.0.1:{}/ORCL", s.port);
    let out = run_orasql(&[&bad, "-c", "select 1 from dual"], "", None, LIMIT);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("ERROR:\nORA-01017: "),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn password_from_stdin_and_alias_from_tns_admin() {
    let s = start_server();
    let naming = NamingDir::with_tnsnames(&format!(
        "ORCL =\n  (DESCRIPTION =\n    (ADDRESS = (PROTOCOL = TCP)(HOST = 127.0.0.1)(PORT = {}))\n    (CONNECT_DATA = (SERVICE_NAME = ORCL)))\n",
        s.port
    ));
    // No password on the command line: orasql reads it from stdin (not a terminal).
    let out = run_orasql(
        &["scott@orcl"],
        "tiger\nselect sys_context('USERENV','SERVICE_NAME') as svc from dual;\nquit\n",
        Some(&naming.path()),
        LIMIT,
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("SVC\n----\nORCL\n"), "{stdout}");
}

#[test]
fn sqlplus_connect_disconnect_and_show_user() {
    let s = start_server();
    let logon = format!("scott/tiger@127.0.0.1:{}/ORCL", s.port);
    let script = format!(
        "show user\ndisconnect\nshow user\nselect 1 from dual;\nconn {logon}\nshow user\nselect 7 from dual;\n"
    );
    let out = run_orasql(&[&logon], &script, None, LIMIT);
    let stdout = text(&out.stdout);
    let want = [
        "USER is \"SCOTT\"",
        "Disconnected.",
        "USER is \"\"",
        "SP2-0640: Not connected",
        "Connected.",
        "USER is \"SCOTT\"",
        "         7\n----------\n         7\n",
    ];
    let mut at = 0;
    for w in want {
        let i = stdout[at..]
            .find(w)
            .unwrap_or_else(|| panic!("missing {w:?} after byte {at}:\n{stdout}"));
        at += i + w.len();
    }
    // The statement without a connection failed: exit status 1.
    assert_eq!(out.status.code(), Some(1), "{stdout}");
}

#[test]
fn set_whenever_prompt_and_exit_codes() {
    let s = start_server();
    let logon = format!("scott/tiger@127.0.0.1:{}/ORCL", s.port);
    // Bare values, as a shell script would read them.
    let script = "set feedback off\nset heading off\nset linesize 200\nprompt start\n\
                  select 41+1 from dual;\nset bogus on\n\
                  whenever sqlerror exit 3\nselect * from missing_table;\nprompt not reached\n";
    let out = run_orasql(&[&logon], script, None, LIMIT);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("start\n        42\n"), "{stdout}");
    assert!(!stdout.contains("row selected"), "{stdout}");
    assert!(!stdout.contains("----"), "{stdout}");
    assert!(
        stdout.contains("SP2-0158: unknown SET option \"bogus\""),
        "{stdout}"
    );
    assert!(stdout.contains("ORA-00942"), "{stdout}");
    assert!(!stdout.contains("not reached"), "{stdout}");
    assert_eq!(out.status.code(), Some(3));

    let out = run_orasql(&[&logon], "select 1 from dual;\nexit 5\n", None, LIMIT);
    assert_eq!(out.status.code(), Some(5));
    // WHENEVER SQLERROR CONTINUE (the default) goes on after an error.
    let out = run_orasql(
        &[&logon],
        "whenever sqlerror continue\nselect * from nosuch;\nprompt after\nexit success\n",
        None,
        LIMIT,
    );
    assert!(text(&out.stdout).contains("after"), "{}", text(&out.stdout));
    assert_eq!(out.status.code(), Some(0));
}
