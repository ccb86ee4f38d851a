//! The engine as a deployed handler runs it: built once at start-up from the environment,
//! with its window state (DynamoDB or memory) and its SNS notifier, then fed one input per
//! invocation from async code.
//!
//! ```no_run
//! # async fn handler() -> Result<(), iamwatch::engine::EngineError> {
//! use iamwatch::{config::Config, ingest::Format, service::Service};
//! let service = std::sync::Arc::new(Service::new(Config::from_env()?).await?);
//! let payload: Vec<u8> = br#"{"awslogs": {"data": "..."}}"#.to_vec();
//! let report = service.process(payload, Format::AwsLogs, None).await?;
//! println!("{} events, {} alerts", report.counts.events, report.alerts.len());
//! # Ok(()) }
//! ```

use crate::config::Config;
use crate::engine::{Engine, EngineError, Report, Run};
use crate::ingest::Format;
use crate::notify::SnsNotifier;
use crate::window::{DynamoStore, MemoryStore, WindowStore};
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Instant;
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
    /// Invocations of one instance come one at a time; the lock only makes that explicit.
    state: Mutex<State>,
    sns: Option<SnsNotifier>,
}

impl Service {
    /// Builds the engine and the AWS clients `config` asks for (an SNS topic, a state table).
    /// Call it from the tokio runtime the handler runs on: the clients send their requests
    /// there.
    pub async fn new(config: Config) -> Result<Self, EngineError> {
        let engine = Engine::new(&config)?;
        let aws = if config.topic_arn.is_some() || config.state_table.is_some() {
            Some(crate::aws::loader(&config.retry).load().await)
        } else {
            None
        };
        let handle = Handle::current();
        let state = match (&aws, &config.state_table) {
            (Some(sdk), Some(table)) => {
                State::Dynamo(DynamoStore::from_config(sdk, table, handle.clone()))
            }
            _ => State::Memory(MemoryStore::default()),
        };
        let sns = match (&aws, &config.topic_arn) {
            (Some(sdk), Some(topic)) => Some(SnsNotifier::from_config(
                sdk,
                topic,
                handle,
                config.retry,
            )),
            _ => None,
        };
        Ok(Self {
            engine,
            config,
            state: Mutex::new(state),
            sns,
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
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
    ) -> Result<Report, EngineError> {
        let me = Arc::clone(self);
        tokio::task::spawn_blocking(move || me.process_blocking(&input[..], format, deadline))
            .await
            .map_err(|e| EngineError::Read(std::io::Error::other(e)))?
    }

    /// [`Service::process`] for a caller on a thread that may block (not a runtime worker):
    /// for a reader that itself blocks, such as an object streamed from S3.
    pub fn process_blocking(
        &self,
        input: impl Read,
        format: Format,
        deadline: Option<Instant>,
    ) -> Result<Report, EngineError> {
        // A panic while the lock was held cannot leave the store half-written in a way the
        // next input would misread: each record's writes stand alone.
        let mut state = match self.state.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut run = Run::new(state.store());
        if let Some(sns) = &self.sns {
            run = run.notify(sns);
        }
        if let Some(d) = deadline {
            run = run.until(d);
        }
        self.engine.evaluate(input, format, &mut run)
    }
}
