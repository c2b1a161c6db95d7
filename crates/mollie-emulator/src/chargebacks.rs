//! Chargebacks, as Mollie's Chargebacks API has them: read-only (a bank
//! makes them), on a paid payment whose status stays `paid` and which gains
//! `amountChargedBack`; a reversal sets `reversedAt`. Mollie's test mode
//! cannot make one, so the emulator has control endpoints that receive or
//! reverse one, each calling the payment's webhook as Mollie does.

use crate::api::{
    change_item, change_payment, error, hal, parse_amount, payment_item_links, ApiError,
    PaymentItem, WireAmount,
};
use crate::state::{mollie_time, new_id, EmulatedPayment, EmulatorState, PaymentStatus};
use crate::webhooks;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use time::OffsetDateTime;

#[derive(Clone, Debug)]
pub struct EmulatedChargeback {
    pub id: String,
    pub payment_id: String,
    pub amount: WireAmount,
    /// `{code, description}` as the bank gave it, or none.
    pub reason: Option<Value>,
    pub created_at: OffsetDateTime,
    pub reversed_at: Option<OffsetDateTime>,
}

impl PaymentItem for EmulatedChargeback {
    const KIND: &'static str = "chargebacks";
    const NAME: &'static str = "chargeback";

    fn all(payment: &EmulatedPayment) -> &[Self] {
        &payment.chargebacks
    }

    fn all_mut(payment: &mut EmulatedPayment) -> &mut Vec<Self> {
        &mut payment.chargebacks
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
            "amount": self.amount.json(),
            // What it costs the merchant's balance: negative.
            "settlementAmount": self.amount.with_minor(-self.amount.minor).json(),
            "createdAt": mollie_time(self.created_at),
            "reason": self.reason,
            "reversedAt": self.reversed_at.map(mollie_time),
            "paymentId": self.payment_id,
            "settlementId": null,
            "_links": payment_item_links(base, &self.payment_id, Self::KIND, &self.id),
        })
    }
}

/// What a paid payment's chargebacks take from it (reversed ones gave it
/// back), in minor units.
pub fn charged_back_minor(chargebacks: &[EmulatedChargeback]) -> i64 {
    chargebacks
        .iter()
        .filter(|c| c.reversed_at.is_none())
        .map(|c| c.amount.minor)
        .sum()
}

/// What may still be refunded or charged back.
pub fn remaining_minor(payment: &EmulatedPayment) -> i64 {
    crate::captures::taken_minor(payment)
        - crate::refunds::refunded_minor(&payment.refunds)
        - charged_back_minor(&payment.chargebacks)
}

impl EmulatorState {
    /// The bank takes `amount` (all that remains when `None`) of a paid
    /// payment back: recorded and the payment's webhook called.
    ///
    /// # Errors
    ///
    /// 404 for an unknown payment, 422 for one not paid or an amount
    /// beyond what remains.
    pub fn receive_chargeback(
        &self,
        payment_id: &str,
        fields: &Map<String, Value>,
    ) -> Result<EmulatedChargeback, ApiError> {
        change_payment(self, payment_id, |payment| {
            if payment.status != PaymentStatus::Paid {
                return Err(crate::api::invalid(
                    "Only a paid payment can be charged back",
                    "amount",
                ));
            }
            let remaining = WireAmount::of(&payment.amount).with_minor(remaining_minor(payment));
            let amount = if fields.contains_key("amount") {
                parse_amount(fields)?
            } else {
                remaining.clone()
            };
            if amount.currency != remaining.currency
                || amount.minor > remaining.minor
                || amount.minor == 0
            {
                return Err(crate::api::invalid(
                    "The amount is higher than what remains of the payment",
                    "amount",
                ));
            }
            let chargeback = EmulatedChargeback {
                id: new_id("chb"),
                payment_id: payment_id.to_owned(),
                amount,
                reason: fields.get("reason").cloned().filter(|r| !r.is_null()),
                created_at: OffsetDateTime::now_utc(),
                reversed_at: None,
            };
            payment.chargebacks.push(chargeback.clone());
            webhooks::notify(self, payment);
            Ok(chargeback)
        })
    }

    /// The bank gives a chargeback's money back; false when it is unknown
    /// or reversed already.
    pub fn reverse_chargeback(&self, chargeback_id: &str) -> bool {
        change_item(
            self,
            chargeback_id,
            |chargeback: &mut EmulatedChargeback| {
                if chargeback.reversed_at.is_some() {
                    return (false, false);
                }
                chargeback.reversed_at = Some(OffsetDateTime::now_utc());
                (true, true)
            },
        )
        .unwrap_or(false)
    }
}

/// `POST /_emulator/payments/{id}/chargebacks` `{"amount": {...}?,
/// "reason": {"code", "description"}?}`: the shopper's bank takes the
/// money back (control endpoint, no authentication).
pub async fn post_chargeback(
    State(state): State<Arc<EmulatorState>>,
    Path(payment_id): Path<String>,
    body: String,
) -> Response {
    let fields = if body.trim().is_empty() {
        Map::new()
    } else {
        match serde_json::from_str::<Map<String, Value>>(&body) {
            Ok(fields) => fields,
            Err(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "The request body is not a JSON object",
                    None,
                )
            }
        }
    };
    match state.receive_chargeback(&payment_id, &fields) {
        Ok(chargeback) => hal(
            StatusCode::CREATED,
            chargeback.resource(&state.config.public_base_url),
        ),
        Err(refused) => refused.into_response(),
    }
}

/// `POST /_emulator/chargebacks/{chb_id}/reverse`: the bank gives the
/// money back (control endpoint, no authentication).
pub async fn post_reversal(
    State(state): State<Arc<EmulatorState>>,
    Path(chargeback_id): Path<String>,
) -> Response {
    if state.reverse_chargeback(&chargeback_id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "No chargeback to reverse with this token",
            None,
        )
    }
}
