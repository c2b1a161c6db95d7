//! One contract, two stores: every case runs against the embedded store and
//! against DynamoDB on a real DynamoDB-compatible server (moto, started by
//! scripts/test.sh, its URL in SHOP_TEST_AWS_ENDPOINT).

use checkout::{
    AttemptWrite, AuditAction, AuditEntry, AuditOutcome, Catalog, CheckSchedule, CheckoutKey,
    CheckoutRecord, EmailAddress, Money, Order, OrderCursor, PaymentAttempt, PaymentStatus,
    ProviderChargeback, ProviderChargebackId, ProviderPaymentId, RefundId, Store, StoreError,
};
use std::sync::Arc;
use time::OffsetDateTime;

/// A write of `next` that gives rise to no events (the store writes what
/// it is given; which events a change makes is the domain's test).
fn no_events(next: &PaymentAttempt) -> AttemptWrite {
    AttemptWrite::new(next, next.clone(), OffsetDateTime::now_utc())
}

fn shopper() -> EmailAddress {
    EmailAddress::parse("shopper@example.com").unwrap()
}

fn new_order() -> (Order, PaymentAttempt, CheckoutRecord) {
    let catalog = Catalog::bundled();
    let order = Order::new(
        vec![
            catalog.price_line("mug", 2).unwrap(),
            catalog.price_line("tote", 1).unwrap(),
        ],
        shopper(),
        OffsetDateTime::now_utc(),
    )
    .unwrap();
    let attempt = PaymentAttempt::new(order.id().clone(), order.total(), OffsetDateTime::now_utc());
    let checkout = CheckoutRecord::new(
        CheckoutKey::generate(),
        order.id().clone(),
        order.lines(),
        OffsetDateTime::now_utc(),
    );
    (order, attempt, checkout)
}

async fn creates_and_loads_an_order_with_its_attempt(store: Arc<dyn Store>) {
    let (order, attempt, checkout) = new_order();
    store
        .create_order(&order, &attempt, &checkout)
        .await
        .unwrap();
    let record = store.load_order(order.id()).await.unwrap().expect("stored");
    assert_eq!(record.order, order);
    assert_eq!(record.attempts, vec![attempt.clone()]);
    let loaded = store.load_attempt(order.id(), attempt.id()).await.unwrap();
    assert_eq!(loaded, Some(attempt));
    assert_eq!(
        store
            .load_order(&checkout::OrderId::generate())
            .await
            .unwrap(),
        None
    );
}

/// Refunds and chargebacks live in their attempt and come back whole.
async fn keeps_an_attempts_refunds_and_chargebacks(store: Arc<dyn Store>) {
    let (order, attempt, checkout) = new_order();
    store
        .create_order(&order, &attempt, &checkout)
        .await
        .unwrap();
    // Seconds only: both stores keep RFC 3339 times, not nanoseconds.
    let now = OffsetDateTime::from_unix_timestamp(1_764_000_000).unwrap();
    let mut next = attempt.clone();
    next.observe(PaymentStatus::Paid);
    let refund_id = RefundId::generate();
    next.request_refund(&refund_id, Money::new(100, order.total().currency()), now)
        .unwrap();
    let chargeback = |reversed_at| ProviderChargeback {
        id: ProviderChargebackId::parse("chb_contract1").unwrap(),
        amount: Money::new(200, order.total().currency()),
        reason: Some("Account closed".into()),
        reversed_at,
    };
    next.merge_provider_money(&[], &[chargeback(None)], now);
    next.merge_provider_money(&[], &[chargeback(Some(now))], now);
    next.bump_version(now);
    store.update_attempt(&no_events(&next)).await.unwrap();
    let loaded = store.load_attempt(order.id(), attempt.id()).await.unwrap();
    assert_eq!(loaded.as_ref(), Some(&next));
    let loaded = loaded.unwrap();
    assert_eq!(loaded.refunds()[0].id(), &refund_id);
    assert_eq!(loaded.chargebacks()[0].reversed_at, Some(now));
}

async fn refuses_to_create_an_order_twice(store: Arc<dyn Store>) {
    let (order, attempt, checkout) = new_order();
    store
        .create_order(&order, &attempt, &checkout)
        .await
        .unwrap();
    let mut other_attempt =
        PaymentAttempt::new(order.id().clone(), order.total(), OffsetDateTime::now_utc());
    other_attempt.observe(PaymentStatus::Paid);
    assert_eq!(
        store.create_order(&order, &other_attempt, &checkout).await,
        Err(StoreError::AlreadyExists)
    );
    // Neither item of the refused transaction was written.
    let record = store.load_order(order.id()).await.unwrap().unwrap();
    assert_eq!(record.attempts, vec![attempt]);
}

