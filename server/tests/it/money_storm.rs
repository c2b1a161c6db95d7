//! The money after "paid" under load: 50 paid orders get random refunds
//! (the shop's own and ones made in Mollie's dashboard), some failing, and
//! chargebacks, some reversed, while the emulator duplicates and reorders
//! every webhook and a storm of extra webhooks hits our route. In the end
//! every order's ledger must equal the provider's, each refund and
//! chargeback counted once.

use crate::common::{harness, Harness, StoreKind};
use checkout::{
    Money, OrderId, OrderStatus, PaymentAttempt, ReconcilePolicy, RefundId, RefundStatus,
};
use mollie_emulator::{Faults, PaymentStatus, RefundStatus as ProviderRefundStatus};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ORDERS: usize = 50;
const SEED: u64 = 0x5EED_0014;

#[derive(Default)]
struct Counts {
    our_refunds: AtomicU64,
    dashboard_refunds: AtomicU64,
    failed_refunds: AtomicU64,
    chargebacks: AtomicU64,
    reversals: AtomicU64,
}

/// What happens to one paid order's money: a few refunds, then maybe a
/// chargeback of part of what remains, then maybe its reversal. Amounts
/// stay within what remains at the provider, as Mollie enforces.
async fn money_events(
    shop: Arc<Harness>,
    order_id: OrderId,
    payment: String,
    paid: Money,
    seed: u64,
    counts: Arc<Counts>,
) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut remaining = paid.minor_units();
    assert_eq!(paid.currency(), checkout::Currency::EUR);
    let mut amounts = std::collections::HashSet::new();
    for _ in 0..rng.random_range(0..=3) {
        if remaining == 0 {
            break;
        }
        let cents = rng.random_range(1..=remaining.min(2_000));
        // Mollie refuses a same-amount refund on one payment within the
        // hour (409): amounts differ.
        if !amounts.insert(cents) {
            continue;
        }
        let amount = Money::new(cents, paid.currency());
        if rng.random_bool(0.5) {
            shop.service
                .refund(&order_id, &RefundId::generate(), amount)
                .await
                .unwrap();
            counts.our_refunds.fetch_add(1, Ordering::Relaxed);
        } else {
            let value = format!("{}.{:02}", cents / 100, cents % 100);
            shop.refund_at_the_provider(&payment, &value).await;
            counts.dashboard_refunds.fetch_add(1, Ordering::Relaxed);
        }
        remaining -= amount.minor_units();
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..20))).await;
    }
    if remaining > 0 && rng.random_bool(0.4) {
        let cents = rng.random_range(1..=remaining);
        let value = serde_json::json!({
            "currency": "EUR",
            "value": format!("{}.{:02}", cents / 100, cents % 100),
        });
        let chargeback = shop.emulator.charge_back(&payment, Some(value)).unwrap();
        counts.chargebacks.fetch_add(1, Ordering::Relaxed);
        if rng.random_bool(0.5) {
            tokio::time::sleep(Duration::from_millis(rng.random_range(0..30))).await;
            assert!(shop.emulator.reverse_chargeback(&chargeback));
            counts.reversals.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Mollie's processing of every refund of `payment`: most are refunded,
/// some fail.
async fn settle_refunds(shop: &Harness, payment: &str, rng: &mut StdRng, counts: &Counts) {
    let seen = shop.at_the_provider(payment).await;
    for refund in seen["_embedded"]["refunds"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let fails = rng.random_bool(0.2);
        let status = if fails {
            counts.failed_refunds.fetch_add(1, Ordering::Relaxed);
            ProviderRefundStatus::Failed
        } else {
            ProviderRefundStatus::Refunded
        };
        assert!(shop
            .emulator
            .set_refund_status(refund["id"].as_str().unwrap(), status));
    }
}

/// How our attempt differs from the provider's payment; empty when its
/// ledger is the provider's.
fn differences(ours: &PaymentAttempt, provider: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let refunds = provider["_embedded"]["refunds"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let chargebacks = provider["_embedded"]["chargebacks"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if ours.refunds().len() != refunds.len() {
        found.push(format!(
            "{} refunds, provider {}",
            ours.refunds().len(),
            refunds.len()
        ));
    }
    for theirs in &refunds {
        let id = theirs["id"].as_str().unwrap();
        let status = match theirs["status"].as_str().unwrap() {
            "queued" | "pending" => RefundStatus::Pending,
            "processing" => RefundStatus::Processing,
            "refunded" => RefundStatus::Refunded,
            "failed" => RefundStatus::Failed,
            _ => RefundStatus::Canceled,
        };
        let matching: Vec<_> = ours
            .refunds()
            .iter()
            .filter(|r| r.provider_refund_id().as_ref().map(|p| p.as_str()) == Some(id))
            .collect();
        match matching.as_slice() {
            [one] if one.status() == status => {}
            [one] => found.push(format!("{id}: {:?}, provider {status:?}", one.status())),
            many => found.push(format!("{id} stored {} times", many.len())),
        }
    }
    if ours.chargebacks().len() != chargebacks.len() {
        found.push(format!(
            "{} chargebacks, provider {}",
            ours.chargebacks().len(),
            chargebacks.len()
        ));
    }
    for theirs in &chargebacks {
        let id = theirs["id"].as_str().unwrap();
        let reversed = theirs["reversedAt"].is_string();
        match ours.chargebacks().iter().find(|c| c.id.as_str() == id) {
            Some(c) if c.counts() != reversed => {}
            _ => found.push(format!("chargeback {id} missing or reversal differs")),
        }
    }
    let cents = |amount: &Value| {
        amount["value"]
            .as_str()
            .map(|v| v.replace('.', "").parse::<u64>().unwrap())
    };
    let ledger = ours.ledger();
    if cents(&provider["amountRefunded"]) != Some(ledger.refunded.minor_units()) {
        found.push(format!("refunded {}", ledger.refunded));
    }
    let charged_back = cents(&provider["amountChargedBack"]).unwrap_or(0);
    if charged_back != ledger.charged_back.minor_units() {
        found.push(format!("charged back {}", ledger.charged_back));
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_money_storm_leaves_every_ledger_equal_to_the_providers() {
    let shop = Arc::new(harness(StoreKind::Embedded, ReconcilePolicy::default()).await);
    let mut orders = Vec::new();
    for _ in 0..ORDERS {
        let (order_id, payment) = shop.buy().await;
        assert!(shop
            .emulator
            .complete_payment(&payment, PaymentStatus::Paid));
        orders.push((order_id, payment));
    }
    for (order_id, _) in &orders {
        shop.wait_for(order_id, OrderStatus::Paid, Duration::from_secs(10))
            .await;
    }
    let webhooks_before = shop.emulator.webhook_calls();
    shop.emulator.set_faults(Faults {
        duplicate_webhooks: true,
        reorder_window_ms: 40,
        refunds_stay_pending: true,
        ..Faults::default()
    });

    // A storm of extra webhooks while the money moves: each payment's id
    // six times, shuffled, from 16 senders.
    let mut storm: Vec<String> = orders
        .iter()
        .flat_map(|(_, id)| std::iter::repeat_n(id.clone(), 6))
        .collect();
    storm.shuffle(&mut StdRng::seed_from_u64(SEED));
    let storm_size = storm.len() as u64;
    let storm = Arc::new(tokio::sync::Mutex::new(storm));
    let senders: Vec<_> = (0..16)
        .map(|_| {
            let (storm, url) = (storm.clone(), format!("{}/webhooks/mollie", shop.shop_url));
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut unavailable = 0u64;
                while let Some(id) = storm.lock().await.pop() {
                    let sent = http.post(&url).form(&[("id", id.as_str())]).send();
                    // 503 (lost every write race, or out of time) is a
                    // webhook answer Mollie retries; the ledgers must
                    // converge all the same.
                    match sent.await.unwrap().status().as_u16() {
                        200 => {}
                        503 => unavailable += 1,
                        other => panic!("webhook answered {other}"),
                    }
                    tokio::time::sleep(Duration::from_millis(3)).await;
                }
                unavailable
            })
        })
        .collect();

    let counts = Arc::new(Counts::default());
    let started = Instant::now();
    let mut events = Vec::new();
    for (i, (order_id, payment)) in orders.iter().enumerate() {
        let paid = shop.record(order_id).await.attempts[0].amount();
        events.push(tokio::spawn(money_events(
            shop.clone(),
            order_id.clone(),
            payment.clone(),
            paid,
            SEED + i as u64,
            counts.clone(),
        )));
    }
    for event in events {
        event.await.unwrap();
    }
    let mut rng = StdRng::seed_from_u64(SEED);
    for (_, payment) in &orders {
        settle_refunds(&shop, payment, &mut rng, &counts).await;
    }
    let mut unavailable = 0;
    for sender in senders {
        unavailable += sender.await.unwrap();
    }

    // Converges: every webhook (ours and the emulator's late copies) lands.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mismatches = loop {
        let mut mismatches = Vec::new();
        for (order_id, payment) in &orders {
            let ours = shop.record(order_id).await.attempts[0].clone();
            let theirs = shop.at_the_provider(payment).await;
            let found = differences(&ours, &theirs);
            if !found.is_empty() {
                mismatches.push(format!("{order_id}: {found:?}"));
            }
        }
        if mismatches.is_empty() || Instant::now() > deadline {
            break mismatches;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let load = |n: &AtomicU64| n.load(Ordering::Relaxed);
    eprintln!(
        "money storm: {ORDERS} orders, {} refunds ({} ours, {} from the dashboard, {} failed), \
         {} chargebacks ({} reversed), {} webhook calls ({} from the emulator, {storm_size} extra, \
         {unavailable} of those answered 503), \
         converged in {:?}, mismatches: {}",
        load(&counts.our_refunds) + load(&counts.dashboard_refunds),
        load(&counts.our_refunds),
        load(&counts.dashboard_refunds),
        load(&counts.failed_refunds),
        load(&counts.chargebacks),
        load(&counts.reversals),
        shop.emulator.webhook_calls() - webhooks_before + storm_size,
        shop.emulator.webhook_calls() - webhooks_before,
        started.elapsed(),
        mismatches.len(),
    );
    assert!(mismatches.is_empty(), "{mismatches:#?}");
    assert!(load(&counts.our_refunds) > 0 && load(&counts.dashboard_refunds) > 0);
    assert!(load(&counts.reversals) > 0 && load(&counts.failed_refunds) > 0);

    // The outbox after the storm: per order, one event per refund settled
    // or failed and per chargeback received or reversed, as the ledger
    // that matches the provider's has them; then one notice per settled
    // refund, and nothing on a second delivery pass.
    let (mut settled, mut chargeback_events) = (0, 0);
    for (order_id, _) in &orders {
        let attempt = shop.record(order_id).await.attempts[0].clone();
        let events = shop.event_types(order_id).await;
        let count = |name: &str| events.iter().filter(|e| **e == name).count();
        let refunded = attempt
            .refunds()
            .iter()
            .filter(|r| r.status() == RefundStatus::Refunded)
            .count();
        let failed = attempt
            .refunds()
            .iter()
            .filter(|r| !r.status().counts())
            .count();
        let reversed = attempt.chargebacks().iter().filter(|c| !c.counts()).count();
        assert_eq!(count("order.paid"), 1, "{order_id}: {events:?}");
        assert_eq!(count("refund.settled"), refunded, "{order_id}: {events:?}");
        // One per refund that failed; a refund the shop took as failed
        // (a refused create) that the provider then made has both events.
        assert!(count("refund.failed") >= failed, "{order_id}: {events:?}");
        assert!(
            count("refund.failed") <= attempt.refunds().len(),
            "{order_id}: {events:?}"
        );
        assert_eq!(
            count("chargeback.received"),
            attempt.chargebacks().len(),
            "{order_id}: {events:?}"
        );
        assert_eq!(
            count("chargeback.reversed"),
            reversed,
            "{order_id}: {events:?}"
        );
        settled += refunded;
        chargeback_events += attempt.chargebacks().len() + reversed;
    }
    let (sent, again) = shop.deliver_twice().await;
    assert_eq!(again, 0);
    let notices = shop.messages_about("your refund");
    eprintln!(
        "money storm outbox: {settled} refunds settled, {notices} refund notices, \
         {chargeback_events} chargeback events, {sent} messages sent"
    );
    assert_eq!(notices, settled);
}
