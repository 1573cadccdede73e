//! What a server process (a dedicated server, later a shared server) holds in the SGA: the
//! attachment made at spawn (process slot, or the error the client will see at login), and
//! the sessions it opens on it. Sessions are named by `(SID, SERIAL#)`, which is how the
//! session engine refers to them; every call is checked against kills and shutdowns.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::{
    InstanceRow, KillOutcome, KillRequest, ProcessHandle, ProcessRow, ProcessSpec, SessionHandle,
    SessionRow, SessionSpec, Sga, SgaError, parse_session_id,
};
use engine::views::{AlterSystem, Snapshot, View};

/// A server process's attachment to the SGA of its SID.
#[derive(Debug)]
pub struct ServerAttachment {
    sid: String,
    process: Result<ProcessHandle, SgaError>,
    sessions: Mutex<HashMap<(u32, u32), Arc<SessionHandle>>>,
}

impl ServerAttachment {
    /// Attaches the SGA of `sid` and takes a process slot for the calling process, as a
    /// dedicated server does right after it is spawned. Never fails: if there is no instance
    /// (ORA-01034) or no free process slot (ORA-00020), the error is kept and given to the
    /// client at login, as Oracle does.
    pub fn attach(sid: &str, spec: &ProcessSpec) -> ServerAttachment {
        let process = Sga::attach(sid).and_then(|sga| sga.register_process(spec));
        if let Err(e) = &process {
            tracing::info!(
                "server attach to {sid}: {}",
                e.to_string().replace('\n', " | ")
            );
        }
        ServerAttachment {
            sid: sid.to_string(),
            process,
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// ORACLE_SID.
    pub fn sid(&self) -> &str {
        &self.sid
    }

    /// The attachment error, if attaching or taking the process slot failed.
    pub fn attach_error(&self) -> Option<&SgaError> {
        self.process.as_ref().err()
    }

    /// The SGA, if attached.
    pub fn sga(&self) -> Option<&Arc<Sga>> {
        self.process.as_ref().ok().map(ProcessHandle::sga)
    }

    /// The process slot, if attached.
    pub fn process(&self) -> Option<&ProcessHandle> {
        self.process.as_ref().ok()
    }

    fn map(&self) -> MutexGuard<'_, HashMap<(u32, u32), Arc<SessionHandle>>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn session(&self, sid: u32, serial: u32) -> Result<Arc<SessionHandle>, SgaError> {
        self.map()
            .get(&(sid, serial))
            .cloned()
            .ok_or(SgaError::NotLoggedOn)
    }

    fn replay_attach_error(&self) -> SgaError {
        match &self.process {
            Ok(_) => SgaError::NotLoggedOn,
            Err(SgaError::NotAvailable { sid }) => SgaError::NotAvailable { sid: sid.clone() },
            Err(SgaError::ProcessesExceeded { max }) => SgaError::ProcessesExceeded { max: *max },
            Err(SgaError::NotOpen) => SgaError::NotOpen,
            Err(SgaError::ShutdownInProgress) => SgaError::ShutdownInProgress,
            Err(SgaError::ImmediateShutdown) => SgaError::ImmediateShutdown,
            Err(SgaError::InsufficientPrivileges { sid }) => {
                SgaError::InsufficientPrivileges { sid: sid.clone() }
            }
            Err(_) => SgaError::NotAvailable {
                sid: self.sid.clone(),
            },
        }
    }

    /// Login: takes a session slot; returns `(SID, SERIAL#)`. The attach error, ORA-00018,
    /// ORA-01033 or ORA-01090 otherwise.
    pub fn open_session(&self, spec: &SessionSpec) -> Result<(u32, u32), SgaError> {
        let process = self
            .process
            .as_ref()
            .map_err(|_| self.replay_attach_error())?;
        let s = process.create_session(spec)?;
        let key = (s.sid(), s.serial());
        self.map().insert(key, Arc::new(s));
        Ok(key)
    }

    /// Logoff: frees the session slot.
    pub fn close_session(&self, sid: u32, serial: u32) {
        if let Some(s) = self.map().remove(&(sid, serial)) {
            s.logoff();
        }
    }

    /// Start of a call: ACTIVE, or the kill's error (the session is then gone).
    pub fn begin_call(&self, sid: u32, serial: u32) -> Result<(), SgaError> {
        let s = self.session(sid, serial)?;
        let r = s.begin_call();
        if r.is_err() {
            self.map().remove(&(sid, serial));
        }
        r
    }

    /// End of a call: INACTIVE, or the error of a kill that arrived during it.
    pub fn end_call(&self, sid: u32, serial: u32) -> Result<(), SgaError> {
        let s = self.session(sid, serial)?;
        let r = s.end_call();
        if r.is_err() {
            self.map().remove(&(sid, serial));
        }
        r
    }

    /// V$SESSION.AUDSID of one of this process's sessions.
    pub fn audsid(&self, sid: u32, serial: u32) -> Option<u64> {
        self.session(sid, serial).ok().map(|s| s.audsid())
    }

    /// Publishes the statistics of one of this process's sessions (V$SESSTAT).
    pub fn publish_stats(&self, sid: u32, serial: u32, values: &[u64]) {
        if let Ok(s) = self.session(sid, serial) {
            s.publish_stats(values);
        }
    }

    /// Marks the session ACTIVE/INACTIVE without consuming a pending kill.
    pub fn mark(&self, sid: u32, serial: u32, active: bool) {
        if let Ok(s) = self.session(sid, serial) {
            s.mark(active);
        }
    }

    /// V$SESSION.SERVER of a shared-server session: SHARED on a shared server, NONE between
    /// calls.
    pub fn set_server(&self, sid: u32, serial: u32, server: super::ServerKind) {
        if let Ok(s) = self.session(sid, serial) {
            s.set_server(server);
        }
    }

    /// Whether the session may go on (polled during long calls); does not end it.
    pub fn check(&self, sid: u32, serial: u32) -> Result<(), SgaError> {
        self.session(sid, serial)?.check()
    }

    /// The kill pending on the session, if any.
    pub fn kill_pending(&self, sid: u32, serial: u32) -> Option<KillRequest> {
        self.session(sid, serial).ok()?.kill_pending()
    }

    /// Sleeps up to `duration` inside a call, returning the kill's error at once if one
    /// arrives (`DBMS_SESSION.SLEEP`, or the wait of a blocked call).
    pub fn sleep(&self, sid: u32, serial: u32, duration: Duration) -> Result<(), SgaError> {
        self.session(sid, serial)?.sleep(duration)
    }

    /// `ALTER SYSTEM KILL SESSION 'target'` / `DISCONNECT SESSION 'target' IMMEDIATE` issued
    /// by session `(sid, serial)`.
    pub fn kill_session(
        &self,
        requester: (u32, u32),
        target: &str,
        request: KillRequest,
    ) -> Result<KillOutcome, SgaError> {
        let sga = self.sga().ok_or_else(|| self.replay_attach_error())?;
        let (vsid, vserial) = parse_session_id(target)?;
        sga.kill_session(vsid, vserial, request, Some(requester))
    }

    /// `ALTER SYSTEM REGISTER`.
    pub fn request_registration(&self) -> Result<(), SgaError> {
        let sga = self.sga().ok_or_else(|| self.replay_attach_error())?;
        sga.request_registration();
        Ok(())
    }

    /// Rows of V$SESSION.
    pub fn v_session(&self) -> Vec<SessionRow> {
        self.sga().map_or_else(Vec::new, |s| s.snapshot_sessions())
    }

    /// Rows of V$PROCESS.
    pub fn v_process(&self) -> Vec<ProcessRow> {
        self.sga().map_or_else(Vec::new, |s| s.snapshot_processes())
    }

    /// The row of V$INSTANCE.
    pub fn v_instance(&self) -> Option<InstanceRow> {
        self.sga().map(|s| s.instance_row())
    }
}

impl ServerAttachment {
    /// The rows of `views` as they are now (only the views asked for are read).
    pub fn snapshot(&self, views: &[View]) -> Snapshot {
        let wants = |v: View| views.contains(&v);
        Snapshot {
            sessions: if wants(View::Session) {
                self.v_session()
            } else {
                Vec::new()
            },
            processes: if wants(View::Process) {
                self.v_process()
            } else {
                Vec::new()
            },
            instance: if wants(View::Instance) || wants(View::Database) {
                self.v_instance()
            } else {
                None
            },
            ..self.shared_snapshot(views)
        }
    }

