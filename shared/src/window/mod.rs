//! Windows of events: aggregate ("N occurrences within the last X") and coincident ("every one
//! of these actions within the last X") rules, over a [`WindowStore`].
//!
//! Windows slide on event time, not arrival time. Occurrences are kept per rule and group key
//! (the account unless the rule says `by`), keyed by event id and time so that a retried batch
//! never counts an event twice. A rule fires when some window of its length that holds the event
//! meets its condition: for events in order that is the window ending at the event; a late
//! event also completes the windows of the events after it, so the order in which events (or
//! concurrent invocations) arrive does not decide whether a burst is seen. A rule fires once:
//! the firing holds a key that every later occurrence extends and that expires one window after
//! the last one, which re-arms the rule. The hold names the event that fired it, so a retry
//! of that very event fires again (and delivery de-duplicates), while any other event does not.

#[cfg(feature = "aws")]
pub mod dynamodb;
pub mod memory;

#[cfg(feature = "aws")]
pub use dynamodb::DynamoStore;
pub use memory::MemoryStore;

use std::fmt;

/// A store that could not answer (DynamoDB unreachable or throttled past its retries). The
/// caller fails the invocation so that the platform retries the batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "window state: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

pub type StoreResult<T> = Result<T, StoreError>;

/// Shared window state: in memory for one process, DynamoDB for concurrent Lambda invocations.
/// Times are ms since the epoch; "held at `now`" means held until a time after `now`.
pub trait WindowStore {
    /// Records occurrence `id` at `at` under `key`, to be kept until `expires`. Returns `false`
    /// when `id` was recorded already (a retry), which counts once.
    fn record(&mut self, key: &str, id: &str, at: i64, expires: i64) -> StoreResult<bool>;

    /// The times of the occurrences under `key` that lie in `(from, to]`, in any order.
    fn occurrences(&mut self, key: &str, from: i64, to: i64) -> StoreResult<Vec<i64>>;

    /// The busiest window of length `w` that holds the occurrence at `at` under `key`:
    /// (count, first, last), the window ending at the earliest occurrence in `[at, at + w)`
    /// on ties. Stores that can count without listing every occurrence of two windows answer
    /// it themselves, with the same answer.
    fn busiest(&mut self, key: &str, at: i64, w: i64) -> StoreResult<(u64, i64, i64)> {
        let mut times = self.occurrences(key, at - w, at + w - 1)?;
        times.sort_unstable();
        Ok(busiest(&times, at, w))
    }

    /// [`record`](Self::record) (kept until `at + w`) and then
    /// [`busiest`](Self::busiest): stores that can find `key` once for both do.
    fn record_busiest(
        &mut self,
        key: &str,
        id: &str,
        at: i64,
        w: i64,
    ) -> StoreResult<(u64, i64, i64)> {
        self.record(key, id, at, at + w)?;
        self.busiest(key, at, w)
    }

    /// The first window of length `w` ending in `[at, at + w)` in which each of `keys` has an
    /// occurrence: (the occurrences of all `keys` in it, the first of them, its end); `None`
    /// when there is none. Windows end at occurrences. Stores that can count without listing
    /// answer it themselves, with the same answer.
    fn together(
        &mut self,
        keys: &[String],
        at: i64,
        w: i64,
    ) -> StoreResult<Option<(u64, i64, i64)>> {
        let mut per_key = Vec::with_capacity(keys.len());
        for key in keys {
            let times = self.occurrences(key, at - w, at + w - 1)?;
            if times.is_empty() {
                return Ok(None);
            }
            per_key.push(times);
        }
        let mut ends: Vec<i64> = per_key
            .iter()
            .flatten()
            .copied()
            .filter(|r| *r >= at && *r < at + w)
            .collect();
        ends.sort_unstable();
        ends.dedup();
        for r in ends {
            let inside = |t: &i64| *t > r - w && *t <= r;
            if per_key.iter().all(|times| times.iter().any(inside)) {
                let held = per_key.iter().flatten().copied().filter(inside);
                let (count, first) = held.fold((0, r), |(n, f), t| (n + 1, f.min(t)));
                return Ok(Some((count, first, r)));
            }
        }
        Ok(None)
    }

