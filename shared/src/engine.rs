//! The engine's front door: built once from a [`Config`], then fed inputs.
//!
//! ```text
//! Engine::new(&config)        packs loaded and compiled, projection and screen made: once
//! Run::new(&mut store)        one run's window state, notifier, counts, pending alerts
//! engine.scan(input, fmt, &mut run, out)   every record read, matched, counted, alerted
//! run.finish()                the last alerts sent
//! ```
//!
//! [`Engine::evaluate`] does all of that for one input and returns a [`Report`]; the CLI
//! calls [`Engine::scan`] to write findings as they come.
//!
//! The whole pipeline, as a handler runs it (here with the window state in memory and the
//! alerts written as JSON lines; a deployed handler passes the DynamoDB store and the SNS
//! notifier, as [`crate::service::Service`] does):
//!
//! ```
//! use iamwatch::config::Config;
//! use iamwatch::engine::{Engine, EngineError, Run};
//! use iamwatch::ingest::Format;
//! use iamwatch::notify::JsonLines;
//! use iamwatch::window::MemoryStore;
//!
//! # fn main() -> Result<(), EngineError> {
//! // Once, at start-up: settings from the environment (IAMWATCH_*), packs compiled.
//! let config = Config::default();
//! let engine = Engine::new(&config)?;
//! let mut windows = MemoryStore::default();
//! let alerts = JsonLines::new(Vec::new());
//!
//! // Per invocation: the trigger's payload, as it arrived.
//! let payload = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"),
//!     "/../examples/awslogs/subscription-event.json")).expect("example");
//! let mut run = Run::new(&mut windows).notify(&alerts);
//! let outcome = engine.evaluate(&payload[..], Format::AwsLogs, &mut run);
//! for bad in &outcome.report.bad {
//!     eprintln!("{}: {}", bad.position, bad.reason); // logged and counted; the rest goes on
//! }
//! let report = match outcome.into_result() {
//!     Ok(report) => report,
//!     // SNS or DynamoDB unreachable, the deadline: fail so that the platform retries.
//!     Err(e) if e.is_transient() => return Err(e),
//!     Err(e) => panic!("configuration: {e}"),
//! };
//! assert_eq!(report.counts.bad, 0);
//! assert_eq!(report.delivered.sent, report.alerts.len());
//! drop(run);
//! let sent = String::from_utf8(alerts.into_inner()).expect("JSON lines");
//! assert_eq!(sent.lines().count(), report.alerts.len());
//! assert!(report.alerts.iter().any(|a| a.rule.id == "console-login-without-mfa"), "{sent}");
//! # Ok(()) }
//! ```
//!
//! ## Synchronous detection, asynchronous clients
//! Detection, windows and delivery are plain synchronous code: a record's windows must be
//! counted before the next record is matched, and most records touch no network at all. The
//! AWS clients behind the DynamoDB window store and the SNS notifier drive their requests on
//! a tokio runtime with `Handle::block_on`, which tokio allows only on threads that are not
//! the runtime's workers. So a synchronous program (the CLI) calls the engine from its own
//! thread, and an async handler calls [`crate::service::Service::process`], which runs the
//! engine on tokio's blocking pool and awaits it: no worker thread is ever blocked, and the
//! library never calls `block_on` from inside the runtime.

use crate::accounts::AccountNames;
use crate::config::{self, Config, ConfigError, Later};
use crate::detector::{self, Detector};
use crate::event::{Event, Provider};
use crate::exceptions::{Exception, Exceptions, Subject};
use crate::finding::Finding;
use crate::ingest::{self, Format, Item, Position};
use crate::notify::{deliver, Delivered, DeliveryError, Failure, Notifier, Undelivered};
use crate::packs;
use crate::pattern::ast::Step;
use crate::projection::Projection;
use crate::rules::{Mode, Pack, Severity};
use crate::screen::{Need, Screen, Text as ScreenText};
use crate::time::Timestamp;
use crate::window::{StoreError, WindowStore};
use std::cell::OnceCell;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::io::{self, Read};
use std::ops::ControlFlow;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// Alerts go out in batches of this many (one SNS `PublishBatch`).
const BATCH: usize = 10;

/// A [`Report`] lists at most this many bad records; the rest are counted.
pub const BAD_LISTED: usize = 1_000;