async fn writes_attempts_only_over_the_version_they_were_read_with(store: Arc<dyn Store>) {
    let (order, attempt, checkout) = new_order();
    store
        .create_order(&order, &attempt, &checkout)
        .await
        .unwrap();

    let mut open = attempt.clone();
    open.record_provider_payment(
        ProviderPaymentId::parse("tr_contract1").unwrap(),
        Some("https://pay.example/1".into()),
    );
    open.observe(PaymentStatus::Open);
    open.bump_version(OffsetDateTime::now_utc());
    store.update_attempt(&no_events(&open)).await.unwrap();

    // A writer that read the first version loses.
    let mut stale = attempt.clone();
    stale.observe(PaymentStatus::Failed);
    stale.bump_version(OffsetDateTime::now_utc());
    assert_eq!(
        store.update_attempt(&no_events(&stale)).await,
        Err(StoreError::Conflict)
    );

    let stored = store
        .load_attempt(order.id(), attempt.id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, open);
}

async fn concurrent_writers_never_lose_an_update(store: Arc<dyn Store>) {
    let (order, attempt, checkout) = new_order();
    store
        .create_order(&order, &attempt, &checkout)
        .await
        .unwrap();
    // Eight writers each bump the version once, re-reading after a conflict.
    let writers = (0..8).map(|_| {
        let store = store.clone();
        let (order_id, attempt_id) = (order.id().clone(), attempt.id().clone());
        tokio::spawn(async move {
            let mut conflicts = 0;
            loop {
                let mut next = store
                    .load_attempt(&order_id, &attempt_id)
                    .await
                    .unwrap()
                    .unwrap();
                next.bump_version(OffsetDateTime::now_utc());
                match store.update_attempt(&no_events(&next)).await {
                    Ok(()) => return conflicts,
                    Err(StoreError::Conflict) => conflicts += 1,
                    Err(e) => panic!("{e}"),
                }
            }
        })
    });
    for writer in writers {
        writer.await.unwrap();
    }
    let stored = store
        .load_attempt(order.id(), attempt.id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.version(), attempt.version() + 8);
}

async fn a_checkout_key_creates_one_order(store: Arc<dyn Store>) {
    let (order, attempt, checkout) = new_order();
    assert_eq!(store.find_checkout(&checkout.key).await.unwrap(), None);
    store
        .create_order(&order, &attempt, &checkout)
        .await
        .unwrap();
    assert_eq!(
        store.find_checkout(&checkout.key).await.unwrap(),
        Some(checkout.clone())
    );

    // Another order under the same key is refused, and nothing of it written.
    let (other, other_attempt, mut other_checkout) = new_order();
    other_checkout.key = checkout.key.clone();
    assert_eq!(
        store
            .create_order(&other, &other_attempt, &other_checkout)
            .await,
        Err(StoreError::AlreadyExists)
    );
    assert_eq!(store.load_order(other.id()).await.unwrap(), None);
    assert_eq!(
        store.find_checkout(&checkout.key).await.unwrap(),
        Some(checkout)
    );
}

async fn an_expired_checkout_key_is_forgotten(store: Arc<dyn Store>) {
    let (order, attempt, mut checkout) = new_order();
    checkout.expires_at = OffsetDateTime::now_utc() - time::Duration::seconds(5);
    store
        .create_order(&order, &attempt, &checkout)
        .await
        .unwrap();
    assert_eq!(store.find_checkout(&checkout.key).await.unwrap(), None);
    let (other, other_attempt, mut reuse) = new_order();
    reuse.key = checkout.key.clone();
    store
        .create_order(&other, &other_attempt, &reuse)
        .await
        .unwrap();
    assert_eq!(
        store
            .find_checkout(&checkout.key)
            .await
            .unwrap()
            .map(|r| r.order_id),
        Some(other.id().clone())
    );
}

async fn attempts_are_added_one_at_a_time(store: Arc<dyn Store>) {
    let (order, first, checkout) = new_order();
    store.create_order(&order, &first, &checkout).await.unwrap();
    // Two shoppers' tabs both read version 1 and both try a new attempt.
    let next = order.for_new_attempt();
    let second = PaymentAttempt::new(order.id().clone(), order.total(), OffsetDateTime::now_utc());
    let rival = PaymentAttempt::new(order.id().clone(), order.total(), OffsetDateTime::now_utc());
    store.add_attempt(&next, &second).await.unwrap();
    assert_eq!(
        store.add_attempt(&next, &rival).await,
        Err(StoreError::Conflict)
    );
    let record = store.load_order(order.id()).await.unwrap().unwrap();
    assert_eq!(record.order.version(), 2);
    let ids: Vec<_> = record.attempts.iter().map(|a| a.id().clone()).collect();
    assert_eq!(ids, vec![first.id().clone(), second.id().clone()]);
}

