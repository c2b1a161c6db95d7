//! What a checkout, a webhook, a status poll and a reconcile pass cost on
//! Lambda, measured in cargo lambda's emulation of the runtime API.
//!
//! cargo lambda prints no `REPORT` lines, so the bench stands between the
//! function and the emulated runtime API (`RuntimeObserver`) and writes
//! them itself, as Lambda measures them: an invocation's duration runs from
//! the event handed to the function (the answer to its
//! `GET .../invocation/next`) to its `POST .../response`, billed rounded
//! up to the millisecond; the init duration from the process's start to its
//! first `next`; the memory used is the process's peak resident set
//! (`VmHWM`). cargo lambda watch runs with `--only-lambda-apis`, and the
//! bench starts the release binary itself, so no `cargo run` is timed.
//!
//! Lambda gives a function CPU in proportion to its memory (one vCPU at
//! 1,769 MB). Where the bench may make a cgroup (v1 `cpu`, as root), the
//! function runs under that share of one core; otherwise it runs on the
//! machine's cores and the report says so.

use crate::processes::{start_moto, wait_until_listening, Process};
use crate::report::Report;
use crate::stats::{ms, stats, Stats};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use test_support::free_port;

/// Lambda's price for arm64 compute (us-east-1 and eu-west-1, November
/// 2026) per GB-second, and per request.
const PRICE_PER_GB_SECOND: f64 = 0.000_013_333_4;
const PRICE_PER_REQUEST: f64 = 0.000_000_2;
/// Memory at which Lambda gives a function one full vCPU.
const ONE_VCPU_MB: u64 = 1_769;

#[derive(Default)]
struct Observed {
    handed_out: HashMap<String, Instant>,
    finished: Vec<Duration>,
    first_next: Option<Instant>,
}

/// A proxy in front of cargo lambda's runtime API that times invocations.
struct RuntimeObserver {
    port: u16,
    observed: Arc<Mutex<Observed>>,
    server: tokio::task::JoinHandle<()>,
}

struct Proxy {
    upstream: String,
    http: reqwest::Client,
    observed: Arc<Mutex<Observed>>,
}

async fn forward(
    State(proxy): State<Arc<Proxy>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let is_next = path.ends_with("/invocation/next");
    // A function's error ends its invocation too; the request then
    // fails its status check with the function's own answer.
    if method == Method::POST && (path.ends_with("/response") || path.ends_with("/error")) {
        let ended = Instant::now();
        let id = path.rsplit('/').nth(1).unwrap_or_default();
        let mut observed = proxy.observed.lock().unwrap();
        if let Some(started) = observed.handed_out.remove(id) {
            observed.finished.push(ended - started);
        }
    }
    if is_next {
        proxy
            .observed
            .lock()
            .unwrap()
            .first_next
            .get_or_insert_with(Instant::now);
    }
    let target = format!(
        "{}{}",
        proxy.upstream,
        uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
    );
    let mut request = proxy.http.request(method, target).body(body);
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    let upstream = request
        .send()
        .await
        .expect("cargo lambda's runtime API answers");
    let status = upstream.status();
    let mut answer_headers = HeaderMap::new();
    for (name, value) in upstream.headers() {
        if name != "content-length" && name != "transfer-encoding" {
            answer_headers.insert(name, value.clone());
        }
    }
    let body = upstream.bytes().await.expect("a body");
    if is_next {
        if let Some(id) = answer_headers
            .get("lambda-runtime-aws-request-id")
            .and_then(|v| v.to_str().ok())
        {
            let mut observed = proxy.observed.lock().unwrap();
            observed.handed_out.insert(id.to_owned(), Instant::now());
        }
    }
    (status, answer_headers, body).into_response()
}

