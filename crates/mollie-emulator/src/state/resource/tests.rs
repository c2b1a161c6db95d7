//! Snapshots of the payment resource in a few states, written from the
//! emulator's output, so a change in how it is built cannot change it.

use crate::api::WireAmount;
use crate::captures::CaptureStatus;
use crate::chargebacks::EmulatedChargeback;
use crate::movement::Movement;
use crate::refunds::RefundStatus;
use crate::state::{EmulatedPayment, EmulatorState, PaymentStatus};
use crate::EmulatorConfig;
use serde_json::{json, Value};
use time::macros::datetime;
use time::OffsetDateTime;

const CREATED: OffsetDateTime = datetime!(2025-06-02 09:13:37 UTC);
const LATER: OffsetDateTime = datetime!(2025-06-02 09:20:00 UTC);

fn state() -> EmulatorState {
    EmulatorState::new(EmulatorConfig::new("http://emu.test/mollie"))
}

/// A plain open payment: no optional field.
fn open() -> EmulatedPayment {
    EmulatedPayment {
        id: "tr_snapshot01".into(),
        created_at: CREATED,
        expires_at: datetime!(2025-06-02 09:28:37 UTC),
        changed_at: None,
        amount: json!({ "currency": "EUR", "value": "10.00" }),
        description: "Order 1".into(),
        redirect_url: "https://shop.example/orders/1".into(),
        cancel_url: None,
        webhook_url: None,
        metadata: Value::Null,
        method: None,
        locale: None,
        status: PaymentStatus::Open,
        refunds: Vec::new(),
        chargebacks: Vec::new(),
        manual_capture: false,
        lines: Vec::new(),
        authorized_at: None,
        capture_before: None,
        captures: Vec::new(),
        released: false,
    }
}

fn eur(value: &str) -> WireAmount {
    WireAmount::of(&json!({ "currency": "EUR", "value": value }))
}

/// A refund or a capture of `value`.
fn movement<S>(id: &str, value: &str, status: S) -> Movement<S> {
    Movement {
        id: id.into(),
        payment_id: "tr_snapshot01".into(),
        amount: eur(value),
        description: String::new(),
        metadata: Value::Null,
        status,
        created_at: LATER,
    }
}

fn chargeback(id: &str, value: &str, reversed: bool) -> EmulatedChargeback {
    EmulatedChargeback {
        id: id.into(),
        payment_id: "tr_snapshot01".into(),
        amount: eur(value),
        reason: None,
        created_at: LATER,
        reversed_at: reversed.then_some(LATER),
    }
}

/// The payment `open()` in `status`, with the fields and `_links` its
/// state adds: what every payment has is written once.
fn expected(status: &str, added: Value, added_links: Value) -> Value {
    let mut body = json!({
        "resource": "payment",
        "id": "tr_snapshot01",
        "mode": "test",
        "createdAt": "2025-06-02T09:13:37+00:00",
        "amount": { "currency": "EUR", "value": "10.00" },
        "description": "Order 1",
        "method": null,
        "metadata": null,
        "status": status,
        "profileId": "pfl_emulator00",
        "sequenceType": "oneoff",
        "redirectUrl": "https://shop.example/orders/1",
        "_links": {
            "self": { "href": "http://emu.test/mollie/v2/payments/tr_snapshot01", "type": "application/hal+json" },
            "dashboard": { "href": "http://emu.test/mollie/dashboard/payments/tr_snapshot01", "type": "text/html" },
            "documentation": { "href": "https://docs.mollie.com/reference/get-payment", "type": "text/html" },
        },
    });
    let fields = body.as_object_mut().unwrap();
    fields.extend(added.as_object().unwrap().clone());
    let links = fields["_links"].as_object_mut().unwrap();
    links.extend(added_links.as_object().unwrap().clone());
    body
}

#[test]
fn an_open_payment_without_optional_fields() {
    assert_eq!(
        state().resource(&open()),
        expected(
            "open",
            json!({
                "isCancelable": true,
                "expiresAt": "2025-06-02T09:28:37+00:00",
            }),
            json!({
                "checkout": { "href": "http://emu.test/mollie/checkout/tr_snapshot01", "type": "text/html" },
            }),
        )
    );
}

#[test]
fn an_open_payment_with_every_optional_field() {
    let line = json!({
        "type": "physical",
        "description": "Mug",
        "quantity": 1,
        "unitPrice": { "currency": "EUR", "value": "10.00" },
        "totalAmount": { "currency": "EUR", "value": "10.00" },
        "vatRate": "21.00",
        "vatAmount": { "currency": "EUR", "value": "1.74" },
    });
    let payment = EmulatedPayment {
        webhook_url: Some("http://127.0.0.1:9/hook".into()),
        cancel_url: Some("https://shop.example/cart".into()),
        locale: Some("nl_NL".into()),
        method: Some("ideal".into()),
        metadata: json!({ "order_id": "ord_1" }),
        lines: vec![line.clone()],
        ..open()
    };
    let body = state().resource(&payment);
    assert_eq!(body["webhookUrl"], "http://127.0.0.1:9/hook");
    assert_eq!(body["cancelUrl"], "https://shop.example/cart");
    assert_eq!(body["locale"], "nl_NL");
    assert_eq!(body["method"], "ideal");
    assert_eq!(body["metadata"], json!({ "order_id": "ord_1" }));
    assert_eq!(body["lines"], json!([line]));
    let mut without = body.as_object().unwrap().clone();
    for key in [
        "webhookUrl",
        "cancelUrl",
        "locale",
        "lines",
        "method",
        "metadata",
    ] {
        without.remove(key);
    }
    let mut plain = state().resource(&open()).as_object().unwrap().clone();
    plain.remove("method");
    plain.remove("metadata");
    assert_eq!(without, plain);
}

