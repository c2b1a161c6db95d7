//! `bench`: figures for BENCHMARKS.md, each beside a reference measured in
//! the same run on the same machine (these machines are shared and noisy).
//! Loopback only; every loop is bounded in count and time.
//!
//! Usage (scripts/bench.sh does this):
//! `bench SERVER_BIN BARE_BIN BARE_SITE MOTO_BIN OUT.md`, where BARE_BIN is
//! the bare Leptos reference (crates/bench/reference) and BARE_SITE its site
//! folder. With `CARGO_LAMBDA` set (the cargo-lambda binary), the Lambda
//! figures are measured too. Exits non-zero, after writing OUT.md, when the
//! hydrate bundle is over its budget.

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use std::collections::HashMap;
use std::io::Write;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const KEY: &str = "Bearer test_benchmark";

struct Process(Child);

impl Drop for Process {
    /// SIGTERM first, so the server shuts down as in production (the
    /// embedded store closes cleanly and the next start needs no repair).
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[derive(Clone, Copy)]
struct Stats {
    p50: Duration,
    p99: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    Stats {
        p50: at(0.5),
        p99: at(0.99),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn ratio(a: Duration, b: Duration) -> String {
    format!("{:.2}x", a.as_secs_f64() / b.as_secs_f64())
}

struct Server {
    _process: Process,
    base: String,
    http: reqwest::Client,
    started_in: Duration,
}

fn server_env(
    port: u16,
    data: &std::path::Path,
    store: &[(&str, String)],
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("LEPTOS_OUTPUT_NAME", "shop".to_owned()),
        ("LEPTOS_SITE_ROOT", "target/site".to_owned()),
        ("LEPTOS_SITE_PKG_DIR", "pkg".to_owned()),
        ("LEPTOS_HASH_FILES", "true".to_owned()),
        ("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}")),
        ("LEPTOS_ENV", "PROD".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
        ("SHOP_DATA_DIR", data.display().to_string()),
        // The bench sets faults over HTTP and measures throughput from one
        // address: the control endpoints on, the per-client limits out of reach.
        ("SHOP_EMULATOR_CONTROL", "true".to_owned()),
        ("SHOP_CHECKOUT_RATE_PER_MINUTE", "100000000".to_owned()),
        ("SHOP_WEBHOOK_RATE_PER_SECOND", "100000000".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    env.extend(store.iter().map(|(k, v)| (k.to_string(), v.clone())));
    env
}

fn answers_200(port: u16) -> bool {
    use std::io::Read;
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    let mut status = [0u8; 12];
    stream.write_all(request).is_ok()
        && stream.read_exact(&mut status).is_ok()
        && &status[9..12] == b"200"
}

/// Starts the server and measures process start to its first 200 on `/`.
async fn start_server(bin: &str, env: &[(String, String)], port: u16) -> Server {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let child = Command::new(bin)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the server binary runs");
    let process = Process(child);
    // A bare blocking probe, so that the clock measures the server, not a
    // client or a timer's granularity.
    while !answers_200(port) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server did not start"
        );
        std::thread::sleep(Duration::from_micros(100));
    }
    Server {
        started_in: started.elapsed(),
        _process: process,
        base,
        http,
    }
}

impl Server {
    async fn form(
        &self,
        path: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self.http.post(format!("{}{path}", self.base)).form(form);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.unwrap()
    }

