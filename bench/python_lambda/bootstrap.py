#!/usr/bin/env python3
"""A minimal Lambda runtime loop for Python, as a custom runtime's bootstrap runs one.

    AWS_LAMBDA_RUNTIME_API=HOST:PORT python3 bootstrap.py     (_HANDLER=module.function,
                                                                default lambda_function.handler)

Imports the handler module (its top level is the function's init), then asks the Runtime API
for the next invocation, calls the handler with the decoded event, and posts its result as
JSON, or the exception to .../error, forever. urllib from the standard library, because the
runtime interface client AWS ships for Python does the same work and adds its own start-up.
"""

import importlib
import json
import os
import sys
import time
import traceback
import urllib.request

API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"


def post(path, body, headers=None):
    request = urllib.request.Request(
        API + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST",
    )
    with urllib.request.urlopen(request) as answer:
        answer.read()


def error_body(e):
    return {
        "errorMessage": str(e),
        "errorType": type(e).__name__,
        "stackTrace": traceback.format_tb(e.__traceback__),
    }


class Context:
    def __init__(self, headers):
        self.aws_request_id = headers["Lambda-Runtime-Aws-Request-Id"]
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn")
        self.deadline_ms = int(headers.get("Lambda-Runtime-Deadline-Ms", "0"))
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")

    def get_remaining_time_in_millis(self):
        return max(self.deadline_ms - int(time.time() * 1000), 0)


def main():
    # The handler module sits beside this file, as in /var/task.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    module, _, function = os.environ.get("_HANDLER", "lambda_function.handler").rpartition(".")
    try:
        handler = getattr(importlib.import_module(module), function)
    except Exception as e:
        post(
            "/init/error",
            error_body(e),
            {"Lambda-Runtime-Function-Error-Type": "Runtime.ImportModuleError"},
        )
        sys.exit(1)
    while True:
        with urllib.request.urlopen(API + "/invocation/next") as answer:
            headers = answer.headers
            event = json.loads(answer.read())
        context = Context(headers)
        os.environ["_X_AMZN_TRACE_ID"] = headers.get("Lambda-Runtime-Trace-Id", "")
        try:
            result = handler(event, context)
        except Exception as e:
            post(
                f"/invocation/{context.aws_request_id}/error",
                error_body(e),
                {"Lambda-Runtime-Function-Error-Type": "Unhandled"},
            )
            continue
        post(f"/invocation/{context.aws_request_id}/response", result)


if __name__ == "__main__":
    main()
