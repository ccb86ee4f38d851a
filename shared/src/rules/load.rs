//! Strict loading of rule packs. Every error names the source, the rule and the JSON path, so a
//! typo never silently disables a rule.

use super::template::Template;
use super::{
    AppliesTo, CondPath, Matcher, Mode, Pack, Rule, Severity, Suppress, WindowKind, WindowRule,
};
use crate::allowlist::{env_var, Allowlist};
use crate::conditions::{Allowlists, Condition};
use crate::exceptions::{self, Scope};
use crate::pattern::FilterPattern;
use crate::window::{CountOp, Window};
use serde_json::{Map, Value};
use std::fmt;
use std::sync::Arc;

/// A pack that cannot be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// File name, `builtin:NAME` or `inline`.
    pub source: String,
    /// The rule's id (or its index when it has none), when the error is inside a rule.
    pub rule: Option<String>,
    /// JSON path of the offending value, e.g. `$.rules[3].severity`.
    pub path: String,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.source)?;
        if let Some(r) = &self.rule {
            write!(f, ": rule {r}")?;
        }
        write!(f, ": {}: {}", self.path, self.message)
    }
}

impl std::error::Error for LoadError {}

const PACK_KEYS: &[&str] = &[
    "pack",
    "description",
    "allowlists",
    "rules",
    "exceptions",
    "comment",
];
const RULE_KEYS: &[&str] = &[
    "id",
    "conditions",
    "event",
    "type",
    "priority",
    "name",
    "title",
    "description",
    "severity",
    "appliesTo",
    "filterPattern",
    "runbook",
    "references",
    "dormant",
    "supersedes",
    "threshold",
    "suppress",
    "mode",
    "exceptions",
    "comment",
];

struct Ctx<'a> {
    source: &'a str,
    rule: Option<String>,
}

impl Ctx<'_> {
    fn err(&self, path: impl Into<String>, message: impl Into<String>) -> LoadError {
        LoadError {
            source: self.source.to_string(),
            rule: self.rule.clone(),
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Loads a pack from JSON text. `source` names it in errors; `default_name` names a pack given
/// as a bare array of rules.
pub fn load_pack(text: &str, source: &str, default_name: &str) -> Result<Pack, LoadError> {
    let top = Ctx { source, rule: None };
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        let mut msg = format!(
            "not valid JSON at line {}, column {}: {e}",
            e.line(),
            e.column()
        );
        if e.to_string().contains("trailing comma") {
            msg.push_str(" (JSON allows no comma after the last item: delete it)");
        }
        top.err("$", msg)
    })?;
    let mut lists = PackAllowlists::default();
    let mut pack_exceptions = Vec::new();
    // The pack's JSON is taken apart as it is read: its texts (titles, runbooks,
    // descriptions), most of its bytes, move into the rules instead of being copied.
    let (name, description, rules) = match doc {
        Value::Array(rules) => (default_name.to_string(), None, rules),
        Value::Object(mut obj) => {
            check_keys(&top, "$", &obj, PACK_KEYS)?;
            let name = match obj.get("pack") {
                Some(Value::String(s)) if valid_name(s) => s.clone(),
                Some(Value::String(s)) => {
                    return Err(top.err(
                        "$.pack",
                        format!("{s:?} is not a pack name: use letters, digits, '-' and '_'"),
                    ))
                }
                Some(_) => return Err(top.err("$.pack", "expected a string")),
                None => default_name.to_string(),
            };
            let description = opt_string(&top, &mut obj, "description", "$")?;
            match obj.remove("allowlists") {
                None => {}
                Some(Value::Object(m)) => {
                    for (list, v) in m {
                        let at = format!("$.allowlists.{list}");
                        let entries = match v {
                            Value::String(s) => vec![s],
                            other => strings(&top, other, &at)?,
                        };
                        let parsed = Allowlist::named(&list, entries.iter().map(String::as_str))
                            .map_err(|e| top.err(at, e))?;
                        lists.pack.push(Arc::new(parsed));
                    }
                }
                Some(_) => {
                    return Err(top.err(
                        "$.allowlists",
                        "expected an object of named lists of addresses and CIDR blocks",
                    ))
                }
            }
            let Some(Value::Array(rules)) = obj.remove("rules") else {
                return Err(top.err("$.rules", "expected an array of rules"));
            };
            if let Some(v) = obj.get("exceptions") {
                pack_exceptions = exceptions::parse(v, "$.exceptions", Scope::Pack(&name))
                    .map_err(|e| top.err(e.path, e.message))?;
            }
            (name, description, rules)
        }
        _ => return Err(top.err("$", "expected a pack object or an array of rules")),
    };
    let mut seen = foldhash::HashSet::with_capacity_and_hasher(rules.len(), Default::default());
    let mut out = Vec::with_capacity(rules.len());
    for (i, r) in rules.into_iter().enumerate() {
        let path = format!("$.rules[{i}]");
        let rule = load_rule(source, &name, &path, i, r, &lists)?;
        if !seen.insert(rule.id.clone()) {
            return Err(Ctx {
                source,
                rule: Some(rule.id.clone()),
            }
            .err(format!("{path}.id"), "duplicate rule id in this pack"));
        }
        out.push(Arc::new(rule));
    }
    // A pack exception naming no rule of the pack is a typo that would except nothing.
    for (i, e) in pack_exceptions.iter().enumerate() {
        if let Some(g) = e
            .rules
            .iter()
            .find(|g| !out.iter().any(|r| exceptions::glob(g, &r.id)))
        {
            return Err(top.err(
                format!("$.exceptions[{i}].rules"),
                format!("{g:?} names no rule of this pack"),
            ));
        }
    }
    Ok(Pack {
        name,
        description,
        rules: out,
        exceptions: pack_exceptions,
    })
}

