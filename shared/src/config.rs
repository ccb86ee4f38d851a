//! The engine's settings, read once from `IAMWATCH_*` environment variables and checked at
//! once: a handler whose configuration is wrong fails its start, naming the variable.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `IAMWATCH_BUILTIN_PACKS` | built-in packs to run: comma-separated names, `all` or `none` | `all` |
//! | `IAMWATCH_PACKS` | more packs: inline JSON (text starting with `{` or `[`), or comma-separated files | none |
//! | `IAMWATCH_MIN_SEVERITY` | findings below it are neither reported nor sent | `medium` |
//! | `IAMWATCH_TOPIC_ARN` | the SNS topic alerts are published to | none (nothing is sent) |
//! | `IAMWATCH_STATE_TABLE` | DynamoDB table for windows, suppression and deliveries | none (in memory) |
//! | `IAMWATCH_ALLOWLIST_<NAME>` | comma-separated networks of allowlist `NAME`, or `unrestricted` (blank is an error) | the pack's |
//! | `IAMWATCH_EXCEPTIONS` | exceptions for every rule ([`crate::exceptions`]): inline JSON (text starting with `{` or `[`) or a JSON file | none |
//! | `IAMWATCH_ACCOUNT_NAMES` | account names for alerts ([`crate::accounts`]): inline JSON or a JSON file | none |
//! | `IAMWATCH_ORGANIZATION_ACCOUNTS` | `true`: also name accounts from AWS Organizations `ListAccounts`, read once at start (names set in `IAMWATCH_ACCOUNT_NAMES` win) | `false` |
//! | `IAMWATCH_MAX_RECORD_BYTES` | the largest record read (65536 to 268435456); a larger one is a bad record, never held whole | 4194304 (4 MiB) |
//! | `IAMWATCH_RETRY_ATTEMPTS`, `IAMWATCH_RETRY_BASE_MS`, `IAMWATCH_ATTEMPT_TIMEOUT_MS` | AWS call retries | 5, 100, 5000 |
//!
//! Any other `IAMWATCH_*` variable is an error (a misspelt setting would otherwise be
//! ignored without a word), unless the program reading the configuration names it as its
//! own (see [`Config::from_vars`]).

use crate::accounts::AccountNames;
use crate::allowlist::Allowlist;
use crate::exceptions::{self, Exception};
use crate::packs;
use crate::rules::{Pack, Severity};
use std::ffi::OsString;
use std::fmt;

/// Why the configuration is not usable: the variable, what it holds, and what is expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The environment variable (or command-line option) at fault.
    pub variable: String,
    /// What is wrong and what is expected instead.
    pub message: String,
}

