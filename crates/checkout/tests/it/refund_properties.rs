//! Property tests of the ledger: whatever the provider reports, in
//! whatever order and however often, each refund and chargeback is counted
//! once, a refund's status ends at the provider's final one, a reversed
//! chargeback stays reversed (a late report never clears it), and refunded
//! plus charged back never exceeds what was paid.

use checkout::{
    Currency, Money, OrderId, PaymentAttempt, PaymentStatus, ProviderChargeback,
    ProviderChargebackId, ProviderRefund, ProviderRefundId, RefundStatus,
};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use time::OffsetDateTime;

const PAID_CENTS: u64 = 10_000;

/// Up to four refunds the provider made: amount, and the final status each
/// reaches (pending, maybe processing, then refunded, failed or canceled).
fn provider_refunds() -> impl Strategy<Value = Vec<(u64, Vec<RefundStatus>)>> {
    use RefundStatus::*;
    prop::collection::vec(
        (
            1..=2_000u64, // four at most, with chargebacks never more than paid, as at the provider
            any::<bool>(),
            prop::sample::select(vec![Refunded, Failed, Canceled]),
        )
            .prop_map(|(cents, processing, last)| {
                let mut history = vec![Pending];
                if processing {
                    history.push(Processing);
                }
                history.push(last);
                (cents, history)
            }),
        0..5,
    )
}

/// Up to two chargebacks: amount, and whether the bank reverses it.
fn provider_chargebacks() -> impl Strategy<Value = Vec<(u64, bool)>> {
    prop::collection::vec((1..=1_000u64, any::<bool>()), 0..3)
}

/// One report the provider makes: of a refund or of a chargeback.
enum Report {
    Refund(ProviderRefund),
    Chargeback(ProviderChargeback),
}

proptest! {
    #[test]
    fn each_refund_and_chargeback_counts_once_and_ends_as_at_the_provider(
        refunds in provider_refunds(),
        chargebacks in provider_chargebacks(),
        repeats in prop::collection::vec(0..4usize, 5),
        seed in any::<u64>(),
    ) {
        let now = OffsetDateTime::UNIX_EPOCH;
        let mut attempt = PaymentAttempt::new(
            OrderId::generate(),
            Money::new(PAID_CENTS, Currency::EUR),
            now,
        );
        attempt.observe(PaymentStatus::Paid);
        // Every status each refund passes through, some several times, shuffled.
        let mut reports = Vec::new();
        for (i, (cents, history)) in refunds.iter().enumerate() {
            let id = ProviderRefundId::parse(&format!("re_{i}")).unwrap();
            for (step, status) in history.iter().enumerate() {
                let copies = 1 + if step == 0 { repeats[i] } else { 0 };
                for _ in 0..copies {
                    reports.push(Report::Refund(ProviderRefund {
                        id: id.clone(),
                        amount: Money::new(*cents, Currency::EUR),
                        status: *status,
                        refund_id: None,
                        made_at: now,
                    }));
                }
            }
        }
        // Each chargeback as received (some reports twice), then reversed.
        for (i, (cents, reversed)) in chargebacks.iter().enumerate() {
            let received = ProviderChargeback {
                id: ProviderChargebackId::parse(&format!("chb_{i}")).unwrap(),
                amount: Money::new(*cents, Currency::EUR),
                reason: None,
                reversed_at: None,
            };
            for _ in 0..=repeats[i] {
                reports.push(Report::Chargeback(received.clone()));
            }
            if *reversed {
                reports.push(Report::Chargeback(ProviderChargeback {
                    reversed_at: Some(now),
                    ..received
                }));
            }
        }
        reports.shuffle(&mut StdRng::seed_from_u64(seed));
        for report in &reports {
            match report {
                Report::Refund(r) => attempt.merge_provider_money(std::slice::from_ref(r), &[], now),
                Report::Chargeback(c) => attempt.merge_provider_money(&[], std::slice::from_ref(c), now),
            };
            // However far along, never more taken back than paid: the
            // provider's amounts add up to at most that, so only counting
            // one twice could exceed it.
            let ledger = attempt.ledger();
            prop_assert!(ledger.refunded.minor_units() + ledger.charged_back.minor_units() <= PAID_CENTS);
        }

        prop_assert_eq!(attempt.refunds().len(), refunds.len());
        for (i, (_, history)) in refunds.iter().enumerate() {
            let id = ProviderRefundId::parse(&format!("re_{i}")).unwrap();
            let stored: Vec<_> = attempt
                .refunds()
                .iter()
                .filter(|r| r.provider_refund_id().as_ref() == Some(&id))
                .collect();
            prop_assert_eq!(stored.len(), 1);
            prop_assert_eq!(stored[0].status(), *history.last().unwrap());
        }
        let counted: u64 = refunds
            .iter()
            .filter(|(_, h)| *h.last().unwrap() == RefundStatus::Refunded)
            .map(|(cents, _)| cents)
            .sum();
        prop_assert_eq!(attempt.refunded().minor_units(), counted);
        prop_assert_eq!(attempt.chargebacks().len(), chargebacks.len());
        let charged_back: u64 = chargebacks
            .iter()
            .filter(|(_, reversed)| !reversed)
            .map(|(cents, _)| cents)
            .sum();
        prop_assert_eq!(attempt.ledger().charged_back.minor_units(), charged_back);
    }
}
