//! `orasql` as a DBA uses it: on a terminal (a pseudo-terminal here, the child its session
//! leader, so Ctrl-C is a real SIGINT), through the real listener to the real instance
//! (`tnslsnr` + `oradb` on 127.0.0.1 ephemeral ports). Ctrl-C during a 10 s
//! `dbms_session.sleep` cancels the call with ORA-01013 and gives the prompt back with the
//! session alive; Ctrl-C at the prompt drops the line; `desc v$session`, `l`, `/`, SPOOL
//! (the file has the prompts and the lines typed), `set timing on`; EXIT prints
//! "Disconnected from ...". A killed session prints ORA-00028 with the Process ID / Session
//! ID lines, then ORA-03114; `AS SYSDBA` logs in as SYS.

use std::time::{Duration, Instant};

use tests::instance::wait_output;
use tests::orasql::AbortOnDrop;
use tests::procs::bin;
use tests::pty::PtyChild;
use tests::shared_stack::{SharedStack, own_sid};

const STEP: Duration = Duration::from_secs(20);

#[test]
fn ctrl_c_cancels_the_call_and_the_prompt_comes_back() {
    let s = SharedStack::start(&tests::shared_stack::own_sid("HTTY1"), "", 0);
    let home = tempfile::tempdir().expect("tempdir");
    let logon = format!("scott/tiger@127.0.0.1:{}/{}", s.port, s.service);
    let home_s = home.path().to_string_lossy().into_owned();
    let mut t = PtyChild::spawn(
        &bin("orasql"),
        &[&logon],
        &[("TERM", "xterm"), ("HOME", &home_s)],
    );
    let banner = t.expect("SQL> ", STEP);
    assert!(
        banner.contains(
            "Connected to:\nOracle Database 19c Enterprise Edition Release 19.0.0.0.0 - Production\nVersion 19.3.0.0.0"
        ) || banner.contains(
            "Connected to:\r\nOracle Database 19c Enterprise Edition Release 19.0.0.0.0 - Production\r\nVersion 19.3.0.0.0"
        ),
        "{banner}"
    );

    // A 10 s call, then Ctrl-C a moment after it started.
    t.send("begin dbms_session.sleep(10); end;\r");
    t.expect("  2  ", STEP);
    t.send("/\r");
    std::thread::sleep(Duration::from_millis(700));
    let pressed = Instant::now();
    t.send("\x03");
    t.expect(
        "ORA-01013: user requested cancel of current operation",
        STEP,
    );
    t.expect("SQL> ", STEP);
    let took = pressed.elapsed();
    eprintln!("Ctrl-C to the next prompt: {took:?}");
    // The sleep had 9 s to go: the call was cancelled, not waited for.
    assert!(took < Duration::from_secs(8), "{took:?}");

    // The session is intact.
    t.send("select 41 + 1 from dual;\r");
    let out = t.expect("SQL> ", STEP);
    assert!(out.contains("        42"), "{out}");

    // Ctrl-C at the prompt drops the half-typed statement; the session stays.
    t.send("select 'dropped'");
    t.expect("select 'dropped'", STEP);
    t.send("\x03");
    t.expect("SQL> ", STEP);
    t.send("select 7 from dual;\r");
    let out = t.expect("         7", STEP);
    assert!(!out.contains("DROPPED"), "{out}");
    t.expect("SQL> ", STEP);

    t.send("desc v$session\r");
    let out = t.expect("SQL> ", STEP);
    for w in [
        "Name", "Null?", "Type", "SID", "SERIAL#", "USERNAME", "PROGRAM", "NUMBER",
    ] {
        assert!(out.contains(w), "{w} in {out}");
    }

    // LIST shows the buffer; `/` runs it again.
    t.send("l\r");
    let out = t.expect("SQL> ", STEP);
    assert!(out.contains("  1* select 7 from dual"), "{out}");
    t.send("/\r");
    let out = t.expect("SQL> ", STEP);
    assert!(out.contains("         7"), "{out}");

    // At the terminal the spool file has the prompts and the lines typed, as on screen.
    let spool = home.path().join("tty");
    t.send(&format!("spool {}\r", spool.display()));
    t.expect("SQL> ", STEP);
    t.send("select 8 from dual;\r");
    t.expect("SQL> ", STEP);
    t.send("spool off\r");
    t.expect("SQL> ", STEP);
    let spooled = std::fs::read_to_string(home.path().join("tty.lst")).expect("the spool file");
    assert_eq!(
        spooled,
        "SQL> select 8 from dual;\n\n         8\n----------\n         8\n\nSQL> spool off\n"
    );

    t.send("set timing on\r");
    t.expect("SQL> ", STEP);
    t.send("select 1 from dual;\r");
    let out = t.expect("SQL> ", STEP);
    assert!(out.contains("Elapsed: 00:00:0"), "{out}");

    t.send("exit\r");
    t.expect(
        "Disconnected from Oracle Database 19c Enterprise Edition Release 19.0.0.0.0 - Production",
        STEP,
    );
    let status = t.wait(STEP).expect("orasql exits");
    assert_eq!(status.code(), Some(0));
}

