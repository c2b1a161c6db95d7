//! Server only: the checkout service of a server function's context, and
//! its refusals in the shopper's words with an HTTP status.

use super::ShopError;
use checkout::CheckoutService;
use leptos::prelude::*;
use std::sync::Arc;

pub(crate) fn service() -> Result<Arc<CheckoutService>, ShopError> {
    use_context::<Arc<CheckoutService>>().ok_or_else(|| {
        tracing::error!("the checkout service is not in the server functions' context");
        ShopError::Refused("The shop is not available right now.".into())
    })
}

/// A refusal: the message for shoppers, and an HTTP status for scripts
/// and API clients.
pub(crate) fn reject(status: http::StatusCode, message: impl Into<String>) -> ShopError {
    refusal_status(status);
    ShopError::Refused(message.into())
}

/// A refusal's status, except for a plain form post, which leptos_axum
/// sends back to its page with the error (a redirect) instead.
pub(crate) fn refusal_status(status: http::StatusCode) {
    let plain_form_post = use_context::<http::request::Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    });
    if !plain_form_post {
        set_status(status);
    }
}

pub(crate) fn set_status(status: http::StatusCode) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
}

/// A checkout or "pay again" that did not start a payment: logged here,
/// once, with its causes when it is our fault or the provider's; the
/// shopper gets plain words and a status.
/// An e-mail address the checkout cannot take (nothing was stored).
pub(crate) fn email_refused(error: checkout::EmailAddressError) -> ShopError {
    use checkout::EmailAddressError::*;
    let message = match error {
        Empty => "Please enter your e-mail address: we send your order confirmation there.",
        TooLong => "That e-mail address is too long.",
        Malformed => "Please check your e-mail address: it should look like name@example.com.",
    };
    reject(http::StatusCode::UNPROCESSABLE_ENTITY, message)
}

pub(crate) fn checkout_failed(error: checkout::CheckoutError) -> ShopError {
    use checkout::CheckoutError::*;
    use http::StatusCode;
    let (status, message) = match &error {
        InvalidCart(e) => (StatusCode::UNPROCESSABLE_ENTITY, cart_refused(e)),
        KeyReusedWithAnotherCart => (
            StatusCode::CONFLICT,
            "This checkout was already submitted with another cart; please reload the page.".into(),
        ),
        KeyReusedWithAnotherAddress => (
            StatusCode::CONFLICT,
            "This checkout was already submitted with another e-mail address; please reload the page to order with this one.".into(),
        ),
        UnknownOrder => (
            StatusCode::NOT_FOUND,
            "We could not find that order.".into(),
        ),
        MethodNotOffered => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "That payment method cannot pay this order; please choose another.".into(),
        ),
        TooManyAttempts => (
            StatusCode::CONFLICT,
            "This order has had too many payment attempts; please order again from the shop."
                .into(),
        ),
        NotEnoughStock(short) => (
            StatusCode::CONFLICT,
            match short.available {
                0 => format!("Sorry, {} is sold out.", short.name),
                1 => format!("Sorry, only 1 {} is left.", short.name),
                n => format!("Sorry, only {n} of {} are left.", short.name),
            },
        ),
        ProviderRejected(_) => (
            StatusCode::BAD_GATEWAY,
            "The payment could not be started; please try again later.".into(),
        ),
        ProviderUnavailable(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "The payment provider is not reachable right now; please try again.".into(),
        ),
        StoreUnavailable(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "The shop cannot take orders right now; please try again.".into(),
        ),
    };
    if status.is_server_error() {
        tracing::error!(error = %checkout::error_report(&error), "checkout failed");
    }
    reject(status, message)
}

/// A cart change or checkout the catalog refuses, in the shopper's words.
pub(crate) fn cart_refused(error: &checkout::CatalogError) -> String {
    use checkout::CatalogError::*;
    match error {
        UnknownArticle(_) => "We do not sell that article.".into(),
        InvalidQuantity(quantity) => format!(
            "Quantity must be between 1 and {}, not {quantity}.",
            checkout::MAX_QUANTITY
        ),
        TotalTooLarge => "The order total is too large.".into(),
        EmptyCart => "The cart is empty.".into(),
        TooManyLines => format!(
            "A cart holds at most {} different articles.",
            checkout::MAX_CART_LINES
        ),
    }
}
