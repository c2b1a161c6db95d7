//! What the shop takes from AWS: the DynamoDB store, secrets from Secrets
//! Manager, e-mail through SES and events to EventBridge.
//!
//! The AWS SDK is the `aws` feature (on by default). `scripts/run.sh`
//! builds without it, so a first local run compiles less; a setting that
//! needs AWS then stops the start with [`StartError::NotInThisBuild`]
//! instead of being ignored (the configuration lists them first:
//! `Config::resolve`).

use crate::config::{Config, MailTransport};
use crate::start_error::StartError;
use checkout::{DeadLetters, EventSink, Mailer, Store};
use mollie::{ApiKey, ApiKeySource};
use outlets::Mailbox;
use std::sync::Arc;

/// The outlets on AWS the configuration asks for (none by default).
#[derive(Default)]
pub struct AwsOutlets {
    pub mailer: Option<Arc<dyn Mailer>>,
    pub bus: Option<Arc<dyn EventSink>>,
    pub dead_letters: Option<Arc<dyn DeadLetters>>,
}

/// The DynamoDB store (`SHOP_STORE=dynamodb`).
///
/// # Errors
///
/// [`StartError::NotInThisBuild`] without the `aws` feature.
pub async fn dynamodb_store(config: &Config) -> Result<Arc<dyn Store>, StartError> {
    #[cfg(feature = "aws")]
    {
        let client =
            store::DynamoDbStore::client_from_env(config.dynamodb_endpoint.as_deref()).await;
        Ok(Arc::new(store::DynamoDbStore::new(
            client,
            &config.dynamodb_table,
        )))
    }
    #[cfg(not(feature = "aws"))]
    {
        let _ = config;
        Err(StartError::NotInThisBuild("SHOP_STORE=dynamodb"))
    }
}

/// `server create-table`: the DynamoDB table and its indexes, if missing.
/// Returns whether it was created.
///
/// # Errors
///
/// What DynamoDB said, when it could not; [`StartError::NotInThisBuild`]
/// without the `aws` feature.
pub async fn create_table(config: &Config) -> Result<bool, StartError> {
    #[cfg(feature = "aws")]
    {
        let client =
            store::DynamoDbStore::client_from_env(config.dynamodb_endpoint.as_deref()).await;
        store::TableSetup::create_if_missing(&client, &config.dynamodb_table)
            .await
            .map_err(|source| StartError::CreateTable {
                table: config.dynamodb_table.clone(),
                source,
            })
    }
    #[cfg(not(feature = "aws"))]
    {
        let _ = config;
        Err(StartError::NotInThisBuild("server create-table"))
    }
}

/// The Mollie API key in the secret `secret_arn` names, and where to read
/// it again after a rotation.
///
/// # Errors
///
/// The secret cannot be read or holds no key (never the key itself);
/// [`StartError::NotInThisBuild`] without the `aws` feature.
pub async fn mollie_key_from_secret(
    secret_arn: &str,
) -> Result<(ApiKey, Arc<dyn ApiKeySource>), StartError> {
    #[cfg(feature = "aws")]
    {
        let client = mollie::secrets_manager_client().await;
        let api_key = mollie::api_key_from_secrets_manager(&client, secret_arn)
            .await
            .map_err(StartError::KeySecret)?;
        let source = mollie::SecretsManagerKey {
            client,
            secret_id: secret_arn.to_owned(),
        };
        Ok((api_key, Arc::new(source)))
    }
    #[cfg(not(feature = "aws"))]
    {
        let _ = secret_arn;
        Err(StartError::NotInThisBuild("MOLLIE_API_KEY_SECRET_ARN"))
    }
}

