//! Shared helpers for the end-to-end tests: locating the workspace binaries, the shared
//! corpus and the python-oracledb virtual environment.

pub mod client_harness;
pub mod corpus;
pub mod instance;
pub mod instance_py;
pub mod node;
pub mod orasql;
pub mod procs;
pub mod pty;
pub mod py;
pub mod pyenv;
pub mod shared_stack;
