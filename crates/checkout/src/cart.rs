//! The shopper's cart before checkout: article ids and quantities only (the
//! catalog prices them). It lives in a cookie, so it survives reloads and
//! works without JavaScript; the cookie is untrusted input.

use crate::catalog::{CartLine, Catalog, CatalogError, MAX_CART_LINES, MAX_QUANTITY};
use crate::money::Money;
use crate::order::OrderLine;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cart {
    lines: Vec<CartLine>,
}

/// A cart priced by the catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PricedCart {
    pub lines: Vec<OrderLine>,
    pub total: Option<Money>,
    /// Articles in the cookie the catalog no longer has (dropped).
    pub unavailable: Vec<String>,
}

impl Cart {
    pub fn lines(&self) -> &[CartLine] {
        &self.lines
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// `mug.2-tote.1`; whatever does not parse is left out.
    pub fn from_cookie(value: &str) -> Self {
        let mut cart = Self::default();
        for entry in value.split('-').take(MAX_CART_LINES) {
            let Some((article_id, quantity)) = entry.split_once('.') else {
                continue;
            };
            let Ok(quantity) = quantity.parse::<u32>() else {
                continue;
            };
            let valid_id = !article_id.is_empty()
                && article_id.len() <= 64
                && article_id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if valid_id && (1..=MAX_QUANTITY).contains(&quantity) {
                let _ = cart.set(article_id, i64::from(quantity));
            }
        }
        cart
    }

    pub fn to_cookie(&self) -> String {
        self.lines
            .iter()
            .map(|l| format!("{}.{}", l.article_id, l.quantity))
            .collect::<Vec<_>>()
            .join("-")
    }

    /// Adds `quantity` of an article the catalog sells.
    ///
    /// # Errors
    ///
    /// What [`Catalog::price_line`] refuses for the new quantity; the cart is
    /// then unchanged.
    pub fn add(
        &mut self,
        catalog: &Catalog,
        article_id: &str,
        quantity: i64,
    ) -> Result<(), CatalogError> {
        let current = self.quantity_of(article_id);
        self.set_checked(catalog, article_id, current.saturating_add(quantity))
    }

    /// Sets the quantity of an article; 0 removes it.
    ///
    /// # Errors
    ///
    /// What [`Catalog::price_line`] refuses for the quantity; the cart is then
    /// unchanged.
    pub fn update(
        &mut self,
        catalog: &Catalog,
        article_id: &str,
        quantity: i64,
    ) -> Result<(), CatalogError> {
        if quantity == 0 {
            self.lines.retain(|l| l.article_id != article_id);
            return Ok(());
        }
        self.set_checked(catalog, article_id, quantity)
    }

    fn quantity_of(&self, article_id: &str) -> i64 {
        self.lines
            .iter()
            .find(|l| l.article_id == article_id)
            .map_or(0, |l| l.quantity)
    }

    fn set_checked(
        &mut self,
        catalog: &Catalog,
        article_id: &str,
        quantity: i64,
    ) -> Result<(), CatalogError> {
        // Validates the article and the quantity like checkout will.
        catalog.price_line(article_id, quantity)?;
        self.set(article_id, quantity)
    }

    fn set(&mut self, article_id: &str, quantity: i64) -> Result<(), CatalogError> {
        if let Some(line) = self.lines.iter_mut().find(|l| l.article_id == article_id) {
            line.quantity = quantity;
        } else if self.lines.len() >= MAX_CART_LINES {
            return Err(CatalogError::TooManyLines);
        } else {
            self.lines.push(CartLine {
                article_id: article_id.to_owned(),
                quantity,
            });
        }
        Ok(())
    }

    /// Prices what the catalog still sells; drops (and reports) the rest.
    pub fn remove_unsold_and_price(&mut self, catalog: &Catalog) -> PricedCart {
        let mut unavailable = Vec::new();
        self.lines.retain(|l| {
            let sold = catalog.price_line(&l.article_id, l.quantity).is_ok();
            if !sold {
                unavailable.push(l.article_id.clone());
            }
            sold
        });
        let lines = if self.lines.is_empty() {
            Vec::new()
        } else {
            catalog.price_cart(&self.lines).unwrap_or_default()
        };
        let total = lines.split_first().and_then(|(first, rest)| {
            rest.iter()
                .try_fold(first.line_total, |sum, l| sum.checked_add(l.line_total))
                .ok()
        });
        PricedCart {
            lines,
            total,
            unavailable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    #[test]
    fn round_trips_through_the_cookie_and_ignores_garbage() {
        let catalog = Catalog::bundled();
        let mut cart = Cart::default();
        cart.add(&catalog, "mug", 2).unwrap();
        cart.add(&catalog, "tote", 1).unwrap();
        cart.add(&catalog, "mug", 1).unwrap();
        assert_eq!(cart.to_cookie(), "mug.3-tote.1");
        assert_eq!(Cart::from_cookie(&cart.to_cookie()), cart);
        let garbage = Cart::from_cookie("mug.2-<script>.1-tote.x-notebook.0-..-bag.100-pen.5");
        assert_eq!(garbage.to_cookie(), "mug.2-pen.5");
    }

    #[test]
    fn refuses_what_checkout_would_refuse() {
        let catalog = Catalog::bundled();
        let mut cart = Cart::default();
        assert_eq!(
            cart.add(&catalog, "unicorn", 1),
            Err(CatalogError::UnknownArticle("unicorn".into()))
        );
        assert_eq!(
            cart.add(&catalog, "mug", 0),
            Err(CatalogError::InvalidQuantity(0))
        );
        cart.add(&catalog, "mug", 99).unwrap();
        assert_eq!(
            cart.add(&catalog, "mug", 1),
            Err(CatalogError::InvalidQuantity(100))
        );
        assert_eq!(
            cart.update(&catalog, "mug", -1),
            Err(CatalogError::InvalidQuantity(-1))
        );
        cart.update(&catalog, "mug", 0).unwrap();
        assert!(cart.is_empty());
    }

    #[test]
    fn prices_with_the_catalog_and_drops_what_it_no_longer_sells() {
        let catalog = Catalog::bundled();
        let mut cart = Cart::from_cookie("mug.2-discontinued.1-tote.1");
        let priced = cart.remove_unsold_and_price(&catalog);
        assert_eq!(
            priced.total,
            Some(Money::new(2 * 1450 + 1800, Currency::EUR))
        );
        assert_eq!(priced.unavailable, vec!["discontinued".to_owned()]);
        assert_eq!(cart.to_cookie(), "mug.2-tote.1");
        assert_eq!(
            Cart::default().remove_unsold_and_price(&catalog).total,
            None
        );
    }
}
