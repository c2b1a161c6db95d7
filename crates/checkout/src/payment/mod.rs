//! Payment attempts and the rules their status follows.

use crate::ids::OrderId;
use crate::money::{Money, MoneyError};
use crate::stock::{HoldState, StockHold};
use crate::withdrawal::Withdrawal;
use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;

use crate::capture::CaptureMode;
use crate::chargeback::{self, Chargeback, ProviderChargeback};
use crate::ids::RefundId;
pub use crate::ids::{AttemptId, ProviderPaymentId};

mod status;
use crate::ledger::Ledger;
use crate::refund::{self, ProviderRefund, Refund, RefundRequestError, RefundRequested};
pub use status::{PaymentStatus, StatusChange};

/// Money the provider took that the shop did not expect. Recorded on the
/// attempt, shown to the operator, never dropped: someone must ship or refund.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incident {
    pub kind: IncidentKind,
    pub recorded_at: OffsetDateTime,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    /// The provider says paid, but we had given this attempt up (it is
    /// final and unpaid in our records): the shopper was charged.
    PaidAfterGivenUp,
    /// Another attempt of the same order was paid already (two tabs): the
    /// shopper paid twice and one payment must be refunded.
    SecondPayment,
}

impl IncidentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PaidAfterGivenUp => "paid_after_given_up",
            Self::SecondPayment => "second_payment",
        }
    }
}

impl fmt::Display for IncidentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When the reconciler asks the provider about an attempt that is not final:
/// first after `first_check_after`, then ever less often, so attempts that
/// stay open for days (bank transfers) do not crowd out newer ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckSchedule {
    pub first_check_after: std::time::Duration,
    pub max_interval: std::time::Duration,
}

impl CheckSchedule {
    /// The delay before check number `checks + 1`: doubling from the first
    /// delay, at most `max_interval`.
    pub fn delay_after(&self, checks: u32) -> std::time::Duration {
        let factor = 2u32.saturating_pow(checks.min(20));
        self.first_check_after
            .saturating_mul(factor)
            .min(self.max_interval)
    }
}

/// A payment attempt. Its state is private: read it through the accessors,
/// change it only through the methods, which keep its rules (a status only
/// moves forward, a version only grows, refunds and chargebacks are only
/// added or moved forward).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentAttempt {
    state: AttemptParts,
}

/// A status an attempt took, and when it was recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusSeen {
    pub status: PaymentStatus,
    pub at: OffsetDateTime,
}

/// Every field of an attempt, for a store to keep and give back unchanged
/// ([`PaymentAttempt::to_parts`], [`PaymentAttempt::from_parts`]); the
/// fields mean what the attempt's accessors say. For store adapters only:
/// not a way to change an attempt, whose rules live in its methods (an
/// attempt built from parts a store did not give back breaks them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptParts {
    pub id: AttemptId,
    pub order_id: OrderId,
    pub amount: Money,
    pub status: PaymentStatus,
    /// The provider's payment id (`tr_...`), once the provider created it.
    pub provider_payment_id: Option<ProviderPaymentId>,
    /// Where the shopper pays, while the payment is open.
    pub checkout_url: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// Bumped on every write; every write is conditional on the version it
    /// was read with, so concurrent webhooks cannot overwrite each other.
    pub version: u64,
    /// When the latest create call at the provider began. Until well after
    /// it, the provider may still create the payment, so the attempt is
    /// never given up before then. (`None`: the attempt's creation.)
    pub create_started_at: Option<OffsetDateTime>,
    /// When the reconciler should next ask the provider (`None`: now).
    pub next_check_at: Option<OffsetDateTime>,
    /// How often the reconciler has asked so far (its backoff).
    pub checks: u32,
    pub incident: Option<Incident>,
    /// Refunds of the money it took, oldest first.
    pub refunds: Vec<Refund>,
    /// Chargebacks the provider reported, in the order first seen.
    pub chargebacks: Vec<Chargeback>,
    /// Automatic, or authorize now and capture later.
    pub capture_mode: CaptureMode,
    /// Of a manual capture: what the provider captured so far (it only
    /// grows). What the payment took.
    pub captured: Option<Money>,
    /// Of an authorization: until when the provider lets it be captured.
    pub capture_before: Option<OffsetDateTime>,
    /// When the owner was first told the authorization lapses soon (once).
    pub capture_warned_at: Option<OffsetDateTime>,
    /// How the shopper paid, as the provider names it (`iDEAL`, `Card`),
    /// once a report carried it.
    pub method: Option<String>,
    /// The stock it holds (`None`: no tracked article, or recorded before
    /// stock was).
    pub stock: Option<StockHold>,
    /// The shopper's withdrawal from the contract, on the attempt that
    /// took the money.
    pub withdrawal: Option<Withdrawal>,
    /// Each status it took and when it was recorded, oldest first (for the
    /// back office; records from before it start empty).
    pub history: Vec<StatusSeen>,
}

