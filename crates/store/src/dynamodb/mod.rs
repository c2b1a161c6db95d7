//! The production store: one DynamoDB table. Its items, keys, indexes and
//! access patterns are described once, in docs/dynamodb.md; the table's
//! definition is `crates/store/table.json` (shared with infra/).
//!
//! The order item carries a copy of each of its attempts, written in the same
//! transaction as the attempt's own item, so one strongly consistent GetItem
//! reads an order with all its attempts (what the thank-you page polls). The
//! attempt items stay the source the indexes are built from.

mod errors;
mod items;
mod operators;
mod outbox;
mod stock;
mod table;

use crate::records::{StoredAttempt, StoredOrder, StoredOutboxEntry};
use async_trait::async_trait;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, Put, ScalarAttributeType, TimeToLiveSpecification,
    TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;
use checkout::{
    unix_millis, ArticleId, AttemptId, AttemptWrite, AuditEntry, Cause, CheckoutKey,
    CheckoutRecord, Event, OperatorSessions, Order, OrderCursor, OrderId, OrderRecord, OrdersPage,
    OutboxCursor, OutboxEntry, PaymentAttempt, ProviderPaymentId, SessionsEnd, StockLevels,
    StockSetting, Store, StoreError,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use time::OffsetDateTime;

use errors::*;
use items::*;
pub use items::{OPEN_ATTEMPTS_INDEX, ORDERS_BY_TIME_INDEX, TTL_ATTRIBUTE};
pub use outbox::OUTBOX_INDEX;
pub use table::TableSetup;

#[derive(Clone)]
pub struct DynamoDbStore {
    client: Client,
    table: String,
}

impl DynamoDbStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// A client from the standard AWS credential chain (environment, profile,
    /// instance role), optionally against another endpoint (moto server).
    pub async fn client_from_env(endpoint_url: Option<&str>) -> Client {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(url) = endpoint_url {
            loader = loader.endpoint_url(url);
        }
        Client::new(&loader.load().await)
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Every item of partition `pk`, in sort key order, read strongly
    /// consistently, all pages.
    async fn partition(&self, pk: String) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start_key = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(pk.clone()))
                .set_exclusive_start_key(start_key)
                .send()
                .await
                .map_err(sdk_unavailable)?;
            start_key = page.last_evaluated_key().cloned();
            items.extend(page.items.unwrap_or_default());
            if start_key.is_none() {
                return Ok(items);
            }
        }
    }
}

