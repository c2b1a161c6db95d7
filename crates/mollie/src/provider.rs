//! The domain's `PaymentProvider` port, on Mollie.

use crate::client::{MollieClient, MollieError};
use crate::ids::PaymentId;
use crate::method::Method;
use crate::types::{
    Amount, CaptureMode, Chargeback, CreateCapture, CreatePayment, CreateRefund, Line, Payment,
    PaymentStatus as MollieStatus, Refund, RefundStatus as MollieRefundStatus,
};
use async_trait::async_trait;
use checkout::{
    Cause, NewCapture, NewPayment, NewRefund, PaymentLine, PaymentMetadata, PaymentMode,
    PaymentProvider, PaymentStatus, ProviderChargeback, ProviderChargebackId, ProviderError,
    ProviderPayment, ProviderPaymentId, ProviderRefund, ProviderRefundId, RefundId, RefundStatus,
};

fn provider_error(e: MollieError) -> ProviderError {
    match e {
        MollieError::Api { status: 404, .. } => ProviderError::NotFound,
        MollieError::Decode(_) => ProviderError::Malformed(Cause::new(e)),
        e if e.is_retryable() => ProviderError::Unavailable(Cause::new(e)),
        e => ProviderError::Rejected(Cause::new(e)),
    }
}

fn domain_status(status: MollieStatus) -> Option<PaymentStatus> {
    Some(match status {
        MollieStatus::Open => PaymentStatus::Open,
        MollieStatus::Pending => PaymentStatus::Pending,
        MollieStatus::Authorized => PaymentStatus::Authorized,
        MollieStatus::Paid => PaymentStatus::Paid,
        MollieStatus::Canceled => PaymentStatus::Canceled,
        MollieStatus::Expired => PaymentStatus::Expired,
        MollieStatus::Failed => PaymentStatus::Failed,
        MollieStatus::Unknown => return None,
    })
}

/// Mollie's id of a payment of ours; one not of Mollie's form was never
/// made there.
fn mollie_id(id: &ProviderPaymentId) -> Result<PaymentId, ProviderError> {
    PaymentId::try_from(id).map_err(|_| ProviderError::NotFound)
}

fn provider_payment(payment: Payment) -> Result<ProviderPayment, ProviderError> {
    let id = ProviderPaymentId::from(payment.id.clone());
    let amount = payment.amount.to_money().map_err(|e| {
        ProviderError::Malformed(Cause::message(format!(
            "payment {} has a bad amount: {e}",
            payment.id
        )))
    })?;
    let mode = match payment.mode.as_str() {
        "live" => PaymentMode::Live,
        "test" => PaymentMode::Test,
        _ => {
            return Err(ProviderError::Malformed(Cause::message(format!(
                "payment {} has an unknown mode",
                payment.id
            ))))
        }
    };
    // Payments made by other software on the same account carry other metadata.
    let metadata = payment
        .metadata
        .clone()
        .and_then(|m| serde_json::from_value::<PaymentMetadata>(m).ok());
    let embedded = payment.embedded.clone().unwrap_or_default();
    let captured = match &payment.amount_captured {
        None => None,
        Some(captured) => Some(captured.to_money().map_err(|e| {
            ProviderError::Malformed(Cause::message(format!(
                "payment {} has a bad captured amount: {e}",
                payment.id
            )))
        })?),
    };
    Ok(ProviderPayment {
        captured,
        capture_before: payment.capture_before,
        method: payment.method.as_ref().map(|m| m.name().to_owned()),
        refunds: embedded
            .refunds
            .iter()
            .filter_map(provider_refund)
            .collect(),
        chargebacks: embedded
            .chargebacks
            .iter()
            .filter_map(provider_chargeback)
            .collect(),
        mode,
        profile_id: payment.profile_id.clone(),
        checkout_url: payment.checkout_url().map(str::to_owned),
        status: domain_status(payment.status),
        id,
        amount,
        metadata,
    })
}

/// A refund as the domain sees it; one we cannot read (a status added to
/// the API later, an odd amount) is left out and logged, and counted once a
/// later read can read it.
fn provider_refund(refund: &Refund) -> Option<ProviderRefund> {
    let status = match refund.status {
        MollieRefundStatus::Queued | MollieRefundStatus::Pending => RefundStatus::Pending,
        MollieRefundStatus::Processing => RefundStatus::Processing,
        MollieRefundStatus::Refunded => RefundStatus::Refunded,
        MollieRefundStatus::Failed => RefundStatus::Failed,
        MollieRefundStatus::Canceled => RefundStatus::Canceled,
        MollieRefundStatus::Unknown => {
            tracing::error!(operator_action = true, refund_id = %refund.id, "a refund status we do not know; left out of the order");
            return None;
        }
    };
    let (Some(id), Ok(amount)) = (
        ProviderRefundId::parse(&refund.id),
        refund.amount.to_money(),
    ) else {
        tracing::error!(operator_action = true, refund_id = ?refund.id.chars().take(64).collect::<String>(), "a refund we cannot read; left out of the order");
        return None;
    };
    // Ours carry our refund id in their metadata.
    let refund_id = refund
        .metadata
        .as_ref()
        .and_then(|m| m.get("refund_id"))
        .and_then(|v| v.as_str())
        .and_then(RefundId::parse);
    Some(ProviderRefund {
        id,
        amount,
        status,
        refund_id,
        made_at: refund.created_at,
    })
}

