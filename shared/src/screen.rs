//! A screen in front of the parser: most audit records cannot match any rule, and their bytes
//! already say so. Every rule that compares a member with a string needs that string in the
//! record (`$.eventName = "ConsoleLogin"` needs a member `eventName` whose value is
//! `ConsoleLogin`, `action in [...]` an `action` that is one of them); a record that meets
//! no rule's need is only checked for being an event, never evaluated.
//!
//! The screen reads the record's [`Layout`] (one pass has checked it and found its members)
//! and is exact: a rule gets needs only where its match implies them in the text as JSON
//! writes them. Members are found by name at any depth, inside arrays too (a superset of the
//! one the rule reads); a value with an escape counts as meeting every need, and so does a
//! record with a `\u`, `\/` or `\\` escape anywhere (they could spell a string without its
//! bytes, in the string or in JSON held in it: `\\u005f` is `_` there) and an encoded
//! CloudWatch Logs payload (an `awslogs` member). A key with other escapes cannot spell a
//! name a need is made of (those have no quotes, backslashes or control characters). `!=`,
//! numbers, regexes, `NOT EXISTS`, derived facts and text with `"`, `\` or control
//! characters need nothing; a detector with a rule
//! that needs nothing runs without a screen.
//!
//! One operand's needs are enough for an `and`; where the best of them are met by many
//! records (a service's host name, a verb prefix like `Create*`), the rule needs those and
//! the next best operand's together ([`Need::Both`]), both found in the same pass over the
//! members. `swap:in` needs its string anywhere in the record.
//!
//! A record whose provider is known meets only its own provider's rules' needs
//! ([`Screen::admits_from`]): a CloudTrail record is not searched for a string that only an
//! IBM rule needs, and the rules of the other provider would not run on it anyway. A
//! container, or an object that is not an event, meets every rule's.

use crate::conditions::operators::{Base, Decorator};
use crate::conditions::path::{Path, Seg};
use crate::conditions::{Condition, Operand};
use crate::event::Provider;
use crate::layout::{
    has_name_bit, head, name_bit, name_bits, Head, Kind, Layout, Member, NameBits,
};
use crate::pattern::ast::{
    Expr, JsonCondition, JsonTest, Op, Pattern, Step, Value as PatternValue,
};
use crate::rules::facts::DERIVED_FACTS;
use memchr::memmem::Finder;
use serde_json::Value;
use std::collections::BTreeMap;

/// How a member's string value must look.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Text {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(String),
}

impl Text {
    fn literal(&self) -> &str {
        match self {
            Text::Exact(s) | Text::Prefix(s) | Text::Suffix(s) | Text::Contains(s) => s,
        }
    }

    fn holds(&self, v: &[u8]) -> bool {
        match self {
            Text::Exact(s) => v == s.as_bytes(),
            Text::Prefix(s) => v.starts_with(s.as_bytes()),
            Text::Suffix(s) => v.ends_with(s.as_bytes()),
            Text::Contains(s) => memchr::memmem::find(v, s.as_bytes()).is_some(),
        }
    }
}

/// One way a record can meet a rule's need.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Need {
    /// Some member named `key`, at any depth, has a string value that matches.
    Member { key: String, text: Text },
    /// The string is somewhere in the bytes.
    Anywhere(String),
    /// A need of each set is met: the needs of two operands of an `and` whose needs
    /// alone are met by many records (`eventSource = iam.amazonaws.com && eventName =
    /// Create*`: either alone admits every IAM call, or every Create call of any service).
    Both(Needs, Needs),
}

/// What a record must meet for a rule to match it: one of these.
pub type Needs = Vec<Need>;

/// Which needs a string meets, as bits: [`ALONE`] for a need met alone, and two bits per
/// [`Need::Both`] (one per side).
type Bits = u64;

/// The bit of the needs that admit a record alone.
const ALONE: Bits = 1;

