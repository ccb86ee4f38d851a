//! Arbitrary JSON as json-rules-engine conditions, evaluated on a fixed set of facts: loading
//! and evaluating must never panic, and facts read from the record's text give the answer
//! facts read from the parsed record give.

use iamwatch::conditions::Condition;
use iamwatch::layout::Layout;
use iamwatch::rules::facts::{LaidFacts, LaidScratch, RecordFacts};
use serde_json::{json, Value};

const FACTS: &str = r#"{"a": 1, "s": "abc", "arr": [1, "x", null, [2]], "o": {"k": {"j": [3, 4]}, "k": {"j": 5}},
  "n": null, "t": true, "big": 1e300, "e\u0073c": "d", "eventTime": "2026-11-20T17:05:00Z",
  "msg": "{\"m\": \"ip_address_restriction_violation\"}"}"#;

/// One input of the target.
pub fn run(data: &[u8]) {
    let Ok(cond) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let Ok(c) = Condition::parse(&cond, "$") else {
        return;
    };
    let facts = json!({"a": 1, "s": "abc", "arr": [1, "x", null, [2]], "o": {"k": {"j": [3, 4]}},
                       "n": null, "t": true, "big": 1e300});
    let Value::Object(f) = facts else { return };
    let _ = c.evaluate(&f);
    let record: Value = serde_json::from_str(FACTS).expect("facts");
    let mut layout = Layout::new();
    layout.scan(FACTS).expect("facts");
    let mut scratch = LaidScratch::default();
    let laid = LaidFacts::new(FACTS, &layout, &mut scratch);
    let parsed = RecordFacts::new(&record);
    assert_eq!(c.evaluate(&laid), c.evaluate(&parsed));
}
