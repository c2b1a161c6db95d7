//! The e-mails events call for, built from the committed state (the order
//! as stored when the message is sent, never the request that changed
//! it), in plain text and HTML with every value escaped. English; the
//! order keeps no language yet.

use crate::contact::EmailAddress;
use crate::events::{Event, EventKind};
use crate::order::OrderStatus;
use crate::payment_lines::vat_in;
use crate::ports::OrderRecord;
use crate::withdrawal;
use html_escape::encode_text as escape;
use std::fmt::Write as _;

/// A message to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailMessage {
    pub to: EmailAddress,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Who the shop is, for its messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShopIdentity {
    pub name: String,
    /// Where the owner's messages (incidents, chargebacks) go; none sent
    /// without it.
    pub owner_email: Option<EmailAddress>,
}

/// Why an event has no message on a channel.
pub type NoMessage = &'static str;

/// The message to the shopper that `event` calls for, as the order now is.
///
/// # Errors
///
/// Why there is none: the event has no shopper message, the order has no
/// address (erased), or the order's state no longer calls for it (a
/// failed attempt of an order since paid).
pub fn shopper_message(
    event: &Event,
    record: &OrderRecord,
    order_page: &str,
) -> Result<MailMessage, NoMessage> {
    let to = record
        .order
        .shopper_email()
        .cloned()
        .ok_or("no shopper address")?;
    let short = record.order.description();
    let (subject, body) = match event.kind() {
        EventKind::OrderPaid => (
            format!("{short}: thank you for your payment"),
            confirmation(record, event, order_page),
        ),
        EventKind::PaymentFailed { status } => {
            if OrderStatus::derive(&record.attempts) != OrderStatus::PaymentFailed(*status) {
                return Err("the order is no longer unpaid");
            }
            (
                format!("{short}: your payment did not go through"),
                Body::new()
                    .para(format!(
                        "Your payment of {} was {}; nothing was charged.",
                        event.amount(),
                        status.as_str()
                    ))
                    .para("Your order is kept: you can pay again on its page.")
                    .link("Pay again", order_page),
            )
        }
        EventKind::RefundSettled { .. } => (
            format!("{short}: your refund"),
            Body::new()
                .para(format!(
                    "We refunded {} to you. Depending on your bank it shows within a few days.",
                    event.amount()
                ))
                .link("Your order", order_page),
        ),
        EventKind::WithdrawalReceived => {
            let withdrawal = record
                .attempts
                .iter()
                .find_map(|a| a.withdrawal())
                .ok_or("no withdrawal on the order")?;
            (
                format!("{short}: we received your withdrawal"),
                Body::new()
                    .para(format!(
                        "We received your withdrawal from the contract on {}.",
                        withdrawal::when(withdrawal.received_at)
                    ))
                    .para("Your statement:")
                    .para(withdrawal::statement(record, &withdrawal.name))
                    .para(format!(
                        "We refund what you paid (or release what your bank reserved) by {} at the latest, the way you paid.",
                        withdrawal::when(withdrawal.refund_due())
                    ))
                    .link("Your order", order_page),
            )
        }
        _ => return Err("no message to the shopper for this event"),
    };
    Ok(body.into_message(to, subject))
}

