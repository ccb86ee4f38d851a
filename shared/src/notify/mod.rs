//! Delivering alerts: a [`Notifier`] sends findings somewhere (Amazon SNS, or JSON lines on
//! standard output), and [`deliver`] makes a retried batch deliver each alert once.
//!
//! Delivery is at least once and de-duplicated: an alert is recorded as sent in the window
//! store after its publish succeeded, and a retry of the batch skips what is recorded. An
//! alert whose publish failed is not recorded, so the retry sends it. Only a crash between
//! a publish and its record can send an alert twice; each alert carries its `finding_id` for
//! consumers that must be exact.

#[cfg(feature = "aws")]
pub mod sns;

#[cfg(feature = "aws")]
pub use sns::SnsNotifier;

use crate::finding::Finding;
use crate::window::{StoreError, WindowStore};
use std::fmt;
use std::io::Write;
use std::sync::Mutex;

/// How long a delivery is remembered: longer than any platform retries a batch (Lambda's
/// asynchronous retries end after at most 6 hours).
pub const DELIVERY_MEMORY_MS: i64 = 7 * 24 * 3_600_000;

/// Something that sends alerts.
pub trait Notifier {
    /// Sends every finding. `Err` names the findings that were not delivered (by their
    /// position in `findings`); every other one was.
    fn send(&self, findings: &[Finding]) -> Result<(), Undelivered>;
}

/// One finding that could not be delivered, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Its position in the findings given to [`Notifier::send`].
    pub index: usize,
    /// [`Finding::key`].
    pub key: String,
    pub title: String,
    pub reason: String,
}

impl Failure {
    pub fn new(index: usize, finding: &Finding, reason: impl Into<String>) -> Self {
        Self {
            index,
            key: finding.key(),
            title: finding.title.clone(),
            reason: reason.into(),
        }
    }
}

/// The findings a send did not deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undelivered {
    pub failures: Vec<Failure>,
    /// How many findings the send was given.
    pub of: usize,
}

impl fmt::Display for Undelivered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of {} alert{} not delivered:",
            self.failures.len(),
            self.of,
            if self.of == 1 { "" } else { "s" }
        )?;
        for x in &self.failures {
            write!(f, "\n  {} ({}): {}", x.key, x.title, x.reason)?;
        }
        Ok(())
    }
}

impl std::error::Error for Undelivered {}

/// Why [`deliver`] failed: the store could not be asked, or some alerts were not sent.
#[derive(Debug)]
pub enum DeliveryError {
    Store(StoreError),
    Undelivered(Undelivered),
}

impl fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeliveryError::Store(e) => e.fmt(f),
            DeliveryError::Undelivered(u) => u.fmt(f),
        }
    }
}

impl std::error::Error for DeliveryError {}

impl From<StoreError> for DeliveryError {
    fn from(e: StoreError) -> Self {
        DeliveryError::Store(e)
    }
}

/// What [`deliver`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivered {
    pub sent: usize,
    /// Alerts an earlier attempt of the same batch delivered already.
    pub already: usize,
}

/// Sends `alerts` through `notifier`, skipping those `store` says were delivered before, and
/// records what was sent. `now` is the wall clock in ms since the epoch. Fails — so that the
/// platform retries the batch — when any alert was not delivered; the ones that were are
/// recorded all the same, and the retry skips them.
pub fn deliver(
    notifier: &dyn Notifier,
    alerts: &[Finding],
    store: &mut dyn WindowStore,
    now: i64,
) -> Result<Delivered, DeliveryError> {
    let mut pending = Vec::with_capacity(alerts.len());
    let mut already = 0;
    for a in alerts {
        if store.held(&ledger_key(a), now)? {
            already += 1;
        } else {
            pending.push(a.clone());
        }
    }
    let result = notifier.send(&pending);
    let failed: Vec<usize> = match &result {
        Ok(()) => Vec::new(),
        Err(u) => u.failures.iter().map(|f| f.index).collect(),
    };
    for (i, a) in pending.iter().enumerate() {
        if !failed.contains(&i) {
            let key = ledger_key(a);
            store.claim(&key, "sent", now + DELIVERY_MEMORY_MS, now)?;
        }
    }
    match result {
        Ok(()) => Ok(Delivered {
            sent: pending.len(),
            already,
        }),
        Err(u) => Err(DeliveryError::Undelivered(u)),
    }
}

fn ledger_key(f: &Finding) -> String {
    format!("sent|{}", f.key())
}

/// Alerts as JSON lines (the finding's JSON, one object per line) on a writer: the CLI's
/// notifier, and a sink for anything that reads standard output.
pub struct JsonLines<W: Write + Send> {
    out: Mutex<W>,
}

impl<W: Write + Send> JsonLines<W> {
    pub fn new(out: W) -> Self {
        Self {
            out: Mutex::new(out),
        }
    }

    pub fn into_inner(self) -> W {
        match self.out.into_inner() {
            Ok(w) => w,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

impl<W: Write + Send> Notifier for JsonLines<W> {
    fn send(&self, findings: &[Finding]) -> Result<(), Undelivered> {
        let mut out = match self.out.lock() {
            Ok(o) => o,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut failures = Vec::new();
        for (i, f) in findings.iter().enumerate() {
            let mut line = f.to_json_string();
            line.push('\n');
            if let Err(e) = out.write_all(line.as_bytes()) {
                failures.push(Failure::new(i, f, format!("cannot write: {e}")));
            }
        }
        if let Err(e) = out.flush() {
            // Nothing is known to have arrived.
            failures = findings
                .iter()
                .enumerate()
                .map(|(i, f)| Failure::new(i, f, format!("cannot write: {e}")))
                .collect();
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(Undelivered {
                failures,
                of: findings.len(),
            })
        }
    }
}
