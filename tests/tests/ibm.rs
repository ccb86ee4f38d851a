//! The IBM handler as Code Engine and OpenWhisk run it: the real binary serving HTTP on
//! 127.0.0.1 (or reading activations on stdin), objects in moto's S3 standing in for COS's
//! S3 API, alerts published to SNS (moto) and read from the SQS queue subscribed to it.

use flate2::write::GzEncoder;
use iamwatch_e2e::app::{base_env, App, Client, SECRET};
use iamwatch_e2e::faults::{Fault, Proxy, Service};
use iamwatch_e2e::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BUCKET: &str = "at-events";
const KEY: &str =
    "a1b2c3d4e5f60718293a4b5c6d7e8f90/us-south/2026-11-20T14/20261120T140000+0000_0f1e2d3c.log.gz";
const ACCOUNT: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90";

/// The example Activity Tracker events, with a cut line after the fourth.
fn mixed_events() -> String {
    let text = std::fs::read_to_string(root().join("examples/ibm/activity-tracker-events.jsonl"))
        .expect("example events");
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(
        4,
        r#"{"action":"iam-identity.user-apikey.login","initiator":{"#,
    );
    lines.join("\n") + "\n"
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).expect("gzip");
    gz.finish().expect("gzip")
}

/// The alerts the built-in IBM packs raise on the example events with the allowlist
/// 10.0.0.0/8 (medium and up): `(rule, event id)`.
fn expected() -> BTreeSet<(String, String)> {
    [
        ("serviceid-login-outside-allowlist", 2),
        ("policy-created", 3),
        ("failed-login-burst", 8),
        ("iam-delete-outside-change-window", 10),
        ("user-login-outside-allowlist", 11),
        ("ip-address-restriction-violation", 11),
    ]
    .into_iter()
    .map(|(rule, n)| (rule.to_string(), format!("3f9c2a7e-5b1d-4c8e-9a0f-{n:012}")))
    .collect()
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
        let topic = topic_with_queue(&rt, &config, "iamwatch-ibm-alerts");
        let events = gzip(mixed_events().as_bytes());
        bucket_with(
            &rt,
            &s3_client(&config),
            BUCKET,
            &[
                (KEY, &events),
                ("broken/not-events.log", b"\x00\x01 this is not JSON\n"),
            ],
        );
        Local {
            moto,
            rt,
            config,
            topic,
        }
    }

    /// The app's settings: this topic, COS at moto's S3 API with HMAC keys, the allowlist.
    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("IAMWATCH_TOPIC_ARN", self.topic.arn.clone()),
            ("IAMWATCH_COS_ENDPOINT", self.moto.endpoint.clone()),
            ("IAMWATCH_COS_ACCESS_KEY_ID", "cos-hmac-id".into()),
            ("IAMWATCH_COS_SECRET_ACCESS_KEY", "cos-hmac-secret".into()),
            ("IAMWATCH_ALLOWLIST_IAM", "10.0.0.0/8".into()),
        ]
    }

    /// The app with SNS reached through `sns` (moto, or a proxy in front of it).
    fn start(&self, sns: &str, extra: &[(&str, &str)]) -> App {
        let env = self.env();
        let mut all: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        all.extend_from_slice(extra);
        App::start(sns, &all)
    }

    /// What SQS received, as `(rule, event id)`, every alert once (a duplicate fails).
    fn received_once(&self) -> BTreeSet<(String, String)> {
        let got = drain(&self.rt, &self.config, &self.topic.queue_url);
        let ids: Vec<_> = got.iter().map(|r| identity(&r.message)).collect();
        let set: BTreeSet<_> = ids.iter().cloned().collect();
        assert_eq!(set.len(), ids.len(), "an alert arrived twice: {ids:?}");
        set
    }
}

