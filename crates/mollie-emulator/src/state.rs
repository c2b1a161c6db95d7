use crate::faults::{ApiFault, Faults};
use crate::webhooks;
use crate::EmulatorConfig;
use rand::distr::{Alphanumeric, SampleString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use time::format_description::FormatItem;
use time::macros::format_description;
use time::OffsetDateTime;

mod resource;

/// Mollie writes `2018-03-20T09:13:37+00:00`.
const MOLLIE_TIME: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]+00:00");

pub(crate) fn mollie_time(t: OffsetDateTime) -> String {
    t.format(MOLLIE_TIME).expect("a UTC time always formats")
}

/// A new resource id as Mollie makes them: `{prefix}_` and 10 letters and
/// digits (`tr_`, `re_`, `chb_`, `cpt_`).
pub(crate) fn new_id(prefix: &str) -> String {
    format!(
        "{prefix}_{}",
        Alphanumeric.sample_string(&mut rand::rng(), 10)
    )
}

/// Named as Mollie names them, by the serde rename alone: JSON, the
/// checkout page and `Display` all use it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentStatus {
    Open,
    Pending,
    Authorized,
    Paid,
    Failed,
    Canceled,
    Expired,
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // serde's Formatter serializer writes a unit variant's name.
        self.serialize(f)
    }
}

impl PaymentStatus {
    /// A status by Mollie's name for it.
    pub fn parse(text: &str) -> Option<Self> {
        use serde::de::IntoDeserializer;
        let name: serde::de::value::StrDeserializer<'_, serde::de::value::Error> =
            text.into_deserializer();
        Self::deserialize(name).ok()
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Paid | Self::Failed | Self::Canceled | Self::Expired
        )
    }
}

#[derive(Clone, Debug)]
pub struct EmulatedPayment {
    pub id: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub changed_at: Option<OffsetDateTime>,
    /// `{currency, value}` exactly as the client sent it (validated).
    pub amount: Value,
    pub description: String,
    pub redirect_url: String,
    pub cancel_url: Option<String>,
    pub webhook_url: Option<String>,
    pub metadata: Value,
    pub method: Option<String>,
    pub locale: Option<String>,
    pub status: PaymentStatus,
    /// Oldest first.
    pub refunds: Vec<crate::refunds::EmulatedRefund>,
    /// Oldest first.
    pub chargebacks: Vec<crate::chargebacks::EmulatedChargeback>,
    /// `captureMode: manual`: paying authorizes; the shop captures later.
    pub manual_capture: bool,
    /// As sent (checked): what is paid for.
    pub lines: Vec<Value>,
    pub authorized_at: Option<OffsetDateTime>,
    /// The authorization lapses then (`captureBefore`).
    pub capture_before: Option<OffsetDateTime>,
    /// Oldest first.
    pub captures: Vec<crate::captures::EmulatedCapture>,
    /// What was not captured may not be any more (released, or lapsed).
    pub released: bool,
}

/// A response kept for an idempotency key, with the request it answered.
#[derive(Clone)]
pub struct IdempotentResponse {
    pub request_fingerprint: String,
    pub status: u16,
    pub body: Value,
}

pub struct EmulatorState {
    pub config: EmulatorConfig,
    pub payments: Mutex<HashMap<String, EmulatedPayment>>,
    pub idempotency: Mutex<HashMap<String, IdempotentResponse>>,
    /// Built on first use (building loads root certificates).
    http: OnceLock<reqwest::Client>,
    pub faults: Mutex<Faults>,
    created: AtomicU64,
    pub webhook_calls: Arc<AtomicU64>,
    pub api_calls: AtomicU64,
    /// `None`: any well-formed `test_` key.
    pub accepted_keys: RwLock<Option<HashSet<String>>>,
    /// Fields reported instead of the real ones, by payment id.
    pub overrides: Mutex<HashMap<String, serde_json::Map<String, Value>>>,
}

impl EmulatorState {
    pub fn new(config: EmulatorConfig) -> Self {
        Self {
            payments: Mutex::default(),
            idempotency: Mutex::default(),
            http: OnceLock::new(),
            faults: Mutex::new(config.faults.clone()),
            created: AtomicU64::new(0),
            webhook_calls: Arc::default(),
            api_calls: AtomicU64::new(0),
            accepted_keys: RwLock::new(None),
            overrides: Mutex::default(),
            config,
        }
    }

    /// Counts an API call and takes the fault it must suffer, if any.
    pub fn take_api_fault(&self) -> Option<ApiFault> {
        self.api_calls.fetch_add(1, Ordering::Relaxed);
        self.faults.lock().expect("faults lock").take_api_fault()
    }

    pub fn webhook_calls(&self) -> u64 {
        self.webhook_calls.load(Ordering::Relaxed)
    }

    pub fn http(&self) -> reqwest::Client {
        self.http
            .get_or_init(|| {
                reqwest::Client::builder()
                    // Mollie gives a webhook call 15 s.
                    .timeout(std::time::Duration::from_secs(15))
                    .build()
                    .expect("a plain HTTP client builds")
            })
            .clone()
    }

