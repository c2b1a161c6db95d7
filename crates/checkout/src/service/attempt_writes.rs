//! The one way the service changes a stored attempt: read it, change a
//! copy, bump its version and write it conditionally on the version read.
//! Another writer may win in between (a webhook, the reconciler, another
//! instance); then it is read and changed again, a few times at most.

use super::{CheckoutService, MAX_WRITE_CONFLICTS};
use crate::events::AttemptWrite;
use crate::order::OrderId;
use crate::payment::{AttemptId, PaymentAttempt};
use crate::ports::StoreError;
use time::OffsetDateTime;

/// What a change made of the attempt it was given.
pub(super) enum Edit<T> {
    /// Write the changed attempt; then `T`.
    Write(T),
    /// Nothing to write (whatever the change did to the copy is dropped).
    Keep(T),
}

/// A change that ran: its result, the attempt as it is stored now, and
/// whether this change wrote it.
pub(super) struct Edited<T> {
    pub(super) value: T,
    pub(super) attempt: PaymentAttempt,
    pub(super) written: bool,
}

impl CheckoutService {
    /// Reads attempt `attempt_id` of order `order_id`, gives a copy and the
    /// time to `change`, and writes it if the change says so. `None`: no
    /// such attempt.
    ///
    /// # Errors
    ///
    /// The change's own error (nothing is written then), or the store's:
    /// [`StoreError::Conflict`] when other writers won every round.
    pub(super) async fn change_attempt<T, E>(
        &self,
        order_id: &OrderId,
        attempt_id: &AttemptId,
        mut change: impl FnMut(&mut PaymentAttempt, OffsetDateTime) -> Result<Edit<T>, E>,
    ) -> Result<Option<Edited<T>>, E>
    where
        E: From<StoreError>,
    {
        for _ in 0..MAX_WRITE_CONFLICTS {
            let Some(stored) = self.store.load_attempt(order_id, attempt_id).await? else {
                return Ok(None);
            };
            let mut next = stored.clone();
            let now = self.clock.now();
            let value = match change(&mut next, now)? {
                Edit::Keep(value) => {
                    return Ok(Some(Edited {
                        value,
                        attempt: stored,
                        written: false,
                    }))
                }
                Edit::Write(value) => value,
            };
            next.bump_version(now);
            let mut write = AttemptWrite::new(&stored, next, now);
            let mut written = self.store.update_attempt(&write).await;
            if written == Err(StoreError::SoldOut) {
                // Money came after the units went back, and they are gone:
                // the payment is recorded all the same, the units as
                // oversold, for the operator.
                if let Some(oversold) = write.clone().oversold(&stored, now) {
                    tracing::error!(order_id = %order_id, attempt_id = %attempt_id, operator_action = true, "paid after its stock was given back, and the stock is gone: oversold");
                    write = oversold;
                    written = self.store.update_attempt(&write).await;
                }
            }
            match written {
                Ok(()) => {
                    if !write.events().is_empty() {
                        self.outbox_written(order_id);
                    }
                    return Ok(Some(Edited {
                        value,
                        attempt: write.into_next(),
                        written: true,
                    }));
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict.into())
    }
}
