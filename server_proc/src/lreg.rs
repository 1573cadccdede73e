//! lreg: the instance's listener-registration thread.
//!
//! Like Oracle's LREG it tells the listener named by LOCAL_LISTENER which services the
//! instance offers, its instance name and state, its handlers and their load: at startup,
//! every refresh interval (60 s by default), at once on `ALTER SYSTEM REGISTER`
//! ([`crate::sga::Sga::request_registration`]), whenever the state or load it would report
//! changes, and — because it keeps retrying a lost listener every tick — within a fraction of
//! a second after a restarted listener is back. At shutdown it deregisters.
//!
//! The connection to the listener stays open; the listener never speaks first, so anything
//! readable on it between our requests means the listener went away (EOF).

use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::registration::{
    ClientMessage, Handler, HandlerKind, HandlerState, InstanceRegistration, InstanceStatus,
    LineReader, LoadReport, PROTOCOL_VERSION, RegistrationError, ServerMessage, write_message,
};
use crate::sga::{InstanceState, ProcessKind, Sga};

/// How often lreg wakes to look at the listener, the load and the request counter.
pub const TICK: Duration = Duration::from_millis(200);

/// How long lreg waits for the listener's answer to one message.
const REPLY_TIMEOUT: Duration = Duration::from_secs(3);

/// Errors of one registration exchange (logged; lreg retries).
#[derive(Debug, thiserror::Error)]
pub enum LregError {
    /// Connecting to the listener's registration socket failed.
    #[error(
        "{} (registration endpoint {path}: {source})",
        tns::error_text::tns_line(12541)
    )]
    NoListener {
        /// The socket path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The exchange failed.
    #[error(transparent)]
    Protocol(#[from] RegistrationError),
    /// The listener refused the registration.
    #[error("listener refused the registration: TNS-{code:05}: {message}")]
    Refused {
        /// The listener's error number.
        code: u32,
        /// Its text.
        message: String,
    },
}

/// What lreg registers, apart from what it reads from the SGA at each update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LregConfig {
    /// The listener's registration socket (from LOCAL_LISTENER).
    pub socket_path: PathBuf,
    /// Periodic refresh interval.
    pub interval: Duration,
    /// INSTANCE_NAME.
    pub instance_name: String,
    /// ORACLE_SID.
    pub sid: String,
    /// DB_NAME.
    pub db_name: String,
    /// ORACLE_HOME.
    pub oracle_home: String,
    /// Host name.
    pub host: String,
    /// SERVICE_NAMES.
    pub services: Vec<String>,
}

/// Builds the registration lreg would send now.
pub fn current_registration(sga: &Sga, cfg: &LregConfig) -> InstanceRegistration {
    let load = sga.load();
    let inst = sga.instance_row();
    let status = if inst.status != InstanceState::Open || inst.shutdown_pending {
        InstanceStatus::Blocked
    } else if inst.logins_restricted {
        InstanceStatus::Restricted
    } else {
        InstanceStatus::Ready
    };
    let dedicated = sga
        .snapshot_processes()
        .iter()
        .filter(|p| p.kind == ProcessKind::Dedicated)
        .count() as u32;
    let handler_state = if load.processes_used >= load.processes_max {
        HandlerState::Blocked
    } else {
        HandlerState::Ready
    };
    let no_room =
        sga.circuits_in_use() >= sga.circuit_limit() || !crate::fdlimit::room_for_circuit();
    InstanceRegistration {
        instance_name: cfg.instance_name.clone(),
        sid: cfg.sid.clone(),
        db_name: cfg.db_name.clone(),
        oracle_home: cfg.oracle_home.clone(),
        host: cfg.host.clone(),
        pid: sga.instance_pid(),
        status,
        services: cfg.services.clone(),
        handlers: std::iter::once(Handler {
            name: "DEDICATED".to_string(),
            kind: HandlerKind::Dedicated,
            state: handler_state,
            current: dedicated,
            max: load.processes_max,
        })
        // The dispatchers as they run now (V$DISPATCHER): a draining one is not offered; one
        // at its CONNECTIONS is blocked, and so is every one when the instance has no
        // circuit (CIRCUITS) or no descriptor (RLIMIT_NOFILE less the reserve) left for
        // another connection: the listener then refuses with ORA-12519 itself.
        .chain(
            sga.snapshot_dispatchers()
                .into_iter()
                .filter(|d| d.accept)
                .map(|d| {
                    let pid = sga.instance_pid();
                    let path = crate::shared::handoff_path(
                        &cfg.sid,
                        &d.name,
                        u32::try_from(pid).unwrap_or(0),
                    );
                    Handler {
                        kind: HandlerKind::Dispatcher {
                            address: d.network.clone(),
                            handoff_path: Some(path.display().to_string()),
                            pid,
                        },
                        state: if d.owned >= d.connections || no_room {
                            HandlerState::Blocked
                        } else {
                            HandlerState::Ready
                        },
                        current: d.owned,
                        max: d.connections,
                        name: d.name,
                    }
                }),
        )
        // The DRCP connection brokers, while the pool is started.
        .chain(pooled_handlers(sga, cfg))
        .collect(),
        load: LoadReport {
            processes_used: load.processes_used,
            processes_max: load.processes_max,
            sessions_used: load.sessions_used,
            sessions_max: load.sessions_max,
        },
        refresh_secs: cfg.interval.as_secs().max(1),
    }
}

