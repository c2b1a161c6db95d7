//! The outbox's items: one per event, in its order's partition
//! (`EVENT#{event id}`), and in the `outbox` index under `PENDING#{0..7}`
//! (by the event id's hash, so no one index partition takes every write)
//! until delivered, then under `DONE#{yyyy-mm}`, so the pending partitions
//! hold only what is to send.

use super::*;

/// The deliverer's list: pending entries, oldest event first.
pub const OUTBOX_INDEX: &str = "outbox";
/// Pending entries are spread over this many index partitions.
pub(super) const PENDING_SHARDS: u32 = 8;

fn pending_shard(event: &Event) -> String {
    format!("PENDING#{}", shard_of(event.id().as_str(), PENDING_SHARDS))
}

#[derive(Serialize, Deserialize)]
pub(super) struct OutboxItem {
    pk: String,
    sk: String,
    /// `PENDING#{shard}`, or `DONE#{yyyy-mm}` of the event once delivered.
    outbox_state: String,
    /// `{unix ms, 13 digits}#{event id}`: oldest first.
    outbox_at: String,
    #[serde(flatten)]
    entry: StoredOutboxEntry,
}

fn event_sk(event: &Event) -> String {
    format!("EVENT#{}", event.id())
}

pub(super) fn outbox_item(entry: &OutboxEntry) -> Result<Item, StoreError> {
    let event = entry.event();
    let state = if entry.is_done() {
        format!("DONE#{}", Month::of(event.occurred_at()).label())
    } else {
        pending_shard(event)
    };
    serde_dynamo::to_item(OutboxItem {
        pk: order_pk(event.order_id()),
        sk: event_sk(event),
        outbox_state: state,
        outbox_at: format!("{:013}#{}", unix_millis(event.occurred_at()), event.id()),
        entry: StoredOutboxEntry::from(entry),
    })
    .map_err(unavailable)
}

pub(super) fn entry_from_item(item: Item) -> Result<OutboxEntry, StoreError> {
    let item: OutboxItem = serde_dynamo::from_item(item).map_err(unavailable)?;
    Ok(item.entry.into())
}

/// The write of a new event, for the transaction of its change: every
/// attribute `if_not_exists`, so an event id written before (the one
/// `order.paid` of an order two attempts paid) keeps its entry and its
/// delivery, and the transaction still succeeds.
pub(super) fn new_event_update(table: &str, event: &Event) -> Result<Update, StoreError> {
    let item = outbox_item(&OutboxEntry::new(event.clone()))?;
    let (mut clauses, mut names, mut values) = (Vec::new(), HashMap::new(), HashMap::new());
    for (i, (name, value)) in item
        .into_iter()
        .filter(|(name, _)| name != "pk" && name != "sk")
        .enumerate()
    {
        clauses.push(format!("#n{i} = if_not_exists(#n{i}, :v{i})"));
        names.insert(format!("#n{i}"), name);
        values.insert(format!(":v{i}"), value);
    }
    Update::builder()
        .table_name(table)
        .key("pk", AttributeValue::S(order_pk(event.order_id())))
        .key("sk", AttributeValue::S(event_sk(event)))
        .update_expression(format!("SET {}", clauses.join(", ")))
        .set_expression_attribute_names(Some(names))
        .set_expression_attribute_values(Some(values))
        .build()
        .map_err(unavailable)
}

impl DynamoDbStore {
    pub(super) async fn query_pending_outbox(
        &self,
        after: Option<&OutboxCursor>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        // `outbox_at` sorts as the time (fixed width), then by event id;
        // "0" is before every real one.
        let after = after.map_or_else(
            || "0".to_owned(),
            |c| format!("{:013}#{}", unix_millis(c.occurred_at), c.event_id),
        );
        // The index is eventually consistent: an entry just delivered may
        // still be listed (its claim then fails on the version) and one
        // just written may show a moment later (the next pass has it).
        let mut entries = Vec::new();
        for shard in 0..PENDING_SHARDS {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(OUTBOX_INDEX)
                .key_condition_expression("outbox_state = :pending AND outbox_at > :after")
                .expression_attribute_values(
                    ":pending",
                    AttributeValue::S(format!("PENDING#{shard}")),
                )
                .expression_attribute_values(":after", AttributeValue::S(after.clone()))
                .limit(i32::try_from(limit).unwrap_or(i32::MAX))
                .send()
                .await
                .map_err(sdk_unavailable)?;
            for item in page.items.unwrap_or_default() {
                entries.push(entry_from_item(item)?);
            }
        }
        // Oldest first across the shards, as each shard is.
        entries.sort_by(|a: &OutboxEntry, b: &OutboxEntry| {
            (a.event().occurred_at(), a.event().id())
                .cmp(&(b.event().occurred_at(), b.event().id()))
        });
        entries.truncate(limit);
        Ok(entries)
    }

    pub(super) async fn query_order_outbox(
        &self,
        order_id: &OrderId,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut entries = Vec::new();
        let mut start_key = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .key_condition_expression("pk = :pk AND begins_with(sk, :event)")
                .expression_attribute_values(":pk", AttributeValue::S(order_pk(order_id)))
                .expression_attribute_values(":event", AttributeValue::S("EVENT#".into()))
                .set_exclusive_start_key(start_key)
                .send()
                .await
                .map_err(sdk_unavailable)?;
            start_key = page.last_evaluated_key().cloned();
            for item in page.items.unwrap_or_default() {
                entries.push(entry_from_item(item)?);
            }
            if start_key.is_none() {
                break;
            }
        }
        entries.sort_by(|a: &OutboxEntry, b: &OutboxEntry| {
            (a.event().occurred_at(), a.event().id())
                .cmp(&(b.event().occurred_at(), b.event().id()))
        });
        Ok(entries)
    }

    pub(super) async fn put_outbox(&self, next: &OutboxEntry) -> Result<(), StoreError> {
        let expected = next.version().saturating_sub(1);
        let written = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(outbox_item(next)?))
            .condition_expression("version = :expected")
            .expression_attribute_values(":expected", AttributeValue::N(expected.to_string()))
            .send()
            .await;
        match written {
            Ok(_) => Ok(()),
            Err(e) if is_conditional_check_failure(&e) => Err(StoreError::Conflict),
            Err(e) => Err(sdk_unavailable(e)),
        }
    }

    pub(super) async fn remove_personal_data(&self, order: &Order) -> Result<(), StoreError> {
        let written = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(order_pk(order.id())))
            .key("sk", AttributeValue::S(ORDER_SK.into()))
            .update_expression("REMOVE shopper_email")
            .condition_expression("version = :version")
            .expression_attribute_values(":version", AttributeValue::N(order.version().to_string()))
            .send()
            .await;
        match written {
            Ok(_) => Ok(()),
            Err(e) if is_conditional_check_failure(&e) => Err(StoreError::Conflict),
            Err(e) => Err(sdk_unavailable(e)),
        }
    }
}
