//! The articles the shop sells. Prices live only here, on the server: the
//! browser sends an article id and a quantity, never a price.

use crate::money::{Currency, Money};
use crate::order::OrderLine;
use serde::{Deserialize, Serialize};

/// Most of one article a single order may hold.
pub const MAX_QUANTITY: u32 = 99;

pub use crate::ids::ArticleId;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Article {
    pub id: ArticleId,
    pub name: String,
    pub description: String,
    pub price: Money,
    /// Path of the picture below the site root, e.g. `/images/mug.svg`.
    pub image: String,
}

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

    /// The demo shop's articles.
    pub fn demo() -> Self {
        let article = |id: &str, name: &str, description: &str, cents: i64| Article {
            id: ArticleId::parse(id).expect("a well-formed demo article id"),
            name: name.into(),
            description: description.into(),
            price: Money::new(cents, Currency::EUR),
            image: format!("/images/{id}.svg"),
        };
        Self::new(vec![
            article(
                "mug",
                "Stoneware mug",
                "Hand-glazed, 350 ml, dishwasher safe.",
                1450,
            ),
            article(
                "notebook",
                "Dot-grid notebook",
                "A5, 160 pages of 100 g/m² paper, lies flat.",
                1295,
            ),
            article(
                "tote",
                "Canvas tote bag",
                "Heavy organic cotton with a long strap.",
                1800,
            ),
        ])
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
            .ok_or(CatalogError::TotalTooLarge)?;
        Ok(OrderLine {
            article_id: article.id.clone(),
            name: article.name.clone(),
            quantity,
            unit_price: article.price,
            line_total,
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

    #[test]
    fn prices_a_known_article_from_the_catalog() {
        let line = Catalog::demo().price_line("mug", 3).unwrap();
        assert_eq!(line.quantity, 3);
        assert_eq!(line.unit_price, Money::new(1450, Currency::EUR));
        assert_eq!(line.line_total, Money::new(4350, Currency::EUR));
    }

    #[test]
    fn rejects_unknown_articles_and_bad_quantities() {
        let catalog = Catalog::demo();
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
        let catalog = Catalog::demo();
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
        let catalog = Catalog::demo();
        assert!(catalog.articles().len() >= 3);
        let mut ids: Vec<_> = catalog.articles().iter().map(|a| &a.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), catalog.articles().len());
    }
}
