//! The byte layout of the SGA segment: `#[repr(C)]` structs made only of atomics, so that
//! every process mapping the segment reads and writes it without locks and without data
//! races. An all-zero segment (what `ftruncate` gives) is a valid, empty SGA.
//!
//! Strings live in [`FixedStr`] — a fixed number of `AtomicU64` words holding UTF-8 bytes —
//! because a plain `[u8; N]` written by one process while another reads it would be a data
//! race. Consistency of a whole slot is guarded seqlock-style by its `tag` word (serial bumped
//! on every claim, plus the slot state).

use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};

/// `b"ORASGA07"` read as a little-endian integer: written last at creation, checked at attach.
pub(crate) const MAGIC: u64 = u64::from_le_bytes(*b"ORASGA07");
/// Bumped whenever a struct below changes shape.
pub(crate) const LAYOUT_VERSION: u32 = 11;

/// Slot life cycle: the low 32 bits of a slot's `tag` word (the high 32 bits are the serial).
pub(crate) const SLOT_FREE: u32 = 0;
/// Claimed by a writer that is still filling in the fields; readers skip it.
pub(crate) const SLOT_CLAIMED: u32 = 1;
/// Filled in and visible.
pub(crate) const SLOT_USED: u32 = 2;

/// Packs a serial and a slot state into one `tag` word, so that claiming (bumping the
/// serial) and freeing (only the incarnation one means) are single compare-and-swaps.
pub(crate) const fn tag(serial: u32, state: u32) -> u64 {
    ((serial as u64) << 32) | state as u64
}

/// The serial half of a `tag`.
pub(crate) const fn tag_serial(tag: u64) -> u32 {
    (tag >> 32) as u32
}

/// The state half of a `tag`.
pub(crate) const fn tag_state(tag: u64) -> u32 {
    tag as u32
}

/// Claims a free slot by its tag: FREE → CLAIMED with the SERIAL# bumped (never 0). `None`
/// when the slot is in use or another process claimed it first.
pub(crate) fn try_claim(slot_tag: &std::sync::atomic::AtomicU64) -> Option<u32> {
    use std::sync::atomic::Ordering;
    let t = slot_tag.load(Ordering::Acquire);
    if tag_state(t) != SLOT_FREE {
        return None;
    }
    let serial = tag_serial(t).wrapping_add(1).max(1);
    slot_tag
        .compare_exchange(
            t,
            tag(serial, SLOT_CLAIMED),
            Ordering::AcqRel,
            Ordering::Relaxed,
        )
        .ok()
        .map(|_| serial)
}

/// A string of at most `W * 8` bytes stored in atomic words (zero-padded UTF-8).
#[repr(C)]
pub(crate) struct FixedStr<const W: usize> {
    words: [AtomicU64; W],
}

impl<const W: usize> FixedStr<W> {
    /// Capacity in bytes.
    pub(crate) const CAPACITY: usize = W * 8;

    /// Stores `s`, truncated to the capacity at a character boundary.
    pub(crate) fn store(&self, s: &str) {
        let mut end = s.len().min(Self::CAPACITY);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        let bytes = &s.as_bytes()[..end];
        for (i, word) in self.words.iter().enumerate() {
            let mut w = [0u8; 8];
            for (j, b) in w.iter_mut().enumerate() {
                if let Some(v) = bytes.get(i * 8 + j) {
                    *b = *v;
                }
            }
            word.store(u64::from_le_bytes(w), Ordering::Relaxed);
        }
    }

