//! The payments API subset, answering as Mollie does.

use crate::faults::{ApiFault, Faults};
use crate::state::{EmulatedPayment, EmulatorState, IdempotentResponse, PaymentStatus};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use time::OffsetDateTime;

const HAL_JSON: &str = "application/hal+json";
const CREATE_PARAMETERS: [&str; 10] = [
    "amount",
    "description",
    "redirectUrl",
    "cancelUrl",
    "webhookUrl",
    "metadata",
    "locale",
    "method",
    "captureMode",
    "lines",
];
/// Currencies Mollie accepts, with their decimals.
const CURRENCIES: [(&str, usize); 12] = [
    ("EUR", 2),
    ("USD", 2),
    ("GBP", 2),
    ("CHF", 2),
    ("SEK", 2),
    ("NOK", 2),
    ("DKK", 2),
    ("PLN", 2),
    ("CZK", 2),
    ("CAD", 2),
    ("AUD", 2),
    ("JPY", 0),
];

pub(crate) fn hal(status: StatusCode, body: Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(HAL_JSON));
    response
}

/// An error answered with Mollie's error document.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    detail: String,
    field: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "status": self.status.as_u16(),
            "title": self.status.canonical_reason().unwrap_or("Error"),
            "detail": self.detail,
            "_links": { "documentation": { "href": "https://docs.mollie.com/overview/handling-errors", "type": "text/html" } },
        });
        if let Some(field) = self.field {
            body["field"] = json!(field);
        }
        hal(self.status, body)
    }
}

impl ApiError {
    pub(crate) fn detail(&self) -> &str {
        &self.detail
    }

    pub(crate) fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: detail.into(),
            field: None,
        }
    }
}

/// Mollie's error document.
pub fn error(status: StatusCode, detail: impl Into<String>, field: Option<&str>) -> Response {
    ApiError {
        status,
        detail: detail.into(),
        field: field.map(str::to_owned),
    }
    .into_response()
}

pub(crate) fn authorized(state: &EmulatorState, headers: &HeaderMap) -> Result<(), ApiError> {
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let accepted = state.accepted_keys.read().expect("keys lock");
    let well_formed = |key: &str| {
        key.strip_prefix("test_")
            .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
    };
    match key {
        Some(key)
            if well_formed(key) && accepted.as_ref().is_none_or(|keys| keys.contains(key)) =>
        {
            Ok(())
        }
        _ => Err(ApiError {
            status: StatusCode::UNAUTHORIZED,
            detail: "Missing authentication, or failed to authenticate".to_owned(),
            field: None,
        }),
    }
}

pub(crate) fn invalid(detail: &str, field: &str) -> ApiError {
    ApiError {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        detail: detail.to_owned(),
        field: Some(field.to_owned()),
    }
}

fn valid_url(text: &str) -> bool {
    (text.starts_with("https://") || text.starts_with("http://"))
        && text.len() > 8
        && !text.contains(char::is_whitespace)
}

fn optional_url(
    body: &Map<String, Value>,
    field: &str,
    state: &EmulatorState,
) -> Result<Option<String>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(url)) if valid_url(url) => {
            if !crate::state::url_allowed(url, &state.config.allowed_origins) {
                return Err(invalid(
                    &format!("The {field} must point to a loopback address or an origin this emulator allows"),
                    field,
                ));
            }
            Ok(Some(url.clone()))
        }
        Some(_) => Err(invalid(&format!("The {field} is invalid"), field)),
    }
}

/// A create's authenticated JSON body and its `Idempotency-Key`, or
/// Mollie's refusal.
fn create_request(
    state: &EmulatorState,
    headers: &HeaderMap,
    body: &str,
) -> Result<(Map<String, Value>, Option<String>), ApiError> {
    authorized(state, headers)?;
    // No body at all is no parameters (a capture of everything).
    let body = if body.trim().is_empty() { "{}" } else { body };
    let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(body) else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "The request body is not valid JSON",
        ));
    };
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Ok((fields, key))
}

