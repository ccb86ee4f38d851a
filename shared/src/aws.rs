//! The AWS side's configuration: where to find the SDK configuration, how hard to retry.
//!
//! Everything comes from the standard AWS configuration (environment, profile, the Lambda
//! execution role), so `AWS_ENDPOINT_URL` points every client at a local endpoint. Retries
//! are the SDK's standard mode — exponential backoff with full jitter on throttling, 5xx
//! answers, timeouts and connection errors — with our budget.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;
pub use aws_config::SdkConfig;
use aws_sdk_sns::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use std::time::Duration;

/// How hard a call is retried before its error is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Attempts per call, the first included.
    pub attempts: u32,
    /// The first backoff; each retry doubles it (with jitter), up to [`Retry::max_backoff`].
    pub base: Duration,
    /// The longest a single attempt may take.
    pub attempt_timeout: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            attempts: 5,
            base: Duration::from_millis(100),
            attempt_timeout: Duration::from_secs(5),
        }
    }
}

impl Retry {
    /// The budget that `IAMWATCH_RETRY_ATTEMPTS`, `IAMWATCH_RETRY_BASE_MS` and
    /// `IAMWATCH_ATTEMPT_TIMEOUT_MS`, given as `(variable, value)` pairs, set over the defaults
    /// (5 attempts, 100 ms, 5 s); an error names the variable. [`crate::config`] reads them.
    pub fn from_pairs<'k>(vars: &[(&'k str, &str)]) -> Result<Self, (&'k str, String)> {
        let mut r = Self::default();
        for &(k, v) in vars {
            let n = v
                .trim()
                .parse::<u64>()
                .map_err(|_| (k, format!("expected a whole number, found {v:?}")))?;
            match k {
                "IAMWATCH_RETRY_ATTEMPTS" => {
                    r.attempts = u32::try_from(n.clamp(1, 20)).unwrap_or(20)
                }
                "IAMWATCH_RETRY_BASE_MS" => r.base = Duration::from_millis(n),
                "IAMWATCH_ATTEMPT_TIMEOUT_MS" => {
                    r.attempt_timeout = Duration::from_millis(n.max(1))
                }
                _ => return Err((k, "is not a retry setting".to_string())),
            }
        }
        Ok(r)
    }

    /// Backoff never grows beyond this.
    pub fn max_backoff(&self) -> Duration {
        (self.base * 64).min(Duration::from_secs(20))
    }

    /// The backoff before retry `n` (1 for the first retry): full jitter over
    /// `base * 2^(n-1)`, capped.
    pub fn backoff(&self, n: u32, jitter: &mut Jitter) -> Duration {
        let cap = self
            .base
            .saturating_mul(1u32 << n.saturating_sub(1).min(16))
            .min(self.max_backoff());
        cap.mul_f64(jitter.next_unit())
    }
}

/// A small random source for backoff jitter (xorshift64*); not for anything secret.
#[derive(Debug, Clone)]
pub struct Jitter(u64);

impl Jitter {
    pub fn new() -> Self {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Self(t ^ (u64::from(std::process::id()) << 32) | 1)
    }

    /// Uniform in `[0, 1)`.
    pub fn next_unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let r = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        (r >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl Default for Jitter {
    fn default() -> Self {
        Self::new()
    }
}

/// The standard AWS configuration with `retry`'s budget, ready for more settings (tests
/// add an endpoint, a region and credentials). Its HTTPS client is rustls with the ring
/// crypto provider; the root certificates are read when a client first connects.
pub fn loader(retry: &Retry) -> aws_config::ConfigLoader {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https)
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(retry.attempts)
                .with_initial_backoff(retry.base)
                .with_max_backoff(retry.max_backoff()),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(retry.attempt_timeout)
                .build(),
        )
}

/// An AWS error in a line: the service's code and message when it answered, else the whole
/// chain (connection refused, timed out ...). Every AWS SDK crate shares these error types.
pub fn describe<E, R>(e: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match (e.code(), e.message()) {
        (Some(code), Some(msg)) => format!("{code}: {msg}"),
        (Some(code), None) => code.to_string(),
        _ => DisplayErrorContext(e).to_string(),
    }
}
