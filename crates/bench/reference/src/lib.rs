//! Bare Leptos 0.8: the storefront's four article cards and nothing else.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

/// (id, name, description, price, image): the shop's default catalog.
const ARTICLES: [(&str, &str, &str, &str, &str); 4] = [
    (
        "mug",
        "Stoneware mug",
        "Hand-glazed, 350 ml, dishwasher safe.",
        "€14.50",
        "/images/mug.svg",
    ),
    (
        "notebook",
        "Dot-grid notebook",
        "A5, 160 pages of 100 g/m² paper, lies flat.",
        "€12.95",
        "/images/notebook.svg",
    ),
    (
        "tote",
        "Canvas tote bag",
        "Heavy organic cotton with a long strap.",
        "€18.00",
        "/images/tote.svg",
    ),
    (
        "print",
        "Risograph print",
        "Two colours on 170 g/m² paper, A4, numbered. A small run.",
        "€24.00",
        "/images/print.svg",
    ),
];

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="Bare Leptos"/>
        <Router>
            <main>
                <Routes fallback=|| "Not found.">
                    <Route path=path!("") view=Storefront/>
                </Routes>
            </main>
        </Router>
    }
}

#[component]
fn Storefront() -> impl IntoView {
    let cards = ARTICLES
        .iter()
        .map(|(id, name, description, price, image)| {
            view! {
                <li class="card">
                    <img src=*image alt="" width="320" height="240"/>
                    <h2>{*name}</h2>
                    <p class="description">{*description}</p>
                    <p class="price">{*price}</p>
                    <Buy article=id.to_string()/>
                </li>
            }
        })
        .collect_view();
    view! {
        <h1>"Shop"</h1>
        <ul class="articles">{cards}</ul>
    }
}

#[server]
pub async fn add_to_cart(article: String) -> Result<usize, ServerFnError> {
    Ok(article.len())
}

#[island]
fn Buy(article: String) -> impl IntoView {
    let add = ServerAction::<AddToCart>::new();
    view! {
        <ActionForm action=add>
            <input type="hidden" name="article" value=article/>
            <button type="submit">"Add to cart"</button>
        </ActionForm>
    }
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    leptos::mount::hydrate_islands();
}
