//! The production store: one DynamoDB table. Its items, keys, indexes and
//! access patterns are described once, in docs/dynamodb.md; the table's
//! definition is `crates/store/table.json` (shared with infra/).
//!
//! The order item carries a copy of each of its attempts, written in the same
//! transaction as the attempt's own item, so one strongly consistent GetItem
//! reads an order with all its attempts (what the thank-you page polls). The
//! attempt items stay the source the indexes are built from.

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
    unix_millis, AttemptId, AuditEntry, Cause, CheckoutKey, CheckoutRecord, OperatorSessions,
    Order, OrderCursor, OrderId, OrderRecord, OrdersPage, PaymentAttempt, ProviderPaymentId,
    SessionsEnd, Store, StoreError,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use time::OffsetDateTime;

/// Finds an attempt by the provider's payment id.
pub const PROVIDER_PAYMENT_INDEX: &str = "by-provider-payment";
/// Finds attempts that need checks (not final yet, or with a refund not
/// settled), the longest overdue check first (sparse: the others drop out).
pub const OPEN_ATTEMPTS_INDEX: &str = "open-attempts";
/// Open attempts are spread over this many index partitions, so that no one
/// partition takes every write.
const OPEN_SHARDS: u32 = 8;
/// Orders newest first, one index partition per calendar month (the back
/// office's list).
pub const ORDERS_BY_TIME_INDEX: &str = "orders-by-time";
/// The back office's list stops looking further back after this many
/// months in a row without an order.
const EMPTY_MONTHS_BEFORE_GIVING_UP: u32 = 12;
/// Items that carry it (checkout keys) are deleted by DynamoDB's TTL.
pub const TTL_ATTRIBUTE: &str = "expires_at";

type Item = HashMap<String, AttributeValue>;

#[derive(Serialize, Deserialize)]
struct OrderItem {
    pk: String,
    sk: String,
    /// `ORDERS#{yyyy-mm}` of its creation: the orders-by-time partition.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    gsi2pk: Option<String>,
    /// `{unix ms, 13 digits}#{order id}`: newest first within the month.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    gsi2sk: Option<String>,
    #[serde(flatten)]
    order: Order,
}

#[derive(Serialize, Deserialize)]
struct AuditItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    entry: AuditEntry,
}

#[derive(Serialize, Deserialize)]
struct AttemptItem {
    pk: String,
    sk: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    gsi1pk: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    open_shard: Option<String>,
    /// Unix milliseconds of the attempt's next check, the open index's sort key.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    due_at: Option<i64>,
    #[serde(flatten)]
    attempt: PaymentAttempt,
}

#[derive(Serialize, Deserialize)]
struct CheckoutItem {
    pk: String,
    sk: String,
    key: CheckoutKey,
    order_id: OrderId,
    cart_fingerprint: String,
    /// Unix seconds, as DynamoDB's TTL wants it.
    expires_at: i64,
}

const ORDER_SK: &str = "ORDER";
/// The order item's copy of one attempt: `attempt#{attempt id}`.
const ATTEMPT_COPY_PREFIX: &str = "attempt#";
/// Set on order items that carry their attempts' copies (every order created
/// since the copies were introduced); an order item without it is read with
/// a Query of its partition, as before.
const COPIES_MARKER: &str = "attempts_inline";
const CHECKOUT_SK: &str = "CHECKOUT";
/// Rounds of a sign-in failure count racing other processes.
const MAX_COUNT_ROUNDS: usize = 4;
/// The item that maps a provider payment id to its attempt, written in the
/// transaction that records the id: a strongly consistent read finds it at
/// once, where the by-provider-payment index may lag behind the write (a
/// webhook right after checkout would be answered "unknown").
const PAYMENT_SK: &str = "PAYMENT";

/// Failed sign-ins against one key (an account, a client) in a window;
/// DynamoDB's TTL removes the item some time after the window ends.
const SIGN_IN_SK: &str = "SIGNIN";
/// An operator's sessions issued before `valid_after` (unix ms) are ended.
const SESSIONS_SK: &str = "SESSIONS";

fn sign_in_pk(key: &str) -> String {
    format!("SIGNIN#{key}")
}

fn operator_pk(name: &str) -> String {
    format!("OPERATOR#{name}")
}

fn is_conditional_check_failure<E, R>(error: &SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    error
        .as_service_error()
        .and_then(aws_sdk_dynamodb::error::ProvideErrorMetadata::code)
        == Some("ConditionalCheckFailedException")
}

