//! A small stand-in for CloudWatch Logs' `TestMetricFilter` (moto does not implement it):
//! it speaks the API's JSON protocol on 127.0.0.1 and answers with the verdicts a test gives
//! it, so that `iamwatch test-pattern --compare-aws` is tested on the requests it really sends
//! and the answers AWS really gives. It checks each request as CloudWatch would (the target,
//! at most 50 non-empty messages) and refuses the others with CloudWatch's error.

use crate::faults::read_request;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::runtime::Runtime;

/// Decides a message: `None` for no match, else the fields extracted.
pub type Judge = dyn Fn(&str, &str) -> Option<Value> + Send + Sync;

/// The batches received: (pattern, messages).
pub type Requests = Arc<Mutex<Vec<(String, Vec<String>)>>>;

pub struct TestMetricFilter {
    pub endpoint: String,
    pub requests: Requests,
}

impl TestMetricFilter {
    /// Serves on `rt`; `judge(pattern, message)` gives each verdict.
    pub fn start(rt: &Runtime, judge: Box<Judge>) -> TestMetricFilter {
        let listener = rt
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("a port");
        let endpoint = format!("http://{}", listener.local_addr().expect("address"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let judge: Arc<Judge> = Arc::from(judge);
        let seen = requests.clone();
        rt.spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let (judge, seen) = (judge.clone(), seen.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    while let Some(req) = read_request(&mut s, &mut buf).await {
                        let (status, body) = answer(&req, &*judge, &seen);
                        let reason = if status == 200 { "OK" } else { "Bad Request" };
                        let head = format!(
                            "HTTP/1.1 {status} {reason}\r\nContent-Type: application/x-amz-json-1.1\r\n\
                             x-amzn-RequestId: 00000000-0000-0000-0000-000000000000\r\nContent-Length: {}\r\n\r\n",
                            body.len()
                        );
                        if s.write_all(head.as_bytes()).await.is_err()
                            || s.write_all(body.as_bytes()).await.is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        TestMetricFilter { endpoint, requests }
    }

    pub fn batches(&self) -> Vec<usize> {
        self.requests
            .lock()
            .expect("requests")
            .iter()
            .map(|(_, m)| m.len())
            .collect()
    }
}

fn answer(
    req: &crate::faults::Request,
    judge: &Judge,
    seen: &Mutex<Vec<(String, Vec<String>)>>,
) -> (u16, String) {
    let invalid = |m: &str| {
        (
            400,
            json!({"__type": "InvalidParameterException", "message": m}).to_string(),
        )
    };
    if req.header("x-amz-target") != Some("Logs_20140328.TestMetricFilter") {
        return invalid("this stand-in speaks TestMetricFilter only");
    }
    let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
        return invalid("the body is not JSON");
    };
    let pattern = body["filterPattern"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let messages: Vec<String> = body["logEventMessages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| m.as_str().unwrap_or_default().to_string())
        .collect();
    if messages.is_empty() || messages.len() > 50 || messages.iter().any(String::is_empty) {
        return invalid("logEventMessages must hold 1 to 50 non-empty messages");
    }
    let matches: Vec<Value> = messages
        .iter()
        .enumerate()
        .filter_map(|(i, m)| {
            judge(&pattern, m).map(|fields| {
                json!({"eventNumber": i + 1, "eventMessage": m, "extractedValues": fields})
            })
        })
        .collect();
    seen.lock().expect("requests").push((pattern, messages));
    (200, json!({ "matches": matches }).to_string())
}
