//! Arbitrary text as a rule pack, a timestamp, an address and an allowlist: loading must never
//! panic.

/// One input of the target.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = iamwatch::rules::load_pack(&text, "fuzz", "fuzz");
    let _ = iamwatch::time::Timestamp::parse(&text);
    // An address read strictly is exactly one address: written back, it reads the same.
    if let Ok(ip) = iamwatch::net::parse_address(&text) {
        assert_eq!(iamwatch::net::parse_address(&ip.to_string()), Ok(ip));
    }
    if let Ok(list) = iamwatch::allowlist::Allowlist::named("fuzz", [text.as_ref()]) {
        let _ = list.check(&text);
    }
    if let Some(template) = text.lines().next() {
        let _ = iamwatch::rules::template::Template::parse(template);
    }
}
