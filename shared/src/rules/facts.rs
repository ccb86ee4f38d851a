//! The facts that json-rules-engine conditions see for one record.
//!
//! Every top-level member of the record is a fact under its own name (objects stay objects, so
//! `path` works). Two derived facts are added for change-window rules, unless the record has a
//! member of the same name (the record wins):
//! - `event_time`: the event's UTC time as a zero-padded `HHMM` string (`"0745"`), compared as
//!   strings as json-rules-engine does (`lessThan "0800"`);
//! - `tokens`: every key and every word of every string value in the record, stringified JSON
//!   (such as older events' `requestData`) parsed too; words are runs of letters, digits, `_`
//!   and `-`. `{"fact": "tokens", "operator": "contains", "value": "ip_address_restriction_violation"}`
//!   finds a marker whose field is not published;
//! - `timeOfDay` with params `{"dayStartTime": "1700", "dayEndTime": "0800"}`: `true` when the
//!   event's UTC `HHMM` lies strictly between start and end, wrapping past midnight when
//!   start > end; `false` otherwise; undefined when the params or the time are missing or
//!   malformed. Times count in whole minutes, as IBM's `"1700"` strings do: the parameters
//!   are the change window's own ends, so 17:00:59 (`1700`) and 08:00 are inside the change
//!   window and 1700→0800 is true from 17:01 to 07:59, as IBM's documented form
//!   (`event_time > "1700"` or `< "0800"`) reads;
//! - `identity`: who made the call, resolved through the record's identity chain
//!   ([`crate::identity`]): an object with `kind`, `who`, `via`, `role`, `session`,
//!   `source_identity`, `account`, `cross_account` and `invoked_by`
//!   (`{"fact": "identity", "path": "$.who", "operator": "equal", "value": "alice@example.com"}`).

use crate::conditions::path::Path;
use crate::conditions::Facts;
use crate::identity::Identity;
use crate::layout::{self, Head, Kind, Layout, Member};
use crate::projection::{self, Projection};
use crate::time::Timestamp;
use memchr::memmem::Finder;
use serde_json::Value;
use std::borrow::Cow;
use std::cell::{OnceCell, RefCell};
use std::collections::HashSet;

pub struct RecordFacts<'a> {
    record: &'a Value,
    /// `tokens`, built on first use and shared by every rule evaluated on this record.
    tokens: OnceCell<Value>,
}

impl<'a> RecordFacts<'a> {
    pub fn new(record: &'a Value) -> Self {
        Self {
            record,
            tokens: OnceCell::new(),
        }
    }

    fn hhmm(&self) -> Option<u32> {
        hhmm_of(self.record.get("eventTime"))
    }
}

/// Top-level members the derived facts read.
pub const DERIVED_FROM: &[&str] = &["eventTime"];

/// Facts computed rather than read from the record (a record member of the same name wins),
/// and the window facts of aggregate and coincident rules.
pub const DERIVED_FACTS: &[&str] = &[
    "event_time",
    "identity",
    "timeOfDay",
    "tokens",
    "occurrences",
    "withInLast",
    "actions",
];

fn hhmm_param(params: Option<&Value>, key: &str) -> Option<u32> {
    let s = params?.get(key)?.as_str()?;
    let n: u32 = (s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()?;
    (n / 100 < 24 && n % 100 < 60).then_some(n)
}

impl Facts for RecordFacts<'_> {
    fn fact(&self, name: &str, params: Option<&Value>) -> Option<Cow<'_, Value>> {
        if let Some(v) = self.record.get(name) {
            return Some(Cow::Borrowed(v));
        }
        if name == "tokens" {
            return Some(Cow::Borrowed(
                self.tokens.get_or_init(|| record_tokens(self.record)),
            ));
        }
        if name == "identity" {
            let record = self.record;
            return Identity::resolve(|k| record.get(k).map(Cow::Borrowed))
                .map(|i| Cow::Owned(i.to_value()));
        }
        derived(name, params, || self.hhmm()).map(Cow::Owned)
    }

    fn array_holds(&self, name: &str, item: &Value) -> Option<bool> {
        // A member of the record named `tokens` wins over the derived fact; a list built
        // already is as cheap to ask.
        if name != "tokens" || self.record.get(name).is_some() || self.tokens.get().is_some() {
            return None;
        }
        Some(holds_token(self.record, item))
    }
}

