//! Blocking Oracle Net client: resolves a connect identifier with `config`, walks the
//! failover/load-balance address order, speaks TNS/TTC through `tns`, logs in with
//! O5LOGON and runs SQL. It behaves on the wire like python-oracledb's thin mode, so a
//! server that serves one serves the other; `orasql` and `tnsbench` are built on it.
//!
//! ```no_run
//! let mut conn = client::Connection::connect("127.0.0.1:1521/ORCL", "scott", "tiger")?;
//! for row in conn.execute("select level from dual connect by level <= 3")? {
//!     println!("{:?}", row?);
//! }
//! conn.close()?;
//! # Ok::<(), client::ClientError>(())
//! ```
#![forbid(unsafe_code)]

pub mod connect;
pub mod connection;
pub mod demo;
pub mod error;
pub mod orasql;
pub mod tnsping;
pub mod transport;
pub mod wire;

pub use connect::ClientIdentity;
pub use connection::{
    Bind, BreakHandle, CallStats, Column, ConnectOptions, Connection, Cursor, Privilege,
    QueryResult, SessionInfo,
};
pub use error::ClientError;
pub use transport::Link;
pub use wire::{StatementKind, Value, classify};
