//! The same shop on AWS Lambda: `main` calls one of these when it finds
//! itself there (`AWS_LAMBDA_RUNTIME_API`), as `SHOP_LAMBDA_HANDLER` says.
//!
//! - [`run_http`]: the router the plain server serves, through
//!   `lambda_http` (API Gateway's HTTP API and `cargo lambda watch`
//!   alike). It takes HTTP events only: anything else fails to parse and
//!   the invocation fails, so the public function never reconciles.
//! - [`run_reconciler`]: its own function, for the reconcile schedule only.
//!   It accepts a scheduled event from the one rule it is configured with
//!   and refuses any other event (a failed invocation, changing nothing).

use crate::reconciler::{self, ReconcilerConfig};
use axum::Router;
use checkout::{CheckoutService, Deliverer, OrderId};
use lambda_http::{service_fn, LambdaEvent};
use serde::Deserialize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a request's answer may wait for the events its change wrote to
/// go out; what does not make it, the reconciler function's sweep sends.
const DELIVER_INLINE_FOR: Duration = Duration::from_secs(3);
/// No send starts later than this after the request came in: with a send's
/// own time limit (5 s), the answer leaves well inside the function's 29 s.
const LAST_SEND_AFTER: Duration = Duration::from_secs(20);

/// Serves `router` as a Lambda function until the runtime stops it. A
/// frozen instance runs nothing between invocations, so the events a
/// request's change wrote (the orders in `written`) are sent before its
/// answer, for at most [`DELIVER_INLINE_FOR`], read consistently from the
/// order (the outbox's index may not show them yet), on the channels that
/// take events in any order; the reconciler's sweep sends the rest, and
/// the owner's webhook in order.
///
/// # Errors
///
/// The Lambda runtime's error when it stops.
pub async fn run_http(
    router: Router,
    deliverer: Arc<Deliverer>,
    written: Arc<Mutex<Vec<OrderId>>>,
) -> Result<(), lambda_http::Error> {
    let router = router.layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let (deliverer, written) = (deliverer.clone(), written.clone());
            async move {
                let started = Instant::now();
                let response = next.run(request).await;
                let mut orders = std::mem::take(&mut *written.lock().expect("written"));
                orders.dedup();
                let budget = DELIVER_INLINE_FOR
                    .min(LAST_SEND_AFTER.saturating_sub(started.elapsed()));
                for order_id in orders {
                    if let Err(error) = deliverer.deliver_order(&order_id, budget).await {
                        tracing::warn!(%order_id, error = %checkout::error_report(&error), "the order's outbox could not be read; the sweep sends it");
                    }
                }
                response
            }
        },
    ));
    lambda_http::run(router).await
}

/// The fields of an EventBridge event that say where it came from.
#[derive(Debug, Deserialize)]
struct EventOrigin {
    #[serde(default)]
    source: String,
    #[serde(rename = "detail-type", default)]
    detail_type: String,
    #[serde(default)]
    resources: Vec<String>,
}

/// Why an event is not the reconcile schedule's.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum EventRefused {
    #[error("refused: not an EventBridge event")]
    NotAnEvent,
    #[error(
        "refused: not a scheduled event (source {event_source:?}, detail-type {detail_type:?})"
    )]
    NotScheduled {
        event_source: String,
        detail_type: String,
    },
    #[error("refused: not from the reconcile schedule's rule")]
    OtherRule,
}

/// Whether `event` is a scheduled event from the rule `rule_arn`: EventBridge
/// sets `source`, `detail-type` and the rule's ARN in `resources`.
///
/// # Errors
///
/// [`EventRefused`] for anything else.
pub fn check_schedule_event(event: &serde_json::Value, rule_arn: &str) -> Result<(), EventRefused> {
    let origin = EventOrigin::deserialize(event).map_err(|_| EventRefused::NotAnEvent)?;
    if origin.source != "aws.events" || origin.detail_type != "Scheduled Event" {
        return Err(EventRefused::NotScheduled {
            event_source: origin.source,
            detail_type: origin.detail_type,
        });
    }
    if !origin.resources.iter().any(|arn| arn == rule_arn) {
        return Err(EventRefused::OtherRule);
    }
    Ok(())
}

