//! The settings that hold or name secrets: read from the environment or
//! Secrets Manager only, never from flags, and never printed.

use secrecy::{ExposeSecret, SecretString};

/// The back office's accounts and session secret. Read from the
/// environment only (never flags: they would show in `ps`); never logged.
#[derive(Clone, Default)]
pub struct OperatorSecrets {
    /// `SHOP_ADMIN_OPERATORS`: `name:$argon2id$...` entries separated by
    /// spaces or newlines. Unset or empty: the back office is off.
    pub accounts: Option<String>,
    /// `SHOP_SESSION_SECRET`: signs session cookies, at least 32 bytes.
    pub session_secret: Option<String>,
}

impl std::fmt::Debug for OperatorSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorSecrets")
            .field("accounts", &self.accounts.as_ref().map(|_| "(set)"))
            .field(
                "session_secret",
                &self.session_secret.as_ref().map(|_| "(set)"),
            )
            .finish()
    }
}

/// `SHOP_ADMIN_SECRET_ARN`: the back office's secrets in AWS Secrets
/// Manager instead of the environment.
pub const ADMIN_SECRET_ARN: &str = "SHOP_ADMIN_SECRET_ARN";

impl OperatorSecrets {
    pub fn from_env() -> Self {
        let read = |name| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Self {
            accounts: read("SHOP_ADMIN_OPERATORS"),
            session_secret: read("SHOP_SESSION_SECRET"),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.accounts.is_none() && self.session_secret.is_none()
    }

    /// The JSON of the `SHOP_ADMIN_SECRET_ARN` secret:
    /// `{"operators": "name:$argon2id$... ...", "sessionSecret": "..."}`
    /// (empty `operators`: the back office is off).
    ///
    /// # Errors
    ///
    /// A message (never holding the secret) when it is not such JSON.
    pub fn from_secret_json(text: &str) -> Result<Self, SecretJsonError> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Stored {
            #[serde(default)]
            operators: String,
            #[serde(default)]
            session_secret: String,
        }
        // Not serde's error: it may quote the text, which is the secret.
        let stored: Stored = serde_json::from_str(text).map_err(|_| SecretJsonError)?;
        let present = |v: String| (!v.trim().is_empty()).then_some(v);
        Ok(Self {
            accounts: present(stored.operators),
            session_secret: present(stored.session_secret),
        })
    }
}

/// Where the Mollie API key comes from: read from the environment only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySetting {
    None,
    /// `MOLLIE_API_KEY` (the value is not kept here).
    Environment,
    /// `MOLLIE_API_KEY_SECRET_ARN`.
    SecretArn(String),
    Both,
}

impl KeySetting {
    pub fn from_env() -> Self {
        let key = std::env::var_os("MOLLIE_API_KEY").is_some();
        match (key, std::env::var("MOLLIE_API_KEY_SECRET_ARN").ok()) {
            (true, Some(_)) => Self::Both,
            (true, None) => Self::Environment,
            (false, Some(arn)) => Self::SecretArn(arn),
            (false, None) => Self::None,
        }
    }
}

/// A Mollie key of the mode the configuration asks for: a `test_` key only
/// with test mode chosen, a `live_` key only without.
///
/// # Errors
///
/// Which setting to change, when the key's mode is not the one chosen.
pub fn check_key_mode(key: &mollie::ApiKey, test_mode: bool) -> Result<(), KeyModeError> {
    match (key.is_test_mode(), test_mode) {
        (true, false) => Err(KeyModeError::TestKeyForLivePayments),
        (false, true) => Err(KeyModeError::LiveKeyForTestPayments),
        _ => Ok(()),
    }
}

/// A Mollie key of the other mode than the one chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyModeError {
    #[error(
        "the Mollie API key is a test key: set SHOP_MOLLIE_TEST_MODE=true to take test payments, or use a live_ key"
    )]
    TestKeyForLivePayments,
    #[error(
        "SHOP_MOLLIE_TEST_MODE=true but the Mollie API key is a live key: use a test_ key for test payments"
    )]
    LiveKeyForTestPayments,
}

/// The back office's secret is not the JSON it must be (the message
/// never holds the secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{ADMIN_SECRET_ARN}: the secret must be JSON with the strings operators and sessionSecret")]
pub struct SecretJsonError;

/// The value CloudFront sends in `X-Origin-Verify`: only requests
/// that carry it are served, so the API Gateway endpoint cannot be called
/// around CloudFront (its limits, its viewer address). While it is being
/// rotated the previous value is accepted too (CloudFront's edges take
/// minutes to switch), and the version the stack pins CloudFront to.
/// Never logged.
#[derive(Clone)]
pub struct OriginSecret {
    /// The current value first.
    accepted: Vec<SecretString>,
}

/// An origin secret shorter than [`OriginSecret::MIN_LEN`]: guessable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the origin secret must have at least {} characters",
    OriginSecret::MIN_LEN
)]
pub struct OriginSecretTooShort;

impl OriginSecret {
    /// Shorter than this is guessable.
    pub const MIN_LEN: usize = 32;

    /// # Errors
    ///
    /// A secret shorter than [`Self::MIN_LEN`] bytes (the message never
    /// holds the value).
    pub fn new(value: &str) -> Result<Self, OriginSecretTooShort> {
        Ok(Self {
            accepted: vec![Self::checked(value)?],
        })
    }

    /// Also accepts `other`: the value being rotated out, or the version
    /// CloudFront was deployed with.
    ///
    /// # Errors
    ///
    /// As [`Self::new`], for that value.
    pub fn also_accepting(mut self, other: &str) -> Result<Self, OriginSecretTooShort> {
        self.accepted.push(Self::checked(other)?);
        Ok(self)
    }

    pub(crate) fn current(&self) -> &SecretString {
        &self.accepted[0]
    }

    fn checked(value: &str) -> Result<SecretString, OriginSecretTooShort> {
        let value = value.trim();
        if value.len() < Self::MIN_LEN {
            return Err(OriginSecretTooShort);
        }
        Ok(SecretString::from(value.to_owned()))
    }

    /// Compared in constant time, so the answer's timing tells nothing of
    /// the value (its length aside, which is not secret: 64 characters).
    pub(crate) fn matches(&self, presented: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        // Every value is compared, whichever matches.
        let any = self
            .accepted
            .iter()
            .fold(subtle::Choice::from(0), |any, secret| {
                any | secret.expose_secret().as_bytes().ct_eq(presented)
            });
        bool::from(any)
    }
}

impl std::fmt::Debug for OriginSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OriginSecret(redacted)")
    }
}

/// The owner's webhook's signing secret: the current value, and while a
/// rotation settles the previous one (each request is signed with both).
#[derive(Clone)]
pub struct WebhookSecrets {
    pub current: SecretString,
    pub previous: Option<SecretString>,
}

impl std::fmt::Debug for WebhookSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecrets(redacted)")
    }
}
