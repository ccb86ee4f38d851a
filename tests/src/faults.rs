//! A fault-injecting HTTP proxy in front of the moto server. Our code talks to the proxy as
//! to AWS; the proxy answers the next requests of a service with the faults it was told to
//! inject (throttling, 500s, stalls, a `PublishBatch` that fails some entries) and forwards
//! everything else to moto unchanged. Nothing of our code is mocked: what it sees is what AWS
//! sends when it throttles or fails.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Sns,
    DynamoDb,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 400 with the service's throttling error.
    Throttle,
    /// 500 with the service's internal error.
    ServerError,
    /// No answer for this long, then the connection is closed.
    Stall(Duration),
    /// The request is forwarded after this long: a slow service, not a failing one.
    Delay(Duration),
    /// A `PublishBatch` whose entries after the first `keep` fail with `InternalError`
    /// (not the sender's fault); the kept entries go to moto. Other requests pass.
    PartialBatch { keep: usize },
    /// The answer's head and only its first `after` body bytes, then the connection closes:
    /// a read that fails mid-object.
    CutBody { after: usize },
}

/// One request the proxy saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub service: Service,
    pub operation: String,
    pub fault: Option<Fault>,
}

#[derive(Default)]
struct Plan {
    next: Vec<(Service, VecDeque<Fault>)>,
    always: Vec<(Service, Fault)>,
    seen: Vec<Seen>,
    /// The `Message` of every SNS publish passed on unfaulted, as sent.
    published: Vec<String>,
}

impl Plan {
    fn fault_for(&mut self, service: Service) -> Option<Fault> {
        if let Some((_, f)) = self.always.iter().find(|(s, _)| *s == service) {
            return Some(*f);
        }
        self.next
            .iter_mut()
            .find(|(s, q)| *s == service && !q.is_empty())
            .and_then(|(_, q)| q.pop_front())
    }
}

pub struct Proxy {
    pub endpoint: String,
    plan: Arc<Mutex<Plan>>,
}

impl Proxy {
    /// A proxy to `upstream` (`http://127.0.0.1:PORT`), served on `rt`.
    pub fn start(rt: &Runtime, upstream: &str) -> Proxy {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let plan = Arc::new(Mutex::new(Plan::default()));
        let listener = rt
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("a proxy port");
        let endpoint = format!("http://{}", listener.local_addr().expect("proxy address"));
        let p = plan.clone();
        rt.spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(serve(client, upstream.clone(), p.clone()));
            }
        });
        Proxy { endpoint, plan }
    }

    /// The next requests to `service` get `faults`, one each, in order.
    pub fn fail_next(&self, service: Service, faults: impl IntoIterator<Item = Fault>) {
        let mut p = self.plan.lock().expect("plan");
        p.next.push((service, faults.into_iter().collect()));
    }

    /// Every request to `service` gets `fault` until [`Proxy::heal`].
    pub fn fail_always(&self, service: Service, fault: Fault) {
        self.plan
            .lock()
            .expect("plan")
            .always
            .push((service, fault));
    }

    pub fn heal(&self) {
        let mut p = self.plan.lock().expect("plan");
        p.always.clear();
        p.next.clear();
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.plan.lock().expect("plan").seen.clone()
    }

    /// Requests to `service` for `operation`, faulted or not.
    pub fn count(&self, service: Service, operation: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.service == service && s.operation == operation)
            .count()
    }

    /// The messages published to SNS through the proxy (not faulted), as our code wrote
    /// them: with `MessageStructure=json`, an object of one text per protocol.
    pub fn published(&self) -> Vec<serde_json::Value> {
        self.plan
            .lock()
            .expect("plan")
            .published
            .iter()
            .map(|m| serde_json::from_str(m).unwrap_or(serde_json::Value::String(m.clone())))
            .collect()
    }

    /// Requests that got a fault.
    pub fn faulted(&self) -> usize {
        self.seen().iter().filter(|s| s.fault.is_some()).count()
    }
}

pub(crate) struct Request {
    head: Vec<String>,
    pub(crate) body: Vec<u8>,
}

