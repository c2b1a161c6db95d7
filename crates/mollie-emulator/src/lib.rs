//! A Mollie-compatible test-mode server, for local runs and tests.
//!
//! - `POST /v2/payments`, `GET /v2/payments/{id}`, `DELETE /v2/payments/{id}`
//!   with Mollie's shapes, status codes and error documents, and
//!   `Idempotency-Key` replay.
//! - Refunds: `POST`/`GET /v2/payments/{id}/refunds`, `GET`/`DELETE
//!   /v2/payments/{id}/refunds/{re_id}`, `GET /v2/refunds`; the payment's
//!   `amountRefunded`/`amountRemaining`, `?embed=refunds`.
//! - Chargebacks: `GET /v2/payments/{id}/chargebacks[/{chb_id}]`, `GET
//!   /v2/chargebacks`; `amountChargedBack`, `?embed=chargebacks`; made and
//!   reversed through control endpoints (Mollie's test mode cannot).
//! - Captures: `captureMode: manual` authorizes; `POST`/`GET
//!   /v2/payments/{id}/captures`, `GET .../captures/{cpt_id}`, `POST
//!   .../release-authorization`; `captureBefore` lapses.
//! - `GET /checkout/{id}`: the hosted checkout page, where the tester picks
//!   the outcome; it then notifies the webhook and sends the browser back.
//! - Webhooks: form-encoded `id=tr_...`, retried on anything but 200 on
//!   Mollie's schedule, compressed by `time_factor`.
//! - `GET /_emulator/stats`: counters for tests (payments created, webhook
//!   calls); `GET`/`PUT /_emulator/faults`: fault injection (see [`Faults`]).
//!   Both only when `control_endpoints` is set: they have no authentication.
//!
//! It is a test tool that marks any payment paid, so it keeps to loopback: it
//! only calls webhook URLs and redirects to URLs on a loopback address or on
//! one of `allowed_origins`.
//!
//! It serves as a router to mount in another server (`Emulator::router`) or
//! on its own listener (`Emulator::serve`, port 0 in tests).

mod api;
mod captures;
mod chargebacks;
mod checkout_page;
mod faults;
mod lines;
mod methods;
mod movement;
mod refunds;
mod state;
mod webhooks;

use api::sub_resources as items;
use api::{control, payments};
use axum::routing::{get, post, put};
use axum::Router;
use captures::EmulatedCapture;
use chargebacks::EmulatedChargeback;
use refunds::EmulatedRefund;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use api::ApiError;
pub use faults::Faults;
pub use refunds::RefundStatus;
pub use state::PaymentStatus;

#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    /// The address the emulator is reached at, for `_links` (no trailing
    /// slash), e.g. `http://127.0.0.1:3000/mollie`.
    pub public_base_url: String,
    /// Mollie's webhook schedule is multiplied by this: 0.01 turns the
    /// first retry's minute into 0.6 s.
    pub time_factor: f64,
    /// How long a payment stays open before it expires (Mollie: about 15
    /// minutes for cards).
    pub payment_ttl: Duration,
    /// Faults in force from the start.
    pub faults: Faults,
    /// Serve `/_emulator/faults` and `/_emulator/stats` (no authentication).
    pub control_endpoints: bool,
    /// Origins (`https://shop.example`) besides loopback addresses that
    /// webhook, redirect and cancel URLs may point to.
    pub allowed_origins: Vec<String>,
    /// A `pending` refund becomes `refunded` after this, times `time_factor`.
    pub refund_settles_after: Duration,
    /// A `pending` capture succeeds after this, times `time_factor`.
    pub capture_settles_after: Duration,
    /// An authorization (`captureMode: manual`) can be captured for this
    /// long, times `time_factor` (Mollie: days, by method).
    pub authorization_valid_for: Duration,
}

