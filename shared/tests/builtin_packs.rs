//! Every built-in rule against records that must and must not fire it, including the false
//! positives users complain about most.

mod common;

use common::{call, iam_user, sign_in, trail};
use iamwatch::detector::Detector;
use iamwatch::event::Event;
use iamwatch::packs;
use iamwatch::rules::Pack;
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn root() -> Value {
    json!({"type": "Root", "principalId": "111122223333", "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333"})
}

fn sso() -> Value {
    json!({"type": "AssumedRole", "principalId": "AROAEXAMPLE:alice@example.com",
           "arn": "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice@example.com",
           "accountId": "111122223333",
           "sessionContext": {"sessionIssuer": {"type": "Role", "userName": "AWSReservedSSO_Admin_0123456789abcdef"}}})
}

fn mfa(used: Option<&str>) -> Value {
    match used {
        Some(u) => {
            json!({"additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": u}})
        }
        None => {
            json!({"additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No"}})
        }
    }
}

fn failed_login(identity: Value) -> String {
    let mut extra = mfa(Some("No"));
    extra["errorMessage"] = json!("Failed authentication");
    sign_in(identity, "Failure", extra)
}

fn with(base: &str, key: &str, value: Value) -> String {
    let mut v: Value = serde_json::from_str(base).unwrap();
    v[key] = value;
    v.to_string()
}

fn failed(base: &str, code: &str) -> String {
    let mut v: Value = serde_json::from_str(base).unwrap();
    v["errorCode"] = json!(code);
    v["errorMessage"] = json!("an error");
    v.to_string()
}