impl Request {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.head.iter().skip(1).find_map(|h| {
            let (k, v) = h.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    fn service_and_operation(&self) -> (Service, String) {
        if let Some(target) = self.header("x-amz-target") {
            let op = target.rsplit('.').next().unwrap_or(target).to_string();
            let service = if target.starts_with("DynamoDB") {
                Service::DynamoDb
            } else {
                Service::Other
            };
            return (service, op);
        }
        let body = String::from_utf8_lossy(&self.body);
        match body.split('&').find_map(|kv| kv.strip_prefix("Action=")) {
            Some(action) if body.contains("Version=2010-03-31") => {
                (Service::Sns, action.to_string())
            }
            Some(action) => (Service::Other, action.to_string()),
            None => (Service::Other, String::new()),
        }
    }
}

/// Reads one HTTP/1.1 request (headers and a `Content-Length` body); `None` at EOF.
pub(crate) async fn read_request(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Request> {
    loop {
        if let Some(end) = find(buf, b"\r\n\r\n") {
            let head_text = String::from_utf8_lossy(&buf[..end]).to_string();
            let head: Vec<String> = head_text.split("\r\n").map(str::to_string).collect();
            let len = head
                .iter()
                .skip(1)
                .find_map(|h| {
                    let (k, v) = h.split_once(':')?;
                    k.trim()
                        .eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let mut chunk = [0u8; 65536];
                let n = s.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let body = buf[end + 4..end + 4 + len].to_vec();
            buf.drain(..end + 4 + len);
            return Some(Request { head, body });
        }
        let mut chunk = [0u8; 65536];
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The `Message` parameters of a form-encoded SNS `Publish` or `PublishBatch`, decoded.
fn messages(body: &[u8]) -> Vec<String> {
    let body = String::from_utf8_lossy(body);
    body.split('&')
        .filter_map(|kv| kv.split_once('='))
        .filter(|(k, _)| *k == "Message" || k.ends_with(".Message"))
        .map(|(_, v)| percent_decode(v))
        .collect()
}

fn percent_decode(v: &str) -> String {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(c) => {
                        out.push(c);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

struct Response {
    status: String,
    headers: Vec<String>,
    body: Vec<u8>,
}

impl Response {
    fn new(code: u16, reason: &str, content_type: &str, body: String) -> Self {
        Self {
            status: format!("HTTP/1.1 {code} {reason}"),
            headers: vec![format!("Content-Type: {content_type}")],
            body: body.into_bytes(),
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = self.status.clone();
        out.push_str("\r\n");
        for h in &self.headers {
            out.push_str(h);
            out.push_str("\r\n");
        }
        out.push_str(&format!("Content-Length: {}\r\n\r\n", self.body.len()));
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

fn fault_response(service: Service, fault: Fault) -> Response {
    let throttle = fault == Fault::Throttle;
    match service {
        Service::DynamoDb => {
            let (code, reason, kind, msg) = if throttle {
                (
                    400,
                    "Bad Request",
                    "ThrottlingException",
                    "Rate of requests exceeds the allowed throughput.",
                )
            } else {
                (
                    500,
                    "Internal Server Error",
                    "InternalServerError",
                    "Internal server error (injected)",
                )
            };
            Response::new(
                code,
                reason,
                "application/x-amz-json-1.0",
                format!(
                    "{{\"__type\":\"com.amazonaws.dynamodb.v20120810#{kind}\",\"message\":\"{msg}\"}}"
                ),
            )
        }
        _ => {
            let (code, reason, kind, ty, msg) = if throttle {
                (400, "Bad Request", "Throttling", "Sender", "Rate exceeded")
            } else {
                (
                    500,
                    "Internal Server Error",
                    "InternalError",
                    "Receiver",
                    "Internal error (injected)",
                )
            };
            Response::new(
                code,
                reason,
                "text/xml",
                format!(
                    "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error>\
                     <Type>{ty}</Type><Code>{kind}</Code><Message>{msg}</Message></Error>\
                     <RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
                ),
            )
        }
    }
}

/// A header line's name, lower-cased.
fn header_name(line: &str) -> String {
    line.split(':')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Sends `req` (with `body`) to moto on a fresh connection and reads the whole answer.
async fn forward(upstream: &str, req: &Request, body: &[u8]) -> Option<Response> {
    let mut up = TcpStream::connect(upstream).await.ok()?;
    let mut head = req.head[0].clone();
    head.push_str("\r\n");
    for h in req.head.iter().skip(1) {
        let name = header_name(h);
        if name == "connection" || name == "content-length" {
            continue;
        }
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str(&format!(
        "Connection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    ));
    up.write_all(head.as_bytes()).await.ok()?;
    up.write_all(body).await.ok()?;
    let mut raw = Vec::new();
    up.read_to_end(&mut raw).await.ok()?;
    let end = find(&raw, b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..end]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.to_string();
    let mut chunked = false;
    let mut headers = Vec::new();
    for h in lines {
        match header_name(h).as_str() {
            "transfer-encoding" => chunked = h.to_ascii_lowercase().contains("chunked"),
            "connection" | "content-length" => {}
            _ => headers.push(h.to_string()),
        }
    }
    let mut body = raw[end + 4..].to_vec();
    if chunked {
        body = dechunk(&body)?;
    }
    Some(Response {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = find(data, b"\r\n")?;
        let size_text = String::from_utf8_lossy(&data[..line_end]).to_string();
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

/// Splits a `PublishBatch` form body: the body with the entries after the first `keep`
/// removed, and the ids of the removed entries.
fn keep_entries(body: &[u8], keep: usize) -> (Vec<u8>, Vec<String>) {
    let text = String::from_utf8_lossy(body);
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for pair in text.split('&') {
        let member = pair
            .strip_prefix("PublishBatchRequestEntries.member.")
            .and_then(|rest| rest.split('.').next())
            .and_then(|n| n.parse::<usize>().ok());
        match member {
            Some(n) if n > keep => {
                if let Some(id) = pair.split_once(".Id=").map(|(_, v)| v) {
                    dropped.push(id.to_string());
                }
            }
            _ => kept.push(pair),
        }
    }
    (kept.join("&").into_bytes(), dropped)
}

/// Adds failed entries for `ids` to a `PublishBatch` answer.
fn add_failed(body: &[u8], ids: &[String]) -> Vec<u8> {
    let members: String = ids
        .iter()
        .map(|id| {
            format!(
                "<member><Id>{id}</Id><Code>InternalError</Code>\
                 <Message>Internal error (injected)</Message><SenderFault>false</SenderFault></member>"
            )
        })
        .collect();
    let text = String::from_utf8_lossy(body).to_string();
    let out = if text.contains("<Failed>") {
        text.replacen("<Failed>", &format!("<Failed>{members}"), 1)
    } else if text.contains("<Failed/>") {
        text.replacen("<Failed/>", &format!("<Failed>{members}</Failed>"), 1)
    } else {
        text.replacen(
            "</PublishBatchResult>",
            &format!("<Failed>{members}</Failed></PublishBatchResult>"),
            1,
        )
    };
    out.into_bytes()
}

async fn serve(mut client: TcpStream, upstream: String, plan: Arc<Mutex<Plan>>) {
    let mut buf = Vec::new();
    while let Some(req) = read_request(&mut client, &mut buf).await {
        let (service, operation) = req.service_and_operation();
        let fault = {
            let mut p = match plan.lock() {
                Ok(p) => p,
                Err(p) => p.into_inner(),
            };
            let mut fault = p.fault_for(service);
            if matches!(fault, Some(Fault::PartialBatch { .. })) && operation != "PublishBatch" {
                // Only batches can fail in part; a single publish passes and the fault
                // waits for the next batch.
                if let Some(f) = fault.take() {
                    if let Some((_, q)) = p.next.iter_mut().find(|(s, _)| *s == service) {
                        q.push_front(f);
                    }
                }
            }
            p.seen.push(Seen {
                service,
                operation: operation.clone(),
                fault,
            });
            if service == Service::Sns && fault.is_none() {
                p.published.extend(messages(&req.body));
            }
            fault
        };
        let response = match fault {
            Some(Fault::Stall(d)) => {
                tokio::time::sleep(d).await;
                return;
            }
            Some(Fault::Delay(d)) => {
                tokio::time::sleep(d).await;
                match forward(&upstream, &req, &req.body).await {
                    Some(r) => r,
                    None => return,
                }
            }
            Some(Fault::PartialBatch { keep }) => {
                let (body, dropped) = keep_entries(&req.body, keep);
                match forward(&upstream, &req, &body).await {
                    Some(mut r) => {
                        r.body = add_failed(&r.body, &dropped);
                        r
                    }
                    None => return,
                }
            }
            Some(Fault::CutBody { after }) => {
                if let Some(r) = forward(&upstream, &req, &req.body).await {
                    let whole = r.bytes();
                    let body_at = find(&whole, b"\r\n\r\n").map_or(whole.len(), |e| e + 4);
                    let cut = (body_at + after).min(whole.len());
                    let _ = client.write_all(&whole[..cut]).await;
                }
                return;
            }
            Some(f) => fault_response(service, f),
            None => match forward(&upstream, &req, &req.body).await {
                Some(r) => r,
                None => return,
            },
        };
        if client.write_all(&response.bytes()).await.is_err() {
            return;
        }
    }
}
