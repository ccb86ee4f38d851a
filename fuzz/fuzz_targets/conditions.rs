//! Arbitrary JSON as json-rules-engine conditions, evaluated on a fixed set of facts: loading
//! and evaluating must never panic.
#![no_main]

use iamwatch::conditions::Condition;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

fuzz_target!(|data: &[u8]| {
    let Ok(cond) = serde_json::from_slice::<Value>(data) else { return };
    let Ok(c) = Condition::parse(&cond, "$") else { return };
    let facts = json!({"a": 1, "s": "abc", "arr": [1, "x", null, [2]], "o": {"k": {"j": [3, 4]}},
                       "n": null, "t": true, "big": 1e300});
    let Value::Object(f) = facts else { return };
    let _ = c.evaluate(&f);
});
