//! Every input layout `ingest` reads, and bad input that must be counted, not fatal.

use base64::Engine;
use flate2::write::GzEncoder;
use iamwatch::ingest::{read, read_laid, Format, Item, Position};
use iamwatch::projection::Projection;
use serde_json::{json, Value};
use std::io::Write;

#[derive(Debug, PartialEq)]
enum Got {
    Ok(String, Position),
    Bad(Position, String),
}

/// What `read` finds; `read_laid` must find the same (its laid records built whole).
fn run(input: &[u8], format: Format) -> Vec<Got> {
    let mut out = Vec::new();
    read(input, format, &mut |item| out.push(got(item))).expect("readable input");
    let mut laid = Vec::new();
    read_laid(input, format, &mut |item| {
        if let Item::Laid { text, layout, .. } = &item {
            let built = Projection::everything().build(text, layout).expect("built");
            assert_eq!(built, serde_json::from_str::<Value>(text).expect("JSON"));
        }
        laid.push(got(item))
    })
    .expect("readable input");
    assert_eq!(out, laid, "read_laid differs from read");
    out
}

fn got(item: Item<'_>) -> Got {
    let name = |v: &Value| {
        v["eventName"]
            .as_str()
            .or(v["action"].as_str())
            .unwrap_or("?")
            .to_string()
    };
    match item {
        Item::Record {
            value, position, ..
        } => Got::Ok(name(&value), position),
        Item::Laid { text, position, .. } => Got::Ok(
            name(&serde_json::from_str(text).expect("a laid record is JSON")),
            position,
        ),
        Item::Bad { position, reason } => Got::Bad(position, reason),
        Item::Screened { position, .. } => Got::Bad(position, "screened without a screen".into()),
        Item::Reading {
            position, reading, ..
        } => Got::Ok(format!("(reading {reading})"), position),
    }
}

fn names(got: &[Got]) -> Vec<&str> {
    got.iter()
        .filter_map(|g| match g {
            Got::Ok(n, _) => Some(n.as_str()),
            Got::Bad(..) => None,
        })
        .collect()
}

fn bad(got: &[Got]) -> Vec<(Position, &str)> {
    got.iter()
        .filter_map(|g| match g {
            Got::Bad(p, r) => Some((*p, r.as_str())),
            Got::Ok(..) => None,
        })
        .collect()
}

fn at(line: u64, index: Option<u64>) -> Position {
    Position { line, index }
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b).unwrap();
    gz.finish().unwrap()
}

fn ev(name: &str) -> Value {
    json!({"eventVersion": "1.08", "eventSource": "iam.amazonaws.com", "eventName": name})
}

fn records_file(names: &[&str]) -> String {
    let records: Vec<Value> = names.iter().map(|n| ev(n)).collect();
    serde_json::to_string_pretty(&json!({"Records": records})).unwrap()
}

#[test]
fn cloudtrail_log_file_plain_and_gzip() {
    let file = records_file(&["CreateUser", "DeleteUser", "AttachUserPolicy"]);
    for input in [file.as_bytes().to_vec(), gzip(file.as_bytes())] {
        for format in [Format::Auto, Format::CloudTrail] {
            let got = run(&input, format);
            assert_eq!(
                names(&got),
                ["CreateUser", "DeleteUser", "AttachUserPolicy"]
            );
            assert!(bad(&got).is_empty());
        }
    }
    // Positions: the line each record starts on and its index in Records.
    let got = run(file.as_bytes(), Format::Auto);
    assert_eq!(got[1], Got::Ok("DeleteUser".into(), at(8, Some(2))));
    // Other members of the file are skipped, before or after Records.
    let with_digest = format!(
        r#"{{"Records":[{}], "digest": {{"a": [1, "]"]}}}}"#,
        ev("X")
    );
    assert_eq!(
        names(&run(with_digest.as_bytes(), Format::CloudTrail)),
        ["X"]
    );
    let before = format!(r#"{{ "x": "{{[", "Records":[{}]}}"#, ev("Y"));
    assert_eq!(names(&run(before.as_bytes(), Format::CloudTrail)), ["Y"]);
}

#[test]
fn truncated_gzip_keeps_what_came_before() {
    let names_in: Vec<String> = (0..2000).map(|i| format!("Event{i}")).collect();
    let refs: Vec<&str> = names_in.iter().map(String::as_str).collect();
    let gz = gzip(records_file(&refs).as_bytes());
    let cut = &gz[..gz.len() * 2 / 3];
    let got = run(cut, Format::Auto);
    let ok = names(&got);
    assert!(ok.len() > 100 && ok.len() < 2000, "{} records", ok.len());
    assert_eq!(ok[0], "Event0");
    let b = bad(&got);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].0.index, Some(ok.len() as u64 + 1));
    assert!(
        b[0].1.contains("truncated") || b[0].1.contains("ends inside"),
        "{}",
        b[0].1
    );
}

