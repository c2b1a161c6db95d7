//! The outbox: each event waits here, with how far its delivery got on
//! each way out, until every way out has it. Delivery is at least once:
//! an entry is claimed for a while before anything is sent, so two
//! deliverers do not send it at once, and a deliverer that dies between a
//! send and its record leaves the claim to expire and the send to be
//! made again (one duplicate, which receivers drop by event id).

use crate::events::Event;
use std::time::Duration;
use time::OffsetDateTime;

/// A way an event goes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    /// The message to the shopper, when the event has one.
    ShopperMail,
    /// The message to the shop's owner, when the event has one.
    OwnerMail,
    /// The event bus (EventBridge on AWS).
    Bus,
    /// The owner's signed webhook, when configured.
    Webhook,
}

impl Channel {
    pub const ALL: [Channel; 4] = [
        Channel::ShopperMail,
        Channel::OwnerMail,
        Channel::Bus,
        Channel::Webhook,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ShopperMail => "shopper_mail",
            Self::OwnerMail => "owner_mail",
            Self::Bus => "bus",
            Self::Webhook => "webhook",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// Its receiver sees every event, in order (the owner's webhook):
    /// while one waits, every later one waits too. E-mail goes to many
    /// people, and EventBridge keeps no order towards its targets: one
    /// event waiting there holds only the later ones of its own order.
    pub fn is_ordered(self) -> bool {
        matches!(self, Self::Webhook)
    }
}

/// How far an event got on one channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryState {
    /// Sent; `reference` is the receiver's id of it (a message id), if any.
    Sent {
        at: OffsetDateTime,
        reference: Option<String>,
    },
    /// Nothing to send on this channel (no message for this event, no
    /// address, a message the committed state no longer calls for).
    NotNeeded { reason: String },
    /// Failed `tries` times; tried again from `next_try_at`.
    Retrying {
        tries: u32,
        next_try_at: OffsetDateTime,
        last_error: String,
    },
    /// Failed more often than the policy allows: an operator is called
    /// (an `operator_action` log line, which the stack alarms on) and can
    /// send it again from the order's back office page.
    GaveUp {
        at: OffsetDateTime,
        tries: u32,
        last_error: String,
    },
}

impl DeliveryState {
    /// Nothing more to do on the channel.
    pub fn is_settled(&self) -> bool {
        !matches!(self, Self::Retrying { .. })
    }
}

/// How often and how far apart a failed delivery is tried again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// Tries in all; the last failure gives up.
    pub max_tries: u32,
    /// How long a claim holds off other deliverers: longer than any send.
    pub claim_for: Duration,
}

impl Default for RetryPolicy {
    /// 15 s doubling to 5 min, 24 tries: about an hour and a half.
    fn default() -> Self {
        Self {
            first_delay: Duration::from_secs(15),
            max_delay: Duration::from_secs(300),
            max_tries: 24,
            claim_for: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    fn delay_after(&self, tries: u32) -> Duration {
        let doubled = self
            .first_delay
            .saturating_mul(1u32 << tries.saturating_sub(1).min(16));
        doubled.min(self.max_delay)
    }
}

/// Where a page of pending entries ended: the last entry's event time and
/// id (the order entries are listed in).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxCursor {
    pub occurred_at: OffsetDateTime,
    pub event_id: crate::ids::EventId,
}

impl OutboxCursor {
    pub fn of(entry: &OutboxEntry) -> Self {
        Self {
            occurred_at: entry.event.occurred_at(),
            event_id: entry.event.id().clone(),
        }
    }
}

/// An event in the outbox, with its deliveries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxEntry {
    event: Event,
    deliveries: Vec<(Channel, DeliveryState)>,
    claimed_until: Option<OffsetDateTime>,
    /// Every write is conditional on the version read, as an attempt's.
    version: u64,
    /// Every channel the deliverer has is settled: out of the sweep.
    done: bool,
    /// An operator asked for it to be sent again then: sent even if late.
    resent_at: Option<OffsetDateTime>,
}

/// Every field of an entry, for a store to keep and give back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxParts {
    pub event: Event,
    pub deliveries: Vec<(Channel, DeliveryState)>,
    pub claimed_until: Option<OffsetDateTime>,
    pub version: u64,
    pub done: bool,
    pub resent_at: Option<OffsetDateTime>,
}

impl OutboxEntry {
    /// A new entry, as the write of its change stores it.
    pub fn new(event: Event) -> Self {
        Self {
            event,
            deliveries: Vec::new(),
            claimed_until: None,
            version: 1,
            done: false,
            resent_at: None,
        }
    }

    pub fn to_parts(&self) -> OutboxParts {
        let Self {
            event,
            deliveries,
            claimed_until,
            version,
            done,
            resent_at,
        } = self.clone();
        OutboxParts {
            event,
            deliveries,
            claimed_until,
            version,
            done,
            resent_at,
        }
    }

    pub fn from_parts(parts: OutboxParts) -> Self {
        let OutboxParts {
            event,
            deliveries,
            claimed_until,
            version,
            done,
            resent_at,
        } = parts;
        Self {
            event,
            deliveries,
            claimed_until,
            version,
            done,
            resent_at,
        }
    }

