//! The ports the domain needs from the outside world. Adapters live in
//! other crates: `store` (redb, DynamoDB) and `mollie` (the provider); the
//! clock is the system's, or a test's that it moves by hand.

use crate::audit::AuditEntry;
use crate::capture::CaptureMode;
use crate::chargeback::ProviderChargeback;
use crate::events::{AttemptWrite, Event};
use crate::idempotency::{CheckoutKey, CheckoutRecord};
use crate::ids::{ArticleId, CaptureId, RefundId};
use crate::locale::Locale;
use crate::messages::MailMessage;
use crate::money::Money;
use crate::order::{Order, OrderId};
use crate::outbox::{Channel, OutboxCursor, OutboxEntry};
use crate::payment::{AttemptId, Incident, PaymentAttempt, PaymentStatus, ProviderPaymentId};
use crate::payment_lines::PaymentLine;
use crate::refund::ProviderRefund;
use crate::stock::{StockLevels, StockSetting};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// The time, for every rule that depends on it (a check due, a refund
/// that may still be in flight, an attempt to give up).
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> time::OffsetDateTime;
}

/// The system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> time::OffsetDateTime {
        time::OffsetDateTime::now_utc()
    }
}

/// An order with all its payment attempts, oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderRecord {
    pub order: Order,
    pub attempts: Vec<PaymentAttempt>,
}

impl OrderRecord {
    /// Money the provider took that the shop did not expect, by attempt:
    /// the operator must ship or refund.
    pub fn incidents(&self) -> impl Iterator<Item = (&PaymentAttempt, &Incident)> {
        self.attempts
            .iter()
            .filter_map(|a| a.incident().as_ref().map(|i| (a, i)))
    }

    pub fn needs_attention(&self) -> bool {
        self.incidents().next().is_some()
    }
}

/// The error underneath a store or provider failure (an SDK's, a client's),
/// kept whole for the log at the edge, which prints its `source()` chain.
/// Shared, so that the errors that carry it stay `Clone`; two are equal
/// when they are the same cause.
#[derive(Clone)]
pub struct Cause(Arc<dyn std::error::Error + Send + Sync>);

