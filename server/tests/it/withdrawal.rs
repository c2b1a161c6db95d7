//! The withdrawal function through the service, on both stores: a paid
//! order's shopper withdraws once, gets the acknowledgement with the
//! statement and its time, the audit log and the back office's queue have
//! it; an order that does not exist, is not the shopper's, was not paid or
//! is past its period gets a plain refusal and changes nothing.

use crate::common::{harness, shopper, Harness, StoreKind};
use checkout::{
    Attention, AuditAction, EmailAddress, OrderFilter, OrderId, OrderStatus, ReconcilePolicy,
    RefundId, WithdrawalError, WithdrawalRefusal,
};
use mollie_emulator::PaymentStatus;
use std::time::Duration;

async fn paid_order(shop: &Harness) -> OrderId {
    let (order_id, payment) = shop.buy().await;
    assert!(shop
        .emulator
        .complete_payment(&payment, PaymentStatus::Paid));
    shop.wait_for(&order_id, OrderStatus::Paid, Duration::from_secs(5))
        .await;
    order_id
}

fn refused(result: Result<impl std::fmt::Debug, WithdrawalError>) -> WithdrawalRefusal {
    match result {
        Err(WithdrawalError::Refused(refusal)) => refusal,
        other => panic!("{other:?}"),
    }
}

