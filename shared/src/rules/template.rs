//! Title templates: `IAM change: {eventName} by {actor} from {source_ip}`.

use crate::event::Event;
use crate::window::WindowFacts;
use serde_json::Value;
use std::fmt::Write;

/// A piece of a [`Template`]; text is kept as places in the template's own text, so that a
/// template is two allocations however many pieces it has (every pack's titles and runbooks
/// are parsed at each start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// `text[from..to]`, written as it is.
    Text(u32, u32),
    /// A character written doubled in the template (`{{`, `}}`, `[[`, `]]`).
    Char(u8),
    /// `{a|b}` (`text[from..to]` holds `a|b`): the first of the names that has a value.
    Field(u32, u32),
    /// `[`: the parts after it, up to this index, are written only when every placeholder
    /// in them has a value.
    Optional(u32),
}

/// The bytes that end a run of plain text: `{`, `}`, `[` and `]`.
static SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    t[b'{' as usize] = true;
    t[b'}' as usize] = true;
    t[b'[' as usize] = true;
    t[b']' as usize] = true;
    t
};

/// A title or runbook step with placeholders: `{name}` is a value of the event (see
/// [`field`]), `{a|b}` the first of several that has one, and `[...]` words that are left out
/// whole when a placeholder in them has no value (`Member[ {requestData.iam_id}] added`).
/// A placeholder outside brackets with no value shows as `?`. `{{`, `}}`, `[[` and `]]`
/// write the character itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    text: Box<str>,
    parts: Vec<Part>,
}

impl Template {
    /// The template `text` (a `String` is kept without a copy).
    pub fn parse(text: impl Into<Box<str>>) -> Result<Self, String> {
        let text: Box<str> = text.into();
        let b = text.as_bytes();
        if u32::try_from(b.len()).is_err() {
            return Err("a template longer than 4 GiB".into());
        }
        let mut parts = Vec::new();
        // Where the open `[` is in `parts`, and in the text.
        let mut open: Option<(usize, usize)> = None;
        let mut i = 0;
        let text_part = |parts: &mut Vec<Part>, from: usize, to: usize| {
            if from < to {
                parts.push(Part::Text(from as u32, to as u32));
            }
        };
        while let Some(k) = b[i..].iter().position(|&c| SPECIAL[usize::from(c)]) {
            text_part(&mut parts, i, i + k);
            i += k;
            let c = b[i];
            if b.get(i + 1) == Some(&c) {
                parts.push(Part::Char(c));
                i += 2;
                continue;
            }
            match c {
                b'{' => {
                    let Some(end) = text[i + 1..].find('}') else {
                        return Err(format!("unclosed '{{' at character {i}"));
                    };
                    let names = &text[i + 1..i + 1 + end];
                    if names
                        .split('|')
                        .any(|n| n.trim().is_empty() || n.contains(['{', '[', ']']))
                    {
                        return Err(format!("empty or nested placeholder at character {i}"));
                    }
                    parts.push(Part::Field(i as u32 + 1, (i + 1 + end) as u32));
                    i += end + 2;
                }
                b'[' => {
                    if open.is_some() {
                        return Err(format!(
                            "'[' inside '[...]' at character {i}; write '[[' for the character"
                        ));
                    }
                    open = Some((parts.len(), i));
                    parts.push(Part::Optional(0));
                    i += 1;
                }
                b']' => {
                    let Some((at, _)) = open.take() else {
                        return Err(format!("']' without '[' at character {i}; write ']]'"));
                    };
                    parts[at] = Part::Optional(parts.len() as u32);
                    i += 1;
                }
                _ => return Err(format!("'}}' without '{{' at character {i}; write '}}}}'")),
            }
        }
        text_part(&mut parts, i, b.len());
        if let Some((_, at)) = open {
            return Err(format!(
                "unclosed '[' at character {at}; write '[[' for the character"
            ));
        }
        Ok(Self { parts, text })
    }

