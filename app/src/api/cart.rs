//! The storefront and its cart: the views the page gets, and the server
//! functions that read and change the cart (kept in a cookie).

use super::ShopError;
#[cfg(feature = "ssr")]
use super::{cart_server, refusals};
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
    /// Units left, when the shop tracks them and they are few (at most
    /// [`FEW_LEFT`]); `Some(0)`: sold out.
    pub few_left: Option<u32>,
}

/// From how many units left the storefront says so.
pub const FEW_LEFT: u32 = 5;

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
    /// The article cards (`<li>`s), rendered on the server: the
    /// [`crate::storefront::Shop`] island's children, never hydrated.
    pub articles_html: String,
    pub cart: CartPanel,
    /// Generated for this page view: every submission of its checkout form
    /// yields the same order.
    pub checkout_key: String,
}

#[server(endpoint = "storefront")]
pub async fn storefront() -> Result<StorefrontView, ShopError> {
    let service = refusals::service()?;
    // Unreadable now: shown without levels; the checkout checks them.
    let stock = service.catalog_stock().await.unwrap_or_else(|error| {
        tracing::warn!(error = %checkout::error_report(&error), "stock levels unreadable; the storefront shows none");
        checkout::StockLevels::default()
    });
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
            few_left: stock.available(&a.id).filter(|&left| left <= FEW_LEFT),
        })
        .collect();
    let mut cart = cart_server::cart_from_cookie().await;
    let view = cart_server::cart_view(&service, &mut cart).await;
    if !view.removed.is_empty() {
        cart_server::save_cart(&cart);
    }
    Ok(StorefrontView {
        articles_html: rendered_articles(articles),
        cart: crate::storefront::cart_panel(&view),
        checkout_key: checkout::CheckoutKey::generate().to_string(),
    })
}

/// The article cards' HTML, rendered again only when what they show
/// changed: the list changes only with the catalog and the few-left
/// levels, and rendering it was the largest step of a storefront view.
#[cfg(feature = "ssr")]
fn rendered_articles(articles: Vec<ArticleView>) -> String {
    use std::sync::{Arc, Mutex, PoisonError};
    /// The newest rendering, with the views it was rendered from.
    static NEWEST: Mutex<Option<(Vec<ArticleView>, Arc<str>)>> = Mutex::new(None);
    let cached = NEWEST.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, html)) = cached.as_ref().filter(|(views, _)| *views == articles) {
        return html.to_string();
    }
    // Rendered outside the lock: a render never waits for another.
    drop(cached);
    let html: Arc<str> = crate::storefront::article_cards_html(&articles).into();
    *NEWEST.lock().unwrap_or_else(PoisonError::into_inner) = Some((articles, html.clone()));
    html.to_string()
}

#[server(endpoint = "cart/add")]
pub async fn add_to_cart(article_id: String, quantity: i64) -> Result<CartPanel, ShopError> {
    cart_server::change_cart(|cart, catalog| cart.add(catalog, &article_id, quantity)).await
}

/// Sets an article's quantity in the cart; 0 removes it.
#[server(endpoint = "cart/update")]
pub async fn update_cart(article_id: String, quantity: i64) -> Result<CartPanel, ShopError> {
    cart_server::change_cart(|cart, catalog| cart.update(catalog, &article_id, quantity)).await
}
