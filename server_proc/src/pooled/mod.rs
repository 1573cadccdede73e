//! DRCP, Database Resident Connection Pooling: Oracle's server-side pool of server
//! processes, for many short connections (`(SERVER=POOLED)`, EZConnect `host/svc:pooled`).
//!
//! - [`params`]: the pool's parameters with Oracle's defaults, and their persistence (a
//!   started pool starts again with the instance until STOP_POOL).
//! - [`broker`]: the connection brokers N000.. (NUM_CBROK of them, as the pool was
//!   started), threads of `oradb`: each an event loop holding the client connections the
//!   listener handed it that have no pooled server, registered by lreg as one of the
//!   service's pooled handlers; they share one set of pooled servers.
//! - [`server`]: a pooled server L000.., a process of its own forked by the listener's
//!   spawner; it serves one client at a time and keeps its session between clients.
//! - [`wire`]: what the broker and its pooled servers say to each other.
//!
//! The connection monitor (`ora_cmon_<SID>`, a thread of `oradb`) follows the pool's state
//! in the SGA, which `DBMS_CONNECTION_POOL` in any server process changes: it starts the
//! brokers when the pool is started (NUM_CBROK of them, read then), stops them when it is
//! stopped, and hands parameter changes to them.

pub mod admin;
pub mod broker;
pub mod params;
pub mod server;
pub mod wire;

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::registration::{self as reg, ClientMessage, LineReader, PROTOCOL_VERSION};
use crate::sga::Sga;
use params::{PoolParams, PoolStatus};

/// Broker `index`'s name: N000, N001, ...
pub fn broker_name(index: usize) -> String {
    format!("N{index:03}")
}

/// Broker `index`'s hand-off socket (what lreg registers for the listener).
pub fn broker_path(sid: &str, pid: u32, index: usize) -> PathBuf {
    reg::run_dir().join(format!(
        "{}_{}_{pid}.cbrok",
        sid.to_ascii_lowercase(),
        broker_name(index).to_ascii_lowercase()
    ))
}

/// The socket the pooled servers of `sid` connect to.
pub fn servers_path(sid: &str, pid: u32) -> PathBuf {
    reg::run_dir().join(format!("{}_cmon_{pid}.pool", sid.to_ascii_lowercase()))
}

/// What CMON needs.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// ORACLE_SID.
    pub sid: String,
    /// ORACLE_HOME.
    pub oracle_home: PathBuf,
    /// The listener's registration socket (where pooled servers are asked for).
    pub listener_socket: PathBuf,
}

/// The connection monitor thread.
pub struct PoolMonitor {
    stop: Arc<AtomicBool>,
    sga: Arc<Sga>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for PoolMonitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolMonitor").finish_non_exhaustive()
    }
}

impl PoolMonitor {
    /// Starts CMON; the pool itself starts when its state in the SGA is ACTIVE.
    pub fn start(cfg: PoolConfig, sga: Arc<Sga>) -> std::io::Result<PoolMonitor> {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = Arc::clone(&stop);
            let sga = Arc::clone(&sga);
            std::thread::Builder::new()
                .name(format!("ora_cmon_{}", cfg.sid))
                .spawn(move || monitor(&cfg, &sga, &stop))?
        };
        Ok(PoolMonitor {
            stop,
            sga,
            thread: Some(thread),
        })
    }

    /// Stops CMON and the broker (instance shutdown).
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Wake CMON from its wait without changing the pool's state.
        let st = self.sga.cpool_state();
        self.sga.set_cpool_state(&st);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for PoolMonitor {
    fn drop(&mut self) {
        self.stop();
    }
}

