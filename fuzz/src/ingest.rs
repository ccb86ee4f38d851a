//! Arbitrary bytes through every input layout, projected, whole, screened and laid: reading
//! must never panic, a projected record must match the built-in rules exactly as the whole
//! record does, the screen must turn away only records that match nothing, and records left as
//! checked text must be the records the whole reading gives.

use iamwatch::detector::Detector;
use iamwatch::event::Event;
use iamwatch::ingest::{
    read, read_laid, read_projected, read_screened, Format, Item, DEFAULT_MAX_RECORD,
};
use iamwatch::projection::Projection;
use iamwatch::screen::Screen;
use std::sync::OnceLock;

fn detector() -> &'static Detector {
    static D: OnceLock<Detector> = OnceLock::new();
    D.get_or_init(|| Detector::with_filter(&iamwatch::packs::all().expect("packs"), |_, _| true))
}

/// The default rules (no dormant ones), their projection and their screen.
fn screened() -> &'static (Detector, Projection, (Screen, Projection)) {
    static S: OnceLock<(Detector, Projection, (Screen, Projection))> = OnceLock::new();
    S.get_or_init(|| {
        let d = Detector::new(&iamwatch::packs::all().expect("packs"));
        let screen = d.screen().expect("the default rules have a screen");
        (d.clone(), d.projection(), screen)
    })
}

fn ids(d: &Detector, e: &Event) -> Vec<String> {
    d.matching(e).iter().map(|m| m.rule().id.clone()).collect()
}

/// What a reader saw of one item: where, and the rules it matched (or why it is no event).
fn seen(d: &Detector, item: Item<'_>) -> String {
    match item {
        Item::Record {
            value, position, ..
        } => match Event::new(value) {
            Ok(e) => format!("{position} {:?}", ids(d, &e)),
            Err(e) => format!("{position} no event: {e}"),
        },
        Item::Laid {
            text,
            layout,
            position,
        } => match Projection::everything().build(text, layout) {
            Ok(value) => seen(
                d,
                Item::Record {
                    value,
                    position,
                    raw: None,
                },
            ),
            Err(e) => panic!("{position}: a laid record does not build: {e}"),
        },
        Item::Screened { event, position } => match event {
            Ok(_) => format!("{position} []"),
            Err(e) => format!("{position} no event: {e}"),
        },
        // Where a record is bad, not the parser's words for it: a projection stops at the
        // first error of what it reads, which may come after another one it skipped.
        Item::Bad { position, .. } => format!("{position} bad"),
        Item::Reading {
            position, reading, ..
        } => format!("{position} reading {reading}"),
    }
}

/// One input of the target.
pub fn run(data: &[u8]) {
    let d = detector();
    let projection = d.projection();
    let (live, live_projection, (screen, minimal)) = screened();
    for format in [
        Format::Auto,
        Format::CloudTrail,
        Format::JsonArray,
        Format::JsonLines,
        Format::AwsLogs,
    ] {
        let _ = read(data, format, &mut |_| {});
        let _ = read_projected(data, format, &projection, &mut |item| {
            if let Item::Record {
                value,
                raw: Some(raw),
                ..
            } = item
            {
                let Ok(whole) = serde_json::from_slice::<serde_json::Value>(raw) else {
                    return;
                };
                if let (Ok(p), Ok(w)) = (Event::new(value), Event::new(whole)) {
                    assert_eq!(ids(d, &p), ids(d, &w));
                }
            }
        });
        let mut plain = Vec::new();
        let _ = read_projected(data, format, live_projection, &mut |item| {
            plain.push(seen(live, item))
        });
        let mut through = Vec::new();
        let s = Some((screen, minimal));
        let _ = read_screened(
            data,
            format,
            live_projection,
            s,
            DEFAULT_MAX_RECORD,
            &mut |item| through.push(seen(live, item)),
        );
        assert_eq!(plain, through);
        let mut whole = Vec::new();
        let _ = read(data, format, &mut |item| whole.push(seen(live, item)));
        let mut laid = Vec::new();
        let _ = read_laid(data, format, &mut |item| laid.push(seen(live, item)));
        assert_eq!(whole, laid);
    }
}