#[test]
fn an_authorized_payment_waiting_for_its_capture() {
    let payment = EmulatedPayment {
        status: PaymentStatus::Authorized,
        changed_at: Some(LATER),
        manual_capture: true,
        authorized_at: Some(LATER),
        capture_before: Some(datetime!(2025-06-09 09:20:00 UTC)),
        captures: vec![movement("cpt_snapshot01", "4.00", CaptureStatus::Pending)],
        ..open()
    };
    assert_eq!(
        state().resource(&payment),
        expected(
            "authorized",
            json!({
                "captureMode": "manual",
                "amountCaptured": { "currency": "EUR", "value": "0.00" },
                "authorizedAt": "2025-06-02T09:20:00+00:00",
                "captureBefore": "2025-06-09T09:20:00+00:00",
                "isCancelable": false,
            }),
            json!({
                "captures": { "href": "http://emu.test/mollie/v2/payments/tr_snapshot01/captures", "type": "application/hal+json" },
            }),
        )
    );
}

#[test]
fn a_captured_payment_with_refunds_and_chargebacks() {
    let payment = EmulatedPayment {
        status: PaymentStatus::Paid,
        changed_at: Some(LATER),
        manual_capture: true,
        authorized_at: Some(CREATED),
        capture_before: Some(datetime!(2025-06-09 09:13:37 UTC)),
        released: true,
        captures: vec![movement("cpt_snapshot01", "8.00", CaptureStatus::Succeeded)],
        refunds: vec![
            movement("re_snapshot01", "1.00", RefundStatus::Refunded),
            movement("re_snapshot02", "2.00", RefundStatus::Failed),
        ],
        chargebacks: vec![
            chargeback("chb_snapsho01", "3.00", false),
            chargeback("chb_snapsho02", "0.50", true),
        ],
        ..open()
    };
    assert_eq!(
        state().resource(&payment),
        expected(
            "paid",
            json!({
                "captureMode": "manual",
                "amountCaptured": { "currency": "EUR", "value": "8.00" },
                "authorizedAt": "2025-06-02T09:13:37+00:00",
                "amountRefunded": { "currency": "EUR", "value": "1.00" },
                "amountRemaining": { "currency": "EUR", "value": "4.00" },
                "amountChargedBack": { "currency": "EUR", "value": "3.00" },
                "paidAt": "2025-06-02T09:20:00+00:00",
            }),
            json!({
                "refunds": { "href": "http://emu.test/mollie/v2/payments/tr_snapshot01/refunds", "type": "application/hal+json" },
                "chargebacks": { "href": "http://emu.test/mollie/v2/payments/tr_snapshot01/chargebacks", "type": "application/hal+json" },
                "captures": { "href": "http://emu.test/mollie/v2/payments/tr_snapshot01/captures", "type": "application/hal+json" },
            }),
        )
    );
}

#[test]
fn a_final_payment_has_its_stamp_and_no_checkout() {
    let stamps = [
        (PaymentStatus::Failed, "failedAt"),
        (PaymentStatus::Canceled, "canceledAt"),
        (PaymentStatus::Expired, "expiredAt"),
    ];
    for (status, stamp) in stamps {
        // Without a change time, the stamp is the creation time.
        for (changed_at, at) in [
            (Some(LATER), "2025-06-02T09:20:00+00:00"),
            (None, "2025-06-02T09:13:37+00:00"),
        ] {
            let payment = EmulatedPayment {
                status,
                changed_at,
                ..open()
            };
            let mut expected = state().resource(&open());
            let fields = expected.as_object_mut().unwrap();
            fields.remove("isCancelable");
            fields.remove("expiresAt");
            fields["_links"].as_object_mut().unwrap().remove("checkout");
            fields.insert("status".into(), json!(status));
            fields.insert(stamp.into(), json!(at));
            assert_eq!(state().resource(&payment), expected, "{status}");
        }
    }
}

#[test]
fn overrides_replace_the_fields_every_payment_has_and_add_others() {
    let state = state();
    let payment = EmulatedPayment {
        webhook_url: Some("http://127.0.0.1:9/hook".into()),
        ..open()
    };
    let mut overrides = serde_json::Map::new();
    overrides.insert("status".into(), json!("paid"));
    overrides.insert("profileId".into(), json!("pfl_someoneelse"));
    overrides.insert(
        "amount".into(),
        json!({ "currency": "EUR", "value": "12,00" }),
    );
    // The payment's own webhookUrl is reported, not the override.
    overrides.insert("webhookUrl".into(), json!("http://127.0.0.1:9/other"));
    overrides.insert("countryCode".into(), json!("NL"));
    state
        .overrides
        .lock()
        .unwrap()
        .insert(payment.id.clone(), overrides);
    let body = state.resource(&payment);
    assert_eq!(body["status"], "paid");
    assert_eq!(body["profileId"], "pfl_someoneelse");
    assert_eq!(body["amount"]["value"], "12,00");
    assert_eq!(body["webhookUrl"], "http://127.0.0.1:9/hook");
    assert_eq!(body["countryCode"], "NL");
    // The rest follows the payment's real status.
    assert_eq!(body["isCancelable"], true);
    assert!(body["_links"]["checkout"].is_object());
    assert!(body.get("paidAt").is_none());
}
