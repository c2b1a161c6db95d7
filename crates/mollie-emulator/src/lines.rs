//! Payment lines, checked as Mollie checks them: each has a type, a
//! description, a quantity of at least 1, a `unitPrice`, a `totalAmount`
//! of unit price times quantity less any `discountAmount`, a `vatRate` and
//! a `vatAmount` of the VAT in the total (to within a cent); together they
//! make the payment's amount. A line that breaks a rule is a 422 naming
//! its field (`lines.0.totalAmount`).

use crate::api::{invalid, ApiError, WireAmount};
use serde_json::{Map, Value};

const LINE_TYPES: [&str; 9] = [
    "physical",
    "digital",
    "shipping_fee",
    "discount",
    "store_credit",
    "gift_card",
    "surcharge",
    "tip",
    "sales_tax",
];

/// The `lines` of a create, checked against the payment's `amount`;
/// empty when there are none.
pub(crate) fn parse_lines(
    body: &Map<String, Value>,
    amount: &WireAmount,
) -> Result<Vec<Value>, ApiError> {
    let Some(lines) = body.get("lines").filter(|l| !l.is_null()) else {
        return Ok(Vec::new());
    };
    let Some(lines) = lines.as_array().filter(|l| !l.is_empty()) else {
        return Err(invalid("The lines are invalid", "lines"));
    };
    let mut sum = 0;
    for (index, line) in lines.iter().enumerate() {
        sum += check_line(index, line, amount)?;
    }
    if sum != amount.minor {
        return Err(invalid(
            "The amount of the payment does not match the sum of its lines",
            "amount",
        ));
    }
    Ok(lines.clone())
}

/// One line's `totalAmount` in minor units, if the line is right.
fn check_line(index: usize, line: &Value, payment: &WireAmount) -> Result<i64, ApiError> {
    let field = |name: &str| format!("lines.{index}.{name}");
    let line = line
        .as_object()
        .ok_or_else(|| invalid("The line is invalid", &format!("lines.{index}")))?;
    let text = |name: &str| line.get(name).and_then(Value::as_str).unwrap_or_default();
    if !LINE_TYPES.contains(&text("type")) {
        return Err(invalid("The line type is invalid", &field("type")));
    }
    if text("description").trim().is_empty() {
        return Err(invalid(
            "The line description is invalid",
            &field("description"),
        ));
    }
    let quantity = line
        .get("quantity")
        .and_then(Value::as_i64)
        .filter(|q| *q >= 1)
        .ok_or_else(|| invalid("The quantity is invalid", &field("quantity")))?;
    let money = |name: &str, required: bool| -> Result<Option<i64>, ApiError> {
        let Some(value) = line.get(name).filter(|v| !v.is_null()) else {
            return if required {
                Err(invalid("The amount is required", &field(name)))
            } else {
                Ok(None)
            };
        };
        let parsed = value
            .as_object()
            .and_then(|m| WireAmount::parse(m).ok())
            .filter(|a| a.currency == payment.currency)
            .ok_or_else(|| invalid("The amount is invalid", &field(name)))?;
        Ok(Some(parsed.minor))
    };
    let unit_price = money("unitPrice", true)?.unwrap_or_default();
    let total = money("totalAmount", true)?.unwrap_or_default();
    let discount = money("discountAmount", false)?.unwrap_or(0);
    if total != unit_price * quantity - discount {
        return Err(invalid(
            "The total amount of the line does not match its unit price, quantity and discount",
            &field("totalAmount"),
        ));
    }
    let rate = vat_rate_hundredths(text("vatRate"))
        .ok_or_else(|| invalid("The VAT rate is invalid", &field("vatRate")))?;
    let vat = money("vatAmount", true)?.unwrap_or_default();
    // total × rate / (100 + rate), to within a cent of rounding.
    let expected = (2 * i128::from(total) * rate + 10_000 + rate) / (2 * (10_000 + rate));
    if (i128::from(vat) - expected).abs() > 1 {
        return Err(invalid(
            "The VAT amount of the line does not match its total and VAT rate",
            &field("vatAmount"),
        ));
    }
    Ok(total)
}

/// `"21.00"` is 2100.
fn vat_rate_hundredths(text: &str) -> Option<i128> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (!fraction.is_empty() && !digits(fraction)) || fraction.len() > 2 {
        return None;
    }
    let hundredths =
        whole.parse::<i128>().ok()? * 100 + format!("{fraction:0<2}").parse::<i128>().ok()?;
    (hundredths <= 10_000).then_some(hundredths)
}
