//! The pool's configuration and state as `DBMS_CONNECTION_POOL` keeps them: Oracle's
//! defaults (the row its catalog script puts in `cpool$`), the checks of `ALTER_PARAM` /
//! `CONFIGURE_POOL`, and persistence: Oracle keeps the pool in the data dictionary, so a
//! started pool starts again with the instance until `STOP_POOL`. Ours lives in
//! `$ORACLE_HOME/dbs/cpool_<SID>.json`, written whole (to a temporary file, then renamed).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The one pool of an instance (Oracle's default pool name).
pub const DEFAULT_POOL: &str = "SYS_DEFAULT_CONNECTION_POOL";

/// Errors of the pool's configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    /// ORA-56500: no such pool.
    #[error("{}", tns::error_text::ora_line(56500))]
    NoSuchPool,
    /// ORA-56504: unknown parameter name.
    #[error("{}", tns::error_text::ora_line(56504))]
    BadName,
    /// ORA-56505: a value out of range.
    #[error("{}", tns::error_text::ora_line(56505))]
    BadValue,
    /// The state file cannot be written.
    #[error("cannot write {path}: {detail}")]
    Save {
        /// The file.
        path: String,
        /// The error.
        detail: String,
    },
}

impl ParamError {
    /// The ORA- code a session reports.
    pub fn ora_code(&self) -> u32 {
        match self {
            ParamError::NoSuchPool => 56500,
            ParamError::BadName => 56504,
            ParamError::BadValue => 56505,
            ParamError::Save { .. } => 56507,
        }
    }
}

/// The pool's parameters (DBA_CPOOL_INFO).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolParams {
    /// MINSIZE: pooled servers kept when idle.
    pub minsize: u32,
    /// MAXSIZE: pooled servers at most.
    pub maxsize: u32,
    /// INCRSIZE: servers added at a time when all are busy.
    pub incrsize: u32,
    /// SESSION_CACHED_CURSORS.
    pub session_cached_cursors: u32,
    /// INACTIVITY_TIMEOUT (s): an idle server above MINSIZE leaves after it.
    pub inactivity_timeout: u32,
    /// MAX_THINK_TIME (s): a client holding a server without a call loses it after it.
    pub max_think_time: u32,
    /// MAX_USE_SESSION: a session is replaced after this many uses.
    pub max_use_session: u32,
    /// MAX_LIFETIME_SESSION (s): a session is replaced when older.
    pub max_lifetime_session: u32,
    /// NUM_CBROK: connection brokers.
    pub num_cbrok: u32,
    /// MAXCONN_CBROK: client connections a broker holds at most.
    pub maxconn_cbrok: u32,
}

impl Default for PoolParams {
    fn default() -> Self {
        PoolParams {
            minsize: 4,
            maxsize: 40,
            incrsize: 2,
            session_cached_cursors: 20,
            inactivity_timeout: 300,
            max_think_time: 120,
            max_use_session: 500_000,
            max_lifetime_session: 86_400,
            num_cbrok: 1,
            maxconn_cbrok: 40_000,
        }
    }
}

/// The parameter names `ALTER_PARAM` takes, in DBA_CPOOL_INFO's order.
pub const PARAM_NAMES: [&str; 10] = [
    "MINSIZE",
    "MAXSIZE",
    "INCRSIZE",
    "SESSION_CACHED_CURSORS",
    "INACTIVITY_TIMEOUT",
    "MAX_THINK_TIME",
    "MAX_USE_SESSION",
    "MAX_LIFETIME_SESSION",
    "NUM_CBROK",
    "MAXCONN_CBROK",
];

impl PoolParams {
    /// The values in [`PARAM_NAMES`] order.
    pub fn values(&self) -> [u32; 10] {
        [
            self.minsize,
            self.maxsize,
            self.incrsize,
            self.session_cached_cursors,
            self.inactivity_timeout,
            self.max_think_time,
            self.max_use_session,
            self.max_lifetime_session,
            self.num_cbrok,
            self.maxconn_cbrok,
        ]
    }

    /// From values in [`PARAM_NAMES`] order (as [`Self::values`] gave them).
    pub fn from_values(v: [u32; 10]) -> PoolParams {
        let [
            minsize,
            maxsize,
            incrsize,
            session_cached_cursors,
            inactivity_timeout,
            max_think_time,
            max_use_session,
            max_lifetime_session,
            num_cbrok,
            maxconn_cbrok,
        ] = v;
        PoolParams {
            minsize,
            maxsize,
            incrsize,
            session_cached_cursors,
            inactivity_timeout,
            max_think_time,
            max_use_session,
            max_lifetime_session,
            num_cbrok,
            maxconn_cbrok,
        }
    }

