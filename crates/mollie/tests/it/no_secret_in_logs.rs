//! Every log line (our tracing, and reqwest/hyper through the log bridge, at
//! TRACE) and every error message of a run that exercises success, retries,
//! timeouts and each error class is captured and scanned for the API key.
//! The subscriber is this test's own (`set_default` on a current-thread
//! runtime, where every task of the run is polled), so the crate's other
//! tests share the binary without logging into it.

use mollie::{Amount, ApiKey, CreatePayment, MollieClient, MollieConfig};
use mollie_emulator::{Emulator, Faults};
use std::time::Duration;
use test_support::Captured;

#[tokio::test]
async fn the_api_key_never_reaches_logs_or_errors() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    let _scope = tracing::subscriber::set_default(subscriber);
    // reqwest logs through the `log` crate: forward it to tracing (once per
    // process; it then follows each thread's subscriber).
    let _ = tracing_log::LogTracer::init();

    // Made at run time, so no key-like string is committed.
    let secret_part: String = checkout::AttemptId::generate().as_str().replace("pay_", "");
    let key_text = format!("test_{secret_part}");
    let key = ApiKey::new(key_text.clone()).unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (emulator, _) = Emulator::serve(listener, |c| {
        c.time_factor = 0.001;
        c.allowed_origins = vec!["https://shop.example".into()];
    })
    .await
    .unwrap();
    let mut config = MollieConfig::new(key.clone()).with_base_url(emulator.api_base_url());
    config.request_timeout = Duration::from_millis(300);
    config.min_backoff = Duration::from_millis(5);
    config.max_backoff = Duration::from_millis(10);
    let client = MollieClient::new(config.clone()).unwrap();
    tracing::info!(?config, ?client, %key, "client configured");

    let request = CreatePayment {
        amount: Amount {
            currency: "EUR".into(),
            value: "12.50".into(),
        },
        description: "Order".into(),
        redirect_url: "https://shop.example/orders/1".into(),
        cancel_url: None,
        webhook_url: None,
        metadata: None,
        locale: None,
        method: None,
        capture_mode: None,
        lines: Vec::new(),
    };
    let mut messages = Vec::new();
    emulator.set_faults(Faults {
        fail_next: 2,
        ..Faults::default()
    });
    let created = client.create_payment(&request, "k1").await.unwrap();
    emulator.set_faults(Faults {
        hang_next: 1,
        hang_ms: 600,
        ..Faults::default()
    });
    client.get_payment(&created.id).await.unwrap();
    emulator.set_faults(Faults {
        fail_next: 10,
        ..Faults::default()
    });
    messages.push(client.get_payment(&created.id).await.unwrap_err());
    emulator.set_faults(Faults::default());
    messages.push(
        client
            .get_payment(&"tr_missing0000".parse().unwrap())
            .await
            .unwrap_err(),
    );
    let mut bad = request.clone();
    bad.redirect_url = "nope".into();
    messages.push(client.create_payment(&bad, "k2").await.unwrap_err());
    let unauthorized = MollieClient::new(
        MollieConfig::new(ApiKey::new(format!("live_{secret_part}")).unwrap())
            .with_base_url(emulator.api_base_url()),
    )
    .unwrap();
    messages.push(unauthorized.get_payment(&created.id).await.unwrap_err());

    let logs = logs.text();
    let errors: String = messages.iter().map(|e| format!("{e} {e:?}\n")).collect();
    assert!(
        logs.contains("retrying"),
        "the retries were not logged:\n{logs}"
    );
    assert!(
        logs.contains("test_[redacted]"),
        "the key's redacted form was not logged"
    );
    for text in [&logs, &errors] {
        assert!(!text.contains(&secret_part), "the API key leaked:\n{text}");
    }
}
