//! `iamwatch test-pattern` as a user runs it: the real binary, real files and pipes.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

mod common;

fn iamwatch(args: &[&str], stdin: Option<&str>) -> Output {
    common::run(args, stdin.unwrap_or("").as_bytes())
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 output")
}

fn example(name: &str) -> String {
    let p: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "examples", name]
        .iter()
        .collect();
    p.to_string_lossy().into_owned()
}

const LINES: &str = "INFO 09/25/2014 12:00:00 GET /service/resource/67 1200\n\
                     WARNING 09/25/2014 12:00:02 Invalid user request\r\n\
                     \n\
                     ERROR 09/25/2014 12:00:02 Failed to process request\n";

#[test]
fn jsonl_has_one_object_per_input_line_in_order() {
    let o = iamwatch(
        &["test-pattern", "--format", "jsonl", "?ERROR ?WARNING", "-"],
        Some(LINES),
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o),
        "{\"line\":1,\"matched\":false}\n\
         {\"line\":2,\"matched\":true}\n\
         {\"line\":3,\"matched\":false}\n\
         {\"line\":4,\"matched\":true}\n"
    );
}

#[test]
fn jsonl_fields_for_space_delimited_patterns() {
    let o = iamwatch(
        &[
            "test-pattern",
            "--format",
            "jsonl",
            "[level=ERROR, ..., last]",
        ],
        Some(LINES),
    );
    assert_eq!(o.status.code(), Some(0));
    let rows: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0], serde_json::json!({"line": 1, "matched": false}));
    assert_eq!(
        rows[3],
        serde_json::json!({"line": 4, "matched": true, "fields": {
            "$level": "ERROR", "$2": "09/25/2014", "$3": "12:00:02", "$4": "Failed",
            "$5": "to", "$6": "process", "$last": "request"}})
    );
}

#[test]
fn text_prints_matching_lines_with_numbers_and_fields() {
    let o = iamwatch(
        &["test-pattern", "[w1=ERROR || w1=WARNING, w2]"],
        Some(LINES),
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o),
        "2: WARNING 09/25/2014 12:00:02 Invalid user request\n    $w1 = WARNING\n    $w2 = 09/25/2014 12:00:02 Invalid user request\n\
         4: ERROR 09/25/2014 12:00:02 Failed to process request\n    $w1 = ERROR\n    $w2 = 09/25/2014 12:00:02 Failed to process request\n"
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("2 of 4 lines matched"), "{err}");
}

#[test]
fn reads_a_file_and_applies_json_patterns() {
    let file = example("cloudtrail/events.jsonl");
    let o = iamwatch(
        &[
            "test-pattern",
            "--format",
            "jsonl",
            r#"{ $.eventName = "ConsoleLogin" && $.additionalEventData.MFAUsed != "Yes" }"#,
            &file,
        ],
        None,
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let matched: Vec<u64> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
        .filter(|v| v["matched"] == true)
        .map(|v| v["line"].as_u64().expect("line"))
        .collect();
    // Alice without MFA and the root sign-in whose MFAUsed is "YES"; not the SSO sign-in.
    assert_eq!(matched, [1, 9]);
}

#[test]
fn invalid_pattern_exits_2_with_the_error_on_stderr() {
    let o = iamwatch(&["test-pattern", "{ $.a = 1", "-"], Some("x\n"));
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("at byte 8") && err.contains("must end with '}'"),
        "{err}"
    );
    assert!(err.contains("\n  { $.a = 1\n          ^"), "{err}");
}

#[test]
fn unreadable_input_exits_1() {
    let o = iamwatch(
        &["test-pattern", "ERROR", "/nonexistent/iamwatch/input.log"],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read"));
}

#[test]
fn patterns_starting_with_a_dash_are_patterns() {
    let o = iamwatch(
        &["test-pattern", "--format", "jsonl", "-DEBUG"],
        Some("DEBUG a\nINFO b\n"),
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o),
        "{\"line\":1,\"matched\":false}\n{\"line\":2,\"matched\":true}\n"
    );
}

#[test]
fn invalid_utf8_does_not_stop_the_run() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_iamwatch"))
        .args(["test-pattern", "--format", "jsonl", "ERROR"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start");
    let mut pipe = child.stdin.take().expect("stdin");
    pipe.write_all(b"\xff\xfe ERROR\nok\n").expect("write");
    drop(pipe);
    let o = child.wait_with_output().expect("wait");
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o),
        "{\"line\":1,\"matched\":true}\n{\"line\":2,\"matched\":false}\n"
    );
}

#[test]
fn a_gzip_file_is_tested_as_the_text_it_holds() {
    use std::io::Write;
    let lines = "{\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"CreateUser\"}\n\
                 {\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"GetObject\"}\n";
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(lines.as_bytes()).expect("gzip");
    let path =
        std::env::temp_dir().join(format!("iamwatch-test-pattern-{}.gz", std::process::id()));
    std::fs::write(&path, gz.finish().expect("gzip")).expect("write");
    let pattern = r#"{ $.eventSource = "iam.amazonaws.com" }"#;
    let plain = iamwatch(&["test-pattern", pattern, "-"], Some(lines));
    let o = iamwatch(&["test-pattern", pattern, &path.to_string_lossy()], None);
    let _ = std::fs::remove_file(&path);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(stdout(&o), stdout(&plain));
    assert!(stdout(&o).contains("CreateUser"), "{}", stdout(&o));
}
