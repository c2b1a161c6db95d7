//! What others must hear of: the events a change of an attempt gives rise
//! to, decided here from the attempt before and after the change, and
//! written by the store in the same conditional write as the change (the
//! outbox). A change is committed once (writes are conditional on the
//! version read), so each event is written once; an event's id is made
//! from its subject, so the one event two changes could both give rise
//! to (`order.paid` of an order two attempts paid) is still one.

use crate::ids::{EventId, ProviderChargebackId, RefundId};
use crate::money::Money;
use crate::order::OrderId;
use crate::payment::{AttemptId, IncidentKind, PaymentAttempt, PaymentStatus};
use crate::refund::RefundStatus;
use crate::stock::{self, HoldState, StockMove};
use time::OffsetDateTime;

/// The version of every event's schema (docs/events.md); a change that
/// breaks a receiver gets a new one.
pub const EVENT_SCHEMA_VERSION: u32 = 1;

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// The provider took the order's money (once per order, whichever
    /// attempt took it first).
    OrderPaid,
    /// An attempt ended without money: failed, canceled or expired.
    PaymentFailed { status: PaymentStatus },
    /// A refund reached the shopper.
    RefundSettled { refund_id: RefundId },
    /// A refund did not (failed or canceled): the money is still owed.
    RefundFailed {
        refund_id: RefundId,
        status: RefundStatus,
    },
    /// The shopper's bank took money back.
    ChargebackReceived { chargeback_id: ProviderChargebackId },
    /// ... and gave it back.
    ChargebackReversed { chargeback_id: ProviderChargebackId },
    /// Money the shop did not expect (paid after we gave up, paid twice).
    IncidentRecorded { incident: IncidentKind },
    /// An authorization lapses soon: capture or release it before then.
    AuthorizationExpiring { capture_before: OffsetDateTime },
    /// Money came after the attempt's stock was given back, and the stock
    /// was gone: more sold than the shop has.
    StockOversold,
    /// The shopper withdrew from the contract: acknowledge it, and refund
    /// within 14 days.
    WithdrawalReceived,
}

impl EventKind {
    /// The event's type, as receivers see it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::OrderPaid => "order.paid",
            Self::PaymentFailed { .. } => "payment.failed",
            Self::RefundSettled { .. } => "refund.settled",
            Self::RefundFailed { .. } => "refund.failed",
            Self::ChargebackReceived { .. } => "chargeback.received",
            Self::ChargebackReversed { .. } => "chargeback.reversed",
            Self::IncidentRecorded { .. } => "incident.recorded",
            Self::AuthorizationExpiring { .. } => "authorization.expiring",
            Self::StockOversold => "stock.oversold",
            Self::WithdrawalReceived => "withdrawal.received",
        }
    }

    /// Every type, for the schema documentation's test.
    pub const NAMES: [&'static str; 10] = [
        "order.paid",
        "payment.failed",
        "refund.settled",
        "refund.failed",
        "chargeback.received",
        "chargeback.reversed",
        "incident.recorded",
        "authorization.expiring",
        "stock.oversold",
        "withdrawal.received",
    ];
}

/// An event about one attempt of one order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    id: EventId,
    kind: EventKind,
    order_id: OrderId,
    attempt_id: AttemptId,
    /// The money it is about: the payment's, the refund's or the chargeback's.
    amount: Money,
    occurred_at: OffsetDateTime,
}

/// Every field of an event, for a store to keep and give back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventParts {
    pub id: EventId,
    pub kind: EventKind,
    pub order_id: OrderId,
    pub attempt_id: AttemptId,
    pub amount: Money,
    pub occurred_at: OffsetDateTime,
}

impl Event {
    fn new(attempt: &PaymentAttempt, kind: EventKind, amount: Money, now: OffsetDateTime) -> Self {
        let subject = match &kind {
            EventKind::OrderPaid | EventKind::WithdrawalReceived => attempt.order_id().to_string(),
            EventKind::PaymentFailed { .. }
            | EventKind::IncidentRecorded { .. }
            | EventKind::AuthorizationExpiring { .. }
            | EventKind::StockOversold => attempt.id().to_string(),
            EventKind::RefundSettled { refund_id } | EventKind::RefundFailed { refund_id, .. } => {
                refund_id.to_string()
            }
            EventKind::ChargebackReceived { chargeback_id }
            | EventKind::ChargebackReversed { chargeback_id } => chargeback_id.to_string(),
        };
        Self {
            id: EventId::of(&subject, kind.name()),
            kind,
            order_id: attempt.order_id().clone(),
            attempt_id: attempt.id().clone(),
            amount,
            occurred_at: now,
        }
    }

    pub fn id(&self) -> &EventId {
        &self.id
    }

    pub fn kind(&self) -> &EventKind {
        &self.kind
    }

    pub fn order_id(&self) -> &OrderId {
        &self.order_id
    }

    pub fn attempt_id(&self) -> &AttemptId {
        &self.attempt_id
    }

