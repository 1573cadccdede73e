//! The DRCP part of the SGA: the pool's status and parameters, which any server process
//! changes through `DBMS_CONNECTION_POOL` and the instance's connection monitor (CMON)
//! follows, and the broker's counters behind V$CPOOL_STATS and V$CPOOL_CC_STATS. The
//! broker counts waits, the pooled servers count the requests they serve; the class table is
//! claimed in order (compare-and-swap) and never freed while the instance runs (it has a
//! fixed size: classes beyond it count in the pool's totals only).

use std::sync::atomic::Ordering;
use std::time::Duration;

use engine::rows::{CpoolClassRow, CpoolConnRow, CpoolInfoRow, CpoolStatsRow};

use super::layout::{CP_CLASSES, CpoolCounters};
use super::now_ms;
use super::{Sga, os};
use crate::pooled::params::{DEFAULT_POOL, PoolParams, PoolState, PoolStatus};

/// Something the broker counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpoolEvent {
    /// A request for a pooled server was served: the session was reused (hit) or not.
    Request {
        /// Reused.
        hit: bool,
    },
    /// A request waited this long in the broker for a free server.
    Wait(Duration),
    /// A pooled server's session ended from outside (killed) or was dropped.
    Purged,
    /// A client logged in through the pool.
    Authentication,
    /// A client lost its server after MAX_THINK_TIME without a call.
    ThinkTimeout,
}

