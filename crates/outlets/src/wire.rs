//! An event as receivers get it (the event bus's `detail`, the owner's
//! webhook's body): JSON, one shape for every type, documented with an
//! example per type in docs/events.md (a test keeps the two equal).

use checkout::{Event, EventKind, EVENT_SCHEMA_VERSION};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;

#[derive(Serialize)]
struct WireEvent<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    version: u32,
    occurred_at: String,
    order_id: &'a str,
    attempt_id: &'a str,
    amount: WireAmount,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refund_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chargeback_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    incident: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    capture_before: Option<String>,
}

/// As Mollie writes amounts: a decimal string and an ISO 4217 code.
#[derive(Serialize)]
struct WireAmount {
    value: String,
    currency: &'static str,
}

/// The event's JSON.
pub fn to_json(event: &Event) -> String {
    let (mut status, mut refund_id, mut chargeback_id, mut incident) = (None, None, None, None);
    let mut capture_before = None;
    match event.kind() {
        EventKind::OrderPaid | EventKind::StockOversold | EventKind::WithdrawalReceived => {}
        EventKind::PaymentFailed { status: s } => status = Some(s.as_str()),
        EventKind::RefundSettled { refund_id: id } => refund_id = Some(id.as_str()),
        EventKind::RefundFailed {
            refund_id: id,
            status: s,
        } => {
            refund_id = Some(id.as_str());
            status = Some(s.as_str());
        }
        EventKind::ChargebackReceived { chargeback_id: id }
        | EventKind::ChargebackReversed { chargeback_id: id } => chargeback_id = Some(id.as_str()),
        EventKind::IncidentRecorded { incident: kind } => incident = Some(kind.as_str()),
        EventKind::AuthorizationExpiring { capture_before: at } => {
            capture_before = Some(rfc3339(*at));
        }
    }
    let wire = WireEvent {
        id: event.id().as_str(),
        kind: event.kind().name(),
        version: EVENT_SCHEMA_VERSION,
        occurred_at: rfc3339(event.occurred_at()),
        order_id: event.order_id().as_str(),
        attempt_id: event.attempt_id().as_str(),
        amount: WireAmount {
            value: event.amount().to_decimal_string(),
            currency: event.amount().currency().code(),
        },
        status,
        refund_id,
        chargeback_id,
        incident,
        capture_before,
    };
    serde_json::to_string(&wire).unwrap_or_else(|e| unreachable!("plain fields serialize: {e}"))
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&Rfc3339)
        .unwrap_or_else(|e| unreachable!("a UTC time formats: {e}"))
}
