//! Table tests: every documented filter pattern example, with its source.
//!
//! Sources, cited per table:
//! - [FPS] "Filter pattern syntax for metric filters, subscription filters, filter log events,
//!   and Live Tail", CloudWatch Logs User Guide (2024/2025 pages and their sub-pages).
//! - [FPS-OLD] "Filter and Pattern Syntax", the 2014–2022 versions of the same guide.
//! - [TMF] CloudWatch Logs API Reference, TestMetricFilter examples.
//! - [CLI] AWS CLI `logs test-metric-filter` example.
//! - [SH] Security Hub User Guide, CloudWatch controls CloudWatch.1–14 (CIS).
//! - [CT] CloudTrail User Guide: console sign-in event reference and log file examples.
//! - [OBS] behaviour observed on AWS and reported publicly (cited inline).

mod common;

use common::{call, iam_user, sign_in, trail};
use iamwatch::pattern::{FilterPattern, PatternKind};
use serde_json::{json, Value};

#[track_caller]
fn check(source: &str, pattern: &str, cases: &[(&str, bool)]) {
    let p = FilterPattern::new(pattern)
        .unwrap_or_else(|e| panic!("[{source}] {pattern}: {e}\n{}", e.caret(pattern)));
    for (message, want) in cases {
        assert_eq!(
            p.matches_text(message),
            *want,
            "[{source}] pattern {pattern} on {message}"
        );
    }
}

#[track_caller]
fn rejects(source: &str, pattern: &str, offset: usize, needle: &str) {
    match FilterPattern::new(pattern) {
        Ok(_) => panic!("[{source}] accepted {pattern}"),
        Err(e) => {
            assert_eq!(e.offset, offset, "[{source}] {pattern}: {e}");
            assert!(
                e.message.contains(needle),
                "[{source}] {pattern}: {e} (wanted '{needle}')"
            );
        }
    }
}

// ------------------------------------------------------------------ terms

const E400: &str = "[ERROR 400] BAD REQUEST";
const E401: &str = "[ERROR 401] UNAUTHORIZED REQUEST";
const E419: &str = "[ERROR 419] MISSING ARGUMENTS";
const E420: &str = "[ERROR 420] INVALID ARGUMENTS";

#[test]
fn terms_current_page() {
    let s = "FPS, Matching terms in unstructured log events";
    check(
        s,
        "ERROR",
        &[(E400, true), (E401, true), (E419, true), (E420, true)],
    );
    check(
        s,
        "ERROR ARGUMENTS",
        &[(E400, false), (E401, false), (E419, true), (E420, true)],
    );
    check(
        s,
        "?ERROR ?ARGUMENTS",
        &[(E400, true), (E401, true), (E419, true), (E420, true)],
    );
    check(
        s,
        "\"INTERNAL SERVER ERROR\"",
        &[("[ERROR 500] INTERNAL SERVER ERROR", true), (E400, false)],
    );
    check(
        s,
        "ERROR -ARGUMENTS",
        &[(E400, true), (E401, true), (E419, false), (E420, false)],
    );
    check(s, "\" \"", &[(E400, true), ("nospaces", true), ("", true)]);
    // `?` terms mixed with a plain term are ignored: only REQUEST counts.
    check(
        s,
        "?ERROR ?ARGUMENTS REQUEST",
        &[
            ("[INFO] REQUEST FAILED", true),
            ("[WARN] UNAUTHORIZED REQUEST", true),
            ("[ERROR] 400 BAD REQUEST", true),
            (E419, false),
        ],
    );
    check(
        s,
        "%AUTHORIZED%",
        &[
            ("[ERROR 401] UNAUTHORIZED REQUEST", true),
            ("[SUCCESS 200] AUTHORIZED REQUEST", true),
            (E400, false),
        ],
    );
}

#[test]
fn terms_old_page() {
    let s = "FPS-OLD, OR Pattern Matching and Matching Terms";
    let (one, two, three) = ("ERROR WARN message", "ERROR message", "WARN message");
    check(s, "ERROR", &[(one, true), (two, true), (three, false)]);
    check(
        s,
        "?ERROR ?WARN",
        &[(one, true), (two, true), (three, true)],
    );
    check(
        s,
        "ERROR WARN",
        &[(one, true), (two, false), (three, false)],
    );
    check(
        s,
        "ERROR -WARN",
        &[(one, false), (two, true), (three, false)],
    );
    check(
        s,
        "ERROR",
        &[
            ("[ERROR] A fatal exception has occurred", true),
            ("Exiting with ERRORCODE: -1", true),
        ],
    );
    check(
        s,
        "\"ERROR\" -\"Exiting\"",
        &[
            ("[ERROR] A fatal exception has occurred", true),
            ("Exiting with ERRORCODE: -1", false),
        ],
    );
    check(
        s,
        "\"ERROR\" \"Exception\"",
        &[
            ("[ERROR] Caught IllegalArgumentException", true),
            ("[ERROR] Unhandled Exception", true),
            ("[ERROR] A fatal exception has occurred", false),
        ],
    );
    check(
        s,
        "\"Failed to process the request\"",
        &[
            ("[WARN] Failed to process the request", true),
            (
                "[ERROR] Unable to continue: Failed to process the request",
                true,
            ),
            ("[WARN] Failed to process request", false),
        ],
    );
    check(s, "", &[("anything", true), ("", true)]);
    check(s, "   ", &[("anything", true)]);
    check(s, "\"\"", &[("anything", true)]);
}