    /// Loads the string (up to the first NUL byte).
    pub(crate) fn load(&self) -> String {
        let mut out = Vec::with_capacity(Self::CAPACITY);
        'outer: for word in &self.words {
            for b in word.load(Ordering::Relaxed).to_le_bytes() {
                if b == 0 {
                    break 'outer;
                }
                out.push(b);
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// Instance-wide state at offset 0 of the segment.
#[repr(C)]
pub(crate) struct Header {
    pub(crate) magic: AtomicU64,
    pub(crate) layout_version: AtomicU32,
    pub(crate) processes: AtomicU32,
    pub(crate) sessions: AtomicU32,
    pub(crate) instance_pid: AtomicI32,
    pub(crate) total_size: AtomicU64,
    pub(crate) instance_start_ticks: AtomicU64,
    /// [`super::InstanceState`] as a number; also a futex word.
    pub(crate) instance_state: AtomicU32,
    /// [`super::ShutdownMode`] requested by `oradb shutdown` (0 = none); a futex word the
    /// instance's main thread sleeps on.
    pub(crate) shutdown_request: AtomicU32,
    /// Bumped by `ALTER SYSTEM REGISTER`; a futex word lreg sleeps on.
    pub(crate) register_request: AtomicU32,
    /// 1 while logins are restricted (`STARTUP RESTRICT`).
    pub(crate) restricted: AtomicU32,
    pub(crate) startup_time: AtomicU64,
    /// Dead processes pmon has cleaned up.
    pub(crate) pmon_cleanups: AtomicU64,
    pub(crate) logons_cumulative: AtomicU64,
    /// The cumulative statistics of sessions that have ended (V$SYSSTAT is these plus the
    /// live sessions' own), by STATISTIC#.
    pub(crate) ended_stats: [AtomicU64; STATS],
    /// Counts of refused logins because of the limits (ORA-00020 / ORA-00018).
    pub(crate) processes_refused: AtomicU64,
    pub(crate) sessions_refused: AtomicU64,
    /// lreg's view: 1 while registered with the listener, 0 otherwise.
    pub(crate) lreg_registered: AtomicU32,
    /// Unix time of the listener's last acknowledgement.
    pub(crate) lreg_last_ack: AtomicU64,
    /// Registrations sent so far.
    pub(crate) lreg_updates: AtomicU64,
    pub(crate) sid: FixedStr<4>,
    pub(crate) instance_name: FixedStr<4>,
    pub(crate) db_name: FixedStr<2>,
    pub(crate) host_name: FixedStr<8>,
    pub(crate) version: FixedStr<4>,
    /// The path of the instance's alert log, so that every process and thread that runs
    /// `ALTER SYSTEM KILL SESSION` writes its entry there (a server forked by a listener of
    /// another ORACLE_HOME included). Room for PATH_MAX bytes; empty = not published.
    pub(crate) alert_log: FixedStr<512>,
    /// Shared server (see `super::shared`).
    pub(crate) ss: SharedHeader,
    /// The connection pool, DRCP (see `super::cpool`).
    pub(crate) cp: CpoolHeader,
}

/// Statistics a session slot keeps (the engine's V$STATNAME, by STATISTIC#).
pub(crate) const STATS: usize = engine::rows::STATISTICS.len();

/// Number of pool parameters kept in [`CpoolHeader::params`].
pub(crate) const CP_PARAMS: usize = 10;
/// Connection classes V$CPOOL_CC_STATS keeps (later ones count in the pool totals only).
pub(crate) const CP_CLASSES: usize = 32;

/// The instance-wide DRCP state: the pool's status and parameters (so `DBMS_CONNECTION_POOL`
/// in any server process reaches the instance's connection monitor) and the broker's
/// counters (V$CPOOL_STATS, V$CPOOL_CC_STATS).
#[repr(C)]
pub(crate) struct CpoolHeader {
    /// Bumped by every `DBMS_CONNECTION_POOL` change; a futex word CMON sleeps on.
    pub(crate) seq: AtomicU32,
    /// 1 = ACTIVE (started), 0 = INACTIVE.
    pub(crate) status: AtomicU32,
    /// Parameters in `crate::pooled::params::PARAM_NAMES` order.
    pub(crate) params: [AtomicU32; CP_PARAMS],
    /// Pid of the process the broker runs in (0 = no broker).
    pub(crate) broker_pid: AtomicI32,
    /// The broker pid of the last registration the listener acknowledged (0 = none).
    pub(crate) registered_broker: AtomicI32,
    pub(crate) open_servers: AtomicU32,
    pub(crate) busy_servers: AtomicU32,
    pub(crate) historic_max: AtomicU32,
    /// Brokers running (NUM_CBROK as the pool was started; 0 = none).
    pub(crate) brokers: AtomicU32,
    /// Client connections each broker holds (what lreg reports as its handler's load).
    pub(crate) broker_held: [AtomicU32; CP_BROKERS],
    pub(crate) totals: CpoolCounters,
    pub(crate) classes: [CpoolClass; CP_CLASSES],
    /// V$PROCESS.ADDR of each broker (CMON_ADDR).
    pub(crate) broker_addrs: [FixedStr<2>; CP_BROKERS],
    /// The broker's client connections (V$CPOOL_CONN_INFO), the first [`CP_CONNS`].
    pub(crate) conns: [CpoolConn; CP_CONNS],
}

/// Most connection brokers a pool runs (NUM_CBROK's upper bound).
pub(crate) const CP_BROKERS: usize = crate::pooled::params::MAX_CBROK as usize;

/// Client connections V$CPOOL_CONN_INFO shows (the broker holds up to MAXCONN_CBROK; the
/// view shows the first of them).
pub(crate) const CP_CONNS: usize = 256;

/// One client connection of the broker; written by the broker thread only, read
/// seqlock-style (`seq` odd while it is rewritten).
#[repr(C)]
pub(crate) struct CpoolConn {
    pub(crate) seq: AtomicU32,
    /// 0 = unused, else `crate::sga::cpool::ConnStatus` + 1.
    pub(crate) status: AtomicU32,
    /// The broker's number for the connection.
    pub(crate) id: AtomicU64,
    /// Which broker holds it (N000 = 0, ...).
    pub(crate) broker: AtomicU32,
    /// When the connection entered its status (Unix ms).
    pub(crate) since_ms: AtomicU64,
    /// Purity code (0 none, 1 NEW, 2 SELF).
    pub(crate) purity: AtomicU32,
    pub(crate) username: FixedStr<4>,
    pub(crate) cclass: FixedStr<8>,
    pub(crate) service: FixedStr<8>,
    pub(crate) process: FixedStr<3>,
    pub(crate) program: FixedStr<8>,
    pub(crate) machine: FixedStr<8>,
    pub(crate) terminal: FixedStr<4>,
}

/// The counters V$CPOOL_STATS and V$CPOOL_CC_STATS share.
#[repr(C)]
pub(crate) struct CpoolCounters {
    pub(crate) requests: AtomicU64,
    pub(crate) hits: AtomicU64,
    pub(crate) misses: AtomicU64,
    pub(crate) waits: AtomicU64,
    /// Milliseconds waited in the broker for a free server.
    pub(crate) wait_ms: AtomicU64,
    pub(crate) purged: AtomicU64,
    pub(crate) authentications: AtomicU64,
    pub(crate) think_timeouts: AtomicU64,
}

/// One connection class (`USER.CLASS`) of V$CPOOL_CC_STATS; written by the broker only.
#[repr(C)]
pub(crate) struct CpoolClass {
    /// 1 once `name` is filled in.
    pub(crate) used: AtomicU32,
    pub(crate) name: FixedStr<16>,
    pub(crate) counters: CpoolCounters,
}

/// Number of shared-server parameters kept in [`SharedHeader::params`].
pub(crate) const SS_PARAMS: usize = 6;

/// The instance-wide shared-server state: its parameters (so a dedicated server's
/// `ALTER SYSTEM SET` reaches the instance), the common queue and the monitor counters.
#[repr(C)]
pub(crate) struct SharedHeader {
    /// Bumped by every `ALTER SYSTEM SET` of a shared-server parameter; a futex word the
    /// instance's shared-server manager sleeps on.
    pub(crate) param_seq: AtomicU32,
    /// Integer parameters by `super::shared::Param` index; `u32::MAX` = not set.
    pub(crate) params: [AtomicU32; SS_PARAMS],
    /// Bit i: parameter i was given in the parameter file (ISDEFAULT = FALSE).
    pub(crate) params_set: AtomicU32,
    /// Bit i: parameter i was changed by ALTER SYSTEM (ISMODIFIED = SYSTEM_MOD).
    pub(crate) params_modified: AtomicU32,
    /// DISPATCHERS as the instance runs it (entries joined with `, `).
    pub(crate) dispatchers: FixedStr<64>,
    /// Bumped whenever `dispatchers` is rewritten (readers retry around it).
    pub(crate) dispatchers_seq: AtomicU32,
    pub(crate) max_connections: AtomicU32,
    /// Circuit slots not free: taken before a slot is claimed (so CIRCUITS holds however
    /// many dispatchers claim at once) and given back when one is freed.
    pub(crate) circuits_used: AtomicU32,
    pub(crate) max_sessions: AtomicU32,
    pub(crate) servers_started: AtomicU64,
    pub(crate) servers_terminated: AtomicU64,
    pub(crate) servers_highwater: AtomicU32,
    pub(crate) common_queued: AtomicU32,
    pub(crate) common_wait_cs: AtomicU64,
    pub(crate) common_totalq: AtomicU64,
    /// Bumped by KILL/DISCONNECT SESSION: dispatchers look at their circuits' sessions.
    pub(crate) kill_seq: AtomicU32,
}

/// One row of the process table (V$PROCESS).
#[repr(C)]
pub(crate) struct ProcessSlot {
    /// Serial (V$PROCESS.SERIAL#, bumped on every claim) and state; see [`tag`].
    pub(crate) tag: AtomicU64,
    pub(crate) spid: AtomicI32,
    /// [`super::ProcessKind`] as a number.
    pub(crate) kind: AtomicU32,
    /// `starttime` of `/proc/<spid>/stat`, so pmon is not fooled by pid reuse (0 = unknown).
    pub(crate) start_ticks: AtomicU64,
    pub(crate) created: AtomicU64,
    /// The sessions this incarnation owns: its serial in the high 32 bits (so a count
    /// meant for an earlier incarnation never lands on a later one), their number in the
    /// low 32. Freeing a process looks through the session table only when it is not 0.
    pub(crate) sessions_owned: AtomicU64,
    pub(crate) pname: FixedStr<1>,
    pub(crate) program: FixedStr<8>,
    pub(crate) username: FixedStr<4>,
    pub(crate) terminal: FixedStr<2>,
    /// What a dispatcher or shared server shows (zero for other processes).
    pub(crate) ss: SharedProcess,
}

/// A dispatcher's or shared server's row of V$DISPATCHER / V$SHARED_SERVER, kept in its
/// process slot.
#[repr(C)]
pub(crate) struct SharedProcess {
    /// STATUS as a `super::shared` code.
    pub(crate) status: AtomicU32,
    pub(crate) messages: AtomicU64,
    pub(crate) bytes: AtomicU64,
    pub(crate) breaks: AtomicU64,
    /// Dispatcher: circuits now (OWNED). Shared server: index + 1 of the circuit it serves.
    pub(crate) circuits: AtomicU32,
    /// Dispatcher: circuits ever (CREATED). Shared server: requests taken (REQUESTS).
    pub(crate) created: AtomicU64,
    /// Accumulated idle and busy time (milliseconds) before `since_ms`.
    pub(crate) idle_ms: AtomicU64,
    pub(crate) busy_ms: AtomicU64,
    /// Unix milliseconds when the current idle or busy stretch began.
    pub(crate) since_ms: AtomicU64,
    /// 1 while busy.
    pub(crate) busy: AtomicU32,
    pub(crate) conf_indx: AtomicU32,
    /// 1 while the dispatcher accepts new connections.
    pub(crate) accept: AtomicU32,
    /// CONNECTIONS limit of a dispatcher.
    pub(crate) connections: AtomicU32,
    /// The last listener error (V$DISPATCHER.LISTENER).
    pub(crate) listener: AtomicU32,
    /// The dispatcher's response queue (V$QUEUE, TYPE DISPATCHER).
    pub(crate) q_queued: AtomicU32,
    pub(crate) q_wait_cs: AtomicU64,
    pub(crate) q_totalq: AtomicU64,
    /// NETWORK of a dispatcher.
    pub(crate) network: FixedStr<16>,
}

impl SharedProcess {
    /// Clears the row for a new incarnation of the process slot.
    pub(crate) fn reset(&self) {
        for w in [
            &self.status,
            &self.circuits,
            &self.busy,
            &self.conf_indx,
            &self.accept,
            &self.connections,
            &self.listener,
            &self.q_queued,
        ] {
            w.store(0, Ordering::Relaxed);
        }
        for w in [
            &self.messages,
            &self.bytes,
            &self.breaks,
            &self.created,
            &self.idle_ms,
            &self.busy_ms,
            &self.since_ms,
            &self.q_wait_cs,
            &self.q_totalq,
        ] {
            w.store(0, Ordering::Relaxed);
        }
        self.network.store("");
    }
}

/// One virtual circuit (V$CIRCUIT).
#[repr(C)]
pub(crate) struct CircuitSlot {
    /// Serial and state; see [`tag`].
    pub(crate) tag: AtomicU64,
    /// Index + 1 of its dispatcher's process slot.
    pub(crate) dispatcher: AtomicU32,
    /// Index + 1 of the shared server serving it now (0 = none).
    pub(crate) server: AtomicU32,
    /// Index + 1 of its session's slot (0 before login).
    pub(crate) session: AtomicU32,
    /// STATUS as a `super::shared` code.
    pub(crate) status: AtomicU32,
    /// QUEUE as a `super::shared` code.
    pub(crate) queue: AtomicU32,
    pub(crate) messages: AtomicU64,
    pub(crate) bytes: AtomicU64,
    pub(crate) breaks: AtomicU64,
}

/// One row of the session table (V$SESSION).
#[repr(C)]
pub(crate) struct SessionSlot {
    /// Serial (V$SESSION.SERIAL#, bumped on every claim) and state; see [`tag`].
    pub(crate) tag: AtomicU64,
    /// Index + 1 of the owning process slot (0 = none).
    pub(crate) paddr: AtomicU32,
    /// SERIAL# of the owning process incarnation (a late cleanup of an old incarnation must
    /// not touch the sessions of the next one).
    pub(crate) pserial: AtomicU32,
    /// [`super::SessionStatus`] (ACTIVE / INACTIVE) as a number.
    pub(crate) status: AtomicU32,
    /// [`super::KillRequest`] as a number (0 = none); a futex word the owner sleeps on during
    /// long calls so that a kill reaches it at once.
    pub(crate) kill: AtomicU32,
    /// OS pid of the owning process (copied from the process slot for signalling).
    pub(crate) owner_pid: AtomicI32,
    /// [`super::SessionType`] as a number.
    pub(crate) session_type: AtomicU32,
    /// [`super::ServerKind`] as a number.
    pub(crate) server: AtomicU32,
    pub(crate) port: AtomicU32,
    pub(crate) user_id: AtomicU32,
    pub(crate) audsid: AtomicU64,
    pub(crate) logon_time: AtomicU64,
    /// Unix time of the last ACTIVE/INACTIVE transition (LAST_CALL_ET base).
    pub(crate) last_call: AtomicU64,
    pub(crate) username: FixedStr<4>,
    pub(crate) osuser: FixedStr<4>,
    pub(crate) machine: FixedStr<8>,
    pub(crate) terminal: FixedStr<4>,
    pub(crate) program: FixedStr<8>,
    pub(crate) process: FixedStr<3>,
    pub(crate) service: FixedStr<8>,
    pub(crate) module: FixedStr<6>,
    /// Index + 1 of the shared server running the session's call now (V$SESSION.PADDR of
    /// a shared session during a call); 0 otherwise.
    pub(crate) call_paddr: AtomicU32,
    /// The session's statistics by STATISTIC# (V$SESSTAT), published by the server process
    /// that runs the session's engine after each call.
    pub(crate) stats: [AtomicU64; STATS],
}

/// Rounds `n` up to a multiple of 64 (a cache line), so that slots do not share lines.
pub(crate) const fn align64(n: usize) -> usize {
    n.div_ceil(64) * 64
}

/// Byte offsets of the regions of a segment sized for the given limits: header, processes,
/// sessions, then one circuit slot per session (Oracle's CIRCUITS defaults to SESSIONS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Offsets {
    pub(crate) processes: usize,
    pub(crate) process_stride: usize,
    pub(crate) sessions: usize,
    pub(crate) session_stride: usize,
    pub(crate) circuits: usize,
    pub(crate) circuit_stride: usize,
    pub(crate) total: usize,
}

impl Offsets {
    pub(crate) fn new(processes: u32, sessions: u32) -> Offsets {
        let process_stride = align64(std::mem::size_of::<ProcessSlot>());
        let session_stride = align64(std::mem::size_of::<SessionSlot>());
        let circuit_stride = align64(std::mem::size_of::<CircuitSlot>());
        let p_off = align64(std::mem::size_of::<Header>());
        let s_off = p_off + process_stride * processes as usize;
        let c_off = s_off + session_stride * sessions as usize;
        let total = c_off + circuit_stride * sessions as usize;
        Offsets {
            processes: p_off,
            process_stride,
            sessions: s_off,
            session_stride,
            circuits: c_off,
            circuit_stride,
            total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_str_round_trip_and_truncation() {
        let s: FixedStr<2> = FixedStr {
            words: [AtomicU64::new(0), AtomicU64::new(0)],
        };
        s.store("SCOTT");
        assert_eq!(s.load(), "SCOTT");
        s.store("exactly16bytes!!");
        assert_eq!(s.load(), "exactly16bytes!!");
        s.store("this is longer than sixteen bytes");
        assert_eq!(s.load(), "this is longer t");
        // A multi-byte character straddling the limit is dropped whole.
        s.store("123456789012345é");
        assert_eq!(s.load(), "123456789012345");
        s.store("");
        assert_eq!(s.load(), "");
    }

    #[test]
    fn offsets_are_aligned_and_grow_with_limits() {
        let a = Offsets::new(10, 37);
        assert_eq!(a.processes % 64, 0);
        assert_eq!(a.sessions % 64, 0);
        assert_eq!(a.circuits, a.sessions + 37 * a.session_stride);
        assert_eq!(a.total, a.circuits + 37 * a.circuit_stride);
        let b = Offsets::new(11, 37);
        assert_eq!(b.total - a.total, a.process_stride);
    }
}
