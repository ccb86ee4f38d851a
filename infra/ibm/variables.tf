# ---------------------------------------------------------------- where

variable "region" {
  description = "IBM Cloud region of the Code Engine project, the Object Storage bucket and the Key Protect instance (a COS subscription needs the bucket in the project's region)."
  type        = string
  default     = "us-south"
}

variable "resource_group" {
  description = "Resource group the instances are created in."
  type        = string
  default     = "Default"
}

variable "prefix" {
  description = "Prefix of every name this configuration creates."
  type        = string
  default     = "iamwatch"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.prefix))
    error_message = "prefix: 3 to 32 lowercase letters, digits and dashes, starting with a letter."
  }
}

# ---------------------------------------------------------------- Activity Tracker Event Routing

variable "extra_event_locations" {
  description = "Locations whose events the route sends to the bucket, besides global (IAM, account and billing events) and var.region."
  type        = list(string)
  default     = []
}

variable "event_retention_days" {
  description = "Days the Activity Tracker event files are kept in the bucket."
  type        = number
  default     = 90

  validation {
    condition     = var.event_retention_days >= 1
    error_message = "event_retention_days must be 1 or more."
  }
}

# ---------------------------------------------------------------- the app

variable "image" {
  description = "Image of the ibm-activity-tracker app, built from functions/ibm-activity-tracker/Containerfile (e.g. us.icr.io/NAMESPACE/iamwatch:TAG)."
  type        = string
}

variable "registry_api_key" {
  description = "IBM Cloud API key that may pull the image from IBM Cloud Container Registry (kept only as a Code Engine registry secret); blank for a public image."
  type        = string
  default     = ""
  sensitive   = true
}

variable "app_visibility" {
  description = "Who can reach the app: local_public (a public URL; needed for webhook senders outside IBM Cloud), local_private (private endpoints) or local (inside the project only, enough for the COS subscription)."
  type        = string
  default     = "local_public"

  validation {
    condition     = contains(["local_public", "local_private", "local"], var.app_visibility)
    error_message = "app_visibility: local_public, local_private or local."
  }
}

variable "max_instances" {
  description = "Most app instances running at once (it scales to zero when idle)."
  type        = number
  default     = 5
}

variable "max_body_bytes" {
  description = "IAMWATCH_MAX_BODY_BYTES: largest request body the app accepts."
  type        = number
  default     = 16777216
}

# ---------------------------------------------------------------- detection settings

variable "builtin_packs" {
  description = "IAMWATCH_BUILTIN_PACKS: built-in packs to run: all, none, or comma-separated names."
  type        = string
  default     = "all"
}

variable "min_severity" {
  description = "IAMWATCH_MIN_SEVERITY: findings below it are neither counted as alerts nor sent."
  type        = string
  default     = "medium"

  validation {
    condition     = contains(["info", "low", "medium", "high", "critical"], var.min_severity)
    error_message = "min_severity: info, low, medium, high or critical."
  }
}

variable "iam_allowed_ip_addresses" {
  description = "The account's IAM allowed IP addresses and networks. Feeds IAMWATCH_ALLOWLIST_IAM and, with manage_account_ip_allowlist, the account setting itself, so the two never drift."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.iam_allowed_ip_addresses : can(regex("^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$", a))])
    error_message = "iam_allowed_ip_addresses: IPv4 or IPv6 addresses or CIDR networks."
  }
}

variable "manage_account_ip_allowlist" {
  description = "Also set the account's IAM allowed IP addresses (ibm_iam_account_settings) from iam_allowed_ip_addresses. Account-wide: logins from anywhere else are refused."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------- alert delivery (Amazon SNS)

variable "aws_topic_arn" {
  description = "IAMWATCH_TOPIC_ARN: the SNS topic of the AWS stack (output AlertTopicArn); its region becomes AWS_REGION."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_.-]+$", var.aws_topic_arn))
    error_message = "aws_topic_arn: an SNS topic ARN such as arn:aws:sns:us-east-1:111122223333:iamwatch-AlertTopic-X."
  }
}

variable "aws_state_table" {
  description = "IAMWATCH_STATE_TABLE: the AWS stack's DynamoDB state table (output StateTableName), blank to keep windows in the app's memory."
  type        = string
  default     = ""
}

variable "aws_access_key_id" {
  description = "Access key of the AWS IAM user the app publishes with (attach the AWS stack's ExternalPublisherPolicy to it). Stored only as a Code Engine secret."
  type        = string
  sensitive   = true
}

variable "aws_secret_access_key" {
  description = "Secret key of that user. Stored only as a Code Engine secret."
  type        = string
  sensitive   = true
}

variable "exceptions" {
  description = "IAMWATCH_EXCEPTIONS: exceptions for known automation as inline JSON ({\"exceptions\": [...]}, docs/noise.md); blank for none."
  type        = string
  default     = ""
}

variable "account_names" {
  description = "IAMWATCH_ACCOUNT_NAMES: account names for the alerts as inline JSON ({\"<32-hex account id>\": \"ibm-prod\"}); blank for none."
  type        = string
  default     = ""
}
