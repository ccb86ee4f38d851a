//! The AWS Lambda handlers as Lambda runs them: the real release-shaped binaries polling a
//! Runtime API on 127.0.0.1, publishing to SNS (moto) and reading what SQS received, with
//! the state table in DynamoDB (moto) and log files in S3 (moto).

use base64::Engine as _;
use flate2::write::GzEncoder;
use iamwatch::engine::{Engine, Run};
use iamwatch::ingest::Format;
use iamwatch::rules::Severity;
use iamwatch::window::MemoryStore;
use iamwatch_e2e::faults::{Fault, Proxy, Service};
use iamwatch_e2e::lambda::{Answer, Function};
use iamwatch_e2e::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::io::Write;
use std::time::Duration;

/// The CloudTrail records of the project's examples, one JSON text each.
fn example_records() -> Vec<String> {
    let mut out: Vec<String> =
        std::fs::read_to_string(root().join("examples/cloudtrail/events.jsonl"))
            .expect("examples")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect();
    let gz = std::fs::read(root().join(
        "examples/cloudtrail/111122223333_CloudTrail_us-east-1_20261121T0220Z_intrusion.json.gz",
    ))
    .expect("example file");
    let doc: Value = serde_json::from_slice(&gunzip(&gz)).expect("CloudTrail file");
    out.extend(
        doc["Records"]
            .as_array()
            .expect("Records")
            .iter()
            .map(Value::to_string),
    );
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).expect("gzip");
    gz.finish().expect("gzip")
}

fn gunzip(gz: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gz), &mut out).expect("gzip");
    out
}

/// A CloudWatch Logs subscription event holding `messages` as log events.
fn subscription(messages: &[String]) -> String {
    let events: Vec<Value> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| json!({"id": format!("3755{i:052}"), "timestamp": 1_763_690_400_000u64 + i as u64, "message": m}))
        .collect();
    let data = json!({
        "messageType": "DATA_MESSAGE", "owner": "111122223333",
        "logGroup": "aws-cloudtrail-logs-111122223333", "logStream": "111122223333_CloudTrail_us-east-1",
        "subscriptionFilters": ["iamwatch"], "logEvents": events,
    });
    let b64 = base64::engine::general_purpose::STANDARD.encode(gzip(data.to_string().as_bytes()));
    json!({"awslogs": {"data": b64}}).to_string()
}

/// `(rule, event id)` of every alert the built-in packs raise on `input` (medium and up, as
/// the handlers are configured by default).
fn expected(input: &str, format: Format) -> BTreeSet<(String, String)> {
    let packs = iamwatch::packs::all().expect("packs");
    let engine = Engine::from_packs(&packs, false, Severity::Medium);
    let mut store = MemoryStore::default();
    let report = engine
        .evaluate(input.as_bytes(), format, &mut Run::new(&mut store))
        .into_result()
        .expect("evaluated");
    report
        .alerts
        .iter()
        .map(|f| identity(&f.to_json()))
        .collect()
}

/// What SQS received, as `(rule, event id)`, every message once (duplicates fail).
fn received_once(local: &Local) -> BTreeSet<(String, String)> {
    let got = drain(&local.rt, &local.config, &local.topic.queue_url);
    let ids: Vec<_> = got.iter().map(|r| identity(&r.message)).collect();
    let set: BTreeSet<_> = ids.iter().cloned().collect();
    assert_eq!(set.len(), ids.len(), "an alert arrived twice: {ids:?}");
    for r in &got {
        assert!(r.attribute("severity").is_some(), "{:?}", r.envelope);
        assert!(r.attribute("rule").is_some(), "{:?}", r.envelope);
        assert!(r.subject().is_some_and(|s| s.len() <= 100));
    }
    set
}

struct Local {
    moto: Moto,
    rt: tokio::runtime::Runtime,
    config: aws_config::SdkConfig,
    topic: Topic,
}

impl Local {
    fn new() -> Local {
        let moto = Moto::start();
        let rt = runtime();
        let config = config(&rt, &moto.endpoint, &quick_retry(3));
        let topic = topic_with_queue(&rt, &config, "iamwatch-alerts");
        create_state_table(&rt, &config, "iamwatch-state");
        Local {
            moto,
            rt,
            config,
            topic,
        }
    }

    /// The handler's settings: this topic, this state table.
    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("IAMWATCH_TOPIC_ARN", self.topic.arn.clone()),
            ("IAMWATCH_STATE_TABLE", "iamwatch-state".to_string()),
        ]
    }

    /// An S3 client on moto.
    fn s3(&self) -> aws_sdk_s3::Client {
        s3_client(&self.config)
    }

    fn start(&self, name: &str, endpoint: &str, extra: &[(&str, &str)]) -> Function {
        let env = self.env();
        let mut all: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        all.extend_from_slice(extra);
        Function::start(name, endpoint, &all)
    }
}

const MINUTE: Duration = Duration::from_secs(60);

#[test]
fn a_subscription_payload_publishes_its_alerts_with_their_attributes() {
    let local = Local::new();
    let f = local.start("logs-subscription", &local.moto.endpoint, &[]);
    let payload = subscription(&example_records());
    let want = expected(&payload, Format::AwsLogs);
    assert!(want.len() >= 5, "the examples raise {} alerts", want.len());
    let answer = f.api.invoke(&payload, MINUTE);
    assert_eq!(answer, Answer::Ok("null".into()));
    assert_eq!(received_once(&local), want);
    // One metrics line per invocation, with what was found and sent.
    let m = f.metrics();
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0]["Records"], json!(example_records().len() as f64));
    assert_eq!(m[0]["AlertsPublished"], json!(want.len() as f64));
    assert_eq!(m[0]["Failed"], json!(0.0));
    // The same payload again (a retry): nothing is sent twice.
    assert!(f.api.invoke(&payload, MINUTE).is_ok());
    assert!(received_once(&local).is_empty());
}

