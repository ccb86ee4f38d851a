//! The IBM Cloud side of the handlers: the settings of the Code Engine app, the requests IBM
//! Cloud sends it told apart, and the answer a request (or an OpenWhisk activation) gets.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `IAMWATCH_WEBHOOK_SECRET` | the token every request but `GET /healthz` carries as `Authorization: Bearer <token>` (or, from a Code Engine subscription, as the CloudEvents extension `iamwatchtoken`); 16 characters or more | none: the HTTP app refuses to start |
//! | `IAMWATCH_MAX_BODY_BYTES` | the largest request body accepted (larger: 413) | 16777216 (16 MiB) |
//! | `IAMWATCH_COS_ENDPOINT` | the COS S3 API endpoint objects are read from (`https://s3.direct.us-south.cloud-object-storage.appdomain.cloud`) | none: AWS S3 (or `AWS_ENDPOINT_URL`) |
//! | `IAMWATCH_COS_ACCESS_KEY_ID`, `IAMWATCH_COS_SECRET_ACCESS_KEY` | the HMAC keys of a COS service credential with read access to the bucket | required with the endpoint |
//!
//! What a request is, is told by its headers and body (see [`classify`]):
//! - a COS event subscription CloudEvent (`ce-type: com.ibm.cloud.cos.document.write`, binary
//!   mode, or `Content-Type: application/cloudevents+json`, structured mode): the object is
//!   read and every event in it evaluated; `…document.delete` is acknowledged and ignored;
//! - a Kafka subscription CloudEvent (`dev.knative.kafka.event`): the message is the input;
//! - anything else: the body is the input, in any layout the engine reads (one event, an array,
//!   JSON lines, an Event Notifications alert with its `log_example`, archive lines).

use crate::config::ConfigError;
use crate::engine::{EngineError, Outcome};
use crate::ingest::object::ObjectRef;
use base64::Engine as _;
use serde_json::{json, Value};
use std::ffi::OsString;
use std::fmt;

/// The app's own settings (the engine's are [`crate::config::Config`]'s).
pub const SETTINGS: &[&str] = &[
    "IAMWATCH_WEBHOOK_SECRET",
    "IAMWATCH_MAX_BODY_BYTES",
    "IAMWATCH_COS_ENDPOINT",
    "IAMWATCH_COS_ACCESS_KEY_ID",
    "IAMWATCH_COS_SECRET_ACCESS_KEY",
];

/// The default body limit: a Kafka message or a hand-posted batch is far smaller, and COS
/// objects are fetched, not posted.
pub const DEFAULT_MAX_BODY: usize = 16 * 1024 * 1024;

/// Shortest webhook secret accepted: anything shorter can be guessed.
const MIN_SECRET: usize = 16;

/// A value that must never be logged: its `Debug` and `Display` print a placeholder.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the one place that needs it (a client's credentials).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether an `Authorization` header value is `Bearer <this secret>`, compared in
    /// constant time: the time taken depends on the secret's length only, never on how many
    /// leading bytes of a guess are right.
    pub fn authorizes(&self, authorization: Option<&[u8]>) -> bool {
        let Some(header) = authorization else {
            return false;
        };
        let token = match header.iter().position(|&b| b == b' ') {
            Some(at) if header[..at].eq_ignore_ascii_case(b"bearer") => header[at + 1..]
                .iter()
                .position(|&b| b != b' ')
                .map_or(&[][..], |start| &header[at + 1 + start..]),
            _ => return false,
        };
        constant_time_eq(self.0.as_bytes(), token)
    }
}

/// The header carrying the secret as a CloudEvents extension attribute (`iamwatchtoken`), for
/// senders that cannot set `Authorization`: a Code Engine subscription adds it with
/// `--extension iamwatchtoken=SECRET`, and Code Engine sends it as this binary-mode header.
pub const TOKEN_HEADER: &str = "ce-iamwatchtoken";

