//! The page token secret as the built functions read it: local-api's Secrets Manager endpoint,
//! through the real SDK client (AWS JSON 1.1), with a rotation's two versions.

use aws_sdk_dynamodb::types::AttributeValue;
use local_api::secrets::{Secret, page_token_secret_arn, serve};
use shared::config::{ConfigError, page_tokens_from, secrets_client};
use shared::http::page::PageTokens;

const REGION: &str = "us-east-1";

fn key() -> shared::store::page::Key {
    [("pk".to_owned(), AttributeValue::S("CUSTOMER#1".into()))].into()
}

async fn keys_of(secret: Secret, arn: &str) -> Result<PageTokens, ConfigError> {
    let (url, _server) = serve(secret).await.expect("local Secrets Manager");
    let client = secrets_client(REGION, Some(&url)).expect("client");
    page_tokens_from(&client, arn).await
}

#[tokio::test]
async fn during_a_rotation_tokens_of_both_versions_continue_their_lists() {
    let (current, previous) = ("c".repeat(48), "p".repeat(48));
    let arn = page_token_secret_arn(REGION);
    let rotating = keys_of(
        Secret {
            arn: arn.clone(),
            current: current.clone(),
            previous: Some(previous.clone()),
        },
        &arn,
    )
    .await
    .expect("both versions read");
    let before = PageTokens::new(previous.as_bytes())
        .unwrap()
        .encode("list", &key())
        .unwrap();
    assert_eq!(
        rotating.decode("list", &before).unwrap(),
        key(),
        "a token of the previous key"
    );
    let now = rotating.encode("list", &key()).unwrap();
    let after = PageTokens::new(current.as_bytes()).unwrap();
    assert_eq!(
        after.decode("list", &now).unwrap(),
        key(),
        "signed with the current key"
    );

    // Outside a rotation there is no previous version, and a token of another key is refused.
    let single = keys_of(
        Secret {
            arn: arn.clone(),
            current: current.clone(),
            previous: None,
        },
        &arn,
    )
    .await
    .expect("the current version alone");
    assert!(single.decode("list", &before).is_err());
}

#[tokio::test]
async fn an_unknown_secret_fails_the_init_with_the_service_error() {
    let arn = page_token_secret_arn(REGION);
    let secret = Secret {
        arn,
        current: "c".repeat(48),
        previous: None,
    };
    let err = keys_of(secret, "arn:aws:secretsmanager:us-east-1:000000000000:secret:other")
        .await
        .err()
        .expect("an unknown secret");
    assert!(err.to_string().contains("ResourceNotFoundException"), "{err}");
    let short = Secret {
        arn: page_token_secret_arn(REGION),
        current: "too short".into(),
        previous: None,
    };
    let err = keys_of(short, &page_token_secret_arn(REGION))
        .await
        .err()
        .expect("a short key");
    assert!(err.to_string().contains("at least 32 bytes"), "{err}");
}
