//! `iamwatch`: the iamwatch engine on local files.

/// A line on standard error. `eprintln!` panics when stderr is closed (`2>&1 | head -1`),
/// and a panic aborts this binary: a message that cannot be shown is dropped instead.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// A line on standard output; when it cannot be written (a closed pipe, a full disk) the
/// command exits with status 1 rather than panicking.
macro_rules! show {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout(), $($arg)*) {
            crate::output_failed(&e);
        }
    }};
}

/// [`show!`] without the line break.
macro_rules! show_text {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = write!(std::io::stdout(), $($arg)*) {
            crate::output_failed(&e);
        }
    }};
}

mod compare_aws;
mod eval;
mod exceptions;
mod log_group;
mod packs;
mod publish;
mod replay;
mod test_pattern;

use clap::{Parser, Subcommand};

// Every record becomes a small tree of allocations that lives until the next record:
// mimalloc's thread-local free lists make that markedly cheaper than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

/// Watch cloud audit logs for IAM changes and violations.
///
/// iamwatch runs the same engine as its AWS Lambda handlers on local files, with no cloud
/// account needed.
#[derive(Parser)]
#[command(name = "iamwatch", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Replay(replay::Args),
    TestPattern(test_pattern::Args),
    /// Inspect the built-in rule packs.
    #[command(subcommand)]
    Packs(packs::PacksCommand),
    /// Validate rule pack files; evaluate rules against events.
    #[command(subcommand)]
    Rules(packs::RulesCommand),
    /// List exceptions; find those that matched nothing for a long time.
    #[command(subcommand)]
    Exceptions(exceptions::ExceptionsCommand),
}

/// Exit codes shared by every subcommand.
pub mod exit {
    /// I/O error: a file could not be read or output could not be written.
    pub const IO: u8 = 1;
    /// Invalid input given by the user: a bad pattern, rule or option.
    pub const USAGE: u8 = 2;
    /// `replay --strict`: some records were malformed and skipped.
    pub const MALFORMED: u8 = 3;
    /// `replay --publish` / a state table: alerts were not delivered, or the window state
    /// could not be reached; `test-pattern --compare-aws`: CloudWatch could not be asked.
    pub const DELIVERY: u8 = 4;
    /// `test-pattern --compare-aws`: CloudWatch's TestMetricFilter and iamwatch disagreed.
    pub const DISAGREE: u8 = 5;
}

/// Output could not be written: say so (stderr may be closed too) and exit with status 1.
fn output_failed(e: &std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        say!("iamwatch: output closed before it was all written");
    } else {
        say!("iamwatch: cannot write output: {e}");
    }
    std::process::exit(i32::from(exit::IO))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Replay(args) => replay::run(args),
        Command::TestPattern(args) => test_pattern::run(args),
        Command::Packs(cmd) => packs::packs(cmd),
        Command::Rules(cmd) => packs::rules(cmd),
        Command::Exceptions(cmd) => exceptions::run(cmd),
    }
}
