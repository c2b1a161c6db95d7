//! The crate's integration tests: one binary (one link step), a module
//! each.

mod api;
mod captures;
mod chargebacks;
mod lines;
mod methods;
mod refunds;
