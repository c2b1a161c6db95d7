//! A payment method, by Mollie's id (`ideal`, `creditcard`, ...).

use serde::{Deserialize, Serialize};
use std::fmt;

/// Declares [`Method`]: a variant per id Mollie documents, and `Other` for
/// the rest.
macro_rules! methods {
    ($($(#[$doc:meta])* $variant:ident => $id:literal, $name:literal,)*) => {
        /// A payment method, as Mollie names it on the wire (`method` of a
        /// payment, `id` of the methods list). Ids Mollie adds later are
        /// [`Method::Other`], so reading a payment never fails on one.
        #[derive(Clone, Debug, Serialize, Deserialize)]
        #[serde(from = "String", into = "String")]
        pub enum Method {
            $($(#[$doc])* $variant,)*
            /// An id not listed above, as Mollie sent it.
            Other(String),
        }

        impl Method {
            /// The method of Mollie's id `id` (`Other` for one not listed).
            pub fn from_id(id: &str) -> Self {
                match id {
                    $($id => Self::$variant,)*
                    other => Self::Other(other.to_owned()),
                }
            }

            /// Its name for people, as Mollie's dashboard writes it (the
            /// id for one not listed).
            pub fn name(&self) -> &str {
                match self {
                    $(Self::$variant => $name,)*
                    Self::Other(id) => id,
                }
            }

            /// Mollie's id of the method.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $id,)*
                    Self::Other(id) => id,
                }
            }
        }
    };
}

// docs.mollie.com/reference/create-payment, `method`.
methods! {
    Alma => "alma", "Alma",
    ApplePay => "applepay", "Apple Pay",
    Bacs => "bacs", "Bacs Direct Debit",
    BancomatPay => "bancomatpay", "BANCOMAT Pay",
    Bancontact => "bancontact", "Bancontact",
    BankTransfer => "banktransfer", "Bank transfer",
    Belfius => "belfius", "Belfius Pay Button",
    Billie => "billie", "Billie",
    Bizum => "bizum", "Bizum",
    Blik => "blik", "BLIK",
    CreditCard => "creditcard", "Card",
    DirectDebit => "directdebit", "SEPA Direct Debit",
    Eps => "eps", "EPS",
    GiftCard => "giftcard", "Gift card",
    Ideal => "ideal", "iDEAL",
    In3 => "in3", "iDEAL in3",
    Kbc => "kbc", "KBC/CBC Payment Button",
    Klarna => "klarna", "Klarna",
    MbWay => "mbway", "MB Way",
    Multibanco => "multibanco", "Multibanco",
    MyBank => "mybank", "MyBank",
    PayByBank => "paybybank", "Pay by Bank",
    PayPal => "paypal", "PayPal",
    Paysafecard => "paysafecard", "paysafecard",
    PointOfSale => "pointofsale", "Point of sale",
    Przelewy24 => "przelewy24", "Przelewy24",
    Riverty => "riverty", "Riverty",
    Satispay => "satispay", "Satispay",
    Swish => "swish", "Swish",
    Trustly => "trustly", "Trustly",
    Twint => "twint", "TWINT",
    Voucher => "voucher", "Voucher",
}

/// By id: `Other("ideal")`, made by hand, is [`Method::Ideal`].
impl PartialEq for Method {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Method {}

impl std::hash::Hash for Method {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl From<String> for Method {
    fn from(id: String) -> Self {
        match Self::from_id(&id) {
            Self::Other(_) => Self::Other(id),
            known => known,
        }
    }
}

impl From<Method> for String {
    fn from(method: Method) -> String {
        match method {
            Method::Other(id) => id,
            known => known.as_str().to_owned(),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_methods_are_their_lowercase_ids() {
        assert_eq!(Method::from_id("ideal"), Method::Ideal);
        assert!(matches!(Method::from_id("creditcard"), Method::CreditCard));
        assert_eq!(
            serde_json::to_string(&Method::ApplePay).unwrap(),
            "\"applepay\""
        );
        let read: Method = serde_json::from_str("\"przelewy24\"").unwrap();
        assert!(matches!(read, Method::Przelewy24));
        assert_eq!(Method::Other("ideal".into()), Method::Ideal);
    }

    #[test]
    fn an_unknown_method_reads_as_other_and_writes_back_unchanged() {
        let read: Method = serde_json::from_str("\"paybyfax\"").unwrap();
        assert_eq!(read, Method::Other("paybyfax".into()));
        assert!(matches!(&read, Method::Other(id) if id == "paybyfax"));
        assert_eq!(serde_json::to_string(&read).unwrap(), "\"paybyfax\"");
        // Ids are case sensitive: Mollie's are lowercase.
        let upper: Method = serde_json::from_str("\"IDEAL\"").unwrap();
        assert!(matches!(&upper, Method::Other(id) if id == "IDEAL"));
    }

    #[test]
    fn a_method_has_a_name_for_people_and_an_unknown_one_its_id() {
        assert_eq!(Method::Ideal.name(), "iDEAL");
        assert_eq!(Method::CreditCard.name(), "Card");
        assert_eq!(Method::from_id("paybyfax").name(), "paybyfax");
    }
}
