//! The webhook route against the emulator and the embedded store, over real
//! HTTP: the emulator notifies our route, which fetches the payment and
//! updates the stored status.

use crate::common::{harness, StoreKind};
use checkout::{OrderStatus, PaymentStatus as Status, ReconcilePolicy};
use mollie_emulator::PaymentStatus;
use std::time::Duration;

const WITHIN: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread")]
async fn a_paid_payment_marks_the_order_paid() {
    let shop = harness(StoreKind::Embedded, ReconcilePolicy::default()).await;
    let (order_id, provider_id) = shop.buy().await;
    assert!(shop
        .emulator
        .complete_payment(&provider_id, PaymentStatus::Paid));
    shop.wait_for(&order_id, OrderStatus::Paid, WITHIN).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_payment_marks_the_order_failed() {
    let shop = harness(StoreKind::DynamoDb, ReconcilePolicy::default()).await;
    let (order_id, provider_id) = shop.buy().await;
    assert!(shop
        .emulator
        .complete_payment(&provider_id, PaymentStatus::Failed));
    shop.wait_for(
        &order_id,
        OrderStatus::PaymentFailed(Status::Failed),
        WITHIN,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_and_malformed_ids_change_nothing() {
    let shop = harness(StoreKind::Embedded, ReconcilePolicy::default()).await;
    let (order_id, _) = shop.buy().await;
    let before = shop.service.order(&order_id).await.unwrap();
    for id in ["tr_unknown1234", "not-an-id", "", "tr_../../x"] {
        assert_eq!(shop.post_webhook(id).await, 200, "id {id:?}");
    }
    let response = reqwest::Client::new()
        .post(format!("{}/webhooks/mollie", shop.shop_url))
        .body("garbage")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error());
    assert_eq!(shop.service.order(&order_id).await.unwrap(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_duplicated_webhook_after_the_final_status_changes_nothing() {
    let shop = harness(StoreKind::Embedded, ReconcilePolicy::default()).await;
    let (order_id, provider_id) = shop.buy().await;
    assert!(shop
        .emulator
        .complete_payment(&provider_id, PaymentStatus::Paid));
    shop.wait_for(&order_id, OrderStatus::Paid, WITHIN).await;
    let before = shop.service.order(&order_id).await.unwrap();
    assert_eq!(shop.post_webhook(&provider_id).await, 200);
    assert_eq!(shop.service.order(&order_id).await.unwrap(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_outage_answers_503_so_the_webhook_is_retried() {
    let shop = harness(StoreKind::Embedded, ReconcilePolicy::default()).await;
    let (order_id, provider_id) = shop.buy().await;
    shop.emulator.set_faults(mollie_emulator::Faults {
        fail_next: 100,
        ..Default::default()
    });
    assert_eq!(shop.post_webhook(&provider_id).await, 503);
    shop.emulator.set_faults(Default::default());
    // The emulator's own delivery (retried on its schedule) lands it.
    assert!(shop
        .emulator
        .complete_payment(&provider_id, PaymentStatus::Paid));
    shop.wait_for(&order_id, OrderStatus::Paid, WITHIN).await;
}
