//! One server-side connection: the TNS layer below, the TTC session above, as a state
//! machine in the style of quinn-proto's `Connection`.
//!
//! A transport feeds it what it read ([`ServerConn::handle_bytes`]) and the passing of time
//! ([`ServerConn::handle_timeout`]), and does what it asks: write
//! [`ServerConn::poll_transmit`], wake up at [`ServerConn::poll_timeout`], close when
//! [`ServerConn::is_closed`]. Everything about Oracle Net lives here, once: the CONNECT
//! handed over by the listener (or read from the socket after a REDIRECT), ACCEPT, the
//! length mode and SDU, DATA framing, BREAK/RESET markers, the timers of a call that sleeps
//! or computes, and the kill checks while it does. The transports are thin loops.
//!
//! The part that runs calls, [`SessionRunner`] (Oracle's UGA plus the call in progress), can
//! be lent out: a dispatcher's circuit lends it to a shared server for one request
//! ([`ServerConn::poll_request`] / [`ServerConn::finish_request`]) while the connection
//! stays with the dispatcher, as in Oracle's shared server.

use std::collections::VecDeque;
use std::time::{Duration, Instant, SystemTime};

use tns::packet::{self, Accept, Connect, LengthMode, Marker, MarkerKind, Packet, Refuse};

use crate::session::{Action, Session};

/// How often a call that sleeps or computes looks for a kill or a shutdown.
pub const KILL_POLL: Duration = Duration::from_millis(100);

/// The wall clock as a driver read it once, together with the monotonic instant of that
/// reading: the engine turns the `now: Instant` it is given into SYSDATE with it, so it
/// never reads a clock itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WallClock {
    /// The monotonic reading.
    pub instant: Instant,
    /// The wall-clock reading taken at the same moment.
    pub wall: SystemTime,
}

impl WallClock {
    /// The wall-clock time at `now`.
    pub fn at(&self, now: Instant) -> SystemTime {
        self.wall + now.saturating_duration_since(self.instant)
    }
}

/// How a connection's session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// The client logged off (LOGOFF, then EOF).
    Logoff,
    /// The client closed the socket or sent a DATA EOF without logging off.
    Eof,
    /// The server closed the session (killed, shut down, protocol error, refused input).
    Closed,
}

/// Length mode and SDU of an accepted connection: how TTC bytes become packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framing {
    /// 2- or 4-byte packet lengths.
    pub mode: LengthMode,
    /// Session data unit: the largest packet either side sends.
    pub sdu: u32,
}

impl Framing {
    /// Before ACCEPT: 2-byte lengths, the smallest SDU.
    const CONNECTING: Framing = Framing {
        mode: LengthMode::Short,
        sdu: 2048,
    };

    fn data(self, ttc: &[u8], out: &mut Vec<u8>) {
        out.extend(packet::encode_data_packets(ttc, self.sdu, self.mode, 0));
    }

    fn marker(self, kind: MarkerKind, out: &mut Vec<u8>) {
        out.extend(Marker { kind }.encode(self.mode));
    }
}

/// What arrived for a session from its client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The payload of a DATA packet.
    Data(Vec<u8>),
    /// A BREAK or INTERRUPT marker.
    Break,
}

/// What a call in progress waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// No call in progress: the session waits for its client.
    Idle,
    /// A sleep (`DBMS_SESSION.SLEEP`) until `until`; the next kill check at `check`.
    Sleep { until: Instant, check: Instant },
    /// A call computing in slices: the next slice is due at `at` (at once).
    Busy { at: Instant },
}

/// The session and the call in progress: what a dedicated server keeps and a dispatcher
/// lends to a shared server for one request.
#[derive(Debug)]
pub struct SessionRunner {
    session: Session,
    clock: WallClock,
    framing: Framing,
    out: Vec<u8>,
    wait: Wait,
    closed: bool,
    /// The client released its DRCP session (`Some(deauthenticate)`).
    released: Option<bool>,
    /// A BREAK/RESET went out since the connection last looked (it then discards input up
    /// to the client's RESET).
    reset_sent: bool,
}

