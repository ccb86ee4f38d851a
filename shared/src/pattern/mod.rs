//! CloudWatch Logs filter patterns, evaluated as CloudWatch Logs evaluates them.
//!
//! ```
//! use iamwatch::pattern::FilterPattern;
//!
//! let p: FilterPattern = r#"{ ($.eventSource = "iam.amazonaws.com") && ($.eventName = "Create*") }"#
//!     .parse()
//!     .unwrap();
//! assert!(p.matches_text(r#"{"eventSource":"iam.amazonaws.com","eventName":"CreateUser"}"#));
//! assert!(!p.matches_text(r#"{"eventSource":"iam.amazonaws.com","eventName":"GetUser"}"#));
//! ```
//!
//! Patterns compile once (`parse` builds an [`ast::Pattern`], then a matcher) and match many
//! messages. A [`Message`] carries the text, the parsed JSON, or both, and produces the other
//! lazily, so one parsed record can be tested against many patterns without parsing it again.

pub mod ast;
mod delimited;
mod error;
mod expr;
mod json;
mod lookup;
mod parse;
mod regex;
mod terms;
mod value;

pub use delimited::Fields;
pub use error::PatternError;
pub use parse::{MAX_NESTING, MAX_PATTERN_CHARS};

use delimited::DelimitedMatcher;
use json::JsonMatcher;
use lookup::PathMemo;
use serde_json::Value;
use std::cell::OnceCell;
use std::fmt;
use std::str::FromStr;
use terms::TermsMatcher;

/// Which of the filter pattern sub-languages a pattern is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternKind {
    /// Empty or blank: matches every event.
    MatchAll,
    Terms,
    Json,
    Delimited,
}

impl PatternKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PatternKind::MatchAll => "match-all",
            PatternKind::Terms => "terms",
            PatternKind::Json => "json",
            PatternKind::Delimited => "space-delimited",
        }
    }
}

#[derive(Debug, Clone)]
enum Matcher {
    All,
    Terms(TermsMatcher),
    Json(JsonMatcher),
    Delimited(DelimitedMatcher),
}

/// A compiled filter pattern.
#[derive(Debug, Clone)]
pub struct FilterPattern {
    source: Box<str>,
    matcher: Matcher,
    /// Kept for what reads the pattern's needs (the screen, the rule index): parsing again
    /// costs every start.
    ast: ast::Pattern,
}

impl FilterPattern {
    /// Parses and compiles a pattern, refusing what CloudWatch Logs refuses.
    pub fn new(source: &str) -> Result<Self, PatternError> {
        let ast = parse::parse(source)?;
        let matcher = match &ast {
            ast::Pattern::MatchAll => Matcher::All,
            ast::Pattern::Terms(t) => Matcher::Terms(TermsMatcher::compile(t)?),
            ast::Pattern::Json(e) => Matcher::Json(JsonMatcher::compile(e)?),
            ast::Pattern::Delimited(e) => Matcher::Delimited(DelimitedMatcher::compile(e)?),
        };
        Ok(Self {
            source: source.into(),
            matcher,
            ast,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    pub fn kind(&self) -> PatternKind {
        match self.matcher {
            Matcher::All => PatternKind::MatchAll,
            Matcher::Terms(_) => PatternKind::Terms,
            Matcher::Json(_) => PatternKind::Json,
            Matcher::Delimited(_) => PatternKind::Delimited,
        }
    }

    /// The selector paths a JSON pattern reads (none for a match-all pattern), or `None` when
    /// the pattern reads the message text (term and space-delimited patterns). A record that
    /// keeps every value on these paths matches exactly as the whole record does.
    pub fn selector_paths(&self) -> Option<Vec<&[ast::Step]>> {
        match &self.matcher {
            Matcher::All => Some(Vec::new()),
            Matcher::Json(j) => Some(j.paths()),
            Matcher::Terms(_) | Matcher::Delimited(_) => None,
        }
    }

    /// The pattern's syntax tree.
    pub fn ast(&self) -> &ast::Pattern {
        &self.ast
    }

    /// Whether the pattern matches a log event message.
    pub fn matches(&self, message: &Message<'_>) -> bool {
        match &self.matcher {
            Matcher::All => true,
            Matcher::Terms(t) => t.is_match(message.text()),
            // A message that is not JSON never matches a JSON pattern.
            Matcher::Json(j) => match message.json {
                Some(record) => j.is_match(record, Some(&message.memo)),
                None => message.json().is_some_and(|v| j.is_match(v, None)),
            },
            Matcher::Delimited(d) => d.run(message.text(), false).is_some(),
        }
    }

    /// Whether the pattern matches a message given as text.
    pub fn matches_text(&self, text: &str) -> bool {
        self.matches(&Message::from_text(text))
    }

    /// Whether the pattern matches a record already parsed as JSON.
    pub fn matches_json(&self, record: &Value) -> bool {
        self.matches(&Message::from_json(record))
    }

    /// TestMetricFilter for one message: `None` when it does not match, otherwise the
    /// extracted values (`$name` / `$N`, space-delimited patterns only; empty for the others).
    pub fn test(&self, text: &str) -> Option<Fields> {
        match &self.matcher {
            Matcher::Delimited(d) => d.run(text, true),
            _ => self.matches_text(text).then(Vec::new),
        }
    }
}

impl FromStr for FilterPattern {
    type Err = PatternError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl fmt::Display for FilterPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// One log event message as patterns see it: its text and, when it is JSON, its parsed form.
/// Whichever is missing is produced on first use and kept.
#[derive(Debug)]
pub struct Message<'a> {
    text: Option<&'a str>,
    json: Option<&'a Value>,
    rendered: OnceCell<String>,
    parsed: OnceCell<Option<Value>>,
    /// Lookups in a borrowed record, shared by every pattern tested against this message.
    memo: PathMemo<'a>,
}

impl<'a> Message<'a> {
    pub fn from_text(text: &'a str) -> Self {
        Self {
            text: Some(text),
            json: None,
            rendered: OnceCell::new(),
            parsed: OnceCell::new(),
            memo: PathMemo::default(),
        }
    }

    /// A record parsed already. Term and space-delimited patterns see it as compact JSON,
    /// the form in which CloudTrail delivers records to CloudWatch Logs.
    pub fn from_json(record: &'a Value) -> Self {
        Self {
            text: None,
            json: Some(record),
            rendered: OnceCell::new(),
            parsed: OnceCell::new(),
            memo: PathMemo::default(),
        }
    }

    /// Both forms of the same message, when the caller has both.
    pub fn from_parts(text: &'a str, record: &'a Value) -> Self {
        Self {
            text: Some(text),
            json: Some(record),
            rendered: OnceCell::new(),
            parsed: OnceCell::new(),
            memo: PathMemo::default(),
        }
    }

    pub fn text(&self) -> &str {
        match (self.text, self.json) {
            (Some(t), _) => t,
            (None, Some(v)) => self.rendered.get_or_init(|| v.to_string()),
            (None, None) => "",
        }
    }

    pub fn json(&self) -> Option<&Value> {
        match (self.json, self.text) {
            (Some(v), _) => Some(v),
            (None, Some(t)) => self
                .parsed
                .get_or_init(|| serde_json::from_str(t).ok())
                .as_ref(),
            (None, None) => None,
        }
    }
}
