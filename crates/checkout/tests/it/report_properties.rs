//! Property tests of what a provider's report does to an attempt
//! (`apply_report`): whatever attempt and whatever report, a report that is
//! not the attempt's changes nothing, a status never moves back, the same
//! report twice changes nothing the second time, a verdict of "unchanged"
//! leaves the attempt as it was, money is taken back only from an attempt
//! that took it, and an unexpected `paid` is recorded, never dropped.

use crate::stage;
use checkout::{
    apply_report, Currency, IncidentKind, Money, OrderId, OurAccount, PaymentAttempt,
    PaymentMetadata, PaymentMode, PaymentStatus, ProviderChargeback, ProviderChargebackId,
    ProviderPayment, ProviderPaymentId, ProviderRefund, ProviderRefundId, RefundStatus,
    StatusChange, Verdict,
};
use proptest::prelude::*;
use time::OffsetDateTime;

const PAID_CENTS: u64 = 5_000;
const OURS: OurAccount<'static> = OurAccount {
    mode: PaymentMode::Test,
    profile_id: Some("pfl_ours"),
};

fn any_status() -> impl Strategy<Value = PaymentStatus> {
    prop::sample::select(PaymentStatus::ALL.to_vec())
}

/// An attempt as it can be stored: the statuses it observed, whether the
/// provider's id was recorded, and maybe a late `paid` already recorded.
fn stored_attempt() -> impl Strategy<Value = PaymentAttempt> {
    (
        prop::collection::vec(any_status(), 0..4),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(seen, id_known, incident)| {
            let now = OffsetDateTime::UNIX_EPOCH;
            let mut attempt = PaymentAttempt::new(
                OrderId::generate(),
                Money::new(PAID_CENTS, Currency::EUR),
                now,
            );
            if id_known {
                attempt.record_provider_payment(provider_id(), Some("https://pay".into()));
            }
            for status in seen {
                attempt.observe(status);
            }
            if incident && attempt.status().is_final() && !attempt.has_taken_money() {
                attempt.record_incident(IncidentKind::PaidAfterGivenUp, now);
            }
            attempt
        })
}

fn provider_id() -> ProviderPaymentId {
    ProviderPaymentId::parse("tr_report1").unwrap()
}

/// What can differ between a report and the attempt it is applied to.
#[derive(Clone, Copy, Debug)]
enum Fault {
    None,
    OtherMetadata,
    OtherPaymentId,
    OtherAmount,
    OtherMode,
    OtherProfile,
    /// A chargeback in another currency than the payment's.
    OtherCurrency,
}

fn report_for(
    attempt: &PaymentAttempt,
    status: Option<PaymentStatus>,
    refunds: &[(u64, RefundStatus)],
    fault: Fault,
) -> ProviderPayment {
    let mut metadata = PaymentMetadata {
        order_id: attempt.order_id().clone(),
        attempt_id: attempt.id().clone(),
    };
    let mut payment = ProviderPayment {
        id: provider_id(),
        mode: PaymentMode::Test,
        profile_id: Some("pfl_ours".into()),
        status,
        amount: attempt.amount(),
        checkout_url: None,
        metadata: None,
        refunds: refunds
            .iter()
            .enumerate()
            .map(|(i, &(cents, status))| ProviderRefund {
                id: ProviderRefundId::parse(&format!("re_report{i}")).unwrap(),
                amount: Money::new(cents, Currency::EUR),
                status,
                refund_id: None,
                made_at: OffsetDateTime::UNIX_EPOCH,
            })
            .collect(),
        chargebacks: Vec::new(),
        captured: None,
        capture_before: None,
        // So that "unchanged leaves the attempt as it was" covers the method too.
        method: Some("iDEAL".into()),
    };
    match fault {
        Fault::None => {}
        Fault::OtherMetadata => metadata.attempt_id = checkout::AttemptId::generate(),
        Fault::OtherPaymentId => payment.id = ProviderPaymentId::parse("tr_another1").unwrap(),
        Fault::OtherAmount => payment.amount = Money::new(PAID_CENTS + 1, Currency::EUR),
        Fault::OtherMode => payment.mode = PaymentMode::Live,
        Fault::OtherProfile => payment.profile_id = Some("pfl_theirs".into()),
        Fault::OtherCurrency => payment.chargebacks.push(ProviderChargeback {
            id: ProviderChargebackId::parse("chb_usd1").unwrap(),
            amount: Money::new(100, Currency::USD),
            reason: None,
            reversed_at: None,
        }),
    }
    payment.metadata = Some(metadata);
    payment
}

