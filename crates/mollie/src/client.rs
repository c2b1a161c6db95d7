use crate::api_key::ApiKey;
use crate::ids::{PaymentId, RefundId};
use crate::types::{
    Amount, Capture, Chargeback, CreateCapture, CreatePayment, CreateRefund, ErrorDocument,
    ListAnswer, Payment, PaymentMethod, Refund,
};
use async_trait::async_trait;
use backon::{ExponentialBuilder, Retryable};
use reqwest::header::{HeaderValue, AUTHORIZATION};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

/// Where the API key can be read again after Mollie refused it (401):
/// a rotated secret then takes effect without a restart.
#[async_trait]
pub trait ApiKeySource: Send + Sync + 'static {
    /// Where the key comes from, for the log (never the key).
    fn describe(&self) -> String;
    async fn read_key(&self) -> Result<ApiKey, crate::SecretError>;
}

pub const DEFAULT_BASE_URL: &str = "https://api.mollie.com/v2";

#[derive(Clone, Debug)]
pub struct MollieConfig {
    /// `https://api.mollie.com/v2` unless pointed at the emulator.
    pub base_url: String,
    pub api_key: ApiKey,
    /// Per HTTP request, not per call with its retries.
    pub request_timeout: Duration,
    /// Retries after the first try, for retryable errors only.
    pub max_retries: usize,
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    /// The website profile (`pfl_...`) payments must belong to, if set.
    pub profile_id: Option<String>,
    /// At most one re-read of the key from its source in this time.
    pub key_reload_min_interval: Duration,
}