/// (rule id, record, should it fire)
fn cases() -> Vec<(&'static str, String, bool)> {
    let denied = |src: &str, code: &str| {
        with(
            &failed(&call("iam.amazonaws.com", "CreateServiceLinkedRole"), code),
            "sourceIPAddress",
            json!(src),
        )
    };
    let no_mfa = sign_in(iam_user(), "Success", mfa(Some("No")));
    let with_mfa = sign_in(iam_user(), "Success", mfa(Some("Yes")));
    let root_yes = sign_in(root(), "Success", mfa(Some("YES")));
    let root_no = sign_in(root(), "Success", mfa(Some("No")));
    let sso_login = sign_in(sso(), "Success", mfa(None));
    let sso_no = sign_in(sso(), "Success", mfa(Some("No")));
    let mut saml_extra = mfa(Some("No"));
    saml_extra["additionalEventData"]["SamlProviderArn"] =
        json!("arn:aws:iam::111122223333:saml-provider/Okta");
    let saml = sign_in(iam_user(), "Success", saml_extra);
    let fail = failed_login(iam_user());
    let root_call = trail(
        json!({"userIdentity": root(), "eventSource": "iam.amazonaws.com", "eventName": "CreateAccessKey", "readOnly": false}),
    );
    let mut by_service = root();
    by_service["invokedBy"] = json!("support.amazonaws.com");
    let root_via_service = trail(json!({"userIdentity": by_service, "eventName": "DescribeCases"}));
    let mut console = root();
    console["invokedBy"] = json!("signin.amazonaws.com");
    let root_console_call = trail(
        json!({"userIdentity": console, "eventSource": "iam.amazonaws.com", "eventName": "CreateAccessKey"}),
    );
    let root_service_event = trail(
        json!({"userIdentity": root(), "eventType": "AwsServiceEvent", "eventName": "SharedSnapshotCopyInitiated"}),
    );
    vec![
        // ---------------- aws-recommended
        (
            "unauthorized-api-calls",
            denied("203.0.113.7", "AccessDenied"),
            true,
        ),
        (
            "unauthorized-api-calls",
            denied("203.0.113.7", "Client.UnauthorizedOperation"),
            true,
        ),
        (
            "unauthorized-api-calls",
            denied("203.0.113.7", "AccessDeniedException"),
            true,
        ),
        // AWS services acting for you are noise, whichever error they got.
        (
            "unauthorized-api-calls",
            denied("sqs.amazonaws.com", "AccessDenied"),
            false,
        ),
        (
            "unauthorized-api-calls",
            denied(
                "delivery.logs.amazonaws.com",
                "Client.UnauthorizedOperation",
            ),
            false,
        ),
        (
            "unauthorized-api-calls",
            with(
                &failed(&call("s3.amazonaws.com", "HeadBucket"), "AccessDenied"),
                "sourceIPAddress",
                json!("203.0.113.7"),
            ),
            false,
        ),
        (
            "unauthorized-api-calls",
            denied("203.0.113.7", "NoSuchEntity"),
            false,
        ),
        (
            "unauthorized-api-calls",
            call("iam.amazonaws.com", "CreateUser"),
            false,
        ),
        ("console-login-without-mfa", no_mfa.clone(), true),
        ("console-login-without-mfa", root_no.clone(), true),
        ("console-login-without-mfa", with_mfa.clone(), false),
        ("console-login-without-mfa", root_yes.clone(), false),
        ("console-login-without-mfa", sso_login.clone(), false),
        ("console-login-without-mfa", sso_no.clone(), false),
        ("console-login-without-mfa", saml.clone(), false),
        ("console-login-without-mfa", fail.clone(), false),
        ("root-account-usage", root_yes.clone(), true),
        ("root-account-usage", root_call.clone(), true),
        ("root-account-usage", root_via_service.clone(), false),
        ("root-account-usage", root_service_event.clone(), false),
        ("root-account-usage", no_mfa.clone(), false),
        // Root's own console actions carry invokedBy signin.amazonaws.com: CIS 4.3 misses them.
        ("root-account-usage", root_console_call.clone(), true),
        ("cis-4.3", root_console_call.clone(), false),
        // ... but not what AWS does on root's behalf from "AWS Internal".
        (
            "root-account-usage",
            with(&root_console_call, "sourceIPAddress", json!("AWS Internal")),
            false,
        ),
        (
            "cloudtrail-tampering",
            call("cloudtrail.amazonaws.com", "StopLogging"),
            true,
        ),
        (
            "cloudtrail-tampering",
            call("cloudtrail.amazonaws.com", "DeleteTrail"),
            true,
        ),
        (
            "cloudtrail-tampering",
            call("cloudtrail.amazonaws.com", "PutEventSelectors"),
            true,
        ),
        (
            "cloudtrail-tampering",
            call("cloudtrail.amazonaws.com", "StartLogging"),
            false,
        ),
        (
            "cloudtrail-tampering",
            call("cloudtrail.amazonaws.com", "CreateTrail"),
            false,
        ),
        (
            "cloudtrail-tampering",
            failed(
                &call("cloudtrail.amazonaws.com", "StopLogging"),
                "InvalidTrailNameException",
            ),
            false,
        ),
        (
            "iam-policy-changes",
            call("iam.amazonaws.com", "AttachRolePolicy"),
            true,
        ),
        (
            "iam-policy-changes",
            call("iam.amazonaws.com", "SetDefaultPolicyVersion"),
            true,
        ),
        (
            "iam-policy-changes",
            failed(
                &call("iam.amazonaws.com", "DeleteGroupPolicy"),
                "NoSuchEntity",
            ),
            false,
        ),
        (
            "iam-policy-changes",
            call("iam.amazonaws.com", "GetPolicy"),
            false,
        ),
        (
            "kms-key-disabled-or-deleted",
            call("kms.amazonaws.com", "ScheduleKeyDeletion"),
            true,
        ),
        (
            "kms-key-disabled-or-deleted",
            call("kms.amazonaws.com", "DisableKeyRotation"),
            false,
        ),
        (
            "kms-key-disabled-or-deleted",
            failed(
                &call("kms.amazonaws.com", "DisableKey"),
                "NotFoundException",
            ),
            false,
        ),
        (
            "s3-bucket-policy-changes",
            call("s3.amazonaws.com", "DeleteBucketPublicAccessBlock"),
            true,
        ),
        (
            "s3-bucket-policy-changes",
            call("s3.amazonaws.com", "PutBucketAcl"),
            true,
        ),
        (
            "s3-bucket-policy-changes",
            failed(&call("s3.amazonaws.com", "PutBucketAcl"), "AccessDenied"),
            false,
        ),
        (
            "s3-bucket-policy-changes",
            call("s3.amazonaws.com", "GetBucketPolicy"),
            false,
        ),
        (
            "config-recording-stopped",
            call("config.amazonaws.com", "DeleteDeliveryChannel"),
            true,
        ),
        (
            "config-recording-stopped",
            call("config.amazonaws.com", "StopConfigurationRecorder"),
            true,
        ),
        (
            "config-recording-stopped",
            call("config.amazonaws.com", "PutDeliveryChannel"),
            false,
        ),
        (
            "config-recording-stopped",
            failed(
                &call("config.amazonaws.com", "DeleteDeliveryChannel"),
                "NoSuchDeliveryChannelException",
            ),
            false,
        ),
        (
            "security-group-changes",
            call("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress"),
            true,
        ),
        (
            "security-group-changes",
            failed(
                &call("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress"),
                "RequestExpired",
            ),
            false,
        ),
        (
            "security-group-changes",
            call("ec2.amazonaws.com", "DescribeSecurityGroups"),
            false,
        ),
        (
            "network-acl-changes",
            call("ec2.amazonaws.com", "CreateNetworkAclEntry"),
            true,
        ),
        (
            "network-acl-changes",
            failed(
                &call("ec2.amazonaws.com", "CreateNetworkAclEntry"),
                "InvalidCharacter",
            ),
            false,
        ),
        (
            "network-gateway-changes",
            call("ec2.amazonaws.com", "AttachInternetGateway"),
            true,
        ),
        (
            "network-gateway-changes",
            failed(
                &call("ec2.amazonaws.com", "AttachInternetGateway"),
                "RequestExpired",
            ),
            false,
        ),
        (
            "route-table-changes",
            call("ec2.amazonaws.com", "CreateRoute"),
            true,
        ),
        (
            "route-table-changes",
            call("ec2.amazonaws.com", "DeleteRoute"),
            true,
        ),
        (
            "route-table-changes",
            failed(&call("ec2.amazonaws.com", "CreateRoute"), "Blocked"),
            false,
        ),
        (
            "route-table-changes",
            call("ec2.amazonaws.com", "DescribeRouteTables"),
            false,
        ),
        ("vpc-changes", call("ec2.amazonaws.com", "CreateVpc"), true),
        (
            "vpc-changes",
            call("ec2.amazonaws.com", "CreateVpcEndpoint"),
            false,
        ),
        (
            "vpc-changes",
            failed(&call("ec2.amazonaws.com", "CreateVpc"), "UnknownParameter"),
            false,
        ),
        (
            "organizations-changes",
            call("organizations.amazonaws.com", "LeaveOrganization"),
            true,
        ),
        (
            "organizations-changes",
            call("organizations.amazonaws.com", "ListAccounts"),
            false,
        ),
        // ---------------- aws-iam-changes
        ("iam-changes", call("iam.amazonaws.com", "CreateUser"), true),
        (
            "iam-changes",
            call("iam.amazonaws.com", "AddUserToGroup"),
            true,
        ),
        (
            "iam-changes",
            call("iam.amazonaws.com", "ChangePassword"),
            true,
        ),
        (
            "iam-changes",
            call("iam.amazonaws.com", "DeactivateMFADevice"),
            true,
        ),
        (
            "iam-changes",
            call("iam.amazonaws.com", "EnableMFADevice"),
            true,
        ),
        (
            "iam-changes",
            call("iam.amazonaws.com", "SetDefaultPolicyVersion"),
            true,
        ),
        (
            "iam-changes",
            call("iam.amazonaws.com", "UploadSSHPublicKey"),
            true,
        ),
        (
            "iam-changes",
            call("iam.amazonaws.com", "UpdateAssumeRolePolicy"),
            true,
        ),
        ("iam-changes", call("iam.amazonaws.com", "GetUser"), false),
        (
            "iam-changes",
            failed(
                &call("iam.amazonaws.com", "AttachRolePolicy"),
                "NoSuchEntity",
            ),
            false,
        ),
        (
            "iam-changes",
            call("iam.amazonaws.com", "ListAttachedUserPolicies"),
            false,
        ),
        ("iam-changes", call("ec2.amazonaws.com", "CreateVpc"), false),
        (
            "iam-changes",
            call("sts.amazonaws.com", "AssumeRole"),
            false,
        ),
        ("iam-all-calls", call("iam.amazonaws.com", "GetUser"), true),
        (
            "iam-all-calls",
            call("sts.amazonaws.com", "GetCallerIdentity"),
            false,
        ),
        (
            "iam-authn-authz-changes",
            call("iam.amazonaws.com", "PutUserPolicy"),
            true,
        ),
        (
            "iam-authn-authz-changes",
            call("iam.amazonaws.com", "SetSecurityTokenServicePreferences"),
            true,
        ),
        (
            "iam-authn-authz-changes",
            call("iam.amazonaws.com", "AddUserToGroup"),
            false,
        ),
        (
            "iam-authn-authz-changes",
            call("iam.amazonaws.com", "GetPolicy"),
            false,
        ),
        // ---------------- cis-aws-foundations
        // 4.1 as published: && binds tighter, so *UnauthorizedOperation ignores the exclusions.
        ("cis-4.1", denied("203.0.113.7", "AccessDenied"), true),
        (
            "cis-4.1",
            denied("delivery.logs.amazonaws.com", "AccessDenied"),
            false,
        ),
        (
            "cis-4.1",
            denied(
                "delivery.logs.amazonaws.com",
                "Client.UnauthorizedOperation",
            ),
            true,
        ),
        ("cis-4.1", call("iam.amazonaws.com", "CreateUser"), false),
        ("cis-4.2", no_mfa.clone(), true),
        ("cis-4.2", root_yes.clone(), true),
        ("cis-4.2", fail.clone(), true),
        ("cis-4.2", saml.clone(), true),
        ("cis-4.2", with_mfa.clone(), false),
        ("cis-4.2", sso_login.clone(), false),
        ("cis-4.3", root_yes.clone(), true),
        ("cis-4.3", root_via_service.clone(), false),
        ("cis-4.3", root_service_event.clone(), false),
        ("cis-4.4", call("iam.amazonaws.com", "PutUserPolicy"), true),
        (
            "cis-4.4",
            failed(
                &call("iam.amazonaws.com", "DeleteGroupPolicy"),
                "NoSuchEntity",
            ),
            true,
        ),
        ("cis-4.4", call("iam.amazonaws.com", "GetUserPolicy"), false),
        (
            "cis-4.5",
            call("cloudtrail.amazonaws.com", "StopLogging"),
            true,
        ),
        (
            "cis-4.5",
            call("cloudtrail.amazonaws.com", "StartLogging"),
            true,
        ),
        (
            "cis-4.5",
            call("cloudtrail.amazonaws.com", "DescribeTrails"),
            false,
        ),
        ("cis-4.6", fail.clone(), true),
        ("cis-4.6", no_mfa.clone(), false),
        (
            "cis-4.7",
            call("kms.amazonaws.com", "ScheduleKeyDeletion"),
            true,
        ),
        ("cis-4.7", call("kms.amazonaws.com", "DisableKey"), true),
        (
            "cis-4.7",
            call("kms.amazonaws.com", "DisableKeyRotation"),
            false,
        ),
        ("cis-4.8", call("s3.amazonaws.com", "PutBucketPolicy"), true),
        (
            "cis-4.8",
            call("s3.amazonaws.com", "PutBucketTagging"),
            false,
        ),
        (
            "cis-4.9",
            call("config.amazonaws.com", "StopConfigurationRecorder"),
            true,
        ),
        (
            "cis-4.9",
            call("config.amazonaws.com", "DescribeConfigurationRecorders"),
            false,
        ),
        (
            "cis-4.10",
            call("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress"),
            true,
        ),
        (
            "cis-4.10",
            call("ec2.amazonaws.com", "ModifySecurityGroupRules"),
            true,
        ),
        (
            "cis-4.10",
            call("ec2.amazonaws.com", "DescribeSecurityGroups"),
            false,
        ),
        (
            "cis-4.11",
            call("ec2.amazonaws.com", "ReplaceNetworkAclEntry"),
            true,
        ),
        (
            "cis-4.11",
            call("ec2.amazonaws.com", "DescribeNetworkAcls"),
            false,
        ),
        (
            "cis-4.12",
            call("ec2.amazonaws.com", "AttachInternetGateway"),
            true,
        ),
        (
            "cis-4.12",
            call("ec2.amazonaws.com", "CreateNatGateway"),
            false,
        ),
        ("cis-4.13", call("ec2.amazonaws.com", "CreateRoute"), true),
        (
            "cis-4.13",
            call("ec2.amazonaws.com", "ReplaceRouteTableAssociation"),
            true,
        ),
        (
            "cis-4.13",
            call("ec2.amazonaws.com", "DescribeRouteTables"),
            false,
        ),
        (
            "cis-4.14",
            call("ec2.amazonaws.com", "CreateVpcPeeringConnection"),
            true,
        ),
        (
            "cis-4.14",
            call("ec2.amazonaws.com", "CreateVpcEndpoint"),
            false,
        ),
        (
            "cis-4.15",
            call("organizations.amazonaws.com", "LeaveOrganization"),
            true,
        ),
        (
            "cis-4.15",
            call("organizations.amazonaws.com", "DetachPolicy"),
            true,
        ),
        (
            "cis-4.15",
            call("organizations.amazonaws.com", "DescribeOrganization"),
            false,
        ),
        ("cis-4.15", call("iam.amazonaws.com", "DetachPolicy"), false),
    ]
}

