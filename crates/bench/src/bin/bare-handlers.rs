//! The reference for the checkout and webhook figures: bare axum handlers
//! doing the same I/O as the shop's, and nothing else (no checks, no state
//! machine, no group commit). The bench starts it beside the shop, whose
//! emulator it calls:
//!
//! `bare-handlers PORT EMULATOR_API_BASE DB_PATH`
//!
//! - `POST /webhook` (form `id`): one GET of the payment from the emulator,
//!   then one durable redb write of its status.
//! - `POST /checkout` (form `checkout_key`, `email`): one durable write (the
//!   order), the emulator's create, one durable write (the provider's id),
//!   then a 303 to the checkout page: the shop's two commits around its
//!   create.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Router};
use redb::{Database, TableDefinition};
use std::collections::HashMap;
use std::sync::Arc;

const RECORDS: TableDefinition<&str, &str> = TableDefinition::new("records");
/// The emulator's API key in the bench (a test key, not a secret).
const KEY: &str = "Bearer test_benchmark";

struct Bare {
    http: reqwest::Client,
    emulator: String,
    db: Database,
}

/// One durable redb write (redb's default durability: fsync on commit),
/// each its own transaction: no group commit, which the shop has.
async fn write(bare: &Arc<Bare>, key: String, value: String) {
    let bare = bare.clone();
    tokio::task::spawn_blocking(move || {
        let tx = bare.db.begin_write().expect("write transaction");
        tx.open_table(RECORDS)
            .expect("table")
            .insert(key.as_str(), value.as_str())
            .expect("insert");
        tx.commit().expect("commit");
    })
    .await
    .expect("writer");
}

async fn webhook(
    State(bare): State<Arc<Bare>>,
    Form(form): Form<HashMap<String, String>>,
) -> StatusCode {
    let Some(id) = form.get("id") else {
        return StatusCode::BAD_REQUEST;
    };
    let payment: serde_json::Value = bare
        .http
        .get(format!("{}/payments/{id}", bare.emulator))
        .header(header::AUTHORIZATION, KEY)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .expect("the emulator answers the GET")
        .json()
        .await
        .expect("a payment");
    let status = payment["status"].as_str().unwrap_or_default().to_owned();
    write(&bare, id.clone(), status).await;
    StatusCode::OK
}

async fn checkout(
    State(bare): State<Arc<Bare>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (Some(key), Some(email)) = (form.get("checkout_key"), form.get("email")) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let order = serde_json::json!({"key": key, "email": email, "lines": [{"article": "mug", "quantity": 1, "price": "14.50"}]});
    write(&bare, format!("order#{key}"), order.to_string()).await;
    let body = serde_json::json!({
        "amount": {"currency": "EUR", "value": "14.50"},
        "description": format!("Order {key}"),
        "redirectUrl": format!("http://127.0.0.1/orders/{key}"),
        "metadata": {"order_id": key, "attempt_id": key},
    });
    let payment: serde_json::Value = bare
        .http
        .post(format!("{}/payments", bare.emulator))
        .header(header::AUTHORIZATION, KEY)
        .header("idempotency-key", key.as_str())
        .json(&body)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .expect("the emulator answers the create")
        .json()
        .await
        .expect("a payment");
    let provider_id = payment["id"].as_str().expect("an id").to_owned();
    let checkout_url = payment["_links"]["checkout"]["href"]
        .as_str()
        .expect("a checkout page")
        .to_owned();
    write(&bare, format!("attempt#{key}"), provider_id).await;
    (StatusCode::SEE_OTHER, [(header::LOCATION, checkout_url)]).into_response()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [port, emulator, db_path] = args.as_slice() else {
        panic!("usage: bare-handlers PORT EMULATOR_API_BASE DB_PATH");
    };
    let db = Database::create(db_path).expect("database");
    let tx = db.begin_write().expect("write transaction");
    tx.open_table(RECORDS).expect("table");
    tx.commit().expect("commit");
    let bare = Arc::new(Bare {
        http: reqwest::Client::new(),
        emulator: emulator.clone(),
        db,
    });
    let app = Router::new()
        .route("/webhook", post(webhook))
        .route("/checkout", post(checkout))
        // The bench waits for a 200 on `/` before it measures.
        .route("/", axum::routing::get(|| async { "ok" }))
        .with_state(bare);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port.parse::<u16>().expect("port")))
        .await
        .expect("listen");
    axum::serve(listener, app).await.expect("serve");
}
