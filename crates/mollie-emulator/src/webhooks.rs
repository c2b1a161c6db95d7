//! Webhook delivery as Mollie does it: POST `id=tr_...` form-encoded; only
//! 200 counts; otherwise retried at +1, +2, +4, +8, +16, +29 min, +1 h, +2 h
//! and +22 h (10 calls in all), each delay times the configured factor.
//! Injected faults can delay, duplicate, reorder or drop deliveries.

use crate::state::{EmulatedPayment, EmulatorState};
use rand::Rng;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

const RETRY_DELAYS_MINUTES: [u64; 9] = [1, 2, 4, 8, 16, 29, 60, 120, 1320];

pub fn notify(state: &EmulatorState, payment: &EmulatedPayment) {
    let Some(url) = payment.webhook_url.clone() else {
        return;
    };
    let (dropped, delay_ms, duplicate, window_ms) = {
        let mut faults = state.faults.lock().expect("faults lock");
        (
            faults.take_webhook_drop(),
            faults.webhook_delay_ms,
            faults.duplicate_webhooks,
            faults.reorder_window_ms,
        )
    };
    if dropped {
        tracing::info!(id = %payment.id, "webhook dropped (injected fault)");
        return;
    }
    let copies = if duplicate { 2 } else { 1 };
    for _ in 0..copies {
        let jitter = if window_ms > 0 {
            rand::rng().random_range(0..=window_ms)
        } else {
            0
        };
        let delivery = Delivery {
            url: url.clone(),
            id: payment.id.clone(),
            http: state.http(),
            time_factor: state.config.time_factor,
            calls: state.webhook_calls.clone(),
        };
        tokio::spawn(delivery.run(Duration::from_millis(delay_ms + jitter)));
    }
}

struct Delivery {
    url: String,
    id: String,
    http: reqwest::Client,
    time_factor: f64,
    calls: Arc<AtomicU64>,
}

impl Delivery {
    async fn run(self, first_delay: Duration) {
        tokio::time::sleep(first_delay).await;
        let delays = std::iter::once(0).chain(RETRY_DELAYS_MINUTES);
        for (call, minutes) in delays.enumerate() {
            let wait = Duration::from_secs_f64(minutes as f64 * 60.0 * self.time_factor);
            tokio::time::sleep(wait).await;
            self.calls.fetch_add(1, Ordering::Relaxed);
            let id = self.id.as_str();
            match self.http.post(&self.url).form(&[("id", id)]).send().await {
                Ok(response) if response.status() == reqwest::StatusCode::OK => return,
                Ok(response) => {
                    tracing::info!(id, call, status = %response.status(), "webhook not accepted; will retry")
                }
                Err(e) => {
                    tracing::info!(id, call, error = %e.without_url(), "webhook failed; will retry")
                }
            }
        }
        tracing::warn!(id = %self.id, "webhook given up after 10 calls");
    }
}
