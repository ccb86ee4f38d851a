//! `path` on a fact, as json-rules-engine resolves it.
//!
//! A path starting with `$` is JSONPath (jsonpath-plus with `wrap: false`): no match is
//! `undefined`, one match of a plain path is the value itself, and a wildcard, recursive
//! descent or slice — or several matches — gives an array. Any other path is the older selectn
//! form that IBM's Activity Insights rules use (`.reasonCode`, `.name`): dot-separated keys, as
//! json-rules-engine 5.x resolved them. A path on a scalar or `null` fact is ignored (the fact
//! itself is the result), and no path applies to an undefined fact.

use serde_json::Value;
use std::borrow::Cow;

/// One step of a JSONPath.
#[derive(Debug, Clone, PartialEq)]
pub enum Seg {
    Key(String),
    Index(i64),
    /// `[*]` or `.*`
    Wild,
    /// `..key` or `..*`
    Descend(Option<String>),
    /// `[a:b]`
    Slice(Option<i64>, Option<i64>),
}

/// A compiled `path`.
#[derive(Debug, Clone, PartialEq)]
pub enum Path {
    /// `""`: the fact itself.
    None,
    Json {
        segs: Vec<Seg>,
        multi: bool,
    },
    Selectn(Vec<String>),
}

impl Path {
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            return Ok(Path::None);
        }
        if !text.starts_with('$') {
            return Ok(Path::Selectn(selectn_keys(text)));
        }
        let segs = json_segments(text)?;
        let multi = segs
            .iter()
            .any(|s| matches!(s, Seg::Wild | Seg::Descend(_) | Seg::Slice(..)));
        Ok(Path::Json { segs, multi })
    }

    /// The first key of a JSONPath (`userIdentity` in `$.userIdentity.arn`), if it starts with one.
    pub fn first_key(&self) -> Option<&str> {
        match self {
            Path::Json { segs, .. } => match segs.first() {
                Some(Seg::Key(k)) => Some(k),
                _ => None,
            },
            Path::Selectn(keys) => keys.first().map(String::as_str),
            Path::None => None,
        }
    }

    /// The keys of a path that only names keys (`.reasonCode`, `$.host.address`, `$['a']`; no
    /// path at all gives none), walked one object member at a time; `None` for any other path.
    pub fn plain_keys(&self) -> Option<impl Iterator<Item = &str> + '_> {
        let (json, selectn): (&[Seg], &[String]) = match self {
            Path::None => (&[], &[]),
            Path::Selectn(keys) => (&[], keys),
            Path::Json { segs, multi: false } if segs.iter().all(|s| matches!(s, Seg::Key(_))) => {
                (segs, &[])
            }
            Path::Json { .. } => return None,
        };
        let json = json.iter().filter_map(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            _ => None,
        });
        Some(json.chain(selectn.iter().map(String::as_str)))
    }

    /// Applies the path to a fact value.
    pub fn apply<'v>(&self, fact: Option<Cow<'v, Value>>) -> Option<Cow<'v, Value>> {
        let fact = fact?;
        if matches!(&*fact, Value::Array(_) | Value::Object(_)) {
            match self {
                Path::None => Some(fact),
                Path::Selectn(keys) => selectn(fact, keys),
                Path::Json { segs, multi } => jsonpath(fact, segs, *multi),
            }
        } else {
            Some(fact)
        }
    }
}

/// selectn: split on dots (a backslash escapes one), brackets become dots, empty parts dropped.
fn selectn_keys(text: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'.') => {
                cur.push('.');
                chars.next();
            }
            '.' | '[' | ']' => keys.push(std::mem::take(&mut cur)),
            '"' | '\'' => {}
            c => cur.push(c),
        }
    }
    keys.push(cur);
    keys.retain(|k| !k.is_empty());
    keys
}

fn selectn<'v>(fact: Cow<'v, Value>, keys: &[String]) -> Option<Cow<'v, Value>> {
    match fact {
        Cow::Borrowed(v) => {
            let mut cur = v;
            for k in keys {
                cur = property(cur, k)?;
            }
            Some(Cow::Borrowed(cur))
        }
        Cow::Owned(v) => {
            let mut cur = &v;
            for k in keys {
                cur = property(cur, k)?;
            }
            Some(Cow::Owned(cur.clone()))
        }
    }
}

/// `obj[key]` for the JSON values that have properties: object members, array indices.
fn property<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    match v {
        Value::Object(m) => m.get(key),
        Value::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    }
}

