//! json-rules-engine conditions, evaluated with json-rules-engine 7.x's exact semantics.
//!
//! IBM Security Advisor Activity Insights rules are json-rules-engine rules, so users bring
//! conditions written for that engine: `all` / `any` / `not` trees of `{fact, operator, value,
//! path}` leaves. This module loads them strictly (what would make json-rules-engine throw is
//! refused when the rule loads, naming the JSON path) and evaluates them as it does: JavaScript
//! strict equality, `indexOf` for `in`, `parseFloat` validators, string comparison by UTF-16
//! code units, operator decorators. Facts come from a [`Facts`] source; a missing fact is
//! JavaScript's `undefined` (json-rules-engine's `allowUndefinedFacts`).

pub mod js;
pub mod operators;
pub mod path;

use crate::allowlist::{Allowlist, Verdict};
use crate::net::Ambiguous;
use operators::{Base, EvalError, Operator};
use path::Path;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::sync::Arc;

/// Where condition facts come from.
pub trait Facts {
    /// The fact `name`, or `None` (undefined). `params` are the condition's `params`, for facts
    /// computed from them (IBM's `timeOfDay`).
    fn fact(&self, name: &str, params: Option<&Value>) -> Option<Cow<'_, Value>>;

    /// The fact `name` with `path` applied. Facts that can reach the end of a path without
    /// building the whole fact answer here; the answer must equal the default's.
    fn fact_at(&self, name: &str, params: Option<&Value>, path: &Path) -> Option<Cow<'_, Value>> {
        path.apply(self.fact(name, params))
    }

    /// Whether the fact `name` is an array that holds `item` (strict equality), answered
    /// without building the fact where that is much cheaper; `None` to build it.
    fn array_holds(&self, _name: &str, _item: &Value) -> Option<bool> {
        None
    }

    /// The fact `name` with `path` applied when it is a string that can be read without
    /// building it; `None` to ask [`Facts::fact_at`] (which must then give this string, if
    /// this gives one).
    fn text_fact(&self, _name: &str, _path: &Path) -> Option<Cow<'_, str>> {
        None
    }
}

/// A JSON object's members as facts.
impl Facts for Map<String, Value> {
    fn fact(&self, name: &str, _params: Option<&Value>) -> Option<Cow<'_, Value>> {
        self.get(name).map(Cow::Borrowed)
    }
}

/// A condition tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    All(Vec<Condition>, u32),
    Any(Vec<Condition>, u32),
    Not(Box<Condition>, u32),
    Leaf(Box<Leaf>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Leaf {
    pub priority: u32,
    pub fact: String,
    pub params: Option<Value>,
    pub path: Path,
    /// The path as written, for messages.
    pub path_text: Option<String>,
    pub operator: Operator,
    pub operator_name: String,
    pub value: Operand,
}

/// The right-hand side: a literal, or another fact (`{"fact": "b", "path": "$.x"}`).
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Literal(Value),
    /// The networks of `ipIn` / `ipNotIn`.
    Networks(Arc<Allowlist>),
    Fact {
        fact: String,
        params: Option<Value>,
        path: Path,
    },
}

/// Named allowlists that `"@allowlist:NAME"` values refer to.
pub trait Allowlists {
    /// The allowlist `name`; `None` when it is not defined, an error when its definition is bad.
    fn allowlist(&self, name: &str) -> Option<Result<Arc<Allowlist>, String>>;
}

/// No named allowlists.
pub struct NoAllowlists;

impl Allowlists for NoAllowlists {
    fn allowlist(&self, _name: &str) -> Option<Result<Arc<Allowlist>, String>> {
        None
    }
}

/// A condition that cannot be loaded: the JSON path and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionError {
    pub path: String,
    pub message: String,
}

fn err<T>(path: &str, message: impl Into<String>) -> Result<T, ConditionError> {
    Err(ConditionError {
        path: path.to_string(),
        message: message.into(),
    })
}

const LEAF_KEYS: &[&str] = &[
    "fact", "operator", "value", "path", "params", "priority", "name", "comment",
];
const NODE_KEYS: &[&str] = &["all", "any", "not", "priority", "name", "comment"];

