//! Exceptions, dry-run rules, the identity behind a call and account names, through the
//! engine as handlers and `replay` run it.

mod common;

use common::trail;
use iamwatch::accounts::AccountNames;
use iamwatch::engine::{last_used, Engine, Found, Report, Run};
use iamwatch::exceptions::{self, Scope};
use iamwatch::ingest::Format;
use iamwatch::rules::{load_pack, Severity};
use iamwatch::window::{MemoryStore, WindowStore};
use serde_json::{json, Value};
use std::ops::ControlFlow;

fn pack(text: Value) -> Vec<iamwatch::rules::Pack> {
    vec![load_pack(&text.to_string(), "test", "test").expect("pack")]
}

/// An IAM change by `role` (session `session`), with `user_agent`, at `time`.
fn change(role: &str, session: &str, user_agent: &str, time: &str, id: &str) -> String {
    trail(json!({
        "eventName": "CreatePolicyVersion", "readOnly": false, "eventTime": time, "eventID": id,
        "userAgent": user_agent,
        "userIdentity": {"type": "AssumedRole", "principalId": format!("AROAEXAMPLE:{session}"),
            "arn": format!("arn:aws:sts::111122223333:assumed-role/{role}/{session}"),
            "accountId": "111122223333",
            "sessionContext": {"sessionIssuer": {"type": "Role", "userName": role,
                "arn": format!("arn:aws:iam::111122223333:role/{role}")}}}
    }))
}

const TERRAFORM: &str = "APN/1.0 HashiCorp/1.0 Terraform/1.9.5 (+https://www.terraform.io) terraform-provider-aws/5.70.0";

fn iam_rule(extra: Value) -> Value {
    let mut rule = json!({"id": "iam-change", "severity": "high",
        "filterPattern": "{ $.eventSource = \"iam.amazonaws.com\" && $.readOnly IS FALSE }"});
    for (k, v) in extra.as_object().expect("object") {
        rule[k] = v.clone();
    }
    rule
}

fn run(engine: &Engine, input: &str, store: &mut dyn WindowStore) -> (Report, Vec<String>) {
    let mut run = Run::new(store);
    let mut explained = Vec::new();
    engine
        .scan(input.as_bytes(), Format::JsonLines, &mut run, &mut |f| {
            if let Found::Excepted {
                pack,
                rule,
                exception,
                ..
            } = f
            {
                explained.push(format!("{pack}/{rule} by {}", exception.name));
            }
            ControlFlow::Continue(())
        })
        .expect("scan");
    drop(run);
    let mut run = Run::new(store);
    let report = engine
        .evaluate(input.as_bytes(), Format::JsonLines, &mut run)
        .into_result()
        .expect("evaluate");
    (report, explained)
}

#[test]
fn an_exception_silences_its_automation_and_nobody_else() {
    let packs = pack(json!({"pack": "p", "rules": [iam_rule(json!({}))]}));
    let global = exceptions::parse(
        &json!([{"id": "terraform-deploys", "reason": "IAM is managed by Terraform (PLAT-1)",
                 "role": "deploy-*", "tool": "terraform", "rules": ["p/*"]}]),
        "$",
        Scope::Global,
    )
    .expect("exceptions");
    let engine = Engine::from_packs(&packs, false, Severity::Info).with_exceptions(global);
    let input = [
        change(
            "deploy-prod",
            "ci-1",
            TERRAFORM,
            "2026-11-20T10:00:00Z",
            "e1",
        ),
        // The same role by hand, and another role with Terraform: both alert.
        change(
            "deploy-prod",
            "ci-2",
            "aws-cli/2.15.0",
            "2026-11-20T10:01:00Z",
            "e2",
        ),
        change("admin", "alice", TERRAFORM, "2026-11-20T10:02:00Z", "e3"),
    ]
    .join("\n");
    let mut store = MemoryStore::default();
    let (report, explained) = run(&engine, &input, &mut store);
    let ids: Vec<_> = report.alerts.iter().filter_map(|a| a.event.id()).collect();
    assert_eq!(ids, ["e2", "e3"]);
    assert_eq!(report.counts.excepted, 1);
    assert_eq!(report.excepted.get("global/terraform-deploys"), Some(&1));
    assert_eq!(explained, ["p/iam-change by global/terraform-deploys"]);
    // The store remembers that it was used: `exceptions stale` does not list it.
    let at = iamwatch::time::Timestamp::parse("2026-11-21T00:00:00Z")
        .unwrap()
        .millis();
    assert!(last_used(&mut store, "global/terraform-deploys", at)
        .unwrap()
        .is_some());
    assert!(last_used(&mut store, "global/other", at).unwrap().is_none());
}

