//! The server side of a session: the sans-I/O session engine (TTC + O5LOGON + SQL subset),
//! the dedicated-server loop that drives it from a socket, and the `oradb` instance.

pub mod dedicated;
pub mod engine;
pub mod fdpass;
pub mod handoff;
pub mod initora;
pub mod instance;
pub mod lreg;
pub mod pmon;
pub mod pwfile;
pub mod registration;
pub mod sga;
pub mod shared;
pub mod sql;
