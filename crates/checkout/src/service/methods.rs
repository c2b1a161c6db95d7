//! The payment methods the provider offers for an amount, kept briefly:
//! the cart shows them on every change, and they change rarely (the shop's
//! provider account, the amount's limits).

use super::CheckoutService;
use crate::locale::Locale;
use crate::money::Money;
use crate::ports::{PaymentMethod, ProviderError};
use std::time::{Duration, Instant};

/// How long a list is reused before the provider is asked again.
pub const METHODS_KEPT_FOR: Duration = Duration::from_secs(300);
/// After the provider could not say, how long the cart shows no methods
/// before asking again: an outage slows one cart change in this time, not
/// every one.
pub const NO_METHODS_KEPT_FOR: Duration = Duration::from_secs(30);
/// Lists kept (by amount and locale); the least recently used go first.
pub(super) const METHOD_LISTS_KEPT: usize = 1_000;

impl CheckoutService {
    /// The methods that can pay `amount`, named in `locale`, from memory
    /// when asked within [`METHODS_KEPT_FOR`].
    ///
    /// # Errors
    ///
    /// The provider's error when it cannot be asked; for
    /// [`NO_METHODS_KEPT_FOR`] after that, the answer is an empty list.
    pub async fn payment_methods(
        &self,
        amount: Money,
        locale: Option<Locale>,
    ) -> Result<Vec<PaymentMethod>, ProviderError> {
        let key = (amount, locale);
        if let Some((methods, at)) = self.methods.get(&key) {
            if at.elapsed() < METHODS_KEPT_FOR {
                return Ok(methods);
            }
        }
        match self.provider.payment_methods(amount, locale).await {
            Ok(methods) => {
                self.methods.insert(key, (methods.clone(), Instant::now()));
                Ok(methods)
            }
            Err(error) => {
                // Kept as if read long ago, so that it expires sooner.
                let aged = Instant::now()
                    .checked_sub(METHODS_KEPT_FOR - NO_METHODS_KEPT_FOR)
                    .unwrap_or_else(Instant::now);
                self.methods.insert(key, (Vec::new(), aged));
                Err(error)
            }
        }
    }
}
