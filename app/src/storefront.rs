use crate::api::{list_articles, ArticleView, Buy};
use leptos::prelude::*;

#[component]
pub fn Storefront() -> impl IntoView {
    let articles = OnceResource::new(list_articles());
    let buy = ServerAction::<Buy>::new();
    let error = move || {
        buy.value()
            .get()
            .and_then(Result::err)
            .map(|e| view! { <p class="alert" role="alert">{error_text(e)}</p> })
    };
    view! {
        <section class="intro">
            <h1>"Shop"</h1>
            <p>"Small things, made well. Pay safely with Mollie."</p>
        </section>
        {error}
        <Suspense fallback=|| view! { <p>"Loading the shop…"</p> }>
            {move || Suspend::new(async move {
                match articles.await {
                    Ok(list) => view! {
                        <ul class="articles">
                            {list.into_iter().map(|article| view! { <ArticleCard article buy/> }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <p class="alert" role="alert">{error_text(e)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

pub(crate) fn error_text(error: ServerFnError) -> String {
    match error {
        ServerFnError::ServerError(message) => message,
        _ => "Something went wrong; please try again.".to_owned(),
    }
}

#[component]
fn ArticleCard(article: ArticleView, buy: ServerAction<Buy>) -> impl IntoView {
    let quantity_id = format!("quantity-{}", article.id);
    let article_id = article.id.clone();
    view! {
        <li class="card" data-article=article.id.clone()>
            <img src=article.image alt="" width="320" height="240"/>
            <h2>{article.name}</h2>
            <p class="description">{article.description}</p>
            <p class="price">{article.price}</p>
            <ActionForm action=buy>
                <input type="hidden" name="article_id" value=article_id/>
                <input type="hidden" name="checkout_key" value=article.checkout_key/>
                <label for=quantity_id.clone()>"Quantity"</label>
                <input id=quantity_id type="number" name="quantity" value="1" min="1" max="99" required/>
                <button type="submit" disabled=move || buy.pending().get()>"Buy"</button>
            </ActionForm>
        </li>
    }
}
