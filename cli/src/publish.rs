//! `replay --publish` and shared window state: the AWS side of the CLI.

use crate::log_group::LogGroup;
use iamwatch::aws::Retry;
use iamwatch::aws::{loader, SdkConfig};
use iamwatch::config::Config;
use iamwatch::notify::SnsNotifier;
use iamwatch::service::State;
use iamwatch::window::DynamoStore;
use tokio::runtime::Runtime;

/// The AWS clients of one run, on a runtime of their own: the engine runs on the main
/// thread, which is not one of the runtime's, so the clients may block it on their requests.
pub struct Aws {
    rt: Runtime,
    retry: Retry,
    /// Loaded once for every client of the run.
    config: SdkConfig,
}

impl Aws {
    pub fn new(config: &Config) -> Result<Self, String> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the AWS client runtime: {e}"))?;
        let sdk = rt.block_on(loader(&config.retry).load());
        Ok(Self {
            rt,
            retry: config.retry,
            config: sdk,
        })
    }

    /// The names of the organization's accounts (AWS Organizations `ListAccounts`).
    pub fn organization_accounts(&self) -> Result<iamwatch::accounts::AccountNames, String> {
        self.rt
            .block_on(iamwatch::organizations::account_names(&self.config))
    }

    /// The window store on DynamoDB table `table`.
    pub fn state(&self, table: &str) -> State {
        State::Dynamo(DynamoStore::from_config(
            &self.config,
            table,
            self.rt.handle().clone(),
        ))
    }

    /// The log events of `group` from `since` to `until` (ms since the epoch), as JSON lines.
    pub fn log_group(&self, group: &str, since: i64, until: Option<i64>) -> LogGroup {
        LogGroup::new(
            aws_sdk_cloudwatchlogs::Client::new(&self.config),
            self.rt.handle().clone(),
            group,
            since,
            until,
        )
    }

    /// CloudWatch Logs' `TestMetricFilter` on `messages` (at most 50): for each message that
    /// matched, its 1-based number and the fields extracted.
    pub fn test_metric_filter(
        &self,
        pattern: &str,
        messages: &[String],
    ) -> Result<Vec<crate::compare_aws::Match>, String> {
        let client = aws_sdk_cloudwatchlogs::Client::new(&self.config);
        let call = client
            .test_metric_filter()
            .filter_pattern(pattern)
            .set_log_event_messages(Some(messages.to_vec()));
        let out = self
            .rt
            .block_on(call.send())
            .map_err(|e| format!("TestMetricFilter: {}", iamwatch::aws::describe(&e)))?;
        Ok(out
            .matches()
            .iter()
            .map(|m| {
                let fields = m
                    .extracted_values()
                    .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default();
                (
                    usize::try_from(m.event_number()).unwrap_or(usize::MAX),
                    fields,
                )
            })
            .collect())
    }

    /// The notifier publishing to `topic`.
    pub fn publisher(&self, topic: &str) -> SnsNotifier {
        SnsNotifier::from_config(&self.config, topic, self.rt.handle().clone(), self.retry)
    }
}
