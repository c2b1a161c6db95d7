//! The back office's server functions. Every one but sign-in needs a
//! signed-in operator: without one it answers 401 (a plain form post is
//! sent back to its page with the error) and reads or changes nothing.
//! Each action goes through the checkout service's operator operations,
//! which write the audit log.

#[cfg(feature = "ssr")]
use super::{access, mapping, refusals};
use super::{BackOfficeError, BackOfficeOrderView, OrderListView, StockView};
use leptos::prelude::*;

/// How many orders a page of the list shows.
pub const ORDERS_PER_PAGE: usize = 25;

/// Signs in with an operator's name and password, then opens the orders.
/// Failed sign-ins are counted per account and per client in the store, so
/// guessing is bounded across every process; past the limit a sign-in is
/// refused before its password is checked.
#[server(endpoint = "admin/sign_in")]
pub async fn back_office_sign_in(name: String, password: String) -> Result<(), BackOfficeError> {
    let access = access::access()?;
    let service = refusals::service()?;
    let name = name.trim().to_owned();
    let client = access::client_address().to_string();
    let limits = access.sign_in_limits;
    let now = service.now();
    // Counted before the password is checked: a burst of attempts cannot
    // check more passwords than the limits allow, on any process.
    if !service
        .begin_sign_in(&name, &client, &limits, now)
        .await
        .map_err(refusals::store_failed)?
    {
        tracing::warn!(
            security_event = true,
            "back-office sign-in refused: too many failures"
        );
        return Err(refusals::reject(
            http::StatusCode::TOO_MANY_REQUESTS,
            "Too many failed sign-ins. Please wait 15 minutes and try again.",
        ));
    }
    let operator = access::verify_password(&access, &name, password).await?;
    access::accounts_current(&access, &service, &operator).await?;
    service
        .sign_in_succeeded(&name, &client, now)
        .await
        .map_err(refusals::store_failed)?;
    tracing::info!(operator, "back-office sign-in");
    access::set_cookie(&access.sessions.sign_in(&access.operators, &operator, now));
    leptos_axum::redirect("/admin");
    Ok(())
}

/// Signs the operator out everywhere: every session of theirs issued
/// until now ends, on every process, not only this browser's cookie.
#[server(endpoint = "admin/sign_out")]
pub async fn back_office_sign_out() -> Result<(), BackOfficeError> {
    let access = access::access()?;
    if let Ok(operator) = access::operator().await {
        let service = refusals::service()?;
        service
            .end_operator_sessions(&operator, service.now())
            .await
            .map_err(refusals::store_failed)?;
        tracing::info!(operator, "back-office sign-out: sessions ended");
    }
    access::set_cookie(&access.sessions.sign_out());
    leptos_axum::redirect("/admin");
    Ok(())
}

/// Orders newest first that pass `status` (a filter's code; all when
/// empty), a page at a time (`after`: the previous page's `next`), or the
/// order whose id or Mollie payment id is `search`.
#[server(endpoint = "admin/orders")]
pub async fn back_office_orders(
    after: Option<String>,
    search: Option<String>,
    status: Option<String>,
) -> Result<OrderListView, BackOfficeError> {
    let operator = access::operator().await?;
    let service = refusals::service()?;
    let now = service.now();
    let warning = service.reconcile_policy().capture_warning;
    let filter = refusals::filter(status.as_deref())?;
    let filters = checkout::OrderFilter::ALL
        .iter()
        .map(|f| (f.code().to_owned(), f.label().to_owned()))
        .collect();
    let search = search
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    if let Some(text) = &search {
        let found = service
            .find_order(text)
            .await
            .map_err(refusals::store_failed)?;
        let mut orders = Vec::new();
        if let Some(id) = found {
            if let Some((record, status)) =
                service.order(&id).await.map_err(refusals::store_failed)?
            {
                orders.push(mapping::row(&record, status, now, warning));
            }
        }
        return Ok(OrderListView {
            operator,
            orders,
            next: None,
            search,
            filter: checkout::OrderFilter::All.code().to_owned(),
            filters,
        });
    }
    let after = refusals::cursor(after.as_deref())?;
    let list = service
        .recent_orders(after.as_ref(), ORDERS_PER_PAGE, filter)
        .await
        .map_err(refusals::store_failed)?;
    Ok(OrderListView {
        operator,
        orders: list
            .orders
            .iter()
            .map(|(record, status)| mapping::row(record, *status, now, warning))
            .collect(),
        next: list.next.map(|c| c.to_token()),
        search: None,
        filter: filter.code().to_owned(),
        filters,
    })
}

