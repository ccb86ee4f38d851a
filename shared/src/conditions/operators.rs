//! json-rules-engine's operators and operator decorators, with their validators.

use super::js::{parse_float, relational, strict_eq, to_string, Rel};
use serde_json::Value;

/// A built-in operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    Equal,
    NotEqual,
    In,
    NotIn,
    Contains,
    DoesNotContain,
    LessThan,
    LessThanInclusive,
    GreaterThan,
    GreaterThanInclusive,
    /// iamwatch's own: the fact is an address inside one of the value's networks.
    IpIn,
    /// iamwatch's own: the fact is not an address inside any of the value's networks (a blank
    /// or unparseable address is not inside).
    IpNotIn,
}

/// A decorator in front of an operator: `not:`, `swap:`, `someFact:`, `everyFact:`,
/// `someValue:`, `everyValue:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decorator {
    Not,
    Swap,
    SomeFact,
    EveryFact,
    SomeValue,
    EveryValue,
}

/// An operator with its decorators, outermost first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    pub decorators: Vec<Decorator>,
    pub base: Base,
}

/// What json-rules-engine would throw while evaluating (it rejects the whole run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError(pub String);

type Result<T> = std::result::Result<T, EvalError>;

impl Operator {
    pub fn parse(name: &str) -> std::result::Result<Self, String> {
        let mut parts: Vec<&str> = name.split(':').collect();
        let base = parts.pop().unwrap_or_default();
        let base = match base {
            "equal" => Base::Equal,
            "notEqual" => Base::NotEqual,
            "in" => Base::In,
            "notIn" => Base::NotIn,
            "contains" => Base::Contains,
            "doesNotContain" => Base::DoesNotContain,
            "lessThan" => Base::LessThan,
            "lessThanInclusive" => Base::LessThanInclusive,
            "greaterThan" => Base::GreaterThan,
            "greaterThanInclusive" => Base::GreaterThanInclusive,
            "ipIn" => Base::IpIn,
            "ipNotIn" => Base::IpNotIn,
            _ => return Err(format!("unknown operator {name:?}")),
        };
        if matches!(base, Base::IpIn | Base::IpNotIn) && !parts.is_empty() {
            return Err(format!("{name:?}: ipIn and ipNotIn take no decorators"));
        }
        let decorators = parts
            .into_iter()
            .map(|d| match d {
                "not" => Ok(Decorator::Not),
                "swap" => Ok(Decorator::Swap),
                "someFact" => Ok(Decorator::SomeFact),
                "everyFact" => Ok(Decorator::EveryFact),
                "someValue" => Ok(Decorator::SomeValue),
                "everyValue" => Ok(Decorator::EveryValue),
                _ => Err(format!("unknown operator {name:?} (no decorator {d:?})")),
            })
            .collect::<std::result::Result<_, _>>()?;
        Ok(Self { decorators, base })
    }

    /// `validator(fact) && cb(fact, value)` of the outermost decorator or the operator.
    pub fn evaluate(&self, fact: Option<&Value>, value: Option<&Value>) -> Result<bool> {
        eval(&self.decorators, self.base, fact, value)
    }

    /// What a literal value must be for this operator never to throw, checked when a rule loads:
    /// `in`/`notIn` need an array or a string, `someValue`/`everyValue` an array.
    pub fn check_value(&self, value: &Value) -> std::result::Result<(), String> {
        // Walk the decorators from the outside in, tracking which side the value is on.
        let mut swapped = false;
        for d in &self.decorators {
            match d {
                Decorator::Swap => swapped = !swapped,
                Decorator::SomeValue | Decorator::EveryValue if !swapped => {
                    return value
                        .is_array()
                        .then_some(())
                        .ok_or_else(|| "someValue/everyValue need an array value".to_string());
                }
                _ => {}
            }
        }
        if !swapped
            && matches!(self.base, Base::In | Base::NotIn)
            && !(value.is_array() || value.is_string())
        {
            return Err("in/notIn need an array (or string) value".into());
        }
        Ok(())
    }
}

