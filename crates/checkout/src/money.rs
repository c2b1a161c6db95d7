//! Money is a non-negative integer number of minor units plus an ISO 4217
//! currency. Arithmetic is checked (one currency, no overflow, nothing
//! below zero), and the decimal string providers want ("10.00", "1000" for
//! JPY) is produced and parsed here and nowhere else.

use serde::{Deserialize, Serialize};
use std::fmt;

pub use iso_currency::Currency;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    minor_units: u64,
    currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("'{0}' is not an amount with the currency's decimals")]
    Malformed(String),
    #[error("amount out of range")]
    Overflow,
    #[error("an amount cannot be below zero")]
    Negative,
    #[error("amounts in {0} and {1} cannot be added or compared")]
    CurrencyMismatch(Currency, Currency),
}

impl Money {
    pub const fn new(minor_units: u64, currency: Currency) -> Self {
        Self {
            minor_units,
            currency,
        }
    }

    pub const fn zero(currency: Currency) -> Self {
        Self::new(0, currency)
    }

    /// The amount in the currency's minor unit (cents for EUR).
    pub const fn minor_units(&self) -> u64 {
        self.minor_units
    }

    pub const fn is_zero(&self) -> bool {
        self.minor_units == 0
    }

    pub const fn currency(&self) -> Currency {
        self.currency
    }

    /// Decimal places of the currency's minor unit (EUR 2, JPY 0, KWD 3).
    pub fn decimal_places(&self) -> u32 {
        u32::from(self.currency.exponent().unwrap_or(0))
    }

    /// The amount with exactly the currency's decimals, as Mollie's `value`.
    pub fn to_decimal_string(&self) -> String {
        let places = self.decimal_places();
        if places == 0 {
            return self.minor_units.to_string();
        }
        let scale = 10u64.pow(places);
        format!(
            "{}.{:0width$}",
            self.minor_units / scale,
            self.minor_units % scale,
            width = places as usize
        )
    }

    /// Parses a decimal string that has exactly the currency's decimals.
    ///
    /// # Errors
    ///
    /// [`MoneyError::Malformed`] for anything but digits with exactly the
    /// currency's decimals, or an amount that does not fit.
    pub fn parse_decimal(value: &str, currency: Currency) -> Result<Self, MoneyError> {
        let malformed = || MoneyError::Malformed(value.to_owned());
        let places = u32::from(currency.exponent().unwrap_or(0));
        if value.starts_with('-') {
            return Err(MoneyError::Negative);
        }
        let (whole, fraction) = match value.split_once('.') {
            Some((w, f)) if places > 0 && f.len() == places as usize => (w, f),
            None if places == 0 => (value, ""),
            _ => return Err(malformed()),
        };
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(whole) || (places > 0 && !all_digits(fraction)) {
            return Err(malformed());
        }
        let whole: u64 = whole.parse().map_err(|_| MoneyError::Overflow)?;
        let fraction: u64 = if places > 0 {
            fraction.parse().map_err(|_| malformed())?
        } else {
            0
        };
        let minor = whole
            .checked_mul(10u64.pow(places))
            .and_then(|w| w.checked_add(fraction))
            .ok_or(MoneyError::Overflow)?;
        Ok(Self::new(minor, currency))
    }

    /// # Errors
    ///
    /// [`MoneyError::Overflow`] when the product does not fit.
    pub fn checked_mul(self, factor: u32) -> Result<Self, MoneyError> {
        self.minor_units
            .checked_mul(u64::from(factor))
            .map(|minor_units| Self::new(minor_units, self.currency))
            .ok_or(MoneyError::Overflow)
    }

    /// # Errors
    ///
    /// Another currency, or a sum that does not fit.
    pub fn checked_add(self, other: Self) -> Result<Self, MoneyError> {
        self.same_currency(other)?;
        self.minor_units
            .checked_add(other.minor_units)
            .map(|minor_units| Self::new(minor_units, self.currency))
            .ok_or(MoneyError::Overflow)
    }

    /// # Errors
    ///
    /// Another currency, or `other` more than this.
    pub fn checked_sub(self, other: Self) -> Result<Self, MoneyError> {
        self.same_currency(other)?;
        self.minor_units
            .checked_sub(other.minor_units)
            .map(|minor_units| Self::new(minor_units, self.currency))
            .ok_or(MoneyError::Negative)
    }

