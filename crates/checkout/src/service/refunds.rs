//! Refunding a paid order: the back office's operation (reachable from
//! tests until there is one). The caller names the refund (a back-office
//! form carries a fresh [`RefundId`], so a double submit is one refund). It
//! is stored first (`requested`), then created at the provider with that id
//! as its idempotency key, so a timeout, a crash or a second submit never
//! makes two; then the payment is read back and merged, as a webhook would.

use super::attempt_writes::Edit;
use super::CheckoutService;
use crate::ids::RefundId;
use crate::money::Money;
use crate::order::OrderId;
use crate::payment::{PaymentAttempt, ProviderPaymentId};
use crate::ports::{NewRefund, ProviderError, StoreError};
use crate::refund::{same_amount_made_recently, RefundRequestError, RefundRequested, RefundStatus};
use time::OffsetDateTime;

/// How long after a refund was recorded the reconciler may send it again:
/// Mollie keeps an idempotency key for an hour, and only with the key is a
/// second send sure not to make a second refund.
const RESEND_WITHIN: time::Duration = time::Duration::minutes(50);

/// The first send (the operator's call) or the reconciler's, with when
/// the refund was recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sending {
    First,
    Again { recorded_at: OffsetDateTime },
}

/// Why a refund was not made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefundError {
    #[error("no such order")]
    UnknownOrder,
    /// The payment named is not one of the order's that took money.
    #[error("no such payment of this order took money")]
    UnknownPayment,
    #[error(transparent)]
    Refused(#[from] RefundRequestError),
    /// The provider could not be reached, or answered that the refund is
    /// in flight: it stays `requested`; the reconciler reads the payment
    /// and sends it again with the same key.
    #[error(
        "the payment provider could not be reached; the refund is recorded and will be sent again"
    )]
    ProviderUnavailable(#[source] ProviderError),
    /// The provider refuses a refund of the same amount as one it made
    /// within the hour (Mollie's duplicate check): recorded as failed, so
    /// no resend makes it once the hour is over.
    #[error(
        "the payment provider refuses a second refund of the same amount within an hour of the first"
    )]
    DuplicateAmount(#[source] ProviderError),
    /// The provider refused it; it is recorded as failed (once the payment
    /// could be read back).
    #[error("the payment provider refused the refund")]
    ProviderRejected(#[source] ProviderError),
    /// This refund id was refused or canceled before: a new refund needs a
    /// new id.
    #[error("this refund failed before; start a new one")]
    NotMade,
    #[error("the refund could not be stored")]
    Store(#[from] StoreError),
}

impl RefundError {
    /// Refused: nothing is owed to the provider's answer or the store's,
    /// and asking the same again gets the same answer.
    pub fn is_refusal(&self) -> bool {
        !matches!(self, Self::ProviderUnavailable(_) | Self::Store(_))
    }
}

impl CheckoutService {
    /// Refunds `amount` of the order's payment as refund `refund_id`,
    /// which the order then shows with its status. Asked again with the
    /// same id and amount, it makes no second refund.
    ///
    /// # Errors
    ///
    /// [`RefundError`]: an unknown order, an order that took no money or
    /// an amount beyond what remains (nothing changes), a refund id that
    /// failed before, the provider unreachable (the refund stays requested
    /// and the reconciler sends it again) or refusing (recorded as failed),
    /// or the store failing.
    pub async fn refund(
        &self,
        order_id: &OrderId,
        refund_id: &RefundId,
        amount: Money,
    ) -> Result<(), RefundError> {
        self.refund_payment(order_id, None, refund_id, amount).await
    }

    /// [`Self::refund`] of one payment of the order: `payment` names it
    /// (an order paid twice has two to refund); `None`, the first that
    /// took money. A refund id asked again refunds its own payment,
    /// whichever is named.
    ///
    /// # Errors
    ///
    /// As [`Self::refund`], and [`RefundError::UnknownPayment`] for a
    /// payment that is not one of the order's that took money.
    pub async fn refund_payment(
        &self,
        order_id: &OrderId,
        payment: Option<&ProviderPaymentId>,
        refund_id: &RefundId,
        amount: Money,
    ) -> Result<(), RefundError> {
        let attempt = self
            .record_refund_request(order_id, payment, refund_id, amount)
            .await?;
        let recorded = attempt
            .refunds()
            .iter()
            .find(|r| r.id() == refund_id)
            .map(|r| r.status());
        match recorded {
            Some(RefundStatus::Requested) | None => {
                self.send_refund(&attempt, refund_id, amount, Sending::First)
                    .await
            }
            Some(RefundStatus::Failed | RefundStatus::Canceled) => Err(RefundError::NotMade),
            Some(_) => Ok(()),
        }
    }

    /// Sends the reconciler's way refunds still `requested` (the provider
    /// could not be reached when they were made): again, with the same
    /// idempotency key, so one that did reach the provider is not made
    /// twice. Refunds the provider already reports were merged by the
    /// refresh before this, and are not requested any more. Only while
    /// the provider keeps the key: an older one is left to the operator.
    pub(super) async fn resend_requested_refunds(&self, seen: &PaymentAttempt) {
        let attempt = match self.store.load_attempt(seen.order_id(), seen.id()).await {
            Ok(Some(attempt)) => attempt,
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(attempt_id = %seen.id(), error = %crate::error_report(&error), "could not read the attempt to resend its refunds");
                return;
            }
        };
        let now = self.clock.now();
        let requested = attempt
            .refunds()
            .iter()
            .filter(|r| r.status() == RefundStatus::Requested);
        for refund in requested {
            if now - refund.created_at() > RESEND_WITHIN {
                tracing::warn!(
                    operator_action = true,
                    order_id = %attempt.order_id(),
                    refund_id = %refund.id(),
                    "a refund is still requested after the provider forgot its idempotency key: check Mollie's dashboard before refunding again"
                );
                continue;
            }
            let again = Sending::Again {
                recorded_at: refund.created_at(),
            };
            match self
                .send_refund(&attempt, refund.id(), refund.amount(), again)
                .await
            {
                Ok(()) => {
                    tracing::info!(refund_id = %refund.id(), "a requested refund was sent again and made")
                }
                Err(error) => {
                    tracing::warn!(refund_id = %refund.id(), error = %crate::error_report(&error), "a requested refund could not be sent again")
                }
            }
        }
    }

    /// Creates a recorded refund at the provider and reads the payment
    /// back. A definite refusal, once the payment could be read back (so
    /// the provider surely did not make it), marks it failed.
    async fn send_refund(
        &self,
        attempt: &PaymentAttempt,
        refund_id: &RefundId,
        amount: Money,
        sending: Sending,
    ) -> Result<(), RefundError> {
        let order_id = attempt.order_id();
        let Some(provider_payment_id) = attempt.payment_that_took_money() else {
            return Err(RefundRequestError::NotPaid.into());
        };
        let request = NewRefund {
            refund_id: refund_id.clone(),
            amount,
            description: format!("Refund for order {order_id}"),
        };
        let created = self
            .provider
            .create_refund(provider_payment_id, &request)
            .await;
        // Maybe made: it stays requested; the reconciler reads the payment
        // (which shows it, by our id, if it was made) and else sends it
        // again with the same key.
        let created = match created {
            Err(error @ (ProviderError::Unavailable(_) | ProviderError::Malformed(_))) => {
                self.forget_paid_order(order_id);
                return Err(RefundError::ProviderUnavailable(error));
            }
            Err(error @ ProviderError::Duplicate(_)) => {
                return self
                    .settle_duplicate(attempt, refund_id, amount, sending, error)
                    .await;
            }
            created => created,
        };
        // Made or refused (a 4xx). Read the payment back and merge, as a
        // webhook would; ours is matched by its id.
        let read_back = self.refresh_attempt(attempt).await;
        if let Err(error) = &read_back {
            tracing::warn!(%order_id, error = %crate::error_report(error), "could not read the payment back after a refund; its webhook or the reconciler will bring it");
        }
        if let (Err(error), Ok(_)) = (&created, &read_back) {
            self.fail_requested_refund(order_id, attempt.id(), refund_id, sending)
                .await?;
            tracing::warn!(%order_id, %refund_id, error = %crate::error_report(error), "the provider refused a refund; recorded as failed unless it may still be in flight");
        }
        self.forget_paid_order(order_id);
        created.map(|_| ()).map_err(RefundError::ProviderRejected)
    }

    /// A 409 to a create is one of two things, and the payment read back
    /// tells which. The same key still in flight (ours, or the Mollie
    /// client's own retry of it), which Mollie then makes: ours shows up,
    /// or nothing does yet, and it stays requested. Or Mollie's refusal of
    /// a second refund of the same amount within the hour: another of that
    /// amount is there, and ours is failed, or a resend after the hour
    /// would make the refund the provider refused as a duplicate.
    async fn settle_duplicate(
        &self,
        attempt: &PaymentAttempt,
        refund_id: &RefundId,
        amount: Money,
        sending: Sending,
        error: ProviderError,
    ) -> Result<(), RefundError> {
        let order_id = attempt.order_id();
        let read_back = self.refresh_attempt(attempt).await;
        self.forget_paid_order(order_id);
        if let Err(read_error) = &read_back {
            tracing::warn!(%order_id, error = %crate::error_report(read_error), "could not read the payment back after a 409 to a refund; it stays requested");
            return Err(RefundError::ProviderUnavailable(error));
        }
        let Some(stored) = self.store.load_attempt(order_id, attempt.id()).await? else {
            return Err(RefundError::ProviderUnavailable(error));
        };
        match stored.refunds().iter().find(|r| r.id() == refund_id) {
            // Made (reported with our id) meanwhile.
            Some(ours) if ours.status().counts() && ours.status() != RefundStatus::Requested => {
                return Ok(())
            }
            // Failed or canceled meanwhile.
            Some(ours) if !ours.status().counts() => return Err(RefundError::NotMade),
            _ => {}
        }
        let now = self.clock.now();
        let Some(blocking) = same_amount_made_recently(stored.refunds(), refund_id, amount, now)
        else {
            return Err(RefundError::ProviderUnavailable(error));
        };
        // The operator may not be there (a reconciler resend): the order
        // shows it too (Attention::RefundFailed).
        tracing::warn!(operator_action = true, %order_id, %refund_id, other_refund_id = %blocking.id(), "the provider refused a refund as a duplicate of another of the same amount made within the hour; it fails unless its first send may still be in flight: refund again after the hour if the shopper is owed it");
        self.fail_requested_refund(order_id, attempt.id(), refund_id, sending)
            .await?;
        Err(RefundError::DuplicateAmount(error))
    }

    /// Stores the refund as `requested` on the attempt that took money
    /// (unless it is there already) and returns the attempt as stored.
    async fn record_refund_request(
        &self,
        order_id: &OrderId,
        payment: Option<&ProviderPaymentId>,
        refund_id: &RefundId,
        amount: Money,
    ) -> Result<PaymentAttempt, RefundError> {
        let record = self
            .store
            .load_order(order_id)
            .await?
            .ok_or(RefundError::UnknownOrder)?;
        let mut took_money = record
            .attempts
            .iter()
            .filter(|a| a.payment_that_took_money().is_some());
        // A refund id names one refund, of one payment, however asked.
        let known = took_money
            .clone()
            .find(|a| a.refunds().iter().any(|r| r.id() == refund_id));
        let chosen = match (known, payment) {
            (Some(attempt), _) => Some(attempt),
            (None, Some(id)) => {
                let named = took_money
                    .clone()
                    .find(|a| a.payment_that_took_money() == Some(id));
                Some(named.ok_or(RefundError::UnknownPayment)?)
            }
            (None, None) => took_money.next(),
        };
        let Some(chosen) = chosen else {
            return Err(RefundRequestError::NotPaid.into());
        };
        let schedule = &self.policy.check_schedule;
        let edited = self
            .change_attempt(order_id, chosen.id(), |attempt, now| {
                if attempt.request_refund(refund_id, amount, now)? == RefundRequested::Again {
                    return Ok::<_, RefundError>(Edit::Keep(()));
                }
                attempt.check_again_soon(now, schedule);
                Ok(Edit::Write(()))
            })
            .await?
            .ok_or(RefundError::UnknownOrder)?;
        if edited.written {
            // The order shows it at once, whatever the provider says.
            self.forget_paid_order(order_id);
        }
        Ok(edited.attempt)
    }

    /// The provider refused a refund it does not report: it failed. Not
    /// when a resend was refused while the first send may still be in
    /// flight (the refund is younger than the longest such send): that
    /// send may yet make it, and a refund marked failed would overstate
    /// what remains refundable. A later pass decides.
    async fn fail_requested_refund(
        &self,
        order_id: &OrderId,
        attempt_id: &crate::AttemptId,
        refund_id: &RefundId,
        sending: Sending,
    ) -> Result<(), StoreError> {
        if let Sending::Again { recorded_at } = sending {
            let in_flight_for = time::Duration::try_from(self.policy.refund_in_flight_for)
                .unwrap_or(time::Duration::MAX);
            if self.clock.now() - recorded_at < in_flight_for {
                tracing::info!(%order_id, %refund_id, "a resent refund was refused while its first send may be in flight; it stays requested");
                return Ok(());
            }
        }
        self.change_attempt(order_id, attempt_id, |attempt, _| {
            Ok::<_, StoreError>(if attempt.fail_requested_refund(refund_id) {
                Edit::Write(())
            } else {
                Edit::Keep(())
            })
        })
        .await?;
        Ok(())
    }
}