/// `event_time` and `timeOfDay` for an event at `hhmm()` (UTC, read only for these two);
/// `None` for other names.
fn derived(
    name: &str,
    params: Option<&Value>,
    hhmm: impl FnOnce() -> Option<u32>,
) -> Option<Value> {
    match name {
        "event_time" => hhmm().map(|t| Value::String(format!("{t:04}"))),
        "timeOfDay" => {
            let start = hhmm_param(params, "dayStartTime")?;
            let end = hhmm_param(params, "dayEndTime")?;
            let t = hhmm()?;
            let inside = if start <= end {
                start < t && t < end
            } else {
                t > start || t < end
            };
            Some(Value::Bool(inside))
        }
        _ => None,
    }
}

fn hhmm_of(event_time: Option<&Value>) -> Option<u32> {
    event_time
        .and_then(Value::as_str)
        .and_then(Timestamp::parse)
        .map(Timestamp::hhmm)
}

fn record_tokens(record: &Value) -> Value {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    tokens(record, &mut out, &mut seen, 0);
    Value::Array(out)
}

/// `tokens contains item`, without building the token list.
fn holds_token(record: &Value, item: &Value) -> bool {
    match item {
        Value::String(w) if !w.is_empty() && w.chars().all(is_word_char) => {
            has_token(record, &Finder::new(w.as_bytes()), 0)
        }
        // Tokens are non-empty strings of word characters: nothing else is one.
        _ => false,
    }
}

/// The same facts as [`RecordFacts`], read from a checked record's text and [`Layout`]
/// without building the record: a fact with a path of plain keys
/// ([`Path::plain_keys`]) builds only the value at the path's end. What cannot be read so
/// (`tokens`, a path through an array or with wildcards) builds what it reads from. Values
/// built are kept for the other rules evaluated on the same record.
pub struct LaidFacts<'a> {
    text: &'a str,
    layout: &'a Layout,
    /// One per member of the layout (or more): its value, once built.
    built: &'a [OnceCell<Value>],
    /// Which of `built` are set, to be cleared for the next record.
    set: &'a RefCell<Vec<usize>>,
    /// The top-level members: their keys' heads (see [`layout::head`]), where they are, and
    /// the one before them in the same bucket of `buckets` (plus one; 0 for none).
    root: &'a [(Head, usize, u32)],
    /// For each bucket of key heads, the last top-level member in it (plus one; 0 for
    /// none): a name is looked up among the few members of its bucket, last first.
    buckets: &'a [u32; BUCKETS],
    /// Some top-level key has escapes: heads of raw keys do not find it.
    escaped_keys: bool,
    /// The whole record, for `tokens`.
    record: OnceCell<Value>,
    tokens: OnceCell<Value>,
}

/// Room that [`LaidFacts`] reuse from record to record.
pub struct LaidScratch {
    cells: Vec<OnceCell<Value>>,
    set: RefCell<Vec<usize>>,
    root: Vec<(Head, usize, u32)>,
    buckets: [u32; BUCKETS],
}

impl Default for LaidScratch {
    fn default() -> Self {
        Self {
            cells: Vec::new(),
            set: RefCell::new(Vec::new()),
            root: Vec::new(),
            buckets: [0; BUCKETS],
        }
    }
}

/// Buckets of top-level keys: records have a few dozen.
const BUCKETS: usize = 64;

