//! The end-to-end harness: a moto server as the local AWS endpoint, AWS clients pointed at
//! it, a topic with an SQS subscription to read what was published, the state table, and a
//! fault-injecting HTTP proxy between our code and moto.
//!
//! The moto server comes from the project's virtual environment (`scripts/test` installs it
//! into `.venv`; `IAMWATCH_MOTO_PYTHON` names another Python that has it). Each test starts
//! its own on a free port of 127.0.0.1 and stops it when it ends. It answers one request at a
//! time (`moto_serial.py`), as atomically as DynamoDB applies a conditional write.

pub mod app;
pub mod faults;
pub mod lambda;
pub mod test_metric_filter;

use aws_config::{Region, SdkConfig};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    TimeToLiveSpecification,
};
use aws_sdk_sns::config::Credentials;
use iamwatch::aws::Retry;
use serde_json::Value;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

pub const REGION: &str = "us-east-1";

/// The AWS secret access key every handler process is given: distinctive, so that a log line
/// holding it is found.
pub const AWS_SECRET: &str = "iamwatch-test-aws-secret-3b7f9c";

/// The values of the settings in `env` that are secrets (by their names), with the AWS key.
pub fn secrets_in(env: &[(&str, &str)]) -> Vec<String> {
    let mut out: Vec<String> = env
        .iter()
        .filter(|(k, v)| {
            let k = k.to_ascii_uppercase();
            v.len() >= 8 && (k.contains("SECRET") || k.contains("TOKEN") || k.contains("PASSWORD"))
        })
        .map(|(_, v)| v.to_string())
        .collect();
    out.push(AWS_SECRET.to_string());
    out
}

/// Process `pid`'s peak resident set so far, in KiB (`VmHWM`), while it runs.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Fails when `output` (everything a handler process wrote) holds a secret or a request
/// signature: logs must never carry them.
pub fn assert_no_secrets(output: &str, secrets: &[String]) {
    for s in secrets {
        assert!(
            !output.contains(s.as_str()),
            "a secret was logged:\n{output}"
        );
    }
    for mark in [
        "Signature=",
        "X-Amz-Signature",
        "AWS4-HMAC-SHA256 Credential",
    ] {
        assert!(
            !output.contains(mark),
            "a request signature was logged:\n{output}"
        );
    }
}

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// The Python that has moto (and the TLS front's `cryptography`): `IAMWATCH_MOTO_PYTHON`, or
/// the project's `.venv`.
fn moto_python() -> PathBuf {
    std::env::var_os("IAMWATCH_MOTO_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv/bin/python"))
}

/// A moto server on a free port, stopped on drop.
pub struct Moto {
    child: Child,
    pub endpoint: String,
    /// What the server wrote (its log), shown when a test using it fails.
    log: PathBuf,
}

impl Moto {
    pub fn start() -> Moto {
        let server = moto_python();
        assert!(
            server.exists(),
            "no Python with moto at {}: run scripts/test, or python3 -m venv .venv && \
             .venv/bin/pip install -r tests/requirements.txt",
            server.display()
        );
        for _ in 0..5 {
            if let Some(moto) = Self::start_on(&server, free_port()) {
                return moto;
            }
        }
        panic!("the moto server did not start (5 ports tried)");
    }