    pub fn event(&self) -> &Event {
        &self.event
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    pub fn deliveries(&self) -> &[(Channel, DeliveryState)] {
        &self.deliveries
    }

    pub fn delivery(&self, channel: Channel) -> Option<&DeliveryState> {
        self.deliveries
            .iter()
            .find(|(c, _)| *c == channel)
            .map(|(_, state)| state)
    }

    /// Another deliverer holds it.
    pub fn is_claimed(&self, now: OffsetDateTime) -> bool {
        self.claimed_until.is_some_and(|until| until > now)
    }

    /// The channels of `channels` still to try at `now` (never tried, or
    /// retrying and due).
    pub fn due_channels(&self, channels: &[Channel], now: OffsetDateTime) -> Vec<Channel> {
        channels
            .iter()
            .copied()
            .filter(|c| match self.delivery(*c) {
                None => true,
                Some(DeliveryState::Retrying { next_try_at, .. }) => *next_try_at <= now,
                Some(_) => false,
            })
            .collect()
    }

    /// Channels of `channels` that wait for a retry not yet due: what comes
    /// after this entry on them waits too, so they go out in order.
    pub fn waiting_channels(&self, channels: &[Channel], now: OffsetDateTime) -> Vec<Channel> {
        channels
            .iter()
            .copied()
            .filter(|c| {
                matches!(self.delivery(*c),
                    Some(DeliveryState::Retrying { next_try_at, .. }) if *next_try_at > now)
            })
            .collect()
    }

    /// The next version, claimed until `now + policy.claim_for`.
    pub fn claimed(&self, now: OffsetDateTime, policy: &RetryPolicy) -> Self {
        let mut next = self.next_version();
        next.claimed_until = Some(now + policy.claim_for);
        next
    }

    /// Records a send on `channel`.
    pub fn record_sent(
        &mut self,
        channel: Channel,
        now: OffsetDateTime,
        reference: Option<String>,
    ) {
        self.set(channel, DeliveryState::Sent { at: now, reference });
    }

    pub fn record_not_needed(&mut self, channel: Channel, reason: impl Into<String>) {
        let reason = reason.into();
        self.set(channel, DeliveryState::NotNeeded { reason });
    }

    /// Records a failed send: to be retried, or given up once the policy's
    /// tries are spent (true then).
    pub fn record_failure(
        &mut self,
        channel: Channel,
        error: impl Into<String>,
        now: OffsetDateTime,
        policy: &RetryPolicy,
    ) -> bool {
        let tries = match self.delivery(channel) {
            Some(DeliveryState::Retrying { tries, .. }) => tries + 1,
            _ => 1,
        };
        let last_error = error.into();
        let gave_up = tries >= policy.max_tries;
        let state = if gave_up {
            DeliveryState::GaveUp {
                at: now,
                tries,
                last_error,
            }
        } else {
            let delay = policy.delay_after(tries);
            DeliveryState::Retrying {
                tries,
                next_try_at: now + delay,
                last_error,
            }
        };
        self.set(channel, state);
        gave_up
    }

    /// Each of `channels` is settled on.
    pub fn settled_on(&self, channels: &[Channel]) -> bool {
        channels
            .iter()
            .all(|c| self.delivery(*c).is_some_and(DeliveryState::is_settled))
    }

    /// The claim released, and out of the sweep once each of `channels`
    /// is settled.
    pub fn release(&mut self, channels: &[Channel]) {
        self.claimed_until = None;
        self.done = self.settled_on(channels);
    }

    /// The next version, with `channel` to be sent again (the operator's
    /// resend from the back office, at `now`).
    pub fn resend(&self, channel: Channel, now: OffsetDateTime) -> Self {
        let mut next = self.next_version();
        next.deliveries.retain(|(c, _)| *c != channel);
        next.done = false;
        next.resent_at = Some(now);
        next
    }

    /// When an operator last asked for it to be sent again.
    pub fn resent_at(&self) -> Option<OffsetDateTime> {
        self.resent_at
    }

    /// The next version, to write conditionally on this one.
    pub fn next_version(&self) -> Self {
        Self {
            version: self.version + 1,
            ..self.clone()
        }
    }

    fn set(&mut self, channel: Channel, state: DeliveryState) {
        match self.deliveries.iter_mut().find(|(c, _)| *c == channel) {
            Some((_, known)) => *known = state,
            None => {
                self.deliveries.push((channel, state));
                self.deliveries.sort_by_key(|(c, _)| *c);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_a_ceiling_and_give_up_at_the_budget() {
        let policy = RetryPolicy::default();
        let delays: Vec<u64> = (1..=7).map(|t| policy.delay_after(t).as_secs()).collect();
        assert_eq!(delays, [15, 30, 60, 120, 240, 300, 300]);
        let total: Duration = (1..policy.max_tries).map(|t| policy.delay_after(t)).sum();
        assert!(total > Duration::from_secs(3600) && total < Duration::from_secs(7200));
    }
}
