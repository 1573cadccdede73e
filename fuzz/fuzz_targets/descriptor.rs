//! cargo-fuzz target: `config::fuzz::descriptor` (the stable tests run the same body).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| config::fuzz::descriptor(data));
