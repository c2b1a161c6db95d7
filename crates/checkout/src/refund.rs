//! Refunds of a payment that took money. The shop's own are stored first
//! (`requested`), then created at the provider with our id as the
//! idempotency key; the provider's (made in its dashboard) are added when
//! they are first seen. What the provider reports is merged in: a refund's
//! status only moves forward, each refund is counted once however often
//! and in whatever order it is reported, and what is refunded never
//! exceeds what was paid.

use crate::ids::{ProviderRefundId, RefundId};
use crate::money::Money;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// requested -> pending -> processing -> refunded | failed | canceled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RefundStatus {
    /// Stored by us; the provider has not confirmed it yet.
    Requested,
    Pending,
    Processing,
    Refunded,
    Failed,
    Canceled,
}

impl RefundStatus {
    fn rank(self) -> u8 {
        match self {
            Self::Requested => 0,
            Self::Pending => 1,
            Self::Processing => 2,
            Self::Refunded | Self::Failed | Self::Canceled => 3,
        }
    }

    pub fn is_final(self) -> bool {
        self.rank() == 3
    }

    /// As stored and as receivers of events see it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Pending => "pending",
            Self::Processing => "processing",
            Self::Refunded => "refunded",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
        }
    }

    /// Takes from what remains refundable (a failed or canceled one gives
    /// it back).
    pub fn counts(self) -> bool {
        !matches!(self, Self::Failed | Self::Canceled)
    }
}

/// A refund of a payment. Its state is private: read through the
/// accessors, changed only by this module's rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refund {
    state: RefundParts,
}

/// Every field of a refund, for a store to keep and give back unchanged
/// ([`Refund::to_parts`], [`Refund::from_parts`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundParts {
    pub id: RefundId,
    /// Once the provider created it.
    pub provider_refund_id: Option<ProviderRefundId>,
    pub amount: Money,
    pub status: RefundStatus,
    /// Made at the provider (its dashboard), not by the shop.
    pub from_provider: bool,
    /// When we recorded it: asked for it, or first saw it.
    pub created_at: OffsetDateTime,
    /// When the provider made it, once it reported it.
    pub made_at: Option<OffsetDateTime>,
}

impl Refund {
    /// What a store keeps of it.
    pub fn to_parts(&self) -> RefundParts {
        self.state.clone()
    }

    /// The refund a store kept, as [`Self::to_parts`] gave it.
    pub fn from_parts(parts: RefundParts) -> Self {
        Self { state: parts }
    }

    /// Ours, or one the provider reported that we had not made.
    pub fn id(&self) -> &RefundId {
        &self.state.id
    }

    /// Once the provider created it.
    pub fn provider_refund_id(&self) -> &Option<ProviderRefundId> {
        &self.state.provider_refund_id
    }

    pub fn amount(&self) -> Money {
        self.state.amount
    }

    pub fn status(&self) -> RefundStatus {
        self.state.status
    }

    /// Made at the provider (its dashboard), not by the shop.
    pub fn from_provider(&self) -> bool {
        self.state.from_provider
    }

    /// When we recorded it: asked for it, or first saw it.
    pub fn created_at(&self) -> OffsetDateTime {
        self.state.created_at
    }

    /// When the provider made it, once it reported it.
    pub fn made_at(&self) -> Option<OffsetDateTime> {
        self.state.made_at
    }
}

/// A refund as the provider reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderRefund {
    pub id: ProviderRefundId,
    pub amount: Money,
    pub status: RefundStatus,
    /// Ours, when the shop made it (from its metadata).
    pub refund_id: Option<RefundId>,
    /// When the provider made it.
    pub made_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefundRequestError {
    #[error("the payment has not taken money")]
    NotPaid,
    #[error("a refund must be more than zero, in the payment's currency")]
    InvalidAmount,
    #[error("{requested} is more than the {remaining} that remains refundable")]
    MoreThanRemains { requested: Money, remaining: Money },
    #[error("this refund was asked for before with another amount")]
    IdReused,
}

/// What counting refunds take from a payment in `currency`. Every refund
/// is in it: ours are checked when asked for, and a provider's report
/// with one in another currency is refused whole
/// ([`crate::payment_report`]); the filter only keeps a sum from adding
/// two currencies. No sum of real refunds overflows; it saturates rather
/// than wraps, whatever a record says.
pub(crate) fn refunded(currency: crate::Currency, refunds: &[Refund]) -> Money {
    let minor = refunds
        .iter()
        .filter(|r| r.state.status.counts() && r.state.amount.currency() == currency)
        .fold(0u64, |sum, r| {
            sum.saturating_add(r.state.amount.minor_units())
        });
    Money::new(minor, currency)
}

/// A refund the shop asked for, by its id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefundRequested {
    /// Recorded now, `requested`.
    New,
    /// This id was asked for before (a second submit of the same form):
    /// nothing is added; it is sent to the provider again with the same
    /// idempotency key, which makes no second refund.
    Again,
}

