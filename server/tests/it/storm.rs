//! Faults under load, against real components (emulator over HTTP, our
//! webhook route over HTTP): a webhook storm, and the store going away while
//! webhooks arrive. Bounded in requests and time; loopback only.

use crate::common::{cart, harness, StoreKind};
use checkout::{
    ArticleId, HoldState, OrderId, OrderStatus, PaymentStatus as Status, ReconcilePolicy,
};
use mollie_emulator::{Faults, PaymentStatus};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Payments whose every webhook is dropped: only the reconciler finds them.
const DROPPED: usize = 10;

/// 100 payments settle (paid, failed, canceled, some via authorized), while
/// 1,000 webhooks for them, duplicated and shuffled, hit our route from 32
/// concurrent senders, on top of the emulator's own duplicated, reordered
/// deliveries; the webhooks of 10 of them are all dropped and the
/// reconciler finds those. Every stored status must equal the emulator's,
/// and no transition may be applied twice: each attempt's version counts
/// its writes (1 created, +1 provider id recorded, +1 per status change).
/// Then the outbox: one `order.paid` and one confirmation per paid order,
/// one `payment.failed` and no paid message per other. And the stock: a
/// print held by each paid order, given back once by each other.
async fn a_webhook_storm_leaves_every_status_right_and_applies_each_change_once(kind: StoreKind) {
    let label = format!("{kind:?}");
    let shop = harness(kind, ReconcilePolicy::default()).await;
    // Each order holds one print (tracked) with its two notebooks (not).
    let print = ArticleId::parse("print").unwrap();
    const PRINTS: u32 = 300;
    shop.service
        .operator_set_stock("ann", &print, Some(25), PRINTS)
        .await
        .unwrap();
    let mut lines = cart("notebook", 2);
    lines.extend(cart("print", 1));
    let mut payments: Vec<(OrderId, String)> = Vec::new();
    for _ in 0..100 {
        payments.push(shop.buy_cart(&lines).await);
    }
    shop.emulator.set_faults(Faults {
        drop_next_webhooks: u32::MAX,
        ..Faults::default()
    });
    let outcomes = [
        PaymentStatus::Paid,
        PaymentStatus::Failed,
        PaymentStatus::Canceled,
    ];
    let mut expected = Vec::new();
    for (i, (_, provider_id)) in payments.iter().enumerate() {
        let via_authorized = i % 4 == 0;
        if via_authorized {
            assert!(shop
                .emulator
                .complete_payment(provider_id, PaymentStatus::Authorized));
        }
        let last = outcomes[i % 3];
        assert!(shop.emulator.complete_payment(provider_id, last));
        let changes = 1 + u64::from(via_authorized); // open -> (authorized ->) final
        expected.push((last, changes));
        if i + 1 == DROPPED {
            shop.emulator.set_faults(Faults {
                duplicate_webhooks: true,
                reorder_window_ms: 50,
                ..Faults::default()
            });
        }
    }

    // 1,000 webhooks: each other payment's id 11 times, ten of them once
    // more, shuffled deterministically.
    let mut storm: Vec<String> = payments[DROPPED..]
        .iter()
        .flat_map(|(_, id)| std::iter::repeat_n(id.clone(), 11))
        .chain(
            payments[DROPPED..2 * DROPPED]
                .iter()
                .map(|(_, id)| id.clone()),
        )
        .collect();
    storm.shuffle(&mut StdRng::seed_from_u64(0x2545_F491_4F6C_DD1D));
    let storm = Arc::new(tokio::sync::Mutex::new(storm));
    let started = Instant::now();
    let senders: Vec<_> = (0..32)
        .map(|_| {
            let (storm, url) = (storm.clone(), format!("{}/webhooks/mollie", shop.shop_url));
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut statuses = Vec::new();
                while let Some(id) = storm.lock().await.pop() {
                    let response = http
                        .post(&url)
                        .form(&[("id", id.as_str())])
                        .send()
                        .await
                        .unwrap();
                    statuses.push(response.status().as_u16());
                }
                statuses
            })
        })
        .collect();
    let (mut answered, mut unavailable) = (0, 0);
    for sender in senders {
        let statuses = sender.await.unwrap();
        // 503 (every write race lost, or out of time) is an answer Mollie
        // retries; the statuses must converge all the same.
        assert!(
            statuses.iter().all(|s| *s == 200 || *s == 503),
            "{statuses:?}"
        );
        unavailable += statuses.iter().filter(|s| **s == 503).count();
        answered += statuses.len();
    }
    assert_eq!(answered, 1_000);
    eprintln!(
        "1,000 webhooks answered in {:?}, {unavailable} of them 503",
        started.elapsed()
    );

    // Let the emulator's own late deliveries land too; the reconciler
    // finds the payments whose webhooks were all dropped.
    tokio::time::sleep(Duration::from_millis(300)).await;
    shop.reconcile_passes(3, Duration::from_secs(120)).await;
    let (mut paid, mut failed, mut paid_events) = (0, 0, 0);
    for ((order_id, _), (last, changes)) in payments.iter().zip(expected) {
        let (record, status) = shop.service.order(order_id).await.unwrap().unwrap();
        let want = match last {
            PaymentStatus::Paid => OrderStatus::Paid,
            PaymentStatus::Failed => OrderStatus::PaymentFailed(Status::Failed),
            _ => OrderStatus::PaymentFailed(Status::Canceled),
        };
        assert_eq!(status, want, "{order_id}");
        let attempt = &record.attempts[0];
        // created (1) + provider id and open (1) + each status change at
        // most once (an authorized step can be skipped, if every fetch
        // already saw the final status, but never applied twice).
        assert!(
            (3..=2 + changes).contains(&attempt.version()),
            "{order_id}: version {}, at most {} status changes",
            attempt.version(),
            changes
        );
        let events = shop.event_types(order_id).await;
        paid_events += events.iter().filter(|e| **e == "order.paid").count();
        if want == OrderStatus::Paid {
            paid += 1;
            assert_eq!(events, ["order.paid"], "{order_id}");
        } else {
            failed += 1;
            assert_eq!(events, ["payment.failed"], "{order_id}");
        }
    }
    // Stock: each paid order keeps its print, every other gave it back
    // once; never below zero, nothing held by an order that ended unpaid.
    let mut held = 0;
    for (order_id, _) in &payments {
        let record = shop.record(order_id).await;
        let hold = record.attempts[0].stock().expect("a print held");
        let paid = record.attempts[0].has_taken_money();
        let want = if paid {
            HoldState::Held
        } else {
            HoldState::Released
        };
        assert_eq!(hold.state, want, "{order_id}");
        held += u32::from(paid);
    }
    let left = shop
        .store
        .stock_levels(std::slice::from_ref(&print))
        .await
        .unwrap()
        .available(&print);
    eprintln!("storm ({label}) stock: {PRINTS} prints, {held} held by paid orders, {left:?} left");
    assert_eq!(left, Some(PRINTS - held));
    // Delivered twice over: the second pass finds nothing left.
    assert_eq!(shop.deliver_twice().await, (paid + failed, 0));
    let subjects = shop.mail_subjects();
    let (confirmations, not_through) = (
        shop.messages_about("thank you for your payment"),
        shop.messages_about("your payment did not go through"),
    );
    eprintln!(
        "storm ({label}): {paid} paid, {failed} failed or canceled; {paid_events} order.paid \
         events, {confirmations} confirmations, {not_through} failed-payment messages, {} in all",
        subjects.len()
    );
    assert_eq!((confirmations, not_through), (paid, failed));
    assert_eq!(subjects.len(), paid + failed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_webhook_storm_embedded() {
    a_webhook_storm_leaves_every_status_right_and_applies_each_change_once(StoreKind::Embedded)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_webhook_storm_dynamodb() {
    a_webhook_storm_leaves_every_status_right_and_applies_each_change_once(StoreKind::DynamoDb)
        .await;
}
