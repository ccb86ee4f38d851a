//! Objects in Amazon S3 (or an S3-compatible store such as IBM Cloud Object Storage), read as
//! a stream: a CloudTrail log file of any size is read a chunk at a time, so memory stays flat.
//!
//! The reader is synchronous (the engine reads with [`std::io::Read`]); each chunk is awaited
//! on the runtime's handle, so it must be used on a thread that may block (tokio's blocking
//! pool), never on a runtime worker.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::Client;
use serde_json::Value;
use std::io::{self, Read};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::runtime::Handle;

/// Why an object could not be opened.
#[derive(Debug)]
pub enum ObjectError {
    /// It is not there (deleted, or a wrong key): a retry cannot help.
    Missing(String),
    /// The store did not answer, refused access, or failed: a retry may help.
    Unavailable(String),
}

impl std::fmt::Display for ObjectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ObjectError::Missing(m) | ObjectError::Unavailable(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ObjectError {}

/// An object's bytes as they arrive.
pub struct ObjectReader {
    body: Box<dyn AsyncRead + Unpin + Send + Sync>,
    handle: Handle,
}

impl Read for ObjectReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // A connection lost mid-object is the store's failure, not the object's: it must not
        // read as a truncated file (a bad record, and the rest of the object lost) but fail
        // the read, so that the invocation is retried and the object read whole.
        self.handle.block_on(self.body.read(buf)).map_err(|e| {
            io::Error::new(
                io::ErrorKind::ConnectionAborted,
                format!("the object store stopped sending the object: {e}"),
            )
        })
    }
}

/// Opens `s3://bucket/key` (at `version` when given) for reading.
pub fn open(
    client: &Client,
    handle: &Handle,
    bucket: &str,
    key: &str,
    version: Option<&str>,
) -> Result<ObjectReader, ObjectError> {
    let call = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .set_version_id(version.map(str::to_string));
    let name = format!("s3://{bucket}/{key}");
    match handle.block_on(call.send()) {
        Ok(out) => Ok(ObjectReader {
            body: Box::new(out.body.into_async_read()),
            handle: handle.clone(),
        }),
        Err(e) => {
            let missing = matches!(
                e.code(),
                Some("NoSuchKey" | "NoSuchBucket" | "NoSuchVersion")
            ) || matches!(&e, SdkError::ServiceError(s) if s.raw().status().as_u16() == 404);
            let why = format!("cannot read {name}: {}", crate::aws::describe(&e));
            Err(if missing {
                ObjectError::Missing(why)
            } else {
                ObjectError::Unavailable(why)
            })
        }
    }
}

/// An object a trigger names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub bucket: String,
    /// Decoded (notifications URL-encode it).
    pub key: String,
    pub version: Option<String>,
}

/// The objects that a trigger message names: an S3 event notification (`Records` of
/// `aws:s3` events), the same inside an SNS envelope (`Type: Notification`), or an
/// EventBridge "Object Created" event. S3's `s3:TestEvent` names none. `Err` says why the
/// message is none of these.
pub fn objects_in(message: &Value) -> Result<Vec<ObjectRef>, String> {
    let text = |v: &Value, path: &[&str]| -> Option<String> {
        let mut at = v;
        for p in path {
            at = at.get(p)?;
        }
        at.as_str().map(str::to_string)
    };
    if message.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return Ok(Vec::new());
    }
    if let Some(records) = message.get("Records").and_then(Value::as_array) {
        return records
            .iter()
            .enumerate()
            .map(|(i, r)| {
                match (
                    text(r, &["s3", "bucket", "name"]),
                    text(r, &["s3", "object", "key"]),
                ) {
                    (Some(bucket), Some(key)) => Ok(ObjectRef {
                        bucket,
                        key: decode_key(&key),
                        version: text(r, &["s3", "object", "versionId"]),
                    }),
                    _ => Err(format!(
                        "record {} is not an S3 event (no s3.bucket.name and s3.object.key)",
                        i + 1
                    )),
                }
            })
            .collect();
    }
    if message.get("Type").and_then(Value::as_str) == Some("Notification") {
        let inner = message
            .get("Message")
            .and_then(Value::as_str)
            .ok_or("SNS notification without a Message string")?;
        let inner: Value = serde_json::from_str(inner)
            .map_err(|e| format!("the SNS notification's Message is not JSON: {e}"))?;
        return objects_in(&inner);
    }
    if message.get("detail-type").and_then(Value::as_str) == Some("Object Created") {
        let detail = message
            .get("detail")
            .ok_or("Object Created event without a detail")?;
        return match (
            text(detail, &["bucket", "name"]),
            text(detail, &["object", "key"]),
        ) {
            // EventBridge gives the key as it is, not URL-encoded.
            (Some(bucket), Some(key)) => Ok(vec![ObjectRef {
                bucket,
                key,
                version: text(detail, &["object", "version-id"]),
            }]),
            _ => {
                Err("Object Created event without detail.bucket.name and detail.object.key".into())
            }
        };
    }
    Err("not an S3 event notification, an SNS envelope of one, or an EventBridge Object Created event".into())
}