fn eval(
    decs: &[Decorator],
    base: Base,
    fact: Option<&Value>,
    value: Option<&Value>,
) -> Result<bool> {
    let Some((d, rest)) = decs.split_first() else {
        return eval_base(base, fact, value);
    };
    let next = |f: Option<&Value>, v: Option<&Value>| eval(rest, base, f, v);
    match d {
        Decorator::Not => Ok(!next(fact, value)?),
        Decorator::Swap => next(value, fact),
        Decorator::SomeFact | Decorator::EveryFact => {
            // The decorator's validator: the fact must be an array.
            let Some(Value::Array(items)) = fact else {
                return Ok(false);
            };
            let mut all = true;
            for f in items {
                let r = next(Some(f), value)?;
                if *d == Decorator::SomeFact && r {
                    return Ok(true);
                }
                all &= r;
                if *d == Decorator::EveryFact && !all {
                    return Ok(false);
                }
            }
            Ok(*d == Decorator::EveryFact)
        }
        Decorator::SomeValue | Decorator::EveryValue => {
            let Some(Value::Array(items)) = value else {
                return Err(EvalError(format!(
                    "TypeError: {} is not a function",
                    if *d == Decorator::SomeValue {
                        "value.some"
                    } else {
                        "value.every"
                    }
                )));
            };
            for v in items {
                let r = next(fact, Some(v))?;
                if *d == Decorator::SomeValue && r {
                    return Ok(true);
                }
                if *d == Decorator::EveryValue && !r {
                    return Ok(false);
                }
            }
            Ok(*d == Decorator::EveryValue)
        }
    }
}

fn eval_base(base: Base, fact: Option<&Value>, value: Option<&Value>) -> Result<bool> {
    Ok(match base {
        // Loaded as an allowlist operand and evaluated by the leaf, never here.
        Base::IpIn | Base::IpNotIn => {
            return Err(EvalError("ipIn/ipNotIn need a list of networks".into()))
        }
        Base::Equal => strict_eq(fact, value),
        Base::NotEqual => !strict_eq(fact, value),
        Base::In => index_of(value, fact)?,
        Base::NotIn => !index_of(value, fact)?,
        Base::Contains | Base::DoesNotContain => match fact {
            // Validator: the fact must be an array; a string never matches either operator.
            Some(Value::Array(items)) => {
                let found = items.iter().any(|i| strict_eq(Some(i), value));
                (base == Base::Contains) == found
            }
            _ => false,
        },
        Base::LessThan
        | Base::LessThanInclusive
        | Base::GreaterThan
        | Base::GreaterThanInclusive => {
            if parse_float(fact).is_nan() {
                return Ok(false);
            }
            let op = match base {
                Base::LessThan => Rel::Lt,
                Base::LessThanInclusive => Rel::Le,
                Base::GreaterThan => Rel::Gt,
                _ => Rel::Ge,
            };
            relational(fact, value, op)
        }
    })
}

