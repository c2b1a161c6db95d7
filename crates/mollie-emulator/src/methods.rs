//! Payment methods: `GET /v2/methods` lists the methods that can take an
//! amount (by currency and each method's minimum and maximum), and a
//! create that names a method is checked against the same limits (422
//! naming `method`). Each method's image is served by the emulator.

use crate::api::{authenticated, hal_list, invalid, ApiError, WireAmount};
use crate::state::EmulatorState;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// A method of the emulated account, with Mollie's limits (in the minor
/// units of any of its currencies; Mollie converts, the emulator does not).
struct Method {
    id: &'static str,
    description: &'static str,
    currencies: &'static [&'static str],
    minimum: i64,
    maximum: Option<i64>,
}

const METHODS: [Method; 6] = [
    Method {
        id: "ideal",
        description: "iDEAL",
        currencies: &["EUR"],
        minimum: 1,
        maximum: Some(5_000_000),
    },
    Method {
        id: "creditcard",
        description: "Card",
        currencies: &["EUR", "USD", "GBP", "CHF", "SEK", "NOK", "DKK", "PLN"],
        minimum: 1,
        maximum: Some(1_000_000),
    },
    Method {
        id: "bancontact",
        description: "Bancontact",
        currencies: &["EUR"],
        minimum: 2,
        maximum: Some(5_000_000),
    },
    Method {
        id: "paypal",
        description: "PayPal",
        currencies: &["EUR", "USD", "GBP", "CHF"],
        minimum: 1,
        maximum: Some(800_000),
    },
    Method {
        id: "banktransfer",
        description: "Bank transfer",
        currencies: &["EUR"],
        minimum: 1,
        maximum: None,
    },
    Method {
        id: "klarna",
        description: "Pay later with Klarna",
        currencies: &["EUR"],
        minimum: 3_500,
        maximum: Some(500_000),
    },
];

impl Method {
    fn takes(&self, amount: &WireAmount) -> bool {
        self.currencies.contains(&amount.currency.as_str())
            && amount.minor >= self.minimum
            && self.maximum.is_none_or(|max| amount.minor <= max)
    }

    fn resource(&self, base: &str, currency: &str, decimals: usize) -> Value {
        let money = |minor: i64| {
            WireAmount {
                currency: currency.to_owned(),
                decimals,
                minor,
            }
            .json()
        };
        let image = format!("{base}/images/methods/{}.svg", self.id);
        json!({
            "resource": "method",
            "id": self.id,
            "description": self.description,
            "minimumAmount": money(self.minimum),
            "maximumAmount": self.maximum.map(money),
            "image": { "size1x": image, "size2x": image, "svg": image },
            "status": "activated",
            "_links": {
                "self": { "href": format!("{base}/v2/methods/{}", self.id), "type": "application/hal+json" },
                "documentation": { "href": "https://docs.mollie.com/reference/get-method", "type": "text/html" },
            },
        })
    }
}

/// `GET /v2/methods?amount[value]=..&amount[currency]=..&locale=..`: the
/// methods that can take the amount (without one: the EUR methods).
pub(crate) async fn list_methods(
    State(state): State<Arc<EmulatorState>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    authenticated(&state, &headers, || {
        let amount = match amount_of(&query) {
            Ok(amount) => amount,
            Err(error) => return error.into_response(),
        };
        if let Some(locale) = query.get("locale") {
            let mut body = Map::new();
            body.insert("locale".into(), json!(locale));
            if let Err(error) = crate::api::parse_locale(&body) {
                return error.into_response();
            }
        }
        let base = &state.config.public_base_url;
        let (currency, decimals) = amount
            .as_ref()
            .map_or(("EUR", 2), |a| (a.currency.as_str(), a.decimals));
        let methods = METHODS
            .iter()
            .filter(|m| match &amount {
                Some(amount) => m.takes(amount),
                None => m.currencies.contains(&"EUR"),
            })
            .map(|m| m.resource(base, currency, decimals))
            .collect();
        hal_list("methods", format!("{base}/v2/methods"), methods)
    })
    .await
}

/// The ids and names of the methods that can take `amount` (a payment's
/// wire amount), for the hosted page's choice.
pub(crate) fn methods_taking(amount: &Value) -> Vec<(&'static str, &'static str)> {
    let Some(amount) = amount.as_object().and_then(|a| WireAmount::parse(a).ok()) else {
        return Vec::new();
    };
    METHODS
        .iter()
        .filter(|m| m.takes(&amount))
        .map(|m| (m.id, m.description))
        .collect()
}

fn amount_of(query: &HashMap<String, String>) -> Result<Option<WireAmount>, ApiError> {
    match (query.get("amount[value]"), query.get("amount[currency]")) {
        (None, None) => Ok(None),
        (value, currency) => {
            let mut amount = Map::new();
            amount.insert("value".into(), json!(value.cloned().unwrap_or_default()));
            amount.insert(
                "currency".into(),
                json!(currency.cloned().unwrap_or_default()),
            );
            WireAmount::parse(&amount).map(Some)
        }
    }
}

/// A create's `method`, when given: one of the account's that can take
/// `amount`, else 422 naming `method`.
pub(crate) fn parse_method(
    body: &Map<String, Value>,
    amount: &WireAmount,
) -> Result<Option<String>, ApiError> {
    let id = match body.get("method") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(id)) => id,
        Some(_) => return Err(invalid("The method is invalid", "method")),
    };
    let Some(method) = METHODS.iter().find(|m| m.id == id) else {
        return Err(invalid("The method is invalid", "method"));
    };
    if !method.takes(amount) {
        return Err(invalid(
            "The amount is not allowed for this payment method",
            "method",
        ));
    }
    Ok(Some(method.id.to_owned()))
}

/// The method's image: a label on a card, enough to tell methods apart.
pub(crate) async fn image(Path(file): Path<String>) -> Response {
    let Some(method) = file
        .strip_suffix(".svg")
        .and_then(|id| METHODS.iter().find(|m| m.id == id))
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="64" height="40" viewBox="0 0 64 40"><rect x="0.5" y="0.5" width="63" height="39" rx="6" fill="#fff" stroke="#8a94a3"/><text x="32" y="25" font-family="sans-serif" font-size="11" text-anchor="middle" fill="#1d232b">{}</text></svg>"##,
        method
            .description
            .split_whitespace()
            .next()
            .unwrap_or(method.id)
    );
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        svg,
    )
        .into_response()
}
