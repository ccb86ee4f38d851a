//! Window state in DynamoDB (the moto server): the store keeps the same contract as the
//! in-memory one, concurrent processes share windows and fire once, and a replayed batch
//! alerts no one twice.

use iamwatch::window::{aggregate, CountOp, DynamoStore, MemoryStore, Seen, Window, WindowStore};
use iamwatch_e2e::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

const MIN: i64 = 60_000;

/// One call on a store, its answer as text.
type Step<'a> = dyn Fn(&mut dyn WindowStore) -> String + 'a;

/// A moto server with the state table, and a store on it (keep the server and the runtime
/// alive while the store is used).
fn store_on_moto() -> (Moto, tokio::runtime::Runtime, DynamoStore) {
    let moto = Moto::start();
    let rt = runtime();
    let config = config(&rt, &moto.endpoint, &quick_retry(3));
    create_state_table(&rt, &config, "state");
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&config),
        "state",
        rt.handle().clone(),
    );
    (moto, rt, store)
}

/// The same calls on the memory store and on DynamoDB give the same answers.
#[test]
fn the_dynamodb_store_answers_as_the_memory_store_does() {
    let (_moto, _rt, mut ddb) = store_on_moto();
    let mut mem = MemoryStore::default();
    let mut both = |f: &Step<'_>| {
        let (a, b) = (f(&mut mem), f(&mut ddb));
        assert_eq!(a, b);
        a
    };
    let sorted = |mut v: Vec<i64>| {
        v.sort_unstable();
        v
    };
    // Occurrences: once per id and time, ranges (from, to].
    assert_eq!(
        both(&|s| format!("{:?}", s.record("k", "a", 10, 100))),
        "Ok(true)"
    );
    assert_eq!(
        both(&|s| format!("{:?}", s.record("k", "a", 10, 100))),
        "Ok(false)"
    );
    both(&|s| format!("{:?}", s.record("k", "b", 20, 100)));
    both(&|s| format!("{:?}", s.record("k", "c", 30, 100)));
    both(&|s| format!("{:?}", s.record("other", "d", 20, 100)));
    // A retry that lands before the newest occurrence; the same id at another time is
    // another occurrence (the key is time and id).
    assert_eq!(
        both(&|s| format!("{:?}", s.record("k", "b", 20, 100))),
        "Ok(false)"
    );
    assert_eq!(
        both(&|s| format!("{:?}", s.record("other", "d", 25, 100))),
        "Ok(true)"
    );
    for (from, to) in [(0, 100), (10, 30), (9, 29), (30, 30), (-5, 10)] {
        both(&|s| format!("{:?}", s.occurrences("k", from, to).map(sorted)));
    }
    assert_eq!(
        both(&|s| format!("{:?}", s.occurrences("k", 10, 30).map(sorted))),
        "Ok([20, 30])"
    );
    // Holds: taken once, re-taken by their owner, extended, freed by time.
    let steps: [&Step<'_>; 17] = [
        &|s| format!("{:?}", s.hold("h", "e1", 100, 0)),
        &|s| format!("{:?}", s.hold("h", "e2", 150, 50)),
        &|s| format!("{:?}", s.hold("h", "e1", 100, 60)),
        &|s| format!("{:?}", s.held("h", 149)),
        &|s| format!("{:?}", s.held("h", 150)),
        &|s| format!("{:?}", s.extend("h", 200, 120)),
        &|s| format!("{:?}", s.held("h", 199)),
        &|s| format!("{:?}", s.claim("h", "e3", 300, 150)),
        &|s| format!("{:?}", s.claim("h", "e3", 400, 250)),
        &|s| format!("{:?}", s.extend("free", 500, 0)),
        &|s| format!("{:?}", s.held("free", 1)),
        &|s| format!("{:?}", s.claim("free", "x", 10, 0)),
        // Released by its owner only.
        &|s| format!("{:?}", s.release("free", "y")),
        &|s| format!("{:?}", s.held("free", 1)),
        &|s| format!("{:?}", s.release("free", "x")),
        &|s| format!("{:?}", s.held("free", 1)),
        &|s| format!("{:?}", s.release("never", "x")),
    ];
    let answers: Vec<String> = steps.iter().map(|f| both(f)).collect();
    assert_eq!(
        answers,
        [
            "Ok(true)",
            "Ok(false)",
            "Ok(true)",
            "Ok(true)",
            "Ok(false)",
            "Ok(())",
            "Ok(true)",
            "Ok(false)",
            "Ok(true)",
            "Ok(())",
            "Ok(false)",
            "Ok(true)",
            "Ok(())",
            "Ok(true)",
            "Ok(())",
            "Ok(false)",
            "Ok(())"
        ]
    );
    // Counters: how many since when, taken once.
    both(&|s| format!("{:?}", s.count("c", 50)));
    both(&|s| format!("{:?}", s.count("c", 70)));
    assert_eq!(
        both(&|s| format!("{:?}", s.take_count("c"))),
        "Ok(Some((2, 50)))"
    );
    assert_eq!(both(&|s| format!("{:?}", s.take_count("c"))), "Ok(None)");
    assert!(ddb.requests().writes > 10 && ddb.requests().reads > 5);
}

