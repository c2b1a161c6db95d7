//! What both stores write of orders and attempts: the storage schema, mapped
//! to and from the domain's types here, so the domain carries no schema.
//! A field skipped when empty reads back empty (`default`). Fields that
//! records from before they existed lack read as what those records meant
//! (`default`): a record is never unreadable for its age.

use checkout::{
    ArticleId, AttemptId, AttemptParts, CaptureMode, Channel, Chargeback, DeliveryState,
    EmailAddress, Event, EventId, EventKind, EventParts, HoldState, Incident, IncidentKind, Money,
    Order, OrderId, OrderLine, OrderParts, OutboxEntry, OutboxParts, PaymentAttempt, PaymentStatus,
    ProviderChargebackId, ProviderPaymentId, ProviderRefundId, Refund, RefundId, RefundParts,
    RefundStatus, StatusSeen, StockHold, Units, VatRate, Withdrawal,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredOrder {
    id: OrderId,
    lines: Vec<StoredOrderLine>,
    total: Money,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(default = "first_version")]
    version: u64,
    /// Absent once erased, and in orders from before the shop asked.
    /// The text as typed; read back leniently (see `From<StoredOrder>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shopper_email: Option<String>,
}

fn first_version() -> u64 {
    1
}

impl StoredOrder {
    /// How many attempts the order has had (one more with each).
    #[cfg(feature = "dynamodb")]
    pub(crate) fn version(&self) -> u64 {
        self.version
    }
}

