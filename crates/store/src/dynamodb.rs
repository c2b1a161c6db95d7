//! The production store: one DynamoDB table (see docs/dynamodb.md).
//!
//! | item            | pk               | sk                  | gsi1pk (index by-provider-payment) |
//! |-----------------|------------------|---------------------|------------------------------------|
//! | order           | `ORDER#{order}`  | `ORDER`             |                                    |
//! | payment attempt | `ORDER#{order}`  | `ATTEMPT#{attempt}` | `PAYMENT#{tr_...}` once known      |
//!
//! One strongly consistent Query on `pk` reads an order with all its attempts.

use async_trait::async_trait;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, Put, ScalarAttributeType, TimeToLiveSpecification,
    TransactWriteItem,
};
use aws_sdk_dynamodb::Client;
use checkout::{AttemptId, Order, OrderId, OrderRecord, PaymentAttempt, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub const PROVIDER_PAYMENT_INDEX: &str = "by-provider-payment";
/// Items that carry it (idempotency records, later) are deleted by TTL.
pub const TTL_ATTRIBUTE: &str = "expires_at";

type Item = HashMap<String, AttributeValue>;

#[derive(Serialize, Deserialize)]
struct OrderItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    order: Order,
}

#[derive(Serialize, Deserialize)]
struct AttemptItem {
    pk: String,
    sk: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    gsi1pk: Option<String>,
    #[serde(flatten)]
    attempt: PaymentAttempt,
}

fn order_pk(id: &OrderId) -> String {
    format!("ORDER#{id}")
}

const ORDER_SK: &str = "ORDER";

fn attempt_sk(id: &AttemptId) -> String {
    format!("ATTEMPT#{id}")
}

fn attempt_item(attempt: &PaymentAttempt) -> Result<Item, StoreError> {
    serde_dynamo::to_item(AttemptItem {
        pk: order_pk(&attempt.order_id),
        sk: attempt_sk(&attempt.id),
        gsi1pk: attempt
            .provider_payment_id
            .as_ref()
            .map(|id| format!("PAYMENT#{id}")),
        attempt: attempt.clone(),
    })
    .map_err(unavailable)
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn sdk_unavailable<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    StoreError::Unavailable(DisplayErrorContext(e).to_string())
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
}

/// Creates the table, its index and TTL, when they do not exist yet.
pub struct TableSetup;

impl TableSetup {
    /// Returns true when it created the table.
    pub async fn create_if_missing(client: &Client, table: &str) -> Result<bool, StoreError> {
        match client.describe_table().table_name(table).send().await {
            Ok(_) => return Ok(false),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) => {}
            Err(e) => return Err(sdk_unavailable(e)),
        }
        let key = |name: &str, key_type| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(key_type)
                .build()
                .map_err(unavailable)
        };
        let string_attribute = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(unavailable)
        };
        let created = client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(string_attribute("pk")?)
            .attribute_definitions(string_attribute("sk")?)
            .attribute_definitions(string_attribute("gsi1pk")?)
            .key_schema(key("pk", KeyType::Hash)?)
            .key_schema(key("sk", KeyType::Range)?)
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(PROVIDER_PAYMENT_INDEX)
                    .key_schema(key("gsi1pk", KeyType::Hash)?)
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::All)
                            .build(),
                    )
                    .build()
                    .map_err(unavailable)?,
            )
            .send()
            .await;
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
    ) -> Result<(), StoreError> {
        let order_item: Item = serde_dynamo::to_item(OrderItem {
            pk: order_pk(&order.id),
            sk: ORDER_SK.into(),
            order: order.clone(),
        })
        .map_err(unavailable)?;
        let put_new = |item: Item| -> Result<TransactWriteItem, StoreError> {
            Ok(TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(item))
                        .condition_expression("attribute_not_exists(pk)")
                        .build()
                        .map_err(unavailable)?,
                )
                .build())
        };
        let result = self
            .client
            .transact_write_items()
            .transact_items(put_new(order_item)?)
            .transact_items(put_new(attempt_item(attempt)?)?)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_transaction_canceled_exception()) =>
            {
                let reasons = match e.as_service_error() {
                    Some(TransactWriteItemsError::TransactionCanceledException(c)) => {
                        c.cancellation_reasons().to_vec()
                    }
                    _ => Vec::new(),
                };
                if reasons
                    .iter()
                    .any(|r| r.code() == Some("ConditionalCheckFailed"))
                {
                    Err(StoreError::AlreadyExists)
                } else {
                    Err(sdk_unavailable(e))
                }
            }
            Err(e) => Err(sdk_unavailable(e)),
        }
    }

    async fn load_order(&self, id: &OrderId) -> Result<Option<OrderRecord>, StoreError> {
        let mut order = None;
        let mut attempts = Vec::new();
        let mut start_key = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(order_pk(id)))
                .set_exclusive_start_key(start_key)
                .send()
                .await
                .map_err(sdk_unavailable)?;
            for item in page.items() {
                match item.get("sk") {
                    Some(AttributeValue::S(sk)) if sk == ORDER_SK => {
                        let parsed: OrderItem =
                            serde_dynamo::from_item(item.clone()).map_err(unavailable)?;
                        order = Some(parsed.order);
                    }
                    Some(AttributeValue::S(sk)) if sk.starts_with("ATTEMPT#") => {
                        let parsed: AttemptItem =
                            serde_dynamo::from_item(item.clone()).map_err(unavailable)?;
                        attempts.push(parsed.attempt);
                    }
                    _ => {}
                }
            }
            start_key = page.last_evaluated_key().cloned();
            if start_key.is_none() {
                break;
            }
        }
        attempts.sort_by_key(|a| a.created_at);
        Ok(order.map(|order| OrderRecord { order, attempts }))
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
        let expected_version = next.version.saturating_sub(1);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(attempt_item(next)?))
            .condition_expression("version = :expected")
            .expression_attribute_values(
                ":expected",
                AttributeValue::N(expected_version.to_string()),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::Conflict)
            }
            Err(e) => {
                tracing::debug!(code = ?e.code(), "update_attempt failed");
                Err(sdk_unavailable(e))
            }
        }
    }
}
