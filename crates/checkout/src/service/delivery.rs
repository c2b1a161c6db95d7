//! Delivering the outbox: each pending event goes out on every channel the
//! shop has, oldest first. A send that fails is retried with backoff until
//! the retry budget is spent and an operator is called. While it waits, it
//! holds the events after it: on an ordered channel (the owner's webhook)
//! all of them, so they arrive in order once the receiver is back; on
//! e-mail only its own order's, so one bad address delays nobody else.

use crate::events::Event;
use crate::messages::{owner_message, shopper_message, ShopIdentity};
use crate::order::OrderId;
use crate::outbox::{Channel, OutboxCursor, OutboxEntry, RetryPolicy};
use crate::ports::{
    error_report, Clock, DeadLetters, EventSink, Mailer, OrderRecord, Store, StoreError,
};
use crate::service::ShopUrls;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where events go out. A channel without an outlet is not the shop's.
#[derive(Clone, Default)]
pub struct Outlets {
    pub mailer: Option<Arc<dyn Mailer>>,
    pub bus: Option<Arc<dyn EventSink>>,
    pub webhook: Option<Arc<dyn EventSink>>,
    /// Where an event goes when a channel gives up on it (a queue an
    /// alarm watches), besides the operator's log line.
    pub dead_letters: Option<Arc<dyn DeadLetters>>,
}

impl Outlets {
    /// The channels this shop delivers on.
    pub fn channels(&self) -> Vec<Channel> {
        let mut channels = Vec::new();
        if self.mailer.is_some() {
            channels.extend([Channel::ShopperMail, Channel::OwnerMail]);
        }
        if self.bus.is_some() {
            channels.push(Channel::Bus);
        }
        if self.webhook.is_some() {
            channels.push(Channel::Webhook);
        }
        channels
    }
}

/// What one pass did, for the log and the tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeliveryPass {
    /// Sends that succeeded.
    pub sent: usize,
    /// Sends that failed (to be retried, or given up).
    pub failed: usize,
    /// Deliveries given up on and handed to the dead-letter sink.
    pub gave_up: usize,
    /// Entries another deliverer held, or that changed under this one.
    pub skipped: usize,
}

/// Sends what the outbox holds.
pub struct Deliverer {
    store: Arc<dyn Store>,
    outlets: Outlets,
    shop: ShopIdentity,
    urls: ShopUrls,
    clock: Arc<dyn Clock>,
    policy: RetryPolicy,
}

/// Entries read per page.
const PASS_SIZE: usize = 100;
/// Pages read per pass, at most: a backlog behind a waiting webhook is
/// read past, up to this many entries.
const MAX_PAGES: usize = 20;
/// A message to the shopper about a change older than this is not sent
/// (mail was off, or down for days): news that late confuses more than it
/// tells; the owner still gets theirs, and the back office shows it.
const SHOPPER_NEWS_KEEPS: time::Duration = time::Duration::days(3);