/// Allowlists for `"@allowlist:NAME"`: `IAMWATCH_ALLOWLIST_<NAME>` when set (deployments set
/// their own networks), else the pack's `allowlists`.
#[derive(Default)]
struct PackAllowlists {
    pack: Vec<Arc<Allowlist>>,
}

impl Allowlists for PackAllowlists {
    fn allowlist(&self, name: &str) -> Option<Result<Arc<Allowlist>, String>> {
        let var = env_var(name);
        if let Ok(v) = std::env::var(&var) {
            return Some(
                Allowlist::named(name, [v.as_str()])
                    .map(Arc::new)
                    .map_err(|e| format!("{var}: {e}")),
            );
        }
        self.pack.iter().find(|l| l.name == name).cloned().map(Ok)
    }
}

fn load_rule(
    source: &str,
    pack: &str,
    path: &str,
    index: usize,
    value: Value,
    lists: &PackAllowlists,
) -> Result<Rule, LoadError> {
    let mut ctx = Ctx {
        source,
        rule: Some(format!("#{index}")),
    };
    let Value::Object(mut obj) = value else {
        return Err(ctx.err(path, "expected a rule object"));
    };
    // Activity Insights rules name themselves by their event type.
    let (event_type, finding_type) = match obj.get("event") {
        None => (None, None),
        Some(Value::Object(e)) => {
            let t = match e.get("type") {
                Some(Value::String(t)) if !t.is_empty() => t.clone(),
                _ => {
                    return Err(ctx.err(
                        format!("{path}.event.type"),
                        "an event needs a type (a string)",
                    ))
                }
            };
            let finding = match e.get("params") {
                None | Some(Value::Null) => None,
                Some(Value::Object(p)) => match p.get("findingType") {
                    None => None,
                    Some(Value::String(f)) => Some(f.clone()),
                    Some(_) => {
                        return Err(ctx.err(
                            format!("{path}.event.params.findingType"),
                            "expected a string",
                        ))
                    }
                },
                Some(_) => {
                    return Err(ctx.err(format!("{path}.event.params"), "expected an object"))
                }
            };
            (Some(t), finding)
        }
        Some(_) => return Err(ctx.err(format!("{path}.event"), "expected an object with a type")),
    };
    let id = match (obj.get("id"), &event_type) {
        (Some(Value::String(s)), _) if valid_name(s) => s.clone(),
        (Some(Value::String(s)), _) => {
            return Err(ctx.err(
                format!("{path}.id"),
                format!("{s:?} is not a rule id: use letters, digits, '.', '-' and '_'"),
            ))
        }
        (Some(_), _) => return Err(ctx.err(format!("{path}.id"), "expected a string")),
        (None, Some(t)) => t.clone(),
        (None, None) => {
            return Err(ctx.err(
                format!("{path}.id"),
                "every rule needs an id (or, for json-rules-engine rules, an event type)",
            ))
        }
    };
    ctx.rule = Some(id.clone());
    check_keys(&ctx, path, &obj, RULE_KEYS)?;
    // The texts move out of the rule's JSON (see `load_pack`).
    let title = opt_string(&ctx, &mut obj, "title", path)?;
    let description = opt_string(&ctx, &mut obj, "description", path)?;
    let runbook = obj.remove("runbook");
    let references = obj.remove("references");
    let supersedes = obj.remove("supersedes");
    let severity = match obj.get("severity") {
        None => Severity::Medium,
        Some(Value::String(s)) => s
            .parse()
            .map_err(|e: String| ctx.err(format!("{path}.severity"), e))?,
        Some(_) => return Err(ctx.err(format!("{path}.severity"), "expected a string")),
    };
    let kind = match obj.get("type") {
        None => "boolean",
        Some(Value::String(t)) if matches!(t.as_str(), "boolean" | "aggregate" | "coincident") => {
            t.as_str()
        }
        Some(_) => {
            return Err(ctx.err(
                format!("{path}.type"),
                "expected \"boolean\", \"aggregate\" or \"coincident\"",
            ))
        }
    };
    let priority = match obj.get("priority") {
        None => 1,
        Some(p) => {
            // json-rules-engine: parseInt(priority), where 0 means 1 and below 0 is an error.
            let n = match p {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            };
            match n {
                Some(n) if n >= 0.0 => (n.trunc() as u32).max(1),
                _ => return Err(ctx.err(format!("{path}.priority"), "expected a positive number")),
            }
        }
    };
    let applies_to = match obj.get("appliesTo").map(Value::as_str) {
        // Conditions name CADF facts (action, initiator, reason); patterns are for any record.
        None if obj.contains_key("conditions") => AppliesTo::Cadf,
        None => AppliesTo::Any,
        Some(Some("cloudtrail")) => AppliesTo::CloudTrail,
        Some(Some("cadf")) => AppliesTo::Cadf,
        Some(Some("any")) => AppliesTo::Any,
        Some(_) => {
            return Err(ctx.err(
                format!("{path}.appliesTo"),
                "expected \"cloudtrail\", \"cadf\" or \"any\"",
            ))
        }
    };
    let mut window: Option<WindowRule> = None;
    if kind != "boolean" && obj.contains_key("filterPattern") {
        return Err(ctx.err(
            format!("{path}.type"),
            "aggregate and coincident rules use \"conditions\"; give a filterPattern rule a \"threshold\"",
        ));
    }
    let matcher = match (obj.get("filterPattern"), obj.get("conditions")) {
        (Some(_), Some(_)) => {
            return Err(ctx.err(
                path,
                "a rule has one matcher: \"filterPattern\" or \"conditions\", not both",
            ))
        }
        (Some(Value::String(p)), None) => Matcher::FilterPattern(FilterPattern::new(p).map_err(|e| {
            ctx.err(
                format!("{path}.filterPattern"),
                format!("{e}\n{}", e.caret(p)),
            )
        })?),
        (Some(_), None) => return Err(ctx.err(format!("{path}.filterPattern"), "expected a string")),
        (None, Some(c)) => {
            let at = format!("{path}.conditions");
            let root_ok = c
                .as_object()
                .is_some_and(|o| ["all", "any", "not"].iter().any(|k| o.contains_key(*k)));
            if !root_ok {
                return Err(ctx.err(at, "the root of \"conditions\" must be \"all\", \"any\" or \"not\""));
            }
            let split;
            let filter = if kind == "boolean" {
                c
            } else {
                let (f, w) = split_window(c, &at, kind).map_err(|(p, m)| ctx.err(p, m))?;
                window = Some(w);
                split = f;
                &split
            };
            Matcher::Conditions(
                Condition::parse_with(filter, &at, lists).map_err(|e| ctx.err(e.path, e.message))?,
            )
        }
        (None, None) => {
            return Err(ctx.err(
                path,
                "a rule needs a matcher: \"filterPattern\" (CloudWatch Logs syntax) or \"conditions\" (json-rules-engine)",
            ))
        }
    };
    if let Some(t) = obj.get("threshold") {
        if window.is_some() {
            return Err(ctx.err(
                format!("{path}.threshold"),
                "an aggregate or coincident rule already has its window in its conditions",
            ));
        }
        window = Some(threshold(t, &format!("{path}.threshold")).map_err(|(p, m)| ctx.err(p, m))?);
    }
    let suppress = match obj.get("suppress") {
        None => None,
        Some(v) => Some(suppress(v, &format!("{path}.suppress")).map_err(|(p, m)| ctx.err(p, m))?),
    };
    let title = title
        .map(|t| Template::parse(t).map_err(|e| ctx.err(format!("{path}.title"), e)))
        .transpose()?;
    let runbook = match runbook {
        None => Vec::new(),
        Some(Value::String(s)) => vec![s],
        Some(v) => strings(&ctx, v, &format!("{path}.runbook"))?,
    };
    let runbook_steps = runbook
        .into_iter()
        .enumerate()
        .map(|(i, step)| {
            Template::parse(step).map_err(|e| ctx.err(format!("{path}.runbook[{i}]"), e))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let references = match references {
        None => Vec::new(),
        Some(v) => strings(&ctx, v, &format!("{path}.references"))?,
    };
    let dormant = match obj.get("dormant") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(ctx.err(format!("{path}.dormant"), "expected true or false")),
    };
    let supersedes = match supersedes {
        None => Vec::new(),
        Some(v) => strings(&ctx, v, &format!("{path}.supersedes"))?,
    };
    for (i, s) in supersedes.iter().enumerate() {
        let ok = s
            .split_once('/')
            .is_some_and(|(p, r)| valid_name(p) && valid_name(r));
        if !ok {
            return Err(ctx.err(
                format!("{path}.supersedes[{i}]"),
                format!("{s:?} is not a rule reference: write PACK/RULE, e.g. cis-aws-foundations/cis-4.1"),
            ));
        }
    }
    let mode = match obj.get("mode") {
        None => Mode::Live,
        Some(Value::String(m)) if m == "live" => Mode::Live,
        Some(Value::String(m)) if m == "dry-run" => Mode::DryRun,
        Some(_) => return Err(ctx.err(format!("{path}.mode"), "expected \"live\" or \"dry-run\"")),
    };
    let exceptions = match obj.get("exceptions") {
        None => Vec::new(),
        Some(v) => exceptions::parse(v, &format!("{path}.exceptions"), Scope::Rule(pack, &id))
            .map_err(|e| ctx.err(e.path, e.message))?,
    };
    Ok(Rule {
        mode,
        exceptions,
        id,
        event_type,
        finding_type,
        title,
        description,
        severity,
        applies_to,
        matcher,
        runbook_steps,
        references,
        dormant,
        supersedes,
        priority,
        window,
        suppress,
    })
}

type Fail = (String, String);

/// Splits an Activity Insights aggregate or coincident rule's conditions into the per-event
/// filter and the window. The window facts (`occurrences`, `withInLast`, and for coincident
/// rules `actions contains` or IBM's `all[action equal A, occurrences equal 1]` groups) must sit
/// directly under the root `all`, as IBM documents.
fn split_window(c: &Value, at: &str, kind: &str) -> Result<(Value, WindowRule), Fail> {
    let fail = |p: String, m: &str| Err((p, m.to_string()));
    let Some(Value::Array(items)) = c.get("all") else {
        return fail(
            at.to_string(),
            "an aggregate or coincident rule's conditions must be an \"all\"",
        );
    };
    let leaf = |v: &Value, fact: &str| v.get("fact").and_then(Value::as_str) == Some(fact);
    let mut within = None;
    let mut occurrences = None;
    let mut actions = Vec::new();
    let mut rest = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let here = format!("{at}.all[{i}]");
        if leaf(item, "withInLast") {
            let (Some("equal"), Some(Value::String(w))) = (
                item.get("operator").and_then(Value::as_str),
                item.get("value"),
            ) else {
                return fail(
                    here,
                    "withInLast takes operator \"equal\" and a value such as \"30 minutes\"",
                );
            };
            within = Some(Window::parse(w).map_err(|m| (format!("{here}.value"), m))?);
        } else if leaf(item, "occurrences") && kind == "aggregate" {
            let op = match item.get("operator").and_then(Value::as_str) {
                Some("equal") => CountOp::Equal,
                Some("greaterThan") => CountOp::GreaterThan,
                Some("greaterThanInclusive") => CountOp::GreaterThanInclusive,
                _ => {
                    return fail(
                        format!("{here}.operator"),
                        "occurrences takes equal, greaterThan or greaterThanInclusive",
                    )
                }
            };
            let n = item
                .get("value")
                .and_then(Value::as_f64)
                .filter(|n| *n >= 1.0 && n.fract() == 0.0)
                .ok_or_else(|| {
                    (
                        format!("{here}.value"),
                        "occurrences needs a positive whole number".to_string(),
                    )
                })?;
            occurrences = Some((op, n as u64));
        } else if leaf(item, "actions") && kind == "coincident" {
            match (
                item.get("operator").and_then(Value::as_str),
                item.get("value"),
            ) {
                (Some("contains"), Some(Value::String(a))) => actions.push(a.clone()),
                _ => {
                    return fail(
                        here,
                        "actions takes operator \"contains\" and an action name",
                    )
                }
            }
        } else if kind == "coincident" && item.get("all").is_some_and(Value::is_array) {
            // IBM's shipped dialect: all[action equal A, occurrences equal 1].
            let group = item["all"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            let action = group.iter().find(|g| leaf(g, "action")).and_then(|g| {
                (g.get("operator").and_then(Value::as_str) == Some("equal"))
                    .then(|| g.get("value").and_then(Value::as_str))
                    .flatten()
            });
            let only_window = group
                .iter()
                .all(|g| leaf(g, "action") || leaf(g, "occurrences"));
            match action {
                Some(a) if only_window => actions.push(a.to_string()),
                _ => rest.push(item.clone()),
            }
        } else {
            rest.push(item.clone());
        }
    }
    let Some(window) = within else {
        return fail(
            format!("{at}.all"),
            "an aggregate or coincident rule needs {\"fact\": \"withInLast\", \"operator\": \"equal\", \"value\": \"30 minutes\"}",
        );
    };
    let kind = if kind == "aggregate" {
        let Some((op, count)) = occurrences else {
            return fail(
                format!("{at}.all"),
                "an aggregate rule needs {\"fact\": \"occurrences\", ...} with a count",
            );
        };
        WindowKind::Aggregate { op, count }
    } else {
        if actions.len() < 2 {
            return fail(
                format!("{at}.all"),
                "a coincident rule needs at least two actions",
            );
        }
        WindowKind::Coincident { actions }
    };
    Ok((
        serde_json::json!({ "all": rest }),
        WindowRule {
            kind,
            window,
            by: Vec::new(),
        },
    ))
}

/// `"threshold": {"count": 5, "within": "30 minutes", "by": ["$.userIdentity.arn"]}`: fires
/// when at least `count` matching events fall in the window, per group.
fn threshold(v: &Value, at: &str) -> Result<WindowRule, Fail> {
    let Value::Object(o) = v else {
        return Err((
            at.to_string(),
            "expected {\"count\", \"within\", \"by\"}".into(),
        ));
    };
    if let Some(k) = o
        .keys()
        .find(|k| !["count", "within", "by"].contains(&k.as_str()))
    {
        return Err((
            format!("{at}.{k}"),
            "unknown key; known keys: count, within, by".into(),
        ));
    }
    let count = o
        .get("count")
        .and_then(Value::as_u64)
        .filter(|n| *n >= 1)
        .ok_or_else(|| {
            (
                format!("{at}.count"),
                "expected a whole number from 1".to_string(),
            )
        })?;
    let window = match o.get("within") {
        Some(Value::String(w)) => Window::parse(w).map_err(|m| (format!("{at}.within"), m))?,
        _ => {
            return Err((
                format!("{at}.within"),
                "expected a window such as \"30 minutes\"".into(),
            ))
        }
    };
    let by = selectors(o.get("by"), &format!("{at}.by"))?;
    Ok(WindowRule {
        kind: WindowKind::Aggregate {
            op: CountOp::GreaterThanInclusive,
            count,
        },
        window,
        by,
    })
}

/// `{"for": "60 minutes", "by": ["$.userIdentity.arn"]}`.
fn suppress(v: &Value, at: &str) -> Result<Suppress, Fail> {
    let Value::Object(o) = v else {
        return Err((at.to_string(), "expected {\"for\", \"by\"}".into()));
    };
    if let Some(k) = o.keys().find(|k| !["for", "by"].contains(&k.as_str())) {
        return Err((
            format!("{at}.{k}"),
            "unknown key; known keys: for, by".into(),
        ));
    }
    let period = match o.get("for") {
        Some(Value::String(w)) => Window::parse(w).map_err(|m| (format!("{at}.for"), m))?,
        _ => {
            return Err((
                format!("{at}.for"),
                "expected a period such as \"60 minutes\"".into(),
            ))
        }
    };
    Ok(Suppress {
        period,
        by: selectors(o.get("by"), &format!("{at}.by"))?,
    })
}

/// A list of `$...` selectors (group-by keys).
fn selectors(v: Option<&Value>, at: &str) -> Result<Vec<(String, CondPath)>, Fail> {
    let Some(v) = v else { return Ok(Vec::new()) };
    let Value::Array(items) = v else {
        return Err((at.to_string(), "expected a list of selectors".into()));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let text = s.as_str().filter(|s| s.starts_with('$')).ok_or_else(|| {
                (
                    format!("{at}[{i}]"),
                    "expected a selector such as \"$.userIdentity.arn\"".to_string(),
                )
            })?;
            let p = CondPath::parse(text).map_err(|m| (format!("{at}[{i}]"), m))?;
            Ok((text.to_string(), p))
        })
        .collect()
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The string `key` of `obj`, taken out of it.
fn opt_string(
    ctx: &Ctx,
    obj: &mut Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<String>, LoadError> {
    match obj.remove(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ctx.err(format!("{path}.{key}"), "expected a string")),
    }
}

fn strings(ctx: &Ctx, v: Value, path: &str) -> Result<Vec<String>, LoadError> {
    let Value::Array(items) = v else {
        return Err(ctx.err(path, "expected an array of strings"));
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, s)| match s {
            Value::String(s) => Ok(s),
            _ => Err(ctx.err(format!("{path}[{i}]"), "expected a string")),
        })
        .collect()
}

