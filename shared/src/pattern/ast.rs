//! The syntax tree of a filter pattern, with byte spans into the pattern text.
//!
//! The parser builds this tree; [`super::compile`] turns it into a matcher. Keeping the two apart
//! lets tools explain a pattern (what each condition tests) without running it.

/// Byte range `start..end` in the pattern text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }
}

/// One parsed filter pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    /// Empty or blank pattern: every event matches.
    MatchAll,
    /// Unstructured terms: `ERROR -WARN`, `?a ?b`, `"quoted phrase"`, `%regex%`.
    Terms(Vec<Term>),
    /// `{ selector op value && ... }`.
    Json(Expr<JsonCondition>),
    /// `[field, field=value, ..., field]`.
    Delimited(Vec<Entry>),
}

impl Pattern {
    /// The values one top-level member must have for the pattern to match, when the pattern
    /// says: `{ $.eventName = "A" || $.eventName = "B" }` needs `eventName` to be `A` or `B`
    /// (as a string; a record whose member is anything else may still match through the
    /// number comparison, so callers treat it as unknown). `None` when any value could do.
    pub fn required_values(&self, key: &str) -> Option<Vec<String>> {
        match self {
            Pattern::Json(e) => expr_required(e, key),
            Pattern::MatchAll | Pattern::Terms(_) | Pattern::Delimited(_) => None,
        }
    }
}

fn expr_required(e: &Expr<JsonCondition>, key: &str) -> Option<Vec<String>> {
    match e {
        // Every operand must hold: any one's values are required.
        Expr::And(xs) => xs.iter().find_map(|x| expr_required(x, key)),
        // One must hold: the values of all of them, when each has some.
        Expr::Or(xs) => {
            let mut all = Vec::new();
            for x in xs {
                all.extend(expr_required(x, key)?);
            }
            Some(all)
        }
        Expr::Leaf(c) => match (&c.selector.steps[..], &c.test) {
            (
                [Step::Key(k)],
                JsonTest::Compare {
                    op: Op::Eq,
                    value: Value::Text { text, .. },
                    ..
                },
            ) if k == key => match super::value::TextMatch::new(text) {
                // Wildcards match other values too.
                super::value::TextMatch::Exact(t) => Some(vec![t.into()]),
                _ => None,
            },
            _ => None,
        },
    }
}

/// How a term takes part in an unstructured pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermMode {
    /// Plain term: must occur.
    Required,
    /// `?term`: any one of them must occur (ignored when mixed with other terms, as AWS does).
    Optional,
    /// `-term`: must not occur.
    Excluded,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    pub mode: TermMode,
    pub value: TermValue,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TermValue {
    /// Literal text, quotes removed. Blank text (`" "`) matches every message.
    Text(String),
    /// The body of a `%regex%` term.
    Regex(String),
}

/// A boolean expression over conditions, shared by JSON and space-delimited patterns.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr<C> {
    Or(Vec<Expr<C>>),
    And(Vec<Expr<C>>),
    Leaf(C),
}

impl<C> Expr<C> {
    /// Every leaf, in pattern order.
    pub fn leaves(&self) -> Vec<&C> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a C>) {
        match self {
            Expr::Or(xs) | Expr::And(xs) => xs.iter().for_each(|x| x.collect(out)),
            Expr::Leaf(c) => out.push(c),
        }
    }
}

/// Comparison operators, the same six in JSON and space-delimited patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

impl Op {
    pub fn is_relational(self) -> bool {
        !matches!(self, Op::Eq | Op::Ne)
    }
}

/// A literal on the right of an operator.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string, quoted or bare; `*` at either end is a wildcard.
    Text { text: String, quoted: bool },
    /// A bare number: sign, decimals and exponent allowed. `text` is as written.
    Number { value: f64, text: String },
    /// The body of a `%regex%` value.
    Regex(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct JsonCondition {
    pub selector: Selector,
    pub test: JsonTest,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum JsonTest {
    Compare {
        op: Op,
        value: Value,
        value_span: Span,
    },
    IsNull,
    IsTrue,
    IsFalse,
    NotExists,
}

/// `$.a.b[0]`, `$.list[*]`, `$.*`, `$.['dotted.key']`.
#[derive(Debug, Clone, PartialEq)]
pub struct Selector {
    pub steps: Vec<Step>,
    pub span: Span,
}

impl Selector {
    pub fn wildcards(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s, Step::AnyKey | Step::AnyIndex))
            .count()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Step {
    Key(String),
    Index(usize),
    /// `.*`: every field of an object.
    AnyKey,
    /// `[*]`: every element of an array.
    AnyIndex,
}

/// One comma-separated entry of a space-delimited pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub kind: EntryKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EntryKind {
    /// `...`: any number of fields.
    Ellipsis,
    /// One field, named or not, with optional conditions on it.
    Field {
        name: Option<String>,
        condition: Option<Expr<FieldCondition>>,
    },
}

/// `name op value` inside a space-delimited entry.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldCondition {
    pub op: Op,
    pub value: Value,
    pub value_span: Span,
    pub span: Span,
}
