//! `POST /webhooks/mollie`: Mollie says a payment changed (`id=tr_...`).
//! 200 when handled or not ours (nothing leaks); 503 on a fault, so that
//! Mollie calls again. The work is cut off well within Mollie's 15 s
//! webhook timeout and answered 503 then: a retry beats a timeout.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Form, Router};
use checkout::{CheckoutService, ProviderPaymentId, SyncOutcome};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

#[derive(Deserialize)]
struct WebhookBody {
    id: String,
}

#[derive(Clone)]
struct WebhookState {
    service: Arc<CheckoutService>,
    timeout: Duration,
}

pub fn routes<S: Clone + Send + Sync + 'static>(
    service: Arc<CheckoutService>,
    timeout: Duration,
) -> Router<S> {
    Router::new()
        .route("/webhooks/mollie", post(mollie_webhook))
        .with_state(WebhookState { service, timeout })
}

async fn mollie_webhook(
    State(state): State<WebhookState>,
    Form(body): Form<WebhookBody>,
) -> StatusCode {
    let Ok(id) = mollie::PaymentId::parse(&body.id) else {
        tracing::info!(id = ?crate::telemetry::loggable(&body.id), "webhook ignored: not a Mollie payment id");
        return StatusCode::OK;
    };
    let id = ProviderPaymentId::from(id);
    match tokio::time::timeout(state.timeout, state.service.handle_webhook(&id)).await {
        Ok(Ok(SyncOutcome::Ignored(reason))) => {
            tracing::info!(provider_payment_id = %id, reason, "webhook ignored");
            StatusCode::OK
        }
        Ok(Ok(_)) => StatusCode::OK,
        Ok(Err(error)) => {
            tracing::warn!(provider_payment_id = %id, error = %checkout::error_report(&error), "webhook failed; Mollie will retry");
            StatusCode::SERVICE_UNAVAILABLE
        }
        // Every write is conditional, so work cut off half way is safe to redo.
        Err(_) => {
            tracing::warn!(provider_payment_id = %id, timeout = ?state.timeout, "webhook took too long; Mollie will retry");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}
