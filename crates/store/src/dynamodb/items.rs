//! The table's items: their keys, their shapes and how the domain's
//! orders and attempts become items and back.

use super::*;

/// Finds attempts that need checks (not final yet, or with a refund not
/// settled), the longest overdue check first (sparse: the others drop out).
pub const OPEN_ATTEMPTS_INDEX: &str = "open-attempts";
/// Open attempts are spread over this many index partitions, so that no one
/// partition takes every write.
pub(super) const OPEN_SHARDS: u32 = 8;
/// Orders newest first, one index partition per calendar month (the back
/// office's list).
pub const ORDERS_BY_TIME_INDEX: &str = "orders-by-time";
/// The back office's list stops looking further back after this many
/// months in a row without an order.
pub(super) const EMPTY_MONTHS_BEFORE_GIVING_UP: u32 = 12;
/// Items that carry it (checkout keys) are deleted by DynamoDB's TTL.
pub const TTL_ATTRIBUTE: &str = "expires_at";

pub(super) type Item = HashMap<String, AttributeValue>;

#[derive(Serialize, Deserialize)]
pub(super) struct OrderItem {
    pub(super) pk: String,
    pub(super) sk: String,
    /// `ORDERS#{yyyy-mm}` of its creation: the orders-by-time partition.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(super) gsi2pk: Option<String>,
    /// `{unix ms, 13 digits}#{order id}`: newest first within the month.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(super) gsi2sk: Option<String>,
    #[serde(flatten)]
    pub(super) order: StoredOrder,
}

#[derive(Serialize, Deserialize)]
pub(super) struct AuditItem {
    pub(super) pk: String,
    pub(super) sk: String,
    #[serde(flatten)]
    pub(super) entry: AuditEntry,
}

#[derive(Serialize, Deserialize)]
pub(super) struct AttemptItem {
    pub(super) pk: String,
    pub(super) sk: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(super) open_shard: Option<String>,
    /// Unix milliseconds of the attempt's next check, the open index's sort key.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(super) due_at: Option<i64>,
    #[serde(flatten)]
    pub(super) attempt: StoredAttempt,
}

#[derive(Serialize, Deserialize)]
pub(super) struct CheckoutItem {
    pub(super) pk: String,
    pub(super) sk: String,
    pub(super) key: CheckoutKey,
    pub(super) order_id: OrderId,
    pub(super) cart_fingerprint: String,
    /// Unix seconds, as DynamoDB's TTL wants it.
    pub(super) expires_at: i64,
}

pub(super) const ORDER_SK: &str = "ORDER";
/// The order item's copy of one attempt: `attempt#{attempt id}`.
pub(super) const ATTEMPT_COPY_PREFIX: &str = "attempt#";
pub(super) const CHECKOUT_SK: &str = "CHECKOUT";
/// Rounds of a sign-in failure count racing other processes.
pub(super) const MAX_COUNT_ROUNDS: usize = 4;
/// The item that maps a provider payment id to its attempt, written in the
/// transaction that records the id: a strongly consistent read finds it at
/// once (a webhook right after checkout), where an index could lag behind
/// the write; its condition keeps the id with one attempt.
pub(super) const PAYMENT_SK: &str = "PAYMENT";

/// Failed sign-ins against one key (an account, a client) in a window;
/// DynamoDB's TTL removes the item some time after the window ends.
pub(super) const SIGN_IN_SK: &str = "SIGNIN";
/// An operator's sessions issued before `valid_after` (unix ms) are ended.
pub(super) const SESSIONS_SK: &str = "SESSIONS";

pub(super) fn sign_in_pk(key: &str) -> String {
    format!("SIGNIN#{key}")
}

pub(super) fn operator_pk(name: &str) -> String {
    format!("OPERATOR#{name}")
}

pub(super) fn is_conditional_check_failure<E, R>(error: &SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    error
        .as_service_error()
        .and_then(aws_sdk_dynamodb::error::ProvideErrorMetadata::code)
        == Some("ConditionalCheckFailedException")
}

pub(super) fn number(item: Option<&Item>, name: &str) -> Option<i64> {
    match item?.get(name)? {
        AttributeValue::N(n) => n.parse().ok(),
        _ => None,
    }
}

pub(super) fn payment_pk(id: &ProviderPaymentId) -> String {
    format!("PAYMENT#{id}")
}

/// What the [`PAYMENT_SK`] item holds besides its key.
#[derive(Deserialize)]
pub(super) struct PaymentLookupItem {
    pub(super) order_id: OrderId,
    pub(super) attempt_id: AttemptId,
}

pub(super) fn order_pk(id: &OrderId) -> String {
    format!("ORDER#{id}")
}

pub(super) fn attempt_sk(id: &AttemptId) -> String {
    format!("ATTEMPT#{id}")
}