/// One order with everything about its money and its audit log; `None`
/// for an unknown order.
#[server(endpoint = "admin/order")]
pub async fn back_office_order(
    order_id: String,
) -> Result<Option<BackOfficeOrderView>, BackOfficeError> {
    let operator = access::operator().await?;
    let Some(id) = checkout::OrderId::parse(&order_id) else {
        crate::api::refusals::set_status(http::StatusCode::NOT_FOUND);
        return Ok(None);
    };
    let service = refusals::service()?;
    let Some((record, status)) = service.order(&id).await.map_err(refusals::store_failed)? else {
        crate::api::refusals::set_status(http::StatusCode::NOT_FOUND);
        return Ok(None);
    };
    let audit = service
        .audit_log(&id)
        .await
        .map_err(refusals::store_failed)?;
    let messages = service
        .order_messages(&record)
        .await
        .map_err(refusals::store_failed)?;
    Ok(Some(mapping::order_view(
        operator,
        &record,
        status,
        &audit,
        &messages,
        service.now(),
        service.reconcile_policy().capture_warning,
    )))
}

/// Reads the order's payments from Mollie again.
#[server(endpoint = "admin/refresh")]
pub async fn back_office_refresh(order_id: String) -> Result<(), BackOfficeError> {
    let operator = access::operator().await?;
    let id = refusals::order_id(&order_id)?;
    refusals::service()?
        .operator_refresh(&operator, &id)
        .await
        .map_err(refusals::action_failed)
}

/// Refunds `amount` (a decimal in the order's currency) of the order's
/// payment `payment` (Mollie's `tr_...`; none: the first that took money).
/// `confirm` must be ticked: money moves.
#[server(endpoint = "admin/refund")]
pub async fn back_office_refund(
    order_id: String,
    payment: Option<String>,
    refund_id: String,
    amount: String,
    reason: String,
    confirm: Option<String>,
) -> Result<(), BackOfficeError> {
    let (operator, id) = access::confirmed_action(&order_id, confirm.as_deref()).await?;
    let payment = match payment.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => None,
        Some(text) => Some(checkout::ProviderPaymentId::parse(text).ok_or_else(|| {
            refusals::reject(
                http::StatusCode::UNPROCESSABLE_ENTITY,
                "No such payment of this order.",
            )
        })?),
    };
    let refund_id = refusals::page_id(checkout::RefundId::parse(&refund_id))?;
    let service = refusals::service()?;
    let amount = refusals::amount_of(&service, &id, &amount).await?;
    service
        .operator_refund(
            &operator,
            &id,
            payment.as_ref(),
            &refund_id,
            amount,
            &reason,
        )
        .await
        .map_err(refusals::action_failed)
}

/// Captures `amount` (empty: all that is authorized) of the order's
/// authorization. `confirm` must be ticked.
#[server(endpoint = "admin/capture")]
pub async fn back_office_capture(
    order_id: String,
    capture_id: String,
    amount: Option<String>,
    confirm: Option<String>,
) -> Result<(), BackOfficeError> {
    let (operator, id) = access::confirmed_action(&order_id, confirm.as_deref()).await?;
    let capture_id = refusals::page_id(checkout::CaptureId::parse(&capture_id))?;
    let service = refusals::service()?;
    let amount = match amount.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        Some(text) => Some(refusals::amount_of(&service, &id, text).await?),
        None => None,
    };
    service
        .operator_capture(&operator, &id, &capture_id, amount)
        .await
        .map_err(refusals::action_failed)
}