fn any_fault() -> impl Strategy<Value = Fault> {
    prop::sample::select(vec![
        Fault::None,
        Fault::None,
        Fault::None,
        Fault::OtherMetadata,
        Fault::OtherPaymentId,
        Fault::OtherAmount,
        Fault::OtherMode,
        Fault::OtherProfile,
        Fault::OtherCurrency,
    ])
}

fn any_refunds() -> impl Strategy<Value = Vec<(u64, RefundStatus)>> {
    use RefundStatus::*;
    prop::collection::vec(
        (
            1..=PAID_CENTS / 2,
            prop::sample::select(vec![Pending, Processing, Refunded, Failed, Canceled]),
        ),
        // Two at most: never more than was paid, as at the provider.
        0..=2,
    )
}

proptest! {
    #[test]
    fn a_report_moves_an_attempt_forward_only_and_once(
        stored in stored_attempt(),
        status in prop::option::of(any_status()),
        refunds in any_refunds(),
        fault in any_fault(),
    ) {
        let now = OffsetDateTime::UNIX_EPOCH + time::Duration::hours(1);
        let payment = report_for(&stored, status, &refunds, fault);
        let mut attempt = stored.clone();
        let verdict = apply_report(&mut attempt, &payment, OURS, now);

        // The version is the write's, never the decision's.
        prop_assert_eq!(attempt.version(), stored.version());
        match verdict {
            Verdict::Mismatch(_) | Verdict::UnknownStatus | Verdict::Unchanged { .. } => {
                prop_assert_eq!(&attempt, &stored);
            }
            Verdict::Changed(_) => prop_assert_ne!(&attempt, &stored),
        }
        let ours = matches!(fault, Fault::None)
            // A stored id the report shares is no fault; none stored, neither.
            || (matches!(fault, Fault::OtherPaymentId) && stored.provider_payment_id().is_none());
        if !ours {
            prop_assert!(matches!(verdict, Verdict::Mismatch(_)), "{:?} for {:?}", verdict, fault);
        }
        if ours && status.is_none() {
            prop_assert_eq!(verdict, Verdict::UnknownStatus);
        }
        // Forward only; a final status stays.
        prop_assert!(stage(attempt.status()) >= stage(stored.status()));
        if stored.status().is_final() {
            prop_assert_eq!(attempt.status(), stored.status());
        }
        // Money comes back only from an attempt that took it.
        if !attempt.has_taken_money() {
            prop_assert!(attempt.refunds().is_empty());
        }
        prop_assert!(attempt.refunded().minor_units() <= PAID_CENTS);
        // A `paid` on an attempt given up is an incident, not dropped.
        if ours && status == Some(PaymentStatus::Paid) {
            prop_assert!(attempt.has_taken_money());
        }
        if let Verdict::Changed(changes) = verdict {
            prop_assert_eq!(
                changes.paid_after_given_up,
                stored.status().is_final() && !stored.has_taken_money()
                    && status == Some(PaymentStatus::Paid)
            );
            if let StatusChange::Advanced(next) = changes.status {
                prop_assert_eq!(Some(next), status);
            }
        }

        // The same report again: nothing new.
        let after_first = attempt.clone();
        let again = apply_report(&mut attempt, &payment, OURS, now);
        prop_assert!(
            !matches!(again, Verdict::Changed(_)),
            "the same report changed {:?} again: {:?}", after_first, again
        );
        prop_assert_eq!(&attempt, &after_first);
    }
}
