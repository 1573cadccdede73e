//! `orasql / as sysdba`: operating-system authentication over bequeath, the local path to
//! the instance with no listener and no password. orasql starts the server process itself
//! (`oradb` as `oracle<SID> (DESCRIPTION=(LOCAL=YES)(ADDRESS=(PROTOCOL=beq)))`, the way
//! SQL*Plus execs `$ORACLE_HOME/bin/oracle`) and the server admits `/ AS SYSDBA` for the
//! OS user who owns the instance. The must-show of issue 13: `/ as sysdba` → SHUTDOWN
//! IMMEDIATE → STARTUP MOUNT → ALTER DATABASE OPEN, a normal user gets ORA-01031 for
//! STARTUP; `/` without AS SYSDBA is ORA-01017; another OS user's `/ as sysdba` ORA-01031;
//! with the instance down `/ as sysdba` is "Connected to an idle instance." and STARTUP
//! opens it. STARTUP FORCE of an open instance, SHUTDOWN TRANSACTIONAL, STARTUP NOMOUNT then
//! ALTER DATABASE MOUNT and OPEN from the same `/ as sysdba` session, which sees V$INSTANCE
//! STARTED and MOUNTED on the way while a normal user gets ORA-01033 and a table that is not
//! a fixed view is ORA-01219. SET NULL and WHENEVER SQLERROR EXIT ... ROLLBACK | COMMIT
//! through the real orasql against the running instance.

use std::path::Path;
use tests::orasql::{AbortOnDrop, assert_in_order};
use tests::shared_stack::{SharedStack, own_sid};

/// `orasql LOGON` over bequeath (no TWO_TASK) with `script` on stdin; its stdout.
fn orasql(home: &Path, sid: &str, logon: &str, script: &str) -> String {
    tests::orasql::run_script(home, sid, logon, script)
}

#[test]
fn slash_as_sysdba_shuts_down_starts_mount_and_opens_over_bequeath() {
    let sid = own_sid("TLB");
    let s = SharedStack::start(&sid, "", 0);
    let home = s.home.path().to_path_buf();
    let _abort = AbortOnDrop {
        home: home.clone(),
        sid: sid.clone(),
    };

    // A named user over bequeath logs in with its password; STARTUP is not for it.
    let out = orasql(&home, &sid, "scott/tiger", "show user\nstartup\nexit\n");
    assert_in_order(
        &out,
        &[
            "USER is \"SCOTT\"\n",
            "ORA-01031: insufficient privileges\n",
        ],
    );
    // `/` alone: no OPS$ users.
    let out = orasql(&home, &sid, "/", "show user\nexit\n");
    assert!(
        out.contains("ERROR:\nORA-01017: invalid username/password; logon denied\n"),
        "{out}"
    );

    let out = orasql(
        &home,
        &sid,
        "/ as sysdba",
        "show user\n\
         select service_name from v$session where sid = sys_context('USERENV', 'SID');\n\
         shutdown immediate\nstartup mount\nalter database open;\n\
         select status from v$instance;\nshow user\nexit\n",
    );
    assert_in_order(
        &out,
        &[
            "USER is \"SYS\"\n",
            "SYS$USERS\n",
            "Database closed.\nDatabase dismounted.\nORACLE instance shut down.\n",
            "ORACLE instance started.\n",
            "Database mounted.\n",
            "Database altered.\n",
            "\nOPEN\n",
            "USER is \"SYS\"\n",
        ],
    );
    assert!(!out.contains("ERROR"), "{out}");

    // The instance down: `/ as sysdba` is connected to an idle instance (SQL*Plus's words;
    // silent for the first logon of a script, printed by CONNECT), where SQL has
    // ORA-01034 and STARTUP opens it; a named user just gets ORA-01034.
    let out = orasql(&home, &sid, "/ as sysdba", "shutdown immediate\nexit\n");
    assert!(out.contains("ORACLE instance shut down.\n"), "{out}");
    let out = orasql(&home, &sid, "scott/tiger", "exit\n");
    assert!(
        out.contains("ERROR:\nORA-01034: ORACLE not available"),
        "{out}"
    );
    assert!(!out.contains("idle instance"), "{out}");
    let out = orasql(
        &home,
        &sid,
        "/ as sysdba",
        "select status from v$instance;\nconn / as sysdba\nstartup\n\
         select status from v$instance;\nshow user\nexit\n",
    );
    assert_in_order(
        &out,
        &[
            "ORA-01034: ORACLE not available\n",
            "Connected to an idle instance.\n",
            "ORACLE instance started.\n",
            "Database mounted.\nDatabase opened.\n",
            "\nOPEN\n",
            "USER is \"SYS\"\n",
        ],
    );
}