/// Writes that arrive together (the embedded store commits them as one
/// group) each get their own answer: a stale write fails alone, and every
/// other write is kept, in the attempt and in the order as read back.
async fn writes_that_arrive_together_each_get_their_own_answer(store: Arc<dyn Store>) {
    let mut orders = Vec::new();
    for _ in 0..16 {
        let (order, attempt, checkout) = new_order();
        store
            .create_order(&order, &attempt, &checkout)
            .await
            .unwrap();
        orders.push((order, attempt));
    }
    let writes = orders.iter().flat_map(|(_, attempt)| {
        let mut next = attempt.clone();
        next.observe(PaymentStatus::Open);
        next.bump_version(OffsetDateTime::now_utc());
        // Read with a version that was never stored.
        let mut stale = attempt.clone();
        for _ in 0..5 {
            stale.bump_version(OffsetDateTime::now_utc());
        }
        stale.observe(PaymentStatus::Failed);
        stale.bump_version(OffsetDateTime::now_utc());
        [(next, true), (stale, false)].map(|(write, valid)| {
            let store = store.clone();
            tokio::spawn(async move { (valid, store.update_attempt(&no_events(&write)).await) })
        })
    });
    for write in writes.collect::<Vec<_>>() {
        let (valid, result) = write.await.unwrap();
        if valid {
            assert_eq!(result, Ok(()));
        } else {
            assert_eq!(result, Err(StoreError::Conflict));
        }
    }
    for (order, attempt) in &orders {
        let record = store.load_order(order.id()).await.unwrap().unwrap();
        assert_eq!(record.attempts.len(), 1);
        assert_eq!(record.attempts[0].status(), PaymentStatus::Open);
        assert_eq!(record.attempts[0].version(), attempt.version() + 1);
    }
}

async fn lists_attempts_due_a_check_longest_overdue_first(store: Arc<dyn Store>) {
    let now = OffsetDateTime::now_utc();
    let mut created = Vec::new();
    for (status, overdue_minutes) in [
        (PaymentStatus::Open, 30),
        (PaymentStatus::Paid, 50),
        (PaymentStatus::Pending, 60),
        (PaymentStatus::Created, 10),
    ] {
        let (order, attempt, checkout) = new_order();
        let mut attempt =
            attempt.with_first_check(now - time::Duration::minutes(overdue_minutes), &at_once());
        attempt.observe(status);
        store
            .create_order(&order, &attempt, &checkout)
            .await
            .unwrap();
        created.push(attempt);
    }
    // Created long ago, but its next check is in the future (backed off).
    let (order, _, checkout) = new_order();
    let later = PaymentAttempt::new(
        order.id().clone(),
        order.total(),
        now - time::Duration::days(3),
    )
    .with_first_check(now + time::Duration::hours(1), &at_once());
    store.create_order(&order, &later, &checkout).await.unwrap();

    let due = store.due_attempts(now, 1_000).await.unwrap();
    let ids: Vec<_> = due.iter().map(|a| a.id()).collect();
    let position = |id| ids.iter().position(|x| *x == id);
    let (pending, open, unconfirmed) = (
        position(created[2].id()).expect("pending is due"),
        position(created[0].id()).expect("open is due"),
        position(created[3].id()).expect("created is due"),
    );
    assert!(
        pending < open && open < unconfirmed,
        "longest overdue first"
    );
    assert!(!ids.contains(&created[1].id()), "a paid attempt is not due");
    assert!(
        !ids.contains(&later.id()),
        "a backed-off attempt is not due"
    );
    assert!(due.iter().all(|a| a.is_live() && a.due_at() <= now));

    // Once final, it drops out; once rescheduled, it waits.
    let mut paid = created[0].clone();
    paid.observe(PaymentStatus::Paid);
    paid.bump_version(now);
    store.update_attempt(&no_events(&paid)).await.unwrap();
    let mut rescheduled = created[2].clone();
    rescheduled.schedule_next_check(
        now,
        &CheckSchedule {
            first_check_after: std::time::Duration::from_secs(300),
            max_interval: std::time::Duration::from_secs(300),
        },
    );
    rescheduled.bump_version(now);
    store
        .update_attempt(&no_events(&rescheduled))
        .await
        .unwrap();
    let due = store.due_attempts(now, 1_000).await.unwrap();
    assert!(due
        .iter()
        .all(|a| a.id() != paid.id() && a.id() != rescheduled.id()));
}

