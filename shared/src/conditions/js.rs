//! JavaScript value semantics that json-rules-engine's operators rely on: strict equality,
//! `ToString`, `ToNumber`, `parseFloat` and the abstract relational comparison.
//!
//! A fact is a JSON value or JavaScript's `undefined` (`None`).

use serde_json::Value;

/// `a === b`. Arrays and objects compare by reference: two borrows of the same node are equal,
/// anything else is not.
pub fn strict_eq(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(Value::Null), Some(Value::Null)) => true,
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x == y,
        (Some(Value::Number(x)), Some(Value::Number(y))) => x.as_f64() == y.as_f64(),
        (Some(Value::String(x)), Some(Value::String(y))) => x == y,
        (Some(x @ (Value::Array(_) | Value::Object(_))), Some(y)) => std::ptr::eq(x, y),
        _ => false,
    }
}

/// `ToString(v)`.
pub fn to_string(v: Option<&Value>) -> String {
    match v {
        None => "undefined".into(),
        Some(Value::Null) => "null".into(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => number_to_string(n.as_f64().unwrap_or(f64::NAN)),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                // Array.prototype.join writes null and undefined as empty strings.
                Value::Null => String::new(),
                other => to_string(Some(other)),
            })
            .collect::<Vec<_>>()
            .join(","),
        Some(Value::Object(_)) => "[object Object]".into(),
    }
}

/// `Number.prototype.toString()`: shortest round-trip digits, decimal notation for exponents
/// from -7 to 20, otherwise `d.ddde+X`.
pub fn number_to_string(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let sign = if x < 0.0 { "-" } else { "" };
    // Rust's `{:e}` gives the shortest round-trip digits: "1.2345e3".
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let k = digits.len() as i32;
    let n = exp + 1; // position of the decimal point relative to the digits
    let body = if (k..=21).contains(&n) {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let e = n - 1;
        let e = if e >= 0 {
            format!("+{e}")
        } else {
            e.to_string()
        };
        if k == 1 {
            format!("{digits}e{e}")
        } else {
            format!("{}.{}e{e}", &digits[..1], &digits[1..])
        }
    };
    format!("{sign}{body}")
}

/// Whitespace and line terminators that JavaScript trims from numeric strings.
fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\u{9}' | '\u{a}' | '\u{b}' | '\u{c}' | '\u{d}' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// The length of the longest prefix of `s` that is a `StrDecimalLiteral` (with sign), and its
/// value.
fn decimal_prefix(s: &str) -> Option<(usize, f64)> {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    if s[i..].starts_with("Infinity") {
        let end = i + "Infinity".len();
        let v = if b[0] == b'-' {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
        return Some((end, v));
    }
    let int_start = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let mut digits = i - int_start;
    if b.get(i) == Some(&b'.') {
        let dot = i;
        i += 1;
        let f = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        digits += i - f;
        if digits == 0 {
            i = dot;
        }
    }
    if digits == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let e = j;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        if j > e {
            i = j;
        }
    }
    let text = &s[..i];
    // Rust's parser accepts exactly these forms (a trailing '.' needs help).
    let v = text.strip_suffix('.').unwrap_or(text).parse::<f64>().ok()?;
    Some((i, v))
}

/// `parseFloat(ToString(v))`.
pub fn parse_float(v: Option<&Value>) -> f64 {
    let s = to_string(v);
    let t = s.trim_start_matches(is_js_space);
    decimal_prefix(t).map_or(f64::NAN, |(_, v)| v)
}

/// `ToNumber(v)`.
pub fn to_number(v: Option<&Value>) -> f64 {
    match v {
        None => f64::NAN,
        Some(Value::Null) => 0.0,
        Some(Value::Bool(b)) => f64::from(u8::from(*b)),
        Some(Value::Number(n)) => n.as_f64().unwrap_or(f64::NAN),
        Some(Value::String(s)) => string_to_number(s),
        Some(a @ Value::Array(_)) => string_to_number(&to_string(Some(a))),
        Some(Value::Object(_)) => f64::NAN,
    }
}

fn string_to_number(s: &str) -> f64 {
    let t = s.trim_matches(is_js_space);
    if t.is_empty() {
        return 0.0;
    }
    for (prefix, radix) in [
        ("0x", 16),
        ("0X", 16),
        ("0o", 8),
        ("0O", 8),
        ("0b", 2),
        ("0B", 2),
    ] {
        if let Some(digits) = t.strip_prefix(prefix) {
            if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
                return f64::NAN;
            }
            return digits.chars().fold(0.0, |acc, c| {
                acc * f64::from(radix) + f64::from(c.to_digit(radix).unwrap_or(0))
            });
        }
    }
    match decimal_prefix(t) {
        Some((n, v)) if n == t.len() => v,
        _ => f64::NAN,
    }
}

