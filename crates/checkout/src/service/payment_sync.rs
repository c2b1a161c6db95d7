//! Moving payments forward from what the provider says: the webhook, the
//! reconciler and refresh on read all fetch the payment and apply it here.

use super::attempt_writes::{Edit, Edited};
use super::{CheckoutService, SyncError, SyncOutcome};
use crate::events::AttemptWrite;
use crate::order::{OrderId, OrderStatus};
use crate::payment::{
    AttemptId, IncidentKind, PaymentAttempt, PaymentStatus, ProviderPaymentId, StatusChange,
};
use crate::payment_report::{
    apply_report, Changes, OurAccount, Verdict, MONEY_IN_ANOTHER_CURRENCY,
};
use crate::ports::{OrderRecord, ProviderError, ProviderPayment, StoreError};
use crate::refund::RefundStatus;
use crate::stock::HoldState;
use std::sync::atomic::Ordering;
use std::time::Instant;
use time::OffsetDateTime;

impl CheckoutService {
    /// The order with its attempts and derived status, as stored.
    ///
    /// # Errors
    ///
    /// The store's error when it cannot be read.
    pub async fn order(
        &self,
        id: &OrderId,
    ) -> Result<Option<(OrderRecord, OrderStatus)>, StoreError> {
        if let Some((record, cached_at)) = self.paid_orders.get(id) {
            if cached_at.elapsed() < self.policy.min_refresh_interval {
                let status = OrderStatus::derive(&record.attempts);
                return Ok(Some((record, status)));
            }
        }
        let dropped_before = self.paid_orders_dropped.load(Ordering::SeqCst);
        let Some(record) = self.store.load_order(id).await? else {
            return Ok(None);
        };
        let status = OrderStatus::derive(&record.attempts);
        if status == OrderStatus::Paid {
            self.paid_orders
                .insert(id.clone(), (record.clone(), Instant::now()));
            // A write dropped orders while this one was read: what was read
            // may be older than that write; do not serve it from memory.
            if self.paid_orders_dropped.load(Ordering::SeqCst) != dropped_before {
                self.paid_orders.remove(id);
            }
        }
        Ok(Some((record, status)))
    }

    /// Like [`Self::order`], but a payment still open or pending past the
    /// policy's threshold is first refreshed from the provider (at most once
    /// per interval per attempt), so a lost webhook cannot leave the
    /// shopper waiting. A provider failure is logged and the stored status
    /// shown.
    ///
    /// # Errors
    ///
    /// The store's error when it cannot be read (a provider failure is not an
    /// error here).
    #[tracing::instrument(skip_all, fields(order_id = %id))]
    pub async fn order_refreshed(
        &self,
        id: &OrderId,
    ) -> Result<Option<(OrderRecord, OrderStatus)>, StoreError> {
        let Some((record, status)) = self.order(id).await? else {
            return Ok(None);
        };
        let now = self.clock.now();
        let due: Vec<_> = record
            .attempts
            .iter()
            .filter(|a| a.needs_checks() && now - a.created_at() >= self.policy.refresh_after)
            .filter(|a| self.refresh_allowed(a.id()))
            .cloned()
            .collect();
        if due.is_empty() {
            return Ok(Some((record, status)));
        }
        for attempt in &due {
            if let Err(error) = self.refresh_attempt(attempt).await {
                tracing::warn!(attempt_id = %attempt.id(), error = %crate::error_report(&error), "refresh on read failed");
            }
        }
        self.order(id).await
    }

    fn refresh_allowed(&self, attempt_id: &AttemptId) -> bool {
        let mut last = self.last_refresh.lock().expect("refresh lock");
        let now = Instant::now();
        match last.get(attempt_id) {
            Some(at) if now.duration_since(*at) < self.policy.min_refresh_interval => false,
            _ => {
                last.insert(attempt_id.clone(), now);
                true
            }
        }
    }

