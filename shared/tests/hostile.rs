//! Hostile input through the engine's front door: records written to slip past a rule or to
//! lose the records around them. Each case says what must still be found.

use iamwatch::config::Config;
use iamwatch::engine::{Engine, Report, Run};
use iamwatch::ingest::Format;
use iamwatch::packs;
use iamwatch::rules::{load_pack, Severity};
use iamwatch::window::MemoryStore;

fn engine() -> Engine {
    Engine::new(&Config::default()).expect("built-in packs")
}

fn run(engine: &Engine, input: &[u8], format: Format) -> Report {
    let mut windows = MemoryStore::default();
    let mut run = Run::new(&mut windows);
    engine
        .evaluate(input, format, &mut run)
        .into_result()
        .expect("no delivery, no state: nothing transient")
}

fn rules(r: &Report) -> Vec<String> {
    let mut v: Vec<String> = r
        .alerts
        .iter()
        .map(|a| format!("{}/{}", a.pack, a.rule.id))
        .collect();
    v.sort();
    v
}

/// A CloudTrail record of `name` on `source`, with `extra` members spliced in after
/// `eventName` (so a test can repeat keys).
fn record(id: &str, source: &str, name: &str, extra: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.09","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/mallory","accountId":"111122223333","userName":"mallory"}},"eventTime":"2026-11-20T08:00:00Z","eventSource":"{source}","eventName":"{name}"{extra},"awsRegion":"us-east-1","sourceIPAddress":"203.0.113.9","userAgent":"aws-cli/2","requestParameters":{{"name":"trail"}},"responseElements":null,"eventID":"{id}","eventType":"AwsApiCall","recipientAccountId":"111122223333"}}"#
    )
}

fn stop_logging(id: &str) -> String {
    record(id, "cloudtrail.amazonaws.com", "StopLogging", "")
}

#[test]
fn a_repeated_key_cannot_hide_an_event() {
    let e = engine();
    let plain = run(&e, stop_logging("p1").as_bytes(), Format::JsonLines);
    let expected = rules(&plain);
    assert!(
        expected.iter().any(|r| r.contains("cloudtrail")),
        "StopLogging fires a CloudTrail rule: {expected:?}"
    );
    // The harmless value last (what most parsers keep), first, escaped, nested in the
    // identity: each reading is evaluated, so the record fires as StopLogging does.
    for (what, text) in [
        (
            "harmless value last",
            record(
                "d1",
                "cloudtrail.amazonaws.com",
                "StopLogging",
                r#","eventName":"DescribeTrails""#,
            ),
        ),
        (
            "harmless value first",
            record(
                "d2",
                "cloudtrail.amazonaws.com",
                "DescribeTrails",
                r#","eventName":"StopLogging""#,
            ),
        ),
        (
            "escaped key",
            record(
                "d3",
                "cloudtrail.amazonaws.com",
                "StopLogging",
                r#","event\u004eame":"DescribeTrails""#,
            ),
        ),
        (
            "source repeated too",
            record(
                "d4",
                "cloudtrail.amazonaws.com",
                "StopLogging",
                r#","eventSource":"ec2.amazonaws.com","eventName":"DescribeTrails""#,
            ),
        ),
    ] {
        for format in [Format::JsonLines, Format::Auto] {
            let r = run(&e, text.as_bytes(), format);
            assert_eq!(rules(&r), expected, "{what} ({format:?})");
            assert_eq!(r.counts.events, 1, "{what}: one record, counted once");
            assert_eq!(r.counts.repeated, 1, "{what}");
            assert_eq!(r.counts.bad, 0, "{what}");
        }
        // Inside a CloudTrail log file, between good records: only it is read twice.
        let file = format!(
            r#"{{"Records":[{},{text},{}]}}"#,
            stop_logging("a1"),
            stop_logging("a2")
        );
        for format in [Format::CloudTrail, Format::JsonLines] {
            let r = run(&e, file.as_bytes(), format);
            assert_eq!(
                r.alerts.len(),
                3 * expected.len(),
                "{what} in a file ({format:?})"
            );
            assert_eq!(r.counts.events, 3, "{what} in a file ({format:?})");
            assert_eq!(r.counts.repeated, 1, "{what} in a file ({format:?})");
        }
    }
    // The finding shows the record as the reading that fired read it.
    let text = record(
        "d5",
        "cloudtrail.amazonaws.com",
        "DescribeTrails",
        r#","eventName":"StopLogging""#,
    );
    let r = run(&e, text.as_bytes(), Format::JsonLines);
    assert!(r
        .alerts
        .iter()
        .all(|a| a.event.record()["eventName"] == "StopLogging"));
}

