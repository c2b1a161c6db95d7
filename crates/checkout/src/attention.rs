//! What makes an order need an operator's look, for the back office.

use crate::ledger::{Ledger, MoneyStatus};
use crate::order::OrderStatus;
use crate::payment::IncidentKind;
use crate::payment::PaymentAttempt;
use crate::ports::OrderRecord;
use crate::stock::HoldState;
use crate::withdrawal::REFUND_DUE_SOON;
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
    /// A refund failed (the provider refused it, or a bank could not pay
    /// it out) and the shopper may still be owed it (see
    /// [`PaymentAttempt::has_failed_refund_owed`](crate::PaymentAttempt::has_failed_refund_owed)).
    RefundFailed,
    /// Paid after its stock was given back, and the stock was gone: more
    /// sold than the shop has (restock, or refund).
    Oversold,
    /// The shopper withdrew from the contract and what they paid is not
    /// all refunded (or their authorization not released) yet: due 14
    /// days after the withdrawal.
    WithdrawalToRefund,
    /// ... and that deadline is within [`REFUND_DUE_SOON`] or past.
    WithdrawalRefundDueSoon,
    /// Its payments' amounts cannot be added up (two currencies, or sums
    /// that do not fit): no flow of the shop writes such a record.
    MoneyUnreadable,
}

impl Attention {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PaidAfterGivenUp => "paid after it was given up",
            Self::SecondPayment => "paid twice",
            Self::ChargedBack => "charged back",
            Self::OpenTooLong => "payment open too long",
            Self::CaptureDueSoon => "capture due soon",
            Self::RefundFailed => "refund failed",
            Self::Oversold => "oversold",
            Self::WithdrawalToRefund => "withdrawal to refund",
            Self::WithdrawalRefundDueSoon => "withdrawal refund due soon",
            Self::MoneyUnreadable => "amounts cannot be added up",
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
        match Ledger::of_order(&self.attempts) {
            Ok(Some(ledger)) if ledger.status() == MoneyStatus::ChargedBack => {
                reasons.push(Attention::ChargedBack);
            }
            Ok(_) => {}
            Err(_) => reasons.push(Attention::MoneyUnreadable),
        }
        let waiting = matches!(
            OrderStatus::derive(&self.attempts),
            OrderStatus::AwaitingPayment | OrderStatus::PaymentPending
        );
        if waiting && now - self.order.created_at() > OPEN_TOO_LONG {
            reasons.push(Attention::OpenTooLong);
        }
        if self
            .attempts
            .iter()
            .any(|a| a.capture_due_soon(now, capture_warning))
        {
            reasons.push(Attention::CaptureDueSoon);
        }
        if self
            .attempts
            .iter()
            .any(PaymentAttempt::has_failed_refund_owed)
        {
            reasons.push(Attention::RefundFailed);
        }
        let oversold =
            |a: &PaymentAttempt| a.stock().is_some_and(|h| h.state == HoldState::Oversold);
        if self.attempts.iter().any(oversold) {
            reasons.push(Attention::Oversold);
        }
        let withdrawal = self.attempts.iter().find_map(PaymentAttempt::withdrawal);
        // What is still the shopper's: money not refunded, or an
        // authorization not released.
        let owed = matches!(
            Ledger::of_order(&self.attempts),
            Ok(Some(ledger)) if !ledger.remaining().is_zero()
        ) || self.attempts.iter().any(PaymentAttempt::awaits_capture);
        if let Some(withdrawal) = withdrawal.filter(|_| owed) {
            reasons.push(Attention::WithdrawalToRefund);
            if withdrawal.refund_due() - now <= REFUND_DUE_SOON {
                reasons.push(Attention::WithdrawalRefundDueSoon);
            }
        }
        reasons
    }
}

/// Which orders the back office's list shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OrderFilter {
    #[default]
    All,
    /// Any [`Attention`] reason.
    NeedsAttention,
    /// Awaiting payment or with a payment pending.
    AwaitingPayment,
    AwaitingCapture,
    Paid,
    /// The latest payment failed, was canceled or expired.
    PaymentFailed,
    /// Withdrawn by the shopper, not all refunded yet: the queue to refund.
    Withdrawals,
}

