//! The shop's own catalog file: sold from when it is right, and the server
//! binary refuses to start, saying why, when it is not.

use crate::common::{cart, harness_with, shopper, StoreKind};
use checkout::{CheckoutKey, Currency, Money, ReconcilePolicy};
use std::process::Command;

const OWN_CATALOG: &str = r#"
[[article]]
id = "hat"
name = "Felt hat"
description = "Grey wool felt."
price = "39.90"
currency = "EUR"
vat_rate = "21.00"
sku = "HAT-1"
image = "/images/hat.svg"
"#;

#[tokio::test(flavor = "multi_thread")]
async fn the_shop_sells_from_its_own_catalog_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("articles.toml");
    std::fs::write(&path, OWN_CATALOG).unwrap();
    let shop = harness_with(
        StoreKind::Embedded,
        ReconcilePolicy::default(),
        &["--catalog", path.to_str().unwrap()],
    )
    .await;
    let ids: Vec<_> = shop
        .service
        .catalog()
        .articles()
        .iter()
        .map(|a| a.id.to_string())
        .collect();
    assert_eq!(ids, ["hat"]);
    let started = shop
        .service
        .checkout(&cart("hat", 2), &shopper(), &CheckoutKey::generate())
        .await
        .unwrap();
    let record = shop.record(&started.order_id).await;
    assert_eq!(record.order.total(), Money::new(7980, Currency::EUR));
    // The demo articles are not for sale here.
    assert!(shop
        .service
        .checkout(&cart("mug", 1), &shopper(), &CheckoutKey::generate())
        .await
        .is_err());
}

#[test]
fn the_server_binary_refuses_a_catalog_with_a_bad_price_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("articles.toml");
    let bad = OWN_CATALOG.replace("\"39.90\"", "\"0.00\"");
    std::fs::write(&path, bad).unwrap();
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_server"))
        .current_dir(workspace)
        .env("SHOP_CATALOG", &path)
        .env("SHOP_DATA_DIR", dir.path())
        .env("SHOP_LOG_FORMAT", "human")
        .env("NO_COLOR", "1")
        .env_remove("SHOP_PUBLIC_URL")
        .env_remove("SHOP_PAYMENT_PROVIDER")
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(
        said.contains("the catalog has 1 problem(s)")
            && said.contains("article 1 (\"hat\"): the price \"0.00\" is not above zero"),
        "{said}"
    );
    assert!(!said.contains("listening on"), "{said}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_payment_carries_its_lines_with_vat_from_the_catalog() {
    let shop = crate::common::harness(StoreKind::Embedded, ReconcilePolicy::default()).await;
    let (_, payment) = shop.buy().await; // two notebooks, 9 % VAT
    let lines = shop.at_the_provider(&payment).await["lines"].clone();
    assert_eq!(
        lines,
        serde_json::json!([{
            "type": "physical",
            "description": "Dot-grid notebook",
            "quantity": 2,
            "unitPrice": { "currency": "EUR", "value": "12.95" },
            "totalAmount": { "currency": "EUR", "value": "25.90" },
            "vatRate": "9.00",
            "vatAmount": { "currency": "EUR", "value": "2.14" },
            "sku": "PC-NB-A5",
        }])
    );
}
