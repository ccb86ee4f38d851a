#!/usr/bin/env python3
"""Checks of our own on infra/, for what cfn-lint, `sam validate` and checkov do not look at.

AWS (infra/aws/template.yaml, read with cfn-lint's decoder):
  AWS-RUNTIME     every function runs on provided.al2023 with handler bootstrap
  AWS-ARCH        every function's architecture is the Architecture parameter, default arm64
  AWS-BUILD       rust-cargolambda builds: CodeUri is the Cargo workspace (or a member of it)
                  and Binary names one of its bin targets
  AWS-LIMITS      memory 128-10240 MB, timeout 1-900 s (cfn-lint accepts 20000 MB and 1000 s);
                  an SQS event source's queue hides messages at least as long as the timeout
  AWS-DLQ         every function has an SQS on-failure destination (or dead-letter queue) its
                  role may send to; every SQS event source reports item failures and its queue
                  has a redrive policy
  AWS-ENCRYPTION  every topic, queue, table, bucket, log group and trail is encrypted, and
                  every KMS key rotates
  AWS-IAM         every policy statement names its actions and resources: no wildcard action,
                  no `Resource: "*"`, no ARN whose resource part is a wildcard, no parameter in
                  a resource that could be "*", no Allow to Principal "*", no NotAction /
                  NotResource, no managed or SAM policies, an explicit role on every function.
                  Narrow exceptions: a KMS key policy's `Resource: "*"` (it means "this key");
                  a Deny statement may use `service:*` actions (a wildcard there only narrows)
  AWS-ENV         the functions' IAMWATCH_* variables are settings the handlers read
                  (shared/src/config.rs, IAMWATCH_ALLOWLIST_<NAME> of the built-in packs), and
                  the topic and state table are passed
  AWS-STATE       the state table has the key schema, TTL attribute, capacity mode and PITR the
                  code needs (shared/src/window/dynamodb.rs), and every role on it is granted
                  exactly the DynamoDB calls the code makes

IBM (infra/ibm/*.tf, read with python-hcl2):
  IBM-PROVIDER    the IBM-Cloud/ibm provider is required
  IBM-VARIABLES   every declared variable is used and every used variable declared
  IBM-REFERENCES  every resource and data source referenced is declared
  IBM-APP-ENV     the app's variables are settings the IBM handler reads (shared/src/config.rs,
                  shared/src/codeengine.rs, the AWS SDK's), the required ones are set, PORT is
                  left to Code Engine, none is set twice
  IBM-APP-SECRETS credentials only by reference to a Code Engine secret in this configuration
                  that holds the referenced key; no literal takes a sensitive value
  IBM-ROUTE       the Activity Tracker route includes the global location
  IBM-BUCKET      the bucket is encrypted with a Key Protect/HPCS key and lies in the project's
                  region (COS subscriptions need that)
  IBM-ALLOWLIST   the app's IAMWATCH_ALLOWLIST_IAM and the account's allowed IP addresses come
                  from the same expression

`--self-test` breaks copies of the files in a temporary directory, one way per check, and
fails unless each broken copy makes its check fail (and the unbroken copy passes).
"""

import argparse
import glob
import json
import os
import re
import shutil
import sys
import tempfile
import tomllib

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


class Report:
    def __init__(self):
        self.failures = []
        self.notes = []

    def fail(self, check, where, message):
        self.failures.append((check, where, message))

    def note(self, message):
        self.notes.append(message)

    def failed(self, check):
        return any(c == check for c, _, _ in self.failures)


# ============================================================== the code's settings


