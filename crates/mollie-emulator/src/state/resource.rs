//! The payment resource as Mollie's API returns it: the fields every
//! payment has, then tests' overrides of them, then what the payment's
//! options and state add (an override does not hide those).

use super::{mollie_time, EmulatedPayment, EmulatorState, PaymentStatus};
use crate::api::WireAmount;
use crate::captures::captured_minor;
use crate::chargebacks::{charged_back_minor, remaining_minor};
use crate::refunds::refunded_minor;
use serde::Serialize;
use serde_json::{Map, Value};

#[derive(Serialize)]
struct Link {
    href: String,
    #[serde(rename = "type")]
    media_type: &'static str,
}

impl Link {
    fn hal(href: String) -> Self {
        Self {
            href,
            media_type: "application/hal+json",
        }
    }

    fn html(href: String) -> Self {
        Self {
            href,
            media_type: "text/html",
        }
    }
}

/// What every payment has.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Core<'a> {
    resource: &'static str,
    id: &'a str,
    mode: &'static str,
    created_at: String,
    amount: &'a Value,
    description: &'a str,
    method: Option<&'a str>,
    metadata: &'a Value,
    status: PaymentStatus,
    profile_id: &'static str,
    sequence_type: &'static str,
    redirect_url: &'a str,
    #[serde(rename = "_links")]
    links: CoreLinks,
}

#[derive(Serialize)]
struct CoreLinks {
    #[serde(rename = "self")]
    this: Link,
    dashboard: Link,
    documentation: Link,
}

/// What the payment's options and state add; each is absent when `None`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Added<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    webhook_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cancel_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    locale: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    lines: &'a [Value],
    #[serde(skip_serializing_if = "Option::is_none")]
    capture_mode: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount_captured: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    authorized_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    capture_before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount_refunded: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount_remaining: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount_charged_back: Option<Value>,
    /// `paidAt`, `failedAt`, ... once final.
    #[serde(flatten)]
    final_at: Option<FinalAt>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_cancelable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<String>,
}

/// When a final payment became final, named by its status.
#[derive(Serialize)]
enum FinalAt {
    #[serde(rename = "paidAt")]
    Paid(String),
    #[serde(rename = "failedAt")]
    Failed(String),
    #[serde(rename = "canceledAt")]
    Canceled(String),
    #[serde(rename = "expiredAt")]
    Expired(String),
}

/// The `_links` the payment's state adds; each is absent when `None`.
#[derive(Serialize)]
struct AddedLinks {
    #[serde(skip_serializing_if = "Option::is_none")]
    checkout: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refunds: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chargebacks: Option<Link>,
    #[serde(skip_serializing_if = "Option::is_none")]
    captures: Option<Link>,
}

impl<'a> Core<'a> {
    fn of(p: &'a EmulatedPayment, base: &str) -> Self {
        Self {
            resource: "payment",
            id: &p.id,
            mode: "test",
            created_at: mollie_time(p.created_at),
            amount: &p.amount,
            description: &p.description,
            method: p.method.as_deref(),
            metadata: &p.metadata,
            status: p.status,
            profile_id: "pfl_emulator00",
            sequence_type: "oneoff",
            redirect_url: &p.redirect_url,
            links: CoreLinks {
                this: Link::hal(format!("{base}/v2/payments/{}", p.id)),
                dashboard: Link::html(format!("{base}/dashboard/payments/{}", p.id)),
                documentation: Link::html("https://docs.mollie.com/reference/get-payment".into()),
            },
        }
    }
}

/// Still at the checkout: open or pending. An authorized payment is done
/// there; it waits for the shop's capture.
fn at_checkout(p: &EmulatedPayment) -> bool {
    !p.status.is_final() && p.status != PaymentStatus::Authorized
}

impl<'a> Added<'a> {
    fn of(p: &'a EmulatedPayment) -> Self {
        let amount = WireAmount::of(&p.amount);
        let paid = p.status == PaymentStatus::Paid;
        let amount_of = |minor: i64| amount.with_minor(minor).json();
        Self {
            webhook_url: p.webhook_url.as_deref(),
            cancel_url: p.cancel_url.as_deref(),
            locale: p.locale.as_deref(),
            lines: &p.lines,
            capture_mode: p.manual_capture.then_some("manual"),
            amount_captured: p
                .manual_capture
                .then(|| amount_of(captured_minor(&p.captures))),
            authorized_at: p.authorized_at.map(mollie_time),
            capture_before: p.capture_before.filter(|_| !p.released).map(mollie_time),
            amount_refunded: paid.then(|| amount_of(refunded_minor(&p.refunds))),
            amount_remaining: paid.then(|| amount_of(remaining_minor(p))),
            amount_charged_back: (!p.chargebacks.is_empty())
                .then(|| amount_of(charged_back_minor(&p.chargebacks))),
            final_at: FinalAt::of(p),
            is_cancelable: (!p.status.is_final()).then_some(p.status == PaymentStatus::Open),
            expires_at: at_checkout(p).then(|| mollie_time(p.expires_at)),
        }
    }
}

impl FinalAt {
    fn of(p: &EmulatedPayment) -> Option<Self> {
        let at = mollie_time(p.changed_at.unwrap_or(p.created_at));
        match p.status {
            PaymentStatus::Paid => Some(Self::Paid(at)),
            PaymentStatus::Failed => Some(Self::Failed(at)),
            PaymentStatus::Canceled => Some(Self::Canceled(at)),
            PaymentStatus::Expired => Some(Self::Expired(at)),
            PaymentStatus::Open | PaymentStatus::Pending | PaymentStatus::Authorized => None,
        }
    }
}

impl AddedLinks {
    fn of(p: &EmulatedPayment, base: &str) -> Self {
        let list = |present: bool, kind: &str| {
            present.then(|| Link::hal(format!("{base}/v2/payments/{}/{kind}", p.id)))
        };
        Self {
            checkout: at_checkout(p).then(|| Link::html(format!("{base}/checkout/{}", p.id))),
            refunds: list(!p.refunds.is_empty(), "refunds"),
            chargebacks: list(!p.chargebacks.is_empty(), "chargebacks"),
            captures: list(!p.captures.is_empty(), "captures"),
        }
    }
}

fn fields(value: &impl Serialize) -> Map<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(fields)) => fields,
        _ => unreachable!("a struct serializes to an object"),
    }
}

impl EmulatorState {
    /// The payment resource as Mollie's API returns it.
    pub fn resource(&self, p: &EmulatedPayment) -> Value {
        let base = &self.config.public_base_url;
        let mut body = fields(&Core::of(p, base));
        if let Some(overrides) = self.overrides.lock().expect("overrides lock").get(&p.id) {
            body.extend(overrides.clone());
        }
        body.extend(fields(&Added::of(p)));
        for (kind, link) in fields(&AddedLinks::of(p, base)) {
            body["_links"][kind] = link;
        }
        Value::Object(body)
    }
}

#[cfg(test)]
mod tests;
