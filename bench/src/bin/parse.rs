//! Parse-only baselines: read a CloudTrail log file and parse it, doing nothing else.
//!
//! Usage: parse serde|simd|sonic FILE
//! - serde: serde_json into a `Value` (the document whole).
//! - simd:  simd-json into its owned value (the document whole, SIMD tape parser).
//! - sonic: sonic-rs into its value (the document whole).
//!
//! Prints records parsed and MB/s measured around the parse alone (the file is read into
//! memory first, so the baselines get no I/O cost the replay pays).

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mode), Some(path)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: parse serde|simd|sonic FILE");
        std::process::exit(2);
    };
    let mut bytes = std::fs::read(path).expect("read input");
    let len = bytes.len();
    let started = Instant::now();
    let records = match mode.as_str() {
        "serde" => {
            let v: serde_json::Value = serde_json::from_slice(&bytes).expect("valid JSON");
            v["Records"].as_array().map_or(0, Vec::len)
        }
        "simd" => {
            use simd_json::prelude::*;
            let v = simd_json::to_owned_value(&mut bytes).expect("valid JSON");
            v.get("Records").and_then(|r| r.as_array()).map_or(0, |a| a.len())
        }
        "sonic" => {
            use sonic_rs::{JsonContainerTrait, JsonValueTrait};
            let v: sonic_rs::Value = sonic_rs::from_slice(&bytes).expect("valid JSON");
            v.get("Records").and_then(|r| r.as_array()).map_or(0, |a| a.len())
        }
        other => {
            eprintln!("unknown parser {other}");
            std::process::exit(2);
        }
    };
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{mode}: {records} records, {:.1} MB in {secs:.2} s: {:.1} MB/s, {:.0} records/s",
        len as f64 / 1e6,
        len as f64 / 1e6 / secs,
        records as f64 / secs
    );
}
