//! An order as its shopper sees it on the thank-you page: its views, its
//! status, and the server function that reads them.

#[cfg(feature = "ssr")]
use super::refusals;
use super::ShopError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLineView {
    pub name: String,
    pub quantity: u32,
    pub line_total: String,
}

/// What the thank-you page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderView {
    pub id: String,
    pub lines: Vec<OrderLineView>,
    pub total: String,
    pub status: ShopperStatus,
    /// What happened to the money after it was paid, in plain words
    /// ("Refunded €12.00 of €29.50."), if anything did.
    #[serde(default)]
    pub money_note: Option<String>,
}

/// What the thank-you page's island receives: the status, and the order's
/// panel already rendered on the server. The browser only swaps the HTML in,
/// so the wasm bundle carries neither the panel's views nor [`OrderView`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderPanel {
    pub status: ShopperStatus,
    pub html: String,
    /// The status in words, for screen readers when it changes: the panel's
    /// HTML is replaced whole, and a live region inside it would be new
    /// each time, so never announced.
    pub announcement: String,
}

/// An order's status as the shopper sees it: one type on the server and in
/// the browser (the islands), sent as its [`code`](Self::code).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShopperStatus {
    AwaitingPayment,
    PaymentPending,
    Paid,
    /// The money is reserved; it is taken when the order ships.
    Authorized,
    Failed,
    Canceled,
    Expired,
}

impl ShopperStatus {
    /// As pages and tests show it: `awaiting_payment`, `paid`, ...
    pub fn code(self) -> &'static str {
        match self {
            Self::AwaitingPayment => "awaiting_payment",
            Self::PaymentPending => "payment_pending",
            Self::Paid => "paid",
            Self::Authorized => "authorized",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
            Self::Expired => "expired",
        }
    }

    /// Nothing more happens without the shopper: stop polling.
    pub fn is_final(self) -> bool {
        !matches!(self, Self::AwaitingPayment | Self::PaymentPending)
    }

    /// No money was taken and the order can be paid again.
    pub fn can_pay_again(self) -> bool {
        matches!(self, Self::Failed | Self::Canceled | Self::Expired)
    }
}

/// The order and its payment status; `None` for an unknown or malformed id.
#[server(endpoint = "order_status")]
pub async fn order_status(order_id: String) -> Result<Option<OrderPanel>, ShopError> {
    let Some(id) = checkout::OrderId::parse(&order_id) else {
        refusals::set_status(http::StatusCode::NOT_FOUND);
        return Ok(None);
    };
    let service = refusals::service()?;
    // Refreshes from the provider a payment open for too long: a lost
    // webhook must not leave the shopper waiting.
    let found = service.order_refreshed(&id).await.map_err(|e| {
        tracing::error!(error = %checkout::error_report(&e), "could not read an order");
        refusals::reject(
            http::StatusCode::SERVICE_UNAVAILABLE,
            "We cannot show your order right now; please try again in a moment.",
        )
    })?;
    if found.is_none() {
        refusals::set_status(http::StatusCode::NOT_FOUND);
    }
    Ok(found
        .map(|(record, status)| ssr::order_view(&record, status))
        .map(|view| crate::thank_you::order_panel(&view)))
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::{OrderLineView, OrderView, ShopperStatus};
    use checkout::{OrderRecord, OrderStatus, PaymentStatus};

    pub(super) fn order_view(record: &OrderRecord, status: OrderStatus) -> OrderView {
        OrderView {
            id: record.order.id().to_string(),
            lines: record
                .order
                .lines()
                .iter()
                .map(|l| OrderLineView {
                    name: l.name.clone(),
                    quantity: l.quantity,
                    line_total: l.line_total.to_string(),
                })
                .collect(),
            total: record.order.total().to_string(),
            money_note: money_note(record),
            status: shopper_status(status),
        }
    }

    fn shopper_status(status: OrderStatus) -> ShopperStatus {
        match status {
            OrderStatus::AwaitingPayment => ShopperStatus::AwaitingPayment,
            OrderStatus::PaymentPending => ShopperStatus::PaymentPending,
            OrderStatus::Paid => ShopperStatus::Paid,
            OrderStatus::AwaitingCapture => ShopperStatus::Authorized,
            OrderStatus::PaymentFailed(PaymentStatus::Canceled) => ShopperStatus::Canceled,
            OrderStatus::PaymentFailed(PaymentStatus::Expired) => ShopperStatus::Expired,
            OrderStatus::PaymentFailed(_) => ShopperStatus::Failed,
        }
    }

    /// What happened to the money after it was paid, for the shopper:
    /// refunds (also those on their way back) and chargebacks.
    fn money_note(record: &OrderRecord) -> Option<String> {
        use checkout::MoneyStatus;
        // A record whose amounts cannot be added up gets no note here; the
        // back office flags it (Attention::MoneyUnreadable).
        let ledger = checkout::Ledger::of_order(&record.attempts)
            .ok()
            .flatten()?;
        let refunded = format!("Refunded {} of {}.", ledger.refunded, ledger.paid);
        match ledger.status() {
            MoneyStatus::Paid => None,
            MoneyStatus::PartiallyRefunded | MoneyStatus::Refunded => Some(refunded),
            MoneyStatus::ChargedBack if !ledger.refunded.is_zero() => {
                Some(format!("{refunded} Payment reversed by your bank."))
            }
            MoneyStatus::ChargedBack => Some("Payment reversed by your bank.".into()),
        }
    }
}
