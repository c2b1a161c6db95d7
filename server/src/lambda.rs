//! The same shop on AWS Lambda: `main` calls [`run`] when it finds itself
//! there (`AWS_LAMBDA_RUNTIME_API`). The router is the one the plain server
//! serves, through `lambda_http` (API Gateway's HTTP API, function URLs and
//! `cargo lambda watch` alike), plus `POST /events` for the reconciler's
//! scheduled invocation (EventBridge). That route answers only events that
//! did not come through HTTP (`RequestContext::PassThrough`): a public
//! request to it gets 404, on Lambda and on the plain server.

use crate::reconciler::{self, ReconcilerConfig};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use checkout::CheckoutService;
use std::sync::Arc;

/// Where `lambda_http` delivers non-HTTP events (with `pass_through`).
pub const EVENTS_PATH: &str = "/events";

#[derive(Clone)]
struct Reconcile {
    service: Arc<CheckoutService>,
    config: ReconcilerConfig,
}

/// `POST /events`: one bounded reconcile pass per scheduled event.
pub fn events_route<S: Clone + Send + Sync + 'static>(
    service: Arc<CheckoutService>,
    config: ReconcilerConfig,
) -> Router<S> {
    Router::new()
        .route(EVENTS_PATH, post(scheduled_event))
        .with_state(Reconcile { service, config })
}

fn is_lambda_event(request: &Request) -> bool {
    matches!(
        request
            .extensions()
            .get::<lambda_http::request::RequestContext>(),
        Some(lambda_http::request::RequestContext::PassThrough)
    )
}

async fn scheduled_event(State(reconcile): State<Reconcile>, request: Request) -> Response {
    if !is_lambda_event(&request) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let (_stop, mut running) = tokio::sync::watch::channel(false);
    let report = reconciler::run_once(&reconcile.service, &reconcile.config, &mut running).await;
    tracing::info!(
        checked = report.checked,
        failed = report.failed,
        "scheduled reconcile pass"
    );
    Json(serde_json::json!({ "checked": report.checked, "failed": report.failed })).into_response()
}

/// Serves `router` as a Lambda function until the runtime stops it.
///
/// # Errors
///
/// The Lambda runtime's error when it stops.
pub async fn run(router: Router) -> Result<(), String> {
    lambda_http::run(router).await.map_err(|e| e.to_string())
}
