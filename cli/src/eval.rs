//! `iamwatch rules eval`: rules against events, one result per event.

use crate::exit;
use clap::ValueEnum;
use iamwatch::detector::{keep_facts, settle};
use iamwatch::event::Event;
use iamwatch::ingest::{self, Format, Item};
use iamwatch::pattern::ast::Step;
use iamwatch::projection::Projection;
use iamwatch::rules::facts::RecordFacts;
use iamwatch::rules::{Matcher, Rule};
use iamwatch::screen::{conditions_needs, Screen};
use iamwatch::window::MemoryStore;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::fs::File;
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
            eprintln!("iamwatch: {e}");
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
                eprintln!("iamwatch: cannot read {}: {e}", p.display());
                return ExitCode::from(exit::IO);
            }
        },
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let started = std::time::Instant::now();
    let mut write_error = None;
    let (mut events, mut fired_total) = (0u64, 0u64);
    let projection = projection(&rules);
    let screen = screen(&rules);
    let nothing = Projection::new();
    let screening = screen.as_ref().map(|s| (s, &nothing));
    let result = ingest::read_screened(input, args.input, &projection, screening, &mut |item| {
        if write_error.is_some() {
            return;
        }
        let line = match item {
            Item::Record {
                value, position, ..
            } => {
                events += 1;
                let (fired, errors) = evaluate(&rules, &index, &value, &mut windows);
                fired_total += fired.len() as u64;
                match args.format {
                    EvalFormat::Jsonl => Some(jsonl(position.line, &fired, &errors)),
                    EvalFormat::Text if !fired.is_empty() || !errors.is_empty() => {
                        let mut t = format!("{}: {}", position, fired.join(", "));
                        for e in &errors {
                            t.push_str(&format!("\n  error in {}: {}", e["rule"], e["error"]));
                        }
                        Some(t)
                    }
                    EvalFormat::Text => None,
                }
            }
            // No rule can fire on it, and none can fail.
            Item::Screened { position, .. } => {
                events += 1;
                (args.format == EvalFormat::Jsonl).then(|| jsonl(position.line, &[], &[]))
            }
            Item::Bad { position, reason } => {
                eprintln!("iamwatch: {position}: {reason} (skipped)");
                (args.format == EvalFormat::Jsonl)
                    .then(|| jsonl(position.line, &[], &[json!({"error": reason})]))
            }
        };
        if let Some(l) = line {
            if let Err(e) = writeln!(out, "{l}") {
                write_error = Some(e);
            }
        }
    });
    if let Some(e) = write_error.or_else(|| out.flush().err()) {
        if e.kind() == io::ErrorKind::BrokenPipe {
            return ExitCode::SUCCESS;
        }
        eprintln!("iamwatch: cannot write output: {e}");
        return ExitCode::from(exit::IO);
    }
    if let Err(e) = result {
        eprintln!("iamwatch: cannot read events: {e}");
        return ExitCode::from(exit::IO);
    }
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    eprintln!(
        "{events} events, {} rules, {fired_total} fired in {secs:.2} s ({:.0} events/s)",
        rules.len(),
        events as f64 / secs
    );
    ExitCode::SUCCESS
}

/// `{"line": N, "fired": [...]}` with `"errors"` when there are any, keys in that order.
fn jsonl(line: u64, fired: &[&str], errors: &[Value]) -> String {
    let mut out = format!("{{\"line\":{line},\"fired\":");
    // Writing into a String cannot fail.
    out.push_str(&serde_json::to_string(fired).unwrap_or_default());
    if !errors.is_empty() {
        out.push_str(",\"errors\":");
        out.push_str(&serde_json::to_string(errors).unwrap_or_default());
    }
    out.push('}');
    out
}

/// The rules by the `action` values they require: an event runs only the rules that can fire
/// on it, and those whose evaluation could fail (json-rules-engine runs and reports them on
/// every event).
struct ByAction {
    rules: HashMap<String, Vec<usize>>,
    always: Vec<usize>,
}

impl ByAction {
    fn new(rules: &[(&str, &Rule)]) -> Self {
        let mut by = ByAction {
            rules: HashMap::new(),
            always: Vec::new(),
        };
        for (i, (_, r)) in rules.iter().enumerate() {
            let required = match &r.matcher {
                Matcher::Conditions(c) if !c.may_fail() => c.required_values("action"),
                _ => None,
            };
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
        by
    }

    /// Positions of the rules to run on `record`, in order.
    fn for_record(&self, record: &Value) -> Vec<usize> {
        let mut at = self.always.clone();
        if let Some(list) = record
            .get("action")
            .and_then(Value::as_str)
            .and_then(|a| self.rules.get(a))
        {
            at.extend(list);
            at.sort_unstable();
        }
        at
    }
}

/// What of each record the rules read (see [`keep_facts`]), and `action` for the index. The
/// whole record when a rule reads its text (filter patterns) or counts it in a window
/// (windows read ids, times and accounts).
fn projection(rules: &[(&str, &Rule)]) -> Projection {
    let mut p = Projection::new();
    p.keep(&[Step::Key("action".into())]);
    for (_, r) in rules {
        match &r.matcher {
            Matcher::Conditions(c) if r.window.is_none() && keep_facts(&mut p, c) => {}
            _ => return Projection::everything(),
        }
    }
    p
}

/// A screen in front of the rules (see [`iamwatch::screen`]) when they are all boolean
/// conditions that cannot fail: a record it turns away fires nothing and reports nothing.
fn screen(rules: &[(&str, &Rule)]) -> Option<Screen> {
    let mut needs = Vec::new();
    for (_, r) in rules {
        match &r.matcher {
            Matcher::Conditions(c) if r.window.is_none() && !c.may_fail() => {
                needs.push(conditions_needs(c))
            }
            _ => return None,
        }
    }
    Screen::new(&needs)
}

/// Names of the rules that fire on `record`, and the evaluation errors.
fn evaluate<'r>(
    rules: &[(&str, &'r Rule)],
    index: &ByAction,
    record: &Value,
    windows: &mut MemoryStore,
) -> (Vec<&'r str>, Vec<Value>) {
    let facts = RecordFacts::new(record);
    let mut fired = Vec::new();
    let mut errors = Vec::new();
    // Windows need the event's time, id and account: only audit events can be counted.
    let windowed = rules.iter().any(|(_, r)| r.window.is_some());
    let event = if windowed {
        Event::new(record.clone()).ok()
    } else {
        None
    };
    for (pack, r) in index.for_record(record).into_iter().map(|i| rules[i]) {
        let name = r.event_type.as_deref().unwrap_or(&r.id);
        let hit = match &r.matcher {
            Matcher::Conditions(c) => match c.evaluate(&facts) {
                Ok(hit) => hit,
                Err(e) => {
                    errors.push(json!({"rule": name, "error": e.0}));
                    false
                }
            },
            Matcher::FilterPattern(p) => p.matches_json(record),
        };
        let hit = match (&r.window, &event) {
            (None, _) => hit,
            (Some(_), Some(ev)) if hit => matches!(settle(pack, r, ev, windows), Ok(Some(_))),
            (Some(_), _) => false,
        };
        if hit {
            fired.push(name);
        }
    }
    (fired, errors)
}
