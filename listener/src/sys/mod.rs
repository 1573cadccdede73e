//! The only place in the listener that talks to the kernel through `unsafe`: `fork`, the
//! argv overwrite behind the process titles `ps` shows (`tnslsnr LISTENER`,
//! `oracle<SID> (LOCAL=NO)`), `SCM_RIGHTS` fd passing and fd-table hygiene after a fork.
//!
//! Everything else in the crate uses the safe wrappers here, so the invariants that make
//! the `unsafe` sound (fork only while single-threaded, argv captured before it is
//! overwritten) are checked in one module.

pub(crate) mod fdpass;
pub(crate) mod process;
pub mod title;

pub use process::{raise_nofile_limit, thread_count};

/// Closes every descriptor above stderr that this process inherited from whoever started
/// it (a daemon must not pass its starter's pipes on to its clients' server processes).
/// Call first thing in `main`.
pub fn close_inherited_fds() {
    let _ = process::close_fds_except(&[]);
}