/// Records refund `id` the shop starts, `requested`, if `remaining` allows.
pub(crate) fn request(
    remaining: Money,
    refunds: &mut Vec<Refund>,
    id: &RefundId,
    amount: Money,
    now: OffsetDateTime,
) -> Result<RefundRequested, RefundRequestError> {
    if let Some(known) = refunds.iter().find(|r| r.state.id == *id) {
        return if known.state.amount == amount {
            Ok(RefundRequested::Again)
        } else {
            Err(RefundRequestError::IdReused)
        };
    }
    if amount.currency() != remaining.currency() || amount.is_zero() {
        return Err(RefundRequestError::InvalidAmount);
    }
    if amount > remaining {
        return Err(RefundRequestError::MoreThanRemains {
            requested: amount,
            remaining,
        });
    }
    refunds.push(Refund::from_parts(RefundParts {
        id: id.clone(),
        provider_refund_id: None,
        amount,
        status: RefundStatus::Requested,
        from_provider: false,
        created_at: now,
        made_at: None,
    }));
    Ok(RefundRequested::New)
}

/// Refund `id`, still requested, failed: the provider refused it and does
/// not report it. True when it changed.
pub(crate) fn fail_requested(refunds: &mut [Refund], id: &RefundId) -> bool {
    match refunds
        .iter_mut()
        .find(|r| r.state.id == *id && r.state.status == RefundStatus::Requested)
    {
        Some(refund) => {
            refund.state.status = RefundStatus::Failed;
            true
        }
        None => false,
    }
}

/// How long Mollie refuses a second refund of the same amount on one
/// payment after the first ("about an hour"): a 409 on a create then means
/// "already done", not "send it again".
pub const SAME_AMOUNT_REFUSED_FOR: time::Duration = time::Duration::minutes(60);

/// The refund that makes the provider refuse refund `id` of `amount` as a
/// duplicate: another of the same amount that counts and that the
/// provider made within [`SAME_AMOUNT_REFUSED_FOR`] (by the provider's
/// own time of making it; when we recorded it says nothing: ours are
/// recorded before they are made, the dashboard's when first seen).
pub(crate) fn same_amount_made_recently<'a>(
    refunds: &'a [Refund],
    id: &RefundId,
    amount: Money,
    now: OffsetDateTime,
) -> Option<&'a Refund> {
    refunds.iter().find(|r| {
        r.state.id != *id
            && r.state.amount == amount
            && r.state.status.counts()
            && r.state
                .made_at
                .is_some_and(|made| now - made < SAME_AMOUNT_REFUSED_FOR)
    })
}

