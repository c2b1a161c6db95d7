//! The EU withdrawal function (Directive (EU) 2023/2673, Art. 11a): a
//! shopper withdraws from the contract through a form on the shop's site,
//! confirms, and gets an acknowledgement with the statement and when it
//! was received. The operator then refunds within 14 days.
//!
//! The shop does not know when the goods arrived (the legal period runs 14
//! days from then), so it accepts a withdrawal for [`WITHDRAWAL_PERIOD`]
//! after the payment: delivery time plus the 14 days, erring on the
//! shopper's side. The withdrawal is kept on the payment that took the
//! money, written with an event in that payment's conditional write.

use crate::contact::EmailAddress;
use crate::ports::OrderRecord;
use std::time::Duration;
use time::OffsetDateTime;

/// How long after the payment the form takes a withdrawal.
pub const WITHDRAWAL_PERIOD: Duration = Duration::from_secs(30 * 24 * 3600);
/// The refund is due this long after the withdrawal was received.
pub const REFUND_WITHIN: Duration = Duration::from_secs(14 * 24 * 3600);
/// From how close to its deadline a refund due is flagged.
pub const REFUND_DUE_SOON: Duration = Duration::from_secs(3 * 24 * 3600);
/// What a withdrawal's name reads once the operator erased the shopper's
/// personal data.
pub const ERASED_NAME: &str = "(erased)";
/// The longest name the form takes.
pub const MAX_NAME_CHARS: usize = 100;

/// A shopper's withdrawal from the contract, as received. The
/// acknowledgement goes to the order's address, which the form's had to
/// match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Withdrawal {
    /// The name the shopper gave.
    pub name: String,
    pub received_at: OffsetDateTime,
}

impl Withdrawal {
    /// The refund is due by then.
    pub fn refund_due(&self) -> OffsetDateTime {
        self.received_at + REFUND_WITHIN
    }
}

/// Why the form takes no withdrawal (nothing is changed).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WithdrawalRefusal {
    #[error("please give your name")]
    NameMissing,
    #[error("a name is at most {MAX_NAME_CHARS} characters on one line")]
    NameMalformed,
    /// No such order, or not this address's (told apart for nobody: an
    /// order id is unguessable, and which of the two it was would tell a
    /// stranger that the order exists).
    #[error("no order with this number and e-mail address")]
    NotFound,
    #[error("the order was not paid, so there is no contract to withdraw from")]
    NotPaid,
    #[error("the withdrawal period of this order ended")]
    PeriodOver { ended: OffsetDateTime },
    #[error("the withdrawal was received already")]
    AlreadyWithdrawn { received_at: OffsetDateTime },
}

/// The name as the form sent it, checked.
///
/// # Errors
///
/// Empty, too long or more than one line: [`WithdrawalRefusal`].
pub fn name_of(text: &str) -> Result<String, WithdrawalRefusal> {
    let name = text.trim();
    if name.is_empty() {
        return Err(WithdrawalRefusal::NameMissing);
    }
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(breaks_a_line_of_text) {
        return Err(WithdrawalRefusal::NameMalformed);
    }
    Ok(name.to_owned())
}

/// A control, line or paragraph separator, or an invisible formatting
/// character (bidirectional overrides, zero widths): none belongs in a
/// name on one line, and some would change how the statement reads.
fn breaks_a_line_of_text(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

/// Whether `record` (the order `email` names, if any) takes a withdrawal
/// at `now`; the index of the attempt that took the money, which keeps it.
///
/// # Errors
///
/// Why not: [`WithdrawalRefusal`].
pub fn check(
    record: Option<&OrderRecord>,
    email: &EmailAddress,
    now: OffsetDateTime,
) -> Result<usize, WithdrawalRefusal> {
    let record = record.ok_or(WithdrawalRefusal::NotFound)?;
    if record.order.shopper_email() != Some(email) {
        return Err(WithdrawalRefusal::NotFound);
    }
    if let Some(received_at) = record
        .attempts
        .iter()
        .find_map(|a| a.withdrawal().map(|w| w.received_at))
    {
        return Err(WithdrawalRefusal::AlreadyWithdrawn { received_at });
    }
    let (index, paid) = record
        .attempts
        .iter()
        .enumerate()
        .find(|(_, a)| a.money_taken_or_reserved())
        .ok_or(WithdrawalRefusal::NotPaid)?;
    // Paid, or authorized (a contract stands from then).
    let paid_at = paid
        .history()
        .iter()
        .find(|seen| {
            matches!(
                seen.status,
                crate::PaymentStatus::Paid | crate::PaymentStatus::Authorized
            )
        })
        .map_or(paid.updated_at(), |seen| seen.at);
    let ended = paid_at + WITHDRAWAL_PERIOD;
    if now > ended {
        return Err(WithdrawalRefusal::PeriodOver { ended });
    }
    Ok(index)
}

/// The statement the shopper confirms and the acknowledgement repeats,
/// after the model withdrawal form (Directive 2011/83/EU, Annex I(B)).
pub fn statement(record: &OrderRecord, name: &str) -> String {
    let goods: Vec<String> = record
        .order
        .lines()
        .iter()
        .map(|l| format!("{} x {}", l.quantity, l.name))
        .collect();
    format!(
        "I, {name}, hereby give notice that I withdraw from my contract of sale of the following goods: {} (order {}, ordered on {}).",
        goods.join(", "),
        record.order.id(),
        record.order.created_at().date()
    )
}

/// A time as the acknowledgement and the back office write it:
/// `2026-12-03 10:00 UTC`.
pub fn when(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_one_plain_line() {
        assert_eq!(name_of("  Ann Example ").unwrap(), "Ann Example");
        assert_eq!(name_of("Zoë Ångström-Ñúñez").unwrap(), "Zoë Ångström-Ñúñez");
        assert_eq!(name_of(" "), Err(WithdrawalRefusal::NameMissing));
        for bad in [
            "Ann\nBob",
            "Ann\u{2028}Bob",
            "Ann\u{202E}boB",
            "A\u{200B}nn",
        ] {
            assert_eq!(
                name_of(bad),
                Err(WithdrawalRefusal::NameMalformed),
                "{bad:?}"
            );
        }
        assert!(name_of(&"x".repeat(MAX_NAME_CHARS + 1)).is_err());
    }
}
