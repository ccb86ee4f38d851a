//! The regular-expression dialect of filter patterns (`%...%`).
//!
//! AWS accepts a narrow character set and no groups. We check that set ourselves so that a
//! pattern refused by CloudWatch is refused here too, then hand the text to the `regex` crate,
//! whose matching time is linear in the input whatever the expression.

use super::error::PatternError;
use regex::bytes::{Regex, RegexBuilder};

/// Symbols AWS lists as allowed in a filter-pattern regex, besides ASCII letters and digits.
/// The space is not listed, but AWS's own example `%^starting|^shutting down%` uses one.
const ALLOWED_SYMBOLS: &[u8] = b":_#=@/;,-^$?[]{}|\\*+. ";

/// Letters that may follow a backslash: the documented classes and `\xhh`.
const CLASS_ESCAPES: &[u8] = b"dDsSwW";

/// The matching-cost budget: the counted repetitions of one regex (`{m,n}`, counting `n`, or
/// `m` when `n` is open) may allow at most this many repeats in all. Matching time grows with
/// the repeats a counted repetition allows: up to 1,000 a regex matches a 3 MB hostile message
/// in under 0.1 s, while `a{1,3000}` takes over a minute on it (docs/filter-patterns.md).
pub const MAX_REPEATS: u32 = 1000;

/// Compiled state for one regex, small enough to be reused across many messages.
#[derive(Debug, Clone)]
pub struct AwsRegex {
    re: Regex,
}

impl AwsRegex {
    /// Validates `body` (the text between the `%` signs, which starts at byte `offset` of the
    /// pattern) and compiles it.
    pub fn compile(body: &str, offset: usize) -> Result<Self, PatternError> {
        if body.is_empty() {
            return Err(PatternError::new(
                offset,
                "empty regex: write something between the '%' signs",
            ));
        }
        let translated = translate(body, offset)?;
        let re = RegexBuilder::new(&translated)
            // AWS regexes are ASCII-only; `\w`, `\d` and `\s` are the ASCII classes.
            .unicode(false)
            // Bound compile time and memory for expressions like `a{1000}{1000}`.
            .size_limit(1 << 20)
            .dfa_size_limit(1 << 21)
            .build()
            .map_err(|e| {
                let detail = e.to_string();
                let last = detail
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("")
                    .trim()
                    .trim_start_matches("error: ");
                PatternError::new(offset, format!("invalid regex: {last}"))
            })?;
        Ok(Self { re })
    }

    /// Unanchored search, as CloudWatch does unless `^` or `$` say otherwise.
    #[inline]
    pub fn is_match(&self, text: &str) -> bool {
        self.re.is_match(text.as_bytes())
    }
}

/// Checks AWS's character rules and rewrites the two spellings the `regex` crate reads
/// differently: `{,n}` (AWS: "either m or n can be omitted") becomes `{0,n}`.
fn translate(body: &str, offset: usize) -> Result<String, PatternError> {
    let bytes = body.as_bytes();
    let mut out = String::with_capacity(body.len() + 4);
    let mut i = 0;
    let mut in_class = false;
    // The repeats the counted repetitions allow so far, and whether the last thing read was
    // a repetition operator (a repetition of a repetition multiplies the cost).
    let mut repeats = 0u32;
    let mut after_repetition = false;
    while i < bytes.len() {
        let b = bytes[i];
        let at = offset + i;
        if !in_class && b == b'{' {
            if after_repetition {
                return Err(PatternError::new(
                    at,
                    "a counted repetition cannot repeat another repetition: write one count",
                ));
            }
            if let Some((len, most)) = counted(&bytes[i..]) {
                if most > MAX_REPEATS || repeats + most > MAX_REPEATS {
                    return Err(PatternError::new(
                        at,
                        format!(
                            "counted repetitions may allow at most {MAX_REPEATS} repeats in one regex, to bound matching time; this one brings them to {}",
                            u64::from(repeats) + u64::from(most)
                        ),
                    ));
                }
                repeats += most;
                // `{,n}` (AWS: "either m or n can be omitted") is `{0,n}` to the regex crate.
                out.push('{');
                if bytes.get(i + 1) == Some(&b',') {
                    out.push('0');
                }
                out.push_str(&body[i + 1..i + len]);
                i += len;
                after_repetition = true;
                continue;
            }
        }
        if !in_class && matches!(b, b'*' | b'+') && after_repetition {
            return Err(PatternError::new(
                at,
                "a repetition cannot repeat another repetition: write one",
            ));
        }
        // `?` after a repetition makes it lazy; it is not a repetition of its own.
        let lazy = after_repetition && b == b'?';
        after_repetition = !in_class && !lazy && matches!(b, b'*' | b'+' | b'?');
        if !b.is_ascii() {
            return Err(PatternError::new(
                at,
                "multi-byte characters are not supported in a regex; match ASCII only",
            ));
        }
        if b == b'(' || b == b')' {
            return Err(PatternError::new(
                at,
                "parentheses are not supported in a regex; use \\x28 for '(' and \\x29 for ')'",
            ));
        }
        if !(b.is_ascii_alphanumeric() || ALLOWED_SYMBOLS.contains(&b)) {
            let shown = if b.is_ascii_graphic() {
                format!("'{}'", b as char)
            } else {
                format!("byte 0x{b:02x}")
            };
            return Err(PatternError::new(
                at,
                format!("{shown} is not supported in a regex; write \\x{b:02x} to match it"),
            ));
        }
        match b {
            b'\\' => {
                let Some(&next) = bytes.get(i + 1) else {
                    return Err(PatternError::new(at, "regex ends with a lone '\\'"));
                };
                if next.is_ascii_alphanumeric() {
                    if next == b'x' {
                        let hex = bytes.get(i + 2..i + 4);
                        if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                            return Err(PatternError::new(
                                at,
                                "expected two hex digits after '\\x'",
                            ));
                        }
                        out.push_str(&body[i..i + 4]);
                        i += 4;
                        continue;
                    }
                    if !CLASS_ESCAPES.contains(&next) {
                        return Err(PatternError::new(
                            at,
                            format!(
                                "'\\{}' is not a supported escape; use \\d \\D \\s \\S \\w \\W or \\xhh",
                                next as char
                            ),
                        ));
                    }
                } else if !(ALLOWED_SYMBOLS.contains(&next)) {
                    // The escaped character itself must be allowed (e.g. `\(` is not).
                    return Err(PatternError::new(
                        at + 1,
                        format!(
                            "'{}' is not supported in a regex; write \\x{next:02x} to match it",
                            next as char
                        ),
                    ));
                }
                out.push('\\');
                out.push(next as char);
                i += 2;
                continue;
            }
            b'[' if !in_class => in_class = true,
            b']' if in_class => in_class = false,
            _ => {}
        }
        out.push(b as char);
        i += 1;
    }
    Ok(out)
}