/// The message to the shop's owner that `event` calls for.
///
/// # Errors
///
/// Why there is none: the event has no owner message, or no owner address
/// is configured.
pub fn owner_message(
    event: &Event,
    record: &OrderRecord,
    shop: &ShopIdentity,
    order_page: &str,
) -> Result<MailMessage, NoMessage> {
    let (subject, what) = match event.kind() {
        EventKind::IncidentRecorded { incident } => (
            format!("Action needed: {} on {}", incident.as_str(), record.order.id()),
            format!(
                "The provider took {} that the shop did not expect ({}). Ship the order or refund the payment.",
                event.amount(),
                incident.as_str()
            ),
        ),
        EventKind::ChargebackReceived { chargeback_id } => (
            format!("Chargeback on {}", record.order.id()),
            format!(
                "The shopper's bank took back {} (chargeback {chargeback_id}).",
                event.amount()
            ),
        ),
        EventKind::ChargebackReversed { chargeback_id } => (
            format!("Chargeback reversed on {}", record.order.id()),
            format!(
                "The bank gave back {} (chargeback {chargeback_id}).",
                event.amount()
            ),
        ),
        EventKind::AuthorizationExpiring { capture_before } => (
            format!("Capture soon: {}", record.order.id()),
            format!(
                "The shopper's authorization of {} lapses at {}: capture it (ship) or release it before then, or the money is lost to the shop.",
                event.amount(),
                capture_before
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default()
            ),
        ),
        EventKind::WithdrawalReceived => (
            format!("Withdrawal on {}", record.order.id()),
            format!(
                "The shopper withdrew from the contract: refund {} by {} at the latest (see the order).",
                event.amount(),
                record
                    .attempts
                    .iter()
                    .find_map(|a| a.withdrawal())
                    .map_or_else(String::new, |w| withdrawal::when(w.refund_due()))
            ),
        ),
        EventKind::StockOversold => (
            format!("Action needed: oversold on {}", record.order.id()),
            format!(
                "The provider took {} after the order's stock was given back, and the stock is gone: more was sold than you have. Restock and ship, or refund the payment.",
                event.amount()
            ),
        ),
        EventKind::RefundFailed { .. } => (
            format!("Refund failed on {}", record.order.id()),
            format!(
                "A refund of {} did not reach the shopper: the money is still owed.",
                event.amount()
            ),
        ),
        _ => return Err("no message to the owner for this event"),
    };
    let to = shop
        .owner_email
        .clone()
        .ok_or("no owner address configured")?;
    let body = Body::new()
        .para(what)
        .link("The order in the back office", order_page);
    Ok(body.into_message(to, format!("[{}] {subject}", shop.name)))
}

/// The order confirmation: its lines, VAT, total and a link to its page.
fn confirmation(record: &OrderRecord, event: &Event, order_page: &str) -> Body {
    let order = &record.order;
    let mut body = Body::new()
        .para("Thank you: we received your payment for this order.")
        .para(format!("Order number: {}", order.id()));
    let mut text = String::new();
    let mut rows = String::new();
    for line in order.lines() {
        let _ = writeln!(
            text,
            "{} x {} at {}: {}",
            line.quantity, line.name, line.unit_price, line.line_total
        );
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{}</td><td align=\"right\">{}</td><td align=\"right\">{}</td></tr>",
            line.quantity,
            escape(&line.name),
            line.unit_price,
            line.line_total
        );
    }
    let vat = order
        .lines()
        .iter()
        .filter_map(|l| l.vat_rate.map(|rate| (rate, vat_in(l.line_total, rate))))
        .collect::<Vec<_>>();
    for (rate, amount) in &vat {
        let _ = writeln!(text, "of which VAT {rate} %: {amount}");
        let _ = write!(
            rows,
            "<tr><td></td><td>of which VAT {rate} %</td><td></td><td align=\"right\">{amount}</td></tr>"
        );
    }
    let _ = writeln!(text, "Total paid: {}", order.total());
    let _ = write!(
        rows,
        "<tr><td></td><th align=\"left\">Total paid</th><td></td><th align=\"right\">{}</th></tr>",
        order.total()
    );
    body.text.push_str(&text);
    body.text.push('\n');
    let _ = write!(
        body.html,
        "<table cellpadding=\"6\" style=\"width: 100%; border-collapse: collapse\">{rows}</table>"
    );
    let paid_with = record
        .attempts
        .iter()
        .find(|attempt| attempt.id() == event.attempt_id())
        .and_then(|attempt| attempt.method());
    if let Some(method) = paid_with {
        body = body.para(format!("Paid with {method}."));
    }
    body.link("Your order", order_page)
}

/// A message's body, in both forms at once.
struct Body {
    text: String,
    html: String,
}

impl Body {
    fn new() -> Self {
        Self {
            text: String::new(),
            html: String::new(),
        }
    }

