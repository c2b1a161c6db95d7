//! Secrets from AWS Secrets Manager, by ARN (or name): the API key (the
//! secret's string is the key itself, or JSON with an `apiKey` field), and
//! any other secret string the shop reads.

use crate::api_key::{ApiKey, InvalidApiKey};
use crate::SecretError;
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use aws_sdk_secretsmanager::Client;

/// The string of the secret's version labelled `AWSPREVIOUS` (the value
/// before the last change), if it has one: a value that is being rotated
/// out is still accepted until every peer has the new one.
///
/// # Errors
///
/// As [`secret_string`]; a secret without a previous version is `None`.
pub async fn previous_secret_string(
    client: &Client,
    secret_id: &str,
) -> Result<Option<String>, SecretError> {
    let output = client
        .get_secret_value()
        .secret_id(secret_id)
        .version_stage("AWSPREVIOUS")
        .send()
        .await;
    match output {
        Ok(output) => Ok(output.secret_string().map(str::to_owned)),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(SecretError::Unavailable(DisplayErrorContext(e).to_string())),
    }
}

/// The string of one version of the secret, by its id (a pinned version,
/// which may be neither current nor previous any more).
///
/// # Errors
///
/// As [`secret_string`]; an unknown version is [`SecretError::NotFound`].
pub async fn secret_string_version(
    client: &Client,
    secret_id: &str,
    version_id: &str,
) -> Result<String, SecretError> {
    read_secret_string(client, secret_id, Some(version_id)).await
}

/// The secret's string value, by ARN or name.
///
/// # Errors
///
/// [`SecretError`] when Secrets Manager cannot be reached, the secret does
/// not exist or has no string; the message never holds the secret.
pub async fn secret_string(client: &Client, secret_id: &str) -> Result<String, SecretError> {
    read_secret_string(client, secret_id, None).await
}

/// The current string of the secret, or of one version by its id.
async fn read_secret_string(
    client: &Client,
    secret_id: &str,
    version_id: Option<&str>,
) -> Result<String, SecretError> {
    let output = client
        .get_secret_value()
        .secret_id(secret_id)
        .set_version_id(version_id.map(str::to_owned))
        .send()
        .await
        .map_err(|e| {
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception())
            {
                SecretError::NotFound(match version_id {
                    Some(version) => format!("{secret_id} (version {version})"),
                    None => secret_id.to_owned(),
                })
            } else {
                SecretError::Unavailable(DisplayErrorContext(e).to_string())
            }
        })?;
    output
        .secret_string()
        .map(str::to_owned)
        .ok_or_else(|| SecretError::NoString(secret_id.to_owned()))
}

/// # Errors
///
/// [`SecretError`] when Secrets Manager cannot be reached or the secret is
/// not a Mollie key; the message never holds the secret.
pub async fn api_key_from_secrets_manager(
    client: &Client,
    secret_id: &str,
) -> Result<ApiKey, SecretError> {
    let text = secret_string(client, secret_id).await?;
    let key = match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Object(fields)) => fields
            .get("apiKey")
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .ok_or(InvalidApiKey),
        _ => Ok(text.clone()),
    };
    key.and_then(ApiKey::new)
        .map_err(|_| SecretError::NotAnApiKey(secret_id.to_owned()))
}

/// A Secrets Manager client from the standard AWS chain; `AWS_ENDPOINT_URL`
/// (or `AWS_ENDPOINT_URL_SECRETS_MANAGER`) points it elsewhere, e.g. moto.
pub async fn secrets_manager_client() -> Client {
    Client::new(&aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await)
}

/// The key's secret in Secrets Manager, read again when Mollie refuses the
/// key in use (it was rotated).
pub struct SecretsManagerKey {
    pub client: Client,
    pub secret_id: String,
}

#[async_trait::async_trait]
impl crate::client::ApiKeySource for SecretsManagerKey {
    fn describe(&self) -> String {
        format!("Secrets Manager secret {}", self.secret_id)
    }

    async fn read_key(&self) -> Result<ApiKey, SecretError> {
        api_key_from_secrets_manager(&self.client, &self.secret_id).await
    }
}
