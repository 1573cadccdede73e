//! Stopping a run early on SIGINT (Ctrl-C), SIGTERM or SIGHUP without leaving its stack
//! behind. The handler only records the signal (signal-hook); the phases' loops look at
//! [`requested`] between operations and stop, and the run returns [`Interrupted`] at its next
//! check, so the listeners, the instance (with its SGA segment), the floor process and the
//! peers are stopped by the same `Drop`s as after a failed phase. A second signal while that
//! teardown runs ends tnsbench at once, as the signal's default action.

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use thiserror::Error;

/// The run was stopped by a signal.
#[derive(Debug, Error)]
#[error("stopped by signal {signal}; everything tnsbench started has been stopped")]
pub struct Interrupted {
    /// The signal's number.
    pub signal: i32,
}

/// The signal received (0: none), shared with the handler.
fn received() -> &'static Arc<AtomicUsize> {
    static RECEIVED: OnceLock<Arc<AtomicUsize>> = OnceLock::new();
    RECEIVED.get_or_init(|| Arc::new(AtomicUsize::new(0)))
}

/// Installs the handlers (once per process).
pub fn install() -> std::io::Result<()> {
    let again = Arc::new(AtomicBool::new(false));
    for sig in [SIGINT, SIGTERM, SIGHUP] {
        // Registered first, so it sees the flag before this signal sets it: a second
        // signal terminates.
        signal_hook::flag::register_conditional_default(sig, Arc::clone(&again))?;
        signal_hook::flag::register(sig, Arc::clone(&again))?;
        signal_hook::flag::register_usize(sig, Arc::clone(received()), sig as usize)?;
    }
    Ok(())
}

/// True once a signal asked the run to stop.
pub fn requested() -> bool {
    received().load(Ordering::Relaxed) != 0
}

/// `Err` once a signal asked the run to stop.
pub fn check() -> Result<(), Interrupted> {
    match received().load(Ordering::Relaxed) {
        0 => Ok(()),
        s => Err(Interrupted {
            signal: i32::try_from(s).unwrap_or(SIGTERM),
        }),
    }
}
