//! `/admin/orders/{id}`'s order: its lines and money, the actions that fix
//! it, its payments and its audit log.

use super::api::{
    BackOfficeCancel, BackOfficeCapture, BackOfficeErase, BackOfficeRefresh, BackOfficeRefund,
    BackOfficeRelease, BackOfficeResend,
};
use super::attempt::Attempt;
use super::views::{
    AuditView, BackOfficeLineView, BackOfficeOrderView, MessageView, RefundablePaymentView,
};
use super::{alert, OperatorBar};
use leptos::prelude::*;

/// The order page's forms, each a server action whose refusal the page
/// shows at its top.
#[derive(Clone, Copy)]
struct Actions {
    refresh: ServerAction<BackOfficeRefresh>,
    refund: ServerAction<BackOfficeRefund>,
    capture: ServerAction<BackOfficeCapture>,
    release: ServerAction<BackOfficeRelease>,
    cancel: ServerAction<BackOfficeCancel>,
    resend: ServerAction<BackOfficeResend>,
    erase: ServerAction<BackOfficeErase>,
}

impl Actions {
    fn new() -> Self {
        Self {
            refresh: ServerAction::new(),
            refund: ServerAction::new(),
            capture: ServerAction::new(),
            release: ServerAction::new(),
            cancel: ServerAction::new(),
            resend: ServerAction::new(),
            erase: ServerAction::new(),
        }
    }

    /// Their refusals, as alerts.
    fn errors(self) -> impl IntoView {
        [
            self.cancel.value().get().and_then(Result::err),
            self.refresh.value().get().and_then(Result::err),
            self.refund.value().get().and_then(Result::err),
            self.capture.value().get().and_then(Result::err),
            self.release.value().get().and_then(Result::err),
            self.resend.value().get().and_then(Result::err),
            self.erase.value().get().and_then(Result::err),
        ]
        .into_iter()
        .map(alert)
        .collect_view()
    }
}

#[component]
pub(super) fn OrderPage(order: BackOfficeOrderView) -> impl IntoView {
    let actions = Actions::new();
    let attention = (!order.attention.is_empty()).then(|| {
        view! { <p class="alert" role="alert">"Needs a look: "{order.attention.join(", ")}</p> }
    });
    let money = (
        order.paid.clone(),
        order.refunded.clone(),
        order.charged_back.clone(),
    );
    let attempts = order
        .attempts
        .iter()
        .cloned()
        .map(|attempt| view! { <Attempt attempt/> })
        .collect_view();
    view! {
        <OperatorBar operator=order.operator.clone()/>
        <section class="panel admin admin-order">
            <h1>"Order "<span data-testid="order-id">{order.id.clone()}</span></h1>
            <p>"Created "{order.created_at.clone()}" · status "<strong data-testid="order-status">{order.status.clone()}</strong></p>
            <p>"Shopper: "<span data-testid="shopper-email">{order.shopper_email.clone().unwrap_or_else(|| "(no address)".to_owned())}</span></p>
            {order.withdrawal.clone().map(|w| view! { <p class="alert" data-testid="withdrawal">{w}</p> })}
            {attention}
            {move || actions.errors()}
            <OrderLines lines=order.lines.clone() total=order.total.clone()/>
            <Money paid=money.0 refunded=money.1 charged_back=money.2/>
            <OrderActions order=order.clone() actions/>
            <h2>"Payments"</h2>
            {attempts}
            <h2>"Messages"</h2>
            <Messages messages=order.messages.clone() resend=actions.resend order_id=order.id.clone()/>
            <h2>"Audit log"</h2>
            <AuditLog audit=order.audit/>
        </section>
    }
}