/// Activity Tracker (CADF) records forwarded into the log group: the handler starts without
/// the IBM packs and loads them at the first such record, and every record gets the alerts
/// the engine with every pack gives it.
#[test]
fn cadf_records_in_a_subscription_get_the_ibm_packs_alerts() {
    let local = Local::new();
    let f = local.start("logs-subscription", &local.moto.endpoint, &[]);
    let cadf = std::fs::read_to_string(root().join("examples/ibm/activity-tracker-events.jsonl"))
        .expect("examples");
    let cloudtrail = example_records();
    let mut mixed = cloudtrail[..3].to_vec();
    mixed.extend(
        cadf.lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string),
    );
    mixed.extend_from_slice(&cloudtrail[3..]);
    let payload = subscription(&mixed);
    let want = expected(&payload, Format::AwsLogs);
    let cadf_ids: BTreeSet<String> = cadf
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["id"].as_str().map(str::to_string))
        .collect();
    let (on_cadf, on_cloudtrail): (Vec<_>, Vec<_>) =
        want.iter().partition(|(_, id)| cadf_ids.contains(id));
    assert!(
        !on_cadf.is_empty() && !on_cloudtrail.is_empty(),
        "alerts on both providers' records: {want:?}"
    );
    assert!(f.api.invoke(&payload, MINUTE).is_ok());
    assert_eq!(received_once(&local), want);
}

/// A subscription event near Lambda's 1 MB limit whose data decodes to more than the 2 MiB
/// the handler decodes in one piece: it is read a window at a time, every record is counted,
/// and the alerts of the records at its end arrive, once.
#[test]
fn a_full_size_subscription_event_is_read_a_window_at_a_time() {
    let local = Local::new();
    let f = local.start("logs-subscription", &local.moto.endpoint, &[]);
    // Quiet reads first (distinct, so that they do not compress to nothing), the examples'
    // changes and attacks last.
    let mut records: Vec<String> = (0..3600)
        .map(|i| {
            json!({"eventVersion": "1.08", "eventTime": "2026-11-21T02:00:00Z",
                "eventSource": "ec2.amazonaws.com", "eventName": "DescribeInstances",
                "awsRegion": "us-east-1", "sourceIPAddress": format!("10.0.{}.{}", i / 250, i % 250),
                "userAgent": "aws-cli/2.15.0", "eventID": format!("00000000-0000-4000-8000-{i:012}"),
                "eventType": "AwsApiCall", "readOnly": true, "recipientAccountId": "111122223333",
                "userIdentity": {"type": "AssumedRole", "accountId": "111122223333",
                    "arn": format!("arn:aws:sts::111122223333:assumed-role/inventory/{}", i * 7919),
                    "principalId": format!("AROAEXAMPLE:{}", i * 7919)},
                "requestParameters": {"instancesSet": {}, "filterSet": {"items": [{"name": "tag:team",
                    "valueSet": {"items": [{"value": format!("team-{}", i % 97)}]}}]}},
                "responseElements": null, "requestID": format!("{:08x}-{:04x}", i * 2_654_435_761u64 % 4_294_967_291, i)})
            .to_string()
        })
        .collect();
    records.extend(example_records());
    let payload = subscription(&records);
    assert!(payload.len() < 1 << 20, "a {} byte event", payload.len());
    let data: Value = serde_json::from_str(&payload).expect("JSON");
    let gz = base64::engine::general_purpose::STANDARD
        .decode(data["awslogs"]["data"].as_str().expect("data"))
        .expect("base64");
    let decoded = gunzip(&gz).len();
    assert!(decoded > 2 << 20, "data of {decoded} bytes");
    let want = expected(&records.join("\n"), Format::JsonLines);
    assert!(want.len() >= 5, "the examples raise {} alerts", want.len());
    assert_eq!(f.api.invoke(&payload, MINUTE), Answer::Ok("null".into()));
    assert_eq!(received_once(&local), want);
    let m = f.metrics();
    assert_eq!(m[0]["Records"], json!(records.len() as f64));
    assert_eq!(m[0]["BadRecords"], json!(0.0));
}

/// Known automation excepted: its alert is not sent, the rest are, the metrics count the
/// accepted match by exception, and the alerts name the account.
#[test]
fn exceptions_and_account_names_in_the_deployed_handler() {
    let local = Local::new();
    let exceptions = json!({"exceptions": [{"id": "trail-rotation",
        "reason": "mallory rotates the trail during maintenance",
        "rules": ["aws-recommended/cloudtrail-tampering"], "identity": "mallory"}]})
    .to_string();
    let f = local.start(
        "logs-subscription",
        &local.moto.endpoint,
        &[
            ("IAMWATCH_EXCEPTIONS", exceptions.as_str()),
            (
                "IAMWATCH_ACCOUNT_NAMES",
                r#"{"111122223333": "prod-payments"}"#,
            ),
        ],
    );
    let payload = subscription(&example_records());
    let all = expected(&payload, Format::AwsLogs);
    let want: BTreeSet<_> = all
        .iter()
        .filter(|(rule, _)| rule != "cloudtrail-tampering")
        .cloned()
        .collect();
    assert_eq!(
        all.len(),
        want.len() + 1,
        "the examples hold one trail stopped: {all:?}"
    );
    assert!(f.api.invoke(&payload, MINUTE).is_ok());
    let got = drain(&local.rt, &local.config, &local.topic.queue_url);
    let ids: BTreeSet<_> = got.iter().map(|r| identity(&r.message)).collect();
    assert_eq!(ids, want);
    assert!(
        got.iter()
            .all(|r| r.message["account_name"] == "prod-payments"),
        "{:?}",
        got.iter()
            .map(|r| &r.message["account_name"])
            .collect::<Vec<_>>()
    );
    let m = f.metrics();
    assert_eq!(
        m.len(),
        2,
        "the invocation's line and one per exception: {m:?}"
    );
    assert_eq!(m[0]["Excepted"], json!(1.0));
    assert_eq!(m[1]["Exception"], "global/trail-rotation");
    assert_eq!(m[1]["Excepted"], json!(1.0));
    assert!(
        f.output().contains("match accepted by an exception"),
        "{}",
        f.output()
    );
}