/// `b.indexOf(a) > -1`: element test on arrays, substring test on strings, TypeError otherwise.
fn index_of(b: Option<&Value>, a: Option<&Value>) -> Result<bool> {
    match b {
        Some(Value::Array(items)) => Ok(items.iter().any(|i| strict_eq(a, Some(i)))),
        Some(Value::String(s)) => Ok(s.contains(to_string(a).as_str())),
        other => Err(EvalError(format!(
            "TypeError: {}.indexOf is not a function",
            to_string(other)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(op: &str, fact: Option<Value>, value: Value) -> Result<bool> {
        Operator::parse(op)
            .unwrap()
            .evaluate(fact.as_ref(), Some(&value))
    }

    #[test]
    fn equality_is_strict() {
        assert_eq!(ev("equal", Some(json!(5)), json!(5.0)), Ok(true));
        assert_eq!(ev("equal", Some(json!(1)), json!("1")), Ok(false));
        assert_eq!(ev("equal", Some(json!(null)), json!(null)), Ok(true));
        assert_eq!(ev("equal", None, json!(null)), Ok(false));
        assert_eq!(ev("notEqual", None, json!("x")), Ok(true));
        assert_eq!(ev("notEqual", Some(json!(["a"])), json!(["a"])), Ok(true));
    }

    #[test]
    fn in_and_not_in() {
        assert_eq!(ev("in", Some(json!(1)), json!([1.0])), Ok(true));
        assert_eq!(ev("in", Some(json!("1")), json!([1])), Ok(false));
        assert_eq!(ev("in", Some(json!("ab")), json!("abc")), Ok(true));
        assert_eq!(ev("in", Some(json!(null)), json!("null")), Ok(true));
        assert_eq!(ev("in", None, json!("xundefinedx")), Ok(true));
        assert_eq!(ev("in", None, json!([null])), Ok(false));
        assert_eq!(ev("notIn", None, json!(["a@example.com"])), Ok(true));
        assert!(ev("in", Some(json!(1)), json!(5)).is_err());
        assert!(Operator::parse("in")
            .unwrap()
            .check_value(&json!(5))
            .is_err());
        assert!(Operator::parse("swap:in")
            .unwrap()
            .check_value(&json!(5))
            .is_ok());
    }

    #[test]
    fn contains_needs_an_array_fact() {
        assert_eq!(
            ev("contains", Some(json!(["a", "b"])), json!("a")),
            Ok(true)
        );
        assert_eq!(ev("contains", Some(json!("abc")), json!("a")), Ok(false));
        assert_eq!(
            ev("doesNotContain", Some(json!("abc")), json!("z")),
            Ok(false)
        );
        assert_eq!(ev("doesNotContain", None, json!("z")), Ok(false));
    }

    #[test]
    fn relational_operators() {
        assert_eq!(ev("lessThan", Some(json!("0759")), json!("0800")), Ok(true));
        assert_eq!(ev("greaterThan", Some(json!("10abc")), json!(9)), Ok(false));
        assert_eq!(ev("greaterThan", Some(json!("0x10")), json!(15)), Ok(true));
        assert_eq!(
            ev("lessThan", Some(json!("abc")), json!("b")),
            Ok(false),
            "validator"
        );
        assert_eq!(ev("not:lessThan", Some(json!("abc")), json!("b")), Ok(true));
        assert_eq!(
            ev("greaterThanInclusive", Some(json!(5)), json!(5)),
            Ok(true)
        );
        assert_eq!(ev("lessThan", None, json!(5)), Ok(false));
    }

    #[test]
    fn decorators() {
        assert_eq!(
            ev("someFact:equal", Some(json!([1, 2])), json!(2)),
            Ok(true)
        );
        assert_eq!(ev("everyFact:equal", Some(json!([])), json!(2)), Ok(true));
        assert_eq!(ev("not:someFact:equal", Some(json!(2)), json!(2)), Ok(true));
        assert_eq!(
            ev("someValue:equal", Some(json!(2)), json!([1, 2])),
            Ok(true)
        );
        assert_eq!(
            ev("everyValue:lessThan", Some(json!(1)), json!([2, 3])),
            Ok(true)
        );
        assert!(ev("someValue:equal", Some(json!(2)), json!(2)).is_err());
        assert_eq!(
            ev("swap:contains", Some(json!("a")), json!(["a"])),
            Ok(true)
        );
        assert_eq!(
            ev(
                "everyFact:everyValue:lessThan",
                Some(json!([1, 2])),
                json!([3, 4])
            ),
            Ok(true)
        );
        assert!(Operator::parse("sometimes:equal").is_err());
        assert!(Operator::parse("like").is_err());
    }
}