#[test]
fn json_array_with_a_bad_element() {
    let input = format!(r#"[{}, {{"eventName": }}, {}]"#, ev("A"), ev("B"));
    let got = run(input.as_bytes(), Format::Auto);
    // The malformed element is reported; its end is still found, so B is read.
    assert_eq!(names(&got), ["A", "B"]);
    let b = bad(&got);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].0, at(1, Some(2)));
    assert!(b[0].1.starts_with("not valid JSON"));
    // An empty array is fine; a broken one says where.
    assert!(run(b"[]", Format::Auto).is_empty());
    let got = run(
        format!("[{} {}]", ev("A"), ev("B")).as_bytes(),
        Format::JsonArray,
    );
    assert_eq!(names(&got), ["A"]);
    assert!(bad(&got)[0].1.contains("expected ',' or ']'"));
}

#[test]
fn json_lines_count_bad_lines_and_go_on() {
    let input = format!(
        "{}\nnot json\n\n{}\r\n{{\"truncated\": \n{}\n",
        ev("A"),
        ev("B"),
        ev("C")
    );
    let got = run(input.as_bytes(), Format::JsonLines);
    // Line 5 starts an object that never closes: read as a pretty-printed document (taking
    // line 6 in as its member value), it ends unclosed at the end of the input; so line 5 is
    // a line cut short, reported, and line 6 is read on its own: nothing after it is lost.
    assert_eq!(names(&got), ["A", "B", "C"]);
    let b = bad(&got);
    assert_eq!(b[0].0, at(2, None));
    assert_eq!(b[1].0, at(5, None));
    assert!(b[1].1.contains("EOF"), "{}", b[1].1);
    assert_eq!(b.len(), 2);
    // Lines cut short further on are reported one by one, without another document attempt.
    let input = format!(
        "{{\"a\":\n{}\n{{\"b\":\n{}\n[1,\n{}\n",
        ev("A"),
        ev("B"),
        ev("C")
    );
    let got = run(input.as_bytes(), Format::JsonLines);
    assert_eq!(names(&got), ["A", "B", "C"]);
    let lines: Vec<u64> = bad(&got).iter().map(|(p, _)| p.line).collect();
    assert_eq!(lines, [1, 3, 5]);
    // A pretty-printed document broken part-way is reported on the line it begins on, and
    // the lines after that are read on their own (here only C is a record by itself).
    let input = format!("[\n{},\n{} x\n]\n{}\n", ev("A"), ev("B"), ev("C"));
    let got = run(input.as_bytes(), Format::JsonLines);
    assert_eq!(names(&got), ["C"]);
    assert_eq!(bad(&got)[0].0, at(1, None));
}

#[test]
fn pretty_printed_documents() {
    let one = serde_json::to_string_pretty(&ev("Solo")).unwrap();
    assert_eq!(names(&run(one.as_bytes(), Format::Auto)), ["Solo"]);
    let two = format!(
        "{}\n{}",
        serde_json::to_string_pretty(&ev("P1")).unwrap(),
        serde_json::to_string_pretty(&ev("P2")).unwrap()
    );
    assert_eq!(names(&run(two.as_bytes(), Format::Auto)), ["P1", "P2"]);
}

fn awslogs_payload(messages: &[&str], kind: &str) -> Value {
    let events: Vec<Value> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| json!({"id": format!("id{i}"), "timestamp": 1_700_000_000_000u64 + i as u64, "message": m}))
        .collect();
    json!({"messageType": kind, "owner": "111122223333", "logGroup": "aws-cloudtrail", "logStream": "s",
           "subscriptionFilters": ["iamwatch"], "logEvents": events})
}

#[test]
fn cloudwatch_logs_subscription_payloads() {
    let a = ev("A").to_string();
    let b = ev("B").to_string();
    let decoded = awslogs_payload(&[&a, "plain text line", &b], "DATA_MESSAGE");
    let encoded = json!({"awslogs": {"data": base64::engine::general_purpose::STANDARD
        .encode(gzip(decoded.to_string().as_bytes()))}});
    for input in [decoded.to_string(), encoded.to_string()] {
        for format in [Format::Auto, Format::AwsLogs] {
            let got = run(input.as_bytes(), format);
            assert_eq!(names(&got), ["A", "B"]);
            let b = bad(&got);
            assert_eq!(b.len(), 1);
            assert_eq!(b[0].0, at(1, Some(2)));
            assert!(
                b[0].1.contains("not JSON") && b[0].1.contains("log event id1"),
                "{}",
                b[0].1
            );
        }
    }
    let control = awslogs_payload(&[], "CONTROL_MESSAGE").to_string();
    assert!(run(control.as_bytes(), Format::Auto).is_empty());
    let broken = json!({"awslogs": {"data": "bm90IGd6aXA="}}).to_string();
    let got = run(broken.as_bytes(), Format::Auto);
    assert!(bad(&got)[0].1.contains("not gzip"));
}