/// Merges what the provider reports; true when anything changed. A refund
/// is matched by the provider's id, else by ours (a refund we requested
/// whose create answer was lost); one matching neither was made at the
/// provider and is added. A status only moves forward, except one we set
/// to failed ourselves without the provider's word.
pub(crate) fn merge(
    refunds: &mut Vec<Refund>,
    seen: &[ProviderRefund],
    now: OffsetDateTime,
) -> bool {
    let mut changed = false;
    for report in seen {
        let known = refunds.iter().position(|r| {
            r.state.provider_refund_id.as_ref() == Some(&report.id)
                || (r.state.provider_refund_id.is_none()
                    && report.refund_id.as_ref() == Some(&r.state.id))
        });
        match known {
            Some(index) => {
                let refund = &mut refunds[index];
                // Failed by us, never seen at the provider: we inferred it
                // from a refusal; the provider's word wins.
                let failed_here = refund.state.provider_refund_id.is_none()
                    && refund.state.status == RefundStatus::Failed;
                if refund.state.provider_refund_id.is_none() {
                    refund.state.provider_refund_id = Some(report.id.clone());
                    changed = true;
                }
                if refund.state.made_at.is_none() {
                    refund.state.made_at = Some(report.made_at);
                    changed = true;
                }
                let moves = report.status.rank() > refund.state.status.rank()
                    || (failed_here && report.status != refund.state.status);
                if moves {
                    refund.state.status = report.status;
                    changed = true;
                }
            }
            None => {
                refunds.push(Refund::from_parts(RefundParts {
                    id: report.refund_id.clone().unwrap_or_else(RefundId::generate),
                    provider_refund_id: Some(report.id.clone()),
                    amount: report.amount,
                    status: report.status,
                    from_provider: report.refund_id.is_none(),
                    created_at: now,
                    made_at: Some(report.made_at),
                }));
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

    fn eur(cents: u64) -> Money {
        Money::new(cents, Currency::EUR)
    }

    fn report(
        id: &str,
        cents: u64,
        status: RefundStatus,
        ours: Option<&RefundId>,
    ) -> ProviderRefund {
        ProviderRefund {
            id: ProviderRefundId::parse(id).unwrap(),
            amount: eur(cents),
            status,
            refund_id: ours.cloned(),
            made_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_refund_is_refused_beyond_what_remains_and_matched_by_our_id() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let remaining =
            |refunds: &[Refund]| eur(2950 - refunded(Currency::EUR, refunds).minor_units());
        let mut refunds = Vec::new();
        let ours = RefundId::generate();
        let asked = request(remaining(&refunds), &mut refunds, &ours, eur(1200), now);
        assert_eq!(asked, Ok(RefundRequested::New));
        let again = request(remaining(&refunds), &mut refunds, &ours, eur(1200), now);
        assert_eq!(again, Ok(RefundRequested::Again));
        let other = request(remaining(&refunds), &mut refunds, &ours, eur(100), now);
        assert_eq!(other, Err(RefundRequestError::IdReused));
        assert_eq!(refunds.len(), 1);
        let next = RefundId::generate();
        assert_eq!(
            request(remaining(&refunds), &mut refunds, &next, eur(1751), now),
            Err(RefundRequestError::MoreThanRemains {
                requested: eur(1751),
                remaining: eur(1750)
            })
        );
        assert_eq!(
            request(remaining(&refunds), &mut refunds, &next, eur(0), now),
            Err(RefundRequestError::InvalidAmount)
        );
        // The create's answer was lost; the provider reports it with our id.
        let pending = report("re_1", 1200, RefundStatus::Pending, Some(&ours));
        assert!(merge(&mut refunds, std::slice::from_ref(&pending), now));
        assert!(!merge(&mut refunds, std::slice::from_ref(&pending), now));
        assert_eq!(refunds.len(), 1);
        assert_eq!(
            refunds[0].state.provider_refund_id,
            ProviderRefundId::parse("re_1")
        );
        // A failed refund gives its amount back.
        let failed = report("re_1", 1200, RefundStatus::Failed, Some(&ours));
        assert!(merge(&mut refunds, &[failed], now));
        assert_eq!(refunded(Currency::EUR, &refunds), eur(0));
        // Final: a late "pending" changes nothing.
        assert!(!merge(&mut refunds, &[pending], now));
        // Failed by us on a refusal, then reported made: the provider wins.
        let ours_too = RefundId::generate();
        request(eur(2950), &mut refunds, &ours_too, eur(300), now).unwrap();
        assert!(fail_requested(&mut refunds, &ours_too));
        assert!(!fail_requested(&mut refunds, &ours_too));
        let made = report("re_9", 300, RefundStatus::Pending, Some(&ours_too));
        assert!(merge(&mut refunds, &[made], now));
        assert_eq!(refunds.last().unwrap().state.status, RefundStatus::Pending);
        refunds.pop();
        // Made in the provider's dashboard: added.
        assert!(merge(
            &mut refunds,
            &[report("re_2", 500, RefundStatus::Refunded, None)],
            now
        ));
        assert!(refunds[1].state.from_provider);
        assert_eq!(refunded(Currency::EUR, &refunds), eur(500));
    }

    #[test]
    fn a_same_amount_refund_the_provider_made_within_the_hour_blocks_another() {
        let made = OffsetDateTime::UNIX_EPOCH + time::Duration::hours(5);
        let report_made_at =
            |id: &str, cents: u64, ours: &RefundId, at: OffsetDateTime| ProviderRefund {
                made_at: at,
                ..report(id, cents, RefundStatus::Pending, Some(ours))
            };
        let ours = RefundId::generate();
        let other = RefundId::generate();
        let mut refunds = Vec::new();
        // Both recorded long before the provider made the other (it was
        // down): when we recorded them says nothing.
        let recorded = made - time::Duration::hours(2);
        request(eur(5000), &mut refunds, &ours, eur(500), recorded).unwrap();
        request(eur(4500), &mut refunds, &other, eur(500), recorded).unwrap();
        // Not made at the provider yet: nothing blocks ours.
        assert_eq!(
            same_amount_made_recently(&refunds, &ours, eur(500), made),
            None
        );
        // Made now: it blocks ours for the provider's hour, only of its amount.
        merge(
            &mut refunds,
            &[report_made_at("re_1", 500, &other, made)],
            made,
        );
        let later = made + time::Duration::minutes(59);
        assert_eq!(
            same_amount_made_recently(&refunds, &ours, eur(500), later).map(|r| &r.state.id),
            Some(&other)
        );
        assert_eq!(
            same_amount_made_recently(&refunds, &ours, eur(400), later),
            None
        );
        let after_the_hour = made + SAME_AMOUNT_REFUSED_FOR;
        assert_eq!(
            same_amount_made_recently(&refunds, &ours, eur(500), after_the_hour),
            None
        );
        // Seen only now, made two hours ago (in the dashboard): no block.
        let dashboard = report("re_2", 700, RefundStatus::Refunded, None);
        let mut seen_late = Vec::new();
        merge(
            &mut seen_late,
            &[ProviderRefund {
                made_at: made,
                ..dashboard
            }],
            made + time::Duration::hours(2),
        );
        let now = made + time::Duration::hours(2);
        assert_eq!(
            same_amount_made_recently(&seen_late, &ours, eur(700), now),
            None
        );
        // A failed one blocks nothing.
        merge(
            &mut refunds,
            &[ProviderRefund {
                status: RefundStatus::Failed,
                ..report_made_at("re_1", 500, &other, made)
            }],
            later,
        );
        assert_eq!(
            same_amount_made_recently(&refunds, &ours, eur(500), later),
            None
        );
    }
}
