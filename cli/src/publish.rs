//! `replay --publish` and shared window state: the AWS side of the CLI.

use iamwatch::aws::{load_config, required_env, Retry, SdkConfig};
use iamwatch::finding::Finding;
use iamwatch::notify::{deliver, DeliveryError, SnsNotifier};
use iamwatch::window::{DynamoStore, MemoryStore, StoreError, WindowStore};
use tokio::runtime::Runtime;

/// Alerts go out in batches of this many (one `PublishBatch`).
const FLUSH_AT: usize = 10;

/// Where windows, suppression and deliveries are kept.
pub enum State {
    Memory(MemoryStore),
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

/// The AWS clients of one run, on one runtime that the engine blocks on.
pub struct Aws {
    rt: Runtime,
    retry: Retry,
    /// Loaded once for every client of the run.
    config: SdkConfig,
}

impl Aws {
    pub fn new() -> Result<Self, String> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the AWS client runtime: {e}"))?;
        let retry = Retry::from_env()?;
        let config = load_config(rt.handle(), &retry);
        Ok(Self { rt, retry, config })
    }

    /// The window store on DynamoDB table `table`.
    pub fn state(&self, table: &str) -> State {
        State::Dynamo(DynamoStore::from_config(
            &self.config,
            table,
            self.rt.handle().clone(),
        ))
    }

    /// The publisher to `IAMWATCH_TOPIC_ARN`.
    pub fn publisher(&self) -> Result<Publisher, String> {
        let topic = required_env("IAMWATCH_TOPIC_ARN", "the ARN of the SNS topic for alerts")?;
        Ok(Publisher {
            sns: SnsNotifier::from_config(
                &self.config,
                topic,
                self.rt.handle().clone(),
                self.retry,
            ),
            pending: Vec::with_capacity(FLUSH_AT),
            sent: 0,
            already: 0,
        })
    }
}

/// Alerts on their way to SNS, in batches.
pub struct Publisher {
    sns: SnsNotifier,
    pending: Vec<Finding>,
    pub sent: usize,
    /// Alerts an earlier run delivered already (recorded in the window store).
    pub already: usize,
}

impl Publisher {
    pub fn topic(&self) -> &str {
        self.sns.topic()
    }

    pub fn requests(&self) -> u64 {
        self.sns.requests()
    }

    /// Queues `alert`; sends a batch when one is full.
    pub fn push(
        &mut self,
        alert: Finding,
        store: &mut dyn WindowStore,
    ) -> Result<(), DeliveryError> {
        self.pending.push(alert);
        if self.pending.len() >= FLUSH_AT {
            self.flush(store)?;
        }
        Ok(())
    }

    /// Sends what is queued.
    pub fn flush(&mut self, store: &mut dyn WindowStore) -> Result<(), DeliveryError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.pending);
        let d = deliver(&self.sns, &batch, store, now_ms())?;
        self.sent += d.sent;
        self.already += d.already;
        Ok(())
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A store error as the CLI reports it.
pub fn store_failed(e: &StoreError) -> String {
    format!("{e} (nothing after this event was processed)")
}
