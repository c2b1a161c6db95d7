//! Server only: the domain's records as the back office's views, every
//! amount and time formatted for the operator.

use super::views::{
    AttemptView, AuditView, BackOfficeLineView, BackOfficeOrderView, ChargebackView, DeliveryView,
    MessageView, OrderRowView, RefundView, RefundablePaymentView,
};
use checkout::{
    AuditEntry, AuditOutcome, Chargeback, Ledger, OrderLine, OrderRecord, OrderStatus,
    PaymentAttempt, Refund,
};
use std::time::Duration;
use time::OffsetDateTime;

pub(crate) fn time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn status_text(status: OrderStatus) -> String {
    match status {
        OrderStatus::AwaitingPayment => "awaiting payment".into(),
        OrderStatus::PaymentPending => "payment pending".into(),
        OrderStatus::Paid => "paid".into(),
        OrderStatus::AwaitingCapture => "authorized, awaiting capture".into(),
        OrderStatus::PaymentFailed(s) => format!("payment {}", s.as_str()),
    }
}

/// Why the order needs a look, if it does ("charged back", ...).
fn attention(record: &OrderRecord, now: OffsetDateTime, warning: Duration) -> Vec<String> {
    record
        .attention(now, warning)
        .iter()
        .map(|a| a.as_str().to_owned())
        .collect()
}

/// The order as a row of the list.
pub(crate) fn row(
    record: &OrderRecord,
    status: OrderStatus,
    now: OffsetDateTime,
    warning: Duration,
) -> OrderRowView {
    OrderRowView {
        id: record.order.id().to_string(),
        created_at: time(record.order.created_at()),
        total: record.order.total().to_string(),
        status: status_text(status),
        attention: attention(record, now, warning),
        payments: record
            .attempts
            .iter()
            .filter_map(|a| a.provider_payment_id().as_ref().map(ToString::to_string))
            .collect(),
    }
}

/// The order with everything about its money and its audit log, for its
/// page; fresh refund and capture ids for the page's forms.
pub(crate) fn order_view(
    operator: String,
    record: &OrderRecord,
    status: OrderStatus,
    audit: &[AuditEntry],
    messages: &[(checkout::OutboxEntry, Option<checkout::MailMessage>)],
    now: OffsetDateTime,
    warning: Duration,
) -> BackOfficeOrderView {
    // Unreadable amounts show as none, and as an attention reason.
    let ledger = Ledger::of_order(&record.attempts).ok().flatten();
    let nonzero = |m: checkout::Money| (!m.is_zero()).then(|| m.to_string());
    BackOfficeOrderView {
        operator,
        id: record.order.id().to_string(),
        created_at: time(record.order.created_at()),
        status: status_text(status),
        attention: attention(record, now, warning),
        lines: record.order.lines().iter().map(line_view).collect(),
        total: record.order.total().to_string(),
        paid: ledger.as_ref().map(|l| l.paid.to_string()),
        refunded: ledger.as_ref().and_then(|l| nonzero(l.refunded)),
        charged_back: ledger.as_ref().and_then(|l| nonzero(l.charged_back)),
        refundable: ledger
            .as_ref()
            .map(Ledger::remaining)
            .filter(|m| !m.is_zero())
            .map(|m| m.to_decimal_string()),
        refundable_payments: refundable_payments(&record.attempts),
        currency: record.order.total().currency().code().to_owned(),
        awaits_capture: record.attempts.iter().any(PaymentAttempt::awaits_capture),
        cancelable: record.attempts.iter().any(|a| {
            a.status() == checkout::PaymentStatus::Open && a.provider_payment_id().is_some()
        }),
        attempts: record.attempts.iter().map(attempt_view).collect(),
        audit: audit.iter().map(audit_view).collect(),
        shopper_email: record.order.shopper_email().map(|e| e.expose().to_owned()),
        withdrawal: record
            .attempts
            .iter()
            .find_map(|a| a.withdrawal())
            .map(|w| {
                format!(
                    "Withdrawal received {} from {}: refund by {}",
                    checkout::withdrawal::when(w.received_at),
                    w.name,
                    checkout::withdrawal::when(w.refund_due())
                )
            }),
        messages: messages.iter().map(message_view).collect(),
        refund_id: checkout::RefundId::generate().to_string(),
        capture_id: checkout::CaptureId::generate().to_string(),
    }
}

fn message_view(
    (entry, message): &(checkout::OutboxEntry, Option<checkout::MailMessage>),
) -> MessageView {
    use checkout::DeliveryState;
    let event = entry.event();
    let deliveries = entry
        .deliveries()
        .iter()
        .map(|(channel, state_of)| {
            let state = match state_of {
                DeliveryState::Sent { at, .. } => format!("sent {}", time(*at)),
                DeliveryState::NotNeeded { reason } => format!("none: {reason}"),
                DeliveryState::Retrying {
                    tries, next_try_at, ..
                } => format!("failed {tries}×, next try {}", time(*next_try_at)),
                DeliveryState::GaveUp { tries, .. } => format!("gave up after {tries} tries"),
            };
            DeliveryView {
                channel: channel.as_str().to_owned(),
                state,
                resendable: !matches!(state_of, DeliveryState::NotNeeded { .. }),
            }
        })
        .collect();
    MessageView {
        event_id: event.id().to_string(),
        event_type: event.kind().name().to_owned(),
        occurred_at: time(event.occurred_at()),
        deliveries,
        subject: message.as_ref().map(|m| m.subject.clone()),
        html: message.as_ref().map(|m| m.html.clone()),
    }
}

