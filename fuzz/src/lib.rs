//! The fuzz targets' bodies, one module each: `fuzz_targets/*.rs` hand them to libFuzzer
//! (`cargo +nightly fuzz run TARGET`), and the workspace test `tests/tests/fuzz_smoke.rs` runs
//! them on stable over seeds and their mutations, so that every `scripts/test` smokes each
//! target.

pub mod pattern;
pub mod ingest;
pub mod packs;
pub mod conditions;
pub mod layout;
pub mod triggers;
