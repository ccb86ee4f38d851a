//! `iamwatch replay --log-group`: history read from CloudWatch Logs (the moto server) page by
//! page finds what the same records in a file find.

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use iamwatch_e2e::*;
use serde_json::{json, Value};

#[test]
fn a_log_group_replays_as_its_records_in_a_file() {
    let moto = Moto::start();
    let rt = runtime();
    let config = config(&rt, &moto.endpoint, &quick_retry(3));
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    // 120 records over two hours, one in six an IAM change, put in three requests.
    // Three hours ago to one hour ago (CloudWatch Logs refuses events much older).
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    let base = (now - 3 * 3_600_000) / 60_000 * 60_000;
    let records: Vec<Value> = (0..120)
        .map(|i| {
            let name = if i % 6 == 0 { "CreateUser" } else { "DescribeInstances" };
            let source = if i % 6 == 0 { "iam.amazonaws.com" } else { "ec2.amazonaws.com" };
            json!({"eventVersion": "1.08", "eventSource": source, "eventName": name,
                "eventTime": iamwatch::time::Timestamp(base + i * 60_000).to_string(),
                "eventID": format!("hist-{i}"), "awsRegion": "us-east-1", "recipientAccountId": "111122223333",
                "sourceIPAddress": "198.51.100.7",
                "userIdentity": {"type": "IAMUser", "userName": "alice", "arn": "arn:aws:iam::111122223333:user/alice"}})
        })
        .collect();
    rt.block_on(async {
        logs.create_log_group()
            .log_group_name("trail")
            .send()
            .await
            .expect("group");
        logs.create_log_stream()
            .log_group_name("trail")
            .log_stream_name("111122223333_CloudTrail_us-east-1")
            .send()
            .await
            .expect("stream");
        for chunk in records.chunks(40) {
            let events: Vec<InputLogEvent> = chunk
                .iter()
                .map(|r| {
                    let at = iamwatch::time::Timestamp::parse(
                        r["eventTime"].as_str().unwrap_or_default(),
                    )
                    .map_or(base, |t| t.millis());
                    InputLogEvent::builder()
                        .timestamp(at)
                        .message(r.to_string())
                        .build()
                        .expect("event")
                })
                .collect();
            logs.put_log_events()
                .log_group_name("trail")
                .log_stream_name("111122223333_CloudTrail_us-east-1")
                .set_log_events(Some(events))
                .send()
                .await
                .expect("put");
        }
    });
    let dir = std::env::temp_dir().join(format!("iamwatch-log-group-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("records.jsonl");
    let lines: String = records.iter().map(|r| r.to_string() + "\n").collect();
    std::fs::write(&file, lines).expect("write");
    let findings = |o: &std::process::Output| -> Vec<(String, String)> {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| identity(&serde_json::from_str(l).expect("JSON")))
            .collect()
    };
    let from_file = findings(
        &iamwatch(&moto.endpoint)
            .args(["replay", "--format", "jsonl"])
            .arg(&file)
            .output()
            .expect("run"),
    );
    let from_logs = iamwatch(&moto.endpoint)
        .args(["replay", "--format", "jsonl", "--log-group", "trail"])
        .args(["--since", "4h", "--until", "0s"])
        .output()
        .expect("run");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        findings(&from_logs),
        from_file,
        "{}",
        String::from_utf8_lossy(&from_logs.stderr)
    );
    assert!(!from_file.is_empty());
    assert!(
        String::from_utf8_lossy(&from_logs.stderr).contains("120 events"),
        "{}",
        String::from_utf8_lossy(&from_logs.stderr)
    );
    // A window that holds none of them finds nothing.
    let none = iamwatch(&moto.endpoint)
        .args([
            "replay",
            "--format",
            "jsonl",
            "--log-group",
            "trail",
            "--since",
            "30m",
        ])
        .output()
        .expect("run");
    assert!(findings(&none).is_empty());
    // A log group that does not exist: a clear error, status 1.
    let missing = iamwatch(&moto.endpoint)
        .args(["replay", "--log-group", "no-such-group", "--since", "1d"])
        .output()
        .expect("run");
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no-such-group"));
}