#[test]
fn an_expired_exception_silences_nothing_newer() {
    let rule = iam_rule(
        json!({"exceptions": [{"id": "migration", "reason": "one-off migration",
        "role": "deploy-prod", "expires": "2026-11-20"}]}),
    );
    let engine = Engine::from_packs(
        &pack(json!({"pack": "p", "rules": [rule]})),
        false,
        Severity::Info,
    );
    let input = [
        change(
            "deploy-prod",
            "ci",
            TERRAFORM,
            "2026-11-20T23:59:00Z",
            "inside",
        ),
        change(
            "deploy-prod",
            "ci",
            TERRAFORM,
            "2026-11-21T00:00:01Z",
            "after",
        ),
    ]
    .join("\n");
    let (report, _) = run(&engine, &input, &mut MemoryStore::default());
    let ids: Vec<_> = report.alerts.iter().filter_map(|a| a.event.id()).collect();
    assert_eq!(ids, ["after"]);
    assert_eq!(report.excepted.get("p/iam-change/migration"), Some(&1));
}

#[test]
fn pack_exceptions_stay_in_their_pack() {
    let a = json!({"pack": "a", "rules": [iam_rule(json!({}))],
        "exceptions": [{"id": "bot", "reason": "the bot", "role": "bot"}]});
    let b = json!({"pack": "b", "rules": [iam_rule(json!({}))]});
    let packs = vec![
        load_pack(&a.to_string(), "a", "a").unwrap(),
        load_pack(&b.to_string(), "b", "b").unwrap(),
    ];
    let engine = Engine::from_packs(&packs, false, Severity::Info);
    let input = change("bot", "s", "x", "2026-11-20T10:00:00Z", "e1");
    let (report, _) = run(&engine, &input, &mut MemoryStore::default());
    let packs: Vec<_> = report.alerts.iter().map(|a| a.pack.to_string()).collect();
    assert_eq!(packs, ["b"]);
    assert_eq!(report.excepted.get("a/bot"), Some(&1));
}

#[test]
fn excepted_events_do_not_count_in_windows() {
    // Three changes in ten minutes fire; two of them are the bot's, so nothing fires.
    let rule = iam_rule(json!({"threshold": {"count": 3, "within": "10 minutes"},
        "exceptions": [{"id": "bot", "reason": "the bot", "role": "bot"}]}));
    let engine = Engine::from_packs(
        &pack(json!({"pack": "p", "rules": [rule]})),
        false,
        Severity::Info,
    );
    let input = [
        change("bot", "s", "x", "2026-11-20T10:00:00Z", "e1"),
        change("admin", "alice", "x", "2026-11-20T10:01:00Z", "e2"),
        change("bot", "s", "x", "2026-11-20T10:02:00Z", "e3"),
        change("admin", "alice", "x", "2026-11-20T10:03:00Z", "e4"),
    ]
    .join("\n");
    let (report, _) = run(&engine, &input, &mut MemoryStore::default());
    assert!(report.alerts.is_empty(), "{:?}", report.alerts);
    assert_eq!(report.counts.excepted, 2);
    // A third change by a person fires.
    let more = format!(
        "{input}\n{}",
        change("admin", "alice", "x", "2026-11-20T10:04:00Z", "e5")
    );
    let (report, _) = run(&engine, &more, &mut MemoryStore::default());
    assert_eq!(report.alerts.len(), 1);
    assert_eq!(report.alerts[0].window.as_ref().map(|w| w.count), Some(3));
}