#[test]
fn another_os_users_slash_as_sysdba_is_ora_01031() {
    let sid = own_sid("TLO");
    let s = SharedStack::start(&sid, "", 0);
    // The same instance seen from an ORACLE_HOME whose parameter file another OS user owns.
    let other = tempfile::tempdir().expect("tempdir");
    let dbs = other.path().join("dbs");
    std::fs::create_dir_all(&dbs).expect("mkdir dbs");
    let pfile = dbs.join(format!("init{sid}.ora"));
    if nix::unistd::geteuid().is_root() {
        std::fs::copy(
            s.home.path().join("dbs").join(format!("init{sid}.ora")),
            &pfile,
        )
        .expect("copy pfile");
        std::os::unix::fs::chown(&pfile, Some(65534), Some(65534)).expect("chown");
    } else {
        std::os::unix::fs::symlink("/etc/passwd", &pfile).expect("symlink");
    }
    let out = orasql(other.path(), &sid, "/ as sysdba", "show user\nexit\n");
    assert!(
        out.contains("ERROR:\nORA-01031: insufficient privileges\n"),
        "{out}"
    );
    assert!(!out.contains("USER is"), "{out}");
    // The owner's own `/ as sysdba` is SYS.
    let out = orasql(s.home.path(), &sid, "/ as sysdba", "show user\nexit\n");
    assert!(out.contains("USER is \"SYS\"\n"), "{out}");
}

#[test]
fn slash_as_sysdba_startup_force_nomount_and_shutdown_transactional() {
    let sid = own_sid("ALBF");
    let s = SharedStack::start(&sid, "", 0);
    let home = s.home.path().to_path_buf();
    let _abort = AbortOnDrop {
        home: home.clone(),
        sid: sid.clone(),
    };
    let out = orasql(
        &home,
        &sid,
        "/ as sysdba",
        "startup force\nselect status from v$instance;\n\
         shutdown transactional\nstartup nomount\n\
         alter database mount;\nalter database open;\nselect status from v$instance;\nexit\n",
    );
    assert_in_order(
        &out,
        &[
            // FORCE on an open instance: aborted and started again, up to OPEN.
            "ORACLE instance started.\n",
            "Database mounted.\nDatabase opened.\n",
            "\nOPEN\n",
            "Database closed.\nDatabase dismounted.\nORACLE instance shut down.\n",
            // NOMOUNT: started, neither mounted nor opened until ALTER DATABASE.
            "ORACLE instance started.\n",
            // ALTER DATABASE runs on the session orasql logged in again after NOMOUNT:
            // SQL*Plus's feedback of a statement, after a blank line.
            "Redo Buffers                      0 bytes\n\nDatabase altered.\n",
            "Database altered.\n",
            "\nOPEN\n",
        ],
    );
    assert!(!out.contains("ERROR"), "{out}");
}

