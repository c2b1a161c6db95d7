//! Ids are types, not strings: each is checked when it is made, from our
//! own generator, from input (`parse`) or from stored or sent data
//! (deserialization goes through `parse` too), so a malformed id never
//! reaches a store key, a provider call or a page.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A text that is not a well-formed id of the kind asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a well-formed {kind}")]
pub struct InvalidId {
    pub kind: &'static str,
}

/// Declares a string id: private field, `parse` by `$valid`, `as_str`,
/// `Display`, and serde that refuses what `parse` refuses.
macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $valid:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String")]
        pub struct $name(String);

        impl $name {
            /// The id, if `text` is well-formed.
            pub fn parse(text: &str) -> Option<Self> {
                let valid: fn(&str) -> bool = $valid;
                valid(text).then(|| Self(text.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;

            fn try_from(text: String) -> Result<Self, InvalidId> {
                let valid: fn(&str) -> bool = $valid;
                if valid(&text) {
                    Ok(Self(text))
                } else {
                    Err(InvalidId { kind: $kind })
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// `prefix` then 32 lowercase hex digits: a UUID v4 in simple form.
fn prefixed_uuid(text: &str, prefix: &str) -> bool {
    text.strip_prefix(prefix).is_some_and(|hex| {
        hex.len() == 32
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// `min..=max` ASCII letters, digits, `-` or `_`.
fn token(text: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

string_id!(
    /// Unguessable (122 random bits): the thank-you page URL is the only key
    /// a shopper has to their order.
    OrderId,
    "order id",
    |text| prefixed_uuid(text, OrderId::PREFIX)
);

impl OrderId {
    pub(crate) const PREFIX: &'static str = "ord_";

    pub fn generate() -> Self {
        Self(format!("{}{}", Self::PREFIX, uuid::Uuid::new_v4().simple()))
    }
}

string_id!(
    /// Our id of one attempt to pay an order. Also the provider idempotency
    /// key of its create call, so a retried create never makes a second
    /// payment.
    AttemptId,
    "payment attempt id",
    |text| prefixed_uuid(text, AttemptId::PREFIX)
);

impl AttemptId {
    const PREFIX: &'static str = "pay_";

    pub fn generate() -> Self {
        Self(format!("{}{}", Self::PREFIX, uuid::Uuid::new_v4().simple()))
    }
}

string_id!(
    /// A checkout submission's idempotency key, made by the page: 16 to 64
    /// letters, digits, `-` or `_`.
    CheckoutKey,
    "checkout key",
    |text| token(text, 16, 64)
);

impl CheckoutKey {
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }
}

string_id!(
    /// An article of the catalog: 1 to 64 letters, digits, `-` or `_`.
    ArticleId,
    "article id",
    |text| token(text, 1, 64)
);

string_id!(
    /// The provider's id of a payment (Mollie: `tr_...`). Checked for form
    /// here; the provider adapter checks its own stricter rule at the edge.
    ProviderPaymentId,
    "provider payment id",
    |text| token(text, 1, 64)
);

string_id!(
    /// Our id of a refund the shop started: also its idempotency key at the
    /// provider and in its metadata, so a refund is made once and found again.
    RefundId,
    "refund id",
    |text| prefixed_uuid(text, RefundId::PREFIX)
);

impl RefundId {
    const PREFIX: &'static str = "rfd_";

    pub fn generate() -> Self {
        Self(format!("{}{}", Self::PREFIX, uuid::Uuid::new_v4().simple()))
    }
}

string_id!(
    /// The provider's id of a refund (Mollie: `re_...`).
    ProviderRefundId,
    "provider refund id",
    |text| token(text, 1, 64)
);

string_id!(
    /// The operator's capture, by the back office's form: the idempotency
    /// key of its create, so a double submit captures once.
    CaptureId,
    "capture id",
    |text| prefixed_uuid(text, CaptureId::PREFIX)
);

impl CaptureId {
    const PREFIX: &'static str = "cap_";

    pub fn generate() -> Self {
        Self(format!("{}{}", Self::PREFIX, uuid::Uuid::new_v4().simple()))
    }
}

string_id!(
    /// The provider's id of a chargeback (Mollie: `chb_...`).
    ProviderChargebackId,
    "provider chargeback id",
    |text| token(text, 1, 64)
);

string_id!(
    /// An event's id, made from what it is about and what happened
    /// (`ord_...:order.paid`): the same change always gets the same id, so
    /// a receiver can drop what it has seen.
    EventId,
    "event id",
    |text| (1..=128).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
);

impl EventId {
    pub(crate) fn of(subject: &str, name: &str) -> Self {
        Self(format!("{subject}:{name}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_and_others_do_not() {
        let order = OrderId::generate();
        assert_eq!(OrderId::parse(order.as_str()), Some(order.clone()));
        let attempt = AttemptId::generate();
        assert_eq!(AttemptId::parse(attempt.as_str()), Some(attempt));
        let key = CheckoutKey::generate();
        assert_eq!(CheckoutKey::parse(key.as_str()), Some(key));
        for bad in [
            "",
            "ord_",
            &order.as_str().to_uppercase(),
            &format!("{order}0"),
            "ord_0000000000000000000000000000000g",
            "pay_00000000000000000000000000000000",
        ] {
            assert_eq!(OrderId::parse(bad), None, "{bad}");
        }
        assert_eq!(CheckoutKey::parse("short"), None);
        assert_eq!(ArticleId::parse("mug; drop"), None);
        assert_eq!(ProviderPaymentId::parse(&"x".repeat(65)), None);
    }

    #[test]
    fn deserializing_refuses_what_parse_refuses() {
        let order = OrderId::generate();
        let json = serde_json::to_string(&order).unwrap();
        assert_eq!(json, format!("\"{order}\""));
        assert_eq!(serde_json::from_str::<OrderId>(&json).unwrap(), order);
        let error = serde_json::from_str::<OrderId>("\"ord_1\"").unwrap_err();
        assert!(error.to_string().contains("not a well-formed order id"));
        assert!(serde_json::from_str::<ArticleId>("\"a b\"").is_err());
    }
}
