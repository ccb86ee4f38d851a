//! The engine as a deployed handler runs it: built once at start-up from the environment,
//! with its window state (DynamoDB or memory) and its SNS notifier, then fed one input per
//! invocation from async code.
//!
//! ```no_run
//! # async fn handler() -> Result<(), iamwatch::engine::EngineError> {
//! use iamwatch::{config::Config, ingest::Format, service::Service};
//! let service = std::sync::Arc::new(Service::new(Config::from_env()?).await?);
//! let payload: Vec<u8> = br#"{"awslogs": {"data": "..."}}"#.to_vec();
//! let report = service.process(payload, Format::AwsLogs, None).await.into_result()?;
//! println!("{} events, {} alerts", report.counts.events, report.alerts.len());
//! # Ok(()) }
//! ```

use crate::codeengine::Cos;
use crate::config::Config;
use crate::engine::{Engine, EngineError, Outcome, Report, Run};
use crate::ingest::object::{self, ObjectError};
use crate::ingest::Format;
use crate::notify::SnsNotifier;
use crate::window::{DynamoStore, MemoryStore, WindowStore};
use aws_config::SdkConfig;
use std::io::Read;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::runtime::Handle;

/// Where a service keeps its windows, suppression and deliveries.
pub enum State {
    /// In this process: windows span the invocations a warm instance serves.
    Memory(MemoryStore),
    /// Shared by every instance and retry (`IAMWATCH_STATE_TABLE`).
    Dynamo(DynamoStore),
}

impl State {
    pub fn store(&mut self) -> &mut dyn WindowStore {
        match self {
            State::Memory(m) => m,
            State::Dynamo(d) => d,
        }
    }
}

/// The engine with its state and notifier, for handlers.
pub struct Service {
    engine: Engine,
    config: Config,
    handle: Handle,
    /// Invocations of one instance come one at a time; the lock only makes that explicit.
    /// Made at the first invocation, as the clients are.
    state: Mutex<Option<State>>,
    /// Made when first needed: loading the AWS configuration builds the HTTPS client, which
    /// reads the system's root certificates, and a start need not wait for that.
    aws: OnceLock<Aws>,
    /// Objects are read from IBM Cloud Object Storage rather than AWS S3.
    cos: Option<Cos>,
}

/// The AWS clients of a service.
struct Aws {
    sdk: SdkConfig,
    sns: Option<SnsNotifier>,
    /// Only the S3 handler reads objects.
    s3: OnceLock<aws_sdk_s3::Client>,
}

impl Service {
    /// Builds the engine; the AWS clients `config` asks for (an SNS topic, a state table)
    /// are made at the first invocation. Call it from the tokio runtime the handler runs on:
    /// the clients send their requests there.
    pub async fn new(config: Config) -> Result<Self, EngineError> {
        let engine = Engine::new(&config)?;
        Self::with_engine(engine, config).await
    }

    /// [`Service::new`] for a handler whose records are CloudTrail's: packs for CADF records
    /// alone are loaded at the first such record (see [`Engine::for_cloudtrail`]).
    pub async fn for_cloudtrail(config: Config) -> Result<Self, EngineError> {
        let engine = Engine::for_cloudtrail(&config)?;
        Self::with_engine(engine, config).await
    }

    async fn with_engine(mut engine: Engine, config: Config) -> Result<Self, EngineError> {
        if config.organization_accounts {
            // Once per start: alerts name every account of the organization; a setting's
            // names win.
            let sdk = crate::aws::loader(&config.retry).load().await;
            let listed = crate::organizations::account_names(&sdk).await.map_err(|e| {
                EngineError::Config(crate::config::ConfigError::new(
                    "IAMWATCH_ORGANIZATION_ACCOUNTS",
                    format!("{e} (the role needs organizations:ListAccounts, in the management account or a delegated administrator)"),
                ))
            })?;
            tracing::info!(
                accounts = listed.len(),
                "account names read from AWS Organizations"
            );
            let mut names = config.account_names.clone();
            names.merge(listed);
            engine = engine.with_account_names(names);
        }
        Ok(Self {
            engine,
            config,
            handle: Handle::current(),
            state: Mutex::new(None),
            aws: OnceLock::new(),
            cos: None,
        })
    }

