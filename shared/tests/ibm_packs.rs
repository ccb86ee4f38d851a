//! Every built-in IBM rule against Activity Tracker events (and Cloud Pak audit records) that
//! must and must not fire it, windows included: `fixtures/ibm-pack-cases.json`, one case per
//! behaviour, each a sequence of events with whether the rule fires on each.

use iamwatch::detector::Detector;
use iamwatch::event::Event;
use iamwatch::packs;
use iamwatch::rules::load_pack;
use iamwatch::window::MemoryStore;
use serde_json::Value;
use std::collections::BTreeSet;

fn cases() -> Vec<Value> {
    let v: Value =
        serde_json::from_str(include_str!("fixtures/ibm-pack-cases.json")).expect("fixture");
    v.as_array().expect("array of cases").clone()
}

/// The pack's JSON with its `iam` allowlist set as the case says (as `IAMWATCH_ALLOWLIST_IAM`
/// would set it).
fn pack_with_allowlist(name: &str, allowlist: Option<&str>) -> iamwatch::rules::Pack {
    let (_, text) = packs::BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .expect("built-in pack");
    let mut doc: Value = serde_json::from_str(text).expect("pack JSON");
    if let Some(list) = allowlist {
        doc["allowlists"]["iam"] = Value::String(list.to_string());
    }
    load_pack(&doc.to_string(), name, name).expect("pack loads")
}

#[test]
fn every_ibm_rule_against_its_cases() {
    let mut failures = Vec::new();
    for case in cases() {
        let rule = case["rule"].as_str().expect("rule");
        let (pack, id) = rule.split_once('/').expect("PACK/RULE");
        let p = pack_with_allowlist(pack, case["allowlist_iam"].as_str());
        let d = Detector::with_filter(std::slice::from_ref(&p), |_, r| r.id == id);
        assert_ne!(d.rule_counts(), (0, 0), "no rule {rule}");
        let mut store = MemoryStore::default();
        let events = case["events"].as_array().expect("events");
        let want = case["fires"].as_array().expect("fires");
        assert_eq!(events.len(), want.len(), "{rule}: one 'fires' per event");
        for (i, (e, w)) in events.iter().zip(want).enumerate() {
            let event =
                Event::new(e.clone()).unwrap_or_else(|err| panic!("{rule} event {i}: {err}"));
            let fired = d
                .evaluate_with(&event, &mut store)
                .expect("the memory store answers")
                .iter()
                .any(|f| f.rule.id == id);
            if Some(fired) != w.as_bool() {
                failures.push(format!(
                    "{rule} ({}), event {}: fired {fired}",
                    case["name"],
                    i + 1
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_ibm_rule_is_covered_both_ways_and_complete() {
    let mut positive = BTreeSet::new();
    let mut negative = BTreeSet::new();
    for case in cases() {
        let rule = case["rule"].as_str().unwrap_or_default().to_string();
        for f in case["fires"].as_array().into_iter().flatten() {
            if f.as_bool() == Some(true) {
                positive.insert(rule.clone());
            } else {
                negative.insert(rule.clone());
            }
        }
    }
    for p in packs::all()
        .expect("packs")
        .iter()
        .filter(|p| p.name.starts_with("ibm-"))
    {
        for r in &p.rules {
            let id = format!("{}/{}", p.name, r.id);
            assert!(positive.contains(&id), "{id} has no case where it fires");
            assert!(negative.contains(&id), "{id} has no case where it does not");
            assert!(
                r.title.is_some() && r.description.is_some(),
                "{id} needs a title and a description"
            );
            assert!(r.runbook_steps.len() >= 3, "{id} needs a runbook of steps");
            assert!(!r.references.is_empty(), "{id} has no references");
        }
    }
}

#[test]
fn ibm_packs_default_to_cadf_events() {
    for p in packs::all()
        .expect("packs")
        .iter()
        .filter(|p| p.name.starts_with("ibm-"))
    {
        for r in &p.rules {
            assert_eq!(
                r.applies_to,
                iamwatch::rules::AppliesTo::Cadf,
                "{}/{}",
                p.name,
                r.id
            );
        }
    }
}

/// What a reader would take for a value left unfilled: `?` where a value should be, a
/// placeholder or a bracket left over, a `<uuid>` to substitute by hand.
fn unfilled(text: &str) -> Option<&'static str> {
    [
        " ? ", "(?)", "?,", "? ->", "-> ?", "{", "[", "<uuid>", " , ", "from ,",
    ]
    .into_iter()
    .find(|m| text.contains(m))
    .or_else(|| text.ends_with(" ?").then_some(" ?"))
}

#[test]
fn ibm_alerts_say_what_is_known_and_leave_out_what_is_not() {
    let mut failures = Vec::new();
    let mut seen = 0;
    for case in cases() {
        let rule = case["rule"].as_str().expect("rule");
        let (pack, id) = rule.split_once('/').expect("PACK/RULE");
        let p = pack_with_allowlist(pack, case["allowlist_iam"].as_str());
        let d = Detector::with_filter(std::slice::from_ref(&p), |_, r| r.id == id);
        let mut store = MemoryStore::default();
        for e in case["events"].as_array().expect("events") {
            let event = Event::new(e.clone()).expect("an event");
            for f in d.evaluate_with(&event, &mut store).expect("evaluated") {
                seen += 1;
                let texts = std::iter::once(("title", f.title.clone()))
                    .chain(std::iter::once(("sms", iamwatch::render::sms(&f))))
                    .chain(f.runbook().into_iter().map(|s| ("runbook", s)));
                for (what, text) in texts {
                    // Code spans in runbooks may show JSON or a shell's braces.
                    let prose: String = text.split('`').step_by(2).collect::<Vec<_>>().join("CODE");
                    if let Some(m) = unfilled(&prose) {
                        failures.push(format!("{rule} {what} has {m:?}: {text}"));
                    }
                }
            }
        }
    }
    assert!(seen > 100, "only {seen} findings");
    failures.sort();
    failures.dedup();
    assert!(
        failures.is_empty(),
        "{} unfilled:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
