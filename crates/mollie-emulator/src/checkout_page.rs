//! The hosted checkout page: like Mollie's test mode, the tester picks the
//! outcome from radio buttons and continues.

use crate::state::{EmulatorState, PaymentStatus};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::sync::Arc;

const OUTCOMES: [(PaymentStatus, &str); 5] = [
    (PaymentStatus::Paid, "Paid"),
    (PaymentStatus::Failed, "Failed"),
    (PaymentStatus::Canceled, "Canceled"),
    (PaymentStatus::Expired, "Expired"),
    (PaymentStatus::Open, "Leave open (come back later)"),
];

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(title: &str, body: &str) -> Response {
    let html = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Mollie test mode (emulator)</title>
<style>
body{{font-family:system-ui,sans-serif;background:#f3f4f7;color:#1b1d24;margin:0;padding:2rem 1rem}}
main{{max-width:28rem;margin:0 auto;background:#fff;border-radius:12px;padding:1.5rem 2rem;box-shadow:0 2px 12px #0002}}
.note{{background:#fff4d6;border:1px solid #e8c66a;border-radius:6px;padding:.5rem .75rem;font-size:.9rem}}
.amount{{font-size:2rem;font-weight:700;margin:.25rem 0}}
fieldset{{border:1px solid #ccd;border-radius:8px;margin:1rem 0;padding:.5rem 1rem}}
label{{display:block;padding:.4rem 0;cursor:pointer}}
button{{font:inherit;background:#0b57d0;color:#fff;border:0;border-radius:8px;padding:.7rem 1.4rem;cursor:pointer}}
button:focus-visible,input:focus-visible{{outline:3px solid #f5a623;outline-offset:2px}}
</style></head><body><main>{body}</main></body></html>"#
    );
    Html(html).into_response()
}

pub async fn show(State(state): State<Arc<EmulatorState>>, Path(id): Path<String>) -> Response {
    let Some(payment) = state.get(&id) else {
        return (
            StatusCode::NOT_FOUND,
            page("Not found", "<h1>Payment not found</h1>"),
        )
            .into_response();
    };
    let amount = format!(
        "{} {}",
        payment.amount["currency"].as_str().unwrap_or_default(),
        payment.amount["value"].as_str().unwrap_or_default()
    );
    let description = escape(&payment.description);
    if payment.status != PaymentStatus::Open {
        let body = format!(
            r#"<h1>This payment is {status}</h1><p>{description}</p><p><a href="{back}">Back to the shop</a></p>"#,
            status = payment.status,
            back = escape(&payment.redirect_url),
        );
        return page("Payment", &body);
    }
    let choices: String = OUTCOMES
        .iter()
        .enumerate()
        .map(|(i, (value, label))| {
            // Paying a manual-capture payment authorizes it.
            let label = match value {
                PaymentStatus::Paid if payment.manual_capture => "Authorized (the shop captures later)",
                _ => label,
            };
            let checked = if i == 0 { " checked" } else { "" };
            format!(r#"<label><input type="radio" name="outcome" value="{value}"{checked}> {label}</label>"#)
        })
        .collect();
    let lines: String = payment
        .lines
        .iter()
        .map(|line| {
            let text = |name: &str| line[name].as_str().unwrap_or_default().to_owned();
            format!(
                "<li>{} × {} <span>{} {}</span></li>",
                line["quantity"],
                escape(&text("description")),
                escape(line["totalAmount"]["currency"].as_str().unwrap_or_default()),
                escape(line["totalAmount"]["value"].as_str().unwrap_or_default()),
            )
        })
        .collect();
    let lines = if lines.is_empty() {
        String::new()
    } else {
        format!(r#"<ul class="lines" data-testid="lines">{lines}</ul>"#)
    };
    // The method the shop's customer picked before coming here; else, as
    // on Mollie's page, the shopper picks one here.
    let (method, method_choice) = match payment.method.as_deref() {
        Some(m) => (
            format!(
                r#"<p>Payment method: <strong data-testid="method">{}</strong></p>"#,
                escape(m)
            ),
            String::new(),
        ),
        None => {
            let options: String = crate::methods::methods_taking(&payment.amount)
                .iter()
                .map(|(id, name)| format!(r#"<option value="{id}">{}</option>"#, escape(name)))
                .collect();
            (
                String::new(),
                format!(
                    r#"<label>Payment method <select name="method" data-testid="method-choice">{options}</select></label>"#
                ),
            )
        }
    };
    let body = format!(
        r#"<p class="note">Note: this is a testmode payment.</p>
<h1>Pay <span class="amount" data-testid="amount">{amount}</span></h1>
<p data-testid="description">{description}</p>
{method}
{lines}
<form method="post">
{method_choice}
<fieldset><legend>Select the payment status</legend>{choices}</fieldset>
<button type="submit">Continue</button>
</form>"#,
        amount = escape(&amount),
    );
    page("Checkout", &body)
}

#[derive(Deserialize)]
pub struct OutcomeForm {
    outcome: String,
    /// The shopper's choice, when the shop did not pick one.
    #[serde(default)]
    method: Option<String>,
}

pub async fn choose_outcome(
    State(state): State<Arc<EmulatorState>>,
    Path(id): Path<String>,
    Form(form): Form<OutcomeForm>,
) -> Response {
    let Some(payment) = state.get(&id) else {
        return (
            StatusCode::NOT_FOUND,
            page("Not found", "<h1>Payment not found</h1>"),
        )
            .into_response();
    };
    let Some(outcome) = PaymentStatus::parse(&form.outcome) else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            page("Checkout", "<h1>Unknown outcome</h1>"),
        )
            .into_response();
    };
    if outcome != PaymentStatus::Open {
        let chosen = form.method.as_deref().and_then(|choice| {
            crate::methods::methods_taking(&payment.amount)
                .into_iter()
                .find(|(id, _)| *id == choice)
        });
        if let Some((method, _)) = chosen {
            state.choose_method(&id, method);
        }
        state.complete(&id, outcome);
    }
    let back = match (outcome, &payment.cancel_url) {
        (PaymentStatus::Canceled, Some(cancel_url)) => cancel_url.clone(),
        _ => payment.redirect_url.clone(),
    };
    let mut response = Redirect::to(&back).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}