    fn para(mut self, words: impl AsRef<str>) -> Self {
        let words = words.as_ref();
        let _ = writeln!(self.text, "{words}\n");
        let _ = write!(self.html, "<p>{}</p>", escape(words));
        self
    }

    fn link(mut self, label: &str, url: &str) -> Self {
        let _ = writeln!(self.text, "{label}: {url}\n");
        let _ = write!(
            self.html,
            "<p><a href=\"{}\">{}</a></p>",
            html_escape::encode_double_quoted_attribute(url),
            escape(label)
        );
        self
    }

    fn into_message(self, to: EmailAddress, subject: String) -> MailMessage {
        let html = format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{}</title></head><body style=\"font-family: sans-serif; color: #1c1c1c\"><div style=\"max-width: 560px; margin: 0 auto; padding: 16px\"><h1 style=\"font-size: 20px\">{}</h1>{}</div></body></html>",
            escape(&subject),
            escape(&subject),
            self.html
        );
        MailMessage {
            to,
            subject,
            text: self.text,
            html,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::AttemptWrite;
    use crate::ids::ArticleId;
    use crate::order::{Order, OrderLine};
    use crate::payment::{PaymentAttempt, PaymentStatus};
    use crate::vat::VatRate;
    use crate::{Currency, Money};
    use time::OffsetDateTime;

    /// An order of one line named `name`, paid with `method`, and its
    /// `order.paid` event.
    fn paid_order(name: &str, method: Option<&str>) -> (OrderRecord, Event) {
        let now = OffsetDateTime::UNIX_EPOCH;
        let line = OrderLine {
            article_id: ArticleId::parse("mug").unwrap(),
            name: name.to_owned(),
            quantity: 2,
            unit_price: Money::new(1210, Currency::EUR),
            line_total: Money::new(2420, Currency::EUR),
            vat_rate: VatRate::parse("21"),
            sku: None,
        };
        let shopper = EmailAddress::parse("ann@example.com").unwrap();
        let order = Order::new(vec![line], shopper, now).unwrap();
        let before = PaymentAttempt::new(order.id().clone(), order.total(), now);
        let mut paid = before.clone();
        paid.observe(PaymentStatus::Paid);
        paid.learn_method(method);
        let write = AttemptWrite::new(&before, paid, now);
        let event = write.events()[0].clone();
        let record = OrderRecord {
            order,
            attempts: vec![write.into_next()],
        };
        (record, event)
    }

    #[test]
    fn the_confirmation_has_lines_vat_total_method_and_link() {
        let (record, event) = paid_order("Mug", Some("iDEAL"));
        let message = shopper_message(&event, &record, "https://shop.test/o/1").unwrap();
        for part in [
            "2 x Mug at €12.10: €24.20",
            "of which VAT 21.00 %: €4.20",
            "Total paid: €24.20",
            "Paid with iDEAL.",
            "Your order: https://shop.test/o/1",
        ] {
            assert!(message.text.contains(part), "{part} in {}", message.text);
        }
        assert!(message.html.contains("<p>Paid with iDEAL.</p>"));
        let (unknown, event) = paid_order("Mug", None);
        let message = shopper_message(&event, &unknown, "https://shop.test/o/1").unwrap();
        assert!(!message.text.contains("Paid with"));
    }

    #[test]
    fn every_value_in_the_html_is_escaped() {
        let (record, event) = paid_order("<b>Mug</b> & \"cup\"", Some("<i>Card</i>"));
        let message = shopper_message(&event, &record, "https://x.test/\"><script>").unwrap();
        assert!(!message.html.contains("<b>") && !message.html.contains("<i>"));
        // A method name with markup is not even kept.
        assert!(!message.text.contains("Paid with"));
        assert!(!message.html.contains("<script>"));
        assert!(message.html.contains("&lt;b&gt;Mug&lt;/b&gt; &amp;"));
        // Plain text stays as written.
        assert!(message.text.contains("<b>Mug</b> & \"cup\""));
    }
}
