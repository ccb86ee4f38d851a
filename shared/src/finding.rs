//! What a matched rule produces: who did what, from where, and what to do next.

use crate::accounts::AccountNames;
use crate::event::{Event, Outcome};
use crate::identity::Identity;
use crate::json_text;
use crate::rules::facts::RecordFacts;
use crate::rules::{Matcher, Mode, Rule, Severity};
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
    /// Who made the call, resolved through the identity chain of the record.
    pub identity: Option<Identity>,
    /// Names of accounts, for the alert's text.
    pub names: Arc<AccountNames>,
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
        let record = event.record();
        Self {
            pack,
            rule,
            title,
            event: event.clone(),
            notes,
            window,
            suppressed: None,
            identity: Identity::resolve(|k| record.get(k).map(std::borrow::Cow::Borrowed)),
            names: Arc::default(),
        }
    }

    /// Whether this finding is only counted, never sent (its rule is in dry-run mode).
    pub fn is_dry_run(&self) -> bool {
        self.rule.mode == Mode::DryRun
    }

    /// The event's account, named when its name is known: `prod-payments (111122223333)`.
    pub fn account_label(&self) -> Option<String> {
        self.event.account().map(|a| self.names.label(a))
    }

    /// Who, in one line: `alice@example.com via AWSReservedSSO_Admin`, else the actor.
    pub fn who(&self) -> String {
        match &self.identity {
            Some(id) => id.describe(|a| self.names.name(a).map(str::to_string)),
            None => self.event.actor().unwrap_or_else(|| "?".into()),
        }
    }

    /// Who did it, and where: `alice@example.com via AWSReservedSSO_Admin in prod
    /// (111122223333)`.
    pub fn who_where(&self) -> String {
        match self.account_label() {
            Some(a) => format!("{} in {a}", self.who()),
            None => self.who(),
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
        let _ = self.write_json(&mut out, &Map::new(), None);
        // Only `str`s and `serde_json` text go in, and the ASCII around them.
        String::from_utf8(out).unwrap_or_default()
    }

    /// Writes [`Finding::to_json`] with `extra` members added, on one line, without copying
    /// the record: `raw`, the record's text as it arrived, is written as it is when it holds
    /// no line break (else the record is serialised). The record comes last.
    pub fn write_json(
        &self,
        out: &mut impl std::io::Write,
        extra: &Map<String, Value>,
        raw: Option<&[u8]>,
    ) -> std::io::Result<()> {
        let mut text = Vec::with_capacity(4096);
        self.write_fields(&mut text, extra);
        // The fields are a non-empty JSON object: put the record in as its last member.
        text.pop();
        text.extend_from_slice(b",\"record\":");
        match raw.filter(|r| memchr::memchr2(b'\n', b'\r', r).is_none()) {
            Some(raw) => text.extend_from_slice(raw),
            None => json_text::write_value(&mut text, self.event.record()),
        }
        text.push(b'}');
        out.write_all(&text)
    }

    /// The rule's runbook filled in from this finding's event (and window).
    pub fn runbook(&self) -> Vec<String> {
        self.rule
            .runbook_steps
            .iter()
            .map(|t| t.render(&self.event, self.window.as_ref()))
            .collect()
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
        let mut text = Vec::new();
        self.write_fields(&mut text, &Map::new());
        serde_json::from_slice(&text).unwrap_or_default()
    }

    /// Everything of the finding but the record, as a JSON object: members in key order, then
    /// `extra`. Written as text, not built: the runbook and title are most of a finding, and
    /// are written straight from their strings.
    fn write_fields(&self, out: &mut Vec<u8>, extra: &Map<String, Value>) {
        let e = &self.event;
        let mut m = json_text::Object::new(out);
        m.opt_str("account", e.account());
        if let Some(name) = e.account().and_then(|a| self.names.name(a)) {
            m.str("account_name", name);
        }
        m.str("action", &e.action());
        m.opt_str("actor", e.actor().as_deref());
        m.opt_str("actor_id", e.actor_id());
        m.opt_str("event_id", e.id());
        if let Some(id) = &self.identity {
            let mut v = id.to_value();
            v["summary"] = Value::String(self.who());
            if let Some(name) = id.account.as_deref().and_then(|a| self.names.name(a)) {
                v["account_name"] = Value::String(name.to_string());
            }
            m.value("identity", &v);
        }
        if self.is_dry_run() {
            m.str("mode", Mode::DryRun.as_str());
        }
        if !self.notes.is_empty() {
            m.strs("notes", &self.notes);
        }
        m.value("outcome", &outcome_json(&e.outcome()));
        m.str("pack", &self.pack);
        m.str("provider", e.provider().as_str());
        m.strs("references", &self.rule.references);
        m.opt_str("region", e.region());
        m.str("rule", &self.rule.id);
        m.strs("runbook", &self.runbook());
        m.str("severity", self.rule.severity.as_str());
        m.opt_str("source_ip", e.source_ip_text());
        if let Some(s) = &self.suppressed {
            let since = Timestamp(s.since).to_string();
            m.value("suppressed", &json!({"count": s.count, "since": since}));
        }
        let time = e
            .time()
            .map(|t| t.to_string())
            .or(e.time_text().map(str::to_string));
        m.opt_str("time", time.as_deref());
        m.str("title", &self.title);
        m.opt_str("user_agent", e.user_agent());
        if let Some(w) = &self.window {
            m.value(
                "window",
                &json!({"count": w.count, "within": w.window.to_string(), "group": w.key,
                        "first_seen": Timestamp(w.first).to_string(),
                        "last_seen": Timestamp(w.last).to_string()}),
            );
        }
        for (k, v) in extra {
            m.value(k, v);
        }
        m.end();
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
