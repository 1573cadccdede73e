//! Oracle Net configuration layer: one parser for Oracle's parameter-file syntax
//! (`tnsnames.ora`, `listener.ora`, `sqlnet.ora`, `init<SID>.ora`), the typed models built
//! from it, connect descriptors, and client-side naming (tnsnames, EZConnect, `TNS_ADMIN`).
//!
//! No sockets, no threads, no clock: the only I/O is reading the files a caller names.
//! Parsers return the model *and* the diagnostics, so a broken entry never hides the good
//! ones. Start with the table in `config/README.md`.
#![forbid(unsafe_code)]

pub mod descriptor;
pub mod diag;
pub mod ezconnect;
pub mod fuzz;
pub mod listener;
pub mod listener_toml;
pub mod naming;
pub mod paramfile;
pub mod sqlnet;
pub mod tnsnames;

pub use descriptor::{ConnectDescriptor, DescriptorError, parse_descriptor};
pub use diag::{Diagnostic, Parsed, Pos, Severity};
pub use listener::ListenerConfig;
pub use naming::{Resolver, connect_plan};
pub use paramfile::{Atom, Node, Param, ParamFile, Value};
pub use sqlnet::SqlNet;
pub use tnsnames::TnsNames;
