//! `iamwatch replay`, `packs` and `rules validate` as a user runs them: the real binary on
//! real files.

use flate2::write::GzEncoder;
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::jsonl;

fn iamwatch(args: &[&str], stdin: &[u8]) -> Output {
    common::run(args, stdin)
}

fn example(name: &str) -> String {
    let p: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "examples", name]
        .iter()
        .collect();
    p.to_string_lossy().into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A scratch directory for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!("iamwatch-test-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&p).expect("scratch dir");
        Scratch(p)
    }
    fn file(&self, name: &str, bytes: &[u8]) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).expect("write scratch file");
        p.to_string_lossy().into_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn record(name: &str, id: &str) -> Value {
    json!({"eventVersion": "1.08", "eventSource": "iam.amazonaws.com", "eventName": name, "eventID": id,
           "eventTime": "2026-11-20T08:00:00Z", "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.1",
           "recipientAccountId": "111122223333",
           "userIdentity": {"type": "IAMUser", "userName": "alice", "arn": "arn:aws:iam::111122223333:user/alice"}})
}

#[test]
fn jsonl_findings_for_the_example_events() {
    let o = iamwatch(
        &[
            "replay",
            "--format",
            "jsonl",
            &example("cloudtrail/events.jsonl"),
        ],
        b"",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let findings = jsonl(&o);
    let fired: Vec<(u64, &str)> = findings
        .iter()
        .map(|f| {
            (
                f["source"]["line"].as_u64().unwrap(),
                f["rule"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        fired,
        [
            (1, "console-login-without-mfa"),
            (4, "iam-changes"),
            (5, "iam-changes"),
            (5, "iam-policy-changes"),
            (6, "iam-changes"),
            (6, "iam-credentials-for-other-user"),
            (7, "unauthorized-api-calls"),
            (8, "cloudtrail-tampering"),
            (9, "root-account-usage"),
            (12, "iam-changes"),
        ]
    );
    // The SSO sign-in (line 2), the read-only call (3), CreateVpcEndpoint (10) and
    // DisableKeyRotation (11) raise nothing.
    for f in &findings {
        for key in [
            "rule",
            "pack",
            "severity",
            "title",
            "event_id",
            "time",
            "actor",
            "action",
            "source_ip",
            "account",
            "region",
        ] {
            assert!(f.get(key).is_some(), "{key} missing in {f}");
        }
    }
    let root = &findings[8];
    assert_eq!(root["severity"], "critical");
    assert_eq!(root["actor"], "root");
    assert_eq!(
        root["title"],
        "Root user activity: signin:ConsoleLogin from 203.0.113.9"
    );
    assert!(
        stderr(&o).contains("12 events, 0 bad records, 10 findings (2 critical, 3 high, 5 medium)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn every_bundled_example_file_reads_without_bad_records() {
    let dir: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "examples"]
        .iter()
        .collect();
    let mut files = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("examples dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                // Exceptions are settings, not audit logs.
                if !p.ends_with("exceptions") {
                    stack.push(p);
                }
            } else if p
                .extension()
                .is_some_and(|x| x == "json" || x == "jsonl" || x == "gz")
            {
                files.push(p.to_string_lossy().into_owned());
            }
        }
    }
    assert!(files.len() >= 3, "{files:?}");
    for f in files {
        let o = iamwatch(&["replay", "--strict", "--format", "jsonl", &f], b"");
        assert_eq!(o.status.code(), Some(0), "{f}: {}", stderr(&o));
        assert!(!jsonl(&o).is_empty(), "{f} raised no finding");
    }
}

#[test]
fn bad_input_is_reported_counted_and_skipped() {
    let s = Scratch::new("bad");
    let lines = format!(
        "{}\nthis is not json\n{}\n{}\n",
        record("CreateUser", "e1"),
        json!({"eventVersion": "1.08", "eventSource": "iam.amazonaws.com"}),
        record("DeleteUser", "e2")
    );
    let bad_lines = s.file("bad.jsonl", lines.as_bytes());
    // A gzip file cut short: the records before the cut are still read.
    let records: Vec<Value> = (0..3000)
        .map(|i| record("CreateRole", &format!("r{i}")))
        .collect();
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(json!({"Records": records}).to_string().as_bytes())
        .unwrap();
    let gz = gz.finish().unwrap();
    let truncated = s.file("cut.json.gz", &gz[..gz.len() / 2]);
    let missing = s.0.join("missing.json").to_string_lossy().into_owned();

    let o = iamwatch(
        &["replay", "--format", "jsonl", &bad_lines, &truncated],
        b"",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("{bad_lines}: line 2: not valid JSON")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{bad_lines}: line 3: CloudTrail record without eventName"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("{truncated}: line 1, record")),
        "{err}"
    );
    let findings = jsonl(&o);
    let from_cut = findings
        .iter()
        .filter(|f| f["source"]["file"] == truncated.as_str())
        .count();
    assert!(from_cut > 100 && from_cut < 3000, "{from_cut}");
    assert_eq!(
        findings
            .iter()
            .filter(|f| f["source"]["file"] == bad_lines.as_str())
            .count(),
        2
    );
    assert!(err.contains(", 3 bad records,"), "{err}");

    let o = iamwatch(
        &["replay", "--strict", "--format", "jsonl", &bad_lines],
        b"",
    );
    assert_eq!(o.status.code(), Some(3));

    // A missing file fails the run with status 1, after the other files were read.
    let o = iamwatch(&["replay", "--format", "jsonl", &missing, &bad_lines], b"");
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(jsonl(&o).len(), 2);
    assert!(stderr(&o).contains("cannot read"));
}

#[test]
fn packs_are_chosen_by_name_or_path() {
    let input = format!("{}\n", record("PutUserPolicy", "p1"));
    let o = iamwatch(
        &[
            "replay",
            "--pack",
            "cis-aws-foundations",
            "--format",
            "jsonl",
            "-",
        ],
        input.as_bytes(),
    );
    let rules: Vec<String> = jsonl(&o)
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(rules, ["cis-4.4"]);

    let s = Scratch::new("packs");
    let pack = s.file(
        "mine.json",
        br#"{"pack": "mine", "rules": [{"id": "alice-anything", "severity": "low", "title": "{actor} did {eventName}",
             "filterPattern": "{ $.userIdentity.userName = \"alice\" }", "runbook": ["Ask alice."], "references": ["ours"]}]}"#,
    );
    let o = iamwatch(
        &["replay", "--pack", &pack, "--format", "jsonl", "-"],
        input.as_bytes(),
    );
    let f = jsonl(&o);
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0]["pack"].as_str(), f[0]["title"].as_str()),
        (Some("mine"), Some("alice did PutUserPolicy"))
    );

    let o = iamwatch(
        &["replay", "--min-severity", "high", "--format", "jsonl", "-"],
        input.as_bytes(),
    );
    let sev: Vec<String> = jsonl(&o)
        .iter()
        .map(|f| f["severity"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sev, ["high"]);

    let broken = s.file(
        "broken.json",
        br#"{"rules": [{"id": "x", "filterPattern": "{ $.a = ", "severity": "high"}]}"#,
    );
    let o = iamwatch(&["replay", "--pack", &broken, "-"], b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("rule x: $.rules[0].filterPattern: invalid filter pattern"),
        "{}",
        stderr(&o)
    );
    let o = iamwatch(&["replay", "--pack", "no-such-pack", "-"], b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a built-in pack"));
}

#[test]
fn dormant_rules_run_on_request() {
    let input = format!("{}\n", record("GetUser", "g1"));
    let o = iamwatch(
        &[
            "replay",
            "--pack",
            "aws-iam-changes",
            "--format",
            "jsonl",
            "-",
        ],
        input.as_bytes(),
    );
    assert!(jsonl(&o).is_empty());
    let o = iamwatch(
        &[
            "replay",
            "--pack",
            "aws-iam-changes",
            "--all-rules",
            "--format",
            "jsonl",
            "-",
        ],
        input.as_bytes(),
    );
    let rules: Vec<String> = jsonl(&o)
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(rules, ["iam-all-calls"]);
}

#[test]
fn text_output_says_who_what_where() {
    let o = iamwatch(&["replay", &example("cloudtrail/events.jsonl")], b"");
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("[CRITICAL] CloudTrail logging stopped or trail deleted: StopLogging on arn:aws:cloudtrail:us-east-1:111122223333:trail/org-trail by mallory\n"), "{out}");
    assert!(out.contains("  who    mallory (arn:aws:iam::111122223333:user/mallory)\n"));
    assert!(out.contains("  what   iam:PutRolePolicy (failed: AccessDenied)\n"));
}

