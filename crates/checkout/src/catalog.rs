//! The articles the shop sells. Prices live only here, on the server: the
//! browser sends an article id and a quantity, never a price.

use crate::money::Money;
use crate::order::OrderLine;
use serde::{Deserialize, Serialize};

/// Most of one article a single order may hold.
pub const MAX_QUANTITY: u32 = 99;

pub use crate::ids::ArticleId;
pub use crate::vat::VatRate;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Article {
    pub id: ArticleId,
    pub name: String,
    pub description: String,
    pub price: Money,
    /// Path of the picture below the site root, e.g. `/images/mug.svg`.
    pub image: String,
    /// For the payment's lines.
    pub vat_rate: VatRate,
    /// The shop's stock-keeping unit, if it has one.
    pub sku: Option<String>,
    /// The units the shop starts selling with (`None`: not tracked). The
    /// levels then live in the store (set in the back office); this only
    /// starts an article the store does not track yet.
    pub stock: Option<u32>,
}

/// The catalog file that ships with the project.
pub const DEFAULT_CATALOG: &str = include_str!("../../../catalog/articles.toml");

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    // The id is not repeated: it is the caller's input, echoed nowhere.
    #[error("unknown article")]
    UnknownArticle(String),
    #[error("quantity {0} is not between 1 and {MAX_QUANTITY}")]
    InvalidQuantity(i64),
    #[error("the order total overflows")]
    TotalTooLarge,
    #[error("empty cart")]
    EmptyCart,
    #[error("more than {MAX_CART_LINES} different articles")]
    TooManyLines,
}

/// Most different articles one order may hold.
pub const MAX_CART_LINES: usize = 20;

/// One line of a cart as the outside world sends it: unchecked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub article_id: String,
    pub quantity: i64,
}

#[derive(Clone, Debug, Default)]
pub struct Catalog {
    articles: Vec<Article>,
}

impl Catalog {
    pub fn new(articles: Vec<Article>) -> Self {
        Self { articles }
    }

    /// The catalog file that ships with the project
    /// (`catalog/articles.toml`, the demo shop's articles): the shop's when
    /// configuration names no other.
    pub fn bundled() -> Self {
        Self::from_toml(DEFAULT_CATALOG).expect("the bundled catalog is checked by a test")
    }

    pub fn articles(&self) -> &[Article] {
        &self.articles
    }

    pub fn find(&self, id: &str) -> Option<&Article> {
        self.articles.iter().find(|a| a.id.as_str() == id)
    }

    /// Checks an article id and quantity from the outside world and prices
    /// the line from the catalog.
    ///
    /// # Errors
    ///
    /// An article the catalog does not sell, or a quantity outside
    /// 1..=[`MAX_QUANTITY`]: [`CatalogError`].
    pub fn price_line(&self, article_id: &str, quantity: i64) -> Result<OrderLine, CatalogError> {
        let article = self
            .find(article_id)
            .ok_or_else(|| CatalogError::UnknownArticle(article_id.to_owned()))?;
        let quantity = u32::try_from(quantity)
            .ok()
            .filter(|q| (1..=MAX_QUANTITY).contains(q))
            .ok_or(CatalogError::InvalidQuantity(quantity))?;
        let line_total = article
            .price
            .checked_mul(quantity)
            .map_err(|_| CatalogError::TotalTooLarge)?;
        Ok(OrderLine {
            article_id: article.id.clone(),
            name: article.name.clone(),
            quantity,
            unit_price: article.price,
            line_total,
            vat_rate: Some(article.vat_rate),
            sku: article.sku.clone(),
        })
    }
}

impl Catalog {
    /// Checks and prices a whole cart. Lines for the same article are merged
    /// (and their total quantity checked); the result is sorted by article.
    ///
    /// # Errors
    ///
    /// The first line the catalog refuses (unknown article, quantity), an empty
    /// cart, too many lines, or a total that overflows: [`CatalogError`].
    pub fn price_cart(&self, cart: &[CartLine]) -> Result<Vec<OrderLine>, CatalogError> {
        if cart.is_empty() {
            return Err(CatalogError::EmptyCart);
        }
        if cart.len() > MAX_CART_LINES {
            return Err(CatalogError::TooManyLines);
        }
        let mut merged: std::collections::BTreeMap<&str, i64> = Default::default();
        for line in cart {
            let quantity = merged.entry(line.article_id.as_str()).or_default();
            *quantity = quantity.saturating_add(line.quantity);
        }
        merged
            .into_iter()
            .map(|(article_id, quantity)| self.price_line(article_id, quantity))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    #[test]
    fn vat_rates_are_percentages_with_two_decimals_at_most() {
        for (text, shown) in [
            ("21.00", "21.00"),
            ("9", "9.00"),
            ("0.5", "0.50"),
            ("100", "100.00"),
        ] {
            assert_eq!(VatRate::parse(text).unwrap().to_string(), shown);
        }
        for bad in ["", "21.", ".5", "21.005", "100.01", "-1", "1e2", "twenty"] {
            assert_eq!(VatRate::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn prices_a_known_article_from_the_catalog() {
        let line = Catalog::bundled().price_line("mug", 3).unwrap();
        assert_eq!(line.quantity, 3);
        assert_eq!(line.unit_price, Money::new(1450, Currency::EUR));
        assert_eq!(line.line_total, Money::new(4350, Currency::EUR));
    }

    #[test]
    fn rejects_unknown_articles_and_bad_quantities() {
        let catalog = Catalog::bundled();
        assert_eq!(
            catalog.price_line("<script>", 1),
            Err(CatalogError::UnknownArticle("<script>".into()))
        );
        for quantity in [0, -1, 100, i64::MAX, i64::MIN] {
            assert_eq!(
                catalog.price_line("mug", quantity),
                Err(CatalogError::InvalidQuantity(quantity))
            );
        }
    }

    #[test]
    fn prices_a_cart_merging_lines_of_one_article() {
        let catalog = Catalog::bundled();
        let line = |id: &str, quantity| CartLine {
            article_id: id.into(),
            quantity,
        };
        let lines = catalog
            .price_cart(&[line("tote", 1), line("mug", 2), line("mug", 1)])
            .unwrap();
        let summary: Vec<_> = lines
            .iter()
            .map(|l| (l.article_id.as_str(), l.quantity))
            .collect();
        assert_eq!(summary, [("mug", 3), ("tote", 1)]);
        assert_eq!(catalog.price_cart(&[]), Err(CatalogError::EmptyCart));
        assert_eq!(
            catalog.price_cart(&[line("mug", 60), line("mug", 60)]),
            Err(CatalogError::InvalidQuantity(120))
        );
        assert_eq!(
            catalog.price_cart(&vec![line("mug", 1); MAX_CART_LINES + 1]),
            Err(CatalogError::TooManyLines)
        );
    }

    #[test]
    fn demo_has_at_least_three_articles_with_unique_ids() {
        let catalog = Catalog::bundled();
        assert!(catalog.articles().len() >= 3);
        let mut ids: Vec<_> = catalog.articles().iter().map(|a| &a.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), catalog.articles().len());
    }
}
