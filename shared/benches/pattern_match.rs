//! `pattern_match`: the 14 Security Hub CloudWatch.1–14 patterns plus the IAM-change pattern
//! against one CloudTrail record parsed once.

use criterion::{criterion_group, criterion_main, Criterion};
use iamwatch::pattern::{FilterPattern, Message};
use serde_json::Value;
use std::hint::black_box;

const PATTERNS: &str = include_str!("data/security-hub-and-iam-changes.txt");
const EVENTS: &str = include_str!("../../examples/cloudtrail/events.jsonl");

fn patterns() -> Vec<FilterPattern> {
    let ps: Vec<FilterPattern> = PATTERNS
        .lines()
        .map(|l| FilterPattern::new(l).expect("benchmark pattern"))
        .collect();
    assert_eq!(ps.len(), 15);
    ps
}

fn bench(c: &mut Criterion) {
    let ps = patterns();
    let lines: Vec<&str> = EVENTS.lines().collect();
    // A CreateUser call: the IAM-change pattern matches, the 14 controls do not.
    let create_user = lines
        .iter()
        .find(|l| l.contains("\"CreateUser\""))
        .expect("CreateUser example");
    let record: Value = serde_json::from_str(create_user).expect("json");
    let mut g = c.benchmark_group("pattern_match");
    g.bench_function("15 patterns, one parsed record", |b| {
        b.iter(|| {
            let m = Message::from_json(black_box(&record));
            ps.iter().filter(|p| p.matches(&m)).count()
        })
    });
    let parsed: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    g.bench_function("15 patterns, each of the 12 example records", |b| {
        b.iter(|| {
            parsed
                .iter()
                .map(|r| {
                    let m = Message::from_json(black_box(r));
                    ps.iter().filter(|p| p.matches(&m)).count()
                })
                .sum::<usize>()
        })
    });
    g.bench_function("parse the record, then 15 patterns", |b| {
        b.iter(|| {
            let m = Message::from_text(black_box(create_user));
            ps.iter().filter(|p| p.matches(&m)).count()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
