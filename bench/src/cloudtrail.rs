//! Synthetic CloudTrail records as a busy account delivers them to CloudWatch Logs: one record
//! of 1–3 KB at a time, in CloudTrail's own member order.
//!
//! The mix: mostly reads (Describe*, Get*, List*, Decrypt, AssumeRole) from roles, users and AWS
//! services; some routine writes; a few percent of changes that the monitoring rules watch (IAM,
//! security groups, network ACLs, routes, gateways, VPCs, KMS keys, bucket policies, Config,
//! CloudTrail, Organizations); denied calls; console sign-ins with and without MFA, some failing;
//! and a little root activity. Parameters vary in size (lists of resources, filters, policy
//! statements, metric queries) so that records spread over 1–3 KB as real ones do.

use std::fmt::Write;

use crate::Rng;

pub const ACCOUNT: &str = "111122223333";
/// 2026-11-20T00:00:00Z in milliseconds.
const START_MS: i64 = 1_795_132_800_000;

#[derive(Clone, Copy, PartialEq)]
enum Family {
    Ec2Describe,
    Ec2Change,
    S3,
    Sts,
    Kms,
    Lambda,
    CloudWatch,
    Logs,
    Iam,
    Named,
}
use Family::*;

type Api = (&'static str, &'static str, Family, u32);

// (eventSource prefix, eventName, shape of its parameters, weight)
const READS: &[Api] = &[
    ("ec2", "DescribeInstances", Ec2Describe, 8),
    ("ec2", "DescribeSecurityGroups", Ec2Describe, 4),
    ("ec2", "DescribeVolumes", Ec2Describe, 3),
    ("ec2", "DescribeSubnets", Ec2Describe, 2),
    ("ec2", "DescribeNetworkInterfaces", Ec2Describe, 3),
    ("ec2", "DescribeInstanceStatus", Ec2Describe, 3),
    ("s3", "GetObject", S3, 8),
    ("s3", "HeadObject", S3, 3),
    ("s3", "ListObjects", S3, 4),
    ("s3", "GetBucketAcl", S3, 2),
    ("s3", "GetBucketLocation", S3, 2),
    ("s3", "ListBuckets", S3, 1),
    ("s3", "HeadBucket", S3, 1),
    ("sts", "AssumeRole", Sts, 8),
    ("sts", "GetCallerIdentity", Sts, 3),
    ("sts", "AssumeRoleWithWebIdentity", Sts, 2),
    ("kms", "Decrypt", Kms, 10),
    ("kms", "GenerateDataKey", Kms, 5),
    ("kms", "DescribeKey", Kms, 2),
    ("lambda", "GetFunction20150331v2", Lambda, 2),
    ("lambda", "ListFunctions20150331", Lambda, 2),
    ("lambda", "GetFunctionConfiguration20150331v2", Lambda, 1),
    ("monitoring", "GetMetricData", CloudWatch, 4),
    ("monitoring", "DescribeAlarms", CloudWatch, 3),
    ("monitoring", "ListMetrics", CloudWatch, 2),
    ("logs", "DescribeLogStreams", Logs, 2),
    ("logs", "DescribeLogGroups", Logs, 2),
    ("logs", "FilterLogEvents", Logs, 1),
    ("dynamodb", "DescribeTable", Named, 2),
    ("dynamodb", "ListTables", Named, 1),
    ("iam", "GetRole", Iam, 2),
    ("iam", "ListRoles", Iam, 1),
    ("iam", "GetUser", Iam, 1),
    ("iam", "ListAttachedRolePolicies", Iam, 1),
    ("iam", "GetPolicyVersion", Iam, 1),
    ("cloudtrail", "DescribeTrails", Named, 1),
    ("cloudtrail", "LookupEvents", Named, 1),
    ("cloudtrail", "GetTrailStatus", Named, 1),
    ("config", "DescribeConfigurationRecorderStatus", Named, 1),
    ("organizations", "DescribeOrganization", Named, 1),
    ("secretsmanager", "GetSecretValue", Named, 3),
    ("ssm", "GetParameter", Named, 2),
    ("ssm", "GetParametersByPath", Named, 1),
];

/// Writes no monitoring rule looks at.
const ROUTINE: &[Api] = &[
    ("s3", "PutObject", S3, 6),
    ("s3", "DeleteObject", S3, 1),
    ("logs", "CreateLogStream", Logs, 3),
    ("ec2", "CreateTags", Ec2Change, 2),
    ("ec2", "RunInstances", Ec2Change, 1),
    ("ec2", "TerminateInstances", Ec2Change, 1),
    ("lambda", "UpdateFunctionCode20150331v2", Lambda, 1),
    ("ssm", "PutParameter", Named, 1),
    ("secretsmanager", "PutSecretValue", Named, 1),
    ("dynamodb", "UpdateTable", Named, 1),
    ("monitoring", "PutMetricAlarm", CloudWatch, 1),
    ("iam", "TagRole", Iam, 1),
];

