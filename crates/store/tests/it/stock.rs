//! Stock on both stores: units are taken in the same write as the order
//! and attempt that hold them (never below zero, the write refused whole
//! when they are not there), given back and taken again with the
//! attempt's change, and recorded as oversold when money comes for units
//! that are gone.

use crate::contract::{dynamodb, embedded};
use checkout::{
    ArticleId, AttemptWrite, Catalog, CheckoutKey, CheckoutRecord, EmailAddress, HoldState,
    IncidentKind, Order, PaymentAttempt, PaymentStatus, StockLevels, StockSetting, Store,
    StoreError,
};
use std::sync::Arc;
use time::OffsetDateTime;

fn mug() -> ArticleId {
    ArticleId::parse("mug").unwrap()
}

/// An order of `mugs` mugs (tracked at `levels`) and one tote (not
/// tracked), its first attempt holding the mugs, and its checkout record.
fn order_of(mugs: u32, levels: &StockLevels) -> (Order, PaymentAttempt, CheckoutRecord) {
    let catalog = Catalog::bundled();
    let now = OffsetDateTime::now_utc();
    let lines = vec![
        catalog.price_line("mug", i64::from(mugs)).unwrap(),
        catalog.price_line("tote", 1).unwrap(),
    ];
    let shopper = EmailAddress::parse("shopper@example.com").unwrap();
    let order = Order::new(lines, shopper, now).unwrap();
    let attempt = PaymentAttempt::new(order.id().clone(), order.total(), now)
        .with_stock(levels.hold_for(order.lines()));
    let checkout = CheckoutRecord::new(
        CheckoutKey::generate(),
        order.id().clone(),
        order.lines(),
        now,
    );
    (order, attempt, checkout)
}

/// An operator sets the mugs' level, over the one they read.
async fn set_mugs(store: &dyn Store, available: u32) {
    let setting = StockSetting {
        article_id: mug(),
        previous: mugs_left(store).await,
        available,
        operator: "ann".into(),
        at: OffsetDateTime::now_utc(),
    };
    store.set_stock(&setting).await.unwrap();
}

async fn mugs_left(store: &dyn Store) -> Option<u32> {
    let articles = [mug(), ArticleId::parse("tote").unwrap()];
    let levels = store.stock_levels(&articles).await.unwrap();
    assert_eq!(
        levels.available(&articles[1]),
        None,
        "the tote is not tracked"
    );
    levels.available(&mug())
}

fn change(before: &PaymentAttempt, status: PaymentStatus) -> AttemptWrite {
    let now = OffsetDateTime::now_utc();
    let mut next = before.clone();
    next.observe(status);
    if status == PaymentStatus::Paid && !next.has_taken_money() {
        next.record_incident(IncidentKind::PaidAfterGivenUp, now);
    }
    next.bump_version(now);
    AttemptWrite::new(before, next, now)
}

async fn takes_stock_with_the_order_and_refuses_what_is_not_there(store: Arc<dyn Store>) {
    assert_eq!(mugs_left(&*store).await, None);
    assert!(store.seed_stock(&mug(), 3).await.unwrap());
    assert!(
        !store.seed_stock(&mug(), 50).await.unwrap(),
        "tracked already"
    );
    let levels = store.stock_levels(&[mug()]).await.unwrap();
    assert_eq!(levels.available(&mug()), Some(3));

    let (order, attempt, checkout) = order_of(2, &levels);
    store
        .create_order(&order, &attempt, &checkout)
        .await
        .unwrap();
    assert_eq!(mugs_left(&*store).await, Some(1));

    // Two more: not there. Nothing of the order is written.
    let (order, attempt, checkout) = order_of(2, &levels);
    assert_eq!(
        store.create_order(&order, &attempt, &checkout).await,
        Err(StoreError::SoldOut)
    );
    assert_eq!(store.load_order(order.id()).await.unwrap(), None);
    assert_eq!(store.find_checkout(&checkout.key).await.unwrap(), None);
    assert_eq!(mugs_left(&*store).await, Some(1));

    // The operator sets the level; a new attempt takes from it.
    set_mugs(&*store, 4).await;
    let (order, first, checkout) = order_of(1, &levels);
    store.create_order(&order, &first, &checkout).await.unwrap();
    let second = PaymentAttempt::new(order.id().clone(), order.total(), OffsetDateTime::now_utc())
        .with_stock(levels.hold_for(order.lines()));
    store
        .add_attempt(&order.for_new_attempt(), &second)
        .await
        .unwrap();
    assert_eq!(mugs_left(&*store).await, Some(2));
    let third = PaymentAttempt::new(order.id().clone(), order.total(), OffsetDateTime::now_utc())
        .with_stock(levels.hold_for(order.lines()));
    set_mugs(&*store, 0).await;
    let third_version = order.for_new_attempt().for_new_attempt();
    let refused = store.add_attempt(&third_version, &third).await;
    assert_eq!(refused, Err(StoreError::SoldOut));
    assert_eq!(
        store
            .load_order(order.id())
            .await
            .unwrap()
            .unwrap()
            .attempts
            .len(),
        2
    );
}

