//! Exceptions: known automation and accepted activity that a rule must not alert on, each with
//! the reason it is accepted and, optionally, the date it stops being accepted.
//!
//! ```json
//! {"id": "terraform-pipeline", "reason": "IAM is managed by the deploy pipeline (PLAT-123)",
//!  "rules": ["aws-iam-changes/*", "aws-recommended/iam-policy-changes"],
//!  "role": "deploy-*", "tool": "terraform", "expires": "2027-06-30"}
//! ```
//!
//! Every match field given must match (a field given as a list matches when any item does):
//!
//! | field | matches | how |
//! |---|---|---|
//! | `principal` | `userIdentity.arn` or the role ARN behind a session (`sessionIssuer.arn`); CADF `initiator.id` | glob |
//! | `role` | the role's name (`deploy`, `AWSReservedSSO_Admin_0123456789abcdef`), or the name alerts show (`AWSReservedSSO_Admin`) | glob |
//! | `session` | the role session's name | glob |
//! | `identity` | the resolved human or workload ([`crate::identity`]: `alice@example.com`) | glob |
//! | `userAgent` | `userAgent` (CADF `initiator.host.agent`) | glob, any case |
//! | `tool` | a deployment tool by its known user agents: `terraform`, `pulumi`, `cloudformation`, `cdk` | — |
//! | `account` | the account the event happened in | glob |
//! | `source` | the source address: a network or address (`10.0.0.0/8`) holds it, or a host-name glob (`*.amazonaws.com`) matches the name AWS writes there | network, glob |
//! | `event` | `eventName` (`CreatePolicyVersion`), or with a `:` the action (`iam:Create*`, CADF `iam-am.policy.create`) | glob |
//!
//! Globs: `*` any run of characters, `?` one; everything else literal, case-sensitive.
//!
//! An exception needs an `id`, a `reason`, and at least one match field among `principal`,
//! `role`, `identity`, `account`, `source` and `event`: `userAgent`, `tool` and `session` are
//! written by the caller, so an exception on those alone would let anyone who sets them
//! through. `expires` (`2027-06-30`, through the end of that day UTC, or an RFC 3339 time)
//! is compared with the event's time, so a replay silences what was silenced then; an
//! exception past its date silences nothing, and `iamwatch exceptions list` says so.
//!
//! Where they apply: an exception in `IAMWATCH_EXCEPTIONS` (or `--exceptions`) applies to every
//! rule, or to the `rules` it names (`PACK/RULE` globs); one in a pack's `exceptions` to that
//! pack's rules, or the rule ids it names; one in a rule's `exceptions` to that rule. Excepted
//! matches are not counted in the rule's windows, raise no alert, and are counted per
//! exception (`global/ID`, `PACK/ID`, `PACK/RULE/ID`).

use crate::allowlist::{parse_network, Allowlist};
use crate::event::{Event, Provider};
use crate::identity::Identity;
use crate::net::parse_address;
use crate::time::Timestamp;
use serde_json::{Map, Value};
use std::fmt;
use std::net::IpAddr;

/// One exception, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    /// Where it is defined and its id: `global/ID`, `PACK/ID` or `PACK/RULE/ID`.
    pub name: String,
    pub reason: String,
    /// `PACK/RULE` globs it is limited to (empty: every rule in its scope).
    pub rules: Vec<String>,
    /// Through this time (ms since the epoch), when it has an end.
    pub expires: Option<Timestamp>,
    /// The date as written.
    pub expires_text: Option<String>,
    principal: Vec<String>,
    role: Vec<String>,
    session: Vec<String>,
    identity: Vec<String>,
    user_agent: Vec<String>,
    tool: Vec<Tool>,
    account: Vec<String>,
    source_nets: Allowlist,
    source_names: Vec<String>,
    event: Vec<String>,
}

/// A deployment tool known by its user agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    Terraform,
    Pulumi,
    CloudFormation,
    Cdk,
}

