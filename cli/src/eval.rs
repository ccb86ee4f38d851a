//! `iamwatch rules eval`: rules against events, one result per event.

use crate::exit;
use clap::ValueEnum;
use iamwatch::evaluate::{name, Evaluated, Evaluator};
use iamwatch::ingest::Format;
use iamwatch::rules::Rule;
use serde_json::Value;
use std::fs::File;
use std::io::{self, Read, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;

/// Evaluate rules against events and print which rules fire for each.
///
/// Every JSON object read is taken as the facts of one event (its top-level members, plus
/// `event_time` and `timeOfDay`), whatever its provider: `appliesTo` does not apply here. A rule
/// is named by its json-rules-engine `event.type`, or its id when it has none. A condition that
/// json-rules-engine would throw on (say `in` against a fact that is not a list) is reported in
/// `errors` and does not fire.
#[derive(clap::Args)]
pub struct Args {
    /// Rule pack file (or built-in pack name); repeat for several.
    #[arg(long = "rules", value_name = "FILE", required = true)]
    rules: Vec<String>,
    /// Events: JSON lines or any layout `replay` reads; '-' or none reads standard input.
    events: Option<PathBuf>,
    /// Also evaluate dormant rules.
    #[arg(long)]
    all_rules: bool,
    /// Input layout: auto, cloudtrail, json-array, json-lines, awslogs.
    #[arg(long = "input", value_name = "FORMAT", default_value = "auto", value_parser = crate::replay::parse_format)]
    input: Format,
    /// 'jsonl': exactly one line per input event, in order:
    /// {"line": N, "fired": [...]} (plus "errors" when a condition could not be evaluated);
    /// 'text': the events that fired something.
    #[arg(long, value_enum, default_value_t = EvalFormat::Text)]
    format: EvalFormat,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EvalFormat {
    Text,
    Jsonl,
}

pub fn run(args: Args) -> ExitCode {
    let packs = match crate::replay::load_packs(&args.rules) {
        Ok(p) => p,
        Err(e) => {
            say!("iamwatch: {e}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let evaluator = Evaluator::new(&packs, args.all_rules);
    let rules = evaluator.rules();
    let input: Box<dyn Read> = match args.events.as_deref() {
        None => Box::new(io::stdin().lock()),
        Some(p) if p.as_os_str() == "-" => Box::new(io::stdin().lock()),
        Some(p) => match File::open(p) {
            Ok(f) => Box::new(f),
            Err(e) => {
                say!("iamwatch: cannot read {}: {e}", p.display());
                return ExitCode::from(exit::IO);
            }
        },
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let started = std::time::Instant::now();
    let mut write_error = None;
    let mut fired_total = 0u64;
    // Rule names as JSON strings, written as they are.
    let names: Vec<String> = rules
        .iter()
        .map(|(_, r)| Value::from(name(r)).to_string())
        .collect();
    let result = evaluator.run(input, args.input, &mut |e| {
        if let Some(reason) = e.bad {
            say!("iamwatch: {}: {reason} (skipped)", e.position);
            if args.format == EvalFormat::Text {
                return ControlFlow::Continue(());
            }
        }
        fired_total += e.fired.len() as u64;
        let written = match args.format {
            EvalFormat::Jsonl => write_jsonl(&mut out, &e, &names),
            EvalFormat::Text => write_text(&mut out, &e, rules),
        };
        match written {
            Ok(()) => ControlFlow::Continue(()),
            Err(err) => {
                write_error = Some(err);
                ControlFlow::Break(())
            }
        }
    });
    if let Some(e) = write_error.or_else(|| out.flush().err()) {
        crate::output_failed(&e);
    }
    let events = match result {
        Ok(n) => n,
        Err(e) => {
            say!("iamwatch: cannot read events: {e}");
            return ExitCode::from(exit::IO);
        }
    };
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    say!(
        "{events} events, {} rules, {fired_total} fired in {secs:.2} s ({:.0} events/s)",
        rules.len(),
        events as f64 / secs
    );
    ExitCode::SUCCESS
}

/// `n` in decimal, written into the end of `buf` (one line per event: no formatter).
fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[at..];
        }
    }
}

/// `{"line": N, "fired": [...]}` with `"errors"` when there are any, keys in that order.
fn write_jsonl(out: &mut impl Write, e: &Evaluated<'_>, names: &[String]) -> io::Result<()> {
    out.write_all(b"{\"line\":")?;
    out.write_all(decimal(e.position.line, &mut [0; 20]))?;
    out.write_all(b",\"fired\":[")?;
    for (n, &i) in e.fired.iter().enumerate() {
        if n > 0 {
            out.write_all(b",")?;
        }
        out.write_all(names[i].as_bytes())?;
    }
    out.write_all(b"]")?;
    if !e.errors.is_empty() {
        out.write_all(b",\"errors\":")?;
        serde_json::to_writer(&mut *out, e.errors)?;
    }
    out.write_all(b"}\n")
}

/// `line N: a, b` and the errors, for a record that fired something or failed.
fn write_text(out: &mut impl Write, e: &Evaluated<'_>, rules: &[(&str, &Rule)]) -> io::Result<()> {
    if e.fired.is_empty() && e.errors.is_empty() {
        return Ok(());
    }
    let fired: Vec<&str> = e.fired.iter().map(|&i| name(rules[i].1)).collect();
    writeln!(out, "{}: {}", e.position, fired.join(", "))?;
    for err in e.errors {
        writeln!(out, "  error in {}: {}", err["rule"], err["error"])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::decimal;

    #[test]
    fn decimals_as_rust_writes_them() {
        for n in [0, 7, 10, 99, 100, 123_456_789, u64::MAX] {
            assert_eq!(decimal(n, &mut [0; 20]), n.to_string().as_bytes());
        }
    }
}
