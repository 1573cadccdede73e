//! Shared server: dispatchers (D000, ...) and shared servers (S000, ...) as threads of
//! `oradb`, so many client connections are served by a few servers instead of one process
//! each.
//!
//! - [`dispatcher`]: a dispatcher's event loop, its virtual circuits and their bounds.
//! - [`pool`]: the shared servers, which take requests from the one common queue
//!   ([`common_queue`]: bounded; an idle server sleeps at once instead of spinning).
//! - [`config`]: DISPATCHERS entries, SHARED_SERVERS / MAX_SHARED_SERVERS and their rules.
//!
//! The manager thread (`ora_sman_<SID>`) makes the running set follow the parameters, which
//! live in the SGA so `ALTER SYSTEM SET` from any session (dedicated or shared) reaches it:
//! raising SHARED_SERVERS or a DISPATCHERS count starts them at once; lowering retires them
//! as Oracle does (a shared server above SHARED_SERVERS leaves once idle, a dispatcher stops
//! accepting, drains its circuits, then leaves). It also grows the pool: when requests wait
//! on the common queue and no shared server is idle, it adds one, up to MAX_SHARED_SERVERS
//! (SERVERS_STARTED / SERVERS_HIGHWATER in V$SHARED_SERVER_MONITOR).

pub mod common_queue;
pub mod config;
pub mod dispatcher;
pub mod pool;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use common_queue::Sender;

use crate::sga::Sga;
use crate::sga::shared::SharedParams;

pub use config::{MAX_CONNECTIONS, SharedConfig, dispatcher_count};
use dispatcher::{Dispatcher, DispatcherHandle};
use pool::{Pool, Work};

/// Requests the common queue holds; a dispatcher that finds it full keeps the request
/// (one per circuit) and stops reading that circuit until there is room.
pub const COMMON_QUEUE_LIMIT: usize = 1024;

/// How often the manager looks at the common queue.
const TICK: Duration = Duration::from_millis(50);

/// Errors starting the shared-server threads.
#[derive(Debug, thiserror::Error)]
pub enum SharedError {
    /// A socket, poll or thread could not be set up.
    #[error("{} ({what}: {source})", tns::error_text::ora_line(101))]
    Setup {
        /// What failed.
        what: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

fn setup(what: &'static str) -> impl FnOnce(std::io::Error) -> SharedError {
    move |source| SharedError::Setup { what, source }
}

/// The hand-off socket of dispatcher `name` (`D000`) of instance `sid` in process `pid`.
pub fn handoff_path(sid: &str, name: &str, pid: u32) -> PathBuf {
    crate::registration::run_dir().join(format!(
        "{}_{}_{pid}.disp",
        sid.to_ascii_lowercase(),
        name.to_ascii_lowercase()
    ))
}

struct Inner {
    cfg: Arc<SharedConfig>,
    sga: Arc<Sga>,
    pool: Arc<Pool>,
    work_tx: Sender<Work>,
    stop: Arc<AtomicBool>,
    dispatchers: Mutex<Vec<DispatcherHandle>>,
    shared_sessions: Arc<AtomicU32>,
}

/// The running shared-server machinery of an instance.
pub struct SharedServers {
    inner: Arc<Inner>,
    manager: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for SharedServers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedServers")
            .field("sid", &self.inner.cfg.sid)
            .field("servers", &self.inner.pool.live())
            .finish_non_exhaustive()
    }
}

impl SharedServers {
    /// Starts what the parameters in the SGA ask for (possibly nothing: shared server off
    /// until `ALTER SYSTEM SET SHARED_SERVERS` turns it on) and the manager.
    pub fn start(cfg: SharedConfig, sga: Arc<Sga>) -> Result<SharedServers, SharedError> {
        let (work_tx, work_rx) = common_queue::bounded::<Work>(COMMON_QUEUE_LIMIT);
        let pool = Pool::new(Arc::clone(&sga), &cfg.sid, &cfg.host, work_rx);
        let inner = Arc::new(Inner {
            cfg: Arc::new(cfg),
            sga,
            pool,
            work_tx,
            stop: Arc::new(AtomicBool::new(false)),
            dispatchers: Mutex::new(Vec::new()),
            shared_sessions: Arc::new(AtomicU32::new(0)),
        });
        let params = inner.sga.shared_params();
        inner.apply(&params, true)?;
        let manager = {
            let inner = Arc::clone(&inner);
            std::thread::Builder::new()
                .name(format!("ora_sman_{}", inner.cfg.sid))
                .spawn(move || inner.manage())
                .map_err(setup("start the shared server manager"))?
        };
        Ok(SharedServers {
            inner,
            manager: Some(manager),
        })
    }