fn check_keys(
    ctx: &Ctx,
    path: &str,
    obj: &Map<String, Value>,
    known: &[&str],
) -> Result<(), LoadError> {
    for key in obj.keys() {
        if !known.contains(&key.as_str()) {
            let hint = known
                .iter()
                .filter(|k| edit_distance(k, key) <= 2)
                .min_by_key(|k| edit_distance(k, key))
                .map(|k| format!(" (did you mean {k:?}?)"))
                .unwrap_or_default();
            return Err(ctx.err(
                format!("{path}.{key}"),
                format!("unknown key{hint}; known keys: {}", known.join(", ")),
            ));
        }
    }
    Ok(())
}

/// Levenshtein distance, for "did you mean" hints on short keys.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> LoadError {
        load_pack(text, "test.json", "test").unwrap_err()
    }

    #[test]
    fn loads_a_pack() {
        let p = load_pack(
            r#"{"pack": "p", "rules": [{"id": "r1", "severity": "high", "filterPattern": "{ $.a = 1 }",
                "title": "A by {actor}", "runbook": ["one", "two"], "references": ["x"]},
               {"id": "r2", "filterPattern": "ERROR", "dormant": true, "comment": "ignored"}]}"#,
            "test.json",
            "test",
        )
        .unwrap();
        assert_eq!(p.name, "p");
        assert_eq!(p.rules.len(), 2);
        assert_eq!(p.rules[0].severity, Severity::High);
        assert_eq!(p.rules[1].severity, Severity::Medium);
        assert!(p.rules[1].dormant);
        let steps: Vec<&str> = p.rules[0].runbook_steps.iter().map(|t| t.text()).collect();
        assert_eq!(steps, ["one", "two"]);
    }

    #[test]
    fn errors_name_source_rule_and_path() {
        let e = err(
            r#"{"pack": "p", "rules": [{"id": "ok", "filterPattern": "x"}, {"id": "r2", "filterPattern": "x", "severty": "high"}]}"#,
        );
        assert_eq!(e.rule.as_deref(), Some("r2"));
        assert_eq!(e.path, "$.rules[1].severty");
        assert!(e.message.contains("did you mean \"severity\""), "{e}");
        assert!(e
            .to_string()
            .starts_with("test.json: rule r2: $.rules[1].severty: unknown key"));

        let e = err(r#"{"rules": [{"id": "r", "filterPattern": "x", "severity": "hihg"}]}"#);
        assert_eq!(e.path, "$.rules[0].severity");
        assert!(e.message.contains("expected one of"), "{e}");

        let e = err(r#"{"rules": [{"id": "r", "filterPattern": "{ $.a = "}]}"#);
        assert_eq!(e.path, "$.rules[0].filterPattern");
        assert!(e.message.contains("invalid filter pattern at byte"), "{e}");

        let e = err(r#"{"rules": [{"id": "r"}]}"#);
        assert!(e.message.contains("needs a matcher"), "{e}");

        let e = err(
            r#"{"rules": [{"id": "r", "filterPattern": "x"}, {"id": "r", "filterPattern": "y"}]}"#,
        );
        assert!(e.message.contains("duplicate"), "{e}");

        let e = err(r#"{"rules": [{"id": "r", "filterPattern": "x", "title": "{x"}]}"#);
        assert_eq!(e.path, "$.rules[0].title");

        let e = err(r#"{"rules": [{"id": "r", "conditions": {"all": []}, "type": "aggregate"}]}"#);
        assert!(e.message.contains("withInLast"), "{e}");
        let e = err(
            r#"{"rules": [{"id": "r", "conditions": {"fact": "a", "operator": "equal", "value": 1}}]}"#,
        );
        assert_eq!(e.path, "$.rules[0].conditions");
        let e = err(
            r#"{"rules": [{"id": "r", "conditions": {"all": [{"fact": "a", "operator": "nope", "value": 1}]}}]}"#,
        );
        assert_eq!(e.path, "$.rules[0].conditions.all[0].operator");
        let e = err(r#"[{"conditions": {"all": []}}]"#);
        assert!(e.message.contains("event type"), "{e}");

        let e = err(r#"{"rules": [{"id": "r", "filterPattern": "x",}]}"#);
        assert!(e.message.contains("delete it"), "{e}");
        assert!(e.message.contains("line 1, column"), "{e}");

        let e = err(r#"{"rules": [{"id": "r", "filterPattern": "x", "supersedes": ["cis-4.1"]}]}"#);
        assert_eq!(e.path, "$.rules[0].supersedes[0]");

        let e = err(r#"{"rule": []}"#);
        assert!(e.message.contains("did you mean \"rules\""), "{e}");
    }
}
