//! HTTP hardening for every response: security headers, caching rules,
//! request body and time limits, per-client rate limits on what costs a
//! provider call, refusal of cross-site state changes, and, behind
//! CloudFront, refusal of any request that did not come through it. (The
//! Content-Security-Policy of pages is set by the app, which knows the
//! per-response nonce; no CORS headers are ever sent, so browsers allow no
//! cross-origin reads.)

use crate::config::{ClientAddressSource, Config, Settings};
pub use crate::config::{OriginSecret, OriginSecretTooShort};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use secrecy::ExposeSecret;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

/// A shopper's posts that cost a provider call, or try an order number
/// and address (the withdrawal form): rate-limited per client.
const CHECKOUT_PATHS: [&str; 4] = [
    "/api/checkout",
    "/api/pay_again",
    "/api/withdraw/check",
    "/api/withdraw/confirm",
];
const WEBHOOK_PATH: &str = "/webhooks/mollie";
/// Back-office sign-in: rate-limited per client against password guessing.
const SIGN_IN_PATH: &str = "/api/admin/sign_in";
/// Keyed limiter state is pruned once it holds this many clients.
const LIMITER_PRUNE_AT: usize = 10_000;
/// The header CloudFront adds to every request it sends to the function
/// (a custom origin header holding the origin secret).
pub const ORIGIN_SECRET_HEADER: &str = "x-origin-verify";
/// The viewer's address and port, as CloudFront sends it to the origin.
const VIEWER_ADDRESS_HEADER: &str = "cloudfront-viewer-address";

/// What every request is held to.
#[derive(Clone, Debug)]
pub struct HttpPolicy {
    /// `https://shop.example`: the only origin allowed to change state.
    pub public_origin: String,
    /// Behind https: HSTS, and cookies marked Secure.
    pub https: bool,
    pub client_address: ClientAddressSource,
    /// Set: requests without it in [`ORIGIN_SECRET_HEADER`] get 403.
    pub origin_secret: Option<OriginSecret>,
    /// Signs the links that carry a refusal back to its page.
    pub error_links: crate::error_links::ErrorLinkKey,
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
            client_address: config.client_address,
            origin_secret: config.origin_secret.clone(),
            error_links: error_link_key(config),
            checkout_per_minute: config.checkout_rate_per_minute,
            webhook_per_second: config.webhook_rate_per_second,
            sign_in_per_minute: config.sign_in_rate_per_minute,
            webhook_timeout: Duration::from_millis(config.webhook_timeout_ms),
            request_timeout: Duration::from_millis(config.request_timeout_ms),
        }
    }
}

/// From a secret every process of the deployment shares, so that each
/// honours the refusal links of the others: the back office's session
/// secret (read by the function alone), else the origin secret (which
/// CloudFront's configuration holds too), else one of this process alone.
fn error_link_key(config: &Config) -> crate::error_links::ErrorLinkKey {
    use crate::error_links::ErrorLinkKey;
    match (
        &config.operator_secrets.session_secret,
        &config.origin_secret,
    ) {
        (Some(session), _) => ErrorLinkKey::derive(session.as_bytes()),
        (None, Some(origin)) => ErrorLinkKey::derive(origin.current().expose_secret().as_bytes()),
        (None, None) => ErrorLinkKey::random(),
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
    let source = policy.client_address;
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
        // Who the client is, for the app's own counts (sign-in failures).
        .layer(middleware::from_fn(
            move |mut request: Request, next: Next| async move {
                let client = client_key(source, &request);
                request
                    .extensions_mut()
                    .insert(app::security::ClientAddress(client));
                next.run(request).await
            },
        ))
        .layer(middleware::from_fn_with_state(
            Arc::new(policy.clone()),
            refuse_cross_site_changes,
        ))
        .layer(middleware::from_fn(per_shopper_pages_are_not_cached))
        // Only refusals the shop wrote reach a page (see error_links).
        .layer(middleware::from_fn_with_state(
            policy.error_links.clone(),
            crate::error_links::sign_and_check,
        ));
    if let Some(secret) = &policy.origin_secret {
        // Outermost: a request around CloudFront costs nothing else.
        router = router.layer(middleware::from_fn_with_state(
            Arc::new(secret.clone()),
            require_origin_secret,
        ));
    }
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

/// A request without the origin secret did not come through CloudFront:
/// 403, and it is removed from every request that did, so nothing
/// further in (logs, the app) ever sees it.
async fn require_origin_secret(
    State(secret): State<Arc<OriginSecret>>,
    mut request: Request,
    next: Next,
) -> Response {
    let presented = request.headers_mut().remove(ORIGIN_SECRET_HEADER);
    if !presented.is_some_and(|value| secret.matches(value.as_bytes())) {
        tracing::warn!(
            security_event = true,
            path = request.uri().path(),
            "request without the origin secret refused"
        );
        return (StatusCode::FORBIDDEN, "Forbidden.").into_response();
    }
    next.run(request).await
}

/// One GCRA limiter per kind of costly call, keyed by client address.
struct RateLimits {
    checkout: DefaultKeyedRateLimiter<IpAddr>,
    webhook: DefaultKeyedRateLimiter<IpAddr>,
    sign_in: DefaultKeyedRateLimiter<IpAddr>,
    source: ClientAddressSource,
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
            source: policy.client_address,
        }
    }

    fn client(&self, request: &Request) -> IpAddr {
        client_key(self.source, request)
    }
}

