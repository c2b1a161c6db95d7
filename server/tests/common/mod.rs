//! A shop wired to real components for integration tests: the emulator on
//! its own port, our webhook route on another, over real HTTP; the embedded
//! store in a temporary folder, or DynamoDB on moto server.
#![allow(dead_code)]

use checkout::{
    CartLine, Catalog, CheckoutKey, CheckoutService, OrderId, OrderStatus, ReconcilePolicy,
    ShopUrls, Store,
};
use mollie::{ApiKey, MollieClient, MollieConfig};
use mollie_emulator::Emulator;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub enum StoreKind {
    Embedded,
    DynamoDb,
    /// DynamoDB at this endpoint (e.g. through a [`Switch`]).
    DynamoDbAt(String),
}

pub struct Harness {
    pub service: Arc<CheckoutService>,
    pub emulator: Emulator,
    pub shop_url: String,
    _data: tempfile::TempDir,
}

pub async fn store(kind: StoreKind, data: &tempfile::TempDir) -> Arc<dyn Store> {
    match kind {
        StoreKind::Embedded => {
            Arc::new(store::EmbeddedStore::open(&data.path().join("shop.redb")).unwrap())
        }
        StoreKind::DynamoDb => Box::pin(store(StoreKind::DynamoDbAt(moto_endpoint()), data)).await,
        StoreKind::DynamoDbAt(endpoint) => {
            let client = store::DynamoDbStore::client_from_env(Some(&endpoint)).await;
            let table = format!("server-{}", CheckoutKey::generate());
            store::TableSetup::create_if_missing(&client, &table)
                .await
                .unwrap();
            Arc::new(store::DynamoDbStore::new(client, table))
        }
    }
}

pub fn moto_endpoint() -> String {
    std::env::var("SHOP_TEST_AWS_ENDPOINT")
        .expect("SHOP_TEST_AWS_ENDPOINT is not set: run scripts/test.sh, which starts moto server")
}

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

pub async fn harness(kind: StoreKind, policy: ReconcilePolicy) -> Harness {
    harness_with(kind, policy, |_| {}).await
}

/// The webhook's time bound in the harness (production: SHOP_WEBHOOK_TIMEOUT_MS).
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_millis(1_500);

/// A harness whose Mollie client is configured further by `configure`.
pub async fn harness_with(
    kind: StoreKind,
    policy: ReconcilePolicy,
    configure: impl FnOnce(&mut MollieConfig),
) -> Harness {
    let emulator_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (emulator, _) = Emulator::serve(emulator_listener, |c| c.time_factor = 0.001)
        .await
        .unwrap();
    let shop_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let shop_url = format!("http://{}", shop_listener.local_addr().unwrap());

    let data = tempfile::tempdir().unwrap();
    let store = store(kind, &data).await;
    let key = ApiKey::new("test_servertests").unwrap();
    let mut config = MollieConfig::new(key).with_base_url(emulator.api_base_url());
    config.min_backoff = Duration::from_millis(5);
    config.max_backoff = Duration::from_millis(20);
    configure(&mut config);
    let provider = Arc::new(MollieClient::new(config).unwrap());
    let service = Arc::new(
        CheckoutService::new(
            Catalog::demo(),
            store,
            provider,
            ShopUrls {
                public_base_url: shop_url.clone(),
            },
        )
        .with_reconcile_policy(policy),
    );
    let router: axum::Router = server::webhook::routes(service.clone(), WEBHOOK_TIMEOUT);
    tokio::spawn(async move { axum::serve(shop_listener, router).await.unwrap() });
    Harness {
        service,
        emulator,
        shop_url,
        _data: data,
    }
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
        let started = self
            .service
            .checkout(&cart("notebook", 2), &CheckoutKey::generate())
            .await
            .unwrap();
        let (record, status) = self
            .service
            .order(&started.order_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status, OrderStatus::AwaitingPayment);
        let provider_id = record.attempts[0].provider_payment_id.clone().unwrap();
        (started.order_id, provider_id)
    }

    pub async fn record(&self, order_id: &OrderId) -> checkout::OrderRecord {
        self.service.order(order_id).await.unwrap().unwrap().0
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
