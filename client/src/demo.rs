//! `orasim demo`: a guided tour that a newcomer can run with one command. It builds a
//! throw-away `ORACLE_HOME` from the embedded default configuration, then drives the real
//! binaries exactly as a DBA would type them (`oradb`, `lsnrctl`, `tnsping`, `orasql`),
//! printing each command before its output. Everything it starts is stopped again, even
//! when a step fails.
//!
//! It shells out on purpose: the demo is a walkthrough of the tools, not of the library, and
//! it must never know more about the daemons than their command lines. It ends with
//! `tnsbench --quick`: what a session costs with a dedicated server, a shared-server circuit
//! and a pooled server, in numbers, and `oradb kill-session` on one of those sessions.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, Result, bail};

/// The instance SID (also its service name and tnsnames.ora alias) of the embedded default
/// configuration, and its demo account.
pub const DEFAULT_SID: &str = "ORCL";
const DEMO_USER: &str = "SCOTT";
const DEMO_PASSWORD: &str = "tiger";

/// Sessions per mode of the closing comparison.
pub const COMPARE_SESSIONS: u32 = 200;

/// The port Oracle's default listener uses.
const DEFAULT_PORT: u16 = 1521;

/// What the demo needs to know from its command line.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Use this directory as ORACLE_HOME instead of a fresh temporary one (kept afterwards).
    pub home: Option<PathBuf>,
    /// Listen on this port instead of 1521 (0 = any free port).
    pub port: Option<u16>,
    /// The instance's SID, service name and alias ([`DEFAULT_SID`] unless asked otherwise).
    pub sid: String,
    /// Sessions per mode of the closing `tnsbench --quick` comparison (0: none).
    pub compare_sessions: u32,
}

