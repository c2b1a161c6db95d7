//! The API key from AWS Secrets Manager, against moto server (started by
//! scripts/test.sh; its URL in SHOP_TEST_AWS_ENDPOINT).

use aws_sdk_secretsmanager::Client;
use mollie::{api_key_from_secrets_manager, SecretError};

async fn client() -> Client {
    let endpoint = test_support::moto_endpoint();
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .load()
        .await;
    Client::new(&config)
}

async fn secret(client: &Client, value: &str) -> String {
    let name = format!("mollie-{}", checkout::AttemptId::generate());
    let created = client
        .create_secret()
        .name(&name)
        .secret_string(value)
        .send()
        .await
        .unwrap();
    created.arn().unwrap().to_owned()
}

#[tokio::test]
async fn reads_a_plain_key_and_a_json_key_by_arn() {
    let client = client().await;
    let plain = secret(&client, "test_plainsecretkey1").await;
    let key = api_key_from_secrets_manager(&client, &plain).await.unwrap();
    assert!(key.is_test_mode());
    assert_eq!(key.to_string(), "test_[redacted]");

    let json = secret(&client, r#"{"apiKey":"live_jsonsecretkey2"}"#).await;
    let key = api_key_from_secrets_manager(&client, &json).await.unwrap();
    assert!(!key.is_test_mode());
}

#[tokio::test]
async fn errors_name_the_secret_but_never_its_value() {
    let client = client().await;
    let arn = secret(&client, "not-a-mollie-key-but-secret").await;
    let error = api_key_from_secrets_manager(&client, &arn)
        .await
        .unwrap_err();
    assert_eq!(error, SecretError::NotAnApiKey(arn.clone()));
    assert!(!format!("{error} {error:?}").contains("not-a-mollie-key-but-secret"));

    let missing = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:missing-AbCdEf";
    assert!(matches!(
        api_key_from_secrets_manager(&client, missing).await,
        Err(SecretError::NotFound(_))
    ));
}

/// A rotated key: Mollie (the emulator) refuses the old one with 401, the
/// client reads the secret again once and carries on with the new key.
#[tokio::test]
async fn a_rotated_key_is_read_again_after_a_401() {
    use std::sync::Arc;
    let client = client().await;
    let arn = secret(&client, "test_beforerotation1").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (emulator, _) = mollie_emulator::Emulator::serve(listener, |_| {})
        .await
        .unwrap();
    let key = api_key_from_secrets_manager(&client, &arn).await.unwrap();
    let mut config = mollie::MollieConfig::new(key).with_base_url(emulator.api_base_url());
    config.key_reload_min_interval = std::time::Duration::from_secs(60);
    let mollie = mollie::MollieClient::new(config)
        .unwrap()
        .with_key_source(Arc::new(mollie::SecretsManagerKey {
            client: client.clone(),
            secret_id: arn.clone(),
        }));
    // An unknown payment: 404 while the key is accepted.
    let unknown = mollie::PaymentId::parse("tr_unknown123").unwrap();
    let before = mollie.get_payment(&unknown).await.unwrap_err();
    assert_eq!(before.status(), Some(404));

    client
        .put_secret_value()
        .secret_id(&arn)
        .secret_string("test_afterrotation2")
        .send()
        .await
        .unwrap();
    emulator.accept_only_keys(&["test_afterrotation2"]);
    let after = mollie.get_payment(&unknown).await.unwrap_err();
    assert_eq!(
        after.status(),
        Some(404),
        "the new key was not used: {after}"
    );

    // Rotated again too soon: the re-read is bounded, the 401 is returned.
    emulator.accept_only_keys(&["test_thirdkey3"]);
    let refused = mollie.get_payment(&unknown).await.unwrap_err();
    assert_eq!(refused.status(), Some(401));
}

/// The origin secret's rotation: a version read by its id stays readable
/// after two later values, while current and previous move on.
#[tokio::test]
async fn a_version_is_read_by_its_id_after_the_secret_moved_on() {
    let client = client().await;
    let arn = secret(&client, "first-origin-value").await;
    let put = |value: &'static str| {
        let (client, arn) = (client.clone(), arn.clone());
        async move {
            let output = client
                .put_secret_value()
                .secret_id(arn)
                .secret_string(value)
                .send()
                .await
                .unwrap();
            output.version_id().unwrap().to_owned()
        }
    };
    let pinned = put("second-origin-value").await;
    put("third-origin-value").await;
    put("fourth-origin-value").await;
    let read = |version: &'static str| mollie::secret_string_version(&client, &arn, version);
    let pinned_value = mollie::secret_string_version(&client, &arn, &pinned).await;
    assert_eq!(pinned_value.unwrap(), "second-origin-value");
    assert_eq!(
        mollie::secret_string(&client, &arn).await.unwrap(),
        "fourth-origin-value"
    );
    assert_eq!(
        mollie::previous_secret_string(&client, &arn)
            .await
            .unwrap()
            .as_deref(),
        Some("third-origin-value")
    );
    let unknown = read("00000000-0000-0000-0000-000000000000").await;
    assert!(
        matches!(unknown, Err(SecretError::NotFound(_))),
        "{unknown:?}"
    );
}