/// The AWS packs, which this file's table covers; the IBM packs have their own table in
/// `ibm_packs.rs`.
fn all_packs() -> Vec<Pack> {
    packs::all()
        .expect("built-in packs load")
        .into_iter()
        // aws-attacks has its own table (attack_pack.rs, fixtures/aws-attacks-cases.json).
        .filter(|p| !p.name.starts_with("ibm-") && p.name != "aws-attacks")
        .collect()
}

fn fires(packs: &[Pack], rule: &str, record: &str) -> bool {
    let d = Detector::with_filter(packs, |_, r| r.id == rule);
    assert_ne!(d.rule_counts(), (0, 0), "no rule {rule}");
    let e = Event::new(serde_json::from_str(record).unwrap()).unwrap();
    !d.evaluate(&e).is_empty()
}

#[test]
fn every_rule_against_its_table() {
    let packs = all_packs();
    for (rule, record, want) in cases() {
        assert_eq!(fires(&packs, rule, &record), want, "{rule} on {record}");
    }
}

#[test]
fn every_rule_is_covered_both_ways_and_complete() {
    let packs = all_packs();
    let cases = cases();
    let positive: BTreeSet<&str> = cases.iter().filter(|c| c.2).map(|c| c.0).collect();
    let negative: BTreeSet<&str> = cases.iter().filter(|c| !c.2).map(|c| c.0).collect();
    for pack in &packs {
        for r in &pack.rules {
            assert!(
                positive.contains(r.id.as_str()),
                "{} has no positive case",
                r.id
            );
            assert!(
                negative.contains(r.id.as_str()),
                "{} has no negative case",
                r.id
            );
            assert!(r.title.is_some(), "{} has no title", r.id);
            assert!(
                r.runbook_steps.len() >= 2,
                "{} needs a runbook of steps",
                r.id
            );
            assert!(!r.references.is_empty(), "{} has no references", r.id);
            assert!(r.description.is_some(), "{} has no description", r.id);
        }
    }
}