def rust_literal_list(path, const):
    """The string literals of `const NAME: &[&str] = &[...];` in a Rust file, or None."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"const\s+" + const + r"\s*:\s*&\[&str\]\s*=\s*&\[(.*?)\];", text, re.S)
    if not m:
        return None
    return re.findall(r'"([^"]+)"', m.group(1))


# The IBM handler's own settings, as the brief for the Code Engine app lists them: used only
# while shared/src/codeengine.rs does not exist yet.
CODEENGINE_FALLBACK = [
    "IAMWATCH_WEBHOOK_SECRET",
    "IAMWATCH_MAX_BODY_BYTES",
    "IAMWATCH_COS_ENDPOINT",
    "IAMWATCH_COS_ACCESS_KEY_ID",
    "IAMWATCH_COS_SECRET_ACCESS_KEY",
]
AWS_SDK_VARIABLES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION"}
CREDENTIAL_VARIABLES = {
    "IAMWATCH_WEBHOOK_SECRET",
    "IAMWATCH_COS_ACCESS_KEY_ID",
    "IAMWATCH_COS_SECRET_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
}


class Settings:
    """What the handlers read, taken from the code."""

    def __init__(self, root, report):
        config = os.path.join(root, "shared", "src", "config.rs")
        known = rust_literal_list(config, "KNOWN")
        if not known:
            raise SystemExit(f"own_checks: no `const KNOWN: &[&str]` list in {config}: the settings cross-check cannot run")
        self.engine = set(known)
        codeengine = os.path.join(root, "shared", "src", "codeengine.rs")
        if os.path.exists(codeengine):
            own = rust_literal_list(codeengine, "SETTINGS")
            if not own:
                with open(codeengine, encoding="utf-8") as f:
                    text = f.read().split("#[cfg(test)]")[0]
                own = sorted(set(re.findall(r'"(IAMWATCH_[A-Z0-9_]+)"', text)))
            if not own:
                raise SystemExit(f"own_checks: no IAMWATCH_* setting found in {codeengine}")
            self.codeengine = set(own)
        else:
            self.codeengine = set(CODEENGINE_FALLBACK)
            report.note("shared/src/codeengine.rs does not exist: the IBM app's own settings are taken from a fallback list")
        self.allowlists = set()
        for pack in glob.glob(os.path.join(root, "shared", "packs", "*.json")):
            with open(pack, encoding="utf-8") as f:
                text = f.read()
            self.allowlists.update(n.lower() for n in re.findall(r"@allowlist:([A-Za-z0-9_]+)", text))
            try:
                data = json.loads(text)
            except ValueError:
                continue
            if isinstance(data, dict) and isinstance(data.get("allowlists"), dict):
                self.allowlists.update(k.lower() for k in data["allowlists"])

    def engine_setting(self, name):
        if name in self.engine:
            return True
        if name.startswith("IAMWATCH_ALLOWLIST_"):
            return name[len("IAMWATCH_ALLOWLIST_"):].lower() in self.allowlists
        return False


# ============================================================== AWS

CFN_FUNCTIONS = ("AWS::Serverless::Function", "AWS::Lambda::Function")
NO_VALUE = {"Ref": "AWS::NoValue"}


def plain(x):
    if isinstance(x, dict):
        return {str(k): plain(v) for k, v in x.items()}
    if isinstance(x, list):
        return [plain(v) for v in x]
    if isinstance(x, bool) or x is None:
        return x
    if isinstance(x, (int, float)):
        return x
    return str(x)


def alternatives(value):
    """Every value `value` can take through Fn::If (AWS::NoValue dropped)."""
    if isinstance(value, dict) and len(value) == 1 and "Fn::If" in value:
        _, a, b = value["Fn::If"]
        return alternatives(a) + alternatives(b)
    if value == NO_VALUE:
        return []
    return [value]


def items(value):
    """The elements of a list-valued property through Fn::If, or of a single value."""
    out = []
    for alt in alternatives(value):
        if isinstance(alt, list):
            for v in alt:
                out.extend(alternatives(v))
        else:
            out.append(alt)
    return out


def truthy(value):
    return value is True or str(value).lower() == "true"


def getatt_target(value):
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        if isinstance(target, str):
            target = target.split(".", 1)
        return target[0], target[1] if len(target) > 1 else None
    return None, None


class Template:
    def __init__(self, path):
        from cfnlint.decode import decode

        tpl, matches = decode(path)
        if tpl is None or matches:
            raise SystemExit(f"own_checks: {path} does not parse: {matches}")
        self.path = path
        self.t = plain(tpl)
        self.resources = self.t.get("Resources", {})
        self.parameters = self.t.get("Parameters", {})
        self.globals = self.t.get("Globals", {}).get("Function", {})

    def of_type(self, *types):
        return [(n, r) for n, r in self.resources.items() if r.get("Type") in types]

    def function_props(self, resource):
        props = dict(self.globals) if resource["Type"] == "AWS::Serverless::Function" else {}
        own = resource.get("Properties", {})
        for k, v in own.items():
            if k == "Environment" and "Environment" in props:
                merged = dict(props["Environment"].get("Variables", {}))
                merged.update(v.get("Variables", {}))
                props[k] = {"Variables": merged}
            else:
                props[k] = v
        return props


def check_functions(t, report, root):
    functions = t.of_type(*CFN_FUNCTIONS)
    if not functions:
        report.fail("AWS-RUNTIME", t.path, "no function in the template")
        return
    arch = t.parameters.get("Architecture")
    if not arch:
        report.fail("AWS-ARCH", "Parameters", "no Architecture parameter")
    else:
        if arch.get("Default") != "arm64":
            report.fail("AWS-ARCH", "Parameters/Architecture", f"default is {arch.get('Default')!r}, expected arm64")
        if not {"arm64", "x86_64"} <= set(arch.get("AllowedValues", [])):
            report.fail("AWS-ARCH", "Parameters/Architecture", "AllowedValues must offer arm64 and x86_64")
    bins = workspace_bins(root)
    for name, res in functions:
        where = f"Resources/{name}"
        p = t.function_props(res)
        if p.get("Runtime") != "provided.al2023":
            report.fail("AWS-RUNTIME", where, f"Runtime is {p.get('Runtime')!r}, expected provided.al2023")
        if p.get("Handler") != "bootstrap":
            report.fail("AWS-RUNTIME", where, f"Handler is {p.get('Handler')!r}, expected bootstrap (custom runtime)")
        if p.get("Architectures") != [{"Ref": "Architecture"}]:
            report.fail("AWS-ARCH", where, f"Architectures is {p.get('Architectures')!r}, expected [!Ref Architecture]")
        memory, timeout = p.get("MemorySize", 128), p.get("Timeout", 3)
        if not (isinstance(memory, int) and 128 <= memory <= 10240):
            report.fail("AWS-LIMITS", where, f"MemorySize {memory!r} is outside 128-10240 MB")
        if not (isinstance(timeout, int) and 1 <= timeout <= 900):
            report.fail("AWS-LIMITS", where, f"Timeout {timeout!r} is outside 1-900 s")
        if res["Type"] == "AWS::Serverless::Function":
            check_build(t, name, res, p, bins, report, root)


def workspace_bins(root):
    """{member directory: set of bin names} of the Cargo workspace at root."""
    with open(os.path.join(root, "Cargo.toml"), "rb") as f:
        manifest = tomllib.load(f)
    members = {}
    for pattern in manifest.get("workspace", {}).get("members", []):
        for d in glob.glob(os.path.join(root, pattern)):
            cargo = os.path.join(d, "Cargo.toml")
            if not os.path.exists(cargo):
                continue
            with open(cargo, "rb") as f:
                m = tomllib.load(f)
            names = {b["name"] for b in m.get("bin", []) if "name" in b}
            if not names and os.path.exists(os.path.join(d, "src", "main.rs")):
                names = {m.get("package", {}).get("name")}
            members[os.path.normpath(d)] = names
    return members


def check_build(t, name, res, props, bins, report, root):
    where = f"Resources/{name}"
    meta = res.get("Metadata", {})
    if meta.get("BuildMethod") != "rust-cargolambda":
        report.fail("AWS-BUILD", where, f"Metadata.BuildMethod is {meta.get('BuildMethod')!r}, expected rust-cargolambda")
        return
    binary = meta.get("BuildProperties", {}).get("Binary")
    code = props.get("CodeUri")
    if not isinstance(code, str):
        report.fail("AWS-BUILD", where, f"CodeUri {code!r} is not a local path")
        return
    code_dir = os.path.normpath(os.path.join(os.path.dirname(t.path), code))
    if code_dir == os.path.normpath(root):
        available = set().union(*bins.values()) if bins else set()
    elif code_dir in bins:
        available = bins[code_dir]
    else:
        report.fail("AWS-BUILD", where, f"CodeUri {code!r} is neither the Cargo workspace nor one of its members")
        return
    if binary not in available:
        report.fail("AWS-BUILD", where, f"BuildProperties.Binary {binary!r} is not a bin target there (bins: {', '.join(sorted(available))})")


def role_statements(t, role_name):
    role = t.resources.get(role_name, {})
    out = []
    for pol in role.get("Properties", {}).get("Policies", []):
        for st in items(pol.get("PolicyDocument", {}).get("Statement", [])):
            out.append(st)
    for ref in role.get("Properties", {}).get("ManagedPolicyArns", []):
        if isinstance(ref, dict) and "Ref" in ref and ref["Ref"] in t.resources:
            out.extend(items(t.resources[ref["Ref"]].get("Properties", {}).get("PolicyDocument", {}).get("Statement", [])))
    return out


def as_list(v):
    return v if isinstance(v, list) else [v]


def grants(statements, action, resource):
    for st in statements:
        if st.get("Effect") != "Allow":
            continue
        if action in [a for x in as_list(st.get("Action", [])) for a in alternatives(x)] and resource in [
            r for x in as_list(st.get("Resource", [])) for r in alternatives(x)
        ]:
            return True
    return False


def check_dead_letters(t, report):
    for name, res in t.of_type(*CFN_FUNCTIONS):
        where = f"Resources/{name}"
        p = t.function_props(res)
        queue = None
        dest = p.get("EventInvokeConfig", {}).get("DestinationConfig", {}).get("OnFailure", {})
        if dest:
            if dest.get("Type") != "SQS":
                report.fail("AWS-DLQ", where, f"the on-failure destination is {dest.get('Type')!r}, expected SQS")
                continue
            queue, _ = getatt_target(dest.get("Destination"))
        elif p.get("DeadLetterQueue"):
            dlq = p["DeadLetterQueue"]
            if dlq.get("Type") == "SQS":
                queue, _ = getatt_target(dlq.get("TargetArn"))
        else:
            for cfg_name, cfg in t.of_type("AWS::Lambda::EventInvokeConfig"):
                fn = cfg.get("Properties", {}).get("FunctionName")
                if fn == {"Ref": name}:
                    queue, _ = getatt_target(cfg["Properties"].get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"))
        if not queue:
            report.fail("AWS-DLQ", where, "no SQS on-failure destination or dead-letter queue: a failed invocation would be lost after its retries")
            continue
        if t.resources.get(queue, {}).get("Type") != "AWS::SQS::Queue":
            report.fail("AWS-DLQ", where, f"its on-failure destination {queue!r} is not an SQS queue of this template")
            continue
        role, _ = getatt_target(p.get("Role"))
        if role and not grants(role_statements(t, role), "sqs:SendMessage", {"Fn::GetAtt": [queue, "Arn"]}):
            report.fail("AWS-DLQ", where, f"its role {role} may not sqs:SendMessage to {queue}")
    for name, res in t.of_type("AWS::Lambda::EventSourceMapping"):
        props = res.get("Properties", {})
        queue, _ = getatt_target(props.get("EventSourceArn"))
        if t.resources.get(queue, {}).get("Type") != "AWS::SQS::Queue":
            continue
        where = f"Resources/{name}"
        if "ReportBatchItemFailures" not in props.get("FunctionResponseTypes", []):
            report.fail("AWS-DLQ", where, "an SQS event source without ReportBatchItemFailures retries the whole batch")
        qprops = t.resources[queue].get("Properties", {})
        if not qprops.get("RedrivePolicy"):
            report.fail("AWS-DLQ", f"Resources/{queue}", "the event source queue has no RedrivePolicy: a poisoned message would cycle until it expires")
        fn = props.get("FunctionName")
        fn_name = fn.get("Ref") if isinstance(fn, dict) else None
        if fn_name in t.resources:
            timeout = t.function_props(t.resources[fn_name]).get("Timeout", 3)
            if qprops.get("VisibilityTimeout", 30) < timeout:
                report.fail("AWS-LIMITS", f"Resources/{queue}", f"VisibilityTimeout {qprops.get('VisibilityTimeout', 30)} is shorter than {fn_name}'s timeout {timeout}")


def check_encryption(t, report):
    rules = {
        "AWS::SNS::Topic": lambda p: bool(p.get("KmsMasterKeyId")),
        "AWS::SQS::Queue": lambda p: bool(p.get("KmsMasterKeyId")) or truthy(p.get("SqsManagedSseEnabled")),
        "AWS::DynamoDB::Table": lambda p: truthy(p.get("SSESpecification", {}).get("SSEEnabled")),
        "AWS::S3::Bucket": lambda p: bool(p.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration"))
        and all(
            r.get("ServerSideEncryptionByDefault", {}).get("SSEAlgorithm") in ("aws:kms", "aws:kms:dsse")
            and r.get("ServerSideEncryptionByDefault", {}).get("KMSMasterKeyID")
            for r in p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        ),
        "AWS::Logs::LogGroup": lambda p: bool(p.get("KmsKeyId")),
        "AWS::CloudTrail::Trail": lambda p: bool(p.get("KMSKeyId")),
        "AWS::KMS::Key": lambda p: truthy(p.get("EnableKeyRotation")),
    }
    what = {
        "AWS::SNS::Topic": "KmsMasterKeyId",
        "AWS::SQS::Queue": "KmsMasterKeyId (or SqsManagedSseEnabled)",
        "AWS::DynamoDB::Table": "SSESpecification.SSEEnabled",
        "AWS::S3::Bucket": "BucketEncryption with aws:kms and a KMSMasterKeyID",
        "AWS::Logs::LogGroup": "KmsKeyId",
        "AWS::CloudTrail::Trail": "KMSKeyId",
        "AWS::KMS::Key": "EnableKeyRotation: true",
    }
    for name, res in t.resources.items():
        rule = rules.get(res.get("Type"))
        if rule and not rule(res.get("Properties", {})):
            report.fail("AWS-ENCRYPTION", f"Resources/{name}", f"{res['Type']} without {what[res['Type']]}")


PSEUDO = {"AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": "111122223333", "AWS::URLSuffix": "amazonaws.com"}


def safe_parameter(t, name):
    """A parameter that can never be '*' (or contain one)."""
    p = t.parameters.get(name)
    if p is None:
        return False
    if "AllowedValues" in p:
        return all("*" not in str(v) for v in p["AllowedValues"])
    pattern = p.get("AllowedPattern")
    if not pattern:
        return False
    return not any(re.fullmatch(pattern, probe) for probe in ("*", "a*", "*a", "a/*", "a*b"))


def resource_problem(t, value, kms_key_policy):
    """Why `value` (a policy Resource) is too broad, or None."""
    if isinstance(value, str):
        if value == "*":
            return None if kms_key_policy else 'Resource "*"'
        return arn_problem(value)
    if isinstance(value, dict):
        if "Ref" in value:
            ref = value["Ref"]
            if ref in t.resources:
                return None
            if ref in t.parameters:
                return None if safe_parameter(t, ref) else f"parameter {ref} has no AllowedPattern/AllowedValues that rules out '*'"
            return f"Ref {ref} is not a resource of this template"
        if "Fn::GetAtt" in value:
            target, _ = getatt_target(value)
            return None if target in t.resources else f"GetAtt of unknown resource {target}"
        if "Fn::Sub" in value:
            sub = value["Fn::Sub"]
            text, extra = (sub, {}) if isinstance(sub, str) else (sub[0], sub[1])

            def placeholder(m):
                name = m.group(1)
                if name in PSEUDO:
                    return PSEUDO[name]
                base = name.split(".")[0]
                if name in extra:
                    return "NAMED"
                if base in t.resources:
                    return "NAMED"
                if name in t.parameters:
                    if safe_parameter(t, name):
                        return "NAMED"
                    problems.append(f"parameter {name} has no AllowedPattern/AllowedValues that rules out '*'")
                    return "NAMED"
                problems.append(f"unknown ${{{name}}}")
                return "NAMED"

            problems = []
            resolved = re.sub(r"\$\{([^}!]+)\}", placeholder, text)
            if problems:
                return "; ".join(problems)
            if text.startswith("${") and not text.startswith("${AWS::"):
                return None if "*" not in resolved.split("/", 1)[0] else f"wildcard in {text!r}"
            return arn_problem(resolved)
        return f"cannot verify {json.dumps(value)}"
    return f"cannot verify {value!r}"


def arn_problem(text):
    if not text.startswith("arn:"):
        return f"{text!r} is not an ARN"
    parts = text.split(":", 5)
    if len(parts) < 6:
        return f"{text!r} is not a whole ARN"
    _, partition, service, region, account, resource = parts
    for label, v in (("partition", partition), ("service", service), ("region", region), ("account", account)):
        if "*" in v or "?" in v:
            return f"wildcard {label} in {text!r}"
    segments = re.split(r"[:/]", resource)
    if not resource or segments[0] == "" or segments[0].startswith("*"):
        return f"the resource part of {text!r} is a wildcard"
    if service != "s3" and len(segments) > 1 and segments[1].startswith("*"):
        return f"{text!r} covers every {segments[0]}"
    return None


def policy_documents(t):
    """(where, document, kind) for every policy document in the template."""
    for name, res in t.resources.items():
        props = res.get("Properties", {})
        typ = res.get("Type")
        where = f"Resources/{name}"
        if typ == "AWS::IAM::Role":
            yield f"{where}/AssumeRolePolicyDocument", props.get("AssumeRolePolicyDocument", {}), "trust"
            for i, pol in enumerate(props.get("Policies", [])):
                yield f"{where}/Policies/{i}", pol.get("PolicyDocument", {}), "identity"
        elif typ in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
            yield where, props.get("PolicyDocument", {}), "identity"
        elif typ in ("AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy", "AWS::S3::BucketPolicy"):
            yield where, props.get("PolicyDocument", {}), "resource"
        elif typ == "AWS::KMS::Key":
            yield f"{where}/KeyPolicy", props.get("KeyPolicy", {}), "kms"


# Actions with no resource-level permissions (the Service Authorization Reference lists no
# resource type for them): "*" is their only Resource.
NO_RESOURCE_TYPE = {"organizations:ListAccounts"}


def check_iam(t, report):
    for name, res in t.resources.items():
        where = f"Resources/{name}"
        props = res.get("Properties", {})
        if res.get("Type") == "AWS::IAM::Role":
            for arn in props.get("ManagedPolicyArns", []):
                if not (isinstance(arn, dict) and arn.get("Ref") in t.resources):
                    report.fail("AWS-IAM", where, f"managed policy {arn!r}: its statements cannot be reviewed here")
        if res.get("Type") in CFN_FUNCTIONS:
            if "Policies" in props:
                report.fail("AWS-IAM", where, "SAM Policies (templates, managed policies) hide their statements: give the function an explicit Role")
            if not props.get("Role"):
                report.fail("AWS-IAM", where, "no explicit Role: SAM would create one with AWSLambdaBasicExecutionRole (logs on every resource)")
    for where, doc, kind in policy_documents(t):
        statements = items(doc.get("Statement", []))
        if not statements:
            report.fail("AWS-IAM", where, "a policy document without statements")
        for i, st in enumerate(statements):
            at = f"{where}/Statement/{st.get('Sid', i)}"
            effect = st.get("Effect")
            if effect not in ("Allow", "Deny"):
                report.fail("AWS-IAM", at, f"Effect {effect!r}")
                continue
            allow = effect == "Allow"
            for key in ("NotAction", "NotResource", "NotPrincipal"):
                if key in st and allow:
                    report.fail("AWS-IAM", at, f"{key} in an Allow statement grants everything else")
            actions = [a for x in as_list(st.get("Action", [])) for a in alternatives(x)]
            if not actions and "NotAction" not in st:
                report.fail("AWS-IAM", at, "no Action")
            for a in actions:
                if not isinstance(a, str) or ":" not in a:
                    report.fail("AWS-IAM", at, f"action {a!r} is not service:Action")
                elif a == "*" or (allow and "*" in a) or (not allow and "*" in a and not re.fullmatch(r"[a-z0-9-]+:\*", a)):
                    report.fail("AWS-IAM", at, f"wildcard action {a!r}")
            if allow and kind != "trust":
                principal = st.get("Principal")
                if principal == "*" or (isinstance(principal, dict) and "*" in [p for v in principal.values() for p in as_list(v)]):
                    report.fail("AWS-IAM", at, "Allow to Principal \"*\"")
            if kind == "trust":
                continue
            resources = [r for x in as_list(st.get("Resource", [])) for r in alternatives(x)]
            if not resources and "NotResource" not in st:
                report.fail("AWS-IAM", at, "no Resource")
            # Actions that IAM defines with no resource type take only "*": a statement of
            # those alone may name it (and nothing else grants more through it).
            unscoped = bool(actions) and all(x in NO_RESOURCE_TYPE for x in actions)
            for r in resources:
                if kind == "kms" and r != "*":
                    report.fail("AWS-IAM", at, f"a key policy statement's Resource must be \"*\" (this key), found {r!r}")
                    continue
                problem = resource_problem(t, r, kind == "kms" or unscoped)
                if problem:
                    report.fail("AWS-IAM", at, problem)


def check_environment(t, settings, report):
    for name, res in t.of_type(*CFN_FUNCTIONS):
        where = f"Resources/{name}"
        env = t.function_props(res).get("Environment", {}).get("Variables", {})
        for var in env:
            if var.startswith("IAMWATCH_"):
                if not settings.engine_setting(var):
                    report.fail("AWS-ENV", where, f"{var} is not a setting the handlers read (shared/src/config.rs KNOWN, IAMWATCH_ALLOWLIST_<pack allowlist>)")
            elif var not in ("RUST_LOG", "AWS_LAMBDA_LOG_LEVEL"):
                report.fail("AWS-ENV", where, f"{var} is not a variable the handlers read")
        for required in ("IAMWATCH_TOPIC_ARN", "IAMWATCH_STATE_TABLE"):
            if required not in env:
                report.fail("AWS-ENV", where, f"{required} is not set: alerts or shared state would be off")


DYNAMODB_CALLS = {
    "get_item": "dynamodb:GetItem",
    "put_item": "dynamodb:PutItem",
    "update_item": "dynamodb:UpdateItem",
    "delete_item": "dynamodb:DeleteItem",
    "query": "dynamodb:Query",
    "scan": "dynamodb:Scan",
    "batch_get_item": "dynamodb:BatchGetItem",
    "batch_write_item": "dynamodb:BatchWriteItem",
    "transact_get_items": "dynamodb:GetItem",
    "transact_write_items": "dynamodb:PutItem",
    "describe_table": "dynamodb:DescribeTable",
}


def check_state_table(t, root, report):
    source = os.path.join(root, "shared", "src", "window", "dynamodb.rs")
    with open(source, encoding="utf-8") as f:
        code = f.read().split("#[cfg(test)]")[0]
    keys = sorted(set(re.findall(r'\.key\(\s*"([A-Za-z0-9_]+)"', code)))
    ttl = set(re.findall(r'\.item\(\s*"([A-Za-z0-9_]+)"\s*,\s*ttl\(', code)) | set(
        re.findall(r'expression_attribute_names\(\s*"#t"\s*,\s*"([A-Za-z0-9_]+)"', code)
    )
    calls = {DYNAMODB_CALLS[c] for c in re.findall(r"\.(\w+)\(\)", code) if c in DYNAMODB_CALLS}
    if len(keys) != 2 or len(ttl) != 1 or not calls:
        report.fail("AWS-STATE", source, f"cannot read the table's use from the code (keys {keys}, ttl {sorted(ttl)}, calls {sorted(calls)})")
        return
    tables = t.of_type("AWS::DynamoDB::Table")
    if len(tables) != 1:
        report.fail("AWS-STATE", t.path, f"{len(tables)} DynamoDB tables, expected the one state table")
        return
    name, table = tables[0]
    where = f"Resources/{name}"
    p = table.get("Properties", {})
    # The code's partition key is the one queried with `pk = :pk`.
    hash_key = re.search(r'"(\w+) = :\w+ AND (\w+) BETWEEN', code)
    partition, sort = (hash_key.group(1), hash_key.group(2)) if hash_key else (keys[0], keys[1])
    expected_schema = [{"AttributeName": partition, "KeyType": "HASH"}, {"AttributeName": sort, "KeyType": "RANGE"}]
    if p.get("KeySchema") != expected_schema:
        report.fail("AWS-STATE", where, f"KeySchema {p.get('KeySchema')} differs from the code's {expected_schema}")
    defs = {d.get("AttributeName"): d.get("AttributeType") for d in p.get("AttributeDefinitions", [])}
    if defs != {partition: "S", sort: "S"}:
        report.fail("AWS-STATE", where, f"AttributeDefinitions {defs} differ from the code's {{{partition}: S, {sort}: S}}")
    ttl_spec = p.get("TimeToLiveSpecification", {})
    if ttl_spec.get("AttributeName") not in ttl or not truthy(ttl_spec.get("Enabled")):
        report.fail("AWS-STATE", where, f"TTL must be enabled on {sorted(ttl)[0]!r} (found {ttl_spec})")
    if p.get("BillingMode") != "PAY_PER_REQUEST":
        report.fail("AWS-STATE", where, f"BillingMode {p.get('BillingMode')!r}, expected PAY_PER_REQUEST")
    if not truthy(p.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled")):
        report.fail("AWS-STATE", where, "point-in-time recovery is off")
    table_arn = {"Fn::GetAtt": [name, "Arn"]}
    for doc_where, doc, kind in policy_documents(t):
        if kind != "identity":
            continue
        granted = set()
        for st in items(doc.get("Statement", [])):
            resources = [r for x in as_list(st.get("Resource", [])) for r in alternatives(x)]
            if st.get("Effect") == "Allow" and table_arn in resources:
                granted.update(a for x in as_list(st.get("Action", [])) for a in alternatives(x) if str(a).startswith("dynamodb:"))
        if granted and granted != calls:
            extra, missing = sorted(granted - calls), sorted(calls - granted)
            report.fail("AWS-STATE", doc_where, f"DynamoDB actions on the table differ from the code's calls: extra {extra}, missing {missing}")


def check_aws(template_path, settings, root, report, home=None):
    """`home`: where the template stands for CodeUri (a broken copy stands for the real one)."""
    t = Template(template_path)
    if home:
        t.path = home
    check_functions(t, report, root)
    check_dead_letters(t, report)
    check_encryption(t, report)
    check_iam(t, report)
    check_environment(t, settings, report)
    check_state_table(t, root, report)


# ============================================================== IBM


def unquote(v):
    if isinstance(v, str) and len(v) >= 2 and v[0] == '"' and v[-1] == '"':
        return v[1:-1]
    return v


def expr(v):
    """The expression inside ${...}, or the literal."""
    if isinstance(v, str) and v.startswith("${") and v.endswith("}"):
        return v[2:-1]
    return unquote(v) if isinstance(v, str) else v


class Terraform:
    def __init__(self, directory):
        import hcl2

        self.dir = directory
        self.files = sorted(glob.glob(os.path.join(directory, "*.tf")))
        if not self.files:
            raise SystemExit(f"own_checks: no .tf file in {directory}")
        self.text = {}
        self.parsed = {}
        for path in self.files:
            with open(path, encoding="utf-8") as f:
                self.text[path] = f.read()
            with open(path, encoding="utf-8") as f:
                try:
                    self.parsed[path] = hcl2.load(f)
                except Exception as e:  # noqa: BLE001 - any parse error is a failure to report
                    raise SystemExit(f"own_checks: {path} does not parse: {e}")
        self.variables = {}
        self.resources = {}
        self.data = {}
        self.locals = {}
        self.outputs = {}
        self.required_providers = {}
        for path, d in self.parsed.items():
            for block in d.get("variable", []):
                for k, v in block.items():
                    if k != "__comments__":
                        self.variables[unquote(k)] = (path, v)
            for kind, target in (("resource", self.resources), ("data", self.data)):
                for block in d.get(kind, []):
                    for typ, named in block.items():
                        if typ.startswith("__"):
                            continue
                        for name, body in named.items():
                            if not name.startswith("__"):
                                target[(unquote(typ), unquote(name))] = (path, body)
            for block in d.get("locals", []):
                for k, v in block.items():
                    if not k.startswith("__"):
                        self.locals[k] = v
            for block in d.get("output", []):
                for k, v in block.items():
                    if not k.startswith("__"):
                        self.outputs[unquote(k)] = v
            for block in d.get("terraform", []):
                for rp in block.get("required_providers", []):
                    for k, v in rp.items():
                        if not k.startswith("__"):
                            self.required_providers[k] = v

    def of_type(self, typ):
        return [(name, body) for (t, name), (_, body) in self.resources.items() if t == typ]


def check_ibm(directory, settings, report):
    tf = Terraform(directory)
    ibm = tf.required_providers.get("ibm", {})
    if unquote(ibm.get("source", "")) != "IBM-Cloud/ibm":
        report.fail("IBM-PROVIDER", directory, f"required_providers.ibm.source is {ibm.get('source')!r}, expected IBM-Cloud/ibm")

    # Variables: declared <-> used.
    all_text = "\n".join(tf.text.values())
    used = set(re.findall(r"\bvar\.([A-Za-z_][A-Za-z0-9_-]*)", all_text))
    for name, (path, _) in tf.variables.items():
        if name not in used:
            report.fail("IBM-VARIABLES", os.path.relpath(path, directory), f"variable {name!r} is declared but never used")
    for name in sorted(used - set(tf.variables)):
        report.fail("IBM-VARIABLES", directory, f"var.{name} is used but not declared")

    # References: every resource / data source referenced is declared.
    declared = {f"{t}.{n}" for t, n in tf.resources} | {f"data.{t}.{n}" for t, n in tf.data}
    for path, text in tf.text.items():
        body = re.sub(r"#[^\n]*", "", text)
        for m in re.finditer(r"\b(data\.)?((?:ibm|random)_[a-z0-9_]+)\.([a-z0-9_-]+)", body):
            ref = f"{m.group(1) or ''}{m.group(2)}.{m.group(3)}"
            if ref not in declared:
                report.fail("IBM-REFERENCES", os.path.relpath(path, directory), f"{ref} is referenced but not declared")

    apps = tf.of_type("ibm_code_engine_app")
    if len(apps) != 1:
        report.fail("IBM-APP-ENV", directory, f"{len(apps)} ibm_code_engine_app resources, expected one")
    for app_name, app in apps:
        check_app_env(tf, app_name, app, settings, report)

    routes = tf.of_type("ibm_atracker_route")
    if not routes:
        report.fail("IBM-ROUTE", directory, "no ibm_atracker_route")
    for name, route in routes:
        rules = route.get("rules", [])
        if not any(re.search(r'(^|[\[(,\s])"global"', str(expr(r.get("locations", "")))) or (isinstance(r.get("locations"), list) and '"global"' in r["locations"]) for r in rules):
            report.fail("IBM-ROUTE", f"ibm_atracker_route.{name}", "no rule's locations include \"global\": IAM and account events would never be routed")

    buckets = tf.of_type("ibm_cos_bucket")
    if not buckets:
        report.fail("IBM-BUCKET", directory, "no ibm_cos_bucket")
    projects = tf.of_type("ibm_code_engine_project")
    for name, bucket in buckets:
        key = expr(bucket.get("kms_key_crn", bucket.get("key_protect", "")))
        if not key or not re.match(r"(ibm_kms_key\.|data\.ibm_kms_key|ibm_hpcs|var\.|local\.|crn:v1:.*:(kms|hs-crypto):)", str(key)):
            report.fail("IBM-BUCKET", f"ibm_cos_bucket.{name}", f"not encrypted with a Key Protect/HPCS key (kms_key_crn = {key!r})")
        if projects and expr(bucket.get("region_location", "")) != "var.region":
            report.fail("IBM-BUCKET", f"ibm_cos_bucket.{name}", "region_location must be var.region, the Code Engine project's region (COS subscriptions need a regional bucket there)")

    for name, settings_block in tf.of_type("ibm_iam_account_settings"):
        account = expr(settings_block.get("allowed_ip_addresses", ""))
        app_value = tf_app_literal(tf, "IAMWATCH_ALLOWLIST_IAM")
        if app_value is None:
            report.fail("IBM-ALLOWLIST", f"ibm_iam_account_settings.{name}", "the app does not get IAMWATCH_ALLOWLIST_IAM: the handler's allowlist and the account's would drift")
        elif account != app_value:
            report.fail("IBM-ALLOWLIST", f"ibm_iam_account_settings.{name}", f"allowed_ip_addresses ({account}) and the app's IAMWATCH_ALLOWLIST_IAM ({app_value}) are not the same expression")


def app_env(tf, app):
    """[(name, type, block)] of an app's run_env_variables, dynamic blocks expanded through
    the local map they iterate over."""
    out = []
    for block in app.get("run_env_variables", []):
        out.append((unquote(block.get("name", "")), unquote(block.get("type", '"literal"')), block))
    for dyn in app.get("dynamic", []):
        for label, body in dyn.items():
            if unquote(label) != "run_env_variables":
                continue
            source = expr(body.get("for_each", ""))
            m = re.fullmatch(r"local\.([A-Za-z0-9_]+)", str(source))
            local = tf.locals.get(m.group(1)) if m else None
            if local is None:
                out.append((f"<dynamic over {source}>", "unknown", body))
                continue
            content = body.get("content", [{}])[0]
            names = re.findall(r"\b([A-Z][A-Z0-9_]+)\s*=", str(local))
            for name in names:
                block = {k: v for k, v in content.items()}
                block["value"] = extract_map_value(str(local), name)
                out.append((name, unquote(content.get("type", '"literal"')), block))
    return out


def extract_map_value(text, name):
    m = re.search(r"\b" + name + r"\s*=\s*([^,}]+)", text)
    return m.group(1).strip() if m else None


def tf_app_literal(tf, variable):
    for _, app in tf.of_type("ibm_code_engine_app"):
        for name, kind, block in app_env(tf, app):
            if name == variable:
                return expr(block.get("value"))
    return None


def check_app_env(tf, app_name, app, settings, report):
    where = f"ibm_code_engine_app.{app_name}"
    env = app_env(tf, app)
    names = [n for n, _, _ in env]
    readable = settings.codeengine | AWS_SDK_VARIABLES
    for name, kind, block in env:
        if kind == "unknown":
            report.fail("IBM-APP-ENV", where, f"{name}: cannot tell which variables it sets")
            continue
        if name == "PORT":
            report.fail("IBM-APP-ENV", where, "PORT is set by Code Engine from image_port; do not set it")
        elif not (settings.engine_setting(name) or name in readable):
            report.fail("IBM-APP-ENV", where, f"{name} is not a setting the IBM handler reads (shared/src/config.rs, shared/src/codeengine.rs, the AWS SDK)")
    for dup in sorted({n for n in names if names.count(n) > 1}):
        report.fail("IBM-APP-ENV", where, f"{dup} is set twice")
    required = {"IAMWATCH_WEBHOOK_SECRET", "IAMWATCH_TOPIC_ARN", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    if any(n.startswith("IAMWATCH_COS_") for n in settings.codeengine):
        required |= {n for n in settings.codeengine if n.startswith("IAMWATCH_COS_")}
    for missing in sorted(required - set(names)):
        report.fail("IBM-APP-ENV", where, f"{missing} is not set")

    secrets = {name: body for name, body in tf.of_type("ibm_code_engine_secret")}
    sensitive_vars = {n for n, (_, v) in tf.variables.items() if v.get("sensitive") is True}
    for name, kind, block in env:
        if kind in ("secret_key_reference", "secret_full_reference"):
            if block.get("value") not in (None, ""):
                report.fail("IBM-APP-SECRETS", where, f"{name}: a secret reference with a value of its own")
            ref = str(expr(block.get("reference", "")))
            m = re.fullmatch(r"ibm_code_engine_secret\.([a-z0-9_-]+)\.name", ref)
            if not m or m.group(1) not in secrets:
                report.fail("IBM-APP-SECRETS", where, f"{name}: reference {ref!r} is not a Code Engine secret of this configuration")
                continue
            secret = secrets[m.group(1)]
            data = secret.get("data", {})
            if kind == "secret_key_reference":
                key = unquote(block.get("key", ""))
                if not isinstance(data, dict) or key not in data:
                    report.fail("IBM-APP-SECRETS", where, f"{name}: secret {m.group(1)} has no key {key!r}")
            continue
        if name in CREDENTIAL_VARIABLES:
            report.fail("IBM-APP-SECRETS", where, f"{name} is a credential set as a {kind} value: use a secret_key_reference to a Code Engine secret")
        value = str(block.get("value", ""))
        for var in re.findall(r"\bvar\.([A-Za-z0-9_]+)", value):
            if var in sensitive_vars:
                report.fail("IBM-APP-SECRETS", where, f"{name} takes the sensitive variable var.{var} as a plain value")
        if re.search(r"random_password\.|\.credentials\b|credentials_json", value):
            report.fail("IBM-APP-SECRETS", where, f"{name} takes a generated credential as a plain value")


# ============================================================== running


def run(aws_template, ibm_dir, root, home=None):
    report = Report()
    settings = Settings(root, report)
    check_aws(aws_template, settings, root, report, home)
    check_ibm(ibm_dir, settings, report)
    return report


CHECKS = [
    "AWS-RUNTIME", "AWS-ARCH", "AWS-BUILD", "AWS-LIMITS", "AWS-DLQ", "AWS-ENCRYPTION", "AWS-IAM",
    "AWS-ENV", "AWS-STATE", "IBM-PROVIDER", "IBM-VARIABLES", "IBM-REFERENCES", "IBM-APP-ENV",
    "IBM-APP-SECRETS", "IBM-ROUTE", "IBM-BUCKET", "IBM-ALLOWLIST",
]

# (check, file, text to find, replacement): each breaks one thing in a copy.
BREAKAGES = [
    ("AWS-RUNTIME", "aws", "    Runtime: provided.al2023\n", "    Runtime: provided.al2\n"),
    ("AWS-ARCH", "aws", "    Default: arm64\n", "    Default: x86_64\n"),
    ("AWS-ARCH", "aws", "    Architectures: [!Ref Architecture]\n", "    Architectures: [x86_64]\n"),
    ("AWS-BUILD", "aws", "        Binary: eventbridge\n", "        Binary: event-bridge\n"),
    ("AWS-BUILD", "aws", "    CodeUri: ../..\n", "    CodeUri: ../../shared\n"),
    ("AWS-LIMITS", "aws", "      MemorySize: 128\n", "      MemorySize: 20000\n"),
    ("AWS-LIMITS", "aws", "      Timeout: 300\n", "      Timeout: 1000\n"),
    ("AWS-LIMITS", "aws", "      VisibilityTimeout: 1800\n", "      VisibilityTimeout: 60\n"),
    ("AWS-DLQ", "aws", "            Destination: !GetAtt EventBridgeDeadLetterQueue.Arn\n", "            Destination: !GetAtt AlertTopic.Arn\n"),
    ("AWS-DLQ", "aws", "                Resource: !GetAtt LogsSubscriptionDeadLetterQueue.Arn\n", "                Resource: !GetAtt S3CloudTrailDeadLetterQueue.Arn\n"),
    ("AWS-DLQ", "aws", "      FunctionResponseTypes: [ReportBatchItemFailures]\n", ""),
    ("AWS-ENCRYPTION", "aws", "      DisplayName: iamwatch\n      KmsMasterKeyId: !Ref AlertKey\n", "      DisplayName: iamwatch\n"),
    ("AWS-ENCRYPTION", "aws", "  S3CloudTrailDeadLetterQueue:\n    Type: AWS::SQS::Queue\n    Properties:\n      KmsMasterKeyId: !Ref AlertKey\n", "  S3CloudTrailDeadLetterQueue:\n    Type: AWS::SQS::Queue\n    Properties:\n"),
    ("AWS-ENCRYPTION", "aws", "        SSEEnabled: true\n", "        SSEEnabled: false\n"),
    ("AWS-ENCRYPTION", "aws", "      EnableKeyRotation: true\n", "      EnableKeyRotation: false\n"),
    ("AWS-ENCRYPTION", "aws", "              SSEAlgorithm: aws:kms\n              KMSMasterKeyID: !GetAtt AlertKey.Arn\n            BucketKeyEnabled: true\n      PublicAccessBlockConfiguration:\n        BlockPublicAcls: true\n        BlockPublicPolicy: true\n        IgnorePublicAcls: true\n        RestrictPublicBuckets: true\n      OwnershipControls:\n        Rules:\n          - ObjectOwnership: BucketOwnerEnforced\n      VersioningConfiguration:\n        Status: Enabled\n\n  TrailBucketPolicy:", "              SSEAlgorithm: AES256\n            BucketKeyEnabled: true\n      PublicAccessBlockConfiguration:\n        BlockPublicAcls: true\n        BlockPublicPolicy: true\n        IgnorePublicAcls: true\n        RestrictPublicBuckets: true\n      OwnershipControls:\n        Rules:\n          - ObjectOwnership: BucketOwnerEnforced\n      VersioningConfiguration:\n        Status: Enabled\n\n  TrailBucketPolicy:"),
    ("AWS-IAM", "aws", "                Action: sns:Publish\n                Resource: !Ref AlertTopic\n", "                Action: sns:Publish\n                Resource: \"*\"\n"),
    ("AWS-IAM", "aws", "                  - dynamodb:Query\n                Resource: !GetAtt StateTable.Arn\n", "                  - dynamodb:*\n                Resource: !GetAtt StateTable.Arn\n"),
    ("AWS-IAM", "aws", "              - kms:CancelKeyDeletion\n", "              - kms:*\n"),
    ("AWS-IAM", "aws", "                  Resource: !Sub arn:${AWS::Partition}:s3:::${TrailBucketName}/${TrailBucketPrefix}*\n", "                  Resource: !Sub arn:${AWS::Partition}:s3:::*\n"),
    ("AWS-IAM", "aws", "    AllowedPattern: ^$|^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$\n", ""),
    ("AWS-IAM", "aws", "      Role: !GetAtt EventBridgeRole.Arn\n", ""),
    ("AWS-ENV", "aws", "        IAMWATCH_MIN_SEVERITY: !Ref IamwatchMinSeverity\n", "        IAMWATCH_MIN_SEVERTY: !Ref IamwatchMinSeverity\n"),
    ("AWS-ENV", "aws", "        IAMWATCH_ALLOWLIST_IAM: !If [HasAllowlistIam,", "        IAMWATCH_ALLOWLIST_VPN: !If [HasAllowlistIam,"),
    ("AWS-ENV", "aws", "        IAMWATCH_STATE_TABLE: !Ref StateTable\n", ""),
    ("AWS-STATE", "aws", "        - AttributeName: sk\n          KeyType: RANGE\n", "        - AttributeName: sort\n          KeyType: RANGE\n"),
    ("AWS-STATE", "aws", "        AttributeName: ttl\n", "        AttributeName: expires\n"),
    ("AWS-STATE", "aws", "                  - dynamodb:DeleteItem\n                  - dynamodb:Query\n                Resource: !GetAtt StateTable.Arn\n              - Sid: OnFailureDestination\n                Effect: Allow\n                Action: sqs:SendMessage\n                Resource: !GetAtt LogsSubscriptionDeadLetterQueue.Arn\n", "                  - dynamodb:DeleteItem\n                  - dynamodb:Query\n                  - dynamodb:Scan\n                Resource: !GetAtt StateTable.Arn\n              - Sid: OnFailureDestination\n                Effect: Allow\n                Action: sqs:SendMessage\n                Resource: !GetAtt LogsSubscriptionDeadLetterQueue.Arn\n"),
    ("AWS-STATE", "aws", "        PointInTimeRecoveryEnabled: true\n", "        PointInTimeRecoveryEnabled: false\n"),
    ("IBM-PROVIDER", "versions.tf", '      source  = "IBM-Cloud/ibm"\n', '      source  = "example/ibm"\n'),
    ("IBM-VARIABLES", "variables.tf", 'variable "region" {', 'variable "unused_setting" {\n  type    = string\n  default = ""\n}\n\nvariable "region" {'),
    ("IBM-VARIABLES", "app.tf", "  scale_max_instances           = var.max_instances\n", "  scale_max_instances           = var.max_instance_count\n"),
    ("IBM-REFERENCES", "outputs.tf", "ibm_cos_bucket.events.bucket_name\n}", "ibm_cos_bucket.trail.bucket_name\n}"),
    ("IBM-APP-ENV", "app.tf", '    name  = "IAMWATCH_COS_ENDPOINT"\n', '    name  = "IAMWATCH_COS_ENDPOIN"\n'),
    ("IBM-APP-ENV", "app.tf", '      IAMWATCH_STATE_TABLE   = var.aws_state_table\n', '      IAMWATCH_STATE_TABEL   = var.aws_state_table\n'),
    ("IBM-APP-ENV", "app.tf", '    name  = "IAMWATCH_TOPIC_ARN"\n', '    name  = "PORT"\n'),
    ("IBM-APP-SECRETS", "app.tf", '    type      = "secret_key_reference"\n    name      = "IAMWATCH_WEBHOOK_SECRET"\n    reference = ibm_code_engine_secret.webhook.name\n    key       = "token"\n', '    type  = "literal"\n    name  = "IAMWATCH_WEBHOOK_SECRET"\n    value = random_password.webhook.result\n'),
    ("IBM-APP-SECRETS", "app.tf", '    key       = "secret_access_key"\n  }\n}', '    key       = "secret_key"\n  }\n}'),
    ("IBM-APP-SECRETS", "app.tf", '    value = var.min_severity\n', '    value = var.aws_secret_access_key\n'),
    ("IBM-ROUTE", "main.tf", 'concat(["global", var.region], var.extra_event_locations)', 'concat([var.region], var.extra_event_locations)'),
    ("IBM-BUCKET", "main.tf", "  kms_key_crn          = ibm_kms_key.events.crn\n", ""),
    ("IBM-BUCKET", "main.tf", "  region_location      = var.region\n", '  region_location      = "eu-de"\n'),
    ("IBM-ALLOWLIST", "main.tf", "  allowed_ip_addresses = local.iam_allowlist\n", '  allowed_ip_addresses = join(",", var.iam_allowed_ip_addresses)\n'),
]


def self_test(aws_template, ibm_dir, root):
    baseline = run(aws_template, ibm_dir, root)
    if baseline.failures:
        print("self-test: the unbroken files must pass first", file=sys.stderr)
        return False
    ok = True
    tried = set()
    with tempfile.TemporaryDirectory(prefix="iamwatch-own-checks-") as tmp:
        for i, (check, target, old, new) in enumerate(BREAKAGES):
            work = os.path.join(tmp, str(i))
            aws_dir = os.path.join(work, "infra", "aws")
            tf_dir = os.path.join(work, "infra", "ibm")
            os.makedirs(aws_dir)
            shutil.copy(aws_template, os.path.join(aws_dir, "template.yaml"))
            shutil.copytree(ibm_dir, tf_dir)
            path = os.path.join(aws_dir, "template.yaml") if target == "aws" else os.path.join(tf_dir, target)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            if old not in text:
                print(f"self-test: breakage {i} ({check}) no longer applies: {old[:60]!r} is not in {target}", file=sys.stderr)
                ok = False
                continue
            with open(path, "w", encoding="utf-8") as f:
                f.write(text.replace(old, new, 1))
            # The copy is checked against the real workspace (Cargo.toml, shared/).
            try:
                report = run(os.path.join(aws_dir, "template.yaml"), tf_dir, root, home=os.path.join(root, "infra", "aws", "template.yaml"))
            except SystemExit as e:
                print(f"self-test: breakage {i} ({check}) stopped the checks: {e}", file=sys.stderr)
                ok = False
                continue
            tried.add(check)
            if not report.failed(check):
                print(f"self-test: breakage {i} went unnoticed by {check}: {old.strip()[:70]!r} -> {new.strip()[:70]!r}", file=sys.stderr)
                ok = False
            else:
                first = next(m for c, _, m in report.failures if c == check)
                print(f"self-test ok  {check:16} {first}")
    for check in CHECKS:
        if check not in tried:
            print(f"self-test: no breakage exercises {check}", file=sys.stderr)
            ok = False
    return ok


# Parameter defaults that switch every optional part of the template on, so that checkov (which
# drops resources whose condition is false with the defaults) sees all of them.
ALL_OPTIONS = {
    "CreateTrail": '"true"',
    "TrailBucketName": "example-org-trail-bucket",
    "TrailBucketKmsKeyArn": "arn:aws:kms:us-east-1:111122223333:key/11111111-2222-3333-4444-555555555555",
    "EnableCisAlarms": '"true"',
    "AlertEmail": "alerts@example.com",
    "AlertPhoneNumber": '"+15555550100"',
    "IamwatchOrganizationAccounts": '"true"',
}


def write_all_options(aws_template, out_dir):
    with open(aws_template, encoding="utf-8") as f:
        text = f.read()
    for param, value in ALL_OPTIONS.items():
        m = re.search(r"^  " + param + r":\n(?:    .*\n)*?    Default: .*$", text, re.M)
        if not m:
            raise SystemExit(f"own_checks: parameter {param} with a Default is not in {aws_template}")
        block = m.group(0)
        text = text.replace(block, re.sub(r"    Default: .*$", "    Default: " + value, block, flags=re.M), 1)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "template.yaml"), "w", encoding="utf-8") as f:
        f.write(text)
    nested = os.path.join(os.path.dirname(aws_template), "cis-alarms.yaml")
    if os.path.exists(nested):
        shutil.copy(nested, out_dir)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--aws", default=os.path.join(ROOT, "infra", "aws", "template.yaml"))
    ap.add_argument("--ibm", default=os.path.join(ROOT, "infra", "ibm"))
    ap.add_argument("--root", default=ROOT, help="the Cargo workspace (for settings, bins and the table's use)")
    ap.add_argument("--self-test", action="store_true", help="also prove every check fails on a broken copy")
    ap.add_argument("--write-all-options", metavar="DIR", help="only write a copy of the AWS template with every optional part on (for checkov) to DIR")
    args = ap.parse_args()
    if args.write_all_options:
        write_all_options(args.aws, args.write_all_options)
        return 0

    report = run(args.aws, args.ibm, args.root)
    for note in report.notes:
        print(f"note: {note}")
    for check, where, message in report.failures:
        print(f"FAIL {check}: {where}: {message}", file=sys.stderr)
    failed = {c for c, _, _ in report.failures}
    for check in CHECKS:
        if check not in failed:
            print(f"ok   {check}")
    if report.failures:
        print(f"own checks: {len(report.failures)} failure(s) in {', '.join(sorted(failed))}", file=sys.stderr)
        return 1
    if args.self_test and not self_test(args.aws, args.ibm, args.root):
        print("own checks: the self-test failed: a check could not fail", file=sys.stderr)
        return 1
    print(f"own checks: {len(CHECKS)} checks passed" + (f", each failing on its {len(BREAKAGES)} broken copies" if args.self_test else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
