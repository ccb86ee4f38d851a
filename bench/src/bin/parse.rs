//! Parse-only baselines: read a CloudTrail log file and parse it, doing nothing else.
//!
//! Usage: parse serde|simd|sonic|sonic-records FILE
//! - serde: serde_json into a `Value` (the document whole).
//! - simd:  simd-json into its owned value (the document whole, SIMD tape parser).
//! - sonic: sonic-rs into its value (the document whole).
//! - serde-records: serde_json, one record at a time (records split by sonic-rs).
//! - sonic-records: sonic-rs, one record at a time (each element of `Records` into its own
//!   value, dropped before the next), the way a streaming replay has to parse.
//!
//! Prints records parsed and MB/s measured around the parse alone (the file is read into
//! memory first, so the baselines get no I/O cost the replay pays).

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mode), Some(path)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: parse serde|simd|sonic|serde-records|sonic-records FILE");
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
            v.get("Records")
                .and_then(|r| r.as_array())
                .map_or(0, |a| a.len())
        }
        "sonic" => {
            use sonic_rs::{JsonContainerTrait, JsonValueTrait};
            let v: sonic_rs::Value = sonic_rs::from_slice(&bytes).expect("valid JSON");
            v.get("Records")
                .and_then(|r| r.as_array())
                .map_or(0, |a| a.len())
        }
        "serde-records" => {
            let records = sonic_rs::get(&bytes[..], &["Records"]).expect("a Records array");
            let mut n = 0;
            for el in sonic_rs::to_array_iter(records.as_raw_str()) {
                let el = el.expect("valid element");
                let v: serde_json::Value =
                    serde_json::from_str(el.as_raw_str()).expect("valid JSON");
                std::hint::black_box(&v);
                n += 1;
            }
            n
        }
        "sonic-records" => {
            let records = sonic_rs::get(&bytes[..], &["Records"]).expect("a Records array");
            let mut n = 0;
            for el in sonic_rs::to_array_iter(records.as_raw_str()) {
                let el = el.expect("valid element");
                let v: sonic_rs::Value = sonic_rs::from_str(el.as_raw_str()).expect("valid JSON");
                std::hint::black_box(&v);
                n += 1;
            }
            n
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
