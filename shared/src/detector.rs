//! A set of compiled rules that tests each record once against all of them.

use crate::conditions::{Condition, Operand};
use crate::event::{Event, Provider, DETECTION_PRESENCE, DETECTION_VALUES};
use crate::finding::Finding;
use crate::pattern::ast::Step;
use crate::pattern::Message;
use crate::projection::Projection;
use crate::rules::facts::{RecordFacts, DERIVED_FROM};
use crate::rules::{AppliesTo, Matcher, Pack, Rule, WindowKind};
use crate::screen::{conditions_needs, pattern_needs, Needs, Screen};
use crate::time::Timestamp;
use crate::window::{self, Seen, StoreResult, Suppressed, WindowFacts, WindowStore};
use std::borrow::Cow;
use std::sync::Arc;

#[derive(Debug, Clone)]
struct Entry {
    pack: Arc<str>,
    rule: Arc<Rule>,
}

/// Rules ready to run. Build it once; [`Detector::evaluate`] then costs one pass per record.
#[derive(Debug, Clone, Default)]
pub struct Detector {
    cloudtrail: Vec<Entry>,
    cadf: Vec<Entry>,
    /// CloudTrail rules by `eventName`, else `eventSource`; CADF rules by `action`.
    cloudtrail_index: RuleIndex,
    cadf_index: RuleIndex,
}

/// The rules of one provider (positions in its list) filed under the values a record member
/// must have for them to fire, so that a record runs only the rules that can: a rule goes
/// under the first of the members its match requires values of, else among `any`.
#[derive(Debug, Clone, Default)]
struct RuleIndex {
    by: Vec<(&'static str, foldhash::HashMap<String, Vec<usize>>)>,
    any: Vec<usize>,
}

impl RuleIndex {
    fn new(members: &[&'static str]) -> Self {
        Self {
            by: members
                .iter()
                .map(|m| (*m, foldhash::HashMap::default()))
                .collect(),
            any: Vec::new(),
        }
    }

    /// Files rule `at`.
    fn add(&mut self, at: usize, rule: &Rule) {
        for (member, map) in &mut self.by {
            let values = match &rule.matcher {
                Matcher::Conditions(c) => c.required_values(member),
                Matcher::FilterPattern(p) => p.ast().required_values(member),
            };
            if let Some(values) = values {
                for v in values {
                    let list = map.entry(v).or_default();
                    // A rule that lists a value twice runs once.
                    if list.last() != Some(&at) {
                        list.push(at);
                    }
                }
                return;
            }
        }
        self.any.push(at);
    }

    /// The rules that can fire on `record`, in order; `None` when one of the members is not
    /// a string there (every rule runs then).
    fn candidates(&self, record: &serde_json::Value) -> Option<Vec<usize>> {
        let mut at = self.any.clone();
        for (member, map) in &self.by {
            let serde_json::Value::String(v) = record.get(*member)? else {
                return None;
            };
            at.extend(map.get(v.as_str()).into_iter().flatten());
        }
        at.sort_unstable();
        at.dedup();
        Some(at)
    }
}

impl Detector {
    /// Every non-dormant rule of `packs`.
    pub fn new(packs: &[Pack]) -> Self {
        Self::with_filter(packs, |_, r| !r.dormant)
    }

    /// The rules of `packs` for which `keep(pack, rule)` holds, less those that another kept
    /// rule supersedes.
    pub fn with_filter(packs: &[Pack], keep: impl Fn(&Pack, &Rule) -> bool) -> Self {
        let kept = || {
            packs
                .iter()
                .flat_map(move |p| p.rules.iter().map(move |r| (p, r)))
                .filter(|(p, r)| keep(p, r))
        };
        let superseded: foldhash::HashSet<&str> = kept()
            .flat_map(|(_, r)| r.supersedes.iter().map(String::as_str))
            .collect();
        let mut d = Detector {
            cloudtrail_index: RuleIndex::new(&["eventName", "eventSource"]),
            cadf_index: RuleIndex::new(&["action"]),
            ..Detector::default()
        };
        for pack in packs {
            let name: Arc<str> = pack.name.as_str().into();
            for rule in pack.rules.iter().filter(|r| {
                keep(pack, r) && !superseded.contains(format!("{}/{}", pack.name, r.id).as_str())
            }) {
                let entry = Entry {
                    pack: name.clone(),
                    rule: Arc::clone(rule),
                };
                if rule.applies_to != AppliesTo::Cadf {
                    d.cloudtrail_index.add(d.cloudtrail.len(), rule);
                    d.cloudtrail.push(entry.clone());
                }
                if rule.applies_to != AppliesTo::CloudTrail {
                    d.cadf_index.add(d.cadf.len(), rule);
                    d.cadf.push(entry);
                }
            }
        }
        d
    }

