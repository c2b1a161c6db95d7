//! Stock through the whole shop, on both stores: the last unit sells
//! exactly once when twenty checkouts race for it (the others are refused
//! in plain words before anything reaches Mollie); an attempt that ends
//! unpaid gives its units back and "pay again" takes them again, or is
//! refused when they are gone; money that comes after its units went back
//! and were sold becomes `oversold`, for the operator.

use crate::common::{cart, harness, shopper, Harness, StoreKind};
use checkout::{
    ActionError, ArticleId, Attention, CheckoutError, CheckoutKey, HoldState, OrderStatus,
    ReconcilePolicy,
};
use mollie_emulator::PaymentStatus;
use std::time::Duration;

fn print() -> ArticleId {
    ArticleId::parse("print").unwrap()
}

async fn set_prints(shop: &Harness, available: u32) {
    let seen = prints_left(shop).await;
    shop.service
        .operator_set_stock("ann", &print(), seen, available)
        .await
        .unwrap();
}

async fn prints_left(shop: &Harness) -> Option<u32> {
    shop.store
        .stock_levels(&[print()])
        .await
        .unwrap()
        .available(&print())
}

/// Checks out `quantity` prints; the order and its payment at the provider.
async fn buy_prints(
    shop: &Harness,
    quantity: i64,
) -> Result<(checkout::OrderId, String), CheckoutError> {
    let started = shop
        .service
        .checkout(
            &cart("print", quantity),
            &shopper(),
            &CheckoutKey::generate(),
        )
        .await?;
    let record = shop.record(&started.order_id).await;
    let payment = record
        .attempts
        .last()
        .unwrap()
        .provider_payment_id()
        .clone()
        .unwrap();
    Ok((started.order_id, payment.to_string()))
}