fn count(c: &CpoolCounters, ev: CpoolEvent) {
    let add = |a: &std::sync::atomic::AtomicU64, n: u64| {
        a.fetch_add(n, Ordering::Relaxed);
    };
    match ev {
        CpoolEvent::Request { hit } => {
            add(&c.requests, 1);
            add(if hit { &c.hits } else { &c.misses }, 1);
        }
        CpoolEvent::Wait(d) => {
            add(&c.waits, 1);
            add(&c.wait_ms, u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        }
        CpoolEvent::Purged => add(&c.purged, 1),
        CpoolEvent::Authentication => add(&c.authentications, 1),
        CpoolEvent::ThinkTimeout => add(&c.think_timeouts, 1),
    }
}

fn load(c: &CpoolCounters) -> [u64; 8] {
    [
        &c.requests,
        &c.hits,
        &c.misses,
        &c.waits,
        &c.wait_ms,
        &c.purged,
        &c.authentications,
        &c.think_timeouts,
    ]
    .map(|a| a.load(Ordering::Relaxed))
}

impl Sga {
    /// The pool's status and parameters as the instance has them now.
    pub fn cpool_state(&self) -> PoolState {
        let cp = &self.header().cp;
        let params = PoolParams::from_values(std::array::from_fn(|i| {
            cp.params[i].load(Ordering::Acquire)
        }));
        PoolState {
            status: if cp.status.load(Ordering::Acquire) == 1 {
                PoolStatus::Active
            } else {
                PoolStatus::Inactive
            },
            params,
        }
    }

    /// Stores the pool's status and parameters and wakes CMON.
    pub fn set_cpool_state(&self, state: &PoolState) {
        let cp = &self.header().cp;
        for (word, v) in cp.params.iter().zip(state.params.values()) {
            word.store(v, Ordering::Release);
        }
        cp.status.store(
            u32::from(state.status == PoolStatus::Active),
            Ordering::Release,
        );
        cp.seq.fetch_add(1, Ordering::AcqRel);
        os::futex_wake_all(&cp.seq);
    }

    /// The change counter CMON remembers.
    pub fn cpool_seq(&self) -> u32 {
        self.header().cp.seq.load(Ordering::Acquire)
    }

    /// Sleeps while the change counter is `seen`, at most `timeout`.
    pub fn wait_cpool_change(&self, seen: u32, timeout: Duration) -> u32 {
        let cp = &self.header().cp;
        if cp.seq.load(Ordering::Acquire) == seen {
            os::futex_wait(&cp.seq, seen, timeout);
        }
        cp.seq.load(Ordering::Acquire)
    }

    /// The pid of the process the brokers run in and how many run (0, 0 when none).
    pub fn set_cpool_broker(&self, pid: i32, brokers: u32) {
        let cp = &self.header().cp;
        cp.brokers.store(brokers, Ordering::Release);
        cp.broker_pid.store(pid, Ordering::Release);
    }

    /// The client connections broker `index` holds (its handler's load for lreg).
    pub fn set_cpool_broker_held(&self, index: usize, held: u32) {
        if let Some(h) = self.header().cp.broker_held.get(index) {
            h.store(held, Ordering::Relaxed);
        }
    }

    /// The pool's current numbers: pooled servers and busy ones (the clients each broker
    /// holds are [`Self::set_cpool_broker_held`]).
    pub fn set_cpool_load(&self, open: u32, busy: u32) {
        let cp = &self.header().cp;
        cp.open_servers.store(open, Ordering::Relaxed);
        cp.busy_servers.store(busy, Ordering::Relaxed);
        cp.historic_max.fetch_max(open, Ordering::Relaxed);
    }

    /// Counts `ev` for the pool and, when given, for class `USER.CLASS`.
    pub fn cpool_count(&self, class: Option<&str>, ev: CpoolEvent) {
        let cp = &self.header().cp;
        count(&cp.totals, ev);
        let Some(name) = class else { return };
        for c in &cp.classes {
            // 0 free, 2 being named by one process, 1 named. Pooled servers count
            // concurrently: the first to claim a free entry names it.
            if c.used
                .compare_exchange(0, 2, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                c.name.store(name);
                c.used.store(1, Ordering::Release);
                count(&c.counters, ev);
                return;
            }
            while c.used.load(Ordering::Acquire) == 2 {
                std::hint::spin_loop();
            }
            if c.name.load() == name {
                count(&c.counters, ev);
                return;
            }
        }
    }

    /// V$CPOOL_STATS.
    pub fn snapshot_cpool_stats(&self) -> Vec<CpoolStatsRow> {
        let cp = &self.header().cp;
        let [
            requests,
            hits,
            misses,
            waits,
            wait_ms,
            purged,
            auths,
            timeouts,
        ] = load(&cp.totals);
        vec![CpoolStatsRow {
            pool_name: DEFAULT_POOL.to_string(),
            num_open_servers: cp.open_servers.load(Ordering::Relaxed),
            num_busy_servers: cp.busy_servers.load(Ordering::Relaxed),
            num_auth_servers: 0,
            num_requests: requests,
            num_hits: hits,
            num_misses: misses,
            num_waits: waits,
            wait_time: wait_ms,
            client_req_timeouts: timeouts,
            num_authentications: auths,
            num_purged: purged,
            historic_max: cp.historic_max.load(Ordering::Relaxed),
        }]
    }

    /// V$CPOOL_CC_STATS.
    pub fn snapshot_cpool_classes(&self) -> Vec<CpoolClassRow> {
        let cp = &self.header().cp;
        cp.classes
            .iter()
            .take(CP_CLASSES)
            .take_while(|c| c.used.load(Ordering::Acquire) == 1)
            .map(|c| {
                let [requests, hits, misses, waits, wait_ms, _, auths, timeouts] =
                    load(&c.counters);
                CpoolClassRow {
                    cclass_name: c.name.load(),
                    num_requests: requests,
                    num_hits: hits,
                    num_misses: misses,
                    num_waits: waits,
                    wait_time: wait_ms,
                    client_req_timeouts: timeouts,
                    num_authentications: auths,
                }
            })
            .collect()
    }

    /// DBA_CPOOL_INFO.
    pub fn snapshot_cpool_info(&self) -> Vec<CpoolInfoRow> {
        let st = self.cpool_state();
        let p = st.params;
        vec![CpoolInfoRow {
            connection_pool: DEFAULT_POOL.to_string(),
            status: match st.status {
                PoolStatus::Active => "ACTIVE",
                PoolStatus::Inactive => "INACTIVE",
            }
            .to_string(),
            minsize: p.minsize,
            maxsize: p.maxsize,
            incrsize: p.incrsize,
            session_cached_cursors: p.session_cached_cursors,
            inactivity_timeout: p.inactivity_timeout,
            max_think_time: p.max_think_time,
            max_use_session: p.max_use_session,
            max_lifetime_session: p.max_lifetime_session,
            num_cbrok: p.num_cbrok,
            maxconn_cbrok: p.maxconn_cbrok,
        }]
    }
}

impl Sga {
    /// lreg: the listener acknowledged a registration with this broker pid (0: none).
    pub fn set_cpool_registered(&self, pid: i32) {
        self.header()
            .cp
            .registered_broker
            .store(pid, Ordering::Release);
    }

    /// The broker pid the listener knows of (0: none).
    pub fn cpool_registered(&self) -> i32 {
        self.header().cp.registered_broker.load(Ordering::Acquire)
    }

    /// The brokers as lreg registers them: the pid they run in (0 = none) and the client
    /// connections each holds (N000 first).
    pub fn cpool_broker(&self) -> (i32, Vec<u32>) {
        let cp = &self.header().cp;
        let pid = cp.broker_pid.load(Ordering::Acquire);
        let n = (cp.brokers.load(Ordering::Acquire) as usize).min(cp.broker_held.len());
        let held = cp.broker_held[..n]
            .iter()
            .map(|h| h.load(Ordering::Relaxed))
            .collect();
        (pid, held)
    }
}

/// CONNECTION_STATUS of a broker's client connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnStatus {
    /// Handed over by the listener, with a server for its login.
    Connecting = 0,
    /// A pooled server is mapped to it.
    Active = 1,
    /// Waiting for a pooled server.
    Waiting = 2,
    /// Held by the broker, no server, no request.
    Idle = 3,
    /// Logged out, its close expected.
    Closing = 4,
}

