//! The owner's webhook: each event POSTed as JSON ([`crate::wire`]) to a
//! URL the owner configures, signed as payment platforms sign theirs:
//!
//! `Shop-Signature: t={unix seconds},v1={hex HMAC-SHA256(secret, "{t}.{body}")}`
//!
//! The receiver recomputes the HMAC over the timestamp and the raw body,
//! compares in constant time, and refuses a timestamp more than five
//! minutes off (a replay); `Shop-Event-Id` lets it drop a duplicate
//! (delivery is at least once). The recipe, with code: docs/events.md.
//! A 2xx answer is a delivery; anything else is retried with backoff.

use async_trait::async_trait;
use checkout::{Cause, DeliveryError, Event, EventSink};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use std::time::Duration;

/// The shortest secret accepted: 32 characters.
pub const MIN_SECRET_CHARS: usize = 32;

/// The `Shop-Signature` header's value for `body` sent at `timestamp`:
/// one `v1` per secret (the current and, while a rotation settles, the
/// previous), so a receiver with either verifies it.
pub fn signature(secrets: &[&[u8]], timestamp: i64, body: &str) -> String {
    let mut header = format!("t={timestamp}");
    for secret in secrets {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
            .unwrap_or_else(|e| unreachable!("HMAC takes a key of any length: {e}"));
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body.as_bytes());
        header.push_str(",v1=");
        header.push_str(&hex::encode(mac.finalize().into_bytes()));
    }
    header
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookConfigError {
    #[error("the owner's webhook URL is not a URL")]
    Url(#[source] url::ParseError),
    #[error("the owner's webhook URL must be https (http only to a loopback address)")]
    NotHttps,
    #[error("the owner's webhook secret must be at least {MIN_SECRET_CHARS} characters")]
    SecretTooShort,
    #[error("the HTTP client could not be built")]
    Client(#[source] reqwest::Error),
}

/// POSTs events to the owner's URL, signed.
pub struct WebhookSink {
    client: reqwest::Client,
    url: url::Url,
    /// The current secret first.
    secrets: Vec<SecretString>,
}

impl std::fmt::Debug for WebhookSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSink")
            .field("url", &self.url.as_str())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the owner's webhook answered {0}")]
struct Refused(reqwest::StatusCode);

impl WebhookSink {
    /// # Errors
    ///
    /// [`WebhookConfigError`]: not a URL, not https (but to loopback), a
    /// short secret.
    pub fn new(url: &str, secrets: Vec<SecretString>) -> Result<Self, WebhookConfigError> {
        let url = url::Url::parse(url).map_err(WebhookConfigError::Url)?;
        let loopback = matches!(
            url.host(),
            Some(url::Host::Ipv4(ip)) if ip.is_loopback()
        ) || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
            || url.host_str() == Some("localhost");
        if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
            return Err(WebhookConfigError::NotHttps);
        }
        let too_short = |s: &SecretString| s.expose_secret().chars().count() < MIN_SECRET_CHARS;
        if secrets.is_empty() || secrets.iter().any(too_short) {
            return Err(WebhookConfigError::SecretTooShort);
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(2))
            // A redirect would send the signed body somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(WebhookConfigError::Client)?;
        Ok(Self {
            client,
            url,
            secrets,
        })
    }
}

#[async_trait]
impl EventSink for WebhookSink {
    async fn publish(&self, event: &Event) -> Result<(), DeliveryError> {
        let body = crate::wire::to_json(event);
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let keys: Vec<&[u8]> = self
            .secrets
            .iter()
            .map(|s| s.expose_secret().as_bytes())
            .collect();
        let signed = signature(&keys, now, &body);
        let response = self
            .client
            .post(self.url.clone())
            .header("content-type", "application/json")
            .header("shop-event-id", event.id().as_str())
            .header("shop-event-type", event.kind().name())
            .header("shop-signature", signed)
            .body(body)
            .send()
            .await
            // Without the URL: it may carry a token of the owner's.
            .map_err(|e| DeliveryError(Cause::new(e.without_url())))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(DeliveryError(Cause::new(Refused(response.status()))))
        }
    }
}
