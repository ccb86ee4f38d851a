//! iamwatch: the engine behind the iamwatch handlers and CLI.
//!
//! Cloud audit events in, alerts out. This crate holds all of the logic; the Lambda and Code
//! Engine handlers and the `iamwatch` command are thin shells around it.
//!
//! `ingest` reads records (checked and laid out by `layout`, built by `projection`), `event` gives them a normalised view, `rules` loads packs,
//! `detector` runs them (through `pattern`), and `finding` is what a match produces.

pub mod accounts;
pub mod allowlist;
#[cfg(feature = "aws")]
pub mod aws;
pub mod cloudformation;
#[cfg(feature = "aws")]
pub mod codeengine;
pub mod conditions;
pub mod config;
pub mod detector;
pub mod engine;
pub mod evaluate;
pub mod event;
pub mod exceptions;
pub mod finding;
pub mod identity;
pub mod ingest;
mod json_text;
pub mod layout;
pub mod metrics;
pub mod net;
pub mod notify;
#[cfg(feature = "aws")]
pub mod organizations;
pub mod packs;
pub mod pattern;
pub mod projection;
pub mod render;
pub mod rules;
pub mod screen;
#[cfg(feature = "aws")]
pub mod service;
pub mod time;
pub mod window;

/// What the unit tests share.
#[cfg(test)]
pub(crate) mod testing {
    /// `len` bytes drawn from `alphabet` by a xorshift generator whose state is `seed`: the
    /// same bytes on every run, and no dependency.
    pub(crate) fn random_bytes(seed: &mut u64, len: usize, alphabet: &[u8]) -> Vec<u8> {
        (0..len)
            .map(|_| {
                *seed ^= *seed << 13;
                *seed ^= *seed >> 7;
                *seed ^= *seed << 17;
                alphabet[(*seed % alphabet.len() as u64) as usize]
            })
            .collect()
    }
}
