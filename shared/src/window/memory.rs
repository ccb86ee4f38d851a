//! The in-memory [`WindowStore`]: one process (the CLI, tests, one invocation).

use super::WindowStore;
use std::collections::HashMap;

#[derive(Debug, Default)]
pub struct MemoryStore {
    /// Per key: (event id, time, expires), in arrival order.
    occurrences: HashMap<String, Vec<(String, i64, i64)>>,
    holds: HashMap<String, i64>,
}

impl MemoryStore {
    /// Drops what expired before `now` under `key`, so memory stays bounded by the windows.
    fn prune(list: &mut Vec<(String, i64, i64)>, newest: i64) {
        list.retain(|(_, _, expires)| *expires >= newest);
    }
}

impl WindowStore for MemoryStore {
    fn record(&mut self, key: &str, id: &str, at: i64, expires: i64) -> bool {
        let list = self.occurrences.entry(key.to_string()).or_default();
        if list.iter().any(|(i, _, _)| i == id) {
            return false;
        }
        list.push((id.to_string(), at, expires));
        let newest = list.iter().map(|(_, t, _)| *t).max().unwrap_or(at);
        Self::prune(list, newest);
        true
    }

    fn occurrences(&self, key: &str, from: i64, to: i64) -> Vec<i64> {
        self.occurrences.get(key).map_or_else(Vec::new, |list| {
            list.iter()
                .map(|(_, t, _)| *t)
                .filter(|t| *t > from && *t <= to)
                .collect()
        })
    }

    fn hold(&mut self, key: &str, until: i64, now: i64) -> bool {
        match self.holds.get_mut(key) {
            Some(held) if *held > now => {
                *held = (*held).max(until);
                false
            }
            _ => {
                self.holds.insert(key.to_string(), until);
                true
            }
        }
    }

    fn extend(&mut self, key: &str, until: i64, now: i64) {
        if let Some(held) = self.holds.get_mut(key) {
            if *held > now {
                *held = (*held).max(until);
            }
        }
    }
}
