//! What a storefront server function answers when it does not succeed, and
//! how a page shows a form's refusal posted without JavaScript.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// What a server function answers when it does not succeed: one type on the
/// server and in the browser.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ShopError {
    /// The shop refused, or cannot do it now; the words are for shoppers.
    #[error("{0}")]
    Refused(String),
    /// The call itself failed: the network, or arguments or an answer that
    /// do not parse.
    #[error(transparent)]
    Call(ServerFnErrorErr),
}

impl FromServerFnError for ShopError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(error: ServerFnErrorErr) -> Self {
        call_failed_status(&error);
        Self::Call(error)
    }
}

/// On the server, the status of a call that failed before its function
/// ran: arguments that do not parse (`quantity=two`, a missing field) are
/// the caller's mistake, not ours (400). The storefront's and the back
/// office's errors both answer so.
pub(crate) fn call_failed_status(error: &ServerFnErrorErr) {
    #[cfg(feature = "ssr")]
    if matches!(
        error,
        ServerFnErrorErr::Args(_)
            | ServerFnErrorErr::MissingArg(_)
            | ServerFnErrorErr::Deserialization(_)
    ) {
        super::refusals::refusal_status(http::StatusCode::BAD_REQUEST);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = error;
}

/// A form's refusal when the browser posted it without JavaScript:
/// leptos_axum sends the browser back to the page with the error in the
/// query, and the page renders it. `None` in the browser, where the islands
/// show their own answers, and when the form went through.
pub(crate) fn refused_without_script(server_fn_path: &str) -> Option<ShopError> {
    #[cfg(feature = "ssr")]
    {
        use leptos::prelude::use_context;
        use leptos::server::ServerActionError;
        use leptos::server_fn::error::ServerFnUrlError;
        use_context::<ServerActionError>()
            .filter(|error| error.path() == server_fn_path)
            .map(|error| ServerFnUrlError::<ShopError>::decode_err(error.err()))
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = server_fn_path;
        None
    }
}