/// Mollie's answer to a create whose `Idempotency-Key` was seen before: the
/// first answer again (`Idempotent-Replayed: true`) for the same request,
/// 400 for another. `None` for a new key or none.
fn replayed(
    kept: &HashMap<String, IdempotentResponse>,
    key: Option<&str>,
    fingerprint: &str,
) -> Option<Response> {
    let previous = kept.get(key?)?;
    if previous.request_fingerprint != fingerprint {
        return Some(error(
            StatusCode::BAD_REQUEST,
            "The idempotency key was already used for another request",
            None,
        ));
    }
    let mut response = hal(
        StatusCode::from_u16(previous.status).unwrap_or(StatusCode::OK),
        previous.body.clone(),
    );
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    Some(response)
}

/// Checks a create request the way Mollie does, field by field.
fn parse_create(
    body: &Map<String, Value>,
    state: &EmulatorState,
) -> Result<EmulatedPayment, ApiError> {
    known_parameters(body, &CREATE_PARAMETERS)?;
    let amount = parse_amount(body)?;
    let lines = crate::lines::parse_lines(body, &amount)?;
    let description = match body.get("description") {
        Some(Value::String(d)) if !d.trim().is_empty() && d.chars().count() <= 255 => d.clone(),
        Some(Value::String(d)) if !d.trim().is_empty() => {
            return Err(invalid("The description is too long", "description"))
        }
        _ => return Err(invalid("The description is invalid", "description")),
    };
    let redirect_url = optional_url(body, "redirectUrl", state)?.ok_or_else(|| {
        invalid(
            "The redirect URL is required for this payment",
            "redirectUrl",
        )
    })?;
    let manual_capture = match body.get("captureMode") {
        None | Some(Value::Null) => false,
        Some(mode) if mode == "automatic" => false,
        Some(mode) if mode == "manual" => true,
        Some(_) => return Err(invalid("The capture mode is invalid", "captureMode")),
    };
    let now = OffsetDateTime::now_utc();
    Ok(EmulatedPayment {
        id: EmulatorState::new_payment_id(),
        created_at: now,
        expires_at: now + state.config.payment_ttl,
        changed_at: None,
        amount: amount.json(),
        description,
        redirect_url,
        cancel_url: optional_url(body, "cancelUrl", state)?,
        webhook_url: optional_url(body, "webhookUrl", state)?,
        metadata: body.get("metadata").cloned().unwrap_or(Value::Null),
        method: crate::methods::parse_method(body, &amount)?,
        locale: parse_locale(body)?,
        status: PaymentStatus::Open,
        refunds: Vec::new(),
        chargebacks: Vec::new(),
        manual_capture,
        lines,
        authorized_at: None,
        capture_before: None,
        captures: Vec::new(),
        released: false,
    })
}

/// Mollie's payment locales.
const LOCALES: [&str; 22] = [
    "en_US", "en_GB", "nl_NL", "nl_BE", "de_DE", "de_AT", "de_CH", "fr_FR", "fr_BE", "es_ES",
    "ca_ES", "pt_PT", "it_IT", "nb_NO", "sv_SE", "fi_FI", "da_DK", "is_IS", "hu_HU", "pl_PL",
    "lv_LV", "lt_LT",
];

/// `locale`, when given, must be one of Mollie's, spelled as Mollie does.
pub(crate) fn parse_locale(body: &Map<String, Value>) -> Result<Option<String>, ApiError> {
    match body.get("locale") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(locale)) if LOCALES.contains(&locale.as_str()) => {
            Ok(Some(locale.clone()))
        }
        Some(_) => Err(invalid("The locale is invalid", "locale")),
    }
}

/// An amount as Mollie checks it: a currency it takes, a value with
/// exactly that currency's decimals; kept in minor units for arithmetic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireAmount {
    pub currency: String,
    pub decimals: usize,
    pub minor: i64,
}

impl WireAmount {
    /// The amount of a request or of a stored resource (`{currency, value}`).
    pub(crate) fn parse(amount: &Map<String, Value>) -> Result<Self, ApiError> {
        let currency = amount
            .get("currency")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(&(_, decimals)) = CURRENCIES.iter().find(|(code, _)| *code == currency) else {
            return Err(invalid(
                "The amount contains an invalid currency",
                "amount.currency",
            ));
        };
        let value = amount
            .get("value")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let digits = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
        let (whole, fraction) = match value.split_once('.') {
            Some((whole, fraction)) if decimals > 0 && fraction.len() == decimals => {
                (whole, fraction)
            }
            None if decimals == 0 => (value, ""),
            _ => ("", ""),
        };
        let minor = (digits(whole) && (decimals == 0 || digits(fraction)))
            .then(|| format!("{whole}{fraction}").parse::<i64>().ok())
            .flatten()
            .ok_or_else(|| invalid("The amount contains an invalid value", "amount.value"))?;
        Ok(Self {
            currency: currency.to_owned(),
            decimals,
            minor,
        })
    }