impl Condition {
    /// Loads a condition tree; `at` is its JSON path, for errors.
    pub fn parse(v: &Value, at: &str) -> Result<Self, ConditionError> {
        Self::parse_with(v, at, &NoAllowlists)
    }

    /// Like [`Condition::parse`], resolving `"@allowlist:NAME"` values in `lists`.
    pub fn parse_with(v: &Value, at: &str, lists: &dyn Allowlists) -> Result<Self, ConditionError> {
        let Value::Object(obj) = v else {
            return err(at, "expected a condition object");
        };
        // json-rules-engine decides the kind by own property, in this order.
        for (key, build) in [("any", 0), ("all", 1), ("not", 2)] {
            let Some(child) = obj.get(key) else { continue };
            check_keys(obj, NODE_KEYS, at)?;
            let here = format!("{at}.{key}");
            let priority = priority(obj, at)?;
            return match (build, child) {
                (0 | 1, Value::Array(items)) => {
                    let mut kids = items
                        .iter()
                        .enumerate()
                        .map(|(i, c)| Condition::parse_with(c, &format!("{here}[{i}]"), lists))
                        .collect::<Result<Vec<_>, _>>()?;
                    // Priority groups, highest first, file order within a group (stable sort).
                    kids.sort_by_key(|c| std::cmp::Reverse(c.priority()));
                    Ok(if build == 0 {
                        Condition::Any(kids, priority)
                    } else {
                        Condition::All(kids, priority)
                    })
                }
                (0 | 1, _) => err(&here, format!("\"{key}\" must be an array of conditions")),
                (_, Value::Array(_)) => err(&here, "\"not\" takes one condition, not an array"),
                (_, c) => Ok(Condition::Not(
                    Box::new(Condition::parse_with(c, &here, lists)?),
                    priority,
                )),
            };
        }
        if obj.contains_key("condition") {
            return err(
                &format!("{at}.condition"),
                "condition references need an engine's shared conditions, which rule packs do not have: write the condition inline",
            );
        }
        check_keys(obj, LEAF_KEYS, at)?;
        let fact = match obj.get("fact") {
            Some(Value::String(s)) => s.clone(),
            Some(_) => return err(&format!("{at}.fact"), "expected a fact name"),
            None => {
                return err(
                    at,
                    "a condition needs \"all\", \"any\" or \"not\", or \"fact\", \"operator\" and \"value\"",
                )
            }
        };
        let operator_name = match obj.get("operator") {
            Some(Value::String(s)) => s.clone(),
            _ => return err(&format!("{at}.operator"), "expected an operator name"),
        };
        let operator = Operator::parse(&operator_name).map_err(|m| ConditionError {
            path: format!("{at}.operator"),
            message: m,
        })?;
        let Some(value) = obj.get("value") else {
            return err(
                &format!("{at}.value"),
                "a condition needs a value (null is allowed)",
            );
        };
        let value = match value {
            _ if matches!(operator.base, Base::IpIn | Base::IpNotIn) => {
                Operand::Networks(networks(value, &format!("{at}.value"), lists)?)
            }
            Value::Object(v) if v.contains_key("fact") => {
                let here = format!("{at}.value");
                let fact = match v.get("fact") {
                    Some(Value::String(s)) => s.clone(),
                    _ => return err(&format!("{here}.fact"), "expected a fact name"),
                };
                Operand::Fact {
                    fact,
                    params: v.get("params").cloned(),
                    path: parse_path(v.get("path"), &format!("{here}.path"))?,
                }
            }
            literal => {
                operator.check_value(literal).map_err(|m| ConditionError {
                    path: format!("{at}.value"),
                    message: m,
                })?;
                Operand::Literal(literal.clone())
            }
        };
        Ok(Condition::Leaf(Box::new(Leaf {
            priority: priority(obj, at)?,
            fact,
            params: obj.get("params").cloned(),
            path: parse_path(obj.get("path"), &format!("{at}.path"))?,
            path_text: obj.get("path").and_then(Value::as_str).map(str::to_string),
            operator,
            operator_name,
            value,
        })))
    }

