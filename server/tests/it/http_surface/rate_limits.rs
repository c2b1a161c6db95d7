//! Per-client rate limits on checkouts and webhooks.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn checkouts_and_webhooks_are_rate_limited_per_client() {
    let site = site_with(&[
        "--checkout-rate-per-minute",
        "3",
        "--webhook-rate-per-second",
        "5",
    ])
    .await;
    let mut statuses = Vec::new();
    for n in 0..5 {
        let (status, headers, text) = site
            .post(
                "/api/checkout",
                FORM,
                format!(
                    "checkout_key={}&email=shopper%40example.com",
                    format!("{n}").repeat(32)
                ),
                Some("cart=mug.1"),
            )
            .await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
            assert!((1..=20).contains(&wait), "{wait}");
            assert!(text.contains("Too many requests"), "{text}");
        }
        statuses.push(status);
    }
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    assert_eq!(
        site.footprint().await,
        (3, 3),
        "refused checkouts made payments"
    );
    // Pay-again shares the checkout budget.
    let (status, _, _) = site
        .post(
            "/api/pay_again",
            FORM,
            "order_id=ord_00000000000000000000000000000000",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // Pages and the cart are not limited.
    assert_eq!(site.get("/").await.0, StatusCode::OK);

    let mut webhook = Vec::new();
    for _ in 0..8 {
        let (status, _, _) = site
            .post("/webhooks/mollie", FORM, "id=tr_unknown0000", None)
            .await;
        webhook.push(status);
    }
    let limited = webhook
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!((1..=3).contains(&limited), "{webhook:?}");
    assert!(
        webhook[..5].iter().all(|s| *s == StatusCode::OK),
        "{webhook:?}"
    );
}
