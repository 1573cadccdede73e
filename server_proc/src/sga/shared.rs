//! The shared-server part of the SGA: the parameters a DBA changes with `ALTER SYSTEM SET`
//! (any server process may write them; the instance's shared-server manager applies them),
//! the monitor counters and the common queue (V$SHARED_SERVER_MONITOR, V$QUEUE), each
//! dispatcher's and shared server's row (kept in its process slot: V$DISPATCHER,
//! V$SHARED_SERVER) and the virtual circuits (V$CIRCUIT). Everything is atomics, like the
//! rest of the segment; the engine evaluates the views over the rows produced here.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering, fence};
use std::time::Duration;

use engine::rows::{
    CircuitRow, DispatcherConfigRow, DispatcherRow, ParameterRow, QueueRow, SharedServerMonitorRow,
    SharedServerRow,
};
use engine::views::Scope;

use super::layout::{
    CircuitSlot, SLOT_FREE, SLOT_USED, SharedProcess, tag, tag_serial, tag_state, try_claim,
};
use super::{ADDR_BASE, ProcessHandle, ProcessKind, Sga, SgaError, now_ms, os};

/// The integer shared-server parameters, by their index in the SGA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// SHARED_SERVERS.
    SharedServers = 0,
    /// MAX_SHARED_SERVERS.
    MaxSharedServers = 1,
    /// MAX_DISPATCHERS.
    MaxDispatchers = 2,
    /// CIRCUITS.
    Circuits = 3,
    /// SHARED_SERVER_SESSIONS.
    SharedServerSessions = 4,
    /// DISPATCHERS (a string; only its flags live in the integer table).
    Dispatchers = 5,
}

impl Param {
    const ALL: [Param; 6] = [
        Param::SharedServers,
        Param::MaxSharedServers,
        Param::MaxDispatchers,
        Param::Circuits,
        Param::SharedServerSessions,
        Param::Dispatchers,
    ];

    /// The parameter's name (lower case, as V$PARAMETER shows it).
    pub fn name(self) -> &'static str {
        match self {
            Param::SharedServers => "shared_servers",
            Param::MaxSharedServers => "max_shared_servers",
            Param::MaxDispatchers => "max_dispatchers",
            Param::Circuits => "circuits",
            Param::SharedServerSessions => "shared_server_sessions",
            Param::Dispatchers => "dispatchers",
        }
    }

    fn from_name(name: &str) -> Option<Param> {
        Param::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }

    fn description(self) -> &'static str {
        match self {
            Param::SharedServers => "number of shared servers to start up",
            Param::MaxSharedServers => "max number of shared servers",
            Param::MaxDispatchers => "max number of dispatchers",
            Param::Circuits => "max number of circuits",
            Param::SharedServerSessions => "max number of shared server sessions",
            Param::Dispatchers => "specifications of dispatchers",
        }
    }
}

/// The shared-server parameters as the instance runs with them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SharedParams {
    /// SHARED_SERVERS (`None` = not set).
    pub shared_servers: Option<u32>,
    /// MAX_SHARED_SERVERS.
    pub max_shared_servers: Option<u32>,
    /// MAX_DISPATCHERS.
    pub max_dispatchers: Option<u32>,
    /// CIRCUITS.
    pub circuits: Option<u32>,
    /// SHARED_SERVER_SESSIONS.
    pub shared_server_sessions: Option<u32>,
    /// DISPATCHERS entries, each as written.
    pub dispatchers: Vec<String>,
}

impl SharedParams {
    fn get(&self, p: Param) -> Option<u32> {
        match p {
            Param::SharedServers => self.shared_servers,
            Param::MaxSharedServers => self.max_shared_servers,
            Param::MaxDispatchers => self.max_dispatchers,
            Param::Circuits => self.circuits,
            Param::SharedServerSessions => self.shared_server_sessions,
            Param::Dispatchers => None,
        }
    }
}

/// V$DISPATCHER.STATUS / V$SHARED_SERVER.STATUS codes kept in a process slot.
pub mod status {
    /// Dispatcher idle.
    pub const WAIT: u32 = 0;
    /// Dispatcher handling traffic.
    pub const RECEIVE: u32 = 1;
    /// Dispatcher terminating (draining its circuits).
    pub const TERMINATE: u32 = 2;
    /// Shared server idle, waiting on the common queue.
    pub const WAIT_COMMON: u32 = 10;
    /// Shared server executing a call.
    pub const EXEC: u32 = 11;
    /// Shared server terminating.
    pub const QUIT: u32 = 12;
}

fn status_text(kind: ProcessKind, code: u32) -> &'static str {
    match (kind, code) {
        (ProcessKind::Dispatcher, status::RECEIVE) => "RECEIVE",
        (ProcessKind::Dispatcher, status::TERMINATE) => "TERMINATE",
        (ProcessKind::Dispatcher, _) => "WAIT",
        (_, status::EXEC) => "EXEC",
        (_, status::QUIT) => "QUIT",
        _ => "WAIT(COMMON)",
    }
}

/// V$CIRCUIT.QUEUE codes.
pub mod queue {
    /// Idle: nothing queued.
    pub const NONE: u32 = 0;
    /// On the common queue, waiting for a shared server.
    pub const COMMON: u32 = 1;
    /// Being served by a shared server.
    pub const SERVER: u32 = 2;
    /// Answered, on its dispatcher's response queue.
    pub const DISPATCHER: u32 = 3;
}