#[test]
fn cis_pack_has_every_monitoring_item() {
    let cis = packs::builtin("cis-aws-foundations").unwrap().unwrap();
    let ids: Vec<&str> = cis.rules.iter().map(|r| r.id.as_str()).collect();
    let want: Vec<String> = (1..=15).map(|i| format!("cis-4.{i}")).collect();
    assert_eq!(ids, want);
    for r in &cis.rules {
        let n = &r.id[4..];
        assert!(
            r.references
                .iter()
                .any(|x| x.contains(&format!("v5.0.0 {n}"))),
            "{}",
            r.id
        );
        assert!(
            r.references.iter().any(|x| x.contains("v6.0.0/v7.0.0 5.")),
            "{}",
            r.id
        );
        if r.id != "cis-4.15" {
            assert!(
                r.references
                    .iter()
                    .any(|x| x.contains("Security Hub CloudWatch.")),
                "{}",
                r.id
            );
            assert!(
                r.references.iter().any(|x| x.contains("v1.2.0 3.")),
                "{}",
                r.id
            );
        }
    }
}

#[test]
fn dormant_and_superseded_rules_stay_out_of_the_default_set() {
    let packs = all_packs();
    let rules: Vec<(&str, &iamwatch::rules::Rule)> = packs
        .iter()
        .flat_map(|p| p.rules.iter().map(move |r| (p.name.as_str(), &**r)))
        .collect();
    let dormant = rules.iter().filter(|(_, r)| r.dormant).count();
    assert_eq!(dormant, 2, "iam-all-calls and iam-authn-authz-changes");
    // Every supersedes entry names a rule that exists.
    let ids: BTreeSet<String> = rules.iter().map(|(p, r)| format!("{p}/{}", r.id)).collect();
    let superseded: BTreeSet<&str> = rules
        .iter()
        .flat_map(|(_, r)| r.supersedes.iter().map(String::as_str))
        .collect();
    for s in &superseded {
        assert!(ids.contains(*s), "supersedes unknown rule {s}");
    }
    let default = Detector::new(&packs).rule_counts().0;
    assert_eq!(default, rules.len() - dormant - superseded.len());
    // Alone, the CIS pack runs every rule as CIS publishes it.
    let cis = packs::builtin("cis-aws-foundations").unwrap().unwrap();
    assert_eq!(Detector::new(&[cis]).rule_counts().0, 15);
    // With both packs, one finding per event: the corrected rule, not the CIS one.
    let d = Detector::new(&packs);
    let e = Event::new(serde_json::from_str(&call("kms.amazonaws.com", "DisableKey")).unwrap())
        .unwrap();
    let fired: Vec<String> = d.evaluate(&e).iter().map(|f| f.rule.id.clone()).collect();
    assert_eq!(fired, ["kms-key-disabled-or-deleted"]);
}

