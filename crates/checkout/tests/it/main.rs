//! The crate's integration tests: one binary (one link step), a module
//! each.

mod refund_properties;
mod report_properties;
mod status_properties;
