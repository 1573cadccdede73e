//! The session engine's instance side ([`InstanceHooks`]) backed by the real SGA: what a
//! dedicated server spawned for a database (a SID with an `init<SID>.ora`) uses instead of
//! the engine's in-process default. Login takes a session slot (ORA-01034/ORA-27101 when the
//! instance is down, ORA-00020 when the process slot was refused at spawn, ORA-00018 when the
//! sessions are exhausted), calls mark the session ACTIVE/INACTIVE, and kills are seen at the
//! next call.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use engine::rows::InstanceState;
use engine::session::shared_sql::SharedSql;
use engine::views::{AlterSystem, Snapshot, View};
use engine::{DatabaseStage, InstanceHooks, OraError, SessionInfo, SessionSlot};

use super::{ProcessSpec, ServerAttachment, SessionSpec, SgaError};

/// [`InstanceHooks`] over the SGA of one SID.
#[derive(Debug)]
pub struct SgaInstance {
    attachment: ServerAttachment,
    oracle_home: PathBuf,
    instance_name: String,
    db_name: String,
    /// Sessions are shared-server sessions (V$SESSION.SERVER SHARED during a call, NONE
    /// between calls) owned by a dispatcher's process slot.
    shared: bool,
    /// Sessions are a DRCP pooled server's (V$SESSION.SERVER POOLED).
    pooled: bool,
    /// A pooled server's question to its broker for another server's session
    /// ([`InstanceHooks::claim_pooled_session`]).
    pool_claim: Option<PoolClaim>,
}

/// How a pooled server asks its broker for a free server holding a session of a user and
/// class (`None`: there is none).
pub type PoolClaimFn = Box<dyn Fn(&str, &str) -> Option<SessionSlot> + Send + Sync>;

struct PoolClaim(PoolClaimFn);

impl std::fmt::Debug for PoolClaim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PoolClaim")
    }
}

fn ora(e: &SgaError) -> OraError {
    OraError::from_stack(e.ora_code(), &e.to_string())
}

impl SgaInstance {
    /// Attaches the SGA of `sid` and takes a process slot for this dedicated server
    /// (`oracle@host (TNS V1-V3)`). Errors are kept for the login.
    pub fn attach_dedicated(oracle_home: &Path, sid: &str) -> SgaInstance {
        let host = crate::instance::host_name();
        let attachment = ServerAttachment::attach(
            sid,
            &ProcessSpec::dedicated(format!("oracle@{host} (TNS V1-V3)")),
        );
        let (instance_name, db_name) = match attachment.v_instance() {
            Some(i) => (i.instance_name, i.db_name),
            None => (sid.to_string(), sid.to_string()),
        };
        SgaInstance {
            attachment,
            oracle_home: oracle_home.to_path_buf(),
            instance_name,
            db_name,
            shared: false,
            pooled: false,
            pool_claim: None,
        }
    }

    /// Attaches the SGA of `sid` for a dispatcher of this instance (`oracle@host (D000)`):
    /// the dispatcher's process slot owns the sessions of its virtual circuits, which are
    /// shared-server sessions.
    /// `spid` is the dispatcher thread's id (V$PROCESS.SPID); `None` = the process id.
    pub fn attach_dispatcher(
        oracle_home: &Path,
        sid: &str,
        pname: &str,
        spid: Option<i32>,
    ) -> SgaInstance {
        let host = crate::instance::host_name();
        let spec = ProcessSpec {
            kind: super::ProcessKind::Dispatcher,
            pname: pname.to_string(),
            spid,
            ..ProcessSpec::dedicated(format!("oracle@{host} ({pname})"))
        };
        let attachment = ServerAttachment::attach(sid, &spec);
        let (instance_name, db_name) = match attachment.v_instance() {
            Some(i) => (i.instance_name, i.db_name),
            None => (sid.to_string(), sid.to_string()),
        };
        SgaInstance {
            attachment,
            oracle_home: oracle_home.to_path_buf(),
            instance_name,
            db_name,
            shared: true,
            pooled: false,
            pool_claim: None,
        }
    }

    /// Attaches the SGA of `sid` for DRCP pooled server `pname` (`L000`), a process of its
    /// own (`oracle@host (L000)`); its sessions show SERVER = POOLED.
    pub fn attach_pooled(oracle_home: &Path, sid: &str, pname: &str) -> SgaInstance {
        let host = crate::instance::host_name();
        let spec = ProcessSpec {
            kind: super::ProcessKind::Background,
            pname: pname.to_string(),
            ..ProcessSpec::dedicated(format!("oracle@{host} ({pname})"))
        };
        let attachment = ServerAttachment::attach(sid, &spec);
        let (instance_name, db_name) = match attachment.v_instance() {
            Some(i) => (i.instance_name, i.db_name),
            None => (sid.to_string(), sid.to_string()),
        };
        SgaInstance {
            attachment,
            oracle_home: oracle_home.to_path_buf(),
            instance_name,
            db_name,
            shared: false,
            pooled: true,
            pool_claim: None,
        }
    }