    /// Evaluates the tree. An error is what would make json-rules-engine reject the run.
    ///
    /// As json-rules-engine does, the children of `all` and `any` run in groups of equal
    /// priority, highest first: every child of a group is evaluated (so an error anywhere in
    /// the group is an error), and later groups are skipped once the result is decided.
    pub fn evaluate(&self, facts: &dyn Facts) -> Result<bool, EvalError> {
        match self {
            // Empty `all` and empty `any` are both true in json-rules-engine.
            Condition::All(kids, _) => groups(kids, facts, false),
            Condition::Any(kids, _) => groups(kids, facts, true),
            Condition::Not(k, _) => Ok(!k.evaluate(facts)?),
            Condition::Leaf(l) => l.evaluate(facts),
        }
    }

    fn priority(&self) -> u32 {
        match self {
            Condition::All(_, p) | Condition::Any(_, p) | Condition::Not(_, p) => *p,
            Condition::Leaf(l) => l.priority,
        }
    }

    /// The string values fact `name` (no path) must have for this tree to be true, when the
    /// tree says so plainly (`name equal "x"` or `name in [...]` under the root `all`, or an
    /// `any` of such); `None` when it does not. A detector uses it as an index.
    pub fn required_values(&self, name: &str) -> Option<Vec<String>> {
        match self {
            Condition::Leaf(l)
                if l.fact == name && l.path == Path::None && l.operator.decorators.is_empty() =>
            {
                match (&l.operator.base, &l.value) {
                    (Base::Equal, Operand::Literal(Value::String(v))) => Some(vec![v.clone()]),
                    (Base::In, Operand::Literal(Value::Array(items))) => items
                        .iter()
                        .map(|i| i.as_str().map(str::to_string))
                        .collect(),
                    _ => None,
                }
            }
            Condition::All(kids, _) => kids.iter().find_map(|k| k.required_values(name)),
            Condition::Any(kids, _) if !kids.is_empty() => {
                let mut all = Vec::new();
                for k in kids {
                    all.extend(k.required_values(name)?);
                }
                Some(all)
            }
            _ => None,
        }
    }

    /// Whether evaluating this tree can fail on some record (json-rules-engine would throw):
    /// only a value taken from a fact, or `someValue:` / `everyValue:`, can be of the wrong
    /// type at run time; literal values are checked when the pack loads.
    pub fn may_fail(&self) -> bool {
        self.leaves().iter().any(|l| {
            matches!(l.value, Operand::Fact { .. })
                || l.operator.decorators.iter().any(|d| {
                    matches!(
                        d,
                        operators::Decorator::SomeValue | operators::Decorator::EveryValue
                    )
                })
        })
    }

    /// Every leaf, in order.
    pub fn leaves(&self) -> Vec<&Leaf> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a Leaf>) {
        match self {
            Condition::All(k, _) | Condition::Any(k, _) => k.iter().for_each(|c| c.collect(out)),
            Condition::Not(k, _) => k.collect(out),
            Condition::Leaf(l) => out.push(l),
        }
    }
}

impl Leaf {
    pub fn evaluate(&self, facts: &dyn Facts) -> Result<bool, EvalError> {
        // `tokens contains "word"` on every record: ask without building the token list.
        if let (Path::None, Operand::Literal(item), true, Base::Contains | Base::DoesNotContain) = (
            &self.path,
            &self.value,
            self.operator.decorators.is_empty(),
            self.operator.base,
        ) {
            if let Some(found) = facts.array_holds(&self.fact, item) {
                return Ok((self.operator.base == Base::Contains) == found);
            }
        }
        if let Some(answer) = self.compare_text(facts) {
            return Ok(answer);
        }
        let fact = facts.fact_at(&self.fact, self.params.as_ref(), &self.path);
        let value = match &self.value {
            Operand::Literal(v) => Some(Cow::Borrowed(v)),
            Operand::Fact { fact, params, path } => facts.fact_at(fact, params.as_ref(), path),
            Operand::Networks(list) => {
                let allowed = verdict(list, fact.as_deref()) == Verdict::Allowed;
                return Ok(allowed == (self.operator.base == Base::IpIn));
            }
        };
        self.operator.evaluate(fact.as_deref(), value.as_deref())
    }

