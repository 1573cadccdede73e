//! The service directory: every service the listener can route to, merged from the static
//! `SID_LIST_<NAME>` entries and the dynamic registrations an instance sends (kept by
//! `registration.rs`, which hands its current table to [`ServiceDirectory::replace_dynamic`]),
//! plus the per-handler `established`/`refused` counters `lsnrctl services` prints.
//!
//! [`ServiceDirectory::route`] is the listener's decision for one CONNECT, with Oracle's
//! codes: ping → answer; no SERVICE_NAME/SID and no DEFAULT_SERVICE → 12504; unknown service
//! → 12514; unknown SID → 12505; unknown instance → 12521; all instances blocked → 12528 /
//! restricted → 12526; no handler of the requested server type → 12520; handlers present but
//! all blocked → 12519; none with a usable protocol stack → 12516.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::settings::StaticSid;
use crate::tnserr::TnsCode;

/// What the client asked for, taken from its `CONNECT_DATA`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectRequest {
    /// `SERVICE_NAME`.
    pub service_name: Option<String>,
    /// `SID`.
    pub sid: Option<String>,
    /// `INSTANCE_NAME`.
    pub instance_name: Option<String>,
    /// `SERVER` (dedicated, shared, pooled).
    pub server: Option<String>,
    /// `COMMAND` (ping, status, ...).
    pub command: Option<String>,
    /// `(UR=A)`: the client may reach an instance that is BLOCKED or RESTRICTED (an
    /// administrator starting up or working in restricted mode); the instance decides.
    pub use_restricted: bool,
}

/// Instance status as lsnrctl prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InstanceStatus {
    /// Dynamically registered and open.
    Ready,
    /// Dynamically registered, not accepting (nomount/mount).
    Blocked,
    /// Dynamically registered in restricted mode.
    Restricted,
    /// Static entry: the listener cannot know.
    Unknown,
}

impl InstanceStatus {
    /// The word lsnrctl prints.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ready => "READY",
            Self::Blocked => "BLOCKED",
            Self::Restricted => "RESTRICTED",
            Self::Unknown => "UNKNOWN",
        }
    }
}

/// What kind of server a handler gives the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum HandlerKind {
    /// A dedicated server forked by the spawner ("LOCAL SERVER").
    Dedicated,
    /// A shared-server dispatcher listening at `address`.
    Dispatcher {
        /// `(ADDRESS=(PROTOCOL=tcp)(HOST=..)(PORT=..))` of the dispatcher.
        address: String,
        /// Machine name shown by lsnrctl.
        machine: String,
        /// Dispatcher process id.
        pid: u32,
        /// Local `SOCK_SEQPACKET` socket taking direct hand-offs, if the dispatcher has one.
        #[serde(default)]
        handoff_path: Option<String>,
    },
    /// The DRCP connection broker (`(SERVER=POOLED)` connections).
    Pooled {
        /// Machine name shown by lsnrctl.
        machine: String,
        /// Pid of the process the broker lives in.
        pid: u32,
        /// Its local `SOCK_SEQPACKET` hand-off socket.
        handoff_path: String,
    },
}

/// One service handler of one instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handler {
    /// `DEDICATED`, `D000`, ...
    pub name: String,
    /// Kind.
    pub kind: HandlerKind,
    /// `state:blocked` (dynamic handlers only).
    pub blocked: bool,
    /// Current load (dispatchers).
    pub current: Option<u32>,
    /// Maximum load (dispatchers).
    pub max: Option<u32>,
}

/// One instance offering one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceEntry {
    /// Service name.
    pub service: String,
    /// Instance name (SID).
    pub instance: String,
    /// Status.
    pub status: InstanceStatus,
    /// `ORACLE_HOME` of the instance, when known.
    pub oracle_home: Option<String>,
    /// `GLOBAL_DBNAME` of a static entry (None for dynamic registrations).
    #[serde(default)]
    pub global_dbname: Option<String>,
    /// ORACLE_SID of the dedicated servers, when it differs from the instance name.
    #[serde(default)]
    pub sid: Option<String>,
    /// Handlers.
    pub handlers: Vec<Handler>,
    /// Pid of the registered instance (0 for a static entry).
    #[serde(default)]
    pub pid: i32,
}

/// Identity of a handler for counting: which handler of which instance, and which
/// incarnation of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HandlerKey {
    id: CounterId,
    incarnation: Incarnation,
}

/// Which handler a set of counters belongs to: a registered handler serves every service of
/// its instance and has one set; a static SID_DESC is its own handler.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CounterId {
    service: String,
    instance: String,
    handler: String,
}

/// The incarnation of a registered handler: the pid it runs in and, for a dispatcher, its
/// address. Only a change of these (a restarted instance, a new dispatcher under an old name)
/// starts its counters again; a registration that is missing for a while (the instance's
/// registration connection was re-opened, a report that did not list the dispatcher) does
/// not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
struct Incarnation {
    pid: i64,
    address: String,
}

