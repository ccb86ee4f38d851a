//! One CloudWatch Embedded Metric Format line per invocation: CloudWatch Logs turns it into
//! metrics (namespace `iamwatch`, dimension `Function`) with no API call from the handler.
//!
//! Metrics: `Records`, `BadRecords`, `Findings` and `Findings<Severity>` (`FindingsCritical`
//! ...), `DryRunFindings`, `Excepted`, `Suppressed`, `RepeatedKeys`, `AlertsPublished`,
//! `PublishFailures`, `Failed` (1 when the invocation fails), and `Duration` in milliseconds.
//! Each exception that accepted matches adds a line of its own: `Excepted` with the
//! dimensions `Function` and `Exception`.

use crate::engine::Outcome;
use crate::rules::Severity;
use serde_json::{json, Map, Value};
use std::time::Duration;

/// The metric namespace.
pub const NAMESPACE: &str = "iamwatch";

/// The EMF document for one invocation of `function` (one line of JSON). `now_ms` is the
/// wall clock in ms since the epoch.
pub fn emf(function: &str, outcome: &Outcome, duration: Duration, now_ms: i64) -> String {
    let r = &outcome.report;
    let mut values: Vec<(String, f64, &str)> = vec![
        ("Records".into(), r.counts.events as f64, "Count"),
        ("BadRecords".into(), r.counts.bad as f64, "Count"),
        ("Findings".into(), r.counts.total_findings() as f64, "Count"),
        ("DryRunFindings".into(), r.counts.dry_run as f64, "Count"),
        ("Excepted".into(), r.counts.excepted as f64, "Count"),
        ("Suppressed".into(), r.counts.suppressed as f64, "Count"),
        ("RepeatedKeys".into(), r.counts.repeated as f64, "Count"),
        ("AlertsPublished".into(), r.delivered.sent as f64, "Count"),
        ("PublishFailures".into(), r.undelivered as f64, "Count"),
        (
            "Failed".into(),
            f64::from(u8::from(outcome.error.is_some())),
            "Count",
        ),
        (
            "Duration".into(),
            duration.as_secs_f64() * 1000.0,
            "Milliseconds",
        ),
    ];
    for s in Severity::ALL {
        let mut name = String::from("Findings");
        let level = s.as_str();
        name.push_str(&level[..1].to_ascii_uppercase());
        name.push_str(&level[1..]);
        values.push((name, r.counts.findings[s as usize] as f64, "Count"));
    }
    let definitions: Vec<Value> = values
        .iter()
        .map(|(name, _, unit)| json!({"Name": name, "Unit": unit}))
        .collect();
    let mut doc = Map::new();
    doc.insert(
        "_aws".into(),
        json!({
            "Timestamp": now_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Function"]],
                "Metrics": definitions,
            }],
        }),
    );
    doc.insert("Function".into(), Value::from(function));
    for (name, value, _) in values {
        doc.insert(name, json!(value));
    }
    if let Some(e) = &outcome.error {
        doc.insert("error".into(), Value::from(e.kind()));
    }
    Value::Object(doc).to_string()
}

/// Prints [`emf`] on standard output, where Lambda sends it to CloudWatch Logs; a failed
/// write loses only the metrics.
pub fn print(function: &str, outcome: &Outcome, duration: Duration) {
    use std::io::Write as _;
    let now_ms = crate::time::Timestamp::now().millis();
    let line = emf(function, outcome, duration, now_ms);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    for line in emf_exceptions(function, outcome, now_ms) {
        let _ = writeln!(out, "{line}");
    }
}

/// One EMF line per exception that accepted matches in the invocation: `Excepted` by
/// `Function` and `Exception` (a document holds one value per dimension).
pub fn emf_exceptions(function: &str, outcome: &Outcome, now_ms: i64) -> Vec<String> {
    outcome
        .report
        .excepted
        .iter()
        .map(|(name, n)| {
            json!({
                "_aws": {
                    "Timestamp": now_ms,
                    "CloudWatchMetrics": [{
                        "Namespace": NAMESPACE,
                        "Dimensions": [["Function", "Exception"]],
                        "Metrics": [{"Name": "Excepted", "Unit": "Count"}],
                    }],
                },
                "Function": function,
                "Exception": name,
                "Excepted": *n as f64,
            })
            .to_string()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{EngineError, Report};

    #[test]
    fn every_metric_is_declared_and_valued() {
        let mut report = Report::default();
        report.counts.events = 500;
        report.counts.bad = 2;
        report.counts.repeated = 1;
        report.counts.findings[Severity::Critical as usize] = 3;
        report.counts.findings[Severity::Medium as usize] = 1;
        report.delivered.sent = 4;
        let outcome = Outcome {
            report,
            error: Some(EngineError::Deadline { processed: 502 }),
        };
        let line = emf(
            "logs-subscription",
            &outcome,
            Duration::from_millis(12),
            1_700_000_000_000,
        );
        assert!(!line.contains('\n'));
        let v: Value = serde_json::from_str(&line).expect("JSON");
        let declared = v["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .expect("metrics");
        assert_eq!(declared.len(), 16);
        for d in declared {
            let name = d["Name"].as_str().expect("name");
            assert!(v[name].is_number(), "{name} has no value");
        }
        assert_eq!(v["Records"], 500.0);
        assert_eq!(v["RepeatedKeys"], 1.0);
        assert_eq!(v["FindingsCritical"], 3.0);
        assert_eq!(v["Findings"], 4.0);
        assert_eq!(v["AlertsPublished"], 4.0);
        assert_eq!(v["Failed"], 1.0);
        assert_eq!(v["Duration"], 12.0);
        assert_eq!(v["error"], "iamwatch.Deadline");
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Function"]])
        );
        assert_eq!(v["Function"], "logs-subscription");
        assert!(emf_exceptions("f", &outcome, 0).is_empty());
    }

    #[test]
    fn each_exception_has_its_line() {
        let mut report = Report::default();
        report.counts.excepted = 3;
        report.excepted.insert("global/terraform".into(), 2);
        report.excepted.insert("aws-recommended/sso".into(), 1);
        let outcome = Outcome {
            report,
            error: None,
        };
        let v: Value = serde_json::from_str(&emf("f", &outcome, Duration::ZERO, 1)).unwrap();
        assert_eq!(v["Excepted"], 3.0);
        let lines = emf_exceptions("f", &outcome, 1);
        assert_eq!(lines.len(), 2);
        let first: Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(first["Exception"], "aws-recommended/sso");
        assert_eq!(first["Excepted"], 1.0);
        assert_eq!(
            first["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Function", "Exception"]])
        );
    }
}
