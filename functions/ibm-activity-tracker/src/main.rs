//! IBM Cloud Activity Tracker events -> iamwatch -> Amazon SNS.
//!
//! Two ways to run (see `--help`):
//! - **a Code Engine app** (the default): an HTTP server on `$PORT`. `POST /` takes a COS
//!   event subscription CloudEvent (the object is read through COS's S3 API), a Kafka
//!   subscription CloudEvent (one event per message), or a plain body of events (an event,
//!   an array, JSON lines, an Event Notifications alert). Every request but `GET /healthz`
//!   carries `Authorization: Bearer $IAMWATCH_WEBHOOK_SECRET`. An answer of 503 means a retry
//!   may succeed (SNS or the object store unreachable): event sources retry it, and the retry
//!   sends only the alerts that were not delivered. SIGTERM stops taking requests and finishes
//!   those in flight.
//! - **an Apache OpenWhisk action** (`--openwhisk`): the action loop protocol, one activation
//!   per line on stdin, its result as one line on file descriptor 3.

use axum::body::{to_bytes, Body};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use iamwatch::codeengine::{self, Secret, Settings};
use iamwatch::engine::Outcome;
use iamwatch::service::{stop_by, Service};
use serde_json::{json, Value};
use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

const FUNCTION: &str = "ibm-activity-tracker";

const HELP: &str = "\
ibm-activity-tracker: iamwatch for IBM Cloud Activity Tracker events

Usage: ibm-activity-tracker [--bind ADDRESS]   serve HTTP on ADDRESS:$PORT (0.0.0.0:8080)
       ibm-activity-tracker --openwhisk        run as an Apache OpenWhisk action (action loop)

HTTP: POST / takes a COS or Kafka subscription CloudEvent, an Event Notifications alert, or
events (one, an array, JSON lines); GET /healthz answers without authentication. Every
other request needs `Authorization: Bearer $IAMWATCH_WEBHOOK_SECRET` (a Code Engine
subscription, which cannot set it, sends it as the CloudEvents extension `iamwatchtoken`).

Settings (environment): IAMWATCH_WEBHOOK_SECRET, IAMWATCH_MAX_BODY_BYTES,
IAMWATCH_COS_ENDPOINT, IAMWATCH_COS_ACCESS_KEY_ID, IAMWATCH_COS_SECRET_ACCESS_KEY, and the
engine's: IAMWATCH_BUILTIN_PACKS, IAMWATCH_PACKS, IAMWATCH_MIN_SEVERITY, IAMWATCH_TOPIC_ARN,
IAMWATCH_STATE_TABLE, IAMWATCH_ALLOWLIST_<NAME>; AWS credentials for SNS as the AWS SDK
reads them (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION).
";

/// Code Engine ends a request after 300 s unless the app sets another timeout: no event is
/// started after 270 s, which leaves time to publish the last alerts and answer.
const REQUEST_BUDGET: Duration = Duration::from_secs(270);

/// What a request handler needs.
struct App {
    service: Arc<Service>,
    secret: Secret,
    max_body: usize,
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (mut openwhisk, mut bind) = (false, "0.0.0.0".to_string());
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--openwhisk" => openwhisk = true,
            "--bind" => match args.next() {
                Some(a) => bind = a,
                None => return usage("--bind needs an address"),
            },
            "-h" | "--help" => {
                print!("{HELP}");
                return ExitCode::SUCCESS;
            }
            "-V" | "--version" => {
                println!("{FUNCTION} {}", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            other => return usage(&format!("unknown argument {other:?}")),
        }
    }
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return failed("cannot start the async runtime", &e),
    };
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => return failed("iamwatch cannot start", &e),
    };
    let service = match rt.block_on(Service::start_with(codeengine::SETTINGS)) {
        Ok(s) => Arc::new(s.read_objects_from(settings.cos.clone())),
        // Logged by start_with, naming the variable.
        Err(_) => return ExitCode::FAILURE,
    };
    let ran = if openwhisk {
        action_loop(&rt, &service)
    } else {
        let secret = match settings.require_secret() {
            Ok(s) => s.clone(),
            Err(e) => return failed("iamwatch cannot start", &e),
        };
        let app = Arc::new(App {
            service,
            secret,
            max_body: settings.max_body,
        });
        rt.block_on(serve(app, &bind))
    };
    match ran {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => failed("stopped", &e),
    }
}

fn usage(why: &str) -> ExitCode {
    eprintln!("{FUNCTION}: {why}\n\n{HELP}");
    ExitCode::from(2)
}

fn failed(what: &str, e: &dyn std::fmt::Display) -> ExitCode {
    tracing::error!(error = %e, "{what}");
    ExitCode::FAILURE
}

