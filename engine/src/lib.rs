//! The server side of one Oracle Net connection as a sans-I/O state machine.
//!
//! Bytes and the time come in as arguments; framed bytes, deadlines and requests to the
//! instance go out. The engine owns no socket, reads no clock, draws no randomness of its
//! own and has no `unsafe`: the manifest (dependencies `tns`, `nom`, `thiserror` only) is
//! the proof. Transports (the dedicated server's blocking loop, the dispatchers and shared
//! servers, pooled servers) drive it; the instance (the SGA in `server_proc`) answers it
//! through the [`port`] traits.

#![forbid(unsafe_code)]

pub mod conn;
pub mod error;
pub mod port;
pub mod rows;
pub mod session;
pub mod sql;
pub mod views;

pub use conn::{Framing, Input, Released, ServerConn, SessionEnd, SessionRunner, WallClock};
pub use error::OraError;
pub use port::{
    Credentials, DatabaseStage, GRANT_ALTER_SYSTEM, GRANT_CONNECT_THROUGH,
    GRANT_RESTRICTED_SESSION, InstanceHooks, LocalInstance, SessionInfo, SessionSlot,
};
pub use session::{Action, RandomSource, Session, SessionConfig, VERSION, normalize_user};