#[test]
fn eventbridge_envelopes_yield_their_detail() {
    let env = json!({"version": "0", "id": "x", "detail-type": "AWS API Call via CloudTrail",
                     "source": "aws.iam", "account": "111122223333", "time": "2026-11-20T08:00:00Z",
                     "region": "us-east-1", "resources": [], "detail": ev("Wrapped")});
    let input = format!("{env}\n{}\n", json!({"detail-type": "x"}));
    let got = run(input.as_bytes(), Format::Auto);
    assert_eq!(names(&got), ["Wrapped"]);
    assert!(bad(&got)[0].1.contains("without a detail"));
}

#[test]
fn cadf_lines_and_cloud_pak_audit_log() {
    let input = concat!(
        r#"{"initiator":{"id":"IBMid-1","typeURI":"service/security/account/user","credential":{"type":"token"}},"target":{"name":"user","id":"crn:v1:icp:private:platform-identity-management:::core:service:x","typeURI":"user"},"action":"platform-identity-management.user.create","outcome":"success","reason":{"reasonCode":200},"severity":"normal","eventTime":"2018-04-20 20:15:00.32 +0000 UTC"}"#,
        "\n",
        r#"[{"action":"iam-groups.member.add","initiator":{"id":"IBMid-2"}},{"action":"iam-am.policy.create","initiator":{"id":"IBMid-3"}}]"#,
        "\n"
    );
    let mut actions = Vec::new();
    read(input.as_bytes(), Format::Auto, &mut |item| {
        if let Item::Record {
            value, position, ..
        } = item
        {
            actions.push((value["action"].as_str().unwrap().to_string(), position));
        }
    })
    .unwrap();
    assert_eq!(
        actions,
        [
            (
                "platform-identity-management.user.create".to_string(),
                at(1, None)
            ),
            ("iam-groups.member.add".to_string(), at(2, Some(1))),
            ("iam-am.policy.create".to_string(), at(2, Some(2))),
        ]
    );
}

#[test]
fn format_names() {
    assert_eq!("cloudtrail".parse::<Format>(), Ok(Format::CloudTrail));
    assert_eq!("jsonl".parse::<Format>(), Ok(Format::JsonLines));
    assert!("xml"
        .parse::<Format>()
        .unwrap_err()
        .contains("expected one of"));
}

#[test]
fn several_documents_one_after_another() {
    // One CloudTrail log file per line, as log shippers write them, then a bare record.
    let input = format!(
        "{}\n{}\n{}\n",
        json!({"Records": [ev("A"), ev("B")]}),
        json!({"Records": [ev("C")]}),
        ev("D")
    );
    let got = run(input.as_bytes(), Format::Auto);
    assert_eq!(names(&got), ["A", "B", "C", "D"]);
    assert_eq!(got[2], Got::Ok("C".into(), at(2, Some(1))));
    assert_eq!(got[3], Got::Ok("D".into(), at(3, None)));
    // Arrays too.
    let input = format!("[{}]\n[{}, {}]", ev("A"), ev("B"), ev("C"));
    assert_eq!(names(&run(input.as_bytes(), Format::Auto)), ["A", "B", "C"]);
}

#[test]
fn projected_reading_keeps_raw_bytes_for_records_only() {
    use iamwatch::pattern::ast::Step;
    use iamwatch::projection::Projection;
    let mut p = Projection::new();
    p.keep(&[Step::Key("eventName".into())]);
    let env = json!({"detail-type": "AWS API Call via CloudTrail", "detail": ev("FromEnvelope")});
    let input = format!("{}\n{}\n", ev("Direct"), env);
    let mut got = Vec::new();
    iamwatch::ingest::read_projected(input.as_bytes(), Format::Auto, &p, &mut |item| {
        if let Item::Record { value, raw, .. } = item {
            got.push((value, raw.map(|r| String::from_utf8_lossy(r).into_owned())));
        }
    })
    .unwrap();
    // A record read directly is projected and carries its bytes...
    assert_eq!(got[0].0, json!({"eventName": "Direct"}));
    assert_eq!(got[0].1.as_deref(), Some(ev("Direct").to_string().as_str()));
    // ... what comes out of an envelope is whole.
    assert_eq!(got[1].0, ev("FromEnvelope"));
    assert_eq!(got[1].1, None);
}

