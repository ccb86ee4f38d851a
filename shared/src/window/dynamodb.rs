//! The DynamoDB [`WindowStore`]: windows, firings and suppression shared by every concurrent
//! invocation, so that a burst split across invocations still fires exactly once.
//!
//! One table, key `pk` (string) + `sk` (string), TTL on the number attribute `ttl` (epoch
//! seconds). Items:
//!
//! | item | `pk` | `sk` | attributes |
//! |---|---|---|---|
//! | occurrence | `o#<rule>\|<group>` | `<time, 20 digits>#<event id>` | `at` |
//! | hold (firing, quiet period, delivery) | `h#<key>` | `-` | `until`, `owner` |
//! | suppression counter | `c#<key>` | `-` | `n`, `since` |
//!
//! An occurrence's sort key starts with its time, so a window is one `Query` over a key
//! range, and holds the event id, so a retried event writes the same item again and counts
//! once. Holds are taken with conditional writes: of two invocations racing for the same
//! firing, exactly one condition succeeds. Expired items may linger until DynamoDB's TTL
//! sweep removes them; every read compares times itself, so a stale item never counts.
//!
//! The store is synchronous and blocks on a Tokio runtime handle: call it from a thread that
//! is not running async code (the CLI's main thread, or `spawn_blocking` in a handler).

use super::{StoreError, StoreResult, WindowStore};
use crate::aws::describe;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use aws_sdk_dynamodb::Client;
use std::collections::HashMap;
use tokio::runtime::Handle;

/// Occurrences are kept one window beyond their own (late events still see them), and every
/// item an hour beyond that, before DynamoDB's TTL sweep may delete it.
const SLACK_MS: i64 = 3_600_000;
/// Suppression counters live at most as long as the longest period (24 hours) and the slack.
const COUNTER_TTL_MS: i64 = 24 * 3_600_000 + SLACK_MS;

/// Requests made, for the cost figures in the summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Requests {
    pub reads: u64,
    pub writes: u64,
}

pub struct DynamoStore {
    client: Client,
    table: String,
    rt: Handle,
    requests: Requests,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn ttl(ms: i64) -> AttributeValue {
    n(ms.div_euclid(1000) + 1)
}

/// Sort keys order as text: times are written with a fixed width (events before 1970 sort
/// first as 0).
fn time_key(at: i64) -> String {
    format!("{:020}", at.max(0))
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> Option<i64> {
    match item.get(name)? {
        AttributeValue::N(v) => v.parse().ok(),
        _ => None,
    }
}

/// Whether a failed call failed only because its condition did not hold.
fn condition_failed<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    e.code() == Some("ConditionalCheckFailedException")
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>, rt: Handle) -> Self {
        Self {
            client,
            table: table.into(),
            rt,
            requests: Requests::default(),
        }
    }

    /// A client made from `config` (see [`crate::aws::loader`]).
    pub fn from_config(
        config: &aws_config::SdkConfig,
        table: impl Into<String>,
        rt: Handle,
    ) -> Self {
        Self::new(Client::new(config), table, rt)
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn requests(&self) -> Requests {
        self.requests
    }

    fn error<E, R>(&self, op: &str, e: SdkError<E, R>) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        StoreError(format!(
            "DynamoDB {op} on table {}: {}",
            self.table,
            describe(&e)
        ))
    }

    /// A conditional update of hold `key`: whether the condition held.
    fn update_hold(
        &mut self,
        key: &str,
        set: &str,
        condition: &str,
        values: &[(&str, AttributeValue)],
    ) -> StoreResult<bool> {
        self.requests.writes += 1;
        let mut call = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(format!("h#{key}")))
            .key("sk", s("-"))
            .update_expression(set)
            .condition_expression(condition)
            .expression_attribute_names("#u", "until");
        if set.contains("#o") || condition.contains("#o") {
            call = call.expression_attribute_names("#o", "owner");
        }
        if set.contains("#t") {
            call = call.expression_attribute_names("#t", "ttl");
        }
        for (name, value) in values {
            call = call.expression_attribute_values(*name, value.clone());
        }
        match self.rt.block_on(call.send()) {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(self.error("UpdateItem", e)),
        }
    }

    /// Takes hold `key` for `owner` if it is free at `now` or already `owner`'s (never
    /// shortening it); whether `owner` has it now.
    fn take(&mut self, key: &str, owner: &str, until: i64, now: i64) -> StoreResult<bool> {
        let took = self.update_hold(
            key,
            "SET #u = :until, #o = :owner, #t = :ttl",
            "attribute_not_exists(pk) OR #u <= :now OR (#o = :owner AND #u <= :until)",
            &[
                (":until", n(until)),
                (":owner", s(owner)),
                (":now", n(now)),
                (":ttl", ttl(until + SLACK_MS)),
            ],
        )?;
        if took {
            return Ok(true);
        }
        // Held, and longer than `until`: whose is it?
        Ok(self.holder(key, now)?.as_deref() == Some(owner))
    }

    /// Who holds `key` at `now`.
    fn holder(&mut self, key: &str, now: i64) -> StoreResult<Option<String>> {
        self.requests.reads += 1;
        let call = self
            .client
            .get_item()
            .table_name(&self.table)
            .consistent_read(true)
            .key("pk", s(format!("h#{key}")))
            .key("sk", s("-"));
        let item = match self.rt.block_on(call.send()) {
            Ok(out) => out.item,
            Err(e) => return Err(self.error("GetItem", e)),
        };
        Ok(item.and_then(|i| {
            let until = number(&i, "until")?;
            match i.get("owner") {
                Some(AttributeValue::S(o)) if until > now => Some(o.clone()),
                _ => None,
            }
        }))
    }
}

