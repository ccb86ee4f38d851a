# Activity Tracker Event Routing -> Object Storage bucket (encrypted with a Key Protect key)
# -> COS subscription -> the iamwatch Code Engine app (app.tf) -> Amazon SNS.

data "ibm_resource_group" "group" {
  name = var.resource_group
}

# Bucket names are global across IBM Cloud.
resource "random_string" "bucket_suffix" {
  length  = 8
  lower   = true
  upper   = false
  numeric = true
  special = false
}

# ---------------------------------------------------------------- Key Protect

resource "ibm_resource_instance" "kms" {
  name              = "${var.prefix}-kms"
  service           = "kms"
  plan              = "tiered-pricing"
  location          = var.region
  resource_group_id = data.ibm_resource_group.group.id
}

# The root key the bucket's objects are encrypted with.
resource "ibm_kms_key" "events" {
  instance_id  = ibm_resource_instance.kms.guid
  key_name     = "${var.prefix}-activity-tracker"
  standard_key = false
  force_delete = false
}

resource "ibm_kms_key_policies" "events" {
  instance_id = ibm_resource_instance.kms.guid
  key_id      = ibm_kms_key.events.key_id

  rotation {
    enabled        = true
    interval_month = 3
  }
}

# ---------------------------------------------------------------- Object Storage

resource "ibm_resource_instance" "cos" {
  name              = "${var.prefix}-cos"
  service           = "cloud-object-storage"
  plan              = "standard"
  location          = "global"
  resource_group_id = data.ibm_resource_group.group.id
}

# COS may use the key (only this key's instance, read only: wrap and unwrap).
resource "ibm_iam_authorization_policy" "cos_reads_key" {
  source_service_name         = "cloud-object-storage"
  source_resource_instance_id = ibm_resource_instance.cos.guid
  target_service_name         = "kms"
  target_resource_instance_id = ibm_resource_instance.kms.guid
  roles                       = ["Reader"]
}

# Regional, in the project's region: COS subscriptions take nothing else.
resource "ibm_cos_bucket" "events" {
  bucket_name          = "${var.prefix}-activity-tracker-${random_string.bucket_suffix.result}"
  resource_instance_id = ibm_resource_instance.cos.id
  region_location      = var.region
  storage_class        = "smart"
  kms_key_crn          = ibm_kms_key.events.crn

  expire_rule {
    rule_id = "expire-events"
    enable  = true
    days    = var.event_retention_days
  }

  depends_on = [ibm_iam_authorization_policy.cos_reads_key]
}

# ---------------------------------------------------------------- Activity Tracker Event Routing

# Event Routing writes to the bucket as a service (no API key to keep).
resource "ibm_iam_authorization_policy" "atracker_writes_bucket" {
  source_service_name         = "atracker"
  target_service_name         = "cloud-object-storage"
  target_resource_instance_id = ibm_resource_instance.cos.guid
  roles                       = ["Object Writer"]
}

resource "ibm_atracker_target" "events" {
  name        = "${var.prefix}-cos"
  target_type = "cloud_object_storage"
  region      = var.region

  cos_endpoint {
    endpoint                   = "s3.private.${var.region}.cloud-object-storage.appdomain.cloud"
    target_crn                 = ibm_resource_instance.cos.crn
    bucket                     = ibm_cos_bucket.events.bucket_name
    service_to_service_enabled = true
  }

  depends_on = [ibm_iam_authorization_policy.atracker_writes_bucket]
}

# `global` carries IAM, account, billing and other global services' events: without it no
# login or IAM change would ever reach iamwatch.
resource "ibm_atracker_route" "events" {
  name = "${var.prefix}-route"

  rules {
    target_ids = [ibm_atracker_target.events.id]
    locations  = distinct(concat(["global", var.region], var.extra_event_locations))
  }

  lifecycle {
    create_before_destroy = true
  }
}

# ---------------------------------------------------------------- the app's read access

# The app reads event files through COS's S3 API with HMAC keys. The service ID behind them
# holds Object Reader on this Object Storage instance only, which holds only the events bucket.
resource "ibm_iam_service_id" "reader" {
  name        = "${var.prefix}-cos-reader"
  description = "iamwatch: reads Activity Tracker event files from ${ibm_cos_bucket.events.bucket_name}"
}

resource "ibm_resource_key" "reader" {
  name                 = "${var.prefix}-cos-reader"
  resource_instance_id = ibm_resource_instance.cos.id
  role                 = "Object Reader"
  parameters = {
    HMAC          = true
    serviceid_crn = ibm_iam_service_id.reader.crn
  }
}

# ---------------------------------------------------------------- the account's IAM allowlist

# From the same list as the app's IAMWATCH_ALLOWLIST_IAM (app.tf): the two never drift.
resource "ibm_iam_account_settings" "allowlist" {
  # This resource owns one account setting, the IP allowlist; the others stay the account
  # owner's, and setting them here would silently override the owner's choice on every apply:
  # checkov:skip=CKV2_IBM_3:API key creation restrictions are account policy, not this deployment's
  # checkov:skip=CKV2_IBM_4:MFA enforcement is account policy, not this deployment's
  # checkov:skip=CKV2_IBM_5:service ID creation restrictions are account policy, not this deployment's
  count                = var.manage_account_ip_allowlist ? 1 : 0
  allowed_ip_addresses = local.iam_allowlist
}

locals {
  iam_allowlist = join(",", var.iam_allowed_ip_addresses)
}
