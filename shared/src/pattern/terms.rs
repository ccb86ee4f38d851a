//! Unstructured term patterns: `ERROR`, `"exact phrase"`, `?a ?b`, `-excluded`, `%regex%`.

use super::ast::{Term, TermMode, TermValue};
use super::error::PatternError;
use super::regex::AwsRegex;
use memchr::memmem::Finder;

#[derive(Debug, Clone)]
enum Needle {
    /// A blank term such as `" "`: AWS documents it as matching everything.
    Always,
    Text(Box<Finder<'static>>),
    Regex(AwsRegex),
}

impl Needle {
    #[inline]
    fn found_in(&self, text: &str) -> bool {
        match self {
            Needle::Always => true,
            Needle::Text(f) => f.find(text.as_bytes()).is_some(),
            Needle::Regex(re) => re.is_match(text),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct TermsMatcher {
    required: Vec<Needle>,
    excluded: Vec<Needle>,
    /// Empty unless the pattern is made of `?` terms alone.
    any_of: Vec<Needle>,
}

impl TermsMatcher {
    pub(crate) fn compile(terms: &[Term]) -> Result<Self, PatternError> {
        let mut m = TermsMatcher {
            required: Vec::new(),
            excluded: Vec::new(),
            any_of: Vec::new(),
        };
        for term in terms {
            let needle = match &term.value {
                TermValue::Text(t) if t.trim().is_empty() => Needle::Always,
                TermValue::Text(t) => {
                    Needle::Text(Box::new(Finder::new(t.as_bytes()).into_owned()))
                }
                TermValue::Regex(body) => {
                    let body_at =
                        term.span.start + usize::from(term.mode != TermMode::Required) + 1;
                    Needle::Regex(AwsRegex::compile(body, body_at)?)
                }
            };
            match term.mode {
                TermMode::Required => m.required.push(needle),
                TermMode::Excluded => m.excluded.push(needle),
                TermMode::Optional => m.any_of.push(needle),
            }
        }
        // "If you combine ? with other filter patterns, all question mark terms will be ignored."
        if !m.required.is_empty() || !m.excluded.is_empty() {
            m.any_of.clear();
        }
        Ok(m)
    }

    #[inline]
    pub(crate) fn is_match(&self, text: &str) -> bool {
        self.required.iter().all(|n| n.found_in(text))
            && !self.excluded.iter().any(|n| n.found_in(text))
            && (self.any_of.is_empty() || self.any_of.iter().any(|n| n.found_in(text)))
    }
}