/// Cancels the order's open payment. `confirm` must be ticked.
#[server(endpoint = "admin/cancel")]
pub async fn back_office_cancel(
    order_id: String,
    confirm: Option<String>,
) -> Result<(), BackOfficeError> {
    let (operator, id) = access::confirmed_action(&order_id, confirm.as_deref()).await?;
    refusals::service()?
        .operator_cancel(&operator, &id)
        .await
        .map_err(refusals::action_failed)
}

/// Releases what is left of the order's authorization. `confirm` must be
/// ticked.
#[server(endpoint = "admin/release")]
pub async fn back_office_release(
    order_id: String,
    confirm: Option<String>,
) -> Result<(), BackOfficeError> {
    let (operator, id) = access::confirmed_action(&order_id, confirm.as_deref()).await?;
    refusals::service()?
        .operator_release(&operator, &id)
        .await
        .map_err(refusals::action_failed)
}

/// Sends one of the order's events again on one channel.
#[server(endpoint = "admin/resend")]
pub async fn back_office_resend(
    order_id: String,
    event_id: String,
    channel: String,
) -> Result<(), BackOfficeError> {
    let operator = access::operator().await?;
    let id = refusals::order_id(&order_id)?;
    let channel = checkout::Channel::parse(&channel).ok_or_else(|| {
        refusals::reject(http::StatusCode::UNPROCESSABLE_ENTITY, "No such channel.")
    })?;
    refusals::service()?
        .operator_resend(&operator, &id, &event_id, channel)
        .await
        .map_err(refusals::action_failed)
}

/// Removes the shopper's e-mail address from the order. `confirm` must be
/// ticked.
#[server(endpoint = "admin/erase")]
pub async fn back_office_erase(
    order_id: String,
    confirm: Option<String>,
) -> Result<(), BackOfficeError> {
    let (operator, id) = access::confirmed_action(&order_id, confirm.as_deref()).await?;
    refusals::service()?
        .operator_erase_personal_data(&operator, &id)
        .await
        .map_err(refusals::action_failed)
}

/// How many settings the stock page lists.
pub const STOCK_LOG_SHOWN: usize = 50;

/// Every article's stock level and the latest settings.
#[server(endpoint = "admin/stock")]
pub async fn back_office_stock() -> Result<StockView, BackOfficeError> {
    let operator = access::operator().await?;
    let service = refusals::service()?;
    let levels = service
        .catalog_stock()
        .await
        .map_err(refusals::store_failed)?;
    let log = service
        .stock_log(STOCK_LOG_SHOWN)
        .await
        .map_err(refusals::store_failed)?;
    Ok(mapping::stock_view(
        operator,
        service.catalog(),
        &levels,
        &log,
    ))
}

/// Sets how many units of an article can be sold (logged with the
/// operator's name).
#[server(endpoint = "admin/set_stock")]
pub async fn back_office_set_stock(
    article_id: String,
    seen: String,
    available: String,
) -> Result<(), BackOfficeError> {
    let operator = access::operator().await?;
    let service = refusals::service()?;
    let article = checkout::ArticleId::parse(&article_id)
        .ok_or_else(|| refusals::reject(http::StatusCode::NOT_FOUND, "No such article."))?;
    let available = available
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|&u| u <= 1_000_000);
    let available = available.ok_or_else(|| {
        refusals::reject(
            http::StatusCode::UNPROCESSABLE_ENTITY,
            "The stock is a whole number of units, from 0 to 1,000,000.",
        )
    })?;
    // The level the page showed: set only over it ("" for not tracked).
    let seen = match seen.trim() {
        "" => None,
        text => Some(text.parse::<u32>().map_err(|_| {
            refusals::reject(
                http::StatusCode::BAD_REQUEST,
                "This page is out of date; please reload it.",
            )
        })?),
    };
    service
        .operator_set_stock(&operator, &article, seen, available)
        .await
        .map_err(refusals::action_failed)
}