    /// The template as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Fills the placeholders (see [`Template`]). `{count}` and `{within}` come from the
    /// window of a windowed rule.
    pub fn render(&self, event: &Event, window: Option<&WindowFacts>) -> String {
        let mut out = String::new();
        self.write_parts(&self.parts, event, window, &mut out, false);
        out
    }

    /// Writes `parts`; inside brackets (`all_or_nothing`), nothing unless every placeholder
    /// has a value.
    fn write_parts(
        &self,
        parts: &[Part],
        event: &Event,
        window: Option<&WindowFacts>,
        out: &mut String,
        all_or_nothing: bool,
    ) {
        let start = out.len();
        let mut i = 0;
        while let Some(part) = parts.get(i) {
            i += 1;
            match *part {
                Part::Text(from, to) => out.push_str(&self.text[from as usize..to as usize]),
                Part::Char(c) => out.push(char::from(c)),
                Part::Field(from, to) => {
                    let names = self.text[from as usize..to as usize].split('|');
                    match names.map(str::trim).find_map(|n| value(event, window, n)) {
                        Some(v) => out.push_str(&v),
                        None if all_or_nothing => {
                            out.truncate(start);
                            return;
                        }
                        None => out.push('?'),
                    }
                }
                Part::Optional(end) => {
                    // Offsets in `parts` are of the whole template; brackets do not nest, so
                    // an `Optional` is only met at the top.
                    let end = end as usize;
                    self.write_parts(&parts[i..end], event, window, out, true);
                    i = end;
                }
            }
        }
    }
}

/// A placeholder's value, trimmed; blank is no value.
fn value(event: &Event, window: Option<&WindowFacts>, name: &str) -> Option<String> {
    let v = match (name, window) {
        ("count", Some(w)) => Some(w.count.to_string()),
        ("within", Some(w)) => Some(w.window.to_string()),
        _ => field(event, name),
    }?;
    let t = v.trim();
    if t.is_empty() {
        None
    } else if t.len() == v.len() {
        Some(v)
    } else {
        Some(t.to_string())
    }
}

/// The value of one placeholder name: a name of the normalised view (`actor`, `actor_id`,
/// `action`, `event_name`, `source_ip`, `account`, `region`, `event_id`, `time`, `user_agent`,
/// `provider`, `client`, `service_id`, `changes`), else a dotted path into the record
/// (`eventName`, `requestParameters.userName`).
pub fn field(event: &Event, name: &str) -> Option<String> {
    let s = |v: Option<&str>| v.map(str::to_string);
    match name {
        "actor" => event.actor(),
        "who" => {
            let record = event.record();
            crate::identity::Identity::resolve(|k| record.get(k).map(std::borrow::Cow::Borrowed))
                .map(|i| i.describe(|_| None))
        }
        "actor_id" => s(event.actor_id()),
        "action" => Some(event.action()),
        "event_name" => s(event.event_name()),
        "source_ip" => s(event.source_ip_text()),
        "account" => s(event.account()),
        "region" => s(event.region()),
        "event_id" => s(event.id()),
        "time" => s(event.time_text()),
        "user_agent" => s(event.user_agent()),
        "provider" => Some(event.provider().to_string()),
        "client" => event.client(),
        "service_id" => event
            .actor_id()
            .map(|id| id.strip_prefix("iam-").unwrap_or(id))
            .filter(|id| id.starts_with("ServiceId-"))
            .map(str::to_string),
        "changes" => changes(event.record()),
        path => {
            let v = path
                .trim_start_matches("$.")
                .split('.')
                .try_fold(event.record(), |v, k| v.get(k))?;
            match v {
                Value::Null => None,
                Value::String(s) => Some(s.clone()),
                other => {
                    let mut t = String::new();
                    let _ = write!(t, "{other}");
                    Some(t)
                }
            }
        }
    }
}

