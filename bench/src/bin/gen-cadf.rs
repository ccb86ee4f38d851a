//! Writes synthetic IBM Cloud Activity Tracker (CADF) events, one per line.
//!
//! The mix: logins (a tenth failing), service-ID API-key logins from inside and outside the
//! 10.0.0.0/8 allowlist, access-group and policy changes, Key Protect and Object Storage calls,
//! and reads, across ten accounts and two hours of event time.
//!
//! Usage: gen-cadf OUTPUT COUNT

use std::io::{BufWriter, Write};

use iamwatch_bench::Rng;

const ACTIONS: &[&str] = &[
    "iam-identity.user-apikey.login",
    "iam-identity.serviceid-apikey.login",
    "iam-groups.member.add",
    "iam-groups.group.read",
    "iam-groups.group.delete",
    "iam-am.policy.create",
    "iam-am.policy.delete",
    "iam-identity.serviceid-apikey.create",
    "kms.secrets.unwrap",
    "kms.secrets.delete",
    "cloud-object-storage.bucket-acl.create",
    "cloud-object-storage.bucket.create",
    "containers-kubernetes.worker.reboot",
    "iam-identity.account-serviceid.update",
];

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(n)) = (args.get(1), args.get(2).and_then(|m| m.parse::<u64>().ok()))
    else {
        eprintln!("usage: gen-cadf OUTPUT COUNT");
        std::process::exit(2);
    };
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut rng = Rng(0x1234_5678_9ABC_DEF1);
    for i in 0..n {
        let action = ACTIONS[rng.below(ACTIONS.len() as u64) as usize];
        let failed = rng.below(10) == 0;
        let (outcome, code) = if failed {
            ("failure", 400)
        } else {
            ("success", 200)
        };
        let ip = if rng.below(5) == 0 {
            format!("203.0.113.{}", rng.below(250))
        } else {
            format!(
                "10.{}.{}.{}",
                rng.below(256),
                rng.below(256),
                1 + rng.below(254)
            )
        };
        let secs = i * 7200 / n.max(1);
        let (h, m, s) = (8 + secs / 3600, (secs / 60) % 60, secs % 60);
        let user = rng.below(40);
        let account = rng.below(10);
        let line = format!(
            r#"{{"id":"{i:016x}","action":"{action}","eventTime":"2026-11-20T{h:02}:{m:02}:{s:02}.{:02}+0000","outcome":"{outcome}","severity":"normal","message":"IAM event {action}","reason":{{"reasonCode":{code},"reasonType":"{}"}},"initiator":{{"id":"IBMid-{user:06}","name":"user{user}@example.com","typeURI":"service/security/account/user","credential":{{"type":"token"}},"host":{{"address":"{ip}","agent":"IBM Cloud CLI"}}}},"target":{{"id":"crn:v1:bluemix:public:iam-identity:global:a/acct{account}:::","name":"target-{}","typeURI":"iam-identity/serviceid"}},"observer":{{"name":"ActivityTracker"}},"requestData":{{"client_id":"bx"}},"dataEvent":false,"logSourceCRN":"crn:v1:bluemix:public:iam-identity:global:a/acct{account}:::"}}"#,
            rng.below(100),
            if failed { "Bad Request" } else { "OK" },
            rng.below(1000),
        );
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
    }
    out.flush()
}
