//! No input makes the parser or matcher panic or hang.
//!
//! Property tests feed arbitrary and near-valid patterns and messages; the pathological cases
//! below are the ones a hostile or careless rule author would write. Each test finishes in
//! bounded time because the regex engine is linear and the parser has a length and depth limit;
//! the test suite itself does no timing.

use iamwatch::pattern::{FilterPattern, MAX_NESTING, MAX_PATTERN_CHARS};
use proptest::prelude::*;

/// Fragments of the pattern languages, so that generated patterns get past the first byte.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("{".to_string()),
        Just("}".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("$.a".to_string()),
        Just("$.a[0]".to_string()),
        Just("$.*".to_string()),
        Just("[*]".to_string()),
        Just(".['k.k']".to_string()),
        Just(" = ".to_string()),
        Just(" != ".to_string()),
        Just(" >= ".to_string()),
        Just(" < ".to_string()),
        Just(" && ".to_string()),
        Just(" || ".to_string()),
        Just(", ".to_string()),
        Just("...".to_string()),
        Just("\"".to_string()),
        Just("%".to_string()),
        Just("*".to_string()),
        Just("?".to_string()),
        Just("-".to_string()),
        Just(" IS NULL".to_string()),
        Just(" NOT EXISTS".to_string()),
        Just("1e3".to_string()),
        Just("-0.5".to_string()),
        Just("\\".to_string()),
        Just("{,3}".to_string()),
        "[a-zA-Z0-9 ]{0,6}",
        any::<char>().prop_map(String::from),
    ]
}

fn pattern() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..24).prop_map(|v| v.concat())
}

fn message() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,80}",
        Just(r#"{"a":[1,{"b":null}],"k.k":"v","c":true}"#.to_string()),
        Just(r#"127.0.0.1 - x [a b] "c d" 200 1"#.to_string()),
        "[ \\[\\]\"a-z0-9{}:,]{0,60}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_patterns_and_messages_never_panic(p in pattern(), m in message()) {
        match FilterPattern::new(&p) {
            Ok(fp) => {
                let a = fp.matches_text(&m);
                // test() and matches() must agree on whether a message matches.
                prop_assert_eq!(fp.test(&m).is_some(), a);
            }
            Err(e) => {
                prop_assert!(e.offset <= p.len(), "offset {} beyond pattern of {} bytes", e.offset, p.len());
                prop_assert!(p.is_char_boundary(e.offset));
                let _ = e.caret(&p);
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(p in ".{0,64}", m in ".{0,64}") {
        if let Ok(fp) = FilterPattern::new(&p) {
            let _ = fp.matches_text(&m);
        }
    }
}

#[test]
fn ten_thousand_nested_parentheses() {
    let deep = format!("{{ {}$.a = 1{} }}", "(".repeat(10_000), ")".repeat(10_000));
    let err = FilterPattern::new(&deep).unwrap_err();
    assert!(err.message.contains("longer than"), "{err}");
    // Within the length limit, nesting is bounded by its own limit, with an error that says so.
    let n = MAX_NESTING + 1;
    let too_deep = format!("{{{}$.a=1{}}}", "(".repeat(n), ")".repeat(n));
    assert!(too_deep.len() < MAX_PATTERN_CHARS);
    let err = FilterPattern::new(&too_deep).unwrap_err();
    assert!(err.message.contains("nest deeper"), "{err}");
    let n = MAX_NESTING;
    let ok = format!("{{{}$.a=1{}}}", "(".repeat(n), ")".repeat(n));
    let p = FilterPattern::new(&ok).unwrap();
    assert!(p.matches_text(r#"{"a":1}"#));
    let ok = format!("[{}a=x{}]", "(".repeat(n), ")".repeat(n));
    assert!(FilterPattern::new(&ok).unwrap().matches_text("x"));
}

#[test]
fn megabyte_messages() {
    let big = "x".repeat(1 << 20);
    let mut json_big = String::from(r#"{"a":""#);
    json_big.push_str(&big);
    json_big.push_str(r#"","b":1}"#);
    for (pattern, message, want) in [
        ("ERROR", big.as_str(), false),
        ("%x$%", big.as_str(), true),
        ("[a, b]", big.as_str(), false),
        ("{ $.b = 1 }", json_big.as_str(), true),
        ("{ $.a = *y }", json_big.as_str(), false),
        ("{ $.a = %^x+$% }", json_big.as_str(), true),
    ] {
        let p = FilterPattern::new(pattern).unwrap();
        assert_eq!(p.matches_text(message), want, "{pattern}");
    }
    let spaced = "a ".repeat(1 << 19);
    assert!(FilterPattern::new("[...]").unwrap().matches_text(&spaced));
    assert_eq!(
        FilterPattern::new("[a, ..., b]")
            .unwrap()
            .test(&spaced)
            .map(|f| f.len()),
        Some(1 << 19)
    );
}

#[test]
fn deeply_nested_json_message_is_not_json() {
    let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    let p = FilterPattern::new("{ $[0] = 1 }").unwrap();
    assert!(!p.matches_text(&deep));
}

#[test]
fn catastrophic_looking_regex() {
    // Exponential for a backtracking engine; linear here.
    let p = FilterPattern::new("%^a*a*a*a*a*a*a*a*a*a*b$%").unwrap();
    assert!(!p.matches_text(&"a".repeat(100_000)));
    let p = FilterPattern::new("%(a|aa)+$%");
    assert!(p.is_err(), "groups are refused as AWS refuses them");
    let p = FilterPattern::new("%^[a-z]*[a-z]*[a-z]*[a-z]*!%");
    assert!(p.is_err());
    // Expressions whose matching could be slow are refused with an error, not built: a
    // repetition of a repetition, or more than 1,000 counted repeats.
    let p = FilterPattern::new("%a{1000}{1000}%").unwrap_err();
    assert!(
        p.message.contains("cannot repeat another repetition"),
        "{p}"
    );
    let p = FilterPattern::new("%a{1,3000}@%").unwrap_err();
    assert!(p.message.contains("at most 1000 repeats"), "{p}");
    // At the budget, a hostile megabyte is matched in linear time.
    let p = FilterPattern::new("%a{1,1000}b%").unwrap();
    assert!(!p.matches_text(&"a".repeat(1_000_000)));
}
