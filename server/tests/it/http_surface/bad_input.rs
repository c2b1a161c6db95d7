//! Bad input gets a clear 4xx and changes nothing.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_gets_a_clear_4xx_and_changes_nothing() {
    let site = site().await;
    // One real order first, so that "changes nothing" has something to keep.
    let key = "k".repeat(32);
    let (status, headers, _) = site
        .post(
            "/api/checkout",
            FORM,
            format!("checkout_key={key}&email=shopper%40example.com"),
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
            format!(
                "checkout_key={}&email=shopper%40example.com",
                "e".repeat(32)
            ),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/checkout",
            FORM,
            format!(
                "checkout_key={}&email=shopper%40example.com",
                "g".repeat(32)
            ),
            Some("cart=%3Cscript%3E.1"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        // No e-mail address, or one that is not: refused, nothing stored.
        (
            "/api/checkout",
            FORM,
            format!("checkout_key={}", "k".repeat(32)),
            Some("cart=mug.1"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/checkout",
            FORM,
            format!("checkout_key={}&email=shopper%40localhost", "l".repeat(32)),
            Some("cart=mug.1"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/checkout",
            FORM,
            format!(
                "checkout_key={}&email=a%40example.com%0D%0ABcc%3A+x%40example.com",
                "m".repeat(32)
            ),
            Some("cart=mug.1"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        // The same key again, with another cart.
        (
            "/api/checkout",
            FORM,
            format!("checkout_key={key}&email=shopper%40example.com"),
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
