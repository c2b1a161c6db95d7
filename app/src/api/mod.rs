//! Server functions and the views they return. The views are plain data,
//! formatted on the server, so the browser bundle needs none of the domain.
//! Every function also works as a plain HTML form post (no JavaScript).
//!
//! A file a topic: `error` (what a function answers when it does not
//! succeed), `cart` (the storefront and its cart), `payment` (checkout and
//! paying again), `order` (the thank-you page's order); on the server only,
//! `cart_server` (the cart's cookie and pricing) and `refusals` (the
//! service, and refusals in shoppers' words with their statuses).

mod cart;
#[cfg(feature = "ssr")]
mod cart_server;
mod error;
mod order;
mod payment;
// Also the back office's: its server functions answer with the same
// statuses and read the same service.
#[cfg(feature = "ssr")]
pub(crate) mod refusals;

pub use cart::*;
pub use error::ShopError;
// The back office's errors answer bad arguments so too.
#[cfg(feature = "ssr")]
pub(crate) use error::call_failed_status;
pub(crate) use error::refused_without_script;
pub use order::*;
pub use payment::*;
