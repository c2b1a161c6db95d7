//! Two plain-server processes (the real binary) on one DynamoDB table
//! (moto): what the back office keeps in the store holds across processes,
//! as across Lambda instances. A wrong password on one counts on the
//! other; a sign-out on one ends the session on the other.

use crate::common::{moto_endpoint, operator_secrets, OPERATOR, OPERATOR_PASSWORD};
use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::StatusCode;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use test_support::free_port;

/// A server process, stopped when dropped.
struct Process {
    child: Child,
    url: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn table() -> String {
    use clap::Parser;
    let table = format!("processes-{}", checkout::CheckoutKey::generate());
    let endpoint = moto_endpoint();
    let config = server::config::Cli::parse_from([
        "server",
        "--store",
        "dynamodb",
        "--dynamodb-endpoint",
        &endpoint,
        "--dynamodb-table",
        &table,
    ])
    .config;
    server::create_table(&config).await.unwrap();
    table
}

/// The server binary, configured by the environment as in production.
async fn start(table: &str, extra: &[(&str, &str)]) -> Process {
    let port = free_port();
    let secrets = operator_secrets();
    let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
    command
        .env("LEPTOS_OUTPUT_NAME", "shop")
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_SITE_ROOT", "target/site")
        .env("LEPTOS_ENV", "PROD")
        .env("SHOP_STORE", "dynamodb")
        .env("SHOP_DYNAMODB_ENDPOINT", moto_endpoint())
        .env("SHOP_DYNAMODB_TABLE", table)
        .env("SHOP_ADMIN_OPERATORS", secrets.accounts.unwrap())
        .env("SHOP_SESSION_SECRET", secrets.session_secret.unwrap())
        // The per-process limiter out of the way: the store's count is tested.
        .env("SHOP_SIGN_IN_RATE_PER_MINUTE", "1000")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (name, value) in extra {
        command.env(name, value);
    }
    let process = Process {
        child: command.spawn().unwrap(),
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(format!("{}/health", process.url))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    process
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Signs in; the status and the session cookie, if one was set.
async fn sign_in(process: &Process, password: &str) -> (StatusCode, Option<String>) {
    let response = client()
        .post(format!("{}/api/admin/sign_in", process.url))
        // The server function's own status, not a plain form's redirect.
        .header("accept", "application/json")
        .form(&[("name", OPERATOR), ("password", password)])
        .send()
        .await
        .unwrap();
    let cookie = response
        .headers()
        .get(SET_COOKIE)
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .filter(|pair| !pair.ends_with('='));
    (response.status(), cookie)
}

async fn orders(process: &Process, cookie: &str) -> StatusCode {
    client()
        .post(format!("{}/api/admin/orders", process.url))
        .header(COOKIE, cookie)
        .header("accept", "application/json")
        .form(&[("status", "")])
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_sign_ins_on_one_process_count_on_the_other() {
    let table = table().await;
    let limit = [("SHOP_SIGN_IN_FAILURES_PER_ACCOUNT", "3")];
    let a = start(&table, &limit).await;
    let b = start(&table, &limit).await;
    for process in [&a, &b, &a] {
        let (status, cookie) = sign_in(process, "a wrong password").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(cookie, None);
    }
    // Three failures in all, none more than two on one process: the right
    // password is refused on either until the window ends.
    for process in [&b, &a] {
        let (status, cookie) = sign_in(process, OPERATOR_PASSWORD).await;
        assert_eq!(cookie, None, "signed in past the limit");
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_sign_ins_checks_no_more_passwords_than_the_limit() {
    let table = table().await;
    let limit = [("SHOP_SIGN_IN_FAILURES_PER_ACCOUNT", "3")];
    let a = start(&table, &limit).await;
    let b = start(&table, &limit).await;
    // Twelve wrong passwords at once, spread over both processes: each is
    // counted before its password is checked, so three are checked (401)
    // and the rest refused unchecked (429).
    let attempts: Vec<_> = (0..12)
        .map(|n| {
            let url = if n % 2 == 0 {
                a.url.clone()
            } else {
                b.url.clone()
            };
            tokio::spawn(async move {
                client()
                    .post(format!("{url}/api/admin/sign_in"))
                    .header("accept", "application/json")
                    .form(&[("name", OPERATOR), ("password", "a wrong password")])
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.unwrap());
    }
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((checked, refused), (3, 9), "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn after_an_account_change_a_process_with_the_old_accounts_signs_nobody_in() {
    let table = table().await;
    let running = start(&table, &[]).await;
    // `server end-sessions` after a password change (the binary, as an
    // owner runs it).
    let ended = Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["end-sessions", OPERATOR])
        .env("SHOP_STORE", "dynamodb")
        .env("SHOP_DYNAMODB_ENDPOINT", moto_endpoint())
        .env("SHOP_DYNAMODB_TABLE", &table)
        .status()
        .unwrap();
    assert!(ended.success());
    // The running process read the accounts before: the old password is
    // refused there (fail closed) ...
    let (status, cookie) = sign_in(&running, OPERATOR_PASSWORD).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(cookie, None);
    // ... and a process started after it, with the accounts as they are
    // now, signs the operator in.
    let restarted = start(&table, &[]).await;
    let (_, cookie) = sign_in(&restarted, OPERATOR_PASSWORD).await;
    assert!(cookie.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sign_out_on_one_process_ends_the_session_on_the_other() {
    let table = table().await;
    let a = start(&table, &[]).await;
    let b = start(&table, &[]).await;
    let (_, cookie) = sign_in(&a, OPERATOR_PASSWORD).await;
    let cookie = cookie.expect("signed in");
    assert_eq!(orders(&b, &cookie).await, StatusCode::OK);
    let signed_out = client()
        .post(format!("{}/api/admin/sign_out", a.url))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert!(signed_out.status().is_redirection() || signed_out.status().is_success());
    // The old cookie, kept by whoever copied it, is refused everywhere.
    assert_eq!(orders(&b, &cookie).await, StatusCode::UNAUTHORIZED);
    assert_eq!(orders(&a, &cookie).await, StatusCode::UNAUTHORIZED);
    // A new sign-in works.
    let (_, again) = sign_in(&b, OPERATOR_PASSWORD).await;
    assert_eq!(orders(&a, &again.expect("signed in")).await, StatusCode::OK);
}
