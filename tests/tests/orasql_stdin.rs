//! `orasql` as a child process against the session engine (in process on 127.0.0.1:0):
//! statements from stdin (`;` and `/` terminators, PL/SQL blocks, `exit`), `-c`, SQL*Plus's
//! table and error layouts (column as wide as its type, FEEDBACK from 6 rows), exit status
//! (EXIT, WHENEVER SQLERROR EXIT SQL.SQLCODE), and a tnsnames alias via TNS_ADMIN.

use tests::client_harness::{NamingDir, ORASQL_LIMIT as LIMIT, run_orasql, scott_at, text};
use tests::py::start_server;

#[test]
fn statements_from_stdin_print_sqlplus_tables() {
    let s = start_server();
    let logon = scott_at(s.port);
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
    let logon = scott_at(s.port);
    let out = run_orasql(
        &[&logon, "-c", "select user from dual; select 2+3 from dual"],
        "",
        None,
        LIMIT,
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    // USER is a VARCHAR2(128): its column would be 128 wide, LINESIZE (80) cuts it.
    assert!(
        stdout.contains(&format!("USER\n{}\nSCOTT\n", "-".repeat(80))),
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
    let logon = scott_at(s.port);
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
    let logon = scott_at(s.port);
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
    let logon = scott_at(s.port);
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
    let logon = scott_at(s.port);
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

#[test]
fn serveroutput_prints_dbms_output_after_each_call_at_linesize() {
    let s = start_server();
    let logon = scott_at(s.port);
    // 250 lines: more than two GET_LINES batches of 100.
    let many: String = (1..=250)
        .map(|i| format!("dbms_output.put_line('line {i}');\n"))
        .collect();
    let script = "begin dbms_output.put_line('not shown'); end;\n/\n\
                  set serveroutput on\n\
                  show serveroutput\n\
                  begin\n  dbms_output.put_line('Task is complete');\n  dbms_output.put_line(null);\n  dbms_output.put_line('   I am js2008.');\nend;\n/\n\
                  set linesize 9\n\
                  exec dbms_output.put_line('I am js2008.')\n\
                  set serveroutput on format wrapped\n\
                  exec dbms_output.put_line('I am js2008.')\n\
                  set serveroutput on format truncated linesize 80\n\
                  show serveroutput\n\
                  begin\nMANY\nend;\n/\n\
                  set serveroutput off\n\
                  exec dbms_output.put_line('off again')\n\
                  set serveroutput on size 100\n"
        .replace("MANY", &many);
    let out = run_orasql(&[&logon], &script, None, LIMIT);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    // OFF (the default): nothing; ON enables DBMS_OUTPUT and fetches its lines after the
    // call, before the feedback (SQL*Plus Reference, SET SERVEROUTPUT example).
    assert!(!stdout.contains("not shown"), "{stdout}");
    tests::orasql::assert_in_order(
        &stdout,
        &[
            "serveroutput ON SIZE UNLIMITED FORMAT WORD_WRAPPED\n",
            // WORD_WRAPPED skips leading blanks; an empty line stays a line.
            "Task is complete\n\nI am js2008.\n\nPL/SQL procedure successfully completed.\n",
            // LINESIZE 9: the Reference's WORD_WRAPPED and WRAPPED examples.
            "I am\njs2008.\n\nPL/SQL procedure successfully completed.\n",
            "I am js20\n08.\n\nPL/SQL procedure successfully completed.\n",
            "serveroutput ON SIZE UNLIMITED FORMAT TRUNCATED\n",
            "line 1\nline 2\n",
            // More than one GET_LINES batch (100 lines each).
            "line 249\nline 250\n\nPL/SQL procedure successfully completed.\n",
            "SP2-0547: size option 100 out of range (2000 through 1000000)\n",
        ],
    );
    assert_eq!(stdout.matches("\nline ").count(), 250, "{stdout}");
    assert!(!stdout.contains("off again"), "{stdout}");
}

#[test]
fn substitution_variables_define_verify_and_define_off() {
    let s = start_server();
    let logon = scott_at(s.port);
    // The answers to "Enter value for" come from stdin, as SQL*Plus reads them.
    let script = "define greeting = 'Hello, World!'\n\
                  define greeting\n\
                  select '&greeting' as msg from dual;\n\
                  select &num + 1 as n from dual;\n\
                  41\n\
                  select &&twice as a, &twice as b from dual;\n\
                  7\n\
                  define twice\n\
                  undefine twice\n\
                  define twice\n\
                  set verify off\n\
                  prompt &greeting.!\n\
                  select '&greeting' as msg from dual;\n\
                  set define off\n\
                  select 'Marks & Spencers' as shop from dual;\n\
                  show define\n\
                  set define on\n\
                  define\n\
                  select '&gone' from dual;\n";
    let out = run_orasql(&[&logon], script, None, LIMIT);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    tests::orasql::assert_in_order(
        &stdout,
        &[
            "DEFINE GREETING        = \"Hello, World!\" (CHAR)\n",
            // VERIFY ON (the default): the line before and after, numbered.
            "old   1: select '&greeting' as msg from dual\n\
             new   1: select 'Hello, World!' as msg from dual\n",
            "Hello, World!\n",
            // Undefined: asked for (the prompt is printed; stdin is not echoed).
            "Enter value for num: old   1: select &num + 1 as n from dual\n\
             new   1: select 41 + 1 as n from dual\n",
            "        42\n",
            // `&&` asks once and defines the variable.
            "Enter value for twice: old   1: select &&twice as a, &twice as b from dual\n\
             new   1: select 7 as a, 7 as b from dual\n",
            "DEFINE TWICE           = \"7\" (CHAR)\n",
            "SP2-0135: symbol twice is UNDEFINED\n",
            // Commands are substituted too; `.` ends the name.
            "Hello, World!!\n",
            "\nMSG\n",
            "Marks & Spencers\n",
            "define OFF\n",
            "DEFINE _DATE           = \"",
            "DEFINE _CONNECT_IDENTIFIER = \"127.0.0.1:",
            "DEFINE _USER           = \"SCOTT\" (CHAR)\n",
            "DEFINE _PRIVILEGE      = \"\" (CHAR)\n",
            "DEFINE GREETING        = \"Hello, World!\" (CHAR)\n",
            // EOF at the question: SP2-0546, nothing runs.
            "Enter value for gone: SP2-0546: User requested Interrupt or EOF detected.\n",
        ],
    );
    // VERIFY OFF: no old/new for the second run of the greeting.
    assert_eq!(
        stdout.matches("old   1: select '&greeting'").count(),
        1,
        "{stdout}"
    );
}

#[test]
fn echo_shows_script_lines_and_linesize_wraps_records() {
    let s = start_server();
    let logon = scott_at(s.port);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("wide.sql");
    let (x, y) = ("x".repeat(50), "y".repeat(40));
    let wide = |sql: &str| sql.replace("X50", &x).replace("Y40", &y);
    std::fs::write(
        &file,
        wide(
            "set echo on\n\
         select 'X50' as a, 'Y40' as b from dual;\n\
         prompt &1 and &2\n\
         set echo off\n\
         select 'quiet' from dual;\n",
        ),
    )
    .expect("script");
    let script = format!(
        "@{} first second\nset linesize 100\n\
         select 'X50' as a, 'Y40' as b from dual;\n",
        file.display()
    );
    let script = wide(&script);
    let out = run_orasql(&[&logon], &script, None, LIMIT);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let (dx, dy) = ("-".repeat(50), "-".repeat(40));
    tests::orasql::assert_in_order(
        &stdout,
        &[
            // ECHO ON shows each line of the script as read (silent: without the prompt).
            &wide("select 'X50' as a, 'Y40' as b from dual;\n"),
            // 50 + 1 + 40 > 80: B goes to a line of its own, with its own heading; the
            // record took two lines, so a blank line (RECSEP WRAPPED) follows it.
            &format!("\nA\n{dx}\nB\n{dy}\n{x}\n{y}\n\n"),
            "prompt &1 and &2\nfirst and second\n",
            "set echo off\n",
            "quiet\n",
            // LINESIZE 100: both on one line.
            &format!("\nA{}B\n{dx} {dy}\n", " ".repeat(50)),
        ],
    );
    assert!(!stdout.contains("select 'quiet'"), "{stdout}");
}