async fn finds_an_attempt_by_its_provider_payment_id(store: Arc<dyn Store>) {
    let (order, attempt, checkout) = new_order();
    store
        .create_order(&order, &attempt, &checkout)
        .await
        .unwrap();
    let provider_id = ProviderPaymentId::parse(&format!("tr_{}", &uuid_like()[..10])).unwrap();
    assert_eq!(
        store
            .find_attempt_by_provider_payment(&provider_id)
            .await
            .unwrap(),
        None
    );
    let mut open = attempt.clone();
    open.record_provider_payment(provider_id.clone(), Some("https://pay.example/1".into()));
    open.observe(PaymentStatus::Open);
    open.bump_version(OffsetDateTime::now_utc());
    store.update_attempt(&no_events(&open)).await.unwrap();
    let found = store
        .find_attempt_by_provider_payment(&provider_id)
        .await
        .unwrap();
    assert_eq!(found, Some(open));
    // An id nobody recorded is simply not found; one too long for a key
    // cannot even be made.
    let unknown = ProviderPaymentId::parse("tr_unknown00").unwrap();
    assert_eq!(
        store
            .find_attempt_by_provider_payment(&unknown)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        ProviderPaymentId::parse(&format!("tr_{}", "x".repeat(5_000))),
        None
    );
}

/// Both stores answer every refused write with the same error, so the
/// service's retry decisions hold whichever store runs.
async fn refused_writes_get_the_same_error_from_every_store(store: Arc<dyn Store>) {
    let (order, attempt, checkout) = new_order();
    store
        .create_order(&order, &attempt, &checkout)
        .await
        .unwrap();
    // The same order again, under another checkout key.
    let other_key = CheckoutRecord::new(
        CheckoutKey::generate(),
        order.id().clone(),
        order.lines(),
        OffsetDateTime::now_utc(),
    );
    let again = PaymentAttempt::new(order.id().clone(), order.total(), OffsetDateTime::now_utc());
    assert_eq!(
        store.create_order(&order, &again, &other_key).await,
        Err(StoreError::AlreadyExists)
    );
    // An attempt that exists already, over the right order version.
    let next_order = order.for_new_attempt();
    assert_eq!(
        store.add_attempt(&next_order, &attempt).await,
        Err(StoreError::Conflict),
        "adding an existing attempt"
    );
    // A stale order version.
    let stale_order = order.for_new_attempt().for_new_attempt();
    assert_eq!(
        store.add_attempt(&stale_order, &again).await,
        Err(StoreError::Conflict),
        "adding over a stale order version"
    );
    // An attempt that was never stored.
    let mut never =
        PaymentAttempt::new(order.id().clone(), order.total(), OffsetDateTime::now_utc());
    never.bump_version(OffsetDateTime::now_utc());
    assert_eq!(
        store.update_attempt(&no_events(&never)).await,
        Err(StoreError::Conflict),
        "updating an attempt that does not exist"
    );
    // Nothing of the refused writes is there.
    let record = store.load_order(order.id()).await.unwrap().unwrap();
    assert_eq!(record.order, order);
    assert_eq!(record.attempts, vec![attempt]);
}

/// An order created at `at`, stored with its first attempt.
async fn order_created_at(store: &dyn Store, at: OffsetDateTime) -> Order {
    let catalog = Catalog::bundled();
    let order = Order::new(vec![catalog.price_line("mug", 1).unwrap()], shopper(), at).unwrap();
    let attempt = PaymentAttempt::new(order.id().clone(), order.total(), at);
    let checkout = CheckoutRecord::new(
        CheckoutKey::generate(),
        order.id().clone(),
        order.lines(),
        OffsetDateTime::now_utc(),
    );
    store
        .create_order(&order, &attempt, &checkout)
        .await
        .unwrap();
    order
}

/// The back office's list: newest first, in pages that neither skip nor
/// repeat an order, across months and within one millisecond.
async fn lists_orders_newest_first_in_pages(store: Arc<dyn Store>) {
    let empty = store.recent_orders(None, 10).await.unwrap();
    assert!(empty.orders.is_empty() && empty.next.is_none());

    // Whole milliseconds: that is what stores sort by.
    let now =
        OffsetDateTime::from_unix_timestamp(OffsetDateTime::now_utc().unix_timestamp()).unwrap();
    let mut created = Vec::new();
    for at in [
        now - time::Duration::days(70),
        now - time::Duration::days(35),
        now - time::Duration::days(1),
        now - time::Duration::hours(1),
        now - time::Duration::hours(1), // the same millisecond as the one before
        now,
    ] {
        created.push(order_created_at(store.as_ref(), at).await);
    }
    // Adding an attempt rewrites the order (its version): still listed once.
    let first = created[0].for_new_attempt();
    let again = PaymentAttempt::new(first.id().clone(), first.total(), now);
    store.add_attempt(&first, &again).await.unwrap();
    created[0] = first;

    let mut expected = created.clone();
    expected
        .sort_by(|a, b| (b.created_at(), b.id().as_str()).cmp(&(a.created_at(), a.id().as_str())));
    let mut listed = Vec::new();
    let mut after: Option<OrderCursor> = None;
    let mut pages = 0;
    loop {
        let page = store.recent_orders(after.as_ref(), 2).await.unwrap();
        assert!(page.orders.len() <= 2);
        pages += 1;
        listed.extend(page.orders);
        match page.next {
            // The cursor survives a round trip through a link.
            Some(next) => after = Some(OrderCursor::parse(&next.to_token()).unwrap()),
            None => break,
        }
    }
    assert_eq!(pages, 3, "six orders in pages of two");
    assert_eq!(listed, expected);
    let whole = store.recent_orders(None, 100).await.unwrap();
    assert_eq!(whole.orders, expected);
    assert_eq!(whole.next, None);
}

