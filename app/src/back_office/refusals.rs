//! Server only: what a back-office server function refuses, with its HTTP
//! status: arguments that do not parse or are not confirmed, a store or an
//! action that failed.

use super::BackOfficeError;
use checkout::{CheckoutService, OrderFilter, OrderId};
use http::StatusCode;

/// A refusal: the message for the operator, and an HTTP status (a plain
/// form post is sent back to its page with the message instead).
pub(crate) fn reject(status: StatusCode, message: impl Into<String>) -> BackOfficeError {
    crate::api::refusals::refusal_status(status);
    BackOfficeError::Refused(message.into())
}

pub(crate) fn service() -> Result<std::sync::Arc<CheckoutService>, BackOfficeError> {
    crate::api::refusals::service().map_err(|e| BackOfficeError::Refused(e.to_string()))
}

pub(crate) fn order_id(text: &str) -> Result<OrderId, BackOfficeError> {
    OrderId::parse(text).ok_or_else(|| reject(StatusCode::NOT_FOUND, "No such order."))
}

/// The list's filter by its code (`paid`, ...); all when empty.
pub(crate) fn filter(code: Option<&str>) -> Result<OrderFilter, BackOfficeError> {
    match code.filter(|s| !s.is_empty()) {
        Some(code) => OrderFilter::parse(code)
            .ok_or_else(|| reject(StatusCode::BAD_REQUEST, "There is no such filter.")),
        None => Ok(OrderFilter::All),
    }
}

/// The list's page after a previous page's link token; the first when
/// empty.
pub(crate) fn cursor(
    token: Option<&str>,
) -> Result<Option<checkout::OrderCursor>, BackOfficeError> {
    match token.filter(|a| !a.is_empty()) {
        Some(token) => checkout::OrderCursor::parse(token)
            .map(Some)
            .ok_or_else(|| reject(StatusCode::BAD_REQUEST, "That page link is not valid.")),
        None => Ok(None),
    }
}

pub(crate) fn confirmed(confirm: Option<&str>) -> Result<(), BackOfficeError> {
    if confirm.is_some_and(|c| !c.is_empty()) {
        Ok(())
    } else {
        Err(reject(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Tick the box to confirm.",
        ))
    }
}

/// A page's fresh id (of a refund, a capture), or the page is out of date.
pub(crate) fn page_id<T>(parsed: Option<T>) -> Result<T, BackOfficeError> {
    parsed.ok_or_else(|| {
        reject(
            StatusCode::BAD_REQUEST,
            "This page is out of date; please reload it.",
        )
    })
}

/// `text` as an amount in the order's currency ("12.50").
pub(crate) async fn amount_of(
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

pub(crate) fn store_failed(error: checkout::StoreError) -> BackOfficeError {
    tracing::error!(error = %checkout::error_report(&error), "back office: store unavailable");
    reject(
        StatusCode::SERVICE_UNAVAILABLE,
        "The shop's store is unavailable; try again in a moment.",
    )
}

pub(crate) fn action_failed(failure: checkout::ActionError) -> BackOfficeError {
    let status = if failure == checkout::ActionError::UnknownOrder {
        StatusCode::NOT_FOUND
    } else if failure.is_refusal() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::SERVICE_UNAVAILABLE
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
