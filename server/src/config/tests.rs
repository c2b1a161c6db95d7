//! The configuration's rules, and its page in docs/ against the flags.

use super::*;

const LOCAL: &str = "127.0.0.1:3000";

/// docs/configuration.md is where operators look: every flag has a
/// table row naming it and its environment variable, and every
/// `SHOP_*` name the page mentions is one the code reads.
#[test]
fn the_configuration_doc_names_every_setting() {
    use clap::CommandFactory;
    let doc = include_str!("../../../docs/configuration.md");
    let rows: Vec<&str> = doc.lines().filter(|l| l.starts_with('|')).collect();
    let mut named = std::collections::BTreeSet::new();
    for arg in Cli::command().get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if long == "help" || long == "version" {
            continue;
        }
        let flag = format!("`--{long}`");
        let row = rows.iter().find(|r| r.starts_with(&format!("| {flag}")));
        assert!(row.is_some(), "docs/configuration.md has no row for {flag}");
        if let Some(env) = arg.get_env() {
            let env = env.to_string_lossy();
            assert!(
                row.is_some_and(|r| r.contains(&format!("`{env}`"))),
                "the row of {flag} does not name `{env}`"
            );
            named.insert(env.into_owned());
        }
    }
    // Settings read from the environment only (secrets, and what the
    // wiring reads beside the flags).
    let sources = [
        include_str!("mod.rs"),
        include_str!("secrets.rs"),
        include_str!("resolve.rs"),
        include_str!("../lib.rs"),
        include_str!("../main.rs"),
        include_str!("../security.rs"),
        include_str!("../lambda.rs"),
        include_str!("../telemetry.rs"),
    ]
    .concat();
    let mentioned = doc
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("SHOP_") && w.len() > "SHOP_".len());
    for name in mentioned {
        assert!(
            named.contains(name) || sources.contains(&format!("\"{name}\"")),
            "docs/configuration.md names {name}, which the server does not read"
        );
    }
}

fn config(args: &[&str]) -> Config {
    let mut all = vec!["server"];
    all.extend_from_slice(args);
    Cli::try_parse_from(all).unwrap().config
}

fn resolve(args: &[&str], key: KeySetting) -> Result<Settings, ConfigError> {
    config(args).resolve(LOCAL.parse().unwrap(), key)
}

#[test]
fn a_local_run_with_no_configuration_uses_the_emulator() {
    let settings = resolve(&[], KeySetting::None).unwrap();
    assert_eq!(settings.public_url, "http://127.0.0.1:3000");
    assert_eq!(
        settings.provider,
        Provider::Emulator {
            control_endpoints: false
        }
    );
}

#[test]
fn a_public_shop_never_gets_the_emulator_by_accident() {
    let problems = resolve(&["--public-url", "https://shop.example"], KeySetting::None)
        .unwrap_err()
        .problems;
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("no payment provider is chosen"));
    // Listening on every interface is not a local run either.
    let everywhere = config(&[]).resolve("0.0.0.0:3000".parse().unwrap(), KeySetting::None);
    assert!(everywhere.is_err());
    // Chosen on purpose, it runs.
    let chosen = resolve(
        &[
            "--public-url",
            "https://shop.example",
            "--provider",
            "emulator",
        ],
        KeySetting::None,
    )
    .unwrap();
    assert!(matches!(chosen.provider, Provider::Emulator { .. }));
    assert!(chosen.https);
}

#[test]
fn mollie_needs_a_public_https_url_and_exactly_one_key() {
    let error = resolve(&["--provider", "mollie"], KeySetting::None).unwrap_err();
    assert_eq!(error.problems.len(), 2, "{error}");
    assert!(error.to_string().contains("SHOP_PUBLIC_URL is required"));
    assert!(error.to_string().contains("needs MOLLIE_API_KEY"));
    for (url, expected) in [
        ("http://localhost:3000", "loopback"),
        ("http://shop.example", "must be https"),
        ("https://shop.example/shop", "origin only"),
        ("ftp://shop.example", "http or https"),
    ] {
        let error = resolve(
            &["--provider", "mollie", "--public-url", url],
            KeySetting::Environment,
        )
        .unwrap_err();
        assert!(error.to_string().contains(expected), "{url}: {error}");
    }
    let both = resolve(
        &[
            "--provider",
            "mollie",
            "--public-url",
            "https://shop.example",
        ],
        KeySetting::Both,
    )
    .unwrap_err();
    assert!(both.to_string().contains("both MOLLIE_API_KEY"));
    let ok = resolve(
        &[
            "--provider",
            "mollie",
            "--public-url",
            "https://shop.example",
        ],
        KeySetting::SecretArn("arn:aws:secretsmanager:eu-west-1:1:secret:k".into()),
    )
    .unwrap();
    assert_eq!(
        ok.provider,
        Provider::Mollie {
            test_mode: false,
            key: KeySetting::SecretArn("arn:aws:secretsmanager:eu-west-1:1:secret:k".into())
        }
    );
}

#[test]
fn settings_that_cannot_work_are_all_listed() {
    let error = resolve(
        &[
            "--reconcile-interval-ms",
            "0",
            "--reconcile-rate",
            "0",
            "--webhook-timeout-ms",
            "20000",
            "--emulator-time-factor",
            "NaN",
            "--reconcile-max-interval-ms",
            "10",
            "--max-connections",
            "0",
        ],
        KeySetting::None,
    )
    .unwrap_err();
    let text = error.to_string();
    for expected in [
        "SHOP_RECONCILE_INTERVAL_MS must be greater than 0",
        "SHOP_RECONCILE_RATE must be greater than 0",
        "under Mollie's 15 s",
        "SHOP_EMULATOR_TIME_FACTOR",
        "SHOP_RECONCILE_MAX_INTERVAL_MS must be at least",
        "SHOP_MAX_CONNECTIONS must be greater than 0",
    ] {
        assert!(text.contains(expected), "{expected} missing from: {text}");
    }
}

#[test]
fn the_key_must_match_the_chosen_mode() {
    let test_key = mollie::ApiKey::new("test_abc").unwrap();
    let live_key = mollie::ApiKey::new("live_abc").unwrap();
    assert_eq!(
        check_key_mode(&test_key, false),
        Err(KeyModeError::TestKeyForLivePayments)
    );
    assert!(check_key_mode(&live_key, true).is_err());
    assert!(check_key_mode(&test_key, true).is_ok());
    assert!(check_key_mode(&live_key, false).is_ok());
}

#[test]
fn the_back_offices_secret_is_json_with_operators_and_a_session_secret() {
    let secrets = OperatorSecrets::from_secret_json(
        r#"{"operators": "owner:$argon2id$x", "sessionSecret": "s3cr3t"}"#,
    )
    .unwrap();
    assert_eq!(secrets.accounts.as_deref(), Some("owner:$argon2id$x"));
    assert_eq!(secrets.session_secret.as_deref(), Some("s3cr3t"));
    // As the stack creates it: no operators yet, the back office is off.
    let fresh =
        OperatorSecrets::from_secret_json(r#"{"operators": "", "sessionSecret": "g"}"#).unwrap();
    assert_eq!(fresh.accounts, None);
    let error = OperatorSecrets::from_secret_json("sessionSecret=hunter2").unwrap_err();
    assert!(!error.to_string().contains("hunter2"), "{error}");
    // Never in a Debug print.
    assert!(!format!("{secrets:?}").contains("s3cr3t"));
}