fn bucket((len, word): Head) -> usize {
    // The multiplication mixes every byte of the head into the top bits.
    ((word ^ len as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58) as usize
}

impl<'a> LaidFacts<'a> {
    /// Facts of `text`, an object checked into `layout`.
    pub fn new(text: &'a str, layout: &'a Layout, scratch: &'a mut LaidScratch) -> Self {
        // Only the values the last record built are cleared: most of its members were not.
        for at in scratch.set.get_mut().drain(..) {
            scratch.cells[at].take();
        }
        let members = layout.all().len();
        if scratch.cells.len() < members {
            scratch.cells.resize_with(members, OnceCell::new);
        }
        scratch.root.clear();
        scratch.buckets = [0; BUCKETS];
        let mut escaped_keys = false;
        for (at, m) in layout.root() {
            let head = layout::head(m.raw_key(text).as_bytes());
            let b = bucket(head);
            scratch.root.push((head, at, scratch.buckets[b]));
            scratch.buckets[b] = scratch.root.len() as u32;
            escaped_keys |= m.key_escaped;
        }
        Self {
            text,
            layout,
            built: &scratch.cells,
            set: &scratch.set,
            root: &scratch.root,
            buckets: &scratch.buckets,
            escaped_keys,
            record: OnceCell::new(),
            tokens: OnceCell::new(),
        }
    }

    /// The top-level member `name` (the last of that name, as a parser keeps it).
    fn member(&self, name: &str) -> Option<(usize, &'a Member)> {
        let all = self.layout.all();
        if self.escaped_keys {
            return find(self.text, self.layout.root(), name);
        }
        let want = layout::head(name.as_bytes());
        let mut next = self.buckets[bucket(want)];
        while let Some(&(head, at, before)) = self.root.get((next as usize).wrapping_sub(1)) {
            // Keys of up to eight bytes are whole in their heads.
            if head == want && (name.len() <= 8 || all[at].raw_key(self.text) == name) {
                return Some((at, &all[at]));
            }
            next = before;
        }
        None
    }

    /// The value of the member at `at`, built once.
    fn value(&self, at: usize, m: &Member) -> Option<&Value> {
        let cell = &self.built[at];
        if cell.get().is_none() {
            // The text is checked: building it cannot fail.
            let v = projection::whole(self.text, self.layout, m, at).ok()?;
            let _ = cell.set(v);
            self.set.borrow_mut().push(at);
        }
        cell.get()
    }

    /// The top-level member `name` as a string, when it is one: `action` for an index.
    pub fn string(&self, name: &str) -> Option<&str> {
        let (at, m) = self.member(name)?;
        match m.kind {
            Kind::Plain => m.plain(self.text),
            Kind::Escaped => self.value(at, m)?.as_str(),
            _ => None,
        }
    }

    /// The string at `path`, a path of keys from the top, when there is one; borrowed from
    /// the text unless it has escapes.
    pub fn text_at(&self, path: &[&str]) -> Option<Cow<'a, str>> {
        let (first, rest) = path.split_first()?;
        let (mut at, mut m) = self.member(first)?;
        for key in rest {
            if !matches!(m.kind, Kind::Object) {
                return None;
            }
            (at, m) = find(self.text, self.layout.children(m, at), key)?;
        }
        match m.kind {
            Kind::Plain => m.plain(self.text).map(Cow::Borrowed),
            // The text is checked: decoding it cannot fail.
            Kind::Escaped => serde_json::from_str(m.value(self.text))
                .ok()
                .map(Cow::Owned),
            _ => None,
        }
    }

    fn record(&self) -> Option<&Value> {
        if self.record.get().is_none() {
            let v = Projection::everything()
                .build(self.text, self.layout)
                .ok()?;
            let _ = self.record.set(v);
        }
        self.record.get()
    }

    fn hhmm(&self) -> Option<u32> {
        let (at, m) = self.member("eventTime")?;
        hhmm_of(self.value(at, m))
    }
}

/// Where a path leads from a top-level member.
enum Reach<'a> {
    /// To this member's value.
    At(usize, &'a Member),
    /// Through an array, or not by keys alone: the path is applied to the member's value.
    Whole,
    /// To nothing.
    Nothing,
}

impl<'a> LaidFacts<'a> {
    /// Where `path` leads from the top-level member `m` (at `at`). A path on a scalar fact
    /// is ignored; a key step into a scalar finds nothing; a key step into an array (an
    /// index, or `length`) is left to the path itself.
    fn reach(&self, at: usize, m: &'a Member, path: &Path) -> Reach<'a> {
        let Some(keys) = path.plain_keys() else {
            return Reach::Whole;
        };
        let (mut at_end, mut end) = (at, m);
        for key in keys {
            match end.kind {
                Kind::Object => match find(self.text, self.layout.children(end, at_end), key) {
                    Some(found) => (at_end, end) = found,
                    None => return Reach::Nothing,
                },
                Kind::Array => return Reach::Whole,
                _ if at_end == at => break,
                _ => return Reach::Nothing,
            }
        }
        Reach::At(at_end, end)
    }
}

/// The last member of `members` named `name`.
fn find<'a>(text: &str, members: layout::Members<'a>, name: &str) -> Option<(usize, &'a Member)> {
    let mut found = None;
    for (at, m) in members {
        let (start, end) = (m.key.0 as usize, m.key.1 as usize);
        let same = if m.key_escaped {
            m.key(text).is_ok_and(|k| k == name)
        } else {
            // Lengths first: most keys differ there.
            end - start == name.len() && text.as_bytes().get(start..end) == Some(name.as_bytes())
        };
        if same {
            found = Some((at, m));
        }
    }
    found
}

