//! The emulator over raw HTTP: Mollie's shapes, status codes, idempotency,
//! expiry, webhook retries and the fault controls.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Form, Router};
use mollie_emulator::{Emulator, Faults, PaymentStatus};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub(crate) const KEY: &str = "Bearer test_emulatortests";

pub(crate) async fn emulator(
    configure: impl FnOnce(&mut mollie_emulator::EmulatorConfig),
) -> Emulator {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Emulator::serve(listener, |c| {
        c.allowed_origins = vec!["https://shop.example".into()];
        configure(c)
    })
    .await
    .unwrap()
    .0
}

/// An authenticated API call; its status and JSON body (null if none).
pub(crate) async fn call(method: reqwest::Method, url: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method, url)
        .header("authorization", KEY);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub(crate) fn create_body(webhook: Option<&str>) -> Value {
    let mut body = json!({
        "amount": { "currency": "EUR", "value": "10.00" },
        "description": "Order 1",
        "redirectUrl": "https://shop.example/orders/1",
        "metadata": { "order_id": "ord_1" },
    });
    if let Some(url) = webhook {
        body["webhookUrl"] = json!(url);
    }
    body
}

pub(crate) async fn create(
    emulator: &Emulator,
    body: &Value,
    key: Option<&str>,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(format!("{}/payments", emulator.api_base_url()))
        .header("authorization", KEY)
        .json(body);
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    request.send().await.unwrap()
}

/// The payment as the API returns it now, through its `_links.self`.
async fn refetch(payment: &Value) -> Value {
    reqwest::Client::new()
        .get(payment["_links"]["self"]["href"].as_str().unwrap())
        .header("authorization", KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

pub(crate) fn assert_error_document(body: &Value, status: u16) {
    assert_eq!(body["status"], status);
    assert!(
        body["title"].is_string() && body["detail"].is_string(),
        "{body}"
    );
    assert!(
        body["_links"]["documentation"]["href"].is_string(),
        "{body}"
    );
}

#[tokio::test]
async fn create_answers_201_with_mollies_payment_shape() {
    let emulator = emulator(|_| {}).await;
    let response = create(&emulator, &create_body(None), None).await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["content-type"], "application/hal+json");
    let body: Value = response.json().await.unwrap();
    // Required by the OpenAPI document in every payment response.
    for field in [
        "resource",
        "id",
        "mode",
        "createdAt",
        "amount",
        "description",
        "status",
        "profileId",
        "sequenceType",
        "_links",
    ] {
        assert!(!body[field].is_null(), "{field} missing in {body}");
    }
    for link in ["self", "dashboard", "checkout"] {
        assert!(
            body["_links"][link]["href"].is_string(),
            "_links.{link} missing"
        );
    }
    let id = body["id"].as_str().unwrap();
    assert!(
        id.len() == 13
            && id.starts_with("tr_")
            && id[3..].chars().all(|c| c.is_ascii_alphanumeric())
    );
    assert_eq!(
        (body["resource"].as_str(), body["mode"].as_str()),
        (Some("payment"), Some("test"))
    );
    assert_eq!(body["status"], "open");
    assert_eq!(body["isCancelable"], true);
    assert!(body["createdAt"].as_str().unwrap().ends_with("+00:00"));
    assert!(body["expiresAt"].is_string());
    assert_eq!(
        body["amount"],
        json!({ "currency": "EUR", "value": "10.00" })
    );
}

#[tokio::test]
async fn errors_use_mollies_status_codes_and_documents() {
    let emulator = emulator(|_| {}).await;
    let http = reqwest::Client::new();
    let url = format!("{}/payments", emulator.api_base_url());

    for authorization in [
        None,
        Some("Bearer live_abc"),
        Some("Bearer test_"),
        Some("Basic dGVzdA=="),
    ] {
        let mut request = http.post(&url).json(&create_body(None));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401);
        assert_error_document(&response.json().await.unwrap(), 401);
    }

    let cases = [
        (
            json!({ "amount": { "currency": "EUR", "value": "10" } }),
            "amount.value",
        ),
        (
            json!({ "amount": { "currency": "EUR", "value": "10.001" } }),
            "amount.value",
        ),
        (
            json!({ "amount": { "currency": "JPY", "value": "10.00" } }),
            "amount.value",
        ),
        (
            json!({ "amount": { "currency": "XXX", "value": "10.00" } }),
            "amount.currency",
        ),
        (json!({ "amount": null }), "amount"),
        (json!({ "redirectUrl": null }), "redirectUrl"),
        (
            json!({ "redirectUrl": "javascript:alert(1)" }),
            "redirectUrl",
        ),
        (json!({ "description": "" }), "description"),
        (json!({ "webhookUrl": "not a url" }), "webhookUrl"),
        (json!({ "testmode": true }), "testmode"),
    ];
    for (patch, field) in cases {
        let mut body = create_body(None);
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        let response = create(&emulator, &body, None).await;
        assert_eq!(response.status(), 422, "{patch}");
        let document: Value = response.json().await.unwrap();
        assert_error_document(&document, 422);
        assert_eq!(document["field"], field, "{patch}");
    }
    assert_eq!(emulator.payments_created(), 0);

    let response = http
        .get(format!(
            "{}/payments/tr_nosuchpaymnt",
            emulator.api_base_url()
        ))
        .header("authorization", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_error_document(&response.json().await.unwrap(), 404);
}

#[tokio::test]
async fn idempotency_keys_replay_the_first_answer() {
    let emulator = emulator(|_| {}).await;
    let first = create(&emulator, &create_body(None), Some("same-key")).await;
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    let again = create(&emulator, &create_body(None), Some("same-key")).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap()["id"], first["id"]);
    let mut other = create_body(None);
    other["description"] = json!("Another order");
    assert_eq!(
        create(&emulator, &other, Some("same-key")).await.status(),
        400
    );
    assert_eq!(emulator.payments_created(), 1);
}