impl Tool {
    const NAMES: &'static str = "terraform, pulumi, cloudformation, cdk";

    fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "terraform" => Tool::Terraform,
            "pulumi" => Tool::Pulumi,
            "cloudformation" => Tool::CloudFormation,
            "cdk" => Tool::Cdk,
            _ => return None,
        })
    }

    /// Terraform's AWS provider writes `... Terraform/1.9.0 ... terraform-provider-aws/5.x`;
    /// Pulumi `... pulumi/3.x`; the CDK CLI `aws-cdk/2.x`; CloudFormation acts as
    /// `cloudformation.amazonaws.com` (user agent, source and `invokedBy`).
    fn matches(self, event: &Event) -> bool {
        let ua = event.user_agent().unwrap_or("").to_ascii_lowercase();
        match self {
            Tool::Terraform => ua.contains("terraform"),
            Tool::Pulumi => ua.contains("pulumi"),
            Tool::Cdk => ua.contains("aws-cdk"),
            Tool::CloudFormation => {
                const CFN: &str = "cloudformation.amazonaws.com";
                ua == CFN
                    || event.source_ip_text() == Some(CFN)
                    || event.str_at(&["userIdentity", "invokedBy"]) == Some(CFN)
            }
        }
    }
}

/// Why an exception is not usable: where it is, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionError {
    /// JSON path of the offending member (`$.exceptions[2].expires`).
    pub path: String,
    pub message: String,
}

impl fmt::Display for ExceptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for ExceptionError {}

const KEYS: &[&str] = &[
    "id",
    "reason",
    "rules",
    "expires",
    "principal",
    "role",
    "session",
    "identity",
    "userAgent",
    "tool",
    "account",
    "source",
    "event",
];

/// Member names that mean "match on something the caller cannot choose".
const TRUSTED: &[&str] = &[
    "principal",
    "role",
    "identity",
    "account",
    "source",
    "event",
];

/// Where an exception is defined, which decides its name and what `rules` may name.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// `IAMWATCH_EXCEPTIONS`: every rule; `rules` names `PACK/RULE` globs.
    Global,
    /// A pack's `exceptions`: its rules; `rules` names rule ids (globs).
    Pack(&'a str),
    /// A rule's `exceptions`: that rule; no `rules`.
    Rule(&'a str, &'a str),
}

/// The exceptions of `doc`: an array of exceptions, or `{"exceptions": [...]}`; `at` is its
/// JSON path for errors.
pub fn parse(doc: &Value, at: &str, scope: Scope<'_>) -> Result<Vec<Exception>, ExceptionError> {
    let err = |path: String, message: String| ExceptionError { path, message };
    let (list, at) = match doc {
        Value::Array(list) => (list, at.to_string()),
        Value::Object(m) if matches!(scope, Scope::Global) && m.contains_key("exceptions") => {
            if let Some(k) = m.keys().find(|k| *k != "exceptions") {
                return Err(err(
                    format!("{at}.{k}"),
                    "unknown member (expected only \"exceptions\")".into(),
                ));
            }
            match &m["exceptions"] {
                Value::Array(list) => (list, format!("{at}.exceptions")),
                _ => {
                    return Err(err(
                        format!("{at}.exceptions"),
                        "expected an array of exceptions".into(),
                    ))
                }
            }
        }
        _ => {
            return Err(err(
                at.to_string(),
                "expected an array of exceptions (or {\"exceptions\": [...]})".into(),
            ))
        }
    };
    let mut out: Vec<Exception> = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let path = format!("{at}[{i}]");
        let e = one(item, &path, scope)?;
        if out.iter().any(|o| o.name == e.name) {
            return Err(err(
                format!("{path}.id"),
                format!("{} is defined twice", e.name),
            ));
        }
        out.push(e);
    }
    Ok(out)
}