    pub fn amount(&self) -> Money {
        self.amount
    }

    pub fn occurred_at(&self) -> OffsetDateTime {
        self.occurred_at
    }

    pub fn to_parts(&self) -> EventParts {
        let Self {
            id,
            kind,
            order_id,
            attempt_id,
            amount,
            occurred_at,
        } = self.clone();
        EventParts {
            id,
            kind,
            order_id,
            attempt_id,
            amount,
            occurred_at,
        }
    }

    pub fn from_parts(parts: EventParts) -> Self {
        let EventParts {
            id,
            kind,
            order_id,
            attempt_id,
            amount,
            occurred_at,
        } = parts;
        Self {
            id,
            kind,
            order_id,
            attempt_id,
            amount,
            occurred_at,
        }
    }
}

/// The events the change from `before` to `after` (the same attempt,
/// one write apart) gives rise to, at `now`.
pub fn events_of_change(
    before: &PaymentAttempt,
    after: &PaymentAttempt,
    now: OffsetDateTime,
) -> Vec<Event> {
    let mut events = Vec::new();
    let event = |kind, amount| Event::new(after, kind, amount, now);
    if after.has_taken_money() && !before.has_taken_money() {
        events.push(event(EventKind::OrderPaid, after.amount()));
    }
    if let (None, Some(incident)) = (before.incident(), after.incident()) {
        let kind = EventKind::IncidentRecorded {
            incident: incident.kind,
        };
        events.push(event(kind, after.amount()));
    }
    let ended_without_money =
        after.status().is_final() && !before.status().is_final() && !after.has_taken_money();
    if ended_without_money {
        let kind = EventKind::PaymentFailed {
            status: after.status(),
        };
        events.push(event(kind, after.amount()));
    }
    if let (None, Some(_), Some(capture_before)) = (
        before.capture_warned_at(),
        after.capture_warned_at(),
        after.capture_before(),
    ) {
        let kind = EventKind::AuthorizationExpiring { capture_before };
        events.push(event(kind, after.amount()));
    }
    if after.withdrawal().is_some() && before.withdrawal().is_none() {
        events.push(event(EventKind::WithdrawalReceived, after.amount()));
    }
    let oversold = |a: &PaymentAttempt| a.stock().is_some_and(|h| h.state == HoldState::Oversold);
    if oversold(after) && !oversold(before) {
        events.push(event(EventKind::StockOversold, after.amount()));
    }
    for refund in after.refunds() {
        let was = before
            .refunds()
            .iter()
            .find(|r| r.id() == refund.id())
            .map(|r| r.status());
        let status = refund.status();
        let refund_id = refund.id().clone();
        if status == RefundStatus::Refunded && was != Some(RefundStatus::Refunded) {
            events.push(event(
                EventKind::RefundSettled { refund_id },
                refund.amount(),
            ));
        } else if !status.counts() && was.is_none_or(RefundStatus::counts) {
            let kind = EventKind::RefundFailed { refund_id, status };
            events.push(event(kind, refund.amount()));
        }
    }
    for chargeback in after.chargebacks() {
        let was = before.chargebacks().iter().find(|c| c.id == chargeback.id);
        let chargeback_id = chargeback.id.clone();
        if was.is_none() {
            let kind = EventKind::ChargebackReceived {
                chargeback_id: chargeback_id.clone(),
            };
            events.push(event(kind, chargeback.amount));
        }
        if !chargeback.counts() && was.is_none_or(|c| c.counts()) {
            let kind = EventKind::ChargebackReversed { chargeback_id };
            events.push(event(kind, chargeback.amount));
        }
    }
    events
}

/// A change of an attempt to write: the next version and the events it
/// gives rise to, decided together so that no write can leave them out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptWrite {
    next: PaymentAttempt,
    events: Vec<Event>,
    stock: Vec<StockMove>,
}

impl AttemptWrite {
    /// `next` (its version already bumped) replaces `before`.
    pub fn new(before: &PaymentAttempt, next: PaymentAttempt, now: OffsetDateTime) -> Self {
        let events = events_of_change(before, &next, now);
        let stock = stock::moves_of_change(before.stock(), next.stock());
        Self {
            next,
            events,
            stock,
        }
    }

    pub fn next(&self) -> &PaymentAttempt {
        &self.next
    }

    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The write again after the store refused its take of stock: the
    /// units are recorded as oversold instead, the money all the same.
    /// `None` when it took no stock.
    pub fn oversold(self, before: &PaymentAttempt, now: OffsetDateTime) -> Option<Self> {
        let mut next = self.next;
        next.record_oversold().then(|| Self::new(before, next, now))
    }

    /// The stock moves the store makes with it.
    pub fn stock(&self) -> &[StockMove] {
        &self.stock
    }

