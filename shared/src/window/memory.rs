//! The in-memory [`WindowStore`]: one process (the CLI, tests, one invocation).

use super::{StoreResult, WindowStore};
use foldhash::fast::RandomState;
use std::collections::{HashMap, VecDeque};

#[derive(Debug, Default)]
struct Occurrences {
    /// (time, id), sorted: events mostly come in time order, so an occurrence is mostly
    /// added at the back and forgotten at the front, a window's bounds are found by searching
    /// (mostly a few steps from where they were), and a retry (the same id at the same time,
    /// as DynamoDB keys it) is found by the binary search that places it.
    by_time: VecDeque<(i64, Box<str>)>,
    /// Where the last window counted began: windows of one key mostly move forward with
    /// the newest event, so the next one begins a few occurrences later. Only a hint.
    start: usize,
}

impl Occurrences {
    /// Positions of the occurrences in `(from, to]`.
    fn between(&self, from: i64, to: i64) -> std::ops::Range<usize> {
        let lo = self.after(from, 0);
        lo..self.after(to, lo).max(lo)
    }

    /// The position of the first occurrence later than `t`, as `partition_point` finds it;
    /// looked for first where it mostly is (the newest occurrences, or a few after
    /// `from`), by halves only when it is not there.
    fn after(&self, t: i64, from: usize) -> usize {
        let n = self.by_time.len();
        let time = |i: usize| self.by_time[i].0;
        if n == 0 || time(n - 1) <= t {
            return n;
        }
        let newest = n.saturating_sub(8);
        if time(newest) > t {
            // Not among the newest: from `from`, when it is not past the place.
            if from < n && (from == 0 || time(from - 1) <= t) {
                if let Some(k) = (from..n.min(from + 16)).find(|&i| time(i) > t) {
                    return k;
                }
            }
            return self.by_time.partition_point(|(x, _)| *x <= t);
        }
        (newest..n).find(|&i| time(i) > t).unwrap_or(n)
    }

    /// Adds `id` at `at`, kept until `expires`; `false` when it is there already (a retry).
    fn add(&mut self, id: &str, at: i64, expires: i64) -> bool {
        let fits_at_end = self
            .by_time
            .back()
            .is_none_or(|last| (at, id) > (last.0, &*last.1));
        if fits_at_end {
            self.by_time.push_back((at, id.into()));
        } else {
            let place = self.by_time.partition_point(|(t, i)| (*t, &**i) < (at, id));
            if self
                .by_time
                .get(place)
                .is_some_and(|(t, i)| (*t, &**i) == (at, id))
            {
                return false;
            }
            self.by_time.insert(place, (at, id.into()));
        }
        // Forget what is older than two windows before the newest event: a late event up to
        // one window late still sees every window it belongs to, and memory stays bounded.
        let newest = self.by_time.back().map_or(at, |(t, _)| *t);
        let cutoff = newest - 2 * (expires - at).max(0);
        while self.by_time.front().is_some_and(|(t, _)| *t <= cutoff) {
            self.by_time.pop_front();
        }
        true
    }

    /// See [`WindowStore::busiest`]. The candidate window ends are the event's own time and
    /// the occurrences after it within a window (only the event when events come in order);
    /// the windows ending there are swept with two positions that only move forward, their
    /// first one found from where the key's last window began.
    fn busiest(&mut self, at: i64, w: i64) -> (u64, i64, i64) {
        let mut best = (0, at, at);
        let ends = self.between(at - 1, at + w - 1);
        let Some(&(r, _)) = self.by_time.get(ends.start).filter(|_| !ends.is_empty()) else {
            return best;
        };
        let (mut lo, mut hi) = (self.after(r - w, self.start), ends.start);
        self.start = lo;
        let time = |i: usize| self.by_time[i].0;
        for end in ends {
            let r = time(end);
            // The window is (r - w, r]: from the first occurrence after r - w (there is one,
            // at `end`) to the last at r.
            while time(lo) <= r - w {
                lo += 1;
            }
            while hi < self.by_time.len() && time(hi) <= r {
                hi += 1;
            }
            let count = (hi - lo) as u64;
            if count > best.0 {
                best = (count, time(lo), r);
            }
        }
        best
    }
}

/// The occurrences under a key, made when there are none. A macro: a function returning
/// the entry found by `get_mut` could not insert when there is none (the borrow checker
/// holds the map borrowed), and `entry` would copy the key on every call.
macro_rules! occurrences_of {
    ($store:expr, $key:expr) => {
        match $store.occurrences.get_mut($key) {
            Some(o) => o,
            None => $store.occurrences.entry($key.to_string()).or_default(),
        }
    };
}

#[derive(Debug, Default)]
pub struct MemoryStore {
    occurrences: HashMap<String, Occurrences, RandomState>,
    /// key → (until, owner).
    holds: HashMap<String, (i64, String), RandomState>,
    counts: HashMap<String, (u64, i64), RandomState>,
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
        Ok(occurrences_of!(self, key).add(id, at, expires))
    }

    fn occurrences(&mut self, key: &str, from: i64, to: i64) -> StoreResult<Vec<i64>> {
        Ok(self.occurrences.get(key).map_or_else(Vec::new, |o| {
            o.by_time
                .range(o.between(from, to))
                .map(|(t, _)| *t)
                .collect()
        }))
    }

    /// Counts instead of listing (see [`Occurrences::busiest`]).
    fn busiest(&mut self, key: &str, at: i64, w: i64) -> StoreResult<(u64, i64, i64)> {
        Ok(self
            .occurrences
            .get_mut(key)
            .map_or((0, at, at), |o| o.busiest(at, w)))
    }

    fn record_busiest(
        &mut self,
        key: &str,
        id: &str,
        at: i64,
        w: i64,
    ) -> StoreResult<(u64, i64, i64)> {
        let o = occurrences_of!(self, key);
        o.add(id, at, at + w);
        Ok(o.busiest(at, w))
    }

    fn together(
        &mut self,
        keys: &[String],
        at: i64,
        w: i64,
    ) -> StoreResult<Option<(u64, i64, i64)>> {
        let mut per_key = Vec::with_capacity(keys.len());
        for key in keys {
            match self.occurrences.get(key.as_str()) {
                Some(o) => per_key.push(o),
                None => return Ok(None),
            }
        }
        let mut ends: Vec<i64> = per_key
            .iter()
            .flat_map(|o| {
                o.by_time
                    .range(o.between(at - 1, at + w - 1))
                    .map(|(t, _)| *t)
            })
            .collect();
        ends.sort_unstable();
        ends.dedup();
        'ends: for r in ends {
            let (mut count, mut first) = (0, r);
            for o in &per_key {
                let span = o.between(r - w, r);
                if span.is_empty() {
                    continue 'ends;
                }
                count += span.len() as u64;
                first = first.min(o.by_time[span.start].0);
            }
            return Ok(Some((count, first, r)));
        }
        Ok(None)
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

    fn release(&mut self, key: &str, owner: &str) -> StoreResult<()> {
        if self.holds.get(key).is_some_and(|(_, by)| by == owner) {
            self.holds.remove(key);
        }
        Ok(())
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
