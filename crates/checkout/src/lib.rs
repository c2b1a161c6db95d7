//! The shop's domain. Everything here is pure logic plus two ports
//! ([`Store`], [`PaymentProvider`]) that adapters implement at the edges.

pub mod cart;
pub mod catalog;
pub mod idempotency;
pub mod money;
pub mod order;
pub mod payment;
pub mod ports;
pub mod service;

pub use cart::{Cart, PricedCart};
pub use catalog::{
    Article, ArticleId, CartLine, Catalog, CatalogError, MAX_CART_LINES, MAX_QUANTITY,
};
pub use idempotency::{CheckoutKey, CheckoutRecord, CHECKOUT_KEY_TTL};
pub use money::{Currency, Money, MoneyError};
pub use order::{Order, OrderId, OrderLine, OrderStatus};
pub use payment::{
    AttemptId, CheckSchedule, Incident, IncidentKind, PaymentAttempt, PaymentStatus, StatusChange,
};
pub use ports::{
    NewPayment, OrderRecord, PaymentMetadata, PaymentMode, PaymentProvider, ProviderError,
    ProviderPayment, Store, StoreError,
};
pub use service::{
    CheckoutError, CheckoutService, CheckoutStarted, ReconcilePolicy, ShopUrls, SyncError,
    SyncOutcome,
};
