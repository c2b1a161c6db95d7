//! Capturing and releasing an authorization: the back office's operations
//! under the manual capture policy (reachable from tests until there is
//! one). Nothing is stored before the call: the provider's answer is read
//! back (as a webhook would) and merged, and the capture's id is its
//! idempotency key, so a double submit captures once.

use super::CheckoutService;
use crate::ids::CaptureId;
use crate::money::Money;
use crate::order::OrderId;
use crate::payment::{PaymentAttempt, PaymentStatus, ProviderPaymentId};
use crate::ports::{NewCapture, ProviderError, StoreError};
use crate::CaptureMode;

/// Why a capture or release was not made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    #[error("no such order")]
    UnknownOrder,
    #[error("the order has no authorization to capture or release")]
    NothingAuthorized,
    #[error("a capture must be more than zero, in the payment's currency, and at most what was authorized")]
    InvalidAmount,
    /// Asking again (with the same capture id) is safe.
    #[error("the payment provider could not be reached; try again")]
    ProviderUnavailable(#[source] ProviderError),
    /// The provider refused: the authorization lapsed, was released, or
    /// less remains of it.
    #[error("the payment provider refused")]
    ProviderRejected(#[source] ProviderError),
    #[error("the order could not be read")]
    Store(#[from] StoreError),
}

impl CaptureError {
    /// Refused: asking the same again gets the same answer.
    pub fn is_refusal(&self) -> bool {
        !matches!(self, Self::ProviderUnavailable(_) | Self::Store(_))
    }
}

impl CheckoutService {
    /// Captures `amount` (all that is authorized when `None`) of the
    /// order's authorized payment, once per `capture_id`. The payment is
    /// paid once the provider reports the capture done (its webhook).
    ///
    /// # Errors
    ///
    /// [`CaptureError`]: an unknown order or one with no authorization
    /// left, an amount not above zero or above what was authorized (nothing
    /// is sent), the provider unreachable or refusing (more than remains of
    /// the authorization, a lapsed or released one).
    pub async fn capture(
        &self,
        order_id: &OrderId,
        capture_id: &CaptureId,
        amount: Option<Money>,
    ) -> Result<(), CaptureError> {
        let (attempt, provider_payment_id) = self.capturable_attempt(order_id).await?;
        if let Some(amount) = amount {
            let out_of_range = amount.currency() != attempt.amount().currency()
                || amount.is_zero()
                || amount > attempt.amount();
            if out_of_range {
                return Err(CaptureError::InvalidAmount);
            }
        }
        let capture = NewCapture {
            capture_id: capture_id.clone(),
            amount,
            description: format!("Capture for order {order_id}"),
        };
        let created = self
            .provider
            .create_capture(&provider_payment_id, &capture)
            .await;
        self.read_back(&attempt).await;
        created.map_err(provider_failure)
    }

    /// Gives back what the order's payment authorized and was not captured
    /// (all of it: the payment is canceled).
    ///
    /// # Errors
    ///
    /// As [`Self::capture`].
    pub async fn release_authorization(&self, order_id: &OrderId) -> Result<(), CaptureError> {
        let (attempt, provider_payment_id) = self.capturable_attempt(order_id).await?;
        let released = self
            .provider
            .release_authorization(&provider_payment_id)
            .await;
        self.read_back(&attempt).await;
        released.map_err(provider_failure)
    }

    /// The order's manual-capture attempt that is authorized, or paid with
    /// part of it captured (the rest may still be).
    async fn capturable_attempt(
        &self,
        order_id: &OrderId,
    ) -> Result<(PaymentAttempt, ProviderPaymentId), CaptureError> {
        let record = self
            .store
            .load_order(order_id)
            .await?
            .ok_or(CaptureError::UnknownOrder)?;
        record
            .attempts
            .into_iter()
            .filter(|a| a.capture_mode() == CaptureMode::Manual)
            .filter(|a| {
                a.status() == PaymentStatus::Authorized
                    || (a.status() == PaymentStatus::Paid && a.taken() != a.amount())
            })
            .find_map(|a| a.provider_payment_id().clone().map(|id| (a, id)))
            .ok_or(CaptureError::NothingAuthorized)
    }

    /// Reads the payment back and merges it, as a webhook would.
    async fn read_back(&self, attempt: &PaymentAttempt) {
        if let Err(error) = self.refresh_attempt(attempt).await {
            tracing::warn!(order_id = %attempt.order_id(), error = %crate::error_report(&error), "could not read the payment back; its webhook will bring it");
        }
        self.forget_paid_order(attempt.order_id());
    }
}

fn provider_failure(error: ProviderError) -> CaptureError {
    match error {
        ProviderError::Unavailable(_) => CaptureError::ProviderUnavailable(error),
        error => CaptureError::ProviderRejected(error),
    }
}