    /// The shared-server views and V$PARAMETER among `views`.
    fn shared_snapshot(&self, views: &[View]) -> Snapshot {
        let Some(sga) = self.sga() else {
            return Snapshot::default();
        };
        let wants = |v: View| views.contains(&v);
        let mut snap = Snapshot::default();
        if wants(View::Dispatcher) {
            snap.dispatchers = sga.snapshot_dispatchers();
        }
        if wants(View::DispatcherConfig) {
            snap.dispatcher_config = sga.snapshot_dispatcher_config();
        }
        if wants(View::SharedServer) {
            snap.shared_servers = sga.snapshot_shared_servers();
        }
        if wants(View::Circuit) {
            snap.circuits = sga.snapshot_circuits();
        }
        if wants(View::Queue) {
            snap.queues = sga.snapshot_queues();
        }
        if wants(View::SharedServerMonitor) {
            snap.shared_server_monitor = Some(sga.shared_server_monitor());
        }
        if wants(View::Parameter) {
            snap.parameters = sga.snapshot_parameters();
        }
        if wants(View::SesStat) {
            snap.session_stats = sga.session_stats();
        }
        if wants(View::SysStat) {
            snap.system_stats = sga.system_stats();
        }
        if wants(View::CpoolStats) {
            snap.cpool_stats = sga.snapshot_cpool_stats();
        }
        if wants(View::CpoolCcStats) {
            snap.cpool_classes = sga.snapshot_cpool_classes();
        }
        if wants(View::CpoolInfo) {
            snap.cpool_info = sga.snapshot_cpool_info();
        }
        if wants(View::CpoolConnInfo) {
            snap.cpool_conns = sga.snapshot_cpool_conns();
        }
        snap
    }

