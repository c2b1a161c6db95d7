//! What every API call passes before its work: the API key, and the
//! faults injected into calls.

use super::documents::{error, ApiError};
use crate::faults::ApiFault;
use crate::state::EmulatorState;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

pub(crate) fn authorized(state: &EmulatorState, headers: &HeaderMap) -> Result<(), ApiError> {
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let accepted = state.accepted_keys.read().expect("keys lock");
    let well_formed = |key: &str| {
        key.strip_prefix("test_")
            .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
    };
    match key {
        Some(key)
            if well_formed(key) && accepted.as_ref().is_none_or(|keys| keys.contains(key)) =>
        {
            Ok(())
        }
        _ => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "Missing authentication, or failed to authenticate",
        )),
    }
}

/// An authenticated API call under injected faults: `answer` runs for a
/// valid key only.
pub(crate) async fn authenticated(
    state: &EmulatorState,
    headers: &HeaderMap,
    answer: impl FnOnce() -> Response,
) -> Response {
    with_faults(state, || match authorized(state, headers) {
        Ok(()) => answer(),
        Err(denied) => denied.into_response(),
    })
    .await
}

/// Injected faults: fail before doing anything, or do the work and answer late.
pub(crate) async fn with_faults(
    state: &EmulatorState,
    work: impl FnOnce() -> Response,
) -> Response {
    match state.take_api_fault() {
        Some(ApiFault::Fail(code)) => error(
            StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            "The service is temporarily unavailable (injected fault)",
            None,
        ),
        Some(ApiFault::Hang(delay)) => {
            let response = work();
            tokio::time::sleep(delay).await;
            response
        }
        None => work(),
    }
}
