//! Mollie's resource ids as types: each is its prefix (`tr_`, `re_`) and 1
//! or more ASCII letters and digits, at most 64 characters in all. They are
//! checked when made (`parse`, deserialization), so only a well-formed id
//! goes into a URL path.

use checkout::{InvalidId, ProviderPaymentId};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The longest id we take, prefix included: what the domain's provider ids
/// hold, so every Mollie id maps onto one.
const MAX_LEN: usize = 64;

/// `prefix` then 1 or more ASCII letters and digits, at most [`MAX_LEN`] in all.
fn is_resource_id(text: &str, prefix: &str) -> bool {
    text.len() <= MAX_LEN
        && text
            .strip_prefix(prefix)
            .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Declares a Mollie id: private field, `parse` (and `FromStr`) by the
/// prefix rule, `as_str`, `Display`, and serde as the string, refusing
/// what `parse` refuses.
macro_rules! mollie_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// # Errors
            ///
            /// [`InvalidId`] for a text not of the id's form.
            pub fn parse(text: &str) -> Result<Self, InvalidId> {
                Self::try_from(text.to_owned())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;

            fn from_str(text: &str) -> Result<Self, InvalidId> {
                Self::parse(text)
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;

            fn try_from(text: String) -> Result<Self, InvalidId> {
                if is_resource_id(&text, Self::PREFIX) {
                    Ok(Self(text))
                } else {
                    Err(InvalidId { kind: $kind })
                }
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

mollie_id!(
    /// A payment's id (`tr_...`).
    PaymentId,
    "tr_",
    "Mollie payment id"
);

mollie_id!(
    /// A refund's id (`re_...`).
    RefundId,
    "re_",
    "Mollie refund id"
);

/// The domain's id of a Mollie payment. Every [`PaymentId`] is one: both
/// rules take letters, digits and `_`, up to [`MAX_LEN`] characters.
impl From<PaymentId> for ProviderPaymentId {
    fn from(id: PaymentId) -> Self {
        ProviderPaymentId::parse(id.as_str())
            .expect("a Mollie payment id is a well-formed provider payment id")
    }
}

/// The Mollie id of a domain's provider payment id, if it is of Mollie's form.
impl TryFrom<&ProviderPaymentId> for PaymentId {
    type Error = InvalidId;

    fn try_from(id: &ProviderPaymentId) -> Result<Self, InvalidId> {
        Self::parse(id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_ids_are_tr_and_letters_and_digits() {
        for good in ["tr_7UhSN1zuXS", "tr_a", &format!("tr_{}", "9".repeat(61))] {
            let id = PaymentId::parse(good).unwrap();
            assert_eq!((id.as_str(), id.to_string()), (good, good.to_owned()));
            assert_eq!(good.parse::<PaymentId>(), Ok(id));
        }
        for bad in [
            "",
            "tr_",
            "tr",
            "re_7UhSN1zuXS",
            "TR_7UhSN1zuXS",
            "7UhSN1zuXS",
            &format!("tr_{}", "9".repeat(62)),
            "tr_7UhSN1zu-XS",
            "tr_7UhSN1zu_XS",
            "tr_../../v2/methods",
            "tr_abc?x=1",
            "tr_abc def",
            "tr_ébc",
        ] {
            let error = PaymentId::parse(bad).unwrap_err();
            assert_eq!(error.to_string(), "not a well-formed Mollie payment id");
        }
        assert!(RefundId::parse("re_4qqhO89gsT").is_ok());
        assert!(RefundId::parse("tr_4qqhO89gsT").is_err());
    }

    #[test]
    fn ids_are_strings_on_the_wire_and_refused_as_parse_refuses() {
        let id = PaymentId::parse("tr_7UhSN1zuXS").unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"tr_7UhSN1zuXS\"");
        assert_eq!(serde_json::from_str::<PaymentId>(&json).unwrap(), id);
        for bad in ["\"\"", "\"re_7UhSN1zuXS\"", "\"tr_a/b\"", "17"] {
            assert!(serde_json::from_str::<PaymentId>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_payment_id_is_a_provider_payment_id() {
        let longest = PaymentId::parse(&format!("tr_{}", "z".repeat(MAX_LEN - 3))).unwrap();
        let provider = ProviderPaymentId::from(longest.clone());
        assert_eq!(provider.as_str(), longest.as_str());
        assert_eq!(PaymentId::try_from(&provider), Ok(longest));
        let other = ProviderPaymentId::parse("pay-1").unwrap();
        assert!(PaymentId::try_from(&other).is_err());
    }
}
