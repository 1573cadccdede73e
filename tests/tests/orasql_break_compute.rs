//! `orasql` as a child process against the session engine (in process on 127.0.0.1:0):
//! BREAK hides a break column's repeated values and skips a line between groups, COMPUTE
//! SUM adds SQL*Plus's summary lines (`*`s across the break column, `-`s under the summed
//! one, the label in the break column; ON REPORT at the end, after the last group's SKIP,
//! as in the SQL*Plus User's Guide's Example 6-26), BREAK and COMPUTE alone list
//! them (each further ON of the BREAK listing on its own line), CLEAR BREAKS / CLEAR
//! COMPUTES remove them; a COMPUTE on an outer break puts `*`s under the inner break
//! columns too, as in the SQL*Plus User's Guide's Example 6-13.

use tests::client_harness::{ORASQL_LIMIT as LIMIT, run_orasql, scott_at, text};
use tests::py::start_server;

#[test]
fn break_and_compute_sum_lay_out_groups_and_totals() {
    let s = start_server();
    let logon = scott_at(s.port);
    let script = "break on grp skip 1 on report\n\
                  compute sum of n on grp\n\
                  compute sum label total of n on report\n\
                  select mod(level, 2) as grp, level as n from dual connect by level <= 5 order by 1, 2;\n\
                  break\n\
                  compute\n\
                  clear breaks\n\
                  clear computes\n\
                  break\n\
                  compute\n\
                  select mod(level, 2) as grp from dual connect by level <= 2 order by 1;\n\
                  break on a on b\n\
                  compute sum of n on a\n\
                  select 1 as a, mod(level, 2) as b, level as n from dual connect by level <= 3 order by 1, 2, 3;\n\
                  exit\n";
    let out = run_orasql(&[&logon], script, None, LIMIT);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert_eq!(
        stdout,
        "\n       GRP          N\n\
         ---------- ----------\n\
         \x20        0          2\n\
         \x20                   4\n\
         ********** ----------\n\
         sum                 6\n\
         \n\
         \x20        1          1\n\
         \x20                   3\n\
         \x20                   5\n\
         ********** ----------\n\
         sum                 9\n\
         \n\
         \x20          ----------\n\
         total              15\n\
         \n\
         break on grp skip 1 nodup\n\
         \x20         on report nodup\n\
         COMPUTE sum LABEL 'sum' OF n ON grp\n\
         COMPUTE sum LABEL 'total' OF n ON REPORT\n\
         breaks cleared\n\
         computes cleared\n\
         SP2-0015: no break(s) defined\n\
         \n       GRP\n----------\n         0\n         1\n\n\
         \n         A          B          N\n\
         ---------- ---------- ----------\n\
         \x20        1          0          2\n\
         \x20                   1          1\n\
         \x20                              3\n\
         ********** ********** ----------\n\
         sum                            6\n\n"
    );
}
