//! A payment of an order on its back-office page: its history, capture,
//! incident, refunds and chargebacks.

use super::views::{AttemptView, ChargebackView, RefundView};
use leptos::prelude::*;

#[component]
pub(super) fn Attempt(attempt: AttemptView) -> impl IntoView {
    let refunds =
        (!attempt.refunds.is_empty()).then(|| view! { <Refunds refunds=attempt.refunds/> });
    let chargebacks = (!attempt.chargebacks.is_empty())
        .then(|| view! { <Chargebacks chargebacks=attempt.chargebacks/> });
    let method = attempt
        .method
        .map(|m| view! { <p class="method">"Paid with "{m}</p> });
    let capture = attempt.captured.map(|c| view! { <p>"Captured "{c}</p> });
    let capture_before = attempt
        .capture_before
        .map(|c| view! { <p>"Capture before "{c}</p> });
    let incident = attempt
        .incident
        .map(|i| view! { <p class="alert">"Incident: "{i}</p> });
    let history = attempt
        .history
        .into_iter()
        .map(|h| view! { <li>{h}</li> })
        .collect_view();
    let payment = attempt.provider_payment_id.clone().unwrap_or_default();
    view! {
        <article class="admin-attempt" data-payment=payment>
            <h3>
                {attempt.provider_payment_id.unwrap_or(attempt.id)}
                " · "{attempt.amount}" · "{attempt.status}
            </h3>
            {incident}
            <ol class="history">{history}</ol>
            {method}
            {capture}
            {capture_before}
            {refunds}
            {chargebacks}
        </article>
    }
}

#[component]
fn Refunds(refunds: Vec<RefundView>) -> impl IntoView {
    let rows = refunds
        .into_iter()
        .map(|r| {
            let origin = if r.from_provider {
                "Mollie dashboard"
            } else {
                "shop"
            };
            view! {
                <tr data-refund=r.id>
                    <td>{r.created_at}</td>
                    <td>{r.provider_id.unwrap_or_default()}</td>
                    <td>{r.amount}</td>
                    <td>{r.status}</td>
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
}

#[component]
fn Chargebacks(chargebacks: Vec<ChargebackView>) -> impl IntoView {
    let rows = chargebacks
        .into_iter()
        .map(|c| {
            view! {
                <tr>
                    <td>{c.recorded_at}</td>
                    <td>{c.id}</td>
                    <td>{c.amount}</td>
                    <td>{c.reason.unwrap_or_default()}</td>
                    <td>{c.reversed_at.map(|at| format!("reversed {at}")).unwrap_or_default()}</td>
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
}
