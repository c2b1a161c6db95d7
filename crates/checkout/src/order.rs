//! Orders: what the shopper buys. An order owns its payment attempts and
//! its status is derived from them, never stored.

use crate::contact::EmailAddress;
use crate::ids::ArticleId;
use crate::money::Money;
use crate::payment::{PaymentAttempt, PaymentStatus};
use crate::vat::VatRate;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use crate::ids::OrderId;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderLine {
    pub article_id: ArticleId,
    /// The article's name when it was bought.
    pub name: String,
    pub quantity: u32,
    pub unit_price: Money,
    pub line_total: Money,
    /// The article's VAT rate when it was bought (none when its catalog
    /// entry had none).
    pub vat_rate: Option<VatRate>,
    pub sku: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    id: OrderId,
    lines: Vec<OrderLine>,
    total: Money,
    created_at: OffsetDateTime,
    /// Bumped whenever an attempt is added, so that two attempts can never
    /// be started at once (every add is conditional on it).
    version: u64,
    /// Where the order's messages go; `None` once erased (or for an order
    /// taken before the shop asked for one).
    shopper_email: Option<EmailAddress>,
}

/// Every field of an order, for a store to keep and give back unchanged
/// ([`Order::to_parts`], [`Order::from_parts`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderParts {
    pub id: OrderId,
    pub lines: Vec<OrderLine>,
    pub total: Money,
    pub created_at: OffsetDateTime,
    pub version: u64,
    pub shopper_email: Option<EmailAddress>,
}

impl Order {
    /// `None` when the lines are empty or their total does not fit.
    pub fn new(
        lines: Vec<OrderLine>,
        shopper_email: EmailAddress,
        now: OffsetDateTime,
    ) -> Option<Self> {
        let (first, rest) = lines.split_first()?;
        let total = rest
            .iter()
            .try_fold(first.line_total, |sum, line| {
                sum.checked_add(line.line_total)
            })
            .ok()?;
        Some(Self {
            id: OrderId::generate(),
            lines,
            total,
            created_at: now,
            version: 1,
            shopper_email: Some(shopper_email),
        })
    }

    /// What a store keeps of it.
    pub fn to_parts(&self) -> OrderParts {
        let Self {
            id,
            lines,
            total,
            created_at,
            version,
            shopper_email,
        } = self.clone();
        OrderParts {
            id,
            lines,
            total,
            created_at,
            version,
            shopper_email,
        }
    }

    /// The order a store kept, as [`Self::to_parts`] gave it.
    pub fn from_parts(parts: OrderParts) -> Self {
        let OrderParts {
            id,
            lines,
            total,
            created_at,
            version,
            shopper_email,
        } = parts;
        Self {
            id,
            lines,
            total,
            created_at,
            version,
            shopper_email,
        }
    }

    pub fn id(&self) -> &OrderId {
        &self.id
    }

    pub fn lines(&self) -> &[OrderLine] {
        &self.lines
    }

    pub fn total(&self) -> Money {
        self.total
    }

    pub fn created_at(&self) -> OffsetDateTime {
        self.created_at
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn shopper_email(&self) -> Option<&EmailAddress> {
        self.shopper_email.as_ref()
    }

    /// The order without the shopper's personal data (the operator erased
    /// it); true when there was any to erase.
    pub fn erase_personal_data(&mut self) -> bool {
        self.shopper_email.take().is_some()
    }

    /// The order to write with a new attempt: the next version, written
    /// conditionally on this one, so two attempts never start at once.
    pub fn for_new_attempt(&self) -> Self {
        Self {
            version: self.version + 1,
            ..self.clone()
        }
    }

    /// One line for the provider's payment description.
    pub fn description(&self) -> String {
        let short_id = &self.id.as_str()[OrderId::PREFIX.len()..][..8];
        format!("Order {short_id}")
    }
}

/// What the shopper is told about an order, derived from its attempts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// No attempt has reached the provider yet, or one is open.
    AwaitingPayment,
    /// The provider is processing a payment (pending, authorized).
    PaymentPending,
    Paid,
    /// The shopper's money is reserved (authorized, manual capture): the
    /// operator captures it when shipping, or releases it.
    AwaitingCapture,
    /// The latest attempt failed, was canceled or expired: the shopper may
    /// try again on the same order.
    PaymentFailed(PaymentStatus),
}

