//! Setting up the table.

use super::*;

/// Creates the table, its indexes and TTL, when they do not exist yet.
pub struct TableSetup;

impl TableSetup {
    /// The CreateTable request: keys, attribute types, its three indexes (the
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
            .attribute_definitions(attribute("open_shard", ScalarAttributeType::S)?)
            .attribute_definitions(attribute("due_at", ScalarAttributeType::N)?)
            .attribute_definitions(attribute("gsi2pk", ScalarAttributeType::S)?)
            .attribute_definitions(attribute("gsi2sk", ScalarAttributeType::S)?)
            .attribute_definitions(attribute("outbox_state", ScalarAttributeType::S)?)
            .attribute_definitions(attribute("outbox_at", ScalarAttributeType::S)?)
            .key_schema(key("pk", KeyType::Hash)?)
            .key_schema(key("sk", KeyType::Range)?)
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
                    .projection(all.clone())
                    .build()
                    .map_err(unavailable)?,
            )
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(OUTBOX_INDEX)
                    .key_schema(key("outbox_state", KeyType::Hash)?)
                    .key_schema(key("outbox_at", KeyType::Range)?)
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
