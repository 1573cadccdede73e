//! `tnsbench`: what a connection costs with each of orasim's process models — dedicated
//! (forked or exec'd), prespawned, shared, pooled — side by side with a floor process (the
//! protocol's round trips and bytes, nothing else) and, in the same run, PostgreSQL direct
//! (trust and SCRAM) and PgBouncer (session and transaction pooling).
//!
//! The crate is a library so that its pieces (phases over a [`target::Target`], latency
//! summaries, the `/proc` readers, the floor, the minimal PostgreSQL client, the stack
//! starter, the report and its plots) can be tested on their own; the `tnsbench` binary
//! only parses the command line.
//!
//! Speed and memory are *measured and reported*, never asserted: tests of this crate check
//! that the tool works and that its report is complete, not how fast anything was.

pub mod floor;
pub mod machine;
pub mod peers;
pub mod pg;
pub mod phases;
pub mod plot;
pub mod procmem;
pub mod proctree;
pub mod python;
pub mod quick;
pub mod report;
pub mod run;
pub mod stack;
pub mod stats;
pub mod target;
pub mod turns;