    /// A stored resource's amount (valid by construction).
    pub fn of(amount: &Value) -> Self {
        Self::parse(amount.as_object().expect("an amount object")).expect("a valid stored amount")
    }

    pub fn with_minor(&self, minor: i64) -> Self {
        Self {
            minor,
            ..self.clone()
        }
    }

    pub fn json(&self) -> Value {
        let scale = 10_i64.pow(self.decimals as u32);
        let value = if self.decimals == 0 {
            self.minor.to_string()
        } else {
            format!(
                "{}.{:0width$}",
                self.minor / scale,
                self.minor % scale,
                width = self.decimals
            )
        };
        json!({ "currency": self.currency, "value": value })
    }
}

/// Mollie's 422 for a body parameter the call does not have.
fn known_parameters(body: &Map<String, Value>, allowed: &[&str]) -> Result<(), ApiError> {
    match body.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(unknown) => Err(invalid(
            &format!("Non-existent body parameter \"{unknown}\" for this API call"),
            unknown,
        )),
        None => Ok(()),
    }
}

/// The body of a refund or a capture.
pub(crate) struct MoneyRequest {
    /// Required for a refund; a capture without one takes all it can.
    pub amount: Option<WireAmount>,
    pub description: String,
    pub metadata: Value,
}

/// Checks a refund's or capture's body: `amount`, `description` (at most
/// 255 characters) and `metadata`, nothing else.
pub(crate) fn money_request(body: &Map<String, Value>) -> Result<MoneyRequest, ApiError> {
    known_parameters(body, &["amount", "description", "metadata"])?;
    let amount = match body.get("amount") {
        None | Some(Value::Null) => None,
        Some(_) => Some(parse_amount(body)?),
    };
    let description = match body.get("description") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(d)) if d.chars().count() <= 255 => d.clone(),
        Some(_) => return Err(invalid("The description is invalid", "description")),
    };
    Ok(MoneyRequest {
        amount,
        description,
        metadata: body.get("metadata").cloned().unwrap_or(Value::Null),
    })
}

/// The request's `amount`, required and above zero.
pub(crate) fn parse_amount(body: &Map<String, Value>) -> Result<WireAmount, ApiError> {
    let amount = body
        .get("amount")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("The amount is required", "amount"))?;
    let amount = WireAmount::parse(amount)?;
    if amount.minor == 0 {
        return Err(invalid("The amount is lower than the minimum", "amount"));
    }
    Ok(amount)
}

pub async fn create_payment(
    State(state): State<Arc<EmulatorState>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    with_faults(&state, || create_payment_now(&state, &headers, &body)).await
}

fn create_payment_now(state: &EmulatorState, headers: &HeaderMap, body: &str) -> Response {
    create_once(state, headers, body, "payments", |fields| {
        let payment = parse_create(fields, state)?;
        let body = state.resource(&payment);
        state.insert(payment);
        Ok(body)
    })
}

/// A create as Mollie handles it: authenticated, a JSON body, and the
/// `Idempotency-Key`: the same key and request (`scope`, e.g. the payment's
/// refunds, and body) answers the first answer again; otherwise `make`
/// checks and records the resource and answers it, 201.
pub(crate) fn create_once(
    state: &EmulatorState,
    headers: &HeaderMap,
    body: &str,
    scope: &str,
    make: impl FnOnce(&Map<String, Value>) -> Result<Value, ApiError>,
) -> Response {
    let (fields, key) = match create_request(state, headers, body) {
        Ok(request) => request,
        Err(refused) => return refused.into_response(),
    };
    // Canonical JSON (serde_json sorts object keys) so that field order
    // does not matter; the scope, so one key on two payments differs.
    let fingerprint = format!("{scope} {}", Value::Object(fields.clone()));
    // One lock over look-up and create: two calls with one key cannot both create.
    let mut kept = state.idempotency.lock().expect("idempotency lock");
    if let Some(replay) = replayed(&kept, key.as_deref(), &fingerprint) {
        return replay;
    }
    let body = match make(&fields) {
        Ok(body) => body,
        Err(rejection) => return rejection.into_response(),
    };
    if let Some(key) = key {
        kept.insert(
            key,
            IdempotentResponse {
                request_fingerprint: fingerprint,
                status: StatusCode::CREATED.as_u16(),
                body: body.clone(),
            },
        );
    }
    hal(StatusCode::CREATED, body)
}