/// Changes the CIS and IAM monitoring patterns (and their near misses) are about.
const CHANGES: &[Api] = &[
    ("iam", "CreateUser", Iam, 3),
    ("iam", "DeleteUser", Iam, 1),
    ("iam", "CreateAccessKey", Iam, 3),
    ("iam", "DeleteAccessKey", Iam, 2),
    ("iam", "UpdateAccessKey", Iam, 1),
    ("iam", "AttachRolePolicy", Iam, 3),
    ("iam", "DetachRolePolicy", Iam, 1),
    ("iam", "AttachUserPolicy", Iam, 1),
    ("iam", "PutUserPolicy", Iam, 2),
    ("iam", "PutRolePolicy", Iam, 3),
    ("iam", "DeleteRolePolicy", Iam, 1),
    ("iam", "CreatePolicy", Iam, 1),
    ("iam", "CreatePolicyVersion", Iam, 1),
    ("iam", "UpdateAssumeRolePolicy", Iam, 1),
    ("iam", "AddUserToGroup", Iam, 1),
    ("iam", "CreateRole", Iam, 2),
    ("iam", "DeleteRole", Iam, 1),
    ("iam", "CreateLoginProfile", Iam, 1),
    ("iam", "DeactivateMFADevice", Iam, 1),
    ("ec2", "AuthorizeSecurityGroupIngress", Ec2Change, 3),
    ("ec2", "AuthorizeSecurityGroupEgress", Ec2Change, 1),
    ("ec2", "RevokeSecurityGroupIngress", Ec2Change, 2),
    ("ec2", "CreateSecurityGroup", Ec2Change, 2),
    ("ec2", "DeleteSecurityGroup", Ec2Change, 1),
    ("ec2", "ModifySecurityGroupRules", Ec2Change, 1),
    ("ec2", "CreateNetworkAclEntry", Ec2Change, 1),
    ("ec2", "ReplaceNetworkAclEntry", Ec2Change, 1),
    ("ec2", "DeleteNetworkAcl", Ec2Change, 1),
    ("ec2", "CreateRoute", Ec2Change, 2),
    ("ec2", "ReplaceRoute", Ec2Change, 1),
    ("ec2", "CreateRouteTable", Ec2Change, 1),
    ("ec2", "AttachInternetGateway", Ec2Change, 1),
    ("ec2", "CreateInternetGateway", Ec2Change, 1),
    ("ec2", "CreateVpc", Ec2Change, 1),
    ("ec2", "ModifyVpcAttribute", Ec2Change, 1),
    ("ec2", "CreateVpcPeeringConnection", Ec2Change, 1),
    ("ec2", "CreateVpcEndpoint", Ec2Change, 1),
    ("kms", "DisableKey", Kms, 1),
    ("kms", "ScheduleKeyDeletion", Kms, 1),
    ("s3", "PutBucketPolicy", S3, 2),
    ("s3", "PutBucketAcl", S3, 1),
    ("s3", "DeleteBucketPolicy", S3, 1),
    ("s3", "PutBucketPublicAccessBlock", S3, 1),
    ("config", "StopConfigurationRecorder", Named, 1),
    ("config", "PutConfigurationRecorder", Named, 1),
    ("cloudtrail", "StopLogging", Named, 1),
    ("cloudtrail", "StartLogging", Named, 1),
    ("cloudtrail", "UpdateTrail", Named, 1),
    ("cloudtrail", "CreateTrail", Named, 1),
    ("cloudtrail", "PutEventSelectors", Named, 1),
    ("organizations", "AttachPolicy", Named, 1),
    ("organizations", "DetachPolicy", Named, 1),
    ("organizations", "CreateAccount", Named, 1),
];

const AGENTS: &[&str] = &[
    "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.173.0",
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.10.210-222.855.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.69",
    "aws-sdk-java/2.25.16 Linux/5.10.213-201.855.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc. md/internal exec-env/AWS_ECS_FARGATE io/sync http/Apache cfg/retry-mode/legacy",
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1016-aws exe/x86_64.ubuntu.22 prompt/off command/ec2.describe-instances",
    "aws-sdk-js/3.600.0 ua/2.0 os/linux#5.10.219-229.866.amzn2.x86_64 lang/js md/nodejs#20.14.0 exec-env/AWS_Lambda_nodejs20.x api/kms#3.600.0",
    "Terraform/1.8.5 (+https://www.terraform.io) terraform-provider-aws/5.57.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.30.1 os/linux lang/go#1.22.4 md/GOOS#linux md/GOARCH#amd64",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    "console.amazonaws.com",
];
const BROWSER: &str =
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15";
const SERVICES: &[&str] = &[
    "lambda.amazonaws.com",
    "ecs-tasks.amazonaws.com",
    "ec2.amazonaws.com",
    "cloudformation.amazonaws.com",
    "autoscaling.amazonaws.com",
    "elasticloadbalancing.amazonaws.com",
];
const TEAMS: &[&str] = &[
    "payments", "search", "platform", "data", "identity", "edge", "billing",
];
const PORTS: &[u32] = &[22, 443, 80, 3389, 5432, 6379, 8080, 3306];

/// Writes records one after another, in time order.
pub struct Generator {
    rng: Rng,
    time_ms: i64,
}

/// Who made a call.
struct Actor {
    identity: String,
    ip: String,
    agent: String,
    console: bool,
}

