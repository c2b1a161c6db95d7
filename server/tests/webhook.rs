//! The webhook route against the emulator and the embedded store, over real
//! HTTP: the emulator notifies our route, which fetches the payment and
//! updates the stored status.

use checkout::{Catalog, CheckoutService, OrderId, OrderStatus, ShopUrls};
use mollie::{ApiKey, MollieClient, MollieConfig};
use mollie_emulator::{Emulator, PaymentStatus};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Harness {
    service: Arc<CheckoutService>,
    emulator: Emulator,
    shop_url: String,
    _data: tempfile::TempDir,
}

async fn harness() -> Harness {
    let emulator_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (emulator, _) = Emulator::serve(emulator_listener, |c| c.time_factor = 0.001)
        .await
        .unwrap();
    let shop_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let shop_url = format!("http://{}", shop_listener.local_addr().unwrap());

    let data = tempfile::tempdir().unwrap();
    let store = Arc::new(store::EmbeddedStore::open(&data.path().join("shop.redb")).unwrap());
    let key = ApiKey::new("test_webhooktest").unwrap();
    let provider = Arc::new(
        MollieClient::new(MollieConfig::new(key).with_base_url(emulator.api_base_url())).unwrap(),
    );
    let service = Arc::new(CheckoutService::new(
        Catalog::demo(),
        store,
        provider,
        ShopUrls {
            public_base_url: shop_url.clone(),
        },
    ));
    let router: axum::Router = server::webhook::routes(service.clone());
    tokio::spawn(async move { axum::serve(shop_listener, router).await.unwrap() });
    Harness {
        service,
        emulator,
        shop_url,
        _data: data,
    }
}

impl Harness {
    async fn buy(&self) -> (OrderId, String) {
        let started = self.service.checkout("notebook", 2).await.unwrap();
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

    async fn wait_for(&self, order_id: &OrderId, expected: OrderStatus) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (_, status) = self.service.order(order_id).await.unwrap().unwrap();
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
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paid_payment_marks_the_order_paid() {
    let shop = harness().await;
    let (order_id, provider_id) = shop.buy().await;
    assert!(shop
        .emulator
        .complete_payment(&provider_id, PaymentStatus::Paid));
    shop.wait_for(&order_id, OrderStatus::Paid).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_payment_marks_the_order_failed() {
    let shop = harness().await;
    let (order_id, provider_id) = shop.buy().await;
    assert!(shop
        .emulator
        .complete_payment(&provider_id, PaymentStatus::Failed));
    shop.wait_for(
        &order_id,
        OrderStatus::PaymentFailed(checkout::PaymentStatus::Failed),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_and_malformed_ids_change_nothing() {
    let shop = harness().await;
    let (order_id, _) = shop.buy().await;
    let before = shop.service.order(&order_id).await.unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/webhooks/mollie", shop.shop_url);
    for id in ["tr_unknown1234", "not-an-id", ""] {
        let response = http.post(&url).form(&[("id", id)]).send().await.unwrap();
        assert_eq!(response.status(), 200, "id {id:?}");
    }
    let response = http.post(&url).body("garbage").send().await.unwrap();
    assert!(response.status().is_client_error());
    assert_eq!(shop.service.order(&order_id).await.unwrap(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_duplicated_webhook_after_the_final_status_changes_nothing() {
    let shop = harness().await;
    let (order_id, provider_id) = shop.buy().await;
    assert!(shop
        .emulator
        .complete_payment(&provider_id, PaymentStatus::Paid));
    shop.wait_for(&order_id, OrderStatus::Paid).await;
    let before = shop.service.order(&order_id).await.unwrap();
    let http = reqwest::Client::new();
    let response = http
        .post(format!("{}/webhooks/mollie", shop.shop_url))
        .form(&[("id", provider_id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(shop.service.order(&order_id).await.unwrap(), before);
}