fn queue_text(code: u32) -> &'static str {
    match code {
        queue::COMMON => "COMMON",
        queue::SERVER => "SERVER",
        queue::DISPATCHER => "DISPATCHER",
        _ => "NONE",
    }
}

/// V$CIRCUIT.STATUS codes.
pub mod circuit_status {
    /// Normal.
    pub const NORMAL: u32 = 0;
    /// A break is being handled.
    pub const BREAK: u32 = 1;
    /// The client went away; the circuit is about to be removed.
    pub const EOF: u32 = 2;
}

fn circuit_status_text(code: u32) -> &'static str {
    match code {
        circuit_status::BREAK => "BREAK",
        circuit_status::EOF => "EOF",
        _ => "NORMAL",
    }
}

const UNSET: u32 = u32::MAX;

fn ora_param(code: u32, text: String) -> SgaError {
    SgaError::Parameter { code, text }
}

/// The value of attribute `name` (upper case) in one DISPATCHERS entry, at any depth;
/// attribute names may be abbreviated to three letters, as Oracle allows.
pub fn dispatcher_attribute(value: &str, name: &str) -> Option<String> {
    let mut rest = value;
    while let Some(open) = rest.find('(') {
        rest = &rest[open + 1..];
        let end = rest.find(['(', ')']).unwrap_or(rest.len());
        if let Some((k, v)) = rest[..end].split_once('=') {
            let k = k.trim().to_ascii_uppercase();
            let v = v.trim().trim_matches(['"', '\'']);
            if k.len() >= 3 && name.starts_with(&k) && !v.is_empty() {
                return Some(v.to_string());
            }
        }
    }
    None
}

