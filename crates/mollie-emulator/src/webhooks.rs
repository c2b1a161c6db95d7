//! Webhook delivery as Mollie does it: POST `id=tr_...` form-encoded; only
//! 200 counts; otherwise retried at +1, +2, +4, +8, +16, +29 min, +1 h, +2 h
//! and +22 h (10 calls in all), each delay times the configured factor.

use crate::state::{EmulatedPayment, EmulatorState};
use std::time::Duration;

const RETRY_DELAYS_MINUTES: [u64; 9] = [1, 2, 4, 8, 16, 29, 60, 120, 1320];

pub fn notify(state: &EmulatorState, payment: &EmulatedPayment) {
    let Some(url) = payment.webhook_url.clone() else {
        return;
    };
    let id = payment.id.clone();
    let http = state.http.clone();
    let factor = state.config.time_factor;
    tokio::spawn(async move {
        let delays = std::iter::once(0).chain(RETRY_DELAYS_MINUTES);
        for (call, minutes) in delays.enumerate() {
            tokio::time::sleep(Duration::from_secs_f64(minutes as f64 * 60.0 * factor)).await;
            match http.post(&url).form(&[("id", id.as_str())]).send().await {
                Ok(response) if response.status() == reqwest::StatusCode::OK => return,
                Ok(response) => {
                    tracing::info!(%id, call, status = %response.status(), "webhook not accepted; will retry")
                }
                Err(e) => {
                    tracing::info!(%id, call, error = %e.without_url(), "webhook failed; will retry")
                }
            }
        }
        tracing::warn!(%id, "webhook given up after 10 calls");
    });
}
