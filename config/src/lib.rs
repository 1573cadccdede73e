//! Oracle Net configuration layer: one parser for Oracle's parameter-file syntax
//! (`tnsnames.ora`, `listener.ora`, `sqlnet.ora`, `init<SID>.ora`), the typed models built
//! from it, and client-side naming (tnsnames, EZConnect, `TNS_ADMIN`).
//!
//! Everything here is pure: no sockets, no threads. Parsers return the model *and* the
//! diagnostics, so a broken entry never hides the good ones.
#![forbid(unsafe_code)]

pub mod diag;
pub mod paramfile;

pub use diag::{Diagnostic, Parsed, Pos, Severity};
pub use paramfile::{Atom, Node, Param, ParamFile, Value};
pub mod descriptor;

pub use descriptor::{ConnectDescriptor, DescriptorError, parse_descriptor};
pub mod listener;

pub use listener::ListenerConfig;
pub mod ezconnect;
pub mod tnsnames;

pub use tnsnames::TnsNames;
pub mod naming;
pub mod sqlnet;

pub use naming::{Resolver, connect_plan};
pub use sqlnet::SqlNet;
pub mod fuzz;
pub mod listener_toml;
