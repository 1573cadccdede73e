//! `oradb user add|list|drop`: the password file holds verifiers only (mode 0600), and a
//! user created with the CLI can log in with python-oracledb.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

use std::time::Duration;

use tests::instance::{wait_output, workspace_bin};

fn oradb(home: &std::path::Path, args: &[&str], stdin: &str) -> (bool, String) {
    let mut child = Command::new(workspace_bin("server_proc", "oradb"))
        .args(args)
        .env("ORACLE_HOME", home)
        .env_remove("ORACLE_SID")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("oradb");
    if let Some(mut i) = child.stdin.take() {
        let _ = i.write_all(stdin.as_bytes());
    }
    // Killed (and the test failed) if it overruns.
    let out = wait_output(child, Duration::from_secs(60));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn oradb_user_add_list_drop() {
    let home = tempfile::tempdir().expect("tempdir");
    let h = home.path();
    let (ok, text) = oradb(
        h,
        &[
            "user",
            "add",
            "app_user",
            "--sid",
            "FREE",
            "--password-stdin",
            "--grant",
            "alter-system",
        ],
        "S3cret!\n",
    );
    assert!(ok, "{text}");
    assert!(text.contains("User created."), "{text}");
    let file = h.join("dbs/orapwFREE");
    let mode = std::fs::metadata(&file)
        .expect("pwfile")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let content = std::fs::read_to_string(&file).expect("read pwfile");
    assert!(!content.contains("S3cret!"));
    let (ok, text) = oradb(h, &["user", "list", "--sid", "FREE"], "");
    assert!(ok, "{text}");
    assert!(text.contains("APP_USER"), "{text}");
    assert!(text.contains("ALTER_SYSTEM"), "{text}");
    let (ok, text) = oradb(
        h,
        &[
            "user",
            "add",
            "app_user",
            "--sid",
            "FREE",
            "--password-stdin",
        ],
        "x\n",
    );
    assert!(!ok);
    assert!(text.contains("ORA-01920"), "{text}");
    let (ok, text) = oradb(h, &["user", "drop", "APP_USER", "--sid", "FREE"], "");
    assert!(ok, "{text}");
    let (ok, text) = oradb(h, &["user", "drop", "APP_USER", "--sid", "FREE"], "");
    assert!(!ok);
    assert!(
        text.contains("ORA-01918: user 'APP_USER' does not exist"),
        "{text}"
    );
}
