//! Arbitrary text through the one-pass scan: it must never panic, must accept exactly what
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| iamwatch_fuzz::layout::run(data));