#[tokio::test]
async fn open_payments_expire_after_the_configured_time() {
    let emulator = emulator(|c| c.payment_ttl = Duration::from_millis(200)).await;
    let body: Value = create(&emulator, &create_body(None), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["status"], "open");
    // A read past the TTL expires it: poll until a read sees that.
    let body = &body;
    let now = eventually(|| async move {
        let now = refetch(body).await;
        (now["status"] != "open").then_some(now)
    })
    .await;
    assert_eq!(now["status"], "expired");
    assert!(now["expiredAt"].is_string());
    assert!(now["_links"]["checkout"].is_null() && now["isCancelable"].is_null());
}

/// A webhook receiver that answers from a script of status codes.
#[derive(Clone, Default)]
pub(crate) struct Receiver {
    pub(crate) calls: Arc<Mutex<Vec<(Instant, String)>>>,
    failures_left: Arc<AtomicU32>,
}

async fn receive(
    State(receiver): State<Receiver>,
    Form(form): Form<HashMap<String, String>>,
) -> StatusCode {
    receiver
        .calls
        .lock()
        .unwrap()
        .push((Instant::now(), form["id"].clone()));
    let fail = receiver
        .failures_left
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if fail {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

pub(crate) async fn receiver(failures: u32) -> (Receiver, String) {
    let receiver = Receiver::default();
    receiver.failures_left.store(failures, Ordering::SeqCst);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(receiver.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (receiver, url)
}

pub(crate) async fn paid_payment(emulator: &Emulator, hook: &str) -> String {
    let body: Value = create(emulator, &create_body(Some(hook)), None)
        .await
        .json()
        .await
        .unwrap();
    let id = body["id"].as_str().unwrap().to_owned();
    assert!(emulator.complete_payment(&id, PaymentStatus::Paid));
    id
}

/// Polls `probe` every 10 ms until it gives a value; fails after 5 s.
pub(crate) async fn eventually<T, F: Future<Output = Option<T>>>(
    mut probe: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Polls `done` until it holds; fails after 5 s.
pub(crate) async fn wait_until(mut done: impl FnMut() -> bool) {
    eventually(|| std::future::ready(done().then_some(()))).await;
}

#[tokio::test]
async fn webhooks_are_retried_on_mollies_schedule_until_200() {
    // 0.001: the schedule's first retries come after 60, 120 and 240 ms.
    let emulator = emulator(|c| c.time_factor = 0.001).await;
    let (receiver, hook) = receiver(2).await;
    let id = paid_payment(&emulator, &hook).await;
    wait_until(|| receiver.calls.lock().unwrap().len() == 3).await;
    // Checks that nothing more comes, so it must wait: a fourth call would
    // come 240 ms after the third (4 min times 0.001); 400 ms covers it.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let calls = receiver.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 3, "no call after the 200");
    assert!(calls.iter().all(|(_, called_id)| *called_id == id));
    let gaps: Vec<_> = calls.windows(2).map(|w| w[1].0 - w[0].0).collect();
    assert!(
        gaps[0] >= Duration::from_millis(55) && gaps[1] >= Duration::from_millis(115),
        "{gaps:?}"
    );
    assert_eq!(emulator.webhook_calls(), 3);
}

#[tokio::test]
async fn faults_drop_duplicate_and_delay_webhooks() {
    let emulator = emulator(|c| c.time_factor = 0.001).await;
    let (receiver, hook) = receiver(0).await;

    emulator.set_faults(Faults {
        drop_next_webhooks: 1,
        ..Faults::default()
    });
    paid_payment(&emulator, &hook).await;
    // Checks that the webhook does not come, so it must wait: without a
    // delay fault a sent one arrives within milliseconds; 200 ms covers it.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        receiver.calls.lock().unwrap().len(),
        0,
        "a dropped webhook was sent"
    );

    emulator.set_faults(Faults {
        duplicate_webhooks: true,
        ..Faults::default()
    });
    paid_payment(&emulator, &hook).await;
    wait_until(|| receiver.calls.lock().unwrap().len() == 2).await;

    emulator.set_faults(Faults {
        webhook_delay_ms: 300,
        ..Faults::default()
    });
    let started = Instant::now();
    paid_payment(&emulator, &hook).await;
    wait_until(|| receiver.calls.lock().unwrap().len() == 3).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn faults_are_set_over_http_and_fail_api_calls() {
    let emulator = emulator(|c| c.control_endpoints = true).await;
    let base = emulator.api_base_url().trim_end_matches("/v2").to_owned();
    let http = reqwest::Client::new();
    let response = http
        .put(format!("{base}/_emulator/faults"))
        .json(&json!({ "failNext": 1, "failStatus": 502 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let faults: Value = http
        .get(format!("{base}/_emulator/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(faults["failNext"], 1);
    let failed = create(&emulator, &create_body(None), None).await;
    assert_eq!(failed.status(), 502);
    assert_error_document(&failed.json().await.unwrap(), 502);
    assert_eq!(
        create(&emulator, &create_body(None), None).await.status(),
        201
    );
    let stats: Value = http
        .get(format!("{base}/_emulator/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            stats["paymentsCreated"].as_u64(),
            stats["apiCalls"].as_u64()
        ),
        (Some(1), Some(2))
    );
}

#[tokio::test]
async fn the_checkout_page_offers_each_outcome_and_redirects() {
    let emulator = emulator(|_| {}).await;
    let mut body = create_body(None);
    body["description"] = json!("<script>alert(1)</script>");
    let payment: Value = create(&emulator, &body, None).await.json().await.unwrap();
    let checkout = payment["_links"]["checkout"]["href"]
        .as_str()
        .unwrap()
        .to_owned();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http
        .get(&checkout)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for outcome in ["paid", "failed", "canceled", "expired", "open"] {
        assert!(page.contains(&format!("value=\"{outcome}\"")), "{outcome}");
    }
    assert!(page.contains("EUR 10.00") && page.contains("testmode"));
    assert!(
        !page.contains("<script>alert"),
        "the description is not escaped"
    );
    // The shop picked no method: the shopper picks one here.
    assert!(page.contains(r#"<option value="ideal">iDEAL</option>"#));
    let inside_the_form = |needle: &str| {
        let at = page.find(needle).unwrap_or(usize::MAX);
        page.find("<form").is_some_and(|start| start < at)
            && page.find("</form>").is_some_and(|end| at < end)
    };
    assert!(inside_the_form(r#"name="method""#), "the choice is posted");
    assert_eq!(payment["method"], Value::Null);
    let answer = http
        .post(&checkout)
        .form(&[("outcome", "canceled"), ("method", "creditcard")])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303);
    assert_eq!(
        answer.headers()["location"],
        "https://shop.example/orders/1"
    );
    let after = refetch(&payment).await;
    assert_eq!(after["status"], "canceled");
    assert_eq!(after["method"], "creditcard");
}

#[tokio::test]
async fn the_checkout_page_keeps_only_a_method_the_account_has() {
    let emulator = emulator(|_| {}).await;
    let payment: Value = create(&emulator, &create_body(None), None)
        .await
        .json()
        .await
        .unwrap();
    let checkout = payment["_links"]["checkout"]["href"].as_str().unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = http
        .post(checkout)
        .form(&[("outcome", "paid"), ("method", "<b>bitcoin</b>")])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303);
    let after = refetch(&payment).await;
    assert_eq!(after["status"], "paid");
    assert_eq!(after["method"], Value::Null);
}

#[tokio::test]
async fn control_endpoints_are_off_unless_asked_for() {
    let emulator = emulator(|_| {}).await;
    let base = emulator.api_base_url().trim_end_matches("/v2").to_owned();
    let http = reqwest::Client::new();
    let put = http
        .put(format!("{base}/_emulator/faults"))
        .json(&json!({ "failNext": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 404);
    let stats = http
        .get(format!("{base}/_emulator/stats"))
        .send()
        .await
        .unwrap();
    assert_eq!(stats.status(), 404);
    // Nothing was set: the next create works.
    assert_eq!(
        create(&emulator, &create_body(None), None).await.status(),
        201
    );
}

#[tokio::test]
async fn webhooks_and_redirects_go_only_to_loopback_or_allowed_origins() {
    let emulator = emulator(|_| {}).await;
    let cases = [
        ("webhookUrl", "http://169.254.169.254/latest/meta-data"),
        ("webhookUrl", "https://evil.example/hook"),
        ("redirectUrl", "https://evil.example/phish"),
        ("cancelUrl", "https://shop.example.evil.example/"),
    ];
    for (field, url) in cases {
        let mut body = create_body(None);
        body[field] = json!(url);
        let refused = create(&emulator, &body, None).await;
        assert_eq!(refused.status(), 422, "{field} {url}");
        let document: Value = refused.json().await.unwrap();
        assert_eq!(document["field"], field, "{url}");
    }
    assert_eq!(emulator.payments_created(), 0);
    let allowed = create(
        &emulator,
        &create_body(Some("http://127.0.0.1:9/webhooks/mollie")),
        None,
    )
    .await;
    assert_eq!(allowed.status(), 201);
}

#[tokio::test]
async fn a_locale_is_kept_and_one_mollie_does_not_know_is_refused_with_its_field() {
    let emulator = emulator(|_| {}).await;
    let mut body = create_body(None);
    body["locale"] = json!("nl_BE");
    let created: Value = create(&emulator, &body, None).await.json().await.unwrap();
    assert_eq!(created["locale"], "nl_BE");
    for unknown in [json!("nl-BE"), json!("xx_XX"), json!(7)] {
        body["locale"] = unknown;
        let response = create(&emulator, &body, None).await;
        assert_eq!(response.status(), 422);
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["field"], "locale");
    }
}