/// The COS subscription's data for an object, as Code Engine sends it.
fn cos_data(key: &str) -> Value {
    json!({"bucket": BUCKET, "endpoint": "", "key": key, "operation": "Object:Write",
        "notification": {"bucket_name": BUCKET, "content_type": "application/octet-stream",
            "event_type": "Object:Write", "format": "2.0", "object_etag": "e",
            "object_length": "1024", "object_name": key, "request_id": "r-1",
            "request_time": "2026-11-20T14:01:00.000Z"}})
}

fn binary_cos_headers(key: &str) -> Vec<(&'static str, String)> {
    vec![
        ("ce-id", "cos-1".into()),
        (
            "ce-source",
            format!("https://cloud.ibm.com/catalog/services/cloud-object-storage/{BUCKET}"),
        ),
        ("ce-specversion", "1.0".into()),
        ("ce-subject", key.into()),
        ("ce-time", "2026-11-20T14:01:00.000Z".into()),
        ("ce-type", "com.ibm.cloud.cos.document.write".into()),
        ("Content-Type", "application/json".into()),
    ]
}

fn headers<'h>(h: &'h [(&'static str, String)]) -> Vec<(&'static str, &'h str)> {
    h.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[test]
fn a_cos_event_for_a_gzip_file_publishes_exactly_its_alerts_and_reports_the_bad_line() {
    let local = Local::new();
    // SNS through the proxy, to read what was published as it was sent.
    let proxy = Proxy::start(&local.rt, &local.moto.endpoint);
    let app = local.start(&proxy.endpoint, &[]);
    let h = binary_cos_headers(KEY);
    let answer = app.post(&headers(&h), cos_data(KEY).to_string().as_bytes());
    assert_eq!(answer.status, 200, "{}", answer.body);
    let report = answer.json();
    assert_eq!(report["events"], 11, "{report}");
    assert_eq!(report["bad"], 1, "{report}");
    assert_eq!(report["bad_records"][0]["position"], "line 5", "{report}");
    assert_eq!(report["alerts"], 6, "{report}");
    assert_eq!(local.received_once(), expected());

    // The service-ID allowlist alert carries the runbook filled in from the event.
    let published = proxy.published();
    let serviceid = published
        .iter()
        .find(|m| {
            m["default"]
                .as_str()
                .is_some_and(|d| d.contains("\"rule\":\"serviceid-login-outside-allowlist\""))
        })
        .expect("the service ID alert was published");
    let email = serviceid["email"].as_str().expect("an e-mail body");
    for want in [
        ACCOUNT,
        "ServiceId-ci-deployer",
        "https://cloud.ibm.com/iam/serviceids/ServiceId-7c1e9d55-2b8a-4f1e-9c3d-5a6b7c8d9e0f",
        "185.220.101.9",
        "initiator.name:ServiceId-ci-deployer",
        "ibmcloud iam service-api-keys ServiceId-7c1e9d55-2b8a-4f1e-9c3d-5a6b7c8d9e0f",
    ] {
        assert!(email.contains(want), "the e-mail lacks {want:?}:\n{email}");
    }
    let runbook = email
        .split("What to do:")
        .nth(1)
        .and_then(|r| r.split("\nThe event:").next())
        .expect("a runbook");
    for unfilled in ["{", "<uuid>", " ? ", "(?)"] {
        assert!(
            !runbook.contains(unfilled),
            "unfilled {unfilled:?}:\n{runbook}"
        );
    }
    let sms = serviceid["sms"].as_str().expect("an SMS");
    assert!(sms.len() <= 140 && !sms.contains('\n'), "{sms:?}");
    assert!(sms.contains("185.220.101.9"), "{sms}");
}

#[test]
fn structured_and_kafka_cloudevents_and_plain_posts_are_evaluated() {
    let local = Local::new();
    let app = local.start(&local.moto.endpoint, &[]);
    let events = mixed_events();
    let violation = events.lines().last().expect("an event").to_string();

    // A COS event in structured mode.
    let structured = json!({"specversion": "1.0", "id": "cos-2", "type": "com.ibm.cloud.cos.document.write",
        "source": format!("https://cloud.ibm.com/catalog/services/cloud-object-storage/{BUCKET}"),
        "subject": KEY, "datacontenttype": "application/json", "data": cos_data(KEY)});
    let a = app.post(
        &[(
            "Content-Type",
            "application/cloudevents+json; charset=utf-8",
        )],
        structured.to_string().as_bytes(),
    );
    assert_eq!(
        (a.status, a.json()["events"].clone()),
        (200, json!(11)),
        "{}",
        a.body
    );
    assert_eq!(local.received_once(), expected());

    // A Kafka message (one Activity Tracker event), binary mode: the violation again, from
    // another address (the same one would be held back for an hour) with its own id.
    let mut again: Value = serde_json::from_str(&violation).expect("JSON");
    again["id"] = json!("kafka-0001");
    again["initiator"]["host"]["address"] = json!("198.51.100.23");
    let a = app.post(
        &[
            ("ce-id", "partition:0/offset:42"),
            ("ce-specversion", "1.0"),
            ("ce-type", "dev.knative.kafka.event"),
            (
                "ce-source",
                "/apis/v1/namespaces/p/kafkasources/at#activity-tracker",
            ),
            ("ce-subject", "partition:0#42"),
            ("Content-Type", "application/json"),
        ],
        again.to_string().as_bytes(),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["events"], 1);
    let rules: BTreeSet<String> = local.received_once().into_iter().map(|(r, _)| r).collect();
    assert_eq!(
        rules,
        BTreeSet::from([
            "ip-address-restriction-violation".to_string(),
            "user-login-outside-allowlist".to_string()
        ])
    );

    // An Event Notifications alert from Cloud Logs, posted by hand.
    again["id"] = json!("en-0001");
    again["initiator"]["host"]["address"] = json!("198.51.100.24");
    let en = json!({"data": {"alert_definition": {"name": "IAM violations"}, "log_example": again,
        "log_example_truncated": false, "status": "triggered"}, "specversion": "1.0",
        "type": "com.ibm.cloud.logs.alert:triggered", "ibmenseverity": "info"});
    let a = app.post(
        &[("Content-Type", "application/json")],
        en.to_string().as_bytes(),
    );
    assert_eq!(
        (a.status, a.json()["events"].clone()),
        (200, json!(1)),
        "{}",
        a.body
    );
    assert_eq!(local.received_once().len(), 2);

    // A delete notification is acknowledged; an object that is not events is reported.
    let mut h = binary_cos_headers(KEY);
    h[5].1 = "com.ibm.cloud.cos.document.delete".into();
    let a = app.post(&headers(&h), cos_data(KEY).to_string().as_bytes());
    assert_eq!(
        (a.status, a.json()["events"].clone()),
        (200, json!(0)),
        "{}",
        a.body
    );
    let h = binary_cos_headers("broken/not-events.log");
    let a = app.post(
        &headers(&h),
        cos_data("broken/not-events.log").to_string().as_bytes(),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        (a.json()["events"].clone(), a.json()["bad"].clone()),
        (json!(0), json!(1))
    );
    // A notification naming no object is the sender's error: 400, not retried.
    let a = app.post(&headers(&binary_cos_headers(KEY)), b"{}");
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(local.received_once().is_empty());
}

#[test]
fn hostile_bodies_get_clear_answers_and_hide_no_violation() {
    let local = Local::new();
    let app = local.start(&local.moto.endpoint, &[]);
    let bomb = {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::best());
        for _ in 0..64 {
            e.write_all(&[0u8; 1 << 20]).expect("gzip");
        }
        e.finish().expect("gzip")
    };
    for (what, body) in [
        ("not JSON", b"not json at all".to_vec()),
        (
            "deep nesting",
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
        ),
        ("invalid UTF-8", b"{\"action\": \"\xff\xfe\"}".to_vec()),
        ("a gzip bomb", bomb),
        (
            "truncated gzip",
            gzip(mixed_events().as_bytes())[..200].to_vec(),
        ),
    ] {
        let a = app.post(&[], &body);
        assert_eq!(a.status, 200, "{what}: {}", a.body);
        assert!(a.json()["bad"].as_u64() >= Some(1), "{what}: {}", a.body);
    }
    assert!(local.received_once().is_empty());
    // The allowlist violation of the examples, its address written twice (an allowed one
    // last), after a byte-order mark, between bad lines: still an alert.
    let violation = mixed_events()
        .lines()
        .find(|l| l.contains("serviceid-apikey.login") && !l.contains("10.45.116.217"))
        .expect("a service-ID login from outside the allowlist")
        .to_string();
    let addr = serde_json::from_str::<Value>(&violation).expect("JSON")["initiator"]["host"]
        ["address"]
        .as_str()
        .expect("address")
        .to_string();
    let twice = violation.replacen(
        &format!("\"address\":\"{addr}\""),
        &format!("\"address\":\"{addr}\",\"address\":\"10.1.2.3\""),
        1,
    );
    assert_ne!(twice, violation);
    let body = format!("not json\n\u{feff}{twice}\n{{\"cut\": \n");
    let a = app.post(&[], body.as_bytes());
    assert_eq!(a.status, 200, "{}", a.body);
    let got = local.received_once();
    assert!(
        got.iter()
            .any(|(rule, _)| rule == "serviceid-login-outside-allowlist"),
        "{got:?}"
    );
    let peak = app.peak_rss_kib().expect("VmHWM");
    assert!(peak < 256 * 1024, "peak RSS {peak} KiB");
}

#[test]
fn requests_without_the_secret_are_refused_and_nothing_is_evaluated() {
    let local = Local::new();
    let app = local.start(&local.moto.endpoint, &[]);
    let body = mixed_events();
    let wrong = format!("Bearer {}x", &SECRET[..SECRET.len() - 1]);
    let basic = format!("Basic {SECRET}");
    for auth in [
        None,
        Some(wrong.as_str()),
        Some(basic.as_str()),
        Some("Bearer"),
    ] {
        let h: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
        let a = app
            .request("POST", "/", &h, body.as_bytes())
            .expect("an answer");
        assert_eq!(a.status, 401, "{auth:?}: {}", a.body);
        assert!(
            a.headers.contains("www-authenticate: bearer"),
            "{}",
            a.headers
        );
    }
    assert!(
        !app.output().contains("input processed"),
        "{}",
        app.output()
    );
    // A Code Engine subscription sends the secret as a CloudEvents extension header.
    for (token, status) in [(SECRET, 200), ("test-secret-0123456789abcdeX", 401)] {
        let h = [
            ("ce-iamwatchtoken", token),
            ("ce-type", "dev.knative.kafka.event"),
        ];
        let a = app
            .request("POST", "/", &h, br#"{"action":"iam-groups.group.read"}"#)
            .expect("an answer");
        assert_eq!(a.status, status, "{}", a.body);
    }
    assert!(local.received_once().is_empty());
    assert_eq!(app.output().matches("input processed").count(), 1);
    assert!(!app.output().contains(SECRET), "the secret was logged");
    // The health check needs no secret; other paths and methods are not served.
    assert_eq!(
        app.request("GET", "/healthz", &[], b"").expect("ok").status,
        200
    );
    assert_eq!(app.request("GET", "/", &[], b"").expect("405").status, 405);
}

#[test]
fn an_oversized_body_gets_413_with_or_without_a_length() {
    let local = Local::new();
    let app = local.start(&local.moto.endpoint, &[("IAMWATCH_MAX_BODY_BYTES", "4096")]);
    let event = mixed_events().lines().next().expect("an event").to_string();
    let mut big = String::new();
    while big.len() <= 4096 {
        big.push_str(&event);
        big.push('\n');
    }
    let a = app.post(&[], big.as_bytes());
    assert_eq!(a.status, 413, "{}", a.body);
    // Chunked, so the length is known only as it is read.
    let mut raw = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: Bearer {SECRET}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    for chunk in big.as_bytes().chunks(1000) {
        raw.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        raw.extend_from_slice(chunk);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"0\r\n\r\n");
    assert_eq!(app.send(&raw).expect("an answer").status, 413);
    // Within the limit: evaluated.
    let a = app.post(&[], &big.as_bytes()[..event.len() + 1]);
    assert_eq!(
        (a.status, a.json()["events"].clone()),
        (200, json!(1)),
        "{}",
        a.body
    );
}

#[test]
fn an_sns_outage_answers_503_and_the_retry_delivers_each_alert_once() {
    let local = Local::new();
    let proxy = Proxy::start(&local.rt, &local.moto.endpoint);
    let app = local.start(&proxy.endpoint, &[("IAMWATCH_RETRY_ATTEMPTS", "2")]);
    let h = binary_cos_headers(KEY);
    proxy.fail_always(Service::Sns, Fault::ServerError);
    let a = app.post(&headers(&h), cos_data(KEY).to_string().as_bytes());
    assert_eq!(a.status, 503, "{}", a.body);
    assert_eq!(
        a.json()["error"]["kind"],
        "iamwatch.Undelivered",
        "{}",
        a.body
    );
    assert!(local.received_once().is_empty());
    // SNS is back: the event source's retry delivers every alert, once.
    proxy.heal();
    let a = app.post(&headers(&h), cos_data(KEY).to_string().as_bytes());
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(local.received_once(), expected());
    // And a third delivery of the same event sends nothing again.
    let a = app.post(&headers(&h), cos_data(KEY).to_string().as_bytes());
    assert_eq!((a.status, a.json()["delivered"].clone()), (200, json!(0)));
    assert!(local.received_once().is_empty());
}

#[test]
fn sigterm_finishes_the_request_in_flight_then_exits() {
    let local = Local::new();
    let proxy = Proxy::start(&local.rt, &local.moto.endpoint);
    let mut app = local.start(&proxy.endpoint, &[]);
    // SNS answers slowly: the request is still publishing when SIGTERM comes.
    proxy.fail_always(Service::Sns, Fault::Delay(Duration::from_millis(1500)));
    let port = app.port;
    let h = binary_cos_headers(KEY);
    let body = cos_data(KEY).to_string();
    let in_flight = std::thread::spawn(move || Client { port }.post(&headers(&h), body.as_bytes()));
    std::thread::sleep(Duration::from_millis(500));
    app.terminate();
    let answer = in_flight.join().expect("the request thread");
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(local.received_once(), expected());
    let status = app.wait(Duration::from_secs(20)).expect("the app exits");
    assert!(status.success(), "{status}");
    assert!(app.request("GET", "/healthz", &[], b"").is_err());
}

#[test]
fn the_app_does_not_start_without_a_good_secret() {
    let local = Local::new();
    for (secret, why) in [(None, "is required"), (Some("short"), "at least 16")] {
        let mut cmd = Command::new(lambda::function_bin("ibm-activity-tracker"));
        base_env(&mut cmd, &local.moto.endpoint).env("PORT", free_port().to_string());
        cmd.args(["--bind", "127.0.0.1"]);
        if let Some(s) = secret {
            cmd.env("IAMWATCH_WEBHOOK_SECRET", s);
        }
        let out = cmd.output().expect("runs");
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{text}");
        assert!(
            text.contains("IAMWATCH_WEBHOOK_SECRET") && text.contains(why),
            "{text}"
        );
    }
}

#[test]
fn the_openwhisk_loop_answers_three_activations_in_a_row_on_fd_3() {
    let local = Local::new();
    let results = std::env::temp_dir().join(format!("iamwatch-ow-{}.jsonl", free_port()));
    std::fs::write(&results, b"").expect("results file");
    let mut cmd = Command::new("sh");
    // OpenWhisk's proxy hands the action descriptor 3 for results; a shell does the same.
    cmd.args(["-c", "exec \"$0\" --openwhisk 3>>\"$1\""])
        .arg(lambda::function_bin("ibm-activity-tracker"))
        .arg(&results);
    base_env(&mut cmd, &local.moto.endpoint).env("__OW_WAIT_FOR_ACK", "1");
    for (k, v) in local.env() {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the action starts");
    let mut stdin = child.stdin.take().expect("stdin");
    let lines = |n: usize| {
        let started = Instant::now();
        loop {
            let text = std::fs::read_to_string(&results).unwrap_or_default();
            let got: Vec<Value> = text
                .lines()
                .map(|l| serde_json::from_str(l).expect("each result is one JSON line"))
                .collect();
            if got.len() >= n || started.elapsed() > Duration::from_secs(30) {
                return got;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    assert_eq!(lines(1), [json!({"ok": true})], "no acknowledgement");
    let violation: Value =
        serde_json::from_str(mixed_events().lines().last().expect("event")).expect("JSON");
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis()
        + 60_000;
    let activations = [
        json!({"value": violation, "namespace": "guest", "action_name": "iamwatch",
            "activation_id": "a-1", "deadline": deadline.to_string()}),
        json!({"value": {"bucket": BUCKET, "key": KEY, "notification": cos_data(KEY)["notification"]},
            "activation_id": "a-2", "deadline": deadline as u64}),
        json!({"value": "not an object", "activation_id": "a-3"}),
    ];
    for a in &activations {
        writeln!(stdin, "{a}").expect("write an activation");
    }
    stdin.flush().expect("flush");
    let got = lines(4);
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(got[1]["events"], 1, "{}", got[1]);
    assert_eq!(got[1]["alerts"], 2, "{}", got[1]);
    assert_eq!(got[2]["events"], 11, "{}", got[2]);
    assert_eq!(got[2]["bad"], 1, "{}", got[2]);
    assert!(got[3]["error"].is_string(), "{}", got[3]);
    assert_eq!(local.received_once(), expected());
    // The loop goes on until stdin ends.
    drop(stdin);
    let out = child.wait_with_output().expect("exits");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let logs = String::from_utf8_lossy(&out.stderr);
    assert!(logs.contains("\"activation\":\"a-3\""), "{logs}");
    let _ = std::fs::remove_file(&results);
}

/// COS stops sending half-way through the object: the request fails as a read error (503, so
/// the event source retries), never as a shorter file; the retry reads the object whole and
/// sends only what the first attempt did not.
#[test]
fn a_cos_read_cut_off_answers_503_and_the_retry_loses_nothing() {
    let local = Local::new();
    let proxy = Proxy::start(&local.rt, &local.moto.endpoint);
    let app = local.start(
        &local.moto.endpoint,
        &[
            ("IAMWATCH_COS_ENDPOINT", proxy.endpoint.as_str()),
            ("IAMWATCH_RETRY_ATTEMPTS", "1"),
        ],
    );
    let size = gzip(mixed_events().as_bytes()).len();
    let h = binary_cos_headers(KEY);
    proxy.fail_next(Service::Other, [Fault::CutBody { after: size / 2 }]);
    let a = app.post(&headers(&h), cos_data(KEY).to_string().as_bytes());
    assert_eq!(a.status, 503, "{}", a.body);
    assert_eq!(a.json()["error"]["kind"], "iamwatch.Read", "{}", a.body);
    let first = local.received_once();
    assert!(first.len() < expected().len(), "{first:?}");
    proxy.heal();
    let a = app.post(&headers(&h), cos_data(KEY).to_string().as_bytes());
    assert_eq!(a.status, 200, "{}", a.body);
    let rest = local.received_once();
    assert!(first.is_disjoint(&rest), "an alert arrived twice");
    let all: BTreeSet<_> = first.union(&rest).cloned().collect();
    assert_eq!(all, expected());
    // COS answering 500 (after the client's retries) is a failed read too.
    proxy.fail_always(Service::Other, Fault::ServerError);
    let a = app.post(&headers(&h), cos_data(KEY).to_string().as_bytes());
    assert_eq!(a.status, 503, "{}", a.body);
    assert_eq!(a.json()["error"]["kind"], "iamwatch.Read", "{}", a.body);
}