    /// Carries out `ALTER SYSTEM` for the session `me` (its privilege already checked).
    pub fn alter_system(&self, me: (u32, u32), command: &AlterSystem) -> Result<(), SgaError> {
        match command {
            AlterSystem::KillSession { target, immediate } => {
                let req = if *immediate {
                    KillRequest::KillImmediate
                } else {
                    KillRequest::Kill
                };
                self.kill_session(me, target, req).map(|_| ())
            }
            AlterSystem::DisconnectSession { target } => self
                .kill_session(me, target, KillRequest::Disconnect)
                .map(|_| ()),
            AlterSystem::Register => self.request_registration(),
            AlterSystem::RestrictedSession { enable } => {
                let sga = self.sga().ok_or_else(|| self.replay_attach_error())?;
                sga.set_logins_restricted(*enable);
                Ok(())
            }
            AlterSystem::Set { name, value, scope } => {
                let sga = self.sga().ok_or_else(|| self.replay_attach_error())?;
                sga.alter_system_set(name, value, *scope)
            }
        }
    }
}

impl SgaError {
    /// The text after `ORA-nnnnn: ` (further lines of the error stack included), for an
    /// error message sent to a client together with [`SgaError::ora_code`].
    pub fn ora_message(&self) -> String {
        engine::OraError::from_stack(self.ora_code(), &self.to_string()).message
    }
}

#[cfg(test)]
mod tests {
    use super::super::{InstanceState, SgaConfig};
    use super::*;

