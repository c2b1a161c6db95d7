//! A newcomer's first run, less the tools: from a copy of the sources with
//! an empty target folder, `cargo leptos build` (debug, as
//! `scripts/run.sh`) and the server's start, until the storefront answers.
//! The shop's build against the bare Leptos reference's, in the same run,
//! one after the other (they would share the two cores).
//!
//! Each copy's crates are fetched first, untimed, and the build runs
//! offline: a download's time is the network's, not the build's.

use crate::processes::{bare_env, server_env, start_server};
use crate::report::Report;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use test_support::free_port;

/// What is built: the shop as `scripts/run.sh` builds it, the shop with
/// every feature (what the tests and a deploy build), and the reference.
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
    let ratio = |a: &ColdRun, b: &ColdRun| a.total().as_secs_f64() / b.total().as_secs_f64();
    let describe =
        |run: &Result<ColdRun, String>| run.as_ref().map_or_else(Clone::clone, ColdRun::describe);
    report.row(
        "cold debug build until the storefront answers (`scripts/run.sh`: empty target/, crates downloaded)",
        describe(&shop),
        match (&shop, &reference) {
            (Ok(shop), Ok(bare)) => format!("bare Leptos {}; {:.2}x", bare.describe(), ratio(shop, bare)),
            _ => format!("bare Leptos {}", describe(&reference)),
        },
        "<= 1.5x bare Leptos",
    );
    report.row(
        "the same with the AWS SDK and the Lambda runtime (`--bin-features aws,lambda`: what the tests and a deploy build)",
        describe(&full),
        match (&full, &shop, &reference) {
            (Ok(full), Ok(shop), Ok(bare)) => format!(
                "bare Leptos {:.2}x; without them {:.2}x",
                ratio(full, bare),
                ratio(full, shop)
            ),
            _ => "-".to_owned(),
        },
        "none set; reported",
    );
    report.notes.push("The cold debug builds: one each, one after the other (reference, shop, shop with every feature), each from a copy of the working tree in a scratch folder: `cargo leptos build` (debug, as `scripts/run.sh`) with an empty target folder and the crates downloaded beforehand, then the server's start until `/` answers 200. Both use the shop's dev profile (line tables for its own crates, no debug info for dependencies).".into());
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

    fn describe(&self) -> String {
        format!(
            "{} (build {}, start {})",
            minutes(self.total()),
            minutes(self.build),
            seconds(self.start)
        )
    }
}

/// Settings a caller's environment could carry into the build and make it
/// warm or different (a shared target folder, a compiler cache, flags).
const INHERITED_BUILD_SETTINGS: [&str; 9] = [
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
    "RUSTC_WRAPPER",
    "CARGO_BUILD_RUSTC_WRAPPER",
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_INCREMENTAL",
    "LEPTOS_BIN_TARGET_DIR",
    "LEPTOS_OUTPUT_NAME",
];

/// The build and start of `project` from a fresh copy; on a failure, what
/// failed and where its log is (the scratch folder is then kept).
async fn cold_run(root: &Path, project: Project) -> Result<ColdRun, String> {
    // Outside the repository: no `.env` or `.cargo/config.toml` above it.
    let scratch = tempfile::Builder::new()
        .prefix("bench-cold-build-")
        .tempdir()
        .expect("a scratch folder");
    let sources = match project {
        Project::Shop { .. } => copy_sources(root, "", scratch.path()),
        Project::Reference => copy_sources(root, "crates/bench/reference", scratch.path()),
    };
    let log = std::fs::File::create(scratch.path().join("build.log")).unwrap();
    let cargo = |args: &[&str]| {
        let mut command = Command::new("cargo");
        command
            .args(args)
            .current_dir(&sources)
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log.try_clone().unwrap()));
        for name in INHERITED_BUILD_SETTINGS {
            command.env_remove(name);
        }
        command
    };
    let failed = |what: &str, scratch: tempfile::TempDir| {
        let kept = scratch.keep();
        Err(format!(
            "{what} failed (log: {})",
            kept.join("build.log").display()
        ))
    };
    // Untimed: a download is the network's time, not the build's.
    if !cargo(&["fetch", "--locked"])
        .status()
        .is_ok_and(|s| s.success())
    {
        return failed("cargo fetch", scratch);
    }
    let mut build = cargo(&["leptos", "build"]);
    if let Project::Shop {
        features: Some(features),
    } = project
    {
        build.args(["--bin-features", features]);
    }
    let started = Instant::now();
    let built = build
        .env("CARGO_NET_OFFLINE", "true")
        .status()
        .is_ok_and(|s| s.success());
    let build_time = started.elapsed();
    if !built {
        return failed("cargo leptos build", scratch);
    }

    let port = free_port();
    let data = tempfile::tempdir().unwrap();
    let site = sources.join("target/site").display().to_string();
    let (bin, env) = match project {
        Project::Shop { .. } => {
            let mut env = server_env(port, data.path(), &[("SHOP_STORE", "embedded".into())]);
            env.retain(|(name, _)| name != "LEPTOS_SITE_ROOT");
            env.push(("LEPTOS_SITE_ROOT".into(), site));
            (sources.join("target/debug/server"), env)
        }
        Project::Reference => (
            sources.join("target/debug/bare-leptos"),
            bare_env(port, &site),
        ),
    };
    let server = start_server(&bin.display().to_string(), &env, port).await;
    Ok(ColdRun {
        build: build_time,
        start: server.started_in,
    })
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
        let Ok(meta) = std::fs::symlink_metadata(&from) else {
            // Listed but deleted in the working tree: not part of the sources.
            continue;
        };
        assert!(
            meta.is_file(),
            "{name} is no regular file (a symlink or submodule): copy it on purpose"
        );
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
