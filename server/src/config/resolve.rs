//! Checking every setting before anything starts.

use super::*;

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
        self.check_build(&key, &mut problems);
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

    /// The settings given that need the AWS SDK, when this build has none
    /// (server/Cargo.toml's `aws`): listed with the other problems before
    /// anything starts. (`crate::aws` refuses them too.)
    fn check_build(&self, key: &KeySetting, problems: &mut Vec<String>) {
        if cfg!(feature = "aws") {
            return;
        }
        let needing = [
            (self.store == StoreKind::Dynamodb, "SHOP_STORE=dynamodb"),
            (self.mail == MailTransport::Ses, "SHOP_MAIL=ses"),
            (self.event_bus.is_some(), "SHOP_EVENT_BUS"),
            (
                matches!(key, KeySetting::SecretArn(_)),
                "MOLLIE_API_KEY_SECRET_ARN",
            ),
        ];
        for (given, setting) in needing {
            if given {
                problems.push(not_in_this_build(setting));
            }
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

/// What a build without the AWS SDK says of a setting that needs it.
pub fn not_in_this_build(setting: &str) -> String {
    format!(
        "{setting} needs the AWS SDK, which this server was built without: build it with its `aws` feature (a plain `cargo build -p server` has it; `scripts/run.sh --bin-features aws`)"
    )
}
