//! A listener + shared-server instance stack for the `shared_*` end-to-end tests: the real
//! `tnslsnr` (ephemeral port, dynamic registration only) and the real `oradb` with a chosen
//! SID and shared-server parameters, registered, with a user that may ALTER SYSTEM. Both
//! processes are killed when the stack is dropped, even when a test fails.

use std::time::Duration;

use crate::instance::{InstanceGuard, TestHome, wait_for};
use crate::procs::{self, ListenerProc};

/// The test user (granted ALTER SYSTEM).
pub const USER: &str = "scott";
/// Its password.
pub const PASSWORD: &str = "tiger";

/// A SID for the test tagged `tag` that no concurrent run of the same test (another
/// worktree's, on the same machine) uses: SGA segments are named by SID machine-wide, and
/// two instances of one SID would refuse (ORA-01081) or remove each other's segment.
pub fn own_sid(tag: &str) -> String {
    format!("{tag}P{}", std::process::id())
}

/// Listener + instance.
pub struct SharedStack {
    /// The listener's home (lsnrctl).
    pub lhome: procs::TestHome,
    /// The listener (killed on drop).
    pub listener: ListenerProc,
    /// The instance's home.
    pub home: TestHome,
    /// The instance (killed on drop).
    pub instance: InstanceGuard,
    /// The listener's port.
    pub port: u16,
    /// The instance's service.
    pub service: String,
}

impl SharedStack {
    /// Starts the stack for instance `sid` with `params` (pfile lines) and waits until the
    /// listener shows `want_dispatchers` dispatchers of it.
    pub fn start(sid: &str, params: &str, want_dispatchers: usize) -> SharedStack {
        SharedStack::start_with_nofile(sid, params, want_dispatchers, None)
    }

    /// [`SharedStack::start`] with the instance's RLIMIT_NOFILE (soft and hard) at `nofile`.
    pub fn start_with_nofile(
        sid: &str,
        params: &str,
        want_dispatchers: usize,
        nofile: Option<u64>,
    ) -> SharedStack {
        SharedStack::start_configured(sid, params, want_dispatchers, nofile, None)
    }

    /// [`SharedStack::start`] with the instance's RLIMIT_NOFILE at `nofile` and `sqlnet` as
    /// the server side's `$ORACLE_HOME/network/admin/sqlnet.ora` (read by the instance's
    /// dispatchers and by the dedicated servers the listener forks for it).
    pub fn start_configured(
        sid: &str,
        params: &str,
        want_dispatchers: usize,
        nofile: Option<u64>,
        sqlnet: Option<&str>,
    ) -> SharedStack {
        let lhome = procs::TestHome::new();
        let listener = ListenerProc::start(&lhome, "LISTENER", |port| {
            procs::listener_ora("LISTENER", port, &[], &[])
        });
        let port = listener.port;
        let service = format!("svc_{}", sid.to_ascii_lowercase());
        let home = TestHome::for_listener_with_sid(
            port,
            sid,
            &format!("service_names='{service}'\n_registration_interval=60\n{params}\n"),
        );
        home.add_user(USER, PASSWORD, true);
        if let Some(text) = sqlnet {
            let admin = home.path().join("network").join("admin");
            std::fs::create_dir_all(&admin).expect("mkdir network/admin");
            std::fs::write(admin.join("sqlnet.ora"), text).expect("write sqlnet.ora");
        }
        let instance = home.start_foreground_with_nofile(nofile);
        let s = SharedStack {
            lhome,
            listener,
            home,
            instance,
            port,
            service,
        };
        let ok = wait_for(Duration::from_secs(15), || {
            let t = s.services();
            (t.contains("status READY") && t.matches("DISPATCHER <").count() >= want_dispatchers)
                .then_some(())
        });
        assert!(ok.is_some(), "dispatchers registered: {}", s.services());
        s
    }

    /// `lsnrctl services`.
    pub fn services(&self) -> String {
        String::from_utf8_lossy(&self.lhome.lsnrctl(&["services", "LISTENER"]).stdout).into_owned()
    }

    /// EZConnect to the service with `server` (`shared`, `dedicated`).
    pub fn dsn(&self, server: &str) -> String {
        format!("127.0.0.1:{}/{}:{server}", self.port, self.service)
    }
}

/// Runs python `script` (argv: user, password, dsn) twice: against an in-process dedicated
/// server, then through a real listener to an instance with one shared server (SID
/// `own_sid(tag)`), and hands each run's last JSON line to `check` with what it ran against.
/// For the driver tests whose every answer must be the same on both transports.
pub fn python_on_dedicated_and_shared(
    tag: &str,
    script: &str,
    timeout: Duration,
    check: impl Fn(&serde_json::Value, &str),
) {
    let server = crate::py::start_server();
    let dsn = format!("127.0.0.1:{}/ORCL", server.port);
    let out = crate::py::run_python(
        script,
        &["scott".to_string(), "tiger".to_string(), dsn],
        timeout,
    )
    .last_json("python");
    check(&out, "in-process dedicated");
    let stack = SharedStack::start(
        &own_sid(tag),
        "shared_servers=1\ndispatchers='(PROTOCOL=TCP)'",
        1,
    );
    let out = crate::py::run_python(
        script,
        &[USER.to_string(), PASSWORD.to_string(), stack.dsn("shared")],
        timeout,
    )
    .last_json("python");
    check(&out, "shared server");
}
