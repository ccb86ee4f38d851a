//! A finding in every channel of one SNS publish: the JSON for machines, a plain-text e-mail a
//! person can act on, one SMS part, a chat notification (the `https` channel, which Amazon Q
//! Developer in chat applications reads), an e-mail subject, and message attributes for
//! subscription filter policies.

use crate::event::{Outcome, Provider};
use crate::finding::Finding;
use crate::time::Timestamp;
use serde_json::{json, Value};
use std::fmt::Write;

/// SNS accepts subjects of fewer than 100 characters.
pub const SUBJECT_MAX: usize = 99;
/// One SMS part.
pub const SMS_MAX: usize = 140;
/// SNS messages (all channels of a `MessageStructure=json` publish together) are at most 256 KiB.
pub const MESSAGE_MAX: usize = 256 * 1024;
/// The e-mail's share of a message; its raw event is cut to fit.
const EMAIL_BUDGET: usize = 100 * 1024;
/// The JSON channel's share; a larger record is cut to fit (escaping can double its size
/// inside the message, so both shares together stay well under the limit).
const JSON_BUDGET: usize = 64 * 1024;

/// Everything one publish needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub subject: String,
    pub email: String,
    pub sms: String,
    pub json: String,
    /// The custom notification of Amazon Q Developer in chat applications (see [`chat`]).
    pub chat: String,
    /// `severity`, `rule`, `provider`, `account`.
    pub attributes: Vec<(&'static str, String)>,
}

impl Rendered {
    /// The `Message` of a publish with `MessageStructure=json`.
    pub fn message(&self) -> String {
        // One buffer, sized for the escaped channels: no intermediate strings to copy.
        let mut out = Vec::with_capacity(
            60 + (self.json.len() + self.email.len() + self.chat.len()) * 9 / 8 + self.sms.len(),
        );
        out.extend_from_slice(b"{\"default\":");
        for (key, text) in [
            (None, &self.json),
            (Some(&b",\"email\":"[..]), &self.email),
            (Some(&b",\"sms\":"[..]), &self.sms),
            (Some(&b",\"https\":"[..]), &self.chat),
        ] {
            if let Some(k) = key {
                out.extend_from_slice(k);
            }
            // Writing a string into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut out, text.as_str());
        }
        out.push(b'}');
        // serde_json writes valid UTF-8 for a &str.
        String::from_utf8(out).unwrap_or_default()
    }
}

pub fn render(f: &Finding) -> Rendered {
    let email = email(f, f.event.record());
    let mut text = f.to_json_string();
    if text.len() > JSON_BUDGET {
        // Keep every finding field; cut the raw record to its first bytes, and say so.
        let mut cut = f.to_json();
        let record = cut["record"].to_string();
        cut["record"] = Value::String(clip_bytes(&record, JSON_BUDGET / 2).to_string());
        cut["record_truncated"] = json!({"bytes": record.len()});
        text = cut.to_string();
    }
    Rendered {
        subject: subject(f),
        email,
        sms: sms(f),
        json: text,
        chat: chat(f).to_string(),
        attributes: vec![
            ("severity", f.severity().as_str().to_string()),
            ("rule", f.rule.id.clone()),
            ("provider", f.event.provider().as_str().to_string()),
            (
                "account",
                f.event.account().unwrap_or("unknown").to_string(),
            ),
        ],
    }
}

/// `[HIGH] IAM change: CreateUser by alice from 203.0.113.7`: ASCII, one line, under 100.
pub fn subject(f: &Finding) -> String {
    let s = format!(
        "[{}] {}",
        f.severity().as_str().to_ascii_uppercase(),
        f.title
    );
    clip(&ascii(&s, false), SUBJECT_MAX)
}

/// One SMS part of GSM-7 characters: severity, rule, actor, source address, account.
pub fn sms(f: &Finding) -> String {
    let e = &f.event;
    let mut parts = vec![
        "iamwatch".to_string(),
        f.severity().as_str().to_ascii_uppercase(),
        format!("{}:", f.rule.id),
        e.event_name().unwrap_or("?").to_string(),
        format!(
            "by {}",
            match &f.identity {
                Some(id) => id.who.clone(),
                None => e.actor().unwrap_or_else(|| "?".into()),
            }
        ),
    ];
    if let Some(ip) = e.source_ip_text().map(str::trim).filter(|s| !s.is_empty()) {
        parts.push(ip.to_string());
    }
    if let Some(a) = e.account() {
        parts.push(format!("acct {a}"));
    }
    if let Some(w) = &f.window {
        parts.push(format!("x{} in {}", w.count, w.window));
    }
    clip(&ascii(&parts.join(" "), true), SMS_MAX)
}

