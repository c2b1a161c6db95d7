//! Mollie Payments API v2: create, get and cancel payments; create, list
//! and cancel refunds.
//!
//! Amounts are integer minor units in our code and the currency's decimal
//! string on the wire (`checkout::Money` makes the string). Every create
//! carries an `Idempotency-Key`, so a retried create never makes a second
//! payment. 429, 5xx, timeouts and connection errors are retried with
//! exponential backoff and jitter, a bounded number of times; other errors
//! are returned at once, typed from Mollie's error JSON.

mod api_key;
mod client;
mod ids;
mod method;
mod provider;
mod secret_error;
#[cfg(feature = "secrets-manager")]
mod secrets;
mod types;

pub use api_key::{ApiKey, InvalidApiKey};
/// The Secrets Manager client that `secret_string` and the others take.
#[cfg(feature = "secrets-manager")]
pub use aws_sdk_secretsmanager::Client as SecretsManagerClient;
pub use client::{ApiKeySource, MollieClient, MollieConfig, MollieError, DEFAULT_BASE_URL};
pub use ids::{PaymentId, RefundId};
pub use method::Method;
pub use secret_error::SecretError;
#[cfg(feature = "secrets-manager")]
pub use secrets::{
    api_key_from_secrets_manager, previous_secret_string, secret_string, secret_string_version,
    secrets_manager_client, SecretsManagerKey,
};
pub use types::{
    Amount, Capture, CaptureMode, CaptureStatus, Chargeback, ChargebackReason, CreateCapture,
    CreatePayment, CreateRefund, Line, Link, MethodImage, Payment, PaymentEmbedded, PaymentLinks,
    PaymentMethod, PaymentStatus, Refund, RefundStatus,
};
