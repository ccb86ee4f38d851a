//! Faults between iamwatch and AWS, injected by a proxy in front of the moto server:
//! throttling, 500s, stalls and batches that fail in part are retried until everything
//! arrives once; faults that outlast the retry budget end in an error naming every alert
//! that was not delivered, and the retried batch then delivers exactly those.

use iamwatch::finding::Finding;
use iamwatch::notify::{deliver, DeliveryError, Notifier, SnsNotifier};
use iamwatch::window::{aggregate, CountOp, DynamoStore, MemoryStore, Seen, Window};
use iamwatch_e2e::faults::{Fault, Proxy, Service};
use iamwatch_e2e::*;
use std::collections::BTreeSet;
use std::time::Duration;

struct Setup {
    _moto: Moto,
    rt: tokio::runtime::Runtime,
    /// Clients straight to moto, for setting up and reading back.
    direct: aws_config::SdkConfig,
    proxy: Proxy,
    topic: Topic,
}

fn setup(name: &str) -> Setup {
    let moto = Moto::start();
    let rt = runtime();
    let direct = config(&rt, &moto.endpoint, &quick_retry(3));
    let topic = topic_with_queue(&rt, &direct, name);
    create_state_table(&rt, &direct, "state");
    let proxy = Proxy::start(&rt, &moto.endpoint);
    Setup {
        _moto: moto,
        rt,
        direct,
        proxy,
        topic,
    }
}

impl Setup {
    /// An SNS notifier that goes through the proxy with `attempts` per call.
    fn sns(&self, attempts: u32) -> SnsNotifier {
        let retry = quick_retry(attempts);
        let c = config(&self.rt, &self.proxy.endpoint, &retry);
        SnsNotifier::new(
            aws_sdk_sns::Client::new(&c),
            &self.topic.arn,
            self.rt.handle().clone(),
            retry,
        )
    }

    fn store(&self, attempts: u32) -> DynamoStore {
        let c = config(&self.rt, &self.proxy.endpoint, &quick_retry(attempts));
        DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&c),
            "state",
            self.rt.handle().clone(),
        )
    }

    /// What the subscriber received: (rule, event id) of each, duplicates kept.
    fn received(&self) -> Vec<(String, String)> {
        drain(&self.rt, &self.direct, &self.topic.queue_url)
            .iter()
            .map(|m| identity(&m.message))
            .collect()
    }
}

fn ids(findings: &[Finding]) -> Vec<(String, String)> {
    findings.iter().map(|f| identity(&f.to_json())).collect()
}

fn sorted(mut v: Vec<(String, String)>) -> Vec<(String, String)> {
    v.sort();
    v
}

#[test]
fn throttling_and_server_errors_are_retried_nothing_lost_nothing_twice() {
    let s = setup("throttled");
    let findings = example_findings();
    s.proxy.fail_next(
        Service::Sns,
        [
            Fault::Throttle,
            Fault::ServerError,
            Fault::Throttle,
            Fault::ServerError,
        ],
    );
    let sns = s.sns(5);
    sns.send(&findings).expect("delivered after retries");
    assert_eq!(s.proxy.faulted(), 4);
    // Every fault cost one more attempt of the same request; nothing else was sent.
    assert_eq!(
        s.proxy.count(Service::Sns, "PublishBatch"),
        findings.len().div_ceil(10) + 4
    );
    assert_eq!(sorted(s.received()), sorted(ids(&findings)));
}

#[test]
fn a_stalled_request_times_out_and_is_retried() {
    let s = setup("stalled");
    let mut findings = example_findings();
    findings.truncate(5);
    // Longer than the 2 s attempt timeout of the test budget.
    s.proxy
        .fail_next(Service::Sns, [Fault::Stall(Duration::from_secs(4))]);
    s.sns(3).send(&findings).expect("delivered after a timeout");
    assert_eq!(s.proxy.count(Service::Sns, "PublishBatch"), 2);
    assert_eq!(sorted(s.received()), sorted(ids(&findings)));
}

#[test]
fn entries_a_batch_fails_are_published_again_one_by_one() {
    let s = setup("partial");
    let mut findings = example_findings();
    findings.truncate(10);
    s.proxy
        .fail_next(Service::Sns, [Fault::PartialBatch { keep: 4 }]);
    let sns = s.sns(3);
    sns.send(&findings).expect("delivered");
    assert_eq!(s.proxy.count(Service::Sns, "PublishBatch"), 1);
    assert_eq!(s.proxy.count(Service::Sns, "Publish"), 6);
    assert_eq!(sns.requests(), 7);
    assert_eq!(sorted(s.received()), sorted(ids(&findings)));
}

#[test]
fn faults_beyond_the_budget_name_every_undelivered_alert() {
    let s = setup("down");
    let mut findings = example_findings();
    findings.truncate(12);
    s.proxy.fail_always(Service::Sns, Fault::ServerError);
    let err = s.sns(3).send(&findings).expect_err("SNS is down");
    assert_eq!(err.of, 12);
    assert_eq!(err.failures.len(), 12);
    for (i, f) in err.failures.iter().enumerate() {
        assert_eq!(f.index, i);
        assert_eq!(f.key, findings[i].key());
        assert!(f.reason.contains("InternalError"), "{}", f.reason);
    }
    let text = err.to_string();
    assert!(text.starts_with("12 of 12 alerts not delivered:"), "{text}");
    assert!(text.contains(&findings[11].key()), "{text}");
    // Three attempts for each of the two batches.
    assert_eq!(s.proxy.count(Service::Sns, "PublishBatch"), 6);
    assert!(s.received().is_empty());
}

