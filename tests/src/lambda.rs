//! A Lambda Runtime API on 127.0.0.1, and a real handler binary running against it: the
//! binary polls `GET /2018-06-01/runtime/invocation/next` as it does on AWS, and answers on
//! `.../response` or `.../error`.
//!
//! The server speaks just enough HTTP/1.1 for the runtime client (keep-alive, bodies with a
//! `Content-Length`), one thread per connection.

use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How a handler answered one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The response body.
    Ok(String),
    /// `Lambda-Runtime-Function-Error-Type` and the error body.
    Error { kind: String, body: String },
}

impl Answer {
    pub fn is_ok(&self) -> bool {
        matches!(self, Answer::Ok(_))
    }

    /// The response as JSON (panics on an error answer).
    pub fn json(&self) -> Value {
        match self {
            Answer::Ok(body) => serde_json::from_str(body).expect("a JSON response"),
            Answer::Error { kind, body } => panic!("the handler failed: {kind}: {body}"),
        }
    }
}

#[derive(Default)]
struct Queue {
    pending: VecDeque<(String, String, u64)>,
    answers: HashMap<String, Answer>,
    init_error: Option<String>,
    /// Requests for the next invocation seen (the first one: the handler is ready).
    polls: u64,
}

struct Shared {
    queue: Mutex<Queue>,
    changed: Condvar,
}

/// The Runtime API server.
pub struct RuntimeApi {
    pub addr: String,
    shared: Arc<Shared>,
    next_id: Mutex<u64>,
}

impl RuntimeApi {
    pub fn start() -> RuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port on 127.0.0.1");
        let addr = listener.local_addr().expect("its address").to_string();
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            changed: Condvar::new(),
        });
        let serving = Arc::clone(&shared);
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let shared = Arc::clone(&serving);
                std::thread::spawn(move || serve(conn, &shared));
            }
        });
        RuntimeApi {
            addr,
            shared,
            next_id: Mutex::new(0),
        }
    }

    /// Queues `payload` with `timeout` for the handler to answer, and waits for its answer
    /// (at most `timeout` plus 30 s).
    pub fn invoke(&self, payload: &str, timeout: Duration) -> Answer {
        let id = {
            let mut n = self.next_id.lock().expect("lock");
            *n += 1;
            format!("req-{n:04}")
        };
        let deadline_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_millis() as u64
            + timeout.as_millis() as u64;
        let mut q = self.shared.queue.lock().expect("lock");
        q.pending
            .push_back((id.clone(), payload.to_string(), deadline_ms));
        self.shared.changed.notify_all();
        let give_up = Instant::now() + timeout + Duration::from_secs(30);
        loop {
            if let Some(a) = q.answers.remove(&id) {
                return a;
            }
            if let Some(e) = &q.init_error {
                panic!("the handler failed to start: {e}");
            }
            let left = give_up.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "no answer to {id}");
            q = self.shared.changed.wait_timeout(q, left).expect("lock").0;
        }
    }

    /// Waits until the handler asks for its first invocation (it is ready), or its start
    /// failed; the error it reported then.
    pub fn ready(&self, within: Duration) -> Result<(), String> {
        let give_up = Instant::now() + within;
        let mut q = self.shared.queue.lock().expect("lock");
        loop {
            if let Some(e) = &q.init_error {
                return Err(e.clone());
            }
            if q.polls > 0 {
                return Ok(());
            }
            let left = give_up.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err("the handler did not ask for an invocation".into());
            }
            q = self.shared.changed.wait_timeout(q, left).expect("lock").0;
        }
    }
}

/// One connection: requests one after another.
fn serve(conn: TcpStream, shared: &Shared) {
    let mut out = match conn.try_clone() {
        Ok(c) => c,
        Err(_) => return,
    };
    let mut reader = BufReader::new(conn);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, path) = (
            parts.next().unwrap_or("").to_string(),
            parts.next().unwrap_or("").to_string(),
        );
        let mut headers = HashMap::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let body = String::from_utf8_lossy(&body).into_owned();
        let reply = route(&method, &path, &headers, body, shared);
        if out.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