/// The global exceptions of a setting: inline JSON (text starting with `{` or `[`), or the
/// path of a JSON file.
pub fn from_setting(value: &str) -> Result<Vec<Exception>, ExceptionError> {
    let value = value.trim();
    let (text, source) = if value.starts_with('{') || value.starts_with('[') {
        (value.to_string(), "$".to_string())
    } else {
        let text = std::fs::read_to_string(value).map_err(|e| ExceptionError {
            path: value.to_string(),
            message: format!("cannot read the file: {e}"),
        })?;
        (text, format!("{value}: $"))
    };
    let doc: Value = serde_json::from_str(&text).map_err(|e| ExceptionError {
        path: source.clone(),
        message: format!(
            "not valid JSON at line {}, column {}: {e}",
            e.line(),
            e.column()
        ),
    })?;
    parse(&doc, &source, Scope::Global)
}

fn one(item: &Value, path: &str, scope: Scope<'_>) -> Result<Exception, ExceptionError> {
    let err = |at: &str, message: String| ExceptionError {
        path: format!("{path}{at}"),
        message,
    };
    let Value::Object(m) = item else {
        return Err(err("", "expected an exception object".into()));
    };
    if let Some(k) = m.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(err(
            &format!(".{k}"),
            format!("unknown member (expected {})", KEYS.join(", ")),
        ));
    }
    let text = |key: &str| -> Result<Option<String>, ExceptionError> {
        match m.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
            Some(_) => Err(err(
                &format!(".{key}"),
                "expected a non-empty string".into(),
            )),
        }
    };
    let id = text("id")?.ok_or_else(|| err(".id", "every exception needs an id".into()))?;
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(err(
            ".id",
            format!("{id:?} is not an id: use letters, digits, '.', '-' and '_'"),
        ));
    }
    let reason = text("reason")?.ok_or_else(|| {
        err(
            ".reason",
            "every exception needs a reason: why this activity is accepted, and who accepted it"
                .into(),
        )
    })?;
    let list = |key: &str| strings(m, key).map_err(|msg| err(&format!(".{key}"), msg));
    let rules = list("rules")?;
    let name = match scope {
        Scope::Global => format!("global/{id}"),
        Scope::Pack(p) => format!("{p}/{id}"),
        Scope::Rule(p, r) => {
            if !rules.is_empty() {
                return Err(err(
                    ".rules",
                    "an exception inside a rule applies to that rule: leave \"rules\" out".into(),
                ));
            }
            format!("{p}/{r}/{id}")
        }
    };
    if let Scope::Global = scope {
        if let Some(r) = rules.iter().find(|r| !r.contains('/')) {
            return Err(err(
                ".rules",
                format!("{r:?}: name rules as PACK/RULE (globs allowed: aws-iam-changes/*)"),
            ));
        }
    }
    let (expires, expires_text) = match text("expires")? {
        None => (None, None),
        Some(t) => {
            let at = if t.len() == 10 {
                Timestamp::parse(&format!("{t}T23:59:59.999Z"))
            } else {
                Timestamp::parse(&t)
            };
            match at {
                Some(at) => (Some(at), Some(t)),
                None => {
                    return Err(err(
                        ".expires",
                        format!("{t:?} is not a date: write 2027-06-30 or 2027-06-30T12:00:00Z"),
                    ))
                }
            }
        }
    };
    let tool = list("tool")?
        .iter()
        .map(|t| {
            Tool::parse(t).ok_or_else(|| {
                err(
                    ".tool",
                    format!("{t:?} is not a known tool (expected {})", Tool::NAMES),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut source_nets = Vec::new();
    let mut source_names = Vec::new();
    for s in list("source")? {
        if s.bytes()
            .any(|b| b.is_ascii_alphabetic() && !b.is_ascii_hexdigit())
            || s.contains('*')
        {
            // A name: letters beyond hexadecimal digits, or a glob.
            source_names.push(s);
        } else {
            source_nets.push(parse_network(&s).map_err(|e| err(".source", format!("{s:?}: {e}")))?);
        }
    }
    if !TRUSTED.iter().any(|k| m.contains_key(*k)) {
        return Err(err(
            "",
            format!(
                "an exception must match on at least one of {}: userAgent, tool and session are chosen by the caller, and would let anyone who sets them through",
                TRUSTED.join(", ")
            ),
        ));
    }
    Ok(Exception {
        name,
        reason,
        rules,
        expires,
        expires_text,
        principal: list("principal")?,
        role: list("role")?,
        session: list("session")?,
        identity: list("identity")?,
        user_agent: list("userAgent")?
            .into_iter()
            .map(|u| u.to_ascii_lowercase())
            .collect(),
        tool,
        account: list("account")?,
        source_nets: Allowlist::from_networks("source", source_nets),
        source_names,
        event: list("event")?,
    })
}

/// A string, or a non-empty array of strings; nothing when absent.
fn strings(m: &Map<String, Value>, key: &str) -> Result<Vec<String>, String> {
    match m.get(key) {
        None => Ok(Vec::new()),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(vec![s.trim().to_string()]),
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|v| match v {
                Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
                _ => Err("expected non-empty strings".to_string()),
            })
            .collect(),
        Some(_) => Err("expected a non-empty string or a non-empty array of strings".into()),
    }
}

/// What exceptions read of an event, worked out once per event.
pub struct Subject<'e> {
    event: &'e Event,
    identity: Option<Identity>,
    source: Option<IpAddr>,
}

impl<'e> Subject<'e> {
    pub fn new(event: &'e Event) -> Self {
        let record = event.record();
        Self {
            event,
            identity: Identity::resolve(|k| record.get(k).map(std::borrow::Cow::Borrowed)),
            source: event.source_ip_text().and_then(|s| parse_address(s).ok()),
        }
    }
}

impl Exception {
    /// Whether this exception covers rule `rule` of pack `pack` (its scope checked by the
    /// caller: only `rules` is looked at here).
    pub fn covers(&self, pack: &str, rule: &str) -> bool {
        if self.rules.is_empty() {
            return true;
        }
        self.rules.iter().any(|g| self.names(g, pack, rule))
    }

    /// Whether `g`, one of `rules`, names rule `rule` of `pack`: global exceptions name
    /// `PACK/RULE` (each part a glob), pack exceptions the pack's rule ids.
    pub fn names(&self, g: &str, pack: &str, rule: &str) -> bool {
        if self.name.starts_with("global/") {
            g.split_once('/')
                .is_some_and(|(p, r)| glob(p, pack) && glob(r, rule))
        } else {
            glob(g, rule)
        }
    }

    /// Whether `g`, one of the exception's rule names, may name a rule of the pack `pack`
    /// (whose rules are not known yet).
    pub fn may_name_in(&self, g: &str, pack: &str) -> bool {
        if self.name.starts_with("global/") {
            g.split_once('/').is_some_and(|(p, _)| glob(p, pack))
        } else {
            true
        }
    }

    /// Whether the event is one this exception accepts (its time within `expires`).
    pub fn accepts(&self, s: &Subject<'_>) -> bool {
        let e = s.event;
        if let Some(end) = self.expires {
            let at = e.time().unwrap_or_else(Timestamp::now);
            if at > end {
                return false;
            }
        }
        let any = |globs: &[String], values: &[Option<&str>]| {
            globs.is_empty()
                || globs
                    .iter()
                    .any(|g| values.iter().flatten().any(|v| glob(g, v)))
        };
        let id = s.identity.as_ref();
        let issuer = match e.provider() {
            Provider::CloudTrail => {
                e.str_at(&["userIdentity", "sessionContext", "sessionIssuer", "arn"])
            }
            Provider::Cadf => None,
        };
        let via = id.and_then(|i| i.via.as_deref());
        let action = self
            .event
            .iter()
            .any(|g| g.contains(':'))
            .then(|| e.action());
        any(&self.principal, &[e.actor_id(), issuer])
            && any(&self.role, &[id.and_then(|i| i.role.as_deref()), via])
            && any(&self.session, &[id.and_then(|i| i.session.as_deref())])
            && any(&self.identity, &[id.map(|i| i.who.as_str())])
            && any(&self.account, &[e.account()])
            && any(&self.event, &[e.event_name(), action.as_deref()])
            && (self.user_agent.is_empty() || {
                let ua = e.user_agent().unwrap_or("").to_ascii_lowercase();
                self.user_agent.iter().any(|g| glob(g, &ua))
            })
            && (self.tool.is_empty() || self.tool.iter().any(|t| t.matches(e)))
            && (self.source_nets.is_empty() && self.source_names.is_empty() || {
                let text = e.source_ip_text().map(str::trim);
                s.source.is_some_and(|ip| self.source_nets.contains(ip))
                    || text.is_some_and(|t| self.source_names.iter().any(|g| glob(g, t)))
            })
    }

    /// Whether the exception's end has passed at `now`.
    pub fn expired(&self, now: Timestamp) -> bool {
        self.expires.is_some_and(|end| now > end)
    }
}

/// `*` any run of characters, `?` one character; the rest literal.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // The classic two-pointer match: on a mismatch, let the last `*` take one more character.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// An exception and where it applies: everywhere (`None`), a pack, or a rule of a pack.
pub(crate) type ScopedException = (Option<(String, Option<String>)>, Exception);

/// The exceptions that can apply, by scope, and the check of a match against them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exceptions {
    /// Global ones, then those of packs (`PACK/...`) and rules (`PACK/RULE/...`).
    all: Vec<ScopedException>,
}

impl Exceptions {
    /// Global exceptions.
    pub fn global(list: Vec<Exception>) -> Self {
        Self {
            all: list.into_iter().map(|e| (None, e)).collect(),
        }
    }

    /// Adds the exceptions of `pack` (pack-wide) and of its rules.
    pub fn add_pack(&mut self, pack: &crate::rules::Pack) {
        for e in &pack.exceptions {
            self.all.push((Some((pack.name.clone(), None)), e.clone()));
        }
        for r in &pack.rules {
            for e in &r.exceptions {
                self.all
                    .push((Some((pack.name.clone(), Some(r.id.clone()))), e.clone()));
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    /// The exceptions of packs and rules, with their scope.
    pub(crate) fn pack_scoped(&self) -> impl Iterator<Item = &ScopedException> {
        self.all.iter().filter(|(scope, _)| scope.is_some())
    }

    pub(crate) fn push(&mut self, e: ScopedException) {
        self.all.push(e);
    }

    /// Every exception.
    pub fn iter(&self) -> impl Iterator<Item = &Exception> {
        self.all.iter().map(|(_, e)| e)
    }

    /// The first exception that accepts this match of rule `rule` of `pack`.
    pub fn excepting(&self, pack: &str, rule: &str, subject: &Subject<'_>) -> Option<&Exception> {
        self.all
            .iter()
            .filter(|(scope, e)| {
                let in_scope = match scope {
                    None => true,
                    Some((p, None)) => p == pack,
                    Some((p, Some(r))) => p == pack && r == rule,
                };
                in_scope && e.covers(pack, rule)
            })
            .map(|(_, e)| e)
            .find(|e| e.accepts(subject))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn exc(v: Value) -> Result<Exception, ExceptionError> {
        parse(&json!([v]), "$", Scope::Global).map(|mut l| l.remove(0))
    }

    fn deploy_call() -> Event {
        Event::new(json!({
            "eventVersion": "1.09", "eventTime": "2026-11-20T10:00:00Z",
            "eventSource": "iam.amazonaws.com", "eventName": "CreatePolicyVersion",
            "awsRegion": "us-east-1", "sourceIPAddress": "10.1.2.3",
            "userAgent": "APN/1.0 HashiCorp/1.0 Terraform/1.9.5 (+https://www.terraform.io) terraform-provider-aws/5.70.0",
            "recipientAccountId": "111122223333",
            "userIdentity": {"type": "AssumedRole", "principalId": "AROAEXAMPLE:ci-42",
                "arn": "arn:aws:sts::111122223333:assumed-role/deploy-prod/ci-42", "accountId": "111122223333",
                "sessionContext": {"sessionIssuer": {"type": "Role", "userName": "deploy-prod",
                    "arn": "arn:aws:iam::111122223333:role/deploy-prod"}}}
        }))
        .unwrap()
    }

    #[test]
    fn every_match_kind() {
        let e = deploy_call();
        let s = Subject::new(&e);
        let base = |extra: Value| {
            let mut v = json!({"id": "x", "reason": "accepted"});
            for (k, val) in extra.as_object().unwrap() {
                v[k] = val.clone();
            }
            exc(v).unwrap()
        };
        let cases = [
            (
                json!({"principal": "arn:aws:iam::111122223333:role/deploy-*"}),
                true,
            ),
            (
                json!({"principal": "arn:aws:sts::111122223333:assumed-role/deploy-prod/*"}),
                true,
            ),
            (
                json!({"principal": "arn:aws:iam::111122223333:role/other"}),
                false,
            ),
            (json!({"role": "deploy-*"}), true),
            (json!({"role": ["ops", "deploy-prod"]}), true),
            (json!({"role": "Deploy-*"}), false),
            (json!({"account": "111122223333", "session": "ci-*"}), true),
            (
                json!({"account": "111122223333", "session": "alice"}),
                false,
            ),
            (json!({"identity": "ci-42"}), true),
            (json!({"account": "444455556666"}), false),
            (
                json!({"account": "111122223333", "userAgent": "*terraform-provider-aws/*"}),
                true,
            ),
            (
                json!({"account": "111122223333", "userAgent": "*PULUMI*"}),
                false,
            ),
            (
                json!({"account": "111122223333", "tool": "terraform"}),
                true,
            ),
            (
                json!({"account": "111122223333", "tool": ["pulumi", "cdk"]}),
                false,
            ),
            (json!({"source": "10.0.0.0/8"}), true),
            (json!({"source": ["192.0.2.0/24", "10.1.2.3"]}), true),
            (json!({"source": "192.0.2.0/24"}), false),
            (json!({"source": "*.amazonaws.com"}), false),
            (json!({"event": "CreatePolicy*"}), true),
            (json!({"event": "iam:Create*"}), true),
            (json!({"event": "s3:Create*"}), false),
            (
                json!({"event": "CreatePolicyVersion", "role": "deploy-prod", "expires": "2026-11-20"}),
                true,
            ),
            (
                json!({"event": "CreatePolicyVersion", "expires": "2026-11-19"}),
                false,
            ),
            (
                json!({"event": "CreatePolicyVersion", "expires": "2026-11-20T09:59:59Z"}),
                false,
            ),
        ];
        for (fields, expected) in cases {
            assert_eq!(base(fields.clone()).accepts(&s), expected, "{fields}");
        }
    }

    #[test]
    fn tools_and_service_sources() {
        let e = Event::new(json!({"eventName": "AttachRolePolicy", "eventSource": "iam.amazonaws.com",
            "sourceIPAddress": "cloudformation.amazonaws.com", "userAgent": "cloudformation.amazonaws.com",
            "recipientAccountId": "111122223333",
            "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/cfn/AWSCloudFormation", "invokedBy": "cloudformation.amazonaws.com"}}))
        .unwrap();
        let s = Subject::new(&e);
        let t = |v: Value| exc(v).unwrap().accepts(&s);
        assert!(t(
            json!({"id": "a", "reason": "r", "account": "*", "tool": "cloudformation"})
        ));
        assert!(!t(
            json!({"id": "a", "reason": "r", "account": "*", "tool": "terraform"})
        ));
        assert!(t(
            json!({"id": "a", "reason": "r", "source": "*.amazonaws.com"})
        ));
        assert!(t(
            json!({"id": "a", "reason": "r", "source": "cloudformation.amazonaws.com"})
        ));
        for ua in [
            "aws-cli/2.15 aws-cdk/2.150.0",
            "pulumi/3.120 (+https://www.pulumi.com)",
        ] {
            let e = Event::new(json!({"eventName": "CreateRole", "userAgent": ua, "recipientAccountId": "1", "userIdentity": {"type": "IAMUser", "userName": "u"}})).unwrap();
            let s = Subject::new(&e);
            let tool = if ua.contains("cdk") { "cdk" } else { "pulumi" };
            assert!(
                exc(json!({"id": "a", "reason": "r", "account": "1", "tool": tool}))
                    .unwrap()
                    .accepts(&s),
                "{ua}"
            );
        }
    }

    #[test]
    fn cadf_initiators() {
        let e = Event::new(json!({"action": "iam-identity.serviceid-apikey.login", "eventTime": "2026-11-20T10:00:00Z",
            "logSourceCRN": "crn:v1:bluemix:public:iam-identity:global:a/0123456789abcdef0123456789abcdef:::",
            "initiator": {"id": "iam-ServiceId-42", "name": "ServiceId-backup", "host": {"address": " 10.45.116.217", "agent": "IBM Cloud CLI"}}}))
        .unwrap();
        let s = Subject::new(&e);
        let t = |v: Value| exc(v).unwrap().accepts(&s);
        assert!(t(
            json!({"id": "a", "reason": "r", "principal": "iam-ServiceId-42"})
        ));
        assert!(t(
            json!({"id": "a", "reason": "r", "identity": "ServiceId-*", "source": "10.45.0.0/16"})
        ));
        assert!(t(
            json!({"id": "a", "reason": "r", "account": "0123456789abcdef0123456789abcdef", "event": "iam-identity.*"})
        ));
        assert!(!t(
            json!({"id": "a", "reason": "r", "principal": "IBMid-*"})
        ));
    }

    #[test]
    fn rules_and_scopes() {
        let g = exc(json!({"id": "a", "reason": "r", "account": "1", "rules": ["aws-iam-changes/*", "*/root-*"]})).unwrap();
        assert!(g.covers("aws-iam-changes", "iam-changes"));
        assert!(g.covers("aws-recommended", "root-account-usage"));
        assert!(!g.covers("aws-recommended", "iam-policy-changes"));
        let p = parse(
            &json!([{"id": "a", "reason": "r", "account": "1", "rules": ["iam-*"]}]),
            "$.exceptions",
            Scope::Pack("aws-recommended"),
        )
        .unwrap();
        assert_eq!(p[0].name, "aws-recommended/a");
        assert!(p[0].covers("aws-recommended", "iam-policy-changes"));
        let r = parse(
            &json!([{"id": "a", "reason": "r", "account": "1"}]),
            "$",
            Scope::Rule("p", "r1"),
        )
        .unwrap();
        assert_eq!(r[0].name, "p/r1/a");
        let e = deploy_call();
        let s = Subject::new(&e);
        let mut set = Exceptions::global(Vec::new());
        set.all
            .push((Some(("p".into(), Some("r1".into()))), r[0].clone()));
        assert!(
            set.excepting("p", "r1", &s).is_none(),
            "account 1 is not the event's"
        );
        let mut set = Exceptions::global(vec![exc(
            json!({"id": "g", "reason": "r", "role": "deploy-prod", "rules": ["p/r1"]}),
        )
        .unwrap()]);
        assert_eq!(
            set.excepting("p", "r1", &s).map(|e| e.name.as_str()),
            Some("global/g")
        );
        assert!(set.excepting("p", "r2", &s).is_none());
        set.all.push((
            Some(("q".into(), None)),
            parse(
                &json!([{"id": "w", "reason": "r", "role": "*"}]),
                "$",
                Scope::Pack("q"),
            )
            .unwrap()
            .remove(0),
        ));
        assert_eq!(
            set.excepting("q", "any", &s).map(|e| e.name.as_str()),
            Some("q/w")
        );
        assert!(
            set.excepting("p", "r2", &s).is_none(),
            "a pack's exception stays in its pack"
        );
    }

    #[test]
    fn refusals_say_where_and_why() {
        for (v, path, says) in [
            (
                json!({"reason": "r", "account": "1"}),
                "$[0].id",
                "needs an id",
            ),
            (
                json!({"id": "a", "account": "1"}),
                "$[0].reason",
                "needs a reason",
            ),
            (
                json!({"id": "a", "reason": " ", "account": "1"}),
                "$[0].reason",
                "non-empty",
            ),
            (
                json!({"id": "a", "reason": "r"}),
                "$[0]",
                "must match on at least one",
            ),
            (
                json!({"id": "a", "reason": "r", "tool": "terraform"}),
                "$[0]",
                "chosen by the caller",
            ),
            (
                json!({"id": "a", "reason": "r", "userAgent": "*", "session": "x"}),
                "$[0]",
                "chosen by the caller",
            ),
            (
                json!({"id": "a", "reason": "r", "account": "1", "tool": "ansible"}),
                "$[0].tool",
                "not a known tool",
            ),
            (
                json!({"id": "a", "reason": "r", "account": "1", "expires": "next week"}),
                "$[0].expires",
                "not a date",
            ),
            (
                json!({"id": "a", "reason": "r", "account": "1", "expires": "2027-02-30"}),
                "$[0].expires",
                "not a date",
            ),
            (
                json!({"id": "a", "reason": "r", "source": "10.1.2.3/8"}),
                "$[0].source",
                "10.1.2.3/8",
            ),
            (
                json!({"id": "a", "reason": "r", "account": "1", "rules": ["iam-changes"]}),
                "$[0].rules",
                "PACK/RULE",
            ),
            (
                json!({"id": "a", "reason": "r", "account": []}),
                "$[0].account",
                "non-empty",
            ),
            (
                json!({"id": "a", "reason": "r", "acount": "1"}),
                "$[0].acount",
                "unknown member",
            ),
            (
                json!({"id": "a b", "reason": "r", "account": "1"}),
                "$[0].id",
                "not an id",
            ),
            (json!("x"), "$[0]", "expected an exception object"),
        ] {
            let e = exc(v.clone()).unwrap_err();
            assert_eq!(e.path, path, "{v}");
            assert!(e.message.contains(says), "{v}: {e}");
        }
        let twice = parse(&json!([{"id": "a", "reason": "r", "account": "1"}, {"id": "a", "reason": "r", "account": "2"}]), "$", Scope::Global).unwrap_err();
        assert_eq!(twice.path, "$[1].id");
        let inside = parse(
            &json!([{"id": "a", "reason": "r", "account": "1", "rules": ["x"]}]),
            "$",
            Scope::Rule("p", "r"),
        )
        .unwrap_err();
        assert!(inside.message.contains("leave \"rules\" out"), "{inside}");
        assert!(from_setting("{\"exceptions\": 1}")
            .unwrap_err()
            .message
            .contains("expected an array"));
        assert!(from_setting("/nonexistent.json")
            .unwrap_err()
            .message
            .contains("cannot read"));
        assert_eq!(
            from_setting(r#"{"exceptions": [{"id": "a", "reason": "r", "account": "1"}]}"#)
                .unwrap()[0]
                .name,
            "global/a"
        );
    }

    #[test]
    fn globs() {
        for (p, t, m) in [
            ("*", "", true),
            ("a*c", "abbbc", true),
            ("a*c", "abbbd", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("*deploy*", "role/deploy-prod", true),
            ("**x", "yx", true),
            ("exact", "exact", true),
            ("exact", "exactly", false),
            ("ü*", "über", true),
        ] {
            assert_eq!(glob(p, t), m, "{p} ~ {t}");
        }
    }
}