    /// Takes `key` for `owner` until `until` when it is free at `now` (never taken, or
    /// expired) or already `owner`'s, and returns `true`; when another owner holds it, extends
    /// it to `until` if that is later and returns `false`.
    fn hold(&mut self, key: &str, owner: &str, until: i64, now: i64) -> StoreResult<bool>;

    /// Extends `key` to `until` if it is held at `now` and `until` is later; a free key stays
    /// free.
    fn extend(&mut self, key: &str, until: i64, now: i64) -> StoreResult<()>;

    /// Takes `key` for `owner` until `until` if it is free at `now` or already `owner`'s (never
    /// extends another's); whether `owner` has it now.
    fn claim(&mut self, key: &str, owner: &str, until: i64, now: i64) -> StoreResult<bool>;

    /// Whether `key` is held at `now`.
    fn held(&mut self, key: &str, now: i64) -> StoreResult<bool>;

    /// Frees `key` if `owner` holds it (a claim given back); another owner's hold stays.
    fn release(&mut self, key: &str, owner: &str) -> StoreResult<()>;

    /// Adds one to the counter `key`, remembering the earliest `at`.
    fn count(&mut self, key: &str, at: i64) -> StoreResult<()>;

    /// Takes the counter `key` away: how many, since when.
    fn take_count(&mut self, key: &str) -> StoreResult<Option<(u64, i64)>>;
}

/// Matches an alert stands for that were suppressed before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suppressed {
    pub count: u64,
    pub since: i64,
}

/// `suppress`: whether a finding with `key` at `at`, raised by event `owner`, becomes an
/// alert. `Some` when it does, with the matches suppressed since the previous alert for the
/// key; `None` when it is suppressed (and counted).
pub fn admit(
    store: &mut dyn WindowStore,
    key: &str,
    owner: &str,
    at: i64,
    period: Window,
) -> StoreResult<Option<Option<Suppressed>>> {
    let count_key = format!("suppressed|{key}");
    if store.claim(&format!("quiet|{key}"), owner, at + period.millis, at)? {
        Ok(Some(
            store
                .take_count(&count_key)?
                .map(|(count, since)| Suppressed { count, since }),
        ))
    } else {
        store.count(&count_key, at)?;
        Ok(None)
    }
}

/// `withInLast`: `"30 minutes"`, `"24 hours"` (minutes up to 1440, hours up to 24, as IBM
/// documents; the singular is accepted too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub millis: i64,
    amount: u32,
    hours: bool,
}

impl Window {
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let (n, unit) = t
            .split_once(' ')
            .ok_or_else(|| format!("{t:?} is not a window: write \"30 minutes\" or \"2 hours\""))?;
        let amount: u32 = n
            .trim()
            .parse()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| format!("{t:?}: the amount must be a whole number from 1"))?;
        let (hours, max) = match unit.trim() {
            "minute" | "minutes" => (false, 1440),
            "hour" | "hours" => (true, 24),
            other => {
                return Err(format!(
                    "{t:?}: the unit must be minutes or hours, not {other:?}"
                ))
            }
        };
        if amount > max {
            return Err(format!(
                "{t:?}: at most {max} {}",
                if hours { "hours" } else { "minutes" }
            ));
        }
        let millis = i64::from(amount) * if hours { 3_600_000 } else { 60_000 };
        Ok(Self {
            millis,
            amount,
            hours,
        })
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match (self.hours, self.amount) {
            (true, 1) => "hour",
            (true, _) => "hours",
            (false, 1) => "minute",
            (false, _) => "minutes",
        };
        write!(f, "{} {unit}", self.amount)
    }
}

/// How an aggregate compares its count with its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountOp {
    Equal,
    GreaterThan,
    GreaterThanInclusive,
}

impl CountOp {
    pub fn holds(self, count: u64, n: u64) -> bool {
        match self {
            CountOp::Equal => count == n,
            CountOp::GreaterThan => count > n,
            CountOp::GreaterThanInclusive => count >= n,
        }
    }
}