/// Why a run stopped or could not start. [`EngineError::is_transient`] tells a handler whether
/// retrying the invocation can help.
#[derive(Debug)]
pub enum EngineError {
    /// The configuration or a pack is wrong: retrying cannot help.
    Config(ConfigError),
    /// The input could not be read at all (not a bad record: those are counted).
    Read(io::Error),
    /// The input is not there (an object deleted before it was read): retrying cannot help.
    Missing(String),
    /// The window state could not be reached; nothing after the record being processed was.
    State(StoreError),
    /// Some alerts were not delivered; the others were, and a retry sends only these.
    Undelivered(Undelivered),
    /// The caller's deadline came before the input was processed whole; the alerts of the
    /// records processed were delivered, and a retry skips them.
    Deadline {
        /// Records processed before the deadline.
        processed: u64,
    },
}

impl EngineError {
    /// Whether the same input may succeed later (the platform should retry it), as opposed
    /// to a configuration that will fail every time.
    pub fn is_transient(&self) -> bool {
        !matches!(self, EngineError::Config(_) | EngineError::Missing(_))
    }

    /// A short name for the kind of failure, for error types in logs and platform answers.
    pub fn kind(&self) -> &'static str {
        match self {
            EngineError::Config(_) => "iamwatch.Config",
            EngineError::Read(_) => "iamwatch.Read",
            EngineError::Missing(_) => "iamwatch.Missing",
            EngineError::State(_) => "iamwatch.State",
            EngineError::Undelivered(_) => "iamwatch.Undelivered",
            EngineError::Deadline { .. } => "iamwatch.Deadline",
        }
    }
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::Config(e) => e.fmt(f),
            EngineError::Read(e) => write!(f, "cannot read the input: {e}"),
            EngineError::Missing(m) => f.write_str(m),
            EngineError::State(e) => write!(f, "{e} (nothing after this event was processed)"),
            EngineError::Undelivered(u) => u.fmt(f),
            EngineError::Deadline { processed } => write!(
                f,
                "stopped before the deadline after {processed} records; the rest were not processed"
            ),
        }
    }
}

impl std::error::Error for EngineError {}

impl From<ConfigError> for EngineError {
    fn from(e: ConfigError) -> Self {
        EngineError::Config(e)
    }
}

/// What a run has seen so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Audit records read (bad ones not included).
    pub events: u64,
    /// Records that could not be read, or are not audit events.
    pub bad: u64,
    /// Findings reported, by [`Severity`] (`Severity as usize`).
    pub findings: [u64; 5],
    /// Matches that a rule's `suppress` held back.
    pub suppressed: u64,
    /// Bytes of input read (compressed, as given).
    pub bytes: u64,
    /// Records that repeat a key, each evaluated once per reading (counted once in
    /// `events`).
    pub repeated: u64,
    /// Matches that an exception accepted: not counted in windows, not reported as findings.
    pub excepted: u64,
    /// Findings of dry-run rules: reported and counted, never sent (not in `findings`).
    pub dry_run: u64,
}

impl Counts {
    /// Findings reported, of every severity.
    pub fn total_findings(&self) -> u64 {
        self.findings.iter().sum()
    }
}

/// One thing a scan hands to its caller, in input order.
#[derive(Debug)]
pub enum Found<'a> {
    /// A finding at or above the engine's minimum severity, after suppression.
    Finding {
        finding: &'a Finding,
        position: Position,
        /// The record's text as read, when it was read from text that holds it alone.
        raw: Option<&'a [u8]>,
    },
    /// A record that could not be read, or is not an audit event.
    Bad { position: Position, reason: &'a str },
    /// A match that an exception accepted: no finding, no alert, not counted in windows.
    Excepted {
        pack: &'a str,
        rule: &'a str,
        exception: &'a Exception,
        event: &'a Event,
        position: Position,
    },
}

/// A record that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRecord {
    pub position: Position,
    pub reason: String,
}

/// What [`Engine::evaluate`] found in one input.
#[derive(Debug, Default)]
pub struct Report {
    pub counts: Counts,
    /// The alerts reported (and, with a notifier, delivered or named in the error).
    pub alerts: Vec<Finding>,
    /// Findings of dry-run rules: reported, never sent.
    pub dry_run: Vec<Finding>,
    /// Matches accepted, by exception name.
    pub excepted: BTreeMap<String, u64>,
    /// The bad records, the first [`BAD_LISTED`] of them.
    pub bad: Vec<BadRecord>,
    /// What delivery did.
    pub delivered: Delivered,
    /// Alerts that could not be delivered.
    pub undelivered: usize,
}

