//! An embedded store on redb: one file, durable (every commit is fsynced),
//! for zero-set-up local runs. Keeps the same guarantees as DynamoDB: order
//! and first attempt are created together; attempt writes are conditional
//! on the version they were read with. Writes that arrive together share one
//! transaction and one fsync ([`crate::group_commit`]).

use crate::group_commit::{GroupCommitter, Work};
use crate::records::{StoredAttempt, StoredOrder, StoredOutboxEntry};
use async_trait::async_trait;
use checkout::stock::{self, StockMove};
use checkout::{
    unix_millis, ArticleId, AttemptId, AttemptWrite, AuditEntry, Cause, CheckoutKey,
    CheckoutRecord, Event, OperatorSessions, Order, OrderCursor, OrderId, OrderRecord, OrdersPage,
    OutboxCursor, OutboxEntry, PaymentAttempt, ProviderPaymentId, SessionsEnd, StockLevels,
    StockSetting, Store, StoreError,
};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use std::path::Path;
use std::sync::Arc;
use time::OffsetDateTime;

/// order id -> Order (JSON)
const ORDERS: TableDefinition<&str, &[u8]> = TableDefinition::new("orders");
/// "{order id}/{attempt id}" -> PaymentAttempt (JSON); a prefix scan finds
/// an order's attempts.
const ATTEMPTS: TableDefinition<&str, &[u8]> = TableDefinition::new("attempts");
/// checkout key -> CheckoutRecord (JSON); expired records count as absent.
const CHECKOUTS: TableDefinition<&str, &[u8]> = TableDefinition::new("checkouts");
/// provider payment id -> "{order id}/{attempt id}": a webhook for an id we
/// never recorded is answered from here, without asking the provider.
const PROVIDER_PAYMENTS: TableDefinition<&str, &str> = TableDefinition::new("provider_payments");
/// "{created, unix ms, 13 digits}#{order id}" -> order id: the back office's
/// list, newest first (read backwards).
const ORDERS_BY_TIME: TableDefinition<&str, &str> = TableDefinition::new("orders_by_time");
/// "{order id}/{unix ms, 13 digits}/{uuid}" -> AuditEntry (JSON): an order's
/// audit log in time order. Entries are only ever inserted.
const AUDIT: TableDefinition<&str, &[u8]> = TableDefinition::new("audit");
/// sign-in key -> SignInFailures (JSON): failed sign-ins in a window.
const SIGN_IN_FAILURES: TableDefinition<&str, &[u8]> = TableDefinition::new("sign_in_failures");
/// operator name -> unix ms: their sessions issued before it are ended.
const OPERATOR_SESSIONS: TableDefinition<&str, i64> = TableDefinition::new("operator_sessions");
/// operator name -> unix ms: their account changed then.
const OPERATOR_ACCOUNTS: TableDefinition<&str, i64> = TableDefinition::new("operator_accounts");

/// event id -> OutboxEntry (JSON): the outbox.
const OUTBOX: TableDefinition<&str, &[u8]> = TableDefinition::new("outbox");
/// "{occurred, unix ms, 13 digits}/{event id}" -> event id, while the entry
/// is not done: the deliverer's list, oldest first.
const OUTBOX_PENDING: TableDefinition<&str, &str> = TableDefinition::new("outbox_pending");
/// "{order id}/{occurred ms}/{event id}" -> event id: an order's events.
const OUTBOX_BY_ORDER: TableDefinition<&str, &str> = TableDefinition::new("outbox_by_order");

/// article id -> units that can still be sold; an article not here is not
/// tracked.
const STOCK: TableDefinition<&str, u64> = TableDefinition::new("stock");
/// "{unix ms, 13 digits}/{uuid}" -> StockSetting (JSON): who set which
/// level when. Entries are only ever inserted.
const STOCK_LOG: TableDefinition<&str, &[u8]> = TableDefinition::new("stock_log");

