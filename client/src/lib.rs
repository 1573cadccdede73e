//! Blocking Oracle Net client: resolves a connect identifier with `config`, walks the
//! failover/load-balance address order, speaks TNS/TTC through `tns`.
#![forbid(unsafe_code)]
pub mod tnsping;
pub mod demo;