impl Generator {
    pub fn new(seed: u64) -> Self {
        Generator {
            rng: Rng(seed | 1),
            time_ms: START_MS,
        }
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.below(items.len() as u64) as usize]
    }

    fn weighted(&mut self, apis: &[Api]) -> Api {
        let total: u32 = apis.iter().map(|a| a.3).sum();
        let mut roll = self.rng.below(total as u64) as u32;
        for a in apis {
            if roll < a.3 {
                return *a;
            }
            roll -= a.3;
        }
        apis[0]
    }

    fn hex(&mut self, digits: usize) -> String {
        let mut s = String::with_capacity(digits);
        while s.len() < digits {
            let _ = write!(s, "{:016x}", self.rng.next());
        }
        s.truncate(digits);
        s
    }

    fn upper(&mut self, n: usize) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        (0..n)
            .map(|_| A[self.rng.below(32) as usize] as char)
            .collect()
    }

    fn uuid(&mut self) -> String {
        let h = self.hex(32);
        format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    }

    fn public_ip(&mut self) -> String {
        format!(
            "{}.{}.{}.{}",
            3 + self.rng.below(200),
            self.rng.below(256),
            self.rng.below(256),
            1 + self.rng.below(254)
        )
    }

    fn user(&mut self, console: bool) -> Actor {
        let u = self.rng.below(40);
        let mut identity = format!(
            r#"{{"type":"IAMUser","principalId":"AIDA{}","arn":"arn:aws:iam::{ACCOUNT}:user/dev{u}","accountId":"{ACCOUNT}","accessKeyId":"{}{}","userName":"dev{u}""#,
            self.upper(17),
            if console { "ASIA" } else { "AKIA" },
            self.upper(16)
        );
        if console {
            let _ = write!(
                identity,
                r#","sessionContext":{{"sessionIssuer":{{}},"webIdFederationData":{{}},"attributes":{{"creationDate":"{}","mfaAuthenticated":"{}"}}}}"#,
                iso(self.time_ms - 3_600_000),
                self.rng.below(5) != 0
            );
        }
        identity.push('}');
        let agent = if console {
            BROWSER.to_string()
        } else {
            self.pick(&AGENTS[3..6]).to_string()
        };
        Actor {
            identity,
            ip: self.public_ip(),
            agent,
            console,
        }
    }

    fn role(&mut self) -> Actor {
        let r = self.rng.below(30);
        let team = *self.pick(TEAMS);
        let sso = r < 4;
        let (role, session) = if sso {
            (
                format!(
                    "AWSReservedSSO_{}_{}",
                    [
                        "AdministratorAccess",
                        "PowerUserAccess",
                        "ReadOnlyAccess",
                        "Billing"
                    ][r as usize],
                    self.hex(16)
                ),
                format!("{team}.engineer{}@example.com", self.rng.below(25)),
            )
        } else {
            (
                format!("{team}-app-{r}"),
                format!("{team}-{}", self.hex(12)),
            )
        };
        let path = if sso {
            "aws-reserved/sso.amazonaws.com/"
        } else {
            ""
        };
        let ec2 = !sso && r % 3 == 0;
        let mut identity = format!(
            r#"{{"type":"AssumedRole","principalId":"AROA{}:{session}","arn":"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}","accountId":"{ACCOUNT}","accessKeyId":"ASIA{}","sessionContext":{{"sessionIssuer":{{"type":"Role","principalId":"AROA{}","arn":"arn:aws:iam::{ACCOUNT}:role/{path}{role}","accountId":"{ACCOUNT}","userName":"{role}"}},"webIdFederationData":{{}},"attributes":{{"creationDate":"{}","mfaAuthenticated":"false"}}"#,
            self.upper(17),
            self.upper(16),
            self.upper(17),
            iso(self.time_ms - self.rng.below(3_600_000) as i64),
        );
        if ec2 {
            let _ = write!(
                identity,
                r#","ec2RoleDelivery":"2.0"}},"invokedBy":"ec2.amazonaws.com"}}"#
            );
        } else {
            identity.push_str("}}");
        }
        let agent = if sso {
            AGENTS[6 + self.rng.below(2) as usize].to_string()
        } else {
            self.pick(&AGENTS[..6]).to_string()
        };
        Actor {
            identity,
            ip: if ec2 {
                "ec2.amazonaws.com".to_string()
            } else {
                self.public_ip()
            },
            agent,
            console: sso,
        }
    }

    fn service(&mut self) -> Actor {
        let s = *self.pick(SERVICES);
        Actor {
            identity: format!(r#"{{"type":"AWSService","invokedBy":"{s}"}}"#),
            ip: s.to_string(),
            agent: s.to_string(),
            console: false,
        }
    }

    fn root(&mut self, console: bool) -> Actor {
        let mut identity = format!(
            r#"{{"type":"Root","principalId":"{ACCOUNT}","arn":"arn:aws:iam::{ACCOUNT}:root","accountId":"{ACCOUNT}","accessKeyId":"ASIA{}","sessionContext":{{"sessionIssuer":{{}},"webIdFederationData":{{}},"attributes":{{"creationDate":"{}","mfaAuthenticated":"true"}}}}"#,
            self.upper(16),
            iso(self.time_ms - 600_000)
        );
        if console {
            identity.push_str(r#","invokedBy":"signin.amazonaws.com""#);
        }
        identity.push('}');
        Actor {
            identity,
            ip: self.public_ip(),
            agent: if console {
                "AWS Internal".to_string()
            } else {
                AGENTS[3].to_string()
            },
            console,
        }
    }

    /// The next record, and its time in milliseconds.
    pub fn record(&mut self, out: &mut String) -> i64 {
        // The few calls whose parameters cannot grow (GetCallerIdentity, say) are drawn again
        // when they come out under 1 KB.
        loop {
            let ms = self.attempt(out);
            if out.len() >= 1000 {
                return ms;
            }
        }
    }

    fn attempt(&mut self, out: &mut String) -> i64 {
        out.clear();
        self.time_ms += self.rng.below(40) as i64;
        // Records spread over 1–3 KB, most of them 1.2–2 KB.
        let target = 1000
            + (self.rng.below(1000) + self.rng.below(1000)) as usize / 2
            + if self.rng.below(5) == 0 {
                self.rng.below(1000) as usize
            } else {
                0
            };
        let roll = self.rng.below(10_000);
        if roll >= 9_800 && roll < 9_900 {
            self.console_login(out);
            return self.time_ms;
        }
        let (api, denied) = if roll < 8_800 {
            (self.weighted(READS), false)
        } else if roll < 9_300 {
            (self.weighted(ROUTINE), false)
        } else if roll < 9_600 {
            (self.weighted(CHANGES), false)
        } else if roll < 9_800 {
            let pool = if self.rng.below(2) == 0 {
                READS
            } else {
                CHANGES
            };
            (self.weighted(pool), true)
        } else if roll < 9_930 {
            (self.weighted(READS), false)
        } else {
            self.service_event(out, target);
            return self.time_ms;
        };
        let actor = if roll >= 9_900 {
            let console = self.rng.below(2) == 0;
            self.root(console)
        } else if denied && api.0 == "s3" && self.rng.below(10) == 0 {
            // Log delivery writing to a bucket it may not: the exclusion in CIS 4.1.
            Actor {
                identity: r#"{"type":"AWSService","invokedBy":"delivery.logs.amazonaws.com"}"#
                    .to_string(),
                ip: "delivery.logs.amazonaws.com".to_string(),
                agent: "delivery.logs.amazonaws.com".to_string(),
                console: false,
            }
        } else {
            match (api.2, self.rng.below(100)) {
                (Sts, 0..=29) | (Kms, 0..=9) => self.service(),
                (_, 0..=69) => self.role(),
                (_, 70..=84) if api.0 == "iam" || api.2 == Ec2Change => self.role(),
                (_, 70..=89) => self.user(false),
                _ => self.user(true),
            }
        };
        self.api_call(out, api, &actor, denied, target);
        self.time_ms
    }

    fn head(&mut self, out: &mut String, source: &str, name: &str, actor: &Actor) {
        let _ = write!(
            out,
            r#"{{"eventVersion":"1.{}","userIdentity":{},"eventTime":"{}","eventSource":"{source}.amazonaws.com","eventName":"{name}","awsRegion":"us-east-1","sourceIPAddress":"{}","userAgent":"{}""#,
            if self.rng.below(3) == 0 { "08" } else { "09" },
            actor.identity,
            iso(self.time_ms),
            actor.ip,
            actor.agent,
        );
    }

    fn api_call(&mut self, out: &mut String, api: Api, actor: &Actor, denied: bool, target: usize) {
        let (source, name, family, _) = api;
        let read_only = READS.iter().any(|r| r.1 == name);
        self.head(out, source, name, actor);
        if denied {
            if source == "ec2" {
                let _ = write!(
                    out,
                    r#","errorCode":"Client.UnauthorizedOperation","errorMessage":"You are not authorized to perform this operation. User: {} is not authorized to perform: ec2:{name} because no identity-based policy allows the ec2:{name} action. Encoded authorization failure message: {}""#,
                    arn_of(&actor.identity),
                    {
                        let n = 300 + self.rng.below(400) as usize;
                        self.upper(n)
                    }
                );
            } else {
                let _ = write!(
                    out,
                    r#","errorCode":"AccessDenied","errorMessage":"User: {} is not authorized to perform: {source}:{name} because no identity-based policy allows the {source}:{name} action""#,
                    arn_of(&actor.identity),
                );
            }
        }
        // The response, resources and extra data first, so that the request parameters can
        // make up the record's size.
        let response = if denied {
            "null".to_string()
        } else {
            self.response(name, family)
        };
        let (extra, resources) = self.extra(source, name, family);
        let fixed = out.len() + response.len() + extra.len() + resources.len() + 420;
        let budget = target.saturating_sub(fixed);
        let request = self.request(source, name, family, budget);
        let _ = write!(
            out,
            r#","requestParameters":{request},"responseElements":{response}"#
        );
        out.push_str(&extra);
        let data = family == S3
            && matches!(
                name,
                "GetObject" | "HeadObject" | "PutObject" | "DeleteObject"
            );
        let _ = write!(
            out,
            r#","requestID":"{}","eventID":"{}""#,
            if source == "s3" {
                self.upper(16)
            } else {
                self.uuid()
            },
            self.uuid()
        );
        let _ = write!(out, r#","readOnly":{read_only}"#);
        out.push_str(&resources);
        let _ = write!(
            out,
            r#","eventType":"AwsApiCall","managementEvent":{},"recipientAccountId":"{ACCOUNT}""#,
            !data
        );
        if actor.identity.contains("AWSService") {
            let _ = write!(out, r#","sharedEventID":"{}""#, self.uuid());
        }
        let _ = write!(
            out,
            r#","eventCategory":"{}""#,
            if data { "Data" } else { "Management" }
        );
        if !actor.identity.contains("AWSService") {
            let host = if source == "s3" {
                "s3.us-east-1.amazonaws.com".to_string()
            } else if matches!(source, "iam" | "organizations") {
                format!("{source}.amazonaws.com")
            } else {
                format!("{source}.us-east-1.amazonaws.com")
            };
            let _ = write!(
                out,
                r#","tlsDetails":{{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"{host}"}}"#
            );
        }
        if actor.console {
            out.push_str(r#","sessionCredentialFromConsole":"true""#);
        }
        out.push('}');
    }

    fn items(
        &mut self,
        budget: usize,
        min: usize,
        mut item: impl FnMut(&mut Self) -> String,
    ) -> String {
        let mut s = String::new();
        let mut n = 0;
        while n < min || s.len() < budget {
            if n > 0 {
                s.push(',');
            }
            s.push_str(&item(self));
            n += 1;
        }
        s
    }

    fn request(&mut self, source: &str, name: &str, family: Family, budget: usize) -> String {
        match family {
            Ec2Describe => {
                let (set, key, prefix) = match name {
                    "DescribeSecurityGroups" => ("groupIdSet", "groupId", "sg"),
                    "DescribeVolumes" => ("volumeSet", "volumeId", "vol"),
                    "DescribeSubnets" => ("subnetSet", "subnetId", "subnet"),
                    "DescribeNetworkInterfaces" => {
                        ("networkInterfaceIdSet", "networkInterfaceId", "eni")
                    }
                    _ => ("instancesSet", "instanceId", "i"),
                };
                let filters = self.items(budget / 3, 1, |g| {
                    format!(
                        r#"{{"name":"tag:{}","valueSet":{{"items":[{{"value":"{}"}}]}}}}"#,
                        ["team", "env", "service", "cost-center"][g.rng.below(4) as usize],
                        g.pick(TEAMS)
                    )
                });
                let ids = self.items(budget.saturating_sub(filters.len() + 60), 0, |g| {
                    format!(r#"{{"{key}":"{prefix}-0{}"}}"#, g.hex(16))
                });
                format!(r#"{{"{set}":{{"items":[{ids}]}},"filterSet":{{"items":[{filters}]}}}}"#)
            }
            Ec2Change => {
                let group = format!("sg-0{}", self.hex(16));
                match name {
                    "AuthorizeSecurityGroupIngress"
                    | "AuthorizeSecurityGroupEgress"
                    | "RevokeSecurityGroupIngress"
                    | "ModifySecurityGroupRules" => {
                        let perms = self.items(budget.saturating_sub(40), 1, |g| {
                            let port = *g.pick(PORTS);
                            let cidr = if g.rng.below(6) == 0 {
                                "0.0.0.0/0".to_string()
                            } else {
                                format!("10.{}.0.0/16", g.rng.below(256))
                            };
                            format!(
                                r#"{{"ipProtocol":"tcp","fromPort":{port},"toPort":{port},"groups":{{}},"ipRanges":{{"items":[{{"cidrIp":"{cidr}","description":"{} access"}}]}},"ipv6Ranges":{{}},"prefixListIds":{{}}}}"#,
                                g.pick(TEAMS)
                            )
                        });
                        format!(r#"{{"groupId":"{group}","ipPermissions":{{"items":[{perms}]}}}}"#)
                    }
                    _ => {
                        let tags = self.items(budget.saturating_sub(120), 0, |g| {
                            format!(
                                r#"{{"key":"{}","value":"{}"}}"#,
                                ["team", "owner", "env", "cost-center", "managed-by"]
                                    [g.rng.below(5) as usize],
                                g.pick(TEAMS)
                            )
                        });
                        format!(
                            r#"{{"vpcId":"vpc-0{}","resourcesSet":{{"items":[{{"resourceId":"{group}"}}]}},"tagSpecificationSet":{{"items":[{{"resourceType":"{}","tags":[{tags}]}}]}}}}"#,
                            self.hex(16),
                            [
                                "security-group",
                                "instance",
                                "route-table",
                                "internet-gateway",
                                "vpc",
                                "network-acl"
                            ][self.rng.below(6) as usize]
                        )
                    }
                }
            }
            S3 => {
                let bucket = format!(
                    "{}-{}-{ACCOUNT}",
                    self.pick(TEAMS),
                    ["assets", "logs", "exports", "backups"][self.rng.below(4) as usize]
                );
                match name {
                    "ListBuckets" => format!(r#"{{"Host":"s3.us-east-1.amazonaws.com"}}"#),
                    "PutBucketPolicy" => {
                        let statements = self.items(budget.saturating_sub(200), 1, |g| {
                            format!(
                                r#"{{"Sid":"{}","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:root"}},"Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::{bucket}","arn:aws:s3:::{bucket}/*"]}}"#,
                                g.upper(8),
                                100_000_000_000 + g.rng.below(899_999_999_999)
                            )
                        });
                        format!(
                            r#"{{"bucketPolicy":{{"Version":"2012-10-17","Statement":[{statements}]}},"bucketName":"{bucket}","Host":"{bucket}.s3.us-east-1.amazonaws.com","policy":""}}"#
                        )
                    }
                    _ => {
                        let depth = 1 + budget / 120;
                        let key = (0..depth.min(12))
                            .map(|_| {
                                format!(
                                    "{}{}",
                                    ["year=2026", "month=11", "part", "batch", "tenant"]
                                        [self.rng.below(5) as usize],
                                    self.rng.below(100)
                                )
                            })
                            .collect::<Vec<_>>()
                            .join("/");
                        if name == "ListObjects" {
                            format!(
                                r#"{{"list-type":"2","bucketName":"{bucket}","encoding-type":"url","max-keys":"1000","prefix":"{key}/","Host":"{bucket}.s3.us-east-1.amazonaws.com"}}"#
                            )
                        } else if name.contains("Bucket") {
                            format!(
                                r#"{{"bucketName":"{bucket}","Host":"{bucket}.s3.us-east-1.amazonaws.com","{}":""}}"#,
                                name.trim_start_matches("Get")
                                    .trim_start_matches("Put")
                                    .trim_start_matches("Delete")
                                    .trim_start_matches("Bucket")
                                    .to_ascii_lowercase()
                            )
                        } else {
                            format!(
                                r#"{{"bucketName":"{bucket}","Host":"{bucket}.s3.us-east-1.amazonaws.com","key":"{key}/{}.parquet"}}"#,
                                self.hex(20)
                            )
                        }
                    }
                }
            }
            Sts => match name {
                "GetCallerIdentity" => "null".to_string(),
                _ => {
                    let tags = self.items(budget.saturating_sub(900), 0, |g| {
                        format!(
                            r#"{{"key":"{}","value":"{}"}}"#,
                            ["team", "project", "email", "cost-center"][g.rng.below(4) as usize],
                            g.pick(TEAMS)
                        )
                    });
                    format!(
                        r#"{{"roleArn":"arn:aws:iam::{ACCOUNT}:role/{}-app-{}","roleSessionName":"{}","durationSeconds":3600,"tags":[{tags}]}}"#,
                        self.pick(TEAMS),
                        self.rng.below(30),
                        self.hex(16)
                    )
                }
            },
            Kms => {
                // Keys of one context are distinct, as KMS requires (a JSON object with a key
                // twice is no CloudTrail record).
                let mut n = 0;
                let context = self.items(budget.saturating_sub(300), 1, |g| {
                    n += 1;
                    format!(
                        r#""aws:{}:arn:{n}":"arn:aws:{}:us-east-1:{ACCOUNT}:{}/{}""#,
                        ["s3", "lambda", "dynamodb", "secretsmanager"][g.rng.below(4) as usize],
                        ["s3", "lambda", "dynamodb", "secretsmanager"][g.rng.below(4) as usize],
                        g.pick(TEAMS),
                        g.hex(12)
                    )
                });
                match name {
                    "DescribeKey" => format!(r#"{{"keyId":"alias/{}"}}"#, self.pick(TEAMS)),
                    "DisableKey" => format!(r#"{{"keyId":"{}"}}"#, self.uuid()),
                    "ScheduleKeyDeletion" => {
                        format!(r#"{{"keyId":"{}","pendingWindowInDays":7}}"#, self.uuid())
                    }
                    "GenerateDataKey" => format!(
                        r#"{{"keyId":"alias/{}","keySpec":"AES_256","encryptionContext":{{{context}}}}}"#,
                        self.pick(TEAMS)
                    ),
                    _ => format!(
                        r#"{{"encryptionAlgorithm":"SYMMETRIC_DEFAULT","encryptionContext":{{{context}}}}}"#
                    ),
                }
            }
            Lambda => match name {
                "ListFunctions20150331" => r#"{"maxItems":50}"#.to_string(),
                _ => format!(
                    r#"{{"functionName":"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{}-{}"}}"#,
                    self.pick(TEAMS),
                    self.hex(8)
                ),
            },
            CloudWatch => match name {
                "GetMetricData" => {
                    let queries = self.items(budget.saturating_sub(100), 1, |g| {
                        format!(
                            r#"{{"id":"m{}","metricStat":{{"metric":{{"namespace":"AWS/{}","metricName":"{}","dimensions":[{{"name":"FunctionName","value":"{}-{}"}}]}},"period":60,"stat":"{}"}},"returnData":true}}"#,
                            g.rng.below(100),
                            ["Lambda", "EC2", "ApplicationELB", "DynamoDB"][g.rng.below(4) as usize],
                            ["Invocations", "Errors", "Duration", "Throttles", "CPUUtilization"][g.rng.below(5) as usize],
                            g.pick(TEAMS),
                            g.hex(8),
                            ["Sum", "Average", "Maximum", "p99"][g.rng.below(4) as usize]
                        )
                    });
                    format!(
                        r#"{{"metricDataQueries":[{queries}],"startTime":"{}","endTime":"{}"}}"#,
                        iso(self.time_ms - 3_600_000),
                        iso(self.time_ms)
                    )
                }
                "DescribeAlarms" | "PutMetricAlarm" => {
                    let names = self.items(budget.saturating_sub(40), 1, |g| {
                        format!(
                            r#""{}-{}-{}""#,
                            g.pick(TEAMS),
                            ["errors", "latency-p99", "throttles", "5xx"][g.rng.below(4) as usize],
                            g.hex(6)
                        )
                    });
                    format!(r#"{{"alarmNames":[{names}],"maxRecords":100}}"#)
                }
                _ => format!(
                    r#"{{"namespace":"AWS/Lambda","dimensions":[{{"name":"FunctionName"}}]}}"#
                ),
            },
            Logs => format!(
                r#"{{"logGroupName":"/aws/lambda/{}-{}","logStreamNamePrefix":"2026/11/20/[$LATEST]{}"{}}}"#,
                self.pick(TEAMS),
                self.hex(8),
                self.hex(32),
                if name == "FilterLogEvents" {
                    r#","filterPattern":"{ $.level = \"ERROR\" }""#
                } else {
                    ""
                }
            ),
            Iam => {
                let principal = if name.contains("User")
                    || name.contains("AccessKey")
                    || name.contains("Login")
                    || name.contains("MFA")
                {
                    format!(r#""userName":"dev{}""#, self.rng.below(40))
                } else {
                    format!(
                        r#""roleName":"{}-app-{}""#,
                        self.pick(TEAMS),
                        self.rng.below(30)
                    )
                };
                match name {
                    "PutUserPolicy"
                    | "PutRolePolicy"
                    | "CreatePolicy"
                    | "CreatePolicyVersion"
                    | "UpdateAssumeRolePolicy" => {
                        // The policy document is a JSON string inside the record, as CloudTrail
                        // writes it.
                        let statements = self.items(budget.saturating_sub(160), 1, |g| {
                            format!(
                                r#"{{\"Effect\":\"Allow\",\"Action\":[\"{}:{}\",\"{}:Get*\"],\"Resource\":\"arn:aws:{}:::{}-{}/*\"}}"#,
                                ["s3", "dynamodb", "sqs", "kms"][g.rng.below(4) as usize],
                                ["PutObject", "GetItem", "SendMessage", "Decrypt"][g.rng.below(4) as usize],
                                ["s3", "dynamodb", "sqs", "kms"][g.rng.below(4) as usize],
                                ["s3", "dynamodb", "sqs", "kms"][g.rng.below(4) as usize],
                                g.pick(TEAMS),
                                g.hex(6)
                            )
                        });
                        format!(
                            r#"{{{principal},"policyName":"{}-inline","policyDocument":"{{\"Version\":\"2012-10-17\",\"Statement\":[{statements}]}}"}}"#,
                            self.pick(TEAMS)
                        )
                    }
                    "AttachRolePolicy" | "DetachRolePolicy" | "AttachUserPolicy" => format!(
                        r#"{{{principal},"policyArn":"arn:aws:iam::aws:policy/{}"}}"#,
                        [
                            "AdministratorAccess",
                            "ReadOnlyAccess",
                            "AmazonS3FullAccess",
                            "AWSLambdaBasicExecutionRole"
                        ][self.rng.below(4) as usize]
                    ),
                    "ListRoles" => r#"{"maxItems":100}"#.to_string(),
                    "CreateUser" | "CreateRole" | "TagRole" => {
                        let tags = self.items(budget.saturating_sub(60), 0, |g| {
                            format!(
                                r#"{{"key":"{}","value":"{}"}}"#,
                                ["team", "owner", "created-by", "ticket"][g.rng.below(4) as usize],
                                g.pick(TEAMS)
                            )
                        });
                        format!(r#"{{{principal},"tags":[{tags}]}}"#)
                    }
                    _ => format!("{{{principal}}}"),
                }
            }
            Named => {
                let _ = source;
                let filters = self.items(budget.saturating_sub(40), 0, |g| {
                    format!(
                        r#"{{"name":"tag:{}","values":["{}","{}"]}}"#,
                        ["team", "env", "service", "cost-center"][g.rng.below(4) as usize],
                        g.pick(TEAMS),
                        g.pick(TEAMS)
                    )
                });
                format!(
                    r#"{{"name":"{}-{}","filters":[{filters}]}}"#,
                    self.pick(TEAMS),
                    self.hex(8)
                )
            }
        }
    }

    fn response(&mut self, name: &str, family: Family) -> String {
        match (family, name) {
            (Sts, "GetCallerIdentity") => format!(
                r#"{{"userId":"AROA{}","account":"{ACCOUNT}","arn":"arn:aws:sts::{ACCOUNT}:assumed-role/app/{}"}}"#,
                self.upper(17),
                self.hex(12)
            ),
            (Sts, _) => {
                let n = 300 + self.rng.below(500) as usize;
                let token = self.upper(n);
                format!(
                    r#"{{"credentials":{{"accessKeyId":"ASIA{}","sessionToken":"{token}","expiration":"{}"}},"assumedRoleUser":{{"assumedRoleId":"AROA{}:{}","arn":"arn:aws:sts::{ACCOUNT}:assumed-role/app/{}"}}}}"#,
                    self.upper(16),
                    iso(self.time_ms + 3_600_000),
                    self.upper(17),
                    self.hex(16),
                    self.hex(16)
                )
            }
            (Kms, "GenerateDataKey" | "DescribeKey" | "ScheduleKeyDeletion") => format!(
                r#"{{"keyId":"arn:aws:kms:us-east-1:{ACCOUNT}:key/{}"}}"#,
                self.uuid()
            ),
            (Iam, "CreateUser") => format!(
                r#"{{"user":{{"path":"/","userName":"dev{}","userId":"AIDA{}","arn":"arn:aws:iam::{ACCOUNT}:user/dev{}","createDate":"Nov 20, 2026, 1:02:03 AM"}}}}"#,
                self.rng.below(40),
                self.upper(17),
                self.rng.below(40)
            ),
            (Iam, "CreateAccessKey") => format!(
                r#"{{"accessKey":{{"accessKeyId":"AKIA{}","status":"Active","userName":"dev{}","createDate":"Nov 20, 2026, 1:02:03 AM"}}}}"#,
                self.upper(16),
                self.rng.below(40)
            ),
            (Iam, "CreateRole") => format!(
                r#"{{"role":{{"path":"/","roleName":"{}-app","roleId":"AROA{}","arn":"arn:aws:iam::{ACCOUNT}:role/app","createDate":"Nov 20, 2026, 1:02:03 AM","assumeRolePolicyDocument":"%7B%22Version%22%3A%222012-10-17%22%7D"}}}}"#,
                self.pick(TEAMS),
                self.upper(17)
            ),
            (Ec2Change, "RunInstances") => {
                let now = self.time_ms;
                format!(
                    r#"{{"requestId":"{}","reservationId":"r-0{}","ownerId":"{ACCOUNT}","groupSet":{{}},"instancesSet":{{"items":[{{"instanceId":"i-0{}","imageId":"ami-0{}","instanceState":{{"code":0,"name":"pending"}},"privateDnsName":"ip-10-0-{}-{}.ec2.internal","amiLaunchIndex":0,"productCodes":{{}},"instanceType":"m7g.large","launchTime":{},"placement":{{"availabilityZone":"us-east-1a","tenancy":"default"}},"monitoring":{{"state":"disabled"}},"subnetId":"subnet-0{}","vpcId":"vpc-0{}","privateIpAddress":"10.0.{}.{}","stateReason":{{"code":"pending","message":"pending"}},"architecture":"arm64","rootDeviceType":"ebs","rootDeviceName":"/dev/xvda","blockDeviceMapping":{{}},"virtualizationType":"hvm","hypervisor":"xen","groupSet":{{"items":[{{"groupId":"sg-0{}","groupName":"default"}}]}}}}]}}}}"#,
                    self.uuid(),
                    self.hex(16),
                    self.hex(16),
                    self.hex(16),
                    self.rng.below(256),
                    self.rng.below(256),
                    now,
                    self.hex(16),
                    self.hex(16),
                    self.rng.below(256),
                    self.rng.below(256),
                    self.hex(16)
                )
            }
            (Ec2Change, "AuthorizeSecurityGroupIngress" | "AuthorizeSecurityGroupEgress") => {
                format!(
                    r#"{{"requestId":"{}","_return":true,"securityGroupRuleSet":{{"items":[{{"groupOwnerId":"{ACCOUNT}","groupId":"sg-0{}","securityGroupRuleId":"sgr-0{}","isEgress":{},"ipProtocol":"tcp","fromPort":443,"toPort":443,"cidrIpv4":"10.0.0.0/16"}}]}}}}"#,
                    self.uuid(),
                    self.hex(16),
                    self.hex(16),
                    name.ends_with("Egress")
                )
            }
            (Ec2Change, _) => format!(r#"{{"requestId":"{}","_return":true}}"#, self.uuid()),
            (S3, "PutObject") => "null".to_string(),
            (Named | Lambda | CloudWatch | Logs, _) if !READS.iter().any(|r| r.1 == name) => {
                format!(r#"{{"requestId":"{}"}}"#, self.uuid())
            }
            _ => "null".to_string(),
        }
    }

    /// additionalEventData (with its leading comma) and resources (likewise).
    fn extra(&mut self, source: &str, name: &str, family: Family) -> (String, String) {
        match family {
            S3 => {
                let bucket = format!("{}-assets-{ACCOUNT}", self.pick(TEAMS));
                let data = format!(
                    r#","additionalEventData":{{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":{},"AuthenticationMethod":"AuthHeader","x-amz-id-2":"{}","bytesTransferredOut":{}}}"#,
                    if name == "PutObject" {
                        self.rng.below(5_000_000)
                    } else {
                        0
                    },
                    self.upper(76),
                    if name == "GetObject" {
                        self.rng.below(5_000_000)
                    } else {
                        0
                    }
                );
                let resources = if name == "ListBuckets" {
                    String::new()
                } else if matches!(
                    name,
                    "GetObject" | "HeadObject" | "PutObject" | "DeleteObject"
                ) {
                    format!(
                        r#","resources":[{{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::{bucket}/{}"}},{{"accountId":"{ACCOUNT}","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::{bucket}"}}]"#,
                        self.hex(24)
                    )
                } else {
                    format!(
                        r#","resources":[{{"accountId":"{ACCOUNT}","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::{bucket}"}}]"#
                    )
                };
                (data, resources)
            }
            Kms => (
                String::new(),
                format!(
                    r#","resources":[{{"accountId":"{ACCOUNT}","type":"AWS::KMS::Key","ARN":"arn:aws:kms:us-east-1:{ACCOUNT}:key/{}"}}]"#,
                    self.uuid()
                ),
            ),
            Sts if name != "GetCallerIdentity" => (
                String::new(),
                format!(
                    r#","resources":[{{"accountId":"{ACCOUNT}","type":"AWS::IAM::Role","ARN":"arn:aws:iam::{ACCOUNT}:role/{}-app-{}"}}]"#,
                    self.pick(TEAMS),
                    self.rng.below(30)
                ),
            ),
            _ if source == "cloudtrail" && !READS.iter().any(|r| r.1 == name) => (
                String::new(),
                format!(
                    r#","resources":[{{"accountId":"{ACCOUNT}","type":"AWS::CloudTrail::Trail","ARN":"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/management-events"}}]"#
                ),
            ),
            _ => (String::new(), String::new()),
        }
    }

    fn console_login(&mut self, out: &mut String) {
        let roll = self.rng.below(100);
        let root = roll >= 95;
        let failed = (80..95).contains(&roll);
        let mfa = if roll < 60 || root && self.rng.below(2) == 0 {
            "Yes"
        } else {
            "No"
        };
        let u = self.rng.below(40);
        let identity = if root {
            format!(
                r#"{{"type":"Root","principalId":"{ACCOUNT}","arn":"arn:aws:iam::{ACCOUNT}:root","accountId":"{ACCOUNT}"}}"#
            )
        } else {
            format!(
                r#"{{"type":"IAMUser","principalId":"AIDA{}","arn":"arn:aws:iam::{ACCOUNT}:user/dev{u}","accountId":"{ACCOUNT}","userName":"dev{u}"}}"#,
                self.upper(17)
            )
        };
        let actor = Actor {
            identity,
            ip: self.public_ip(),
            agent: BROWSER.to_string(),
            console: false,
        };
        self.head(out, "signin", "ConsoleLogin", &actor);
        if failed {
            out.push_str(r#","errorMessage":"Failed authentication""#);
        }
        let _ = write!(
            out,
            r#","requestParameters":null,"responseElements":{{"ConsoleLogin":"{}"}},"additionalEventData":{{"LoginTo":"https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_{}","MobileVersion":"No","MFAIdentifier":"arn:aws:iam::{ACCOUNT}:mfa/dev{u}","MFAUsed":"{mfa}"}},"eventID":"{}","readOnly":false,"eventType":"AwsConsoleSignIn","managementEvent":true,"recipientAccountId":"{ACCOUNT}","eventCategory":"Management","tlsDetails":{{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"us-east-1.signin.aws.amazon.com"}}}}"#,
            if failed { "Failure" } else { "Success" },
            self.hex(16),
            self.uuid()
        );
    }

    /// Events AWS records of itself (key rotation, service-linked sessions).
    fn service_event(&mut self, out: &mut String, target: usize) {
        let entities = self.items(target.saturating_sub(1000), 1, |g| {
            format!(
                r#"{{"entityValue":"arn:aws:kms:us-east-1:{ACCOUNT}:key/{}","status":"RESOLVED"}}"#,
                g.uuid()
            )
        });
        let (source, name) = [
            ("kms", "RotateKey"),
            ("sts", "RenewRole"),
            ("health", "AWSHealthEvent"),
        ][self.rng.below(3) as usize];
        let _ = write!(
            out,
            r#"{{"eventVersion":"1.09","userIdentity":{{"accountId":"{ACCOUNT}","invokedBy":"{source}.amazonaws.com"}},"eventTime":"{}","eventSource":"{source}.amazonaws.com","eventName":"{name}","awsRegion":"us-east-1","sourceIPAddress":"{source}.amazonaws.com","userAgent":"{source}.amazonaws.com","requestParameters":null,"responseElements":null,"additionalEventData":{{"keyId":"arn:aws:kms:us-east-1:{ACCOUNT}:key/{}"}},"serviceEventDetails":{{"eventTypeCode":"AWS_KMS_KEY_ROTATION","eventTypeCategory":"scheduledChange","affectedEntities":[{entities}]}},"eventID":"{}","readOnly":false,"resources":[{{"accountId":"{ACCOUNT}","type":"AWS::KMS::Key","ARN":"arn:aws:kms:us-east-1:{ACCOUNT}:key/{}"}}],"eventType":"AwsServiceEvent","managementEvent":true,"recipientAccountId":"{ACCOUNT}","sharedEventID":"{}","eventCategory":"Management"}}"#,
            iso(self.time_ms),
            self.uuid(),
            self.uuid(),
            self.uuid(),
            self.uuid()
        );
    }
}

fn arn_of(identity: &str) -> &str {
    identity
        .split(r#""arn":""#)
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or("arn:aws:sts::111122223333:assumed-role/unknown")
}

/// `2026-11-20T01:02:03Z` from milliseconds since the epoch.
pub fn iso(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_is_the_twentieth_of_november() {
        assert_eq!(iso(START_MS), "2026-11-20T00:00:00Z");
        assert_eq!(
            iso(START_MS + 86_400_000 * 12 + 3_723_000),
            "2026-12-02T01:02:03Z"
        );
    }

    #[test]
    fn records_are_json_of_one_to_three_kilobytes() {
        let mut g = Generator::new(7);
        let mut s = String::new();
        let mut sizes = Vec::new();
        for _ in 0..20_000 {
            g.record(&mut s);
            let v: serde_json::Value =
                serde_json::from_str(&s).unwrap_or_else(|e| panic!("{e}: {s}"));
            assert!(v["eventID"].is_string(), "{s}");
            sizes.push(s.len());
        }
        sizes.sort();
        assert!(
            sizes[sizes.len() / 100] >= 900,
            "1st percentile {}",
            sizes[sizes.len() / 100]
        );
        assert!(
            sizes[sizes.len() * 99 / 100] <= 3300,
            "99th percentile {}",
            sizes[sizes.len() * 99 / 100]
        );
    }
}