#[test]
fn a_control_message_publishes_nothing() {
    let local = Local::new();
    let f = local.start("logs-subscription", &local.moto.endpoint, &[]);
    let data = json!({"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs",
        "logGroup": "", "logStream": "", "subscriptionFilters": [],
        "logEvents": [{"id": "", "timestamp": 1, "message": "CWL CONTROL MESSAGE: Checking health of destination Lambda function"}]});
    let b64 = base64::engine::general_purpose::STANDARD.encode(gzip(data.to_string().as_bytes()));
    let answer = f
        .api
        .invoke(&json!({"awslogs": {"data": b64}}).to_string(), MINUTE);
    assert!(answer.is_ok(), "{answer:?}");
    assert!(received_once(&local).is_empty());
    assert_eq!(f.metrics()[0]["Records"], json!(0.0));
    assert_eq!(f.metrics()[0]["BadRecords"], json!(0.0));
}

#[test]
fn bad_input_is_reported_and_the_rest_of_the_batch_is_evaluated() {
    let local = Local::new();
    let mut f = local.start("logs-subscription", &local.moto.endpoint, &[]);
    // Not base64: a clear error in the log, no panic, nothing else lost (there is nothing else).
    let answer = f
        .api
        .invoke(r#"{"awslogs": {"data": "%%% not base64 %%%"}}"#, MINUTE);
    assert!(answer.is_ok(), "{answer:?}");
    assert!(
        f.output().contains("awslogs.data is not base64"),
        "{}",
        f.output()
    );
    // One bad record among good ones: the good ones still raise their alerts.
    let mut records = example_records();
    records.insert(2, "{\"eventName\": \"cut short".to_string());
    records.insert(5, "not JSON at all".to_string());
    let payload = subscription(&records);
    let want = expected(&payload, Format::AwsLogs);
    let answer = f.api.invoke(&payload, MINUTE);
    assert!(answer.is_ok(), "{answer:?}");
    assert_eq!(received_once(&local), want);
    let log = f.output();
    assert!(
        log.contains("record 3") || log.contains("\"record\":3"),
        "{log}"
    );
    assert_eq!(f.metrics()[1]["BadRecords"], json!(2.0));
    assert!(f.exited().is_none(), "the handler exited");
}

/// A StopLogging record with its own event id: a critical alert whatever surrounds it.
fn stop_logging(id: &str) -> String {
    json!({"eventVersion": "1.09", "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/mallory",
        "accountId": "111122223333", "userName": "mallory"}, "eventTime": "2026-11-20T08:00:00Z",
        "eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging", "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.9", "userAgent": "aws-cli/2", "requestParameters": {"name": "trail"},
        "eventID": id, "eventType": "AwsApiCall", "recipientAccountId": "111122223333"})
    .to_string()
}

#[test]
fn hostile_payloads_never_crash_the_handler_nor_hide_the_good_records() {
    let local = Local::new();
    let mut f = local.start("logs-subscription", &local.moto.endpoint, &[]);
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let with_data = |data: String| json!({"awslogs": {"data": data}}).to_string();
    let good = subscription(&[stop_logging("first-half"), stop_logging("second-half")]);
    let good_data = {
        let v: Value = serde_json::from_str(&good).expect("JSON");
        v["awslogs"]["data"].as_str().expect("data").to_string()
    };
    let gz = base64::engine::general_purpose::STANDARD
        .decode(&good_data)
        .expect("base64");
    let json = {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut s)
            .expect("gzip");
        s
    };
    // Whole payloads that are not subscription events at all: an error in the log, no alert,
    // and the process goes on.
    let bomb = {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::best());
        for _ in 0..64 {
            e.write_all(&[0u8; 1 << 20]).expect("gzip");
        }
        e.finish().expect("gzip")
    };
    for (what, payload, says) in [
        (
            "not base64",
            with_data("%%% not base64".into()),
            "not base64",
        ),
        (
            "truncated gzip",
            with_data(b64(&gz[..gz.len() / 2])),
            "not gzip",
        ),
        (
            "a gzip bomb",
            with_data(b64(&bomb)),
            "more than 16777216 bytes",
        ),
        (
            "data not a string",
            json!({"awslogs": {"data": 5}}).to_string(),
            "",
        ),
        (
            "awslogs not an object",
            json!({"awslogs": 5}).to_string(),
            "",
        ),
        ("an array", "[]".to_string(), ""),
        ("a string", "\"awslogs\"".to_string(), ""),
        ("null", "null".to_string(), ""),
    ] {
        let answer = f.api.invoke(&payload, MINUTE);
        assert!(answer.is_ok(), "{what}: {answer:?}");
        assert!(f.output().contains(says), "{what}: {}", f.output());
        assert!(f.exited().is_none(), "{what}: the handler exited");
    }
    // An event nested 100,000 deep: a bad record with a clear error, and the process goes on.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let answer = f.api.invoke(&deep, MINUTE);
    assert!(answer.is_ok(), "{answer:?}");
    assert!(f.output().contains("nested too deeply"), "{}", f.output());
    assert!(f.exited().is_none(), "deep nesting: the handler exited");
    assert!(received_once(&local).is_empty());
    // Two gzip members one after the other decode as one payload.
    let halves = {
        let (a, b) = json.split_at(json.len() / 2);
        let mut both = gzip(a.as_bytes());
        both.extend(gzip(b.as_bytes()));
        both
    };
    assert!(f.api.invoke(&with_data(b64(&halves)), MINUTE).is_ok());
    let got = received_once(&local);
    assert_eq!(got.len(), 2, "{got:?}");
    // Hostile log events between good ones: each is a counted bad record or evaluated, and
    // the good ones, the repeated key among them, raise their alerts.
    let repeated = stop_logging("repeated-key").replacen(
        "\"eventName\":\"StopLogging\"",
        "\"eventName\":\"StopLogging\",\"eventName\":\"DescribeTrails\"",
        1,
    );
    assert!(repeated.contains("DescribeTrails"));
    let messages = vec![
        stop_logging("first-good"),
        "[".repeat(100_000),
        r#"{"eventName": "\ud800"}"#.to_string(),
        "nul \u{0} bytes \0".to_string(),
        r#"{"eventVersion": "1.09", "n": 1e999999}"#.to_string(),
        r#"{"eventVersion": "1.09", "n": 123456789012345678901234567890123456789}"#.to_string(),
        format!("\u{feff}{}", stop_logging("after-a-bom")),
        repeated,
        format!(
            r#"{{"eventVersion": "1.09", "pad": "{}"}}"#,
            "x".repeat(5 << 20)
        ),
        "{\"eventName\": \"cut short".to_string(),
        stop_logging("last-good"),
    ];
    let payload = subscription(&messages);
    let want = expected(&payload, Format::AwsLogs);
    for id in ["first-good", "after-a-bom", "repeated-key", "last-good"] {
        assert!(want.iter().any(|(_, e)| e == id), "{id} in {want:?}");
    }
    let answer = f.api.invoke(&payload, MINUTE);
    assert!(answer.is_ok(), "{answer:?}");
    assert_eq!(received_once(&local), want);
    let m = f.metrics();
    let last = m.last().expect("metrics");
    assert_eq!(last["RepeatedKeys"], json!(1.0));
    assert!(last["BadRecords"].as_f64() >= Some(5.0), "{last}");
    assert!(f.exited().is_none(), "the handler exited");
    let peak = f.peak_rss_kib().expect("VmHWM");
    assert!(peak < 256 * 1024, "peak RSS {peak} KiB");
}

