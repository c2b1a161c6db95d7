//! The withdrawal function (`/withdraw`), reachable from every page's
//! footer: a short form (name, order number, the order's e-mail address),
//! a confirm step that shows the statement, and a receipt. Plain HTML
//! forms rendered on the server, no island: it works without JavaScript.
//!
//! Between the two steps the entries wait in a cookie (HttpOnly,
//! SameSite=Strict, 30 minutes, cleared on confirmation), never in a URL,
//! where logs would keep the address; the confirm step checks them all
//! again, so a cookie changed by hand gains nothing.

use crate::api::{refusals, refused_without_script, ShopError};
use http::header::{HeaderValue, COOKIE, SET_COOKIE};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

const PENDING_COOKIE: &str = "withdrawal";

/// What the shopper entered, waiting for their confirmation.
#[derive(Clone, Debug)]
struct Pending {
    order: String,
    name: String,
    email: String,
}

/// The confirm step's page.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConfirmView {
    pub statement: String,
}

/// The receipt's page.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReceiptView {
    pub received_at: String,
    pub refund_due: String,
}

/// Step 1: checks the entries; on success they wait in the cookie and
/// the shopper goes on to confirm.
#[server(endpoint = "withdraw/check")]
pub async fn withdrawal_check(order: String, name: String, email: String) -> Result<(), ShopError> {
    let pending = Pending {
        order: order.trim().to_owned(),
        name,
        email: email.trim().to_owned(),
    };
    let service = refusals::service()?;
    let (order_id, email) = entries(&pending)?;
    let preview = service
        .preview_withdrawal(order_id.as_ref(), &pending.name, &email)
        .await
        .map_err(withdrawal_refused)?;
    // Kept as checked: the name trimmed, on one line.
    save_pending(Some(&Pending {
        name: preview.name,
        ..pending
    }));
    leptos_axum::redirect("/withdraw/confirm");
    Ok(())
}

/// The confirm step's statement, from the cookie; `None` without one.
#[server(endpoint = "withdraw/statement")]
pub async fn withdrawal_statement() -> Result<Option<ConfirmView>, ShopError> {
    let Some(pending) = pending().await else {
        return Ok(None);
    };
    let service = refusals::service()?;
    let (order_id, email) = entries(&pending)?;
    let preview = service
        .preview_withdrawal(order_id.as_ref(), &pending.name, &email)
        .await
        .map_err(withdrawal_refused)?;
    Ok(Some(ConfirmView {
        statement: preview.statement,
    }))
}

/// Step 2: records the withdrawal; the acknowledgement goes out by e-mail.
#[server(endpoint = "withdraw/confirm")]
pub async fn withdrawal_confirm() -> Result<(), ShopError> {
    let pending = pending().await.ok_or_else(|| {
        refusals::reject(
            http::StatusCode::UNPROCESSABLE_ENTITY,
            "Your entries were not kept (more than 30 minutes, or cookies off); please fill in the form again.",
        )
    })?;
    let service = refusals::service()?;
    let (order_id, email) = entries(&pending)?;
    match service
        .withdraw(order_id.as_ref(), &pending.name, &email)
        .await
    {
        // A double click: the first one recorded it; show its receipt.
        Ok(_)
        | Err(checkout::WithdrawalError::Refused(
            checkout::WithdrawalRefusal::AlreadyWithdrawn { .. },
        )) => {}
        Err(e) => return Err(withdrawal_refused(e)),
    }
    save_pending(None);
    leptos_axum::redirect(&format!("/withdraw/received?order={}", pending.order));
    Ok(())
}

/// The receipt of an order's withdrawal; `None` when it has none.
#[server(endpoint = "withdraw/receipt")]
pub async fn withdrawal_receipt(order: String) -> Result<Option<ReceiptView>, ShopError> {
    let Some(order_id) = checkout::OrderId::parse(&order) else {
        return Ok(None);
    };
    let service = refusals::service()?;
    let withdrawal = service
        .withdrawal_of(&order_id)
        .await
        .map_err(|_| unavailable())?;
    Ok(withdrawal.map(|w| ReceiptView {
        received_at: checkout::withdrawal::when(w.received_at),
        refund_due: checkout::withdrawal::when(w.refund_due()),
    }))
}

