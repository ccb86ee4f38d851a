//! The screen never turns away a record a rule matches: reading with and without it gives
//! the same events, the same bad records and the same matches, on the examples, on every
//! event of the IBM pack cases, and on generated records built to tempt it (rule strings in
//! the wrong places, escapes, stringified JSON, numbers, envelopes, subscription payloads,
//! whose records the screen reads as they stand in their messages).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use flate2::write::GzEncoder;
use flate2::Compression;
use iamwatch::detector::Detector;
use iamwatch::event::Event;
use iamwatch::ingest::{read_projected, read_screened, Format, Item, DEFAULT_MAX_RECORD};
use iamwatch::projection::Projection;
use iamwatch::screen::Screen;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::io::Write;

/// The built-in rules, ready to read with and without their screen.
struct Rules {
    d: Detector,
    projection: Projection,
    screen: (Screen, Projection),
}

/// What a run saw: per record position, whether it is an event and the rules it matched.
fn outcome(rules: &Rules, input: &[u8], screened: bool) -> Vec<String> {
    let Rules {
        d,
        projection,
        screen,
    } = rules;
    let mut out = Vec::new();
    let mut sink = |item: Item<'_>| {
        out.push(match item {
            Item::Record {
                value,
                position,
                raw,
            } => {
                let event = match Event::new(value) {
                    Ok(e) => e,
                    Err(e) => return out.push(format!("{position}: not an event: {e}")),
                };
                let mut rules: Vec<String> = d
                    .matching(&event)
                    .iter()
                    .map(|m| m.rule().id.clone())
                    .collect();
                // A match must hold on the whole record too.
                if let Some(raw) = raw {
                    let whole =
                        Event::new(serde_json::from_slice(raw).expect("raw")).expect("event");
                    let again: Vec<String> = d
                        .matching(&whole)
                        .iter()
                        .map(|m| m.rule().id.clone())
                        .collect();
                    assert_eq!(rules, again, "{position}");
                }
                rules.sort();
                format!("{position}: event {rules:?}")
            }
            Item::Screened { event, position } => match event {
                Ok(_) => format!("{position}: event []"),
                Err(e) => format!("{position}: not an event: {e}"),
            },
            Item::Bad { position, reason } => format!("{position}: bad: {reason}"),
            Item::Laid { position, .. } => panic!("{position}: read_screened lays no record"),
            Item::Reading {
                position, reading, ..
            } => format!("{position}: reading {reading}"),
        })
    };
    if screened {
        let s = Some((&screen.0, &screen.1));
        read_screened(
            input,
            Format::Auto,
            projection,
            s,
            DEFAULT_MAX_RECORD,
            &mut sink,
        )
        .expect("read");
    } else {
        read_projected(input, Format::Auto, projection, &mut sink).expect("read");
    }
    out
}

fn detector() -> Rules {
    let d = Detector::new(&iamwatch::packs::all().expect("built-in packs"));
    let screen = d.screen().expect("every built-in rule needs a string");
    Rules {
        projection: d.projection(),
        screen,
        d,
    }
}

fn same(d: &Rules, input: &[u8]) {
    let plain = outcome(d, input, false);
    let screened = outcome(d, input, true);
    assert_eq!(plain, screened);
}

#[test]
fn the_examples_read_the_same_screened() {
    let d = detector();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");
    let mut matched = 0;
    for file in [
        "cloudtrail/events.jsonl",
        "cloudtrail/111122223333_CloudTrail_us-east-1_20261121T0220Z_intrusion.json.gz",
        "eventbridge/attach-role-policy.json",
        "awslogs/subscription-event.json",
        "ibm/activity-tracker-events.jsonl",
    ] {
        let bytes = std::fs::read(format!("{root}/{file}")).expect("example");
        same(&d, &bytes);
        matched += outcome(&d, &bytes, true)
            .iter()
            .filter(|l| !l.ends_with("event []"))
            .count();
    }
    assert!(matched > 20, "{matched}");
}

