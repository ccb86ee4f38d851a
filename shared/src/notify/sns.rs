//! Alerts to an Amazon SNS topic: one entry per finding with `MessageStructure=json` (the
//! finding as JSON by default, the e-mail text for e-mail subscribers, one SMS part for SMS),
//! a subject, and the message attributes subscription filter policies route on.
//!
//! Findings go out with `PublishBatch`, up to ten entries and 256 KiB per request. A request
//! that fails is retried by the SDK (standard mode: jittered exponential backoff on
//! throttling, 5xx answers and timeouts) within the [`Retry`] budget. Entries that a batch
//! reports failed through no fault of ours are published again one by one after a jittered
//! pause; entries it rejects as our fault (`SenderFault`) are reported at once.

use super::{Failure, Notifier, Undelivered};
use crate::aws::{describe, Jitter, Retry};
use crate::finding::Finding;
use crate::render::{render, Rendered, MESSAGE_MAX};
use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};
use aws_sdk_sns::Client;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use tokio::runtime::Handle;

/// At most this many entries per `PublishBatch`.
pub const BATCH_ENTRIES: usize = 10;

pub struct SnsNotifier {
    client: Client,
    topic: String,
    rt: Handle,
    retry: Retry,
    jitter: Mutex<Jitter>,
    requests: AtomicU64,
}

fn attribute(value: &str) -> Option<MessageAttributeValue> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .ok()
}

/// What a rendered finding weighs against the request limit.
fn weight(r: &Rendered, message: &str) -> usize {
    message.len()
        + r.subject.len()
        + r.attributes
            .iter()
            .map(|(k, v)| k.len() + v.len() + "String".len())
            .sum::<usize>()
}

/// FIFO topics need a group and a de-duplication id: the account, and a hash of the
/// finding's key (so a crash-and-retry within five minutes is dropped by SNS itself).
fn fifo_ids(f: &Finding) -> (String, String) {
    let h = crate::detector::fnv(&f.key());
    (
        f.event.account().unwrap_or("unknown").to_string(),
        format!("{h:016x}"),
    )
}

struct Entry {
    index: usize,
    rendered: Rendered,
    message: String,
}

impl SnsNotifier {
    pub fn new(client: Client, topic: impl Into<String>, rt: Handle, retry: Retry) -> Self {
        Self {
            client,
            topic: topic.into(),
            rt,
            retry,
            jitter: Mutex::new(Jitter::new()),
            requests: AtomicU64::new(0),
        }
    }

    /// A client made from `config` (see [`crate::aws::loader`]).
    pub fn from_config(
        config: &aws_config::SdkConfig,
        topic: impl Into<String>,
        rt: Handle,
        retry: Retry,
    ) -> Self {
        Self::new(Client::new(config), topic, rt, retry)
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// SNS requests sent so far (each `PublishBatch` and `Publish` call counts once; the
    /// SDK's own retries of a call are not counted).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    fn fifo(&self) -> bool {
        self.topic.ends_with(".fifo")
    }

    fn batch_entry(&self, e: &Entry, f: &Finding) -> Option<PublishBatchRequestEntry> {
        let mut b = PublishBatchRequestEntry::builder()
            .id(format!("f{}", e.index))
            .message(&e.message)
            .message_structure("json")
            .subject(&e.rendered.subject);
        for (k, v) in &e.rendered.attributes {
            b = b.message_attributes(*k, attribute(v)?);
        }
        if self.fifo() {
            let (group, dedup) = fifo_ids(f);
            b = b.message_group_id(group).message_deduplication_id(dedup);
        }
        b.build().ok()
    }

    /// Publishes one batch; what failed goes to `failures`.
    async fn publish_batch(
        &self,
        batch: &[Entry],
        findings: &[Finding],
        failures: &mut Vec<Failure>,
    ) {
        let mut entries = Vec::with_capacity(batch.len());
        for e in batch {
            match self.batch_entry(e, &findings[e.index]) {
                Some(entry) => entries.push(entry),
                None => failures.push(Failure::new(
                    e.index,
                    &findings[e.index],
                    "could not build the SNS entry",
                )),
            }
        }
        if entries.is_empty() {
            return;
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        let sent = self
            .client
            .publish_batch()
            .topic_arn(&self.topic)
            .set_publish_batch_request_entries(Some(entries))
            .send()
            .await;
        let out = match sent {
            Ok(out) => out,
            Err(e) => {
                let why = describe(&e);
                failures.extend(
                    batch
                        .iter()
                        .map(|x| Failure::new(x.index, &findings[x.index], why.clone())),
                );
                return;
            }
        };
        let ok: Vec<&str> = out.successful().iter().filter_map(|s| s.id()).collect();
        let mut again = Vec::new();
        for e in batch {
            let id = format!("f{}", e.index);
            if ok.contains(&id.as_str()) {
                continue;
            }
            match out.failed().iter().find(|f| f.id() == id) {
                Some(f) if f.sender_fault() => failures.push(Failure::new(
                    e.index,
                    &findings[e.index],
                    format!("{}: {}", f.code(), f.message().unwrap_or("rejected")),
                )),
                // Failed through no fault of ours, or not reported at all: try again alone.
                _ => again.push(e),
            }
        }
        for e in again {
            let pause = {
                let mut j = match self.jitter.lock() {
                    Ok(j) => j,
                    Err(p) => p.into_inner(),
                };
                self.retry.backoff(1, &mut j)
            };
            tokio::time::sleep(pause).await;
            if let Err(why) = self.publish_one(e, &findings[e.index]).await {
                failures.push(Failure::new(e.index, &findings[e.index], why));
            }
        }
    }

    async fn publish_one(&self, e: &Entry, f: &Finding) -> Result<(), String> {
        let mut call = self
            .client
            .publish()
            .topic_arn(&self.topic)
            .message(&e.message)
            .message_structure("json")
            .subject(&e.rendered.subject);
        for (k, v) in &e.rendered.attributes {
            call = call.message_attributes(*k, attribute(v).ok_or("bad attribute")?);
        }
        if self.fifo() {
            let (group, dedup) = fifo_ids(f);
            call = call.message_group_id(group).message_deduplication_id(dedup);
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        call.send().await.map(|_| ()).map_err(|e| describe(&e))
    }
}

impl Notifier for SnsNotifier {
    fn send(&self, findings: &[Finding]) -> Result<(), Undelivered> {
        let mut failures = Vec::new();
        let mut batch: Vec<Entry> = Vec::with_capacity(BATCH_ENTRIES);
        let mut weight_so_far = 0;
        for (index, f) in findings.iter().enumerate() {
            let rendered = render(f);
            let message = rendered.message();
            let w = weight(&rendered, &message);
            if !batch.is_empty()
                && (batch.len() == BATCH_ENTRIES || weight_so_far + w > MESSAGE_MAX)
            {
                self.rt
                    .block_on(self.publish_batch(&batch, findings, &mut failures));
                batch.clear();
                weight_so_far = 0;
            }
            weight_so_far += w;
            batch.push(Entry {
                index,
                rendered,
                message,
            });
        }
        if !batch.is_empty() {
            self.rt
                .block_on(self.publish_batch(&batch, findings, &mut failures));
        }
        if failures.is_empty() {
            Ok(())
        } else {
            failures.sort_by_key(|f| f.index);
            Err(Undelivered {
                failures,
                of: findings.len(),
            })
        }
    }
}
