//! EventBridge rule -> iamwatch -> Amazon SNS.
//!
//! The rule matches CloudTrail's events ("AWS API Call via CloudTrail", "AWS Console Sign In
//! via CloudTrail", "AWS Service Event via CloudTrail"); each invocation carries one, whose
//! `detail` is the CloudTrail record. IAM is a global service: its events reach EventBridge in
//! us-east-1 only, so the rule (and this function) must be deployed there to see them. An
//! alert that cannot be published fails the invocation: Lambda retries it, and the retry sends
//! only what was not delivered.

use iamwatch::engine::EngineError;
use iamwatch::ingest::Format;
use iamwatch::service::Service;
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::value::RawValue;
use std::sync::Arc;

const FUNCTION: &str = "eventbridge";

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let service = Arc::new(Service::start_for_cloudtrail().await?);
    lambda_runtime::run(service_fn(|event| function_handler(event, &service))).await
}

/// One EventBridge event: its CloudTrail record evaluated, its alerts published.
async fn function_handler(
    event: LambdaEvent<Box<RawValue>>,
    service: &Arc<Service>,
) -> Result<(), Diagnostic> {
    let (event, context) = event.into_parts();
    // The engine opens the envelope (`detail-type` + `detail`) itself.
    let text: Box<str> = event.into();
    service
        .invoke(
            FUNCTION,
            text.into_boxed_bytes().into_vec(),
            Format::JsonLines,
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