impl SessionRunner {
    /// A runner for a new session; `clock` maps the `now` of later calls to wall time.
    pub fn new(session: Session, clock: WallClock) -> Self {
        SessionRunner {
            session,
            clock,
            framing: Framing::CONNECTING,
            out: Vec::new(),
            wait: Wait::Idle,
            closed: false,
            released: None,
            reset_sent: false,
        }
    }

    /// Feeds what arrived from the client.
    pub fn handle_input(&mut self, now: Instant, input: Input) {
        if self.closed {
            return;
        }
        self.session.set_now(self.clock.at(now));
        let actions = match input {
            Input::Data(payload) => {
                // Packet header (8 bytes) and data flags (2) come on top of the payload.
                let packet_len = payload.len().saturating_add(10);
                let ends_request = packet_len < usize::try_from(self.framing.sdu).unwrap_or(0);
                self.session.on_request_packet(&payload, ends_request)
            }
            Input::Break => self.session.on_break(),
        };
        self.perform(now, actions);
    }

    /// When the call in progress wants to be woken (end of a sleep, next kill check, next
    /// slice of work); `None` when no call is in progress.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.wait {
            Wait::Idle => None,
            Wait::Sleep { until, check } => Some(until.min(check)),
            Wait::Busy { at } => Some(at),
        }
    }

    /// Time has passed: end a sleep that is over, look for a kill, compute the next slice.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        self.session.set_now(self.clock.at(now));
        let actions = match self.wait {
            Wait::Idle => return,
            Wait::Busy { .. } => {
                let killed = self.session.on_kill_check();
                if killed.is_empty() {
                    self.session.on_work()
                } else {
                    killed
                }
            }
            Wait::Sleep { until, .. } if now >= until => self.session.on_timer(),
            Wait::Sleep { until, check } if now >= check => {
                let killed = self.session.on_kill_check();
                if killed.is_empty() {
                    self.wait = Wait::Sleep {
                        until,
                        check: now + KILL_POLL,
                    };
                }
                killed
            }
            Wait::Sleep { .. } => return,
        };
        self.perform(now, actions);
    }

    /// Bytes to write to the client, framed.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        (!self.out.is_empty()).then(|| std::mem::take(&mut self.out))
    }

    /// True while a call sleeps or computes.
    pub fn in_call(&self) -> bool {
        self.wait != Wait::Idle
    }

    /// True when the session ended on the server's side (kill, shutdown, refused input):
    /// the connection closes once the bytes before it are written.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The session (for its slot and state).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The session, to move it between clients (a pooled server's).
    pub fn session_mut(&mut self) -> &mut Session {
        &mut self.session
    }

    fn perform(&mut self, now: Instant, actions: Vec<Action>) {
        for a in actions {
            match a {
                Action::Send(bytes) => self.framing.data(&bytes, &mut self.out),
                Action::BreakAndSend(bytes) => {
                    self.framing.marker(MarkerKind::Break, &mut self.out);
                    self.framing.marker(MarkerKind::Reset, &mut self.out);
                    self.framing.data(&bytes, &mut self.out);
                    self.reset_sent = true;
                }
                Action::Close => {
                    self.closed = true;
                    self.wait = Wait::Idle;
                    return;
                }
                Action::Sleep(d) => {
                    self.wait = Wait::Sleep {
                        until: now + d,
                        check: now + KILL_POLL,
                    };
                }
                Action::Busy => self.wait = Wait::Busy { at: now },
                Action::Release { deauthenticate } => {
                    self.released = Some(deauthenticate);
                    self.wait = Wait::Idle;
                    return;
                }
            }
        }
        // A call that ended (answered, broken, killed) waits for nothing any more.
        if !self.session.is_waiting() {
            self.wait = Wait::Idle;
        }
    }
}

/// A pooled server's connection after the client's SESSION_RELEASE (see
/// [`ServerConn::into_released`]).
#[derive(Debug)]
pub struct Released {
    /// The runner with its session.
    pub runner: Box<SessionRunner>,
    /// Length mode and SDU the client negotiated.
    pub framing: Framing,
    /// Bytes that came after the release, not yet read.
    pub leftover: Vec<u8>,
    /// The client also logged out (release mode `0x2`).
    pub deauthenticate: bool,
}

/// Where the connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for the complete CONNECT (and its overflow DATA).
    Connecting,
    /// Accepted: DATA and MARKER packets flow.
    Open,
    /// Over; nothing more is read or sent after the pending bytes.
    Closed(SessionEnd),
}

