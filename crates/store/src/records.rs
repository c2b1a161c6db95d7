//! What both stores write of orders and attempts: the storage schema, mapped
//! to and from the domain's types here, so the domain carries no schema.
//! A field skipped when empty reads back empty (`default`); every other
//! field is always written.

use checkout::{
    ArticleId, AttemptId, AttemptParts, CaptureMode, Chargeback, Incident, IncidentKind, Money,
    Order, OrderId, OrderLine, OrderParts, PaymentAttempt, PaymentStatus, ProviderChargebackId,
    ProviderPaymentId, ProviderRefundId, Refund, RefundId, RefundParts, RefundStatus, StatusSeen,
    VatRate,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredOrder {
    id: OrderId,
    lines: Vec<StoredOrderLine>,
    total: Money,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    version: u64,
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
    #[serde(with = "time::serde::rfc3339::option")]
    create_started_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    next_check_at: Option<OffsetDateTime>,
    checks: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    incident: Option<StoredIncident>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    refunds: Vec<StoredRefund>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    chargebacks: Vec<StoredChargeback>,
    capture_mode: CaptureMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    captured: Option<Money>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    capture_before: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    history: Vec<StoredStatusSeen>,
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
    #[serde(with = "time::serde::rfc3339::option")]
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

impl From<&Order> for StoredOrder {
    fn from(order: &Order) -> Self {
        let OrderParts {
            id,
            lines,
            total,
            created_at,
            version,
        } = order.to_parts();
        Self {
            id,
            lines: lines.into_iter().map(StoredOrderLine::from).collect(),
            total,
            created_at,
            version,
        }
    }
}

impl From<StoredOrder> for Order {
    fn from(stored: StoredOrder) -> Self {
        Order::from_parts(OrderParts {
            id: stored.id,
            lines: stored.lines.into_iter().map(OrderLine::from).collect(),
            total: stored.total,
            created_at: stored.created_at,
            version: stored.version,
        })
    }
}

impl From<OrderLine> for StoredOrderLine {
    fn from(line: OrderLine) -> Self {
        let OrderLine {
            article_id,
            name,
            quantity,
            unit_price,
            line_total,
            vat_rate,
            sku,
        } = line;
        Self {
            article_id,
            name,
            quantity,
            unit_price,
            line_total,
            vat_rate,
            sku,
        }
    }
}

impl From<StoredOrderLine> for OrderLine {
    fn from(line: StoredOrderLine) -> Self {
        let StoredOrderLine {
            article_id,
            name,
            quantity,
            unit_price,
            line_total,
            vat_rate,
            sku,
        } = line;
        Self {
            article_id,
            name,
            quantity,
            unit_price,
            line_total,
            vat_rate,
            sku,
        }
    }
}

impl From<&PaymentAttempt> for StoredAttempt {
    fn from(attempt: &PaymentAttempt) -> Self {
        let p = attempt.to_parts();
        Self {
            id: p.id,
            order_id: p.order_id,
            amount: p.amount,
            status: p.status,
            provider_payment_id: p.provider_payment_id,
            checkout_url: p.checkout_url,
            created_at: p.created_at,
            updated_at: p.updated_at,
            version: p.version,
            create_started_at: p.create_started_at,
            next_check_at: p.next_check_at,
            checks: p.checks,
            incident: p.incident.map(|i| StoredIncident {
                kind: i.kind,
                recorded_at: i.recorded_at,
            }),
            refunds: p.refunds.iter().map(StoredRefund::from).collect(),
            chargebacks: p
                .chargebacks
                .into_iter()
                .map(StoredChargeback::from)
                .collect(),
            capture_mode: p.capture_mode,
            captured: p.captured,
            capture_before: p.capture_before,
            history: p
                .history
                .into_iter()
                .map(|seen| StoredStatusSeen {
                    status: seen.status,
                    at: seen.at,
                })
                .collect(),
        }
    }
}

impl From<StoredAttempt> for PaymentAttempt {
    fn from(s: StoredAttempt) -> Self {
        PaymentAttempt::from_parts(AttemptParts {
            id: s.id,
            order_id: s.order_id,
            amount: s.amount,
            status: s.status,
            provider_payment_id: s.provider_payment_id,
            checkout_url: s.checkout_url,
            created_at: s.created_at,
            updated_at: s.updated_at,
            version: s.version,
            create_started_at: s.create_started_at,
            next_check_at: s.next_check_at,
            checks: s.checks,
            incident: s.incident.map(|i| Incident {
                kind: i.kind,
                recorded_at: i.recorded_at,
            }),
            refunds: s.refunds.into_iter().map(Refund::from).collect(),
            chargebacks: s.chargebacks.into_iter().map(Chargeback::from).collect(),
            capture_mode: s.capture_mode,
            captured: s.captured,
            capture_before: s.capture_before,
            history: s
                .history
                .into_iter()
                .map(|seen| StatusSeen {
                    status: seen.status,
                    at: seen.at,
                })
                .collect(),
        })
    }
}

impl From<&Refund> for StoredRefund {
    fn from(refund: &Refund) -> Self {
        let RefundParts {
            id,
            provider_refund_id,
            amount,
            status,
            from_provider,
            created_at,
            made_at,
        } = refund.to_parts();
        Self {
            id,
            provider_refund_id,
            amount,
            status,
            from_provider,
            created_at,
            made_at,
        }
    }
}

impl From<StoredRefund> for Refund {
    fn from(stored: StoredRefund) -> Self {
        let StoredRefund {
            id,
            provider_refund_id,
            amount,
            status,
            from_provider,
            created_at,
            made_at,
        } = stored;
        Refund::from_parts(RefundParts {
            id,
            provider_refund_id,
            amount,
            status,
            from_provider,
            created_at,
            made_at,
        })
    }
}

impl From<Chargeback> for StoredChargeback {
    fn from(chargeback: Chargeback) -> Self {
        let Chargeback {
            id,
            amount,
            reason,
            reversed_at,
            recorded_at,
        } = chargeback;
        Self {
            id,
            amount,
            reason,
            reversed_at,
            recorded_at,
        }
    }
}

impl From<StoredChargeback> for Chargeback {
    fn from(stored: StoredChargeback) -> Self {
        let StoredChargeback {
            id,
            amount,
            reason,
            reversed_at,
            recorded_at,
        } = stored;
        Self {
            id,
            amount,
            reason,
            reversed_at,
            recorded_at,
        }
    }
}