#[async_trait]
impl Store for DynamoDbStore {
    async fn create_order(
        &self,
        order: &Order,
        attempt: &PaymentAttempt,
        checkout: &CheckoutRecord,
    ) -> Result<(), StoreError> {
        let new = "attribute_not_exists(pk)";
        // TTL deletes lazily: an expired key may still be there.
        let new_or_expired = "attribute_not_exists(pk) OR expires_at < :now";
        let checkout_put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(checkout_item(checkout)?))
            .condition_expression(new_or_expired)
            .expression_attribute_values(
                ":now",
                AttributeValue::N(OffsetDateTime::now_utc().unix_timestamp().to_string()),
            )
            .build()
            .map_err(unavailable)?;
        let mut transaction = self
            .client
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .put(put(
                        &self.table,
                        order_item_with_copy(order, attempt)?,
                        new,
                    )?)
                    .build(),
            )
            .transact_items(
                TransactWriteItem::builder()
                    .put(put(&self.table, attempt_item(attempt)?, new)?)
                    .build(),
            )
            .transact_items(TransactWriteItem::builder().put(checkout_put).build());
        // After the three above: a failed condition from here on is stock.
        let takes = checkout::stock::take_all(attempt.stock());
        for item in stock::stock_items(&self.table, &takes)? {
            transaction = transaction.transact_items(item);
        }
        transaction
            .send()
            .await
            .map(|_| ())
            .map_err(|e| stock_transaction_error(e, StoreError::AlreadyExists, 3))
    }

    async fn find_checkout(&self, key: &CheckoutKey) -> Result<Option<CheckoutRecord>, StoreError> {
        let found = self
            .client
            .get_item()
            .table_name(&self.table)
            .consistent_read(true)
            .key("pk", AttributeValue::S(checkout_pk(key)))
            .key("sk", AttributeValue::S(CHECKOUT_SK.into()))
            .send()
            .await
            .map_err(sdk_unavailable)?;
        let Some(item) = found.item else {
            return Ok(None);
        };
        let item: CheckoutItem = serde_dynamo::from_item(item).map_err(unavailable)?;
        let record = CheckoutRecord {
            key: item.key,
            order_id: item.order_id,
            cart_fingerprint: item.cart_fingerprint,
            expires_at: OffsetDateTime::from_unix_timestamp(item.expires_at)
                .map_err(unavailable)?,
        };
        Ok((!record.is_expired(OffsetDateTime::now_utc())).then_some(record))
    }

    async fn add_attempt(&self, order: &Order, attempt: &PaymentAttempt) -> Result<(), StoreError> {
        let expected = order.version().saturating_sub(1);
        // An update, not a put: the item keeps the other attempts' copies.
        // Without the shopper's address: it never changes after checkout,
        // and an erasure (which keeps the version) must not be undone by
        // an order read before it.
        let mut item = order_item(order)?;
        item.remove("shopper_email");
        let (mut clauses, mut names, mut values) = set_all(item);
        clauses.push("#copy = :copy".into());
        names.insert("#copy".into(), attempt_copy_name(attempt.id()));
        values.insert(":copy".into(), attempt_copy(attempt)?);
        names.insert("#version".into(), "version".into());
        values.insert(":expected".into(), AttributeValue::N(expected.to_string()));
        let order_update = Update::builder()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(order_pk(order.id())))
            .key("sk", AttributeValue::S(ORDER_SK.into()))
            .update_expression(format!("SET {}", clauses.join(", ")))
            .condition_expression("#version = :expected")
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(unavailable)?;
        let mut transaction = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(order_update).build())
            .transact_items(
                TransactWriteItem::builder()
                    .put(put(
                        &self.table,
                        attempt_item(attempt)?,
                        "attribute_not_exists(pk)",
                    )?)
                    .build(),
            );
        // After the two above: a failed condition from here on is stock.
        let takes = checkout::stock::take_all(attempt.stock());
        for item in stock::stock_items(&self.table, &takes)? {
            transaction = transaction.transact_items(item);
        }
        transaction
            .send()
            .await
            .map(|_| ())
            .map_err(|e| stock_transaction_error(e, StoreError::Conflict, 2))
    }

    async fn load_order(&self, id: &OrderId) -> Result<Option<OrderRecord>, StoreError> {
        let found = self
            .client
            .get_item()
            .table_name(&self.table)
            .consistent_read(true)
            .key("pk", AttributeValue::S(order_pk(id)))
            .key("sk", AttributeValue::S(ORDER_SK.into()))
            .send()
            .await
            .map_err(sdk_unavailable)?;
        let Some(item) = found.item else {
            return Ok(None);
        };
        order_from_item(item).map(Some)
    }

    async fn load_attempt(
        &self,
        order_id: &OrderId,
        attempt_id: &AttemptId,
    ) -> Result<Option<PaymentAttempt>, StoreError> {
        let found = self
            .client
            .get_item()
            .table_name(&self.table)
            .consistent_read(true)
            .key("pk", AttributeValue::S(order_pk(order_id)))
            .key("sk", AttributeValue::S(attempt_sk(attempt_id)))
            .send()
            .await
            .map_err(sdk_unavailable)?;
        found
            .item
            .map(|item| {
                serde_dynamo::from_item::<_, AttemptItem>(item)
                    .map(|i| PaymentAttempt::from(i.attempt))
                    .map_err(unavailable)
            })
            .transpose()
    }

    async fn update_attempt(&self, write: &AttemptWrite) -> Result<(), StoreError> {
        let next = write.next();
        let expected_version = next.version().saturating_sub(1);
        let attempt_put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(attempt_item(next)?))
            .condition_expression("version = :expected")
            .expression_attribute_values(
                ":expected",
                AttributeValue::N(expected_version.to_string()),
            )
            .build()
            .map_err(unavailable)?;
        // The order's copy, in the same transaction: the two never differ.
        let copy_update = Update::builder()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(order_pk(next.order_id())))
            .key("sk", AttributeValue::S(ORDER_SK.into()))
            .update_expression("SET #copy = :copy")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#copy", attempt_copy_name(next.id()))
            .expression_attribute_values(":copy", attempt_copy(next)?)
            .build()
            .map_err(unavailable)?;
        let mut transaction = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(attempt_put).build())
            .transact_items(TransactWriteItem::builder().update(copy_update).build());
        if let Some(provider_payment_id) = &next.provider_payment_id() {
            // One provider payment belongs to one attempt, ever.
            let lookup = Update::builder()
                .table_name(&self.table)
                .key("pk", AttributeValue::S(payment_pk(provider_payment_id)))
                .key("sk", AttributeValue::S(PAYMENT_SK.into()))
                .update_expression("SET order_id = :order, attempt_id = :attempt")
                .condition_expression("attribute_not_exists(pk) OR attempt_id = :attempt")
                .expression_attribute_values(
                    ":order",
                    AttributeValue::S(next.order_id().to_string()),
                )
                .expression_attribute_values(":attempt", AttributeValue::S(next.id().to_string()))
                .build()
                .map_err(unavailable)?;
            transaction =
                transaction.transact_items(TransactWriteItem::builder().update(lookup).build());
        }
        // The outbox, in the same transaction: an event is written if and
        // only if its change is.
        let mut items = 2 + usize::from(next.provider_payment_id().is_some());
        for event in write.events() {
            let insert = outbox::new_event_update(&self.table, event)?;
            transaction =
                transaction.transact_items(TransactWriteItem::builder().update(insert).build());
            items += 1;
        }
        // And its stock moves: a failed condition from here on is stock.
        for item in stock::stock_items(&self.table, write.stock())? {
            transaction = transaction.transact_items(item);
        }
        transaction
            .send()
            .await
            .map(|_| ())
            .map_err(|e| stock_transaction_error(e, StoreError::Conflict, items))
    }

    async fn pending_outbox(
        &self,
        after: Option<&OutboxCursor>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        self.query_pending_outbox(after, limit).await
    }

    async fn order_outbox(&self, order_id: &OrderId) -> Result<Vec<OutboxEntry>, StoreError> {
        self.query_order_outbox(order_id).await
    }

    async fn update_outbox(&self, next: &OutboxEntry) -> Result<(), StoreError> {
        self.put_outbox(next).await
    }

    async fn stock_levels(&self, articles: &[ArticleId]) -> Result<StockLevels, StoreError> {
        self.read_stock_levels(articles).await
    }

    async fn set_stock(&self, setting: &StockSetting) -> Result<(), StoreError> {
        self.write_stock_setting(setting).await
    }

    async fn stock_log(&self, limit: usize) -> Result<Vec<StockSetting>, StoreError> {
        self.read_stock_log(limit).await
    }

    async fn seed_stock(&self, article: &ArticleId, available: u32) -> Result<bool, StoreError> {
        self.put_new_stock(article, available).await
    }

    async fn erase_personal_data(&self, order: &Order) -> Result<(), StoreError> {
        self.remove_personal_data(order).await
    }

    async fn due_attempts(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<PaymentAttempt>, StoreError> {
        let mut due = Vec::new();
        // The index is eventually consistent: an attempt that just became
        // final may still be listed; refreshing it again changes nothing.
        for shard in 0..OPEN_SHARDS {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(OPEN_ATTEMPTS_INDEX)
                .key_condition_expression("open_shard = :shard AND due_at <= :now")
                .expression_attribute_values(":shard", AttributeValue::S(format!("OPEN#{shard}")))
                .expression_attribute_values(
                    ":now",
                    AttributeValue::N(unix_millis(now).to_string()),
                )
                .limit(i32::try_from(limit).unwrap_or(i32::MAX))
                .send()
                .await
                .map_err(sdk_unavailable)?;
            for item in page.items() {
                let parsed: AttemptItem =
                    serde_dynamo::from_item(item.clone()).map_err(unavailable)?;
                due.push(PaymentAttempt::from(parsed.attempt));
            }
        }
        due.sort_by_key(PaymentAttempt::due_at);
        due.truncate(limit);
        Ok(due)
    }

    async fn find_attempt_by_provider_payment(
        &self,
        provider_payment_id: &ProviderPaymentId,
    ) -> Result<Option<PaymentAttempt>, StoreError> {
        let lookup = self
            .client
            .get_item()
            .table_name(&self.table)
            .consistent_read(true)
            .key("pk", AttributeValue::S(payment_pk(provider_payment_id)))
            .key("sk", AttributeValue::S(PAYMENT_SK.into()))
            .send()
            .await
            .map_err(sdk_unavailable)?;
        let Some(item) = lookup.item else {
            return Ok(None);
        };
        let found: PaymentLookupItem = serde_dynamo::from_item(item).map_err(unavailable)?;
        self.load_attempt(&found.order_id, &found.attempt_id).await
    }

    async fn recent_orders(
        &self,
        after: Option<&OrderCursor>,
        limit: usize,
    ) -> Result<OrdersPage, StoreError> {
        // One more than asked: whether there is a next page.
        let wanted = limit.saturating_add(1);
        let mut orders = Vec::new();
        let mut month = Month::of(after.map_or_else(OffsetDateTime::now_utc, |c| c.created_at));
        let mut below = after.map(orders_by_time_sk);
        let mut empty_months = 0;
        while orders.len() < wanted && empty_months < EMPTY_MONTHS_BEFORE_GIVING_UP {
            let found_before = orders.len();
            let mut start_key = None;
            loop {
                let remaining = wanted - orders.len();
                let mut query = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .index_name(ORDERS_BY_TIME_INDEX)
                    .expression_attribute_values(":month", AttributeValue::S(month.partition()))
                    .scan_index_forward(false)
                    .limit(i32::try_from(remaining).unwrap_or(i32::MAX))
                    .set_exclusive_start_key(start_key);
                query = match &below {
                    Some(sk) => query
                        .key_condition_expression("gsi2pk = :month AND gsi2sk < :below")
                        .expression_attribute_values(":below", AttributeValue::S(sk.clone())),
                    None => query.key_condition_expression("gsi2pk = :month"),
                };
                let page = query.send().await.map_err(sdk_unavailable)?;
                for item in page.items() {
                    let parsed: OrderItem =
                        serde_dynamo::from_item(item.clone()).map_err(unavailable)?;
                    orders.push(Order::from(parsed.order));
                }
                start_key = page.last_evaluated_key().cloned();
                if start_key.is_none() || orders.len() >= wanted {
                    break;
                }
            }
            empty_months = if orders.len() == found_before {
                empty_months + 1
            } else {
                0
            };
            month = month.before();
            below = None;
        }
        Ok(OrdersPage::of_newest(orders, limit))
    }

    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let item = serde_dynamo::to_item(AuditItem {
            pk: audit_pk(&entry.order_id),
            sk: format!(
                "AT#{:013}#{}",
                unix_millis(entry.at),
                uuid::Uuid::new_v4().simple()
            ),
            entry: entry.clone(),
        })
        .map_err(unavailable)?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map(|_| ())
            .map_err(sdk_unavailable)
    }

    async fn audit_log(&self, order_id: &OrderId) -> Result<Vec<AuditEntry>, StoreError> {
        self.partition(audit_pk(order_id))
            .await?
            .into_iter()
            .map(|item| {
                serde_dynamo::from_item::<_, AuditItem>(item)
                    .map(|i| i.entry)
                    .map_err(unavailable)
            })
            .collect()
    }

    async fn count_sign_in_attempt(
        &self,
        key: &str,
        now: OffsetDateTime,
        window: std::time::Duration,
    ) -> Result<u32, StoreError> {
        self.count_sign_in(key, now, window).await
    }

    async fn forgive_sign_in_attempt(
        &self,
        key: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.forgive_sign_in(key, now).await
    }

    async fn end_operator_sessions(
        &self,
        operator: &str,
        at: OffsetDateTime,
        why: SessionsEnd,
    ) -> Result<(), StoreError> {
        self.end_sessions(operator, at, why).await
    }

    async fn operator_sessions(&self, operator: &str) -> Result<OperatorSessions, StoreError> {
        self.sessions_of(operator).await
    }
}