    /// `equal`, `notEqual`, `in` and `notIn` (a list) between a string fact and literals,
    /// answered on the fact's text when the facts can read it without building it: a string
    /// strictly equals only the same string. `None` when the leaf is not one of these.
    fn compare_text(&self, facts: &dyn Facts) -> Option<bool> {
        let Operand::Literal(literal) = &self.value else {
            return None;
        };
        let listed = match self.operator.base {
            Base::Equal | Base::NotEqual => false,
            // `in` a string value looks for the fact inside it: not this comparison.
            Base::In | Base::NotIn if literal.is_array() => true,
            _ => return None,
        };
        if !self.operator.decorators.is_empty() {
            return None;
        }
        let text = facts.text_fact(&self.fact, &self.path)?;
        let same = |v: &Value| v.as_str() == Some(&*text);
        let found = match literal {
            Value::Array(items) if listed => items.iter().any(same),
            v => same(v),
        };
        Some(found == matches!(self.operator.base, Base::Equal | Base::In))
    }

    /// For an `ipIn` / `ipNotIn` leaf, what the allowlist says about the fact, in words:
    /// `initiator.host.address " " is blank, so not on allowlist iam`.
    pub fn explain(&self, facts: &dyn Facts) -> Option<String> {
        let Operand::Networks(list) = &self.value else {
            return None;
        };
        let fact = facts.fact_at(&self.fact, self.params.as_ref(), &self.path);
        let shown = match fact.as_deref() {
            None => "(missing)".to_string(),
            Some(v) => v.to_string(),
        };
        let v = verdict(list, fact.as_deref());
        let why = match v {
            Verdict::Blank if fact.is_none() => "missing, so not on".to_string(),
            other => other.to_string().replace("the allowlist", ""),
        };
        Some(format!(
            "{} {shown} is {} allowlist {}",
            self.describe(),
            why.trim_end(),
            list.name
        ))
    }

    /// `initiator.host.address` for fact `initiator` with path `$.host.address` or `.host.address`.
    fn describe(&self) -> String {
        match self.path_text.as_deref().map(|p| p.trim_start_matches('$')) {
            None | Some("") => self.fact.clone(),
            Some(p) if p.starts_with('.') || p.starts_with('[') => format!("{}{p}", self.fact),
            Some(p) => format!("{}.{p}", self.fact),
        }
    }
}

/// What `list` says about a fact: only a string can be an address.
fn verdict(list: &Allowlist, fact: Option<&Value>) -> Verdict {
    match fact {
        None => Verdict::Blank,
        Some(Value::String(s)) => list.check(s),
        Some(other) => Verdict::Ambiguous(other.to_string(), Ambiguous::NotAnAddress),
    }
}

