//! What the measurements ask the running shop over HTTP: checkouts, the
//! emulator's payment page and faults, the status function.

use crate::processes::Server;

/// The emulator's API key in the bench (a test key, not a secret).
pub const KEY: &str = "Bearer test_benchmark";

impl Server {
    async fn form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// A checkout's form posted as a browser without JavaScript does (one
    /// mug in the cart); returns the checkout page it redirects to. The shop
    /// answers `/api/checkout`; the bare reference `/checkout`.
    pub async fn post_checkout(&self, path: &str, n: usize) -> String {
        let key = format!("bench{n:027}");
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .form(&[
                ("checkout_key", key.as_str()),
                ("email", "bench@example.com"),
            ])
            .header("cookie", "cart=mug.1")
            // As a browser posts the form without JavaScript.
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_redirection(),
            "{path}: {}",
            response.status()
        );
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert!(!location.is_empty(), "{path}: no checkout page");
        location
    }

    /// A checkout through the real server function; returns (order id, tr_ id).
    pub async fn checkout(&self, n: usize) -> (String, String) {
        let location = self.post_checkout("/api/checkout", n).await;
        let provider_id = location.rsplit('/').next().unwrap().to_owned();
        let mollie_api = format!("{}/mollie/v2", self.base);
        let payment = emulator_payment(&self.http, &mollie_api, &provider_id).await;
        (
            payment["metadata"]["order_id"].as_str().unwrap().to_owned(),
            provider_id,
        )
    }

    pub async fn faults(&self, faults: serde_json::Value) {
        let r = self
            .http
            .put(format!("{}/mollie/_emulator/faults", self.base))
            .json(&faults)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
    }

    pub async fn pay_at_emulator(&self, provider_id: &str) {
        let r = self
            .form(
                &format!("/mollie/checkout/{provider_id}"),
                &[("outcome", "paid")],
            )
            .await;
        assert_eq!(r.status(), 303);
    }

    pub async fn status(&self, order_id: &str) -> String {
        let view: serde_json::Value = self
            .form("/api/order_status", &[("order_id", order_id)])
            .await
            .json()
            .await
            .unwrap();
        view["status"].as_str().unwrap_or_default().to_owned()
    }
}

/// A payment as the emulator's API at `api` (`.../v2`) shows it.
pub async fn emulator_payment(
    http: &reqwest::Client,
    api: &str,
    payment_id: &str,
) -> serde_json::Value {
    http.get(format!("{api}/payments/{payment_id}"))
        .header("authorization", KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