impl ConnStatus {
    fn name(code: u32) -> &'static str {
        match code {
            0 => "CONNECTING",
            1 => "ACTIVE",
            2 => "WAITING",
            3 => "IDLE",
            4 => "CLOSING",
            _ => "NONE",
        }
    }
}

/// Client connections V$CPOOL_CONN_INFO can show.
pub const CONN_ROWS: usize = super::layout::CP_CONNS;

/// What the broker publishes of one client connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnInfo {
    /// The broker's number for it.
    pub id: u64,
    /// Which broker holds it (N000 = 0, ...).
    pub broker: u32,
    /// Status.
    pub status: ConnStatus,
    /// Since when (Unix ms).
    pub since_ms: u64,
    /// User, class, purity and the client's identity, once it has logged in.
    pub user: Option<String>,
    /// Connection class as the client named it.
    pub cclass: String,
    /// Purity code (0 none, 1 NEW, 2 SELF).
    pub purity: u32,
    /// Service.
    pub service: String,
    /// Client process id.
    pub process: String,
    /// Client program.
    pub program: String,
    /// Client machine.
    pub machine: String,
    /// Client terminal.
    pub terminal: String,
}

/// Unix time in milliseconds, for [`ConnInfo::since_ms`].
pub fn unix_ms() -> u64 {
    now_ms()
}

impl Sga {
    /// Broker `index`'s V$PROCESS.ADDR (CMON_ADDR of the connections it holds).
    pub fn set_cpool_broker_addr(&self, index: usize, addr: &str) {
        if let Some(a) = self.header().cp.broker_addrs.get(index) {
            a.store(addr);
        }
    }

    /// Rewrites V$CPOOL_CONN_INFO from the broker's connections (the first ones that fit).
    pub fn publish_cpool_conns(&self, conns: &[ConnInfo]) {
        let cp = &self.header().cp;
        for (i, slot) in cp.conns.iter().enumerate() {
            let c = conns.get(i);
            let status = c.map_or(0, |c| c.status as u32 + 1);
            let unchanged = slot.status.load(Ordering::Relaxed) == status
                && c.is_none_or(|c| {
                    slot.id.load(Ordering::Relaxed) == c.id
                        && slot.since_ms.load(Ordering::Relaxed) == c.since_ms
                });
            if unchanged {
                if c.is_none() {
                    break;
                }
                continue;
            }
            slot.seq.fetch_add(1, Ordering::AcqRel);
            slot.status.store(status, Ordering::Relaxed);
            if let Some(c) = c {
                slot.id.store(c.id, Ordering::Relaxed);
                slot.broker.store(c.broker, Ordering::Relaxed);
                slot.since_ms.store(c.since_ms, Ordering::Relaxed);
                slot.purity.store(c.purity, Ordering::Relaxed);
                slot.username.store(c.user.as_deref().unwrap_or(""));
                slot.cclass.store(&c.cclass);
                slot.service.store(&c.service);
                slot.process.store(&c.process);
                slot.program.store(&c.program);
                slot.machine.store(&c.machine);
                slot.terminal.store(&c.terminal);
            }
            slot.seq.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// V$CPOOL_CONN_INFO.
    pub fn snapshot_cpool_conns(&self) -> Vec<CpoolConnRow> {
        let cp = &self.header().cp;
        let now = now_ms();
        let mut out = Vec::new();
        for slot in &cp.conns {
            // A row rewritten while it is read is read again (a few tries, then skipped).
            for _ in 0..8 {
                let before = slot.seq.load(Ordering::Acquire);
                if before % 2 == 1 {
                    std::hint::spin_loop();
                    continue;
                }
                let status = slot.status.load(Ordering::Relaxed);
                if status == 0 {
                    break;
                }
                let some = |s: String| Some(s).filter(|s| !s.is_empty());
                let user = some(slot.username.load());
                let cclass = slot.cclass.load();
                let row = CpoolConnRow {
                    cmon_addr: cp
                        .broker_addrs
                        .get(slot.broker.load(Ordering::Relaxed) as usize)
                        .map(|a| a.load())
                        .unwrap_or_default(),
                    connection_addr: format!(
                        "{:016X}",
                        0xC000_0000_u64 + slot.id.load(Ordering::Relaxed)
                    ),
                    cclass_name: user.as_ref().map(|u| format!("{u}.{cclass}")),
                    username: user,
                    purity: match slot.purity.load(Ordering::Relaxed) {
                        1 => Some("NEW".to_string()),
                        2 => Some("SELF".to_string()),
                        _ => None,
                    },
                    service: slot.service.load(),
                    process_id: some(slot.process.load()),
                    program: some(slot.program.load()),
                    machine: some(slot.machine.load()),
                    terminal: some(slot.terminal.load()),
                    connection_status: ConnStatus::name(status - 1).to_string(),
                    curstatus_time: now.saturating_sub(slot.since_ms.load(Ordering::Relaxed)),
                };
                if slot.seq.load(Ordering::Acquire) == before {
                    out.push(row);
                    break;
                }
            }
        }
        out
    }
}
