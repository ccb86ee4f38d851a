//! What a matched rule produces: who did what, from where, and what to do next.

use crate::event::{Event, Outcome};
use crate::rules::facts::RecordFacts;
use crate::rules::{Matcher, Rule, Severity};
use crate::time::Timestamp;
use crate::window::{Suppressed, WindowFacts};
use serde_json::{json, Map, Value};
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct Finding {
    pub pack: Arc<str>,
    pub rule: Arc<Rule>,
    pub title: String,
    pub event: Event,
    /// Why the rule fired, where a condition can say more than true (allowlist verdicts).
    pub notes: Vec<String>,
    /// For windowed rules: what the window held when the rule fired.
    pub window: Option<WindowFacts>,
    /// With `suppress`: the matches this alert stands for that were held back before it.
    pub suppressed: Option<Suppressed>,
}

impl Finding {
    pub fn new(
        pack: Arc<str>,
        rule: Arc<Rule>,
        event: &Event,
        window: Option<WindowFacts>,
    ) -> Self {
        let title = match &rule.title {
            Some(t) => t.render(event, window.as_ref()),
            None => format!(
                "{} by {}",
                event.action(),
                event.actor().as_deref().unwrap_or("?")
            ),
        };
        let notes = match &rule.matcher {
            Matcher::Conditions(c) => {
                let facts = RecordFacts::new(event.record());
                c.leaves()
                    .iter()
                    .filter_map(|l| l.explain(&facts))
                    .collect()
            }
            Matcher::FilterPattern(_) => Vec::new(),
        };
        Self {
            pack,
            rule,
            title,
            event: event.clone(),
            notes,
            window,
            suppressed: None,
        }
    }

    /// What identifies this finding across retries: pack, rule and event. Delivery records
    /// it so that a retried batch does not alert twice; consumers can de-duplicate on it.
    pub fn key(&self) -> String {
        format!(
            "{}/{}|{}",
            self.pack,
            self.rule.id,
            crate::detector::event_key(&self.event)
        )
    }

    pub fn severity(&self) -> Severity {
        self.rule.severity
    }

    /// [`Finding::to_json`] as text, written without copying the record.
    pub fn to_json_string(&self) -> String {
        let mut out = Vec::with_capacity(4096);
        // Writing into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut out, &self.fields());
        // `fields` is a JSON object: put the record in as its last member.
        out.pop();
        out.extend_from_slice(if out.len() > 1 {
            b",\"record\":"
        } else {
            b"\"record\":"
        });
        let _ = serde_json::to_writer(&mut out, self.event.record());
        out.push(b'}');
        // serde_json writes UTF-8.
        String::from_utf8(out).unwrap_or_default()
    }

    /// Writes [`Finding::to_json`] with `extra` members added (keys in order, as `to_json`
    /// gives them), without copying the record.
    pub fn write_json(
        &self,
        out: &mut impl std::io::Write,
        extra: Map<String, Value>,
    ) -> serde_json::Result<()> {
        let Value::Object(mut fields) = self.fields() else {
            unreachable!("fields are an object")
        };
        fields.extend(extra);
        serde_json::to_writer(
            out,
            &WithRecord {
                fields: &fields,
                record: self.event.record(),
            },
        )
    }

    /// The finding as one JSON object: the rule, the normalised who/what/where/when, the
    /// runbook and references, and the raw record.
    pub fn to_json(&self) -> Value {
        let mut v = self.fields();
        v["record"] = self.event.record().clone();
        v
    }

    /// Everything but the record.
    fn fields(&self) -> Value {
        let e = &self.event;
        let mut m = Map::new();
        m.insert("rule".into(), json!(self.rule.id));
        m.insert("pack".into(), json!(&*self.pack));
        m.insert("severity".into(), json!(self.rule.severity.as_str()));
        m.insert("title".into(), json!(self.title));
        m.insert("event_id".into(), json!(e.id()));
        m.insert(
            "time".into(),
            json!(e
                .time()
                .map(|t| t.to_string())
                .or(e.time_text().map(str::to_string))),
        );
        m.insert("actor".into(), json!(e.actor()));
        m.insert("actor_id".into(), json!(e.actor_id()));
        m.insert("action".into(), json!(e.action()));
        m.insert("source_ip".into(), json!(e.source_ip_text()));
        m.insert("user_agent".into(), json!(e.user_agent()));
        m.insert("account".into(), json!(e.account()));
        m.insert("region".into(), json!(e.region()));
        m.insert("provider".into(), json!(e.provider().as_str()));
        m.insert("outcome".into(), outcome_json(&e.outcome()));
        if let Some(w) = &self.window {
            m.insert(
                "window".into(),
                json!({"count": w.count, "within": w.window.to_string(), "group": w.key,
                       "first_seen": Timestamp(w.first).to_string(), "last_seen": Timestamp(w.last).to_string()}),
            );
        }
        if let Some(s) = &self.suppressed {
            m.insert(
                "suppressed".into(),
                json!({"count": s.count, "since": Timestamp(s.since).to_string()}),
            );
        }
        if !self.notes.is_empty() {
            m.insert("notes".into(), json!(self.notes));
        }
        m.insert("runbook".into(), json!(self.rule.runbook));
        m.insert("references".into(), json!(self.rule.references));
        Value::Object(m)
    }
}

/// Members and the record, serialised as one object with the record in its sorted place.
struct WithRecord<'a> {
    fields: &'a Map<String, Value>,
    record: &'a Value,
}

impl serde::Serialize for WithRecord<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.fields.len() + 1))?;
        let mut pending = true;
        for (k, v) in self.fields {
            if pending && k.as_str() > "record" {
                m.serialize_entry("record", self.record)?;
                pending = false;
            }
            if k != "record" {
                m.serialize_entry(k, v)?;
            }
        }
        if pending {
            m.serialize_entry("record", self.record)?;
        }
        m.end()
    }
}

fn outcome_json(o: &Outcome) -> Value {
    match o {
        Outcome::Success => json!("success"),
        Outcome::Failure { code, message } => {
            json!({"result": "failure", "code": code, "message": message})
        }
        Outcome::Other(s) => json!(s),
    }
}