/// The bug of issue 13: after STARTUP NOMOUNT / MOUNT the SYSDBA session is back (orasql
/// logs in again, the instance admits AS SYSDBA while not open) and V$INSTANCE shows each
/// stage; a normal user gets ORA-01033 until OPEN; a table that is not a fixed view is
/// ORA-01219 while the database is not open.
#[test]
fn sysdba_session_sees_started_and_mounted_and_others_get_ora_01033() {
    let sid = own_sid("SYNM");
    let s = SharedStack::start(&sid, "", 0);
    let home = s.home.path().to_path_buf();
    let _abort = AbortOnDrop {
        home: home.clone(),
        sid: sid.clone(),
    };
    let out = orasql(
        &home,
        &sid,
        "/ as sysdba",
        "shutdown immediate\nstartup nomount\nselect status from v$instance;\n\
         select banner from v$version;\nselect * from nls_session_parameters;\n\
         select name from v$database;\nalter database open;\n\
         alter database mount;\nselect status from v$instance;\nselect name from v$database;\n\
         show user\nexit\n",
    );
    assert_in_order(
        &out,
        &[
            "ORACLE instance shut down.\n",
            "ORACLE instance started.\n",
            "\nSTATUS\n------------\nSTARTED\n",
            "Oracle Database 19c",
            // Not a fixed view: the dictionary is not there before OPEN.
            "select * from nls_session_parameters\n              *\nERROR at line 1:\n\
             ORA-01219: database or pluggable database not open: queries allowed on fixed \
             tables or views only\n",
            // V$DATABASE is the control file's: not before MOUNT.
            "select name from v$database\n                 *\nERROR at line 1:\n\
             ORA-01507: database not mounted\n",
            // OPEN before MOUNT: Oracle's refusal, from the session.
            "ORA-01507: database not mounted\n",
            "Database altered.\n",
            "\nSTATUS\n------------\nMOUNTED\n",
            "\nNAME\n---------\n",
            "USER is \"SYS\"\n",
        ],
    );
    assert!(!out.contains("ORA-01034"), "{out}");

    // MOUNTED: a normal user is not admitted; a new `/ as sysdba` is, and opens it.
    let out = orasql(&home, &sid, "scott/tiger", "show user\nexit\n");
    assert!(
        out.contains("ERROR:\nORA-01033: ORACLE initialization or shutdown in progress\n"),
        "{out}"
    );
    let out = orasql(
        &home,
        &sid,
        "/ as sysdba",
        "select status from v$instance;\nselect * from scott.emp;\nalter database mount;\n\
         alter database open;\nselect status from v$instance;\nexit\n",
    );
    assert_in_order(
        &out,
        &[
            "\nMOUNTED\n",
            "select * from scott.emp\n              *\nERROR at line 1:\nORA-01219: ",
            "ORA-01100: database already mounted\n",
            "Database altered.\n",
            "\nOPEN\n",
        ],
    );
    // Open: the normal user is back, and ordinary names resolve again (ORA-00942).
    let out = orasql(
        &home,
        &sid,
        "scott/tiger",
        "show user\nselect * from scott.emp;\nalter database open;\nexit\n",
    );
    assert_in_order(
        &out,
        &[
            "USER is \"SCOTT\"\n",
            "ORA-00942: table or view does not exist\n",
            "ORA-01031: insufficient privileges\n",
        ],
    );
    // SHUTDOWN says how far down it had to take the instance, as SQL*Plus does.
    let out = orasql(
        &home,
        &sid,
        "/ as sysdba",
        "shutdown immediate\nstartup mount\nshutdown immediate\nstartup nomount\n\
         shutdown immediate\nstartup\nselect status from v$instance;\nexit\n",
    );
    assert_in_order(
        &out,
        &[
            "Database closed.\nDatabase dismounted.\nORACLE instance shut down.\n",
            "Database mounted.\n",
            "ORA-01109: database not open\n\n\nDatabase dismounted.\nORACLE instance shut down.\n",
            "ORACLE instance started.\n",
            "ORA-01507: database not mounted\n\n\nORACLE instance shut down.\n",
            "Database opened.\n",
            "\nOPEN\n",
        ],
    );
}

/// SQL*Plus settings through the real orasql against a running instance: SET NULL shows
/// its text for NULLs (and OFF puts the blank back); WHENEVER SQLERROR EXIT with ROLLBACK
/// or COMMIT ends the script at the error with Oracle's exit status.
#[test]
fn set_null_and_whenever_sqlerror_exit_against_a_running_instance() {
    let sid = own_sid("SYST");
    let s = SharedStack::start(&sid, "", 0);
    let home = s.home.path().to_path_buf();
    let out = orasql(
        &home,
        &sid,
        "scott/tiger",
        "column username format a10\nset null (null)\nshow null\n\
         select username, sid from v$session where type = 'BACKGROUND' and rownum = 1;\n\
         set null off\n\
         select username, sid from v$session where type = 'BACKGROUND' and rownum = 1;\n\
         exit\n",
    );
    // A background session's USERNAME is NULL: the text, then the blank again.
    assert_in_order(
        &out,
        &[
            "null \"(null)\"\n",
            "\nUSERNAME          SID\n---------- ----------\n(null)              1\n",
            "\nUSERNAME          SID\n---------- ----------\n                    1\n",
        ],
    );

    for (script, status) in [
        (
            "whenever sqlerror exit sql.sqlcode rollback\nselect * from missing_table;\n\
             prompt not reached\n",
            942 % 256,
        ),
        (
            "whenever sqlerror exit 7 commit\nselect 1/0 from dual;\nprompt not reached\n",
            7,
        ),
        (
            "whenever sqlerror exit failure rollback\nselect * from missing_table;\n",
            1,
        ),
    ] {
        let done = tests::orasql::run_script_output(&home, &sid, "scott/tiger", script);
        let text = String::from_utf8_lossy(&done.stdout);
        assert_eq!(done.status.code(), Some(status), "{script}\n{text}");
        assert!(text.contains("ERROR"), "{text}");
        assert!(!text.contains("not reached"), "{text}");
    }
}
