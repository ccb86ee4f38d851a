//! `iamwatch packs` and `iamwatch rules`: inspect built-in packs, validate pack files.

use crate::exit;
use iamwatch::conditions::Operand;
use iamwatch::packs;
use iamwatch::rules::{load_pack, Matcher};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum PacksCommand {
    /// List the built-in rule packs.
    List,
    /// Show the rules of a pack: built-in name or file.
    Show {
        /// Pack name or file.
        pack: String,
        /// Print the pack's JSON source instead of a summary.
        #[arg(long)]
        json: bool,
    },
    /// Print a CloudFormation template of CloudWatch metric filters and alarms for the pack's
    /// filter-pattern rules, each pattern exactly as the pack holds it.
    ///
    /// `iamwatch packs alarms cis-aws-foundations` writes the CIS monitoring controls (AWS
    /// Security Hub CloudWatch.1-14): infra/aws/cis-alarms.yaml is its output. The template's
    /// parameters: LogGroupName (the trail's log group), AlarmTopicArn, MetricNamespace
    /// (CISBenchmark).
    Alarms {
        /// Pack name or file.
        pack: String,
    },
}

#[derive(clap::Subcommand)]
pub enum RulesCommand {
    /// Check rule pack files: every error names the file, the rule and the JSON path.
    ///
    /// Exit status 0 when every file is valid, 2 otherwise, 1 when a file cannot be read.
    Validate {
        /// Pack files (JSON).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    Eval(crate::eval::Args),
}

pub fn packs(cmd: PacksCommand) -> ExitCode {
    match cmd {
        PacksCommand::List => {
            let all = match packs::all() {
                Ok(p) => p,
                Err(e) => {
                    say!("iamwatch: {e}");
                    return ExitCode::from(exit::USAGE);
                }
            };
            for p in all {
                let dormant = p.rules.iter().filter(|r| r.dormant).count();
                let summary = p
                    .description
                    .as_deref()
                    .and_then(|d| d.split(". ").next())
                    .unwrap_or("");
                show!(
                    "{:<22} {:>2} rules ({dormant} dormant)  {summary}",
                    p.name,
                    p.rules.len()
                );
            }
            ExitCode::SUCCESS
        }
        PacksCommand::Alarms { pack } => {
            let made = packs::resolve(&pack)
                .map_err(|e| e.to_string())
                .and_then(|p| {
                    iamwatch::cloudformation::metric_alarms(&p).map_err(|e| e.to_string())
                });
            match made {
                Ok(template) => {
                    show_text!("{template}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    say!("iamwatch: {e}");
                    ExitCode::from(exit::USAGE)
                }
            }
        }
        PacksCommand::Show { pack, json } => {
            if json {
                if let Some((_, text)) = packs::BUILTIN.iter().find(|(n, _)| *n == pack) {
                    show_text!("{text}");
                    return ExitCode::SUCCESS;
                }
                return match std::fs::read_to_string(&pack) {
                    Ok(t) => {
                        show_text!("{t}");
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        say!("iamwatch: {pack}: {e}");
                        ExitCode::from(exit::IO)
                    }
                };
            }
            let p = match packs::resolve(&pack) {
                Ok(p) => p,
                Err(e) => {
                    say!("iamwatch: {e}");
                    return ExitCode::from(exit::USAGE);
                }
            };
            show!("{}", p.name);
            if let Some(d) = &p.description {
                show!("  {d}");
            }
            for r in &p.rules {
                show!();
                let dormant = if r.dormant { "  (dormant)" } else { "" };
                show!("{} [{}]{dormant}", r.id, r.severity);
                if let Some(t) = r.title.as_ref().map(|t| t.text()) {
                    show!("  title    {t}");
                }
                show!("  applies  {}", r.applies_to.as_str());
                match &r.matcher {
                    Matcher::FilterPattern(fp) => show!("  pattern  {fp}"),
                    Matcher::Conditions(c) => {
                        for leaf in c.leaves() {
                            let value = match &leaf.value {
                                Operand::Literal(v) => v.to_string(),
                                Operand::Fact { fact, .. } => format!("fact {fact}"),
                                Operand::Networks(list) if list.is_unrestricted() => {
                                    format!("allowlist {} (unrestricted)", list.name)
                                }
                                Operand::Networks(list) => {
                                    format!("allowlist {} ({} networks)", list.name, list.len())
                                }
                            };
                            show!("  when     {} {} {value}", leaf.fact, leaf.operator_name);
                        }
                    }
                }
                if let Some(d) = &r.description {
                    show!("  about    {d}");
                }
                for (i, step) in r.runbook_steps.iter().map(|t| t.text()).enumerate() {
                    show!("  step {}   {step}", i + 1);
                }
                if !r.references.is_empty() {
                    show!("  refs     {}", r.references.join("; "));
                }
            }
            ExitCode::SUCCESS
        }
    }
}

pub fn rules(cmd: RulesCommand) -> ExitCode {
    match cmd {
        RulesCommand::Validate { files } => {
            let mut status = ExitCode::SUCCESS;
            for f in files {
                let name = f.display().to_string();
                let text = match std::fs::read(&f).map(String::from_utf8) {
                    Ok(Ok(t)) => t,
                    // Read, but not text: an invalid pack, as any other content error.
                    Ok(Err(e)) => {
                        say!(
                            "{name}: not a rule pack: not UTF-8 text (at byte {})",
                            e.utf8_error().valid_up_to()
                        );
                        if status == ExitCode::SUCCESS {
                            status = ExitCode::from(exit::USAGE);
                        }
                        continue;
                    }
                    Err(e) => {
                        say!("iamwatch: cannot read {name}: {e}");
                        status = ExitCode::from(exit::IO);
                        continue;
                    }
                };
                let stem = f
                    .file_stem()
                    .map_or("pack".into(), |s| s.to_string_lossy().into_owned());
                match load_pack(&text, &name, &stem) {
                    Ok(p) => show!("{name}: ok, pack {} with {} rules", p.name, p.rules.len()),
                    Err(e) => {
                        say!("{e}");
                        if status == ExitCode::SUCCESS {
                            status = ExitCode::from(exit::USAGE);
                        }
                    }
                }
            }
            status
        }
        RulesCommand::Eval(args) => crate::eval::run(args),
    }
}
