//! Alerts through Amazon SNS (the moto server) to SQS subscribers: every alert arrives once,
//! with its subject and message attributes, and subscription filter policies route on them.

use iamwatch::notify::{Notifier, SnsNotifier};
use iamwatch::render::render;
use iamwatch_e2e::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// A moto server with a topic that an SQS queue subscribes to, and a notifier for it.
struct Local {
    _moto: Moto,
    rt: tokio::runtime::Runtime,
    config: aws_config::SdkConfig,
    topic: Topic,
    endpoint: String,
}

impl Local {
    fn new(topic: &str) -> Self {
        let moto = Moto::start();
        let rt = runtime();
        let config = config(&rt, &moto.endpoint, &quick_retry(3));
        let topic = topic_with_queue(&rt, &config, topic);
        Local {
            endpoint: moto.endpoint.clone(),
            _moto: moto,
            rt,
            config,
            topic,
        }
    }

    fn sns(&self) -> SnsNotifier {
        SnsNotifier::new(
            aws_sdk_sns::Client::new(&self.config),
            &self.topic.arn,
            self.rt.handle().clone(),
            quick_retry(3),
        )
    }

    fn received(&self) -> Vec<Received> {
        drain(&self.rt, &self.config, &self.topic.queue_url)
    }
}

#[test]
fn every_alert_arrives_once_with_its_subject_and_attributes() {
    let local = Local::new("iamwatch-alerts");
    let findings = example_findings();
    assert!(
        findings.len() > 20,
        "the examples raise {} alerts",
        findings.len()
    );

    let sns = local.sns();
    sns.send(&findings).expect("every alert delivered");
    // Ten to a PublishBatch.
    assert_eq!(sns.requests(), findings.len().div_ceil(10) as u64);

    let got = local.received();
    assert_eq!(got.len(), findings.len());
    for f in &findings {
        let r = render(f);
        let matching: Vec<&Received> = got
            .iter()
            .filter(|m| {
                m.message["rule"] == json!(f.rule.id)
                    && m.message["event_id"] == json!(f.event.id())
            })
            .collect();
        assert_eq!(matching.len(), 1, "{} on {:?}", f.rule.id, f.event.id());
        let m = matching[0];
        // The SQS subscriber gets the `default` channel: the finding as JSON.
        assert_eq!(m.message, f.to_json(), "{}", f.rule.id);
        assert_eq!(m.subject(), Some(r.subject.as_str()));
        assert_eq!(m.attribute("severity"), Some(f.severity().as_str()));
        assert_eq!(m.attribute("rule"), Some(f.rule.id.as_str()));
        assert_eq!(m.attribute("provider"), Some(f.event.provider().as_str()));
        assert_eq!(
            m.attribute("account"),
            Some(f.event.account().unwrap_or("unknown"))
        );
    }
}

#[test]
fn a_filter_policy_routes_only_critical_alerts() {
    let local = Local::new("iamwatch-routed");
    let (rt, config, topic) = (&local.rt, &local.config, &local.topic);
    // A second subscriber that takes only critical alerts, as an SMS subscription would.
    let sqs = aws_sdk_sqs::Client::new(config);
    let sns_client = aws_sdk_sns::Client::new(config);
    let critical_url = rt.block_on(async {
        let url = sqs
            .create_queue()
            .queue_name("critical-only")
            .send()
            .await
            .expect("queue")
            .queue_url
            .expect("url");
        let arn = format!("arn:aws:sqs:{REGION}:123456789012:critical-only");
        sns_client
            .subscribe()
            .topic_arn(&topic.arn)
            .protocol("sqs")
            .endpoint(arn)
            .attributes("FilterPolicy", r#"{"severity": ["critical"]}"#)
            .send()
            .await
            .expect("subscribe");
        url
    });
    let findings = example_findings();
    let critical: BTreeSet<(String, String)> = findings
        .iter()
        .filter(|f| f.severity().as_str() == "critical")
        .map(|f| identity(&f.to_json()))
        .collect();
    assert!(!critical.is_empty() && critical.len() < findings.len());

    local.sns().send(&findings).expect("delivered");
    let all = local.received();
    let routed = drain(rt, config, &critical_url);
    assert_eq!(all.len(), findings.len());
    let routed: BTreeSet<(String, String)> = routed.iter().map(|m| identity(&m.message)).collect();
    assert_eq!(routed, critical);
}

#[test]
fn a_huge_event_is_cut_to_fit_and_still_delivered() {
    let local = Local::new("iamwatch-huge");
    let mut findings = example_findings();
    findings.truncate(3);
    // A 1 MB policy document in the first record, and a Unicode principal.
    let mut record = findings[0].event.record().clone();
    record["requestParameters"] = json!({"policyDocument": "x".repeat(1 << 20)});
    record["userIdentity"]["userName"] = json!("Zoë-管理者");
    let event = iamwatch::event::Event::new(record).expect("event");
    findings[0] = iamwatch::finding::Finding::new(
        findings[0].pack.clone(),
        findings[0].rule.clone(),
        &event,
        None,
    );
    local.sns().send(&findings).expect("delivered");
    let got = local.received();
    assert_eq!(got.len(), 3);
    let huge = got
        .iter()
        .find(|m| m.message["record_truncated"].is_object())
        .expect("the huge record, cut");
    assert!(huge.message["record_truncated"]["bytes"].as_u64() > Some(1 << 20));
    assert!(huge
        .subject()
        .is_some_and(|s| s.is_ascii() && s.len() < 100));
}

#[test]
fn replay_publish_sends_what_it_reports() {
    let local = Local::new("iamwatch-cli");
    let topic = &local.topic;
    let out = iamwatch(&local.endpoint)
        .env("IAMWATCH_TOPIC_ARN", &topic.arn)
        .args(["replay", "--publish", "--format", "jsonl"])
        .arg(root().join("examples/cloudtrail/events.jsonl"))
        .arg(root().join("examples/ibm/activity-tracker-events.jsonl"))
        .output()
        .expect("iamwatch runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let reported: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert!(reported.len() >= 9);
    assert!(
        stderr.contains(&format!(
            "published {} alerts to {}",
            reported.len(),
            topic.arn
        )),
        "{stderr}"
    );
    let got = local.received();
    let sent: BTreeSet<_> = got.iter().map(|m| identity(&m.message)).collect();
    let want: BTreeSet<_> = reported.iter().map(identity).collect();
    assert_eq!(got.len(), reported.len());
    assert_eq!(sent, want);
}

#[test]
fn replay_publish_without_a_topic_says_what_to_set() {
    let out = iamwatch("http://127.0.0.1:9")
        .args(["replay", "--publish"])
        .arg(root().join("examples/cloudtrail/events.jsonl"))
        .output()
        .expect("iamwatch runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("set IAMWATCH_TOPIC_ARN"));
}