    #[test]
    fn no_instance_is_reported_at_login_with_the_full_stack() {
        let a = ServerAttachment::attach("NOSUCH_orasim_srv", &ProcessSpec::dedicated("x"));
        assert!(a.attach_error().is_some());
        let e = a.open_session(&SessionSpec::default()).unwrap_err();
        assert_eq!(e.ora_code(), 1034);
        assert_eq!(
            e.ora_message(),
            "ORACLE not available\nORA-27101: shared memory realm does not exist\nLinux-x86_64 Error: 2: No such file or directory"
        );
        assert!(a.v_session().is_empty());
    }

    #[test]
    fn sessions_by_sid_serial_through_calls_and_kill() {
        let sid = format!("SRV{}", std::process::id());
        let sga = Sga::create(&SgaConfig {
            sid: sid.clone(),
            instance_name: "orcl".into(),
            db_name: "ORCL".into(),
            host_name: "h".into(),
            version: "19".into(),
            processes: 5,
            sessions: 10,
        })
        .unwrap();
        sga.set_instance_state(InstanceState::Open);
        let a = ServerAttachment::attach(&sid, &ProcessSpec::dedicated("oracle@h (TNS V1-V3)"));
        let b = ServerAttachment::attach(&sid, &ProcessSpec::dedicated("oracle@h (TNS V1-V3)"));
        let me = a.open_session(&SessionSpec::default()).unwrap();
        let victim = b.open_session(&SessionSpec::default()).unwrap();
        a.begin_call(me.0, me.1).unwrap();
        let e = a
            .kill_session(me, &format!("{},{}", me.0, me.1), KillRequest::Kill)
            .unwrap_err();
        assert_eq!(e.ora_code(), 27);
        a.kill_session(
            me,
            &format!("{}, {}", victim.0, victim.1),
            KillRequest::Kill,
        )
        .unwrap();
        a.end_call(me.0, me.1).unwrap();
        assert_eq!(b.check(victim.0, victim.1).unwrap_err().ora_code(), 28);
        assert_eq!(b.begin_call(victim.0, victim.1).unwrap_err().ora_code(), 28);
        assert_eq!(
            b.begin_call(victim.0, victim.1).unwrap_err().ora_code(),
            1012
        );
        assert_eq!(a.v_session().len(), 1);
        // What the engine asks for V$ queries and ALTER SYSTEM.
        let snap = a.snapshot(&[View::Session]);
        assert_eq!(snap.sessions.len(), 1);
        assert!(snap.processes.is_empty() && snap.instance.is_none());
        let Some(engine::views::Statement::Query(q)) = engine::views::parse(
            "select sid, serial# from v$session where sid = sys_context('userenv','sid')",
        )
        .unwrap() else {
            panic!("a V$ query")
        };
        let ctx = engine::views::QueryContext {
            userenv: vec![("SID".into(), me.0.to_string())],
            binds: Vec::new(),
        };
        assert_eq!(
            q.execute(&snap, &ctx).unwrap().rows,
            vec![vec![
                engine::views::Cell::Int(i64::from(me.0)),
                engine::views::Cell::Int(i64::from(me.1))
            ]]
        );
        let e = a
            .alter_system(
                me,
                &AlterSystem::KillSession {
                    target: format!("{},{}", me.0, me.1),
                    immediate: false,
                },
            )
            .unwrap_err();
        assert_eq!(e.to_string(), "ORA-00027: cannot kill current session");
        a.alter_system(me, &AlterSystem::Register).unwrap();
        assert_eq!(a.v_process().len(), 2);
        assert_eq!(a.v_instance().unwrap().instance_name, "orcl");
        a.close_session(me.0, me.1);
        assert!(a.v_session().is_empty());
        sga.unlink().unwrap();
    }
}
