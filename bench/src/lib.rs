//! `tnsbench`: what a connection costs with orasim's process model, measured side by side
//! with a raw-TCP baseline and (on request) PostgreSQL and PgBouncer started in the same run.
//!
//! The crate is a library so that its pieces (latency summaries, the `/proc` memory reader,
//! the minimal PostgreSQL wire client, the stack starter) can be tested on their own; the
//! `tnsbench` binary only parses the command line and prints the [`report::Report`].
//!
//! Speed and memory are *measured and reported*, never asserted: tests of this crate check
//! that the tool works and that its report is complete, not how fast anything was.

pub mod echo;
pub mod machine;
pub mod peers;
pub mod pg;
pub mod procmem;
pub mod report;
pub mod run;
pub mod stack;
pub mod stats;
pub mod turns;
