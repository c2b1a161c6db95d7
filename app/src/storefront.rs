use crate::api::{
    add_to_cart, checkout_cart, refused_without_script, storefront, update_cart, AddToCart,
    CartPanel, CheckoutCart, ShopError, UpdateCart,
};
#[cfg(feature = "ssr")]
use crate::api::{ArticleView, CartView};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use std::future::Future;

/// The storefront, rendered on the server. The article cards are the
/// [`Shop`] island's children: plain HTML, never hydrated.
#[component]
pub fn Storefront() -> impl IntoView {
    let page = OnceResource::new(storefront());
    let article_error = refused_without_script(AddToCart::PATH);
    let cart_error = refused_without_script(UpdateCart::PATH)
        .or_else(|| refused_without_script(CheckoutCart::PATH));
    view! {
        <section class="intro">
            <h1>"Shop"</h1>
            <p>"Small things, made well. Pay safely with Mollie."</p>
        </section>
        <Suspense fallback=|| view! { <p>"Loading the shop…"</p> }>
            {move || {
                let (article_error, cart_error) = (article_error.clone(), cart_error.clone());
                Suspend::new(async move {
                match page.await {
                    Ok(page) => view! {
                        <Shop
                            cart=page.cart
                            checkout_key=page.checkout_key
                            article_error
                            cart_error
                        >
                            <ul class="articles" inner_html=page.articles_html></ul>
                        </Shop>
                    }.into_any(),
                    Err(e) => view! { <p class="alert" role="alert">{error_text(e)}</p> }.into_any(),
                }
            })}}
        </Suspense>
    }
}

/// A server function's error in plain words for shoppers.
pub(crate) fn error_text(error: ShopError) -> String {
    match error {
        ShopError::Refused(message) => message,
        _ => "We could not reach the shop; please check your connection and try again.".to_owned(),
    }
}

fn alert(error: Option<ShopError>) -> Option<impl IntoView> {
    error.map(|e| view! { <p class="alert" role="alert">{error_text(e)}</p> })
}

/// Takes over the storefront's forms (they are plain HTML forms that work
/// without JavaScript): each submission calls its server function in place,
/// and the cart panel the server renders in answer is swapped in.
///
/// It calls the server functions directly rather than through leptos's
/// `ServerAction`s: four fewer action types in the wasm bundle. The page
/// renders the refusals of forms posted without JavaScript
/// (`article_error`, `cart_error`), which `ServerAction` did.
#[island]
pub fn Shop(
    cart: CartPanel,
    checkout_key: String,
    article_error: Option<ShopError>,
    cart_error: Option<ShopError>,
    children: Children,
) -> impl IntoView {
    let shop = ShopState {
        cart: RwSignal::new(cart),
        article_error: RwSignal::new(article_error),
        cart_error: RwSignal::new(cart_error),
        leaving: RwSignal::new(false),
        newest_change: StoredValue::new(0_u64),
    };
    let ShopState {
        cart,
        article_error,
        cart_error,
        leaving,
        ..
    } = shop;
    let is_empty = move || shop.is_empty();
    view! {
        <div class="shop" on:submit=move |ev| shop.on_submit(ev)>
            <div>
                {move || alert(article_error.get())}
                {children()}
            </div>
            <aside class="cart panel" aria-labelledby="cart-title">
                <h2 id="cart-title">"Your cart"</h2>
                <div inner_html=move || cart.with(|c| c.lines_html.clone())></div>
                {move || alert(cart_error.get())}
                <form method="post" action=CheckoutCart::PATH>
                    <input type="hidden" name="checkout_key" value=checkout_key/>
                    <label for="shopper-email">"Your e-mail address"</label>
                    <input id="shopper-email" type="email" name="email" required
                        autocomplete="email" maxlength="254" placeholder="name@example.com"/>
                    <p class="hint">"For this order's messages only: its confirmation, refunds, a failed payment."</p>
                    // Rendered on the server: as views in this island, these
                    // radios added 37 KB to the wasm bundle; as a string, none.
                    <div inner_html=move || cart.with(|c| c.methods_html.clone())></div>
                    <button type="submit" class="checkout" disabled=move || is_empty() || leaving.get()>
                        {move || if leaving.get() { "Going to payment…" } else { "Checkout" }}
                    </button>
                </form>
            </aside>
        </div>
    }
}

