//! The control endpoints (no authentication, served only when asked
//! for): counters and the faults in force.

use crate::faults::Faults;
use crate::state::EmulatorState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::Arc;

pub async fn stats(State(state): State<Arc<EmulatorState>>) -> Response {
    axum::Json(json!({
        "paymentsCreated": state.payments_created(),
        "webhookCalls": state.webhook_calls(),
        "apiCalls": state.api_calls.load(std::sync::atomic::Ordering::Relaxed),
    }))
    .into_response()
}

pub async fn get_faults(State(state): State<Arc<EmulatorState>>) -> Response {
    axum::Json(state.faults.lock().expect("faults lock").clone()).into_response()
}

pub async fn put_faults(
    State(state): State<Arc<EmulatorState>>,
    axum::Json(faults): axum::Json<Faults>,
) -> Response {
    tracing::info!(?faults, "faults set");
    *state.faults.lock().expect("faults lock") = faults;
    StatusCode::NO_CONTENT.into_response()
}
