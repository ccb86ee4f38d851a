"""One generated day of an organization's CloudTrail, for measuring alert noise.

Three accounts (prod, staging, tools). What a platform team's day holds:
- deploy pipelines: GitHub Actions assumes `deploy-prod` / `deploy-staging` through OIDC and
  runs Terraform: IAM roles and policies, security groups, bucket policies, route tables;
- CloudFormation StackSets creating roles through `cloudformation.amazonaws.com`;
- 25 people signing in through IAM Identity Center and working in the console (reads, and
  the AccessDenied a ReadOnly permission set meets all day);
- a security scanner's cross-account `SecurityAudit` role, denied on what it may not read;
- AWS services (Auto Scaling, Config, Elastic Load Balancing) acting through their own roles;
- and a handful of events that must page someone whatever the exceptions: a root sign-in,
  an access key made by hand for another user, a trail stopped, a policy attached by a person.

Deterministic (seeded): `python3 bench/org_day.py OUT.jsonl [SEED]` writes JSON lines and prints
how many records of each kind it wrote.
"""

import json
import random
import sys
import uuid

PROD, STAGING, TOOLS = "111122223333", "444455556666", "777788889999"
DAY = "2026-11-18"
TERRAFORM = ("APN/1.0 HashiCorp/1.0 Terraform/1.9.5 (+https://www.terraform.io) "
             "terraform-provider-aws/5.70.0 (+https://registry.terraform.io/providers/hashicorp/aws) "
             "aws-sdk-go-v2/1.32.2 os/linux lang/go#1.23.2 md/GOOS#linux md/GOARCH#amd64")
CONSOLE = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"


def at(rng, hour_from=0, hour_to=24):
    h = rng.randrange(hour_from, hour_to)
    return f"{DAY}T{h:02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}Z"


def record(rng, account, identity, source, name, ip, agent, request=None, error=None, read_only=False, time=None):
    r = {
        "eventVersion": "1.10",
        "userIdentity": identity,
        "eventTime": time or at(rng),
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": ip,
        "userAgent": agent,
        "requestParameters": request,
        "responseElements": None,
        "requestID": str(uuid.UUID(int=rng.getrandbits(128))),
        "eventID": str(uuid.UUID(int=rng.getrandbits(128))),
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }
    if error:
        r["errorCode"] = error
        r["errorMessage"] = f"User is not authorized to perform: {source.split('.')[0]}:{name}"
    return r


def role_session(account, role, session, issuer_path="", web=None, source_identity=None):
    ctx = {
        "sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLE" + role.upper()[:8],
                          "arn": f"arn:aws:iam::{account}:role/{issuer_path}{role}",
                          "accountId": account, "userName": role},
        "attributes": {"creationDate": f"{DAY}T00:00:00Z", "mfaAuthenticated": "false"},
    }
    if web:
        ctx["webIdFederationData"] = {"federatedProvider": web, "attributes": {}}
    if source_identity:
        ctx["sourceIdentity"] = source_identity
    return {"type": "AssumedRole", "principalId": f"AROAEXAMPLE{role.upper()[:8]}:{session}",
            "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}", "accountId": account,
            "accessKeyId": "ASIAEXAMPLE", "sessionContext": ctx}


