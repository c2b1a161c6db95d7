//! The back office (`/admin`): the shop owner's orders and the actions that
//! fix them. Rendered on the server only, with plain HTML forms: there is
//! no island here, so it works without JavaScript and adds nothing to the
//! storefront's wasm bundle.

#[cfg(feature = "ssr")]
mod access;
pub mod api;
mod attempt;
mod error;
#[cfg(feature = "ssr")]
mod mapping;
mod order_list;
mod order_page;
#[cfg(feature = "ssr")]
mod refusals;
mod stock;
mod views;

use crate::NotFound;
use api::{
    back_office_order, back_office_orders, back_office_stock, BackOfficeSignIn, BackOfficeSignOut,
};
pub use error::BackOfficeError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use order_list::OrderList;
use order_page::OrderPage;
use stock::StockPage;
pub use views::*;

fn alert(error: Option<BackOfficeError>) -> Option<impl IntoView> {
    error.map(|e| view! { <p class="alert" role="alert">{e.text()}</p> })
}

/// `/admin`: the orders, newest first, or the sign-in form.
#[component]
pub fn BackOfficeOrders() -> impl IntoView {
    let query = use_query_map();
    let (after, search, status) =
        query.with_untracked(|q| (q.get("after"), q.get("q"), q.get("status")));
    let list = OnceResource::new(back_office_orders(after, search, status));
    view! {
        <Title text="Back office · Paper & Clay"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(list) => view! { <OrderList list/> }.into_any(),
                    Err(BackOfficeError::SignInRequired(_)) => view! { <SignIn/> }.into_any(),
                    Err(e) => alert(Some(e)).into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/admin/orders/{id}`: one order, its money, its actions and audit log.
#[component]
pub fn BackOfficeOrder() -> impl IntoView {
    let params = use_params_map();
    let order_id = params.read_untracked().get("id").unwrap_or_default();
    let order = OnceResource::new(back_office_order(order_id));
    view! {
        <Title text="Order · Back office · Paper & Clay"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match order.await {
                    Ok(Some(order)) => view! { <OrderPage order/> }.into_any(),
                    Ok(None) => view! { <NotFound/> }.into_any(),
                    Err(BackOfficeError::SignInRequired(_)) => view! { <SignIn/> }.into_any(),
                    Err(e) => alert(Some(e)).into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/admin/stock`: the stock levels and their log.
#[component]
pub fn BackOfficeStock() -> impl IntoView {
    let stock = OnceResource::new(back_office_stock());
    view! {
        <Title text="Stock · Back office · Paper & Clay"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match stock.await {
                    Ok(stock) => view! { <StockPage stock/> }.into_any(),
                    Err(BackOfficeError::SignInRequired(_)) => view! { <SignIn/> }.into_any(),
                    Err(e) => alert(Some(e)).into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SignIn() -> impl IntoView {
    let sign_in = ServerAction::<BackOfficeSignIn>::new();
    view! {
        <section class="panel admin-sign-in">
            <h1>"Back office"</h1>
            <p>"Sign in to see and manage the shop's orders."</p>
            {move || alert(sign_in.value().get().and_then(Result::err))}
            <ActionForm action=sign_in>
                <label for="operator-name">"Name"</label>
                <input id="operator-name" name="name" autocomplete="username" required/>
                <label for="operator-password">"Password"</label>
                <input id="operator-password" type="password" name="password" autocomplete="current-password" required/>
                <button type="submit">"Sign in"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn OperatorBar(operator: String) -> impl IntoView {
    let sign_out = ServerAction::<BackOfficeSignOut>::new();
    view! {
        <nav class="admin-bar" aria-label="Back office">
            <a href="/admin">"Orders"</a>
            <a href="/admin/stock">"Stock"</a>
            <span class="operator">"Signed in as "<strong data-testid="operator">{operator}</strong></span>
            <ActionForm action=sign_out>
                <button type="submit" class="small secondary">"Sign out"</button>
            </ActionForm>
        </nav>
    }
}
