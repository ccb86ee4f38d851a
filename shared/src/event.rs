//! One audit record: its raw JSON, which provider wrote it, and a normalised view.
//!
//! Patterns and conditions always see the raw JSON (users copy selectors from AWS and IBM
//! documentation); the normalised accessors feed alert text, group-by keys and derived facts.
//! They are computed on demand, so a record that matches no rule costs nothing beyond parsing.

use crate::layout::{has_name_bit, name_bits, Kind, Layout, NameBits};
use crate::net::parse_address;
use crate::time::Timestamp;
use serde_json::{Map, Value};
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, LazyLock};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    /// AWS CloudTrail.
    CloudTrail,
    /// IBM Cloud Activity Tracker and IBM Cloud Pak audit records (CADF).
    Cadf,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::CloudTrail => "cloudtrail",
            Provider::Cadf => "cadf",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a provider keeps an event's id, operation name and account: for each, the paths
/// tried in turn, the first that holds a string winning. [`Event`]'s accessors and what
/// windows read of a record that is not built (`detector::Counted`) read the same.
#[derive(Debug)]
pub struct Fields {
    pub id: &'static [&'static [&'static str]],
    pub name: &'static [&'static [&'static str]],
    pub account: &'static [&'static [&'static str]],
    /// The account is the `a/<id>` scope of a CRN found there (CADF).
    account_in_crn: bool,
}

impl Fields {
    /// The account that `text`, found at one of the `account` paths, names.
    pub fn account_in<'t>(&self, text: &'t str) -> Option<&'t str> {
        if self.account_in_crn {
            crn_account(text)
        } else {
            Some(text)
        }
    }
}

const CLOUDTRAIL_FIELDS: Fields = Fields {
    id: &[&["eventID"]],
    name: &[&["eventName"], &["insightDetails", "eventName"]],
    account: &[&["recipientAccountId"], &["userIdentity", "accountId"]],
    account_in_crn: false,
};

const CADF_FIELDS: Fields = Fields {
    id: &[&["id"], &["correlationId"]],
    name: &[&["action"]],
    account: &[&["logSourceCRN"], &["target", "id"]],
    account_in_crn: true,
};

impl Provider {
    pub fn fields(self) -> &'static Fields {
        match self {
            Provider::CloudTrail => &CLOUDTRAIL_FIELDS,
            Provider::Cadf => &CADF_FIELDS,
        }
    }
}

/// Why a JSON value is not an audit record we can evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAnEvent(pub String);

impl fmt::Display for NotAnEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotAnEvent {}

/// Whether an operation succeeded, as far as the record says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// Failed, with the error code (CloudTrail `errorCode`, CADF `reason.reasonCode`) and
    /// message when the record has them.
    Failure {
        code: Option<String>,
        message: Option<String>,
    },
    /// CADF `pending` or `unknown`.
    Other(String),
}

#[derive(Debug, Clone)]
pub struct Event {
    /// Shared: every finding of an event holds it, and a record can be large.
    record: Arc<Value>,
    provider: Provider,
}

impl Event {
    /// Wraps a record, working out its provider. A record needs at least its action: a
    /// CloudTrail `eventName` or a CADF `action`.
    pub fn new(record: Value) -> Result<Self, NotAnEvent> {
        let Some(obj) = record.as_object() else {
            return Err(NotAnEvent(format!(
                "expected a JSON object, found {}",
                kind_of(&record)
            )));
        };
        let provider = detect(obj)?;
        Ok(Self {
            record: Arc::new(record),
            provider,
        })
    }

    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// The record as it arrived.
    pub fn record(&self) -> &Value {
        &self.record
    }

    pub fn into_record(self) -> Value {
        Arc::unwrap_or_clone(self.record)
    }

    /// The string at `path` (keys from the top), when there is one.
    pub fn str_at(&self, path: &[&str]) -> Option<&str> {
        get(&self.record, path)?.as_str()
    }

    /// CloudTrail `eventID`; CADF `id`, else `correlationId`.
    pub fn id(&self) -> Option<&str> {
        let fields = self.provider.fields();
        fields.id.iter().find_map(|p| self.str_at(p))
    }

    /// `eventTime` as written.
    pub fn time_text(&self) -> Option<&str> {
        self.str_at(&["eventTime"])
    }