    /// Attempts the provider owes news of (not final, or with a refund not
    /// settled) whose next check is due, the longest overdue first: what
    /// the background reconciler refreshes.
    ///
    /// # Errors
    ///
    /// The store's error when it cannot be read.
    pub async fn due_attempts(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<PaymentAttempt>, StoreError> {
        self.store.due_attempts(now, limit).await
    }

    /// The reconciler's look at one attempt: refreshes it from the provider,
    /// sends again its refunds still `requested` (made while the provider
    /// was down), then, if it still needs checks, schedules the next look
    /// with backoff
    /// (also when the provider failed), so that long-open attempts make way
    /// for newer ones.
    ///
    /// # Errors
    ///
    /// [`SyncError`] when the provider or the store failed; the next look is
    /// scheduled all the same when the store allows.
    pub async fn reconcile(&self, attempt: &PaymentAttempt) -> Result<SyncOutcome, SyncError> {
        if attempt.capture_due_soon(self.clock.now(), self.policy.capture_warning) {
            self.warn_capture_due(attempt).await;
        }
        let outcome = self.refresh_attempt(attempt).await;
        if outcome.is_ok() {
            self.release_stock_held_too_long(attempt).await;
        }
        if outcome.is_ok()
            && attempt
                .refunds()
                .iter()
                .any(|r| r.status() == RefundStatus::Requested)
        {
            self.resend_requested_refunds(attempt).await;
        }
        self.schedule_next_check(attempt)
            .await
            .map_err(SyncError::Store)?;
        outcome
    }

    /// Tells the owner, once, that an authorization lapses soon: recorded
    /// on the attempt, so its `authorization.expiring` event (the owner's
    /// message) is written once, however many passes see it.
    async fn warn_capture_due(&self, seen: &PaymentAttempt) {
        let within = self.policy.capture_warning;
        let warned = self
            .change_attempt(seen.order_id(), seen.id(), |attempt, now| {
                Ok::<_, StoreError>(if attempt.warn_capture_due(now, within) {
                    Edit::Write(())
                } else {
                    Edit::Keep(())
                })
            })
            .await;
        match warned {
            Ok(Some(Edited { written: true, .. })) => tracing::warn!(
                operator_action = true,
                order_id = %seen.order_id(),
                capture_before = ?seen.capture_before(),
                "an authorization lapses soon: capture or release it"
            ),
            Ok(_) => {}
            // The next pass tries again.
            Err(error) => {
                tracing::warn!(order_id = %seen.order_id(), error = %crate::error_report(&error), "could not record the authorization's warning")
            }
        }
    }

    /// Gives back the units of a payment open for longer than the shop
    /// holds stock ([`ReconcilePolicy::hold_stock_for`]).
    async fn release_stock_held_too_long(&self, seen: &PaymentAttempt) {
        let hold_for = self.policy.hold_stock_for;
        let released = self
            .change_attempt(seen.order_id(), seen.id(), |attempt, now| {
                Ok::<_, StoreError>(if attempt.release_stock_after(now, hold_for) {
                    Edit::Write(())
                } else {
                    Edit::Keep(())
                })
            })
            .await;
        match released {
            Ok(Some(Edited { written: true, .. })) => {
                tracing::info!(order_id = %seen.order_id(), attempt_id = %seen.id(), "an open payment held its stock too long: given back")
            }
            Ok(_) => {}
            // The next pass tries again.
            Err(error) => {
                tracing::warn!(order_id = %seen.order_id(), error = %crate::error_report(&error), "could not give back the stock of a long-open payment")
            }
        }
    }

    async fn schedule_next_check(&self, seen: &PaymentAttempt) -> Result<(), StoreError> {
        let schedule = &self.policy.check_schedule;
        self.change_attempt(seen.order_id(), seen.id(), |attempt, now| {
            if !attempt.needs_checks() {
                return Ok::<_, StoreError>(Edit::Keep(()));
            }
            attempt.schedule_next_check(now, schedule);
            Ok(Edit::Write(()))
        })
        .await?;
        Ok(())
    }

    /// Asks the provider for an attempt's payment and applies what it says.
    /// Used by reconciliation (on read and in the background).
    ///
    /// # Errors
    ///
    /// [`SyncError`] when the provider or the store failed; nothing changed then.
    #[tracing::instrument(skip_all, fields(
        order_id = %attempt.order_id(),
        attempt_id = %attempt.id(),
        provider_payment_id = attempt.provider_payment_id().as_ref().map(ProviderPaymentId::as_str),
    ))]
    pub async fn refresh_attempt(
        &self,
        attempt: &PaymentAttempt,
    ) -> Result<SyncOutcome, SyncError> {
        let Some(provider_id) = attempt.provider_payment_id().as_ref() else {
            return self.abandon_if_unconfirmed(attempt).await;
        };
        let payment = self
            .provider
            .get_payment(provider_id)
            .await
            .map_err(SyncError::Provider)?;
        Ok(self
            .apply_provider_payment(attempt.order_id(), attempt.id(), &payment)
            .await?
            .outcome)
    }

    /// Gives up an attempt the provider never confirmed, once no create
    /// call for it can still be in flight. The write is conditional on the
    /// version read, and a (re)started create bumps it first, so a create
    /// and a give-up never both win.
    async fn abandon_if_unconfirmed(
        &self,
        attempt: &PaymentAttempt,
    ) -> Result<SyncOutcome, SyncError> {
        let now = self.clock.now();
        if attempt.since_create_started(now) < self.policy.abandon_unconfirmed_after {
            return Ok(SyncOutcome::Unchanged);
        }
        let mut next = attempt.clone();
        let change = next.observe(PaymentStatus::Expired);
        next.bump_version(now);
        let write = AttemptWrite::new(attempt, next, now);
        match self.store.update_attempt(&write).await {
            Ok(()) => {
                if !write.events().is_empty() {
                    self.outbox_written(attempt.order_id());
                }
                tracing::info!(attempt_id = %attempt.id(), "unconfirmed attempt given up");
                Ok(match change {
                    StatusChange::Advanced(status) => SyncOutcome::Updated(status),
                    _ => SyncOutcome::Unchanged,
                })
            }
            // Someone else changed it (a create began): the next round looks again.
            Err(StoreError::Conflict) => Ok(SyncOutcome::Unchanged),
            Err(e) => Err(SyncError::Store(e)),
        }
    }

    /// The provider says payment `provider_payment_id` changed. The id is all
    /// we are told. An id we never recorded costs no provider call; a known
    /// one is fetched and checked against our records.
    ///
    /// # Errors
    ///
    /// [`SyncError`] when the provider or the store failed: worth a retry
    /// (the webhook answers 5xx). Ids not ours are `Ok(Ignored)`.
    #[tracing::instrument(skip_all, fields(%provider_payment_id, order_id = tracing::field::Empty))]
    pub async fn handle_webhook(
        &self,
        provider_payment_id: &ProviderPaymentId,
    ) -> Result<SyncOutcome, SyncError> {
        let Some(attempt) = self
            .store
            .find_attempt_by_provider_payment(provider_payment_id)
            .await
            .map_err(SyncError::Store)?
        else {
            return Ok(SyncOutcome::Ignored("unknown payment"));
        };
        tracing::Span::current().record("order_id", tracing::field::display(&attempt.order_id()));
        let payment = match self.provider.get_payment(provider_payment_id).await {
            Ok(payment) => payment,
            Err(ProviderError::NotFound) => return Ok(SyncOutcome::Ignored("unknown payment")),
            Err(ProviderError::Malformed(detail)) => {
                // Asking again gets the same answer: retries would never end.
                tracing::error!(%provider_payment_id, order_id = %attempt.order_id(), detail = %crate::error_report(&detail), "the provider's payment could not be read; nothing changed");
                return Ok(SyncOutcome::Ignored("unreadable payment"));
            }
            Err(e) => return Err(SyncError::Provider(e)),
        };
        Ok(self
            .apply_provider_payment(attempt.order_id(), attempt.id(), &payment)
            .await?
            .outcome)
    }

    /// Applies a provider payment to our attempt ([`apply_report`]: only
    /// if it is the attempt's payment; forward only; a `paid` the shop did
    /// not expect recorded as an incident, never dropped). A mismatch
    /// changes nothing and is logged as a security event. Conditional
    /// writes; a lost race is re-read and re-applied.
    #[tracing::instrument(skip_all, fields(%order_id, %attempt_id, provider_payment_id = %payment.id))]
    pub(super) async fn apply_provider_payment(
        &self,
        order_id: &OrderId,
        attempt_id: &AttemptId,
        payment: &ProviderPayment,
    ) -> Result<Applied, SyncError> {
        let account = OurAccount {
            mode: self.provider.mode(),
            profile_id: self.provider.profile_id(),
        };
        // Whether another attempt of the order holds its units: asked only
        // when a late payment would take them again, so that an order's
        // units are held once (the other attempt paid for them).
        let mut held_elsewhere: Option<bool> = None;
        let edited = loop {
            let edited = self
                .change_attempt(order_id, attempt_id, |attempt, now| {
                    let was = attempt.stock().map(|h| h.state);
                    let verdict = apply_report(attempt, payment, account, now);
                    let takes_again = was == Some(HoldState::Released)
                        && attempt.stock().map(|h| h.state) == Some(HoldState::Held);
                    if takes_again {
                        match held_elsewhere {
                            None => return Ok::<_, SyncError>(Edit::Keep(None)),
                            Some(true) => attempt.leave_stock_released(),
                            Some(false) => {}
                        }
                    }
                    Ok(match verdict {
                        verdict @ Verdict::Changed(_) => Edit::Write(Some(verdict)),
                        verdict => Edit::Keep(Some(verdict)),
                    })
                })
                .await?;
            if let Some(Edited { value: None, .. }) = edited {
                let record = self.store.load_order(order_id).await?;
                held_elsewhere = Some(record.is_some_and(|r| {
                    r.attempts.iter().any(|a| {
                        a.id() != attempt_id
                            && a.money_taken_or_reserved()
                            && a.stock().is_some_and(|h| h.state == HoldState::Held)
                    })
                }));
                continue;
            }
            break edited;
        };
        let Some(Edited {
            value: Some(verdict),
            attempt,
            written,
        }) = edited
        else {
            return Ok(Applied::ignored("no such attempt", None));
        };
        let changes = match verdict {
            Verdict::Mismatch(MONEY_IN_ANOTHER_CURRENCY) => {
                tracing::error!(
                    operator_action = true,
                    provider_payment_id = %payment.id,
                    %order_id,
                    %attempt_id,
                    "the provider reports money in another currency than the payment's; nothing of the report is applied: compare the order with the provider's dashboard"
                );
                return Ok(Applied::ignored("money in another currency", Some(attempt)));
            }
            Verdict::Mismatch(mismatch) => {
                tracing::warn!(
                    security_event = true,
                    provider_payment_id = %payment.id,
                    %order_id,
                    %attempt_id,
                    mismatch,
                    "provider payment does not match the stored attempt; ignored"
                );
                return Ok(Applied::ignored(
                    "payment does not match our attempt",
                    Some(attempt),
                ));
            }
            Verdict::UnknownStatus => {
                tracing::warn!(provider_payment_id = %payment.id, "the provider reported a status we do not know");
                return Ok(Applied::ignored("unknown status", Some(attempt)));
            }
            Verdict::Unchanged { stale } => {
                if stale {
                    tracing::info!(provider_payment_id = %payment.id, stored = %attempt.status(), observed = ?payment.status, "stale status ignored");
                }
                return Ok(Applied {
                    outcome: SyncOutcome::Unchanged,
                    attempt: Some(attempt),
                });
            }
            Verdict::Changed(changes) => changes,
        };
        // Only an order that took money is held in memory.
        if written && attempt.has_taken_money() {
            self.forget_paid_order(order_id);
        }
        let outcome = outcome_of(changes, &attempt, payment);
        if attempt.has_taken_money() && attempt.incident().is_none() {
            self.record_second_payment(order_id, attempt_id).await?;
        }
        Ok(Applied {
            outcome,
            attempt: Some(attempt),
        })
    }

    /// An attempt that took money while another attempt of the same order
    /// already had (a checkout left open in a second tab) is recorded as a
    /// second payment, to be refunded. Run after the write, so that of two
    /// payments applied at once the later sees the earlier (both may be
    /// flagged then; none is ever missed).
    async fn record_second_payment(
        &self,
        order_id: &OrderId,
        attempt_id: &AttemptId,
    ) -> Result<(), StoreError> {
        // Another attempt that took money stays so: read once.
        let Some(record) = self.store.load_order(order_id).await? else {
            return Ok(());
        };
        let another_paid = record
            .attempts
            .iter()
            .any(|a| a.id() != attempt_id && a.has_taken_money());
        if !another_paid {
            return Ok(());
        }
        let edited = self
            .change_attempt(order_id, attempt_id, |attempt, now| {
                Ok::<_, StoreError>(
                    if attempt.record_incident(IncidentKind::SecondPayment, now) {
                        Edit::Write(())
                    } else {
                        Edit::Keep(())
                    },
                )
            })
            .await?;
        if let Some(Edited {
            attempt,
            written: true,
            ..
        }) = edited
        {
            tracing::error!(
                incident = %IncidentKind::SecondPayment,
                %order_id,
                %attempt_id,
                provider_payment_id = attempt.provider_payment_id().as_ref().map(ProviderPaymentId::as_str),
                "a second payment was taken on one order; recorded for the operator to refund"
            );
            self.forget_paid_order(order_id);
        }
        Ok(())
    }
}

