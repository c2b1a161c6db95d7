//! Authorize now, capture later, as Mollie's Captures API has it: a payment
//! created with `captureMode: manual` becomes `authorized` when the shopper
//! pays (with `authorizedAt` and `captureBefore`); the shop captures all or
//! part of it (`POST /v2/payments/{id}/captures`), each capture `pending`
//! and then `succeeded`, which makes the payment `paid`; the shop releases
//! what it will not capture (`POST .../release-authorization`, 202): all of
//! it cancels the payment. An authorization nobody captured before
//! `captureBefore` expires, and its webhook is called.

use crate::api::{authenticated, error, invalid, not_found, ApiError, WireAmount};
use crate::movement::{Movement, MovementStatus};
use crate::state::{EmulatedPayment, EmulatorState, PaymentStatus};
use crate::webhooks;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use time::OffsetDateTime;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaptureStatus {
    Pending,
    Succeeded,
    Failed,
}

pub type EmulatedCapture = Movement<CaptureStatus>;

impl MovementStatus for CaptureStatus {
    const KIND: &'static str = "captures";
    const NAME: &'static str = "capture";
    const PREFIX: &'static str = "cpt";
    const DONE: &'static str = "captured";
    const PENDING: Self = Self::Pending;
    type Requested = Option<WireAmount>;

    fn on(payment: &EmulatedPayment) -> &[EmulatedCapture] {
        &payment.captures
    }

    fn on_mut(payment: &mut EmulatedPayment) -> &mut Vec<EmulatedCapture> {
        &mut payment.captures
    }

    fn requested(amount: Option<WireAmount>) -> Result<Option<WireAmount>, ApiError> {
        Ok(amount)
    }

    /// Authorization left, at most that; without an amount, all of it.
    fn admit(
        _: &EmulatorState,
        payment: &EmulatedPayment,
        amount: Option<WireAmount>,
        now: OffsetDateTime,
    ) -> Result<WireAmount, ApiError> {
        let capturable = capturable_minor(payment, now);
        if capturable <= 0 {
            return Err(invalid(
                "The payment has no authorization left to capture",
                "amount",
            ));
        }
        let amount =
            amount.unwrap_or_else(|| WireAmount::of(&payment.amount).with_minor(capturable));
        EmulatedCapture::check_amount(payment, &amount, capturable)?;
        Ok(amount)
    }

    fn later(state: Arc<EmulatorState>, capture: &EmulatedCapture) {
        succeed_later(state, capture.payment_id.clone(), capture.id.clone());
    }
}

/// Captured so far (succeeded), in minor units: `amountCaptured`.
pub fn captured_minor(captures: &[EmulatedCapture]) -> i64 {
    captures
        .iter()
        .filter(|c| c.status == CaptureStatus::Succeeded)
        .map(|c| c.amount.minor)
        .sum()
}

/// What the payment took: all of it, or for a manual capture what was
/// captured.
pub fn taken_minor(payment: &EmulatedPayment) -> i64 {
    if payment.manual_capture {
        captured_minor(&payment.captures)
    } else {
        WireAmount::of(&payment.amount).minor
    }
}

/// What may still be captured: the authorization, less captures not
/// failed; nothing once released, past `captureBefore` or final unpaid.
fn capturable_minor(payment: &EmulatedPayment, now: OffsetDateTime) -> i64 {
    let open = matches!(
        payment.status,
        PaymentStatus::Authorized | PaymentStatus::Paid
    ) && !payment.released
        && payment
            .capture_before
            .is_some_and(|deadline| now < deadline);
    if !payment.manual_capture || !open {
        return 0;
    }
    let claimed: i64 = payment
        .captures
        .iter()
        .filter(|c| c.status != CaptureStatus::Failed)
        .map(|c| c.amount.minor)
        .sum();
    WireAmount::of(&payment.amount).minor - claimed
}

/// The capture succeeds after `capture_settles_after` (times the time
/// factor): the payment is then `paid`, and its webhook is called.
fn succeed_later(state: Arc<EmulatorState>, payment_id: String, capture_id: String) {
    let delay = state
        .config
        .capture_settles_after
        .mul_f64(state.config.time_factor);
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        let mut payments = state.payments.lock().expect("payments lock");
        let Some(payment) = payments.get_mut(&payment_id) else {
            return;
        };
        let Some(capture) = payment.captures.iter_mut().find(|c| c.id == capture_id) else {
            return;
        };
        capture.status = CaptureStatus::Succeeded;
        if payment.status == PaymentStatus::Authorized {
            payment.status = PaymentStatus::Paid;
            payment.changed_at = Some(OffsetDateTime::now_utc());
        }
        webhooks::notify(&state, payment);
    });
}

pub async fn release_authorization(
    State(state): State<Arc<EmulatorState>>,
    Path(payment_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    authenticated(&state, &headers, || {
        let _ = state.get(&payment_id); // applies expiry first
        let mut payments = state.payments.lock().expect("payments lock");
        let Some(payment) = payments.get_mut(&payment_id) else {
            return not_found("payment", &payment_id);
        };
        if capturable_minor(payment, OffsetDateTime::now_utc()) <= 0 {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "The payment has no authorization left to release",
                None,
            );
        }
        payment.released = true;
        // Nothing captured or on its way: the payment is canceled.
        if payment
            .captures
            .iter()
            .all(|c| c.status == CaptureStatus::Failed)
        {
            payment.status = PaymentStatus::Canceled;
            payment.changed_at = Some(OffsetDateTime::now_utc());
            webhooks::notify(&state, payment);
        }
        StatusCode::ACCEPTED.into_response()
    })
    .await
}

/// Lapses payment `id`'s authorization at its `captureBefore` (with its
/// webhook), as Mollie does, without waiting for a read. The deadline is
/// read again at least every second, so a moved one is honoured.
pub(crate) fn lapse_on_time(state: &Arc<EmulatorState>, id: &str) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return; // outside a runtime: the next read lapses it
    };
    let (state, id) = (state.clone(), id.to_owned());
    runtime.spawn(async move {
        loop {
            let deadline = match state.payments.lock().expect("payments lock").get(&id) {
                Some(p) if !p.released && !p.status.is_final() => p.capture_before,
                _ => None,
            };
            let Some(deadline) = deadline else { return };
            let left = deadline - OffsetDateTime::now_utc();
            if left <= time::Duration::ZERO {
                let _ = state.get(&id); // lapses it
                return;
            }
            let left = std::time::Duration::try_from(left).unwrap_or_default();
            tokio::time::sleep(left.min(std::time::Duration::from_secs(1))).await;
        }
    });
}

impl EmulatorState {
    /// An authorized payment past `captureBefore`: expired when nothing
    /// was captured (its webhook is called), else the rest is released.
    pub(crate) fn lapse_authorization(&self, payment: &mut EmulatedPayment, now: OffsetDateTime) {
        let lapsed = payment
            .capture_before
            .is_some_and(|deadline| now >= deadline);
        if !lapsed || payment.released {
            return;
        }
        match payment.status {
            PaymentStatus::Authorized if payment.captures.is_empty() => {
                payment.status = PaymentStatus::Expired;
                payment.changed_at = Some(now);
                payment.released = true;
                webhooks::notify(self, payment);
            }
            PaymentStatus::Authorized | PaymentStatus::Paid => payment.released = true,
            _ => {}
        }
    }
}
