//! PostgreSQL and PgBouncer as peers measured in the same run: `scripts/peers.sh start`
//! installs (if needed) and starts a throw-away cluster and a session-pooling PgBouncer on
//! loopback ephemeral ports and prints `KEY=value` lines; `stop DIR` ends both. A [`Peers`]
//! stops them when dropped, so a failed run leaves nothing behind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde::Serialize;
use thiserror::Error;

use crate::pg::PgTarget;

/// Why the peers could not be started.
#[derive(Debug, Error)]
pub enum PeersError {
    /// The script could not be run at all.
    #[error("cannot run {script}: {source}")]
    Spawn {
        /// Script path.
        script: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The script failed (its stderr tail is kept).
    #[error("{script} start failed ({status}): {stderr}")]
    Failed {
        /// Script path.
        script: PathBuf,
        /// Exit status.
        status: String,
        /// Last lines of its stderr.
        stderr: String,
    },
    /// The script's output lacked a key.
    #[error("{script} start printed no {key}=")]
    Missing {
        /// Script path.
        script: PathBuf,
        /// The key.
        key: &'static str,
    },
}

/// What the report says about the peers.
#[derive(Debug, Clone, Serialize)]
pub struct PeersInfo {
    /// `postgres --version`.
    pub postgresql_version: String,
    /// `pgbouncer --version` (first line).
    pub pgbouncer_version: String,
    /// How PostgreSQL authenticates the bench role.
    pub auth: String,
    /// PgBouncer pool modes.
    pub pool_mode: String,
    /// The client used.
    pub client: &'static str,
}

/// Running peers; stopped when dropped.
#[derive(Debug)]
pub struct Peers {
    script: PathBuf,
    /// The script's working directory (data directory, configs, logs).
    pub dir: PathBuf,
    /// PostgreSQL port on 127.0.0.1.
    pub pg_port: u16,
    /// PgBouncer port on 127.0.0.1.
    pub pgbouncer_port: u16,
    /// Role.
    pub user: String,
    /// Database name on PostgreSQL.
    pub pg_database: String,
    /// Database name as PgBouncer exposes it (session pooling).
    pub pgbouncer_database: String,
    /// The same database through PgBouncer's transaction pooling, when the script made it.
    pub pgbouncer_tx_database: Option<String>,
    /// Postmaster pid.
    pub postmaster_pid: u32,
    /// PgBouncer pid.
    pub pgbouncer_pid: u32,
    /// A role that logs in with SCRAM-SHA-256, and its password (when the script made one).
    pub scram: Option<(String, String)>,
    /// Versions and settings for the report.
    pub info: PeersInfo,
}

impl Peers {
    /// Runs `script start` (bounded by `limit`) and parses what it printed.
    pub fn start(script: &Path, limit: Duration) -> Result<Peers, PeersError> {
        let child = Command::new("bash")
            .arg(script)
            .arg("start")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| PeersError::Spawn {
                script: script.to_path_buf(),
                source,
            })?;
        let out = wait_with_limit(child, limit).map_err(|source| PeersError::Spawn {
            script: script.to_path_buf(),
            source,
        })?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let kv = parse_kv(&stdout);
        // Stop whatever did start if the output is unusable.
        let dir = kv.get("PEERS_DIR").map(PathBuf::from);
        let fail = |e: PeersError| {
            if let Some(d) = &dir {
                stop(script, d);
            }
            e
        };
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> = stderr.lines().rev().take(8).collect();
            return Err(fail(PeersError::Failed {
                script: script.to_path_buf(),
                status: out.status.to_string(),
                stderr: tail.into_iter().rev().collect::<Vec<_>>().join(" | "),
            }));
        }
        let get = |key: &'static str| {
            kv.get(key).cloned().ok_or(PeersError::Missing {
                script: script.to_path_buf(),
                key,
            })
        };
        let num = |key: &'static str| {
            get(key)?.parse::<u32>().map_err(|_| PeersError::Missing {
                script: script.to_path_buf(),
                key,
            })
        };
        let build = || -> Result<Peers, PeersError> {
            Ok(Peers {
                script: script.to_path_buf(),
                dir: PathBuf::from(get("PEERS_DIR")?),
                pg_port: u16::try_from(num("PG_PORT")?).unwrap_or(0),
                pgbouncer_port: u16::try_from(num("PGB_PORT")?).unwrap_or(0),
                user: get("PG_USER")?,
                pg_database: get("PG_DB")?,
                pgbouncer_database: get("PGB_DB")?,
                pgbouncer_tx_database: kv.get("PGB_TX_DB").cloned(),
                postmaster_pid: num("PG_PID")?,
                scram: kv
                    .get("PG_SCRAM_USER")
                    .cloned()
                    .zip(kv.get("PG_SCRAM_PASSWORD").cloned()),
                pgbouncer_pid: num("PGB_PID")?,
                info: PeersInfo {
                    postgresql_version: get("PG_VERSION")?,
                    pgbouncer_version: get("PGB_VERSION")?,
                    auth: get("PG_AUTH")?,
                    pool_mode: get("PGB_POOL_MODE")?,
                    client: "tnsbench's own protocol-3.0 client (bench/src/pg.rs), blocking",
                },
            })
        };
        build().map_err(fail)
    }

    /// PostgreSQL direct.
    pub fn postgres(&self, timeout: Duration) -> PgTarget {
        PgTarget {
            port: self.pg_port,
            user: self.user.clone(),
            database: self.pg_database.clone(),
            password: None,
            timeout,
        }
    }

    /// PostgreSQL direct as the SCRAM-SHA-256 role.
    pub fn postgres_scram(&self, timeout: Duration) -> Option<PgTarget> {
        let (user, password) = self.scram.clone()?;
        Some(PgTarget {
            user,
            password: Some(password),
            ..self.postgres(timeout)
        })
    }

    /// Through PgBouncer.
    pub fn pgbouncer(&self, timeout: Duration) -> PgTarget {
        PgTarget {
            port: self.pgbouncer_port,
            user: self.user.clone(),
            database: self.pgbouncer_database.clone(),
            password: None,
            timeout,
        }
    }
}