    pub fn payments_created(&self) -> u64 {
        self.created.load(Ordering::Relaxed)
    }

    pub fn new_payment_id() -> String {
        new_id("tr")
    }

    pub fn insert(&self, payment: EmulatedPayment) {
        self.created.fetch_add(1, Ordering::Relaxed);
        self.payments
            .lock()
            .expect("payments lock")
            .insert(payment.id.clone(), payment);
    }

    /// The payment as it is now; an open payment past its expiry expires
    /// first (and its webhook is sent).
    pub fn get(&self, id: &str) -> Option<EmulatedPayment> {
        let now = OffsetDateTime::now_utc();
        let mut payments = self.payments.lock().expect("payments lock");
        let payment = payments.get_mut(id)?;
        if payment.status == PaymentStatus::Open && now >= payment.expires_at {
            payment.status = PaymentStatus::Expired;
            payment.changed_at = Some(now);
            webhooks::notify(self, payment);
        }
        self.lapse_authorization(payment, now);
        Some(payment.clone())
    }

    /// Moves an open payment to `status` and notifies its webhook. False
    /// when the payment is unknown or already final. Paying a payment with
    /// manual capture authorizes it (`captureBefore` is set).
    /// The shopper picked `method` on the hosted page of an open payment
    /// (kept when the shop had picked one already).
    pub fn choose_method(&self, id: &str, method: &str) {
        let _ = self.get(id); // applies expiry first
        let mut payments = self.payments.lock().expect("payments lock");
        if let Some(payment) = payments.get_mut(id) {
            if payment.status == PaymentStatus::Open {
                payment.method.get_or_insert_with(|| method.to_owned());
            }
        }
    }

    pub fn complete(self: &Arc<Self>, id: &str, status: PaymentStatus) -> bool {
        let _ = self.get(id); // applies expiry first
        let mut payments = self.payments.lock().expect("payments lock");
        let Some(payment) = payments.get_mut(id) else {
            return false;
        };
        let status = if payment.manual_capture && status == PaymentStatus::Paid {
            PaymentStatus::Authorized
        } else {
            status
        };
        if payment.status.is_final() || payment.status == status {
            return false;
        }
        let now = OffsetDateTime::now_utc();
        payment.status = status;
        payment.changed_at = Some(now);
        if status == PaymentStatus::Authorized && payment.manual_capture {
            payment.authorized_at = Some(now);
            let valid_for = self
                .config
                .authorization_valid_for
                .mul_f64(self.config.time_factor);
            payment.capture_before = Some(now + valid_for);
            crate::captures::lapse_on_time(self, id);
        }
        // Mollie does not call webhooks for open and pending.
        if !matches!(status, PaymentStatus::Open | PaymentStatus::Pending) {
            webhooks::notify(self, payment);
        }
        true
    }
}

/// Whether the emulator may send a webhook or a browser to `url`: only to a
/// loopback address or to an allowed origin, so it can never be made to
/// call or redirect anywhere else (no SSRF, no open redirect).
pub fn url_allowed(url: &str, allowed_origins: &[String]) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return false;
    };
    if !matches!(parsed.scheme(), "http" | "https") {
        return false;
    }
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    let origin = parsed.origin().ascii_serialization();
    loopback
        || allowed_origins
            .iter()
            .any(|allowed| allowed.trim_end_matches('/') == origin)
}

#[cfg(test)]
mod tests {
    use super::{url_allowed, PaymentStatus};

    #[test]
    fn a_status_has_one_name_in_json_pages_and_forms() {
        for (status, name) in [
            (PaymentStatus::Open, "open"),
            (PaymentStatus::Authorized, "authorized"),
            (PaymentStatus::Canceled, "canceled"),
        ] {
            assert_eq!(status.to_string(), name);
            assert_eq!(serde_json::json!(status), name);
            assert_eq!(PaymentStatus::parse(name), Some(status));
        }
        assert_eq!(PaymentStatus::parse("Paid"), None);
        assert_eq!(PaymentStatus::parse("refunded"), None);
    }

    #[test]
    fn only_loopback_and_allowed_origins() {
        let allowed = vec!["https://shop.example".to_owned()];
        for ok in [
            "http://127.0.0.1:3000/webhooks/mollie",
            "http://127.8.0.1/x",
            "http://localhost:8080/",
            "http://[::1]:3000/orders/1",
            "https://shop.example/orders/ord_1",
        ] {
            assert!(url_allowed(ok, &allowed), "{ok}");
        }
        for bad in [
            "https://evil.example/",
            "http://169.254.169.254/latest/meta-data",
            "http://10.0.0.1/",
            "https://shop.example.evil.example/",
            "http://shop.example/",
            "https://shop.example:8443/",
            "javascript:alert(1)",
            "http://127.0.0.1@evil.example/",
            "not a url",
        ] {
            assert!(!url_allowed(bad, &allowed), "{bad}");
        }
    }
}
