//! Wiring: configuration -> adapters -> checkout service -> routes.

pub mod aws;
pub mod config;
pub mod delivery;
pub mod error_links;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod reconciler;
pub mod security;
pub mod serve;
pub mod start_error;
pub mod telemetry;
pub mod webhook;

use axum::routing::get;
use axum::Router;
use checkout::{Catalog, CheckoutService, Clock, PaymentProvider, ShopUrls, Store};
use config::{Config, KeySetting, Provider, StoreKind};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use mollie::{ApiKey, MollieClient, MollieConfig};
use mollie_emulator::{Emulator, EmulatorConfig};
pub use start_error::StartError;
use std::net::SocketAddr;
use std::sync::Arc;

/// Where the built-in emulator is mounted.
pub const EMULATOR_PATH: &str = "/mollie";
/// Where Mollie's hosted checkout pages are.
const MOLLIE_CHECKOUT_ORIGIN: &str = "https://www.mollie.com";
/// The emulator accepts any `test_` key; this one is not a secret.
const EMULATOR_API_KEY: &str = "test_emulator";

/// Everything the routes need, built once at start-up.
pub struct Application {
    pub service: Arc<CheckoutService>,
    /// Where checkout pages are served, for the pages' form-action policy.
    pub payment_page_origin: String,
    /// Mounted at [`EMULATOR_PATH`] when the provider is the emulator.
    pub emulator: Option<Emulator>,
    /// What every request is held to: origins, rate limits, time limits.
    pub http: security::HttpPolicy,
    /// One reconcile pass: the background loop's and the reconciler
    /// function's.
    pub reconciler: reconciler::ReconcilerConfig,
    /// The back office's accounts and sessions; `None`: it is off.
    pub operator_access: Option<app::security::OperatorAccess>,
    /// What follows a change: the outbox's deliverer.
    pub delivery: delivery::Delivery,
    /// The store every part of the shop shares.
    pub store: Arc<dyn Store>,
}

/// The back office's accounts and session signing from the configuration:
/// off (`None`) without accounts; accounts without a session secret, or
/// any bad account, stop the server.
///
/// # Errors
///
/// Every problem with the accounts or the secret.
pub fn operator_access_from(
    config: &Config,
    https: bool,
    now: time::OffsetDateTime,
) -> Result<Option<app::security::OperatorAccess>, StartError> {
    let secrets = &config.operator_secrets;
    let Some(accounts) = &secrets.accounts else {
        tracing::info!("back office off: SHOP_ADMIN_OPERATORS is not set");
        return Ok(None);
    };
    let operators = back_office::Operators::parse(accounts).map_err(StartError::Operators)?;
    let Some(secret) = &secrets.session_secret else {
        return Err(StartError::SessionSecretMissing);
    };
    let lifetime = time::Duration::hours(i64::try_from(config.session_hours).unwrap_or(i64::MAX));
    let sessions = back_office::Sessions::new(secret.as_bytes(), lifetime, https)
        .map_err(StartError::SessionSecret)?;
    Ok(Some(app::security::OperatorAccess {
        operators,
        sessions,
        sign_in_limits: config.sign_in_limits(),
        accounts_loaded_at: now,
    }))
}

/// # Errors
///
/// The embedded store's file when it cannot be opened.
pub async fn store_from(config: &Config) -> Result<Arc<dyn Store>, StartError> {
    Ok(match config.store {
        StoreKind::Embedded => {
            let path = config.data_dir.join("shop.redb");
            Arc::new(
                store::EmbeddedStore::open(&path)
                    .map_err(|source| StartError::EmbeddedStore { path, source })?,
            )
        }
        StoreKind::Dynamodb => aws::dynamodb_store(config).await?,
    })
}

/// `MOLLIE_API_KEY`, or the secret `MOLLIE_API_KEY_SECRET_ARN` names in
/// AWS Secrets Manager (then re-read when Mollie refuses it: rotation).
/// Errors never include the key.
async fn mollie_client(
    config: &Config,
    key: &KeySetting,
    test_mode: bool,
) -> Result<MollieClient, StartError> {
    let (api_key, source): (ApiKey, Option<Arc<dyn mollie::ApiKeySource>>) = match key {
        KeySetting::Environment => {
            let text = std::env::var("MOLLIE_API_KEY").unwrap_or_default();
            (ApiKey::new(text).map_err(StartError::ApiKey)?, None)
        }
        KeySetting::SecretArn(secret_arn) => {
            let (api_key, source) = aws::mollie_key_from_secret(secret_arn).await?;
            (api_key, Some(source))
        }
        KeySetting::None | KeySetting::Both => return Err(StartError::KeySetting),
    };
    config::check_key_mode(&api_key, test_mode)?;
    tracing::warn!(
        api_key = %api_key,
        url = %config.mollie_api_url,
        mode = if test_mode { "TEST: payments are not real money" } else { "live" },
        "PAYMENT PROVIDER: Mollie"
    );
    let mut client = MollieClient::new(mollie_config(config, api_key, &config.mollie_api_url))
        .map_err(StartError::MollieClient)?;
    if let Some(source) = source {
        client = client.with_key_source(source);
    }
    Ok(client)
}

/// The client's settings for either provider: the emulator is called over
/// HTTP and held to the same checks (profile, retries) as Mollie.
fn mollie_config(config: &Config, key: ApiKey, base_url: &str) -> MollieConfig {
    let mut mollie_config = MollieConfig::new(key).with_base_url(base_url);
    mollie_config.profile_id = config.mollie_profile_id.clone();
    if let Some((least, most)) = config.timing.provider_backoff {
        mollie_config.min_backoff = least;
        mollie_config.max_backoff = most;
    }
    mollie_config
}

