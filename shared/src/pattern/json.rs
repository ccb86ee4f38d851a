//! JSON patterns: `{ $.eventSource = "iam.amazonaws.com" && $.eventName = "Create*" }`.

use super::ast::{Expr, JsonCondition, JsonTest, Op};
use super::error::PatternError;
use super::expr::Node;
use super::lookup::{Path, PathMemo};
use super::value::{compare, AnyOf, Literal, Scalar};
use serde_json::Value;

/// AWS quota: "at most three wildcard selectors in a filter pattern".
const MAX_WILDCARD_SELECTORS: usize = 3;
/// AWS quota: at most two regular expressions in a JSON or space-delimited pattern.
pub(crate) const MAX_REGEX: usize = 2;

#[derive(Debug, Clone)]
pub(crate) struct Check {
    path: Path,
    test: Test,
}

#[derive(Debug, Clone)]
enum Test {
    /// `op literal`; while compiling, `||`-joined `=` tests on one selector gather here.
    Compare {
        op: Op,
        literals: Box<[Literal]>,
    },
    /// What those gathered `=` tests become once the pattern is compiled.
    AnyOf(AnyOf),
    IsNull,
    IsTrue,
    IsFalse,
    NotExists,
}

#[derive(Debug, Clone)]
pub(crate) struct JsonMatcher {
    root: Node<Check>,
}

impl JsonMatcher {
    pub(crate) fn compile(expr: &Expr<JsonCondition>) -> Result<Self, PatternError> {
        let leaves = expr.leaves();
        if let Some(c) = leaves
            .iter()
            .filter(|c| c.selector.wildcards() > 0)
            .nth(MAX_WILDCARD_SELECTORS)
        {
            return Err(PatternError::new(
                c.selector.span.start,
                format!(
                    "a filter pattern may use at most {MAX_WILDCARD_SELECTORS} wildcard selectors"
                ),
            ));
        }
        let mut regexes = 0;
        let root = Node::compile(expr, &mut |c: &JsonCondition| {
            let test = match &c.test {
                JsonTest::Compare {
                    op,
                    value,
                    value_span,
                } => {
                    let literal = Literal::compile(value, value_span.start)?;
                    if literal.is_regex() {
                        regexes += 1;
                        if regexes > MAX_REGEX {
                            return Err(PatternError::new(
                                value_span.start,
                                format!("a JSON filter pattern may contain at most {MAX_REGEX} regular expressions"),
                            ));
                        }
                    }
                    Test::Compare {
                        op: *op,
                        literals: Box::new([literal]),
                    }
                }
                JsonTest::IsNull => Test::IsNull,
                JsonTest::IsTrue => Test::IsTrue,
                JsonTest::IsFalse => Test::IsFalse,
                JsonTest::NotExists => Test::NotExists,
            };
            Ok(Check {
                path: Path::new(&c.selector.steps),
                test,
            })
        })?;
        Ok(Self {
            root: finish(fuse(root)),
        })
    }

    /// Every selector path the pattern reads.
    pub(crate) fn paths(&self) -> Vec<&[super::ast::Step]> {
        fn walk<'a>(n: &'a Node<Check>, out: &mut Vec<&'a [super::ast::Step]>) {
            match n {
                Node::Or(xs) | Node::And(xs) => xs.iter().for_each(|x| walk(x, out)),
                Node::Leaf(c) => out.push(&c.path.steps),
            }
        }
        let mut out = Vec::new();
        walk(&self.root, &mut out);
        out
    }

    #[inline]
    pub(crate) fn is_match<'v>(&self, record: &'v Value, memo: Option<&PathMemo<'v>>) -> bool {
        self.root.eval(&mut |c| c.holds(record, memo))
    }
}

/// Folds `($.x = a) || ($.x = b) || ...` into one test that looks `$.x` up once: the CIS and
/// Security Hub patterns are long chains of exactly this shape.
fn fuse(node: Node<Check>) -> Node<Check> {
    match node {
        Node::And(xs) => Node::And(xs.into_vec().into_iter().map(fuse).collect()),
        Node::Or(xs) => {
            let mut out: Vec<Node<Check>> = Vec::with_capacity(xs.len());
            for x in xs.into_vec().into_iter().map(fuse) {
                if let Node::Leaf(Check {
                    path,
                    test:
                        Test::Compare {
                            op: Op::Eq,
                            literals,
                        },
                }) = &x
                {
                    let same = out.iter_mut().find_map(|o| match o {
                        Node::Leaf(Check {
                            path: p,
                            test:
                                Test::Compare {
                                    op: Op::Eq,
                                    literals: l,
                                },
                        }) if p == path => Some(l),
                        _ => None,
                    });
                    if let Some(l) = same {
                        let mut merged = std::mem::take(l).into_vec();
                        merged.extend(literals.iter().cloned());
                        *l = merged.into_boxed_slice();
                        continue;
                    }
                }
                out.push(x);
            }
            if out.len() == 1 {
                out.pop().expect("one element")
            } else {
                Node::Or(out.into_boxed_slice())
            }
        }
        leaf => leaf,
    }
}

/// Turns every `=` test into an [`AnyOf`], the form that tests a set of literals fastest.
fn finish(node: Node<Check>) -> Node<Check> {
    match node {
        Node::And(xs) => Node::And(xs.into_vec().into_iter().map(finish).collect()),
        Node::Or(xs) => Node::Or(xs.into_vec().into_iter().map(finish).collect()),
        Node::Leaf(Check {
            path,
            test:
                Test::Compare {
                    op: Op::Eq,
                    literals,
                },
        }) => Node::Leaf(Check {
            path,
            test: Test::AnyOf(AnyOf::new(literals.into_vec())),
        }),
        leaf => leaf,
    }
}

impl Check {
    #[inline]
    fn holds<'v>(&self, record: &'v Value, memo: Option<&PathMemo<'v>>) -> bool {
        let path = &self.path;
        match &self.test {
            Test::NotExists => !path.any(record, memo, &mut |_| true),
            Test::IsNull => path.any(record, memo, &mut Value::is_null),
            Test::IsTrue => path.any(record, memo, &mut |v| v == &Value::Bool(true)),
            Test::IsFalse => path.any(record, memo, &mut |v| v == &Value::Bool(false)),
            Test::Compare { op, literals } => path.any(record, memo, &mut |v| {
                scalar(v).is_some_and(|s| literals.iter().any(|l| compare(*op, l, s)))
            }),
            Test::AnyOf(set) => path.any(record, memo, &mut |v| {
                scalar(v).is_some_and(|s| set.matches(s))
            }),
        }
    }
}

/// Only strings and numbers are compared: a selector that lands on an object, array, boolean
/// or null makes the condition false, `!=` included.
#[inline]
fn scalar(v: &Value) -> Option<Scalar<'_>> {
    match v {
        Value::String(s) => Some(Scalar::Str(s)),
        Value::Number(n) => Some(Scalar::Num(n)),
        _ => None,
    }
}
