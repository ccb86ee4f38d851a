//! Comparing one literal with one value, shared by JSON and space-delimited patterns.

use super::ast::{Op, Value};
use super::error::PatternError;
use super::parse::parse_number;
use super::regex::AwsRegex;

/// A string literal with its `*` wildcards resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TextMatch {
    /// `*` alone: any value.
    Any,
    Exact(Box<str>),
    /// `abc*`
    Prefix(Box<str>),
    /// `*abc`
    Suffix(Box<str>),
    /// `*abc*`
    Contains(Box<str>),
}

impl TextMatch {
    /// A `*` at the start or end is a wildcard matching zero or more characters; a `*`
    /// anywhere else is literal, as the filter pattern documentation says.
    pub(crate) fn new(text: &str) -> Self {
        if text.bytes().all(|b| b == b'*') && !text.is_empty() {
            return TextMatch::Any;
        }
        let lead = text.starts_with('*');
        let trail = text.ends_with('*');
        let inner = &text[usize::from(lead)..text.len() - usize::from(trail)];
        match (lead, trail) {
            (false, false) => TextMatch::Exact(text.into()),
            (false, true) => TextMatch::Prefix(inner.into()),
            (true, false) => TextMatch::Suffix(inner.into()),
            (true, true) => TextMatch::Contains(inner.into()),
        }
    }

    #[inline]
    pub(crate) fn matches(&self, s: &str) -> bool {
        match self {
            TextMatch::Any => true,
            TextMatch::Exact(t) => s == &**t,
            TextMatch::Prefix(t) => s.starts_with(&**t),
            TextMatch::Suffix(t) => s.ends_with(&**t),
            TextMatch::Contains(t) => memchr::memmem::find(s.as_bytes(), t.as_bytes()).is_some(),
        }
    }
}

/// The right-hand side of a comparison, ready to test values.
#[derive(Debug, Clone)]
pub(crate) enum Literal {
    Text(TextMatch),
    Number { value: f64, text: Box<str> },
    Regex(AwsRegex),
}

impl Literal {
    pub(crate) fn compile(value: &Value, offset: usize) -> Result<Self, PatternError> {
        Ok(match value {
            Value::Text { text, .. } => Literal::Text(TextMatch::new(text)),
            Value::Number { value, text } => Literal::Number {
                value: *value,
                text: text.as_str().into(),
            },
            // The regex body starts one byte after the opening '%'.
            Value::Regex(body) => Literal::Regex(AwsRegex::compile(body, offset + 1)?),
        })
    }

    pub(crate) fn is_regex(&self) -> bool {
        matches!(self, Literal::Regex(_))
    }
}

/// Alternatives joined by `||` on one selector with `=`: exact strings go in a set that
/// answers with a length check and a binary search, the rest are tried one by one.
#[derive(Debug, Clone)]
pub(crate) struct AnyOf {
    /// Bit `n` set: some exact literal is `n` bytes long (bit 63: 63 or more).
    lengths: u64,
    exact: Box<[Box<str>]>,
    rest: Box<[Literal]>,
}

impl AnyOf {
    pub(crate) fn new(literals: Vec<Literal>) -> Self {
        let mut exact = Vec::new();
        let mut rest = Vec::new();
        for l in literals {
            match l {
                Literal::Text(TextMatch::Exact(t)) => exact.push(t),
                other => rest.push(other),
            }
        }
        exact.sort();
        exact.dedup();
        let lengths = exact.iter().fold(0, |m, t| m | length_bit(t.len()));
        Self {
            lengths,
            exact: exact.into(),
            rest: rest.into(),
        }
    }

    #[inline]
    pub(crate) fn matches(&self, value: Scalar<'_>) -> bool {
        (self.lengths != 0
            && value.with_text(|s| {
                self.lengths & length_bit(s.len()) != 0
                    && self.exact.binary_search_by(|t| (**t).cmp(s)).is_ok()
            }))
            || self.rest.iter().any(|l| compare(Op::Eq, l, value))
    }
}

#[inline]
fn length_bit(len: usize) -> u64 {
    1 << len.min(63)
}

/// A scalar taken from an event: a string, or a JSON number with its text.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scalar<'a> {
    Str(&'a str),
    Num(&'a serde_json::Number),
}

impl Scalar<'_> {
    fn number(&self) -> Option<f64> {
        match self {
            Scalar::Str(s) => parse_number(s),
            Scalar::Num(n) => n.as_f64(),
        }
    }

    fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        match self {
            Scalar::Str(s) => f(s),
            Scalar::Num(n) => f(&n.to_string()),
        }
    }
}

/// Whether `op literal` holds for `value`.
///
/// - Text and regex literals test the value's text (a JSON number's text is its digits, so
///   `= 4*` matches 404).
/// - A number literal compares numerically when the value is a number or a string holding
///   one (`"400"`); otherwise `=` and `!=` compare the text as written.
/// - `<`, `>`, `<=`, `>=` hold only between numbers (the parser admits only number literals).
#[inline]
pub(crate) fn compare(op: Op, literal: &Literal, value: Scalar<'_>) -> bool {
    match literal {
        Literal::Text(m) => {
            let hit = value.with_text(|s| m.matches(s));
            match op {
                Op::Eq => hit,
                Op::Ne => !hit,
                _ => false,
            }
        }
        Literal::Regex(re) => {
            let hit = value.with_text(|s| re.is_match(s));
            match op {
                Op::Eq => hit,
                Op::Ne => !hit,
                _ => false,
            }
        }
        Literal::Number { value: want, text } => match value.number() {
            Some(have) => match op {
                Op::Eq => have == *want,
                Op::Ne => have != *want,
                Op::Lt => have < *want,
                Op::Gt => have > *want,
                Op::Le => have <= *want,
                Op::Ge => have >= *want,
            },
            None => match op {
                Op::Eq => value.with_text(|s| s == &**text),
                Op::Ne => value.with_text(|s| s != &**text),
                _ => false,
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_at_the_ends_only() {
        let cases = [
            ("*Event", "PutEvent", true),
            ("*Event", "EventId", false),
            ("Event*", "EventName", true),
            ("Ev*ent", "Ev*ent", true),
            ("Ev*ent", "Event", false),
            ("AccessDenied*", "AccessDenied", true),
            ("*html*", "index.html?x", true),
            ("*", "", true),
            ("", "", true),
            ("", "x", false),
        ];
        for (lit, s, want) in cases {
            assert_eq!(TextMatch::new(lit).matches(s), want, "{lit} vs {s}");
        }
    }
}