impl Cause {
    pub fn new(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Arc::new(error))
    }

    /// A cause we describe ourselves (no underlying error to keep).
    pub fn message(text: impl Into<String>) -> Self {
        Self::new(Message(text.into()))
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl PartialEq for Cause {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Cause {}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Message(String);

/// An error and its causes on one line, for the log at the edge:
/// `the store is unavailable: connection refused: ...`.
pub fn error_report(error: &dyn std::error::Error) -> String {
    let mut report = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        report.push_str(": ");
        report.push_str(&cause.to_string());
        source = cause.source();
    }
    report
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A conditional write found another version than the one it was read with.
    #[error("the record was changed concurrently")]
    Conflict,
    /// The item to create exists already.
    #[error("the record exists already")]
    AlreadyExists,
    /// A write that takes stock found less available than it takes;
    /// nothing was written.
    #[error("not enough stock")]
    SoldOut,
    #[error("the store is unavailable")]
    Unavailable(#[source] Cause),
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Stores a new order, its first attempt and the checkout key's record
    /// together, and takes the stock the attempt holds, or none of them:
    /// [`StoreError::AlreadyExists`] when the key (unexpired) or the order
    /// exists, [`StoreError::SoldOut`] when fewer units are available than
    /// it takes.
    async fn create_order(
        &self,
        order: &Order,
        attempt: &PaymentAttempt,
        checkout: &CheckoutRecord,
    ) -> Result<(), StoreError>;

    /// The record of a checkout key, unless it expired.
    async fn find_checkout(&self, key: &CheckoutKey) -> Result<Option<CheckoutRecord>, StoreError>;

    /// Adds an attempt to an order: writes `order` (its version bumped) only
    /// if the stored order still has version `order.version - 1`, together
    /// with the new attempt and the stock it takes; otherwise (or when the
    /// attempt exists already) [`StoreError::Conflict`], or
    /// [`StoreError::SoldOut`] when the stock is not there.
    async fn add_attempt(&self, order: &Order, attempt: &PaymentAttempt) -> Result<(), StoreError>;

    /// Attempts that need checks ([`PaymentAttempt::needs_checks`]) whose
    /// next check is due at `now` (see
    /// [`PaymentAttempt::due_at`]), the longest overdue first, at most
    /// `limit`: what the reconciler refreshes.
    async fn due_attempts(
        &self,
        now: time::OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<PaymentAttempt>, StoreError>;

    /// The attempt whose provider payment id is this, once recorded.
    async fn find_attempt_by_provider_payment(
        &self,
        provider_payment_id: &ProviderPaymentId,
    ) -> Result<Option<PaymentAttempt>, StoreError>;

    /// The order with its attempts, read consistently.
    async fn load_order(&self, id: &OrderId) -> Result<Option<OrderRecord>, StoreError>;

    async fn load_attempt(
        &self,
        order_id: &OrderId,
        attempt_id: &AttemptId,
    ) -> Result<Option<PaymentAttempt>, StoreError>;

    /// Writes the change's next attempt only if the stored attempt still
    /// has version `next.version - 1` (otherwise [`StoreError::Conflict`]),
    /// and with it, in the same write, an outbox entry for each of its
    /// events that has none yet (an event id is written once, ever) and
    /// its stock moves ([`StoreError::SoldOut`] when a take finds fewer
    /// units than it takes).
    async fn update_attempt(&self, write: &AttemptWrite) -> Result<(), StoreError>;

    /// Outbox entries not done, oldest event first, after `after` (the
    /// previous page's last), at most `limit`: what the deliverer sends.
    async fn pending_outbox(
        &self,
        after: Option<&OutboxCursor>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError>;

    /// An order's outbox entries, oldest event first.
    async fn order_outbox(&self, order_id: &OrderId) -> Result<Vec<OutboxEntry>, StoreError>;

    /// Writes `next` only if the stored entry still has version
    /// `next.version - 1`; otherwise [`StoreError::Conflict`].
    async fn update_outbox(&self, next: &OutboxEntry) -> Result<(), StoreError>;

    /// Writes the order without its shopper's personal data, only if the
    /// stored order has the same version (otherwise [`StoreError::Conflict`]).
    async fn erase_personal_data(&self, order: &Order) -> Result<(), StoreError>;

    /// Orders newest first, at most `limit`, starting after `after` (the
    /// previous page's [`OrdersPage::next`]): the back office's list.
    async fn recent_orders(
        &self,
        after: Option<&OrderCursor>,
        limit: usize,
    ) -> Result<OrdersPage, StoreError>;

    /// The stock levels of those of `articles` that are tracked.
    async fn stock_levels(&self, articles: &[ArticleId]) -> Result<StockLevels, StoreError>;

    /// Sets how many units of the setting's article can be sold (tracking
    /// it from now on if it was not) and appends the setting to the stock
    /// log, in one write, only if the level is still `setting.previous`;
    /// otherwise [`StoreError::Conflict`].
    async fn set_stock(&self, setting: &StockSetting) -> Result<(), StoreError>;

    /// The stock log, newest first, at most `limit`.
    async fn stock_log(&self, limit: usize) -> Result<Vec<StockSetting>, StoreError>;

    /// Tracks `article` with `available` units unless it is tracked already
    /// (the catalog's starting stock); true when this set it.
    async fn seed_stock(&self, article: &ArticleId, available: u32) -> Result<bool, StoreError>;

    /// Appends an entry to its order's audit log. There is no call that
    /// changes or removes one.
    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError>;

    /// An order's audit log, oldest first.
    async fn audit_log(&self, order_id: &OrderId) -> Result<Vec<AuditEntry>, StoreError>;

    /// Counts one sign-in attempt against `key` (an account or a client)
    /// in a window of `window` that starts with the first, shared by every
    /// process on the store; returns the count in the window, this one
    /// included. Counted before the password is checked, so attempts made
    /// at once each get their own number. Forgotten when the window ends.
    async fn count_sign_in_attempt(
        &self,
        key: &str,
        now: time::OffsetDateTime,
        window: std::time::Duration,
    ) -> Result<u32, StoreError>;

    /// Takes one back from `key`'s count in its current window (the
    /// attempt succeeded); nothing when the window has ended.
    async fn forgive_sign_in_attempt(
        &self,
        key: &str,
        now: time::OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Ends every session of `operator` issued before `at`, on every
    /// process; with [`SessionsEnd::AccountChanged`] also marks that
    /// processes which read the accounts before `at` may hold old ones.
    /// Neither time ever moves back.
    async fn end_operator_sessions(
        &self,
        operator: &str,
        at: time::OffsetDateTime,
        why: SessionsEnd,
    ) -> Result<(), StoreError>;

    /// When `operator`'s sessions were last ended, and their account
    /// last changed.
    async fn operator_sessions(&self, operator: &str) -> Result<OperatorSessions, StoreError>;
}

/// Why an operator's sessions end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionsEnd {
    /// The operator signed out.
    SignOut,
    /// Their password changed or their account was removed.
    AccountChanged,
}

/// What the store says of an operator's sessions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OperatorSessions {
    /// Sessions issued up to this are over.
    pub ended_at: Option<time::OffsetDateTime>,
    /// Accounts read before this may be the old ones.
    pub account_changed_at: Option<time::OffsetDateTime>,
}

/// Where a page of [`Store::recent_orders`] ended: the last order's
/// creation time and id (orders created in the same millisecond are told
/// apart by id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderCursor {
    pub created_at: time::OffsetDateTime,
    pub order_id: OrderId,
}

impl OrderCursor {
    pub fn of(order: &Order) -> Self {
        Self {
            created_at: order.created_at(),
            order_id: order.id().clone(),
        }
    }

    /// For a link: `{unix milliseconds}.{order id}`.
    pub fn to_token(&self) -> String {
        format!("{}.{}", unix_millis(self.created_at), self.order_id)
    }

    /// A token from [`to_token`](Self::to_token); `None` for anything else.
    pub fn parse(token: &str) -> Option<Self> {
        let (millis, id) = token.split_once('.')?;
        let millis: i64 = millis.parse().ok()?;
        let created_at =
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).ok()?;
        Some(Self {
            created_at,
            order_id: OrderId::parse(id)?,
        })
    }
}

/// Unix milliseconds, the precision stores sort orders by.
pub fn unix_millis(t: time::OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// A page of orders, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct OrdersPage {
    pub orders: Vec<Order>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<OrderCursor>,
}

impl OrdersPage {
    /// The first `limit` of `orders` (newest first, read one beyond the
    /// page to learn whether another follows) and where the next starts.
    pub fn of_newest(mut orders: Vec<Order>, limit: usize) -> Self {
        let more = orders.len() > limit;
        orders.truncate(limit);
        let next = if more {
            orders.last().map(OrderCursor::of)
        } else {
            None
        };
        Self { orders, next }
    }
}

/// Our ids, sent with every payment and checked on every webhook.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentMetadata {
    pub order_id: OrderId,
    pub attempt_id: AttemptId,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPayment {
    pub amount: Money,
    pub description: String,
    pub redirect_url: String,
    pub webhook_url: String,
    pub metadata: PaymentMetadata,
    /// Same key, same provider payment: retries never create a second one.
    pub idempotency_key: String,
    pub capture_mode: CaptureMode,
    /// What is paid for, adding up to `amount` (empty: none sent).
    pub lines: Vec<PaymentLine>,
    /// The checkout page's language (`None`: the provider chooses).
    pub locale: Option<Locale>,
    /// The payment method the shopper picked (`None`: they pick on the
    /// provider's page).
    pub method: Option<String>,
}

/// A way to pay that the provider offers for an amount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentMethod {
    /// The provider's id (`ideal`, `creditcard`, ...).
    pub id: String,
    /// Its name, in the shopper's language when the provider has it.
    pub name: String,
    /// Its image's URL, at the provider.
    pub image: String,
}

