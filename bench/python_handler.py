#!/usr/bin/env python3
"""The Lambda handler people write in Python instead of iamwatch, to compare against.

A CloudWatch Logs subscription delivers CloudTrail records to it as {"awslogs": {"data": ...}}:
base64 of gzip of the subscription JSON, whose logEvents each carry one record as a JSON
string. The handler decodes the payload, parses every record, and checks it against the CIS AWS
Foundations monitoring patterns (4.1-4.15) and the IAM change pattern of aws-iam-changes,
hand-translated from their CloudWatch Logs filter patterns into dict lookups, set membership and
fnmatch for the wildcards. Standard library only, as such handlers usually are.

    python3 bench/python_handler.py PAYLOADS     (one Lambda event per line)

Reads the file first, then times the handler over every event (the JSON of the Lambda event
included: the Lambda runtime parses it before calling the handler), and prints records,
findings and rates. Publishing the findings is left out, as the other baselines leave it out.
"""

import base64
import gzip
import json
import sys
import time
from fnmatch import fnmatchcase

IAM_POLICY_CHANGES = {
    "DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy",
    "PutRolePolicy", "PutUserPolicy", "CreatePolicy", "DeletePolicy", "CreatePolicyVersion",
    "DeletePolicyVersion", "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy",
    "DetachUserPolicy", "AttachGroupPolicy", "DetachGroupPolicy",
}
TRAIL_CHANGES = {"CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging"}
BUCKET_POLICY_CHANGES = {
    "PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle",
    "PutBucketReplication", "DeleteBucketPolicy", "DeleteBucketCors", "DeleteBucketLifecycle",
    "DeleteBucketReplication",
}
CONFIG_CHANGES = {
    "StopConfigurationRecorder", "DeleteDeliveryChannel", "PutDeliveryChannel",
    "PutConfigurationRecorder",
}
SECURITY_GROUP_CHANGES = {
    "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress",
    "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress", "CreateSecurityGroup",
    "DeleteSecurityGroup", "ModifySecurityGroupRules",
}
NACL_CHANGES = {
    "CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl", "DeleteNetworkAclEntry",
    "ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation",
}
GATEWAY_CHANGES = {
    "CreateCustomerGateway", "DeleteCustomerGateway", "AttachInternetGateway",
    "CreateInternetGateway", "DeleteInternetGateway", "DetachInternetGateway",
}
ROUTE_CHANGES = {
    "CreateRouteTable", "ReplaceRoute", "ReplaceRouteTableAssociation", "DeleteRouteTable",
    "DeleteRoute", "DisassociateRouteTable",
}
VPC_CHANGES = {
    "CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "AcceptVpcPeeringConnection",
    "CreateVpcPeeringConnection", "DeleteVpcPeeringConnection", "RejectVpcPeeringConnection",
    "AttachClassicLinkVpc", "DetachClassicLinkVpc", "DisableVpcClassicLink",
    "EnableVpcClassicLink",
}
ORGANIZATIONS_CHANGES = {
    "AcceptHandshake", "AttachPolicy", "CreateAccount", "CreateOrganizationalUnit",
    "CreatePolicy", "DeclineHandshake", "DeleteOrganization", "DeleteOrganizationalUnit",
    "DeletePolicy", "DetachPolicy", "DisablePolicyType", "EnablePolicyType",
    "InviteAccountToOrganization", "LeaveOrganization", "MoveAccount",
    "RemoveAccountFromOrganization", "UpdatePolicy", "UpdateOrganizationalUnit",
}
IAM_CHANGE_NAMES = (
    "Add*", "Attach*", "Change*", "Create*", "Deactivate*", "Delete*", "Detach*", "Enable*",
    "Put*", "Remove*", "Set*", "Update*", "Upload*",
)


def unauthorized_api_call(r):  # CIS 4.1
    code = r.get("errorCode")
    if not isinstance(code, str):
        return False
    if fnmatchcase(code, "*UnauthorizedOperation"):
        return True
    # && binds tighter than || in the CIS pattern: the exclusions apply to AccessDenied* only.
    return (
        fnmatchcase(code, "AccessDenied*")
        and r.get("sourceIPAddress") != "delivery.logs.amazonaws.com"
        and r.get("eventName") != "HeadBucket"
    )


def console_login_without_mfa(r):  # CIS 4.2
    return (
        r.get("eventName") == "ConsoleLogin"
        and (r.get("additionalEventData") or {}).get("MFAUsed") != "Yes"
    )