/// What an attempt is, read-only: every change goes through a method that
/// keeps its rules (a status only moves forward, a version only grows,
/// refunds and chargebacks are only added or moved forward).
impl PaymentAttempt {
    pub fn id(&self) -> &AttemptId {
        &self.state.id
    }

    pub fn order_id(&self) -> &OrderId {
        &self.state.order_id
    }

    pub fn amount(&self) -> Money {
        self.state.amount
    }

    pub fn status(&self) -> PaymentStatus {
        self.state.status
    }

    /// The provider's payment id (`tr_...`), once the provider created it.
    pub fn provider_payment_id(&self) -> &Option<ProviderPaymentId> {
        &self.state.provider_payment_id
    }

    /// Where the shopper pays, while the payment is open.
    pub fn checkout_url(&self) -> &Option<String> {
        &self.state.checkout_url
    }

    pub fn created_at(&self) -> OffsetDateTime {
        self.state.created_at
    }

    pub fn updated_at(&self) -> OffsetDateTime {
        self.state.updated_at
    }

    /// Grows by one with every write (see [`Self::bump_version`]).
    pub fn version(&self) -> u64 {
        self.state.version
    }

    /// When the reconciler should next ask the provider (`None`: now).
    pub fn next_check_at(&self) -> Option<OffsetDateTime> {
        self.state.next_check_at
    }

    /// How often the reconciler has asked so far.
    pub fn checks(&self) -> u32 {
        self.state.checks
    }

    pub fn incident(&self) -> &Option<Incident> {
        &self.state.incident
    }

    /// Refunds of the money it took, oldest first.
    pub fn refunds(&self) -> &[Refund] {
        &self.state.refunds
    }

    /// Chargebacks the provider reported, in the order first seen.
    pub fn chargebacks(&self) -> &[Chargeback] {
        &self.state.chargebacks
    }

    pub fn capture_mode(&self) -> CaptureMode {
        self.state.capture_mode
    }

    /// Of a manual capture: what the provider captured so far.
    pub fn captured(&self) -> Option<Money> {
        self.state.captured
    }

    /// Of an authorization: until when the provider lets it be captured.
    pub fn capture_before(&self) -> Option<OffsetDateTime> {
        self.state.capture_before
    }

    /// How the shopper paid, as the provider names it, once known.
    pub fn method(&self) -> Option<&str> {
        self.state.method.as_deref()
    }

    /// The stock it holds, and where it is.
    pub fn stock(&self) -> Option<&StockHold> {
        self.state.stock.as_ref()
    }

    /// The shopper's withdrawal, once received.
    pub fn withdrawal(&self) -> Option<&Withdrawal> {
        self.state.withdrawal.as_ref()
    }

