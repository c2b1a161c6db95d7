//! DynamoDB (moto): the status reads against raw GetItems, and the raw
//! store calls a webhook makes.

use crate::processes::{server_env, Server};
use crate::report::Report;
use crate::stats::{ms, ratio, stats, timed, Stats};
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The bench's table on moto.
pub const TABLE: &str = "bench";

/// A client of moto server, the bench's table created on it, and the
/// shop's settings for it.
pub async fn on_moto(
    moto_url: &str,
    port: u16,
    data: &std::path::Path,
) -> (aws_sdk_dynamodb::Client, Vec<(String, String)>) {
    let aws = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(moto_url)
        .load()
        .await;
    let dynamo = aws_sdk_dynamodb::Client::new(&aws);
    store::TableSetup::create_if_missing(&dynamo, TABLE)
        .await
        .unwrap();
    let env = server_env(
        port,
        data,
        &[
            ("SHOP_STORE", "dynamodb".into()),
            ("SHOP_DYNAMODB_ENDPOINT", moto_url.to_owned()),
            ("SHOP_DYNAMODB_TABLE", TABLE.into()),
        ],
    );
    (dynamo, env)
}

/// 500 raw consistent GetItems of the order's item (its attempts' copies
/// included): what one status read costs at least.
pub(crate) async fn raw_reads(
    dynamo: &aws_sdk_dynamodb::Client,
    table: &str,
    order: &str,
) -> Stats {
    let mut samples = Vec::new();
    for _ in 0..500 {
        let get = dynamo
            .get_item()
            .table_name(table)
            .consistent_read(true)
            .key("pk", AttributeValue::S(format!("ORDER#{order}")))
            .key("sk", AttributeValue::S("ORDER".into()));
        timed(&mut samples, async { get.send().await.unwrap() }).await;
    }
    stats(samples)
}

/// Thank-you page and status function vs one raw GetItem.
pub async fn status_reads(
    report: &mut Report,
    server: &Server,
    dynamo: &aws_sdk_dynamodb::Client,
    table: &str,
) {
    let (open_order, _) = server.checkout(40_000).await;
    let (paid_order, paid_payment) = server.checkout(40_001).await;
    server.pay_at_emulator(&paid_payment).await;
    while server.status(&paid_order).await != "paid" {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let raw = raw_reads(dynamo, table, &open_order).await;
    for (label, order) in [("non-final", &open_order), ("final (paid)", &paid_order)] {
        let (mut page, mut function) = (Vec::new(), Vec::new());
        for _ in 0..500 {
            timed(&mut page, async {
                server
                    .http
                    .get(format!("{}/orders/{order}", server.base))
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap()
            })
            .await;
            timed(&mut function, server.status(order)).await;
        }
        let (page, function) = (stats(page), stats(function));
        let goal = if label == "non-final" {
            "function <= 1.2x at p50"
        } else {
            "<= 0.3x (from memory)"
        };
        report.row(
            format!("thank-you page / status function, {label} status, DynamoDB"),
            format!(
                "page p50 {} p99 {}; function p50 {} p99 {}",
                ms(page.p50),
                ms(page.p99),
                ms(function.p50),
                ms(function.p99)
            ),
            format!(
                "raw GetItem of the order p50 {} p99 {} (page {}, function {})",
                ms(raw.p50),
                ms(raw.p99),
                ratio(page.p50, raw.p50),
                ratio(function.p50, raw.p50)
            ),
            goal,
        );
    }
}

/// The store calls one webhook makes, raw: a consistent GetItem, then a
/// transaction of a conditional PutItem (the attempt) and an UpdateItem
/// (the order's copy), from `concurrency` workers.
pub async fn raw_get_put_rate(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    concurrency: usize,
    per_worker: usize,
) -> f64 {
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|w| {
            let (client, table) = (client.clone(), table.to_owned());
            tokio::spawn(async move { raw_webhook_calls(&client, &table, w, per_worker).await })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    (concurrency * per_worker) as f64 / started.elapsed().as_secs_f64()
}

/// One worker of [`raw_get_put_rate`]: `per_worker` rounds on its own items.
async fn raw_webhook_calls(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    w: usize,
    per_worker: usize,
) {
    let key = |v: &str| {
        HashMap::from([
            ("pk".to_owned(), AttributeValue::S(format!("RAW#{w}"))),
            ("sk".to_owned(), AttributeValue::S(v.to_owned())),
        ])
    };
    let mut item = key("RAW");
    item.insert("version".into(), AttributeValue::N("0".into()));
    client
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
    for version in 0..per_worker {
        client
            .get_item()
            .table_name(table)
            .consistent_read(true)
            .set_key(Some(key("RAW")))
            .send()
            .await
            .unwrap();
        let mut next = key("RAW");
        next.insert(
            "version".into(),
            AttributeValue::N((version + 1).to_string()),
        );
        let attempt_put = Put::builder()
            .table_name(table)
            .set_item(Some(next))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", AttributeValue::N(version.to_string()))
            .build()
            .unwrap();
        let copy_update = Update::builder()
            .table_name(table)
            .set_key(Some(key("RAWORDER")))
            .update_expression("SET #copy = :c")
            .expression_attribute_names("#copy", "attempt#raw")
            .expression_attribute_values(":c", AttributeValue::N(version.to_string()))
            .build()
            .unwrap();
        client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(attempt_put).build())
            .transact_items(TransactWriteItem::builder().update(copy_update).build())
            .send()
            .await
            .unwrap();
    }
}
