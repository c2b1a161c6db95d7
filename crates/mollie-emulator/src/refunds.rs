//! Refunds, as Mollie's Refunds API has them: created on a paid payment
//! (in part or in full, never more than remains), `pending` until they are
//! processed (Mollie: a while; here `refund_settles_after` times the time
//! factor), then `refunded`; `queued` or `pending` ones can be canceled.
//! The payment's status stays `paid`; it reports `amountRefunded` and
//! `amountRemaining`, and its webhook is called when a refund changes.

use crate::api::{
    authenticated, change_item, error, find_item, invalid, not_found, ApiError, WireAmount,
};
use crate::chargebacks::remaining_minor;
use crate::movement::{Movement, MovementStatus};
use crate::state::{EmulatedPayment, EmulatorState, PaymentStatus};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// Mollie refuses a second refund of the same amount on one payment for
/// about an hour (times the time factor here).
const DUPLICATE_WINDOW: Duration = Duration::from_secs(3600);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RefundStatus {
    Queued,
    Pending,
    Processing,
    Refunded,
    Failed,
    Canceled,
}

impl RefundStatus {
    /// Counts against what remains to be refunded.
    pub fn counts(self) -> bool {
        !matches!(self, Self::Failed | Self::Canceled)
    }
}

pub type EmulatedRefund = Movement<RefundStatus>;

impl MovementStatus for RefundStatus {
    const KIND: &'static str = "refunds";
    const NAME: &'static str = "refund";
    const PREFIX: &'static str = "re";
    const DONE: &'static str = "refunded";
    const PENDING: Self = Self::Pending;
    type Requested = WireAmount;

    fn on(payment: &EmulatedPayment) -> &[EmulatedRefund] {
        &payment.refunds
    }

    fn on_mut(payment: &mut EmulatedPayment) -> &mut Vec<EmulatedRefund> {
        &mut payment.refunds
    }

    fn requested(amount: Option<WireAmount>) -> Result<WireAmount, ApiError> {
        amount.ok_or_else(|| invalid("The amount is required", "amount"))
    }

    /// A paid payment, at most what remains, not the same amount again
    /// within the duplicate window.
    fn admit(
        state: &EmulatorState,
        payment: &EmulatedPayment,
        amount: WireAmount,
        now: OffsetDateTime,
    ) -> Result<WireAmount, ApiError> {
        if payment.status != PaymentStatus::Paid {
            return Err(invalid(
                "The payment has not been paid, so it cannot be refunded",
                "amount",
            ));
        }
        EmulatedRefund::check_amount(payment, &amount, remaining_minor(payment))?;
        let window = DUPLICATE_WINDOW.mul_f64(state.config.time_factor);
        let duplicate = payment
            .refunds
            .iter()
            .any(|r| r.status.counts() && r.amount == amount && now - r.created_at < window);
        if duplicate {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "A duplicate refund has been detected",
            ));
        }
        Ok(amount)
    }

    fn later(state: Arc<EmulatorState>, refund: &EmulatedRefund) {
        settle_later(state, refund.id.clone());
    }
}

/// What a paid payment's refunds take from it, in minor units.
pub fn refunded_minor(refunds: &[EmulatedRefund]) -> i64 {
    refunds
        .iter()
        .filter(|r| r.status.counts())
        .map(|r| r.amount.minor)
        .sum()
}

/// The refund is processed after `refund_settles_after` (times the time
/// factor), unless it was canceled or given another status meanwhile, or
/// refunds are held pending (a fault).
fn settle_later(state: Arc<EmulatorState>, refund_id: String) {
    let delay = state
        .config
        .refund_settles_after
        .mul_f64(state.config.time_factor);
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        if state
            .faults
            .lock()
            .expect("faults lock")
            .refunds_stay_pending
        {
            return;
        }
        state.set_refund_status(&refund_id, RefundStatus::Refunded, |s| {
            s == RefundStatus::Pending
        });
    });
}

impl EmulatorState {
    /// Moves a refund to `status` when `from(current)` allows it and
    /// notifies the payment's webhook. False when nothing changed.
    pub fn set_refund_status(
        &self,
        refund_id: &str,
        status: RefundStatus,
        from: impl Fn(RefundStatus) -> bool,
    ) -> bool {
        change_item(self, refund_id, |refund: &mut EmulatedRefund| {
            if refund.status == status || !from(refund.status) {
                return (false, false);
            }
            refund.status = status;
            // Mollie calls the webhook when a refund is processed or fails.
            (true, status != RefundStatus::Canceled)
        })
        .unwrap_or(false)
    }
}

pub async fn cancel_refund(
    State(state): State<Arc<EmulatorState>>,
    Path((payment_id, refund_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    authenticated(&state, &headers, || {
        match find_item::<EmulatedRefund>(&state, &refund_id) {
            Some(refund) if refund.payment_id == payment_id => {
                let cancelable = |s| matches!(s, RefundStatus::Queued | RefundStatus::Pending);
                if state.set_refund_status(&refund_id, RefundStatus::Canceled, cancelable) {
                    StatusCode::NO_CONTENT.into_response()
                } else {
                    error(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "The refund cannot be canceled any more",
                        None,
                    )
                }
            }
            _ => not_found("refund", &refund_id),
        }
    })
    .await
}

#[derive(Deserialize)]
pub struct RefundChange {
    status: RefundStatus,
}

/// `PUT /_emulator/refunds/{re_id}` `{"status": "failed"}`: what Mollie's
/// processing would do, now (control endpoint, no authentication).
pub async fn put_refund_status(
    State(state): State<Arc<EmulatorState>>,
    Path(refund_id): Path<String>,
    axum::Json(change): axum::Json<RefundChange>,
) -> Response {
    if find_item::<EmulatedRefund>(&state, &refund_id).is_none() {
        return not_found("refund", &refund_id);
    }
    if state.set_refund_status(&refund_id, change.status, |_| true) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        StatusCode::OK.into_response()
    }
}
