//! The API key from AWS Secrets Manager, against moto server (started by
//! scripts/test.sh; its URL in SHOP_TEST_AWS_ENDPOINT).

use aws_sdk_secretsmanager::Client;
use mollie::{api_key_from_secrets_manager, SecretError};

async fn client() -> Client {
    let endpoint = std::env::var("SHOP_TEST_AWS_ENDPOINT")
        .expect("SHOP_TEST_AWS_ENDPOINT is not set: run scripts/test.sh, which starts moto server");
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