impl Secret {
    /// Whether a request carries this secret: `Authorization: Bearer <secret>`, or the
    /// `ce-iamwatchtoken` extension header holding it (see [`TOKEN_HEADER`]).
    pub fn admits(&self, authorization: Option<&[u8]>, token: Option<&[u8]>) -> bool {
        // Both are compared, so that the time taken does not tell which one was tried.
        let bearer = self.authorizes(authorization);
        let extension = token.is_some_and(|t| constant_time_eq(self.0.as_bytes(), t));
        bearer | extension
    }
}

/// `expected == given`, in a time that depends on `expected.len()` only.
fn constant_time_eq(expected: &[u8], given: &[u8]) -> bool {
    let mut diff = u8::from(expected.len() != given.len());
    for (i, e) in expected.iter().enumerate() {
        // Past its end a shorter guess is compared as zeros: same work, still a mismatch.
        let g = given.get(i).copied().unwrap_or(0);
        diff |= std::hint::black_box(e ^ g);
    }
    diff == 0
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where objects are read from when that is IBM Cloud Object Storage rather than AWS S3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cos {
    pub endpoint: String,
    pub access_key_id: String,
    pub secret_access_key: Secret,
}

/// The app's settings, read from `IAMWATCH_*` variables and checked at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Required to serve HTTP (the OpenWhisk loop is authenticated by OpenWhisk).
    pub secret: Option<Secret>,
    pub max_body: usize,
    pub cos: Option<Cos>,
}

impl Settings {
    /// The settings in this process's environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars_os())
    }

    /// The settings in `vars`; other variables are ignored (see [`SETTINGS`]).
    pub fn from_vars(
        vars: impl IntoIterator<Item = (OsString, OsString)>,
    ) -> Result<Self, ConfigError> {
        let mut get = std::collections::BTreeMap::new();
        for (k, v) in vars {
            let Some(k) = k.to_str() else { continue };
            if SETTINGS.contains(&k) {
                let v = v
                    .into_string()
                    .map_err(|_| ConfigError::new(k, "is not valid UTF-8"))?;
                get.insert(k.to_string(), v);
            }
        }
        let var = |name: &str| get.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let secret = match get.get("IAMWATCH_WEBHOOK_SECRET") {
            None => None,
            Some(s) if s.chars().count() < MIN_SECRET || s.trim() != s => {
                return Err(ConfigError::new(
                    "IAMWATCH_WEBHOOK_SECRET",
                    format!(
                        "must be at least {MIN_SECRET} characters, with no blank at either end \
                         (for example the output of `openssl rand -hex 32`)"
                    ),
                ))
            }
            Some(s) => Some(Secret::new(s.clone())),
        };
        let max_body = match var("IAMWATCH_MAX_BODY_BYTES") {
            None => DEFAULT_MAX_BODY,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= 1024)
                .ok_or_else(|| {
                    ConfigError::new(
                        "IAMWATCH_MAX_BODY_BYTES",
                        format!("{v:?} is not a number of bytes of at least 1024"),
                    )
                })?,
        };
        let keys = (
            var("IAMWATCH_COS_ACCESS_KEY_ID"),
            var("IAMWATCH_COS_SECRET_ACCESS_KEY"),
        );
        let cos = match (var("IAMWATCH_COS_ENDPOINT"), keys) {
            (None, (None, None)) => None,
            (None, _) => {
                return Err(ConfigError::new(
                    "IAMWATCH_COS_ENDPOINT",
                    "is required with COS HMAC keys (for example \
                     https://s3.direct.us-south.cloud-object-storage.appdomain.cloud)",
                ))
            }
            (Some(e), _) if !(e.starts_with("https://") || e.starts_with("http://")) => {
                return Err(ConfigError::new(
                    "IAMWATCH_COS_ENDPOINT",
                    format!("{e:?} is not an https:// URL"),
                ))
            }
            (Some(endpoint), (Some(id), Some(key))) => Some(Cos {
                endpoint: endpoint.trim_end_matches('/').to_string(),
                access_key_id: id.to_string(),
                secret_access_key: Secret::new(key),
            }),
            (Some(_), (id, _)) => {
                let missing = if id.is_none() {
                    "IAMWATCH_COS_ACCESS_KEY_ID"
                } else {
                    "IAMWATCH_COS_SECRET_ACCESS_KEY"
                };
                return Err(ConfigError::new(
                    missing,
                    "is required with IAMWATCH_COS_ENDPOINT (the HMAC keys of a COS service \
                     credential that can read the bucket)",
                ));
            }
        };
        Ok(Self {
            secret,
            max_body,
            cos,
        })
    }

    /// The secret, for the HTTP app: its absence is a configuration error.
    pub fn require_secret(&self) -> Result<&Secret, ConfigError> {
        self.secret.as_ref().ok_or_else(|| {
            ConfigError::new(
                "IAMWATCH_WEBHOOK_SECRET",
                format!(
                    "is required to serve HTTP: every request but GET /healthz must carry \
                     `Authorization: Bearer <secret>` ({MIN_SECRET} characters or more)"
                ),
            )
        })
    }
}

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Read this object and evaluate every event in it.
    Object(ObjectRef),
    /// Evaluate these bytes (any layout the engine reads).
    Input(Vec<u8>),
    /// Nothing to do (a delete notification): acknowledged, with the reason.
    Ignore(String),
}

