//! Payment methods over raw HTTP: `GET /v2/methods` by amount and
//! currency, a create that picks one, and one that cannot take the amount.

use crate::api::{call, create, create_body, emulator};
use serde_json::{json, Value};

fn ids(list: &Value) -> Vec<&str> {
    list["_embedded"]["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn methods_are_listed_by_what_they_can_take() {
    let emulator = emulator(|_| {}).await;
    let api = emulator.api_base_url();
    let (status, ten_euros) = call(
        reqwest::Method::GET,
        &format!("{api}/methods?amount[value]=10.00&amount[currency]=EUR&locale=nl_NL"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    // Klarna starts at €35.00.
    assert_eq!(
        ids(&ten_euros),
        [
            "ideal",
            "creditcard",
            "bancontact",
            "paypal",
            "banktransfer"
        ]
    );
    let ideal = &ten_euros["_embedded"]["methods"][0];
    assert_eq!(ideal["resource"], "method");
    assert_eq!(ideal["description"], "iDEAL");
    assert_eq!(
        ideal["minimumAmount"],
        json!({ "currency": "EUR", "value": "0.01" })
    );
    let image = ideal["image"]["svg"].as_str().unwrap();
    let svg = reqwest::get(image).await.unwrap();
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");

    let (_, hundred) = call(
        reqwest::Method::GET,
        &format!("{api}/methods?amount[value]=100.00&amount[currency]=EUR"),
        None,
    )
    .await;
    assert!(ids(&hundred).contains(&"klarna"));
    let (_, dollars) = call(
        reqwest::Method::GET,
        &format!("{api}/methods?amount[value]=10.00&amount[currency]=USD"),
        None,
    )
    .await;
    assert_eq!(ids(&dollars), ["creditcard", "paypal"]);
    let (status, bad) = call(
        reqwest::Method::GET,
        &format!("{api}/methods?amount[value]=10&amount[currency]=EUR"),
        None,
    )
    .await;
    assert_eq!((status, bad["field"].as_str()), (422, Some("amount.value")));
}

#[tokio::test]
async fn a_create_may_pick_a_method_that_can_take_the_amount() {
    let emulator = emulator(|_| {}).await;
    let mut body = create_body(None);
    body["method"] = json!("ideal");
    let created: Value = create(&emulator, &body, None).await.json().await.unwrap();
    assert_eq!(created["method"], "ideal");
    for (method, why) in [("klarna", "below its minimum"), ("cash", "unknown")] {
        body["method"] = json!(method);
        let response = create(&emulator, &body, None).await;
        assert_eq!(response.status(), 422, "{why}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["field"], "method", "{why}");
    }
}