/// What an IBM settings update changed, from the `old_X`/`new_X` pairs of its
/// `requestData.request_body` (or `requestData`, stringified or not) whose values differ:
/// `allowed_ip_addresses RESTRICTED -> NOT_RESTRICTED, mfa_traits TOTP -> NONE`.
fn changes(record: &Value) -> Option<String> {
    let data = record.get("requestData")?;
    let parsed;
    let data = match data {
        Value::String(s) => {
            parsed = serde_json::from_str::<Value>(s).ok()?;
            &parsed
        }
        v => v,
    };
    let body = data.get("request_body").unwrap_or(data).as_object()?;
    let text = |v: &Value| match v {
        Value::String(s) if s.is_empty() => "(none)".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut out = Vec::new();
    for (key, old) in body {
        let Some(name) = key.strip_prefix("old_") else {
            continue;
        };
        match body.get(&format!("new_{name}")) {
            Some(new) if new != old => out.push(format!("{name} {} -> {}", text(old), text(new))),
            _ => {}
        }
    }
    (!out.is_empty()).then(|| out.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_normalised_names_and_paths() {
        let e = Event::new(
            json!({"eventName": "CreateUser", "eventSource": "iam.amazonaws.com",
            "userIdentity": {"type": "IAMUser", "userName": "alice"},
            "requestParameters": {"userName": "bob", "n": 3}}),
        )
        .unwrap();
        let t = Template::parse("{eventName} of {requestParameters.userName} by {actor} ({missing}) {{x}} n={requestParameters.n}").unwrap();
        assert_eq!(t.render(&e, None), "CreateUser of bob by alice (?) {x} n=3");
        assert!(Template::parse("{oops").is_err());
        // Fallbacks, optional words, literal brackets.
        let t = Template::parse(
            "{missing|requestParameters.userName}[ from {missing}][ by {actor}] [[{{x}}]]",
        )
        .unwrap();
        assert_eq!(t.render(&e, None), "bob by alice [{x}]");
        let t = Template::parse("[{missing|also_missing}]{missing|actor}").unwrap();
        assert_eq!(t.render(&e, None), "alice");
        for bad in ["[a [b] c]", "a ] b", "[a", "{a|}", "{|a}"] {
            assert!(Template::parse(bad).is_err(), "{bad}");
        }
        // Text around placeholders is kept byte for byte, multi-byte characters too.
        let t = Template::parse("café → {eventName}[ ü {missing}] ü").unwrap();
        assert_eq!(t.render(&e, None), "café → CreateUser ü");
        assert!(Template::parse("a } b").is_err());
        assert!(Template::parse("{}").is_err());
    }
}

#[cfg(test)]
mod ibm_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn blank_values_and_ibm_names() {
        let e = Event::new(json!({"action": "iam-identity.accountsettings.update",
            "initiator": {"id": "iam-ServiceId-3a69", "name": "ServiceId-ci", "host": {"address": "  "}},
            "requestData": {"request_body": {"old_allowed_ip_addresses": "RESTRICTED",
                "new_allowed_ip_addresses": "NOT_RESTRICTED", "old_mfa_traits": "TOTP",
                "new_mfa_traits": "TOTP", "old_x": "", "new_x": "a"}}}))
        .unwrap();
        let t = Template::parse("{service_id}[ from {source_ip}]: {changes}").unwrap();
        assert_eq!(
            t.render(&e, None),
            "ServiceId-3a69: allowed_ip_addresses RESTRICTED -> NOT_RESTRICTED, x (none) -> a"
        );
        let user = Event::new(json!({"action": "a", "initiator": {"id": "IBMid-1"}})).unwrap();
        assert_eq!(field(&user, "service_id"), None);
        assert_eq!(field(&user, "changes"), None);
        // Stringified requestData, as older events carry it.
        let old = Event::new(json!({"action": "a",
            "requestData": "{\"old_a\":\"1\",\"new_a\":\"2\"}"}))
        .unwrap();
        assert_eq!(field(&old, "changes").as_deref(), Some("a 1 -> 2"));
    }
}
