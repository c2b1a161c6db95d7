//! Configuration from the environment (or flags). Secrets are read only from
//! the environment, never from flags, so they stay out of `ps` and `--help`.
//!
//! [`Config::resolve`] checks every setting before anything starts and
//! lists every one that cannot work: a forgotten setting fails closed (the
//! emulator, which marks any payment paid, never serves a public shop by
//! accident).

use clap::{Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Mollie gives a webhook call 15 s; we answer well within it.
const MOLLIE_WEBHOOK_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Parser, Debug)]
#[command(
    name = "server",
    about = "The webshop: storefront, checkout and Mollie webhook"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

#[derive(Subcommand, Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Serve the shop (the default).
    Serve,
    /// Create the DynamoDB table, its two indexes and its TTL if the table does not exist, then exit.
    CreateTable,
    /// Read a password from standard input and print its argon2id hash,
    /// for an operator account in SHOP_ADMIN_OPERATORS.
    HashPassword,
    /// End every session of an operator on every process (after changing
    /// their password or removing their account, which running processes
    /// only see when they restart), then exit.
    EndSessions {
        /// The operator's name.
        operator: String,
    },
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// redb in SHOP_DATA_DIR: no set-up at all.
    Embedded,
    /// Amazon DynamoDB (or a compatible server at SHOP_DYNAMODB_ENDPOINT).
    Dynamodb,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    /// The Mollie emulator, mounted in this server at /mollie. It marks any
    /// payment paid: for local runs and tests only.
    Emulator,
    /// Mollie's API, with MOLLIE_API_KEY or MOLLIE_API_KEY_SECRET_ARN.
    Mollie,
}

/// Where the client's address for per-client limits comes from.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAddressSource {
    /// The TCP peer: the plain server facing the internet.
    Peer,
    /// The last `X-Forwarded-For` entry: behind one proxy that appends it.
    ForwardedFor,
    /// `CloudFront-Viewer-Address`: behind CloudFront, with the origin
    /// secret.
    Cloudfront,
}

/// What a Lambda function of this binary serves.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LambdaHandler {
    /// The shop's HTTP requests (through API Gateway); never reconciles.
    Http,
    /// Only the reconcile schedule's events.
    Reconciler,
}

/// When a payment's money is taken (the shop's capture policy).
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapturePolicy {
    /// When the shopper pays.
    Immediate,
    /// The shopper's payment only authorizes (cards, pay-later methods);
    /// the operator captures it, e.g. when shipping, before Mollie's
    /// `captureBefore`, or releases it.
    Manual,
}

impl CapturePolicy {
    pub fn mode(self) -> checkout::CaptureMode {
        match self {
            Self::Immediate => checkout::CaptureMode::Automatic,
            Self::Manual => checkout::CaptureMode::Manual,
        }
    }
}

#[derive(clap::Args, Debug, Clone)]
pub struct Config {
    /// Where shoppers and the payment provider reach this server, e.g.
    /// https://shop.example. Default: http://{LEPTOS_SITE_ADDR}.
    #[arg(long, env = "SHOP_PUBLIC_URL")]
    pub public_url: Option<String>,

    #[arg(long, env = "SHOP_STORE", value_enum, default_value_t = StoreKind::Embedded)]
    pub store: StoreKind,

    /// The embedded store's folder.
    #[arg(long, env = "SHOP_DATA_DIR", default_value = "target/shop-data")]
    pub data_dir: PathBuf,

    #[arg(long, env = "SHOP_DYNAMODB_TABLE", default_value = "webshop")]
    pub dynamodb_table: String,

    /// A DynamoDB-compatible endpoint (moto server) instead of AWS's.
    #[arg(long, env = "SHOP_DYNAMODB_ENDPOINT")]
    pub dynamodb_endpoint: Option<String>,