    /// How many rules run on records of each provider: (CloudTrail, CADF).
    pub fn rule_counts(&self) -> (usize, usize) {
        (self.cloudtrail.len(), self.cadf.len())
    }

    /// The boolean rules that match `event`, in pack order, as findings. Windowed rules need
    /// state: use [`Detector::evaluate_with`].
    pub fn evaluate(&self, event: &Event) -> Vec<Finding> {
        self.matching(event)
            .into_iter()
            .filter(|m| m.rule().window.is_none())
            .map(|m| m.finding(event))
            .collect()
    }

    /// Every rule that fires on `event`, windowed ones counted in `store`. Whether a firing
    /// becomes an alert (`suppress`) is decided apart, by [`alerts`].
    pub fn evaluate_with(
        &self,
        event: &Event,
        store: &mut dyn WindowStore,
    ) -> StoreResult<Vec<Finding>> {
        Ok(self
            .fire(event, store)?
            .into_iter()
            .map(|f| f.finding(event))
            .collect())
    }

    /// The rules that fire on `event`: the boolean ones that match, and the windowed ones
    /// that match and whose window is complete now (counted in `store`). `event` may be
    /// projected; make findings from the whole record.
    pub fn fire(&self, event: &Event, store: &mut dyn WindowStore) -> StoreResult<Vec<Fired<'_>>> {
        self.fire_unless(event, store, |_| false)
    }

    /// [`Detector::fire`], leaving out the matches `skip` turns away (exceptions) before they
    /// are counted in any window.
    pub fn fire_unless<'d>(
        &'d self,
        event: &Event,
        store: &mut dyn WindowStore,
        mut skip: impl FnMut(&Match<'d>) -> bool,
    ) -> StoreResult<Vec<Fired<'d>>> {
        let mut fired = Vec::new();
        for m in self.matching(event) {
            if skip(&m) {
                continue;
            }
            let window = match m.rule().window {
                None => None,
                Some(_) => match m.settle(event, store)? {
                    Some(w) => Some(w),
                    None => continue,
                },
            };
            fired.push(Fired { matched: m, window });
        }
        Ok(fired)
    }