/// Who runs the session's calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Execution {
    /// Here, as bytes arrive (a dedicated or pooled server).
    Inline,
    /// Elsewhere: each request is lent out with the [`SessionRunner`] (a dispatcher's
    /// circuit and its shared servers).
    Lent,
}

/// Why a connection was closed on the server's side because of what the client sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnError {
    /// The CONNECT or a packet could not be decoded.
    #[error("bad packet: {0}")]
    Packet(#[from] packet::DecodeError),
    /// A packet longer than the negotiated SDU.
    #[error("packet of {len} bytes exceeds the SDU of {sdu}")]
    OverSdu {
        /// Declared packet length.
        len: usize,
        /// Negotiated SDU.
        sdu: u32,
    },
    /// Something other than CONNECT came first.
    #[error("expected CONNECT")]
    NotConnect,
    /// The driver refused the CONNECT with this Oracle error (e.g. 12514 for a service this
    /// server does not offer).
    #[error("{}", tns::error_text::tns_line(*.0))]
    Refused(u32),
    /// The client did not complete the login in time (SQLNET.INBOUND_CONNECT_TIMEOUT).
    #[error("{}", tns::error_text::ora_line(3136))]
    LoginTimeout,
    /// The client sent nothing for SQLNET.RECV_TIMEOUT while the server waited for it
    /// (Oracle logs TNS-12535 with the secondary error 12609).
    #[error(
        "{} ({})",
        tns::error_text::tns_line(12535),
        tns::error_text::tns_line(12609)
    )]
    RecvTimeout,
}

/// The server side of one Oracle Net connection.
#[derive(Debug)]
pub struct ServerConn {
    state: State,
    execution: Execution,
    max_sdu: u32,
    framing: Framing,
    inbuf: Vec<u8>,
    out: Vec<u8>,
    /// `None` while lent to a shared server.
    runner: Option<Box<SessionRunner>>,
    /// Inputs waiting for the runner (lent execution only).
    queued: VecDeque<Input>,
    /// A BREAK that came while the runner was lent out and has not been passed on.
    interrupt: bool,
    /// Oracle Net's reset: after the server answered a BREAK with BREAK and RESET, every
    /// packet the client sent before its own RESET is discarded. A request the client sent
    /// before it saw our markers (its BREAK came just after the previous call's answer,
    /// e.g. a call timeout racing the answer) thus gets the ORA-01013 as its one answer,
    /// and the answers stay in step with the calls.
    awaiting_reset: bool,
    /// What made the server close the connection, for the transport's log.
    error: Option<ConnError>,
    /// Each CONNECT waits for the driver's [`Self::accept_connect`] or
    /// [`Self::refuse_connect`] (a dispatcher's own port checks the service).
    screening: bool,
    /// A CONNECT waiting for that decision.
    pending_connect: Option<Connect>,
    /// The login must be complete by then (SQLNET.INBOUND_CONNECT_TIMEOUT).
    login_deadline: Option<Instant>,
    /// SQLNET.RECV_TIMEOUT: how long the server waits for its client once it has nothing
    /// to run (an idle timer on the server side, as Oracle's documentation warns).
    recv_timeout: Option<Duration>,
    /// The last time the client sent something or a call ended: the wait for the client
    /// counts from there.
    last_activity: Option<Instant>,
}

impl ServerConn {
    /// A connection whose calls run here, as they arrive (dedicated and pooled servers).
    /// `max_sdu` is the largest SDU this server agrees to. The CONNECT comes in through
    /// [`Self::handle_bytes`] (the bytes the listener handed over, or the socket's).
    pub fn new(runner: SessionRunner, max_sdu: u32) -> Self {
        Self::with_execution(runner, max_sdu, Execution::Inline)
    }

    /// A connection whose calls run elsewhere: each request is taken with
    /// [`Self::poll_request`] and given back with [`Self::finish_request`] (a dispatcher's
    /// virtual circuit).
    pub fn new_lending(runner: SessionRunner, max_sdu: u32) -> Self {
        Self::with_execution(runner, max_sdu, Execution::Lent)
    }