    /// No default: the emulator runs only when chosen, or when the public
    /// URL is a loopback address (a local run).
    #[arg(long, env = "SHOP_PAYMENT_PROVIDER", value_enum)]
    pub provider: Option<ProviderKind>,

    /// The shop's catalog file (TOML, like catalog/articles.toml). Unset:
    /// the bundled demo articles. Checked at start-up: a bad entry stops
    /// the server.
    #[arg(long, env = "SHOP_CATALOG")]
    pub catalog: Option<PathBuf>,

    /// Take the money when the shopper pays, or authorize then and capture
    /// on the operator's action.
    #[arg(long, env = "SHOP_CAPTURE", value_enum, default_value_t = CapturePolicy::Immediate)]
    pub capture: CapturePolicy,

    /// An authorization this close to Mollie's `captureBefore` is flagged
    /// to the operator (a warning log now, the back office later).
    #[arg(long, env = "SHOP_CAPTURE_WARNING_HOURS", default_value_t = 24)]
    pub capture_warning_hours: u64,

    #[arg(long, env = "MOLLIE_API_URL", default_value = mollie::DEFAULT_BASE_URL)]
    pub mollie_api_url: String,

    /// Take Mollie test payments (a `test_` key). Without it, Mollie mode
    /// needs a `live_` key.
    #[arg(long, env = "SHOP_MOLLIE_TEST_MODE", default_value_t = false, action = clap::ArgAction::Set)]
    pub mollie_test_mode: bool,

    /// The website profile (`pfl_...`) payments must belong to; others are
    /// ignored. Unset: not compared.
    #[arg(long, env = "MOLLIE_PROFILE_ID")]
    pub mollie_profile_id: Option<String>,

    /// Serve the mounted emulator's unauthenticated control endpoints
    /// (`/mollie/_emulator/faults`, `/stats`), for end-to-end tests.
    #[arg(long, env = "SHOP_EMULATOR_CONTROL", default_value_t = false, action = clap::ArgAction::Set)]
    pub emulator_control: bool,

    /// Where the client's address for per-client limits comes from: the
    /// connection's peer, the last X-Forwarded-For entry (behind one proxy
    /// of your own that appends it), or the viewer address CloudFront sends
    /// (`CloudFront-Viewer-Address`; needs the origin secret, so that only
    /// CloudFront can set it).
    #[arg(long, env = "SHOP_CLIENT_ADDRESS", value_enum, default_value_t = ClientAddressSource::Peer)]
    pub client_address: ClientAddressSource,

    /// Which handler a Lambda function runs: the shop's HTTP requests, or
    /// the reconciler's scheduled events (its own function).
    #[arg(long, env = "SHOP_LAMBDA_HANDLER", value_enum, default_value_t = LambdaHandler::Http)]
    pub lambda_handler: LambdaHandler,

    /// The ARN of the EventBridge rule whose scheduled events the
    /// reconciler function accepts (required with
    /// `SHOP_LAMBDA_HANDLER=reconciler`); any other event is refused.
    #[arg(long, env = "SHOP_RECONCILE_RULE_ARN")]
    pub reconcile_rule_arn: Option<String>,

    /// A reconcile pass stops starting new checks after this
    /// (milliseconds): on Lambda, well inside the function's timeout.
    #[arg(long, env = "SHOP_RECONCILE_PASS_MAX_MS", default_value_t = 40_000)]
    pub reconcile_pass_max_ms: u64,

    /// Checkouts and "pay again"s per minute per client address.
    #[arg(long, env = "SHOP_CHECKOUT_RATE_PER_MINUTE", default_value_t = 30)]
    pub checkout_rate_per_minute: u32,

    /// Webhook calls per second per client address (Mollie calls from few
    /// addresses: generous).
    #[arg(long, env = "SHOP_WEBHOOK_RATE_PER_SECOND", default_value_t = 50)]
    pub webhook_rate_per_second: u32,

