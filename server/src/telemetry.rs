//! Logs you can follow from a request to a store write. Every request gets
//! an id of ours (`x-request-id`, also in the response) and a span; the
//! service's operations add `order_id`, `attempt_id` and
//! `provider_payment_id`, so every line of a checkout or a webhook carries
//! them. Human-readable locally; one JSON object per line where logs are
//! collected (on Lambda, CloudWatch), or wherever `SHOP_LOG_FORMAT=json`.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Request};
use axum::Router;
use tower_http::request_id::PropagateRequestIdLayer;
use tower_http::set_header::SetRequestHeaderLayer;
use tower_http::trace::TraceLayer;
use tracing_subscriber::EnvFilter;

/// At most this much of a caller's text (an id, a path) reaches the logs.
const LOGGED_CHARS: usize = 40;
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// Without `RUST_LOG`: our logs at INFO, the HTTP stack's only when they warn.
const DEFAULT_FILTER: &str = "info,tower_http=warn";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

impl LogFormat {
    /// `SHOP_LOG_FORMAT` (`json` or `human`); otherwise JSON on Lambda.
    pub fn from_env() -> Self {
        match std::env::var("SHOP_LOG_FORMAT").as_deref() {
            Ok("json") => Self::Json,
            Ok("human") => Self::Human,
            _ if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() => Self::Json,
            _ => Self::Human,
        }
    }
}

/// Installs the process's subscriber (once, first thing in `main`).
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        // The current span and its parents as fields: request id, order id...
        LogFormat::Json => builder
            .json()
            .with_current_span(false)
            .with_span_list(true)
            .init(),
        LogFormat::Human => builder.init(),
    }
}

/// A request id of ours on every request, a span around its handling, and
/// the id in the response for a shopper's or operator's report. A caller's
/// own `x-request-id` is replaced: ids in our logs are ours.
pub fn trace_requests<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                // A 5xx is logged where it is answered, with its causes.
                .on_failure(())
                .make_span_with(|request: &Request<Body>| {
                    let request_id = request
                        .headers()
                        .get(&REQUEST_ID)
                        .and_then(|value| value.to_str().ok())
                        .unwrap_or_default();
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %loggable(request.uri().path()),
                        %request_id,
                    )
                }),
        )
        .layer(SetRequestHeaderLayer::overriding(
            REQUEST_ID,
            |_: &Request<Body>| {
                HeaderValue::from_str(&uuid::Uuid::new_v4().simple().to_string()).ok()
            },
        ))
}

/// A caller's text as it may be logged: bounded (log volume), and to be
/// logged with `{:?}`, which escapes line breaks (forged log lines).
pub fn loggable(text: &str) -> String {
    let mut shown: String = text.chars().take(LOGGED_CHARS).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    shown
}