    pub fn into_next(self) -> PaymentAttempt {
        self.next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chargeback::ProviderChargeback;
    use crate::ids::ProviderRefundId;
    use crate::payment::IncidentKind;
    use crate::refund::ProviderRefund;
    use crate::Currency;

    fn at(minute: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + time::Duration::minutes(minute)
    }

    fn open() -> PaymentAttempt {
        let mut attempt =
            PaymentAttempt::new(OrderId::generate(), Money::new(2900, Currency::EUR), at(0));
        attempt.observe(PaymentStatus::Open);
        attempt
    }

    fn names(events: &[Event]) -> Vec<&'static str> {
        events.iter().map(|e| e.kind().name()).collect()
    }

    fn changed(before: &PaymentAttempt, change: impl FnOnce(&mut PaymentAttempt)) -> Vec<Event> {
        let mut after = before.clone();
        change(&mut after);
        events_of_change(before, &after, at(5))
    }

    #[test]
    fn paid_once_and_failed_once_and_nothing_for_what_did_not_change() {
        let open = open();
        let paid = changed(&open, |a| {
            a.observe(PaymentStatus::Paid);
        });
        assert_eq!(names(&paid), ["order.paid"]);
        assert_eq!(
            paid[0].id().as_str(),
            format!("{}:order.paid", open.order_id())
        );
        assert_eq!(paid[0].amount(), open.amount());
        for status in [
            PaymentStatus::Failed,
            PaymentStatus::Canceled,
            PaymentStatus::Expired,
        ] {
            let failed = changed(&open, |a| {
                a.observe(status);
            });
            assert_eq!(names(&failed), ["payment.failed"]);
            assert_eq!(failed[0].kind(), &EventKind::PaymentFailed { status });
        }
        // Pending, authorized, a check scheduled: nothing anyone must hear.
        assert!(changed(&open, |a| {
            a.observe(PaymentStatus::Authorized);
        })
        .is_empty());
        assert!(events_of_change(&open, &open, at(5)).is_empty());
        // Already paid: a stale report changes nothing, so says nothing.
        let mut paid_attempt = open.clone();
        paid_attempt.observe(PaymentStatus::Paid);
        assert!(changed(&paid_attempt, |a| {
            a.observe(PaymentStatus::Expired);
        })
        .is_empty());
    }

    #[test]
    fn money_taken_after_we_gave_up_is_paid_and_an_incident() {
        let mut expired = open();
        expired.observe(PaymentStatus::Expired);
        let events = changed(&expired, |a| {
            a.record_incident(IncidentKind::PaidAfterGivenUp, at(5));
        });
        assert_eq!(names(&events), ["order.paid", "incident.recorded"]);
    }

    #[test]
    fn refunds_and_chargebacks_each_say_what_happened_once() {
        let mut paid = open();
        paid.observe(PaymentStatus::Paid);
        let refund = |status| ProviderRefund {
            id: ProviderRefundId::parse("re_1").unwrap(),
            amount: Money::new(500, Currency::EUR),
            status,
            refund_id: None,
            made_at: at(2),
        };
        let pending = changed(&paid, |a| {
            a.merge_provider_money(&[refund(RefundStatus::Pending)], &[], at(2));
        });
        assert!(pending.is_empty());
        let mut refunding = paid.clone();
        refunding.merge_provider_money(&[refund(RefundStatus::Pending)], &[], at(2));
        let settled = changed(&refunding, |a| {
            a.merge_provider_money(&[refund(RefundStatus::Refunded)], &[], at(3));
        });
        assert_eq!(names(&settled), ["refund.settled"]);
        assert_eq!(settled[0].amount(), Money::new(500, Currency::EUR));
        let failed = changed(&refunding, |a| {
            a.merge_provider_money(&[refund(RefundStatus::Failed)], &[], at(3));
        });
        assert_eq!(names(&failed), ["refund.failed"]);

        let chargeback = |reversed_at| ProviderChargeback {
            id: ProviderChargebackId::parse("chb_1").unwrap(),
            amount: Money::new(2900, Currency::EUR),
            reason: None,
            reversed_at,
        };
        let received = changed(&paid, |a| {
            a.merge_provider_money(&[], &[chargeback(None)], at(4));
        });
        assert_eq!(names(&received), ["chargeback.received"]);
        let mut charged_back = paid.clone();
        charged_back.merge_provider_money(&[], &[chargeback(None)], at(4));
        let reversed = changed(&charged_back, |a| {
            a.merge_provider_money(&[], &[chargeback(Some(at(6)))], at(6));
        });
        assert_eq!(names(&reversed), ["chargeback.reversed"]);
        // Reported again as it is: nothing new.
        assert!(changed(&charged_back, |a| {
            a.merge_provider_money(&[], &[chargeback(None)], at(7));
        })
        .is_empty());
    }

    #[test]
    fn an_event_id_names_its_subject_and_type() {
        let open = open();
        let mut after = open.clone();
        after.observe(PaymentStatus::Canceled);
        let events = events_of_change(&open, &after, at(1));
        assert_eq!(
            events[0].id().as_str(),
            format!("{}:payment.failed", open.id())
        );
        assert_eq!(EventKind::NAMES.len(), 10);
    }
}
