//! Facts read from a record's checked text (`LaidFacts`) are the facts of the record parsed
//! whole (`RecordFacts`): for every fact name and path form (plain keys, selectn, indices,
//! `length`, wildcards, recursive descent), on generated records with nested objects and
//! arrays, scalars where objects are expected, duplicate keys (the last one counts, as in a
//! parsed record), escaped keys, and the derived facts; and the strings at paths of keys.

use iamwatch::conditions::path::Path;
use iamwatch::conditions::Facts;
use iamwatch::layout::Layout;
use iamwatch::rules::facts::{LaidFacts, LaidScratch, RecordFacts};
use proptest::prelude::*;
use serde_json::{json, Value};

/// A JSON document whose objects may repeat a key, and whose keys may be written escaped.
#[derive(Debug, Clone)]
enum Doc {
    Scalar(Value),
    Array(Vec<Doc>),
    Object(Vec<(String, bool, Doc)>),
}

const KEYS: &[&str] = &["a", "b", "ab", "length", "0", "1", "eventTime", "tokens"];

fn key() -> impl Strategy<Value = (String, bool)> {
    (proptest::sample::select(KEYS), any::<bool>()).prop_map(|(k, e)| (k.to_string(), e))
}

fn doc() -> impl Strategy<Value = Doc> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-5i64..300).prop_map(Value::from),
        Just(Value::from(0.5)),
        "[a-c_ ]{0,6}".prop_map(Value::String),
        Just(json!("2026-11-20T17:05:00.12+0000")),
        Just(json!("ip_address_restriction_violation x")),
        Just(json!("{\"b\": \"ip_address_restriction_violation\"}")),
    ]
    .prop_map(Doc::Scalar);
    leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Doc::Array),
            proptest::collection::vec((key(), inner), 0..6)
                .prop_map(|m| Doc::Object(m.into_iter().map(|((k, e), d)| (k, e, d)).collect())),
        ]
    })
}

fn record() -> impl Strategy<Value = Doc> {
    proptest::collection::vec((key(), doc()), 0..8)
        .prop_map(|m| Doc::Object(m.into_iter().map(|((k, e), d)| (k, e, d)).collect()))
}

fn write(d: &Doc, out: &mut String) {
    match d {
        Doc::Scalar(v) => out.push_str(&v.to_string()),
        Doc::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(x, out);
            }
            out.push(']');
        }
        Doc::Object(members) => {
            out.push('{');
            for (i, (k, escaped, v)) in members.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                if *escaped {
                    out.push('"');
                    for c in k.chars() {
                        out.push_str(&format!("\\u{:04x}", c as u32));
                    }
                    out.push('"');
                } else {
                    out.push_str(&Value::from(k.as_str()).to_string());
                }
                out.push(':');
                write(v, out);
            }
            out.push('}');
        }
    }
}

const PATHS: &[&str] = &[
    "",
    "$",
    "$.a",
    "$.a.b",
    "$.ab.a.b",
    "$['a']",
    "$.a[0]",
    "$.a[-1]",
    "$.a.length",
    "$.a.0",
    "$.a.1.b",
    "$..b",
    "$.*",
    "$.a[*].b",
    "$.a[0:2]",
    ".a",
    ".a.b",
    "a.b",
    ".0",
    "a[0].b",
];

const NAMES: &[&str] = &[
    "a",
    "b",
    "ab",
    "length",
    "0",
    "missing",
    "eventTime",
    "event_time",
    "timeOfDay",
    "tokens",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Several records in a row share the scratch space, as a reader's records do.
    #[test]
    fn laid_facts_are_the_parsed_records_facts(
        docs in proptest::collection::vec(record(), 1..4)
    ) {
        let mut scratch = LaidScratch::default();
        for d in &docs {
            same_facts(d, &mut scratch)?;
        }
    }
}

