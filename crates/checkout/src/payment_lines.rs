//! The lines of a payment, as the provider wants them (Mollie: required for
//! pay-later methods, shown on its checkout page): one per order line, with
//! its VAT, adding up exactly to the amount.

use crate::money::Money;
use crate::order::OrderLine;
use crate::vat::VatRate;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentLine {
    pub description: String,
    pub quantity: u32,
    pub unit_price: Money,
    pub total: Money,
    pub vat_rate: VatRate,
    /// The VAT in `total` (which includes it), rounded half up to the
    /// currency's minor unit, as Mollie computes it.
    pub vat_amount: Money,
    pub sku: Option<String>,
}

impl PaymentLine {
    /// The payment lines of an order; none when a line has no VAT rate (an
    /// order stored before the catalog had them).
    pub fn of_order(lines: &[OrderLine]) -> Vec<Self> {
        let priced: Option<Vec<Self>> = lines
            .iter()
            .map(|line| {
                let vat_rate = line.vat_rate?;
                Some(Self {
                    description: line.name.clone(),
                    quantity: line.quantity,
                    unit_price: line.unit_price,
                    total: line.line_total,
                    vat_rate,
                    vat_amount: vat_in(line.line_total, vat_rate),
                    sku: line.sku.clone(),
                })
            })
            .collect();
        priced.unwrap_or_default()
    }
}

/// The VAT included in `total` at `rate`: total × rate / (100 + rate),
/// rounded half up.
pub fn vat_in(total: Money, rate: VatRate) -> Money {
    let rate = i128::from(rate.hundredths());
    let numerator = i128::from(total.minor_units()) * rate;
    let denominator = 10_000 + rate;
    let rounded = (2 * numerator + denominator) / (2 * denominator);
    // Never more than the total (rate / (100 + rate) < 1).
    let vat =
        u64::try_from(rounded).map_or(total.minor_units(), |vat| vat.min(total.minor_units()));
    Money::new(vat, total.currency())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ArticleId, Currency};

    #[test]
    fn vat_is_included_and_rounded_half_up() {
        let eur = |cents| Money::new(cents, Currency::EUR);
        let rate = |text| VatRate::parse(text).unwrap();
        assert_eq!(vat_in(eur(12100), rate("21.00")), eur(2100));
        assert_eq!(vat_in(eur(2900), rate("21.00")), eur(503)); // 503.3
        assert_eq!(vat_in(eur(1295), rate("9.00")), eur(107)); // 106.93
        assert_eq!(vat_in(eur(1000), rate("0")), eur(0));
    }

    #[test]
    fn an_order_line_without_a_vat_rate_means_no_lines() {
        let line = OrderLine {
            article_id: ArticleId::parse("mug").unwrap(),
            name: "Mug".into(),
            quantity: 2,
            unit_price: Money::new(1450, Currency::EUR),
            line_total: Money::new(2900, Currency::EUR),
            vat_rate: VatRate::parse("21"),
            sku: None,
        };
        assert_eq!(PaymentLine::of_order(std::slice::from_ref(&line)).len(), 1);
        let old = OrderLine {
            vat_rate: None,
            ..line.clone()
        };
        assert!(PaymentLine::of_order(&[line, old]).is_empty());
    }
}