    /// A webhook's work is cut off after this and answered 503, so Mollie
    /// retries instead of timing out (milliseconds, under Mollie's 15 s).
    #[arg(long, env = "SHOP_WEBHOOK_TIMEOUT_MS", default_value_t = 10_000)]
    pub webhook_timeout_ms: u64,

    /// Any request's handling is cut off after this (milliseconds).
    #[arg(long, env = "SHOP_REQUEST_TIMEOUT_MS", default_value_t = 30_000)]
    pub request_timeout_ms: u64,

    /// A connection must send its request headers within this (milliseconds).
    #[arg(long, env = "SHOP_HEADER_READ_TIMEOUT_MS", default_value_t = 10_000)]
    pub header_read_timeout_ms: u64,

    /// Most connections served at once; more wait to be accepted.
    #[arg(long, env = "SHOP_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,

    /// A payment still open this long after creation is refreshed from the
    /// provider when its thank-you page asks (milliseconds).
    #[arg(long, env = "SHOP_REFRESH_ON_READ_AFTER_MS", default_value_t = 10_000)]
    pub refresh_on_read_after_ms: u64,

    /// At most one refresh on read per payment in this time (milliseconds).
    #[arg(long, env = "SHOP_REFRESH_MIN_INTERVAL_MS", default_value_t = 5_000)]
    pub refresh_min_interval_ms: u64,

    /// How often the background reconciler looks for payments due a check (milliseconds).
    #[arg(long, env = "SHOP_RECONCILE_INTERVAL_MS", default_value_t = 30_000)]
    pub reconcile_interval_ms: u64,

    /// The reconciler first checks a payment this long after its creation;
    /// then ever less often (milliseconds).
    #[arg(
        long,
        env = "SHOP_RECONCILE_FIRST_CHECK_AFTER_MS",
        default_value_t = 60_000
    )]
    pub reconcile_first_check_after_ms: u64,

    /// The longest time between two checks of one payment (milliseconds).
    #[arg(
        long,
        env = "SHOP_RECONCILE_MAX_INTERVAL_MS",
        default_value_t = 3_600_000
    )]
    pub reconcile_max_interval_ms: u64,

    /// Most provider calls per second the reconciler makes.
    #[arg(long, env = "SHOP_RECONCILE_RATE", default_value_t = 10)]
    pub reconcile_rate: u32,

    /// The mounted emulator's webhook schedule is Mollie's times this.
    #[arg(long, env = "SHOP_EMULATOR_TIME_FACTOR", default_value_t = 0.01)]
    pub emulator_time_factor: f64,

    /// How long a back-office sign-in lasts (hours).
    #[arg(long, env = "SHOP_SESSION_HOURS", default_value_t = 8)]
    pub session_hours: u64,

    /// Back-office sign-in attempts per minute per client address.
    #[arg(long, env = "SHOP_SIGN_IN_RATE_PER_MINUTE", default_value_t = 5)]
    pub sign_in_rate_per_minute: u32,

    /// Failed back-office sign-ins per account name in 15 minutes, counted
    /// in the store (every process shares the count); then the account's
    /// sign-ins are refused until the window ends.
    #[arg(long, env = "SHOP_SIGN_IN_FAILURES_PER_ACCOUNT", default_value_t = 10)]
    pub sign_in_failures_per_account: u32,

    /// Failed back-office sign-ins per client address in 15 minutes,
    /// counted in the store.
    #[arg(long, env = "SHOP_SIGN_IN_FAILURES_PER_CLIENT", default_value_t = 30)]
    pub sign_in_failures_per_client: u32,

    /// Not flags: secrets, from the environment only (see
    /// [`OperatorSecrets::from_env`]).
    #[arg(skip)]
    pub operator_secrets: OperatorSecrets,

    /// Not a flag: `SHOP_ORIGIN_SECRET` or the secret
    /// `SHOP_ORIGIN_SECRET_ARN` names (see [`crate::security::OriginSecret`]).
    #[arg(skip)]
    pub origin_secret: Option<crate::security::OriginSecret>,

    /// Not a flag: see [`Timing`].
    #[arg(skip)]
    pub timing: Timing,
}

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