    /// Stops the manager, the dispatchers (closing their circuits) and then the shared
    /// servers.
    pub fn stop(mut self) {
        self.inner.stop.store(true, Ordering::Release);
        if let Some(m) = self.manager.take() {
            let _ = m.join();
        }
        let dispatchers: Vec<DispatcherHandle> = std::mem::take(
            &mut *self
                .inner
                .dispatchers
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        );
        for d in &dispatchers {
            let _ = d.waker.wake();
        }
        for d in dispatchers {
            let _ = d.thread.join();
            let _ = std::fs::remove_file(&d.handoff_path);
        }
        self.inner.pool.stop();
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<DispatcherHandle>> {
        self.dispatchers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes the running dispatchers and shared servers follow `p`.
    fn apply(&self, p: &SharedParams, at_startup: bool) -> Result<(), SharedError> {
        let target = config::target_servers(p);
        self.pool.set_target(target);
        while self.pool.live() < target {
            self.pool.spawn(true)?;
        }
        let specs = config::dispatcher_specs(p, &self.cfg.default_listen_host);
        let mut ds = self.lock();
        // Dispatchers that left (retired and drained) free their numbers.
        let mut kept = Vec::with_capacity(ds.len());
        for d in ds.drain(..) {
            if d.thread.is_finished() {
                let _ = d.thread.join();
            } else {
                kept.push(d);
            }
        }
        *ds = kept;
        for d in ds.iter() {
            let spec = specs.iter().find(|s| s.conf_indx == d.conf_indx);
            if let Some(s) = spec {
                d.connections.store(s.connections, Ordering::Relaxed);
            }
        }
        for spec in &specs {
            let mut running: Vec<&DispatcherHandle> = ds
                .iter()
                .filter(|d| d.conf_indx == spec.conf_indx && !d.retire.load(Ordering::Relaxed))
                .collect();
            running.sort_by_key(|d| d.number);
            for d in running.iter().skip(spec.count as usize) {
                tracing::info!("{}: retiring (DISPATCHERS lowered)", d.name);
                d.retire.store(true, Ordering::Release);
                let _ = d.waker.wake();
            }
            let missing = (spec.count as usize).saturating_sub(running.len());
            for _ in 0..missing {
                let number = (0u32..)
                    .find(|n| !ds.iter().any(|d| d.number == *n))
                    .unwrap_or(0);
                let d = Dispatcher::new(
                    Arc::clone(&self.cfg),
                    Arc::clone(&self.sga),
                    number,
                    spec.conf_indx,
                    spec.connections,
                    &spec.listen_host,
                    self.work_tx.clone(),
                    Arc::clone(&self.stop),
                    Arc::clone(&self.shared_sessions),
                )?;
                ds.push(d.spawn()?);
            }
        }
        for d in ds.iter() {
            if !specs.iter().any(|s| s.conf_indx == d.conf_indx)
                && !d.retire.swap(true, Ordering::AcqRel)
            {
                tracing::info!("{}: retiring (its DISPATCHERS entry is gone)", d.name);
                let _ = d.waker.wake();
            }
        }
        // What the instance holds open besides its circuits (the dispatchers' own sockets
        // among them) is the base of the descriptor budget.
        crate::fdlimit::measure_baseline();
        let asked: u32 = specs.iter().map(|s| s.count).sum();
        if let Some(max) = p.max_dispatchers
            && asked > max
        {
            tracing::info!(
                "DISPATCHERS asks for {asked} dispatcher(s), more than MAX_DISPATCHERS={max}: as in Oracle 10g and later, DISPATCHERS overrides it"
            );
        }
        if !at_startup {
            tracing::info!(
                "shared server: {} dispatcher(s), SHARED_SERVERS={target}",
                ds.iter()
                    .filter(|d| !d.retire.load(Ordering::Relaxed))
                    .count()
            );
        }
        Ok(())
    }

    fn manage(&self) {
        let mut seen = self.sga.shared_param_seq();
        let mut params = self.sga.shared_params();
        let mut waiting_ticks = 0u32;
        // The fewest idle shared servers seen in the current retirement window.
        let mut window = (std::time::Instant::now(), u32::MAX);
        while !self.stop.load(Ordering::Acquire) {
            let seq = self.sga.wait_shared_params(seen, TICK);
            if self.stop.load(Ordering::Acquire) {
                break;
            }
            if seq != seen {
                seen = seq;
                params = self.sga.shared_params();
                if let Err(e) = self.apply(&params, false) {
                    tracing::error!("shared server: {e}");
                }
            }
            // Requests waiting while no shared server is idle: add one (Oracle's growth,
            // "queue non-empty for a tick").
            if self.sga.common_queued() > 0 && self.pool.idle() == 0 {
                waiting_ticks += 1;
            } else {
                waiting_ticks = 0;
            }
            if waiting_ticks >= 2 {
                waiting_ticks = 0;
                let used = self.sga.load().processes_used;
                if config::may_grow(&params, self.pool.live(), used, self.cfg.processes)
                    && let Err(e) = self.pool.spawn(false)
                {
                    tracing::error!("shared server: {e}");
                }
            }
            // Servers that stayed idle through a whole window may retire (down to the floor).
            window.1 = window.1.min(self.pool.idle());
            if window.0.elapsed() >= pool::RETIRE_IDLE {
                if window.1 > 0 && window.1 != u32::MAX {
                    self.pool.allow_retire(window.1);
                }
                window = (std::time::Instant::now(), u32::MAX);
            }
            // Keep the floor (a server that died is replaced).
            while self.pool.live() < self.pool.target() {
                if self.pool.spawn(true).is_err() {
                    break;
                }
            }
            // Dispatchers that finished draining.
            let finished = self.lock().iter().any(|d| d.thread.is_finished());
            if finished && let Err(e) = self.apply(&params, true) {
                tracing::error!("shared server: {e}");
            }
        }
    }
}