    /// This less `other`, or zero when `other` is more.
    ///
    /// # Errors
    ///
    /// Another currency.
    pub fn saturating_sub(self, other: Self) -> Result<Self, MoneyError> {
        self.same_currency(other)?;
        Ok(Self::new(
            self.minor_units.saturating_sub(other.minor_units),
            self.currency,
        ))
    }

    /// The sum of `amounts`, all in `currency` (zero for none).
    ///
    /// # Errors
    ///
    /// An amount in another currency, or a sum that does not fit.
    pub fn sum(
        currency: Currency,
        amounts: impl IntoIterator<Item = Self>,
    ) -> Result<Self, MoneyError> {
        amounts
            .into_iter()
            .try_fold(Self::zero(currency), Self::checked_add)
    }

    fn same_currency(self, other: Self) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch(self.currency, other.currency))
        }
    }
}

/// Amounts compare only within one currency: `None` across currencies, so
/// `<`, `>` and the like are false there.
impl PartialOrd for Money {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        (self.currency == other.currency).then(|| self.minor_units.cmp(&other.minor_units))
    }
}

/// For shoppers: the currency's symbol before the amount, e.g. "€12.50".
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let symbol = self.currency.symbol();
        write!(f, "{}{}", symbol.symbol, self.to_decimal_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_string_uses_the_currency_decimals() {
        assert_eq!(Money::new(1000, Currency::EUR).to_decimal_string(), "10.00");
        assert_eq!(Money::new(5, Currency::EUR).to_decimal_string(), "0.05");
        assert_eq!(Money::new(1000, Currency::JPY).to_decimal_string(), "1000");
        assert_eq!(Money::new(1234, Currency::KWD).to_decimal_string(), "1.234");
    }

    #[test]
    fn parse_round_trips_and_rejects_wrong_decimals() {
        for (text, currency) in [
            ("10.00", Currency::EUR),
            ("0.05", Currency::EUR),
            ("1000", Currency::JPY),
        ] {
            let money = Money::parse_decimal(text, currency).unwrap();
            assert_eq!(money.to_decimal_string(), text);
        }
        for bad in ["10", "10.0", "10.000", "1,00", "", ".50", "ten", "1.-5"] {
            assert!(
                Money::parse_decimal(bad, Currency::EUR).is_err(),
                "{bad} parsed"
            );
        }
        assert!(Money::parse_decimal("10.00", Currency::JPY).is_err());
    }

    #[test]
    fn display_shows_symbol_and_amount() {
        assert_eq!(Money::new(1250, Currency::EUR).to_string(), "€12.50");
    }

    #[test]
    fn arithmetic_refuses_overflow_mixed_currencies_and_below_zero() {
        let eur = |cents| Money::new(cents, Currency::EUR);
        let usd = Money::new(1, Currency::USD);
        assert_eq!(eur(u64::MAX).checked_mul(2), Err(MoneyError::Overflow));
        assert_eq!(eur(150).checked_mul(3), Ok(eur(450)));
        assert_eq!(eur(u64::MAX).checked_add(eur(1)), Err(MoneyError::Overflow));
        assert_eq!(
            eur(1).checked_add(usd),
            Err(MoneyError::CurrencyMismatch(Currency::EUR, Currency::USD))
        );
        assert_eq!(eur(1).checked_sub(eur(2)), Err(MoneyError::Negative));
        assert_eq!(eur(5).checked_sub(eur(2)), Ok(eur(3)));
        assert_eq!(eur(1).saturating_sub(eur(2)), Ok(eur(0)));
        assert!(eur(1).saturating_sub(usd).is_err());
        assert_eq!(Money::sum(Currency::EUR, [eur(1), eur(2)]), Ok(eur(3)));
        assert!(Money::sum(Currency::EUR, [eur(1), usd]).is_err());
        assert_eq!(
            Money::parse_decimal("-2.50", Currency::EUR),
            Err(MoneyError::Negative)
        );
    }

    #[test]
    fn amounts_compare_only_within_one_currency() {
        let eur = |cents| Money::new(cents, Currency::EUR);
        assert!(eur(2) > eur(1));
        assert!(eur(1) <= eur(1));
        let usd = Money::new(1, Currency::USD);
        assert_eq!(eur(2).partial_cmp(&usd), None);
        assert!(eur(2).checked_sub(usd).is_err());
    }
}
