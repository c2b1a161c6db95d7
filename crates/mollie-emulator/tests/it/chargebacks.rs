//! Chargebacks over raw HTTP: received and reversed through the control
//! endpoints (Mollie's test mode cannot), read through Mollie's API shapes,
//! and the payment's webhook called for each.

use crate::api::{assert_error_document, call, emulator, paid_payment, receiver, wait_until};
use serde_json::json;

#[tokio::test]
async fn a_chargeback_is_received_listed_and_reversed_with_its_webhooks() {
    let emulator = emulator(|c| c.control_endpoints = true).await;
    let api = emulator.api_base_url();
    let base = api.trim_end_matches("/v2");
    let (receiver, hook) = receiver(0).await;
    let id = paid_payment(&emulator, &hook).await;
    wait_until(|| receiver.calls.lock().unwrap().len() == 1).await;

    let (status, chargeback) = call(
        reqwest::Method::POST,
        &format!("{base}/_emulator/payments/{id}/chargebacks"),
        Some(json!({
            "amount": { "currency": "EUR", "value": "4.00" },
            "reason": { "code": "AC01", "description": "Account identifier incorrect" },
        })),
    )
    .await;
    assert_eq!(status, 201, "{chargeback}");
    let chb = chargeback["id"].as_str().unwrap().to_owned();
    assert!(chb.starts_with("chb_"));
    assert_eq!(chargeback["resource"], "chargeback");
    assert_eq!(chargeback["paymentId"], id.as_str());
    assert_eq!(
        chargeback["settlementAmount"],
        json!({"currency": "EUR", "value": "-4.00"})
    );
    assert_eq!(chargeback["reason"]["code"], "AC01");
    assert!(chargeback["reversedAt"].is_null());
    wait_until(|| receiver.calls.lock().unwrap().len() == 2).await;

    // The payment stays paid, with what was charged back and what remains.
    let (_, payment) = call(
        reqwest::Method::GET,
        &format!("{api}/payments/{id}?embed=chargebacks"),
        None,
    )
    .await;
    assert_eq!(payment["status"], "paid");
    assert_eq!(
        payment["amountChargedBack"],
        json!({"currency": "EUR", "value": "4.00"})
    );
    assert_eq!(
        payment["amountRemaining"],
        json!({"currency": "EUR", "value": "6.00"})
    );
    assert_eq!(payment["_embedded"]["chargebacks"][0]["id"], chb.as_str());
    assert!(payment["_links"]["chargebacks"]["href"].is_string());
    for url in [
        format!("{api}/payments/{id}/chargebacks"),
        format!("{api}/chargebacks"),
    ] {
        let (status, list) = call(reqwest::Method::GET, &url, None).await;
        assert_eq!(status, 200);
        assert_eq!(list["count"], 1);
        assert_eq!(list["_embedded"]["chargebacks"][0]["id"], chb.as_str());
    }
    let one = format!("{api}/payments/{id}/chargebacks/{chb}");
    assert_eq!(call(reqwest::Method::GET, &one, None).await.0, 200);
    let (status, missing) = call(
        reqwest::Method::GET,
        &format!("{api}/payments/{id}/chargebacks/chb_nope"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_error_document(&missing, 404);

    // More than remains cannot be charged back or refunded.
    let (status, refused) = call(
        reqwest::Method::POST,
        &format!("{base}/_emulator/payments/{id}/chargebacks"),
        Some(json!({ "amount": { "currency": "EUR", "value": "6.01" } })),
    )
    .await;
    assert_eq!((status, refused["field"].as_str()), (422, Some("amount")));
    let (status, refused) = call(
        reqwest::Method::POST,
        &format!("{api}/payments/{id}/refunds"),
        Some(json!({ "amount": { "currency": "EUR", "value": "6.01" } })),
    )
    .await;
    assert_eq!(status, 422, "{refused}");

    // Reversed once: the money is back, and the webhook is called.
    let reverse = format!("{base}/_emulator/chargebacks/{chb}/reverse");
    assert_eq!(call(reqwest::Method::POST, &reverse, None).await.0, 204);
    assert_eq!(call(reqwest::Method::POST, &reverse, None).await.0, 422);
    wait_until(|| receiver.calls.lock().unwrap().len() == 3).await;
    let (_, chargeback) = call(reqwest::Method::GET, &one, None).await;
    assert!(chargeback["reversedAt"].is_string());
    let (_, payment) = call(reqwest::Method::GET, &format!("{api}/payments/{id}"), None).await;
    assert_eq!(
        payment["amountRemaining"],
        json!({"currency": "EUR", "value": "10.00"})
    );
}

#[tokio::test]
async fn only_a_paid_payment_is_charged_back_and_only_with_control_endpoints() {
    let emulator = emulator(|_| {}).await;
    let (_receiver, hook) = receiver(0).await;
    let id = paid_payment(&emulator, &hook).await;
    let base = emulator.api_base_url().trim_end_matches("/v2").to_owned();
    let (status, _) = call(
        reqwest::Method::POST,
        &format!("{base}/_emulator/payments/{id}/chargebacks"),
        None,
    )
    .await;
    assert_eq!(status, 404, "the control endpoint is off");
    // Through the Rust API: all that remains, once.
    let chargeback = emulator.charge_back(&id, None).unwrap();
    assert!(emulator.charge_back(&id, None).is_err(), "nothing remains");
    assert!(emulator.reverse_chargeback(&chargeback));
    assert!(emulator.charge_back("tr_unknown", None).is_err());
}
