use crate::api::{order_status, OrderView, PayAgain, ShopperStatus};
use crate::storefront::error_text;
use crate::NotFound;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use std::time::Duration;

/// Polling starts fast (a webhook usually lands within a second) and backs
/// off to this.
const MAX_POLL_DELAY: Duration = Duration::from_secs(5);
const FIRST_POLL_DELAY: Duration = Duration::from_millis(500);
/// Without JavaScript the page reloads itself this often while not final.
const NO_SCRIPT_REFRESH_SECONDS: u32 = 3;

/// `/orders/{id}`, rendered on the server; [`OrderLive`] is the island that
/// keeps the status current in the browser.
#[component]
pub fn ThankYou() -> impl IntoView {
    let params = use_params_map();
    let order_id = params.read_untracked().get("id").unwrap_or_default();
    let order = OnceResource::new(order_status(order_id));
    view! {
        <Suspense fallback=|| view! { <p>"Loading your order…"</p> }>
            {move || Suspend::new(async move {
                match order.await {
                    Ok(Some(order)) => view! { <OrderLive order/> }.into_any(),
                    Ok(None) => view! { <NotFound/> }.into_any(),
                    Err(e) => view! { <p class="alert" role="alert">{error_text(e)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn status_message(status: ShopperStatus) -> (&'static str, &'static str) {
    match status {
        ShopperStatus::Paid => (
            "Thank you! Your payment was received.",
            "We are packing your order.",
        ),
        ShopperStatus::Authorized => (
            "Thank you! Your payment is reserved.",
            "We take it when your order ships.",
        ),
        ShopperStatus::Failed => (
            "The payment failed.",
            "No money was taken. You can try again.",
        ),
        ShopperStatus::Canceled => (
            "The payment was canceled.",
            "No money was taken. You can try again.",
        ),
        ShopperStatus::Expired => (
            "The payment expired.",
            "No money was taken. You can try again.",
        ),
        ShopperStatus::PaymentPending => (
            "Your payment is being processed…",
            "This page updates by itself.",
        ),
        ShopperStatus::AwaitingPayment => {
            ("Waiting for your payment…", "This page updates by itself.")
        }
    }
}

#[island]
pub fn OrderLive(order: OrderView) -> impl IntoView {
    let id = order.id.clone();
    let lines = order.lines.clone();
    let total = order.total.clone();
    let order = RwSignal::new(order);
    let connection_trouble = RwSignal::new(false);

    // In the browser: ask again, with backoff, until the status is final.
    let next_delay = StoredValue::new(FIRST_POLL_DELAY);
    let poll_id = id.clone();
    Effect::new(move |_| {
        if order.with(|o| o.status.is_final()) {
            return;
        }
        // Re-runs whenever a poll lands (or fails, through the flag).
        connection_trouble.track();
        let delay = next_delay.get_value();
        next_delay.set_value((delay * 3 / 2).min(MAX_POLL_DELAY));
        let id = poll_id.clone();
        set_timeout(
            move || {
                leptos::task::spawn_local(async move {
                    match order_status(id).await {
                        Ok(Some(view)) => {
                            connection_trouble.set(false);
                            order.set(view);
                        }
                        // Keep the last status and keep asking.
                        _ => connection_trouble.set(true),
                    }
                })
            },
            delay,
        );
    });

    let status = move || order.with(|o| o.status);
    let is_final = move || status().is_final();
    let can_pay_again = move || status().can_pay_again();
    view! {
        <section class="panel order" data-status=move || status().code()>
            {move || (!is_final()).then(|| view! {
                <noscript>
                    <meta http-equiv="refresh" content=NO_SCRIPT_REFRESH_SECONDS.to_string()/>
                </noscript>
            })}
            <div class="status" role="status" aria-live="polite">
                {move || (!is_final()).then(|| view! {
                    <span class="spinner" aria-hidden="true"></span>
                })}
                <h1 data-testid="status-headline">{move || status_message(status()).0}</h1>
                <p>{move || status_message(status()).1}</p>
                <p class="status-code">"Status: " <strong data-testid="status">{move || status().code()}</strong></p>
                {move || order.with(|o| o.money_note.clone()).map(|note| view! {
                    <p class="money-note" data-testid="money-note">{note}</p>
                })}
                {move || connection_trouble.get().then(|| view! {
                    <p class="note">"We are having trouble reaching the shop; still trying…"</p>
                })}
            </div>
            {move || (!is_final()).then(|| view! {
                <noscript>
                    <p><a href=format!("/orders/{}", order.with(|o| o.id.clone()))>"Refresh the status"</a></p>
                </noscript>
            })}
            <table class="lines">
                <caption>"Your order"</caption>
                <tbody>
                    {lines.into_iter().map(|line| view! {
                        <tr><td>{line.quantity}" × "{line.name}</td><td class="amount">{line.line_total}</td></tr>
                    }).collect_view()}
                </tbody>
                <tfoot><tr><th scope="row">"Total"</th><td class="amount">{total}</td></tr></tfoot>
            </table>
            <div class="actions">
                {move || can_pay_again().then(|| view! { <PayAgainForm order_id=id.clone()/> })}
                <a class="button secondary" href="/">"Back to the shop"</a>
            </div>
        </section>
    }
}

#[component]
fn PayAgainForm(order_id: String) -> impl IntoView {
    let pay_again = ServerAction::<PayAgain>::new();
    view! {
        <ActionForm action=pay_again attr:class="pay-again">
            <input type="hidden" name="order_id" value=order_id/>
            <button type="submit" disabled=move || pay_again.pending().get()>"Try paying again"</button>
        </ActionForm>
        {move || pay_again.value().get().and_then(Result::err).map(|e| view! {
            <p class="alert" role="alert">{error_text(e)}</p>
        })}
    }
}
