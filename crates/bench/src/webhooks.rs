//! Webhooks/s with exactly-once transitions, on the embedded store and on
//! DynamoDB, each against the raw rate of what they wait for.

use crate::dynamodb::raw_get_put_rate;
use crate::processes::Server;
use crate::report::Report;
use crate::stats::{ms, stats};
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The shop's webhook endpoint.
pub(crate) const SHOP_WEBHOOK: &str = "/webhooks/mollie";

/// Posts one webhook per payment from `concurrency` senders; returns
/// (webhooks/s, ack p99). Each webhook applies one transition (open -> paid).
async fn webhook_rate(
    server: &Server,
    provider_ids: Vec<String>,
    concurrency: usize,
) -> (f64, Duration) {
    let (rate, acks) = webhook_acks(server, SHOP_WEBHOOK, provider_ids, concurrency).await;
    (rate, acks.p99)
}

/// Posts one webhook per payment to `path` from `concurrency` senders;
/// returns webhooks/s and the acks' percentiles.
pub(crate) async fn webhook_acks(
    server: &Server,
    path: &str,
    provider_ids: Vec<String>,
    concurrency: usize,
) -> (f64, crate::stats::Stats) {
    let count = provider_ids.len();
    let queue = Arc::new(tokio::sync::Mutex::new(provider_ids));
    let started = Instant::now();
    let senders: Vec<_> = (0..concurrency)
        .map(|_| {
            let (queue, http, url) = (
                queue.clone(),
                server.http.clone(),
                format!("{}{path}", server.base),
            );
            tokio::spawn(async move {
                let mut acks = Vec::new();
                while let Some(id) = queue.lock().await.pop() {
                    let sent = Instant::now();
                    let r = http
                        .post(&url)
                        .form(&[("id", id.as_str())])
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 200);
                    acks.push(sent.elapsed());
                }
                acks
            })
        })
        .collect();
    let mut acks = Vec::new();
    for sender in senders {
        acks.extend(sender.await.unwrap());
    }
    let rate = count as f64 / started.elapsed().as_secs_f64();
    (rate, stats(acks))
}

/// Payments paid at the emulator whose webhooks were dropped: each of our
/// webhook posts then applies exactly one transition.
pub(crate) async fn paid_without_webhooks(
    server: &Server,
    count: usize,
    offset: usize,
) -> (Vec<String>, Vec<String>) {
    server
        .faults(serde_json::json!({ "dropNextWebhooks": count }))
        .await;
    let (mut orders, mut payments) = (Vec::new(), Vec::new());
    for n in 0..count {
        let (order, payment) = server.checkout(offset + n).await;
        server.pay_at_emulator(&payment).await;
        orders.push(order);
        payments.push(payment);
    }
    server.faults(serde_json::json!({})).await;
    (orders, payments)
}

/// The disk's own durable write rate: 256 bytes, then fdatasync, in a loop.
fn fsync_rate(dir: &std::path::Path) -> f64 {
    let mut file = std::fs::File::create(dir.join("fsync-probe")).unwrap();
    let started = Instant::now();
    let mut writes = 0u64;
    while started.elapsed() < Duration::from_secs(2) && writes < 100_000 {
        file.write_all(&[7u8; 256]).unwrap();
        file.sync_data().unwrap();
        writes += 1;
    }
    writes as f64 / started.elapsed().as_secs_f64()
}