/// The networks of an `ipIn` / `ipNotIn` value: a list, a comma-separated string, or
/// `"@allowlist:NAME"`.
fn networks(
    value: &Value,
    at: &str,
    lists: &dyn Allowlists,
) -> Result<Arc<Allowlist>, ConditionError> {
    let fail = |m: String| ConditionError {
        path: at.to_string(),
        message: m,
    };
    match value {
        Value::String(s) if s.starts_with("@allowlist:") => {
            let name = &s["@allowlist:".len()..];
            match lists.allowlist(name) {
                Some(Ok(l)) => Ok(l),
                Some(Err(e)) => Err(fail(e)),
                None => Err(fail(format!(
                    "allowlist {name:?} is not defined: add it to the pack's \"allowlists\" or set {}",
                    crate::allowlist::env_var(name)
                ))),
            }
        }
        Value::String(s) => Allowlist::new("(inline)", [s.as_str()])
            .map(Arc::new)
            .map_err(fail),
        Value::Array(items) => {
            let entries = items
                .iter()
                .map(|i| {
                    i.as_str()
                        .ok_or_else(|| fail("expected addresses or CIDR blocks as strings".into()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Allowlist::new("(inline)", entries)
                .map(Arc::new)
                .map_err(fail)
        }
        _ => Err(fail(
            "expected a list of addresses or CIDR blocks, or \"@allowlist:NAME\"".into(),
        )),
    }
}

/// `all` (`stop_on = false`) or `any` (`stop_on = true`) over priority groups; `kids` are
/// sorted by priority when the tree loads.
fn groups(kids: &[Condition], facts: &dyn Facts, stop_on: bool) -> Result<bool, EvalError> {
    if kids.is_empty() {
        return Ok(true);
    }
    for group in kids.chunk_by(|a, b| a.priority() == b.priority()) {
        let mut decided = false;
        for c in group {
            decided |= c.evaluate(facts)? == stop_on;
        }
        if decided {
            return Ok(stop_on);
        }
    }
    Ok(!stop_on)
}

/// `priority` of a node: `parseInt(priority) || 1`; negative is an error.
fn priority(obj: &Map<String, Value>, at: &str) -> Result<u32, ConditionError> {
    let Some(p) = obj.get("priority") else {
        return Ok(1);
    };
    let n = match p {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match n {
        Some(n) if n >= 0.0 => Ok((n.trunc() as u32).max(1)),
        _ => err(&format!("{at}.priority"), "expected a positive number"),
    }
}

fn parse_path(v: Option<&Value>, at: &str) -> Result<Path, ConditionError> {
    match v {
        None | Some(Value::Null) => Ok(Path::None),
        Some(Value::String(s)) => Path::parse(s).map_err(|m| ConditionError {
            path: at.to_string(),
            message: m,
        }),
        Some(_) => err(at, "expected a path string"),
    }
}

fn check_keys(obj: &Map<String, Value>, known: &[&str], at: &str) -> Result<(), ConditionError> {
    match obj.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => err(
            &format!("{at}.{k}"),
            format!("unknown key; known keys here: {}", known.join(", ")),
        ),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(cond: Value, facts: Value) -> Result<bool, EvalError> {
        let c = Condition::parse(&cond, "$.conditions").unwrap();
        let Value::Object(f) = facts else { panic!() };
        c.evaluate(&f)
    }

    #[test]
    fn tree_semantics() {
        assert_eq!(eval(json!({"all": []}), json!({})), Ok(true));
        assert_eq!(eval(json!({"any": []}), json!({})), Ok(true));
        assert_eq!(eval(json!({"not": {"any": []}}), json!({})), Ok(false));
        // A node with both any and all is an any node.
        let both = json!({"any": [{"fact": "a", "operator": "equal", "value": 1}], "all": [{"fact": "a", "operator": "equal", "value": 2}]});
        assert_eq!(eval(both, json!({"a": 1})), Ok(true));
    }

    #[test]
    fn ibm_documented_boolean_rule() {
        let rule = json!({"all": [
            {"any": [
                {"fact": "action", "operator": "equal", "value": "iam-groups.group.delete"},
                {"fact": "action", "operator": "equal", "value": "iam-groups.member.delete"}]},
            {"any": [
                {"fact": "event_time", "operator": "lessThan", "value": "0800"},
                {"fact": "event_time", "operator": "greaterThan", "value": "1700"}]},
            {"fact": "initiator", "path": ".name", "operator": "notIn", "value": ["example@ibm.com", "example2@ibm.com"]}]});
        let ev = |action: &str, t: &str, who: Value| {
            eval(
                rule.clone(),
                json!({"action": action, "event_time": t, "initiator": who}),
            )
        };
        assert_eq!(
            ev(
                "iam-groups.group.delete",
                "0230",
                json!({"name": "mallory@example.com"})
            ),
            Ok(true)
        );
        assert_eq!(
            ev(
                "iam-groups.group.delete",
                "0230",
                json!({"name": "example@ibm.com"})
            ),
            Ok(false)
        );
        assert_eq!(
            ev(
                "iam-groups.group.delete",
                "1200",
                json!({"name": "mallory@example.com"})
            ),
            Ok(false)
        );
        assert_eq!(
            ev(
                "iam-groups.group.read",
                "0230",
                json!({"name": "mallory@example.com"})
            ),
            Ok(false)
        );
        // A missing name is undefined, and undefined is not in the list: the rule fires.
        assert_eq!(
            ev(
                "iam-groups.member.delete",
                "2300",
                json!({"id": "iam-ServiceId-1"})
            ),
            Ok(true)
        );
    }

    #[test]
    fn fact_comparisons() {
        let c = json!({"fact": "a", "operator": "equal", "value": {"fact": "b", "path": "$.x"}});
        assert_eq!(eval(c.clone(), json!({"a": 1, "b": {"x": 1}})), Ok(true));
        assert_eq!(eval(c.clone(), json!({"a": 1, "b": {"x": 2}})), Ok(false));
        assert_eq!(
            eval(
                json!({"fact": "a", "operator": "equal", "value": {"fact": "b"}}),
                json!({})
            ),
            Ok(true)
        );
        // An object value without "fact" is a literal, never equal to anything.
        assert_eq!(
            eval(
                json!({"fact": "a", "operator": "equal", "value": {"x": 1}}),
                json!({"a": {"x": 1}})
            ),
            Ok(false)
        );
    }

    #[test]
    fn load_errors_name_the_path() {
        let e = |v: Value| Condition::parse(&v, "$.rules[0].conditions").unwrap_err();
        assert_eq!(e(json!({"all": {}})).path, "$.rules[0].conditions.all");
        assert_eq!(e(json!({"not": []})).path, "$.rules[0].conditions.not");
        assert_eq!(
            e(json!({"all": [{"fact": "a", "operator": "equal"}]})).path,
            "$.rules[0].conditions.all[0].value"
        );
        assert_eq!(
            e(json!({"all": [{"fact": "a", "operator": "like", "value": 1}]})).path,
            "$.rules[0].conditions.all[0].operator"
        );
        assert_eq!(
            e(json!({"any": [{"fact": "a", "operator": "in", "value": 5}]})).path,
            "$.rules[0].conditions.any[0].value"
        );
        assert_eq!(
            e(json!({"fact": "a", "operator": "equal", "value": 1, "oops": 2})).path,
            "$.rules[0].conditions.oops"
        );
        assert_eq!(
            e(json!({"condition": "shared"})).path,
            "$.rules[0].conditions.condition"
        );
        assert_eq!(
            e(json!({"fact": "a", "operator": "equal", "value": 1, "path": "$.x[?(@.y)]"})).path,
            "$.rules[0].conditions.path"
        );
        assert_eq!(e(json!({})).path, "$.rules[0].conditions");
    }

    #[test]
    fn ip_allowlists() {
        struct Lists;
        impl Allowlists for Lists {
            fn allowlist(&self, name: &str) -> Option<Result<Arc<Allowlist>, String>> {
                (name == "iam")
                    .then(|| Allowlist::new("iam", ["10.0.0.0/8", "2001:db8::/32"]).map(Arc::new))
            }
        }
        let c = |op: &str, value: Value| {
            Condition::parse_with(
                &json!({"all": [{"fact": "initiator", "path": ".host.address", "operator": op, "value": value}]}),
                "$",
                &Lists,
            )
        };
        let facts = |addr: Value| json!({"initiator": {"host": {"address": addr}}});
        let not_in = c("ipNotIn", json!("@allowlist:iam")).unwrap();
        let run = |cond: &Condition, f: Value| {
            let Value::Object(m) = f else { panic!() };
            cond.evaluate(&m).unwrap()
        };
        assert!(!run(&not_in, facts(json!(" 10.45.116.217"))));
        assert!(run(&not_in, facts(json!("203.0.113.9"))));
        // Anything but exactly one address is outside: no oddly written value gets in.
        for odd in [
            "010.0.0.1",
            "10.0.0.0/8",
            "::ffff:10.0.0.0/8",
            "[10.0.0.1]",
            "10.0.0.1:443",
            "10.0.0.1, 10.0.0.2",
        ] {
            assert!(run(&not_in, facts(json!(odd))), "{odd}");
        }
        assert!(run(&not_in, facts(json!(167772161))));
        assert!(run(&not_in, facts(json!(["10.0.0.1"]))));
        assert!(!run(&not_in, facts(json!("::ffff:10.1.1.1"))));
        assert!(run(&not_in, facts(json!(""))));
        assert!(run(&not_in, json!({"initiator": {}})));
        let in_list = c("ipIn", json!(["192.0.2.0/24"])).unwrap();
        assert!(run(&in_list, facts(json!("192.0.2.55"))));
        assert!(!run(&in_list, facts(json!("garbage"))));
        assert!(c("ipIn", json!("192.0.2.0/24, 198.51.100.1")).is_ok());
        assert!(c("ipNotIn", json!("@allowlist:office"))
            .unwrap_err()
            .message
            .contains("IAMWATCH_ALLOWLIST_OFFICE"));
        assert!(c("ipIn", json!(["nope"])).is_err());
        assert!(c("not:ipIn", json!(["10.0.0.0/8"])).is_err());
        // The explanation says why.
        let Condition::All(kids, _) = &not_in else {
            panic!()
        };
        let Condition::Leaf(leaf) = &kids[0] else {
            panic!()
        };
        let Value::Object(m) = facts(json!("")) else {
            panic!()
        };
        assert_eq!(
            leaf.explain(&m).unwrap(),
            r#"initiator.host.address "" is blank, so not on allowlist iam"#
        );
        let Value::Object(m) = facts(json!("010.0.0.1")) else {
            panic!()
        };
        assert_eq!(
            leaf.explain(&m).unwrap(),
            r#"initiator.host.address "010.0.0.1" is an address with leading zeros in an octet (decimal to some parsers, octal to others), so not on allowlist iam"#
        );
    }

    #[test]
    fn required_values_for_an_index() {
        let c = |v: Value| Condition::parse(&v, "$").unwrap();
        let leaf = |a: &str| json!({"fact": "action", "operator": "equal", "value": a});
        assert_eq!(
            c(json!({"all": [leaf("x"), {"fact": "o", "operator": "equal", "value": 1}]}))
                .required_values("action"),
            Some(vec!["x".into()])
        );
        assert_eq!(
            c(json!({"any": [leaf("x"), leaf("y")]})).required_values("action"),
            Some(vec!["x".into(), "y".into()])
        );
        assert_eq!(
            c(json!({"any": [leaf("x"), {"fact": "o", "operator": "equal", "value": 1}]}))
                .required_values("action"),
            None
        );
        assert_eq!(
            c(json!({"all": [{"fact": "action", "operator": "in", "value": ["a", "b"]}]}))
                .required_values("action"),
            Some(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            c(json!({"all": [{"fact": "action", "operator": "in", "value": ["a", 5]}]}))
                .required_values("action"),
            None
        );
        assert_eq!(c(json!({"not": leaf("x")})).required_values("action"), None);
        assert_eq!(
            c(json!({"all": [{"fact": "action", "operator": "not:equal", "value": "x"}]}))
                .required_values("action"),
            None
        );
        assert_eq!(c(json!({"all": []})).required_values("action"), None);
    }

    #[test]
    fn runtime_errors_are_reported() {
        let c = json!({"fact": "a", "operator": "in", "value": {"fact": "b"}});
        assert!(eval(c, json!({"a": 1, "b": 5})).is_err());
    }

    #[test]
    fn same_priority_siblings_all_run_so_their_errors_surface() {
        let throwing = json!({"fact": "a", "operator": "in", "value": {"fact": "missing"}});
        let falsy = json!({"fact": "a", "operator": "equal", "value": 2});
        assert!(eval(
            json!({"all": [falsy.clone(), throwing.clone()]}),
            json!({"a": 1})
        )
        .is_err());
        // A higher-priority false decides `all` before the throwing group runs.
        let mut first = falsy.clone();
        first["priority"] = json!(10);
        assert_eq!(
            eval(json!({"all": [throwing.clone(), first]}), json!({"a": 1})),
            Ok(false)
        );
    }
}
