//! Wiring: configuration -> adapters -> checkout service -> routes.

pub mod config;
pub mod reconciler;
pub mod security;
pub mod webhook;

use axum::routing::get;
use axum::Router;
use checkout::{Catalog, CheckoutService, PaymentProvider, ShopUrls, Store};
use config::{Config, ProviderKind, StoreKind};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use mollie::{ApiKey, MollieClient, MollieConfig};
use mollie_emulator::{Emulator, EmulatorConfig};
use std::net::SocketAddr;
use std::sync::Arc;

/// Where the built-in emulator is mounted.
pub const EMULATOR_PATH: &str = "/mollie";
/// Where Mollie's hosted checkout pages are.
const MOLLIE_CHECKOUT_ORIGIN: &str = "https://www.mollie.com";
/// The emulator accepts any `test_` key; this one is not a secret.
const EMULATOR_API_KEY: &str = "test_emulator";

/// Everything the routes need, built once at start-up.
pub struct Shop {
    pub service: Arc<CheckoutService>,
    /// Where checkout pages are served, for the pages' form-action policy.
    pub payment_page_origin: String,
    /// Mounted at [`EMULATOR_PATH`] when the provider is the emulator.
    pub emulator: Option<Emulator>,
}

pub async fn store_from(config: &Config) -> Result<Arc<dyn Store>, String> {
    Ok(match config.store {
        StoreKind::Embedded => {
            let path = config.data_dir.join("shop.redb");
            Arc::new(store::EmbeddedStore::open(&path).map_err(|e| {
                format!("cannot open the embedded store at {}: {e}", path.display())
            })?)
        }
        StoreKind::Dynamodb => {
            let client =
                store::DynamoDbStore::client_from_env(config.dynamodb_endpoint.as_deref()).await;
            Arc::new(store::DynamoDbStore::new(client, &config.dynamodb_table))
        }
    })
}

/// `MOLLIE_API_KEY`, or else the secret `MOLLIE_API_KEY_SECRET_ARN` names
/// in AWS Secrets Manager. Errors never include the key.
async fn mollie_api_key() -> Result<ApiKey, String> {
    if let Ok(key) = std::env::var("MOLLIE_API_KEY") {
        return ApiKey::new(key).map_err(|e| format!("MOLLIE_API_KEY: {e}"));
    }
    if let Ok(secret_arn) = std::env::var("MOLLIE_API_KEY_SECRET_ARN") {
        let client = mollie::secrets_manager_client().await;
        return mollie::api_key_from_secrets_manager(&client, &secret_arn)
            .await
            .map_err(|e| e.to_string());
    }
    Err("set MOLLIE_API_KEY or MOLLIE_API_KEY_SECRET_ARN to use Mollie".to_owned())
}

impl Shop {
    /// `site_addr` is where this server listens: the emulator is called
    /// there, over real HTTP, like any provider.
    pub async fn from_config(config: &Config, site_addr: SocketAddr) -> Result<Self, String> {
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{site_addr}"))
            .trim_end_matches('/')
            .to_owned();
        let store = store_from(config).await?;
        let (provider, emulator, payment_page_origin): (Arc<dyn PaymentProvider>, _, _) =
            match config.provider {
                ProviderKind::Emulator => {
                    let mut emulator_config =
                        EmulatorConfig::new(format!("{public_url}{EMULATOR_PATH}"));
                    emulator_config.time_factor = config.emulator_time_factor;
                    let emulator = Emulator::new(emulator_config);
                    let key = ApiKey::new(EMULATOR_API_KEY).expect("a well-formed test key");
                    let mollie_config = MollieConfig::new(key)
                        .with_base_url(format!("http://{site_addr}{EMULATOR_PATH}/v2"));
                    let client = MollieClient::new(mollie_config).map_err(|e| e.to_string())?;
                    (Arc::new(client), Some(emulator), "'self'".to_owned())
                }
                ProviderKind::Mollie => {
                    let key = mollie_api_key().await?;
                    tracing::info!(api_key = %key, url = %config.mollie_api_url, "using Mollie");
                    let client = MollieClient::new(
                        MollieConfig::new(key).with_base_url(&config.mollie_api_url),
                    )
                    .map_err(|e| e.to_string())?;
                    (Arc::new(client), None, MOLLIE_CHECKOUT_ORIGIN.to_owned())
                }
            };
        let service = CheckoutService::new(
            Catalog::demo(),
            store,
            provider,
            ShopUrls {
                public_base_url: public_url,
            },
        )
        .with_reconcile_policy(config.reconcile_policy());
        Ok(Self {
            service: Arc::new(service),
            payment_page_origin,
            emulator,
        })
    }

    /// All routes: pages and server functions (Leptos), the webhook, a health
    /// check, the emulator when configured, and static files.
    pub fn router(&self, leptos_options: LeptosOptions) -> Router {
        let routes = generate_route_list(app::App);
        let service = self.service.clone();
        let origin = app::security::PaymentPageOrigin(self.payment_page_origin.clone());
        let mut router = Router::<LeptosOptions>::new()
            .merge(webhook::routes(self.service.clone()))
            .route("/health", get(|| async { "ok" }));
        if let Some(emulator) = &self.emulator {
            router = router.nest(EMULATOR_PATH, emulator.router());
        }
        let router = router
            .leptos_routes_with_context(
                &leptos_options,
                routes,
                move || {
                    provide_context(service.clone());
                    provide_context(origin.clone());
                },
                {
                    let options = leptos_options.clone();
                    move || app::shell(options.clone())
                },
            )
            .fallback(leptos_axum::file_and_error_handler(app::shell))
            .with_state(leptos_options);
        security::harden(router)
    }
}