#[test]
fn packs_list_show_and_rules_validate() {
    let o = iamwatch(&["packs", "list"], b"");
    let out = String::from_utf8(o.stdout).unwrap();
    for name in ["cis-aws-foundations", "aws-iam-changes", "aws-recommended"] {
        assert!(out.contains(name), "{out}");
    }
    let o = iamwatch(&["packs", "show", "cis-aws-foundations"], b"");
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("cis-4.15 [high]"), "{out}");
    let o = iamwatch(&["packs", "show", "--json", "aws-recommended"], b"");
    let v: Value = serde_json::from_slice(&o.stdout).expect("pack JSON");
    assert_eq!(v["pack"], "aws-recommended");

    let packs_dir: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "shared", "packs"]
        .iter()
        .collect();
    let files: Vec<String> = std::fs::read_dir(&packs_dir)
        .unwrap()
        .map(|e| e.unwrap().path().to_string_lossy().into_owned())
        .collect();
    let mut args = vec!["rules", "validate"];
    args.extend(files.iter().map(String::as_str));
    let o = iamwatch(&args, b"");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    let s = Scratch::new("validate");
    let typo = s.file(
        "typo.json",
        br#"{"rules": [{"id": "r", "filterPattern": "x", "severty": "high"}]}"#,
    );
    let o = iamwatch(&["rules", "validate", &typo], b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("did you mean \"severity\""),
        "{}",
        stderr(&o)
    );
    assert!(Path::new(&typo).exists());
}

