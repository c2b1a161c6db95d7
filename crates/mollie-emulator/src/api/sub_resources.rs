//! What a payment's refunds, chargebacks and captures share: their lists,
//! one of them, and a change to their payment.

use super::documents::{hal, hal_list, not_found, ApiError};
use crate::state::{EmulatedPayment, EmulatorState};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;
use time::OffsetDateTime;

/// `GET /v2/payments/{id}/{kind}`: a payment's refunds, chargebacks or
/// captures (`items` gives them as resources), or 404.
pub(crate) fn payment_list(
    state: &EmulatorState,
    payment_id: &str,
    kind: &str,
    items: impl FnOnce(&EmulatedPayment, &str) -> Vec<Value>,
) -> Response {
    let base = &state.config.public_base_url;
    match state.get(payment_id) {
        None => not_found("payment", payment_id),
        Some(payment) => hal_list(
            kind,
            format!("{base}/v2/payments/{payment_id}/{kind}"),
            items(&payment, base),
        ),
    }
}

/// `GET /v2/{kind}`: the account's refunds or chargebacks across its
/// payments (`items` gives each payment's with their creation times),
/// newest first as Mollie lists them.
pub(crate) fn account_list(
    state: &EmulatorState,
    kind: &str,
    items: impl Fn(&EmulatedPayment, &str) -> Vec<(OffsetDateTime, Value)>,
) -> Response {
    let base = &state.config.public_base_url;
    let payments = state.payments.lock().expect("payments lock");
    let mut all: Vec<(OffsetDateTime, Value)> =
        payments.values().flat_map(|p| items(p, base)).collect();
    all.sort_by_key(|(created_at, _)| std::cmp::Reverse(*created_at));
    hal_list(
        kind,
        format!("{base}/v2/{kind}"),
        all.into_iter().map(|(_, item)| item).collect(),
    )
}

/// `GET /v2/payments/{id}/{kind}/{item_id}`: one of a payment's
/// chargebacks or captures (`find` gives it as a resource), or 404.
pub(crate) fn payment_item(
    state: &EmulatorState,
    payment_id: &str,
    kind: &str,
    item_id: &str,
    find: impl FnOnce(&EmulatedPayment, &str) -> Option<Value>,
) -> Response {
    let base = &state.config.public_base_url;
    match state.get(payment_id).and_then(|p| find(&p, base)) {
        Some(body) => hal(StatusCode::OK, body),
        None => not_found(kind, item_id),
    }
}

/// Changes payment `payment_id` under the payments lock, after its expiry
/// or lapse applied; 404 when it is unknown.
pub(crate) fn change_payment<T>(
    state: &EmulatorState,
    payment_id: &str,
    change: impl FnOnce(&mut EmulatedPayment) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let _ = state.get(payment_id); // applies expiry first
    let mut payments = state.payments.lock().expect("payments lock");
    match payments.get_mut(payment_id) {
        Some(payment) => change(payment),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("No payment exists with token {payment_id}."),
        )),
    }
}
