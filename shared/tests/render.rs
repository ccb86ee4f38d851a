//! Golden files for every rendering of a finding (subject, SMS, e-mail, attributes, the chat
//! notification of Amazon Q Developer in chat applications), plus the
//! limits each channel must keep whatever the event holds. Set UPDATE_GOLDEN=1 to rewrite the
//! files after an intended change, then review the diff.

mod common;

use common::{iam_user, sign_in, trail};
use iamwatch::detector::Detector;
use iamwatch::event::Event;
use iamwatch::finding::Finding;
use iamwatch::packs;
use iamwatch::render::{
    render, Rendered, CHAT_DESCRIPTION_MAX, CHAT_KEYWORDS_MAX, CHAT_KEYWORD_MAX, CHAT_STEPS_MAX,
    CHAT_STEP_MAX, CHAT_THREAD_MAX, CHAT_TITLE_MAX, MESSAGE_MAX, SMS_MAX, SUBJECT_MAX,
};
use iamwatch::window::MemoryStore;
use serde_json::{json, Value};
use std::path::PathBuf;

fn findings(record: &str) -> Vec<Finding> {
    let packs = packs::all().expect("packs");
    let d = Detector::new(&packs);
    d.evaluate(&Event::new(serde_json::from_str(record).expect("json")).expect("event"))
}

fn golden(name: &str, r: &Rendered) {
    let chat: Value = serde_json::from_str(&r.chat).expect("chat is JSON");
    let text = format!(
        "SUBJECT: {}\nSMS: {}\nATTRIBUTES: {:?}\n\n{}\nCHAT:\n{}\n",
        r.subject,
        r.sms,
        r.attributes,
        r.email,
        serde_json::to_string_pretty(&chat).expect("JSON")
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
    for k in ["default", "email", "sms", "https"] {
        assert!(m[k].is_string(), "{k}");
    }
    let chat: Value = serde_json::from_str(m["https"].as_str().unwrap()).expect("chat is JSON");
    chat_schema(&chat);
}

/// The custom-notification schema of Amazon Q Developer in chat applications: the members it
/// documents, their types and required values, and our bounds.
fn chat_schema(c: &Value) {
    let keys =
        |v: &Value| -> Vec<String> { v.as_object().expect("object").keys().cloned().collect() };
    assert_eq!(
        keys(c),
        ["content", "id", "metadata", "source", "version"],
        "{c}"
    );
    assert_eq!(c["version"], "1.0");
    assert_eq!(c["source"], "custom");
    assert!(c["id"].is_string());
    let content = &c["content"];
    assert_eq!(
        keys(content),
        ["description", "keywords", "nextSteps", "textType", "title"]
    );
    assert_eq!(content["textType"], "client-markdown");
    let title = content["title"].as_str().expect("title");
    assert!(
        !title.is_empty() && title.chars().count() <= CHAT_TITLE_MAX,
        "{title}"
    );
    let description = content["description"].as_str().expect("description");
    assert!(!description.is_empty() && description.chars().count() <= CHAT_DESCRIPTION_MAX);
    let steps = content["nextSteps"].as_array().expect("nextSteps");
    assert!(steps.len() <= CHAT_STEPS_MAX);
    for s in steps {
        assert!(
            s.as_str()
                .is_some_and(|s| s.chars().count() <= CHAT_STEP_MAX),
            "{s}"
        );
    }
    let words = content["keywords"].as_array().expect("keywords");
    assert!(!words.is_empty() && words.len() <= CHAT_KEYWORDS_MAX);
    for w in words {
        assert!(
            w.as_str()
                .is_some_and(|w| !w.is_empty() && w.chars().count() <= CHAT_KEYWORD_MAX),
            "{w}"
        );
    }
    let meta = &c["metadata"];
    assert_eq!(
        keys(meta),
        [
            "additionalContext",
            "eventType",
            "relatedResources",
            "summary",
            "threadId"
        ]
    );
    let thread = meta["threadId"].as_str().expect("threadId");
    assert!(
        !thread.is_empty() && thread.chars().count() <= CHAT_THREAD_MAX,
        "{thread}"
    );
    assert!(meta["summary"].is_string() && meta["eventType"].is_string());
    assert!(meta["relatedResources"]
        .as_array()
        .expect("array")
        .iter()
        .all(Value::is_string));
    for (_, v) in meta["additionalContext"].as_object().expect("object") {
        assert!(v.is_string(), "additionalContext values are strings: {v}");
    }
}

#[test]
fn chat_threads_follow_rule_and_principal() {
    let create = |user: &str, id: &str| {
        let mut who = iam_user();
        who["userName"] = json!(user);
        who["arn"] = json!(format!("arn:aws:iam::111122223333:user/{user}"));
        findings(&trail(
            json!({"userIdentity": who, "eventSource": "iam.amazonaws.com",
            "eventName": "CreateUser", "readOnly": false, "eventID": id}),
        ))
    };
    let thread = |f: &Finding| -> String {
        let c: Value = serde_json::from_str(&render(f).chat).unwrap();
        c["metadata"]["threadId"].as_str().unwrap().to_string()
    };
    let (a1, a2, b) = (
        create("alice", "e1"),
        create("alice", "e2"),
        create("bob", "e3"),
    );
    assert_eq!(
        thread(&a1[0]),
        thread(&a2[0]),
        "one rule and principal: one thread"
    );
    assert_ne!(
        thread(&a1[0]),
        thread(&b[0]),
        "another principal: another thread"
    );
    // Event text cannot add a link or a mention to the chat message.
    let mut who = iam_user();
    who["userName"] = json!("x");
    let f = findings(&trail(
        json!({"userIdentity": who, "eventSource": "iam.amazonaws.com",
        "eventName": "CreateUser", "readOnly": false, "userAgent": "<https://evil.example|click> <!channel> `x`"}),
    ));
    let c: Value = serde_json::from_str(&render(&f[0]).chat).unwrap();
    let d = c["content"]["description"].as_str().unwrap();
    assert!(
        !d.contains("<https://evil") && !d.contains("<!channel>") && !d.contains("`x`"),
        "{d}"
    );
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