    /// A pooled server's hooks: how a login asks the broker for another server's session.
    pub fn with_pool_claim(mut self, claim: PoolClaimFn) -> SgaInstance {
        self.pool_claim = Some(PoolClaim(claim));
        self
    }

    /// The hooks a dedicated server for `sid` should use: the SGA when `sid` is a database
    /// of `oracle_home` (it has `dbs/init<SID>.ora`, so "no instance" must mean ORA-01034),
    /// `None` for a bare static SID_DESC with no parameter file, which keeps the engine's
    /// self-contained in-process instance.
    pub fn for_dedicated(oracle_home: &Path, sid: &str) -> Option<Arc<SgaInstance>> {
        crate::initora::pfile_path(oracle_home, sid)
            .exists()
            .then(|| Arc::new(SgaInstance::attach_dedicated(oracle_home, sid)))
    }

    /// The attachment (for V$ queries and ALTER SYSTEM).
    pub fn attachment(&self) -> &ServerAttachment {
        &self.attachment
    }

    /// `$ORACLE_HOME`.
    pub fn oracle_home(&self) -> &Path {
        &self.oracle_home
    }

    /// Sleeps up to `d` inside a call of `slot`; returns the kill's error at once if the
    /// session is killed meanwhile.
    pub fn sleep(&self, slot: SessionSlot, d: Duration) -> Result<(), OraError> {
        self.attachment
            .sleep(slot.sid, slot.serial, d)
            .map_err(|e| ora(&e))
    }
}

/// The shared SQL area of this process: one for all the sessions of an `oradb` (its shared
/// servers serve every dispatcher's circuits), one per dedicated or pooled server process.
fn shared_sql() -> &'static SharedSql {
    static AREA: std::sync::OnceLock<SharedSql> = std::sync::OnceLock::new();
    AREA.get_or_init(SharedSql::new)
}

impl InstanceHooks for SgaInstance {
    fn shared_sql(&self) -> Option<&SharedSql> {
        Some(shared_sql())
    }

    fn call_error(&self, slot: SessionSlot) -> Option<OraError> {
        self.attachment
            .check(slot.sid, slot.serial)
            .err()
            .map(|e| ora(&e))
    }

    fn snapshot(&self, views: &[View]) -> Result<Snapshot, OraError> {
        Ok(self.attachment.snapshot(views))
    }

    fn alter_system(&self, me: SessionSlot, command: &AlterSystem) -> Result<(), OraError> {
        self.attachment
            .alter_system((me.sid, me.serial), command)
            .map_err(|e| ora(&e))
    }

    fn connection_pool(
        &self,
        _me: SessionSlot,
        call: &engine::sql::cpool::PoolCall,
    ) -> Result<(), OraError> {
        let Some(sga) = self.attachment.sga() else {
            return Err(OraError::new(1034, 0));
        };
        crate::pooled::admin::apply(sga, &self.oracle_home, call)
    }

    fn pool_request(&self, class: &str, hit: bool, login: bool) {
        use crate::sga::cpool::CpoolEvent;
        if let Some(sga) = self.attachment.sga() {
            sga.cpool_count(Some(class), CpoolEvent::Request { hit });
            if login {
                sga.cpool_count(Some(class), CpoolEvent::Authentication);
            }
        }
    }

    fn claim_pooled_session(&self, user: &str, class: &str) -> Option<SessionSlot> {
        (self.pool_claim.as_ref()?.0)(user, class)
    }

    fn logins_restricted(&self) -> bool {
        self.attachment
            .sga()
            .is_some_and(|sga| sga.logins_restricted())
    }

    fn audsid(&self, slot: SessionSlot) -> Option<u64> {
        self.attachment.audsid(slot.sid, slot.serial)
    }

    fn open_session(&self, info: &SessionInfo) -> Result<SessionSlot, OraError> {
        let spec = SessionSpec {
            username: info.user.clone(),
            osuser: info.osuser.clone(),
            machine: info.machine.clone(),
            terminal: info.terminal.clone(),
            program: info.program.clone(),
            process: info.process.clone(),
            service: info.service_name.clone(),
            module: info.program.clone(),
            shared: self.shared,
            administrative: info.administrative,
            ..SessionSpec::default()
        };
        let slot = self
            .attachment
            .open_session(&spec)
            .map(|(sid, serial)| SessionSlot { sid, serial })
            .map_err(|e| ora(&e))?;
        if self.pooled {
            self.attachment
                .set_server(slot.sid, slot.serial, super::ServerKind::Pooled);
        }
        Ok(slot)
    }