/// What a windowed rule knew when it fired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowFacts {
    pub count: u64,
    pub window: Window,
    pub first: i64,
    pub last: i64,
    pub key: String,
}

/// One event as a window sees it.
#[derive(Debug, Clone, Copy)]
pub struct Seen<'a> {
    /// `pack/rule`.
    pub rule_key: &'a str,
    /// The group key (the account, or the rule's `by` values).
    pub group: &'a str,
    /// The event's id, so that a retry counts once.
    pub id: &'a str,
    /// Event time, ms since the epoch.
    pub at: i64,
}

/// The busiest window of length `w` that holds the event at `at`, over the sorted
/// occurrence `times` (which include `at`): (count, first, last). Windows are `(r - w, r]`;
/// the busiest one ends at an occurrence `r` in `[at, at + w)`, the earliest such on ties, so
/// that for events in order it is the window ending at the event.
fn busiest(times: &[i64], at: i64, w: i64) -> (u64, i64, i64) {
    let mut best = (0u64, at, at);
    let mut lo = 0;
    for (hi, &r) in times.iter().enumerate() {
        while times[lo] <= r - w {
            lo += 1;
        }
        if r < at || r >= at + w {
            continue;
        }
        let count = (hi + 1 - lo) as u64;
        if count > best.0 {
            best = (count, times[lo], r);
        }
    }
    best
}

/// The prefix of a rule's firing hold, before its occurrences' key.
const FIRED: &str = "fired|";

/// Records one matching event of an aggregate rule and says whether the rule fires now.
pub fn aggregate(
    store: &mut dyn WindowStore,
    seen: Seen<'_>,
    window: Window,
    op: CountOp,
    n: u64,
) -> StoreResult<Option<WindowFacts>> {
    let Seen {
        rule_key,
        group,
        id,
        at,
    } = seen;
    let w = window.millis;
    // Built without the formatter: this runs for every counted event.
    let mut armed_key = String::with_capacity(FIRED.len() + rule_key.len() + 1 + group.len());
    for part in [FIRED, rule_key, "|", group] {
        armed_key.push_str(part);
    }
    let key = &armed_key[FIRED.len()..];
    let (count, first, last) = store.record_busiest(key, id, at, w)?;
    if !op.holds(count, n) {
        // Keep an earlier firing held while occurrences keep coming.
        store.extend(&armed_key, at + w, at)?;
        return Ok(None);
    }
    let fired = store.hold(&armed_key, id, last.max(at) + w, at)?;
    Ok(fired.then(|| WindowFacts {
        count,
        window,
        first,
        last,
        key: group.to_string(),
    }))
}