/// What applying a provider payment did, and the attempt as it now is.
pub(super) struct Applied {
    pub(super) outcome: SyncOutcome,
    pub(super) attempt: Option<PaymentAttempt>,
}

impl Applied {
    fn ignored(reason: &'static str, attempt: Option<PaymentAttempt>) -> Self {
        Self {
            outcome: SyncOutcome::Ignored(reason),
            attempt,
        }
    }
}

/// What a change a report made means, logged once: an incident, a status
/// moved on, or money moved (captures, refunds, chargebacks).
fn outcome_of(
    changes: Changes,
    attempt: &PaymentAttempt,
    payment: &ProviderPayment,
) -> SyncOutcome {
    let (order_id, attempt_id) = (attempt.order_id(), attempt.id());
    if changes.status == StatusChange::Stale && !changes.paid_after_given_up {
        tracing::info!(provider_payment_id = %payment.id, stored = %attempt.status(), observed = ?payment.status, "stale status ignored");
    }
    if changes.paid_after_given_up {
        tracing::error!(
            incident = %IncidentKind::PaidAfterGivenUp,
            provider_payment_id = %payment.id,
            %order_id,
            %attempt_id,
            stored = %attempt.status(),
            "the provider took money on an attempt we had given up; recorded on the order for the operator"
        );
        SyncOutcome::Incident(IncidentKind::PaidAfterGivenUp)
    } else if let StatusChange::Advanced(status) = changes.status {
        tracing::info!(provider_payment_id = %payment.id, %status, "payment status updated");
        SyncOutcome::Updated(status)
    } else if changes.money {
        let ledger = attempt.ledger();
        tracing::info!(provider_payment_id = %payment.id, refunded = %ledger.refunded, charged_back = %ledger.charged_back, "captures, refunds or chargebacks updated");
        SyncOutcome::MoneyUpdated
    } else {
        SyncOutcome::Unchanged
    }
}