/// A reconcile pass that did not run as it should: the invocation fails,
/// so the function's error metric and its on-failure destination see it.
#[derive(Debug, thiserror::Error)]
enum PassFailed {
    #[error(transparent)]
    Refused(#[from] EventRefused),
    #[error(transparent)]
    List(#[from] reconciler::ListFailed),
}

/// How long the reconciler's sweep may keep starting sends: after a
/// reconcile pass of at most 40 s, inside the function's 60 s.
const SWEEP_BUDGET: Duration = Duration::from_secs(10);

/// Serves the reconciler function: one bounded pass per scheduled event of
/// the rule `rule_arn`, answering what it did.
///
/// # Errors
///
/// The Lambda runtime's error when it stops.
pub async fn run_reconciler(
    service: Arc<CheckoutService>,
    deliverer: Arc<Deliverer>,
    written: Arc<Mutex<Vec<OrderId>>>,
    config: ReconcilerConfig,
    rule_arn: String,
) -> Result<(), lambda_http::Error> {
    let handler = service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let (service, config, rule_arn) = (service.clone(), config.clone(), rule_arn.clone());
        let (deliverer, written) = (deliverer.clone(), written.clone());
        async move {
            if let Err(refused) = check_schedule_event(&event.payload, &rule_arn) {
                tracing::warn!(security_event = true, %refused, "reconciler event refused");
                return Err(lambda_http::Error::from(PassFailed::from(refused)));
            }
            let (_stop, mut running) = tokio::sync::watch::channel(false);
            let outcome = reconciler::run_once(&service, &config, &mut running).await;
            // What this pass's changes wrote, read consistently by order (the
            // sweep's index may not show it yet); taken, failed pass or not,
            // so no order is kept for later.
            let mut orders = std::mem::take(&mut *written.lock().expect("written"));
            let report = outcome.map_err(|e| lambda_http::Error::from(PassFailed::from(e)))?;
            orders.dedup();
            let until = Instant::now() + SWEEP_BUDGET;
            let (mut sent, mut delivery_failed) = (0, 0);
            for order_id in orders {
                let budget = until.saturating_duration_since(Instant::now());
                if budget.is_zero() {
                    break; // the next pass's sweep sends the rest
                }
                match deliverer.deliver_order(&order_id, budget).await {
                    Ok(pass) => {
                        (sent, delivery_failed) = (sent + pass.sent, delivery_failed + pass.failed)
                    }
                    Err(error) => {
                        tracing::warn!(%order_id, error = %checkout::error_report(&error), "the order's outbox could not be read; the sweep sends it")
                    }
                }
            }
            // The outbox's sweep: what the public function did not send. A
            // failure is logged, not the pass's: the next minute sweeps again.
            match deliverer.deliver_pending(SWEEP_BUDGET).await {
                Ok(pass) => {
                    (sent, delivery_failed) = (sent + pass.sent, delivery_failed + pass.failed)
                }
                Err(error) => {
                    tracing::warn!(error = %checkout::error_report(&error), "the outbox could not be swept; the next pass tries again")
                }
            }
            // The heartbeat the stack's alarm counts: one line per pass done.
            tracing::info!(
                checked = report.checked,
                failed = report.failed,
                left = report.left,
                sent,
                delivery_failed,
                "reconcile pass done"
            );
            Ok::<_, lambda_http::Error>(serde_json::json!({
                "checked": report.checked,
                "failed": report.failed,
                "left": report.left,
                "sent": sent,
                "delivery_failed": delivery_failed,
            }))
        }
    });
    lambda_http::lambda_runtime::run(handler).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const RULE: &str = "arn:aws:events:eu-west-1:123456789012:rule/Shop-reconcile";

    fn scheduled(rule: &str) -> serde_json::Value {
        json!({
            "version": "0",
            "id": "a1b2c3d4-0000-4000-8000-000000000001",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "123456789012",
            "time": "2026-11-25T12:00:00Z",
            "region": "eu-west-1",
            "resources": [rule],
            "detail": {}
        })
    }

    #[test]
    fn only_the_rules_scheduled_event_is_accepted() {
        assert_eq!(check_schedule_event(&scheduled(RULE), RULE), Ok(()));
        assert_eq!(
            check_schedule_event(
                &scheduled("arn:aws:events:eu-west-1:123456789012:rule/other"),
                RULE
            ),
            Err(EventRefused::OtherRule)
        );
        let mut custom = scheduled(RULE);
        custom["source"] = json!("my.app");
        assert!(matches!(
            check_schedule_event(&custom, RULE),
            Err(EventRefused::NotScheduled { .. })
        ));
        let mut other_type = scheduled(RULE);
        other_type["detail-type"] = json!("Object Created");
        assert!(matches!(
            check_schedule_event(&other_type, RULE),
            Err(EventRefused::NotScheduled { .. })
        ));
        // An HTTP request's payload, a bare value, an empty object.
        let http = json!({"version": "2.0", "rawPath": "/events", "requestContext": {}});
        assert!(check_schedule_event(&http, RULE).is_err());
        assert_eq!(
            check_schedule_event(&json!(42), RULE),
            Err(EventRefused::NotAnEvent)
        );
        assert!(check_schedule_event(&json!({}), RULE).is_err());
    }
}