#[test]
fn two_invocations_of_one_event_at_once_send_each_alert_once() {
    // Two warm instances get the same payload at the same moment (a retry racing the first
    // attempt): the delivery ledger in DynamoDB lets one of them send each alert; an alert the
    // other finds in flight fails its invocation, and its retry finds everything sent.
    let local = Local::new();
    let a = local.start("logs-subscription", &local.moto.endpoint, &[]);
    let b = local.start("logs-subscription", &local.moto.endpoint, &[]);
    let payload = subscription(&example_records());
    let want = expected(&payload, Format::AwsLogs);
    assert!(want.len() > 3);
    let (ra, rb) = std::thread::scope(|s| {
        let ta = s.spawn(|| a.api.invoke(&payload, MINUTE));
        let tb = s.spawn(|| b.api.invoke(&payload, MINUTE));
        (ta.join().expect("a"), tb.join().expect("b"))
    });
    for answer in [&ra, &rb] {
        if let Answer::Error { body, .. } = answer {
            assert!(body.contains("iamwatch.Undelivered"), "{body}");
        }
    }
    // Lambda retries a failed invocation; the retry sends nothing new.
    for (f, answer) in [(&a, &ra), (&b, &rb)] {
        if !answer.is_ok() {
            assert!(f.api.invoke(&payload, MINUTE).is_ok());
        }
    }
    assert_eq!(received_once(&local), want);
}

#[test]
fn hostile_eventbridge_events_never_crash_the_handler_nor_hide_an_event() {
    let local = Local::new();
    let mut f = local.start("eventbridge", &local.moto.endpoint, &[]);
    let envelope = |detail: &str| {
        format!(
            r#"{{"version":"0","id":"e","detail-type":"AWS API Call via CloudTrail","source":"aws.cloudtrail","account":"111122223333","time":"2026-11-20T08:00:00Z","region":"us-east-1","resources":[],"detail":{detail}}}"#
        )
    };
    for (what, payload) in [
        ("detail a string", envelope("\"StopLogging\"")),
        ("detail an array", envelope("[1, 2]")),
        ("detail null", envelope("null")),
        (
            "no detail",
            r#"{"detail-type": "AWS API Call via CloudTrail"}"#.to_string(),
        ),
        ("null", "null".to_string()),
        (
            "deep nesting",
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
        ),
    ] {
        let answer = f.api.invoke(&payload, MINUTE);
        assert!(answer.is_ok(), "{what}: {answer:?}");
        assert!(f.exited().is_none(), "{what}: the handler exited");
    }
    assert!(received_once(&local).is_empty());
    // StopLogging hidden behind a repeated eventName (the harmless value last) and a
    // byte-order mark inside the detail's strings: still an alert.
    let detail = stop_logging("eventbridge-repeated").replacen(
        "\"eventName\":\"StopLogging\"",
        "\"eventName\":\"StopLogging\",\"eventName\":\"DescribeTrails\"",
        1,
    );
    let answer = f.api.invoke(&envelope(&detail), MINUTE);
    assert!(answer.is_ok(), "{answer:?}");
    let got = received_once(&local);
    assert!(
        got.iter().any(|(_, id)| id == "eventbridge-repeated"),
        "{got:?}"
    );
    assert!(f.peak_rss_kib().expect("VmHWM") < 256 * 1024);
}