impl OrderFilter {
    pub const ALL: [Self; 7] = [
        Self::All,
        Self::NeedsAttention,
        Self::Withdrawals,
        Self::AwaitingPayment,
        Self::AwaitingCapture,
        Self::Paid,
        Self::PaymentFailed,
    ];

    /// As in a link: `attention`, `paid`, ...
    pub fn code(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::NeedsAttention => "attention",
            Self::AwaitingPayment => "awaiting_payment",
            Self::AwaitingCapture => "awaiting_capture",
            Self::Paid => "paid",
            Self::PaymentFailed => "failed",
            Self::Withdrawals => "withdrawals",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::All => "All orders",
            Self::NeedsAttention => "Needs attention",
            Self::AwaitingPayment => "Awaiting payment",
            Self::AwaitingCapture => "Authorized, awaiting capture",
            Self::Paid => "Paid",
            Self::PaymentFailed => "Payment failed, canceled or expired",
            Self::Withdrawals => "Withdrawals to refund",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.code() == code)
    }

    pub fn matches(self, status: OrderStatus, attention: &[Attention]) -> bool {
        match self {
            Self::All => true,
            Self::NeedsAttention => !attention.is_empty(),
            Self::AwaitingPayment => matches!(
                status,
                OrderStatus::AwaitingPayment | OrderStatus::PaymentPending
            ),
            Self::AwaitingCapture => status == OrderStatus::AwaitingCapture,
            Self::Paid => status == OrderStatus::Paid,
            Self::PaymentFailed => matches!(status, OrderStatus::PaymentFailed(_)),
            Self::Withdrawals => attention.contains(&Attention::WithdrawalToRefund),
        }
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
        let order = Order::new(
            vec![line],
            crate::contact::EmailAddress::parse("ann@example.com").unwrap(),
            created,
        )
        .unwrap();
        let attempt = PaymentAttempt::new(order.id().clone(), order.total(), created);
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

    #[test]
    fn a_failed_refund_needs_a_look_while_the_shopper_may_be_owed_it() {
        let now = OffsetDateTime::now_utc();
        let day = Duration::from_secs(24 * 3600);
        let mut paid = record(now);
        paid.attempts[0].observe(PaymentStatus::Paid);
        let currency = paid.attempts[0].amount().currency();
        let eur = |cents| crate::Money::new(cents, currency);
        let total = paid.attempts[0].amount().minor_units();
        let refund = |record: &mut OrderRecord, cents, fails: bool| {
            let id = crate::RefundId::generate();
            let attempt = &mut record.attempts[0];
            attempt.request_refund(&id, eur(cents), now).unwrap();
            if fails {
                assert!(attempt.fail_requested_refund(&id));
            }
        };
        // Refused: the shopper is owed it.
        refund(&mut paid, 300, true);
        assert_eq!(paid.attention(now, day), vec![Attention::RefundFailed]);
        // Another refund of another amount does not answer it.
        refund(&mut paid, 200, false);
        assert_eq!(paid.attention(now, day), vec![Attention::RefundFailed]);
        // One of the same amount does.
        refund(&mut paid, 300, false);
        assert!(paid.attention(now, day).is_empty());
        // A duplicate of a refund that took all that remained: nothing is
        // owed, nothing to flag.
        let rest = total - 500;
        refund(&mut paid, rest, false);
        let refused = crate::ProviderRefund {
            id: crate::ProviderRefundId::parse("re_duplicate").unwrap(),
            amount: eur(rest),
            status: crate::RefundStatus::Failed,
            refund_id: Some(crate::RefundId::generate()),
            made_at: now,
        };
        paid.attempts[0].merge_provider_money(&[refused], &[], now);
        assert_eq!(paid.attempts[0].refunds().len(), 5);
        assert!(paid.attention(now, day).is_empty());
    }

    #[test]
    fn filters_read_back_from_their_codes() {
        for filter in OrderFilter::ALL {
            assert_eq!(OrderFilter::parse(filter.code()), Some(filter));
        }
        assert_eq!(OrderFilter::parse("everything"), None);
        let attention = [Attention::ChargedBack];
        assert!(OrderFilter::NeedsAttention.matches(OrderStatus::Paid, &attention));
        assert!(!OrderFilter::NeedsAttention.matches(OrderStatus::Paid, &[]));
        assert!(OrderFilter::AwaitingPayment.matches(OrderStatus::PaymentPending, &[]));
    }
}
