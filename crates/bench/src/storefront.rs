//! The storefront and the checkout: `GET /` throughput, checkout create,
//! and how soon a payment shows as paid.

use crate::processes::{start_server, Server};
use crate::report::Report;
use crate::shop::KEY;
use crate::stats::{ms, ratio, stats, timed};
use std::process::Command;
use std::time::{Duration, Instant};

/// Requests/s of `GET /` from wrk (1 thread, 10 connections, 5 s).
fn wrk(url: &str) -> f64 {
    let output = Command::new("wrk")
        .args(["-t1", "-c10", "-d5s", url])
        .output()
        .expect("wrk is installed (scripts/setup.sh bench)");
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Requests/sec in wrk's output:\n{text}"))
}

/// Requests/s of `GET /`, the shop against the bare reference, each served
/// alone, alternating twice (the best of each counts: noise only slows).
pub async fn storefront_throughput(
    report: &mut Report,
    server_bin: &str,
    env: &[(String, String)],
    bare_bin: &str,
    bare_env: &[(String, String)],
    port: u16,
) {
    let (mut shop, mut bare) = (Vec::new(), Vec::new());
    for _ in 0..2 {
        let server = start_server(bare_bin, bare_env, port).await;
        bare.push(wrk(&format!("{}/", server.base)));
        drop(server);
        let server = start_server(server_bin, env, port).await;
        shop.push(wrk(&format!("{}/", server.base)));
        drop(server);
    }
    let best = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    let (shop_best, bare_best) = (best(&shop), best(&bare));
    report.row(
        "storefront `GET /` requests/s (wrk -t1 -c10 -d5s, best of 2)",
        format!("{shop_best:.0}/s (runs: {:.0}, {:.0})", shop[0], shop[1]),
        format!(
            "bare Leptos, same four cards: {bare_best:.0}/s (runs: {:.0}, {:.0}); {:.2}x",
            bare[0],
            bare[1],
            shop_best / bare_best
        ),
        ">= 0.8x bare Leptos",
    );
}

/// Checkout: the whole server function, beside a bare handler doing the
/// same I/O (the emulator's create between two durable commits) and the
/// emulator's create alone, interleaved so that the machine's drift falls
/// on all three.
pub async fn checkout_latency(report: &mut Report, server: &Server, bare: &Server) {
    let (mut shop, mut reference, mut create) = (Vec::new(), Vec::new(), Vec::new());
    for n in 0..300 {
        timed(&mut shop, server.post_checkout("/api/checkout", 10_000 + n)).await;
        timed(&mut reference, bare.post_checkout("/checkout", 10_000 + n)).await;
        let body = serde_json::json!({"amount": {"currency": "EUR", "value": "14.50"}, "description": format!("bench {n}"), "redirectUrl": "http://127.0.0.1/orders/x", "metadata": {"order_id": "x", "attempt_id": "y"}});
        let request = server
            .http
            .post(format!("{}/mollie/v2/payments", server.base))
            .header("authorization", KEY)
            .header("idempotency-key", format!("bench-create-{n}"))
            .json(&body);
        timed(&mut create, async {
            request.send().await.unwrap().bytes().await.unwrap()
        })
        .await;
    }
    let (shop, reference, create) = (stats(shop), stats(reference), stats(create));
    report.row(
        "checkout p50 (the form posted, to the 303; embedded store), 300 one at a time",
        format!("{} (p99 {})", ms(shop.p50), ms(shop.p99)),
        format!(
            "bare axum handler, the same I/O (a durable redb commit, the emulator's create, a durable commit): {} (p99 {}); {}. The create alone: {}",
            ms(reference.p50),
            ms(reference.p99),
            ratio(shop.p50, reference.p50),
            ms(create.p50)
        ),
        "<= 1.2x the bare handler's p50",
    );
}

/// Paid shown after the webhook: emulator "paid" -> status function says paid.
pub async fn paid_shown_latency(report: &mut Report, server: &Server) {
    let mut shown = Vec::new();
    for n in 0..30 {
        let (order, payment) = server.checkout(30_000 + n).await;
        let started = Instant::now();
        server.pay_at_emulator(&payment).await;
        while server.status(&order).await != "paid" {
            assert!(started.elapsed() < Duration::from_secs(10));
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        shown.push(started.elapsed());
    }
    let shown = stats(shown);
    report.row(
        "paid shown after the webhook (status function polled every 2 ms)",
        format!("p50 {}, p99 {}", ms(shown.p50), ms(shown.p99)),
        "the emulator posts the webhook at once (time factor 0.01)",
        "<= 1 s",
    );
}
