//! CloudWatch Logs subscription payloads: the Lambda event `{"awslogs": {"data": ...}}`, whose
//! data is base64 of gzip of the JSON below, and that decoded JSON itself:
//! `{"messageType": "DATA_MESSAGE", "logGroup": ..., "logEvents": [{"id", "timestamp", "message"}]}`.

use base64::Engine;
use flate2::read::MultiGzDecoder;
use serde_json::Value;
use std::io::Read;

/// Largest decoded payload accepted; CloudWatch sends at most 1 MB of events per invocation,
/// so anything far larger is not a subscription payload.
const MAX_DECODED: u64 = 64 << 20;

/// Decodes `awslogs.data` into the subscription JSON.
pub fn decode_data(data: &str) -> Result<Value, String> {
    let gz = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|e| format!("awslogs.data is not base64: {e}"))?;
    let mut json = Vec::new();
    MultiGzDecoder::new(&gz[..])
        .take(MAX_DECODED)
        .read_to_end(&mut json)
        .map_err(|e| format!("awslogs.data is not gzip: {e}"))?;
    serde_json::from_slice(&json).map_err(|e| format!("awslogs.data is not JSON: {e}"))
}

/// What a decoded payload carries.
pub enum Payload<'a> {
    /// CloudWatch's reachability check when a subscription is created: no events.
    Control,
    /// The log events, each `(id, message)`.
    Data(Vec<(Option<&'a str>, Result<&'a str, String>)>),
}

/// Reads the decoded subscription JSON.
pub fn log_events(payload: &Value) -> Result<Payload<'_>, String> {
    match payload.get("messageType").and_then(Value::as_str) {
        Some("CONTROL_MESSAGE") => return Ok(Payload::Control),
        Some("DATA_MESSAGE") | None => {}
        Some(other) => return Err(format!("unknown messageType {other:?}")),
    }
    let events = payload
        .get("logEvents")
        .and_then(Value::as_array)
        .ok_or("subscription payload without a logEvents array")?;
    Ok(Payload::Data(
        events
            .iter()
            .map(|e| {
                let id = e.get("id").and_then(Value::as_str);
                let message = e
                    .get("message")
                    .and_then(Value::as_str)
                    .ok_or_else(|| "log event without a message string".to_string());
                (id, message)
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Write;

    pub(crate) fn encode(json: &str) -> String {
        let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(json.as_bytes()).unwrap();
        base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap())
    }

    #[test]
    fn round_trip_and_control_message() {
        let v = decode_data(&encode(
            r#"{"messageType":"DATA_MESSAGE","logEvents":[{"id":"1","timestamp":1,"message":"{\"eventName\":\"X\"}"},{"id":"2"}]}"#,
        ))
        .unwrap();
        let Payload::Data(events) = log_events(&v).unwrap() else {
            panic!("data expected")
        };
        assert_eq!(events[0], (Some("1"), Ok(r#"{"eventName":"X"}"#)));
        assert!(events[1].1.is_err());
        let c = decode_data(&encode(
            r#"{"messageType":"CONTROL_MESSAGE","logEvents":[]}"#,
        ))
        .unwrap();
        assert!(matches!(log_events(&c), Ok(Payload::Control)));
        assert!(decode_data("!!!").unwrap_err().contains("base64"));
        assert!(decode_data("aGVsbG8=").unwrap_err().contains("gzip"));
    }
}
