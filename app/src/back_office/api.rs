//! The back office's server functions. Every one but sign-in needs a
//! signed-in operator: without one it answers 401 (a plain form post is
//! sent back to its page with the error) and reads or changes nothing.
//! Each action goes through the checkout service's operator operations,
//! which write the audit log.

use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// What an admin server function answers when it does not succeed. Its own
/// type, not the storefront's [`ShopError`](crate::api::ShopError), so
/// that nothing of the back office reaches the storefront's wasm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum BackOfficeError {
    /// No signed-in operator (401): the pages show the sign-in form.
    #[error("{0}")]
    SignInRequired(String),
    /// Refused, or cannot be done now; the words are for the operator.
    #[error("{0}")]
    Refused(String),
    /// The call itself failed (arguments that do not parse, the network).
    #[error(transparent)]
    Call(ServerFnErrorErr),
}

impl FromServerFnError for BackOfficeError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(error: ServerFnErrorErr) -> Self {
        crate::api::call_failed_status(&error);
        Self::Call(error)
    }
}

impl BackOfficeError {
    /// In the operator's words.
    pub fn text(&self) -> String {
        match self {
            Self::SignInRequired(message) | Self::Refused(message) => message.clone(),
            Self::Call(_) => {
                "The shop could not be reached; check the connection and try again.".to_owned()
            }
        }
    }
}