/// Records one event of a coincident rule (its `action` among `actions`) and says whether
/// every action has now been seen within a window that holds it.
pub fn coincident(
    store: &mut dyn WindowStore,
    seen: Seen<'_>,
    action: &str,
    window: Window,
    actions: &[String],
) -> StoreResult<Option<WindowFacts>> {
    let Seen {
        rule_key,
        group,
        id,
        at,
    } = seen;
    let w = window.millis;
    store.record(&format!("{rule_key}|{group}|{action}"), id, at, at + w)?;
    let armed_key = format!("{FIRED}{rule_key}|{group}");
    let keys: Vec<String> = actions
        .iter()
        .map(|a| format!("{rule_key}|{group}|{a}"))
        .collect();
    match store.together(&keys, at, w)? {
        Some((count, first, r)) => {
            let fired = store.hold(&armed_key, id, r + w, at)?;
            Ok(fired.then(|| WindowFacts {
                count,
                window,
                first,
                last: r,
                key: group.to_string(),
            }))
        }
        None => {
            store.extend(&armed_key, at + w, at)?;
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn windows_parse_as_ibm_documents_them() {
        assert_eq!(Window::parse("30 minutes").unwrap().millis, 30 * MIN);
        assert_eq!(Window::parse("1 hour").unwrap().millis, 60 * MIN);
        assert_eq!(
            Window::parse("1440 minutes").unwrap().to_string(),
            "1440 minutes"
        );
        for bad in [
            "0 minutes",
            "1441 minutes",
            "25 hours",
            "30",
            "thirty minutes",
            "3 days",
            "-1 hours",
        ] {
            assert!(Window::parse(bad).is_err(), "{bad}");
        }
    }

    fn agg(s: &mut MemoryStore, id: &str, at: i64, op: CountOp, n: u64) -> Option<u64> {
        let seen = Seen {
            rule_key: "r",
            group: "acct",
            id,
            at,
        };
        aggregate(s, seen, Window::parse("30 minutes").unwrap(), op, n)
            .unwrap()
            .map(|f| f.count)
    }

    #[test]
    fn an_occurrence_is_an_id_at_a_time() {
        let mut s = MemoryStore::default();
        let mut record = |id: &str, at: i64| s.record("k", id, at, at + 100).unwrap();
        assert!(record("a", 10));
        assert!(record("b", 20));
        // Retries, of the newest occurrence and of one before it.
        assert!(!record("b", 20));
        assert!(!record("a", 10));
        // The same id at another time counts again, as DynamoDB keys it (time#id).
        assert!(record("a", 15));
        assert!(record("a", 30));
        assert_eq!(s.occurrences("k", 0, 100).unwrap(), [10, 15, 20, 30]);
    }

    #[test]
    fn aggregate_exactly_n_and_n_plus_one() {
        let mut s = MemoryStore::default();
        let fired: Vec<Option<u64>> = (0..7)
            .map(|i| agg(&mut s, &format!("e{i}"), i * MIN, CountOp::Equal, 5))
            .collect();
        assert_eq!(fired, [None, None, None, None, Some(5), None, None]);
        let mut s = MemoryStore::default();
        let fired: Vec<Option<u64>> = (0..7)
            .map(|i| agg(&mut s, &format!("e{i}"), i * MIN, CountOp::GreaterThan, 5))
            .collect();
        assert_eq!(fired, [None, None, None, None, None, Some(6), None]);
    }

    #[test]
    fn boundaries_retries_and_rearming() {
        let mut s = MemoryStore::default();
        // Two events exactly one window apart are not in the same window: (t - w, t].
        assert_eq!(agg(&mut s, "a", 0, CountOp::GreaterThanInclusive, 2), None);
        assert_eq!(
            agg(&mut s, "b", 30 * MIN, CountOp::GreaterThanInclusive, 2),
            None
        );
        assert_eq!(
            agg(&mut s, "c", 30 * MIN + 1, CountOp::GreaterThanInclusive, 2),
            Some(2)
        );
        // A retry of the event that fired fires again (delivery de-duplicates it)...
        assert_eq!(
            agg(&mut s, "c", 30 * MIN + 1, CountOp::GreaterThanInclusive, 2),
            Some(2)
        );
        // ... and a retry of one that did not fire does not count twice.
        let mut r = MemoryStore::default();
        assert_eq!(agg(&mut r, "a", 0, CountOp::GreaterThanInclusive, 2), None);
        assert_eq!(agg(&mut r, "a", 0, CountOp::GreaterThanInclusive, 2), None);
        // Still firing-held while occurrences continue...
        assert_eq!(
            agg(&mut s, "d", 40 * MIN, CountOp::GreaterThanInclusive, 2),
            None
        );
        // ... and re-armed once a whole window passes without one.
        assert_eq!(
            agg(&mut s, "e", 71 * MIN, CountOp::GreaterThanInclusive, 2),
            None
        );
        assert_eq!(
            agg(&mut s, "f", 72 * MIN, CountOp::GreaterThanInclusive, 2),
            Some(2)
        );
    }

    #[test]
    fn late_and_out_of_order_events_complete_the_windows_after_them() {
        let mut s = MemoryStore::default();
        let op = CountOp::GreaterThanInclusive;
        assert_eq!(agg(&mut s, "a", 20 * MIN, op, 3), None);
        assert_eq!(agg(&mut s, "b", 25 * MIN, op, 3), None);
        // Arrives last, happened first: the window (-5, 25] holds all three.
        assert_eq!(agg(&mut s, "c", 10 * MIN, op, 3), Some(3));
        // Fired once: the next event is held back.
        assert_eq!(agg(&mut s, "d", 26 * MIN, op, 3), None);
        // Too late to share a window with the others: nothing.
        let mut s = MemoryStore::default();
        assert_eq!(agg(&mut s, "a", 40 * MIN, op, 3), None);
        assert_eq!(agg(&mut s, "b", 45 * MIN, op, 3), None);
        assert_eq!(agg(&mut s, "c", 10 * MIN, op, 3), None);
    }

    #[test]
    fn arrival_order_does_not_decide() {
        // Every order of a five-event burst fires exactly once, with the whole burst.
        let times = [0, 3, 7, 12, 20];
        let mut order = [0usize, 1, 2, 3, 4];
        let mut orders = 0;
        loop {
            let mut s = MemoryStore::default();
            let fired: Vec<u64> = order
                .iter()
                .filter_map(|&i| agg(&mut s, &format!("e{i}"), times[i] * MIN, CountOp::Equal, 5))
                .collect();
            assert_eq!(fired, [5], "order {order:?}");
            orders += 1;
            if !next_permutation(&mut order) {
                break;
            }
        }
        assert_eq!(orders, 120);
    }

    fn next_permutation(v: &mut [usize]) -> bool {
        let Some(i) = (1..v.len()).rev().find(|&i| v[i - 1] < v[i]) else {
            return false;
        };
        let j = (i..v.len()).rev().find(|&j| v[j] > v[i - 1]).unwrap_or(i);
        v.swap(i - 1, j);
        v[i..].reverse();
        true
    }

    #[test]
    fn separate_groups_count_separately() {
        let mut s = MemoryStore::default();
        let w = Window::parse("10 minutes").unwrap();
        let seen = |group: &'static str, id: &'static str, at: i64| Seen {
            rule_key: "r",
            group,
            id,
            at,
        };
        for (i, (a, b)) in [("a0", "b0"), ("a1", "b1"), ("a2", "b2")]
            .into_iter()
            .enumerate()
        {
            let at = i as i64;
            let mut agg = |g, id, at| aggregate(&mut s, seen(g, id, at), w, CountOp::Equal, 4);
            assert!(agg("acct-a", a, at).unwrap().is_none());
            assert!(agg("acct-b", b, at).unwrap().is_none());
        }
        let mut agg = |g, id, at| aggregate(&mut s, seen(g, id, at), w, CountOp::Equal, 4);
        assert!(agg("acct-a", "a3", 3).unwrap().is_some());
        assert!(agg("acct-b", "b3", 3).unwrap().is_some());
    }

    #[test]
    fn suppression_one_alert_per_period_then_the_count() {
        let mut s = MemoryStore::default();
        let p = Window::parse("60 minutes").unwrap();
        assert_eq!(
            admit(&mut s, "r|alice", "r|alice@0", 0, p).unwrap(),
            Some(None)
        );
        assert_eq!(
            admit(&mut s, "r|alice", "r|alice@10*MIN", 10 * MIN, p).unwrap(),
            None
        );
        assert_eq!(
            admit(&mut s, "r|bob", "r|bob@11*MIN", 11 * MIN, p).unwrap(),
            Some(None),
            "another key alerts"
        );
        assert_eq!(
            admit(&mut s, "r|alice", "r|alice@59*MIN", 59 * MIN, p).unwrap(),
            None
        );
        // The period runs from the alert, not from the last match.
        assert_eq!(
            admit(&mut s, "r|alice", "r|alice@60*MIN", 60 * MIN, p).unwrap(),
            Some(Some(Suppressed {
                count: 2,
                since: 10 * MIN
            }))
        );
        assert_eq!(
            admit(&mut s, "r|alice", "r|alice@61*MIN", 61 * MIN, p).unwrap(),
            None
        );
    }

    /// A store that answers windows by listing occurrences (the trait's own way, as
    /// DynamoDB does), over the in-memory store's records.
    struct Listing(MemoryStore);

    impl WindowStore for Listing {
        fn record(&mut self, key: &str, id: &str, at: i64, expires: i64) -> StoreResult<bool> {
            self.0.record(key, id, at, expires)
        }
        fn occurrences(&mut self, key: &str, from: i64, to: i64) -> StoreResult<Vec<i64>> {
            self.0.occurrences(key, from, to)
        }
        fn hold(&mut self, key: &str, owner: &str, until: i64, now: i64) -> StoreResult<bool> {
            self.0.hold(key, owner, until, now)
        }
        fn extend(&mut self, key: &str, until: i64, now: i64) -> StoreResult<()> {
            self.0.extend(key, until, now)
        }
        fn claim(&mut self, key: &str, owner: &str, until: i64, now: i64) -> StoreResult<bool> {
            self.0.claim(key, owner, until, now)
        }
        fn held(&mut self, key: &str, now: i64) -> StoreResult<bool> {
            self.0.held(key, now)
        }
        fn release(&mut self, key: &str, owner: &str) -> StoreResult<()> {
            self.0.release(key, owner)
        }
        fn count(&mut self, key: &str, at: i64) -> StoreResult<()> {
            self.0.count(key, at)
        }
        fn take_count(&mut self, key: &str) -> StoreResult<Option<(u64, i64)>> {
            self.0.take_count(key)
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]

        /// Counting (the in-memory store) and listing (the trait's default) give the same
        /// firings with the same facts, on bursts out of order, with equal times, retries and
        /// events a window or more late.
        #[test]
        fn counting_windows_answer_as_listing_ones(
            events in proptest::collection::vec(
                (0i64..40, 0u8..3, proptest::bool::weighted(0.1), 0u8..3),
                1..120,
            ),
            n in 1u64..6,
            op in 0u8..3,
        ) {
            let w = Window::parse("10 minutes").unwrap();
            let op = [CountOp::Equal, CountOp::GreaterThan, CountOp::GreaterThanInclusive]
                [op as usize];
            let actions = ["a0".to_string(), "a1".to_string(), "a2".to_string()];
            let (mut counting, mut listing) = (MemoryStore::default(), Listing(MemoryStore::default()));
            for (i, (minute, group, retry, action)) in events.into_iter().enumerate() {
                // Every fourth event is late by up to 40 minutes.
                let at = if i % 4 == 3 { (minute - 40) * MIN } else { minute * MIN } + (i as i64 % 7);
                let id = if retry && i > 0 { format!("e{}", i - 1) } else { format!("e{i}") };
                let group = ["g0", "g1", "g2"][group as usize];
                let seen = Seen { rule_key: "r", group, id: &id, at };
                let action = &actions[action as usize];
                proptest::prop_assert_eq!(
                    aggregate(&mut counting, seen, w, op, n),
                    aggregate(&mut listing, seen, w, op, n),
                    "aggregate, event {}", i
                );
                let seen = Seen { rule_key: "c", ..seen };
                proptest::prop_assert_eq!(
                    coincident(&mut counting, seen, action, w, &actions[..2]),
                    coincident(&mut listing, seen, action, w, &actions[..2]),
                    "coincident, event {}", i
                );
            }
        }
    }

    #[test]
    fn coincident_any_order_within_the_window() {
        let mut s = MemoryStore::default();
        let w = Window::parse("10 minutes").unwrap();
        let actions = vec![
            "kms.secrets.list".to_string(),
            "kms.secrets.read".to_string(),
        ];
        let c = |s: &mut MemoryStore, id: &str, action: &str, at: i64| {
            let seen = Seen {
                rule_key: "r",
                group: "acct",
                id,
                at,
            };
            coincident(s, seen, action, w, &actions).unwrap().is_some()
        };
        assert!(!c(&mut s, "1", "kms.secrets.read", 0));
        assert!(c(&mut s, "2", "kms.secrets.list", 5 * MIN));
        // Once per window: the next read does not fire again.
        assert!(!c(&mut s, "3", "kms.secrets.read", 6 * MIN));
        // Too far apart: no.
        let mut s = MemoryStore::default();
        assert!(!c(&mut s, "1", "kms.secrets.read", 0));
        assert!(!c(&mut s, "2", "kms.secrets.list", 10 * MIN));
    }
}
