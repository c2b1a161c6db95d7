//! Refunds reach our records from the provider: the webhook fetches the
//! payment with its refunds and merges them, each once.

use crate::common::{harness, StoreKind};
use checkout::{Money, OrderStatus, ReconcilePolicy, RefundStatus};
use mollie_emulator::PaymentStatus;
use std::time::{Duration, Instant};

/// A refund made directly at the provider, as from Mollie's dashboard.
async fn refund_at_the_provider(api_base_url: &str, payment: &str, value: &str) -> String {
    let response = reqwest::Client::new()
        .post(format!("{api_base_url}/payments/{payment}/refunds"))
        .header("authorization", "Bearer test_dashboard")
        .json(&serde_json::json!({ "amount": { "currency": "EUR", "value": value } }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: serde_json::Value = response.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refund_made_in_the_providers_dashboard_appears_in_our_order() {
    for kind in [StoreKind::Embedded, StoreKind::DynamoDb] {
        let shop = harness(kind, ReconcilePolicy::default()).await;
        let (order_id, payment) = paid_order(&shop).await;
        let refund = refund_at_the_provider(&shop.emulator.api_base_url(), &payment, "12.00").await;
        // Processed after 60 ms here; its webhook then brings it in.
        let mut attempt = settled(&shop, &order_id).await;
        let deadline = Instant::now() + Duration::from_secs(5);
        while attempt.refunds.is_empty() {
            assert!(Instant::now() < deadline, "the refund never arrived");
            tokio::time::sleep(Duration::from_millis(20)).await;
            attempt = settled(&shop, &order_id).await;
        }
        assert_eq!(attempt.refunds[0].status, RefundStatus::Refunded);
        assert_eq!(attempt.refunds.len(), 1);
        let stored = &attempt.refunds[0];
        assert!(stored.from_provider);
        assert_eq!(stored.provider_refund_id.as_ref().unwrap().as_str(), refund);
        assert_eq!(
            attempt.refunded(),
            Money::new(1200, attempt.amount.currency)
        );
        assert_eq!(attempt.status, checkout::PaymentStatus::Paid);

        // The same webhook again changes nothing: counted once.
        assert_eq!(shop.post_webhook(&payment).await, 200);
        let again = shop.record(&order_id).await.attempts[0].clone();
        assert_eq!((again.version, again.refunds.len()), (attempt.version, 1));
    }
}

async fn paid_order(shop: &crate::common::Harness) -> (checkout::OrderId, String) {
    let (order_id, payment) = shop.buy().await;
    assert!(shop
        .emulator
        .complete_payment(&payment, PaymentStatus::Paid));
    shop.wait_for(&order_id, OrderStatus::Paid, Duration::from_secs(5))
        .await;
    (order_id, payment)
}

/// Waits until every refund of the order's paid attempt is final.
async fn settled(
    shop: &crate::common::Harness,
    order_id: &checkout::OrderId,
) -> checkout::PaymentAttempt {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let attempt = shop.record(order_id).await.attempts[0].clone();
        if attempt.refunds.iter().all(|r| r.status.is_final()) {
            return attempt;
        }
        assert!(Instant::now() < deadline, "{:?}", attempt.refunds);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn partial_refunds_add_up_to_the_total_and_no_further() {
    let shop = harness(StoreKind::Embedded, ReconcilePolicy::default()).await;
    let (order_id, _) = paid_order(&shop).await;
    let paid = shop.record(&order_id).await.attempts[0].amount;
    let part = |cents| Money::new(cents, paid.currency);

    let first = shop.service.refund(&order_id, part(1000)).await.unwrap();
    shop.service
        .refund(&order_id, part(paid.minor_units - 1000))
        .await
        .unwrap();
    let attempt = settled(&shop, &order_id).await;
    assert_eq!(attempt.refunds.len(), 2);
    assert_eq!(attempt.refunds[0].id, first);
    assert!(attempt
        .refunds
        .iter()
        .all(|r| r.status == RefundStatus::Refunded && !r.from_provider));
    assert_eq!(attempt.refunded(), paid);

    // Nothing remains: refused, and nothing changes here or at the provider.
    let calls = shop.emulator.api_calls();
    let refused = shop.service.refund(&order_id, part(1)).await.unwrap_err();
    assert!(
        matches!(
            refused,
            checkout::RefundFailure::Refused(checkout::RefundError::MoreThanRemains { .. })
        ),
        "{refused:?}"
    );
    assert_eq!(shop.emulator.api_calls(), calls);
    assert_eq!(
        shop.record(&order_id).await.attempts[0].version,
        attempt.version
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_refund_on_dynamodb_and_an_unpaid_order_refused() {
    let shop = harness(StoreKind::DynamoDb, ReconcilePolicy::default()).await;
    let (order_id, _) = paid_order(&shop).await;
    let paid = shop.record(&order_id).await.attempts[0].amount;
    shop.service.refund(&order_id, paid).await.unwrap();
    assert_eq!(settled(&shop, &order_id).await.refunded(), paid);

    let (unpaid, _) = shop.buy().await;
    assert_eq!(
        shop.service.refund(&unpaid, paid).await.unwrap_err(),
        checkout::RefundFailure::Refused(checkout::RefundError::NotPaid)
    );
}