    /// A checkout through the real server function; returns (order id, tr_ id).
    async fn checkout(&self, n: usize) -> (String, String) {
        let key = format!("bench{n:027}");
        let response = self
            .form(
                "/api/checkout",
                &[("checkout_key", &key)],
                Some("cart=mug.1"),
            )
            .await;
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let provider_id = location.rsplit('/').next().unwrap().to_owned();
        let payment: serde_json::Value = self
            .http
            .get(format!("{}/mollie/v2/payments/{provider_id}", self.base))
            .header("authorization", KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (
            payment["metadata"]["order_id"].as_str().unwrap().to_owned(),
            provider_id,
        )
    }

    async fn faults(&self, faults: serde_json::Value) {
        let r = self
            .http
            .put(format!("{}/mollie/_emulator/faults", self.base))
            .json(&faults)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
    }

    async fn pay_at_emulator(&self, provider_id: &str) {
        let r = self
            .form(
                &format!("/mollie/checkout/{provider_id}"),
                &[("outcome", "paid")],
                None,
            )
            .await;
        assert_eq!(r.status(), 303);
    }

    async fn status(&self, order_id: &str) -> String {
        let view: serde_json::Value = self
            .form("/api/order_status", &[("order_id", order_id)], None)
            .await
            .json()
            .await
            .unwrap();
        view["status"].as_str().unwrap_or_default().to_owned()
    }
}

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

/// Posts one webhook per payment from `concurrency` senders; returns
/// (webhooks/s, ack p99). Each webhook applies one transition (open -> paid).
async fn webhook_rate(
    server: &Server,
    provider_ids: Vec<String>,
    concurrency: usize,
) -> (f64, Duration) {
    let count = provider_ids.len();
    let queue = Arc::new(tokio::sync::Mutex::new(provider_ids));
    let started = Instant::now();
    let senders: Vec<_> = (0..concurrency)
        .map(|_| {
            let (queue, http, url) = (
                queue.clone(),
                server.http.clone(),
                format!("{}/webhooks/mollie", server.base),
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
    (rate, stats(acks).p99)
}

/// Payments paid at the emulator whose webhooks were dropped: each of our
/// webhook posts then applies exactly one transition.
async fn paid_without_webhooks(
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

async fn timed<F: std::future::Future>(samples: &mut Vec<Duration>, f: F) -> F::Output {
    let started = Instant::now();
    let out = f.await;
    samples.push(started.elapsed());
    out
}

/// The figures of one run, written out as BENCHMARKS.md.
#[derive(Default)]
struct Report {
    rows: Vec<[String; 4]>,
    notes: Vec<String>,
}

impl Report {
    fn row(
        &mut self,
        figure: impl Into<String>,
        measured: impl Into<String>,
        reference: impl Into<String>,
        goal: impl Into<String>,
    ) {
        self.rows.push([
            figure.into(),
            measured.into(),
            reference.into(),
            goal.into(),
        ]);
    }

    fn write(&self, out: &str) {
        let mut md = String::new();
        md.push_str("# Benchmarks\n\nOne run of `./scripts/bench.sh` (release build, loopback, 2 cores shared with the load generator), ");
        md.push_str(&format!("{}.\n\n", time::OffsetDateTime::now_utc().date()));
        md.push_str("| figure | measured | reference, same run | goal |\n|---|---|---|---|\n");
        for [a, b, c, d] in &self.rows {
            md.push_str(&format!("| {a} | {b} | {c} | {d} |\n"));
        }
        md.push_str("\nNotes:\n");
        for note in &self.notes {
            md.push_str(&format!("- {note}\n"));
        }
        std::fs::write(out, md).unwrap();
    }
}

/// The hydrate bundle's budget: wasm after wasm-opt, brotli, in bytes.
const BUNDLE_BUDGET: u64 = 100_000;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, server_bin, bare_bin, bare_site, moto_bin, out] = args.as_slice() else {
        panic!("usage: bench SERVER_BIN BARE_BIN BARE_SITE MOTO_BIN OUT.md")
    };
    let mut report = Report::default();
    let (moto, moto_url) = start_moto(moto_bin).await;
    let data = tempfile::tempdir().unwrap();
    let port = free_port();

    // ---- the reference and the shop, embedded store
    let bare_env = bare_env(port, bare_site);
    let env = server_env(port, data.path(), &[("SHOP_STORE", "embedded".into())]);
    let bare_starts = starts(bare_bin, &bare_env, port).await;
    let embedded_starts = starts(server_bin, &env, port).await;
    storefront_throughput(&mut report, server_bin, &env, bare_bin, &bare_env, port).await;
    let server = start_server(server_bin, &env, port).await;
    checkout_latency(&mut report, &server).await;
    embedded_webhook_rate(&mut report, &server, data.path()).await;
    paid_shown_latency(&mut report, &server).await;
    drop(server);
    // Written after each part, so a failure later keeps what was measured.
    report.write(out);

    // ---- DynamoDB (moto)
    let table = "bench";
    let aws = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&moto_url)
        .load()
        .await;
    let dynamo = aws_sdk_dynamodb::Client::new(&aws);
    store::TableSetup::create_if_missing(&dynamo, table)
        .await
        .unwrap();
    let dynamo_env = server_env(
        port,
        data.path(),
        &[
            ("SHOP_STORE", "dynamodb".into()),
            ("SHOP_DYNAMODB_ENDPOINT", moto_url.clone()),
            ("SHOP_DYNAMODB_TABLE", table.into()),
        ],
    );
    let dynamo_starts = starts(server_bin, &dynamo_env, port).await;
    process_start(&mut report, &bare_starts, &embedded_starts, &dynamo_starts);
    let server = start_server(server_bin, &dynamo_env, port).await;
    status_reads(&mut report, &server, &dynamo, table).await;
    dynamodb_webhook_rate(&mut report, &server, &dynamo, table).await;
    drop(server);
    report.write(out);

    if let Ok(cargo_lambda) = std::env::var("CARGO_LAMBDA") {
        lambda_starts(&mut report, &cargo_lambda, &dynamo_env).await;
    }
    let within_budget = bundle(&mut report, bare_site);

    report.notes.push("What bounds each missed goal, and what would move it: the last section, from docs/performance.md.".into());
    report.write(out);
    println!("{}", std::fs::read_to_string(out).unwrap());
    // Stopped before exiting: `exit` runs no destructors.
    drop(moto);
    if !within_budget {
        eprintln!("bench: the hydrate bundle is over its budget of {BUNDLE_BUDGET} bytes (brotli)");
        std::process::exit(1);
    }
}

/// The reference's settings: what cargo-leptos would give it.
fn bare_env(port: u16, site: &str) -> Vec<(String, String)> {
    [
        ("LEPTOS_OUTPUT_NAME", "bare".to_owned()),
        ("LEPTOS_SITE_ROOT", site.to_owned()),
        ("LEPTOS_SITE_PKG_DIR", "pkg".to_owned()),
        ("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}")),
        ("LEPTOS_ENV", "PROD".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// moto server, for DynamoDB mode and the raw references; its URL.
async fn start_moto(moto_bin: &str) -> (Process, String) {
    let moto_port = free_port();
    let moto = Process(
        Command::new(moto_bin)
            .args(["-H", "127.0.0.1", "-p", &moto_port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server runs"),
    );
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", moto_port)).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (moto, format!("http://127.0.0.1:{moto_port}"))
}

/// Process start to first 200, 15 starts in a row, in order.
async fn starts(bin: &str, env: &[(String, String)], port: u16) -> Vec<Duration> {
    let mut starts = Vec::new();
    for _ in 0..15 {
        starts.push(start_server(bin, env, port).await.started_in);
    }
    starts
}

fn median(starts: &[Duration]) -> Duration {
    let mut sorted = starts.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

/// The median, the range, and the first start apart: it is the one that
/// finds no database file (embedded) and a cold page cache.
fn spread(starts: &[Duration]) -> String {
    let mut sorted = starts.to_vec();
    sorted.sort();
    format!(
        "median {} (fastest {}, slowest {}; the first {})",
        ms(median(starts)),
        ms(sorted[0]),
        ms(sorted[sorted.len() - 1]),
        ms(starts[0])
    )
}

fn process_start(
    report: &mut Report,
    bare: &[Duration],
    embedded: &[Duration],
    dynamo: &[Duration],
) {
    report.row(
        "process start to first 200 (15 starts each)",
        format!("embedded {}; DynamoDB {}", spread(embedded), spread(dynamo)),
        format!(
            "bare Leptos {} (embedded {}, DynamoDB {})",
            spread(bare),
            ratio(median(embedded), median(bare)),
            ratio(median(dynamo), median(bare))
        ),
        "embedded <= 3x bare Leptos",
    );
}

/// Requests/s of `GET /`, the shop against the bare reference, each served
/// alone, alternating twice (the best of each counts: noise only slows).
async fn storefront_throughput(
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
            "bare Leptos, same three cards: {bare_best:.0}/s (runs: {:.0}, {:.0}); {:.2}x",
            bare[0],
            bare[1],
            shop_best / bare_best
        ),
        ">= 0.8x bare Leptos",
    );
}

/// Checkout create: the whole server function vs the emulator call alone.
async fn checkout_latency(report: &mut Report, server: &Server) {
    let (mut checkout_samples, mut create_samples) = (Vec::new(), Vec::new());
    for n in 0..200 {
        timed(&mut checkout_samples, server.checkout(10_000 + n)).await;
    }
    for n in 0..200 {
        let body = serde_json::json!({"amount": {"currency": "EUR", "value": "14.50"}, "description": format!("bench {n}"), "redirectUrl": "http://127.0.0.1/orders/x", "metadata": {"order_id": "x", "attempt_id": "y"}});
        let request = server
            .http
            .post(format!("{}/mollie/v2/payments", server.base))
            .header("authorization", KEY)
            .header("idempotency-key", format!("bench-create-{n}"))
            .json(&body);
        timed(&mut create_samples, async {
            request.send().await.unwrap().bytes().await.unwrap()
        })
        .await;
    }
    let (checkout, create) = (stats(checkout_samples), stats(create_samples));
    report.row(
        "checkout create p50 (server function, embedded store)",
        ms(checkout.p50),
        format!("the emulator's create call alone {}; the rest, {}, is two durable store commits plus our code", ms(create.p50), ms(checkout.p50.saturating_sub(create.p50))),
        "server overhead <= 2 ms",
    );
}

/// Webhooks/s with exactly-once transitions, durable, against this disk's
/// raw write+fdatasync rate.
async fn embedded_webhook_rate(report: &mut Report, server: &Server, data: &std::path::Path) {
    let (orders, payments) = paid_without_webhooks(server, 500, 20_000).await;
    let (rate, ack_p99) = webhook_rate(server, payments, 16).await;
    for order in orders.iter().step_by(50) {
        assert_eq!(server.status(order).await, "paid");
    }
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
    report.row(
        "webhooks/s, exactly-once transitions, embedded (acked after the commit), 16 senders",
        format!("{rate:.0}/s, ack p99 {}", ms(ack_p99)),
        format!(
            "write+fdatasync of this disk, raw: {fsync:.0}/s ({:.2}x)",
            rate / fsync
        ),
        ">= 0.5x, ack p99 < 20 ms",
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
        let order = Order::new(vec![catalog.price_line("mug", 1).unwrap()], now).unwrap();
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
                    attempt.bump_version(time::OffsetDateTime::now_utc());
                    store.update_attempt(&attempt).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    (total / writers * writers) as f64 / started.elapsed().as_secs_f64()
}

/// Paid shown after the webhook: emulator "paid" -> status function says paid.
async fn paid_shown_latency(report: &mut Report, server: &Server) {
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

/// 500 raw consistent GetItems of the order's item (its attempts' copies
/// included): what one status read costs at least.
async fn raw_reads(dynamo: &aws_sdk_dynamodb::Client, table: &str, order: &str) -> Stats {
    let mut samples = Vec::new();
    for _ in 0..500 {
        let get = dynamo
            .get_item()
            .table_name(table)
            .consistent_read(true)
            .key("pk", AttributeValue::S(format!("ORDER#{order}")))
            .key("sk", AttributeValue::S("ORDER".into()));
        timed(&mut samples, async { get.send().await.unwrap() }).await;
    }
    stats(samples)
}

/// Thank-you page and status function vs one raw GetItem.
async fn status_reads(
    report: &mut Report,
    server: &Server,
    dynamo: &aws_sdk_dynamodb::Client,
    table: &str,
) {
    let (open_order, _) = server.checkout(40_000).await;
    let (paid_order, paid_payment) = server.checkout(40_001).await;
    server.pay_at_emulator(&paid_payment).await;
    while server.status(&paid_order).await != "paid" {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let raw = raw_reads(dynamo, table, &open_order).await;
    for (label, order) in [("non-final", &open_order), ("final (paid)", &paid_order)] {
        let (mut page, mut function) = (Vec::new(), Vec::new());
        for _ in 0..500 {
            timed(&mut page, async {
                server
                    .http
                    .get(format!("{}/orders/{order}", server.base))
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap()
            })
            .await;
            timed(&mut function, server.status(order)).await;
        }
        let (page, function) = (stats(page), stats(function));
        let goal = if label == "non-final" {
            "function <= 1.2x at p50"
        } else {
            "<= 0.3x (from memory)"
        };
        report.row(
            format!("thank-you page / status function, {label} status, DynamoDB"),
            format!(
                "page p50 {} p99 {}; function p50 {} p99 {}",
                ms(page.p50),
                ms(page.p99),
                ms(function.p50),
                ms(function.p99)
            ),
            format!(
                "raw GetItem of the order p50 {} p99 {} (page {}, function {})",
                ms(raw.p50),
                ms(raw.p99),
                ratio(page.p50, raw.p50),
                ratio(function.p50, raw.p50)
            ),
            goal,
        );
    }
}

/// Webhooks/s on DynamoDB vs moto's own rate for the same calls.
async fn dynamodb_webhook_rate(
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

/// The store calls one webhook makes, raw: a consistent GetItem, then a
/// transaction of a conditional PutItem (the attempt) and an UpdateItem
/// (the order's copy), from `concurrency` workers.
async fn raw_get_put_rate(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    concurrency: usize,
    per_worker: usize,
) -> f64 {
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|w| {
            let (client, table) = (client.clone(), table.to_owned());
            tokio::spawn(async move {
                let key = |v: &str| {
                    HashMap::from([
                        ("pk".to_owned(), AttributeValue::S(format!("RAW#{w}"))),
                        ("sk".to_owned(), AttributeValue::S(v.to_owned())),
                    ])
                };
                let mut item = key("RAW");
                item.insert("version".into(), AttributeValue::N("0".into()));
                client
                    .put_item()
                    .table_name(&table)
                    .set_item(Some(item))
                    .send()
                    .await
                    .unwrap();
                for version in 0..per_worker {
                    client
                        .get_item()
                        .table_name(&table)
                        .consistent_read(true)
                        .set_key(Some(key("RAW")))
                        .send()
                        .await
                        .unwrap();
                    let mut next = key("RAW");
                    next.insert(
                        "version".into(),
                        AttributeValue::N((version + 1).to_string()),
                    );
                    let attempt_put = Put::builder()
                        .table_name(&table)
                        .set_item(Some(next))
                        .condition_expression("version = :v")
                        .expression_attribute_values(":v", AttributeValue::N(version.to_string()))
                        .build()
                        .unwrap();
                    let copy_update = Update::builder()
                        .table_name(&table)
                        .set_key(Some(key("RAWORDER")))
                        .update_expression("SET #copy = :c")
                        .expression_attribute_names("#copy", "attempt#raw")
                        .expression_attribute_values(":c", AttributeValue::N(version.to_string()))
                        .build()
                        .unwrap();
                    client
                        .transact_write_items()
                        .transact_items(TransactWriteItem::builder().put(attempt_put).build())
                        .transact_items(TransactWriteItem::builder().update(copy_update).build())
                        .send()
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    (concurrency * per_worker) as f64 / started.elapsed().as_secs_f64()
}

/// Sizes of a file as served: raw, gzip -9, brotli -q 11 (bytes).
fn served_sizes(path: &str) -> [u64; 3] {
    let compressed = |tool: &str, level: &[&str]| {
        let output = Command::new(tool)
            .args(level)
            .args(["-c", path])
            .output()
            .unwrap_or_else(|e| panic!("{tool} runs (scripts/setup.sh bench): {e}"));
        assert!(output.status.success(), "{tool} could not read {path}");
        output.stdout.len() as u64
    };
    let raw = std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .len();
    [
        raw,
        compressed("gzip", &["-9"]),
        compressed("brotli", &["-q", "11"]),
    ]
}

/// The shop's `target/site/pkg/shop.<hash>.<extension>` (cargo-leptos
/// hash-files names them by their content).
fn hashed_site_file(extension: &str) -> String {
    let pkg = "target/site/pkg";
    std::fs::read_dir(pkg)
        .unwrap_or_else(|e| panic!("{pkg}: {e} (cargo leptos build --release)"))
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .find(|name| name.starts_with("shop.") && name.ends_with(&format!(".{extension}")))
        .map(|name| format!("{pkg}/{name}"))
        .unwrap_or_else(|| panic!("no {pkg}/shop.*.{extension}"))
}

/// The hydrate bundle against the reference's and the budget; whether it
/// is within the budget.
fn bundle(report: &mut Report, bare_site: &str) -> bool {
    let [raw, gzip, brotli] = served_sizes(&hashed_site_file("wasm"));
    let [js_raw, _, js_brotli] = served_sizes(&hashed_site_file("js"));
    let [bare_raw, bare_gzip, bare_brotli] = served_sizes(&format!("{bare_site}/pkg/bare.wasm"));
    report.row(
        "hydrate bundle: wasm after wasm-opt (bytes)",
        format!("{brotli} brotli ({raw} raw, {gzip} gzip); JS glue {js_brotli} brotli ({js_raw} raw)"),
        format!(
            "bare Leptos islands page: {bare_brotli} brotli ({bare_raw} raw, {bare_gzip} gzip); {:.2}x",
            brotli as f64 / bare_brotli as f64
        ),
        format!("<= {BUNDLE_BUDGET} brotli (fails the bench)"),
    );
    brotli <= BUNDLE_BUDGET
}

/// cargo lambda watch serving one function, in its own process group (it
/// runs the function as a child): stopped as a group.
struct LambdaWatch {
    process: Child,
    base: String,
}

impl LambdaWatch {
    fn start(cargo_lambda: &str, package: &str, bin: &str, env: &[(String, String)]) -> Self {
        let port = free_port();
        let process = Command::new("setsid")
            .arg(cargo_lambda)
            .args([
                "lambda",
                "watch",
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
            ])
            .arg(port.to_string())
            .args([
                "--release",
                "--ignore-changes",
                "--disable-cors",
                "--package",
                package,
                "--bin",
                bin,
            ])
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cargo lambda runs");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "cargo lambda watch did not listen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            process,
            base: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for LambdaWatch {
    fn drop(&mut self) {
        let group = format!("-{}", self.process.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.process.wait();
    }
}

/// (cold, warm p50, warm p99) of one function: the first request after
/// cargo lambda watch starts (the binary already built: the function's
/// process start, its init and one request, plus the emulator's spawn),
/// then 200 requests to the running function.
async fn lambda_times(
    cargo_lambda: &str,
    package: &str,
    bin: &str,
    env: &[(String, String)],
    path: &str,
) -> (Duration, Stats) {
    let http = reqwest::Client::new();
    let get = |base: &str| {
        let request = http
            .get(format!("{base}{path}"))
            .timeout(Duration::from_secs(1800));
        async move {
            let r = request.send().await.unwrap();
            assert_eq!(r.status(), 200, "{path} of {bin}");
            r.bytes().await.unwrap()
        }
    };
    // The first request builds the function (release); not measured.
    let watch = LambdaWatch::start(cargo_lambda, package, bin, env);
    get(&watch.base).await;
    drop(watch);
    let mut cold = Vec::new();
    let watch = LambdaWatch::start(cargo_lambda, package, bin, env);
    timed(&mut cold, get(&watch.base)).await;
    let mut warm = Vec::new();
    for _ in 0..200 {
        timed(&mut warm, get(&watch.base)).await;
    }
    (cold[0], stats(warm))
}

async fn lambda_starts(report: &mut Report, cargo_lambda: &str, shop_env: &[(String, String)]) {
    let (cold, warm) = lambda_times(cargo_lambda, "server", "server", shop_env, "/health").await;
    let (hello_cold, hello_warm) =
        lambda_times(cargo_lambda, "bench", "lambda-hello", &[], "/").await;
    report.row(
        "Lambda function in cargo lambda watch (release, DynamoDB on moto): cold start, then warm `GET /health`",
        format!("cold {}; warm p50 {} p99 {}", ms(cold), ms(warm.p50), ms(warm.p99)),
        format!(
            "bare lambda_http hello: cold {}, warm p50 {} p99 {} (cold {}, warm {})",
            ms(hello_cold),
            ms(hello_warm.p50),
            ms(hello_warm.p99),
            ratio(cold, hello_cold),
            ratio(warm.p50, hello_warm.p50)
        ),
        "none set; reported",
    );
    report.notes.push("Lambda cold start: the first request after cargo lambda watch starts, the binary already built. It includes the emulator starting the function through cargo (a freshness check of the workspace), for both functions alike.".into());
}
