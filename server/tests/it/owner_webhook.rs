//! The owner's webhook as its receiver sees it: each event arrives signed,
//! and the recipe in docs/events.md (written here again, independently of
//! the signer) verifies it; a replayed or altered body fails. While the
//! receiver is down the events wait, and once it is back they arrive in
//! the order they were created. Past the retry budget, the event lands in
//! the dead-letter queue through the bus and the stack's rule (moto).

use crate::common::{harness_configured, Harness, StoreKind};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use checkout::{OrderStatus, ReconcilePolicy};
use hmac::{Hmac, Mac};
use mollie_emulator::PaymentStatus;
use sha2::Sha256;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SECRET: &str = "the owner's webhook secret, 32+ characters long";
/// The value before a rotation: receivers that still hold it verify too.
const PREVIOUS: &str = "the secret before the rotation, 32+ characters";

#[derive(Default)]
struct Receiver {
    down: AtomicBool,
    received: Mutex<Vec<(HeaderMap, String)>>,
}

async fn receive(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    if receiver.down.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    receiver.received.lock().unwrap().push((headers, body));
    StatusCode::NO_CONTENT
}

/// docs/events.md's recipe: `t` within five minutes of `now`, and `v1` the
/// hex HMAC-SHA256 of `{t}.{body}` under the secret, compared in constant
/// time.
fn verify(secret: &str, header: &str, body: &str, now: i64) -> bool {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v1)) => signatures.push(v1.to_owned()),
            _ => {}
        }
    }
    let Some(t) = timestamp else { return false };
    if (now - t).abs() > 300 {
        return false;
    }
    signatures.iter().any(|v1| {
        let Ok(expected) = hex::decode(v1) else {
            return false;
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.{body}").as_bytes());
        mac.verify_slice(&expected).is_ok()
    })
}

/// A receiver on loopback and a shop that sends its events there, signed
/// with `previous` too when given (a rotation settling).
async fn shop_with_receiver(previous: Option<&str>) -> (Harness, Arc<Receiver>) {
    shop_with_receiver_and(previous, &[]).await
}

