//! What happened to the money of an order: what its payments took, and what
//! refunds and chargebacks took back. The order's money status is derived
//! from it, never stored. A ledger is read from attempts in the payment
//! module ([`Ledger::of_attempt`], [`Ledger::of_order`]).

use crate::money::Money;
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
    /// What may still be refunded (never below zero: a bank may charge
    /// back a payment that was refunded too). A ledger's amounts share
    /// the payment's currency.
    pub fn remaining(&self) -> Money {
        let zero = Money::zero(self.paid.currency());
        self.paid
            .saturating_sub(self.refunded)
            .and_then(|left| left.saturating_sub(self.charged_back))
            .unwrap_or(zero)
    }

    pub fn status(&self) -> MoneyStatus {
        if !self.charged_back.is_zero() {
            MoneyStatus::ChargedBack
        } else if !self.paid.is_zero() && self.refunded >= self.paid {
            MoneyStatus::Refunded
        } else if !self.refunded.is_zero() {
            MoneyStatus::PartiallyRefunded
        } else {
            MoneyStatus::Paid
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    fn ledger(paid: u64, refunded: u64, charged_back: u64) -> Ledger {
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
