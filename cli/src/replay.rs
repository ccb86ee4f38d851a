//! `iamwatch replay`: run rule packs over audit logs on disk and print the findings.

use crate::exit;
use crate::publish::{Aws, Publisher, State};
use clap::ValueEnum;
use iamwatch::detector::{self, Detector};
use iamwatch::event::{Event, Outcome};
use iamwatch::finding::Finding;
use iamwatch::ingest::{self, Format, Item, Position};
use iamwatch::notify::DeliveryError;
use iamwatch::packs;
use iamwatch::projection::Projection;
use iamwatch::rules::{Pack, Severity};
use iamwatch::window::MemoryStore;
use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const AFTER_HELP: &str = "\
Input: CloudTrail log files ({\"Records\": [...]}, .json or .json.gz), JSON arrays, JSON Lines
(CloudTrail records, EventBridge events, CADF events, IBM Cloud Pak *-audit.log), and CloudWatch
Logs subscription payloads ({\"awslogs\": {\"data\": ...}} or decoded). Gzip is detected from the
content. The layout is detected too; --input forces one.

Bad input never stops a run: a line or record that cannot be read is reported on stderr with
its file and line (and record number inside a container), counted, and skipped.

Exit status: 0 every input was read (whatever was found), 1 a file could not be opened or
read, or output could not be written, 2 invalid arguments or rule pack, 3 with --strict: some
records were malformed and skipped, 4 with --publish or a state table: alerts were not delivered
(each one is named) or the window state could not be reached.

AWS: --publish sends every finding reported to the SNS topic IAMWATCH_TOPIC_ARN, ten to a
PublishBatch, each with its e-mail text, SMS text, JSON and message attributes. With
IAMWATCH_STATE_TABLE (or --state-table) windows, suppression and deliveries live in that DynamoDB
table, shared with the Lambda handlers and other runs: a second replay of the same logs sends
nothing twice. Credentials, region and endpoint come from the standard AWS configuration
(AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL ...). Retries: IAMWATCH_RETRY_ATTEMPTS (5),
IAMWATCH_RETRY_BASE_MS (100), IAMWATCH_ATTEMPT_TIMEOUT_MS (5000).

Examples:
  iamwatch replay examples/cloudtrail/*.json
  iamwatch replay --pack aws-recommended --format jsonl trail.json.gz > findings.jsonl
  aws logs filter-log-events ... | jq -c '.events[].message | fromjson' | iamwatch replay -
  IAMWATCH_TOPIC_ARN=arn:aws:sns:us-east-1:111122223333:iamwatch iamwatch replay --publish trail.json";

/// Run rule packs over audit log files and print the findings.
///
/// Runs every built-in rule that is not dormant unless --pack says otherwise.
#[derive(clap::Args)]
#[command(after_long_help = AFTER_HELP)]
pub struct Args {
    /// Files to read; '-' or none reads standard input.
    files: Vec<PathBuf>,
    /// Rule pack to run: a built-in name (see 'iamwatch packs list') or a pack file.
    /// Repeat for several.
    #[arg(long = "pack", value_name = "NAME|PATH")]
    packs: Vec<String>,
    /// Also run dormant rules.
    #[arg(long)]
    all_rules: bool,
    /// Report only findings of this severity or higher.
    #[arg(long, value_name = "LEVEL", default_value = "info", value_parser = parse_severity)]
    min_severity: Severity,
    /// Input layout: auto, cloudtrail, json-array, json-lines, awslogs.
    #[arg(long = "input", value_name = "FORMAT", default_value = "auto", value_parser = parse_format)]
    input: Format,
    /// Output: 'text' for people; 'jsonl' prints one JSON object per finding on stdout and
    /// nothing else there.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
    /// Exit with status 3 when any record was malformed and skipped.
    #[arg(long)]
    strict: bool,
    /// Also publish the findings reported to the SNS topic IAMWATCH_TOPIC_ARN.
    #[arg(long)]
    publish: bool,
    /// Keep windows, suppression and deliveries in this DynamoDB table [default:
    /// $IAMWATCH_STATE_TABLE; in memory when neither is set].
    #[arg(long, value_name = "TABLE")]
    state_table: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OutputFormat {
    Text,
    Jsonl,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

pub fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

/// Loads the packs named on the command line, or every built-in one.
pub fn load_packs(specs: &[String]) -> Result<Vec<Pack>, String> {
    if specs.is_empty() {
        return packs::all().map_err(|e| e.to_string());
    }
    specs
        .iter()
        .map(|s| packs::resolve(s).map_err(|e| e.to_string()))
        .collect()
}

#[derive(Default)]
struct Tally {
    events: u64,
    bad: u64,
    suppressed: u64,
    undelivered: u64,
    by_severity: [u64; 5],
    bytes: u64,
}

pub fn run(args: Args) -> ExitCode {
    let packs = match load_packs(&args.packs) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("iamwatch: {e}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let detector = if args.all_rules {
        Detector::with_filter(&packs, |_, _| true)
    } else {
        Detector::new(&packs)
    };
    // Parse each record only as far as the rules look, and records that no rule can match
    // only as far as telling whether they are events.
    let projection = detector.projection();
    let screen = detector.screen();
    let table = args.state_table.clone().or_else(|| {
        std::env::var("IAMWATCH_STATE_TABLE")
            .ok()
            .filter(|t| !t.trim().is_empty())
    });
    let aws = if args.publish || table.is_some() {
        match Aws::new() {
            Ok(a) => Some(a),
            Err(e) => {
                eprintln!("iamwatch: {e}");
                return ExitCode::from(exit::USAGE);
            }
        }
    } else {
        None
    };
    // Windows span files: a burst split across two log files still counts as one.
    let mut state = match (&aws, &table) {
        (Some(aws), Some(t)) => aws.state(t),
        _ => State::Memory(MemoryStore::default()),
    };
    let mut publisher: Option<Publisher> = match (&aws, args.publish) {
        (Some(aws), true) => match aws.publisher() {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!("iamwatch: {e}");
                return ExitCode::from(exit::USAGE);
            }
        },
        _ => None,
    };
    let mut fatal: Option<String> = None;
    let files = if args.files.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        args.files.clone()
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut tally = Tally::default();
    let started = Instant::now();
    let mut status = ExitCode::SUCCESS;
    for path in &files {
        let name = if path.as_os_str() == "-" {
            "stdin".to_string()
        } else {
            path.display().to_string()
        };
        let (reader, size): (Box<dyn Read>, Option<u64>) = if path.as_os_str() == "-" {
            (Box::new(io::stdin().lock()), None)
        } else {
            match File::open(path) {
                Ok(f) => {
                    let size = f.metadata().ok().map(|m| m.len());
                    (Box::new(f), size)
                }
                Err(e) => {
                    eprintln!("iamwatch: cannot read {name}: {e}");
                    status = ExitCode::from(exit::IO);
                    continue;
                }
            }
        };
        let progress = Progress::new(&name, size);
        let counting = Counting {
            inner: reader,
            read: 0,
            progress,
        };
        let mut write_error: Option<io::Error> = None;
        let mut counting = counting;
        let screening = screen.as_ref().map(|(s, m)| (s, m));
        let result = ingest::read_screened(
            &mut counting,
            args.input,
            &projection,
            screening,
            &mut |item| {
                if write_error.is_some() || fatal.is_some() {
                    return;
                }
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
                        Err(e) => {
                            report_bad(&mut tally, &name, position, &e.to_string());
                            return;
                        }
                    },
                    Item::Screened { event, position } => {
                        match event {
                            Ok(_) => tally.events += 1,
                            Err(e) => report_bad(&mut tally, &name, position, &e.to_string()),
                        }
                        return;
                    }
                    Item::Bad { position, reason } => {
                        report_bad(&mut tally, &name, position, &reason);
                        return;
                    }
                };
                let event = match Event::new(value) {
                    Ok(e) => e,
                    Err(e) => {
                        report_bad(&mut tally, &name, position, &e.to_string());
                        return;
                    }
                };
                // Windows know an event by its id, or else by a hash of the whole record: an
                // event without an id is counted whole, or two that differ only in what the
                // rules do not read would count as one.
                let (event, raw) = match (event.id(), raw) {
                    (None, Some(bytes)) => match whole_event(bytes) {
                        Ok(whole) => (whole, None),
                        Err(e) => {
                            report_bad(&mut tally, &name, position, &e);
                            return;
                        }
                    },
                    (_, raw) => (event, raw),
                };
                tally.events += 1;
                // Windowed rules count the event first; only the rules that fire make findings.
                let fired = match detector.fire(&event, state.store()) {
                    Ok(f) => f,
                    Err(e) => {
                        fatal = Some(crate::publish::store_failed(&e));
                        return;
                    }
                };
                if fired.is_empty() {
                    return;
                }
                // The record was parsed only as far as the rules look; findings show all of it.
                let whole = match raw.map(whole_event) {
                    Some(Ok(e)) => e,
                    None => event.clone(),
                    Some(Err(e)) => {
                        report_bad(&mut tally, &name, position, &e);
                        return;
                    }
                };
                // `suppress`: one alert per key and period; the next one says how many it
                // stands for.
                let alerts = match detector::alerts(fired, &whole, state.store()) {
                    Ok((alerts, suppressed)) => {
                        tally.suppressed += suppressed;
                        alerts
                    }
                    Err(e) => {
                        fatal = Some(crate::publish::store_failed(&e));
                        return;
                    }
                };
                for finding in alerts {
                    if finding.severity() < args.min_severity {
                        continue;
                    }
                    tally.by_severity[finding.severity() as usize] += 1;
                    let written = match args.format {
                        OutputFormat::Jsonl => {
                            write_jsonl(&mut out, &finding, &name, position, raw)
                        }
                        OutputFormat::Text => write_text(&mut out, &finding, &name, position),
                    };
                    if let Err(e) = written {
                        write_error = Some(e);
                        return;
                    }
                    if let Some(p) = publisher.as_mut() {
                        if let Err(e) = p.push(finding, state.store()) {
                            if undelivered(&mut tally, e, &mut fatal) {
                                return;
                            }
                        }
                    }
                }
            },
        );
        tally.bytes += counting.read;
        counting.progress.finish();
        if let Some(e) = write_error {
            return write_failed(e);
        }
        if let Some(e) = fatal.take() {
            let _ = out.flush();
            eprintln!("iamwatch: {e}");
            return ExitCode::from(exit::DELIVERY);
        }
        if let Err(e) = result {
            eprintln!("iamwatch: cannot read {name}: {e}");
            status = ExitCode::from(exit::IO);
        }
    }
    if let Some(p) = publisher.as_mut() {
        if let Err(e) = p.flush(state.store()) {
            if undelivered(&mut tally, e, &mut fatal) {
                let _ = out.flush();
                eprintln!("iamwatch: {}", fatal.unwrap_or_default());
                return ExitCode::from(exit::DELIVERY);
            }
        }
    }
    if let Err(e) = out.flush() {
        return write_failed(e);
    }
    // Suppressed matches that no later alert reported.
    let open: Vec<(String, u64, i64)> = match &state {
        State::Memory(m) => m
            .open_counts()
            .map(|(k, n, t)| (k.to_string(), n, t))
            .collect(),
        // Shared state: a later run or invocation reports them with its next alert.
        State::Dynamo(_) => Vec::new(),
    };
    for (key, n, since) in open {
        let key = key.trim_start_matches("suppressed|");
        eprintln!(
            "iamwatch: {key}: {n} more match{} suppressed since {} (no later alert)",
            if n == 1 { "" } else { "es" },
            iamwatch::time::Timestamp(since)
        );
    }
    summary(&tally, started.elapsed());
    if let Some(p) = &publisher {
        eprintln!(
            "published {} alert{} to {} in {} SNS request{}{}",
            p.sent,
            if p.sent == 1 { "" } else { "s" },
            p.topic(),
            p.requests(),
            if p.requests() == 1 { "" } else { "s" },
            if p.already > 0 {
                format!(
                    " ({} delivered by an earlier run, not sent again)",
                    p.already
                )
            } else {
                String::new()
            }
        );
    }
    if let State::Dynamo(d) = &state {
        let r = d.requests();
        eprintln!(
            "window state in DynamoDB table {}: {} reads, {} writes",
            d.table(),
            r.reads,
            r.writes
        );
    }
    if tally.undelivered > 0 {
        return ExitCode::from(exit::DELIVERY);
    }
    if status == ExitCode::SUCCESS && args.strict && tally.bad > 0 {
        return ExitCode::from(exit::MALFORMED);
    }
    status
}

/// Reports alerts that were not delivered; `true` when the run cannot go on (the window
/// state is unreachable), with the reason in `fatal`.
fn undelivered(tally: &mut Tally, e: DeliveryError, fatal: &mut Option<String>) -> bool {
    match e {
        DeliveryError::Undelivered(u) => {
            tally.undelivered += u.failures.len() as u64;
            eprintln!("iamwatch: {u}");
            false
        }
        DeliveryError::Store(e) => {
            *fatal = Some(crate::publish::store_failed(&e));
            true
        }
    }
}

fn write_failed(e: io::Error) -> ExitCode {
    if e.kind() == io::ErrorKind::BrokenPipe {
        return ExitCode::SUCCESS;
    }
    eprintln!("iamwatch: cannot write output: {e}");
    ExitCode::from(exit::IO)
}

/// Bad records beyond this many are counted but not listed one by one.
const BAD_LISTED: u64 = 20;

/// The event of a whole record, from the bytes of one read only as far as the rules look.
fn whole_event(bytes: &[u8]) -> Result<Event, String> {
    let value = serde_json::from_slice(bytes).map_err(|e| format!("not valid JSON: {e}"))?;
    Event::new(value).map_err(|e| e.to_string())
}

fn report_bad(tally: &mut Tally, name: &str, position: Position, reason: &str) {
    tally.bad += 1;
    if tally.bad <= BAD_LISTED {
        eprintln!("iamwatch: {name}: {position}: {reason} (skipped)");
    } else if tally.bad == BAD_LISTED + 1 {
        eprintln!("iamwatch: more bad records follow; only their count is reported");
    }
}

/// One finding per line; `raw` is the record's text as read, written as it is.
fn write_jsonl(
    out: &mut impl Write,
    finding: &Finding,
    name: &str,
    position: Position,
    raw: Option<&[u8]>,
) -> io::Result<()> {
    let mut source = serde_json::Map::new();
    source.insert(
        "source".into(),
        serde_json::json!({"file": name, "line": position.line, "record": position.index}),
    );
    finding.write_json(&mut *out, &source, raw)?;
    out.write_all(b"\n")
}

fn write_text(
    out: &mut impl Write,
    finding: &Finding,
    name: &str,
    position: Position,
) -> io::Result<()> {
    let e = &finding.event;
    let dash = |s: Option<&str>| s.unwrap_or("-").to_string();
    writeln!(
        out,
        "[{}] {}",
        finding.severity().as_str().to_ascii_uppercase(),
        finding.title
    )?;
    writeln!(out, "  rule   {}/{}", finding.pack, finding.rule.id)?;
    writeln!(
        out,
        "  when   {}",
        e.time()
            .map(|t| t.to_string())
            .unwrap_or_else(|| dash(e.time_text()))
    )?;
    let who = match (e.actor(), e.actor_id()) {
        (Some(a), Some(id)) if a != id => format!("{a} ({id})"),
        (Some(a), _) => a,
        (None, id) => dash(id),
    };
    writeln!(out, "  who    {who}")?;
    let outcome = match e.outcome() {
        Outcome::Success => "succeeded".to_string(),
        Outcome::Failure { code, .. } => format!("failed: {}", code.as_deref().unwrap_or("?")),
        Outcome::Other(o) => o,
    };
    writeln!(out, "  what   {} ({outcome})", e.action())?;
    writeln!(
        out,
        "  where  {} via {}, account {}, region {}",
        dash(e.source_ip_text()),
        dash(e.user_agent()),
        dash(e.account()),
        dash(e.region())
    )?;
    writeln!(out, "  event  {} ({name} {position})", dash(e.id()))?;
    writeln!(out)
}

fn summary(t: &Tally, elapsed: Duration) {
    let secs = elapsed.as_secs_f64().max(1e-9);
    let findings: u64 = t.by_severity.iter().sum();
    let by: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .filter(|s| t.by_severity[**s as usize] > 0)
        .map(|s| format!("{} {}", t.by_severity[*s as usize], s.as_str()))
        .collect();
    let by = if by.is_empty() {
        String::new()
    } else {
        format!(" ({})", by.join(", "))
    };
    let held = if t.suppressed > 0 {
        format!(", {} suppressed", t.suppressed)
    } else {
        String::new()
    };
    eprintln!(
        "{} events, {} bad records, {findings} findings{by}{held} in {:.2} s ({:.0} events/s, {:.1} MB/s)",
        t.events,
        t.bad,
        secs,
        t.events as f64 / secs,
        t.bytes as f64 / secs / 1e6,
    );
}

/// Counts bytes read, for the summary and the progress bar.
struct Counting<R> {
    inner: R,
    read: u64,
    progress: Progress,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        self.progress.update(self.read);
        Ok(n)
    }
}

/// A one-line progress bar on stderr, only when stderr is a terminal and the size is known.
struct Progress {
    name: String,
    total: Option<u64>,
    started: Instant,
    last: Instant,
    shown: bool,
}

impl Progress {
    fn new(name: &str, total: Option<u64>) -> Self {
        let on = io::stderr().is_terminal() && total.is_some_and(|t| t > 0);
        let now = Instant::now();
        Self {
            name: name.to_string(),
            total: if on { total } else { None },
            started: now,
            last: now,
            shown: false,
        }
    }

    fn update(&mut self, done: u64) {
        let Some(total) = self.total else { return };
        let now = Instant::now();
        if now.duration_since(self.last) < Duration::from_millis(200) {
            return;
        }
        self.last = now;
        self.shown = true;
        let frac = (done as f64 / total as f64).min(1.0);
        let width = 30;
        let filled = (frac * width as f64) as usize;
        let rate = done as f64 / now.duration_since(self.started).as_secs_f64().max(1e-9) / 1e6;
        eprint!(
            "\r{} [{}{}] {:5.1}% {:.0} MB/s ",
            self.name,
            "#".repeat(filled),
            " ".repeat(width - filled),
            frac * 100.0,
            rate
        );
    }

    fn finish(&mut self) {
        if self.shown {
            eprint!("\r{}\r", " ".repeat(self.name.len() + 60));
        }
    }
}