/// The client a request counts against: the address `source` names,
/// IPv6 grouped by its /64 (one subscriber's prefix, which they can fill
/// with addresses at will). Unknown clients share one key: limited, not
/// exempt.
pub fn client_key(source: ClientAddressSource, request: &Request) -> IpAddr {
    let header = |name: &str| {
        request
            .headers()
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
    };
    let address = match source {
        ClientAddressSource::Peer => request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip()),
        // The entry our proxy appended last (earlier ones are the client's
        // to forge).
        ClientAddressSource::ForwardedFor => header("x-forwarded-for")
            .flat_map(|v| v.split(','))
            .next_back()
            .and_then(|last| last.trim().parse().ok()),
        // Behind CloudFront the last X-Forwarded-For entry is the edge that
        // connected, not the shopper; CloudFront's own header is the viewer.
        ClientAddressSource::Cloudfront => header(VIEWER_ADDRESS_HEADER)
            .next()
            .and_then(parse_viewer_address),
    };
    address.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), group_ipv6_by_64)
}

/// `CloudFront-Viewer-Address`: the address and port joined by a colon,
/// IPv6 without brackets (`2001:db8::1:46532`).
fn parse_viewer_address(value: &str) -> Option<IpAddr> {
    if let Ok(socket) = value.trim().parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    let (address, port) = value.trim().rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    address.parse().ok()
}

fn group_ipv6_by_64(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !(u128::from(u64::MAX));
                IpAddr::V6(Ipv6Addr::from(prefix))
            }
        },
        v4 @ IpAddr::V4(_) => v4,
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn request(headers: &[(&str, &str)], peer: Option<&str>) -> Request {
        let mut builder = Request::builder().uri("/api/checkout");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let mut request = builder.body(Body::empty()).unwrap();
        if let Some(peer) = peer {
            request
                .extensions_mut()
                .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        }
        request
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn behind_cloudfront_the_viewer_counts_not_the_edge() {
        let from_edge = |viewer: &str| {
            request(
                &[
                    ("x-forwarded-for", "198.51.100.7, 130.176.1.1"),
                    ("cloudfront-viewer-address", viewer),
                ],
                Some("10.0.0.1:443"),
            )
        };
        let source = ClientAddressSource::Cloudfront;
        assert_eq!(
            client_key(source, &from_edge("198.51.100.7:46532")),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_key(source, &from_edge("203.0.113.9:1")),
            ip("203.0.113.9")
        );
        // The same edge, two viewers: two keys.
        assert_ne!(
            client_key(source, &from_edge("198.51.100.7:1")),
            client_key(source, &from_edge("203.0.113.9:1"))
        );
        // The last X-Forwarded-For entry is the edge: what the old rule took.
        assert_eq!(
            client_key(
                ClientAddressSource::ForwardedFor,
                &from_edge("198.51.100.7:1")
            ),
            ip("130.176.1.1")
        );
    }

    #[test]
    fn ipv6_viewers_are_grouped_by_their_64_prefix() {
        let source = ClientAddressSource::Cloudfront;
        let viewer = |v: &str| request(&[("cloudfront-viewer-address", v)], None);
        let a = client_key(
            source,
            &viewer("2001:db8:3333:4444:5555:6666:7777:8888:46532"),
        );
        let b = client_key(source, &viewer("2001:db8:3333:4444:ffff::1:443"));
        let c = client_key(source, &viewer("2001:db8:3333:4445::1:443"));
        assert_eq!(a, ip("2001:db8:3333:4444::"));
        assert_eq!(a, b, "one /64 is one client");
        assert_ne!(a, c, "another /64 is another client");
        assert_eq!(
            client_key(source, &viewer("[2001:db8::1]:443")),
            ip("2001:db8::")
        );
        let peer = request(&[], Some("[2001:db8:1:2:3:4:5:6]:5000"));
        assert_eq!(
            client_key(ClientAddressSource::Peer, &peer),
            ip("2001:db8:1:2::")
        );
    }

    #[test]
    fn the_plain_server_keeps_its_peer_and_ignores_forwarded_headers() {
        let forged = request(
            &[
                ("x-forwarded-for", "203.0.113.9"),
                ("cloudfront-viewer-address", "203.0.113.9:1"),
            ],
            Some("192.0.2.4:5000"),
        );
        assert_eq!(
            client_key(ClientAddressSource::Peer, &forged),
            ip("192.0.2.4")
        );
    }

    #[test]
    fn unknown_or_malformed_viewers_share_one_key() {
        let source = ClientAddressSource::Cloudfront;
        for value in ["", "not an address", "198.51.100.7", "198.51.100.7:port"] {
            let malformed = request(&[("cloudfront-viewer-address", value)], None);
            assert_eq!(client_key(source, &malformed), ip("0.0.0.0"), "{value:?}");
        }
        assert_eq!(client_key(source, &request(&[], None)), ip("0.0.0.0"));
    }

    #[test]
    fn a_short_origin_secret_is_refused_and_never_shown() {
        assert!(OriginSecret::new("short").is_err());
        let secret = OriginSecret::new(&"s".repeat(40)).unwrap();
        assert!(secret.matches("s".repeat(40).as_bytes()));
        assert!(!secret.matches("s".repeat(39).as_bytes()));
        assert!(!format!("{secret:?}").contains("sss"));
        // Current, previous and the version CloudFront was deployed with.
        let rotating = OriginSecret::new(&"n".repeat(40))
            .unwrap()
            .also_accepting(&"s".repeat(40))
            .unwrap()
            .also_accepting(&"p".repeat(40))
            .unwrap();
        for accepted in ["n", "s", "p"] {
            assert!(
                rotating.matches(accepted.repeat(40).as_bytes()),
                "{accepted}"
            );
        }
        assert!(!rotating.matches("x".repeat(40).as_bytes()));
        assert!(OriginSecret::new(&"n".repeat(40))
            .unwrap()
            .also_accepting("short")
            .is_err());
    }
}
