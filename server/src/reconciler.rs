//! The background reconciler: every interval, one bounded pass refreshes
//! from the provider each attempt whose next check is due, so a lost webhook
//! (or a shopper who never returns) cannot leave an order stuck. Each check
//! pushes the attempt's next one back with backoff, so attempts that stay
//! open for days never crowd out newer ones. Bounded: a batch per pass, a
//! maximum rate, and it stops between two refreshes when the server shuts
//! down.

use checkout::CheckoutService;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[derive(Clone, Debug)]
pub struct ReconcilerConfig {
    pub interval: Duration,
    /// Most attempts refreshed in one pass.
    pub batch: usize,
    /// Most provider calls per second.
    pub max_per_second: u32,
}

/// What one pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PassReport {
    pub checked: usize,
    pub failed: usize,
}

/// One bounded pass over the attempts due a check; stops early when
/// `shutdown` turns true.
pub async fn run_once(
    service: &CheckoutService,
    config: &ReconcilerConfig,
    shutdown: &mut watch::Receiver<bool>,
) -> PassReport {
    let mut report = PassReport::default();
    let pause = Duration::from_secs(1) / config.max_per_second.max(1);
    let now = time::OffsetDateTime::now_utc();
    let due = match service.due_attempts(now, config.batch).await {
        Ok(due) => due,
        Err(error) => {
            tracing::warn!(error = %checkout::error_report(&error), "reconciler could not list the attempts due");
            return report;
        }
    };
    for (index, attempt) in due.iter().enumerate() {
        if *shutdown.borrow() {
            break;
        }
        if index > 0 {
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => break,
            }
        }
        report.checked += 1;
        match service.reconcile(attempt).await {
            Ok(outcome) => tracing::debug!(attempt_id = %attempt.id, ?outcome, "reconciled"),
            Err(error) => {
                report.failed += 1;
                tracing::warn!(attempt_id = %attempt.id, error = %checkout::error_report(&error), "reconcile failed; a later pass retries")
            }
        }
    }
    report
}

pub fn spawn(
    service: Arc<CheckoutService>,
    config: ReconcilerConfig,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(config.interval) => {}
                _ = shutdown.changed() => return,
            }
            run_once(&service, &config, &mut shutdown).await;
            if *shutdown.borrow() {
                return;
            }
        }
    })
}