/// Bytes that are not UTF-8 make a record bad whether or not the rules read that member.
#[test]
fn records_that_are_not_utf8_are_bad_however_they_are_read() {
    let mut input = br#"{"eventVersion":"1.08","eventName":"GetObject","eventSource":"s3.amazonaws.com","note":"caf"#.to_vec();
    input.extend_from_slice(b"\xe9\"}\n");
    input.extend_from_slice(
        br#"{"eventVersion":"1.08","eventName":"ListBuckets","eventSource":"s3.amazonaws.com"}"#,
    );
    input.push(b'\n');
    let got = run(&input, Format::JsonLines);
    assert!(
        matches!(&got[0], Got::Bad(p, reason) if p.line == 1 && reason.contains("not UTF-8 at byte 91")),
        "{got:?}"
    );
    assert!(
        matches!(&got[1], Got::Ok(name, _) if name == "ListBuckets"),
        "{got:?}"
    );
    // The same through a projection that skips the member.
    let d = iamwatch::detector::Detector::new(&iamwatch::packs::all().expect("packs"));
    let mut bad = 0;
    iamwatch::ingest::read_projected(
        &input[..],
        Format::JsonLines,
        &d.projection(),
        &mut |item| {
            bad += usize::from(matches!(item, Item::Bad { .. }));
        },
    )
    .expect("read");
    assert_eq!(bad, 1);
}

/// Inputs larger than the read buffer: lines and elements that lie whole in it are read where
/// they are, those that straddle its end (or outgrow it) are copied; both keep their numbers.
#[test]
fn positions_hold_across_the_read_buffer() {
    // Lines of varied length, some longer than the 256 KiB buffer, some bad, some blank.
    let mut lines = Vec::new();
    let mut want = Vec::new();
    for i in 0..4000u64 {
        let line = match i % 997 {
            5 => "{\"eventName\":\"Broken\",".to_string(),
            9 => String::new(),
            13 => format!(
                r#"{{"eventName":"Big{i}","pad":"{}"}}"#,
                "x".repeat(300_000)
            ),
            _ => format!(
                r#"{{"eventName":"E{i}","pad":"{}"}}"#,
                "y".repeat((i * 37 % 400) as usize)
            ),
        };
        lines.push(line);
    }
    for (i, l) in lines.iter().enumerate() {
        let n = i as u64 + 1;
        match (i as u64) % 997 {
            5 => want.push(format!("bad {n}")),
            9 => {}
            _ => want.push(format!("{} {n}", &l[14..l.find("\",").unwrap()])),
        }
    }
    let text = lines.join("\n");
    let seen = |got: Vec<Got>| -> Vec<String> {
        got.into_iter()
            .map(|g| match g {
                Got::Ok(name, p) => format!("{name} {}", p.line),
                Got::Bad(p, _) => format!("bad {}", p.line),
            })
            .collect()
    };
    assert_eq!(seen(run(text.as_bytes(), Format::JsonLines)), want);
    // The same records as a CloudTrail file, one per line: elements keep line and index.
    let ok: Vec<&String> = lines.iter().filter(|l| l.ends_with('}')).collect();
    let file = format!(
        "{{\"Records\":[\n{}\n]}}",
        ok.iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",\n")
    );
    let got = run(file.as_bytes(), Format::Auto);
    assert_eq!(got.len(), ok.len());
    for (k, g) in got.iter().enumerate() {
        let Got::Ok(name, p) = g else { panic!("{g:?}") };
        assert_eq!(*p, at(k as u64 + 2, Some(k as u64 + 1)));
        assert!(ok[k].contains(&format!("\"{name}\"")), "{k}");
    }
}

#[test]
fn laid_records_are_those_not_inside_containers() {
    let kinds = |input: &[u8]| {
        let mut out = Vec::new();
        read_laid(input, Format::Auto, &mut |item| {
            out.push(match item {
                Item::Laid { .. } => "laid",
                Item::Record { .. } => "built",
                Item::Bad { .. } => "bad",
                Item::Screened { .. } => "screened",
                Item::Reading { .. } => "reading",
            })
        })
        .expect("readable input");
        out
    };
    let lines = format!("{}\n{}\n[{}]\n", ev("A"), ev("B"), ev("C"));
    assert_eq!(kinds(lines.as_bytes()), ["laid", "laid", "built"]);
    assert_eq!(
        kinds(records_file(&["A", "B"]).as_bytes()),
        ["laid", "laid"]
    );
    let bridge = json!({"detail-type": "AWS API Call via CloudTrail", "detail": ev("A")});
    assert_eq!(kinds(bridge.to_string().as_bytes()), ["built"]);
    assert_eq!(
        kinds(gzip(lines.as_bytes()).as_slice()),
        ["laid", "laid", "built"]
    );
}