/// A capture of an authorized payment the shop asks the provider for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCapture {
    /// Its idempotency key.
    pub capture_id: CaptureId,
    /// All that is still authorized when `None`.
    pub amount: Option<Money>,
    pub description: String,
}

/// A refund the shop asks the provider for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRefund {
    /// Ours: the idempotency key and, in the metadata, how the provider's
    /// report of it is matched to our record.
    pub refund_id: RefundId,
    pub amount: Money,
    pub description: String,
}

/// A failed send: the receiver refused or could not be reached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the delivery failed")]
pub struct DeliveryError(#[source] pub Cause);

/// Sends e-mail (SES on AWS; files under the data directory otherwise).
#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Sends `message`; the transport's id of it, if it gives one.
    async fn send(&self, message: &MailMessage) -> Result<Option<String>, DeliveryError>;
}

/// Publishes events to a receiver that deduplicates by event id (the
/// event bus, the owner's webhook).
#[async_trait]
pub trait EventSink: Send + Sync + 'static {
    async fn publish(&self, event: &Event) -> Result<(), DeliveryError>;
}

/// Takes the events a channel gave up on (the dead-letter queue), for an
/// operator to look at.
#[async_trait]
pub trait DeadLetters: Send + Sync + 'static {
    async fn gave_up(
        &self,
        event: &Event,
        channel: Channel,
        tries: u32,
    ) -> Result<(), DeliveryError>;
}

