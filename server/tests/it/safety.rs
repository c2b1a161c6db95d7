//! Safe by default: money the shop did not expect is recorded, never
//! dropped; payments of another mode or account are ignored; webhooks for
//! ids we never issued cost no provider call; answers we cannot read do not
//! make Mollie retry forever; pay-again asks the provider first; attempts
//! are never given up while a create may be in flight; the reconciler
//! reaches every attempt however many stay open; a webhook answers within
//! its time bound. Real components: the emulator over HTTP, our webhook
//! route over HTTP, the embedded store.

use crate::common::{cart, harness, harness_with, shopper, StoreKind, WEBHOOK_TIMEOUT};
use checkout::{
    CheckSchedule, CheckoutKey, IncidentKind, OrderStatus, PaymentStatus as Ours, ReconcilePolicy,
    SyncOutcome,
};
use mollie_emulator::{Faults, PaymentStatus};
use reqwest::StatusCode;
use serde_json::json;
use std::time::{Duration, Instant};

/// An order whose payment expired, as our records say: given up.
async fn buy_and_expire(shop: &crate::common::Harness) -> (checkout::OrderId, String) {
    let (order_id, provider_id) = shop.buy().await;
    assert!(shop
        .emulator
        .complete_payment(&provider_id, PaymentStatus::Expired));
    shop.wait_for(
        &order_id,
        OrderStatus::PaymentFailed(Ours::Expired),
        Duration::from_secs(3),
    )
    .await;
    (order_id, provider_id)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paid_on_an_attempt_we_gave_up_is_recorded_and_the_order_is_paid() {
    let shop = harness(StoreKind::Embedded, ReconcilePolicy::default()).await;
    let (order_id, provider_id) = buy_and_expire(&shop).await;
    // Mollie now says paid (the shopper was charged all the same).
    shop.emulator
        .override_field(&provider_id, "status", json!("paid"));
    assert_eq!(shop.post_webhook(&provider_id).await, StatusCode::OK);
    let record = shop.record(&order_id).await;
    let incidents: Vec<_> = record.incidents().map(|(_, i)| i.kind).collect();
    assert_eq!(incidents, [IncidentKind::PaidAfterGivenUp]);
    assert!(record.needs_attention());
    assert_eq!(record.attempts[0].status(), Ours::Expired);
    assert_eq!(shop.status(&order_id).await, OrderStatus::Paid);
    // Applied once: a duplicate changes nothing.
    assert_eq!(shop.post_webhook(&provider_id).await, StatusCode::OK);
    assert_eq!(shop.record(&order_id).await, record);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_paid_attempt_on_one_order_is_recorded_for_a_refund() {
    let shop = harness(StoreKind::Embedded, ReconcilePolicy::default()).await;
    let (order_id, first) = buy_and_expire(&shop).await;
    // The shopper starts again in a second tab...
    shop.service.pay_again(&order_id).await.unwrap();
    let record = shop.record(&order_id).await;
    let second = record.attempts[1].provider_payment_id().clone().unwrap();
    // ...while the first tab's payment is taken after all,
    shop.emulator
        .override_field(&first, "status", json!("paid"));
    assert_eq!(shop.post_webhook(&first).await, StatusCode::OK);
    // and then the second tab pays too.
    assert!(shop
        .emulator
        .complete_payment(second.as_str(), PaymentStatus::Paid));
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let record = shop.record(&order_id).await;
        let incidents: Vec<_> = record
            .incidents()
            .map(|(a, i)| (a.provider_payment_id().clone().unwrap().to_string(), i.kind))
            .collect();
        if incidents.len() == 2 {
            assert_eq!(
                incidents,
                [
                    (first.clone(), IncidentKind::PaidAfterGivenUp),
                    (second.to_string(), IncidentKind::SecondPayment)
                ]
            );
            break;
        }
        assert!(Instant::now() < deadline, "{incidents:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(shop.status(&order_id).await, OrderStatus::Paid);

    // The back office's refund form offers both payments, the second (the
    // one paid twice) chosen; the operator refunds it, not the first.
    let session = crate::back_office::sign_in(&shop).await;
    let page = reqwest::Client::new()
        .get(format!("{}/admin/orders/{order_id}", shop.shop_url))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!(r#"<option value="{first}""#)),
        "{page}"
    );
    assert!(
        page.contains(&format!(r#"<option value="{second}" selected"#)),
        "{page}"
    );
    let amount = shop.record(&order_id).await.attempts[1].amount();
    let refund = reqwest::Client::new()
        .post(format!("{}/api/admin/refund", shop.shop_url))
        .header("cookie", &session)
        .header("accept", "application/json")
        .form(&[
            ("order_id", order_id.to_string()),
            ("payment", second.to_string()),
            ("refund_id", checkout::RefundId::generate().to_string()),
            ("amount", amount.to_decimal_string()),
            ("reason", "paid twice".to_owned()),
            ("confirm", "yes".to_owned()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        refund.status(),
        StatusCode::OK,
        "{}",
        refund.text().await.unwrap()
    );
    let record = shop.record(&order_id).await;
    assert!(
        record.attempts[0].refunds().is_empty(),
        "the first payment was refunded"
    );
    assert_eq!(record.attempts[1].refunds().len(), 1);
    assert_eq!(record.attempts[1].refunds()[0].amount(), amount);
    // A payment that is not this order's is refused; nothing changes.
    let other = shop
        .service
        .refund_payment(
            &order_id,
            Some(&checkout::ProviderPaymentId::parse("tr_notthisone").unwrap()),
            &checkout::RefundId::generate(),
            amount,
        )
        .await;
    assert_eq!(other, Err(checkout::RefundError::UnknownPayment));
    assert_eq!(shop.record(&order_id).await, record);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_payment_of_another_mode_or_profile_changes_nothing() {
    let shop = harness(StoreKind::Embedded, ReconcilePolicy::default()).await;
    let (order_id, provider_id) = shop.buy().await;
    shop.emulator
        .override_field(&provider_id, "mode", json!("live"));
    shop.emulator
        .override_field(&provider_id, "status", json!("paid"));
    assert_eq!(shop.post_webhook(&provider_id).await, StatusCode::OK);
    assert_eq!(shop.status(&order_id).await, OrderStatus::AwaitingPayment);

    // A shop that names its profile ignores payments of any other.
    let shop = harness_with(
        StoreKind::Embedded,
        ReconcilePolicy::default(),
        &["--mollie-profile-id", "pfl_emulator00"],
    )
    .await;
    let (order_id, provider_id) = shop.buy().await;
    shop.emulator
        .override_field(&provider_id, "status", json!("paid"));
    shop.emulator
        .override_field(&provider_id, "profileId", json!("pfl_someoneelse"));
    assert_eq!(shop.post_webhook(&provider_id).await, StatusCode::OK);
    assert_eq!(shop.status(&order_id).await, OrderStatus::AwaitingPayment);
    shop.emulator
        .override_field(&provider_id, "profileId", json!("pfl_emulator00"));
    assert_eq!(shop.post_webhook(&provider_id).await, StatusCode::OK);
    assert_eq!(shop.status(&order_id).await, OrderStatus::Paid);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_webhook_for_an_id_we_never_issued_costs_no_provider_call() {
    let shop = harness(StoreKind::Embedded, ReconcilePolicy::default()).await;
    // A real payment at the provider, but not one of ours.
    let (_, ours) = shop.buy().await;
    let before = shop.emulator.api_calls();
    for id in ["tr_neverissued1", "tr_x", &format!("tr_{}", "a".repeat(64))] {
        assert_eq!(shop.post_webhook(id).await, StatusCode::OK, "{id}");
    }
    assert_eq!(shop.emulator.api_calls(), before, "the provider was asked");
    // Ours still costs exactly one.
    assert_eq!(shop.post_webhook(&ours).await, StatusCode::OK);
    assert_eq!(shop.emulator.api_calls(), before + 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_payment_whose_amount_cannot_be_read_is_answered_200_and_changes_nothing() {
    let shop = harness(StoreKind::Embedded, ReconcilePolicy::default()).await;
    let (order_id, provider_id) = shop.buy().await;
    let before = shop.record(&order_id).await;
    shop.emulator.override_field(
        &provider_id,
        "amount",
        json!({ "currency": "EUR", "value": "12,00" }),
    );
    shop.emulator
        .override_field(&provider_id, "status", json!("paid"));
    assert_eq!(shop.post_webhook(&provider_id).await, StatusCode::OK);
    assert_eq!(shop.record(&order_id).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn pay_again_asks_the_provider_before_reusing_a_checkout_link() {
    let shop = harness(StoreKind::Embedded, ReconcilePolicy::default()).await;
    let (order_id, first) = shop.buy().await;
    let stale_link = shop.record(&order_id).await.attempts[0]
        .checkout_url()
        .clone()
        .unwrap();
    // It expires at the provider, and the webhook is lost.
    shop.complete_without_webhook(&first, PaymentStatus::Expired);
    assert_eq!(shop.status(&order_id).await, OrderStatus::AwaitingPayment);

    let started = shop.service.pay_again(&order_id).await.unwrap();
    assert_ne!(
        started.redirect_url, stale_link,
        "sent to an expired payment"
    );
    let record = shop.record(&order_id).await;
    assert_eq!(record.attempts.len(), 2);
    assert_eq!(record.attempts[0].status(), Ours::Expired);
    assert_eq!(
        record.attempts[1].checkout_url().as_deref(),
        Some(started.redirect_url.as_str())
    );
    assert_eq!(shop.emulator.payments_created(), 2);
}

/// A policy that gives unconfirmed attempts up after `abandon_after`.
fn giving_up_after(abandon_after: Duration) -> ReconcilePolicy {
    ReconcilePolicy {
        abandon_unconfirmed_after: abandon_after,
        ..ReconcilePolicy::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_attempt_is_not_given_up_while_its_create_is_in_flight() {
    let shop = harness(StoreKind::Embedded, giving_up_after(Duration::from_secs(1))).await;
    let key = CheckoutKey::generate();
    // The first create fails: the attempt stays unconfirmed.
    shop.emulator.set_faults(Faults {
        fail_next: 10,
        ..Faults::default()
    });
    assert!(shop
        .service
        .checkout(&cart("mug", 1), &shopper(), &key)
        .await
        .is_err());
    shop.emulator.set_faults(Faults::default());
    shop.clock.advance(Duration::from_millis(1_200));

    // The shopper submits again; this create takes its time.
    shop.emulator.set_faults(Faults {
        hang_next: 1,
        hang_ms: 1_500,
        ..Faults::default()
    });
    let service = shop.service.clone();
    let resubmitted = tokio::spawn({
        let key = key.clone();
        async move { service.checkout(&cart("mug", 1), &shopper(), &key).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Meanwhile the reconciler looks at the (old) attempt.
    let due = shop
        .service
        .due_attempts(shop.service.now() + time::Duration::hours(2), 100)
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
    let outcome = shop.service.reconcile(&due[0]).await.unwrap();
    assert_eq!(outcome, SyncOutcome::Unchanged, "given up mid-create");

    let started = resubmitted.await.unwrap().unwrap();
    let record = shop.record(&started.order_id).await;
    assert_eq!(record.attempts.len(), 1);
    assert_eq!(record.attempts[0].status(), Ours::Open);
    assert_eq!(
        record.attempts[0].checkout_url().as_deref(),
        Some(started.redirect_url.as_str())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_create_that_returns_after_the_attempt_was_given_up_is_canceled_not_shown() {
    let shop = harness(
        StoreKind::Embedded,
        giving_up_after(Duration::from_millis(300)),
    )
    .await;
    shop.emulator.set_faults(Faults {
        hang_next: 1,
        hang_ms: 1_500,
        ..Faults::default()
    });
    let service = shop.service.clone();
    let checkout = tokio::spawn(async move {
        service
            .checkout(&cart("mug", 1), &shopper(), &CheckoutKey::generate())
            .await
    });
    tokio::time::sleep(Duration::from_millis(600)).await;
    let due = shop
        .service
        .due_attempts(shop.service.now() + time::Duration::hours(2), 100)
        .await
        .unwrap();
    assert_eq!(
        shop.service.reconcile(&due[0]).await.unwrap(),
        SyncOutcome::Updated(Ours::Expired)
    );
    let started = checkout.await.unwrap().unwrap();
    assert!(
        started
            .redirect_url
            .ends_with(&format!("/orders/{}", started.order_id)),
        "sent to the checkout of a given-up attempt: {}",
        started.redirect_url
    );
    let record = shop.record(&started.order_id).await;
    let provider_id = record.attempts[0].provider_payment_id().clone().unwrap();
    // Canceled at the provider: nobody can pay it now.
    let canceled = shop
        .emulator
        .complete_payment(provider_id.as_str(), PaymentStatus::Paid);
    assert!(!canceled, "the payment could still be paid");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reconciler_reaches_a_new_attempt_however_many_old_ones_stay_open() {
    let shop = harness(StoreKind::Embedded, first_check_at_once()).await;
    let config = server::reconciler::ReconcilerConfig {
        interval: Duration::from_millis(10),
        batch: 2,
        max_per_second: 1_000,
        pass_budget: Duration::from_secs(60),
    };
    // Five payments that stay open (a bank transfer nobody makes).
    for _ in 0..5 {
        shop.buy().await;
    }
    shop.clock.advance(Duration::from_millis(60));
    // A new one is paid, and its webhook is lost.
    let (order_id, provider_id) = shop.buy().await;
    shop.complete_without_webhook(&provider_id, PaymentStatus::Paid);
    shop.clock.advance(Duration::from_millis(60));
    let (_stop, mut stopped) = tokio::sync::watch::channel(false);
    let mut passes = 0;
    while shop.status(&order_id).await != OrderStatus::Paid {
        passes += 1;
        assert!(passes <= 5, "not reconciled after {} passes", passes - 1);
        let report = server::reconciler::run_once(&shop.service, &config, &mut stopped)
            .await
            .expect("the attempts due are listed");
        assert!(report.checked <= 2);
    }
    eprintln!("reconciled in pass {passes}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reconcile_pass_stops_starting_checks_when_its_time_is_spent() {
    let shop = harness(StoreKind::Embedded, first_check_at_once()).await;
    for _ in 0..6 {
        shop.buy().await;
    }
    shop.clock.advance(Duration::from_millis(60));
    // Every provider call answers after 300 ms: a pass of six would take
    // 1.8 s; its budget is 500 ms.
    shop.emulator.set_faults(Faults {
        hang_next: 100,
        hang_ms: 300,
        ..Faults::default()
    });
    let config = server::reconciler::ReconcilerConfig {
        interval: Duration::from_millis(10),
        batch: 100,
        max_per_second: 1_000,
        pass_budget: Duration::from_millis(500),
    };
    let (_stop, mut stopped) = tokio::sync::watch::channel(false);
    let started = Instant::now();
    let report = server::reconciler::run_once(&shop.service, &config, &mut stopped)
        .await
        .expect("the attempts due are listed");
    let took = started.elapsed();
    eprintln!("{report:?} in {took:?}");
    assert!(report.checked >= 1 && report.checked < 6, "{report:?}");
    assert_eq!(report.checked + report.left, 6, "{report:?}");
    // No check starts after the budget: the last one started before 500 ms.
    assert!(took < Duration::from_millis(500 + 300 * 3), "took {took:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_provider_gets_the_webhook_a_503_within_its_time_bound() {
    let shop = harness(StoreKind::Embedded, ReconcilePolicy::default()).await;
    let (order_id, provider_id) = shop.buy().await;
    shop.emulator.set_faults(Faults {
        hang_next: 1,
        hang_ms: 5_000,
        ..Faults::default()
    });
    let started = Instant::now();
    assert_eq!(
        shop.post_webhook(&provider_id).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(4_000),
        "waited for the provider: {took:?} (bound {WEBHOOK_TIMEOUT:?})"
    );
    // Nothing was lost: the next call applies it.
    assert!(shop
        .emulator
        .complete_payment(&provider_id, PaymentStatus::Paid));
    shop.wait_for(&order_id, OrderStatus::Paid, Duration::from_secs(3))
        .await;
}

/// New attempts are due for the reconciler almost at once (50 ms), and
/// stay due within a minute however often they were checked.
fn first_check_at_once() -> ReconcilePolicy {
    ReconcilePolicy {
        check_schedule: CheckSchedule {
            first_check_after: Duration::from_millis(50),
            max_interval: Duration::from_secs(60),
        },
        ..ReconcilePolicy::default()
    }
}
