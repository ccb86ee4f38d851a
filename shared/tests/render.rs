//! Golden files for every rendering of a finding (subject, SMS, e-mail, attributes), plus the
//! limits each channel must keep whatever the event holds. Set UPDATE_GOLDEN=1 to rewrite the
//! files after an intended change, then review the diff.

mod common;

use common::{iam_user, sign_in, trail};
use iamwatch::detector::Detector;
use iamwatch::event::Event;
use iamwatch::finding::Finding;
use iamwatch::packs;
use iamwatch::render::{render, Rendered, MESSAGE_MAX, SMS_MAX, SUBJECT_MAX};
use iamwatch::window::MemoryStore;
use serde_json::{json, Value};
use std::path::PathBuf;

fn findings(record: &str) -> Vec<Finding> {
    let packs = packs::all().expect("packs");
    let d = Detector::new(&packs);
    d.evaluate(&Event::new(serde_json::from_str(record).expect("json")).expect("event"))
}

fn golden(name: &str, r: &Rendered) {
    let text = format!(
        "SUBJECT: {}\nSMS: {}\nATTRIBUTES: {:?}\n\n{}",
        r.subject, r.sms, r.attributes, r.email
    );
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "golden",
        &format!("{name}.txt"),
    ]
    .iter()
    .collect();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &text).expect("write golden");
    }
    let want =
        std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("missing {}", path.display()));
    assert_eq!(
        text, want,
        "rendering of {name} changed; UPDATE_GOLDEN=1 rewrites it"
    );
}

/// The limits of every channel.
fn limits(r: &Rendered) {
    assert!(r.subject.chars().count() <= SUBJECT_MAX, "{}", r.subject);
    assert!(
        r.subject.is_ascii() && !r.subject.contains('\n'),
        "{}",
        r.subject
    );
    assert!(r.sms.len() <= SMS_MAX, "{} bytes: {}", r.sms.len(), r.sms);
    assert!(
        r.sms
            .chars()
            .all(|c| (' '..='~').contains(&c) && !"[]{}\\^~|`".contains(c)),
        "{}",
        r.sms
    );
    assert!(
        r.message().len() < MESSAGE_MAX,
        "{} bytes",
        r.message().len()
    );
    let m: Value = serde_json::from_str(&r.message()).expect("message is JSON");
    for k in ["default", "email", "sms"] {
        assert!(m[k].is_string(), "{k}");
    }
}

#[test]
fn root_console_sign_in() {
    let root = json!({"type": "Root", "principalId": "111122223333", "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333"});
    let f = findings(&sign_in(
        root,
        "Success",
        json!({"additionalEventData": {"MFAUsed": "No"}}),
    ));
    let ids: Vec<&str> = f.iter().map(|f| f.rule.id.as_str()).collect();
    assert_eq!(ids, ["console-login-without-mfa", "root-account-usage"]);
    for (f, name) in f.iter().zip(["root-sign-in-without-mfa", "root-activity"]) {
        let r = render(f);
        limits(&r);
        golden(name, &r);
    }
}

#[test]
fn unicode_principals_fold_to_ascii() {
    let mut who = iam_user();
    who["userName"] = json!("José Müller-Łukasz 🚀 [ops]");
    who["arn"] = json!("arn:aws:iam::111122223333:user/José Müller-Łukasz 🚀 [ops]");
    let f = findings(&trail(
        json!({"userIdentity": who, "eventSource": "iam.amazonaws.com", "eventName": "CreateUser", "readOnly": false}),
    ));
    let r = render(&f[0]);
    limits(&r);
    assert!(r.sms.contains("by Jose Muller-Lukasz  ops"), "{}", r.sms);
    assert!(
        r.subject.contains("Jose Muller-Lukasz  [ops]"),
        "{}",
        r.subject
    );
    // The e-mail keeps the name as written.
    assert!(r.email.contains("José Müller-Łukasz 🚀 [ops]"));
    golden("unicode-principal", &r);
}

#[test]
fn huge_events_are_truncated_in_the_email_only() {
    let big = "x".repeat(600 * 1024);
    let f = findings(&trail(
        json!({"eventSource": "iam.amazonaws.com", "eventName": "PutUserPolicy", "readOnly": false,
        "requestParameters": {"userName": "bob", "policyName": "p", "policyDocument": big}}),
    ));
    let r = render(
        f.iter()
            .find(|f| f.rule.id == "iam-policy-changes")
            .expect("policy finding"),
    );
    limits(&r);
    assert!(r.email.contains("(event truncated: "), "no truncation note");
    assert!(r.email.len() < 110 * 1024);
    let j: Value = serde_json::from_str(&r.json).unwrap();
    assert_eq!(
        j["record_truncated"]["bytes"]
            .as_u64()
            .map(|b| b > 600 * 1024),
        Some(true)
    );
    assert_eq!(j["rule"], "iam-policy-changes");
}

#[test]
fn missing_fields_render_as_dashes() {
    let f = findings(
        r#"{"eventVersion":"1.08","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging"}"#,
    );
    let r = render(&f[0]);
    limits(&r);
    assert_eq!(
        r.sms,
        "iamwatch CRITICAL cloudtrail-tampering: StopLogging by ?"
    );
    assert!(r.email.contains("Who:      -\n"), "{}", r.email);
    assert!(
        !r.email.contains("Open the event"),
        "no link without an event id"
    );
    golden("missing-fields", &r);
}

#[test]
fn windowed_findings_say_how_many() {
    let pack = iamwatch::rules::load_pack(
        r#"{"pack": "t", "rules": [{"id": "denied-burst", "severity": "high", "title": "{count} denied calls in {within} by {actor}",
            "filterPattern": "{ $.errorCode = \"AccessDenied*\" }", "threshold": {"count": 3, "within": "10 minutes"}}]}"#,
        "test",
        "t",
    )
    .unwrap();
    let d = Detector::new(&[pack]);
    let mut store = MemoryStore::default();
    let mut last = Vec::new();
    for i in 0..3 {
        let rec = trail(
            json!({"eventID": format!("e{i}"), "eventTime": format!("2026-11-20T10:0{i}:00Z"), "errorCode": "AccessDenied"}),
        );
        last = d
            .evaluate_with(
                &Event::new(serde_json::from_str(&rec).unwrap()).unwrap(),
                &mut store,
            )
            .unwrap();
    }
    let r = render(&last[0]);
    limits(&r);
    assert!(
        r.email
            .contains("Window:   3rd matching event in 10 minutes"),
        "{}",
        r.email
    );
    assert!(r.sms.ends_with("x3 in 10 minutes"), "{}", r.sms);
    golden("windowed", &r);
}