#[test]
fn the_readme_example_pack_loads_and_fires() {
    let readme: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "README.md"]
        .iter()
        .collect();
    let text = std::fs::read_to_string(readme).expect("README");
    let section = &text[text.find("## Rule packs").expect("rule packs section")..];
    let start = section.find("```json\n").expect("example pack") + "```json\n".len();
    let pack = &section[start..start + section[start..].find("```").expect("end of example")];
    let s = Scratch::new("readme");
    let file = s.file("readme-pack.json", pack.as_bytes());
    let o = iamwatch(&["rules", "validate", &file], b"");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut ev = record("AttachRolePolicy", "rp1");
    ev["requestParameters"] =
        json!({"roleName": "ops", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"});
    let o = iamwatch(
        &["replay", "--pack", &file, "--format", "jsonl", "-"],
        format!("{ev}\n").as_bytes(),
    );
    let f = jsonl(&o);
    assert_eq!(f.len(), 1, "{}", stderr(&o));
    assert_eq!(f[0]["title"], "Admin policy attached to ops by alice");
}

/// `iamwatch ARGS` with stdout and stderr on one pipe whose reader stops after one line, as
/// `iamwatch ... 2>&1 | head -1` does.
fn closed_after_one_line(args: &[&str]) -> std::process::ExitStatus {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let (reader, writer) = std::io::pipe().expect("a pipe");
    let mut child = Command::new(env!("CARGO_BIN_EXE_iamwatch"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(writer.try_clone().expect("pipe"))
        .stderr(writer)
        .spawn()
        .expect("start iamwatch");
    let mut first = String::new();
    BufReader::new(reader)
        .read_line(&mut first)
        .expect("one line");
    // The reader is gone: every later write fails with a broken pipe.
    child.wait().expect("wait")
}

#[test]
fn a_closed_output_is_exit_status_1_not_a_crash() {
    let many: String = (0..5_000)
        .map(|i| record("CreateUser", &format!("e{i}")).to_string() + "\n")
        .collect();
    let s = Scratch::new("closed");
    let file = s.file("many.jsonl", many.as_bytes());
    for args in [
        vec!["replay", file.as_str()],
        vec!["replay", "--format", "jsonl", file.as_str()],
        vec!["packs", "show", "ibm-iam"],
    ] {
        let status = closed_after_one_line(&args);
        assert_eq!(status.code(), Some(1), "{args:?}: {status:?}");
    }
}

#[test]
fn rules_validate_calls_a_file_that_is_not_text_an_invalid_pack() {
    let s = Scratch::new("not-utf8");
    let bad = s.file("pack.json", b"{\"pack\": \"x\xff\", \"rules\": []}");
    let o = iamwatch(&["rules", "validate", &bad], b"");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("not UTF-8"), "{}", stderr(&o));
    let o = iamwatch(&["rules", "validate", "/no/such/pack.json"], b"");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

#[test]
fn explain_volume_and_dry_run_in_text() {
    // A pack of one live and one dry-run rule, an exception for one principal.
    let pack = r#"{"pack": "p", "rules": [
        {"id": "iam-change", "severity": "high", "filterPattern": "{ $.eventSource = \"iam.amazonaws.com\" && $.readOnly IS FALSE }"},
        {"id": "trial", "mode": "dry-run", "filterPattern": "{ $.eventSource = \"iam.amazonaws.com\" }"}
    ]}"#;
    let exceptions = r#"[{"id": "ci", "reason": "the CI user rotates keys", "rules": ["p/iam-change"], "identity": "mallory"}]"#;
    let o = iamwatch(
        &[
            "replay",
            "--pack",
            pack,
            "--exceptions",
            exceptions,
            "--explain",
            "--volume",
            &example("cloudtrail/events.jsonl"),
        ],
        b"",
    );
    let err = stderr(&o);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        out.contains("[EXCEPTED] p/iam-change on iam:PutRolePolicy by mallory"),
        "{out}"
    );
    assert!(
        out.contains("exception global/ci: the CI user rotates keys"),
        "{out}"
    );
    assert!(out.contains(", dry-run] "), "{out}");
    assert!(err.contains("matches excepted"), "{err}");
    assert!(
        err.contains("excepted matches by exception: global/ci 1"),
        "{err}"
    );
    assert!(err.contains("volume over 1.0 days"), "{err}");
    let row = err
        .lines()
        .find(|l| l.trim_start().starts_with("p/trial"))
        .expect("a row for p/trial");
    assert!(row.contains("dry-run"), "{row}");
}
