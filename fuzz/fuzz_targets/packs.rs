//! Arbitrary text as a rule pack, a timestamp, an address and an allowlist: loading must never
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| iamwatch_fuzz::packs::run(data));
