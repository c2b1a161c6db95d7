//! The ways events go out, behind the domain's ports: e-mail ([`mail`];
//! SES on AWS, [`aws`]), the event bus ([`aws`]), the owner's signed
//! webhook ([`webhook`]), each event as JSON ([`wire`]).

#[cfg(feature = "aws")]
pub mod aws;
pub mod mail;
pub mod webhook;
pub mod wire;

#[cfg(feature = "aws")]
pub use aws::{sdk_config, EventBridgeSink, SesMailer};
pub use lettre::address::AddressError;
pub use lettre::message::Mailbox;
pub use mail::{build_message, FileMailer, SentMessage};
pub use webhook::{signature, WebhookConfigError, WebhookSink, MIN_SECRET_CHARS};
