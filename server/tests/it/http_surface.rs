//! The whole server (pages, server functions, webhook, mounted emulator)
//! over real HTTP: security headers, body limits, and bad input that must
//! get a clear 4xx and change nothing.

use reqwest::header::{HeaderMap, CONTENT_TYPE, COOKIE};
use reqwest::StatusCode;
use server::config::Timing;
use server::Application;
use std::sync::Arc;

struct Site {
    base: String,
    shop: Arc<Application>,
    http: reqwest::Client,
    _data: tempfile::TempDir,
}

async fn site() -> Site {
    site_with(&[]).await
}

/// The whole server as `main` serves it, configured by `args` (flags).
async fn site_with(args: &[&str]) -> Site {
    let mut all = vec!["--store", "embedded"];
    all.extend_from_slice(args);
    let served = crate::common::serve(&all, Timing::default()).await;
    Site {
        base: served.base_url,
        shop: served.shop,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        _data: served.data,
    }
}

impl Site {
    async fn post(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<String>,
        cookie: Option<&str>,
    ) -> (StatusCode, HeaderMap, String) {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header(CONTENT_TYPE, content_type)
            .body(body.into());
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        let response = request.send().await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        (status, headers, response.text().await.unwrap())
    }

    async fn post_with(
        &self,
        path: &str,
        body: &str,
        headers: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, String) {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header(CONTENT_TYPE, FORM)
            .body(body.to_owned());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        (status, headers, response.text().await.unwrap())
    }

    async fn get(&self, path: &str) -> (StatusCode, HeaderMap, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("origin", "https://evil.example")
            .send()
            .await
            .unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        (status, headers, response.text().await.unwrap())
    }

    /// What a bad request must not change: attempts not final yet (every
    /// checkout makes one) and payments at the provider.
    async fn footprint(&self) -> (usize, u64) {
        // Every attempt not final is due a check by then.
        let far_future = time::OffsetDateTime::now_utc() + time::Duration::days(3650);
        let open = self
            .shop
            .service
            .due_attempts(far_future, 100_000)
            .await
            .unwrap()
            .len();
        (
            open,
            self.shop.emulator.as_ref().unwrap().payments_created(),
        )
    }
}

const FORM: &str = "application/x-www-form-urlencoded";

