//! Parsing only the parts of a record that rules read.
//!
//! Most of a CloudTrail record (request parameters, TLS details, session context) is never
//! looked at by the rules; building it as a `serde_json::Value` costs most of a replay's time.
//! A [`Projection`] is the tree of properties some rule reads: parsing with it keeps those
//! (whole, where a rule reads the value itself) and skips the rest without building it. A
//! projected record matches every rule of the detector exactly as the whole record would,
//! because every path a rule can see is kept; findings re-parse the whole record.

use crate::layout::{head, Head, Kind, Layout, Member, Members};
use crate::pattern::ast::Step;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Node {
    /// Keep the whole value here.
    full: bool,
    /// Object members to keep, sorted by key; others are skipped.
    keys: Vec<(Box<str>, Node)>,
    /// Each key's length and first eight bytes, in the order of `keys`: most keys of a
    /// record are not kept, and one word comparison tells.
    heads: Vec<Head>,
}

impl Node {
    fn child(&mut self, key: &str) -> &mut Node {
        let i = match self.keys.binary_search_by(|(k, _)| (**k).cmp(key)) {
            Ok(i) => i,
            Err(i) => {
                self.keys.insert(i, (key.into(), Node::default()));
                self.heads.insert(i, head(key.as_bytes()));
                i
            }
        };
        &mut self.keys[i].1
    }

    fn get(&self, key: &str) -> Option<&Node> {
        let h = head(key.as_bytes());
        let i = self
            .heads
            .iter()
            .zip(&self.keys)
            .position(|(kh, (k, _))| *kh == h && (h.0 <= 8 || **k == *key))?;
        Some(&self.keys[i].1)
    }
}

/// The properties to keep when parsing a record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Projection {
    root: Node,
}

impl Projection {
    /// Keeps nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps everything: parsing is the ordinary full parse.
    pub fn everything() -> Self {
        Self {
            root: Node {
                full: true,
                keys: Vec::new(),
                heads: Vec::new(),
            },
        }
    }

    pub fn is_everything(&self) -> bool {
        self.root.full
    }

    /// Keeps the value at `path`, whole. Index and wildcard steps keep their parent whole.
    pub fn keep(&mut self, path: &[Step]) {
        let mut node = &mut self.root;
        for step in path {
            if node.full {
                return;
            }
            match step {
                Step::Key(k) => node = node.child(k),
                Step::Index(_) | Step::AnyIndex | Step::AnyKey => break,
            }
        }
        node.full = true;
        node.keys.clear();
        node.heads.clear();
    }

    /// Whether a member at `path` (object keys from the top; array levels left out) is kept,
    /// whole or in part: some rule reads it.
    pub(crate) fn reads<'k>(&self, path: impl IntoIterator<Item = &'k str>) -> bool {
        let mut node = &self.root;
        for key in path {
            if node.full {
                return true;
            }
            match node.get(key) {
                Some(n) => node = n,
                None => return false,
            }
        }
        true
    }

    /// Keeps a top-level member's presence (an object kept empty, a scalar as is) without its
    /// contents, unless some path keeps more of it.
    pub fn keep_presence(&mut self, key: &str) {
        if !self.root.full {
            self.root.child(key);
        }
    }

    /// Parses `text` with serde_json, keeping only what the projection names: the reference
    /// that [`Projection::build`] is tested against (ingest builds from the layout).
    pub fn parse_str(&self, text: &str) -> serde_json::Result<Value> {
        if self.root.full {
            return serde_json::from_str(text);
        }
        let mut de = serde_json::Deserializer::from_str(text);
        let v = Seed(&self.root).deserialize(&mut de)?;
        de.end()?;
        Ok(v)
    }
}

impl Projection {
    /// Builds what the projection keeps of `text`, already checked by `layout` (see
    /// [`Layout::scan`]): the same value as [`Projection::parse_str`], from the members'
    /// text alone.
    pub fn build(&self, text: &str, layout: &Layout) -> serde_json::Result<Value> {
        if self.root.full {
            if !layout.is_object() {
                return serde_json::from_str(text);
            }
            return members_whole(text, layout, layout.root());
        }
        if !layout.is_object() {
            // As for a member kept partly: a key step selects nothing in an array.
            return match text.trim_start().as_bytes().first() {
                Some(b'[') => Ok(Value::Array(Vec::new())),
                _ => serde_json::from_str(text),
            };
        }
        object(&self.root, text, layout, layout.root())
    }
}

