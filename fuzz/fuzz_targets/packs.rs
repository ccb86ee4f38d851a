//! Arbitrary text as a rule pack and arbitrary timestamps: loading must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = iamwatch::rules::load_pack(&text, "fuzz", "fuzz");
    let _ = iamwatch::time::Timestamp::parse(&text);
    let _ = iamwatch::net::parse_ip(&text);
    if let Some(template) = text.lines().next() {
        let _ = iamwatch::rules::template::Template::parse(template);
    }
});