    /// The rules that match `event`, in pack order. `event` may be projected (see
    /// [`Detector::projection`]); build the findings from the whole record.
    pub fn matching(&self, event: &Event) -> Vec<Match<'_>> {
        // Only the rules that can fire for this record, in pack order.
        let (all, index) = match event.provider() {
            Provider::CloudTrail => (&self.cloudtrail, &self.cloudtrail_index),
            Provider::Cadf => (&self.cadf, &self.cadf_index),
        };
        let candidates: Box<dyn Iterator<Item = &Entry>> = match index.candidates(event.record()) {
            Some(at) => Box::new(at.into_iter().map(|i| &all[i])),
            None => Box::new(all.iter()),
        };
        // One message for all rules: selector lookups are shared between patterns.
        let message = Message::from_json(event.record());
        let facts = RecordFacts::new(event.record());
        candidates
            .filter(|e| match &e.rule.matcher {
                Matcher::FilterPattern(p) => p.matches(&message),
                // A condition json-rules-engine would throw on does not fire; `rules eval`
                // reports such errors.
                Matcher::Conditions(c) => c.evaluate(&facts).unwrap_or(false),
            })
            .map(|entry| Match { entry })
            .collect()
    }

    /// A screen that turns away records no rule of this detector can match, with the
    /// projection that still tells whether a turned-away record is an audit event (see
    /// [`crate::screen`]); `None` when some rule could match a record without any string of
    /// its own in it.
    pub fn screen(&self) -> Option<(Screen, Projection)> {
        self.screen_with(None)
    }

    /// [`Detector::screen`] admitting also the records that meet `more`.
    pub(crate) fn screen_with(&self, more: Option<Needs>) -> Option<(Screen, Projection)> {
        // Each provider's rules, and `more` for either.
        let needs = |rules: &[Entry]| -> Vec<Option<Needs>> {
            rules
                .iter()
                .map(|e| match &e.rule.matcher {
                    Matcher::FilterPattern(p) => pattern_needs(p.ast()),
                    Matcher::Conditions(c) => conditions_needs(c),
                })
                .chain(more.clone().map(Some))
                .collect()
        };
        let screen = Screen::by_provider(&needs(&self.cloudtrail), &needs(&self.cadf))?;
        let mut minimal = Projection::new();
        for key in DETECTION_VALUES {
            minimal.keep(&[Step::Key((*key).to_string())]);
        }
        for key in DETECTION_PRESENCE {
            minimal.keep_presence(key);
        }
        Some((screen, minimal))
    }

    /// What of a record these rules can see: parse records with it and [`Detector::matching`]
    /// gives the same answer as on the whole record, for a fraction of the parsing. Everything
    /// when a rule reads the record's text (term and space-delimited patterns).
    pub fn projection(&self) -> Projection {
        let mut p = Projection::new();
        for e in self.cloudtrail.iter().chain(&self.cadf) {
            match &e.rule.matcher {
                Matcher::FilterPattern(fp) => match fp.selector_paths() {
                    Some(paths) => paths.into_iter().for_each(|path| p.keep(path)),
                    None => return Projection::everything(),
                },
                // Conditions read whole top-level facts, and derived facts read eventTime.
                Matcher::Conditions(c) => {
                    if !keep_facts(&mut p, c) {
                        return Projection::everything();
                    }
                }
            }
        }
        let rules = self.cloudtrail.iter().chain(&self.cadf).map(|e| &*e.rule);
        if !keep_event(&mut p, rules) {
            return Projection::everything();
        }
        p
    }
}

/// Adds to `p` what an [`Event`] needs to tell its provider and, when some of `rules` are
/// windowed, what their windows read (the event's id, time and group key). `false` when a
/// window groups by a path that does not start with a key (everything is needed then).
pub fn keep_event<'r>(p: &mut Projection, rules: impl Iterator<Item = &'r Rule>) -> bool {
    for key in DETECTION_VALUES {
        p.keep(&[Step::Key((*key).to_string())]);
    }
    let mut any_window = false;
    for w in rules.filter_map(|r| r.window.as_ref()) {
        any_window = true;
        for (_, path) in &w.by {
            match path.first_key() {
                Some(k) => p.keep(&[Step::Key(k.to_string())]),
                None => return false,
            }
        }
    }
    if any_window {
        for path in window_paths() {
            let steps: Vec<Step> = path.iter().map(|k| Step::Key((*k).to_string())).collect();
            p.keep(&steps);
        }
    }
    for key in DETECTION_PRESENCE {
        p.keep_presence(key);
    }
    true
}

/// Adds to `p` what conditions `c` read of a record: the top-level members they name (facts
/// are top-level members) and what derived facts are computed from. `false` when they read
/// the whole record (`tokens` are drawn from all of it).
pub fn keep_facts(p: &mut Projection, c: &Condition) -> bool {
    for leaf in c.leaves() {
        let other = match &leaf.value {
            Operand::Fact { fact, .. } => Some(fact),
            _ => None,
        };
        for fact in std::iter::once(&leaf.fact).chain(other) {
            if fact == "tokens" {
                return false;
            }
            if fact == "identity" {
                for key in crate::identity::READS {
                    p.keep(&[Step::Key((*key).to_string())]);
                }
                continue;
            }
            p.keep(&[Step::Key(fact.clone())]);
        }
    }
    for key in DERIVED_FROM {
        p.keep(&[Step::Key((*key).to_string())]);
    }
    true
}

