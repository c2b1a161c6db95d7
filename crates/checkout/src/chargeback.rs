//! Chargebacks: the shopper's bank took money back from a paid payment. The
//! provider reports them (the shop cannot make one); each is recorded once
//! by the provider's id, and a reversal (the bank gave the money back) only
//! ever moves forward: no later report, however stale, un-reverses one or
//! removes one.

use crate::ids::ProviderChargebackId;
use crate::money::Money;
use time::OffsetDateTime;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chargeback {
    pub id: ProviderChargebackId,
    pub amount: Money,
    /// The bank's reason, as the provider words it.
    pub reason: Option<String>,
    /// When the bank reversed it (the money came back), if it did.
    pub reversed_at: Option<OffsetDateTime>,
    /// When we first saw it.
    pub recorded_at: OffsetDateTime,
}

impl Chargeback {
    /// Takes money from the payment: not reversed.
    pub fn counts(&self) -> bool {
        self.reversed_at.is_none()
    }
}

/// A chargeback as the provider reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderChargeback {
    pub id: ProviderChargebackId,
    pub amount: Money,
    pub reason: Option<String>,
    pub reversed_at: Option<OffsetDateTime>,
}

/// What counting chargebacks take from a payment in `currency` (all are
/// in it, as refunds are: see [`crate::refund`]'s `refunded`).
pub(crate) fn charged_back(currency: crate::Currency, chargebacks: &[Chargeback]) -> Money {
    let minor = chargebacks
        .iter()
        .filter(|c| c.counts() && c.amount.currency() == currency)
        .fold(0u64, |sum, c| sum.saturating_add(c.amount.minor_units()));
    Money::new(minor, currency)
}

/// Merges what the provider reports; true when anything changed. A new id
/// is added; a known one only gains a reversal (or a reason) it lacked.
pub(crate) fn merge(
    chargebacks: &mut Vec<Chargeback>,
    seen: &[ProviderChargeback],
    now: OffsetDateTime,
) -> bool {
    let mut changed = false;
    for report in seen {
        match chargebacks.iter_mut().find(|c| c.id == report.id) {
            Some(known) => {
                if known.reversed_at.is_none() && report.reversed_at.is_some() {
                    known.reversed_at = report.reversed_at;
                    changed = true;
                }
                if known.reason.is_none() && report.reason.is_some() {
                    known.reason.clone_from(&report.reason);
                    changed = true;
                }
            }
            None => {
                chargebacks.push(Chargeback {
                    id: report.id.clone(),
                    amount: report.amount,
                    reason: report.reason.clone(),
                    reversed_at: report.reversed_at,
                    recorded_at: now,
                });
                changed = true;
            }
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    #[test]
    fn a_chargeback_is_added_once_and_its_reversal_sticks() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let received = ProviderChargeback {
            id: ProviderChargebackId::parse("chb_1").unwrap(),
            amount: Money::new(2950, Currency::EUR),
            reason: None,
            reversed_at: None,
        };
        let mut chargebacks = Vec::new();
        assert!(merge(
            &mut chargebacks,
            std::slice::from_ref(&received),
            now
        ));
        assert!(!merge(
            &mut chargebacks,
            std::slice::from_ref(&received),
            now
        ));
        assert_eq!(
            charged_back(Currency::EUR, &chargebacks).minor_units(),
            2950
        );
        let reversed = ProviderChargeback {
            reversed_at: Some(now),
            ..received.clone()
        };
        assert!(merge(&mut chargebacks, &[reversed], now));
        assert_eq!(charged_back(Currency::EUR, &chargebacks).minor_units(), 0);
        // A stale report from before the reversal changes nothing.
        assert!(!merge(&mut chargebacks, &[received], now));
        assert_eq!(chargebacks.len(), 1);
        assert!(!chargebacks[0].counts());
    }
}
