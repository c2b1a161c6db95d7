//! Payment lines on a create: checked as Mollie checks them, kept, and
//! shown on the checkout page.

use crate::api::{assert_error_document, create, create_body, emulator};
use serde_json::{json, Value};

fn line(quantity: i64, unit: &str, total: &str, vat_rate: &str, vat: &str) -> Value {
    let eur = |value: &str| json!({ "currency": "EUR", "value": value });
    json!({
        "type": "physical",
        "description": "Stoneware mug",
        "quantity": quantity,
        "unitPrice": eur(unit),
        "totalAmount": eur(total),
        "vatRate": vat_rate,
        "vatAmount": eur(vat),
        "sku": "PC-MUG-350",
    })
}

async fn create_with(lines: Value) -> (u16, Value) {
    let emulator = emulator(|_| {}).await;
    let mut body = create_body(None);
    body["lines"] = lines;
    let response = create(&emulator, &body, None).await;
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn lines_that_add_up_are_kept_and_shown() {
    let emulator = emulator(|_| {}).await;
    let mut body = create_body(None);
    // 10.00 in all: 2 × 3.50 at 21 % and 3.00 at 9 %.
    body["lines"] = json!([
        line(2, "3.50", "7.00", "21.00", "1.21"),
        line(1, "3.00", "3.00", "9.00", "0.25"),
    ]);
    let response = create(&emulator, &body, None).await;
    assert_eq!(response.status(), 201);
    let payment: Value = response.json().await.unwrap();
    assert_eq!(payment["lines"], body["lines"]);
    let page = reqwest::get(payment["_links"]["checkout"]["href"].as_str().unwrap())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("2 × Stoneware mug <span>EUR 7.00</span>"),
        "{page}"
    );
}

#[tokio::test]
async fn a_line_that_does_not_add_up_is_refused_with_its_field() {
    for (lines, field) in [
        (
            json!([
                line(2, "3.50", "7.01", "21.00", "1.22"),
                line(1, "2.99", "2.99", "0", "0.00")
            ]),
            "lines.0.totalAmount",
        ),
        (
            json!([
                line(2, "3.50", "7.00", "21.00", "1.50"),
                line(1, "3.00", "3.00", "0", "0.00")
            ]),
            "lines.0.vatAmount",
        ),
        (
            json!([
                line(2, "3.50", "7.00", "121", "1.21"),
                line(1, "3.00", "3.00", "0", "0.00")
            ]),
            "lines.0.vatRate",
        ),
        (
            json!([line(0, "3.50", "0.00", "0", "0.00")]),
            "lines.0.quantity",
        ),
        (json!([line(2, "3.50", "7.00", "0", "0.00")]), "amount"),
        (json!([]), "lines"),
    ] {
        let (status, body) = create_with(lines).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["field"], field, "{body}");
        assert_error_document(&body, 422);
    }
    let mut other_type = line(1, "10.00", "10.00", "0", "0.00");
    other_type["type"] = json!("thing");
    let (status, body) = create_with(json!([other_type])).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (422, Some("lines.0.type"))
    );
}
