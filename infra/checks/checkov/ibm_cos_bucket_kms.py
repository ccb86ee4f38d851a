"""An IBM Cloud Object Storage bucket must be encrypted with a customer root key (Key Protect or
Hyper Protect Crypto Services) through `kms_key_crn` (or its older name `key_protect`); COS's
own default encryption leaves key rotation, revocation and crypto-shredding out of reach."""

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

# A key reference: a Key Protect / HPCS key resource or data source, a variable or local that
# holds a key CRN, or a literal key CRN (kms = Key Protect, hs-crypto = HPCS).
KEY_REFERENCES = ("ibm_kms_key.", "data.ibm_kms_key", "data.ibm_kms_keys", "ibm_hpcs_", "var.", "local.", "module.")
KEY_CRN_SERVICES = (":kms:", ":hs-crypto:")


def _values(conf, name):
    value = conf.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    return value


class CosBucketEncryptedWithCustomerKey(BaseResourceCheck):
    def __init__(self):
        super().__init__(
            name="Ensure IBM Cloud Object Storage buckets are encrypted with a Key Protect or HPCS root key",
            id="CKV_IAMWATCH_IBM_1",
            categories=[CheckCategories.ENCRYPTION],
            supported_resources=["ibm_cos_bucket"],
        )

    def scan_resource_conf(self, conf):
        for attribute in ("kms_key_crn", "key_protect"):
            value = _values(conf, attribute)
            if value is None:
                continue
            self.evaluated_keys = [attribute]
            text = str(value).strip()
            if text.startswith("${") and text.endswith("}"):
                text = text[2:-1]
            if any(text.startswith(p) for p in KEY_REFERENCES) or (
                text.startswith("crn:") and any(s in text for s in KEY_CRN_SERVICES)
            ):
                return CheckResult.PASSED
            return CheckResult.FAILED
        self.evaluated_keys = ["kms_key_crn"]
        return CheckResult.FAILED


check = CosBucketEncryptedWithCustomerKey()
