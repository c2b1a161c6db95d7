//! What happened to the money of an order: what its payments took, and what
//! refunds and chargebacks took back. The order's money status is derived
//! from it, never stored.

use crate::money::Money;
use crate::payment::PaymentAttempt;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ledger {
    /// What the provider took.
    pub paid: Money,
    /// Refunds that did not fail and were not canceled (also those still
    /// on their way).
    pub refunded: Money,
    /// Chargebacks the bank did not reverse.
    pub charged_back: Money,
}

/// An order's money after it was paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MoneyStatus {
    Paid,
    PartiallyRefunded,
    Refunded,
    /// The shopper's bank took (some of) it back.
    ChargedBack,
}

impl Ledger {
    /// The ledger of one attempt that took money.
    pub fn of_attempt(attempt: &PaymentAttempt) -> Self {
        let currency = attempt.amount().currency();
        Self {
            paid: attempt.taken(),
            refunded: crate::refund::refunded(currency, attempt.refunds()),
            charged_back: crate::chargeback::charged_back(currency, attempt.chargebacks()),
        }
    }

    /// The order's ledger: every attempt that took money counts (two tabs
    /// can pay twice); `None` when none did.
    pub fn of_order(attempts: &[PaymentAttempt]) -> Option<Self> {
        attempts
            .iter()
            .filter(|a| a.has_taken_money())
            .map(Self::of_attempt)
            .reduce(|sum, next| Self {
                paid: add(sum.paid, next.paid),
                refunded: add(sum.refunded, next.refunded),
                charged_back: add(sum.charged_back, next.charged_back),
            })
    }

    /// What may still be refunded (never below zero: a bank may charge
    /// back a payment that was refunded too).
    pub fn remaining(&self) -> Money {
        let left =
            self.paid.minor_units() - self.refunded.minor_units() - self.charged_back.minor_units();
        Money::new(left.max(0), self.paid.currency())
    }

    pub fn status(&self) -> MoneyStatus {
        if self.charged_back.minor_units() > 0 {
            MoneyStatus::ChargedBack
        } else if self.paid.minor_units() > 0
            && self.refunded.minor_units() >= self.paid.minor_units()
        {
            MoneyStatus::Refunded
        } else if self.refunded.minor_units() > 0 {
            MoneyStatus::PartiallyRefunded
        } else {
            MoneyStatus::Paid
        }
    }
}

fn add(a: Money, b: Money) -> Money {
    Money::new(a.minor_units() + b.minor_units(), a.currency())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    fn ledger(paid: i64, refunded: i64, charged_back: i64) -> Ledger {
        let eur = |cents| Money::new(cents, Currency::EUR);
        Ledger {
            paid: eur(paid),
            refunded: eur(refunded),
            charged_back: eur(charged_back),
        }
    }

    #[test]
    fn the_money_status_follows_the_ledger() {
        assert_eq!(ledger(2950, 0, 0).status(), MoneyStatus::Paid);
        assert_eq!(
            ledger(2950, 1200, 0).status(),
            MoneyStatus::PartiallyRefunded
        );
        assert_eq!(ledger(2950, 2950, 0).status(), MoneyStatus::Refunded);
        assert_eq!(ledger(2950, 1200, 1750).status(), MoneyStatus::ChargedBack);
        assert_eq!(ledger(2950, 1200, 1000).remaining().minor_units(), 750);
        // Refunded, then charged back all the same: nothing remains.
        assert_eq!(ledger(2950, 2950, 2950).remaining().minor_units(), 0);
        // Nothing captured is not "refunded".
        assert_eq!(ledger(0, 0, 0).status(), MoneyStatus::Paid);
    }
}