    /// Erases the name on the shopper's withdrawal (personal data); the
    /// withdrawal and its time stay. False when there is none to erase.
    pub fn erase_withdrawal_name(&mut self) -> bool {
        match &mut self.state.withdrawal {
            Some(withdrawal) if withdrawal.name != crate::withdrawal::ERASED_NAME => {
                withdrawal.name = crate::withdrawal::ERASED_NAME.to_owned();
                true
            }
            _ => false,
        }
    }

    /// Records the shopper's withdrawal on the attempt that took (or
    /// reserved) the money; false when it did neither or one is recorded
    /// already.
    pub fn receive_withdrawal(&mut self, withdrawal: Withdrawal) -> bool {
        if !self.money_taken_or_reserved() || self.state.withdrawal.is_some() {
            return false;
        }
        self.state.withdrawal = Some(withdrawal);
        true
    }

    /// Each status it took and when it was recorded, oldest first.
    pub fn history(&self) -> &[StatusSeen] {
        &self.state.history
    }
}

impl PaymentAttempt {
    /// What a store keeps of it.
    pub fn to_parts(&self) -> AttemptParts {
        self.state.clone()
    }

    /// The attempt a store kept, as [`Self::to_parts`] gave it.
    pub fn from_parts(parts: AttemptParts) -> Self {
        Self { state: parts }
    }

    pub fn new(order_id: OrderId, amount: Money, now: OffsetDateTime) -> Self {
        Self::from_parts(AttemptParts {
            id: AttemptId::generate(),
            order_id,
            amount,
            status: PaymentStatus::Created,
            provider_payment_id: None,
            checkout_url: None,
            created_at: now,
            updated_at: now,
            version: 1,
            create_started_at: Some(now),
            next_check_at: None,
            checks: 0,
            incident: None,
            refunds: Vec::new(),
            chargebacks: Vec::new(),
            capture_mode: CaptureMode::Automatic,
            captured: None,
            capture_before: None,
            capture_warned_at: None,
            method: None,
            stock: None,
            withdrawal: None,
            history: vec![StatusSeen {
                status: PaymentStatus::Created,
                at: now,
            }],
        })
    }

    /// Under `mode`: automatic, or authorize now and capture later. Only a
    /// new attempt's, before the provider has it.
    /// Holds `hold`'s units from its first write on.
    pub fn with_stock(mut self, hold: Option<StockHold>) -> Self {
        self.state.stock = hold;
        self
    }

    pub fn with_capture_mode(mut self, mode: CaptureMode) -> Self {
        debug_assert_eq!(self.state.status, PaymentStatus::Created);
        self.state.capture_mode = mode;
        self
    }

    /// What its counting refunds take back.
    pub fn refunded(&self) -> Money {
        refund::refunded(self.state.amount.currency(), &self.state.refunds)
    }

    /// What it took and what was taken back.
    pub fn ledger(&self) -> Ledger {
        Ledger::of_attempt(self)
    }

    /// What the provider took: all of it, or with a manual capture what
    /// was captured (all of it when a paid payment reports no capture: its
    /// method captured at once).
    pub fn taken(&self) -> Money {
        match (self.state.capture_mode, self.state.captured) {
            (CaptureMode::Manual, Some(captured)) => captured,
            (CaptureMode::Manual, None) if self.state.status != PaymentStatus::Paid => {
                Money::new(0, self.state.amount.currency())
            }
            _ => self.state.amount,
        }
    }

    /// Authorized and waiting for the operator's capture (or release).
    pub fn awaits_capture(&self) -> bool {
        self.state.capture_mode == CaptureMode::Manual
            && self.state.status == PaymentStatus::Authorized
    }

    /// An authorization that lapses within `within` of `now`: the operator
    /// must capture or release it soon, or the money is lost to the shop.
    pub fn capture_due_soon(&self, now: OffsetDateTime, within: std::time::Duration) -> bool {
        self.awaits_capture()
            && self
                .state
                .capture_before
                .is_some_and(|deadline| deadline - now <= within)
    }