async fn a_paid_orders_shopper_withdraws_once(kind: StoreKind) {
    let shop = harness(kind, ReconcilePolicy::default()).await;
    let order_id = paid_order(&shop).await;
    shop.deliver().await;

    let preview = shop
        .service
        .preview_withdrawal(Some(&order_id), "  Ann Example ", &shopper())
        .await
        .unwrap();
    assert_eq!(preview.name, "Ann Example");
    assert!(preview
        .statement
        .starts_with("I, Ann Example, hereby give notice"));
    assert!(preview.statement.contains("2 x Dot-grid notebook"));
    assert!(preview.statement.contains(order_id.as_str()));
    assert!(
        shop.event_types(&order_id).await.len() == 1,
        "the preview changes nothing"
    );

    let withdrawal = shop
        .service
        .withdraw(Some(&order_id), "Ann Example", &shopper())
        .await
        .unwrap();
    assert_eq!(
        shop.event_types(&order_id).await,
        ["order.paid", "withdrawal.received"]
    );
    // The acknowledgement: the statement and when it was received.
    shop.deliver().await;
    assert_eq!(shop.messages_about("we received your withdrawal"), 1);
    let record = shop.record(&order_id).await;
    let messages = shop.service.order_messages(&record).await.unwrap();
    let mail = messages
        .iter()
        .find(|(e, _)| e.event().kind().name() == "withdrawal.received")
        .and_then(|(_, m)| m.clone())
        .expect("an acknowledgement")
        .text;
    assert!(mail.contains(&preview.statement), "{mail}");
    assert!(
        mail.contains(&checkout::withdrawal::when(withdrawal.received_at)),
        "{mail}"
    );
    // Logged, and in the back office's queue until refunded.
    let audit = shop.service.audit_log(&order_id).await.unwrap();
    assert!(audit.iter().any(|e| e.action == AuditAction::Withdrawal));
    let record = shop.record(&order_id).await;
    let now = time::OffsetDateTime::now_utc();
    let attention = record.attention(now, Duration::from_secs(3600));
    assert!(
        attention.contains(&Attention::WithdrawalToRefund),
        "{attention:?}"
    );
    assert!(!attention.contains(&Attention::WithdrawalRefundDueSoon));
    assert!(OrderFilter::Withdrawals.matches(OrderStatus::Paid, &attention));
    // Twelve days on, the refund is due soon.
    let later = now + time::Duration::days(12);
    let attention = record.attention(later, Duration::from_secs(3600));
    assert!(attention.contains(&Attention::WithdrawalRefundDueSoon));

    // Once is enough: a second confirmation changes nothing.
    let again = shop
        .service
        .withdraw(Some(&order_id), "Ann Example", &shopper())
        .await;
    assert!(matches!(
        refused(again),
        WithdrawalRefusal::AlreadyWithdrawn { .. }
    ));
    assert_eq!(shop.event_types(&order_id).await.len(), 2);

    // Refunded in full: out of the queue.
    let total = record.order.total();
    shop.service
        .refund(&order_id, &RefundId::generate(), total)
        .await
        .unwrap();
    let record = shop.record(&order_id).await;
    let attention = record.attention(now, Duration::from_secs(3600));
    assert!(
        !attention.contains(&Attention::WithdrawalToRefund),
        "{attention:?}"
    );

    // The operator erases the shopper's personal data: the address and the
    // withdrawal's name go, the withdrawal and its time stay.
    shop.service
        .operator_erase_personal_data("ann", &order_id)
        .await
        .unwrap();
    let record = shop.record(&order_id).await;
    assert_eq!(record.order.shopper_email(), None);
    let kept = record.attempts[0].withdrawal().unwrap();
    assert_eq!(kept.name, checkout::withdrawal::ERASED_NAME);
    assert_eq!(kept.received_at, withdrawal.received_at);
    assert_eq!(
        shop.service
            .operator_erase_personal_data("ann", &order_id)
            .await,
        Err(checkout::ActionError::NothingToErase)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paid_orders_shopper_withdraws_once_embedded() {
    a_paid_orders_shopper_withdraws_once(StoreKind::Embedded).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paid_orders_shopper_withdraws_once_dynamodb() {
    a_paid_orders_shopper_withdraws_once(StoreKind::DynamoDb).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_withdrawal_that_cannot_be_taken_is_refused_and_changes_nothing() {
    let shop = harness(StoreKind::Embedded, ReconcilePolicy::default()).await;
    let paid = paid_order(&shop).await;
    let (unpaid, _) = shop.buy().await;
    let stranger = EmailAddress::parse("someone.else@example.com").unwrap();
    let withdraw = |order: Option<OrderId>, name: &'static str, email: EmailAddress| {
        let service = shop.service.clone();
        async move { service.withdraw(order.as_ref(), name, &email).await }
    };
    let cases = [
        (
            withdraw(Some(OrderId::generate()), "Ann", shopper()).await,
            "unknown order",
        ),
        (withdraw(None, "Ann", shopper()).await, "no order number"),
        (
            withdraw(Some(paid.clone()), "Ann", stranger).await,
            "not the shopper's",
        ),
    ];
    for (result, case) in cases {
        assert_eq!(refused(result), WithdrawalRefusal::NotFound, "{case}");
    }
    assert_eq!(
        refused(withdraw(Some(paid.clone()), " ", shopper()).await),
        WithdrawalRefusal::NameMissing
    );
    assert_eq!(
        refused(withdraw(Some(paid.clone()), "Ann\nBob", shopper()).await),
        WithdrawalRefusal::NameMalformed
    );
    assert_eq!(
        refused(withdraw(Some(unpaid.clone()), "Ann", shopper()).await),
        WithdrawalRefusal::NotPaid
    );
    // Past the period (30 days after the payment).
    shop.clock.advance(Duration::from_secs(31 * 24 * 3600));
    assert!(matches!(
        refused(withdraw(Some(paid.clone()), "Ann", shopper()).await),
        WithdrawalRefusal::PeriodOver { .. }
    ));
    // Nothing was written.
    assert_eq!(shop.event_types(&paid).await, ["order.paid"]);
    assert!(shop.record(&paid).await.attempts[0].withdrawal().is_none());
    assert!(shop.service.audit_log(&paid).await.unwrap().is_empty());
}

/// Two confirmations at once (a double click, two tabs): one withdrawal,
/// one event; the other is told it was received already.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_confirmations_at_once_record_one_withdrawal() {
    let shop = harness(StoreKind::DynamoDb, ReconcilePolicy::default()).await;
    let order_id = paid_order(&shop).await;
    let email = shopper();
    let (a, b) = tokio::join!(
        shop.service.withdraw(Some(&order_id), "Ann", &email),
        shop.service.withdraw(Some(&order_id), "Ann", &email)
    );
    let results = [a, b];
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(results.iter().any(|r| matches!(
        r,
        Err(WithdrawalError::Refused(
            WithdrawalRefusal::AlreadyWithdrawn { .. }
        ))
    )));
    assert_eq!(
        shop.event_types(&order_id).await,
        ["order.paid", "withdrawal.received"]
    );
}

/// Under manual capture the shopper's money is reserved, not taken: the
/// contract stands, so the withdrawal is taken, and the order stays in
/// the queue until the authorization is released.
#[tokio::test(flavor = "multi_thread")]
async fn an_authorized_order_can_be_withdrawn_from() {
    let shop = crate::common::harness_with(
        StoreKind::Embedded,
        ReconcilePolicy::default(),
        &["--capture", "manual"],
    )
    .await;
    let (order_id, payment) = shop.buy().await;
    assert!(shop
        .emulator
        .complete_payment(&payment, PaymentStatus::Paid));
    shop.wait_for(
        &order_id,
        OrderStatus::AwaitingCapture,
        Duration::from_secs(5),
    )
    .await;
    shop.service
        .withdraw(Some(&order_id), "Ann", &shopper())
        .await
        .unwrap();
    let record = shop.record(&order_id).await;
    let now = time::OffsetDateTime::now_utc();
    let attention = record.attention(now, Duration::from_secs(3600));
    assert!(
        attention.contains(&Attention::WithdrawalToRefund),
        "{attention:?}"
    );
    shop.service
        .operator_release("ann", &order_id)
        .await
        .unwrap();
    let record = shop.record(&order_id).await;
    let attention = record.attention(now, Duration::from_secs(3600));
    assert!(
        !attention.contains(&Attention::WithdrawalToRefund),
        "{attention:?}"
    );
}