/// What windows read of a record: its time, and its id, name and account where either
/// provider keeps them.
fn window_paths() -> impl Iterator<Item = &'static [&'static str]> {
    let fields = [Provider::CloudTrail, Provider::Cadf].map(Provider::fields);
    let at = fields
        .into_iter()
        .flat_map(|f| f.id.iter().chain(f.name).chain(f.account).copied());
    std::iter::once(&["eventTime"][..]).chain(at)
}

/// A rule that fired on a record, with what its window held.
#[derive(Debug, Clone)]
pub struct Fired<'d> {
    pub matched: Match<'d>,
    pub window: Option<WindowFacts>,
}

impl Fired<'_> {
    /// The finding; `event` should be the whole record.
    pub fn finding(self, event: &Event) -> Finding {
        match self.window {
            None => self.matched.finding(event),
            Some(w) => self.matched.finding_in_window(event, w),
        }
    }
}

/// The alerts among the rules that fired on `whole` (the whole record): `suppress` decided
/// in `store`, each alert saying what it stands for. Also how many were suppressed.
pub fn alerts(
    fired: Vec<Fired<'_>>,
    whole: &Event,
    store: &mut dyn WindowStore,
) -> StoreResult<(Vec<Finding>, u64)> {
    let mut alerts = Vec::with_capacity(fired.len());
    let mut suppressed = 0;
    for f in fired {
        match f.matched.admit(whole, store)? {
            Some(held_back) => {
                let mut finding = f.finding(whole);
                finding.suppressed = held_back;
                alerts.push(finding);
            }
            None => suppressed += 1,
        }
    }
    Ok((alerts, suppressed))
}

/// One rule that matched a record.
#[derive(Debug, Clone, Copy)]
pub struct Match<'d> {
    entry: &'d Entry,
}

impl<'d> Match<'d> {
    pub fn rule(&self) -> &'d Rule {
        &self.entry.rule
    }

    /// The pack of the rule.
    pub fn pack(&self) -> &'d Arc<str> {
        &self.entry.pack
    }

    /// The finding for this match; `event` should be the whole record.
    pub fn finding(&self, event: &Event) -> Finding {
        Finding::new(
            self.entry.pack.clone(),
            self.entry.rule.clone(),
            event,
            None,
        )
    }

    /// The finding of a windowed rule that fired, with what its window held.
    pub fn finding_in_window(&self, event: &Event, window: WindowFacts) -> Finding {
        Finding::new(
            self.entry.pack.clone(),
            self.entry.rule.clone(),
            event,
            Some(window),
        )
    }

    /// `suppress`: `Some` when this match becomes an alert (with what was held back before
    /// it), `None` when it is suppressed.
    pub fn admit(
        &self,
        event: &Event,
        store: &mut dyn WindowStore,
    ) -> StoreResult<Option<Option<Suppressed>>> {
        admit(&self.entry.pack, &self.entry.rule, event, store)
    }

    /// For a windowed rule: counts this event in `store` and says whether the rule fires now.
    /// `None` also when the event has no time, or (coincident rules) is not one of the actions.
    pub fn settle(
        &self,
        event: &Event,
        store: &mut dyn WindowStore,
    ) -> StoreResult<Option<WindowFacts>> {
        settle(&self.entry.pack, &self.entry.rule, event, store)
    }
}

/// The group of an event without an account in a rule without `by`.
const NO_ACCOUNT: &str = "-";

/// The value of group-by selectors on `event`, `|`-joined; the account without selectors.
fn group_key<'e>(by: &[(String, crate::conditions::path::Path)], event: &'e Event) -> Cow<'e, str> {
    if by.is_empty() {
        return Cow::Borrowed(event.account().unwrap_or(NO_ACCOUNT));
    }
    by.iter()
        .map(|(_, p)| {
            p.apply(Some(std::borrow::Cow::Borrowed(event.record())))
                .map_or_else(
                    || "-".to_string(),
                    |v| match &*v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    },
                )
        })
        .collect::<Vec<_>>()
        .join("|")
        .into()
}

/// `suppress` for a finding of `rule` on `event`: `Some` when it becomes an alert (with what
/// was held back before it), `None` when it is suppressed. Rules without `suppress` always
/// alert.
pub fn admit(
    pack: &str,
    rule: &Rule,
    event: &Event,
    store: &mut dyn WindowStore,
) -> StoreResult<Option<Option<Suppressed>>> {
    let Some(s) = &rule.suppress else {
        return Ok(Some(None));
    };
    let Some(at) = event.time() else {
        return Ok(Some(None));
    };
    let key = format!("{pack}/{}|{}", rule.id, group_key(&s.by, event));
    window::admit(store, &key, &event_key(event), at.millis(), s.period)
}

