//! `orasql` as a child process against the session engine (in process on 127.0.0.1:0):
//! SPOOL (the file gets what is shown between SPOOL and SPOOL OFF, `.lst` added; SPOOL alone
//! and SHOW SPOOL say whether it is on), SET
//! COLSEP in a query's lines, and bind variables: VARIABLE, EXECUTE and PL/SQL blocks that
//! set them (real binds on the wire), `:name` in a query, PRINT, SET AUTOPRINT, SP2-0552.

use tests::client_harness::{ORASQL_LIMIT as LIMIT, run_orasql, scott_at, text};
use tests::py::start_server;

#[test]
fn spool_copies_what_is_shown_and_colsep_separates_columns() {
    let s = start_server();
    let logon = scott_at(s.port);
    let dir = tempfile::tempdir().expect("tempdir");
    let base = dir.path().join("diary");
    let file = format!("{}.lst", base.display());
    let script = format!(
        "spool\n\
         show spool\n\
         prompt before\n\
         spool {base}\n\
         show spool\n\
         spool\n\
         set colsep '|'\n\
         show colsep\n\
         select 1 as a, 'xy' as b from dual;\n\
         spool off\n\
         prompt after\n\
         spool\n\
         spool {file} create\n\
         exit\n",
        base = base.display()
    );
    let out = run_orasql(&[&logon], &script, None, LIMIT);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let spooled = format!(
        "spool ON\n\
         currently spooling to {file}\n\
         colsep \"|\"\n\
         \n         A|B\n----------|--\n         1|xy\n\n"
    );
    // The screen shows the same, with what came before and after.
    tests::orasql::assert_in_order(
        &stdout,
        &[
            "not spooling currently\nspool OFF\n",
            "before\n",
            &spooled,
            "after\n",
            "not spooling currently\n",
            &format!(
                "SP2-0771: File \"{file}\" already exists.\nUse another name or \"SPOOL filename[.ext] REPLACE\"\n"
            ),
        ],
    );
    let contents = std::fs::read_to_string(&file).expect("the spool file");
    assert_eq!(contents, spooled);
}

#[test]
fn variables_set_by_plsql_are_bound_printed_and_autoprinted() {
    let s = start_server();
    let logon = scott_at(s.port);
    let script = "variable n number\n\
                  var msg varchar2(12)\n\
                  variable\n\
                  exec :n := 42;\n\
                  begin\n  :msg := 'hi ' || to_char(:n + 1);\nend;\n/\n\
                  print n msg\n\
                  select :n * 2 as twice, length(:msg) as len from dual;\n\
                  set autoprint on\n\
                  exec :n := :n + 1;\n\
                  print nosuch n\n\
                  select :zz from dual;\n\
                  variable q\n\
                  variable q date\n\
                  begin\n  :msg := 'bye';\n  :n := 7;\nend;\n/\n\
                  exit\n";
    let out = run_orasql(&[&logon], script, None, LIMIT);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let usage = "Usage: VAR[IABLE] [ <variable> [ NUMBER | CHAR | CHAR (n [CHAR|BYTE]) |\n";
    tests::orasql::assert_in_order(
        &stdout,
        &[
            "variable   n\ndatatype   NUMBER\n\nvariable   msg\ndatatype   VARCHAR2(12)\n",
            "PL/SQL procedure successfully completed.",
            "PL/SQL procedure successfully completed.",
            // PRINT: a query of each variable, headed by its name.
            "\n         N\n----------\n        42\n\n",
            "\nMSG\n------------\nhi 43\n\n",
            // The query got the values as binds.
            "\n     TWICE        LEN\n---------- ----------\n        84          5\n\n",
            // AUTOPRINT after EXECUTE: the variable the block used.
            "PL/SQL procedure successfully completed.\n\n\n         N\n----------\n        43\n\n",
            "SP2-0552: Bind variable \"NOSUCH\" not declared.\n\n         N\n----------\n        43\n\n",
            "SP2-0552: Bind variable \"ZZ\" not declared.\n",
            "SP2-0552: Bind variable \"q\" not declared.\n",
            usage,
            // AUTOPRINT of two: the last used first, two blank lines before each (as a
            // SQL*Plus spool file shows them).
            "PL/SQL procedure successfully completed.\n\n\n         N\n----------\n         7\n\n\
             \nMSG\n------------\nbye\n\n",
        ],
    );
}
