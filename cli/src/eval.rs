//! `iamwatch rules eval`: rules against events, one result per event.

use crate::exit;
use clap::ValueEnum;
use iamwatch::conditions::{Condition, Facts};
use iamwatch::detector::{keep_event, rule_key, settle, settle_counted, Counted};
use iamwatch::event::{provider_of, Event};
use iamwatch::ingest::{self, Format, Item, Position};
use iamwatch::layout::Layout;
use iamwatch::projection::Projection;
use iamwatch::rules::facts::{LaidFacts, LaidScratch, RecordFacts};
use iamwatch::rules::{Matcher, Rule};
use iamwatch::screen::{conditions_needs, Screen};
use iamwatch::window::MemoryStore;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Evaluate rules against events and print which rules fire for each.
///
/// Every JSON object read is taken as the facts of one event (its top-level members, plus
/// `event_time` and `timeOfDay`), whatever its provider: `appliesTo` does not apply here. A rule
/// is named by its json-rules-engine `event.type`, or its id when it has none. A condition that
/// json-rules-engine would throw on (say `in` against a fact that is not a list) is reported in
/// `errors` and does not fire.
#[derive(clap::Args)]
pub struct Args {
    /// Rule pack file (or built-in pack name); repeat for several.
    #[arg(long = "rules", value_name = "FILE", required = true)]
    rules: Vec<String>,
    /// Events: JSON lines or any layout `replay` reads; '-' or none reads standard input.
    events: Option<PathBuf>,
    /// Also evaluate dormant rules.
    #[arg(long)]
    all_rules: bool,
    /// Input layout: auto, cloudtrail, json-array, json-lines, awslogs.
    #[arg(long = "input", value_name = "FORMAT", default_value = "auto", value_parser = crate::replay::parse_format)]
    input: Format,
    /// 'jsonl': exactly one line per input event, in order:
    /// {"line": N, "fired": [...]} (plus "errors" when a condition could not be evaluated);
    /// 'text': the events that fired something.
    #[arg(long, value_enum, default_value_t = EvalFormat::Text)]
    format: EvalFormat,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EvalFormat {
    Text,
    Jsonl,
}

pub fn run(args: Args) -> ExitCode {
    let packs = match crate::replay::load_packs(&args.rules) {
        Ok(p) => p,
        Err(e) => {
            say!("iamwatch: {e}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let mut rules: Vec<(&str, &Rule)> = packs
        .iter()
        .flat_map(|p| p.rules.iter().map(move |r| (p.name.as_str(), r)))
        .filter(|(_, r)| args.all_rules || !r.dormant)
        .collect();
    // json-rules-engine reports higher-priority rules first; equal priorities keep file order.
    rules.sort_by_key(|(_, r)| std::cmp::Reverse(r.priority));
    let index = ByAction::new(&rules);
    // Aggregate and coincident rules count events across the whole input.
    let mut windows = MemoryStore::default();
    let input: Box<dyn Read> = match args.events.as_deref() {
        None => Box::new(io::stdin().lock()),
        Some(p) if p.as_os_str() == "-" => Box::new(io::stdin().lock()),
        Some(p) => match File::open(p) {
            Ok(f) => Box::new(f),
            Err(e) => {
                say!("iamwatch: cannot read {}: {e}", p.display());
                return ExitCode::from(exit::IO);
            }
        },
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let started = std::time::Instant::now();
    let mut write_error = None;
    let (mut events, mut fired_total) = (0u64, 0u64);
    let screen = screen(&rules);
    // Rule names as JSON strings, written as they are.
    let names: Vec<String> = rules
        .iter()
        .map(|(_, r)| Value::from(name(r)).to_string())
        .collect();
    let mut outcome = Outcome::default();
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
    let mut scratch = LaidScratch::default();
    let mut sink = |item: Item| {
        if write_error.is_some() {
            return;
        }
        let position = match item {
            Item::Record {
                value, position, ..
            } => {
                let subject = Subject {
                    facts: &RecordFacts::new(&value),
                    action: value.get("action").and_then(Value::as_str),
                    record: Some(&value),
                    counting: &|| Event::new(value.clone()).ok().map(Counting::Built),
                };
                outcome.evaluate(&rules, &index, subject, &mut windows);
                position
            }
            Item::Laid {
                text,
                layout,
                position,
            } => {
                if screen.as_ref().is_some_and(|s| !s.admits(text, layout)) {
                    // No rule can fire on it, and none can fail.
                    outcome.clear();
                } else {
                    let facts = LaidFacts::new(text, layout, &mut scratch);
                    let subject = Subject {
                        facts: &facts,
                        action: facts.string("action"),
                        record: None,
                        counting: &|| laid_counting(text, layout, &facts, window_keys.as_ref()),
                    };
                    outcome.evaluate(&rules, &index, subject, &mut windows);
                }
                position
            }
            // Not sent by the readers used here (the screen runs above); nothing would fire.
            Item::Screened { position, .. } => {
                outcome.clear();
                position
            }
            Item::Bad { position, reason } => {
                say!("iamwatch: {position}: {reason} (skipped)");
                if args.format == EvalFormat::Jsonl {
                    outcome.clear();
                    outcome.errors.push(json!({"error": reason}));
                    if let Err(e) = outcome.write_jsonl(&mut out, position.line, &names) {
                        write_error = Some(e);
                    }
                }
                return;
            }
        };
        events += 1;
        fired_total += outcome.fired.len() as u64;
        let written = match args.format {
            EvalFormat::Jsonl => outcome.write_jsonl(&mut out, position.line, &names),
            EvalFormat::Text => outcome.write_text(&mut out, position, &rules),
        };
        if let Err(e) = written {
            write_error = Some(e);
        }
    };
    // Conditions read a few members of each record: they read them from its text, unless a
    // rule needs the record built (a filter pattern reads all of it).
    let result = if laid {
        ingest::read_laid(input, args.input, &mut sink)
    } else {
        ingest::read(input, args.input, &mut sink)
    };
    if let Some(e) = write_error.or_else(|| out.flush().err()) {
        if e.kind() == io::ErrorKind::BrokenPipe {
            return ExitCode::SUCCESS;
        }
        say!("iamwatch: cannot write output: {e}");
        return ExitCode::from(exit::IO);
    }
    if let Err(e) = result {
        say!("iamwatch: cannot read events: {e}");
        return ExitCode::from(exit::IO);
    }
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    say!(
        "{events} events, {} rules, {fired_total} fired in {secs:.2} s ({:.0} events/s)",
        rules.len(),
        events as f64 / secs
    );
    ExitCode::SUCCESS
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

/// `n` in decimal, written into the end of `buf` (one line per event: no formatter).
fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[at..];
        }
    }
}

/// A rule's name in the output: its json-rules-engine `event.type`, or its id.
fn name(r: &Rule) -> &str {
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

    /// `{"line": N, "fired": [...]}` with `"errors"` when there are any, keys in that order.
    fn write_jsonl(&self, out: &mut impl Write, line: u64, names: &[String]) -> io::Result<()> {
        out.write_all(b"{\"line\":")?;
        out.write_all(decimal(line, &mut [0; 20]))?;
        out.write_all(b",\"fired\":[")?;
        for (n, &i) in self.fired.iter().enumerate() {
            if n > 0 {
                out.write_all(b",")?;
            }
            out.write_all(names[i].as_bytes())?;
        }
        out.write_all(b"]")?;
        if !self.errors.is_empty() {
            out.write_all(b",\"errors\":")?;
            serde_json::to_writer(&mut *out, &self.errors)?;
        }
        out.write_all(b"}\n")
    }

    /// `line N: a, b` and the errors, for a record that fired something or failed.
    fn write_text(
        &self,
        out: &mut impl Write,
        position: Position,
        rules: &[(&str, &Rule)],
    ) -> io::Result<()> {
        if self.fired.is_empty() && self.errors.is_empty() {
            return Ok(());
        }
        let fired: Vec<&str> = self.fired.iter().map(|&i| name(rules[i].1)).collect();
        writeln!(out, "{position}: {}", fired.join(", "))?;
        for e in &self.errors {
            writeln!(out, "  error in {}: {}", e["rule"], e["error"])?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{decimal, rest_after_index};
    use iamwatch::conditions::Condition;
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

    #[test]
    fn decimals_as_rust_writes_them() {
        for n in [0, 7, 10, 99, 100, 123_456_789, u64::MAX] {
            assert_eq!(decimal(n, &mut [0; 20]), n.to_string().as_bytes());
        }
    }
}
