//! The crate's integration tests: one binary (one link step), a module
//! each.

mod contract;
mod stock;
mod table_definition;
