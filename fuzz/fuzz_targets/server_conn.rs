//! Fuzz the server side of one connection (`engine::ServerConn`) with a client's bytes
//! (same body as the stable test in `server_proc::fuzzing`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| server_proc::fuzzing::server_conn(data));
