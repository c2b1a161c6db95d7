use crate::api::{
    storefront, AddToCart, ArticleView, CartView, CheckoutCart, ShopError, UpdateCart,
};
use leptos::prelude::*;

/// The storefront, rendered on the server; [`Shop`] is the island that makes
/// the cart reactive in the browser.
#[component]
pub fn Storefront() -> impl IntoView {
    let page = OnceResource::new(storefront());
    view! {
        <section class="intro">
            <h1>"Shop"</h1>
            <p>"Small things, made well. Pay safely with Mollie."</p>
        </section>
        <Suspense fallback=|| view! { <p>"Loading the shop…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => view! {
                        <Shop articles=page.articles cart=page.cart checkout_key=page.checkout_key/>
                    }.into_any(),
                    Err(e) => view! { <p class="alert" role="alert">{error_text(e)}</p> }.into_any(),
                }
            })}
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

#[island]
pub fn Shop(articles: Vec<ArticleView>, cart: CartView, checkout_key: String) -> impl IntoView {
    let cart = RwSignal::new(cart);
    let add = ServerAction::<AddToCart>::new();
    let update = ServerAction::<UpdateCart>::new();
    let checkout = ServerAction::<CheckoutCart>::new();
    // The server answers every cart change with the whole priced cart.
    for action_value in [add.value(), update.value()] {
        Effect::new(move |_| {
            if let Some(Ok(view)) = action_value.get() {
                cart.set(view);
            }
        });
    }
    let add_error = move || alert(add.value().get().and_then(Result::err));
    let articles = articles
        .into_iter()
        .map(|article| view! { <ArticleCard article add/> })
        .collect_view();
    view! {
        <div class="shop">
            <div>
                {add_error}
                <ul class="articles">{articles}</ul>
            </div>
            <CartPanel cart update checkout checkout_key/>
        </div>
    }
}

#[component]
fn ArticleCard(article: ArticleView, add: ServerAction<AddToCart>) -> impl IntoView {
    let quantity_id = format!("quantity-{}", article.id);
    let article_id = article.id.clone();
    view! {
        <li class="card" data-article=article.id>
            <img src=article.image alt="" width="320" height="240"/>
            <h2>{article.name}</h2>
            <p class="description">{article.description}</p>
            <p class="price">{article.price}</p>
            <ActionForm action=add>
                <input type="hidden" name="article_id" value=article_id/>
                <label for=quantity_id.clone()>"Quantity"</label>
                <input id=quantity_id type="number" name="quantity" value="1" min="1" max="99" required/>
                <button type="submit" disabled=move || add.pending().get()>"Add to cart"</button>
            </ActionForm>
        </li>
    }
}

#[component]
fn CartPanel(
    cart: RwSignal<CartView>,
    update: ServerAction<UpdateCart>,
    checkout: ServerAction<CheckoutCart>,
    checkout_key: String,
) -> impl IntoView {
    let is_empty = move || cart.with(|c| c.lines.is_empty());
    // Stays disabled after a successful submission: the browser is leaving
    // for the checkout page, and a second click must not submit again.
    let submitting =
        move || checkout.pending().get() || matches!(checkout.value().get(), Some(Ok(())));
    let lines = move || {
        cart.get()
            .lines
            .into_iter()
            .map(|line| {
                let quantity_id = format!("cart-quantity-{}", line.article_id);
                let (update_id, remove_id) = (line.article_id.clone(), line.article_id.clone());
                let (label_name, remove_name) = (line.name.clone(), line.name.clone());
                view! {
                    <li class="cart-line" data-article=line.article_id>
                        <span class="cart-name">{line.name}</span>
                        <span class="cart-unit">{line.unit_price}" each"</span>
                        <ActionForm action=update attr:class="cart-update">
                            <input type="hidden" name="article_id" value=update_id/>
                            <label class="visually-hidden" for=quantity_id.clone()>
                                "Quantity of "{label_name}
                            </label>
                            <input id=quantity_id type="number" name="quantity" value=line.quantity min="0" max="99"/>
                            <button type="submit" class="small">"Update"</button>
                        </ActionForm>
                        <ActionForm action=update attr:class="cart-remove">
                            <input type="hidden" name="article_id" value=remove_id/>
                            <input type="hidden" name="quantity" value="0"/>
                            <button type="submit" class="small secondary">
                                "Remove"<span class="visually-hidden">" "{remove_name}</span>
                            </button>
                        </ActionForm>
                        <span class="cart-total">{line.line_total}</span>
                    </li>
                }
            })
            .collect_view()
    };
    let removed = move || {
        let removed = cart.with(|c| c.removed.clone());
        (!removed.is_empty()).then(|| view! {
            <p class="alert" role="alert">
                "Some articles in your cart are no longer sold and were removed: "{removed.join(", ")}"."
            </p>
        })
    };
    view! {
        <aside class="cart panel" aria-labelledby="cart-title">
            <h2 id="cart-title">"Your cart"</h2>
            {removed}
            {move || alert(update.value().get().and_then(Result::err))}
            <Show when=move || !is_empty() fallback=|| view! { <p class="cart-empty">"Your cart is empty."</p> }>
                <ul class="cart-lines">{lines}</ul>
                <p class="cart-sum">"Total "<strong data-testid="cart-total">{move || cart.get().total.unwrap_or_default()}</strong></p>
            </Show>
            {move || alert(checkout.value().get().and_then(Result::err))}
            <ActionForm action=checkout>
                <input type="hidden" name="checkout_key" value=checkout_key.clone()/>
                // Rendered on the server: as views in this island, these
                // radios added 37 KB to the wasm bundle; as a string, none.
                <div inner_html=move || cart.with(|c| c.methods_html.clone())></div>
                <button type="submit" class="checkout" disabled=move || is_empty() || submitting()>
                    {move || if submitting() { "Going to payment…" } else { "Checkout" }}
                </button>
            </ActionForm>
        </aside>
    }
}
