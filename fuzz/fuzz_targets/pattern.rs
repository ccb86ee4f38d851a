//! Arbitrary patterns against arbitrary messages: parsing and matching must never panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| iamwatch_fuzz::pattern::run(data));