/// [`Need::Both`] pairs that get bits of their own; any further ones (no pack comes near),
/// and pairs with a need that is not on a member, screen by their first side alone, which
/// is as valid and only screens less.
const MAX_PAIRS: usize = 31;

/// The needs on one member name.
#[derive(Debug, Clone)]
struct MemberNeeds {
    name: Box<[u8]>,
    /// Compared before the name itself.
    head: Head,
    /// Exact strings by length and first eight bytes, sorted: a record's value is passed
    /// over after a binary search on one word pair, bytes compared only on a tie.
    exact: Vec<(Head, Box<[u8]>, Bits)>,
    other: Vec<(Text, Bits)>,
    /// Any value will do (the encoded payload of `awslogs`).
    any: bool,
    /// Every bit of this member's needs: what a value with an escape (which could spell
    /// any of them) meets.
    all: Bits,
}

/// Decides, from a record's layout, whether any rule could match it, in one pass over its
/// members: a need met alone admits the record at once; a pair admits it once both of its
/// sides are met.
#[derive(Debug, Clone)]
pub struct Screen {
    /// In the order of their names' [`name_bit`]s.
    members: Vec<MemberNeeds>,
    /// Where the members whose names have each bit are: `members[at[b]..at[b + 1]]` for
    /// bit `b` (a record's key goes straight to the few names that share its bit, with no
    /// search).
    at: Vec<u32>,
    /// The [`name_bit`]s of the member names: most keys of a record are passed over on the
    /// bit the scan noted for them.
    names: NameBits,
    /// Strings searched for in the whole record: each admits it alone.
    anywhere: Vec<Finder<'static>>,
    /// The two sides' bits of each pair.
    pairs: Vec<(Bits, Bits)>,
    /// The screens of the CloudTrail rules alone and of the CADF rules alone (in
    /// [`Provider`] order), for a record whose provider is known: a CloudTrail record is not
    /// searched for a string only an IBM rule needs. Empty in those two.
    by_provider: Vec<Screen>,
}

impl Screen {
    /// A screen for rules with these needs; `None` when some rule needs nothing (it could
    /// match anything).
    pub fn new(rules: &[Option<Needs>]) -> Option<Screen> {
        let mut tagged: Vec<(&Need, Bits)> = Vec::new();
        let mut pairs: Vec<(&Needs, &Needs)> = Vec::new();
        for needs in rules {
            for need in needs.as_ref()? {
                match need {
                    Need::Both(a, b) => pairs.push((a, b)),
                    other => tagged.push((other, ALONE)),
                }
            }
        }
        pairs.sort();
        pairs.dedup();
        let mut bits = Vec::new();
        for (a, b) in pairs {
            let i = bits.len();
            if i < MAX_PAIRS && on_members(a) && on_members(b) {
                let (bit_a, bit_b) = (1 << (2 * i + 1), 1 << (2 * i + 2));
                tagged.extend(a.iter().map(|n| (n, bit_a)));
                tagged.extend(b.iter().map(|n| (n, bit_b)));
                bits.push((bit_a, bit_b));
            } else {
                tagged.extend(a.iter().map(|n| (n, ALONE)));
            }
        }
        // Per member name: exact strings, and the other patterns, with their bits.
        type ByKey = BTreeMap<String, (BTreeMap<Box<[u8]>, Bits>, Vec<(Text, Bits)>)>;
        let mut by_key = ByKey::new();
        let mut anywhere: Vec<&str> = Vec::new();
        for (need, bit) in tagged {
            match need {
                Need::Member { key, text } => {
                    let entry = by_key.entry(key.clone()).or_default();
                    match text {
                        Text::Exact(s) => *entry.0.entry(s.as_bytes().into()).or_default() |= bit,
                        other => entry.1.push((other.clone(), bit)),
                    }
                }
                // Only ever alone (see above).
                Need::Anywhere(s) => anywhere.push(s),
                // Only at the top of a rule's needs (see `all_of`).
                Need::Both(..) => {}
            }
        }
        // The encoded payload of a subscription is admitted whole: its records are screened
        // once decoded.
        by_key.entry("awslogs".into()).or_default();
        let mut members: Vec<MemberNeeds> = by_key
            .into_iter()
            .map(|(key, (exact, other))| {
                let any = key == "awslogs";
                let mut exact: Vec<_> = exact.into_iter().map(|(s, b)| (head(&s), s, b)).collect();
                exact.sort();
                let all = exact.iter().map(|e| e.2).chain(other.iter().map(|o| o.1));
                MemberNeeds {
                    all: all.fold(if any { ALONE } else { 0 }, |m, b| m | b),
                    exact,
                    head: head(key.as_bytes()),
                    any,
                    name: key.into_bytes().into(),
                    other,
                }
            })
            .collect();
        // By name bit, each bit's members found from the table `at`.
        members.sort_by_key(|m| name_bit(&m.name));
        let mut at = vec![0u32; 257];
        for m in &members {
            at[usize::from(name_bit(&m.name)) + 1] += 1;
        }
        for b in 1..at.len() {
            at[b] += at[b - 1];
        }
        Some(Screen {
            names: name_bits(members.iter().map(|m| &*m.name)),
            members,
            at,
            anywhere: {
                anywhere.sort_unstable();
                anywhere.dedup();
                anywhere
                    .into_iter()
                    .map(|s| Finder::new(s.as_bytes()).into_owned())
                    .collect()
            },
            pairs: bits,
            by_provider: Vec::new(),
        })
    }

