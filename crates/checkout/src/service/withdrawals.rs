//! The withdrawal form's two steps: check what the shopper entered and
//! show the statement, then record the withdrawal (with its event, which
//! sends the acknowledgement) and log it.

use super::attempt_writes::Edit;
use super::{CheckoutService, MAX_WRITE_CONFLICTS};
use crate::audit::{AuditAction, AuditEntry, AuditOutcome};
use crate::contact::EmailAddress;
use crate::order::OrderId;
use crate::ports::StoreError;
use crate::withdrawal::{self, Withdrawal, WithdrawalRefusal};

/// Why a withdrawal was not recorded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WithdrawalError {
    #[error(transparent)]
    Refused(#[from] WithdrawalRefusal),
    #[error("the shop's store is unavailable")]
    Store(#[from] StoreError),
}

/// What the shopper is asked to confirm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WithdrawalPreview {
    pub name: String,
    pub statement: String,
}

/// Who the audit log says acted: the shopper, through the form.
pub const SHOPPER: &str = "shopper (withdrawal form)";

impl CheckoutService {
    /// The first step: whether the order takes this withdrawal now, and
    /// the statement the shopper confirms. Changes nothing.
    ///
    /// # Errors
    ///
    /// [`WithdrawalError`]: why not, or the store failing.
    pub async fn preview_withdrawal(
        &self,
        order_id: Option<&OrderId>,
        name: &str,
        email: &EmailAddress,
    ) -> Result<WithdrawalPreview, WithdrawalError> {
        let name = withdrawal::name_of(name)?;
        let record = match order_id {
            Some(id) => self.store.load_order(id).await?,
            None => None,
        };
        withdrawal::check(record.as_ref(), email, self.clock.now())?;
        let record = record.ok_or(WithdrawalRefusal::NotFound)?;
        Ok(WithdrawalPreview {
            statement: withdrawal::statement(&record, &name),
            name,
        })
    }

    /// The second step: records the withdrawal on the payment that took
    /// the money (its event sends the acknowledgement), and logs it. The
    /// same confirmation sent twice records one.
    ///
    /// # Errors
    ///
    /// As [`Self::preview_withdrawal`]; [`WithdrawalRefusal::AlreadyWithdrawn`]
    /// when one is recorded.
    pub async fn withdraw(
        &self,
        order_id: Option<&OrderId>,
        name: &str,
        email: &EmailAddress,
    ) -> Result<Withdrawal, WithdrawalError> {
        let name = withdrawal::name_of(name)?;
        let order_id = order_id.ok_or(WithdrawalRefusal::NotFound)?;
        for _ in 0..MAX_WRITE_CONFLICTS {
            let record = self.store.load_order(order_id).await?;
            let now = self.clock.now();
            let index = withdrawal::check(record.as_ref(), email, now)?;
            let attempt_id = record.as_ref().map(|r| r.attempts[index].id().clone());
            let Some(attempt_id) = attempt_id else {
                return Err(WithdrawalRefusal::NotFound.into());
            };
            let received = Withdrawal {
                name: name.clone(),
                received_at: now,
            };
            let edited = self
                .change_attempt::<_, WithdrawalError>(order_id, &attempt_id, |attempt, _| {
                    Ok(if attempt.receive_withdrawal(received.clone()) {
                        Edit::Write(())
                    } else {
                        Edit::Keep(())
                    })
                })
                .await;
            match edited {
                Ok(Some(edited)) if edited.written => {
                    // A paid order is read from memory: not this one, now.
                    self.forget_paid_order(order_id);
                    self.log_withdrawal(order_id).await;
                    tracing::info!(%order_id, "withdrawal received");
                    return Ok(received);
                }
                // Changed meanwhile (another confirmation won): look again.
                Ok(_) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict.into())
    }

    /// The withdrawal received for an order, read from the store (not a
    /// cached paid order: the receipt right after the write must see it).
    ///
    /// # Errors
    ///
    /// The store's.
    pub async fn withdrawal_of(
        &self,
        order_id: &OrderId,
    ) -> Result<Option<Withdrawal>, StoreError> {
        Ok(self
            .store
            .load_order(order_id)
            .await?
            .and_then(|r| r.attempts.iter().find_map(|a| a.withdrawal().cloned())))
    }

    /// The audit log's entry; the withdrawal stands without it (it is on
    /// the order, with its event), so a failure is only logged.
    async fn log_withdrawal(&self, order_id: &OrderId) {
        let entry = AuditEntry {
            order_id: order_id.clone(),
            at: self.clock.now(),
            operator: SHOPPER.to_owned(),
            action: AuditAction::Withdrawal,
            outcome: AuditOutcome::Done,
        };
        if let Err(error) = self.store.append_audit(&entry).await {
            tracing::error!(%order_id, operator_action = true, error = %crate::error_report(&error), "a withdrawal could not be added to the audit log");
        }
    }
}
