//! pmon: the instance's process monitor. A dedicated server that dies without logging off
//! (`kill -9`, a crash) leaves its process and session slots behind in the SGA; pmon notices
//! within one tick — by the pid (and its start time, so a reused pid does not fool it) in
//! `/proc`, or by `kill(pid, 0)` when `/proc` cannot be read (an instance out of
//! descriptors must not take its live sessions for dead) — frees them so V$SESSION/V$PROCESS and the PROCESSES/SESSIONS limits are right
//! again, and counts the cleanup ([`crate::sga::Load::pmon_cleanups`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::sga::Sga;

/// How often pmon looks: well under the one second within which a dead process's slots must
/// be free.
pub const TICK: Duration = Duration::from_millis(200);

/// The running pmon thread.
#[derive(Debug)]
pub struct Pmon {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Pmon {
    /// Starts pmon for `sga`, looking every `tick`.
    pub fn spawn(sga: Arc<Sga>, tick: Duration) -> std::io::Result<Pmon> {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("pmon".into())
                .spawn(move || {
                    while !stop.load(Ordering::Acquire) {
                        for pid in sga.reap_dead_processes() {
                            tracing::warn!(
                                target: "pmon",
                                "PMON: dead process (ospid: {pid}) found; its process and session slots were freed"
                            );
                        }
                        std::thread::sleep(tick);
                    }
                })?
        };
        Ok(Pmon {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops pmon and waits for it.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Pmon {
    fn drop(&mut self) {
        self.stop();
    }
}
