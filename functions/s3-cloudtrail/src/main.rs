//! CloudTrail log files in S3 -> iamwatch -> Amazon SNS.
//!
//! Triggers, told apart by their shape:
//! - an S3 event notification (or EventBridge "Object Created"): every object is read; any
//!   failure fails the invocation, and Lambda's retry sends only what was not delivered;
//! - SQS messages holding such notifications: each message that failed is reported in an
//!   `SqsBatchResponse` (the event source mapping needs `ReportBatchItemFailures`);
//! - S3 Batch Operations (schema 2.0): one result per task, so a whole trail can be replayed
//!   by a batch job over an inventory or a manifest of its keys.
//!
//! Objects are streamed (memory stays flat on large files); digest files and keys that are not
//! CloudTrail logs are skipped with a log line.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse};
use iamwatch::engine::{EngineError, Outcome, Report};
use iamwatch::ingest::object::{cloudtrail_log, objects_in, ObjectRef};
use iamwatch::metrics;
use iamwatch::service::{stop_by, Service};
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;

const FUNCTION: &str = "s3-cloudtrail";

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let service = Arc::new(Service::start_for_cloudtrail().await?);
    lambda_runtime::run(service_fn(|event| function_handler(event, &service))).await
}

/// One trigger: its objects read and evaluated, their alerts published.
async fn function_handler(
    event: LambdaEvent<Value>,
    service: &Arc<Service>,
) -> Result<Value, Diagnostic> {
    let started = Instant::now();
    let deadline = stop_by(event.context.deadline);
    let payload = event.payload;
    let mut total = Report::default();
    let mut failed = None;
    let answer = if payload.get("invocationSchemaVersion").is_some() {
        // S3 Batch Operations: each task succeeds or fails on its own.
        let tasks = payload["tasks"].as_array().cloned().unwrap_or_default();
        let mut results = Vec::with_capacity(tasks.len());
        for task in &tasks {
            let object = ObjectRef {
                bucket: task["s3Bucket"].as_str().unwrap_or_default().to_string(),
                key: task["s3Key"].as_str().unwrap_or_default().to_string(),
                version: task["s3VersionId"].as_str().map(str::to_string),
            };
            let outcome = read(service, object, deadline).await;
            let (code, text) = match &outcome.error {
                None => (
                    "Succeeded",
                    format!(
                        "{} events, {} alerts",
                        outcome.report.counts.events,
                        outcome.report.alerts.len()
                    ),
                ),
                Some(e) if e.is_transient() => ("TemporaryFailure", e.to_string()),
                Some(e) => ("PermanentFailure", e.to_string()),
            };
            total.absorb(outcome.report);
            results
                .push(json!({"taskId": task["taskId"], "resultCode": code, "resultString": text}));
        }
        json!({
            "invocationSchemaVersion": payload["invocationSchemaVersion"],
            "treatMissingKeysAs": "PermanentFailure",
            "invocationId": payload["invocationId"],
            "results": results,
        })
    } else if payload["Records"][0]["eventSource"] == "aws:sqs" {
        // SQS: a message fails alone, and only it comes back.
        let mut failures = Vec::new();
        for message in payload["Records"].as_array().into_iter().flatten() {
            let id = message["messageId"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let body = message["body"].as_str().unwrap_or_default();
            let objects = serde_json::from_str::<Value>(body)
                .map_err(|e| format!("not JSON: {e}"))
                .and_then(|v| objects_in(&v));
            let ok = match objects {
                Err(why) => {
                    // A message that names no object never will: dropped, not retried.
                    tracing::warn!(message = %id, why, "SQS message skipped");
                    true
                }
                Ok(objects) => {
                    let mut ok = true;
                    for object in objects {
                        let outcome = read(service, object, deadline).await;
                        ok &= outcome.error.is_none();
                        total.absorb(outcome.report);
                    }
                    ok
                }
            };
            if !ok {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                failures.push(failure);
            }
        }
        let mut response = SqsBatchResponse::default();
        response.batch_item_failures = failures;
        serde_json::to_value(response).unwrap_or(Value::Null)
    } else {
        // An S3 notification or an EventBridge event: all or nothing.
        let objects = objects_in(&payload).map_err(|why| Diagnostic {
            error_type: "iamwatch.Trigger".into(),
            error_message: why,
        })?;
        for object in objects {
            let outcome = read(service, object, deadline).await;
            total.absorb(outcome.report);
            if let Some(e) = outcome.error {
                failed = Some(e);
                break;
            }
        }
        Value::Null
    };
    let outcome = Outcome {
        report: total,
        error: failed,
    };
    metrics::print(FUNCTION, &outcome, started.elapsed());
    outcome.into_result().map(|_| answer).map_err(diagnostic)
}

/// Reads and evaluates one object, unless its key is not a CloudTrail log.
async fn read(service: &Arc<Service>, object: ObjectRef, deadline: Instant) -> Outcome {
    if let Err(why) = cloudtrail_log(&object.key) {
        tracing::info!(bucket = %object.bucket, key = %object.key, why, "object skipped");
        return Outcome {
            report: Report::default(),
            error: None,
        };
    }
    let me = Arc::clone(service);
    let outcome = service
        .blocking(move || {
            me.process_object(
                &object.bucket,
                &object.key,
                object.version.as_deref(),
                Some(deadline),
            )
        })
        .await;
    if let Some(e) = &outcome.error {
        tracing::error!(error = %e, kind = e.kind(), "object not processed whole");
    }
    outcome
}

fn diagnostic(e: EngineError) -> Diagnostic {
    Diagnostic {
        error_type: e.kind().to_string(),
        error_message: e.to_string(),
    }
}
