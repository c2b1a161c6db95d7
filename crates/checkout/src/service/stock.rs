//! Stock levels for the storefront and the back office, and the catalog's
//! starting stock.

use super::{ActionError, CheckoutService};
use crate::ids::ArticleId;
use crate::ports::StoreError;
use crate::stock::{StockLevels, StockSetting};

impl CheckoutService {
    /// Tracks each article the catalog gives a starting stock that the
    /// store does not track yet (run at start, before any checkout).
    ///
    /// # Errors
    ///
    /// The store's.
    pub async fn seed_stock_from_catalog(&self) -> Result<(), StoreError> {
        let stocked: Vec<_> = self
            .catalog
            .articles()
            .iter()
            .filter_map(|article| Some((&article.id, article.stock?)))
            .collect();
        if stocked.is_empty() {
            return Ok(());
        }
        // A read first: after the first start every article is tracked, and
        // a seed is a durable write (an fsync on every process start).
        let ids: Vec<ArticleId> = stocked.iter().map(|(id, _)| (*id).clone()).collect();
        let tracked = self.store.stock_levels(&ids).await?;
        for (id, units) in stocked {
            if tracked.available(id).is_some() {
                continue;
            }
            // Still conditional in the store: another process may seed it
            // between the read and this write.
            if self.store.seed_stock(id, units).await? {
                tracing::info!(article = %id, units, "stock tracked from the catalog");
            }
        }
        Ok(())
    }

    /// The stock of every catalog article that is tracked.
    ///
    /// # Errors
    ///
    /// The store's.
    pub async fn catalog_stock(&self) -> Result<StockLevels, StoreError> {
        let articles: Vec<_> = self
            .catalog
            .articles()
            .iter()
            .map(|a| a.id.clone())
            .collect();
        self.store.stock_levels(&articles).await
    }

    /// An operator sets how many units of `article` can be sold, over the
    /// level they saw (`seen`; `None`: not tracked); the stock log keeps
    /// who set what over what, written with the level. Never retried over
    /// another level: a checkout that took or gave back units since the
    /// page was read would be overwritten.
    ///
    /// # Errors
    ///
    /// [`ActionError::UnknownArticle`] for one the catalog does not sell;
    /// [`ActionError::StockChanged`] when the level is no longer `seen`;
    /// the store's.
    pub async fn operator_set_stock(
        &self,
        operator: &str,
        article: &ArticleId,
        seen: Option<u32>,
        available: u32,
    ) -> Result<(), ActionError> {
        if self.catalog.find(article.as_str()).is_none() {
            return Err(ActionError::UnknownArticle);
        }
        let setting = StockSetting {
            article_id: article.clone(),
            previous: seen,
            available,
            operator: operator.to_owned(),
            at: self.clock.now(),
        };
        match self.store.set_stock(&setting).await {
            Ok(()) => {
                tracing::info!(operator, %article, previous = ?seen, available, "stock level set");
                Ok(())
            }
            Err(StoreError::Conflict) => {
                let levels = self
                    .store
                    .stock_levels(std::slice::from_ref(article))
                    .await
                    .map_err(ActionError::Store)?;
                Err(ActionError::StockChanged {
                    now: levels.available(article),
                })
            }
            Err(e) => Err(ActionError::Store(e)),
        }
    }

    /// The stock log, newest first.
    ///
    /// # Errors
    ///
    /// The store's.
    pub async fn stock_log(&self, limit: usize) -> Result<Vec<StockSetting>, StoreError> {
        self.store.stock_log(limit).await
    }
}
