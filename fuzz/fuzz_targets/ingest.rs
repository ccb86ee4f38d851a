//! Arbitrary bytes through every input layout, projected, whole, screened and laid: reading
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| iamwatch_fuzz::ingest::run(data));
