//! cargo-fuzz target: `config::fuzz::ezconnect` (the stable tests run the same body).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| config::fuzz::ezconnect(data));
