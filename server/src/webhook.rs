//! `POST /webhooks/mollie`: Mollie says a payment changed (`id=tr_...`).
//! 200 when handled or not ours (nothing leaks); 503 on a fault, so that
//! Mollie calls again.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Form, Router};
use checkout::{CheckoutService, WebhookOutcome};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Deserialize)]
struct WebhookBody {
    id: String,
}

pub fn routes<S: Clone + Send + Sync + 'static>(service: Arc<CheckoutService>) -> Router<S> {
    Router::new()
        .route("/webhooks/mollie", post(mollie_webhook))
        .with_state(service)
}

async fn mollie_webhook(
    State(service): State<Arc<CheckoutService>>,
    Form(body): Form<WebhookBody>,
) -> StatusCode {
    match service.handle_webhook(&body.id).await {
        Ok(WebhookOutcome::Ignored(reason)) => {
            tracing::info!(provider_payment_id = %body.id, reason, "webhook ignored");
            StatusCode::OK
        }
        Ok(_) => StatusCode::OK,
        Err(error) => {
            tracing::warn!(provider_payment_id = %body.id, %error, "webhook failed; Mollie will retry");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}
