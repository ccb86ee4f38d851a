//! `iamwatch test-pattern`: the CloudWatch console's "Test pattern" on the command line.

use crate::exit;
use clap::ValueEnum;
use iamwatch::pattern::{FilterPattern, PatternKind};
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

const AFTER_HELP: &str = r#"Pattern syntax (CloudWatch Logs filter patterns, case-sensitive):
  Terms         ERROR                 lines containing ERROR (substring)
                ERROR ARGUMENTS       both terms;  "a phrase"  one quoted term
                ?ERROR ?WARN          either term (? terms are ignored next to plain terms)
                ERROR -DEBUG          ERROR but not DEBUG
                %^\[ERROR 4\d\d%      a regex, searched anywhere unless anchored
                "" or " "             every line
  JSON          { $.eventName = "Create*" && $.userIdentity.type != "Root" }
                selectors $.a.b  $.list[0]  $.list[*]  $.*  $.['dotted.key']
                = != < > <= >=, "*" at either end of a string, %regex%, numbers,
                IS NULL, IS TRUE, IS FALSE, NOT EXISTS; && binds tighter than ||
  Delimited     [ip, user, ..., status_code = 4* || status_code = 5*, bytes > 1000]
                fields split on blanks, "..." and [...] are one field each; the last
                entry takes the rest of the line; extracted fields print as $name/$N

Examples:
  iamwatch test-pattern '{ $.eventSource = "iam.amazonaws.com" }' events.jsonl
  tail -f app.log | iamwatch test-pattern '?ERROR ?FATAL' -
  iamwatch test-pattern --format jsonl '[ip, ..., status=5*, size]' access.log

Exit status: 0 the pattern is valid (whatever matched), 2 the pattern is invalid
(the error is on stderr), 1 the input could not be read or output written; with
--compare-aws, 5 CloudWatch disagreed on some line, 4 CloudWatch could not be asked."#;

/// Test a CloudWatch Logs filter pattern against log event messages, one per line.
///
/// Prints the matching lines with their line numbers and, for space-delimited patterns, the
/// fields the pattern extracts (as TestMetricFilter reports them).
#[derive(clap::Args)]
#[command(after_long_help = AFTER_HELP)]
pub struct Args {
    /// The filter pattern, exactly as you would give it to CloudWatch Logs.
    #[arg(allow_hyphen_values = true)]
    pattern: String,
    /// File of log event messages, one per line; '-' or none reads standard input.
    file: Option<PathBuf>,
    /// Output format: 'text' prints matching lines; 'jsonl' prints one JSON object for every
    /// input line, in order: {"line": N, "matched": bool} plus "fields" for matching lines of
    /// space-delimited patterns.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Also send the pattern and the lines to CloudWatch Logs' own TestMetricFilter (50 lines a
    /// request; AWS credentials and region from the environment, as the AWS CLI reads them)
    /// and report every line where CloudWatch and iamwatch disagree: one matched and the other
    /// did not, or the fields a space-delimited pattern extracts differ. Empty lines are left
    /// out (CloudWatch refuses empty messages). Exit status 5 when they disagree on any line,
    /// 4 when CloudWatch could not be asked.
    #[arg(long)]
    compare_aws: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Jsonl,
}

pub fn run(args: Args) -> ExitCode {
    let pattern = match FilterPattern::new(&args.pattern) {
        Ok(p) => p,
        Err(e) => {
            say!("iamwatch: {e}\n{}", e.caret(&args.pattern));
            return ExitCode::from(exit::USAGE);
        }
    };
    let input: Box<dyn BufRead> = match args.file.as_deref() {
        None => Box::new(io::stdin().lock()),
        Some(p) if p.as_os_str() == "-" => Box::new(io::stdin().lock()),
        Some(p) => match File::open(p) {
            Ok(f) => {
                let mut f = BufReader::with_capacity(1 << 16, f);
                // A gzip file (a CloudTrail log as S3 keeps it) is read as the text it holds.
                if f.fill_buf().is_ok_and(|b| b.starts_with(&[0x1f, 0x8b])) {
                    Box::new(BufReader::with_capacity(
                        1 << 16,
                        flate2::bufread::MultiGzDecoder::new(f),
                    ))
                } else {
                    Box::new(f)
                }
            }
            Err(e) => {
                say!("iamwatch: cannot read {}: {e}", p.display());
                return ExitCode::from(exit::IO);
            }
        },
    };
    let name = args
        .file
        .as_deref()
        .map_or("standard input".into(), |p| p.display().to_string());
    if args.compare_aws {
        return compare_aws(&pattern, input, &name, args.format);
    }
    // Reading a pipe (`tail -f | iamwatch ...`): show each result as soon as it is known.
    let stream = args.file.as_deref().is_none_or(|p| p.as_os_str() == "-");
    match scan(&pattern, input, args.format, stream) {
        Ok((lines, matched)) => {
            if matches!(args.format, Format::Text) {
                say!(
                    "{matched} of {lines} lines matched the {} pattern",
                    pattern.kind().as_str()
                );
            }
            ExitCode::SUCCESS
        }
        // Output closed early (e.g. piped into `head`): not an error for the user.
        Err(Failure::Write(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Failure::Write(e)) => {
            say!("iamwatch: cannot write output: {e}");
            ExitCode::from(exit::IO)
        }
        Err(Failure::Read(e)) => {
            say!("iamwatch: cannot read {name}: {e}");
            ExitCode::from(exit::IO)
        }
    }
}

/// `--compare-aws`: every line to CloudWatch's TestMetricFilter too; the disagreements.
fn compare_aws(
    pattern: &FilterPattern,
    mut input: impl BufRead,
    name: &str,
    format: Format,
) -> ExitCode {
    use crate::compare_aws::{compare, describe};
    let mut lines = Vec::new();
    let (mut n, mut empty) = (0u64, 0u64);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match input.read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                say!("iamwatch: cannot read {name}: {e}");
                return ExitCode::from(exit::IO);
            }
        }
        n += 1;
        let line = String::from_utf8_lossy(trim_newline(&buf)).into_owned();
        if line.is_empty() {
            empty += 1;
        } else {
            lines.push((n, line));
        }
    }
    let config = match iamwatch::config::Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            say!("iamwatch: {e}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let aws = match crate::publish::Aws::new(&config) {
        Ok(a) => a,
        Err(e) => {
            say!("iamwatch: {e}");
            return ExitCode::from(exit::DELIVERY);
        }
    };
    let delimited = pattern.kind() == PatternKind::Delimited;
    let found = compare(
        pattern,
        &lines,
        |p, messages| aws.test_metric_filter(p, messages),
        delimited,
    );
    let disagreements = match found {
        Ok(d) => d,
        Err(e) => {
            say!("iamwatch: cannot compare with CloudWatch: {e}");
            return ExitCode::from(exit::DELIVERY);
        }
    };
    for d in &disagreements {
        match format {
            Format::Text => show!(
                "line {}: iamwatch: {}; CloudWatch: {}\n    {}",
                d.line,
                describe(&d.ours),
                describe(&d.aws),
                d.text
            ),
            Format::Jsonl => {
                let side = |v: &crate::compare_aws::Verdict| match v {
                    None => serde_json::json!({"matched": false}),
                    Some(f) => serde_json::json!({"matched": true, "fields": f}),
                };
                show!(
                    "{}",
                    serde_json::json!({"line": d.line, "text": d.text,
                        "iamwatch": side(&d.ours), "cloudwatch": side(&d.aws)})
                );
            }
        }
    }
    let skipped = if empty > 0 {
        format!(" ({empty} empty lines left out)")
    } else {
        String::new()
    };
    say!(
        "{} of {} lines compared with CloudWatch's TestMetricFilter disagree{skipped}",
        disagreements.len(),
        lines.len()
    );
    if disagreements.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(exit::DISAGREE)
    }
}

