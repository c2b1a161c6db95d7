//! The client against the emulator, over real HTTP on loopback.

use checkout::{
    Currency, Money, NewPayment, OrderId, PaymentMetadata, PaymentProvider, ProviderError,
    ProviderPaymentId,
};
use mollie::{
    Amount, ApiKey, CreatePayment, Method, MollieClient, MollieConfig, MollieError, PaymentId,
    PaymentStatus,
};
use mollie_emulator::Emulator;
use std::time::Duration;

pub(crate) async fn emulator() -> Emulator {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Emulator::serve(listener, |c| {
        c.time_factor = 0.001;
        c.allowed_origins = vec!["https://shop.example".into()];
    })
    .await
    .unwrap()
    .0
}

pub(crate) fn client_for(base_url: String, key: &str) -> MollieClient {
    let mut config = MollieConfig::new(ApiKey::new(key).unwrap()).with_base_url(base_url);
    config.min_backoff = Duration::from_millis(10);
    config.max_backoff = Duration::from_millis(50);
    config.request_timeout = Duration::from_secs(2);
    MollieClient::new(config).unwrap()
}

pub(crate) fn request(redirect_url: &str) -> CreatePayment {
    CreatePayment {
        amount: Amount::from_money(Money::new(2750, Currency::EUR)),
        description: "Order 1234".into(),
        redirect_url: redirect_url.into(),
        cancel_url: None,
        webhook_url: Some("http://127.0.0.1:9/webhooks/mollie".into()),
        metadata: Some(serde_json::json!({ "order_id": "ord_1", "attempt_id": "pay_1" })),
        locale: None,
        method: None,
        capture_mode: None,
        lines: Vec::new(),
    }
}

#[tokio::test]
async fn creates_and_reads_a_payment() {
    let emulator = emulator().await;
    let client = client_for(emulator.api_base_url(), "test_emulatorkey");
    let created = client
        .create_payment(&request("https://shop.example/orders/1"), "key-1")
        .await
        .unwrap();
    assert!(
        created.id.as_str().starts_with("tr_") && created.id.as_str().len() == 13,
        "{}",
        created.id
    );
    assert_eq!(
        (created.resource.as_str(), created.mode.as_str()),
        ("payment", "test")
    );
    assert_eq!(created.status, PaymentStatus::Open);
    assert_eq!(
        created.amount,
        Amount {
            currency: "EUR".into(),
            value: "27.50".into()
        }
    );
    assert_eq!(created.is_cancelable, Some(true));
    assert!(created.expires_at.is_some());
    let checkout = created
        .checkout_url()
        .expect("an open payment has a checkout link");
    assert!(checkout.ends_with(&format!("/checkout/{}", created.id)));

    let fetched = client.get_payment(&created.id).await.unwrap();
    assert_eq!(fetched.id, created.id);
    assert_eq!(fetched.metadata, created.metadata);
    assert_eq!(emulator.payments_created(), 1);
}

#[tokio::test]
async fn the_same_idempotency_key_never_creates_a_second_payment() {
    let emulator = emulator().await;
    let client = client_for(emulator.api_base_url(), "test_emulatorkey");
    let body = request("https://shop.example/orders/1");
    let first = client.create_payment(&body, "attempt-42").await.unwrap();
    let again = client.create_payment(&body, "attempt-42").await.unwrap();
    assert_eq!(first.id, again.id);
    assert_eq!(emulator.payments_created(), 1);

    // The same key with another body is refused, not replayed.
    let other = request("https://shop.example/orders/2");
    let error = client
        .create_payment(&other, "attempt-42")
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(400));
    assert_eq!(emulator.payments_created(), 1);
}

