//! What the back office's sign-in and sessions keep in the store, so that
//! every process (each Lambda instance, each plain server) sees the same:
//! failed sign-ins counted per account and per client, and the time before
//! which an operator's sessions are over.

use super::CheckoutService;
use crate::ports::StoreError;
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

/// The store's keys for one sign-in: the account named and the client.
fn keys(account: &str, client: &str) -> (String, String) {
    (format!("account:{account}"), format!("client:{client}"))
}

impl CheckoutService {
    /// Whether a sign-in for `account` from `client` is refused before its
    /// password is checked: either has had its failures in the window.
    ///
    /// # Errors
    ///
    /// The store's error: the caller refuses then (fail closed).
    pub async fn sign_in_locked(
        &self,
        account: &str,
        client: &str,
        limits: &SignInLimits,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let (account, client) = keys(account, client);
        Ok(
            self.store.sign_in_failures(&account, now).await? >= limits.per_account
                || self.store.sign_in_failures(&client, now).await? >= limits.per_client,
        )
    }

    /// Counts a failed sign-in against the account named and the client.
    ///
    /// # Errors
    ///
    /// The store's error.
    pub async fn count_failed_sign_in(
        &self,
        account: &str,
        client: &str,
        limits: &SignInLimits,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let (account, client) = keys(account, client);
        self.store
            .count_sign_in_failure(&account, now, limits.window)
            .await?;
        self.store
            .count_sign_in_failure(&client, now, limits.window)
            .await?;
        Ok(())
    }

    /// Ends every session of `operator` issued up to `now`, on every process.
    ///
    /// # Errors
    ///
    /// The store's error.
    pub async fn end_operator_sessions(
        &self,
        operator: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.store.end_operator_sessions(operator, now).await
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
            .operator_sessions_valid_after(operator)
            .await?
            .is_none_or(|ended| issued_at > ended))
    }
}