/// The one row of a query of numbers typed on two lines (a line longer than the terminal
/// would make rustyline redraw the prompt).
fn one_row(t: &mut PtyChild, select: &str, rest: &str) -> Vec<String> {
    t.send(&format!("select {select}\r"));
    t.expect("  2  ", STEP);
    t.send(&format!("{rest};\r"));
    t.expect("\n---", STEP);
    let out = t.expect("SQL> ", STEP);
    out.lines()
        .map(str::trim)
        .find(|l| {
            !l.is_empty()
                && l.split_whitespace()
                    .all(|w| w.chars().all(|c| c.is_ascii_digit()))
        })
        .unwrap_or_else(|| panic!("{out}"))
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

#[test]
fn a_killed_session_prints_its_ids_then_ora_03114_and_sysdba_logs_in_as_sys() {
    let s = SharedStack::start(&tests::shared_stack::own_sid("HTTY2"), "", 0);
    s.home.add_user_with("dba1", "secret", &["sysdba"]);
    let home = tempfile::tempdir().expect("tempdir");
    let home_s = home.path().to_string_lossy().into_owned();
    let logon = format!("scott/tiger@127.0.0.1:{}/{}", s.port, s.service);
    let mut t = PtyChild::spawn(
        &bin("orasql"),
        &[&logon],
        &[("TERM", "xterm"), ("HOME", &home_s)],
    );
    t.expect("SQL> ", STEP);
    let row = one_row(
        &mut t,
        "s.sid, s.serial#, p.spid from v$session s, v$process p",
        "where s.paddr = p.addr and s.sid = sys_context('USERENV','SID')",
    );
    let [sid, serial, spid] = &row[..] else {
        panic!("{row:?}");
    };

    let kill = s
        .home
        .run_oradb(&["kill-session", &format!("{sid},{serial}")]);
    assert!(kill.status.success(), "{kill:?}");
    t.send("select 1 from dual;\r");
    let out = t.expect("SQL> ", STEP).replace('\r', "");
    assert!(
        out.contains(&format!(
            "ORA-00028: your session has been killed\nProcess ID: {spid}\nSession ID: {sid} Serial number: {serial}\n"
        )),
        "{out}"
    );
    t.send("select 1 from dual;\r");
    let out = t.expect("SQL> ", STEP).replace('\r', "");
    assert!(
        out.contains("ERROR:\nORA-03114: not connected to ORACLE\n"),
        "{out}"
    );
    assert!(!out.contains("SP2-0640"), "{out}");
    t.send("exit\r");
    assert_eq!(t.wait(STEP).and_then(|st| st.code()), Some(0));

    // AS SYSDBA on the command line is not part of the connect identifier.
    let dba = format!("dba1/secret@127.0.0.1:{}/{} as sysdba", s.port, s.service);
    let child = std::process::Command::new(bin("orasql"))
        .args([&dba, "-c", "show user"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("orasql");
    let out = wait_output(child, STEP);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("USER is \"SYS\""), "{stdout}");
    // SCOTT has no SYSDBA in the password file.
    let child = std::process::Command::new(bin("orasql"))
        .args([&format!("{logon} as sysdba"), "-c", "show user"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("orasql");
    let out = wait_output(child, STEP);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("ERROR:\nORA-01031: insufficient privileges"),
        "{stdout}"
    );
}

#[test]
fn sysdba_shuts_down_starts_mount_and_opens_and_a_normal_user_gets_ora_01031() {
    let sid = own_sid("HTTY3");
    let s = SharedStack::start(&sid, "", 0);
    s.home.add_user_with("dba1", "secret", &["sysdba"]);
    let _abort = AbortOnDrop {
        home: s.home.path().to_path_buf(),
        sid: sid.clone(),
    };
    let orasql =
        |logon: &str, script: &str| tests::orasql::run_script(s.home.path(), &sid, logon, script);
    let scott = format!("scott/tiger@127.0.0.1:{}/{}", s.port, s.service);
    let out = orasql(&scott, "startup\nshutdown abort\nselect 1 from dual;\n");
    assert_eq!(
        out.matches("ORA-01031: insufficient privileges\n").count(),
        2,
        "{out}"
    );
    assert!(
        out.contains("         1\n"),
        "the instance is still up: {out}"
    );

    let dba = format!("dba1/secret@127.0.0.1:{}/{} as sysdba", s.port, s.service);
    let out = orasql(
        &dba,
        "shutdown immediate\nstartup mount\nselect status from v$instance;\n\
         alter database open;\nselect status from v$instance;\nshow user\nexit\n",
    );
    let want = [
        "Database closed.\nDatabase dismounted.\nORACLE instance shut down.\n",
        "ORACLE instance started.\n",
        "Database mounted.\n",
        // The session is back over the listener while the instance is BLOCKED (orasql
        // asks for (UR=A)), and it sees the stage.
        "\nMOUNTED\n",
        "Database altered.\n",
        "\nOPEN\n",
        "USER is \"SYS\"\n",
    ];
    tests::orasql::assert_in_order(&out, &want);
    assert!(!out.contains("Database opened."), "{out}");
}
