//! `iamwatch rules eval` and json-rules-engine rules in packs, through the real binary.

use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Output, Stdio};

mod common;

fn iamwatch(args: &[&str], stdin: &str) -> Output {
    common::run(args, stdin.as_bytes())
}

fn pack_file(name: &str, rules: &Value) -> String {
    let p = std::env::temp_dir().join(format!("iamwatch-eval-{name}-{}.json", std::process::id()));
    std::fs::write(&p, rules.to_string()).expect("write pack");
    p.to_string_lossy().into_owned()
}

fn ibm_rules() -> Value {
    json!([
        {"comment": "account delete outside change control window", "type": "boolean",
         "conditions": {"all": [
             {"any": [{"fact": "action", "operator": "equal", "value": "iam-groups.group.delete"},
                      {"fact": "action", "operator": "equal", "value": "iam-groups.member.delete"}]},
             {"fact": "timeOfDay", "params": {"dayStartTime": "1700", "dayEndTime": "0800"}, "operator": "equal", "value": true}]},
         "event": {"type": "iam-delete-ccw", "params": {"findingType": "iam-delete-ccw"}}},
        {"comment": "account delete by user not whitelisted", "type": "boolean", "dormant": true,
         "conditions": {"all": [
             {"fact": "action", "operator": "equal", "value": "iam-groups.group.delete"},
             {"fact": "initiator", "path": ".name", "operator": "notIn", "value": ["example@ibm.com", "example2@ibm.com"]}]},
         "event": {"type": "iam-delete-whitelist", "params": {"findingType": "iam-delete-whitelist"}}},
        {"conditions": {"any": [{"fact": "reason", "path": ".reasonCode", "operator": "equal", "value": 400}]},
         "event": {"type": "bad-request"}, "priority": 5},
        {"conditions": {"all": [{"fact": "tags", "operator": "equal", "value": "a", "priority": 2},
                                {"fact": "tags", "operator": "in", "value": {"fact": "count"}}]},
         "event": {"type": "throws"}}
    ])
}

const EVENTS: &str = concat!(
    r#"{"action":"iam-groups.group.delete","eventTime":"2026-11-20T23:10:00Z","initiator":{"name":"x@example.com"},"reason":{"reasonCode":400}}"#,
    "\n",
    r#"{"action":"iam-groups.group.delete","eventTime":"2026-11-20T12:10:00Z","initiator":{"name":"example@ibm.com"}}"#,
    "\n",
    "not json\n",
    r#"{"tags":"a","count":3}"#,
    "\n",
);

#[test]
fn one_line_per_event_in_order() {
    let rules = pack_file("ibm", &ibm_rules());
    let o = iamwatch(
        &["rules", "eval", "--rules", &rules, "--format", "jsonl", "-"],
        EVENTS,
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    // Priority 5 reports before priority 1; the dormant rule stays out.
    assert_eq!(
        lines[0],
        r#"{"line":1,"fired":["bad-request","iam-delete-ccw"]}"#
    );
    assert_eq!(lines[1], r#"{"line":2,"fired":[]}"#);
    let bad: Value = serde_json::from_str(lines[2]).unwrap();
    assert_eq!(
        (bad["line"].as_u64(), bad["fired"].as_array().map(Vec::len)),
        (Some(3), Some(0))
    );
    let throws: Value = serde_json::from_str(lines[3]).unwrap();
    assert_eq!(throws["errors"][0]["rule"], "throws");
    assert!(throws["errors"][0]["error"]
        .as_str()
        .unwrap()
        .contains("TypeError"));

    let o = iamwatch(
        &[
            "rules",
            "eval",
            "--all-rules",
            "--rules",
            &rules,
            "--format",
            "jsonl",
            "-",
        ],
        EVENTS,
    );
    let first = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        first,
        r#"{"line":1,"fired":["bad-request","iam-delete-ccw","iam-delete-whitelist"]}"#
    );
}

#[test]
fn ibm_trailing_commas_are_refused_with_a_fix() {
    let file = std::env::temp_dir().join(format!(
        "iamwatch-eval-trailing-{}.json",
        std::process::id()
    ));
    std::fs::write(
        &file,
        "[{\"conditions\": {\"all\": [{\"fact\": \"withInLast\", \"operator\": \"equal\", \"value\": \"30 minutes\",}]},\n \"event\": {\"type\": \"x\"}}]",
    )
    .unwrap();
    let o = iamwatch(&["rules", "validate", &file.to_string_lossy()], "");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("line 1, column") && err.contains("delete it"),
        "{err}"
    );
}