/// The [`Shop`] island's state, shared by its view and its form handler.
#[derive(Clone, Copy)]
struct ShopState {
    cart: RwSignal<CartPanel>,
    article_error: RwSignal<Option<ShopError>>,
    cart_error: RwSignal<Option<ShopError>>,
    /// On from a checkout's submission until it is refused: the browser is
    /// leaving for the checkout page, and a second click must not submit
    /// again.
    leaving: RwSignal<bool>,
    /// Cart changes answer in any order; only the newest one's cart is
    /// shown.
    newest_change: StoredValue<u64>,
}

impl ShopState {
    fn is_empty(self) -> bool {
        self.cart.with(|c| c.is_empty)
    }

    /// Shows the cart a change answers with, or its refusal in `error`;
    /// unless a newer change was sent meanwhile.
    fn change_cart(
        self,
        answer: Box<dyn Future<Output = Result<CartPanel, ShopError>>>,
        error: RwSignal<Option<ShopError>>,
    ) {
        let newest_change = self.newest_change;
        let this_change = newest_change.get_value() + 1;
        newest_change.set_value(this_change);
        let cart = self.cart;
        leptos::task::spawn_local(async move {
            let answer = Box::into_pin(answer).await;
            if newest_change.get_value() != this_change {
                return;
            }
            match answer {
                Ok(panel) => {
                    error.set(None);
                    cart.set(panel);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    }

    /// Calls the server function of a form it takes over in place of the
    /// browser's post.
    fn on_submit(self, ev: leptos::ev::SubmitEvent) {
        let Some((action, data)) = taken_over(&ev) else {
            return;
        };
        ev.prevent_default();
        let field = |name: &str| data.get(name).as_string().unwrap_or_default();
        // A quantity the browser let through but that is not a number.
        let quantity = || {
            field("quantity").trim().parse::<i64>().map_err(|_| {
                ShopError::Refused("Please enter the quantity as a whole number.".to_owned())
            })
        };
        let (article_error, cart_error) = (self.article_error, self.cart_error);
        match action.as_str() {
            AddToCart::PATH => match quantity() {
                Ok(quantity) => self.change_cart(
                    Box::new(add_to_cart(field("article_id"), quantity)),
                    article_error,
                ),
                Err(e) => article_error.set(Some(e)),
            },
            UpdateCart::PATH => match quantity() {
                Ok(quantity) => self.change_cart(
                    Box::new(update_cart(field("article_id"), quantity)),
                    cart_error,
                ),
                Err(e) => cart_error.set(Some(e)),
            },
            CheckoutCart::PATH if !self.leaving.get_untracked() && !self.is_empty() => {
                self.checkout(
                    field("checkout_key"),
                    Some(field("email")),
                    Some(field("method")),
                );
            }
            // A checkout already on its way, or an empty cart: nothing to send.
            _ => {}
        }
    }

    fn checkout(self, key: String, email: Option<String>, method: Option<String>) {
        let (leaving, cart_error) = (self.leaving, self.cart_error);
        leaving.set(true);
        cart_error.set(None);
        leptos::task::spawn_local(async move {
            // On success the redirect hook has the browser leave.
            if let Err(e) = checkout_cart(key, email, method).await {
                leaving.set(false);
                cart_error.set(Some(e));
            }
        });
    }
}

/// The form submitted and what it holds, when it is one the island takes
/// over; any other form, or one it cannot read, the browser posts.
fn taken_over(ev: &leptos::ev::SubmitEvent) -> Option<(String, leptos::web_sys::FormData)> {
    use leptos::wasm_bindgen::JsCast;
    let form = ev
        .target()
        .and_then(|target| target.dyn_into::<leptos::web_sys::HtmlFormElement>().ok())?;
    let action = form.get_attribute("action").unwrap_or_default();
    let taken_over = [AddToCart::PATH, UpdateCart::PATH, CheckoutCart::PATH];
    if !taken_over.contains(&action.as_str()) {
        return None;
    }
    let data = leptos::web_sys::FormData::new_with_form(&form).ok()?;
    Some((action, data))
}

/// An article and its "Add to cart" form: island children, so rendered on
/// the server only.
#[cfg(feature = "ssr")]
#[component]
fn ArticleCard(article: ArticleView) -> impl IntoView {
    let quantity_id = format!("quantity-{}", article.id);
    let article_id = article.id.clone();
    let sold_out = article.few_left == Some(0);
    let stock = article.few_left.map(|left| {
        let words = match left {
            0 => "Sold out".to_owned(),
            1 => "Only 1 left".to_owned(),
            n => format!("Only {n} left"),
        };
        let class = if sold_out { "stock sold-out" } else { "stock" };
        view! { <p class=class data-testid="stock">{words}</p> }
    });
    let max = article.few_left.filter(|&left| left > 0).unwrap_or(99);
    let form = (!sold_out).then(|| {
        view! {
            <form method="post" action=AddToCart::PATH>
                <input type="hidden" name="article_id" value=article_id/>
                <label for=quantity_id.clone()>"Quantity"</label>
                <input id=quantity_id type="number" name="quantity" value="1" min="1" max=max required/>
                <button type="submit">"Add to cart"</button>
            </form>
        }
    });
    view! {
        <li class="card" data-article=article.id>
            <img src=article.image alt="" width="320" height="240"/>
            <h2>{article.name}</h2>
            <p class="description">{article.description}</p>
            <p class="price">{article.price}</p>
            {stock}
            {form}
        </li>
    }
}

/// The article cards as HTML, for the storefront's list.
#[cfg(feature = "ssr")]
pub(crate) fn article_cards_html(articles: &[ArticleView]) -> String {
    use leptos::tachys::view::RenderHtml;
    articles
        .iter()
        .cloned()
        .map(|article| view! { <ArticleCard article/> })
        .collect_view()
        .to_html()
}

/// The cart's lines, total and ways to pay, rendered to HTML on the server:
/// for the storefront's first render and for every change of the cart.
#[cfg(feature = "ssr")]
pub(crate) fn cart_panel(cart: &CartView) -> CartPanel {
    use leptos::tachys::view::RenderHtml;
    let removed = (!cart.removed.is_empty()).then(|| {
        view! {
            <p class="alert" role="alert">
                "Some articles in your cart are no longer sold and were removed: "{cart.removed.join(", ")}"."
            </p>
        }
    });
    let lines = cart
        .lines
        .iter()
        .map(|line| {
            let quantity_id = format!("cart-quantity-{}", line.article_id);
            view! {
                <li class="cart-line" data-article=line.article_id.clone()>
                    <span class="cart-name">{line.name.clone()}</span>
                    <span class="cart-unit">{line.unit_price.clone()}" each"</span>
                    <form method="post" action=UpdateCart::PATH class="cart-update">
                        <input type="hidden" name="article_id" value=line.article_id.clone()/>
                        <label class="visually-hidden" for=quantity_id.clone()>
                            "Quantity of "{line.name.clone()}
                        </label>
                        <input id=quantity_id type="number" name="quantity" value=line.quantity min="0" max="99"/>
                        <button type="submit" class="small">"Update"</button>
                    </form>
                    <form method="post" action=UpdateCart::PATH class="cart-remove">
                        <input type="hidden" name="article_id" value=line.article_id.clone()/>
                        <input type="hidden" name="quantity" value="0"/>
                        <button type="submit" class="small secondary">
                            "Remove"<span class="visually-hidden">" "{line.name.clone()}</span>
                        </button>
                    </form>
                    <span class="cart-total">{line.line_total.clone()}</span>
                </li>
            }
        })
        .collect::<Vec<_>>();
    let lines_html = if cart.lines.is_empty() {
        view! { {removed}<p class="cart-empty">"Your cart is empty."</p> }.to_html()
    } else {
        let total = cart.total.clone().unwrap_or_default();
        view! {
            {removed}
            <ul class="cart-lines">{lines}</ul>
            <p class="cart-sum">"Total "<strong data-testid="cart-total">{total}</strong></p>
        }
        .to_html()
    };
    CartPanel {
        lines_html,
        methods_html: cart.methods_html.clone(),
        is_empty: cart.lines.is_empty(),
    }
}
