//! The checkout workflow, over the two ports: [`checkout`] starts payments,
//! [`payment_sync`] moves them forward from what the provider says (webhook,
//! reconciler, refresh on read).

mod attempt_writes;
mod back_office;
mod captures;
mod checkout;
mod delivery;
mod methods;
mod operator_access;
mod payment_sync;
mod refunds;
mod stock;
mod withdrawals;

pub use back_office::{refund_reason, ActionError, OrderList};
pub use captures::CaptureError;
pub use delivery::{Deliverer, DeliveryPass, Outlets};
pub use operator_access::SignInLimits;
pub use refunds::RefundError;
pub use withdrawals::{WithdrawalError, WithdrawalPreview};

use crate::capture::CaptureMode;
use crate::catalog::{Catalog, CatalogError};
use crate::locale::Locale;
use crate::money::Money;
use crate::order::OrderId;
use crate::payment::{AttemptId, CheckSchedule, IncidentKind, PaymentStatus};
use crate::ports::{
    Clock, OrderRecord, PaymentMethod, PaymentProvider, ProviderError, Store, StoreError,
    SystemClock,
};
use crate::stock::Shortfall;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often a write is retried after losing a race to another writer.
const MAX_WRITE_CONFLICTS: usize = 8;
/// Payment attempts one order may have. Every attempt is kept with its
/// order (in DynamoDB, a copy in the order's item, whose size is bounded);
/// a shopper whose payments failed this often starts a new order.
pub const MAX_ATTEMPTS_PER_ORDER: usize = 20;
/// Paid orders kept in memory.
const PAID_ORDERS_CACHED: usize = 100_000;
/// Attempts whose last refresh on read is remembered (a forgotten one may
/// be refreshed again sooner: one more provider call, nothing worse).
const REFRESHES_REMEMBERED: usize = 10_000;

/// The public addresses the provider needs: where to send the shopper back
/// and where to notify us.
#[derive(Clone, Debug)]
pub struct ShopUrls {
    /// e.g. `https://shop.example` (no trailing slash).
    pub public_base_url: String,
}

impl ShopUrls {
    pub fn thank_you_page(&self, order_id: &OrderId) -> String {
        format!("{}/orders/{order_id}", self.public_base_url)
    }

    pub fn webhook(&self) -> String {
        format!("{}/webhooks/mollie", self.public_base_url)
    }
}

/// When the server asks the provider itself instead of waiting for a webhook.
#[derive(Clone, Debug)]
pub struct ReconcilePolicy {
    /// A status still open or pending this long after the attempt was
    /// created is refreshed from the provider when read.
    pub refresh_after: Duration,
    /// At most one refresh per attempt in this interval.
    pub min_refresh_interval: Duration,
    /// An attempt the provider never confirmed (no provider id: the create
    /// failed or its answer was lost) is given up this long after its latest
    /// create call began, far longer than a create with all its retries can
    /// take, so that no create is still in flight. Should the provider take
    /// money on it all the same, that is recorded as an incident.
    pub abandon_unconfirmed_after: Duration,
    /// When the background reconciler looks at attempts that are not final.
    pub check_schedule: CheckSchedule,
    /// An authorization this close to its capture deadline is flagged to
    /// the operator.
    pub capture_warning: Duration,
    /// How long a refund's first send may still be running: longer than
    /// the operator's request (cut off at the request timeout) and than
    /// the provider client's whole call with its retries. A resend that is
    /// refused within this never fails the refund: the first send may yet
    /// make it.
    pub refund_in_flight_for: Duration,
    /// An open payment holds its stock this long after its attempt was
    /// created; the reconciler then gives the units back, so an abandoned
    /// checkout (or a bank transfer left open for days) does not keep
    /// them. Paid later after all, the payment takes them again, or is
    /// recorded oversold when they are gone.
    pub hold_stock_for: Duration,
}

impl Default for ReconcilePolicy {
    fn default() -> Self {
        Self {
            refresh_after: Duration::from_secs(10),
            min_refresh_interval: Duration::from_secs(5),
            abandon_unconfirmed_after: Duration::from_secs(30 * 60),
            check_schedule: CheckSchedule {
                first_check_after: Duration::from_secs(60),
                max_interval: Duration::from_secs(3600),
            },
            capture_warning: Duration::from_secs(24 * 3600),
            refund_in_flight_for: Duration::from_secs(120),
            hold_stock_for: Duration::from_secs(3600),
        }
    }
}

/// Where to send the shopper after a checkout submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutStarted {
    pub order_id: OrderId,
    /// The provider's checkout page, or our thank-you page when there is
    /// nothing left to pay (already paid) or to show what happened.
    pub redirect_url: String,
}

