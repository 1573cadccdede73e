//! `orasql` as a child process against the session engine (in process on 127.0.0.1:0):
//! ACCEPT reads the next line of the script on stdin into a substitution variable (its
//! PROMPT shown even with `-s`), asks again after SP2-0425, takes the DEFAULT for an empty
//! reply; DEFINE lists a NUMBER variable as one, and `&name` uses the value.

use tests::client_harness::{ORASQL_LIMIT as LIMIT, run_orasql, scott_at, text};
use tests::py::start_server;

#[test]
fn accept_reads_the_next_stdin_line_into_a_variable() {
    let s = start_server();
    let logon = scott_at(s.port);
    let script = "accept n number prompt 'How many? '\n\
                  abc\n\
                  3\n\
                  acc who char default nobody prompt 'Who? '\n\
                  \n\
                  accept\n\
                  define n\n\
                  define who\n\
                  select &n * 2 as twice from dual;\n\
                  exit\n";
    let out = run_orasql(&[&logon], script, None, LIMIT);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert_eq!(
        stdout,
        "How many? SP2-0425: \"abc\" is not a valid NUMBER\n\
         How many? Who? SP2-0002: ACCEPT statement must specify a variable name\n\
         DEFINE N               =          3 (NUMBER)\n\
         DEFINE WHO             = \"nobody\" (CHAR)\n\
         old   1: select &n * 2 as twice from dual\n\
         new   1: select 3 * 2 as twice from dual\n\
         \n     TWICE\n----------\n         6\n\n"
    );
}
