"""An Activity Tracker Event Routing route must include the `global` location: IAM, account,
billing and the other global services emit their events there, so a route without it never
delivers a login or an IAM change."""

import re

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

# checkov leaves function calls unevaluated (`distinct(concat(['global', us-south],[]))`):
# there `global` must appear as a quoted list element.
QUOTED_GLOBAL = re.compile(r"""(^|[\[\(,\s])['"]global['"]\s*[,\]\)]""")


def _has_global(locations):
    items = locations if isinstance(locations, list) else [locations]
    for item in items:
        if isinstance(item, list):
            if _has_global(item):
                return True
        elif item == "global":
            return True
        elif isinstance(item, str) and QUOTED_GLOBAL.search(item):
            return True
    return False


class AtrackerRouteIncludesGlobal(BaseResourceCheck):
    def __init__(self):
        super().__init__(
            name="Ensure Activity Tracker Event Routing routes include the global location",
            id="CKV_IAMWATCH_IBM_3",
            categories=[CheckCategories.LOGGING],
            supported_resources=["ibm_atracker_route"],
        )

    def scan_resource_conf(self, conf):
        self.evaluated_keys = ["rules"]
        for rule in conf.get("rules") or []:
            if isinstance(rule, dict) and _has_global(rule.get("locations") or []):
                return CheckResult.PASSED
        return CheckResult.FAILED


check = AtrackerRouteIncludesGlobal()
