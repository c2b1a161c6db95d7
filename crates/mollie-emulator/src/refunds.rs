//! Refunds, as Mollie's Refunds API has them: created on a paid payment
//! (in part or in full, never more than remains), `pending` until they are
//! processed (Mollie: a while; here `refund_settles_after` times the time
//! factor), then `refunded`; `queued` or `pending` ones can be canceled.
//! The payment's status stays `paid`; it reports `amountRefunded` and
//! `amountRemaining`, and its webhook is called when a refund changes.

use crate::api::{
    account_list, authenticated, change_payment, create_once, error, hal, invalid, money_request,
    not_found, payment_item_links, payment_list, with_faults, ApiError, WireAmount,
};
use crate::state::{mollie_time, EmulatorState, PaymentStatus};
use crate::webhooks;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rand::distr::{Alphanumeric, SampleString};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
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

#[derive(Clone, Debug)]
pub struct EmulatedRefund {
    pub id: String,
    pub payment_id: String,
    pub amount: WireAmount,
    pub description: String,
    pub metadata: Value,
    pub status: RefundStatus,
    pub created_at: OffsetDateTime,
}

impl EmulatedRefund {
    /// The refund resource as Mollie's API returns it.
    pub fn resource(&self, base: &str) -> Value {
        json!({
            "resource": "refund",
            "id": self.id,
            "mode": "test",
            "description": self.description,
            "amount": self.amount.json(),
            "metadata": self.metadata,
            "status": self.status,
            "paymentId": self.payment_id,
            "createdAt": mollie_time(self.created_at),
            "_links": payment_item_links(base, &self.payment_id, "refunds", &self.id),
        })
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

pub async fn create_refund(
    State(state): State<Arc<EmulatorState>>,
    Path(payment_id): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    with_faults(&state, || {
        create_refund_now(&state, &payment_id, &headers, &body)
    })
    .await
}

fn create_refund_now(
    state: &Arc<EmulatorState>,
    payment_id: &str,
    headers: &HeaderMap,
    body: &str,
) -> Response {
    let scope = format!("{payment_id} refunds");
    create_once(state, headers, body, &scope, |fields| {
        let refund = add_refund(state, payment_id, fields)?;
        settle_later(state.clone(), refund.id.clone());
        Ok(refund.resource(&state.config.public_base_url))
    })
}

/// Checks a refund request against its payment and records it, `pending`.
fn add_refund(
    state: &EmulatorState,
    payment_id: &str,
    fields: &Map<String, Value>,
) -> Result<EmulatedRefund, ApiError> {
    let request = money_request(fields)?;
    let amount = request
        .amount
        .ok_or_else(|| invalid("The amount is required", "amount"))?;
    change_payment(state, payment_id, |payment| {
        if payment.status != PaymentStatus::Paid {
            return Err(invalid(
                "The payment has not been paid, so it cannot be refunded",
                "amount",
            ));
        }
        if amount.currency != WireAmount::of(&payment.amount).currency {
            return Err(invalid(
                "The currency of the refund must be the payment's",
                "amount.currency",
            ));
        }
        if amount.minor > crate::chargebacks::remaining_minor(payment) {
            return Err(invalid(
                "The amount is higher than the amount that remains to be refunded",
                "amount",
            ));
        }
        let now = OffsetDateTime::now_utc();
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
        let refund = EmulatedRefund {
            id: format!("re_{}", Alphanumeric.sample_string(&mut rand::rng(), 10)),
            payment_id: payment_id.to_owned(),
            amount,
            description: request.description,
            metadata: request.metadata,
            status: RefundStatus::Pending,
            created_at: now,
        };
        payment.refunds.push(refund.clone());
        Ok(refund)
    })
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
        let mut payments = self.payments.lock().expect("payments lock");
        let Some(payment) = payments
            .values_mut()
            .find(|p| p.refunds.iter().any(|r| r.id == refund_id))
        else {
            return false;
        };
        let refund = payment
            .refunds
            .iter_mut()
            .find(|r| r.id == refund_id)
            .expect("the payment holds it");
        if refund.status == status || !from(refund.status) {
            return false;
        }
        refund.status = status;
        // Mollie calls the webhook when a refund is processed or fails.
        if status != RefundStatus::Canceled {
            webhooks::notify(self, payment);
        }
        true
    }

    fn refund(&self, refund_id: &str) -> Option<EmulatedRefund> {
        self.payments
            .lock()
            .expect("payments lock")
            .values()
            .flat_map(|p| &p.refunds)
            .find(|r| r.id == refund_id)
            .cloned()
    }
}

pub async fn list_payment_refunds(
    State(state): State<Arc<EmulatorState>>,
    Path(payment_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    authenticated(&state, &headers, || {
        payment_list(&state, &payment_id, "refunds", |payment, base| {
            payment.refunds.iter().map(|r| r.resource(base)).collect()
        })
    })
    .await
}

pub async fn list_all_refunds(
    State(state): State<Arc<EmulatorState>>,
    headers: HeaderMap,
) -> Response {
    authenticated(&state, &headers, || {
        account_list(&state, "refunds", |payment, base| {
            let refunds = payment.refunds.iter();
            refunds.map(|r| (r.created_at, r.resource(base))).collect()
        })
    })
    .await
}

pub async fn get_refund(
    State(state): State<Arc<EmulatorState>>,
    Path((payment_id, refund_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    authenticated(&state, &headers, || match state.refund(&refund_id) {
        Some(refund) if refund.payment_id == payment_id => hal(
            StatusCode::OK,
            refund.resource(&state.config.public_base_url),
        ),
        _ => not_found("refund", &refund_id),
    })
    .await
}

pub async fn cancel_refund(
    State(state): State<Arc<EmulatorState>>,
    Path((payment_id, refund_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    authenticated(&state, &headers, || match state.refund(&refund_id) {
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
    if state.refund(&refund_id).is_none() {
        return not_found("refund", &refund_id);
    }
    if state.set_refund_status(&refund_id, change.status, |_| true) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        StatusCode::OK.into_response()
    }
}
