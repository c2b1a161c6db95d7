//! A newcomer's first run, less the tools: from a copy of the sources with
//! an empty target folder, `cargo leptos build` (debug, as
//! `scripts/run.sh`) and the server's start, until the storefront answers.
//! The shop's build against the bare Leptos reference's, in the same run,
//! one after the other (they would share the two cores).
//!
//! The crates are downloaded already (the release builds before fetched
//! them) and cargo runs offline: a download's time is the network's, not
//! the build's.

use crate::processes::{bare_env, server_env, start_server};
use crate::report::Report;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use test_support::free_port;

/// What is built: the shop as `scripts/run.sh` builds it, the shop with
/// every feature (what a plain `cargo build` and the tests build), and
/// the reference.
pub async fn cold_builds(report: &mut Report, root: &Path) {
    let reference = cold_run(root, Project::Reference).await;
    let shop = cold_run(root, Project::Shop { features: None }).await;
    let full = cold_run(
        root,
        Project::Shop {
            features: Some("aws,lambda"),
        },
    )
    .await;
    report.row(
        "cold debug build until the storefront answers (`scripts/run.sh`: empty target/, crates downloaded)",
        format!("{} (build {}, start {})", minutes(shop.total()), minutes(shop.build), seconds(shop.start)),
        format!(
            "bare Leptos {} (build {}); {:.2}x",
            minutes(reference.total()),
            minutes(reference.build),
            shop.total().as_secs_f64() / reference.total().as_secs_f64()
        ),
        "<= 1.5x bare Leptos",
    );
    report.row(
        "the same with the AWS SDK and the Lambda runtime (`--bin-features aws,lambda`: what the tests and a deploy build)",
        format!("{} (build {})", minutes(full.total()), minutes(full.build)),
        format!(
            "bare Leptos {:.2}x; without them {:.2}x",
            full.total().as_secs_f64() / reference.total().as_secs_f64(),
            full.total().as_secs_f64() / shop.total().as_secs_f64()
        ),
        "none set; reported",
    );
}

enum Project {
    /// The workspace, with `--bin-features` if any.
    Shop { features: Option<&'static str> },
    /// crates/bench/reference.
    Reference,
}

struct ColdRun {
    build: Duration,
    start: Duration,
}

impl ColdRun {
    fn total(&self) -> Duration {
        self.build + self.start
    }
}

async fn cold_run(root: &Path, project: Project) -> ColdRun {
    let scratch = tempfile::tempdir_in(root.join("target")).expect("a scratch folder in target/");
    let sources = match project {
        Project::Shop { .. } => copy_sources(root, "", scratch.path()),
        Project::Reference => copy_sources(root, "crates/bench/reference", scratch.path()),
    };
    let mut build = Command::new("cargo");
    build.args(["leptos", "build"]);
    if let Project::Shop {
        features: Some(features),
    } = project
    {
        build.args(["--bin-features", features]);
    }
    let log = std::fs::File::create(scratch.path().join("build.log")).unwrap();
    let started = Instant::now();
    let status = build
        .current_dir(&sources)
        .env_remove("CARGO_TARGET_DIR")
        .env("CARGO_NET_OFFLINE", "true")
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .status()
        .expect("cargo leptos runs");
    let build_time = started.elapsed();
    assert!(
        status.success(),
        "the cold build failed: {}",
        scratch.path().join("build.log").display()
    );

    let port = free_port();
    let data = tempfile::tempdir().unwrap();
    let site = sources.join("target/site").display().to_string();
    let (bin, env) = match project {
        Project::Shop { .. } => {
            let mut env = server_env(port, data.path(), &[("SHOP_STORE", "embedded".into())]);
            env.push(("LEPTOS_SITE_ROOT".into(), site));
            (sources.join("target/debug/server"), env)
        }
        Project::Reference => (
            sources.join("target/debug/bare-leptos"),
            bare_env(port, &site),
        ),
    };
    let server = start_server(&bin.display().to_string(), &env, port).await;
    ColdRun {
        build: build_time,
        start: server.started_in,
    }
}

/// The files git knows (tracked, or new and not ignored) under `folder` of
/// `root`, copied into `into`; the copy's root.
fn copy_sources(root: &Path, folder: &str, into: &Path) -> PathBuf {
    let listed = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
            "--",
        ])
        .arg(if folder.is_empty() { "." } else { folder })
        .current_dir(root)
        .output()
        .expect("git runs");
    assert!(listed.status.success(), "git ls-files failed");
    let copy = into.join("src");
    for name in listed.stdout.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let name = std::str::from_utf8(name).expect("UTF-8 file names");
        let from = root.join(name);
        // Listed but deleted in the working tree: not part of the sources.
        if !from.is_file() {
            continue;
        }
        let relative = Path::new(name).strip_prefix(folder).unwrap();
        let to = copy.join(relative);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&from, &to).unwrap();
    }
    copy
}

fn minutes(d: Duration) -> String {
    let s = d.as_secs();
    format!("{} min {:02} s", s / 60, s % 60)
}

fn seconds(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}