fn line_view(line: &OrderLine) -> BackOfficeLineView {
    BackOfficeLineView {
        name: line.name.clone(),
        sku: line.sku.clone(),
        quantity: line.quantity,
        unit_price: line.unit_price.to_string(),
        line_total: line.line_total.to_string(),
    }
}

/// The payments that took money and have some left to refund; the one
/// with an incident preselected (a second payment before one paid after it
/// was given up), else the first.
fn refundable_payments(attempts: &[PaymentAttempt]) -> Vec<RefundablePaymentView> {
    let took_money: Vec<&PaymentAttempt> = attempts
        .iter()
        .filter(|a| a.has_taken_money() && !a.refundable().is_zero())
        .filter(|a| a.provider_payment_id().is_some())
        .collect();
    let incident_rank = |a: &PaymentAttempt| match a.incident().as_ref().map(|i| i.kind) {
        Some(checkout::IncidentKind::SecondPayment) => 2,
        Some(_) => 1,
        None => 0,
    };
    let preselected = took_money
        .iter()
        .enumerate()
        .max_by_key(|(index, a)| (incident_rank(a), std::cmp::Reverse(*index)))
        .map(|(index, _)| index);
    took_money
        .iter()
        .enumerate()
        .map(|(index, a)| RefundablePaymentView {
            provider_payment_id: a
                .provider_payment_id()
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            refundable: a.refundable().to_string(),
            refundable_decimal: a.refundable().to_decimal_string(),
            preselected: Some(index) == preselected,
        })
        .collect()
}

fn attempt_view(attempt: &PaymentAttempt) -> AttemptView {
    AttemptView {
        id: attempt.id().to_string(),
        provider_payment_id: attempt
            .provider_payment_id()
            .as_ref()
            .map(ToString::to_string),
        amount: attempt.amount().to_string(),
        status: attempt.status().as_str().to_owned(),
        history: attempt
            .history()
            .iter()
            .map(|seen| format!("{} at {}", seen.status.as_str(), time(seen.at)))
            .collect(),
        refunds: attempt.refunds().iter().map(refund_view).collect(),
        chargebacks: attempt.chargebacks().iter().map(chargeback_view).collect(),
        method: attempt.method().map(str::to_owned),
        captured: attempt.captured().map(|m| m.to_string()),
        capture_before: attempt.capture_before().map(time),
        incident: attempt
            .incident()
            .as_ref()
            .map(|i| format!("{} ({})", i.kind.as_str(), time(i.recorded_at))),
    }
}

fn refund_view(refund: &Refund) -> RefundView {
    RefundView {
        id: refund.id().to_string(),
        provider_id: refund
            .provider_refund_id()
            .as_ref()
            .map(ToString::to_string),
        amount: refund.amount().to_string(),
        status: format!("{:?}", refund.status()).to_lowercase(),
        from_provider: refund.from_provider(),
        created_at: time(refund.created_at()),
    }
}

fn chargeback_view(chargeback: &Chargeback) -> ChargebackView {
    ChargebackView {
        id: chargeback.id.to_string(),
        amount: chargeback.amount.to_string(),
        reason: chargeback.reason.clone(),
        recorded_at: time(chargeback.recorded_at),
        reversed_at: chargeback.reversed_at.map(time),
    }
}

fn audit_view(entry: &AuditEntry) -> AuditView {
    AuditView {
        at: time(entry.at),
        operator: entry.operator.clone(),
        action: entry.action.describe(),
        outcome: match &entry.outcome {
            AuditOutcome::Requested => "requested".into(),
            AuditOutcome::Done => "done".into(),
            AuditOutcome::Refused(why) => format!("refused: {why}"),
            AuditOutcome::Failed(why) => format!("failed: {why}"),
        },
    }
}

/// The stock page: the catalog's articles with their levels, and the log.
pub(crate) fn stock_view(
    operator: String,
    catalog: &checkout::Catalog,
    levels: &checkout::StockLevels,
    log: &[checkout::StockSetting],
) -> super::StockView {
    let name_of = |id: &checkout::ArticleId| {
        catalog
            .find(id.as_str())
            .map_or_else(|| id.to_string(), |a| a.name.clone())
    };
    super::StockView {
        operator,
        articles: catalog
            .articles()
            .iter()
            .map(|a| super::StockRowView {
                id: a.id.to_string(),
                name: a.name.clone(),
                available: levels.available(&a.id),
            })
            .collect(),
        log: log
            .iter()
            .map(|s| {
                let from = s
                    .previous
                    .map_or_else(|| "untracked".to_owned(), |p| p.to_string());
                format!(
                    "{} {} set {} from {from} to {}",
                    time(s.at),
                    s.operator,
                    name_of(&s.article_id),
                    s.available
                )
            })
            .collect(),
    }
}
