//! Refunds, chargebacks and captures through the client, against the
//! emulator over HTTP.

use crate::against_emulator::{client_for, emulator, request};
use mollie::{Amount, CreateRefund, MollieClient, MollieError, PaymentId, RefundId, RefundStatus};
use mollie_emulator::{Emulator, PaymentStatus};

async fn paid_payment(emulator: &Emulator, client: &MollieClient) -> PaymentId {
    let created = client
        .create_payment(&request("https://shop.example/orders/1"), &uuid_key())
        .await
        .unwrap();
    assert!(emulator.complete_payment(created.id.as_str(), PaymentStatus::Paid));
    created.id
}

fn uuid_key() -> String {
    checkout::CheckoutKey::generate().to_string()
}

fn refund_of(value: &str) -> CreateRefund {
    CreateRefund {
        amount: Amount {
            currency: "EUR".into(),
            value: value.into(),
        },
        description: Some("Refund for order 1234".into()),
        metadata: None,
    }
}

#[tokio::test]
async fn refunds_are_typed_replayed_by_key_and_listed_with_the_payment() {
    let emulator = emulator().await;
    let client = client_for(emulator.api_base_url(), "test_emulatorkey");
    let payment = paid_payment(&emulator, &client).await;

    let refund = client
        .create_refund(&payment, &refund_of("7.50"), "ref_ours_1")
        .await
        .unwrap();
    assert!(refund.id.starts_with("re_"), "{}", refund.id);
    assert_eq!(
        (
            refund.status,
            refund.payment_id.as_str(),
            refund.amount.value.as_str()
        ),
        (RefundStatus::Pending, payment.as_str(), "7.50")
    );
    // A retry with our key (a timeout, a crash) gets the same refund back.
    let again = client
        .create_refund(&payment, &refund_of("7.50"), "ref_ours_1")
        .await
        .unwrap();
    assert_eq!(again.id, refund.id);

    let seen = client.get_payment_with_money(&payment).await.unwrap();
    let refunds = seen.embedded.unwrap().refunds;
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].id, refund.id);
    assert_eq!(seen.amount_refunded.unwrap().value, "7.50");
    assert_eq!(seen.amount_remaining.unwrap().value, "20.00");
    assert_eq!(client.list_refunds(&payment).await.unwrap(), refunds);

    client
        .cancel_refund(&payment, &RefundId::parse(&refund.id).unwrap())
        .await
        .unwrap();
    let listed = client.list_refunds(&payment).await.unwrap();
    assert_eq!(listed[0].status, RefundStatus::Canceled);
}

#[tokio::test]
async fn a_duplicate_refund_is_reported_at_once_not_retried() {
    let emulator = emulator().await;
    let client = client_for(emulator.api_base_url(), "test_emulatorkey");
    let payment = paid_payment(&emulator, &client).await;
    client
        .create_refund(&payment, &refund_of("5.00"), "ref_ours_a")
        .await
        .unwrap();
    let calls = emulator.api_calls();
    let duplicate = client
        .create_refund(&payment, &refund_of("5.00"), "ref_ours_b")
        .await
        .unwrap_err();
    assert!(duplicate.is_duplicate_refund(), "{duplicate:?}");
    assert_eq!(
        emulator.api_calls(),
        calls + 1,
        "a 409 on a refund is not retried"
    );
}

#[tokio::test]
async fn a_refund_larger_than_what_remains_is_refused_with_its_field() {
    let emulator = emulator().await;
    let client = client_for(emulator.api_base_url(), "test_emulatorkey");
    let payment = paid_payment(&emulator, &client).await;
    let error = client
        .create_refund(&payment, &refund_of("27.51"), "ref_ours_x")
        .await
        .unwrap_err();
    assert!(
        matches!(&error, MollieError::Api { status: 422, field: Some(f), .. } if f == "amount"),
        "{error:?}"
    );
    // Only a refund id goes into the path.
    assert!(RefundId::parse("re_../../x").is_err());
}

#[tokio::test]
async fn chargebacks_are_typed_listed_and_embedded_with_the_payment() {
    let emulator = emulator().await;
    let client = client_for(emulator.api_base_url(), "test_emulatorkey");
    let payment = paid_payment(&emulator, &client).await;
    let amount = serde_json::json!({ "currency": "EUR", "value": "5.00" });
    let chargeback = emulator
        .charge_back(payment.as_str(), Some(amount))
        .unwrap();

    let seen = client.get_payment_with_money(&payment).await.unwrap();
    assert_eq!(seen.amount_charged_back.unwrap().value, "5.00");
    let embedded = seen.embedded.unwrap().chargebacks;
    assert_eq!(embedded.len(), 1);
    assert_eq!(
        (embedded[0].id.as_str(), embedded[0].amount.value.as_str()),
        (chargeback.as_str(), "5.00")
    );
    assert_eq!(embedded[0].reversed_at, None);
    assert_eq!(client.list_chargebacks(&payment).await.unwrap(), embedded);

    assert!(emulator.reverse_chargeback(&chargeback));
    let listed = client.list_chargebacks(&payment).await.unwrap();
    assert!(listed[0].reversed_at.is_some());
}

#[tokio::test]
async fn an_authorization_is_captured_in_part_then_released_through_the_client() {
    let emulator = emulator().await;
    let client = client_for(emulator.api_base_url(), "test_emulatorkey");
    let mut manual = request("https://shop.example/orders/1");
    manual.capture_mode = Some(mollie::CaptureMode::Manual);
    let created = client.create_payment(&manual, &uuid_key()).await.unwrap();
    assert_eq!(created.capture_mode, Some(mollie::CaptureMode::Manual));
    assert!(emulator.complete_payment(created.id.as_str(), PaymentStatus::Paid));
    let authorized = client.get_payment(&created.id).await.unwrap();
    assert_eq!(authorized.status, mollie::PaymentStatus::Authorized);
    assert!(authorized.capture_before.is_some() && authorized.authorized_at.is_some());

    let part = mollie::CreateCapture {
        amount: Some(Amount {
            currency: "EUR".into(),
            value: "5.00".into(),
        }),
        ..mollie::CreateCapture::default()
    };
    let capture = client
        .create_capture(&created.id, &part, "cap_key_1")
        .await
        .unwrap();
    assert!(capture.id.starts_with("cpt_"));
    assert_eq!(capture.status, mollie::CaptureStatus::Pending);
    let again = client
        .create_capture(&created.id, &part, "cap_key_1")
        .await
        .unwrap();
    assert_eq!(again.id, capture.id, "replayed by its key");
    assert_eq!(client.list_captures(&created.id).await.unwrap().len(), 1);
    client.release_authorization(&created.id).await.unwrap();
    let error = client.release_authorization(&created.id).await.unwrap_err();
    assert!(
        matches!(error, MollieError::Api { status: 422, .. }),
        "{error:?}"
    );
}
