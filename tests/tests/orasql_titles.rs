//! `orasql` as a child process against the session engine (in process on 127.0.0.1:0):
//! TTITLE's line at the top of each page (CENTER in LINESIZE, RIGHT ending at it, SQL.PNO
//! the page number), BTITLE's at the foot of each page of PAGESIZE lines, OFF, and the
//! listing of TTITLE alone (before any TTITLE, SQL*Plus's sentence for its default).

use tests::client_harness::{ORASQL_LIMIT as LIMIT, run_orasql, scott_at, text};
use tests::py::start_server;

#[test]
fn titles_head_and_foot_each_page() {
    let s = start_server();
    let logon = scott_at(s.port);
    let script = "ttitle\n\
                  set pagesize 8\n\
                  ttitle center 'Levels' right 'p' sql.pno\n\
                  btitle left 'end'\n\
                  select level as n from dual connect by level <= 5;\n\
                  ttitle off\n\
                  btitle off\n\
                  select 1 as one from dual;\n\
                  ttitle\n\
                  exit\n";
    let out = run_orasql(&[&logon], script, None, LIMIT);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    // SQL.PNO without FORMAT is a number in NUMWIDTH (10) characters.
    let title = |p: u32| format!("{}Levels{}p{p:>10}", " ".repeat(37), " ".repeat(26));
    let heading = "         N\n----------\n";
    let expected = format!(
        "ttitle OFF and is the first few characters of the next SELECT statement\n\
         \n{}\n{heading}         1\n         2\n         3\nend\n\
         \n{}\n{heading}         4\n         5\n\nend\n\n\
         \n       ONE\n----------\n         1\n\n\
         ttitle OFF and is the following 33 characters:\n\
         center 'Levels' right 'p' sql.pno\n",
        title(1),
        title(2)
    );
    assert_eq!(stdout, expected);
}