impl ConfigError {
    pub fn new(variable: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            variable: variable.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.variable, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Built-in packs left to be loaded later, each with the place it takes among all the packs
/// chosen (see [`PackChoice::load_except`]).
pub type Later = Vec<(usize, &'static str)>;

/// Which packs run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackChoice {
    /// Built-in packs by name; `None` for all of them.
    pub builtin: Option<Vec<String>>,
    /// Further packs: built-in names, files, or inline JSON.
    pub extra: Vec<String>,
    /// Also run rules marked `dormant`.
    pub all_rules: bool,
}

impl PackChoice {
    /// Exactly these packs (built-in names, files or inline JSON), no other built-in one.
    pub fn only(specs: &[String]) -> Self {
        Self {
            builtin: Some(Vec::new()),
            extra: specs.to_vec(),
            all_rules: false,
        }
    }

    /// Loads and checks the packs.
    pub fn load(&self) -> Result<Vec<Pack>, ConfigError> {
        self.load_except(|_| false).map(|(packs, _)| packs)
    }

    /// [`PackChoice::load`] less the chosen built-in packs that `wait` names: those are
    /// returned by name, each with the place it takes among all the packs, for the caller to
    /// load when it needs them ([`packs::builtin`]).
    pub fn load_except(
        &self,
        wait: impl Fn(&str) -> bool,
    ) -> Result<(Vec<Pack>, Later), ConfigError> {
        let chosen: Vec<&'static str> = match &self.builtin {
            None => packs::names().collect(),
            Some(names) => names
                .iter()
                .map(|n| {
                    packs::names()
                        .find(|b| b == n)
                        .ok_or_else(|| not_builtin(n))
                })
                .collect::<Result<_, _>>()?,
        };
        let (waiting, now): (Vec<_>, Vec<_>) =
            chosen.into_iter().enumerate().partition(|(_, n)| wait(n));
        let mut out = now
            .into_iter()
            .map(|(_, n)| builtin_pack(n))
            .collect::<Result<Vec<_>, _>>()?;
        for spec in &self.extra {
            out.push(
                packs::resolve(spec)
                    .map_err(|e| ConfigError::new("IAMWATCH_PACKS", e.to_string()))?,
            );
        }
        Ok((out, waiting))
    }
}

/// The built-in pack `name` (one of [`packs::names`]), loaded and checked; a pack that does
/// not load is a configuration error of `IAMWATCH_BUILTIN_PACKS`.
pub(crate) fn builtin_pack(name: &str) -> Result<Pack, ConfigError> {
    packs::builtin(name)
        .expect("a built-in name")
        .map_err(|e| ConfigError::new("IAMWATCH_BUILTIN_PACKS", e.to_string()))
}

/// Everything the engine and its handlers are configured with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub packs: PackChoice,
    pub min_severity: Severity,
    pub topic_arn: Option<String>,
    pub state_table: Option<String>,
    /// The allowlists set in the environment, checked (packs read them when they load).
    pub allowlists: Vec<String>,
    /// The largest record read, in bytes: a larger one is reported as bad without being held
    /// whole (see [`crate::ingest::DEFAULT_MAX_RECORD`]).
    pub max_record: usize,
    /// Exceptions for every rule (`IAMWATCH_EXCEPTIONS`), checked.
    pub exceptions: Vec<Exception>,
    /// Account names (`IAMWATCH_ACCOUNT_NAMES`), checked.
    pub account_names: AccountNames,
    /// Also name accounts from AWS Organizations at start (`IAMWATCH_ORGANIZATION_ACCOUNTS`).
    pub organization_accounts: bool,
    #[cfg(feature = "aws")]
    pub retry: crate::aws::Retry,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            packs: PackChoice::default(),
            min_severity: Severity::Medium,
            topic_arn: None,
            state_table: None,
            allowlists: Vec::new(),
            max_record: crate::ingest::DEFAULT_MAX_RECORD,
            exceptions: Vec::new(),
            account_names: AccountNames::default(),
            organization_accounts: false,
            #[cfg(feature = "aws")]
            retry: crate::aws::Retry::default(),
        }
    }
}

/// The settings this module reads, besides `IAMWATCH_ALLOWLIST_*`.
const KNOWN: &[&str] = &[
    "IAMWATCH_BUILTIN_PACKS",
    "IAMWATCH_PACKS",
    "IAMWATCH_MIN_SEVERITY",
    "IAMWATCH_TOPIC_ARN",
    "IAMWATCH_STATE_TABLE",
    "IAMWATCH_RETRY_ATTEMPTS",
    "IAMWATCH_RETRY_BASE_MS",
    "IAMWATCH_ATTEMPT_TIMEOUT_MS",
    "IAMWATCH_MAX_RECORD_BYTES",
    "IAMWATCH_EXCEPTIONS",
    "IAMWATCH_ACCOUNT_NAMES",
    "IAMWATCH_ORGANIZATION_ACCOUNTS",
];

/// A record size limit: a whole number of bytes from 64 KiB to 256 MiB.
pub fn max_record(value: &str) -> Result<usize, String> {
    let range = crate::ingest::MIN_MAX_RECORD..=crate::ingest::MAX_MAX_RECORD;
    value
        .parse::<usize>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            format!(
                "expected a whole number of bytes from {} to {}, found {value:?}",
                range.start(),
                range.end()
            )
        })
}