fn unavailable() -> ShopError {
    refusals::reject(
        http::StatusCode::SERVICE_UNAVAILABLE,
        "The shop cannot take withdrawals right now; please try again, or write to us.",
    )
}

/// The order id (`None` when it is not one: the same answer as an
/// unknown order) and the address, or a refusal in plain words.
fn entries(
    pending: &Pending,
) -> Result<(Option<checkout::OrderId>, checkout::EmailAddress), ShopError> {
    let email = checkout::EmailAddress::parse(&pending.email).map_err(|_| {
        refusals::reject(
            http::StatusCode::UNPROCESSABLE_ENTITY,
            "Please check the e-mail address: it should look like name@example.com.",
        )
    })?;
    Ok((order_id_in(&pending.order), email))
}

/// The order id in what the shopper pasted: the id itself in any case, or
/// a link to the order's page.
fn order_id_in(text: &str) -> Option<checkout::OrderId> {
    let text = text.trim().to_ascii_lowercase();
    let id = text.rsplit('/').next().unwrap_or_default();
    let id = id.split(['?', '#']).next().unwrap_or_default();
    checkout::OrderId::parse(id)
}

fn withdrawal_refused(error: checkout::WithdrawalError) -> ShopError {
    use checkout::WithdrawalRefusal::*;
    let refusal = match error {
        checkout::WithdrawalError::Refused(refusal) => refusal,
        checkout::WithdrawalError::Store(error) => {
            tracing::error!(error = %checkout::error_report(&error), "withdrawal: store unavailable");
            return unavailable();
        }
    };
    let (status, message) = match refusal {
        NameMissing => (422, "Please give your name.".to_owned()),
        NameMalformed => (
            422,
            format!(
                "Please give your name on one line, at most {} characters.",
                checkout::withdrawal::MAX_NAME_CHARS
            ),
        ),
        NotFound => (
            404,
            "We found no order with this number and e-mail address. The number is in your order confirmation (it starts with ord_); the address is the one you ordered with.".to_owned(),
        ),
        NotPaid => (
            422,
            "This order was not paid, so there is no contract to withdraw from: nothing to do.".to_owned(),
        ),
        PeriodOver { ended } => (
            422,
            format!(
                "The withdrawal period of this order ended on {}. If you think this is wrong, please write to us.",
                checkout::withdrawal::when(ended)
            ),
        ),
        AlreadyWithdrawn { received_at } => (
            409,
            format!(
                "We received your withdrawal from this order already, on {}.",
                checkout::withdrawal::when(received_at)
            ),
        ),
    };
    refusals::reject(
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::UNPROCESSABLE_ENTITY),
        message,
    )
}

async fn pending() -> Option<Pending> {
    let headers: http::HeaderMap = leptos_axum::extract().await.unwrap_or_default();
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == PENDING_COOKIE)
        .and_then(|c| Pending::from_cookie(c.value()))
}

impl Pending {
    /// The three entries, one a line (none holds a line break once
    /// checked), hex-encoded: a cookie value takes no other characters.
    fn to_cookie(&self) -> String {
        let text = format!("{}\n{}\n{}", self.order, self.name, self.email);
        text.bytes().map(|b| format!("{b:02x}")).collect()
    }

    fn from_cookie(value: &str) -> Option<Self> {
        let bytes = (0..value.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(value.get(i..i + 2)?, 16).ok())
            .collect::<Option<Vec<u8>>>()?;
        let text = String::from_utf8(bytes).ok()?;
        let mut parts = text.split('\n');
        let pending = Self {
            order: parts.next()?.to_owned(),
            name: parts.next()?.to_owned(),
            email: parts.next()?.to_owned(),
        };
        parts.next().is_none().then_some(pending)
    }
}

/// Sets the cookie to `pending`, or clears it.
fn save_pending(pending: Option<&Pending>) {
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let secure = use_context::<crate::security::CookiePolicy>().is_some_and(|p| p.secure);
    let (value, max_age) = match pending {
        Some(p) => (p.to_cookie(), time::Duration::minutes(30)),
        None => (String::new(), time::Duration::ZERO),
    };
    let cookie = cookie::Cookie::build((PENDING_COOKIE, value))
        .path("/")
        .max_age(max_age)
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .secure(secure)
        .build();
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.append_header(SET_COOKIE, value);
    }
}

