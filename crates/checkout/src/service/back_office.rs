//! The back office's operations. Reads: orders newest first, an order
//! found by our id or the provider's, its audit log. Actions: each is
//! recorded in the order's audit log before it runs (an action that cannot
//! be recorded does not run) and again with how it ended.

use super::attempt_writes::Edit;
use super::{CaptureError, CheckoutService, RefundError, SyncError, MAX_WRITE_CONFLICTS};
use crate::attention::OrderFilter;
use crate::audit::{AuditAction, AuditEntry, AuditOutcome, MAX_REASON_CHARS};
use crate::ids::{CaptureId, EventId, RefundId};
use crate::messages::{shopper_message, MailMessage};
use crate::money::Money;
use crate::order::{OrderId, OrderStatus};
use crate::outbox::{Channel, OutboxEntry};
use crate::payment::{PaymentStatus, ProviderPaymentId};
use crate::ports::{error_report, OrderCursor, OrderRecord, ProviderError, StoreError};

/// A filtered list reads the orders this many at a time...
const FILTERED_BATCH: usize = 50;
/// ...and at most this many per page it shows: a page of a rare status
/// costs a bounded number of reads, and the next page looks further back.
pub const MAX_EXAMINED: usize = 500;

/// A page of the back office's order list.
#[derive(Clone, Debug)]
pub struct OrderList {
    pub orders: Vec<(OrderRecord, OrderStatus)>,
    pub next: Option<OrderCursor>,
}

