//! The in-memory [`WindowStore`]: one process (the CLI, tests, one invocation).

use super::{StoreResult, WindowStore};
use std::collections::{BTreeSet, HashMap, HashSet};

#[derive(Debug, Default)]
struct Occurrences {
    /// (time, id), ordered by time for range queries.
    by_time: BTreeSet<(i64, String)>,
    ids: HashSet<String>,
    /// The newest event time recorded.
    newest: i64,
}

#[derive(Debug, Default)]
pub struct MemoryStore {
    occurrences: HashMap<String, Occurrences>,
    /// key → (until, owner).
    holds: HashMap<String, (i64, String)>,
    counts: HashMap<String, (u64, i64)>,
}

impl MemoryStore {
    /// Counters still open (`suppressed|KEY` → how many, since when): what the last period of
    /// each key held back, for a summary when the input ends.
    pub fn open_counts(&self) -> impl Iterator<Item = (&str, u64, i64)> {
        self.counts.iter().map(|(k, (n, t))| (k.as_str(), *n, *t))
    }
}

impl WindowStore for MemoryStore {
    fn record(&mut self, key: &str, id: &str, at: i64, expires: i64) -> StoreResult<bool> {
        let o = self.occurrences.entry(key.to_string()).or_default();
        if !o.ids.insert(id.to_string()) {
            return Ok(false);
        }
        o.by_time.insert((at, id.to_string()));
        if o.by_time.len() == 1 || at > o.newest {
            o.newest = at;
        }
        // Forget what is older than two windows before the newest event: a late event up to
        // one window late still sees every window it belongs to, and memory stays bounded.
        let cutoff = o.newest - 2 * (expires - at).max(0);
        while o.by_time.first().is_some_and(|(t, _)| *t <= cutoff) {
            if let Some((_, old)) = o.by_time.pop_first() {
                o.ids.remove(&old);
            }
        }
        Ok(true)
    }

    fn occurrences(&mut self, key: &str, from: i64, to: i64) -> StoreResult<Vec<i64>> {
        Ok(self.occurrences.get(key).map_or_else(Vec::new, |o| {
            o.by_time
                .range((from + 1, String::new())..)
                .take_while(|(t, _)| *t <= to)
                .map(|(t, _)| *t)
                .collect()
        }))
    }

    fn hold(&mut self, key: &str, owner: &str, until: i64, now: i64) -> StoreResult<bool> {
        match self.holds.get_mut(key) {
            Some((held, by)) if *held > now => {
                *held = (*held).max(until);
                Ok(by == owner)
            }
            _ => {
                self.holds
                    .insert(key.to_string(), (until, owner.to_string()));
                Ok(true)
            }
        }
    }

    fn extend(&mut self, key: &str, until: i64, now: i64) -> StoreResult<()> {
        if let Some((held, _)) = self.holds.get_mut(key) {
            if *held > now {
                *held = (*held).max(until);
            }
        }
        Ok(())
    }

    fn claim(&mut self, key: &str, owner: &str, until: i64, now: i64) -> StoreResult<bool> {
        match self.holds.get_mut(key) {
            Some((held, by)) if *held > now && by == owner => {
                *held = (*held).max(until);
                Ok(true)
            }
            Some((held, _)) if *held > now => Ok(false),
            _ => {
                self.holds
                    .insert(key.to_string(), (until, owner.to_string()));
                Ok(true)
            }
        }
    }

    fn held(&mut self, key: &str, now: i64) -> StoreResult<bool> {
        Ok(self.holds.get(key).is_some_and(|(held, _)| *held > now))
    }

    fn count(&mut self, key: &str, at: i64) -> StoreResult<()> {
        let c = self.counts.entry(key.to_string()).or_insert((0, at));
        c.0 += 1;
        c.1 = c.1.min(at);
        Ok(())
    }

    fn take_count(&mut self, key: &str) -> StoreResult<Option<(u64, i64)>> {
        Ok(self.counts.remove(key))
    }
}
