//! The crate's integration tests: one binary (one link step), a module
//! each.

mod refund_properties;
mod report_properties;
mod status_properties;

use checkout::PaymentStatus;

/// How far along its lifecycle a status is, written out here as the
/// tests' own oracle (not the crate's): created, open, pending or
/// authorized, final.
fn stage(status: PaymentStatus) -> u8 {
    use PaymentStatus::*;
    match status {
        Created => 0,
        Open => 1,
        Pending | Authorized => 2,
        Paid | Failed | Canceled | Expired => 3,
    }
}
