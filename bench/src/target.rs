//! What every phase measures, whatever the server: a [`Target`] opens sessions (connect +
//! login), a [`Session`] makes the call (`select 1`), pings and logs off. The orasim modes,
//! PostgreSQL, PgBouncer and the floor all implement it, so one loop measures them all.

use std::time::Duration;

use client::{ConnectOptions, Connection};

use crate::floor::{FloorScript, FloorSession};
use crate::pg::{PgConn, PgTarget};
use crate::stats::oracle_code;

/// One logged-in session.
pub trait Session: Send {
    /// The call of the steady phase and of a connect cycle (`select 1`).
    fn call(&mut self) -> Result<(), String>;
    /// Logoff and close.
    fn close(self: Box<Self>) -> Result<(), String>;
    /// An orasim session's V$SESSION SID and SERIAL# (what `ALTER SYSTEM KILL SESSION`
    /// names); `None` for other servers.
    fn oracle_session(&self) -> Option<(u32, u32)> {
        None
    }
}

/// A server to measure.
pub trait Target: Sync {
    /// The row name (`orasim-shared`, `postgresql-scram`, `floor`).
    fn name(&self) -> &str;
    /// Connect and log in through `127.0.0.1:port` (the target's own port, or a relay).
    fn open_at(&self, port: u16) -> Result<Box<dyn Session>, String>;
    /// The target's own port.
    fn port(&self) -> u16;
    /// Roots of the process trees that make up the server side.
    fn server_roots(&self) -> Vec<u32>;

    /// Connect and log in.
    fn open(&self) -> Result<Box<dyn Session>, String> {
        self.open_at(self.port())
    }

    /// One connect cycle: connect, login, one call, logoff.
    fn cycle(&self) -> Result<(), String> {
        self.cycle_at(self.port())
    }

    /// [`Target::cycle`] through `127.0.0.1:port`.
    fn cycle_at(&self, port: u16) -> Result<(), String> {
        let mut s = self.open_at(port)?;
        s.call()?;
        s.close()
    }
}

/// An orasim service reached with the Rust client.
#[derive(Debug)]
pub struct OrasimTarget {
    /// Row name.
    pub name: String,
    /// Listener port.
    pub port: u16,
    /// `service[:shared|:pooled]` of the EZConnect string.
    pub service: String,
    /// User and password.
    pub credentials: (String, String),
    /// Listener(s) and instance pids.
    pub roots: Vec<u32>,
    /// Client options (naming, call timeout).
    pub options: ConnectOptions,
    /// DRCP: hold a pooled server only during a call, as a python-oracledb pool on a
    /// `(SERVER=POOLED)` service does (SESSION_RELEASE after the login and after each call;
    /// the broker keeps the idle connection, the next call re-attaches).
    pub release_between_calls: bool,
}

struct OrasimSession {
    conn: Connection,
    release_between_calls: bool,
}

impl OrasimSession {
    fn released(&mut self) -> Result<(), String> {
        if self.release_between_calls {
            self.conn.release_session().map_err(|e| oracle_code(&e))?;
        }
        Ok(())
    }
}

impl Session for OrasimSession {
    fn call(&mut self) -> Result<(), String> {
        let r = self
            .conn
            .query("select 1 from dual")
            .map_err(|e| oracle_code(&e))?;
        if r.rows.len() != 1 {
            return Err("wrong-row-count".into());
        }
        self.released()
    }

    fn close(self: Box<Self>) -> Result<(), String> {
        self.conn.close().map_err(|e| oracle_code(&e))
    }

    fn oracle_session(&self) -> Option<(u32, u32)> {
        let info = self.conn.session_info();
        Some((info.session_id, info.serial_num))
    }
}

impl Target for OrasimTarget {
    fn name(&self) -> &str {
        &self.name
    }

    fn open_at(&self, port: u16) -> Result<Box<dyn Session>, String> {
        Connection::connect_with(
            &format!("127.0.0.1:{port}/{}", self.service),
            &self.credentials.0,
            &self.credentials.1,
            &self.options,
        )
        .map_err(|e| oracle_code(&e))
        .and_then(|conn| {
            let mut s = OrasimSession {
                conn,
                release_between_calls: self.release_between_calls,
            };
            s.released()?;
            Ok(Box::new(s) as Box<dyn Session>)
        })
    }

    fn port(&self) -> u16 {
        self.port
    }

    fn server_roots(&self) -> Vec<u32> {
        self.roots.clone()
    }
}

/// PostgreSQL or PgBouncer reached with tnsbench's protocol-3.0 client.
#[derive(Debug)]
pub struct PgBenchTarget {
    /// Row name.
    pub name: String,
    /// Where and as whom.
    pub target: PgTarget,
    /// Postmaster (and PgBouncer) pids.
    pub roots: Vec<u32>,
}

struct PgSession(PgConn);

impl Session for PgSession {
    fn call(&mut self) -> Result<(), String> {
        match self.0.simple_query("select 1") {
            Ok(1) => Ok(()),
            Ok(_) => Err("wrong-row-count".into()),
            Err(e) => Err(e.code()),
        }
    }

    fn close(self: Box<Self>) -> Result<(), String> {
        self.0.close().map_err(|e| e.code())
    }
}

impl Target for PgBenchTarget {
    fn name(&self) -> &str {
        &self.name
    }

    fn open_at(&self, port: u16) -> Result<Box<dyn Session>, String> {
        let t = PgTarget {
            port,
            ..self.target.clone()
        };
        PgConn::connect(&t)
            .map(|c| Box::new(PgSession(c)) as Box<dyn Session>)
            .map_err(|e| e.code())
    }

    fn port(&self) -> u16 {
        self.target.port
    }

    fn server_roots(&self) -> Vec<u32> {
        self.roots.clone()
    }
}

/// The floor process.
#[derive(Debug)]
pub struct FloorTarget {
    /// Its port.
    pub port: u16,
    /// What it replays.
    pub script: FloorScript,
    /// Its pid.
    pub pid: u32,
}

struct FloorClient(FloorSession);

impl Session for FloorClient {
    fn call(&mut self) -> Result<(), String> {
        self.0.call().map_err(|e| io_code(&e))
    }

    fn close(self: Box<Self>) -> Result<(), String> {
        self.0.close().map_err(|e| io_code(&e))
    }
}

fn io_code(e: &std::io::Error) -> String {
    format!("io-{:?}", e.kind())
}

impl Target for FloorTarget {
    fn name(&self) -> &str {
        "floor"
    }

    fn open_at(&self, port: u16) -> Result<Box<dyn Session>, String> {
        FloorSession::open(port, &self.script)
            .map(|s| Box::new(FloorClient(s)) as Box<dyn Session>)
            .map_err(|e| io_code(&e))
    }

    fn port(&self) -> u16 {
        self.port
    }

    fn server_roots(&self) -> Vec<u32> {
        vec![self.pid]
    }
}

/// Client socket/call timeout of every target.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);
