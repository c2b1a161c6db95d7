//! `/admin`'s list of orders: newest first, filtered by status or found
//! by id, a page at a time.

use super::views::{OrderListView, OrderRowView};
use super::OperatorBar;
use leptos::prelude::*;

#[component]
pub(super) fn OrderList(list: OrderListView) -> impl IntoView {
    let heading = heading(&list);
    let empty = (list.orders.is_empty() && list.search.is_none())
        .then(|| view! { <p>"No orders here."</p> });
    let filter = list.filter.clone();
    let rows = list
        .orders
        .into_iter()
        .map(|row| view! { <OrderRow row/> })
        .collect_view();
    let next = list.next.map(|token| {
        let href = format!("/admin?status={filter}&after={token}");
        view! { <a class="button secondary" href=href>"Older orders"</a> }
    });
    view! {
        <OperatorBar operator=list.operator/>
        <section class="panel admin">
            <h1>{heading}</h1>
            <ListForms search=list.search filter=list.filter filters=list.filters/>
            {empty}
            <table class="admin-orders">
                <thead>
                    <tr><th>"Created"</th><th>"Order"</th><th>"Payments"</th><th>"Total"</th><th>"Status"</th></tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
            {next}
        </section>
    }
}

/// What the list shows: a search's result, every order, or a filter's.
fn heading(list: &OrderListView) -> String {
    let filter_label = list
        .filters
        .iter()
        .find(|(code, _)| *code == list.filter)
        .map(|(_, label)| label.clone())
        .unwrap_or_default();
    match &list.search {
        Some(text) if list.orders.is_empty() => format!("No order matches {text}"),
        Some(text) => format!("Orders matching {text}"),
        None if list.filter == "all" => "Orders".to_owned(),
        None => format!("Orders: {}", filter_label.to_lowercase()),
    }
}

/// The search by id and the status filter: plain GET forms.
#[component]
fn ListForms(
    search: Option<String>,
    filter: String,
    filters: Vec<(String, String)>,
) -> impl IntoView {
    let options = filters
        .into_iter()
        .map(|(code, label)| {
            let selected = code == filter;
            view! { <option value=code selected=selected>{label}</option> }
        })
        .collect_view();
    view! {
        <form class="admin-search" method="get" action="/admin">
            <label for="search">"Order id or Mollie payment id"</label>
            <input id="search" name="q" placeholder="ord_… or tr_…" value=search/>
            <button type="submit" class="small">"Find"</button>
        </form>
        <form class="admin-search" method="get" action="/admin">
            <label for="status">"Show"</label>
            <select id="status" name="status">{options}</select>
            <button type="submit" class="small secondary">"Show"</button>
        </form>
    }
}

#[component]
fn OrderRow(row: OrderRowView) -> impl IntoView {
    let href = format!("/admin/orders/{}", row.id);
    let key = row.id.clone();
    let attention = (!row.attention.is_empty())
        .then(|| view! { <span class="attention">{row.attention.join(", ")}</span> });
    view! {
        <tr data-order=key>
            <td>{row.created_at}</td>
            <td><a href=href>{row.id}</a></td>
            <td class="payments">{row.payments.join(" ")}</td>
            <td>{row.total}</td>
            <td><span data-testid="order-status">{row.status}</span>" "{attention}</td>
        </tr>
    }
}
