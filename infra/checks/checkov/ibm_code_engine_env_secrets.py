"""Code Engine apps, jobs and functions get credentials only through Code Engine secrets
(`secret_key_reference` / `secret_full_reference`), never as plain environment values: a
literal is shown to anyone who can read the app's configuration and lands in its revisions."""

import re

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

SECRET_TYPES = {"secret_key_reference", "secret_full_reference"}
# Names of variables that hold credentials.
SECRET_NAME = re.compile(r"(SECRET|PASSWORD|PASSWD|TOKEN|ACCESS_KEY|APIKEY|API_KEY|PRIVATE_KEY|CREDENTIAL|HMAC)", re.I)
# Expressions whose value is a credential: generated passwords, service credentials, and
# variables named like credentials.
SECRET_SOURCE = re.compile(
    r"(random_password\.|\.credentials\b|credentials_json|var\.[a-z0-9_]*(secret|password|token|access_key|api_?key|hmac)[a-z0-9_]*)",
    re.I,
)


def _first(value):
    if isinstance(value, list):
        return value[0] if value else None
    return value


class CodeEngineSecretsOnlyByReference(BaseResourceCheck):
    def __init__(self):
        super().__init__(
            name="Ensure Code Engine workloads get credentials only from Code Engine secrets, never as literal environment values",
            id="CKV_IAMWATCH_IBM_2",
            categories=[CheckCategories.SECRETS],
            supported_resources=["ibm_code_engine_app", "ibm_code_engine_job", "ibm_code_engine_function"],
        )

    def scan_resource_conf(self, conf):
        self.evaluated_keys = ["run_env_variables"]
        for i, env in enumerate(conf.get("run_env_variables") or []):
            if not isinstance(env, dict):
                continue
            kind = str(_first(env.get("type")) or "literal")
            name = str(_first(env.get("name")) or "")
            value = _first(env.get("value"))
            if kind in SECRET_TYPES:
                # A reference carries no value of its own.
                if value not in (None, ""):
                    self.evaluated_keys = [f"run_env_variables/[{i}]/value"]
                    return CheckResult.FAILED
                continue
            if SECRET_NAME.search(name):
                self.evaluated_keys = [f"run_env_variables/[{i}]/type"]
                return CheckResult.FAILED
            if value is not None and SECRET_SOURCE.search(str(value)):
                self.evaluated_keys = [f"run_env_variables/[{i}]/value"]
                return CheckResult.FAILED
        return CheckResult.PASSED


check = CodeEngineSecretsOnlyByReference()