#[test]
fn a_repeated_key_no_rule_reads_is_left_alone() {
    // A pack whose rules read eventSource and eventName only (term patterns read the whole
    // text, where every value is anyway, and make every member read).
    let pack = load_pack(
        r#"{"pack": "p", "rules": [{"id": "stop", "title": "t", "severity": "high", "appliesTo": "cloudtrail",
            "filterPattern": "{ ($.eventSource = \"cloudtrail.amazonaws.com\") && ($.eventName = \"StopLogging\") }"}]}"#,
        "p",
        "p",
    )
    .expect("pack");
    let e = Engine::from_packs(&[pack], false, Severity::Info);
    let text = record(
        "k1",
        "kms.amazonaws.com",
        "Decrypt",
        r#","tlsDetails":{"tlsVersion":"TLSv1.3","tlsVersion":"TLSv1.2"}"#,
    );
    let r = run(&e, text.as_bytes(), Format::JsonLines);
    assert_eq!(
        (r.counts.events, r.counts.repeated, r.counts.bad),
        (1, 0, 0)
    );
    assert!(r.alerts.is_empty());
    // A repeat in a member a rule reads is read both ways.
    let text = record(
        "k2",
        "cloudtrail.amazonaws.com",
        "DescribeTrails",
        r#","eventName":"StopLogging""#,
    );
    let r = run(&e, text.as_bytes(), Format::JsonLines);
    assert_eq!((r.counts.repeated, r.alerts.len()), (1, 1));
}