impl RuntimeObserver {
    async fn start(upstream_port: u16) -> Self {
        let observed = Arc::new(Mutex::new(Observed::default()));
        let proxy = Arc::new(Proxy {
            upstream: format!("http://127.0.0.1:{upstream_port}"),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            observed: observed.clone(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let app = axum::Router::new().fallback(forward).with_state(proxy);
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            port,
            observed,
            server,
        }
    }

    /// The durations of the invocations finished since the last call.
    fn take_finished(&self) -> Vec<Duration> {
        std::mem::take(&mut self.observed.lock().unwrap().finished)
    }
}

impl Drop for RuntimeObserver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// cargo lambda watch serving the runtime API and the function URL only.
fn runtime_api(cargo_lambda: &str) -> (Process, u16) {
    let port = free_port();
    let process = Command::new(cargo_lambda)
        .args(["lambda", "watch", "--only-lambda-apis", "--disable-cors"])
        .args(["--invoke-address", "127.0.0.1", "--invoke-port"])
        .arg(port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cargo lambda runs");
    wait_until_listening(port, Duration::from_secs(60), "cargo lambda watch");
    (Process::new(process), port)
}

/// A cgroup (v1 `cpu`) holding the function at Lambda's CPU share for its
/// memory size; `None` where the bench may not make one.
struct CpuShare(PathBuf);

impl CpuShare {
    fn for_memory(memory_mb: u64) -> Option<Self> {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // One per function: a group left behind never caps another one.
        let dir = PathBuf::from(format!(
            "/sys/fs/cgroup/cpu/shop-bench-{}-{n}-{memory_mb}",
            std::process::id()
        ));
        std::fs::create_dir(&dir).ok()?;
        let share = Self(dir);
        let quota = 100_000 * memory_mb / ONE_VCPU_MB;
        std::fs::write(share.0.join("cpu.cfs_period_us"), "100000").ok()?;
        std::fs::write(share.0.join("cpu.cfs_quota_us"), quota.to_string()).ok()?;
        Some(share)
    }
}

impl Drop for CpuShare {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// The function's process, started as Lambda starts it: the runtime API
/// in its environment, in its CPU share from its first instruction.
struct Function {
    _process: Process,
    pid: u32,
    spawned: Instant,
    share: Option<CpuShare>,
}

impl Function {
    fn start(
        bin: &str,
        env: &[(String, String)],
        observer: &RuntimeObserver,
        memory_mb: u64,
    ) -> Self {
        let share = CpuShare::for_memory(memory_mb);
        let mut command = Command::new("sh");
        // Into the cgroup first, then the function in the same process.
        let join = share
            .as_ref()
            .map(|s| format!("echo $$ > {}/cgroup.procs && ", s.0.display()))
            .unwrap_or_default();
        command
            .args(["-c", &format!("{join}exec \"$0\""), bin])
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("AWS_LAMBDA_FUNCTION_NAME", "_")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory_mb.to_string())
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{}/.rt", observer.port),
            )
            .stdout(function_log())
            .stderr(function_log());
        let spawned = Instant::now();
        let child = command.spawn().expect("the function runs");
        Self {
            pid: child.id(),
            _process: Process::new(child),
            spawned,
            share,
        }
    }

    /// The peak resident set so far, in MB (Lambda's "Max Memory Used").
    fn max_memory_mb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap();
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap();
        kb.div_ceil(1024)
    }
}

/// Where the functions' logs go (Lambda's runtime logs to stdout): the
/// bench runs from the repository's root.
const FUNCTION_LOG: &str = "target/logs/bench-lambda-functions.log";

fn function_log() -> std::fs::File {
    std::fs::create_dir_all("target/logs").unwrap();
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(FUNCTION_LOG)
        .unwrap()
}

/// A request through the function URL's emulation, with what CloudFront
/// adds; returns the response and the invocation's duration.
struct Edge {
    base: String,
    http: reqwest::Client,
    origin_secret: String,
}

impl Edge {
    async fn send(
        &self,
        observer: &RuntimeObserver,
        request: reqwest::RequestBuilder,
    ) -> (reqwest::Response, Duration) {
        let response = request
            .header("x-origin-verify", &self.origin_secret)
            .header("cloudfront-viewer-address", "198.51.100.7:50000")
            .send()
            .await
            .unwrap();
        let mut finished = observer.take_finished();
        assert_eq!(finished.len(), 1, "one invocation per request");
        (response, finished.pop().unwrap())
    }
}

impl Edge {
    /// A checkout of one mug, posted as a browser without JavaScript posts
    /// the form; returns the payment it redirects to and the invocation's
    /// duration.
    async fn checkout(&self, observer: &RuntimeObserver, key: &str) -> (String, Duration) {
        let request = self
            .http
            .post(format!("{}/api/checkout", self.base))
            .header("cookie", "cart=mug.1")
            .header("accept", "text/html")
            .form(&[("checkout_key", key), ("email", "bench@example.com")]);
        let (response, took) = self.send(observer, request).await;
        if !response.status().is_redirection() {
            let body = response.text().await.unwrap_or_default();
            panic!("checkout refused; the page's alert: {}", alert_of(&body));
        }
        let location = response.headers()["location"].to_str().unwrap();
        (location.rsplit('/').next().unwrap().to_owned(), took)
    }
}

/// One memory size's figures.
struct Figures {
    cpu_capped: bool,
    init: Duration,
    first: Duration,
    checkout: Vec<Duration>,
    status: Vec<Duration>,
    webhook: Vec<Duration>,
    public_max_mb: u64,
    pass: Duration,
    idle_pass: Vec<Duration>,
    reconciler_max_mb: u64,
    hello: Vec<Duration>,
    moto_get_item: Stats,
    hello_init: Duration,
    hello_max_mb: u64,
}

/// Billed milliseconds: the duration rounded up to the millisecond.
fn billed(d: Duration) -> u64 {
    d.as_micros().div_ceil(1000) as u64
}

fn billed_p50(samples: &[Duration]) -> u64 {
    billed(stats(samples.to_vec()).p50)
}

/// What the measurement needs besides the binaries.
pub struct LambdaSetup<'a> {
    pub cargo_lambda: &'a str,
    pub server_bin: &'a str,
    pub hello_bin: &'a str,
    pub emulator_bin: &'a str,
    /// Python and scripts/moto_server.py: each memory size gets its own
    /// moto server (moto's transactions slow down as its tables grow).
    pub python: &'a str,
    pub moto_script: &'a str,
}