#[tokio::test]
async fn errors_arrive_typed_and_4xx_is_not_retried() {
    let emulator = emulator().await;
    let client = client_for(emulator.api_base_url(), "test_emulatorkey");

    let error = client
        .create_payment(&request("not a url"), "k")
        .await
        .unwrap_err();
    match &error {
        MollieError::Api {
            status: 422,
            field: Some(field),
            ..
        } => assert_eq!(field, "redirectUrl"),
        other => panic!("expected a 422 on redirectUrl, got {other:?}"),
    }
    assert!(!error.is_retryable());

    let unknown = PaymentId::parse("tr_doesnotexist").unwrap();
    let error = client.get_payment(&unknown).await.unwrap_err();
    assert_eq!(error.status(), Some(404));

    let live = client_for(emulator.api_base_url(), "live_notaccepted");
    let error = live.get_payment(&unknown).await.unwrap_err();
    assert_eq!(error.status(), Some(401));

    // Only a payment id goes into a path: an id of the domain's that is
    // not of Mollie's form was never made there, and costs no call.
    assert!(PaymentId::parse("../../v2/methods").is_err());
    let calls = emulator.api_calls();
    assert_eq!(
        PaymentProvider::get_payment(&client, &ProviderPaymentId::parse("pay-1").unwrap()).await,
        Err(ProviderError::NotFound)
    );
    assert_eq!(emulator.api_calls(), calls);
    assert_eq!(emulator.payments_created(), 0);
}

#[tokio::test]
async fn an_unreachable_provider_is_retried_then_reported() {
    // A port nothing listens on: connection refused on every try.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = client_for(format!("http://{addr}/v2"), "test_emulatorkey");
    let started = std::time::Instant::now();
    let error = client
        .get_payment(&PaymentId::parse("tr_abc").unwrap())
        .await
        .unwrap_err();
    assert!(matches!(error, MollieError::Connection(_)), "{error:?}");
    assert!(error.is_retryable());
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn cancels_an_open_payment_once() {
    let emulator = emulator().await;
    let client = client_for(emulator.api_base_url(), "test_emulatorkey");
    let created = client
        .create_payment(&request("https://shop.example/orders/1"), "c")
        .await
        .unwrap();
    let canceled = client.cancel_payment(&created.id).await.unwrap();
    assert_eq!(canceled.status, PaymentStatus::Canceled);
    assert!(canceled.canceled_at.is_some());
    assert_eq!(canceled.checkout_url(), None);
    let again = client.cancel_payment(&created.id).await.unwrap_err();
    assert_eq!(again.status(), Some(422));
}

#[tokio::test]
async fn implements_the_payment_provider_port() {
    let emulator = emulator().await;
    let client = client_for(emulator.api_base_url(), "test_emulatorkey");
    let metadata = PaymentMetadata {
        order_id: OrderId::generate(),
        attempt_id: checkout::AttemptId::generate(),
    };
    let new = NewPayment {
        amount: Money::new(1450, Currency::EUR),
        description: "Order abc".into(),
        redirect_url: "https://shop.example/orders/abc".into(),
        webhook_url: "https://shop.example/webhooks/mollie".into(),
        metadata: metadata.clone(),
        idempotency_key: metadata.attempt_id.to_string(),
        capture_mode: checkout::CaptureMode::Automatic,
        lines: Vec::new(),
        locale: checkout::Locale::parse("nl_BE"),
        method: Some("ideal".into()),
    };
    let created = PaymentProvider::create_payment(&client, &new)
        .await
        .unwrap();
    assert_eq!(created.amount, new.amount);
    let stored = client
        .get_payment(&PaymentId::try_from(&created.id).unwrap())
        .await
        .unwrap();
    assert_eq!(stored.locale.as_deref(), Some("nl_BE"));
    assert_eq!(stored.method, Some(Method::Ideal));

    // The methods that can take it, named and with their images.
    let methods = PaymentProvider::payment_methods(&client, new.amount, new.locale)
        .await
        .unwrap();
    assert!(methods.iter().any(|m| m.id == "ideal" && m.name == "iDEAL"));
    assert!(methods.iter().all(|m| m.image.ends_with(".svg")));
    assert!(
        !methods.iter().any(|m| m.id == "klarna"),
        "below Klarna's minimum"
    );
    assert_eq!(created.metadata, Some(metadata));
    assert_eq!(created.status, Some(checkout::PaymentStatus::Open));

    assert!(emulator.complete_payment(created.id.as_str(), mollie_emulator::PaymentStatus::Paid));
    let paid = PaymentProvider::get_payment(&client, &created.id)
        .await
        .unwrap();
    assert_eq!(paid.status, Some(checkout::PaymentStatus::Paid));
    assert_eq!(paid.checkout_url, None);
    assert_eq!(
        PaymentProvider::get_payment(
            &client,
            &ProviderPaymentId::parse("tr_unknown1234").unwrap()
        )
        .await,
        Err(ProviderError::NotFound)
    );
}

// ---- retries under injected faults: exactly one provider payment per attempt

fn faults() -> mollie_emulator::Faults {
    mollie_emulator::Faults::default()
}

#[tokio::test]
async fn server_errors_are_retried_and_make_one_payment() {
    let emulator = emulator().await;
    emulator.set_faults(mollie_emulator::Faults {
        fail_next: 2,
        ..faults()
    });
    let client = client_for(emulator.api_base_url(), "test_emulatorkey");
    let created = client
        .create_payment(&request("https://shop.example/orders/1"), "k5xx")
        .await
        .unwrap();
    assert_eq!(emulator.api_calls(), 3);
    assert_eq!(emulator.payments_created(), 1);
    assert_eq!(
        client.get_payment(&created.id).await.unwrap().id,
        created.id
    );
}

#[tokio::test]
async fn rate_limiting_is_retried() {
    let emulator = emulator().await;
    emulator.set_faults(mollie_emulator::Faults {
        fail_next: 1,
        fail_status: Some(429),
        ..faults()
    });
    let client = client_for(emulator.api_base_url(), "test_emulatorkey");
    client
        .create_payment(&request("https://shop.example/orders/1"), "k429")
        .await
        .unwrap();
    assert_eq!((emulator.api_calls(), emulator.payments_created()), (2, 1));
}

#[tokio::test]
async fn retries_are_bounded() {
    let emulator = emulator().await;
    emulator.set_faults(mollie_emulator::Faults {
        fail_next: 100,
        ..faults()
    });
    let client = client_for(emulator.api_base_url(), "test_emulatorkey");
    let error = client
        .create_payment(&request("https://shop.example/orders/1"), "kdown")
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(503));
    // The first try and three retries.
    assert_eq!(emulator.api_calls(), 4);
    assert_eq!(emulator.payments_created(), 0);
}