    fn with_execution(runner: SessionRunner, max_sdu: u32, execution: Execution) -> Self {
        ServerConn {
            state: State::Connecting,
            execution,
            max_sdu,
            framing: Framing::CONNECTING,
            inbuf: Vec::new(),
            out: Vec::new(),
            runner: Some(Box::new(runner)),
            queued: VecDeque::new(),
            interrupt: false,
            awaiting_reset: false,
            error: None,
            screening: false,
            pending_connect: None,
            login_deadline: None,
            recv_timeout: None,
            last_activity: None,
        }
    }

    /// Each CONNECT waits for the driver to look at its descriptor
    /// ([`Self::poll_connect`]) and accept or refuse it.
    pub fn screening_connects(mut self) -> Self {
        self.screening = true;
        self
    }

    /// The client must have completed its login by `deadline`, else the connection is
    /// closed (Oracle's SQLNET.INBOUND_CONNECT_TIMEOUT, which a stalled client must not
    /// escape by stopping right after ACCEPT).
    pub fn set_login_deadline(&mut self, deadline: Instant) {
        self.login_deadline = Some(deadline);
    }

    /// The server waits at most `timeout` for its client whenever it has nothing to run
    /// (SQLNET.RECV_TIMEOUT), then closes the connection ([`ConnError::RecvTimeout`]).
    pub fn set_recv_timeout(&mut self, timeout: Duration) {
        self.recv_timeout = Some(timeout);
    }

    /// When the wait for the client runs out, if the server waits for it now.
    fn recv_deadline(&self) -> Option<Instant> {
        let timeout = self.recv_timeout?;
        let idle = self.state == State::Open
            && self.queued.is_empty()
            && self.runner.as_ref().is_some_and(|r| !r.in_call());
        idle.then_some(self.last_activity? + timeout)
    }

    /// The descriptor of a CONNECT waiting for [`Self::accept_connect`] or
    /// [`Self::refuse_connect`].
    pub fn poll_connect(&self) -> Option<&[u8]> {
        self.pending_connect
            .as_ref()
            .map(|c| c.descriptor.as_slice())
    }

    /// Accepts the CONNECT [`Self::poll_connect`] showed, and goes on with what followed it.
    pub fn accept_connect(&mut self, now: Instant) {
        let Some(connect) = self.pending_connect.take() else {
            return;
        };
        self.accept(&connect);
        if let Err(e) = self.read_packets(now) {
            self.error = Some(e);
            self.close(SessionEnd::Closed);
        }
        self.collect();
    }

    /// Refuses the CONNECT [`Self::poll_connect`] showed with Oracle error `code`, as a
    /// listener does (REFUSE, then close).
    pub fn refuse_connect(&mut self, code: u32) {
        if self.pending_connect.take().is_none() {
            return;
        }
        self.out
            .extend_from_slice(&Refuse::for_error(code, packet::VSNNUM_19C).encode());
        self.error = Some(ConnError::Refused(code));
        self.close(SessionEnd::Closed);
    }

    /// Feeds bytes read from the client.
    pub fn handle_bytes(&mut self, now: Instant, bytes: &[u8]) {
        if matches!(self.state, State::Closed(_)) {
            return;
        }
        self.inbuf.extend_from_slice(bytes);
        self.last_activity = Some(now);
        if let Err(e) = self.read_packets(now) {
            self.error = Some(e);
            self.close(SessionEnd::Closed);
        }
        self.collect();
    }

    /// The client closed its end (EOF or reset).
    pub fn handle_eof(&mut self) {
        if !matches!(self.state, State::Closed(_)) {
            self.close(self.eof_end());
        }
    }

