//! Money is an integer number of minor units plus an ISO 4217 currency.
//! The decimal string providers want ("10.00", "1000" for JPY) is produced and
//! parsed here and nowhere else.

use serde::{Deserialize, Serialize};
use std::fmt;

pub use iso_currency::Currency;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    minor_units: i64,
    currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("'{0}' is not an amount with the currency's decimals")]
    Malformed(String),
    #[error("amount out of range")]
    Overflow,
}

impl Money {
    pub const fn new(minor_units: i64, currency: Currency) -> Self {
        Self {
            minor_units,
            currency,
        }
    }

    /// The amount in the currency's minor unit (cents for EUR).
    pub const fn minor_units(&self) -> i64 {
        self.minor_units
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
        let sign = if self.minor_units < 0 { "-" } else { "" };
        let abs = self.minor_units.unsigned_abs();
        if places == 0 {
            return format!("{sign}{abs}");
        }
        let scale = 10u64.pow(places);
        format!(
            "{sign}{}.{:0width$}",
            abs / scale,
            abs % scale,
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
        let (negative, digits) = match value.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, value),
        };
        let (whole, fraction) = match digits.split_once('.') {
            Some((w, f)) if places > 0 && f.len() == places as usize => (w, f),
            None if places == 0 => (digits, ""),
            _ => return Err(malformed()),
        };
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(whole) || (places > 0 && !all_digits(fraction)) {
            return Err(malformed());
        }
        let whole: i64 = whole.parse().map_err(|_| MoneyError::Overflow)?;
        let fraction: i64 = if places > 0 {
            fraction.parse().map_err(|_| malformed())?
        } else {
            0
        };
        let minor = whole
            .checked_mul(10i64.pow(places))
            .and_then(|w| w.checked_add(fraction))
            .ok_or(MoneyError::Overflow)?;
        Ok(Self::new(if negative { -minor } else { minor }, currency))
    }

    pub fn checked_mul(self, factor: u32) -> Option<Self> {
        self.minor_units
            .checked_mul(i64::from(factor))
            .map(|minor_units| Self::new(minor_units, self.currency))
    }

    pub fn checked_add(self, other: Self) -> Option<Self> {
        if self.currency != other.currency {
            return None;
        }
        self.minor_units
            .checked_add(other.minor_units)
            .map(|minor_units| Self::new(minor_units, self.currency))
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
        assert_eq!(Money::new(-250, Currency::EUR).to_decimal_string(), "-2.50");
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
    fn arithmetic_refuses_overflow_and_mixed_currencies() {
        assert_eq!(Money::new(i64::MAX, Currency::EUR).checked_mul(2), None);
        assert_eq!(
            Money::new(1, Currency::EUR).checked_add(Money::new(1, Currency::USD)),
            None
        );
        assert_eq!(
            Money::new(150, Currency::EUR).checked_mul(3),
            Some(Money::new(450, Currency::EUR))
        );
    }
}
