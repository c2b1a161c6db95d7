//! Creates under an `Idempotency-Key`, as Mollie handles them: the same
//! key and request answers the first answer again.

use super::documents::{error, hal, ApiError};
use super::guard::authorized;
use crate::state::{EmulatorState, IdempotentResponse};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// A create's authenticated JSON body and its `Idempotency-Key`, or
/// Mollie's refusal.
fn create_request(
    state: &EmulatorState,
    headers: &HeaderMap,
    body: &str,
) -> Result<(Map<String, Value>, Option<String>), ApiError> {
    authorized(state, headers)?;
    // No body at all is no parameters (a capture of everything).
    let body = if body.trim().is_empty() { "{}" } else { body };
    let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(body) else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "The request body is not valid JSON",
        ));
    };
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Ok((fields, key))
}

/// Mollie's answer to a create whose `Idempotency-Key` was seen before: the
/// first answer again (`Idempotent-Replayed: true`) for the same request,
/// 400 for another. `None` for a new key or none.
fn replayed(
    kept: &HashMap<String, IdempotentResponse>,
    key: Option<&str>,
    fingerprint: &str,
) -> Option<Response> {
    let previous = kept.get(key?)?;
    if previous.request_fingerprint != fingerprint {
        return Some(error(
            StatusCode::BAD_REQUEST,
            "The idempotency key was already used for another request",
            None,
        ));
    }
    let mut response = hal(
        StatusCode::from_u16(previous.status).unwrap_or(StatusCode::OK),
        previous.body.clone(),
    );
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    Some(response)
}

/// A create as Mollie handles it: authenticated, a JSON body, and the
/// `Idempotency-Key`: the same key and request (`scope`, e.g. the payment's
/// refunds, and body) answers the first answer again; otherwise `make`
/// checks and records the resource and answers it, 201.
pub(crate) fn create_once(
    state: &EmulatorState,
    headers: &HeaderMap,
    body: &str,
    scope: &str,
    make: impl FnOnce(&Map<String, Value>) -> Result<Value, ApiError>,
) -> Response {
    let (fields, key) = match create_request(state, headers, body) {
        Ok(request) => request,
        Err(refused) => return refused.into_response(),
    };
    // Canonical JSON (serde_json sorts object keys) so that field order
    // does not matter; the scope, so one key on two payments differs.
    let fingerprint = format!("{scope} {}", Value::Object(fields.clone()));
    // One lock over look-up and create: two calls with one key cannot both create.
    let mut kept = state.idempotency.lock().expect("idempotency lock");
    if let Some(replay) = replayed(&kept, key.as_deref(), &fingerprint) {
        return replay;
    }
    let body = match make(&fields) {
        Ok(body) => body,
        Err(rejection) => return rejection.into_response(),
    };
    if let Some(key) = key {
        kept.insert(
            key,
            IdempotentResponse {
                request_fingerprint: fingerprint,
                status: StatusCode::CREATED.as_u16(),
                body: body.clone(),
            },
        );
    }
    hal(StatusCode::CREATED, body)
}
