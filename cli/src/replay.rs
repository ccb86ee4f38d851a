//! `iamwatch replay`: run rule packs over audit logs on disk and print the findings.

use crate::exit;
use crate::publish::Aws;
use clap::ValueEnum;
use iamwatch::config::{Config, ConfigError, PackChoice};
use iamwatch::engine::{Counts, Engine, EngineError, Found, Run};
use iamwatch::event::Outcome;
use iamwatch::finding::Finding;
use iamwatch::ingest::{Format, Position};
use iamwatch::packs;
use iamwatch::rules::{Pack, Severity};
use iamwatch::service::State;
use iamwatch::window::MemoryStore;
use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::ops::ControlFlow;
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

CloudWatch Logs: --log-group NAME reads a log group's events (a trail's CloudTrail log group)
with FilterLogEvents, page after page, from --since (default: 24 hours ago) to --until (default:
now), each log event's message one record; credentials and region as for --publish.

Examples:
  iamwatch replay examples/cloudtrail/*
  iamwatch replay --log-group aws-cloudtrail-logs-111122223333 --since 7d --pack my-rules.json
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
    /// [default: info, or $IAMWATCH_MIN_SEVERITY]
    #[arg(long, value_name = "LEVEL", value_parser = parse_severity)]
    min_severity: Option<Severity>,
    /// The largest record read, in bytes (64 KiB to 256 MiB): a larger one is reported as a
    /// bad record and skipped without being held, so memory stays bounded on any input.
    /// [default: 4194304, or $IAMWATCH_MAX_RECORD_BYTES]
    #[arg(long, value_name = "BYTES", value_parser = parse_max_record)]
    max_record_bytes: Option<usize>,
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
    /// Read the log events of this CloudWatch Logs log group (a trail's CloudTrail log group)
    /// with FilterLogEvents instead of files.
    #[arg(long, value_name = "NAME", conflicts_with = "files")]
    log_group: Option<String>,
    /// With --log-group: from this time, RFC 3339 (2026-11-20T10:00:00Z) or an age (30m, 24h,
    /// 7d, 2w) [default: 24h]
    #[arg(long, value_name = "TIME", requires = "log_group", value_parser = crate::log_group::parse_time)]
    since: Option<i64>,
    /// With --log-group: up to this time [default: now]
    #[arg(long, value_name = "TIME", requires = "log_group", value_parser = crate::log_group::parse_time)]
    until: Option<i64>,
    /// Keep windows, suppression and deliveries in this DynamoDB table [default:
    /// $IAMWATCH_STATE_TABLE; in memory when neither is set].
    #[arg(long, value_name = "TABLE")]
    state_table: Option<String>,
    /// Exceptions for every rule: a JSON file, or inline JSON [default: $IAMWATCH_EXCEPTIONS].
    #[arg(long, value_name = "FILE|JSON")]
    exceptions: Option<String>,
    /// Account names for the findings: a JSON file, or inline JSON [default:
    /// $IAMWATCH_ACCOUNT_NAMES].
    #[arg(long, value_name = "FILE|JSON")]
    account_names: Option<String>,
    /// Also show every match that an exception accepted, and which exception (with
    /// --format jsonl, as objects with "excepted": true).
    #[arg(long)]
    explain: bool,
    /// After the summary, a table of each rule's findings and findings per day over the
    /// range read (dry-run rules included): a rule's volume before it pages anyone.
    #[arg(long)]
    volume: bool,
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

/// The engine's configuration: the environment's, with the command line over it. Locally
/// every severity is shown unless asked otherwise.
fn config(args: &Args) -> Result<Config, ConfigError> {
    let mut config = Config::from_env()?;
    if !args.packs.is_empty() {
        config.packs = PackChoice::only(&args.packs);
    }
    config.packs.all_rules |= args.all_rules;
    config.min_severity = match args.min_severity {
        Some(s) => s,
        None if std::env::var_os("IAMWATCH_MIN_SEVERITY").is_some() => config.min_severity,
        None => Severity::Info,
    };
    if let Some(t) = &args.state_table {
        config.state_table = Some(t.clone());
    }
    if let Some(n) = args.max_record_bytes {
        config.max_record = n;
    }
    if let Some(e) = &args.exceptions {
        config.exceptions = iamwatch::exceptions::from_setting(e)
            .map_err(|e| ConfigError::new("--exceptions", e.to_string()))?;
    }
    if let Some(n) = &args.account_names {
        config.account_names = iamwatch::accounts::AccountNames::from_setting(n)
            .map_err(|e| ConfigError::new("--account-names", e.to_string()))?;
    }
    Ok(config)
}

fn parse_max_record(s: &str) -> Result<usize, String> {
    iamwatch::config::max_record(s)
}

pub fn run(args: Args) -> ExitCode {
    let config = match config(&args) {
        Ok(c) => c,
        Err(e) => {
            say!("iamwatch: {e}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let engine = match Engine::new(&config) {
        Ok(e) => e,
        Err(e) => {
            say!("iamwatch: {e}");
            return ExitCode::from(exit::USAGE);
        }
    };
    if args.publish && config.topic_arn.is_none() {
        say!("iamwatch: --publish: set IAMWATCH_TOPIC_ARN to the ARN of the SNS topic for alerts");
        return ExitCode::from(exit::USAGE);
    }
    let since = match args.since {
        Some(t) => t,
        None => crate::log_group::parse_time("24h").unwrap_or_default(),
    };
    let until = args.until;
    let aws = if args.publish
        || config.state_table.is_some()
        || args.log_group.is_some()
        || config.organization_accounts
    {
        match Aws::new(&config) {
            Ok(a) => Some(a),
            Err(e) => {
                say!("iamwatch: {e}");
                return ExitCode::from(exit::USAGE);
            }
        }
    } else {
        None
    };
    let engine = match (&aws, config.organization_accounts) {
        (Some(aws), true) => match aws.organization_accounts() {
            Ok(listed) => {
                // Names given on the command line or in IAMWATCH_ACCOUNT_NAMES win.
                let mut names = config.account_names.clone();
                names.merge(listed);
                engine.with_account_names(names)
            }
            Err(e) => {
                say!("iamwatch: IAMWATCH_ORGANIZATION_ACCOUNTS: {e}");
                return ExitCode::from(exit::DELIVERY);
            }
        },
        _ => engine,
    };
    // Windows span files: a burst split across two log files still counts as one.
    let mut state = match (&aws, &config.state_table) {
        (Some(aws), Some(t)) => aws.state(t),
        _ => State::Memory(MemoryStore::default()),
    };
    let publisher = match (&aws, &config.topic_arn, args.publish) {
        (Some(aws), Some(topic), true) => Some(aws.publisher(topic)),
        _ => None,
    };
    let mut run = Run::new(state.store());
    if let Some(p) = &publisher {
        run = run.notify(p);
    }
    let files = if args.files.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        args.files.clone()
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let started = Instant::now();
    let mut status = ExitCode::SUCCESS;
    let mut listed = 0u64;
    let mut volume = Volume::default();
    // The log group, when one is named, is read instead of files.
    let mut history = match (&args.log_group, &aws) {
        (Some(group), Some(aws)) => Some(aws.log_group(group, since, until)),
        _ => None,
    };
    let sources: Vec<Option<&PathBuf>> = match history {
        Some(_) => vec![None],
        None => files.iter().map(Some).collect(),
    };
    for source in sources {
        let (name, reader, size, format): (String, Box<dyn Read + '_>, Option<u64>, Format) =
            match (source, history.as_mut()) {
                (None, Some(group)) => (
                    format!(
                        "log-group:{}",
                        args.log_group.as_deref().unwrap_or_default()
                    ),
                    Box::new(group),
                    None,
                    Format::JsonLines,
                ),
                (None, None) => continue,
                (Some(path), _) if path.as_os_str() == "-" => (
                    "stdin".to_string(),
                    Box::new(io::stdin().lock()),
                    None,
                    args.input,
                ),
                (Some(path), _) => {
                    let name = path.display().to_string();
                    match File::open(path) {
                        Ok(f) => {
                            let size = f.metadata().ok().map(|m| m.len());
                            (name, Box::new(f), size, args.input)
                        }
                        Err(e) => {
                            say!("iamwatch: cannot read {name}: {e}");
                            status = ExitCode::from(exit::IO);
                            continue;
                        }
                    }
                }
            };
        let mut reading = Progress::new(&name, size, reader);
        let mut write_error: Option<io::Error> = None;
        let result = engine.scan(&mut reading, format, &mut run, &mut |found| {
            let written = match found {
                Found::Finding {
                    finding,
                    position,
                    raw,
                } => {
                    volume.add(finding);
                    match args.format {
                        OutputFormat::Jsonl => {
                            write_jsonl(&mut out, finding, &name, position, raw)
                        }
                        OutputFormat::Text => write_text(&mut out, finding, &name, position),
                    }
                }
                Found::Excepted {
                    pack,
                    rule,
                    exception,
                    event,
                    position,
                } if args.explain => match args.format {
                    OutputFormat::Jsonl => {
                        let line = serde_json::json!({
                            "excepted": true, "exception": exception.name, "reason": exception.reason,
                            "pack": pack, "rule": rule, "action": event.action(), "event_id": event.id(),
                            "time": event.time_text(), "actor_id": event.actor_id(),
                            "source": {"file": name, "line": position.line, "record": position.index},
                        });
                        writeln!(out, "{line}")
                    }
                    OutputFormat::Text => writeln!(
                        out,
                        "[EXCEPTED] {pack}/{rule} on {} by {} ({name} {position})\n  exception {}: {}\n",
                        event.action(),
                        event.actor().as_deref().unwrap_or("?"),
                        exception.name,
                        exception.reason
                    ),
                },
                Found::Excepted { .. } => Ok(()),
                Found::Bad { position, reason } => {
                    listed += 1;
                    report_bad(listed, &name, position, reason);
                    Ok(())
                }
            };
            match written {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => {
                    write_error = Some(e);
                    ControlFlow::Break(())
                }
            }
        });
        reading.finish();
        if let Some(e) = write_error {
            return write_failed(e);
        }
        match result {
            Ok(()) => {}
            Err(EngineError::Read(e)) => {
                say!("iamwatch: cannot read {name}: {e}");
                status = ExitCode::from(exit::IO);
            }
            Err(e) => {
                let _ = out.flush();
                say!("iamwatch: {e}");
                return ExitCode::from(exit::DELIVERY);
            }
        }
    }
    let finished = run.finish();
    if let Err(e) = out.flush() {
        return write_failed(e);
    }
    let (counts, delivered) = (run.counts, run.delivered);
    let excepted = std::mem::take(&mut run.excepted);
    drop(run);
    let delivered_all = finished.is_ok();
    match finished {
        Ok(()) => {}
        Err(EngineError::Undelivered(u)) => say!("iamwatch: {u}"),
        Err(e) => {
            say!("iamwatch: {e}");
            return ExitCode::from(exit::DELIVERY);
        }
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
        say!(
            "iamwatch: {key}: {n} more match{} suppressed since {} (no later alert)",
            if n == 1 { "" } else { "es" },
            iamwatch::time::Timestamp(since)
        );
    }
    summary(&counts, started.elapsed());
    if !excepted.is_empty() {
        let each: Vec<String> = excepted.iter().map(|(e, n)| format!("{e} {n}")).collect();
        say!("excepted matches by exception: {}", each.join(", "));
    }
    if args.volume {
        let range = match (&args.log_group, args.until) {
            (Some(_), until) => Some((
                since,
                until.unwrap_or_else(|| iamwatch::time::Timestamp::now().millis()),
            )),
            _ => None,
        };
        volume.print(range);
    }
    if let Some(p) = &publisher {
        say!(
            "published {} alert{} to {} in {} SNS request{}{}",
            delivered.sent,
            if delivered.sent == 1 { "" } else { "s" },
            p.topic(),
            p.requests(),
            if p.requests() == 1 { "" } else { "s" },
            if delivered.already > 0 {
                format!(
                    " ({} delivered by an earlier run, not sent again)",
                    delivered.already
                )
            } else {
                String::new()
            }
        );
    }
    if let State::Dynamo(d) = &state {
        let r = d.requests();
        say!(
            "window state in DynamoDB table {}: {} reads, {} writes",
            d.table(),
            r.reads,
            r.writes
        );
    }
    if !delivered_all {
        return ExitCode::from(exit::DELIVERY);
    }
    if status == ExitCode::SUCCESS && args.strict && counts.bad > 0 {
        return ExitCode::from(exit::MALFORMED);
    }
    status
}

fn write_failed(e: io::Error) -> ExitCode {
    if e.kind() == io::ErrorKind::BrokenPipe {
        say!("iamwatch: output closed before the findings were written");
    } else {
        say!("iamwatch: cannot write output: {e}");
    }
    ExitCode::from(exit::IO)
}

/// Bad records beyond this many are counted but not listed one by one.
const BAD_LISTED: u64 = 20;

fn report_bad(listed: u64, name: &str, position: Position, reason: &str) {
    if listed <= BAD_LISTED {
        say!("iamwatch: {name}: {position}: {reason} (skipped)");
    } else if listed == BAD_LISTED + 1 {
        say!("iamwatch: more bad records follow; only their count is reported");
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
        "[{}{}] {}",
        finding.severity().as_str().to_ascii_uppercase(),
        if finding.is_dry_run() {
            ", dry-run"
        } else {
            ""
        },
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
    let who = match e.actor_id() {
        Some(id) if finding.who() != id => format!("{} ({id})", finding.who()),
        _ => finding.who(),
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
        finding.account_label().unwrap_or_else(|| "-".into()),
        dash(e.region())
    )?;
    writeln!(out, "  event  {} ({name} {position})", dash(e.id()))?;
    writeln!(out)
}

fn summary(t: &Counts, elapsed: Duration) {
    let secs = elapsed.as_secs_f64().max(1e-9);
    let findings = t.total_findings();
    let by: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .filter(|s| t.findings[**s as usize] > 0)
        .map(|s| format!("{} {}", t.findings[*s as usize], s.as_str()))
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
    let held = if t.dry_run > 0 {
        format!("{held}, {} dry-run findings (not sent)", t.dry_run)
    } else {
        held
    };
    let held = if t.excepted > 0 {
        format!("{held}, {} matches excepted", t.excepted)
    } else {
        held
    };
    let held = if t.repeated > 0 {
        format!(
            "{held}, {} repeating keys (each reading evaluated)",
            t.repeated
        )
    } else {
        held
    };
    say!(
        "{} events, {} bad records, {findings} findings{by}{held} in {:.2} s ({:.0} events/s, {:.1} MB/s)",
        t.events,
        t.bad,
        secs,
        t.events as f64 / secs,
        t.bytes as f64 / secs / 1e6,
    );
}

/// Findings per rule, and the time range they span, for `--volume`.
#[derive(Default)]
struct Volume {
    /// Findings by (pack/rule, mode).
    rules: std::collections::BTreeMap<(String, &'static str), u64>,
    /// The earliest and latest event time among the findings (ms since the epoch).
    first: Option<i64>,
    last: Option<i64>,
}

impl Volume {
    fn add(&mut self, f: &Finding) {
        *self
            .rules
            .entry((format!("{}/{}", f.pack, f.rule.id), f.rule.mode.as_str()))
            .or_default() += 1;
        if let Some(t) = f.event.time().map(|t| t.millis()) {
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
        }
    }

    /// The table on stderr; per day over `range` (a log group's) or else over the time the
    /// findings span, at least one day.
    fn print(&self, range: Option<(i64, i64)>) {
        let (from, to) = match (range, self.first, self.last) {
            (Some(r), _, _) => r,
            (None, Some(f), Some(l)) => (f, l),
            _ => {
                say!("volume: no findings");
                return;
            }
        };
        let days = ((to - from) as f64 / 86_400_000.0).max(1.0);
        say!(
            "volume over {days:.1} days ({} to {}{}):",
            iamwatch::time::Timestamp(from),
            iamwatch::time::Timestamp(to),
            if range.is_some() {
                ""
            } else {
                ", the span of the findings"
            }
        );
        let width = self
            .rules
            .keys()
            .map(|(r, _)| r.len())
            .max()
            .unwrap_or(4)
            .max(4);
        say!(
            "  {:width$}  {:8}  {:>8}  {:>8}",
            "rule",
            "mode",
            "findings",
            "per day"
        );
        let mut rows: Vec<_> = self.rules.iter().collect();
        rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for ((rule, mode), n) in rows {
            say!(
                "  {rule:width$}  {mode:8}  {n:>8}  {:>8.1}",
                *n as f64 / days
            );
        }
    }
}

/// A one-line progress bar on stderr over a reader, only when stderr is a terminal and the
/// size is known.
struct Progress<R> {
    inner: R,
    read: u64,
    name: String,
    total: Option<u64>,
    started: Instant,
    last: Instant,
    shown: bool,
}

impl<R: Read> Read for Progress<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        self.update();
        Ok(n)
    }
}

impl<R> Progress<R> {
    fn new(name: &str, total: Option<u64>, inner: R) -> Self {
        let on = io::stderr().is_terminal() && total.is_some_and(|t| t > 0);
        let now = Instant::now();
        Self {
            inner,
            read: 0,
            name: name.to_string(),
            total: if on { total } else { None },
            started: now,
            last: now,
            shown: false,
        }
    }

    fn update(&mut self) {
        let Some(total) = self.total else { return };
        let now = Instant::now();
        if now.duration_since(self.last) < Duration::from_millis(200) {
            return;
        }
        self.last = now;
        self.shown = true;
        let frac = (self.read as f64 / total as f64).min(1.0);
        let width = 30;
        let filled = (frac * width as f64) as usize;
        let rate =
            self.read as f64 / now.duration_since(self.started).as_secs_f64().max(1e-9) / 1e6;
        // A closed stderr is no reason to stop reading.
        let _ = write!(
            io::stderr(),
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
            let _ = write!(io::stderr(), "\r{}\r", " ".repeat(self.name.len() + 60));
        }
    }
}