/// Runs the tour; the exit code is non-zero when any step failed.
pub fn run(opts: &DemoOptions) -> Result<ExitCode> {
    let bin_dir = sibling_dir()?;
    for tool in [
        "tnslsnr", "lsnrctl", "oradb", "tnsping", "orasql", "tnsbench",
    ] {
        if !bin_dir.join(tool).exists() {
            bail!(
                "{} not found next to orasim in {}: build the whole workspace first (cargo build --release)",
                tool,
                bin_dir.display()
            );
        }
    }
    let (home, keep) = match &opts.home {
        Some(h) => (h.clone(), true),
        None => (
            std::env::temp_dir().join(format!("orasim-demo-{}", std::process::id())),
            false,
        ),
    };
    let port = pick_port(opts.port)?;
    write_home(&home, port, &opts.sid)?;

    // Dropping the tour stops what it started, even if a step panics.
    let tour = Tour {
        bin_dir,
        home: home.clone(),
        sid: opts.sid.clone(),
        compare_sessions: opts.compare_sessions,
    };
    println!("orasim demo: ORACLE_HOME={}", home.display());
    println!(
        "listener LISTENER on 127.0.0.1:{port}{}\n",
        if port == DEFAULT_PORT {
            ""
        } else {
            " (1521 is busy or was not asked for)"
        }
    );
    let result = tour.run_steps(port);
    drop(tour);
    if !keep {
        let _ = std::fs::remove_dir_all(&home);
    }
    match result {
        Ok(()) => {
            println!("\nThe demo completed successfully.");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("\ndemo failed: {e:#}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// The directory holding the workspace's binaries: where this executable lives.
fn sibling_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("locating the orasim executable")?;
    exe.parent()
        .map(Path::to_path_buf)
        .context("orasim executable has no parent directory")
}

/// 1521 when it is free (and not overridden), else an ephemeral port.
fn pick_port(requested: Option<u16>) -> Result<u16> {
    let wanted = requested.unwrap_or(DEFAULT_PORT);
    if wanted != 0 && TcpListener::bind(("127.0.0.1", wanted)).is_ok() {
        return Ok(wanted);
    }
    if requested.is_some() && wanted != 0 {
        bail!("port {wanted} on 127.0.0.1 is in use");
    }
    let probe = TcpListener::bind(("127.0.0.1", 0)).context("finding a free port")?;
    Ok(probe.local_addr()?.port())
}

/// Writes the embedded default configuration: listener.ora, tnsnames.ora, sqlnet.ora and
/// init<SID>.ora, as a fresh Oracle home would have them (but on loopback).
fn write_home(home: &Path, port: u16, sid: &str) -> Result<()> {
    let admin = home.join("network/admin");
    let dbs = home.join("dbs");
    for dir in [&admin, &dbs, &home.join("network/log")] {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let files = [
        (
            admin.join("listener.ora"),
            format!(
                "# Default listener of the orasim demo (Oracle's default, on loopback).\n\
                 LISTENER =\n  (DESCRIPTION_LIST =\n    (DESCRIPTION =\n      \
                 (ADDRESS = (PROTOCOL = TCP)(HOST = 127.0.0.1)(PORT = {port}))))\n\n\
                 LOG_DIRECTORY_LISTENER = {log}\n",
                log = home.join("network/log").display()
            ),
        ),
        (
            admin.join("tnsnames.ora"),
            format!(
                "{sid} =\n  (DESCRIPTION =\n    (ADDRESS = (PROTOCOL = TCP)(HOST = 127.0.0.1)(PORT = {port}))\n    \
                 (CONNECT_DATA = (SERVER = DEDICATED)(SERVICE_NAME = {sid})))\n"
            ),
        ),
        (
            admin.join("sqlnet.ora"),
            "NAMES.DIRECTORY_PATH = (TNSNAMES, EZCONNECT)\n".to_string(),
        ),
        (
            dbs.join(format!("init{sid}.ora")),
            format!(
                "db_name = {sid}\ninstance_name = {sid}\nservice_names = {sid}\n\
                 processes = 40\nlocal_listener = '(ADDRESS=(PROTOCOL=TCP)(HOST=127.0.0.1)(PORT={port}))'\n"
            ),
        ),
    ];
    for (path, text) in files {
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Runs the tools with the demo's environment.
struct Tour {
    bin_dir: PathBuf,
    home: PathBuf,
    /// The instance it starts.
    sid: String,
    /// Sessions per mode of the closing comparison (0: none).
    compare_sessions: u32,
}

impl Tour {
    fn command(&self, tool: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(self.bin_dir.join(tool));
        cmd.args(args)
            .env("ORACLE_HOME", &self.home)
            .env("ORACLE_SID", &self.sid)
            .env_remove("TNS_ADMIN");
        cmd
    }

    /// Prints `$ tool args`, runs it with optional stdin, prints its output; fails on a
    /// non-zero exit unless `may_fail`.
    fn step(&self, tool: &str, args: &[&str], stdin: Option<&str>, may_fail: bool) -> Result<()> {
        println!("$ {tool} {}", shell_words(args));
        let mut cmd = self.command(tool, args);
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().with_context(|| format!("starting {tool}"))?;
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(text.as_bytes())
                .with_context(|| format!("writing to {tool}"))?;
        }
        let out = child
            .wait_with_output()
            .with_context(|| format!("waiting for {tool}"))?;
        print!("{}", String::from_utf8_lossy(&out.stdout));
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        println!();
        if !out.status.success() && !may_fail {
            bail!("`{tool} {}` failed ({})", shell_words(args), out.status);
        }
        Ok(())
    }

    fn run_steps(&self, port: u16) -> Result<()> {
        let sid = self.sid.as_str();
        let ezconnect = format!("127.0.0.1:{port}/{sid}");
        let login = format!("{DEMO_USER}/{DEMO_PASSWORD}@{sid}");
        self.step(
            "oradb",
            &["user", "add", DEMO_USER, "--sid", sid, "--password-stdin"],
            Some(&format!("{DEMO_PASSWORD}\n")),
            false,
        )?;
        self.step("lsnrctl", &["start"], None, false)?;
        self.step("oradb", &["startup", "--sid", sid], None, false)?;
        self.wait_for_registration()?;
        self.step("lsnrctl", &["services"], None, false)?;
        self.step("tnsping", &[sid], None, false)?;
        self.step(
            "orasql",
            &[
                &login,
                "-c",
                "column username format a10\ncolumn sid format a5\n\
                 select user username, sys_context('USERENV','SID') sid, sysdate from dual",
            ],
            None,
            false,
        )?;
        self.step(
            "orasql",
            &[
                &format!("{DEMO_USER}/{DEMO_PASSWORD}@{ezconnect}"),
                "-c",
                "select level from dual connect by level <= 6",
            ],
            None,
            false,
        )?;
        self.step(
            "orasql",
            &[&login, "-c", "select * from no_such_table"],
            None,
            true,
        )?;
        self.step(
            "orasql",
            &[
                &format!("{DEMO_USER}/not-the-password@{sid}"),
                "-c",
                "select 1 from dual",
            ],
            None,
            true,
        )?;
        self.step(
            "orasql",
            &[
                &format!("{DEMO_USER}/{DEMO_PASSWORD}@127.0.0.1:{port}/NO_SUCH_SERVICE"),
                "-c",
                "select 1 from dual",
            ],
            None,
            true,
        )?;
        self.step("lsnrctl", &["status"], None, false)?;
        if self.compare_sessions > 0 {
            // tnsbench starts a listener and an instance of its own, sized for the sessions,
            // and stops them again.
            self.step(
                "tnsbench",
                &["--quick", &self.compare_sessions.to_string()],
                None,
                false,
            )?;
        }
        Ok(())
    }

    /// lreg registers the instance with the listener a moment after startup, as with Oracle;
    /// wait (at most ten seconds) until `lsnrctl services` shows the service READY.
    fn wait_for_registration(&self) -> Result<()> {
        let sid = self.sid.as_str();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let out = self
                .command("lsnrctl", &["services"])
                .stderr(Stdio::null())
                .output()
                .context("running lsnrctl services")?;
            let text = String::from_utf8_lossy(&out.stdout);
            if text.contains(&format!("Service \"{sid}\"")) && text.contains("READY") {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                bail!("the instance did not register with the listener within 10 s");
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

impl Drop for Tour {
    /// Stops the instance and the listener; best effort, quiet.
    fn drop(&mut self) {
        let sid = self.sid.as_str();
        for (tool, args) in [
            ("oradb", &["shutdown", "immediate", "--sid", sid][..]),
            ("lsnrctl", &["stop"][..]),
        ] {
            let _ = self
                .command(tool, args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// Renders arguments the way a user would type them in a shell (quoting those with spaces).
fn shell_words(args: &[&str]) -> String {
    args.iter()
        .map(|a| {
            if a.is_empty() || a.contains([' ', '\'', '"', '(', ')', '*', '<', '>']) {
                format!("\"{a}\"")
            } else {
                (*a).to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