impl Config {
    /// The configuration in this process's environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars_os(), &[])
    }

    /// The configuration in `vars`; `own` names further `IAMWATCH_*` variables that the
    /// caller reads itself (so they are not taken for misspellings).
    pub fn from_vars(
        vars: impl IntoIterator<Item = (OsString, OsString)>,
        own: &[&str],
    ) -> Result<Self, ConfigError> {
        let mut c = Config::default();
        let mut set: Vec<(String, String)> = Vec::new();
        for (k, v) in vars {
            let Some(k) = k.to_str() else { continue };
            if !k.starts_with("IAMWATCH_") {
                continue;
            }
            let v = v
                .into_string()
                .map_err(|_| ConfigError::new(k, "is not valid UTF-8"))?;
            set.push((k.to_string(), v));
        }
        set.sort();
        #[cfg(feature = "aws")]
        let mut retry_vars = Vec::new();
        for (k, v) in &set {
            let value = v.trim();
            match k.as_str() {
                "IAMWATCH_BUILTIN_PACKS" => c.packs.builtin = builtin_list(value),
                "IAMWATCH_PACKS" => c.packs.extra = pack_specs(value),
                "IAMWATCH_MIN_SEVERITY" => {
                    c.min_severity = value.parse().map_err(|e: String| ConfigError::new(k, e))?
                }
                "IAMWATCH_MAX_RECORD_BYTES" => {
                    c.max_record = max_record(value).map_err(|e| ConfigError::new(k, e))?
                }
                "IAMWATCH_TOPIC_ARN" if !value.is_empty() => {
                    check_topic(value).map_err(|e| ConfigError::new(k, e))?;
                    c.topic_arn = Some(value.to_string());
                }
                "IAMWATCH_STATE_TABLE" if !value.is_empty() => {
                    check_table(value).map_err(|e| ConfigError::new(k, e))?;
                    c.state_table = Some(value.to_string());
                }
                "IAMWATCH_TOPIC_ARN" | "IAMWATCH_STATE_TABLE" => {}
                "IAMWATCH_EXCEPTIONS" if !value.is_empty() => {
                    c.exceptions = exceptions::from_setting(value)
                        .map_err(|e| ConfigError::new(k, e.to_string()))?
                }
                "IAMWATCH_ACCOUNT_NAMES" if !value.is_empty() => {
                    c.account_names = AccountNames::from_setting(value)
                        .map_err(|e| ConfigError::new(k, e.to_string()))?
                }
                "IAMWATCH_EXCEPTIONS" | "IAMWATCH_ACCOUNT_NAMES" => {}
                "IAMWATCH_ORGANIZATION_ACCOUNTS" => {
                    c.organization_accounts = match value {
                        "true" => true,
                        "false" | "" => false,
                        _ => {
                            return Err(ConfigError::new(
                                k,
                                format!("expected true or false, found {v:?}"),
                            ))
                        }
                    }
                }
                "IAMWATCH_RETRY_ATTEMPTS"
                | "IAMWATCH_RETRY_BASE_MS"
                | "IAMWATCH_ATTEMPT_TIMEOUT_MS" => {
                    if value.parse::<u64>().is_err() {
                        return Err(ConfigError::new(
                            k,
                            format!("expected a whole number, found {v:?}"),
                        ));
                    }
                    #[cfg(feature = "aws")]
                    retry_vars.push((k.as_str(), value));
                }
                name if name.starts_with("IAMWATCH_ALLOWLIST_") => {
                    let list = name["IAMWATCH_ALLOWLIST_".len()..].to_ascii_lowercase();
                    Allowlist::named(&list, [value]).map_err(|e| {
                        ConfigError::new(
                            k,
                            format!("{e} (expected comma-separated addresses or networks)"),
                        )
                    })?;
                    c.allowlists.push(list);
                }
                name if own.contains(&name) => {}
                _ => {
                    return Err(ConfigError::new(
                        k,
                        format!(
                        "is not a setting of iamwatch (settings: {}, IAMWATCH_ALLOWLIST_<NAME>{})",
                        KNOWN.join(", "),
                        own.iter().map(|o| format!(", {o}")).collect::<String>()
                    ),
                    ))
                }
            }
        }
        #[cfg(feature = "aws")]
        {
            c.retry = crate::aws::Retry::from_pairs(&retry_vars)
                .map_err(|(k, e)| ConfigError::new(k, e))?;
        }
        // Built-in names are checked here; the packs themselves when the engine loads them
        // (once: loading compiles every pattern).
        if let Some(n) = c
            .packs
            .builtin
            .iter()
            .flatten()
            .find(|n| !packs::names().any(|k| k == *n))
        {
            return Err(not_builtin(n));
        }
        Ok(c)
    }
}

/// The error for a built-in pack name that is not one.
fn not_builtin(name: &str) -> ConfigError {
    ConfigError::new(
        "IAMWATCH_BUILTIN_PACKS",
        format!(
            "{name:?} is not a built-in pack (expected all, none, or names among: {})",
            packs::names().collect::<Vec<_>>().join(", ")
        ),
    )
}

/// `all` (or nothing) for every built-in pack, `none` for none, else the names.
fn builtin_list(value: &str) -> Option<Vec<String>> {
    match value {
        "" | "all" => None,
        "none" => Some(Vec::new()),
        list => Some(
            list.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        ),
    }
}

/// Inline JSON is one pack; anything else is a comma-separated list of files or names.
fn pack_specs(value: &str) -> Vec<String> {
    if value.starts_with('{') || value.starts_with('[') {
        return vec![value.to_string()];
    }
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// An SNS topic ARN: `arn:PARTITION:sns:REGION:ACCOUNT:NAME`.
fn check_topic(arn: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.split(':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "sns"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && !parts[5].is_empty()
        && parts[5].len() <= 256
        && parts[5]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "expected an SNS topic ARN such as arn:aws:sns:us-east-1:111122223333:iamwatch-alerts, found {arn:?}"
        ))
    }
}