#[test]
fn conditions_rules_fire_in_replay_on_cadf_events() {
    let rules = pack_file("replay", &json!({"pack": "ibm-test", "rules": ibm_rules()}));
    let cadf = r#"{"action":"iam-groups.member.delete","eventTime":"2026-11-20T03:00:00.12+0000","outcome":"success","initiator":{"id":"IBMid-1","name":"x@example.com","host":{"address":"203.0.113.9"}},"logSourceCRN":"crn:v1:bluemix:public:iam-groups:global:a/abc123:::","id":"e1"}"#;
    let trail = r#"{"eventVersion":"1.08","eventSource":"iam.amazonaws.com","eventName":"DeleteGroup","eventTime":"2026-11-20T03:00:00Z"}"#;
    let input = format!("{cadf}\n{trail}\n");
    let o = iamwatch(
        &["replay", "--pack", &rules, "--format", "jsonl", "-"],
        &input,
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let f = common::jsonl(&o);
    // Conditions rules apply to CADF events by default, not to CloudTrail records.
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["rule"], "iam-delete-ccw");
    assert_eq!(f[0]["account"], "abc123");
    assert_eq!(f[0]["source_ip"], "203.0.113.9");
}

#[test]
fn service_id_login_outside_the_allowlist() {
    let pack = json!({"pack": "allow", "allowlists": {"iam": ["10.0.0.0/8", "2001:db8::/32"]},
        "rules": [{"id": "serviceid-login-outside-allowlist", "severity": "critical",
            "title": "Service ID {initiator.name} logged in from {source_ip}",
            "conditions": {"all": [
                {"fact": "action", "operator": "equal", "value": "iam-identity.serviceid-apikey.login"},
                {"fact": "initiator", "path": "$.host.address", "operator": "ipNotIn", "value": "@allowlist:iam"}]}}]});
    let file = pack_file("allow", &pack);
    let login = |ip: &str| {
        format!(
            r#"{{"action":"iam-identity.serviceid-apikey.login","eventTime":"2026-11-20T03:00:00Z","outcome":"success","initiator":{{"id":"iam-ServiceId-42","name":"ServiceId-42","host":{{"address":"{ip}"}}}},"logSourceCRN":"crn:v1:bluemix:public:iam-identity:global:a/abc123:::"}}"#
        )
    };
    let input = format!(
        "{}\n{}\n{}\n",
        login(" 10.45.116.217"),
        login("203.0.113.9"),
        login("")
    );
    let run = |env: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_iamwatch"));
        cmd.args(["replay", "--pack", &file, "--format", "jsonl", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env_remove("IAMWATCH_ALLOWLIST_IAM");
        if let Some(v) = env {
            cmd.env("IAMWATCH_ALLOWLIST_IAM", v);
        }
        let mut child = cmd.spawn().expect("start");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let o = child.wait_with_output().unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .collect::<Vec<_>>()
    };
    let f = run(None);
    assert_eq!(f.len(), 2, "{f:?}");
    assert_eq!(
        f[0]["title"],
        "Service ID ServiceId-42 logged in from 203.0.113.9"
    );
    assert_eq!(
        f[0]["notes"][0],
        "initiator.host.address \"203.0.113.9\" is not on allowlist iam"
    );
    assert!(f[1]["notes"][0]
        .as_str()
        .unwrap()
        .contains("is blank, so not on allowlist iam"));
    // The environment's list replaces the pack's: now the 10.x login is the outsider.
    let f = run(Some("203.0.113.0/24"));
    let ips: Vec<&str> = f.iter().map(|x| x["source_ip"].as_str().unwrap()).collect();
    assert_eq!(ips, [" 10.45.116.217", ""]);
}

fn cadf(action: &str, id: &str, minute: u32, reason: u64, who: &str, account: &str) -> String {
    json!({"action": action, "id": id, "eventTime": format!("2026-11-20T10:{minute:02}:00.00+0000"),
           "outcome": if reason == 200 { "success" } else { "failure" }, "reason": {"reasonCode": reason},
           "initiator": {"id": who, "name": who, "host": {"address": "198.51.100.7"}},
           "logSourceCRN": format!("crn:v1:bluemix:public:iam-identity:global:a/{account}:::")})
    .to_string()
}

#[test]
fn aggregate_and_coincident_windows() {
    let rules = pack_file(
        "windows",
        &json!([
            {"comment": "failed logins per account exceed threshold", "type": "aggregate",
             "conditions": {"all": [
                 {"fact": "action", "operator": "equal", "value": "iam-identity.user-apikey.login"},
                 {"fact": "reason", "path": ".reasonCode", "operator": "equal", "value": 400},
                 {"fact": "occurrences", "operator": "greaterThanInclusive", "value": 3},
                 {"fact": "withInLast", "operator": "equal", "value": "30 minutes"}]},
             "event": {"type": "failed-logins", "params": {"findingType": "account-failed-login-attempts"}}},
            {"comment": "groups rule read and rule delete within 10 minutes", "type": "coincident",
             "conditions": {"all": [
                 {"all": [{"fact": "action", "operator": "equal", "value": "iam-groups.rule.read"},
                          {"fact": "occurrences", "operator": "equal", "value": 1}]},
                 {"all": [{"fact": "action", "operator": "equal", "value": "iam-groups.rule.delete"},
                          {"fact": "occurrences", "operator": "equal", "value": 1}]},
                 {"fact": "withInLast", "operator": "equal", "value": "10 minutes"}]},
             "event": {"type": "read-then-delete"}}
        ]),
    );
    let events = [
        cadf(
            "iam-identity.user-apikey.login",
            "a1",
            0,
            400,
            "u1",
            "acct1",
        ),
        cadf(
            "iam-identity.user-apikey.login",
            "a2",
            5,
            400,
            "u1",
            "acct1",
        ),
        cadf(
            "iam-identity.user-apikey.login",
            "b1",
            6,
            400,
            "u9",
            "acct2",
        ),
        cadf(
            "iam-identity.user-apikey.login",
            "a2",
            5,
            400,
            "u1",
            "acct1",
        ),
        cadf(
            "iam-identity.user-apikey.login",
            "a3",
            7,
            200,
            "u1",
            "acct1",
        ),
        cadf(
            "iam-identity.user-apikey.login",
            "a4",
            8,
            400,
            "u1",
            "acct1",
        ),
        cadf(
            "iam-identity.user-apikey.login",
            "a5",
            9,
            400,
            "u1",
            "acct1",
        ),
        cadf("iam-groups.rule.delete", "c1", 20, 200, "u2", "acct1"),
        cadf("iam-groups.rule.read", "c2", 25, 200, "u2", "acct1"),
    ]
    .join("\n");
    let o = iamwatch(
        &["rules", "eval", "--rules", &rules, "--format", "jsonl", "-"],
        &events,
    );
    let fired: Vec<Value> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["fired"].clone())
        .collect();
    // The retried a2 (line 4) does not count twice, the successful login does not count, the
    // other account counts apart; the third failure (line 6) crosses the threshold, once.
    assert_eq!(
        fired,
        [
            json!([]),
            json!([]),
            json!([]),
            json!([]),
            json!([]),
            json!(["failed-logins"]),
            json!([]),
            json!([]),
            json!(["read-then-delete"])
        ]
    );
    let o = iamwatch(
        &["replay", "--pack", &rules, "--format", "jsonl", "-"],
        &events,
    );
    let f = common::jsonl(&o);
    assert_eq!(f.len(), 2, "{f:?}");
    assert_eq!(
        f[0]["window"],
        json!({"count": 3, "within": "30 minutes", "group": "acct1",
        "first_seen": "2026-11-20T10:00:00.000Z", "last_seen": "2026-11-20T10:08:00.000Z"})
    );
}

