//! Account names from AWS Organizations (`IAMWATCH_ORGANIZATION_ACCOUNTS=true`): every account
//! of the organization by `ListAccounts`, read once when a handler starts and kept for its
//! life, so that alerts name the account. It needs `organizations:ListAccounts`, which the
//! management account and a delegated administrator have.

use crate::accounts::AccountNames;
use crate::aws::{describe, SdkConfig};

/// The names of every account of the organization, page after page.
pub async fn account_names(sdk: &SdkConfig) -> Result<AccountNames, String> {
    let client = aws_sdk_organizations::Client::new(sdk);
    let mut pages = client.list_accounts().into_paginator().send();
    let mut pairs = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("ListAccounts: {}", describe(&e)))?;
        for a in page.accounts() {
            if let (Some(id), Some(name)) = (a.id(), a.name()) {
                pairs.push((id.to_string(), name.to_string()));
            }
        }
    }
    AccountNames::from_pairs(pairs).map_err(|e| format!("ListAccounts: {e}"))
}
