//! Configuration from the environment (or flags). Secrets are read only from
//! the environment, never from flags, so they stay out of `ps` and `--help`.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

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

    /// The mounted emulator's webhook schedule is Mollie's times this.
    #[arg(long, env = "SHOP_EMULATOR_TIME_FACTOR", default_value_t = 0.01)]
    pub emulator_time_factor: f64,
}