/// A counted repetition at the start of `b` (`{m}`, `{m,}`, `{m,n}`, `{,n}`): its length and
/// the most repeats it allows (`m` when open-ended). `None` when `b` does not start with one
/// (the regex crate reports the error).
fn counted(b: &[u8]) -> Option<(usize, u32)> {
    let close = b.iter().position(|&c| c == b'}')?;
    let inner = std::str::from_utf8(&b[1..close]).ok()?;
    let number = |s: &str| -> Option<u32> {
        if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        // A count too large for u32 is over any budget.
        Some(s.parse::<u32>().unwrap_or(u32::MAX))
    };
    let most = match inner.split_once(',') {
        None => number(inner)?,
        Some((m, "")) => number(m)?,
        Some(("", n)) => number(n)?,
        Some((m, n)) => number(m)?.max(number(n)?),
    };
    Some((close + 1, most))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(s: &str) -> AwsRegex {
        AwsRegex::compile(s, 0).unwrap()
    }

    #[test]
    fn omitted_lower_bound_means_zero() {
        let r = re("^a{,2}b$");
        assert!(r.is_match("b"));
        assert!(r.is_match("aab"));
        assert!(!r.is_match("aaab"));
    }

    #[test]
    fn rejects_what_aws_rejects() {
        for (body, offset) in [
            ("something!", 9),
            ("a(b)", 1),
            ("\\(", 1),
            ("é", 0),
            ("a\\q", 1),
        ] {
            let err = AwsRegex::compile(body, 0).unwrap_err();
            assert_eq!(err.offset, offset, "{body}: {err}");
        }
    }

    #[test]
    fn hex_escapes_reach_other_symbols() {
        assert!(re("\\x3A").is_match("a:b"));
        assert!(re("\\x28").is_match("f(x)"));
        assert!(AwsRegex::compile("\\x3", 0).is_err());
    }

    #[test]
    fn repetitions_are_held_to_the_cost_budget() {
        for (body, at, says) in [
            ("a{1,3000}@", 1, "at most 1000 repeats"),
            ("a{1001}", 1, "brings them to 1001"),
            ("a{2000,}", 1, "brings them to 2000"),
            ("a{,1001}", 1, "at most 1000"),
            ("a{600}b{1,401}", 7, "brings them to 1001"),
            ("a{99999999999}", 1, "at most 1000"),
            ("a{10}{10}", 5, "cannot repeat another repetition"),
            ("a{1000}{1000}{1000}", 7, "cannot repeat another repetition"),
            ("a*{5}", 2, "cannot repeat another repetition"),
            ("a{5}*", 4, "cannot repeat another repetition"),
            ("a++", 2, "cannot repeat another repetition"),
        ] {
            let err = AwsRegex::compile(body, 0).unwrap_err();
            assert_eq!(err.offset, at, "{body}: {err}");
            assert!(err.message.contains(says), "{body}: {err}");
        }
        // Within the budget, lazy forms, and braces inside a class are fine.
        for body in [
            "a{1,1000}@",
            "a{500}b{,500}",
            "a{1,3}?b",
            "a*?b+?",
            "[{}]{2}",
            "\\{",
        ] {
            assert!(AwsRegex::compile(body, 0).is_ok(), "{body}");
        }
        assert!(re("^a{,2}b$").is_match("aab"));
    }
}