/// Splits a DISPATCHERS value that holds several entries (`'(PRO=TCP)', '(PRO=TCP)(DIS=2)'`
/// as ALTER SYSTEM or the parameter file lists them) into the entries.
pub fn split_dispatchers(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for ch in value.chars() {
        match ch {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth <= 0 => {
                let t = cur.trim().trim_matches(['"', '\'']).trim().to_string();
                if !t.is_empty() {
                    out.push(t);
                }
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(ch);
    }
    let t = cur.trim().trim_matches(['"', '\'']).trim().to_string();
    if !t.is_empty() {
        out.push(t);
    }
    out
}

/// Checks one DISPATCHERS entry as Oracle does at startup or `ALTER SYSTEM SET`: TCP only,
/// numeric counts (ORA-00101 otherwise).
pub fn check_dispatcher_entry(entry: &str) -> Result<(), SgaError> {
    let bad = || ora_param(101, tns::error_text::ora_line(101));
    if !entry.trim_start().starts_with('(') {
        return Err(bad());
    }
    if let Some(p) = dispatcher_attribute(entry, "PROTOCOL")
        && !p.eq_ignore_ascii_case("tcp")
    {
        return Err(bad());
    }
    for attr in ["DISPATCHERS", "CONNECTIONS", "SESSIONS", "INDEX"] {
        if let Some(v) = dispatcher_attribute(entry, attr)
            && v.parse::<u32>().is_err()
        {
            return Err(bad());
        }
    }
    Ok(())
}

impl Sga {
    /// Stores the parameters the instance starts with (`set` says which were in the file).
    pub fn init_shared_params(&self, p: &SharedParams) {
        let ss = &self.header().ss;
        let mut set = 0u32;
        for param in Param::ALL {
            let v = p.get(param);
            if v.is_some() {
                set |= 1 << param as u32;
            }
            if param != Param::Dispatchers {
                ss.params[param as usize].store(v.unwrap_or(UNSET), Ordering::Relaxed);
            }
        }
        if !p.dispatchers.is_empty() {
            set |= 1 << Param::Dispatchers as u32;
        }
        ss.params_set.store(set, Ordering::Relaxed);
        ss.dispatchers.store(&p.dispatchers.join(", "));
        ss.param_seq.fetch_add(1, Ordering::Release);
    }

    /// The shared-server parameters now.
    pub fn shared_params(&self) -> SharedParams {
        let ss = &self.header().ss;
        let get = |p: Param| {
            let v = ss.params[p as usize].load(Ordering::Acquire);
            (v != UNSET).then_some(v)
        };
        let dispatchers = loop {
            let seq = ss.dispatchers_seq.load(Ordering::Acquire);
            let text = ss.dispatchers.load();
            fence(Ordering::Acquire);
            if seq.is_multiple_of(2) && ss.dispatchers_seq.load(Ordering::Acquire) == seq {
                break split_dispatchers(&text);
            }
            std::thread::yield_now();
        };
        SharedParams {
            shared_servers: get(Param::SharedServers),
            max_shared_servers: get(Param::MaxSharedServers),
            max_dispatchers: get(Param::MaxDispatchers),
            circuits: get(Param::Circuits),
            shared_server_sessions: get(Param::SharedServerSessions),
            dispatchers,
        }
    }

    /// SHARED_SERVER_SESSIONS, when set.
    pub(crate) fn shared_server_sessions_limit(&self) -> Option<u32> {
        let v =
            self.header().ss.params[Param::SharedServerSessions as usize].load(Ordering::Acquire);
        (v != UNSET).then_some(v)
    }

    /// How many times the shared-server parameters changed (the manager compares).
    pub fn shared_param_seq(&self) -> u32 {
        self.header().ss.param_seq.load(Ordering::Acquire)
    }

    /// Waits up to `timeout` for the parameters to change from sequence `seen`.
    pub fn wait_shared_params(&self, seen: u32, timeout: Duration) -> u32 {
        let w = &self.header().ss.param_seq;
        if w.load(Ordering::Acquire) == seen {
            os::futex_wait(w, seen, timeout);
        }
        w.load(Ordering::Acquire)
    }

    /// `ALTER SYSTEM SET name = value [SCOPE = ...]` for a running instance started from a
    /// pfile: SCOPE=SPFILE/BOTH → ORA-32001; an unknown parameter → ORA-02065; a static one
    /// → ORA-02095; a shared-server parameter is validated, stored, and the instance's
    /// shared-server manager woken to apply it.
    pub fn alter_system_set(
        &self,
        name: &str,
        value: &str,
        scope: Option<Scope>,
    ) -> Result<(), SgaError> {
        if matches!(scope, Some(Scope::Spfile | Scope::Both)) {
            return Err(ora_param(32001, tns::error_text::ora_line(32001)));
        }
        let Some(param) = Param::from_name(name) else {
            return Err(if crate::initora::is_known_parameter(name) {
                ora_param(2095, tns::error_text::ora_line(2095))
            } else {
                ora_param(2065, tns::error_text::ora_line(2065))
            });
        };
        let ss = &self.header().ss;
        if param == Param::Dispatchers {
            let entries = split_dispatchers(value);
            if entries.is_empty() {
                return Err(ora_param(101, tns::error_text::ora_line(101)));
            }
            for e in &entries {
                check_dispatcher_entry(e)?;
            }
            // INDEX=n edits entry n (or appends); without it the first entry is replaced.
            let mut now = self.shared_params().dispatchers;
            for e in entries {
                let index = dispatcher_attribute(&e, "INDEX")
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap_or(0);
                if index < now.len() {
                    now[index] = e;
                } else {
                    now.push(e);
                }
            }
            ss.dispatchers_seq.fetch_add(1, Ordering::AcqRel);
            ss.dispatchers.store(&now.join(", "));
            ss.dispatchers_seq.fetch_add(1, Ordering::AcqRel);
        } else {
            let v = value.trim();
            let n: u32 = v
                .parse()
                .map_err(|_| ora_param(2017, tns::error_text::ora_line(2017)))?;
            // MAX_DISPATCHERS "should be less than PROCESSES"; in 10g and later it limits
            // nothing (DISPATCHERS overrides it), so a value below the running count is
            // taken as it is.
            let limit = match param {
                Param::SharedServers | Param::MaxSharedServers => self.processes,
                Param::MaxDispatchers => self.processes.saturating_sub(1),
                Param::Circuits | Param::SharedServerSessions => self.sessions,
                _ => 0xFFFF,
            };
            if n > limit {
                return Err(ora_param(
                    2097,
                    format!(
                        "{}\n{}",
                        tns::error_text::ora_line(2097),
                        tns::error_text::ora_line_with(
                            68,
                            &[v, param.name(), "0", &limit.to_string()]
                        )
                    ),
                ));
            }
            ss.params[param as usize].store(n, Ordering::Release);
        }
        ss.params_modified
            .fetch_or(1 << param as u32, Ordering::AcqRel);
        ss.param_seq.fetch_add(1, Ordering::AcqRel);
        os::futex_wake_all(&ss.param_seq);
        Ok(())
    }

    /// V$PARAMETER: the instance's limits and names and the shared-server parameters.
    pub fn snapshot_parameters(&self) -> Vec<ParameterRow> {
        let h = self.header();
        let ss = &h.ss;
        let set = ss.params_set.load(Ordering::Relaxed);
        let modified = ss.params_modified.load(Ordering::Relaxed);
        let fixed = |num, name: &str, kind, value: String, description| ParameterRow {
            num,
            name: name.to_string(),
            kind,
            value: Some(value),
            default_value: None,
            isdefault: false,
            issys_modifiable: "FALSE",
            ismodified: false,
            description,
        };
        let mut rows = vec![
            fixed(
                36,
                "processes",
                3,
                self.processes.to_string(),
                "user processes",
            ),
            fixed(
                38,
                "sessions",
                3,
                self.sessions.to_string(),
                "user and system sessions",
            ),
            fixed(
                215,
                "instance_name",
                2,
                h.instance_name.load(),
                "instance name supported by the instance",
            ),
            fixed(
                262,
                "db_name",
                2,
                h.db_name.load(),
                "database name specified in CREATE DATABASE",
            ),
        ];
        let p = self.shared_params();
        for (num, param) in [
            (318, Param::Dispatchers),
            (319, Param::SharedServers),
            (320, Param::MaxSharedServers),
            (321, Param::MaxDispatchers),
            (322, Param::Circuits),
            (323, Param::SharedServerSessions),
        ] {
            let bit = 1u32 << param as u32;
            let value = if param == Param::Dispatchers {
                Some(p.dispatchers.join(", ")).filter(|v| !v.is_empty())
            } else if param == Param::SharedServers {
                // Unset: 1 with dispatchers configured, else 0 (shared server off).
                Some(
                    p.shared_servers
                        .unwrap_or(u32::from(!p.dispatchers.is_empty()))
                        .to_string(),
                )
            } else {
                p.get(param).map(|v| v.to_string())
            };
            rows.push(ParameterRow {
                num,
                name: param.name().to_string(),
                kind: if param == Param::Dispatchers { 2 } else { 3 },
                value,
                default_value: match param {
                    Param::SharedServers => Some("0".to_string()),
                    _ => None,
                },
                isdefault: set & bit == 0 && modified & bit == 0,
                issys_modifiable: "IMMEDIATE",
                ismodified: modified & bit != 0,
                description: param.description(),
            });
        }
        rows.sort_by_key(|r| r.num);
        rows
    }

    /// V$DISPATCHER_CONFIG: one row per DISPATCHERS entry.
    pub fn snapshot_dispatcher_config(&self) -> Vec<DispatcherConfigRow> {
        self.shared_params()
            .dispatchers
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let num = |a: &str, default: u32| {
                    dispatcher_attribute(e, a)
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(default)
                };
                let network = match dispatcher_attribute(e, "ADDRESS")
                    .or_else(|| dispatcher_attribute(e, "DESCRIPTION"))
                {
                    Some(_) => e.clone(),
                    None => format!(
                        "(ADDRESS=(PROTOCOL={}))",
                        dispatcher_attribute(e, "PROTOCOL")
                            .unwrap_or_else(|| "tcp".to_string())
                            .to_ascii_lowercase()
                    ),
                };
                DispatcherConfigRow {
                    conf_indx: u32::try_from(i).unwrap_or(u32::MAX),
                    network,
                    dispatchers: num("DISPATCHERS", 1),
                    connections: num("CONNECTIONS", crate::shared::MAX_CONNECTIONS),
                    sessions: num("SESSIONS", crate::shared::MAX_CONNECTIONS),
                    listener: dispatcher_attribute(e, "LISTENER").unwrap_or_default(),
                    service: dispatcher_attribute(e, "SERVICE").unwrap_or_default(),
                }
            })
            .collect()
    }

    fn circuit_slot(&self, index: u32) -> &CircuitSlot {
        assert!(index < self.sessions, "circuit slot index out of range");
        let at = self.off.circuits + self.off.circuit_stride * index as usize;
        // SAFETY: as for `process_slot`, with the circuit region (one slot per session,
        // sized by `Offsets` from the same limit).
        unsafe { self.map.base().add(at).cast::<CircuitSlot>().as_ref() }
    }

    fn circuit_addr(&self, index: u32) -> String {
        let at = self.off.circuits + self.off.circuit_stride * index as usize;
        format!("{:016X}", ADDR_BASE + at as u64)
    }

    fn paddr_of(&self, index1: u32) -> String {
        if index1 > 0 && index1 <= self.processes {
            self.process_addr(index1 - 1)
        } else {
            "00".to_string()
        }
    }

    /// Takes a circuit slot for a new connection of `dispatcher`; `None` when all are in
    /// use (the dispatcher then refuses the connection).
    pub fn claim_circuit(self: &Arc<Self>, dispatcher: &ProcessHandle) -> Option<CircuitHandle> {
        let limit = self.circuit_limit();
        let used = &self.header().ss.circuits_used;
        let Ok(before) = used.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < limit).then_some(n + 1)
        }) else {
            return None;
        };
        for index in 0..self.sessions {
            let slot = self.circuit_slot(index);
            let Some(serial) = try_claim(&slot.tag) else {
                continue;
            };
            slot.dispatcher
                .store(dispatcher.index + 1, Ordering::Relaxed);
            slot.server.store(0, Ordering::Relaxed);
            slot.session.store(0, Ordering::Relaxed);
            slot.status.store(circuit_status::NORMAL, Ordering::Relaxed);
            slot.queue.store(queue::NONE, Ordering::Relaxed);
            slot.messages.store(0, Ordering::Relaxed);
            slot.bytes.store(0, Ordering::Relaxed);
            slot.breaks.store(0, Ordering::Relaxed);
            slot.tag.store(tag(serial, SLOT_USED), Ordering::Release);
            let now_used = before + 1;
            self.header()
                .ss
                .max_connections
                .fetch_max(now_used, Ordering::Relaxed);
            return Some(CircuitHandle {
                sga: Arc::clone(self),
                index,
                serial,
                freed: AtomicBool::new(false),
            });
        }
        used.fetch_sub(1, Ordering::AcqRel);
        None
    }

    /// CIRCUITS, or one circuit per session slot when it is not set (Oracle derives it from
    /// SESSIONS); never more than there are slots.
    pub fn circuit_limit(&self) -> u32 {
        let v = self.header().ss.params[Param::Circuits as usize].load(Ordering::Acquire);
        if v == UNSET {
            self.sessions
        } else {
            v.min(self.sessions)
        }
    }

    /// Virtual circuits in use now (V$CIRCUIT rows, and slots being claimed).
    pub fn circuits_in_use(&self) -> u32 {
        self.header().ss.circuits_used.load(Ordering::Acquire)
    }

    /// Frees every circuit of the dispatcher in process slot `index` (pmon, after the
    /// dispatcher died).
    pub(crate) fn free_circuits_of(&self, index: u32) {
        for i in 0..self.sessions {
            let slot = self.circuit_slot(i);
            let t = slot.tag.load(Ordering::Acquire);
            if tag_state(t) == SLOT_USED
                && slot.dispatcher.load(Ordering::Relaxed) == index + 1
                && slot
                    .tag
                    .compare_exchange(
                        t,
                        tag(tag_serial(t), SLOT_FREE),
                        Ordering::AcqRel,
                        Ordering::Relaxed,
                    )
                    .is_ok()
            {
                self.header()
                    .ss
                    .circuits_used
                    .fetch_sub(1, Ordering::AcqRel);
            }
        }
    }

    /// Rows of V$CIRCUIT.
    pub fn snapshot_circuits(&self) -> Vec<CircuitRow> {
        let mut rows = Vec::new();
        for index in 0..self.sessions {
            let slot = self.circuit_slot(index);
            let t = slot.tag.load(Ordering::Acquire);
            if tag_state(t) != SLOT_USED {
                continue;
            }
            let session = slot.session.load(Ordering::Relaxed);
            let row = CircuitRow {
                circuit: self.circuit_addr(index),
                dispatcher: self.paddr_of(slot.dispatcher.load(Ordering::Relaxed)),
                server: self.paddr_of(slot.server.load(Ordering::Relaxed)),
                saddr: if session > 0 && session <= self.sessions {
                    self.session_addr(session - 1)
                } else {
                    "00".to_string()
                },
                status: circuit_status_text(slot.status.load(Ordering::Relaxed)),
                queue: queue_text(slot.queue.load(Ordering::Relaxed)),
                messages: slot.messages.load(Ordering::Relaxed),
                bytes: slot.bytes.load(Ordering::Relaxed),
                breaks: slot.breaks.load(Ordering::Relaxed),
            };
            fence(Ordering::Acquire);
            if slot.tag.load(Ordering::Relaxed) == t {
                rows.push(row);
            }
        }
        rows
    }

    fn shared_processes(&self, kind: ProcessKind) -> Vec<(u32, &SharedProcess, String)> {
        self.snapshot_processes()
            .into_iter()
            .filter(|p| p.kind == kind)
            .map(|p| {
                let index = p.pid - 1;
                (
                    index,
                    &self.process_slot(index).ss,
                    p.pname.unwrap_or_default(),
                )
            })
            .collect()
    }

    /// Rows of V$DISPATCHER, by name.
    pub fn snapshot_dispatchers(&self) -> Vec<DispatcherRow> {
        let now = now_ms();
        let mut rows: Vec<DispatcherRow> = self
            .shared_processes(ProcessKind::Dispatcher)
            .into_iter()
            .map(|(index, ss, name)| {
                let (idle, busy) = idle_busy_cs(ss, now);
                DispatcherRow {
                    name,
                    network: ss.network.load(),
                    paddr: self.process_addr(index),
                    status: status_text(ProcessKind::Dispatcher, ss.status.load(Ordering::Relaxed)),
                    accept: ss.accept.load(Ordering::Relaxed) != 0,
                    messages: ss.messages.load(Ordering::Relaxed),
                    bytes: ss.bytes.load(Ordering::Relaxed),
                    breaks: ss.breaks.load(Ordering::Relaxed),
                    owned: ss.circuits.load(Ordering::Relaxed),
                    created: ss.created.load(Ordering::Relaxed),
                    idle,
                    busy,
                    listener: ss.listener.load(Ordering::Relaxed),
                    conf_indx: ss.conf_indx.load(Ordering::Relaxed),
                    connections: ss.connections.load(Ordering::Relaxed),
                }
            })
            .collect();
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        rows
    }

    /// Rows of V$SHARED_SERVER, by name.
    pub fn snapshot_shared_servers(&self) -> Vec<SharedServerRow> {
        let now = now_ms();
        let mut rows: Vec<SharedServerRow> = self
            .shared_processes(ProcessKind::SharedServer)
            .into_iter()
            .map(|(index, ss, name)| {
                let (idle, busy) = idle_busy_cs(ss, now);
                let circuit = ss.circuits.load(Ordering::Relaxed);
                SharedServerRow {
                    name,
                    paddr: self.process_addr(index),
                    status: status_text(
                        ProcessKind::SharedServer,
                        ss.status.load(Ordering::Relaxed),
                    ),
                    messages: ss.messages.load(Ordering::Relaxed),
                    bytes: ss.bytes.load(Ordering::Relaxed),
                    breaks: ss.breaks.load(Ordering::Relaxed),
                    circuit: (circuit > 0 && circuit <= self.sessions)
                        .then(|| self.circuit_addr(circuit - 1)),
                    idle,
                    busy,
                    requests: ss.created.load(Ordering::Relaxed),
                }
            })
            .collect();
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        rows
    }

    /// Rows of V$QUEUE: the COMMON queue, then one DISPATCHER queue per dispatcher.
    pub fn snapshot_queues(&self) -> Vec<QueueRow> {
        let ss = &self.header().ss;
        let mut rows = vec![QueueRow {
            paddr: "00".to_string(),
            kind: "COMMON",
            queued: ss.common_queued.load(Ordering::Relaxed),
            wait: ss.common_wait_cs.load(Ordering::Relaxed),
            totalq: ss.common_totalq.load(Ordering::Relaxed),
        }];
        let mut d = self.shared_processes(ProcessKind::Dispatcher);
        d.sort_by(|a, b| a.2.cmp(&b.2));
        for (index, p, _) in d {
            rows.push(QueueRow {
                paddr: self.process_addr(index),
                kind: "DISPATCHER",
                queued: p.q_queued.load(Ordering::Relaxed),
                wait: p.q_wait_cs.load(Ordering::Relaxed),
                totalq: p.q_totalq.load(Ordering::Relaxed),
            });
        }
        rows
    }

    /// The row of V$SHARED_SERVER_MONITOR.
    pub fn shared_server_monitor(&self) -> SharedServerMonitorRow {
        let ss = &self.header().ss;
        SharedServerMonitorRow {
            maximum_connections: ss.max_connections.load(Ordering::Relaxed),
            maximum_sessions: ss.max_sessions.load(Ordering::Relaxed),
            servers_started: ss.servers_started.load(Ordering::Relaxed),
            servers_terminated: ss.servers_terminated.load(Ordering::Relaxed),
            servers_highwater: ss.servers_highwater.load(Ordering::Relaxed),
        }
    }

    /// A shared server started after startup (`at_startup` = false) or at startup; `running`
    /// is the number of shared servers now.
    pub fn note_server_started(&self, at_startup: bool, running: u32) {
        let ss = &self.header().ss;
        if !at_startup {
            ss.servers_started.fetch_add(1, Ordering::Relaxed);
        }
        ss.servers_highwater.fetch_max(running, Ordering::Relaxed);
    }

    /// A shared server was stopped by the instance.
    pub fn note_server_terminated(&self) {
        self.header()
            .ss
            .servers_terminated
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Shared-server sessions now (for MAXIMUM_SESSIONS).
    pub fn note_shared_sessions(&self, now: u32) {
        self.header()
            .ss
            .max_sessions
            .fetch_max(now, Ordering::Relaxed);
    }

    /// A request went on the common queue.
    pub fn common_enqueued(&self) {
        let ss = &self.header().ss;
        ss.common_queued.fetch_add(1, Ordering::Relaxed);
        ss.common_totalq.fetch_add(1, Ordering::Relaxed);
    }

    /// A shared server took a request that waited `waited` on the common queue.
    pub fn common_dequeued(&self, waited: Duration) {
        let ss = &self.header().ss;
        let _ = ss
            .common_queued
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| v.checked_sub(1));
        ss.common_wait_cs
            .fetch_add(centis(waited), Ordering::Relaxed);
    }

    /// Requests waiting on the common queue now.
    pub fn common_queued(&self) -> u32 {
        self.header().ss.common_queued.load(Ordering::Relaxed)
    }

    /// Bumped by every KILL/DISCONNECT SESSION; dispatchers look at their circuits when it
    /// changes.
    pub fn kill_seq(&self) -> u32 {
        self.header().ss.kill_seq.load(Ordering::Acquire)
    }

    pub(crate) fn bump_kill_seq(&self) {
        self.header().ss.kill_seq.fetch_add(1, Ordering::AcqRel);
    }

    /// The kill pending on session `(sid, serial)`, if it still exists.
    pub fn kill_pending_of(&self, sid: u32, serial: u32) -> Option<super::KillRequest> {
        if sid == 0 || sid > self.sessions {
            return None;
        }
        let slot = self.session_slot(sid - 1);
        if slot.tag.load(Ordering::Acquire) != tag(serial, SLOT_USED) {
            return None;
        }
        super::KillRequest::from_u32(slot.kill.load(Ordering::Acquire))
    }

    /// V$SESSION.PADDR of a shared session during a call: the shared server in process slot
    /// `pid` (V$PROCESS.PID), or back to its dispatcher with `None`.
    pub fn set_call_server(&self, sid: u32, serial: u32, pid: Option<u32>) {
        if sid == 0 || sid > self.sessions {
            return;
        }
        let slot = self.session_slot(sid - 1);
        if slot.tag.load(Ordering::Acquire) == tag(serial, SLOT_USED) {
            slot.call_paddr.store(pid.unwrap_or(0), Ordering::Relaxed);
        }
    }
}