/// An order's audit log keeps every entry, in time order, apart from
/// other orders' entries.
async fn keeps_an_orders_audit_log(store: Arc<dyn Store>) {
    let (order, attempt, checkout) = new_order();
    store
        .create_order(&order, &attempt, &checkout)
        .await
        .unwrap();
    let other = checkout::OrderId::generate();
    assert_eq!(store.audit_log(order.id()).await.unwrap(), vec![]);
    let at = OffsetDateTime::from_unix_timestamp(1_764_000_000).unwrap();
    let entry = |order_id: &checkout::OrderId, seconds: i64, action, outcome| AuditEntry {
        order_id: order_id.clone(),
        at: at + time::Duration::seconds(seconds),
        operator: "alice".into(),
        action,
        outcome,
    };
    let entries = vec![
        entry(order.id(), 0, AuditAction::Refresh, AuditOutcome::Done),
        entry(
            order.id(),
            1,
            AuditAction::Refund {
                refund_id: RefundId::generate(),
                amount: Money::new(500, order.total().currency()),
                reason: "damaged in transit".into(),
            },
            AuditOutcome::Refused("more than remains".into()),
        ),
        entry(
            order.id(),
            2,
            AuditAction::ReleaseAuthorization,
            AuditOutcome::Failed("the provider is unavailable".into()),
        ),
    ];
    // Appended out of order: the log is in time order.
    for e in [&entries[2], &entries[0], &entries[1]] {
        store.append_audit(e).await.unwrap();
    }
    store
        .append_audit(&entry(&other, 0, AuditAction::Refresh, AuditOutcome::Done))
        .await
        .unwrap();
    assert_eq!(store.audit_log(order.id()).await.unwrap(), entries);
    assert_eq!(store.audit_log(&other).await.unwrap().len(), 1);
    // The order's own record is untouched by its log.
    let record = store.load_order(order.id()).await.unwrap().unwrap();
    assert_eq!(record.attempts, vec![attempt]);
}

