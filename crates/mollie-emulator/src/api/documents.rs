//! Mollie's response documents: HAL JSON, lists, a payment item's links,
//! and the error document.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

const HAL_JSON: &str = "application/hal+json";

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

/// Mollie's `detail`: what the API would say of the request.
impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    /// The status the API answers it with.
    pub fn status(&self) -> StatusCode {
        self.status
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

pub(crate) fn invalid(detail: &str, field: &str) -> ApiError {
    ApiError {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        detail: detail.to_owned(),
        field: Some(field.to_owned()),
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