#[test]
fn dynamodb_throttling_and_an_outage_lose_nothing_and_send_nothing_twice() {
    let local = Local::new();
    let proxy = Proxy::start(&local.rt, &local.moto.endpoint);
    let f = local.start(
        "logs-subscription",
        &proxy.endpoint,
        &[("IAMWATCH_RETRY_ATTEMPTS", "3")],
    );
    let payload = subscription(&example_records());
    let want = expected(&payload, Format::AwsLogs);
    // Throttled twice: the client's retries absorb it.
    proxy.fail_next(Service::DynamoDb, [Fault::Throttle, Fault::Throttle]);
    let answer = f.api.invoke(&payload, MINUTE);
    assert!(answer.is_ok(), "{answer:?}");
    assert_eq!(proxy.faulted(), 2, "{:?}", proxy.seen());
    assert_eq!(received_once(&local), want);
    // The state table down: the invocation fails as a state error and sends nothing it cannot
    // record; once the table is back, the retry sends nothing twice.
    let records: Vec<String> = example_records()
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut v: Value = serde_json::from_str(r).expect("record");
            v["eventID"] = json!(format!("outage-{i:03}"));
            v.to_string()
        })
        .collect();
    let payload = subscription(&records);
    let want = expected(&payload, Format::AwsLogs);
    proxy.fail_always(Service::DynamoDb, Fault::ServerError);
    match f.api.invoke(&payload, MINUTE) {
        Answer::Error { body, .. } => assert!(body.contains("iamwatch.State"), "{body}"),
        other => panic!("expected a failed invocation: {other:?}"),
    }
    let first = received_once(&local);
    proxy.heal();
    assert!(f.api.invoke(&payload, MINUTE).is_ok());
    let rest = received_once(&local);
    assert!(first.is_disjoint(&rest), "an alert arrived twice");
    assert_eq!(first.union(&rest).cloned().collect::<BTreeSet<_>>(), want);
}

#[test]
fn an_object_cut_off_mid_read_fails_the_invocation_and_the_retry_loses_nothing() {
    let local = Local::new();
    let proxy = Proxy::start(&local.rt, &local.moto.endpoint);
    let s3 = local.s3();
    // A log file large enough that the cut falls inside it, gzip as CloudTrail writes it.
    let mut records: Vec<Value> = Vec::new();
    for (i, r) in example_records().iter().cycle().take(100).enumerate() {
        let mut v: Value = serde_json::from_str(r).expect("record");
        v["eventID"] = json!(format!("cut-{i:04}"));
        records.push(v);
    }
    let text = json!({ "Records": records }).to_string();
    let file = gzip(text.as_bytes());
    let key = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/21/111122223333_CloudTrail_us-east-1_20261121T0300Z_cut.json.gz";
    bucket_with(&local.rt, &s3, "trail", &[(key, &file)]);
    let want = expected(&text, Format::Auto);
    assert!(want.len() > 10, "{want:?}");
    let f = local.start(
        "s3-cloudtrail",
        &proxy.endpoint,
        &[("IAMWATCH_RETRY_ATTEMPTS", "1")],
    );
    let event = json!({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "trail"},
        "object": {"key": key, "size": file.len()}}}]})
    .to_string();
    // The store stops sending half-way through the object.
    proxy.fail_next(
        Service::Other,
        [Fault::CutBody {
            after: file.len() / 2,
        }],
    );
    let answer = f.api.invoke(&event, MINUTE);
    match &answer {
        Answer::Error { body, .. } => assert!(body.contains("iamwatch.Read"), "{body}"),
        other => panic!("a cut read must fail the invocation: {other:?}"),
    }
    let first = received_once(&local);
    assert!(first.len() < want.len(), "{first:?}");
    // Lambda retries: the object is read whole, and only what was not sent is sent.
    proxy.heal();
    assert!(f.api.invoke(&event, MINUTE).is_ok());
    let rest = received_once(&local);
    assert!(first.is_disjoint(&rest), "an alert arrived twice");
    let all: BTreeSet<_> = first.union(&rest).cloned().collect();
    assert_eq!(all, want);
}

#[test]
fn a_window_spanning_two_invocations_fires_once() {
    let local = Local::new();
    let pack = json!({"pack": "test-windows", "rules": [{
        "id": "console-login-failures", "title": "{eventName} failed 3 times", "severity": "high",
        "appliesTo": "cloudtrail",
        "filterPattern": "{ ($.eventName = \"ConsoleLogin\") && ($.errorMessage = \"Failed authentication\") }",
        "threshold": {"count": 3, "within": "10 minutes"}}]})
    .to_string();
    let extra = [
        ("IAMWATCH_BUILTIN_PACKS", "none"),
        ("IAMWATCH_PACKS", pack.as_str()),
    ];
    // Two instances of the function (as Lambda scales out), sharing the state table.
    let a = local.start("logs-subscription", &local.moto.endpoint, &extra);
    let b = local.start("logs-subscription", &local.moto.endpoint, &extra);
    let failure = |i: u32| {
        json!({"eventVersion": "1.08", "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
            "eventTime": format!("2026-11-20T10:0{i}:00Z"), "eventID": format!("login-{i}"),
            "errorMessage": "Failed authentication", "recipientAccountId": "111122223333",
            "userIdentity": {"type": "IAMUser", "userName": "alice"}, "sourceIPAddress": "203.0.113.9"})
        .to_string()
    };
    assert!(a
        .api
        .invoke(&subscription(&[failure(1), failure(2)]), MINUTE)
        .is_ok());
    assert!(
        received_once(&local).is_empty(),
        "two failures are not three"
    );
    assert!(b.api.invoke(&subscription(&[failure(3)]), MINUTE).is_ok());
    let got = received_once(&local);
    assert_eq!(got.len(), 1, "{got:?}");
    // A retry of the second invocation counts nothing twice and sends nothing twice.
    assert!(b.api.invoke(&subscription(&[failure(3)]), MINUTE).is_ok());
    assert!(received_once(&local).is_empty());
}

