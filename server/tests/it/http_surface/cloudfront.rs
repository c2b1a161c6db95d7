//! Behind CloudFront: only CloudFront gets in, and the viewer is the client.

use super::*;

const ORIGIN_SECRET: &str = "an origin secret only CloudFront knows, 40+";

#[tokio::test(flavor = "multi_thread")]
async fn behind_cloudfront_only_cloudfront_gets_in_and_the_viewer_is_the_client() {
    let served = crate::common::serve_configured(
        &[
            "--store",
            "embedded",
            "--client-address",
            "cloudfront",
            "--checkout-rate-per-minute",
            "2",
        ],
        Timing::default(),
        |config| {
            config.origin_secret =
                Some(server::security::OriginSecret::new(ORIGIN_SECRET).unwrap());
        },
    )
    .await;
    let site = Site {
        base: served.base_url,
        shop: served.shop,
        http: reqwest::Client::new(),
        _data: served.data,
    };
    // Around CloudFront (API Gateway's own endpoint): no secret, or a wrong one.
    for headers in [
        vec![],
        vec![(
            "x-origin-verify",
            "a guess of forty characters or more.....",
        )],
    ] {
        for path in ["/", "/health", "/api/checkout", "/webhooks/mollie"] {
            let mut request = site
                .http
                .post(format!("{}{path}", site.base))
                .header(CONTENT_TYPE, FORM);
            if path == "/" || path == "/health" {
                request = site.http.get(format!("{}{path}", site.base));
            }
            for (name, value) in &headers {
                request = request.header(*name, *value);
            }
            let response = request.body("id=tr_unknown0000").send().await.unwrap();
            assert_eq!(
                response.status(),
                StatusCode::FORBIDDEN,
                "{path} {headers:?}"
            );
        }
    }
    assert_eq!(
        site.footprint().await,
        (0, 0),
        "a refused request changed something"
    );

    // Through CloudFront: the same edge (the last X-Forwarded-For entry)
    // for every viewer; each viewer has their own checkout budget.
    let checkout = |viewer: &'static str, n: usize| {
        let headers = [
            ("x-origin-verify", ORIGIN_SECRET),
            ("x-forwarded-for", "198.51.100.7, 130.176.1.1"),
            ("cloudfront-viewer-address", viewer),
            ("cookie", "cart=mug.1"),
        ];
        let body = format!(
            "checkout_key={}&email=shopper%40example.com",
            format!("{n}").repeat(32)
        );
        let site = &site;
        async move { site.post_with("/api/checkout", &body, &headers).await.0 }
    };
    let first = "198.51.100.7:40000";
    let second = "2001:db8:3333:4444:5555:6666:7777:8888:443";
    let second_same_64 = "2001:db8:3333:4444::1:443";
    assert_eq!(checkout(first, 1).await, StatusCode::OK);
    assert_eq!(checkout(first, 2).await, StatusCode::OK);
    assert_eq!(checkout(first, 3).await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        checkout(second, 4).await,
        StatusCode::OK,
        "another viewer, the same edge"
    );
    assert_eq!(checkout(second_same_64, 5).await, StatusCode::OK);
    assert_eq!(
        checkout(second_same_64, 6).await,
        StatusCode::TOO_MANY_REQUESTS,
        "one /64 is one client"
    );
    let (status, _, body) = site
        .post_with(
            "/webhooks/mollie",
            "id=tr_unknown0000",
            &[("x-origin-verify", ORIGIN_SECRET)],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!body.contains(ORIGIN_SECRET));
}

#[test]
fn the_cloudfront_client_address_needs_the_origin_secret() {
    use clap::Parser;
    let config =
        server::config::Cli::parse_from(["server", "--client-address", "cloudfront"]).config;
    let problems = config
        .resolve(
            "127.0.0.1:3000".parse().unwrap(),
            server::config::KeySetting::None,
        )
        .unwrap_err()
        .to_string();
    assert!(
        problems.contains("SHOP_CLIENT_ADDRESS=cloudfront needs the origin secret"),
        "{problems}"
    );
}
