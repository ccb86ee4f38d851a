//! Rules against events, one result per event, as json-rules-engine reports them: what
//! `iamwatch rules eval` prints, for rule authors.
//!
//! Every JSON object read is taken as the facts of one event (its top-level members, plus
//! `event_time` and `timeOfDay`), whatever its provider: `appliesTo` does not apply. Rules run
//! in json-rules-engine's order (higher priority first, then file order); windowed rules count
//! across the whole input. Records are read from their text (no value is built) when every
//! rule is conditions, and a screen turns away the records no rule can fire on.

use crate::conditions::{Condition, Facts};
use crate::detector::{keep_event, rule_key, settle, settle_counted, Counted};
use crate::event::{provider_of, Event};
use crate::ingest::{self, Format, Item, Position};
use crate::layout::Layout;
use crate::projection::Projection;
use crate::rules::facts::{LaidFacts, LaidScratch, RecordFacts};
use crate::rules::{Matcher, Pack, Rule};
use crate::screen::{conditions_needs, Screen};
use crate::window::MemoryStore;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{self, Read};
use std::ops::ControlFlow;

/// What the rules made of one record.
#[derive(Debug)]
pub struct Evaluated<'a> {
    pub position: Position,
    /// Positions (in [`Evaluator::rules`]) of the rules that fired, in order.
    pub fired: &'a [usize],
    /// Evaluation errors: `{"rule": NAME, "error": TEXT}` each, or `{"error": TEXT}` for a
    /// record that could not be read.
    pub errors: &'a [Value],
    /// Why the record could not be read, when it could not.
    pub bad: Option<&'a str>,
}

/// The rules of some packs, ready to evaluate events.
pub struct Evaluator<'p> {
    rules: Vec<(&'p str, &'p Rule)>,
    index: ByAction,
    screen: Option<Screen>,
    /// Every rule is conditions: records are read from their text.
    laid: bool,
    /// What a window that groups by selectors reads of a record (`None` when none does).
    window_keys: Option<Projection>,
}

impl<'p> Evaluator<'p> {
    /// The rules of `packs` (with the dormant ones when `all_rules`).
    pub fn new(packs: &'p [Pack], all_rules: bool) -> Self {
        let mut rules: Vec<(&str, &Rule)> = packs
            .iter()
            .flat_map(|p| p.rules.iter().map(move |r| (p.name.as_str(), &**r)))
            .filter(|(_, r)| all_rules || !r.dormant)
            .collect();
        // json-rules-engine reports higher-priority rules first; equal priorities keep file order.
        rules.sort_by_key(|(_, r)| std::cmp::Reverse(r.priority));
        let index = ByAction::new(&rules);
        let screen = screen(&rules);
        let laid = rules
            .iter()
            .all(|(_, r)| matches!(r.matcher, Matcher::Conditions(_)));
        // A window that groups by selectors reads them from an event, built from what windows
        // read of the record's text; other windows read the text itself.
        let grouped = rules
            .iter()
            .any(|(_, r)| r.window.as_ref().is_some_and(|w| !w.by.is_empty()));
        let window_keys = grouped.then(|| {
            let mut keys = Projection::new();
            if keep_event(&mut keys, rules.iter().map(|(_, r)| *r)) {
                keys
            } else {
                Projection::everything()
            }
        });
        Self {
            rules,
            index,
            screen,
            laid,
            window_keys,
        }
    }

    /// The rules, in the order they run (and [`Evaluated::fired`] names them).
    pub fn rules(&self) -> &[(&'p str, &'p Rule)] {
        &self.rules
    }

