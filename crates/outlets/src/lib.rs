//! The ways events go out, behind the domain's ports: e-mail ([`mail`]).

pub mod mail;

pub use lettre::address::AddressError;
pub use lettre::message::Mailbox;
pub use mail::{build_message, FileMailer, SentMessage};
