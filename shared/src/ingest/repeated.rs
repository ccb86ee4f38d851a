//! Records that repeat a key: every reading of them is evaluated.
//!
//! JSON parsers disagree on `{"eventName": "StopLogging", "eventName": "DescribeTrails"}`:
//! most keep the last value, some the first, some refuse it. A record written that way must
//! not slip past a rule because the rule's reader took the harmless value, so such a record is
//! read once for each choice of values: in each reading, one member of every repeated key keeps
//! its name and the others are renamed (`eventName~2`), which no rule reads. A rule fires when
//! it fires on any reading. The record is also reported (see [`Readings::keys`]).

use crate::layout::Layout;
use std::borrow::Cow;

/// Readings evaluated at most for one record; beyond this (a record that repeats many keys
/// many times), each repeated key still gets every one of its values in some reading, and the
/// record is reported as only partly evaluated.
pub const MAX_READINGS: usize = 16;

/// The readings of one record.
pub struct Readings {
    /// The texts to evaluate, none of them with a repeated key.
    pub texts: Vec<String>,
    /// The repeated keys (decoded), once each, in text order.
    pub keys: Vec<String>,
    /// How many readings there are in all (more than `texts.len()` when capped).
    pub total: u128,
}

/// The readings of `text`, whose layout has [`Layout::repeats`].
pub fn readings(text: &str, layout: &Layout) -> Readings {
    let all = layout.all();
    // Groups of members that share a key in one object: the first, then its repeats.
    let mut groups: Vec<Vec<u32>> = Vec::new();
    for &(first, repeat) in layout.repeats() {
        match groups.iter_mut().find(|g| g[0] == first) {
            Some(g) => g.push(repeat),
            None => groups.push(vec![first, repeat]),
        }
    }
    let mut keys: Vec<String> = Vec::new();
    for g in &groups {
        let k = all[g[0] as usize].key(text).map_or_else(
            |_| all[g[0] as usize].raw_key(text).to_string(),
            Cow::into_owned,
        );
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    let total = groups
        .iter()
        .try_fold(1u128, |n, g| n.checked_mul(g.len() as u128))
        .unwrap_or(u128::MAX);
    // Which member of each group keeps its name, reading by reading: every combination when
    // they are few; else the i-th value of every group together, then the last of each.
    let choices: Vec<Vec<usize>> = if total <= MAX_READINGS as u128 {
        (0..total as usize)
            .map(|mut n| {
                groups
                    .iter()
                    .map(|g| {
                        let c = n % g.len();
                        n /= g.len();
                        c
                    })
                    .collect()
            })
            .collect()
    } else {
        let longest = groups.iter().map(Vec::len).max().unwrap_or(1);
        let mut c: Vec<Vec<usize>> = (0..longest.min(MAX_READINGS - 1))
            .map(|i| groups.iter().map(|g| i.min(g.len() - 1)).collect())
            .collect();
        c.push(groups.iter().map(|g| g.len() - 1).collect());
        c
    };
    let texts = choices
        .iter()
        .map(|choice| {
            // Renamed keys, in text order: every member of a group but the chosen one.
            let mut renames: Vec<(usize, usize)> = Vec::new();
            for (g, &keep) in groups.iter().zip(choice) {
                for (n, &m) in g.iter().enumerate() {
                    if n != keep {
                        renames.push((m as usize, n + 1));
                    }
                }
            }
            renames.sort_unstable_by_key(|(m, _)| all[*m].key.1);
            let mut out = String::with_capacity(text.len() + renames.len() * 4);
            let mut at = 0;
            for (m, n) in renames {
                let end = all[m].key.1 as usize;
                out.push_str(&text[at..end]);
                out.push('~');
                out.push_str(&n.to_string());
                at = end;
            }
            out.push_str(&text[at..]);
            out
        })
        .collect();
    Readings { texts, keys, total }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn of(text: &str) -> Readings {
        let mut l = Layout::new();
        l.scan(text).expect("JSON");
        readings(text, &l)
    }

    fn values(r: &Readings, key: &str) -> Vec<String> {
        r.texts
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
        assert_eq!(r.keys, ["eventName"]);
        assert_eq!(r.total, 2);
        assert_eq!(
            values(&r, "/eventName"),
            [r#""StopLogging""#, r#""DescribeTrails""#]
        );
        assert_eq!(
            r.texts[0],
            r#"{"eventName":"StopLogging","x":1,"eventName~2":"DescribeTrails"}"#
        );
    }

    #[test]
    fn nested_escaped_and_combined() {
        // `\u0061` spells `a`: the same key. Two groups make four readings.
        let r = of(r#"{"u":{"a":1,"\u0061":2},"e":"x","e":"y"}"#);
        assert_eq!(r.keys, ["a", "e"]);
        assert_eq!(r.total, 4);
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
        assert_eq!(r.total, 1600);
        assert_eq!(r.texts.len(), MAX_READINGS);
        let ks = values(&r, "/k");
        assert_eq!(ks.first().map(String::as_str), Some("0"));
        assert_eq!(ks.last().map(String::as_str), Some("39"));
    }
}
