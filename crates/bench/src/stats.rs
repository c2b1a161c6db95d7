//! Percentiles and how the figures are written.

use std::time::{Duration, Instant};

#[derive(Clone, Copy)]
pub struct Stats {
    pub p50: Duration,
    pub p99: Duration,
}

pub fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    Stats {
        p50: at(0.5),
        p99: at(0.99),
    }
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

pub fn ratio(a: Duration, b: Duration) -> String {
    format!("{:.2}x", a.as_secs_f64() / b.as_secs_f64())
}

pub async fn timed<F: std::future::Future>(samples: &mut Vec<Duration>, f: F) -> F::Output {
    let started = Instant::now();
    let out = f.await;
    samples.push(started.elapsed());
    out
}

pub fn median(starts: &[Duration]) -> Duration {
    let mut sorted = starts.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

/// The median, the range, and the first start apart: it is the one that
/// finds no database file (embedded) and a cold page cache.
pub fn spread(starts: &[Duration]) -> String {
    let mut sorted = starts.to_vec();
    sorted.sort();
    format!(
        "median {} (fastest {}, slowest {}; the first {})",
        ms(median(starts)),
        ms(sorted[0]),
        ms(sorted[sorted.len() - 1]),
        ms(starts[0])
    )
}