#[test]
fn events_without_an_id_are_told_apart_by_their_whole_record() {
    // Counted from records read as text: an event without an id is known by a hash of the
    // whole record, not of the members windows read, so a retry counts once and two events
    // that differ elsewhere (here in `message`) count twice.
    let rules = pack_file(
        "no-id",
        &json!([
            {"type": "aggregate",
             "conditions": {"all": [
                 {"fact": "action", "operator": "equal", "value": "iam-groups.group.delete"},
                 {"fact": "occurrences", "operator": "greaterThanInclusive", "value": 2},
                 {"fact": "withInLast", "operator": "equal", "value": "30 minutes"}]},
             "event": {"type": "deletes"}}
        ]),
    );
    let event = |message: &str| {
        json!({"action": "iam-groups.group.delete", "eventTime": "2026-11-20T10:00:00.00+0000",
               "message": message, "initiator": {"id": "u1"},
               "logSourceCRN": "crn:v1:bluemix:public:iam-groups:global:a/acct1:::"})
        .to_string()
    };
    let fired = |events: &[String]| {
        let o = iamwatch(
            &["rules", "eval", "--rules", &rules, "--format", "jsonl", "-"],
            &events.join("\n"),
        );
        String::from_utf8(o.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["fired"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        fired(&[event("first"), event("first")]),
        [json!([]), json!([])]
    );
    assert_eq!(
        fired(&[event("first"), event("second")]),
        [json!([]), json!(["deletes"])]
    );
    // Replay, which reads records only as far as the rules look, counts them the same way.
    let findings = |events: &[String]| {
        let o = iamwatch(
            &["replay", "--pack", &rules, "--format", "jsonl", "-"],
            &events.join("\n"),
        );
        common::jsonl(&o).len()
    };
    assert_eq!(findings(&[event("first"), event("first")]), 0);
    assert_eq!(findings(&[event("first"), event("second")]), 1);
}

#[test]
fn thresholds_on_filter_patterns_group_by_selectors() {
    let rules = pack_file(
        "threshold",
        &json!({"rules": [{"id": "denied-burst", "severity": "high", "appliesTo": "cloudtrail",
        "title": "{count} denied calls in {within} by {actor}",
        "filterPattern": "{ $.errorCode = \"AccessDenied*\" }",
        "threshold": {"count": 3, "within": "10 minutes", "by": ["$.userIdentity.arn"]}}]}),
    );
    let denied = |who: &str, minute: u32, id: &str| {
        json!({"eventVersion": "1.08", "eventSource": "iam.amazonaws.com", "eventName": "ListUsers", "eventID": id,
               "eventTime": format!("2026-11-20T10:{minute:02}:00Z"), "errorCode": "AccessDenied", "recipientAccountId": "111122223333",
               "userIdentity": {"type": "IAMUser", "userName": who, "arn": format!("arn:aws:iam::111122223333:user/{who}")}})
        .to_string()
    };
    let events = [
        denied("eve", 0, "1"),
        denied("bob", 1, "2"),
        denied("eve", 2, "3"),
        denied("bob", 3, "4"),
        denied("eve", 4, "5"),
    ]
    .join("\n");
    let o = iamwatch(
        &["replay", "--pack", &rules, "--format", "jsonl", "-"],
        &events,
    );
    let f = common::jsonl(&o);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["title"], "3 denied calls in 10 minutes by eve");
    assert_eq!(
        f[0]["window"]["group"],
        "arn:aws:iam::111122223333:user/eve"
    );
}

#[test]
fn suppression_gives_one_alert_per_key_and_period() {
    let rules = pack_file(
        "suppress",
        &json!({"rules": [{"id": "iam-change", "severity": "medium", "appliesTo": "cloudtrail",
        "filterPattern": "{ $.eventSource = \"iam.amazonaws.com\" }",
        "suppress": {"for": "60 minutes", "by": ["$.userIdentity.arn"]}}]}),
    );
    let call = |who: &str, minute: u32, id: &str| {
        json!({"eventVersion": "1.08", "eventSource": "iam.amazonaws.com", "eventName": "CreateUser", "eventID": id,
               "eventTime": format!("2026-11-20T{:02}:{:02}:00Z", 10 + minute / 60, minute % 60), "recipientAccountId": "111122223333",
               "userIdentity": {"type": "IAMUser", "userName": who, "arn": format!("arn:aws:iam::111122223333:user/{who}")}})
        .to_string()
    };
    let events = [
        call("eve", 0, "1"),
        call("eve", 5, "2"),
        call("bob", 6, "3"),
        call("eve", 30, "4"),
        call("eve", 61, "5"),
        call("eve", 70, "6"),
    ]
    .join("\n");
    let o = iamwatch(
        &["replay", "--pack", &rules, "--format", "jsonl", "-"],
        &events,
    );
    let f = common::jsonl(&o);
    let ids: Vec<&str> = f.iter().map(|x| x["event_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["1", "3", "5"]);
    assert_eq!(
        f[2]["suppressed"],
        json!({"count": 2, "since": "2026-11-20T10:05:00.000Z"})
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("1 more match suppressed since 2026-11-20T11:10:00.000Z (no later alert)"),
        "{err}"
    );
    assert!(err.contains("3 findings (3 medium), 3 suppressed"), "{err}");
}

/// The screen in front of `rules eval` changes no answer: the boolean conditions of the
/// built-in IBM packs that need a member's string (so the screen is on) as one rules file, and
/// every event of the IBM pack cases, against every rule evaluated on every event by the
/// library.
#[test]
fn the_screen_changes_no_answer() {
    use iamwatch::conditions::Condition;
    use iamwatch::screen::{conditions_needs, Need, Screen};
    let mut rules = Vec::new();
    let mut parsed = Vec::new();
    let packs = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/packs"))
        .expect("packs")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("ibm-"))
        });
    for path in packs {
        let pack: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("pack")).expect("JSON");
        for r in pack["rules"].as_array().expect("rules") {
            let boolean = r.get("type").is_none_or(|t| t == "boolean");
            let Ok(c) = Condition::parse(&r["conditions"], "$.conditions") else {
                continue; // allowlist operators, which need the pack's lists
            };
            // A string needed anywhere would let most events through and test little.
            let members_only = conditions_needs(&c)
                .is_some_and(|n| n.iter().all(|n| matches!(n, Need::Member { .. })));
            if !boolean || r["dormant"] == true || c.may_fail() || !members_only {
                continue;
            }
            let id = r["id"].as_str().expect("id").to_string();
            rules.push(json!({"conditions": r["conditions"], "event": {"type": id}}));
            parsed.push((id, c));
        }
    }
    let needs: Vec<_> = parsed.iter().map(|(_, c)| conditions_needs(c)).collect();
    assert!(
        Screen::new(&needs).is_some(),
        "the screen is on for these rules"
    );
    let cases: Value = serde_json::from_str(include_str!(
        "../../shared/tests/fixtures/ibm-pack-cases.json"
    ))
    .expect("cases");
    let facts: Vec<&Value> = cases
        .as_array()
        .expect("cases")
        .iter()
        .flat_map(|c| c["events"].as_array().expect("events"))
        .collect();
    let events: String = facts.iter().map(|f| format!("{f}\n")).collect();
    let file = pack_file("screen", &Value::Array(rules));
    let out = iamwatch(
        &["rules", "eval", "--rules", &file, "--format", "jsonl", "-"],
        &events,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), facts.len());
    let mut fired_somewhere = 0;
    for (n, (line, f)) in lines.iter().zip(&facts).enumerate() {
        // The record's members and the derived facts (time of day and the like).
        let record = iamwatch::rules::facts::RecordFacts::new(f);
        let want: Vec<&str> = parsed
            .iter()
            .filter(|(_, c)| c.evaluate(&record) == Ok(true))
            .map(|(name, _)| name.as_str())
            .collect();
        fired_somewhere += usize::from(!want.is_empty());
        assert_eq!(line["line"], n + 1);
        assert_eq!(line["fired"], json!(want), "event {}: {f:?}", n + 1);
    }
    // Both sides of the screen are exercised: events that fire and events that do not.
    assert!(
        fired_somewhere > 100 && fired_somewhere + 100 < facts.len(),
        "{fired_somewhere} of {}",
        facts.len()
    );
}

