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
/// Lists kept (by amount and locale); the least recently used go first.
pub(super) const METHOD_LISTS_KEPT: usize = 1_000;

impl CheckoutService {
    /// The methods that can pay `amount`, named in `locale`, from memory
    /// when asked within [`METHODS_KEPT_FOR`].
    ///
    /// # Errors
    ///
    /// The provider's error when it cannot be asked (nothing is kept then).
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
        let methods = self.provider.payment_methods(amount, locale).await?;
        self.methods.insert(key, (methods.clone(), Instant::now()));
        Ok(methods)
    }
}
