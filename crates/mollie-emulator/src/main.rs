//! The emulator on its own:
//! `mollie-emulator [--port 4000] [--time-factor 0.01] [--faults '{"failNext":2}']
//! [--control] [--allow-origin https://shop.example]`
//! (or `MOLLIE_EMULATOR_PORT`, `MOLLIE_EMULATOR_TIME_FACTOR`,
//! `MOLLIE_EMULATOR_FAULTS`). Listens on 127.0.0.1 only. `--control` serves
//! the unauthenticated `/_emulator/*` endpoints; webhooks and redirects go
//! to loopback addresses and the allowed origins only.

use mollie_emulator::{Emulator, Faults};

fn usage() -> ! {
    eprintln!("usage: mollie-emulator [--port N] [--time-factor F] [--faults JSON] [--control] [--allow-origin ORIGIN]...");
    std::process::exit(2)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let env = |name: &str| std::env::var(name).ok();
    let mut port = env("MOLLIE_EMULATOR_PORT").unwrap_or_else(|| "4000".into());
    let mut factor = env("MOLLIE_EMULATOR_TIME_FACTOR").unwrap_or_else(|| "1".into());
    let mut faults = env("MOLLIE_EMULATOR_FAULTS").unwrap_or_else(|| "{}".into());
    let mut control = false;
    let mut allowed_origins = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--control" {
            control = true;
            continue;
        }
        let value = args.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--port" => port = value,
            "--time-factor" => factor = value,
            "--faults" => faults = value,
            "--allow-origin" => allowed_origins.push(value),
            _ => usage(),
        }
    }
    let port: u16 = port.parse().unwrap_or_else(|_| usage());
    let factor: f64 = factor.parse().unwrap_or_else(|_| usage());
    let faults: Faults = serde_json::from_str(&faults).unwrap_or_else(|e| {
        eprintln!("--faults: {e}");
        usage()
    });

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let (emulator, addr) = Emulator::serve(listener, |config| {
        config.time_factor = factor;
        config.faults = faults;
        config.control_endpoints = control;
        config.allowed_origins = allowed_origins;
    })
    .await?;
    tracing::info!(%addr, api = %emulator.api_base_url(), "Mollie emulator listening");
    tokio::signal::ctrl_c().await
}