#[derive(serde::Deserialize)]
pub struct GetPaymentQuery {
    /// `refunds`, `chargebacks` (comma-separated list): embed them in
    /// `_embedded`.
    #[serde(default)]
    embed: String,
}

pub async fn get_payment(
    State(state): State<Arc<EmulatorState>>,
    Path(id): Path<String>,
    Query(query): Query<GetPaymentQuery>,
    headers: HeaderMap,
) -> Response {
    let embed: Vec<&str> = query.embed.split(',').collect();
    with_faults(&state, || get_payment_now(&state, &id, &headers, &embed)).await
}

fn get_payment_now(
    state: &EmulatorState,
    id: &str,
    headers: &HeaderMap,
    embed: &[&str],
) -> Response {
    if let Err(denied) = authorized(state, headers) {
        return denied.into_response();
    }
    match state.get(id) {
        Some(payment) => {
            let mut body = state.resource(&payment);
            let base = &state.config.public_base_url;
            let mut embedded = Map::new();
            if embed.contains(&"refunds") {
                let refunds = payment.refunds.iter().map(|r| r.resource(base)).collect();
                embedded.insert("refunds".into(), Value::Array(refunds));
            }
            if embed.contains(&"chargebacks") {
                let chargebacks = payment
                    .chargebacks
                    .iter()
                    .map(|c| c.resource(base))
                    .collect();
                embedded.insert("chargebacks".into(), Value::Array(chargebacks));
            }
            if !embedded.is_empty() {
                body["_embedded"] = Value::Object(embedded);
            }
            hal(StatusCode::OK, body)
        }
        None => error(
            StatusCode::NOT_FOUND,
            format!("No payment exists with token {id}."),
            None,
        ),
    }
}

pub async fn cancel_payment(
    State(state): State<Arc<EmulatorState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    with_faults(&state, || cancel_payment_now(&state, &id, &headers)).await
}

fn cancel_payment_now(state: &Arc<EmulatorState>, id: &str, headers: &HeaderMap) -> Response {
    if let Err(denied) = authorized(state, headers) {
        return denied.into_response();
    }
    match state.get(id) {
        None => error(
            StatusCode::NOT_FOUND,
            format!("No payment exists with token {id}."),
            None,
        ),
        Some(payment) if payment.status != PaymentStatus::Open => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The payment cannot be cancelled",
            None,
        ),
        Some(_) => {
            state.complete(id, PaymentStatus::Canceled);
            let payment = state.get(id).expect("it was there a moment ago");
            hal(StatusCode::OK, state.resource(&payment))
        }
    }
}

/// An authenticated API call under injected faults: `answer` runs for a
/// valid key only.
pub(crate) async fn authenticated(
    state: &EmulatorState,
    headers: &HeaderMap,
    answer: impl FnOnce() -> Response,
) -> Response {
    with_faults(state, || match authorized(state, headers) {
        Ok(()) => answer(),
        Err(denied) => denied.into_response(),
    })
    .await
}

/// The `_links` of a payment's refund, chargeback or capture (`kind`, e.g.
/// `refunds`; the documentation page is `get-{singular}`).
pub(crate) fn payment_item_links(base: &str, payment_id: &str, kind: &str, id: &str) -> Value {
    let singular = kind.trim_end_matches('s');
    json!({
        "self": { "href": format!("{base}/v2/payments/{payment_id}/{kind}/{id}"), "type": "application/hal+json" },
        "payment": { "href": format!("{base}/v2/payments/{payment_id}"), "type": "application/hal+json" },
        "documentation": { "href": format!("https://docs.mollie.com/reference/get-{singular}"), "type": "text/html" },
    })
}

/// Mollie's list document (`count`, `_embedded.{kind}`, `_links`), of one
/// page: pagination is not emulated.
pub(crate) fn hal_list(kind: &str, self_href: String, items: Vec<Value>) -> Response {
    hal(
        StatusCode::OK,
        json!({
            "count": items.len(),
            "_embedded": { kind: items },
            "_links": {
                "self": { "href": self_href, "type": "application/hal+json" },
                "previous": null,
                "next": null,
                "documentation": { "href": format!("https://docs.mollie.com/reference/list-{kind}"), "type": "text/html" },
            },
        }),
    )
}

