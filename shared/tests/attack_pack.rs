//! The `aws-attacks` pack against its table of cases (`fixtures/aws-attacks-cases.json`): each
//! case is a record (or a burst of records) and exactly the rules that must fire on it, and
//! every rule has cases that must and must not fire it.

use iamwatch::engine::{Engine, Run};
use iamwatch::ingest::Format;
use iamwatch::packs;
use iamwatch::rules::Severity;
use iamwatch::window::MemoryStore;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const CASES: &str = include_str!("fixtures/aws-attacks-cases.json");

fn fired(engine: &Engine, records: &[Value]) -> BTreeSet<String> {
    let input: String = records.iter().map(|r| format!("{r}\n")).collect();
    let mut store = MemoryStore::default();
    let mut run = Run::new(&mut store);
    let report = engine
        .evaluate(input.as_bytes(), Format::JsonLines, &mut run)
        .into_result()
        .expect("evaluate");
    assert_eq!(report.counts.bad, 0, "{:?}", report.bad);
    report
        .alerts
        .iter()
        .chain(&report.dry_run)
        .map(|f| f.rule.id.clone())
        .collect()
}

#[test]
fn every_case() {
    let pack = packs::builtin("aws-attacks")
        .expect("listed")
        .expect("loads");
    // Dormant rules too: each has its cases.
    let engine = Engine::from_packs(std::slice::from_ref(&pack), true, Severity::Info);
    let cases: Vec<Value> = serde_json::from_str(CASES).expect("cases are JSON");
    let mut seen: BTreeMap<&str, (usize, usize)> =
        pack.rules.iter().map(|r| (r.id.as_str(), (0, 0))).collect();
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().expect("a name");
        let records: Vec<Value> = match (case.get("record"), case.get("records")) {
            (Some(r), None) => vec![r.clone()],
            (None, Some(Value::Array(rs))) => rs.clone(),
            _ => panic!("{name}: give \"record\" or \"records\""),
        };
        let expected: BTreeSet<String> = case["fires"]
            .as_array()
            .expect("fires")
            .iter()
            .map(|v| v.as_str().expect("rule id").to_string())
            .collect();
        for id in &expected {
            assert!(seen.contains_key(id.as_str()), "{name}: no rule {id}");
        }
        for (id, (pos, neg)) in seen.iter_mut() {
            if expected.contains(*id) {
                *pos += 1;
            } else {
                *neg += 1;
            }
        }
        let got = fired(&engine, &records);
        if got != expected {
            failures.push(format!("{name}: expected {expected:?}, fired {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Negative cases of a rule: the near misses written for it, not only the other rules'
    // positives. Count those that share its event name.
    for (id, (pos, _)) in &seen {
        assert!(*pos > 0, "rule {id} has no case that fires it");
    }
    for rule in &pack.rules {
        let near_miss = cases.iter().any(|c| {
            let fires = c["fires"].as_array().expect("fires");
            let names: BTreeSet<&str> = c
                .get("record")
                .into_iter()
                .chain(
                    c.get("records")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten(),
                )
                .filter_map(|r| r["eventName"].as_str())
                .collect();
            !fires.iter().any(|f| f == rule.id.as_str())
                && names.iter().any(|n| {
                    let one = serde_json::json!({"eventName": n});
                    // A record of an event name the rule is about.
                    rule_mentions(&pack, &rule.id, &one)
                })
        });
        assert!(near_miss, "rule {} has no near-miss case", rule.id);
    }
}

/// Whether rule `id`'s matcher names the event name of `probe`.
fn rule_mentions(pack: &iamwatch::rules::Pack, id: &str, probe: &Value) -> bool {
    let Some(name) = probe["eventName"].as_str() else {
        return false;
    };
    let rule = pack.rules.iter().find(|r| r.id == id).expect("rule");
    let text = match &rule.matcher {
        iamwatch::rules::Matcher::FilterPattern(p) => p.as_str().to_string(),
        iamwatch::rules::Matcher::Conditions(_) => rule_text(id),
    };
    // Event names in patterns may be globbed (`AddPermission*`).
    text.contains(name)
        || text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '*'))
            .filter(|w| w.ends_with('*') && w.len() > 1)
            .any(|w| name.starts_with(&w[..w.len() - 1]))
}

fn rule_text(id: &str) -> String {
    let (_, text) = packs::BUILTIN
        .iter()
        .find(|(n, _)| *n == "aws-attacks")
        .expect("pack");
    let doc: Value = serde_json::from_str(text).expect("JSON");
    doc["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .find(|r| r["id"] == id)
        .map(|r| r["conditions"].to_string())
        .unwrap_or_default()
}