/// SES (`SHOP_MAIL=ses`) and EventBridge (`SHOP_EVENT_BUS`), if set.
///
/// # Errors
///
/// SES with the local default sender (it sends only from a verified
/// identity); [`StartError::NotInThisBuild`] without the `aws` feature.
pub async fn outlets(config: &Config, from: &Mailbox) -> Result<AwsOutlets, StartError> {
    #[cfg(feature = "aws")]
    {
        let uses_ses = config.mail == MailTransport::Ses;
        if !uses_ses && config.event_bus.is_none() {
            return Ok(AwsOutlets::default());
        }
        // Fail closed: SES sends only from a verified identity, never from
        // the local default.
        if uses_ses && from.email.domain() == "localhost" {
            return Err(StartError::MailFromForSes);
        }
        let aws = outlets::sdk_config(config.aws_endpoint.as_deref()).await;
        let mailer = uses_ses.then(|| -> Arc<dyn Mailer> {
            let set = config.ses_configuration_set.clone();
            Arc::new(outlets::SesMailer::new(&aws, from.clone(), set))
        });
        let bus = config
            .event_bus
            .as_ref()
            .map(|bus| Arc::new(outlets::EventBridgeSink::new(&aws, bus)));
        Ok(AwsOutlets {
            mailer,
            bus: bus.clone().map(|b| -> Arc<dyn EventSink> { b }),
            dead_letters: bus.map(|b| -> Arc<dyn DeadLetters> { b }),
        })
    }
    #[cfg(not(feature = "aws"))]
    {
        let _ = from;
        if config.mail == MailTransport::Ses {
            return Err(StartError::NotInThisBuild("SHOP_MAIL=ses"));
        }
        if config.event_bus.is_some() {
            return Err(StartError::NotInThisBuild("SHOP_EVENT_BUS"));
        }
        Ok(AwsOutlets::default())
    }
}

/// Plain-text secrets by ARN from Secrets Manager (the origin and webhook
/// secrets, the back office's).
#[cfg(feature = "aws")]
pub struct Secrets(mollie::SecretsManagerClient);

/// Without the `aws` feature there is no client: [`Secrets::connect`]
/// refuses, so the methods are never reached.
#[cfg(not(feature = "aws"))]
pub enum Secrets {}

impl Secrets {
    /// A client for the secret `setting` names.
    ///
    /// # Errors
    ///
    /// Without the `aws` feature: the setting, and that the build lacks it.
    pub async fn connect(setting: &str) -> Result<Self, String> {
        #[cfg(feature = "aws")]
        {
            let _ = setting;
            Ok(Self(mollie::secrets_manager_client().await))
        }
        #[cfg(not(feature = "aws"))]
        Err(format!(
            "{setting}: {}",
            StartError::NotInThisBuild("Secrets Manager")
        ))
    }

    /// The secret's current string.
    ///
    /// # Errors
    ///
    /// Not found, no string, or Secrets Manager unavailable.
    pub async fn current(&self, arn: &str) -> Result<String, mollie::SecretError> {
        #[cfg(feature = "aws")]
        return mollie::secret_string(&self.0, arn).await;
        #[cfg(not(feature = "aws"))]
        {
            let _ = arn;
            match *self {}
        }
    }

    /// The string before the last rotation, if there is one.
    ///
    /// # Errors
    ///
    /// As [`Secrets::current`].
    pub async fn previous(&self, arn: &str) -> Result<Option<String>, mollie::SecretError> {
        #[cfg(feature = "aws")]
        return mollie::previous_secret_string(&self.0, arn).await;
        #[cfg(not(feature = "aws"))]
        {
            let _ = arn;
            match *self {}
        }
    }

    /// The string of one version.
    ///
    /// # Errors
    ///
    /// As [`Secrets::current`].
    pub async fn version(&self, arn: &str, version: &str) -> Result<String, mollie::SecretError> {
        #[cfg(feature = "aws")]
        return mollie::secret_string_version(&self.0, arn, version).await;
        #[cfg(not(feature = "aws"))]
        {
            let _ = (arn, version);
            match *self {}
        }
    }
}