/// Lines as a reader of one line at a time sees them: split at line breaks, trimmed, blank
/// ones skipped, each an object record or a bad line.
fn line_by_line(input: &str) -> Vec<(bool, String, Position)> {
    input
        .split('\n')
        .enumerate()
        .filter(|(_, l)| !l.trim_ascii().is_empty())
        .map(|(n, l)| {
            let p = at(n as u64 + 1, None);
            match serde_json::from_str::<Value>(l.trim_ascii()) {
                Ok(v) if v.is_object() => (true, v["eventName"].as_str().unwrap_or("?").into(), p),
                _ => (false, String::new(), p),
            }
        })
        .collect()
}

#[test]
fn json_lines_read_in_the_buffer_are_the_lines_read_one_by_one() {
    // Line endings and what may follow an object on its line; lines of many lengths so that
    // some straddle the reader's buffer; every sixth line bad in some way.
    let endings = [
        "\n", "\r\n", "  \t\n", "\x0c\n", " x\n", " {}\n", "\n\n", ",\n",
    ];
    let mut input = String::new();
    for n in 0..4000 {
        let mut e = ev(&format!("E{n}"));
        e["pad"] = json!("p".repeat(n % 397));
        let text = e.to_string();
        if n % 6 == 5 {
            input.push_str(&text[..text.len() - 1]);
            input.push_str("\"cut\n");
        } else {
            input.push_str(&text);
            input.push_str(endings[n % endings.len()]);
        }
    }
    input.push_str(&ev("Last").to_string());
    assert!(input.len() > 3 * 256 * 1024, "{}", input.len());
    let got = run(input.as_bytes(), Format::JsonLines);
    let got: Vec<(bool, String, Position)> = got
        .into_iter()
        .map(|g| match g {
            Got::Ok(name, p) => (true, name, p),
            Got::Bad(p, _) => (false, String::new(), p),
        })
        .collect();
    let want = line_by_line(&input);
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w);
    }
    assert!(want.iter().filter(|w| w.0).count() > 1800);
    assert!(want.iter().filter(|w| !w.0).count() > 1000);
}

#[test]
fn ibm_archive_lines_and_event_notifications_alerts_yield_their_event() {
    let event = json!({"action": "iam-identity.user-refreshtoken.login", "outcome": "success",
        "initiator": {"name": "alice@example.com"}});
    let text = event.to_string();
    let lines = [
        // An Activity Tracker archive line: the event's members in `_source`.
        json!({"_source": {"action": "iam-groups.member.add", "_ts": 1, "_app": "at"}}),
        // Only `_line` holds the event.
        json!({"_source": {"_line": text, "_ts": 1}}),
        // An Event Notifications alert from an IBM Cloud Logs alert: one log line.
        json!({"data": {"log_example": event, "status": "triggered"}, "specversion": "1.0",
            "type": "com.ibm.cloud.logs.alert:triggered"}),
        json!({"data": {"log_example": text}}),
        // Cut by Cloud Logs: reported, not guessed at.
        json!({"data": {"log_example": &text[..40], "log_example_truncated": true}}),
        json!({"_source": {"_line": "not JSON", "_ts": 1}}),
        // A record that merely has a `data` member is a record.
        json!({"eventName": "PutObject", "data": {"x": 1}}),
    ];
    let input: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let got = run(input.as_bytes(), Format::Auto);
    assert_eq!(
        names(&got),
        [
            "iam-groups.member.add",
            "iam-identity.user-refreshtoken.login",
            "iam-identity.user-refreshtoken.login",
            "iam-identity.user-refreshtoken.login",
            "PutObject"
        ]
    );
    let bad = bad(&got);
    assert_eq!(bad.len(), 2, "{bad:?}");
    assert_eq!(bad[0].0.line, 5);
    assert!(bad[0].1.contains("cut by Cloud Logs"), "{}", bad[0].1);
    assert_eq!(bad[1].0.line, 6);
    assert!(bad[1].1.contains("_line"), "{}", bad[1].1);
    // The same wrappers in a JSON array (a plain POST of several).
    let array = serde_json::to_string(&lines[..4]).unwrap();
    assert_eq!(names(&run(array.as_bytes(), Format::Auto)).len(), 4);
}
