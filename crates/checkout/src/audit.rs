//! The back office's audit log: who did what to which order, when, and how
//! it ended. Entries are only ever appended; no code path changes or
//! removes one.

use crate::ids::{CaptureId, RefundId};
use crate::money::Money;
use crate::order::OrderId;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The longest reason an operator may give for a refund.
pub const MAX_REASON_CHARS: usize = 200;

/// What an operator asked for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AuditAction {
    /// Read the order's payments from the provider again.
    Refresh,
    Refund {
        refund_id: RefundId,
        amount: Money,
        reason: String,
    },
    Capture {
        capture_id: CaptureId,
        /// All that was still authorized when `None`.
        amount: Option<Money>,
    },
    ReleaseAuthorization,
    /// Cancel the order's open payment, so that nobody can pay it any more.
    CancelPayment,
    /// Send an event out again on one channel (`shopper_mail`, `webhook`...).
    ResendEvent {
        event_id: String,
        channel: String,
    },
    /// Remove the shopper's personal data (their e-mail address) from the order.
    ErasePersonalData,
    /// The shopper withdrew from the contract through the shop's form.
    Withdrawal,
}

impl AuditAction {
    /// In the operator's words, e.g. "refund €5.00 (damaged in transit)".
    pub fn describe(&self) -> String {
        match self {
            Self::Refresh => "refresh from the payment provider".into(),
            Self::Refund { amount, reason, .. } if reason.is_empty() => format!("refund {amount}"),
            Self::Refund { amount, reason, .. } => format!("refund {amount} ({reason})"),
            Self::Capture {
                amount: Some(amount),
                ..
            } => format!("capture {amount}"),
            Self::Capture { amount: None, .. } => "capture all that is authorized".into(),
            Self::ReleaseAuthorization => "release the authorization".into(),
            Self::CancelPayment => "cancel the open payment".into(),
            Self::ResendEvent { event_id, channel } => format!("send {event_id} again ({channel})"),
            Self::ErasePersonalData => "erase the shopper's personal data".into(),
            Self::Withdrawal => "withdrawal from the contract received".into(),
        }
    }
}

/// Where an action stands: requested, then how it ended (done, or why not).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", content = "detail", rename_all = "snake_case")]
pub enum AuditOutcome {
    /// Logged before the action runs: an action that cannot be logged does
    /// not run.
    Requested,
    Done,
    /// Refused before anything moved (e.g. more than remains to refund).
    Refused(String),
    /// Could not be completed now (the provider or the store unavailable);
    /// what was recorded is retried by the reconciler.
    Failed(String),
}

/// One line of the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub order_id: OrderId,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The signed-in operator's name.
    pub operator: String,
    pub action: AuditAction,
    pub outcome: AuditOutcome,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    #[test]
    fn refunds_read_with_their_reason() {
        let amount = Money::new(500, Currency::EUR);
        let refund = AuditAction::Refund {
            refund_id: RefundId::generate(),
            amount,
            reason: "damaged in transit".into(),
        };
        assert_eq!(refund.describe(), "refund €5.00 (damaged in transit)");
    }

    #[test]
    fn entries_round_trip_through_json() {
        let entry = AuditEntry {
            order_id: OrderId::generate(),
            at: OffsetDateTime::UNIX_EPOCH,
            operator: "alice".into(),
            action: AuditAction::Capture {
                capture_id: CaptureId::generate(),
                amount: None,
            },
            outcome: AuditOutcome::Refused("nothing is authorized".into()),
        };
        let json = serde_json::to_string(&entry).unwrap();
        assert_eq!(serde_json::from_str::<AuditEntry>(&json).unwrap(), entry);
    }
}
