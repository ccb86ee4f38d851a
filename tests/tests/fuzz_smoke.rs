//! A short smoke of every fuzz target on the stable toolchain, run by `scripts/test`: each
//! target's body (`fuzz/src/*.rs`, compiled here as they are) over its regression inputs, its
//! seeds (the project's examples and built-in packs) and a few hundred deterministic mutations
//! of them. The long runs, with coverage guidance, are `scripts/fuzz` (nightly).

#[path = "../../fuzz/src/conditions.rs"]
mod conditions_target;
#[path = "../../fuzz/src/ingest.rs"]
mod ingest_target;
#[path = "../../fuzz/src/layout.rs"]
mod layout_target;
#[path = "../../fuzz/src/packs.rs"]
mod packs_target;
#[path = "../../fuzz/src/pattern.rs"]
mod pattern_target;
#[path = "../../fuzz/src/triggers.rs"]
mod triggers_target;

use iamwatch_e2e::root;
use std::path::{Path, PathBuf};

fn files(dir: &Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                out.push(bytes);
            }
        }
    }
    out
}

/// The lines of every example log (JSON lines), as seeds of one record each.
fn example_lines() -> Vec<Vec<u8>> {
    files(&root().join("examples"))
        .into_iter()
        .filter_map(|b| String::from_utf8(b).ok())
        .flat_map(|t| t.lines().map(|l| l.as_bytes().to_vec()).collect::<Vec<_>>())
        .filter(|l| l.first() == Some(&b'{'))
        .collect()
}

/// Values of `key` anywhere in the built-in packs (filter patterns, conditions).
fn from_packs(key: &str) -> Vec<Vec<u8>> {
    fn walk(v: &serde_json::Value, key: &str, out: &mut Vec<Vec<u8>>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, child) in m {
                    if k == key {
                        out.push(match child {
                            serde_json::Value::String(s) => s.as_bytes().to_vec(),
                            other => other.to_string().into_bytes(),
                        });
                    }
                    walk(child, key, out);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| walk(i, key, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for text in files(&root().join("shared/packs")) {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&text) {
            walk(&v, key, &mut out);
        }
    }
    out
}

/// xorshift64*: the same mutations on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that parsers care about.
const TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b":",
    b",",
    b"\\",
    b"\\u0000",
    b"\\ud800",
    b"\xef\xbb\xbf",
    b"\r",
    b"\n",
    b"\0",
    b"\xff",
    b"9e999",
    b"-0",
    b"*",
    b"%",
    b"?",
    b"&&",
    b"||",
    b"$.",
    b"[0]",
    b"null",
    b"true",
    b"\"eventName\":",
    b"\"action\":",
    b"{\"Records\":[",
    b"::ffff:10.0.0.0/104",
];

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut data = seeds[rng.below(seeds.len())].clone();
    for _ in 0..=rng.below(4) {
        let at = rng.below(data.len() + 1);
        match rng.below(6) {
            0 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] ^= 1 << rng.below(8);
            }
            1 => data.truncate(at),
            2 => {
                let end = (at + rng.below(64)).min(data.len());
                data.drain(at..end);
            }
            3 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                data.splice(at..at, token.iter().copied());
            }
            4 => {
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len() + 1);
                data.extend_from_slice(&other[from..]);
            }
            _ => {
                let end = (at + rng.below(32)).min(data.len());
                let copy = data[at..end].to_vec();
                data.splice(at..at, copy);
            }
        }
    }
    data
}

/// The target's regressions, its seeds and `mutations` mutations of them, through `run`.
fn smoke(target: &str, seeds: Vec<Vec<u8>>, mutations: usize, run: fn(&[u8])) {
    assert!(!seeds.is_empty(), "{target}: no seeds");
    for input in files(&root().join("fuzz/regressions").join(target)) {
        run(&input);
    }
    for s in &seeds {
        run(s);
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ target.len() as u64);
    for _ in 0..mutations {
        run(&mutate(&mut rng, &seeds));
    }
}

#[test]
fn pattern() {
    let patterns = from_packs("filterPattern");
    let messages = example_lines();
    let seeds = patterns
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut s = p.clone();
            for m in messages.iter().skip(i % 5).step_by(7).take(3) {
                s.push(b'\n');
                s.extend_from_slice(m);
            }
            s
        })
        .collect();
    smoke("pattern", seeds, 600, pattern_target::run);
}

#[test]
fn ingest() {
    let mut seeds = files(&root().join("examples"));
    seeds.extend(example_lines().into_iter().take(8));
    smoke("ingest", seeds, 150, ingest_target::run);
}

#[test]
fn packs() {
    let mut seeds = files(&root().join("shared/packs"));
    seeds.extend(
        [
            "2026-11-20T08:00:12Z",
            "2018-04-20 20:15:00.32 +0000 UTC",
            " 10.45.116.217",
            "::ffff:10.0.0.1",
            "10.0.0.0/8, 192.0.2.0/24",
            "unrestricted",
            "{actor} from [{source_ip}]",
        ]
        .map(|s| s.as_bytes().to_vec()),
    );
    smoke("packs", seeds, 300, packs_target::run);
}

#[test]
fn conditions() {
    smoke(
        "conditions",
        from_packs("conditions"),
        600,
        conditions_target::run,
    );
}

#[test]
fn layout() {
    let mut seeds = example_lines();
    seeds.push(br#"{"a": [1, {"b": "c\u00e9"}], "a": null, "d": -0.0e-5}"#.to_vec());
    smoke("layout", seeds, 600, layout_target::run);
}

#[test]
fn triggers() {
    let mut seeds = files(&root().join("examples/eventbridge"));
    seeds.extend(
        [
            r#"{"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "trail"}, "object": {"key": "AWSLogs/o-1/111122223333/CloudTrail/us-east-1/2026/11/20/111122223333_CloudTrail_us-east-1_20261120T0000Z_x.json.gz", "size": 10}}}]}"#,
            r#"{"Records": [{"eventSource": "aws:sqs", "messageId": "m", "body": "{\"Records\": [{\"s3\": {\"bucket\": {\"name\": \"b\"}, \"object\": {\"key\": \"a%2Fb+c.json.gz\"}}}]}"}]}"#,
            r#"{"source": "aws.s3", "detail-type": "Object Created", "detail": {"bucket": {"name": "b"}, "object": {"key": "k.json.gz"}}}"#,
            r#"{"invocationSchemaVersion": "2.0", "invocationId": "i", "job": {"id": "j"}, "tasks": [{"taskId": "t", "s3Key": "k.json.gz", "s3Bucket": "b"}]}"#,
            r#"{"bucket": "b", "key": "AWSLogs/111122223333/CloudTrail/x.json.gz", "operation": "Object:Write"}"#,
            r#"{"value": {"events": []}, "action_name": "/ns/iamwatch"}"#,
        ]
        .map(|s| s.as_bytes().to_vec()),
    );
    smoke("triggers", seeds, 600, triggers_target::run);
}