/// A chargeback as the domain sees it; one we cannot read is left out and
/// logged, like a refund.
fn provider_chargeback(chargeback: &Chargeback) -> Option<ProviderChargeback> {
    let (Some(id), Ok(amount)) = (
        ProviderChargebackId::parse(&chargeback.id),
        chargeback.amount.to_money(),
    ) else {
        tracing::error!(operator_action = true, chargeback_id = ?chargeback.id.chars().take(64).collect::<String>(), "a chargeback we cannot read; left out of the order");
        return None;
    };
    Some(ProviderChargeback {
        id,
        amount,
        reason: chargeback.reason.as_ref().map(|r| r.description.clone()),
        reversed_at: chargeback.reversed_at,
    })
}

/// A payment line as Mollie takes it: every order line is a physical good.
fn wire_line(line: &PaymentLine) -> Line {
    Line {
        kind: "physical".into(),
        description: line.description.clone(),
        quantity: line.quantity,
        unit_price: Amount::from_money(line.unit_price),
        total_amount: Amount::from_money(line.total),
        vat_rate: line.vat_rate.to_string(),
        vat_amount: Amount::from_money(line.vat_amount),
        sku: line.sku.clone(),
    }
}

#[async_trait]
impl PaymentProvider for MollieClient {
    async fn create_payment(&self, new: &NewPayment) -> Result<ProviderPayment, ProviderError> {
        let request = CreatePayment {
            amount: Amount::from_money(new.amount),
            description: new.description.clone(),
            redirect_url: new.redirect_url.clone(),
            cancel_url: None,
            webhook_url: Some(new.webhook_url.clone()),
            metadata: Some(
                serde_json::to_value(&new.metadata)
                    .map_err(|e| ProviderError::Rejected(Cause::new(e)))?,
            ),
            locale: new.locale.map(|l| l.as_str().to_owned()),
            method: new.method.as_deref().map(Method::from_id),
            capture_mode: match new.capture_mode {
                checkout::CaptureMode::Automatic => None,
                checkout::CaptureMode::Manual => Some(CaptureMode::Manual),
            },
            lines: new.lines.iter().map(wire_line).collect(),
        };
        let payment = MollieClient::create_payment(self, &request, &new.idempotency_key)
            .await
            .map_err(provider_error)?;
        provider_payment(payment)
    }

    async fn payment_methods(
        &self,
        amount: checkout::Money,
        locale: Option<checkout::Locale>,
    ) -> Result<Vec<checkout::PaymentMethod>, ProviderError> {
        let methods = self
            .list_methods(
                &Amount::from_money(amount),
                locale.map(checkout::Locale::as_str),
            )
            .await
            .map_err(provider_error)?;
        Ok(methods
            .into_iter()
            .map(|m| checkout::PaymentMethod {
                id: m.id.into(),
                name: m.description,
                image: m.image.svg,
            })
            .collect())
    }

    async fn get_payment(
        &self,
        provider_payment_id: &ProviderPaymentId,
    ) -> Result<ProviderPayment, ProviderError> {
        let payment = MollieClient::get_payment_with_money(self, &mollie_id(provider_payment_id)?)
            .await
            .map_err(provider_error)?;
        provider_payment(payment)
    }

    async fn cancel_payment(
        &self,
        provider_payment_id: &ProviderPaymentId,
    ) -> Result<(), ProviderError> {
        MollieClient::cancel_payment(self, &mollie_id(provider_payment_id)?)
            .await
            .map(|_| ())
            .map_err(provider_error)
    }

    async fn create_refund(
        &self,
        provider_payment_id: &ProviderPaymentId,
        refund: &NewRefund,
    ) -> Result<ProviderRefund, ProviderError> {
        let request = CreateRefund {
            amount: Amount::from_money(refund.amount),
            description: Some(refund.description.clone()),
            metadata: Some(serde_json::json!({ "refund_id": refund.refund_id })),
        };
        let created = MollieClient::create_refund(
            self,
            &mollie_id(provider_payment_id)?,
            &request,
            refund.refund_id.as_str(),
        )
        .await
        .map_err(|e| {
            if e.is_duplicate_refund() {
                ProviderError::Duplicate(Cause::new(e))
            } else {
                provider_error(e)
            }
        })?;
        provider_refund(&created)
            .ok_or_else(|| ProviderError::Malformed(Cause::message("a refund we cannot read")))
    }

    async fn create_capture(
        &self,
        provider_payment_id: &ProviderPaymentId,
        capture: &NewCapture,
    ) -> Result<(), ProviderError> {
        let request = CreateCapture {
            amount: capture.amount.map(Amount::from_money),
            description: Some(capture.description.clone()),
            metadata: Some(serde_json::json!({ "capture_id": capture.capture_id })),
        };
        MollieClient::create_capture(
            self,
            &mollie_id(provider_payment_id)?,
            &request,
            capture.capture_id.as_str(),
        )
        .await
        .map(|_| ())
        .map_err(provider_error)
    }

    async fn release_authorization(
        &self,
        provider_payment_id: &ProviderPaymentId,
    ) -> Result<(), ProviderError> {
        MollieClient::release_authorization(self, &mollie_id(provider_payment_id)?)
            .await
            .map_err(provider_error)
    }

    fn mode(&self) -> PaymentMode {
        if self.config().api_key.is_test_mode() {
            PaymentMode::Test
        } else {
            PaymentMode::Live
        }
    }

    fn profile_id(&self) -> Option<&str> {
        self.config().profile_id.as_deref()
    }
}
