//! The checkout workflow, over the two ports.

use crate::catalog::{CartLine, Catalog, CatalogError};
use crate::idempotency::{cart_fingerprint, CheckoutKey, CheckoutRecord};
use crate::order::{Order, OrderId, OrderStatus};
use crate::payment::{AttemptId, PaymentAttempt, PaymentStatus, StatusChange};
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
    /// failed or its answer was lost) is given up after this; the shopper
    /// never saw a checkout page for it, so it can never be paid.
    pub abandon_unconfirmed_after: Duration,
}

impl Default for ReconcilePolicy {
    fn default() -> Self {
        Self {
            refresh_after: Duration::from_secs(10),
            min_refresh_interval: Duration::from_secs(5),
            abandon_unconfirmed_after: Duration::from_secs(30 * 60),
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
    /// A paid order never changes again (its paid attempt is final, and no
    /// attempt is added to a paid order), so it is served from memory.
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
            let attempt = PaymentAttempt::new(order.id.clone(), order.total, now);
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
    /// checkout page (starting the provider payment if it never was), a new
    /// attempt if all failed, or the thank-you page if it is paid.
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
            if let Some(open) = record.attempts.iter().find(|a| !a.status.is_final()) {
                return match &open.checkout_url {
                    Some(url) => Ok(CheckoutStarted {
                        order_id: order_id.clone(),
                        redirect_url: url.clone(),
                    }),
                    // Pending or authorized: nothing to pay, show the status.
                    None if open.provider_payment_id.is_some() => Ok(thank_you),
                    None => self.start_payment(&record.order, open.clone()).await,
                };
            }
            // Every attempt is final and none paid: a new attempt.
            let mut order = record.order.clone();
            order.version += 1;
            let attempt =
                PaymentAttempt::new(order.id.clone(), order.total, OffsetDateTime::now_utc());
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
                match e {
                    ProviderError::Unavailable(_) => CheckoutError::ProviderUnavailable,
                    ProviderError::NotFound | ProviderError::Rejected(_) => {
                        CheckoutError::ProviderRejected
                    }
                }
            })?;
        let checkout_url = payment
            .checkout_url
            .clone()
            .ok_or(CheckoutError::ProviderRejected)?;
        match self
            .apply_provider_payment(&attempt.order_id, &attempt.id, &payment)
            .await
        {
            Ok(_) => {}
            Err(WebhookError::Store(e)) => return Err(e.into()),
            Err(WebhookError::Provider(_)) => return Err(CheckoutError::ProviderUnavailable),
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

    /// Attempts not final yet, created more than `older_than` ago, oldest
    /// first: what the background reconciler refreshes.
    pub async fn stale_attempts(
        &self,
        older_than: Duration,
        limit: usize,
    ) -> Result<Vec<PaymentAttempt>, StoreError> {
        let before = OffsetDateTime::now_utc() - older_than;
        self.store.stale_attempts(before, limit).await
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
        self.apply_provider_payment(&attempt.order_id, &attempt.id, &payment)
            .await
    }

    async fn abandon_if_unconfirmed(
        &self,
        attempt: &PaymentAttempt,
    ) -> Result<WebhookOutcome, WebhookError> {
        let age = OffsetDateTime::now_utc() - attempt.created_at;
        if age < self.policy.abandon_unconfirmed_after {
            return Ok(WebhookOutcome::Unchanged);
        }
        let mut next = attempt.clone();
        let change = next.observe(PaymentStatus::Expired);
        next.bump_version(OffsetDateTime::now_utc());
        match self.store.update_attempt(&next).await {
            Ok(()) => {
                tracing::info!(attempt_id = %attempt.id, "unconfirmed attempt given up");
                Ok(match change {
                    StatusChange::Advanced(status) => WebhookOutcome::Updated(status),
                    _ => WebhookOutcome::Unchanged,
                })
            }
            // Someone else changed it: the next round looks again.
            Err(StoreError::Conflict) => Ok(WebhookOutcome::Unchanged),
            Err(e) => Err(WebhookError::Store(e)),
        }
    }

    /// The provider says payment `provider_payment_id` changed. The id is all
    /// we are told, so the payment is fetched and checked against our records.
    pub async fn handle_webhook(
        &self,
        provider_payment_id: &str,
    ) -> Result<WebhookOutcome, WebhookError> {
        let payment = match self.provider.get_payment(provider_payment_id).await {
            Ok(payment) => payment,
            Err(ProviderError::NotFound) => return Ok(WebhookOutcome::Ignored("unknown payment")),
            Err(e) => return Err(WebhookError::Provider(e)),
        };
        let Some(metadata) = payment.metadata.clone() else {
            return Ok(WebhookOutcome::Ignored("payment without our metadata"));
        };
        self.apply_provider_payment(&metadata.order_id, &metadata.attempt_id, &payment)
            .await
    }

    /// Applies a provider payment to our attempt, after checking that it is
    /// the attempt's payment: same metadata, same provider id (once known),
    /// same amount and currency. A mismatch changes nothing and is logged as
    /// a security event. Conditional writes; a lost race is re-read and
    /// re-applied.
    async fn apply_provider_payment(
        &self,
        order_id: &OrderId,
        attempt_id: &AttemptId,
        payment: &ProviderPayment,
    ) -> Result<WebhookOutcome, WebhookError> {
        for _ in 0..MAX_WRITE_CONFLICTS {
            let Some(attempt) = self
                .store
                .load_attempt(order_id, attempt_id)
                .await
                .map_err(WebhookError::Store)?
            else {
                return Ok(WebhookOutcome::Ignored("no such attempt"));
            };
            let metadata_matches = payment
                .metadata
                .as_ref()
                .is_some_and(|m| m.order_id == attempt.order_id && m.attempt_id == attempt.id);
            let same_payment = attempt
                .provider_payment_id
                .as_deref()
                .is_none_or(|id| id == payment.id);
            if !metadata_matches || !same_payment || attempt.amount != payment.amount {
                tracing::warn!(
                    security_event = true,
                    provider_payment_id = %payment.id,
                    %order_id,
                    %attempt_id,
                    "provider payment does not match the stored attempt; ignored"
                );
                return Ok(WebhookOutcome::Ignored(
                    "payment does not match our attempt",
                ));
            }
            let Some(observed) = payment.status else {
                tracing::warn!(provider_payment_id = %payment.id, "the provider reported a status we do not know");
                return Ok(WebhookOutcome::Ignored("unknown status"));
            };

            let mut next = attempt.clone();
            // A webhook can beat the write that records the provider id.
            let records_id = next.provider_payment_id.is_none();
            if records_id {
                next.record_provider_payment(payment.id.clone(), payment.checkout_url.clone());
            }
            let change = next.observe(observed);
            if change == StatusChange::Stale {
                tracing::info!(provider_payment_id = %payment.id, stored = %attempt.status, %observed, "stale status ignored");
            }
            if !records_id && !matches!(change, StatusChange::Advanced(_)) {
                return Ok(WebhookOutcome::Unchanged);
            }
            next.bump_version(OffsetDateTime::now_utc());
            match self.store.update_attempt(&next).await {
                Ok(()) => {
                    tracing::info!(provider_payment_id = %payment.id, status = %next.status, "payment status updated");
                    return Ok(match change {
                        StatusChange::Advanced(status) => WebhookOutcome::Updated(status),
                        _ => WebhookOutcome::Unchanged,
                    });
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(WebhookError::Store(e)),
            }
        }
        Err(WebhookError::Store(StoreError::Conflict))
    }
}
