//! What refunds and captures both are: money a payment moves at the shop's
//! request, with the shop's description and metadata, `pending` at first.
//! Created, checked and recorded alike; the status type's `MovementStatus`
//! impl says all that differs: names, where the payment keeps them, the
//! checks against the payment, and what happens later.

use crate::api::{
    change_payment, invalid, money_request, payment_item_links, ApiError, CreatedItem, PaymentItem,
    WireAmount,
};
use crate::state::{mollie_time, new_id, EmulatedPayment, EmulatorState};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::fmt::Debug;
use std::sync::Arc;
use time::OffsetDateTime;

/// The status of a refund or a capture, and all that differs between the
/// two kinds.
pub trait MovementStatus: Copy + Debug + Serialize + Send + Sync + 'static {
    /// As in `PaymentItem`: `refunds`, `refund`.
    const KIND: &'static str;
    const NAME: &'static str;
    /// The id's prefix, e.g. `re`.
    const PREFIX: &'static str;
    /// What it does to the money, e.g. `refunded`.
    const DONE: &'static str;
    /// A new one's status.
    const PENDING: Self;

    /// What a create must give before its payment is looked up: a
    /// refund its amount; a capture may leave it out.
    type Requested;

    /// The payment's, oldest first.
    fn on(payment: &EmulatedPayment) -> &[Movement<Self>];
    fn on_mut(payment: &mut EmulatedPayment) -> &mut Vec<Movement<Self>>;

    fn requested(amount: Option<WireAmount>) -> Result<Self::Requested, ApiError>;

    /// Checks a new one against its payment: the amount to record, or
    /// Mollie's refusal.
    fn admit(
        state: &EmulatorState,
        payment: &EmulatedPayment,
        requested: Self::Requested,
        now: OffsetDateTime,
    ) -> Result<WireAmount, ApiError>;

    /// What then happens to it in time (it settles, it succeeds).
    fn later(state: Arc<EmulatorState>, movement: &Movement<Self>);
}

#[derive(Clone, Debug)]
pub struct Movement<S> {
    pub id: String,
    pub payment_id: String,
    pub amount: WireAmount,
    pub description: String,
    pub metadata: Value,
    pub status: S,
    pub created_at: OffsetDateTime,
}

impl<S: MovementStatus> Movement<S> {
    /// Mollie's 422 unless `amount` is in the payment's currency and at
    /// most `available` (minor units).
    pub(crate) fn check_amount(
        payment: &EmulatedPayment,
        amount: &WireAmount,
        available: i64,
    ) -> Result<(), ApiError> {
        if amount.currency != WireAmount::of(&payment.amount).currency {
            let detail = format!("The currency of the {} must be the payment's", S::NAME);
            return Err(invalid(&detail, "amount.currency"));
        }
        if amount.minor > available {
            let detail = format!(
                "The amount is higher than the amount that remains to be {}",
                S::DONE
            );
            return Err(invalid(&detail, "amount"));
        }
        Ok(())
    }

    /// Records a new one on `payment`, `pending`.
    fn record(
        payment: &mut EmulatedPayment,
        amount: WireAmount,
        description: String,
        metadata: Value,
        now: OffsetDateTime,
    ) -> Self {
        let movement = Self {
            id: new_id(S::PREFIX),
            payment_id: payment.id.clone(),
            amount,
            description,
            metadata,
            status: S::PENDING,
            created_at: now,
        };
        S::on_mut(payment).push(movement.clone());
        movement
    }
}

/// A create as for either kind: its body checked, then against its
/// payment (`S::admit`), then recorded.
impl<S: MovementStatus> CreatedItem for Movement<S> {
    fn add(
        state: &EmulatorState,
        payment_id: &str,
        fields: &Map<String, Value>,
    ) -> Result<Self, ApiError> {
        let request = money_request(fields)?;
        let requested = S::requested(request.amount)?;
        change_payment(state, payment_id, |payment| {
            let now = OffsetDateTime::now_utc();
            let amount = S::admit(state, payment, requested, now)?;
            let (description, metadata) = (request.description, request.metadata);
            Ok(Self::record(payment, amount, description, metadata, now))
        })
    }

    fn later(state: Arc<EmulatorState>, movement: &Self) {
        S::later(state, movement);
    }
}

impl<S: MovementStatus> PaymentItem for Movement<S> {
    const KIND: &'static str = S::KIND;
    const NAME: &'static str = S::NAME;

    fn all(payment: &EmulatedPayment) -> &[Self] {
        S::on(payment)
    }

    fn all_mut(payment: &mut EmulatedPayment) -> &mut Vec<Self> {
        S::on_mut(payment)
    }

    fn id(&self) -> &str {
        &self.id
    }

    fn created_at(&self) -> OffsetDateTime {
        self.created_at
    }

    fn resource(&self, base: &str) -> Value {
        json!({
            "resource": Self::NAME,
            "id": self.id,
            "mode": "test",
            "description": self.description,
            "amount": self.amount.json(),
            "metadata": self.metadata,
            "status": self.status,
            "paymentId": self.payment_id,
            "createdAt": mollie_time(self.created_at),
            "_links": payment_item_links(base, &self.payment_id, Self::KIND, &self.id),
        })
    }
}