/// How many of each request a memory size is measured with.
const SAMPLES: usize = 20;

async fn measure(setup: &LambdaSetup<'_>, memory_mb: u64, run: usize) -> Figures {
    let (_moto, moto_url) = start_moto(setup.python, setup.moto_script).await;
    let data = tempfile::tempdir().unwrap();
    let (dynamo, dynamo_env) = crate::dynamodb::on_moto(&moto_url, free_port(), data.path()).await;
    let (_emulator, emulator_port) = standalone_emulator(setup.emulator_bin);
    let emulator = format!("http://127.0.0.1:{emulator_port}");
    // At least 32 characters, as the shop requires.
    let origin_secret = format!("bench-origin-secret-{run:04}-{:016}", std::process::id());
    let mut env: Vec<(String, String)> = dynamo_env
        .iter()
        .filter(|(k, _)| k != "SHOP_EMULATOR_CONTROL")
        .cloned()
        .collect();
    let bus = format!("shop-bench-{run}");
    env.extend(
        [
            ("SHOP_PUBLIC_URL", "http://shop.test".to_owned()),
            ("SHOP_PAYMENT_PROVIDER", "mollie".into()),
            ("SHOP_MOLLIE_TEST_MODE", "true".into()),
            ("MOLLIE_API_KEY", "test_benchmark".into()),
            ("MOLLIE_API_URL", format!("{emulator}/v2")),
            ("SHOP_MAIL", "ses".into()),
            ("SHOP_MAIL_FROM", "Shop <shop@shop.test>".into()),
            ("SHOP_EVENT_BUS", bus.clone()),
            ("SHOP_AWS_ENDPOINT", moto_url.clone()),
            ("SHOP_RECONCILE_FIRST_CHECK_AFTER_MS", "1".into()),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    );
    aws_mail_and_bus(setup.python, &moto_url, &bus);

    // ---- the public function
    let (_api, api_port) = runtime_api(setup.cargo_lambda);
    let observer = RuntimeObserver::start(api_port).await;
    let mut public_env = env.clone();
    public_env.extend(
        [
            ("SHOP_LAMBDA_HANDLER", "http".to_owned()),
            ("SHOP_CLIENT_ADDRESS", "cloudfront".into()),
            ("SHOP_ORIGIN_SECRET", origin_secret.clone()),
            ("SHOP_REFRESH_ON_READ_AFTER_MS", "600000".into()),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    );
    let function = Function::start(setup.server_bin, &public_env, &observer, memory_mb);
    let edge = Edge {
        base: format!("http://127.0.0.1:{api_port}"),
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // A function that died leaves the request queued for ever.
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap(),
        origin_secret,
    };
    let (health, first) = edge
        .send(&observer, edge.http.get(format!("{}/health", edge.base)))
        .await;
    assert_eq!(health.status(), 200);
    let init = observer.observed.lock().unwrap().first_next.unwrap() - function.spawned;
    let cpu_capped = function.share.is_some();

    let (mut checkout, mut status, mut webhook) = (Vec::new(), Vec::new(), Vec::new());
    let mut payments = Vec::new();
    for n in 0..SAMPLES {
        let key = format!("lambda{run:03}{n:024}");
        let (payment, took) = edge.checkout(&observer, &key).await;
        checkout.push(took);
        payments.push(payment);
    }
    // The emulator's page sends the shopper on to the shop's URL (not
    // served here): not followed.
    let mollie = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut orders = Vec::new();
    for payment in &payments {
        let api = format!("{emulator}/v2");
        let body = crate::shop::emulator_payment(&mollie, &api, payment).await;
        orders.push(body["metadata"]["order_id"].as_str().unwrap().to_owned());
    }
    // A shopper's poll while the payment is open (the usual case).
    for order in &orders {
        let (response, took) = edge
            .send(
                &observer,
                edge.http
                    .post(format!("{}/api/order_status", edge.base))
                    .form(&[("order_id", order.as_str())]),
            )
            .await;
        assert_eq!(response.status(), 200, "status");
        status.push(took);
    }
    // Paid at the emulator, its webhooks dropped: the bench sends them.
    let faults = mollie
        .put(format!("{emulator}/_emulator/faults"))
        .json(&serde_json::json!({ "dropNextWebhooks": SAMPLES }))
        .send()
        .await
        .unwrap();
    assert_eq!(faults.status(), 204);
    for payment in &payments {
        let paid = mollie
            .post(format!("{emulator}/checkout/{payment}"))
            .form(&[("outcome", "paid")])
            .send()
            .await
            .unwrap();
        assert!(paid.status().is_redirection() || paid.status().is_success());
    }
    for payment in &payments {
        let (response, took) = edge
            .send(
                &observer,
                edge.http
                    .post(format!("{}/webhooks/mollie", edge.base))
                    .form(&[("id", payment.as_str())]),
            )
            .await;
        assert_eq!(response.status(), 200, "webhook");
        webhook.push(took);
    }
    // ---- the reconciler function, started and through its first pass
    // (nothing due) while the public one runs; then one pass with open
    // payments due, then passes with nothing due.
    let (_reconciler_api, reconciler_port) = runtime_api(setup.cargo_lambda);
    let reconciler = RuntimeObserver::start(reconciler_port).await;
    let rule = "arn:aws:events:eu-west-1:123456789012:rule/ShopReconcileSchedule";
    let mut reconciler_env = env.clone();
    reconciler_env.extend(
        [
            ("SHOP_LAMBDA_HANDLER", "reconciler".to_owned()),
            ("SHOP_RECONCILE_RULE_ARN", rule.into()),
            ("SHOP_RECONCILE_PASS_MAX_MS", "20000".into()),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    );
    let reconciler_function =
        Function::start(setup.server_bin, &reconciler_env, &reconciler, memory_mb);
    let event = serde_json::json!({
        "version": "0", "id": "a1b2c3d4-0000-4000-8000-000000000001",
        "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": "2026-11-25T12:00:00Z",
        "region": "eu-west-1", "resources": [rule], "detail": {}
    });
    let invoke = format!("http://127.0.0.1:{reconciler_port}/2015-03-31/functions/_/invocations");
    let pass = || async {
        let answer = edge.http.post(&invoke).json(&event).send().await.unwrap();
        assert_eq!(answer.status(), 200, "reconcile pass");
        answer.bytes().await.unwrap();
        let mut finished = reconciler.take_finished();
        assert_eq!(finished.len(), 1);
        finished.pop().unwrap()
    };
    // The first pass is the process's cold one; the next five find
    // nothing due (the paid payments are not).
    pass().await;
    let mut idle_passes = Vec::new();
    for _ in 0..5 {
        idle_passes.push(pass().await);
    }
    // Left open, for the reconciler to check at the emulator.
    for n in 0..SAMPLES {
        let key = format!("lambdaopen{run:03}{n:020}");
        edge.checkout(&observer, &key).await;
    }
    // Checked at SHOP_RECONCILE_RATE (10 a second): the pass waits
    // between checks, and Lambda bills the wait.
    let due_pass = pass().await;
    let reconciler_max_mb = reconciler_function.max_memory_mb();
    let cpu_capped = cpu_capped && reconciler_function.share.is_some();
    drop(reconciler_function);
    let public_max_mb = function.max_memory_mb();
    drop(function);
    drop(observer);
    let moto_get_item =
        crate::dynamodb::raw_reads(&dynamo, crate::dynamodb::TABLE, &orders[0]).await;

    // ---- the reference: a bare lambda_http hello, the same way
    let (_api, api_port) = runtime_api(setup.cargo_lambda);
    let observer = RuntimeObserver::start(api_port).await;
    let function = Function::start(setup.hello_bin, &[], &observer, memory_mb);
    let mut hello = Vec::new();
    for _ in 0..=SAMPLES {
        let (response, took) = edge
            .send(
                &observer,
                edge.http.get(format!("http://127.0.0.1:{api_port}/")),
            )
            .await;
        assert_eq!(response.status(), 200);
        hello.push(took);
    }
    let hello_init = observer.observed.lock().unwrap().first_next.unwrap() - function.spawned;
    hello.remove(0);
    let hello_max_mb = function.max_memory_mb();
    let cpu_capped = cpu_capped && function.share.is_some();

    Figures {
        cpu_capped,
        init,
        first,
        checkout,
        status,
        webhook,
        public_max_mb,
        pass: due_pass,
        idle_pass: idle_passes,
        reconciler_max_mb,
        hello,
        moto_get_item,
        hello_init,
        hello_max_mb,
    }
}

/// The `role="alert"` text of a page the shop answered instead of a redirect.
fn alert_of(page: &str) -> &str {
    page.split("role=\"alert\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or(page)
}

/// The emulator in its own process, as Mollie is outside Lambda.
fn standalone_emulator(bin: &str) -> (Process, u16) {
    let port = free_port();
    let process = Command::new(bin)
        .args([
            "--port",
            &port.to_string(),
            "--time-factor",
            "0.01",
            "--control",
        ])
        .args(["--allow-origin", "http://shop.test"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the emulator runs");
    wait_until_listening(port, Duration::from_secs(10), "the emulator");
    (Process::new(process), port)
}

/// The sender's identity and the shop's bus on moto, as the stack makes
/// them (boto3 from the bench's Python).
fn aws_mail_and_bus(python: &str, moto_url: &str, bus: &str) {
    let script = "import sys, boto3\n\
aws = dict(endpoint_url=sys.argv[1], region_name='eu-west-1')\n\
boto3.client('sesv2', **aws).create_email_identity(EmailIdentity='shop.test')\n\
boto3.client('events', **aws).create_event_bus(Name=sys.argv[2])\n";
    let status = Command::new(python)
        .args(["-c", script, moto_url, bus])
        .status()
        .expect("python runs");
    assert!(status.success(), "the mail identity and bus on moto");
}

/// GB-seconds billed for `ms` at `memory_mb`.
fn gb_seconds(ms: u64, memory_mb: u64) -> f64 {
    ms as f64 / 1000.0 * memory_mb as f64 / 1024.0
}

/// The Lambda cost figures at each memory size, with the cost of 1,000
/// checkouts (one checkout, one webhook and four status polls each) from
/// the billed p50s.
pub async fn lambda_costs(report: &mut Report, setup: &LambdaSetup<'_>, memory_sizes: &[u64]) {
    for (run, &memory_mb) in memory_sizes.iter().enumerate() {
        let f = measure(setup, memory_mb, run).await;
        let cpu = if f.cpu_capped {
            format!(
                "{:.2} vCPU (a cgroup's CPU quota)",
                memory_mb as f64 / ONE_VCPU_MB as f64
            )
        } else {
            "not capped (no cgroup could be made): the machine's cores".to_owned()
        };
        let line = |name: &str, samples: &[Duration]| {
            let s: Stats = stats(samples.to_vec());
            format!(
                "{name}: billed p50 {} ms (duration p50 {}, max {})",
                billed(s.p50),
                ms(s.p50),
                ms(s.p99)
            )
        };
        let compute_ms =
            billed_p50(&f.checkout) + billed_p50(&f.webhook) + 4 * billed_p50(&f.status);
        let per_thousand = 1000.0
            * (gb_seconds(compute_ms, memory_mb) * PRICE_PER_GB_SECOND + 6.0 * PRICE_PER_REQUEST);
        report.row(
            format!("Lambda at {memory_mb} MB (arm64 price; CPU {cpu}), cargo lambda's runtime API, DynamoDB on moto, the emulator in its own process; {SAMPLES} of each, warm"),
            format!(
                "{}; {}; {}; reconcile pass with {SAMPLES} open payments due: billed {} ms, with nothing due p50 {} ms. Cold: init {}, the first request (`/health`) {}. Max memory used: public {} MB, reconciler {} MB. 1,000 checkouts (a checkout, a webhook, 4 polls each): {compute_ms} s billed, ${per_thousand:.4} with the requests",
                line("checkout", &f.checkout),
                line("webhook", &f.webhook),
                line("status poll (open payment)", &f.status),
                billed(f.pass),
                billed_p50(&f.idle_pass),
                ms(f.init),
                ms(f.first),
                f.public_max_mb,
                f.reconciler_max_mb,
            ),
            format!(
                "bare lambda_http hello, same memory and CPU: billed p50 {} ms, init {}, max memory used {} MB. moto's consistent GetItem of an order, same run: p50 {}",
                billed_p50(&f.hello),
                ms(f.hello_init),
                f.hello_max_mb,
                ms(f.moto_get_item.p50)
            ),
            "none set; measured for docs/deployment.md",
        );
    }
    report.notes.push("Lambda cost: durations and memory as Lambda reports them in its REPORT lines, measured by the bench between the function and cargo lambda's runtime API (crates/bench/src/lambda_cost.rs). moto answers DynamoDB, SES and EventBridge calls far slower than AWS does (its GetItem is beside each row), and the emulator answers at once where Mollie takes its time: docs/deployment.md says what that means for the bill.".into());
}