/// The brokers' handlers (`N000`.., NUM_CBROK of them), while the pool runs; the listener
/// spreads pooled connections over them by their load, as over dispatchers.
fn pooled_handlers(sga: &Sga, cfg: &LregConfig) -> Vec<Handler> {
    let (pid, held) = sga.cpool_broker();
    if pid == 0 {
        return Vec::new();
    }
    let max = sga.cpool_state().params.maxconn_cbrok;
    held.into_iter()
        .enumerate()
        .map(|(index, held)| Handler {
            name: crate::pooled::broker_name(index),
            kind: HandlerKind::Pooled {
                handoff_path: crate::pooled::broker_path(
                    &cfg.sid,
                    u32::try_from(pid).unwrap_or(0),
                    index,
                )
                .display()
                .to_string(),
                pid,
            },
            state: if held >= max {
                HandlerState::Blocked
            } else {
                HandlerState::Ready
            },
            current: held,
            max,
        })
        .collect()
}

struct Connection {
    writer: UnixStream,
    reader: LineReader<UnixStream>,
}

impl Connection {
    fn open(cfg: &LregConfig) -> Result<Connection, LregError> {
        let stream =
            UnixStream::connect(&cfg.socket_path).map_err(|source| LregError::NoListener {
                path: cfg.socket_path.clone(),
                source,
            })?;
        let io = |source| LregError::NoListener {
            path: cfg.socket_path.clone(),
            source,
        };
        stream.set_write_timeout(Some(REPLY_TIMEOUT)).map_err(io)?;
        let writer = stream.try_clone().map_err(io)?;
        Ok(Connection {
            writer,
            reader: LineReader::new(stream),
        })
    }

    fn exchange(&mut self, msg: &ClientMessage) -> Result<(), LregError> {
        write_message(&mut self.writer, msg)?;
        self.reader
            .get_ref()
            .set_read_timeout(Some(REPLY_TIMEOUT))
            .map_err(|source| RegistrationError::Io {
                op: "set timeout",
                source,
            })?;
        match self.reader.read_message::<ServerMessage>()? {
            ServerMessage::Ack { .. } => Ok(()),
            ServerMessage::Refused { code, message } => Err(LregError::Refused { code, message }),
        }
    }

    /// True while the listener end is open. The listener never speaks first, so a message
    /// or EOF here both mean "gone or confused": reconnect.
    fn alive(&mut self) -> bool {
        if self
            .reader
            .get_ref()
            .set_read_timeout(Some(Duration::from_millis(1)))
            .is_err()
        {
            return false;
        }
        match self.reader.read_message::<ServerMessage>() {
            Err(e) => e.is_timeout(),
            Ok(_) => false,
        }
    }
}