/// The e-mail: what happened in words a tired on-call engineer can act on, the runbook, a
/// console link and the raw event.
pub fn email(f: &Finding, record: &Value) -> String {
    let e = &f.event;
    let dash = |s: Option<&str>| s.unwrap_or("-").to_string();
    let raw = serde_json::to_string_pretty(record).unwrap_or_default();
    let mut m = String::with_capacity(raw.len().min(EMAIL_BUDGET) + 4096);
    let _ = writeln!(m, "{}", f.title);
    let _ = writeln!(
        m,
        "Severity {} - rule {}/{}",
        f.severity().as_str().to_ascii_uppercase(),
        f.pack,
        f.rule.id
    );
    let _ = writeln!(m);
    let who = match (f.identity.is_some() || e.actor().is_some(), e.actor_id()) {
        (false, id) => dash(id),
        (true, Some(id)) if f.who() != id => format!("{} ({id})", f.who()),
        (true, _) => f.who(),
    };
    let _ = writeln!(m, "Who:      {who}");
    let _ = writeln!(m, "What:     {}", e.action());
    let when = e
        .time()
        .map(|t| t.to_string())
        .unwrap_or_else(|| dash(e.time_text()));
    let _ = writeln!(m, "When:     {when}");
    let client = e.client().map(|c| format!(" via {c}")).unwrap_or_default();
    let _ = writeln!(
        m,
        "From:     {}{client}",
        dash(e.source_ip_text().map(str::trim).filter(|s| !s.is_empty()))
    );
    let _ = writeln!(
        m,
        "Account:  {}   Region: {}",
        f.account_label().unwrap_or_else(|| "-".into()),
        dash(e.region())
    );
    let outcome = match e.outcome() {
        Outcome::Success => "succeeded".to_string(),
        Outcome::Failure { code, message } => {
            let mut s = format!("failed ({})", code.as_deref().unwrap_or("no code"));
            if let Some(msg) = message {
                s.push_str(&format!(": {msg}"));
            }
            s
        }
        Outcome::Other(o) => o,
    };
    let _ = writeln!(m, "Outcome:  {outcome}");
    if let Some(w) = &f.window {
        let _ = writeln!(
            m,
            "Window:   {} in {} ({} to {}), group {}",
            ordinal(w.count),
            w.window,
            Timestamp(w.first),
            Timestamp(w.last),
            w.key
        );
    }
    if let Some(s) = &f.suppressed {
        let _ = writeln!(
            m,
            "Also:     {} earlier match{} suppressed since {}",
            s.count,
            if s.count == 1 { "" } else { "es" },
            Timestamp(s.since)
        );
    }
    for note in &f.notes {
        let _ = writeln!(m, "Note:     {note}");
    }
    if let Some(d) = &f.rule.description {
        let _ = writeln!(m, "\nWhy this matters: {d}");
    }
    let runbook = f.runbook();
    if !runbook.is_empty() {
        let _ = writeln!(m, "\nWhat to do:");
        for (i, step) in runbook.iter().enumerate() {
            let _ = writeln!(m, "  {}. {step}", i + 1);
        }
    }
    if let Some(link) = console_link(f) {
        let _ = writeln!(m, "\nOpen the event: {link}");
    }
    if !f.rule.references.is_empty() {
        let _ = writeln!(m, "References: {}", f.rule.references.join("; "));
    }
    let room = EMAIL_BUDGET.saturating_sub(m.len() + 200);
    let _ = writeln!(m, "\nThe event:");
    if raw.len() <= room {
        m.push_str(&raw);
    } else {
        m.push_str(clip_bytes(&raw, room));
        let _ = write!(
            m,
            "\n... (event truncated: {} of {} bytes shown)",
            room.min(raw.len()),
            raw.len()
        );
    }
    m.push('\n');
    m
}

/// Bounds of the chat notification, within what Amazon Q Developer in chat applications
/// renders: a title line, a description, a few next steps and keywords.
pub const CHAT_TITLE_MAX: usize = 250;
pub const CHAT_DESCRIPTION_MAX: usize = 4000;
pub const CHAT_STEPS_MAX: usize = 5;
pub const CHAT_STEP_MAX: usize = 500;
pub const CHAT_KEYWORDS_MAX: usize = 10;
pub const CHAT_KEYWORD_MAX: usize = 75;
pub const CHAT_THREAD_MAX: usize = 128;