#[test]
fn terms_testmetricfilter_and_cli() {
    // Five lines in the shape of the TestMetricFilter example (1-based events 3 and 4 are errors).
    let lines = [
        "02 May 2014 00:34:12,525 [INFO] Starting up",
        "02 May 2014 00:34:13,001 [INFO] Loading configuration",
        "02 May 2014 00:34:16,142 [ERROR] Unhanded exception: InvalidQueryException",
        "02 May 2014 00:34:17,001 [ERROR] Retrying the query",
        "02 May 2014 00:34:20,133 [INFO] Shutting down",
    ];
    let hits = |pattern: &str| -> Vec<usize> {
        let p = FilterPattern::new(pattern).unwrap();
        (1..=lines.len())
            .filter(|i| p.matches_text(lines[i - 1]))
            .collect()
    };
    assert_eq!(hits("\"[ERROR]\""), [3, 4], "TMF");
    // Case-sensitive: the lowercase "exception" does not count, InvalidQueryException does.
    assert_eq!(hits("\"[ERROR]\" Exception"), [3], "TMF");
    assert_eq!(hits("exception"), [3], "FPS case sensitivity");
    assert_eq!(hits("Exception"), [3], "FPS substring");
    check(
        "CLI test-metric-filter",
        "ERROR",
        &[
            ("[ERROR] 400 BAD REQUEST", true),
            ("[ERROR] 400 BAD REQUEST", true),
            ("[INFO] 200 OK", false),
        ],
    );
}

