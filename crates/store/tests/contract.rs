//! One contract, two stores: every case runs against the embedded store and
//! against DynamoDB on a real DynamoDB-compatible server (moto, started by
//! scripts/test.sh, its URL in SHOP_TEST_DYNAMODB_ENDPOINT).

use checkout::{Catalog, Order, PaymentAttempt, PaymentStatus, Store, StoreError};
use std::sync::Arc;
use time::OffsetDateTime;

fn new_order() -> (Order, PaymentAttempt) {
    let catalog = Catalog::demo();
    let order = Order::new(
        vec![
            catalog.price_line("mug", 2).unwrap(),
            catalog.price_line("tote", 1).unwrap(),
        ],
        OffsetDateTime::now_utc(),
    )
    .unwrap();
    let attempt = PaymentAttempt::new(order.id.clone(), order.total, OffsetDateTime::now_utc());
    (order, attempt)
}

async fn creates_and_loads_an_order_with_its_attempt(store: Arc<dyn Store>) {
    let (order, attempt) = new_order();
    store.create_order(&order, &attempt).await.unwrap();
    let record = store.load_order(&order.id).await.unwrap().expect("stored");
    assert_eq!(record.order, order);
    assert_eq!(record.attempts, vec![attempt.clone()]);
    let loaded = store.load_attempt(&order.id, &attempt.id).await.unwrap();
    assert_eq!(loaded, Some(attempt));
    assert_eq!(
        store
            .load_order(&checkout::OrderId::generate())
            .await
            .unwrap(),
        None
    );
}

async fn refuses_to_create_an_order_twice(store: Arc<dyn Store>) {
    let (order, attempt) = new_order();
    store.create_order(&order, &attempt).await.unwrap();
    let mut other_attempt =
        PaymentAttempt::new(order.id.clone(), order.total, OffsetDateTime::now_utc());
    other_attempt.status = PaymentStatus::Paid;
    assert_eq!(
        store.create_order(&order, &other_attempt).await,
        Err(StoreError::AlreadyExists)
    );
    // Neither item of the refused transaction was written.
    let record = store.load_order(&order.id).await.unwrap().unwrap();
    assert_eq!(record.attempts, vec![attempt]);
}

async fn writes_attempts_only_over_the_version_they_were_read_with(store: Arc<dyn Store>) {
    let (order, attempt) = new_order();
    store.create_order(&order, &attempt).await.unwrap();

    let mut open = attempt.clone();
    open.record_provider_payment("tr_contract1".into(), Some("https://pay.example/1".into()));
    open.observe(PaymentStatus::Open);
    open.bump_version(OffsetDateTime::now_utc());
    store.update_attempt(&open).await.unwrap();

    // A writer that read the first version loses.
    let mut stale = attempt.clone();
    stale.observe(PaymentStatus::Failed);
    stale.bump_version(OffsetDateTime::now_utc());
    assert_eq!(
        store.update_attempt(&stale).await,
        Err(StoreError::Conflict)
    );

    let stored = store
        .load_attempt(&order.id, &attempt.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, open);
}

async fn concurrent_writers_never_lose_an_update(store: Arc<dyn Store>) {
    let (order, attempt) = new_order();
    store.create_order(&order, &attempt).await.unwrap();
    // Eight writers each bump the version once, re-reading after a conflict.
    let writers = (0..8).map(|_| {
        let store = store.clone();
        let (order_id, attempt_id) = (order.id.clone(), attempt.id.clone());
        tokio::spawn(async move {
            let mut conflicts = 0;
            loop {
                let mut next = store
                    .load_attempt(&order_id, &attempt_id)
                    .await
                    .unwrap()
                    .unwrap();
                next.bump_version(OffsetDateTime::now_utc());
                match store.update_attempt(&next).await {
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
        .load_attempt(&order.id, &attempt.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.version, attempt.version + 8);
}

macro_rules! contract {
    ($store_kind:ident, $make:expr) => {
        mod $store_kind {
            use super::*;

            #[tokio::test]
            async fn creates_and_loads_an_order_with_its_attempt() {
                super::creates_and_loads_an_order_with_its_attempt($make).await;
            }

            #[tokio::test]
            async fn refuses_to_create_an_order_twice() {
                super::refuses_to_create_an_order_twice($make).await;
            }

            #[tokio::test]
            async fn writes_attempts_only_over_the_version_they_were_read_with() {
                super::writes_attempts_only_over_the_version_they_were_read_with($make).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn concurrent_writers_never_lose_an_update() {
                super::concurrent_writers_never_lose_an_update($make).await;
            }
        }
    };
}

fn embedded() -> Arc<dyn Store> {
    // The folder is leaked on purpose: the database must outlive this call.
    let dir = tempfile::tempdir().unwrap().keep();
    Arc::new(store::EmbeddedStore::open(&dir.join("shop.redb")).unwrap())
}

async fn dynamodb() -> Arc<dyn Store> {
    let endpoint = std::env::var("SHOP_TEST_DYNAMODB_ENDPOINT").expect(
        "SHOP_TEST_DYNAMODB_ENDPOINT is not set: run scripts/test.sh, which starts moto server",
    );
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
    checkout::OrderId::generate().0.replace("ord_", "")
}

contract!(embedded_store, embedded());
contract!(dynamodb_store, dynamodb().await);