/// `GET /v2/payments/{id}/{kind}`: a payment's refunds, chargebacks or
/// captures (`items` gives them as resources), or 404.
pub(crate) fn payment_list(
    state: &EmulatorState,
    payment_id: &str,
    kind: &str,
    items: impl FnOnce(&EmulatedPayment, &str) -> Vec<Value>,
) -> Response {
    let base = &state.config.public_base_url;
    match state.get(payment_id) {
        None => not_found("payment", payment_id),
        Some(payment) => hal_list(
            kind,
            format!("{base}/v2/payments/{payment_id}/{kind}"),
            items(&payment, base),
        ),
    }
}

/// `GET /v2/{kind}`: the account's refunds or chargebacks across its
/// payments (`items` gives each payment's with their creation times),
/// newest first as Mollie lists them.
pub(crate) fn account_list(
    state: &EmulatorState,
    kind: &str,
    items: impl Fn(&EmulatedPayment, &str) -> Vec<(OffsetDateTime, Value)>,
) -> Response {
    let base = &state.config.public_base_url;
    let payments = state.payments.lock().expect("payments lock");
    let mut all: Vec<(OffsetDateTime, Value)> =
        payments.values().flat_map(|p| items(p, base)).collect();
    all.sort_by_key(|(created_at, _)| std::cmp::Reverse(*created_at));
    hal_list(
        kind,
        format!("{base}/v2/{kind}"),
        all.into_iter().map(|(_, item)| item).collect(),
    )
}

/// `GET /v2/payments/{id}/{kind}/{item_id}`: one of a payment's
/// chargebacks or captures (`find` gives it as a resource), or 404.
pub(crate) fn payment_item(
    state: &EmulatorState,
    payment_id: &str,
    kind: &str,
    item_id: &str,
    find: impl FnOnce(&EmulatedPayment, &str) -> Option<Value>,
) -> Response {
    let base = &state.config.public_base_url;
    match state.get(payment_id).and_then(|p| find(&p, base)) {
        Some(body) => hal(StatusCode::OK, body),
        None => not_found(kind, item_id),
    }
}

/// Mollie's 404 for an unknown resource of `kind` (payment, refund, ...).
pub(crate) fn not_found(kind: &str, id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!("No {kind} exists with token {id}."),
        None,
    )
}

/// Changes payment `payment_id` under the payments lock, after its expiry
/// or lapse applied; 404 when it is unknown.
pub(crate) fn change_payment<T>(
    state: &EmulatorState,
    payment_id: &str,
    change: impl FnOnce(&mut EmulatedPayment) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let _ = state.get(payment_id); // applies expiry first
    let mut payments = state.payments.lock().expect("payments lock");
    match payments.get_mut(payment_id) {
        Some(payment) => change(payment),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("No payment exists with token {payment_id}."),
        )),
    }
}

/// Injected faults: fail before doing anything, or do the work and answer late.
pub(crate) async fn with_faults(
    state: &EmulatorState,
    work: impl FnOnce() -> Response,
) -> Response {
    match state.take_api_fault() {
        Some(ApiFault::Fail(code)) => error(
            StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            "The service is temporarily unavailable (injected fault)",
            None,
        ),
        Some(ApiFault::Hang(delay)) => {
            let response = work();
            tokio::time::sleep(delay).await;
            response
        }
        None => work(),
    }
}

pub async fn stats(State(state): State<Arc<EmulatorState>>) -> Response {
    axum::Json(json!({
        "paymentsCreated": state.payments_created(),
        "webhookCalls": state.webhook_calls(),
        "apiCalls": state.api_calls.load(std::sync::atomic::Ordering::Relaxed),
    }))
    .into_response()
}

pub async fn get_faults(State(state): State<Arc<EmulatorState>>) -> Response {
    axum::Json(state.faults.lock().expect("faults lock").clone()).into_response()
}

pub async fn put_faults(
    State(state): State<Arc<EmulatorState>>,
    axum::Json(faults): axum::Json<Faults>,
) -> Response {
    tracing::info!(?faults, "faults set");
    *state.faults.lock().expect("faults lock") = faults;
    StatusCode::NO_CONTENT.into_response()
}