/// A request that cannot be used: answered with 400, never retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRequest(pub String);

impl fmt::Display for BadRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadRequest {}

pub const COS_WRITE: &str = "com.ibm.cloud.cos.document.write";
pub const COS_DELETE: &str = "com.ibm.cloud.cos.document.delete";
pub const KAFKA: &str = "dev.knative.kafka.event";

/// Tells a request apart by its `ce-type` header (binary-mode CloudEvents), its content type
/// (`application/cloudevents+json`: a structured-mode CloudEvent) and its body.
pub fn classify(
    ce_type: Option<&str>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Result<Request, BadRequest> {
    let structured = content_type.is_some_and(|t| {
        t.trim_start()
            .to_ascii_lowercase()
            .starts_with("application/cloudevents+json")
    });
    if structured {
        let event: Value = serde_json::from_slice(&body)
            .map_err(|e| BadRequest(format!("a structured CloudEvent that is not JSON: {e}")))?;
        let kind = event
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        return match kind {
            COS_WRITE | COS_DELETE | KAFKA => {
                let data = match (event.get("data"), event.get("data_base64")) {
                    (Some(Value::String(s)), _) => s.as_bytes().to_vec(),
                    (Some(v), _) => serde_json::to_vec(v).unwrap_or_default(),
                    (None, Some(Value::String(b))) => base64::engine::general_purpose::STANDARD
                        .decode(b.trim())
                        .map_err(|e| BadRequest(format!("data_base64 is not base64: {e}")))?,
                    _ => return Err(BadRequest(format!("a {kind} CloudEvent without data"))),
                };
                by_type(kind, data)
            }
            // Another structured event (an Event Notifications alert, say): the engine opens
            // what it knows.
            _ => Ok(Request::Input(body)),
        };
    }
    match ce_type {
        Some(kind) => by_type(kind, body),
        None => Ok(Request::Input(body)),
    }
}

fn by_type(kind: &str, data: Vec<u8>) -> Result<Request, BadRequest> {
    match kind {
        COS_WRITE => {
            let data: Value = serde_json::from_slice(&data).map_err(|e| {
                BadRequest(format!("a COS notification whose data is not JSON: {e}"))
            })?;
            cos_object(&data).map(Request::Object)
        }
        COS_DELETE => Ok(Request::Ignore(
            "a COS delete notification: there is nothing to read".into(),
        )),
        // A Kafka message is one Activity Tracker event; other types are read as input.
        _ => Ok(Request::Input(data)),
    }
}

/// The object a COS notification names: `bucket` and `key` of the Code Engine subscription's
/// data, else `notification.bucket_name` and `notification.object_name`.
pub fn cos_object(data: &Value) -> Result<ObjectRef, BadRequest> {
    let text = |a: &str, b: &str| {
        data.get(a)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .or_else(|| data.pointer(b).and_then(Value::as_str))
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    match (
        text("bucket", "/notification/bucket_name"),
        text("key", "/notification/object_name"),
    ) {
        (Some(bucket), Some(key)) => Ok(ObjectRef {
            bucket,
            key,
            version: None,
        }),
        _ => Err(BadRequest(
            "a COS notification without bucket and key (nor notification.bucket_name and \
             notification.object_name)"
                .into(),
        )),
    }
}

/// An OpenWhisk activation's parameters as a request: a COS trigger's `bucket` and `key`, a
/// web action's `__ow_body` (base64 when it is not JSON text) with its `__ow_headers`, an
/// `events` array, or else the parameters themselves as one input (an event, a `Records`
/// file, an Event Notifications alert).
pub fn activation(value: Value) -> Result<Request, BadRequest> {
    let Value::Object(mut params) = value else {
        return Err(BadRequest("the activation's value is not an object".into()));
    };
    if let Some(body) = params.remove("__ow_body") {
        let header = |name: &str| {
            params
                .get("__ow_headers")
                .and_then(|h| h.get(name))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let body = match body {
            Value::String(s) if s.trim_start().starts_with(['{', '[']) => s.into_bytes(),
            Value::String(s) => base64::engine::general_purpose::STANDARD
                .decode(s.trim())
                .map_err(|e| BadRequest(format!("__ow_body is neither JSON nor base64: {e}")))?,
            other => serde_json::to_vec(&other).unwrap_or_default(),
        };
        return classify(
            header("ce-type").as_deref(),
            header("content-type").as_deref(),
            body,
        );
    }
    if params.contains_key("bucket") && params.contains_key("key") {
        return cos_object(&Value::Object(params)).map(Request::Object);
    }
    params.retain(|k, _| !k.starts_with("__ow_"));
    let input = match params.remove("events") {
        Some(events @ Value::Array(_)) if params.is_empty() => events,
        Some(other) => {
            params.insert("events".into(), other);
            Value::Object(params)
        }
        None => Value::Object(params),
    };
    Ok(Request::Input(
        serde_json::to_vec(&input).unwrap_or_default(),
    ))
}

/// The answer to a request: its status and a JSON summary. 200 when every event was
/// evaluated and every alert delivered (bad records are reported, not refused); 503 when a
/// retry may succeed (SNS or DynamoDB unreachable, the object store down): the event source
/// retries, and the retry sends only what was not delivered; 500 for a configuration error.
pub fn answer(outcome: &Outcome) -> (u16, Value) {
    let r = &outcome.report;
    let mut body = json!({
        "events": r.counts.events,
        "bad": r.counts.bad,
        "findings": r.counts.total_findings(),
        "alerts": r.alerts.len(),
        "delivered": r.delivered.sent,
        "delivered_before": r.delivered.already,
        "undelivered": r.undelivered,
    });
    if !r.bad.is_empty() {
        body["bad_records"] = r
            .bad
            .iter()
            .map(|b| json!({"position": b.position.to_string(), "reason": b.reason}))
            .collect();
    }
    let status = match &outcome.error {
        None => 200,
        // The object is gone: nothing a retry could read.
        Some(EngineError::Missing(_)) => 200,
        Some(e) if e.is_transient() => 503,
        Some(_) => 500,
    };
    if let Some(e) = &outcome.error {
        body["error"] = json!({"kind": e.kind(), "message": e.to_string()});
    }
    (status, body)
}

/// Does what `request` asks of `service` (see [`Request`]); no record is started after
/// `deadline`.
pub async fn run(
    service: &std::sync::Arc<crate::service::Service>,
    request: Request,
    deadline: Option<std::time::Instant>,
) -> Outcome {
    match request {
        Request::Object(object) => {
            let me = std::sync::Arc::clone(service);
            service
                .blocking(move || {
                    me.process_object(
                        &object.bucket,
                        &object.key,
                        object.version.as_deref(),
                        deadline,
                    )
                })
                .await
        }
        Request::Input(bytes) => {
            service
                .process(bytes, crate::ingest::Format::Auto, deadline)
                .await
        }
        Request::Ignore(why) => {
            tracing::info!(why, "request acknowledged, nothing to evaluate");
            Outcome {
                report: Default::default(),
                error: None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs.iter().map(|(k, v)| (k.into(), v.into())).collect()
    }

    #[test]
    fn settings_are_checked_naming_the_variable() {
        let s = Settings::from_vars(vars(&[])).unwrap();
        assert_eq!(
            (s.secret, s.max_body, s.cos),
            (None, DEFAULT_MAX_BODY, None)
        );
        let bad = |pairs: &[(&str, &str)]| Settings::from_vars(vars(pairs)).unwrap_err().variable;
        assert_eq!(
            bad(&[("IAMWATCH_WEBHOOK_SECRET", "short")]),
            "IAMWATCH_WEBHOOK_SECRET"
        );
        assert_eq!(
            bad(&[("IAMWATCH_WEBHOOK_SECRET", " 0123456789abcdef")]),
            "IAMWATCH_WEBHOOK_SECRET"
        );
        assert_eq!(
            bad(&[("IAMWATCH_MAX_BODY_BYTES", "1k")]),
            "IAMWATCH_MAX_BODY_BYTES"
        );
        assert_eq!(
            bad(&[("IAMWATCH_COS_ACCESS_KEY_ID", "a")]),
            "IAMWATCH_COS_ENDPOINT"
        );
        assert_eq!(
            bad(&[
                ("IAMWATCH_COS_ENDPOINT", "https://cos"),
                ("IAMWATCH_COS_ACCESS_KEY_ID", "a")
            ]),
            "IAMWATCH_COS_SECRET_ACCESS_KEY"
        );
        assert_eq!(
            bad(&[
                ("IAMWATCH_COS_ENDPOINT", "s3.example"),
                ("IAMWATCH_COS_ACCESS_KEY_ID", "a")
            ]),
            "IAMWATCH_COS_ENDPOINT"
        );
        let s = Settings::from_vars(vars(&[
            ("IAMWATCH_WEBHOOK_SECRET", "0123456789abcdef"),
            ("IAMWATCH_MAX_BODY_BYTES", "2048"),
            ("IAMWATCH_COS_ENDPOINT", "https://s3.example/"),
            ("IAMWATCH_COS_ACCESS_KEY_ID", "id"),
            ("IAMWATCH_COS_SECRET_ACCESS_KEY", "key"),
        ]))
        .unwrap();
        assert_eq!(s.max_body, 2048);
        let cos = s.cos.unwrap();
        assert_eq!(cos.endpoint, "https://s3.example");
        assert!(!format!("{cos:?}").contains("key\""), "{cos:?}");
        assert_eq!(format!("{:?}", s.secret.unwrap()), "Secret(***)");
        assert!(Settings::from_vars(vars(&[]))
            .unwrap()
            .require_secret()
            .is_err());
    }

    #[test]
    fn the_secret_is_a_bearer_token() {
        let s = Secret::new("0123456789abcdef");
        assert!(s.authorizes(Some(b"Bearer 0123456789abcdef")));
        assert!(s.authorizes(Some(b"bearer  0123456789abcdef")));
        for wrong in [
            &b"Bearer 0123456789abcdeF"[..],
            b"Bearer 0123456789abcde",
            b"Bearer 0123456789abcdef0",
            b"Basic 0123456789abcdef",
            b"0123456789abcdef",
            b"Bearer ",
            b"",
        ] {
            assert!(
                !s.authorizes(Some(wrong)),
                "{}",
                String::from_utf8_lossy(wrong)
            );
        }
        assert!(!s.authorizes(None));
        assert!(s.admits(None, Some(b"0123456789abcdef")));
        assert!(s.admits(Some(b"Bearer 0123456789abcdef"), None));
        assert!(!s.admits(Some(b"Bearer x"), Some(b"0123456789abcdeX")));
        assert!(!s.admits(None, None));
    }

    #[test]
    fn requests_are_told_apart() {
        let cos = br#"{"bucket":"at","endpoint":"","key":"a/b.log.gz","operation":"Object:Write",
            "notification":{"bucket_name":"at","object_name":"a/b.log.gz","format":"2.0"}}"#;
        let object = Request::Object(ObjectRef {
            bucket: "at".into(),
            key: "a/b.log.gz".into(),
            version: None,
        });
        assert_eq!(
            classify(Some(COS_WRITE), None, cos.to_vec()),
            Ok(object.clone())
        );
        let only_notification =
            br#"{"notification":{"bucket_name":"at","object_name":"a/b.log.gz"}}"#;
        assert_eq!(
            classify(Some(COS_WRITE), None, only_notification.to_vec()),
            Ok(object.clone())
        );
        let structured = json!({"specversion": "1.0", "type": COS_WRITE, "id": "1",
            "source": "https://cloud.ibm.com/catalog/services/cloud-object-storage/at",
            "data": serde_json::from_slice::<Value>(cos).unwrap()});
        assert_eq!(
            classify(
                None,
                Some("application/cloudevents+json; charset=utf-8"),
                structured.to_string().into_bytes()
            ),
            Ok(object)
        );
        assert!(matches!(
            classify(Some(COS_DELETE), None, cos.to_vec()),
            Ok(Request::Ignore(_))
        ));
        assert!(classify(Some(COS_WRITE), None, b"{}".to_vec()).is_err());
        assert!(classify(Some(COS_WRITE), None, b"not json".to_vec()).is_err());
        let event = br#"{"action":"iam-identity.serviceid-apikey.login"}"#.to_vec();
        assert_eq!(
            classify(Some(KAFKA), None, event.clone()),
            Ok(Request::Input(event.clone()))
        );
        let kafka = json!({"specversion": "1.0", "type": KAFKA, "id": "1",
            "data_base64": base64::engine::general_purpose::STANDARD.encode(&event)});
        assert_eq!(
            classify(
                None,
                Some("application/cloudevents+json"),
                kafka.to_string().into_bytes()
            ),
            Ok(Request::Input(event.clone()))
        );
        assert_eq!(
            classify(None, Some("application/json"), event.clone()),
            Ok(Request::Input(event))
        );
    }

    #[test]
    fn activations_are_told_apart() {
        let cos = json!({"bucket": "at", "key": "k.log", "notification": {}});
        assert!(matches!(activation(cos), Ok(Request::Object(o)) if o.key == "k.log"));
        let event = json!({"action": "iam-groups.member.add", "__ow_method": "post"});
        assert_eq!(
            activation(event),
            Ok(Request::Input(
                br#"{"action":"iam-groups.member.add"}"#.to_vec()
            ))
        );
        let events = json!({"events": [{"action": "a"}, {"action": "b"}]});
        assert_eq!(
            activation(events),
            Ok(Request::Input(
                br#"[{"action":"a"},{"action":"b"}]"#.to_vec()
            ))
        );
        let web = json!({"__ow_body": base64::engine::general_purpose::STANDARD.encode("{\"action\":\"a\"}\n{\"action\":\"b\"}"),
            "__ow_headers": {"content-type": "application/x-ndjson"}});
        assert_eq!(
            activation(web),
            Ok(Request::Input(
                b"{\"action\":\"a\"}\n{\"action\":\"b\"}".to_vec()
            ))
        );
        assert!(activation(json!([1])).is_err());
    }
}
