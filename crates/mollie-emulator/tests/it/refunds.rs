//! Refunds over raw HTTP: Mollie's shapes, what remains, duplicates,
//! idempotency, processing in time, cancellation and the webhook.

use crate::api::{assert_error_document, emulator, paid_payment, receiver, wait_until, KEY};
use mollie_emulator::{Emulator, Faults, RefundStatus};
use serde_json::{json, Value};

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn refund(
    emulator: &Emulator,
    payment: &str,
    value: &str,
    key: Option<&str>,
) -> (u16, Value) {
    let mut request = client()
        .post(format!(
            "{}/payments/{payment}/refunds",
            emulator.api_base_url()
        ))
        .header("authorization", KEY)
        .json(&json!({ "amount": { "currency": "EUR", "value": value }, "description": "Refund" }));
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn get(url: &str) -> (u16, Value) {
    let response = client()
        .get(url)
        .header("authorization", KEY)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn payment(emulator: &Emulator, id: &str) -> Value {
    get(&format!(
        "{}/payments/{id}?embed=refunds",
        emulator.api_base_url()
    ))
    .await
    .1
}

#[tokio::test]
async fn partial_refunds_add_up_to_the_payment_and_no_further() {
    let emulator = emulator(|c| c.time_factor = 0.001).await;
    let (_receiver, hook) = receiver(0).await;
    let id = paid_payment(&emulator, &hook).await;
    let before = payment(&emulator, &id).await;
    assert_eq!(
        before["amountRefunded"],
        json!({"currency": "EUR", "value": "0.00"})
    );
    assert_eq!(
        before["amountRemaining"],
        json!({"currency": "EUR", "value": "10.00"})
    );

    let (status, first) = refund(&emulator, &id, "2.50", None).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["resource"], "refund");
    assert!(first["id"].as_str().unwrap().starts_with("re_"));
    assert_eq!(first["paymentId"], id.as_str());
    assert_eq!(first["status"], "pending");
    assert_eq!(first["amount"], json!({"currency": "EUR", "value": "2.50"}));
    // More than remains: refused, nothing recorded.
    let (status, body) = refund(&emulator, &id, "7.51", None).await;
    assert_eq!(status, 422);
    assert_eq!(body["field"], "amount");
    assert_error_document(&body, 422);
    let (status, _) = refund(&emulator, &id, "7.50", None).await;
    assert_eq!(status, 201);

    let after = payment(&emulator, &id).await;
    assert_eq!(after["status"], "paid", "a refund leaves the payment paid");
    assert_eq!(after["amountRefunded"]["value"], "10.00");
    assert_eq!(after["amountRemaining"]["value"], "0.00");
    assert_eq!(after["_embedded"]["refunds"].as_array().unwrap().len(), 2);
    assert!(after["_links"]["refunds"]["href"]
        .as_str()
        .unwrap()
        .ends_with("/refunds"));
    let (_, listed) = get(&format!(
        "{}/payments/{id}/refunds",
        emulator.api_base_url()
    ))
    .await;
    assert_eq!(listed["count"], 2);
    let (_, all) = get(&format!("{}/refunds", emulator.api_base_url())).await;
    assert!(all["count"].as_u64().unwrap() >= 2);
    let (status, one) = get(first["_links"]["self"]["href"].as_str().unwrap()).await;
    assert_eq!((status, &one["id"]), (200, &first["id"]));
}

#[tokio::test]
async fn an_unpaid_payment_cannot_be_refunded() {
    let emulator = emulator(|c| c.time_factor = 0.001).await;
    let body: Value = crate::api::create(&emulator, &crate::api::create_body(None), None)
        .await
        .json()
        .await
        .unwrap();
    let id = body["id"].as_str().unwrap();
    let (status, body) = refund(&emulator, id, "1.00", None).await;
    assert_eq!((status, body["field"].as_str()), (422, Some("amount")));
    let (status, _) = refund(&emulator, "tr_unknown0000", "1.00", None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_identical_refund_is_a_conflict_and_a_key_replays() {
    let emulator = emulator(|c| c.time_factor = 0.001).await;
    let (_receiver, hook) = receiver(0).await;
    let id = paid_payment(&emulator, &hook).await;
    let (status, first) = refund(&emulator, &id, "3.00", Some("our-refund-1")).await;
    assert_eq!(status, 201);
    // The same key and body: the first refund again, nothing new.
    let (status, again) = refund(&emulator, &id, "3.00", Some("our-refund-1")).await;
    assert_eq!((status, &again["id"]), (201, &first["id"]));
    // Another key, same amount, soon after: Mollie's duplicate check.
    let (status, body) = refund(&emulator, &id, "3.00", Some("our-refund-2")).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        payment(&emulator, &id).await["amountRefunded"]["value"],
        "3.00"
    );
}

#[tokio::test]
async fn refunds_are_processed_in_time_and_the_webhook_is_called() {
    // Processed after 60 s times 0.001.
    let emulator = emulator(|c| c.time_factor = 0.001).await;
    let (receiver, hook) = receiver(0).await;
    let id = paid_payment(&emulator, &hook).await;
    wait_until(|| receiver.calls.lock().unwrap().len() == 1).await;
    let (_, created) = refund(&emulator, &id, "4.00", None).await;
    let url = created["_links"]["self"]["href"]
        .as_str()
        .unwrap()
        .to_owned();
    wait_until(|| receiver.calls.lock().unwrap().len() == 2).await;
    assert_eq!(receiver.calls.lock().unwrap()[1].1, id, "the payment's id");
    assert_eq!(get(&url).await.1["status"], "refunded");
    // Processed: no longer cancelable.
    let response = client()
        .delete(&url)
        .header("authorization", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
}

#[tokio::test]
async fn a_pending_refund_can_be_canceled_and_a_failed_one_frees_the_amount() {
    // Processing takes 60 s here: the refunds stay pending.
    let emulator = emulator(|c| c.time_factor = 1.0).await;
    let (receiver, hook) = receiver(0).await;
    let id = paid_payment(&emulator, &hook).await;
    let (_, canceled) = refund(&emulator, &id, "10.00", None).await;
    let url = canceled["_links"]["self"]["href"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = client()
        .delete(&url)
        .header("authorization", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(get(&url).await.1["status"], "canceled");

    let (_, failed) = refund(&emulator, &id, "9.00", None).await;
    let calls = receiver.calls.lock().unwrap().len();
    assert!(emulator.set_refund_status(failed["id"].as_str().unwrap(), RefundStatus::Failed));
    wait_until(|| receiver.calls.lock().unwrap().len() == calls + 1).await;
    // Neither counts: the whole amount remains.
    assert_eq!(
        payment(&emulator, &id).await["amountRemaining"]["value"],
        "10.00"
    );
}

#[tokio::test]
async fn faults_apply_to_refunds_too() {
    let emulator = emulator(|c| c.time_factor = 0.001).await;
    let (_receiver, hook) = receiver(0).await;
    let id = paid_payment(&emulator, &hook).await;
    emulator.set_faults(Faults {
        fail_next: 1,
        ..Faults::default()
    });
    let (status, _) = refund(&emulator, &id, "1.00", None).await;
    assert_eq!(status, 503);
    assert_eq!(
        payment(&emulator, &id).await["amountRefunded"]["value"],
        "0.00"
    );
}