/// The deployed handlers speak HTTPS to AWS (rustls, the ring provider, the system's root
/// certificates or `SSL_CERT_FILE`): through a TLS endpoint whose authority the handler
/// trusts, the alerts arrive; trusting the system's roots alone, the handler refuses the
/// certificate and the invocation fails, so nothing is sent in the clear or to an impostor.
#[test]
fn alerts_go_out_over_https_and_an_unknown_certificate_is_refused() {
    let local = Local::new();
    let front = TlsFront::start(&local.moto);
    let ca = front.ca_file.to_string_lossy().to_string();
    let payload = subscription(&example_records());
    let want = expected(&payload, Format::AwsLogs);

    let untrusting = local.start(
        "logs-subscription",
        &front.endpoint,
        &[("IAMWATCH_RETRY_ATTEMPTS", "1")],
    );
    // The state table is asked first: the invocation fails there, and Lambda retries.
    match untrusting.api.invoke(&payload, MINUTE) {
        Answer::Error { body, .. } => {
            assert!(body.contains("iamwatch.State"), "{body}");
            assert!(body.contains("invalid peer certificate"), "{body}");
        }
        other => panic!("expected a failed invocation: {other:?}"),
    }
    assert!(front.log().contains("handshake failed"), "{}", front.log());
    assert!(received_once(&local).is_empty());

    let trusting = local.start(
        "logs-subscription",
        &front.endpoint,
        &[("SSL_CERT_FILE", ca.as_str())],
    );
    assert_eq!(
        trusting.api.invoke(&payload, MINUTE),
        Answer::Ok("null".into())
    );
    assert_eq!(received_once(&local), want);
}

#[test]
fn an_sns_outage_fails_the_invocation_and_the_retry_delivers_each_alert_once() {
    let local = Local::new();
    let proxy = Proxy::start(&local.rt, &local.moto.endpoint);
    let f = local.start(
        "logs-subscription",
        &proxy.endpoint,
        &[("IAMWATCH_RETRY_ATTEMPTS", "2")],
    );
    let payload = subscription(&example_records());
    let want = expected(&payload, Format::AwsLogs);
    // The first batch of ten goes out; then SNS fails every request.
    proxy.fail_next(Service::Sns, []);
    proxy.fail_always(Service::Sns, Fault::ServerError);
    let answer = f.api.invoke(&payload, MINUTE);
    match &answer {
        Answer::Error { kind, body } => {
            assert!(body.contains("iamwatch.Undelivered"), "{kind}: {body}");
        }
        other => panic!("expected a failed invocation: {other:?}"),
    }
    assert!(received_once(&local).is_empty());
    assert_eq!(f.metrics()[0]["PublishFailures"], json!(want.len() as f64));
    // SNS is back: Lambda's retry delivers every alert, once.
    proxy.heal();
    assert!(f.api.invoke(&payload, MINUTE).is_ok());
    assert_eq!(received_once(&local), want);
}

#[test]
fn a_deadline_mid_batch_fails_the_invocation_and_loses_nothing() {
    let local = Local::new();
    let proxy = Proxy::start(&local.rt, &local.moto.endpoint);
    let f = local.start("logs-subscription", &proxy.endpoint, &[]);
    // Many records, and a state table that answers slowly: the batch cannot finish in time.
    let records: Vec<String> = (0..8)
        .flat_map(|_| example_records())
        .enumerate()
        .map(|(i, r)| {
            let mut v: Value = serde_json::from_str(&r).expect("record");
            v["eventID"] = json!(format!("copy-{i}"));
            v.to_string()
        })
        .collect();
    let payload = subscription(&records);
    let want = expected(&payload, Format::AwsLogs);
    proxy.fail_always(Service::DynamoDb, Fault::Delay(Duration::from_millis(20)));
    let answer = f.api.invoke(&payload, Duration::from_millis(600));
    proxy.heal();
    match &answer {
        Answer::Error { body, .. } => assert!(body.contains("iamwatch.Deadline"), "{body}"),
        other => panic!("expected the deadline to stop the batch: {other:?}"),
    }
    let first = received_once(&local);
    assert!(
        first.len() < want.len(),
        "the whole batch finished: {}",
        first.len()
    );
    // The retry, with time enough, delivers the rest and nothing twice.
    assert!(f.api.invoke(&payload, MINUTE).is_ok());
    let second = received_once(&local);
    assert!(
        first.is_disjoint(&second),
        "sent twice: {:?}",
        first.intersection(&second)
    );
    let all: BTreeSet<_> = first.union(&second).cloned().collect();
    assert_eq!(all, want);
}

#[test]
fn the_eventbridge_handler_evaluates_the_detail() {
    let local = Local::new();
    let f = local.start("eventbridge", &local.moto.endpoint, &[]);
    let event =
        std::fs::read_to_string(root().join("examples/eventbridge/attach-role-policy.json"))
            .expect("example");
    let want = expected(&event, Format::JsonLines);
    assert!(!want.is_empty());
    assert!(f.api.invoke(&event, MINUTE).is_ok());
    assert_eq!(received_once(&local), want);
    // A console sign-in (no requestID) is a record like any other.
    let signin = json!({"version": "0", "id": "e1", "detail-type": "AWS Console Sign In via CloudTrail",
        "source": "aws.signin", "account": "111122223333", "time": "2026-11-20T10:00:00Z", "region": "us-east-1",
        "resources": [], "detail": {"eventVersion": "1.08", "userIdentity": {"type": "Root", "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333"},
        "eventTime": "2026-11-20T10:00:00Z", "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
        "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.5", "userAgent": "Mozilla/5.0",
        "responseElements": {"ConsoleLogin": "Success"}, "additionalEventData": {"MFAUsed": "No"},
        "eventID": "signin-1", "eventType": "AwsConsoleSignIn", "recipientAccountId": "111122223333"}})
    .to_string();
    let want = expected(&signin, Format::JsonLines);
    assert!(
        !want.is_empty(),
        "a root sign-in without MFA raises an alert"
    );
    assert!(f.api.invoke(&signin, MINUTE).is_ok());
    assert_eq!(received_once(&local), want);
}