/// Why a checkout or "pay again" did not start a payment. The messages
/// are for logs; the app words them for shoppers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckoutError {
    #[error(transparent)]
    InvalidCart(#[from] CatalogError),
    #[error("the checkout key was used before with another cart")]
    KeyReusedWithAnotherCart,
    /// The same submission again with another address (a typo fixed):
    /// continuing would send the order's messages to the first one.
    #[error("the checkout key was used before with another e-mail address")]
    KeyReusedWithAnotherAddress,
    #[error("no such order")]
    UnknownOrder,
    #[error("the payment could not be started now")]
    ProviderUnavailable(#[source] ProviderError),
    #[error("the payment provider did not start the payment")]
    ProviderRejected(#[source] ProviderError),
    #[error("the order could not be stored or read")]
    StoreUnavailable(#[source] StoreError),
    /// The shopper picked a payment method the provider does not offer for
    /// this total (any more).
    #[error("the payment method cannot pay this order")]
    MethodNotOffered,
    /// The order has had [`MAX_ATTEMPTS_PER_ORDER`] attempts.
    #[error("the order has had too many payment attempts")]
    TooManyAttempts,
    /// Fewer units of an article are left than the order asks for
    /// (nothing stored, nothing sent to the provider).
    #[error("not enough stock")]
    NotEnoughStock(Shortfall),
}

/// What the shopper chose for the provider's checkout.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PaymentChoices {
    /// The checkout page's language (`None`: the provider chooses).
    pub locale: Option<Locale>,
    /// The payment method (`None`: the shopper picks on the provider's page).
    pub method: Option<String>,
}

impl From<StoreError> for CheckoutError {
    fn from(e: StoreError) -> Self {
        Self::StoreUnavailable(e)
    }
}

/// What syncing one payment from the provider did: the webhook, the
/// reconciler, refresh on read and a create's answer all apply it alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOutcome {
    Updated(PaymentStatus),
    /// The status stayed; its refunds or chargebacks changed (a refund
    /// made, processed or failed, here or in the provider's dashboard; a
    /// chargeback received or reversed).
    MoneyUpdated,
    /// Money the shop did not expect was recorded for the operator.
    Incident(IncidentKind),
    Unchanged,
    /// Not ours or not known: answered 200 so nothing leaks; nothing changed.
    Ignored(&'static str),
}

/// A sync that could not finish: a webhook answers it 5xx, so that the
/// provider retries; the reconciler tries again on its schedule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    #[error("could not ask the payment provider")]
    Provider(#[source] ProviderError),
    #[error("could not read or write the store")]
    Store(#[source] StoreError),
}

impl From<StoreError> for SyncError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// Called, with the order's id, after each write that put events in the
/// outbox.
pub type OutboxListener = Arc<dyn Fn(&OrderId) + Send + Sync>;

pub struct CheckoutService {
    catalog: Catalog,
    store: Arc<dyn Store>,
    provider: Arc<dyn PaymentProvider>,
    urls: ShopUrls,
    /// Every time a rule depends on; `Instant`s only time the caches.
    clock: Arc<dyn Clock>,
    policy: ReconcilePolicy,
    /// Capture at once, or authorize and capture on the operator's action.
    capture_mode: CaptureMode,
    /// When each attempt was last refreshed on read (rate limit): bounded,
    /// the least recently used go first; check-and-set under the lock.
    last_refresh: Mutex<quick_cache::unsync::Cache<AttemptId, Instant>>,
    /// A paid order stays paid (its paid attempt is final, and no attempt is
    /// added to a paid order), so it is served from memory. Only a refund,
    /// chargeback, capture or incident recorded later changes its record;
    /// that write drops it from here ([`Self::forget_paid_order`]).
    /// Bounded: the least recently used go first. Each entry is used for
    /// `min_refresh_interval` only: a change recorded by another instance
    /// shows within that time.
    paid_orders: quick_cache::sync::Cache<OrderId, (OrderRecord, Instant)>,
    /// Bumped by every drop from `paid_orders`, so that a read that began
    /// before a write never puts back what it read (older than the write).
    paid_orders_dropped: AtomicU64,
    /// The provider's payment methods by amount and locale, for a short
    /// while ([`methods::METHODS_KEPT_FOR`]): every cart change shows them.
    methods: quick_cache::sync::Cache<(Money, Option<Locale>), (Vec<PaymentMethod>, Instant)>,
    /// Told, with the order's id, after each write that put events in the
    /// outbox, so that a deliverer sends them at once instead of at its
    /// next sweep.
    outbox_listener: Option<OutboxListener>,
}

impl CheckoutService {
    pub fn new(
        catalog: Catalog,
        store: Arc<dyn Store>,
        provider: Arc<dyn PaymentProvider>,
        urls: ShopUrls,
    ) -> Self {
        Self {
            catalog,
            store,
            provider,
            urls,
            clock: Arc::new(SystemClock),
            policy: ReconcilePolicy::default(),
            capture_mode: CaptureMode::Automatic,
            last_refresh: Mutex::new(quick_cache::unsync::Cache::new(REFRESHES_REMEMBERED)),
            paid_orders: quick_cache::sync::Cache::new(PAID_ORDERS_CACHED),
            paid_orders_dropped: AtomicU64::new(0),
            methods: quick_cache::sync::Cache::new(methods::METHOD_LISTS_KEPT),
            outbox_listener: None,
        }
    }

    /// Calls `listener` after each write that put events in the outbox.
    pub fn with_outbox_listener(mut self, listener: OutboxListener) -> Self {
        self.outbox_listener = Some(listener);
        self
    }

    fn outbox_written(&self, order_id: &OrderId) {
        if let Some(listener) = &self.outbox_listener {
            listener(order_id);
        }
    }

    /// Drops a paid order from memory after a write to it: the next read
    /// goes to the store.
    fn forget_paid_order(&self, id: &OrderId) {
        self.paid_orders_dropped.fetch_add(1, Ordering::SeqCst);
        self.paid_orders.remove(id);
    }

    /// Reads the time from `clock` (a test's, which it moves by hand).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The time every rule of the shop goes by: the reconciler's passes and
    /// the back office's sessions read it here too.
    pub fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }

    pub fn with_reconcile_policy(mut self, policy: ReconcilePolicy) -> Self {
        self.policy = policy;
        self
    }

    pub fn with_capture_mode(mut self, capture_mode: CaptureMode) -> Self {
        self.capture_mode = capture_mode;
        self
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn reconcile_policy(&self) -> &ReconcilePolicy {
        &self.policy
    }
}
