//! The background reconciler: every interval, one bounded pass refreshes
//! from the provider each attempt whose next check is due, so a lost webhook
//! (or a shopper who never returns) cannot leave an order stuck. Each check
//! pushes the attempt's next one back with backoff, so attempts that stay
//! open for days never crowd out newer ones. Bounded: a batch per pass, a
//! maximum rate, a time budget (on Lambda, well inside the function's
//! timeout), and it stops between two refreshes when the server shuts down.

use checkout::CheckoutService;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long past the pass's budget a check that started in time may run.
const CHECK_GRACE: Duration = Duration::from_secs(15);

#[derive(Clone, Debug)]
pub struct ReconcilerConfig {
    pub interval: Duration,
    /// Most attempts refreshed in one pass.
    pub batch: usize,
    /// Most provider calls per second.
    pub max_per_second: u32,
    /// No check starts after this much of a pass has gone.
    pub pass_budget: Duration,
}

/// What one pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PassReport {
    pub checked: usize,
    pub failed: usize,
    /// Attempts due that this pass left to the next (time budget or
    /// shutdown).
    pub left: usize,
}

/// A pass that could not even list the attempts due: it checked nothing,
/// so it counts as failed (on Lambda, a failed invocation and an alarm).
#[derive(Debug, thiserror::Error)]
#[error("the reconciler could not list the attempts due")]
pub struct ListFailed(#[source] pub checkout::StoreError);

/// One bounded pass over the attempts due a check; stops early when
/// `shutdown` turns true or the pass's time budget is spent.
///
/// # Errors
///
/// [`ListFailed`] when the store could not list the attempts due.
pub async fn run_once(
    service: &CheckoutService,
    config: &ReconcilerConfig,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<PassReport, ListFailed> {
    let started = tokio::time::Instant::now();
    let mut report = PassReport::default();
    let pause = Duration::from_secs(1) / config.max_per_second.max(1);
    let now = service.now();
    let due = match service.due_attempts(now, config.batch).await {
        Ok(due) => due,
        Err(error) => {
            tracing::warn!(error = %checkout::error_report(&error), "reconciler could not list the attempts due");
            return Err(ListFailed(error));
        }
    };
    for (index, attempt) in due.iter().enumerate() {
        if *shutdown.borrow() || started.elapsed() >= config.pass_budget {
            report.left = due.len() - index;
            break;
        }
        if index > 0 {
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => break,
            }
        }
        report.checked += 1;
        // A check that started in time may still run long (the provider's
        // retries): it is cut off a grace period after the budget, so the
        // pass ends inside the function's timeout. Cut off, it is like a
        // crash between two steps, which every step is safe against.
        let left = config.pass_budget.saturating_sub(started.elapsed()) + CHECK_GRACE;
        match tokio::time::timeout(left, service.reconcile(attempt)).await {
            Ok(Ok(outcome)) => tracing::debug!(attempt_id = %attempt.id(), ?outcome, "reconciled"),
            Ok(Err(error)) => {
                report.failed += 1;
                tracing::warn!(attempt_id = %attempt.id(), error = %checkout::error_report(&error), "reconcile failed; a later pass retries")
            }
            Err(_) => {
                report.failed += 1;
                tracing::warn!(attempt_id = %attempt.id(), "reconcile failed: cut off at the pass's time budget; a later pass retries");
            }
        }
    }
    Ok(report)
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
            // A failed listing is logged; the next interval tries again.
            let _ = run_once(&service, &config, &mut shutdown).await;
            if *shutdown.borrow() {
                return;
            }
        }
    })
}
