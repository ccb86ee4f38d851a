//! Arbitrary bytes as the triggers the handlers decode: S3, SQS, SNS and EventBridge
//! notifications and S3 keys (the s3-cloudtrail function), Code Engine requests (COS and Kafka
//! CloudEvents in binary and structured mode, webhook bodies) and OpenWhisk activations (the
//! IBM function). Decoding must never panic, and what it accepts must be usable.

use iamwatch::codeengine::{
    activation, classify, cos_object, Request, COS_DELETE, COS_WRITE, KAFKA,
};
use iamwatch::ingest::object::{cloudtrail_log, decode_key, objects_in};

/// One input of the target.
pub fn run(data: &[u8]) {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Ok(objects) = objects_in(&v) {
            for o in objects {
                assert!(!o.bucket.is_empty(), "an object without a bucket: {o:?}");
                let _ = cloudtrail_log(&o.key);
            }
        }
        let _ = cos_object(&v);
        let _ = activation(v);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let key = decode_key(text);
        let _ = cloudtrail_log(&key);
    }
    // The first byte picks the headers; the rest is the body.
    let (head, body) = data.split_first().map_or((0, &[][..]), |(h, b)| (*h, b));
    let ce_type = [
        None,
        Some(COS_WRITE),
        Some(COS_DELETE),
        Some(KAFKA),
        Some("other"),
    ][usize::from(head % 5)];
    let content_type = [
        None,
        Some("application/cloudevents+json; charset=utf-8"),
        Some("application/json"),
    ][usize::from(head / 5 % 3)];
    if let Ok(Request::Object(o)) = classify(ce_type, content_type, body.to_vec()) {
        assert!(!o.bucket.is_empty(), "an object without a bucket: {o:?}");
    }
}
