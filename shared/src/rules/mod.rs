//! Rules and rule packs: the JSON format of `docs`/README "Rule packs", strict loading, and the
//! compiled [`Detector`](crate::detector::Detector) they become.

pub mod facts;
mod load;
pub mod template;

pub use load::{load_pack, LoadError};

use crate::conditions::path::Path as CondPath;
use crate::conditions::Condition;
use crate::pattern::FilterPattern;
use crate::window::{CountOp, Window};
use std::fmt;
use std::str::FromStr;
use template::Template;

/// How urgent a finding is. `info` and `low` are audit-trail notices; `medium` and above are
/// alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                format!("expected one of info, low, medium, high, critical, found {s:?}")
            })
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which records a rule is tested against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppliesTo {
    CloudTrail,
    Cadf,
    Any,
}

impl AppliesTo {
    pub fn as_str(self) -> &'static str {
        match self {
            AppliesTo::CloudTrail => "cloudtrail",
            AppliesTo::Cadf => "cadf",
            AppliesTo::Any => "any",
        }
    }
}

/// What decides whether a record matches.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// A CloudWatch Logs filter pattern, verbatim.
    FilterPattern(FilterPattern),
    /// json-rules-engine conditions over the record's facts.
    Conditions(Condition),
}

/// One detection.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    /// json-rules-engine `event.type` (Activity Insights' rule identifier), when given.
    pub event_type: Option<String>,
    /// Activity Insights `event.params.findingType`, when given.
    pub finding_type: Option<String>,
    /// [`Template::text`] gives it as written.
    pub title: Option<Template>,
    pub description: Option<String>,
    pub severity: Severity,
    pub applies_to: AppliesTo,
    pub matcher: Matcher,
    /// Steps for the person who receives the alert, in order, as templates filled in from
    /// each finding's event ([`Template::text`] gives a step as written).
    pub runbook_steps: Vec<Template>,
    pub references: Vec<String>,
    /// Loaded and validated but not run unless asked for (`replay --all-rules`).
    pub dormant: bool,
    /// `pack/rule` ids this rule replaces: when both are loaded, only this one runs.
    pub supersedes: Vec<String>,
    /// json-rules-engine priority (default 1): higher-priority rules report first.
    pub priority: u32,
    /// For aggregate and coincident rules (and `threshold`): the window the matches count in.
    pub window: Option<WindowRule>,
    /// `suppress`: one alert per key and period.
    pub suppress: Option<Suppress>,
    /// `"mode": "dry-run"`: evaluated and counted like a live rule, never sent.
    pub mode: Mode,
    /// Activity this rule accepts (see [`crate::exceptions`]).
    pub exceptions: Vec<crate::exceptions::Exception>,
}

/// Whether a rule's findings are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Findings are reported and sent.
    #[default]
    Live,
    /// Findings are reported and counted (windows, suppression, volume) but never sent: a
    /// rule's volume measured on real traffic before it pages anyone.
    DryRun,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Live => "live",
            Mode::DryRun => "dry-run",
        }
    }
}

/// `"suppress": {"for": "60 minutes", "by": ["$.userIdentity.arn", "$.eventName"]}`: after an
/// alert, the same rule with the same key stays quiet for the period; the next alert says how
/// many it stands for.
#[derive(Debug, Clone)]
pub struct Suppress {
    pub period: Window,
    pub by: Vec<(String, CondPath)>,
}

/// How a rule's matching events are counted before it fires.
#[derive(Debug, Clone)]
pub struct WindowRule {
    pub kind: WindowKind,
    pub window: Window,
    /// Group-by selectors (`$.userIdentity.arn`); none means per account.
    pub by: Vec<(String, CondPath)>,
}

#[derive(Debug, Clone)]
pub enum WindowKind {
    /// `occurrences op count` within the window.
    Aggregate { op: CountOp, count: u64 },
    /// Every one of `actions` within the window, in any order.
    Coincident { actions: Vec<String> },
}

/// A named set of rules.
#[derive(Debug, Clone)]
pub struct Pack {
    pub name: String,
    pub description: Option<String>,
    /// Shared with the detectors built from the pack, which keep them without a copy.
    pub rules: Vec<std::sync::Arc<Rule>>,
    /// Activity the pack's rules accept (see [`crate::exceptions`]).
    pub exceptions: Vec<crate::exceptions::Exception>,
}
