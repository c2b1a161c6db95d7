//! Starting a payment: checkout, pay again, and the provider create call.

use super::PaymentChoices;
use super::{
    CheckoutError, CheckoutService, CheckoutStarted, SyncError, SyncOutcome, MAX_WRITE_CONFLICTS,
};
use crate::catalog::{CartLine, CatalogError};
use crate::contact::EmailAddress;
use crate::events::AttemptWrite;
use crate::idempotency::{cart_fingerprint, CheckoutKey, CheckoutRecord};
use crate::locale::Locale;
use crate::order::{Order, OrderId, OrderStatus};
use crate::payment::PaymentAttempt;
use crate::payment_lines::PaymentLine;
use crate::ports::{Cause, NewPayment, PaymentMetadata, ProviderError, StoreError};
use time::OffsetDateTime;

impl CheckoutService {
    /// Buys a cart. The same `key` always yields the same order, however
    /// often and however concurrently it is submitted. The order and its
    /// attempt are stored before the provider is called.
    ///
    /// # Errors
    ///
    /// [`CheckoutError`]: the cart refused, the key used before with another
    /// cart, or the store or provider failing (nothing is lost: a resubmission
    /// with the same key continues the same order).
    pub async fn checkout(
        &self,
        cart: &[CartLine],
        shopper: &EmailAddress,
        key: &CheckoutKey,
    ) -> Result<CheckoutStarted, CheckoutError> {
        self.checkout_in(cart, shopper, key, &PaymentChoices::default())
            .await
    }

    /// [`Self::checkout`] with the shopper's choices: the provider's
    /// checkout page in their language, and the payment method they
    /// picked, which must be one the provider offers for the total.
    ///
    /// # Errors
    ///
    /// As [`Self::checkout`], and [`CheckoutError::MethodNotOffered`]
    /// (nothing stored).
    pub async fn checkout_in(
        &self,
        cart: &[CartLine],
        shopper: &EmailAddress,
        key: &CheckoutKey,
        choices: &PaymentChoices,
    ) -> Result<CheckoutStarted, CheckoutError> {
        let lines = self.catalog.price_cart(cart)?;
        if let Some(method) = &choices.method {
            let total = Order::new(lines.clone(), shopper.clone(), self.clock.now())
                .ok_or(CatalogError::TotalTooLarge)?
                .total();
            // Unreadable now: the create itself will say.
            if let Ok(offered) = self.payment_methods(total, choices.locale).await {
                if !offered.iter().any(|m| m.id == *method) {
                    return Err(CheckoutError::MethodNotOffered);
                }
            }
        }
        let fingerprint = cart_fingerprint(&lines);
        for _ in 0..MAX_WRITE_CONFLICTS {
            if let Some(record) = self.store.find_checkout(key).await? {
                if record.cart_fingerprint != fingerprint {
                    return Err(CheckoutError::KeyReusedWithAnotherCart);
                }
                let order = self.store.load_order(&record.order_id).await?;
                let address = order.as_ref().and_then(|o| o.order.shopper_email());
                if address.is_some_and(|a| a != shopper) {
                    return Err(CheckoutError::KeyReusedWithAnotherAddress);
                }
                return self.continue_payment(&record.order_id, choices).await;
            }
            let now = self.clock.now();
            let order = Order::new(lines.clone(), shopper.clone(), now)
                .ok_or(CatalogError::TotalTooLarge)?;
            let attempt = match self.new_attempt(&order, now).await {
                // This very submission may have taken the last units a
                // moment ago (a double click): continue its order.
                Err(CheckoutError::NotEnoughStock(_))
                    if self.store.find_checkout(key).await?.is_some() =>
                {
                    continue
                }
                attempt => attempt?,
            };
            let record = CheckoutRecord::new(key.clone(), order.id().clone(), &lines, now);
            match self.store.create_order(&order, &attempt, &record).await {
                Ok(()) => return self.start_payment(&order, attempt, choices).await,
                // Another submission with this key won (or is writing):
                // continue its order. Or the stock went meanwhile: look again.
                Err(StoreError::AlreadyExists | StoreError::Conflict | StoreError::SoldOut) => {
                    continue
                }
                Err(e) => return Err(e.into()),
            }
        }
        // Lost every race: another writer keeps winning.
        Err(CheckoutError::StoreUnavailable(StoreError::Conflict))
    }

