//! The payments themselves: create, get and cancel, with the checks
//! Mollie makes of a create.

use super::body::{known_parameters, parse_amount};
use super::documents::{error, hal, invalid, ApiError};
use super::guard::{authorized, with_faults};
use super::idempotency::create_once;
use super::sub_resources::{resources, PaymentItem};
use crate::chargebacks::EmulatedChargeback;
use crate::refunds::EmulatedRefund;
use crate::state::{EmulatedPayment, EmulatorState, PaymentStatus};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use std::sync::Arc;
use time::OffsetDateTime;

const CREATE_PARAMETERS: [&str; 10] = [
    "amount",
    "description",
    "redirectUrl",
    "cancelUrl",
    "webhookUrl",
    "metadata",
    "locale",
    "method",
    "captureMode",
    "lines",
];

fn valid_url(text: &str) -> bool {
    (text.starts_with("https://") || text.starts_with("http://"))
        && text.len() > 8
        && !text.contains(char::is_whitespace)
}

fn optional_url(
    body: &Map<String, Value>,
    field: &str,
    state: &EmulatorState,
) -> Result<Option<String>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(url)) if valid_url(url) => {
            if !crate::state::url_allowed(url, &state.config.allowed_origins) {
                return Err(invalid(
                    &format!("The {field} must point to a loopback address or an origin this emulator allows"),
                    field,
                ));
            }
            Ok(Some(url.clone()))
        }
        Some(_) => Err(invalid(&format!("The {field} is invalid"), field)),
    }
}

/// Checks a create request the way Mollie does, field by field.
fn parse_create(
    body: &Map<String, Value>,
    state: &EmulatorState,
) -> Result<EmulatedPayment, ApiError> {
    known_parameters(body, &CREATE_PARAMETERS)?;
    let amount = parse_amount(body)?;
    let lines = crate::lines::parse_lines(body, &amount)?;
    let description = match body.get("description") {
        Some(Value::String(d)) if !d.trim().is_empty() && d.chars().count() <= 255 => d.clone(),
        Some(Value::String(d)) if !d.trim().is_empty() => {
            return Err(invalid("The description is too long", "description"))
        }
        _ => return Err(invalid("The description is invalid", "description")),
    };
    let redirect_url = optional_url(body, "redirectUrl", state)?.ok_or_else(|| {
        invalid(
            "The redirect URL is required for this payment",
            "redirectUrl",
        )
    })?;
    let manual_capture = match body.get("captureMode") {
        None | Some(Value::Null) => false,
        Some(mode) if mode == "automatic" => false,
        Some(mode) if mode == "manual" => true,
        Some(_) => return Err(invalid("The capture mode is invalid", "captureMode")),
    };
    let now = OffsetDateTime::now_utc();
    Ok(EmulatedPayment {
        id: EmulatorState::new_payment_id(),
        created_at: now,
        expires_at: now + state.config.payment_ttl,
        changed_at: None,
        amount: amount.json(),
        description,
        redirect_url,
        cancel_url: optional_url(body, "cancelUrl", state)?,
        webhook_url: optional_url(body, "webhookUrl", state)?,
        metadata: body.get("metadata").cloned().unwrap_or(Value::Null),
        method: crate::methods::parse_method(body, &amount)?,
        locale: parse_locale(body)?,
        status: PaymentStatus::Open,
        refunds: Vec::new(),
        chargebacks: Vec::new(),
        manual_capture,
        lines,
        authorized_at: None,
        capture_before: None,
        captures: Vec::new(),
        released: false,
    })
}

/// Mollie's payment locales.
const LOCALES: [&str; 22] = [
    "en_US", "en_GB", "nl_NL", "nl_BE", "de_DE", "de_AT", "de_CH", "fr_FR", "fr_BE", "es_ES",
    "ca_ES", "pt_PT", "it_IT", "nb_NO", "sv_SE", "fi_FI", "da_DK", "is_IS", "hu_HU", "pl_PL",
    "lv_LV", "lt_LT",
];

/// `locale`, when given, must be one of Mollie's, spelled as Mollie does.
pub(crate) fn parse_locale(body: &Map<String, Value>) -> Result<Option<String>, ApiError> {
    match body.get("locale") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(locale)) if LOCALES.contains(&locale.as_str()) => {
            Ok(Some(locale.clone()))
        }
        Some(_) => Err(invalid("The locale is invalid", "locale")),
    }
}

pub async fn create_payment(
    State(state): State<Arc<EmulatorState>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    with_faults(&state, || create_payment_now(&state, &headers, &body)).await
}

fn create_payment_now(state: &EmulatorState, headers: &HeaderMap, body: &str) -> Response {
    create_once(state, headers, body, "payments", |fields| {
        let payment = parse_create(fields, state)?;
        let body = state.resource(&payment);
        state.insert(payment);
        Ok(body)
    })
}

#[derive(serde::Deserialize)]
pub struct GetPaymentQuery {
    /// `refunds`, `chargebacks` (comma-separated list): embed them in
    /// `_embedded`.
    #[serde(default)]
    embed: String,
}

pub async fn get_payment(
    State(state): State<Arc<EmulatorState>>,
    Path(id): Path<String>,
    Query(query): Query<GetPaymentQuery>,
    headers: HeaderMap,
) -> Response {
    let embed: Vec<&str> = query.embed.split(',').collect();
    with_faults(&state, || get_payment_now(&state, &id, &headers, &embed)).await
}

fn get_payment_now(
    state: &EmulatorState,
    id: &str,
    headers: &HeaderMap,
    embed: &[&str],
) -> Response {
    if let Err(denied) = authorized(state, headers) {
        return denied.into_response();
    }
    match state.get(id) {
        Some(payment) => {
            let mut body = state.resource(&payment);
            let base = &state.config.public_base_url;
            let mut embedded = Map::new();
            if embed.contains(&EmulatedRefund::KIND) {
                let refunds = resources::<EmulatedRefund>(&payment, base);
                embedded.insert(EmulatedRefund::KIND.into(), Value::Array(refunds));
            }
            if embed.contains(&EmulatedChargeback::KIND) {
                let chargebacks = resources::<EmulatedChargeback>(&payment, base);
                embedded.insert(EmulatedChargeback::KIND.into(), Value::Array(chargebacks));
            }
            if !embedded.is_empty() {
                body["_embedded"] = Value::Object(embedded);
            }
            hal(StatusCode::OK, body)
        }
        None => error(
            StatusCode::NOT_FOUND,
            format!("No payment exists with token {id}."),
            None,
        ),
    }
}

pub async fn cancel_payment(
    State(state): State<Arc<EmulatorState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    with_faults(&state, || cancel_payment_now(&state, &id, &headers)).await
}

fn cancel_payment_now(state: &Arc<EmulatorState>, id: &str, headers: &HeaderMap) -> Response {
    if let Err(denied) = authorized(state, headers) {
        return denied.into_response();
    }
    match state.get(id) {
        None => error(
            StatusCode::NOT_FOUND,
            format!("No payment exists with token {id}."),
            None,
        ),
        Some(payment) if payment.status != PaymentStatus::Open => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The payment cannot be cancelled",
            None,
        ),
        Some(_) => {
            state.complete(id, PaymentStatus::Canceled);
            let payment = state.get(id).expect("it was there a moment ago");
            hal(StatusCode::OK, state.resource(&payment))
        }
    }
}