fn object(
    node: &Node,
    text: &str,
    layout: &Layout,
    members: Members<'_>,
) -> serde_json::Result<Value> {
    let mut out = Map::new();
    for (at, m) in members {
        let key = m.key(text)?;
        let Some(kept) = node.get(&key) else { continue };
        let v = if kept.full {
            whole(text, layout, m, at)?
        } else {
            match m.kind {
                Kind::Object => object(kept, text, layout, layout.children(m, at))?,
                // Only key steps pass through this node, and a key step selects nothing in
                // an array.
                Kind::Array => Value::Array(Vec::new()),
                _ => whole(text, layout, m, at)?,
            }
        };
        out.insert(key.into_owned(), v);
    }
    Ok(Value::Object(out))
}

/// An object of `members`, each whole.
fn members_whole(text: &str, layout: &Layout, members: Members<'_>) -> serde_json::Result<Value> {
    let mut out = Map::new();
    for (i, m) in members {
        out.insert(m.key(text)?.into_owned(), whole(text, layout, m, i)?);
    }
    Ok(Value::Object(out))
}

/// A member's value, whole: objects from their members' text, strings without escapes as
/// they are; serde_json reads the rest (arrays, escaped strings, numbers), all of it checked
/// already.
pub fn whole(text: &str, layout: &Layout, m: &Member, at: usize) -> serde_json::Result<Value> {
    let value = m.value(text);
    match m.kind {
        Kind::Plain => Ok(Value::String(value[1..value.len() - 1].to_string())),
        Kind::Object => members_whole(text, layout, layout.children(m, at)),
        Kind::Scalar => match value {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            "null" => Ok(Value::Null),
            number => serde_json::from_str(number),
        },
        Kind::Escaped | Kind::Array => serde_json::from_str(value),
    }
}

struct Seed<'p>(&'p Node);

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        if self.0.full {
            Value::deserialize(d)
        } else {
            d.deserialize_any(Partial(self.0))
        }
    }
}

/// A value below which only some members are kept.
struct Partial<'p>(&'p Node);

impl<'de> Visitor<'de> for Partial<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key_seed(Key)? {
            match self.0.get(&key) {
                Some(node) => {
                    let v = map.next_value_seed(Seed(node))?;
                    out.insert(key.into_owned(), v);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(out))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        // Only key steps pass through this node, and a key step selects nothing in an array.
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Value::Array(Vec::new()))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
}

/// An object key, borrowed from the input when it has no escapes.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(k: &str) -> Step {
        Step::Key(k.into())
    }

    #[test]
    fn keeps_only_what_is_named() {
        let mut p = Projection::new();
        p.keep(&[key("eventName")]);
        p.keep(&[key("userIdentity"), key("type")]);
        p.keep(&[key("resources"), Step::Index(0)]);
        p.keep_presence("requestParameters");
        let v = p
            .parse_str(
                r#"{"eventName":"X","eventSource":"s","userIdentity":{"type":"Root","arn":"a"},
                "resources":[{"a":1}],"requestParameters":{"big":[1,2,3]},"n":1.5}"#,
            )
            .unwrap();
        assert_eq!(
            v,
            json!({"eventName": "X", "userIdentity": {"type": "Root"}, "resources": [{"a": 1}], "requestParameters": {}})
        );
    }

    #[test]
    fn shape_mismatches_keep_their_meaning() {
        let mut p = Projection::new();
        p.keep(&[key("a"), key("b")]);
        // `a` is an array or a scalar: a key step selects nothing, and neither does the result.
        assert_eq!(p.parse_str(r#"{"a":[{"b":1}]}"#).unwrap(), json!({"a": []}));
        assert_eq!(p.parse_str(r#"{"a":"s"}"#).unwrap(), json!({"a": "s"}));
        assert!(p.parse_str(r#"{"a":1} x"#).is_err());
        assert!(p.parse_str(r#"{"a":"#).is_err());
        assert_eq!(
            Projection::everything().parse_str(r#"{"z":1}"#).unwrap(),
            json!({"z": 1})
        );
    }

    #[test]
    fn escaped_keys_still_match() {
        let mut p = Projection::new();
        p.keep(&[key("a\"b")]);
        assert_eq!(
            p.parse_str(r#"{"a\"b":1,"c":2}"#).unwrap(),
            json!({"a\"b": 1})
        );
    }
}
