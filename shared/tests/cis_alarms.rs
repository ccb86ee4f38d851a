//! `infra/aws/cis-alarms.yaml` is `iamwatch packs alarms cis-aws-foundations` as it stands,
//! and each metric filter's pattern is the pack's, byte for byte.

use iamwatch::cloudformation::metric_alarms;
use serde_json::Value;

fn committed() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/aws/cis-alarms.yaml");
    std::fs::read_to_string(path).expect("infra/aws/cis-alarms.yaml")
}

#[test]
fn the_committed_template_is_the_generated_one() {
    let pack = iamwatch::packs::builtin("cis-aws-foundations")
        .expect("built-in")
        .expect("loads");
    assert!(
        committed() == metric_alarms(&pack).expect("a template"),
        "infra/aws/cis-alarms.yaml is stale: run \
         `iamwatch packs alarms cis-aws-foundations > infra/aws/cis-alarms.yaml`"
    );
}

#[test]
fn every_metric_filter_pattern_is_the_packs_byte_for_byte() {
    // The patterns as the pack file writes them (the CIS text), in order.
    let (_, source) = iamwatch::packs::BUILTIN
        .iter()
        .find(|(n, _)| *n == "cis-aws-foundations")
        .expect("built-in");
    let pack: Value = serde_json::from_str(source).expect("pack JSON");
    let want: Vec<(String, String)> = pack["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| {
            (
                r["id"].as_str().expect("id").to_string(),
                r["filterPattern"].as_str().expect("a pattern").to_string(),
            )
        })
        .collect();
    // The template's patterns, each read back from its YAML double-quoted scalar (the JSON
    // escapes it uses are YAML's too).
    let text = committed();
    let got: Vec<String> = text
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("FilterPattern: "))
        .map(|q| serde_json::from_str::<String>(q).expect("a quoted pattern"))
        .collect();
    let metrics: Vec<String> = text
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("- MetricName: "))
        .map(|q| serde_json::from_str::<String>(q).expect("a quoted name"))
        .collect();
    assert_eq!(got.len(), 15);
    assert_eq!(
        want.iter().map(|(_, p)| p.clone()).collect::<Vec<_>>(),
        got,
        "a pattern differs"
    );
    assert_eq!(
        want.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(),
        metrics
    );
}
