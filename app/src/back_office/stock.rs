//! `/admin/stock`: each article's stock level, a form to set it, and the
//! log of who set what.

use super::api::BackOfficeSetStock;
use super::views::StockView;
use super::{alert, OperatorBar};
use leptos::prelude::*;

#[component]
pub(super) fn StockPage(stock: StockView) -> impl IntoView {
    let set = ServerAction::<BackOfficeSetStock>::new();
    let rows = stock
        .articles
        .into_iter()
        .map(|article| {
            let input_id = format!("stock-{}", article.id);
            let level = match article.available {
                Some(units) => units.to_string(),
                None => "not tracked".to_owned(),
            };
            let value = article.available.map(|u| u.to_string()).unwrap_or_default();
            let row_key = article.id.clone();
            view! {
                <tr data-article=row_key>
                    <td>{article.name.clone()}</td>
                    <td data-testid="level">{level}</td>
                    <td>
                        <ActionForm action=set attr:class="admin-stock-set">
                            <input type="hidden" name="article_id" value=article.id/>
                            <input type="hidden" name="seen" value=value.clone()/>
                            <label class="visually-hidden" for=input_id.clone()>"Units for sale of "{article.name.clone()}</label>
                            <input id=input_id type="number" name="available" min="0" max="1000000" value=value required/>
                            <button type="submit" class="small">
                                "Set"<span class="visually-hidden">" "{article.name.clone()}</span>
                            </button>
                        </ActionForm>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let log = stock
        .log
        .into_iter()
        .map(|line| view! { <li>{line}</li> })
        .collect_view();
    view! {
        <OperatorBar operator=stock.operator/>
        <section class="panel admin">
            <h1>"Stock"</h1>
            {move || alert(set.value().get().and_then(Result::err))}
            <p>
                "Units that can still be sold: what checkouts and unpaid payments do not hold "
                "(a payment that ends unpaid gives its units back; a refund does not). "
                "A new level is set over the one shown: if a checkout moved it meanwhile, you are asked again."
            </p>
            <table class="admin-stock">
                <caption class="visually-hidden">"Stock levels"</caption>
                <thead><tr><th scope="col">"Article"</th><th scope="col">"Left"</th><th scope="col">"Set to"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            <h2>"Changes"</h2>
            <ol class="audit" data-testid="stock-log">{log}</ol>
        </section>
    }
}
