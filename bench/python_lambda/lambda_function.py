"""CloudWatch Logs subscription -> CIS AWS Foundations checks -> Amazon SNS, in Python.

The handler a Python user writes for iamwatch's logs-subscription job: boto3 and its SNS client
made at init, as users write it (so that cost is in the cold start, as it is on Lambda), then
per event the decoding and matching of bench/python_handler.py, and one SNS message per
finding when IAMWATCH_TOPIC_ARN is set. Prints one JSON line with the counts, as the Rust
handler prints its metrics, and answers null as it does.
"""

import json
import os
import sys

import boto3

# python_handler.py is a module of the bench, one folder up; a deployment would ship it beside
# this file.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import python_handler  # noqa: E402

TOPIC_ARN = os.environ.get("IAMWATCH_TOPIC_ARN")
sns = boto3.client("sns")


def handler(event, context):
    result = python_handler.handler(event)
    if TOPIC_ARN:
        for finding in result["findings"]:
            sns.publish(
                TopicArn=TOPIC_ARN,
                Subject=f"iamwatch {finding['rule']}: {finding['eventName']}",
                Message=json.dumps(finding),
            )
    print(
        json.dumps({"Records": result["records"], "Findings": len(result["findings"])}),
        flush=True,
    )
    return None
