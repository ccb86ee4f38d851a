//! The rule packs built into every binary.

use crate::event::Provider;
use crate::rules::{load_pack, LoadError, Pack};

/// `(name, JSON)` of every built-in pack.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "cis-aws-foundations",
        include_str!("../packs/cis-aws-foundations.json"),
    ),
    (
        "aws-iam-changes",
        include_str!("../packs/aws-iam-changes.json"),
    ),
    (
        "aws-recommended",
        include_str!("../packs/aws-recommended.json"),
    ),
    ("aws-attacks", include_str!("../packs/aws-attacks.json")),
    ("ibm-iam", include_str!("../packs/ibm-iam.json")),
    (
        "ibm-key-protect",
        include_str!("../packs/ibm-key-protect.json"),
    ),
    ("ibm-cos", include_str!("../packs/ibm-cos.json")),
    (
        "ibm-kubernetes",
        include_str!("../packs/ibm-kubernetes.json"),
    ),
    ("ibm-app-id", include_str!("../packs/ibm-app-id.json")),
    (
        "ibm-certificate-manager",
        include_str!("../packs/ibm-certificate-manager.json"),
    ),
    ("ibm-cloud-pak", include_str!("../packs/ibm-cloud-pak.json")),
];

/// Names of the built-in packs.
pub fn names() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|(n, _)| *n)
}

/// The provider whose records alone the rules of the built-in pack `name` apply to, when
/// there is one: the IBM packs' rules read CADF facts, while the AWS packs' patterns apply to
/// any record. Such a pack can wait until a record of that provider comes (see
/// [`crate::engine::Engine::for_cloudtrail`]); a test holds this to the packs' rules.
pub fn only_for(name: &str) -> Option<Provider> {
    name.starts_with("ibm-").then_some(Provider::Cadf)
}

/// Loads one built-in pack by name; `None` when there is no such pack.
pub fn builtin(name: &str) -> Option<Result<Pack, LoadError>> {
    BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, text)| load_pack(text, &format!("builtin:{n}"), n))
}

/// Every built-in pack.
pub fn all() -> Result<Vec<Pack>, LoadError> {
    names()
        .map(|n| builtin(n).expect("listed pack exists"))
        .collect()
}

/// Why a pack named on the command line or in `IAMWATCH_PACKS` could not be had.
#[derive(Debug)]
pub enum ResolveError {
    /// Neither a built-in pack nor a readable file.
    NotFound(String),
    Invalid(LoadError),
}

impl std::fmt::Display for ResolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResolveError::NotFound(m) => f.write_str(m),
            ResolveError::Invalid(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ResolveError {}

/// A built-in pack by name, a pack file by path, or inline JSON (text starting with `{` or
/// `[`).
pub fn resolve(spec: &str) -> Result<Pack, ResolveError> {
    if let Some(p) = builtin(spec) {
        return p.map_err(ResolveError::Invalid);
    }
    let trimmed = spec.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return load_pack(spec, "inline", "inline").map_err(ResolveError::Invalid);
    }
    let path = std::path::Path::new(spec);
    let text = std::fs::read_to_string(path).map_err(|e| {
        ResolveError::NotFound(format!(
            "{spec}: not a built-in pack ({}) and not a readable file: {e}",
            names().collect::<Vec<_>>().join(", ")
        ))
    })?;
    let stem = path
        .file_stem()
        .map_or("pack".into(), |s| s.to_string_lossy().into_owned());
    load_pack(&text, spec, &stem).map_err(ResolveError::Invalid)
}