/// The outbox: an event is written with its change, in the same write
/// (never with a write that lost), once per id; its delivery's record is
/// written over the version read; a done entry leaves the pending list.
async fn keeps_events_with_their_change(store: Arc<dyn Store>) {
    let (order, first, checkout) = new_order();
    store.create_order(&order, &first, &checkout).await.unwrap();
    let now = OffsetDateTime::from_unix_timestamp(1_764_000_000).unwrap();
    let second = PaymentAttempt::new(order.id().clone(), order.total(), now);
    store
        .add_attempt(&order.for_new_attempt(), &second)
        .await
        .unwrap();
    let paid = |attempt: &PaymentAttempt| {
        let mut next = attempt.clone();
        next.observe(PaymentStatus::Paid);
        next.bump_version(now);
        AttemptWrite::new(attempt, next, now)
    };
    // A write that loses its race writes none of its events.
    let mut stale = second.clone();
    stale.bump_version(now);
    assert_eq!(
        store.update_attempt(&paid(&stale)).await,
        Err(StoreError::Conflict)
    );
    assert!(store.order_outbox(order.id()).await.unwrap().is_empty());

    let write = paid(&first);
    assert_eq!(write.events().len(), 1);
    store.update_attempt(&write).await.unwrap();
    // The second attempt paid too: the order's `order.paid` stays the first's.
    store.update_attempt(&paid(&second)).await.unwrap();
    let entries = store.order_outbox(order.id()).await.unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let entry = &entries[0];
    assert_eq!(entry.event(), &write.events()[0]);
    assert_eq!(entry.event().attempt_id(), first.id());
    let pending = |entries: Vec<checkout::OutboxEntry>| {
        entries
            .into_iter()
            .any(|e| e.event().order_id() == order.id())
    };
    assert!(pending(store.pending_outbox(None, 1000).await.unwrap()));

    // Claimed over the version read, once.
    let policy = checkout::RetryPolicy::default();
    let claimed = entry.claimed(now, &policy);
    store.update_outbox(&claimed).await.unwrap();
    assert_eq!(
        store.update_outbox(&claimed).await,
        Err(StoreError::Conflict)
    );
    let mut delivered = claimed.next_version();
    delivered.record_sent(checkout::Channel::ShopperMail, now, Some("m1".into()));
    delivered.release(&[checkout::Channel::ShopperMail]);
    assert!(delivered.is_done());
    store.update_outbox(&delivered).await.unwrap();
    assert_eq!(
        store.order_outbox(order.id()).await.unwrap(),
        vec![delivered]
    );
    assert!(!pending(store.pending_outbox(None, 1000).await.unwrap()));

    // Erasing the shopper's address writes over the version read only.
    let record = store.load_order(order.id()).await.unwrap().unwrap();
    let mut erased = record.order.clone();
    assert!(erased.erase_personal_data());
    assert_eq!(
        store.erase_personal_data(&order).await,
        Err(StoreError::Conflict)
    );
    store.erase_personal_data(&erased).await.unwrap();
    let after = store.load_order(order.id()).await.unwrap().unwrap();
    assert_eq!(after.order.shopper_email(), None);
    assert_eq!(after.attempts.len(), 2);
    // An attempt added over the order as read before the erasure (its
    // version is the same) keeps the address erased.
    let third = PaymentAttempt::new(order.id().clone(), order.total(), now);
    store
        .add_attempt(&record.order.for_new_attempt(), &third)
        .await
        .unwrap();
    let after = store.load_order(order.id()).await.unwrap().unwrap();
    assert_eq!(after.order.shopper_email(), None);
    assert_eq!(after.attempts.len(), 3);
}

macro_rules! contract {
    ($store_kind:ident, $make:expr) => {
        mod $store_kind {
            use super::*;

            #[tokio::test]
            async fn keeps_events_with_their_change() {
                super::keeps_events_with_their_change($make).await;
            }

            #[tokio::test]
            async fn creates_and_loads_an_order_with_its_attempt() {
                super::creates_and_loads_an_order_with_its_attempt($make).await;
            }

            #[tokio::test]
            async fn keeps_an_attempts_refunds_and_chargebacks() {
                super::keeps_an_attempts_refunds_and_chargebacks($make).await;
            }

            #[tokio::test]
            async fn refuses_to_create_an_order_twice() {
                super::refuses_to_create_an_order_twice($make).await;
            }

            #[tokio::test]
            async fn writes_attempts_only_over_the_version_they_were_read_with() {
                super::writes_attempts_only_over_the_version_they_were_read_with($make).await;
            }

            #[tokio::test]
            async fn a_checkout_key_creates_one_order() {
                super::a_checkout_key_creates_one_order($make).await;
            }

            #[tokio::test]
            async fn an_expired_checkout_key_is_forgotten() {
                super::an_expired_checkout_key_is_forgotten($make).await;
            }

            #[tokio::test]
            async fn attempts_are_added_one_at_a_time() {
                super::attempts_are_added_one_at_a_time($make).await;
            }

            #[tokio::test]
            async fn lists_attempts_due_a_check_longest_overdue_first() {
                super::lists_attempts_due_a_check_longest_overdue_first($make).await;
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn counts_sign_in_attempts_in_a_window() {
                super::counts_sign_in_attempts_in_a_window($make).await;
            }

            #[tokio::test]
            async fn ends_an_operators_sessions() {
                super::ends_an_operators_sessions($make).await;
            }

            #[tokio::test]
            async fn finds_an_attempt_by_its_provider_payment_id() {
                super::finds_an_attempt_by_its_provider_payment_id($make).await;
            }

            #[tokio::test]
            async fn refused_writes_get_the_same_error_from_every_store() {
                super::refused_writes_get_the_same_error_from_every_store($make).await;
            }

            #[tokio::test]
            async fn lists_orders_newest_first_in_pages() {
                super::lists_orders_newest_first_in_pages($make).await;
            }

            #[tokio::test]
            async fn keeps_an_orders_audit_log() {
                super::keeps_an_orders_audit_log($make).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn writes_that_arrive_together_each_get_their_own_answer() {
                super::writes_that_arrive_together_each_get_their_own_answer($make).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn concurrent_writers_never_lose_an_update() {
                super::concurrent_writers_never_lose_an_update($make).await;
            }
        }
    };
}

/// The embedded store's writer thread lets go of the file with the store:
/// what was written together is there when the file is opened again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_embedded_store_reopens_with_every_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.redb");
    let store = Arc::new(store::EmbeddedStore::open(&path).unwrap());
    let creates: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let (order, attempt, checkout) = new_order();
                store
                    .create_order(&order, &attempt, &checkout)
                    .await
                    .unwrap();
                order.id().clone()
            })
        })
        .collect();
    let mut ids = Vec::new();
    for create in creates {
        ids.push(create.await.unwrap());
    }
    drop(store);
    let reopened = store::EmbeddedStore::open(&path).unwrap();
    for id in &ids {
        assert!(
            reopened.load_order(id).await.unwrap().is_some(),
            "{id} was lost"
        );
    }
}