#[test]
fn every_ibm_case_event_reads_the_same_screened() {
    let cases: Value =
        serde_json::from_str(include_str!("fixtures/ibm-pack-cases.json")).expect("cases");
    let mut lines = String::new();
    for case in cases.as_array().expect("cases") {
        for e in case["events"].as_array().expect("events") {
            lines.push_str(&e.to_string());
            lines.push('\n');
        }
    }
    same(&detector(), lines.as_bytes());
}

/// Pieces of CloudTrail and CADF records, many of them the strings rules look for.
fn record() -> impl Strategy<Value = Value> {
    let name = prop::sample::select(vec![
        "ConsoleLogin",
        "GetObject",
        "CreateUser",
        "Console\\u004cogin",
        "AttachRolePolicy",
        "StopLogging",
        "DescribeInstances",
        "PutBucketPolicy",
        "ScheduleKeyDeletion",
    ]);
    let source = prop::sample::select(vec![
        "signin.amazonaws.com",
        "iam.amazonaws.com",
        "s3.amazonaws.com",
        "kms.amazonaws.com",
        "cloudtrail.amazonaws.com",
    ]);
    let identity = prop::sample::select(vec!["Root", "IAMUser", "AssumedRole", "AWSService"]);
    let error = prop::option::of(prop::sample::select(vec![
        "AccessDenied",
        "Client.UnauthorizedOperation",
        "ThrottlingException",
    ]));
    let mfa = prop::option::of(prop::sample::select(vec!["Yes", "No"]));
    let action = prop::sample::select(vec![
        "iam-identity.serviceid-apikey.login",
        "iam-groups.group.delete",
        "iam-identity.account-serviceid.update",
        "cloud-object-storage.bucket.delete",
        "kms.secrets.unwrap",
        "iam-am.policy.read",
    ]);
    let word = prop::sample::select(vec![
        "ip_address_restriction_violation",
        "ip\\u005faddress_restriction_violation",
        "ok",
        "Failed authentication",
        "Root",
    ]);
    (name, source, identity, error, mfa, action, word, any::<u8>()).prop_map(
        |(name, source, identity, error, mfa, action, word, kind)| {
            // `\u` sequences are written through unescaped text: the record then holds the
            // escape itself, as a producer that escapes would write it.
            let name = name.replace("\\u004c", "L");
            let mut r = match kind % 4 {
                0 | 1 => json!({
                    "eventVersion": "1.08",
                    "eventSource": source,
                    "eventName": name,
                    "eventTime": "2026-11-20T10:00:00Z",
                    "eventID": format!("id-{kind}"),
                    "awsRegion": "us-east-1",
                    "sourceIPAddress": "203.0.113.7",
                    "recipientAccountId": "111122223333",
                    "userIdentity": {"type": identity, "accountId": "111122223333"},
                    "responseElements": {"ConsoleLogin": if kind % 8 == 0 { "Failure" } else { "Success" }},
                }),
                _ => json!({
                    "action": action,
                    "eventTime": "2026-11-20T18:30:00.00+0000",
                    "id": format!("cadf-{kind}"),
                    "outcome": if kind % 3 == 0 { "failure" } else { "success" },
                    "initiator": {"id": "iam-ServiceId-1", "host": {"address": "198.51.100.1"}},
                    "target": {"id": "crn:v1:bluemix:public:iam-identity::a/1234::serviceid:x"},
                    "requestData": format!("{{\"detail\":\"{word}\"}}"),
                    "reason": {"reasonCode": if kind % 5 == 0 { 403 } else { 200 }},
                    "logSourceCRN": "crn:v1:bluemix:public:iam-identity:global:a/1234:::",
                }),
            };
            if let Some(e) = error {
                r["errorCode"] = json!(e);
            }
            if let Some(m) = mfa {
                r["additionalEventData"] = json!({"MFAUsed": m});
            }
            if kind % 16 == 1 {
                r["errorMessage"] = json!("Failed authentication");
            }
            r
        },
    )
}

