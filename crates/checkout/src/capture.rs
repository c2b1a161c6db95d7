//! Authorize now, capture later: with [`CaptureMode::Manual`] a paid
//! checkout only reserves the shopper's money (`authorized`); the operator
//! captures all or part of it (when shipping) before the provider's
//! deadline, or releases it. What was captured is what the payment took.

use serde::{Deserialize, Serialize};

/// When a payment's money is taken: the shop's capture policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaptureMode {
    /// At once, when the shopper pays (the default).
    #[default]
    Automatic,
    /// Authorized when the shopper pays; captured on the operator's action.
    Manual,
}