fn json_segments(text: &str) -> Result<Vec<Seg>, String> {
    let b = text.as_bytes();
    let mut i = 1; // after '$'
    let mut segs = Vec::new();
    while i < b.len() {
        match b[i] {
            b'.' if b.get(i + 1) == Some(&b'.') => {
                i += 2;
                if b.get(i) == Some(&b'*') {
                    i += 1;
                    segs.push(Seg::Descend(None));
                } else {
                    let (k, n) = name(&text[i..]);
                    if k.is_empty() {
                        return Err(format!("expected a name after '..' in path {text:?}"));
                    }
                    segs.push(Seg::Descend(Some(k)));
                    i += n;
                }
            }
            b'.' => {
                i += 1;
                if b.get(i) == Some(&b'*') {
                    i += 1;
                    segs.push(Seg::Wild);
                } else {
                    let (k, n) = name(&text[i..]);
                    if k.is_empty() {
                        return Err(format!("expected a name after '.' in path {text:?}"));
                    }
                    segs.push(Seg::Key(k));
                    i += n;
                }
            }
            b'[' => {
                let close = text[i..]
                    .find(']')
                    .ok_or_else(|| format!("unclosed '[' in path {text:?}"))?;
                let inner = text[i + 1..i + close].trim();
                segs.push(bracket(inner, text)?);
                i += close + 1;
            }
            _ => {
                return Err(format!(
                    "unexpected {:?} in path {text:?}",
                    text[i..].chars().next()
                ))
            }
        }
    }
    Ok(segs)
}

fn name(s: &str) -> (String, usize) {
    let n = s.find(['.', '[']).unwrap_or(s.len());
    (s[..n].to_string(), n)
}

fn bracket(inner: &str, text: &str) -> Result<Seg, String> {
    if inner == "*" {
        return Ok(Seg::Wild);
    }
    if inner.starts_with('?') || inner.starts_with('(') {
        return Err(format!(
            "filter and script expressions are not supported in path {text:?}"
        ));
    }
    if let Some(q) = inner.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        return Ok(Seg::Key(q.to_string()));
    }
    if let Some(q) = inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        return Ok(Seg::Key(q.to_string()));
    }
    if let Some((a, b)) = inner.split_once(':') {
        let bound = |s: &str| -> Result<Option<i64>, String> {
            let s = s.trim();
            if s.is_empty() {
                Ok(None)
            } else {
                s.parse()
                    .map(Some)
                    .map_err(|_| format!("bad slice bound in path {text:?}"))
            }
        };
        return Ok(Seg::Slice(bound(a)?, bound(b)?));
    }
    if let Ok(n) = inner.parse::<i64>() {
        return Ok(Seg::Index(n));
    }
    Ok(Seg::Key(inner.to_string()))
}

fn jsonpath<'v>(fact: Cow<'v, Value>, segs: &[Seg], multi: bool) -> Option<Cow<'v, Value>> {
    // Plain keys and indices on a borrowed fact: walk references, copy nothing.
    if let (Cow::Borrowed(root), false) = (&fact, multi) {
        let mut cur: &'v Value = root;
        let mut plain = true;
        for seg in segs {
            cur = match (seg, cur) {
                (Seg::Key(k), Value::Object(m)) => m.get(k)?,
                (Seg::Index(i), Value::Array(a)) if *i >= 0 => a.get(*i as usize)?,
                _ => {
                    plain = false;
                    break;
                }
            };
        }
        if plain {
            return Some(Cow::Borrowed(cur));
        }
    }
    let root: &Value = &fact;
    let mut nodes: Vec<Cow<'_, Value>> = vec![Cow::Borrowed(root)];
    for seg in segs {
        let mut next = Vec::new();
        for n in &nodes {
            step(n, seg, &mut next);
        }
        nodes = next;
    }
    let owned: Vec<Value> = nodes.into_iter().map(Cow::into_owned).collect();
    match (owned.len(), multi) {
        (0, _) => None,
        (1, false) => owned.into_iter().next().map(Cow::Owned),
        _ => Some(Cow::Owned(Value::Array(owned))),
    }
}

