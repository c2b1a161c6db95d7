//! The store goes away while a webhook arrives: the webhook answers 503,
//! the emulator redelivers on Mollie's schedule, and once the store is back
//! the status ends right. Nothing is lost.

use crate::common::{harness, moto_endpoint, StoreKind, Switch};
use checkout::{OrderStatus, ReconcilePolicy};
use mollie_emulator::PaymentStatus;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread")]
async fn a_store_outage_during_a_webhook_loses_nothing() {
    let switch = Switch::to(&moto_endpoint()).await;
    let shop = harness(
        StoreKind::DynamoDbAt(switch.url.clone()),
        ReconcilePolicy::default(),
    )
    .await;
    let (order_id, provider_id) = shop.buy().await;

    switch.set(false);
    assert!(shop
        .emulator
        .complete_payment(&provider_id, PaymentStatus::Paid));
    // Our own delivery of the same webhook meets the outage too.
    assert_eq!(shop.post_webhook(&provider_id).await, 503);
    assert!(
        shop.service.order(&order_id).await.is_err(),
        "the store is down"
    );
    // The emulator's first call (0 ms) and first retry (+60 ms) fail.
    let deadline = Instant::now() + Duration::from_secs(5);
    while shop.emulator.webhook_calls() < 2 {
        assert!(Instant::now() < deadline, "the emulator did not retry");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    switch.set(true);
    // A redelivery (the call in flight, or +120 ms, +240 ms, ...) lands.
    shop.wait_for(&order_id, OrderStatus::Paid, Duration::from_secs(5))
        .await;
    let (record, _) = shop.service.order(&order_id).await.unwrap().unwrap();
    assert_eq!(record.attempts.len(), 1);
    assert_eq!(
        record.attempts[0].version(),
        3,
        "open, then paid: two writes after creation"
    );
}

/// Mollie down while the cart asks for the payment methods: the cart shows
/// none and works; for a while after, no cart change waits on Mollie again.
#[tokio::test(flavor = "multi_thread")]
async fn the_cart_works_without_payment_methods_while_mollie_is_down() {
    let shop = harness(StoreKind::Embedded, ReconcilePolicy::default()).await;
    shop.emulator.set_faults(mollie_emulator::Faults {
        fail_next: 1_000,
        ..mollie_emulator::Faults::default()
    });
    let add = || {
        reqwest::Client::new()
            .post(format!("{}/api/cart/add", shop.shop_url))
            .form(&[("article_id", "mug"), ("quantity", "1")])
            .send()
    };
    let first = add().await.unwrap();
    assert_eq!(first.status(), 200);
    let cart: serde_json::Value = first.json().await.unwrap();
    let lines = cart["lines_html"].as_str().unwrap_or_default();
    assert!(
        lines.contains(r#"data-testid="cart-total">€14.50</strong>"#),
        "the cart is priced: {lines}"
    );
    assert_eq!(cart["methods_html"], "");
    let calls = shop.emulator.api_calls();
    assert!(calls >= 1, "Mollie was asked");
    // Mollie is back, but the cart does not ask again yet.
    shop.emulator.set_faults(mollie_emulator::Faults::default());
    let again: serde_json::Value = add().await.unwrap().json().await.unwrap();
    assert_eq!(again["methods_html"], "");
    assert_eq!(shop.emulator.api_calls(), calls);
}