    /// Evaluates every record of `input`, handing `out` one result per record, in order;
    /// `out` may stop it with `Break`. Returns the number of events read (bad records not
    /// included); `Err` only when the input cannot be read.
    pub fn run(
        &self,
        input: impl Read,
        format: Format,
        out: &mut dyn FnMut(Evaluated<'_>) -> ControlFlow<()>,
    ) -> io::Result<u64> {
        // Aggregate and coincident rules count events across the whole input.
        let mut windows = MemoryStore::default();
        let mut outcome = Outcome::default();
        let mut scratch = LaidScratch::default();
        let mut events = 0u64;
        let mut stopped = false;
        let rules = &self.rules;
        let index = &self.index;
        let mut sink = |item: Item| {
            if stopped {
                return;
            }
            let (position, bad) = match item {
                Item::Record {
                    value, position, ..
                } => {
                    let subject = Subject {
                        facts: &RecordFacts::new(&value),
                        action: value.get("action").and_then(Value::as_str),
                        record: Some(&value),
                        counting: &|| Event::new(value.clone()).ok().map(Counting::Built),
                    };
                    outcome.evaluate(rules, index, subject, &mut windows);
                    (position, None)
                }
                Item::Laid {
                    text,
                    layout,
                    position,
                } => {
                    if self
                        .screen
                        .as_ref()
                        .is_some_and(|s| !s.admits(text, layout))
                    {
                        // No rule can fire on it, and none can fail.
                        outcome.clear();
                    } else {
                        let facts = LaidFacts::new(text, layout, &mut scratch);
                        let keys = self.window_keys.as_ref();
                        let subject = Subject {
                            facts: &facts,
                            action: facts.string("action"),
                            record: None,
                            counting: &|| laid_counting(text, layout, &facts, keys),
                        };
                        outcome.evaluate(rules, index, subject, &mut windows);
                    }
                    (position, None)
                }
                // Not sent by the readers used here (the screen runs above); nothing would fire.
                Item::Screened { position, .. } => {
                    outcome.clear();
                    (position, None)
                }
                // Each reading of a record that repeats a key comes as a record of its own.
                Item::Reading { .. } => return,
                Item::Bad { position, reason } => {
                    outcome.clear();
                    outcome.errors.push(json!({ "error": reason }));
                    (position, Some(reason))
                }
            };
            if bad.is_none() {
                events += 1;
            }
            let flow = out(Evaluated {
                position,
                fired: &outcome.fired,
                errors: &outcome.errors,
                bad: bad.as_deref(),
            });
            stopped = flow.is_break();
        };
        // Conditions read a few members of each record: they read them from its text, unless
        // a rule needs the record built (a filter pattern reads all of it).
        if self.laid {
            ingest::read_laid(input, format, &mut sink)?;
        } else {
            ingest::read(input, format, &mut sink)?;
        }
        Ok(events)
    }
}

/// The rules by the `action` values they require: an event runs only the rules that can fire
/// on it, and those whose evaluation could fail (json-rules-engine runs and reports them on
/// every event).
struct ByAction {
    /// For each action, the rules to run on it in order (those it can fire and those that
    /// always run, merged once here rather than per record).
    rules: HashMap<String, Vec<usize>, BuildHasherDefault<WordHasher>>,
    /// The rules to run on any other record.
    always: Vec<usize>,
    /// For each rule, the conditions left to test on a record the index chose it for (the
    /// leaf the index was made from holds there); `None` to test them all.
    rest: Vec<Option<Condition>>,
    /// For each rule, the key of its window state ([`rule_key`]).
    keys: Vec<String>,
}

impl ByAction {
    fn new(rules: &[(&str, &Rule)]) -> Self {
        let mut by = ByAction {
            rules: HashMap::default(),
            always: Vec::new(),
            rest: Vec::with_capacity(rules.len()),
            keys: rules.iter().map(|(pack, r)| rule_key(pack, r)).collect(),
        };
        for (i, (_, r)) in rules.iter().enumerate() {
            let required = match &r.matcher {
                Matcher::Conditions(c) if !c.may_fail() => c.required_values("action"),
                _ => None,
            };
            by.rest.push(match (&r.matcher, &required) {
                (Matcher::Conditions(c), Some(_)) => rest_after_index(c),
                _ => None,
            });
            match required {
                Some(actions) => {
                    for a in actions {
                        let list = by.rules.entry(a).or_default();
                        if list.last() != Some(&i) {
                            list.push(i);
                        }
                    }
                }
                None => by.always.push(i),
            }
        }
        for list in by.rules.values_mut() {
            list.extend(&by.always);
            list.sort_unstable();
        }
        by
    }

    /// Positions of the rules to run on a record whose `action` is `action`, in order.
    fn for_action(&self, action: Option<&str>) -> &[usize] {
        action
            .and_then(|a| self.rules.get(a))
            .unwrap_or(&self.always)
    }
}

/// The root `all` without the `action equal` / `in` leaf an index was made from (see
/// [`Condition::required_values`]): on a record the index chose, that leaf is true and cannot
/// fail, and a true child changes nothing in an `all` (its priority group is decided by the
/// others; an `all` left empty is true). `None` when the index came from deeper in the tree.
fn rest_after_index(c: &Condition) -> Option<Condition> {
    let Condition::All(kids, priority) = c else {
        return None;
    };
    let at = kids
        .iter()
        .position(|k| k.required_values("action").is_some())?;
    if !matches!(kids[at], Condition::Leaf(_)) {
        return None;
    }
    let mut rest = kids.clone();
    rest.remove(at);
    Some(Condition::All(rest, *priority))
}

/// A hash of a few multiplications per eight bytes: action names are short and come from
/// the rules, so hash flooding is no concern, and SipHash cost more than the rules.
#[derive(Default)]
struct WordHasher(u64);

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(c);
            self.add(u64::from_le_bytes(word));
        }
        let mut last = [0u8; 8];
        last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        self.add(u64::from_le_bytes(last));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl WordHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// A screen in front of the rules (see [`iamwatch::screen`]) when they are all conditions
/// that cannot fail: a record it turns away fires nothing and reports nothing, and no window
/// counts it (a windowed rule counts only records its conditions hold on).
fn screen(rules: &[(&str, &Rule)]) -> Option<Screen> {
    let mut needs = Vec::new();
    for (_, r) in rules {
        match &r.matcher {
            Matcher::Conditions(c) if !c.may_fail() => needs.push(conditions_needs(c)),
            _ => return None,
        }
    }
    Screen::new(&needs)
}