/// The finding as a custom notification of Amazon Q Developer in chat applications
/// (`version` 1.0, `source` custom): the title, who did what from where in Markdown, the
/// runbook as next steps, keywords, and a `threadId` shared by every alert of one rule and
/// principal, so that repeats land in one thread.
pub fn chat(f: &Finding) -> Value {
    let e = &f.event;
    fn dash(s: Option<&str>) -> &str {
        s.map(str::trim).filter(|s| !s.is_empty()).unwrap_or("-")
    }
    let severity = f.severity().as_str().to_ascii_uppercase();
    let mut d = String::new();
    let _ = write!(d, "*{}* called `{}`", md(&f.who()), md(&e.action()));
    if let Some(a) = f.account_label() {
        let _ = write!(d, " in {}", md(&a));
    }
    let _ = write!(d, " ({})", md(dash(e.region())));
    let client = e
        .client()
        .map(|c| format!(" via {}", md(&c)))
        .unwrap_or_default();
    let _ = write!(d, " from `{}`{client}", md(dash(e.source_ip_text())));
    let when = e.time().map(|t| t.to_string());
    let _ = writeln!(d, " at {}.", dash(when.as_deref().or(e.time_text())));
    match e.outcome() {
        Outcome::Success => {}
        Outcome::Failure { code, .. } => {
            let _ = writeln!(
                d,
                "The call failed ({}).",
                md(code.as_deref().unwrap_or("no code"))
            );
        }
        Outcome::Other(o) => {
            let _ = writeln!(d, "Outcome: {}.", md(&o));
        }
    }
    if let Some(w) = &f.window {
        let _ = writeln!(d, "{} in {}.", ordinal(w.count), w.window);
    }
    if let Some(s) = &f.suppressed {
        let _ = writeln!(
            d,
            "{} earlier match{} suppressed since {}.",
            s.count,
            if s.count == 1 { "" } else { "es" },
            Timestamp(s.since)
        );
    }
    for note in &f.notes {
        let _ = writeln!(d, "Note: {}", md(note));
    }
    let _ = write!(
        d,
        "Rule `{}/{}` ({})",
        f.pack,
        f.rule.id,
        f.severity().as_str()
    );
    if let Some(desc) = &f.rule.description {
        let _ = write!(d, ": {}", md(desc));
    }
    if let Some(link) = console_link(f) {
        let _ = write!(d, "\n<{link}|Open the event>");
    }
    let steps: Vec<String> = f
        .runbook()
        .iter()
        .take(CHAT_STEPS_MAX)
        .map(|s| clip_chars(&md(s), CHAT_STEP_MAX))
        .collect();
    let mut keywords = vec![
        severity.clone(),
        f.rule.id.clone(),
        f.pack.to_string(),
        e.event_name().unwrap_or("?").to_string(),
    ];
    keywords.extend(
        e.account()
            .map(|a| f.names.name(a).unwrap_or(a).to_string()),
    );
    keywords.extend(e.region().map(str::to_string));
    let keywords: Vec<String> = keywords
        .into_iter()
        .filter(|k| !k.trim().is_empty())
        .take(CHAT_KEYWORDS_MAX)
        .map(|k| clip_chars(&k, CHAT_KEYWORD_MAX))
        .collect();
    let principal = e
        .actor_id()
        .map(str::to_string)
        .or_else(|| f.identity.as_ref().map(|i| i.who.clone()))
        .unwrap_or_default();
    let thread = clip_chars(
        &format!(
            "iamwatch-{}-{}-{:016x}",
            f.pack,
            f.rule.id,
            crate::detector::fnv(&principal)
        ),
        CHAT_THREAD_MAX,
    );
    let mut related: Vec<&str> = Vec::new();
    related.extend(e.actor_id());
    json!({
        "version": "1.0",
        "source": "custom",
        "id": f.key(),
        "content": {
            "textType": "client-markdown",
            "title": clip_chars(&format!("[{severity}] {}", md(&f.title)), CHAT_TITLE_MAX),
            "description": clip_chars(&d, CHAT_DESCRIPTION_MAX),
            "nextSteps": steps,
            "keywords": keywords,
        },
        "metadata": {
            "threadId": thread,
            "summary": subject(f),
            "eventType": "iamwatch-finding",
            "relatedResources": related,
            "additionalContext": {
                "severity": f.severity().as_str(),
                "rule": format!("{}/{}", f.pack, f.rule.id),
                "eventId": e.id().unwrap_or(""),
                "account": e.account().unwrap_or(""),
                "sourceIp": dash(e.source_ip_text()),
            },
        },
    })
}

