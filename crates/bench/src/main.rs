//! `bench`: figures for BENCHMARKS.md, each beside a reference measured in
//! the same run on the same machine (these machines are shared and noisy).
//! Loopback only; every loop is bounded in count and time.
//!
//! Usage (scripts/bench.sh does this):
//! `bench SERVER_BIN BARE_BIN BARE_SITE PYTHON MOTO_SCRIPT OUT.md`, where
//! BARE_BIN is the bare Leptos reference (crates/bench/reference), BARE_SITE
//! its site folder, and PYTHON runs MOTO_SCRIPT (scripts/moto_server.py).
//! With `CARGO_LAMBDA` set (the cargo-lambda binary), the Lambda figures are
//! measured too. Exits non-zero, after writing OUT.md, when the hydrate
//! bundle is over its budget.
//!
//! `bench lambda-figures SERVER_BIN PYTHON MOTO_SCRIPT` (scripts/lambda-figures.sh,
//! `CARGO_LAMBDA` set) measures only the Lambda starts and the plain server's
//! start, DynamoDB on moto, and prints them.
//!
//! `bench lambda-costs SERVER_BIN PYTHON MOTO_SCRIPT` (`CARGO_LAMBDA` set)
//! measures only what a checkout, a webhook, a status poll and a reconcile
//! pass cost on Lambda, at each memory size, and prints it.
//!
//! Run from the workspace root, `bench` also times cold debug builds of
//! the shop and of the reference (about 9 minutes); `bench cold-builds`
//! times only those, and prints them.
//!
//! `bench events BEFORE_BIN AFTER_BIN` measures checkout and webhook latency
//! of two server builds in the same run (what the outbox costs) and prints
//! them.

mod bundle;
mod cold_build;
mod dynamodb;
mod events;
mod lambda;
mod lambda_cost;
mod processes;
mod report;
mod shop;
mod stats;
mod storefront;
mod webhooks;

use bundle::{bundle, BUNDLE_BUDGET};
use processes::{
    bare_env, beside_bench, process_start, server_env, start_bare_handlers, start_moto,
    start_server, starts,
};
use report::Report;
use test_support::free_port;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [mode] if mode == "cold-builds" => {
            let mut report = Report::default();
            cold_build::cold_builds(&mut report, &workspace_root()).await;
            print!("{}", report.table());
        }
        [mode, before, after] if mode == "events" => events::before_and_after(before, after).await,
        [mode, server_bin, python, moto_script] if mode == "lambda-figures" => {
            lambda_figures(server_bin, python, moto_script).await
        }
        [mode, server_bin, python, moto_script] if mode == "lambda-costs" => {
            lambda_costs(server_bin, python, moto_script).await
        }
        [server_bin, bare_bin, bare_site, python, moto_script, out] => {
            bench(server_bin, bare_bin, bare_site, [python, moto_script], out).await
        }
        _ => panic!(
            "usage: bench SERVER_BIN BARE_BIN BARE_SITE PYTHON MOTO_SCRIPT OUT.md\n   \
             or: bench lambda-figures SERVER_BIN PYTHON MOTO_SCRIPT\n   \
             or: bench lambda-costs SERVER_BIN PYTHON MOTO_SCRIPT\n   \
             or: bench cold-builds\n   \
             or: bench events BEFORE_BIN AFTER_BIN"
        ),
    }
}

/// The memory sizes the Lambda costs are measured at: the stack's 512 MB,
/// and around it.
const LAMBDA_MEMORY_SIZES: [u64; 4] = [256, 512, 1024, 1769];