#[component]
fn OrderLines(lines: Vec<BackOfficeLineView>, total: String) -> impl IntoView {
    let lines = lines
        .into_iter()
        .map(|l| {
            view! {
                <tr>
                    <td>{l.name}</td>
                    <td>{l.sku.unwrap_or_default()}</td>
                    <td>{l.quantity}</td>
                    <td>{l.unit_price}</td>
                    <td>{l.line_total}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="admin-lines">
            <thead><tr><th>"Article"</th><th>"SKU"</th><th>"Quantity"</th><th>"Unit price"</th><th>"Total"</th></tr></thead>
            <tbody>{lines}</tbody>
            <tfoot><tr><td colspan="4">"Total"</td><td data-testid="order-total">{total}</td></tr></tfoot>
        </table>
    }
}

/// What was paid, refunded and charged back, each only when there is some.
#[component]
fn Money(
    paid: Option<String>,
    refunded: Option<String>,
    charged_back: Option<String>,
) -> impl IntoView {
    let money = [
        ("Paid", paid, "paid"),
        ("Refunded", refunded, "refunded"),
        ("Charged back", charged_back, "charged-back"),
    ]
    .into_iter()
    .filter_map(|(label, amount, id)| {
        amount.map(|a| view! { <dt>{label}</dt><dd data-testid=id>{a}</dd> })
    })
    .collect_view();
    view! { <dl class="admin-money">{money}</dl> }
}

/// The forms that act on the order: each only when it can.
#[component]
fn OrderActions(order: BackOfficeOrderView, actions: Actions) -> impl IntoView {
    let refund_form = order.refundable.clone().map(|refundable| {
        view! {
            <RefundForm
                action=actions.refund
                order_id=order.id.clone()
                refund_id=order.refund_id.clone()
                currency=order.currency.clone()
                refundable
                payments=order.refundable_payments.clone()
            />
        }
    });
    let capture_forms = order.awaits_capture.then(|| {
        view! {
            <CaptureForms
                capture=actions.capture
                release=actions.release
                order_id=order.id.clone()
                capture_id=order.capture_id.clone()
                currency=order.currency.clone()
            />
        }
    });
    let cancel_form = order
        .cancelable
        .then(|| view! { <CancelForm action=actions.cancel order_id=order.id.clone()/> });
    let erase_id = order.id.clone();
    let erase_form = order.shopper_email.is_some().then(move || {
        view! {
            <ActionForm action=actions.erase attr:class="admin-action erase">
                {order_action(
                    "Erase personal data",
                    erase_id,
                    " Yes, remove the shopper's e-mail address from this order",
                    "Erase",
                )}
            </ActionForm>
        }
    });
    view! {
        <div class="admin-actions">
            <ActionForm action=actions.refresh attr:class="admin-action refresh">
                <h3>"Refresh"</h3>
                <input type="hidden" name="order_id" value=order.id/>
                <button type="submit" class="secondary">"Check payments at Mollie"</button>
            </ActionForm>
            {refund_form}
            {capture_forms}
            {cancel_form}
            {erase_form}
        </div>
    }
}

#[component]
fn RefundForm(
    action: ServerAction<BackOfficeRefund>,
    order_id: String,
    refund_id: String,
    currency: String,
    /// What remains to refund of the order, as a decimal.
    refundable: String,
    payments: Vec<RefundablePaymentView>,
) -> impl IntoView {
    // The amount offered is what remains of the payment chosen first.
    let prefilled = payments
        .iter()
        .find(|p| p.preselected)
        .map_or_else(|| refundable.clone(), |p| p.refundable_decimal.clone());
    view! {
        <ActionForm action attr:class="admin-action refund">
            <h3>"Refund"</h3>
            <input type="hidden" name="order_id" value=order_id/>
            <input type="hidden" name="refund_id" value=refund_id/>
            {refund_payment(&payments)}
            <label for="refund-amount">"Amount ("{currency}")"</label>
            <input id="refund-amount" name="amount" value=prefilled inputmode="decimal" required/>
            <label for="refund-reason">"Reason"</label>
            <input id="refund-reason" name="reason" maxlength="200"/>
            <Confirm text=" Yes, give this money back to the shopper"/>
            <button type="submit">"Refund"</button>
            <p class="hint">"At most "{refundable}" remains to refund."</p>
        </ActionForm>
    }
}

/// Which payment the money goes back from: a choice only when the order
/// was paid more than once, else the one with money left.
fn refund_payment(payments: &[RefundablePaymentView]) -> impl IntoView {
    let only = (payments.len() == 1).then(|| {
        view! { <input type="hidden" name="payment" value=payments[0].provider_payment_id.clone()/> }
    });
    let payment_choice = (payments.len() > 1).then(|| {
        let options = payments
            .iter()
            .map(|p| {
                let label = format!("{} ({} refundable)", p.provider_payment_id, p.refundable);
                view! {
                    <option value=p.provider_payment_id.clone() selected=p.preselected>{label}</option>
                }
            })
            .collect_view();
        view! {
            <label for="refund-payment">"Payment"</label>
            <select id="refund-payment" name="payment" data-testid="refund-payment">{options}</select>
        }
    });
    (only, payment_choice)
}

#[component]
fn CaptureForms(
    capture: ServerAction<BackOfficeCapture>,
    release: ServerAction<BackOfficeRelease>,
    order_id: String,
    capture_id: String,
    currency: String,
) -> impl IntoView {
    let release_id = order_id.clone();
    view! {
        <ActionForm action=capture attr:class="admin-action capture">
            <h3>"Capture"</h3>
            <input type="hidden" name="order_id" value=order_id/>
            <input type="hidden" name="capture_id" value=capture_id/>
            <label for="capture-amount">"Amount ("{currency}", empty: all)"</label>
            <input id="capture-amount" name="amount" inputmode="decimal"/>
            <Confirm text=" Yes, take this money"/>
            <button type="submit">"Capture"</button>
        </ActionForm>
        <ActionForm action=release attr:class="admin-action release">
            {order_action(
                "Release",
                release_id,
                " Yes, release what is left of the authorization",
                "Release",
            )}
        </ActionForm>
    }
}

#[component]
fn CancelForm(action: ServerAction<BackOfficeCancel>, order_id: String) -> impl IntoView {
    view! {
        <ActionForm action attr:class="admin-action cancel">
            {order_action(
                "Cancel payment",
                order_id,
                " Yes, nobody may pay this payment any more",
                "Cancel payment",
            )}
        </ActionForm>
    }
}

/// The body of an action's form that needs only the order and a tick.
fn order_action(
    title: &'static str,
    order_id: String,
    confirm: &'static str,
    button: &'static str,
) -> impl IntoView {
    view! {
        <h3>{title}</h3>
        <input type="hidden" name="order_id" value=order_id/>
        <Confirm text=confirm/>
        <button type="submit" class="secondary">{button}</button>
    }
}

/// The box an operator ticks to confirm an action on the order's money.
#[component]
fn Confirm(text: &'static str) -> impl IntoView {
    view! {
        <label class="confirm">
            <input type="checkbox" name="confirm" value="yes" required/>
            {text}
        </label>
    }
}

/// The order's events, how far each went out, and the message to the
/// shopper each called for (its HTML in a sandboxed frame: no scripts, no
/// links followed inside the back office).
#[component]
fn Messages(
    messages: Vec<MessageView>,
    resend: ServerAction<BackOfficeResend>,
    order_id: String,
) -> impl IntoView {
    let none = messages
        .is_empty()
        .then(|| view! { <p>"No events yet."</p> });
    let items = messages
        .into_iter()
        .map(|m| {
            let deliveries = m
                .deliveries
                .into_iter()
                .map(|d| {
                    let (order_id, event_id) = (order_id.clone(), m.event_id.clone());
                    let channel = d.channel.clone();
                    let again = d.resendable.then(|| view! {
                        <ActionForm action=resend attr:class="resend">
                            <input type="hidden" name="order_id" value=order_id/>
                            <input type="hidden" name="event_id" value=event_id/>
                            <input type="hidden" name="channel" value=channel/>
                            <button type="submit" class="secondary">"Send again"</button>
                        </ActionForm>
                    });
                    view! { <li><code>{d.channel}</code>": "{d.state}{again}</li> }
                })
                .collect_view();
            let message = m.subject.map(|subject| {
                view! {
                    <details>
                        <summary data-testid="message-subject">{subject}</summary>
                        <iframe class="admin-message" sandbox="" srcdoc=m.html.unwrap_or_default() title="The message"></iframe>
                    </details>
                }
            });
            let event_type = m.event_type.clone();
            view! {
                <li data-event=m.event_id data-event-type=m.event_type>
                    <strong>{event_type}</strong>" · "{m.occurred_at}
                    <ul>{deliveries}</ul>
                    {message}
                </li>
            }
        })
        .collect_view();
    view! {
        {none}
        <ul class="admin-messages" data-testid="messages">{items}</ul>
    }
}

/// Every operator action on the order and its outcome.
#[component]
fn AuditLog(audit: Vec<AuditView>) -> impl IntoView {
    let no_audit = audit
        .is_empty()
        .then(|| view! { <p>"No operator has acted on this order."</p> });
    let rows = audit
        .into_iter()
        .map(|e| {
            view! {
                <tr>
                    <td>{e.at}</td>
                    <td>{e.operator}</td>
                    <td>{e.action}</td>
                    <td>{e.outcome}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        {no_audit}
        <table class="admin-audit" data-testid="audit-log">
            <thead><tr><th>"When"</th><th>"Operator"</th><th>"Action"</th><th>"Outcome"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