    pub fn time(&self) -> Option<Timestamp> {
        self.time_text().and_then(Timestamp::parse)
    }

    /// The operation's own name: CloudTrail `eventName`, CADF `action`.
    pub fn event_name(&self) -> Option<&str> {
        let fields = self.provider.fields();
        fields.name.iter().find_map(|p| self.str_at(p))
    }

    /// `service:Operation` for CloudTrail (`iam:CreateUser`, as IAM policies name actions);
    /// the CADF `action` (`iam-identity.serviceid-apikey.login`).
    pub fn action(&self) -> String {
        match self.provider {
            Provider::CloudTrail => {
                let name = self.event_name().unwrap_or("?");
                let source = self
                    .str_at(&["eventSource"])
                    .or_else(|| self.str_at(&["insightDetails", "eventSource"]));
                match source {
                    Some(src) => {
                        let service = src.strip_suffix(".amazonaws.com").unwrap_or(src);
                        format!("{service}:{name}")
                    }
                    None => name.to_string(),
                }
            }
            Provider::Cadf => self.event_name().unwrap_or("?").to_string(),
        }
    }

    /// Who did it, in the form an on-call engineer recognises: the IAM user name, `root`,
    /// `role/session` for assumed roles, the invoking service; for CADF the initiator's name,
    /// else its id.
    pub fn actor(&self) -> Option<String> {
        match self.provider {
            Provider::CloudTrail => cloudtrail_actor(get(&self.record, &["userIdentity"])?),
            Provider::Cadf => self
                .str_at(&["initiator", "name"])
                .filter(|s| !s.trim().is_empty())
                .or_else(|| self.str_at(&["initiator", "id"]))
                .map(str::to_string),
        }
    }

    /// The principal's ARN (CloudTrail) or initiator id (CADF).
    pub fn actor_id(&self) -> Option<&str> {
        match self.provider {
            Provider::CloudTrail => self
                .str_at(&["userIdentity", "arn"])
                .or_else(|| self.str_at(&["userIdentity", "principalId"])),
            Provider::Cadf => self.str_at(&["initiator", "id"]),
        }
    }

    /// The source address as written (may be a service name such as `signin.amazonaws.com`).
    pub fn source_ip_text(&self) -> Option<&str> {
        match self.provider {
            Provider::CloudTrail => self.str_at(&["sourceIPAddress"]),
            Provider::Cadf => self.str_at(&["initiator", "host", "address"]),
        }
    }

    /// The source address when it is exactly one (see [`crate::net::parse_address`]).
    pub fn source_ip(&self) -> Option<IpAddr> {
        self.source_ip_text().and_then(|t| parse_address(t).ok())
    }

    pub fn user_agent(&self) -> Option<&str> {
        match self.provider {
            Provider::CloudTrail => self.str_at(&["userAgent"]),
            Provider::Cadf => self.str_at(&["initiator", "host", "agent"]),
        }
    }

    /// Where the call came from, in words: `console`, `IBM Cloud CLI`, `AWS CLI`, or the user
    /// agent as written. IBM marks console and CLI logins with `requestData.client_id`
    /// (`HOP55v1CCT` and `bx`).
    pub fn client(&self) -> Option<String> {
        match self.provider {
            Provider::Cadf => match self.str_at(&["requestData", "client_id"]) {
                Some("HOP55v1CCT") => Some("console".into()),
                Some("bx") => Some("IBM Cloud CLI".into()),
                _ => match self.str_at(&["initiator", "host", "agent"]) {
                    Some("Not Set") => Some("console".into()),
                    other => other.map(str::to_string),
                },
            },
            Provider::CloudTrail => {
                let ua = self.user_agent()?;
                Some(if ua.starts_with("aws-cli/") {
                    "AWS CLI".into()
                } else if ua.starts_with("Mozilla/")
                    || ua.contains("console.amazonaws.com")
                    || ua == "signin.amazonaws.com"
                {
                    "console".into()
                } else {
                    ua.to_string()
                })
            }
        }
    }

