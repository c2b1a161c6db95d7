//! The crate's integration tests: one binary (one link step), a module
//! each.

mod against_emulator;
mod fixtures;
mod no_secret_in_logs;
mod refunds;
#[cfg(feature = "secrets-manager")]
mod secrets_manager;
