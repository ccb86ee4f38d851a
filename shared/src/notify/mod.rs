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
///
/// Two senders of the same alerts at once (two invocations of one retried event, two requests
/// to the IBM app) never both send one: each alert is claimed for the sender (a lease of
/// [`SEND_LEASE_MS`]) before it is sent, and given back after. An alert another sender holds is
/// neither sent nor counted as delivered: it fails this delivery, so that the retry finds it
/// sent (or the lease of a sender that died expired) and nothing is lost.
pub fn deliver(
    notifier: &dyn Notifier,
    alerts: &[Finding],
    store: &mut dyn WindowStore,
    now: i64,
) -> Result<Delivered, DeliveryError> {
    let owner = sender_id();
    let mut pending = Vec::with_capacity(alerts.len());
    let mut already = 0;
    let mut elsewhere = Vec::new();
    for (i, a) in alerts.iter().enumerate() {
        if store.held(&ledger_key(a), now)? {
            already += 1;
            continue;
        }
        if !store.claim(&sending_key(a), &owner, now + SEND_LEASE_MS, now)? {
            elsewhere.push(Failure::new(
                i,
                a,
                "being sent by another invocation at the same time: retry to confirm it was sent",
            ));
            continue;
        }
        // The other sender may have finished between the two reads.
        if store.held(&ledger_key(a), now)? {
            store.release(&sending_key(a), &owner)?;
            already += 1;
            continue;
        }
        pending.push(a.clone());
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
        store.release(&sending_key(a), &owner)?;
    }
    let sent = pending.len() - failed.len();
    match result {
        Ok(()) if elsewhere.is_empty() => Ok(Delivered { sent, already }),
        Ok(()) => Err(DeliveryError::Undelivered(Undelivered {
            failures: elsewhere,
            of: alerts.len(),
        })),
        Err(mut u) => {
            u.failures.extend(elsewhere);
            u.of = alerts.len();
            Err(DeliveryError::Undelivered(u))
        }
    }
}

/// How long a sender holds an alert it is sending: longer than a publish with its retries
/// takes, shorter than a platform's first retry (Lambda waits a minute), so that a sender that
/// died does not hold the alert from the retry.
pub const SEND_LEASE_MS: i64 = 45_000;