    pub fn outcome(&self) -> Outcome {
        match self.provider {
            Provider::CloudTrail => {
                let code = self.str_at(&["errorCode"]);
                // Console sign-in failures carry no errorCode, only the response.
                let login_failed =
                    self.str_at(&["responseElements", "ConsoleLogin"]) == Some("Failure");
                if code.is_some() || login_failed {
                    Outcome::Failure {
                        code: code.map(str::to_string),
                        message: self.str_at(&["errorMessage"]).map(str::to_string),
                    }
                } else {
                    Outcome::Success
                }
            }
            Provider::Cadf => {
                let code = get(&self.record, &["reason", "reasonCode"]).map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                });
                match self.str_at(&["outcome"]).map(str::to_ascii_lowercase) {
                    Some(o) if o == "success" => Outcome::Success,
                    Some(o) if o == "failure" => Outcome::Failure {
                        code,
                        message: self
                            .str_at(&["reason", "reasonType"])
                            .or_else(|| self.str_at(&["reason", "reasonForFailure"]))
                            .map(str::to_string),
                    },
                    Some(o) => Outcome::Other(o),
                    None => Outcome::Other("unknown".into()),
                }
            }
        }
    }

    /// CloudTrail `recipientAccountId` (else the principal's account); for CADF the `a/<id>`
    /// scope of `logSourceCRN` or `target.id`.
    pub fn account(&self) -> Option<&str> {
        let fields = self.provider.fields();
        fields
            .account
            .iter()
            .find_map(|p| fields.account_in(self.str_at(p)?))
    }

    /// CloudTrail `awsRegion`; for CADF the location of `logSourceCRN` (`global`, `us-south`).
    pub fn region(&self) -> Option<&str> {
        match self.provider {
            Provider::CloudTrail => self.str_at(&["awsRegion"]),
            Provider::Cadf => self
                .str_at(&["logSourceCRN"])
                .and_then(|crn| crn_part(crn, 5))
                .or_else(|| self.str_at(&["target", "id"]).and_then(|c| crn_part(c, 5))),
        }
    }

    /// What the operation acted on: CloudTrail `requestParameters`, CADF `target`.
    pub fn target(&self) -> Option<&Value> {
        match self.provider {
            Provider::CloudTrail => get(&self.record, &["requestParameters"]),
            Provider::Cadf => get(&self.record, &["target"]),
        }
        .filter(|v| !v.is_null())
    }
}

/// Top-level members whose values [`Event::new`] reads to tell providers apart.
pub const DETECTION_VALUES: &[&str] = &[
    "eventName",
    "eventSource",
    "eventVersion",
    "eventType",
    "action",
];
/// Top-level members whose presence alone [`Event::new`] checks.
pub const DETECTION_PRESENCE: &[&str] = &[
    "userIdentity",
    "initiator",
    "observer",
    "logSourceCRN",
    "typeURI",
];

/// A top-level member as detection sees it.
enum Seen<'a> {
    Missing,
    Text(std::borrow::Cow<'a, str>),
    /// Anything but a string: what it is.
    Other(&'static str),
}

/// The top-level members of a record, parsed ([`Map`]) or laid out ([`Layout`]).
trait TopLevel {
    fn seen(&self, key: &str) -> Seen<'_>;
}

impl TopLevel for Map<String, Value> {
    fn seen(&self, key: &str) -> Seen<'_> {
        match self.get(key) {
            None => Seen::Missing,
            Some(Value::String(s)) => Seen::Text(s.as_str().into()),
            Some(other) => Seen::Other(kind_of(other)),
        }
    }
}

/// Members detection reads.
const DETECTION_KEYS: [&str; 10] = [
    "eventName",
    "eventSource",
    "eventVersion",
    "eventType",
    "action",
    "userIdentity",
    "initiator",
    "observer",
    "logSourceCRN",
    "typeURI",
];

/// Where a member detection reads goes in [`Laid::found`]: its place in [`DETECTION_KEYS`].
/// A `match` compares lengths before bytes, so most keys of a record are passed over at once.
fn detection_slot(key: &str) -> Option<usize> {
    Some(match key {
        "eventName" => 0,
        "eventSource" => 1,
        "eventVersion" => 2,
        "eventType" => 3,
        "action" => 4,
        "userIdentity" => 5,
        "initiator" => 6,
        "observer" => 7,
        "logSourceCRN" => 8,
        "typeURI" => 9,
        _ => return None,
    })
}