/// A burst arriving in every order fires exactly once on DynamoDB too.
#[test]
fn windows_on_dynamodb_fire_once_whatever_the_order() {
    let (_moto, _rt, mut s) = store_on_moto();
    let w = Window::parse("30 minutes").expect("window");
    let times = [0, 3, 7, 12, 20];
    for (round, order) in [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [2, 4, 0, 3, 1]]
        .iter()
        .enumerate()
    {
        let group = format!("acct-{round}");
        let fired: Vec<u64> = order
            .iter()
            .filter_map(|&i| {
                let seen = Seen {
                    rule_key: "r",
                    group: &group,
                    id: &format!("e{i}"),
                    at: times[i] * MIN,
                };
                aggregate(&mut s, seen, w, CountOp::Equal, 5)
                    .expect("DynamoDB answers")
                    .map(|f| f.count)
            })
            .collect();
        assert_eq!(fired, [5], "order {order:?}");
    }
}

fn denied(account: &str, i: usize) -> Value {
    json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "accountId": account,
                         "arn": format!("arn:aws:iam::{account}:user/mallory"), "userName": "mallory"},
        "eventTime": format!("2026-11-20T10:{:02}:{:02}Z", i / 4, (i % 4) * 15),
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.23",
        "errorCode": "AccessDenied",
        "errorMessage": "Access Denied",
        "eventID": format!("{account}-{i:04}"),
        "recipientAccountId": account,
    })
}

const RACE_PACK: &str = r#"{"pack": "race", "rules": [
  {"id": "denied-burst", "severity": "high", "title": "{count} denied calls in {within} in {account}",
   "filterPattern": "{ $.errorCode = \"AccessDenied\" }",
   "threshold": {"count": 10, "within": "10 minutes"},
   "runbook": ["Find who is probing: look up the principal and the source IP."]},
  {"id": "denied-once-an-hour", "severity": "low", "title": "denied calls by {actor}",
   "filterPattern": "{ $.errorCode = \"AccessDenied\" }",
   "suppress": {"for": "60 minutes", "by": ["$.userIdentity.arn"]},
   "runbook": ["Check whether the principal should have access."]}
]}"#;

fn write_lines(path: &Path, events: &[Value]) {
    let text: String = events.iter().map(|e| format!("{e}\n")).collect();
    std::fs::write(path, text).expect("write events");
}

fn replay(endpoint: &str, topic: &str, dir: &Path, file: &str) -> std::process::Child {
    iamwatch(endpoint)
        .env("IAMWATCH_TOPIC_ARN", topic)
        .env("IAMWATCH_STATE_TABLE", "state")
        .args(["replay", "--publish", "--format", "jsonl", "--pack"])
        .arg(dir.join("pack.json"))
        .arg(dir.join(file))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("iamwatch starts")
}

fn succeeded(out: Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{stderr}");
    stderr
}