/// Every order item carries its attempts' copies; one that lost them is
/// an error, never an order with no payment (which a shopper could pay
/// again).
#[tokio::test]
async fn dynamodb_refuses_an_order_item_without_its_attempts() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let (client, table, dynamo) = dynamodb_table().await;
    let (order, attempt, checkout) = new_order();
    dynamo
        .create_order(&order, &attempt, &checkout)
        .await
        .unwrap();
    client
        .update_item()
        .table_name(&table)
        .key("pk", AttributeValue::S(format!("ORDER#{}", order.id())))
        .key("sk", AttributeValue::S("ORDER".into()))
        .update_expression("REMOVE #copy")
        .expression_attribute_names("#copy", format!("attempt#{}", attempt.id()))
        .send()
        .await
        .unwrap();
    assert!(matches!(
        dynamo.load_order(order.id()).await,
        Err(StoreError::Unavailable(_))
    ));
}

/// A webhook can come moments after checkout recorded the payment's id.
/// The lookup reads its own writes (a strongly consistent GetItem of the
/// lookup item, no index), and the id stays with its attempt.
#[tokio::test]
async fn dynamodb_finds_a_just_recorded_payment_and_keeps_the_id_with_it() {
    let (_client, _table, dynamo) = dynamodb_table().await;
    let (order, attempt, checkout) = new_order();
    dynamo
        .create_order(&order, &attempt, &checkout)
        .await
        .unwrap();
    let provider_id = ProviderPaymentId::parse("tr_lookup0001").unwrap();
    let mut next = attempt.clone();
    next.record_provider_payment(provider_id.clone(), Some("https://pay.example/1".into()));
    next.bump_version(OffsetDateTime::now_utc());
    dynamo.update_attempt(&no_events(&next)).await.unwrap();
    let found = dynamo
        .find_attempt_by_provider_payment(&provider_id)
        .await
        .unwrap();
    assert_eq!(found, Some(next.clone()));
    // The id stays with its attempt: another attempt cannot claim it.
    let (other_order, other_attempt, other_checkout) = new_order();
    dynamo
        .create_order(&other_order, &other_attempt, &other_checkout)
        .await
        .unwrap();
    let mut claim = other_attempt.clone();
    claim.record_provider_payment(provider_id.clone(), None);
    claim.bump_version(OffsetDateTime::now_utc());
    assert!(dynamo.update_attempt(&no_events(&claim)).await.is_err());
    assert_eq!(
        dynamo
            .find_attempt_by_provider_payment(&provider_id)
            .await
            .unwrap(),
        Some(next)
    );
}

/// Sign-in attempts are counted per key in a window that starts with the
/// first; keys are independent; one can be taken back; an ended window
/// counts nothing.
async fn counts_sign_in_attempts_in_a_window(store: Arc<dyn Store>) {
    let key = format!("account:{}", uuid_like());
    let other = format!("client:{}", uuid_like());
    let window = std::time::Duration::from_secs(900);
    let count = |key: &str, at| {
        let (store, key) = (store.clone(), key.to_owned());
        async move { store.count_sign_in_attempt(&key, at, window).await.unwrap() }
    };
    // Now, not a fixed past time: DynamoDB's TTL may remove ended windows.
    let t0 = OffsetDateTime::now_utc();
    for expected in 1..=3 {
        let at = t0 + time::Duration::seconds(i64::from(expected));
        assert_eq!(count(&key, at).await, expected);
    }
    assert_eq!(count(&other, t0).await, 1);
    let inside = t0 + time::Duration::seconds(899);
    store.forgive_sign_in_attempt(&key, inside).await.unwrap();
    assert_eq!(count(&key, inside).await, 3);
    let after = t0 + time::Duration::seconds(901);
    // Nothing to take back from an ended window; it starts anew.
    store.forgive_sign_in_attempt(&key, after).await.unwrap();
    assert_eq!(count(&key, after).await, 1, "a new window");
    // Concurrent failures are each counted once.
    let racing = format!("client:{}", uuid_like());
    let counts: Vec<_> = (0..8)
        .map(|_| {
            let (store, racing) = (store.clone(), racing.clone());
            tokio::spawn(async move { store.count_sign_in_attempt(&racing, t0, window).await })
        })
        .collect();
    let mut seen = Vec::new();
    for count in counts {
        seen.push(count.await.unwrap().unwrap());
    }
    seen.sort_unstable();
    assert_eq!(seen, (1..=8).collect::<Vec<u32>>());
}

