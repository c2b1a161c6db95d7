//! The background reconciler: every interval, refreshes from the provider
//! each attempt that is still not final well after it was created, so a
//! lost webhook (or a shopper who never returns) cannot leave an order
//! stuck. Bounded: a batch per round, a maximum rate, and it stops between
//! two refreshes when the server shuts down.

use checkout::CheckoutService;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[derive(Clone, Debug)]
pub struct ReconcilerConfig {
    pub interval: Duration,
    /// Attempts younger than this are left to their webhooks.
    pub stale_after: Duration,
    /// Most attempts refreshed in one round.
    pub batch: usize,
    /// Most provider calls per second.
    pub max_per_second: u32,
}

pub fn spawn(
    service: Arc<CheckoutService>,
    config: ReconcilerConfig,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let pause = Duration::from_secs(1) / config.max_per_second.max(1);
        loop {
            tokio::select! {
                _ = tokio::time::sleep(config.interval) => {}
                _ = shutdown.changed() => return,
            }
            let stale = match service
                .stale_attempts(config.stale_after, config.batch)
                .await
            {
                Ok(stale) => stale,
                Err(error) => {
                    tracing::warn!(%error, "reconciler could not list stale attempts");
                    continue;
                }
            };
            for attempt in stale {
                if *shutdown.borrow() {
                    return;
                }
                match service.refresh_attempt(&attempt).await {
                    Ok(outcome) => {
                        tracing::debug!(attempt_id = %attempt.id, ?outcome, "reconciled")
                    }
                    Err(error) => {
                        tracing::warn!(attempt_id = %attempt.id, %error, "reconcile failed; next round retries")
                    }
                }
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = shutdown.changed() => return,
                }
            }
        }
    })
}
