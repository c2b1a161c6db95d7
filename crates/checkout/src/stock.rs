//! Stock: how many units of an article can still be sold. An article with
//! no stock level is not tracked (sells without limit).
//!
//! A payment attempt holds the units of its order's tracked lines from the
//! write that records it (checkout, pay again) until it ends unpaid; then
//! the write that records the end gives them back. A paid attempt keeps
//! them: they are sold (a refund does not restock by itself). Every move
//! is made by the store in the same conditional write as the attempt's
//! change, so a move happens exactly when its change does.

use crate::ids::ArticleId;
use crate::order::OrderLine;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// Units of one article.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Units {
    pub article_id: ArticleId,
    pub quantity: u32,
}

/// Where an attempt's units are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldState {
    /// Taken from the stock for this attempt (reserved, or sold once paid).
    Held,
    /// Given back: the attempt ended unpaid.
    Released,
    /// Paid after they were given back, and the stock no longer had them:
    /// sold twice, for the operator to resolve.
    Oversold,
}

impl HoldState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Held => "held",
            Self::Released => "released",
            Self::Oversold => "oversold",
        }
    }
}

/// The units an attempt holds, and where they are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StockHold {
    /// Never empty: an order without tracked lines has no hold.
    pub units: Vec<Units>,
    pub state: HoldState,
}

/// A change to the stock levels that the store makes in the same write as
/// the attempt's change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StockMove {
    /// Take the units, only if that many are available; otherwise the whole
    /// write is refused (`StoreError::SoldOut`).
    Take(Units),
    /// Give the units back.
    GiveBack(Units),
}

/// The moves that take every unit of `hold` (a new attempt's).
pub fn take_all(hold: Option<&StockHold>) -> Vec<StockMove> {
    hold.filter(|h| h.state == HoldState::Held)
        .map(|h| h.units.iter().cloned().map(StockMove::Take).collect())
        .unwrap_or_default()
}

/// The moves a change of an attempt's hold from `before` to `after` makes.
pub fn moves_of_change(before: Option<&StockHold>, after: Option<&StockHold>) -> Vec<StockMove> {
    let (Some(before), Some(after)) = (before, after) else {
        return Vec::new();
    };
    let units = after.units.iter().cloned();
    match (before.state, after.state) {
        (HoldState::Held, HoldState::Released) => units.map(StockMove::GiveBack).collect(),
        (HoldState::Released, HoldState::Held) => units.map(StockMove::Take).collect(),
        _ => Vec::new(),
    }
}

/// An operator's setting of a level, as the stock log keeps it: written
/// with the level, only over the level it was read with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockSetting {
    pub article_id: ArticleId,
    /// The level it replaced (`None`: the article was not tracked).
    pub previous: Option<u32>,
    pub available: u32,
    pub operator: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// The stock of the tracked articles among some, as read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StockLevels(BTreeMap<ArticleId, u32>);

/// Not enough of an article for an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shortfall {
    /// The article's name, as the order has it.
    pub name: String,
    pub available: u32,
}

impl StockLevels {
    pub fn new(levels: impl IntoIterator<Item = (ArticleId, u32)>) -> Self {
        Self(levels.into_iter().collect())
    }

    /// Units of `article` that can still be sold; `None`: not tracked.
    pub fn available(&self, article: &ArticleId) -> Option<u32> {
        self.0.get(article).copied()
    }

    /// The first of `lines` that asks for more than is available.
    pub fn shortfall(&self, lines: &[OrderLine]) -> Option<Shortfall> {
        lines.iter().find_map(|line| {
            let available = self.available(&line.article_id)?;
            (line.quantity > available).then(|| Shortfall {
                name: line.name.clone(),
                available,
            })
        })
    }

    /// What an attempt to pay for `lines` holds: the tracked lines' units
    /// (`None` when no line is tracked).
    pub fn hold_for(&self, lines: &[OrderLine]) -> Option<StockHold> {
        let units: Vec<Units> = lines
            .iter()
            .filter(|line| self.available(&line.article_id).is_some())
            .map(|line| Units {
                article_id: line.article_id.clone(),
                quantity: line.quantity,
            })
            .collect();
        (!units.is_empty()).then_some(StockHold {
            units,
            state: HoldState::Held,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Catalog;

    fn levels() -> StockLevels {
        StockLevels::new([(ArticleId::parse("mug").unwrap(), 2)])
    }

    #[test]
    fn only_tracked_lines_are_held_and_checked() {
        let catalog = Catalog::bundled();
        let lines = vec![
            catalog.price_line("mug", 2).unwrap(),
            catalog.price_line("tote", 50).unwrap(),
        ];
        assert_eq!(levels().shortfall(&lines), None);
        let hold = levels().hold_for(&lines).unwrap();
        assert_eq!(hold.units.len(), 1);
        assert_eq!(hold.units[0].quantity, 2);
        assert_eq!(hold.state, HoldState::Held);
        let untracked = vec![catalog.price_line("tote", 1).unwrap()];
        assert_eq!(levels().hold_for(&untracked), None);
    }

    #[test]
    fn more_than_available_is_a_shortfall_naming_the_article() {
        let catalog = Catalog::bundled();
        let lines = vec![catalog.price_line("mug", 3).unwrap()];
        let short = levels().shortfall(&lines).unwrap();
        assert_eq!(short.available, 2);
        assert_eq!(short.name, lines[0].name);
    }

    #[test]
    fn a_hold_moves_stock_only_when_its_state_changes() {
        let hold = |state| StockHold {
            units: vec![Units {
                article_id: ArticleId::parse("mug").unwrap(),
                quantity: 2,
            }],
            state,
        };
        let (held, released) = (hold(HoldState::Held), hold(HoldState::Released));
        assert!(matches!(
            moves_of_change(Some(&held), Some(&released)).as_slice(),
            [StockMove::GiveBack(u)] if u.quantity == 2
        ));
        assert!(matches!(
            moves_of_change(Some(&released), Some(&held)).as_slice(),
            [StockMove::Take(_)]
        ));
        assert!(moves_of_change(Some(&held), Some(&held)).is_empty());
        assert!(moves_of_change(Some(&released), Some(&hold(HoldState::Oversold))).is_empty());
        assert!(moves_of_change(None, None).is_empty());
        assert_eq!(take_all(Some(&held)).len(), 1);
        assert!(take_all(Some(&released)).is_empty());
    }
}
