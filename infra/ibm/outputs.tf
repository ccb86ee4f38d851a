output "project_id" {
  description = "Code Engine project of the app"
  value       = ibm_code_engine_project.iamwatch.project_id
}

output "app_name" {
  description = "Code Engine app (ibmcloud ce app get --name ...)"
  value       = ibm_code_engine_app.iamwatch.name
}

output "app_url" {
  description = "The app's URL (POST events here with Authorization: Bearer <webhook_secret>)"
  value       = ibm_code_engine_app.iamwatch.endpoint
}

output "bucket_name" {
  description = "Bucket Activity Tracker Event Routing writes event files to"
  value       = ibm_cos_bucket.events.bucket_name
}

output "route_locations" {
  description = "Locations whose events are routed to the bucket (always includes global)"
  value       = distinct(concat(["global", var.region], var.extra_event_locations))
}

output "webhook_secret" {
  description = "Bearer token the app requires (terraform output -raw webhook_secret)"
  value       = random_password.webhook.result
  sensitive   = true
}

output "cos_subscription_command" {
  description = "Creates the COS subscription that sends each new event file to the app (no Terraform resource exists for it). A subscription cannot set an Authorization header: it sends the webhook token as the CloudEvents extension iamwatchtoken, which the app accepts instead"
  sensitive   = true
  value = join(" ", [
    "ibmcloud ce project select --id ${ibm_code_engine_project.iamwatch.project_id} &&",
    "ibmcloud ce subscription cos create --name ${var.prefix}-events",
    "--destination-type app --destination ${ibm_code_engine_app.iamwatch.name}",
    "--bucket ${ibm_cos_bucket.events.bucket_name} --event-type write",
    "--extension iamwatchtoken=${random_password.webhook.result}",
  ])
}
