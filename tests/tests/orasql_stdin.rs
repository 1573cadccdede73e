//! `orasql` as a child process against the session engine (in process on 127.0.0.1:0):
//! statements from stdin (`;` and `/` terminators, PL/SQL blocks, `exit`), `-c`, SQL*Plus's
//! table and error layouts (column as wide as its type, FEEDBACK from 6 rows), exit status
//! (EXIT, WHENEVER SQLERROR EXIT SQL.SQLCODE), and a tnsnames alias via TNS_ADMIN.

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
    // One row: no feedback line (FEEDBACK 6); a blank line after the rows.
    assert!(
        stdout.starts_with("\n         1\n----------\n         1\n\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("row selected"), "{stdout}");
    // A character column is as wide as its type: CHAR(5) cuts GREETING to GREET.
    assert!(stdout.contains("\nGREET N\n----- -\nhello\n\n"), "{stdout}");
    assert!(
        stdout.contains(
            "select * from missing_table\n              *\nERROR at line 1:\nORA-00942: table or view does not exist\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("     LEVEL\n----------\n         1\n         2\n         3\n\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("PL/SQL procedure successfully completed."),
        "{stdout}"
    );
    assert!(stdout.contains("Commit complete."), "{stdout}");
    assert!(!stdout.contains("not reached"), "{stdout}");
    // SQL*Plus exits 0 at EXIT whatever failed before (WHENEVER decides otherwise).
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
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
    // USER is a VARCHAR2(128): its column is 128 wide.
    assert!(
        stdout.contains(&format!("USER\n{}\nSCOTT\n", "-".repeat(128))),
        "{stdout}"
    );
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
    assert!(stdout.contains("\nSVC\n---"), "{stdout}");
    assert!(stdout.contains("\nORCL\n"), "{stdout}");
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
        "Disconnected from Oracle Database 19c Enterprise Edition Release 19.0.0.0.0 - Production\nVersion 19.3.0.0.0\n",
        "USER is \"\"",
        "SP2-0640: Not connected",
        "Connected.",
        "USER is \"SCOTT\"",
        "         7\n----------\n         7\n",
    ];
    tests::orasql::assert_in_order(&stdout, &want);
    // End of input without EXIT: status 0, as SQL*Plus.
    assert_eq!(out.status.code(), Some(0), "{stdout}");
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
    // HEADING OFF: the page's blank line, no heading.
    assert!(stdout.contains("start\n\n        42\n"), "{stdout}");
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

#[test]
fn whenever_sqlerror_exit_sql_sqlcode_exits_with_the_ora_number() {
    let s = start_server();
    let logon = format!("scott/tiger@127.0.0.1:{}/ORCL", s.port);
    // ORA-00942: Unix keeps the low byte of 942, as with SQL*Plus: 174.
    let out = run_orasql(
        &[&logon],
        "whenever sqlerror exit sql.sqlcode\nselect * from missing_table;\nprompt not reached\n",
        None,
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(942 % 256), "{}", text(&out.stdout));
    assert!(!text(&out.stdout).contains("not reached"));
    // ORA-01476 (divide by zero): 1476 % 256 = 196.
    let out = run_orasql(
        &[&logon],
        "whenever sqlerror exit sql.sqlcode\nselect 1/0 from dual;\n",
        None,
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(1476 % 256), "{}", text(&out.stdout));
    // EXIT FAILURE / WARNING.
    let out = run_orasql(&[&logon], "exit warning\n", None, LIMIT);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn sqlplus_buffer_commands_set_show_column_and_unknown_commands() {
    let s = start_server();
    let logon = format!("scott/tiger@127.0.0.1:{}/ORCL", s.port);
    let script = "select *\nfrom dual\n\nl\n/\nc/*/dummy d/\nrun\n\
                  foo\ndesc dual\ncol dummy format a5 heading 'Dum'\n/\n\
                  show feedback\nshow linesize\nset numwidth 4 timing on\nselect 7 from dual;\n\
                  set timing off\nselect level from dual connect by level <= 6;\n\
                  show numwidth\nshow bogus\nset pagesize 0\nselect 'x' from dual;\n";
    let out = run_orasql(&[&logon], script, None, LIMIT);
    let stdout = text(&out.stdout);
    let want = [
        // A blank line ended the statement without running it; LIST shows the buffer.
        "  1  select *\n  2* from dual\n",
        // `/` runs it: DUMMY is a VARCHAR2(1), headed D.
        "\nD\n-\nX\n\n",
        // CHANGE on line 2 (the current one) fails, the buffer is unchanged.
        "SP2-0023: String not found.\n",
        "  1  select *\n  2* from dual\n\nD\n-\nX\n\n",
        "SP2-0042: unknown command \"foo\" - rest of line ignored.\n",
        " Name                                      Null?    Type\n \
         ----------------------------------------- -------- ----------------------------\n \
         DUMMY                                              VARCHAR2(1)\n",
        "\nDum\n-----\nX\n\n",
        "FEEDBACK ON for 6 or more rows\n",
        "linesize 80\n",
        "\n   7\n----\n   7\n\nElapsed: 00:00:",
        "LEVEL\n-----\n    1\n",
        "    6\n\n6 rows selected.\n\n",
        "numwidth 4\n",
        "SP2-0158: unknown SHOW option \"bogus\"\n",
        "x\n",
    ];
    tests::orasql::assert_in_order(&stdout, &want);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
}
