//! Fault injection, settable at start-up (`EmulatorConfig::faults`) and at
//! run time through `GET`/`PUT /_emulator/faults` (JSON, the whole set).

use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Faults {
    /// The next N API calls answer `fail_status` without doing anything.
    pub fail_next: u32,
    /// 503 unless set (429 for rate limiting, 500, 502...).
    pub fail_status: Option<u16>,
    /// The next N API calls do their work and then answer only after
    /// `hang_ms`: the answer to a create is lost to a client that times
    /// out first, although the payment was made (as on a real network).
    pub hang_next: u32,
    pub hang_ms: u64,
    /// Every webhook's first call waits this long.
    pub webhook_delay_ms: u64,
    /// Every webhook is delivered twice, concurrently.
    pub duplicate_webhooks: bool,
    /// Every webhook waits a random time up to this, so webhooks overtake
    /// each other.
    pub reorder_window_ms: u64,
    /// The next N webhooks are never sent, nor retried.
    pub drop_next_webhooks: u32,
    /// Refunds stay `pending` (a slow bank) until a control call moves
    /// them (`PUT /_emulator/refunds/{re_id}`).
    pub refunds_stay_pending: bool,
}

/// What an API call must suffer, taken from the counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiFault {
    Fail(u16),
    Hang(Duration),
}

impl Faults {
    /// Takes one API fault, if any is pending.
    pub fn take_api_fault(&mut self) -> Option<ApiFault> {
        if self.fail_next > 0 {
            self.fail_next -= 1;
            return Some(ApiFault::Fail(self.fail_status.unwrap_or(503)));
        }
        if self.hang_next > 0 {
            self.hang_next -= 1;
            return Some(ApiFault::Hang(Duration::from_millis(self.hang_ms)));
        }
        None
    }

    /// True when this webhook is to be dropped.
    pub fn take_webhook_drop(&mut self) -> bool {
        if self.drop_next_webhooks > 0 {
            self.drop_next_webhooks -= 1;
            true
        } else {
            false
        }
    }
}