#[test]
fn the_screen_changes_no_window() {
    // The windowed rules of the built-in IBM packs run behind the screen; with a rule that
    // needs nothing beside them there is no screen. Their firings must be the same.
    let mut windowed = Vec::new();
    for entry in
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/packs")).expect("packs")
    {
        let path = entry.expect("entry").path();
        if !path.to_string_lossy().contains("/ibm-") {
            continue;
        }
        let pack: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("pack")).expect("JSON");
        for r in pack["rules"].as_array().expect("rules") {
            let kind = r["type"].as_str().unwrap_or("boolean");
            if matches!(kind, "aggregate" | "coincident") && r["dormant"] != true {
                windowed.push(r.clone());
            }
        }
    }
    assert!(windowed.len() >= 5, "{} windowed rules", windowed.len());
    let screened = pack_file(
        "windows-screened",
        &json!({"pack": "w", "rules": windowed.clone()}),
    );
    let mut all = windowed;
    all.push(json!({"id": "anything", "conditions": {"all": [
        {"fact": "severity", "operator": "notEqual", "value": "no such severity"}]}}));
    let unscreened = pack_file("windows-unscreened", &json!({"pack": "w", "rules": all}));
    // Bursts the rules count (failed logins, deletes, denied calls) among events no rule
    // reads, in two accounts, some of them late.
    let actions = [
        ("iam-identity.user-apikey.login", 400),
        ("iam-am.policy.delete", 200),
        ("iam-groups.group.delete", 200),
        ("kms.secrets.unwrap", 200),
        ("iam-groups.group.read", 403),
        ("cloud-object-storage.bucket.create", 200),
        ("containers-kubernetes.worker.reboot", 200),
        ("kms.secrets.delete", 401),
    ];
    let mut events = String::new();
    for i in 0..600u32 {
        let (action, reason) = actions[(i as usize * 7 + i as usize / 5) % actions.len()];
        let minute = if i % 9 == 4 {
            (i / 12) % 60
        } else {
            (i / 10) % 60
        };
        let account = ["acct1", "acct2"][(i % 3 == 0) as usize];
        events.push_str(&cadf(
            action,
            &format!("e{i}"),
            minute,
            reason,
            "u1",
            account,
        ));
        events.push('\n');
    }
    let run = |rules: &str| -> Vec<Vec<String>> {
        let out = iamwatch(
            &["rules", "eval", "--rules", rules, "--format", "jsonl", "-"],
            &events,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).expect("a JSON line");
                v["fired"]
                    .as_array()
                    .expect("fired")
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|n| *n != "anything")
                    .map(str::to_string)
                    .collect()
            })
            .collect()
    };
    let (with, without) = (run(&screened), run(&unscreened));
    assert_eq!(with.len(), 600);
    assert_eq!(with, without);
    let fired: std::collections::BTreeSet<&String> = with.iter().flatten().collect();
    assert!(fired.len() >= 3, "windowed rules that fired: {fired:?}");
}