    /// When the owner was told the authorization lapses soon.
    pub fn capture_warned_at(&self) -> Option<OffsetDateTime> {
        self.state.capture_warned_at
    }

    /// Records that the owner is told, now, that the authorization lapses
    /// within `within`; false when it does not, or they were told already.
    pub fn warn_capture_due(&mut self, now: OffsetDateTime, within: std::time::Duration) -> bool {
        if self.state.capture_warned_at.is_some() || !self.capture_due_soon(now, within) {
            return false;
        }
        self.state.capture_warned_at = Some(now);
        true
    }

    /// Records what the provider says of capturing: the captured amount
    /// only grows; the deadline is kept as first reported. True when
    /// anything changed.
    pub fn merge_capture(
        &mut self,
        captured: Option<Money>,
        capture_before: Option<OffsetDateTime>,
    ) -> bool {
        let mut changed = false;
        if let Some(captured) = captured.filter(|c| c.currency() == self.state.amount.currency()) {
            let more = self.state.captured.is_none_or(|known| captured > known);
            if more && captured <= self.state.amount {
                self.state.captured = Some(captured);
                changed = true;
            }
        }
        if self.state.capture_before.is_none() && capture_before.is_some() {
            self.state.capture_before = capture_before;
            changed = true;
        }
        changed
    }

    /// What may still be refunded: nothing unless it took money.
    pub fn refundable(&self) -> Money {
        if !self.has_taken_money() {
            return Money::new(0, self.state.amount.currency());
        }
        self.ledger().remaining()
    }

    /// Records refund `id` the shop starts (`requested`), before the
    /// provider is asked; the same id asked for again adds nothing.
    ///
    /// # Errors
    ///
    /// [`RefundRequestError`]: the attempt took no money, or the amount is not more
    /// than zero in its currency, or more than remains, or the id was used
    /// for another amount.
    pub fn request_refund(
        &mut self,
        id: &RefundId,
        amount: Money,
        now: OffsetDateTime,
    ) -> Result<RefundRequested, RefundRequestError> {
        if !self.has_taken_money() {
            return Err(RefundRequestError::NotPaid);
        }
        let remaining = self.refundable();
        refund::request(remaining, &mut self.state.refunds, id, amount, now)
    }

    /// The provider refused refund `id`, which it does not report: it
    /// failed (should the provider report it after all, its word wins).
    /// True when it was requested and is failed now.
    pub fn fail_requested_refund(&mut self, id: &RefundId) -> bool {
        refund::fail_requested(&mut self.state.refunds, id)
    }

    /// A refund of it failed and the shopper may still be owed it: no later
    /// refund of the same amount counts, and that much is still
    /// refundable (a refused duplicate of a refund that took the rest is
    /// owed nothing).
    pub fn has_failed_refund_owed(&self) -> bool {
        let refundable = self.refundable();
        self.state.refunds.iter().enumerate().any(|(i, failed)| {
            failed.status() == refund::RefundStatus::Failed
                && failed.amount() <= refundable
                && !self.state.refunds[i + 1..]
                    .iter()
                    .any(|later| later.amount() == failed.amount() && later.status().counts())
        })
    }

    /// Merges the refunds and chargebacks the provider reports; true when
    /// anything changed. Nothing is ever removed or moved back.
    pub fn merge_provider_money(
        &mut self,
        refunds: &[ProviderRefund],
        chargebacks: &[ProviderChargeback],
        now: OffsetDateTime,
    ) -> bool {
        let refunds_changed = refund::merge(&mut self.state.refunds, refunds, now);
        chargeback::merge(&mut self.state.chargebacks, chargebacks, now) || refunds_changed
    }

    /// The reconciler's first look, `schedule.first_check_after` from `now`.
    pub fn with_first_check(mut self, now: OffsetDateTime, schedule: &CheckSchedule) -> Self {
        self.state.next_check_at = Some(now + schedule.first_check_after);
        self
    }