fn centis(d: Duration) -> u64 {
    u64::try_from(d.as_millis() / 10).unwrap_or(u64::MAX)
}

fn idle_busy_cs(ss: &SharedProcess, now: u64) -> (u64, u64) {
    let since = ss.since_ms.load(Ordering::Relaxed);
    let live = now.saturating_sub(since);
    let (mut idle, mut busy) = (
        ss.idle_ms.load(Ordering::Relaxed),
        ss.busy_ms.load(Ordering::Relaxed),
    );
    if since > 0 {
        if ss.busy.load(Ordering::Relaxed) != 0 {
            busy += live;
        } else {
            idle += live;
        }
    }
    (idle / 10, busy / 10)
}

impl ProcessHandle {
    fn ss(&self) -> &SharedProcess {
        &self.sga.process_slot(self.index).ss
    }

    /// Starts the V$DISPATCHER row of this dispatcher.
    pub fn init_dispatcher(&self, network: &str, conf_indx: u32, connections: u32) {
        let ss = self.ss();
        ss.network.store(network);
        ss.conf_indx.store(conf_indx, Ordering::Relaxed);
        ss.connections.store(connections, Ordering::Relaxed);
        ss.accept.store(1, Ordering::Relaxed);
        ss.status.store(status::WAIT, Ordering::Relaxed);
        ss.since_ms.store(now_ms(), Ordering::Relaxed);
    }