async fn gives_back_takes_again_and_records_oversold(store: Arc<dyn Store>) {
    store.seed_stock(&mug(), 2).await.unwrap();
    let levels = store.stock_levels(&[mug()]).await.unwrap();
    let (order, attempt, checkout) = order_of(2, &levels);
    store
        .create_order(&order, &attempt, &checkout)
        .await
        .unwrap();
    assert_eq!(mugs_left(&*store).await, Some(0));

    // It expired: the mugs go back with that write, once.
    let expired = change(&attempt, PaymentStatus::Expired);
    assert_eq!(expired.next().stock().unwrap().state, HoldState::Released);
    store.update_attempt(&expired).await.unwrap();
    assert_eq!(mugs_left(&*store).await, Some(2));
    assert_eq!(
        store.update_attempt(&expired).await,
        Err(StoreError::Conflict)
    );
    assert_eq!(mugs_left(&*store).await, Some(2));

    // Paid after all while they are still there: taken again.
    let stored = expired.next().clone();
    let paid = change(&stored, PaymentStatus::Paid);
    assert_eq!(paid.next().stock().unwrap().state, HoldState::Held);
    store.update_attempt(&paid).await.unwrap();
    assert_eq!(mugs_left(&*store).await, Some(0));

    // Another order the same way, but its mugs were sold meanwhile.
    let (order, attempt, checkout) = order_of(2, &levels);
    set_mugs(&*store, 2).await;
    store
        .create_order(&order, &attempt, &checkout)
        .await
        .unwrap();
    let expired = change(&attempt, PaymentStatus::Expired);
    store.update_attempt(&expired).await.unwrap();
    set_mugs(&*store, 1).await;
    let before = expired.next().clone();
    let paid = change(&before, PaymentStatus::Paid);
    assert_eq!(store.update_attempt(&paid).await, Err(StoreError::SoldOut));
    let stored = store.load_attempt(order.id(), attempt.id()).await.unwrap();
    assert_eq!(
        stored.as_ref(),
        Some(&before),
        "nothing of the refused write"
    );

    let oversold = paid.oversold(&before, OffsetDateTime::now_utc()).unwrap();
    assert!(oversold.stock().is_empty());
    store.update_attempt(&oversold).await.unwrap();
    assert_eq!(mugs_left(&*store).await, Some(1), "never below zero");
    let stored = store
        .load_attempt(order.id(), attempt.id())
        .await
        .unwrap()
        .unwrap();
    assert!(stored.has_taken_money());
    assert_eq!(stored.stock().unwrap().state, HoldState::Oversold);
    let events: Vec<_> = store
        .order_outbox(order.id())
        .await
        .unwrap()
        .iter()
        .map(|e| e.event().kind().name())
        .collect();
    assert!(events.contains(&"stock.oversold"), "{events:?}");
    assert!(events.contains(&"order.paid"), "{events:?}");
}

/// A setting is written with its log entry, only over the level read.
async fn logs_each_setting_over_the_level_it_read(store: Arc<dyn Store>) {
    set_mugs(&*store, 5).await;
    set_mugs(&*store, 3).await;
    let stale = StockSetting {
        article_id: mug(),
        previous: Some(5),
        available: 9,
        operator: "bob".into(),
        at: OffsetDateTime::now_utc(),
    };
    assert_eq!(store.set_stock(&stale).await, Err(StoreError::Conflict));
    assert_eq!(mugs_left(&*store).await, Some(3));
    let log = store.stock_log(10).await.unwrap();
    let shown: Vec<_> = log.iter().map(|s| (s.previous, s.available)).collect();
    assert_eq!(
        shown,
        [(Some(5), 3), (None, 5)],
        "newest first, the refused one absent"
    );
    assert_eq!(log[0].operator, "ann");
    assert_eq!(store.stock_log(1).await.unwrap().len(), 1);
}

/// Twenty orders at once for the last unit: one gets it.
async fn the_last_unit_is_taken_once(store: Arc<dyn Store>) {
    store.seed_stock(&mug(), 1).await.unwrap();
    let levels = store.stock_levels(&[mug()]).await.unwrap();
    let racers = (0..20).map(|_| {
        let store = store.clone();
        let (order, attempt, checkout) = order_of(1, &levels);
        tokio::spawn(async move { store.create_order(&order, &attempt, &checkout).await })
    });
    let results: Vec<_> = futures_results(racers).await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "{results:?}");
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(()) | Err(StoreError::SoldOut | StoreError::Conflict))),
        "{results:?}"
    );
    assert_eq!(mugs_left(&*store).await, Some(0));
}

async fn futures_results(
    tasks: impl Iterator<Item = tokio::task::JoinHandle<Result<(), StoreError>>>,
) -> Vec<Result<(), StoreError>> {
    let mut results = Vec::new();
    for task in tasks.collect::<Vec<_>>() {
        results.push(task.await.unwrap());
    }
    results
}

macro_rules! stock_contract {
    ($store_kind:ident, $make:expr) => {
        mod $store_kind {
            use super::*;

            #[tokio::test]
            async fn takes_stock_with_the_order_and_refuses_what_is_not_there() {
                super::takes_stock_with_the_order_and_refuses_what_is_not_there($make).await;
            }

            #[tokio::test]
            async fn gives_back_takes_again_and_records_oversold() {
                super::gives_back_takes_again_and_records_oversold($make).await;
            }

            #[tokio::test]
            async fn logs_each_setting_over_the_level_it_read() {
                super::logs_each_setting_over_the_level_it_read($make).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn the_last_unit_is_taken_once() {
                super::the_last_unit_is_taken_once($make).await;
            }
        }
    };
}

stock_contract!(embedded_store, embedded());
stock_contract!(dynamodb_store, dynamodb().await);