    /// When the reconciler should look at this attempt next.
    pub fn due_at(&self) -> OffsetDateTime {
        self.state.next_check_at.unwrap_or(self.state.created_at)
    }

    /// The reconciler looked: the next look is later, with backoff.
    pub fn schedule_next_check(&mut self, now: OffsetDateTime, schedule: &CheckSchedule) {
        self.state.next_check_at = Some(now + schedule.delay_after(self.state.checks));
        self.state.checks = self.state.checks.saturating_add(1);
    }

    /// A create call at the provider is about to begin.
    pub fn begin_create(&mut self, now: OffsetDateTime) {
        self.state.create_started_at = Some(now);
    }

    /// How long ago the latest create call began.
    pub fn since_create_started(&self, now: OffsetDateTime) -> time::Duration {
        now - self
            .state
            .create_started_at
            .unwrap_or(self.state.created_at)
    }

    /// The provider still owes us news: a payment not final, or one of its
    /// refunds not settled. The reconciler keeps asking until it has it.
    pub fn needs_checks(&self) -> bool {
        self.is_live() || self.state.refunds.iter().any(|r| !r.status().is_final())
    }

    /// Something new is expected (a refund was asked for): the
    /// reconciler's backoff starts over.
    pub fn check_again_soon(&mut self, now: OffsetDateTime, schedule: &CheckSchedule) {
        self.state.next_check_at = Some(now + schedule.first_check_after);
        self.state.checks = 0;
    }

    /// Still payable: the shopper may be sent to its checkout page.
    pub fn is_live(&self) -> bool {
        !self.state.status.is_final()
    }

    /// The provider's payment that took money on this attempt: what a
    /// refund or capture is made on. `None` when it took none (or the
    /// provider's id is unknown, which a payment that took money never is).
    pub fn payment_that_took_money(&self) -> Option<&ProviderPaymentId> {
        self.state
            .provider_payment_id
            .as_ref()
            .filter(|_| self.has_taken_money())
    }

    /// The provider took money on this attempt, expected or not.
    pub fn has_taken_money(&self) -> bool {
        self.state.status == PaymentStatus::Paid
            || self
                .state
                .incident
                .as_ref()
                .is_some_and(|i| i.kind == IncidentKind::PaidAfterGivenUp)
    }

    /// It took money, or the shopper's money is reserved for it (an
    /// authorization the shop captures later): a contract stands, and
    /// its units are the shopper's.
    pub fn money_taken_or_reserved(&self) -> bool {
        self.has_taken_money() || self.state.status == PaymentStatus::Authorized
    }

    /// Records money the shop did not expect; false if one is recorded already.
    pub fn record_incident(&mut self, kind: IncidentKind, now: OffsetDateTime) -> bool {
        if self.state.incident.is_some() {
            return false;
        }
        self.state.incident = Some(Incident {
            kind,
            recorded_at: now,
        });
        self.settle_stock();
        true
    }

    /// Moves the hold to where the status says: units go back when it
    /// ended unpaid, and are taken again when money came after all.
    fn settle_stock(&mut self) {
        let wants_units = !self.state.status.is_final() || self.has_taken_money();
        let money_coming = self.money_taken_or_reserved();
        if let Some(hold) = &mut self.state.stock {
            hold.state = match hold.state {
                HoldState::Held if !wants_units => HoldState::Released,
                HoldState::Released if money_coming => HoldState::Held,
                state => state,
            };
        }
    }

    /// Gives the units back while the payment is still open, once it has
    /// held them for `hold_for`; true when it did. An authorized or
    /// pending payment keeps them (the money is on its way).
    pub fn release_stock_after(
        &mut self,
        now: OffsetDateTime,
        hold_for: std::time::Duration,
    ) -> bool {
        let waiting = matches!(
            self.state.status,
            PaymentStatus::Created | PaymentStatus::Open
        );
        match &mut self.state.stock {
            Some(hold)
                if hold.state == HoldState::Held
                    && waiting
                    && now - self.state.created_at >= hold_for =>
            {
                hold.state = HoldState::Released;
                true
            }
            _ => false,
        }
    }