    /// Starts the V$SHARED_SERVER row of this shared server.
    pub fn init_shared_server(&self) {
        let ss = self.ss();
        ss.status.store(status::WAIT_COMMON, Ordering::Relaxed);
        ss.since_ms.store(now_ms(), Ordering::Relaxed);
    }

    /// STATUS (a [`status`] code).
    pub fn set_shared_status(&self, code: u32) {
        self.ss().status.store(code, Ordering::Relaxed);
    }

    /// Starts a busy or an idle stretch (IDLE / BUSY columns).
    pub fn set_busy(&self, busy: bool) {
        let ss = self.ss();
        let now = now_ms();
        let was = ss.busy.swap(u32::from(busy), Ordering::Relaxed) != 0;
        let since = ss.since_ms.swap(now, Ordering::Relaxed);
        let d = now.saturating_sub(since);
        if since > 0 {
            if was {
                ss.busy_ms.fetch_add(d, Ordering::Relaxed);
            } else {
                ss.idle_ms.fetch_add(d, Ordering::Relaxed);
            }
        }
    }

    /// One message of `bytes` handled.
    pub fn count_message(&self, bytes: usize) {
        let ss = self.ss();
        ss.messages.fetch_add(1, Ordering::Relaxed);
        ss.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// One break handled.
    pub fn count_break(&self) {
        self.ss().breaks.fetch_add(1, Ordering::Relaxed);
    }

    /// Dispatcher: circuits owned now (and, when `created`, one more ever created).
    pub fn set_owned(&self, owned: u32, created: bool) {
        let ss = self.ss();
        ss.circuits.store(owned, Ordering::Relaxed);
        if created {
            ss.created.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Dispatcher: circuits owned now.
    pub fn owned(&self) -> u32 {
        self.ss().circuits.load(Ordering::Relaxed)
    }

    /// Dispatcher: ACCEPT YES/NO.
    pub fn set_accepting(&self, accept: bool) {
        self.ss().accept.store(u32::from(accept), Ordering::Relaxed);
    }

    /// Shared server: the circuit it serves now (`None` when idle); counts a request.
    pub fn set_serving(&self, circuit: Option<&CircuitRef>) {
        let ss = self.ss();
        ss.circuits
            .store(circuit.map_or(0, |c| c.index + 1), Ordering::Relaxed);
        if circuit.is_some() {
            ss.created.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Dispatcher: an answer arrived on its response queue (`queued` now).
    pub fn response_enqueued(&self) {
        let ss = self.ss();
        ss.q_queued.fetch_add(1, Ordering::Relaxed);
        ss.q_totalq.fetch_add(1, Ordering::Relaxed);
    }

    /// Dispatcher: it took an answer that waited `waited` on its response queue.
    pub fn response_dequeued(&self, waited: Duration) {
        let ss = self.ss();
        let _ = ss
            .q_queued
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| v.checked_sub(1));
        ss.q_wait_cs.fetch_add(centis(waited), Ordering::Relaxed);
    }

    /// V$PROCESS.PID as the index + 1 a session's PADDR or a circuit's SERVER stores.
    pub fn slot_id(&self) -> u32 {
        self.index + 1
    }
}

/// Identifies one circuit slot (for a shared server to say which circuit it serves).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircuitRef {
    index: u32,
    serial: u32,
}

/// A circuit slot held by its dispatcher; freed on drop.
#[derive(Debug)]
pub struct CircuitHandle {
    sga: Arc<Sga>,
    index: u32,
    serial: u32,
    freed: AtomicBool,
}

impl CircuitHandle {
    fn slot(&self) -> Option<&CircuitSlot> {
        let s = self.sga.circuit_slot(self.index);
        (s.tag.load(Ordering::Acquire) == tag(self.serial, SLOT_USED)).then_some(s)
    }

    /// The circuit's identity.
    pub fn id(&self) -> CircuitRef {
        CircuitRef {
            index: self.index,
            serial: self.serial,
        }
    }

    /// The session logged in on it (SADDR).
    pub fn set_session(&self, sid: Option<u32>) {
        if let Some(s) = self.slot() {
            s.session.store(sid.unwrap_or(0), Ordering::Relaxed);
        }
    }

    /// QUEUE (a [`queue`] code) and the shared server serving it (V$PROCESS.PID).
    pub fn set_queue(&self, code: u32, server: Option<u32>) {
        if let Some(s) = self.slot() {
            s.queue.store(code, Ordering::Relaxed);
            s.server.store(server.unwrap_or(0), Ordering::Relaxed);
        }
    }

    /// STATUS (a [`circuit_status`] code).
    pub fn set_status(&self, code: u32) {
        if let Some(s) = self.slot() {
            s.status.store(code, Ordering::Relaxed);
        }
    }

    /// One message of `bytes` through the circuit.
    pub fn count_message(&self, bytes: usize) {
        if let Some(s) = self.slot() {
            s.messages.fetch_add(1, Ordering::Relaxed);
            s.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        }
    }

    /// One break on the circuit.
    pub fn count_break(&self) {
        if let Some(s) = self.slot() {
            s.breaks.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Frees the slot (idempotent).
    pub fn free(&self) {
        if !self.freed.swap(true, Ordering::AcqRel) {
            let s = self.sga.circuit_slot(self.index);
            if s.tag
                .compare_exchange(
                    tag(self.serial, SLOT_USED),
                    tag(self.serial, SLOT_FREE),
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                )
                .is_ok()
            {
                self.sga
                    .header()
                    .ss
                    .circuits_used
                    .fetch_sub(1, Ordering::AcqRel);
            }
        }
    }
}

impl Drop for CircuitHandle {
    fn drop(&mut self) {
        self.free();
    }
}

impl CircuitRef {
    /// Marks this circuit as being served by shared server `pid` (or queued/answered).
    pub fn set_queue(&self, sga: &Sga, code: u32, server: Option<u32>) {
        if self.index >= sga.sessions {
            return;
        }
        let s = sga.circuit_slot(self.index);
        if s.tag.load(Ordering::Acquire) == tag(self.serial, SLOT_USED) {
            s.queue.store(code, Ordering::Relaxed);
            s.server.store(server.unwrap_or(0), Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sga::{InstanceState, ProcessSpec, SgaConfig};

    fn sga(tag: &str) -> Arc<Sga> {
        let sid = format!("SSG{tag}{}", std::process::id());
        let sga = Sga::create(&SgaConfig {
            sid,
            instance_name: "orcl".into(),
            db_name: "ORCL".into(),
            host_name: "h".into(),
            version: "19".into(),
            processes: 10,
            sessions: 4,
        })
        .unwrap();
        sga.set_instance_state(InstanceState::Open);
        sga
    }

    #[test]
    fn parameters_are_set_read_and_refused_as_oracle_does() {
        let sga = sga("P");
        sga.init_shared_params(&SharedParams {
            shared_servers: Some(1),
            dispatchers: vec!["(PROTOCOL=TCP)".into()],
            ..SharedParams::default()
        });
        let seq = sga.shared_param_seq();
        sga.alter_system_set("shared_servers", "4", None).unwrap();
        assert_eq!(sga.shared_params().shared_servers, Some(4));
        assert_ne!(sga.shared_param_seq(), seq);
        let code = |r: Result<(), SgaError>| r.unwrap_err().ora_code();
        assert_eq!(
            code(sga.alter_system_set("shared_servers", "2", Some(Scope::Both))),
            32001
        );
        assert_eq!(code(sga.alter_system_set("no_such_thing", "2", None)), 2065);
        assert_eq!(code(sga.alter_system_set("processes", "20", None)), 2095);
        assert_eq!(
            code(sga.alter_system_set("shared_servers", "x", None)),
            2017
        );
        let e = sga
            .alter_system_set("max_shared_servers", "99", None)
            .unwrap_err();
        assert_eq!(e.ora_code(), 2097);
        assert_eq!(
            e.to_string(),
            "ORA-02097: parameter cannot be modified because specified value is invalid\n\
             ORA-00068: invalid value 99 for parameter max_shared_servers, must be between 0 and 10"
        );
        assert_eq!(
            code(sga.alter_system_set("dispatchers", "(PROTOCOL=UDP)", None)),
            101
        );
        sga.alter_system_set(
            "dispatchers",
            "(PROTOCOL=TCP)(DISPATCHERS=2)(INDEX=1)",
            None,
        )
        .unwrap();
        assert_eq!(
            sga.shared_params().dispatchers,
            vec!["(PROTOCOL=TCP)", "(PROTOCOL=TCP)(DISPATCHERS=2)(INDEX=1)"]
        );
        let rows = sga.snapshot_parameters();
        let ss = rows.iter().find(|r| r.name == "shared_servers").unwrap();
        assert_eq!(
            (ss.value.as_deref(), ss.isdefault, ss.ismodified),
            (Some("4"), false, true)
        );
        let mss = rows
            .iter()
            .find(|r| r.name == "max_shared_servers")
            .unwrap();
        assert_eq!((mss.value.as_deref(), mss.isdefault), (None, true));
        let cfg = sga.snapshot_dispatcher_config();
        assert_eq!(cfg.len(), 2);
        assert_eq!((cfg[1].conf_indx, cfg[1].dispatchers), (1, 2));
        assert_eq!(cfg[0].network, "(ADDRESS=(PROTOCOL=tcp))");
        sga.unlink().unwrap();
    }

    #[test]
    fn circuits_dispatchers_and_servers_show_in_their_views() {
        let sga = sga("C");
        let d = sga
            .register_process(&ProcessSpec {
                kind: ProcessKind::Dispatcher,
                pname: "D000".into(),
                ..ProcessSpec::dedicated("oracle@h (D000)")
            })
            .unwrap();
        d.init_dispatcher("(ADDRESS=(PROTOCOL=tcp)(HOST=h)(PORT=1))", 0, 5);
        let s = sga
            .register_process(&ProcessSpec {
                kind: ProcessKind::SharedServer,
                pname: "S000".into(),
                ..ProcessSpec::dedicated("oracle@h (S000)")
            })
            .unwrap();
        s.init_shared_server();
        let circuits: Vec<CircuitHandle> = (0..4).map_while(|_| sga.claim_circuit(&d)).collect();
        assert_eq!(circuits.len(), 4, "one circuit per session slot");
        assert!(sga.claim_circuit(&d).is_none());
        let c = &circuits[0];
        c.set_queue(queue::SERVER, Some(s.slot_id()));
        s.set_serving(Some(&c.id()));
        s.set_shared_status(status::EXEC);
        let rows = sga.snapshot_circuits();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0].queue, "SERVER");
        assert_eq!(rows[0].server, s.addr());
        assert_eq!(rows[0].dispatcher, d.addr());
        let srv = sga.snapshot_shared_servers();
        assert_eq!(
            (srv[0].name.as_str(), srv[0].status, srv[0].requests),
            ("S000", "EXEC", 1)
        );
        assert_eq!(srv[0].circuit.as_deref(), Some(rows[0].circuit.as_str()));
        let disp = sga.snapshot_dispatchers();
        assert_eq!((disp[0].name.as_str(), disp[0].accept), ("D000", true));
        sga.common_enqueued();
        assert_eq!(sga.snapshot_queues()[0].queued, 1);
        sga.common_dequeued(Duration::from_millis(250));
        let q = sga.snapshot_queues();
        assert_eq!((q[0].queued, q[0].wait, q[0].totalq), (0, 25, 1));
        assert_eq!(
            (q[1].kind, q[1].paddr.as_str()),
            ("DISPATCHER", d.addr().as_str())
        );
        drop(circuits);
        assert!(sga.snapshot_circuits().is_empty());
        assert_eq!(sga.shared_server_monitor().maximum_connections, 4);
        sga.unlink().unwrap();
    }
}