/// Durations a deployment has no reason to change, so they are neither
/// flags nor environment variables. Tests shorten them (half an hour of
/// waiting in a second) and otherwise run the same wiring as production.
#[derive(Clone, Debug)]
pub struct Timing {
    /// See [`checkout::ReconcilePolicy::abandon_unconfirmed_after`].
    pub abandon_unconfirmed_after: Duration,
    /// The Mollie client's retry backoff, least and most (`None`: the
    /// client's own, see [`mollie::MollieConfig`]).
    pub provider_backoff: Option<(Duration, Duration)>,
    /// See [`checkout::ReconcilePolicy::refund_in_flight_for`] (at least
    /// the request timeout).
    pub refund_in_flight_for: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            abandon_unconfirmed_after: checkout::ReconcilePolicy::default()
                .abandon_unconfirmed_after,
            provider_backoff: None,
            refund_in_flight_for: checkout::ReconcilePolicy::default().refund_in_flight_for,
        }
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

/// The provider after resolution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Provider {
    Emulator { control_endpoints: bool },
    Mollie { test_mode: bool, key: KeySetting },
}

/// Settings that were checked and can work.
#[derive(Clone, Debug)]
pub struct Settings {
    /// e.g. `https://shop.example` (no trailing slash).
    pub public_url: String,
    pub https: bool,
    pub provider: Provider,
}

/// Every setting that cannot work, one per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the configuration cannot work:\n  - {}", .problems.join("\n  - "))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
        url::Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
    }
}

impl Config {
    /// Checks the configuration for this server listening on `site_addr`.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] listing every setting that cannot work.
    pub fn resolve(&self, site_addr: SocketAddr, key: KeySetting) -> Result<Settings, ConfigError> {
        let mut problems = Vec::new();
        let public_url = self
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{site_addr}"))
            .trim_end_matches('/')
            .to_owned();
        let (https, loopback) = check_public_url(&public_url, &mut problems);
        let provider =
            self.provider_setting(&public_url, site_addr, https, loopback, key, &mut problems);
        self.check_limits(&mut problems);
        self.check_deployment(&mut problems);
        match provider {
            Some(provider) if problems.is_empty() => Ok(Settings {
                public_url,
                https,
                provider,
            }),
            _ => Err(ConfigError { problems }),
        }
    }

    /// The payment provider: the one chosen, or the emulator on a loopback
    /// address; with Mollie, a public URL Mollie can reach and one key.
    fn provider_setting(
        &self,
        public_url: &str,
        site_addr: SocketAddr,
        https: bool,
        loopback: bool,
        key: KeySetting,
        problems: &mut Vec<String>,
    ) -> Option<Provider> {
        let explicit_url = self.public_url.is_some();
        match self.provider {
            Some(ProviderKind::Emulator) => Some(Provider::Emulator {
                control_endpoints: self.emulator_control,
            }),
            None if loopback => Some(Provider::Emulator {
                control_endpoints: self.emulator_control,
            }),
            None => {
                problems.push(format!(
                    "no payment provider is chosen and the public URL ({public_url}) is not a loopback address: \
                     set SHOP_PAYMENT_PROVIDER=mollie (with MOLLIE_API_KEY or MOLLIE_API_KEY_SECRET_ARN) for a real shop, \
                     or SHOP_PAYMENT_PROVIDER=emulator to run the emulator, which marks any payment paid, on purpose"
                ));
                None
            }
            Some(ProviderKind::Mollie) => {
                if !explicit_url {
                    problems.push(format!(
                        "SHOP_PUBLIC_URL is required with SHOP_PAYMENT_PROVIDER=mollie: Mollie sends shoppers back \
                         and calls the webhook there (without it they would go to http://{site_addr})"
                    ));
                } else if loopback {
                    problems.push(format!(
                        "SHOP_PUBLIC_URL ({public_url}) is a loopback address, which Mollie cannot reach"
                    ));
                } else if !https && !self.mollie_test_mode {
                    problems.push(format!(
                        "SHOP_PUBLIC_URL ({public_url}) must be https for live payments"
                    ));
                }
                match &key {
                    KeySetting::None => problems.push(
                        "SHOP_PAYMENT_PROVIDER=mollie needs MOLLIE_API_KEY or MOLLIE_API_KEY_SECRET_ARN".to_owned(),
                    ),
                    KeySetting::Both => problems.push(
                        "both MOLLIE_API_KEY and MOLLIE_API_KEY_SECRET_ARN are set: set one, so that it is clear which key is used".to_owned(),
                    ),
                    KeySetting::Environment | KeySetting::SecretArn(_) => {}
                }
                Some(Provider::Mollie {
                    test_mode: self.mollie_test_mode,
                    key,
                })
            }
        }
    }

