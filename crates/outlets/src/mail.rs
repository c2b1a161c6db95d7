//! E-mail: lettre builds the message (MIME, plain text and HTML); the
//! embedded default writes each one as an `.eml` file under the data
//! directory (lettre's file transport), so a local run needs no mail
//! server and the back office can show what was sent.

use async_trait::async_trait;
use checkout::{Cause, DeliveryError, MailMessage, Mailer};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{FileTransport, Message, Transport};
use std::path::{Path, PathBuf};

/// A message as a MIME document.
///
/// # Errors
///
/// [`DeliveryError`] when an address does not make a mailbox (the domain
/// checked it already, so this is a bug, reported, not a panic).
pub fn build_message(from: &Mailbox, message: &MailMessage) -> Result<Message, DeliveryError> {
    let to: Mailbox = message
        .to
        .expose()
        .parse()
        .map_err(|e| DeliveryError(Cause::new(e)))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(&message.subject)
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(message.text.clone()),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(message.html.clone()),
                ),
        )
        .map_err(|e| DeliveryError(Cause::new(e)))
}

/// Writes each message to `{dir}/{id}.eml`; the id is the message's
/// reference.
pub struct FileMailer {
    from: Mailbox,
    dir: PathBuf,
}

impl FileMailer {
    /// # Errors
    ///
    /// The folder cannot be created.
    pub fn new(from: Mailbox, dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(Self {
            from,
            dir: dir.to_owned(),
        })
    }

    /// A message written before, by its reference.
    pub fn sent(&self, reference: &str) -> Option<SentMessage> {
        let safe = reference
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !safe {
            return None;
        }
        let raw = std::fs::read_to_string(self.dir.join(format!("{reference}.eml"))).ok()?;
        Some(SentMessage { raw })
    }
}

/// A message as it was written.
#[derive(Clone, Debug)]
pub struct SentMessage {
    pub raw: String,
}

#[async_trait]
impl Mailer for FileMailer {
    async fn send(&self, message: &MailMessage) -> Result<Option<String>, DeliveryError> {
        let built = build_message(&self.from, message)?;
        let dir = self.dir.clone();
        let id = tokio::task::spawn_blocking(move || FileTransport::new(dir).send(&built))
            .await
            .map_err(|e| DeliveryError(Cause::new(e)))?
            .map_err(|e| DeliveryError(Cause::new(e)))?;
        Ok(Some(id))
    }
}
