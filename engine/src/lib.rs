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

/// The stack, in bytes, a thread that runs sessions must give them: the engine's parser and
/// evaluator recurse once per level of a statement's tree, bounded by
/// [`sql::MAX_EXPR_DEPTH`] and [`sql::MAX_SUBQUERY_NESTING`] so that the deepest
/// statement they accept fits in it with room to spare, in a debug build too. 8 MiB is
/// what the main thread of a dedicated or pooled server process has (Linux's default
/// `ulimit -s`); shared servers, threads of the instance, are started with it (Rust's
/// default for a thread is 2 MiB, too little).
pub const SESSION_STACK: usize = 8 << 20;

pub use conn::{Framing, Input, Released, ServerConn, SessionEnd, SessionRunner, WallClock};
pub use error::OraError;
pub use port::{
    Credentials, DatabaseStage, GRANT_ALTER_SYSTEM, GRANT_CONNECT_THROUGH,
    GRANT_RESTRICTED_SESSION, InstanceHooks, LocalInstance, SessionInfo, SessionSlot,
};
pub use session::{Action, RandomSource, Session, SessionConfig, VERSION, normalize_user};
