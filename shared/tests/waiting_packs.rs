//! `Engine::for_cloudtrail` leaves the IBM packs out until a CADF record comes: it must find
//! exactly what the engine with every pack finds, on any mix of records.

use base64::Engine as _;
use flate2::write::GzEncoder;
use flate2::Compression;
use iamwatch::config::Config;
use iamwatch::engine::{Engine, Report, Run};
use iamwatch::event::Provider;
use iamwatch::ingest::Format;
use iamwatch::packs;
use iamwatch::rules::AppliesTo;
use iamwatch::window::MemoryStore;
use serde_json::{json, Value};
use std::io::Write;

const CLOUDTRAIL: &str = include_str!("../../examples/cloudtrail/events.jsonl");
const CADF: &str = include_str!("../../examples/ibm/activity-tracker-events.jsonl");

fn run(engine: &Engine, input: &[u8], format: Format) -> Report {
    let mut windows = MemoryStore::default();
    let mut run = Run::new(&mut windows);
    engine
        .evaluate_bytes(input, format, &mut run)
        .into_result()
        .expect("no delivery, no state: nothing transient")
}

/// What a report says, in order: every count and every finding as JSON.
fn said(r: &Report) -> (Vec<u64>, Vec<Value>, Vec<Value>) {
    let c = &r.counts;
    let mut counts = vec![c.events, c.bad, c.suppressed, c.dry_run];
    counts.extend(c.findings);
    let findings = |f: &[iamwatch::finding::Finding]| f.iter().map(|f| f.to_json()).collect();
    (counts, findings(&r.alerts), findings(&r.dry_run))
}

/// The engine runs as it was built: no CADF record has made it load the packs it left out
/// (or it left none out).
fn runs_as_built(e: &Engine) -> bool {
    std::ptr::eq(e.current(), e)
}

#[test]
fn the_packs_left_waiting_are_for_cadf_records_alone() {
    let waiting: Vec<&str> = packs::names()
        .filter(|n| packs::only_for(n) == Some(Provider::Cadf))
        .collect();
    assert!(waiting.len() >= 7, "the IBM packs wait: {waiting:?}");
    for name in packs::names() {
        let pack = packs::builtin(name).expect("listed").expect("loads");
        for rule in &pack.rules {
            if waiting.contains(&name) {
                assert_eq!(rule.applies_to, AppliesTo::Cadf, "{name}/{}", rule.id);
            }
            // A rule of a waiting pack that superseded one of another pack would change
            // what CloudTrail records get before the waiting packs load; the reverse would
            // not, since CADF records go to the engine with every pack.
            for s in &rule.supersedes {
                let other = s.split('/').next().unwrap_or_default();
                assert!(
                    !waiting.contains(&name) || waiting.contains(&other),
                    "{name}/{} supersedes {s}",
                    rule.id
                );
            }
        }
    }
    assert_eq!(packs::only_for("aws-iam-changes"), None);
}

