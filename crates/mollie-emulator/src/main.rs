//! The emulator on its own: `mollie-emulator [--port 4000] [--time-factor 0.01]`
//! (also `MOLLIE_EMULATOR_PORT`, `MOLLIE_EMULATOR_TIME_FACTOR`).

use mollie_emulator::Emulator;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let mut args = std::env::args().skip(1);
    let mut port: u16 = std::env::var("MOLLIE_EMULATOR_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(4000);
    let mut factor: f64 = std::env::var("MOLLIE_EMULATOR_TIME_FACTOR")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(1.0);
    while let Some(arg) = args.next() {
        let value = args.next().unwrap_or_default();
        match arg.as_str() {
            "--port" => port = value.parse().expect("--port takes a number"),
            "--time-factor" => factor = value.parse().expect("--time-factor takes a number"),
            _ => panic!("usage: mollie-emulator [--port N] [--time-factor F]"),
        }
    }
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let (emulator, addr) = Emulator::serve(listener, |config| config.time_factor = factor).await?;
    tracing::info!(%addr, api = %emulator.api_base_url(), "Mollie emulator listening");
    tokio::signal::ctrl_c().await
}
