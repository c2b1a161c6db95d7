use crate::api::{
    order_status, pay_again, refused_without_script, PayAgain, ShopError, ShopperStatus,
};
#[cfg(feature = "ssr")]
use crate::api::{OrderPanel, OrderView};
use crate::storefront::error_text;
use crate::NotFound;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_params_map;
use std::time::Duration;

/// Polling starts fast (a webhook usually lands within a second) and backs
/// off to this.
const MAX_POLL_DELAY: Duration = Duration::from_secs(5);
const FIRST_POLL_DELAY: Duration = Duration::from_millis(500);
/// Without JavaScript the page reloads itself this often while not final.
#[cfg(feature = "ssr")]
const NO_SCRIPT_REFRESH_SECONDS: u32 = 3;

/// `/orders/{id}`, rendered on the server; [`OrderLive`] is the island that
/// keeps the status current in the browser.
#[component]
pub fn ThankYou() -> impl IntoView {
    let params = use_params_map();
    let order_id = params.read_untracked().get("id").unwrap_or_default();
    let order = OnceResource::new(order_status(order_id.clone()));
    let pay_error = refused_without_script(PayAgain::PATH);
    view! {
        <Suspense fallback=|| view! { <p>"Loading your order…"</p> }>
            {move || {
                let (order_id, pay_error) = (order_id.clone(), pay_error.clone());
                Suspend::new(async move {
                match order.await {
                    Ok(Some(panel)) => view! {
                        <OrderLive order_id status=panel.status html=panel.html pay_error/>
                    }.into_any(),
                    Ok(None) => view! { <NotFound/> }.into_any(),
                    Err(e) => view! { <p class="alert" role="alert">{error_text(e)}</p> }.into_any(),
                }
            })}}
        </Suspense>
    }
}

#[cfg(feature = "ssr")]
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

/// Keeps the server-rendered order panel current: polls, with backoff, until
/// the status is final, and swaps in the panel the server rendered. The
/// panel's forms are plain HTML forms (they work without JavaScript); the
/// island takes over "Try paying again" to show a refusal in place (the page
/// renders the refusal of one posted without JavaScript: `pay_error`).
#[island]
pub fn OrderLive(
    order_id: String,
    status: ShopperStatus,
    html: String,
    pay_error: Option<ShopError>,
) -> impl IntoView {
    let status = RwSignal::new(status);
    let html = RwSignal::new(html);
    let announcement = RwSignal::new(String::new());
    let connection_trouble = RwSignal::new(false);

    let next_delay = StoredValue::new(FIRST_POLL_DELAY);
    let poll_id = order_id.clone();
    Effect::new(move |_| {
        if status.get().is_final() {
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
                        Ok(Some(panel)) => {
                            connection_trouble.set(false);
                            if panel.status != status.get_untracked() {
                                announcement.set(panel.announcement);
                            }
                            html.set(panel.html);
                            status.set(panel.status);
                        }
                        // Keep the last status and keep asking.
                        _ => connection_trouble.set(true),
                    }
                })
            },
            delay,
        );
    });

    let pay_error = RwSignal::new(pay_error);
    // A second click while the first is on its way must not pay twice.
    let paying = StoredValue::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if paying.get_value() {
            return;
        }
        paying.set_value(true);
        pay_error.set(None);
        let id = order_id.clone();
        leptos::task::spawn_local(async move {
            // On success the redirect hook has the browser leave.
            if let Err(e) = pay_again(id).await {
                paying.set_value(false);
                pay_error.set(Some(e));
            }
        });
    };
    view! {
        <section class="panel order" data-status=move || status.get().code() on:submit=on_submit>
            <div inner_html=move || html.get()></div>
            <p class="visually-hidden" role="status" aria-live="polite">{move || announcement.get()}</p>
            {move || connection_trouble.get().then(|| view! {
                <p class="note">"We are having trouble reaching the shop; still trying…"</p>
            })}
            {move || pay_error.get().map(|e| view! {
                <p class="alert" role="alert">{error_text(e)}</p>
            })}
        </section>
    }
}

/// The order's panel as the thank-you page shows it, rendered to HTML on the
/// server: for the page's first render and for every poll.
#[cfg(feature = "ssr")]
pub(crate) fn order_panel(order: &OrderView) -> OrderPanel {
    use leptos::tachys::view::RenderHtml;
    let status = order.status;
    let (headline, detail) = status_message(status);
    let waiting = !status.is_final();
    let pay_again_url = PayAgain::PATH;
    let panel = view! {
        {waiting.then(|| view! {
            <noscript>
                <meta http-equiv="refresh" content=NO_SCRIPT_REFRESH_SECONDS.to_string()/>
            </noscript>
        })}
        <div class="status">
            {waiting.then(|| view! { <span class="spinner" aria-hidden="true"></span> })}
            <h1 data-testid="status-headline">{headline}</h1>
            <p>{detail}</p>
            <p class="status-code">"Status: " <strong data-testid="status">{status.code()}</strong></p>
            <p class="status-code">"Order number: " <span data-testid="order-number">{order.id.clone()}</span></p>
            {order.money_note.clone().map(|note| view! {
                <p class="money-note" data-testid="money-note">{note}</p>
            })}
        </div>
        {waiting.then(|| view! {
            <noscript>
                <p><a href=format!("/orders/{}", order.id)>"Refresh the status"</a></p>
            </noscript>
        })}
        <table class="lines">
            <caption>"Your order"</caption>
            <tbody>
                {order.lines.iter().map(|line| view! {
                    <tr><td>{line.quantity}" × "{line.name.clone()}</td><td class="amount">{line.line_total.clone()}</td></tr>
                }).collect::<Vec<_>>()}
            </tbody>
            <tfoot><tr><th scope="row">"Total"</th><td class="amount">{order.total.clone()}</td></tr></tfoot>
        </table>
        <div class="actions">
            {status.can_pay_again().then(|| view! {
                // A plain form: posted by the browser without JavaScript,
                // taken over by the island with it.
                <form method="post" action=pay_again_url class="pay-again">
                    <input type="hidden" name="order_id" value=order.id.clone()/>
                    <button type="submit">"Try paying again"</button>
                </form>
            })}
            <a class="button secondary" href="/">"Back to the shop"</a>
        </div>
    };
    OrderPanel {
        status,
        html: panel.to_html(),
        announcement: format!("{headline} {detail}"),
    }
}
