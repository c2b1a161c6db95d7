//! What refunds and captures both are: money a payment moves at the shop's
//! request, with the shop's description and metadata, `pending` at first.
//! The status type tells the kinds apart and says where each is kept.

use crate::api::{invalid, payment_item_links, ApiError, PaymentItem, WireAmount};
use crate::state::{mollie_time, new_id, EmulatedPayment};
use serde::Serialize;
use serde_json::{json, Value};
use std::fmt::Debug;
use time::OffsetDateTime;

/// The status of a refund or a capture, and what goes with its kind.
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

    /// The payment's, oldest first.
    fn on(payment: &EmulatedPayment) -> &[Movement<Self>];
    fn on_mut(payment: &mut EmulatedPayment) -> &mut Vec<Movement<Self>>;
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
    pub(crate) fn record(
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