    /// Money came after the units went back, but another attempt of the
    /// order holds them (it paid for them): they stay given back, so the
    /// order holds its units once.
    pub fn leave_stock_released(&mut self) {
        if let Some(hold) = &mut self.state.stock {
            if hold.state == HoldState::Held {
                hold.state = HoldState::Released;
            }
        }
    }

    /// The store had no longer the units to take again for money that came
    /// after they were given back: sold twice. For a write whose take the
    /// store refused (only taking again can be); false when the attempt
    /// took no money or holds nothing.
    pub fn record_oversold(&mut self) -> bool {
        let money_coming = self.money_taken_or_reserved();
        match &mut self.state.stock {
            Some(hold) if hold.state == HoldState::Held && money_coming => {
                hold.state = HoldState::Oversold;
                true
            }
            _ => false,
        }
    }

    /// Marks this as the next version of what was read, to be written
    /// conditionally on the version it was read with (see `Store::update_attempt`).
    /// Every write goes through here, so a new status enters the history.
    pub fn bump_version(&mut self, now: OffsetDateTime) {
        self.state.version += 1;
        self.state.updated_at = now;
        if self.state.history.last().map(|seen| seen.status) != Some(self.state.status) {
            self.state.history.push(StatusSeen {
                status: self.state.status,
                at: now,
            });
        }
    }

    /// The provider accepted the payment: remember its id and checkout page.
    pub fn record_provider_payment(
        &mut self,
        provider_payment_id: ProviderPaymentId,
        checkout_url: Option<String>,
    ) {
        self.state.provider_payment_id = Some(provider_payment_id);
        self.state.checkout_url = checkout_url;
    }

    /// Remembers how the shopper is paying, as the provider now says: a
    /// shopper may switch methods until the money is taken, never after.
    /// A report without one, or with one that is not a plain id-like name,
    /// changes nothing.
    pub fn learn_method(&mut self, method: Option<&str>) {
        let plain = |m: &&str| {
            (1..=40).contains(&m.len())
                && m.chars()
                    .all(|c| c.is_ascii_alphanumeric() || " -_/.'".contains(c))
        };
        if let Some(method) = method.filter(plain) {
            if !self.has_taken_money() || self.state.method.is_none() {
                self.state.method = Some(method.to_owned());
            }
        }
    }

    /// Applies an observed status through the state machine.
    pub fn observe(&mut self, observed: PaymentStatus) -> StatusChange {
        let change = self.state.status.observe(observed);
        if let StatusChange::Advanced(status) = change {
            self.state.status = status;
            if status.is_final() {
                self.state.checkout_url = None;
            }
            self.settle_stock();
        }
        change
    }
}

/// What attempts took and gave back.
impl Ledger {
    /// The ledger of one attempt that took money.
    pub fn of_attempt(attempt: &PaymentAttempt) -> Self {
        let currency = attempt.amount().currency();
        Self {
            paid: attempt.taken(),
            refunded: refund::refunded(currency, attempt.refunds()),
            charged_back: chargeback::charged_back(currency, attempt.chargebacks()),
        }
    }

