//! The checkout workflow, over the two ports.

use crate::catalog::{CartLine, Catalog, CatalogError};
use crate::idempotency::{cart_fingerprint, CheckoutKey, CheckoutRecord};
use crate::order::{Order, OrderId, OrderStatus};
use crate::payment::{
    AttemptId, CheckSchedule, IncidentKind, PaymentAttempt, PaymentStatus, StatusChange,
};
use crate::ports::{
    NewPayment, OrderRecord, PaymentMetadata, PaymentProvider, ProviderError, ProviderPayment,
    Store, StoreError,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// How often a write is retried after losing a race to another writer.
const MAX_WRITE_CONFLICTS: usize = 8;
/// Paid orders kept in memory; past this the cache starts afresh.
const PAID_ORDERS_CACHED: usize = 100_000;

/// The public addresses the provider needs: where to send the shopper back
/// and where to notify us.
#[derive(Clone, Debug)]
pub struct ShopUrls {
    /// e.g. `https://shop.example` (no trailing slash).
    pub public_base_url: String,
}

impl ShopUrls {
    pub fn thank_you_page(&self, order_id: &OrderId) -> String {
        format!("{}/orders/{order_id}", self.public_base_url)
    }

    pub fn webhook(&self) -> String {
        format!("{}/webhooks/mollie", self.public_base_url)
    }
}

/// When the server asks the provider itself instead of waiting for a webhook.
#[derive(Clone, Debug)]
pub struct ReconcilePolicy {
    /// A status still open or pending this long after the attempt was
    /// created is refreshed from the provider when read.
    pub refresh_after: Duration,
    /// At most one refresh per attempt in this interval.
    pub min_refresh_interval: Duration,
    /// An attempt the provider never confirmed (no provider id: the create
    /// failed or its answer was lost) is given up this long after its latest
    /// create call began, far longer than a create with all its retries can
    /// take, so that no create is still in flight. Should the provider take
    /// money on it all the same, that is recorded as an incident.
    pub abandon_unconfirmed_after: Duration,
    /// When the background reconciler looks at attempts that are not final.
    pub check_schedule: CheckSchedule,
}

impl Default for ReconcilePolicy {
    fn default() -> Self {
        Self {
            refresh_after: Duration::from_secs(10),
            min_refresh_interval: Duration::from_secs(5),
            abandon_unconfirmed_after: Duration::from_secs(30 * 60),
            check_schedule: CheckSchedule {
                first_check_after: Duration::from_secs(60),
                max_interval: Duration::from_secs(3600),
            },
        }
    }
}

/// Where to send the shopper after a checkout submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutStarted {
    pub order_id: OrderId,
    /// The provider's checkout page, or our thank-you page when there is
    /// nothing left to pay (already paid) or to show what happened.
    pub redirect_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckoutError {
    #[error(transparent)]
    InvalidCart(#[from] CatalogError),
    #[error("this checkout was already submitted with another cart; please reload the page")]
    KeyReusedWithAnotherCart,
    #[error("we could not find that order")]
    UnknownOrder,
    #[error("the payment provider is not reachable right now; please try again")]
    ProviderUnavailable,
    #[error("the payment could not be started; please try again later")]
    ProviderRejected,
    #[error("the shop cannot take orders right now; please try again")]
    StoreUnavailable,
}

impl From<StoreError> for CheckoutError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store failure during checkout");
        Self::StoreUnavailable
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookOutcome {
    Updated(PaymentStatus),
    /// Money the shop did not expect was recorded for the operator.
    Incident(IncidentKind),
    Unchanged,
    /// Not ours or not known: answered 200 so nothing leaks; nothing changed.
    Ignored(&'static str),
}

/// A fault that the provider should retry the webhook for (answered 5xx).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("payment provider: {0}")]
    Provider(ProviderError),
    #[error("store: {0}")]
    Store(StoreError),
}

pub struct CheckoutService {
    catalog: Catalog,
    store: Arc<dyn Store>,
    provider: Arc<dyn PaymentProvider>,
    urls: ShopUrls,
    policy: ReconcilePolicy,
    /// When each attempt was last refreshed on read (rate limit).
    last_refresh: Mutex<HashMap<AttemptId, Instant>>,
    /// A paid order stays paid (its paid attempt is final, and no attempt is
    /// added to a paid order), so it is served from memory. Only an incident
    /// recorded later changes its record; that write drops it from here.
    paid_orders: Mutex<HashMap<OrderId, OrderRecord>>,
}

impl CheckoutService {
    pub fn new(
        catalog: Catalog,
        store: Arc<dyn Store>,
        provider: Arc<dyn PaymentProvider>,
        urls: ShopUrls,
    ) -> Self {
        Self {
            catalog,
            store,
            provider,
            urls,
            policy: ReconcilePolicy::default(),
            last_refresh: Mutex::default(),
            paid_orders: Mutex::default(),
        }
    }

    pub fn with_reconcile_policy(mut self, policy: ReconcilePolicy) -> Self {
        self.policy = policy;
        self
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn reconcile_policy(&self) -> &ReconcilePolicy {
        &self.policy
    }

    /// Buys a cart. The same `key` always yields the same order, however
    /// often and however concurrently it is submitted. The order and its
    /// attempt are stored before the provider is called.
    pub async fn checkout(
        &self,
        cart: &[CartLine],
        key: &CheckoutKey,
    ) -> Result<CheckoutStarted, CheckoutError> {
        let lines = self.catalog.price_cart(cart)?;
        let fingerprint = cart_fingerprint(&lines);
        for _ in 0..MAX_WRITE_CONFLICTS {
            if let Some(record) = self.store.find_checkout(key).await? {
                if record.cart_fingerprint != fingerprint {
                    return Err(CheckoutError::KeyReusedWithAnotherCart);
                }
                return self.continue_payment(&record.order_id).await;
            }
            let now = OffsetDateTime::now_utc();
            let order = Order::new(lines.clone(), now).ok_or(CatalogError::TotalTooLarge)?;
            let attempt = PaymentAttempt::new(order.id.clone(), order.total, now)
                .with_first_check(now, &self.policy.check_schedule);
            let record = CheckoutRecord::new(key.clone(), order.id.clone(), &lines, now);
            match self.store.create_order(&order, &attempt, &record).await {
                Ok(()) => return self.start_payment(&order, attempt).await,
                // Another submission with this key won (or is writing):
                // continue its order.
                Err(StoreError::AlreadyExists | StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(CheckoutError::StoreUnavailable)
    }

    /// "Pay again" on an order: continues its open attempt, or starts a new
    /// one when every attempt failed, was canceled or expired.
    pub async fn pay_again(&self, order_id: &OrderId) -> Result<CheckoutStarted, CheckoutError> {
        self.continue_payment(order_id).await
    }

    /// Where a shopper with this order should go: its open attempt's
    /// checkout page (asking the provider first whether it is still open,
    /// and starting the provider payment if it never was), a new attempt if
    /// all failed, or the thank-you page if it is paid.
    async fn continue_payment(&self, order_id: &OrderId) -> Result<CheckoutStarted, CheckoutError> {
        for _ in 0..MAX_WRITE_CONFLICTS {
            let record = self
                .store
                .load_order(order_id)
                .await?
                .ok_or(CheckoutError::UnknownOrder)?;
            let thank_you = CheckoutStarted {
                order_id: order_id.clone(),
                redirect_url: self.urls.thank_you_page(order_id),
            };
            if OrderStatus::derive(&record.attempts) == OrderStatus::Paid {
                return Ok(thank_you);
            }
            if let Some(open) = record.attempts.iter().find(|a| a.is_live()) {
                let Some(provider_id) = open.provider_payment_id.clone() else {
                    // Never confirmed by the provider: (re)start its create.
                    // It is given up only `abandon_unconfirmed_after` after
                    // its latest create began; a create that began within
                    // half that still covers this one, so concurrent
                    // submissions write nothing. An older one is renewed
                    // first, conditionally, so a give-up and this create
                    // never both win.
                    let mut attempt = open.clone();
                    let now = OffsetDateTime::now_utc();
                    if open.since_create_started(now) >= self.policy.abandon_unconfirmed_after / 2 {
                        attempt.begin_create(now);
                        attempt.bump_version(now);
                        match self.store.update_attempt(&attempt).await {
                            Ok(()) => {}
                            Err(StoreError::Conflict) => continue,
                            Err(e) => return Err(e.into()),
                        }
                    }
                    return self.start_payment(&record.order, attempt).await;
                };
                if open.checkout_url.is_none() {
                    // Pending or authorized: nothing to pay, show the status.
                    return Ok(thank_you);
                }
                // The stored checkout link may be stale (expired without a
                // webhook yet): ask the provider before sending anyone there.
                let payment = self.provider.get_payment(&provider_id).await.map_err(|e| {
                    tracing::warn!(%order_id, attempt_id = %open.id, error = %e, "could not refresh the payment before paying again");
                    provider_checkout_error(e)
                })?;
                let applied = self
                    .apply_provider_payment(order_id, &open.id, &payment)
                    .await
                    .map_err(webhook_to_checkout_error)?;
                match (applied.attempt, payment.checkout_url) {
                    (Some(attempt), Some(url)) if attempt.is_live() => {
                        return Ok(CheckoutStarted {
                            order_id: order_id.clone(),
                            redirect_url: url,
                        })
                    }
                    // It changed: look again.
                    _ => continue,
                }
            }
            // Every attempt is final and none paid: a new attempt.
            let mut order = record.order.clone();
            order.version += 1;
            let now = OffsetDateTime::now_utc();
            let attempt = PaymentAttempt::new(order.id.clone(), order.total, now)
                .with_first_check(now, &self.policy.check_schedule);
            match self.store.add_attempt(&order, &attempt).await {
                Ok(()) => return self.start_payment(&order, attempt).await,
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(CheckoutError::StoreUnavailable)
    }

    /// Creates the provider payment of a stored attempt (idempotently: its
    /// id is the idempotency key) and records the provider's id and
    /// checkout page.
    async fn start_payment(
        &self,
        order: &Order,
        attempt: PaymentAttempt,
    ) -> Result<CheckoutStarted, CheckoutError> {
        let payment = self
            .provider
            .create_payment(&NewPayment {
                amount: attempt.amount,
                description: order.description(),
                redirect_url: self.urls.thank_you_page(&order.id),
                webhook_url: self.urls.webhook(),
                metadata: PaymentMetadata {
                    order_id: order.id.clone(),
                    attempt_id: attempt.id.clone(),
                },
                idempotency_key: attempt.id.0.clone(),
            })
            .await
            .map_err(|e| {
                // The attempt stays `created`: a resubmission retries it,
                // and the reconciler gives it up if nobody does.
                tracing::warn!(order_id = %order.id, attempt_id = %attempt.id, error = %e, "could not create the provider payment");
                provider_checkout_error(e)
            })?;
        let checkout_url = payment
            .checkout_url
            .clone()
            .ok_or(CheckoutError::ProviderRejected)?;
        let applied = self
            .apply_provider_payment(&attempt.order_id, &attempt.id, &payment)
            .await
            .map_err(webhook_to_checkout_error)?;
        if let WebhookOutcome::Ignored(reason) = applied.outcome {
            // Not recorded as ours, so no webhook could ever apply it.
            tracing::error!(order_id = %order.id, provider_payment_id = %payment.id, reason, "the created payment is not the attempt's; canceled");
            if let Err(error) = self.provider.cancel_payment(&payment.id).await {
                tracing::warn!(provider_payment_id = %payment.id, %error, "could not cancel the payment");
            }
            return Err(CheckoutError::ProviderRejected);
        }
        if !applied
            .attempt
            .as_ref()
            .is_some_and(PaymentAttempt::is_live)
        {
            // Given up (or otherwise final) while the create was under way:
            // nobody may pay it now. Should the cancel fail and the shopper
            // pay all the same, the webhook records that as an incident.
            if let Err(error) = self.provider.cancel_payment(&payment.id).await {
                tracing::warn!(order_id = %order.id, provider_payment_id = %payment.id, %error, "could not cancel a payment of an attempt no longer live");
            }
            tracing::info!(order_id = %order.id, provider_payment_id = %payment.id, "the attempt is no longer live; its checkout page is not shown");
            return Ok(CheckoutStarted {
                order_id: order.id.clone(),
                redirect_url: self.urls.thank_you_page(&order.id),
            });
        }
        tracing::info!(order_id = %order.id, provider_payment_id = %payment.id, "checkout started");
        Ok(CheckoutStarted {
            order_id: order.id.clone(),
            redirect_url: checkout_url,
        })
    }

    /// The order with its attempts and derived status, as stored.
    pub async fn order(
        &self,
        id: &OrderId,
    ) -> Result<Option<(OrderRecord, OrderStatus)>, StoreError> {
        if let Some(record) = self.paid_orders.lock().expect("cache lock").get(id) {
            return Ok(Some((record.clone(), OrderStatus::Paid)));
        }
        let Some(record) = self.store.load_order(id).await? else {
            return Ok(None);
        };
        let status = OrderStatus::derive(&record.attempts);
        if status == OrderStatus::Paid {
            let mut cache = self.paid_orders.lock().expect("cache lock");
            if cache.len() >= PAID_ORDERS_CACHED {
                cache.clear();
            }
            cache.insert(id.clone(), record.clone());
        }
        Ok(Some((record, status)))
    }

    /// Like [`Self::order`], but a payment still open or pending past the
    /// policy's threshold is first refreshed from the provider (at most once
    /// per interval per attempt), so a lost webhook cannot leave the
    /// shopper waiting. A provider failure is logged and the stored status
    /// shown.
    pub async fn order_refreshed(
        &self,
        id: &OrderId,
    ) -> Result<Option<(OrderRecord, OrderStatus)>, StoreError> {
        let Some((record, status)) = self.order(id).await? else {
            return Ok(None);
        };
        let now = OffsetDateTime::now_utc();
        let due: Vec<_> = record
            .attempts
            .iter()
            .filter(|a| !a.status.is_final() && now - a.created_at >= self.policy.refresh_after)
            .filter(|a| self.refresh_allowed(&a.id))
            .cloned()
            .collect();
        if due.is_empty() {
            return Ok(Some((record, status)));
        }
        for attempt in &due {
            if let Err(error) = self.refresh_attempt(attempt).await {
                tracing::warn!(attempt_id = %attempt.id, %error, "refresh on read failed");
            }
        }
        self.order(id).await
    }

    fn refresh_allowed(&self, attempt_id: &AttemptId) -> bool {
        let mut last = self.last_refresh.lock().expect("refresh lock");
        let now = Instant::now();
        if last.len() > 10_000 {
            last.retain(|_, at| now.duration_since(*at) < self.policy.min_refresh_interval);
        }
        match last.get(attempt_id) {
            Some(at) if now.duration_since(*at) < self.policy.min_refresh_interval => false,
            _ => {
                last.insert(attempt_id.clone(), now);
                true
            }
        }
    }

    /// Attempts not final yet whose next check is due, the longest overdue
    /// first: what the background reconciler refreshes.
    pub async fn due_attempts(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<PaymentAttempt>, StoreError> {
        self.store.due_attempts(now, limit).await
    }

    /// The reconciler's look at one attempt: refreshes it from the provider,
    /// then, if it is still not final, schedules the next look with backoff
    /// (also when the provider failed), so that long-open attempts make way
    /// for newer ones.
    pub async fn reconcile(
        &self,
        attempt: &PaymentAttempt,
    ) -> Result<WebhookOutcome, WebhookError> {
        let outcome = self.refresh_attempt(attempt).await;
        self.schedule_next_check(attempt)
            .await
            .map_err(WebhookError::Store)?;
        outcome
    }

    async fn schedule_next_check(&self, seen: &PaymentAttempt) -> Result<(), StoreError> {
        for _ in 0..MAX_WRITE_CONFLICTS {
            let Some(mut next) = self.store.load_attempt(&seen.order_id, &seen.id).await? else {
                return Ok(());
            };
            if !next.is_live() {
                return Ok(());
            }
            let now = OffsetDateTime::now_utc();
            next.schedule_next_check(now, &self.policy.check_schedule);
            next.bump_version(now);
            match self.store.update_attempt(&next).await {
                Ok(()) => return Ok(()),
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict)
    }

    /// Asks the provider for an attempt's payment and applies what it says.
    /// Used by reconciliation (on read and in the background).
    pub async fn refresh_attempt(
        &self,
        attempt: &PaymentAttempt,
    ) -> Result<WebhookOutcome, WebhookError> {
        let Some(provider_id) = attempt.provider_payment_id.as_deref() else {
            return self.abandon_if_unconfirmed(attempt).await;
        };
        let payment = self
            .provider
            .get_payment(provider_id)
            .await
            .map_err(WebhookError::Provider)?;
        Ok(self
            .apply_provider_payment(&attempt.order_id, &attempt.id, &payment)
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
    ) -> Result<WebhookOutcome, WebhookError> {
        let now = OffsetDateTime::now_utc();
        if attempt.since_create_started(now) < self.policy.abandon_unconfirmed_after {
            return Ok(WebhookOutcome::Unchanged);
        }
        let mut next = attempt.clone();
        let change = next.observe(PaymentStatus::Expired);
        next.bump_version(now);
        match self.store.update_attempt(&next).await {
            Ok(()) => {
                tracing::info!(attempt_id = %attempt.id, "unconfirmed attempt given up");
                Ok(match change {
                    StatusChange::Advanced(status) => WebhookOutcome::Updated(status),
                    _ => WebhookOutcome::Unchanged,
                })
            }
            // Someone else changed it (a create began): the next round looks again.
            Err(StoreError::Conflict) => Ok(WebhookOutcome::Unchanged),
            Err(e) => Err(WebhookError::Store(e)),
        }
    }

    /// The provider says payment `provider_payment_id` changed. The id is all
    /// we are told. An id we never recorded costs no provider call; a known
    /// one is fetched and checked against our records.
    pub async fn handle_webhook(
        &self,
        provider_payment_id: &str,
    ) -> Result<WebhookOutcome, WebhookError> {
        let Some(attempt) = self
            .store
            .find_attempt_by_provider_payment(provider_payment_id)
            .await
            .map_err(WebhookError::Store)?
        else {
            return Ok(WebhookOutcome::Ignored("unknown payment"));
        };
        let payment = match self.provider.get_payment(provider_payment_id).await {
            Ok(payment) => payment,
            Err(ProviderError::NotFound) => return Ok(WebhookOutcome::Ignored("unknown payment")),
            Err(ProviderError::Malformed(detail)) => {
                // Asking again gets the same answer: retries would never end.
                tracing::error!(%provider_payment_id, order_id = %attempt.order_id, %detail, "the provider's payment could not be read; nothing changed");
                return Ok(WebhookOutcome::Ignored("unreadable payment"));
            }
            Err(e) => return Err(WebhookError::Provider(e)),
        };
        Ok(self
            .apply_provider_payment(&attempt.order_id, &attempt.id, &payment)
            .await?
            .outcome)
    }

    /// Applies a provider payment to our attempt, after checking that it is
    /// the attempt's payment: same metadata, same provider id (once known),
    /// same amount and currency, the mode and account of our credentials. A
    /// mismatch changes nothing and is logged as a security event.
    /// Conditional writes; a lost race is re-read and re-applied. A `paid`
    /// the shop did not expect is recorded as an incident, never dropped.
    async fn apply_provider_payment(
        &self,
        order_id: &OrderId,
        attempt_id: &AttemptId,
        payment: &ProviderPayment,
    ) -> Result<Applied, WebhookError> {
        for _ in 0..MAX_WRITE_CONFLICTS {
            let Some(attempt) = self
                .store
                .load_attempt(order_id, attempt_id)
                .await
                .map_err(WebhookError::Store)?
            else {
                return Ok(Applied::ignored("no such attempt", None));
            };
            if let Some(mismatch) = self.mismatch(&attempt, payment) {
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
            let Some(observed) = payment.status else {
                tracing::warn!(provider_payment_id = %payment.id, "the provider reported a status we do not know");
                return Ok(Applied::ignored("unknown status", Some(attempt)));
            };

            let mut next = attempt.clone();
            let now = OffsetDateTime::now_utc();
            // A webhook can beat the write that records the provider id.
            let records_id = next.provider_payment_id.is_none();
            if records_id {
                next.record_provider_payment(payment.id.clone(), payment.checkout_url.clone());
            }
            let change = next.observe(observed);
            let paid_after_given_up = observed == PaymentStatus::Paid
                && !attempt.has_taken_money()
                && change == StatusChange::Stale
                && next.record_incident(IncidentKind::PaidAfterGivenUp, now);
            if change == StatusChange::Stale && !paid_after_given_up {
                tracing::info!(provider_payment_id = %payment.id, stored = %attempt.status, %observed, "stale status ignored");
            }
            if !records_id && !paid_after_given_up && !matches!(change, StatusChange::Advanced(_)) {
                return Ok(Applied {
                    outcome: WebhookOutcome::Unchanged,
                    attempt: Some(attempt),
                });
            }
            next.bump_version(now);
            match self.store.update_attempt(&next).await {
                Ok(()) => {}
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(WebhookError::Store(e)),
            }
            let outcome = if paid_after_given_up {
                tracing::error!(
                    incident = %IncidentKind::PaidAfterGivenUp,
                    provider_payment_id = %payment.id,
                    %order_id,
                    %attempt_id,
                    stored = %attempt.status,
                    "the provider took money on an attempt we had given up; recorded on the order for the operator"
                );
                WebhookOutcome::Incident(IncidentKind::PaidAfterGivenUp)
            } else {
                tracing::info!(provider_payment_id = %payment.id, status = %next.status, "payment status updated");
                match change {
                    StatusChange::Advanced(status) => WebhookOutcome::Updated(status),
                    _ => WebhookOutcome::Unchanged,
                }
            };
            if next.has_taken_money() && next.incident.is_none() {
                self.record_second_payment(order_id, attempt_id)
                    .await
                    .map_err(WebhookError::Store)?;
            }
            return Ok(Applied {
                outcome,
                attempt: Some(next),
            });
        }
        Err(WebhookError::Store(StoreError::Conflict))
    }

    /// Why `payment` is not the payment of `attempt`, if it is not.
    fn mismatch(
        &self,
        attempt: &PaymentAttempt,
        payment: &ProviderPayment,
    ) -> Option<&'static str> {
        let metadata_matches = payment
            .metadata
            .as_ref()
            .is_some_and(|m| m.order_id == attempt.order_id && m.attempt_id == attempt.id);
        let same_payment = attempt
            .provider_payment_id
            .as_deref()
            .is_none_or(|id| id == payment.id);
        if !metadata_matches {
            Some("metadata")
        } else if !same_payment {
            Some("provider payment id")
        } else if attempt.amount != payment.amount {
            Some("amount")
        } else if payment.mode != self.provider.mode() {
            Some("mode")
        } else if self
            .provider
            .profile_id()
            .is_some_and(|expected| payment.profile_id.as_deref() != Some(expected))
        {
            Some("profile")
        } else {
            None
        }
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
        for _ in 0..MAX_WRITE_CONFLICTS {
            let Some(record) = self.store.load_order(order_id).await? else {
                return Ok(());
            };
            let Some(this) = record.attempts.iter().find(|a| &a.id == attempt_id) else {
                return Ok(());
            };
            let another_paid = record
                .attempts
                .iter()
                .any(|a| &a.id != attempt_id && a.has_taken_money());
            if !another_paid || this.incident.is_some() {
                return Ok(());
            }
            let mut next = this.clone();
            let now = OffsetDateTime::now_utc();
            next.record_incident(IncidentKind::SecondPayment, now);
            next.bump_version(now);
            match self.store.update_attempt(&next).await {
                Ok(()) => {
                    tracing::error!(
                        incident = %IncidentKind::SecondPayment,
                        %order_id,
                        %attempt_id,
                        provider_payment_id = next.provider_payment_id.as_deref().unwrap_or_default(),
                        "a second payment was taken on one order; recorded for the operator to refund"
                    );
                    self.paid_orders
                        .lock()
                        .expect("cache lock")
                        .remove(order_id);
                    return Ok(());
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict)
    }
}

/// What applying a provider payment did, and the attempt as it now is.
struct Applied {
    outcome: WebhookOutcome,
    attempt: Option<PaymentAttempt>,
}

impl Applied {
    fn ignored(reason: &'static str, attempt: Option<PaymentAttempt>) -> Self {
        Self {
            outcome: WebhookOutcome::Ignored(reason),
            attempt,
        }
    }
}

fn provider_checkout_error(e: ProviderError) -> CheckoutError {
    match e {
        ProviderError::Unavailable(_) => CheckoutError::ProviderUnavailable,
        ProviderError::NotFound | ProviderError::Rejected(_) | ProviderError::Malformed(_) => {
            CheckoutError::ProviderRejected
        }
    }
}

fn webhook_to_checkout_error(e: WebhookError) -> CheckoutError {
    match e {
        WebhookError::Store(e) => e.into(),
        WebhookError::Provider(e) => provider_checkout_error(e),
    }
}