pub use aws::create_table;

/// The shop's articles: the file SHOP_CATALOG names, or the bundled ones.
fn catalog_from(config: &Config) -> Result<Catalog, StartError> {
    let Some(path) = &config.catalog else {
        return Ok(Catalog::bundled());
    };
    let text = std::fs::read_to_string(path).map_err(|source| StartError::CatalogUnreadable {
        path: path.clone(),
        source,
    })?;
    let catalog = Catalog::from_toml(&text).map_err(|source| StartError::CatalogInvalid {
        path: path.clone(),
        source,
    })?;
    tracing::info!(path = %path.display(), articles = catalog.articles().len(), "catalog loaded");
    Ok(catalog)
}

/// The emulator's API on its own loopback port, for our Mollie client: the
/// same emulator (same payments) as the one mounted at [`EMULATOR_PATH`]
/// for browsers. A port of its own works the same on the plain server and
/// on Lambda, where no listener of ours takes requests.
async fn serve_emulator_api(emulator: &Emulator) -> Result<SocketAddr, StartError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(StartError::EmulatorApi)?;
    let addr = listener.local_addr().map_err(StartError::EmulatorApi)?;
    let router: Router = emulator.router();
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            tracing::error!(%error, "the emulator's API stopped");
        }
    });
    Ok(addr)
}

impl Application {
    /// `site_addr` is where this server listens: the default public URL.
    /// The emulator, when chosen, is called over real HTTP like any
    /// provider. The configuration is checked first; every setting that
    /// cannot work is listed in the error. Every rule of the checkout
    /// service that depends on the time reads `clock`
    /// ([`checkout::SystemClock`] but in tests); the stores' expiry of
    /// checkout keys follows the system clock, as DynamoDB's TTL does.
    ///
    /// # Errors
    ///
    /// Every setting that cannot work, or the store, key or emulator that
    /// could not be set up.
    pub async fn build(
        config: &Config,
        site_addr: SocketAddr,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StartError> {
        let settings = config.resolve(site_addr, KeySetting::from_env())?;
        let public_url = settings.public_url.clone();
        let catalog = catalog_from(config)?;
        let operator_access = operator_access_from(config, settings.https, clock.now())?;
        let store = store_from(config).await?;
        let (provider, emulator, payment_page_origin): (Arc<dyn PaymentProvider>, _, _) =
            match &settings.provider {
                Provider::Emulator { control_endpoints } => {
                    tracing::warn!(
                        public_url = %public_url,
                        control_endpoints,
                        "PAYMENT PROVIDER: the built-in Mollie EMULATOR at {EMULATOR_PATH}: any payment can be marked paid, no money moves. Never for a real shop."
                    );
                    let mut emulator_config =
                        EmulatorConfig::new(format!("{public_url}{EMULATOR_PATH}"));
                    emulator_config.time_factor = config.emulator_time_factor;
                    emulator_config.control_endpoints = *control_endpoints;
                    emulator_config.allowed_origins = vec![public_url.clone()];
                    let emulator = Emulator::new(emulator_config);
                    let api = serve_emulator_api(&emulator).await?;
                    let key = ApiKey::new(EMULATOR_API_KEY).expect("a well-formed test key");
                    let client =
                        MollieClient::new(mollie_config(config, key, &format!("http://{api}/v2")))
                            .map_err(StartError::MollieClient)?;
                    (Arc::new(client), Some(emulator), "'self'".to_owned())
                }
                Provider::Mollie { test_mode, key } => {
                    let client = mollie_client(config, key, *test_mode).await?;
                    (Arc::new(client), None, MOLLIE_CHECKOUT_ORIGIN.to_owned())
                }
            };
        let urls = ShopUrls {
            public_base_url: public_url.clone(),
        };
        let delivery =
            delivery::delivery_from(config, store.clone(), urls.clone(), clock.clone()).await?;
        let service = CheckoutService::new(catalog, store.clone(), provider, urls)
            .with_outbox_listener(delivery.listener())
            .with_clock(clock)
            .with_reconcile_policy(config.reconcile_policy())
            .with_capture_mode(config.capture.mode());
        // Before the first checkout: an article the catalog starts with
        // stock is never sold untracked.
        service
            .seed_stock_from_catalog()
            .await
            .map_err(StartError::StockSeed)?;
        Ok(Self {
            service: Arc::new(service),
            payment_page_origin,
            emulator,
            http: security::HttpPolicy::from_config(config, &settings),
            reconciler: config.reconciler(),
            operator_access,
            delivery,
            store,
        })
    }

    /// All routes: pages and server functions (Leptos), the webhook, a health
    /// check, the emulator when configured, and static files.
    pub fn router(&self, leptos_options: LeptosOptions) -> Router {
        let routes = generate_route_list(app::App);
        let service = self.service.clone();
        let origin = app::security::PaymentPageOrigin(self.payment_page_origin.clone());
        let cookies = app::security::CookiePolicy {
            secure: self.http.https,
        };
        let operator_access = self.operator_access.clone();
        let mut router = Router::<LeptosOptions>::new()
            .merge(webhook::routes(
                self.service.clone(),
                self.http.webhook_timeout,
            ))
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
                    provide_context(cookies.clone());
                    if let Some(access) = &operator_access {
                        provide_context(access.clone());
                    }
                },
                {
                    let options = leptos_options.clone();
                    move || app::shell(options.clone())
                },
            )
            .fallback(leptos_axum::file_and_error_handler(app::shell))
            .with_state(leptos_options);
        telemetry::trace_requests(security::harden(router, &self.http))
    }
}