/// The event's own id, or a stable hash of the record for records without one: what makes a
/// retried event recognisable. An event without an id must hold its whole record: two
/// records projected alike would hash alike.
pub fn event_key(event: &Event) -> Cow<'_, str> {
    event.id().map_or_else(
        || Cow::Owned(format!("h{:016x}", fnv(&event.record().to_string()))),
        Cow::Borrowed,
    )
}

/// An event as windows count it: when it happened, what makes a retry of it recognisable,
/// its account (the group of a rule without `by`) and its operation's name (coincident rules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted<'e> {
    /// Event time, ms since the epoch.
    pub at: i64,
    /// The event's own id; `None` when it has none (see [`event_key`]).
    pub id: Option<Cow<'e, str>>,
    pub account: Option<Cow<'e, str>>,
    pub name: Option<Cow<'e, str>>,
}

impl<'e> Counted<'e> {
    /// Reads an event of `provider` with `text_at` (the string at a path of keys, when there
    /// is one), as [`Event`]'s accessors read it. `None` when it has no time: windows do not
    /// count it.
    pub fn read(
        provider: Provider,
        text_at: impl Fn(&[&str]) -> Option<Cow<'e, str>>,
    ) -> Option<Self> {
        let at = Timestamp::parse(&text_at(&["eventTime"])?)?.millis();
        let fields = provider.fields();
        let first = |paths: &[&[&str]]| paths.iter().find_map(|p| text_at(p));
        let account = fields.account.iter().find_map(|p| match text_at(p)? {
            Cow::Borrowed(t) => fields.account_in(t).map(Cow::Borrowed),
            Cow::Owned(t) => fields.account_in(&t).map(|a| Cow::Owned(a.to_string())),
        });
        Some(Self {
            at,
            id: first(fields.id),
            account,
            name: first(fields.name),
        })
    }

    /// `event` as windows count it, an event without an id by a hash of its record.
    pub fn of(event: &'e Event) -> Option<Self> {
        let counted = Self::read(event.provider(), |p| event.str_at(p).map(Cow::Borrowed))?;
        Some(Self {
            id: Some(event_key(event)),
            ..counted
        })
    }

    /// Its group in a rule without `by`: its account.
    pub fn group(&self) -> &str {
        self.account.as_deref().unwrap_or(NO_ACCOUNT)
    }
}

/// Counts `event`, which matched windowed `rule` of `pack`, in `store`; the window's facts
/// when the rule fires now.
pub fn settle(
    pack: &str,
    rule: &Rule,
    event: &Event,
    store: &mut dyn WindowStore,
) -> StoreResult<Option<WindowFacts>> {
    let (Some(w), Some(counted)) = (rule.window.as_ref(), Counted::of(event)) else {
        return Ok(None);
    };
    let group = group_key(&w.by, event);
    settle_counted(&rule_key(pack, rule), rule, &counted, &group, store)
}

/// What a rule's window state is kept under: `pack/rule`.
pub fn rule_key(pack: &str, rule: &Rule) -> String {
    format!("{pack}/{}", rule.id)
}

/// [`settle`] for an event read as [`Counted`], in `group` (the rule's group key for it:
/// its account when the rule has no `by`), `rule_key` being [`rule_key`]. An event without
/// an id is not counted: count it with [`settle`], from its whole record.
pub fn settle_counted(
    rule_key: &str,
    rule: &Rule,
    counted: &Counted<'_>,
    group: &str,
    store: &mut dyn WindowStore,
) -> StoreResult<Option<WindowFacts>> {
    let (Some(w), Some(id)) = (rule.window.as_ref(), counted.id.as_deref()) else {
        return Ok(None);
    };
    // Retries must not count twice: key occurrences by the event's own id.
    let seen = Seen {
        rule_key,
        group,
        id,
        at: counted.at,
    };
    match &w.kind {
        WindowKind::Aggregate { op, count } => {
            window::aggregate(store, seen, w.window, *op, *count)
        }
        WindowKind::Coincident { actions } => {
            let Some(action) = counted.name.as_deref() else {
                return Ok(None);
            };
            if !actions.iter().any(|a| a == action) {
                return Ok(None);
            }
            window::coincident(store, seen, action, w.window, actions)
        }
    }
}