/// An operator's sessions end at a time every process reads; an account
/// change is marked too; neither moves back.
async fn ends_an_operators_sessions(store: Arc<dyn Store>) {
    use checkout::{OperatorSessions, SessionsEnd};
    let name = format!("op{}", &uuid_like()[..8]);
    assert_eq!(
        store.operator_sessions(&name).await.unwrap(),
        OperatorSessions::default()
    );
    let t1 = OffsetDateTime::from_unix_timestamp(1_764_000_000).unwrap();
    store
        .end_operator_sessions(&name, t1, SessionsEnd::SignOut)
        .await
        .unwrap();
    let ended = |at| OperatorSessions {
        ended_at: Some(at),
        account_changed_at: None,
    };
    assert_eq!(store.operator_sessions(&name).await.unwrap(), ended(t1));
    let earlier = t1 - time::Duration::minutes(5);
    store
        .end_operator_sessions(&name, earlier, SessionsEnd::SignOut)
        .await
        .unwrap();
    assert_eq!(store.operator_sessions(&name).await.unwrap(), ended(t1));
    let later = t1 + time::Duration::minutes(5);
    store
        .end_operator_sessions(&name, later, SessionsEnd::AccountChanged)
        .await
        .unwrap();
    assert_eq!(
        store.operator_sessions(&name).await.unwrap(),
        OperatorSessions {
            ended_at: Some(later),
            account_changed_at: Some(later),
        }
    );
    let latest = later + time::Duration::minutes(5);
    store
        .end_operator_sessions(&name, latest, SessionsEnd::SignOut)
        .await
        .unwrap();
    assert_eq!(
        store.operator_sessions(&name).await.unwrap(),
        OperatorSessions {
            ended_at: Some(latest),
            account_changed_at: Some(later),
        }
    );
    assert_eq!(
        store.operator_sessions("someone_else").await.unwrap(),
        OperatorSessions::default()
    );
    // An account change stamped before a sign-out that is already stored
    // (another machine's clock) is still marked.
    let other = format!("op{}", &uuid_like()[..8]);
    store
        .end_operator_sessions(&other, later, SessionsEnd::SignOut)
        .await
        .unwrap();
    store
        .end_operator_sessions(&other, t1, SessionsEnd::AccountChanged)
        .await
        .unwrap();
    assert_eq!(
        store.operator_sessions(&other).await.unwrap(),
        OperatorSessions {
            ended_at: Some(later),
            account_changed_at: Some(t1),
        }
    );
}

/// A new table on moto, its raw client (to change items behind the
/// store's back) and the store on it.
async fn dynamodb_table() -> (aws_sdk_dynamodb::Client, String, store::DynamoDbStore) {
    let endpoint = test_support::moto_endpoint();
    let client = store::DynamoDbStore::client_from_env(Some(&endpoint)).await;
    let table = format!("contract-{}", uuid_like());
    store::TableSetup::create_if_missing(&client, &table)
        .await
        .unwrap();
    let dynamo = store::DynamoDbStore::new(client.clone(), table.clone());
    (client, table, dynamo)
}

pub(crate) fn embedded() -> Arc<dyn Store> {
    // The folder is leaked on purpose: the database must outlive this call.
    let dir = tempfile::tempdir().unwrap().keep();
    Arc::new(store::EmbeddedStore::open(&dir.join("shop.redb")).unwrap())
}

pub(crate) async fn dynamodb() -> Arc<dyn Store> {
    let endpoint = test_support::moto_endpoint();
    let client = store::DynamoDbStore::client_from_env(Some(&endpoint)).await;
    let table = format!("contract-{}", uuid_like());
    assert!(store::TableSetup::create_if_missing(&client, &table)
        .await
        .unwrap());
    assert!(!store::TableSetup::create_if_missing(&client, &table)
        .await
        .unwrap());
    Arc::new(store::DynamoDbStore::new(client, table))
}

fn uuid_like() -> String {
    checkout::OrderId::generate().as_str().replace("ord_", "")
}

contract!(embedded_store, embedded());
contract!(dynamodb_store, dynamodb().await);

/// A check schedule whose first check is due at once.
fn at_once() -> CheckSchedule {
    CheckSchedule {
        first_check_after: std::time::Duration::ZERO,
        max_interval: std::time::Duration::from_secs(3600),
    }
}
