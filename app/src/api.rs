//! Server functions and the views they return. The views are plain data,
//! formatted on the server, so the browser bundle needs none of the domain.
//! Every function also works as a plain HTML form post (no JavaScript).

use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// What a server function answers when it does not succeed: one type on the
/// server and in the browser.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ShopError {
    /// The shop refused, or cannot do it now; the words are for shoppers.
    #[error("{0}")]
    Refused(String),
    /// The call itself failed: the network, or arguments or an answer that
    /// do not parse.
    #[error(transparent)]
    Call(ServerFnErrorErr),
}

impl FromServerFnError for ShopError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(error: ServerFnErrorErr) -> Self {
        // On the server: arguments that do not parse (`quantity=two`, a
        // missing field) are the caller's mistake, not ours.
        #[cfg(feature = "ssr")]
        if matches!(
            error,
            ServerFnErrorErr::Args(_)
                | ServerFnErrorErr::MissingArg(_)
                | ServerFnErrorErr::Deserialization(_)
        ) {
            ssr::refusal_status(http::StatusCode::BAD_REQUEST);
        }
        Self::Call(error)
    }
}

/// A form's refusal when the browser posted it without JavaScript:
/// leptos_axum sends the browser back to the page with the error in the
/// query, and the page renders it. `None` in the browser, where the islands
/// show their own answers, and when the form went through.
pub(crate) fn refused_without_script(server_fn_path: &str) -> Option<ShopError> {
    #[cfg(feature = "ssr")]
    {
        use leptos::server::ServerActionError;
        use leptos::server_fn::error::ServerFnUrlError;
        use_context::<ServerActionError>()
            .filter(|error| error.path() == server_fn_path)
            .map(|error| ServerFnUrlError::<ShopError>::decode_err(error.err()))
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = server_fn_path;
        None
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleView {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Formatted for shoppers, e.g. "€14.50".
    pub price: String,
    pub image: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLineView {
    pub article_id: String,
    pub name: String,
    pub quantity: u32,
    pub unit_price: String,
    pub line_total: String,
}

/// The cart, priced by the server.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartView {
    pub lines: Vec<CartLineView>,
    pub total: Option<String>,
    /// Articles that were in the cart but are no longer sold.
    pub removed: Vec<String>,
    /// The ways to pay the total, as the checkout form's "Pay with"
    /// radios (HTML, escaped, rendered on the server); empty when the
    /// provider could not say: the shopper then picks on its page.
    #[serde(default)]
    pub methods_html: String,
}

/// What the storefront's island receives for the cart: its lines, total and
/// ways to pay already rendered on the server. The browser only swaps the
/// HTML in, so the wasm bundle carries neither the cart's views nor
/// [`CartView`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartPanel {
    /// The lines with their update and remove forms, the total, and what
    /// was removed: plain HTML forms that work without JavaScript.
    pub lines_html: String,
    /// The checkout form's "Pay with" radios.
    pub methods_html: String,
    pub is_empty: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorefrontView {
    pub articles: Vec<ArticleView>,
    pub cart: CartPanel,
    /// Generated for this page view: every submission of its checkout form
    /// yields the same order.
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

#[server(endpoint = "storefront")]
pub async fn storefront() -> Result<StorefrontView, ShopError> {
    let service = ssr::service()?;
    let articles = service
        .catalog()
        .articles()
        .iter()
        .map(|a| ArticleView {
            id: a.id.to_string(),
            name: a.name.clone(),
            description: a.description.clone(),
            price: a.price.to_string(),
            image: a.image.clone(),
        })
        .collect();
    let mut cart = ssr::cart_from_cookie().await;
    let view = ssr::cart_view(&service, &mut cart).await;
    if !view.removed.is_empty() {
        ssr::save_cart(&cart);
    }
    Ok(StorefrontView {
        articles,
        cart: crate::storefront::cart_panel(&view),
        checkout_key: checkout::CheckoutKey::generate().to_string(),
    })
}

#[server(endpoint = "cart/add")]
pub async fn add_to_cart(article_id: String, quantity: i64) -> Result<CartPanel, ShopError> {
    ssr::change_cart(|cart, catalog| cart.add(catalog, &article_id, quantity)).await
}

/// Sets an article's quantity in the cart; 0 removes it.
#[server(endpoint = "cart/update")]
pub async fn update_cart(article_id: String, quantity: i64) -> Result<CartPanel, ShopError> {
    ssr::change_cart(|cart, catalog| cart.update(catalog, &article_id, quantity)).await
}

/// Checkout: creates the order and the payment, then sends the browser to
/// the provider's checkout page. The same `checkout_key` always yields the
/// same order. `method`: the payment method picked in the cart (empty or
/// absent: the shopper picks on the provider's page).
#[server(endpoint = "checkout")]
pub async fn checkout_cart(checkout_key: String, method: Option<String>) -> Result<(), ShopError> {
    let key = checkout::CheckoutKey::parse(&checkout_key).ok_or_else(|| {
        ssr::reject(
            http::StatusCode::BAD_REQUEST,
            "This page is out of date; please reload it.",
        )
    })?;
    let cart = ssr::cart_from_cookie().await;
    let choices = checkout::PaymentChoices {
        locale: ssr::shopper_locale().await,
        method: method.filter(|m| !m.is_empty()),
    };
    let started = ssr::service()?
        .checkout_in(cart.lines(), &key, &choices)
        .await
        .map_err(ssr::checkout_failed)?;
    // The order has the cart now; the shopper starts afresh.
    ssr::save_cart(&checkout::Cart::default());
    leptos_axum::redirect(&started.redirect_url);
    Ok(())
}

/// "Try again" on a failed, canceled or expired payment: a new attempt on
/// the same order (or the open one, if a payment is already under way).
#[server(endpoint = "pay_again")]
pub async fn pay_again(order_id: String) -> Result<(), ShopError> {
    let id = checkout::OrderId::parse(&order_id)
        .ok_or_else(|| ssr::reject(http::StatusCode::NOT_FOUND, "We could not find that order."))?;
    let locale = ssr::shopper_locale().await;
    let started = ssr::service()?
        .pay_again_in(&id, locale)
        .await
        .map_err(ssr::checkout_failed)?;
    leptos_axum::redirect(&started.redirect_url);
    Ok(())
}

/// The order and its payment status; `None` for an unknown or malformed id.
#[server(endpoint = "order_status")]
pub async fn order_status(order_id: String) -> Result<Option<OrderPanel>, ShopError> {
    use checkout::{OrderId, OrderStatus, PaymentStatus};
    let Some(id) = OrderId::parse(&order_id) else {
        ssr::set_status(http::StatusCode::NOT_FOUND);
        return Ok(None);
    };
    let service = ssr::service()?;
    // Refreshes from the provider a payment open for too long: a lost
    // webhook must not leave the shopper waiting.
    let found = service.order_refreshed(&id).await.map_err(|e| {
        tracing::error!(error = %checkout::error_report(&e), "could not read an order");
        ssr::reject(
            http::StatusCode::SERVICE_UNAVAILABLE,
            "We cannot show your order right now; please try again in a moment.",
        )
    })?;
    if found.is_none() {
        ssr::set_status(http::StatusCode::NOT_FOUND);
    }
    Ok(found
        .map(|(record, status)| OrderView {
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
            money_note: ssr::money_note(&record),
            status: match status {
                OrderStatus::AwaitingPayment => ShopperStatus::AwaitingPayment,
                OrderStatus::PaymentPending => ShopperStatus::PaymentPending,
                OrderStatus::Paid => ShopperStatus::Paid,
                OrderStatus::AwaitingCapture => ShopperStatus::Authorized,
                OrderStatus::PaymentFailed(PaymentStatus::Canceled) => ShopperStatus::Canceled,
                OrderStatus::PaymentFailed(PaymentStatus::Expired) => ShopperStatus::Expired,
                OrderStatus::PaymentFailed(_) => ShopperStatus::Failed,
            },
        })
        .map(|view| crate::thank_you::order_panel(&view)))
}

// For the back office's server functions.
#[cfg(feature = "ssr")]
pub(crate) use ssr::{
    refusal_status as ssr_refusal_status, service as ssr_service, set_status as ssr_set_status,
};

#[cfg(feature = "ssr")]
mod ssr {
    use super::{CartLineView, CartPanel, CartView, ShopError};
    use checkout::{Cart, CheckoutService};
    use http::header::{HeaderValue, COOKIE, SET_COOKIE};
    use leptos::prelude::*;
    use std::sync::Arc;

    const CART_COOKIE: &str = "cart";

    pub fn service() -> Result<Arc<CheckoutService>, ShopError> {
        use_context::<Arc<CheckoutService>>().ok_or_else(|| {
            tracing::error!("the checkout service is not in the server functions' context");
            ShopError::Refused("The shop is not available right now.".into())
        })
    }

    /// A refusal: the message for shoppers, and an HTTP status for scripts
    /// and API clients.
    pub fn reject(status: http::StatusCode, message: impl Into<String>) -> ShopError {
        refusal_status(status);
        ShopError::Refused(message.into())
    }

    /// A refusal's status, except for a plain form post, which leptos_axum
    /// sends back to its page with the error (a redirect) instead.
    pub fn refusal_status(status: http::StatusCode) {
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

    pub fn set_status(status: http::StatusCode) {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(status);
        }
    }

    /// A checkout or "pay again" that did not start a payment: logged here,
    /// once, with its causes when it is our fault or the provider's; the
    /// shopper gets plain words and a status.
    pub fn checkout_failed(error: checkout::CheckoutError) -> ShopError {
        use checkout::CheckoutError::*;
        use http::StatusCode;
        let (status, message) = match &error {
            InvalidCart(e) => (StatusCode::UNPROCESSABLE_ENTITY, cart_refused(e)),
            KeyReusedWithAnotherCart => (
                StatusCode::CONFLICT,
                "This checkout was already submitted with another cart; please reload the page."
                    .into(),
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

    /// What happened to the money after it was paid, for the shopper:
    /// refunds (also those on their way back) and chargebacks.
    pub fn money_note(record: &checkout::OrderRecord) -> Option<String> {
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

    /// A cart change or checkout the catalog refuses, in the shopper's words.
    pub fn cart_refused(error: &checkout::CatalogError) -> String {
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

    /// Applies a change to the cart in the cookie, saves it, and answers
    /// with the priced cart; a refused change (422) saves nothing.
    pub async fn change_cart(
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

    /// The checkout page's language: the shopper's browser's most
    /// preferred one that Mollie supports.
    pub async fn shopper_locale() -> Option<checkout::Locale> {
        let headers: http::HeaderMap = leptos_axum::extract().await.unwrap_or_default();
        let accepted = headers.get(http::header::ACCEPT_LANGUAGE)?.to_str().ok()?;
        checkout::Locale::from_accept_language(accepted)
    }

    pub async fn cart_from_cookie() -> Cart {
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

    pub fn save_cart(cart: &Cart) {
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

    pub async fn cart_view(service: &CheckoutService, cart: &mut Cart) -> CartView {
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
}
