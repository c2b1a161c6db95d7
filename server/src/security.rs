//! HTTP hardening for every response: security headers, request body limits.
//! (The Content-Security-Policy of pages is set by the app, which knows the
//! per-response nonce; no CORS headers are ever sent, so browsers allow no
//! cross-origin reads.)

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::header::{HeaderName, HeaderValue};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;

/// The largest request body we accept: a checkout form or a webhook is a
/// few hundred bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

pub fn harden<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    let headers = [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "strict-origin-when-cross-origin"),
        // For browsers without CSP frame-ancestors (and for non-page responses).
        ("x-frame-options", "DENY"),
        ("cross-origin-opener-policy", "same-origin"),
        (
            "permissions-policy",
            "camera=(), microphone=(), geolocation=(), payment=()",
        ),
    ];
    let mut router = router
        .layer(middleware::from_fn(unparsable_arguments_are_400))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    for (name, value) in headers {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ));
    }
    router
}

/// Leptos answers a server function call whose arguments do not parse
/// (`quantity=two`, a missing field, a wrong content type) with a 500 and an
/// `Args|...` or `Deserialization|...` body. That is the caller's mistake,
/// not ours: 400.
async fn unparsable_arguments_are_400(request: Request, next: Next) -> Response {
    let is_server_fn = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    if !is_server_fn || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .unwrap_or_default();
    if bytes.starts_with(b"Args|") || bytes.starts_with(b"Deserialization|") {
        parts.status = StatusCode::BAD_REQUEST;
    }
    Response::from_parts(parts, Body::from(bytes))
}