fn by_rule(got: &[Received]) -> BTreeMap<(String, String), usize> {
    let mut m = BTreeMap::new();
    for r in got {
        let key = (
            r.message["rule"].as_str().unwrap_or_default().to_string(),
            r.message["account"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
        *m.entry(key).or_insert(0) += 1;
    }
    m
}

/// Two processes share bursts event by event (odd and even events of each account) and
/// race on the same windows: each burst fires once, each suppression key alerts once; a
/// replay of both files afterwards (a retried batch) sends nothing more.
#[test]
fn racing_processes_fire_once_and_a_retried_batch_sends_nothing_twice() {
    let moto = Moto::start();
    let rt = runtime();
    let config = config(&rt, &moto.endpoint, &quick_retry(3));
    create_state_table(&rt, &config, "state");
    let topic = topic_with_queue(&rt, &config, "iamwatch-race");
    let dir = std::env::temp_dir().join(format!("iamwatch-race-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("pack.json"), RACE_PACK).expect("pack");
    let accounts: Vec<String> = (0..6).map(|a| format!("11112222{a:04}")).collect();
    let (mut odd, mut even) = (Vec::new(), Vec::new());
    for i in 0..20 {
        for a in &accounts {
            if i % 2 == 0 { &mut even } else { &mut odd }.push(denied(a, i));
        }
    }
    write_lines(&dir.join("even.jsonl"), &even);
    write_lines(&dir.join("odd.jsonl"), &odd);

    let first = replay(&moto.endpoint, &topic.arn, &dir, "even.jsonl");
    let second = replay(&moto.endpoint, &topic.arn, &dir, "odd.jsonl");
    let e1 = succeeded(first.wait_with_output().expect("first run"));
    let e2 = succeeded(second.wait_with_output().expect("second run"));
    let got = drain(&rt, &config, &topic.queue_url);
    let counts = by_rule(&got);
    for a in &accounts {
        for rule in ["denied-burst", "denied-once-an-hour"] {
            assert_eq!(
                counts.get(&(rule.to_string(), a.clone())),
                Some(&1),
                "{rule} in {a}: {counts:?}\n{e1}\n{e2}"
            );
        }
    }
    assert_eq!(got.len(), 12, "{counts:?}");
    let burst = got
        .iter()
        .find(|r| r.message["rule"] == "denied-burst")
        .expect("a burst alert");
    assert_eq!(burst.message["window"]["count"], 10);

    // The platform retries both batches: nothing is sent again.
    let again = succeeded(
        replay(&moto.endpoint, &topic.arn, &dir, "even.jsonl")
            .wait_with_output()
            .expect("retry"),
    );
    let again2 = succeeded(
        replay(&moto.endpoint, &topic.arn, &dir, "odd.jsonl")
            .wait_with_output()
            .expect("retry"),
    );
    assert!(again.contains("published 0 alerts"), "{again}");
    assert!(again2.contains("published 0 alerts"), "{again2}");
    assert!(drain(&rt, &config, &topic.queue_url).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Exceptions used by a run are remembered in the state table: `iamwatch exceptions stale`
/// lists only the ones nothing needed lately.
#[test]
fn stale_exceptions_are_read_from_the_state_table() {
    let moto = Moto::start();
    let rt = runtime();
    let config = config(&rt, &moto.endpoint, &quick_retry(3));
    create_state_table(&rt, &config, "state");
    let dir = std::env::temp_dir().join(format!("iamwatch-stale-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let exceptions = dir.join("exceptions.json");
    std::fs::write(
        &exceptions,
        json!({"exceptions": [
            {"id": "console", "reason": "sign-ins are reviewed elsewhere", "event": "ConsoleLogin"},
            {"id": "never", "reason": "a bot that is gone", "role": "retired-bot"}
        ]})
        .to_string(),
    )
    .expect("write");
    let events = root().join("examples/cloudtrail/events.jsonl");
    let out = iamwatch(&moto.endpoint)
        .args([
            "replay",
            "--format",
            "jsonl",
            "--explain",
            "--state-table",
            "state",
            "--exceptions",
        ])
        .arg(&exceptions)
        .arg(&events)
        .output()
        .expect("replay runs");
    let stderr = succeeded(out.clone());
    assert!(
        stderr.contains("excepted matches by exception: global/console "),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let explained: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["excepted"] == true)
        .collect();
    assert!(!explained.is_empty(), "{stdout}");
    assert!(explained.iter().all(|v| v["exception"] == "global/console"));
    let stale = |days: &str| {
        let out = iamwatch(&moto.endpoint)
            .args([
                "exceptions",
                "stale",
                "--state-table",
                "state",
                "--days",
                days,
                "--exceptions",
            ])
            .arg(&exceptions)
            .output()
            .expect("stale runs");
        let stderr = succeeded(out.clone());
        (String::from_utf8_lossy(&out.stdout).to_string(), stderr)
    };
    // The example events are of 2026-11-20: used within a year, not within a day.
    let (listed, summary) = stale("400");
    assert!(
        listed.contains("global/never") && !listed.contains("global/console"),
        "{listed}"
    );
    assert!(summary.contains("1 of 2 exceptions"), "{summary}");
    let (listed, _) = stale("1");
    assert!(
        listed.contains("global/console\n  last matched 2026-11-20"),
        "{listed}"
    );
    assert!(
        listed.contains("global/never\n  no match in the last 400 days"),
        "{listed}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
