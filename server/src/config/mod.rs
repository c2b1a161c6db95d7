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

mod resolve;
mod secrets;

pub use resolve::{not_in_this_build, ConfigError, Provider, Settings};
pub use secrets::{
    check_key_mode, KeyModeError, KeySetting, OperatorSecrets, OriginSecret, OriginSecretTooShort,
    SecretJsonError, WebhookSecrets, ADMIN_SECRET_ARN,
};

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

/// How the shop's e-mail goes out.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailTransport {
    /// Each message as an `.eml` file in `{SHOP_DATA_DIR}/mail`, listed on
    /// the order's back office page: no mail server needed.
    Files,
    /// Amazon SES v2, from `SHOP_MAIL_FROM` (a verified identity), with
    /// `SHOP_SES_CONFIGURATION_SET`.
    Ses,
    /// No e-mail: the events wait in the outbox for another channel.
    Off,
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

    #[arg(long, env = "SHOP_MAIL", value_enum, default_value_t = MailTransport::Files)]
    pub mail: MailTransport,

    /// With `SHOP_MAIL=ses`: the configuration set every message is sent
    /// with (its event destinations, the suppression list).
    #[arg(long, env = "SHOP_SES_CONFIGURATION_SET")]
    pub ses_configuration_set: Option<String>,

    /// The EventBridge bus (name or ARN) every event is put on; none
    /// without it.
    #[arg(long, env = "SHOP_EVENT_BUS")]
    pub event_bus: Option<String>,

    /// An AWS-compatible endpoint (moto server) for SES and EventBridge
    /// instead of AWS's.
    #[arg(long, env = "SHOP_AWS_ENDPOINT")]
    pub aws_endpoint: Option<String>,

    /// Who the shop's e-mail comes from.
    #[arg(long, env = "SHOP_MAIL_FROM", default_value = "Shop <shop@localhost>")]
    pub mail_from: String,

    /// Where the owner's messages (incidents, chargebacks, failed
    /// refunds) go; none are sent without it.
    #[arg(long, env = "SHOP_OWNER_EMAIL")]
    pub owner_email: Option<String>,

    /// Where each event is POSTed, signed (docs/events.md); none without
    /// it. https, or http to a loopback address.
    #[arg(long, env = "SHOP_OWNER_WEBHOOK_URL")]
    pub owner_webhook_url: Option<String>,

    /// The shop's name, in its messages.
    #[arg(long, env = "SHOP_NAME", default_value = "Shop")]
    pub shop_name: String,

    /// How often the deliverer sweeps the outbox for what is due
    /// (milliseconds); it also sends right after each change.
    #[arg(long, env = "SHOP_DELIVERY_SWEEP_MS", default_value_t = 10_000)]
    pub delivery_sweep_ms: u64,

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

    /// An open payment holds its articles' stock this long; the reconciler
    /// then gives the units back (paid later, it takes them again).
    #[arg(long, env = "SHOP_STOCK_HOLD_MINUTES", default_value_t = 60)]
    pub stock_hold_minutes: u64,

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

    /// Checkouts, "pay again"s and withdrawal form posts per minute per
    /// client address.
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
    /// `SHOP_ORIGIN_SECRET_ARN` names (see [`OriginSecret`]).
    #[arg(skip)]
    pub origin_secret: Option<OriginSecret>,

    /// Not a flag: `SHOP_OWNER_WEBHOOK_SECRET` or the secret
    /// `SHOP_OWNER_WEBHOOK_SECRET_ARN` names (its current value and, after
    /// a rotation, the previous): signs the owner's webhook.
    #[arg(skip)]
    pub owner_webhook_secret: Option<WebhookSecrets>,

    /// Not a flag: see [`Timing`].
    #[arg(skip)]
    pub timing: Timing,
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

impl Config {
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
            hold_stock_for: Duration::from_secs(self.stock_hold_minutes.max(1) * 60),
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

#[cfg(test)]
mod tests;
