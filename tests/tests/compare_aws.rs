//! `iamwatch test-pattern --compare-aws` against a stand-in for CloudWatch's TestMetricFilter
//! that answers as the test says: the requests it sends (batches of 50, no empty message) and
//! each disagreement it reports, with the exit status.

use iamwatch_e2e::test_metric_filter::TestMetricFilter;
use iamwatch_e2e::*;
use serde_json::{json, Value};

const PATTERN: &str = r#"{ $.eventName = "Create*" }"#;

/// The stand-in's own idea of the pattern: a plain text search, which a JSON pattern is not.
fn naive(pattern: &str, message: &str) -> Option<Value> {
    assert_eq!(pattern, PATTERN, "the pattern is sent as given");
    message
        .contains(r#""eventName":"Create"#)
        .then(|| json!({}))
}

fn input(dir: &std::path::Path) -> std::path::PathBuf {
    let mut lines = vec![
        r#"{"eventName":"CreateUser"}"#.to_string(),
        r#"{"eventName":"DeleteUser"}"#.to_string(),
        // Both read this as a match or not alike, but for spacing: ours matches, the naive
        // search does not.
        r#"{"eventName": "CreateRole"}"#.to_string(),
        String::new(),
        // A nested member: the naive search matches, the JSON pattern does not.
        r#"{"requestParameters":{"eventName":"CreateX"},"eventName":"Get"}"#.to_string(),
    ];
    for i in 0..60 {
        lines.push(format!(r#"{{"eventName":"Describe{i}"}}"#));
    }
    let path = dir.join("events.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").expect("input");
    path
}

#[test]
fn each_disagreement_with_cloudwatch_is_reported_with_its_line() {
    let rt = runtime();
    let stand_in = TestMetricFilter::start(&rt, Box::new(naive));
    let dir = tempdir();
    let file = input(&dir);
    let out = compare(&stand_in.endpoint, &file);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stdout}\n{stderr}");
    // 64 non-empty lines: a batch of 50 and one of 14.
    assert_eq!(stand_in.batches(), [50, 14]);
    let reported: Vec<&str> = stdout.lines().filter(|l| l.starts_with("line ")).collect();
    assert_eq!(
        reported,
        [
            "line 3: iamwatch: match; CloudWatch: no match",
            "line 5: iamwatch: no match; CloudWatch: match"
        ],
        "{stdout}"
    );
    assert!(
        stderr.contains("2 of 64 lines compared") && stderr.contains("1 empty lines left out"),
        "{stderr}"
    );

    // As JSON lines.
    let out = iamwatch(&stand_in.endpoint)
        .args([
            "test-pattern",
            "--compare-aws",
            "--format",
            "jsonl",
            PATTERN,
        ])
        .arg(&file)
        .output()
        .expect("runs");
    let rows: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["line"], 3);
    assert_eq!(rows[0]["iamwatch"]["matched"], true);
    assert_eq!(rows[0]["cloudwatch"]["matched"], false);
}

#[test]
fn agreement_exits_0_and_an_unreachable_cloudwatch_exits_4() {
    let rt = runtime();
    // A stand-in that judges as we do agrees on every line.
    let stand_in = TestMetricFilter::start(
        &rt,
        Box::new(|p, m| {
            iamwatch::pattern::FilterPattern::new(p)
                .ok()?
                .test(m)
                .map(|_| json!({}))
        }),
    );
    let dir = tempdir();
    let file = input(&dir);
    let out = compare(&stand_in.endpoint, &file);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("0 of 64 lines"));

    let closed = format!("http://127.0.0.1:{}", free_port());
    let out = iamwatch(&closed)
        .env("IAMWATCH_RETRY_ATTEMPTS", "1")
        .args(["test-pattern", "--compare-aws", PATTERN])
        .arg(&file)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("TestMetricFilter"), "{stderr}");
}

/// `iamwatch test-pattern --compare-aws PATTERN file` against the stand-in at `endpoint`.
fn compare(endpoint: &str, file: &std::path::Path) -> std::process::Output {
    iamwatch(endpoint)
        .args(["test-pattern", "--compare-aws", PATTERN])
        .arg(file)
        .output()
        .expect("runs")
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("iamwatch-compare-{}", free_port()));
    std::fs::create_dir_all(&dir).expect("a directory");
    dir
}
