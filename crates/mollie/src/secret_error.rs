//! Why a secret could not be read: the API key source's error, with or
//! without the Secrets Manager adapter in the build.

/// Never carries the secret's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("secret {0} was not found")]
    NotFound(String),
    #[error("secret {0} has no string value")]
    NoString(String),
    #[error("secret {0} does not hold a Mollie API key")]
    NotAnApiKey(String),
    #[error("Secrets Manager is unavailable: {0}")]
    Unavailable(String),
}