#[derive(Serialize, Deserialize)]
struct StoredOrderLine {
    article_id: ArticleId,
    name: String,
    quantity: u32,
    unit_price: Money,
    line_total: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vat_rate: Option<VatRate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sku: Option<String>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredAttempt {
    id: AttemptId,
    order_id: OrderId,
    amount: Money,
    status: PaymentStatus,
    provider_payment_id: Option<ProviderPaymentId>,
    checkout_url: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
    version: u64,
    #[serde(default, with = "time::serde::rfc3339::option")]
    create_started_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    next_check_at: Option<OffsetDateTime>,
    #[serde(default)]
    checks: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    incident: Option<StoredIncident>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    refunds: Vec<StoredRefund>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    chargebacks: Vec<StoredChargeback>,
    #[serde(default)]
    capture_mode: CaptureMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    captured: Option<Money>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    capture_before: Option<OffsetDateTime>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    capture_warned_at: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stock: Option<StoredStockHold>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    withdrawal: Option<StoredWithdrawal>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    history: Vec<StoredStatusSeen>,
}

/// The shopper's name is personal data, like the order's address.
#[derive(Serialize, Deserialize)]
struct StoredWithdrawal {
    name: String,
    #[serde(with = "time::serde::rfc3339")]
    received_at: OffsetDateTime,
}

#[derive(Serialize, Deserialize)]
struct StoredStockHold {
    units: Vec<StoredUnits>,
    state: HoldState,
}

#[derive(Serialize, Deserialize)]
struct StoredUnits {
    article_id: ArticleId,
    quantity: u32,
}

#[derive(Serialize, Deserialize)]
struct StoredIncident {
    kind: IncidentKind,
    #[serde(with = "time::serde::rfc3339")]
    recorded_at: OffsetDateTime,
}

#[derive(Serialize, Deserialize)]
struct StoredRefund {
    id: RefundId,
    provider_refund_id: Option<ProviderRefundId>,
    amount: Money,
    status: RefundStatus,
    #[serde(default)]
    from_provider: bool,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    made_at: Option<OffsetDateTime>,
}

#[derive(Serialize, Deserialize)]
struct StoredChargeback {
    id: ProviderChargebackId,
    amount: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    reversed_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    recorded_at: OffsetDateTime,
}

#[derive(Serialize, Deserialize)]
struct StoredStatusSeen {
    status: PaymentStatus,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
}

/// `From` both ways between a domain type and the record that stores it,
/// which have the same fields: the first list moves as it is, the second
/// converts (an `Option` or `Vec` of a type that has its own record). Both
/// sides are destructured, so a field added to either fails to compile
/// until it is stored.
macro_rules! same_fields {
    ($domain:ident <=> $stored:ident { $($same:ident),* ; $($converted:ident),* }) => {
        impl From<$domain> for $stored {
            fn from(value: $domain) -> Self {
                let $domain { $($same,)* $($converted,)* } = value;
                Self { $($same,)* $($converted: $converted.convert(),)* }
            }
        }
        impl From<$stored> for $domain {
            fn from(value: $stored) -> Self {
                let $stored { $($same,)* $($converted,)* } = value;
                Self { $($same,)* $($converted: $converted.convert(),)* }
            }
        }
    };
}

/// An `Option` or `Vec` of one side, as the other's.
trait Convert<T> {
    fn convert(self) -> T;
}

impl<A: Into<B>, B> Convert<Option<B>> for Option<A> {
    fn convert(self) -> Option<B> {
        self.map(Into::into)
    }
}

impl<A: Into<B>, B> Convert<Vec<B>> for Vec<A> {
    fn convert(self) -> Vec<B> {
        self.into_iter().map(Into::into).collect()
    }
}

impl From<OrderParts> for StoredOrder {
    fn from(parts: OrderParts) -> Self {
        let OrderParts {
            id,
            lines,
            total,
            created_at,
            version,
            shopper_email,
        } = parts;
        Self {
            id,
            lines: lines.convert(),
            total,
            created_at,
            version,
            shopper_email: shopper_email.map(|e| e.expose().to_owned()),
        }
    }
}

impl From<StoredOrder> for OrderParts {
    /// An address that no longer passes the check (a stricter rule in a
    /// later release) reads as none: the order stays readable, and only
    /// its messages to the shopper are not sent.
    fn from(stored: StoredOrder) -> Self {
        let StoredOrder {
            id,
            lines,
            total,
            created_at,
            version,
            shopper_email,
        } = stored;
        let shopper_email = shopper_email.and_then(|text| {
            let parsed = EmailAddress::parse(&text).ok();
            if parsed.is_none() {
                tracing::warn!(order_id = %id, "a stored shopper address no longer reads as one; no messages to the shopper");
            }
            parsed
        });
        Self {
            id,
            lines: lines.convert(),
            total,
            created_at,
            version,
            shopper_email,
        }
    }
}
same_fields!(OrderLine <=> StoredOrderLine {
    article_id, name, quantity, unit_price, line_total, vat_rate, sku;
});
same_fields!(AttemptParts <=> StoredAttempt {
    id, order_id, amount, status, provider_payment_id, checkout_url, created_at, updated_at,
    version, create_started_at, next_check_at, checks, capture_mode, captured, capture_before,
    capture_warned_at, method;
    incident, refunds, chargebacks, stock, withdrawal, history
});
same_fields!(Withdrawal <=> StoredWithdrawal { name, received_at; });
same_fields!(StockHold <=> StoredStockHold { state; units });
same_fields!(Units <=> StoredUnits { article_id, quantity; });
same_fields!(Incident <=> StoredIncident { kind, recorded_at; });
same_fields!(StatusSeen <=> StoredStatusSeen { status, at; });
same_fields!(RefundParts <=> StoredRefund {
    id, provider_refund_id, amount, status, from_provider, created_at, made_at;
});
same_fields!(Chargeback <=> StoredChargeback { id, amount, reason, reversed_at, recorded_at; });

impl From<&Order> for StoredOrder {
    fn from(order: &Order) -> Self {
        order.to_parts().into()
    }
}

impl From<StoredOrder> for Order {
    fn from(stored: StoredOrder) -> Self {
        Order::from_parts(stored.into())
    }
}

impl From<&PaymentAttempt> for StoredAttempt {
    fn from(attempt: &PaymentAttempt) -> Self {
        attempt.to_parts().into()
    }
}

impl From<StoredAttempt> for PaymentAttempt {
    fn from(stored: StoredAttempt) -> Self {
        PaymentAttempt::from_parts(stored.into())
    }
}

impl From<Refund> for StoredRefund {
    fn from(refund: Refund) -> Self {
        refund.to_parts().into()
    }
}

impl From<StoredRefund> for Refund {
    fn from(stored: StoredRefund) -> Self {
        Refund::from_parts(stored.into())
    }
}

/// An outbox entry: its event and how far its delivery got.
#[derive(Serialize, Deserialize)]
pub(crate) struct StoredOutboxEntry {
    event: StoredEvent,
    /// By channel name; a channel this release does not know is kept out.
    #[serde(default)]
    deliveries: BTreeMap<String, StoredDelivery>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    claimed_until: Option<OffsetDateTime>,
    version: u64,
    #[serde(default)]
    done: bool,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    resent_at: Option<OffsetDateTime>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredEvent {
    id: EventId,
    #[serde(flatten)]
    kind: StoredEventKind,
    order_id: OrderId,
    attempt_id: AttemptId,
    amount: Money,
    #[serde(with = "time::serde::rfc3339")]
    occurred_at: OffsetDateTime,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "type")]
enum StoredEventKind {
    #[serde(rename = "order.paid")]
    OrderPaid,
    #[serde(rename = "payment.failed")]
    PaymentFailed { status: PaymentStatus },
    #[serde(rename = "refund.settled")]
    RefundSettled { refund_id: RefundId },
    #[serde(rename = "refund.failed")]
    RefundFailed {
        refund_id: RefundId,
        refund_status: RefundStatus,
    },
    #[serde(rename = "chargeback.received")]
    ChargebackReceived { chargeback_id: ProviderChargebackId },
    #[serde(rename = "chargeback.reversed")]
    ChargebackReversed { chargeback_id: ProviderChargebackId },
    #[serde(rename = "incident.recorded")]
    IncidentRecorded { incident: IncidentKind },
    #[serde(rename = "authorization.expiring")]
    AuthorizationExpiring {
        #[serde(with = "time::serde::rfc3339")]
        capture_before: OffsetDateTime,
    },
    #[serde(rename = "stock.oversold")]
    StockOversold,
    #[serde(rename = "withdrawal.received")]
    WithdrawalReceived,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum StoredDelivery {
    Sent {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    NotNeeded {
        reason: String,
    },
    Retrying {
        tries: u32,
        #[serde(with = "time::serde::rfc3339")]
        next_try_at: OffsetDateTime,
        last_error: String,
    },
    GaveUp {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        tries: u32,
        last_error: String,
    },
}

impl From<EventKind> for StoredEventKind {
    fn from(kind: EventKind) -> Self {
        match kind {
            EventKind::OrderPaid => Self::OrderPaid,
            EventKind::PaymentFailed { status } => Self::PaymentFailed { status },
            EventKind::RefundSettled { refund_id } => Self::RefundSettled { refund_id },
            EventKind::RefundFailed { refund_id, status } => Self::RefundFailed {
                refund_id,
                refund_status: status,
            },
            EventKind::ChargebackReceived { chargeback_id } => {
                Self::ChargebackReceived { chargeback_id }
            }
            EventKind::ChargebackReversed { chargeback_id } => {
                Self::ChargebackReversed { chargeback_id }
            }
            EventKind::IncidentRecorded { incident } => Self::IncidentRecorded { incident },
            EventKind::AuthorizationExpiring { capture_before } => {
                Self::AuthorizationExpiring { capture_before }
            }
            EventKind::StockOversold => Self::StockOversold,
            EventKind::WithdrawalReceived => Self::WithdrawalReceived,
        }
    }
}

impl From<StoredEventKind> for EventKind {
    fn from(kind: StoredEventKind) -> Self {
        match kind {
            StoredEventKind::OrderPaid => Self::OrderPaid,
            StoredEventKind::PaymentFailed { status } => Self::PaymentFailed { status },
            StoredEventKind::RefundSettled { refund_id } => Self::RefundSettled { refund_id },
            StoredEventKind::RefundFailed {
                refund_id,
                refund_status,
            } => Self::RefundFailed {
                refund_id,
                status: refund_status,
            },
            StoredEventKind::ChargebackReceived { chargeback_id } => {
                Self::ChargebackReceived { chargeback_id }
            }
            StoredEventKind::ChargebackReversed { chargeback_id } => {
                Self::ChargebackReversed { chargeback_id }
            }
            StoredEventKind::IncidentRecorded { incident } => Self::IncidentRecorded { incident },
            StoredEventKind::AuthorizationExpiring { capture_before } => {
                Self::AuthorizationExpiring { capture_before }
            }
            StoredEventKind::StockOversold => Self::StockOversold,
            StoredEventKind::WithdrawalReceived => Self::WithdrawalReceived,
        }
    }
}

impl From<DeliveryState> for StoredDelivery {
    fn from(state: DeliveryState) -> Self {
        match state {
            DeliveryState::Sent { at, reference } => Self::Sent { at, reference },
            DeliveryState::NotNeeded { reason } => Self::NotNeeded { reason },
            DeliveryState::Retrying {
                tries,
                next_try_at,
                last_error,
            } => Self::Retrying {
                tries,
                next_try_at,
                last_error,
            },
            DeliveryState::GaveUp {
                at,
                tries,
                last_error,
            } => Self::GaveUp {
                at,
                tries,
                last_error,
            },
        }
    }
}

impl From<StoredDelivery> for DeliveryState {
    fn from(state: StoredDelivery) -> Self {
        match state {
            StoredDelivery::Sent { at, reference } => Self::Sent { at, reference },
            StoredDelivery::NotNeeded { reason } => Self::NotNeeded { reason },
            StoredDelivery::Retrying {
                tries,
                next_try_at,
                last_error,
            } => Self::Retrying {
                tries,
                next_try_at,
                last_error,
            },
            StoredDelivery::GaveUp {
                at,
                tries,
                last_error,
            } => Self::GaveUp {
                at,
                tries,
                last_error,
            },
        }
    }
}

impl From<&Event> for StoredEvent {
    fn from(event: &Event) -> Self {
        let EventParts {
            id,
            kind,
            order_id,
            attempt_id,
            amount,
            occurred_at,
        } = event.to_parts();
        Self {
            id,
            kind: kind.into(),
            order_id,
            attempt_id,
            amount,
            occurred_at,
        }
    }
}

impl From<StoredEvent> for Event {
    fn from(stored: StoredEvent) -> Self {
        let StoredEvent {
            id,
            kind,
            order_id,
            attempt_id,
            amount,
            occurred_at,
        } = stored;
        Event::from_parts(EventParts {
            id,
            kind: kind.into(),
            order_id,
            attempt_id,
            amount,
            occurred_at,
        })
    }
}

impl From<&OutboxEntry> for StoredOutboxEntry {
    fn from(entry: &OutboxEntry) -> Self {
        let OutboxParts {
            event,
            deliveries,
            claimed_until,
            version,
            done,
            resent_at,
        } = entry.to_parts();
        Self {
            event: StoredEvent::from(&event),
            deliveries: deliveries
                .into_iter()
                .map(|(channel, state)| (channel.as_str().to_owned(), state.into()))
                .collect(),
            claimed_until,
            version,
            done,
            resent_at,
        }
    }
}

impl From<StoredOutboxEntry> for OutboxEntry {
    fn from(stored: StoredOutboxEntry) -> Self {
        let StoredOutboxEntry {
            event,
            deliveries,
            claimed_until,
            version,
            done,
            resent_at,
        } = stored;
        OutboxEntry::from_parts(OutboxParts {
            event: event.into(),
            deliveries: deliveries
                .into_iter()
                .filter_map(|(name, state)| Some((Channel::parse(&name)?, state.into())))
                .collect(),
            claimed_until,
            version,
            done,
            resent_at,
        })
    }
}

impl StoredOutboxEntry {
    pub(crate) fn new(event: &Event) -> Self {
        (&OutboxEntry::new(event.clone())).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An attempt as the release before this schema moved here wrote it
    /// (every field it always wrote, one refund, one chargeback), and one
    /// from before the fields with defaults existed: both read, and what
    /// is read writes back and reads again the same.
    #[test]
    fn attempts_written_by_earlier_releases_read_and_round_trip() {
        let full = r#"{
            "id": "pay_0123456789abcdef0123456789abcdef",
            "order_id": "ord_0123456789abcdef0123456789abcdef",
            "amount": {"minor_units": 2950, "currency": "EUR"},
            "status": "paid",
            "provider_payment_id": "tr_abc123",
            "checkout_url": null,
            "created_at": "2026-11-01T10:00:00Z",
            "updated_at": "2026-11-01T10:05:00Z",
            "version": 4,
            "create_started_at": "2026-11-01T10:00:00Z",
            "next_check_at": null,
            "checks": 2,
            "refunds": [{
                "id": "rfd_0123456789abcdef0123456789abcdef",
                "provider_refund_id": "re_abc123",
                "amount": {"minor_units": 500, "currency": "EUR"},
                "status": "refunded",
                "from_provider": false,
                "created_at": "2026-11-02T09:00:00Z",
                "made_at": "2026-11-02T09:00:01Z"
            }],
            "chargebacks": [{
                "id": "chb_abc123",
                "amount": {"minor_units": 1000, "currency": "EUR"},
                "reversed_at": null,
                "recorded_at": "2026-11-03T09:00:00Z"
            }],
            "capture_mode": "automatic",
            "history": [{"status": "created", "at": "2026-11-01T10:00:00Z"}]
        }"#;
        let stored: StoredAttempt = serde_json::from_str(full).unwrap();
        let attempt = PaymentAttempt::from(stored);
        assert_eq!(attempt.version(), 4);
        assert_eq!(attempt.refunds().len(), 1);
        assert_eq!(attempt.chargebacks().len(), 1);
        assert_eq!(attempt.ledger().refunded.minor_units(), 500);
        assert_eq!(attempt.ledger().charged_back.minor_units(), 1000);
        let written = serde_json::to_string(&StoredAttempt::from(&attempt)).unwrap();
        let again = PaymentAttempt::from(serde_json::from_str::<StoredAttempt>(&written).unwrap());
        assert_eq!(again, attempt);

        let oldest = r#"{
            "id": "pay_0123456789abcdef0123456789abcdef",
            "order_id": "ord_0123456789abcdef0123456789abcdef",
            "amount": {"minor_units": 2950, "currency": "EUR"},
            "status": "open",
            "provider_payment_id": null,
            "checkout_url": null,
            "created_at": "2026-11-01T10:00:00Z",
            "updated_at": "2026-11-01T10:00:00Z",
            "version": 1,
            "refunds": [{
                "id": "rfd_0123456789abcdef0123456789abcdef",
                "provider_refund_id": null,
                "amount": {"minor_units": 500, "currency": "EUR"},
                "status": "requested",
                "created_at": "2026-11-02T09:00:00Z"
            }],
            "chargebacks": [{
                "id": "chb_abc123",
                "amount": {"minor_units": 1000, "currency": "EUR"},
                "recorded_at": "2026-11-03T09:00:00Z"
            }]
        }"#;
        let attempt = PaymentAttempt::from(serde_json::from_str::<StoredAttempt>(oldest).unwrap());
        assert_eq!(attempt.checks(), 0);
        assert_eq!(attempt.capture_mode(), CaptureMode::Automatic);
        assert!(!attempt.refunds()[0].from_provider());
        assert!(attempt.chargebacks()[0].counts());
    }

    #[test]
    fn an_order_without_a_version_reads_as_the_first() {
        let json = r#"{
            "id": "ord_0123456789abcdef0123456789abcdef",
            "lines": [{
                "article_id": "mug",
                "name": "Mug",
                "quantity": 2,
                "unit_price": {"minor_units": 1450, "currency": "EUR"},
                "line_total": {"minor_units": 2900, "currency": "EUR"}
            }],
            "total": {"minor_units": 2900, "currency": "EUR"},
            "created_at": "2026-11-01T10:00:00Z"
        }"#;
        let order = Order::from(serde_json::from_str::<StoredOrder>(json).unwrap());
        assert_eq!(order.version(), 1);
        assert_eq!(order.lines()[0].vat_rate, None);
        let written = serde_json::to_string(&StoredOrder::from(&order)).unwrap();
        assert_eq!(
            Order::from(serde_json::from_str::<StoredOrder>(&written).unwrap()),
            order
        );
    }
}
