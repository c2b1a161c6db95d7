//! What reaches the logs from a caller is bounded: a webhook with a huge
//! id must not write it out (log volume and log injection).

use crate::common::{harness, StoreKind};
use checkout::ReconcilePolicy;
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A current-thread runtime polls the whole shop's tasks on this thread, so
/// this test's own subscriber (`set_default`) sees them, and the other tests
/// in this binary log elsewhere.
#[tokio::test]
async fn a_webhook_with_a_huge_id_logs_only_a_bounded_part_of_it() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _scope = tracing::subscriber::set_default(subscriber);
    let shop = harness(StoreKind::Embedded, ReconcilePolicy::default()).await;
    let huge = format!("tr_{}", "A".repeat(10_000));
    let forged_line = format!("tr_x\nERROR forged log line {}", "B".repeat(5_000));
    for id in [&huge, &forged_line] {
        assert_eq!(shop.post_webhook(id).await, reqwest::StatusCode::OK);
    }
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("webhook ignored"),
        "nothing was logged: {text}"
    );
    assert!(!text.contains(&"A".repeat(100)), "the id was logged whole");
    assert!(!text.contains(&"B".repeat(100)), "the id was logged whole");
    assert!(
        !text.lines().any(|line| line.starts_with("ERROR forged")),
        "a caller wrote a log line"
    );
}
