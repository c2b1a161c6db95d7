//! The back office (`/admin`): the shop owner's orders and the actions that
//! fix them. Rendered on the server only, with plain HTML forms: there is
//! no island here, so it works without JavaScript and adds nothing to the
//! storefront's wasm bundle.

#[cfg(feature = "ssr")]
mod access;
pub mod api;
mod error;
#[cfg(feature = "ssr")]
mod mapping;
#[cfg(feature = "ssr")]
mod refusals;
mod views;

use crate::NotFound;
use api::{
    back_office_order, back_office_orders, BackOfficeCancel, BackOfficeCapture, BackOfficeRefresh,
    BackOfficeRefund, BackOfficeRelease, BackOfficeSignIn, BackOfficeSignOut,
};
pub use error::BackOfficeError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
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
            <span class="operator">"Signed in as "<strong data-testid="operator">{operator}</strong></span>
            <ActionForm action=sign_out>
                <button type="submit" class="small secondary">"Sign out"</button>
            </ActionForm>
        </nav>
    }
}

#[component]
fn OrderList(list: OrderListView) -> impl IntoView {
    let filter_label = list
        .filters
        .iter()
        .find(|(code, _)| *code == list.filter)
        .map(|(_, label)| label.clone())
        .unwrap_or_default();
    let heading = match &list.search {
        Some(text) if list.orders.is_empty() => format!("No order matches {text}"),
        Some(text) => format!("Orders matching {text}"),
        None if list.filter == "all" => "Orders".to_owned(),
        None => format!("Orders: {}", filter_label.to_lowercase()),
    };
    let empty = (list.orders.is_empty() && list.search.is_none())
        .then(|| view! { <p>"No orders here."</p> });
    let options = list
        .filters
        .iter()
        .map(|(code, label)| {
            let selected = *code == list.filter;
            view! { <option value=code.clone() selected=selected>{label.clone()}</option> }
        })
        .collect_view();
    let filter = list.filter.clone();
    let rows = list
        .orders
        .into_iter()
        .map(|row| {
            let href = format!("/admin/orders/{}", row.id);
            let key = row.id.clone();
            let attention = (!row.attention.is_empty()).then(|| {
                view! { <span class="attention">{row.attention.join(", ")}</span> }
            });
            view! {
                <tr data-order=key>
                    <td>{row.created_at}</td>
                    <td><a href=href>{row.id}</a></td>
                    <td class="payments">{row.payments.join(" ")}</td>
                    <td>{row.total}</td>
                    <td><span data-testid="order-status">{row.status}</span>" "{attention}</td>
                </tr>
            }
        })
        .collect_view();
    let next = list.next.map(|token| {
        let href = format!("/admin?status={filter}&after={token}");
        view! { <a class="button secondary" href=href>"Older orders"</a> }
    });
    view! {
        <OperatorBar operator=list.operator/>
        <section class="panel admin">
            <h1>{heading}</h1>
            <form class="admin-search" method="get" action="/admin">
                <label for="search">"Order id or Mollie payment id"</label>
                <input id="search" name="q" placeholder="ord_… or tr_…" value=list.search.clone()/>
                <button type="submit" class="small">"Find"</button>
            </form>
            <form class="admin-search" method="get" action="/admin">
                <label for="status">"Show"</label>
                <select id="status" name="status">{options}</select>
                <button type="submit" class="small secondary">"Show"</button>
            </form>
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

#[component]
fn OrderPage(order: BackOfficeOrderView) -> impl IntoView {
    let refresh = ServerAction::<BackOfficeRefresh>::new();
    let refund = ServerAction::<BackOfficeRefund>::new();
    let capture = ServerAction::<BackOfficeCapture>::new();
    let release = ServerAction::<BackOfficeRelease>::new();
    let cancel = ServerAction::<BackOfficeCancel>::new();
    let errors = move || {
        [
            cancel.value().get().and_then(Result::err),
            refresh.value().get().and_then(Result::err),
            refund.value().get().and_then(Result::err),
            capture.value().get().and_then(Result::err),
            release.value().get().and_then(Result::err),
        ]
        .into_iter()
        .map(alert)
        .collect_view()
    };
    let lines = order
        .lines
        .iter()
        .map(|l| {
            view! {
                <tr>
                    <td>{l.name.clone()}</td>
                    <td>{l.sku.clone().unwrap_or_default()}</td>
                    <td>{l.quantity}</td>
                    <td>{l.unit_price.clone()}</td>
                    <td>{l.line_total.clone()}</td>
                </tr>
            }
        })
        .collect_view();
    let money = [
        ("Paid", order.paid.clone(), "paid"),
        ("Refunded", order.refunded.clone(), "refunded"),
        ("Charged back", order.charged_back.clone(), "charged-back"),
    ]
    .into_iter()
    .filter_map(|(label, amount, id)| {
        amount.map(|a| view! { <dt>{label}</dt><dd data-testid=id>{a}</dd> })
    })
    .collect_view();
    let attention = (!order.attention.is_empty()).then(|| {
        view! { <p class="alert" role="alert">"Needs a look: "{order.attention.join(", ")}</p> }
    });
    let (id, currency, refund_id) = (
        order.id.clone(),
        order.currency.clone(),
        order.refund_id.clone(),
    );
    let payments = order.refundable_payments.clone();
    let refund_form = order.refundable.clone().map(move |refundable| {
        // The amount offered is what remains of the payment chosen first.
        let prefilled = payments
            .iter()
            .find(|p| p.preselected)
            .map_or_else(|| refundable.clone(), |p| p.refundable_decimal.clone());
        // Which payment the money goes back from: a choice only when the
        // order was paid more than once, else the one with money left.
        let only = (payments.len() == 1).then(|| {
            view! { <input type="hidden" name="payment" value=payments[0].provider_payment_id.clone()/> }
        });
        let payment_choice = (payments.len() > 1).then(|| {
            let options = payments
                .iter()
                .map(|p| {
                    let label = format!("{} ({} refundable)", p.provider_payment_id, p.refundable);
                    view! {
                        <option value=p.provider_payment_id.clone() selected=p.preselected>{label}</option>
                    }
                })
                .collect_view();
            view! {
                <label for="refund-payment">"Payment"</label>
                <select id="refund-payment" name="payment" data-testid="refund-payment">{options}</select>
            }
        });
        view! {
            <ActionForm action=refund attr:class="admin-action refund">
                <h3>"Refund"</h3>
                <input type="hidden" name="order_id" value=id/>
                <input type="hidden" name="refund_id" value=refund_id/>
                {only}
                {payment_choice}
                <label for="refund-amount">"Amount ("{currency}")"</label>
                <input id="refund-amount" name="amount" value=prefilled inputmode="decimal" required/>
                <label for="refund-reason">"Reason"</label>
                <input id="refund-reason" name="reason" maxlength="200"/>
                <label class="confirm">
                    <input type="checkbox" name="confirm" value="yes" required/>
                    " Yes, give this money back to the shopper"
                </label>
                <button type="submit">"Refund"</button>
                <p class="hint">"At most "{refundable}" remains to refund."</p>
            </ActionForm>
        }
    });
    let (id, release_id, currency, capture_id) = (
        order.id.clone(),
        order.id.clone(),
        order.currency.clone(),
        order.capture_id.clone(),
    );
    let capture_forms = order.awaits_capture.then(move || {
        view! {
            <ActionForm action=capture attr:class="admin-action capture">
                <h3>"Capture"</h3>
                <input type="hidden" name="order_id" value=id/>
                <input type="hidden" name="capture_id" value=capture_id/>
                <label for="capture-amount">"Amount ("{currency}", empty: all)"</label>
                <input id="capture-amount" name="amount" inputmode="decimal"/>
                <label class="confirm">
                    <input type="checkbox" name="confirm" value="yes" required/>
                    " Yes, take this money"
                </label>
                <button type="submit">"Capture"</button>
            </ActionForm>
            <ActionForm action=release attr:class="admin-action release">
                <h3>"Release"</h3>
                <input type="hidden" name="order_id" value=release_id/>
                <label class="confirm">
                    <input type="checkbox" name="confirm" value="yes" required/>
                    " Yes, release what is left of the authorization"
                </label>
                <button type="submit" class="secondary">"Release"</button>
            </ActionForm>
        }
    });
    let cancel_id = order.id.clone();
    let cancel_form = order.cancelable.then(move || {
        view! {
            <ActionForm action=cancel attr:class="admin-action cancel">
                <h3>"Cancel payment"</h3>
                <input type="hidden" name="order_id" value=cancel_id/>
                <label class="confirm">
                    <input type="checkbox" name="confirm" value="yes" required/>
                    " Yes, nobody may pay this payment any more"
                </label>
                <button type="submit" class="secondary">"Cancel payment"</button>
            </ActionForm>
        }
    });
    let attempts = order
        .attempts
        .iter()
        .cloned()
        .map(|attempt| view! { <Attempt attempt/> })
        .collect_view();
    let audit = order
        .audit
        .iter()
        .map(|e| {
            view! {
                <tr>
                    <td>{e.at.clone()}</td>
                    <td>{e.operator.clone()}</td>
                    <td>{e.action.clone()}</td>
                    <td>{e.outcome.clone()}</td>
                </tr>
            }
        })
        .collect_view();
    let no_audit = order
        .audit
        .is_empty()
        .then(|| view! { <p>"No operator has acted on this order."</p> });
    view! {
        <OperatorBar operator=order.operator.clone()/>
        <section class="panel admin admin-order">
            <h1>"Order "<span data-testid="order-id">{order.id.clone()}</span></h1>
            <p>"Created "{order.created_at.clone()}" · status "<strong data-testid="order-status">{order.status.clone()}</strong></p>
            {attention}
            {errors}
            <table class="admin-lines">
                <thead><tr><th>"Article"</th><th>"SKU"</th><th>"Quantity"</th><th>"Unit price"</th><th>"Total"</th></tr></thead>
                <tbody>{lines}</tbody>
                <tfoot><tr><td colspan="4">"Total"</td><td data-testid="order-total">{order.total.clone()}</td></tr></tfoot>
            </table>
            <dl class="admin-money">{money}</dl>
            <div class="admin-actions">
                <ActionForm action=refresh attr:class="admin-action refresh">
                    <h3>"Refresh"</h3>
                    <input type="hidden" name="order_id" value=order.id.clone()/>
                    <button type="submit" class="secondary">"Check payments at Mollie"</button>
                </ActionForm>
                {refund_form}
                {capture_forms}
                {cancel_form}
            </div>
            <h2>"Payments"</h2>
            {attempts}
            <h2>"Audit log"</h2>
            {no_audit}
            <table class="admin-audit" data-testid="audit-log">
                <thead><tr><th>"When"</th><th>"Operator"</th><th>"Action"</th><th>"Outcome"</th></tr></thead>
                <tbody>{audit}</tbody>
            </table>
        </section>
    }
}

#[component]
fn Attempt(attempt: AttemptView) -> impl IntoView {
    let refunds = (!attempt.refunds.is_empty()).then(|| {
        let rows = attempt
            .refunds
            .iter()
            .map(|r| {
                let origin = if r.from_provider { "Mollie dashboard" } else { "shop" };
                view! {
                    <tr data-refund=r.id.clone()>
                        <td>{r.created_at.clone()}</td>
                        <td>{r.provider_id.clone().unwrap_or_default()}</td>
                        <td>{r.amount.clone()}</td>
                        <td>{r.status.clone()}</td>
                        <td>{origin}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <h3>"Refunds"</h3>
            <table class="admin-refunds" data-testid="refunds">
                <thead><tr><th>"Made"</th><th>"Mollie id"</th><th>"Amount"</th><th>"Status"</th><th>"By"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
    });
    let chargebacks = (!attempt.chargebacks.is_empty()).then(|| {
        let rows = attempt
            .chargebacks
            .iter()
            .map(|c| {
                view! {
                    <tr>
                        <td>{c.recorded_at.clone()}</td>
                        <td>{c.id.clone()}</td>
                        <td>{c.amount.clone()}</td>
                        <td>{c.reason.clone().unwrap_or_default()}</td>
                        <td>{c.reversed_at.clone().map(|at| format!("reversed {at}")).unwrap_or_default()}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <h3>"Chargebacks"</h3>
            <table class="admin-chargebacks">
                <thead><tr><th>"Seen"</th><th>"Mollie id"</th><th>"Amount"</th><th>"Reason"</th><th>"Reversal"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
    });
    let capture = attempt
        .captured
        .clone()
        .map(|c| view! { <p>"Captured "{c}</p> });
    let capture_before = attempt
        .capture_before
        .clone()
        .map(|c| view! { <p>"Capture before "{c}</p> });
    let incident = attempt
        .incident
        .clone()
        .map(|i| view! { <p class="alert">"Incident: "{i}</p> });
    let history = attempt
        .history
        .iter()
        .map(|h| view! { <li>{h.clone()}</li> })
        .collect_view();
    view! {
        <article class="admin-attempt" data-payment=attempt.provider_payment_id.clone().unwrap_or_default()>
            <h3>
                {attempt.provider_payment_id.clone().unwrap_or_else(|| attempt.id.clone())}
                " · "{attempt.amount.clone()}" · "{attempt.status.clone()}
            </h3>
            {incident}
            <ol class="history">{history}</ol>
            {capture}
            {capture_before}
            {refunds}
            {chargebacks}
        </article>
    }
}