fn route(
    method: &str,
    path: &str,
    headers: &HashMap<String, String>,
    body: String,
    shared: &Shared,
) -> String {
    let rest = path.strip_prefix("/2018-06-01/runtime/").unwrap_or("");
    let accepted = "HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\n{}".to_string();
    let mut q = shared.queue.lock().expect("lock");
    match (method, rest) {
        ("GET", "invocation/next") => {
            q.polls += 1;
            shared.changed.notify_all();
            // Long poll, as Lambda does: the answer is the next invocation.
            let (id, payload, deadline) = loop {
                if let Some(next) = q.pending.pop_front() {
                    break next;
                }
                q = shared.changed.wait(q).expect("lock");
            };
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                 lambda-runtime-aws-request-id: {id}\r\n\
                 lambda-runtime-deadline-ms: {deadline}\r\n\
                 lambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:111122223333:function:iamwatch\r\n\
                 lambda-runtime-trace-id: Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1\r\n\
                 content-length: {}\r\n\r\n{payload}",
                payload.len()
            )
        }
        ("POST", "init/error") => {
            q.init_error = Some(body);
            shared.changed.notify_all();
            accepted
        }
        ("POST", r) if r.starts_with("invocation/") => {
            let mut seg = r["invocation/".len()..].splitn(2, '/');
            let id = seg.next().unwrap_or("").to_string();
            let answer = match seg.next() {
                Some("response") => Answer::Ok(body),
                _ => Answer::Error {
                    kind: headers
                        .get("lambda-runtime-function-error-type")
                        .cloned()
                        .unwrap_or_default(),
                    body,
                },
            };
            q.answers.insert(id, answer);
            shared.changed.notify_all();
            accepted
        }
        _ => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n".to_string(),
    }
}

/// A handler binary of this build (`cargo build --workspace` builds them; `scripts/test` runs
/// it before the tests).
pub fn function_bin(name: &str) -> PathBuf {
    let bin = crate::iamwatch_bin().with_file_name(name);
    assert!(
        bin.exists(),
        "{} is missing: build the handlers first (cargo build --workspace)",
        bin.display()
    );
    bin
}

/// A handler process against its own Runtime API; stopped on drop.
pub struct Function {
    pub api: RuntimeApi,
    child: Child,
    log: PathBuf,
    /// The secret values the process was given: none may appear in what it writes.
    secrets: Vec<String>,
}

impl Function {
    /// Starts handler `name` with `env` (besides the Lambda and AWS variables) and waits
    /// until it asks for its first invocation.
    pub fn start(name: &str, endpoint: &str, env: &[(&str, &str)]) -> Function {
        let f = Self::spawn(name, endpoint, env);
        if let Err(e) = f.api.ready(Duration::from_secs(20)) {
            panic!("{name} did not start: {e}\n{}", f.output());
        }
        f
    }

    /// Starts handler `name` without waiting for it.
    pub fn spawn(name: &str, endpoint: &str, env: &[(&str, &str)]) -> Function {
        let api = RuntimeApi::start();
        let log = std::env::temp_dir().join(format!(
            "iamwatch-{name}-{}-{}.log",
            std::process::id(),
            api.addr.replace([':', '.'], "-")
        ));
        let out = std::fs::File::create(&log).expect("a log file");
        let err = out.try_clone().expect("a log file");
        let mut cmd = Command::new(function_bin(name));
        crate::app::base_env(&mut cmd, endpoint)
            .env("AWS_LAMBDA_RUNTIME_API", &api.addr)
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Function {
            api,
            child,
            log,
            secrets: crate::secrets_in(env),
        }
    }

    /// Everything the process wrote so far (stdout and stderr).
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The EMF metric lines written so far, parsed.
    pub fn metrics(&self) -> Vec<Value> {
        self.output()
            .lines()
            .filter(|l| l.contains("\"_aws\""))
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// The process's exit, when it has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The process's peak resident set so far, in KiB (`VmHWM`), while it runs.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        crate::peak_rss_kib(self.child.id())
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let output = self.output();
        let _ = std::fs::remove_file(&self.log);
        if std::thread::panicking() {
            eprintln!("the handler wrote:\n{output}");
        } else {
            crate::assert_no_secrets(&output, &self.secrets);
        }
    }
}
