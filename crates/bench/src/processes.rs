//! The processes the bench starts: the servers (timed from process start
//! to their first 200) and moto server.

use crate::report::Report;
use crate::stats::{median, ratio, spread};
use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use test_support::free_port;

pub struct Process(Child);

impl Process {
    pub fn new(child: Child) -> Self {
        Self(child)
    }
}

impl Drop for Process {
    /// SIGTERM first, so the server shuts down as in production (the
    /// embedded store closes cleanly and the next start needs no repair).
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running server and a client for it.
pub struct Server {
    _process: Process,
    pub base: String,
    pub http: reqwest::Client,
    pub started_in: Duration,
}

pub fn server_env(
    port: u16,
    data: &std::path::Path,
    store: &[(&str, String)],
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("LEPTOS_OUTPUT_NAME", "shop".to_owned()),
        ("LEPTOS_SITE_ROOT", "target/site".to_owned()),
        ("LEPTOS_SITE_PKG_DIR", "pkg".to_owned()),
        ("LEPTOS_HASH_FILES", "true".to_owned()),
        ("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}")),
        ("LEPTOS_ENV", "PROD".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
        ("SHOP_DATA_DIR", data.display().to_string()),
        // The bench sets faults over HTTP and measures throughput from one
        // address: the control endpoints on, the per-client limits out of reach.
        ("SHOP_EMULATOR_CONTROL", "true".to_owned()),
        ("SHOP_CHECKOUT_RATE_PER_MINUTE", "100000000".to_owned()),
        ("SHOP_WEBHOOK_RATE_PER_SECOND", "100000000".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    env.extend(store.iter().map(|(k, v)| (k.to_string(), v.clone())));
    env
}

/// The reference's settings: what cargo-leptos would give it.
pub fn bare_env(port: u16, site: &str) -> Vec<(String, String)> {
    [
        ("LEPTOS_OUTPUT_NAME", "bare".to_owned()),
        ("LEPTOS_SITE_ROOT", site.to_owned()),
        ("LEPTOS_SITE_PKG_DIR", "pkg".to_owned()),
        ("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}")),
        ("LEPTOS_ENV", "PROD".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn answers_200(port: u16) -> bool {
    use std::io::Read;
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    let mut status = [0u8; 12];
    stream.write_all(request).is_ok()
        && stream.read_exact(&mut status).is_ok()
        && &status[9..12] == b"200"
}

/// Starts the server and measures process start to its first 200 on `/`.
pub async fn start_server(bin: &str, env: &[(String, String)], port: u16) -> Server {
    let mut command = Command::new(bin);
    command.envs(env.iter().map(|(k, v)| (k, v)));
    serve(command, port).await
}

/// The checkout and webhook reference (`bare-handlers`, built beside the
/// bench), calling the emulator of the running `shop` and keeping its
/// redb file in `data`.
pub async fn start_bare_handlers(shop: &Server, data: &std::path::Path) -> Server {
    let bin = beside_bench("bare-handlers");
    let port = free_port();
    let mut command = Command::new(bin);
    command
        .arg(port.to_string())
        .arg(format!("{}/mollie/v2", shop.base))
        .arg(data.join("bare-handlers.redb"));
    serve(command, port).await
}

/// A binary built beside the bench (`cargo build --release -p bench -p
/// mollie-emulator`).
pub fn beside_bench(name: &str) -> String {
    std::env::current_exe()
        .expect("the bench's path")
        .with_file_name(name)
        .display()
        .to_string()
}

/// Spawns `command` and measures process start to its first 200 on `/`.
async fn serve(mut command: Command, port: u16) -> Server {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the server binary runs");
    let process = Process(child);
    // A bare blocking probe, so that the clock measures the server, not a
    // client or a timer's granularity.
    while !answers_200(port) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server did not start"
        );
        std::thread::sleep(Duration::from_micros(100));
    }
    Server {
        started_in: started.elapsed(),
        _process: process,
        base,
        http,
    }
}

/// Process start to first 200, 15 starts in a row, in order.
pub async fn starts(bin: &str, env: &[(String, String)], port: u16) -> Vec<Duration> {
    let mut starts = Vec::new();
    for _ in 0..15 {
        starts.push(start_server(bin, env, port).await.started_in);
    }
    starts
}

pub fn process_start(
    report: &mut Report,
    bare: &[Duration],
    embedded: &[Duration],
    dynamo: &[Duration],
) {
    report.row(
        "process start to first 200 (15 starts each)",
        format!("embedded {}; DynamoDB {}", spread(embedded), spread(dynamo)),
        format!(
            "bare Leptos {} (embedded {}, DynamoDB {})",
            spread(bare),
            ratio(median(embedded), median(bare)),
            ratio(median(dynamo), median(bare))
        ),
        "embedded <= 3x bare Leptos",
    );
}

/// moto server (scripts/moto_server.py, run by `python`: one request at a
/// time, as DynamoDB applies conflicting writes), for DynamoDB mode and the
/// raw references; its URL.
pub async fn start_moto(python: &str, script: &str) -> (Process, String) {
    let moto_port = free_port();
    let moto = Process(
        Command::new(python)
            .args([script, "127.0.0.1", &moto_port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server.py runs"),
    );
    wait_until_listening(moto_port, Duration::from_secs(10), "moto server");
    (moto, format!("http://127.0.0.1:{moto_port}"))
}

/// Blocks until something accepts connections on `port` (a process just
/// spawned); panics naming `what` after `within`.
pub fn wait_until_listening(port: u16, within: Duration, what: &str) {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < within, "{what} did not listen");
        std::thread::sleep(Duration::from_millis(10));
    }
}