enum Failure {
    Read(io::Error),
    Write(io::Error),
}

/// Tests every line; returns (lines read, lines matched).
fn scan(
    pattern: &FilterPattern,
    mut input: impl BufRead,
    format: Format,
    stream: bool,
) -> Result<(u64, u64), Failure> {
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let delimited = pattern.kind() == PatternKind::Delimited;
    let mut buf = Vec::with_capacity(4096);
    let (mut n, mut matched) = (0u64, 0u64);
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf).map_err(Failure::Read)? == 0 {
            break;
        }
        n += 1;
        let line = trim_newline(&buf);
        // Messages are UTF-8 in CloudWatch Logs; stray bytes become U+FFFD rather than errors.
        let line = String::from_utf8_lossy(line);
        let result = pattern.test(&line);
        matched += u64::from(result.is_some());
        match format {
            Format::Jsonl => {
                write!(out, "{{\"line\":{n},\"matched\":{}", result.is_some())
                    .map_err(Failure::Write)?;
                if let (true, Some(fields)) = (delimited, &result) {
                    out.write_all(b",\"fields\":{").map_err(Failure::Write)?;
                    for (i, (k, v)) in fields.iter().enumerate() {
                        let sep = if i == 0 { "" } else { "," };
                        write!(out, "{sep}{}:{}", json_str(k), json_str(v))
                            .map_err(Failure::Write)?;
                    }
                    out.write_all(b"}").map_err(Failure::Write)?;
                }
                out.write_all(b"}\n").map_err(Failure::Write)?;
            }
            Format::Text => {
                if let Some(fields) = &result {
                    writeln!(out, "{n}: {line}").map_err(Failure::Write)?;
                    for (k, v) in fields {
                        writeln!(out, "    {k} = {v}").map_err(Failure::Write)?;
                    }
                }
            }
        }
        if stream {
            out.flush().map_err(Failure::Write)?;
        }
    }
    out.flush().map_err(Failure::Write)?;
    Ok((n, matched))
}

fn trim_newline(b: &[u8]) -> &[u8] {
    let b = b.strip_suffix(b"\n").unwrap_or(b);
    b.strip_suffix(b"\r").unwrap_or(b)
}

fn json_str(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}
