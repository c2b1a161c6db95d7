//! An embedded store on redb: one file, durable (every commit is fsynced),
//! for zero-set-up local runs. Keeps the same guarantees as DynamoDB: order
//! and first attempt are created together; attempt writes are conditional
//! on the version they were read with.

use async_trait::async_trait;
use checkout::{AttemptId, Order, OrderId, OrderRecord, PaymentAttempt, Store, StoreError};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::path::Path;
use std::sync::Arc;

/// order id -> Order (JSON)
const ORDERS: TableDefinition<&str, &[u8]> = TableDefinition::new("orders");
/// "{order id}/{attempt id}" -> PaymentAttempt (JSON); a prefix scan finds
/// an order's attempts.
const ATTEMPTS: TableDefinition<&str, &[u8]> = TableDefinition::new("attempts");

#[derive(Clone)]
pub struct EmbeddedStore {
    db: Arc<Database>,
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn attempt_key(order_id: &OrderId, attempt_id: &AttemptId) -> String {
    format!("{order_id}/{attempt_id}")
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(unavailable)
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(unavailable)
}

impl EmbeddedStore {
    /// Opens (or creates) the database file, creating its tables.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(unavailable)?;
        }
        let db = Database::create(path).map_err(unavailable)?;
        let tx = db.begin_write().map_err(unavailable)?;
        tx.open_table(ORDERS).map_err(unavailable)?;
        tx.open_table(ATTEMPTS).map_err(unavailable)?;
        tx.commit().map_err(unavailable)?;
        Ok(Self { db: Arc::new(db) })
    }

    /// redb is blocking: run it off the async workers.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || work(&db))
            .await
            .map_err(unavailable)?
    }
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn create_order(
        &self,
        order: &Order,
        attempt: &PaymentAttempt,
    ) -> Result<(), StoreError> {
        let order_key = order.id.0.clone();
        let attempt_key = attempt_key(&attempt.order_id, &attempt.id);
        let (order_bytes, attempt_bytes) = (encode(order)?, encode(attempt)?);
        self.blocking(move |db| {
            let tx = db.begin_write().map_err(unavailable)?;
            {
                let mut orders = tx.open_table(ORDERS).map_err(unavailable)?;
                if orders
                    .get(order_key.as_str())
                    .map_err(unavailable)?
                    .is_some()
                {
                    return Err(StoreError::AlreadyExists);
                }
                orders
                    .insert(order_key.as_str(), order_bytes.as_slice())
                    .map_err(unavailable)?;
                let mut attempts = tx.open_table(ATTEMPTS).map_err(unavailable)?;
                attempts
                    .insert(attempt_key.as_str(), attempt_bytes.as_slice())
                    .map_err(unavailable)?;
            }
            tx.commit().map_err(unavailable)
        })
        .await
    }

    async fn load_order(&self, id: &OrderId) -> Result<Option<OrderRecord>, StoreError> {
        let order_key = id.0.clone();
        self.blocking(move |db| {
            let tx = db.begin_read().map_err(unavailable)?;
            let orders = tx.open_table(ORDERS).map_err(unavailable)?;
            let Some(order) = orders.get(order_key.as_str()).map_err(unavailable)? else {
                return Ok(None);
            };
            let order: Order = decode(order.value())?;
            let attempts_table = tx.open_table(ATTEMPTS).map_err(unavailable)?;
            // Keys "{order}/..." sort between "{order}/" and "{order}0" ('0' follows '/').
            let (from, to) = (format!("{order_key}/"), format!("{order_key}0"));
            let mut attempts = Vec::new();
            for entry in attempts_table
                .range(from.as_str()..to.as_str())
                .map_err(unavailable)?
            {
                let (_, value) = entry.map_err(unavailable)?;
                attempts.push(decode::<PaymentAttempt>(value.value())?);
            }
            attempts.sort_by_key(|a| a.created_at);
            Ok(Some(OrderRecord { order, attempts }))
        })
        .await
    }

    async fn load_attempt(
        &self,
        order_id: &OrderId,
        attempt_id: &AttemptId,
    ) -> Result<Option<PaymentAttempt>, StoreError> {
        let key = attempt_key(order_id, attempt_id);
        self.blocking(move |db| {
            let tx = db.begin_read().map_err(unavailable)?;
            let attempts = tx.open_table(ATTEMPTS).map_err(unavailable)?;
            let found = attempts.get(key.as_str()).map_err(unavailable)?;
            found.map(|value| decode(value.value())).transpose()
        })
        .await
    }

    async fn update_attempt(&self, next: &PaymentAttempt) -> Result<(), StoreError> {
        let key = attempt_key(&next.order_id, &next.id);
        let expected_version = next.version.saturating_sub(1);
        let bytes = encode(next)?;
        self.blocking(move |db| {
            // redb has one writer at a time, so read-compare-write is atomic.
            let tx = db.begin_write().map_err(unavailable)?;
            {
                let mut attempts = tx.open_table(ATTEMPTS).map_err(unavailable)?;
                let stored_version = match attempts.get(key.as_str()).map_err(unavailable)? {
                    Some(value) => decode::<PaymentAttempt>(value.value())?.version,
                    None => return Err(StoreError::Conflict),
                };
                if stored_version != expected_version {
                    return Err(StoreError::Conflict);
                }
                attempts
                    .insert(key.as_str(), bytes.as_slice())
                    .map_err(unavailable)?;
            }
            tx.commit().map_err(unavailable)
        })
        .await
    }
}
