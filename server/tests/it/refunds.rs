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
        let (order_id, payment) = shop.buy().await;
        assert!(shop
            .emulator
            .complete_payment(&payment, PaymentStatus::Paid));
        shop.wait_for(&order_id, OrderStatus::Paid, Duration::from_secs(5))
            .await;

        let refund = refund_at_the_provider(&shop.emulator.api_base_url(), &payment, "12.00").await;
        // Processed after 60 ms here; the webhook then brings it in.
        let deadline = Instant::now() + Duration::from_secs(5);
        let attempt = loop {
            let attempt = shop.record(&order_id).await.attempts[0].clone();
            if attempt.refunds.first().map(|r| r.status) == Some(RefundStatus::Refunded) {
                break attempt;
            }
            assert!(Instant::now() < deadline, "{:?}", attempt.refunds);
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
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
