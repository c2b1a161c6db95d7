//! Adapters of the domain's `Store` port.

#[cfg(feature = "dynamodb")]
pub mod dynamodb;
pub mod embedded;
mod group_commit;
mod records;

#[cfg(feature = "dynamodb")]
pub use dynamodb::{DynamoDbStore, TableSetup, TTL_ATTRIBUTE};
pub use embedded::EmbeddedStore;
