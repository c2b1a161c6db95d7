//! The Lambda figures: the shop's function and a bare lambda_http hello in
//! cargo lambda watch, cold start then warm requests.

use crate::processes::wait_until_listening;
use crate::report::Report;
use crate::stats::{ms, ratio, stats, timed, Stats};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use test_support::free_port;

/// cargo lambda watch serving one function, in its own process group (it
/// runs the function as a child): stopped as a group.
struct LambdaWatch {
    process: Child,
    base: String,
}

impl LambdaWatch {
    fn start(cargo_lambda: &str, package: &str, bin: &str, env: &[(String, String)]) -> Self {
        let port = free_port();
        let process = Command::new("setsid")
            .arg(cargo_lambda)
            .args([
                "lambda",
                "watch",
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
            ])
            .arg(port.to_string())
            .args([
                "--release",
                "--ignore-changes",
                "--disable-cors",
                "--package",
                package,
                "--bin",
                bin,
            ])
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cargo lambda runs");
        wait_until_listening(port, Duration::from_secs(60), "cargo lambda watch");
        Self {
            process,
            base: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for LambdaWatch {
    fn drop(&mut self) {
        let group = format!("-{}", self.process.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.process.wait();
    }
}

/// (cold, warm p50, warm p99) of one function: the first request after
/// cargo lambda watch starts (the binary already built: the function's
/// process start, its init and one request, plus the emulator's spawn),
/// then 200 requests to the running function.
async fn lambda_times(
    cargo_lambda: &str,
    package: &str,
    bin: &str,
    env: &[(String, String)],
    path: &str,
) -> (Duration, Stats) {
    let http = reqwest::Client::new();
    let get = |base: &str| {
        let request = http
            .get(format!("{base}{path}"))
            .header("x-origin-verify", ORIGIN_SECRET)
            .header("cloudfront-viewer-address", "198.51.100.7:50000")
            .timeout(Duration::from_secs(1800));
        async move {
            let r = request.send().await.unwrap();
            assert_eq!(r.status(), 200, "{path} of {bin}");
            r.bytes().await.unwrap()
        }
    };
    // The first request builds the function (release); not measured.
    let watch = LambdaWatch::start(cargo_lambda, package, bin, env);
    get(&watch.base).await;
    drop(watch);
    let mut cold = Vec::new();
    let watch = LambdaWatch::start(cargo_lambda, package, bin, env);
    timed(&mut cold, get(&watch.base)).await;
    let mut warm = Vec::new();
    for _ in 0..200 {
        timed(&mut warm, get(&watch.base)).await;
    }
    (cold[0], stats(warm))
}

/// What the bench's CloudFront would send the public function (at least
/// 32 characters; not a secret).
const ORIGIN_SECRET: &str = "bench-origin-secret-0123456789abcdef";

pub async fn lambda_starts(report: &mut Report, cargo_lambda: &str, shop_env: &[(String, String)]) {
    // The public function, as the stack configures it: it answers only
    // requests that come through CloudFront.
    let mut shop_env = shop_env.to_vec();
    shop_env.extend(
        [
            ("SHOP_LAMBDA_HANDLER", "http"),
            ("SHOP_CLIENT_ADDRESS", "cloudfront"),
            ("SHOP_ORIGIN_SECRET", ORIGIN_SECRET),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let (cold, warm) = lambda_times(cargo_lambda, "server", "server", &shop_env, "/health").await;
    let (hello_cold, hello_warm) =
        lambda_times(cargo_lambda, "bench", "lambda-hello", &[], "/").await;
    report.row(
        "Lambda function in cargo lambda watch (release, DynamoDB on moto): cold start, then warm `GET /health`",
        format!("cold {}; warm p50 {} p99 {}", ms(cold), ms(warm.p50), ms(warm.p99)),
        format!(
            "bare lambda_http hello: cold {}, warm p50 {} p99 {} (cold {}, warm {})",
            ms(hello_cold),
            ms(hello_warm.p50),
            ms(hello_warm.p99),
            ratio(cold, hello_cold),
            ratio(warm.p50, hello_warm.p50)
        ),
        "none set; reported",
    );
    report.notes.push("Lambda cold start: the first request after cargo lambda watch starts, the binary already built. It includes the emulator starting the function through cargo (a freshness check of the workspace), for both functions alike.".into());
}
