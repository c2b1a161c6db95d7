//! Stock levels: one item per tracked article, `STOCK#{article id}` /
//! `STOCK`, with `available` (units that can still be sold). Each article
//! its own partition, so one hot article throttles only itself (see
//! docs/dynamodb.md). A move is an update in the transaction of the write
//! that makes it: a take is conditional on `available >= :units`.

use super::*;
use aws_sdk_dynamodb::types::KeysAndAttributes;
use checkout::{ArticleId, StockLevels, StockMove, StockSetting};

pub(super) const STOCK_SK: &str = "STOCK";
/// The stock log's partition: one item per setting, `AT#{unix ms}#{uuid}`.
const STOCK_LOG_PK: &str = "STOCKLOG";
const AVAILABLE: &str = "available";

pub(super) fn stock_pk(article: &ArticleId) -> String {
    format!("STOCK#{article}")
}

/// The update that makes `stock_move`.
pub(super) fn stock_update(table: &str, stock_move: &StockMove) -> Result<Update, StoreError> {
    let (units, take) = match stock_move {
        StockMove::Take(units) => (units, true),
        StockMove::GiveBack(units) => (units, false),
    };
    let update = Update::builder()
        .table_name(table)
        .key("pk", AttributeValue::S(stock_pk(&units.article_id)))
        .key("sk", AttributeValue::S(STOCK_SK.into()))
        .expression_attribute_names("#available", AVAILABLE)
        .expression_attribute_values(":units", AttributeValue::N(units.quantity.to_string()));
    let update = if take {
        update
            .update_expression("SET #available = #available - :units")
            .condition_expression("#available >= :units")
    } else {
        update.update_expression("ADD #available :units")
    };
    update.build().map_err(unavailable)
}

/// The transaction items that make `moves`.
pub(super) fn stock_items(
    table: &str,
    moves: &[StockMove],
) -> Result<Vec<TransactWriteItem>, StoreError> {
    moves
        .iter()
        .map(|m| {
            Ok(TransactWriteItem::builder()
                .update(stock_update(table, m)?)
                .build())
        })
        .collect()
}

impl DynamoDbStore {
    pub(super) async fn read_stock_levels(
        &self,
        articles: &[ArticleId],
    ) -> Result<StockLevels, StoreError> {
        let mut levels = Vec::new();
        // BatchGetItem takes at most 100 keys.
        for chunk in articles.chunks(100) {
            levels.extend(self.read_stock_chunk(chunk).await?);
        }
        Ok(StockLevels::new(levels))
    }

    async fn read_stock_chunk(
        &self,
        articles: &[ArticleId],
    ) -> Result<Vec<(ArticleId, u32)>, StoreError> {
        if articles.is_empty() {
            return Ok(Vec::new());
        }
        let mut keys = KeysAndAttributes::builder().consistent_read(true);
        for article in articles {
            keys = keys.keys(HashMap::from([
                ("pk".to_owned(), AttributeValue::S(stock_pk(article))),
                ("sk".to_owned(), AttributeValue::S(STOCK_SK.into())),
            ]));
        }
        let mut request = HashMap::from([(self.table.clone(), keys.build().map_err(unavailable)?)]);
        let mut levels = Vec::new();
        // A batch may answer part of the keys (throttling): ask again for
        // the rest after a growing pause.
        for round in 0..5u32 {
            if round > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(25 << round)).await;
            }
            let answer = self
                .client
                .batch_get_item()
                .set_request_items(Some(request))
                .send()
                .await
                .map_err(sdk_unavailable)?;
            for item in answer
                .responses
                .and_then(|mut r| r.remove(&self.table))
                .unwrap_or_default()
            {
                let article = articles
                    .iter()
                    .find(|a| item.get("pk") == Some(&AttributeValue::S(stock_pk(a))));
                if let (Some(article), Some(available)) = (article, number(Some(&item), AVAILABLE))
                {
                    let available = u32::try_from(available.max(0)).unwrap_or(u32::MAX);
                    levels.push((article.clone(), available));
                }
            }
            match answer.unprocessed_keys.filter(|k| !k.is_empty()) {
                Some(rest) => request = rest,
                None => return Ok(levels),
            }
        }
        Err(StoreError::Unavailable(Cause::message(
            "the stock levels could not all be read",
        )))
    }

    /// Puts the article's level where there is none; false when there is.
    pub(super) async fn put_new_stock(
        &self,
        article: &ArticleId,
        available: u32,
    ) -> Result<bool, StoreError> {
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(stock_pk(article)))
            .item("sk", AttributeValue::S(STOCK_SK.into()))
            .item(AVAILABLE, AttributeValue::N(available.to_string()))
            .condition_expression("attribute_not_exists(pk)");
        match request.send().await {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_check_failure(&e) => Ok(false),
            Err(e) => Err(sdk_unavailable(e)),
        }
    }

    /// The level over the one read, and its log entry, in one transaction.
    pub(super) async fn write_stock_setting(
        &self,
        setting: &StockSetting,
    ) -> Result<(), StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(stock_pk(&setting.article_id)))
            .key("sk", AttributeValue::S(STOCK_SK.into()))
            .update_expression("SET #available = :available")
            .expression_attribute_names("#available", AVAILABLE)
            .expression_attribute_values(
                ":available",
                AttributeValue::N(setting.available.to_string()),
            );
        let update = match setting.previous {
            None => update.condition_expression("attribute_not_exists(pk)"),
            Some(previous) => update
                .condition_expression("#available = :previous")
                .expression_attribute_values(":previous", AttributeValue::N(previous.to_string())),
        };
        let mut entry: Item = serde_dynamo::to_item(setting).map_err(unavailable)?;
        entry.insert("pk".into(), AttributeValue::S(STOCK_LOG_PK.into()));
        entry.insert(
            "sk".into(),
            AttributeValue::S(format!(
                "AT#{:013}#{}",
                unix_millis(setting.at),
                uuid::Uuid::new_v4().simple()
            )),
        );
        self.client
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .update(update.build().map_err(unavailable)?)
                    .build(),
            )
            .transact_items(
                TransactWriteItem::builder()
                    .put(put(&self.table, entry, "attribute_not_exists(pk)")?)
                    .build(),
            )
            .send()
            .await
            .map(|_| ())
            .map_err(|e| transaction_error(e, StoreError::Conflict))
    }

    pub(super) async fn read_stock_log(
        &self,
        limit: usize,
    ) -> Result<Vec<StockSetting>, StoreError> {
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(STOCK_LOG_PK.into()))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(sdk_unavailable)?;
        page.items
            .unwrap_or_default()
            .into_iter()
            .map(|item| serde_dynamo::from_item(item).map_err(unavailable))
            .collect()
    }
}