/// `established`/`refused` of one handler.
#[derive(Debug, Clone)]
struct Counter {
    incarnation: Incarnation,
    established: u64,
    refused: u64,
    /// [`ServiceDirectory::generation`] when the handler was last registered.
    seen: u64,
}

/// Counters of handlers not registered right now that are kept (an instance that comes back
/// as the same incarnation continues them); beyond this, those missing longest are dropped.
pub const ABSENT_COUNTERS_KEPT: usize = 256;

/// Why a handler's counters started again (the listener logs it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterReset {
    /// Instance name (lower case).
    pub instance: String,
    /// Handler name.
    pub handler: String,
    /// Why, e.g. `new dispatcher (pid 10 -> 11)`.
    pub reason: String,
}

/// The listener's routing decision for one CONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `(COMMAND=ping)`: answer like Oracle's listener answers tnsping.
    Ping,
    /// Hand the connection to a handler.
    Handoff(Target),
    /// Refuse with an Oracle code; `handler` is charged with the refusal when one applies.
    Refuse {
        /// The code.
        code: TnsCode,
        /// Handler that refused.
        handler: Option<HandlerKey>,
    },
}

/// Where a connection goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Service (or SID) the client named.
    pub service: String,
    /// Instance SID.
    pub instance: String,
    /// `ORACLE_HOME` of the instance.
    pub oracle_home: Option<String>,
    /// `GLOBAL_DBNAME` when the target is a static SID_DESC that names one.
    pub global_dbname: Option<String>,
    /// Handler kind.
    pub kind: HandlerKind,
    /// Counter key.
    pub key: HandlerKey,
    /// Whether the target came from a dynamic registration.
    pub dynamic: bool,
}

impl HandlerKey {
    /// Instance name (lower case).
    pub fn instance(&self) -> &str {
        &self.id.instance
    }

    /// Handler name (upper case).
    pub fn handler(&self) -> &str {
        &self.id.handler
    }
}

impl Counter {
    fn new(incarnation: Incarnation) -> Counter {
        Counter {
            incarnation,
            established: 0,
            refused: 0,
            seen: 0,
        }
    }
}

/// lsnrctl's view of one handler.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandlerView {
    /// The handler.
    pub handler: Handler,
    /// Successful hand-offs.
    pub established: u64,
    /// Refusals.
    pub refused: u64,
    /// Whether to print `state:` (dynamic handlers, and every dedicated handler while the
    /// spawner is down).
    pub dynamic: bool,
}

/// lsnrctl's view of one instance of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceView {
    /// Instance name.
    pub name: String,
    /// Status.
    pub status: InstanceStatus,
    /// Handlers.
    pub handlers: Vec<HandlerView>,
}

/// lsnrctl's view of one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceView {
    /// Service name.
    pub name: String,
    /// Instances.
    pub instances: Vec<InstanceView>,
}

/// Static + dynamic services and their counters.
#[derive(Debug, Default)]
pub struct ServiceDirectory {
    statics: Vec<InstanceEntry>,
    dynamic: Vec<InstanceEntry>,
    counters: HashMap<CounterId, Counter>,
    /// Bumped by every [`ServiceDirectory::replace_dynamic`].
    generation: u64,
    /// The spawner is down: no dedicated server can be started (handlers show
    /// `state:blocked`; a connect that would get one is refused with TNS-12500).
    dedicated_down: bool,
}

fn key_of(e: &InstanceEntry, h: &Handler) -> HandlerKey {
    let dynamic = e.status != InstanceStatus::Unknown;
    HandlerKey {
        id: CounterId {
            service: if dynamic {
                String::new()
            } else {
                e.service.to_ascii_lowercase()
            },
            instance: e.instance.to_ascii_lowercase(),
            handler: h.name.to_ascii_uppercase(),
        },
        incarnation: match (&h.kind, dynamic) {
            (_, false) => Incarnation::default(),
            (HandlerKind::Dispatcher { address, pid, .. }, true) => Incarnation {
                pid: i64::from(*pid),
                address: address.clone(),
            },
            (HandlerKind::Dedicated, true) => Incarnation {
                pid: i64::from(e.pid),
                address: String::new(),
            },
            (HandlerKind::Pooled { pid, .. }, true) => Incarnation {
                pid: i64::from(*pid),
                address: String::new(),
            },
        },
    }
}

