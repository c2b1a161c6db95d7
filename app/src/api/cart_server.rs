//! Server only: the cart in its cookie, its changes, and its pricing with
//! the ways to pay it; the shopper's language from the request.

use super::refusals::{cart_refused, reject, service};
use super::{CartLineView, CartPanel, CartView, ShopError};
use checkout::{Cart, CheckoutService};
use http::header::{HeaderValue, COOKIE, SET_COOKIE};
use leptos::prelude::*;

const CART_COOKIE: &str = "cart";

/// Applies a change to the cart in the cookie, saves it, and answers
/// with the priced cart; a refused change (422) saves nothing.
pub(crate) async fn change_cart(
    change: impl FnOnce(&mut Cart, &checkout::Catalog) -> Result<(), checkout::CatalogError>,
) -> Result<CartPanel, ShopError> {
    let service = service()?;
    let mut cart = cart_from_cookie().await;
    change(&mut cart, service.catalog())
        .map_err(|e| reject(http::StatusCode::UNPROCESSABLE_ENTITY, cart_refused(&e)))?;
    save_cart(&cart);
    Ok(crate::storefront::cart_panel(
        &cart_view(&service, &mut cart).await,
    ))
}

pub(crate) async fn cart_from_cookie() -> Cart {
    let headers: http::HeaderMap = leptos_axum::extract().await.unwrap_or_default();
    let value = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == CART_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    Cart::from_cookie(&value)
}

pub(crate) fn save_cart(cart: &Cart) {
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let secure = use_context::<crate::security::CookiePolicy>().is_some_and(|p| p.secure);
    // Only the server reads it (HttpOnly); a month, like most shops.
    let max_age = if cart.is_empty() {
        time::Duration::ZERO
    } else {
        time::Duration::days(30)
    };
    let cookie = cookie::Cookie::build((CART_COOKIE, cart.to_cookie()))
        .path("/")
        .max_age(max_age)
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .secure(secure)
        .build();
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.append_header(SET_COOKIE, value);
    }
}

/// The "Pay with" radios for the checkout form, escaped.
fn methods_html(methods: &[checkout::PaymentMethod]) -> String {
    if methods.is_empty() {
        return String::new();
    }
    let escape = |text: &str| {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let choices: String = methods
        .iter()
        .map(|m| {
            format!(
                r#"<label class="method" data-method="{id}"><input type="radio" name="method" value="{id}"><img src="{image}" alt="" width="32" height="20">{name}</label>"#,
                id = escape(&m.id),
                image = escape(&m.image),
                name = escape(&m.name),
            )
        })
        .collect();
    format!(
        r#"<fieldset class="methods"><legend>Pay with</legend>{choices}<label class="method"><input type="radio" name="method" value="" checked>Choose on the next page</label></fieldset>"#
    )
}

pub(crate) async fn cart_view(service: &CheckoutService, cart: &mut Cart) -> CartView {
    let catalog = service.catalog();
    let priced = cart.remove_unsold_and_price(catalog);
    let methods = match priced.total {
        Some(total) => match service.payment_methods(total, shopper_locale().await).await {
            Ok(methods) => methods,
            Err(error) => {
                tracing::warn!(error = %checkout::error_report(&error), "payment methods unavailable");
                Vec::new()
            }
        },
        None => Vec::new(),
    };
    CartView {
        methods_html: methods_html(&methods),
        lines: priced
            .lines
            .iter()
            .map(|l| CartLineView {
                article_id: l.article_id.to_string(),
                name: l.name.clone(),
                quantity: l.quantity,
                unit_price: l.unit_price.to_string(),
                line_total: l.line_total.to_string(),
            })
            .collect(),
        total: priced.total.map(|t| t.to_string()),
        removed: priced.unavailable,
    }
}

/// The checkout page's language: the shopper's browser's most preferred
/// one that Mollie supports.
pub(crate) async fn shopper_locale() -> Option<checkout::Locale> {
    let headers: http::HeaderMap = leptos_axum::extract().await.unwrap_or_default();
    let accepted = headers.get(http::header::ACCEPT_LANGUAGE)?.to_str().ok()?;
    checkout::Locale::from_accept_language(accepted)
}