/// Failed sign-ins counted in a window that ends at `window_ends` (unix ms).
#[derive(serde::Serialize, serde::Deserialize)]
struct SignInFailures {
    count: u32,
    window_ends: i64,
}

#[derive(Clone)]
pub struct EmbeddedStore {
    db: Arc<Database>,
    writer: Arc<GroupCommitter>,
}

fn unavailable(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Unavailable(Cause::new(e))
}

fn attempt_key(order_id: &OrderId, attempt_id: &AttemptId) -> String {
    format!("{order_id}/{attempt_id}")
}

fn orders_by_time_key(cursor: &OrderCursor) -> String {
    format!("{:013}#{}", unix_millis(cursor.created_at), cursor.order_id)
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(unavailable)
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(unavailable)
}

fn decode_order(bytes: &[u8]) -> Result<Order, StoreError> {
    decode::<StoredOrder>(bytes).map(Order::from)
}

fn outbox_keys(event: &Event) -> (String, String) {
    let at = unix_millis(event.occurred_at());
    (
        format!("{at:013}/{}", event.id()),
        format!("{}/{at:013}/{}", event.order_id(), event.id()),
    )
}

fn decode_outbox(bytes: &[u8]) -> Result<OutboxEntry, StoreError> {
    decode::<StoredOutboxEntry>(bytes).map(OutboxEntry::from)
}

/// Makes `moves` in the write's transaction: a take only if that many
/// units are available (else [`StoreError::SoldOut`], and the caller's
/// whole write is dropped with the transaction).
fn move_stock(tx: &WriteTransaction, moves: &[StockMove]) -> Result<(), StoreError> {
    if moves.is_empty() {
        return Ok(());
    }
    let mut stock = tx.open_table(STOCK).map_err(unavailable)?;
    for stock_move in moves {
        let (units, take) = match stock_move {
            StockMove::Take(units) => (units, true),
            StockMove::GiveBack(units) => (units, false),
        };
        let article = units.article_id.as_str();
        let available = stock.get(article).map_err(unavailable)?.map(|v| v.value());
        let quantity = u64::from(units.quantity);
        let after = match (take, available) {
            (true, Some(available)) if available >= quantity => available - quantity,
            (true, _) => return Err(StoreError::SoldOut),
            (false, available) => available.unwrap_or(0).saturating_add(quantity),
        };
        stock.insert(article, after).map_err(unavailable)?;
    }
    Ok(())
}

fn decode_attempt(bytes: &[u8]) -> Result<PaymentAttempt, StoreError> {
    decode::<StoredAttempt>(bytes).map(PaymentAttempt::from)
}