def generate(seed=7):
    rng = random.Random(seed)
    out = []
    kinds = {}

    def add(kind, r):
        out.append(r)
        kinds[kind] = kinds.get(kind, 0) + 1

    github = "arn:aws:iam::{}:oidc-provider/token.actions.githubusercontent.com"
    # Deploy pipelines: 30 Terraform applies a day per environment, each a few changes.
    changes = [
        ("iam.amazonaws.com", "CreateRole", lambda n: {"roleName": f"svc-{n}"}),
        ("iam.amazonaws.com", "AttachRolePolicy", lambda n: {"roleName": f"svc-{n}", "policyArn": f"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}),
        ("iam.amazonaws.com", "PutRolePolicy", lambda n: {"roleName": f"svc-{n}", "policyName": "inline"}),
        ("iam.amazonaws.com", "CreatePolicyVersion", lambda n: {"policyArn": f"arn:aws:iam::1:policy/app-{n}", "setAsDefault": True}),
        ("iam.amazonaws.com", "DeleteRolePolicy", lambda n: {"roleName": f"svc-{n}", "policyName": "old"}),
        ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", lambda n: {"groupId": f"sg-0{n:07x}"}),
        ("ec2.amazonaws.com", "RevokeSecurityGroupIngress", lambda n: {"groupId": f"sg-0{n:07x}"}),
        ("ec2.amazonaws.com", "CreateRoute", lambda n: {"routeTableId": f"rtb-0{n:07x}"}),
        ("s3.amazonaws.com", "PutBucketPolicy", lambda n: {"bucketName": f"app-{n}-assets"}),
        ("kms.amazonaws.com", "CreateKey", lambda n: {}),
    ]
    for account, role in ((PROD, "deploy-prod"), (STAGING, "deploy-staging")):
        for run in range(30):
            session = f"GitHubActions-{rng.randrange(10**9, 10**10)}"
            ident = role_session(account, role, session, web=github.format(account))
            hour = rng.randrange(7, 20)
            for _ in range(rng.randrange(4, 12)):
                src, name, req = rng.choice(changes)
                t = f"{DAY}T{hour:02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}Z"
                add("deploy pipeline (Terraform)", record(rng, account, ident, src, name, "192.0.2.%d" % rng.randrange(1, 250), TERRAFORM, req(rng.randrange(999)), time=t))
    # CloudFormation StackSets: roles and policies through the service.
    for _ in range(40):
        ident = role_session(PROD, "stacksets-exec", "AWSCloudFormation")
        ident["invokedBy"] = "cloudformation.amazonaws.com"
        name = rng.choice(["CreateRole", "AttachRolePolicy", "PutRolePolicy", "DeleteRole"])
        add("CloudFormation", record(rng, rng.choice([PROD, STAGING]), ident, "iam.amazonaws.com", name, "cloudformation.amazonaws.com", "cloudformation.amazonaws.com", {"roleName": "stack-role"}))
    # People through IAM Identity Center: sign-ins, reads, and the ReadOnly set's denials.
    people = [f"user{i:02d}@example.com" for i in range(25)]
    for person in people:
        set_name = rng.choice(["ReadOnly", "ReadOnly", "PowerUser", "Admin"])
        role = f"AWSReservedSSO_{set_name}_{rng.getrandbits(64):016x}"
        account = rng.choice([PROD, STAGING, TOOLS])
        ident = role_session(account, role, person, issuer_path="aws-reserved/sso.amazonaws.com/")
        signin = record(rng, account, ident, "signin.amazonaws.com", "ConsoleLogin", "198.51.100.%d" % rng.randrange(1, 250), CONSOLE, time=at(rng, 7, 10))
        signin["eventType"] = "AwsConsoleSignIn"
        signin["responseElements"] = {"ConsoleLogin": "Success"}
        signin["additionalEventData"] = {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": "No"}
        add("Identity Center sign-in", signin)
        for _ in range(rng.randrange(40, 120)):
            src, name = rng.choice([("ec2.amazonaws.com", "DescribeInstances"), ("s3.amazonaws.com", "ListBuckets"),
                                    ("iam.amazonaws.com", "ListRoles"), ("cloudtrail.amazonaws.com", "LookupEvents"),
                                    ("logs.amazonaws.com", "FilterLogEvents"), ("kms.amazonaws.com", "ListKeys")])
            add("Identity Center console reads", record(rng, account, ident, src, name, "198.51.100.7", CONSOLE, read_only=True, time=at(rng, 8, 19)))
        if set_name == "ReadOnly":
            for _ in range(rng.randrange(1, 4)):
                src, name = rng.choice([("secretsmanager.amazonaws.com", "GetSecretValue"), ("ssm.amazonaws.com", "GetParameters"),
                                        ("ce.amazonaws.com", "GetCostAndUsage"), ("iam.amazonaws.com", "GenerateCredentialReport")])
                add("Identity Center AccessDenied (ReadOnly)", record(rng, account, ident, src, name, "198.51.100.7", CONSOLE, error="AccessDenied", read_only=True))
    # A security scanner from the tools account, denied where it may not read.
    for account in (PROD, STAGING):
        ident = role_session(TOOLS, "SecurityAuditScanner", "scan-%d" % rng.randrange(10**6))
        for _ in range(300):
            src, name = rng.choice([("ec2.amazonaws.com", "DescribeSecurityGroups"), ("iam.amazonaws.com", "GetAccountAuthorizationDetails"),
                                    ("s3.amazonaws.com", "GetBucketPolicy"), ("kms.amazonaws.com", "GetKeyPolicy")])
            add("security scanner reads", record(rng, account, ident, src, name, "192.0.2.200", "aws-sdk-go/1.55.5", read_only=True))
        for _ in range(25):
            src, name = rng.choice([("secretsmanager.amazonaws.com", "GetResourcePolicy"), ("lambda.amazonaws.com", "GetPolicy20150331v2"),
                                    ("glacier.amazonaws.com", "GetVaultAccessPolicy")])
            add("security scanner AccessDenied", record(rng, account, ident, src, name, "192.0.2.200", "aws-sdk-go/1.55.5", error="AccessDenied", read_only=True))
    # AWS services acting through their service-linked roles.
    for _ in range(200):
        svc, role, name = rng.choice([
            ("autoscaling.amazonaws.com", "AWSServiceRoleForAutoScaling", "RunInstances"),
            ("elasticloadbalancing.amazonaws.com", "AWSServiceRoleForElasticLoadBalancing", "CreateNetworkInterface"),
            ("config.amazonaws.com", "AWSServiceRoleForConfig", "DescribeSecurityGroups"),
        ])
        ident = role_session(PROD, role, svc.split(".")[0], issuer_path="aws-service-role/" + svc + "/")
        ident["invokedBy"] = svc
        add("AWS services", record(rng, PROD, ident, "ec2.amazonaws.com", name, svc, svc, read_only=name.startswith("Describe")))
    # What must still page someone.
    root = {"type": "Root", "principalId": PROD, "arn": f"arn:aws:iam::{PROD}:root", "accountId": PROD}
    r = record(rng, PROD, root, "signin.amazonaws.com", "ConsoleLogin", "203.0.113.66", CONSOLE, time=f"{DAY}T03:12:09Z")
    r["eventType"] = "AwsConsoleSignIn"
    r["responseElements"] = {"ConsoleLogin": "Success"}
    r["additionalEventData"] = {"MFAUsed": "No"}
    add("must alert", r)
    admin = role_session(PROD, f"AWSReservedSSO_Admin_{rng.getrandbits(64):016x}", "user03@example.com", issuer_path="aws-reserved/sso.amazonaws.com/")
    add("must alert", record(rng, PROD, admin, "iam.amazonaws.com", "CreateAccessKey", "203.0.113.66", CONSOLE, {"userName": "legacy-ci"}, time=f"{DAY}T03:20:41Z"))
    add("must alert", record(rng, PROD, admin, "iam.amazonaws.com", "AttachUserPolicy", "203.0.113.66", CONSOLE, {"userName": "legacy-ci", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}, time=f"{DAY}T03:21:02Z"))
    add("must alert", record(rng, PROD, admin, "cloudtrail.amazonaws.com", "StopLogging", "203.0.113.66", CONSOLE, {"name": "org-trail"}, time=f"{DAY}T03:25:13Z"))
    # The pipeline's role used by hand, outside Terraform: an exception for the pipeline must
    # not cover it.
    by_hand = role_session(PROD, "deploy-prod", "laptop", source_identity="user07@example.com")
    add("must alert", record(rng, PROD, by_hand, "iam.amazonaws.com", "PutRolePolicy", "203.0.113.90", "aws-cli/2.17.0 md/awscrt#0.20 ua/2.0 os/macos", {"roleName": "deploy-prod", "policyName": "x"}, time=f"{DAY}T22:40:00Z"))
    out.sort(key=lambda r: r["eventTime"])
    return out, kinds


if __name__ == "__main__":
    records, kinds = generate(int(sys.argv[2]) if len(sys.argv) > 2 else 7)
    with open(sys.argv[1], "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]):
        print(f"{n:6d}  {k}")
    print(f"{len(records):6d}  records in all")
