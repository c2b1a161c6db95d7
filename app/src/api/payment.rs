//! Starting a payment: the cart's checkout, and "try again" on an order
//! whose payment did not go through. Both send the browser to the
//! provider's checkout page.

use super::ShopError;
#[cfg(feature = "ssr")]
use super::{cart_server, refusals};
use leptos::prelude::*;

/// Checkout: creates the order and the payment, then sends the browser to
/// the provider's checkout page. The same `checkout_key` always yields the
/// same order. `email`: where the order's messages go (required).
/// `method`: the payment method picked in the cart (empty or absent: the
/// shopper picks on the provider's page).
#[server(endpoint = "checkout")]
pub async fn checkout_cart(
    checkout_key: String,
    email: Option<String>,
    method: Option<String>,
) -> Result<(), ShopError> {
    let key = checkout::CheckoutKey::parse(&checkout_key).ok_or_else(|| {
        refusals::reject(
            http::StatusCode::BAD_REQUEST,
            "This page is out of date; please reload it.",
        )
    })?;
    let email = checkout::EmailAddress::parse(email.as_deref().unwrap_or_default())
        .map_err(refusals::email_refused)?;
    let cart = cart_server::cart_from_cookie().await;
    let choices = checkout::PaymentChoices {
        locale: cart_server::shopper_locale().await,
        method: method.filter(|m| !m.is_empty()),
    };
    let started = refusals::service()?
        .checkout_in(cart.lines(), &email, &key, &choices)
        .await
        .map_err(refusals::checkout_failed)?;
    // The order has the cart now; the shopper starts afresh.
    cart_server::save_cart(&checkout::Cart::default());
    leptos_axum::redirect(&started.redirect_url);
    Ok(())
}

/// "Try again" on a failed, canceled or expired payment: a new attempt on
/// the same order (or the open one, if a payment is already under way).
#[server(endpoint = "pay_again")]
pub async fn pay_again(order_id: String) -> Result<(), ShopError> {
    let id = checkout::OrderId::parse(&order_id).ok_or_else(|| {
        refusals::reject(http::StatusCode::NOT_FOUND, "We could not find that order.")
    })?;
    let locale = cart_server::shopper_locale().await;
    let started = refusals::service()?
        .pay_again_in(&id, locale)
        .await
        .map_err(refusals::checkout_failed)?;
    leptos_axum::redirect(&started.redirect_url);
    Ok(())
}