/// A batch half delivered when SNS goes down: the error names the rest, the retried batch
/// sends exactly those, and a third attempt sends nothing.
#[test]
fn a_retried_batch_delivers_the_rest_and_nothing_twice() {
    let s = setup("retried");
    let mut findings = example_findings();
    findings.truncate(10);
    let mut store = MemoryStore::default();
    // Three entries get through; the seven retried alone meet a wall of 500s.
    s.proxy.fail_next(
        Service::Sns,
        std::iter::once(Fault::PartialBatch { keep: 3 })
            .chain(std::iter::repeat_n(Fault::ServerError, 7 * 2)),
    );
    let sns = s.sns(2);
    let err = match deliver(&sns, &findings, &mut store, 1_000) {
        Err(DeliveryError::Undelivered(u)) => u,
        other => panic!("expected undelivered alerts, got {other:?}"),
    };
    let named: BTreeSet<String> = err.failures.iter().map(|f| f.key.clone()).collect();
    let rest: BTreeSet<String> = findings[3..].iter().map(Finding::key).collect();
    assert_eq!(named, rest);
    assert_eq!(s.received().len(), 3);

    // The platform retries the batch: only the seven go out.
    let d = deliver(&sns, &findings, &mut store, 2_000).expect("delivered");
    assert_eq!((d.sent, d.already), (7, 3));
    // And once more: nothing.
    let d = deliver(&sns, &findings, &mut store, 3_000).expect("nothing to send");
    assert_eq!((d.sent, d.already), (0, 10));
    let all = sorted([ids(&findings[..3]), s.received()].concat());
    assert_eq!(all, sorted(ids(&findings)));
}

#[test]
fn dynamodb_throttling_is_retried_and_windows_still_fire_once() {
    let s = setup("ddb");
    s.proxy.fail_next(
        Service::DynamoDb,
        [
            Fault::Throttle,
            Fault::ServerError,
            Fault::Throttle,
            Fault::Throttle,
            Fault::ServerError,
        ],
    );
    // Five faults in a row on the first call: six attempts get through.
    let mut store = s.store(6);
    let w = Window::parse("10 minutes").expect("window");
    let fired: Vec<u64> = (0..8)
        .filter_map(|i| {
            let seen = Seen {
                rule_key: "r",
                group: "acct",
                id: &format!("e{i}"),
                at: i * 60_000,
            };
            aggregate(&mut store, seen, w, CountOp::GreaterThanInclusive, 5)
                .expect("retried through the faults")
                .map(|f| f.count)
        })
        .collect();
    assert_eq!(fired, [5]);
    assert_eq!(s.proxy.faulted(), 5);
}

#[test]
fn an_unreachable_table_is_an_error_that_says_which_table() {
    let s = setup("ddb-down");
    s.proxy.fail_always(Service::DynamoDb, Fault::Throttle);
    let mut store = s.store(2);
    let seen = Seen {
        rule_key: "r",
        group: "acct",
        id: "e1",
        at: 0,
    };
    let w = Window::parse("10 minutes").expect("window");
    let err = aggregate(&mut store, seen, w, CountOp::Equal, 1).expect_err("throttled");
    let text = err.to_string();
    assert!(
        text.contains("table state") && text.contains("ThrottlingException"),
        "{text}"
    );
    // Through the CLI: exit 4, and what failed.
    let out = iamwatch(&s.proxy.endpoint)
        .env("IAMWATCH_STATE_TABLE", "state")
        .env("IAMWATCH_RETRY_ATTEMPTS", "2")
        .args(["replay"])
        .arg(root().join("examples/ibm/activity-tracker-events.jsonl"))
        .output()
        .expect("iamwatch runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("DynamoDB") && stderr.contains("table state"),
        "{stderr}"
    );
}

#[test]
fn replay_publish_reports_undelivered_alerts_and_exits_4() {
    let s = setup("cli-down");
    s.proxy.fail_always(Service::Sns, Fault::Throttle);
    let out = iamwatch(&s.proxy.endpoint)
        .env("IAMWATCH_TOPIC_ARN", &s.topic.arn)
        .env("IAMWATCH_RETRY_ATTEMPTS", "2")
        .args(["replay", "--publish", "--format", "jsonl"])
        .arg(root().join("examples/cloudtrail/events.jsonl"))
        .output()
        .expect("iamwatch runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    let reported = String::from_utf8_lossy(&out.stdout).lines().count();
    assert!(
        stderr.contains(&format!("{reported} of {reported} alerts not delivered")),
        "{stderr}"
    );
    assert!(stderr.contains("Throttling: Rate exceeded"), "{stderr}");
    assert!(s.received().is_empty());
}
