//! `test-pattern --compare-aws`: the same pattern and lines sent to CloudWatch Logs' own
//! `TestMetricFilter`, and every line where its verdict (or, for space-delimited patterns, the
//! fields it extracts) differs from ours reported.

use iamwatch::pattern::FilterPattern;
use std::collections::BTreeMap;

/// `TestMetricFilter` takes at most this many messages a call.
pub const BATCH: usize = 50;

/// What one side said of a line: no match, or a match with the fields it extracted.
pub type Verdict = Option<BTreeMap<String, String>>;

/// A message `TestMetricFilter` matched: its 1-based number in the request, the fields.
pub type Match = (usize, BTreeMap<String, String>);

/// A line the two evaluators disagree on.
#[derive(Debug, PartialEq, Eq)]
pub struct Disagreement {
    /// 1-based line number in the input.
    pub line: u64,
    pub text: String,
    pub ours: Verdict,
    pub aws: Verdict,
}

/// Our verdict on `text`.
pub fn ours(pattern: &FilterPattern, text: &str) -> Verdict {
    pattern.test(text).map(|fields| {
        fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    })
}

/// Compares `lines` (`(line number, text)`, texts not empty: CloudWatch refuses empty
/// messages) under `pattern`, asking `aws` for its verdicts a batch at a time: `aws` gets the
/// pattern and up to [`BATCH`] messages and answers `(1-based index in the batch, extracted
/// fields)` for each message that matched.
pub fn compare(
    pattern: &FilterPattern,
    lines: &[(u64, String)],
    mut aws: impl FnMut(&str, &[String]) -> Result<Vec<Match>, String>,
    delimited: bool,
) -> Result<Vec<Disagreement>, String> {
    let mut out = Vec::new();
    for batch in lines.chunks(BATCH) {
        let messages: Vec<String> = batch.iter().map(|(_, t)| t.clone()).collect();
        let mut theirs: Vec<Verdict> = vec![None; batch.len()];
        for (n, fields) in aws(pattern.as_str(), &messages)? {
            let slot = n
                .checked_sub(1)
                .and_then(|i| theirs.get_mut(i))
                .ok_or_else(|| {
                    format!(
                        "TestMetricFilter answered event number {n} of {}",
                        batch.len()
                    )
                })?;
            *slot = Some(fields);
        }
        for ((line, text), aws) in batch.iter().zip(theirs) {
            let ours = ours(pattern, text);
            // Fields are compared for space-delimited patterns only: for the others
            // CloudWatch reports none and neither do we.
            let same = match (&ours, &aws) {
                (None, None) => true,
                (Some(a), Some(b)) => !delimited || a == b,
                _ => false,
            };
            if !same {
                out.push(Disagreement {
                    line: *line,
                    text: text.clone(),
                    ours,
                    aws,
                });
            }
        }
    }
    Ok(out)
}

/// How a verdict reads in a report.
pub fn describe(v: &Verdict) -> String {
    match v {
        None => "no match".into(),
        Some(f) if f.is_empty() => "match".into(),
        Some(f) => format!(
            "match with {}",
            f.iter()
                .map(|(k, v)| format!("{k}={v:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_are_compared_line_by_line_across_batches() {
        let p = FilterPattern::new("ERROR").expect("pattern");
        let lines: Vec<(u64, String)> = (1..=120)
            .map(|i| {
                (
                    i,
                    if i % 3 == 0 {
                        format!("ERROR {i}")
                    } else {
                        format!("ok {i}")
                    },
                )
            })
            .collect();
        let mut calls = Vec::new();
        // A stand-in that also matches line 100 ("ok 100") and misses line 3.
        let got = compare(
            &p,
            &lines,
            |pattern, messages| {
                assert_eq!(pattern, "ERROR");
                calls.push(messages.len());
                Ok(messages
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| (m.starts_with("ERROR") && *m != "ERROR 3") || *m == "ok 100")
                    .map(|(i, _)| (i + 1, BTreeMap::new()))
                    .collect())
            },
            false,
        )
        .expect("compared");
        assert_eq!(calls, [50, 50, 20]);
        let lines: Vec<u64> = got.iter().map(|d| d.line).collect();
        assert_eq!(lines, [3, 100]);
        assert_eq!((got[0].ours.is_some(), got[0].aws.is_some()), (true, false));
        assert_eq!((got[1].ours.is_some(), got[1].aws.is_some()), (false, true));
        // An event number outside the batch is an error, not a silent miss.
        let bad = compare(
            &p,
            &lines_of(&["x"]),
            |_, _| Ok(vec![(2, BTreeMap::new())]),
            false,
        );
        assert!(bad.is_err());
    }

    fn lines_of(texts: &[&str]) -> Vec<(u64, String)> {
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| (i as u64 + 1, t.to_string()))
            .collect()
    }

    #[test]
    fn delimited_fields_must_agree_too() {
        let p = FilterPattern::new("[ip, user, status]").expect("pattern");
        let got = compare(
            &p,
            &lines_of(&["10.0.0.1 alice 200"]),
            |_, _| {
                let fields = [("$ip", "10.0.0.1"), ("$user", "bob"), ("$status", "200")]
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                Ok(vec![(1, fields)])
            },
            true,
        )
        .expect("compared");
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(describe(&got[0].aws).contains("$user=\"bob\""));
    }
}