#[test]
fn terms_decisions() {
    let s = "README semantics table";
    // Substring anywhere, no word boundaries.
    check(
        s,
        "cat",
        &[
            ("communicate", true),
            ("baby-cat", true),
            ("c a t", false),
            ("CAT", false),
        ],
    );
    // Unquoted punctuation is literal.
    check(
        s,
        "user@example.com",
        &[("login user@example.com ok", true), ("user@example", false)],
    );
    // Only exclusions: events lacking every excluded term.
    check(
        s,
        "-DEBUG -TRACE",
        &[("INFO x", true), ("DEBUG x", false), ("a TRACE", false)],
    );
    // A regex term is one more term.
    check(
        s,
        "ERROR %4[0-9]{2}%",
        &[(E400, true), ("[ERROR 500]", false), ("[WARN 404]", false)],
    );
    // Anchors in a term pattern anchor to the whole message.
    check(s, "%^\\[ERROR%", &[(E400, true), ("x [ERROR 400]", false)]);
    // Escaped quotes inside a quoted term.
    check(
        s,
        r#""say \"hi\"""#,
        &[(r#"they say "hi" twice"#, true), ("say hi", false)],
    );
    // A lone '-' or '?' is an ordinary term.
    check(s, "a - b", &[("a - b", true), ("a b", false)]);
}

// ------------------------------------------------------------------ regex

#[test]
fn regex_documented_examples() {
    let s = "FPS, Using regular expressions to match terms";
    check(
        s,
        "%^[hc]at%",
        &[
            ("hat", true),
            ("cat", true),
            ("that", false),
            ("bat", false),
        ],
    );
    check(
        s,
        "%[hc]at$%",
        &[("hat", true), ("cat", true), ("cats", false)],
    );
    check(
        s,
        "%colou?r%",
        &[("color", true), ("colour", true), ("colr", false)],
    );
    check(
        s,
        "%[abc]%",
        &[("a", true), ("b", true), ("c", true), ("d", false)],
    );
    check(s, "%[a-z]%", &[("q", true), ("Q", false)]);
    check(
        s,
        "%[abcx-z]%",
        &[
            ("a", true),
            ("x", true),
            ("y", true),
            ("z", true),
            ("d", false),
            ("w", false),
        ],
    );
    check(
        s,
        "%a{3,5}%",
        &[
            ("aaa", true),
            ("aaaa", true),
            ("aaaaa", true),
            ("aa", false),
        ],
    );
    check(
        s,
        "%gra|ey%",
        &[("gray", true), ("grey", true), ("gr", false)],
    );
    check(
        s,
        "%^starting|^initializing|^shutting down%",
        &[
            ("starting the server", true),
            ("initializing cache", true),
            ("shutting down", true),
            ("skipping initializing cache", false),
        ],
    );
    check(
        s,
        "%\\[.\\]%",
        &[
            ("[a]", true),
            ("[b]", true),
            ("[7]", true),
            ("[@]", true),
            ("[]]", true),
            ("[ ]", true),
            ("[]", false),
        ],
    );
    // The unescaped dot matches any character, so the documented warning holds.
    check(
        s,
        "%10.10.0.1%",
        &[("10.10.0.1", true), ("10010,051", true)],
    );
    check(
        s,
        "%10\\.10\\.0\\.1%",
        &[("10.10.0.1", true), ("10010,051", false)],
    );
    check(
        s,
        "%ab*c%",
        &[("ac", true), ("abc", true), ("abbbc", true), ("adc", false)],
    );
    check(
        s,
        "%ab[0-9]*%",
        &[("ab", true), ("ab0", true), ("ab129", true), ("a", false)],
    );
    check(
        s,
        "%ab+c%",
        &[
            ("abc", true),
            ("abbc", true),
            ("abbbc", true),
            ("ac", false),
        ],
    );
    check(
        s,
        "%.at%",
        &[
            ("hat", true),
            ("cat", true),
            ("bat", true),
            ("4at", true),
            ("#at", true),
            (" at", true),
            ("at", false),
        ],
    );
    check(s, "%\\d%", &[("a1", true), ("ab", false)]);
    check(s, "%[0-9]%", &[("a1", true), ("ab", false)]);
    check(s, "%\\w%", &[("_", true), ("-!", false)]);
    check(s, "%[a-zA-Z_0-9]%", &[("_", true), ("-!", false)]);
    check(s, "%\\x3A%", &[("a:b", true), ("ab", false)]);
    check(
        s,
        "%\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}%",
        &[("from 203.0.113.7 ok", true), ("from 203.0.113 ok", false)],
    );
    check(
        s,
        "%[Ee]rror|[Ff]ail%",
        &[
            ("Error", true),
            ("error", true),
            ("Fail", true),
            ("fail", true),
            ("ERROR", false),
        ],
    );
    // "Either m or n can be omitted."
    check(s, "%^a{,2}$%", &[("", true), ("aa", true), ("aaa", false)]);
    check(
        s,
        "%^a{2,}$%",
        &[("aa", true), ("aaaa", true), ("a", false)],
    );
}

#[test]
fn regex_rejections() {
    let s = "FPS, regex restrictions";
    rejects(s, "%something!%", 10, "'!' is not supported");
    rejects(s, "%(a|b)%", 1, "parentheses are not supported");
    rejects(s, "%caf\u{e9}%", 4, "multi-byte");
    rejects(s, "%abc", 0, "unterminated regex");
    rejects(
        s,
        "{ $.a = %x% || $.b = %y% || $.c = %z% }",
        34,
        "at most 2 regular expressions",
    );
    rejects(
        s,
        "[a=%x%, b=%y%, c=%z%]",
        17,
        "at most 2 regular expressions",
    );
}

// ------------------------------------------------------------------ JSON

const DOC_EVENT: &str = r#"{"eventType":"UpdateTrail","sourceIPAddress":"111.111.111.111","arrayKey":["value","another value"],"objectList":[{"name":"a","id":1},{"name":"b","id":2}],"SomeObject":null,"cluster.name":"c","ThisFlag":true}"#;

#[test]
fn json_documented_event() {
    let s = "FPS, Using filter patterns to match terms in JSON log events";
    for pattern in [
        r#"{ $.eventType = "UpdateTrail" }"#,
        r#"{ $.sourceIPAddress != 123.123.* }"#,
        r#"{ $.arrayKey[0] = "value" }"#,
        r#"{ $.objectList[1].id = 2 }"#,
        r#"{ $.eventType = %Trail% }"#,
        r#"{ $.arrayKey[*] = %val.{2}% }"#,
        r#"{ $.* = %111\.111\.111\.1[0-9]{1,2}% }"#,
        r#"{ $.['cluster.name'] = "c" }"#,
        r#"{ $.SomeObject IS NULL }"#,
        r#"{ $.SomeOtherObject NOT EXISTS }"#,
        r#"{ $.ThisFlag IS TRUE }"#,
    ] {
        check(s, pattern, &[(DOC_EVENT, true)]);
    }
    // The negations of the same, so each of the above can fail.
    for pattern in [
        r#"{ $.eventType = "UpdateTrai" }"#,
        r#"{ $.sourceIPAddress != 111.111.* }"#,
        r#"{ $.arrayKey[1] = "value" }"#,
        r#"{ $.objectList[2].id = 2 }"#,
        r#"{ $.eventType = %^Trail% }"#,
        r#"{ $.arrayKey[*] = %^x% }"#,
        r#"{ $.* = %^112% }"#,
        r#"{ $.cluster.name = "c" }"#,
        r#"{ $.eventType IS NULL }"#,
        r#"{ $.SomeObject NOT EXISTS }"#,
        r#"{ $.ThisFlag IS FALSE }"#,
    ] {
        check(s, pattern, &[(DOC_EVENT, false)]);
    }
}

#[test]
fn json_missing_and_non_value_nodes() {
    let s = "FPS: selectors must point to a value node; OBS azul#5884, Classmethod";
    let users = r#"{"users":[1,2,3],"user":{"phone":"1"}}"#;
    check(s, "{ $.users = 1 }", &[(users, false)]);
    check(s, "{ $.users != 1 }", &[(users, false)]);
    check(s, "{ $.user != 1 }", &[(users, false)]);
    // A missing property makes every comparison false, `!=` included.
    check(s, r#"{ $.user.email != "x" }"#, &[(users, false)]);
    check(
        s,
        r#"{ ($.user.email != "x") || ($.user.email NOT EXISTS) }"#,
        &[(users, true)],
    );
    check(
        s,
        r#"{ $.userIdentity.invokedBy != "cloudfront.amazonaws.com" }"#,
        &[
            (r#"{"userIdentity":{"type":"Root"}}"#, false),
            (r#"{"userIdentity":{"invokedBy":"s3.amazonaws.com"}}"#, true),
            (
                r#"{"userIdentity":{"invokedBy":"cloudfront.amazonaws.com"}}"#,
                false,
            ),
        ],
    );
    // "If arrayKey is not an array this will be false."
    check(
        s,
        r#"{ $.arrayKey[0] = "value" }"#,
        &[(r#"{"arrayKey":"value"}"#, false)],
    );
    check(
        s,
        r#"{ $.objectList[0].id = 1 }"#,
        &[(r#"{"objectList":[1,2]}"#, false)],
    );
    // Non-JSON messages never match a JSON pattern.
    check(
        s,
        "{ $.a = * }",
        &[
            ("a=1", false),
            ("ERROR {\"a\":1}", false),
            (r#"{"a":1}"#, true),
        ],
    );
}

#[test]
fn json_numbers() {
    let s = "FPS, numeric values";
    let ev = r#"{"latency":600,"numbers":[5,0.001,1000],"processes":[0,1,2,3,{"averageRuntime":55.5}],"errorCode":400,"bandwidth":80,"refreshRate":60,"responseTime":5}"#;
    for (pattern, want) in [
        ("{ $.latency >= 500 }", true),
        ("{ $.latency > +1000 }", false),
        ("{ $.latency < 50 }", false),
        ("{ $.numbers[0] < 10e3 }", true),
        ("{ $.numbers[0] < 10e-3 }", false),
        ("{ $.numbers[1] < 10e-3 }", true),
        ("{ $.processes[4].averageRuntime <= 55.5 }", true),
        ("{ $.processes[4].averageRuntime < 55.5 }", false),
        ("{ $.errorCode = 400 }", true),
        ("{ $.errorCode != 500 }", true),
        ("{ $.errorCode = 4* }", true),
        ("{ $.numbers[2] = 1e+3 }", true),
        ("{ $.numbers[1] != 1e-3 }", false),
        ("{ $.bandwidth > 75 }", true),
        ("{ $.refreshRate >= 60 }", true),
        ("{ $.responseTime <= 5 }", true),
        ("{ $.latency = * }", true),
        ("{ $.missing = * }", false),
        ("{ $.latency = -600 }", false),
    ] {
        check(s, pattern, &[(ev, want)]);
    }
}

#[test]
fn json_strings_and_wildcards() {
    let s = "FPS-OLD and FPS, string values";
    check(
        s,
        "{$.foo = bar}",
        &[(r#"{"foo":"bar"}"#, true), (r#"{"foo":"baz"}"#, false)],
    );
    check(
        s,
        "{$.foo = baz }",
        &[(r#"{"foo":"baz"}"#, true), (r#"{"foo":"bar"}"#, false)],
    );
    check(
        s,
        "{$.foo = bar || $.foo = baz }",
        &[
            (r#"{"foo":"bar"}"#, true),
            (r#"{"foo":"baz"}"#, true),
            (r#"{"foo":"qux"}"#, false),
        ],
    );
    check(
        s,
        r#"{ $.eventName = "*Event" }"#,
        &[
            (r#"{"eventName":"PutEvent"}"#, true),
            (r#"{"eventName":"GetEvent"}"#, true),
            (r#"{"eventName":"EventId"}"#, false),
        ],
    );
    check(
        s,
        r#"{ $.eventName = "Event*" }"#,
        &[
            (r#"{"eventName":"EventId"}"#, true),
            (r#"{"eventName":"EventName"}"#, true),
            (r#"{"eventName":"PutEvent"}"#, false),
        ],
    );
    check(
        s,
        r#"{ $.eventName = "Ev*ent" }"#,
        &[
            (r#"{"eventName":"Ev*ent"}"#, true),
            (r#"{"eventName":"Event"}"#, false),
        ],
    );
    // Case-sensitive.
    check(
        s,
        r#"{ $.eventName = "consolelogin" }"#,
        &[(r#"{"eventName":"ConsoleLogin"}"#, false)],
    );
    // `= *` and `= "*"`: the property exists with a value.
    let both = r#"{"eventType":"AwsApiCall","sourceIPAddress":"10.1.1.1"}"#;
    check(
        s,
        r#"{ $.eventType = "*" && $.sourceIPAddress != 123.123.* }"#,
        &[
            (both, true),
            (r#"{"sourceIPAddress":"10.1.1.1"}"#, false),
            (r#"{"eventType":null,"sourceIPAddress":"10.1.1.1"}"#, false),
        ],
    );
    // Unquoted dotted values, as in AWS's own CIS patterns.
    check(
        s,
        "{ $.eventSource = kms.amazonaws.com }",
        &[
            (r#"{"eventSource":"kms.amazonaws.com"}"#, true),
            (r#"{"eventSource":"kmsXamazonaws.com"}"#, false),
        ],
    );
    check(
        s,
        "{ $.sourceIPAddress = 111.111.111.111 }",
        &[(r#"{"sourceIPAddress":"111.111.111.111"}"#, true)],
    );
    // Whitespace between tokens is insignificant.
    check(
        s,
        "{$.eventName=ConsoleLogin}",
        &[(r#"{"eventName":"ConsoleLogin"}"#, true)],
    );
    check(
        s,
        "{   $.eventName   =   ConsoleLogin   }",
        &[(r#"{"eventName":"ConsoleLogin"}"#, true)],
    );
}

#[test]
fn json_compound_expressions() {
    let s = "FPS, Using compound expressions";
    let ev = r#"{"user":{"id":1,"email":"John.Stiles@example.com"},"users":[{"id":2,"email":"John.Doe@example.com"},{"id":3,"email":"Jane.Doe@example.com"}],"actions":["GET","PUT","DELETE"],"coordinates":[[0,1,2],[4,5,6],[7,8,9]]}"#;
    for (pattern, want) in [
        (
            r#"{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }"#,
            true,
        ),
        (
            r#"{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch" && $.actions[2] = "nonmatch" }"#,
            true,
        ),
        (
            r#"{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch") && $.actions[2] = "nonmatch" }"#,
            false,
        ),
        (
            r#"{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }"#,
            false,
        ),
        // The 2018-2021 page's unquoted spelling.
        (
            r#"{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }"#,
            true,
        ),
        (
            r#"{ ($.user.id = 2 && $.users[0].email = nonmatch) || $.actions[2] = GET }"#,
            false,
        ),
        ("{ $.coordinates[0][1] = 1 }", true),
        ("{ $.coordinates[2][0] = 7 && $.actions[1] = PUT }", true),
        ("{ $.users[*].id = 3 }", true),
        ("{ $.users[*].id = 4 }", false),
    ] {
        check(s, pattern, &[(ev, want)]);
    }
}

#[test]
fn json_rejections() {
    let s = "FPS grammar and quotas";
    rejects(s, "{ $.a = 1", 8, "must end with '}'");
    rejects(s, "{ $.a[*].b[*] = 1 }", 2, "only one wildcard");
    rejects(
        s,
        "{ $.a[*] = 1 || $.b[*] = 1 || $.c.* = 1 || $.d[*] = 1 }",
        43,
        "at most 3 wildcard selectors",
    );
    rejects(s, "{ $.a IS NOT NULL }", 9, "'IS NOT' is not supported");
    rejects(s, "{ $.a EXISTS }", 6, "'EXISTS' is not supported");
    rejects(s, "{ $.a > abc }", 8, "expected a number");
    rejects(s, "{ $.a == 1 }", 7, "'==' is not an operator");
    rejects(s, "{ a = 1 }", 2, "selector starting with '$'");
    rejects(s, "{ $ = 1 }", 3, "a property after '$'");
    rejects(s, "{ ($.a = 1 }", 11, "')'");
    rejects(s, "{ $.a = \"x }", 8, "unterminated quoted string");
    rejects(s, "{ }", 2, "expected a condition");
    rejects(s, "{ $.a = 1 } x", 12, "must end with '}'");
    let long = format!("{{ $.a = \"{}\" }}", "x".repeat(1020));
    rejects(s, &long, 1024, "longer than 1024 characters");
}

// ------------------------------------------------------------------ space-delimited

const APACHE: &str =
    r#"127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#;

#[test]
fn delimited_documented_examples() {
    let s = "FPS, Using filter patterns to match terms in space-delimited log events";
    for pattern in [
        r"[ip=%127\.0\.0\.[1-9]%, user, username, timestamp, request =*.html*, status_code = 4*, bytes]",
        "[..., request =*.html*, status_code = 4*, bytes]",
        "[ip, user, username, timestamp, request =*.html*, status_code = 404 || status_code = 410, bytes]",
        "[ip, server, username, timestamp, request, status_code, bytes > 1000]",
    ] {
        check(s, pattern, &[(APACHE, true)]);
    }
    for pattern in [
        r"[ip=%127\.0\.0\.[2-9]%, user, username, timestamp, request =*.html*, status_code = 4*, bytes]",
        "[..., request =*.gif*, status_code = 4*, bytes]",
        "[ip, user, username, timestamp, request, status_code = 403 || status_code = 410, bytes]",
        "[ip, server, username, timestamp, request, status_code, bytes > 2000]",
    ] {
        check(s, pattern, &[(APACHE, false)]);
    }
    let l1 = "INFO 09/25/2014 12:00:00 GET /service/resource/67 1200";
    let l2 = "INFO 09/25/2014 12:00:01 POST /service/resource/67/part/111 1310";
    let l3 = "WARNING 09/25/2014 12:00:02 Invalid user request";
    let l4 = "ERROR 09/25/2014 12:00:02 Failed to process request";
    check(
        s,
        "[w1=ERROR, w2]",
        &[(l1, false), (l2, false), (l3, false), (l4, true)],
    );
    check(
        s,
        "[w1=ERROR || w1=WARNING, w2]",
        &[(l1, false), (l2, false), (l3, true), (l4, true)],
    );
    check(
        s,
        "[w1!=ERROR && w1!=WARNING, w2]",
        &[(l1, true), (l2, true), (l3, false), (l4, false)],
    );
    check(
        s,
        "[logLevel, date, time, method, url=%/service/resource/[0-9]+$%, response_time]",
        &[(l1, true), (l2, false), (l3, false), (l4, false)],
    );
    check(
        s,
        "[logLevel, date, time, method, url=%/service/resource/[0-9]+/part/[0-9]+$%, response_time]",
        &[(l1, false), (l2, true), (l3, false), (l4, false)],
    );
    // The last entry takes the rest of the line, so a lone entry compares the whole line.
    check(
        "README semantics table",
        "[w1=ERROR]",
        &[(l4, false), ("ERROR", true)],
    );
    // Fewer fields than entries: no match.
    check(
        "README semantics table",
        "[a, b, c]",
        &[("x y", false), ("x y z", true)],
    );
    check(
        "README semantics table",
        "[a, ..., b, c]",
        &[("x y", false), ("x y z", true)],
    );
}

const GIF: [&str; 3] = [
    r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#,
    r#"127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324"#,
    r#"127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 200 4355"#,
];

fn fields(pattern: &str, message: &str) -> Option<Vec<(String, String)>> {
    FilterPattern::new(pattern).unwrap().test(message)
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn delimited_testmetricfilter() {
    let s = "TMF";
    for pattern in [
        "[ip, identity, user_id, timestamp, request, status_code, size]",
        "[..., size]",
        "[]",
    ] {
        check(
            s,
            pattern,
            &[(GIF[0], true), (GIF[1], true), (GIF[2], true)],
        );
    }
    check(
        s,
        "[..., status_code=200, size]",
        &[(GIF[0], true), (GIF[1], false), (GIF[2], true)],
    );
    let access = [
        r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#,
        r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /about-us/index.html HTTP/1.0" 200 1534"#,
        r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 404 1534"#,
        r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /products/index.html HTTP/1.0" 400 1534"#,
    ];
    check(
        s,
        "[..., request=*.html*, status_code=4*,]",
        &[
            (access[0], true),
            (access[1], false),
            (access[2], false),
            (access[3], true),
        ],
    );
    // Extracted values drop the [] and "" delimiters.
    assert_eq!(
        fields(
            "[ip, identity, user_id, timestamp, request, status_code, size]",
            GIF[0]
        ),
        Some(pairs(&[
            ("$ip", "127.0.0.1"),
            ("$identity", "-"),
            ("$user_id", "frank"),
            ("$timestamp", "10/Oct/2000:13:25:15 -0700"),
            ("$request", "GET /apache_pb.gif HTTP/1.0"),
            ("$status_code", "200"),
            ("$size", "1534"),
        ]))
    );
    // Ellipsis fields and unnamed entries are reported by 1-based position.
    assert_eq!(
        fields("[..., request=*.html*, status_code=4*,]", access[0]),
        Some(pairs(&[
            ("$1", "127.0.0.1"),
            ("$2", "-"),
            ("$3", "frank"),
            ("$4", "10/Oct/2000:13:25:15 -0700"),
            ("$request", "GET /index.html HTTP/1.0"),
            ("$status_code", "404"),
            ("$7", "1534"),
        ]))
    );
    assert_eq!(
        fields("[]", "a [b c] \"d\""),
        Some(pairs(&[("$1", "a"), ("$2", "b c"), ("$3", "d")]))
    );
    assert_eq!(fields("[..., status_code=200, size]", GIF[1]), None);
    // The last entry absorbing the rest of the line.
    assert_eq!(
        fields(
            "[w1=ERROR, w2]",
            "ERROR 09/25/2014 12:00:02 Failed to process request"
        ),
        Some(pairs(&[
            ("$w1", "ERROR"),
            ("$w2", "09/25/2014 12:00:02 Failed to process request")
        ]))
    );
    // Term and JSON patterns extract nothing.
    assert_eq!(fields("ERROR", "ERROR x"), Some(vec![]));
    assert_eq!(fields("{ $.a = 1 }", r#"{"a":1}"#), Some(vec![]));
}

#[test]
fn delimited_counting_examples() {
    let s = "Counting404Responses / FindCountMetric examples";
    let lines = [
        r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 404 2326"#,
        r#"127.0.0.1 - frank [10/Oct/2000:13:25:35 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#,
        r#"127.0.0.1 - frank [10/Oct/2000:13:25:45 -0700] "GET /apache_pb.gif HTTP/1.0" 410 2326"#,
    ];
    check(
        s,
        "[ip, id, user, timestamp, request, status_code=404, size]",
        &[(lines[0], true), (lines[1], false), (lines[2], false)],
    );
    check(
        s,
        "[ip, id, user, timestamp, request, status_code=4*, size]",
        &[(lines[0], true), (lines[1], false), (lines[2], true)],
    );
    check(
        s,
        "[ip, id, user, timestamp, request, status_code = 4* && status_code != 410, size]",
        &[(lines[0], true), (lines[2], false)],
    );
}

#[test]
fn delimited_rejections() {
    let s = "FPS space-delimited grammar; OBS awsdocs/amazon-cloudwatch-logs-user-guide#21";
    rejects(s, "[a, b = 1 && c > 2]", 13, "must all test the field 'b'");
    rejects(s, "[a, ..., b, ...]", 12, "only one '...'");
    rejects(s, "[a, b", 0, "must end with ']'");
    rejects(s, "[a b]", 3, "expected an operator");
    rejects(s, "[a, b > x]", 8, "expected a number");
}

// ------------------------------------------------------------------ Security Hub / CIS on CloudTrail

const CW1: &str = r#"{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}"#;
const CW2: &str = r#"{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}"#;
const CW3: &str = r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }"#;
const CIS12_MFA: &str =
    r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }"#;
const CW4: &str = "{($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || ($.eventName=DeleteUserPolicy) || ($.eventName=PutGroupPolicy) || ($.eventName=PutRolePolicy) || ($.eventName=PutUserPolicy) || ($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) || ($.eventName=CreatePolicyVersion) || ($.eventName=DeletePolicyVersion) || ($.eventName=AttachRolePolicy) || ($.eventName=DetachRolePolicy) || ($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) || ($.eventName=AttachGroupPolicy) || ($.eventName=DetachGroupPolicy)}";
const CW5: &str = "{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || ($.eventName=DeleteTrail) || ($.eventName=StartLogging) || ($.eventName=StopLogging)}";
const CW6: &str = r#"{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}"#;
const CW7: &str = "{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion))}";
const CW8: &str = "{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || ($.eventName=PutBucketPolicy) || ($.eventName=PutBucketCors) || ($.eventName=PutBucketLifecycle) || ($.eventName=PutBucketReplication) || ($.eventName=DeleteBucketPolicy) || ($.eventName=DeleteBucketCors) || ($.eventName=DeleteBucketLifecycle) || ($.eventName=DeleteBucketReplication))}";
const CW9: &str = "{($.eventSource=config.amazonaws.com) && (($.eventName=StopConfigurationRecorder) || ($.eventName=DeleteDeliveryChannel) || ($.eventName=PutDeliveryChannel) || ($.eventName=PutConfigurationRecorder))}";
const CW10: &str = "{($.eventName=AuthorizeSecurityGroupIngress) || ($.eventName=AuthorizeSecurityGroupEgress) || ($.eventName=RevokeSecurityGroupIngress) || ($.eventName=RevokeSecurityGroupEgress) || ($.eventName=CreateSecurityGroup) || ($.eventName=DeleteSecurityGroup)}";
const CW11: &str = "{($.eventName=CreateNetworkAcl) || ($.eventName=CreateNetworkAclEntry) || ($.eventName=DeleteNetworkAcl) || ($.eventName=DeleteNetworkAclEntry) || ($.eventName=ReplaceNetworkAclEntry) || ($.eventName=ReplaceNetworkAclAssociation)}";
const CW12: &str = "{($.eventName=CreateCustomerGateway) || ($.eventName=DeleteCustomerGateway) || ($.eventName=AttachInternetGateway) || ($.eventName=CreateInternetGateway) || ($.eventName=DeleteInternetGateway) || ($.eventName=DetachInternetGateway)}";
const CW13: &str = "{($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || ($.eventName=ReplaceRoute) || ($.eventName=ReplaceRouteTableAssociation) || ($.eventName=DeleteRouteTable) || ($.eventName=DeleteRoute) || ($.eventName=DisassociateRouteTable)}";
const CW14: &str = "{($.eventName=CreateVpc) || ($.eventName=DeleteVpc) || ($.eventName=ModifyVpcAttribute) || ($.eventName=AcceptVpcPeeringConnection) || ($.eventName=CreateVpcPeeringConnection) || ($.eventName=DeleteVpcPeeringConnection) || ($.eventName=RejectVpcPeeringConnection) || ($.eventName=AttachClassicLinkVpc) || ($.eventName=DetachClassicLinkVpc) || ($.eventName=DisableVpcClassicLink) || ($.eventName=EnableVpcClassicLink)}";
const IAM_CHANGES: &str = r#"{ ($.eventSource = "iam.amazonaws.com") && (($.eventName = "Create*") || ($.eventName = "Delete*") || ($.eventName = "Put*") || ($.eventName = "Attach*") || ($.eventName = "Detach*") || ($.eventName = "Update*") || ($.eventName = "Add*") || ($.eventName = "Remove*")) }"#;

#[test]
fn cw1_root_usage() {
    let root = json!({"type": "Root", "principalId": "111122223333", "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333"});
    let mut by_service = root.clone();
    by_service["invokedBy"] = json!("support.amazonaws.com");
    check(
        "SH CloudWatch.1; CT root sign-in with MFA",
        CW1,
        &[
            (
                &sign_in(
                    root.clone(),
                    "Success",
                    json!({"additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": "YES"}}),
                ),
                true,
            ),
            (
                &trail(json!({"userIdentity": root.clone(), "eventName": "CreateAccessKey"})),
                true,
            ),
            (
                &trail(json!({"userIdentity": by_service, "eventName": "DescribeCases"})),
                false,
            ),
            (
                &trail(json!({"userIdentity": root, "eventType": "AwsServiceEvent"})),
                false,
            ),
            (&call("iam.amazonaws.com", "CreateUser"), false),
        ],
    );
}

#[test]
fn cw2_unauthorized_calls() {
    let err = |code: &str| trail(json!({"errorCode": code, "errorMessage": "denied"}));
    check(
        "SH CloudWatch.2",
        CW2,
        &[
            (&err("AccessDenied"), true),
            (&err("AccessDeniedException"), true),
            (&err("Client.UnauthorizedOperation"), true),
            (&err("UnauthorizedOperation"), true),
            (&err("ThrottlingException"), false),
            (&err("accessdenied"), false),
            (&call("iam.amazonaws.com", "CreateUser"), false),
        ],
    );
}

#[test]
fn cw3_and_cis12_sign_in_without_mfa() {
    let add = |mfa: Option<&str>| match mfa {
        Some(m) => {
            json!({"additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": m}})
        }
        None => {
            json!({"additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No"}})
        }
    };
    let no_mfa = sign_in(iam_user(), "Success", add(Some("No")));
    let with_mfa = sign_in(iam_user(), "Success", add(Some("Yes")));
    let root_mfa = sign_in(
        json!({"type": "Root", "principalId": "111122223333", "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333"}),
        "Success",
        add(Some("YES")),
    );
    let failed = sign_in(
        json!({"type": "IAMUser", "principalId": "AIDAEXAMPLE", "accountId": "111122223333", "accessKeyId": "", "userName": "alice"}),
        "Failure",
        {
            let mut e = add(Some("No"));
            e["errorMessage"] = json!("Failed authentication");
            e
        },
    );
    let sso = sign_in(
        json!({"type": "AssumedRole", "principalId": "AROAEXAMPLE:alice@example.com", "arn": "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice@example.com", "accountId": "111122223333", "sessionContext": {"sessionIssuer": {"type": "Role", "userName": "AWSReservedSSO_Admin_0123456789abcdef"}}}),
        "Success",
        add(None),
    );
    let saml = sign_in(
        json!({"type": "AssumedRole", "principalId": "AROAEXAMPLE:alice", "arn": "arn:aws:sts::111122223333:assumed-role/Federated/alice", "accountId": "111122223333"}),
        "Success",
        json!({"additionalEventData": {"SamlProviderArn": "arn:aws:iam::111122223333:saml-provider/Okta", "LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": "No"}}),
    );
    check(
        "SH CloudWatch.3; CT sign-in event reference",
        CW3,
        &[
            (&no_mfa, true),
            (&with_mfa, false),
            (&root_mfa, false),
            (&failed, false),
            (&sso, false),
            (&saml, false),
        ],
    );
    // The older CIS v1.2 pattern: no user-type or success test, and "YES" is not "Yes".
    check(
        "CIS v1.2 3.2",
        CIS12_MFA,
        &[
            (&no_mfa, true),
            (&with_mfa, false),
            (&root_mfa, true),
            (&failed, true),
            (&sso, false),
            (&saml, true),
        ],
    );
    check(
        "SH CloudWatch.6",
        CW6,
        &[(&failed, true), (&no_mfa, false), (&with_mfa, false)],
    );
}

/// (event source, event name, expected match)
type CallCase = (&'static str, &'static str, bool);

#[test]
fn cw4_to_cw14_management_changes() {
    let cases: &[(&str, &str, &[CallCase])] = &[
        (
            "SH CloudWatch.4",
            CW4,
            &[
                ("iam.amazonaws.com", "PutUserPolicy", true),
                ("iam.amazonaws.com", "DetachGroupPolicy", true),
                ("iam.amazonaws.com", "CreatePolicyVersion", true),
                ("iam.amazonaws.com", "GetUserPolicy", false),
                ("iam.amazonaws.com", "PutUserPermissionsBoundary", false),
            ],
        ),
        (
            "SH CloudWatch.5",
            CW5,
            &[
                ("cloudtrail.amazonaws.com", "StopLogging", true),
                ("cloudtrail.amazonaws.com", "UpdateTrail", true),
                ("cloudtrail.amazonaws.com", "DescribeTrails", false),
            ],
        ),
        (
            "SH CloudWatch.7",
            CW7,
            &[
                ("kms.amazonaws.com", "DisableKey", true),
                ("kms.amazonaws.com", "ScheduleKeyDeletion", true),
                ("kms.amazonaws.com", "DisableKeyRotation", false),
                ("kms.amazonaws.com", "EnableKey", false),
                ("iam.amazonaws.com", "DisableKey", false),
            ],
        ),
        (
            "SH CloudWatch.8",
            CW8,
            &[
                ("s3.amazonaws.com", "PutBucketPolicy", true),
                ("s3.amazonaws.com", "DeleteBucketCors", true),
                ("s3.amazonaws.com", "PutBucketTagging", false),
                ("ec2.amazonaws.com", "PutBucketPolicy", false),
            ],
        ),
        (
            "SH CloudWatch.9",
            CW9,
            &[
                ("config.amazonaws.com", "StopConfigurationRecorder", true),
                ("config.amazonaws.com", "PutDeliveryChannel", true),
                ("config.amazonaws.com", "StartConfigurationRecorder", false),
            ],
        ),
        (
            "SH CloudWatch.10",
            CW10,
            &[
                ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", true),
                ("ec2.amazonaws.com", "DeleteSecurityGroup", true),
                ("ec2.amazonaws.com", "DescribeSecurityGroups", false),
                ("ec2.amazonaws.com", "ModifySecurityGroupRules", false),
            ],
        ),
        (
            "SH CloudWatch.11",
            CW11,
            &[
                ("ec2.amazonaws.com", "CreateNetworkAclEntry", true),
                ("ec2.amazonaws.com", "ReplaceNetworkAclAssociation", true),
                ("ec2.amazonaws.com", "DescribeNetworkAcls", false),
            ],
        ),
        (
            "SH CloudWatch.12",
            CW12,
            &[
                ("ec2.amazonaws.com", "AttachInternetGateway", true),
                ("ec2.amazonaws.com", "CreateCustomerGateway", true),
                ("ec2.amazonaws.com", "CreateNatGateway", false),
            ],
        ),
        (
            "SH CloudWatch.13",
            CW13,
            &[
                ("ec2.amazonaws.com", "CreateRoute", true),
                ("ec2.amazonaws.com", "DisassociateRouteTable", true),
                ("ec2.amazonaws.com", "CreateRouteTableX", false),
            ],
        ),
        (
            "SH CloudWatch.14",
            CW14,
            &[
                ("ec2.amazonaws.com", "CreateVpc", true),
                ("ec2.amazonaws.com", "CreateVpcPeeringConnection", true),
                ("ec2.amazonaws.com", "CreateVpcEndpoint", false),
                ("ec2.amazonaws.com", "DescribeVpcs", false),
            ],
        ),
        (
            "iam-changes pattern (seed blog post, corrected event source)",
            IAM_CHANGES,
            &[
                ("iam.amazonaws.com", "CreateUser", true),
                ("iam.amazonaws.com", "AttachRolePolicy", true),
                ("iam.amazonaws.com", "AddUserToGroup", true),
                ("iam.amazonaws.com", "GetUser", false),
                ("ec2.amazonaws.com", "CreateVpc", false),
            ],
        ),
    ];
    for (source, pattern, rows) in cases {
        let rows: Vec<(String, bool)> = rows
            .iter()
            .map(|(src, name, want)| (call(src, name), *want))
            .collect();
        let rows: Vec<(&str, bool)> = rows.iter().map(|(m, w)| (m.as_str(), *w)).collect();
        check(source, pattern, &rows);
    }
}

#[test]
fn ct_log_file_examples() {
    // [CT] log file examples: CreateUser by an IAM user, and UpdateTrail.
    let create_user = r#"{"eventVersion":"1.0","userIdentity":{"type":"IAMUser","principalId":"EX_PRINCIPAL_ID","arn":"arn:aws:iam::123456789012:user/Alice","accountId":"123456789012","accessKeyId":"EXAMPLE_KEY_ID","userName":"Alice"},"eventTime":"2014-03-24T21:11:59Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-2","sourceIPAddress":"127.0.0.1","userAgent":"aws-cli/1.3.2 Python/2.7.5 Windows/7","requestParameters":{"userName":"Bob"},"responseElements":{"user":{"createDate":"Mar 24, 2014 9:11:59 PM","userName":"Bob","arn":"arn:aws:iam::123456789012:user/Bob","path":"/","userId":"EXAMPLEUSERID"}}}"#;
    let update_trail = r#"{"eventVersion":"1.04","userIdentity":{"type":"IAMUser","principalId":"AIDAJDPLRKLG7UEXAMPLE","arn":"arn:aws:iam::123456789012:user/Alice","accountId":"123456789012","accessKeyId":"AKIAIOSFODNN7EXAMPLE","userName":"Alice"},"eventTime":"2016-07-14T19:15:45Z","eventSource":"cloudtrail.amazonaws.com","eventName":"UpdateTrail","awsRegion":"us-east-2","sourceIPAddress":"205.251.233.182","userAgent":"aws-cli/1.10.32 Python/2.7.9 Windows/7 botocore/1.4.22","errorCode":"TrailNotFoundException","errorMessage":"Unknown trail: myTrail2 for the user: 123456789012","requestParameters":{"name":"myTrail2"},"responseElements":null,"requestID":"5d40662a-49f7-11e6-97e4-d9cb6ff7d6a3","eventID":"b7d4398e-b2f0-4faa-9c76-e2d316a8d67f","eventType":"AwsApiCall","recipientAccountId":"123456789012"}"#;
    check(
        "CT log file examples",
        IAM_CHANGES,
        &[(create_user, true), (update_trail, false)],
    );
    check(
        "CT log file examples",
        CW5,
        &[(update_trail, true), (create_user, false)],
    );
    check("CT log file examples", CW2, &[(update_trail, false)]);
    check(
        "CT log file examples",
        r#"{ $.responseElements IS NULL }"#,
        &[(update_trail, true), (create_user, false)],
    );
    check(
        "CT log file examples",
        r#"{ $.requestParameters.userName = "Bob" }"#,
        &[(create_user, true)],
    );
}

#[test]
fn kinds() {
    for (pattern, kind) in [
        ("", PatternKind::MatchAll),
        ("  ", PatternKind::MatchAll),
        ("ERROR", PatternKind::Terms),
        ("%x%", PatternKind::Terms),
        ("{ $.a = 1 }", PatternKind::Json),
        ("  { $.a = 1 }  ", PatternKind::Json),
        ("[a]", PatternKind::Delimited),
    ] {
        assert_eq!(
            FilterPattern::new(pattern).unwrap().kind(),
            kind,
            "{pattern}"
        );
    }
}

#[test]
fn one_parsed_record_many_patterns() {
    let record: Value = serde_json::from_str(&call("iam.amazonaws.com", "CreateUser")).unwrap();
    let patterns: Vec<FilterPattern> = [IAM_CHANGES, CW4, "CreateUser", "[a, ...]"]
        .iter()
        .map(|p| p.parse().unwrap())
        .collect();
    let hits: Vec<bool> = patterns.iter().map(|p| p.matches_json(&record)).collect();
    // Term and space-delimited patterns see the record as its compact JSON text.
    assert_eq!(hits, [true, false, true, true]);
}
