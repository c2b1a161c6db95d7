use clap::Parser;

/// Server-side rendering allocates and frees many small strings per page;
/// glibc's malloc took a quarter of the CPU under load, mimalloc far less.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use server::config::{
    Cli, ClientAddressSource, Command, LambdaHandler, OperatorSecrets, ADMIN_SECRET_ARN,
};
use server::security::OriginSecret;
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

/// What `main` prints of an error: its message and each cause's.
fn report(error: impl std::error::Error) -> String {
    checkout::error_report(&error)
}

async fn run(cli: Cli) -> Result<(), String> {
    match &cli.command {
        Some(Command::HashPassword) => hash_password(),
        Some(Command::EndSessions { operator }) => end_sessions(&cli, operator).await,
        Some(Command::CreateTable) => {
            let created = server::create_table(&cli.config).await.map_err(report)?;
            let verb = if created { "created" } else { "exists already" };
            println!("table {}: {verb}", cli.config.dynamodb_table);
            Ok(())
        }
        Some(Command::Serve) | None => serve(cli).await,
    }
}

/// `server end-sessions OPERATOR`.
async fn end_sessions(cli: &Cli, operator: &str) -> Result<(), String> {
    let store = server::store_from(&cli.config).await.map_err(report)?;
    store
        .end_operator_sessions(
            operator,
            time::OffsetDateTime::now_utc(),
            checkout::SessionsEnd::AccountChanged,
        )
        .await
        .map_err(|e| {
            format!(
                "cannot end {operator}'s sessions: {}",
                checkout::error_report(&e)
            )
        })?;
    println!("{operator}'s sessions issued until now are ended");
    Ok(())
}

const LAMBDA_NOT_IN_THIS_BUILD: &str = "on Lambda the server needs the Lambda runtime, which this server was built without: build it with its `lambda` feature (cargo lambda's build has it)";

/// Serves the shop: the plain server with its background reconciler, or
/// on Lambda the public function or the reconciler function.
async fn serve(mut cli: Cli) -> Result<(), String> {
    let on_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    // Fail closed, first: a function that cannot speak the runtime's protocol.
    if on_lambda && !cfg!(feature = "lambda") {
        return Err(LAMBDA_NOT_IN_THIS_BUILD.to_owned());
    }
    cli.config.operator_secrets = operator_secrets().await?;
    cli.config.origin_secret = origin_secret().await?;
    cli.config.owner_webhook_secret = owner_webhook_secret().await?;
    if on_lambda && cli.config.lambda_handler == LambdaHandler::Http {
        // Fail closed: without it the API's own endpoint serves anyone,
        // around CloudFront and its viewer address.
        if cli.config.origin_secret.is_none() {
            return Err("on Lambda the shop serves only CloudFront: set SHOP_ORIGIN_SECRET_ARN (or SHOP_ORIGIN_SECRET)".to_owned());
        }
        // A Lambda function has no peer address: every client would share
        // one rate-limit bucket.
        if cli.config.client_address == ClientAddressSource::Peer {
            return Err(
                "on Lambda there is no peer address: set SHOP_CLIENT_ADDRESS=cloudfront".to_owned(),
            );
        }
    }
    let leptos_options = leptos::config::get_configuration(None)
        .map_err(|e| format!("Leptos configuration: {e}"))?
        .leptos_options;
    let addr = leptos_options.site_addr;
    let app = Application::build(
        &cli.config,
        addr,
        std::sync::Arc::new(checkout::SystemClock),
    )
    .await
    .map_err(report)?;
    if on_lambda {
        #[cfg(feature = "lambda")]
        return serve_lambda(&cli, app, leptos_options).await;
        #[cfg(not(feature = "lambda"))]
        return Err(LAMBDA_NOT_IN_THIS_BUILD.to_owned());
    }
    let router = app.router(leptos_options);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let reconciler =
        server::reconciler::spawn(app.service.clone(), app.reconciler, stopped.clone());
    let deliverer = server::delivery::spawn(&app.delivery, stopped);
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
    let _ = deliverer.await;
    Ok(())
}

