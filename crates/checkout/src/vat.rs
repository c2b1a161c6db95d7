//! VAT rates, as catalogs give them and Mollie's order lines want them.

use serde::{Deserialize, Serialize};

/// A VAT rate in hundredths of a percent: `21.00` % is 2100.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VatRate(u32);

impl VatRate {
    /// `"21.00"`, `"9"`, `"0.5"`: a percentage from 0 to 100 with at most
    /// two decimals.
    pub fn parse(text: &str) -> Option<Self> {
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || whole.len() > 3 || fraction.len() > 2 {
            return None;
        }
        if !digits(whole) || !digits(fraction) || (text.contains('.') && fraction.is_empty()) {
            return None;
        }
        let hundredths =
            whole.parse::<u32>().ok()? * 100 + format!("{fraction:0<2}").parse::<u32>().ok()?;
        (hundredths <= 10_000).then_some(Self(hundredths))
    }
}

impl VatRate {
    /// Hundredths of a percent: 2100 for 21 %.
    pub fn hundredths(self) -> u32 {
        self.0
    }
}

impl std::fmt::Display for VatRate {
    /// As Mollie writes it: `21.00`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}