def root_usage(r):  # CIS 4.3
    who = r.get("userIdentity") or {}
    return (
        who.get("type") == "Root"
        and "invokedBy" not in who
        and r.get("eventType") != "AwsServiceEvent"
    )


def iam_policy_change(r):  # CIS 4.4
    return r.get("eventName") in IAM_POLICY_CHANGES


def cloudtrail_change(r):  # CIS 4.5
    return r.get("eventName") in TRAIL_CHANGES


def console_login_failure(r):  # CIS 4.6
    return r.get("eventName") == "ConsoleLogin" and r.get("errorMessage") == "Failed authentication"


def kms_key_disabled(r):  # CIS 4.7
    return r.get("eventSource") == "kms.amazonaws.com" and r.get("eventName") in (
        "DisableKey",
        "ScheduleKeyDeletion",
    )


def bucket_policy_change(r):  # CIS 4.8
    return r.get("eventSource") == "s3.amazonaws.com" and r.get("eventName") in BUCKET_POLICY_CHANGES


def config_change(r):  # CIS 4.9
    return r.get("eventSource") == "config.amazonaws.com" and r.get("eventName") in CONFIG_CHANGES


def security_group_change(r):  # CIS 4.10
    return r.get("eventName") in SECURITY_GROUP_CHANGES


def nacl_change(r):  # CIS 4.11
    return r.get("eventName") in NACL_CHANGES


def gateway_change(r):  # CIS 4.12
    return r.get("eventName") in GATEWAY_CHANGES


def route_table_change(r):  # CIS 4.13
    name = r.get("eventName")
    return (r.get("eventSource") == "ec2.amazonaws.com" and name == "CreateRoute") or name in ROUTE_CHANGES


def vpc_change(r):  # CIS 4.14
    return r.get("eventName") in VPC_CHANGES


def organizations_change(r):  # CIS 4.15
    return (
        r.get("eventSource") == "organizations.amazonaws.com"
        and r.get("eventName") in ORGANIZATIONS_CHANGES
    )


def iam_change(r):  # aws-iam-changes/iam-changes
    if r.get("eventSource") != "iam.amazonaws.com" or "errorCode" in r:
        return False
    name = r.get("eventName") or ""
    return any(fnmatchcase(name, p) for p in IAM_CHANGE_NAMES)


RULES = [
    ("cis-4.1", "medium", unauthorized_api_call),
    ("cis-4.2", "high", console_login_without_mfa),
    ("cis-4.3", "critical", root_usage),
    ("cis-4.4", "high", iam_policy_change),
    ("cis-4.5", "critical", cloudtrail_change),
    ("cis-4.6", "medium", console_login_failure),
    ("cis-4.7", "high", kms_key_disabled),
    ("cis-4.8", "medium", bucket_policy_change),
    ("cis-4.9", "high", config_change),
    ("cis-4.10", "medium", security_group_change),
    ("cis-4.11", "medium", nacl_change),
    ("cis-4.12", "medium", gateway_change),
    ("cis-4.13", "medium", route_table_change),
    ("cis-4.14", "medium", vpc_change),
    ("cis-4.15", "high", organizations_change),
    ("iam-changes", "medium", iam_change),
]


def handler(event, context=None):
    payload = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    if payload.get("messageType") != "DATA_MESSAGE":
        return {"records": 0, "bytes": 0, "findings": []}
    findings = []
    size = 0
    for log_event in payload["logEvents"]:
        message = log_event["message"]
        size += len(message)
        record = json.loads(message)
        for rule_id, severity, matches in RULES:
            if matches(record):
                findings.append(
                    {
                        "rule": rule_id,
                        "severity": severity,
                        "eventName": record.get("eventName"),
                        "eventID": record.get("eventID"),
                        "logEventId": log_event["id"],
                    }
                )
    return {"records": len(payload["logEvents"]), "bytes": size, "findings": findings}


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: python_handler.py PAYLOADS")
    with open(sys.argv[1], "rb") as f:
        lines = [line for line in f if line.strip()]
    records = size = findings = 0
    started = time.perf_counter()
    for line in lines:
        result = handler(json.loads(line))
        records += result["records"]
        size += result["bytes"]
        findings += len(result["findings"])
    secs = time.perf_counter() - started
    print(
        f"python: {records} records in {len(lines)} payloads, {findings} findings, "
        f"{size / 1e6:.1f} MB of record JSON in {secs:.3f} s: "
        f"{records / secs:.0f} records/s, {size / 1e6 / secs:.1f} MB/s"
    )


if __name__ == "__main__":
    main()
