//! Adapters of the domain's `Store` port.

pub mod dynamodb;
pub mod embedded;

pub use dynamodb::{DynamoDbStore, TableSetup};
pub use embedded::EmbeddedStore;