/// How records are laid out: JSON lines, a CloudTrail file, EventBridge envelopes, a
/// CloudWatch Logs subscription event (some messages cut short).
fn layout(records: &[Value], how: u8) -> Vec<u8> {
    match how % 4 {
        3 => {
            let events: Vec<String> = records
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let mut message = r.to_string();
                    if (usize::from(how) + i) % 7 == 0 {
                        message.truncate(message.len() / 2);
                    }
                    format!(
                        r#"{{"id":"{i}","timestamp":1,"message":{}}}"#,
                        json!(message)
                    )
                })
                .collect();
            // Laid out as CloudWatch writes it: the message type first.
            let payload = format!(
                r#"{{"messageType":"DATA_MESSAGE","owner":"111122223333","logGroup":"g","logStream":"s","subscriptionFilters":["f"],"logEvents":[{}]}}"#,
                events.join(",")
            );
            let mut gz = GzEncoder::new(Vec::new(), Compression::default());
            gz.write_all(payload.as_bytes()).expect("gzip");
            let data = STANDARD.encode(gz.finish().expect("gzip"));
            format!("{}\n", json!({"awslogs": {"data": data}})).into_bytes()
        }
        0 => records
            .iter()
            .map(|r| format!("{r}\n"))
            .collect::<String>()
            .into_bytes(),
        1 => json!({ "Records": records }).to_string().into_bytes(),
        _ => records
            .iter()
            .map(|r| {
                format!(
                    "{}\n",
                    json!({"detail-type": "AWS API Call via CloudTrail", "detail": r})
                )
            })
            .collect::<String>()
            .into_bytes(),
    }
}

#[test]
fn generated_records_read_the_same_screened() {
    let d = detector();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 150,
        ..ProptestConfig::default()
    });
    runner
        .run(
            &(prop::collection::vec(record(), 1..12), any::<u8>()),
            |(records, how)| {
                let mut bytes = layout(&records, how);
                // Write some names with an escape, as a producer that escapes would.
                if how % 5 == 0 {
                    let text = String::from_utf8(bytes).expect("utf-8");
                    bytes = text
                        .replace("ConsoleLogin\"", "Console\\u004cogin\"")
                        .into_bytes();
                }
                prop_assert_eq!(outcome(&d, &bytes, false), outcome(&d, &bytes, true));
                Ok(())
            },
        )
        .expect("the screen agrees");
}

/// A record meets only its own provider's rules' needs: a CloudTrail record holding the
/// marker only an IBM rule looks for is turned away (no rule that runs on it could match),
/// a CADF event holding it is admitted, and both read the same with and without the screen.
#[test]
fn records_meet_only_their_own_providers_needs() {
    let d = detector();
    let (screen, _) = &d.screen;
    let cloudtrail = r#"{"eventVersion":"1.08","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","requestParameters":{"note":"ip_address_restriction_violation"}}"#;
    let cadf = r#"{"action":"iam-identity.serviceid-apikey.login","initiator":{"id":"iam-ServiceId-1"},"reason":{"reasonType":"ip_address_restriction_violation"},"eventTime":"2024-01-01T00:00:00.00+0000"}"#;
    let admitted = |text: &str| {
        let mut layout = iamwatch::layout::Layout::new();
        layout.scan(text).expect("JSON");
        let provider = iamwatch::event::provider_of(text, &layout).expect("an event");
        (
            screen.admits(text, &layout),
            screen.admits_from(provider, text, &layout),
        )
    };
    // Every rule's needs admit both; the provider's own only the CADF event.
    assert_eq!(admitted(cloudtrail), (true, false));
    assert_eq!(admitted(cadf), (true, true));
    same(&d, format!("{cloudtrail}\n{cadf}\n").as_bytes());
}