/// Every figure of BENCHMARKS.md, in its order, written to `out`.
async fn bench(server_bin: &str, bare_bin: &str, bare_site: &str, moto: [&str; 2], out: &str) {
    let mut report = Report::default();
    let (moto_python, moto_script_path) = (moto[0], moto[1]);
    let (moto, moto_url) = start_moto(moto[0], moto[1]).await;
    let data = tempfile::tempdir().unwrap();
    let port = free_port();

    // ---- the reference and the shop, embedded store
    let bare_env = bare_env(port, bare_site);
    let env = server_env(port, data.path(), &[("SHOP_STORE", "embedded".into())]);
    let bare_starts = starts(bare_bin, &bare_env, port).await;
    let embedded_starts = starts(server_bin, &env, port).await;
    storefront::storefront_throughput(&mut report, server_bin, &env, bare_bin, &bare_env, port)
        .await;
    let server = start_server(server_bin, &env, port).await;
    let bare_handlers = start_bare_handlers(&server, data.path()).await;
    storefront::checkout_latency(&mut report, &server, &bare_handlers).await;
    webhooks::embedded_webhook_rate(&mut report, &server, &bare_handlers, data.path()).await;
    drop(bare_handlers);
    storefront::paid_shown_latency(&mut report, &server).await;
    drop(server);
    // Written after each part, so a failure later keeps what was measured.
    report.write(out);

    // ---- DynamoDB (moto)
    let (dynamo, dynamo_env) = dynamodb::on_moto(&moto_url, port, data.path()).await;
    let dynamo_starts = starts(server_bin, &dynamo_env, port).await;
    process_start(&mut report, &bare_starts, &embedded_starts, &dynamo_starts);
    let server = start_server(server_bin, &dynamo_env, port).await;
    dynamodb::status_reads(&mut report, &server, &dynamo, dynamodb::TABLE).await;
    webhooks::dynamodb_webhook_rate(&mut report, &server, &dynamo, dynamodb::TABLE).await;
    drop(server);
    report.write(out);

    if let Ok(cargo_lambda) = std::env::var("CARGO_LAMBDA") {
        lambda::lambda_starts(&mut report, &cargo_lambda, &dynamo_env).await;
        let setup = lambda_cost::LambdaSetup {
            cargo_lambda: &cargo_lambda,
            server_bin,
            hello_bin: &beside_bench("lambda-hello"),
            emulator_bin: &beside_bench("mollie-emulator"),
            python: moto_python,
            moto_script: moto_script_path,
        };
        lambda_cost::lambda_costs(&mut report, &setup, &LAMBDA_MEMORY_SIZES).await;
        report.write(out);
    }
    cold_build::cold_builds(&mut report, &workspace_root()).await;
    report.write(out);
    let within_budget = bundle(&mut report, bare_site);

    report.notes.push("What bounds each missed goal, and what would move it: the last section, from docs/performance.md.".into());
    report.write(out);
    println!("{}", std::fs::read_to_string(out).unwrap());
    // Stopped before exiting: `exit` runs no destructors.
    drop(moto);
    if !within_budget {
        eprintln!("bench: the hydrate bundle is over its budget of {BUNDLE_BUDGET} bytes (brotli)");
        std::process::exit(1);
    }
}

/// Where the bench runs from (scripts/bench.sh: the workspace's root).
fn workspace_root() -> std::path::PathBuf {
    let root = std::env::current_dir().expect("a working directory");
    assert!(
        root.join("crates/bench/reference").is_dir(),
        "run the bench from the workspace's root"
    );
    root
}

/// The Lambda starts (the shop's function and the bare hello, as in the
/// bench) and the plain server's start, DynamoDB on moto, printed.
async fn lambda_figures(server_bin: &str, python: &str, moto_script: &str) {
    let cargo_lambda =
        std::env::var("CARGO_LAMBDA").expect("CARGO_LAMBDA names the cargo-lambda binary");
    let (_moto, moto_url) = start_moto(python, moto_script).await;
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let (_, dynamo_env) = dynamodb::on_moto(&moto_url, port, data.path()).await;
    let mut report = Report::default();
    lambda::lambda_starts(&mut report, &cargo_lambda, &dynamo_env).await;
    let plain = starts(server_bin, &dynamo_env, port).await;
    report.row(
        "plain server (DynamoDB on moto): process start to first 200 (15 starts)",
        stats::spread(&plain),
        "-",
        "none set; reported",
    );
    print!("{}", report.table());
}

/// The Lambda costs alone (what `bench` measures with `CARGO_LAMBDA` set),
/// printed.
async fn lambda_costs(server_bin: &str, python: &str, moto_script: &str) {
    let cargo_lambda =
        std::env::var("CARGO_LAMBDA").expect("CARGO_LAMBDA names the cargo-lambda binary");
    let setup = lambda_cost::LambdaSetup {
        cargo_lambda: &cargo_lambda,
        server_bin,
        hello_bin: &beside_bench("lambda-hello"),
        emulator_bin: &beside_bench("mollie-emulator"),
        python,
        moto_script,
    };
    let mut report = Report::default();
    lambda_cost::lambda_costs(&mut report, &setup, &LAMBDA_MEMORY_SIZES).await;
    print!("{}", report.table());
}