    /// Every interval, rate, limit and timeout is above zero, and the ones
    /// that bound each other do.
    fn check_limits(&self, problems: &mut Vec<String>) {
        let positive = [
            ("SHOP_RECONCILE_INTERVAL_MS", self.reconcile_interval_ms),
            (
                "SHOP_RECONCILE_FIRST_CHECK_AFTER_MS",
                self.reconcile_first_check_after_ms,
            ),
            (
                "SHOP_RECONCILE_MAX_INTERVAL_MS",
                self.reconcile_max_interval_ms,
            ),
            ("SHOP_RECONCILE_RATE", u64::from(self.reconcile_rate)),
            ("SHOP_REFRESH_MIN_INTERVAL_MS", self.refresh_min_interval_ms),
            (
                "SHOP_CHECKOUT_RATE_PER_MINUTE",
                u64::from(self.checkout_rate_per_minute),
            ),
            (
                "SHOP_WEBHOOK_RATE_PER_SECOND",
                u64::from(self.webhook_rate_per_second),
            ),
            (
                "SHOP_SIGN_IN_RATE_PER_MINUTE",
                u64::from(self.sign_in_rate_per_minute),
            ),
            ("SHOP_SESSION_HOURS", self.session_hours),
            (
                "SHOP_SIGN_IN_FAILURES_PER_ACCOUNT",
                u64::from(self.sign_in_failures_per_account),
            ),
            (
                "SHOP_SIGN_IN_FAILURES_PER_CLIENT",
                u64::from(self.sign_in_failures_per_client),
            ),
            ("SHOP_WEBHOOK_TIMEOUT_MS", self.webhook_timeout_ms),
            ("SHOP_REQUEST_TIMEOUT_MS", self.request_timeout_ms),
            ("SHOP_HEADER_READ_TIMEOUT_MS", self.header_read_timeout_ms),
            ("SHOP_RECONCILE_PASS_MAX_MS", self.reconcile_pass_max_ms),
            ("SHOP_MAX_CONNECTIONS", self.max_connections as u64),
        ];
        for (name, value) in positive {
            if value == 0 {
                problems.push(format!("{name} must be greater than 0"));
            }
        }
        if self.reconcile_max_interval_ms < self.reconcile_first_check_after_ms {
            problems.push(
                "SHOP_RECONCILE_MAX_INTERVAL_MS must be at least SHOP_RECONCILE_FIRST_CHECK_AFTER_MS"
                    .to_owned(),
            );
        }
        // An operator's refund is sent within their request: the request
        // must be cut off before a resend may fail the refund.
        if Duration::from_millis(self.request_timeout_ms) >= self.timing.refund_in_flight_for {
            problems.push(format!(
                "SHOP_REQUEST_TIMEOUT_MS ({}) must be under {} s: a refund sent within a request is treated as in flight that long",
                self.request_timeout_ms,
                self.timing.refund_in_flight_for.as_secs()
            ));
        }
        if Duration::from_millis(self.webhook_timeout_ms) >= MOLLIE_WEBHOOK_TIMEOUT {
            problems.push(format!(
                "SHOP_WEBHOOK_TIMEOUT_MS ({}) must be under Mollie's {} s webhook timeout",
                self.webhook_timeout_ms,
                MOLLIE_WEBHOOK_TIMEOUT.as_secs()
            ));
        }
    }

