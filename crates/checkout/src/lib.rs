//! The shop's domain. Everything here is pure logic plus three ports
//! ([`Store`], [`PaymentProvider`], [`Clock`]) that adapters implement at
//! the edges.
//!
//! Errors follow one rule: a type is named for what did not happen,
//! `<what>Error`, and keeps what caused it as its `source` (no cause is
//! flattened into a string). A service operation's: [`CheckoutError`],
//! [`SyncError`], [`RefundError`], [`CaptureError`], [`ActionError`]; a
//! port's: [`StoreError`], [`ProviderError`]; a rule's, which changed
//! nothing: [`RefundRequestError`], [`CatalogError`], [`MoneyError`],
//! [`CatalogFileError`]. Words for shoppers and operators are chosen at the
//! edge (the app) from the variant, not parsed from the message.

pub mod attention;
pub mod audit;
pub mod capture;
pub mod cart;
pub mod catalog;
pub mod catalog_file;
pub mod chargeback;
pub mod contact;
pub mod events;
pub mod idempotency;
pub mod ids;
pub mod ledger;
pub mod locale;
pub mod messages;
pub mod money;
pub mod order;
pub mod outbox;
pub mod payment;
pub mod payment_lines;
pub mod payment_report;
pub mod ports;
pub mod refund;
pub mod service;
pub mod stock;
pub mod vat;
pub mod withdrawal;

pub use attention::{Attention, OrderFilter, OPEN_TOO_LONG};
pub use audit::{AuditAction, AuditEntry, AuditOutcome, MAX_REASON_CHARS};
pub use capture::CaptureMode;
pub use cart::{Cart, PricedCart};
pub use catalog::{
    Article, CartLine, Catalog, CatalogError, VatRate, DEFAULT_CATALOG, MAX_CART_LINES,
    MAX_QUANTITY,
};
pub use catalog_file::CatalogFileError;
pub use chargeback::{Chargeback, ProviderChargeback};
pub use contact::{EmailAddress, EmailAddressError};
pub use events::{
    events_of_change, AttemptWrite, Event, EventKind, EventParts, EVENT_SCHEMA_VERSION,
};
pub use idempotency::{CheckoutRecord, CHECKOUT_KEY_TTL};
pub use ids::{
    ArticleId, AttemptId, CaptureId, CheckoutKey, EventId, InvalidId, OrderId,
    ProviderChargebackId, ProviderPaymentId, ProviderRefundId, RefundId,
};
pub use ledger::{Ledger, MoneyStatus};
pub use locale::{Locale, SUPPORTED_LOCALES};
pub use messages::{MailMessage, ShopIdentity};
pub use money::{Currency, Money, MoneyError};
pub use order::{Order, OrderLine, OrderParts, OrderStatus};
pub use outbox::{Channel, DeliveryState, OutboxCursor, OutboxEntry, OutboxParts, RetryPolicy};
pub use payment::{
    AttemptParts, CheckSchedule, Incident, IncidentKind, PaymentAttempt, PaymentStatus,
    StatusChange, StatusSeen,
};
pub use payment_lines::PaymentLine;
pub use payment_report::{apply_report, Changes, OurAccount, Verdict};
pub use ports::{
    error_report, unix_millis, Cause, Clock, DeadLetters, DeliveryError, EventSink, Mailer,
    NewCapture, NewPayment, NewRefund, OperatorSessions, OrderCursor, OrderRecord, OrdersPage,
    PaymentMetadata, PaymentMethod, PaymentMode, PaymentProvider, ProviderError, ProviderPayment,
    SessionsEnd, Store, StoreError, SystemClock,
};
pub use refund::{
    ProviderRefund, Refund, RefundParts, RefundRequestError, RefundRequested, RefundStatus,
};
pub use service::{
    refund_reason, ActionError, CaptureError, CheckoutError, CheckoutService, CheckoutStarted,
    Deliverer, DeliveryPass, OrderList, Outlets, PaymentChoices, ReconcilePolicy, RefundError,
    ShopUrls, SignInLimits, SyncError, SyncOutcome, WithdrawalError, WithdrawalPreview,
    MAX_ATTEMPTS_PER_ORDER,
};
pub use stock::{HoldState, Shortfall, StockHold, StockLevels, StockMove, StockSetting, Units};
pub use withdrawal::{Withdrawal, WithdrawalRefusal};
