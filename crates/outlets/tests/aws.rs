//! SES and EventBridge on a real AWS-compatible server (moto, started by
//! scripts/test.sh): a message from a verified domain is sent, one from
//! another is refused without the recipient in the error; an event is put
//! on an existing bus, and one for a bus that is not there fails.

use checkout::{
    AttemptId, Currency, EmailAddress, Event, EventId, EventKind, EventParts, EventSink,
    MailMessage, Mailer, Money, OrderId,
};
use outlets::{sdk_config, EventBridgeSink, SesMailer};

fn message() -> MailMessage {
    MailMessage {
        to: EmailAddress::parse("shopper@example.com").unwrap(),
        subject: "Order 01234567: thank you for your payment".into(),
        text: "Thank you.".into(),
        html: "<p>Thank you.</p>".into(),
    }
}

fn event() -> Event {
    let order_id = OrderId::generate();
    Event::from_parts(EventParts {
        id: EventId::parse(&format!("{order_id}:order.paid")).unwrap(),
        kind: EventKind::OrderPaid,
        order_id,
        attempt_id: AttemptId::generate(),
        amount: Money::new(2900, Currency::EUR),
        occurred_at: time::OffsetDateTime::now_utc(),
    })
}

#[tokio::test]
async fn ses_sends_from_a_verified_domain_only() {
    let config = sdk_config(Some(&test_support::moto_endpoint())).await;
    let domain = format!("shop-{}.test", uuid::Uuid::new_v4().simple());
    aws_sdk_sesv2::Client::new(&config)
        .create_email_identity()
        .email_identity(&domain)
        .send()
        .await
        .unwrap();
    let from = format!("Shop <shop@{domain}>").parse().unwrap();
    let sent = SesMailer::new(&config, from, None)
        .send(&message())
        .await
        .unwrap();
    assert!(sent.is_some_and(|id| !id.is_empty()));

    let unverified = "Shop <shop@unverified.test>".parse().unwrap();
    let refused = SesMailer::new(&config, unverified, None)
        .send(&message())
        .await
        .unwrap_err();
    let report = checkout::error_report(&refused);
    assert!(report.contains("SES refused"), "{report}");
    assert!(!report.contains("shopper@example.com"), "{report}");
}

#[tokio::test]
async fn eventbridge_takes_events_on_an_existing_bus_only() {
    let config = sdk_config(Some(&test_support::moto_endpoint())).await;
    let bus = format!("shop-{}", uuid::Uuid::new_v4().simple());
    aws_sdk_eventbridge::Client::new(&config)
        .create_event_bus()
        .name(&bus)
        .send()
        .await
        .unwrap();
    EventBridgeSink::new(&config, &bus)
        .publish(&event())
        .await
        .unwrap();
    let missing = EventBridgeSink::new(&config, "no-such-bus")
        .publish(&event())
        .await;
    assert!(missing.is_err(), "{missing:?}");
}
