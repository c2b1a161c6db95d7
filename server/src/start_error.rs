//! Why the shop could not start. Every message names the setting to
//! change, keeps what caused it as its source, and never holds a secret.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Every setting that cannot work, listed together.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("SHOP_CATALOG ({}) cannot be read", .path.display())]
    CatalogUnreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("SHOP_CATALOG ({})", .path.display())]
    CatalogInvalid {
        path: PathBuf,
        #[source]
        source: checkout::CatalogFileError,
    },
    #[error("SHOP_ADMIN_OPERATORS")]
    Operators(#[source] back_office::ConfigError),
    #[error(
        "SHOP_SESSION_SECRET is required with SHOP_ADMIN_OPERATORS: it signs the back office's sessions (e.g. `openssl rand -base64 48`)"
    )]
    SessionSecretMissing,
    #[error("SHOP_SESSION_SECRET")]
    SessionSecret(#[source] back_office::ConfigError),
    #[error("SHOP_MAIL_FROM is not an address to send from: `Shop <shop@example.com>` or `shop@example.com`")]
    MailFrom(#[source] outlets::AddressError),
    #[error("SHOP_MAIL=ses needs SHOP_MAIL_FROM: an address at a domain SES has verified (not the local default)")]
    MailFromForSes,
    /// A setting that needs what this build left out (server/Cargo.toml's
    /// features): refused, never ignored.
    #[error("{}", crate::config::not_in_this_build(.0))]
    NotInThisBuild(&'static str),
    #[error("SHOP_OWNER_EMAIL")]
    OwnerEmail(#[source] checkout::EmailAddressError),
    #[error("SHOP_OWNER_WEBHOOK_URL")]
    OwnerWebhook(#[source] outlets::WebhookConfigError),
    #[error("SHOP_OWNER_WEBHOOK_URL needs its signing secret: SHOP_OWNER_WEBHOOK_SECRET or SHOP_OWNER_WEBHOOK_SECRET_ARN (at least 32 characters, e.g. `openssl rand -hex 32`)")]
    OwnerWebhookSecretMissing,
    #[error("SHOP_OWNER_WEBHOOK_SECRET is set without SHOP_OWNER_WEBHOOK_URL")]
    OwnerWebhookUrlMissing,
    #[error("cannot create the mail folder {}", .path.display())]
    MailFolder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the catalog's starting stock could not be recorded in the store")]
    StockSeed(#[source] checkout::StoreError),
    #[error("cannot open the embedded store at {}", .path.display())]
    EmbeddedStore {
        path: PathBuf,
        #[source]
        source: checkout::StoreError,
    },
    #[error("cannot create table {table}")]
    CreateTable {
        table: String,
        #[source]
        source: checkout::StoreError,
    },
    #[error("cannot start the emulator's API")]
    EmulatorApi(#[source] std::io::Error),
    #[error("set exactly one of MOLLIE_API_KEY and MOLLIE_API_KEY_SECRET_ARN")]
    KeySetting,
    #[error("MOLLIE_API_KEY")]
    ApiKey(#[source] mollie::InvalidApiKey),
    #[error("MOLLIE_API_KEY_SECRET_ARN")]
    KeySecret(#[source] mollie::SecretError),
    #[error(transparent)]
    KeyMode(#[from] crate::config::KeyModeError),
    #[error("the Mollie client cannot be set up")]
    MollieClient(#[source] mollie::MollieError),
}
