//! Authorize, then capture: under the manual capture policy a paid checkout
//! only reserves the money; the operator captures part of it, releases the
//! rest, or lets it lapse. Over HTTP, against the emulator.

use crate::common::{harness_with, Harness, StoreKind};
use checkout::{
    CaptureError, CaptureId, CaptureMode, Money, OrderId, OrderStatus, PaymentStatus as Status,
    ReconcilePolicy, RefundError, RefundId, RefundRequestError,
};
use mollie_emulator::PaymentStatus;
use std::time::Duration;

async fn manual_capture_shop(kind: StoreKind, policy: ReconcilePolicy) -> Harness {
    harness_with(kind, policy, &["--capture", "manual"]).await
}

/// The shopper pays at the provider's checkout page: authorized.
async fn authorized_order(shop: &Harness) -> (OrderId, String) {
    let (order_id, payment) = shop.buy().await;
    let checkout_url = shop.record(&order_id).await.attempts[0]
        .checkout_url()
        .clone()
        .unwrap();
    let page = reqwest::get(&checkout_url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Authorized (the shop captures later)"),
        "{page}"
    );
    assert!(shop
        .emulator
        .complete_payment(&payment, PaymentStatus::Paid));
    shop.wait_for(
        &order_id,
        OrderStatus::AwaitingCapture,
        Duration::from_secs(5),
    )
    .await;
    (order_id, payment)
}

async fn captures_at_the_provider(shop: &Harness, payment: &str) -> u64 {
    let path = format!("/payments/{payment}/captures");
    let (_, list) = shop.provider_api(reqwest::Method::GET, &path, None).await;
    list["count"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn authorize_capture_in_part_then_release_the_rest() {
    for kind in [StoreKind::Embedded, StoreKind::DynamoDb] {
        let shop = manual_capture_shop(kind, ReconcilePolicy::default()).await;
        let (order_id, payment) = authorized_order(&shop).await;
        // The shopper's page: reserved, not "being processed".
        let page = reqwest::get(format!("{}/orders/{order_id}", shop.shop_url))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("Your payment is reserved."), "{page}");
        assert!(page.contains(">authorized<"), "{page}");
        let attempt = shop.record(&order_id).await.attempts[0].clone();
        assert_eq!(attempt.capture_mode(), CaptureMode::Manual);
        assert_eq!(attempt.status(), Status::Authorized);
        assert!(attempt.capture_before().is_some());
        assert_eq!(attempt.taken().minor_units(), 0);
        // Nothing taken yet, so nothing to refund.
        let amount = attempt.amount();
        assert_eq!(
            shop.service
                .refund(&order_id, &RefundId::generate(), amount)
                .await
                .unwrap_err(),
            RefundError::Refused(RefundRequestError::NotPaid)
        );
        // Out of range: refused before anything is sent.
        let calls = shop.emulator.api_calls();
        let too_much = Money::new(amount.minor_units() + 1, amount.currency());
        assert_eq!(
            shop.service
                .capture(&order_id, &CaptureId::generate(), Some(too_much))
                .await,
            Err(CaptureError::InvalidAmount)
        );
        assert_eq!(shop.emulator.api_calls(), calls);

        // Part of it ships: captured once, however often it is submitted.
        let part = Money::new(1000, amount.currency());
        let capture_id = CaptureId::generate();
        let (first, second) = tokio::join!(
            shop.service.capture(&order_id, &capture_id, Some(part)),
            shop.service.capture(&order_id, &capture_id, Some(part)),
        );
        first.unwrap();
        second.unwrap();
        shop.wait_for(&order_id, OrderStatus::Paid, Duration::from_secs(5))
            .await;
        assert_eq!(captures_at_the_provider(&shop, &payment).await, 1);
        let attempt = shop.record(&order_id).await.attempts[0].clone();
        assert_eq!(attempt.taken(), part);
        assert_eq!(attempt.ledger().paid, part);
        assert_eq!(attempt.refundable(), part);

        // The rest is given back; no more can be captured.
        shop.service.release_authorization(&order_id).await.unwrap();
        assert!(matches!(
            shop.service
                .capture(&order_id, &CaptureId::generate(), None)
                .await,
            Err(CaptureError::ProviderRejected(_))
        ));
        // What was captured can be refunded, and no more.
        let refused = shop
            .service
            .refund(
                &order_id,
                &RefundId::generate(),
                Money::new(1001, amount.currency()),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(
                refused,
                RefundError::Refused(RefundRequestError::MoreThanRemains { .. })
            ),
            "{refused:?}"
        );
        shop.service
            .refund(&order_id, &RefundId::generate(), part)
            .await
            .unwrap();
        assert_eq!(shop.status(&order_id).await, OrderStatus::Paid);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_authorization_left_to_lapse_expires_and_is_flagged_before() {
    let policy = ReconcilePolicy::default();
    let shop = manual_capture_shop(StoreKind::DynamoDb, policy.clone()).await;
    let (order_id, payment) = authorized_order(&shop).await;
    // A week at a thousandth of the time: within a day of its deadline.
    let attempt = shop.record(&order_id).await.attempts[0].clone();
    let now = time::OffsetDateTime::now_utc();
    assert!(attempt.capture_due_soon(now, policy.capture_warning));
    assert!(!attempt.capture_due_soon(now, Duration::from_secs(1)));
    // The reconciler tells the owner once, however many passes see it.
    shop.reconcile_passes(3, Duration::from_secs(120)).await;
    assert_eq!(
        shop.event_types(&order_id).await,
        ["authorization.expiring"]
    );
    assert!(shop.record(&order_id).await.attempts[0]
        .capture_warned_at()
        .is_some());

    // Nobody captures it before its deadline: Mollie expires it and calls
    // the webhook.
    let webhooks = shop.emulator.webhook_calls();
    assert!(shop.emulator.reach_capture_deadline(&payment));
    shop.wait_for(
        &order_id,
        OrderStatus::PaymentFailed(Status::Expired),
        Duration::from_secs(5),
    )
    .await;
    assert!(shop.emulator.webhook_calls() > webhooks);
    assert_eq!(
        shop.service
            .capture(&order_id, &CaptureId::generate(), None)
            .await,
        Err(CaptureError::NothingAuthorized)
    );
}
