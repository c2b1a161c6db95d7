//! What makes an order need an operator's look, for the back office.

use crate::ledger::{Ledger, MoneyStatus};
use crate::order::OrderStatus;
use crate::payment::IncidentKind;
use crate::ports::OrderRecord;
use std::time::Duration;
use time::OffsetDateTime;

/// A payment still open or pending this long after the order was made is
/// stuck rather than slow (bank transfers aside, shoppers pay in minutes).
pub const OPEN_TOO_LONG: Duration = Duration::from_secs(48 * 3600);

/// Why an order needs an operator's look.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Attention {
    /// The provider took money on an attempt we had given up: ship or refund.
    PaidAfterGivenUp,
    /// The shopper paid twice: refund one.
    SecondPayment,
    /// A bank took money back (and did not reverse it).
    ChargedBack,
    /// Open or pending for longer than [`OPEN_TOO_LONG`].
    OpenTooLong,
    /// An authorization close to its capture deadline.
    CaptureDueSoon,
}

impl Attention {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PaidAfterGivenUp => "paid after it was given up",
            Self::SecondPayment => "paid twice",
            Self::ChargedBack => "charged back",
            Self::OpenTooLong => "payment open too long",
            Self::CaptureDueSoon => "capture due soon",
        }
    }
}

impl OrderRecord {
    /// Each reason this order needs a look now (none: it does not).
    /// `capture_warning`: how close to its deadline an authorization is flagged.
    pub fn attention(&self, now: OffsetDateTime, capture_warning: Duration) -> Vec<Attention> {
        let mut reasons = Vec::new();
        for (_, incident) in self.incidents() {
            let reason = match incident.kind {
                IncidentKind::PaidAfterGivenUp => Attention::PaidAfterGivenUp,
                IncidentKind::SecondPayment => Attention::SecondPayment,
            };
            if !reasons.contains(&reason) {
                reasons.push(reason);
            }
        }
        if Ledger::of_order(&self.attempts).is_some_and(|l| l.status() == MoneyStatus::ChargedBack)
        {
            reasons.push(Attention::ChargedBack);
        }
        let waiting = matches!(
            OrderStatus::derive(&self.attempts),
            OrderStatus::AwaitingPayment | OrderStatus::PaymentPending
        );
        if waiting && now - self.order.created_at > OPEN_TOO_LONG {
            reasons.push(Attention::OpenTooLong);
        }
        if self
            .attempts
            .iter()
            .any(|a| a.capture_due_soon(now, capture_warning))
        {
            reasons.push(Attention::CaptureDueSoon);
        }
        reasons
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::order::Order;
    use crate::payment::{PaymentAttempt, PaymentStatus};

    fn record(created: OffsetDateTime) -> OrderRecord {
        let line = Catalog::bundled().price_line("mug", 1).unwrap();
        let order = Order::new(vec![line], created).unwrap();
        let attempt = PaymentAttempt::new(order.id.clone(), order.total, created);
        OrderRecord {
            order,
            attempts: vec![attempt],
        }
    }

    #[test]
    fn an_order_left_open_for_days_needs_a_look() {
        let now = OffsetDateTime::now_utc();
        let day = Duration::from_secs(24 * 3600);
        let fresh = record(now - time::Duration::hours(1));
        assert!(fresh.attention(now, day).is_empty());
        let mut stuck = record(now - time::Duration::days(3));
        assert_eq!(stuck.attention(now, day), vec![Attention::OpenTooLong]);
        stuck.attempts[0].observe(PaymentStatus::Paid);
        assert!(stuck.attention(now, day).is_empty());
    }
}