    /// The order's ledger: every attempt that took money counts (two tabs
    /// can pay twice); `None` when none did. Every attempt of an order has
    /// the order's currency ([`crate::Order::for_new_attempt`]).
    ///
    /// # Errors
    ///
    /// Attempts in two currencies, or sums that do not fit: a record no
    /// flow of the shop writes, reported rather than added up wrong.
    pub fn of_order(attempts: &[PaymentAttempt]) -> Result<Option<Self>, MoneyError> {
        attempts
            .iter()
            .filter(|a| a.has_taken_money())
            .map(Self::of_attempt)
            .try_fold(None, |sum: Option<Self>, next| {
                let Some(sum) = sum else {
                    return Ok(Some(next));
                };
                Ok(Some(Self {
                    paid: sum.paid.checked_add(next.paid)?,
                    refunded: sum.refunded.checked_add(next.refunded)?,
                    charged_back: sum.charged_back.checked_add(next.charged_back)?,
                }))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::PaymentStatus::*;
    use super::*;

    #[test]
    fn statuses_move_forward_only() {
        assert_eq!(Created.observe(Open), StatusChange::Advanced(Open));
        assert_eq!(Open.observe(Paid), StatusChange::Advanced(Paid));
        assert_eq!(Open.observe(Pending), StatusChange::Advanced(Pending));
        assert_eq!(Pending.observe(Failed), StatusChange::Advanced(Failed));
        assert_eq!(Authorized.observe(Paid), StatusChange::Advanced(Paid));
        assert_eq!(Pending.observe(Open), StatusChange::Stale);
        assert_eq!(Pending.observe(Authorized), StatusChange::Stale);
        assert_eq!(Open.observe(Open), StatusChange::Unchanged);
    }

    #[test]
    fn a_final_status_never_changes() {
        for final_status in PaymentStatus::ALL.into_iter().filter(|s| s.is_final()) {
            for observed in PaymentStatus::ALL {
                let change = final_status.observe(observed);
                assert!(
                    matches!(change, StatusChange::Unchanged | StatusChange::Stale),
                    "{final_status} -> {observed} gave {change:?}"
                );
            }
        }
    }

    #[test]
    fn observing_drops_the_checkout_link_when_final() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let mut attempt = PaymentAttempt::new(
            OrderId::generate(),
            Money::new(100, crate::Currency::EUR),
            now,
        );
        attempt.record_provider_payment(
            ProviderPaymentId::parse("tr_1").unwrap(),
            Some("https://pay".into()),
        );
        assert_eq!(attempt.observe(Open), StatusChange::Advanced(Open));
        assert_eq!(attempt.state.checkout_url.as_deref(), Some("https://pay"));
        assert_eq!(attempt.observe(Paid), StatusChange::Advanced(Paid));
        assert_eq!(attempt.state.checkout_url, None);
        assert_eq!(attempt.observe(Open), StatusChange::Stale);
        assert_eq!(attempt.state.status, Paid);
        attempt.bump_version(now);
        assert_eq!(attempt.state.version, 2);
    }

    #[test]
    fn checks_back_off_to_the_maximum_interval() {
        let schedule = CheckSchedule {
            first_check_after: std::time::Duration::from_secs(60),
            max_interval: std::time::Duration::from_secs(3600),
        };
        let now = OffsetDateTime::UNIX_EPOCH;
        let mut attempt = PaymentAttempt::new(
            OrderId::generate(),
            Money::new(100, crate::Currency::EUR),
            now,
        )
        .with_first_check(now, &schedule);
        assert_eq!(attempt.due_at(), now + time::Duration::minutes(1));
        let mut delays = Vec::new();
        for _ in 0..8 {
            attempt.schedule_next_check(now, &schedule);
            delays.push((attempt.due_at() - now).whole_minutes());
        }
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60]);
    }