/// FNV-1a: a stable id for records that carry none, and for findings on FIFO topics.
pub(crate) fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// Every rule of the provider, each tried on its own: what the index must agree with.
    fn every_rule(d: &Detector, event: &Event) -> Vec<String> {
        let message = Message::from_json(event.record());
        let facts = RecordFacts::new(event.record());
        let all = match event.provider() {
            Provider::CloudTrail => &d.cloudtrail,
            Provider::Cadf => &d.cadf,
        };
        all.iter()
            .filter(|e| match &e.rule.matcher {
                Matcher::FilterPattern(p) => p.matches(&message),
                Matcher::Conditions(c) => c.evaluate(&facts).unwrap_or(false),
            })
            .map(|e| format!("{}/{}", e.pack, e.rule.id))
            .collect()
    }

    fn indexed(d: &Detector, event: &Event) -> Vec<String> {
        d.matching(event)
            .iter()
            .map(|m| format!("{}/{}", m.entry.pack, m.entry.rule.id))
            .collect()
    }

    #[test]
    fn the_rule_index_runs_every_rule_that_can_fire() {
        let packs = crate::packs::all().expect("built-in packs");
        // Dormant rules too: they are indexed the same way.
        let d = Detector::with_filter(&packs, |_, _| true);
        let by = &d.cloudtrail_index.by;
        let (names, sources) = (by[0].1.len(), by[1].1.len());
        assert!(
            names > 100 && sources > 0,
            "{names} names, {sources} sources"
        );
        assert!(d.cloudtrail_index.any.len() < d.cloudtrail.len() / 4);

        let cases: Vec<Value> =
            serde_json::from_str(include_str!("../tests/fixtures/aws-attacks-cases.json"))
                .expect("cases");
        let mut records: Vec<Value> = cases.iter().map(|c| c["record"].clone()).collect();
        records.extend(
            include_str!("../../examples/cloudtrail/events.jsonl")
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok()),
        );
        let mut tried = 0;
        let mut fired = 0;
        for record in &records {
            // The record, and the same with its name or source missing or not a string.
            let mut variants = vec![record.clone()];
            for key in ["eventName", "eventSource"] {
                let mut gone = record.clone();
                gone.as_object_mut().map(|m| m.remove(key));
                variants.push(gone);
                for odd in [json!(5), json!(["CreateUser"]), Value::Null] {
                    let mut v = record.clone();
                    v[key] = odd;
                    variants.push(v);
                }
            }
            for v in variants {
                let Ok(event) = Event::new(v) else { continue };
                let want = every_rule(&d, &event);
                assert_eq!(indexed(&d, &event), want, "{}", event.record());
                tried += 1;
                fired += usize::from(!want.is_empty());
            }
        }
        assert!(tried > 500 && fired > 100, "{tried} records, {fired} fired");
    }

    #[test]
    fn patterns_say_which_names_they_need() {
        let need = |p: &str| {
            crate::pattern::FilterPattern::new(p)
                .expect(p)
                .ast()
                .required_values("eventName")
        };
        let names = |v: &[&str]| Some(v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(need("{ $.eventName = \"A\" }"), names(&["A"]));
        assert_eq!(
            need("{ ($.eventSource = s) && ($.eventName = A || $.eventName = B) }"),
            names(&["A", "B"])
        );
        // Anything else could match some other name.
        for p in [
            "{ $.eventName = A || $.eventSource = s }",
            "{ $.eventName = Create* }",
            "{ $.eventName = *User }",
            "{ $.eventName != A }",
            "{ $.eventName = %Create.*% }",
            "{ $.detail.eventName = A }",
            "{ $.eventName[0] = A }",
            "CreateUser",
            "[a, eventName = A]",
            "",
        ] {
            assert_eq!(need(p), None, "{p}");
        }
    }
}