impl Deliverer {
    pub fn new(
        store: Arc<dyn Store>,
        outlets: Outlets,
        shop: ShopIdentity,
        urls: ShopUrls,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            outlets,
            shop,
            urls,
            clock,
            policy: RetryPolicy::default(),
        }
    }

    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// One pass over the pending entries, oldest first, page by page
    /// (entries that only wait hold no place), starting no send after
    /// `budget`: a send that started runs to its own timeout, and its
    /// entry's record is written, so a pass cut short sends nothing twice.
    ///
    /// # Errors
    ///
    /// The store's, when the outbox cannot be read; a failed send is not
    /// an error (it is recorded on its entry and retried).
    pub async fn deliver_pending(&self, budget: Duration) -> Result<DeliveryPass, StoreError> {
        let deadline = Instant::now() + budget;
        let channels = self.outlets.channels();
        let mut pass = DeliveryPass::default();
        // No way out at all: the events wait for one (never marked done).
        if channels.is_empty() {
            return Ok(pass);
        }
        // What waits holds what comes after it.
        let mut held = Held::default();
        let mut after = None;
        for _ in 0..MAX_PAGES {
            let page = self.store.pending_outbox(after.as_ref(), PASS_SIZE).await?;
            after = page.last().map(OutboxCursor::of);
            for entry in &page {
                if Instant::now() >= deadline {
                    return Ok(pass);
                }
                self.deliver_entry(entry, &channels, &mut held, &mut pass)
                    .await?;
            }
            if page.len() < PASS_SIZE {
                break;
            }
        }
        Ok(pass)
    }

    /// The events of one order that was just changed, read consistently
    /// (an index may not show them yet), on the channels whose receivers
    /// take events in any order: the e-mail and the bus. The owner's
    /// webhook takes them in order, so its sends are left to the sweep.
    ///
    /// # Errors
    ///
    /// The store's, when the order's outbox cannot be read.
    pub async fn deliver_order(
        &self,
        order_id: &OrderId,
        budget: Duration,
    ) -> Result<DeliveryPass, StoreError> {
        let deadline = Instant::now() + budget;
        let channels: Vec<Channel> = self
            .outlets
            .channels()
            .into_iter()
            .filter(|c| !c.is_ordered())
            .collect();
        let mut pass = DeliveryPass::default();
        if channels.is_empty() {
            return Ok(pass);
        }
        let mut held = Held::default();
        for entry in self.store.order_outbox(order_id).await? {
            if Instant::now() >= deadline {
                break;
            }
            if !entry.is_done() {
                self.deliver_entry(&entry, &channels, &mut held, &mut pass)
                    .await?;
            }
        }
        Ok(pass)
    }

    /// Claims `entry`, sends it on each of `channels` due and not held, and
    /// records what happened. The entry is done once every channel the shop
    /// has is settled (not only `channels`).
    async fn deliver_entry(
        &self,
        entry: &OutboxEntry,
        channels: &[Channel],
        held: &mut Held,
        pass: &mut DeliveryPass,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        let order = entry.event().order_id().clone();
        held.extend(&order, entry.waiting_channels(channels, now));
        let due: Vec<Channel> = entry
            .due_channels(channels, now)
            .into_iter()
            .filter(|c| !held.holds(&order, *c))
            .collect();
        let all = self.outlets.channels();
        if due.is_empty() && !entry.settled_on(&all) {
            return Ok(());
        }
        if entry.is_claimed(now) {
            pass.skipped += 1;
            held.extend(&order, due);
            return Ok(());
        }
        let claimed = entry.claimed(now, &self.policy);
        match self.store.update_outbox(&claimed).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => {
                pass.skipped += 1;
                held.extend(&order, due);
                return Ok(());
            }
            Err(e) => return Err(e),
        }
        let mut next = claimed.next_version();
        for channel in due {
            match self.send(&mut next, channel).await {
                Sent::Yes => pass.sent += 1,
                Sent::NotNeeded => {}
                Sent::Failed { gave_up } => {
                    pass.failed += 1;
                    if gave_up {
                        pass.gave_up += 1;
                    } else {
                        held.extend(&order, [channel]);
                    }
                }
            }
        }
        next.release(&all);
        match self.store.update_outbox(&next).await {
            Ok(()) => Ok(()),
            // Our claim ran out (a send outlived it) and another deliverer
            // took the entry: it sends again what this one sent.
            Err(StoreError::Conflict) => {
                pass.skipped += 1;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    async fn send(&self, entry: &mut OutboxEntry, channel: Channel) -> Sent {
        let event = entry.event().clone();
        let outcome = match channel {
            Channel::ShopperMail | Channel::OwnerMail => {
                let resent = entry.resent_at().is_some();
                self.mail(&event, channel, resent).await
            }
            Channel::Bus => publish(self.outlets.bus.as_deref(), &event).await,
            Channel::Webhook => publish(self.outlets.webhook.as_deref(), &event).await,
        };
        let now = self.clock.now();
        match outcome {
            Ok(Outcome::Sent(reference)) => {
                entry.record_sent(channel, now, reference);
                Sent::Yes
            }
            Ok(Outcome::NotNeeded(reason)) => {
                entry.record_not_needed(channel, reason);
                Sent::NotNeeded
            }
            Err(error) => {
                let gave_up = entry.record_failure(channel, &error, now, &self.policy);
                tracing::warn!(event_id = %event.id(), channel = channel.as_str(), %error, gave_up, "an event could not be delivered");
                if gave_up {
                    self.gave_up(&event, channel).await;
                }
                Sent::Failed { gave_up }
            }
        }
    }

    /// The message `event` calls for on `channel`, built from the order as
    /// it is now, and sent.
    async fn mail(&self, event: &Event, channel: Channel, resent: bool) -> Result<Outcome, String> {
        let Some(mailer) = self.outlets.mailer.as_deref() else {
            return Ok(Outcome::NotNeeded("no mailer"));
        };
        // Unless an operator sends it again on purpose.
        if channel == Channel::ShopperMail
            && !resent
            && self.clock.now() - event.occurred_at() > SHOPPER_NEWS_KEEPS
        {
            return Ok(Outcome::NotNeeded("too late for the shopper"));
        }
        let record = self
            .store
            .load_order(event.order_id())
            .await
            .map_err(|e| error_report(&e))?;
        let Some(record) = record else {
            return Ok(Outcome::NotNeeded("no such order"));
        };
        let message = if channel == Channel::ShopperMail {
            shopper_message(event, &record, &self.urls.thank_you_page(event.order_id()))
        } else {
            owner_message(event, &record, &self.shop, &self.back_office_page(&record))
        };
        match message {
            Ok(message) => mailer
                .send(&message)
                .await
                .map(Outcome::Sent)
                .map_err(|e| error_report(&e)),
            Err(reason) => Ok(Outcome::NotNeeded(reason)),
        }
    }

    fn back_office_page(&self, record: &OrderRecord) -> String {
        format!(
            "{}/admin/orders/{}",
            self.urls.public_base_url,
            record.order.id()
        )
    }

    /// Calls an operator for an event a channel gave up on, and hands it
    /// to the dead letters.
    async fn gave_up(&self, event: &Event, channel: Channel) {
        tracing::error!(operator_action = true, event_id = %event.id(), order_id = %event.order_id(), channel = channel.as_str(), "an event could not be delivered after every retry; send it again from the order's back office page");
        if let Some(dead_letters) = &self.outlets.dead_letters {
            let tries = self.policy.max_tries;
            if let Err(e) = dead_letters.gave_up(event, channel, tries).await {
                tracing::error!(event_id = %event.id(), error = %error_report(&e), "the dead-letter queue could not take an event");
            }
        }
    }
}

/// The channels held in a pass: ordered ones for every later event,
/// the others for later events of the same order.
#[derive(Default)]
struct Held {
    everywhere: HashSet<Channel>,
    per_order: HashSet<(OrderId, Channel)>,
}

impl Held {
    fn extend(&mut self, order: &OrderId, channels: impl IntoIterator<Item = Channel>) {
        for channel in channels {
            if channel.is_ordered() {
                self.everywhere.insert(channel);
            } else {
                self.per_order.insert((order.clone(), channel));
            }
        }
    }

    fn holds(&self, order: &OrderId, channel: Channel) -> bool {
        self.everywhere.contains(&channel) || self.per_order.contains(&(order.clone(), channel))
    }
}

async fn publish(sink: Option<&dyn EventSink>, event: &Event) -> Result<Outcome, String> {
    let Some(sink) = sink else {
        return Ok(Outcome::NotNeeded("not configured"));
    };
    sink.publish(event)
        .await
        .map(|()| Outcome::Sent(None))
        .map_err(|e| error_report(&e))
}

enum Outcome {
    Sent(Option<String>),
    NotNeeded(&'static str),
}

enum Sent {
    Yes,
    NotNeeded,
    Failed { gave_up: bool },
}
