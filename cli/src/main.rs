//! `iamwatch`: the iamwatch engine on local files.

mod test_pattern;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Watch cloud audit logs for IAM changes and violations.
///
/// iamwatch runs the same engine as its AWS Lambda and IBM Code Engine handlers on local
/// files, with no cloud account needed.
#[derive(Parser)]
#[command(name = "iamwatch", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    TestPattern(test_pattern::Args),
}

/// Exit codes shared by every subcommand.
pub mod exit {
    /// I/O error: a file could not be read or output could not be written.
    pub const IO: u8 = 1;
    /// Invalid input given by the user: a bad pattern, rule or option.
    pub const USAGE: u8 = 2;
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::TestPattern(args) => test_pattern::run(args),
    }
}
