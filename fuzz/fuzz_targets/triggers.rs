//! Arbitrary bytes as the triggers the handlers decode: S3, SQS, SNS and EventBridge
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| iamwatch_fuzz::triggers::run(data));