impl Report {
    /// Adds what `other` (the report of another input of the same invocation) found.
    pub fn absorb(&mut self, other: Report) {
        self.counts.events += other.counts.events;
        self.counts.bad += other.counts.bad;
        for (a, b) in self.counts.findings.iter_mut().zip(other.counts.findings) {
            *a += b;
        }
        self.counts.suppressed += other.counts.suppressed;
        self.counts.bytes += other.counts.bytes;
        self.counts.repeated += other.counts.repeated;
        self.counts.excepted += other.counts.excepted;
        self.counts.dry_run += other.counts.dry_run;
        self.alerts.extend(other.alerts);
        self.dry_run.extend(other.dry_run);
        for (name, n) in other.excepted {
            *self.excepted.entry(name).or_default() += n;
        }
        let room = BAD_LISTED.saturating_sub(self.bad.len());
        self.bad.extend(other.bad.into_iter().take(room));
        self.delivered.sent += other.delivered.sent;
        self.delivered.already += other.delivered.already;
        self.undelivered += other.undelivered;
    }
}

/// What [`Engine::evaluate`] did with one input: what it found, and why it stopped early or
/// failed to deliver, if it did. The report is whole either way (metrics need it).
#[derive(Debug)]
pub struct Outcome {
    pub report: Report,
    pub error: Option<EngineError>,
}

impl Outcome {
    /// The report, or the error when there was one.
    pub fn into_result(self) -> Result<Report, EngineError> {
        match self.error {
            None => Ok(self.report),
            Some(e) => Err(e),
        }
    }
}

/// One run's state: where windows are kept, where alerts go, what was seen. Windows span the
/// inputs of a run (a burst split over two files counts as one).
pub struct Run<'s> {
    store: &'s mut dyn WindowStore,
    notifier: Option<&'s dyn Notifier>,
    deadline: Option<Instant>,
    pending: Vec<Finding>,
    pub counts: Counts,
    pub delivered: Delivered,
    /// Alerts that could not be delivered (the run goes on; [`Run::finish`] fails).
    pub undelivered: Vec<Failure>,
    /// Inside the readings of a record that repeats a key: which reading (1-based; 0 outside
    /// them), and the rules that fired on an earlier reading (one finding per rule).
    reading: usize,
    reading_fired: Vec<(Arc<str>, String)>,
    /// Matches accepted so far, by exception name.
    pub excepted: BTreeMap<String, u64>,
    /// (exception, day) already marked as used in the store by this run.
    marked: HashSet<(String, i64)>,
}

impl<'s> Run<'s> {
    /// A run keeping its windows in `store`, sending nothing.
    pub fn new(store: &'s mut dyn WindowStore) -> Self {
        Self {
            store,
            notifier: None,
            deadline: None,
            pending: Vec::new(),
            counts: Counts::default(),
            delivered: Delivered::default(),
            undelivered: Vec::new(),
            reading: 0,
            reading_fired: Vec::new(),
            excepted: BTreeMap::new(),
            marked: HashSet::new(),
        }
    }

    /// Alerts are sent through `notifier`, once each: the store remembers what was sent, and
    /// a retried input skips it.
    pub fn notify(mut self, notifier: &'s dyn Notifier) -> Self {
        self.notifier = Some(notifier);
        self
    }

