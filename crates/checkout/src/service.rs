//! The checkout workflow, over the two ports.

use crate::catalog::{Catalog, CatalogError};
use crate::order::{Order, OrderId, OrderStatus};
use crate::payment::{PaymentAttempt, StatusChange};
use crate::ports::{
    NewPayment, OrderRecord, PaymentMetadata, PaymentProvider, ProviderError, Store, StoreError,
};
use std::sync::Arc;
use time::OffsetDateTime;

/// How often a status write is retried after losing a race to another writer.
const MAX_WRITE_CONFLICTS: usize = 8;

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutStarted {
    pub order_id: OrderId,
    pub checkout_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckoutError {
    #[error(transparent)]
    InvalidCart(#[from] CatalogError),
    #[error("the payment provider is not reachable right now; please try again")]
    ProviderUnavailable,
    #[error("the payment could not be started")]
    ProviderRejected,
    #[error("the shop cannot take orders right now; please try again")]
    StoreUnavailable,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookOutcome {
    Updated(crate::PaymentStatus),
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
        }
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Buys `quantity` of one article: stores the order and a payment attempt
    /// first, then creates the provider payment, then records it.
    pub async fn checkout(
        &self,
        article_id: &str,
        quantity: i64,
    ) -> Result<CheckoutStarted, CheckoutError> {
        let line = self.catalog.price_line(article_id, quantity)?;
        let now = OffsetDateTime::now_utc();
        let order = Order::new(vec![line], now).ok_or(CatalogError::TotalTooLarge)?;
        let attempt = PaymentAttempt::new(order.id.clone(), order.total, now);
        self.store
            .create_order(&order, &attempt)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "could not store a new order");
                CheckoutError::StoreUnavailable
            })?;

        let payment = self
            .provider
            .create_payment(&NewPayment {
                amount: order.total,
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
                // The attempt stays `created`: nothing reached the shopper.
                tracing::warn!(order_id = %order.id, attempt_id = %attempt.id, error = %e, "provider refused or failed to create the payment");
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

        let mut recorded = attempt.clone();
        recorded.record_provider_payment(payment.id.clone(), Some(checkout_url.clone()));
        if let Some(observed) = payment.status {
            recorded.observe(observed);
        }
        recorded.bump_version(OffsetDateTime::now_utc());
        self.store.update_attempt(&recorded).await.map_err(|e| {
            tracing::error!(order_id = %order.id, provider_payment_id = %payment.id, error = %e, "could not record the provider payment");
            CheckoutError::StoreUnavailable
        })?;
        tracing::info!(order_id = %order.id, provider_payment_id = %payment.id, "checkout started");
        Ok(CheckoutStarted {
            order_id: order.id,
            checkout_url,
        })
    }

    /// The order with its attempts and derived status.
    pub async fn order(
        &self,
        id: &OrderId,
    ) -> Result<Option<(OrderRecord, OrderStatus)>, StoreError> {
        Ok(self.store.load_order(id).await?.map(|record| {
            let status = OrderStatus::derive(&record.attempts);
            (record, status)
        }))
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
        let Some(metadata) = payment.metadata.as_ref() else {
            return Ok(WebhookOutcome::Ignored("payment without our metadata"));
        };
        let Some(observed) = payment.status else {
            tracing::warn!(
                provider_payment_id,
                "the provider reported a status we do not know"
            );
            return Ok(WebhookOutcome::Ignored("unknown status"));
        };

        for _ in 0..MAX_WRITE_CONFLICTS {
            let Some(attempt) = self
                .store
                .load_attempt(&metadata.order_id, &metadata.attempt_id)
                .await
                .map_err(WebhookError::Store)?
            else {
                return Ok(WebhookOutcome::Ignored("no such attempt"));
            };
            let same_payment = attempt
                .provider_payment_id
                .as_deref()
                .is_none_or(|id| id == payment.id);
            if !same_payment || attempt.amount != payment.amount {
                tracing::warn!(
                    security_event = true,
                    provider_payment_id,
                    order_id = %metadata.order_id,
                    "webhook payment does not match the stored attempt; ignored"
                );
                return Ok(WebhookOutcome::Ignored(
                    "payment does not match our attempt",
                ));
            }

            let mut next = attempt.clone();
            // A webhook can beat the write that records the provider id.
            let records_id = next.provider_payment_id.is_none();
            if records_id {
                next.record_provider_payment(payment.id.clone(), payment.checkout_url.clone());
            }
            let change = next.observe(observed);
            if change == StatusChange::Stale {
                tracing::info!(provider_payment_id, stored = %attempt.status, %observed, "stale status ignored");
            }
            if !records_id && !matches!(change, StatusChange::Advanced(_)) {
                return Ok(WebhookOutcome::Unchanged);
            }
            next.bump_version(OffsetDateTime::now_utc());
            match self.store.update_attempt(&next).await {
                Ok(()) => {
                    tracing::info!(provider_payment_id, status = %next.status, "payment status updated");
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