    /// What a deployment must set together.
    fn check_deployment(&self, problems: &mut Vec<String>) {
        if self.client_address == ClientAddressSource::Cloudfront && self.origin_secret.is_none() {
            problems.push(
                "SHOP_CLIENT_ADDRESS=cloudfront needs the origin secret (SHOP_ORIGIN_SECRET or SHOP_ORIGIN_SECRET_ARN): without it anyone could set CloudFront-Viewer-Address".to_owned(),
            );
        }
        if self.lambda_handler == LambdaHandler::Reconciler && self.reconcile_rule_arn.is_none() {
            problems.push(
                "SHOP_LAMBDA_HANDLER=reconciler needs SHOP_RECONCILE_RULE_ARN: the rule whose scheduled events it accepts".to_owned(),
            );
        }
        if !(self.emulator_time_factor.is_finite() && self.emulator_time_factor > 0.0) {
            problems.push("SHOP_EMULATOR_TIME_FACTOR must be a number greater than 0".to_owned());
        }
    }

    pub fn reconcile_policy(&self) -> checkout::ReconcilePolicy {
        checkout::ReconcilePolicy {
            refresh_after: Duration::from_millis(self.refresh_on_read_after_ms),
            min_refresh_interval: Duration::from_millis(self.refresh_min_interval_ms),
            check_schedule: checkout::CheckSchedule {
                first_check_after: Duration::from_millis(self.reconcile_first_check_after_ms),
                max_interval: Duration::from_millis(self.reconcile_max_interval_ms),
            },
            abandon_unconfirmed_after: self.timing.abandon_unconfirmed_after,
            capture_warning: Duration::from_secs(self.capture_warning_hours * 3600),
            refund_in_flight_for: self.timing.refund_in_flight_for,
        }
    }

    pub fn reconciler(&self) -> crate::reconciler::ReconcilerConfig {
        crate::reconciler::ReconcilerConfig {
            interval: Duration::from_millis(self.reconcile_interval_ms),
            batch: 100,
            max_per_second: self.reconcile_rate,
            pass_budget: Duration::from_millis(self.reconcile_pass_max_ms),
        }
    }

    pub fn sign_in_limits(&self) -> checkout::SignInLimits {
        checkout::SignInLimits {
            per_account: self.sign_in_failures_per_account,
            per_client: self.sign_in_failures_per_client,
            ..checkout::SignInLimits::default()
        }
    }

    pub fn serve_limits(&self) -> crate::serve::ServeLimits {
        crate::serve::ServeLimits {
            header_read_timeout: Duration::from_millis(self.header_read_timeout_ms),
            max_connections: self.max_connections,
        }
    }
}

/// Whether `public_url` is https and whether it is a loopback address;
/// what is wrong with it goes to `problems`.
fn check_public_url(public_url: &str, problems: &mut Vec<String>) -> (bool, bool) {
    let mut loopback = false;
    let mut https = false;
    match url::Url::parse(public_url) {
        Ok(url) => {
            https = url.scheme() == "https";
            loopback = url.host().as_ref().is_some_and(is_loopback);
            if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                problems.push(format!(
                    "SHOP_PUBLIC_URL ({public_url}) must be an http or https address"
                ));
            } else if url.path() != "/"
                || url.query().is_some()
                || url.fragment().is_some()
                || !url.username().is_empty()
            {
                problems.push(format!(
                        "SHOP_PUBLIC_URL ({public_url}) must be an origin only, like https://shop.example: the shop serves from /"
                    ));
            }
        }
        Err(e) => problems.push(format!("SHOP_PUBLIC_URL ({public_url}) is not a URL: {e}")),
    }
    (https, loopback)
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