impl Peers {
    /// Through PgBouncer with transaction pooling.
    pub fn pgbouncer_transaction(&self, timeout: Duration) -> Option<PgTarget> {
        Some(PgTarget {
            database: self.pgbouncer_tx_database.clone()?,
            ..self.pgbouncer(timeout)
        })
    }
}

impl Drop for Peers {
    fn drop(&mut self) {
        stop(&self.script, &self.dir);
    }
}

fn stop(script: &Path, dir: &Path) {
    if let Ok(child) = Command::new("bash")
        .arg(script)
        .arg("stop")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    {
        let _ = wait_with_limit(child, Duration::from_secs(60));
    }
}

/// `KEY=value` lines (others ignored).
pub fn parse_kv(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| {
            !k.is_empty()
                && k.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        })
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

/// Waits for a child, killing it when `limit` passes.
pub(crate) fn wait_with_limit(
    mut child: std::process::Child,
    limit: Duration,
) -> std::io::Result<std::process::Output> {
    let deadline = std::time::Instant::now() + limit;
    // Drain the pipes on threads so a chatty child cannot block on a full pipe.
    let out = child.stdout.take().map(|mut r| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = std::io::Read::read_to_end(&mut r, &mut v);
            v
        })
    });
    let err = child.stderr.take().map(|mut r| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = std::io::Read::read_to_end(&mut r, &mut v);
            v
        })
    });
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            break child.wait()?;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Ok(std::process::Output {
        status,
        stdout: out.and_then(|t| t.join().ok()).unwrap_or_default(),
        stderr: err.and_then(|t| t.join().ok()).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_script_output() {
        let kv = parse_kv("installing...\nPG_PORT=45001\nPEERS_DIR=/tmp/x=y\nlower=no\n");
        assert_eq!(kv.get("PG_PORT").map(String::as_str), Some("45001"));
        assert_eq!(kv.get("PEERS_DIR").map(String::as_str), Some("/tmp/x=y"));
        assert!(!kv.contains_key("lower"));
    }

    #[test]
    fn missing_script_is_an_error_not_a_panic() {
        let e = Peers::start(Path::new("/nonexistent/peers.sh"), Duration::from_secs(10))
            .expect_err("no script");
        assert!(e.to_string().contains("start failed"), "{e}");
    }
}
