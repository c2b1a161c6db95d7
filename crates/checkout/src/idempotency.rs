//! Checkout submissions are idempotent: each carries a key, generated into
//! the form when the page renders. The first submission with a key creates
//! the order; every later one (double click, browser retry, another tab)
//! gets that same order back.

use crate::order::{OrderId, OrderLine};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// How long a key is remembered.
pub const CHECKOUT_KEY_TTL: Duration = Duration::hours(24);

pub use crate::ids::CheckoutKey;

/// What a key was first used for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutRecord {
    pub key: CheckoutKey,
    pub order_id: OrderId,
    /// The priced cart, so that a key replayed with another cart is refused.
    pub cart_fingerprint: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

impl CheckoutRecord {
    pub fn new(
        key: CheckoutKey,
        order_id: OrderId,
        lines: &[OrderLine],
        now: OffsetDateTime,
    ) -> Self {
        Self {
            key,
            order_id,
            cart_fingerprint: cart_fingerprint(lines),
            // Whole seconds: DynamoDB's TTL attribute has no finer unit.
            expires_at: (now + CHECKOUT_KEY_TTL)
                .replace_nanosecond(0)
                .expect("0 is a valid nanosecond"),
        }
    }

    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        now >= self.expires_at
    }
}

/// "mug:2,tote:1" for lines sorted by article (as `Catalog::price_cart` makes them).
pub fn cart_fingerprint(lines: &[OrderLine]) -> String {
    lines
        .iter()
        .map(|l| format!("{}:{}", l.article_id, l.quantity))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked() {
        let key = CheckoutKey::generate();
        assert_eq!(CheckoutKey::parse(key.as_str()), Some(key));
        for bad in [
            "",
            "short",
            "has spaces in it here",
            "<script>alert(1)</script>",
            &"x".repeat(65),
        ] {
            assert_eq!(CheckoutKey::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn records_expire_after_a_day() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let record = CheckoutRecord::new(CheckoutKey::generate(), OrderId::generate(), &[], now);
        assert!(!record.is_expired(now + Duration::hours(23)));
        assert!(record.is_expired(now + Duration::hours(24)));
    }
}
