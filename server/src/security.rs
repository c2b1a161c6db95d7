//! HTTP hardening for every response: security headers, caching rules,
//! request body and time limits, per-client rate limits on what costs a
//! provider call, and refusal of cross-site state changes. (The
//! Content-Security-Policy of pages is set by the app, which knows the
//! per-response nonce; no CORS headers are ever sent, so browsers allow no
//! cross-origin reads.)

use crate::config::{Config, Settings};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

/// Paths whose every call costs a provider call: rate-limited per client.
const CHECKOUT_PATHS: [&str; 2] = ["/api/checkout", "/api/pay_again"];
const WEBHOOK_PATH: &str = "/webhooks/mollie";
/// Back-office sign-in: rate-limited per client against password guessing.
const SIGN_IN_PATH: &str = "/api/admin/sign_in";
/// Keyed limiter state is pruned once it holds this many clients.
const LIMITER_PRUNE_AT: usize = 10_000;

/// What every request is held to.
#[derive(Clone, Debug)]
pub struct HttpPolicy {
    /// `https://shop.example`: the only origin allowed to change state.
    pub public_origin: String,
    /// Behind https: HSTS, and cookies marked Secure.
    pub https: bool,
    pub trust_forwarded_for: bool,
    pub checkout_per_minute: u32,
    pub webhook_per_second: u32,
    pub sign_in_per_minute: u32,
    pub webhook_timeout: Duration,
    pub request_timeout: Duration,
}

impl HttpPolicy {
    pub fn from_config(config: &Config, settings: &Settings) -> Self {
        Self {
            public_origin: settings.public_url.clone(),
            https: settings.https,
            trust_forwarded_for: config.trust_forwarded_for,
            checkout_per_minute: config.checkout_rate_per_minute,
            webhook_per_second: config.webhook_rate_per_second,
            sign_in_per_minute: config.sign_in_rate_per_minute,
            webhook_timeout: Duration::from_millis(config.webhook_timeout_ms),
            request_timeout: Duration::from_millis(config.request_timeout_ms),
        }
    }
}

/// The largest request body we accept: a checkout form or a webhook is a
/// few hundred bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

pub fn harden<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    policy: &HttpPolicy,
) -> Router<S> {
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
    let limits = Arc::new(RateLimits::new(policy));
    let mut router = router
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            policy.request_timeout,
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Cross-site refusals come first, so another site cannot spend a
        // shopper's rate-limit budget from the shopper's own browser.
        .layer(middleware::from_fn_with_state(limits, rate_limit))
        .layer(middleware::from_fn_with_state(
            Arc::new(policy.clone()),
            refuse_cross_site_changes,
        ))
        .layer(middleware::from_fn(per_shopper_pages_are_not_cached));
    if policy.https {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        ));
    }
    for (name, value) in headers {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ));
    }
    router
}

/// Pages and server function answers are per shopper (the cart, a checkout
/// key, an order): no shared cache may keep them. Static files (`/pkg/...`,
/// images) are left to the file server.
async fn per_shopper_pages_are_not_cached(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let is_static_file = path.starts_with("/pkg/")
        || path
            .rsplit('/')
            .next()
            .is_some_and(|name| name.contains('.'));
    let mut response = next.run(request).await;
    if !is_static_file {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store, private"),
        );
    }
    response
}

/// A state-changing request (anything but GET, HEAD, OPTIONS) that a
/// browser marks as cross-site, or whose Origin is another site, is refused
/// with 403: another site cannot fill a shopper's cart or start a checkout.
/// Requests without either header are not from a browser page (the webhook,
/// scripts) and pass; plain forms from our own pages send same-origin.
async fn refuse_cross_site_changes(
    State(policy): State<Arc<HttpPolicy>>,
    request: Request,
    next: Next,
) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if safe || request.uri().path() == WEBHOOK_PATH {
        return next.run(request).await;
    }
    let headers = request.headers();
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let cross_site = match (text("sec-fetch-site"), text("origin")) {
        (Some(site), _) => !matches!(site, "same-origin" | "none"),
        (None, Some(origin)) => {
            let same_host = text("host").is_some_and(|host| {
                origin
                    .split_once("://")
                    .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
            });
            origin != policy.public_origin && !same_host
        }
        (None, None) => false,
    };
    if cross_site {
        tracing::warn!(
            security_event = true,
            path = request.uri().path(),
            "cross-site state change refused"
        );
        return (
            StatusCode::FORBIDDEN,
            "Cross-site requests cannot change anything here.",
        )
            .into_response();
    }
    next.run(request).await
}

/// One GCRA limiter per kind of costly call, keyed by client address.
struct RateLimits {
    checkout: DefaultKeyedRateLimiter<IpAddr>,
    webhook: DefaultKeyedRateLimiter<IpAddr>,
    sign_in: DefaultKeyedRateLimiter<IpAddr>,
    trust_forwarded_for: bool,
}

impl RateLimits {
    fn new(policy: &HttpPolicy) -> Self {
        let at_least_one = |n: u32| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        Self {
            checkout: RateLimiter::keyed(Quota::per_minute(at_least_one(
                policy.checkout_per_minute,
            ))),
            webhook: RateLimiter::keyed(Quota::per_second(at_least_one(policy.webhook_per_second))),
            sign_in: RateLimiter::keyed(Quota::per_minute(at_least_one(policy.sign_in_per_minute))),
            trust_forwarded_for: policy.trust_forwarded_for,
        }
    }

    /// The peer's address, or behind a trusted proxy the address it
    /// appended last to X-Forwarded-For (earlier entries are the client's
    /// to forge). Unknown clients share one bucket: limited, not exempt.
    fn client(&self, request: &Request) -> IpAddr {
        let forwarded = self
            .trust_forwarded_for
            .then(|| {
                request
                    .headers()
                    .get_all("x-forwarded-for")
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(|v| v.split(','))
                    .next_back()
                    .and_then(|last| last.trim().parse().ok())
            })
            .flatten();
        forwarded
            .or_else(|| {
                request
                    .extensions()
                    .get::<ConnectInfo<SocketAddr>>()
                    .map(|info| info.0.ip())
            })
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }
}

async fn rate_limit(
    State(limits): State<Arc<RateLimits>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let limiter = if request.method() != Method::POST {
        None
    } else if CHECKOUT_PATHS.contains(&path) {
        Some(&limits.checkout)
    } else if path == WEBHOOK_PATH {
        Some(&limits.webhook)
    } else if path == SIGN_IN_PATH {
        Some(&limits.sign_in)
    } else {
        None
    };
    let Some(limiter) = limiter else {
        return next.run(request).await;
    };
    if limiter.len() > LIMITER_PRUNE_AT {
        limiter.retain_recent();
    }
    let client = limits.client(&request);
    match limiter.check_key(&client) {
        Ok(()) => next.run(request).await,
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            tracing::warn!(%client, path, "rate limit reached");
            let mut response = (
                StatusCode::TOO_MANY_REQUESTS,
                format!("Too many requests; please wait {seconds} s and try again."),
            )
                .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
            response
        }
    }
}
