//! Writes a synthetic CloudTrail log file (`{"Records": [...]}`) of about the requested size.
//!
//! The mix resembles a busy account: mostly read-only calls from roles and services, some
//! console sign-ins, IAM and network changes, and denied calls, so that the built-in rules
//! fire on a few percent of the records.
//!
//! Usage: gen OUTPUT MEGABYTES
//!
//!        gen awslogs PAYLOADS RECORDS COUNT
//!
//! The second form writes COUNT records of 1–3 KB (see `iamwatch_bench::cloudtrail`) twice:
//! to RECORDS one per line, and to PAYLOADS as CloudTrail delivers them through a CloudWatch
//! Logs subscription to a Lambda function: about 500 log events per payload, the subscription
//! JSON gzipped and base64'd into the Lambda event `{"awslogs":{"data":"..."}}`, one event per
//! line.

use std::io::{BufWriter, Write};

use base64::Engine;
use iamwatch_bench::cloudtrail::{Generator, ACCOUNT};
use iamwatch_bench::Rng;

const READS: &[(&str, &str)] = &[
    ("ec2.amazonaws.com", "DescribeInstances"),
    ("s3.amazonaws.com", "GetObject"),
    ("s3.amazonaws.com", "ListBuckets"),
    ("sts.amazonaws.com", "AssumeRole"),
    ("kms.amazonaws.com", "Decrypt"),
    ("dynamodb.amazonaws.com", "DescribeTable"),
    ("iam.amazonaws.com", "GetRole"),
    ("lambda.amazonaws.com", "GetFunction"),
    ("logs.amazonaws.com", "DescribeLogGroups"),
    ("cloudtrail.amazonaws.com", "DescribeTrails"),
];

const CHANGES: &[(&str, &str)] = &[
    ("iam.amazonaws.com", "CreateUser"),
    ("iam.amazonaws.com", "AttachRolePolicy"),
    ("iam.amazonaws.com", "PutUserPolicy"),
    ("iam.amazonaws.com", "CreateAccessKey"),
    ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress"),
    ("ec2.amazonaws.com", "CreateRoute"),
    ("s3.amazonaws.com", "PutBucketPolicy"),
    ("kms.amazonaws.com", "ScheduleKeyDeletion"),
    ("cloudtrail.amazonaws.com", "StopLogging"),
    ("ec2.amazonaws.com", "CreateVpcEndpoint"),
];

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("awslogs") {
        return awslogs(&args[2..]);
    }
    let (Some(path), Some(mb)) = (args.get(1), args.get(2).and_then(|m| m.parse::<u64>().ok()))
    else {
        eprintln!("usage: gen OUTPUT MEGABYTES");
        std::process::exit(2);
    };
    let target = mb * 1_000_000;
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut written = 0u64;
    let mut n = 0u64;
    out.write_all(b"{\"Records\":[")?;
    while written < target {
        let roll = rng.below(1000);
        let (src, name, err) = if roll < 930 {
            let (s, e) = READS[rng.below(READS.len() as u64) as usize];
            (s, e, "")
        } else if roll < 970 {
            let (s, e) = CHANGES[rng.below(CHANGES.len() as u64) as usize];
            (s, e, "")
        } else if roll < 990 {
            let (s, e) = CHANGES[rng.below(CHANGES.len() as u64) as usize];
            (
                s,
                e,
                r#","errorCode":"AccessDenied","errorMessage":"User is not authorized to perform this operation""#,
            )
        } else {
            ("signin.amazonaws.com", "ConsoleLogin", "")
        };
        let user = rng.below(50);
        let ip = format!(
            "{}.{}.{}.{}",
            1 + rng.below(223),
            rng.below(256),
            rng.below(256),
            1 + rng.below(254)
        );
        let (sec, min, hour) = (n % 60, (n / 60) % 60, (n / 3600) % 24);
        let identity = if name == "ConsoleLogin" {
            format!(
                r#"{{"type":"IAMUser","principalId":"AIDAEXAMPLE{user:04}","arn":"arn:aws:iam::111122223333:user/user{user}","accountId":"111122223333","userName":"user{user}"}}"#
            )
        } else {
            format!(
                r#"{{"type":"AssumedRole","principalId":"AROAEXAMPLE{user:04}:session{user}","arn":"arn:aws:sts::111122223333:assumed-role/app-role-{user}/session{user}","accountId":"111122223333","accessKeyId":"ASIAEXAMPLE{user:08}","sessionContext":{{"sessionIssuer":{{"type":"Role","principalId":"AROAEXAMPLE{user:04}","arn":"arn:aws:iam::111122223333:role/app-role-{user}","accountId":"111122223333","userName":"app-role-{user}"}},"webIdFederationData":{{}},"attributes":{{"creationDate":"2026-11-20T00:00:00Z","mfaAuthenticated":"false"}}}}}}"#
            )
        };
        let extra = if name == "ConsoleLogin" {
            let mfa = if rng.below(4) == 0 { "No" } else { "Yes" };
            format!(
                r#","additionalEventData":{{"LoginTo":"https://console.aws.amazon.com/console/home","MobileVersion":"No","MFAUsed":"{mfa}"}},"responseElements":{{"ConsoleLogin":"Success"}}"#
            )
        } else {
            format!(
                r#","requestParameters":{{"resourceName":"resource-{}","tags":[{{"key":"team","value":"t{}"}}]}},"responseElements":null"#,
                rng.below(100_000),
                rng.below(20)
            )
        };
        let record = format!(
            r#"{sep}{{"eventVersion":"1.09","userIdentity":{identity},"eventTime":"2026-11-20T{hour:02}:{min:02}:{sec:02}Z","eventSource":"{src}","eventName":"{name}","awsRegion":"us-east-1","sourceIPAddress":"{ip}","userAgent":"aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/{name}"{extra}{err},"requestID":"{:016x}","eventID":"{:016x}-{:016x}","readOnly":{},"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management","tlsDetails":{{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"{src}"}}}}"#,
            rng.next(),
            rng.next(),
            rng.next(),
            roll < 930,
            sep = if n == 0 { "" } else { "," },
        );
        out.write_all(record.as_bytes())?;
        written += record.len() as u64;
        n += 1;
    }
    out.write_all(b"]}\n")?;
    out.flush()?;
    eprintln!("{n} records, {written} bytes");
    Ok(())
}