#[test]
fn repeating_the_identity_cannot_borrow_an_exception() {
    // The excepted role written first, the attacker's identity second (or the other way):
    // the reading with the attacker's identity still alerts.
    let rule = iam_rule(json!({"exceptions": [{"id": "bot", "reason": "the bot", "role": "bot"}]}));
    let engine = Engine::from_packs(
        &pack(json!({"pack": "p", "rules": [rule]})),
        false,
        Severity::Info,
    );
    let bot: Value =
        serde_json::from_str(&change("bot", "s", "x", "2026-11-20T10:00:00Z", "e1")).unwrap();
    let intruder: Value =
        serde_json::from_str(&change("intruder", "m", "x", "2026-11-20T10:00:00Z", "e1")).unwrap();
    let id = |v: &Value| v["userIdentity"].to_string();
    let text = bot.to_string();
    let both = text.replacen(
        "\"userIdentity\":",
        &format!("\"userIdentity\":{},\"userIdentity\":", id(&intruder)),
        1,
    );
    let reversed = text.replacen(
        &format!("\"userIdentity\":{}", id(&bot)),
        &format!(
            "\"userIdentity\":{},\"userIdentity\":{}",
            id(&bot),
            id(&intruder)
        ),
        1,
    );
    for input in [both, reversed] {
        assert!(input.matches("\"userIdentity\"").count() == 2, "{input}");
        let (report, _) = run(&engine, &input, &mut MemoryStore::default());
        assert_eq!(report.alerts.len(), 1, "{input}");
        assert_eq!(report.counts.repeated, 1);
    }
}

#[test]
fn dry_run_rules_are_counted_never_sent() {
    let rules = json!({"pack": "p", "rules": [
        iam_rule(json!({})),
        iam_rule(json!({"id": "trial", "mode": "dry-run", "severity": "critical"}))
    ]});
    let engine = Engine::from_packs(&pack(rules), false, Severity::Info);
    let input = change("admin", "alice", "x", "2026-11-20T10:00:00Z", "e1");
    let sent = iamwatch::notify::JsonLines::new(Vec::new());
    let mut store = MemoryStore::default();
    let mut run = Run::new(&mut store).notify(&sent);
    let report = engine
        .evaluate(input.as_bytes(), Format::JsonLines, &mut run)
        .into_result()
        .expect("evaluate");
    drop(run);
    assert_eq!(report.alerts.len(), 1);
    assert_eq!(report.dry_run.len(), 1);
    assert_eq!(report.counts.dry_run, 1);
    assert_eq!(report.counts.findings[Severity::Critical as usize], 0);
    assert_eq!(report.delivered.sent, 1);
    let sent = String::from_utf8(sent.into_inner()).unwrap();
    assert_eq!(sent.lines().count(), 1);
    assert!(!sent.contains("\"trial\""), "{sent}");
    let dry = report.dry_run[0].to_json();
    assert_eq!(dry["mode"], "dry-run");
    assert!(report.alerts[0].to_json().get("mode").is_none());
}

#[test]
fn a_bad_mode_or_exception_fails_the_pack_load() {
    for (rule_extra, says) in [
        (json!({"mode": "test"}), "$.rules[0].mode"),
        (
            json!({"exceptions": [{"id": "x", "reason": "r"}]}),
            "$.rules[0].exceptions[0]",
        ),
        (
            json!({"exceptions": [{"id": "x", "account": "1"}]}),
            "$.rules[0].exceptions[0].reason",
        ),
    ] {
        let text = json!({"pack": "p", "rules": [iam_rule(rule_extra.clone())]}).to_string();
        let e = load_pack(&text, "test", "p").unwrap_err().to_string();
        assert!(e.contains(says), "{rule_extra}: {e}");
    }
    let text = json!({"pack": "p", "rules": [iam_rule(json!({}))],
        "exceptions": [{"id": "x", "reason": "r", "account": "1", "rules": ["iam-chnage"]}]})
    .to_string();
    let e = load_pack(&text, "test", "p").unwrap_err().to_string();
    assert!(
        e.contains("$.exceptions[0].rules") && e.contains("names no rule"),
        "{e}"
    );
}

