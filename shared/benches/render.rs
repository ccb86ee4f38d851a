//! `render`: every channel of one SNS publish (JSON, e-mail, SMS, subject, attributes) for a
//! typical finding.

use criterion::{criterion_group, criterion_main, Criterion};
use iamwatch::detector::Detector;
use iamwatch::event::Event;
use iamwatch::render::render;
use std::hint::black_box;

const EVENTS: &str = include_str!("../../examples/cloudtrail/events.jsonl");

fn bench(c: &mut Criterion) {
    let packs = iamwatch::packs::all().expect("packs");
    let d = Detector::new(&packs);
    let line = EVENTS
        .lines()
        .find(|l| l.contains("\"AttachUserPolicy\""))
        .expect("example");
    let event = Event::new(serde_json::from_str(line).expect("json")).expect("event");
    let finding = d
        .evaluate(&event)
        .into_iter()
        .find(|f| f.rule.id == "iam-policy-changes")
        .expect("finding");
    c.bench_function("render/all channels, typical finding", |b| {
        b.iter(|| render(black_box(&finding)).message().len())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