/// A checked record's text and, per detection key, its member in the layout (the last of
/// duplicates, as when parsed).
struct Laid<'a> {
    text: &'a str,
    found: [Option<&'a crate::layout::Member>; DETECTION_KEYS.len()],
}

impl<'a> Laid<'a> {
    fn new(text: &'a str, layout: &'a Layout) -> Self {
        static NAMES: LazyLock<NameBits> =
            LazyLock::new(|| name_bits(DETECTION_KEYS.map(str::as_bytes)));
        let mut found = [None; DETECTION_KEYS.len()];
        for (_, m) in layout.root() {
            // Most keys are passed over on the bit the scan noted for them.
            if !m.key_escaped && !has_name_bit(&NAMES, m.name_bit) {
                continue;
            }
            if let Some(i) = m.key(text).ok().and_then(|k| detection_slot(&k)) {
                found[i] = Some(m);
            }
        }
        Self { text, found }
    }
}

impl TopLevel for Laid<'_> {
    fn seen(&self, key: &str) -> Seen<'_> {
        let Some(m) = detection_slot(key).and_then(|i| self.found[i]) else {
            return Seen::Missing;
        };
        let value = m.value(self.text);
        match m.kind {
            Kind::Plain => Seen::Text(value[1..value.len() - 1].into()),
            Kind::Escaped => match serde_json::from_str::<String>(value) {
                Ok(s) => Seen::Text(s.into()),
                Err(_) => Seen::Other("a string"),
            },
            Kind::Object => Seen::Other("an object"),
            Kind::Array => Seen::Other("an array"),
            Kind::Scalar => Seen::Other(match value.as_bytes().first() {
                Some(b'n') => "null",
                Some(b't' | b'f') => "a boolean",
                _ => "a number",
            }),
        }
    }
}

/// Which provider wrote the record `text`, checked into `layout`, without parsing it: the
/// same answer as [`Event::new`] on the parsed record.
pub fn provider_of(text: &str, layout: &Layout) -> Result<Provider, NotAnEvent> {
    if !layout.is_object() {
        let kind = match serde_json::from_str::<Value>(text) {
            Ok(v) => kind_of(&v),
            Err(_) => "no JSON",
        };
        return Err(NotAnEvent(format!("expected a JSON object, found {kind}")));
    }
    detect(&Laid::new(text, layout))
}