/// The running lreg thread.
#[derive(Debug)]
pub struct Lreg {
    stop: Arc<AtomicBool>,
    deregister: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Lreg {
    /// Starts lreg for `sga` with `cfg`.
    pub fn spawn(sga: Arc<Sga>, cfg: LregConfig) -> std::io::Result<Lreg> {
        let stop = Arc::new(AtomicBool::new(false));
        let deregister = Arc::new(AtomicBool::new(true));
        let thread = {
            let stop = Arc::clone(&stop);
            let deregister = Arc::clone(&deregister);
            std::thread::Builder::new()
                .name("lreg".into())
                .spawn(move || run(&sga, &cfg, &stop, &deregister))?
        };
        Ok(Lreg {
            stop,
            deregister,
            thread: Some(thread),
        })
    }

    /// Stops lreg; with `deregister` it first tells the listener to forget the instance
    /// (SHUTDOWN NORMAL/IMMEDIATE), without it the listener finds out by itself (ABORT).
    pub fn stop(&mut self, deregister: bool) {
        self.deregister.store(deregister, Ordering::Release);
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Lreg {
    fn drop(&mut self) {
        self.stop(true);
    }
}

fn run(sga: &Sga, cfg: &LregConfig, stop: &AtomicBool, deregister: &AtomicBool) {
    let mut conn: Option<Connection> = None;
    let mut last: Option<(Instant, InstanceRegistration)> = None;
    let mut served_requests = sga.registration_requests();
    let mut reported_failure = false;
    while !stop.load(Ordering::Acquire) {
        if let Some(c) = conn.as_mut()
            && !c.alive()
        {
            tracing::warn!(target: "lreg", "listener at {} went away", cfg.socket_path.display());
            conn = None;
            last = None;
            sga.set_registration_state(false, false);
        }
        if conn.is_none() {
            match Connection::open(cfg) {
                Ok(c) => {
                    conn = Some(c);
                    reported_failure = false;
                }
                Err(e) => {
                    if !reported_failure {
                        tracing::debug!(target: "lreg", "{e}; will keep trying");
                        reported_failure = true;
                    }
                }
            }
        }
        let requests = sga.registration_requests();
        if let Some(c) = conn.as_mut() {
            let reg = current_registration(sga, cfg);
            let due = match &last {
                None => true,
                Some((at, sent)) => {
                    at.elapsed() >= cfg.interval || *sent != reg || requests != served_requests
                }
            };
            if due {
                let msg = ClientMessage::ServiceUpdate {
                    version: PROTOCOL_VERSION,
                    registration: reg.clone(),
                };
                match c.exchange(&msg) {
                    Ok(()) => {
                        if last.is_none() {
                            tracing::info!(
                                target: "lreg",
                                "registered instance {} with the listener at {}",
                                cfg.instance_name,
                                cfg.socket_path.display()
                            );
                        }
                        let broker = reg
                            .handlers
                            .iter()
                            .find_map(|h| match h.kind {
                                HandlerKind::Pooled { pid, .. } => Some(pid),
                                _ => None,
                            })
                            .unwrap_or(0);
                        sga.set_cpool_registered(broker);
                        last = Some((Instant::now(), reg));
                        served_requests = requests;
                        sga.set_registration_state(true, true);
                    }
                    Err(e) => {
                        tracing::warn!(target: "lreg", "registration failed: {e}");
                        conn = None;
                        last = None;
                        sga.set_registration_state(false, false);
                    }
                }
            }
        }
        sga.wait_registration_request(requests, TICK);
    }
    if deregister.load(Ordering::Acquire)
        && let Some(c) = conn.as_mut()
    {
        let msg = ClientMessage::Deregister {
            version: PROTOCOL_VERSION,
            instance_name: cfg.instance_name.clone(),
        };
        if let Err(e) = c.exchange(&msg) {
            tracing::warn!(target: "lreg", "deregistration failed: {e}");
        }
    }
    sga.set_registration_state(false, false);
}