    /// Bytes to write to the client.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.collect();
        (!self.out.is_empty()).then(|| std::mem::take(&mut self.out))
    }

    /// The next moment [`Self::handle_timeout`] is due; `None`: nothing to wait for but
    /// the client.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if matches!(self.state, State::Closed(_)) {
            return None;
        }
        let call = self.runner.as_ref().and_then(|r| r.poll_timeout());
        call.into_iter()
            .chain(self.login_deadline)
            .chain(self.recv_deadline())
            .min()
    }

    /// Time has passed (see [`Self::poll_timeout`]).
    pub fn handle_timeout(&mut self, now: Instant) {
        if matches!(self.state, State::Closed(_)) {
            return;
        }
        if self.login_deadline.is_some_and(|d| now >= d) {
            self.error = Some(ConnError::LoginTimeout);
            self.close(SessionEnd::Closed);
            return;
        }
        if self.recv_deadline().is_some_and(|d| now >= d) {
            self.error = Some(ConnError::RecvTimeout);
            self.close(SessionEnd::Closed);
            return;
        }
        if self.execution == Execution::Lent {
            return;
        }
        if let Some(r) = self.runner.as_mut() {
            let was_in_call = r.in_call();
            r.handle_timeout(now);
            if was_in_call && !r.in_call() {
                self.last_activity = Some(now);
            }
        }
        self.collect();
    }

    /// True once the connection is over (after [`Self::poll_transmit`] is drained, the
    /// transport closes the socket).
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed(_))
    }

    /// How the session ended, once it did.
    pub fn end(&self) -> Option<SessionEnd> {
        match self.state {
            State::Closed(end) => Some(end),
            _ => None,
        }
    }

    /// Why the server closed the connection because of the client's bytes, if it did.
    pub fn error(&self) -> Option<&ConnError> {
        self.error.as_ref()
    }

    /// The negotiated framing (after ACCEPT).
    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// The session, while it is here (not lent out).
    pub fn session(&self) -> Option<&Session> {
        self.runner.as_ref().map(|r| r.session())
    }

    /// Lent execution: the runner and the next input to run, when the runner is here and
    /// something waits for it. The runner stays away until [`Self::finish_request`].
    pub fn poll_request(&mut self) -> Option<(Box<SessionRunner>, Input)> {
        if self.execution != Execution::Lent || self.is_closed() {
            return None;
        }
        self.runner.as_ref()?;
        let input = self.queued.pop_front()?;
        let runner = self.runner.take()?;
        Some((runner, input))
    }

    /// Bytes received and not yet run: undecoded input plus the requests waiting for the
    /// runner (a transport stops reading a connection whose backlog is over its bound).
    pub fn pending_input(&self) -> usize {
        self.inbuf.len()
            + self
                .queued
                .iter()
                .map(|i| match i {
                    Input::Data(d) => d.len(),
                    Input::Break => 0,
                })
                .sum::<usize>()
    }

    /// Lent execution: a BREAK arrived while the runner was lent out; the transport passes
    /// it to whoever runs the call (true once per BREAK).
    pub fn take_interrupt(&mut self) -> bool {
        std::mem::take(&mut self.interrupt)
    }

    /// Lent execution: the runner is back with its answer. A BREAK that came as the call
    /// ended and that the call did not see (`unanswered_break`: one the transport passed on
    /// too late) still gets its answer, at once and after the call's: the client that sent
    /// it waits for the BREAK/RESET handshake even when the call's answer beat it.
    pub fn finish_request(
        &mut self,
        now: Instant,
        mut runner: Box<SessionRunner>,
        unanswered_break: bool,
    ) {
        if std::mem::take(&mut self.interrupt) || unanswered_break {
            runner.handle_input(now, Input::Break);
        }
        self.runner = Some(runner);
        self.last_activity = Some(now);
        self.collect();
    }

    /// A pooled server's client released its session (`Some(deauthenticate)`): nothing more
    /// is read; [`Self::into_released`] gives the runner and the client's unread bytes back.
    pub fn released(&self) -> Option<bool> {
        self.runner.as_ref().and_then(|r| r.released)
    }

    /// After [`Self::released`]: the runner (its session stays with the pooled server), the
    /// connection's framing and the bytes the client sent after the release (its next
    /// call, or its final close), for the broker.
    pub fn into_released(self) -> Option<Released> {
        let deauthenticate = self.released()?;
        let mut runner = self.runner?;
        runner.released = None;
        Some(Released {
            runner,
            framing: self.framing,
            leftover: self.inbuf,
            deauthenticate,
        })
    }

    /// A connection already open on the client's side (a DRCP client coming back from the
    /// broker with its next call): no CONNECT, the framing it negotiated before.
    pub fn resumed(mut runner: SessionRunner, framing: Framing, max_sdu: u32) -> Self {
        runner.framing = framing;
        let mut conn = Self::with_execution(runner, max_sdu, Execution::Inline);
        conn.framing = framing;
        conn.state = State::Open;
        conn
    }

    fn eof_end(&self) -> SessionEnd {
        match self.runner.as_ref() {
            Some(r) if r.session().logged_off() => SessionEnd::Logoff,
            _ => SessionEnd::Eof,
        }
    }

    fn close(&mut self, end: SessionEnd) {
        self.state = State::Closed(end);
        self.queued.clear();
        self.inbuf = Vec::new();
    }

    /// Moves the runner's output into ours and closes when the session ended.
    fn collect(&mut self) {
        let Some(r) = self.runner.as_mut() else {
            return;
        };
        if let Some(bytes) = r.poll_transmit() {
            self.out.extend_from_slice(&bytes);
        }
        if std::mem::take(&mut r.reset_sent) {
            // What waited to run came before the client's RESET: discarded with the rest.
            self.awaiting_reset = true;
            self.queued.clear();
        }
        if r.session().logged_on() {
            self.login_deadline = None;
        }
        if r.is_closed() && !self.is_closed() {
            self.close(SessionEnd::Closed);
        }
    }

    fn read_packets(&mut self, now: Instant) -> Result<(), ConnError> {
        if self.state == State::Connecting {
            let Some((connect, used)) =
                packet::decode_connect(&self.inbuf).map_err(|e| match e {
                    packet::DecodeError::UnexpectedType { .. } => ConnError::NotConnect,
                    other => ConnError::Packet(other),
                })?
            else {
                return Ok(());
            };
            self.inbuf.drain(..used);
            if self.screening {
                self.pending_connect = Some(connect);
                return Ok(());
            }
            self.accept(&connect);
        }
        if self.pending_connect.is_some() || self.released().is_some() {
            return Ok(());
        }
        let mut used_total = 0;
        loop {
            let rest = &self.inbuf[used_total..];
            if let Some(len) = packet::peek_length(rest, self.framing.mode)?
                && len > self.framing.sdu as usize
            {
                return Err(ConnError::OverSdu {
                    len,
                    sdu: self.framing.sdu,
                });
            }
            let Some((p, used)) = packet::decode(rest, self.framing.mode)? else {
                break;
            };
            used_total += used;
            let input = match p {
                Packet::Data(d) if d.flags & packet::data_flags::EOF != 0 => {
                    self.close(self.eof_end());
                    return Ok(());
                }
                // The client's RESET ends our reset; a stray one is ignored.
                Packet::Marker(Marker {
                    kind: MarkerKind::Reset,
                }) => {
                    self.awaiting_reset = false;
                    continue;
                }
                _ if self.awaiting_reset => continue,
                Packet::Data(d) => Input::Data(d.payload),
                Packet::Marker(Marker {
                    kind: MarkerKind::Break | MarkerKind::Interrupt,
                }) => Input::Break,
                // CONTROL, anything else.
                _ => continue,
            };
            self.deliver(now, input);
            if self.is_closed() {
                return Ok(());
            }
            if self.released().is_some() {
                // What came after the release belongs to the client's next session.
                break;
            }
        }
        self.inbuf.drain(..used_total);
        Ok(())
    }

    fn accept(&mut self, connect: &Connect) {
        let accept = Accept::for_connect(connect, self.max_sdu);
        self.out.extend_from_slice(&accept.encode());
        self.framing = Framing {
            mode: LengthMode::for_version(accept.version),
            sdu: accept.sdu,
        };
        if let Some(r) = self.runner.as_mut() {
            r.framing = self.framing;
        }
        self.state = State::Open;
    }

    fn deliver(&mut self, now: Instant, input: Input) {
        match (self.execution, self.runner.as_mut()) {
            (Execution::Inline, Some(r)) => {
                r.handle_input(now, input);
                self.collect();
            }
            // A BREAK for the call a shared server runs right now.
            (Execution::Lent, None) if input == Input::Break => self.interrupt = true,
            // A BREAK with no call out: answered here, at once (no shared server needed).
            (Execution::Lent, Some(r)) if input == Input::Break => {
                r.handle_input(now, input);
                self.collect();
            }
            _ => self.queued.push_back(input),
        }
    }
}

#[cfg(test)]
mod tests;
