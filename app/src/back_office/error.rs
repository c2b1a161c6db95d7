//! What a back-office server function answers when it does not succeed.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// What an admin server function answers when it does not succeed. Its own
/// type, not the storefront's [`ShopError`](crate::api::ShopError), so
/// that nothing of the back office reaches the storefront's wasm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum BackOfficeError {
    /// No signed-in operator (401): the pages show the sign-in form.
    #[error("{0}")]
    SignInRequired(String),
    /// Refused, or cannot be done now; the words are for the operator.
    #[error("{0}")]
    Refused(String),
    /// The call itself failed (arguments that do not parse, the network).
    #[error(transparent)]
    Call(ServerFnErrorErr),
}

impl FromServerFnError for BackOfficeError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(error: ServerFnErrorErr) -> Self {
        crate::api::call_failed_status(&error);
        Self::Call(error)
    }
}

impl BackOfficeError {
    /// In the operator's words.
    pub fn text(&self) -> String {
        match self {
            Self::SignInRequired(message) | Self::Refused(message) => message.clone(),
            Self::Call(_) => {
                "The shop could not be reached; check the connection and try again.".to_owned()
            }
        }
    }
}