#[test]
fn the_s3_handler_reads_a_gzip_cloudtrail_file_through_each_trigger() {
    let local = Local::new();
    let s3 = local.s3();
    let file = std::fs::read(root().join(
        "examples/cloudtrail/111122223333_CloudTrail_us-east-1_20261121T0220Z_intrusion.json.gz",
    ))
    .expect("example");
    let key = "AWSLogs/o-exampleorg/111122223333/CloudTrail/us-east-1/2026/11/21/111122223333_CloudTrail_us-east-1_20261121T0220Z_intrusion.json.gz";
    let digest = "AWSLogs/o-exampleorg/111122223333/CloudTrail-Digest/us-east-1/2026/11/21/111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20261121T0220Z.json.gz";
    bucket_with(
        &local.rt,
        &s3,
        "org-trail",
        &[(key, &file), (digest, &file)],
    );
    let text = {
        let mut t = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&file[..]), &mut t)
            .expect("gzip");
        t
    };
    let want = expected(&text, Format::Auto);
    assert!(want.len() >= 3, "{want:?}");
    let notification = |k: &str| {
        json!({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "org-trail"},
            "object": {"key": k.replace(' ', "+"), "size": file.len()}}}]})
    };
    let sqs = json!({"Records": [
        {"messageId": "m-1", "eventSource": "aws:sqs", "body": notification(key).to_string()},
        {"messageId": "m-2", "eventSource": "aws:sqs", "body": json!({"Event": "s3:TestEvent"}).to_string()},
        {"messageId": "m-3", "eventSource": "aws:sqs", "body": notification("AWSLogs/missing_CloudTrail_x.json.gz").to_string()},
    ]});
    let eventbridge = json!({"version": "0", "id": "1", "detail-type": "Object Created", "source": "aws.s3",
        "account": "111122223333", "time": "2026-11-21T02:25:00Z", "region": "us-east-1", "resources": [],
        "detail": {"bucket": {"name": "org-trail"}, "object": {"key": key}}});
    let batch = json!({"invocationSchemaVersion": "2.0", "invocationId": "inv-1",
        "job": {"id": "job-1", "userArguments": {}},
        "tasks": [
            {"taskId": "t-1", "s3Bucket": "org-trail", "s3Key": key, "s3VersionId": null},
            {"taskId": "t-2", "s3Bucket": "org-trail", "s3Key": "AWSLogs/111122223333/CloudTrail/us-east-1/gone_CloudTrail_x.json.gz", "s3VersionId": null},
            {"taskId": "t-3", "s3Bucket": "org-trail", "s3Key": digest, "s3VersionId": null}]});
    // Each trigger on a fresh instance with its state in memory: each reads the file whole.
    let memory: [(&str, &str); 1] = [("IAMWATCH_STATE_TABLE", "")];
    for (trigger, event) in [
        ("s3", notification(key)),
        ("s3-digest", notification(digest)),
        ("sqs", sqs),
        ("eventbridge", eventbridge),
        ("batch", batch),
    ] {
        let f = local.start("s3-cloudtrail", &local.moto.endpoint, &memory);
        let answer = f.api.invoke(&event.to_string(), MINUTE);
        let got = received_once(&local);
        match trigger {
            "s3-digest" => {
                assert_eq!(answer, Answer::Ok("null".into()));
                assert!(got.is_empty());
                assert!(f.output().contains("digest"), "{}", f.output());
            }
            "sqs" => {
                // The missing object's message alone comes back.
                assert_eq!(
                    answer.json(),
                    json!({"batchItemFailures": [{"itemIdentifier": "m-3"}]})
                );
                assert_eq!(got, want, "{trigger}");
            }
            "batch" => {
                let r = answer.json();
                assert_eq!(r["invocationId"], "inv-1");
                let codes: Vec<&str> = r["results"]
                    .as_array()
                    .expect("results")
                    .iter()
                    .map(|t| t["resultCode"].as_str().unwrap_or_default())
                    .collect();
                assert_eq!(codes, ["Succeeded", "PermanentFailure", "Succeeded"], "{r}");
                assert_eq!(got, want, "{trigger}");
            }
            _ => {
                assert!(answer.is_ok(), "{trigger}: {answer:?}");
                assert_eq!(got, want, "{trigger}");
            }
        }
    }
}

#[test]
fn a_bad_setting_fails_the_start_naming_the_variable() {
    let local = Local::new();
    let mut f = Function::spawn(
        "logs-subscription",
        &local.moto.endpoint,
        &[("IAMWATCH_MIN_SEVERITY", "urgent")],
    );
    // The process ends at start, and the runtime never asks for an invocation.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while f.exited().is_none() && std::time::Instant::now() < deadline {
        assert!(
            f.api.ready(Duration::from_millis(50)).is_err(),
            "it started"
        );
    }
    assert!(f.exited().is_some_and(|s| !s.success()));
    assert!(
        f.output().contains("IAMWATCH_MIN_SEVERITY"),
        "{}",
        f.output()
    );
}

