use secrecy::{ExposeSecret, SecretString};
use std::fmt;

/// A Mollie API key (`test_...` or `live_...`). Debug and Display show only
/// its mode, so it cannot leak through logs or error messages.
#[derive(Clone)]
pub struct ApiKey(SecretString);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a Mollie API key starts with test_ or live_ followed by letters and digits")]
pub struct InvalidApiKey;

impl ApiKey {
    /// # Errors
    ///
    /// [`InvalidApiKey`] unless it is `test_` or `live_` and letters and digits.
    pub fn new(key: impl Into<String>) -> Result<Self, InvalidApiKey> {
        let key: String = key.into();
        let key = key.trim();
        let rest = key
            .strip_prefix("test_")
            .or_else(|| key.strip_prefix("live_"))
            .ok_or(InvalidApiKey)?;
        if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(InvalidApiKey);
        }
        Ok(Self(SecretString::from(key.to_owned())))
    }

    /// The same key (after a reload: nothing rotated).
    pub fn same_as(&self, other: &ApiKey) -> bool {
        self.0.expose_secret() == other.0.expose_secret()
    }

    pub fn is_test_mode(&self) -> bool {
        self.0.expose_secret().starts_with("test_")
    }

    /// The `Authorization` header value; the only place the key is read.
    pub(crate) fn bearer(&self) -> String {
        format!("Bearer {}", self.0.expose_secret())
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({self})")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = if self.is_test_mode() { "test" } else { "live" };
        write!(f, "{mode}_[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_key() {
        let key = ApiKey::new("test_notARealKey4XY7").unwrap();
        for shown in [
            format!("{key}"),
            format!("{key:?}"),
            format!("{:?}", Some(&key)),
        ] {
            assert!(!shown.contains("notARealKey"), "{shown}");
            assert!(shown.contains("test_[redacted]"), "{shown}");
        }
    }

    #[test]
    fn rejects_what_is_not_a_key() {
        for bad in ["", "test_", "secret", "test_abc def", "prod_abc"] {
            assert_eq!(ApiKey::new(bad).unwrap_err(), InvalidApiKey, "{bad}");
        }
        assert!(!ApiKey::new("live_abc").unwrap().is_test_mode());
    }
}
