//! The one-pass scan accepts exactly what serde_json accepts, and a projection built from the
//! scan's layout is the value serde_json gives through the same projection: on generated
//! documents (nested objects and arrays, escapes, surrogate pairs, non-ASCII text, numbers at
//! the edges of a double), written compact and pretty, whole and broken (cut short, a byte
//! changed, inserted or removed).

use iamwatch::layout::Layout;
use iamwatch::pattern::ast::Step;
use iamwatch::projection::Projection;
use proptest::prelude::*;
use serde_json::Value;

/// Text for keys and strings: plain words, and characters that need escaping or are not
/// ASCII.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-e]{1,3}",
        1 => proptest::collection::vec(
            prop_oneof![
                Just('a'), Just('"'), Just('\\'), Just('/'), Just('\n'), Just('\u{1}'),
                Just('é'), Just('😀'), Just('\u{2028}'), Just('_')
            ],
            0..6
        )
        .prop_map(|cs| cs.into_iter().collect()),
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e300f64..1e300).prop_map(Value::from),
        Just(Value::from(0.5)),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 40, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(text(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Written compact or pretty, with the escapes serde_json does not write itself (`\/`,
/// `\u` for plain letters, a surrogate pair) swapped in where they keep the same text.
fn written(v: &Value, pretty: bool, odd: bool) -> String {
    let s = if pretty {
        serde_json::to_string_pretty(v).expect("serialise")
    } else {
        serde_json::to_string(v).expect("serialise")
    };
    if odd {
        s.replace('/', "\\/")
            .replace('a', "\\u0061")
            .replace('😀', "\\ud83d\\ude00")
    } else {
        s
    }
}

/// A few byte edits that break JSON in the ways files break.
#[derive(Debug, Clone)]
enum Edit {
    Cut(usize),
    Set(usize, u8),
    Insert(usize, u8),
    Remove(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let byte = prop_oneof![
        Just(b'"'),
        Just(b'\\'),
        Just(b','),
        Just(b':'),
        Just(b'{'),
        Just(b'}'),
        Just(b'['),
        Just(b']'),
        Just(b'0'),
        Just(b'e'),
        Just(b'-'),
        Just(b'.'),
        Just(b' '),
        Just(b'u'),
        Just(b'x'),
        Just(0x01u8),
    ];
    prop_oneof![
        any::<usize>().prop_map(Edit::Cut),
        (any::<usize>(), byte.clone()).prop_map(|(i, b)| Edit::Set(i, b)),
        (any::<usize>(), byte).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<usize>().prop_map(Edit::Remove),
    ]
}

fn apply(text: &str, e: &Edit) -> Option<String> {
    let mut b = text.as_bytes().to_vec();
    let n = b.len().max(1);
    match *e {
        Edit::Cut(i) => b.truncate(i % n),
        Edit::Set(i, c) => {
            if let Some(x) = b.get_mut(i % n) {
                *x = c;
            }
        }
        Edit::Insert(i, c) => b.insert(i % (b.len() + 1), c),
        Edit::Remove(i) => {
            if !b.is_empty() {
                b.remove(i % n);
            }
        }
    }
    String::from_utf8(b).ok()
}

/// Paths into `v`: some of its keys at each level, as a projection would keep them.
fn paths(v: &Value, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    if let Value::Object(m) = v {
        for (i, (k, child)) in m.iter().enumerate() {
            prefix.push(Step::Key(k.clone()));
            match i % 3 {
                0 => out.push(prefix.clone()),
                1 => paths(child, prefix, out),
                _ => {}
            }
            prefix.pop();
        }
    }
}

fn agree(text: &str, projections: &[Projection]) -> Result<(), TestCaseError> {
    let serde = serde_json::from_str::<Value>(text);
    let mut layout = Layout::new();
    let scanned = layout.scan(text);
    prop_assert_eq!(
        scanned.is_ok(),
        serde.is_ok(),
        "{:?}: scan {:?}, serde_json {:?}",
        text,
        scanned,
        serde.as_ref().err()
    );
    if scanned.is_ok() {
        for p in projections {
            let built = p.build(text, &layout).expect("a checked text builds");
            let parsed = p.parse_str(text).expect("serde_json parses it");
            prop_assert_eq!(built, parsed, "{:?}", text);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_scan_and_serde_json_agree(
        v in value(),
        pretty in any::<bool>(),
        odd in any::<bool>(),
        edits in proptest::collection::vec(edit(), 0..3),
    ) {
        let text = written(&v, pretty, odd);
        let mut ps = Vec::new();
        paths(&v, &mut Vec::new(), &mut ps);
        let mut projection = Projection::new();
        for p in &ps {
            projection.keep(p);
        }
        let mut presence = Projection::new();
        if let Value::Object(m) = &v {
            for k in m.keys() {
                presence.keep_presence(k);
            }
        }
        let projections = [projection, presence, Projection::new(), Projection::everything()];
        agree(&text, &projections)?;
        let mut broken = text.clone();
        for e in &edits {
            match apply(&broken, e) {
                Some(b) => broken = b,
                None => break,
            }
        }
        agree(&broken, &projections)?;
    }
}

#[test]
fn duplicate_keys_keep_the_last_as_serde_json_does() {
    let text = r#"{"a":1,"b":{"c":2},"a":{"d":3},"b":{"e":4}}"#;
    let mut layout = Layout::new();
    layout.scan(text).expect("valid");
    let mut p = Projection::new();
    p.keep(&[Step::Key("a".into())]);
    p.keep(&[Step::Key("b".into()), Step::Key("c".into())]);
    assert_eq!(
        p.build(text, &layout).expect("build"),
        p.parse_str(text).expect("parse")
    );
}

#[test]
fn telling_an_event_from_the_layout_gives_the_parsed_answer() {
    use iamwatch::event::{provider_of, Event};
    let records = [
        r#"{"eventVersion":"1.08","eventName":"ConsoleLogin"}"#,
        r#"{"eventSource":"s3.amazonaws.com","eventName":""}"#,
        r#"{"userIdentity":{},"eventName":5}"#,
        r#"{"userIdentity":{},"eventName":null}"#,
        r#"{"userIdentity":{},"eventName":[true]}"#,
        r#"{"userIdentity":{},"eventName":{"a":1}}"#,
        r#"{"userIdentity":{},"eventName":false}"#,
        r#"{"eventVersion":"1","eventType":"AwsCloudTrailInsight"}"#,
        r#"{"eventVersion":"1","eventType":"AwsApiCall"}"#,
        r#"{"eventVersion":"1"}"#,
        r#"{"event\u004eame":"X","eventSource":"s"}"#,
        r#"{"eventName":"A","eventName":7,"eventSource":"s"}"#,
        r#"{"eventName":7,"eventName":"B","eventSource":"s"}"#,
        r#"{"initiator":{},"action":"iam.x.read"}"#,
        r#"{"typeURI":"t","action":""}"#,
        r#"{"observer":1}"#,
        r#"{"action":"a"}"#,
        r#"{"action":"a\"b"}"#,
        r#"{"action":1}"#,
        r#"{"eventName":1}"#,
        r#"{}"#,
        r#"[1]"#,
        r#""text""#,
    ];
    for text in records {
        let mut layout = Layout::new();
        layout.scan(text).expect("valid");
        let parsed = Event::new(serde_json::from_str(text).expect("JSON")).map(|e| e.provider());
        assert_eq!(provider_of(text, &layout), parsed, "{text}");
    }
}
