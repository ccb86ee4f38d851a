//! JSON text written fast, byte for byte as `serde_json` writes it (compact, its escapes, map
//! members in key order). Findings are mostly long strings (runbook steps, titles, the
//! record's values), and `serde_json` looks at every byte of a string on its own; here the
//! bytes that need no escape, nearly all of them, are found eight at a time and copied in
//! runs.

use crate::layout::specials;
use serde_json::Value;

/// The four hex digits of a `\u` escape, in `serde_json`'s lower case.
const HEX: &[u8; 16] = b"0123456789abcdef";

/// `s` as a JSON string.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    out.reserve(b.len() + 2);
    out.push(b'"');
    let mut from = 0;
    let mut i = 0;
    loop {
        // The next byte that needs an escape: a word at a time, then the last few bytes.
        let special = loop {
            if let Some(chunk) = b.get(i..i + 8) {
                let mut word = [0u8; 8];
                word.copy_from_slice(chunk);
                let hits = specials(u64::from_le_bytes(word));
                if hits != 0 {
                    break Some(i + (hits.trailing_zeros() / 8) as usize);
                }
                i += 8;
            } else {
                break b[i..]
                    .iter()
                    .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
                    .map(|k| i + k);
            }
        };
        let Some(at) = special else {
            out.extend_from_slice(&b[from..]);
            out.push(b'"');
            return;
        };
        out.extend_from_slice(&b[from..at]);
        let c = b[at];
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\x08' => out.extend_from_slice(b"\\b"),
            b'\x0c' => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(c >> 4)],
                HEX[usize::from(c & 0xf)],
            ]),
        }
        from = at + 1;
        i = from;
    }
}

/// `items` as a JSON array, each written by `write`.
fn write_array<T>(out: &mut Vec<u8>, items: &[T], write: impl Fn(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (k, item) in items.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        write(out, item);
    }
    out.push(b']');
}

/// `v` as compact JSON text.
pub(crate) fn write_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        // Numbers are few in a finding; serde_json's own digits keep their text exact.
        Value::Number(n) => {
            let _ = serde_json::to_writer(&mut *out, n);
        }
        Value::String(s) => write_str(out, s),
        Value::Array(items) => write_array(out, items, write_value),
        Value::Object(members) => {
            let mut object = Object::new(out);
            for (key, value) in members {
                object.value(key, value);
            }
            object.end();
        }
    }
}

/// The members of a JSON object, written one after another.
pub(crate) struct Object<'o> {
    out: &'o mut Vec<u8>,
    first: bool,
}

impl<'o> Object<'o> {
    pub(crate) fn new(out: &'o mut Vec<u8>) -> Self {
        out.push(b'{');
        Object { out, first: true }
    }

    fn key(&mut self, key: &str) {
        if !std::mem::take(&mut self.first) {
            self.out.push(b',');
        }
        write_str(self.out, key);
        self.out.push(b':');
    }

    pub(crate) fn str(&mut self, key: &str, value: &str) {
        self.key(key);
        write_str(self.out, value);
    }

    /// `null` for `None`.
    pub(crate) fn opt_str(&mut self, key: &str, value: Option<&str>) {
        match value {
            Some(v) => self.str(key, v),
            None => {
                self.key(key);
                self.out.extend_from_slice(b"null");
            }
        }
    }

    pub(crate) fn strs(&mut self, key: &str, values: &[String]) {
        self.key(key);
        write_array(self.out, values, |out, s| write_str(out, s));
    }

    pub(crate) fn value(&mut self, key: &str, value: &Value) {
        self.key(key);
        write_value(self.out, value);
    }

    pub(crate) fn end(self) {
        self.out.push(b'}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        let mut cases: Vec<String> = (0u8..0x80).map(|c| char::from(c).to_string()).collect();
        cases.extend(
            [
                "",
                "plain",
                "a\"b\\c/d",
                "é 日本 😀 \u{7f} \u{2028}",
                "0123456789abcdef\n0123456789abcdef\u{1}",
            ]
            .map(String::from),
        );
        // Every byte that needs an escape at every place of a word and past its end.
        for c in ['"', '\\', '\n', '\u{0}', '\u{1f}', 'é'] {
            for at in 0..20 {
                let mut s = "x".repeat(20);
                s.insert(at, c);
                cases.push(s);
            }
        }
        for s in &cases {
            let mut out = Vec::new();
            write_str(&mut out, s);
            assert_eq!(out, serde_json::to_vec(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn values_are_written_as_serde_json_writes_them() {
        let values = [
            json!(null),
            json!({"b": [1, -2, 3.5, 1e300, 18446744073709551615u64, -9223372036854775808i64],
                   "a": {"z": true, "y": false, "x": null, "w": "v\"\n"}, "": [], "c": {}}),
            json!([[], {}, [[]], "é"]),
            json!(0.1),
            json!(-0.0),
        ];
        for v in &values {
            let mut out = Vec::new();
            write_value(&mut out, v);
            assert_eq!(out, serde_json::to_vec(v).unwrap(), "{v}");
        }
    }
}