/// [`shop_with_receiver`], with more flags in `args`.
async fn shop_with_receiver_and(previous: Option<&str>, args: &[&str]) -> (Harness, Arc<Receiver>) {
    let receiver = Arc::new(Receiver::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/shop-events", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/shop-events", axum::routing::post(receive))
        .with_state(receiver.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let shop = harness_configured(
        StoreKind::Embedded,
        ReconcilePolicy::default(),
        &[&["--owner-webhook-url", url.as_str()], args].concat(),
        |config| {
            config.owner_webhook_secret = Some(server::config::WebhookSecrets {
                current: SECRET.to_owned().into(),
                previous: previous.map(|p| p.to_owned().into()),
            })
        },
    )
    .await;
    (shop, receiver)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_owners_webhook_is_signed_and_waits_out_an_outage_in_order() {
    let (shop, receiver) = shop_with_receiver(Some(PREVIOUS)).await;

    receiver.down.store(true, Ordering::SeqCst);
    let mut orders = Vec::new();
    for _ in 0..3 {
        let (order_id, payment) = shop.buy().await;
        assert!(shop
            .emulator
            .complete_payment(&payment, PaymentStatus::Paid));
        shop.wait_for(&order_id, OrderStatus::Paid, Duration::from_secs(10))
            .await;
        orders.push(order_id);
    }
    // Down: the first fails and holds the others back; nothing is lost.
    let pass = shop.deliver().await;
    assert_eq!(pass.failed, 1, "{pass:?}");
    assert!(receiver.received.lock().unwrap().is_empty());
    let pass = shop.deliver().await;
    assert_eq!(pass.failed, 0, "not due again yet: {pass:?}");

    // Back, and the retry due: all three, in the order they were made.
    receiver.down.store(false, Ordering::SeqCst);
    shop.clock.advance(Duration::from_secs(60));
    shop.deliver().await;
    let received = receiver.received.lock().unwrap().clone();
    let order_ids: Vec<String> = received
        .iter()
        .map(|(_, body)| {
            let event: serde_json::Value = serde_json::from_str(body).unwrap();
            assert_eq!(event["type"], "order.paid");
            assert_eq!(event["version"], 1);
            event["order_id"].as_str().unwrap().to_owned()
        })
        .collect();
    let expected: Vec<String> = orders.iter().map(ToString::to_string).collect();
    assert_eq!(order_ids, expected);

    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for (headers, body) in &received {
        let header = headers["shop-signature"].to_str().unwrap();
        let event: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(headers["shop-event-id"].to_str().unwrap(), event["id"]);
        assert!(verify(SECRET, header, body, now), "{header}");
        assert!(verify(PREVIOUS, header, body, now), "{header}");
        // Replayed ten minutes later, altered, or under another secret: no.
        assert!(!verify(SECRET, header, body, now + 600));
        let altered = body.replace("order.paid", "order.paif");
        assert!(!verify(SECRET, header, &altered, now));
        assert!(!verify(
            "another secret of at least 32 chars!!",
            header,
            body,
            now
        ));
    }

    // Delivered: a later pass sends nothing again.
    let pass = shop.deliver().await;
    assert_eq!(pass.sent, 0, "{pass:?}");
    assert_eq!(receiver.received.lock().unwrap().len(), 3);
}

/// More events than one page while the webhook is down: every shopper
/// still gets their confirmation (the waiting webhook holds only its own
/// channel, and a pass reads past the entries that only wait).
#[tokio::test(flavor = "multi_thread")]
async fn a_webhook_outage_holds_back_no_shoppers_mail() {
    let (shop, receiver) = shop_with_receiver(None).await;
    receiver.down.store(true, Ordering::SeqCst);
    const ORDERS: usize = 130;
    for _ in 0..ORDERS {
        let (_, payment) = shop.buy().await;
        assert!(shop
            .emulator
            .complete_payment(&payment, PaymentStatus::Paid));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut sent = 0;
    while sent < ORDERS {
        assert!(tokio::time::Instant::now() < deadline, "{sent} sent");
        let pass = shop.deliver().await;
        sent += pass.sent;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(shop.messages_about("thank you for your payment"), ORDERS);
    assert!(receiver.received.lock().unwrap().is_empty());
}

/// The stack's dead-letter route on moto: a bus, a queue and the rule
/// infra/ makes (source `shop`, detail type `delivery.gave_up`).
async fn dead_letter_route() -> (String, aws_sdk_sqs::Client, String) {
    let config = outlets::sdk_config(Some(&test_support::moto_endpoint())).await;
    let name = format!("shop-{}", uuid::Uuid::new_v4().simple());
    let sqs = aws_sdk_sqs::Client::new(&config);
    let queue_url = sqs
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let queue_arn = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .and_then(|a| {
            a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                .cloned()
        })
        .unwrap();
    let bridge = aws_sdk_eventbridge::Client::new(&config);
    bridge.create_event_bus().name(&name).send().await.unwrap();
    bridge
        .put_rule()
        .name("delivery-gave-up")
        .event_bus_name(&name)
        .event_pattern(r#"{"source":["shop"],"detail-type":["delivery.gave_up"]}"#)
        .send()
        .await
        .unwrap();
    bridge
        .put_targets()
        .rule("delivery-gave-up")
        .event_bus_name(&name)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("dead-letters")
                .arn(queue_arn)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    (name, sqs, queue_url)
}

/// The queue's messages, taken off it.
async fn dead_letters(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Vec<serde_json::Value> {
    let received = sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    let mut letters = Vec::new();
    for message in received.messages() {
        letters.push(serde_json::from_str(message.body().unwrap()).unwrap());
        sqs.delete_message()
            .queue_url(queue_url)
            .receipt_handle(message.receipt_handle().unwrap())
            .send()
            .await
            .unwrap();
    }
    letters
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_past_its_retry_budget_lands_in_the_dead_letter_queue() {
    let (bus, sqs, queue_url) = dead_letter_route().await;
    let endpoint = test_support::moto_endpoint();
    let (shop, receiver) =
        shop_with_receiver_and(None, &["--event-bus", &bus, "--aws-endpoint", &endpoint]).await;
    receiver.down.store(true, Ordering::SeqCst);
    let (order_id, payment) = shop.buy().await;
    assert!(shop
        .emulator
        .complete_payment(&payment, PaymentStatus::Paid));
    shop.wait_for(&order_id, OrderStatus::Paid, Duration::from_secs(10))
        .await;

    // Every try fails until the budget (24 tries, the wait capped at
    // 5 min) is spent; the last one gives up.
    let budget = checkout::RetryPolicy::default().max_tries as usize;
    let mut failed = 0;
    for _ in 0..budget {
        failed += shop.deliver().await.failed;
        shop.clock.advance(Duration::from_secs(301));
    }
    assert_eq!(failed, budget);
    let letters = dead_letters(&sqs, &queue_url).await;
    assert_eq!(letters.len(), 1, "{letters:?}");
    let detail = &letters[0]["detail"];
    assert_eq!(letters[0]["detail-type"], "delivery.gave_up");
    assert_eq!(detail["channel"], "webhook");
    assert_eq!(detail["tries"], budget);
    assert_eq!(detail["event"]["id"], format!("{order_id}:order.paid"));

    // Given up: back or not, the receiver is not tried again, and the
    // shopper's confirmation went out all along.
    receiver.down.store(false, Ordering::SeqCst);
    shop.clock.advance(Duration::from_secs(3_600));
    let pass = shop.deliver().await;
    assert_eq!((pass.sent, pass.failed), (0, 0), "{pass:?}");
    assert!(receiver.received.lock().unwrap().is_empty());
    assert!(dead_letters(&sqs, &queue_url).await.is_empty());
    assert_eq!(shop.messages_about("thank you for your payment"), 1);
}