impl EmbeddedStore {
    /// Opens (or creates) the database file, creating its tables.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the folder or file cannot be created or
    /// opened (another process may hold it).
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(unavailable)?;
        }
        let db = Database::create(path).map_err(unavailable)?;
        // Creating the tables is a durable commit: only when they are missing.
        let existing = db.begin_read().map_err(unavailable)?;
        let missing = [
            ORDERS,
            ATTEMPTS,
            CHECKOUTS,
            AUDIT,
            SIGN_IN_FAILURES,
            OUTBOX,
            STOCK_LOG,
        ]
        .iter()
        .any(|table| existing.open_table(*table).is_err())
            || [OPERATOR_SESSIONS, OPERATOR_ACCOUNTS]
                .iter()
                .any(|table| existing.open_table(*table).is_err())
            || existing.open_table(STOCK).is_err()
            || [
                PROVIDER_PAYMENTS,
                ORDERS_BY_TIME,
                OUTBOX_PENDING,
                OUTBOX_BY_ORDER,
            ]
            .iter()
            .any(|table| existing.open_table(*table).is_err());
        drop(existing);
        if missing {
            let tx = db.begin_write().map_err(unavailable)?;
            {
                tx.open_table(ORDERS).map_err(unavailable)?;
                tx.open_table(ATTEMPTS).map_err(unavailable)?;
                tx.open_table(CHECKOUTS).map_err(unavailable)?;
                tx.open_table(PROVIDER_PAYMENTS).map_err(unavailable)?;
                tx.open_table(AUDIT).map_err(unavailable)?;
                tx.open_table(SIGN_IN_FAILURES).map_err(unavailable)?;
                tx.open_table(OPERATOR_SESSIONS).map_err(unavailable)?;
                tx.open_table(OPERATOR_ACCOUNTS).map_err(unavailable)?;
                tx.open_table(ORDERS_BY_TIME).map_err(unavailable)?;
                tx.open_table(OUTBOX).map_err(unavailable)?;
                tx.open_table(OUTBOX_PENDING).map_err(unavailable)?;
                tx.open_table(OUTBOX_BY_ORDER).map_err(unavailable)?;
                tx.open_table(STOCK).map_err(unavailable)?;
                tx.open_table(STOCK_LOG).map_err(unavailable)?;
            }
            tx.commit().map_err(unavailable)?;
        }
        let db = Arc::new(db);
        let writer = Arc::new(GroupCommitter::start(db.clone())?);
        Ok(Self { db, writer })
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

    /// A durable write, committed with whichever writes arrive with it. The
    /// closure may run more than once, always from the state before it.
    async fn write(
        &self,
        work: impl Fn(&WriteTransaction) -> Result<(), StoreError> + Send + 'static,
    ) -> Result<(), StoreError> {
        let work: Work = Box::new(work);
        self.writer.write(work).await
    }
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn create_order(
        &self,
        order: &Order,
        attempt: &PaymentAttempt,
        checkout: &CheckoutRecord,
    ) -> Result<(), StoreError> {
        let order_key = order.id().to_string();
        let attempt_key = attempt_key(attempt.order_id(), attempt.id());
        let checkout_key = checkout.key.to_string();
        let by_time_key = orders_by_time_key(&OrderCursor::of(order));
        let (order_bytes, attempt_bytes, checkout_bytes) = (
            encode(&StoredOrder::from(order))?,
            encode(&StoredAttempt::from(attempt))?,
            encode(checkout)?,
        );
        let takes = stock::take_all(attempt.stock());
        self.write(move |tx| {
            // One write transaction at a time: the checks and the inserts
            // cannot interleave with another writer's.
            {
                let mut checkouts = tx.open_table(CHECKOUTS).map_err(unavailable)?;
                if let Some(existing) = checkouts.get(checkout_key.as_str()).map_err(unavailable)? {
                    let existing: CheckoutRecord = decode(existing.value())?;
                    if !existing.is_expired(OffsetDateTime::now_utc()) {
                        return Err(StoreError::AlreadyExists);
                    }
                }
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
                let mut by_time = tx.open_table(ORDERS_BY_TIME).map_err(unavailable)?;
                by_time
                    .insert(by_time_key.as_str(), order_key.as_str())
                    .map_err(unavailable)?;
                let mut attempts = tx.open_table(ATTEMPTS).map_err(unavailable)?;
                attempts
                    .insert(attempt_key.as_str(), attempt_bytes.as_slice())
                    .map_err(unavailable)?;
                checkouts
                    .insert(checkout_key.as_str(), checkout_bytes.as_slice())
                    .map_err(unavailable)?;
            }
            move_stock(tx, &takes)
        })
        .await
    }

    async fn find_checkout(&self, key: &CheckoutKey) -> Result<Option<CheckoutRecord>, StoreError> {
        let key = key.to_string();
        self.blocking(move |db| {
            let tx = db.begin_read().map_err(unavailable)?;
            let checkouts = tx.open_table(CHECKOUTS).map_err(unavailable)?;
            let Some(found) = checkouts.get(key.as_str()).map_err(unavailable)? else {
                return Ok(None);
            };
            let record: CheckoutRecord = decode(found.value())?;
            Ok((!record.is_expired(OffsetDateTime::now_utc())).then_some(record))
        })
        .await
    }

    async fn add_attempt(&self, order: &Order, attempt: &PaymentAttempt) -> Result<(), StoreError> {
        let order_key = order.id().to_string();
        let expected_version = order.version().saturating_sub(1);
        let attempt_key = attempt_key(attempt.order_id(), attempt.id());
        // An erasure does not change the version: written over an order
        // read before it, the erased address must stay erased.
        let mut erased = order.clone();
        erased.erase_personal_data();
        let (order_bytes, erased_bytes, attempt_bytes) = (
            encode(&StoredOrder::from(order))?,
            encode(&StoredOrder::from(&erased))?,
            encode(&StoredAttempt::from(attempt))?,
        );
        let takes = stock::take_all(attempt.stock());
        self.write(move |tx| {
            {
                let mut orders = tx.open_table(ORDERS).map_err(unavailable)?;
                let stored = match orders.get(order_key.as_str()).map_err(unavailable)? {
                    Some(value) => decode_order(value.value())?,
                    None => return Err(StoreError::Conflict),
                };
                if stored.version() != expected_version {
                    return Err(StoreError::Conflict);
                }
                let order_bytes = if stored.shopper_email().is_none() {
                    &erased_bytes
                } else {
                    &order_bytes
                };
                orders
                    .insert(order_key.as_str(), order_bytes.as_slice())
                    .map_err(unavailable)?;
                let mut attempts = tx.open_table(ATTEMPTS).map_err(unavailable)?;
                // The same answer as DynamoDB's conditional transaction.
                if attempts
                    .get(attempt_key.as_str())
                    .map_err(unavailable)?
                    .is_some()
                {
                    return Err(StoreError::Conflict);
                }
                attempts
                    .insert(attempt_key.as_str(), attempt_bytes.as_slice())
                    .map_err(unavailable)?;
            }
            move_stock(tx, &takes)
        })
        .await
    }

    async fn due_attempts(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<PaymentAttempt>, StoreError> {
        self.blocking(move |db| {
            // A scan: fine for the zero-set-up store; DynamoDB uses an index.
            let tx = db.begin_read().map_err(unavailable)?;
            let attempts = tx.open_table(ATTEMPTS).map_err(unavailable)?;
            let mut due = Vec::new();
            for entry in attempts.iter().map_err(unavailable)? {
                let (_, value) = entry.map_err(unavailable)?;
                let attempt = decode_attempt(value.value())?;
                if attempt.needs_checks() && attempt.due_at() <= now {
                    due.push(attempt);
                }
            }
            due.sort_by_key(PaymentAttempt::due_at);
            due.truncate(limit);
            Ok(due)
        })
        .await
    }

    async fn find_attempt_by_provider_payment(
        &self,
        provider_payment_id: &ProviderPaymentId,
    ) -> Result<Option<PaymentAttempt>, StoreError> {
        let id = provider_payment_id.to_string();
        self.blocking(move |db| {
            let tx = db.begin_read().map_err(unavailable)?;
            let index = tx.open_table(PROVIDER_PAYMENTS).map_err(unavailable)?;
            let Some(key) = index.get(id.as_str()).map_err(unavailable)? else {
                return Ok(None);
            };
            let attempts = tx.open_table(ATTEMPTS).map_err(unavailable)?;
            let found = attempts.get(key.value()).map_err(unavailable)?;
            found.map(|value| decode_attempt(value.value())).transpose()
        })
        .await
    }

    async fn load_order(&self, id: &OrderId) -> Result<Option<OrderRecord>, StoreError> {
        let order_key = id.to_string();
        self.blocking(move |db| {
            let tx = db.begin_read().map_err(unavailable)?;
            let orders = tx.open_table(ORDERS).map_err(unavailable)?;
            let Some(order) = orders.get(order_key.as_str()).map_err(unavailable)? else {
                return Ok(None);
            };
            let order = decode_order(order.value())?;
            let attempts_table = tx.open_table(ATTEMPTS).map_err(unavailable)?;
            // Keys "{order}/..." sort between "{order}/" and "{order}0" ('0' follows '/').
            let (from, to) = (format!("{order_key}/"), format!("{order_key}0"));
            let mut attempts = Vec::new();
            for entry in attempts_table
                .range(from.as_str()..to.as_str())
                .map_err(unavailable)?
            {
                let (_, value) = entry.map_err(unavailable)?;
                attempts.push(decode_attempt(value.value())?);
            }
            attempts.sort_by_key(|a| a.created_at());
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
            found.map(|value| decode_attempt(value.value())).transpose()
        })
        .await
    }

    async fn update_attempt(&self, write: &AttemptWrite) -> Result<(), StoreError> {
        let next = write.next();
        let key = attempt_key(next.order_id(), next.id());
        let expected_version = next.version().saturating_sub(1);
        let bytes = encode(&StoredAttempt::from(next))?;
        let provider_payment_id = next.provider_payment_id().clone();
        let mut events = Vec::new();
        for event in write.events() {
            let (pending, by_order) = outbox_keys(event);
            let entry = encode(&StoredOutboxEntry::new(event))?;
            events.push((event.id().to_string(), pending, by_order, entry));
        }
        let moves = write.stock().to_vec();
        self.write(move |tx| {
            // redb has one writer at a time, so read-compare-write is atomic.
            {
                let mut attempts = tx.open_table(ATTEMPTS).map_err(unavailable)?;
                let stored_version = match attempts.get(key.as_str()).map_err(unavailable)? {
                    Some(value) => decode_attempt(value.value())?.version(),
                    None => return Err(StoreError::Conflict),
                };
                if stored_version != expected_version {
                    return Err(StoreError::Conflict);
                }
                attempts
                    .insert(key.as_str(), bytes.as_slice())
                    .map_err(unavailable)?;
                if let Some(id) = &provider_payment_id {
                    let mut index = tx.open_table(PROVIDER_PAYMENTS).map_err(unavailable)?;
                    index
                        .insert(id.as_str(), key.as_str())
                        .map_err(unavailable)?;
                }
                let mut outbox = tx.open_table(OUTBOX).map_err(unavailable)?;
                let mut pending = tx.open_table(OUTBOX_PENDING).map_err(unavailable)?;
                let mut by_order = tx.open_table(OUTBOX_BY_ORDER).map_err(unavailable)?;
                for (id, pending_key, order_key, entry) in &events {
                    // An event id is written once, ever.
                    if outbox.get(id.as_str()).map_err(unavailable)?.is_some() {
                        continue;
                    }
                    outbox
                        .insert(id.as_str(), entry.as_slice())
                        .map_err(unavailable)?;
                    pending
                        .insert(pending_key.as_str(), id.as_str())
                        .map_err(unavailable)?;
                    by_order
                        .insert(order_key.as_str(), id.as_str())
                        .map_err(unavailable)?;
                }
            }
            move_stock(tx, &moves)
        })
        .await
    }

    async fn pending_outbox(
        &self,
        after: Option<&OutboxCursor>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let after = after.map(|c| format!("{:013}/{}", unix_millis(c.occurred_at), c.event_id));
        self.blocking(move |db| {
            let tx = db.begin_read().map_err(unavailable)?;
            let pending = tx.open_table(OUTBOX_PENDING).map_err(unavailable)?;
            let outbox = tx.open_table(OUTBOX).map_err(unavailable)?;
            let listed = match &after {
                Some(after) => pending.range::<&str>((
                    std::ops::Bound::Excluded(after.as_str()),
                    std::ops::Bound::Unbounded,
                )),
                None => pending.range::<&str>(..),
            }
            .map_err(unavailable)?;
            let mut entries = Vec::new();
            for listed in listed.take(limit) {
                let (_, id) = listed.map_err(unavailable)?;
                if let Some(entry) = outbox.get(id.value()).map_err(unavailable)? {
                    entries.push(decode_outbox(entry.value())?);
                }
            }
            Ok(entries)
        })
        .await
    }

    async fn order_outbox(&self, order_id: &OrderId) -> Result<Vec<OutboxEntry>, StoreError> {
        let order_key = order_id.to_string();
        self.blocking(move |db| {
            let tx = db.begin_read().map_err(unavailable)?;
            let by_order = tx.open_table(OUTBOX_BY_ORDER).map_err(unavailable)?;
            let outbox = tx.open_table(OUTBOX).map_err(unavailable)?;
            let (from, to) = (format!("{order_key}/"), format!("{order_key}0"));
            let mut entries = Vec::new();
            for listed in by_order
                .range(from.as_str()..to.as_str())
                .map_err(unavailable)?
            {
                let (_, id) = listed.map_err(unavailable)?;
                if let Some(entry) = outbox.get(id.value()).map_err(unavailable)? {
                    entries.push(decode_outbox(entry.value())?);
                }
            }
            Ok(entries)
        })
        .await
    }

    async fn update_outbox(&self, next: &OutboxEntry) -> Result<(), StoreError> {
        let id = next.event().id().to_string();
        let (pending_key, _) = outbox_keys(next.event());
        let expected_version = next.version().saturating_sub(1);
        let done = next.is_done();
        let bytes = encode(&StoredOutboxEntry::from(next))?;
        self.write(move |tx| {
            {
                let mut outbox = tx.open_table(OUTBOX).map_err(unavailable)?;
                let stored_version = match outbox.get(id.as_str()).map_err(unavailable)? {
                    Some(value) => decode_outbox(value.value())?.version(),
                    None => return Err(StoreError::Conflict),
                };
                if stored_version != expected_version {
                    return Err(StoreError::Conflict);
                }
                outbox
                    .insert(id.as_str(), bytes.as_slice())
                    .map_err(unavailable)?;
                let mut pending = tx.open_table(OUTBOX_PENDING).map_err(unavailable)?;
                if done {
                    pending.remove(pending_key.as_str()).map_err(unavailable)?;
                } else {
                    pending
                        .insert(pending_key.as_str(), id.as_str())
                        .map_err(unavailable)?;
                }
            }
            Ok(())
        })
        .await
    }

    async fn erase_personal_data(&self, order: &Order) -> Result<(), StoreError> {
        let key = order.id().to_string();
        let version = order.version();
        let bytes = encode(&StoredOrder::from(order))?;
        self.write(move |tx| {
            {
                let mut orders = tx.open_table(ORDERS).map_err(unavailable)?;
                let stored_version = match orders.get(key.as_str()).map_err(unavailable)? {
                    Some(value) => decode_order(value.value())?.version(),
                    None => return Err(StoreError::Conflict),
                };
                if stored_version != version {
                    return Err(StoreError::Conflict);
                }
                orders
                    .insert(key.as_str(), bytes.as_slice())
                    .map_err(unavailable)?;
            }
            Ok(())
        })
        .await
    }

    async fn recent_orders(
        &self,
        after: Option<&OrderCursor>,
        limit: usize,
    ) -> Result<OrdersPage, StoreError> {
        let below = after.map(orders_by_time_key);
        self.blocking(move |db| {
            let tx = db.begin_read().map_err(unavailable)?;
            let by_time = tx.open_table(ORDERS_BY_TIME).map_err(unavailable)?;
            let orders_table = tx.open_table(ORDERS).map_err(unavailable)?;
            let listed = match &below {
                Some(below) => by_time.range(..below.as_str()),
                None => by_time.range::<&str>(..),
            }
            .map_err(unavailable)?;
            let mut orders = Vec::new();
            // One more than asked: whether there is a next page.
            for entry in listed.rev().take(limit.saturating_add(1)) {
                let (_, id) = entry.map_err(unavailable)?;
                if let Some(order) = orders_table.get(id.value()).map_err(unavailable)? {
                    orders.push(decode_order(order.value())?);
                }
            }
            Ok(OrdersPage::of_newest(orders, limit))
        })
        .await
    }

    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let key = format!(
            "{}/{:013}/{}",
            entry.order_id,
            unix_millis(entry.at),
            uuid::Uuid::new_v4().simple()
        );
        let bytes = encode(entry)?;
        self.write(move |tx| {
            {
                let mut audit = tx.open_table(AUDIT).map_err(unavailable)?;
                audit
                    .insert(key.as_str(), bytes.as_slice())
                    .map_err(unavailable)?;
            }
            Ok(())
        })
        .await
    }

    async fn stock_levels(&self, articles: &[ArticleId]) -> Result<StockLevels, StoreError> {
        // Read on the calling task, not the blocking pool: every storefront
        // view reads the levels, and handing the read to another thread cost
        // more than the read (6% of a view's CPU). A redb read transaction
        // is a snapshot: it never waits for an fsync, only, rarely and
        // briefly, for a commit writing its header.
        let tx = self.db.begin_read().map_err(unavailable)?;
        let stock = tx.open_table(STOCK).map_err(unavailable)?;
        let mut levels = Vec::new();
        for article in articles {
            if let Some(available) = stock.get(article.as_str()).map_err(unavailable)? {
                let available = u32::try_from(available.value()).unwrap_or(u32::MAX);
                levels.push((article.clone(), available));
            }
        }
        Ok(StockLevels::new(levels))
    }

    async fn set_stock(&self, setting: &StockSetting) -> Result<(), StoreError> {
        let article = setting.article_id.to_string();
        let (previous, available) = (setting.previous.map(u64::from), setting.available);
        let log_key = format!(
            "{:013}/{}",
            unix_millis(setting.at),
            uuid::Uuid::new_v4().simple()
        );
        let entry = encode(setting)?;
        self.write(move |tx| {
            let mut stock = tx.open_table(STOCK).map_err(unavailable)?;
            let stored = stock
                .get(article.as_str())
                .map_err(unavailable)?
                .map(|v| v.value());
            if stored != previous {
                return Err(StoreError::Conflict);
            }
            stock
                .insert(article.as_str(), u64::from(available))
                .map_err(unavailable)?;
            let mut log = tx.open_table(STOCK_LOG).map_err(unavailable)?;
            log.insert(log_key.as_str(), entry.as_slice())
                .map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn stock_log(&self, limit: usize) -> Result<Vec<StockSetting>, StoreError> {
        self.blocking(move |db| {
            let tx = db.begin_read().map_err(unavailable)?;
            let log = tx.open_table(STOCK_LOG).map_err(unavailable)?;
            let mut settings = Vec::new();
            for entry in log.iter().map_err(unavailable)?.rev().take(limit) {
                let (_, value) = entry.map_err(unavailable)?;
                settings.push(decode::<StockSetting>(value.value())?);
            }
            Ok(settings)
        })
        .await
    }

    async fn seed_stock(&self, article: &ArticleId, available: u32) -> Result<bool, StoreError> {
        let article = article.to_string();
        let seeded = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let set = seeded.clone();
        self.write(move |tx| {
            let mut stock = tx.open_table(STOCK).map_err(unavailable)?;
            let tracked = stock.get(article.as_str()).map_err(unavailable)?.is_some();
            if !tracked {
                stock
                    .insert(article.as_str(), u64::from(available))
                    .map_err(unavailable)?;
            }
            set.store(!tracked, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        })
        .await?;
        Ok(seeded.load(std::sync::atomic::Ordering::SeqCst))
    }

    async fn audit_log(&self, order_id: &OrderId) -> Result<Vec<AuditEntry>, StoreError> {
        let order_key = order_id.to_string();
        self.blocking(move |db| {
            let tx = db.begin_read().map_err(unavailable)?;
            let audit = tx.open_table(AUDIT).map_err(unavailable)?;
            // Keys "{order}/..." sort between "{order}/" and "{order}0".
            let (from, to) = (format!("{order_key}/"), format!("{order_key}0"));
            let mut entries = Vec::new();
            for entry in audit
                .range(from.as_str()..to.as_str())
                .map_err(unavailable)?
            {
                let (_, value) = entry.map_err(unavailable)?;
                entries.push(decode::<AuditEntry>(value.value())?);
            }
            Ok(entries)
        })
        .await
    }

    async fn count_sign_in_attempt(
        &self,
        key: &str,
        now: OffsetDateTime,
        window: std::time::Duration,
    ) -> Result<u32, StoreError> {
        let key = key.to_owned();
        let now = unix_millis(now);
        let window = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
        let counted = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let result = counted.clone();
        self.write(move |tx| {
            let mut table = tx.open_table(SIGN_IN_FAILURES).map_err(unavailable)?;
            let current = match table.get(key.as_str()).map_err(unavailable)? {
                Some(value) => Some(decode::<SignInFailures>(value.value())?),
                None => None,
            };
            let next = match current {
                Some(open) if open.window_ends > now => SignInFailures {
                    count: open.count.saturating_add(1),
                    window_ends: open.window_ends,
                },
                _ => SignInFailures {
                    count: 1,
                    window_ends: now.saturating_add(window),
                },
            };
            table
                .insert(key.as_str(), encode(&next)?.as_slice())
                .map_err(unavailable)?;
            counted.store(next.count, std::sync::atomic::Ordering::Relaxed);
            Ok(())
        })
        .await?;
        Ok(result.load(std::sync::atomic::Ordering::Relaxed))
    }

    async fn forgive_sign_in_attempt(
        &self,
        key: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let key = key.to_owned();
        let now = unix_millis(now);
        self.write(move |tx| {
            let mut table = tx.open_table(SIGN_IN_FAILURES).map_err(unavailable)?;
            let current = match table.get(key.as_str()).map_err(unavailable)? {
                Some(value) => decode::<SignInFailures>(value.value())?,
                None => return Ok(()),
            };
            if current.window_ends > now && current.count > 0 {
                let next = SignInFailures {
                    count: current.count - 1,
                    window_ends: current.window_ends,
                };
                table
                    .insert(key.as_str(), encode(&next)?.as_slice())
                    .map_err(unavailable)?;
            }
            Ok(())
        })
        .await
    }

    async fn end_operator_sessions(
        &self,
        operator: &str,
        at: OffsetDateTime,
        why: SessionsEnd,
    ) -> Result<(), StoreError> {
        let operator = operator.to_owned();
        let at = unix_millis(at);
        self.write(move |tx| {
            let mut tables = vec![tx.open_table(OPERATOR_SESSIONS).map_err(unavailable)?];
            if why == SessionsEnd::AccountChanged {
                tables.push(tx.open_table(OPERATOR_ACCOUNTS).map_err(unavailable)?);
            }
            for table in &mut tables {
                // Never moves back: a late sign-out cannot revive sessions.
                let before = table
                    .get(operator.as_str())
                    .map_err(unavailable)?
                    .map(|v| v.value());
                table
                    .insert(operator.as_str(), before.map_or(at, |b| b.max(at)))
                    .map_err(unavailable)?;
            }
            Ok(())
        })
        .await
    }

    async fn operator_sessions(&self, operator: &str) -> Result<OperatorSessions, StoreError> {
        let operator = operator.to_owned();
        self.blocking(move |db| {
            let tx = db.begin_read().map_err(unavailable)?;
            let read = |definition| -> Result<Option<OffsetDateTime>, StoreError> {
                let table = tx.open_table(definition).map_err(unavailable)?;
                let millis = table
                    .get(operator.as_str())
                    .map_err(unavailable)?
                    .map(|v| v.value());
                millis
                    .map(|ms| {
                        OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
                            .map_err(unavailable)
                    })
                    .transpose()
            };
            Ok(OperatorSessions {
                ended_at: read(OPERATOR_SESSIONS)?,
                account_changed_at: read(OPERATOR_ACCOUNTS)?,
            })
        })
        .await
    }
}
