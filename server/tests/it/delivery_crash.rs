//! A deliverer killed mid-way. Between the commit and the send: the event
//! is in the outbox, and the next deliverer sends it (nothing lost).
//! Between the send and its record: the entry stays claimed, and once the
//! claim runs out the next deliverer sends it again (one duplicate, never
//! more).

use crate::common::{harness, StoreKind};
use async_trait::async_trait;
use checkout::{
    Clock, Deliverer, DeliveryError, MailMessage, Mailer, OrderStatus, Outlets, ReconcilePolicy,
    RetryPolicy, ShopIdentity, ShopUrls,
};
use mollie_emulator::PaymentStatus;
use outlets::FileMailer;
use std::sync::Arc;
use std::time::Duration;

/// Sends, then never returns: the process dies before it records the send.
struct DiesAfterSending(Arc<FileMailer>);

#[async_trait]
impl Mailer for DiesAfterSending {
    async fn send(&self, message: &MailMessage) -> Result<Option<String>, DeliveryError> {
        self.0.send(message).await?;
        std::future::pending().await
    }
}

fn deliverer(shop: &crate::common::Harness, mailer: Arc<dyn Mailer>) -> Deliverer {
    let outlets = Outlets {
        mailer: Some(mailer),
        ..Outlets::default()
    };
    let identity = ShopIdentity {
        name: "Shop".into(),
        owner_email: None,
    };
    let urls = ShopUrls {
        public_base_url: shop.shop_url.clone(),
    };
    let clock: Arc<dyn Clock> = shop.clock.clone();
    Deliverer::new(shop.store.clone(), outlets, identity, urls, clock)
}

fn confirmations(shop: &crate::common::Harness) -> usize {
    shop.mail_subjects()
        .iter()
        .filter(|s| s.contains("thank you for your payment"))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deliverer_killed_before_or_after_its_send_loses_nothing_and_doubles_at_most_once() {
    let shop = harness(StoreKind::Embedded, ReconcilePolicy::default()).await;
    let mailer = Arc::new(
        FileMailer::new("Shop <shop@localhost>".parse().unwrap(), &shop.mail_dir).unwrap(),
    );
    let (order_id, payment) = shop.buy().await;
    assert!(shop
        .emulator
        .complete_payment(&payment, PaymentStatus::Paid));
    shop.wait_for(&order_id, OrderStatus::Paid, Duration::from_secs(10))
        .await;
    // Committed, and no deliverer ran: as if it died right after the commit.
    assert_eq!(confirmations(&shop), 0);

    // This one dies between its send and the send's record.
    let dying = deliverer(&shop, Arc::new(DiesAfterSending(mailer.clone())));
    let killed = tokio::spawn(async move { dying.deliver_pending(Duration::from_secs(60)).await });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while confirmations(&shop) == 0 {
        assert!(tokio::time::Instant::now() < deadline, "never sent");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    killed.abort();
    assert!(killed.await.unwrap_err().is_cancelled());

    // The next deliverer leaves the claimed entry alone while the claim holds...
    let next = deliverer(&shop, mailer.clone());
    let pass = next.deliver_pending(Duration::from_secs(60)).await.unwrap();
    assert_eq!((pass.sent, pass.skipped), (0, 1), "{pass:?}");
    assert_eq!(confirmations(&shop), 1);
    // ... and sends it once it has run out: the one duplicate.
    shop.clock
        .advance(RetryPolicy::default().claim_for + Duration::from_secs(1));
    let pass = next.deliver_pending(Duration::from_secs(60)).await.unwrap();
    assert_eq!(pass.sent, 1, "{pass:?}");
    assert_eq!(confirmations(&shop), 2);
    // Recorded now: never again.
    let pass = next.deliver_pending(Duration::from_secs(60)).await.unwrap();
    assert_eq!(pass.sent, 0, "{pass:?}");
    assert_eq!(confirmations(&shop), 2);
}