#[cfg(test)]
mod tests {
    use super::*;

    const LOCAL: &str = "127.0.0.1:3000";

    /// docs/configuration.md is where operators look: every flag has a
    /// table row naming it and its environment variable, and every
    /// `SHOP_*` name the page mentions is one the code reads.
    #[test]
    fn the_configuration_doc_names_every_setting() {
        use clap::CommandFactory;
        let doc = include_str!("../../docs/configuration.md");
        let rows: Vec<&str> = doc.lines().filter(|l| l.starts_with('|')).collect();
        let mut named = std::collections::BTreeSet::new();
        for arg in Cli::command().get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if long == "help" || long == "version" {
                continue;
            }
            let flag = format!("`--{long}`");
            let row = rows.iter().find(|r| r.starts_with(&format!("| {flag}")));
            assert!(row.is_some(), "docs/configuration.md has no row for {flag}");
            if let Some(env) = arg.get_env() {
                let env = env.to_string_lossy();
                assert!(
                    row.is_some_and(|r| r.contains(&format!("`{env}`"))),
                    "the row of {flag} does not name `{env}`"
                );
                named.insert(env.into_owned());
            }
        }
        // Settings read from the environment only (secrets, and what the
        // wiring reads beside the flags).
        let sources = [
            include_str!("config.rs"),
            include_str!("lib.rs"),
            include_str!("main.rs"),
            include_str!("security.rs"),
            include_str!("lambda.rs"),
            include_str!("telemetry.rs"),
        ]
        .concat();
        let mentioned = doc
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| w.starts_with("SHOP_") && w.len() > "SHOP_".len());
        for name in mentioned {
            assert!(
                named.contains(name) || sources.contains(&format!("\"{name}\"")),
                "docs/configuration.md names {name}, which the server does not read"
            );
        }
    }

    fn config(args: &[&str]) -> Config {
        let mut all = vec!["server"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).unwrap().config
    }

    fn resolve(args: &[&str], key: KeySetting) -> Result<Settings, ConfigError> {
        config(args).resolve(LOCAL.parse().unwrap(), key)
    }

    #[test]
    fn a_local_run_with_no_configuration_uses_the_emulator() {
        let settings = resolve(&[], KeySetting::None).unwrap();
        assert_eq!(settings.public_url, "http://127.0.0.1:3000");
        assert_eq!(
            settings.provider,
            Provider::Emulator {
                control_endpoints: false
            }
        );
    }

    #[test]
    fn a_public_shop_never_gets_the_emulator_by_accident() {
        let problems = resolve(&["--public-url", "https://shop.example"], KeySetting::None)
            .unwrap_err()
            .problems;
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("no payment provider is chosen"));
        // Listening on every interface is not a local run either.
        let everywhere = config(&[]).resolve("0.0.0.0:3000".parse().unwrap(), KeySetting::None);
        assert!(everywhere.is_err());
        // Chosen on purpose, it runs.
        let chosen = resolve(
            &[
                "--public-url",
                "https://shop.example",
                "--provider",
                "emulator",
            ],
            KeySetting::None,
        )
        .unwrap();
        assert!(matches!(chosen.provider, Provider::Emulator { .. }));
        assert!(chosen.https);
    }

    #[test]
    fn mollie_needs_a_public_https_url_and_exactly_one_key() {
        let error = resolve(&["--provider", "mollie"], KeySetting::None).unwrap_err();
        assert_eq!(error.problems.len(), 2, "{error}");
        assert!(error.to_string().contains("SHOP_PUBLIC_URL is required"));
        assert!(error.to_string().contains("needs MOLLIE_API_KEY"));
        for (url, expected) in [
            ("http://localhost:3000", "loopback"),
            ("http://shop.example", "must be https"),
            ("https://shop.example/shop", "origin only"),
            ("ftp://shop.example", "http or https"),
        ] {
            let error = resolve(
                &["--provider", "mollie", "--public-url", url],
                KeySetting::Environment,
            )
            .unwrap_err();
            assert!(error.to_string().contains(expected), "{url}: {error}");
        }
        let both = resolve(
            &[
                "--provider",
                "mollie",
                "--public-url",
                "https://shop.example",
            ],
            KeySetting::Both,
        )
        .unwrap_err();
        assert!(both.to_string().contains("both MOLLIE_API_KEY"));
        let ok = resolve(
            &[
                "--provider",
                "mollie",
                "--public-url",
                "https://shop.example",
            ],
            KeySetting::SecretArn("arn:aws:secretsmanager:eu-west-1:1:secret:k".into()),
        )
        .unwrap();
        assert_eq!(
            ok.provider,
            Provider::Mollie {
                test_mode: false,
                key: KeySetting::SecretArn("arn:aws:secretsmanager:eu-west-1:1:secret:k".into())
            }
        );
    }

    #[test]
    fn settings_that_cannot_work_are_all_listed() {
        let error = resolve(
            &[
                "--reconcile-interval-ms",
                "0",
                "--reconcile-rate",
                "0",
                "--webhook-timeout-ms",
                "20000",
                "--emulator-time-factor",
                "NaN",
                "--reconcile-max-interval-ms",
                "10",
                "--max-connections",
                "0",
            ],
            KeySetting::None,
        )
        .unwrap_err();
        let text = error.to_string();
        for expected in [
            "SHOP_RECONCILE_INTERVAL_MS must be greater than 0",
            "SHOP_RECONCILE_RATE must be greater than 0",
            "under Mollie's 15 s",
            "SHOP_EMULATOR_TIME_FACTOR",
            "SHOP_RECONCILE_MAX_INTERVAL_MS must be at least",
            "SHOP_MAX_CONNECTIONS must be greater than 0",
        ] {
            assert!(text.contains(expected), "{expected} missing from: {text}");
        }
    }

    #[test]
    fn the_key_must_match_the_chosen_mode() {
        let test_key = mollie::ApiKey::new("test_abc").unwrap();
        let live_key = mollie::ApiKey::new("live_abc").unwrap();
        assert_eq!(
            check_key_mode(&test_key, false),
            Err(KeyModeError::TestKeyForLivePayments)
        );
        assert!(check_key_mode(&live_key, true).is_err());
        assert!(check_key_mode(&test_key, true).is_ok());
        assert!(check_key_mode(&live_key, false).is_ok());
    }

    #[test]
    fn the_back_offices_secret_is_json_with_operators_and_a_session_secret() {
        let secrets = OperatorSecrets::from_secret_json(
            r#"{"operators": "owner:$argon2id$x", "sessionSecret": "s3cr3t"}"#,
        )
        .unwrap();
        assert_eq!(secrets.accounts.as_deref(), Some("owner:$argon2id$x"));
        assert_eq!(secrets.session_secret.as_deref(), Some("s3cr3t"));
        // As the stack creates it: no operators yet, the back office is off.
        let fresh = OperatorSecrets::from_secret_json(r#"{"operators": "", "sessionSecret": "g"}"#)
            .unwrap();
        assert_eq!(fresh.accounts, None);
        let error = OperatorSecrets::from_secret_json("sessionSecret=hunter2").unwrap_err();
        assert!(!error.to_string().contains("hunter2"), "{error}");
        // Never in a Debug print.
        assert!(!format!("{secrets:?}").contains("s3cr3t"));
    }
}
