//! `iamwatch exceptions`: list the exceptions in force, and those nothing has needed lately.

use crate::exit;
use crate::publish::Aws;
use iamwatch::config::{Config, ConfigError, PackChoice};
use iamwatch::engine::{last_used, Engine};
use iamwatch::exceptions::Exception;
use iamwatch::time::Timestamp;
use std::process::ExitCode;

const AFTER_HELP: &str = "\
Exceptions come from IAMWATCH_EXCEPTIONS (or --exceptions), and from the 'exceptions' of the
packs and of their rules; each is named global/ID, PACK/ID or PACK/RULE/ID.

Every handler and every replay with a state table (IAMWATCH_STATE_TABLE) marks, once a day, each
exception that accepted a match; 'stale' lists those with no mark in the last --days days (the
table keeps marks 400 days), so an exception for automation that is gone can be removed before
it hides someone else.

Examples:
  iamwatch exceptions list --exceptions exceptions.json
  IAMWATCH_STATE_TABLE=iamwatch-state iamwatch exceptions stale --days 30";

/// List exceptions, or find those that matched nothing for a long time.
#[derive(clap::Subcommand)]
pub enum ExceptionsCommand {
    /// Every exception in force: where it applies, until when, and why.
    #[command(after_long_help = AFTER_HELP)]
    List(Common),
    /// Exceptions that accepted no match in the last --days days (reads the state table).
    #[command(after_long_help = AFTER_HELP)]
    Stale {
        #[command(flatten)]
        common: Common,
        /// Stale after this many days without a match.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=400))]
        days: u32,
        /// The DynamoDB state table the handlers use [default: $IAMWATCH_STATE_TABLE].
        #[arg(long, value_name = "TABLE")]
        state_table: Option<String>,
    },
}

#[derive(clap::Args)]
pub struct Common {
    /// Rule packs whose exceptions count: built-in names or files [default: the built-in
    /// packs, or those of $IAMWATCH_BUILTIN_PACKS and $IAMWATCH_PACKS].
    #[arg(long = "pack", value_name = "NAME|PATH")]
    packs: Vec<String>,
    /// Exceptions for every rule: a JSON file, or inline JSON [default: $IAMWATCH_EXCEPTIONS].
    #[arg(long, value_name = "FILE|JSON")]
    exceptions: Option<String>,
}

fn engine(common: &Common) -> Result<(Config, Engine), ConfigError> {
    let mut config = Config::from_env()?;
    if !common.packs.is_empty() {
        config.packs = PackChoice::only(&common.packs);
    }
    if let Some(e) = &common.exceptions {
        config.exceptions = iamwatch::exceptions::from_setting(e)
            .map_err(|e| ConfigError::new("--exceptions", e.to_string()))?;
    }
    let engine = Engine::new(&config).map_err(|e| ConfigError::new("packs", e.to_string()))?;
    Ok((config, engine))
}

fn applies_to(e: &Exception) -> String {
    if e.rules.is_empty() {
        let scope = e.name.rsplit_once('/').map_or("", |(s, _)| s);
        return if scope == "global" {
            "every rule".into()
        } else {
            scope.to_string()
        };
    }
    e.rules.join(", ")
}

pub fn run(cmd: ExceptionsCommand) -> ExitCode {
    let common = match &cmd {
        ExceptionsCommand::List(c) => c,
        ExceptionsCommand::Stale { common, .. } => common,
    };
    let (config, engine) = match engine(common) {
        Ok(x) => x,
        Err(e) => {
            say!("iamwatch: {e}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let now = Timestamp::now();
    match cmd {
        ExceptionsCommand::List(_) => {
            let mut n = 0;
            for e in engine.exceptions().iter() {
                n += 1;
                let until = match (&e.expires_text, e.expired(now)) {
                    (Some(t), true) => format!("expired {t}: accepts nothing newer"),
                    (Some(t), false) => format!("until {t}"),
                    (None, _) => "no end date".into(),
                };
                show!(
                    "{}\n  applies to {}; {until}\n  reason     {}\n",
                    e.name,
                    applies_to(e),
                    e.reason
                );
            }
            say!("{n} exception{}", if n == 1 { "" } else { "s" });
            ExitCode::SUCCESS
        }
        ExceptionsCommand::Stale {
            days, state_table, ..
        } => {
            let Some(table) = state_table.or(config.state_table.clone()) else {
                say!("iamwatch: exceptions stale reads the handlers' state table: give --state-table or set IAMWATCH_STATE_TABLE");
                return ExitCode::from(exit::USAGE);
            };
            let aws = match Aws::new(&config) {
                Ok(a) => a,
                Err(e) => {
                    say!("iamwatch: {e}");
                    return ExitCode::from(exit::USAGE);
                }
            };
            let mut state = aws.state(&table);
            let since = now.millis() - i64::from(days) * 86_400_000;
            let mut stale = 0;
            for e in engine.exceptions().iter() {
                let last = match last_used(state.store(), &e.name, now.millis()) {
                    Ok(t) => t,
                    Err(err) => {
                        say!("iamwatch: state table {table}: {err}");
                        return ExitCode::from(exit::DELIVERY);
                    }
                };
                if last.is_some_and(|t| t >= since) {
                    continue;
                }
                stale += 1;
                let when = match last {
                    Some(t) => format!("last matched {}", &Timestamp(t).to_string()[..10]),
                    None => "no match in the last 400 days".into(),
                };
                show!(
                    "{}\n  {when}; applies to {}\n  reason  {}\n",
                    e.name,
                    applies_to(e),
                    e.reason
                );
            }
            say!(
                "{stale} of {} exceptions matched nothing in the last {days} days",
                engine.exceptions().iter().count()
            );
            ExitCode::SUCCESS
        }
    }
}