    /// `None` when the server exits at start (its port was taken meanwhile).
    fn start_on(server: &std::path::Path, port: u16) -> Option<Moto> {
        let log =
            std::env::temp_dir().join(format!("iamwatch-moto-{}-{port}.log", std::process::id()));
        let stderr = std::fs::File::create(&log)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", log.display()));
        let child = Command::new(server)
            .arg(root().join("tests/moto_serial.py"))
            .args(["127.0.0.1", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", server.display()));
        let mut moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(_)) = moto.child.try_wait() {
                return None;
            }
            if answers_http(port) {
                // And it must be this server that answers.
                return match moto.child.try_wait() {
                    Ok(None) => Some(moto),
                    _ => None,
                };
            }
            assert!(Instant::now() < deadline, "the moto server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A TLS endpoint in front of a moto server (`tests/tls_front.py`), with a certificate of
/// its own authority, whose certificate is at `ca_file`: the handlers' HTTPS client tested
/// end to end. Stopped on drop.
pub struct TlsFront {
    child: Child,
    /// `https://localhost:PORT`
    pub endpoint: String,
    pub ca_file: PathBuf,
    log: PathBuf,
}

impl TlsFront {
    pub fn start(moto: &Moto) -> TlsFront {
        use std::io::BufRead;
        let python = moto_python();
        let port = free_port();
        let target = moto
            .endpoint
            .rsplit(':')
            .next()
            .unwrap_or_default()
            .to_string();
        let stem = format!("iamwatch-tls-{}-{port}", std::process::id());
        let ca_file = std::env::temp_dir().join(format!("{stem}-ca.pem"));
        let log = std::env::temp_dir().join(format!("{stem}.log"));
        let stderr = std::fs::File::create(&log).expect("a log file");
        let mut child = Command::new(&python)
            .arg(root().join("tests/tls_front.py"))
            .arg(&ca_file)
            .args([port.to_string(), target])
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", python.display()));
        let mut first = String::new();
        if let Some(out) = child.stdout.take() {
            let _ = std::io::BufReader::new(out).read_line(&mut first);
        }
        let front = TlsFront {
            child,
            endpoint: format!("https://localhost:{port}"),
            ca_file,
            log,
        };
        assert_eq!(
            first.trim(),
            "ready",
            "the TLS front did not start: {}",
            front.log()
        );
        front
    }

    /// What the front wrote (refused handshakes among it).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.ca_file);
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Whether an HTTP server answers a request on `port`. Accepting a connection is not
/// enough: a connection to a port nobody listens on yet can connect to itself, when the
/// kernel picks that very port as its source (free ports are ephemeral ones), and a
/// listener that accepts may not be serving yet.
fn answers_http(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    if s.local_addr().ok() == s.peer_addr().ok() {
        return false;
    }
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = [0u8; 7];
    s.write_all(b"GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_ok()
        && s.read_exact(&mut head).is_ok()
        && &head == b"HTTP/1."
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let status = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            eprintln!(
                "moto server at {} ({status:?}) wrote:\n{log}",
                self.endpoint
            );
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A port free now and not handed out before in this process (tests run in parallel).
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port on 127.0.0.1");
        let mut given = GIVEN.lock().unwrap_or_else(|p| p.into_inner());
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// The runtime the engine blocks on: built here, entered from the test thread only through
/// `block_on` (the engine's own calls are synchronous).
pub fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

/// An SDK configuration for `endpoint` with test credentials and `retry`'s budget.
pub fn config(rt: &Runtime, endpoint: &str, retry: &Retry) -> SdkConfig {
    rt.block_on(
        iamwatch::aws::loader(retry)
            .endpoint_url(endpoint)
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
            .load(),
    )
}

/// A quick retry budget for tests: the SDK's own backoff, on a 10 ms base.
pub fn quick_retry(attempts: u32) -> Retry {
    Retry {
        attempts,
        base: Duration::from_millis(10),
        attempt_timeout: Duration::from_secs(2),
    }
}

/// An S3 client for `config` (addressed by path, as a local endpoint needs).
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    )
}

/// Makes `bucket` and puts `objects` (key, body) in it.
pub fn bucket_with(rt: &Runtime, s3: &aws_sdk_s3::Client, bucket: &str, objects: &[(&str, &[u8])]) {
    rt.block_on(async {
        s3.create_bucket()
            .bucket(bucket)
            .send()
            .await
            .expect("bucket");
        for (key, body) in objects {
            s3.put_object()
                .bucket(bucket)
                .key(*key)
                .body(body.to_vec().into())
                .send()
                .await
                .expect("put");
        }
    });
}

/// An SNS topic with an SQS queue subscribed to it.
pub struct Topic {
    pub arn: String,
    pub queue_url: String,
}

pub fn topic_with_queue(rt: &Runtime, config: &SdkConfig, name: &str) -> Topic {
    let sns = aws_sdk_sns::Client::new(config);
    let sqs = aws_sdk_sqs::Client::new(config);
    rt.block_on(async {
        let arn = sns
            .create_topic()
            .name(name)
            .send()
            .await
            .expect("create topic")
            .topic_arn
            .expect("topic arn");
        let queue_url = sqs
            .create_queue()
            .queue_name(format!("{name}-inbox"))
            .send()
            .await
            .expect("create queue")
            .queue_url
            .expect("queue url");
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("queue attributes");
        let queue_arn = attrs
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
            .cloned()
            .expect("queue arn");
        sns.subscribe()
            .topic_arn(&arn)
            .protocol("sqs")
            .endpoint(queue_arn)
            .send()
            .await
            .expect("subscribe");
        Topic { arn, queue_url }
    })
}

/// One SNS notification as the SQS subscriber received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The SNS envelope.
    pub envelope: Value,
    /// The message: for our publishes, the finding as JSON.
    pub message: Value,
}

impl Received {
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.envelope["MessageAttributes"][name]["Value"].as_str()
    }

    pub fn subject(&self) -> Option<&str> {
        self.envelope["Subject"].as_str()
    }
}

/// Everything in the queue now (moto delivers from SNS to SQS synchronously).
pub fn drain(rt: &Runtime, config: &SdkConfig, queue_url: &str) -> Vec<Received> {
    let sqs = aws_sdk_sqs::Client::new(config);
    let mut out = Vec::new();
    rt.block_on(async {
        loop {
            let got = sqs
                .receive_message()
                .queue_url(queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(0)
                .send()
                .await
                .expect("receive");
            let messages = got.messages.unwrap_or_default();
            if messages.is_empty() {
                break;
            }
            for m in messages {
                let envelope: Value =
                    serde_json::from_str(m.body().unwrap_or("")).expect("an SNS envelope");
                let message = serde_json::from_str(envelope["Message"].as_str().unwrap_or(""))
                    .unwrap_or(Value::Null);
                out.push(Received { envelope, message });
                if let Some(h) = m.receipt_handle() {
                    sqs.delete_message()
                        .queue_url(queue_url)
                        .receipt_handle(h)
                        .send()
                        .await
                        .expect("delete");
                }
            }
        }
    });
    out
}

/// The state table as the README documents it: `pk`/`sk` strings, TTL on `ttl`.
pub fn create_state_table(rt: &Runtime, config: &SdkConfig, name: &str) {
    let ddb = aws_sdk_dynamodb::Client::new(config);
    rt.block_on(async {
        let attr = |n: &str| {
            AttributeDefinition::builder()
                .attribute_name(n)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute")
        };
        let key = |n: &str, t: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(n)
                .key_type(t)
                .build()
                .expect("key")
        };
        ddb.create_table()
            .table_name(name)
            .attribute_definitions(attr("pk"))
            .attribute_definitions(attr("sk"))
            .key_schema(key("pk", KeyType::Hash))
            .key_schema(key("sk", KeyType::Range))
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .expect("create table");
        ddb.update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name("ttl")
                    .enabled(true)
                    .build()
                    .expect("ttl"),
            )
            .send()
            .await
            .expect("ttl");
    });
}

/// The `iamwatch` binary of this build (built by `cargo test` for the CLI's own tests).
pub fn iamwatch_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    // target/<profile>/deps/<test> -> target/<profile>/iamwatch
    let bin = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(|p| p.join("iamwatch"))
        .expect("target directory");
    assert!(
        bin.exists(),
        "{} is missing: run the workspace's tests (cargo test), which build it",
        bin.display()
    );
    bin
}

/// `iamwatch` with its AWS configuration pointed at `endpoint`.
pub fn iamwatch(endpoint: &str) -> Command {
    let mut c = Command::new(iamwatch_bin());
    c.env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_REGION", REGION)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
        .env("IAMWATCH_RETRY_BASE_MS", "10")
        .env_remove("AWS_PROFILE")
        .env_remove("IAMWATCH_TOPIC_ARN")
        .env_remove("IAMWATCH_STATE_TABLE")
        .env_remove("IAMWATCH_ALLOWLIST_IAM");
    c
}

/// Every alert the built-in packs raise on the project's example logs, in order (windows
/// and suppression in memory): the findings the delivery tests send.
pub fn example_findings() -> Vec<iamwatch::finding::Finding> {
    use iamwatch::detector::{alerts, Detector};
    use iamwatch::event::Event;
    use iamwatch::ingest::{self, Format, Item};
    use iamwatch::window::MemoryStore;
    let packs = iamwatch::packs::all().expect("built-in packs");
    let detector = Detector::new(&packs);
    let mut store = MemoryStore::default();
    let mut out = Vec::new();
    for file in [
        "examples/cloudtrail/events.jsonl",
        "examples/cloudtrail/111122223333_CloudTrail_us-east-1_20261121T0220Z_intrusion.json.gz",
        "examples/eventbridge/attach-role-policy.json",
        "examples/awslogs/subscription-event.json",
        "examples/ibm/activity-tracker-events.jsonl",
    ] {
        let f = std::fs::File::open(root().join(file)).expect("example file");
        ingest::read(f, Format::Auto, &mut |item| {
            if let Item::Record { value, .. } = item {
                let Ok(event) = Event::new(value) else { return };
                let fired = detector.fire(&event, &mut store).expect("memory store");
                let (mut found, _) = alerts(fired, &event, &mut store).expect("memory store");
                out.append(&mut found);
            }
        })
        .expect("readable example");
    }
    out
}

/// `(rule, event_id)` of a finding's JSON.
pub fn identity(finding: &Value) -> (String, String) {
    (
        finding["rule"].as_str().unwrap_or_default().to_string(),
        finding["event_id"].as_str().unwrap_or_default().to_string(),
    )
}
