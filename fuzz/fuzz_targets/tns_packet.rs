//! Fuzz the TNS packet decoders (same body as the stable property test in `tns::fuzzing`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tns::fuzzing::packet_decoders(data));
