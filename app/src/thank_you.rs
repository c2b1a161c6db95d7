use crate::api::{order_status, OrderView, PayAgain};
use crate::NotFound;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use std::time::Duration;

/// Polling starts fast (a webhook usually lands within a second) and backs
/// off to this.
const MAX_POLL_DELAY: Duration = Duration::from_secs(5);
const FIRST_POLL_DELAY: Duration = Duration::from_millis(500);

#[component]
pub fn ThankYou() -> impl IntoView {
    let params = use_params_map();
    let order_id = move || params.read().get("id").unwrap_or_default();
    let order = Resource::new(order_id, order_status);

    // In the browser: ask again, with backoff, until the status is final.
    let next_delay = StoredValue::new(FIRST_POLL_DELAY);
    Effect::new(move |_| {
        if let Some(Ok(Some(view))) = order.get() {
            if !view.is_final {
                let delay = next_delay.get_value();
                next_delay.set_value((delay * 3 / 2).min(MAX_POLL_DELAY));
                set_timeout(move || order.refetch(), delay);
            }
        }
    });

    view! {
        <Transition fallback=|| view! { <p>"Loading your order…"</p> }>
            {move || Suspend::new(async move {
                match order.await {
                    Ok(Some(view)) => view! { <OrderDetails order=view/> }.into_any(),
                    Ok(None) => view! { <NotFound/> }.into_any(),
                    Err(_) => view! {
                        <p class="alert" role="alert">
                            "We cannot show your order right now; please reload in a moment."
                        </p>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

fn status_message(status: &str) -> (&'static str, &'static str) {
    match status {
        "paid" => (
            "Thank you! Your payment was received.",
            "We are packing your order.",
        ),
        "failed" => (
            "The payment failed.",
            "No money was taken. You can try again.",
        ),
        "canceled" => (
            "The payment was canceled.",
            "No money was taken. You can try again.",
        ),
        "expired" => (
            "The payment expired.",
            "No money was taken. You can try again.",
        ),
        "payment_pending" => (
            "Your payment is being processed…",
            "This page updates by itself.",
        ),
        _ => ("Waiting for your payment…", "This page updates by itself."),
    }
}

#[component]
fn OrderDetails(order: OrderView) -> impl IntoView {
    let (headline, detail) = status_message(&order.status);
    let refresh_link = format!("/orders/{}", order.id);
    let can_pay_again = matches!(order.status.as_str(), "failed" | "canceled" | "expired");
    let order_id = order.id.clone();
    view! {
        <section class="panel order" data-status=order.status.clone()>
            <div class="status" aria-live="polite" role="status">
                {(!order.is_final).then(|| view! { <span class="spinner" aria-hidden="true"></span> })}
                <h1 data-testid="status-headline">{headline}</h1>
                <p>{detail}</p>
                <p class="status-code">"Status: " <strong data-testid="status">{order.status.clone()}</strong></p>
            </div>
            {(!order.is_final).then(|| view! {
                <noscript><p><a href=refresh_link>"Refresh the status"</a></p></noscript>
            })}
            <table class="lines">
                <caption>"Your order"</caption>
                <tbody>
                    {order.lines.into_iter().map(|line| view! {
                        <tr><td>{line.quantity}" × "{line.name}</td><td class="amount">{line.line_total}</td></tr>
                    }).collect_view()}
                </tbody>
                <tfoot><tr><th scope="row">"Total"</th><td class="amount">{order.total}</td></tr></tfoot>
            </table>
            {can_pay_again.then(|| view! { <PayAgainForm order_id=order_id.clone()/> })}
            <a class="button secondary" href="/">"Back to the shop"</a>
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
            <p class="alert" role="alert">{crate::storefront::error_text(e)}</p>
        })}
    }
}