fn same_facts(d: &Doc, scratch: &mut LaidScratch) -> Result<(), TestCaseError> {
    let mut text = String::new();
    write(d, &mut text);
    let parsed: Value = serde_json::from_str(&text).expect("written JSON");
    let whole = RecordFacts::new(&parsed);
    let mut layout = Layout::new();
    layout.scan(&text).expect("checked");
    let laid = LaidFacts::new(&text, &layout, scratch);
    let night = json!({"dayStartTime": "1700", "dayEndTime": "0800"});
    let mut read_as_text = 0;
    for name in NAMES {
        for params in [None, Some(&night)] {
            for p in PATHS {
                let path = Path::parse(p).expect("path");
                let want = path.apply(whole.fact(name, params)).map(|v| v.into_owned());
                let got = laid.fact_at(name, params, &path).map(|v| v.into_owned());
                prop_assert_eq!(&got, &want, "fact {} path {:?} in {}", name, p, text);
                // A string read without building it is the string the fact is.
                if let Some(t) = laid.text_fact(name, &path) {
                    prop_assert_eq!(want.as_ref().and_then(Value::as_str), Some(&*t));
                    read_as_text += 1;
                }
            }
        }
    }
    for word in ["ip_address_restriction_violation", "b", "a", "x y", ""] {
        let item = json!(word);
        prop_assert_eq!(
            laid.array_holds("tokens", &item),
            whole.array_holds("tokens", &item),
            "tokens {:?} in {}",
            word,
            text
        );
    }
    // Every string fact at the root that is written without escapes is read as text.
    let plain = NAMES
        .iter()
        .filter_map(|n| parsed.get(*n).and_then(Value::as_str))
        .filter(|s| !s.contains(['"', '\\']) && !s.chars().any(|c| c < ' '))
        .count();
    prop_assert!(
        read_as_text >= plain,
        "{} < {} in {}",
        read_as_text,
        plain,
        text
    );
    prop_assert_eq!(laid.string("a"), parsed.get("a").and_then(Value::as_str));
    // Strings at paths of keys, as windows read them.
    let mut paths: Vec<Vec<&str>> = KEYS.iter().map(|k| vec![*k]).collect();
    for k in KEYS {
        for l in KEYS {
            paths.push(vec![k, l]);
            paths.push(vec![k, l, "a"]);
        }
    }
    for p in &paths {
        let want = p
            .iter()
            .try_fold(&parsed, |v, k| v.as_object()?.get(*k))
            .and_then(Value::as_str);
        let got = laid.text_at(p);
        prop_assert_eq!(got.as_deref(), want, "text at {:?} in {}", p, text);
    }
    Ok(())
}

#[test]
fn the_last_of_repeated_keys_counts_at_every_depth() {
    let text = r#"{"a": {"b": 1, "b": {"c": 2}}, "a": {"b": {"c": 3}, "\u0062": {"c": 4}}}"#;
    let mut layout = Layout::new();
    layout.scan(text).expect("checked");
    let mut scratch = LaidScratch::default();
    let laid = LaidFacts::new(text, &layout, &mut scratch);
    let at = |p: &str| {
        laid.fact_at("a", None, &Path::parse(p).expect("path"))
            .map(|v| v.into_owned())
    };
    assert_eq!(at("$.b.c"), Some(json!(4)));
    assert_eq!(at(".b.c"), Some(json!(4)));
    assert_eq!(at(""), Some(json!({"b": {"c": 4}})));
}

#[test]
fn every_top_level_member_is_found_among_many() {
    // More keys than the lookup has buckets: names share buckets, and repeated ones are
    // found last first.
    let mut text = String::from("{");
    for i in 0..300 {
        text.push_str(&format!("\"key-{i}\": \"first {i}\", "));
    }
    for i in (0..300).step_by(7) {
        text.push_str(&format!("\"key-{i}\": \"last {i}\", "));
    }
    text.push_str("\"k\": 0}");
    let parsed: Value = serde_json::from_str(&text).expect("written JSON");
    let mut layout = Layout::new();
    layout.scan(&text).expect("checked");
    let mut scratch = LaidScratch::default();
    let laid = LaidFacts::new(&text, &layout, &mut scratch);
    for i in 0..300 {
        let name = format!("key-{i}");
        assert_eq!(laid.string(&name), parsed[&name].as_str(), "{name}");
    }
    assert_eq!(laid.string("key-7"), Some("last 7"));
    assert_eq!(laid.string("key-300"), None);
    assert_eq!(laid.fact("k", None).as_deref(), Some(&json!(0)));
}
