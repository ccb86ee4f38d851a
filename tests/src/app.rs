//! The IBM handler as Code Engine runs it: the real binary serving HTTP on a free port of
//! 127.0.0.1, and a small HTTP/1.1 client that writes requests byte for byte (so a test can
//! send what a client library would refuse to: no content length, a chunked body).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const SECRET: &str = "test-secret-0123456789abcdef";

/// The handler's process; killed on drop. It is a [`Client`] of itself.
pub struct App {
    child: Child,
    client: Client,
    log: PathBuf,
    /// The secret values the process was given: none may appear in what it writes.
    secrets: Vec<String>,
}

/// Requests to the app on `127.0.0.1:port`.
#[derive(Debug, Clone, Copy)]
pub struct Client {
    pub port: u16,
}

impl std::ops::Deref for App {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

impl App {
    /// Starts `ibm-activity-tracker` against the AWS endpoint `endpoint` (SNS, and COS's S3
    /// API unless `env` says otherwise) and waits until `/healthz` answers.
    pub fn start(endpoint: &str, env: &[(&str, &str)]) -> App {
        let port = crate::free_port();
        let log =
            std::env::temp_dir().join(format!("iamwatch-ibm-{}-{port}.log", std::process::id()));
        let out = std::fs::File::create(&log).expect("a log file");
        let err = out.try_clone().expect("a log file");
        let mut cmd = Command::new(crate::lambda::function_bin("ibm-activity-tracker"));
        cmd.args(["--bind", "127.0.0.1"]);
        base_env(&mut cmd, endpoint)
            .env("PORT", port.to_string())
            .env("IAMWATCH_WEBHOOK_SECRET", SECRET);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("the handler starts");
        let mut secrets = crate::secrets_in(env);
        secrets.push(SECRET.to_string());
        let mut app = App {
            secrets,
            child,
            client: Client { port },
            log,
        };
        let started = Instant::now();
        loop {
            if let Ok(a) = app.request("GET", "/healthz", &[], b"") {
                if a.status == 200 {
                    return app;
                }
            }
            if let Ok(Some(status)) = app.child.try_wait() {
                panic!("the handler exited at start ({status}):\n{}", app.output());
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the handler did not answer /healthz:\n{}",
                app.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGTERM, as Code Engine does when it scales an instance down.
    pub fn terminate(&self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -TERM failed");
    }

    /// Waits for the process to exit.
    pub fn wait(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let started = Instant::now();
        while started.elapsed() < within {
            if let Ok(Some(s)) = self.child.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Everything the process wrote so far.
    /// The process's peak resident set so far, in KiB (`VmHWM`), while it runs.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        crate::peak_rss_kib(self.child.id())
    }

    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Client {
    /// `POST /` with the secret and `headers`.
    pub fn post(&self, headers: &[(&str, &str)], body: &[u8]) -> Answer {
        let auth = format!("Bearer {SECRET}");
        let mut all = vec![("Authorization", auth.as_str())];
        all.extend_from_slice(headers);
        self.request("POST", "/", &all, body)
            .unwrap_or_else(|e| panic!("POST / failed: {e}"))
    }

    /// One request on a fresh connection, with a content length.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<Answer> {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        let mut raw = head.into_bytes();
        raw.extend_from_slice(body);
        self.send(&raw)
    }

    /// Writes `raw` as it is and reads the answer.
    pub fn send(&self, raw: &[u8]) -> std::io::Result<Answer> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port))?;
        s.set_read_timeout(Some(Duration::from_secs(60)))?;
        // The server may answer (413) and close before it read everything: a write error
        // then is not the test's failure, the answer is.
        let _ = s.write_all(raw);
        let mut got = Vec::new();
        s.read_to_end(&mut got)?;
        let text = String::from_utf8_lossy(&got).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("no HTTP answer: {text:?}")))?;
        Ok(Answer {
            status,
            headers: head.to_ascii_lowercase(),
            body: body.to_string(),
        })
    }
}

impl Drop for App {
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

/// The environment every handler process of the tests gets (the Lambda ones too): nothing of
/// the test's own but `PATH`, AWS pointed at `endpoint` with test credentials, quick retries.
pub fn base_env<'c>(cmd: &'c mut Command, endpoint: &str) -> &'c mut Command {
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_REGION", crate::REGION)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", crate::AWS_SECRET)
        .env("IAMWATCH_RETRY_BASE_MS", "10")
}