    /// The value of parameter `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<u32> {
        Some(match name.to_ascii_uppercase().as_str() {
            "MINSIZE" => self.minsize,
            "MAXSIZE" => self.maxsize,
            "INCRSIZE" => self.incrsize,
            "SESSION_CACHED_CURSORS" => self.session_cached_cursors,
            "INACTIVITY_TIMEOUT" => self.inactivity_timeout,
            "MAX_THINK_TIME" => self.max_think_time,
            "MAX_USE_SESSION" => self.max_use_session,
            "MAX_LIFETIME_SESSION" => self.max_lifetime_session,
            "NUM_CBROK" => self.num_cbrok,
            "MAXCONN_CBROK" => self.maxconn_cbrok,
            _ => return None,
        })
    }

    /// Sets parameter `name` (`ALTER_PARAM`); the result must still be a valid pool
    /// (MINSIZE ≤ MAXSIZE, MAXSIZE and INCRSIZE at least 1).
    pub fn set(&mut self, name: &str, value: u32) -> Result<(), ParamError> {
        let mut next = *self;
        let field = match name.trim().to_ascii_uppercase().as_str() {
            "MINSIZE" => &mut next.minsize,
            "MAXSIZE" => &mut next.maxsize,
            "INCRSIZE" => &mut next.incrsize,
            "SESSION_CACHED_CURSORS" => &mut next.session_cached_cursors,
            "INACTIVITY_TIMEOUT" => &mut next.inactivity_timeout,
            "MAX_THINK_TIME" => &mut next.max_think_time,
            "MAX_USE_SESSION" => &mut next.max_use_session,
            "MAX_LIFETIME_SESSION" => &mut next.max_lifetime_session,
            "NUM_CBROK" => &mut next.num_cbrok,
            "MAXCONN_CBROK" => &mut next.maxconn_cbrok,
            _ => return Err(ParamError::BadName),
        };
        *field = value;
        next.check()?;
        *self = next;
        Ok(())
    }

    fn check(&self) -> Result<(), ParamError> {
        let ok = self.maxsize >= 1
            && self.minsize <= self.maxsize
            && self.incrsize >= 1
            && (1..=MAX_CBROK).contains(&self.num_cbrok)
            && self.maxconn_cbrok >= 1
            && self.max_use_session >= 1
            && self.max_lifetime_session >= 1;
        if ok {
            Ok(())
        } else {
            Err(ParamError::BadValue)
        }
    }
}

/// Most connection brokers orasim runs for a pool (NUM_CBROK above it is refused).
pub const MAX_CBROK: u32 = 16;

/// DBA_CPOOL_INFO.STATUS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum PoolStatus {
    /// Stopped (the pool as created).
    #[default]
    Inactive,
    /// Started.
    Active,
}

/// What persists of the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PoolState {
    /// STATUS.
    pub status: PoolStatus,
    /// The parameters.
    pub params: PoolParams,
}

/// Where the pool of `sid` persists.
pub fn state_path(oracle_home: &Path, sid: &str) -> PathBuf {
    oracle_home.join("dbs").join(format!("cpool_{sid}.json"))
}

impl PoolState {
    /// The persisted state; Oracle's initial row (INACTIVE, defaults) when there is none
    /// or it does not read.
    pub fn load(oracle_home: &Path, sid: &str) -> PoolState {
        let path = state_path(oracle_home, sid);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!("{}: {e}; the pool starts from its defaults", path.display());
                PoolState::default()
            }),
            Err(_) => PoolState::default(),
        }
    }

    /// Writes the state (a temporary file renamed over the old one).
    pub fn save(&self, oracle_home: &Path, sid: &str) -> Result<(), ParamError> {
        let path = state_path(oracle_home, sid);
        let fail = |e: &dyn std::fmt::Display| ParamError::Save {
            path: path.display().to_string(),
            detail: e.to_string(),
        };
        let json = serde_json::to_vec_pretty(self).map_err(|e| fail(&e))?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, json).map_err(|e| fail(&e))?;
        std::fs::rename(&tmp, &path).map_err(|e| fail(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_oracles_and_alter_param_checks_values() {
        let mut p = PoolParams::default();
        assert_eq!(
            PARAM_NAMES.map(|n| p.get(n).unwrap()),
            [4, 40, 2, 20, 300, 120, 500_000, 86_400, 1, 40_000]
        );
        p.set("maxsize", 2).unwrap_err();
        assert_eq!(p.maxsize, 40, "a refused change leaves the pool as it was");
        p.set("minsize", 1).unwrap();
        p.set("MAXSIZE", 2).unwrap();
        assert_eq!((p.minsize, p.maxsize), (1, 2));
        assert_eq!(p.set("NO_SUCH", 1), Err(ParamError::BadName));
        assert_eq!(p.set("incrsize", 0), Err(ParamError::BadValue));
        assert_eq!(p.set("num_cbrok", 0), Err(ParamError::BadValue));
        assert_eq!(p.set("num_cbrok", MAX_CBROK + 1), Err(ParamError::BadValue));
        p.set("num_cbrok", 2).unwrap();
    }

    #[test]
    fn state_persists() {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join("dbs")).unwrap();
        assert_eq!(PoolState::load(home.path(), "X"), PoolState::default());
        let mut s = PoolState {
            status: PoolStatus::Active,
            ..PoolState::default()
        };
        s.params.set("maxsize", 7).unwrap();
        s.save(home.path(), "X").unwrap();
        assert_eq!(PoolState::load(home.path(), "X"), s);
    }
}