impl OrderStatus {
    /// Any attempt that took money makes the order paid, even an earlier
    /// one, even one we had given up (the shopper was charged and must not
    /// be asked to pay again); otherwise the newest attempt decides.
    pub fn derive(attempts: &[PaymentAttempt]) -> Self {
        if attempts.iter().any(PaymentAttempt::has_taken_money) {
            return Self::Paid;
        }
        let newest = attempts.iter().max_by_key(|a| a.created_at());
        if newest.is_some_and(PaymentAttempt::awaits_capture) {
            return Self::AwaitingCapture;
        }
        match newest.map(|a| a.status()) {
            None | Some(PaymentStatus::Created | PaymentStatus::Open) => Self::AwaitingPayment,
            Some(PaymentStatus::Pending | PaymentStatus::Authorized) => Self::PaymentPending,
            Some(PaymentStatus::Paid) => Self::Paid,
            Some(
                status @ (PaymentStatus::Failed | PaymentStatus::Canceled | PaymentStatus::Expired),
            ) => Self::PaymentFailed(status),
        }
    }

    /// Nothing more will happen without the shopper acting.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Paid | Self::AwaitingCapture | Self::PaymentFailed(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Catalog, Currency};
    use time::Duration;

    fn shopper() -> EmailAddress {
        EmailAddress::parse("ann@example.com").unwrap()
    }

    fn attempt(status: PaymentStatus, minute: i64) -> PaymentAttempt {
        let mut a = PaymentAttempt::new(
            OrderId::generate(),
            Money::new(100, Currency::EUR),
            OffsetDateTime::UNIX_EPOCH + Duration::minutes(minute),
        );
        a.observe(status);
        a
    }

    #[test]
    fn order_ids_are_unguessable_and_strictly_parsed() {
        let id = OrderId::generate();
        assert_eq!(OrderId::parse(id.as_str()), Some(id.clone()));
        assert_ne!(id, OrderId::generate());
        for bad in [
            "",
            "ord_",
            "ord_123",
            "x",
            "../etc/passwd",
            &id.as_str().to_uppercase(),
            &format!("{id}0"),
        ] {
            assert_eq!(OrderId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn total_is_the_sum_of_the_lines() {
        let catalog = Catalog::bundled();
        let lines = vec![
            catalog.price_line("mug", 2).unwrap(),
            catalog.price_line("tote", 1).unwrap(),
        ];
        let order = Order::new(lines, shopper(), OffsetDateTime::UNIX_EPOCH).unwrap();
        assert_eq!(order.total, Money::new(2 * 1450 + 1800, Currency::EUR));
        assert!(Order::new(vec![], shopper(), OffsetDateTime::UNIX_EPOCH).is_none());
    }

    #[test]
    fn status_is_derived_from_the_attempts() {
        use PaymentStatus::*;
        assert_eq!(OrderStatus::derive(&[]), OrderStatus::AwaitingPayment);
        assert_eq!(
            OrderStatus::derive(&[attempt(Open, 0)]),
            OrderStatus::AwaitingPayment
        );
        assert_eq!(
            OrderStatus::derive(&[attempt(Pending, 0)]),
            OrderStatus::PaymentPending
        );
        assert_eq!(
            OrderStatus::derive(&[attempt(Paid, 0), attempt(Failed, 1)]),
            OrderStatus::Paid
        );
        assert_eq!(
            OrderStatus::derive(&[attempt(Failed, 0), attempt(Open, 1)]),
            OrderStatus::AwaitingPayment
        );
        assert_eq!(
            OrderStatus::derive(&[attempt(Open, 0), attempt(Expired, 1)]),
            OrderStatus::PaymentFailed(Expired)
        );
        let mut paid_late = attempt(Expired, 1);
        paid_late.record_incident(
            crate::IncidentKind::PaidAfterGivenUp,
            OffsetDateTime::UNIX_EPOCH,
        );
        assert_eq!(
            OrderStatus::derive(&[attempt(Failed, 0), paid_late]),
            OrderStatus::Paid
        );
    }
}
