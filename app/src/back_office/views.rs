//! What the back office's pages get from its server functions: plain
//! data, formatted on the server.

use serde::{Deserialize, Serialize};

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
    /// How the shopper paid, as the provider names it.
    pub method: Option<String>,
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

/// How far an event went out on one channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryView {
    /// `shopper_mail`, `owner_mail`, `webhook`...
    pub channel: String,
    /// "sent 2026-12-03 10:00 UTC", "failed 3×, next try ...", ...
    pub state: String,
    /// Something went, or should have gone, out: it can be sent again.
    pub resendable: bool,
}

/// An event of the order and how far it went out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    pub event_id: String,
    /// `order.paid`, ...
    pub event_type: String,
    pub occurred_at: String,
    pub deliveries: Vec<DeliveryView>,
    /// The message to the shopper it calls for: subject and HTML.
    pub subject: Option<String>,
    pub html: Option<String>,
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
    /// Where the order's messages go; `None` once erased.
    pub shopper_email: Option<String>,
    /// The shopper's withdrawal: "received ... from ...; refund by ...".
    pub withdrawal: Option<String>,
    pub messages: Vec<MessageView>,
    /// Fresh for this page view: submitting its form twice is one refund
    /// (or capture).
    pub refund_id: String,
    pub capture_id: String,
}

/// The stock page: every article of the catalog and the log of settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockView {
    pub operator: String,
    pub articles: Vec<StockRowView>,
    /// "2026-12-03 10:00:00 UTC ann set Risograph print from 25 to 3",
    /// newest first.
    pub log: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockRowView {
    pub id: String,
    pub name: String,
    /// `None`: not tracked (sells without limit).
    pub available: Option<u32>,
}