impl MollieConfig {
    pub fn new(api_key: ApiKey) -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_key,
            request_timeout: Duration::from_secs(10),
            max_retries: 3,
            min_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(3),
            profile_id: None,
            key_reload_min_interval: Duration::from_secs(30),
        }
    }

    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into().trim_end_matches('/').to_owned();
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MollieError {
    /// Mollie's error JSON, typed. `status` is the HTTP status code.
    #[error("Mollie answered {status} {title}: {detail}")]
    Api {
        status: u16,
        title: String,
        detail: String,
        field: Option<String>,
    },
    #[error("Mollie did not answer within the request timeout")]
    Timeout,
    #[error("could not reach Mollie")]
    Connection(#[source] checkout::Cause),
    #[error("unexpected answer from Mollie: {0}")]
    Decode(String),
    /// Not sent: a query parameter that is not plain text.
    #[error("not sent: {0}")]
    InvalidQuery(String),
}

impl MollieError {
    /// Worth trying again: Mollie was busy, failing, or not reached. Any other
    /// 4xx means our request is wrong, and retrying never helps.
    pub fn is_retryable(&self) -> bool {
        match self {
            // 409: a request with the same idempotency key is still being
            // processed; asking again later gets its answer.
            Self::Api { status, .. } => matches!(*status, 409 | 429) || *status >= 500,
            Self::Timeout | Self::Connection(_) => true,
            Self::Decode(_) | Self::InvalidQuery(_) => false,
        }
    }

    /// Mollie's 409 on a refund: one of the same amount was made on this
    /// payment moments ago, or this very request (same idempotency key) is
    /// still in flight. Retrying at once never helps.
    pub fn is_duplicate_refund(&self) -> bool {
        matches!(self, Self::Api { status: 409, .. })
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl From<reqwest::Error> for MollieError {
    fn from(e: reqwest::Error) -> Self {
        if e.is_timeout() {
            Self::Timeout
        } else if e.is_decode() {
            Self::Decode(e.without_url().to_string())
        } else {
            // Without the URL: an error's text must not grow with input.
            Self::Connection(checkout::Cause::new(e.without_url()))
        }
    }
}

/// One API call as the retry loop repeats it.
struct Request<'a> {
    method: Method,
    path: &'a str,
    body: Option<&'a serde_json::Value>,
    idempotency_key: Option<&'a str>,
    /// Which errors are worth another try.
    retry_when: fn(&MollieError) -> bool,
}

impl<'a> Request<'a> {
    fn new(method: Method, path: &'a str) -> Self {
        Self {
            method,
            path,
            body: None,
            idempotency_key: None,
            retry_when: MollieError::is_retryable,
        }
    }

    fn create(path: &'a str, body: &'a serde_json::Value, idempotency_key: &'a str) -> Self {
        Self {
            body: Some(body),
            idempotency_key: Some(idempotency_key),
            ..Self::new(Method::POST, path)
        }
    }
}

#[derive(Clone)]
pub struct MollieClient {
    /// Built on first use: building loads the platform's root certificates,
    /// which would otherwise cost every process start several milliseconds.
    http: Arc<OnceLock<Result<reqwest::Client, MollieError>>>,
    config: MollieConfig,
    /// The key in use: the configured one until a reload replaces it.
    key: Arc<RwLock<ApiKey>>,
    key_source: Option<Arc<dyn ApiKeySource>>,
    last_key_reload: Arc<Mutex<Option<Instant>>>,
}

impl std::fmt::Debug for MollieClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MollieClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl MollieClient {
    /// # Errors
    ///
    /// [`MollieError`] when the configuration cannot make an HTTP client.
    pub fn new(config: MollieConfig) -> Result<Self, MollieError> {
        Ok(Self {
            http: Arc::default(),
            key: Arc::new(RwLock::new(config.api_key.clone())),
            config,
            key_source: None,
            last_key_reload: Arc::default(),
        })
    }

    /// Re-reads the key from `source` when Mollie answers 401 (at most once
    /// per `key_reload_min_interval`), and retries the call once with it.
    pub fn with_key_source(mut self, source: Arc<dyn ApiKeySource>) -> Self {
        self.key_source = Some(source);
        self
    }

    /// After a 401: true when a new key of the same mode was read, so the
    /// call is worth one more try.
    async fn reload_key(&self) -> bool {
        let Some(source) = &self.key_source else {
            return false;
        };
        {
            let mut last = self.last_key_reload.lock().expect("reload lock");
            if last.is_some_and(|at| at.elapsed() < self.config.key_reload_min_interval) {
                return false;
            }
            *last = Some(Instant::now());
        }
        let from = source.describe();
        let fresh = match source.read_key().await {
            Ok(key) => key,
            Err(error) => {
                tracing::error!(%from, %error, "Mollie refused the API key (401) and it could not be read again");
                return false;
            }
        };
        let mut key = self.key.write().expect("key lock");
        if fresh.is_test_mode() != key.is_test_mode() {
            tracing::error!(%from, "Mollie refused the API key (401); the key read again is of another mode ({fresh}), so it is not used");
            return false;
        }
        if fresh.same_as(&key) {
            tracing::error!(%from, "Mollie refused the API key (401); the key read again is the same");
            return false;
        }
        *key = fresh;
        tracing::warn!(%from, "Mollie refused the API key (401); a new key was read (rotated) and is used from now on");
        true
    }

    fn http(&self) -> Result<&reqwest::Client, MollieError> {
        self.http
            .get_or_init(|| {
                reqwest::Client::builder()
                    .timeout(self.config.request_timeout)
                    .connect_timeout(self.config.request_timeout.min(Duration::from_secs(5)))
                    .user_agent(concat!("webshop-mollie/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .map_err(MollieError::from)
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    pub fn config(&self) -> &MollieConfig {
        &self.config
    }

    /// POST /payments, with an idempotency key so that a retry (ours, or a
    /// shopper's double click) replays the first payment instead of making
    /// another.
    ///
    /// # Errors
    ///
    /// [`MollieError`]: Mollie's error document (typed), or a timeout or
    /// connection error after the bounded retries.
    pub async fn create_payment(
        &self,
        request: &CreatePayment,
        idempotency_key: &str,
    ) -> Result<Payment, MollieError> {
        let body = serde_json::to_value(request).map_err(|e| MollieError::Decode(e.to_string()))?;
        self.call(Request::create("/payments", &body, idempotency_key))
            .await
    }

    /// GET /payments/{id}. Ids in a path are typed ([`PaymentId`],
    /// [`RefundId`]): checked when made, so no text of another form ever
    /// changes the URL.
    ///
    /// # Errors
    ///
    /// As [`MollieClient::create_payment`].
    pub async fn get_payment(&self, id: &PaymentId) -> Result<Payment, MollieError> {
        let path = format!("/payments/{id}");
        self.call(Request::new(Method::GET, &path)).await
    }

    /// The payment with its refunds and chargebacks embedded
    /// (`?embed=refunds,chargebacks`): what a webhook needs to see a
    /// refund or chargeback change, in one call.
    ///
    /// # Errors
    ///
    /// As [`MollieClient::get_payment`].
    pub async fn get_payment_with_money(&self, id: &PaymentId) -> Result<Payment, MollieError> {
        let path = format!("/payments/{id}?embed=refunds,chargebacks");
        self.call(Request::new(Method::GET, &path)).await
    }

    /// DELETE /payments/{id}: only while Mollie says `isCancelable`.
    ///
    /// # Errors
    ///
    /// As [`MollieClient::get_payment`]; Mollie answers 422 when the payment
    /// cannot be canceled any more.
    pub async fn cancel_payment(&self, id: &PaymentId) -> Result<Payment, MollieError> {
        let path = format!("/payments/{id}");
        self.call(Request::new(Method::DELETE, &path)).await
    }

    /// POST /payments/{id}/refunds, with our refund's id as the
    /// idempotency key, so a retry replays the first refund. A 409 is not
    /// retried: Mollie refuses a second refund of the same amount soon
    /// after the first, so asking again at once never helps
    /// ([`MollieError::is_duplicate_refund`]).
    ///
    /// # Errors
    ///
    /// As [`MollieClient::get_payment`]; 422 (`field: "amount"`) for more
    /// than remains or a payment that is not paid; 409 as above.
    pub async fn create_refund(
        &self,
        payment_id: &PaymentId,
        request: &CreateRefund,
        idempotency_key: &str,
    ) -> Result<Refund, MollieError> {
        let path = format!("/payments/{payment_id}/refunds");
        let body = serde_json::to_value(request).map_err(|e| MollieError::Decode(e.to_string()))?;
        self.call(Request {
            retry_when: |e| e.is_retryable() && !e.is_duplicate_refund(),
            ..Request::create(&path, &body, idempotency_key)
        })
        .await
    }

    /// GET /payments/{id}/refunds: every refund of the payment.
    ///
    /// # Errors
    ///
    /// As [`MollieClient::get_payment`].
    pub async fn list_refunds(&self, payment_id: &PaymentId) -> Result<Vec<Refund>, MollieError> {
        let path = format!("/payments/{payment_id}/refunds");
        let list: ListAnswer = self.call(Request::new(Method::GET, &path)).await?;
        Ok(list.embedded.refunds)
    }

    /// GET /payments/{id}/chargebacks: every chargeback of the payment.
    ///
    /// # Errors
    ///
    /// As [`MollieClient::get_payment`].
    pub async fn list_chargebacks(
        &self,
        payment_id: &PaymentId,
    ) -> Result<Vec<Chargeback>, MollieError> {
        let path = format!("/payments/{payment_id}/chargebacks");
        let list: ListAnswer = self.call(Request::new(Method::GET, &path)).await?;
        Ok(list.embedded.chargebacks)
    }

    /// GET /methods: the account's methods that can take `amount`, named in
    /// `locale` (Mollie's default without one).
    ///
    /// # Errors
    ///
    /// As [`MollieClient::get_payment`]; 422 for an amount or locale Mollie
    /// does not take.
    pub async fn list_methods(
        &self,
        amount: &Amount,
        locale: Option<&str>,
    ) -> Result<Vec<PaymentMethod>, MollieError> {
        // Only what a URL's query may hold as is: the value and currency
        // are checked (digits and a point; three letters), the locale too.
        let plain = |text: &str| {
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_')
        };
        if !plain(&amount.value) || !plain(&amount.currency) || !locale.is_none_or(plain) {
            return Err(MollieError::InvalidQuery(
                "an amount or locale with characters a query cannot hold".into(),
            ));
        }
        let mut path = format!(
            "/methods?amount%5Bvalue%5D={}&amount%5Bcurrency%5D={}",
            amount.value, amount.currency
        );
        if let Some(locale) = locale {
            path.push_str(&format!("&locale={locale}"));
        }
        let list: ListAnswer = self.call(Request::new(Method::GET, &path)).await?;
        Ok(list.embedded.methods)
    }

    /// POST /payments/{id}/captures: takes all or part of an authorized
    /// payment's money, once per `idempotency_key`.
    ///
    /// # Errors
    ///
    /// As [`MollieClient::get_payment`]; 422 (`field: "amount"`) when no
    /// authorization is left (captured, released, lapsed) or for more than
    /// remains of it.
    pub async fn create_capture(
        &self,
        payment_id: &PaymentId,
        request: &CreateCapture,
        idempotency_key: &str,
    ) -> Result<Capture, MollieError> {
        let path = format!("/payments/{payment_id}/captures");
        let body = serde_json::to_value(request).map_err(|e| MollieError::Decode(e.to_string()))?;
        self.call(Request::create(&path, &body, idempotency_key))
            .await
    }

    /// GET /payments/{id}/captures.
    ///
    /// # Errors
    ///
    /// As [`MollieClient::get_payment`].
    pub async fn list_captures(&self, payment_id: &PaymentId) -> Result<Vec<Capture>, MollieError> {
        let path = format!("/payments/{payment_id}/captures");
        let list: ListAnswer = self.call(Request::new(Method::GET, &path)).await?;
        Ok(list.embedded.captures)
    }

    /// POST /payments/{id}/release-authorization (202): what was not
    /// captured is given back to the shopper; with nothing captured the
    /// payment is canceled.
    ///
    /// # Errors
    ///
    /// As [`MollieClient::get_payment`]; 422 when nothing is left to release.
    pub async fn release_authorization(&self, payment_id: &PaymentId) -> Result<(), MollieError> {
        let path = format!("/payments/{payment_id}/release-authorization");
        self.call(Request::new(Method::POST, &path)).await
    }

    /// DELETE /payments/{id}/refunds/{re_id}: only while it is queued or
    /// pending.
    ///
    /// # Errors
    ///
    /// As [`MollieClient::get_payment`]; 422 once it is processing or done.
    pub async fn cancel_refund(
        &self,
        payment_id: &PaymentId,
        refund_id: &RefundId,
    ) -> Result<(), MollieError> {
        let path = format!("/payments/{payment_id}/refunds/{refund_id}");
        self.call(Request::new(Method::DELETE, &path)).await
    }

    async fn call_with_retries<T: DeserializeOwned>(
        &self,
        request: &Request<'_>,
    ) -> Result<T, MollieError> {
        let policy = ExponentialBuilder::default()
            .with_min_delay(self.config.min_backoff)
            .with_max_delay(self.config.max_backoff)
            .with_max_times(self.config.max_retries)
            .with_jitter();
        let (method, path) = (&request.method, request.path);
        (|| self.call_once(request))
            .retry(policy)
            .when(|error| (request.retry_when)(error))
            .notify(|error, delay| {
                tracing::warn!(%method, path, error = %checkout::error_report(&error), ?delay, "Mollie call failed; retrying");
            })
            .await
    }

    async fn call<T: DeserializeOwned>(&self, request: Request<'_>) -> Result<T, MollieError> {
        match self.call_with_retries(&request).await {
            Err(MollieError::Api { status: 401, .. }) if self.reload_key().await => {
                self.call_with_retries(&request).await
            }
            answer => answer,
        }
    }

    async fn call_once<T: DeserializeOwned>(&self, call: &Request<'_>) -> Result<T, MollieError> {
        let bearer = self.key.read().expect("key lock").bearer();
        let mut authorization = HeaderValue::from_str(&bearer)
            .map_err(|_| MollieError::Decode("the API key is not a valid header".into()))?;
        // Keeps the key out of any HTTP-level debug output.
        authorization.set_sensitive(true);
        let mut request = self
            .http()?
            .request(
                call.method.clone(),
                format!("{}{}", self.config.base_url, call.path),
            )
            .header(AUTHORIZATION, authorization);
        if let Some(key) = call.idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        if let Some(body) = call.body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status();
        let bytes = response.bytes().await?;
        if status.is_success() {
            // 204 No Content (a canceled refund) reads as `null`, i.e. `()`.
            let bytes: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
            serde_json::from_slice(bytes).map_err(|e| MollieError::Decode(e.to_string()))
        } else {
            Err(MollieError::from_response(status.as_u16(), &bytes))
        }
    }
}

impl MollieError {
    /// The error an HTTP answer with a non-success `status` stands for:
    /// Mollie's error document, typed; anything else keeps the status.
    pub fn from_response(status: u16, body: &[u8]) -> Self {
        match serde_json::from_slice::<ErrorDocument>(body) {
            Ok(doc) => Self::Api {
                status: doc.status,
                title: doc.title,
                detail: doc.detail,
                field: doc.field,
            },
            // Proxies and load balancers answer with HTML.
            Err(_) => Self::Api {
                status,
                title: StatusCode::from_u16(status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("Error")
                    .to_owned(),
                detail: "no error document in the response".to_owned(),
                field: None,
            },
        }
    }
}