    #[test]
    fn the_stock_hold_follows_the_status() {
        let hold = StockHold {
            units: vec![crate::stock::Units {
                article_id: crate::ArticleId::parse("mug").unwrap(),
                quantity: 1,
            }],
            state: HoldState::Held,
        };
        let at = OffsetDateTime::UNIX_EPOCH;
        let new = || {
            PaymentAttempt::new(
                OrderId::generate(),
                Money::new(100, crate::Currency::EUR),
                at,
            )
            .with_stock(Some(hold.clone()))
        };
        let state = |a: &PaymentAttempt| a.stock().unwrap().state;
        // Authorized and paid keep it; an unpaid end gives it back.
        let mut paid = new();
        paid.observe(Authorized);
        assert_eq!(state(&paid), HoldState::Held);
        paid.observe(Paid);
        assert_eq!(state(&paid), HoldState::Held);
        // Held too long while open: given back; paid later, taken again.
        let mut late = new();
        late.observe(Open);
        assert!(!late.release_stock_after(at, std::time::Duration::from_secs(60)));
        let later = at + time::Duration::minutes(2);
        assert!(late.release_stock_after(later, std::time::Duration::from_secs(60)));
        assert_eq!(state(&late), HoldState::Released);
        late.observe(Expired);
        assert_eq!(state(&late), HoldState::Released);
        let mut paid_late = new();
        paid_late.observe(Open);
        paid_late.release_stock_after(later, std::time::Duration::from_secs(60));
        paid_late.observe(Paid);
        assert_eq!(state(&paid_late), HoldState::Held);
        assert!(paid_late.record_oversold());
        for end in [Failed, Canceled, Expired] {
            let mut ended = new();
            ended.observe(end);
            assert_eq!(state(&ended), HoldState::Released, "{end:?}");
            // Money after all: taken again; if gone, oversold.
            ended.record_incident(IncidentKind::PaidAfterGivenUp, at);
            assert_eq!(state(&ended), HoldState::Held);
            assert!(ended.record_oversold());
            assert_eq!(state(&ended), HoldState::Oversold);
        }
    }

    #[test]
    fn the_method_follows_the_shopper_until_the_money_is_taken() {
        let mut attempt = PaymentAttempt::new(
            OrderId::generate(),
            Money::new(100, crate::Currency::EUR),
            OffsetDateTime::UNIX_EPOCH,
        );
        attempt.learn_method(Some("iDEAL"));
        attempt.learn_method(Some("Card"));
        attempt.learn_method(None);
        attempt.learn_method(Some("<b>x</b>"));
        assert_eq!(attempt.method(), Some("Card"));
        attempt.observe(Paid);
        attempt.learn_method(Some("PayPal"));
        assert_eq!(attempt.method(), Some("Card"));
    }

    #[test]
    fn a_manual_capture_takes_what_was_captured_and_only_more() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let eur = |cents| Money::new(cents, crate::Currency::EUR);
        let mut attempt = PaymentAttempt::new(OrderId::generate(), eur(2900), now)
            .with_capture_mode(CaptureMode::Manual);
        attempt.observe(Authorized);
        assert!(attempt.awaits_capture());
        let deadline = now + time::Duration::days(7);
        assert!(attempt.merge_capture(Some(eur(0)), Some(deadline)));
        assert!(attempt.capture_due_soon(now, std::time::Duration::from_secs(8 * 86_400)));
        assert!(!attempt.capture_due_soon(now, std::time::Duration::from_secs(86_400)));
        assert_eq!(attempt.taken(), eur(0));
        assert!(attempt.merge_capture(Some(eur(1000)), None));
        // A stale report of less, or more than authorized, changes nothing.
        assert!(!attempt.merge_capture(Some(eur(0)), Some(now)));
        assert!(!attempt.merge_capture(Some(eur(2901)), None));
        attempt.observe(Paid);
        assert_eq!(attempt.taken(), eur(1000));
        assert_eq!(attempt.refundable(), eur(1000));
        assert_eq!(attempt.state.capture_before, Some(deadline));
        assert!(!attempt.awaits_capture());
    }

    #[test]
    fn an_incident_is_recorded_once_and_counts_as_money_taken() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let mut attempt = PaymentAttempt::new(
            OrderId::generate(),
            Money::new(100, crate::Currency::EUR),
            now,
        );
        attempt.observe(Expired);
        assert!(!attempt.has_taken_money());
        assert!(attempt.record_incident(IncidentKind::PaidAfterGivenUp, now));
        assert!(!attempt.record_incident(IncidentKind::SecondPayment, now));
        assert!(attempt.has_taken_money());
        assert_eq!(
            attempt.state.status, Expired,
            "the status machine is untouched"
        );
    }
}
