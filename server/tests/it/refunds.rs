//! Money after "paid" reaches our records from the provider: the webhook
//! fetches the payment with its refunds and chargebacks and merges them,
//! each once; the shop's own refunds are made once per refund id.

use crate::common::{harness, StoreKind};
use checkout::{Money, MoneyStatus, OrderStatus, ReconcilePolicy, RefundId, RefundStatus};
use mollie_emulator::{Faults, PaymentStatus};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread")]
async fn a_refund_made_in_the_providers_dashboard_appears_in_our_order() {
    for kind in [StoreKind::Embedded, StoreKind::DynamoDb] {
        let shop = harness(kind, ReconcilePolicy::default()).await;
        let (order_id, payment) = paid_order(&shop).await;
        let refund = shop.refund_at_the_provider(&payment, "12.00").await;
        // Processed after 60 ms here; its webhook then brings it in.
        let mut attempt = settled(&shop, &order_id).await;
        let deadline = Instant::now() + Duration::from_secs(5);
        while attempt.refunds().is_empty() {
            assert!(Instant::now() < deadline, "the refund never arrived");
            tokio::time::sleep(Duration::from_millis(20)).await;
            attempt = settled(&shop, &order_id).await;
        }
        assert_eq!(attempt.refunds()[0].status(), RefundStatus::Refunded);
        assert_eq!(attempt.refunds().len(), 1);
        let stored = &attempt.refunds()[0];
        assert!(stored.from_provider());
        assert_eq!(
            stored.provider_refund_id().as_ref().unwrap().as_str(),
            refund
        );
        assert_eq!(
            attempt.refunded(),
            Money::new(1200, attempt.amount().currency())
        );
        assert_eq!(attempt.status(), checkout::PaymentStatus::Paid);

        // The same webhook again changes nothing: counted once.
        assert_eq!(shop.post_webhook(&payment).await, 200);
        let again = shop.record(&order_id).await.attempts[0].clone();
        assert_eq!(
            (again.version(), again.refunds().len()),
            (attempt.version(), 1)
        );
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
        if attempt.refunds().iter().all(|r| r.status().is_final()) {
            return attempt;
        }
        assert!(Instant::now() < deadline, "{:?}", attempt.refunds());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn partial_refunds_add_up_to_the_total_and_no_further() {
    let shop = harness(StoreKind::Embedded, ReconcilePolicy::default()).await;
    let (order_id, _) = paid_order(&shop).await;
    let paid = shop.record(&order_id).await.attempts[0].amount();
    let part = |cents| Money::new(cents, paid.currency());

    let first = RefundId::generate();
    shop.service
        .refund(&order_id, &first, part(1000))
        .await
        .unwrap();
    shop.service
        .refund(
            &order_id,
            &RefundId::generate(),
            part(paid.minor_units() - 1000),
        )
        .await
        .unwrap();
    let attempt = settled(&shop, &order_id).await;
    assert_eq!(attempt.refunds().len(), 2);
    assert_eq!(attempt.refunds()[0].id(), &first);
    assert!(attempt
        .refunds()
        .iter()
        .all(|r| r.status() == RefundStatus::Refunded && !r.from_provider()));
    assert_eq!(attempt.refunded(), paid);

    // Nothing remains: refused, and nothing changes here or at the provider.
    let calls = shop.emulator.api_calls();
    let refused = shop
        .service
        .refund(&order_id, &RefundId::generate(), part(1))
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            checkout::RefundError::Refused(checkout::RefundRequestError::MoreThanRemains { .. })
        ),
        "{refused:?}"
    );
    assert_eq!(shop.emulator.api_calls(), calls);
    assert_eq!(
        shop.record(&order_id).await.attempts[0].version(),
        attempt.version()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_refund_on_dynamodb_and_an_unpaid_order_refused() {
    let shop = harness(StoreKind::DynamoDb, ReconcilePolicy::default()).await;
    let (order_id, _) = paid_order(&shop).await;
    let paid = shop.record(&order_id).await.attempts[0].amount();
    shop.service
        .refund(&order_id, &RefundId::generate(), paid)
        .await
        .unwrap();
    let attempt = settled(&shop, &order_id).await;
    assert_eq!(attempt.refunded(), paid);
    assert_eq!(attempt.ledger().status(), MoneyStatus::Refunded);

    let (unpaid, _) = shop.buy().await;
    assert_eq!(
        shop.service
            .refund(&unpaid, &RefundId::generate(), paid)
            .await
            .unwrap_err(),
        checkout::RefundError::Refused(checkout::RefundRequestError::NotPaid)
    );
}

fn embedded(payment: &serde_json::Value, kind: &str) -> Vec<serde_json::Value> {
    payment["_embedded"][kind]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_refund_submitted_twice_at_once_is_one_refund_at_the_provider() {
    for kind in [StoreKind::Embedded, StoreKind::DynamoDb] {
        let shop = harness(kind, ReconcilePolicy::default()).await;
        let (order_id, payment) = paid_order(&shop).await;
        let amount = Money::new(500, checkout::Currency::EUR);
        // One back-office form, submitted twice: one refund id.
        let refund_id = RefundId::generate();
        let (first, second) = tokio::join!(
            shop.service.refund(&order_id, &refund_id, amount),
            shop.service.refund(&order_id, &refund_id, amount),
        );
        first.unwrap();
        second.unwrap();
        let provider = shop.at_the_provider(&payment).await;
        assert_eq!(embedded(&provider, "refunds").len(), 1, "{provider}");
        let attempt = settled(&shop, &order_id).await;
        assert_eq!(attempt.refunds().len(), 1);
        assert_eq!(attempt.refunds()[0].id(), &refund_id);
        assert_eq!(attempt.refunded(), amount);
        // Later, the same id with another amount is refused.
        let reused = shop
            .service
            .refund(&order_id, &refund_id, Money::new(600, amount.currency()))
            .await
            .unwrap_err();
        assert_eq!(
            reused,
            checkout::RefundError::Refused(checkout::RefundRequestError::IdReused)
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_refund_gives_its_amount_back_to_what_remains() {
    let shop = harness(StoreKind::Embedded, ReconcilePolicy::default()).await;
    let (order_id, _) = paid_order(&shop).await;
    shop.emulator.set_faults(Faults {
        refunds_stay_pending: true,
        ..Faults::default()
    });
    let paid = shop.record(&order_id).await.attempts[0].amount();
    shop.service
        .refund(&order_id, &RefundId::generate(), paid)
        .await
        .unwrap();
    let attempt = shop.record(&order_id).await.attempts[0].clone();
    assert_eq!(attempt.refunds()[0].status(), RefundStatus::Pending);
    assert_eq!(attempt.refundable().minor_units(), 0);
    let provider_refund = attempt.refunds()[0].provider_refund_id().clone().unwrap();

    // The bank refuses it; Mollie calls the webhook.
    assert!(shop.emulator.set_refund_status(
        provider_refund.as_str(),
        mollie_emulator::RefundStatus::Failed
    ));
    let attempt = settled(&shop, &order_id).await;
    assert_eq!(attempt.refunds()[0].status(), RefundStatus::Failed);
    assert_eq!(attempt.refundable(), paid);
    assert_eq!(attempt.ledger().status(), MoneyStatus::Paid);
}

/// Waits until the stored attempt satisfies `done`.
async fn until(
    shop: &crate::common::Harness,
    order_id: &checkout::OrderId,
    done: impl Fn(&checkout::PaymentAttempt) -> bool,
) -> checkout::PaymentAttempt {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let attempt = shop.record(order_id).await.attempts[0].clone();
        if done(&attempt) {
            return attempt;
        }
        assert!(Instant::now() < deadline, "{attempt:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chargeback_then_its_reversal_each_counted_once() {
    for kind in [StoreKind::Embedded, StoreKind::DynamoDb] {
        let shop = harness(kind, ReconcilePolicy::default()).await;
        let (order_id, payment) = paid_order(&shop).await;
        let paid = shop.record(&order_id).await.attempts[0].amount();
        let chargeback = shop.emulator.charge_back(&payment, None).unwrap();

        let attempt = until(&shop, &order_id, |a| !a.chargebacks().is_empty()).await;
        assert_eq!(attempt.chargebacks().len(), 1);
        assert_eq!(attempt.chargebacks()[0].id.as_str(), chargeback);
        assert_eq!(attempt.ledger().charged_back, paid);
        assert_eq!(attempt.ledger().status(), MoneyStatus::ChargedBack);
        assert_eq!(attempt.refundable().minor_units(), 0);
        assert_eq!(shop.status(&order_id).await, OrderStatus::Paid);
        // Nothing remains to refund: refused, nothing sent.
        assert!(shop
            .service
            .refund(&order_id, &RefundId::generate(), paid)
            .await
            .is_err());

        // Duplicated webhooks (the payment still "paid") change nothing; a
        // stale report from before it cannot clear it either (the ledger's
        // property tests).
        for _ in 0..3 {
            assert_eq!(shop.post_webhook(&payment).await, 200);
        }
        let again = shop.record(&order_id).await.attempts[0].clone();
        assert_eq!(again, attempt);

        // The bank reverses it: the money is back, once.
        assert!(shop.emulator.reverse_chargeback(&chargeback));
        assert!(!shop.emulator.reverse_chargeback(&chargeback));
        let attempt = until(&shop, &order_id, |a| !a.chargebacks()[0].counts()).await;
        assert_eq!(attempt.chargebacks().len(), 1);
        assert_eq!(attempt.ledger().status(), MoneyStatus::Paid);
        assert_eq!(attempt.refundable(), paid);
        let provider = shop.at_the_provider(&payment).await;
        assert_eq!(provider["amountChargedBack"]["value"], "0.00", "{provider}");
        assert!(embedded(&provider, "chargebacks")[0]["reversedAt"].is_string());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refund_whose_webhook_is_lost_is_settled_by_the_reconciler() {
    let policy = crate::common::quick_checks();
    // DynamoDB: the paid attempt must be back in the reconciler's index.
    let shop = harness(StoreKind::DynamoDb, policy).await;
    let (order_id, _) = paid_order(&shop).await;
    shop.emulator.set_faults(Faults {
        refunds_stay_pending: true,
        ..Faults::default()
    });
    let amount = Money::new(700, checkout::Currency::EUR);
    shop.service
        .refund(&order_id, &RefundId::generate(), amount)
        .await
        .unwrap();
    let pending = shop.record(&order_id).await.attempts[0].clone();
    assert_eq!(pending.refunds()[0].status(), RefundStatus::Pending);
    assert!(pending.needs_checks());

    let reconciler = shop.spawn_reconciler();
    // Processed at the provider; its webhook is lost.
    shop.emulator.set_faults(Faults {
        drop_next_webhooks: 1,
        refunds_stay_pending: true,
        ..Faults::default()
    });
    let webhooks = shop.emulator.webhook_calls();
    let provider_refund = pending.refunds()[0].provider_refund_id().clone().unwrap();
    assert!(shop.emulator.set_refund_status(
        provider_refund.as_str(),
        mollie_emulator::RefundStatus::Refunded
    ));
    let settled = until(&shop, &order_id, |a| {
        a.refunds()[0].status() == RefundStatus::Refunded
    })
    .await;
    assert_eq!(
        shop.emulator.webhook_calls(),
        webhooks,
        "the webhook was not lost"
    );
    assert!(!settled.needs_checks(), "nothing more to ask the provider");
    reconciler.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refund_made_while_the_provider_is_down_is_sent_again_by_the_reconciler() {
    let policy = crate::common::quick_checks();
    let shop = harness(StoreKind::Embedded, policy).await;
    let (order_id, payment) = paid_order(&shop).await;
    shop.emulator.set_faults(Faults {
        fail_next: 1_000,
        ..Faults::default()
    });
    let amount = Money::new(900, checkout::Currency::EUR);
    let refund_id = RefundId::generate();
    let down = shop
        .service
        .refund(&order_id, &refund_id, amount)
        .await
        .unwrap_err();
    assert!(
        matches!(down, checkout::RefundError::ProviderUnavailable(_)),
        "{down:?}"
    );
    let kept = shop.record(&order_id).await.attempts[0].clone();
    assert_eq!(kept.refunds()[0].status(), RefundStatus::Requested);
    assert_eq!(
        kept.refundable().minor_units(),
        kept.amount().minor_units() - 900
    );

    // The provider is back: the reconciler sends it, once.
    shop.emulator.set_faults(Faults::default());
    let reconciler = shop.spawn_reconciler();
    let settled = until(&shop, &order_id, |a| {
        a.refunds()[0].status() == RefundStatus::Refunded
    })
    .await;
    assert_eq!(settled.refunds().len(), 1);
    assert_eq!(settled.refunds()[0].id(), &refund_id);
    let provider = shop.at_the_provider(&payment).await;
    assert_eq!(embedded(&provider, "refunds").len(), 1, "{provider}");
    reconciler.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refund_the_provider_refuses_is_failed_and_what_it_knows_is_merged() {
    let shop = harness(StoreKind::Embedded, ReconcilePolicy::default()).await;
    let (order_id, payment) = paid_order(&shop).await;
    let paid = shop.record(&order_id).await.attempts[0].amount();
    // The bank took it all back, and that webhook was lost: our records
    // still say all of it is refundable.
    shop.emulator.set_faults(Faults {
        drop_next_webhooks: 1,
        ..Faults::default()
    });
    shop.emulator.charge_back(&payment, None).unwrap();
    assert_eq!(shop.record(&order_id).await.attempts[0].refundable(), paid);

    let refused = shop
        .service
        .refund(&order_id, &RefundId::generate(), paid)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, checkout::RefundError::ProviderRejected(_)),
        "{refused:?}"
    );
    let attempt = shop.record(&order_id).await.attempts[0].clone();
    assert_eq!(attempt.refunds().len(), 1);
    assert_eq!(attempt.refunds()[0].status(), RefundStatus::Failed);
    assert_eq!(attempt.chargebacks().len(), 1, "read back with the refusal");
    assert_eq!(attempt.ledger().status(), MoneyStatus::ChargedBack);
    assert!(!attempt.needs_checks());
}

/// Mollie answers 409 to a refund of the same amount as one it made
/// within the hour. Ours is failed, its amount given back: were it left
/// requested, a resend after the hour would make the refund Mollie
/// refused as a duplicate.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_refund_of_the_same_amount_within_the_hour_fails_as_a_duplicate() {
    let shop = harness(StoreKind::Embedded, crate::common::quick_checks()).await;
    let (order_id, payment) = paid_order(&shop).await;
    let paid = shop.record(&order_id).await.attempts[0].amount();
    let amount = Money::new(500, checkout::Currency::EUR);
    shop.service
        .refund(&order_id, &RefundId::generate(), amount)
        .await
        .unwrap();
    // A second refund of the same amount (the form reloaded and sent again).
    let again = RefundId::generate();
    let refused = shop.service.refund(&order_id, &again, amount).await;
    assert!(
        matches!(refused, Err(checkout::RefundError::DuplicateAmount(_))),
        "{refused:?}"
    );
    // Reconcile passes, over an hour and more, send nothing again: it
    // stays failed, made once.
    shop.reconcile_passes(3, Duration::from_secs(3_600)).await;
    let attempt = shop.record(&order_id).await.attempts[0].clone();
    let ours = attempt.refunds().iter().find(|r| *r.id() == again).unwrap();
    assert_eq!(ours.status(), RefundStatus::Failed, "{attempt:?}");
    assert_eq!(
        attempt.refundable().minor_units(),
        paid.minor_units() - amount.minor_units()
    );
    let provider = shop.at_the_provider(&payment).await;
    assert_eq!(embedded(&provider, "refunds").len(), 1, "{provider}");
}

/// Mollie also answers 409 to a send while another with the same key is
/// still running (the operator's, or the Mollie client's own retry of it),
/// and then makes the refund. With nothing of that amount at the provider,
/// a 409 keeps the refund requested, holding its amount; the reconciler's
/// resend with the same key makes it, once.
#[tokio::test(flavor = "multi_thread")]
async fn a_refund_answered_409_with_no_other_like_it_stays_requested_until_made() {
    let shop = harness(StoreKind::Embedded, crate::common::quick_checks()).await;
    let (order_id, payment) = paid_order(&shop).await;
    let paid = shop.record(&order_id).await.attempts[0].amount();
    let amount = Money::new(500, checkout::Currency::EUR);
    // The create is answered 409 and not made (the key still in flight).
    shop.emulator.set_faults(Faults {
        fail_next: 1,
        fail_status: Some(409),
        ..Faults::default()
    });
    let refund_id = RefundId::generate();
    let first = shop.service.refund(&order_id, &refund_id, amount).await;
    assert!(
        matches!(first, Err(checkout::RefundError::ProviderUnavailable(_))),
        "{first:?}"
    );
    let attempt = shop.record(&order_id).await.attempts[0].clone();
    assert_eq!(attempt.refunds()[0].status(), RefundStatus::Requested);
    assert_eq!(
        attempt.refundable().minor_units(),
        paid.minor_units() - amount.minor_units()
    );
    let reconciler = shop.spawn_reconciler();
    until(&shop, &order_id, |a| {
        a.refunds()[0].provider_refund_id().is_some()
    })
    .await;
    reconciler.stop().await;
    let provider = shop.at_the_provider(&payment).await;
    assert_eq!(embedded(&provider, "refunds").len(), 1, "{provider}");
}

/// A resend the provider refuses outright (422: more than remains, after a
/// chargeback our records missed) fails the refund only once its first
/// send cannot be in flight any more; before that it stays requested.
#[tokio::test(flavor = "multi_thread")]
async fn a_refused_resend_fails_a_refund_only_after_its_in_flight_time() {
    let in_flight_for = Duration::from_secs(120);
    // Passes a second apart within the in-flight time; then one past it.
    for (wait, expected) in [
        (Duration::ZERO, RefundStatus::Requested),
        (in_flight_for, RefundStatus::Failed),
    ] {
        let policy = ReconcilePolicy {
            refund_in_flight_for: in_flight_for,
            ..crate::common::quick_checks()
        };
        let shop = harness(StoreKind::Embedded, policy).await;
        let (order_id, payment) = paid_order(&shop).await;
        let paid = shop.record(&order_id).await.attempts[0].amount();
        // The provider is down: the refund stays requested.
        shop.emulator.set_faults(Faults {
            fail_next: 1_000,
            ..Faults::default()
        });
        let refund_id = RefundId::generate();
        let down = shop.service.refund(&order_id, &refund_id, paid).await;
        assert!(
            matches!(down, Err(checkout::RefundError::ProviderUnavailable(_))),
            "{down:?}"
        );
        // Meanwhile the bank took it all back, and that webhook was lost:
        // Mollie refuses the resend (422, more than remains).
        shop.emulator.set_faults(Faults {
            drop_next_webhooks: 1,
            ..Faults::default()
        });
        shop.emulator.charge_back(&payment, None).unwrap();
        shop.clock.advance(wait);
        shop.reconcile_passes(3, Duration::from_secs(1)).await;
        let attempt = shop.record(&order_id).await.attempts[0].clone();
        assert!(!attempt.chargebacks().is_empty(), "{attempt:?}");
        assert_eq!(
            attempt.refunds()[0].status(),
            expected,
            "after {wait:?}: {attempt:?}"
        );
    }
}
