//! The shop for integration tests, built by the same path as `main`
//! ([`Application::build`]) and served over real HTTP on loopback: the
//! emulator as its provider, the embedded store in a temporary folder or
//! DynamoDB on moto server.

use checkout::{CartLine, CheckoutKey, CheckoutService, OrderId, OrderStatus, ReconcilePolicy};
use clap::Parser;
use leptos::config::{Env, LeptosOptions};
use mollie_emulator::{Emulator, Faults, PaymentStatus};
use server::config::{Cli, OperatorSecrets, Timing};
use server::Application;
use std::sync::Arc;
use std::time::{Duration, Instant};
use test_support::AdjustableClock;

#[derive(Debug)]
pub enum StoreKind {
    Embedded,
    DynamoDb,
    /// DynamoDB at this endpoint (e.g. through a [`Switch`]).
    DynamoDbAt(String),
}

pub struct Harness {
    pub service: Arc<CheckoutService>,
    /// The outbox's deliverer, run by a test when it wants (no task runs it).
    pub deliverer: Arc<checkout::Deliverer>,
    /// Where the deliverer writes each message it sends (`.eml` files).
    pub mail_dir: std::path::PathBuf,
    /// The shop's store, for a test's own deliverer.
    pub store: Arc<dyn checkout::Store>,
    /// The shop's clock: a test moves it ahead instead of sleeping.
    pub clock: Arc<AdjustableClock>,
    pub emulator: Emulator,
    pub shop_url: String,
    _data: tempfile::TempDir,
}

/// The shop as `main` builds and serves it (configuration -> [`Application`] ->
/// router -> server), from `args` (flags) and `timing`, on a loopback port.
pub struct Served {
    pub shop: Arc<Application>,
    pub clock: Arc<AdjustableClock>,
    pub base_url: String,
    pub data: tempfile::TempDir,
}

pub async fn serve(args: &[&str], timing: Timing) -> Served {
    serve_with_operators(args, timing, operator_secrets()).await
}

/// The operator every test shop has, and their password.
pub const OPERATOR: &str = "alice";
pub const OPERATOR_PASSWORD: &str = "correct horse battery staple";

/// [`OPERATOR`]'s account and a session secret, as SHOP_ADMIN_OPERATORS
/// and SHOP_SESSION_SECRET would give them (hashed once per test binary).
pub fn operator_secrets() -> OperatorSecrets {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = HASH.get_or_init(|| back_office::hash_password(OPERATOR_PASSWORD));
    OperatorSecrets {
        accounts: Some(format!("{OPERATOR}:{hash}")),
        session_secret: Some("a test secret of at least thirty-two bytes".into()),
    }
}

pub async fn serve_with_operators(
    args: &[&str],
    timing: Timing,
    secrets: OperatorSecrets,
) -> Served {
    serve_configured(args, timing, |config| config.operator_secrets = secrets).await
}

/// The shop as `main` serves it, with what flags cannot set (secrets)
/// set by `configure`.
pub async fn serve_configured(
    args: &[&str],
    timing: Timing,
    configure: impl FnOnce(&mut server::config::Config),
) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut all = vec!["server", "--data-dir", data.path().to_str().unwrap()];
    all.extend_from_slice(args);
    let mut config = Cli::parse_from(all).config;
    config.timing = timing;
    config.operator_secrets = operator_secrets();
    configure(&mut config);
    if config.store == server::config::StoreKind::Dynamodb {
        server::create_table(&config).await.unwrap();
    }
    let clock = Arc::new(AdjustableClock::new());
    let shop = Arc::new(
        Application::build(&config, addr, clock.clone())
            .await
            .unwrap(),
    );
    let options = LeptosOptions::builder()
        .output_name("shop")
        .site_addr(addr)
        .env(Env::PROD)
        .build();
    let router = shop.router(options);
    tokio::spawn(server::serve::serve(
        listener,
        router,
        config.serve_limits(),
        std::future::pending(),
    ));
    Served {
        shop,
        clock,
        base_url: format!("http://{addr}"),
        data,
    }
}

pub use test_support::moto_endpoint;

/// A TCP forwarder on loopback that can be switched off: then it cuts every
/// open connection and refuses new ones, as a store that went down.
#[derive(Clone)]
pub struct Switch {
    pub url: String,
    on: tokio::sync::watch::Sender<bool>,
}

impl Switch {
    pub async fn to(target_url: &str) -> Self {
        let target = target_url.trim_start_matches("http://").to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (on, watch) = tokio::sync::watch::channel(true);
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                let mut watch = watch.clone();
                if !*watch.borrow() {
                    continue; // dropped: connection closed at once
                }
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = watch.wait_for(|on| !*on) => {}
                    }
                });
            }
        });
        Self { url, on }
    }

    pub fn set(&self, on: bool) {
        self.on.send_replace(on);
    }
}