/// `ToPrimitive` for comparisons: arrays and objects become their strings.
fn to_primitive(v: Option<&Value>) -> Option<Value> {
    match v {
        Some(a @ (Value::Array(_) | Value::Object(_))) => Some(Value::String(to_string(Some(a)))),
        other => other.cloned(),
    }
}

/// The outcome of `a < b`-style comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rel {
    Lt,
    Le,
    Gt,
    Ge,
}

/// JavaScript's abstract relational comparison: two strings compare by UTF-16 code units,
/// anything else as numbers; NaN makes every comparison false.
pub fn relational(a: Option<&Value>, b: Option<&Value>, op: Rel) -> bool {
    let (pa, pb) = (to_primitive(a), to_primitive(b));
    if let (Some(Value::String(x)), Some(Value::String(y))) = (&pa, &pb) {
        let ord = x.encode_utf16().cmp(y.encode_utf16());
        return match op {
            Rel::Lt => ord.is_lt(),
            Rel::Le => ord.is_le(),
            Rel::Gt => ord.is_gt(),
            Rel::Ge => ord.is_ge(),
        };
    }
    let (x, y) = (to_number(pa.as_ref()), to_number(pb.as_ref()));
    match op {
        Rel::Lt => x < y,
        Rel::Le => x <= y,
        Rel::Gt => x > y,
        Rel::Ge => x >= y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn number_to_string_as_javascript_writes_it() {
        for (x, s) in [
            (0.0, "0"),
            (1.0, "1"),
            (-1.5, "-1.5"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (123456789012345680000.0, "123456789012345680000"),
            (1e-7, "1e-7"),
            (0.000001, "0.000001"),
            (1.5e-10, "1.5e-10"),
            (2.5e25, "2.5e+25"),
            (f64::INFINITY, "Infinity"),
        ] {
            assert_eq!(number_to_string(x), s, "{x}");
        }
    }

    #[test]
    fn to_number_and_parse_float() {
        let n = |v: Value| to_number(Some(&v));
        assert_eq!(n(json!("  12 ")), 12.0);
        assert_eq!(n(json!("")), 0.0);
        assert_eq!(n(json!("0x10")), 16.0);
        assert!(n(json!("10abc")).is_nan());
        assert!(n(json!("-0x10")).is_nan());
        assert_eq!(n(json!("1e3")), 1000.0);
        assert_eq!(n(json!(".5")), 0.5);
        assert_eq!(n(json!("5.")), 5.0);
        assert_eq!(n(json!([4])), 4.0);
        assert!(n(json!([1, 2])).is_nan());
        assert_eq!(n(json!(null)), 0.0);
        assert_eq!(n(json!(true)), 1.0);
        assert!(to_number(None).is_nan());
        let p = |v: Value| parse_float(Some(&v));
        assert_eq!(p(json!("10abc")), 10.0);
        assert_eq!(p(json!("0x10")), 0.0);
        assert_eq!(p(json!("2019-11-03T10:00:00Z")), 2019.0);
        assert_eq!(p(json!("  -Infinity")), f64::NEG_INFINITY);
        assert_eq!(p(json!([1, 2])), 1.0);
        assert!(p(json!("abc")).is_nan());
        assert!(p(json!(true)).is_nan());
        assert!(parse_float(None).is_nan());
    }

    #[test]
    fn relational_comparison() {
        let r = |a: Value, b: Value, op| relational(Some(&a), Some(&b), op);
        assert!(r(json!("0759"), json!("0800"), Rel::Lt));
        assert!(r(json!("10"), json!("9"), Rel::Lt));
        assert!(!r(json!("800"), json!("0800"), Rel::Lt));
        assert!(r(json!("10"), json!(9), Rel::Gt));
        assert!(!r(json!("10abc"), json!(9), Rel::Gt));
        assert!(r(json!(5), json!(null), Rel::Gt));
        assert!(r(json!("1\u{ff61}"), json!("1😀"), Rel::Gt));
        assert!(
            r(json!([10]), json!("9"), Rel::Lt),
            "arrays compare as their strings"
        );
    }

    #[test]
    fn strings_of_values() {
        assert_eq!(to_string(Some(&json!([1, null, "a", [2, 3]]))), "1,,a,2,3");
        assert_eq!(to_string(Some(&json!({"a": 1}))), "[object Object]");
        assert_eq!(to_string(None), "undefined");
    }
}