/// Test payments are never real money; a shop takes only its own mode's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentMode {
    Test,
    Live,
}

/// A payment as the provider reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderPayment {
    pub id: ProviderPaymentId,
    pub mode: PaymentMode,
    /// The provider account (Mollie: website profile) it was made in.
    pub profile_id: Option<String>,
    /// `None` for a status this code does not know (a future API addition).
    pub status: Option<PaymentStatus>,
    pub amount: Money,
    pub checkout_url: Option<String>,
    pub metadata: Option<PaymentMetadata>,
    /// Its refunds, when the provider reported them with the payment.
    pub refunds: Vec<ProviderRefund>,
    /// Its chargebacks, likewise.
    pub chargebacks: Vec<ProviderChargeback>,
    /// Of an authorize-then-capture payment: what was captured so far.
    pub captured: Option<Money>,
    /// Of an authorized payment: until when it can be captured.
    pub capture_before: Option<time::OffsetDateTime>,
    /// How the shopper paid (or is paying), as the provider names it for
    /// people, once they chose.
    pub method: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    #[error("the provider does not know this payment")]
    NotFound,
    /// A 4xx other than 404: our request was wrong; retrying will not help.
    #[error("the provider rejected the request")]
    Rejected(#[source] Cause),
    /// 5xx, 429, timeouts, connection errors, after bounded retries.
    #[error("the provider is unavailable")]
    Unavailable(#[source] Cause),
    /// The provider answered, but with something we cannot read (e.g. an
    /// amount that does not parse): asking again gives the same answer.
    #[error("the provider's answer could not be read")]
    Malformed(#[source] Cause),
    /// A 409 on a create: the same request is still in flight (same
    /// idempotency key), or, for a refund, one of the same amount was made
    /// on the payment moments ago. Not made now; which of the two it was
    /// shows in a read of the payment.
    #[error("the provider refused a duplicate")]
    Duplicate(#[source] Cause),
}

#[async_trait]
pub trait PaymentProvider: Send + Sync + 'static {
    async fn create_payment(&self, payment: &NewPayment) -> Result<ProviderPayment, ProviderError>;
    async fn get_payment(
        &self,
        provider_payment_id: &ProviderPaymentId,
    ) -> Result<ProviderPayment, ProviderError>;
    /// The methods that can pay `amount`, named in `locale`.
    async fn payment_methods(
        &self,
        amount: Money,
        locale: Option<Locale>,
    ) -> Result<Vec<PaymentMethod>, ProviderError>;
    /// Cancels an open payment, so that nobody can pay it any more.
    async fn cancel_payment(
        &self,
        provider_payment_id: &ProviderPaymentId,
    ) -> Result<(), ProviderError>;
    /// Refunds part or all of a paid payment, once per `refund_id` however
    /// often it is asked.
    async fn create_refund(
        &self,
        provider_payment_id: &ProviderPaymentId,
        refund: &NewRefund,
    ) -> Result<ProviderRefund, ProviderError>;
    /// Captures all or part of an authorized payment, once per
    /// `capture.capture_id` however often it is asked.
    async fn create_capture(
        &self,
        provider_payment_id: &ProviderPaymentId,
        capture: &NewCapture,
    ) -> Result<(), ProviderError>;
    /// Gives back what was authorized and not captured.
    async fn release_authorization(
        &self,
        provider_payment_id: &ProviderPaymentId,
    ) -> Result<(), ProviderError>;
    /// The mode this shop's credentials make payments in.
    fn mode(&self) -> PaymentMode;
    /// The provider account payments must belong to, when configured.
    fn profile_id(&self) -> Option<&str> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CheckoutError;

    #[test]
    fn an_error_keeps_its_causes_for_the_log() {
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let store = StoreError::Unavailable(Cause::new(refused));
        let error = CheckoutError::from(store.clone());
        assert_eq!(
            error_report(&error),
            "the order could not be stored or read: the store is unavailable: refused"
        );
        // Clones share the cause; another cause with the same text differs.
        assert_eq!(error, CheckoutError::StoreUnavailable(store));
        let other = StoreError::Unavailable(Cause::message("refused"));
        assert_ne!(error, CheckoutError::StoreUnavailable(other));
    }
}