/// A DynamoDB table name: 3 to 255 letters, digits, `_`, `-` and `.`.
fn check_table(name: &str) -> Result<(), String> {
    if (3..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
    {
        Ok(())
    } else {
        Err(format!(
            "expected a DynamoDB table name (3 to 255 letters, digits, '_', '-', '.'), found {name:?}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect()
    }

    /// The error of a bad setting, found when the settings are read or the packs loaded.
    fn err(pairs: &[(&str, &str)]) -> ConfigError {
        match Config::from_vars(vars(pairs), &[]) {
            Ok(c) => c.packs.load().expect_err("a bad setting"),
            Err(e) => e,
        }
    }

    #[test]
    fn defaults_and_settings() {
        let c = Config::from_vars(vars(&[("HOME", "/x")]), &[]).expect("empty is fine");
        assert_eq!(c.min_severity, Severity::Medium);
        assert_eq!(c.packs.builtin, None);
        assert_eq!((c.topic_arn, c.state_table), (None, None));
        let c = Config::from_vars(
            vars(&[
                (
                    "IAMWATCH_BUILTIN_PACKS",
                    "aws-iam-changes, cis-aws-foundations",
                ),
                ("IAMWATCH_MIN_SEVERITY", "high"),
                (
                    "IAMWATCH_TOPIC_ARN",
                    "arn:aws:sns:us-east-1:111122223333:alerts",
                ),
                ("IAMWATCH_STATE_TABLE", "iamwatch-state"),
                ("IAMWATCH_ALLOWLIST_IAM", "10.0.0.0/8, 203.0.113.7"),
                ("IAMWATCH_WEBHOOK_SECRET", "s"),
            ]),
            &["IAMWATCH_WEBHOOK_SECRET"],
        )
        .expect("valid");
        assert_eq!(c.min_severity, Severity::High);
        assert_eq!(
            c.packs.load().expect("packs").len(),
            2,
            "only the named built-ins"
        );
        assert_eq!(c.state_table.as_deref(), Some("iamwatch-state"));
        assert_eq!(c.allowlists, ["iam"]);
        let none = Config::from_vars(vars(&[("IAMWATCH_BUILTIN_PACKS", "none")]), &[]).unwrap();
        assert!(none.packs.load().unwrap().is_empty());
    }

    #[test]
    fn each_error_names_its_variable_and_what_is_expected() {
        for (pairs, var, expected) in [
            (
                vec![("IAMWATCH_MIN_SEVERITY", "urgent")],
                "IAMWATCH_MIN_SEVERITY",
                "expected one of",
            ),
            (
                vec![("IAMWATCH_TOPIC_ARN", "alerts")],
                "IAMWATCH_TOPIC_ARN",
                "SNS topic ARN",
            ),
            (
                vec![("IAMWATCH_STATE_TABLE", "a b")],
                "IAMWATCH_STATE_TABLE",
                "table name",
            ),
            (
                vec![("IAMWATCH_BUILTIN_PACKS", "aws-iam")],
                "IAMWATCH_BUILTIN_PACKS",
                "not a built-in pack",
            ),
            (
                vec![("IAMWATCH_PACKS", "/no/such/pack.json")],
                "IAMWATCH_PACKS",
                "not a readable file",
            ),
            (
                vec![("IAMWATCH_PACKS", "{\"rules\": 3}")],
                "IAMWATCH_PACKS",
                "rules",
            ),
            (
                vec![("IAMWATCH_ALLOWLIST_IAM", "10.0.0.0/33")],
                "IAMWATCH_ALLOWLIST_IAM",
                "networks",
            ),
            (
                vec![("IAMWATCH_ALLOWLIST_IAM", " ")],
                "IAMWATCH_ALLOWLIST_IAM",
                "write \"unrestricted\"",
            ),
            (
                vec![("IAMWATCH_ALLOWLIST_OFFICE", "010.0.0.0/8")],
                "IAMWATCH_ALLOWLIST_OFFICE",
                "\"010.0.0.0/8\" is not an address or CIDR block: an address with leading zeros",
            ),
            (
                vec![("IAMWATCH_RETRY_ATTEMPTS", "many")],
                "IAMWATCH_RETRY_ATTEMPTS",
                "whole number",
            ),
            (
                vec![("IAMWATCH_TOPIC_ARM", "x")],
                "IAMWATCH_TOPIC_ARM",
                "not a setting",
            ),
        ] {
            let e = err(&pairs);
            assert_eq!(e.variable, var, "{e}");
            assert!(e.message.contains(expected), "{e}");
            assert!(e.to_string().starts_with(var), "{e}");
        }
    }
}