#[tokio::test(flavor = "multi_thread")]
async fn every_page_has_the_security_headers_and_no_cors() {
    let site = site().await;
    for path in [
        "/",
        "/orders/ord_00000000000000000000000000000000",
        "/no/such/page",
        "/health",
    ] {
        let (status, headers, body) = site.get(path).await;
        assert!(
            status.is_success() || status == StatusCode::NOT_FOUND,
            "{path}: {status}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(
            headers["referrer-policy"], "strict-origin-when-cross-origin",
            "{path}"
        );
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert!(
            headers.get("access-control-allow-origin").is_none(),
            "{path}: CORS header"
        );
        if path == "/health" {
            continue;
        }
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert!(policy.contains("default-src 'self'") && policy.contains("object-src 'none'"));
        // The policy's nonce is the one on the page's inline scripts.
        let nonce = policy
            .split("'nonce-")
            .nth(1)
            .unwrap()
            .split('\'')
            .next()
            .unwrap();
        assert!(nonce.len() >= 16, "{nonce}");
        assert!(
            body.contains(&format!("nonce=\"{nonce}\"")),
            "{path}: script nonce differs"
        );
    }
    let (_, first, _) = site.get("/").await;
    let (_, second, _) = site.get("/").await;
    assert_ne!(
        first["content-security-policy"], second["content-security-policy"],
        "nonces repeat"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_bodies_are_refused() {
    let site = site().await;
    let big = "a".repeat(100 * 1024);
    for path in ["/webhooks/mollie", "/api/cart/add", "/api/checkout"] {
        let sent = site
            .http
            .post(format!("{}{path}", site.base))
            .header(CONTENT_TYPE, FORM)
            .body(format!("id={big}"))
            .send()
            .await;
        match sent {
            Ok(response) => assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE, "{path}"),
            // The server answers 413 without reading the rest, and may close
            // the connection while the client is still sending it.
            Err(error) => assert!(
                error.is_request() || error.is_body() || error.is_connect(),
                "{path}: {error}"
            ),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_gets_a_clear_4xx_and_changes_nothing() {
    let site = site().await;
    // One real order first, so that "changes nothing" has something to keep.
    let key = "k".repeat(32);
    let (status, headers, _) = site
        .post(
            "/api/checkout",
            FORM,
            format!("checkout_key={key}"),
            Some("cart=mug.2"),
        )
        .await;
    // As a script sees it: 200 with the checkout page in Location.
    assert_eq!(status, StatusCode::OK, "the good checkout");
    let checkout_url = headers["location"].to_str().unwrap().to_owned();
    let before = site.footprint().await;
    assert_eq!(before, (1, 1));

    let script = "%3Cscript%3Ealert(1)%3C%2Fscript%3E";
    let cases: Vec<(&str, &str, String, Option<&str>, StatusCode)> = vec![
        (
            "/api/cart/add",
            FORM,
            "article_id=unicorn&quantity=1".into(),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/cart/add",
            FORM,
            "article_id=mug&quantity=0".into(),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/cart/add",
            FORM,
            "article_id=mug&quantity=-5".into(),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/cart/add",
            FORM,
            "article_id=mug&quantity=100".into(),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/cart/add",
            FORM,
            "article_id=mug&quantity=99999999999999999999999".into(),
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/cart/add",
            FORM,
            "article_id=mug&quantity=two".into(),
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/cart/add",
            FORM,
            "quantity=1".into(),
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/cart/add",
            FORM,
            format!("article_id={script}&quantity=1"),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/cart/add",
            FORM,
            "article_id=mug&quantity=60".into(),
            Some("cart=mug.60"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/cart/update",
            FORM,
            "article_id=tote&quantity=-1".into(),
            Some("cart=tote.1"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/checkout",
            FORM,
            "checkout_key=short".into(),
            Some("cart=mug.1"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/checkout",
            FORM,
            format!("checkout_key={script}"),
            Some("cart=mug.1"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/checkout",
            FORM,
            format!("checkout_key={}", "e".repeat(32)),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/checkout",
            FORM,
            format!("checkout_key={}", "g".repeat(32)),
            Some("cart=%3Cscript%3E.1"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        // The same key again, with another cart.
        (
            "/api/checkout",
            FORM,
            format!("checkout_key={key}"),
            Some("cart=tote.1"),
            StatusCode::CONFLICT,
        ),
        (
            "/api/checkout",
            "application/json",
            format!("{{\"checkout_key\":\"{}\"}}", "j".repeat(32)),
            Some("cart=mug.1"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/pay_again",
            FORM,
            "order_id=../../etc/passwd".into(),
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/pay_again",
            FORM,
            "order_id=ord_00000000000000000000000000000000".into(),
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/order_status",
            FORM,
            "order_id=not-an-order".into(),
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/no_such_function",
            FORM,
            "x=1".into(),
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            "/webhooks/mollie",
            FORM,
            "nothing=here".into(),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/webhooks/mollie",
            "application/json",
            "{\"id\":\"tr_x\"}".into(),
            None,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "/webhooks/mollie",
            "text/plain",
            "id=tr_x".into(),
            None,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        // Documented: unknown payment ids get 200 and change nothing.
        (
            "/webhooks/mollie",
            FORM,
            "id=tr_unknown0000".into(),
            None,
            StatusCode::OK,
        ),
        (
            "/webhooks/mollie",
            FORM,
            format!("id={script}"),
            None,
            StatusCode::OK,
        ),
    ];
    assert!(cases.len() >= 20);
    for (path, content_type, body, cookie, expected) in &cases {
        let (status, headers, text) = site.post(path, content_type, body.clone(), *cookie).await;
        assert_eq!(status, *expected, "{path} {body} {cookie:?}: {text}");
        assert!(
            headers
                .get("set-cookie")
                .is_none_or(|_| status.is_success()),
            "{path}: a refused change set a cookie"
        );
        assert!(
            !text.contains("<script>"),
            "{path}: input echoed unescaped: {text}"
        );
    }
    for path in [
        "/orders/not-an-order",
        "/orders/ord_00000000000000000000000000000000",
    ] {
        assert_eq!(site.get(path).await.0, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(
        site.footprint().await,
        before,
        "bad input changed the store or made a payment"
    );
    // The real order is untouched: its checkout page still answers.
    let (status, _, _) = site.get(checkout_url.trim_start_matches(&site.base)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn per_shopper_pages_are_never_cached_and_https_gets_hsts_and_secure_cookies() {
    let site = site().await;
    for path in ["/", "/orders/ord_00000000000000000000000000000000"] {
        let (_, headers, _) = site.get(path).await;
        assert_eq!(headers["cache-control"], "no-store, private", "{path}");
        assert!(headers.get("strict-transport-security").is_none(), "{path}");
    }
    let (_, headers, _) = site
        .post("/api/cart/add", FORM, "article_id=mug&quantity=1", None)
        .await;
    assert_eq!(headers["cache-control"], "no-store, private");
    let cookie = headers["set-cookie"].to_str().unwrap();
    assert!(!cookie.contains("Secure"), "{cookie}");

    let behind_https = site_with(&[
        "--public-url",
        "https://shop.example",
        "--provider",
        "emulator",
    ])
    .await;
    let (_, headers, _) = behind_https.get("/").await;
    assert!(headers["strict-transport-security"]
        .to_str()
        .unwrap()
        .starts_with("max-age="));
    let (_, headers, _) = behind_https
        .post("/api/cart/add", FORM, "article_id=mug&quantity=1", None)
        .await;
    let cookie = headers["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
}

#[tokio::test(flavor = "multi_thread")]
async fn cross_site_state_changes_are_refused() {
    let site = site().await;
    let cases: [&[(&str, &str)]; 4] = [
        &[("sec-fetch-site", "cross-site")],
        &[("sec-fetch-site", "same-site")],
        &[("origin", "https://evil.example")],
        &[("origin", "null")],
    ];
    for headers in cases {
        for path in ["/api/cart/add", "/api/checkout", "/api/pay_again"] {
            let body = match path {
                "/api/cart/add" => "article_id=mug&quantity=1".to_owned(),
                "/api/checkout" => format!("checkout_key={}", "c".repeat(32)),
                _ => "order_id=ord_00000000000000000000000000000000".to_owned(),
            };
            let (status, response_headers, _) = site.post_with(path, &body, headers).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path} {headers:?}");
            assert!(response_headers.get("set-cookie").is_none(), "{path}");
        }
    }
    assert_eq!(
        site.footprint().await,
        (0, 0),
        "a refused request changed something"
    );
    // Our own pages' forms, with or without the fetch metadata.
    for headers in [
        &[("sec-fetch-site", "same-origin")][..],
        &[("origin", site.base.as_str())][..],
        &[][..],
    ] {
        let (status, response_headers, _) = site
            .post_with("/api/cart/add", "article_id=mug&quantity=1", headers)
            .await;
        assert_eq!(status, StatusCode::OK, "{headers:?}");
        assert!(response_headers.get("set-cookie").is_some());
    }
}

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
                format!("checkout_key={}", format!("{n}").repeat(32)),
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
        let body = format!("checkout_key={}", format!("{n}").repeat(32));
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

/// A refused plain form post comes back to its page with the refusal in
/// the link; only links the shop signed show it. The same link without
/// its signature (anyone can make one, with words of their own) shows the
/// page without it.
#[tokio::test(flavor = "multi_thread")]
async fn a_page_shows_only_refusals_the_shop_wrote() {
    let site = site().await;
    for (page, function, form, words) in [
        (
            "/",
            "/api/cart/add",
            "article_id=unicorn&quantity=1",
            "We do not sell that article.",
        ),
        (
            "/admin",
            "/api/admin/sign_in",
            "name=nobody&password=not+the+password",
            "Wrong name or password.",
        ),
    ] {
        let refused = site
            .http
            .post(format!("{}{function}", site.base))
            .header(CONTENT_TYPE, FORM)
            .header("referer", format!("{}{page}", site.base))
            // As a browser posts a form without JavaScript.
            .header("accept", "text/html")
            .body(form)
            .send()
            .await
            .unwrap();
        assert!(
            refused.status().is_redirection(),
            "{function}: {}",
            refused.status()
        );
        let location = refused.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            location.contains("__err=") && location.contains("__sig="),
            "{location}"
        );
        let shown = |url: String| {
            let http = site.http.clone();
            async move { http.get(url).send().await.unwrap().text().await.unwrap() }
        };
        assert!(
            shown(location.clone()).await.contains(words),
            "{page}: ours is shown"
        );
        let unsigned: String = location.split("&__sig=").next().unwrap().to_owned();
        let body = shown(unsigned).await;
        assert!(
            !body.contains(words),
            "{page}: an unsigned refusal was shown"
        );
    }
}

/// leptos builds the redirect of a refused form post from the Referer: a
/// Referer that already carries a refusal (absolute, or relative, which
/// leptos passes on as it is) must not get the attacker's refusal signed.
#[tokio::test(flavor = "multi_thread")]
async fn a_referer_cannot_smuggle_a_refusal_into_a_signed_link() {
    let site = site().await;
    let planted = "__path=%2Fapi%2Fadmin%2Fsign_in&__err=UExBTlRFRA";
    for referer in [format!("{}/?{planted}", site.base), format!("/?{planted}")] {
        let response = site
            .http
            .post(format!("{}/api/cart/add", site.base))
            .header(CONTENT_TYPE, FORM)
            .header("accept", "text/html")
            .header("referer", &referer)
            .body("article_id=unicorn&quantity=1")
            .send()
            .await
            .unwrap();
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        assert!(!location.contains("UExBTlRFRA"), "{referer}: {location}");
        assert!(!location.contains("sign_in"), "{referer}: {location}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_emulator_control_endpoints_are_off_unless_asked_for() {
    let site = site().await;
    assert_eq!(
        site.get("/mollie/_emulator/stats").await.0,
        StatusCode::NOT_FOUND
    );
    let (status, _, _) = site.post_with("/mollie/_emulator/faults", "{}", &[]).await;
    assert!(status.is_client_error(), "{status}");
    let with_control = site_with(&["--emulator-control", "true"]).await;
    assert_eq!(
        with_control.get("/mollie/_emulator/stats").await.0,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_that_never_finishes_its_headers_is_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let site = site_with(&["--header-read-timeout-ms", "300"]).await;
    let mut slow = tokio::net::TcpStream::connect(site.base.trim_start_matches("http://"))
        .await
        .unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut buffer = Vec::new();
    // Without the timeout this read would wait forever.
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        slow.read_to_end(&mut buffer),
    )
    .await
    .expect("the server closed the connection");
    assert!(read.is_ok() || buffer.is_empty());
    let answer = String::from_utf8_lossy(&buffer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    // Others are still served.
    assert_eq!(site.get("/").await.0, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_scheduled_event_route_is_not_reachable_over_http() {
    let site = site().await;
    for body in [
        "{}",
        r#"{"source":"aws.events","detail-type":"Scheduled Event"}"#,
    ] {
        let (status, _, _) = site
            .post("/events", "application/json", body.to_owned(), None)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    }
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
            .form(&[(
                "checkout_key",
                checkout::CheckoutKey::generate().to_string(),
            )]);
        if let Some(accepted) = accepted {
            request = request.header("accept-language", accepted);
        }
        let response = request.send().await.unwrap();
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let payment = location.rsplit('/').next().unwrap();
        assert!(payment.starts_with("tr_"), "{location}");
        let emulator = site.shop.emulator.as_ref().unwrap();
        let stored: serde_json::Value = site
            .http
            .get(format!("{}/payments/{payment}", emulator.api_base_url()))
            .header("authorization", "Bearer test_dashboard")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
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
    let payment = location.rsplit('/').next().unwrap();
    let stored: serde_json::Value = site
        .http
        .get(format!("{}/payments/{payment}", emulator.api_base_url()))
        .header("authorization", "Bearer test_dashboard")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stored["method"], "ideal");
}