fn awslogs(args: &[String]) -> std::io::Result<()> {
    let (Some(payloads), Some(records), Some(count)) = (
        args.first(),
        args.get(1),
        args.get(2).and_then(|n| n.parse::<u64>().ok()),
    ) else {
        eprintln!("usage: gen awslogs PAYLOADS RECORDS COUNT");
        std::process::exit(2);
    };
    let mut payloads = BufWriter::with_capacity(1 << 20, std::fs::File::create(payloads)?);
    let mut lines = BufWriter::with_capacity(1 << 20, std::fs::File::create(records)?);
    let mut generator = Generator::new(0x5DEE_CE66_D1CE_4E5B);
    let mut rng = Rng(0xA076_1D64_78BD_642F);
    let mut record = String::with_capacity(4096);
    let mut json = Vec::with_capacity(2 << 20);
    let (mut written, mut record_bytes, mut sent, mut gz_bytes) = (0u64, 0u64, 0u64, 0u64);
    while written < count {
        // Subscription deliveries are batched by size and time, so they vary around 500.
        let batch = (450 + rng.below(101)).min(count - written);
        json.clear();
        json.extend_from_slice(
            format!(
                r#"{{"messageType":"DATA_MESSAGE","owner":"{ACCOUNT}","logGroup":"aws-cloudtrail-logs-{ACCOUNT}","logStream":"{ACCOUNT}_CloudTrail_us-east-1","subscriptionFilters":["iamwatch"],"logEvents":["#
            )
            .as_bytes(),
        );
        for i in 0..batch {
            let ms = generator.record(&mut record);
            lines.write_all(record.as_bytes())?;
            lines.write_all(b"\n")?;
            record_bytes += record.len() as u64;
            if i > 0 {
                json.push(b',');
            }
            // CloudWatch Logs event ids are 56 decimal digits that grow with time.
            let id = (ms as u64) * 1_000_000 + (written + i) % 1_000_000;
            write!(
                json,
                r#"{{"id":"{id:019}{:019}{:018}","timestamp":{ms},"message":"#,
                rng.next() % 10_000_000_000_000_000_000,
                rng.next() % 1_000_000_000_000_000_000
            )?;
            serde_json::to_writer(&mut json, record.as_str())?;
            json.push(b'}');
        }
        json.extend_from_slice(b"]}");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&json)?;
        let gz = gz.finish()?;
        gz_bytes += gz.len() as u64;
        payloads.write_all(br#"{"awslogs":{"data":""#)?;
        payloads.write_all(
            base64::engine::general_purpose::STANDARD
                .encode(&gz)
                .as_bytes(),
        )?;
        payloads.write_all(b"\"}}\n")?;
        written += batch;
        sent += 1;
    }
    payloads.flush()?;
    lines.flush()?;
    eprintln!(
        "{written} records ({record_bytes} bytes of record JSON) in {sent} payloads ({gz_bytes} bytes gzipped)"
    );
    Ok(())
}