fn step<'a>(v: &Value, seg: &Seg, out: &mut Vec<Cow<'a, Value>>) {
    match seg {
        Seg::Key(k) => match (v, k.as_str()) {
            (Value::Object(m), _) => {
                if let Some(x) = m.get(k) {
                    out.push(Cow::Owned(x.clone()));
                }
            }
            (Value::Array(a), "length") => out.push(Cow::Owned(Value::from(a.len()))),
            (Value::Array(a), _) => {
                if let Some(x) = k.parse::<usize>().ok().and_then(|i| a.get(i)) {
                    out.push(Cow::Owned(x.clone()));
                }
            }
            _ => {}
        },
        Seg::Index(i) => {
            if let Value::Array(a) = v {
                let idx = if *i < 0 {
                    (a.len() as i64).saturating_add(*i)
                } else {
                    *i
                };
                if let Some(x) = usize::try_from(idx).ok().and_then(|i| a.get(i)) {
                    out.push(Cow::Owned(x.clone()));
                }
            }
        }
        Seg::Wild => match v {
            Value::Object(m) => out.extend(m.values().map(|x| Cow::Owned(x.clone()))),
            Value::Array(a) => out.extend(a.iter().map(|x| Cow::Owned(x.clone()))),
            _ => {}
        },
        Seg::Slice(a, b) => {
            if let Value::Array(arr) = v {
                let len = arr.len() as i64;
                let norm = |x: i64| {
                    if x < 0 {
                        len.saturating_add(x).max(0)
                    } else {
                        x.min(len)
                    }
                };
                let start = a.map_or(0, norm);
                let end = b.map_or(len, norm);
                for i in start..end.max(start) {
                    out.push(Cow::Owned(arr[i as usize].clone()));
                }
            }
        }
        Seg::Descend(key) => descend(v, key.as_deref(), out),
    }
}

/// `..key` / `..*`: every descendant (document order), the node itself included for keys.
fn descend<'a>(v: &Value, key: Option<&str>, out: &mut Vec<Cow<'a, Value>>) {
    match key {
        Some(k) => {
            if let Value::Object(m) = v {
                if let Some(x) = m.get(k) {
                    out.push(Cow::Owned(x.clone()));
                }
            }
        }
        None => match v {
            Value::Object(m) => out.extend(m.values().map(|x| Cow::Owned(x.clone()))),
            Value::Array(a) => out.extend(a.iter().map(|x| Cow::Owned(x.clone()))),
            _ => {}
        },
    }
    match v {
        Value::Object(m) => m.values().for_each(|c| descend(c, key, out)),
        Value::Array(a) => a.iter().for_each(|c| descend(c, key, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(path: &str, v: &Value) -> Option<Value> {
        Path::parse(path)
            .unwrap()
            .apply(Some(Cow::Borrowed(v)))
            .map(Cow::into_owned)
    }

    #[test]
    fn jsonpath_plus_wrap_false() {
        let v = json!({"reasonCode": 403, "name": "x", "a": {"b": 5, "x-y": 1}, "arr": [1, 2, 3], "one": [7], "dotted.key": 9});
        assert_eq!(at("$.reasonCode", &v), Some(json!(403)));
        assert_eq!(at("$.a.b", &v), Some(json!(5)));
        assert_eq!(at("$.arr[0]", &v), Some(json!(1)));
        assert_eq!(at("$.arr.length", &v), Some(json!(3)));
        assert_eq!(at("$.arr[*]", &v), Some(json!([1, 2, 3])));
        assert_eq!(at("$.one[*]", &v), Some(json!([7])));
        assert_eq!(at("$.arr[-1:]", &v), Some(json!([3])));
        assert_eq!(at("$['dotted.key']", &v), Some(json!(9)));
        assert_eq!(at("$.a[\"x-y\"]", &v), Some(json!(1)));
        assert_eq!(at("$.missing", &v), None);
        assert_eq!(at("$", &v), Some(v.clone()));
        assert_eq!(
            at("$..k", &json!({"deep": [{"k": 1}, {"k": 2}]})),
            Some(json!([1, 2]))
        );
        assert!(Path::parse("$.deep[?(@.k==2)].k").is_err());
    }

    #[test]
    fn selectn_as_ibm_rules_use_it() {
        let v = json!({"reasonCode": 400, "host": {"address": "10.0.0.1"}, "list": [{"k": "v"}]});
        assert_eq!(at(".reasonCode", &v), Some(json!(400)));
        assert_eq!(at("reasonCode", &v), Some(json!(400)));
        assert_eq!(at(".host.address", &v), Some(json!("10.0.0.1")));
        assert_eq!(at("list[0].k", &v), Some(json!("v")));
        assert_eq!(at(".nope.deeper", &v), None);
    }

    #[test]
    fn scalars_ignore_the_path_and_undefined_stays_undefined() {
        assert_eq!(at("$.x", &json!("abc")), Some(json!("abc")));
        assert_eq!(at(".x", &json!(null)), Some(json!(null)));
        assert_eq!(Path::parse("$.x").unwrap().apply(None), None);
    }
}
