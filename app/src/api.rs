//! Server functions and the views they return. The views are plain data,
//! formatted on the server, so the browser bundle needs none of the domain.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleView {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Formatted for shoppers, e.g. "€14.50".
    pub price: String,
    pub image: String,
    /// Generated for this page view: every submission of this article's
    /// form with it yields the same order.
    pub checkout_key: String,
}

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
    /// One of `awaiting_payment`, `payment_pending`, `paid`, `failed`,
    /// `canceled`, `expired`.
    pub status: String,
    /// Nothing more happens without the shopper: stop polling.
    pub is_final: bool,
}

#[server(endpoint = "articles")]
pub async fn list_articles() -> Result<Vec<ArticleView>, ServerFnError> {
    let service = ssr::service()?;
    Ok(service
        .catalog()
        .articles()
        .iter()
        .map(|a| ArticleView {
            id: a.id.0.clone(),
            name: a.name.clone(),
            description: a.description.clone(),
            price: a.price.to_string(),
            image: a.image.clone(),
            checkout_key: checkout::CheckoutKey::generate().0,
        })
        .collect())
}

/// Buy: creates the order and the payment, then sends the browser to the
/// provider's checkout page. Also works as a plain HTML form post. The same
/// `checkout_key` always yields the same order.
#[server(endpoint = "buy")]
pub async fn buy(
    article_id: String,
    quantity: i64,
    checkout_key: String,
) -> Result<(), ServerFnError> {
    let key = checkout::CheckoutKey::parse(&checkout_key)
        .ok_or_else(|| ServerFnError::new("This page is out of date; please reload it."))?;
    let cart = [checkout::CartLine {
        article_id,
        quantity,
    }];
    let started = ssr::service()?
        .checkout(&cart, &key)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    leptos_axum::redirect(&started.redirect_url);
    Ok(())
}

/// "Try again" on a failed, canceled or expired payment: a new attempt on
/// the same order (or the open one, if a payment is already under way).
#[server(endpoint = "pay_again")]
pub async fn pay_again(order_id: String) -> Result<(), ServerFnError> {
    let id = checkout::OrderId::parse(&order_id)
        .ok_or_else(|| ServerFnError::new("We could not find that order."))?;
    let started = ssr::service()?
        .pay_again(&id)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    leptos_axum::redirect(&started.redirect_url);
    Ok(())
}

/// The order and its payment status; `None` for an unknown or malformed id.
#[server(endpoint = "order_status")]
pub async fn order_status(order_id: String) -> Result<Option<OrderView>, ServerFnError> {
    use checkout::{OrderId, OrderStatus, PaymentStatus};
    let Some(id) = OrderId::parse(&order_id) else {
        return Ok(None);
    };
    let service = ssr::service()?;
    // Refreshes from the provider a payment open for too long: a lost
    // webhook must not leave the shopper waiting.
    let found = service.order_refreshed(&id).await.map_err(|e| {
        tracing::error!(error = %e, "could not read an order");
        ServerFnError::new("We cannot show your order right now; please try again in a moment.")
    })?;
    Ok(found.map(|(record, status)| OrderView {
        id: record.order.id.0.clone(),
        lines: record
            .order
            .lines
            .iter()
            .map(|l| OrderLineView {
                name: l.name.clone(),
                quantity: l.quantity,
                line_total: l.line_total.to_string(),
            })
            .collect(),
        total: record.order.total.to_string(),
        status: match status {
            OrderStatus::AwaitingPayment => "awaiting_payment",
            OrderStatus::PaymentPending => "payment_pending",
            OrderStatus::Paid => "paid",
            OrderStatus::PaymentFailed(PaymentStatus::Canceled) => "canceled",
            OrderStatus::PaymentFailed(PaymentStatus::Expired) => "expired",
            OrderStatus::PaymentFailed(_) => "failed",
        }
        .to_owned(),
        is_final: status.is_final(),
    }))
}

#[cfg(feature = "ssr")]
mod ssr {
    use checkout::CheckoutService;
    use leptos::prelude::*;
    use std::sync::Arc;

    pub fn service() -> Result<Arc<CheckoutService>, ServerFnError> {
        use_context::<Arc<CheckoutService>>()
            .ok_or_else(|| ServerFnError::new("the checkout service is not configured"))
    }
}
