//! What a payment's refunds, chargebacks and captures share: kept on their
//! payment, created, listed and read through one shape of endpoints. Each
//! kind says only what differs (`PaymentItem`, `CreatedItem`).

use super::documents::{hal, hal_list, not_found, ApiError};
use super::guard::{authenticated, with_faults};
use super::idempotency::create_once;
use crate::state::{EmulatedPayment, EmulatorState};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value};
use std::sync::Arc;
use time::OffsetDateTime;

/// A payment's refund, chargeback or capture.
pub(crate) trait PaymentItem: Clone + Send + Sync + 'static {
    /// The path segment and `_embedded` key, e.g. `refunds`.
    const KIND: &'static str;
    /// One of them, e.g. `refund`: its `resource` and Mollie's 404.
    const NAME: &'static str;

    /// The payment's, oldest first.
    fn all(payment: &EmulatedPayment) -> &[Self];
    fn all_mut(payment: &mut EmulatedPayment) -> &mut Vec<Self>;
    fn id(&self) -> &str;
    fn created_at(&self) -> OffsetDateTime;
    /// The resource as Mollie's API returns it.
    fn resource(&self, base: &str) -> Value;
}

/// A payment item the shop creates (`POST /v2/payments/{id}/{kind}`).
pub(crate) trait CreatedItem: PaymentItem {
    /// Checks a create request against the payment and records the item.
    fn add(
        state: &EmulatorState,
        payment_id: &str,
        fields: &Map<String, Value>,
    ) -> Result<Self, ApiError>;

    /// What then happens to it in time (it settles, it succeeds).
    fn later(state: Arc<EmulatorState>, item: &Self);
}

/// The payment's items of kind `R` as resources.
pub(crate) fn resources<R: PaymentItem>(payment: &EmulatedPayment, base: &str) -> Vec<Value> {
    R::all(payment).iter().map(|i| i.resource(base)).collect()
}

/// `POST /v2/payments/{id}/{kind}`, idempotent as every create.
pub(crate) async fn create<R: CreatedItem>(
    State(state): State<Arc<EmulatorState>>,
    Path(payment_id): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let scope = format!("{payment_id} {}", R::KIND);
    with_faults(&state, || {
        create_once(&state, &headers, &body, &scope, |fields| {
            let item = R::add(&state, &payment_id, fields)?;
            R::later(state.clone(), &item);
            Ok(item.resource(&state.config.public_base_url))
        })
    })
    .await
}

/// `GET /v2/payments/{id}/{kind}`: the payment's, or 404.
pub(crate) async fn list<R: PaymentItem>(
    State(state): State<Arc<EmulatorState>>,
    Path(payment_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    authenticated(&state, &headers, || {
        let base = &state.config.public_base_url;
        match state.get(&payment_id) {
            None => not_found("payment", &payment_id),
            Some(payment) => hal_list(
                R::KIND,
                format!("{base}/v2/payments/{payment_id}/{}", R::KIND),
                resources::<R>(&payment, base),
            ),
        }
    })
    .await
}

/// `GET /v2/{kind}`: the account's across its payments, newest first as
/// Mollie lists them.
pub(crate) async fn list_all<R: PaymentItem>(
    State(state): State<Arc<EmulatorState>>,
    headers: HeaderMap,
) -> Response {
    authenticated(&state, &headers, || {
        let base = &state.config.public_base_url;
        let payments = state.payments.lock().expect("payments lock");
        let mut all: Vec<&R> = payments.values().flat_map(R::all).collect();
        all.sort_by_key(|item| std::cmp::Reverse(item.created_at()));
        hal_list(
            R::KIND,
            format!("{base}/v2/{}", R::KIND),
            all.into_iter().map(|item| item.resource(base)).collect(),
        )
    })
    .await
}

/// `GET /v2/payments/{id}/{kind}/{item_id}`: one of the payment's, or 404.
pub(crate) async fn get<R: PaymentItem>(
    State(state): State<Arc<EmulatorState>>,
    Path((payment_id, item_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    authenticated(&state, &headers, || {
        let base = &state.config.public_base_url;
        let found = state
            .get(&payment_id)
            .and_then(|p| R::all(&p).iter().find(|i| i.id() == item_id).cloned());
        match found {
            Some(item) => hal(StatusCode::OK, item.resource(base)),
            None => not_found(R::NAME, &item_id),
        }
    })
    .await
}

/// Item `id` of kind `R`, on whichever payment holds it.
pub(crate) fn find_item<R: PaymentItem>(state: &EmulatorState, id: &str) -> Option<R> {
    let payments = state.payments.lock().expect("payments lock");
    let found = payments.values().flat_map(R::all).find(|i| i.id() == id);
    found.cloned()
}

/// Changes item `id` of kind `R` under the payments lock; `change` answers
/// what to return and whether the payment's webhook is due. `None` when no
/// payment holds it.
pub(crate) fn change_item<R: PaymentItem, T>(
    state: &EmulatorState,
    id: &str,
    change: impl FnOnce(&mut R) -> (T, bool),
) -> Option<T> {
    let mut payments = state.payments.lock().expect("payments lock");
    let payment = payments
        .values_mut()
        .find(|p| R::all(p).iter().any(|i| i.id() == id))?;
    let item = R::all_mut(payment)
        .iter_mut()
        .find(|i| i.id() == id)
        .expect("the payment holds it");
    let (answer, notify) = change(item);
    if notify {
        crate::webhooks::notify(state, payment);
    }
    Some(answer)
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
