//! Space-delimited patterns: `[ip, user, ..., status_code = 4*, bytes > 1000]`.

use super::ast::{Entry, EntryKind, FieldCondition, Op};
use super::error::PatternError;
use super::expr::Node;
use super::json::MAX_REGEX;
use super::value::{compare, Literal, Scalar};

/// Values extracted from a message, as TestMetricFilter reports them: `$name` for named
/// fields, `$N` (1-based position in the message) for the others.
pub type Fields = Vec<(String, String)>;

#[derive(Debug, Clone)]
struct FieldSpec {
    name: Option<Box<str>>,
    condition: Option<Node<(Op, Literal)>>,
}

#[derive(Debug, Clone)]
pub(crate) struct DelimitedMatcher {
    /// Entries bound to the first fields of the message.
    head: Vec<FieldSpec>,
    /// With an ellipsis: entries bound to the last fields.
    tail: Option<Vec<FieldSpec>>,
}

impl DelimitedMatcher {
    pub(crate) fn compile(entries: &[Entry]) -> Result<Self, PatternError> {
        let mut regexes = 0;
        let mut head = Vec::new();
        let mut tail: Option<Vec<FieldSpec>> = None;
        for entry in entries {
            let (name, condition) = match &entry.kind {
                EntryKind::Ellipsis => {
                    tail = Some(Vec::new());
                    continue;
                }
                EntryKind::Field { name, condition } => (name, condition),
            };
            let condition = match condition {
                None => None,
                Some(expr) => Some(Node::compile(expr, &mut |c: &FieldCondition| {
                    let literal = Literal::compile(&c.value, c.value_span.start)?;
                    if literal.is_regex() {
                        regexes += 1;
                        if regexes > MAX_REGEX {
                            return Err(PatternError::new(
                                c.value_span.start,
                                format!("a space-delimited filter pattern may contain at most {MAX_REGEX} regular expressions"),
                            ));
                        }
                    }
                    Ok((c.op, literal))
                })?),
            };
            let spec = FieldSpec {
                name: name.as_deref().map(Into::into),
                condition,
            };
            match &mut tail {
                Some(t) => t.push(spec),
                None => head.push(spec),
            }
        }
        Ok(Self { head, tail })
    }

    /// Matches `text`; on a match returns the extracted fields when `extract` is set
    /// (an empty list otherwise).
    pub(crate) fn run(&self, text: &str, extract: bool) -> Option<Fields> {
        let fields = split_fields(text);
        let mut out = Vec::new();
        let mut bind = |spec: &FieldSpec, pos: usize, value: &str| -> bool {
            if let Some(cond) = &spec.condition {
                if !cond.eval(&mut |(op, lit)| compare(*op, lit, Scalar::Str(value))) {
                    return false;
                }
            }
            if extract {
                let key = match &spec.name {
                    Some(n) => format!("${n}"),
                    None => format!("${pos}"),
                };
                out.push((key, value.to_string()));
            }
            true
        };
        let n = fields.len();
        match &self.tail {
            None if self.head.is_empty() => {
                if extract {
                    for (i, f) in fields.iter().enumerate() {
                        out.push((format!("${}", i + 1), f.value(text).to_string()));
                    }
                }
            }
            None => {
                let k = self.head.len();
                if n < k {
                    return None;
                }
                for (i, spec) in self.head.iter().enumerate() {
                    // The last entry takes the rest of the line when fields outnumber entries.
                    let value = if i == k - 1 && n > k {
                        text[fields[i].start..fields[n - 1].end].trim_end()
                    } else {
                        fields[i].value(text)
                    };
                    if !bind(spec, i + 1, value) {
                        return None;
                    }
                }
            }
            Some(tail) => {
                let (h, t) = (self.head.len(), tail.len());
                if n < h + t {
                    return None;
                }
                for (i, spec) in self.head.iter().enumerate() {
                    if !bind(spec, i + 1, fields[i].value(text)) {
                        return None;
                    }
                }
                for (j, spec) in tail.iter().enumerate() {
                    let i = n - t + j;
                    if !bind(spec, i + 1, fields[i].value(text)) {
                        return None;
                    }
                }
                if extract {
                    for (i, f) in fields.iter().enumerate().take(n - t).skip(h) {
                        out.push((format!("${}", i + 1), f.value(text).to_string()));
                    }
                    out.sort_by_key(|(k, _)| field_order(k, &fields, &self.head, tail));
                }
            }
        }
        Some(out)
    }
}

/// Keeps extracted fields in message order: named entries sit at their bound position.
fn field_order(key: &str, fields: &[Field], head: &[FieldSpec], tail: &[FieldSpec]) -> usize {
    if let Ok(pos) = key[1..].parse::<usize>() {
        return pos;
    }
    let name = &key[1..];
    if let Some(i) = head.iter().position(|s| s.name.as_deref() == Some(name)) {
        return i + 1;
    }
    tail.iter()
        .position(|s| s.name.as_deref() == Some(name))
        .map_or(usize::MAX, |j| fields.len() - tail.len() + j + 1)
}

/// One field of a message: `start..end` is the raw text, delimiters included.
#[derive(Debug, Clone, Copy)]
struct Field {
    start: usize,
    end: usize,
    /// Whether the field was wrapped in `[]` or `""` (dropped from its value).
    wrapped: bool,
}

impl Field {
    fn value<'t>(&self, text: &'t str) -> &'t str {
        if self.wrapped {
            let inner_end = if self.end - self.start >= 2
                && matches!(text.as_bytes()[self.end - 1], b']' | b'"')
            {
                self.end - 1
            } else {
                self.end
            };
            &text[self.start + 1..inner_end]
        } else {
            &text[self.start..self.end]
        }
    }
}

/// Splits on runs of blanks; text between `[` and `]` or between double quotes is one field.
fn split_fields(text: &str) -> Vec<Field> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(8);
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let close = match b[i] {
            b'[' => Some(b']'),
            b'"' => Some(b'"'),
            _ => None,
        };
        match close {
            Some(c) => {
                // An unclosed group runs to the end of the line.
                i = memchr::memchr(c, &b[i + 1..]).map_or(b.len(), |n| i + 1 + n + 1);
            }
            None => {
                while i < b.len() && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
            }
        }
        out.push(Field {
            start,
            end: i,
            wrapped: close.is_some(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_and_quotes_make_one_field() {
        let t = r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#;
        let f: Vec<_> = split_fields(t).iter().map(|f| f.value(t)).collect();
        assert_eq!(
            f,
            [
                "127.0.0.1",
                "-",
                "frank",
                "10/Oct/2000:13:25:15 -0700",
                "GET /apache_pb.gif HTTP/1.0",
                "200",
                "1534"
            ]
        );
    }

    #[test]
    fn unclosed_group_runs_to_the_end() {
        let t = "a [b c";
        let f: Vec<_> = split_fields(t).iter().map(|f| f.value(t)).collect();
        assert_eq!(f, ["a", "b c"]);
    }
}
