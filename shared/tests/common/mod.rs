//! CloudTrail records for tests, shaped like what CloudTrail writes today.
#![allow(dead_code)] // each test crate uses its own subset

use serde_json::{json, Value};

/// A management event shaped like current CloudTrail (1.08): nulls, arrays, booleans and a
/// nested `sessionContext`. `overrides` replaces top-level keys; `null` removes one.
pub fn trail(overrides: Value) -> String {
    let mut base = json!({
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLEPRINCIPAL",
            "arn": "arn:aws:iam::111122223333:user/alice",
            "accountId": "111122223333",
            "accessKeyId": "ASIAEXAMPLEKEY",
            "userName": "alice",
            "sessionContext": {
                "sessionIssuer": {},
                "webIdFederationData": {},
                "attributes": {"creationDate": "2026-11-20T09:12:01Z", "mfaAuthenticated": "false"}
            }
        },
        "eventTime": "2026-11-20T09:15:42Z",
        "eventSource": "iam.amazonaws.com",
        "eventName": "ListUsers",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64",
        "requestParameters": null,
        "responseElements": null,
        "requestID": "1c7d6a3e-0f4b-4b8e-9e0c-5b1f6b9d2a11",
        "eventID": "6f1b7f40-2c1e-4d5f-9a3b-8e2c7d6a5b4c",
        "readOnly": true,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": "111122223333",
        "eventCategory": "Management",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": "iam.amazonaws.com"},
        "resources": []
    });
    let (Value::Object(b), Value::Object(o)) = (&mut base, overrides) else {
        panic!("objects expected")
    };
    for (k, v) in o {
        if v.is_null() {
            b.remove(&k);
        } else {
            b.insert(k, v);
        }
    }
    base.to_string()
}

pub fn call(source: &str, name: &str) -> String {
    trail(json!({"eventSource": source, "eventName": name, "readOnly": false}))
}

/// The documented console sign-in records ([CT] sign-in event reference), as CloudTrail writes them.
pub fn sign_in(identity: Value, result: &str, extra: Value) -> String {
    let mut ov = json!({
        "eventSource": "signin.amazonaws.com",
        "eventName": "ConsoleLogin",
        "userIdentity": identity,
        "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
        "requestParameters": null,
        "responseElements": {"ConsoleLogin": result},
        "requestID": null,
        "eventType": "AwsConsoleSignIn",
        "readOnly": false
    });
    if let (Value::Object(o), Value::Object(e)) = (&mut ov, extra) {
        o.extend(e);
    }
    trail(ov)
}

pub fn iam_user() -> Value {
    json!({"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": "arn:aws:iam::111122223333:user/alice", "accountId": "111122223333", "userName": "alice"})
}
