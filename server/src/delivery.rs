//! The outbox's deliverer on the plain server: a task that sends right
//! after each change that wrote events (the service's outbox listener
//! wakes it) and sweeps every interval for what is due again or what a
//! crash left behind. On Lambda the reconciler function runs the sweep.

use checkout::OrderId;
use checkout::{Deliverer, Outlets, ShopIdentity, ShopUrls, Store};
use outlets::{FileMailer, Mailbox, WebhookSink};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use crate::config::{Config, MailTransport};
use crate::start_error::StartError;

/// The deliverer and what it sends through.
pub struct Delivery {
    pub deliverer: Arc<Deliverer>,
    /// The messages written, with `SHOP_MAIL=files`.
    pub mailbox: Option<Arc<FileMailer>>,
    /// Notified after each write that put events in the outbox.
    pub wake: Arc<Notify>,
    /// The orders whose changes wrote events since they were last taken
    /// (on Lambda, the request's own, sent before its answer).
    pub written: Arc<Mutex<Vec<OrderId>>>,
    pub sweep_every: Duration,
}

/// # Errors
///
/// A setting that cannot work (the sender, the owner's address, the
/// webhook) or the mail folder that cannot be created.
pub async fn delivery_from(
    config: &Config,
    store: Arc<dyn Store>,
    urls: ShopUrls,
    clock: Arc<dyn checkout::Clock>,
) -> Result<Delivery, StartError> {
    let from: Mailbox = config.mail_from.parse().map_err(StartError::MailFrom)?;
    let owner_email = config
        .owner_email
        .as_deref()
        .map(checkout::EmailAddress::parse)
        .transpose()
        .map_err(StartError::OwnerEmail)?;
    let aws = crate::aws::outlets(config, &from).await?;
    let mut mailbox = None;
    let mailer = match config.mail {
        MailTransport::Files => {
            let path = config.data_dir.join("mail");
            let mailer = Arc::new(
                FileMailer::new(from, &path)
                    .map_err(|source| StartError::MailFolder { path, source })?,
            );
            mailbox = Some(mailer.clone());
            Some(mailer as Arc<dyn checkout::Mailer>)
        }
        // Never "no e-mail" for want of SES: aws::outlets makes it or refuses.
        MailTransport::Ses => Some(
            aws.mailer
                .ok_or(StartError::NotInThisBuild("SHOP_MAIL=ses"))?,
        ),
        MailTransport::Off => None,
    };
    let webhook = match (&config.owner_webhook_url, &config.owner_webhook_secret) {
        (Some(url), Some(secrets)) => {
            let keys = std::iter::once(secrets.current.clone())
                .chain(secrets.previous.clone())
                .collect();
            let sink = WebhookSink::new(url, keys).map_err(StartError::OwnerWebhook)?;
            Some(Arc::new(sink) as Arc<dyn checkout::EventSink>)
        }
        (Some(_), None) => return Err(StartError::OwnerWebhookSecretMissing),
        (None, Some(_)) => return Err(StartError::OwnerWebhookUrlMissing),
        (None, None) => None,
    };
    let outlets = Outlets {
        mailer,
        bus: aws.bus,
        webhook,
        dead_letters: aws.dead_letters,
    };
    let shop = ShopIdentity {
        name: config.shop_name.clone(),
        owner_email,
    };
    Ok(Delivery {
        deliverer: Arc::new(Deliverer::new(store, outlets, shop, urls, clock)),
        mailbox,
        wake: Arc::new(Notify::new()),
        written: Arc::default(),
        sweep_every: Duration::from_millis(config.delivery_sweep_ms.max(100)),
    })
}

/// How long one pass may keep starting sends.
const PASS_BUDGET: Duration = Duration::from_secs(30);

impl Delivery {
    /// The listener the checkout service calls after each write that put
    /// events in the outbox.
    pub fn listener(&self) -> Arc<dyn Fn(&OrderId) + Send + Sync> {
        let (wake, written) = (self.wake.clone(), self.written.clone());
        Arc::new(move |order_id: &OrderId| {
            written.lock().expect("written").push(order_id.clone());
            wake.notify_one();
        })
    }
}

/// Delivers until `shutdown` turns true.
pub fn spawn(delivery: &Delivery, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
    let (deliverer, wake, written) = (
        delivery.deliverer.clone(),
        delivery.wake.clone(),
        delivery.written.clone(),
    );
    let sweep_every = delivery.sweep_every;
    tokio::spawn(async move {
        loop {
            // A whole pass follows: it sends these orders' events too.
            written.lock().expect("written").clear();
            match deliverer.deliver_pending(PASS_BUDGET).await {
                Ok(pass) if pass.sent + pass.failed > 0 => {
                    tracing::debug!(?pass, "delivery pass");
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(error = %checkout::error_report(&error), "the outbox could not be read; the next sweep tries again");
                }
            }
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(sweep_every) => {}
                _ = shutdown.changed() => return,
            }
        }
    })
}