/// Why counters of incarnation `old` do not carry over to `new`.
fn reset_reason(dispatcher: bool, old: &Incarnation, new: &Incarnation) -> String {
    let what = if dispatcher {
        "new dispatcher"
    } else {
        "new instance"
    };
    if old.pid != new.pid {
        format!("{what} (pid {} -> {})", old.pid, new.pid)
    } else {
        format!("{what} (address {} -> {})", old.address, new.address)
    }
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl ServiceDirectory {
    /// A directory holding the static `SID_DESC` entries.
    pub fn new(sids: &[StaticSid]) -> Self {
        let mut d = Self::default();
        d.set_static(sids);
        d
    }

    /// Replaces the static entries (reload); counters of handlers that remain are kept.
    pub fn set_static(&mut self, sids: &[StaticSid]) {
        self.statics = sids
            .iter()
            .map(|s| InstanceEntry {
                service: s
                    .global_dbname
                    .clone()
                    .unwrap_or_else(|| s.sid_name.clone()),
                instance: s.sid_name.clone(),
                status: InstanceStatus::Unknown,
                oracle_home: s.oracle_home.clone(),
                global_dbname: s.global_dbname.clone(),
                sid: None,
                pid: 0,
                handlers: vec![Handler {
                    name: "DEDICATED".to_string(),
                    kind: HandlerKind::Dedicated,
                    blocked: false,
                    current: None,
                    max: None,
                }],
            })
            .collect();
    }

    /// Replaces the dynamic registrations with the registration table's current content.
    /// A handler registered as a new incarnation (another pid, or a dispatcher at another
    /// address) starts its counters again, and each such restart is returned with its reason;
    /// a handler missing from this content keeps its counters (at most
    /// [`ABSENT_COUNTERS_KEPT`] of them, the longest missing dropped first).
    pub fn replace_dynamic(&mut self, entries: Vec<InstanceEntry>) -> Vec<CounterReset> {
        self.dynamic = entries;
        self.generation += 1;
        let generation = self.generation;
        let live: Vec<(HandlerKey, bool)> = self
            .all()
            .flat_map(|e| {
                e.handlers.iter().map(move |h| {
                    (
                        key_of(e, h),
                        matches!(h.kind, HandlerKind::Dispatcher { .. }),
                    )
                })
            })
            .collect();
        let mut resets = Vec::new();
        for (key, dispatcher) in live {
            if let Some(c) = self.counters.get_mut(&key.id) {
                if c.incarnation != key.incarnation {
                    resets.push(CounterReset {
                        instance: key.id.instance.clone(),
                        handler: key.id.handler.clone(),
                        reason: reset_reason(dispatcher, &c.incarnation, &key.incarnation),
                    });
                    *c = Counter::new(key.incarnation);
                }
                c.seen = generation;
            }
        }
        let mut absent: Vec<(u64, CounterId)> = self
            .counters
            .iter()
            .filter(|(_, c)| c.seen != generation)
            .map(|(id, c)| (c.seen, id.clone()))
            .collect();
        if absent.len() > ABSENT_COUNTERS_KEPT {
            absent.sort_by_key(|(seen, _)| *seen);
            for (_, id) in absent.drain(..absent.len() - ABSENT_COUNTERS_KEPT) {
                self.counters.remove(&id);
            }
        }
        resets
    }

    /// One more hand-off to `handler` of the registered instance `instance`, counted by the
    /// registration table ([`crate::registration::Table::record_handoff`]) since the dynamic
    /// entries were last replaced: the change replacing them from the table would make, without
    /// the rebuild (which was a fifth of the listener's instructions per connect). As in
    /// [`entries_from_registrations`], the hand-off adds to the load of a dispatcher or broker
    /// (every handler named like the first that matches, as the table counts it under that
    /// name), and a dispatcher that reaches its maximum is blocked.
    pub fn record_handoff(&mut self, instance: &str, handler: &str) {
        for e in self
            .dynamic
            .iter_mut()
            .filter(|e| e.instance.eq_ignore_ascii_case(instance))
        {
            let Some(name) = e
                .handlers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(handler))
                .map(|h| h.name.clone())
            else {
                continue;
            };
            for h in e.handlers.iter_mut().filter(|h| h.name == name) {
                match h.kind {
                    HandlerKind::Dispatcher { .. } => {
                        h.current = h.current.map(|c| c.saturating_add(1));
                        h.blocked |= h.current >= h.max;
                    }
                    HandlerKind::Pooled { .. } => {
                        h.current = h.current.map(|c| c.saturating_add(1));
                    }
                    HandlerKind::Dedicated => {}
                }
            }
        }
    }

    fn all(&self) -> impl Iterator<Item = &InstanceEntry> {
        self.statics.iter().chain(self.dynamic.iter())
    }

    /// Marks dedicated handlers unusable (spawner down) or usable again.
    pub fn set_dedicated_down(&mut self, down: bool) {
        self.dedicated_down = down;
    }

    /// The counters of `key`'s handler, started again if they were another incarnation's.
    fn counter(&mut self, key: &HandlerKey) -> &mut Counter {
        let generation = self.generation;
        let c = self
            .counters
            .entry(key.id.clone())
            .or_insert_with(|| Counter::new(key.incarnation.clone()));
        if c.incarnation != key.incarnation {
            *c = Counter::new(key.incarnation.clone());
        }
        c.seen = generation;
        c
    }

    /// Records a successful hand-off.
    pub fn record_established(&mut self, key: &HandlerKey) {
        self.counter(key).established += 1;
    }

    /// Records a refusal by a handler.
    pub fn record_refused(&mut self, key: &HandlerKey) {
        self.counter(key).refused += 1;
    }

    /// Decides what to do with a CONNECT.
    pub fn route(
        &self,
        req: &ConnectRequest,
        default_service: Option<&str>,
        use_sid_as_service: bool,
    ) -> Route {
        if let Some(cmd) = nonempty(&req.command) {
            let code = if cmd.eq_ignore_ascii_case("ping") {
                return Route::Ping;
            } else {
                TnsCode::NOT_AUTHENTICATED // remote administration is refused, as Oracle does
            };
            return Route::Refuse {
                code,
                handler: None,
            };
        }
        let refuse = |code| Route::Refuse {
            code,
            handler: None,
        };
        let (requested, by_sid) = if let Some(s) = nonempty(&req.service_name) {
            (s.to_string(), false)
        } else if let Some(s) = nonempty(&req.sid) {
            (s.to_string(), !use_sid_as_service)
        } else if let Some(s) = default_service.map(str::trim).filter(|s| !s.is_empty()) {
            (s.to_string(), false)
        } else {
            return refuse(TnsCode::NO_SERVICE_NAME);
        };
        let mut candidates: Vec<&InstanceEntry> = self
            .all()
            .filter(|e| {
                if by_sid {
                    e.instance.eq_ignore_ascii_case(&requested)
                } else {
                    e.service.eq_ignore_ascii_case(&requested)
                }
            })
            .collect();
        if candidates.is_empty() {
            return refuse(if by_sid {
                TnsCode::UNKNOWN_SID
            } else {
                TnsCode::UNKNOWN_SERVICE
            });
        }
        if let Some(inst) = nonempty(&req.instance_name) {
            candidates.retain(|e| e.instance.eq_ignore_ascii_case(inst));
            if candidates.is_empty() {
                return refuse(TnsCode::UNKNOWN_INSTANCE);
            }
        }
        let open: Vec<&InstanceEntry> = candidates
            .iter()
            .copied()
            .filter(|e| {
                req.use_restricted
                    || !matches!(
                        e.status,
                        InstanceStatus::Blocked | InstanceStatus::Restricted
                    )
            })
            .collect();
        if open.is_empty() {
            let all_restricted = candidates
                .iter()
                .all(|e| e.status == InstanceStatus::Restricted);
            return refuse(if all_restricted {
                TnsCode::RESTRICTED
            } else {
                TnsCode::BLOCKING
            });
        }
        let server = nonempty(&req.server).map(str::to_ascii_lowercase);
        let wants_shared = server.as_deref() == Some("shared");
        let wants_pooled = server.as_deref() == Some("pooled");
        let wants_dedicated = server.as_deref() == Some("dedicated");
        let is_dispatcher = |h: &Handler| matches!(h.kind, HandlerKind::Dispatcher { .. });
        let is_pooled = |h: &Handler| matches!(h.kind, HandlerKind::Pooled { .. });
        let is_dedicated = |h: &Handler| matches!(h.kind, HandlerKind::Dedicated);
        let down = self.dedicated_down;
        let pick = |want: &dyn Fn(&Handler) -> bool| -> Option<(&InstanceEntry, &Handler)> {
            let mut best: Option<(&InstanceEntry, &Handler)> = None;
            for e in &open {
                for h in e
                    .handlers
                    .iter()
                    .filter(|h| want(h) && !h.blocked && (!down || !is_dedicated(h)))
                {
                    let better = match best {
                        None => true,
                        Some((_, b)) => h.current.unwrap_or(0) < b.current.unwrap_or(0),
                    };
                    if better {
                        best = Some((e, h));
                    }
                }
            }
            best
        };
        let chosen = if wants_shared {
            pick(&|h| is_dispatcher(h))
        } else if wants_pooled {
            // Only the DRCP broker serves (SERVER=POOLED): none while the pool is stopped.
            pick(&|h| is_pooled(h))
        } else if wants_dedicated {
            pick(&|h| is_dedicated(h))
        } else {
            // No SERVER: shared when a dispatcher is available, as Oracle does; never the
            // pool, which a client must ask for.
            pick(&|h| is_dispatcher(h)).or_else(|| pick(&|h| is_dedicated(h)))
        };
        if let Some((e, h)) = chosen {
            return Route::Handoff(Target {
                service: requested,
                instance: e.sid.clone().unwrap_or_else(|| e.instance.clone()),
                oracle_home: e.oracle_home.clone(),
                global_dbname: e.global_dbname.clone(),
                kind: h.kind.clone(),
                key: key_of(e, h),
                dynamic: e.status != InstanceStatus::Unknown,
            });
        }
        // No usable handler: charge the refusal to the first handler of the first instance.
        let first = open
            .iter()
            .find_map(|e| e.handlers.first().map(|h| key_of(e, h)));
        let any_of_kind_blocked = open.iter().flat_map(|e| e.handlers.iter()).any(|h| {
            h.blocked
                && (if wants_shared {
                    is_dispatcher(h)
                } else if wants_pooled {
                    is_pooled(h)
                } else if wants_dedicated {
                    is_dedicated(h)
                } else {
                    !is_pooled(h)
                })
        });
        let dedicated_wanted_but_down = down
            && !wants_shared
            && !wants_pooled
            && open
                .iter()
                .flat_map(|e| e.handlers.iter())
                .any(is_dedicated);
        let code = if dedicated_wanted_but_down {
            TnsCode::SPAWN_FAILED
        } else if any_of_kind_blocked {
            TnsCode::NO_APPROPRIATE_HANDLER
        } else if wants_shared || wants_dedicated || wants_pooled {
            TnsCode::NO_HANDLER_TYPE
        } else {
            TnsCode::NO_HANDLER_STACK
        };
        Route::Refuse {
            code,
            handler: first,
        }
    }

    /// Services as lsnrctl shows them, sorted by name, instances in registration order.
    pub fn views(&self) -> Vec<ServiceView> {
        let mut services: Vec<ServiceView> = Vec::new();
        for e in self.all() {
            let handlers = e
                .handlers
                .iter()
                .map(|h| {
                    let key = key_of(e, h);
                    let (established, refused) = self
                        .counters
                        .get(&key.id)
                        .filter(|c| c.incarnation == key.incarnation)
                        .map_or((0, 0), |c| (c.established, c.refused));
                    let dedicated = matches!(h.kind, HandlerKind::Dedicated);
                    let mut handler = h.clone();
                    handler.blocked |= dedicated && self.dedicated_down;
                    HandlerView {
                        handler,
                        established,
                        refused,
                        dynamic: e.status != InstanceStatus::Unknown
                            || (dedicated && self.dedicated_down),
                    }
                })
                .collect();
            let inst = InstanceView {
                name: e.instance.clone(),
                status: e.status,
                handlers,
            };
            match services
                .iter_mut()
                .find(|s| s.name.eq_ignore_ascii_case(&e.service))
            {
                Some(s) => s.instances.push(inst),
                None => services.push(ServiceView {
                    name: e.service.clone(),
                    instances: vec![inst],
                }),
            }
        }
        services.sort_by(|a, b| {
            a.name
                .to_ascii_lowercase()
                .cmp(&b.name.to_ascii_lowercase())
        });
        services
    }
}

