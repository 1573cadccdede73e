//! Restricted mode as Oracle has it: `ALTER SYSTEM ENABLE | DISABLE RESTRICTED SESSION` and
//! `STARTUP RESTRICT` (from `orasql` as SYSDBA, which runs `oradb startup restrict`), through
//! the real listener and instance. While logins are restricted V$INSTANCE.LOGINS says
//! RESTRICTED, the listener shows the instance `status RESTRICTED` and refuses new
//! connections with ORA-12526 unless CONNECT_DATA has `(UR=A)`; the instance then lets in
//! only users with RESTRICTED SESSION (and SYSDBA), others get ORA-01035. Sessions already
//! logged in stay. (Oracle Database Administrator's Guide, "Restricting Access to an Open
//! Database"; Net Services Reference, "UR".)

use std::time::Duration;

use tests::instance::wait_for;
use tests::orasql::AbortOnDrop;
use tests::shared_stack::{SharedStack, own_sid};

/// `orasql LOGON` against the stack's instance with `script` on stdin; its stdout.
fn orasql(s: &SharedStack, sid: &str, logon: &str, script: &str) -> String {
    tests::orasql::run_script(s.home.path(), sid, logon, script)
}

/// Logons for `user/password`: through the listener as usual, and with `(UR=A)`.
fn logons(s: &SharedStack, creds: &str) -> (String, String) {
    (
        format!("{creds}@127.0.0.1:{}/{}", s.port, s.service),
        format!(
            "{creds}@(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT={}))\
             (CONNECT_DATA=(SERVICE_NAME={})(UR=A)))",
            s.port, s.service
        ),
    )
}

const ORA_01035: &str =
    "ORA-01035: ORACLE only available to users with RESTRICTED SESSION privilege\n";
const ORA_12526: &str =
    "ORA-12526: TNS:listener: all appropriate instances are in restricted mode\n";

/// Waits until `lsnrctl services` shows the instance with `status` and returns that text.
fn services_with(s: &SharedStack, status: &str) -> String {
    let want = format!("status {status}, has ");
    wait_for(Duration::from_secs(15), || {
        let t = s.services();
        t.contains(&want).then_some(t)
    })
    .unwrap_or_else(|| panic!("no {want:?} in: {}", s.services()))
}

#[test]
fn alter_system_restricted_session_limits_new_logins_and_the_listener_shows_it() {
    let sid = own_sid("TLR");
    let s = SharedStack::start(&sid, "", 0);
    s.home
        .add_user_with("boss", "pw1", &["restricted-session", "alter-system"]);
    s.home.add_user("joe", "pw2", false);
    let (scott, _) = logons(&s, "scott/tiger");
    let (joe, joe_ur) = logons(&s, "joe/pw2");
    let (boss, boss_ur) = logons(&s, "boss/pw1");
    let query = "select logins from v$instance;\nexit\n";

    // SCOTT (ALTER SYSTEM, no RESTRICTED SESSION) enables it and stays logged in.
    let out = orasql(
        &s,
        &sid,
        &scott,
        "alter system enable restricted session;\nselect logins from v$instance;\n\
         alter system enable bogus session;\nexit\n",
    );
    assert!(out.contains("System altered.\n"), "{out}");
    assert!(out.contains("\nRESTRICTED\n"), "{out}");
    assert!(
        out.contains("ORA-02065: illegal option for ALTER SYSTEM\n"),
        "{out}"
    );
    // Oracle shows the instance RESTRICTED (MOS 444120.1, lsnrctl services/status of a
    // STARTUP RESTRICT instance); its handlers stay `state:ready`: a handler is blocked
    // when it cannot take connections, the instance's status is what the listener refuses
    // them for (ORA-12526).
    let services = services_with(&s, "RESTRICTED");
    assert!(
        services.contains(&format!("  Instance \"{sid}\", status RESTRICTED, has ")),
        "{services}"
    );
    assert!(
        services.contains("\"DEDICATED\" established:"),
        "{services}"
    );
    assert!(services.contains(" state:ready\n"), "{services}");
    assert!(!services.contains("state:blocked"), "{services}");

    // New logins: the listener refuses without (UR=A); the instance lets in BOSS only.
    for logon in [&joe, &boss] {
        let out = orasql(&s, &sid, logon, query);
        assert!(out.contains(ORA_12526), "{logon}: {out}");
    }
    let out = orasql(&s, &sid, &joe_ur, query);
    assert!(out.contains(ORA_01035), "{out}");
    assert!(!out.contains("LOGINS"), "{out}");
    let out = orasql(&s, &sid, &boss_ur, query);
    assert!(out.contains("\nRESTRICTED\n"), "{out}");
    // SCOTT cannot log in again (no RESTRICTED SESSION); BOSS lifts the restriction.
    let (_, scott_ur) = logons(&s, "scott/tiger");
    let out = orasql(&s, &sid, &scott_ur, query);
    assert!(out.contains(ORA_01035), "{out}");
    let out = orasql(
        &s,
        &sid,
        &boss_ur,
        "alter system disable restricted session;\nselect logins from v$instance;\nexit\n",
    );
    assert!(out.contains("System altered.\n"), "{out}");
    assert!(out.contains("\nALLOWED\n"), "{out}");
    let services = services_with(&s, "READY");
    let out = orasql(&s, &sid, &joe, query);
    assert!(out.contains("\nALLOWED\n"), "{out}\n{services}");
}

#[test]
fn startup_restrict_from_a_sysdba_session() {
    let sid = own_sid("TLS");
    let s = SharedStack::start(&sid, "", 0);
    s.home.add_user_with("dba1", "secret", &["sysdba"]);
    s.home.add_user("joe", "pw2", false);
    let _abort = AbortOnDrop {
        home: s.home.path().to_path_buf(),
        sid: sid.clone(),
    };
    // The administrator reaches the restricted instance with (UR=A), as in Oracle.
    let (_, dba_ur) = logons(&s, "dba1/secret");
    let out = orasql(
        &s,
        &sid,
        &format!("{dba_ur} as sysdba"),
        "shutdown immediate\nstartup restrict\nselect logins, status from v$instance;\nexit\n",
    );
    let want = [
        "ORACLE instance shut down.\n",
        "ORACLE instance started.\n",
        "Database mounted.\nDatabase opened.\n",
        "\nRESTRICTED OPEN\n",
    ];
    tests::orasql::assert_in_order(&out, &want);
    services_with(&s, "RESTRICTED");
    let log = s.home.alert_log();
    assert!(
        log.contains("Starting ORACLE instance (restrict) (OS id: "),
        "{log}"
    );
    let (_, joe_ur) = logons(&s, "joe/pw2");
    let out = orasql(&s, &sid, &joe_ur, "select 1 from dual;\nexit\n");
    assert!(out.contains(ORA_01035), "{out}");
}