impl WindowStore for DynamoStore {
    fn record(&mut self, key: &str, id: &str, at: i64, expires: i64) -> StoreResult<bool> {
        self.requests.writes += 1;
        let keep_until = expires + (expires - at).max(0) + SLACK_MS;
        let call = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(format!("o#{key}")))
            .item("sk", s(format!("{}#{id}", time_key(at))))
            .item("at", n(at))
            .item("ttl", ttl(keep_until))
            .condition_expression("attribute_not_exists(pk)");
        match self.rt.block_on(call.send()) {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(self.error("PutItem", e)),
        }
    }

    fn occurrences(&mut self, key: &str, from: i64, to: i64) -> StoreResult<Vec<i64>> {
        let mut times = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            self.requests.reads += 1;
            let call = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .key_condition_expression("pk = :pk AND sk BETWEEN :lo AND :hi")
                .expression_attribute_values(":pk", s(format!("o#{key}")))
                // `(from, to]`: from the first id of `from + 1` to the last of `to` ('$'
                // sorts after '#').
                .expression_attribute_values(":lo", s(time_key(from.saturating_add(1))))
                .expression_attribute_values(":hi", s(format!("{}$", time_key(to))))
                .projection_expression("#a")
                .expression_attribute_names("#a", "at")
                .set_exclusive_start_key(start.take());
            let page = match self.rt.block_on(call.send()) {
                Ok(p) => p,
                Err(e) => return Err(self.error("Query", e)),
            };
            times.extend(page.items().iter().filter_map(|i| number(i, "at")));
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(times),
            }
        }
    }

    fn hold(&mut self, key: &str, owner: &str, until: i64, now: i64) -> StoreResult<bool> {
        if self.take(key, owner, until, now)? {
            return Ok(true);
        }
        self.extend(key, until, now)?;
        Ok(false)
    }

    fn extend(&mut self, key: &str, until: i64, now: i64) -> StoreResult<()> {
        self.update_hold(
            key,
            "SET #u = :until, #t = :ttl",
            "attribute_exists(pk) AND #u > :now AND #u < :until",
            &[
                (":until", n(until)),
                (":now", n(now)),
                (":ttl", ttl(until + SLACK_MS)),
            ],
        )
        .map(|_| ())
    }

    fn claim(&mut self, key: &str, owner: &str, until: i64, now: i64) -> StoreResult<bool> {
        self.take(key, owner, until, now)
    }

    fn held(&mut self, key: &str, now: i64) -> StoreResult<bool> {
        Ok(self.holder(key, now)?.is_some())
    }

    fn release(&mut self, key: &str, owner: &str) -> StoreResult<()> {
        self.requests.writes += 1;
        let call = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(format!("h#{key}")))
            .key("sk", s("-"))
            .condition_expression("#o = :owner")
            .expression_attribute_names("#o", "owner")
            .expression_attribute_values(":owner", s(owner));
        match self.rt.block_on(call.send()) {
            Ok(_) => Ok(()),
            // Another owner's (or nobody's): nothing to give back.
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(self.error("DeleteItem", e)),
        }
    }

    fn count(&mut self, key: &str, at: i64) -> StoreResult<()> {
        self.requests.writes += 1;
        let call = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(format!("c#{key}")))
            .key("sk", s("-"))
            .update_expression("ADD #n :one SET #s = if_not_exists(#s, :at), #t = :ttl")
            .expression_attribute_names("#n", "n")
            .expression_attribute_names("#s", "since")
            .expression_attribute_names("#t", "ttl")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":at", n(at))
            .expression_attribute_values(":ttl", ttl(at.max(0) + COUNTER_TTL_MS));
        match self.rt.block_on(call.send()) {
            Ok(_) => Ok(()),
            Err(e) => Err(self.error("UpdateItem", e)),
        }
    }

    fn take_count(&mut self, key: &str) -> StoreResult<Option<(u64, i64)>> {
        self.requests.writes += 1;
        let call = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(format!("c#{key}")))
            .key("sk", s("-"))
            .return_values(ReturnValue::AllOld);
        match self.rt.block_on(call.send()) {
            Ok(out) => Ok(out.attributes().and_then(|a| {
                let count = u64::try_from(number(a, "n")?).ok()?;
                Some((count, number(a, "since")?))
            })),
            Err(e) => Err(self.error("DeleteItem", e)),
        }
    }
}
