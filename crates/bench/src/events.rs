//! What the outbox costs: checkout and webhook latency of two server
//! builds in the same run, on the embedded store, the one before the
//! outbox and e-mail (`before`) and the current one (`after`). Each is
//! measured twice, in the order before, after, after, before, so a drift
//! of the machine during the run falls on both.

use crate::processes::{server_env, start_server};
use crate::stats::{ms, stats, Stats};
use crate::webhooks::{paid_without_webhooks, webhook_acks, SHOP_WEBHOOK};
use std::time::Instant;
use test_support::free_port;

struct Figures {
    checkout: Stats,
    webhooks_per_second: f64,
    acks: Stats,
}

async fn measure(bin: &str) -> Figures {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let env = server_env(port, data.path(), &[("SHOP_STORE", "embedded".into())]);
    let server = start_server(bin, &env, port).await;
    let mut samples = Vec::new();
    for n in 0..300 {
        let started = Instant::now();
        server.checkout(50_000 + n).await;
        samples.push(started.elapsed());
    }
    let (_, payments) = paid_without_webhooks(&server, 400, 60_000).await;
    let (webhooks_per_second, acks) = webhook_acks(&server, SHOP_WEBHOOK, payments, 16).await;
    Figures {
        checkout: stats(samples),
        webhooks_per_second,
        acks,
    }
}

/// Prints a table of both builds' figures, best of two runs each.
pub async fn before_and_after(before: &str, after: &str) {
    let mut runs: Vec<(&str, Figures)> = Vec::new();
    for (label, bin) in [
        ("before", before),
        ("after", after),
        ("after", after),
        ("before", before),
    ] {
        runs.push((label, measure(bin).await));
    }
    println!("| build | checkout p50 | checkout p99 | webhooks/s (16 senders) | webhook ack p50 | ack p99 |");
    println!("|---|---|---|---|---|---|");
    for (label, f) in &runs {
        println!(
            "| {label} | {} | {} | {:.0}/s | {} | {} |",
            ms(f.checkout.p50),
            ms(f.checkout.p99),
            f.webhooks_per_second,
            ms(f.acks.p50),
            ms(f.acks.p99)
        );
    }
}
