//! `DBMS_CONNECTION_POOL` carried out for a session: the change goes to the persisted state
//! (so a started pool starts again with the instance) and to the SGA, where CMON picks it
//! up. START_POOL and STOP_POOL return once the broker is up or has stopped taking clients
//! and lreg has told the listener, so a `(SERVER=POOLED)` connect right after them sees the
//! new state.

use std::path::Path;
use std::time::{Duration, Instant};

use engine::OraError;
use engine::sql::cpool::PoolCall;

use super::params::{DEFAULT_POOL, ParamError, PoolParams, PoolStatus};
use crate::sga::Sga;

/// How long START_POOL / STOP_POOL wait for the broker and the listener.
const SETTLE: Duration = Duration::from_secs(5);

fn ora(e: &ParamError) -> OraError {
    OraError::new(e.ora_code(), 0)
}

/// Applies `call` to the pool of the instance behind `sga`.
pub fn apply(sga: &Sga, oracle_home: &Path, call: &PoolCall) -> Result<(), OraError> {
    let pool = match call {
        PoolCall::Start { pool }
        | PoolCall::Stop { pool }
        | PoolCall::RestoreDefaults { pool }
        | PoolCall::AlterParam { pool, .. }
        | PoolCall::Configure { pool, .. } => pool,
    };
    if !pool.eq_ignore_ascii_case(DEFAULT_POOL) {
        return Err(ora(&ParamError::NoSuchPool));
    }
    let sid = sga.sid();
    let mut state = sga.cpool_state();
    let before = state.status;
    match call {
        PoolCall::Start { .. } => {
            if state.status == PoolStatus::Active {
                return Err(OraError::new(56501, 0));
            }
            state.status = PoolStatus::Active;
        }
        PoolCall::Stop { .. } => {
            if state.status == PoolStatus::Inactive {
                return Err(OraError::new(56506, 0));
            }
            state.status = PoolStatus::Inactive;
        }
        PoolCall::RestoreDefaults { .. } => state.params = PoolParams::default(),
        PoolCall::AlterParam { name, value, .. } => {
            let v = parse_value(value)?;
            state.params.set(name, v).map_err(|e| ora(&e))?;
        }
        PoolCall::Configure { params, .. } => {
            let mut next = state.params;
            for (name, value) in params {
                // MAX_TXN_THINK_TIME (12.2+) is accepted and has no effect here.
                if name == "MAX_TXN_THINK_TIME" {
                    parse_value(value)?;
                    continue;
                }
                next.set(name, parse_value(value)?).map_err(|e| ora(&e))?;
            }
            state.params = next;
        }
    }
    state.save(oracle_home, &sid).map_err(|e| {
        tracing::error!("{e}");
        ora(&e)
    })?;
    sga.set_cpool_state(&state);
    if state.status != before {
        settle(sga, state.status == PoolStatus::Active);
    }
    Ok(())
}

fn parse_value(v: &str) -> Result<u32, OraError> {
    v.trim()
        .parse::<u32>()
        .map_err(|_| ora(&ParamError::BadValue))
}

/// Waits until the broker runs (or not) and the listener has acknowledged a registration
/// that shows it so.
fn settle(sga: &Sga, running: bool) {
    let deadline = Instant::now() + SETTLE;
    while Instant::now() < deadline && (sga.cpool_broker().0 != 0) != running {
        std::thread::sleep(Duration::from_millis(10));
    }
    sga.request_registration();
    while Instant::now() < deadline && sga.cpool_registered() != sga.cpool_broker().0 {
        std::thread::sleep(Duration::from_millis(10));
    }
}