#[test]
fn titles_say_who_did_what() {
    let packs = all_packs();
    let d = Detector::new(&packs);
    let e = Event::new(serde_json::from_str(&call("iam.amazonaws.com", "CreateUser")).unwrap())
        .unwrap();
    let titles: Vec<String> = d.evaluate(&e).into_iter().map(|f| f.title).collect();
    assert_eq!(titles, ["IAM change: CreateUser by alice from 203.0.113.7"]);
}

#[test]
fn projected_records_match_exactly_as_whole_ones() {
    let packs = all_packs();
    let d = Detector::with_filter(&packs, |_, _| true);
    let projection = d.projection();
    assert!(!projection.is_everything());
    for (_, record, _) in cases() {
        let whole = Event::new(serde_json::from_str(&record).unwrap()).unwrap();
        // Built as ingest builds it: from the record's layout.
        let mut layout = iamwatch::layout::Layout::new();
        layout.scan(&record).unwrap();
        let projected = Event::new(projection.build(&record, &layout).unwrap()).unwrap();
        let ids = |e: &Event| -> Vec<String> {
            d.matching(e).iter().map(|m| m.rule().id.clone()).collect()
        };
        assert_eq!(ids(&projected), ids(&whole), "{record}");
        assert!(projected.record().to_string().len() < record.len());
    }
}
