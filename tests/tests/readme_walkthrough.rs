//! The README's "By hand" walk-through, run as written: its four files are written into a
//! temporary `ORACLE_HOME` (the port 1521 replaced by a free one, the SID by the test's own
//! so the shared memory segment is this test's), then its commands run one by one through
//! `bash` with the workspace binaries first on `PATH`. The instance and the listener are
//! shut down by a guard even when a step fails.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use tests::corpus::repo_root;
use tests::instance::{wait_for, wait_output};
use tests::procs::{bin, free_port};

/// The test's own SID (and db_name, at most 8 characters): per process, so that two test runs
/// on one machine never share a shared-memory segment.
fn sid() -> String {
    format!("RW{}", std::process::id())
}
const LIMIT: Duration = Duration::from_secs(60);

/// The README's "By hand" section.
fn by_hand() -> String {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    let start = readme.find("\n## By hand\n").expect("a By hand section");
    let rest = &readme[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    rest[..end].to_string()
}

/// Fenced blocks of one language: their lines.
fn blocks(text: &str, lang: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut cur: Option<Vec<String>> = None;
    for line in text.lines() {
        match (&mut cur, line.trim_start().strip_prefix("```")) {
            (None, Some(l)) if l.trim() == lang => cur = Some(Vec::new()),
            (Some(_), Some(_)) => out.extend(cur.take()),
            (Some(b), None) => b.push(line.to_string()),
            _ => {}
        }
    }
    out
}

struct Walk {
    home: tempfile::TempDir,
    path: String,
    port: u16,
}

impl Walk {
    fn adapt(&self, s: &str) -> String {
        s.replace("1521", &self.port.to_string())
            .replace("ORCL", &sid())
    }

    fn sh(&self, line: &str, stdin: &str) -> Output {
        let mut child = Command::new("bash")
            .arg("-c")
            .arg(self.adapt(line))
            .env("PATH", &self.path)
            .env("ORACLE_HOME", self.home.path())
            .env("ORACLE_SID", sid())
            .env("HOME", self.home.path())
            .env_remove("TNS_ADMIN")
            .env_remove("TWO_TASK")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("bash");
        if let Some(mut i) = child.stdin.take() {
            use std::io::Write;
            let _ = i.write_all(stdin.as_bytes());
        }
        wait_output(child, LIMIT)
    }
}

impl Drop for Walk {
    fn drop(&mut self) {
        let _ = self.sh("oradb shutdown abort; lsnrctl stop", "");
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn the_readme_walk_through_works_as_written() {
    let section = by_hand();
    assert!(
        !section.contains("../shared"),
        "the README must stand on its own"
    );
    let bins: Vec<PathBuf> = ["orasim", "oradb", "lsnrctl", "tnslsnr", "tnsping", "orasql"]
        .iter()
        .map(|b| bin(b))
        .collect();
    let bin_dir = bins[0].parent().expect("bin dir").to_path_buf();
    let walk = Walk {
        home: tempfile::Builder::new()
            .prefix("orareadme")
            .tempdir()
            .expect("tempdir"),
        path: format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        ),
        port: free_port(),
    };
    let sh_blocks = blocks(&section, "sh");
    assert_eq!(sh_blocks.len(), 3, "setup, walk, stop: {section}");
    // The setup block: its exports and mkdir, minus the build (this test built the tools).
    let setup = &sh_blocks[0];
    assert!(
        setup
            .iter()
            .any(|l| l.contains("export PATH=$PWD/target/release:$PATH"))
    );
    // Its ORACLE_HOME and ORACLE_SID are the test's own (set on every command).
    assert!(setup.iter().any(|l| l.contains("ORACLE_SID=ORCL")));
    for l in setup.iter().filter(|l| l.starts_with("mkdir")) {
        let o = walk.sh(l, "");
        assert!(o.status.success(), "{l}: {}", text(&o));
    }
    // The files.
    let files = blocks(&section, "ora");
    assert_eq!(files.len(), 4);
    for f in &files {
        let rel = f[0]
            .strip_prefix("# $ORACLE_HOME/")
            .unwrap_or_else(|| panic!("a file block names its path: {f:?}"));
        let path: PathBuf = walk.home.path().join(walk.adapt(rel));
        std::fs::write(&path, walk.adapt(&f[1..].join("\n")) + "\n").expect("write file");
    }
    // The walk.
    for line in &sh_blocks[1] {
        let cmd = line.split('#').next().unwrap_or("").trim();
        let stdin = if cmd.starts_with("orasql") {
            "select 'hello from ' || user as greeting from dual;\nexit\n"
        } else {
            ""
        };
        if cmd == "lsnrctl services" {
            // lreg registers a moment after startup, as the README says.
            let ready = wait_for(Duration::from_secs(15), || {
                let o = walk.sh(cmd, "");
                text(&o).contains("READY").then_some(())
            });
            assert!(ready.is_some(), "{}", text(&walk.sh(cmd, "")));
            continue;
        }
        let o = walk.sh(cmd, stdin);
        let out = text(&o);
        assert!(o.status.success(), "{cmd}: {out}");
        if cmd.starts_with("orasim check") {
            assert!(out.contains("0 error(s), 0 warning(s)"), "{out}");
        }
        if cmd.starts_with("tnsping") {
            assert!(out.contains("OK ("), "{out}");
        }
        if cmd.starts_with("orasql") {
            assert!(out.contains("hello from SCOTT"), "{out}");
        }
    }
    // What the notes promise: SYSDBA for dba1, ALTER SYSTEM for SCOTT.
    let o = walk.sh("orasql -s 'dba1/secret@ORCL as sysdba' -c 'show user'", "");
    assert!(text(&o).contains("USER is \"SYS\""), "{}", text(&o));
    let o = walk.sh(
        "orasql -s scott/tiger@ORCL -c \"alter system kill session '1,1'\"",
        "",
    );
    assert!(!text(&o).contains("ORA-01031"), "{}", text(&o));
    // The orasql commands the notes name.
    let o = walk.sh(
        "orasql -s scott/tiger@ORCL",
        "show parameter processes\nshow all\ndesc v$session\nexit\n",
    );
    let out = text(&o);
    assert!(
        out.contains("\nNAME                                 TYPE        VALUE\n"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("processes ") && l.contains(" integer ") && l.ends_with(" 40")),
        "{out}"
    );
    assert!(out.contains("FEEDBACK ON for 6 or more rows\n"), "{out}");
    assert!(out.contains(" SERIAL#   "), "{out}");
    // The stop block.
    for line in &sh_blocks[2] {
        let o = walk.sh(line, "");
        assert!(o.status.success(), "{line}: {}", text(&o));
    }
}