async fn the_last_unit_sells_exactly_once(kind: StoreKind) {
    let shop = harness(kind, ReconcilePolicy::default()).await;
    // The bundled catalog starts the print at 25; the operator left one.
    assert_eq!(prints_left(&shop).await, Some(25));
    set_prints(&shop, 1).await;
    let racers: Vec<_> = (0..20)
        .map(|_| {
            let service = shop.service.clone();
            tokio::spawn(async move {
                service
                    .checkout(&cart("print", 1), &shopper(), &CheckoutKey::generate())
                    .await
            })
        })
        .collect();
    let mut started = 0;
    let mut sold_out = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Ok(_) => started += 1,
            Err(CheckoutError::NotEnoughStock(short)) => {
                assert_eq!(
                    (short.name.as_str(), short.available),
                    ("Risograph print", 0)
                );
                sold_out += 1;
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    eprintln!("20 checkouts for the last unit: {started} started, {sold_out} refused as sold out");
    assert_eq!((started, sold_out), (1, 19));
    assert_eq!(prints_left(&shop).await, Some(0));
    // Only the winner reached the provider.
    assert_eq!(shop.emulator.payments_created(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_last_unit_sells_exactly_once_embedded() {
    the_last_unit_sells_exactly_once(StoreKind::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_last_unit_sells_exactly_once_dynamodb() {
    the_last_unit_sells_exactly_once(StoreKind::DynamoDb).await;
}

async fn an_unpaid_end_gives_back_and_pay_again_takes_again(kind: StoreKind) {
    let shop = harness(kind, ReconcilePolicy::default()).await;
    set_prints(&shop, 2).await;
    let (order_id, payment) = buy_prints(&shop, 2).await.unwrap();
    assert_eq!(prints_left(&shop).await, Some(0));
    assert!(matches!(
        buy_prints(&shop, 1).await,
        Err(CheckoutError::NotEnoughStock(_))
    ));

    // Failed: the prints are back, once, whatever webhooks repeat.
    assert!(shop
        .emulator
        .complete_payment(&payment, PaymentStatus::Failed));
    shop.wait_for(
        &order_id,
        OrderStatus::PaymentFailed(checkout::PaymentStatus::Failed),
        Duration::from_secs(5),
    )
    .await;
    for _ in 0..3 {
        assert_eq!(shop.post_webhook(&payment).await, 200);
    }
    assert_eq!(prints_left(&shop).await, Some(2));

    // Pay again takes them again.
    shop.service.pay_again(&order_id).await.unwrap();
    assert_eq!(prints_left(&shop).await, Some(0));
    let record = shop.record(&order_id).await;
    assert_eq!(
        record.attempts[0].stock().unwrap().state,
        HoldState::Released
    );
    assert_eq!(record.attempts[1].stock().unwrap().state, HoldState::Held);

    // Canceled, then someone else buys one: pay again is refused plainly.
    let second = record.attempts[1].provider_payment_id().clone().unwrap();
    assert!(shop
        .emulator
        .complete_payment(second.as_str(), PaymentStatus::Canceled));
    shop.wait_for(
        &order_id,
        OrderStatus::PaymentFailed(checkout::PaymentStatus::Canceled),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(prints_left(&shop).await, Some(2));
    buy_prints(&shop, 1).await.unwrap();
    match shop.service.pay_again(&order_id).await {
        Err(CheckoutError::NotEnoughStock(short)) => assert_eq!(short.available, 1),
        other => panic!("{other:?}"),
    }
    assert_eq!(shop.record(&order_id).await.attempts.len(), 2);
    assert_eq!(prints_left(&shop).await, Some(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unpaid_end_gives_back_and_pay_again_takes_again_embedded() {
    an_unpaid_end_gives_back_and_pay_again_takes_again(StoreKind::Embedded).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unpaid_end_gives_back_and_pay_again_takes_again_dynamodb() {
    an_unpaid_end_gives_back_and_pay_again_takes_again(StoreKind::DynamoDb).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn money_for_units_sold_meanwhile_is_an_oversold_incident_embedded() {
    money_for_units_sold_meanwhile_is_an_oversold_incident(StoreKind::Embedded).await;
}

/// On DynamoDB the refused take sits behind the payment lookup item and
/// the events in the transaction: its failure must still read as sold out.
#[tokio::test(flavor = "multi_thread")]
async fn money_for_units_sold_meanwhile_is_an_oversold_incident_dynamodb() {
    money_for_units_sold_meanwhile_is_an_oversold_incident(StoreKind::DynamoDb).await;
}

/// Paid after the shop gave the units back and sold them: the money is
/// recorded, the units are oversold, the owner is told.
async fn money_for_units_sold_meanwhile_is_an_oversold_incident(kind: StoreKind) {
    let shop = harness(kind, ReconcilePolicy::default()).await;
    set_prints(&shop, 1).await;
    let (order_id, payment) = buy_prints(&shop, 1).await.unwrap();
    assert!(shop
        .emulator
        .complete_payment(&payment, PaymentStatus::Expired));
    shop.wait_for(
        &order_id,
        OrderStatus::PaymentFailed(checkout::PaymentStatus::Expired),
        Duration::from_secs(5),
    )
    .await;
    buy_prints(&shop, 1).await.unwrap();
    assert_eq!(prints_left(&shop).await, Some(0));

    // Mollie now says the first was paid after all.
    shop.emulator
        .override_field(&payment, "status", serde_json::json!("paid"));
    assert_eq!(shop.post_webhook(&payment).await, 200);
    let record = shop.record(&order_id).await;
    assert!(record.attempts[0].has_taken_money());
    assert_eq!(
        record.attempts[0].stock().unwrap().state,
        HoldState::Oversold
    );
    assert_eq!(prints_left(&shop).await, Some(0), "never below zero");
    let now = time::OffsetDateTime::now_utc();
    let attention = record.attention(now, Duration::from_secs(3600));
    assert!(attention.contains(&Attention::Oversold), "{attention:?}");
    assert!(shop
        .event_types(&order_id)
        .await
        .contains(&"stock.oversold"));
}

/// The back office sets a level only over the one its page showed: a
/// checkout that took a unit meanwhile is not overwritten.
#[tokio::test(flavor = "multi_thread")]
async fn a_level_is_set_only_over_the_one_the_operator_saw() {
    let shop = harness(StoreKind::Embedded, ReconcilePolicy::default()).await;
    set_prints(&shop, 3).await;
    buy_prints(&shop, 1).await.unwrap();
    let stale = shop
        .service
        .operator_set_stock("ann", &print(), Some(3), 10)
        .await;
    assert_eq!(stale, Err(ActionError::StockChanged { now: Some(2) }));
    assert_eq!(prints_left(&shop).await, Some(2));
    let log = shop.service.stock_log(10).await.unwrap();
    assert_eq!(log.len(), 1, "the refused setting is not logged");
}

/// A late payment on an attempt the shop gave up, after another attempt of
/// the same order paid: the order holds its units once (no second take,
/// no false "oversold"); the double payment is the operator's to refund.
#[tokio::test(flavor = "multi_thread")]
async fn a_late_payment_on_an_order_paid_since_takes_no_second_units() {
    let shop = harness(StoreKind::Embedded, ReconcilePolicy::default()).await;
    set_prints(&shop, 1).await;
    let (order_id, first) = buy_prints(&shop, 1).await.unwrap();
    assert!(shop
        .emulator
        .complete_payment(&first, PaymentStatus::Expired));
    shop.wait_for(
        &order_id,
        OrderStatus::PaymentFailed(checkout::PaymentStatus::Expired),
        Duration::from_secs(5),
    )
    .await;
    shop.service.pay_again(&order_id).await.unwrap();
    let second = shop.record(&order_id).await.attempts[1]
        .provider_payment_id()
        .clone()
        .unwrap();
    assert!(shop
        .emulator
        .complete_payment(second.as_str(), PaymentStatus::Paid));
    shop.wait_for(&order_id, OrderStatus::Paid, Duration::from_secs(5))
        .await;
    assert_eq!(prints_left(&shop).await, Some(0));

    shop.emulator
        .override_field(&first, "status", serde_json::json!("paid"));
    assert_eq!(shop.post_webhook(&first).await, 200);
    let record = shop.record(&order_id).await;
    assert!(record.attempts[0].has_taken_money());
    assert_eq!(
        record.attempts[0].stock().unwrap().state,
        HoldState::Released
    );
    assert_eq!(record.attempts[1].stock().unwrap().state, HoldState::Held);
    assert_eq!(prints_left(&shop).await, Some(0));
    assert!(!shop
        .event_types(&order_id)
        .await
        .contains(&"stock.oversold"));
}

/// An open payment holds its units for an hour; the reconciler then gives
/// them back, so an abandoned checkout (or a bank transfer left open for
/// days) keeps nothing. Paid later, it takes them again, or is recorded
/// oversold when they were sold meanwhile.
#[tokio::test(flavor = "multi_thread")]
async fn a_payment_left_open_gives_its_units_back_after_the_hold() {
    let shop = harness(StoreKind::Embedded, ReconcilePolicy::default()).await;
    set_prints(&shop, 1).await;
    let (order_id, payment) = buy_prints(&shop, 1).await.unwrap();
    assert_eq!(prints_left(&shop).await, Some(0));
    // Within the hour nothing moves; past it, the unit is back.
    shop.reconcile_passes(1, Duration::from_secs(30 * 60)).await;
    assert_eq!(prints_left(&shop).await, Some(0));
    shop.reconcile_passes(1, Duration::from_secs(31 * 60)).await;
    assert_eq!(prints_left(&shop).await, Some(1));
    let record = shop.record(&order_id).await;
    assert_eq!(record.attempts[0].status(), checkout::PaymentStatus::Open);
    assert_eq!(
        record.attempts[0].stock().unwrap().state,
        HoldState::Released
    );

    // Someone else buys it; then the first shopper pays after all.
    buy_prints(&shop, 1).await.unwrap();
    assert!(shop
        .emulator
        .complete_payment(&payment, PaymentStatus::Paid));
    shop.wait_for(&order_id, OrderStatus::Paid, Duration::from_secs(5))
        .await;
    let record = shop.record(&order_id).await;
    assert_eq!(
        record.attempts[0].stock().unwrap().state,
        HoldState::Oversold
    );
    assert_eq!(prints_left(&shop).await, Some(0), "never below zero");
}

/// A crash between the write that holds the units and Mollie's answer
/// (here: Mollie down, so no payment is ever made): the order and its
/// hold are written together, and the reconciler gives the attempt up
/// and its units back, so stock matches the orders again.
#[tokio::test(flavor = "multi_thread")]
async fn units_held_by_a_checkout_that_never_reached_mollie_come_back() {
    let shop = harness(StoreKind::Embedded, ReconcilePolicy::default()).await;
    set_prints(&shop, 2).await;
    shop.emulator.set_faults(mollie_emulator::Faults {
        fail_next: 1_000,
        ..mollie_emulator::Faults::default()
    });
    let refused = shop
        .service
        .checkout(&cart("print", 2), &shopper(), &CheckoutKey::generate())
        .await;
    assert!(
        matches!(refused, Err(CheckoutError::ProviderUnavailable(_))),
        "{refused:?}"
    );
    assert_eq!(prints_left(&shop).await, Some(0), "held with the order");
    shop.emulator.set_faults(mollie_emulator::Faults::default());
    // Past the give-up time (30 min after the create began).
    shop.reconcile_passes(1, Duration::from_secs(31 * 60)).await;
    assert_eq!(prints_left(&shop).await, Some(2));
}

/// An authorization after the hold ran out takes the units again: the
/// shop ships them on capture.
#[tokio::test(flavor = "multi_thread")]
async fn an_authorization_after_the_hold_takes_the_units_again() {
    let shop = crate::common::harness_with(
        StoreKind::Embedded,
        ReconcilePolicy::default(),
        &["--capture", "manual"],
    )
    .await;
    set_prints(&shop, 1).await;
    let (order_id, payment) = buy_prints(&shop, 1).await.unwrap();
    shop.reconcile_passes(1, Duration::from_secs(61 * 60)).await;
    assert_eq!(prints_left(&shop).await, Some(1));
    assert!(shop
        .emulator
        .complete_payment(&payment, PaymentStatus::Paid));
    shop.wait_for(
        &order_id,
        OrderStatus::AwaitingCapture,
        Duration::from_secs(5),
    )
    .await;
    let record = shop.record(&order_id).await;
    assert_eq!(record.attempts[0].stock().unwrap().state, HoldState::Held);
    assert_eq!(prints_left(&shop).await, Some(0));
}

/// A start seeds only what the store does not track: a sold-out article
/// stays sold out, and a level an operator set stays, however often the
/// shop starts again.
async fn a_start_never_seeds_a_tracked_article_again(kind: StoreKind) {
    let shop = harness(kind, ReconcilePolicy::default()).await;
    assert_eq!(
        prints_left(&shop).await,
        Some(25),
        "seeded from the catalog"
    );
    for level in [0, 7] {
        set_prints(&shop, level).await;
        // What each start does before the first checkout.
        shop.service.seed_stock_from_catalog().await.unwrap();
        shop.service.seed_stock_from_catalog().await.unwrap();
        assert_eq!(prints_left(&shop).await, Some(level));
    }
}

#[tokio::test]
async fn a_start_never_seeds_a_tracked_article_again_embedded() {
    a_start_never_seeds_a_tracked_article_again(StoreKind::Embedded).await;
}

#[tokio::test]
async fn a_start_never_seeds_a_tracked_article_again_dynamodb() {
    a_start_never_seeds_a_tracked_article_again(StoreKind::DynamoDb).await;
}