    /// Records are not started after `deadline` (leave a margin for the last delivery).
    pub fn until(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// The window store.
    pub fn store(&mut self) -> &mut dyn WindowStore {
        self.store
    }

    /// Sends the alerts still pending; fails when any alert of the run was not delivered.
    pub fn finish(&mut self) -> Result<(), EngineError> {
        self.flush()?;
        if self.undelivered.is_empty() {
            return Ok(());
        }
        Err(EngineError::Undelivered(Undelivered {
            failures: self.undelivered.clone(),
            of: self.delivered.sent + self.undelivered.len(),
        }))
    }

    fn push(&mut self, alert: Finding) -> Result<(), StoreError> {
        if self.notifier.is_none() {
            return Ok(());
        }
        self.pending.push(alert);
        if self.pending.len() >= BATCH {
            return self.flush_batch();
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), EngineError> {
        self.flush_batch().map_err(EngineError::State)
    }

    fn flush_batch(&mut self) -> Result<(), StoreError> {
        let Some(notifier) = self.notifier else {
            return Ok(());
        };
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.pending);
        match deliver(notifier, &batch, self.store, Timestamp::now().millis()) {
            Ok(d) => {
                self.delivered.sent += d.sent;
                self.delivered.already += d.already;
                Ok(())
            }
            Err(DeliveryError::Undelivered(u)) => {
                self.delivered.sent += batch.len() - u.failures.len();
                for f in &u.failures {
                    tracing::error!(alert = %f.key, reason = %f.reason, "alert not delivered");
                }
                self.undelivered.extend(u.failures);
                Ok(())
            }
            Err(DeliveryError::Store(e)) => Err(e),
        }
    }
}

/// The rules, compiled, with what reading needs to know of them. Build it once; it is
/// immutable and can be shared between threads.
pub struct Engine {
    detector: Detector,
    /// How far records are built: only as far as the rules look.
    projection: Projection,
    /// What no rule can match, and how far such records are read.
    screen: Option<(Screen, Projection)>,
    min_severity: Severity,
    /// The largest record read (see [`Config::max_record`]).
    max_record: usize,
    /// Global exceptions, and those of the packs and their rules.
    exceptions: Exceptions,
    /// Account names for alerts.
    names: Arc<AccountNames>,
    /// Built-in packs not loaded yet, and the engine with them (see [`Engine::for_cloudtrail`]).
    waiting: Option<Box<Waiting>>,
}

/// Built-in packs for CADF records alone, left out of an engine until such a record comes.
struct Waiting {
    /// The packs the engine was built from.
    loaded: Vec<Pack>,
    /// The packs left out, each with its place among all of them.
    later: Later,
    config: Config,
    /// The engine with every pack, built for the first CADF record.
    full: OnceLock<Result<Engine, ConfigError>>,
}

impl Waiting {
    /// The engine with every pack, `names` naming its accounts: the packs left out are loaded
    /// and put in their places among those already loaded.
    fn engine(&self, names: &Arc<AccountNames>) -> Result<&Engine, ConfigError> {
        let built = self.full.get_or_init(|| {
            let later: Vec<&str> = self.later.iter().map(|(_, n)| *n).collect();
            tracing::info!(packs = %later.join(", "), "a CADF record: loading the packs kept for one");
            let mut packs = self.loaded.clone();
            for &(at, name) in &self.later {
                packs.insert(at, config::builtin_pack(name)?);
            }
            let mut engine = Engine::configured(&self.config, &packs, &[]);
            engine.names = names.clone();
            Ok(engine)
        });
        built.as_ref().map_err(Clone::clone)
    }
}

impl Engine {
    /// The engine `config` describes: its packs loaded, checked and compiled.
    pub fn new(config: &Config) -> Result<Self, EngineError> {
        let packs = config.packs.load()?;
        Ok(Self::configured(config, &packs, &[]))
    }

    /// [`Engine::new`] for a handler whose records are CloudTrail's: the chosen built-in packs
    /// whose rules apply to CADF records alone (the IBM packs) are loaded and compiled when
    /// the first CADF record comes, so that the handler is ready in half the time. Every
    /// record gets the findings [`Engine::new`]'s engine gives it: a CADF record is built
    /// whole and evaluated by the engine with every pack, which then takes over (see
    /// [`Engine::current`]).
    pub fn for_cloudtrail(config: &Config) -> Result<Self, EngineError> {
        let cadf_only = |name: &str| packs::only_for(name) == Some(Provider::Cadf);
        let (loaded, later) = config.packs.load_except(cadf_only)?;
        let mut engine = Self::configured(config, &loaded, &later);
        if later.is_empty() {
            return Ok(engine);
        }
        // CADF records must reach `Engine::record` whole: none is turned away (each has a
        // string `action`, which admits it) and nothing is left out of a record.
        let admit_cadf = vec![Need::Member {
            key: "action".to_string(),
            text: ScreenText::Prefix(String::new()),
        }];
        engine.screen = engine.detector.screen_with(Some(admit_cadf));
        engine.projection = Projection::everything();
        engine.waiting = Some(Box::new(Waiting {
            loaded,
            later,
            config: config.clone(),
            full: OnceLock::new(),
        }));
        Ok(engine)
    }

    /// The engine to run from now on: this one, or, once a record made it load the packs it
    /// left waiting (see [`Engine::for_cloudtrail`]), the engine with every pack.
    pub fn current(&self) -> &Engine {
        match self.waiting.as_ref().and_then(|w| w.full.get()) {
            Some(Ok(full)) => full,
            _ => self,
        }
    }