/// The reconciler's first look 300 ms after an attempt is made, then at
/// most a second apart: for tests that wait for it.
pub fn quick_checks() -> ReconcilePolicy {
    ReconcilePolicy {
        check_schedule: checkout::CheckSchedule {
            first_check_after: Duration::from_millis(300),
            max_interval: Duration::from_secs(1),
        },
        // A resend may fail a refund the provider refused 3 s after it
        // was recorded (the request timeout is below it).
        refund_in_flight_for: Duration::from_secs(3),
        ..ReconcilePolicy::default()
    }
}

pub async fn harness(kind: StoreKind, policy: ReconcilePolicy) -> Harness {
    harness_with(kind, policy, &[]).await
}

/// The webhook's time bound in the harness (production: SHOP_WEBHOOK_TIMEOUT_MS).
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_millis(1_500);

/// The whole shop with the emulator as its provider (webhooks at a
/// thousandth of Mollie's schedule), `policy`'s timings, rate limits out of
/// the way of load tests, and more flags in `args`.
pub async fn harness_with(kind: StoreKind, policy: ReconcilePolicy, args: &[&str]) -> Harness {
    harness_configured(kind, policy, args, |_| {}).await
}

/// [`harness_with`], with what flags cannot set (secrets) set by `configure`.
pub async fn harness_configured(
    kind: StoreKind,
    policy: ReconcilePolicy,
    args: &[&str],
    configure: impl FnOnce(&mut server::config::Config),
) -> Harness {
    let table = format!("server-{}", CheckoutKey::generate());
    let endpoint = match &kind {
        StoreKind::Embedded => None,
        StoreKind::DynamoDb => Some(moto_endpoint()),
        StoreKind::DynamoDbAt(endpoint) => Some(endpoint.clone()),
    };
    let millis = |d: Duration| d.as_millis().to_string();
    let webhook_timeout = millis(WEBHOOK_TIMEOUT);
    let refresh_after = millis(policy.refresh_after);
    let refresh_interval = millis(policy.min_refresh_interval);
    let first_check = millis(policy.check_schedule.first_check_after);
    let max_interval = millis(policy.check_schedule.max_interval);
    // Under the refund in-flight time, as the configuration requires.
    let request_timeout = millis(
        Duration::from_secs(30).min(
            policy
                .refund_in_flight_for
                .saturating_sub(Duration::from_millis(100)),
        ),
    );

    let mut all = vec![
        "--provider",
        "emulator",
        "--emulator-time-factor",
        "0.001",
        "--webhook-timeout-ms",
        &webhook_timeout,
        "--checkout-rate-per-minute",
        "1000000",
        "--webhook-rate-per-second",
        "1000000",
        "--refresh-on-read-after-ms",
        &refresh_after,
        "--refresh-min-interval-ms",
        &refresh_interval,
        "--reconcile-first-check-after-ms",
        &first_check,
        "--reconcile-max-interval-ms",
        &max_interval,
        "--request-timeout-ms",
        &request_timeout,
    ];
    match &endpoint {
        None => all.extend(["--store", "embedded"]),
        Some(endpoint) => all.extend([
            "--store",
            "dynamodb",
            "--dynamodb-endpoint",
            endpoint,
            "--dynamodb-table",
            &table,
        ]),
    }
    all.extend_from_slice(args);
    let timing = Timing {
        abandon_unconfirmed_after: policy.abandon_unconfirmed_after,
        provider_backoff: Some((Duration::from_millis(5), Duration::from_millis(20))),
        refund_in_flight_for: policy.refund_in_flight_for,
    };
    let served = serve_configured(&all, timing, configure).await;
    Harness {
        service: served.shop.service.clone(),
        deliverer: served.shop.delivery.deliverer.clone(),
        mail_dir: served.data.path().join("mail"),
        store: served.shop.store.clone(),
        clock: served.clock,
        emulator: served
            .shop
            .emulator
            .clone()
            .expect("the emulator is the provider"),
        shop_url: served.base_url,
        _data: served.data,
    }
}

/// The shopper every test checks out as.
pub fn shopper() -> checkout::EmailAddress {
    checkout::EmailAddress::parse("shopper@example.com").expect("an address")
}

pub fn cart(article: &str, quantity: i64) -> Vec<CartLine> {
    vec![CartLine {
        article_id: article.into(),
        quantity,
    }]
}

impl Harness {
    /// Buys two notebooks; returns the order and its provider payment id.
    pub async fn buy(&self) -> (OrderId, String) {
        self.buy_cart(&cart("notebook", 2)).await
    }

    /// Buys `lines`; returns the order and its provider payment id.
    pub async fn buy_cart(&self, lines: &[CartLine]) -> (OrderId, String) {
        let started = self
            .service
            .checkout(lines, &shopper(), &CheckoutKey::generate())
            .await
            .unwrap();
        let (record, status) = self
            .service
            .order(&started.order_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status, OrderStatus::AwaitingPayment);
        let provider_id = record.attempts[0].provider_payment_id().clone().unwrap();
        (started.order_id, provider_id.to_string())
    }

    pub async fn record(&self, order_id: &OrderId) -> checkout::OrderRecord {
        self.service.order(order_id).await.unwrap().unwrap().0
    }

