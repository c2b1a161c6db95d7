//! What the shop promises under concurrency, races, lost webhooks and
//! forgery, against real components (emulator over HTTP; embedded store and
//! DynamoDB on moto server).

use crate::common::{cart, harness, shopper, StoreKind};
use checkout::{CheckoutKey, OrderStatus, PaymentMetadata, PaymentProvider, ReconcilePolicy};
use mollie::{ApiKey, MollieClient, MollieConfig};
use mollie_emulator::{Faults, PaymentStatus};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashSet;
use std::time::{Duration, Instant};

async fn twenty_submissions_with_one_key_make_one_order_and_one_payment(kind: StoreKind) {
    let shop = harness(kind, ReconcilePolicy::default()).await;
    let key = CheckoutKey::generate();
    let submissions: Vec<_> = (0..20)
        .map(|_| {
            let (service, key) = (shop.service.clone(), key.clone());
            tokio::spawn(async move { service.checkout(&cart("mug", 1), &shopper(), &key).await })
        })
        .collect();
    let mut orders = HashSet::new();
    let mut redirects = HashSet::new();
    for submission in submissions {
        let started = submission
            .await
            .unwrap()
            .expect("every submission succeeds");
        orders.insert(started.order_id);
        redirects.insert(started.redirect_url);
    }
    assert_eq!(orders.len(), 1, "{orders:?}");
    assert_eq!(redirects.len(), 1, "{redirects:?}");
    assert_eq!(shop.emulator.payments_created(), 1);
    let order_id = orders.into_iter().next().unwrap();
    let (record, _) = shop.service.order(&order_id).await.unwrap().unwrap();
    assert_eq!(record.attempts.len(), 1);

    // The same key with another cart is refused and changes nothing.
    let other = shop
        .service
        .checkout(&cart("tote", 1), &shopper(), &key)
        .await;
    assert_eq!(
        other,
        Err(checkout::CheckoutError::KeyReusedWithAnotherCart)
    );
    // ... and with another address: its messages would go to the first.
    let typo_fixed = checkout::EmailAddress::parse("shopper2@example.com").unwrap();
    let other = shop
        .service
        .checkout(&cart("mug", 1), &typo_fixed, &key)
        .await;
    assert_eq!(
        other,
        Err(checkout::CheckoutError::KeyReusedWithAnotherAddress)
    );
    assert_eq!(shop.emulator.payments_created(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_submissions_embedded() {
    twenty_submissions_with_one_key_make_one_order_and_one_payment(StoreKind::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_submissions_dynamodb() {
    twenty_submissions_with_one_key_make_one_order_and_one_payment(StoreKind::DynamoDb).await;
}

async fn racing_webhooks_end_at_the_providers_status(kind: StoreKind, seeds: u64) {
    let shop = harness(kind, ReconcilePolicy::default()).await;
    let (mut paid, mut failed) = (0, 0);
    let finals = [
        PaymentStatus::Paid,
        PaymentStatus::Canceled,
        PaymentStatus::Expired,
    ];
    for seed in 1..=seeds {
        let mut rng = StdRng::seed_from_u64(seed);
        let (order_id, provider_id) = shop.buy().await;
        shop.emulator.set_faults(Faults {
            duplicate_webhooks: true,
            reorder_window_ms: 30,
            ..Faults::default()
        });
        let last = finals[rng.random_range(0..3)];
        // Our own webhook posts, concurrent with the emulator's duplicated
        // and reordered deliveries, some before and some after the change.
        let mut posts = Vec::new();
        for _ in 0..4 {
            let (url, id, delay) = (
                shop.shop_url.clone(),
                provider_id.clone(),
                rng.random_range(0..25),
            );
            posts.push(tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(delay)).await;
                reqwest::Client::new()
                    .post(format!("{url}/webhooks/mollie"))
                    .form(&[("id", id.as_str())])
                    .send()
                    .await
                    .unwrap()
                    .status()
            }));
        }
        if rng.random_bool(0.5) {
            assert!(shop
                .emulator
                .complete_payment(&provider_id, PaymentStatus::Authorized));
            tokio::time::sleep(Duration::from_millis(rng.random_range(0..10))).await;
        }
        assert!(shop.emulator.complete_payment(&provider_id, last));
        for post in posts {
            assert_eq!(post.await.unwrap(), 200);
        }
        let expected = match last {
            PaymentStatus::Paid => OrderStatus::Paid,
            PaymentStatus::Canceled => {
                OrderStatus::PaymentFailed(checkout::PaymentStatus::Canceled)
            }
            _ => OrderStatus::PaymentFailed(checkout::PaymentStatus::Expired),
        };
        shop.wait_for(&order_id, expected, Duration::from_secs(10))
            .await;
        // Late duplicates keep arriving for a while; nothing may move it.
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(shop.status(&order_id).await, expected, "seed {seed}");
        // Exactly one event for the change that happened, none for the
        // statuses the duplicates and reorderings tried to move it to.
        let events = shop.event_types(&order_id).await;
        if expected == OrderStatus::Paid {
            paid += 1;
            assert_eq!(events, ["order.paid"], "seed {seed}");
        } else {
            failed += 1;
            assert_eq!(events, ["payment.failed"], "seed {seed}");
        }
    }
    // Delivered twice over (a second pass finds nothing left to send):
    // one confirmation per paid order, one "did not go through" per other.
    assert_eq!(shop.deliver_twice().await, (paid + failed, 0));
    eprintln!("racing webhooks: {paid} paid, {failed} failed");
    assert_eq!(shop.messages_about("thank you for your payment"), paid);
    assert_eq!(
        shop.messages_about("your payment did not go through"),
        failed
    );
    assert_eq!(shop.mail_subjects().len(), paid + failed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_webhooks_embedded() {
    racing_webhooks_end_at_the_providers_status(StoreKind::Embedded, 30).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_webhooks_dynamodb() {
    racing_webhooks_end_at_the_providers_status(StoreKind::DynamoDb, 10).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dropped_webhook_is_reconciled_in_the_background() {
    let policy = crate::common::quick_checks();
    let shop = harness(StoreKind::Embedded, policy).await;
    let reconciler = shop.spawn_reconciler();

    let (order_id, provider_id) = shop.buy().await;
    let paid_at = Instant::now();
    shop.complete_without_webhook(&provider_id, PaymentStatus::Paid);
    // The bound: first checked 300 ms after creation, looked at every 100 ms.
    shop.wait_for(&order_id, OrderStatus::Paid, Duration::from_secs(2))
        .await;
    assert_eq!(
        shop.emulator.webhook_calls(),
        0,
        "the webhook was not dropped"
    );
    eprintln!("reconciled {:?} after the payment", paid_at.elapsed());

    reconciler.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dropped_webhook_is_reconciled_when_the_thank_you_page_asks() {
    let policy = ReconcilePolicy {
        refresh_after: Duration::from_millis(200),
        min_refresh_interval: Duration::from_millis(100),
        ..ReconcilePolicy::default()
    };
    let shop = harness(StoreKind::Embedded, policy).await;
    let (order_id, provider_id) = shop.buy().await;
    shop.complete_without_webhook(&provider_id, PaymentStatus::Paid);
    let api_calls_before = shop.emulator.api_calls();
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let (_, status) = shop
            .service
            .order_refreshed(&order_id)
            .await
            .unwrap()
            .unwrap();
        if status == OrderStatus::Paid {
            break;
        }
        assert!(Instant::now() < deadline, "still {status:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Rate-limited: ~300 polls, a handful of provider calls.
    let calls = shop.emulator.api_calls() - api_calls_before;
    assert!(calls <= 4, "{calls} provider calls");
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_webhooks_change_nothing() {
    let shop = harness(StoreKind::Embedded, ReconcilePolicy::default()).await;
    let (victim, _) = shop.buy().await;
    let (record, _) = shop.service.order(&victim).await.unwrap().unwrap();
    let victim_attempt = record.attempts[0].clone();

    // Another order's paid payment id posted to our webhook: it is that
    // order's payment, so only that order is paid.
    let (other, other_payment) = shop.buy().await;
    assert!(shop
        .emulator
        .complete_payment(&other_payment, PaymentStatus::Paid));
    shop.wait_for(&other, OrderStatus::Paid, Duration::from_secs(5))
        .await;
    assert_eq!(shop.post_webhook(&other_payment).await, 200);
    assert_eq!(shop.status(&victim).await, OrderStatus::AwaitingPayment);

    // Payments made on the same account by someone else, claiming the
    // victim's ids in their metadata: one for another amount, one for the
    // right amount (but not the payment the victim's attempt recorded).
    let client = MollieClient::new(
        MollieConfig::new(ApiKey::new("test_forger").unwrap())
            .with_base_url(shop.emulator.api_base_url()),
    )
    .unwrap();
    let metadata = PaymentMetadata {
        order_id: victim.clone(),
        attempt_id: victim_attempt.id().clone(),
    };
    for amount in [
        checkout::Money::new(1, checkout::Currency::EUR),
        victim_attempt.amount(),
    ] {
        let forged = PaymentProvider::create_payment(
            &client,
            &checkout::NewPayment {
                amount,
                description: "forged".into(),
                // The emulator redirects to loopback only.
                redirect_url: "http://127.0.0.1:9/attacker".into(),
                webhook_url: format!("{}/webhooks/mollie", shop.shop_url),
                metadata: metadata.clone(),
                idempotency_key: CheckoutKey::generate().to_string(),
                capture_mode: checkout::CaptureMode::Automatic,
                lines: Vec::new(),
                locale: None,
                method: None,
            },
        )
        .await
        .unwrap();
        assert!(shop
            .emulator
            .complete_payment(forged.id.as_str(), PaymentStatus::Paid));
        assert_eq!(shop.post_webhook(forged.id.as_str()).await, 200);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (after, status) = shop.service.order(&victim).await.unwrap().unwrap();
    assert_eq!(status, OrderStatus::AwaitingPayment);
    assert_eq!(after.attempts, vec![victim_attempt]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_attempt_can_be_paid_again_on_the_same_order() {
    let shop = harness(StoreKind::DynamoDb, ReconcilePolicy::default()).await;
    let (order_id, first_payment) = shop.buy().await;
    // While the first attempt is open, paying again continues it.
    let again = shop.service.pay_again(&order_id).await.unwrap();
    assert!(again
        .redirect_url
        .ends_with(&format!("/checkout/{first_payment}")));
    assert_eq!(shop.emulator.payments_created(), 1);

    assert!(shop
        .emulator
        .complete_payment(&first_payment, PaymentStatus::Failed));
    shop.wait_for(
        &order_id,
        OrderStatus::PaymentFailed(checkout::PaymentStatus::Failed),
        Duration::from_secs(5),
    )
    .await;
    // Two tabs click "try again" at once: one new attempt, one payment.
    let (a, b) = tokio::join!(
        shop.service.pay_again(&order_id),
        shop.service.pay_again(&order_id)
    );
    assert_eq!(a.unwrap().redirect_url, b.unwrap().redirect_url);
    assert_eq!(shop.emulator.payments_created(), 2);
    let (record, status) = shop.service.order(&order_id).await.unwrap().unwrap();
    assert_eq!(record.attempts.len(), 2);
    assert_eq!(status, OrderStatus::AwaitingPayment);

    let second = record.attempts[1].provider_payment_id().clone().unwrap();
    assert!(shop
        .emulator
        .complete_payment(second.as_str(), PaymentStatus::Paid));
    shop.wait_for(&order_id, OrderStatus::Paid, Duration::from_secs(5))
        .await;
    // Paid: paying again only shows the thank-you page.
    let done = shop.service.pay_again(&order_id).await.unwrap();
    assert!(done.redirect_url.ends_with(&format!("/orders/{order_id}")));
    assert_eq!(shop.emulator.payments_created(), 2);
}

/// Each attempt is kept with its order (in DynamoDB, a copy in the order's
/// item, whose size is bounded): an order takes a bounded number of them.
#[tokio::test(flavor = "multi_thread")]
async fn an_order_takes_a_bounded_number_of_attempts() {
    let shop = harness(StoreKind::Embedded, ReconcilePolicy::default()).await;
    let (order_id, mut payment) = shop.buy().await;
    for attempts in 1..=checkout::MAX_ATTEMPTS_PER_ORDER {
        assert!(shop
            .emulator
            .complete_payment(&payment, PaymentStatus::Failed));
        shop.wait_for(
            &order_id,
            OrderStatus::PaymentFailed(checkout::PaymentStatus::Failed),
            Duration::from_secs(5),
        )
        .await;
        if attempts == checkout::MAX_ATTEMPTS_PER_ORDER {
            break;
        }
        let again = shop.service.pay_again(&order_id).await.unwrap();
        payment = again.redirect_url.rsplit('/').next().unwrap().to_owned();
    }
    let refused = shop.service.pay_again(&order_id).await;
    assert!(
        matches!(refused, Err(checkout::CheckoutError::TooManyAttempts)),
        "{refused:?}"
    );
    let (record, _) = shop.service.order(&order_id).await.unwrap().unwrap();
    assert_eq!(record.attempts.len(), checkout::MAX_ATTEMPTS_PER_ORDER);
    assert_eq!(
        shop.emulator.payments_created(),
        checkout::MAX_ATTEMPTS_PER_ORDER as u64
    );
}