/// Serves until SIGTERM (or Ctrl-C), then finishes the requests in flight.
async fn serve(app: Arc<App>, bind: &str) -> std::io::Result<()> {
    let port = std::env::var("PORT").unwrap_or_else(|_| "8080".into());
    let listener = tokio::net::TcpListener::bind(format!("{bind}:{port}")).await?;
    tracing::info!(address = %listener.local_addr()?, "listening");
    let router = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/", post(function_handler))
        .with_state(app);
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let term = async {
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(mut s) => drop(s.recv().await),
                    Err(_) => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = term => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            tracing::info!("shutting down: finishing the requests in flight");
        })
        .await
}

/// One request: authenticated before its body is read, told apart, evaluated, answered.
async fn function_handler(State(app): State<Arc<App>>, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let authorization = headers.get(header::AUTHORIZATION).map(|v| v.as_bytes());
    let token = headers.get(codeengine::TOKEN_HEADER).map(|v| v.as_bytes());
    if !app.secret.admits(authorization, token) {
        tracing::warn!("request refused: no or wrong bearer token");
        let mut refused = reply(
            StatusCode::UNAUTHORIZED,
            &json!({"error": "missing or wrong Authorization: Bearer token"}),
        );
        refused.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        return refused;
    }
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let too_large = || {
        let why = format!(
            "the body is larger than {} bytes (IAMWATCH_MAX_BODY_BYTES)",
            app.max_body
        );
        tracing::warn!(why, "request refused");
        reply(StatusCode::PAYLOAD_TOO_LARGE, &json!({"error": why}))
    };
    if text("content-length")
        .and_then(|l| l.parse::<usize>().ok())
        .is_some_and(|l| l > app.max_body)
    {
        return too_large();
    }
    let body = match to_bytes(body, app.max_body).await {
        Ok(b) => b.to_vec(),
        Err(e) => {
            let inner = e.into_inner();
            if inner.is::<http_body_util::LengthLimitError>() {
                return too_large();
            }
            return bad_request(&format!("the body could not be read: {inner}"));
        }
    };
    let (id, kind) = (text("ce-id").unwrap_or(""), text("ce-type").unwrap_or(""));
    // An empty ce-type reads as any unknown type does: the body is the input.
    let request = match codeengine::classify(text("ce-type"), text("content-type"), body) {
        Ok(r) => r,
        Err(e) => return bad_request(&e.0),
    };
    let outcome = codeengine::run(&app.service, request, Some(started + REQUEST_BUDGET)).await;
    iamwatch::metrics::print(FUNCTION, &outcome, started.elapsed());
    log_outcome(&outcome, id, kind);
    let (status, body) = codeengine::answer(&outcome);
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    reply(status, &body)
}

/// A JSON answer.
fn reply(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        format!("{body}\n"),
    )
        .into_response()
}

fn bad_request(why: &str) -> Response {
    tracing::warn!(why, "request refused");
    reply(StatusCode::BAD_REQUEST, &json!({"error": why}))
}

fn log_outcome(outcome: &Outcome, id: &str, kind: &str) {
    let r = &outcome.report;
    match &outcome.error {
        None => tracing::info!(
            ce_id = id,
            ce_type = kind,
            events = r.counts.events,
            bad = r.counts.bad,
            alerts = r.alerts.len(),
            "request done"
        ),
        Some(e) => tracing::error!(
            ce_id = id,
            ce_type = kind,
            error = %e,
            kind = e.kind(),
            transient = e.is_transient(),
            "request not done whole"
        ),
    }
}

/// The Apache OpenWhisk action loop: acknowledge the start when asked (`__OW_WAIT_FOR_ACK`),
/// then for each activation line on stdin write its result as one line on descriptor 3.
fn action_loop(rt: &tokio::runtime::Runtime, service: &Arc<Service>) -> std::io::Result<()> {
    let mut results = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/fd/3")
        .map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("file descriptor 3 (where OpenWhisk reads results) is not open: {e}"),
            )
        })?;
    if std::env::var_os("__OW_WAIT_FOR_ACK").is_some_and(|v| !v.is_empty()) {
        results.write_all(b"{\"ok\":true}\n")?;
    }
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let result = rt.block_on(activation_handler(&line, service));
        let mut out = serde_json::to_vec(&result).unwrap_or_default();
        out.push(b'\n');
        results.write_all(&out)?;
        results.flush()?;
    }
    Ok(())
}

/// One activation: its `value` told apart (see [`codeengine::activation`]), evaluated by
/// its `deadline`, answered with the summary (with `error` when it failed, which OpenWhisk
/// reports as an application error).
async fn activation_handler(line: &str, service: &Arc<Service>) -> Value {
    let started = Instant::now();
    let activation: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return json!({"error": format!("the activation is not JSON: {e}")}),
    };
    let id = activation["activation_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let deadline = match &activation["deadline"] {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .map(stop_by);
    let request = match codeengine::activation(activation["value"].clone()) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(activation = id, why = %e, "activation refused");
            return json!({"error": e.0});
        }
    };
    let outcome = codeengine::run(service, request, deadline).await;
    iamwatch::metrics::print(FUNCTION, &outcome, started.elapsed());
    log_outcome(&outcome, &id, "openwhisk");
    codeengine::answer(&outcome).1
}