    /// [`Screen::new`] for the needs of all the rules, with a screen for each provider's
    /// rules alone (`cloudtrail`, `cadf`) that [`Screen::admits_from`] uses. `None` when
    /// some rule needs nothing.
    pub fn by_provider(cloudtrail: &[Option<Needs>], cadf: &[Option<Needs>]) -> Option<Screen> {
        let all: Vec<Option<Needs>> = cloudtrail.iter().chain(cadf).cloned().collect();
        let mut screen = Screen::new(&all)?;
        // Each is `Some` when the screen of all is.
        screen.by_provider = vec![Screen::new(cloudtrail)?, Screen::new(cadf)?];
        Some(screen)
    }

    /// Whether some rule of `provider`'s could match the record `text`, checked into
    /// `layout`: [`Screen::admits`] with only that provider's rules' needs, when the screen
    /// has them apart.
    pub fn admits_from(&self, provider: Provider, text: &str, layout: &Layout) -> bool {
        match self.by_provider.get(provider as usize) {
            Some(screen) => screen.admits(text, layout),
            None => self.admits(text, layout),
        }
    }

    /// Whether some rule could match the record `text`, checked into `layout`.
    pub fn admits(&self, text: &str, layout: &Layout) -> bool {
        let raw = text.as_bytes();
        if layout.odd_escapes() || self.anywhere.iter().any(|f| f.find(raw).is_some()) {
            return true;
        }
        let mut met: Bits = 0;
        for m in layout.all() {
            if met & ALONE != 0 {
                return true;
            }
            if m.key_escaped || !has_name_bit(&self.names, m.name_bit) {
                continue;
            }
            // Bytes, not `str`: slicing a `str` checks both ends for character boundaries.
            let key = &raw[m.key.0 as usize..m.key.1 as usize];
            let h = head(key);
            let bit = usize::from(m.name_bit);
            let (from, to) = (self.at[bit] as usize, self.at[bit + 1] as usize);
            for n in &self.members[from..to] {
                // Names of up to eight bytes are whole in their heads.
                if n.head == h && (h.0 <= 8 || &*n.name == key) {
                    met |= n.met(raw, m);
                }
            }
        }
        met & ALONE != 0
            || self
                .pairs
                .iter()
                .any(|&(a, b)| met & a != 0 && met & b != 0)
    }
}

