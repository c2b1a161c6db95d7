use clap::Parser;

/// Server-side rendering allocates and frees many small strings per page;
/// glibc's malloc took a quarter of the CPU under load, mimalloc far less.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use server::config::{Cli, Command, OperatorSecrets, ADMIN_SECRET_ARN};
use server::Application;

#[tokio::main]
async fn main() {
    server::telemetry::init(server::telemetry::LogFormat::from_env());
    let cli = Cli::parse();
    if let Err(message) = run(cli).await {
        tracing::error!("{message}");
        std::process::exit(1);
    }
}

async fn run(mut cli: Cli) -> Result<(), String> {
    if cli.command == Some(Command::HashPassword) {
        return hash_password();
    }
    if cli.command == Some(Command::CreateTable) {
        let created = server::create_table(&cli.config).await?;
        let verb = if created { "created" } else { "exists already" };
        println!("table {}: {verb}", cli.config.dynamodb_table);
        return Ok(());
    }

    cli.config.operator_secrets = operator_secrets().await?;
    let leptos_options = leptos::config::get_configuration(None)
        .map_err(|e| format!("Leptos configuration: {e}"))?
        .leptos_options;
    let addr = leptos_options.site_addr;
    let app = Application::build(&cli.config, addr).await?;
    let router = app.router(leptos_options);
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        // On Lambda: the same router; the reconciler runs as a scheduled
        // event (POST /events), not as a background loop.
        tracing::info!("serving as an AWS Lambda function");
        return server::lambda::run(router).await;
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let reconciler = server::reconciler::spawn(app.service.clone(), app.reconciler, stopped);
    tracing::info!("listening on http://{addr}");
    server::serve::serve(
        listener,
        router,
        cli.config.serve_limits(),
        shutdown_signal(),
    )
    .await;
    let _ = stop.send(true);
    let _ = reconciler.await;
    Ok(())
}

/// The back office's accounts and session secret: from the environment, or
/// from the Secrets Manager secret `SHOP_ADMIN_SECRET_ARN` names (not both).
async fn operator_secrets() -> Result<OperatorSecrets, String> {
    let from_env = OperatorSecrets::from_env();
    let Ok(arn) = std::env::var(ADMIN_SECRET_ARN) else {
        return Ok(from_env);
    };
    if !from_env.is_empty() {
        return Err(format!(
            "{ADMIN_SECRET_ARN} and SHOP_ADMIN_OPERATORS or SHOP_SESSION_SECRET are both set: set one, so that it is clear which accounts count"
        ));
    }
    let client = mollie::secrets_manager_client().await;
    let text = mollie::secret_string(&client, &arn)
        .await
        .map_err(|e| format!("{ADMIN_SECRET_ARN}: {e}"))?;
    OperatorSecrets::from_secret_json(&text)
}

/// Reads one line (the password) from standard input and prints its
/// argon2id hash: `server hash-password` for SHOP_ADMIN_OPERATORS.
fn hash_password() -> Result<(), String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        eprintln!("Password (typed text is shown; pipe it in to keep it off the screen):");
    }
    let mut password = String::new();
    std::io::stdin()
        .read_line(&mut password)
        .map_err(|e| format!("cannot read the password: {e}"))?;
    let password = password.trim_end_matches(['\r', '\n']);
    if password.chars().count() < 12 {
        return Err("a password must have at least 12 characters".to_owned());
    }
    println!("{}", operators::hash_password(password));
    Ok(())
}

/// Ctrl-C or SIGTERM: stop accepting, finish what is in flight.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
    tracing::info!("shutting down");
}
