//! Arbitrary text through the one-pass scan: it must never panic, must accept exactly what
//! serde_json accepts, and every projection built from its layout must equal serde_json's.

use iamwatch::layout::Layout;
use iamwatch::pattern::ast::Step;
use iamwatch::projection::Projection;
use serde_json::Value;

/// Projections of the keys seen in `v`: the first level whole, the second level partly.
fn projections(v: &Value) -> Vec<Projection> {
    let mut whole = Projection::new();
    let mut nested = Projection::new();
    let mut presence = Projection::new();
    if let Value::Object(m) = v {
        for (i, (k, child)) in m.iter().enumerate() {
            presence.keep_presence(k);
            if i % 2 == 0 {
                whole.keep(&[Step::Key(k.clone())]);
            }
            if let Value::Object(inner) = child {
                for k2 in inner.keys().step_by(2) {
                    nested.keep(&[Step::Key(k.clone()), Step::Key(k2.clone())]);
                }
            }
        }
    }
    vec![whole, nested, presence, Projection::everything()]
}

/// One input of the target.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut layout = Layout::new();
    let scanned = layout.scan(text);
    let parsed = serde_json::from_str::<Value>(text);
    assert_eq!(scanned.is_ok(), parsed.is_ok(), "{text:?}: {scanned:?}");
    if let Ok(v) = parsed {
        for p in projections(&v) {
            let built = p.build(text, &layout).expect("a checked text builds");
            assert_eq!(
                built,
                p.parse_str(text).expect("serde_json parses it"),
                "{text:?}"
            );
        }
    }
    // The streaming form stops right after one object, and never reads past its end.
    if let Ok(end) = layout.scan_object(data) {
        assert!(end <= data.len());
        assert_eq!(
            data[..end].iter().rev().find(|b| !b.is_ascii_whitespace()),
            Some(&b'}')
        );
    }
}
