//! Bequeath (BEQ): the local path to an instance, the one `sqlplus / as sysdba` takes.
//!
//! As Oracle's client execs `$ORACLE_HOME/bin/oracle` for a local connection, `orasql`
//! starts the server process itself: `oradb` with argv[0] `oracle<SID>` and argv[1]
//! [`BEQ_ARGS`], one end of a Unix socket pair as its stdin. No listener is involved; the
//! client speaks Oracle Net over the socket pair, and the server process is an ordinary
//! dedicated server of the instance (its own process slot, SPID its pid).
//!
//! Operating-system authentication: the server process runs as the client's OS user. When
//! that is the OS user who owns the instance (the owner of its parameter file, the user who
//! starts it — Oracle asks for membership of the OSDBA group), the login `/ AS SYSDBA` or
//! `/ AS SYSOPER` needs no password; anyone else gets ORA-01031, and `/` without an
//! administrative privilege gets ORA-01017 (there are no OPS$ users). The O5LOGON exchange
//! still runs, over an empty secret, only to derive the session keys: what authenticates
//! is the OS identity. Named users log in with their password as over the network.

use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::Arc;

use engine::{Credentials, OraError};
use tns::o5logon::{DEFAULT_VGEN_COUNT, Verifier};

use crate::dedicated::{DedicatedContext, DedicatedError, SessionEnd, run_session};
use crate::pwfile::PasswordFileCredentials;

/// argv[1] of a bequeathed server process (Oracle's process title for one).
pub const BEQ_ARGS: &str = "(DESCRIPTION=(LOCAL=YES)(ADDRESS=(PROTOCOL=beq)))";

/// The service a bequeath session is on (V$SESSION.SERVICE_NAME), as in Oracle.
const BEQ_SERVICE: &str = "SYS$USERS";

/// True when the calling process's OS user owns the instance `sid` of `oracle_home`: the
/// owner of `dbs/init<SID>.ora`.
pub fn is_instance_owner(oracle_home: &Path, sid: &str) -> bool {
    std::fs::metadata(crate::initora::pfile_path(oracle_home, sid))
        .is_ok_and(|m| m.uid() == nix::unistd::getuid().as_raw())
}

/// The password file, plus the OS-authenticated login `/` (user name empty).
struct OsAuthCredentials {
    password_file: PasswordFileCredentials,
    /// The OS user owns the instance: `/` may log in AS SYSDBA / SYSOPER.
    os_dba: bool,
    /// The verifier of the empty secret the `/` login's O5LOGON runs over.
    os_verifier: Verifier,
}

impl Credentials for OsAuthCredentials {
    fn verifier(&self, user: &str) -> Option<Verifier> {
        if user.is_empty() {
            Some(self.os_verifier.clone())
        } else {
            self.password_file.verifier(user)
        }
    }

    fn grants(&self, user: &str) -> Vec<String> {
        match user {
            "" if self.os_dba => vec!["SYSDBA".into(), "SYSOPER".into()],
            "" => Vec::new(),
            _ => self.password_file.grants(user),
        }
    }

    fn set_password(&self, user: &str, password: &[u8]) -> Result<(), OraError> {
        if user.is_empty() {
            return Err(OraError::new(1031, 0));
        }
        self.password_file.set_password(user, password)
    }
}

/// Serves the bequeath connection on stdin (a Unix socket) for the instance `sid` of
/// `oracle_home` until the session ends.
pub fn run_bequeath(oracle_home: &Path, sid: &str) -> Result<SessionEnd, DedicatedError> {
    let io = |context, source| DedicatedError::Io { context, source };
    let fd = std::io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| io("taking the bequeath socket", e))?;
    let stream = UnixStream::from(fd);
    let mut salt = [0u8; 16];
    rand::fill(&mut salt);
    let creds = OsAuthCredentials {
        password_file: PasswordFileCredentials::new(oracle_home, sid),
        os_dba: is_instance_owner(oracle_home, sid),
        os_verifier: Verifier::new_12c(b"", &salt, DEFAULT_VGEN_COUNT),
    };
    let mut ctx = DedicatedContext::new(sid, BEQ_SERVICE, oracle_home);
    ctx.credentials = Some(Arc::new(creds));
    run_session(stream, &[], ctx)
}
