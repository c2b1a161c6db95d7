//! E-mail and events on AWS: SES v2 sends the MIME message lettre builds
//! (with a configuration set, so bounces and complaints reach the
//! account's suppression list), and EventBridge carries every event on the
//! shop's own bus, so an owner's fulfilment subscribes with a rule.
//!
//! Errors keep the service's error code only, never its message: SES's
//! messages can name the recipient, and a delivery's error is stored on
//! its outbox entry and logged.

use async_trait::async_trait;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, RawMessage};
use checkout::{Cause, Channel, DeadLetters, DeliveryError, Event, EventSink, MailMessage, Mailer};
use lettre::message::Mailbox;
use std::time::SystemTime;

/// Where the shop's events come from, as EventBridge rules match them.
pub const EVENT_SOURCE: &str = "shop";
/// The detail-type of an event a channel gave up on (the dead letters).
pub const GAVE_UP_DETAIL_TYPE: &str = "delivery.gave_up";

/// The shared AWS configuration: the standard credential chain, optionally
/// another endpoint (moto server).
pub async fn sdk_config(endpoint_url: Option<&str>) -> aws_config::SdkConfig {
    // A send has 5 s in all (each try 2 s): a deliverer's pass and a
    // Lambda answer that waits for it stay bounded.
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .operation_timeout(std::time::Duration::from_secs(5))
        .operation_attempt_timeout(std::time::Duration::from_secs(2))
        .build();
    let mut loader =
        aws_config::defaults(aws_config::BehaviorVersion::latest()).timeout_config(timeouts);
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// A service error by its code alone.
#[derive(Debug, thiserror::Error)]
#[error("{service} refused: {code}")]
struct Refused {
    service: &'static str,
    code: String,
}

fn refused<E: aws_sdk_sesv2::error::ProvideErrorMetadata>(
    service: &'static str,
    error: &E,
) -> DeliveryError {
    let code = error.code().unwrap_or("no error code").to_owned();
    DeliveryError(Cause::new(Refused { service, code }))
}

/// Sends through SES v2.
pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
    from: Mailbox,
    configuration_set: Option<String>,
}

impl SesMailer {
    pub fn new(
        config: &aws_config::SdkConfig,
        from: Mailbox,
        configuration_set: Option<String>,
    ) -> Self {
        Self {
            client: aws_sdk_sesv2::Client::new(config),
            from,
            configuration_set,
        }
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, message: &MailMessage) -> Result<Option<String>, DeliveryError> {
        let raw = crate::mail::build_message(&self.from, message)?.formatted();
        let raw = RawMessage::builder()
            .data(Blob::new(raw))
            .build()
            .map_err(|e| DeliveryError(Cause::new(e)))?;
        let sent = self
            .client
            .send_email()
            .from_email_address(self.from.email.to_string())
            .destination(
                Destination::builder()
                    .to_addresses(message.to.expose())
                    .build(),
            )
            .content(EmailContent::builder().raw(raw).build())
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await
            .map_err(|e| refused("SES", &e))?;
        Ok(sent.message_id)
    }
}

/// Puts each event on the shop's bus: source [`EVENT_SOURCE`], detail-type
/// the event's type, detail its JSON ([`crate::wire`]).
pub struct EventBridgeSink {
    client: aws_sdk_eventbridge::Client,
    bus: String,
}

impl EventBridgeSink {
    /// `bus`: the bus's name or ARN.
    pub fn new(config: &aws_config::SdkConfig, bus: impl Into<String>) -> Self {
        Self {
            client: aws_sdk_eventbridge::Client::new(config),
            bus: bus.into(),
        }
    }

    async fn put(
        &self,
        detail_type: &str,
        detail: String,
        time: SystemTime,
    ) -> Result<(), DeliveryError> {
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(EVENT_SOURCE)
            .detail_type(detail_type)
            .detail(detail)
            .time(time.into())
            .build();
        let answer = self
            .client
            .put_events()
            .entries(entry)
            .send()
            .await
            .map_err(|e| refused("EventBridge", &e))?;
        // PutEvents answers 200 with failed entries in the body.
        if answer.failed_entry_count() > 0 {
            let code = answer
                .entries()
                .iter()
                .find_map(|e| e.error_code())
                .unwrap_or("a failed entry")
                .to_owned();
            return Err(DeliveryError(Cause::new(Refused {
                service: "EventBridge",
                code,
            })));
        }
        Ok(())
    }
}

#[async_trait]
impl EventSink for EventBridgeSink {
    async fn publish(&self, event: &Event) -> Result<(), DeliveryError> {
        let time = SystemTime::from(event.occurred_at());
        self.put(event.kind().name(), crate::wire::to_json(event), time)
            .await
    }
}

#[async_trait]
impl DeadLetters for EventBridgeSink {
    async fn gave_up(
        &self,
        event: &Event,
        channel: Channel,
        tries: u32,
    ) -> Result<(), DeliveryError> {
        let detail = serde_json::json!({
            "channel": channel.as_str(),
            "tries": tries,
            "event": serde_json::from_str::<serde_json::Value>(&crate::wire::to_json(event))
                .unwrap_or_else(|e| unreachable!("the wire JSON reads back: {e}")),
        });
        self.put(GAVE_UP_DETAIL_TYPE, detail.to_string(), SystemTime::now())
            .await
    }
}
