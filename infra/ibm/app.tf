# The ibm-activity-tracker app in Code Engine: settings as literals, credentials only as
# Code Engine secrets referenced by key (never a plain environment value).

resource "ibm_code_engine_project" "iamwatch" {
  name              = var.prefix
  resource_group_id = data.ibm_resource_group.group.id
}

# The bearer token every request but GET /healthz carries (the handler wants 16 characters or
# more; this is 48).
resource "random_password" "webhook" {
  length  = 48
  special = false
}

# Pulls the image from a private registry (IBM Cloud Container Registry: user iamapikey).
resource "ibm_code_engine_secret" "registry" {
  count      = var.registry_api_key != "" ? 1 : 0
  project_id = ibm_code_engine_project.iamwatch.project_id
  name       = "${var.prefix}-registry"
  format     = "registry"
  data = {
    server   = split("/", var.image)[0]
    username = "iamapikey"
    password = var.registry_api_key
    email    = "iamwatch@example.com" # required by the format, unused by the registry
  }
}

resource "ibm_code_engine_secret" "webhook" {
  project_id = ibm_code_engine_project.iamwatch.project_id
  name       = "${var.prefix}-webhook"
  format     = "generic"
  data = {
    token = random_password.webhook.result
  }
}

resource "ibm_code_engine_secret" "cos_hmac" {
  project_id = ibm_code_engine_project.iamwatch.project_id
  name       = "${var.prefix}-cos-hmac"
  format     = "generic"
  data = {
    access_key_id     = ibm_resource_key.reader.credentials["cos_hmac_keys.access_key_id"]
    secret_access_key = ibm_resource_key.reader.credentials["cos_hmac_keys.secret_access_key"]
  }
}

resource "ibm_code_engine_secret" "aws" {
  project_id = ibm_code_engine_project.iamwatch.project_id
  name       = "${var.prefix}-aws"
  format     = "generic"
  data = {
    access_key_id     = var.aws_access_key_id
    secret_access_key = var.aws_secret_access_key
  }
}

locals {
  # Optional settings: set only when given (a blank value means the handler's default).
  optional_app_env = {
    for name, value in {
      IAMWATCH_STATE_TABLE   = var.aws_state_table
      IAMWATCH_ALLOWLIST_IAM = local.iam_allowlist
      IAMWATCH_EXCEPTIONS    = var.exceptions
      IAMWATCH_ACCOUNT_NAMES = var.account_names
    } : name => value if value != ""
  }
}

resource "ibm_code_engine_app" "iamwatch" {
  project_id              = ibm_code_engine_project.iamwatch.project_id
  name                    = var.prefix
  image_reference         = var.image
  image_secret            = one(ibm_code_engine_secret.registry[*].name)
  image_port              = 8080
  managed_domain_mappings = var.app_visibility

  # RSS stays under 20 MB; 0.25 vCPU with 0.5 GB is Code Engine's smallest combination.
  scale_cpu_limit               = "0.25"
  scale_memory_limit            = "0.5G"
  scale_ephemeral_storage_limit = "400M"
  scale_min_instances           = 0
  scale_max_instances           = var.max_instances
  scale_concurrency             = 10
  # The handler stops starting events after 270 s and answers before this.
  scale_request_timeout = 300

  probe_readiness {
    type = "http"
    path = "/healthz"
    port = 8080
  }

  probe_liveness {
    type     = "http"
    path     = "/healthz"
    port     = 8080
    interval = 30
  }

  # ---- settings
  run_env_variables {
    type  = "literal"
    name  = "IAMWATCH_TOPIC_ARN"
    value = var.aws_topic_arn
  }
  run_env_variables {
    type  = "literal"
    name  = "AWS_REGION"
    value = element(split(":", var.aws_topic_arn), 3)
  }
  run_env_variables {
    type  = "literal"
    name  = "IAMWATCH_MIN_SEVERITY"
    value = var.min_severity
  }
  run_env_variables {
    type  = "literal"
    name  = "IAMWATCH_BUILTIN_PACKS"
    value = var.builtin_packs
  }
  run_env_variables {
    type  = "literal"
    name  = "IAMWATCH_MAX_BODY_BYTES"
    value = tostring(var.max_body_bytes)
  }
  # The direct endpoint: Code Engine reaches COS over IBM's private network.
  run_env_variables {
    type  = "literal"
    name  = "IAMWATCH_COS_ENDPOINT"
    value = "https://s3.direct.${var.region}.cloud-object-storage.appdomain.cloud"
  }
  dynamic "run_env_variables" {
    for_each = local.optional_app_env
    content {
      type  = "literal"
      name  = run_env_variables.key
      value = run_env_variables.value
    }
  }

  # ---- credentials
  run_env_variables {
    type      = "secret_key_reference"
    name      = "IAMWATCH_WEBHOOK_SECRET"
    reference = ibm_code_engine_secret.webhook.name
    key       = "token"
  }
  run_env_variables {
    type      = "secret_key_reference"
    name      = "IAMWATCH_COS_ACCESS_KEY_ID"
    reference = ibm_code_engine_secret.cos_hmac.name
    key       = "access_key_id"
  }
  run_env_variables {
    type      = "secret_key_reference"
    name      = "IAMWATCH_COS_SECRET_ACCESS_KEY"
    reference = ibm_code_engine_secret.cos_hmac.name
    key       = "secret_access_key"
  }
  run_env_variables {
    type      = "secret_key_reference"
    name      = "AWS_ACCESS_KEY_ID"
    reference = ibm_code_engine_secret.aws.name
    key       = "access_key_id"
  }
  run_env_variables {
    type      = "secret_key_reference"
    name      = "AWS_SECRET_ACCESS_KEY"
    reference = ibm_code_engine_secret.aws.name
    key       = "secret_access_key"
  }
}

# ---------------------------------------------------------------- COS subscription

# Code Engine may manage the bucket's notifications (only on this Object Storage instance).
resource "ibm_iam_authorization_policy" "codeengine_cos_notifications" {
  source_service_name         = "codeengine"
  source_resource_instance_id = ibm_code_engine_project.iamwatch.project_id
  target_service_name         = "cloud-object-storage"
  target_resource_instance_id = ibm_resource_instance.cos.guid
  roles                       = ["Notifications Manager"]
}

# The IBM provider has no resource for Code Engine subscriptions (terraform-provider-ibm issue
# 5231): the subscription is created with the CLI command in output cos_subscription_command
# (docs/deploy.md), after `terraform apply`.
