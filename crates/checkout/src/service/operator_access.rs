//! What the back office's sign-in and sessions keep in the store, so that
//! every process (each Lambda instance, each plain server) sees the same:
//! failed sign-ins counted per account and per client, and the time before
//! which an operator's sessions are over.

use super::CheckoutService;
use crate::ports::{OperatorSessions, SessionsEnd, StoreError};
use std::time::Duration;
use time::OffsetDateTime;

/// Failed sign-ins allowed in a window, per account and per client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignInLimits {
    pub per_account: u32,
    pub per_client: u32,
    /// A count starts with its first failure and is forgotten after this.
    pub window: Duration,
}

impl Default for SignInLimits {
    fn default() -> Self {
        Self {
            per_account: 10,
            per_client: 30,
            window: Duration::from_secs(15 * 60),
        }
    }
}

/// The store's keys for one sign-in: the account named (at most 64
/// characters of it, as names are; a key stays small whatever is typed)
/// and the client.
fn keys(account: &str, client: &str) -> (String, String) {
    let account: String = account.chars().take(64).collect();
    (format!("account:{account}"), format!("client:{client}"))
}

impl CheckoutService {
    /// Counts a sign-in attempt for `account` from `client` before its
    /// password is checked, and says whether it may go ahead: attempts
    /// made at once each get their own number, so a burst cannot check
    /// more passwords than the limits allow. A successful one is taken
    /// back ([`Self::sign_in_succeeded`]).
    ///
    /// # Errors
    ///
    /// The store's error: the caller refuses then (fail closed).
    pub async fn begin_sign_in(
        &self,
        account: &str,
        client: &str,
        limits: &SignInLimits,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let (account, client) = keys(account, client);
        // The client first: one past its limit adds nothing to the
        // account's count, so a single client cannot keep an account
        // locked for ever.
        let by_client = self
            .store
            .count_sign_in_attempt(&client, now, limits.window)
            .await?;
        if by_client > limits.per_client {
            return Ok(false);
        }
        let by_account = self
            .store
            .count_sign_in_attempt(&account, now, limits.window)
            .await?;
        Ok(by_account <= limits.per_account)
    }

    /// The attempt [`Self::begin_sign_in`] counted was the right password:
    /// it is not a failure.
    ///
    /// # Errors
    ///
    /// The store's error.
    pub async fn sign_in_succeeded(
        &self,
        account: &str,
        client: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let (account, client) = keys(account, client);
        self.store.forgive_sign_in_attempt(&account, now).await?;
        self.store.forgive_sign_in_attempt(&client, now).await
    }

    /// Ends every session of `operator` issued up to `now`, on every
    /// process (sign-out).
    ///
    /// # Errors
    ///
    /// The store's error.
    pub async fn end_operator_sessions(
        &self,
        operator: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.store
            .end_operator_sessions(operator, now, SessionsEnd::SignOut)
            .await
    }

    /// What the store says of `operator`'s sessions.
    ///
    /// # Errors
    ///
    /// The store's error: the caller refuses then (fail closed).
    pub async fn operator_sessions(&self, operator: &str) -> Result<OperatorSessions, StoreError> {
        self.store.operator_sessions(operator).await
    }

    /// Whether a session of `operator` issued at `issued_at` is still on:
    /// issued after the operator last ended their sessions.
    ///
    /// # Errors
    ///
    /// The store's error: the caller refuses then (fail closed).
    pub async fn operator_session_is_current(
        &self,
        operator: &str,
        issued_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        Ok(self
            .store
            .operator_sessions(operator)
            .await?
            .ended_at
            .is_none_or(|ended| issued_at > ended))
    }
}