    /// "Pay again" on an order: continues its open attempt, or starts a new
    /// one when every attempt failed, was canceled or expired.
    ///
    /// # Errors
    ///
    /// [`CheckoutError::UnknownOrder`], or the store or provider failing.
    pub async fn pay_again(&self, order_id: &OrderId) -> Result<CheckoutStarted, CheckoutError> {
        self.pay_again_in(order_id, None).await
    }

    /// [`Self::pay_again`], with the provider's checkout page in `locale`.
    ///
    /// # Errors
    ///
    /// As [`Self::pay_again`].
    pub async fn pay_again_in(
        &self,
        order_id: &OrderId,
        locale: Option<Locale>,
    ) -> Result<CheckoutStarted, CheckoutError> {
        let choices = PaymentChoices {
            locale,
            method: None,
        };
        self.continue_payment(order_id, &choices).await
    }

    /// Where a shopper with this order should go: its open attempt's
    /// checkout page (asking the provider first whether it is still open,
    /// and starting the provider payment if it never was), a new attempt if
    /// all failed, or the thank-you page if it is paid.
    #[tracing::instrument(skip_all, fields(order_id = %order_id))]
    async fn continue_payment(
        &self,
        order_id: &OrderId,
        choices: &PaymentChoices,
    ) -> Result<CheckoutStarted, CheckoutError> {
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
            // Paid, or the money is reserved: nothing more to pay.
            if matches!(
                OrderStatus::derive(&record.attempts),
                OrderStatus::Paid | OrderStatus::AwaitingCapture
            ) {
                return Ok(thank_you);
            }
            if let Some(open) = record.attempts.iter().find(|a| a.is_live()) {
                let Some(provider_id) = open.provider_payment_id().clone() else {
                    // Never confirmed by the provider: (re)start its create.
                    // It is given up only `abandon_unconfirmed_after` after
                    // its latest create began; a create that began within
                    // half that still covers this one, so concurrent
                    // submissions write nothing. An older one is renewed
                    // first, conditionally, so a give-up and this create
                    // never both win.
                    let mut attempt = open.clone();
                    let now = self.clock.now();
                    if open.since_create_started(now) >= self.policy.abandon_unconfirmed_after / 2 {
                        attempt.begin_create(now);
                        attempt.bump_version(now);
                        let write = AttemptWrite::new(open, attempt.clone(), now);
                        match self.store.update_attempt(&write).await {
                            Ok(()) => {}
                            Err(StoreError::Conflict) => continue,
                            Err(e) => return Err(e.into()),
                        }
                    }
                    return self.start_payment(&record.order, attempt, choices).await;
                };
                if open.checkout_url().is_none() {
                    // Pending or authorized: nothing to pay, show the status.
                    return Ok(thank_you);
                }
                // The stored checkout link may be stale (expired without a
                // webhook yet): ask the provider before sending anyone there.
                let payment = self
                    .provider
                    .get_payment(&provider_id)
                    .await
                    .map_err(CheckoutError::from)?;
                let applied = self
                    .apply_provider_payment(order_id, open.id(), &payment)
                    .await
                    .map_err(CheckoutError::from)?;
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
            if record.attempts.len() >= super::MAX_ATTEMPTS_PER_ORDER {
                return Err(CheckoutError::TooManyAttempts);
            }
            let order = record.order.for_new_attempt();
            let now = self.clock.now();
            let attempt = self.new_attempt(&order, now).await?;
            match self.store.add_attempt(&order, &attempt).await {
                Ok(()) => return self.start_payment(&order, attempt, choices).await,
                Err(StoreError::Conflict | StoreError::SoldOut) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        // Lost every race: another writer keeps winning.
        Err(CheckoutError::StoreUnavailable(StoreError::Conflict))
    }

    /// A new attempt to pay `order`, under the shop's capture policy,
    /// holding the units of its tracked articles (the store takes them
    /// with the attempt's first write, only if they are still there).
    ///
    /// # Errors
    ///
    /// [`CheckoutError::NotEnoughStock`] when fewer are left than it asks.
    async fn new_attempt(
        &self,
        order: &Order,
        now: OffsetDateTime,
    ) -> Result<PaymentAttempt, CheckoutError> {
        let articles: Vec<_> = order.lines().iter().map(|l| l.article_id.clone()).collect();
        let levels = self.store.stock_levels(&articles).await?;
        if let Some(short) = levels.shortfall(order.lines()) {
            return Err(CheckoutError::NotEnoughStock(short));
        }
        Ok(PaymentAttempt::new(order.id().clone(), order.total(), now)
            .with_capture_mode(self.capture_mode)
            .with_first_check(now, &self.policy.check_schedule)
            .with_stock(levels.hold_for(order.lines())))
    }

    /// Creates the provider payment of a stored attempt (idempotently: its
    /// id is the idempotency key) and records the provider's id and
    /// checkout page.
    #[tracing::instrument(skip_all, fields(order_id = %order.id(), attempt_id = %attempt.id()))]
    async fn start_payment(
        &self,
        order: &Order,
        attempt: PaymentAttempt,
        choices: &PaymentChoices,
    ) -> Result<CheckoutStarted, CheckoutError> {
        let payment = self
            .provider
            .create_payment(&NewPayment {
                amount: attempt.amount(),
                description: order.description(),
                redirect_url: self.urls.thank_you_page(order.id()),
                webhook_url: self.urls.webhook(),
                metadata: PaymentMetadata {
                    order_id: order.id().clone(),
                    attempt_id: attempt.id().clone(),
                },
                idempotency_key: attempt.id().to_string(),
                capture_mode: attempt.capture_mode(),
                lines: PaymentLine::of_order(order.lines()),
                locale: choices.locale,
                method: choices.method.clone(),
            })
            .await
            // The attempt stays `created`: a resubmission retries it, and
            // the reconciler gives it up if nobody does.
            .map_err(CheckoutError::from)?;
        let checkout_url = payment.checkout_url.clone().ok_or_else(|| {
            CheckoutError::ProviderRejected(ProviderError::Malformed(Cause::message(
                "a new payment without a checkout link",
            )))
        })?;
        let applied = self
            .apply_provider_payment(attempt.order_id(), attempt.id(), &payment)
            .await
            .map_err(CheckoutError::from)?;
        if let SyncOutcome::Ignored(reason) = applied.outcome {
            // Not recorded as ours, so no webhook could ever apply it.
            tracing::error!(order_id = %order.id(), provider_payment_id = %payment.id, reason, "the created payment is not the attempt's; canceled");
            if let Err(error) = self.provider.cancel_payment(&payment.id).await {
                tracing::warn!(provider_payment_id = %payment.id, error = %crate::error_report(&error), "could not cancel the payment");
            }
            return Err(CheckoutError::ProviderRejected(ProviderError::Malformed(
                Cause::message(format!(
                    "the created payment is not the attempt's ({reason})"
                )),
            )));
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
                tracing::warn!(order_id = %order.id(), provider_payment_id = %payment.id, error = %crate::error_report(&error), "could not cancel a payment of an attempt no longer live");
            }
            tracing::info!(order_id = %order.id(), provider_payment_id = %payment.id, "the attempt is no longer live; its checkout page is not shown");
            return Ok(CheckoutStarted {
                order_id: order.id().clone(),
                redirect_url: self.urls.thank_you_page(order.id()),
            });
        }
        tracing::info!(order_id = %order.id(), provider_payment_id = %payment.id, "checkout started");
        Ok(CheckoutStarted {
            order_id: order.id().clone(),
            redirect_url: checkout_url,
        })
    }
}

impl From<ProviderError> for CheckoutError {
    fn from(e: ProviderError) -> Self {
        match e {
            // A duplicate: the same create (key) still in flight at the provider.
            ProviderError::Unavailable(_) | ProviderError::Duplicate(_) => {
                Self::ProviderUnavailable(e)
            }
            ProviderError::NotFound | ProviderError::Rejected(_) | ProviderError::Malformed(_) => {
                Self::ProviderRejected(e)
            }
        }
    }
}

/// Reading a payment back while starting one (pay again).
impl From<SyncError> for CheckoutError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::Store(e) => e.into(),
            SyncError::Provider(e) => e.into(),
        }
    }
}
