//! Records that repeat a key: every reading of them is evaluated.
//!
//! JSON parsers disagree on `{"eventName": "StopLogging", "eventName": "DescribeTrails"}`:
//! most keep the last value, some the first, some refuse it. A record written that way must
//! not slip past a rule because the rule's reader took the harmless value, so such a record is
//! read once for each choice of values: in each reading, one member of every repeated key keeps
//! its name and the others are renamed (`eventName~2`), which no rule reads. A rule fires when
//! it fires on any reading. The record is also reported (see [`Readings::keys`]). A key that
//! no rule reads ([`read_by`]) cannot hide an event and is left alone.

use crate::layout::Layout;
use crate::projection::Projection;
use std::borrow::Cow;
use std::collections::HashMap;

/// Readings evaluated at most for one record; beyond this (a record that repeats many keys
/// many times), each repeated key still gets every one of its values in some reading, and the
/// record is reported as only partly evaluated.
pub const MAX_READINGS: usize = 16;

/// The readings of one record: which members are renamed in each.
pub struct Readings {
    /// The key ends (offsets of their closing quotes) of the members of each group of
    /// siblings that share a key, in text order.
    groups: Vec<Vec<u32>>,
    /// The repeated keys (decoded), once each, in text order.
    pub keys: Vec<String>,
    /// How many readings there are in all (more than [`Readings::len`] when capped).
    pub total: u128,
    /// How many are evaluated.
    len: usize,
}

/// Whether some rule reads member `target` of `text` (laid out in `layout`): whether
/// `projection` keeps its path. A path the walk cannot follow counts as read.
pub fn read_by(projection: &Projection, text: &str, layout: &Layout, target: usize) -> bool {
    if projection.is_everything() {
        return true;
    }
    let mut path: Vec<Cow<'_, str>> = Vec::new();
    let mut members = layout.root();
    loop {
        let Some((at, m)) = members.find(|(at, m)| *at <= target && target < m.end()) else {
            return true;
        };
        match m.key(text) {
            Ok(k) => path.push(k),
            Err(_) => return true,
        }
        if at == target {
            return projection.reads(path.iter().map(|k| k.as_ref()));
        }
        members = layout.inside(at);
    }
}

/// The readings of `text` for the repeated members `repeats` (pairs of
/// [`Layout::repeats`]).
pub fn readings(text: &str, layout: &Layout, repeats: &[(u32, u32)]) -> Readings {
    let all = layout.all();
    // Groups of members that share a key in one object: the first, then its repeats.
    let mut group_of: HashMap<u32, usize> = HashMap::new();
    let mut groups: Vec<Vec<u32>> = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    for &(first, repeat) in repeats {
        let g = *group_of.entry(first).or_insert_with(|| {
            let m = &all[first as usize];
            let k = m
                .key(text)
                .map_or_else(|_| m.raw_key(text).to_string(), Cow::into_owned);
            if keys.len() < MAX_KEYS_LISTED && !keys.contains(&k) {
                keys.push(k);
            }
            groups.push(vec![m.key.1]);
            groups.len() - 1
        });
        groups[g].push(all[repeat as usize].key.1);
    }
    let total = groups
        .iter()
        .try_fold(1u128, |n, g| n.checked_mul(g.len() as u128))
        .unwrap_or(u128::MAX);
    let len = if total <= MAX_READINGS as u128 {
        total as usize
    } else {
        // The k-th value of every group, k up to the longest group's; the last reading takes
        // the last of each.
        let longest = groups.iter().map(Vec::len).max().unwrap_or(1);
        longest.min(MAX_READINGS)
    };
    Readings {
        groups,
        keys,
        total,
        len,
    }
}

/// Repeated keys named in a report, at most.
const MAX_KEYS_LISTED: usize = 20;

impl Readings {
    /// How many readings are evaluated.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Which member of group `g` keeps its name in reading `k`: every combination when they
    /// are few; else the k-th value of every group together, and last the last of each.
    fn choice(&self, k: usize, g: usize) -> usize {
        let len = self.groups[g].len();
        if self.total <= MAX_READINGS as u128 {
            // At most four groups (16 readings of two values each).
            let below: usize = self.groups[..g].iter().map(Vec::len).product();
            (k / below) % len
        } else if k + 1 == self.len {
            len - 1
        } else {
            k.min(len - 1)
        }
    }