    /// The engine of `packs` as `config` sets it up; `later` names built-in packs loaded
    /// later (see [`crate::config::PackChoice::load_except`]), whose rules an exception may name.
    fn configured(config: &Config, packs: &[Pack], later: &[(usize, &str)]) -> Self {
        let engine = Self::from_packs(packs, config.packs.all_rules, config.min_severity)
            .with_max_record(config.max_record)
            .with_exceptions(config.exceptions.clone())
            .with_account_names(config.account_names.clone());
        // A global exception for rules that are not loaded is kept (packs differ between
        // deployments), but said.
        for e in &config.exceptions {
            for g in &e.rules {
                let any = packs
                    .iter()
                    .any(|p| p.rules.iter().any(|r| e.names(g, &p.name, &r.id)))
                    || later.iter().any(|(_, p)| e.may_name_in(g, p));
                if !any {
                    tracing::warn!(exception = %e.name, rules = %g, "the exception names no loaded rule");
                }
            }
        }
        engine
    }

    /// The same engine with `global` exceptions too (besides those of its packs).
    pub fn with_exceptions(mut self, global: Vec<Exception>) -> Self {
        let mut all = Exceptions::global(global);
        for e in self.exceptions.pack_scoped() {
            all.push(e.clone());
        }
        self.exceptions = all;
        self.projection = self.read_for_exceptions(self.projection.clone());
        self
    }

    /// The same engine naming accounts with `names`.
    pub fn with_account_names(mut self, names: AccountNames) -> Self {
        self.names = Arc::new(names);
        self
    }

    /// Every exception the engine applies.
    pub fn exceptions(&self) -> &Exceptions {
        &self.exceptions
    }

    /// `p` with what exceptions read of a record, when there are exceptions.
    fn read_for_exceptions(&self, mut p: Projection) -> Projection {
        if self.exceptions.is_empty() {
            return p;
        }
        for key in EXCEPTIONS_READ {
            p.keep(&[Step::Key((*key).to_string())]);
        }
        for key in ["roleArn", "roleSessionName"] {
            p.keep(&[
                Step::Key("requestParameters".to_string()),
                Step::Key(key.to_string()),
            ]);
        }
        p
    }

    /// The same engine reading records of up to `bytes` (larger ones are bad records).
    pub fn with_max_record(mut self, bytes: usize) -> Self {
        self.max_record = bytes;
        self
    }

    /// The engine of `packs` (with their dormant rules when `all_rules`), reporting findings
    /// of `min_severity` and above.
    pub fn from_packs(packs: &[Pack], all_rules: bool, min_severity: Severity) -> Self {
        let detector = if all_rules {
            Detector::with_filter(packs, |_, _| true)
        } else {
            Detector::new(packs)
        };
        let mut exceptions = Exceptions::default();
        for p in packs {
            exceptions.add_pack(p);
        }
        let mut engine = Self {
            projection: detector.projection(),
            screen: detector.screen(),
            detector,
            min_severity,
            max_record: ingest::DEFAULT_MAX_RECORD,
            exceptions,
            names: Arc::default(),
            waiting: None,
        };
        engine.projection = engine.read_for_exceptions(engine.projection.clone());
        engine
    }

    /// The compiled rules.
    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    pub fn min_severity(&self) -> Severity {
        self.min_severity
    }