/// An object key as S3 event notifications write it (URL-encoded, `+` for a space), decoded.
pub fn decode_key(key: &str) -> String {
    let b = key.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (
                    b.get(i + 1).and_then(|&c| hex(c)),
                    b.get(i + 2).and_then(|&c| hex(c)),
                ) {
                    (Some(h), Some(l)) => {
                        // Two hex digits make one byte.
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Whether `key` names a CloudTrail log file (`AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/REGION/
/// YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_..._UNIQUE.json.gz`); else why it is skipped (digest
/// files, CloudTrail Insights, anything else in the bucket).
pub fn cloudtrail_log(key: &str) -> Result<(), &'static str> {
    let file = key.rsplit('/').next().unwrap_or(key);
    if key.contains("/CloudTrail-Digest/") || file.contains("_CloudTrail-Digest_") {
        return Err("a CloudTrail digest file (hashes, no events)");
    }
    if key.contains("/CloudTrail-Insight/") {
        return Err("a CloudTrail Insights file (no management events)");
    }
    if !(file.ends_with(".json.gz") || file.ends_with(".json")) {
        return Err("not a JSON log file");
    }
    if !key.contains("/CloudTrail/") && !file.contains("_CloudTrail_") {
        return Err("not under a CloudTrail prefix");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_decode_as_s3_notifications_encode_them() {
        assert_eq!(
            decode_key("AWSLogs/111122223333/a+b%3Dc.json.gz"),
            "AWSLogs/111122223333/a b=c.json.gz"
        );
        assert_eq!(decode_key("100%"), "100%");
        assert_eq!(decode_key("%e2%82%ac"), "\u{20ac}");
        assert_eq!(decode_key("%zz"), "%zz");
    }

    #[test]
    fn every_trigger_names_its_objects() {
        let s3 = serde_json::json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": "trail"}, "object": {"key": "AWSLogs/1/a+b.json.gz", "versionId": "v1"}}}]});
        let want = ObjectRef {
            bucket: "trail".into(),
            key: "AWSLogs/1/a b.json.gz".into(),
            version: Some("v1".into()),
        };
        assert_eq!(objects_in(&s3), Ok(vec![want.clone()]));
        let sns = serde_json::json!({"Type": "Notification", "Message": s3.to_string()});
        assert_eq!(objects_in(&sns), Ok(vec![want]));
        let eb = serde_json::json!({"detail-type": "Object Created", "source": "aws.s3",
            "detail": {"bucket": {"name": "trail"}, "object": {"key": "AWSLogs/1/a+b.json.gz"}}});
        assert_eq!(
            objects_in(&eb).expect("objects")[0].key,
            "AWSLogs/1/a+b.json.gz"
        );
        assert_eq!(
            objects_in(&serde_json::json!({"Event": "s3:TestEvent"})),
            Ok(vec![])
        );
        assert!(objects_in(&serde_json::json!({"Records": [{"eventSource": "aws:sqs"}]})).is_err());
        assert!(objects_in(&serde_json::json!({"hello": 1})).is_err());
    }

    #[test]
    fn cloudtrail_logs_and_what_is_skipped() {
        let log = "AWSLogs/o-abc123/111122223333/CloudTrail/us-east-1/2026/11/21/111122223333_CloudTrail_us-east-1_20261121T0220Z_Ab12.json.gz";
        assert_eq!(cloudtrail_log(log), Ok(()));
        assert_eq!(cloudtrail_log("AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/21/x_CloudTrail_eu-west-1_1.json.gz"), Ok(()));
        for (key, why) in [
            ("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/21/111122223333_CloudTrail-Digest_us-east-1_t_20261121T0220Z.json.gz", "digest"),
            ("AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2026/11/21/x.json.gz", "Insights"),
            ("AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/21/notes.txt", "not a JSON"),
            ("other/file.json.gz", "not under"),
        ] {
            assert!(cloudtrail_log(key).expect_err(key).contains(why), "{key}");
        }
    }
}
