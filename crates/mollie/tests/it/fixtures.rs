//! Documents in the shapes Mollie's documentation shows (payment resources
//! and error documents; written for these tests, field for field after the
//! docs' examples) deserialize into our types.

use checkout::{Currency, Money};
use mollie::{Method, MollieError, Payment, PaymentStatus};

fn document(name: &str) -> serde_json::Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn payment(name: &str) -> Payment {
    serde_json::from_value(document(name)).unwrap()
}

#[test]
fn an_open_payment() {
    let p = payment("payment-open.json");
    assert_eq!(
        (p.resource.as_str(), p.id.as_str(), p.mode.as_str()),
        ("payment", "tr_7UhSN1zuXS", "live")
    );
    assert_eq!(p.status, PaymentStatus::Open);
    assert_eq!(
        p.amount.to_money().unwrap(),
        Money::new(1000, Currency::EUR)
    );
    assert_eq!(
        p.checkout_url(),
        Some("https://www.mollie.com/checkout/select-method/7UhSN1zuXS")
    );
    assert_eq!(p.is_cancelable, Some(false));
    assert!(p.expires_at.is_some() && p.paid_at.is_none());
    // Mollie's own example sends metadata as a JSON string.
    assert_eq!(p.metadata, Some(serde_json::json!("{\"order_id\":12345}")));
    assert_eq!(
        p.links.self_link.unwrap().media_type.as_deref(),
        Some("application/hal+json")
    );
}

#[test]
fn a_paid_payment_in_a_zero_decimal_currency_with_fields_we_do_not_use() {
    let p = payment("payment-paid.json");
    assert_eq!(p.status, PaymentStatus::Paid);
    assert_eq!(
        p.amount.to_money().unwrap(),
        Money::new(1000, Currency::JPY)
    );
    assert!(p.paid_at.is_some());
    assert_eq!(p.checkout_url(), None);
    assert_eq!(p.method, Some(Method::Ideal));
    assert_eq!(p.metadata.unwrap()["attempt_id"], "pay_0456");
}

#[test]
fn a_status_added_after_this_code_was_written() {
    assert_eq!(
        payment("payment-future-status.json").status,
        PaymentStatus::Unknown
    );
}

#[test]
fn a_payment_whose_id_is_not_of_mollies_form_is_refused() {
    for bad in ["", "re_7UhSN1zuXS", "tr_7UhSN1zuXS/../x", "tr_"] {
        let mut doc = document("payment-open.json");
        doc["id"] = bad.into();
        let error = serde_json::from_value::<Payment>(doc).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("not a well-formed Mollie payment id"),
            "{bad}: {error}"
        );
    }
}

#[test]
fn a_method_added_after_this_code_was_written() {
    let mut doc = document("payment-paid.json");
    doc["method"] = "paybyfax".into();
    let p: Payment = serde_json::from_value(doc).unwrap();
    assert_eq!(p.method, Some(Method::Other("paybyfax".into())));
    assert_eq!(
        serde_json::to_value(p.method.unwrap()).unwrap(),
        serde_json::json!("paybyfax")
    );
}

#[test]
fn error_documents_become_typed_errors() {
    let read = |name: &str| {
        std::fs::read(format!(
            "{}/tests/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    };
    assert_eq!(
        MollieError::from_response(422, &read("error-422.json")),
        MollieError::Api {
            status: 422,
            title: "Unprocessable Entity".into(),
            detail: "The amount is higher than the maximum".into(),
            field: Some("amount".into()),
        }
    );
    let not_found = MollieError::from_response(404, &read("error-404.json"));
    assert!(matches!(
        &not_found,
        MollieError::Api {
            status: 404,
            field: None,
            ..
        }
    ));
    assert!(!not_found.is_retryable());
    // A proxy's HTML error page keeps its status and stays retryable.
    let proxy = MollieError::from_response(502, b"<html>Bad Gateway</html>");
    assert_eq!(proxy.status(), Some(502));
    assert!(proxy.is_retryable());
}
