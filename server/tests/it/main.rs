//! The crate's integration tests: one binary (one link step), a module
//! each.

mod back_office;
mod captures;
mod catalog;
mod common;
mod delivery_crash;
mod guarantees;
mod http_surface;
mod logs;
mod money_storm;
mod outage;
mod owner_webhook;
mod processes;
mod refunds;
mod safety;
mod stock;
mod storm;
mod webhook;
mod withdrawal;