/// One record, as the rules see it.
struct Subject<'a> {
    facts: &'a dyn Facts,
    /// Its `action`, for the index.
    action: Option<&'a str>,
    /// The record, when it is built (filter patterns read it).
    record: Option<&'a Value>,
    /// The record as windows count it.
    counting: &'a dyn Fn() -> Option<Counting<'a>>,
}

/// A record as windows count it.
enum Counting<'a> {
    /// Read from its text.
    Read(Counted<'a>),
    /// Built as an event: a window groups by selectors, or the record has no id.
    Built(Event),
}

impl Counting<'_> {
    /// Counts the record in the window of `rule`; whether the rule fires now.
    fn settle(&self, pack: &str, key: &str, rule: &Rule, windows: &mut MemoryStore) -> bool {
        let settled = match self {
            Counting::Read(c) => settle_counted(key, rule, c, c.group(), windows),
            Counting::Built(e) => settle(pack, rule, e, windows),
        };
        matches!(settled, Ok(Some(_)))
    }
}

/// A laid record as windows count it: read from its text, or built from what windows read
/// of it when a window groups by selectors (`keys`; `None` otherwise); built whole when it
/// has no id (its id is then a hash of the whole record).
fn laid_counting<'a>(
    text: &'a str,
    layout: &Layout,
    facts: &LaidFacts<'a>,
    keys: Option<&Projection>,
) -> Option<Counting<'a>> {
    match keys {
        None => {
            let counted = Counted::read(provider_of(text, layout).ok()?, |p| facts.text_at(p))?;
            if counted.id.is_some() {
                return Some(Counting::Read(counted));
            }
        }
        Some(keys) => {
            let event = Event::new(keys.build(text, layout).ok()?).ok()?;
            if event.id().is_some() {
                return Some(Counting::Built(event));
            }
        }
    }
    let whole = Projection::everything().build(text, layout).ok()?;
    Event::new(whole).ok().map(Counting::Built)
}

/// A rule's name in the output: its json-rules-engine `event.type`, or its id.
pub fn name(r: &Rule) -> &str {
    r.event_type.as_deref().unwrap_or(&r.id)
}

/// What the rules made of one record: the positions of those that fired, in order, and the
/// evaluation errors. Kept from record to record.
#[derive(Default)]
struct Outcome {
    fired: Vec<usize>,
    errors: Vec<Value>,
}

impl Outcome {
    fn clear(&mut self) {
        self.fired.clear();
        self.errors.clear();
    }

    /// Runs the rules that can fire on a record.
    fn evaluate(
        &mut self,
        rules: &[(&str, &Rule)],
        index: &ByAction,
        subject: Subject<'_>,
        windows: &mut MemoryStore,
    ) {
        self.clear();
        // Windows need the event's time, id and account (only audit events can be counted):
        // read once, for the first windowed rule whose conditions hold.
        let mut counting: Option<Option<Counting>> = None;
        for &i in index.for_action(subject.action) {
            let (pack, r) = rules[i];
            let hit = match &r.matcher {
                Matcher::Conditions(c) => {
                    match index.rest[i].as_ref().unwrap_or(c).evaluate(subject.facts) {
                        Ok(hit) => hit,
                        Err(e) => {
                            self.errors.push(json!({"rule": name(r), "error": e.0}));
                            false
                        }
                    }
                }
                Matcher::FilterPattern(p) => subject.record.is_some_and(|r| p.matches_json(r)),
            };
            let hit = match &r.window {
                None => hit,
                Some(_) if hit => counting
                    .get_or_insert_with(subject.counting)
                    .as_ref()
                    .is_some_and(|c| c.settle(pack, &index.keys[i], r, windows)),
                Some(_) => false,
            };
            if hit {
                self.fired.push(i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::rest_after_index;
    use crate::conditions::Condition;
    use serde_json::json;

    fn condition(v: serde_json::Value) -> Condition {
        Condition::parse(&v, "$").expect("condition")
    }

    #[test]
    fn the_index_leaf_is_dropped_only_from_the_root_all() {
        let action = json!({"fact": "action", "operator": "in", "value": ["a", "b"]});
        let outcome = json!({"fact": "outcome", "operator": "equal", "value": "failure"});
        assert_eq!(
            rest_after_index(&condition(json!({"all": [outcome, action]}))),
            Some(condition(json!({"all": [outcome]})))
        );
        // The index leaf alone: what is left is an empty `all`, which is true.
        let rest = rest_after_index(&condition(json!({"all": [action]}))).expect("rest");
        assert_eq!(rest, condition(json!({"all": []})));
        assert_eq!(rest.evaluate(&serde_json::Map::new()), Ok(true));
        // From deeper in the tree, or an `any`: everything is tested.
        assert_eq!(
            rest_after_index(&condition(json!({"all": [{"all": [action]}, outcome]}))),
            None
        );
        assert_eq!(
            rest_after_index(&condition(json!({"any": [action, action]}))),
            None
        );
    }
}
