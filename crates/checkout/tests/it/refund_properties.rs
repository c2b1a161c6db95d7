//! Property tests of the refund ledger: whatever the provider reports, in
//! whatever order and however often, each refund is counted once, its
//! status ends at the provider's final one, and what is refunded never
//! exceeds what was paid.

use checkout::{
    Currency, Money, OrderId, PaymentAttempt, PaymentStatus, ProviderRefund, ProviderRefundId,
    RefundStatus,
};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use time::OffsetDateTime;

const PAID_CENTS: i64 = 10_000;

/// Up to four refunds the provider made: amount, and the final status each
/// reaches (pending, maybe processing, then refunded, failed or canceled).
fn provider_refunds() -> impl Strategy<Value = Vec<(i64, Vec<RefundStatus>)>> {
    use RefundStatus::*;
    prop::collection::vec(
        (
            1..=2_500i64, // four at most: never more than paid, as at the provider
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

proptest! {
    #[test]
    fn each_refund_counts_once_and_ends_at_the_providers_status(
        refunds in provider_refunds(),
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
                    reports.push(ProviderRefund {
                        id: id.clone(),
                        amount: Money::new(*cents, Currency::EUR),
                        status: *status,
                        refund_id: None,
                    });
                }
            }
        }
        reports.shuffle(&mut StdRng::seed_from_u64(seed));
        for report in &reports {
            attempt.merge_refunds(std::slice::from_ref(report), now);
        }

        prop_assert_eq!(attempt.refunds.len(), refunds.len());
        for (i, (_, history)) in refunds.iter().enumerate() {
            let id = ProviderRefundId::parse(&format!("re_{i}")).unwrap();
            let stored: Vec<_> = attempt
                .refunds
                .iter()
                .filter(|r| r.provider_refund_id.as_ref() == Some(&id))
                .collect();
            prop_assert_eq!(stored.len(), 1);
            prop_assert_eq!(stored[0].status, *history.last().unwrap());
        }
        let counted: i64 = refunds
            .iter()
            .filter(|(_, h)| *h.last().unwrap() == RefundStatus::Refunded)
            .map(|(cents, _)| cents)
            .sum();
        prop_assert_eq!(attempt.refunded().minor_units, counted);
        prop_assert!(attempt.refunded().minor_units <= PAID_CENTS);
    }
}