#[tokio::test]
async fn a_create_whose_answer_times_out_is_replayed_not_repeated() {
    let emulator = emulator().await;
    // The emulator makes the payment, then answers after the client gave up.
    emulator.set_faults(mollie_emulator::Faults {
        hang_next: 1,
        hang_ms: 1_500,
        ..faults()
    });
    let mut config = MollieConfig::new(ApiKey::new("test_emulatorkey").unwrap())
        .with_base_url(emulator.api_base_url());
    config.request_timeout = Duration::from_millis(300);
    config.min_backoff = Duration::from_millis(10);
    let client = MollieClient::new(config).unwrap();
    let started = std::time::Instant::now();
    let created = client
        .create_payment(&request("https://shop.example/orders/1"), "khang")
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(1_400),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(emulator.api_calls(), 2);
    assert_eq!(emulator.payments_created(), 1);
    assert_eq!(
        client.get_payment(&created.id).await.unwrap().status,
        PaymentStatus::Open
    );
}

#[tokio::test]
async fn timeouts_are_bounded_too() {
    let emulator = emulator().await;
    emulator.set_faults(mollie_emulator::Faults {
        hang_next: 100,
        hang_ms: 1_000,
        ..faults()
    });
    let mut config = MollieConfig::new(ApiKey::new("test_emulatorkey").unwrap())
        .with_base_url(emulator.api_base_url());
    config.request_timeout = Duration::from_millis(200);
    config.min_backoff = Duration::from_millis(10);
    config.max_backoff = Duration::from_millis(20);
    config.max_retries = 2;
    let client = MollieClient::new(config).unwrap();
    let error = client
        .create_payment(&request("https://shop.example/orders/1"), "kslow")
        .await
        .unwrap_err();
    assert_eq!(error, MollieError::Timeout);
    assert_eq!(emulator.api_calls(), 3);
    assert_eq!(emulator.payments_created(), 1);
}
