//! Security headers, body and header limits, caching, cross-site requests, and what is not reachable over HTTP.

use super::*;

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
                "/api/checkout" => format!(
                    "checkout_key={}&email=shopper%40example.com",
                    "c".repeat(32)
                ),
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
