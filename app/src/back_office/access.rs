//! Server only: who may use the back office. The operator accounts, the
//! signed-in operator of a request, sign-in's checks, and the session
//! cookie.

use super::refusals::{self, reject, service, store_failed};
use super::BackOfficeError;
use crate::security::OperatorAccess;
use checkout::{CheckoutService, OrderId};
use http::StatusCode;
use leptos::prelude::*;

/// The back office's accounts and sessions; without them it is off.
pub(crate) fn access() -> Result<OperatorAccess, BackOfficeError> {
    use_context::<OperatorAccess>().ok_or_else(|| {
        reject(
            StatusCode::NOT_FOUND,
            "The back office is off: no operator accounts are configured.",
        )
    })
}

pub(crate) fn unauthorized(message: &str) -> BackOfficeError {
    crate::api::refusals::refusal_status(StatusCode::UNAUTHORIZED);
    BackOfficeError::SignInRequired(message.to_owned())
}

/// The signed-in operator, or a 401.
pub(crate) async fn operator() -> Result<String, BackOfficeError> {
    let access = access()?;
    let headers: http::HeaderMap = leptos_axum::extract().await.unwrap_or_default();
    let cookies = headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok());
    let service = service()?;
    let session = access
        .sessions
        .session(cookies, &access.operators, service.now())
        .ok_or_else(|| unauthorized("Please sign in."))?;
    // Ended by a sign-out (here or on another process) since it was issued?
    let current = service
        .operator_session_is_current(&session.operator, session.issued_at)
        .await
        .map_err(store_failed)?;
    if current {
        Ok(session.operator)
    } else {
        Err(unauthorized("Please sign in."))
    }
}

/// What every action on an order checks first, in this order: the
/// signed-in operator (401), the order's id (404) and the ticked box (422).
pub(crate) async fn confirmed_action(
    order_id: &str,
    confirm: Option<&str>,
) -> Result<(String, OrderId), BackOfficeError> {
    let operator = operator().await?;
    let id = refusals::order_id(order_id)?;
    refusals::confirmed(confirm)?;
    Ok((operator, id))
}

/// The operator whose name and password these are, checked off the async
/// executor (argon2id takes tens of milliseconds of CPU); a 401 otherwise.
pub(crate) async fn verify_password(
    access: &OperatorAccess,
    name: &str,
    password: String,
) -> Result<String, BackOfficeError> {
    let operators = access.operators.clone();
    let account = name.to_owned();
    let verified = tokio::task::spawn_blocking(move || operators.verify(&account, &password))
        .await
        .map_err(|_| reject(StatusCode::SERVICE_UNAVAILABLE, "Please try again."))?;
    verified.ok_or_else(|| {
        tracing::warn!(security_event = true, "back-office sign-in refused");
        unauthorized("Wrong name or password.")
    })
}

/// Sessions ended after this process read the accounts: its accounts may
/// be from before a password change or removal. Fails closed until a
/// process with the new accounts answers.
pub(crate) async fn accounts_current(
    access: &OperatorAccess,
    service: &CheckoutService,
    operator: &str,
) -> Result<(), BackOfficeError> {
    let changed = service
        .operator_sessions(operator)
        .await
        .map_err(store_failed)?
        .account_changed_at;
    if changed.is_some_and(|changed| changed >= access.accounts_loaded_at) {
        tracing::warn!(
            security_event = true,
            operator,
            "back-office sign-in refused: accounts changed since this process started"
        );
        return Err(reject(
            StatusCode::SERVICE_UNAVAILABLE,
            "The back office's accounts changed; please try again in a few minutes.",
        ));
    }
    Ok(())
}

/// The client of this request, as the server's limits count it.
pub(crate) fn client_address() -> std::net::IpAddr {
    use_context::<http::request::Parts>()
        .and_then(|parts| {
            parts
                .extensions
                .get::<crate::security::ClientAddress>()
                .copied()
        })
        .map_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), |c| {
            c.0
        })
}

pub(crate) fn set_cookie(cookie: &cookie::Cookie<'_>) {
    if let (Some(response), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(&cookie.to_string()),
    ) {
        response.append_header(http::header::SET_COOKIE, value);
    }
}