#[test]
fn findings_name_the_human_and_the_account() {
    let engine = Engine::from_packs(
        &pack(json!({"pack": "p", "rules": [iam_rule(json!({}))]})),
        false,
        Severity::Info,
    )
    .with_account_names(
        AccountNames::parse(r#"{"111122223333": "prod-payments", "444455556666": "tools"}"#)
            .unwrap(),
    );
    let sso = trail(
        json!({"eventName": "CreatePolicyVersion", "readOnly": false,
        "userIdentity": {"type": "AssumedRole", "principalId": "AROAEXAMPLE:alice@example.com",
            "arn": "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice@example.com",
            "accountId": "111122223333",
            "sessionContext": {"sessionIssuer": {"type": "Role", "userName": "AWSReservedSSO_Admin_0123456789abcdef"}}}}),
    );
    let (report, _) = run(&engine, &sso, &mut MemoryStore::default());
    let f = &report.alerts[0];
    assert_eq!(
        f.who_where(),
        "alice@example.com via AWSReservedSSO_Admin in prod-payments (111122223333)"
    );
    let j = f.to_json();
    assert_eq!(j["account_name"], "prod-payments");
    assert_eq!(j["identity"]["kind"], "identity-center");
    assert_eq!(
        j["identity"]["summary"],
        "alice@example.com via AWSReservedSSO_Admin"
    );
    let email = iamwatch::render::email(f, f.event.record());
    assert!(
        email.contains("alice@example.com via AWSReservedSSO_Admin"),
        "{email}"
    );
    assert!(email.contains("prod-payments (111122223333)"), "{email}");
    // A role of the tools account acting in prod.
    let cross = trail(
        json!({"eventName": "CreatePolicyVersion", "readOnly": false,
        "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::444455556666:assumed-role/Deployer/pipeline",
            "accountId": "444455556666", "sessionContext": {"sessionIssuer": {"type": "Role", "userName": "Deployer"}}}}),
    );
    let (report, _) = run(&engine, &cross, &mut MemoryStore::default());
    assert_eq!(
        report.alerts[0].who_where(),
        "pipeline via Deployer from tools (444455556666) in prod-payments (111122223333)"
    );
}

#[test]
fn rules_match_on_the_resolved_identity() {
    let rule = json!({"id": "sso-admin-iam", "appliesTo": "cloudtrail", "severity": "high",
    "conditions": {"all": [
        {"fact": "eventName", "operator": "equal", "value": "CreatePolicyVersion"},
        {"fact": "identity", "path": "$.kind", "operator": "equal", "value": "identity-center"},
        {"fact": "identity", "path": "$.who", "operator": "notEqual", "value": "breakglass@example.com"}
    ]}});
    let engine = Engine::from_packs(
        &pack(json!({"pack": "p", "rules": [rule]})),
        false,
        Severity::Info,
    );
    let sso = |who: &str| {
        trail(
            json!({"eventName": "CreatePolicyVersion", "readOnly": false,
            "userIdentity": {"type": "AssumedRole", "arn": format!("arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/{who}"),
                "accountId": "111122223333"}}),
        )
    };
    let input = [
        sso("alice@example.com"),
        sso("breakglass@example.com"),
        change("deploy", "ci", "x", "2026-11-20T10:00:00Z", "e9"),
    ]
    .join("\n");
    let (report, _) = run(&engine, &input, &mut MemoryStore::default());
    let who: Vec<_> = report.alerts.iter().map(|a| a.who()).collect();
    assert_eq!(who, ["alice@example.com via AWSReservedSSO_Admin"]);
}
