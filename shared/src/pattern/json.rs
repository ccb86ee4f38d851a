//! JSON patterns: `{ $.eventSource = "iam.amazonaws.com" && $.eventName = "Create*" }`.

use super::ast::{Expr, JsonCondition, JsonTest, Op, Step};
use super::error::PatternError;
use super::expr::Node;
use super::value::{compare, Literal, Scalar};
use serde_json::Value;

/// AWS quota: "at most three wildcard selectors in a filter pattern".
const MAX_WILDCARD_SELECTORS: usize = 3;
/// AWS quota: at most two regular expressions in a JSON or space-delimited pattern.
pub(crate) const MAX_REGEX: usize = 2;

#[derive(Debug, Clone)]
pub(crate) struct Check {
    path: Box<[Step]>,
    test: Test,
}

#[derive(Debug, Clone)]
enum Test {
    /// `op` against any of `literals`: several only where `||` joined `=` tests on one selector.
    Compare {
        op: Op,
        literals: Box<[Literal]>,
    },
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
                path: c.selector.steps.clone().into_boxed_slice(),
                test,
            })
        })?;
        Ok(Self { root: fuse(root) })
    }

    #[inline]
    pub(crate) fn is_match(&self, record: &Value) -> bool {
        self.root.eval(&mut |c| c.holds(record))
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

impl Check {
    #[inline]
    fn holds(&self, record: &Value) -> bool {
        match &self.test {
            Test::NotExists => !any_selected(record, &self.path, &mut |_| true),
            Test::IsNull => any_selected(record, &self.path, &mut Value::is_null),
            Test::IsTrue => any_selected(record, &self.path, &mut |v| v == &Value::Bool(true)),
            Test::IsFalse => any_selected(record, &self.path, &mut |v| v == &Value::Bool(false)),
            Test::Compare { op, literals } => any_selected(record, &self.path, &mut |v| {
                // Only strings and numbers are compared: a selector that lands on an object,
                // array, boolean or null makes the condition false, `!=` included.
                let scalar = match v {
                    Value::String(s) => Scalar::Str(s),
                    Value::Number(n) => Scalar::Num(n),
                    _ => return false,
                };
                literals.iter().any(|l| compare(*op, l, scalar))
            }),
        }
    }
}

/// Whether `f` holds for any node the path selects. Wildcards fan out over one level;
/// a missing key, an index out of range or a step into the wrong type selects nothing.
fn any_selected<'v>(
    mut node: &'v Value,
    path: &[Step],
    f: &mut impl FnMut(&'v Value) -> bool,
) -> bool {
    for (i, step) in path.iter().enumerate() {
        node = match (step, node) {
            (Step::Key(k), Value::Object(m)) => match m.get(k.as_str()) {
                Some(v) => v,
                None => return false,
            },
            (Step::Index(n), Value::Array(a)) => match a.get(*n) {
                Some(v) => v,
                None => return false,
            },
            (Step::AnyKey, Value::Object(m)) => {
                return m.values().any(|v| any_selected(v, &path[i + 1..], f))
            }
            (Step::AnyIndex, Value::Array(a)) => {
                return a.iter().any(|v| any_selected(v, &path[i + 1..], f))
            }
            _ => return false,
        };
    }
    f(node)
}
