//! The payments API subset, answering as Mollie does, one topic a module.

mod body;
pub(crate) mod control;
mod documents;
mod guard;
mod idempotency;
pub(crate) mod payments;
pub(crate) mod sub_resources;

pub(crate) use body::{money_request, parse_amount, WireAmount};
pub use documents::ApiError;
pub(crate) use documents::{error, hal, hal_list, invalid, not_found, payment_item_links};
pub(crate) use guard::authenticated;
pub(crate) use payments::parse_locale;
pub(crate) use sub_resources::{change_item, change_payment, find_item, CreatedItem, PaymentItem};
