//! The shared servers S000, S001, ...: threads of `oradb` that take requests from the one
//! common queue, run the engine until the call is answered (sleeping until its next deadline,
//! passing on a client BREAK), and give the session back on its dispatcher's response queue.
//!
//! The pool keeps SHARED_SERVERS of them; the manager adds one when requests wait on the
//! common queue and no server is idle (up to MAX_SHARED_SERVERS); when some servers stayed
//! idle for a whole [`RETIRE_IDLE`] window (the fewest idle at any moment of it) and there
//! are more than SHARED_SERVERS, that many may retire, and the next to find itself idle
//! leave. Each shows in
//! V$PROCESS/V$SHARED_SERVER with its thread id as SPID and is named `ora_s000_<SID>`.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;

use super::common_queue::{Receiver, RecvTimeoutError};
use mio::Waker;

use engine::{Input, SessionRunner, SessionSlot};

use crate::sga::shared::{CircuitRef, queue, status};
use crate::sga::{KillRequest, ProcessHandle, ProcessKind, ProcessSpec, Sga};

use super::SharedError;

/// The window over which servers above SHARED_SERVERS must have stayed idle to retire.
pub const RETIRE_IDLE: Duration = Duration::from_secs(3);

/// How often an idle shared server looks whether it should retire.
const IDLE_TICK: Duration = Duration::from_millis(200);

/// Where a shared server sends a circuit's session back: its dispatcher's response queue
/// and the waker of its event loop.
#[derive(Debug)]
pub struct Reply {
    /// The dispatcher's response queue.
    pub tx: Sender<Done>,
    /// Wakes the dispatcher's loop.
    pub waker: Arc<Waker>,
    /// The dispatcher is in (or about to enter) its poll: only then does an answer need
    /// [`Reply::waker`]. An awake dispatcher takes the answers queued by the end of its turn,
    /// so a shared server that finds it awake spares the wake-up (a write to its eventfd and
    /// one more turn of its loop), which is what happens when many circuits are busy.
    pub polling: AtomicBool,
    /// The dispatcher's attachment (its process slot holds its V$QUEUE row), once it has
    /// one.
    pub process: Mutex<Option<Arc<crate::sga::hooks::SgaInstance>>>,
}

/// A queued request's hold on the session it carries. The shared server that takes the
/// request off the common queue and the dispatcher that withdraws it (a BREAK, or the client
/// went away, while it still waits) race for the session: exactly one of them gets it, so a
/// withdrawn request is never run and never answered twice.
#[derive(Debug)]
pub struct Ticket {
    runner: Mutex<Option<Box<SessionRunner>>>,
}

impl Ticket {
    /// A ticket holding `runner`.
    pub fn new(runner: Box<SessionRunner>) -> Arc<Ticket> {
        Arc::new(Ticket {
            runner: Mutex::new(Some(runner)),
        })
    }