impl EmulatorConfig {
    pub fn new(public_base_url: impl Into<String>) -> Self {
        Self {
            public_base_url: public_base_url.into().trim_end_matches('/').to_owned(),
            time_factor: 1.0,
            payment_ttl: Duration::from_secs(15 * 60),
            faults: Faults::default(),
            control_endpoints: false,
            allowed_origins: Vec::new(),
            refund_settles_after: Duration::from_secs(60),
            capture_settles_after: Duration::from_secs(2),
            authorization_valid_for: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

#[derive(Clone)]
pub struct Emulator {
    state: Arc<state::EmulatorState>,
}

impl Emulator {
    pub fn new(config: EmulatorConfig) -> Self {
        Self {
            state: Arc::new(state::EmulatorState::new(config)),
        }
    }

    /// The emulator's routes, to serve alone or to nest in another router.
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        let mut router = api_routes();
        if self.state.config.control_endpoints {
            router = router.merge(control_routes());
        }
        router.with_state(self.state.clone())
    }

    /// From now on only these API keys are accepted (any `test_` key until
    /// this is called), as after a key rotation at Mollie.
    pub fn accept_only_keys(&self, keys: &[&str]) {
        *self.state.accepted_keys.write().expect("keys lock") =
            Some(keys.iter().map(|k| (*k).to_owned()).collect());
    }

    /// Makes the API report `field` of payment `id` as `value`, whatever it
    /// is: a payment from another mode or profile, an unreadable amount.
    /// For tests of what the shop does with answers Mollie should not give.
    pub fn override_field(&self, id: &str, field: &str, value: serde_json::Value) {
        self.state
            .overrides
            .lock()
            .expect("overrides lock")
            .entry(id.to_owned())
            .or_default()
            .insert(field.to_owned(), value);
    }

    /// The API's base URL for clients, e.g. `http://127.0.0.1:4000/v2`.
    pub fn api_base_url(&self) -> String {
        format!("{}/v2", self.state.config.public_base_url)
    }

    /// Provider payments created so far (idempotent replays not counted).
    pub fn payments_created(&self) -> u64 {
        self.state.payments_created()
    }

    /// Webhook calls made so far (each retry and duplicate counts).
    pub fn webhook_calls(&self) -> u64 {
        self.state.webhook_calls()
    }

    /// Payments API calls received so far (each retry counts).
    pub fn api_calls(&self) -> u64 {
        self.state
            .api_calls
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Replaces the faults in force.
    pub fn set_faults(&self, faults: Faults) {
        *self.state.faults.lock().expect("faults lock") = faults;
    }

    /// Sets a payment's status as the checkout page would, notifying the
    /// webhook. For tests that do not drive a browser.
    pub fn complete_payment(&self, id: &str, status: PaymentStatus) -> bool {
        self.state.complete(id, status)
    }

    /// Moves a refund to `status` as Mollie's processing would (`failed`,
    /// `refunded`), notifying the payment's webhook. False when it is
    /// unknown or already has that status.
    pub fn set_refund_status(&self, refund_id: &str, status: RefundStatus) -> bool {
        self.state.set_refund_status(refund_id, status, |_| true)
    }

    /// The shopper's bank takes back `amount` (`{currency, value}`; all that
    /// remains when `None`) of a paid payment, as no Mollie test mode can;
    /// the payment's webhook is called. The chargeback's id, or why not.
    ///
    /// # Errors
    ///
    /// The API's error: an unknown or unpaid payment, an amount beyond
    /// what remains.
    pub fn charge_back(
        &self,
        payment_id: &str,
        amount: Option<serde_json::Value>,
    ) -> Result<String, ApiError> {
        let mut fields = serde_json::Map::new();
        if let Some(amount) = amount {
            fields.insert("amount".into(), amount);
        }
        self.state
            .receive_chargeback(payment_id, &fields)
            .map(|c| c.id)
    }

    /// The bank reverses a chargeback (gives the money back); its payment's
    /// webhook is called. False when it is unknown or reversed already.
    pub fn reverse_chargeback(&self, chargeback_id: &str) -> bool {
        self.state.reverse_chargeback(chargeback_id)
    }

    /// Time passes for an authorized payment until its `captureBefore`: it
    /// lapses within a second (expired when nothing was captured, with its
    /// webhook). False when it has no authorization.
    pub fn reach_capture_deadline(&self, payment_id: &str) -> bool {
        let mut payments = self.state.payments.lock().expect("payments lock");
        match payments.get_mut(payment_id) {
            Some(payment) if payment.capture_before.is_some() => {
                payment.capture_before = Some(time::OffsetDateTime::now_utc());
                true
            }
            _ => false,
        }
    }

    /// Serves the emulator on its own on `listener` (port 0 picks a free
    /// port) until the task is dropped; the config's public URL is the
    /// listener's address.
    ///
    /// # Errors
    ///
    /// The listener's error when its address cannot be read.
    pub async fn serve(
        listener: tokio::net::TcpListener,
        configure: impl FnOnce(&mut EmulatorConfig),
    ) -> std::io::Result<(Self, SocketAddr)> {
        let addr = listener.local_addr()?;
        let mut config = EmulatorConfig::new(format!("http://{addr}"));
        configure(&mut config);
        let emulator = Self::new(config);
        let router = emulator.router();
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(error = %e, "the emulator stopped");
            }
        });
        Ok((emulator, addr))
    }
}

/// Mollie's API, the methods' images and the hosted checkout page.
fn api_routes() -> Router<Arc<state::EmulatorState>> {
    Router::new()
        .route("/v2/payments", post(payments::create_payment))
        .route(
            "/v2/payments/{id}",
            get(payments::get_payment).delete(payments::cancel_payment),
        )
        .route(
            "/v2/payments/{id}/refunds",
            get(items::list::<EmulatedRefund>).post(items::create::<EmulatedRefund>),
        )
        .route(
            "/v2/payments/{id}/refunds/{refund_id}",
            get(items::get::<EmulatedRefund>).delete(refunds::cancel_refund),
        )
        .route("/v2/refunds", get(items::list_all::<EmulatedRefund>))
        .route("/v2/methods", get(methods::list_methods))
        .route("/images/methods/{file}", get(methods::image))
        .route(
            "/v2/payments/{id}/chargebacks",
            get(items::list::<EmulatedChargeback>),
        )
        .route(
            "/v2/payments/{id}/chargebacks/{chargeback_id}",
            get(items::get::<EmulatedChargeback>),
        )
        .route(
            "/v2/chargebacks",
            get(items::list_all::<EmulatedChargeback>),
        )
        .route(
            "/v2/payments/{id}/captures",
            get(items::list::<EmulatedCapture>).post(items::create::<EmulatedCapture>),
        )
        .route(
            "/v2/payments/{id}/captures/{capture_id}",
            get(items::get::<EmulatedCapture>),
        )
        .route(
            "/v2/payments/{id}/release-authorization",
            post(captures::release_authorization),
        )
        .route(
            "/checkout/{id}",
            get(checkout_page::show).post(checkout_page::choose_outcome),
        )
}

/// The control endpoints: no authentication, so served only when asked for.
fn control_routes() -> Router<Arc<state::EmulatorState>> {
    Router::new()
        .route("/_emulator/stats", get(control::stats))
        .route(
            "/_emulator/faults",
            get(control::get_faults).put(control::put_faults),
        )
        .route(
            "/_emulator/refunds/{refund_id}",
            put(refunds::put_refund_status),
        )
        .route(
            "/_emulator/payments/{id}/chargebacks",
            post(chargebacks::post_chargeback),
        )
        .route(
            "/_emulator/chargebacks/{chargeback_id}/reverse",
            post(chargebacks::post_reversal),
        )
}
