//! CloudWatch Logs subscription filter -> iamwatch -> Amazon SNS.
//!
//! Each invocation carries one subscription payload (`{"awslogs": {"data": ...}}`: base64 of
//! gzip of the log events); each log event's message is one CloudTrail (or CADF) record. A
//! `CONTROL_MESSAGE` publishes nothing. A bad record is logged with its position and counted,
//! and the rest of the batch goes on. An alert that cannot be published fails the invocation:
//! Lambda retries it, and the retry sends only what was not delivered.

use iamwatch::engine::EngineError;
use iamwatch::ingest::Format;
use iamwatch::service::Service;
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::value::RawValue;
use std::sync::Arc;

const FUNCTION: &str = "logs-subscription";

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let service = Arc::new(Service::start_for_cloudtrail().await?);
    lambda_runtime::run(service_fn(|event| function_handler(event, &service))).await
}

/// One subscription payload: its records evaluated, their alerts published.
async fn function_handler(
    event: LambdaEvent<Box<RawValue>>,
    service: &Arc<Service>,
) -> Result<(), Diagnostic> {
    let (event, context) = event.into_parts();
    // The payload's text as it arrived: the engine reads it without building a value.
    let text: Box<str> = event.into();
    service
        .invoke(
            FUNCTION,
            text.into_boxed_bytes().into_vec(),
            Format::AwsLogs,
            context.deadline,
        )
        .await
        .map(drop)
        .map_err(diagnostic)
}

fn diagnostic(e: EngineError) -> Diagnostic {
    Diagnostic {
        error_type: e.kind().to_string(),
        error_message: e.to_string(),
    }
}