    /// The text of reading `k` of `text`: every member of a group but the chosen one renamed
    /// `KEY~N` (N its place in the group, from 1).
    pub fn text(&self, text: &str, k: usize) -> String {
        let mut renames: Vec<(usize, usize)> = Vec::new();
        for (g, group) in self.groups.iter().enumerate() {
            let keep = self.choice(k, g);
            for (n, &end) in group.iter().enumerate() {
                if n != keep {
                    renames.push((end as usize, n + 1));
                }
            }
        }
        renames.sort_unstable();
        let mut out = String::with_capacity(text.len() + renames.len() * 4);
        let mut at = 0;
        for (end, n) in renames {
            out.push_str(&text[at..end]);
            out.push('~');
            out.push_str(&n.to_string());
            at = end;
        }
        out.push_str(&text[at..]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn of(text: &str) -> (Readings, String) {
        let mut l = Layout::new();
        l.scan(text).expect("JSON");
        (readings(text, &l, l.repeats()), text.to_string())
    }

    fn texts(r: &Readings, text: &str) -> Vec<String> {
        (0..r.len()).map(|k| r.text(text, k)).collect()
    }

    fn values(r: &(Readings, String), key: &str) -> Vec<String> {
        texts(&r.0, &r.1)
            .iter()
            .map(|t| {
                let v: Value = serde_json::from_str(t).expect("a reading is JSON");
                v.pointer(key).map_or("-".into(), |v| v.to_string())
            })
            .collect()
    }

    #[test]
    fn every_value_of_a_repeated_key_is_read() {
        let r = of(r#"{"eventName":"StopLogging","x":1,"eventName":"DescribeTrails"}"#);
        assert_eq!(r.0.keys, ["eventName"]);
        assert_eq!(r.0.total, 2);
        assert_eq!(
            values(&r, "/eventName"),
            [r#""StopLogging""#, r#""DescribeTrails""#]
        );
        assert_eq!(
            r.0.text(&r.1, 0),
            r#"{"eventName":"StopLogging","x":1,"eventName~2":"DescribeTrails"}"#
        );
    }

    #[test]
    fn nested_escaped_and_combined() {
        // `\u0061` spells `a`: the same key. Two groups make four readings.
        let r = of(r#"{"u":{"a":1,"\u0061":2},"e":"x","e":"y"}"#);
        assert_eq!(r.0.keys, ["a", "e"]);
        assert_eq!(r.0.total, 4);
        let pairs: Vec<(String, String)> = values(&r, "/u/a")
            .into_iter()
            .zip(values(&r, "/e"))
            .collect();
        for want in [
            ("1", "\"x\""),
            ("2", "\"x\""),
            ("1", "\"y\""),
            ("2", "\"y\""),
        ] {
            assert!(
                pairs.contains(&(want.0.to_string(), want.1.to_string())),
                "{want:?} in {pairs:?}"
            );
        }
        // Objects in arrays are objects of their own: the same key in two elements is no repeat.
        let mut l = Layout::new();
        l.scan(r#"{"Records":[{"a":1},{"a":2}]}"#).unwrap();
        assert!(l.repeats().is_empty());
    }

    #[test]
    fn many_repeats_are_capped_but_every_value_is_read() {
        let members: Vec<String> = (0..40).map(|i| format!(r#""k":{i},"j":{i}"#)).collect();
        let text = format!("{{{}}}", members.join(","));
        let r = of(&text);
        assert_eq!(r.0.total, 1600);
        assert_eq!(r.0.len(), MAX_READINGS);
        let ks = values(&r, "/k");
        assert_eq!(ks.first().map(String::as_str), Some("0"));
        assert_eq!(ks.last().map(String::as_str), Some("39"));
    }

    #[test]
    fn a_million_members_cost_linear_time() {
        // 200,000 distinct keys, each twice: a map finds the repeats; the groups are found
        // with a map too; each reading is one pass.
        let members: Vec<String> = (0..200_000)
            .map(|i| format!(r#""k{i}":1,"k{i}":2"#))
            .collect();
        let text = format!("{{{}}}", members.join(","));
        let r = of(&text);
        assert_eq!(r.0.keys.len(), 20, "keys named at most 20");
        assert_eq!(r.0.len(), 2);
        let first = r.0.text(&r.1, 0);
        let v: Value = serde_json::from_str(&first).expect("JSON");
        assert_eq!(v["k199999"], 1);
        assert_eq!(v["k199999~2"], 2);
    }
}
