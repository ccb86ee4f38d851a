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
    while i < bytes.len() {
        let b = bytes[i];
        let at = offset + i;
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
            b'{' if !in_class && bytes.get(i + 1) == Some(&b',') => {
                out.push_str("{0");
                i += 1;
                continue;
            }
            _ => {}
        }
        out.push(b as char);
        i += 1;
    }
    Ok(out)
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
    fn huge_repetition_is_a_bounded_error() {
        let err = AwsRegex::compile("a{1000}{1000}{1000}", 5).unwrap_err();
        assert_eq!(err.offset, 5);
        assert!(err.message.starts_with("invalid regex"), "{err}");
    }
}