/// Converts the registration table's view (instance helper's `registration` module) into
/// directory entries: one entry per (service, instance).
pub fn entries_from_registrations(
    services: &std::collections::BTreeMap<String, Vec<crate::registration::DynamicInstance>>,
) -> Vec<InstanceEntry> {
    use server_proc::registration as reg;
    let mut out = Vec::new();
    for (service, instances) in services {
        for i in instances {
            out.push(InstanceEntry {
                service: service.clone(),
                instance: i.instance_name.clone(),
                status: match i.status {
                    reg::InstanceStatus::Ready => InstanceStatus::Ready,
                    reg::InstanceStatus::Blocked => InstanceStatus::Blocked,
                    reg::InstanceStatus::Restricted => InstanceStatus::Restricted,
                },
                oracle_home: Some(i.oracle_home.clone()).filter(|h| !h.is_empty()),
                global_dbname: None,
                sid: Some(i.sid.clone()).filter(|s| !s.is_empty()),
                pid: i.pid,
                handlers: i
                    .handlers
                    .iter()
                    .map(|h| Handler {
                        name: h.handler.name.clone(),
                        kind: match &h.handler.kind {
                            reg::HandlerKind::Dedicated => HandlerKind::Dedicated,
                            reg::HandlerKind::Dispatcher {
                                address,
                                pid,
                                handoff_path,
                            } => HandlerKind::Dispatcher {
                                address: address.clone(),
                                machine: i.host.clone(),
                                pid: u32::try_from(*pid).unwrap_or(0),
                                handoff_path: handoff_path.clone(),
                            },
                            reg::HandlerKind::Pooled { handoff_path, pid } => HandlerKind::Pooled {
                                machine: i.host.clone(),
                                pid: u32::try_from(*pid).unwrap_or(0),
                                handoff_path: handoff_path.clone(),
                            },
                        },
                        // The reported load plus what was handed over since: a dispatcher
                        // at its CONNECTIONS limit takes no more until the next report.
                        blocked: h.handler.state == reg::HandlerState::Blocked
                            || (matches!(h.handler.kind, reg::HandlerKind::Dispatcher { .. })
                                && h.handler.current.saturating_add(h.since_report)
                                    >= h.handler.max),
                        current: matches!(
                            h.handler.kind,
                            reg::HandlerKind::Dispatcher { .. } | reg::HandlerKind::Pooled { .. }
                        )
                        .then_some(h.handler.current.saturating_add(h.since_report)),
                        max: matches!(
                            h.handler.kind,
                            reg::HandlerKind::Dispatcher { .. } | reg::HandlerKind::Pooled { .. }
                        )
                        .then_some(h.handler.max),
                    })
                    .collect(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> ServiceDirectory {
        ServiceDirectory::new(&[StaticSid {
            global_dbname: Some("orcl.example.com".into()),
            sid_name: "ORCL".into(),
            oracle_home: Some("/u01/db".into()),
            prespawn: 0,
        }])
    }

    fn req(service: Option<&str>, sid: Option<&str>) -> ConnectRequest {
        ConnectRequest {
            service_name: service.map(String::from),
            sid: sid.map(String::from),
            ..ConnectRequest::default()
        }
    }

    fn code(r: Route) -> u32 {
        match r {
            Route::Refuse { code, .. } => code.0,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn refusal_codes_follow_oracle() {
        let d = dir();
        assert_eq!(code(d.route(&req(None, None), None, false)), 12504);
        assert_eq!(code(d.route(&req(Some("nope"), None), None, false)), 12514);
        assert_eq!(code(d.route(&req(None, Some("NOPE")), None, false)), 12505);
        let mut r = req(Some("ORCL.example.com"), None);
        r.instance_name = Some("other".into());
        assert_eq!(code(d.route(&r, None, false)), 12521);
        r.instance_name = None;
        r.server = Some("SHARED".into());
        assert_eq!(code(d.route(&r, None, false)), 12520);
        // SID used as a service name only with USE_SID_AS_SERVICE.
        assert_eq!(
            code(d.route(&req(None, Some("orcl.example.com")), None, false)),
            12505
        );
    }

    #[test]
    fn known_service_sid_and_default_service_hand_off() {
        let d = dir();
        for (r, default) in [
            (req(Some("orcl.example.com"), None), None),
            (req(None, Some("orcl")), None),
            (req(None, None), Some("ORCL.EXAMPLE.COM")),
            (req(None, Some("orcl.example.com")), None),
        ] {
            let use_sid = r.sid.as_deref() == Some("orcl.example.com");
            match d.route(&r, default, use_sid) {
                Route::Handoff(t) => {
                    assert_eq!(t.instance, "ORCL");
                    assert_eq!(t.kind, HandlerKind::Dedicated);
                }
                other => panic!("{r:?}: {other:?}"),
            }
        }
        let mut ping = ConnectRequest {
            command: Some("ping".into()),
            ..ConnectRequest::default()
        };
        assert_eq!(d.route(&ping, None, false), Route::Ping);
        ping.command = Some("status".into());
        assert_eq!(code(d.route(&ping, None, false)), 1189);
    }

    #[test]
    fn dynamic_entries_route_and_block() {
        let mut d = dir();
        let mk = |status, blocked| InstanceEntry {
            pid: 0,
            service: "sales".into(),
            instance: "sales1".into(),
            status,
            oracle_home: None,
            global_dbname: None,
            sid: None,
            handlers: vec![Handler {
                name: "DEDICATED".into(),
                kind: HandlerKind::Dedicated,
                blocked,
                current: None,
                max: None,
            }],
        };
        d.replace_dynamic(vec![mk(InstanceStatus::Blocked, false)]);
        assert_eq!(code(d.route(&req(Some("sales"), None), None, false)), 12528);
        d.replace_dynamic(vec![mk(InstanceStatus::Restricted, false)]);
        assert_eq!(code(d.route(&req(Some("sales"), None), None, false)), 12526);
        // (UR=A) reaches a restricted or blocked instance; the instance decides.
        let ur = ConnectRequest {
            use_restricted: true,
            ..req(Some("sales"), None)
        };
        assert!(matches!(d.route(&ur, None, false), Route::Handoff(_)));
        d.replace_dynamic(vec![mk(InstanceStatus::Blocked, false)]);
        assert!(matches!(d.route(&ur, None, false), Route::Handoff(_)));
        d.replace_dynamic(vec![mk(InstanceStatus::Ready, true)]);
        assert_eq!(code(d.route(&req(Some("sales"), None), None, false)), 12519);
        d.replace_dynamic(vec![mk(InstanceStatus::Ready, false)]);
        assert!(matches!(
            d.route(&req(Some("SALES"), None), None, false),
            Route::Handoff(_)
        ));
    }

    #[test]
    fn a_service_both_static_and_registered_shows_two_instances() {
        let mut d = dir();
        d.replace_dynamic(vec![InstanceEntry {
            pid: 0,
            service: "ORCL.example.com".into(),
            instance: "orcl".into(),
            status: InstanceStatus::Ready,
            oracle_home: None,
            global_dbname: None,
            sid: None,
            handlers: vec![Handler {
                name: "DEDICATED".into(),
                kind: HandlerKind::Dedicated,
                blocked: false,
                current: None,
                max: None,
            }],
        }]);
        let v = d.views();
        assert_eq!(v.len(), 1);
        let statuses: Vec<_> = v[0].instances.iter().map(|i| i.status).collect();
        assert_eq!(
            statuses,
            vec![InstanceStatus::Unknown, InstanceStatus::Ready]
        );
        assert!(!v[0].instances[0].handlers[0].dynamic);
        assert!(v[0].instances[1].handlers[0].dynamic);
    }

    #[test]
    fn counters_show_in_views_and_survive_reload() {
        let mut d = dir();
        let Route::Handoff(t) = d.route(&req(Some("orcl.example.com"), None), None, false) else {
            panic!("no hand-off")
        };
        d.record_established(&t.key);
        d.record_established(&t.key);
        d.record_refused(&t.key);
        d.set_static(&[
            StaticSid {
                global_dbname: Some("orcl.example.com".into()),
                sid_name: "ORCL".into(),
                oracle_home: None,
                prespawn: 0,
            },
            StaticSid {
                global_dbname: None,
                sid_name: "NEW".into(),
                oracle_home: None,
                prespawn: 0,
            },
        ]);
        let v = d.views();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].name, "NEW");
        let h = &v[1].instances[0].handlers[0];
        assert_eq!((h.established, h.refused, h.dynamic), (2, 1, false));
    }

    /// The registration table's content as the listener's loop pulls it in.
    fn sync(d: &mut ServiceDirectory, t: &crate::registration::Table) -> Vec<CounterReset> {
        d.replace_dynamic(entries_from_registrations(&t.services()))
    }

    fn established(d: &ServiceDirectory, handler: &str) -> Option<u64> {
        d.views()
            .iter()
            .flat_map(|s| s.instances.iter())
            .flat_map(|i| i.handlers.iter())
            .find(|h| h.handler.name == handler)
            .map(|h| h.established)
    }

    fn shared_route(d: &ServiceDirectory) -> Target {
        let mut r = req(Some("svc"), None);
        r.server = Some("shared".into());
        match d.route(&r, None, false) {
            Route::Handoff(t) => t,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn counters_start_again_only_for_a_new_incarnation_of_the_handler() {
        use server_proc::registration as reg;
        use std::time::Instant;
        let dispatcher = |pid: i32, port: u16| reg::Handler {
            name: "D000".into(),
            kind: reg::HandlerKind::Dispatcher {
                address: format!("(ADDRESS=(PROTOCOL=tcp)(HOST=h)(PORT={port}))"),
                handoff_path: None,
                pid,
            },
            state: reg::HandlerState::Ready,
            current: 0,
            max: 100,
        };
        let registration = |pid: i32, port: Option<u16>| reg::InstanceRegistration {
            instance_name: "hs1".into(),
            sid: "HS1".into(),
            db_name: "ORCL".into(),
            oracle_home: "/u01/oh".into(),
            host: "h".into(),
            pid,
            status: reg::InstanceStatus::Ready,
            services: vec!["svc".into()],
            handlers: std::iter::once(reg::Handler {
                name: "DEDICATED".into(),
                kind: reg::HandlerKind::Dedicated,
                state: reg::HandlerState::Ready,
                current: 0,
                max: 100,
            })
            .chain(port.map(|p| dispatcher(pid, p)))
            .collect(),
            load: reg::LoadReport::default(),
            refresh_secs: 60,
        };
        let update = |r| reg::ClientMessage::ServiceUpdate {
            version: reg::PROTOCOL_VERSION,
            registration: r,
        };
        let mut table = crate::registration::Table::new("LISTENER");
        let mut d = ServiceDirectory::default();
        table.handle(1, update(registration(100, Some(1000))), Instant::now());
        assert!(sync(&mut d, &table).is_empty());
        for _ in 0..6 {
            let t = shared_route(&d);
            d.record_established(&t.key);
        }
        assert_eq!(established(&d, "D000"), Some(6));
        // The flaky `established:4 ... current:10`: the instance's registration connection
        // was re-opened (lreg's reply timed out on a loaded machine), so the table forgot the
        // instance (service_died) and learnt it again (service_register) — and a sync in
        // between dropped D000's counters. The same incarnation continues them now.
        table.connection_closed(1);
        assert!(sync(&mut d, &table).is_empty());
        assert_eq!(established(&d, "D000"), None, "not registered right now");
        table.handle(2, update(registration(100, Some(1000))), Instant::now());
        assert!(sync(&mut d, &table).is_empty());
        assert_eq!(established(&d, "D000"), Some(6));
        // A report that does not list the dispatcher (draining, or built mid-change) does not
        // restart it either.
        table.handle(2, update(registration(100, None)), Instant::now());
        assert!(sync(&mut d, &table).is_empty());
        table.handle(2, update(registration(100, Some(1000))), Instant::now());
        assert!(sync(&mut d, &table).is_empty());
        let t = shared_route(&d);
        d.record_established(&t.key);
        d.record_refused(&t.key);
        assert_eq!(established(&d, "D000"), Some(7));
        // A new dispatcher under the same name (another address) starts again, and says why.
        table.handle(2, update(registration(100, Some(2000))), Instant::now());
        let resets = sync(&mut d, &table);
        assert_eq!(resets.len(), 1, "{resets:?}");
        assert_eq!(resets[0].handler, "D000");
        assert!(
            resets[0].reason.starts_with("new dispatcher (address"),
            "{resets:?}"
        );
        assert_eq!(established(&d, "D000"), Some(0));
        let t = shared_route(&d);
        d.record_established(&t.key);
        let mut dedicated = req(Some("svc"), None);
        dedicated.server = Some("dedicated".into());
        let Route::Handoff(t) = d.route(&dedicated, None, false) else {
            panic!("no dedicated hand-off")
        };
        d.record_established(&t.key);
        // A restarted instance (new pid) starts every handler again.
        table.connection_closed(2);
        sync(&mut d, &table);
        table.handle(3, update(registration(101, Some(2000))), Instant::now());
        let mut reasons: Vec<String> = sync(&mut d, &table)
            .into_iter()
            .map(|r| format!("{} {}", r.handler, r.reason))
            .collect();
        reasons.sort();
        assert_eq!(
            reasons,
            vec![
                "D000 new dispatcher (pid 100 -> 101)".to_string(),
                "DEDICATED new instance (pid 100 -> 101)".to_string()
            ]
        );
        assert_eq!(established(&d, "D000"), Some(0));
    }

    #[test]
    fn a_handoff_applied_to_the_directory_is_what_a_rebuild_shows() {
        use server_proc::registration as reg;
        use std::time::Instant;
        let handler = |name: &str, kind: reg::HandlerKind, current: u32, max: u32| reg::Handler {
            name: name.into(),
            kind,
            state: reg::HandlerState::Ready,
            current,
            max,
        };
        let dispatcher = |pid| reg::HandlerKind::Dispatcher {
            address: format!("(ADDRESS=(PROTOCOL=tcp)(HOST=h)(PORT={pid}))"),
            handoff_path: None,
            pid,
        };
        let registration = |name: &str, services: &[&str], handlers| reg::InstanceRegistration {
            instance_name: name.into(),
            sid: name.to_ascii_uppercase(),
            db_name: "ORCL".into(),
            oracle_home: "/u01/oh".into(),
            host: "h".into(),
            pid: 100,
            status: reg::InstanceStatus::Ready,
            services: services.iter().map(|s| s.to_string()).collect(),
            handlers,
            load: reg::LoadReport::default(),
            refresh_secs: 60,
        };
        let update = |r| reg::ClientMessage::ServiceUpdate {
            version: reg::PROTOCOL_VERSION,
            registration: r,
        };
        let mut table = crate::registration::Table::new("LISTENER");
        let now = Instant::now();
        // Two services of one instance (an entry each), a dispatcher two hand-offs from its
        // maximum, a name registered twice, a broker, and another instance's D000.
        table.handle(
            1,
            update(registration(
                "Hs1",
                &["svc", "other"],
                vec![
                    handler("DEDICATED", reg::HandlerKind::Dedicated, 0, 0),
                    handler("D000", dispatcher(7), 3, 5),
                    handler("D001", dispatcher(8), 0, 9),
                    handler("D001", dispatcher(9), 1, 9),
                    handler(
                        "N000",
                        reg::HandlerKind::Pooled {
                            handoff_path: "/p".into(),
                            pid: 10,
                        },
                        2,
                        40,
                    ),
                ],
            )),
            now,
        );
        table.handle(
            2,
            update(registration(
                "hs2",
                &["svc"],
                vec![handler("D000", dispatcher(11), 0, 5)],
            )),
            now,
        );
        let mut d = ServiceDirectory::default();
        sync(&mut d, &table);
        for (instance, handler) in [
            ("hs1", "D000"),
            ("hs1", "d001"),
            ("hs1", "D000"),
            ("hs1", "N000"),
            ("hs1", "DEDICATED"),
            ("hs1", "D000"),
            ("hs2", "D000"),
            ("hs1", "D999"),
            ("nobody", "D000"),
        ] {
            if table.record_handoff(instance, handler, now) {
                d.record_handoff(instance, handler);
            }
            let mut rebuilt = ServiceDirectory::default();
            sync(&mut rebuilt, &table);
            assert_eq!(d.dynamic, rebuilt.dynamic, "after {instance} {handler}");
        }
        let d000 = d.dynamic[0].handlers.iter().find(|h| h.name == "D000");
        assert_eq!(d000.map(|h| (h.current, h.blocked)), Some((Some(6), true)));
    }

    #[test]
    fn counters_of_absent_handlers_are_bounded() {
        let mut d = ServiceDirectory::default();
        let entry = |n: usize| InstanceEntry {
            pid: 1,
            service: "svc".into(),
            instance: format!("i{n}"),
            status: InstanceStatus::Ready,
            oracle_home: None,
            global_dbname: None,
            sid: None,
            handlers: vec![Handler {
                name: "DEDICATED".into(),
                kind: HandlerKind::Dedicated,
                blocked: false,
                current: None,
                max: None,
            }],
        };
        for n in 0..ABSENT_COUNTERS_KEPT + 10 {
            d.replace_dynamic(vec![entry(n)]);
            let Route::Handoff(t) = d.route(&req(Some("svc"), None), None, false) else {
                panic!("no hand-off")
            };
            d.record_established(&t.key);
        }
        d.replace_dynamic(Vec::new());
        assert_eq!(d.counters.len(), ABSENT_COUNTERS_KEPT);
        // The most recently seen are the ones kept.
        d.replace_dynamic(vec![entry(ABSENT_COUNTERS_KEPT + 9)]);
        assert_eq!(established(&d, "DEDICATED"), Some(1));
        d.replace_dynamic(vec![entry(0)]);
        assert_eq!(established(&d, "DEDICATED"), Some(0));
    }
}