    /// The session, to whoever asks first; `None` after that.
    pub fn take(&self) -> Option<Box<SessionRunner>> {
        self.runner.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// One request on the common queue: a circuit's session (lent by its connection) and what
/// arrived for it.
pub struct Work {
    /// The circuit (the dispatcher's token).
    pub circuit: mio::Token,
    /// Its slot in the SGA (V$CIRCUIT).
    pub circuit_ref: Option<CircuitRef>,
    /// The session (gone when the dispatcher withdrew the request).
    pub ticket: Arc<Ticket>,
    /// What arrived.
    pub input: Input,
    /// Bytes of the request (V$SHARED_SERVER.BYTES).
    pub bytes: usize,
    /// Set by the dispatcher when the client sends a BREAK during the call, or goes away:
    /// the call ends at its next kill/break check.
    pub brk: Arc<AtomicBool>,
    /// When it was queued (V$QUEUE.WAIT).
    pub queued_at: Instant,
    /// Where the answer goes.
    pub reply: Arc<Reply>,
}

/// A shared server's answer on a dispatcher's response queue: the session, back with the
/// framed reply in it.
pub struct Done {
    /// The circuit.
    pub circuit: mio::Token,
    /// The session.
    pub runner: Box<SessionRunner>,
    /// When it was queued for the dispatcher.
    pub sent_at: Instant,
    /// The session was killed IMMEDIATE/DISCONNECT during the call: the dispatcher closes
    /// the circuit without sending the reply, as a dedicated server's process ends.
    pub close: bool,
}

/// The shared servers.
#[derive(Debug)]
pub struct Pool {
    sga: Arc<Sga>,
    sid: String,
    host: String,
    rx: Receiver<Work>,
    /// Shared servers running now.
    live: AtomicU32,
    /// Of those, waiting on the common queue.
    idle: AtomicU32,
    /// SHARED_SERVERS: the floor.
    target: AtomicU32,
    /// How many idle servers may retire now (set by the manager's window).
    retire_budget: AtomicU32,
    stop: AtomicBool,
    /// Snnn numbers in use.
    names: Mutex<Vec<bool>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Pool {
    /// A pool taking requests from `rx`.
    pub fn new(sga: Arc<Sga>, sid: &str, host: &str, rx: Receiver<Work>) -> Arc<Pool> {
        Arc::new(Pool {
            sga,
            sid: sid.to_string(),
            host: host.to_string(),
            rx,
            live: AtomicU32::new(0),
            idle: AtomicU32::new(0),
            target: AtomicU32::new(0),
            retire_budget: AtomicU32::new(0),
            stop: AtomicBool::new(false),
            names: Mutex::new(Vec::new()),
            threads: Mutex::new(Vec::new()),
        })
    }

    /// Shared servers running.
    pub fn live(&self) -> u32 {
        self.live.load(Ordering::Acquire)
    }

    /// Shared servers waiting for work.
    pub fn idle(&self) -> u32 {
        self.idle.load(Ordering::Acquire)
    }

    /// Sets SHARED_SERVERS; servers above it retire once idle.
    pub fn set_target(&self, n: u32) {
        self.target.store(n, Ordering::Release);
    }

    /// SHARED_SERVERS.
    pub fn target(&self) -> u32 {
        self.target.load(Ordering::Acquire)
    }

    fn take_name(&self) -> u32 {
        let mut names = self.names.lock().unwrap_or_else(|p| p.into_inner());
        match names.iter().position(|used| !used) {
            Some(i) => {
                names[i] = true;
                i as u32
            }
            None => {
                names.push(true);
                (names.len() - 1) as u32
            }
        }
    }

    fn release_name(&self, n: u32) {
        let mut names = self.names.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(used) = names.get_mut(n as usize) {
            *used = false;
        }
    }

    /// Starts one shared server (`at_startup`: one of the SHARED_SERVERS started with the
    /// instance or by raising the parameter, not counted in SERVERS_STARTED).
    pub fn spawn(self: &Arc<Self>, at_startup: bool) -> Result<(), SharedError> {
        let number = self.take_name();
        let name = format!("S{number:03}");
        self.live.fetch_add(1, Ordering::AcqRel);
        let pool = Arc::clone(self);
        let thread_name = format!("ora_{}_{}", name.to_ascii_lowercase(), self.sid);
        let spawned = std::thread::Builder::new()
            .name(thread_name)
            .stack_size(engine::SESSION_STACK)
            .spawn(move || {
                pool.run(&name, at_startup);
                pool.release_name(number);
            });
        match spawned {
            Ok(t) => {
                let mut threads = self.threads.lock().unwrap_or_else(|p| p.into_inner());
                threads.retain(|t| !t.is_finished());
                threads.push(t);
                Ok(())
            }
            Err(source) => {
                self.live.fetch_sub(1, Ordering::AcqRel);
                self.release_name(number);
                Err(SharedError::Setup {
                    what: "start shared server",
                    source,
                })
            }
        }
    }

    /// Tells every shared server to stop after its call and waits for them.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        let threads: Vec<_> =
            std::mem::take(&mut *self.threads.lock().unwrap_or_else(|p| p.into_inner()));
        for t in threads {
            let _ = t.join();
        }
    }

    /// `n` servers stayed idle through a whole window: that many above SHARED_SERVERS may
    /// retire.
    pub fn allow_retire(&self, n: u32) {
        let surplus = self.live().saturating_sub(self.target());
        self.retire_budget.store(n.min(surplus), Ordering::Release);
    }

    /// One less shared server if one may retire and there are more than SHARED_SERVERS;
    /// true if this one may go.
    fn try_retire(&self) -> bool {
        if self
            .retire_budget
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_err()
        {
            return false;
        }
        let ok = self
            .live
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n > self.target()).then(|| n - 1)
            })
            .is_ok();
        if !ok {
            self.retire_budget.store(0, Ordering::Release);
        }
        ok
    }

    fn run(&self, name: &str, at_startup: bool) {
        let tid = nix::unistd::gettid().as_raw();
        let process = self
            .sga
            .register_process(&ProcessSpec {
                kind: ProcessKind::SharedServer,
                pname: name.to_string(),
                spid: Some(tid),
                ..ProcessSpec::dedicated(format!("oracle@{} ({name})", self.host))
            })
            .map_err(|e| tracing::warn!("{name}: no process slot: {e}"))
            .ok();
        if let Some(p) = &process {
            p.init_shared_server();
        }
        self.sga.note_server_started(at_startup, self.live());
        tracing::info!("{name} started (spid {tid})");
        self.idle.fetch_add(1, Ordering::AcqRel);
        let retired = loop {
            if self.stop.load(Ordering::Acquire) {
                break false;
            }
            match self.rx.recv_timeout(IDLE_TICK) {
                Ok(w) => {
                    self.idle.fetch_sub(1, Ordering::AcqRel);
                    serve(&self.sga, process.as_ref(), w);
                    self.idle.fetch_add(1, Ordering::AcqRel);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break false,
            }
            if self.try_retire() {
                break true;
            }
        };
        self.idle.fetch_sub(1, Ordering::AcqRel);
        if let Some(p) = &process {
            p.set_shared_status(status::QUIT);
        }
        if retired {
            self.sga.note_server_terminated();
            tracing::info!("{name} retired after {} s idle", RETIRE_IDLE.as_secs());
        } else {
            self.live.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// Runs one request: the call until it is answered, then the session goes home.
fn serve(sga: &Sga, process: Option<&ProcessHandle>, w: Work) {
    let Work {
        circuit,
        circuit_ref,
        ticket,
        input,
        bytes,
        brk,
        queued_at,
        reply,
    } = w;
    // Withdrawn by the dispatcher while it waited (and answered there): nothing to run.
    let Some(mut runner) = ticket.take() else {
        return;
    };
    sga.common_dequeued(queued_at.elapsed());
    let pid = process.map(ProcessHandle::slot_id);
    let slot = runner.session().slot();
    if let Some(p) = process {
        p.set_busy(true);
        p.set_shared_status(status::EXEC);
        p.set_serving(circuit_ref.as_ref());
        p.count_message(bytes);
    }
    if let Some(c) = &circuit_ref {
        c.set_queue(sga, queue::SERVER, pid);
    }
    if let Some(s) = slot {
        sga.set_call_server(s.sid, s.serial, pid);
    }
    if input == Input::Break {
        brk.store(false, Ordering::Release);
        if let Some(p) = process {
            p.count_break();
        }
    }
    // Whether an IMMEDIATE/DISCONNECT kill is pending on the session, looked at just
    // before each step that may answer it with ORA-00028 (and free its slot).
    let closing = |slot: Option<SessionSlot>| {
        slot.is_some_and(|s| {
            sga.kill_pending_of(s.sid, s.serial)
                .is_some_and(KillRequest::closes_connection)
        })
    };
    let mut close = closing(slot);
    runner.handle_input(Instant::now(), input);
    // The runner's deadlines include a kill check every KILL_POLL, so a BREAK is seen
    // within that time too.
    while let Some(at) = runner.poll_timeout() {
        if brk.swap(false, Ordering::AcqRel) {
            if let Some(p) = process {
                p.count_break();
            }
            runner.handle_input(Instant::now(), Input::Break);
            continue;
        }
        let wait = at.saturating_duration_since(Instant::now());
        if !wait.is_zero() {
            std::thread::sleep(wait.min(Duration::from_millis(100)));
        }
        close = close || closing(runner.session().slot());
        runner.handle_timeout(Instant::now());
    }
    // The session of a login that just completed is known only now.
    if let Some(s) = slot.or_else(|| runner.session().slot()) {
        sga.set_call_server(s.sid, s.serial, None);
    }
    if let Some(c) = &circuit_ref {
        c.set_queue(sga, queue::DISPATCHER, None);
    }
    if let Some(p) = process {
        p.set_serving(None);
        p.set_shared_status(status::WAIT_COMMON);
        p.set_busy(false);
    }
    if let Some(p) = reply
        .process
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
        .and_then(|i| i.attachment().process())
    {
        p.response_enqueued();
    }
    let done = Done {
        circuit,
        runner,
        sent_at: Instant::now(),
        close,
    };
    if reply.tx.send(done).is_ok() {
        // Pairs with the dispatcher's fence between raising `polling` and looking at its
        // queue: either it sees this answer there, or this sees it polling and wakes it.
        std::sync::atomic::fence(Ordering::SeqCst);
        if reply.polling.load(Ordering::SeqCst) {
            let _ = reply.waker.wake();
        }
    }
}