impl MemberNeeds {
    /// The needs this member's value meets: those of a string that matches, or all of
    /// them for one with an escape (which could spell any).
    fn met(&self, raw: &[u8], m: &Member) -> Bits {
        match m.kind {
            _ if self.any => ALONE,
            Kind::Escaped => self.all,
            Kind::Plain => {
                let quoted = &raw[m.value.0 as usize..m.value.1 as usize];
                let value = &quoted[1..quoted.len() - 1];
                let h = head(value);
                let from = self.exact.partition_point(|(k, _, _)| *k < h);
                let exact = self.exact[from..]
                    .iter()
                    .take_while(|(k, _, _)| *k == h)
                    .filter(|(_, s, _)| h.0 <= 8 || **s == *value)
                    .fold(0, |m, e| m | e.2);
                self.other
                    .iter()
                    .filter(|(t, _)| t.holds(value))
                    .fold(exact, |m, o| m | o.1)
            }
            _ => 0,
        }
    }
}

/// A string that the bytes of any JSON text holding it as (part of) a string value contain
/// verbatim, and that no number's text can contain.
fn usable(s: &str) -> bool {
    !s.is_empty()
        && !s.chars().any(|c| c == '"' || c == '\\' || c.is_control())
        && s.chars()
            .any(|c| !(c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | 'e' | 'E')))
}

/// Member names and values found on most audit records: a string inside them screens
/// nothing out (`Add` is in every `sourceIPAddress`).
const COMMON: &str = "eventVersion userIdentity type principalId arn accountId accessKeyId \
    userName sessionContext sessionIssuer webIdFederationData attributes creationDate \
    mfaAuthenticated invokedBy eventTime eventSource eventName awsRegion sourceIPAddress \
    userAgent requestParameters responseElements additionalEventData requestID eventID \
    readOnly resources eventType apiVersion managementEvent recipientAccountId \
    sharedEventID vpcEndpointId eventCategory tlsDetails tlsVersion cipherSuite \
    clientProvidedHostHeader errorCode errorMessage AssumedRole IAMUser AWSService \
    AWSAccount FederatedUser Management AwsApiCall AwsServiceEvent AwsConsoleSignIn \
    amazonaws.com aws-cli aws-sdk Boto3 Botocore console.amazonaws.com true false null \
    initiator host address agent credential authnId authnName typeURI target name \
    observer action outcome success failure reason reasonCode reasonType severity \
    eventTime logSourceCRN saveServiceCopy requestData responseData correlationId \
    message dataEvent crn:v1 bluemix public global";

/// How well a set of needs screens: the length of its shortest string, and 0 for needs
/// that most records meet anyway (a service host name, a string in `COMMON`).
fn score(n: &Needs) -> usize {
    n.iter()
        .map(|need| match need {
            Need::Member { key, text } => {
                let s = text.literal();
                if key == "eventSource" || s.ends_with(".amazonaws.com") {
                    0
                } else {
                    s.len()
                }
            }
            Need::Anywhere(s) if COMMON.contains(s.as_str()) => 0,
            Need::Anywhere(s) => s.len(),
            Need::Both(a, b) => score(a).max(score(b)),
        })
        .min()
        .unwrap_or(0)
}

/// Whether every need of `n` is on a member: only those are paired, as they are checked in
/// the one pass over the members.
fn on_members(n: &Needs) -> bool {
    n.iter().all(|need| matches!(need, Need::Member { .. }))
}

/// Needs that screen well alone: an event name, an error code. Shorter strings (`Put*`,
/// `Root`) are paired with the next best operand of their `and`.
const STRONG: usize = 8;

