//! Where things live on disk, as in an Oracle home: `ORACLE_HOME` (env or `--home`) holds
//! `network/admin/` (overridden by `TNS_ADMIN`) with `listener.ora`, `network/log/` for
//! `listener.log`, and — orasim's own addition — `network/run/` for the per-listener admin
//! socket (`<name>.ctl`, the channel `lsnrctl` uses) and pid file (`<name>.pid`).
//!
//! A Unix socket path cannot exceed 107 bytes; when `network/run/<name>.ctl` would, the
//! socket lives at `/tmp/.orasim-<uid>/<hash of the home>-<name>.ctl` instead. Both are
//! keyed by home *and* listener name, so several listeners (and several homes in tests) run
//! side by side without colliding.

use std::path::{Path, PathBuf};

/// Longest usable `sun_path` (108 bytes including the NUL).
const MAX_SUN_PATH: usize = 107;

/// Errors resolving the home.
#[derive(Debug, thiserror::Error)]
pub enum HomeError {
    /// Neither `--home` nor `ORACLE_HOME` was given.
    #[error("ORACLE_HOME is not set (set the environment variable or pass --home)")]
    NotSet,
}

/// An Oracle home as the listener and lsnrctl see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OracleHome {
    /// `ORACLE_HOME`.
    pub home: PathBuf,
    /// Directory holding `listener.ora` (`TNS_ADMIN` or `$ORACLE_HOME/network/admin`).
    pub admin_dir: PathBuf,
}

impl OracleHome {
    /// Resolves from an explicit `--home`, else `ORACLE_HOME`; `TNS_ADMIN` overrides the
    /// admin directory.
    pub fn resolve(explicit: Option<&Path>) -> Result<Self, HomeError> {
        let home = match explicit {
            Some(p) => p.to_path_buf(),
            None => std::env::var_os("ORACLE_HOME")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .ok_or(HomeError::NotSet)?,
        };
        let tns_admin = std::env::var_os("TNS_ADMIN")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        Ok(Self::with_admin(home, tns_admin))
    }

    /// A home with an optional admin-directory override.
    pub fn with_admin(home: PathBuf, tns_admin: Option<PathBuf>) -> Self {
        let home = std::path::absolute(&home).unwrap_or(home);
        let admin_dir = tns_admin.unwrap_or_else(|| home.join("network").join("admin"));
        Self { home, admin_dir }
    }

    /// `listener.ora` path.
    pub fn listener_ora(&self) -> PathBuf {
        self.admin_dir.join("listener.ora")
    }

    /// Default log directory (`$ORACLE_HOME/network/log`, Oracle's non-ADR default).
    pub fn default_log_dir(&self) -> PathBuf {
        self.home.join("network").join("log")
    }

    /// `$ORACLE_HOME/network/run`.
    pub fn run_dir(&self) -> PathBuf {
        self.home.join("network").join("run")
    }

    /// The admin socket of listener `name`.
    pub fn admin_socket(&self, name: &str) -> PathBuf {
        let file = format!("{}.ctl", name.to_ascii_lowercase());
        let preferred = self.run_dir().join(&file);
        if preferred.as_os_str().len() <= MAX_SUN_PATH {
            return preferred;
        }
        let uid = nix::unistd::getuid().as_raw();
        PathBuf::from(format!("/tmp/.orasim-{uid}")).join(format!(
            "{:016x}-{file}",
            fnv1a(self.home.as_os_str().as_encoded_bytes())
        ))
    }

    /// The pid file of listener `name`.
    pub fn pid_file(&self, name: &str) -> PathBuf {
        self.run_dir()
            .join(format!("{}.pid", name.to_ascii_lowercase()))
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_follows_oracle_home() {
        let h = OracleHome::with_admin(PathBuf::from("/u01/db"), None);
        assert_eq!(
            h.listener_ora(),
            PathBuf::from("/u01/db/network/admin/listener.ora")
        );
        assert_eq!(
            h.admin_socket("LISTENER"),
            PathBuf::from("/u01/db/network/run/listener.ctl")
        );
        let t = OracleHome::with_admin(PathBuf::from("/u01/db"), Some(PathBuf::from("/etc/tns")));
        assert_eq!(t.listener_ora(), PathBuf::from("/etc/tns/listener.ora"));
    }

    #[test]
    fn long_homes_get_short_distinct_sockets() {
        let long = "/x".repeat(60);
        let a = OracleHome::with_admin(PathBuf::from(format!("{long}/a")), None);
        let b = OracleHome::with_admin(PathBuf::from(format!("{long}/b")), None);
        let (pa, pb) = (a.admin_socket("LISTENER"), b.admin_socket("LISTENER"));
        assert!(pa.as_os_str().len() <= MAX_SUN_PATH);
        assert_ne!(pa, pb);
        assert_ne!(a.admin_socket("L2"), pa);
    }
}
