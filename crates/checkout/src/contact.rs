//! The shopper's contact: personal data. Its type never prints itself
//! (`Debug` and `Display` hide it, as the API key's do), so no log line,
//! error or panic message can carry it; code that needs the address asks
//! for it by name ([`EmailAddress::expose`]).

use std::fmt;

/// The longest address accepted (RFC 5321's path limit).
pub const MAX_EMAIL_CHARS: usize = 254;

/// A shopper's e-mail address, checked as RFC 5322 writes one, with a
/// domain that has a dot (mail to `user@localhost` goes nowhere).
#[derive(Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailAddressError {
    #[error("the e-mail address is empty")]
    Empty,
    #[error("the e-mail address is too long")]
    TooLong,
    #[error("that is not an e-mail address")]
    Malformed,
}

impl EmailAddress {
    /// The address as typed, without surrounding spaces.
    ///
    /// # Errors
    ///
    /// [`EmailAddressError`] when it is empty, too long, or not an address.
    pub fn parse(input: &str) -> Result<Self, EmailAddressError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(EmailAddressError::Empty);
        }
        if input.chars().count() > MAX_EMAIL_CHARS {
            return Err(EmailAddressError::TooLong);
        }
        // Only the bare form: no display name, no comments.
        let options = email_address::Options::default()
            .without_display_text()
            .without_domain_literal();
        let parsed = email_address::EmailAddress::parse_with_options(input, options)
            .map_err(|_| EmailAddressError::Malformed)?;
        if !parsed.domain().contains('.') || parsed.email() != input {
            return Err(EmailAddressError::Malformed);
        }
        Ok(Self(input.to_owned()))
    }

    /// The address itself: for the message that goes to it, the back
    /// office's order page and the store. Never for a log.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EmailAddress(<hidden>)")
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<e-mail address>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_people_type_are_taken_and_others_refused() {
        for ok in [
            "ann@example.com",
            " ann.b+shop@mail.example.nl ",
            "o'neil@example.ie",
        ] {
            assert_eq!(EmailAddress::parse(ok).unwrap().expose(), ok.trim(), "{ok}");
        }
        assert_eq!(EmailAddress::parse("  "), Err(EmailAddressError::Empty));
        for bad in [
            "ann",
            "ann@",
            "@example.com",
            "ann@localhost",
            "Ann <ann@example.com>",
            "ann@[127.0.0.1]",
            "ann@exa mple.com",
            "ann@example.com\r\nBcc: x@example.com",
        ] {
            assert_eq!(
                EmailAddress::parse(bad),
                Err(EmailAddressError::Malformed),
                "{bad}"
            );
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(EmailAddress::parse(&long), Err(EmailAddressError::TooLong));
    }

    #[test]
    fn the_address_never_prints_itself() {
        let address = EmailAddress::parse("ann@example.com").unwrap();
        let printed = format!("{address} {address:?} {:?}", Some(&address));
        assert!(!printed.contains("ann"), "{printed}");
        assert!(!printed.contains("example"), "{printed}");
    }
}
