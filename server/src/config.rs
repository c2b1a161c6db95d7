//! Configuration from the environment (or flags). Secrets are read only from
//! the environment, never from flags, so they stay out of `ps` and `--help`.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

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

#[derive(Subcommand, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Serve the shop (the default).
    Serve,
    /// Create the DynamoDB table and its index if they do not exist, then exit.
    CreateTable,
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
    /// The Mollie emulator, mounted in this server at /mollie.
    Emulator,
    /// Mollie's API, with MOLLIE_API_KEY.
    Mollie,
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

    #[arg(long, env = "SHOP_PAYMENT_PROVIDER", value_enum, default_value_t = ProviderKind::Emulator)]
    pub provider: ProviderKind,

    #[arg(long, env = "MOLLIE_API_URL", default_value = mollie::DEFAULT_BASE_URL)]
    pub mollie_api_url: String,

    /// A payment still open this long after creation is refreshed from the
    /// provider when its thank-you page asks (milliseconds).
    #[arg(long, env = "SHOP_REFRESH_ON_READ_AFTER_MS", default_value_t = 10_000)]
    pub refresh_on_read_after_ms: u64,

    /// At most one refresh on read per payment in this time (milliseconds).
    #[arg(long, env = "SHOP_REFRESH_MIN_INTERVAL_MS", default_value_t = 5_000)]
    pub refresh_min_interval_ms: u64,

    /// How often the background reconciler looks for stale payments (milliseconds).
    #[arg(long, env = "SHOP_RECONCILE_INTERVAL_MS", default_value_t = 30_000)]
    pub reconcile_interval_ms: u64,

    /// Payments not final this long after creation are reconciled (milliseconds).
    #[arg(long, env = "SHOP_RECONCILE_STALE_AFTER_MS", default_value_t = 60_000)]
    pub reconcile_stale_after_ms: u64,

    /// Most provider calls per second the reconciler makes.
    #[arg(long, env = "SHOP_RECONCILE_RATE", default_value_t = 10)]
    pub reconcile_rate: u32,

    /// The mounted emulator's webhook schedule is Mollie's times this.
    #[arg(long, env = "SHOP_EMULATOR_TIME_FACTOR", default_value_t = 0.01)]
    pub emulator_time_factor: f64,
}

impl Config {
    pub fn reconcile_policy(&self) -> checkout::ReconcilePolicy {
        checkout::ReconcilePolicy {
            refresh_after: Duration::from_millis(self.refresh_on_read_after_ms),
            min_refresh_interval: Duration::from_millis(self.refresh_min_interval_ms),
            ..checkout::ReconcilePolicy::default()
        }
    }

    pub fn reconciler(&self) -> crate::reconciler::ReconcilerConfig {
        crate::reconciler::ReconcilerConfig {
            interval: Duration::from_millis(self.reconcile_interval_ms),
            stale_after: Duration::from_millis(self.reconcile_stale_after_ms),
            batch: 100,
            max_per_second: self.reconcile_rate,
        }
    }
}