/// Text from an event, made harmless in chat Markdown: the characters of links, mentions and
/// code spans (`<`, `>`, `|`, backtick) become look-alikes and line breaks blanks, so a user
/// agent or a name cannot add a link or ping a channel. Underscores and asterisks stay: IAM
/// names are full of them, and they restyle at worst.
fn md(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '`' => '\u{2035}',
            '<' => '\u{2039}',
            '>' => '\u{203a}',
            '|' => '\u{2223}',
            '\n' | '\r' | '\t' => ' ',
            c => c,
        })
        .collect()
}

/// At most `max` characters, ending in `...` when cut.
fn clip_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max - 3).collect();
    out.push_str("...");
    out
}

/// "6th", "21st", "112th".
fn ordinal(n: u64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix} matching event")
}

fn console_link(f: &Finding) -> Option<String> {
    let e = &f.event;
    match e.provider() {
        Provider::CloudTrail => {
            let region = e.region().unwrap_or("us-east-1");
            let id = e.id()?;
            Some(format!(
                "https://{region}.console.aws.amazon.com/cloudtrailv2/home?region={region}#/events/{id}"
            ))
        }
        Provider::Cadf => Some("https://cloud.ibm.com/observability/logging".to_string()),
    }
}

/// Characters that GSM-7 and every mail client carry: ASCII letters, digits and the common
/// punctuation. Accented letters lose their accents, a few letters are spelled out, anything
/// else is dropped; line breaks become blanks. `sms` also drops the GSM-7 escape characters
/// (`[]{}\^~|` and backtick), which cost two septets each.
fn ascii(s: &str, sms: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            '[' | ']' | '{' | '}' | '\\' | '^' | '~' | '|' | '`' if sms => {}
            ' '..='~' => out.push(c),
            _ => {
                if let Some(t) = fold(c) {
                    out.push_str(t);
                }
            }
        }
    }
    out
}

fn fold(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => "a",
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'Ā' => "A",
        'æ' => "ae",
        'Æ' => "AE",
        'ç' | 'ć' | 'č' => "c",
        'Ç' | 'Ć' | 'Č' => "C",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' => "e",
        'È' | 'É' | 'Ê' | 'Ë' | 'Ē' | 'Ę' | 'Ě' => "E",
        'ì' | 'í' | 'î' | 'ï' | 'ı' => "i",
        'Ì' | 'Í' | 'Î' | 'Ï' | 'İ' => "I",
        'ñ' | 'ń' | 'ň' => "n",
        'Ñ' | 'Ń' | 'Ň' => "N",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => "o",
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'Ō' | 'Ő' => "O",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' => "u",
        'Ù' | 'Ú' | 'Û' | 'Ü' | 'Ū' | 'Ů' | 'Ű' => "U",
        'ý' | 'ÿ' => "y",
        'Ý' | 'Ÿ' => "Y",
        'ß' => "ss",
        'ł' => "l",
        'Ł' => "L",
        'ś' | 'š' | 'ş' => "s",
        'Ś' | 'Š' | 'Ş' => "S",
        'ź' | 'ż' | 'ž' => "z",
        'Ź' | 'Ż' | 'Ž' => "Z",
        'đ' | 'ď' => "d",
        'Đ' | 'Ď' => "D",
        'ř' => "r",
        'Ř' => "R",
        'ť' => "t",
        'Ť' => "T",
        '‘' | '’' | '′' => "'",
        '“' | '”' | '″' => "\"",
        '–' | '—' | '‐' | '−' => "-",
        '…' => "...",
        '\u{a0}' | '\u{2009}' | '\u{202f}' => " ",
        _ => return None,
    })
}

/// At most `max` characters (all ASCII here), ending in `...` when cut.
fn clip(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.len() <= max {
        return s.to_string();
    }
    format!("{}...", s[..max - 3].trim_end())
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
/// `s` cut to at most `max` bytes, on a character boundary.
pub(crate) fn clip_bytes(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
