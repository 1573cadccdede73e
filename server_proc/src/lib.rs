//! The transports that drive the sans-I/O `engine` (the dedicated server's blocking loop,
//! dispatchers and shared servers) and the `oradb` instance the engine talks to (SGA, pmon,
//! lreg, password file).

pub mod alert;
pub mod bequeath;
pub mod dedicated;
pub mod driver;
pub mod fdlimit;
pub mod fdpass;
pub mod fuzzing;
pub mod handoff;
pub mod initora;
pub mod instance;
pub mod lreg;
pub mod pmon;
pub mod pooled;
pub mod pwfile;
pub mod registration;
pub mod sga;
pub mod shared;
pub mod stale_sockets;