fn alert(error: Option<ShopError>) -> Option<impl IntoView> {
    error.map(|e| {
        view! { <p class="alert" role="alert" tabindex="-1" id="withdraw-error">{crate::storefront::error_text(e)}</p> }
    })
}

/// `/withdraw`: the form.
#[component]
pub fn WithdrawForm() -> impl IntoView {
    let error = refused_without_script(WithdrawalCheck::PATH)
        .or_else(|| refused_without_script(WithdrawalConfirm::PATH));
    let described = error.is_some().then_some("withdraw-error");
    view! {
        <Title text="Withdraw from a contract · Paper & Clay"/>
        <section class="panel withdraw">
            <h1>"Withdraw from contract here"</h1>
            <p>
                "You may withdraw from a purchase without giving a reason within 14 days of receiving the goods. "
                "Fill in the form, check the statement on the next page and confirm it. "
                "We send you an acknowledgement by e-mail and refund what you paid within 14 days."
            </p>
            {alert(error)}
            <form method="post" action=WithdrawalCheck::PATH class="withdraw-form" aria-describedby=described>
                <label for="withdraw-name">"Your name"</label>
                <input id="withdraw-name" name="name" autocomplete="name" required maxlength="100"/>
                <label for="withdraw-order">"Order number"</label>
                <input id="withdraw-order" name="order" required placeholder="ord_…" aria-describedby="withdraw-order-hint"/>
                <p class="hint" id="withdraw-order-hint">"It is in your order confirmation e-mail and on your order's page, and starts with ord_ (a link to the order's page works too)."</p>
                <label for="withdraw-email">"The e-mail address you ordered with"</label>
                <input id="withdraw-email" name="email" type="email" autocomplete="email" required/>
                <button type="submit">"Continue"</button>
            </form>
        </section>
    }
}

/// `/withdraw/confirm`: the statement and the button that sends it.
#[component]
pub fn WithdrawConfirm() -> impl IntoView {
    let statement = OnceResource::new(withdrawal_statement());
    let error = refused_without_script(WithdrawalConfirm::PATH);
    view! {
        <Title text="Confirm your withdrawal · Paper & Clay"/>
        <section class="panel withdraw">
            <h1>"Confirm your withdrawal"</h1>
            {alert(error)}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match statement.await {
                        Ok(Some(view)) => view! {
                            <p>"By confirming, you send us this statement:"</p>
                            <blockquote class="statement" data-testid="statement">{view.statement}</blockquote>
                            <form method="post" action=WithdrawalConfirm::PATH>
                                <button type="submit">"Confirm withdrawal"</button>
                            </form>
                            <p><a href="/withdraw">"Change the entries"</a></p>
                        }.into_any(),
                        Ok(None) => view! {
                            <p>"Your entries were not kept (more than 30 minutes, or cookies off)."</p>
                            <p><a class="button" href="/withdraw">"Fill in the form"</a></p>
                        }.into_any(),
                        Err(e) => view! {
                            {alert(Some(e))}
                            <p><a class="button" href="/withdraw">"Back to the form"</a></p>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// `/withdraw/received?order=…`: the receipt.
#[component]
pub fn WithdrawReceived() -> impl IntoView {
    let order = use_query_map().with_untracked(|q| q.get("order").unwrap_or_default());
    let receipt = OnceResource::new(withdrawal_receipt(order));
    view! {
        <Title text="Withdrawal received · Paper & Clay"/>
        <section class="panel withdraw">
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match receipt.await {
                        Ok(Some(receipt)) => view! {
                            <h1>"Withdrawal received"</h1>
                            <p data-testid="received">
                                "We received your withdrawal on "{receipt.received_at}"."
                            </p>
                            <p>
                                "An acknowledgement with your statement is on its way to the order's e-mail address. "
                                "We refund what you paid by "{receipt.refund_due}" at the latest."
                            </p>
                            <p><a class="button" href="/">"Back to the shop"</a></p>
                        }.into_any(),
                        Ok(None) => view! { <crate::NotFound/> }.into_any(),
                        Err(e) => alert(Some(e)).into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
