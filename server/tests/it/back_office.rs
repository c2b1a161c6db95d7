//! The back office over HTTP, as a browser or a script reaches it: every
//! admin server function refuses without a session (401) and from another
//! site (403), changing nothing; sign-in checks the password, is
//! rate-limited and sets a strict cookie; a signed-in refund is made once
//! and logged.

use crate::common::{
    harness, harness_with, serve_with_operators, Harness, StoreKind, OPERATOR, OPERATOR_PASSWORD,
};
use checkout::{AuditAction, AuditOutcome, OrderStatus, ReconcilePolicy, RefundId};
use mollie_emulator::PaymentStatus;
use reqwest::header::{COOKIE, SET_COOKIE};
use std::time::Duration;

fn client() -> reqwest::Client {
    // Redirects are the answer under test, not followed.
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn paid_order(shop: &Harness) -> (checkout::OrderId, String) {
    let (order_id, payment) = shop.buy().await;
    assert!(shop
        .emulator
        .complete_payment(&payment, PaymentStatus::Paid));
    shop.wait_for(&order_id, OrderStatus::Paid, Duration::from_secs(5))
        .await;
    (order_id, payment)
}

/// Signs in; the session cookie as a `Cookie` header value.
pub(crate) async fn sign_in(shop: &Harness) -> String {
    let response = client()
        .post(format!("{}/api/admin/sign_in", shop.shop_url))
        .form(&[("name", OPERATOR), ("password", OPERATOR_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success() || response.status().is_redirection(),
        "{}",
        response.status()
    );
    let set_cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    set_cookie.split(';').next().unwrap().to_owned()
}

/// Each admin server function with its form fields, for `order`.
fn back_office_calls(
    order: &str,
    refund_id: &str,
) -> Vec<(&'static str, Vec<(&'static str, String)>)> {
    vec![
        ("orders", vec![]),
        ("order", vec![("order_id", order.to_owned())]),
        ("refresh", vec![("order_id", order.to_owned())]),
        (
            "refund",
            vec![
                ("order_id", order.to_owned()),
                ("refund_id", refund_id.to_owned()),
                ("amount", "5.00".to_owned()),
                ("reason", "test".to_owned()),
                ("confirm", "yes".to_owned()),
            ],
        ),
        (
            "capture",
            vec![
                ("order_id", order.to_owned()),
                ("capture_id", checkout::CaptureId::generate().to_string()),
                ("confirm", "yes".to_owned()),
            ],
        ),
        (
            "release",
            vec![
                ("order_id", order.to_owned()),
                ("confirm", "yes".to_owned()),
            ],
        ),
        (
            "cancel",
            vec![
                ("order_id", order.to_owned()),
                ("confirm", "yes".to_owned()),
            ],
        ),
    ]
}

/// Nothing of `order` changed: no refund here or at the provider, no log.
async fn unchanged(shop: &Harness, order_id: &checkout::OrderId, payment: &str, version: u64) {
    let attempt = shop.record(order_id).await.attempts[0].clone();
    assert_eq!(attempt.version(), version);
    assert!(attempt.refunds().is_empty());
    let at_provider = shop.at_the_provider(payment).await;
    assert!(at_provider
        .get("amountRefunded")
        .is_none_or(|a| a["value"] == "0.00"));
    assert!(shop.service.audit_log(order_id).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_session_every_admin_function_answers_401_and_changes_nothing() {
    let shop = harness(StoreKind::Embedded, ReconcilePolicy::default()).await;
    let (order_id, payment) = paid_order(&shop).await;
    let version = shop.record(&order_id).await.attempts[0].version();
    let refund_id = RefundId::generate().to_string();
    let forged = format!("operator_session={OPERATOR}|99999999999");
    for cookie in [None, Some(forged.as_str())] {
        for (function, form) in back_office_calls(order_id.as_str(), &refund_id) {
            let mut request = client()
                .post(format!("{}/api/admin/{function}", shop.shop_url))
                .form(&form);
            if let Some(cookie) = cookie {
                request = request.header(COOKIE, cookie);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 401, "{function} with cookie {cookie:?}");
            let body = response.text().await.unwrap();
            assert!(
                !body.contains(order_id.as_str()),
                "{function} leaked: {body}"
            );
        }
    }
    unchanged(&shop, &order_id, &payment, version).await;

    // The pages show the sign-in form, not the orders.
    for page in ["/admin", &format!("/admin/orders/{order_id}")] {
        let html = client()
            .get(format!("{}{page}", shop.shop_url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("Sign in"), "{page}");
        assert!(!html.contains(order_id.as_str()), "{page} leaked the order");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cross_site_request_is_refused_even_with_a_session() {
    let shop = harness(StoreKind::Embedded, ReconcilePolicy::default()).await;
    let (order_id, payment) = paid_order(&shop).await;
    let version = shop.record(&order_id).await.attempts[0].version();
    let session = sign_in(&shop).await;
    let refund_id = RefundId::generate().to_string();
    for cross_site in [
        ("sec-fetch-site", "cross-site"),
        ("origin", "https://evil.example"),
    ] {
        for (function, form) in back_office_calls(order_id.as_str(), &refund_id) {
            let response = client()
                .post(format!("{}/api/admin/{function}", shop.shop_url))
                .header(COOKIE, &session)
                .header(cross_site.0, cross_site.1)
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 403, "{function} with {cross_site:?}");
        }
    }
    unchanged(&shop, &order_id, &payment, version).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_checks_the_password_and_is_rate_limited() {
    let shop = harness_with(
        StoreKind::Embedded,
        ReconcilePolicy::default(),
        &["--sign-in-rate-per-minute", "3"],
    )
    .await;
    let attempt = |password: &'static str| {
        client()
            .post(format!("{}/api/admin/sign_in", shop.shop_url))
            .form(&[("name", OPERATOR), ("password", password)])
            .send()
    };
    let wrong = attempt("not the password").await.unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(wrong.headers().get(SET_COOKIE).is_none());
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("Wrong name or password."));
    // An unknown name gets the same answer.
    let unknown = client()
        .post(format!("{}/api/admin/sign_in", shop.shop_url))
        .form(&[("name", "mallory"), ("password", OPERATOR_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 401);
    let right = attempt(OPERATOR_PASSWORD).await.unwrap();
    assert!(right.headers().get(SET_COOKIE).is_some());
    // Three a minute from one address: the fourth waits, right or wrong.
    let limited = attempt(OPERATOR_PASSWORD).await.unwrap();
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().get(SET_COOKIE).is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_in_operator_finds_an_order_and_refunds_part_of_it_once() {
    for kind in [StoreKind::Embedded, StoreKind::DynamoDb] {
        let shop = harness(kind, ReconcilePolicy::default()).await;
        let (order_id, payment) = paid_order(&shop).await;
        let session = sign_in(&shop).await;
        let call = |function: &str, form: Vec<(&str, String)>| {
            client()
                .post(format!("{}/api/admin/{function}", shop.shop_url))
                .header(COOKIE, &session)
                .form(&form)
                .send()
        };

        // Found by the Mollie payment id.
        let found: serde_json::Value = call("orders", vec![("search", payment.clone())])
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(found["operator"], OPERATOR);
        assert_eq!(found["orders"][0]["id"], order_id.as_str());

        // Without the confirmation box: refused, nothing sent.
        let refund_id = RefundId::generate();
        let mut form = vec![
            ("order_id", order_id.to_string()),
            ("refund_id", refund_id.to_string()),
            ("amount", "5.00".to_owned()),
            ("reason", "damaged in transit".to_owned()),
        ];
        assert_eq!(call("refund", form.clone()).await.unwrap().status(), 422);
        assert!(shop.record(&order_id).await.attempts[0]
            .refunds()
            .is_empty());

        // Confirmed, and submitted twice: one refund.
        form.push(("confirm", "yes".to_owned()));
        for _ in 0..2 {
            let answer = call("refund", form.clone()).await.unwrap();
            assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
        }
        let attempt = shop.record(&order_id).await.attempts[0].clone();
        assert_eq!(attempt.refunds().len(), 1);
        assert_eq!(attempt.refunds()[0].id(), &refund_id);
        assert_eq!(attempt.refunded().minor_units(), 500);
        let at_provider = shop.at_the_provider(&payment).await;
        assert_eq!(at_provider["amountRefunded"]["value"], "5.00");

        // The audit log: each submission requested and done, by alice.
        let log = shop.service.audit_log(&order_id).await.unwrap();
        assert_eq!(log.len(), 4, "{log:?}");
        assert!(log.iter().all(|e| e.operator == OPERATOR));
        assert!(matches!(
            &log[0].action,
            AuditAction::Refund { reason, .. } if reason == "damaged in transit"
        ));
        assert_eq!(log[0].outcome, AuditOutcome::Requested);
        assert_eq!(log[1].outcome, AuditOutcome::Done);

        // The order's page shows it.
        let page: serde_json::Value = call("order", vec![("order_id", order_id.to_string())])
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(page["refunded"], "€5.00");
        assert_eq!(page["attempts"][0]["refunds"][0]["amount"], "€5.00");
        assert_eq!(page["audit"].as_array().unwrap().len(), 4);

        // More than remains: refused, logged as refused, nothing sent.
        let too_much = vec![
            ("order_id", order_id.to_string()),
            ("refund_id", RefundId::generate().to_string()),
            ("amount", "1000.00".to_owned()),
            ("reason", String::new()),
            ("confirm", "yes".to_owned()),
        ];
        assert_eq!(call("refund", too_much).await.unwrap().status(), 422);
        let log = shop.service.audit_log(&order_id).await.unwrap();
        assert!(matches!(
            log.last().unwrap().outcome,
            AuditOutcome::Refused(_)
        ));
        assert_eq!(shop.record(&order_id).await.attempts[0].refunds().len(), 1);

        // Signed out: the cookie is cleared.
        let out = call("sign_out", vec![]).await.unwrap();
        let cleared = out.headers()[SET_COOKIE].to_str().unwrap();
        assert!(cleared.contains("Max-Age=0"), "{cleared}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn accounts_without_a_session_secret_or_with_a_bad_hash_stop_the_server() {
    let mut secrets = crate::common::operator_secrets();
    secrets.session_secret = None;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = <server::config::Cli as clap::Parser>::parse_from(["server"]).config;
    config.operator_secrets = secrets;
    let error =
        server::Application::build(&config, addr, std::sync::Arc::new(checkout::SystemClock))
            .await
            .err()
            .expect("refused");
    assert!(
        matches!(error, server::StartError::SessionSecretMissing),
        "{error}"
    );

    config.operator_secrets = crate::common::operator_secrets();
    config.operator_secrets.accounts = Some("alice:plaintext-password".into());
    let error =
        server::Application::build(&config, addr, std::sync::Arc::new(checkout::SystemClock))
            .await
            .err()
            .expect("refused");
    let report = checkout::error_report(&error);
    assert!(
        report.contains("SHOP_ADMIN_OPERATORS: operator accounts: alice: not an argon2id hash"),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_accounts_the_back_office_is_off() {
    let served = serve_with_operators(
        &["--provider", "emulator"],
        server::config::Timing::default(),
        server::config::OperatorSecrets::default(),
    )
    .await;
    let response = client()
        .post(format!("{}/api/admin/sign_in", served.base_url))
        .form(&[("name", OPERATOR), ("password", OPERATOR_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(response.headers().get(SET_COOKIE).is_none());
    let orders = client()
        .post(format!("{}/api/admin/orders", served.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(orders.status(), 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_list_shows_orders_newest_first_and_filters_them_by_status() {
    let shop = harness(StoreKind::Embedded, ReconcilePolicy::default()).await;
    let (paid, _) = paid_order(&shop).await;
    let (open, _) = shop.buy().await;
    let (failed, failed_payment) = shop.buy().await;
    assert!(shop
        .emulator
        .complete_payment(&failed_payment, PaymentStatus::Failed));
    shop.wait_for(
        &failed,
        OrderStatus::PaymentFailed(checkout::PaymentStatus::Failed),
        Duration::from_secs(5),
    )
    .await;
    let (charged_back, charged_back_payment) = paid_order(&shop).await;
    shop.emulator
        .charge_back(&charged_back_payment, None)
        .expect("a chargeback");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while shop.record(&charged_back).await.attempts[0]
        .chargebacks()
        .is_empty()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no chargeback arrived"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let session = sign_in(&shop).await;
    let list = |status: &'static str| {
        let session = session.clone();
        let url = format!("{}/api/admin/orders", shop.shop_url);
        async move {
            let answer: serde_json::Value = client()
                .post(url)
                .header(COOKIE, session)
                .form(&[("status", status)])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            answer["orders"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let ids =
        |orders: &[&checkout::OrderId]| orders.iter().map(|o| o.to_string()).collect::<Vec<_>>();
    assert_eq!(list("").await, ids(&[&charged_back, &failed, &open, &paid]));
    assert_eq!(list("paid").await, ids(&[&charged_back, &paid]));
    assert_eq!(list("awaiting_payment").await, ids(&[&open]));
    assert_eq!(list("failed").await, ids(&[&failed]));
    assert_eq!(list("attention").await, ids(&[&charged_back]));
    let unknown = client()
        .post(format!("{}/api/admin/orders", shop.shop_url))
        .header(COOKIE, &session)
        .form(&[("status", "everything")])
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operator_cancels_an_open_payment_and_it_is_logged() {
    let shop = harness(StoreKind::Embedded, ReconcilePolicy::default()).await;
    let (order_id, payment) = shop.buy().await;
    let session = sign_in(&shop).await;
    let cancel = || {
        client()
            .post(format!("{}/api/admin/cancel", shop.shop_url))
            .header(COOKIE, &session)
            .form(&[("order_id", order_id.as_str()), ("confirm", "yes")])
            .send()
    };
    let answer = cancel().await.unwrap();
    assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
    assert_eq!(
        shop.status(&order_id).await,
        OrderStatus::PaymentFailed(checkout::PaymentStatus::Canceled)
    );
    assert_eq!(shop.at_the_provider(&payment).await["status"], "canceled");
    // Nothing is open any more: refused, and logged so.
    assert_eq!(cancel().await.unwrap().status(), 422);
    let log = shop.service.audit_log(&order_id).await.unwrap();
    let outcomes: Vec<_> = log.iter().map(|e| e.outcome.clone()).collect();
    assert_eq!(outcomes[..2], [AuditOutcome::Requested, AuditOutcome::Done]);
    assert!(matches!(outcomes[3], AuditOutcome::Refused(_)));
    assert!(log.iter().all(|e| e.action == AuditAction::CancelPayment));
}
