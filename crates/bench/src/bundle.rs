//! The hydrate bundle's size as served, against the reference's and the
//! budget.

use crate::report::Report;
use std::process::Command;

/// The hydrate bundle's budget: wasm after wasm-opt, brotli, in bytes.
pub const BUNDLE_BUDGET: u64 = 100_000;

/// Sizes of a file as served: raw, gzip -9, brotli -q 11 (bytes).
fn served_sizes(path: &str) -> [u64; 3] {
    let compressed = |tool: &str, level: &[&str]| {
        let output = Command::new(tool)
            .args(level)
            .args(["-c", path])
            .output()
            .unwrap_or_else(|e| panic!("{tool} runs (scripts/setup.sh bench): {e}"));
        assert!(output.status.success(), "{tool} could not read {path}");
        output.stdout.len() as u64
    };
    let raw = std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .len();
    [
        raw,
        compressed("gzip", &["-9"]),
        compressed("brotli", &["-q", "11"]),
    ]
}

/// The shop's `target/site/pkg/shop.<hash>.<extension>` (cargo-leptos
/// hash-files names them by their content).
fn hashed_site_file(extension: &str) -> String {
    let pkg = "target/site/pkg";
    std::fs::read_dir(pkg)
        .unwrap_or_else(|e| panic!("{pkg}: {e} (cargo leptos build --release)"))
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .find(|name| name.starts_with("shop.") && name.ends_with(&format!(".{extension}")))
        .map(|name| format!("{pkg}/{name}"))
        .unwrap_or_else(|| panic!("no {pkg}/shop.*.{extension}"))
}

/// The hydrate bundle against the reference's and the budget; whether it
/// is within the budget.
pub fn bundle(report: &mut Report, bare_site: &str) -> bool {
    let [raw, gzip, brotli] = served_sizes(&hashed_site_file("wasm"));
    let [js_raw, _, js_brotli] = served_sizes(&hashed_site_file("js"));
    let [bare_raw, bare_gzip, bare_brotli] = served_sizes(&format!("{bare_site}/pkg/bare.wasm"));
    report.row(
        "hydrate bundle: wasm after wasm-opt (bytes)",
        format!("{brotli} brotli ({raw} raw, {gzip} gzip); JS glue {js_brotli} brotli ({js_raw} raw)"),
        format!(
            "bare Leptos islands page: {bare_brotli} brotli ({bare_raw} raw, {bare_gzip} gzip); {:.2}x",
            brotli as f64 / bare_brotli as f64
        ),
        format!("<= {BUNDLE_BUDGET} brotli (fails the bench)"),
    );
    brotli <= BUNDLE_BUDGET
}