fn number(item: Option<&Item>, name: &str) -> Option<i64> {
    match item?.get(name)? {
        AttributeValue::N(n) => n.parse().ok(),
        _ => None,
    }
}

fn payment_pk(id: &ProviderPaymentId) -> String {
    format!("PAYMENT#{id}")
}

/// What the [`PAYMENT_SK`] item holds besides its key.
#[derive(Deserialize)]
struct PaymentLookupItem {
    order_id: OrderId,
    attempt_id: AttemptId,
}

fn order_pk(id: &OrderId) -> String {
    format!("ORDER#{id}")
}

fn attempt_sk(id: &AttemptId) -> String {
    format!("ATTEMPT#{id}")
}

fn checkout_pk(key: &CheckoutKey) -> String {
    format!("CHECKOUT#{key}")
}

fn audit_pk(id: &OrderId) -> String {
    format!("AUDIT#{id}")
}

/// A calendar month, the orders-by-time index's partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Month {
    year: i32,
    month: u8,
}

impl Month {
    fn of(t: OffsetDateTime) -> Self {
        let t = t.to_offset(time::UtcOffset::UTC);
        Self {
            year: t.year(),
            month: u8::from(t.month()),
        }
    }

    fn before(self) -> Self {
        if self.month == 1 {
            Self {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Self {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    fn partition(self) -> String {
        format!("ORDERS#{:04}-{:02}", self.year, self.month)
    }
}

/// Sorts as the time does (fixed width) and then by id.
fn orders_by_time_sk(cursor: &OrderCursor) -> String {
    format!("{:013}#{}", unix_millis(cursor.created_at), cursor.order_id)
}

fn open_shard(id: &AttemptId) -> String {
    // FNV-1a: stable across processes, unlike the std hasher.
    let hash = id.as_str().bytes().fold(0x811c9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x01000193)
    });
    format!("OPEN#{}", hash % OPEN_SHARDS)
}

fn order_item(order: &Order) -> Result<Item, StoreError> {
    serde_dynamo::to_item(OrderItem {
        pk: order_pk(order.id()),
        sk: ORDER_SK.into(),
        gsi2pk: Some(Month::of(order.created_at()).partition()),
        gsi2sk: Some(orders_by_time_sk(&OrderCursor::of(order))),
        order: order.clone(),
    })
    .map_err(unavailable)
}

fn attempt_copy_name(id: &AttemptId) -> String {
    format!("{ATTEMPT_COPY_PREFIX}{id}")
}

fn attempt_copy(attempt: &PaymentAttempt) -> Result<AttributeValue, StoreError> {
    serde_dynamo::to_attribute_value(attempt).map_err(unavailable)
}

/// An order and its attempts from an order item with copies; `None` for an
/// item written before the copies existed.
fn order_from_item(mut item: Item) -> Result<Option<OrderRecord>, StoreError> {
    if item.remove(COPIES_MARKER).is_none() {
        return Ok(None);
    }
    let copies: Vec<String> = item
        .keys()
        .filter(|name| name.starts_with(ATTEMPT_COPY_PREFIX))
        .cloned()
        .collect();
    let mut attempts = Vec::with_capacity(copies.len());
    for name in copies {
        if let Some(copy) = item.remove(&name) {
            attempts.push(
                serde_dynamo::from_attribute_value::<_, PaymentAttempt>(copy)
                    .map_err(unavailable)?,
            );
        }
    }
    attempts.sort_by_key(|a| a.created_at());
    let order: OrderItem = serde_dynamo::from_item(item).map_err(unavailable)?;
    Ok(Some(OrderRecord {
        order: order.order,
        attempts,
    }))
}

/// `SET` of every attribute of `item` but its key, as an update expression
/// with its names and values (`#n0 = :v0, ...`).
fn set_all(item: Item) -> (Vec<String>, HashMap<String, String>, Item) {
    let (mut clauses, mut names, mut values) = (Vec::new(), HashMap::new(), HashMap::new());
    for (i, (name, value)) in item
        .into_iter()
        .filter(|(name, _)| name != "pk" && name != "sk")
        .enumerate()
    {
        clauses.push(format!("#n{i} = :v{i}"));
        names.insert(format!("#n{i}"), name);
        values.insert(format!(":v{i}"), value);
    }
    (clauses, names, values)
}

fn attempt_item(attempt: &PaymentAttempt) -> Result<Item, StoreError> {
    // In the reconciler's index while the provider owes news of it.
    let open = attempt.needs_checks();
    serde_dynamo::to_item(AttemptItem {
        pk: order_pk(attempt.order_id()),
        sk: attempt_sk(attempt.id()),
        gsi1pk: attempt
            .provider_payment_id()
            .as_ref()
            .map(|id| format!("PAYMENT#{id}")),
        open_shard: open.then(|| open_shard(attempt.id())),
        due_at: open.then(|| unix_millis(attempt.due_at())),
        attempt: attempt.clone(),
    })
    .map_err(unavailable)
}

/// A new order's item: the order, its first attempt's copy and the marker.
fn order_item_with_copy(order: &Order, attempt: &PaymentAttempt) -> Result<Item, StoreError> {
    let mut item = order_item(order)?;
    item.insert(attempt_copy_name(attempt.id()), attempt_copy(attempt)?);
    item.insert(COPIES_MARKER.into(), AttributeValue::Bool(true));
    Ok(item)
}

fn checkout_item(record: &CheckoutRecord) -> Result<Item, StoreError> {
    serde_dynamo::to_item(CheckoutItem {
        pk: checkout_pk(&record.key),
        sk: CHECKOUT_SK.into(),
        key: record.key.clone(),
        order_id: record.order_id.clone(),
        cart_fingerprint: record.cart_fingerprint.clone(),
        expires_at: record.expires_at.unix_timestamp(),
    })
    .map_err(unavailable)
}

fn unavailable(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Unavailable(Cause::new(e))
}

fn sdk_unavailable<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    StoreError::Unavailable(Cause::new(e))
}

fn put(table: &str, item: Item, condition: &str) -> Result<Put, StoreError> {
    Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(condition)
        .build()
        .map_err(unavailable)
}

/// A canceled transaction whose condition failed becomes `on_condition`.
fn transaction_error(
    e: SdkError<TransactWriteItemsError, impl std::fmt::Debug + Send + Sync + 'static>,
    on_condition: StoreError,
) -> StoreError {
    if let Some(TransactWriteItemsError::TransactionCanceledException(canceled)) =
        e.as_service_error()
    {
        let reasons = canceled.cancellation_reasons();
        if reasons
            .iter()
            .any(|r| r.code() == Some("ConditionalCheckFailed"))
        {
            return on_condition;
        }
        // Another transaction on the same items was in flight: re-read and retry.
        if reasons
            .iter()
            .any(|r| r.code() == Some("TransactionConflict"))
        {
            return StoreError::Conflict;
        }
    }
    sdk_unavailable(e)
}

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

