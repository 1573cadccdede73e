//! Sans-I/O Oracle Net wire codec: TNS packet framing, the TTC encoding primitives and
//! messages, and O5LOGON cryptography. No sockets and no clock: bytes in, values out.
#![forbid(unsafe_code)]

pub mod error_text;
pub mod fuzzing;
pub mod o5logon;
pub mod packet;
pub mod ttc;