impl Facts for LaidFacts<'_> {
    fn fact(&self, name: &str, params: Option<&Value>) -> Option<Cow<'_, Value>> {
        self.fact_at(name, params, &Path::None)
    }

    fn fact_at(&self, name: &str, params: Option<&Value>, path: &Path) -> Option<Cow<'_, Value>> {
        let Some((at, m)) = self.member(name) else {
            if name == "tokens" {
                let record = self.record()?;
                let tokens = self.tokens.get_or_init(|| record_tokens(record));
                return path.apply(Some(Cow::Borrowed(tokens)));
            }
            if name == "identity" {
                let identity = Identity::resolve(|k| self.fact(k, None))?;
                return path.apply(Some(Cow::Owned(identity.to_value())));
            }
            return path.apply(derived(name, params, || self.hhmm()).map(Cow::Owned));
        };
        match self.reach(at, m, path) {
            Reach::At(at_end, end) => self.value(at_end, end).map(Cow::Borrowed),
            Reach::Whole => path.apply(self.value(at, m).map(Cow::Borrowed)),
            Reach::Nothing => None,
        }
    }

    fn text_fact(&self, name: &str, path: &Path) -> Option<Cow<'_, str>> {
        let (at, m) = self.member(name)?;
        let Reach::At(_, end) = self.reach(at, m, path) else {
            return None;
        };
        end.plain(self.text).map(Cow::Borrowed)
    }

    fn array_holds(&self, name: &str, item: &Value) -> Option<bool> {
        if name != "tokens" || self.member(name).is_some() || self.tokens.get().is_some() {
            return None;
        }
        Some(holds_token(self.record()?, item))
    }
}