fn detect(obj: &impl TopLevel) -> Result<Provider, NotAnEvent> {
    let has = |k: &str| !matches!(obj.seen(k), Seen::Missing);
    if has("eventSource") || has("eventVersion") || has("userIdentity") {
        return match obj.seen("eventName") {
            Seen::Text(s) if !s.is_empty() => Ok(Provider::CloudTrail),
            // CloudTrail Insights events name the call inside insightDetails.
            Seen::Missing if matches!(obj.seen("eventType"), Seen::Text(t) if t == "AwsCloudTrailInsight") => {
                Ok(Provider::CloudTrail)
            }
            Seen::Text(_) => Err(NotAnEvent(
                "CloudTrail record with an eventName that is a string, not a name".into(),
            )),
            Seen::Other(kind) => Err(NotAnEvent(format!(
                "CloudTrail record with an eventName that is {kind}, not a name"
            ))),
            Seen::Missing => Err(NotAnEvent("CloudTrail record without eventName".into())),
        };
    }
    if has("initiator") || has("observer") || has("logSourceCRN") || has("typeURI") {
        return match obj.seen("action") {
            Seen::Text(s) if !s.is_empty() => Ok(Provider::Cadf),
            _ => Err(NotAnEvent("CADF record without action".into())),
        };
    }
    if has("eventName") {
        return Ok(Provider::CloudTrail);
    }
    if matches!(obj.seen("action"), Seen::Text(_)) {
        return Ok(Provider::Cadf);
    }
    Err(NotAnEvent(
        "neither a CloudTrail record (eventName) nor a CADF event (action)".into(),
    ))
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn get<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

fn cloudtrail_actor(id: &Value) -> Option<String> {
    let s = |k: &str| id.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    match s("type") {
        Some("Root") => return Some("root".into()),
        Some("AWSService") => return s("invokedBy").map(str::to_string),
        Some("AssumedRole") | Some("FederatedUser") => {
            // arn:aws:sts::123:assumed-role/Role/session -> Role/session
            if let Some(arn) = s("arn") {
                if let Some((_, rest)) = arn.split_once(":assumed-role/") {
                    return Some(rest.to_string());
                }
                if let Some((_, rest)) = arn.split_once(":federated-user/") {
                    return Some(rest.to_string());
                }
            }
        }
        _ => {}
    }
    s("userName")
        .map(str::to_string)
        .or_else(|| {
            s("arn").map(|a| {
                a.rsplit_once(':')
                    .map_or(a, |(_, resource)| resource)
                    .to_string()
            })
        })
        .or_else(|| s("principalId").map(str::to_string))
        .or_else(|| s("invokedBy").map(str::to_string))
        .or_else(|| s("type").map(str::to_string))
}

/// Field `n` (0-based) of a CRN `crn:v1:cloud:type:service:location:scope:instance:type:res`,
/// also when the `crn:` prefix is missing, as in some real events.
fn crn_part(crn: &str, n: usize) -> Option<&str> {
    let shift = usize::from(!crn.starts_with("crn:"));
    // Byte by byte: `split(':')` cost more than the windows it keys (a CRN is ASCII).
    let mut parts = memchr::memchr_iter(b':', crn.as_bytes());
    let k = n.checked_sub(shift)?;
    let start = if k == 0 { 0 } else { parts.nth(k - 1)? + 1 };
    let end = parts.next().unwrap_or(crn.len());
    Some(&crn[start..end]).filter(|s| !s.is_empty())
}

fn crn_account(crn: &str) -> Option<&str> {
    crn_part(crn, 6)?.strip_prefix("a/")
}

#[cfg(test)]
mod tests {
    #[test]
    fn crn_parts_are_the_colon_separated_fields() {
        // What `split(':')` gives, the prefix `crn:` optional, empty fields none.
        fn reference(crn: &str, n: usize) -> Option<&str> {
            let shift = usize::from(!crn.starts_with("crn:"));
            crn.split(':')
                .nth(n.checked_sub(shift)?)
                .filter(|s| !s.is_empty())
        }
        for crn in [
            "crn:v1:bluemix:public:iam-identity:global:a/acct4:::",
            "crn:v1:bluemix:public:iam-identity:global:a/é::",
            "v1:bluemix:public:iam-identity:us-south:a/x:i:t:r",
            "crn:v1",
            "crn:",
            ":::::::",
            "",
            "no colons at all",
            "crn:v1:bluemix:public:kms:us-south:a/1:inst:key:k1:extra",
        ] {
            for n in 0..12 {
                assert_eq!(super::crn_part(crn, n), reference(crn, n), "{crn:?} {n}");
            }
        }
    }

    #[test]
    fn detection_reads_the_keys_a_screened_projection_keeps() {
        let mut keys: Vec<&str> = DETECTION_KEYS.to_vec();
        let mut kept: Vec<&str> = DETECTION_VALUES
            .iter()
            .chain(DETECTION_PRESENCE)
            .copied()
            .collect();
        keys.sort_unstable();
        kept.sort_unstable();
        assert_eq!(keys, kept);
    }

    #[test]
    fn the_layout_finds_every_detection_key_in_its_place() {
        for (i, key) in DETECTION_KEYS.iter().enumerate() {
            let text = format!(r#"{{"other":1,"{key}":"x"}}"#);
            let mut layout = Layout::new();
            layout.scan(&text).expect("JSON");
            let laid = Laid::new(&text, &layout);
            assert_eq!(detection_slot(key), Some(i), "{key}");
            assert!(laid.found[i].is_some(), "{key}");
            assert_eq!(laid.found.iter().flatten().count(), 1, "{key}");
        }
    }

    use super::*;
    use serde_json::json;

    #[test]
    fn cloudtrail_view() {
        let e = Event::new(json!({
            "eventVersion": "1.08",
            "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/Admin/alice", "accountId": "111122223333"},
            "eventTime": "2026-11-20T08:00:12Z", "eventSource": "iam.amazonaws.com", "eventName": "CreateUser",
            "awsRegion": "us-east-1", "sourceIPAddress": "075.050.255.67", "userAgent": "aws-cli/2",
            "errorCode": "AccessDenied", "errorMessage": "no", "eventID": "e1", "recipientAccountId": "444455556666",
            "requestParameters": {"userName": "bob"}
        }))
        .unwrap();
        assert_eq!(e.provider(), Provider::CloudTrail);
        assert_eq!(e.id(), Some("e1"));
        assert_eq!(e.action(), "iam:CreateUser");
        assert_eq!(e.actor().as_deref(), Some("Admin/alice"));
        // Leading zeros make an address ambiguous (decimal or octal): not an address.
        assert_eq!(e.source_ip_text(), Some("075.050.255.67"));
        assert_eq!(e.source_ip(), None);
        assert_eq!(e.account(), Some("444455556666"));
        assert_eq!(e.region(), Some("us-east-1"));
        assert_eq!(
            e.time().map(|t| t.to_string()).as_deref(),
            Some("2026-11-20T08:00:12.000Z")
        );
        assert_eq!(
            e.outcome(),
            Outcome::Failure {
                code: Some("AccessDenied".into()),
                message: Some("no".into())
            }
        );
        assert_eq!(e.target(), Some(&json!({"userName": "bob"})));
    }

    #[test]
    fn cloudtrail_actors() {
        let actor = |id: Value| {
            Event::new(json!({"eventName": "X", "userIdentity": id}))
                .unwrap()
                .actor()
        };
        assert_eq!(
            actor(json!({"type": "Root", "arn": "arn:aws:iam::1:root"})).as_deref(),
            Some("root")
        );
        assert_eq!(
            actor(json!({"type": "IAMUser", "userName": "alice"})).as_deref(),
            Some("alice")
        );
        assert_eq!(
            actor(json!({"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"}))
                .as_deref(),
            Some("cloudtrail.amazonaws.com")
        );
        assert_eq!(
            actor(json!({"type": "IAMUser", "principalId": "AIDA1"})).as_deref(),
            Some("AIDA1")
        );
        assert_eq!(actor(json!({})), None);
    }

    #[test]
    fn cadf_view() {
        let e = Event::new(json!({
            "action": "iam-identity.serviceid-apikey.login",
            "eventTime": "2018-04-20 20:15:00.32 +0000 UTC",
            "outcome": "failure",
            "reason": {"reasonCode": 400, "reasonType": "Bad Request"},
            "initiator": {"id": "iam-ServiceId-1", "name": "", "host": {"address": " 10.45.116.217", "agent": "IBM Cloud CLI"}},
            "logSourceCRN": "crn:v1:bluemix:public:iam-identity:global:a/47998ac0::::"
        }))
        .unwrap();
        assert_eq!(e.provider(), Provider::Cadf);
        assert_eq!(e.actor().as_deref(), Some("iam-ServiceId-1"));
        assert_eq!(
            e.source_ip().map(|a| a.to_string()).as_deref(),
            Some("10.45.116.217")
        );
        assert_eq!(e.account(), Some("47998ac0"));
        assert_eq!(e.region(), Some("global"));
        assert_eq!(
            e.outcome(),
            Outcome::Failure {
                code: Some("400".into()),
                message: Some("Bad Request".into())
            }
        );
        assert!(e.time().is_some());
    }

    #[test]
    fn insights_events_name_their_call_inside() {
        let e = Event::new(json!({"eventVersion": "1.07", "eventType": "AwsCloudTrailInsight",
            "insightDetails": {"eventSource": "ssm.amazonaws.com", "eventName": "UpdateInstanceInformation"}}))
        .unwrap();
        assert_eq!(e.action(), "ssm:UpdateInstanceInformation");
    }

    #[test]
    fn what_is_not_an_event() {
        for (v, why) in [
            (json!([1]), "expected a JSON object"),
            (
                json!({"eventSource": "iam.amazonaws.com"}),
                "without eventName",
            ),
            (
                json!({"eventVersion": "1.08", "eventName": 5}),
                "eventName that is a number",
            ),
            (json!({"initiator": {}}), "CADF record without action"),
            (json!({"hello": "world"}), "neither"),
        ] {
            let err = Event::new(v).unwrap_err();
            assert!(err.0.contains(why), "{err}");
        }
    }
}