    /// The types of the order's events in its outbox, oldest first.
    pub async fn event_types(&self, order_id: &OrderId) -> Vec<&'static str> {
        let record = self.record(order_id).await;
        let entries = self.service.order_messages(&record).await.unwrap();
        entries
            .iter()
            .map(|(e, _)| e.event().kind().name())
            .collect()
    }

    /// One delivery pass of the shop's deliverer (no task runs it here).
    pub async fn deliver(&self) -> checkout::DeliveryPass {
        self.deliverer
            .deliver_pending(Duration::from_secs(60))
            .await
            .expect("the outbox is read")
    }

    /// Two delivery passes: what each sent (the second should find nothing).
    pub async fn deliver_twice(&self) -> (usize, usize) {
        let first = self.deliver().await;
        let second = self.deliver().await;
        (first.sent, second.sent)
    }

    /// How many messages written so far have `words` in their subject.
    pub fn messages_about(&self, words: &str) -> usize {
        self.mail_subjects()
            .iter()
            .filter(|s| s.contains(words))
            .count()
    }

    /// The subjects of the messages written so far, sorted.
    pub fn mail_subjects(&self) -> Vec<String> {
        let mut subjects: Vec<String> = std::fs::read_dir(&self.mail_dir)
            .map(|dir| {
                dir.filter_map(|f| std::fs::read_to_string(f.ok()?.path()).ok())
                    .filter_map(|raw| {
                        raw.lines()
                            .find_map(|l| l.strip_prefix("Subject: ").map(str::to_owned))
                    })
                    .collect()
            })
            .unwrap_or_default();
        subjects.sort();
        subjects
    }

    pub async fn status(&self, order_id: &OrderId) -> OrderStatus {
        self.service.order(order_id).await.unwrap().unwrap().1
    }

    pub async fn wait_for(&self, order_id: &OrderId, expected: OrderStatus, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let status = self.status(order_id).await;
            if status == expected {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "still {status:?}, expected {expected:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The payment reaches `status` at the provider, and its webhook is lost.
    pub fn complete_without_webhook(&self, provider_id: &str, status: PaymentStatus) {
        self.emulator.set_faults(Faults {
            drop_next_webhooks: 1,
            ..Faults::default()
        });
        assert!(self.emulator.complete_payment(provider_id, status));
    }

    /// The background reconciler, quick: a look every 100 ms, at most 50
    /// provider calls a second.
    pub fn spawn_reconciler(&self) -> RunningReconciler {
        let config = server::reconciler::ReconcilerConfig {
            interval: Duration::from_millis(100),
            batch: 100,
            max_per_second: 50,
            pass_budget: Duration::from_secs(60),
        };
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let task = server::reconciler::spawn(self.service.clone(), config, stopped);
        RunningReconciler { stop, task }
    }

    /// `passes` reconcile passes, each after the clock moved `apart` ahead
    /// (instead of waiting for the background loop's next turn).
    pub async fn reconcile_passes(&self, passes: usize, apart: Duration) {
        let config = server::reconciler::ReconcilerConfig {
            interval: Duration::from_millis(100),
            batch: 100,
            max_per_second: 1_000,
            pass_budget: Duration::from_secs(60),
        };
        let (_stop, mut stopped) = tokio::sync::watch::channel(false);
        for _ in 0..passes {
            self.clock.advance(apart);
            server::reconciler::run_once(&self.service, &config, &mut stopped)
                .await
                .expect("the attempts due are listed");
        }
    }

    /// The payment as the provider has it, with its refunds and
    /// chargebacks, read as from Mollie's dashboard.
    pub async fn at_the_provider(&self, payment: &str) -> serde_json::Value {
        let path = format!("/payments/{payment}?embed=refunds,chargebacks");
        self.provider_api(reqwest::Method::GET, &path, None).await.1
    }

    /// A refund of `value` euros (`"12.00"`) made directly at the provider,
    /// as from Mollie's dashboard; its id.
    pub async fn refund_at_the_provider(&self, payment: &str, value: &str) -> String {
        let amount = serde_json::json!({ "amount": { "currency": "EUR", "value": value } });
        let path = format!("/payments/{payment}/refunds");
        let (status, refund) = self
            .provider_api(reqwest::Method::POST, &path, Some(amount))
            .await;
        assert_eq!(status, 201, "{refund}");
        refund["id"].as_str().unwrap().to_owned()
    }

    /// A call to the provider's API as from its dashboard (`path` below
    /// `/v2`); its status and JSON answer.
    pub async fn provider_api(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut request = reqwest::Client::new()
            .request(method, format!("{}{path}", self.emulator.api_base_url()))
            .header("authorization", "Bearer test_dashboard");
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or_default())
    }

    pub async fn post_webhook(&self, id: &str) -> reqwest::StatusCode {
        reqwest::Client::new()
            .post(format!("{}/webhooks/mollie", self.shop_url))
            .form(&[("id", id)])
            .send()
            .await
            .unwrap()
            .status()
    }
}

pub struct RunningReconciler {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningReconciler {
    /// Stops it, as on shutdown; it must stop within two seconds.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        tokio::time::timeout(Duration::from_secs(2), self.task)
            .await
            .expect("the reconciler stops on shutdown")
            .unwrap();
    }
}