/// One sender's name, unique across processes and deliveries: the process, its clock and a
/// counter.
fn sender_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn sending_key(f: &Finding) -> String {
    format!("sending|{}", f.key())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::Detector;
    use crate::event::Event;
    use crate::window::MemoryStore;
    use serde_json::json;

    fn findings(n: usize) -> Vec<Finding> {
        let packs = crate::packs::all().expect("built-in packs");
        let d = Detector::new(&packs);
        (0..n)
            .flat_map(|i| {
                let e = Event::new(json!({
                    "eventVersion": "1.08", "eventSource": "iam.amazonaws.com",
                    "eventName": "CreateUser", "eventID": format!("e{i}"),
                    "eventTime": "2026-11-20T10:00:00Z", "awsRegion": "us-east-1",
                    "recipientAccountId": "111122223333",
                    "userIdentity": {"type": "IAMUser", "userName": "alice"}
                }))
                .expect("event");
                d.evaluate(&e)
            })
            .collect()
    }

    /// Fails every write after the first `ok` bytes.
    struct Full {
        ok: usize,
        written: Vec<u8>,
    }

    impl Write for Full {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.written.len() + buf.len() > self.ok {
                return Err(std::io::Error::other("disk full"));
            }
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn json_lines_writes_one_finding_per_line() {
        let f = findings(3);
        assert!(f.len() >= 3);
        let n = JsonLines::new(Vec::new());
        n.send(&f).expect("written");
        let out = String::from_utf8(n.into_inner()).expect("utf-8");
        let lines: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON"))
            .collect();
        assert_eq!(lines.len(), f.len());
        assert_eq!(lines[0], f[0].to_json());
    }

    #[test]
    fn a_failed_write_names_the_findings_it_lost() {
        let f = findings(4);
        let first = f[0].to_json_string().len() + 1;
        let n = JsonLines::new(Full {
            ok: first,
            written: Vec::new(),
        });
        let err = n.send(&f).expect_err("the disk fills up");
        assert_eq!(err.of, f.len());
        assert_eq!(
            err.failures.iter().map(|x| x.index).collect::<Vec<_>>(),
            (1..f.len()).collect::<Vec<_>>()
        );
        assert_eq!(err.failures[0].key, f[1].key());
        assert!(err.to_string().contains("disk full"), "{err}");
    }

    #[test]
    fn deliver_sends_each_alert_once_across_retries() {
        let f = findings(3);
        let mut store = MemoryStore::default();
        // The first attempt gets one line out, then the disk is full.
        let n = JsonLines::new(Full {
            ok: f[0].to_json_string().len() + 1,
            written: Vec::new(),
        });
        match deliver(&n, &f, &mut store, 0) {
            Err(DeliveryError::Undelivered(u)) => assert_eq!(u.failures.len(), f.len() - 1),
            other => panic!("expected undelivered alerts: {other:?}"),
        }
        // The retry sends the rest, and only the rest.
        let n = JsonLines::new(Vec::new());
        let d = deliver(&n, &f, &mut store, 1_000).expect("delivered");
        assert_eq!((d.sent, d.already), (f.len() - 1, 1));
        let out = String::from_utf8(n.into_inner()).expect("utf-8");
        assert_eq!(out.lines().count(), f.len() - 1);
        assert!(!out.lines().any(|l| l == f[0].to_json_string()));
        // Remembered for a week, then forgotten.
        let n = JsonLines::new(Vec::new());
        let d = deliver(&n, &f, &mut store, DELIVERY_MEMORY_MS - 1).expect("nothing to send");
        assert_eq!((d.sent, d.already), (0, f.len()));
        let d = deliver(&n, &f, &mut store, DELIVERY_MEMORY_MS + 1_000).expect("sent again");
        assert_eq!(d.sent, f.len());
    }

    #[test]
    fn two_senders_at_once_send_each_alert_once_and_lose_none() {
        let f = findings(3);
        let mut store = MemoryStore::default();
        // Another invocation is sending the second alert right now.
        assert!(store
            .claim(&sending_key(&f[1]), "other", SEND_LEASE_MS, 0)
            .unwrap());
        let n = JsonLines::new(Vec::new());
        match deliver(&n, &f, &mut store, 1_000) {
            Err(DeliveryError::Undelivered(u)) => {
                assert_eq!(u.failures.len(), 1);
                assert_eq!(u.failures[0].key, f[1].key());
                assert!(u.failures[0].reason.contains("another invocation"));
            }
            other => panic!("expected the alert held elsewhere to fail: {other:?}"),
        }
        let out = String::from_utf8(n.into_inner()).expect("utf-8");
        assert_eq!(out.lines().count(), 2, "the two others are sent");
        assert!(!out.contains(&f[1].to_json_string()));
        // Our own claims were given back: only the other sender's remains.
        assert!(!store.held(&sending_key(&f[0]), 1_000).unwrap());
        assert!(store.held(&sending_key(&f[1]), 1_000).unwrap());
        // It finished and recorded the alert: the retry sends nothing more.
        store
            .claim(&ledger_key(&f[1]), "sent", DELIVERY_MEMORY_MS, 2_000)
            .unwrap();
        store.release(&sending_key(&f[1]), "other").unwrap();
        let n = JsonLines::new(Vec::new());
        let d = deliver(&n, &f, &mut store, 3_000).expect("all delivered");
        assert_eq!((d.sent, d.already), (0, 3));
        // A sender that died without recording: once its lease has run out the retry sends.
        let g = findings(4).split_off(3);
        store
            .claim(&sending_key(&g[0]), "dead", SEND_LEASE_MS, 0)
            .unwrap();
        let n = JsonLines::new(Vec::new());
        assert!(deliver(&n, &g, &mut store, 1_000).is_err());
        let d = deliver(&n, &g, &mut store, SEND_LEASE_MS + 1).expect("sent");
        assert_eq!(d.sent, 1);
    }
}