/// On Lambda the reconciler is a function of its own, run by its schedule;
/// the public function serves HTTP only.
#[cfg(feature = "lambda")]
async fn serve_lambda(
    cli: &Cli,
    app: Application,
    leptos_options: leptos::config::LeptosOptions,
) -> Result<(), String> {
    match cli.config.lambda_handler {
        LambdaHandler::Http => {
            tracing::info!("serving HTTP as an AWS Lambda function");
            let (deliverer, written) =
                (app.delivery.deliverer.clone(), app.delivery.written.clone());
            server::lambda::run_http(app.router(leptos_options), deliverer, written)
                .await
                .map_err(|e| e.to_string())
        }
        LambdaHandler::Reconciler => {
            tracing::info!("serving the reconcile schedule as an AWS Lambda function");
            let rule = cli
                .config
                .reconcile_rule_arn
                .clone()
                .ok_or("SHOP_LAMBDA_HANDLER=reconciler needs SHOP_RECONCILE_RULE_ARN")?;
            server::lambda::run_reconciler(
                app.service.clone(),
                app.delivery.deliverer.clone(),
                app.delivery.written.clone(),
                app.reconciler,
                rule,
            )
            .await
            .map_err(|e| e.to_string())
        }
    }
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
    let secrets = server::aws::Secrets::connect(ADMIN_SECRET_ARN).await?;
    let text = secrets
        .current(&arn)
        .await
        .map_err(|e| format!("{ADMIN_SECRET_ARN}: {e}"))?;
    OperatorSecrets::from_secret_json(&text).map_err(|e| e.to_string())
}

/// The value CloudFront sends in `X-Origin-Verify`: `SHOP_ORIGIN_SECRET`,
/// or the plain-text secret `SHOP_ORIGIN_SECRET_ARN` names (not both): its
/// current and previous values, and the version `SHOP_ORIGIN_SECRET_VERSION`
/// names (the one the stack deployed CloudFront with).
async fn origin_secret() -> Result<Option<OriginSecret>, String> {
    let from_env = std::env::var("SHOP_ORIGIN_SECRET")
        .ok()
        .filter(|v| !v.is_empty());
    let arn = std::env::var("SHOP_ORIGIN_SECRET_ARN")
        .ok()
        .filter(|v| !v.is_empty());
    let invalid = |e| format!("SHOP_ORIGIN_SECRET: {e}");
    match (from_env, arn) {
        (Some(_), Some(_)) => {
            Err("SHOP_ORIGIN_SECRET and SHOP_ORIGIN_SECRET_ARN are both set: set one".to_owned())
        }
        (None, None) => Ok(None),
        (Some(text), None) => OriginSecret::new(&text).map(Some).map_err(invalid),
        // The current value and, while it is being rotated, the previous.
        (None, Some(arn)) => {
            let secrets = server::aws::Secrets::connect("SHOP_ORIGIN_SECRET_ARN").await?;
            let unavailable = |e| format!("SHOP_ORIGIN_SECRET_ARN: {e}");
            let current = secrets.current(&arn).await.map_err(unavailable)?;
            let mut secret = OriginSecret::new(&current).map_err(invalid)?;
            if let Some(previous) = secrets.previous(&arn).await.map_err(unavailable)? {
                secret = secret.also_accepting(&previous).map_err(invalid)?;
            }
            let pinned = std::env::var("SHOP_ORIGIN_SECRET_VERSION")
                .ok()
                .filter(|v| !v.is_empty());
            if let Some(version) = pinned {
                let value = secrets.version(&arn, &version).await.map_err(unavailable)?;
                secret = secret.also_accepting(&value).map_err(invalid)?;
            }
            Ok(Some(secret))
        }
    }
}

/// `SHOP_OWNER_WEBHOOK_SECRET`, or the plain-text secret
/// `SHOP_OWNER_WEBHOOK_SECRET_ARN` names (not both): its current value and,
/// after a rotation, the previous.
async fn owner_webhook_secret() -> Result<Option<server::config::WebhookSecrets>, String> {
    let read = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
    match (
        read("SHOP_OWNER_WEBHOOK_SECRET"),
        read("SHOP_OWNER_WEBHOOK_SECRET_ARN"),
    ) {
        (Some(_), Some(_)) => Err(
            "SHOP_OWNER_WEBHOOK_SECRET and SHOP_OWNER_WEBHOOK_SECRET_ARN are both set: set one"
                .to_owned(),
        ),
        (None, None) => Ok(None),
        (Some(text), None) => Ok(Some(server::config::WebhookSecrets {
            current: text.into(),
            previous: None,
        })),
        (None, Some(arn)) => {
            let secrets = server::aws::Secrets::connect("SHOP_OWNER_WEBHOOK_SECRET_ARN").await?;
            let unavailable = |e| format!("SHOP_OWNER_WEBHOOK_SECRET_ARN: {e}");
            let current = secrets.current(&arn).await.map_err(unavailable)?;
            let previous = secrets.previous(&arn).await.map_err(unavailable)?;
            Ok(Some(server::config::WebhookSecrets {
                current: current.into(),
                previous: previous.map(Into::into),
            }))
        }
    }
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
    println!("{}", back_office::hash_password(password));
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