/// CADF records as they may come: as written, with the key `action` escaped, with an
/// escape in its value, and one that is not an event at all.
fn cadf_lines() -> Vec<String> {
    let mut lines: Vec<String> = CADF.lines().map(str::to_string).collect();
    let first = lines[0].clone();
    lines.push(first.replacen("\"action\"", "\"\\u0061ction\"", 1));
    lines.push(first.replacen(".login\"", "\\u002elogin\"", 1).replacen(
        "000000000001",
        "000000000101",
        1,
    ));
    lines.push(r#"{"action": 7, "initiator": {}}"#.to_string());
    lines
}

#[test]
fn a_cloudtrail_engine_finds_what_the_whole_engine_finds() {
    let config = Config::default();
    let whole = Engine::new(&config).expect("built-in packs");
    let cloudtrail = Engine::for_cloudtrail(&config).expect("built-in packs");
    assert!(runs_as_built(&cloudtrail));
    assert!(
        cloudtrail.detector().rule_counts().1 < whole.detector().rule_counts().1,
        "the IBM rules wait"
    );

    // CloudTrail alone: the same findings, and the IBM packs still wait.
    let input = CLOUDTRAIL.as_bytes();
    let expected = said(&run(&whole, input, Format::JsonLines));
    assert!(!expected.1.is_empty(), "the examples fire rules");
    assert_eq!(said(&run(&cloudtrail, input, Format::JsonLines)), expected);
    assert!(runs_as_built(&cloudtrail));

    // Records of both providers, interleaved: the first CADF record loads the IBM packs.
    let ct: Vec<&str> = CLOUDTRAIL.lines().collect();
    let cadf = cadf_lines();
    let mut mixed = String::new();
    for i in 0..ct.len().max(cadf.len()) {
        for line in [ct.get(i).copied(), cadf.get(i).map(String::as_str)]
            .into_iter()
            .flatten()
        {
            mixed.push_str(line);
            mixed.push('\n');
        }
    }
    let expected = said(&run(&whole, mixed.as_bytes(), Format::JsonLines));
    assert!(
        expected.1.iter().any(|f| f["provider"] == "cadf")
            && expected.1.iter().any(|f| f["provider"] == "cloudtrail"),
        "both providers' rules fire"
    );
    assert!(expected.0[1] >= 1, "the record that is not an event is bad");
    let fresh = Engine::for_cloudtrail(&config).expect("built-in packs");
    assert_eq!(
        said(&run(&fresh, mixed.as_bytes(), Format::JsonLines)),
        expected
    );
    assert!(!runs_as_built(&fresh), "the IBM packs were loaded");
    // From then on the engine with every pack runs, with its own screen.
    assert_eq!(
        said(&run(fresh.current(), mixed.as_bytes(), Format::JsonLines)),
        expected
    );
}

#[test]
fn a_subscription_payload_of_cadf_records_loads_the_packs_it_needs() {
    // As a CloudWatch Logs subscription delivers them: messages are JSON strings.
    let events: Vec<Value> = cadf_lines()
        .iter()
        .chain(CLOUDTRAIL.lines().map(str::to_string).collect::<Vec<_>>().iter())
        .enumerate()
        .map(|(i, m)| json!({"id": format!("{i}"), "timestamp": 1_700_000_000_000u64 + i as u64, "message": m}))
        .collect();
    let data = json!({
        "messageType": "DATA_MESSAGE", "owner": "111122223333", "logGroup": "at",
        "logStream": "s", "subscriptionFilters": ["f"], "logEvents": events,
    });
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(data.to_string().as_bytes()).expect("gzip");
    let b64 = base64::engine::general_purpose::STANDARD.encode(gz.finish().expect("gzip"));
    let payload = json!({"awslogs": {"data": b64}}).to_string();

    let config = Config::default();
    let whole = Engine::new(&config).expect("built-in packs");
    let expected = said(&run(&whole, payload.as_bytes(), Format::AwsLogs));
    assert!(expected.1.iter().any(|f| f["provider"] == "cadf"));
    let cloudtrail = Engine::for_cloudtrail(&config).expect("built-in packs");
    assert_eq!(
        said(&run(&cloudtrail, payload.as_bytes(), Format::AwsLogs)),
        expected
    );
    assert!(!runs_as_built(&cloudtrail));
}

#[test]
fn chosen_packs_without_ibm_ones_leave_nothing_waiting() {
    let config = Config {
        packs: iamwatch::config::PackChoice {
            builtin: Some(vec!["cis-aws-foundations".into()]),
            ..Default::default()
        },
        ..Config::default()
    };
    let e = Engine::for_cloudtrail(&config).expect("built-in packs");
    let report = run(&e, cadf_lines().join("\n").as_bytes(), Format::JsonLines);
    assert!(report.counts.events > 0);
    // Nothing waited, so nothing was loaded: the engine is the one it was built as.
    assert!(runs_as_built(&e));
}

#[test]
fn the_packs_loaded_later_take_their_places_among_the_others() {
    // An IBM pack chosen first and a pack of one's own last, whose rule matches the same
    // record as ibm-iam's policy-created: the findings on one record come in the packs' order.
    let mine = r#"{"pack": "mine", "rules": [{"id": "any-policy-created",
        "filterPattern": "{ $.action = \"iam-am.policy.create\" }",
        "severity": "high"}]}"#;
    let config = Config {
        packs: iamwatch::config::PackChoice {
            builtin: Some(vec!["ibm-iam".into(), "cis-aws-foundations".into()]),
            extra: vec![mine.into()],
            ..Default::default()
        },
        ..Config::default()
    };
    let whole = Engine::new(&config).expect("packs");
    let cloudtrail = Engine::for_cloudtrail(&config).expect("packs");
    let input = format!("{CLOUDTRAIL}\n{CADF}");
    let expected = said(&run(&whole, input.as_bytes(), Format::JsonLines));
    let on_policy: Vec<&Value> = expected
        .1
        .iter()
        .filter(|f| f["event_id"] == "3f9c2a7e-5b1d-4c8e-9a0f-000000000003")
        .map(|f| &f["pack"])
        .collect();
    assert_eq!(on_policy, [&json!("ibm-iam"), &json!("mine")]);
    assert_eq!(
        said(&run(&cloudtrail, input.as_bytes(), Format::JsonLines)),
        expected
    );
    assert!(!runs_as_built(&cloudtrail));
}