/// How many orders a page of the list shows.
pub const ORDERS_PER_PAGE: usize = 25;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRowView {
    pub id: String,
    pub created_at: String,
    pub total: String,
    pub status: String,
    /// Why it needs a look, if it does ("charged back", ...).
    pub attention: Vec<String>,
    /// The provider's payment ids of its attempts.
    pub payments: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderListView {
    pub operator: String,
    pub orders: Vec<OrderRowView>,
    /// The link token of the next (older) page.
    pub next: Option<String>,
    /// What was searched for, when the list is a search's result.
    pub search: Option<String>,
    /// The filter shown (its code) and every filter: code and label.
    pub filter: String,
    pub filters: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackOfficeLineView {
    pub name: String,
    pub sku: Option<String>,
    pub quantity: u32,
    pub unit_price: String,
    pub line_total: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundView {
    pub id: String,
    pub provider_id: Option<String>,
    pub amount: String,
    pub status: String,
    /// Made in the provider's dashboard rather than here.
    pub from_provider: bool,
    pub created_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargebackView {
    pub id: String,
    pub amount: String,
    pub reason: Option<String>,
    pub recorded_at: String,
    pub reversed_at: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptView {
    pub id: String,
    pub provider_payment_id: Option<String>,
    pub amount: String,
    pub status: String,
    /// "open at 2026-11-25 10:00 UTC", oldest first.
    pub history: Vec<String>,
    pub refunds: Vec<RefundView>,
    pub chargebacks: Vec<ChargebackView>,
    pub captured: Option<String>,
    pub capture_before: Option<String>,
    pub incident: Option<String>,
}

/// A payment of the order that took money, as the refund form offers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundablePaymentView {
    /// Mollie's payment id (`tr_...`).
    pub provider_payment_id: String,
    /// What can still be refunded of it ("€12.50").
    pub refundable: String,
    /// The same as a decimal for the form's amount ("12.50").
    pub refundable_decimal: String,
    /// The refund form's choice when the page opens: the payment with an
    /// incident (paid twice, paid after it was given up), else the first.
    pub preselected: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditView {
    pub at: String,
    pub operator: String,
    pub action: String,
    pub outcome: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackOfficeOrderView {
    pub operator: String,
    pub id: String,
    pub created_at: String,
    pub status: String,
    pub attention: Vec<String>,
    pub lines: Vec<BackOfficeLineView>,
    pub total: String,
    pub paid: Option<String>,
    pub refunded: Option<String>,
    pub charged_back: Option<String>,
    /// What can still be refunded, as a decimal for the form ("12.50").
    pub refundable: Option<String>,
    /// The payments a refund can go to (more than one: the order was paid
    /// twice).
    pub refundable_payments: Vec<RefundablePaymentView>,
    /// The currency amounts are entered in ("EUR").
    pub currency: String,
    /// An authorization waits for capture or release.
    pub awaits_capture: bool,
    /// A payment is open at the provider and can be canceled.
    pub cancelable: bool,
    pub attempts: Vec<AttemptView>,
    pub audit: Vec<AuditView>,
    /// Fresh for this page view: submitting its form twice is one refund
    /// (or capture).
    pub refund_id: String,
    pub capture_id: String,
}

/// Signs in with an operator's name and password, then opens the orders.
/// Failed sign-ins are counted per account and per client in the store, so
/// guessing is bounded across every process; past the limit a sign-in is
/// refused before its password is checked.
#[server(endpoint = "admin/sign_in")]
pub async fn back_office_sign_in(name: String, password: String) -> Result<(), BackOfficeError> {
    let access = ssr::access()?;
    let service = ssr::service()?;
    let name = name.trim().to_owned();
    let client = ssr::client_address().to_string();
    let limits = access.sign_in_limits;
    let now = service.now();
    // Counted before the password is checked: a burst of attempts cannot
    // check more passwords than the limits allow, on any process.
    if !service
        .begin_sign_in(&name, &client, &limits, now)
        .await
        .map_err(ssr::store_failed)?
    {
        tracing::warn!(
            security_event = true,
            "back-office sign-in refused: too many failures"
        );
        return Err(ssr::reject(
            http::StatusCode::TOO_MANY_REQUESTS,
            "Too many failed sign-ins. Please wait 15 minutes and try again.",
        ));
    }
    // argon2id takes tens of milliseconds of CPU: not on the async executor.
    let operators = access.operators.clone();
    let account = name.clone();
    let verified = tokio::task::spawn_blocking(move || operators.verify(&account, &password))
        .await
        .map_err(|_| ssr::reject(http::StatusCode::SERVICE_UNAVAILABLE, "Please try again."))?;
    let Some(operator) = verified else {
        tracing::warn!(security_event = true, "back-office sign-in refused");
        return Err(ssr::unauthorized("Wrong name or password."));
    };
    // Sessions ended after this process read the accounts: its accounts
    // may be from before a password change or removal. Fail closed until
    // a process with the new accounts answers.
    let changed = service
        .operator_sessions(&operator)
        .await
        .map_err(ssr::store_failed)?
        .account_changed_at;
    if changed.is_some_and(|changed| changed >= access.accounts_loaded_at) {
        tracing::warn!(
            security_event = true,
            operator,
            "back-office sign-in refused: accounts changed since this process started"
        );
        return Err(ssr::reject(
            http::StatusCode::SERVICE_UNAVAILABLE,
            "The back office's accounts changed; please try again in a few minutes.",
        ));
    }
    service
        .sign_in_succeeded(&name, &client, now)
        .await
        .map_err(ssr::store_failed)?;
    tracing::info!(operator, "back-office sign-in");
    ssr::set_cookie(&access.sessions.sign_in(&access.operators, &operator, now));
    leptos_axum::redirect("/admin");
    Ok(())
}

/// Signs the operator out everywhere: every session of theirs issued
/// until now ends, on every process, not only this browser's cookie.
#[server(endpoint = "admin/sign_out")]
pub async fn back_office_sign_out() -> Result<(), BackOfficeError> {
    let access = ssr::access()?;
    if let Ok(operator) = ssr::operator().await {
        let service = ssr::service()?;
        service
            .end_operator_sessions(&operator, service.now())
            .await
            .map_err(ssr::store_failed)?;
        tracing::info!(operator, "back-office sign-out: sessions ended");
    }
    ssr::set_cookie(&access.sessions.sign_out());
    leptos_axum::redirect("/admin");
    Ok(())
}

/// Orders newest first that pass `status` (a filter's code; all when
/// empty), a page at a time (`after`: the previous page's `next`), or the
/// order whose id or Mollie payment id is `search`.
#[server(endpoint = "admin/orders")]
pub async fn back_office_orders(
    after: Option<String>,
    search: Option<String>,
    status: Option<String>,
) -> Result<OrderListView, BackOfficeError> {
    use checkout::OrderFilter;
    let operator = ssr::operator().await?;
    let service = ssr::service()?;
    let now = service.now();
    let warning = service.reconcile_policy().capture_warning;
    let filter = match status.as_deref().filter(|s| !s.is_empty()) {
        Some(code) => OrderFilter::parse(code).ok_or_else(|| {
            ssr::reject(http::StatusCode::BAD_REQUEST, "There is no such filter.")
        })?,
        None => OrderFilter::All,
    };
    let filters = OrderFilter::ALL
        .iter()
        .map(|f| (f.code().to_owned(), f.label().to_owned()))
        .collect();
    let search = search
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    if let Some(text) = &search {
        let found = service.find_order(text).await.map_err(ssr::store_failed)?;
        let mut orders = Vec::new();
        if let Some(id) = found {
            if let Some((record, status)) = service.order(&id).await.map_err(ssr::store_failed)? {
                orders.push(ssr::row(&record, status, now, warning));
            }
        }
        return Ok(OrderListView {
            operator,
            orders,
            next: None,
            search,
            filter: OrderFilter::All.code().to_owned(),
            filters,
        });
    }
    let after = match after.as_deref().filter(|a| !a.is_empty()) {
        Some(token) => Some(checkout::OrderCursor::parse(token).ok_or_else(|| {
            ssr::reject(
                http::StatusCode::BAD_REQUEST,
                "That page link is not valid.",
            )
        })?),
        None => None,
    };
    let list = service
        .recent_orders(after.as_ref(), ORDERS_PER_PAGE, filter)
        .await
        .map_err(ssr::store_failed)?;
    Ok(OrderListView {
        operator,
        orders: list
            .orders
            .iter()
            .map(|(record, status)| ssr::row(record, *status, now, warning))
            .collect(),
        next: list.next.map(|c| c.to_token()),
        search: None,
        filter: filter.code().to_owned(),
        filters,
    })
}

/// One order with everything about its money and its audit log; `None`
/// for an unknown order.
#[server(endpoint = "admin/order")]
pub async fn back_office_order(
    order_id: String,
) -> Result<Option<BackOfficeOrderView>, BackOfficeError> {
    let operator = ssr::operator().await?;
    let Some(id) = checkout::OrderId::parse(&order_id) else {
        crate::api::refusals::set_status(http::StatusCode::NOT_FOUND);
        return Ok(None);
    };
    let service = ssr::service()?;
    let Some((record, status)) = service.order(&id).await.map_err(ssr::store_failed)? else {
        crate::api::refusals::set_status(http::StatusCode::NOT_FOUND);
        return Ok(None);
    };
    let audit = service.audit_log(&id).await.map_err(ssr::store_failed)?;
    Ok(Some(ssr::order_view(
        operator,
        &record,
        status,
        &audit,
        service.now(),
        service.reconcile_policy().capture_warning,
    )))
}

/// Reads the order's payments from Mollie again.
#[server(endpoint = "admin/refresh")]
pub async fn back_office_refresh(order_id: String) -> Result<(), BackOfficeError> {
    let operator = ssr::operator().await?;
    let id = ssr::order_id(&order_id)?;
    ssr::service()?
        .operator_refresh(&operator, &id)
        .await
        .map_err(ssr::action_failed)
}

/// Refunds `amount` (a decimal in the order's currency) of the order's
/// payment `payment` (Mollie's `tr_...`; none: the first that took money).
/// `confirm` must be ticked: money moves.
#[server(endpoint = "admin/refund")]
pub async fn back_office_refund(
    order_id: String,
    payment: Option<String>,
    refund_id: String,
    amount: String,
    reason: String,
    confirm: Option<String>,
) -> Result<(), BackOfficeError> {
    let operator = ssr::operator().await?;
    let id = ssr::order_id(&order_id)?;
    ssr::confirmed(confirm.as_deref())?;
    let payment = match payment.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => None,
        Some(text) => Some(checkout::ProviderPaymentId::parse(text).ok_or_else(|| {
            ssr::reject(
                http::StatusCode::UNPROCESSABLE_ENTITY,
                "No such payment of this order.",
            )
        })?),
    };
    let refund_id = checkout::RefundId::parse(&refund_id).ok_or_else(|| {
        ssr::reject(
            http::StatusCode::BAD_REQUEST,
            "This page is out of date; please reload it.",
        )
    })?;
    let service = ssr::service()?;
    let amount = ssr::amount_of(&service, &id, &amount).await?;
    service
        .operator_refund(
            &operator,
            &id,
            payment.as_ref(),
            &refund_id,
            amount,
            &reason,
        )
        .await
        .map_err(ssr::action_failed)
}

/// Captures `amount` (empty: all that is authorized) of the order's
/// authorization. `confirm` must be ticked.
#[server(endpoint = "admin/capture")]
pub async fn back_office_capture(
    order_id: String,
    capture_id: String,
    amount: Option<String>,
    confirm: Option<String>,
) -> Result<(), BackOfficeError> {
    let operator = ssr::operator().await?;
    let id = ssr::order_id(&order_id)?;
    ssr::confirmed(confirm.as_deref())?;
    let capture_id = checkout::CaptureId::parse(&capture_id).ok_or_else(|| {
        ssr::reject(
            http::StatusCode::BAD_REQUEST,
            "This page is out of date; please reload it.",
        )
    })?;
    let service = ssr::service()?;
    let amount = match amount.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        Some(text) => Some(ssr::amount_of(&service, &id, text).await?),
        None => None,
    };
    service
        .operator_capture(&operator, &id, &capture_id, amount)
        .await
        .map_err(ssr::action_failed)
}

/// Cancels the order's open payment. `confirm` must be ticked.
#[server(endpoint = "admin/cancel")]
pub async fn back_office_cancel(
    order_id: String,
    confirm: Option<String>,
) -> Result<(), BackOfficeError> {
    let operator = ssr::operator().await?;
    let id = ssr::order_id(&order_id)?;
    ssr::confirmed(confirm.as_deref())?;
    ssr::service()?
        .operator_cancel(&operator, &id)
        .await
        .map_err(ssr::action_failed)
}

/// Releases what is left of the order's authorization. `confirm` must be
/// ticked.
#[server(endpoint = "admin/release")]
pub async fn back_office_release(
    order_id: String,
    confirm: Option<String>,
) -> Result<(), BackOfficeError> {
    let operator = ssr::operator().await?;
    let id = ssr::order_id(&order_id)?;
    ssr::confirmed(confirm.as_deref())?;
    ssr::service()?
        .operator_release(&operator, &id)
        .await
        .map_err(ssr::action_failed)
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::security::OperatorAccess;
    use checkout::{
        AuditEntry, AuditOutcome, CheckoutService, Ledger, OrderId, OrderRecord, OrderStatus,
        PaymentAttempt,
    };
    use http::StatusCode;
    use std::time::Duration;
    use time::OffsetDateTime;

    /// A refusal: the message for the operator, and an HTTP status (a
    /// plain form post is sent back to its page with the message instead).
    pub fn reject(status: StatusCode, message: impl Into<String>) -> BackOfficeError {
        crate::api::refusals::refusal_status(status);
        BackOfficeError::Refused(message.into())
    }

    pub fn service() -> Result<std::sync::Arc<CheckoutService>, BackOfficeError> {
        crate::api::refusals::service().map_err(|e| BackOfficeError::Refused(e.to_string()))
    }

    /// The back office's accounts and sessions; without them it is off.
    pub fn access() -> Result<OperatorAccess, BackOfficeError> {
        use_context::<OperatorAccess>().ok_or_else(|| {
            reject(
                StatusCode::NOT_FOUND,
                "The back office is off: no operator accounts are configured.",
            )
        })
    }

    pub fn unauthorized(message: &str) -> BackOfficeError {
        crate::api::refusals::refusal_status(StatusCode::UNAUTHORIZED);
        BackOfficeError::SignInRequired(message.to_owned())
    }

    /// The signed-in operator, or a 401.
    pub async fn operator() -> Result<String, BackOfficeError> {
        let access = access()?;
        let headers: http::HeaderMap = leptos_axum::extract().await.unwrap_or_default();
        let cookies = headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok());
        let service = service()?;
        let session = access
            .sessions
            .session(cookies, &access.operators, service.now())
            .ok_or_else(|| unauthorized("Please sign in."))?;
        // Ended by a sign-out (here or on another process) since it was issued?
        let current = service
            .operator_session_is_current(&session.operator, session.issued_at)
            .await
            .map_err(store_failed)?;
        if current {
            Ok(session.operator)
        } else {
            Err(unauthorized("Please sign in."))
        }
    }

    /// The client of this request, as the server's limits count it.
    pub fn client_address() -> std::net::IpAddr {
        use_context::<http::request::Parts>()
            .and_then(|parts| {
                parts
                    .extensions
                    .get::<crate::security::ClientAddress>()
                    .copied()
            })
            .map_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), |c| {
                c.0
            })
    }

    pub fn set_cookie(cookie: &cookie::Cookie<'_>) {
        if let (Some(response), Ok(value)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            http::HeaderValue::from_str(&cookie.to_string()),
        ) {
            response.append_header(http::header::SET_COOKIE, value);
        }
    }

    pub fn order_id(text: &str) -> Result<OrderId, BackOfficeError> {
        OrderId::parse(text).ok_or_else(|| reject(StatusCode::NOT_FOUND, "No such order."))
    }

    pub fn confirmed(confirm: Option<&str>) -> Result<(), BackOfficeError> {
        if confirm.is_some_and(|c| !c.is_empty()) {
            Ok(())
        } else {
            Err(reject(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Tick the box to confirm.",
            ))
        }
    }

    /// `text` as an amount in the order's currency ("12.50").
    pub async fn amount_of(
        service: &CheckoutService,
        id: &OrderId,
        text: &str,
    ) -> Result<checkout::Money, BackOfficeError> {
        let Some((record, _)) = service.order(id).await.map_err(store_failed)? else {
            return Err(reject(StatusCode::NOT_FOUND, "No such order."));
        };
        let currency = record.order.total().currency();
        checkout::Money::parse_decimal(text.trim(), currency).map_err(|_| {
            reject(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "{} is not an amount in {currency}, like 12.50.",
                    text.trim()
                ),
            )
        })
    }

    pub fn store_failed(error: checkout::StoreError) -> BackOfficeError {
        tracing::error!(error = %checkout::error_report(&error), "back office: store unavailable");
        reject(
            StatusCode::SERVICE_UNAVAILABLE,
            "The shop's store is unavailable; try again in a moment.",
        )
    }

    pub fn action_failed(failure: checkout::ActionFailure) -> BackOfficeError {
        use checkout::ActionFailure::*;
        let status = match &failure {
            UnknownOrder => StatusCode::NOT_FOUND,
            Refused(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Failed(_) | NotRecorded(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        if status.is_server_error() {
            tracing::error!(error = %checkout::error_report(&failure), "back office: action failed");
        }
        let mut message = failure.to_string();
        if let Some(first) = message.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        reject(status, format!("{message}."))
    }

    pub fn time(t: OffsetDateTime) -> String {
        let t = t.to_offset(time::UtcOffset::UTC);
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }

    pub fn status_text(status: OrderStatus) -> String {
        match status {
            OrderStatus::AwaitingPayment => "awaiting payment".into(),
            OrderStatus::PaymentPending => "payment pending".into(),
            OrderStatus::Paid => "paid".into(),
            OrderStatus::AwaitingCapture => "authorized, awaiting capture".into(),
            OrderStatus::PaymentFailed(s) => format!("payment {}", s.as_str()),
        }
    }

    pub fn row(
        record: &OrderRecord,
        status: OrderStatus,
        now: OffsetDateTime,
        warning: Duration,
    ) -> OrderRowView {
        OrderRowView {
            id: record.order.id().to_string(),
            created_at: time(record.order.created_at()),
            total: record.order.total().to_string(),
            status: status_text(status),
            attention: record
                .attention(now, warning)
                .iter()
                .map(|a| a.as_str().to_owned())
                .collect(),
            payments: record
                .attempts
                .iter()
                .filter_map(|a| a.provider_payment_id().as_ref().map(ToString::to_string))
                .collect(),
        }
    }

    /// The payments that took money and have some left to refund; the one
    /// with an incident preselected (a second payment before one paid
    /// after it was given up), else the first.
    fn refundable_payments(attempts: &[PaymentAttempt]) -> Vec<RefundablePaymentView> {
        let took_money: Vec<&PaymentAttempt> = attempts
            .iter()
            .filter(|a| a.has_taken_money() && !a.refundable().is_zero())
            .filter(|a| a.provider_payment_id().is_some())
            .collect();
        let incident_rank = |a: &PaymentAttempt| match a.incident().as_ref().map(|i| i.kind) {
            Some(checkout::IncidentKind::SecondPayment) => 2,
            Some(_) => 1,
            None => 0,
        };
        let preselected = took_money
            .iter()
            .enumerate()
            .max_by_key(|(index, a)| (incident_rank(a), std::cmp::Reverse(*index)))
            .map(|(index, _)| index);
        took_money
            .iter()
            .enumerate()
            .map(|(index, a)| RefundablePaymentView {
                provider_payment_id: a
                    .provider_payment_id()
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                refundable: a.refundable().to_string(),
                refundable_decimal: a.refundable().to_decimal_string(),
                preselected: Some(index) == preselected,
            })
            .collect()
    }

    fn attempt_view(attempt: &PaymentAttempt) -> AttemptView {
        AttemptView {
            id: attempt.id().to_string(),
            provider_payment_id: attempt
                .provider_payment_id()
                .as_ref()
                .map(ToString::to_string),
            amount: attempt.amount().to_string(),
            status: attempt.status().as_str().to_owned(),
            history: attempt
                .history()
                .iter()
                .map(|seen| format!("{} at {}", seen.status.as_str(), time(seen.at)))
                .collect(),
            refunds: attempt
                .refunds()
                .iter()
                .map(|r| RefundView {
                    id: r.id().to_string(),
                    provider_id: r.provider_refund_id().as_ref().map(ToString::to_string),
                    amount: r.amount().to_string(),
                    status: format!("{:?}", r.status()).to_lowercase(),
                    from_provider: r.from_provider(),
                    created_at: time(r.created_at()),
                })
                .collect(),
            chargebacks: attempt
                .chargebacks()
                .iter()
                .map(|c| ChargebackView {
                    id: c.id.to_string(),
                    amount: c.amount.to_string(),
                    reason: c.reason.clone(),
                    recorded_at: time(c.recorded_at),
                    reversed_at: c.reversed_at.map(time),
                })
                .collect(),
            captured: attempt.captured().map(|m| m.to_string()),
            capture_before: attempt.capture_before().map(time),
            incident: attempt
                .incident()
                .as_ref()
                .map(|i| format!("{} ({})", i.kind.as_str(), time(i.recorded_at))),
        }
    }

    fn audit_view(entry: &AuditEntry) -> AuditView {
        AuditView {
            at: time(entry.at),
            operator: entry.operator.clone(),
            action: entry.action.describe(),
            outcome: match &entry.outcome {
                AuditOutcome::Requested => "requested".into(),
                AuditOutcome::Done => "done".into(),
                AuditOutcome::Refused(why) => format!("refused: {why}"),
                AuditOutcome::Failed(why) => format!("failed: {why}"),
            },
        }
    }

    pub fn order_view(
        operator: String,
        record: &OrderRecord,
        status: OrderStatus,
        audit: &[AuditEntry],
        now: OffsetDateTime,
        warning: Duration,
    ) -> BackOfficeOrderView {
        // Unreadable amounts show as none, and as an attention reason.
        let ledger = Ledger::of_order(&record.attempts).ok().flatten();
        let nonzero = |m: checkout::Money| (!m.is_zero()).then(|| m.to_string());
        BackOfficeOrderView {
            operator,
            id: record.order.id().to_string(),
            created_at: time(record.order.created_at()),
            status: status_text(status),
            attention: record
                .attention(now, warning)
                .iter()
                .map(|a| a.as_str().to_owned())
                .collect(),
            lines: record
                .order
                .lines()
                .iter()
                .map(|l| BackOfficeLineView {
                    name: l.name.clone(),
                    sku: l.sku.clone(),
                    quantity: l.quantity,
                    unit_price: l.unit_price.to_string(),
                    line_total: l.line_total.to_string(),
                })
                .collect(),
            total: record.order.total().to_string(),
            paid: ledger.as_ref().map(|l| l.paid.to_string()),
            refunded: ledger.as_ref().and_then(|l| nonzero(l.refunded)),
            charged_back: ledger.as_ref().and_then(|l| nonzero(l.charged_back)),
            refundable: ledger
                .as_ref()
                .map(Ledger::remaining)
                .filter(|m| !m.is_zero())
                .map(|m| m.to_decimal_string()),
            refundable_payments: refundable_payments(&record.attempts),
            currency: record.order.total().currency().code().to_owned(),
            awaits_capture: record.attempts.iter().any(PaymentAttempt::awaits_capture),
            cancelable: record.attempts.iter().any(|a| {
                a.status() == checkout::PaymentStatus::Open && a.provider_payment_id().is_some()
            }),
            attempts: record.attempts.iter().map(attempt_view).collect(),
            audit: audit.iter().map(audit_view).collect(),
            refund_id: checkout::RefundId::generate().to_string(),
            capture_id: checkout::CaptureId::generate().to_string(),
        }
    }
}
