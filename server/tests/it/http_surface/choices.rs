//! What the shopper chose goes with the payment: language and method.

use super::*;

/// The payment a checkout sent the shopper to (its page's URL ends in the
/// payment's id), as the emulator's dashboard reads it.
async fn payment_at_the_provider(site: &Site, checkout_url: &str) -> serde_json::Value {
    let payment = checkout_url.rsplit('/').next().unwrap();
    let emulator = site.shop.emulator.as_ref().unwrap();
    site.http
        .get(format!("{}/payments/{payment}", emulator.api_base_url()))
        .header("authorization", "Bearer test_dashboard")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The checkout page speaks the shopper's language: the browser's most
/// preferred one that Mollie supports goes with the payment as `locale`.
#[tokio::test]
async fn the_payment_carries_the_shoppers_language() {
    let site = site().await;
    for (accepted, expected) in [
        (Some("nl-BE,nl;q=0.9,en;q=0.8"), Some("nl_BE")),
        (Some("ja,de;q=0.5"), Some("de_DE")),
        (Some("ja"), None),
        (None, None),
    ] {
        let (status, headers, _) = site
            .post(
                "/api/cart/add",
                "application/x-www-form-urlencoded",
                "article_id=mug&quantity=1",
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let cart = headers["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let mut request = site
            .http
            .post(format!("{}/api/checkout", site.base))
            .header(COOKIE, cart)
            .form(&[
                (
                    "checkout_key",
                    checkout::CheckoutKey::generate().to_string(),
                ),
                ("email", "shopper@example.com".to_owned()),
            ]);
        if let Some(accepted) = accepted {
            request = request.header("accept-language", accepted);
        }
        let response = request.send().await.unwrap();
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            location.rsplit('/').next().unwrap().starts_with("tr_"),
            "{location}"
        );
        let stored = payment_at_the_provider(&site, &location).await;
        assert_eq!(stored["locale"].as_str(), expected, "{accepted:?}");
    }
}

/// The cart offers the methods Mollie offers for its total; the one the
/// shopper picks goes with the payment, and one not offered is refused
/// before anything is stored or created.
#[tokio::test]
async fn the_cart_offers_payment_methods_and_the_pick_goes_with_the_payment() {
    let site = site().await;
    let response = site
        .http
        .post(format!("{}/api/cart/add", site.base))
        .form(&[("article_id", "mug"), ("quantity", "1")])
        .send()
        .await
        .unwrap();
    let cart_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let cart: serde_json::Value = response.json().await.unwrap();
    let methods = cart["methods_html"].as_str().unwrap();
    // €14.50: below Klarna's minimum.
    assert!(methods.contains(r#"value="ideal""#), "{methods}");
    assert!(!methods.contains(r#"value="klarna""#), "{methods}");
    assert!(methods.contains("/images/methods/ideal.svg"), "{methods}");

    let checkout = |method: &'static str| {
        site.http
            .post(format!("{}/api/checkout", site.base))
            .header(COOKIE, &cart_cookie)
            .form(&[
                (
                    "checkout_key",
                    checkout::CheckoutKey::generate().to_string(),
                ),
                ("email", "shopper@example.com".to_owned()),
                ("method", method.to_owned()),
            ])
            .send()
    };
    let emulator = site.shop.emulator.as_ref().unwrap();
    let created_before = emulator.payments_created();
    let refused = checkout("klarna").await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("cannot pay this order"));
    assert_eq!(emulator.payments_created(), created_before);

    let response = checkout("ideal").await.unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let stored = payment_at_the_provider(&site, &location).await;
    assert_eq!(stored["method"], "ideal");
}
