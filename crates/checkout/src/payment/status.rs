//! The status an attempt follows, and the rule it moves by: forward only.

use serde::{Deserialize, Serialize};
use std::fmt;

/// created -> open -> (pending | authorized) -> paid | failed | canceled | expired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentStatus {
    /// Stored by us; the provider has not confirmed it yet.
    Created,
    Open,
    Pending,
    Authorized,
    Paid,
    Failed,
    Canceled,
    Expired,
}

/// What applying an observed status did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusChange {
    /// The status moved forward to this one.
    Advanced(PaymentStatus),
    /// The observed status is the one we have.
    Unchanged,
    /// The observed status would move backwards (or sideways, or out of a
    /// final status): a late or reordered notification. Ignored.
    Stale,
}

impl PaymentStatus {
    pub const ALL: [PaymentStatus; 8] = [
        Self::Created,
        Self::Open,
        Self::Pending,
        Self::Authorized,
        Self::Paid,
        Self::Failed,
        Self::Canceled,
        Self::Expired,
    ];

    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Paid | Self::Failed | Self::Canceled | Self::Expired
        )
    }

    /// How far along the lifecycle a status is; a status only moves to a
    /// strictly higher stage.
    fn stage(self) -> u8 {
        match self {
            Self::Created => 0,
            Self::Open => 1,
            Self::Pending | Self::Authorized => 2,
            Self::Paid | Self::Failed | Self::Canceled | Self::Expired => 3,
        }
    }

    /// The state machine: the status after observing `observed`.
    pub fn observe(self, observed: PaymentStatus) -> StatusChange {
        if observed == self {
            StatusChange::Unchanged
        } else if observed.stage() > self.stage() {
            StatusChange::Advanced(observed)
        } else {
            StatusChange::Stale
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Open => "open",
            Self::Pending => "pending",
            Self::Authorized => "authorized",
            Self::Paid => "paid",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
            Self::Expired => "expired",
        }
    }
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
