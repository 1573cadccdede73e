//! Fuzz the incremental TTC request decoder (same body as the stable property test).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tns::fuzzing::request_decoder(data));