    /// Reads every record of `input` (laid out as `format`, gzip or not), matches it, counts
    /// its windows, and hands each finding and each bad record to `out` in order; alerts go
    /// to the run's notifier. `out` may stop the scan with `Break`.
    ///
    /// `Err` only when the run cannot go on (the window state is unreachable, the input
    /// cannot be read at all, the deadline came); bad records are counted and go on.
    pub fn scan(
        &self,
        input: impl Read,
        format: Format,
        run: &mut Run<'_>,
        out: &mut dyn FnMut(Found<'_>) -> ControlFlow<()>,
    ) -> Result<(), EngineError> {
        let mut input = Counting {
            inner: input,
            read: 0,
        };
        let result = self.scan_with(run, out, |projection, screen, sink| {
            ingest::read_screened(
                &mut input,
                format,
                projection,
                screen,
                self.max_record,
                sink,
            )
        });
        run.counts.bytes += input.read;
        result
    }

    /// [`Engine::scan`] for input already in memory (a trigger's payload): read where it
    /// lies, with no copy into a read buffer.
    pub fn scan_bytes(
        &self,
        input: &[u8],
        format: Format,
        run: &mut Run<'_>,
        out: &mut dyn FnMut(Found<'_>) -> ControlFlow<()>,
    ) -> Result<(), EngineError> {
        run.counts.bytes += input.len() as u64;
        self.scan_with(run, out, |projection, screen, sink| {
            ingest::read_screened_bytes(input, format, projection, screen, self.max_record, sink)
        })
    }

    /// A scan whose records `read` hands to its sink.
    fn scan_with(
        &self,
        run: &mut Run<'_>,
        out: &mut dyn FnMut(Found<'_>) -> ControlFlow<()>,
        read: impl FnOnce(
            &Projection,
            Option<(&Screen, &Projection)>,
            &mut ingest::Sink,
        ) -> io::Result<()>,
    ) -> Result<(), EngineError> {
        let mut stop: Option<Stop> = None;
        let screening = self.screen.as_ref().map(|(s, m)| (s, m));
        let result = read(&self.projection, screening, &mut |item| {
            if stop.is_some() {
                return;
            }
            if let Some(d) = run.deadline {
                if Instant::now() >= d {
                    stop = Some(Stop::Deadline);
                    return;
                }
            }
            stop = self.record(item, run, out).err();
        });
        match stop {
            Some(Stop::Caller) | None => {}
            Some(Stop::State(e)) => return Err(EngineError::State(e)),
            Some(Stop::Config(e)) => return Err(EngineError::Config(e)),
            Some(Stop::Deadline) => {
                return Err(EngineError::Deadline {
                    processed: run.counts.events + run.counts.bad,
                })
            }
        }
        result.map_err(EngineError::Read)
    }

    /// One item of the input.
    fn record(
        &self,
        item: Item<'_>,
        run: &mut Run<'_>,
        out: &mut dyn FnMut(Found<'_>) -> ControlFlow<()>,
    ) -> Result<(), Stop> {
        let (value, position, raw) = match item {
            Item::Record {
                value,
                position,
                raw,
            } => (value, position, raw),
            // Not sent by `read_screened`; built whole if it were.
            Item::Laid {
                text,
                layout,
                position,
            } => match Projection::everything().build(text, layout) {
                Ok(value) => (value, position, None),
                Err(e) => return bad(run, out, position, &e.to_string()),
            },
            Item::Screened { event, position } => {
                return match event {
                    Ok(_) => {
                        run.counts.events += u64::from(run.reading <= 1);
                        Ok(())
                    }
                    Err(e) => bad(run, out, position, &e.to_string()),
                }
            }
            Item::Bad { position, reason } => return bad(run, out, position, &reason),
            Item::Reading {
                position,
                reading,
                readings,
                total,
                keys,
            } => {
                if reading == 1 {
                    run.counts.repeated += 1;
                    run.reading_fired.clear();
                    tracing::warn!(
                        line = position.line,
                        record = position.index,
                        keys = %keys.join(", "),
                        readings,
                        total = total.min(u128::from(u64::MAX)) as u64,
                        "record repeats keys: every rule is evaluated on each reading of it"
                    );
                    if total > readings as u128 {
                        let reason = format!(
                            "repeats keys ({}) in {total} combinations: {readings} readings evaluated, each value of each key in at least one",
                            keys.join(", ")
                        );
                        bad(run, out, position, &reason)?;
                    }
                }
                run.reading = reading;
                return Ok(());
            }
        };
        let event = match Event::new(value) {
            Ok(e) => e,
            Err(e) => return bad(run, out, position, &e.to_string()),
        };
        if let Some(w) = &self.waiting {
            if event.provider() == Provider::Cadf {
                let full = w.engine(&self.names).map_err(Stop::Config)?;
                return full.event(event, raw, position, run, out);
            }
        }
        self.event(event, raw, position, run, out)
    }

    /// One event: its matches, windows and findings.
    fn event(
        &self,
        event: Event,
        raw: Option<&[u8]>,
        position: Position,
        run: &mut Run<'_>,
        out: &mut dyn FnMut(Found<'_>) -> ControlFlow<()>,
    ) -> Result<(), Stop> {
        // Windows know an event by its id, or else by a hash of the whole record: an event
        // without an id is counted whole, or two that differ only in what the rules do not
        // read would count as one.
        let (event, raw) = match (event.id(), raw) {
            (None, Some(bytes)) => match whole_event(bytes) {
                Ok(whole) => (whole, None),
                Err(e) => return bad(run, out, position, &e),
            },
            (_, raw) => (event, raw),
        };
        run.counts.events += u64::from(run.reading <= 1);
        // Exceptions turn matches away before windows count them; windowed rules count the
        // event; only the rules that fire make findings.
        let subject = OnceCell::new();
        let mut excepted: Vec<(&Arc<str>, &str, &Exception)> = Vec::new();
        let fired = self
            .detector
            .fire_unless(&event, run.store, |m| {
                if self.exceptions.is_empty() {
                    return false;
                }
                let s = subject.get_or_init(|| Subject::new(&event));
                match self.exceptions.excepting(m.pack(), &m.rule().id, s) {
                    Some(e) => {
                        excepted.push((m.pack(), &m.rule().id, e));
                        true
                    }
                    None => false,
                }
            })
            .map_err(Stop::State)?;
        for (pack, rule, exception) in excepted {
            self.excepted(run, out, pack, rule, exception, &event, position)?;
        }
        if fired.is_empty() {
            return Ok(());
        }
        // The record was parsed only as far as the rules look; findings show all of it.
        let whole = match raw.map(whole_event) {
            Some(Ok(e)) => e,
            None => event,
            Some(Err(e)) => return bad(run, out, position, &e),
        };
        // `suppress`: one alert per key and period; the next one says how many it stands for.
        let (alerts, suppressed) =
            detector::alerts(fired, &whole, run.store).map_err(Stop::State)?;
        run.counts.suppressed += suppressed;
        for mut finding in alerts {
            if finding.severity() < self.min_severity {
                continue;
            }
            finding.names = self.names.clone();
            if run.reading > 0 {
                // One finding per rule for all the readings of a record.
                let key = (finding.pack.clone(), finding.rule.id.clone());
                if run.reading_fired.contains(&key) {
                    continue;
                }
                run.reading_fired.push(key);
            }
            let dry_run = finding.rule.mode == Mode::DryRun;
            if dry_run {
                run.counts.dry_run += 1;
            } else {
                run.counts.findings[finding.severity() as usize] += 1;
            }
            let flow = out(Found::Finding {
                finding: &finding,
                position,
                raw,
            });
            if !dry_run {
                run.push(finding).map_err(Stop::State)?;
            }
            if flow.is_break() {
                return Err(Stop::Caller);
            }
        }
        Ok(())
    }

    /// A match that `exception` accepted: counted, handed to `out`, and marked in the store
    /// (once a day per exception and run) so that `iamwatch exceptions stale` knows it is used.
    #[allow(clippy::too_many_arguments)]
    fn excepted(
        &self,
        run: &mut Run<'_>,
        out: &mut dyn FnMut(Found<'_>) -> ControlFlow<()>,
        pack: &str,
        rule: &str,
        exception: &Exception,
        event: &Event,
        position: Position,
    ) -> Result<(), Stop> {
        run.counts.excepted += 1;
        *run.excepted.entry(exception.name.clone()).or_default() += 1;
        tracing::info!(
            line = position.line,
            record = position.index,
            rule = %format!("{pack}/{rule}"),
            exception = %exception.name,
            "match accepted by an exception"
        );
        let at = event.time().unwrap_or_else(Timestamp::now).millis();
        let day = at.div_euclid(DAY_MS);
        if run.marked.insert((exception.name.clone(), day)) {
            run.store
                .record(
                    &used_key(&exception.name),
                    &day.to_string(),
                    at,
                    at + USED_KEPT_MS,
                )
                .map_err(Stop::State)?;
        }
        let flow = out(Found::Excepted {
            pack,
            rule,
            exception,
            event,
            position,
        });
        if flow.is_break() {
            return Err(Stop::Caller);
        }
        Ok(())
    }

    /// Scans one input and collects what it found; alerts go to the run's notifier, and the
    /// last of them are sent before it returns. Fails (transiently) when an alert was not
    /// delivered, the window state was unreachable or the deadline came.
    pub fn evaluate(&self, input: impl Read, format: Format, run: &mut Run<'_>) -> Outcome {
        self.collect(run, |engine, run, out| engine.scan(input, format, run, out))
    }

    /// [`Engine::evaluate`] for input already in memory (see [`Engine::scan_bytes`]).
    pub fn evaluate_bytes(&self, input: &[u8], format: Format, run: &mut Run<'_>) -> Outcome {
        self.collect(run, |engine, run, out| {
            engine.scan_bytes(input, format, run, out)
        })
    }

    /// Runs `scan` and collects what it found into an [`Outcome`].
    fn collect(
        &self,
        run: &mut Run<'_>,
        scan: impl FnOnce(
            &Self,
            &mut Run<'_>,
            &mut dyn FnMut(Found<'_>) -> ControlFlow<()>,
        ) -> Result<(), EngineError>,
    ) -> Outcome {
        let mut report = Report::default();
        let before = run.counts;
        let result = scan(self, run, &mut |found| {
            match found {
                Found::Finding { finding, .. } if finding.is_dry_run() => {
                    report.dry_run.push(finding.clone())
                }
                Found::Finding { finding, .. } => report.alerts.push(finding.clone()),
                Found::Excepted { exception, .. } => {
                    *report.excepted.entry(exception.name.clone()).or_default() += 1
                }
                Found::Bad { position, reason } => {
                    if report.bad.len() < BAD_LISTED {
                        report.bad.push(BadRecord {
                            position,
                            reason: reason.to_string(),
                        });
                    }
                }
            }
            ControlFlow::Continue(())
        });
        // What was found before a failure is still delivered: the retry then skips it.
        let finished = run.finish();
        report.counts = since(before, run.counts);
        report.delivered = run.delivered;
        report.undelivered = run.undelivered.len();
        tracing::info!(
            events = report.counts.events,
            bad = report.counts.bad,
            findings = report.counts.total_findings(),
            dry_run = report.counts.dry_run,
            excepted = report.counts.excepted,
            suppressed = report.counts.suppressed,
            sent = report.delivered.sent,
            already_sent = report.delivered.already,
            "input processed"
        );
        Outcome {
            report,
            error: result.err().or(finished.err()),
        }
    }
}

/// The counts of `now` less those of `before`.
fn since(before: Counts, now: Counts) -> Counts {
    let mut findings = now.findings;
    for (f, b) in findings.iter_mut().zip(before.findings) {
        *f -= b;
    }
    Counts {
        events: now.events - before.events,
        bad: now.bad - before.bad,
        findings,
        suppressed: now.suppressed - before.suppressed,
        bytes: now.bytes - before.bytes,
        repeated: now.repeated - before.repeated,
        excepted: now.excepted - before.excepted,
        dry_run: now.dry_run - before.dry_run,
    }
}

/// What exceptions read of a record: who (and through what), from where, with what, in
/// which account, and which operation when.
const EXCEPTIONS_READ: &[&str] = &[
    "userIdentity",
    "userAgent",
    "sourceIPAddress",
    "recipientAccountId",
    "eventName",
    "eventSource",
    "eventTime",
    "initiator",
    "logSourceCRN",
    "target",
    "action",
];

const DAY_MS: i64 = 86_400_000;
/// How long the store remembers that an exception was used: long enough for any staleness
/// question worth asking.
const USED_KEPT_MS: i64 = 400 * DAY_MS;

/// Where the store remembers the days an exception was used.
pub fn used_key(exception: &str) -> String {
    format!("exception|{exception}")
}

/// The last time (ms since the epoch) that `exception` accepted a match up to `now`, as far as
/// the store remembers (400 days); `None` when never.
pub fn last_used(
    store: &mut dyn WindowStore,
    exception: &str,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let times = store.occurrences(&used_key(exception), now - USED_KEPT_MS, now)?;
    Ok(times.into_iter().max())
}

/// Why a scan stopped early.
enum Stop {
    Caller,
    State(StoreError),
    Deadline,
    /// The packs kept waiting could not be loaded.
    Config(ConfigError),
}

fn bad(
    run: &mut Run<'_>,
    out: &mut dyn FnMut(Found<'_>) -> ControlFlow<()>,
    position: Position,
    reason: &str,
) -> Result<(), Stop> {
    run.counts.bad += 1;
    tracing::warn!(
        line = position.line,
        record = position.index,
        reason,
        "bad record skipped"
    );
    match out(Found::Bad { position, reason }) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(()) => Err(Stop::Caller),
    }
}

/// The event of a whole record, from the bytes of one read only as far as the rules look.
fn whole_event(bytes: &[u8]) -> Result<Event, String> {
    let value = serde_json::from_slice(bytes).map_err(|e| format!("not valid JSON: {e}"))?;
    Event::new(value).map_err(|e| e.to_string())
}

/// Counts the bytes read.
struct Counting<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}
