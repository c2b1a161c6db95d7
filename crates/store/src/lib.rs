//! Adapters of the domain's `Store` port.

pub mod dynamodb;
pub mod embedded;
mod group_commit;
mod records;

pub use dynamodb::{DynamoDbStore, TableSetup, TTL_ATTRIBUTE};
pub use embedded::EmbeddedStore;