pub(super) fn checkout_pk(key: &CheckoutKey) -> String {
    format!("CHECKOUT#{key}")
}

pub(super) fn audit_pk(id: &OrderId) -> String {
    format!("AUDIT#{id}")
}

/// A calendar month, the orders-by-time index's partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Month {
    pub(super) year: i32,
    pub(super) month: u8,
}

impl Month {
    pub(super) fn of(t: OffsetDateTime) -> Self {
        let t = t.to_offset(time::UtcOffset::UTC);
        Self {
            year: t.year(),
            month: u8::from(t.month()),
        }
    }

    pub(super) fn before(self) -> Self {
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

    pub(super) fn partition(self) -> String {
        format!("ORDERS#{}", self.label())
    }

    /// `yyyy-mm`.
    pub(super) fn label(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }
}

/// Sorts as the time does (fixed width) and then by id.
pub(super) fn orders_by_time_sk(cursor: &OrderCursor) -> String {
    format!("{:013}#{}", unix_millis(cursor.created_at), cursor.order_id)
}

pub(super) fn open_shard(id: &AttemptId) -> String {
    format!("OPEN#{}", shard_of(id.as_str(), OPEN_SHARDS))
}

/// Which of `shards` index partitions `key` goes to: FNV-1a, stable across
/// processes, unlike the std hasher.
pub(super) fn shard_of(key: &str, shards: u32) -> u32 {
    let hash = key.bytes().fold(0x811c9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x01000193)
    });
    hash % shards
}

pub(super) fn order_item(order: &Order) -> Result<Item, StoreError> {
    serde_dynamo::to_item(OrderItem {
        pk: order_pk(order.id()),
        sk: ORDER_SK.into(),
        gsi2pk: Some(Month::of(order.created_at()).partition()),
        gsi2sk: Some(orders_by_time_sk(&OrderCursor::of(order))),
        order: StoredOrder::from(order),
    })
    .map_err(unavailable)
}

pub(super) fn attempt_copy_name(id: &AttemptId) -> String {
    format!("{ATTEMPT_COPY_PREFIX}{id}")
}

pub(super) fn attempt_copy(attempt: &PaymentAttempt) -> Result<AttributeValue, StoreError> {
    serde_dynamo::to_attribute_value(StoredAttempt::from(attempt)).map_err(unavailable)
}

/// An order and its attempts from its order item, which carries the
/// attempts' copies.
pub(super) fn order_from_item(mut item: Item) -> Result<OrderRecord, StoreError> {
    let copies: Vec<String> = item
        .keys()
        .filter(|name| name.starts_with(ATTEMPT_COPY_PREFIX))
        .cloned()
        .collect();
    let mut attempts = Vec::with_capacity(copies.len());
    for name in copies {
        if let Some(copy) = item.remove(&name) {
            let stored: StoredAttempt =
                serde_dynamo::from_attribute_value(copy).map_err(unavailable)?;
            attempts.push(PaymentAttempt::from(stored));
        }
    }
    attempts.sort_by_key(|a| a.created_at());
    let order: OrderItem = serde_dynamo::from_item(item).map_err(unavailable)?;
    // An order's version counts its attempts (1 with the first, one more
    // with each added, in the same transaction as its copy): an item with
    // fewer copies is not the shape this store writes, read as an error,
    // never as an order with fewer payments than it had.
    if (attempts.len() as u64) < order.order.version() {
        return Err(unavailable(std::io::Error::other(
            "an order item without all its attempts' copies",
        )));
    }
    Ok(OrderRecord {
        order: order.order.into(),
        attempts,
    })
}

/// `SET` of every attribute of `item` but its key, as an update expression
/// with its names and values (`#n0 = :v0, ...`).
pub(super) fn set_all(item: Item) -> (Vec<String>, HashMap<String, String>, Item) {
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

pub(super) fn attempt_item(attempt: &PaymentAttempt) -> Result<Item, StoreError> {
    // In the reconciler's index while the provider owes news of it.
    let open = attempt.needs_checks();
    serde_dynamo::to_item(AttemptItem {
        pk: order_pk(attempt.order_id()),
        sk: attempt_sk(attempt.id()),
        open_shard: open.then(|| open_shard(attempt.id())),
        due_at: open.then(|| unix_millis(attempt.due_at())),
        attempt: StoredAttempt::from(attempt),
    })
    .map_err(unavailable)
}

/// A new order's item: the order and its first attempt's copy.
pub(super) fn order_item_with_copy(
    order: &Order,
    attempt: &PaymentAttempt,
) -> Result<Item, StoreError> {
    let mut item = order_item(order)?;
    item.insert(attempt_copy_name(attempt.id()), attempt_copy(attempt)?);
    Ok(item)
}

pub(super) fn checkout_item(record: &CheckoutRecord) -> Result<Item, StoreError> {
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
