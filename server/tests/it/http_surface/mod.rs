//! The whole server (pages, server functions, webhook, mounted emulator)
//! over real HTTP: security headers, body limits, and bad input that must
//! get a clear 4xx and change nothing.

use reqwest::header::{HeaderMap, CONTENT_TYPE, COOKIE};
use reqwest::StatusCode;
use server::config::Timing;
use server::Application;
use std::sync::Arc;

struct Site {
    base: String,
    shop: Arc<Application>,
    http: reqwest::Client,
    _data: tempfile::TempDir,
}

async fn site() -> Site {
    site_with(&[]).await
}

/// The whole server as `main` serves it, configured by `args` (flags).
async fn site_with(args: &[&str]) -> Site {
    let mut all = vec!["--store", "embedded"];
    all.extend_from_slice(args);
    let served = crate::common::serve(&all, Timing::default()).await;
    Site {
        base: served.base_url,
        shop: served.shop,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        _data: served.data,
    }
}

impl Site {
    async fn post(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<String>,
        cookie: Option<&str>,
    ) -> (StatusCode, HeaderMap, String) {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header(CONTENT_TYPE, content_type)
            .body(body.into());
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        let response = request.send().await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        (status, headers, response.text().await.unwrap())
    }

    async fn post_with(
        &self,
        path: &str,
        body: &str,
        headers: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, String) {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header(CONTENT_TYPE, FORM)
            .body(body.to_owned());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        (status, headers, response.text().await.unwrap())
    }

    async fn get(&self, path: &str) -> (StatusCode, HeaderMap, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("origin", "https://evil.example")
            .send()
            .await
            .unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        (status, headers, response.text().await.unwrap())
    }

    /// What a bad request must not change: attempts not final yet (every
    /// checkout makes one) and payments at the provider.
    async fn footprint(&self) -> (usize, u64) {
        // Every attempt not final is due a check by then.
        let far_future = time::OffsetDateTime::now_utc() + time::Duration::days(3650);
        let open = self
            .shop
            .service
            .due_attempts(far_future, 100_000)
            .await
            .unwrap()
            .len();
        (
            open,
            self.shop.emulator.as_ref().unwrap().payments_created(),
        )
    }
}

const FORM: &str = "application/x-www-form-urlencoded";

mod bad_input;
mod choices;
mod cloudfront;
mod headers;
mod rate_limits;
mod refusals;
