//! docs/events.md shows each event type's JSON; the serializer must write
//! exactly that for the same event (a field renamed, added or dropped on
//! either side fails here).

use checkout::{
    AttemptId, Currency, Event, EventId, EventKind, EventParts, IncidentKind, Money, OrderId,
    PaymentStatus, ProviderChargebackId, RefundId, RefundStatus,
};
use time::macros::datetime;

const ORDER: &str = "ord_0123456789abcdef0123456789abcdef";
const ATTEMPT: &str = "pay_0123456789abcdef0123456789abcdef";
const REFUND: &str = "rfd_0123456789abcdef0123456789abcdef";
const CHARGEBACK: &str = "chb_n9z0tp";

fn example(name: &str) -> Event {
    let refund_id = || RefundId::parse(REFUND).unwrap();
    let chargeback_id = || ProviderChargebackId::parse(CHARGEBACK).unwrap();
    let (kind, subject, cents) = match name {
        "order.paid" => (EventKind::OrderPaid, ORDER, 2900),
        "payment.failed" => (
            EventKind::PaymentFailed {
                status: PaymentStatus::Canceled,
            },
            ATTEMPT,
            2900,
        ),
        "refund.settled" => (
            EventKind::RefundSettled {
                refund_id: refund_id(),
            },
            REFUND,
            500,
        ),
        "refund.failed" => (
            EventKind::RefundFailed {
                refund_id: refund_id(),
                status: RefundStatus::Failed,
            },
            REFUND,
            500,
        ),
        "chargeback.received" => (
            EventKind::ChargebackReceived {
                chargeback_id: chargeback_id(),
            },
            CHARGEBACK,
            2900,
        ),
        "chargeback.reversed" => (
            EventKind::ChargebackReversed {
                chargeback_id: chargeback_id(),
            },
            CHARGEBACK,
            2900,
        ),
        "incident.recorded" => (
            EventKind::IncidentRecorded {
                incident: IncidentKind::SecondPayment,
            },
            ATTEMPT,
            2900,
        ),
        "authorization.expiring" => (
            EventKind::AuthorizationExpiring {
                capture_before: datetime!(2026-12-31 10:00:00 UTC),
            },
            ATTEMPT,
            2900,
        ),
        "stock.oversold" => (EventKind::StockOversold, ATTEMPT, 2900),
        "withdrawal.received" => (EventKind::WithdrawalReceived, ORDER, 2900),
        other => panic!("no example for {other}"),
    };
    Event::from_parts(EventParts {
        id: EventId::parse(&format!("{subject}:{name}")).unwrap(),
        kind,
        order_id: OrderId::parse(ORDER).unwrap(),
        attempt_id: AttemptId::parse(ATTEMPT).unwrap(),
        amount: Money::new(cents, Currency::EUR),
        occurred_at: datetime!(2026-12-03 10:00:00 UTC),
    })
}

/// The first ```json block after the heading "#### `{name}`".
fn documented(doc: &str, name: &str) -> serde_json::Value {
    let heading = format!("#### `{name}`");
    let after = &doc[doc
        .find(&heading)
        .unwrap_or_else(|| panic!("{heading} missing"))..];
    let start = after.find("```json\n").expect("a json block") + "```json\n".len();
    let block = &after[start..];
    let end = block.find("```").expect("the block's end");
    serde_json::from_str(&block[..end]).unwrap_or_else(|e| panic!("{name}'s example: {e}"))
}

#[test]
fn every_event_type_is_written_as_docs_events_md_shows_it() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/events.md"))
        .unwrap();
    for name in EventKind::NAMES {
        let written: serde_json::Value =
            serde_json::from_str(&outlets::wire::to_json(&example(name))).unwrap();
        assert_eq!(written, documented(&doc, name), "{name}");
    }
}