/// The needs of an `and`: each operand's are valid, one set is enough. The set that
/// screens best (the first of equals); when it screens poorly, both it and the next best
/// must be met (when both are needs on members).
fn all_of(parts: impl Iterator<Item = Option<Needs>>) -> Option<Needs> {
    let mut sets: Vec<Needs> = parts.flatten().collect();
    // Stable: the first of equals stays first.
    sets.sort_by_key(|n| std::cmp::Reverse(score(n)));
    let mut sets = sets.into_iter();
    let best = sets.next()?;
    // Only needs on members are paired: they are checked in the pass over the members,
    // where a string searched for in the whole record would cost a search per record.
    match sets.next() {
        Some(next) if score(&best) < STRONG && on_members(&best) && on_members(&next) => {
            Some(vec![Need::Both(best, next)])
        }
        _ => Some(best),
    }
}

fn any_of(parts: impl Iterator<Item = Option<Needs>>) -> Option<Needs> {
    let mut out = Vec::new();
    for p in parts {
        out.extend(p?);
    }
    (!out.is_empty()).then_some(out)
}

/// What a filter pattern needs; `None` for terms and space-delimited patterns (they read the
/// message text as written, not its values) and for what needs no string.
pub fn pattern_needs(pattern: &Pattern) -> Option<Needs> {
    match pattern {
        Pattern::Json(e) => expr_needs(e),
        Pattern::MatchAll | Pattern::Terms(_) | Pattern::Delimited(_) => None,
    }
}

fn expr_needs(e: &Expr<JsonCondition>) -> Option<Needs> {
    match e {
        Expr::And(xs) => all_of(xs.iter().map(expr_needs)),
        Expr::Or(xs) => any_of(xs.iter().map(expr_needs)),
        Expr::Leaf(c) => match &c.test {
            JsonTest::Compare {
                op: Op::Eq,
                value: PatternValue::Text { text, .. },
                ..
            } => {
                // A `*` at an end is a wildcard (one each, as the matcher reads them); stars
                // alone match any value.
                if text.bytes().all(|b| b == b'*') {
                    return None;
                }
                let lead = text.starts_with('*');
                let trail = text.ends_with('*');
                let inner = &text[usize::from(lead)..text.len() - usize::from(trail)];
                if !usable(inner) {
                    return None;
                }
                let t = inner.to_string();
                let text = match (lead, trail) {
                    (false, false) => Text::Exact(t),
                    (false, true) => Text::Prefix(t),
                    (true, false) => Text::Suffix(t),
                    (true, true) => Text::Contains(t),
                };
                // The member the selector ends on; anywhere in the bytes otherwise.
                Some(vec![match c.selector.steps.last() {
                    Some(Step::Key(key)) if usable_key(key) => Need::Member {
                        key: key.clone(),
                        text,
                    },
                    _ => Need::Anywhere(text.literal().to_string()),
                }])
            }
            _ => None,
        },
    }
}

/// A member name whose quoted form JSON writes verbatim.
fn usable_key(k: &str) -> bool {
    !k.is_empty() && !k.chars().any(|c| c == '"' || c == '\\' || c.is_control())
}

/// The member a condition's fact and path end on, when it is one named member.
fn member_of(fact: &str, path: &Path) -> Option<String> {
    let key = match path {
        Path::None => fact,
        Path::Selectn(keys) => keys.last()?,
        Path::Json { segs, .. } => match segs.last()? {
            Seg::Key(k) | Seg::Descend(Some(k)) => k,
            _ => return None,
        },
    };
    usable_key(key).then(|| key.to_string())
}

