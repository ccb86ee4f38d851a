//! Arbitrary bytes through every input layout, projected and whole: reading must never panic,
//! and a projected record must match the built-in rules exactly as the whole record does.
#![no_main]

use iamwatch::detector::Detector;
use iamwatch::event::Event;
use iamwatch::ingest::{read, read_projected, Format, Item};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn detector() -> &'static Detector {
    static D: OnceLock<Detector> = OnceLock::new();
    D.get_or_init(|| Detector::with_filter(&iamwatch::packs::all().expect("packs"), |_, _| true))
}

fuzz_target!(|data: &[u8]| {
    let d = detector();
    let projection = d.projection();
    for format in [Format::Auto, Format::CloudTrail, Format::JsonArray, Format::JsonLines, Format::AwsLogs] {
        let _ = read(data, format, &mut |_| {});
        let _ = read_projected(data, format, &projection, &mut |item| {
            if let Item::Record { value, raw: Some(raw), .. } = item {
                let Ok(whole) = serde_json::from_slice::<serde_json::Value>(raw) else { return };
                if let (Ok(p), Ok(w)) = (Event::new(value), Event::new(whole)) {
                    let ids = |e: &Event| -> Vec<String> {
                        d.matching(e).iter().map(|m| m.rule().id.clone()).collect()
                    };
                    assert_eq!(ids(&p), ids(&w));
                }
            }
        });
    }
});