    fn close_session(&self, slot: SessionSlot) {
        self.attachment.close_session(slot.sid, slot.serial);
    }

    fn is_killed(&self, slot: SessionSlot) -> bool {
        self.attachment.check(slot.sid, slot.serial).is_err()
    }

    fn set_active(&self, slot: SessionSlot, active: bool) {
        // Kills are not consumed here: the engine asks `call_error` before each call, so
        // the victim's next call gets ORA-00028 (not ORA-01012).
        self.attachment.mark(slot.sid, slot.serial, active);
        if self.shared {
            let server = if active {
                super::ServerKind::Shared
            } else {
                super::ServerKind::None
            };
            self.attachment.set_server(slot.sid, slot.serial, server);
        }
    }

    fn publish_stats(&self, slot: SessionSlot, values: &[u64]) {
        self.attachment.publish_stats(slot.sid, slot.serial, values);
    }

    fn instance_state(&self) -> InstanceState {
        self.attachment
            .sga()
            .map_or(InstanceState::Shutdown, |sga| sga.instance_state())
    }

    fn alter_database(&self, to: DatabaseStage) -> Result<(), OraError> {
        let Some(sga) = self.attachment.sga() else {
            return Err(OraError::new(1034, 0));
        };
        let stage = match to {
            DatabaseStage::Mount => crate::instance::StartupStage::Mount,
            DatabaseStage::Open => crate::instance::StartupStage::Open,
        };
        crate::instance::change_database(sga, &self.oracle_home, stage)
            .map_err(|code| OraError::new(code, 0))
    }

    fn instance_name(&self) -> String {
        self.instance_name.clone()
    }

    fn db_name(&self) -> String {
        self.db_name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sga::{InstanceState, Sga, SgaConfig};

    #[test]
    fn a_sid_with_a_pfile_uses_the_sga_and_reports_ora_01034_when_down() {
        let home = tempfile::tempdir().unwrap();
        assert!(SgaInstance::for_dedicated(home.path(), "HOOKS0").is_none());
        std::fs::create_dir_all(home.path().join("dbs")).unwrap();
        let sid = format!("HK{}", std::process::id());
        std::fs::write(
            home.path().join(format!("dbs/init{sid}.ora")),
            "db_name=ORCL\n",
        )
        .unwrap();
        let hooks = SgaInstance::for_dedicated(home.path(), &sid).expect("SGA hooks");
        let e = hooks.open_session(&SessionInfo::default()).unwrap_err();
        assert_eq!(e.code, 1034);
        assert!(
            e.text()
                .contains("ORA-27101: shared memory realm does not exist"),
            "{}",
            e.text()
        );
    }

    #[test]
    fn login_calls_and_kill_through_the_hooks() {
        let sid = format!("HL{}", std::process::id());
        let sga = Sga::create(&SgaConfig {
            sid: sid.clone(),
            instance_name: "orcl".into(),
            db_name: "ORCL".into(),
            host_name: "h".into(),
            version: "19".into(),
            processes: 10,
            sessions: 20,
        })
        .unwrap();
        sga.set_instance_state(InstanceState::Open);
        let home = tempfile::tempdir().unwrap();
        let hooks = SgaInstance::attach_dedicated(home.path(), &sid);
        assert_eq!(hooks.instance_name(), "orcl");
        assert_eq!(hooks.db_name(), "ORCL");
        let slot = hooks
            .open_session(&SessionInfo {
                user: "SCOTT".into(),
                program: "python".into(),
                service_name: "orcl".into(),
                ..SessionInfo::default()
            })
            .unwrap();
        let row = sga.snapshot_sessions().into_iter().next().unwrap();
        assert_eq!((row.sid, row.serial), (slot.sid, slot.serial));
        assert_eq!(row.username.as_deref(), Some("SCOTT"));
        assert!(!hooks.is_killed(slot));
        hooks.set_active(slot, true);
        assert_eq!(
            sga.snapshot_sessions()[0].status,
            crate::sga::SessionStatus::Active
        );
        hooks.set_active(slot, false);
        assert_eq!(
            sga.snapshot_sessions()[0].status,
            crate::sga::SessionStatus::Inactive
        );
        hooks.set_active(slot, true);
        sga.kill_session(slot.sid, slot.serial, crate::sga::KillRequest::Kill, None)
            .unwrap();
        let e = hooks.sleep(slot, Duration::from_secs(30)).unwrap_err();
        assert_eq!(e.code, 28);
        assert!(hooks.is_killed(slot));
        assert_eq!(hooks.call_error(slot).map(|e| e.code), Some(28));
        hooks.close_session(slot);
        assert!(sga.snapshot_sessions().is_empty());
        sga.unlink().unwrap();
    }
}
