//! What the provider's report of a payment does to our attempt: a pure
//! function of the attempt, the report and the time. The service reads
//! the attempt, writes what changed and logs around it; the webhook, the
//! reconciler, refresh on read and a create's answer all come here.

use crate::payment::{IncidentKind, PaymentAttempt, PaymentStatus, StatusChange};
use crate::ports::{PaymentMode, ProviderPayment};
use time::OffsetDateTime;

/// The account our credentials pay into: a payment of another mode or
/// profile is not ours, whatever its metadata says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OurAccount<'a> {
    pub mode: PaymentMode,
    /// `None`: not configured, any profile.
    pub profile_id: Option<&'a str>,
}

/// What a report decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Not our attempt's payment (a security event): the attempt is
    /// untouched. Says what differed.
    Mismatch(&'static str),
    /// A status this code does not know: the attempt is untouched.
    UnknownStatus,
    /// Nothing new; the attempt is untouched. `stale`: the report's status
    /// was older than ours (a late or reordered report).
    Unchanged { stale: bool },
    /// The attempt changed: to be written.
    Changed(Changes),
}

/// What a report changed on the attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Changes {
    /// The status machine's answer (`Advanced`, or `Stale` / `Unchanged`
    /// when only something else changed).
    pub status: StatusChange,
    /// The provider's id was recorded now (a webhook beat the write that
    /// records it).
    pub recorded_provider_id: bool,
    /// Captures, refunds or chargebacks changed.
    pub money: bool,
    /// `paid` on an attempt we had given up: the shopper was charged, an
    /// incident is recorded for the operator.
    pub paid_after_given_up: bool,
}

/// Applies `payment` to `attempt`, after checking that it is the attempt's
/// payment (its metadata, its id once known, its amount, our account).
/// Forward only: a status never moves back, money reports are merged
/// (each counted once), a `paid` we did not expect becomes an incident.
/// The version is not touched: writing bumps it.
pub fn apply_report(
    attempt: &mut PaymentAttempt,
    payment: &ProviderPayment,
    account: OurAccount<'_>,
    now: OffsetDateTime,
) -> Verdict {
    if let Some(mismatch) = mismatch(attempt, payment, account) {
        return Verdict::Mismatch(mismatch);
    }
    let Some(observed) = payment.status else {
        return Verdict::UnknownStatus;
    };
    let had_taken_money = attempt.has_taken_money();
    let recorded_provider_id = attempt.provider_payment_id().is_none();
    if recorded_provider_id {
        attempt.record_provider_payment(payment.id.clone(), payment.checkout_url.clone());
    }
    let status = attempt.observe(observed);
    // First, so that the same report's refunds count on money now taken.
    let paid_after_given_up = observed == PaymentStatus::Paid
        && !had_taken_money
        && status == StatusChange::Stale
        && attempt.record_incident(IncidentKind::PaidAfterGivenUp, now);
    // Money changes while the status stays `paid`.
    let capture_changed = attempt.merge_capture(payment.captured, payment.capture_before);
    let refunds_or_chargebacks_changed = attempt.has_taken_money()
        && attempt.merge_provider_money(&payment.refunds, &payment.chargebacks, now);
    let money = capture_changed || refunds_or_chargebacks_changed;
    let advanced = matches!(status, StatusChange::Advanced(_));
    if !recorded_provider_id && !paid_after_given_up && !money && !advanced {
        return Verdict::Unchanged {
            stale: status == StatusChange::Stale,
        };
    }
    // Rides along with a write: never a reason for one on its own. Learnt
    // before the money counts as taken, so the paying method wins.
    if !had_taken_money {
        attempt.learn_method(payment.method.as_deref());
    }
    Verdict::Changed(Changes {
        status,
        recorded_provider_id,
        money,
        paid_after_given_up,
    })
}

/// The [`Verdict::Mismatch`] of a report of our payment whose captures,
/// refunds or chargebacks are not all in its currency: not an outsider's,
/// but money that cannot be counted, for an operator to look at.
pub const MONEY_IN_ANOTHER_CURRENCY: &str = "currency of a capture, refund or chargeback";

/// Every capture, refund and chargeback the report carries is in `currency`.
fn money_in(currency: crate::Currency, payment: &ProviderPayment) -> bool {
    payment.captured.is_none_or(|c| c.currency() == currency)
        && payment
            .refunds
            .iter()
            .all(|r| r.amount.currency() == currency)
        && payment
            .chargebacks
            .iter()
            .all(|c| c.amount.currency() == currency)
}

/// Why `payment` is not the payment of `attempt`, if it is not.
fn mismatch(
    attempt: &PaymentAttempt,
    payment: &ProviderPayment,
    account: OurAccount<'_>,
) -> Option<&'static str> {
    let metadata_matches = payment
        .metadata
        .as_ref()
        .is_some_and(|m| m.order_id == *attempt.order_id() && m.attempt_id == *attempt.id());
    let same_payment = attempt
        .provider_payment_id()
        .as_ref()
        .is_none_or(|id| *id == payment.id);
    if !metadata_matches {
        Some("metadata")
    } else if !same_payment {
        Some("provider payment id")
    } else if attempt.amount() != payment.amount {
        Some("amount")
    } else if !money_in(attempt.amount().currency(), payment) {
        // Mollie moves money only in the payment's currency: a report
        // that says otherwise is refused whole, never half counted, and
        // an operator is called (see payment_sync).
        Some(MONEY_IN_ANOTHER_CURRENCY)
    } else if payment.mode != account.mode {
        Some("mode")
    } else if account
        .profile_id
        .is_some_and(|expected| payment.profile_id.as_deref() != Some(expected))
    {
        Some("profile")
    } else {
        None
    }
}