/// `IAMWATCH_ORGANIZATION_ACCOUNTS=true`: the handler lists the organization's accounts once at
/// start (moto's Organizations), and its alerts name the account; when Organizations cannot
/// be asked, the start fails naming the setting.
#[test]
fn organization_account_names_are_read_at_start() {
    let local = Local::new();
    // Organizations unreachable: ListAccounts fails after its retries, and so does the start.
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let mut f = Function::spawn(
        "logs-subscription",
        &nowhere,
        &[
            ("IAMWATCH_ORGANIZATION_ACCOUNTS", "true"),
            ("IAMWATCH_RETRY_ATTEMPTS", "2"),
        ],
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while f.exited().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(f.exited().is_some_and(|s| !s.success()), "{}", f.output());
    assert!(
        f.output().contains("IAMWATCH_ORGANIZATION_ACCOUNTS"),
        "{}",
        f.output()
    );
    assert!(f.output().contains("ListAccounts"), "{}", f.output());
    drop(f);

    let org = aws_sdk_organizations::Client::new(&local.config);
    let account = local.rt.block_on(async {
        org.create_organization()
            .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
            .send()
            .await
            .expect("organization");
        let made = org
            .create_account()
            .email("payments@example.com")
            .account_name("prod-payments")
            .send()
            .await
            .expect("account");
        made.create_account_status()
            .and_then(|s| s.account_id())
            .expect("the account's id")
            .to_string()
    });
    let f = local.start(
        "logs-subscription",
        &local.moto.endpoint,
        &[("IAMWATCH_ORGANIZATION_ACCOUNTS", "true")],
    );
    let mut record: Value = serde_json::from_str(&stop_logging("org-1")).expect("JSON");
    record["recipientAccountId"] = json!(account);
    assert!(f
        .api
        .invoke(&subscription(&[record.to_string()]), MINUTE)
        .is_ok());
    let got = drain(&local.rt, &local.config, &local.topic.queue_url);
    assert!(!got.is_empty());
    for r in &got {
        assert_eq!(r.message["account"], json!(account));
        assert_eq!(r.message["account_name"], "prod-payments", "{}", r.message);
    }
    assert!(
        f.output()
            .contains("account names read from AWS Organizations"),
        "{}",
        f.output()
    );
}

/// Hostile CloudTrail objects through `s3-cloudtrail` (one SQS batch, one message each): a
/// gzip bomb line, 100,000-deep nesting, a byte-order mark with bare CR line ends, a cut
/// container followed by a whole one, and a corrupt gzip stream. The good records around each
/// raise their alerts, the bad ones are counted and logged, and memory stays bounded. A corrupt
/// stream is bad content, not a failed read: a retry would read the same bytes, so it is a bad
/// record (the metrics and the log say so) and its message is not sent back.
#[test]
fn hostile_objects_never_crash_the_s3_handler_nor_hide_a_record() {
    let local = Local::new();
    let s3 = local.s3();
    let good = |n: usize| stop_logging(&format!("good-{n}"));
    let mut objects: Vec<(&str, Vec<u8>)> = Vec::new();
    // 64 MiB of one string between two records: over the record limit, read through.
    let mut bomb = format!("{}\n{{\"eventName\": \"", good(1)).into_bytes();
    bomb.extend(std::iter::repeat_n(b'x', 64 << 20));
    bomb.extend_from_slice(format!("\"}}\n{}\n", good(2)).as_bytes());
    objects.push(("bomb", gzip(&bomb)));
    let deep = format!(
        "{}\n{}{}\n{}\n",
        good(3),
        "[".repeat(100_000),
        "]".repeat(100_000),
        good(4)
    );
    objects.push(("deep", gzip(deep.as_bytes())));
    let bom = format!("\u{feff}{}\r{}\r", good(5), good(6));
    objects.push(("bom-cr", gzip(bom.as_bytes())));
    let cut = format!(
        "{{\"Records\": [{}, {{\"eventName\": \"Stop\n{{\"Records\": [{}]}}",
        good(7),
        good(8)
    );
    objects.push(("cut", gzip(cut.as_bytes())));
    let mut corrupt = gzip(format!("{}\n", good(9)).as_bytes());
    let mid = corrupt.len() / 2;
    corrupt[mid..].iter_mut().for_each(|b| *b ^= 0x5a);
    objects.push(("corrupt", corrupt));
    let key = |name: &str| {
        format!("AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/111122223333_CloudTrail_us-east-1_20261120T0800Z_{name}.json.gz")
    };
    let keys: Vec<String> = objects.iter().map(|(name, _)| key(name)).collect();
    let puts: Vec<(&str, &[u8])> = keys
        .iter()
        .zip(&objects)
        .map(|(k, (_, body))| (k.as_str(), body.as_slice()))
        .collect();
    bucket_with(&local.rt, &s3, "trail", &puts);
    let records: Vec<Value> = objects
        .iter()
        .enumerate()
        .map(|(i, (name, body))| {
            let n = json!({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "trail"},
                "object": {"key": key(name), "size": body.len()}}}]});
            json!({"messageId": format!("m-{i}"), "eventSource": "aws:sqs", "body": n.to_string()})
        })
        .collect();
    let f = local.start("s3-cloudtrail", &local.moto.endpoint, &[]);
    let answer = f
        .api
        .invoke(&json!({"Records": records}).to_string(), MINUTE);
    assert_eq!(
        answer.json(),
        json!({"batchItemFailures": []}),
        "{}",
        f.output()
    );
    let got = received_once(&local);
    // Every good record of the readable objects alerted: 1 to 8.
    let ids: BTreeSet<String> = got.iter().map(|(_, id)| id.clone()).collect();
    let want: BTreeSet<String> = (1..=8).map(|n| format!("good-{n}")).collect();
    assert_eq!(ids, want, "{}", f.output());
    let m = f.metrics();
    assert_eq!(m[0]["BadRecords"], json!(4.0), "{m:?}");
    assert_eq!(m[0]["Records"], json!(8.0), "{m:?}");
    assert!(
        f.output().contains("corrupt deflate stream"),
        "{}",
        f.output()
    );
    assert!(f.peak_rss_kib().expect("VmHWM") < 256 * 1024);
    assert_no_secrets(
        &f.output(),
        &secrets_in(&[("AWS_SECRET_ACCESS_KEY", AWS_SECRET)]),
    );
}
