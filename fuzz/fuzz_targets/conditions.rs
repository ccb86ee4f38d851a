//! Arbitrary JSON as json-rules-engine conditions, evaluated on a fixed set of facts: loading
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| iamwatch_fuzz::conditions::run(data));