/// What json-rules-engine conditions need: `equal` a string, `in` strings, an array fact
/// that `contains` a string, `tokens contains` a word; on facts read from the record.
pub fn conditions_needs(c: &Condition) -> Option<Needs> {
    match c {
        Condition::All(xs, _) => all_of(xs.iter().map(conditions_needs)),
        Condition::Any(xs, _) => any_of(xs.iter().map(conditions_needs)),
        Condition::Not(..) => None,
        Condition::Leaf(l) => {
            // `swap:in`: the fact holds the value (a string with it inside, or an array
            // with it as an element); either way its text is in the record.
            let swapped_in =
                l.operator.decorators == [Decorator::Swap] && l.operator.base == Base::In;
            if !l.operator.decorators.is_empty() && !swapped_in {
                return None;
            }
            // Derived facts are computed, not read (`event_time` is not in the record as
            // written), except `tokens`, whose words are.
            if DERIVED_FACTS.contains(&l.fact.as_str()) && l.fact != "tokens" {
                return None;
            }
            let Operand::Literal(value) = &l.value else {
                return None;
            };
            if swapped_in {
                return match value {
                    Value::String(s) if usable(s) => Some(vec![Need::Anywhere(s.clone())]),
                    _ => None,
                };
            }
            let member = member_of(&l.fact, &l.path);
            // `equal` and `in` compare the member's value itself.
            let exact = |v: &Value| match (v, &member) {
                (Value::String(s), Some(key)) if usable(s) && l.fact != "tokens" => {
                    Some(vec![Need::Member {
                        key: key.clone(),
                        text: Text::Exact(s.clone()),
                    }])
                }
                (Value::String(s), _) if usable(s) => Some(vec![Need::Anywhere(s.clone())]),
                _ => None,
            };
            match l.operator.base {
                Base::Equal => exact(value),
                Base::In => match value {
                    Value::Array(items) if !items.is_empty() => any_of(items.iter().map(exact)),
                    _ => None,
                },
                // An array that holds the string, or a word of the record: somewhere in it.
                Base::Contains => match value {
                    Value::String(s) if usable(s) => Some(vec![Need::Anywhere(s.clone())]),
                    _ => None,
                },
                _ => None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needs(pattern: &str) -> Option<Needs> {
        let p = crate::pattern::FilterPattern::new(pattern).expect("pattern");
        pattern_needs(p.ast())
    }

    fn member(key: &str, text: Text) -> Need {
        Need::Member {
            key: key.into(),
            text,
        }
    }

    #[test]
    fn filter_patterns_need_their_strings() {
        assert_eq!(
            needs(
                r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }"#
            ),
            Some(vec![member(
                "eventName",
                Text::Exact("ConsoleLogin".into())
            )])
        );
        assert_eq!(
            needs(
                r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#
            ),
            Some(vec![
                member("errorCode", Text::Suffix("UnauthorizedOperation".into())),
                member("errorCode", Text::Prefix("AccessDenied".into()))
            ])
        );
        // The event name is rarer than the service.
        assert_eq!(
            needs(r#"{ ($.eventSource = kms.amazonaws.com) && ($.eventName = DisableKey) }"#),
            Some(vec![member("eventName", Text::Exact("DisableKey".into()))])
        );
        assert_eq!(
            needs(r#"{ $.resources[*] = "*bucket*" }"#),
            Some(vec![Need::Anywhere("bucket".into())])
        );
        for none in [
            r#"{ $.eventName != "x" }"#,
            r#"{ $.a = "x" || $.b NOT EXISTS }"#,
            r#"{ $.status = 404 }"#,
            r#"{ $.status = "4*" }"#,
            r#"{ $.a = "*" }"#,
            r#"{ $.a = "***" }"#,
            r#"{ $.a = %Console.*% }"#,
            r#"{ $.a = "say \"hi\"" }"#,
            "ERROR",
            "[ip, user, ...]",
        ] {
            assert_eq!(needs(none), None, "{none}");
        }
    }

    #[test]
    fn the_screen_finds_members_and_admits_escapes_and_encoded_payloads() {
        let s = Screen::new(&[Some(vec![
            member("eventName", Text::Exact("ConsoleLogin".into())),
            member("errorCode", Text::Prefix("AccessDenied".into())),
        ])])
        .expect("screen");
        let s = |text: &str| {
            let mut layout = Layout::new();
            layout.scan(text).expect("JSON");
            s.admits(text, &layout)
        };
        assert!(s(r#"{"r":[{"x":1},{"eventName":"ConsoleLogin"}]}"#));
        assert!(!s(r#"{"r":[{"x":1},{"eventName":"GetObject"}]}"#));
        assert!(!s(r#"{"event\tName":"ConsoleLogin"}"#));
        assert!(s(r#"{"eventName":"ConsoleLogin"}"#));
        assert!(s(r#"{"a": {"eventName" :  "ConsoleLogin"}}"#));
        assert!(s(r#"{"errorCode":"AccessDeniedException"}"#));
        assert!(!s(r#"{"eventName":"GetObject","x":"ConsoleLogin"}"#));
        assert!(!s(r#"{"x":"eventName","y":"ConsoleLogin"}"#));
        assert!(!s(r#"{"eventName":5,"y":"ConsoleLogin"}"#));
        assert!(s(r#"{"eventName":"Console\tLogin"}"#));
        assert!(s(r#"{"eventName":"Console\u004cogin"}"#));
        assert!(s(r#"{"awslogs":{"data":"H4sIAAAA"}}"#));
        assert!(Screen::new(&[Some(vec![Need::Anywhere("x".into())]), None]).is_none());
    }

    /// Verbs (`Create*`) and service names each admit many records; an `and` of them
    /// admits only records that meet both.
    #[test]
    fn weak_needs_of_an_and_are_paired() {
        let iam_changes = needs(
            r#"{ ($.eventSource = iam.amazonaws.com) && (($.eventName = Create*) || ($.eventName = Put*)) }"#,
        );
        let want = Need::Both(
            vec![
                member("eventName", Text::Prefix("Create".into())),
                member("eventName", Text::Prefix("Put".into())),
            ],
            vec![member(
                "eventSource",
                Text::Exact("iam.amazonaws.com".into()),
            )],
        );
        assert_eq!(iam_changes, Some(vec![want]));
        // A strong need stands alone; a weak one with nothing to pair stays single.
        assert_eq!(
            needs(r#"{ ($.eventSource = iam.amazonaws.com) && ($.eventName = CreateAccessKey) }"#),
            Some(vec![member(
                "eventName",
                Text::Exact("CreateAccessKey".into())
            )])
        );
        assert_eq!(
            needs(r#"{ ($.userIdentity.type = Root) && ($.eventType != AwsServiceEvent) }"#),
            Some(vec![member("type", Text::Exact("Root".into()))])
        );

        let screen = Screen::new(&[
            iam_changes,
            Some(vec![member(
                "eventName",
                Text::Exact("ConsoleLogin".into()),
            )]),
        ])
        .expect("screen");
        let s = |text: &str| {
            let mut layout = Layout::new();
            layout.scan(text).expect("JSON");
            screen.admits(text, &layout)
        };
        assert!(s(
            r#"{"eventSource":"iam.amazonaws.com","eventName":"CreateUser"}"#
        ));
        assert!(s(
            r#"{"eventName":"PutRolePolicy","x":{"eventSource":"iam.amazonaws.com"}}"#
        ));
        assert!(s(
            r#"{"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin"}"#
        ));
        assert!(!s(
            r#"{"eventSource":"s3.amazonaws.com","eventName":"PutObject"}"#
        ));
        assert!(!s(
            r#"{"eventSource":"iam.amazonaws.com","eventName":"GetRole"}"#
        ));
        assert!(!s(r#"{"eventSource":"iam.amazonaws.com"}"#));
        // An escape anywhere still admits the record.
        assert!(s(
            r#"{"eventSource":"iam.amazonaws.com","eventName":"Cr\u0065ateUser"}"#
        ));
    }

    #[test]
    fn a_swapped_in_needs_its_string_anywhere() {
        let c = Condition::parse(
            &serde_json::json!({
                "fact": "eventName", "operator": "swap:in", "value": "AddPermission"
            }),
            "$",
        )
        .expect("condition");
        assert_eq!(
            conditions_needs(&c),
            Some(vec![Need::Anywhere("AddPermission".into())])
        );
    }
}
