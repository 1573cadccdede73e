//! The hand-off message the listener sends the spawner or a dispatcher together with the
//! client socket. The format lives in [`server_proc::handoff`], because its receiving side
//! (a dispatcher inside `oradb`) is there too; this module keeps the listener's name for it.

pub use server_proc::handoff::*;