fn monitor(cfg: &PoolConfig, sga: &Arc<Sga>, stop: &AtomicBool) {
    let params = Arc::new(Mutex::new(PoolParams::default()));
    let mut broker: Option<broker::BrokerHandle> = None;
    let mut stopping: Option<broker::BrokerHandle> = None;
    let mut seen = sga.cpool_seq();
    // CMON in V$PROCESS (SPID: this thread) while the pool runs, as N000 is.
    let mut _cmon_slot = None;
    while !stop.load(Ordering::Acquire) {
        let state = sga.cpool_state();
        *params
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = state.params;
        if stopping.as_ref().is_some_and(|b| b.finished())
            && let Some(b) = stopping.take()
        {
            b.join();
        }
        match (state.status, broker.is_some()) {
            (PoolStatus::Active, false) if stopping.is_none() => {
                match start_broker(cfg, sga, &params) {
                    Ok(b) => {
                        tracing::info!("CMON: pool {} started", params::DEFAULT_POOL);
                        _cmon_slot = broker::register_background(sga, "CMON");
                        broker = Some(b);
                        sga.request_registration();
                    }
                    Err(e) => tracing::error!("CMON: {e}"),
                }
            }
            (PoolStatus::Inactive, true) => {
                if let Some(b) = broker.take() {
                    b.stop();
                    stopping = Some(b);
                }
                _cmon_slot = None;
                sga.request_registration();
            }
            _ => {}
        }
        if broker.as_ref().is_some_and(|b| b.finished()) {
            // The broker's loop ended on its own (poll failed): start it again next turn.
            broker = None;
            sga.request_registration();
        }
        seen = sga.wait_cpool_change(seen, Duration::from_millis(200));
    }
    for b in [broker, stopping].into_iter().flatten() {
        b.stop();
        b.join();
    }
}

fn start_broker(
    cfg: &PoolConfig,
    sga: &Arc<Sga>,
    params: &Arc<Mutex<PoolParams>>,
) -> Result<broker::BrokerHandle, broker::BrokerError> {
    let pid = std::process::id();
    let servers = servers_path(&cfg.sid, pid);
    let spawn = {
        let socket = cfg.listener_socket.clone();
        let sid = cfg.sid.clone();
        let home = cfg.oracle_home.clone();
        let servers = servers.clone();
        Box::new(move |n: u32| {
            let (socket, sid, home, servers) =
                (socket.clone(), sid.clone(), home.clone(), servers.clone());
            // The listener may be slow or gone: never hold up the broker's loop.
            let _ = std::thread::Builder::new()
                .name("ora_cmon_spawn".into())
                .spawn(move || {
                    if let Err(e) = request_servers(&socket, &sid, &home, &servers, n) {
                        tracing::warn!("CMON: cannot get {n} pooled server(s): {e}");
                    }
                });
        })
    };
    broker::start(
        broker::BrokerConfig {
            sid: cfg.sid.clone(),
            // NUM_CBROK applies when the pool starts (START_POOL or instance start).
            handoff_paths: (0..params
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .num_cbrok as usize)
                .map(|i| broker_path(&cfg.sid, pid, i))
                .collect(),
            servers_path: servers,
            params: Arc::clone(params),
            spawn,
            expire_time: crate::driver::expire_time(&cfg.oracle_home),
            recv_timeout: crate::driver::recv_timeout(&cfg.oracle_home),
        },
        Arc::clone(sga),
    )
}

/// Asks the listener (its spawner) for `n` pooled servers of `sid` that connect to
/// `servers`.
pub fn request_servers(
    listener_socket: &Path,
    sid: &str,
    oracle_home: &Path,
    servers: &Path,
    n: u32,
) -> Result<(), reg::RegistrationError> {
    let io = |op| move |source| reg::RegistrationError::Io { op, source };
    let mut stream = UnixStream::connect(listener_socket).map_err(io("connect"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(io("set timeout"))?;
    stream
        .set_write_timeout(Some(Duration::from_secs(2)))
        .map_err(io("set timeout"))?;
    let msg = ClientMessage::SpawnPooled {
        version: PROTOCOL_VERSION,
        sid: sid.to_string(),
        oracle_home: oracle_home.display().to_string(),
        servers_path: servers.display().to_string(),
        count: n,
    };
    reg::write_message(&mut stream, &msg)?;
    stream.flush().map_err(io("flush"))?;
    let mut reader = LineReader::new(stream);
    match reader.read_message::<reg::ServerMessage>()? {
        reg::ServerMessage::Ack { .. } => Ok(()),
        reg::ServerMessage::Refused { message, .. } => {
            Err(reg::RegistrationError::BadMessage { reason: message })
        }
    }
}
