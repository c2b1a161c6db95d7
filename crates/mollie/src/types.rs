//! Mollie's wire shapes (docs.mollie.com, the OpenAPI `entity-payment-response`).

use crate::ids::PaymentId;
use crate::method::Method;
use checkout::{Currency, Money, MoneyError};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// `{ "currency": "EUR", "value": "10.00" }`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amount {
    pub currency: String,
    pub value: String,
}

impl Amount {
    pub fn from_money(money: Money) -> Self {
        Self {
            currency: money.currency().code().to_owned(),
            value: money.to_decimal_string(),
        }
    }

    /// # Errors
    ///
    /// [`MoneyError`] for a currency we do not take or a malformed value.
    pub fn to_money(&self) -> Result<Money, MoneyError> {
        let currency = Currency::from_code(&self.currency)
            .ok_or_else(|| MoneyError::Malformed(self.currency.clone()))?;
        Money::parse_decimal(&self.value, currency)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePayment {
    pub amount: Amount,
    pub description: String,
    pub redirect_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<Method>,
    /// `manual`: paying only authorizes; the shop captures later.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capture_mode: Option<CaptureMode>,
    /// What is paid for; their `totalAmount`s add up to `amount`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<Line>,
}

/// A payment line (Mollie requires them for pay-later methods).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    /// `physical`, `digital`, `shipping_fee`, `discount`, ...
    #[serde(rename = "type")]
    pub kind: String,
    pub description: String,
    pub quantity: u32,
    pub unit_price: Amount,
    /// `unitPrice` × `quantity`, VAT included.
    pub total_amount: Amount,
    /// Percent, `"21.00"`.
    pub vat_rate: String,
    /// The VAT in `totalAmount`.
    pub vat_amount: Amount,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaptureMode {
    Automatic,
    Manual,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentStatus {
    Open,
    Pending,
    Authorized,
    Paid,
    Canceled,
    Expired,
    Failed,
    /// A status added to the API after this code was written.
    #[serde(other)]
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub href: String,
    #[serde(rename = "type", default)]
    pub media_type: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentLinks {
    #[serde(rename = "self")]
    pub self_link: Option<Link>,
    pub checkout: Option<Link>,
    pub dashboard: Option<Link>,
    pub documentation: Option<Link>,
}

/// The payment resource. Fields Mollie may omit are options.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub resource: String,
    pub id: PaymentId,
    pub mode: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub amount: Amount,
    pub description: String,
    #[serde(default)]
    pub method: Option<Method>,
    #[serde(default)]
    pub metadata: Option<serde_json::Value>,
    pub status: PaymentStatus,
    #[serde(default)]
    pub is_cancelable: Option<bool>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub paid_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub canceled_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expired_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub failed_at: Option<OffsetDateTime>,
    #[serde(default)]
    pub redirect_url: Option<String>,
    #[serde(default)]
    pub webhook_url: Option<String>,
    #[serde(default)]
    pub profile_id: Option<String>,
    #[serde(default)]
    pub sequence_type: Option<String>,
    /// Of a paid payment: refunded so far (refunds that did not fail and
    /// were not canceled) and what remains refundable.
    #[serde(default)]
    pub amount_refunded: Option<Amount>,
    #[serde(default)]
    pub amount_remaining: Option<Amount>,
    /// Once a chargeback was received.
    #[serde(default)]
    pub amount_charged_back: Option<Amount>,
    #[serde(default)]
    pub capture_mode: Option<CaptureMode>,
    #[serde(default)]
    pub lines: Vec<Line>,
    /// The checkout page's language, when the shop chose one.
    #[serde(default)]
    pub locale: Option<String>,
    /// Of a manual-capture payment: captured so far.
    #[serde(default)]
    pub amount_captured: Option<Amount>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub authorized_at: Option<OffsetDateTime>,
    /// Until when an authorization can be captured.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub capture_before: Option<OffsetDateTime>,
    #[serde(rename = "_links", default)]
    pub links: PaymentLinks,
    /// With `?embed=refunds,chargebacks`.
    #[serde(rename = "_embedded", default)]
    pub embedded: Option<PaymentEmbedded>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct PaymentEmbedded {
    #[serde(default)]
    pub refunds: Vec<Refund>,
    #[serde(default)]
    pub chargebacks: Vec<Chargeback>,
    #[serde(default)]
    pub captures: Vec<Capture>,
    /// Of the methods list.
    #[serde(default)]
    pub methods: Vec<PaymentMethod>,
}

/// A payment method of the account (`GET /v2/methods`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentMethod {
    /// What a create's `method` takes.
    pub id: Method,
    /// Its name, in the locale asked for.
    pub description: String,
    #[serde(default)]
    pub minimum_amount: Option<Amount>,
    #[serde(default)]
    pub maximum_amount: Option<Amount>,
    pub image: MethodImage,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct MethodImage {
    pub size1x: String,
    pub size2x: String,
    pub svg: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CreateCapture {
    /// All that is authorized and not captured yet when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Amount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaptureStatus {
    Pending,
    Succeeded,
    Failed,
    /// A status added to the API after this code was written.
    #[serde(other)]
    Unknown,
}

/// The capture resource.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Capture {
    pub id: String,
    pub amount: Amount,
    pub status: CaptureStatus,
    /// Read as text: an odd one must not make the whole payment, which
    /// embeds it, unreadable (its own id is what counts).
    pub payment_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A chargeback's reason, as the bank gave it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ChargebackReason {
    pub code: String,
    pub description: String,
}

/// The chargeback resource (read-only: a bank makes them).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Chargeback {
    pub id: String,
    pub amount: Amount,
    /// Read as text: an odd one must not make the whole payment, which
    /// embeds it, unreadable (its own id is what counts).
    pub payment_id: String,
    #[serde(default)]
    pub reason: Option<ChargebackReason>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When the bank reversed it.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub reversed_at: Option<OffsetDateTime>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CreateRefund {
    pub amount: Amount,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RefundStatus {
    Queued,
    Pending,
    Processing,
    Refunded,
    Failed,
    Canceled,
    /// A status added to the API after this code was written.
    #[serde(other)]
    Unknown,
}

/// The refund resource.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refund {
    pub id: String,
    pub amount: Amount,
    pub status: RefundStatus,
    /// Read as text: an odd one must not make the whole payment, which
    /// embeds it, unreadable (its own id is what counts).
    pub payment_id: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub metadata: Option<serde_json::Value>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A list answer: `{count, _embedded: {refunds: [...]}}` (or
/// `chargebacks`).
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ListAnswer {
    #[serde(rename = "_embedded", default)]
    pub embedded: PaymentEmbedded,
}

impl Payment {
    pub fn checkout_url(&self) -> Option<&str> {
        self.links.checkout.as_ref().map(|l| l.href.as_str())
    }
}

/// Mollie's error document.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ErrorDocument {
    pub status: u16,
    pub title: String,
    pub detail: String,
    #[serde(default)]
    pub field: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_use_the_currency_decimals_on_the_wire() {
        let eur = Amount::from_money(Money::new(1095, Currency::EUR));
        assert_eq!(
            (eur.currency.as_str(), eur.value.as_str()),
            ("EUR", "10.95")
        );
        let jpy = Amount::from_money(Money::new(1500, Currency::JPY));
        assert_eq!(jpy.value, "1500");
        assert_eq!(eur.to_money().unwrap(), Money::new(1095, Currency::EUR));
        assert!(Amount {
            currency: "XYZ".into(),
            value: "1.00".into()
        }
        .to_money()
        .is_err());
    }

    #[test]
    fn unknown_statuses_do_not_fail_deserialization() {
        let status: PaymentStatus = serde_json::from_str("\"settled-someday\"").unwrap();
        assert_eq!(status, PaymentStatus::Unknown);
    }
}