/// Webhooks/s with exactly-once transitions, durable, beside a bare axum
/// handler doing the same I/O (the payment's GET from the same emulator,
/// one durable redb write). Two rounds on fresh payments, the reference
/// first in one and second in the other; the best of each counts.
pub async fn embedded_webhook_rate(
    report: &mut Report,
    server: &Server,
    bare: &Server,
    data: &std::path::Path,
) {
    let (mut shop, mut reference) = (Vec::new(), Vec::new());
    for round in 0..2 {
        let (orders, payments) = paid_without_webhooks(server, 400, 20_000 + round * 1_000).await;
        if round == 0 {
            reference.push(webhook_acks(bare, "/webhook", payments.clone(), 16).await);
        }
        shop.push(webhook_acks(server, SHOP_WEBHOOK, payments.clone(), 16).await);
        if round == 1 {
            reference.push(webhook_acks(bare, "/webhook", payments, 16).await);
        }
        for order in orders.iter().step_by(40) {
            assert_eq!(server.status(order).await, "paid");
        }
    }
    let best = |runs: &[(f64, crate::stats::Stats)]| {
        runs.iter()
            .copied()
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .unwrap()
    };
    let ((rate, acks), (bare_rate, bare_acks)) = (best(&shop), best(&reference));
    report.row(
        "webhooks/s, exactly-once transitions, embedded (acked after the commit), 16 senders, 400 payments, best of 2",
        format!(
            "{rate:.0}/s, ack p50 {} p99 {} (runs: {:.0}, {:.0})",
            ms(acks.p50),
            ms(acks.p99),
            shop[0].0,
            shop[1].0
        ),
        format!(
            "bare axum handler, the same I/O (the payment's GET from the same emulator, one durable redb write, its own fsync: no group commit): {bare_rate:.0}/s, ack p99 {} (runs: {:.0}, {:.0}); {:.2}x",
            ms(bare_acks.p99),
            reference[0].0,
            reference[1].0,
            rate / bare_rate
        ),
        ">= 0.8x the bare handler, ack p99 < 20 ms",
    );
    let fsync = fsync_rate(data);
    let store_writes = store_write_rate(data, 16, 2_000).await;
    report.row(
        "embedded store alone: durable conditional writes/s (update_attempt, no HTTP), 16 writers",
        format!("{store_writes:.0}/s"),
        format!(
            "write+fdatasync of this disk, raw: {fsync:.0}/s ({:.2}x: group commit shares one fsync among the writes waiting)",
            store_writes / fsync
        ),
        "> 1x (more writes than fsyncs)",
    );
}

/// The embedded store on its own: `writers` tasks each move their own
/// attempt forward, one conditional durable write at a time, `total` in all.
async fn store_write_rate(dir: &std::path::Path, writers: usize, total: usize) -> f64 {
    use checkout::{Catalog, CheckoutKey, CheckoutRecord, Order, PaymentAttempt, Store};
    let store = Arc::new(store::EmbeddedStore::open(&dir.join("store-alone.redb")).unwrap());
    let now = time::OffsetDateTime::now_utc();
    let catalog = Catalog::bundled();
    let mut attempts = Vec::new();
    for _ in 0..writers {
        let shopper = checkout::EmailAddress::parse("bench@example.com").unwrap();
        let order = Order::new(vec![catalog.price_line("mug", 1).unwrap()], shopper, now).unwrap();
        let attempt = PaymentAttempt::new(order.id().clone(), order.total(), now);
        let key = CheckoutRecord::new(
            CheckoutKey::generate(),
            order.id().clone(),
            order.lines(),
            now,
        );
        store.create_order(&order, &attempt, &key).await.unwrap();
        attempts.push(attempt);
    }
    let started = Instant::now();
    let tasks: Vec<_> = attempts
        .into_iter()
        .map(|mut attempt| {
            let store = store.clone();
            tokio::spawn(async move {
                for _ in 0..total / writers {
                    let before = attempt.clone();
                    let now = time::OffsetDateTime::now_utc();
                    attempt.bump_version(now);
                    let write = checkout::AttemptWrite::new(&before, attempt.clone(), now);
                    store.update_attempt(&write).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    (total / writers * writers) as f64 / started.elapsed().as_secs_f64()
}

/// Webhooks/s on DynamoDB vs moto's own rate for the same calls.
pub async fn dynamodb_webhook_rate(
    report: &mut Report,
    server: &Server,
    dynamo: &aws_sdk_dynamodb::Client,
    table: &str,
) {
    // Few: moto copies the whole table for every transaction (to roll it
    // back), so its transactions slow down as the table grows, for the
    // shop's calls and the raw ones alike.
    let (_, payments) = paid_without_webhooks(server, 100, 50_000).await;
    let (rate, ack_p99) = webhook_rate(server, payments, 16).await;
    let raw_rate = raw_get_put_rate(dynamo, table, 16, 6).await;
    report.row(
        "webhooks/s on DynamoDB (moto), 16 senders",
        format!("{rate:.0}/s, ack p99 {}", ms(ack_p99)),
        format!("moto's own rate for a webhook's store calls (consistent GetItem, then a transaction of a conditional PutItem and an UpdateItem), raw: {raw_rate:.0}/s ({:.2}x)", rate / raw_rate),
        ">= 0.8x",
    );
    report.notes.push("A webhook also fetches the payment from the emulator over HTTP (in the same server process), which the raw reference does not.".into());
}
