//! A shop's own catalog, from a TOML file (see `catalog/articles.toml`):
//! checked as a whole when the server starts, every bad entry listed in one
//! error, so that a shop never sells at a wrong price. Parsing is pure: the
//! caller reads the file.

use crate::catalog::{Article, ArticleId, Catalog, VatRate};
use crate::money::{Currency, Money, MoneyError};
use serde::Deserialize;
use std::collections::HashSet;
use std::fmt;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    #[serde(default)]
    article: Vec<ArticleEntry>,
}

/// One `[[article]]` as written, unchecked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ArticleEntry {
    id: String,
    name: String,
    #[serde(default)]
    description: String,
    price: String,
    currency: String,
    vat_rate: String,
    #[serde(default)]
    sku: Option<String>,
    #[serde(default)]
    image: String,
    /// Units to start selling with; absent: not tracked.
    #[serde(default)]
    stock: Option<i64>,
}

/// Everything wrong with a catalog file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CatalogFileError {
    pub problems: Vec<String>,
}

impl fmt::Display for CatalogFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the catalog has {} problem(s):", self.problems.len())?;
        for problem in &self.problems {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

impl Catalog {
    /// The catalog a TOML file describes.
    ///
    /// # Errors
    ///
    /// [`CatalogFileError`] with every problem: not TOML of this shape, no
    /// articles, and per article a malformed or duplicate id, no name, an
    /// unknown currency, a price that is malformed or not above zero, a
    /// VAT rate outside 0–100 %, no image; and articles in more than one
    /// currency.
    pub fn from_toml(text: &str) -> Result<Self, CatalogFileError> {
        let file: CatalogFile = toml::from_str(text).map_err(|e| CatalogFileError {
            problems: vec![format!("not a catalog file: {}", e.message())],
        })?;
        let mut problems = Vec::new();
        if file.article.is_empty() {
            problems.push("no [[article]] entries".to_owned());
        }
        let mut ids = HashSet::new();
        let mut currencies = Vec::new();
        let mut articles = Vec::new();
        for (index, entry) in file.article.into_iter().enumerate() {
            let at = format!("article {} ({:?})", index + 1, entry.id);
            let mut problem = |text: String| problems.push(format!("{at}: {text}"));
            let id = ArticleId::parse(&entry.id);
            if id.is_none() {
                problem("the id must be 1 to 64 letters, digits, - or _".into());
            } else if !ids.insert(entry.id.clone()) {
                problem("the id is used by an earlier article".into());
            }
            if entry.name.trim().is_empty() {
                problem("no name".into());
            }
            let currency = Currency::from_code(&entry.currency);
            match currency {
                None => problem(format!("unknown currency {:?}", entry.currency)),
                Some(c) if !currencies.contains(&c) => currencies.push(c),
                Some(_) => {}
            }
            let price = currency.and_then(|c| match Money::parse_decimal(&entry.price, c) {
                Ok(price) if !price.is_zero() => Some(price),
                Ok(_) | Err(MoneyError::Negative) => {
                    problem(format!("the price {:?} is not above zero", entry.price));
                    None
                }
                Err(_) => {
                    problem(format!(
                        "the price {:?} is not a decimal with {} decimals for {}",
                        entry.price,
                        c.exponent().unwrap_or(0),
                        c.code()
                    ));
                    None
                }
            });
            let vat_rate = VatRate::parse(&entry.vat_rate);
            if vat_rate.is_none() {
                problem(format!(
                    "the VAT rate {:?} is not a percentage from 0 to 100 (\"21.00\")",
                    entry.vat_rate
                ));
            }
            let stock = match entry.stock.map(u32::try_from) {
                None => None,
                Some(Ok(units)) => Some(units),
                Some(Err(_)) => {
                    problem("the stock must be a whole number of units, 0 or more".into());
                    None
                }
            };
            if !entry.image.starts_with('/') {
                problem("no image (a path below the site root, like \"/images/mug.svg\")".into());
            }
            if let (Some(id), Some(price), Some(vat_rate)) = (id, price, vat_rate) {
                articles.push(Article {
                    id,
                    name: entry.name,
                    description: entry.description,
                    price,
                    image: entry.image,
                    vat_rate,
                    sku: entry.sku.filter(|s| !s.trim().is_empty()),
                    stock,
                });
            }
        }
        if currencies.len() > 1 {
            let codes: Vec<_> = currencies.iter().map(|c| c.code()).collect();
            problems.push(format!(
                "the articles are priced in {}: a shop sells in one currency",
                codes.join(" and ")
            ));
        }
        if problems.is_empty() {
            Ok(Self::new(articles))
        } else {
            Err(CatalogFileError { problems })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_file_is_the_demo_shop() {
        let catalog = Catalog::from_toml(crate::catalog::DEFAULT_CATALOG).unwrap();
        let ids: Vec<_> = catalog.articles().iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["mug", "notebook", "tote", "print"]);
        assert_eq!(catalog.find("print").unwrap().stock, Some(25));
        assert_eq!(catalog.find("mug").unwrap().stock, None);
        let mug = catalog.find("mug").unwrap();
        assert_eq!(mug.price, Money::new(1450, Currency::EUR));
        assert_eq!(mug.vat_rate.to_string(), "21.00");
        assert_eq!(mug.sku.as_deref(), Some("PC-MUG-350"));
    }

    #[test]
    fn every_bad_entry_is_listed() {
        let file = r#"
            [[article]]
            id = "mug"
            name = "Mug"
            price = "-1.00"
            currency = "EUR"
            vat_rate = "21.00"
            image = "/images/mug.svg"

            [[article]]
            id = "mug"
            name = ""
            price = "14.5"
            currency = "EUR"
            vat_rate = "121"
            image = ""

            [[article]]
            id = "hat"
            name = "Hat"
            price = "10.00"
            currency = "XXY"
            vat_rate = "0"
            image = "/images/hat.svg"
            stock = -1

            [[article]]
            id = "cap"
            name = "Cap"
            price = "10.00"
            currency = "USD"
            vat_rate = "0"
            image = "/images/cap.svg"
        "#;
        let error = Catalog::from_toml(file).unwrap_err();
        let text = error.to_string();
        for expected in [
            "article 1 (\"mug\"): the price \"-1.00\" is not above zero",
            "article 2 (\"mug\"): the id is used by an earlier article",
            "article 2 (\"mug\"): no name",
            "article 2 (\"mug\"): the price \"14.5\" is not a decimal with 2 decimals for EUR",
            "article 2 (\"mug\"): the VAT rate \"121\" is not a percentage",
            "article 2 (\"mug\"): no image",
            "article 3 (\"hat\"): unknown currency \"XXY\"",
            "article 3 (\"hat\"): the stock must be a whole number of units, 0 or more",
            "the articles are priced in EUR and USD",
        ] {
            assert!(text.contains(expected), "{expected}\nnot in\n{text}");
        }
        assert_eq!(error.problems.len(), 9, "{text}");
    }

    #[test]
    fn a_file_of_another_shape_is_refused_whole() {
        for text in [
            "not toml [",
            "[[article]]\nid = \"mug\"\n",
            "colour = \"red\"",
        ] {
            let error = Catalog::from_toml(text).unwrap_err();
            assert_eq!(error.problems.len(), 1, "{error}");
            assert!(error.to_string().contains("not a catalog file"), "{error}");
        }
        assert!(Catalog::from_toml("")
            .unwrap_err()
            .to_string()
            .contains("no [[article]] entries"));
    }
}
