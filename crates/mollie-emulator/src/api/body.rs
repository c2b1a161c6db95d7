//! Checks of request bodies as Mollie makes them: amounts, unknown
//! parameters, and the body of a refund or a capture.

use super::documents::{invalid, ApiError};
use serde_json::{json, Map, Value};

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
pub(super) fn known_parameters(
    body: &Map<String, Value>,
    allowed: &[&str],
) -> Result<(), ApiError> {
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