    /// An order written before its item carried the attempts' copies: the
    /// order and attempt items of its partition, one consistent Query.
    async fn load_order_by_query(&self, id: &OrderId) -> Result<Option<OrderRecord>, StoreError> {
        let mut order = None;
        let mut attempts = Vec::new();
        for item in self.partition(order_pk(id)).await? {
            match item.get("sk") {
                Some(AttributeValue::S(sk)) if sk == ORDER_SK => {
                    let parsed: OrderItem = serde_dynamo::from_item(item).map_err(unavailable)?;
                    order = Some(parsed.order);
                }
                Some(AttributeValue::S(sk)) if sk.starts_with("ATTEMPT#") => {
                    let parsed: AttemptItem = serde_dynamo::from_item(item).map_err(unavailable)?;
                    attempts.push(parsed.attempt);
                }
                _ => {}
            }
        }
        attempts.sort_by_key(|a| a.created_at());
        Ok(order.map(|order| OrderRecord { order, attempts }))
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

/// Creates the table, its indexes and TTL, when they do not exist yet.
pub struct TableSetup;

impl TableSetup {
    /// The CreateTable request: keys, attribute types, both indexes (the
    /// same as `crates/store/table.json`, which the CDK stack reads; a test
    /// keeps the two equal). TTL is set after creation.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] when the request cannot be built.
    pub fn create_table_request(
        client: &Client,
        table: &str,
    ) -> Result<
        aws_sdk_dynamodb::operation::create_table::builders::CreateTableFluentBuilder,
        StoreError,
    > {
        let key = |name: &str, key_type| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(key_type)
                .build()
                .map_err(unavailable)
        };
        let attribute = |name: &str, kind| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(kind)
                .build()
                .map_err(unavailable)
        };
        let all = Projection::builder()
            .projection_type(ProjectionType::All)
            .build();
        Ok(client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attribute("pk", ScalarAttributeType::S)?)
            .attribute_definitions(attribute("sk", ScalarAttributeType::S)?)
            .attribute_definitions(attribute("gsi1pk", ScalarAttributeType::S)?)
            .attribute_definitions(attribute("open_shard", ScalarAttributeType::S)?)
            .attribute_definitions(attribute("due_at", ScalarAttributeType::N)?)
            .attribute_definitions(attribute("gsi2pk", ScalarAttributeType::S)?)
            .attribute_definitions(attribute("gsi2sk", ScalarAttributeType::S)?)
            .key_schema(key("pk", KeyType::Hash)?)
            .key_schema(key("sk", KeyType::Range)?)
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(PROVIDER_PAYMENT_INDEX)
                    .key_schema(key("gsi1pk", KeyType::Hash)?)
                    .projection(all.clone())
                    .build()
                    .map_err(unavailable)?,
            )
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(OPEN_ATTEMPTS_INDEX)
                    .key_schema(key("open_shard", KeyType::Hash)?)
                    .key_schema(key("due_at", KeyType::Range)?)
                    .projection(all.clone())
                    .build()
                    .map_err(unavailable)?,
            )
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(ORDERS_BY_TIME_INDEX)
                    .key_schema(key("gsi2pk", KeyType::Hash)?)
                    .key_schema(key("gsi2sk", KeyType::Range)?)
                    .projection(all)
                    .build()
                    .map_err(unavailable)?,
            ))
    }

    /// Returns true when it created the table.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when DynamoDB cannot be reached or refuses.
    pub async fn create_if_missing(client: &Client, table: &str) -> Result<bool, StoreError> {
        match client.describe_table().table_name(table).send().await {
            Ok(_) => return Ok(false),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) => {}
            Err(e) => return Err(sdk_unavailable(e)),
        }
        let created = Self::create_table_request(client, table)?.send().await;
        match created {
            Ok(_) => {}
            // Someone else created it between our describe and create.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_in_use_exception()) =>
            {
                return Ok(false)
            }
            Err(e) => return Err(sdk_unavailable(e)),
        }
        client
            .wait_until_table_exists()
            .table_name(table)
            .wait(std::time::Duration::from_secs(60))
            .await
            .map_err(unavailable)?;
        client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(TTL_ATTRIBUTE)
                    .enabled(true)
                    .build()
                    .map_err(unavailable)?,
            )
            .send()
            .await
            .map_err(sdk_unavailable)?;
        Ok(true)
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
        self.client
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
            .transact_items(TransactWriteItem::builder().put(checkout_put).build())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| transaction_error(e, StoreError::AlreadyExists))
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
        let (mut clauses, mut names, mut values) = set_all(order_item(order)?);
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
        self.client
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
            )
            .send()
            .await
            .map(|_| ())
            .map_err(|e| transaction_error(e, StoreError::Conflict))
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
        match order_from_item(item)? {
            Some(record) => Ok(Some(record)),
            None => self.load_order_by_query(id).await,
        }
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
                    .map(|i| i.attempt)
                    .map_err(unavailable)
            })
            .transpose()
    }

    async fn update_attempt(&self, next: &PaymentAttempt) -> Result<(), StoreError> {
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
        transaction
            .send()
            .await
            .map(|_| ())
            .map_err(|e| transaction_error(e, StoreError::Conflict))
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
                due.push(parsed.attempt);
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
        if let Some(item) = lookup.item {
            let found: PaymentLookupItem = serde_dynamo::from_item(item).map_err(unavailable)?;
            return self.load_attempt(&found.order_id, &found.attempt_id).await;
        }
        // Attempts recorded before the lookup items existed are found
        // through the index.
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(PROVIDER_PAYMENT_INDEX)
            .key_condition_expression("gsi1pk = :id")
            .expression_attribute_values(
                ":id",
                AttributeValue::S(format!("PAYMENT#{provider_payment_id}")),
            )
            .limit(1)
            .send()
            .await
            .map_err(sdk_unavailable)?;
        let Some(item) = page.items().first() else {
            return Ok(None);
        };
        let indexed: AttemptItem = serde_dynamo::from_item(item.clone()).map_err(unavailable)?;
        // The index is eventually consistent: read the attempt itself.
        self.load_attempt(indexed.attempt.order_id(), indexed.attempt.id())
            .await
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
                    orders.push(parsed.order);
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
        let now_ms = unix_millis(now);
        let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
        let window_ends = now_ms.saturating_add(window_ms);
        // Two processes may race at a window's start: whoever starts it,
        // the other adds to it (a few rounds at most).
        for _ in 0..MAX_COUNT_ROUNDS {
            let added = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", AttributeValue::S(sign_in_pk(key)))
                .key("sk", AttributeValue::S(SIGN_IN_SK.into()))
                .update_expression("ADD failures :one")
                .condition_expression("window_ends > :now")
                .expression_attribute_values(":one", AttributeValue::N("1".into()))
                .expression_attribute_values(":now", AttributeValue::N(now_ms.to_string()))
                .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
                .send()
                .await;
            match added {
                Ok(output) => {
                    let count = number(output.attributes.as_ref(), "failures").unwrap_or(1);
                    return Ok(u32::try_from(count).unwrap_or(u32::MAX));
                }
                Err(error) if is_conditional_check_failure(&error) => {}
                Err(error) => return Err(sdk_unavailable(error)),
            }
            let started = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", AttributeValue::S(sign_in_pk(key)))
                .key("sk", AttributeValue::S(SIGN_IN_SK.into()))
                .update_expression("SET failures = :one, window_ends = :ends, #ttl = :ttl")
                .condition_expression("attribute_not_exists(pk) OR window_ends <= :now")
                .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
                .expression_attribute_values(":one", AttributeValue::N("1".into()))
                .expression_attribute_values(":now", AttributeValue::N(now_ms.to_string()))
                .expression_attribute_values(":ends", AttributeValue::N(window_ends.to_string()))
                .expression_attribute_values(
                    ":ttl",
                    AttributeValue::N((window_ends / 1000 + 1).to_string()),
                )
                .send()
                .await;
            match started {
                Ok(_) => return Ok(1),
                Err(error) if is_conditional_check_failure(&error) => {}
                Err(error) => return Err(sdk_unavailable(error)),
            }
        }
        Err(StoreError::Conflict)
    }

    async fn forgive_sign_in_attempt(
        &self,
        key: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let taken_back = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(sign_in_pk(key)))
            .key("sk", AttributeValue::S(SIGN_IN_SK.into()))
            .update_expression("ADD failures :minus_one")
            .condition_expression("window_ends > :now AND failures > :zero")
            .expression_attribute_values(":minus_one", AttributeValue::N("-1".into()))
            .expression_attribute_values(":zero", AttributeValue::N("0".into()))
            .expression_attribute_values(":now", AttributeValue::N(unix_millis(now).to_string()))
            .send()
            .await;
        match taken_back {
            Ok(_) => Ok(()),
            // The window ended, or there is nothing to take back.
            Err(error) if is_conditional_check_failure(&error) => Ok(()),
            Err(error) => Err(sdk_unavailable(error)),
        }
    }

    async fn end_operator_sessions(
        &self,
        operator: &str,
        at: OffsetDateTime,
        why: SessionsEnd,
    ) -> Result<(), StoreError> {
        let at = unix_millis(at);
        let mut fields = vec!["valid_after"];
        if why == SessionsEnd::AccountChanged {
            fields.push("account_changed_at");
        }
        // Each time moves forward on its own condition: a later sign-out
        // must not keep an account change from being marked.
        for field in fields {
            let moved = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", AttributeValue::S(operator_pk(operator)))
                .key("sk", AttributeValue::S(SESSIONS_SK.into()))
                .update_expression("SET #field = :at")
                .condition_expression("attribute_not_exists(#field) OR #field < :at")
                .expression_attribute_names("#field", field)
                .expression_attribute_values(":at", AttributeValue::N(at.to_string()))
                .send()
                .await;
            match moved {
                Ok(_) => {}
                Err(error) if is_conditional_check_failure(&error) => {}
                Err(error) => return Err(sdk_unavailable(error)),
            }
        }
        Ok(())
    }

    async fn operator_sessions(&self, operator: &str) -> Result<OperatorSessions, StoreError> {
        let found = self
            .client
            .get_item()
            .table_name(&self.table)
            .consistent_read(true)
            .key("pk", AttributeValue::S(operator_pk(operator)))
            .key("sk", AttributeValue::S(SESSIONS_SK.into()))
            .send()
            .await
            .map_err(sdk_unavailable)?;
        let time_of = |name| {
            number(found.item.as_ref(), name)
                .map(|ms| {
                    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
                        .map_err(unavailable)
                })
                .transpose()
        };
        Ok(OperatorSessions {
            ended_at: time_of("valid_after")?,
            account_changed_at: time_of("account_changed_at")?,
        })
    }
}