    /// Objects are to be read from IBM Cloud Object Storage, through its S3 API with HMAC
    /// keys, instead of AWS S3.
    pub fn read_objects_from(mut self, cos: Option<Cos>) -> Self {
        self.cos = cos;
        self
    }

    /// The AWS clients; on a thread that may block only (see [`Service::blocking`]).
    fn aws(&self) -> &Aws {
        self.aws.get_or_init(|| {
            // Reads the environment (Lambda passes credentials there): no request is sent.
            let sdk = self
                .handle
                .block_on(crate::aws::loader(&self.config.retry).load());
            let sns = self.config.topic_arn.as_ref().map(|topic| {
                SnsNotifier::from_config(&sdk, topic, self.handle.clone(), self.config.retry)
            });
            Aws {
                sdk,
                sns,
                s3: OnceLock::new(),
            }
        })
    }

    /// The engine that runs the next input (see [`Engine::current`]).
    pub fn engine(&self) -> &Engine {
        self.engine.current()
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Evaluates one input on tokio's blocking pool (see [`crate::engine`] for why) and
    /// delivers its alerts. `deadline`: no record is started after it.
    pub async fn process(
        self: &Arc<Self>,
        input: Vec<u8>,
        format: Format,
        deadline: Option<Instant>,
    ) -> Outcome {
        let me = Arc::clone(self);
        self.blocking(move || me.process_payload(&input, format, deadline))
            .await
    }

    /// One invocation whose event carries its records (a subscription payload, an
    /// EventBridge event), to be answered by `deadline_ms` (ms since the epoch, see
    /// [`stop_by`]): evaluated, its alerts delivered, and its metrics line printed for
    /// `function` (see [`crate::metrics`]).
    pub async fn invoke(
        self: &Arc<Self>,
        function: &str,
        event: Vec<u8>,
        format: Format,
        deadline_ms: u64,
    ) -> Result<Report, EngineError> {
        let started = Instant::now();
        let outcome = self
            .process(event, format, Some(stop_by(deadline_ms)))
            .await;
        crate::metrics::print(function, &outcome, started.elapsed());
        outcome.into_result()
    }

    /// Runs `work` on tokio's blocking pool, where the engine and its clients may block.
    pub async fn blocking(&self, work: impl FnOnce() -> Outcome + Send + 'static) -> Outcome {
        match tokio::task::spawn_blocking(work).await {
            Ok(outcome) => outcome,
            Err(e) => Outcome {
                report: Report::default(),
                error: Some(EngineError::Read(std::io::Error::other(e))),
            },
        }
    }

    /// Reads and evaluates the object `s3://bucket/key` (gzip or not, any layout the engine
    /// reads). On a blocking thread only (see [`Service::blocking`]).
    pub fn process_object(
        &self,
        bucket: &str,
        key: &str,
        version: Option<&str>,
        deadline: Option<Instant>,
    ) -> Outcome {
        let aws = self.aws();
        let s3 = aws.s3.get_or_init(|| {
            // A local or S3-compatible endpoint (moto, IBM COS) is addressed by path: bucket
            // names are not host names there.
            let local = aws.sdk.endpoint_url().is_some() || self.cos.is_some();
            let mut config = aws_sdk_s3::config::Builder::from(&aws.sdk).force_path_style(local);
            if let Some(cos) = &self.cos {
                config = config
                    .endpoint_url(&cos.endpoint)
                    .credentials_provider(aws_sdk_s3::config::Credentials::new(
                        &cos.access_key_id,
                        cos.secret_access_key.expose(),
                        None,
                        None,
                        "cos-hmac",
                    ))
                    // COS ignores the signing region; the SDK needs one.
                    .region(aws_sdk_s3::config::Region::new("us-east-1"));
            }
            aws_sdk_s3::Client::from_conf(config.build())
        });
        match object::open(s3, &self.handle, bucket, key, version) {
            Ok(reader) => self.process_blocking(reader, Format::Auto, deadline),
            Err(e) => Outcome {
                report: Report::default(),
                error: Some(match e {
                    ObjectError::Missing(m) => EngineError::Missing(m),
                    ObjectError::Unavailable(m) => EngineError::Read(std::io::Error::other(m)),
                }),
            },
        }
    }

    /// [`Service::process`] for a caller on a thread that may block (not a runtime worker):
    /// for a reader that itself blocks, such as an object streamed from S3.
    pub fn process_blocking(
        &self,
        input: impl Read,
        format: Format,
        deadline: Option<Instant>,
    ) -> Outcome {
        self.with_run(deadline, |engine, run| engine.evaluate(input, format, run))
    }

    /// [`Service::process`] on the calling thread, for a payload in memory: read where it
    /// lies (see [`Engine::evaluate_bytes`]).
    pub fn process_payload(
        &self,
        input: &[u8],
        format: Format,
        deadline: Option<Instant>,
    ) -> Outcome {
        self.with_run(deadline, |engine, run| {
            engine.evaluate_bytes(input, format, run)
        })
    }

    /// `work` with a run on this service's state and notifier.
    fn with_run(
        &self,
        deadline: Option<Instant>,
        work: impl FnOnce(&Engine, &mut Run<'_>) -> Outcome,
    ) -> Outcome {
        // A panic while the lock was held cannot leave the store half-written in a way the
        // next input would misread: each record's writes stand alone.
        let mut state = match self.state.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        let state = state.get_or_insert_with(|| match &self.config.state_table {
            Some(table) => State::Dynamo(DynamoStore::from_config(
                &self.aws().sdk,
                table,
                self.handle.clone(),
            )),
            None => State::Memory(MemoryStore::default()),
        });
        let sns = match self.config.topic_arn {
            Some(_) => self.aws().sns.as_ref(),
            None => None,
        };
        let mut run = Run::new(state.store());
        if let Some(sns) = sns {
            run = run.notify(sns);
        }
        if let Some(d) = deadline {
            run = run.until(d);
        }
        work(self.engine.current(), &mut run)
    }
}

/// When to stop starting records, for an invocation that must answer by `deadline_ms` (ms
/// since the epoch, as the Lambda runtime gives it): early enough to publish the last alerts
/// and answer before the platform ends the invocation (two seconds, or a quarter of the time
/// left when that is less).
pub fn stop_by(deadline_ms: u64) -> Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let left = Duration::from_millis(deadline_ms.saturating_sub(now_ms));
    let margin = (left / 4).min(Duration::from_secs(2));
    Instant::now() + left - margin
}

impl Service {
    /// The service the environment describes, for a handler's `main`: a bad setting is
    /// logged (naming its variable) and returned, so that the start fails.
    pub async fn start() -> Result<Self, EngineError> {
        Self::start_with(&[]).await
    }

    /// [`Service::start`] for a program that reads the `IAMWATCH_*` settings named in `own`
    /// itself.
    pub async fn start_with(own: &[&str]) -> Result<Self, EngineError> {
        let built = async { Self::new(Config::from_vars(std::env::vars_os(), own)?).await };
        said(built.await)
    }

    /// [`Service::start`] for a handler whose records are CloudTrail's (see
    /// [`Service::for_cloudtrail`]).
    pub async fn start_for_cloudtrail() -> Result<Self, EngineError> {
        let built =
            async { Self::for_cloudtrail(Config::from_vars(std::env::vars_os(), &[])?).await };
        said(built.await)
    }
}

/// `built`, its error logged: a handler's start fails with it.
fn said(built: Result<Service, EngineError>) -> Result<Service, EngineError> {
    if let Err(e) = &built {
        tracing::error!(error = %e, "iamwatch cannot start");
    }
    built
}