/// Whether `word` is one of the `tokens` of `v`, as [`tokens`] would find it, without building
/// them: a string holds the word as a token only if it holds it as text, or if it is JSON
/// that escapes characters.
fn has_token(v: &Value, word: &Finder<'_>, depth: usize) -> bool {
    match v {
        Value::Object(m) => m
            .iter()
            .any(|(k, v)| word_in(k, word) || has_token(v, word, depth)),
        Value::Array(a) => a.iter().any(|x| has_token(x, word, depth)),
        Value::String(s) => {
            let t = s.trim_start();
            if !(depth < MAX_TOKEN_DEPTH && (t.starts_with('{') || t.starts_with('['))) {
                return word_in(s, word);
            }
            if word.find(s.as_bytes()).is_none() && !s.contains('\\') {
                return false;
            }
            match serde_json::from_str::<Value>(t) {
                Ok(inner) => has_token(&inner, word, depth + 1),
                Err(_) => word_in(s, word),
            }
        }
        _ => false,
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

/// `word` (all word characters) occurs in `s` between non-word characters or the ends.
fn word_in(s: &str, word: &Finder<'_>) -> bool {
    let n = word.needle().len();
    word.find_iter(s.as_bytes()).any(|i| {
        // `i` and `i + n` are character boundaries: the needle is whole UTF-8.
        !s[..i].chars().next_back().is_some_and(is_word_char)
            && !s[i + n..].chars().next().is_some_and(is_word_char)
    })
}

/// Stringified JSON nested deeper than this is left as text.
const MAX_TOKEN_DEPTH: usize = 8;

fn words(s: &str, out: &mut Vec<Value>, seen: &mut HashSet<String>) {
    for w in s.split(|c: char| !is_word_char(c)) {
        if !w.is_empty() && seen.insert(w.to_string()) {
            out.push(Value::String(w.to_string()));
        }
    }
}

fn tokens(v: &Value, out: &mut Vec<Value>, seen: &mut HashSet<String>, depth: usize) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                words(k, out, seen);
                tokens(v, out, seen, depth);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| tokens(x, out, seen, depth)),
        Value::String(s) => {
            let t = s.trim_start();
            if depth < MAX_TOKEN_DEPTH && (t.starts_with('{') || t.starts_with('[')) {
                if let Ok(inner) = serde_json::from_str::<Value>(t) {
                    tokens(&inner, out, seen, depth + 1);
                    return;
                }
            }
            words(s, out, seen);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn derived_facts() {
        let r = json!({"eventTime": "2026-11-20T17:05:00.12+0000", "action": "x"});
        let f = RecordFacts::new(&r);
        assert_eq!(f.fact("event_time", None).as_deref(), Some(&json!("1705")));
        assert_eq!(f.fact("action", None).as_deref(), Some(&json!("x")));
        let night = json!({"dayStartTime": "1700", "dayEndTime": "0800"});
        assert_eq!(
            f.fact("timeOfDay", Some(&night)).as_deref(),
            Some(&json!(true))
        );
        let day = json!({"dayStartTime": "0800", "dayEndTime": "1700"});
        assert_eq!(
            f.fact("timeOfDay", Some(&day)).as_deref(),
            Some(&json!(false))
        );
        assert_eq!(f.fact("timeOfDay", None), None);
        assert_eq!(
            f.fact("timeOfDay", Some(&json!({"dayStartTime": "25:00"}))),
            None
        );
        let early = json!({"eventTime": "2026-11-20T07:59:59Z"});
        assert_eq!(
            RecordFacts::new(&early)
                .fact("timeOfDay", Some(&night))
                .as_deref(),
            Some(&json!(true))
        );
        // Whole minutes: 17:00:59 is 1700, the change window's last minute.
        for (time, outside) in [
            ("2026-11-20T17:00:00Z", false),
            ("2026-11-20T17:00:59.999Z", false),
            ("2026-11-20T17:01:00Z", true),
            ("2026-11-20T23:59:59Z", true),
            ("2026-11-20T00:00:00Z", true),
            ("2026-11-20T12:00:00Z", false),
        ] {
            let r = json!({ "eventTime": time });
            assert_eq!(
                RecordFacts::new(&r)
                    .fact("timeOfDay", Some(&night))
                    .as_deref(),
                Some(&json!(outside)),
                "{time}"
            );
        }
        let eight = json!({"eventTime": "2026-11-20T08:00:00Z"});
        assert_eq!(
            RecordFacts::new(&eight)
                .fact("timeOfDay", Some(&night))
                .as_deref(),
            Some(&json!(false))
        );
        // Tokens: keys, words of values, and stringified JSON opened up.
        let r = json!({"reason": {"reasonType": "forbidden: ip_address_restriction_violation"},
                       "requestData": "{\"detail\":\"x\",\"ip_address_restriction_violation\":true}"});
        let t = RecordFacts::new(&r)
            .fact("tokens", None)
            .unwrap()
            .into_owned();
        let t: Vec<&str> = t
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(
            t.iter()
                .filter(|w| **w == "ip_address_restriction_violation")
                .count(),
            1
        );
        assert!(t.contains(&"reasonType") && t.contains(&"forbidden") && t.contains(&"detail"));
        // The record wins over a derived fact.
        let own = json!({"event_time": "custom"});
        assert_eq!(
            RecordFacts::new(&own).fact("event_time", None).as_deref(),
            Some(&json!("custom"))
        );
    }

    /// `array_holds` answers as the built token list does, on records of words, separators,
    /// Unicode, escapes and stringified JSON (nested, broken, escaped).
    #[test]
    fn token_lookup_agrees_with_the_token_list() {
        use proptest::prelude::*;
        let piece = prop::sample::select(vec![
            "ip_address_restriction_violation",
            "ip",
            "address",
            "_",
            "-",
            " ",
            ":",
            ".",
            "\\u005f",
            "\\",
            "\"",
            "{",
            "}",
            "[",
            "]",
            ",",
            "ü",
            "x1",
            "é",
        ]);
        let text = prop::collection::vec(piece, 0..12).prop_map(|p| p.concat());
        let leaf = prop_oneof![
            text.clone().prop_map(Value::String),
            text.clone()
                .prop_map(|t| Value::String(format!("{{\"k\":\"{t}\"}}"))),
            text.clone()
                .prop_map(|t| Value::String(json!({"inner": t, t.clone(): [t]}).to_string())),
            text.clone().prop_map(|t| Value::String(
                json!({"deeper": json!({"w": t}).to_string()}).to_string()
            )),
            Just(json!(5)),
            Just(Value::Null),
        ];
        let record = prop::collection::vec((text.clone(), leaf), 0..5)
            .prop_map(|kv| Value::Object(kv.into_iter().collect()));
        let word = prop::sample::select(vec![
            "ip_address_restriction_violation",
            "ip",
            "address",
            "u005f",
            "x1",
            "ü",
            "k",
            "inner",
            "w",
            "deeper",
            "ip address",
            "",
            "ip_address",
            "_x1",
        ]);
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases: 3000,
            ..ProptestConfig::default()
        });
        runner
            .run(&(record, word), |(r, w)| {
                let fast = RecordFacts::new(&r).array_holds("tokens", &json!(w));
                let built = RecordFacts::new(&r)
                    .fact("tokens", None)
                    .unwrap()
                    .into_owned();
                let slow = built.as_array().unwrap().contains(&json!(w));
                prop_assert_eq!(fast, Some(slow), "{} / {:?}", r, w);
                Ok(())
            })
            .unwrap();
    }
}
