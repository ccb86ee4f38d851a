//! Title templates: `IAM change: {eventName} by {actor} from {source_ip}`.

use crate::event::Event;
use crate::window::WindowFacts;
use serde_json::Value;
use std::fmt::Write;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Field(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parses a template; `{{` and `}}` write literal braces.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|p| p.1) == Some('{') => {
                    chars.next();
                    lit.push('{');
                }
                '}' if chars.peek().map(|p| p.1) == Some('}') => {
                    chars.next();
                    lit.push('}');
                }
                '{' => {
                    let rest = &text[i + 1..];
                    let Some(end) = rest.find('}') else {
                        return Err(format!("unclosed '{{' at character {i}"));
                    };
                    let name = rest[..end].trim();
                    if name.is_empty() || name.contains('{') {
                        return Err(format!("empty or nested placeholder at character {i}"));
                    }
                    if !lit.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut lit)));
                    }
                    parts.push(Part::Field(name.to_string()));
                    for _ in 0..=end {
                        chars.next();
                    }
                }
                '}' => return Err(format!("'}}' without '{{' at character {i}; write '}}}}'")),
                c => lit.push(c),
            }
        }
        if !lit.is_empty() {
            parts.push(Part::Text(lit));
        }
        Ok(Self { parts })
    }

    /// Fills the placeholders; a missing value shows as `?`. `{count}` and `{within}` come
    /// from the window of a windowed rule.
    pub fn render(&self, event: &Event, window: Option<&WindowFacts>) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Field(name) if name == "count" && window.is_some() => {
                    out.push_str(&window.map_or(0, |w| w.count).to_string())
                }
                Part::Field(name) if name == "within" && window.is_some() => {
                    out.push_str(&window.map(|w| w.window.to_string()).unwrap_or_default())
                }
                Part::Field(name) => match field(event, name) {
                    Some(v) => out.push_str(&v),
                    None => out.push('?'),
                },
            }
        }
        out
    }
}

/// The value of one placeholder name: a name of the normalised view (`actor`, `actor_id`,
/// `action`, `event_name`, `source_ip`, `account`, `region`, `event_id`, `time`, `user_agent`,
/// `provider`, `client`), else a dotted path into the record (`eventName`,
/// `requestParameters.userName`).
pub fn field(event: &Event, name: &str) -> Option<String> {
    let s = |v: Option<&str>| v.map(str::to_string);
    match name {
        "actor" => event.actor(),
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
        assert!(Template::parse("a } b").is_err());
        assert!(Template::parse("{}").is_err());
    }
}
