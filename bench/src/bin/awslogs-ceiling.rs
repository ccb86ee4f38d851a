//! Decode-and-parse ceiling for CloudWatch Logs subscription payloads: what any handler has to
//! do before it can match a single rule.
//!
//! Usage: awslogs-ceiling libdeflate|zlib-rs PAYLOADS
//!
//! PAYLOADS holds one Lambda event `{"awslogs":{"data":"..."}}` per line. For each: read the
//! event with sonic-rs, base64-decode `awslogs.data` (with base64-simd, as iamwatch does),
//! gunzip it (with libdeflate, or with zlib-rs through flate2), read the subscription JSON
//! with sonic-rs, and parse every log event's message (one CloudTrail record) into a sonic-rs
//! value, dropped before the next. No matching, no output.
//!
//! The file is read into memory first, so the ceiling pays no I/O. Buffers are reused from one
//! payload to the next. Prints records, MB of record JSON (the messages as decoded) and the
//! rates, measured around the decoding alone.

use std::borrow::Cow;
use std::time::Instant;

use serde::Deserialize;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Deserialize)]
struct LambdaEvent<'a> {
    #[serde(borrow)]
    awslogs: AwsLogs<'a>,
}

#[derive(Deserialize)]
struct AwsLogs<'a> {
    #[serde(borrow)]
    data: Cow<'a, str>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Subscription<'a> {
    #[serde(borrow)]
    message_type: Cow<'a, str>,
    #[serde(borrow, default)]
    log_events: Vec<LogEvent<'a>>,
}

#[derive(Deserialize)]
struct LogEvent<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    timestamp: i64,
    // Records hold quotes, so every message is unescaped into its own string.
    #[serde(borrow)]
    message: Cow<'a, str>,
}

enum Gunzip {
    Libdeflate(libdeflater::Decompressor),
    ZlibRs,
}

impl Gunzip {
    /// Gunzips one member into `out`, sized from the gzip trailer (ISIZE).
    fn run(&mut self, gz: &[u8], out: &mut Vec<u8>) {
        let size = gz
            .len()
            .checked_sub(4)
            .map(|at| u32::from_le_bytes(gz[at..].try_into().unwrap()) as usize)
            .expect("a gzip member");
        out.clear();
        match self {
            Gunzip::Libdeflate(d) => {
                out.resize(size, 0);
                let n = d.gzip_decompress(gz, out).expect("valid gzip");
                out.truncate(n);
            }
            Gunzip::ZlibRs => {
                out.reserve(size);
                let mut z = flate2::Decompress::new_gzip(15);
                let status = z
                    .decompress_vec(gz, out, flate2::FlushDecompress::Finish)
                    .expect("valid gzip");
                assert_eq!(status, flate2::Status::StreamEnd, "a whole gzip member");
            }
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mode), Some(path)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: awslogs-ceiling libdeflate|zlib-rs PAYLOADS");
        std::process::exit(2);
    };
    let mut gunzip = match mode.as_str() {
        "libdeflate" => Gunzip::Libdeflate(libdeflater::Decompressor::new()),
        "zlib-rs" => Gunzip::ZlibRs,
        other => {
            eprintln!("unknown gunzip {other}");
            std::process::exit(2);
        }
    };
    let bytes = std::fs::read(path).expect("read input");
    let mut gz = Vec::new();
    let mut json = Vec::new();
    let (mut records, mut record_bytes, mut payloads) = (0u64, 0u64, 0u64);
    // Where the time goes, payload by payload: base64, gunzip, subscription JSON, records.
    let mut stages = [std::time::Duration::ZERO; 4];
    let started = Instant::now();
    for line in bytes.split(|&b| b == b'\n') {
        if line.is_empty() {
            continue;
        }
        let t0 = Instant::now();
        let event: LambdaEvent = sonic_rs::from_slice(line).expect("a Lambda event");
        gz.clear();
        base64_simd::STANDARD
            .decode_append(event.awslogs.data.as_bytes(), &mut gz)
            .expect("base64");
        let t1 = Instant::now();
        gunzip.run(&gz, &mut json);
        let t2 = Instant::now();
        let sub: Subscription = sonic_rs::from_slice(&json).expect("subscription JSON");
        assert_eq!(sub.message_type, "DATA_MESSAGE");
        let t3 = Instant::now();
        for e in &sub.log_events {
            let v: sonic_rs::Value = sonic_rs::from_str(&e.message).expect("a JSON record");
            std::hint::black_box((&v, &e.id, e.timestamp));
            record_bytes += e.message.len() as u64;
            records += 1;
        }
        payloads += 1;
        let t4 = Instant::now();
        for (stage, (from, to)) in stages
            .iter_mut()
            .zip([(t0, t1), (t1, t2), (t2, t3), (t3, t4)])
        {
            *stage += to - from;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{mode}: {records} records in {payloads} payloads, {:.1} MB of record JSON in {secs:.3} s: {:.0} records/s, {:.1} MB/s (base64 {:.3} s, gunzip {:.3} s, subscription JSON {:.3} s, records {:.3} s)",
        record_bytes as f64 / 1e6,
        records as f64 / secs,
        record_bytes as f64 / 1e6 / secs,
        stages[0].as_secs_f64(),
        stages[1].as_secs_f64(),
        stages[2].as_secs_f64(),
        stages[3].as_secs_f64(),
    );
}
