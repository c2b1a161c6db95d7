//! What reaches the logs from a caller is bounded: a webhook with a huge
//! id must not write it out (log volume and log injection).

use crate::common::{harness, StoreKind};
use checkout::ReconcilePolicy;
use mollie_emulator::PaymentStatus;
use test_support::Captured;

/// Captures this thread's logs at `level` and above while the guard lives.
/// The tests run on a current-thread runtime, which polls the whole shop's
/// tasks on this thread, so this subscriber sees them and the other tests
/// in this binary log elsewhere.
fn capture(level: tracing::Level) -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(false)
        .with_writer(captured.clone())
        .finish();
    (captured, tracing::subscriber::set_default(subscriber))
}

/// A log statement first reached by another test, on another thread, while
/// this one's subscriber was being set, can keep the "nobody listens"
/// answer tracing caches per statement (a known race in tracing-core):
/// asked again just before the action under test, every statement counts
/// this thread's subscriber.
fn listen_everywhere() {
    tracing::callsite::rebuild_interest_cache();
}

#[tokio::test]
async fn a_webhook_with_a_huge_id_logs_only_a_bounded_part_of_it() {
    let (captured, _scope) = capture(tracing::Level::TRACE);
    let shop = harness(StoreKind::Embedded, ReconcilePolicy::default()).await;
    let huge = format!("tr_{}", "A".repeat(10_000));
    let forged_line = format!("tr_x\nERROR forged log line {}", "B".repeat(5_000));
    listen_everywhere();
    for id in [&huge, &forged_line] {
        assert_eq!(shop.post_webhook(id).await, reqwest::StatusCode::OK);
    }
    let text = captured.text();
    assert!(
        text.contains("webhook ignored"),
        "nothing was logged: {text}"
    );
    assert!(!text.contains(&"A".repeat(100)), "the id was logged whole");
    assert!(!text.contains(&"B".repeat(100)), "the id was logged whole");
    assert!(
        !text.lines().any(|line| line.starts_with("ERROR forged")),
        "a caller wrote a log line"
    );
}

/// Every log line of a webhook carries the request's id (also in the
/// response) and the order, attempt and provider payment it is about.
#[tokio::test]
async fn a_webhooks_log_lines_carry_the_request_id_and_the_order() {
    let (captured, _scope) = capture(tracing::Level::INFO);
    let shop = harness(StoreKind::Embedded, ReconcilePolicy::default()).await;
    let (order_id, provider_id) = shop.buy().await;
    let attempt_id = shop.record(&order_id).await.attempts[0].id().clone();
    shop.complete_without_webhook(&provider_id, PaymentStatus::Paid);

    listen_everywhere();
    let response = reqwest::Client::new()
        .post(format!("{}/webhooks/mollie", shop.shop_url))
        .header("x-request-id", "chosen-by-the-caller")
        .form(&[("id", provider_id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        request_id.len() == 32 && request_id.chars().all(|c| c.is_ascii_hexdigit()),
        "our own id, not the caller's: {request_id}"
    );

    let text = captured.text();
    let line = text
        .lines()
        .find(|line| line.contains("payment status updated") && line.contains("status=paid"))
        .unwrap_or_else(|| panic!("no status change was logged: {text}"));
    for field in [
        format!("request_id={request_id}"),
        format!("order_id={order_id}"),
        format!("attempt_id={attempt_id}"),
        format!("provider_payment_id={provider_id}"),
    ] {
        assert!(line.contains(&field), "{field} missing from: {line}");
    }
}
