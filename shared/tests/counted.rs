//! What windows read of a record that is not built (`Counted::read` over `LaidFacts::text_at`)
//! is what they read of the record built as an `Event`: its time, id, account and operation
//! name, for both providers, with members missing, of other types, written with escapes,
//! repeated, or where a provider looks second (CADF `correlationId`, `target.id`; CloudTrail
//! `userIdentity.accountId`, `insightDetails.eventName`).

use iamwatch::detector::Counted;
use iamwatch::event::{provider_of, Event};
use iamwatch::layout::Layout;
use iamwatch::rules::facts::{LaidFacts, LaidScratch};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::borrow::Cow;

/// A member's value: absent, a string (written plain or with every character escaped), or
/// something that is not a string.
#[derive(Debug, Clone)]
enum Field {
    Absent,
    Text(String, bool),
    Other(Value),
}

fn field(texts: &'static [&'static str]) -> impl Strategy<Value = Field> {
    prop_oneof![
        2 => Just(Field::Absent),
        4 => (proptest::sample::select(texts), any::<bool>())
            .prop_map(|(t, e)| Field::Text(t.to_string(), e)),
        1 => prop_oneof![Just(json!(7)), Just(json!(null)), Just(json!({"a": "b"}))]
            .prop_map(Field::Other),
    ]
}

const TIMES: &[&str] = &[
    "2026-11-20T08:00:00.92+0000",
    "2026-11-20T08:00:00Z",
    "not a time",
    "",
];
const IDS: &[&str] = &["0000000000000001", "e-\"quoted\"", "é"];
const NAMES: &[&str] = &["iam-groups.group.delete", "CreateUser", ""];
const ACCOUNTS: &[&str] = &["123456789012", "acct/é"];
const CRNS: &[&str] = &[
    "crn:v1:bluemix:public:iam-identity:global:a/acct4:::",
    "crn:v1:bluemix:public:iam-identity:global:a/é::",
    "crn:v1:bluemix:public:iam-identity:global:s/other:::",
    "not a crn",
];

fn write_text(t: &str, escaped: bool) -> String {
    if escaped {
        let mut out = String::from("\"");
        for unit in t.encode_utf16() {
            out.push_str(&format!("\\u{unit:04x}"));
        }
        out + "\""
    } else {
        Value::from(t).to_string()
    }
}

/// `"key": value` for a present field, nested under `outer` keys.
fn member(path: &[&str], f: &Field) -> Option<String> {
    let value = match f {
        Field::Absent => return None,
        Field::Text(t, e) => write_text(t, *e),
        Field::Other(v) => v.to_string(),
    };
    let (last, outer) = path.split_last()?;
    let mut text = format!("{}: {value}", Value::from(*last));
    for k in outer.iter().rev() {
        text = format!("{}: {{{text}}}", Value::from(*k));
    }
    Some(text)
}

fn record() -> impl Strategy<Value = String> {
    let cadf = (
        field(TIMES),
        field(IDS),
        field(IDS),
        field(NAMES),
        field(CRNS),
        field(CRNS),
        any::<bool>(),
    )
        .prop_map(|(time, id, correlation, action, log, target, repeat)| {
            let mut m: Vec<String> = [
                member(&["eventTime"], &time),
                member(&["id"], &id),
                member(&["correlationId"], &correlation),
                member(&["action"], &action),
                member(&["logSourceCRN"], &log),
                member(&["target", "id"], &target),
                Some(r#""initiator": {"id": "IBMid-1"}"#.to_string()),
            ]
            .into_iter()
            .flatten()
            .collect();
            if repeat {
                // A repeated member: the last one counts, as in a parsed record.
                m.push(r#""id": "last""#.to_string());
            }
            format!("{{{}}}", m.join(", "))
        });
    let cloudtrail = (
        field(TIMES),
        field(IDS),
        field(NAMES),
        field(NAMES),
        field(ACCOUNTS),
        field(ACCOUNTS),
    )
        .prop_map(|(time, id, name, insight, recipient, principal)| {
            let m: Vec<String> = [
                member(&["eventTime"], &time),
                member(&["eventID"], &id),
                member(&["eventName"], &name),
                member(&["insightDetails", "eventName"], &insight),
                member(&["recipientAccountId"], &recipient),
                member(&["userIdentity", "accountId"], &principal),
                Some(
                    r#""eventSource": "iam.amazonaws.com", "eventType": "AwsCloudTrailInsight""#
                        .to_string(),
                ),
            ]
            .into_iter()
            .flatten()
            .collect();
            format!("{{{}}}", m.join(", "))
        });
    prop_oneof![cadf, cloudtrail]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn windows_read_the_text_as_they_read_the_event(text in record()) {
        let parsed: Value = serde_json::from_str(&text).expect("written JSON");
        let mut layout = Layout::new();
        layout.scan(&text).expect("checked");
        let event = Event::new(parsed);
        let provider = provider_of(&text, &layout);
        prop_assert_eq!(provider.as_ref().ok().copied(), event.as_ref().ok().map(Event::provider));
        let (Ok(event), Ok(provider)) = (event, provider) else {
            return Ok(());
        };
        let mut scratch = LaidScratch::default();
        let laid = LaidFacts::new(&text, &layout, &mut scratch);
        let read = Counted::read(provider, |p| laid.text_at(p));
        let built = Counted::read(event.provider(), |p| event.str_at(p).map(Cow::Borrowed));
        prop_assert_eq!(&read, &built, "{}", text);
        // And both are what the event's own accessors say.
        let Some(read) = read else {
            prop_assert!(event.time().is_none());
            return Ok(());
        };
        prop_assert_eq!(Some(read.at), event.time().map(|t| t.millis()));
        prop_assert_eq!(read.id.as_deref(), event.id());
        prop_assert_eq!(read.account.as_deref(), event.account());
        prop_assert_eq!(read.name.as_deref(), event.event_name());
        // An event with an id is counted by it; one without, by a hash of its record.
        let of = Counted::of(&event).expect("a time");
        match event.id() {
            Some(id) => prop_assert_eq!(of.id.as_deref(), Some(id)),
            None => prop_assert!(of.id.is_some_and(|h| h.starts_with('h'))),
        }
    }
}
