//! Authorize, then capture, over raw HTTP: `captureMode: manual`, partial
//! captures, release of the rest, and an authorization left to lapse.

use crate::api::{
    assert_error_document, call, create, create_body, emulator, receiver, wait_until,
};
use mollie_emulator::{Emulator, PaymentStatus};
use serde_json::{json, Value};
use std::time::Duration;

/// A manual-capture payment the shopper has paid: authorized.
async fn authorized_payment(emulator: &Emulator, hook: &str) -> String {
    let mut body = create_body(Some(hook));
    body["captureMode"] = json!("manual");
    let created: Value = create(emulator, &body, None).await.json().await.unwrap();
    assert_eq!(created["captureMode"], "manual");
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(emulator.complete_payment(&id, PaymentStatus::Paid));
    id
}

fn capture_of(value: &str) -> Option<Value> {
    Some(json!({ "amount": { "currency": "EUR", "value": value }, "description": "Shipped" }))
}

#[tokio::test]
async fn authorize_capture_in_part_then_release_the_rest() {
    let emulator = emulator(|c| c.time_factor = 0.001).await;
    let api = emulator.api_base_url();
    let (receiver, hook) = receiver(0).await;
    let id = authorized_payment(&emulator, &hook).await;
    wait_until(|| receiver.calls.lock().unwrap().len() == 1).await;
    let payment_url = format!("{api}/payments/{id}");
    let (_, payment) = call(reqwest::Method::GET, &payment_url, None).await;
    assert_eq!(payment["status"], "authorized");
    assert!(payment["authorizedAt"].is_string() && payment["captureBefore"].is_string());
    assert!(payment["_links"]["checkout"].is_null(), "{payment}");
    assert_eq!(payment["amountCaptured"]["value"], "0.00");

    // Nothing captured: nothing to refund yet.
    let refund = json!({ "amount": { "currency": "EUR", "value": "1.00" } });
    let refunds = format!("{payment_url}/refunds");
    assert_eq!(
        call(reqwest::Method::POST, &refunds, Some(refund.clone()))
            .await
            .0,
        422
    );

    let captures = format!("{payment_url}/captures");
    let (status, body) = call(reqwest::Method::POST, &captures, capture_of("10.01")).await;
    assert_eq!((status, body["field"].as_str()), (422, Some("amount")));
    assert_error_document(&body, 422);
    let (status, capture) = call(reqwest::Method::POST, &captures, capture_of("4.00")).await;
    assert_eq!(status, 201, "{capture}");
    assert_eq!(capture["resource"], "capture");
    assert!(capture["id"].as_str().unwrap().starts_with("cpt_"));
    assert_eq!(capture["status"], "pending");
    assert_eq!(capture["paymentId"], id.as_str());

    // It succeeds; the payment is paid (its webhook says so) with 4.00 taken.
    wait_until(|| receiver.calls.lock().unwrap().len() == 2).await;
    let (_, payment) = call(reqwest::Method::GET, &payment_url, None).await;
    assert_eq!(payment["status"], "paid");
    assert_eq!(payment["amountCaptured"]["value"], "4.00");
    assert_eq!(payment["amountRemaining"]["value"], "4.00");
    assert!(payment["_links"]["captures"]["href"].is_string());
    let (_, listed) = call(reqwest::Method::GET, &captures, None).await;
    assert_eq!(listed["count"], 1);
    assert_eq!(listed["_embedded"]["captures"][0]["status"], "succeeded");
    let one = format!("{captures}/{}", capture["id"].as_str().unwrap());
    assert_eq!(call(reqwest::Method::GET, &one, None).await.0, 200);
    // A refund is checked against what was captured.
    let more = json!({ "amount": { "currency": "EUR", "value": "4.01" } });
    assert_eq!(
        call(reqwest::Method::POST, &refunds, Some(more)).await.0,
        422
    );

    // The rest is released: no more captures, the payment stays paid.
    let release = format!("{payment_url}/release-authorization");
    assert_eq!(call(reqwest::Method::POST, &release, None).await.0, 202);
    assert_eq!(call(reqwest::Method::POST, &release, None).await.0, 422);
    assert_eq!(
        call(reqwest::Method::POST, &captures, capture_of("1.00"))
            .await
            .0,
        422
    );
    let (_, payment) = call(reqwest::Method::GET, &payment_url, None).await;
    assert_eq!(payment["status"], "paid");
    assert!(payment["captureBefore"].is_null());
}

#[tokio::test]
async fn a_released_authorization_cancels_and_a_lapsed_one_expires() {
    let emulator = emulator(|c| {
        c.time_factor = 0.001;
        // 2 s here: time enough to release the first one under load.
        c.authorization_valid_for = Duration::from_secs(2_000);
    })
    .await;
    let api = emulator.api_base_url();
    let (receiver, hook) = receiver(0).await;

    let released = authorized_payment(&emulator, &hook).await;
    let release = format!("{api}/payments/{released}/release-authorization");
    assert_eq!(call(reqwest::Method::POST, &release, None).await.0, 202);
    let (_, payment) = call(
        reqwest::Method::GET,
        &format!("{api}/payments/{released}"),
        None,
    )
    .await;
    assert_eq!(payment["status"], "canceled");

    let lapsed = authorized_payment(&emulator, &hook).await;
    // Authorized, canceled; authorized, expired (on time: nobody asked):
    // four webhooks.
    wait_until(|| receiver.calls.lock().unwrap().len() == 4).await;
    let (_, payment) = call(
        reqwest::Method::GET,
        &format!("{api}/payments/{lapsed}"),
        None,
    )
    .await;
    assert_eq!(payment["status"], "expired");
    let captures = format!("{api}/payments/{lapsed}/captures");
    assert_eq!(
        call(reqwest::Method::POST, &captures, capture_of("1.00"))
            .await
            .0,
        422
    );
}

#[tokio::test]
async fn a_capture_mode_mollie_does_not_know_is_refused_with_its_field() {
    let emulator = emulator(|_| {}).await;
    let mut body = create_body(None);
    body["captureMode"] = json!("later");
    let response = create(&emulator, &body, None).await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["field"], "captureMode");
    // An automatic payment has nothing to capture.
    let (_receiver, hook) = receiver(0).await;
    let paid = crate::api::paid_payment(&emulator, &hook).await;
    let captures = format!("{}/payments/{paid}/captures", emulator.api_base_url());
    assert_eq!(call(reqwest::Method::POST, &captures, None).await.0, 422);
}