#[test]
fn a_record_repeating_many_keys_is_evaluated_and_reported() {
    let e = engine();
    let repeats: String = (0..30)
        .map(|i| format!(r#","eventName":"Describe{i}","awsRegion":"r{i}""#))
        .collect();
    let text = record("m1", "cloudtrail.amazonaws.com", "StopLogging", &repeats);
    let r = run(&e, text.as_bytes(), Format::JsonLines);
    assert_eq!(
        rules(&r),
        rules(&run(&e, stop_logging("p").as_bytes(), Format::JsonLines))
    );
    assert_eq!(r.counts.repeated, 1);
    assert_eq!(r.counts.bad, 1, "reported as only partly evaluated");
    assert!(
        r.bad[0].reason.contains("readings evaluated"),
        "{}",
        r.bad[0].reason
    );
}

/// An IBM service-ID login, its address written as `address` (JSON text, members and all).
fn ibm_login(host: &str) -> String {
    format!(
        r#"{{"id":"3f9c2a7e-0001","action":"iam-identity.serviceid-apikey.login","eventTime":"2026-11-20T14:00:00.00+0000","outcome":"success","reason":{{"reasonCode":200,"reasonType":"OK"}},"initiator":{{"id":"iam-ServiceId-7c1e9d55","name":"ServiceId-ci-deployer","typeURI":"service/security/account/serviceid","credential":{{"type":"apikey"}},"host":{{{host},"agent":"Go-http-client/1.1"}}}},"target":{{"id":"crn:v1:bluemix:public:iam-identity:global:a/a1b2c3d4:::","name":"serviceid-apikey","typeURI":"iam-identity/serviceid-apikey"}},"observer":{{"name":"ActivityTracker"}},"dataEvent":false,"logSourceCRN":"crn:v1:bluemix:public:iam-identity:global:a/a1b2c3d4:::"}}"#
    )
}

#[test]
fn no_address_written_oddly_or_twice_gets_onto_the_allowlist() {
    // The pack's own list set as IAMWATCH_ALLOWLIST_IAM would set it.
    let (_, text) = packs::BUILTIN
        .iter()
        .find(|(n, _)| *n == "ibm-iam")
        .expect("built-in pack");
    let mut doc: serde_json::Value = serde_json::from_str(text).expect("pack JSON");
    doc["allowlists"]["iam"] = "10.0.0.0/8".into();
    let pack = load_pack(&doc.to_string(), "ibm-iam", "ibm-iam").expect("pack loads");
    let e = Engine::from_packs(&[pack], false, Severity::Info);
    let outside = "ibm-iam/serviceid-login-outside-allowlist";
    let fires = |host: &str| {
        let r = run(&e, ibm_login(host).as_bytes(), Format::JsonLines);
        assert_eq!(r.counts.bad, 0, "{host}");
        rules(&r).iter().any(|x| x == outside)
    };
    assert!(!fires(r#""address":"10.45.116.217""#));
    assert!(
        !fires(r#""address":" 10.45.116.217""#),
        "IBM writes a leading blank"
    );
    for host in [
        r#""address":"203.0.113.9""#,
        r#""address":"010.0.0.1""#,
        r#""address":"::ffff:10.0.0.0/8""#,
        r#""address":"10.0.0.0/8""#,
        r#""address":"[10.0.0.1]""#,
        r#""address":"10.0.0.1:443""#,
        r#""address":"0x0a000001""#,
        r#""address":"167772161""#,
        r#""address":"10.1""#,
        r#""address":"10.0.0.1, 203.0.113.9""#,
        "\"address\":\"\"",
        r#""address":167772161"#,
        // Repeated: either value can be the one a reader takes.
        r#""address":"203.0.113.9","address":"10.0.0.1""#,
        r#""address":"10.0.0.1","address":"203.0.113.9""#,
        r#""address":"10.0.0.1","addr\u0065ss":"203.0.113.9""#,
    ] {
        assert!(fires(host), "{host} must fire");
    }
    // The finding says why the address is not on the list.
    let r = run(
        &e,
        ibm_login(r#""address":"010.0.0.1""#).as_bytes(),
        Format::JsonLines,
    );
    let a = r
        .alerts
        .iter()
        .find(|a| a.rule.id.ends_with("outside-allowlist"))
        .expect("alert");
    assert!(
        a.notes.iter().any(|n| n.contains("leading zeros")),
        "{:?}",
        a.notes
    );
}

/// Events and bad records (with their positions) found in `input`.
fn found(e: &Engine, input: &[u8], format: Format) -> (u64, Vec<String>) {
    let r = run(e, input, format);
    let bad = r
        .bad
        .iter()
        .map(|b| b.position.to_string())
        .collect::<Vec<_>>();
    assert_eq!(
        r.alerts.len() as u64,
        r.counts.events,
        "every StopLogging fires"
    );
    (r.counts.events, bad)
}

#[test]
fn byte_order_marks_and_bare_cr_lose_nothing() {
    let e = engine();
    let (a, b, c) = (stop_logging("a"), stop_logging("b"), stop_logging("c"));
    let bom = "\u{feff}";
    for (what, input, format) in [
        ("BOM at the start", format!("{bom}{a}\n{b}\n"), Format::Auto),
        (
            "BOM at the start",
            format!("{bom}{a}\n{b}\n"),
            Format::JsonLines,
        ),
        (
            "BOM on a later line",
            format!("{a}\n{bom}{b}\n{c}\n"),
            Format::Auto,
        ),
        (
            "BOM before a log file",
            format!(r#"{bom}{{"Records":[{a},{b}]}}"#),
            Format::Auto,
        ),
        (
            "BOM before a log file",
            format!(r#"{bom}{{"Records":[{a},{b}]}}"#),
            Format::CloudTrail,
        ),
        (
            "BOM between concatenated log files",
            format!("{{\"Records\":[{a}]}}\n{bom}{{\"Records\":[{b},{c}]}}"),
            Format::Auto,
        ),
        (
            "BOM before a pretty-printed record",
            format!("{bom}{}\n", a.replace(",\"", ",\n  \"")),
            Format::Auto,
        ),
        (
            "bare CR line breaks",
            format!("{a}\r{b}\r{c}\r"),
            Format::Auto,
        ),
        ("CR LF line breaks", format!("{a}\r\n{b}\r\n"), Format::Auto),
    ] {
        let want = input.matches("StopLogging").count() as u64;
        let (events, bad) = found(&e, input.as_bytes(), format);
        assert_eq!(
            (events, bad.len()),
            (want, 0),
            "{what} ({format:?}): {bad:?}"
        );
    }
}

#[test]
fn a_cut_container_does_not_swallow_what_follows() {
    let e = engine();
    let (a, b, c) = (stop_logging("a"), stop_logging("b"), stop_logging("c"));
    for (what, input, position) in [
        (
            "cut between records, next file on the next line",
            format!("{{\"Records\":[{a},{b}\n{{\"Records\":[{c}]}}\n"),
            "line 2, record 3",
        ),
        (
            "cut inside a string",
            format!("{{\"Records\":[{a},{{\"eventVersion\":\"1.0\n{b}\n{c}\n"),
            "line 1, record 2",
        ),
        (
            "cut between members",
            format!("{{\"Records\":[{a},{{\"eventVersion\":\"1.09\",\n{{\"Records\":[{b},{c}]}}\n"),
            "line 2, record 2",
        ),
        (
            "cut inside a nested array, the next file pretty-printed",
            format!(
                "{{\"Records\":[\n{a},\n{{\"eventVersion\":\"1.09\", \"x\": [1,\n{{\"Records\":[{b},\n{c}]}}\n"
            ),
            "line 4, record 2",
        ),
    ] {
        for format in [Format::Auto, Format::CloudTrail] {
            let (events, bad) = found(&e, input.as_bytes(), format);
            assert_eq!(events, 3, "{what} ({format:?}): {bad:?}");
            assert_eq!(bad, [position], "{what} ({format:?})");
        }
    }
}

#[test]
fn a_record_past_the_limit_is_reported_and_the_rest_is_read() {
    let e = engine().with_max_record(64 << 10);
    let (a, b) = (stop_logging("a"), stop_logging("b"));
    let huge = record(
        "h",
        "cloudtrail.amazonaws.com",
        "StopLogging",
        &format!(r#","padding":"{}""#, "x".repeat(100 << 10)),
    );
    let blanks = " ".repeat(200 << 10);
    for (what, input, format, position) in [
        (
            "a long line",
            format!("{a}\n{huge}\n{b}\n"),
            Format::Auto,
            "line 2",
        ),
        (
            "a long line",
            format!("{a}\n{huge}\n{b}\n"),
            Format::JsonLines,
            "line 2",
        ),
        (
            "a long record in a log file",
            format!(r#"{{"Records":[{a},{huge},{b}]}}"#),
            Format::Auto,
            "line 1, record 2",
        ),
        (
            "a long record in a pretty log file",
            format!("{{\"Records\":[\n{a},\n{huge},\n{b}]}}"),
            Format::CloudTrail,
            "line 3, record 2",
        ),
        (
            "a long member after Records in a log file",
            format!(r#"{{"Records":[{a},{b}],"{}":1}}"#, "k".repeat(100 << 10)),
            Format::CloudTrail,
            "",
        ),
        (
            "a long pretty record among pretty ones",
            format!(
                "{}\n{}\n{}\n",
                a.replace(",\"", ",\n\""),
                huge.replace(",\"", ",\n\""),
                b.replace(",\"", ",\n\"")
            ),
            Format::Auto,
            "line 17, record 2",
        ),
        (
            "a line of blanks",
            format!("{a}\n{blanks}\n{b}\n"),
            Format::JsonLines,
            "line 2",
        ),
    ] {
        let (events, bad) = found(&e, input.as_bytes(), format);
        assert_eq!(events, 2, "{what} ({format:?}): {bad:?}");
        if position.is_empty() {
            assert!(bad.is_empty(), "{what}: {bad:?}");
        } else {
            assert_eq!(bad, [position], "{what} ({format:?})");
        }
    }
}

#[test]
fn an_object_not_led_by_records_is_held_whole_up_to_the_limit() {
    // Records not first: the object is read whole like any record, so past the limit it is
    // one bad record (CloudTrail writes Records first).
    let e = engine().with_max_record(64 << 10);
    let input = format!(
        r#"{{"{}":1,"Records":[{}]}}"#,
        "k".repeat(100 << 10),
        stop_logging("a")
    );
    let (events, bad) = found(&e, input.as_bytes(), Format::CloudTrail);
    assert_eq!((events, bad), (0, vec!["line 1".to_string()]));
}