/// Why an operator's action did not run or did not complete. A refusal
/// ([`Self::is_refusal`]) changed nothing and its words are for the
/// operator; any other could not complete now (what was recorded is
/// retried by the reconciler, and asking again is safe).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    #[error("no such order")]
    UnknownOrder,
    #[error("the catalog has no such article")]
    UnknownArticle,
    /// A checkout took or gave back units since the operator read the level.
    #[error("the level changed meanwhile (checkouts take and give back units); it is {} now: set it again if you still mean it", .now.map_or_else(|| "not tracked".to_owned(), |n| n.to_string()))]
    StockChanged { now: Option<u32> },
    #[error(transparent)]
    Refund(RefundError),
    #[error(transparent)]
    Capture(CaptureError),
    /// Reading the payments back from the provider (refresh, cancel).
    #[error(transparent)]
    Sync(SyncError),
    #[error("the order has no open payment to cancel")]
    NothingToCancel,
    #[error("the payment provider refused: the payment can no longer be canceled")]
    CancelRefused(#[source] ProviderError),
    #[error("the payment provider could not be reached; try again")]
    ProviderUnavailable(#[source] ProviderError),
    #[error("the shop's store is unavailable")]
    Store(#[source] StoreError),
    #[error("a reason is at most {MAX_REASON_CHARS} characters")]
    ReasonTooLong,
    #[error("a reason is one line of text")]
    ReasonNotOneLine,
    /// The audit log could not be written, so the action did not run.
    #[error("the order has no such event, or not on that channel")]
    NoSuchDelivery,
    #[error("the event is being sent right now; look again in a few minutes")]
    DeliveryUnderway,
    #[error("the order holds no personal data (erased already)")]
    NothingToErase,
    #[error("the action could not be recorded, so it was not started")]
    NotRecorded(#[source] StoreError),
}

impl ActionError {
    /// Refused before anything moved, for a reason the operator can act on.
    pub fn is_refusal(&self) -> bool {
        match self {
            Self::UnknownOrder
            | Self::UnknownArticle
            | Self::StockChanged { .. }
            | Self::NothingToCancel
            | Self::CancelRefused(_)
            | Self::ReasonTooLong
            | Self::ReasonNotOneLine
            | Self::NoSuchDelivery
            | Self::DeliveryUnderway
            | Self::NothingToErase => true,
            Self::Refund(e) => e.is_refusal(),
            Self::Capture(e) => e.is_refusal(),
            Self::Sync(_)
            | Self::ProviderUnavailable(_)
            | Self::Store(_)
            | Self::NotRecorded(_) => false,
        }
    }

    fn outcome(&self) -> AuditOutcome {
        if self.is_refusal() {
            AuditOutcome::Refused(self.to_string())
        } else {
            AuditOutcome::Failed(self.to_string())
        }
    }
}

impl From<RefundError> for ActionError {
    fn from(error: RefundError) -> Self {
        match error {
            RefundError::UnknownOrder => Self::UnknownOrder,
            other => Self::Refund(other),
        }
    }
}

impl From<CaptureError> for ActionError {
    fn from(error: CaptureError) -> Self {
        match error {
            CaptureError::UnknownOrder => Self::UnknownOrder,
            other => Self::Capture(other),
        }
    }
}

impl From<SyncError> for ActionError {
    fn from(error: SyncError) -> Self {
        Self::Sync(error)
    }
}

/// A refund's reason as the operator typed it: trimmed, one line, short.
///
/// # Errors
///
/// [`ActionError::ReasonTooLong`], or [`ActionError::ReasonNotOneLine`]
/// for control characters.
pub fn refund_reason(text: &str) -> Result<String, ActionError> {
    let reason = text.trim();
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(ActionError::ReasonTooLong);
    }
    if reason.chars().any(char::is_control) {
        return Err(ActionError::ReasonNotOneLine);
    }
    Ok(reason.to_owned())
}

impl CheckoutService {
    /// Orders newest first that pass `filter`, `limit` at a time, each
    /// with its attempts and derived status. A filtered list reads at most
    /// [`MAX_EXAMINED`] orders per call: when fewer match, `next` says
    /// where to look on.
    ///
    /// # Errors
    ///
    /// The store's error when it cannot be read.
    pub async fn recent_orders(
        &self,
        after: Option<&OrderCursor>,
        limit: usize,
        filter: OrderFilter,
    ) -> Result<OrderList, StoreError> {
        let now = self.clock.now();
        let batch = if filter == OrderFilter::All {
            limit
        } else {
            FILTERED_BATCH
        };
        let mut cursor = after.cloned();
        let mut orders = Vec::new();
        let mut examined = 0;
        loop {
            let page = self.store.recent_orders(cursor.as_ref(), batch).await?;
            let count = page.orders.len();
            for (index, order) in page.orders.iter().enumerate() {
                examined += 1;
                cursor = Some(OrderCursor::of(order));
                let Some(record) = self.store.load_order(order.id()).await? else {
                    continue;
                };
                let status = OrderStatus::derive(&record.attempts);
                let attention = record.attention(now, self.policy.capture_warning);
                if filter.matches(status, &attention) {
                    orders.push((record, status));
                }
                if orders.len() == limit {
                    let last_read = index + 1 == count && page.next.is_none();
                    return Ok(OrderList {
                        orders,
                        next: if last_read { None } else { cursor },
                    });
                }
            }
            if page.next.is_none() {
                return Ok(OrderList { orders, next: None });
            }
            if examined >= MAX_EXAMINED {
                return Ok(OrderList {
                    orders,
                    next: cursor,
                });
            }
        }
    }

    /// The order an operator looks for: by our order id (`ord_...`) or by
    /// the provider's payment id (`tr_...`) of any of its attempts.
    ///
    /// # Errors
    ///
    /// The store's error when it cannot be read.
    pub async fn find_order(&self, text: &str) -> Result<Option<OrderId>, StoreError> {
        let text = text.trim();
        if let Some(id) = OrderId::parse(text) {
            return Ok(self
                .store
                .load_order(&id)
                .await?
                .map(|r| r.order.id().clone()));
        }
        if let Some(id) = ProviderPaymentId::parse(text) {
            let attempt = self.store.find_attempt_by_provider_payment(&id).await?;
            return Ok(attempt.map(|a| a.order_id().clone()));
        }
        Ok(None)
    }

    /// The order's audit log, oldest first.
    ///
    /// # Errors
    ///
    /// The store's error when it cannot be read.
    pub async fn audit_log(&self, order_id: &OrderId) -> Result<Vec<AuditEntry>, StoreError> {
        self.store.audit_log(order_id).await
    }

    /// The order's events, oldest first, each with how far it went out and
    /// the message to the shopper it calls for, built from the order as it
    /// is now (what the deliverer sends is built the same way).
    ///
    /// # Errors
    ///
    /// The store's error when it cannot be read.
    pub async fn order_messages(
        &self,
        record: &OrderRecord,
    ) -> Result<Vec<(OutboxEntry, Option<MailMessage>)>, StoreError> {
        let order_id = record.order.id();
        let page = self.urls.thank_you_page(order_id);
        Ok(self
            .store
            .order_outbox(order_id)
            .await?
            .into_iter()
            .map(|entry| {
                let message = shopper_message(entry.event(), record, &page).ok();
                (entry, message)
            })
            .collect())
    }

    /// Reads every payment of the order from the provider again and applies
    /// what it says: the fix for a payment whose news never arrived.
    ///
    /// # Errors
    ///
    /// [`ActionError`]; see [`Self::audited`].
    pub async fn operator_refresh(
        &self,
        operator: &str,
        order_id: &OrderId,
    ) -> Result<(), ActionError> {
        self.audited(operator, order_id, AuditAction::Refresh, async {
            let record = self
                .store
                .load_order(order_id)
                .await
                .map_err(ActionError::Store)?
                .ok_or(ActionError::UnknownOrder)?;
            for attempt in &record.attempts {
                self.refresh_attempt(attempt).await?;
            }
            Ok(())
        })
        .await
    }

    /// [`Self::refund`], on the operator's word, with their reason.
    ///
    /// # Errors
    ///
    /// [`ActionError`]; see [`Self::refund`].
    pub async fn operator_refund(
        &self,
        operator: &str,
        order_id: &OrderId,
        payment: Option<&ProviderPaymentId>,
        refund_id: &RefundId,
        amount: Money,
        reason: &str,
    ) -> Result<(), ActionError> {
        let reason = refund_reason(reason)?;
        let action = AuditAction::Refund {
            refund_id: refund_id.clone(),
            amount,
            reason,
        };
        self.audited(operator, order_id, action, async {
            Ok(self
                .refund_payment(order_id, payment, refund_id, amount)
                .await?)
        })
        .await
    }

    /// [`Self::capture`], on the operator's word.
    ///
    /// # Errors
    ///
    /// [`ActionError`]; see [`Self::capture`].
    pub async fn operator_capture(
        &self,
        operator: &str,
        order_id: &OrderId,
        capture_id: &CaptureId,
        amount: Option<Money>,
    ) -> Result<(), ActionError> {
        let action = AuditAction::Capture {
            capture_id: capture_id.clone(),
            amount,
        };
        self.audited(operator, order_id, action, async {
            Ok(self.capture(order_id, capture_id, amount).await?)
        })
        .await
    }

    /// [`Self::release_authorization`], on the operator's word.
    ///
    /// # Errors
    ///
    /// [`ActionError`]; see [`Self::release_authorization`].
    pub async fn operator_release(
        &self,
        operator: &str,
        order_id: &OrderId,
    ) -> Result<(), ActionError> {
        self.audited(
            operator,
            order_id,
            AuditAction::ReleaseAuthorization,
            async { Ok(self.release_authorization(order_id).await?) },
        )
        .await
    }

    /// Cancels the order's open payments at the provider (a shopper who
    /// will not pay, or an order the shop will not deliver), then reads
    /// them back: the order shows the payment canceled, and can be paid
    /// again only by the shopper starting afresh.
    ///
    /// # Errors
    ///
    /// [`ActionError`]: no open payment, the provider refusing (it is no
    /// longer cancelable) or unreachable.
    pub async fn operator_cancel(
        &self,
        operator: &str,
        order_id: &OrderId,
    ) -> Result<(), ActionError> {
        self.audited(operator, order_id, AuditAction::CancelPayment, async {
            let record = self
                .store
                .load_order(order_id)
                .await
                .map_err(ActionError::Store)?
                .ok_or(ActionError::UnknownOrder)?;
            let open: Vec<_> = record
                .attempts
                .iter()
                .filter(|a| a.status() == PaymentStatus::Open && a.provider_payment_id().is_some())
                .collect();
            if open.is_empty() {
                return Err(ActionError::NothingToCancel);
            }
            for attempt in open {
                if let Some(id) = &attempt.provider_payment_id() {
                    self.provider
                        .cancel_payment(id)
                        .await
                        .map_err(|e| match e {
                            ProviderError::Unavailable(_) => ActionError::ProviderUnavailable(e),
                            _ => ActionError::CancelRefused(e),
                        })?;
                }
                self.refresh_attempt(attempt).await?;
            }
            Ok(())
        })
        .await
    }

    /// Sends an event out again on `channel` (a delivery that gave up, or
    /// one the receiver lost): the deliverer's next pass sends it.
    ///
    /// # Errors
    ///
    /// [`ActionError`]: no such event on the order or channel, the store.
    pub async fn operator_resend(
        &self,
        operator: &str,
        order_id: &OrderId,
        event_id: &str,
        channel: Channel,
    ) -> Result<(), ActionError> {
        let event_id = EventId::parse(event_id).ok_or(ActionError::NoSuchDelivery)?;
        let action = AuditAction::ResendEvent {
            event_id: event_id.to_string(),
            channel: channel.as_str().to_owned(),
        };
        self.audited(operator, order_id, action, async {
            for _ in 0..MAX_WRITE_CONFLICTS {
                let entries = self
                    .store
                    .order_outbox(order_id)
                    .await
                    .map_err(ActionError::Store)?;
                let entry = entries
                    .iter()
                    .find(|e| *e.event().id() == event_id)
                    .filter(|e| e.delivery(channel).is_some())
                    .ok_or(ActionError::NoSuchDelivery)?;
                // A deliverer holds it: its record would overwrite this.
                let now = self.clock.now();
                if entry.is_claimed(now) {
                    return Err(ActionError::DeliveryUnderway);
                }
                match self.store.update_outbox(&entry.resend(channel, now)).await {
                    Ok(()) => {
                        self.outbox_written(order_id);
                        return Ok(());
                    }
                    Err(StoreError::Conflict) => continue,
                    Err(e) => return Err(ActionError::Store(e)),
                }
            }
            Err(ActionError::Store(StoreError::Conflict))
        })
        .await
    }

    /// Removes the shopper's personal data (their e-mail address) from the
    /// order, on their request; messages still to send for it are then
    /// not sent.
    ///
    /// # Errors
    ///
    /// [`ActionError`]: nothing to erase, the store.
    pub async fn operator_erase_personal_data(
        &self,
        operator: &str,
        order_id: &OrderId,
    ) -> Result<(), ActionError> {
        self.audited(operator, order_id, AuditAction::ErasePersonalData, async {
            let address = self.erase_order_address(order_id).await?;
            let names = self.erase_withdrawal_names(order_id).await?;
            self.forget_paid_order(order_id);
            if address || names {
                Ok(())
            } else {
                Err(ActionError::NothingToErase)
            }
        })
        .await
    }

    /// The order's part: the shopper's address. False when erased already.
    async fn erase_order_address(&self, order_id: &OrderId) -> Result<bool, ActionError> {
        for _ in 0..MAX_WRITE_CONFLICTS {
            let record = self
                .store
                .load_order(order_id)
                .await
                .map_err(ActionError::Store)?
                .ok_or(ActionError::UnknownOrder)?;
            let mut order = record.order;
            if !order.erase_personal_data() {
                return Ok(false);
            }
            match self.store.erase_personal_data(&order).await {
                Ok(()) => return Ok(true),
                // Another attempt was added meanwhile: read again.
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(ActionError::Store(e)),
            }
        }
        Err(ActionError::Store(StoreError::Conflict))
    }

    /// The payments' part: the name on a withdrawal. False when none was
    /// left to erase.
    async fn erase_withdrawal_names(&self, order_id: &OrderId) -> Result<bool, ActionError> {
        let record = self
            .store
            .load_order(order_id)
            .await
            .map_err(ActionError::Store)?
            .ok_or(ActionError::UnknownOrder)?;
        let mut erased = false;
        for attempt in record.attempts.iter().filter(|a| a.withdrawal().is_some()) {
            let edited = self
                .change_attempt(order_id, attempt.id(), |attempt, _| {
                    Ok::<_, StoreError>(if attempt.erase_withdrawal_name() {
                        Edit::Write(())
                    } else {
                        Edit::Keep(())
                    })
                })
                .await
                .map_err(ActionError::Store)?;
            erased |= edited.is_some_and(|e| e.written);
        }
        Ok(erased)
    }

    /// Records `action` as requested, runs it, and records how it ended.
    /// An unknown order gets no log (there is no order to hang it on).
    ///
    /// # Errors
    ///
    /// The action's [`ActionError`], or [`ActionError::NotRecorded`]
    /// when the log cannot be written (then the action did not run).
    async fn audited(
        &self,
        operator: &str,
        order_id: &OrderId,
        action: AuditAction,
        run: impl std::future::Future<Output = Result<(), ActionError>>,
    ) -> Result<(), ActionError> {
        if self
            .store
            .load_order(order_id)
            .await
            .map_err(ActionError::NotRecorded)?
            .is_none()
        {
            return Err(ActionError::UnknownOrder);
        }
        let entry = |outcome| AuditEntry {
            order_id: order_id.clone(),
            at: self.clock.now(),
            operator: operator.to_owned(),
            action: action.clone(),
            outcome,
        };
        self.store
            .append_audit(&entry(AuditOutcome::Requested))
            .await
            .map_err(ActionError::NotRecorded)?;
        let result = run.await;
        let outcome = match &result {
            Ok(()) => AuditOutcome::Done,
            Err(failure) => failure.outcome(),
        };
        tracing::info!(
            %order_id,
            operator,
            action = %action.describe(),
            outcome = ?outcome,
            "operator action"
        );
        if let Err(error) = self.store.append_audit(&entry(outcome)).await {
            // The action ran and its request is logged; its outcome shows
            // on the order itself. Say so where operators look.
            tracing::error!(
                %order_id,
                operator,
                operator_action = true,
                error = %error_report(&error),
                "the outcome of an operator action could not be added to the audit log"
            );
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_one_short_line() {
        assert_eq!(refund_reason("  damaged \n").unwrap(), "damaged");
        assert!(refund_reason("two\nlines").is_err());
        assert!(refund_reason(&"x".repeat(MAX_REASON_CHARS + 1)).is_err());
        assert_eq!(refund_reason("").unwrap(), "");
    }

    /// The audit log says refused for what changed nothing and will not
    /// change on asking again, failed for what may work later; the cause
    /// stays the error's source.
    #[test]
    fn an_action_error_is_a_refusal_or_a_failure_and_keeps_its_cause() {
        use crate::refund::RefundRequestError;
        let down = || ProviderError::Unavailable(crate::Cause::new(std::io::Error::other("reset")));
        let refused = [
            ActionError::from(RefundError::Refused(RefundRequestError::NotPaid)),
            ActionError::from(RefundError::ProviderRejected(ProviderError::NotFound)),
            ActionError::from(CaptureError::NothingAuthorized),
            ActionError::NothingToCancel,
            ActionError::ReasonTooLong,
        ];
        for error in refused {
            assert!(
                matches!(error.outcome(), AuditOutcome::Refused(_)),
                "{error:?}"
            );
        }
        let failed = [
            ActionError::from(RefundError::ProviderUnavailable(down())),
            ActionError::from(CaptureError::ProviderUnavailable(down())),
            ActionError::from(SyncError::Provider(down())),
            ActionError::ProviderUnavailable(down()),
            ActionError::NotRecorded(StoreError::Conflict),
        ];
        for error in failed {
            assert!(
                matches!(error.outcome(), AuditOutcome::Failed(_)),
                "{error:?}"
            );
            assert!(
                error_report(&error).contains("reset")
                    || matches!(error, ActionError::NotRecorded(_)),
                "{}",
                error_report(&error)
            );
        }
        assert_eq!(
            ActionError::from(RefundError::UnknownOrder),
            ActionError::UnknownOrder
        );
    }
}
