//! Windows of events: aggregate ("N occurrences within the last X") and coincident ("every one
//! of these actions within the last X") rules, over a [`WindowStore`].
//!
//! Windows slide on event time, not arrival time. Occurrences are kept per rule and group key
//! (the account unless the rule says `by`), keyed by event id so that a retried batch never
//! counts an event twice. A rule fires once when its window's condition becomes true and
//! re-arms when its window empties: the firing holds a key that every later occurrence extends
//! and that expires one window after the last one. A late event counts in the window it belongs
//! to (the window ending at its own time).

pub mod memory;

pub use memory::MemoryStore;

use std::fmt;

/// Shared window state: in memory for one process, DynamoDB for concurrent Lambda invocations.
pub trait WindowStore {
    /// Records occurrence `id` at `at` (ms since the epoch) under `key`, to be kept until
    /// `expires`. Returns `false` when `id` was recorded already (a retry), which counts once.
    fn record(&mut self, key: &str, id: &str, at: i64, expires: i64) -> bool;

    /// The times of the occurrences under `key` that lie in `(from, to]`.
    fn occurrences(&self, key: &str, from: i64, to: i64) -> Vec<i64>;

    /// Takes `key` until `until` when it is free (never taken, or expired at `now`) and returns
    /// `true`; when it is held, extends it to `until` if that is later and returns `false`.
    fn hold(&mut self, key: &str, until: i64, now: i64) -> bool;

    /// Extends `key` to `until` if it is held at `now`; a free key stays free.
    fn extend(&mut self, key: &str, until: i64, now: i64);

    /// Takes `key` until `until` if it is free at `now` (never extends); whether this call
    /// took it.
    fn claim(&mut self, key: &str, until: i64, now: i64) -> bool;

    /// Adds one to the counter `key`, remembering when it started.
    fn count(&mut self, key: &str, at: i64);

    /// Takes the counter `key` away: how many, since when.
    fn take_count(&mut self, key: &str) -> Option<(u64, i64)>;
}

/// Matches an alert stands for that were suppressed before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suppressed {
    pub count: u64,
    pub since: i64,
}

/// `suppress`: whether a finding with `key` at `at` becomes an alert. `Some` when it does,
/// with the matches suppressed since the previous alert for the key; `None` when it is
/// suppressed (and counted).
pub fn admit(
    store: &mut dyn WindowStore,
    key: &str,
    at: i64,
    period: Window,
) -> Option<Option<Suppressed>> {
    let count_key = format!("suppressed|{key}");
    if store.claim(&format!("quiet|{key}"), at + period.millis, at) {
        Some(
            store
                .take_count(&count_key)
                .map(|(count, since)| Suppressed { count, since }),
        )
    } else {
        store.count(&count_key, at);
        None
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

/// Records one matching event of an aggregate rule and says whether the rule fires now.
pub fn aggregate(
    store: &mut dyn WindowStore,
    seen: Seen<'_>,
    window: Window,
    op: CountOp,
    n: u64,
) -> Option<WindowFacts> {
    let Seen {
        rule_key,
        group,
        id,
        at,
    } = seen;
    let key = format!("{rule_key}|{group}");
    store.record(&key, id, at, at + window.millis);
    let live = store.occurrences(&key, at - window.millis, at);
    let count = live.len() as u64;
    let armed_key = format!("fired|{key}");
    if !op.holds(count, n) {
        // Keep an earlier firing held while occurrences keep coming.
        store.extend(&armed_key, at + window.millis, at);
        return None;
    }
    store
        .hold(&armed_key, at + window.millis, at)
        .then(|| WindowFacts {
            count,
            window,
            first: live.iter().copied().min().unwrap_or(at),
            last: live.iter().copied().max().unwrap_or(at),
            key: group.to_string(),
        })
}

/// Records one event of a coincident rule (its `action` among `actions`) and says whether
/// every action has now been seen within the window.
pub fn coincident(
    store: &mut dyn WindowStore,
    seen: Seen<'_>,
    action: &str,
    window: Window,
    actions: &[String],
) -> Option<WindowFacts> {
    let Seen {
        rule_key,
        group,
        id,
        at,
    } = seen;
    store.record(
        &format!("{rule_key}|{group}|{action}"),
        id,
        at,
        at + window.millis,
    );
    let mut first = at;
    let mut last = at;
    let mut count = 0u64;
    for a in actions {
        let seen = store.occurrences(&format!("{rule_key}|{group}|{a}"), at - window.millis, at);
        if seen.is_empty() {
            store.extend(&format!("fired|{rule_key}|{group}"), at + window.millis, at);
            return None;
        }
        count += seen.len() as u64;
        first = first.min(seen.iter().copied().min().unwrap_or(at));
        last = last.max(seen.iter().copied().max().unwrap_or(at));
    }
    store
        .hold(&format!("fired|{rule_key}|{group}"), at + window.millis, at)
        .then(|| WindowFacts {
            count,
            window,
            first,
            last,
            key: group.to_string(),
        })
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
        aggregate(s, seen, Window::parse("30 minutes").unwrap(), op, n).map(|f| f.count)
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
        // A retry of the same event does not count again.
        assert_eq!(
            agg(&mut s, "c", 30 * MIN + 1, CountOp::GreaterThanInclusive, 2),
            None
        );
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
    fn late_and_out_of_order_events_count_where_they_belong() {
        let mut s = MemoryStore::default();
        assert_eq!(
            agg(&mut s, "a", 20 * MIN, CountOp::GreaterThanInclusive, 3),
            None
        );
        assert_eq!(
            agg(&mut s, "b", 25 * MIN, CountOp::GreaterThanInclusive, 3),
            None
        );
        // Arrives last, happened first: its own window (-10, 10] holds only itself...
        assert_eq!(
            agg(&mut s, "c", 10 * MIN, CountOp::GreaterThanInclusive, 3),
            None
        );
        // ... but it is in the window of the next event.
        assert_eq!(
            agg(&mut s, "d", 26 * MIN, CountOp::GreaterThanInclusive, 3),
            Some(4)
        );
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
            assert!(aggregate(&mut s, seen("acct-a", a, at), w, CountOp::Equal, 4).is_none());
            assert!(aggregate(&mut s, seen("acct-b", b, at), w, CountOp::Equal, 4).is_none());
        }
        assert!(aggregate(&mut s, seen("acct-a", "a3", 3), w, CountOp::Equal, 4).is_some());
        assert!(aggregate(&mut s, seen("acct-b", "b3", 3), w, CountOp::Equal, 4).is_some());
    }

    #[test]
    fn suppression_one_alert_per_period_then_the_count() {
        let mut s = MemoryStore::default();
        let p = Window::parse("60 minutes").unwrap();
        assert_eq!(admit(&mut s, "r|alice", 0, p), Some(None));
        assert_eq!(admit(&mut s, "r|alice", 10 * MIN, p), None);
        assert_eq!(
            admit(&mut s, "r|bob", 11 * MIN, p),
            Some(None),
            "another key alerts"
        );
        assert_eq!(admit(&mut s, "r|alice", 59 * MIN, p), None);
        // The period runs from the alert, not from the last match.
        assert_eq!(
            admit(&mut s, "r|alice", 60 * MIN, p),
            Some(Some(Suppressed {
                count: 2,
                since: 10 * MIN
            }))
        );
        assert_eq!(admit(&mut s, "r|alice", 61 * MIN, p), None);
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
            coincident(s, seen, action, w, &actions).is_some()
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
